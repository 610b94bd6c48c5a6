"""Segmented downloads on the screen (issue 11): the row shows the
connection count, the detail pane a one-line map of the file and each
connection; pause frees every socket of the item, and the resume fetches
only what is missing, each range with If-Range."""

import re
import time

from conftest import SLOW, pool_figures, verify_file

MiB = 1024 * 1024


def test_row_count_segment_bar_and_legs(server, screen, tmp_path):
    size = 16 * MiB
    url = server.url("/f/segtui.bin", size=size, seed=61, rate=MiB)
    s = screen(["-s", "4", url])
    row = s.wait_row("segtui.bin", lambda r: "\u00d74" in r, what="four connections on the row")
    assert "running" in row
    s.keys("Enter")
    text = s.wait(lambda t: t if "leg 4" in t and re.search(r"segments\s+\S*\u2588", t)
                  else None, what="the segment bar")
    bar = next(line for line in text.split("\n") if "segments" in line)
    cells = bar.split("segments", 1)[1].strip()
    # received parts filled, missing ones not: four legs filling from four starts
    assert "\u2588" in cells and "\u2591" in cells, bar
    legs = [line for line in text.split("\n") if re.search(r"\bleg [1-4]\b", line)]
    assert len(legs) == 4, text
    assert all("receiving" in line or "connecting" in line for line in legs), legs
    # the pool view counts the item's four connections against its host
    figs = s.wait(lambda t: (pool_figures(t) or (0, 0))[1] >= 4 and pool_figures(t),
                  what="four connections in use in the pool view")
    assert figs[1] >= 4
    s.keys("q")
    s.keys("y")
    s.wait_exit()


def test_pause_frees_every_socket_and_resume_fetches_the_rest(server, screen, tmp_path):
    size = 16 * MiB
    url = server.url("/f/segpause.bin", size=size, seed=62, rate=MiB)
    s = screen(["-s", "4", url])
    s.wait_row("segpause.bin", lambda r: "\u00d74" in r, what="four connections")
    time.sleep(1.0)
    s.keys("p")
    s.wait_row("segpause.bin", lambda r: "paused" in r)
    deadline = time.time() + 3.0 * SLOW
    while time.time() < deadline:
        st = server.stats()
        if st["open_now"] + st["pending_now"] == 0:
            break
        time.sleep(0.1)
    assert st["open_now"] + st["pending_now"] == 0, \
        "a paused segmented item still holds %d connection(s)" % st["open_now"]
    meta = (tmp_path / "segpause.bin.part.meta").read_text()
    missing = [tuple(int(v) for v in p.split("-"))
               for line in meta.splitlines() if line.startswith("missing ")
               for p in line[len("missing "):].split(",") if p]
    assert missing, meta
    before = len(server.requests("/f/segpause.bin"))
    s.keys("p")
    s.wait_row("segpause.bin", lambda r: " done " in r, timeout=40)
    verify_file(tmp_path / "segpause.bin", size, seed=62)
    after = server.requests("/f/segpause.bin")[before:]
    assert after, "the resume asked for the rest"
    for r in after:
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", r["range"] or "")
        assert m and r["if_range"], r
        a, b = int(m.group(1)), int(m.group(2))
        assert any(lo <= a and b <= hi for lo, hi in missing), (a, b, missing)
    assert not (tmp_path / "segpause.bin.part.meta").exists()
