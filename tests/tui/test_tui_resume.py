"""Pause holds no socket (issue 5): an item paused for longer than
--conn-idle leaves the server with no connection from siphon, and on resume
continues with a validated Range request to a byte-exact file."""

import time

from conftest import SLOW, row_bytes, verify_file


def test_pause_longer_than_conn_idle_holds_no_socket_and_resumes(server, screen, tmp_path):
    size = 3_000_000
    url = server.url("/f/held.bin", size=size, rate=300_000)
    s = screen(["--conn-idle", "1s", url])
    s.wait_row("held.bin", lambda r: "running" in r and (row_bytes(r) or 0) > 100_000)
    s.keys("p")
    s.wait_row("held.bin", lambda r: "paused" in r)
    # paused for three times conn_idle: the server must see nothing open
    deadline = time.time() + 3.0
    while time.time() < deadline:
        st = server.stats()
        if st["open_now"] + st["pending_now"] == 0:
            break
        time.sleep(0.1)
    assert st["open_now"] + st["pending_now"] == 0, \
        "a paused item still holds %d connection(s)" % st["open_now"]
    time.sleep(2.0)  # stays closed, and the item stays paused
    st = server.stats()
    assert st["open_now"] + st["pending_now"] == 0
    assert "paused" in s.row("held.bin")
    part = tmp_path / "held.bin.part"
    assert part.exists(), "the paused item's .part is kept"
    on_disk = part.stat().st_size
    assert 0 < on_disk < size

    s.keys("p")
    s.wait_row("held.bin", lambda r: " done " in r, timeout=30 * SLOW)
    verify_file(tmp_path / "held.bin", size)
    reqs = server.requests("/f/held.bin")
    assert len(reqs) == 2, "one request before the pause, one after: %r" % reqs
    first, second = reqs
    assert first["range"] is None
    start = int(second["range"].split("=")[1].rstrip("-"))
    # the server counts bytes sent; some were still in flight at the pause
    assert start == on_disk, "resumed from %d, but the .part held %d" % (start, on_disk)
    assert start <= first["body_bytes"]
    assert second["if_range"], "the resume is guarded by If-Range"
    assert second["status"] == 206
    assert first["conn"] != second["conn"], "the paused connection was closed, not reused"
    assert not (tmp_path / "held.bin.part").exists()
    assert not (tmp_path / "held.bin.part.meta").exists()
