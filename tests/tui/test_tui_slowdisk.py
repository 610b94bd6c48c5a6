"""The screen on a deliberately slow disk: every pwritev to one item's file
is held up by strace (-P PATH, -e inject=...:delay_enter) while its writes
are in flight.  The keys still answer at once (SPEC: within 200 ms; the
bound here adds the tmux round trip), the other item still completes, and
quitting keeps the slow item's .part.  Cancelling the slow item answers at
once too: its write is still held up, the disk side removes the .part when
it returns, and the other transfer keeps its speed meanwhile."""
import shutil
import subprocess
import time

import pytest

from conftest import SLOW, row_bytes

MiB = 1024 * 1024
DELAY_US = 1000000
KEY_BOUND_S = 0.6 * SLOW  # 200 ms for siphon + capture-pane polling every 100 ms


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


def timed(s, key, pred, what):
    t0 = time.time()
    s.keys(key)
    s.wait(pred, timeout=10, what=what)
    return time.time() - t0


def test_keys_answer_while_a_write_hangs(server, screen, tmp_path):
    (tmp_path / "slow").mkdir()
    (tmp_path / "fast").mkdir()
    lst = tmp_path / "l.ini"
    lst.write_text("[slow.bin]\nurl = %s\ndir = slow\n\n[fast.bin]\nurl = %s\ndir = fast\n"
                   % (server.url("/f/slow.bin", size=64 * MiB, seed=3),
                      server.url("/f/fast.bin", size=8 * MiB, seed=4, rate=4 * MiB)))
    part = tmp_path / "slow" / "slow.bin.part"
    wrap = ["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
            "-e", "trace=pwritev,pwrite64", "-P", str(part),
            "-e", "inject=pwritev,pwrite64:delay_enter=%d" % DELAY_US, "--"]
    s = screen(["--stall-timeout", "1s", "-j", "2", str(lst)], wrap=wrap,
               env={"ASAN_OPTIONS": "detect_leaks=0"})
    # the slow item has taken what its memory allows and waits on its disk
    s.wait_row("slow.bin", lambda r: "running" in r and "MiB/" in r, timeout=20)
    time.sleep(0.5)

    took = timed(s, "p", lambda t: "paused" in (s.row("slow.bin", t) or ""), "slow.bin paused")
    print("p answered in %.3fs" % took)
    assert took < KEY_BOUND_S, "p took %.2fs with a write in flight" % took
    s.wait_row("fast.bin", lambda r: " done " in r, timeout=30)

    took = timed(s, "q", lambda t: "(y/n)" in t, "the quit question")
    print("q answered in %.3fs" % took)
    assert took < KEY_BOUND_S, "q took %.2fs with a write in flight" % took
    s.keys("y")
    assert s.wait_exit(timeout=60) == 130
    server.verify(tmp_path / "fast" / "fast.bin", 8 * MiB, seed=4)
    assert part.exists() and part.stat().st_size > 0, "quit must keep the slow .part"


def test_cancel_answers_while_a_write_hangs(server, screen, tmp_path):
    (tmp_path / "slow").mkdir()
    (tmp_path / "fast").mkdir()
    rate = 2 * MiB
    lst = tmp_path / "l.ini"
    lst.write_text("[slow.bin]\nurl = %s\ndir = slow\n\n[fast.bin]\nurl = %s\ndir = fast\n"
                   "segments = 1\n"
                   % (server.url("/f/slow.bin", size=64 * MiB, seed=3),
                      server.url("/f/fast.bin", size=24 * MiB, seed=4, rate=rate)))
    part = tmp_path / "slow" / "slow.bin.part"
    # every write of the slow .part, and every look at it or removal of it,
    # waits a second: the engine thread must do none of them
    wrap = ["strace", "-f", "--seccomp-bpf", "-qq", "-o", "/dev/null",
            "-e", "trace=pwritev,pwrite64,unlink,unlinkat,newfstatat,lstat", "-P", str(part),
            "-e", "inject=pwritev,pwrite64,unlink,unlinkat,newfstatat,lstat:delay_enter=%d"
            % DELAY_US, "--"]
    s = screen(["--stall-timeout", "1s", "-j", "2", str(lst)], wrap=wrap,
               env={"ASAN_OPTIONS": "detect_leaks=0"})
    # the slow item has taken what its memory allows and waits on its disk
    s.wait_row("slow.bin", lambda r: "running" in r and "MiB/" in r, timeout=20)
    time.sleep(0.5)
    assert part.exists()

    s.keys("c")
    s.wait_text("(y/n)")
    t0 = time.time()
    fast0 = row_bytes(s.row("fast.bin"))
    took = timed(s, "y", lambda t: "cancelled" in (s.row("slow.bin", t) or ""),
                 "slow.bin cancelled")
    print("c answered in %.3fs" % took)
    assert took < KEY_BOUND_S, "c took %.2fs with a write in flight" % took

    # the fast item keeps its speed while the slow one's files are tidied
    # (a write returning, a look at the .part and its removal: seconds)
    time.sleep(3)
    row = s.row("fast.bin")
    fast1 = row_bytes(row) if " done " not in row else 24 * MiB
    got = (fast1 - fast0) / (time.time() - t0)
    print("fast.bin: %.2f MiB/s after the cancel (%r)" % (got / MiB, row))
    assert got > rate / 2 / SLOW, "fast.bin slowed to %.0f B/s: %r" % (got, row)

    # the disk side removes the cancelled .part once its write returns
    deadline = time.time() + 20 * SLOW
    while part.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not part.exists(), "cancel left its .part"
    assert not (tmp_path / "slow" / "slow.bin.part.meta").exists()

    s.wait_row("fast.bin", lambda r: " done " in r, timeout=30)
    s.keys("q")  # nothing unfinished: no question
    assert s.wait_exit(timeout=30) == 1  # SPEC: a cancelled item makes it 1
    server.verify(tmp_path / "fast" / "fast.bin", 24 * MiB, seed=4)
