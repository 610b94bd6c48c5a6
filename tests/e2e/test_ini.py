"""INI download lists end to end: every list error stops the run with exit 2
and one exact `FILE:LINE: what` line before any request; every key takes
effect; precedence item > profile > command line > [settings] > default is
shown by the headers the test server recorded; long lines and names load."""

import os
import time

import pytest


def one_line(res):
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, "expected one line on stderr, got %r" % res.stderr
    return lines[0]


def assert_list_error(res, server, tmp_path, want, keep=()):
    """Exit 2, exactly `siphon: WANT` on stderr, no event, no request, no file."""
    assert res.code == 2, res
    assert one_line(res) == "siphon: " + want
    assert res.events == [], "events were printed: %r" % res.events
    assert server.requests("/f/") == [], "a request reached the server"
    left = sorted(p.name for p in tmp_path.iterdir() if p.name not in keep)
    assert left == [], "files were written: %r" % left


def header(req, name):
    """The value of a request header the server recorded, or None."""
    for k, v in req["headers"]:
        if k.lower() == name.lower():
            return v
    return None


def request_for(server, name):
    reqs = server.requests("/f/" + name)
    assert reqs, "no request for /f/%s" % name
    return reqs[-1]


# -- every error: exit 2, the exact FILE:LINE text, no request --------------

LONG_URL_PAD = "p" * 4000

ERRORS = [
    ("unknown_key", "[a]\nurl = {u}\ntiemout = 5s\n",
     "l.ini:3: unknown key 'tiemout' (did you mean 'timeout'?)"),
    ("unknown_key_no_hint", "[settings]\nfrobnicate = 1\n[a]\nurl = {u}\n",
     "l.ini:2: unknown key 'frobnicate'"),
    ("missing_url", "[a]\nurl = {u}\n\n[b]\noutput = b.bin\n", "l.ini:4: [b] has no url"),
    ("bad_duration", "[a]\nurl = {u}\nstall_timeout = 5x\n",
     "l.ini:3: bad value '5x' for stall_timeout: expected a duration like 30s, 5m or 0"),
    ("bad_size", "[a]\nurl = {u}\nbuffer_size = 1K\n",
     "l.ini:3: bad value '1K' for buffer_size: expected a size from 16K to 8M, like 128K"),
    ("bad_number", "[settings]\nconcurrency = 0\n[a]\nurl = {u}\n",
     "l.ini:2: bad value '0' for concurrency: expected a whole number from 1 to 1000000"),
    ("bad_retries", "[a]\nurl = {u}\nretries = two\n",
     "l.ini:3: bad value 'two' for retries: expected a whole number from 0 to 1000000"),
    ("bad_bool", "[a]\nurl = {u}\noverwrite = perhaps\n",
     "l.ini:3: bad value 'perhaps' for overwrite: expected true/false, yes/no, on/off or 1/0"),
    ("bad_header", "[a]\nurl = {u}\nheader = NoColonHere\n",
     "l.ini:3: bad value '***' for header: expected 'Name: value'"),
    ("bad_sha256", "[a]\nurl = {u}\nsha256 = 1234\n",
     "l.ini:3: bad value '1234' for sha256: expected 64 hex digits"),
    ("duplicate_item", "[a]\nurl = {u}\n[a]\nurl = {u}\n",
     "l.ini:3: duplicate item name 'a' (first at l.ini:1)"),
    ("unknown_profile", "[a]\nurl = {u}\nprofile = nope\n", "l.ini:3: unknown profile 'nope'"),
    ("output_absolute", "[a]\nurl = {u}\noutput = /tmp/evil\n",
     "l.ini:3: bad value '/tmp/evil' for output: expected a relative path inside the "
     "download dir"),
    ("output_climbs", "[a]\nurl = {u}\noutput = sub/../../evil\n",
     "l.ini:3: bad value 'sub/../../evil' for output: expected a relative path inside the "
     "download dir"),
    ("dir_climbs", "[a]\nurl = {u}\ndir = ../up\n",
     "l.ini:3: bad value '../up' for dir: expected a relative path inside the download dir"),
    ("profile_dir_absolute", "[profile.p]\ndir = /abs\n[a]\nurl = {u}\nprofile = p\n",
     "l.ini:2: bad value '/abs' for dir: expected a relative path inside the download dir"),
    ("not_http", "[a]\nurl = {u}\n[b]\nurl = ftp://127.0.0.1/x\n",
     "l.ini:4: not an http(s) URL: ftp://127.0.0.1/x"),
    ("profile_without_name", "[profile]\nretries = 1\n[a]\nurl = {u}\n",
     "l.ini:1: unknown section kind [profile] (expected [settings], [profile.NAME] or a "
     "download's name)"),
    ("settings_dot", "[a]\nurl = {u}\n[settings.x]\nretries = 1\n",
     "l.ini:3: unknown section kind [settings.x] (expected [settings], [profile.NAME] or a "
     "download's name)"),
    ("profile_twice", "[profile.p]\nretries = 1\n[profile.p]\nretries = 2\n[a]\nurl = {u}\n",
     "l.ini:3: profile 'p' is defined twice (first at line 1)"),
    ("run_wide_key_in_item", "[a]\nurl = {u}\nconcurrency = 2\n",
     "l.ini:3: 'concurrency' is a run-wide key: set it in [settings] or on the command line, "
     "not in a download section"),
    ("syntax", "[a]\nurl = {u}\nthis line has no equals sign\n",
     "l.ini:3: expected 'key = value' or a [section]"),
    ("after_long_line", "[a]\nurl = {u}&pad=" + LONG_URL_PAD + "\n\nretries = x\n",
     "l.ini:4: bad value 'x' for retries: expected a whole number from 0 to 1000000"),
    ("empty", "", "l.ini: no downloads in this list"),
    ("only_settings", "[settings]\nretries = 1\n", "l.ini: no downloads in this list"),
]


@pytest.mark.parametrize("text,want", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_list_error(server, siphon, tmp_path, text, want):
    (tmp_path / "l.ini").write_text(text.replace("{u}", server.url("/f/a.bin", size=100)))
    res = siphon(["l.ini"])
    assert_list_error(res, server, tmp_path, want, keep=("l.ini",))


def test_error_in_second_list_stops_the_first(server, siphon, tmp_path):
    (tmp_path / "one.ini").write_text("[a]\nurl = %s\n" % server.url("/f/a.bin", size=100))
    (tmp_path / "two.ini").write_text("[b]\nurl = %s\n[a]\nurl = %s\n"
                                      % (server.url("/f/b.bin"), server.url("/f/c.bin")))
    res = siphon(["one.ini", "two.ini"])
    assert_list_error(res, server, tmp_path,
                      "two.ini:3: duplicate item name 'a' (first at one.ini:1)",
                      keep=("one.ini", "two.ini"))


def test_profile_in_two_lists(server, siphon, tmp_path):
    (tmp_path / "one.ini").write_text("[profile.m]\nretries = 1\n[a]\nurl = %s\n"
                                      % server.url("/f/a.bin"))
    (tmp_path / "two.ini").write_text("[b]\nurl = %s\n\n[profile.m]\nretries = 2\n"
                                      % server.url("/f/b.bin"))
    res = siphon(["one.ini", "two.ini"])
    assert_list_error(res, server, tmp_path, "two.ini:4: profile 'm' is already defined at one.ini:1",
                      keep=("one.ini", "two.ini"))


def test_not_utf8(server, siphon, tmp_path):
    (tmp_path / "l.ini").write_bytes(b"[a]\nurl = %s\n[caf\xe9]\nurl = %s\n"
                                     % (server.url("/f/a.bin").encode(),
                                        server.url("/f/b.bin").encode()))
    res = siphon(["l.ini"])
    assert_list_error(res, server, tmp_path, "l.ini:3: not valid UTF-8 text", keep=("l.ini",))


def test_directory(server, siphon, tmp_path):
    (tmp_path / "d.ini").mkdir()
    res = siphon(["d.ini"])
    assert_list_error(res, server, tmp_path, "d.ini: is a directory, not a list", keep=("d.ini",))


def test_unreadable(server, siphon, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    p = tmp_path / "l.ini"
    p.write_text("[a]\nurl = %s\n" % server.url("/f/a.bin"))
    p.chmod(0)
    res = siphon(["l.ini"])
    assert_list_error(res, server, tmp_path, "l.ini: Permission denied", keep=("l.ini",))


def test_missing_list(server, siphon, tmp_path):
    res = siphon(["gone.ini"])
    assert_list_error(res, server, tmp_path, "gone.ini: No such file or directory")


def test_bad_url_in_txt_list(server, siphon, tmp_path):
    (tmp_path / "urls.txt").write_text("# two good, one bad\n%s\n\n  %s  \nnot-a-url\n"
                                       % (server.url("/f/a.bin"), server.url("/f/b.bin")))
    res = siphon(["urls.txt"])
    assert_list_error(res, server, tmp_path, "urls.txt:5: not an http(s) URL: not-a-url",
                      keep=("urls.txt",))


# -- every key takes effect ------------------------------------------------

def test_every_item_key(server, siphon, tmp_path):
    size = 150000
    (tmp_path / "l.ini").write_text(
        "[settings]\n"
        "dir = downloads\n"
        "\n"
        "[profile.mirror]\n"
        "per_host = 2\n"
        "dir = isos\n"
        "header = X-Profile: yes\n"
        "\n"
        "[ubuntu]\n"
        "url = {u}    ; inline comment\n"
        "output = sub/ubuntu.iso\n"
        "profile = mirror\n"
        "timeout = 2h\n"
        "connect_timeout = 10s\n"
        "stall_timeout = 1m\n"
        "buffer_size = 16K\n"
        "retries = 5\n"
        "header = X-Token: 1\n"
        "header = X-Other: two words\n"
        "sha256 = {sha}\n".format(u=server.url("/f/ubuntu.bin", size=size, seed=7),
                                  sha=server.sha256(size, seed=7).upper()))
    res = siphon(["l.ini"])
    assert res.code == 0, res
    q = [e for e in res.events if e["event"] == "queued"]
    assert [e["name"] for e in q] == ["ubuntu"]
    done = res.final(1)
    assert done["event"] == "done"
    assert done["path"] == "downloads/isos/sub/ubuntu.iso"
    server.verify(tmp_path / "downloads/isos/sub/ubuntu.iso", size, seed=7)
    req = request_for(server, "ubuntu.bin")
    assert header(req, "X-Token") == "1"
    assert header(req, "X-Other") == "two words"
    assert header(req, "X-Profile") == "yes"


def test_checksum_mismatch_fails_the_item(server, siphon, tmp_path):
    (tmp_path / "l.ini").write_text(
        "[good]\nurl = %s\nsha256 = %s\n[bad]\nurl = %s\nsha256 = %s\nretries = 0\n"
        % (server.url("/f/good.bin", size=5000, seed=3), server.sha256(5000, seed=3),
           server.url("/f/bad.bin", size=5000, seed=4), "0" * 64))
    res = siphon(["l.ini"])
    assert res.code == 1, res
    assert res.final(1)["event"] == "done"
    bad = res.final(2)
    assert (bad["event"], bad["reason"]) == ("failed", "checksum_mismatch"), bad
    assert not (tmp_path / "bad.bin").exists()
    assert not (tmp_path / "bad.bin.part").exists()


def test_item_stall_timeout_beats_settings(server, siphon, tmp_path):
    (tmp_path / "l.ini").write_text(
        "[settings]\nstall_timeout = 5m\nretries = 0\n"
        "[stuck]\nurl = %s\nstall_timeout = 1s\n"
        % server.url("/f/stuck.bin", size=100000, stall_after=1000))
    t0 = time.time()
    res = siphon(["l.ini"], timeout=30)
    assert res.code == 1, res
    fin = res.final(1)
    assert (fin["event"], fin["reason"]) == ("timed_out", "stall"), fin
    assert time.time() - t0 < 15, "the item's 1s stall limit, not [settings]' 5m"


def test_profile_per_host_limit_is_enforced(server, siphon, tmp_path):
    items = "".join("[s%d]\nurl = %s\nprofile = one\n"
                    % (i, server.url("/f/s%d.bin" % i, size=30000, rate=60000))
                    for i in range(3))
    (tmp_path / "l.ini").write_text("[profile.one]\nper_host = 1\n" + items)
    res = siphon(["-j", "4", "l.ini"], timeout=30)
    assert res.code == 0, res
    reqs = sorted(server.requests("/f/s"), key=lambda r: r["t_start"])
    assert len(reqs) == 3
    for a, b in zip(reqs, reqs[1:]):
        assert b["t_start"] >= a["t_end"] - 0.05, \
            "two transfers of a per_host = 1 profile overlapped: %r" % reqs


# -- precedence, shown by the headers the server saw -----------------------

PREC_LIST = """
[settings]
header = X-Level: settings
header = X-From-Settings: s

[profile.p]
header = X-Level: profile
header = X-From-Profile: p

[by_settings]
url = {u1}

[by_profile]
url = {u2}
profile = p

[by_item]
url = {u3}
profile = p
header = x-level: item
"""


def write_prec(server, tmp_path):
    (tmp_path / "l.ini").write_text(PREC_LIST.format(
        u1=server.url("/f/p1.bin"), u2=server.url("/f/p2.bin"), u3=server.url("/f/p3.bin")))


def test_precedence_without_command_line(server, siphon, tmp_path):
    write_prec(server, tmp_path)
    res = siphon(["l.ini", server.url("/f/p0.bin")])
    assert res.code == 0, res
    assert header(request_for(server, "p0.bin"), "X-Level") is None, "default: no header"
    assert header(request_for(server, "p1.bin"), "X-Level") == "settings"
    assert header(request_for(server, "p2.bin"), "X-Level") == "profile"
    assert header(request_for(server, "p3.bin"), "X-Level") == "item"
    for n in ("p1.bin", "p2.bin", "p3.bin"):
        assert header(request_for(server, n), "X-From-Settings") == "s", \
            "headers of every level are sent"
    for n in ("p2.bin", "p3.bin"):
        assert header(request_for(server, n), "X-From-Profile") == "p"
    assert header(request_for(server, "p0.bin"), "X-From-Settings") is None, \
        "a list's [settings] apply to its own items only"


def test_precedence_with_command_line(server, siphon, tmp_path):
    write_prec(server, tmp_path)
    res = siphon(["--header", "X-Level: cli", "l.ini", server.url("/f/p0.bin")])
    assert res.code == 0, res
    assert header(request_for(server, "p0.bin"), "X-Level") == "cli"
    assert header(request_for(server, "p1.bin"), "X-Level") == "cli", \
        "command line > [settings]"
    assert header(request_for(server, "p2.bin"), "X-Level") == "profile", \
        "profile > command line"
    assert header(request_for(server, "p3.bin"), "X-Level") == "item", "item > profile"
    for n in ("p0.bin", "p1.bin", "p2.bin", "p3.bin"):
        levels = [v for k, v in request_for(server, n)["headers"] if k.lower() == "x-level"]
        assert len(levels) == 1, "one X-Level per request, got %r" % levels


# -- what Debian's inih would cut ------------------------------------------

def test_long_url_and_long_names(server, siphon, tmp_path):
    long_url = server.url("/f/long.bin", size=2000, seed=5, pad="t" * 4100)
    assert len(long_url) > 4096
    n120 = "n" * 120
    a = "x" * 55 + "-a"
    b = "x" * 55 + "-b"
    (tmp_path / "l.ini").write_text(
        "[%s]\nurl = %s\n\n[%s]\nurl = %s\n\n[%s]\nurl = %s\n"
        % (n120, long_url, a, server.url("/f/a.bin", size=10), b,
           server.url("/f/b.bin", size=20)))
    res = siphon(["l.ini"])
    assert res.code == 0, res
    names = [e["name"] for e in res.events if e["event"] == "queued"]
    assert names == [n120, a, b]
    assert [e["url"] for e in res.events if e["event"] == "queued"][0] == long_url
    reqs = server.requests("/f/long.bin")
    assert reqs and reqs[0]["path"] == long_url[len(server.base()):], \
        "the 4 KiB URL reached the server intact"
    server.verify(tmp_path / "long.bin", 2000, seed=5)
    assert (tmp_path / "a.bin").stat().st_size == 10
    assert (tmp_path / "b.bin").stat().st_size == 20


def test_device_list(server, siphon, tmp_path):
    # /dev/zero would otherwise be read up to the 64 MiB limit
    res = siphon(["/dev/zero"])
    assert_list_error(res, server, tmp_path, "/dev/zero: is a device, not a list")


def test_huge_list_refused_by_size(server, siphon, tmp_path):
    p = tmp_path / "big.txt"
    with open(p, "wb") as f:  # sparse: 65 MiB on paper, nothing on disk
        f.truncate(65 << 20)
    res = siphon(["big.txt"])
    assert_list_error(res, server, tmp_path, "big.txt: too large for a list (over 64 MiB)",
                      keep=("big.txt",))


def test_next_item_carries_nothing_of_the_last(server, siphon, tmp_path):
    """One at a time over one connection, each item's request (curl's easy
    handle is reused from item to item) has its own headers and user agent,
    none left over from the item before."""
    (tmp_path / "l.ini").write_text(
        "[a]\nurl = {a}\nheader = X-Token: a\nuser_agent = agent-a\nbuffer_size = 16K\n"
        "[b]\nurl = {b}\n"
        "[c]\nurl = {c}\nheader = X-Token: c\n".format(
            a=server.url("/f/ra.bin", size=3000), b=server.url("/f/rb.bin", size=3000),
            c=server.url("/f/rc.bin", size=3000)))
    res = siphon(["-j", "1", "l.ini"])
    assert res.code == 0, res
    a, b, c = (request_for(server, n) for n in ("ra.bin", "rb.bin", "rc.bin"))
    assert a["conn"] == b["conn"] == c["conn"], "the three did not share a connection"
    assert header(a, "X-Token") == "a" and header(a, "User-Agent") == "agent-a"
    assert header(b, "X-Token") is None, "b was sent a's header"
    assert header(b, "User-Agent").startswith("siphon/"), "b was sent a's user agent"
    assert header(c, "X-Token") == "c"
    assert header(c, "User-Agent").startswith("siphon/")
    for n in ("ra.bin", "rb.bin", "rc.bin"):
        server.verify(tmp_path / n, 3000)
