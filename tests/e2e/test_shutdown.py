"""Shutdown keeps every transfer resumable (issue 5): SIGINT or SIGTERM with
several transfers running writes their buffered bytes and sidecars, keeps
every .part, and a rerun of the same command finishes all of them with
validated Range requests, byte-exact."""

import signal
import time

import pytest

MiB = 1 << 20


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_then_rerun_finishes_every_item(server, siphon, siphon_proc, tmp_path, sig):
    size = 3 * MiB
    urls = [server.url("/f/sd%d.bin" % i, size=size, seed=40 + i, rate=MiB) for i in range(3)]
    sp = siphon_proc(["-j", "3", "--buffer-size", "64K"] + urls)
    parts = [tmp_path / ("sd%d.bin.part" % i) for i in range(3)]
    deadline = time.time() + 15
    while time.time() < deadline:
        if all(p.exists() and p.stat().st_size >= 256 * 1024 for p in parts):
            break
        time.sleep(0.05)
    else:
        pytest.fail("the three transfers did not get going: %r" % sp.events[-5:])
    sp.signal(sig)
    assert sp.wait(timeout=10) == 130
    had = []
    for i, p in enumerate(parts):
        assert p.exists(), "interrupted .part %d was not kept" % i
        assert (tmp_path / ("sd%d.bin.part.meta" % i)).exists(), "no sidecar for %d" % i
        data = p.read_bytes()
        assert 0 < len(data) < size
        assert data == server.expected_bytes(len(data), seed=40 + i), ".part %d is not a clean prefix" % i
        had.append(len(data))

    res = siphon(["-j", "3", "--buffer-size", "64K"] + urls, timeout=40)
    assert res.code == 0, res
    for i in range(3):
        server.verify(tmp_path / ("sd%d.bin" % i), size, seed=40 + i)
        assert not parts[i].exists()
        last = server.requests("/f/sd%d.bin" % i)[-1]
        start = int(last["range"].split("=")[1].rstrip("-"))
        assert start == had[i], "item %d resumed at %d, .part held %d" % (i, start, had[i])
        assert last["if_range"] and last["status"] == 206
