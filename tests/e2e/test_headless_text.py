"""The headless text on stderr (issue 14): one line per finished item, and
about once a second a progress line naming the running items with their
percent; sizes in one format (B, KiB, MiB)."""

import re


def test_progress_line_names_running_items(server, siphon, tmp_path):
    slow = server.url("/f/crawl.bin", size=600_000, rate=150_000)
    quick = server.url("/f/quick.bin", size=3000)
    res = siphon(["--no-config", "--headless", slow, quick], flags=False)
    assert res.code == 0, res
    lines = res.stderr.split("\n")
    progress = [l for l in lines if re.search(r"\| crawl\.bin \d+%", l)]
    assert progress, res.stderr
    # Appended to a file (here a pipe), not rewritten: no carriage returns.
    assert "\r" not in res.stderr
    # At most about one a second over a ~4 s download.
    assert len(progress) <= 7, progress
    pcts = [int(re.search(r"crawl\.bin (\d+)%", l).group(1)) for l in progress]
    assert pcts == sorted(pcts) and pcts[-1] < 100
    assert "done      quick.bin -> quick.bin (2.9 KiB, " in res.stderr
    assert re.search(r"done      crawl\.bin -> crawl\.bin \(585\.9 KiB, [\d.]+s\)", res.stderr)
    assert re.search(r"siphon: 2 done, 0 failed, 0 timed out, 0 cancelled, 0 skipped; "
                     r"588\.9 KiB in [\d.]+s", res.stderr), res.stderr
