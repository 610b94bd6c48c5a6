"""The test server itself, checked with urllib and raw sockets, so the
harness is proven independently of siphon."""

import http.client
import socket
import time

import pytest



def get(server, path, headers=None, **params):
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    u = server.url(path, **params)[len(server.base()):]
    c.request("GET", u, headers=headers or {})
    r = c.getresponse()
    return c, r


def test_content_is_deterministic_and_ranges_agree(server, tmp_path):
    c, r = get(server, "/f/a", size=200000, seed=7)
    body = r.read()
    assert r.status == 200
    assert body == server.expected_bytes(200000, seed=7)
    assert r.getheader("Accept-Ranges") == "bytes"
    etag = r.getheader("ETag")
    assert etag.startswith('"')
    (tmp_path / "a").write_bytes(body)
    server.verify(tmp_path / "a", 200000, seed=7)
    # a different seed gives different bytes
    assert server.expected_bytes(1000, seed=8) != server.expected_bytes(1000, seed=7)
    # keep-alive: the same connection serves a Range request
    c.request("GET", "/f/a?size=200000&seed=7",
              headers={"Range": "bytes=65530-131100", "If-Range": etag})
    r = c.getresponse()
    assert r.status == 206
    assert r.getheader("Content-Range") == "bytes 65530-131100/200000"
    assert r.read() == server.expected_bytes(200000, seed=7)[65530:131101]
    reqs = server.requests("/f/a")
    assert len(reqs) == 2 and reqs[0]["conn"] == reqs[1]["conn"]
    assert reqs[1]["range"] == "bytes=65530-131100"
    assert reqs[1]["if_range"] == etag
    assert server.stats()["connections_opened"] == 1


def test_if_range_mismatch_and_416(server):
    _, r = get(server, "/f/b", {"Range": "bytes=10-", "If-Range": '"nope"'}, size=100)
    assert r.status == 200 and len(r.read()) == 100
    _, r = get(server, "/f/b", {"Range": "bytes=100-"}, size=100)
    assert r.status == 416
    assert r.getheader("Content-Range") == "bytes */100"
    _, r = get(server, "/f/b", {"Range": "bytes=10-"}, size=100, no_range=1)
    assert r.status == 200 and len(r.read()) == 100


def test_etag_change_and_fail_first_status(server):
    _, r1 = get(server, "/f/c", etag_change=1)
    _, r2 = get(server, "/f/c", etag_change=1)
    assert r1.getheader("ETag") != r2.getheader("ETag")
    _, r = get(server, "/f/d", status=503, retry_after=2, fail_first=1)
    assert r.status == 503 and r.getheader("Retry-After") == "2"
    r.read()
    _, r = get(server, "/f/d", status=503, retry_after=2, fail_first=1)
    assert r.status == 200


def test_short_and_drop_and_stall(server):
    _, r = get(server, "/f/e", size=10000, short=500)
    with pytest.raises(http.client.IncompleteRead):
        r.read()
    _, r = get(server, "/f/g", size=1000000, drop_after=100000)
    with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
        r.read()
    c, r = get(server, "/f/h", size=10000, stall_after=100)
    c.sock.settimeout(0.5)
    with pytest.raises((socket.timeout, TimeoutError)):
        r.read()
    c.close()
    st = server.wait_open(0)
    assert st["open_now"] == 0, "the stalled connection is seen closed"
    rec = server.requests("/f/h")[0]
    assert rec["body_bytes"] == 100


def test_chunked_redirect_and_disposition(server):
    _, r = get(server, "/f/k", size=150000, seed=3, chunked=1)
    assert r.getheader("Transfer-Encoding") == "chunked"
    assert r.getheader("Content-Length") is None
    assert r.read() == server.expected_bytes(150000, seed=3)
    _, r = get(server, "/f/r", redirect=2)
    assert r.status == 302
    assert "redirect=1" in r.getheader("Location")
    _, r = get(server, "/f/l", redirect_loop=1)
    assert r.status == 302
    _, r = get(server, "/f/x", cd='attachment; filename="../../etc/x"')
    assert r.getheader("Content-Disposition") == 'attachment; filename="../../etc/x"'


def test_rate_is_paced(server):
    t = time.time()
    _, r = get(server, "/f/slow", size=100000, rate=100000)
    assert len(r.read()) == 100000
    assert 0.8 < time.time() - t < 3


def test_sha256_helper(server):
    import hashlib
    assert server.sha256(300000, 5) == \
        hashlib.sha256(server.expected_bytes(300000, seed=5)).hexdigest()


def test_rate_is_per_connection(server):
    """Four connections each fetching a quarter at `rate` take about the
    time of one quarter: the limit is per connection, not per resource."""
    import threading
    size, rate = 400000, 200000
    quarter = size // 4
    got = {}

    def leg(i):
        c, r = get(server, "/f/pc", {"Range": "bytes=%d-%d" % (i * quarter, (i + 1) * quarter - 1)},
                   size=size, rate=rate)
        got[i] = (r.status, r.read())
        c.close()

    t = time.time()
    threads = [threading.Thread(target=leg, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(10)
    took = time.time() - t
    whole = server.expected_bytes(size)
    for i in range(4):
        assert got[i][0] == 206
        assert got[i][1] == whole[i * quarter:(i + 1) * quarter]
    # one quarter at 200000 B/s is 0.5 s; the whole at one rate would be 2 s
    assert 0.4 < took < 1.6, took
    reqs = server.requests("/f/pc")
    assert sorted(r["content_range"] for r in reqs) == \
        ["bytes %d-%d/%d" % (i * quarter, (i + 1) * quarter - 1, size) for i in range(4)]
    assert len({r["conn"] for r in reqs}) == 4


def test_fault_n_and_range_faults(server):
    q = dict(size=100000, key="rf", fault_n="2", range_fault="200")
    _, r = get(server, "/f/rf", {"Range": "bytes=10-"}, **q)
    assert r.status == 206 and r.getheader("Content-Range") == "bytes 10-99999/100000"
    r.read()
    # only the 2nd request of the key is faulty: a Range ignored
    _, r = get(server, "/f/rf", {"Range": "bytes=10-"}, **q)
    assert r.status == 200 and len(r.read()) == 100000
    _, r = get(server, "/f/rf", {"Range": "bytes=10-"}, **q)
    assert r.status == 206
    r.read()
    # shift: another range, said truthfully
    q = dict(size=100000, key="sh", range_fault="shift")
    _, r = get(server, "/f/sh", {"Range": "bytes=1000-49999"}, **q)
    assert r.status == 206
    assert r.getheader("Content-Range") == "bytes 5096-49999/100000"
    assert r.read() == server.expected_bytes(100000)[5096:50000]
    rec = server.requests("/f/sh")[0]
    assert rec["range"] == "bytes=1000-49999"
    assert rec["content_range"] == "bytes 5096-49999/100000"
    # fault_n with a drop: only the named request drops
    q = dict(size=300000, key="dr", fault_n="1", drop_after=1000)
    _, r = get(server, "/f/dr", **q)
    with pytest.raises((http.client.IncompleteRead, ConnectionResetError)):
        r.read()
    _, r = get(server, "/f/dr", **q)
    assert r.status == 200 and len(r.read()) == 300000


def test_etag_change_after(server):
    q = dict(size=5000, key="ec", etag_change_after=1)
    _, r = get(server, "/f/ec", **q)
    etag = r.getheader("ETag")
    r.read()
    _, r = get(server, "/f/ec", {"Range": "bytes=100-", "If-Range": etag}, **q)
    assert r.status == 200 and r.getheader("ETag") != etag
    assert len(r.read()) == 5000
    assert server.requests("/f/ec")[1]["if_range"] == etag
