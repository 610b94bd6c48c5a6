"""Issue 10: what an attack on siphon found, one regression test per finding
(test_fNN_...), by the rules of SPEC.md "Integrity and hostile input":
nothing lands on disk but what the server sent for that item, no other file
is touched, and no input hangs siphon."""

import os
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ASAN = os.environ.get("SIPHON_ASAN") == "1"
REPO = Path(__file__).resolve().parents[2]


def _argv(args):
    """argv of the binary under test (conftest's own helper is not importable
    when pytest collects tests/e2e and tests/tui together)."""
    b = os.environ.get("SIPHON_BIN") or str(REPO / "build" / "siphon")
    return [b, "--headless", "--json", "--no-config"] + [str(a) for a in args]

MiB = 1 << 20
LM = "Mon, 01 Jan 2024 00:00:00 GMT"


@pytest.fixture
def shared_dir():
    """A dir an unprivileged user can work in (tests that drop root)."""
    d = Path(tempfile.mkdtemp(prefix="siphon-h-"))
    os.chmod(d, 0o777)
    yield d
    for p in sorted(d.rglob("*"), reverse=True):
        if p.is_dir() and not p.is_symlink():
            os.chmod(p, 0o755)
    for p in sorted(d.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() and not p.is_symlink() else p.unlink()
    d.rmdir()


def wait_part(path, at_least, sp, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and path.stat().st_size >= at_least:
            return
        if sp.code is not None:
            break
        time.sleep(0.05)
    pytest.fail("%s did not reach %d bytes: %r" % (path, at_least, sp.events[-5:]))


def ranges(reqs):
    """The start offset each request asked for (None: no Range)."""
    out = []
    for r in reqs:
        rg = r["range"]
        out.append(int(rg.split("=")[1].split("-")[0]) if rg else None)
    return out


# -- data loss or corruption ------------------------------------------------

def test_f01_part_named_items_never_take_over_a_part(server, siphon, tmp_path):
    """An item `y` and an item `y.part` in one list each get their own file;
    across runs a downloaded `x.part` is not eaten by a later `x`."""
    y = server.url("/f/y", size=300000, seed=11)
    yp = server.url("/f/y.part", size=200000, seed=12)
    res = siphon([y, yp], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "y", 300000, seed=11)
    server.verify(tmp_path / "y.part_", 200000, seed=12)
    assert res.final(2)["path"] == "y.part_"

    res = siphon([server.url("/f/x.part", size=150000, seed=13)], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "x.part_", 150000, seed=13)
    res = siphon([server.url("/f/x", size=100000, seed=14)], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "x", 100000, seed=14)
    server.verify(tmp_path / "x.part_", 150000, seed=13)


def test_f02_content_disposition_clash_gets_next_free_name(server, siphon, tmp_path):
    cd = 'attachment; filename="same.bin"'
    a = server.url("/f/a", size=2 * MiB, seed=21, cd=cd, rate=4 * MiB)
    b = server.url("/f/b", size=3 * MiB, seed=22, cd=cd, rate=4 * MiB)
    res = siphon(["-j", "2", a, b], timeout=40)
    assert res.code == 0, res
    paths = {i: res.final(i)["path"] for i in (1, 2)}
    assert sorted(paths.values()) == ["same.1.bin", "same.bin"], paths
    server.verify(tmp_path / paths[1], 2 * MiB, seed=21)
    server.verify(tmp_path / paths[2], 3 * MiB, seed=22)
    assert not list(tmp_path.glob("*.part")), "no .part left"


def test_f02_empty_body_named_by_the_server(server, siphon, tmp_path):
    """The response is held while the disk side looks at the name the
    server gave; an empty body must still end as an empty file of that
    name, and a taken name as the next free one."""
    (tmp_path / "empty.txt").write_bytes(b"keep\n")
    url = server.url("/f/e", size=0, cd='attachment; filename="empty.txt"')
    res = siphon([url], timeout=30)
    assert res.code == 0, res
    fin = res.final(1)
    assert fin["event"] == "done" and fin["path"] == "empty.1.txt", fin
    assert (tmp_path / "empty.1.txt").read_bytes() == b""
    assert (tmp_path / "empty.txt").read_bytes() == b"keep\n"
    assert not list(tmp_path.glob("*.part*")), "no .part left"


@pytest.mark.parametrize("overwrite", [False, True])
def test_f03_server_never_chooses_what_is_replaced(server, siphon, tmp_path, overwrite):
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious\n")
    url = server.url("/f/c", size=5000, seed=23, cd='attachment; filename="victim.txt"')
    res = siphon((["--overwrite"] if overwrite else []) + [url], timeout=30)
    assert res.code == 0, res
    fin = res.final(1)
    assert fin["event"] == "done", fin
    assert fin["path"] == "victim.1.txt"
    assert victim.read_bytes() == b"precious\n"
    server.verify(tmp_path / "victim.1.txt", 5000, seed=23)


def test_f04_no_validator_retry_starts_from_zero(server, siphon, tmp_path):
    """The content changes between attempts and there is no validator: the
    retry must not splice bytes of two versions."""
    size = MiB
    url = server.url("/f/v.bin", size=size, seed=30, vary=1, no_etag=1, drop_after=300000,
                     fail_first=1, key="v4")
    res = siphon(["--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    reqs = server.requests("/f/v.bin")
    assert len(reqs) == 2, [r["range"] for r in reqs]
    assert reqs[1]["range"] is None, "a retry without validator asked for a range"
    server.verify(tmp_path / "v.bin", size, seed=30 + reqs[1]["n"])


def test_f05_part_already_whole_finishes_without_refetch(server, siphon, tmp_path):
    """A chunked body, then the connection breaks: the .part holds it all
    but the total was unknown; the rerun gets 416 */N and finishes."""
    size = 700000
    url = server.url("/f/w.bin", size=size, seed=31, chunked=1, drop_after=size,
                     fail_first=1, key="w5")
    res = siphon(["--retries", "0", url], timeout=30)
    assert res.code == 1, res
    part = tmp_path / "w.bin.part"
    assert part.exists() and part.stat().st_size == size, "the whole body is in the .part"
    server.reset()
    res = siphon([url], timeout=30)
    assert res.code == 0, res
    assert res.final(1)["event"] == "done"
    server.verify(tmp_path / "w.bin", size, seed=31)
    assert sum(r["body_bytes"] for r in server.requests("/f/w.bin")) == 0, "refetched"


def test_f05_part_at_recorded_total_finishes_without_request(server, siphon, siphon_proc,
                                                             tmp_path):
    """A crash between the last write and the rename: the .part has the
    recorded total; the rerun renames it without asking the server."""
    size = 3 * MiB
    url = server.url("/f/t.bin", size=size, seed=32, rate=MiB)
    sp = siphon_proc([url])
    part = tmp_path / "t.bin.part"
    wait_part(part, 256 * 1024, sp)
    sp.signal(signal.SIGTERM)
    assert sp.wait(timeout=10) == 130
    have = part.stat().st_size
    with open(part, "ab") as f:
        f.write(server.expected_bytes(size, seed=32)[have:])
    server.reset()
    res = siphon([url], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "t.bin", size, seed=32)
    assert server.requests("/f/t.bin") == [], "a whole .part was fetched again"


def test_f06_content_disposition_name_resumes_in_a_later_run(server, siphon, siphon_proc,
                                                             tmp_path):
    size = 3 * MiB
    url = server.url("/f/dl", size=size, seed=33, rate=MiB, cd='attachment; filename="named.bin"')
    sp = siphon_proc([url])
    part = tmp_path / "named.bin.part"
    wait_part(part, 256 * 1024, sp)
    sp.signal(signal.SIGTERM)
    assert sp.wait(timeout=10) == 130
    had = part.stat().st_size
    server.reset()
    res = siphon([url], timeout=30)
    assert res.code == 0, res
    assert res.final(1)["path"] == "named.bin"
    server.verify(tmp_path / "named.bin", size, seed=33)
    reqs = server.requests("/f/dl")
    assert reqs[-1]["status"] == 206 and ranges(reqs)[-1] == had, ranges(reqs)
    assert reqs[-1]["body_bytes"] == size - had


# -- security ---------------------------------------------------------------

def test_f07_list_cannot_name_other_places(server, siphon, tmp_path):
    victim = tmp_path / "home" / ".bashrc"
    victim.parent.mkdir()
    victim.write_text("alias ls=ls\n")
    url = server.url("/f/l7.bin", size=1000)
    lst = tmp_path / "l.ini"
    lst.write_text("[settings]\nlog = %s\n\n[a]\nurl = %s\n" % (victim, url))
    res = siphon([lst], timeout=20)
    assert res.code == 2, res
    assert "l.ini:2:" in res.stderr and "log" in res.stderr
    assert victim.read_text() == "alias ls=ls\n"
    keys = tmp_path / "ssh"
    keys.mkdir()
    (keys / "authorized_keys").write_text("ssh-ed25519 AAAA me\n")
    lst.write_text("[settings]\ndir = %s\noverwrite = true\n\n[a]\nurl = %s\noutput = "
                   "authorized_keys\n" % (keys, url))
    res = siphon([lst], timeout=20)
    assert res.code == 2, res
    assert "l.ini:2:" in res.stderr and "dir" in res.stderr
    assert (keys / "authorized_keys").read_text() == "ssh-ed25519 AAAA me\n"
    assert server.requests("/f/l7.bin") == []


def test_f08_no_write_through_a_symlinked_dir(server, siphon, tmp_path):
    run = tmp_path / "run"
    out = tmp_path / "outside"
    run.mkdir()
    out.mkdir()
    (run / "sub").symlink_to(out)
    url = server.url("/f/e8.bin", size=5000)
    (run / "l.ini").write_text("[a]\nurl = %s\noutput = sub/evil.bin\n" % url)
    res = siphon([run / "l.ini"], cwd=run, timeout=20)
    assert res.code == 1, res
    fin = res.final(1)
    assert fin["event"] == "failed" and fin["reason"] == "disk", fin
    assert "sub" in fin["message"] and "symlink" in fin["message"], fin
    assert list(out.iterdir()) == [], "a file was written outside the dir"
    assert server.requests("/f/e8.bin") == [], "the request went out before the check"


def test_f09_secrets_never_in_sidecar_or_log(server, siphon, siphon_proc, tmp_path):
    log = tmp_path / "s.log"
    log.write_text("earlier line\n")
    size = 3 * MiB
    url = server.url("/f/sec.bin", size=size, seed=34, rate=MiB, token="T0pS3cr3t")
    url = url.replace("http://", "http://bob:Pa55w0rd@")
    sp = siphon_proc(["--log", log, url])
    part = tmp_path / "sec.bin.part"
    wait_part(part, 256 * 1024, sp)
    sp.signal(signal.SIGTERM)
    assert sp.wait(timeout=10) == 130
    meta = tmp_path / "sec.bin.part.meta"
    assert meta.exists()
    assert stat.S_IMODE(meta.stat().st_mode) == 0o600
    text = meta.read_bytes()
    assert b"Pa55w0rd" not in text and b"T0pS3cr3t" not in text, text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600 or log.read_text().startswith("earlier")
    ltext = log.read_text()
    assert ltext.startswith("earlier line\n"), "--log truncated its file"
    assert "Pa55w0rd" not in ltext and "T0pS3cr3t" not in ltext
    # the masked sidecar still resumes the same URL
    server.reset()
    res = siphon(["--log", log, url], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "sec.bin", size, seed=34)
    assert server.requests("/f/sec.bin")[0]["status"] == 206
    newlog = tmp_path / "new.log"
    res = siphon(["--log", newlog, server.url("/f/nl.bin", size=100)], timeout=30)
    assert res.code == 0, res
    assert stat.S_IMODE(newlog.stat().st_mode) == 0o600
    res = siphon(["--header", "X-Api-Key s3cr3tv4lue", url], timeout=20)
    assert res.code == 2 and "s3cr3tv4lue" not in res.stderr, res


def test_f10_user_headers_stay_with_their_host(server, second_server, siphon, tmp_path):
    target = second_server.url("/f/r10.bin", size=1000)
    url = server.url("/f/start", redirect_to=target)
    hdrs = ["--header", "X-Api-Key: k-123", "--header", "Proxy-Authorization: Basic eHl6",
            "--header", "Authorization: Bearer abc"]
    res = siphon(hdrs + [url], timeout=30)
    assert res.code == 0, res
    assert res.final(1)["path"] == "start"
    first = server.requests("/f/start")[0]
    names = {k.lower() for k, _ in first["headers"]}
    assert {"x-api-key", "proxy-authorization", "authorization"} <= names
    r2 = second_server.requests("/f/r10.bin")
    assert len(r2) == 1
    names2 = {k.lower() for k, _ in r2[0]["headers"]}
    assert not names2 & {"x-api-key", "proxy-authorization", "authorization"}, r2[0]["headers"]
    # a redirect on the same host keeps them
    server.reset()
    res = siphon(hdrs + [server.url("/f/same10.bin", redirect=1, size=1000)], timeout=30)
    assert res.code == 0, res
    last = server.requests("/f/same10.bin")[-1]
    assert "x-api-key" in {k.lower() for k, _ in last["headers"]}


# -- hangs ------------------------------------------------------------------

@pytest.mark.parametrize("which", ["part", "meta"])
def test_f11_fifo_part_or_sidecar_is_refused(server, siphon, tmp_path, which):
    url = server.url("/f/ff.bin", size=5000)
    if which == "part":
        os.mkfifo(tmp_path / "ff.bin.part")
    else:
        (tmp_path / "ff.bin.part").write_bytes(server.expected_bytes(1000))
        os.mkfifo(tmp_path / "ff.bin.part.meta")
    res = siphon([url], timeout=20)
    assert res.code == 1, res
    fin = res.final(1)
    assert fin["event"] == "failed" and fin["reason"] == "disk", fin
    assert "ff.bin.part" in fin["message"] and "FIFO" in fin["message"], fin


def test_f11_signal_ends_siphon_whatever_the_engine_does(server, siphon_proc, tmp_path):
    """The shutdown watchdog: the engine thread may be stuck (a FIFO opened
    for writing did it before the .part guards; a hung disk still can: the
    engine's test seam SIPHON_TEST_HANG_ON_QUIT hangs it on quit); SIGTERM
    still ends siphon within 2 s, with the summary and 130."""
    slow = server.url("/f/slow11.bin", size=3 * MiB, rate=MiB)
    sp = siphon_proc([slow], env={"SIPHON_TEST_HANG_ON_QUIT": "1"})
    wait_part(tmp_path / "slow11.bin.part", 128 * 1024, sp)
    t0 = time.time()
    sp.signal(signal.SIGTERM)
    code = sp.wait(timeout=10)
    took = time.time() - t0
    assert code == 130, sp.result()
    assert took < 2.0 * (3 if ASAN else 1), "took %.1fs to stop" % took
    sp.result().summary()
    assert (tmp_path / "slow11.bin.part").exists()


def test_f11_fifo_list_or_config_never_blocks(server, siphon, tmp_path):
    """A list or a config file that is a FIFO nobody writes to is read as
    empty instead of hanging the open."""
    os.mkfifo(tmp_path / "l.txt")
    res = siphon([tmp_path / "l.txt"], timeout=15)
    assert res.code == 2 and "l.txt" in res.stderr, res
    os.mkfifo(tmp_path / "conf.ini")
    res = siphon(["--config", tmp_path / "conf.ini", server.url("/f/c11.bin", size=100)],
                 flags=False, timeout=15)
    assert res.code == 0, res


def test_f12_device_sidecar_does_not_spin(server, siphon, tmp_path):
    (tmp_path / "z.bin.part").write_bytes(server.expected_bytes(1000, seed=35))
    (tmp_path / "z.bin.part.meta").symlink_to("/dev/zero")
    res = siphon([server.url("/f/z.bin", size=5000, seed=35)], timeout=15)
    assert res.code == 1, res
    fin = res.final(1)
    assert fin["reason"] == "disk" and "z.bin.part.meta" in fin["message"], fin
    assert os.readlink(tmp_path / "z.bin.part.meta") == "/dev/zero"


def test_f13_always_206_from_zero_is_bounded(server, siphon, tmp_path):
    """A server that answers every range from byte 0 (and breaks off): each
    restart is an attempt, with backoff, and the item ends."""
    url = server.url("/f/a13.bin", size=MiB, seed=36, range_from0=1, drop_after=300000)
    t0 = time.time()
    res = siphon(["--retries", "2", url], timeout=30)
    assert res.code == 1, res
    reqs = server.requests("/f/a13.bin")
    assert len(reqs) <= 3, ranges(reqs)
    retries = [e for e in res.of(1) if e["event"] == "retry"]
    assert len(retries) == 2 and time.time() - t0 >= 2.0, retries


# -- wrong status -----------------------------------------------------------

def test_f14_closed_stdout_ends_the_run_non_zero(server, tmp_path):
    url = server.url("/f/p14.bin", size=4 * MiB, rate=MiB)
    argv = _argv([url])
    # a partial file is there from the start: the stop comes at the first
    # event, maybe before this run's first byte (so the .part would be
    # this run's only by a race), and whenever it comes the file is kept
    (tmp_path / "p14.bin.part").write_bytes(b"x" * 1000)
    with open("/dev/full", "w") as full:
        p = subprocess.run(argv, cwd=str(tmp_path), stdout=full, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=30)
    assert p.returncode not in (0, None), p.stderr[-500:]
    assert b"stdout" in p.stderr
    assert (tmp_path / "p14.bin.part").exists(), "the partial file is kept"
    (tmp_path / "p14.bin.part").unlink()
    for m in tmp_path.glob("*.meta"):
        m.unlink()
    (tmp_path / "p14.bin.part").write_bytes(b"x" * 1000)  # as above
    p = subprocess.Popen(argv, cwd=str(tmp_path), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    first = p.stdout.readline()
    assert b'"queued"' in first
    p.stdout.close()  # like `| head -1`
    try:
        code = p.wait(timeout=15)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        pytest.fail("siphon ran on with its stdout closed")
    assert code != 0
    assert (tmp_path / "p14.bin.part").exists(), "the partial file is kept"


def test_f15_huge_url_is_bad_url(server, siphon, tmp_path):
    big = server.url("/f/u15.bin", pad="a" * (1 << 20))
    lst = tmp_path / "l.txt"
    lst.write_text("# one\n%s\n" % big)
    res = siphon([lst], timeout=20)
    assert res.code == 2, res
    assert "l.txt:2: URL longer than 64 KiB" in res.stderr, res.stderr[-300:]
    res = siphon([server.url("/f/u15.bin", pad="a" * 70000)], timeout=20)
    assert res.code == 2 and "URL longer than 64 KiB" in res.stderr, res
    assert server.requests("/f/u15.bin") == []


@pytest.mark.parametrize("n", [250, 253])
def test_f16_long_output_names_still_resume(server, siphon, siphon_proc, tmp_path, n):
    name = "n" * (n - 4) + ".bin"
    size = 3 * MiB
    url = server.url("/f/long16", size=size, seed=37, rate=MiB)
    lst = tmp_path / "l.ini"
    lst.write_text("[a]\nurl = %s\noutput = %s\n" % (url, name))
    sp = siphon_proc([lst])
    deadline = time.time() + 15
    parts = []
    while time.time() < deadline and not parts:
        parts = [p for p in tmp_path.glob("*.part") if p.stat().st_size >= 256 * 1024]
        time.sleep(0.05)
    assert parts, sp.result()
    sp.signal(signal.SIGTERM)
    assert sp.wait(timeout=10) == 130
    assert list(tmp_path.glob("*.part.meta")), "no sidecar: it would never resume"
    server.reset()
    res = siphon([lst], timeout=30)
    assert res.code == 0, res
    path = tmp_path / res.final(1)["path"]
    assert len(path.name) + len(".part.meta") <= 255
    server.verify(path, size, seed=37)
    assert server.requests("/f/long16")[0]["status"] == 206


def test_f17_weak_etag_is_never_a_validator(server, siphon, tmp_path):
    size = MiB
    url = server.url("/f/wk.bin", size=size, seed=38, etag='W/"w1"', last_modified=LM,
                     drop_after=300000, fail_first=1, key="wk17")
    res = siphon(["--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    reqs = server.requests("/f/wk.bin")
    assert len(reqs) == 2
    assert reqs[1]["if_range"] == LM and reqs[1]["status"] == 206, reqs[1]
    server.verify(tmp_path / "wk.bin", size, seed=38)
    # a weak ETag alone is no validator: start over
    server.reset()
    url = server.url("/f/wk2.bin", size=size, seed=38, etag='W/"w2"', drop_after=300000,
                     fail_first=1, key="wk17b")
    res = siphon(["--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    reqs = server.requests("/f/wk2.bin")
    assert reqs[1]["range"] is None and reqs[1]["if_range"] is None, reqs[1]
    server.verify(tmp_path / "wk2.bin", size, seed=38)


def test_f18_retry_jitter_differs_between_runs(server, siphon, tmp_path):
    delays = []
    for i in range(2):
        res = siphon(["--retries", "2", server.url("/f/j18.bin", status=503)], timeout=30)
        assert res.code == 1, res
        delays.append([e["delay_ms"] for e in res.of(1) if e["event"] == "retry"])
    assert len(delays[0]) == 2
    assert delays[0] != delays[1], delays


def test_f19_206_with_another_total_restarts(server, siphon, tmp_path):
    size = MiB
    url = server.url("/f/tot.bin", size=size, seed=39, range_size=2 * MiB, drop_after=300000,
                     fail_first=1, key="tot19")
    res = siphon(["--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    assert res.final(1)["bytes"] == size
    server.verify(tmp_path / "tot.bin", size, seed=39)
    reqs = server.requests("/f/tot.bin")
    assert ranges(reqs)[-1] is None, ranges(reqs)
    assert [e for e in res.of(1) if e["event"] == "retry"], "the restart is an attempt"


def test_f20_sighup_is_like_sigterm(server, siphon_proc, tmp_path):
    sp = siphon_proc([server.url("/f/h20.bin", size=3 * MiB, rate=MiB)])
    wait_part(tmp_path / "h20.bin.part", 128 * 1024, sp)
    sp.signal(signal.SIGHUP)
    assert sp.wait(timeout=10) == 130
    sp.result().summary()
    assert (tmp_path / "h20.bin.part").exists()


@pytest.mark.parametrize("kind", ["file", "read_only"])
def test_f21_unwritable_dir_fails_before_any_request(server, siphon_proc, shared_dir, kind):
    d = shared_dir / "out"
    if kind == "file":
        d.write_text("not a dir\n")
    else:
        d.mkdir()
        os.chmod(d, 0o555)
    urls = [server.url("/f/d21a.bin", size=1000), server.url("/f/d21b.bin", size=1000)]
    sp = siphon_proc(["-d", "out"] + urls, cwd=shared_dir, nobody=True)
    assert sp.wait(timeout=20) == 1
    res = sp.result()
    for i in (1, 2):
        fin = res.final(i)
        assert fin["event"] == "failed" and fin["reason"] == "disk", fin
        assert "out" in fin["message"]
    assert server.requests("/f/d21") == [], "a request went out for an unwritable dir"


def test_f22_two_siphons_one_part(server, siphon, siphon_proc, tmp_path):
    size = 3 * MiB
    url = server.url("/f/two.bin", size=size, seed=41, rate=MiB)
    a = siphon_proc([url])
    wait_part(tmp_path / "two.bin.part", 256 * 1024, a)
    b = siphon([url], timeout=20)
    assert b.code == 1, b
    fin = b.final(1)
    assert fin["event"] == "failed" and fin["reason"] == "busy", fin
    assert "two.bin.part" in fin["message"]
    assert a.wait(timeout=30) == 0, a.result()
    server.verify(tmp_path / "two.bin", size, seed=41)
