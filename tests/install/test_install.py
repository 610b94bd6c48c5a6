"""make install / make uninstall into a temporary DESTDIR, and the
installed binary finding its themes with no source tree beside it."""

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from siphon_install import (PREFIX, REPO, base_env, copy_tree, do_install, expected_files,
                            files_under, make, make_env, run_on_tty, theme_names)


def test_install_puts_exactly_the_expected_files(installed):
    assert files_under(installed) == expected_files()
    usr = installed / PREFIX.lstrip("/")
    assert os.access(usr / "bin/siphon", os.X_OK)
    for f in expected_files():
        if not f.endswith("/siphon") or "completions" in f:
            mode = (installed / f).stat().st_mode & 0o777
            assert mode == 0o644, "%s has mode %o" % (f, mode)
    for t in theme_names():
        assert ((usr / "share/siphon/themes" / (t + ".ini")).read_bytes()
                == (REPO / "themes" / (t + ".ini")).read_bytes())


def test_installed_files_name_the_installed_paths(installed):
    """The completions and the page learn where this install's themes are."""
    share = installed / PREFIX.lstrip("/") / "share"
    for f in ["bash-completion/completions/siphon", "zsh/site-functions/_siphon",
              "fish/vendor_completions.d/siphon.fish", "man/man1/siphon.1"]:
        text = (share / f).read_text()
        assert "@DATADIR" not in text, f
        assert PREFIX + "/share/siphon/themes" in text, f
        assert "/usr/local/share/siphon" not in text, f


def test_installed_binary_finds_its_themes(installed, tmp_path, clean_home):
    """Run from the DESTDIR, far from the source tree: --theme solarized
    opens the screen; the same binary copied elsewhere does not find it."""
    tree = copy_tree(installed, tmp_path / "tree")
    binary = tree / PREFIX.lstrip("/") / "bin/siphon"
    env = base_env(clean_home)
    res = run_on_tty([str(binary), "--no-config", "--theme", "solarized"], env, tmp_path,
                     quit_after="concurrency")
    assert res.code == 0, res
    assert "concurrency" in res.output, res

    res = run_on_tty([str(binary), "--no-config", "--theme", "nosuch"], env, tmp_path)
    assert res.code == 2, res
    assert "theme 'nosuch' not found" in res.output, res
    # DATADIR (PREFIX/share) is compiled in: the message names where it looked.
    assert PREFIX + "/share/siphon/themes" in res.output, res

    # It is the installed file that is read: break it, and the error names it.
    theme = tree / PREFIX.lstrip("/") / "share/siphon/themes/solarized.ini"
    theme.write_text("[colors]\nheader = not-a-colour\n")
    res = run_on_tty([str(binary), "--no-config", "--theme", "solarized"], env, tmp_path)
    assert res.code == 2, res
    m = re.match(r"siphon: (/\S+):2: ", res.output)
    assert m and os.path.realpath(m.group(1)) == os.path.realpath(theme), res

    if Path(PREFIX, "share/siphon/themes/solarized.ini").exists():
        pytest.skip("siphon is installed in %s: the control below cannot fail" % PREFIX)
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy2(binary, lone / "siphon")
    res = run_on_tty([str(lone / "siphon"), "--no-config", "--theme", "solarized"], env,
                     tmp_path)
    assert res.code == 2, res
    assert "theme 'solarized' not found" in res.output, res


def test_uninstall_leaves_nothing(install_build, tmp_path):
    dest = do_install(install_build, tmp_path / "dest")
    assert files_under(dest) == expected_files()
    # A file of the user's in siphon's themes directory is not siphon's.
    mine = dest / PREFIX.lstrip("/") / "share/siphon/themes/mine.ini"
    mine.write_text("[colors]\n")
    res = make("uninstall", "BUILD=%s" % install_build, "DESTDIR=%s" % dest,
               "PREFIX=%s" % PREFIX)
    assert res.returncode == 0, res.stderr
    assert files_under(dest) == [str(mine.relative_to(dest))]
    mine.unlink()
    res = make("uninstall", "BUILD=%s" % install_build, "DESTDIR=%s" % dest,
               "PREFIX=%s" % PREFIX)
    assert res.returncode == 0, res.stderr
    assert files_under(dest) == []
    assert not (dest / PREFIX.lstrip("/") / "share/siphon").exists()


def test_gnu_directory_variables(install_build, tmp_path):
    """BINDIR, MANDIR and DATADIR move their files; the binary still finds
    the themes (DATADIR is compiled in, seen from BINDIR)."""
    dest = tmp_path / "dest"
    build = tmp_path / "build"
    shutil.copytree(install_build, build, symlinks=True)
    do_install(build, dest, "BINDIR=/opt/sb/bin", "DATADIR=/opt/sd", "MANDIR=/opt/sm")
    files = files_under(dest)
    assert "opt/sb/bin/siphon" in files
    assert "opt/sm/man1/siphon.1" in files
    assert "opt/sd/siphon/themes/solarized.ini" in files
    assert "opt/sd/bash-completion/completions/siphon" in files
    assert len(files) == len(expected_files())
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    res = run_on_tty([str(dest / "opt/sb/bin/siphon"), "--no-config", "--theme", "solarized"],
                     base_env(home), tmp_path, quit_after="concurrency")
    assert res.code == 0, res


def test_missing_pc_file_is_named(tmp_path):
    res = make("BUILD=%s" % (tmp_path / "b"), "PKGS=libcurl siphon-no-such-lib")
    assert res.returncode != 0
    assert "siphon-no-such-lib.pc" in res.stderr, res.stderr
    assert "libcurl.pc" not in res.stderr, res.stderr
    assert not (tmp_path / "b" / "siphon").exists()


def test_man_finds_the_installed_page(installed, clean_home):
    """`man siphon` with the installed MANDIR on its path."""
    env = base_env(clean_home)
    env["MANWIDTH"] = "80"
    res = subprocess.run(["man", "-M", str(installed / PREFIX.lstrip("/") / "share/man"),
                          "-P", "cat", "siphon"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env, timeout=30)
    assert res.returncode == 0, res.stderr
    assert "siphon - a terminal download manager" in res.stdout
    assert "--concurrency" in res.stdout


def test_header_change_rebuilds_exactly_its_users(tmp_path):
    """-MMD -MP: a second make compiles nothing; touching a header compiles
    exactly the files that include it (in a copy of the tree)."""
    tree = tmp_path / "tree"
    tree.mkdir()
    for d in ["src", "include", "themes", "doc", "completions"]:
        shutil.copytree(REPO / d, tree / d)
    shutil.copy2(REPO / "Makefile", tree / "Makefile")

    def build():
        res = subprocess.run(["make", "--no-print-directory", "-C", str(tree), "-j2"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=make_env(),
                             timeout=600)
        assert res.returncode == 0, res.stdout
        return sorted(re.findall(r" -c -o build/(\S+)\.o ", res.stdout))

    assert len(build()) > 10
    assert build() == []
    header = tree / "include/siphon/version.h"

    def includes(f, seen):
        """The project headers f reads, directly or through another."""
        for name in re.findall(r'^#include "([^"]+)"', f.read_text(), re.M):
            h = tree / "include" / name if name.startswith("siphon/") else f.parent / name
            if h.exists() and h not in seen:
                seen.add(h)
                includes(h, seen)
        return seen

    users = sorted(str(p.relative_to(tree))[:-2] for p in (tree / "src").rglob("*.c")
                   if header in includes(p, set()))
    assert users, "nothing includes %s" % header
    time.sleep(1.1)  # a newer mtime on any file system
    header.touch()
    assert build() == users
