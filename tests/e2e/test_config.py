"""The config file end to end: where it is found ($XDG_CONFIG_HOME, else
~/.config), --config FILE and --no-config, its errors (exit 2, exact
FILE:LINE, no request), and its place in the precedence (item > profile >
command line > list [settings] > config > default), shown by the headers
the test server recorded."""

import pytest

FLAGS = ["--headless", "--json"]  # no --no-config: these tests want the config


def one_line(res):
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, "expected one line on stderr, got %r" % res.stderr
    return lines[0]


def header(server, name, hname):
    reqs = server.requests("/f/" + name)
    assert reqs, "no request for /f/%s" % name
    for k, v in reqs[-1]["headers"]:
        if k.lower() == hname.lower():
            return v
    return None


@pytest.fixture
def home(tmp_path):
    """An isolated HOME and XDG_CONFIG_HOME under tmp_path; env for siphon."""
    h = tmp_path / "home"
    x = tmp_path / "xdg"
    h.mkdir()
    x.mkdir()
    return {"HOME": str(h), "XDG_CONFIG_HOME": str(x)}


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def run_dir(tmp_path):
    d = tmp_path / "run"
    d.mkdir(exist_ok=True)
    return d


def test_xdg_config_is_read(server, siphon, tmp_path, home):
    write(tmp_path / "xdg/siphon/config.ini", "[settings]\nheader = X-Config: xdg\n")
    res = siphon(FLAGS + [server.url("/f/a.bin")], flags=False, env=home, cwd=run_dir(tmp_path))
    assert res.code == 0, res
    assert header(server, "a.bin", "X-Config") == "xdg"


def test_home_config_when_xdg_unset_or_empty(server, siphon, tmp_path, home):
    write(tmp_path / "home/.config/siphon/config.ini", "[settings]\nheader = X-Config: home\n")
    write(tmp_path / "xdg/siphon/config.ini", "[settings]\nheader = X-Config: xdg\n")
    env = dict(home, XDG_CONFIG_HOME="")
    res = siphon(FLAGS + [server.url("/f/a.bin")], flags=False, env=env, cwd=run_dir(tmp_path))
    assert res.code == 0, res
    assert header(server, "a.bin", "X-Config") == "home"


def test_no_config_and_missing_default(server, siphon, tmp_path, home):
    write(tmp_path / "xdg/siphon/config.ini", "[settings]\nheader = X-Config: xdg\n")
    res = siphon(FLAGS + ["--no-config", server.url("/f/a.bin")], flags=False, env=home,
                 cwd=run_dir(tmp_path))
    assert res.code == 0, res
    assert header(server, "a.bin", "X-Config") is None
    # no config file at all is fine
    (tmp_path / "xdg/siphon/config.ini").unlink()
    res = siphon(FLAGS + [server.url("/f/b.bin")], flags=False, env=home, cwd=run_dir(tmp_path))
    assert res.code == 0, res


def test_config_option(server, siphon, tmp_path, home):
    write(tmp_path / "xdg/siphon/config.ini", "[settings]\nheader = X-Config: xdg\n")
    write(tmp_path / "mine.ini", "[settings]\nheader = X-Config: mine\n")
    res = siphon(FLAGS + ["--config", str(tmp_path / "mine.ini"), server.url("/f/a.bin")],
                 flags=False, env=home, cwd=run_dir(tmp_path))
    assert res.code == 0, res
    assert header(server, "a.bin", "X-Config") == "mine"


def test_missing_config_option_is_an_error(server, siphon, tmp_path, home):
    res = siphon(FLAGS + ["--config", "absent.ini", server.url("/f/a.bin")], flags=False,
                 env=home, cwd=run_dir(tmp_path))
    assert res.code == 2, res
    assert one_line(res) == "siphon: absent.ini: No such file or directory"
    assert server.requests("/f/") == []


CONFIG_ERRORS = [
    ("item_section", "[settings]\nretries = 1\n\n[ubuntu]\nurl = http://127.0.0.1:9/x\n",
     "c.ini:4: a config file holds only [settings] and [profile.NAME], not a download like "
     "[ubuntu]"),
    ("unknown_key", "[settings]\nconect_timeout = 5s\n",
     "c.ini:2: unknown key 'conect_timeout' (did you mean 'connect_timeout'?)"),
    ("bad_value", "[profile.p]\nstall_timeout = forever\n",
     "c.ini:2: bad value 'forever' for stall_timeout: expected a duration like 30s, 5m or 0"),
    ("run_wide_in_profile", "[profile.p]\nconcurrency = 3\n",
     "c.ini:2: 'concurrency' is a run-wide key: set it in [settings] or on the command line, "
     "not in a profile"),
    ("bad_section", "[profile]\nretries = 1\n",
     "c.ini:1: unknown section kind [profile] (expected [settings], [profile.NAME] or a "
     "download's name)"),
]


@pytest.mark.parametrize("text,want", [e[1:] for e in CONFIG_ERRORS],
                         ids=[e[0] for e in CONFIG_ERRORS])
def test_config_error(server, siphon, tmp_path, home, text, want):
    d = run_dir(tmp_path)
    (d / "c.ini").write_text(text)
    res = siphon(FLAGS + ["--config", "c.ini", server.url("/f/a.bin")], flags=False, env=home,
                 cwd=d)
    assert res.code == 2, res
    assert one_line(res) == "siphon: " + want
    assert res.events == []
    assert server.requests("/f/") == []


def test_broken_default_config_is_an_error(server, siphon, tmp_path, home):
    write(tmp_path / "xdg/siphon/config.ini", "[settings]\nretries = lots\n")
    res = siphon(FLAGS + [server.url("/f/a.bin")], flags=False, env=home, cwd=run_dir(tmp_path))
    assert res.code == 2, res
    assert one_line(res) == ("siphon: %s:2: bad value 'lots' for retries: expected a whole "
                             "number from 0 to 1000000"
                             % (tmp_path / "xdg/siphon/config.ini"))
    assert server.requests("/f/") == []


def test_precedence_with_config(server, siphon, tmp_path, home):
    """config < list [settings] < command line, and the config's headers of
    other names are still sent."""
    write(tmp_path / "xdg/siphon/config.ini",
          "[settings]\nheader = X-Level: config\nheader = X-Config: c\n")
    d = run_dir(tmp_path)
    (d / "l.ini").write_text("[settings]\nheader = X-Level: settings\n[in_list]\nurl = %s\n"
                             % server.url("/f/l1.bin"))
    res = siphon(FLAGS + ["l.ini", server.url("/f/argv.bin")], flags=False, env=home, cwd=d)
    assert res.code == 0, res
    assert header(server, "argv.bin", "X-Level") == "config", "config > default"
    assert header(server, "l1.bin", "X-Level") == "settings", "list [settings] > config"
    assert header(server, "l1.bin", "X-Config") == "c"
    assert header(server, "argv.bin", "X-Config") == "c"

    server.reset()
    res = siphon(FLAGS + ["--overwrite", "--header", "X-Level: cli", "l.ini",
                          server.url("/f/argv.bin")],
                 flags=False, env=home, cwd=d)
    assert res.code == 0, res
    assert header(server, "l1.bin", "X-Level") == "cli", "command line > list [settings]"
    assert header(server, "argv.bin", "X-Level") == "cli", "command line > config"


def test_config_profiles(server, siphon, tmp_path, home):
    """A list may use a config profile; a list's profile of the same name
    replaces the config's."""
    write(tmp_path / "xdg/siphon/config.ini",
          "[profile.api]\nheader = X-Profile: config-api\n"
          "[profile.mirror]\nheader = X-Profile: config-mirror\nheader = X-Mirror: 1\n")
    d = run_dir(tmp_path)
    (d / "l.ini").write_text(
        "[profile.mirror]\nheader = X-Profile: list-mirror\n"
        "[a]\nurl = %s\nprofile = api\n"
        "[m]\nurl = %s\nprofile = mirror\n" % (server.url("/f/a.bin"), server.url("/f/m.bin")))
    res = siphon(FLAGS + ["l.ini"], flags=False, env=home, cwd=d)
    assert res.code == 0, res
    assert header(server, "a.bin", "X-Profile") == "config-api"
    assert header(server, "m.bin", "X-Profile") == "list-mirror"
    assert header(server, "m.bin", "X-Mirror") is None, "replaced whole, not merged"


def test_config_dir_and_cli_dir(server, siphon, tmp_path, home):
    write(tmp_path / "xdg/siphon/config.ini", "[settings]\ndir = from-config\n")
    d = run_dir(tmp_path)
    res = siphon(FLAGS + [server.url("/f/a.bin", size=10)], flags=False, env=home, cwd=d)
    assert res.code == 0, res
    assert res.final(1)["path"] == "from-config/a.bin"
    assert (d / "from-config/a.bin").stat().st_size == 10
    res = siphon(FLAGS + ["-d", "from-cli", server.url("/f/b.bin", size=20)], flags=False,
                 env=home, cwd=d)
    assert res.code == 0, res
    assert res.final(1)["path"] == "from-cli/b.bin"
