"""Resilience (issue 5): retries, validated resume, Retry-After, kill -9 and
rerun, checksums, disk trouble -- real binary, local test server."""

import os
import re
import stat
import tempfile
import time
from pathlib import Path

import pytest

MiB = 1024 * 1024


def retries(res, item_id):
    return [e for e in res.of(item_id) if e["event"] == "retry"]


def range_start(req):
    m = re.fullmatch(r"bytes=(\d+)-", req["range"] or "")
    return int(m.group(1)) if m else None


def test_drop_then_resume_with_if_range(server, siphon, tmp_path):
    size = 2 * MiB
    url = server.url("/f/r1.bin", size=size, seed=11, drop_after=700000, fail_first=1)
    res = siphon(["--retries", "2", "--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    assert len(retries(res, 1)) == 1, res.of(1)
    assert res.final(1)["event"] == "done"
    server.verify(tmp_path / "r1.bin", size, seed=11)
    reqs = server.requests("/f/r1.bin")
    assert len(reqs) == 2, [r["range"] for r in reqs]
    first, second = reqs
    assert first["range"] is None
    k = range_start(second)
    assert k is not None, "no 'bytes=N-' Range on the retry: %r" % second["range"]
    assert 0 < k <= first["body_bytes"], (k, first["body_bytes"])
    assert second["if_range"] == '"s11-n%d"' % size, second["if_range"]
    assert second["status"] == 206
    assert second["body_bytes"] == size - k


def test_resume_validated_by_last_modified(server, siphon, tmp_path):
    size = MiB
    lm = "Wed, 21 Oct 2015 07:28:00 GMT"
    url = server.url("/f/lm.bin", size=size, seed=12, drop_after=400000, fail_first=1,
                     no_etag=1, last_modified=lm)
    res = siphon(["--retries", "1", "--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "lm.bin", size, seed=12)
    second = server.requests("/f/lm.bin")[1]
    assert range_start(second) and second["if_range"] == lm, second


def test_server_ignoring_range_restarts(server, siphon, tmp_path):
    size = 2 * MiB
    url = server.url("/f/nr.bin", size=size, seed=13, drop_after=700000, fail_first=1,
                     no_range=1)
    res = siphon(["--retries", "2", "--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    assert res.final(1)["bytes"] == size
    server.verify(tmp_path / "nr.bin", size, seed=13)
    reqs = server.requests("/f/nr.bin")
    assert len(reqs) == 2 and reqs[1]["status"] == 200


def test_changed_etag_restarts(server, siphon, tmp_path):
    size = 2 * MiB
    url = server.url("/f/et.bin", size=size, seed=14, drop_after=700000, fail_first=1,
                     etag_change=1)
    res = siphon(["--retries", "2", "--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "et.bin", size, seed=14)
    reqs = server.requests("/f/et.bin")
    assert reqs[-1]["status"] == 200, "the final response is a full 200"
    assert reqs[-1]["body_bytes"] == size


def test_stall_then_resume(server, siphon, tmp_path):
    size = MiB
    url = server.url("/f/st.bin", size=size, seed=15, stall_after=300000, fail_first=1)
    res = siphon(["--retries", "1", "--stall-timeout", "500ms", "--buffer-size", "16K", url],
                 timeout=30)
    assert res.code == 0, res
    r = retries(res, 1)
    assert len(r) == 1 and r[0]["reason"] == "stall", r
    server.verify(tmp_path / "st.bin", size, seed=15)
    assert range_start(server.requests("/f/st.bin")[1])


def test_503_retry_after_seconds(server, siphon, tmp_path):
    url = server.url("/f/r503.bin", size=5000, status=503, retry_after=2, fail_first=1)
    res = siphon(["--retries", "3", url], timeout=30)
    assert res.code == 0, res
    r = retries(res, 1)
    assert len(r) == 1, res.of(1)
    assert r[0]["reason"] == "http_503"
    assert r[0]["attempt"] == 2
    assert 2000 <= r[0]["delay_ms"] <= 3000, r[0]
    assert res.final(1)["event"] == "done"
    reqs = server.requests("/f/r503.bin")
    assert len(reqs) == 2
    assert reqs[1]["t_start"] - reqs[0]["t_start"] >= 1.9
    server.verify(tmp_path / "r503.bin", 5000)
    starts = [e["attempt"] for e in res.of(1) if e["event"] == "start"]
    assert starts == [1, 2], starts


def test_503_retry_after_http_date(server, siphon, tmp_path):
    url = server.url("/f/r503d.bin", size=5000, status=503, retry_after_in=3, fail_first=1)
    res = siphon(["--retries", "3", url], timeout=30)
    assert res.code == 0, res
    r = retries(res, 1)
    assert len(r) == 1 and 1000 <= r[0]["delay_ms"] <= 4000, r
    reqs = server.requests("/f/r503d.bin")
    assert reqs[1]["t_start"] - reqs[0]["t_start"] >= 1.0


def test_404_is_not_retried(server, siphon, tmp_path):
    res = siphon(["--retries", "3", server.url("/f/n404.bin", status=404)], timeout=30)
    assert res.code == 1, res
    assert retries(res, 1) == []
    assert res.final(1)["reason"] == "http_404"
    assert len(server.requests("/f/n404.bin")) == 1
    assert list(tmp_path.iterdir()) == []


def test_429_then_200_is_retried_with_backoff(server, siphon, tmp_path):
    url = server.url("/f/r429.bin", size=3000, status=429, fail_first=1)
    res = siphon(["--retries", "2", url], timeout=30)
    assert res.code == 0, res
    r = retries(res, 1)
    assert len(r) == 1 and r[0]["reason"] == "http_429", r
    assert 800 <= r[0]["delay_ms"] <= 1200, "first backoff is 1 s +-20%%: %r" % r[0]
    server.verify(tmp_path / "r429.bin", 3000)


def test_retries_exhausted_fail_as_network(server, siphon, tmp_path):
    url = server.url("/f/sh.bin", size=100000, short=1000)
    res = siphon(["--retries", "1", url], timeout=30)
    assert res.code == 1, res
    assert len(retries(res, 1)) == 1
    fin = res.final(1)
    assert fin["event"] == "failed" and fin["reason"] == "network", fin
    assert not (tmp_path / "sh.bin").exists()


def test_kill9_then_rerun_resumes(server, siphon, siphon_proc, tmp_path):
    size = 4 * MiB
    url = server.url("/f/k9.bin", size=size, seed=16, rate=2 * MiB)
    sp = siphon_proc(["--buffer-size", "16K", url])
    part = tmp_path / "k9.bin.part"
    deadline = time.time() + 15
    while time.time() < deadline:
        if part.exists() and part.stat().st_size >= 512 * 1024:
            break
        time.sleep(0.02)
    else:
        pytest.fail("no .part of 512 KiB within 15 s: %r" % sp.events)
    sp.kill()
    assert sp.code == -9
    have = part.stat().st_size
    assert 0 < have < size
    res = siphon(["--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "k9.bin", size, seed=16)
    assert not part.exists()
    last = server.requests("/f/k9.bin")[-1]
    k = range_start(last)
    assert k is not None and 0 < k <= have, (last["range"], have)
    assert last["if_range"], "resume without If-Range"
    assert last["status"] == 206


def _ini(tmp_path, body):
    p = tmp_path / "list.ini"
    p.write_text(body)
    return p


def test_sha256_right_and_wrong(server, siphon, tmp_path):
    size = 300000
    good = server.sha256(size, 17)
    bad = "0" * 64
    _ini(tmp_path, "[good]\nurl = %s\nsha256 = %s\n\n[bad]\nurl = %s\nsha256 = %s\n" % (
        server.url("/f/good.bin", size=size, seed=17), good,
        server.url("/f/bad.bin", size=size, seed=17), bad))
    res = siphon(["--retries", "0", "list.ini"], timeout=30)
    assert res.code == 1, res
    assert res.final(1)["event"] == "done"
    server.verify(tmp_path / "good.bin", size, seed=17)
    fin = res.final(2)
    assert fin["event"] == "failed" and fin["reason"] == "checksum_mismatch", fin
    assert not (tmp_path / "bad.bin").exists()
    assert not (tmp_path / "bad.bin.part").exists()


def test_sha256_of_resumed_file(server, siphon, tmp_path):
    size = MiB
    _ini(tmp_path, "[res]\nurl = %s\nsha256 = %s\n" % (
        server.url("/f/shres.bin", size=size, seed=18, drop_after=400000, fail_first=1),
        server.sha256(size, 18)))
    res = siphon(["--retries", "1", "--buffer-size", "16K", "list.ini"], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "shres.bin", size, seed=18)
    assert range_start(server.requests("/f/shres.bin")[1])


@pytest.fixture
def shared_dir():
    """A dir an unprivileged user can work in (tests that drop root)."""
    d = Path(tempfile.mkdtemp(prefix="siphon-ro-"))
    os.chmod(d, 0o777)
    yield d
    for p in sorted(d.rglob("*"), reverse=True):
        if p.is_dir():
            os.chmod(p, 0o755)
    for p in sorted(d.rglob("*"), reverse=True):
        p.rmdir() if p.is_dir() else p.unlink()
    d.rmdir()


def test_read_only_dir_mid_run(server, siphon_proc, shared_dir):
    """Run as an ordinary user (root ignores modes): the first item is
    running when its dir turns read-only, the second has not started."""
    out = shared_dir / "out"
    out.mkdir()
    os.chmod(out, 0o777)
    urls = [server.url("/f/ro1.bin", size=600000, rate=400000),
            server.url("/f/ro2.bin", size=1000)]
    sp = siphon_proc(["-j", "1", "--retries", "0", "-d", "out"] + urls, cwd=shared_dir,
                     nobody=True)
    sp.wait_event(lambda e: e["event"] == "progress" and e.get("bytes", 0) > 0, timeout=20)
    os.chmod(out, stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP
             | stat.S_IROTH | stat.S_IXOTH)
    code = sp.wait(timeout=30)
    res = sp.result()
    assert code == 1, res
    for i in (1, 2):
        fin = res.final(i)
        assert fin["event"] == "failed" and fin["reason"] == "disk", fin
        assert fin.get("message"), "the failure says why"
    assert not (out / "ro1.bin").exists() and not (out / "ro2.bin").exists()
    res.summary()


def test_stall_keeps_part_and_rerun_resumes(server, siphon, tmp_path):
    size = MiB
    url = server.url("/f/stp.bin", size=size, seed=19, stall_after=300000, fail_first=1)
    res = siphon(["--retries", "0", "--stall-timeout", "500ms", "--buffer-size", "16K", url],
                 timeout=30)
    assert res.code == 1, res
    assert res.final(1)["reason"] == "stall"
    part = tmp_path / "stp.bin.part"
    assert part.exists(), "a timed-out item keeps its .part"
    data = part.read_bytes()
    assert 0 < len(data) <= 300000
    assert data == server.expected_bytes(len(data), seed=19)
    res = siphon(["--buffer-size", "16K", url], timeout=30)
    assert res.code == 0, res
    server.verify(tmp_path / "stp.bin", size, seed=19)
    k = range_start(server.requests("/f/stp.bin")[-1])
    assert k == len(data), (k, len(data))


@pytest.mark.parametrize("code,retried", [(408, True), (500, True), (502, True),
                                          (403, False), (410, False)])
def test_which_statuses_are_retried(server, siphon, tmp_path, code, retried):
    url = server.url("/f/st%d.bin" % code, size=1000, status=code, fail_first=1,
                     retry_after=0 if retried else 1)
    res = siphon(["--retries", "1", url], timeout=30)
    if retried:
        assert res.code == 0, res
        r = retries(res, 1)
        assert len(r) == 1 and r[0]["reason"] == "http_%d" % code, r
    else:
        assert res.code == 1, res
        assert retries(res, 1) == []
        assert res.final(1)["reason"] == "http_%d" % code
        assert len(server.requests("/f/st%d.bin" % code)) == 1


def test_refused_is_retried_then_network(siphon, tmp_path, closed_port):
    res = siphon(["--retries", "1", "http://127.0.0.1:%d/f/x.bin" % closed_port], timeout=30)
    assert res.code == 1, res
    assert len(retries(res, 1)) == 1
    fin = res.final(1)
    assert fin["event"] == "failed" and fin["reason"] == "network", fin


def test_connect_timeout_is_retried_with_reason_connect(blackhole, siphon, tmp_path):
    res = siphon(["--retries", "1", "--connect-timeout", "500ms",
                  "http://127.0.0.1:%d/f/bh.bin" % blackhole], timeout=30)
    assert res.code == 1, res
    r = retries(res, 1)
    assert len(r) == 1 and r[0]["reason"] == "connect", r
    fin = res.final(1)
    assert fin["event"] == "timed_out" and fin["reason"] == "connect", fin


def test_whole_item_timeout_counts_retry_waits(server, siphon, tmp_path):
    url = server.url("/f/wt.bin", size=1000, status=503, retry_after=3)
    t = time.time()
    res = siphon(["--retries", "5", "--timeout", "2s", url], timeout=30)
    took = time.time() - t
    assert res.code == 1, res
    fin = res.final(1)
    assert fin["event"] == "timed_out" and fin["reason"] == "total", fin
    assert took < 3.5, "the wait between attempts did not count (%.1fs)" % took
