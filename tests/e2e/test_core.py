"""The core engine end to end: the real siphon binary (--headless --json)
against the local test server.  Assertions follow SPEC.md's events, file
rules and exit codes."""

import os
import re
import signal
import time
from pathlib import Path

import pytest

ASAN = os.environ.get("SIPHON_ASAN") == "1"
MiB = 1024 * 1024


def assert_order(res, item_id, final="done"):
    """queued, start, (progress...), FINAL -- and nothing else for the item."""
    kinds = res.kinds(item_id)
    seq = " ".join(kinds)
    assert re.fullmatch(r"queued start( progress)* %s" % final, seq), \
        "item %d events: %s\n%r" % (item_id, seq, res)


def files_in(d):
    """Every file and dir below d, as paths relative to d."""
    return sorted(str(p.relative_to(d)) for p in Path(d).rglob("*"))


# -- every byte right -------------------------------------------------------

@pytest.mark.parametrize("size,extra", [
    (0, {}),
    (1, {}),
    (65521, {}),
    (65536, {}),
    (1000003, {}),
    (300000, {"chunked": 1}),
    (0, {"chunked": 1}),
])
def test_every_byte_right(server, siphon, tmp_path, size, extra):
    name = "b%d%s.bin" % (size, "c" if extra else "")
    url = server.url("/f/" + name, size=size, seed=size % 97 + 2, **extra)
    res = siphon([url])
    assert res.code == 0, res
    assert_order(res, 1)
    done = res.final(1)
    assert done["path"] == name
    assert done["bytes"] == size
    assert done["http"] == 200
    server.verify(tmp_path / name, size, seed=size % 97 + 2)
    assert files_in(tmp_path) == [name], "only the final file is left"
    s = res.summary()
    assert (s["done"], s["failed"], s["timed_out"], s["cancelled"], s["skipped"]) == \
        (1, 0, 0, 0, 0)


def test_several_files_into_dir(server, siphon, tmp_path):
    sizes = [10, 70000, 131072, 131073, 2 * MiB + 5]
    urls = [server.url("/f/m%d.dat" % i, size=s, seed=i + 20) for i, s in enumerate(sizes)]
    res = siphon(["-j", "3", "-d", "out"] + urls)
    assert res.code == 0, res
    for i, s in enumerate(sizes):
        assert_order(res, i + 1)
        d = res.final(i + 1)
        assert d["path"] == "out/m%d.dat" % i
        assert d["bytes"] == s
        server.verify(tmp_path / "out" / ("m%d.dat" % i), s, seed=i + 20)
    assert not list((tmp_path / "out").glob("*.part"))
    s = res.summary()
    assert s["done"] == len(sizes)
    assert s["bytes"] >= sum(sizes)


def test_one_gib_peak_rss(server, siphon_proc, tmp_path):
    each = 64 * MiB if ASAN else 256 * MiB
    urls = [server.url("/f/big%d.bin" % i, size=each, seed=30 + i) for i in range(4)]
    sp = siphon_proc(["-j", "4", "--buffer-size", "128K"] + urls, sample=True)
    code = sp.wait(timeout=180)
    res = sp.result()
    assert code == 0, res
    try:
        for i in range(4):
            assert res.final(i + 1)["event"] == "done"
            server.verify(tmp_path / ("big%d.bin" % i), each, seed=30 + i)
    finally:
        for i in range(4):
            p = tmp_path / ("big%d.bin" % i)
            if p.exists():
                p.unlink()
    peak = sp.peak_rss_kb()
    print("peak RSS (VmHWM) %d KiB" % peak)
    assert peak > 0, "VmHWM was never read while siphon ran"
    if not ASAN:
        assert peak < 48 * 1024, "peak RSS %d KiB >= 48 MiB" % peak


def test_per_host_limit_and_reuse(server, siphon, tmp_path):
    urls = [server.url("/f/s%03d.bin" % i, size=3000, seed=i) for i in range(100)]
    (tmp_path / "list.txt").write_text("\n".join(urls) + "\n")
    res = siphon(["-j", "8", "--per-host", "4", "list.txt"], timeout=90)
    assert res.code == 0, res
    for i in range(100):
        assert res.final(i + 1)["event"] == "done"
        server.verify(tmp_path / ("s%03d.bin" % i), 3000, seed=i)
    st = server.wait_open(0)
    most = server.max_overlap()
    print("connections opened %d, most open at once %d (raw max_open %d)"
          % (st["connections_opened"], most, st["max_open"]))
    assert most <= 4, "server saw %d connections at once" % most
    assert st["connections_opened"] <= 16, \
        "%d connections for 100 files: not reused" % st["connections_opened"]
    assert len(server.requests("/f/s")) == 100


# -- timeouts -----------------------------------------------------------------

def test_stall_timeout(server, siphon, tmp_path):
    url = server.url("/f/stall.bin", size=500000, stall_after=1000)
    t = time.time()
    res = siphon(["--stall-timeout", "700ms", "--retries", "0", url], timeout=30)
    took = time.time() - t
    assert res.code == 1, res
    assert_order(res, 1, final="timed_out")
    assert res.final(1)["reason"] == "stall"
    assert 0.7 <= took < 10, took
    assert not (tmp_path / "stall.bin").exists()
    s = res.summary()
    assert s["timed_out"] == 1 and s["done"] == 0
    assert server.wait_open(0)["open_now"] == 0


def test_slow_steady_transfer_is_not_a_stall(server, siphon, tmp_path):
    url = server.url("/f/steady.bin", size=150000, rate=100000)
    res = siphon(["--stall-timeout", "500ms", "--retries", "0", url], timeout=30)
    assert res.code == 0, res
    assert res.final(1)["event"] == "done"
    server.verify(tmp_path / "steady.bin", 150000)


def test_connect_timeout(blackhole, siphon, tmp_path):
    url = "http://127.0.0.1:%d/f/never.bin" % blackhole
    t = time.time()
    res = siphon(["--connect-timeout", "1s", "--retries", "0", url], timeout=30)
    took = time.time() - t
    assert res.code == 1, res
    assert_order(res, 1, final="timed_out")
    assert res.final(1)["reason"] == "connect"
    assert 0.9 <= took < 10, took
    assert not (tmp_path / "never.bin").exists()


def test_whole_item_timeout(server, siphon, tmp_path):
    url = server.url("/f/total.bin", size=2 * MiB, rate=200000)
    t = time.time()
    res = siphon(["--timeout", "1500ms", "--stall-timeout", "10s", "--retries", "0", url],
                 timeout=30)
    took = time.time() - t
    assert res.code == 1, res
    assert_order(res, 1, final="timed_out")
    assert res.final(1)["reason"] == "total"
    assert 1.4 <= took < 8, took
    assert not (tmp_path / "total.bin").exists()


def test_whole_item_timeout_not_counted_while_queued(server, siphon, tmp_path):
    # each item runs ~1 s; the second waits ~1 s in the queue first
    urls = [server.url("/f/q%d.bin" % i, size=100000, rate=100000) for i in range(2)]
    res = siphon(["-j", "1", "--timeout", "1800ms", "--retries", "0"] + urls, timeout=30)
    assert res.code == 0, res
    assert res.final(1)["event"] == "done"
    assert res.final(2)["event"] == "done"


# -- failures -------------------------------------------------------------------

def test_404_fails_and_leaves_nothing(server, siphon, tmp_path):
    url = server.url("/f/missing.bin", status=404)
    res = siphon([url])
    assert res.code == 1, res
    assert_order(res, 1, final="failed")
    assert res.final(1)["reason"] == "http_404"
    assert files_in(tmp_path) == []
    s = res.summary()
    assert s["failed"] == 1 and s["done"] == 0


@pytest.mark.parametrize("mode", ["short", "drop_after"])
def test_short_or_dropped_body_is_never_done(server, siphon, tmp_path, mode):
    url = server.url("/f/%s.bin" % mode, size=200000, **{mode: 50000})
    res = siphon(["--retries", "0", url])
    assert res.code == 1, res
    assert_order(res, 1, final="failed")
    fin = res.final(1)
    assert fin["reason"] == "network", fin
    assert not (tmp_path / ("%s.bin" % mode)).exists()
    assert not any(e["event"] == "done" for e in res.events)


def test_many_failures_leak_no_fds_or_connections(server, siphon_proc, tmp_path, closed_port):
    """200 items that fail or time out; measured between two identical
    moments (one slow item running, -j 1): before them and after them."""
    kinds = ["404", "500", "short", "drop", "stall", "refused"]
    urls = [server.url("/f/anchor1.bin", size=300000, rate=200000)]
    for i in range(200):
        k = kinds[i % len(kinds)] if i < 180 else ["404", "short"][i % 2]
        n = "/f/x%03d-%s.bin" % (i, k)
        if k in ("404", "500"):
            urls.append(server.url(n, status=int(k)))
        elif k == "short":
            urls.append(server.url(n, size=20000, short=5000))
        elif k == "drop":
            urls.append(server.url(n, size=20000, drop_after=5000))
        elif k == "stall":
            urls.append(server.url(n, size=20000, stall_after=100))
        else:
            urls.append("http://127.0.0.1:%d%s" % (closed_port, n))
    urls.append(server.url("/f/anchor2.bin", size=900000, rate=200000))
    (tmp_path / "list.txt").write_text("\n".join(urls) + "\n")
    sp = siphon_proc(["-j", "1", "--retries", "0", "--stall-timeout", "300ms",
                      "--conn-idle", "1s", "list.txt"])

    sp.wait_event(lambda e: e["event"] == "start" and e["id"] == 1, timeout=20)
    time.sleep(0.7)
    fds_a = sp.fd_count()
    targets_a = sorted(sp.fd_targets())
    sp.wait_event(lambda e: e["event"] == "start" and e["id"] == 202, timeout=120)
    assert sp.count(lambda e: e["event"] in ("failed", "timed_out")) == 200
    time.sleep(2.5)
    fds_b = sp.fd_count()
    targets_b = sorted(sp.fd_targets())
    open_b = server.stats()["open_now"]
    code = sp.wait(timeout=60)
    res = sp.result()
    assert code == 1, res
    assert fds_a is not None and fds_b is not None
    print("fds with one item running: before %d, after 200 failures %d; server open %d"
          % (fds_a, fds_b, open_b))
    assert fds_b <= fds_a, "fds grew from %d to %d:\nbefore %s\nafter %s" % (
        fds_a, fds_b, targets_a, targets_b)
    assert open_b == 1, "server sees %d connections open while one item runs" % open_b
    s = res.summary()
    assert (s["done"], s["failed"] + s["timed_out"]) == (2, 200), s
    st = server.wait_open(0)
    assert st["open_now"] == 0 and st["pending_now"] == 0, "connections left open"


# -- names ----------------------------------------------------------------------

HOSTILE = [
    'attachment; filename="../../evil1"',
    'attachment; filename="/tmp/evil2"',
    'attachment; filename=".bashrc"',
    "attachment; filename*=UTF-8''..%2F..%2Fevil3",
    'attachment; filename="sub/dir/evil4"',
    'attachment; filename="evil\x01\x1b[31m5\x7f"',
    'attachment; filename=".."',
    'attachment; filename="..\\\\..\\\\evil6"',
    'inline; filename="...hidden"',
    "attachment; filename*=UTF-8''%2Eprofile",
]


def test_hostile_names_stay_inside_dir(server, siphon, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    urls = [server.url("/f/h%02d.bin" % i, size=1000 + i, seed=40 + i, cd=cd)
            for i, cd in enumerate(HOSTILE)]
    urls.append(server.url("/f/..%2F..%2Fevil8", size=77))
    urls.append(server.url("/f/.profile", size=78))
    urls.append(server.url("/f/%2e%2e", size=79))
    res = siphon(["-d", "out"] + urls, cwd=work)
    assert res.code in (0, 1), res
    out = work / "out"
    for p in tmp_path.rglob("*"):
        rel = p.relative_to(tmp_path)
        if p.is_dir():
            assert rel.parts in (("work",), ("work", "out")), "made dir %s" % rel
            continue
        assert p.parent == out, "file outside the output dir: %s" % rel
        assert not p.name.startswith("."), "dotfile %r" % p.name
        assert not any(ord(c) < 32 or ord(c) == 127 for c in p.name), "control char %r" % p.name
    for name in ("evil1", "evil3", "evil6", "evil8"):
        for d in (tmp_path, tmp_path.parent, Path("/tmp")):
            assert not (d / name).exists(), "%s written outside" % (d / name)
    assert not Path("/tmp/evil2").exists()
    for i in range(len(urls)):
        fin = res.final(i + 1)
        if fin["event"] == "done":
            p = (work / fin["path"]).resolve()
            assert p.parent == out.resolve(), fin
            assert p.is_file()
    assert sum(1 for i in range(len(urls)) if res.final(i + 1)["event"] == "done") >= 8


# -- signals --------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_download_keeps_part(server, siphon_proc, tmp_path, sig):
    size = 3 * MiB
    url = server.url("/f/sig.bin", size=size, seed=5, rate=500000)
    sp = siphon_proc(["--buffer-size", "16K", url])
    sp.wait_event(lambda e: e["event"] == "progress" and e.get("bytes", 0) > 100000,
                  timeout=20)
    sp.signal(sig)
    code = sp.wait(timeout=10)
    res = sp.result()
    assert code == 130, res
    assert not (tmp_path / "sig.bin").exists(), "a final file after an interrupt"
    part = tmp_path / "sig.bin.part"
    assert part.exists(), files_in(tmp_path)
    data = part.read_bytes()
    assert 0 < len(data) < size
    assert data == server.expected_bytes(len(data), seed=5), ".part is not a clean prefix"
    assert not any(e["event"] in ("done", "failed", "timed_out", "cancelled")
                   for e in res.events), "unfinished item got a final event"
    res.summary()


# -- existing files, redirects, credentials ----------------------------------------

def test_existing_file_is_skipped_unless_overwrite(server, siphon, tmp_path):
    (tmp_path / "have.bin").write_bytes(b"old contents")
    url = server.url("/f/have.bin", size=4000, seed=9)
    res = siphon([url])
    assert res.code == 0, res
    fin = res.final(1)
    assert fin["event"] == "skipped" and fin["reason"] == "exists", fin
    assert (tmp_path / "have.bin").read_bytes() == b"old contents"
    assert res.summary()["skipped"] == 1
    res = siphon(["--overwrite", url])
    assert res.code == 0, res
    assert res.final(1)["event"] == "done"
    server.verify(tmp_path / "have.bin", 4000, seed=9)
    assert files_in(tmp_path) == ["have.bin"]


def test_redirects_followed_name_from_original(server, siphon, tmp_path):
    target = server.url("/f/target.bin", size=5000, seed=4)
    urls = [server.url("/f/orig.bin", redirect_to=target),
            server.url("/f/hops.bin", size=6000, seed=6, redirect=10)]
    res = siphon(urls)
    assert res.code == 0, res
    assert res.final(1)["path"] == "orig.bin"
    server.verify(tmp_path / "orig.bin", 5000, seed=4)
    assert not (tmp_path / "target.bin").exists()
    assert res.final(2)["event"] == "done"
    server.verify(tmp_path / "hops.bin", 6000, seed=6)


@pytest.mark.parametrize("params", [{"redirect_loop": 1}, {"redirect": 11}])
def test_redirect_loop_fails(server, siphon, tmp_path, params):
    res = siphon([server.url("/f/loop.bin", **params)], timeout=30)
    assert res.code == 1, res
    fin = res.final(1)
    assert fin["event"] == "failed" and fin["reason"] == "too_many_redirects", fin
    assert files_in(tmp_path) == []
    assert len(server.requests("/f/loop.bin")) <= 11


def _auth_headers(req):
    return [v for k, v in req["headers"] if k.lower() in ("authorization", "cookie")]


def test_credentials_not_sent_to_another_host(server, siphon, tmp_path):
    other = server.url("/f/cred-other.bin", host="localhost", size=3000, seed=8)
    urls = [server.url("/f/cred.bin", redirect_to=other),
            server.url("/f/same.bin", size=3000, seed=8, redirect=1)]
    res = siphon(["--header", "Authorization: Bearer x", "--header", "Cookie: k=v",
                  "--header", "X-Test: 1"] + urls)
    assert res.code == 0, res
    server.verify(tmp_path / "cred.bin", 3000, seed=8)
    first = server.requests("/f/cred.bin")
    assert len(first) == 1 and sorted(_auth_headers(first[0])) == ["Bearer x", "k=v"]
    moved = server.requests("/f/cred-other.bin")
    assert moved and all(r["host"].startswith("localhost:") for r in moved)
    assert all(_auth_headers(r) == [] for r in moved), moved
    same = server.requests("/f/same.bin")
    assert len(same) == 2
    assert all("Bearer x" in _auth_headers(r) for r in same), \
        "a same-host redirect keeps the credentials"


def test_credentials_not_sent_to_another_port(server, second_server, siphon, tmp_path):
    other = second_server.url("/f/port2.bin", size=2000, seed=3)
    res = siphon(["--header", "Authorization: Bearer y",
                  server.url("/f/port.bin", redirect_to=other)])
    assert res.code == 0, res
    server.verify(tmp_path / "port.bin", 2000, seed=3)
    moved = second_server.requests("/f/port2.bin")
    assert moved and all(_auth_headers(r) == [] for r in moved), moved


# -- events -----------------------------------------------------------------------

def test_progress_rate_for_slow_item(server, siphon_proc, tmp_path):
    size = 300000
    sp = siphon_proc([server.url("/f/slow.bin", size=size, rate=100000)])
    code = sp.wait(timeout=30)
    res = sp.result()
    assert code == 0, res
    assert_order(res, 1)
    idx = [i for i, e in enumerate(sp.events) if e.get("id") == 1]
    times = [sp.event_times[i] for i in idx]
    evs = [sp.events[i] for i in idx]
    start = times[evs.index(next(e for e in evs if e["event"] == "start"))]
    end = times[-1]
    dur = end - start
    assert dur >= 2.5, "a 3 s item took %.2fs" % dur
    prog = [(t, e) for t, e in zip(times, evs) if e["event"] == "progress"]
    assert len(prog) <= 4 * dur + 1, "%d progress events in %.1fs" % (len(prog), dur)
    stamps = [start] + [t for t, _ in prog] + [end]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert max(gaps) <= 1.3, "no progress for %.2fs" % max(gaps)
    last = 0
    for _, e in prog:
        assert e["total"] == size
        assert last <= e["bytes"] <= size
        assert isinstance(e["speed"], (int, float))
        # one connection, receiving once bytes flow (a slow body)
        assert e["connections"] in (0, 1), e
        if e["bytes"] > 0:
            assert e["connections"] == 1, e
        last = e["bytes"]
    # at most 4 in any one-second window
    pt = [t for t, _ in prog]
    for i in range(len(pt)):
        assert sum(1 for t in pt[i:] if t < pt[i] + 1.0) <= 4 + 1, \
            "burst of progress events"


def test_progress_total_null_when_unknown(server, siphon_proc, tmp_path):
    sp = siphon_proc([server.url("/f/unk.bin", size=200000, rate=100000, chunked=1)])
    code = sp.wait(timeout=30)
    res = sp.result()
    assert code == 0, res
    prog = [e for e in res.of(1) if e["event"] == "progress"]
    assert prog and all(e["total"] is None for e in prog), prog[:3]
    server.verify(tmp_path / "unk.bin", 200000)


def test_event_fields_and_summary(server, siphon, tmp_path):
    (tmp_path / "skip.bin").write_bytes(b"x")
    urls = [server.url("/f/ok1.bin", size=1234),
            server.url("/f/gone.bin", status=404),
            server.url("/f/skip.bin", size=10),
            server.url("/f/ok2.bin", size=4321)]
    res = siphon(["--retries", "0"] + urls)
    assert res.code == 1, res
    queued = [e for e in res.events if e["event"] == "queued"]
    assert [e["id"] for e in queued] == [1, 2, 3, 4]
    assert [e["url"] for e in queued] == urls
    assert all(isinstance(e["name"], str) and e["name"] for e in queued)
    st = [e for e in res.events if e["event"] == "start"]
    assert all(e["attempt"] == 1 for e in st)
    d1 = res.final(1)
    assert d1["event"] == "done" and d1["bytes"] == 1234 and d1["http"] == 200
    assert isinstance(d1["seconds"], (int, float)) and d1["seconds"] >= 0
    assert res.final(2)["reason"] == "http_404"
    assert isinstance(res.final(2)["message"], str)
    assert (res.final(3)["event"], res.final(3)["reason"]) == ("skipped", "exists")
    assert res.final(4)["event"] == "done"
    s = res.summary()
    assert (s["done"], s["failed"], s["timed_out"], s["cancelled"], s["skipped"]) == \
        (2, 1, 0, 0, 1)
    assert 1234 + 4321 <= s["bytes"] <= 1234 + 4321 + 4096
    assert isinstance(s["seconds"], (int, float))


# -- pool settings ----------------------------------------------------------------

def test_max_connections_across_hosts(server, siphon, tmp_path):
    urls = []
    for i in range(24):
        host = "127.0.0.1" if i % 2 else "localhost"
        urls.append(server.url("/f/mc%02d.bin" % i, host=host, size=200000, seed=i,
                               rate=1000000))
    res = siphon(["-j", "8", "--per-host", "4", "--max-connections", "3"] + urls, timeout=60)
    assert res.code == 0, res
    for i in range(24):
        server.verify(tmp_path / ("mc%02d.bin" % i), 200000, seed=i)
    st = server.wait_open(0)
    most = server.max_overlap()
    print("max open %d (raw %d), opened %d" % (most, st["max_open"], st["connections_opened"]))
    assert most <= 3, "%d connections at once with --max-connections 3" % most
    assert server.max_overlap(host="localhost") <= 3


def test_conn_idle_closes_idle_connection(server, siphon, tmp_path):
    # the quick item's connection goes idle; the slow one (other host) keeps
    # siphon running well past conn_idle
    urls = [server.url("/f/idle-quick.bin", size=1000),
            server.url("/f/idle-slow.bin", host="localhost", size=400000, rate=100000)]
    res = siphon(["--conn-idle", "1s"] + urls, timeout=30)
    assert res.code == 0, res
    server.wait_open(0)
    quick = server.requests("/f/idle-quick.bin")[0]
    slow = server.requests("/f/idle-slow.bin")[0]
    conns = {c["id"]: c for c in server.stats()["connections"]}
    c = conns[quick["conn"]]
    assert c["closed"] is not None
    assert c["closed"] < slow["t_last_write"] - 0.5, "idle connection kept until the end"
    idle = c["closed"] - quick["t_last_write"]
    assert 0.9 <= idle <= 2.5, "closed %.2fs after going idle (conn_idle 1s)" % idle


@pytest.mark.parametrize("lifetime,most", [("1s", None), ("10m", 1)])
def test_conn_lifetime(server, siphon, tmp_path, lifetime, most):
    # 10 items of ~0.35 s one after another: ~3.5 s on one keep-alive
    # connection unless its lifetime ends it (libcurl counts whole seconds)
    urls = [server.url("/f/lt%d.bin" % i, size=40000, seed=i, rate=100000) for i in range(10)]
    res = siphon(["-j", "1", "--conn-lifetime", lifetime] + urls, timeout=30)
    assert res.code == 0, res
    opened = server.stats()["connections_opened"]
    if most is None:
        assert opened >= 2, "a connection older than conn_lifetime was reused"
    else:
        assert opened <= most, "%d connections; keep-alive not reused" % opened
