"""A deliberately slow disk: every pwritev to one file is held up by strace
(-P PATH with -e inject=pwritev:delay_enter), the other item writes to
another directory at full speed.  The engine thread never waits on the disk:
the other transfer keeps its speed, progress keeps coming, and the stall
timeout does not fire for bytes that were received but not yet written."""
import shutil
import subprocess

import pytest

MiB = 1024 * 1024

DELAY_US = 500000


def strace_can_inject():
    if not shutil.which("strace"):
        return False
    try:
        p = subprocess.run(["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
                            "-e", "trace=pwritev", "-e", "inject=pwritev:delay_enter=1",
                            "true"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return p.returncode == 0


pytestmark = pytest.mark.skipif(not strace_can_inject(),
                                reason="needs strace with --seccomp-bpf and inject (ptrace)")


def test_slow_disk_stalls_only_its_own_transfer(server, siphon_proc, tmp_path):
    slow_size, fast_size = 64 * MiB, 32 * MiB
    (tmp_path / "slow").mkdir()
    (tmp_path / "fast").mkdir()
    lst = tmp_path / "l.ini"
    lst.write_text("[slow]\nurl = %s\ndir = slow\n\n[fast]\nurl = %s\ndir = fast\n"
                   % (server.url("/f/slow.bin", size=slow_size, seed=3),
                      server.url("/f/fast.bin", size=fast_size, seed=4)))
    part = tmp_path / "slow" / "slow.bin.part"
    wrap = ["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
            "-e", "trace=pwritev,pwrite64", "-P", str(part),
            "-e", "inject=pwritev,pwrite64:delay_enter=%d" % DELAY_US, "--"]
    # LeakSanitizer cannot run under ptrace (make asan); the rest of ASan can
    sp = siphon_proc(["--stall-timeout", "1s", "--retries", "0", "-j", "2", lst], wrap=wrap,
                     env={"ASAN_OPTIONS": "detect_leaks=0"})
    code = sp.wait(timeout=120)
    res = sp.result()
    assert code == 0, res
    slow, fast = res.final(1), res.final(2)
    assert slow["event"] == "done" and fast["event"] == "done", (slow, fast)
    server.verify(tmp_path / "slow" / "slow.bin", slow_size, seed=3)
    server.verify(tmp_path / "fast" / "fast.bin", fast_size, seed=4)
    # no stall timeout and no retry for bytes held up by the disk
    assert not any(e["event"] in ("retry", "timed_out") for e in res.events), res.events

    # the slow disk was slow: 64 MiB reach it in at least 4 delayed pwritevs
    assert slow["seconds"] >= 4 * DELAY_US / 1e6, slow
    # ... and the other transfer did not wait for it
    assert fast["seconds"] * 2 < slow["seconds"], (fast, slow)
    order = [e["id"] for e in res.events if e["event"] == "done"]
    assert order == [2, 1], "the fast item finished after the slow one: %r" % order

    # the snapshot kept coming while the slow item waited on its disk
    # (progress every 500 ms per running item; a blocked loop leaves a gap)
    times = [t for t, e in zip(sp.event_times, sp.events)
             if e["event"] == "progress" and e["id"] == 1]
    assert len(times) >= 4, res.events
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) < 2.0, "progress stopped for %.1fs" % max(gaps)


def test_slow_metadata_stalls_only_its_own_item(server, siphon_proc, tmp_path):
    """Looking at and making an item's directory (lstat, mkdir, stat,
    access) and its .part is the disk side's job: a directory that answers
    slowly holds up only the item that goes there, never the loop, so the
    other item starts and finishes meanwhile."""
    (tmp_path / "slow").mkdir()
    (tmp_path / "fast").mkdir()
    sub = tmp_path / "slow" / "sub"  # made by siphon, slowly
    lst = tmp_path / "l.ini"
    lst.write_text("[slow]\nurl = %s\ndir = slow/sub\n\n[fast]\nurl = %s\ndir = fast\n"
                   % (server.url("/f/slow.bin", size=1 * MiB, seed=3),
                      server.url("/f/fast.bin", size=2 * MiB, seed=4)))
    calls = "mkdir,mkdirat,newfstatat,lstat,stat,access,faccessat,faccessat2,openat"
    delay_us = 1500000
    wrap = ["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
            "-e", "trace=" + calls, "-P", str(sub), "-P", "slow/sub",
            "-e", "inject=%s:delay_enter=%d" % (calls, delay_us), "--"]
    sp = siphon_proc(["--retries", "0", "-j", "2", lst], wrap=wrap,
                     env={"ASAN_OPTIONS": "detect_leaks=0"})
    code = sp.wait(timeout=120)
    res = sp.result()
    assert code == 0, res
    slow, fast = res.final(1), res.final(2)
    assert slow["event"] == "done" and fast["event"] == "done", (slow, fast)
    server.verify(sub / "slow.bin", 1 * MiB, seed=3)
    server.verify(tmp_path / "fast" / "fast.bin", 2 * MiB, seed=4)

    def when(ev, i):
        return next(t for t, e in zip(sp.event_times, sp.events)
                    if e["event"] == ev and e.get("id") == i)
    # the slow directory was slow: its item started after at least one delay
    assert when("start", 1) - when("queued", 1) >= delay_us / 1e6, res.events
    # ... and the other item did not wait for it: it was done first
    order = [e["id"] for e in res.events if e["event"] == "done"]
    assert order == [2, 1], "the fast item waited for the slow directory: %r" % order
    assert when("start", 2) - when("queued", 2) < delay_us / 1e6, res.events


def test_slow_lookup_of_a_server_given_name_stalls_only_its_own_item(server, siphon_proc,
                                                                     tmp_path):
    """A name the server gives (Content-Disposition) is looked up on disk
    (is NAME or NAME.part there? is that .part this URL's own?) by the disk
    side: while a directory answers slowly, the item it names waits with its
    response held, and the other item keeps its speed."""
    (tmp_path / "slow").mkdir()
    (tmp_path / "fast").mkdir()
    lst = tmp_path / "l.ini"
    cd = 'attachment; filename="named.bin"'
    lst.write_text("[slow]\nurl = %s\ndir = slow\n\n[fast]\nurl = %s\ndir = fast\n"
                   % (server.url("/f/dl", size=1 * MiB, seed=5, cd=cd),
                      server.url("/f/fast.bin", size=2 * MiB, seed=6, rate=2 * MiB)))
    calls = "newfstatat,lstat,stat,statx"
    delay_us = 2000000
    paths = []
    for p in ("slow/named.bin", "slow/named.bin.part"):
        paths += ["-P", p, "-P", str(tmp_path / p)]
    wrap = ["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
            "-e", "trace=" + calls] + paths + [
            "-e", "inject=%s:delay_enter=%d" % (calls, delay_us), "--"]
    sp = siphon_proc(["--retries", "0", "--stall-timeout", "1s", "-j", "2", lst], wrap=wrap,
                     env={"ASAN_OPTIONS": "detect_leaks=0"})
    code = sp.wait(timeout=120)
    res = sp.result()
    assert code == 0, res
    slow, fast = res.final(1), res.final(2)
    assert slow["event"] == "done" and fast["event"] == "done", (slow, fast)
    assert slow["path"] == "slow/named.bin", slow
    server.verify(tmp_path / "slow" / "named.bin", 1 * MiB, seed=5)
    server.verify(tmp_path / "fast" / "fast.bin", 2 * MiB, seed=6)
    # the name was looked up slowly: .part, then the file, each delayed
    assert slow["seconds"] >= 2 * delay_us / 1e6, slow
    # ... while the other transfer went on at its own pace (about 1 s),
    # not frozen behind the lookups, and nothing counted as a stall
    assert fast["seconds"] < 1.5 * delay_us / 1e6, fast
    order = [e["id"] for e in res.events if e["event"] == "done"]
    assert order == [2, 1], order
    assert not any(e["event"] in ("retry", "timed_out") for e in res.events), res.events


def test_five_hung_directories_leave_the_disk_side_free(server, siphon_proc, tmp_path):
    """libuv's pool has 4 threads unless told otherwise; siphon asks for 16,
    so five directories that hang at once (each holding one disk thread)
    do not hold up an item that writes elsewhere."""
    n_slow = 5
    sections = []
    paths = []
    for i in range(n_slow):
        (tmp_path / ("slow%d" % i)).mkdir()
        sub = "slow%d/sub" % i
        paths += ["-P", sub, "-P", str(tmp_path / sub)]
        sections.append("[s%d]\nurl = %s\ndir = %s\n" % (
            i, server.url("/f/s%d.bin" % i, size=64 * 1024, seed=60 + i), sub))
    (tmp_path / "fast").mkdir()
    sections.append("[fast]\nurl = %s\ndir = fast\n"
                    % server.url("/f/fast.bin", size=1 * MiB, seed=70))
    lst = tmp_path / "l.ini"
    lst.write_text("\n".join(sections))
    calls = "mkdir,mkdirat,newfstatat,lstat,stat,access,faccessat,faccessat2,openat"
    delay_us = 3000000
    wrap = ["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
            "-e", "trace=" + calls] + paths + [
            "-e", "inject=%s:delay_enter=%d" % (calls, delay_us), "--"]
    sp = siphon_proc(["--retries", "0", "-j", str(n_slow + 1), lst], wrap=wrap,
                     env={"ASAN_OPTIONS": "detect_leaks=0"})
    code = sp.wait(timeout=120)
    res = sp.result()
    assert code == 0, res
    fast_id = n_slow + 1
    assert all(res.final(i)["event"] == "done" for i in range(1, n_slow + 2)), res.events
    server.verify(tmp_path / "fast" / "fast.bin", 1 * MiB, seed=70)

    def when(ev, i):
        return next(t for t, e in zip(sp.event_times, sp.events)
                    if e["event"] == ev and e.get("id") == i)
    # the hung directories were hung: their items started after the delay
    assert min(when("start", i) - when("queued", i) for i in range(1, n_slow + 1)) \
        >= delay_us / 1e6, res.events
    # ... and the item that writes elsewhere did not queue behind them
    assert when("done", fast_id) - when("queued", fast_id) < delay_us / 1e6, res.events


def test_two_server_given_names_looked_up_at_once_get_two_files(server, siphon_proc,
                                                                tmp_path):
    """Two items the server names alike, both looked up on disk at once
    (the lookup of the name is slow): the disk finds the name free for both,
    the first answer takes it, and the second is checked again against the
    run's names and goes on to stem.1.ext: never one file for two items."""
    cd = 'attachment; filename="same.bin"'
    a = server.url("/f/a", size=300000, seed=81, cd=cd, rate=200000)
    b = server.url("/f/b", size=400000, seed=82, cd=cd, rate=200000)
    calls = "newfstatat,lstat,stat,statx"
    wrap = ["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
            "-e", "trace=" + calls, "-P", "same.bin", "-P", str(tmp_path / "same.bin"),
            "-e", "inject=%s:delay_enter=%d" % (calls, 1000000), "--"]
    sp = siphon_proc(["--retries", "0", "-j", "2", "--log", str(tmp_path / "log.txt"), a, b],
                     wrap=wrap, env={"ASAN_OPTIONS": "detect_leaks=0"})
    code = sp.wait(timeout=60)
    res = sp.result()
    assert code == 0, res
    paths = sorted(res.final(i)["path"] for i in (1, 2))
    assert paths == ["same.1.bin", "same.bin"], paths
    for i, (size, seed) in ((1, (300000, 81)), (2, (400000, 82))):
        server.verify(tmp_path / res.final(i)["path"], size, seed=seed)
    # both lookups were out at once (each waits on the look at NAME, after
    # NAME.part; the bodies are slow, so neither file is complete on disk
    # before the other's look), so one answer met a name the other had
    # taken meanwhile
    assert "taken by another item meanwhile" in (tmp_path / "log.txt").read_text()
