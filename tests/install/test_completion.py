"""The bash, zsh and fish completions: they parse, know exactly the options
of --help, and complete option names, directories and installed themes."""

import re
import subprocess

import pytest

from siphon_install import OPT_RE, PREFIX, REPO, base_env, help_options, theme_names

SRC = {"bash": REPO / "completions/siphon.bash", "zsh": REPO / "completions/_siphon",
       "fish": REPO / "completions/siphon.fish"}
INST = {"bash": "share/bash-completion/completions/siphon",
        "zsh": "share/zsh/site-functions/_siphon",
        "fish": "share/fish/vendor_completions.d/siphon.fish"}


def inst(installed, shell):
    return installed / PREFIX.lstrip("/") / INST[shell]


def run(argv, env, cwd=None):
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env, cwd=cwd, timeout=30)
    assert res.returncode == 0, "%s: %s" % (argv, res.stderr)
    return res.stdout


BASH = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _siphon; ' \
       'printf "%s\\n" "${COMPREPLY[@]}"'


def bash_complete(file, words, env, cwd=None):
    """What _siphon offers for words (the last one is being typed)."""
    out = run(["bash", "-c", BASH, "bash", str(file)] + list(words), env, cwd)
    return sorted(w for w in out.split("\n") if w)


def fish_complete(file, line, env, cwd=None):
    out = run(["fish", "--no-config", "-c", 'source $argv[1]; complete -C $argv[2]', str(file),
               line], env, cwd)
    return sorted(ln.split("\t")[0] for ln in out.split("\n") if ln)


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_parses(shell, installed):
    flag = {"bash": "-n", "zsh": "-n", "fish": "-n"}[shell]
    for f in (SRC[shell], inst(installed, shell)):
        res = subprocess.run([shell, flag, str(f)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=30)
        assert res.returncode == 0 and not res.stderr, "%s %s: %s" % (shell, f, res.stderr)


def test_bash_knows_exactly_the_options(installed, clean_home):
    got = bash_complete(inst(installed, "bash"), ["siphon", "-"], base_env(clean_home))
    assert set(got) == help_options()


def test_bash_completes_option_prefix(installed, clean_home):
    got = bash_complete(inst(installed, "bash"), ["siphon", "--con"], base_env(clean_home))
    assert got == sorted(o for o in help_options() if o.startswith("--con"))
    assert "--concurrency" in got and "--config" in got


def test_bash_completes_installed_themes(installed, clean_home):
    binary = installed / PREFIX.lstrip("/") / "bin/siphon"
    env = base_env(clean_home)
    want = sorted(set(theme_names()) | {"default", "mono"})
    assert "solarized" in want
    assert bash_complete(inst(installed, "bash"), [str(binary), "--theme", ""], env) == want
    assert bash_complete(inst(installed, "bash"), [str(binary), "--theme", "so"], env) == \
        ["solarized"]
    # --theme=so (bash splits at '=')
    assert bash_complete(inst(installed, "bash"), [str(binary), "--theme", "=", "so"], env) == \
        ["solarized"]
    # Found through PATH too, and a user's own theme joins them.
    env["PATH"] = "%s:%s" % (binary.parent, env["PATH"])
    (clean_home / ".config/siphon/themes").mkdir(parents=True)
    (clean_home / ".config/siphon/themes/mine.ini").write_text("[colors]\n")
    assert bash_complete(inst(installed, "bash"), ["siphon", "--theme", ""], env) == \
        sorted(want + ["mine"])


def test_bash_value_kinds(installed, clean_home, tmp_path):
    env = base_env(clean_home)
    work = tmp_path / "work"
    (work / "subdir").mkdir(parents=True)
    (work / "list.ini").write_text("")
    f = inst(installed, "bash")
    assert bash_complete(f, ["siphon", "-d", ""], env, work) == ["subdir"]
    assert bash_complete(f, ["siphon", "--dir", ""], env, work) == ["subdir"]
    for opt in ["--log", "--config"]:
        assert bash_complete(f, ["siphon", opt, ""], env, work) == ["list.ini", "subdir"]
    assert bash_complete(f, ["siphon", "-j", ""], env, work) == []
    assert bash_complete(f, ["siphon", "li"], env, work) == ["list.ini"]


def test_fish_knows_exactly_the_options(installed, clean_home):
    f = inst(installed, "fish")
    env = base_env(clean_home)
    assert set(fish_complete(f, "siphon -", env)) == help_options()
    assert fish_complete(f, "siphon --con", env) == \
        sorted(o for o in help_options() if o.startswith("--con"))


def test_fish_completes_installed_themes_and_dirs(installed, clean_home, tmp_path):
    f = inst(installed, "fish")
    env = base_env(clean_home)
    binary = installed / PREFIX.lstrip("/") / "bin/siphon"
    want = sorted(set(theme_names()) | {"default", "mono"})
    assert fish_complete(f, "%s --theme " % binary, env) == want
    work = tmp_path / "work"
    (work / "subdir").mkdir(parents=True)
    (work / "list.ini").write_text("")
    assert fish_complete(f, "siphon -d ", env, work) == ["subdir/"]


def zsh_specs(text):
    """The option names of the _arguments specs (one per line)."""
    opts = set()
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith(("'", "'(")):
            continue
        # the names come before the first '[' of the description
        head = line.split("[", 1)[0]
        head = re.sub(r"^'\([^)]*\)'", "", head)
        opts |= {o.rstrip("+=") for o in OPT_RE.findall(head.replace("+", " ").replace("=", " "))}
    return opts


def test_zsh_knows_exactly_the_options():
    assert zsh_specs(SRC["zsh"].read_text()) == help_options()


def test_zsh_lists_installed_themes(installed, clean_home):
    """_siphon_themes, with compadd and _wanted standing in for zsh's
    completion system, offers the installed themes."""
    binary = installed / PREFIX.lstrip("/") / "bin/siphon"
    script = ('compadd() { print -l -- ${(P)${@[-1]}} }; _wanted() { shift 3; "$@" }; '
              '_arguments() { }; source $1; words=($2 --theme ""); PREFIX=""; _siphon_themes')
    out = run(["zsh", "-f", "-c", script, "zsh", str(inst(installed, "zsh")), str(binary)],
              base_env(clean_home))
    assert sorted(set(out.split())) == sorted(set(theme_names()) | {"default", "mono"})
