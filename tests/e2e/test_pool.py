"""The connection pool as the server sees it.  (The idle sweep and the
connection lifetime are tested in test_core.py.)"""

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


def test_connections_reused_when_not_idle_long(server, siphon, tmp_path):
    """Sequential items on one host reuse one connection (concurrency 1)."""
    urls = [server.url("/f/s%d.bin" % i, size=2000) for i in range(10)]
    res = siphon(["-j", "1"] + urls)
    assert res.code == 0, res
    conns = {r["conn"] for r in server.stats()["requests"] if "/f/s" in r["path"]}
    assert len(conns) == 1, "expected one reused connection, saw %d" % len(conns)
