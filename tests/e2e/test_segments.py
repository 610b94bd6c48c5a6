"""Segmented downloads (issue 11): one file over several connections, each
with its own Range + If-Range, into one .part; faults on one leg refetch
only that leg's range; the sidecar's missing ranges make a rerun fetch only
those.  Real binary, local test server (per-connection `rate`)."""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

MiB = 1024 * 1024


def span(req):
    """(start, end_exclusive) of a request's 'bytes=a-b' Range, or None."""
    m = re.fullmatch(r"bytes=(\d+)-(\d+)", req["range"] or "")
    return (int(m.group(1)), int(m.group(2)) + 1) if m else None


def read_missing(meta):
    """The sidecar's missing ranges as [(start, end_exclusive)]."""
    for line in meta.read_text().splitlines():
        if line.startswith("missing "):
            out = []
            for part in line[len("missing "):].split(","):
                if part:
                    a, b = part.split("-")
                    out.append((int(a), int(b) + 1))
            return out
    return None


def test_four_legs_beat_a_per_connection_limit(server, siphon, tmp_path):
    size = 16 * MiB
    url = server.url("/f/seg4.bin", size=size, seed=41, rate=MiB)
    t = time.time()
    res = siphon(["-s", "4", url], timeout=40)
    took = time.time() - t
    assert res.code == 0, res
    assert res.final(1)["event"] == "done"
    server.verify(tmp_path / "seg4.bin", size, seed=41)
    # four connections at 1 MiB/s each: about 4 s, where one takes 16
    assert took < 7, "took %.1fs" % took
    reqs = server.requests("/f/seg4.bin")
    assert len(reqs) == 4, [(r["range"], r["status"]) for r in reqs]
    assert len({r["conn"] for r in reqs}) == 4
    first, extra = reqs[0], reqs[1:]
    assert first["range"] is None, "the first request learns size and validator"
    etag = '"s41-n%d"' % size
    for r in extra:
        assert span(r), r["range"]
        assert r["if_range"] == etag, r
        assert r["status"] == 206
        assert r["content_range"] == "bytes %d-%d/%d" % (span(r)[0], span(r)[1] - 1, size)
    # leg 0 keeps the head; the other three ranges tile the rest exactly
    spans = sorted(span(r) for r in extra)
    assert spans[0][0] == first["body_bytes"] or spans[0][0] <= first["body_bytes"] + MiB
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:])), spans
    assert spans[-1][1] == size
    # bytes sent: the file, plus what leg 0's server had in flight when it closed
    assert sum(r["body_bytes"] for r in reqs) <= size + 2 * MiB
    progress = [e for e in res.of(1) if e["event"] == "progress"]
    assert max(e["connections"] for e in progress) == 4, progress
    assert not (tmp_path / "seg4.bin.part.meta").exists()


def one_connection(server, siphon, tmp_path, name, size, args=(), **q):
    url = server.url("/f/" + name, size=size, seed=42, **q)
    res = siphon(["-s", "4", *args, url], timeout=40)
    assert res.code == 0, res
    server.verify(tmp_path / name, size, seed=42)
    reqs = server.requests("/f/" + name)
    assert len(reqs) == 1, [(r["range"], r["status"]) for r in reqs]
    assert reqs[0]["range"] is None
    progress = [e for e in res.of(1) if e["event"] == "progress"]
    assert all(e["connections"] <= 1 for e in progress), progress


def test_no_range_support_means_one_connection(server, siphon, tmp_path):
    one_connection(server, siphon, tmp_path, "nr.bin", 16 * MiB, no_range=1)


def test_no_validator_means_one_connection(server, siphon, tmp_path):
    one_connection(server, siphon, tmp_path, "nv.bin", 16 * MiB, no_etag=1)


def test_file_under_two_min_segments_means_one_connection(server, siphon, tmp_path):
    one_connection(server, siphon, tmp_path, "small.bin", 8 * MiB - 1)


@pytest.mark.parametrize("limit", [["--per-host", "1"], ["--max-connections", "1"]])
def test_no_room_for_a_second_connection_means_no_split(server, siphon, tmp_path, limit):
    # one request for the whole file, not its ranges one after the other
    one_connection(server, siphon, tmp_path, "solo.bin", 16 * MiB, args=limit)


def leg_fault(server, siphon, tmp_path, name, extra_args=(), **fault):
    """16 MiB over four legs; the second request (the first extra leg) gets
    the fault.  The file must be right, that leg's range fetched again, and
    no other range restarted."""
    size = 16 * MiB
    url = server.url("/f/" + name, size=size, seed=43, rate=2 * MiB, key=name,
                     fault_n=2, **fault)
    res = siphon(["-s", "4", "--retries", "3"] + list(extra_args) + [url], timeout=60)
    assert res.code == 0, res
    assert res.final(1)["event"] == "done"
    server.verify(tmp_path / name, size, seed=43)
    reqs = server.requests("/f/" + name)
    bad = reqs[1]
    bad_span = span(bad)
    assert bad_span, bad
    later = [span(r) for r in reqs[2:] if span(r)]
    # some later request covers the rest of the faulty range
    assert any(bad_span[0] <= s[0] < bad_span[1] for s in later), (bad_span, later)
    # nothing restarts from zero, and no good range is asked for twice
    assert all(r["range"] is not None for r in reqs[1:]), [r["range"] for r in reqs]
    good = sorted(s for s in later if not (bad_span[0] <= s[0] < bad_span[1]))
    for a, b in zip(good, good[1:]):
        assert a[1] <= b[0], "ranges overlap: %r" % good
    # bytes sent: the file once, plus the faulty answer and leg closes in flight
    assert sum(r["body_bytes"] for r in reqs) <= size + bad["body_bytes"] + 4 * MiB
    return res, reqs


def test_leg_answered_200_is_dropped_and_refetched(server, siphon, tmp_path):
    _, reqs = leg_fault(server, siphon, tmp_path, "l200.bin", range_fault="200")
    assert reqs[1]["status"] == 200


def test_leg_with_wrong_content_range_is_dropped(server, siphon, tmp_path):
    _, reqs = leg_fault(server, siphon, tmp_path, "lshift.bin", range_fault="shift")
    assert reqs[1]["status"] == 206
    assert reqs[1]["content_range"] != "bytes %d-%d/%d" % (
        span(reqs[1])[0], span(reqs[1])[1] - 1, 16 * MiB)


def test_leg_drop_is_retried_from_where_it_stopped(server, siphon, tmp_path):
    res, reqs = leg_fault(server, siphon, tmp_path, "ldrop.bin", drop_after=300000)
    assert any(e["event"] == "retry" for e in res.of(1)), res.of(1)


def test_leg_stall_is_retried(server, siphon, tmp_path):
    res, reqs = leg_fault(server, siphon, tmp_path, "lstall.bin",
                          extra_args=["--stall-timeout", "2s"], stall_after=300000, hold=20)
    retries = [e for e in res.of(1) if e["event"] == "retry"]
    assert retries and retries[0]["reason"] == "stall", res.of(1)


def test_etag_change_between_legs_restarts_from_zero(server, siphon, tmp_path):
    size = 16 * MiB
    # the first two requests see one ETag, every later one another
    url = server.url("/f/ec.bin", size=size, seed=44, rate=4 * MiB, key="ec.bin",
                     etag_change_after=2)
    res = siphon(["-s", "4", url], timeout=60)
    assert res.code == 0, res
    server.verify(tmp_path / "ec.bin", size, seed=44)
    reqs = server.requests("/f/ec.bin")
    changed = [i for i, r in enumerate(reqs) if r["status"] == 200 and r["range"]]
    assert changed, "an If-Range with the old ETag got a 200"
    # after the change the file starts over from zero with the new ETag
    restart = [r for r in reqs[changed[0] + 1:] if r["range"] is None]
    assert restart, [(r["range"], r["if_range"], r["status"]) for r in reqs]
    new = '"s44-n%d-changed"' % size
    for r in reqs[reqs.index(restart[0]) + 1:]:
        if r["range"]:
            assert r["if_range"] == new, r


def test_kill_9_then_rerun_fetches_only_missing_ranges(server, siphon, siphon_proc, tmp_path):
    size = 16 * MiB
    rate = MiB // 2
    url = server.url("/f/k9.bin", size=size, seed=45, rate=rate)
    p = siphon_proc(["-s", "4", url], cwd=tmp_path)
    p.wait_event(lambda e: e["event"] == "progress" and e["bytes"] >= 7 * MiB, timeout=30)
    time.sleep(0.3)
    p.kill()
    part, meta = tmp_path / "k9.bin.part", tmp_path / "k9.bin.part.meta"
    assert part.exists() and meta.exists()
    missing = read_missing(meta)
    assert missing is not None, meta.read_text()
    sent1 = sum(r["body_bytes"] for r in server.requests("/f/k9.bin"))
    lost = sum(b - a for a, b in missing) - (size - sent1)
    # the sidecar is at most about a second behind: four legs at rate
    assert lost <= 4 * rate + 4 * MiB // 4, (lost, missing)
    server.reset()
    res = siphon(["-s", "4", url], timeout=40)  # the same URL: the sidecar is for it
    assert res.code == 0, res
    server.verify(tmp_path / "k9.bin", size, seed=45)
    reqs = server.requests("/f/k9.bin")
    assert reqs, "the rerun asked for something"
    got = 0
    for r in reqs:
        s = span(r)
        assert s, "every rerun request asks for a range: %r" % r["range"]
        assert r["if_range"] == '"s45-n%d"' % size
        assert any(a <= s[0] and s[1] <= b for a, b in missing), (s, missing)
        got += s[1] - s[0]
    # only the missing ranges: each of them once, nothing already on disk
    assert got == sum(b - a for a, b in missing), (got, missing)
    assert not meta.exists()


def test_extra_legs_never_delay_queued_items(server, siphon_proc, tmp_path):
    size = 16 * MiB
    urls = [server.url("/f/q%d.bin" % i, size=size, seed=50 + i, rate=2 * MiB)
            for i in range(4)]
    p = siphon_proc(["-j", "2", "--per-host", "4", "-s", "4"] + urls, cwd=tmp_path)
    assert p.wait(timeout=90) == 0, p.stderr
    ev = {}
    for e, t in zip(p.events, p.event_times):
        if e["event"] in ("start", "done"):
            ev.setdefault((e["event"], e["id"]), t)
    # a queued item starts within about a second of a -j slot freeing
    done_times = sorted(ev[("done", i)] for i in (1, 2))
    assert ev[("start", 3)] - done_times[0] < 1.5, ev
    assert ev[("start", 4)] - done_times[1] < 1.5, ev
    for i in range(4):
        server.verify(tmp_path / ("q%d.bin" % i), size, seed=50 + i)
    # A leg that has its whole range closes its connection mid-body; the
    # paced server notices the close only at its next send (it sends every
    # 1/20 s), so its records show the close up to ~0.1 s late.
    assert server.max_overlap(slack=0.15) <= 4, "per_host 4 holds with extra legs"
    # and the running items did use extra legs
    conns = [e["connections"] for e in p.events if e["event"] == "progress"]
    assert max(conns) >= 2, conns


def test_sha256_is_checked_over_the_whole_segmented_file(server, siphon, tmp_path):
    size = 16 * MiB
    good = server.url("/f/shaok.bin", size=size, seed=46, rate=4 * MiB)
    bad = server.url("/f/shabad.bin", size=size, seed=47, rate=4 * MiB)
    (tmp_path / "l.ini").write_text(
        "[settings]\nsegments = 4\n"
        "[ok]\nurl = %s\nsha256 = %s\n"
        "[bad]\nurl = %s\nsha256 = %s\n" % (good, server.sha256(size, seed=46),
                                            bad, server.sha256(size, seed=46)))
    res = siphon(["l.ini"], timeout=60)
    assert res.code == 1, res
    assert res.final(1)["event"] == "done"
    server.verify(tmp_path / "shaok.bin", size, seed=46)
    assert res.final(2)["event"] == "failed"
    assert res.final(2)["reason"] == "checksum_mismatch"
    assert not (tmp_path / "shabad.bin").exists()
    assert not (tmp_path / "shabad.bin.part").exists()
    # both came over several connections
    for name in ("shaok.bin", "shabad.bin"):
        assert len(server.requests("/f/" + name)) >= 2


def test_sigterm_keeps_missing_ranges_then_rerun_completes(server, siphon, siphon_proc,
                                                           tmp_path):
    import signal
    size = 16 * MiB
    url = server.url("/f/term.bin", size=size, seed=48, rate=MiB)
    p = siphon_proc(["-s", "4", url], cwd=tmp_path)
    p.wait_event(lambda e: e["event"] == "progress" and e["bytes"] >= 4 * MiB, timeout=30)
    p.signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 130
    missing = read_missing(tmp_path / "term.bin.part.meta")
    assert missing, "the sidecar lists what is missing"
    # written on the way out: what the server sent is on disk, but for what
    # was still in flight on the sockets
    sent = sum(r["body_bytes"] for r in server.requests("/f/term.bin"))
    assert sum(b - a for a, b in missing) <= size - sent + 4 * 256 * 1024, missing
    server.reset()
    res = siphon(["-s", "4", url], timeout=40)
    assert res.code == 0, res
    server.verify(tmp_path / "term.bin", size, seed=48)
    got = sum(span(r)[1] - span(r)[0] for r in server.requests("/f/term.bin"))
    assert got == sum(b - a for a, b in missing)


def test_many_segmented_items_share_the_write_behind(server, siphon, tmp_path):
    """Eight files over eight legs each with 1 MiB buffers want more buffers
    than the write-behind lends: legs wait for the disk and go on, none is
    left waiting for another, every file is right."""
    size = 24 * MiB
    urls = [server.url("/f/wb%d.bin" % i, size=size, seed=80 + i) for i in range(8)]
    res = siphon(["-j", "8", "--per-host", "64", "-s", "8", "--min-segment", "1M",
                  "--buffer-size", "1M"] + urls, timeout=90)
    assert res.code == 0, res
    for i in range(8):
        server.verify(tmp_path / ("wb%d.bin" % i), size, seed=80 + i)
    assert len(server.requests("/f/wb")) > 16, "the items were split"


def test_a_full_tmpfs_fails_at_the_split_not_when_full(server, tmp_path):
    """A split file is checked against the free space before its first
    write (on tmpfs by statfs, as fallocate there would zero every page
    first): 64 MiB onto a 24 MiB tmpfs fails with "disk" at the start, long
    before 24 MiB have come.  The tmpfs lives in a private mount namespace
    of the run (unshare), so nothing outside sees it."""
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) for a private tmpfs")
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "true"],
                           capture_output=True, timeout=10)
    if probe.returncode != 0:
        pytest.skip("no mount namespace here: %r" % probe.stderr[-200:])
    size = 64 * MiB
    url = server.url("/f/full.bin", size=size, seed=44, rate=MiB)
    small = tmp_path / "small"
    small.mkdir()
    b = os.environ.get("SIPHON_BIN") or str(Path(__file__).resolve().parents[2] / "build" / "siphon")
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount -t tmpfs -o size=24m siphon-test "$1" && shift && exec "$@"', "sh", str(small),
            b, "--headless", "--json", "--no-config", "-s", "4", "-d", str(small),
            "--log", str(tmp_path / "log"), url]
    asan = os.environ.get("SIPHON_ASAN") == "1"
    p = subprocess.run(argv, cwd=str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=60 * (3 if asan else 1))
    err = p.stderr.decode(errors="replace")
    assert p.returncode == 1, err[-1500:]
    events = [json.loads(x) for x in p.stdout.decode().splitlines() if x.strip()]
    final = [e for e in events if e.get("id") == 1 and e["event"] in ("done", "failed")]
    assert len(final) == 1 and final[0]["event"] == "failed", events[-5:]
    assert final[0]["reason"] == "disk", final[0]
    assert "No space left on device" in final[0]["message"], final[0]
    assert " split: " in (tmp_path / "log").read_text(), "the file was split"
    reqs = server.requests("/f/full.bin")
    # four legs at 1 MiB/s: the tmpfs would be full after 24 MiB (6 s);
    # the check comes with the split's first write job
    sent = sum(r["body_bytes"] for r in reqs)
    assert sent < 16 * MiB, "the server sent %d bytes before the failure" % sent
