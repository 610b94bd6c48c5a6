"""Speed limits (SPEC.md "Speed limits"): the run's --max-speed and an
item's max_speed, measured from the progress events as they arrive.

Over any 5-second window after the first second the average rate must stay
within 10 % of the limit (above always; below too, since the test server
is far faster).  Rates are bytes/s in powers of 1024 (2M = 2 MiB/s)."""

import pytest

MiB = 1 << 20
KiB = 1 << 10
WINDOW = 5.0


def timeline(proc, item):
    """[(arrival time, bytes)] of an item's progress events, then its done."""
    out = []
    for ev, t in zip(proc.events, proc.event_times):
        if ev.get("id") != item:
            continue
        if ev["event"] == "progress":
            out.append((t, ev["bytes"]))
        elif ev["event"] == "done":
            out.append((t, ev["bytes"]))
    return out


def start_time(proc, item):
    return next(t for ev, t in zip(proc.events, proc.event_times)
                if ev.get("id") == item and ev["event"] == "start")


def done_time(proc, item):
    return next(t for ev, t in zip(proc.events, proc.event_times)
                if ev.get("id") == item and ev["event"] == "done")


def bytes_at(tl, t):
    """Bytes of a timeline at time t (the last report at or before t)."""
    b = 0
    for tt, bb in tl:
        if tt > t:
            break
        b = bb
    return b


def windows(points, t_from, t_to):
    """Average rates over every window of about WINDOW seconds between
    reports inside [t_from, t_to]: [(t0, t1, rate)]."""
    pts = [(t, b) for t, b in points if t_from <= t <= t_to]
    out = []
    for i, (t0, b0) in enumerate(pts):
        for t1, b1 in pts[i + 1:]:
            if t1 - t0 >= WINDOW:
                out.append((t0, t1, (b1 - b0) / (t1 - t0)))
                break
    return out


def assert_rate(wins, limit, what, below=True):
    assert wins, "no %.0f s window to measure %s" % (WINDOW, what)
    for t0, t1, r in wins:
        assert r <= 1.10 * limit, "%s: %.0f B/s over %.1f s, limit %d" % (what, r, t1 - t0, limit)
        if below:
            assert r >= 0.90 * limit, "%s: %.0f B/s over %.1f s, limit %d" % (
                what, r, t1 - t0, limit)


def test_one_item_at_1m(server, siphon_proc, tmp_path):
    size = 8 * MiB
    p = siphon_proc(["--max-speed", "1M", server.url("/f/one.bin", size=size)])
    assert p.wait(40) == 0, p.stderr
    tl = timeline(p, 1)
    t0 = start_time(p, 1)
    assert_rate(windows(tl, t0 + 1.0, done_time(p, 1)), MiB, "one item")
    elapsed = done_time(p, 1) - t0
    assert 0.9 * size / MiB <= elapsed <= 1.15 * size / MiB, elapsed
    server.verify(tmp_path / "one.bin", size)


def test_four_items_share_the_run_limit(server, siphon_proc, tmp_path):
    size = 4 * MiB
    urls = [server.url("/f/q%d.bin" % i, size=size, seed=i + 2) for i in range(4)]
    p = siphon_proc(["--max-speed", "2M", "-j", "4"] + urls)
    assert p.wait(40) == 0, p.stderr
    tls = [timeline(p, i) for i in range(1, 5)]
    times = sorted(t for tl in tls for t, _ in tl)
    agg = [(t, sum(bytes_at(tl, t) for tl in tls)) for t in times]
    t0 = min(start_time(p, i) for i in range(1, 5))
    first_done = min(done_time(p, i) for i in range(1, 5))
    assert_rate(windows(agg, t0 + 1.0, first_done), 2 * MiB, "four items together")
    # fair: nobody starves; equal files finish close together
    for i, tl in enumerate(tls, 1):
        assert bytes_at(tl, first_done) >= 0.75 * size, \
            "item %d had %d of %d bytes when the first finished" % (i, bytes_at(tl, first_done),
                                                                    size)
    for i in range(4):
        server.verify(tmp_path / ("q%d.bin" % i), size, seed=i + 2)


def test_item_limit_beside_the_run_limit(server, siphon_proc, tmp_path):
    (tmp_path / "l.ini").write_text(
        "[settings]\nmax_speed = 2M\n"
        "[capped]\nurl = %s\nmax_speed = 512K\n"
        "[free]\nurl = %s\n" % (server.url("/f/capped.bin", size=4 * MiB),
                                 server.url("/f/free.bin", size=12 * MiB, seed=3)))
    p = siphon_proc(["l.ini"])
    assert p.wait(60) == 0, p.stderr
    capped, free = timeline(p, 1), timeline(p, 2)
    t0 = max(start_time(p, 1), start_time(p, 2))
    both_end = min(done_time(p, 1), done_time(p, 2))
    assert_rate(windows(capped, t0 + 1.0, done_time(p, 1)), 512 * KiB, "capped item")
    times = sorted(t for t, _ in capped + free)
    agg = [(t, bytes_at(capped, t) + bytes_at(free, t)) for t in times]
    assert_rate(windows(agg, t0 + 1.0, both_end), 2 * MiB, "the run")
    server.verify(tmp_path / "capped.bin", 4 * MiB)
    server.verify(tmp_path / "free.bin", 12 * MiB, seed=3)


def test_twelve_items_each_keep_their_own_limit(server, siphon_proc, tmp_path):
    # each limited item's state is in the engine's table of limited items
    # (found by the item): twelve make it grow past its first size, and
    # every item still holds its own limit, not a neighbour's
    limits = [192 * KiB if i % 2 else 320 * KiB for i in range(12)]
    sizes = [8 * lim for lim in limits]  # 8 s each
    text = "".join("[i%d]\nurl = %s\nmax_speed = %dK\n"
                   % (i, server.url("/f/i%d.bin" % i, size=sizes[i], seed=i + 5),
                      limits[i] // KiB)
                   for i in range(12))
    (tmp_path / "l.ini").write_text(text)
    p = siphon_proc(["-j", "12", "l.ini"])
    assert p.wait(60) == 0, p.stderr
    for i in range(12):
        tl = timeline(p, i + 1)
        assert_rate(windows(tl, start_time(p, i + 1) + 1.0, done_time(p, i + 1)), limits[i],
                    "item %d" % i)
        server.verify(tmp_path / ("i%d.bin" % i), sizes[i], seed=i + 5)


def test_a_low_limit_never_times_out_for_stall(server, siphon, tmp_path):
    size = 96 * KiB
    res = siphon(["--max-speed", "16K", "--stall-timeout", "1s", "--retries", "0",
                  server.url("/f/trickle.bin", size=size)], timeout=40)
    assert res.code == 0, res
    assert res.final(1)["event"] == "done"
    assert "retry" not in res.kinds(1) and "timed_out" not in res.kinds(1)
    assert res.final(1)["seconds"] >= 0.8 * size / (16 * KiB), res.final(1)
    server.verify(tmp_path / "trickle.bin", size)


def test_bad_max_speed_is_a_usage_error(siphon):
    res = siphon(["--max-speed", "fast", "http://127.0.0.1:1/x"])
    assert res.code == 2 and "--max-speed" in res.stderr, res
