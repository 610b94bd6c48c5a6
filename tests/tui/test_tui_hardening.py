"""Issue 10 on the screen.  Signals always work: SIGINT, SIGTERM and
SIGHUP end siphon within 2 s whatever the engine thread is doing (here it
hangs on quit, through the engine's test seam SIPHON_TEST_HANG_ON_QUIT, as
a hung disk would hang it), with the status table and exit 130."""

import os
import signal
import time

import pytest

from conftest import SLOW


def _siphon_pid(s):
    shell = int(s.pane_flag("#{pane_pid}"))
    with open("/proc/%d/task/%d/children" % (shell, shell)) as f:
        kids = [int(k) for k in f.read().split()]
    assert len(kids) == 1, "expected siphon as the shell's only child: %r" % kids
    return kids[0]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_signal_ends_the_screen_even_when_the_engine_hangs(server, screen, tmp_path, sig):
    url = server.url("/f/wd.bin", size=3_000_000, rate=300_000)
    s = screen([url], env={"SIPHON_TEST_HANG_ON_QUIT": "1"})
    s.wait_row("wd.bin", lambda r: "running" in r)
    part = tmp_path / "wd.bin.part"
    deadline = time.time() + 10 * SLOW
    while time.time() < deadline and not (part.exists() and part.stat().st_size > 0):
        time.sleep(0.05)
    assert part.exists(), "the download never reached the disk"
    pid = _siphon_pid(s)
    t0 = time.time()
    os.kill(pid, sig)
    assert s.wait_exit(timeout=10) == 130
    took = time.time() - t0
    assert took < 2.0 * SLOW + 0.3, "took %.1fs to stop" % took  # + the exit file's polling
    assert "wd.bin" in s.text(), "the status table is printed"
    assert (tmp_path / "wd.bin.part").exists()


def test_added_url_never_shares_a_file(server, screen, tmp_path):
    """Issue 10, finding 2 (SPEC "One file, one owner"): a URL added with
    `a` whose file another item of the run writes gets the next free
    stem.N.ext instead of being skipped or sharing a file."""
    first = server.url("/f/same.bin", size=50_000, seed=51)
    s = screen([first])
    s.wait_row("same.bin", lambda r: " done " in r)
    s.keys("a")
    s.wait_text("Add URL:")
    s.literal(server.url("/f/same.bin", size=60_000, seed=52))
    s.keys("Enter")
    s.wait_row("same.1.bin", lambda r: " done " in r)
    assert (tmp_path / "same.bin").read_bytes() == server.expected_bytes(50_000, seed=51)
    assert (tmp_path / "same.1.bin").read_bytes() == server.expected_bytes(60_000, seed=52)
