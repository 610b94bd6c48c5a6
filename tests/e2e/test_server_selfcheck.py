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
