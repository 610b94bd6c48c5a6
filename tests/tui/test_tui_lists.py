"""Long lists, small terminals and the end of a run (issue 14): the
position indicator and follow mode, sort and filter, R, the header's
progress and hosts, the detail pane and help at 60x15, `retry in`, the end
of a run and its exit table, `a`'s checks, and the TERM=dumb fallback."""

import re
import time
import uuid

from conftest import SLOW, e2e


def slow(server, name, size=3_000_000, rate=100_000, **kw):
    return server.url("/f/" + name, size=size, rate=rate, **kw)


def position(text):
    """(first, last, of) from the bottom line's "rows x-y of N"."""
    m = re.search(r"rows (\d+)-(\d+) of (\d+)", text)
    return tuple(int(g) for g in m.groups()) if m else None


def bottom(text):
    lines = text.rstrip("\n").split("\n")
    return lines[-1] if lines else ""


def names_in_order(s, text, prefix):
    """The item names of the list rows, top to bottom, that start with prefix."""
    out = []
    for line in text.split("\n"):
        m = re.match(r" (%s\S*\.bin) " % re.escape(prefix), line)
        if m:
            out.append(m.group(1))
    return out


def test_position_indicator_and_follow_with_200_items(server, screen, tmp_path):
    urls = [server.url("/f/p%03d.bin" % i, size=500, seed=i) for i in range(1, 151)]
    urls += [slow(server, "p%03d.bin" % i, seed=i) for i in range(151, 201)]
    (tmp_path / "long.txt").write_text("\n".join(urls) + "\n")
    s = screen(["-j", "2", "long.txt"], width=80, height=24)
    # Follow mode: the 150 finished rows scroll away, the running ones lead.
    s.wait_row("p151.bin", lambda r: "running" in r, timeout=60)
    text = s.wait(lambda t: position(t) and position(t)[0] == 151 and t, timeout=30,
                  what="the view to follow to row 151")
    first, last, of = position(text)
    assert of == 200 and last - first + 1 == 18, "18 list rows at 80x24: %r" % (position(text),)
    assert "follow" in bottom(text)
    assert s.row("p001.bin", text) is None
    s.wait_row("p152.bin", lambda r: "running" in r)
    # Moving the selection ends follow mode: the view stays where it is put.
    s.keys("Home")
    text = s.wait(lambda t: position(t) == (1, 18, 200) and t, what="rows 1-18")
    assert "follow" not in bottom(text)
    time.sleep(1.5)
    assert position(s.text()) == (1, 18, 200), "the view moved without follow mode"
    s.keys("PPage", "NPage")
    s.wait(lambda t: position(t) and position(t)[0] > 1, what="a page down")
    # F turns it back on.
    s.keys("F")
    s.wait(lambda t: position(t) and position(t)[0] >= 151 and "follow" in bottom(t),
           what="follow again")


def test_sort_and_filter(server, screen, tmp_path):
    urls = [server.url("/f/beta-done.bin", size=3000),
            server.url("/f/alpha-gone.bin", status=404),
            slow(server, "gamma-run.bin", seed=3),
            server.url("/f/delta-done.bin", size=1000, seed=4),
            server.url("/f/beta-gone.bin", status=410)]
    s = screen(["-j", "3"] + urls)
    s.wait_row("delta-done.bin", lambda r: " done " in r)
    s.wait_row("beta-gone.bin", lambda r: "failed" in r)
    s.wait_row("gamma-run.bin", lambda r: "running" in r)
    every = ["beta-done.bin", "alpha-gone.bin", "gamma-run.bin", "delta-done.bin",
             "beta-gone.bin"]
    assert names_in_order(s, s.text(), "") == every
    # s cycles: state (running first, failed before done), progress, speed, name.
    s.keys("s")
    t = s.wait(lambda t: "sort state" in t and t, what="sort by state")
    order = names_in_order(s, t, "")
    assert order[0] == "gamma-run.bin" and order[1:3] == ["alpha-gone.bin", "beta-gone.bin"]
    assert order[3:] == ["beta-done.bin", "delta-done.bin"]
    s.keys("s", "s", "s")
    t = s.wait(lambda t: "sort name" in t and t, what="sort by name")
    assert names_in_order(s, t, "") == sorted(every)
    s.keys("s")
    t = s.wait(lambda t: "sort " not in bottom(t) and t, what="queue order again")
    assert names_in_order(s, t, "") == every
    # f cycles the state filter: active, failed, done, all.
    s.keys("f")
    t = s.wait(lambda t: "show active" in t and t, what="show active")
    assert names_in_order(s, t, "") == ["gamma-run.bin"]
    assert position(t)[2] == 1 and "(5 in all)" in t
    s.keys("f")
    t = s.wait(lambda t: "show failed" in t and t, what="show failed")
    assert names_in_order(s, t, "") == ["alpha-gone.bin", "beta-gone.bin"]
    s.keys("f")
    t = s.wait(lambda t: "show done" in t and t, what="show done")
    assert names_in_order(s, t, "") == ["beta-done.bin", "delta-done.bin"]
    s.keys("f")
    s.wait(lambda t: "show " not in bottom(t) and len(names_in_order(s, t, "")) == 5,
           what="show all")
    # / filters by text in the name or the URL as it is typed; Esc drops it.
    s.keys("/")
    s.wait_text("Filter")
    s.literal("beta")
    t = s.wait(lambda t: names_in_order(s, t, "") == ["beta-done.bin", "beta-gone.bin"] and t,
               what="the beta items")
    s.keys("Escape")
    s.wait(lambda t: len(names_in_order(s, t, "")) == 5, what="the filter dropped")
    s.keys("/")
    s.literal("status=404")  # in the URL only
    s.keys("Enter")
    s.wait(lambda t: names_in_order(s, t, "") == ["alpha-gone.bin"]
           and "/status=404" in bottom(t), what="the URL match, kept after Enter")


def test_R_retries_every_failed_and_timed_out_item(server, screen, tmp_path):
    tag = uuid.uuid4().hex[:8]
    urls = [server.url("/f/again%d.bin" % i, size=20_000, seed=i, status=500, fail_first=1,
                       key="R-%s-%d" % (tag, i)) for i in range(3)]
    urls.append(server.url("/f/stuck.bin", size=200_000, stall_after=1000, fail_first=1,
                           key="R-%s-stall" % tag))
    urls.append(server.url("/f/fine.bin", size=1000))
    s = screen(["--retries", "0", "--stall-timeout", "1s"] + urls)
    for i in range(3):
        s.wait_row("again%d.bin" % i, lambda r: "failed" in r)
    s.wait_row("stuck.bin", lambda r: "timed out" in r, timeout=20)
    s.wait_row("fine.bin", lambda r: " done " in r)
    s.keys("R")
    s.wait_text("retrying 4 failed and timed-out items")
    for name in ("again0.bin", "again1.bin", "again2.bin", "stuck.bin"):
        s.wait_row(name, lambda r: " done " in r)
    assert len(server.requests("/f/fine.bin")) == 1, "R touched a done item"
    # The detail pane counts the retry the user asked for.
    s.keys("F", "Home", "Enter")
    t = s.wait(lambda t: re.search(r"retries\s+1 \(attempt 1\)", t) and t, what="retries 1")
    state = [l for l in t.split("\n") if l.strip().startswith("state")][0]
    assert state.split() == ["state", "done"], "a leftover failure reason: %r" % state


def test_header_hosts_beyond_the_width_are_counted(server, screen, tmp_path):
    others = [e2e.TestServer() for _ in range(4)]
    try:
        urls = [slow(server, "h0.bin")] + [slow(o, "h%d.bin" % (i + 1))
                                            for i, o in enumerate(others)]
        s = screen(["-j", "5"] + urls, width=80, height=24)
        for i in range(5):
            s.wait_row("h%d.bin" % i, lambda r: "running" in r)
        t = s.wait(lambda t: re.search(r"\+(\d) more", t) and t, what="+N more")
        pool = [l for l in t.split("\n") if l.startswith(" pool ")][0]
        shown = len(re.findall(r"127\.0\.0\.1:\d+ \d+/\d+", pool))
        more = int(re.search(r"\+(\d) more", pool).group(1))
        assert shown >= 1 and shown + more == 5, pool
        assert len(pool) <= 80
    finally:
        for o in others:
            o.stop()


def test_plus_says_why_no_more_can_start(server, screen, tmp_path):
    urls = [slow(server, "ph%d.bin" % i, seed=i) for i in range(3)]
    s = screen(["-j", "1", "--per-host", "1"] + urls)
    s.wait_row("ph0.bin", lambda r: "running" in r)
    s.wait(lambda t: "pool 1 open" in t, what="one connection")
    s.keys("+")
    s.wait_text("is at its --per-host limit of 1: no more can start")
    assert "queued" in s.row("ph1.bin")


def test_header_progress_and_counts(server, screen, tmp_path):
    s = screen([slow(server, "prog.bin", size=2_000_000, rate=200_000)], width=80, height=24)
    t = s.wait(lambda t: re.search(r"of 1\.9 MiB\s+\d+%\s+ETA \S+", t) and t,
               what="progress of the known total")
    assert re.search(r"elapsed \d", t)
    # The same states each time, zero or not.
    for word in ("running 1", "queued 0", "paused 0", "done 0", "failed 0", "timed out 0",
                 "cancelled 0", "skipped 0"):
        assert word in t, word


def test_detail_pane_help_and_prompts_at_60x15(server, screen, tmp_path):
    long = "a-rather-long-file-name-that-does-not-fit-anywhere-at-all.bin"
    urls = [server.url("/f/nothere.bin", status=404), slow(server, long, size=5_000_000)]
    s = screen(urls, width=60, height=15)
    s.wait_row("nothere.bin", lambda r: "failed" in r)
    s.keys("Home", "Enter")
    t = s.wait(lambda x: re.search(r"file\s+none", x) and x, what="the detail pane")
    lines = t.split("\n")
    assert all(len(l) <= 60 for l in lines)
    state = [l for l in lines if l.strip().startswith("state")]
    assert state and "failed (http_404)" in state[0], t
    assert any(l.strip().startswith("file") and "none" in l for l in lines), t
    s.keys("Escape")
    # The help pages through every key at 15 rows.
    s.keys("?")
    t = s.wait(lambda t: re.search(r"lines 1-(\d+) of (\d+)", t) and t, what="help page 1")
    assert "quit (partial files" not in t
    for _ in range(4):
        s.keys("Space")
    s.wait(lambda x: "quit (partial files" in x and "redraw the screen" in x,
           what="the last page of the help")
    s.keys("q")
    s.wait(lambda t: "lines " not in t, what="the help to close")
    # The y/n prompts keep their (y/n) on screen.
    s.keys("End", "c")
    t = s.wait(lambda x: "(y/n)" in x and x, what="(y/n)")
    assert "Cancel" in bottom(t)
    s.keys("n")
    s.wait(lambda x: "(y/n)" not in x, what="the prompt to close")
    s.keys("q")
    t = s.wait(lambda x: "(y/n)" in x and x, what="(y/n)")
    assert "Quit" in bottom(t)
    s.keys("n")
    # Below a usable size it says so instead of half a frame.
    s.resize(40, 10)
    t = s.wait(lambda x: "siphon needs at least" in x and x, what="siphon needs at least")
    assert "NAME" not in t and "pool" not in t
    s.resize(60, 15)
    s.wait_text("NAME")


def test_retry_wait_reads_retry_in(server, screen, tmp_path):
    url = server.url("/f/later.bin", size=1000, status=503, retry_after=4, fail_first=1,
                     key="later-" + uuid.uuid4().hex[:8])
    s = screen(["--retries", "2", url])
    r = s.wait_row("later.bin", lambda r: re.search(r"retry in \ds", r), what="retry in Ns")
    assert "running" not in r and "http_503" in r
    s.keys("Enter")
    s.wait(lambda t: re.search(r"state\s+retry in \ds \(http_503\)", t), what="the pane")
    s.wait_row("later.bin", lambda r: " done " in r, timeout=20)


def test_end_of_run_line_and_short_exit_table(server, screen, tmp_path):
    urls = [server.url("/f/e%03d.bin" % i, size=200, seed=i) for i in range(297)]
    urls += [server.url("/f/gone%d.bin" % i, status=404) for i in range(3)]
    (tmp_path / "300.txt").write_text("\n".join(urls) + "\n")
    s = screen(["-j", "8", "300.txt"], width=80, height=24)
    t = s.wait(lambda x: "all 300 finished" in x and x, 60, "all 300 finished")
    assert "done 297" in t and "failed 3" in t
    s.wait(lambda _: s.pane_flag("#{window_bell_flag}") == "1", 5, "the bell at the end")
    s.keys("q")
    assert s.wait_exit() == 1
    t = s.wait(lambda x: "siphon: 297 done, 3 failed, 0 timed out, 0 cancelled, 0 skipped" in x and x, what="siphon: 297 done, 3 failed, 0 timed out, 0 cancelled, 0 skipped")
    lines = [l for l in t.split("\n") if l.strip()]
    assert len(lines) <= 6, "a long exit table:\n%s" % t
    for i in range(3):
        assert any(l.startswith("gone%d.bin" % i) and "failed" in l and "http_404" in l
                   for l in lines)


def test_no_bell_option_keeps_quiet(server, screen, tmp_path):
    s = screen(["--no-bell", server.url("/f/quiet.bin", size=100)])
    s.wait_text("all 1 finished")
    time.sleep(0.5)
    assert s.pane_flag("#{window_bell_flag}") == "0"
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "q.ini").write_text("[settings]\nbell = no\n[one]\nurl = %s\n"
                                          % server.url("/f/quiet2.bin", size=100))
    c = screen(["q.ini"], cwd=tmp_path / "c")
    c.wait_text("all 1 finished")
    time.sleep(0.5)
    assert c.pane_flag("#{window_bell_flag}") == "0"


def test_quit_lists_a_running_item_as_interrupted(server, screen, tmp_path):
    urls = [slow(server, "int%d.bin" % i, seed=i) for i in range(2)]
    urls.append(server.url("/f/small.bin", size=100))
    s = screen(["-j", "2"] + urls)
    s.wait_row("int0.bin", lambda r: "running" in r)
    s.wait_row("int1.bin", lambda r: "running" in r)
    s.keys("q")
    s.wait_text("(y/n)")
    s.keys("y")
    assert s.wait_exit() == 130
    t = s.wait(lambda x: "interrupted" in x and x, what="interrupted")
    for i in range(2):
        assert any(l.startswith("int%d.bin" % i) and "interrupted" in l
                   for l in t.split("\n")), t
    assert "running" not in t


def test_add_checks_the_url_and_picks_a_free_name(server, screen, tmp_path):
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "clash.bin").write_bytes(b"mine, keep me")
    s = screen(["-d", "dl"])
    s.wait_text("a to add")
    # A bad URL: the prompt says so and nothing is added.
    s.keys("a")
    s.literal("ftp://127.0.0.1/nope.bin")
    s.keys("Enter")
    s.wait_text("not an http:// or https:// URL")
    s.keys("Escape")
    s.wait_text("a to add")
    assert "of 0" in s.text()
    # A URL whose name is taken in --dir: the next free stem.N.ext.
    s.keys("a")
    s.literal(server.url("/f/clash.bin", size=5000))
    s.keys("Enter")
    s.wait_row("clash.1.bin", lambda r: " done " in r)
    assert (tmp_path / "dl" / "clash.bin").read_bytes() == b"mine, keep me"
    e2e.verify_file(tmp_path / "dl" / "clash.1.bin", 5000)
    # Again: the item of this run has clash.1.bin now.
    s.keys("a")
    s.literal(server.url("/f/clash.bin", size=6000, seed=2))
    s.keys("Enter")
    s.wait_row("clash.2.bin", lambda r: " done " in r)
    e2e.verify_file(tmp_path / "dl" / "clash.2.bin", 6000, seed=2)
    # A name after the URL saves it under that name.
    s.keys("a")
    s.literal(server.url("/f/whatever.bin", size=700) + " chosen.dat")
    s.keys("Enter")
    s.wait_row("chosen.dat", lambda r: " done " in r)
    e2e.verify_file(tmp_path / "dl" / "chosen.dat", 700)
    assert not (tmp_path / "chosen.dat").exists()


def test_term_dumb_falls_back_to_text(server, screen, tmp_path):
    s = screen([server.url("/f/dumb.bin", size=3000)], env={"TERM": "dumb"})
    assert s.wait_exit() == 0
    t = s.wait(lambda x: "done      dumb.bin" in x and x, what="done      dumb.bin")
    assert "cannot show the screen; printing progress as text instead" in t
    assert len([l for l in t.split("\n") if "TERM=dumb" in l]) == 1
    e2e.verify_file(tmp_path / "dumb.bin", 3000)
