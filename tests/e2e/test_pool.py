"""The connection pool as the server sees it: idle connections closed by
the engine's own timer, concurrency limits, and no socket held by a paused
or finished transfer."""

import time


def wait_for(pred, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def conn_of(server, path_part):
    for r in server.stats()["requests"]:
        if path_part in r["path"]:
            return r["conn"]
    return None


def conn_state(server, cid):
    for c in server.stats()["connections"]:
        if c["id"] == cid:
            return c
    return None


def test_idle_connection_closed_soon_after_conn_idle(server, siphon_proc, tmp_path):
    """A finished transfer's pooled connection is closed about a second after
    --conn-idle passes, although no other transfer starts meanwhile."""
    slow = server.url("/f/slow.bin", size=600000, rate=100000)  # ~6 s
    quick = server.url("/f/quick.bin", size=1000)
    p = siphon_proc(["--conn-idle", "2s", slow, quick])
    cid = wait_for(lambda: conn_of(server, "quick.bin"), 5)
    assert cid is not None, "the quick item never reached the server"
    c = wait_for(lambda: (conn_state(server, cid) or {}).get("closed"), 5)
    assert c, "the idle connection was not closed within 5 s"
    info = conn_state(server, cid)
    quick_req = [r for r in server.stats()["requests"] if "quick.bin" in r["path"]][0]
    idle_for = info["closed"] - quick_req["t_end"]
    assert 1.8 <= idle_for <= 3.6, "closed after %.2fs idle (conn_idle 2s)" % idle_for
    assert p.code is None, "siphon should still be running the slow item"
    p.wait(timeout=20)
    assert p.code == 0, p.result()


def test_connections_reused_when_not_idle_long(server, siphon, tmp_path):
    """Sequential items on one host reuse one connection (concurrency 1)."""
    urls = [server.url("/f/s%d.bin" % i, size=2000) for i in range(10)]
    res = siphon(["-j", "1"] + urls)
    assert res.code == 0, res
    conns = {r["conn"] for r in server.stats()["requests"] if "/f/s" in r["path"]}
    assert len(conns) == 1, "expected one reused connection, saw %d" % len(conns)
