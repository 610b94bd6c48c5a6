"""The interactive screen, driven in tmux against the local test server
(SPEC.md "The interactive screen"; issue 4's list of tests)."""

import os
import time

from conftest import (SLOW, concurrency, pool_figures, row_bytes, verify_file)


def slow(server, name, size, rate, **kw):
    return server.url("/f/" + name, size=size, rate=rate, **kw)


def item_bytes_sent(server, name):
    return sum(r["body_bytes"] for r in server.requests("/f/" + name))


def test_rows_grow_and_pool_matches_server(server, screen, tmp_path):
    urls = [slow(server, "grow%d.bin" % i, 4_000_000, 250_000, seed=i) for i in range(3)]
    s = screen(["-j", "3"] + urls)
    for i in range(3):
        s.wait_row("grow%d.bin" % i, lambda r: "running" in r)
    first = row_bytes(s.wait_row("grow0.bin", lambda r: (row_bytes(r) or 0) > 0))
    later = row_bytes(s.wait_row("grow0.bin", lambda r: (row_bytes(r) or 0) > first + 100_000,
                                 what="grow0.bin's bytes to grow"))
    assert later > first
    # The header's pool figures agree with the server's own count.
    deadline = time.time() + 10 * SLOW
    seen = []
    while time.time() < deadline:
        shown = pool_figures(s.text())
        st = server.stats()
        seen.append((shown, st["open_now"], st["pending_now"]))
        if shown and shown[0] == st["open_now"] + st["pending_now"] == 3 and shown[1] == 3:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("pool figures never matched the server: %r" % seen[-5:])
    assert shown[3] == 64, "the limit is --max-connections' default"


def test_pause_stops_bytes_and_resume_completes(server, screen, tmp_path):
    size = 2_000_000
    s = screen([slow(server, "pause.bin", size, 200_000)])
    s.wait_row("pause.bin", lambda r: "running" in r and (row_bytes(r) or 0) > 50_000)
    s.keys("p")
    s.wait_row("pause.bin", lambda r: "paused" in r)
    # Give the engine a moment to let go, then the server must see nothing more.
    time.sleep(1.0)
    before = item_bytes_sent(server, "pause.bin")
    time.sleep(2.0)
    assert item_bytes_sent(server, "pause.bin") == before, "bytes kept flowing while paused"
    assert "paused" in s.row("pause.bin")
    assert before < size, "the item finished before the pause could be seen"
    s.keys("p")
    s.wait_row("pause.bin", lambda r: " done " in r, timeout=30)
    verify_file(tmp_path / "pause.bin", size)


def test_paused_item_does_not_stall_out(server, screen, tmp_path):
    size = 1_000_000
    s = screen(["--stall-timeout", "2s", slow(server, "still.bin", size, 100_000)])
    s.wait_row("still.bin", lambda r: "running" in r and (row_bytes(r) or 0) > 0)
    s.keys("p")
    s.wait_row("still.bin", lambda r: "paused" in r)
    # 5 s paused with a 2 s stall limit: it must stay paused throughout.
    end = time.time() + 5.0
    while time.time() < end:
        row = s.row("still.bin")
        assert row and "paused" in row, "left paused while paused: %r" % row
        time.sleep(0.25)
    s.keys("p")
    s.wait_row("still.bin", lambda r: " done " in r, timeout=30)
    verify_file(tmp_path / "still.bin", size)


def test_cancel_yes_removes_part_and_no_keeps_it(server, screen, tmp_path):
    a = slow(server, "keep.bin", 3_000_000, 150_000)
    b = slow(server, "drop.bin", 3_000_000, 150_000, seed=2)
    s = screen(["-j", "2", a, b])
    s.wait_row("keep.bin", lambda r: "running" in r and (row_bytes(r) or 0) > 0)
    s.wait_row("drop.bin", lambda r: "running" in r and (row_bytes(r) or 0) > 0)
    assert (tmp_path / "keep.bin.part").exists() and (tmp_path / "drop.bin.part").exists()
    # c n on the first (selected) item: nothing happens.
    s.keys("c")
    s.wait_text("(y/n)")
    s.keys("n")
    s.wait(lambda t: "(y/n)" not in t, what="the prompt to go away")
    time.sleep(0.5)
    assert "running" in s.row("keep.bin")
    assert (tmp_path / "keep.bin.part").exists()
    # c y on the second one.
    s.keys("j", "c")
    s.wait_text("(y/n)")
    s.keys("y")
    s.wait_row("drop.bin", lambda r: "cancelled" in r)
    deadline = time.time() + 5 * SLOW
    while (tmp_path / "drop.bin.part").exists() and time.time() < deadline:
        time.sleep(0.1)
    assert not (tmp_path / "drop.bin.part").exists(), "cancel left its .part"
    assert "running" in s.row("keep.bin")


def test_plus_raises_concurrency(server, screen, tmp_path):
    urls = [slow(server, "c%d.bin" % i, 3_000_000, 150_000, seed=i) for i in range(4)]
    s = screen(["-j", "1"] + urls)
    s.wait_row("c0.bin", lambda r: "running" in r)
    s.wait(lambda t: concurrency(t) == 1, what="concurrency 1")
    assert server.stats()["max_open"] <= 1
    s.keys("+")
    s.wait(lambda t: concurrency(t) == 2, what="concurrency 2")
    s.keys("+")
    s.wait(lambda t: concurrency(t) == 3, what="concurrency 3")
    deadline = time.time() + 10 * SLOW
    while time.time() < deadline:
        st = server.stats()
        if st["open_now"] + st["pending_now"] >= 3:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the server never saw 3 connections at once: %r" % st["max_open"])
    s.wait_row("c2.bin", lambda r: "running" in r)
    s.keys("-")
    s.wait(lambda t: concurrency(t) == 2, what="concurrency back to 2")


def test_retry_failed_item_to_done(server, screen, tmp_path):
    size = 50_000
    url = server.url("/f/again.bin", size=size, status=500, fail_first=1)
    s = screen(["--retries", "0", url])
    s.wait_row("again.bin", lambda r: "failed" in r)
    assert "http_500" in s.row("again.bin")
    s.keys("r")
    s.wait_row("again.bin", lambda r: " done " in r)
    verify_file(tmp_path / "again.bin", size)
    # Everything finished: the screen stays; q exits at once with the table.
    time.sleep(0.3)
    assert not s.exited()
    s.keys("q")
    assert s.wait_exit() == 0
    # The totals line like headless prints; a done item is not listed.
    s.wait_text("siphon: 1 done, 0 failed, 0 timed out, 0 cancelled, 0 skipped")
    assert not any(l.startswith("again.bin") for l in s.lines())


def test_add_url_downloads(server, screen, tmp_path):
    size = 70_000
    s = screen([])
    s.wait_text("a to add")
    s.keys("a")
    s.wait_text("Add URL:")
    url = server.url("/f/added.bin", size=size)
    # Type it with a typo, then fix it with the line editor.
    s.literal(url + "XY")
    s.keys("BSpace", "Left", "Delete")
    s.wait_text(url[-20:])
    s.keys("Enter")
    s.wait_row("added.bin", lambda r: " done " in r)
    verify_file(tmp_path / "added.bin", size)
    # Esc leaves the prompt without adding anything.
    s.keys("a")
    s.wait_text("Add URL:")
    s.literal("http://127.0.0.1:1/f/never.bin")
    s.keys("Escape")
    s.wait(lambda t: "Add URL:" not in t, what="the prompt to close")
    time.sleep(0.5)
    assert s.row("never.bin") is None


def _static_screen(server, screen):
    urls = [server.url("/f/r%d.bin" % i, size=20_000 * (i + 1), seed=i) for i in range(5)]
    urls.append(server.url("/f/missing.bin", status=404))
    s = screen(urls)
    for i in range(5):
        s.wait_row("r%d.bin" % i, lambda r: " done " in r)
    s.wait_row("missing.bin", lambda r: "failed" in r)
    return s


SPARK = str.maketrans("\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588", " " * 8)


def _settled(s):
    """The screen once two captures 0.3 s apart agree, without the
    sparkline's blocks (the last minute's history moves on its own)."""
    prev = None
    for _ in range(30):
        lines = s.text().split("\n")
        lines[0] = lines[0].translate(SPARK)
        cur = "\n".join(lines)
        if cur == prev:
            return cur
        prev = cur
        time.sleep(0.3)
    return prev


def test_resize_leaves_no_stray_characters(server, screen):
    s = _static_screen(server, screen)
    for w, h in ((80, 24), (200, 50), (60, 20), (120, 40)):
        s.resize(w, h)
        s.wait(lambda t: s.size() == (w, h), what="the pane at %dx%d" % (w, h))
        time.sleep(0.3)
        after = _settled(s)
        lines = after.split("\n")
        assert all(len(l) <= w for l in lines), "a line wider than %d" % w
        if w >= 80:
            assert "pool" in after and "NAME" in after and "STATE" in after
            assert s.row("r4.bin", after) and "missing.bin" in after
        # A full repaint (^L) must give exactly the same picture.
        s.keys("C-l")
        time.sleep(0.4)
        assert _settled(s) == after, "resize to %dx%d left stray characters" % (w, h)


def test_help_overlay_comes_from_the_key_table(server, screen):
    s = _static_screen(server, screen)
    s.resize(120, 50)
    s.keys("?")
    s.wait_text("any key closes")
    text = s.text()
    for words in ("pause or resume", "cancel the selected", "retry a failed", "add a URL",
                  "quit", "detail pane", "retry every failed", "sort: queue order",
                  "filter by text", "show: all, active, failed, done"):
        assert words in text, words
    s.keys("x")
    s.wait(lambda t: "any key closes" not in t, what="the overlay to close")


def test_detail_pane(server, screen):
    s = _static_screen(server, screen)
    s.keys("End")  # the 404
    s.keys("Enter")
    s.wait_text("final URL")
    s.wait_text("HTTP")
    text = s.text()
    assert "404" in text
    # The reason once: the engine's words with the reason's key.
    assert "failed (http_404): the server answered HTTP 404" in text
    assert text.count("the server answered") == 1
    assert "/f/missing.bin" in text
    # A 404 leaves no file, and the pane says so.
    assert [l for l in text.split("\n") if l.strip().startswith("file")][0].split()[1] == "none"


def test_quit_yes_restores_terminal_and_keeps_part(server, screen, tmp_path):
    s = screen([slow(server, "big.bin", 5_000_000, 200_000)])
    s.wait_row("big.bin", lambda r: "running" in r and (row_bytes(r) or 0) > 0)
    assert s.pane_flag("#{alternate_on}") == "1"
    s.keys("q")
    s.wait_text("(y/n)")
    s.keys("y")
    assert s.wait_exit() == 130
    assert (tmp_path / "big.bin.part").exists(), "quit must keep the .part"
    assert s.pane_flag("#{alternate_on}") == "0", "still on the alternate screen"
    assert s.pane_flag("#{cursor_flag}") == "1", "cursor left hidden"
    modes = s.stty_file.read_text().split()
    assert "icanon" in modes and "echo" in modes, "terminal left raw: %r" % modes
    s.wait(lambda t: any(l.startswith("big.bin") for l in t.split("\n")),
           what="the status table")


def test_ctrl_c_restores_terminal_and_exits_130(server, screen, tmp_path):
    s = screen([slow(server, "intr.bin", 5_000_000, 200_000)])
    s.wait_row("intr.bin", lambda r: "running" in r)
    s.keys("C-c")
    assert s.wait_exit() == 130
    modes = s.stty_file.read_text().split()
    assert "icanon" in modes and "echo" in modes
    assert s.pane_flag("#{alternate_on}") == "0"
    assert (tmp_path / "intr.bin.part").exists()


def test_ten_thousand_items_scroll(server, screen, tmp_path):
    first = slow(server, "n00000.bin", 2_000_000, 100_000)
    urls = [first] + [server.url("/f/n%05d.bin" % i, size=1000) for i in range(1, 10_000)]
    (tmp_path / "many.txt").write_text("\n".join(urls) + "\n")
    s = screen(["-j", "1", "many.txt"], width=100, height=30)
    s.wait_row("n00000.bin", lambda r: "running" in r, timeout=30)
    s.wait(lambda t: "of 10000" in t, what="10000 items in the header")
    s.keys("End")
    s.wait_row("n09999.bin", lambda r: "queued" in r)
    assert s.row("n00000.bin") is None, "the list did not scroll"
    s.keys("PPage")
    s.wait(lambda t: s.row("n09999.bin", t) is None, what="a page up")
    s.keys("Home")
    s.wait_row("n00000.bin", lambda r: "running" in r)
    s.keys("j", "j", "j")
    s.keys("Enter")
    s.wait_text("n00003.bin?size=1000")


def test_bad_theme_is_a_file_line_error(server, screen, tmp_path):
    (tmp_path / "ugly.ini").write_text("[theme]\nrunning = cyan\npaused = mauve\n")
    s = screen(["--theme", str(tmp_path / "ugly.ini"), server.url("/f/t.bin", size=10)])
    assert s.wait_exit() == 2
    s.wait_text("ugly.ini:3: unknown colour 'mauve'")


def test_no_color_draws_without_colours(server, screen, tmp_path):
    s = screen([slow(server, "mono.bin", 1_000_000, 200_000)], env={"NO_COLOR": "1"})
    s.wait_row("mono.bin", lambda r: "running" in r)
    styled = s.tmux("capture-pane", "-p", "-e")
    assert "\x1b[7m" in styled or ";7m" in styled, "mono still marks the header (reverse)"
    # No SGR foreground/background colour (30-37, 40-47, 38;5, 48;5, 90-107).
    for seq in styled.split("\x1b[")[1:]:
        codes = [c for c in seq.split("m", 1)[0].split(";") if c.isdigit()]
        bad = [c for c in codes if int(c) in (38, 48) or 30 <= int(c) <= 37
               or 40 <= int(c) <= 47 or 90 <= int(c) <= 107]
        assert not bad, "a colour under NO_COLOR: %r" % seq[:20]
    # The same screen with colours does use them (so the check above can fail).
    c = screen([slow(server, "colour.bin", 1_000_000, 200_000)], cwd=tmp_path / "c")
    c.wait_row("colour.bin", lambda r: "running" in r)
    assert any(("3%d" % i) in c.tmux("capture-pane", "-p", "-e") for i in range(8))


def _siphon_pid(s):
    shell = int(s.pane_flag("#{pane_pid}"))
    with open("/proc/%d/task/%d/children" % (shell, shell)) as f:
        kids = [int(k) for k in f.read().split()]
    assert len(kids) == 1, "expected siphon as the shell's only child: %r" % kids
    return kids[0]


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_idle_screen_uses_no_cpu(server, screen):
    s = _static_screen(server, screen)
    pid = _siphon_pid(s)
    time.sleep(0.5)
    t0 = _cpu_seconds(pid)
    time.sleep(3.0)
    used = _cpu_seconds(pid) - t0
    assert used < 0.15 * SLOW, "%.2f s of CPU in 3 s with nothing happening" % used
