"""Speed limits and secrets on the interactive screen, in tmux: `l` and `L`
change the limits live (the header shows the run's, the detail pane the
item's), and a URL's password never reaches the terminal."""

import os
import re
import sys
import time
from pathlib import Path

import pytest

from conftest import SLOW, row_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
import netfix  # noqa: E402

MiB = 1 << 20


def limit_shown(text):
    m = re.search(r"limit ([\d.]+) (B|KiB|MiB|GiB)/s", text.split("\n")[0])
    if not m:
        return None
    return float(m.group(1)) * {"B": 1, "KiB": 1 << 10, "MiB": MiB, "GiB": 1 << 30}[m.group(2)]


def rate_between(s, name, t_from, t_to):
    """Bytes/s of the item's row between two moments (seconds from now)."""
    time.sleep(t_from)
    a = row_bytes(s.row(name))
    t0 = time.time()
    time.sleep(t_to - t_from)
    b = row_bytes(s.row(name))
    return (b - a) / (time.time() - t0)


def test_l_and_L_change_limits_live(server, screen, tmp_path):
    s = screen(["--max-speed", "256K", server.url("/f/live.bin", size=200 * MiB)])
    s.wait_row("live.bin", lambda r: "running" in r and (row_bytes(r) or 0) > 0)
    assert s.wait(lambda t: limit_shown(t), what="the run's limit in the header") == 256 * 1024
    slow_rate = rate_between(s, "live.bin", 0.5, 2.5)
    assert slow_rate < 0.5 * MiB, slow_rate

    s.keys("l")
    s.wait_text("Limit of the whole run")
    s.literal("4M")
    s.keys("Enter")
    assert s.wait(lambda t: limit_shown(t) == 4 * MiB, what="limit 4 MiB/s in the header")
    # in effect within a second: the next 1.5 s run at the new limit
    fast_rate = rate_between(s, "live.bin", 1.0, 2.5)
    assert fast_rate >= 3.0 * MiB, "%.0f B/s after l 4M" % fast_rate
    assert fast_rate <= 4.6 * MiB, "%.0f B/s after l 4M" % fast_rate

    # L: the item's own limit, shown in the detail pane
    s.keys("L")
    s.wait_text("Limit of 'live.bin'")
    s.literal("512K")
    s.keys("Enter")
    s.keys("Enter")
    s.wait(lambda t: re.search(r"limit\s+512(\.0)? KiB/s", t), what="the item's limit in the pane")
    item_rate = rate_between(s, "live.bin", 1.0, 3.0)
    assert 0.3 * MiB <= item_rate <= 0.7 * MiB, "%.0f B/s after L 512K" % item_rate

    # 0 = none; a bad value is a note, not a change
    s.keys("l")
    s.wait_text("Limit of the whole run")
    s.literal("lots")
    s.keys("Enter")
    s.wait_text("not a speed")
    s.keys("l")
    s.wait_text("Limit of the whole run")
    s.literal("0")
    s.keys("Enter")
    s.wait(lambda t: limit_shown(t) is None and "no limit" in t, what="no run limit")


def test_L_limits_only_the_selected_item(server, screen, tmp_path):
    """Items of one list share one block of resolved settings: an item's own
    limit (L) stays that item's and never reaches its neighbours."""
    s = screen([server.url("/f/one.bin", size=200 * MiB, rate=2 * MiB),
                server.url("/f/two.bin", size=200 * MiB, rate=2 * MiB)])
    for name in ("one.bin", "two.bin"):
        s.wait_row(name, lambda r: "running" in r)
    s.keys("Enter")
    s.wait(lambda t: re.search(r"one\.bin\s*\n", t) and re.search(r"limit\s+none", t),
           what="the pane of one.bin, no limit")
    s.keys("L")
    s.wait_text("Limit of 'one.bin'")
    s.literal("512K")
    s.keys("Enter")
    s.wait(lambda t: re.search(r"limit\s+512(\.0)? KiB/s", t), what="one.bin's limit in the pane")
    time.sleep(1.0)  # several snapshots: the engine's word on both items
    s.keys("j")
    s.wait(lambda t: re.search(r"two\.bin\s*\n", t) and re.search(r"limit\s+none", t),
           what="the pane of two.bin, still no limit")
    for _ in range(5):
        time.sleep(0.3)
        assert not re.search(r"limit\s+512", s.text()), s.text()
    s.keys("k")
    s.wait(lambda t: re.search(r"limit\s+512(\.0)? KiB/s", t), what="one.bin keeps its limit")


def test_detail_pane_hides_url_password_and_says_insecure(server, screen, tmp_path):
    url = server.url("/f/pw.bin", size=4 * MiB, rate=200_000)
    url = url.replace("http://", "http://tu:TUISECRET9@")
    s = screen(["--insecure", url])
    s.wait_row("pw.bin", lambda r: "running" in r)
    s.keys("Enter")
    s.wait_text("tu:***@127.0.0.1")
    text = s.text()
    assert "TUISECRET9" not in text, text
    assert "insecure" in text.split("\n")[0], text.split("\n")[0]
    s.wait(lambda t: "final URL" in t and "TUISECRET9" not in t, what="the pane")
    for _ in range(5 * SLOW):
        assert "TUISECRET9" not in s.text()
        time.sleep(0.2)


@pytest.fixture(scope="module")
def h2(tmp_path_factory):
    """nginx with TLS + HTTP/2; /slow/ serves at 100 KiB/s per request."""
    work = tmp_path_factory.mktemp("nginx-tui")
    cert, key = netfix.make_cert(work / "pki")
    www = work / "www"
    www.mkdir()
    files = {"a.bin": os.urandom(1500 * 1024), "b.bin": os.urandom(1200 * 1024)}
    for name, data in files.items():
        (www / name).write_bytes(data)
    ng = netfix.Nginx(work / "run", www, cert, key)
    ng.files = files
    yield ng
    ng.stop()


NOPROXY = {"http_proxy": "", "https_proxy": "", "all_proxy": "", "HTTPS_PROXY": "",
           "ALL_PROXY": ""}


def test_http2_pause_holds_no_socket_and_cancel_spares_the_other_stream(h2, screen, tmp_path):
    s = screen(["--cacert", h2.cert, h2.url("/slow/a.bin"), h2.url("/slow/b.bin")],
               env=NOPROXY)
    for n in ("a.bin", "b.bin"):
        s.wait_row(n, lambda r: "running" in r and (row_bytes(r) or 0) > 0)
    assert h2.wait_active(1) == 1, "two transfers, one HTTP/2 connection"
    s.wait(lambda t: "HTTP/2 streams" in t, what="the pool view's streams")
    s.keys("P")
    for n in ("a.bin", "b.bin"):
        s.wait_row(n, lambda r: "paused" in r)
    assert h2.wait_active(0, timeout=3.0 * SLOW) == 0, "paused items still hold a connection"
    s.keys("P")
    for n in ("a.bin", "b.bin"):
        s.wait_row(n, lambda r: "running" in r and "paused" not in r)
    # cancel a; b goes on over the shared connection
    s.keys("g")
    s.keys("c")
    s.wait_text("Cancel 'a.bin'")
    s.keys("y")
    s.wait_row("a.bin", lambda r: "cancelled" in r)
    s.wait_row("b.bin", lambda r: " done " in r, timeout=40)
    assert (tmp_path / "b.bin").read_bytes() == h2.files["b.bin"]
    assert not (tmp_path / "a.bin.part").exists() and not (tmp_path / "a.bin").exists()
