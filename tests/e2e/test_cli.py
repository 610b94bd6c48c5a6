"""The command line: usage errors, URL lists, stdin, option values, exit
codes -- the real binary against the local test server."""

import pytest


def lines(text):
    return [ln for ln in text.splitlines() if ln.strip()]


@pytest.mark.parametrize("args,words", [
    (["--timeout", "x"], ["--timeout", "x"]),
    (["--stall-timeout", "5x"], ["--stall-timeout", "5x"]),
    (["--connect-timeout", "-1s"], ["--connect-timeout", "-1s"]),
    (["-j", "0"], ["0"]),
    (["--concurrency", "abc"], ["--concurrency", "abc"]),
    (["--per-host", "0"], ["--per-host", "0"]),
    (["--max-connections", "1.5"], ["--max-connections", "1.5"]),
    (["--retries", "-1"], ["--retries", "-1"]),
    (["--buffer-size", "1K"], ["--buffer-size", "1K"]),
    (["--buffer-size", "9M"], ["--buffer-size", "9M"]),
    (["--conn-idle", "soon"], ["--conn-idle", "soon"]),
    (["--bogus-option"], ["--bogus-option"]),
    (["--concurency", "2"], ["'--concurency'", "(did you mean '--concurrency'?)"]),
])
def test_usage_error(server, siphon, tmp_path, args, words):
    url = server.url("/f/never.bin", size=100)
    res = siphon(args + [url])
    assert res.code == 2, res
    msg = lines(res.stderr)
    assert len(msg) == 1, "expected a one-line message, got %r" % res.stderr
    for w in words:
        assert w in msg[0], "%r does not name %r" % (msg[0], w)
    if args[0] == "-j":
        assert "-j" in msg[0] or "--concurrency" in msg[0], msg[0]
    assert not any(e["event"] in ("queued", "start") for e in res.events)
    assert server.requests("/f/") == [], "a request reached the server"
    assert list(tmp_path.iterdir()) == []


def test_no_inputs_headless_is_usage_error(server, siphon, tmp_path):
    res = siphon([])
    assert res.code == 2, res
    assert len(lines(res.stderr)) == 1, res.stderr
    assert res.events == []


def test_missing_list_file(server, siphon, tmp_path):
    res = siphon(["nothere.txt"])
    assert res.code == 2, res
    assert "nothere.txt" in res.stderr
    assert server.requests("/f/") == []


def test_help_and_version(siphon):
    res = siphon(["--help"], flags=False)
    assert res.code == 0
    assert "--per-host" in res.stdout + res.stderr
    res = siphon(["-V"], flags=False)
    assert res.code == 0
    assert (res.stdout + res.stderr).strip()


def test_valid_values_are_accepted(server, siphon, tmp_path):
    res = siphon(["--timeout", "1m30s", "--stall-timeout", "1.5s", "--connect-timeout", "250ms",
                  "--buffer-size", "16K", "--conn-idle", "0.5s", "--dns-ttl", "2m",
                  "--conn-lifetime", "0", "--retries", "0", "-j", "2", "--per-host", "2",
                  "--max-connections", "8", server.url("/f/vals.bin", size=100000)])
    assert res.code == 0, res
    server.verify(tmp_path / "vals.bin", 100000)


def test_buffer_size_bounds_accepted(server, siphon, tmp_path):
    for i, b in enumerate(["16K", "8M", "16384"]):
        res = siphon(["--buffer-size", b, server.url("/f/bs%d.bin" % i, size=300000, seed=i)])
        assert res.code == 0, (b, res)
        server.verify(tmp_path / ("bs%d.bin" % i), 300000, seed=i)


def test_url_list_file(server, siphon, tmp_path):
    urls = [server.url("/f/l%d.bin" % i, size=1000 * (i + 1), seed=i) for i in range(3)]
    (tmp_path / "urls.txt").write_text(
        "# a comment\n\n%s\n   \n# another\n%s\n%s\n" % tuple(urls))
    extra = server.url("/f/l3.bin", size=999, seed=3)
    res = siphon(["urls.txt", extra])
    assert res.code == 0, res
    queued = [e for e in res.events if e["event"] == "queued"]
    assert [e["url"] for e in queued] == urls + [extra]
    assert [e["id"] for e in queued] == [1, 2, 3, 4]
    for i in range(3):
        server.verify(tmp_path / ("l%d.bin" % i), 1000 * (i + 1), seed=i)
    server.verify(tmp_path / "l3.bin", 999, seed=3)
    assert res.summary()["done"] == 4


def test_url_list_from_stdin(server, siphon, tmp_path):
    urls = [server.url("/f/in%d.bin" % i, size=5000 + i, seed=i) for i in range(2)]
    res = siphon(["-"], stdin=("\n".join(urls) + "\n").encode())
    assert res.code == 0, res
    for i in range(2):
        server.verify(tmp_path / ("in%d.bin" % i), 5000 + i, seed=i)
    assert [e["url"] for e in res.events if e["event"] == "queued"] == urls


def test_dir_option(server, siphon, tmp_path):
    res = siphon(["-d", "a/b", server.url("/f/d.bin", size=10)])
    assert res.code == 0, res
    assert res.final(1)["path"] == "a/b/d.bin"
    server.verify(tmp_path / "a" / "b" / "d.bin", 10)


def test_exit_codes(server, siphon, tmp_path):
    ok = server.url("/f/e-ok.bin", size=10)
    bad = server.url("/f/e-bad.bin", status=403)
    assert siphon([ok]).code == 0
    assert siphon([ok]).code == 0  # skipped counts as fine
    res = siphon([ok, bad])
    assert res.code == 1, res
    s = res.summary()
    assert (s["skipped"], s["failed"]) == (1, 1)
    assert res.final(2)["reason"] == "http_403"


def test_json_off_prints_no_events(server, siphon, tmp_path):
    res = siphon(["--headless", "--no-config", server.url("/f/quiet.bin", size=10)],
                 flags=False)
    assert res.code == 0, res
    assert res.stdout.strip() == ""
    server.verify(tmp_path / "quiet.bin", 10)


def test_log_masks_secrets(server, siphon, tmp_path):
    res = siphon(["--log", "req.log", "--header", "Authorization: Bearer SECRET123",
                  "--header", "Cookie: sid=SECRET456",
                  server.url("/f/logged.bin", size=100)])
    assert res.code == 0, res
    text = (tmp_path / "req.log").read_text(errors="replace")
    assert "/f/logged.bin" in text, "the log has a line for the request"
    assert "SECRET123" not in text and "SECRET456" not in text, text


def test_demo_runs_headless(tmp_path):
    """`make demo`'s launcher: server up, list written, siphon run headless
    (stdout is not a terminal here), server stopped, siphon's exit code
    returned (1: the demo's 404 and stalling items are meant to fail)."""
    import os
    import subprocess
    from pathlib import Path
    bin_ = os.environ.get("SIPHON_BIN") or str(Path(__file__).resolve().parents[2]
                                                / "build" / "siphon")
    if not os.access(bin_, os.X_OK):
        pytest.skip("no siphon binary")
    demo = Path(__file__).resolve().parents[1] / "server" / "demo.py"
    scale = 3 if os.environ.get("SIPHON_ASAN") == "1" else 1
    p = subprocess.run(["/usr/bin/python3", str(demo), bin_], cwd=tmp_path,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=90 * scale)
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 1, err[-2000:]
    assert "missing" in err and "busy-then-ok" in err, err[-2000:]
    assert p.stdout == b"", "headless text goes to stderr"
