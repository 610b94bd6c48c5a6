"""siphon.1 and --help: the page lints clean, and it and --help list the
same options; --help fits in 60 lines."""

import re
import subprocess

from siphon_install import OPT_RE, PREFIX, REPO, help_options, help_text, siphon_bin

PAGE = REPO / "doc" / "siphon.1"

# Long options that are not [settings] keys (SPEC.md "Details").
NOT_KEYS = {"--help", "--version", "--headless", "--json", "--config", "--no-config"}


def lint(page):
    res = subprocess.run(["mandoc", "-T", "lint", "-W", "all", str(page)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30)
    assert res.returncode == 0 and res.stdout == "", "mandoc -T lint:\n" + res.stdout
    res = subprocess.run(["man", "--warnings", "-l", str(page)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=30,
                         env={"PATH": "/usr/bin:/bin", "MANWIDTH": "80", "LANG": "C.UTF-8",
                              "MAN_KEEP_FORMATTING": ""})
    assert res.returncode == 0 and res.stderr == "", "man --warnings:\n" + res.stderr
    return res.stdout


def rendered(page=PAGE):
    res = subprocess.run(["mandoc", "-T", "ascii", "-O", "width=100", str(page)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    return re.sub(".\x08", "", res.stdout)  # no overstrike (bold, underline)


def sections(text):
    """{SECTION NAME: its text} of a rendered page."""
    out, name = {}, None
    for line in text.splitlines():
        if re.match(r"^[A-Z][A-Z ]+$", line):
            name = line.strip()
            out[name] = ""
        elif name:
            out[name] += line + "\n"
    return out


def page_options(page=PAGE):
    """The options the page's OPTIONS section documents: its tag lines."""
    opts = set()
    for line in sections(rendered(page))["OPTIONS"].splitlines():
        if re.match(r"^ {7}-", line):
            opts |= set(OPT_RE.findall(line))
    return opts


def test_page_lints_clean():
    lint(PAGE)


def test_installed_page_lints_clean_and_reads(installed):
    text = lint(installed / PREFIX.lstrip("/") / "share/man/man1/siphon.1")
    assert "siphon - a terminal download manager" in text
    assert PREFIX + "/share/siphon/themes" in text


def test_page_has_every_section():
    got = sections(rendered())
    for s in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "LIST FILES", "THE SCREEN",
              "STATES AND FILES", "EVENTS", "EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES",
              "SEE ALSO"]:
        assert got.get(s, "").strip(), "no section %s" % s


def test_page_and_help_list_the_same_options():
    helps, page = help_options(), page_options()
    assert helps - page == set(), "in --help, not in siphon.1"
    assert page - helps == set(), "in siphon.1, not in --help"


def test_page_lists_every_settings_key():
    text = sections(rendered())["LIST FILES"]
    for o in sorted(help_options()):
        if o.startswith("--") and o not in NOT_KEYS:
            key = o[2:].replace("-", "_").replace(".", "")  # --http1.1: http11
            key = {"no_bell": "bell"}.get(key, key)  # --no-bell is bell = no
            assert re.search(r"\b%s\b" % re.escape(key), text), "LIST FILES lacks %s" % key


def test_page_documents_each_exit_status_and_variable():
    s = sections(rendered())
    for code in ["0", "1", "2", "130"]:
        assert re.search(r"^ {7}%s\b" % code, s["EXIT STATUS"], re.M), code
    for var in ["NO_COLOR", "XDG_CONFIG_HOME", "http_proxy", "https_proxy", "all_proxy",
                "no_proxy", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "TERM"]:
        assert re.search(r"\b%s\b" % var, s["ENVIRONMENT"]), var


def test_page_documents_every_event():
    text = sections(rendered())["EVENTS"]
    for ev in ["queued", "start", "progress", "paused", "resumed", "retry", "done", "failed",
               "timed_out", "cancelled", "skipped", "summary"]:
        assert '"event":"%s"' % ev in text, ev


def test_page_version_is_the_binary_version():
    res = subprocess.run([siphon_bin(), "--version"], stdout=subprocess.PIPE, text=True,
                         timeout=10)
    version = res.stdout.split()[1]
    th = next(ln for ln in PAGE.read_text().splitlines() if ln.startswith(".TH "))
    assert '"siphon %s"' % version in th, "update .TH of siphon.1 to %s: %s" % (version, th)


def test_page_lists_every_key_of_the_screen():
    """The key names of src/ui/keys.c (which the ? help shows) are the tags
    of the page's Keys list, and the other way round."""
    src = (REPO / "src/ui/keys.c").read_text()
    table = src[src.index("key_binding keys[]"):]
    table = table[:table.index("};")]
    arrows = {"\\u2193": "Down", "\\u2191": "Up"}
    names = {arrows.get(n, n) for n in re.findall(r'^\s*\{[^"]*"([^"]+)"', table, re.M)}
    assert {"j", "Down", "q", "Enter"} <= names, names
    text = sections(rendered())["THE SCREEN"]
    keys = text[text.index("\n   Keys\n"):]
    tags = set()
    for line in keys.splitlines():
        m = re.match(r"^ {7}(\S.*?)(?: {2,}|$)", line)
        if m:
            tags |= set(m.group(1).split(", "))
    assert names - tags == set(), "keys of keys.c missing from siphon.1"
    assert tags - names == set(), "keys in siphon.1 that keys.c does not have"


def test_help_fits_in_60_lines():
    lines = help_text().splitlines()
    assert len(lines) <= 60, "--help has %d lines" % len(lines)
    assert all(len(ln) <= 80 for ln in lines)
