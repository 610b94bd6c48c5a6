#!/usr/bin/python3
"""tests/bench/report.py - turn run.sh's raw runs into the RESULTS.md table.

usage: report.py RUNS.tsv META.tsv RESULTS.md [NOTES.md]

RUNS.tsv rows: workload tool run wall_s user_s sys_s maxrss_kib rc ok
[voluntary_cs involuntary_cs bytes].  Thread hand-offs per GiB are the
context switches of the process and its threads (GNU time %w + %c) per GiB
moved.
Medians are taken per metric over the runs that succeeded.  The table goes to
stdout and to RESULTS.md, followed by the targets of issue 6 and NOTES.md.
"""
import statistics
import sys

PEERS = ("curl", "aria2c", "wget2", "axel")
ORDER = ("siphon", "siphon-s1", "siphon-screen", "curl", "aria2c", "axel", "wget2", "curl-null")


def load_runs(path):
    runs = {}
    with open(path) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if len(p) == 9:
                p += ["0", "0", "0"]
            if len(p) == 12:
                p.append("")
            if len(p) != 13:
                continue
            wl, tool, run, wall, user, sys_, rss, rc, ok, vcs, ics, nbytes, front = p
            if run.startswith("w"):  # warm-up rounds are not reported
                continue
            r = runs.setdefault(wl, {}).setdefault(tool, {"ok": [], "bad": 0})
            if ok == "1":
                gib = int(nbytes) / 2**30
                hand = (int(vcs) + int(ics)) / gib if gib > 0 else None
                r["ok"].append((float(wall), float(user) + float(sys_), int(rss) / 1024.0, hand,
                                float(front) if front else None))
            else:
                r["bad"] += 1
    return runs


def load_meta(path):
    meta, notes = {}, []
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("\t")
            if k == "note":
                notes.append(v)
            else:
                meta[k] = v
    return meta, notes


def med(tool_runs, i):
    xs = [r[i] for r in tool_runs["ok"] if r[i] is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=2):
    return "—" if x is None else f"{x:.{nd}f}"


class Report:
    def __init__(self, runs, meta, notes):
        self.runs, self.meta, self.notes = runs, meta, notes
        self.out = []
        self.targets = []  # (target, measured, verdict)

    def w(self, s=""):
        self.out.append(s)

    def stats(self, wl, tool):
        t = self.runs.get(wl, {}).get(tool)
        if not t or not t["ok"]:
            return None
        return (med(t, 0), med(t, 1), med(t, 2), med(t, 3), med(t, 4))

    def best_peer(self, wl, i):
        """(value, tool) of the best peer on metric i, or (None, None)."""
        best = (None, None)
        for p in PEERS:
            s = self.stats(wl, p)
            if s and s[i] is not None and (best[0] is None or s[i] < best[0]):
                best = (s[i], p)
        return best

    def sizes(self, wl):
        m = self.meta
        if wl in ("big", "screen"):
            n, mib, j = m["big"].split("\t")
            return f"{n} files x {mib} MiB, {j} at once", int(j)
        if wl == "small":
            n, kib, j = m["small"].split("\t")
            return f"{n} files x {kib} KiB, {j} at once", int(j)
        if wl == "https":
            n, kib, j = m["small"].split("\t")
            return f"{n} files x {kib} KiB over HTTPS (HTTP/2 where the tool speaks it), {j} at once", int(j)
        if wl == "queue":
            n, kib, j = m["queue"].split("\t")
            return f"{n} URLs x {kib} KiB in one list, {j} at once", int(j)
        if wl == "single":
            return f"one {m['single']} MiB file, one connection", 1
        if wl in ("segthrottled", "segsingle") and "seg" in m:
            mib, n, rate, _ = m["seg"].split("\t")
            how = f"nginx `limit_rate {rate}` per connection" if wl == "segthrottled" else "unthrottled"
            if wl == "segthrottled":
                timer = m.get("seg_timer", "")
                how += f" (`timer_resolution {timer}`)" if timer else " (nginx's default timers)"
            return f"one {mib} MiB file, {how}, {n} connections", 1
        if wl in ("wide", "scale32") and "scale" in m:
            n, jw, jq = m["scale"].split("\t")
            j = jw if wl == "wide" else jq
            return f"{n} URLs x 1 KiB in one list, {j} at once", int(j)
        return "", 1

    def table(self, wl):
        desc, _ = self.sizes(wl)
        self.w(f"### {wl}: {desc}")
        self.w()
        self.w("| tool | wall s | CPU s | peak RSS MiB | hand-offs / GiB | runs ok | wall (CPU) of each run |")
        self.w("|---|---:|---:|---:|---:|---:|---|")
        tools = self.runs.get(wl, {})
        for tool in sorted(tools, key=lambda t: ORDER.index(t) if t in ORDER else 99):
            t = tools[tool]
            s = self.stats(wl, tool)
            n_ok = len(t["ok"])
            each = ", ".join(f"{r[0]:.2f} ({r[1]:.2f})" for r in t["ok"]) or "—"
            label = tool + (" (raw limit, /dev/null)" if tool == "curl-null" else "")
            label += " (screen)" if tool == "siphon-screen" else ""
            if tool == "siphon-s1":
                label = "siphon -s 1"
            if tool == "curl-null" and wl in ("segthrottled", "segsingle"):
                label = f"{self.meta['seg'].split(chr(9))[1]} x curl -r to /dev/null (what nginx gives here)"
            if s:
                self.w(f"| {label} | {fmt(s[0])} | {fmt(s[1])} | {fmt(s[2], 1)} | {fmt(s[3], 0)} | "
                       f"{n_ok}/{n_ok + t['bad']} | {each} |")
            else:
                self.w(f"| {label} | FAILED | | | | 0/{t['bad']} | |")
        sip = self.stats(wl, "siphon")
        if sip and wl != "screen":
            cells = []
            for i in range(4):
                v, p = self.best_peer(wl, i)
                cells.append(f"{sip[i] / v:.2f} ({p})" if v and sip[i] is not None else "—")
            self.w(f"| **siphon / best peer** | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | | |")
        if wl == "segthrottled" and sip:
            lim = self.seg_limit()
            self.w(f"| **limit** = size / ({self.meta['seg'].split(chr(9))[1]} x rate) | {lim:.2f} | | | | | |")
            self.w(f"| **siphon / limit** | {sip[0] / lim:.2f} | | | | | |")
            raw = self.stats(wl, "curl-null")
            if raw:
                self.w(f"| **siphon / curl to /dev/null** | {sip[0] / raw[0]:.2f} | | | | | |")
        if wl == "segsingle":
            one = self.stats(wl, "siphon-s1")
            if sip and one:
                self.w(f"| **siphon -s N / -s 1** | {sip[0] / one[0]:.2f} | {sip[1] / one[1]:.2f} "
                       f"| {sip[2] / one[2]:.2f} | | | |")
        if wl == "screen":
            scr = self.stats(wl, "siphon-screen")
            if sip and scr:
                self.w(f"| **screen / headless** | {scr[0] / sip[0]:.2f} | {scr[1] / sip[1]:.3f} "
                       f"| {scr[2] / sip[2]:.2f} | | | |")
                if scr[4] is not None and sip[4] is not None:
                    self.w(f"| **front-end thread CPU s** (screen / headless) | | {scr[4]:.2f} / "
                           f"{sip[4]:.2f} | | | | |")
        self.w()

    def seg_limit(self):
        """Seconds the segthrottled file takes at exactly the limit on every connection."""
        mib, n, _, rate_b = self.meta["seg"].split("\t")
        return int(mib) * 2**20 / (int(n) * int(rate_b))

    def queue_sizes(self):
        """(N, B): URLs in the queue run and in its baseline run (the first half)."""
        n = int(self.meta["queue"].split("\t")[0])
        return n, n // 2

    def queue_items(self):
        n, j = self.queue_sizes()
        url = float(self.meta.get("queue_url_bytes", 0))
        self.w(f"RSS per queued item = (peak RSS of the {n}-URL run - peak RSS of a run of its"
               f" first {j} URLs) / {n - j}: both run as many transfers at once, so fixed"
               f" start-up costs and the buffers of running transfers cancel out and what"
               f" remains is the cost of each URL waiting (the URLs average {url:.0f} bytes):")
        self.w()
        self.w(f"| tool | {j}-URL peak RSS MiB | bytes per queued item |")
        self.w("|---|---:|---:|")
        per = {}
        for tool in sorted(self.runs.get("queue", {}), key=lambda t: ORDER.index(t) if t in ORDER else 99):
            full, one = self.stats("queue", tool), self.stats("queue1", tool)
            if full and one:
                per[tool] = (full[2] - one[2]) * 1024 * 1024 / (n - j)
                self.w(f"| {tool} | {one[2]:.1f} | {per[tool]:.0f} |")
            else:
                self.w(f"| {tool} | — | — |")
        self.w()
        return per, url

    def target(self, what, measured, holds):
        verdict = "n/a" if holds is None else ("**yes**" if holds else "**NO**")
        self.targets.append((what, measured, verdict))

    def ratio_target(self, wl, i, limit, label):
        if wl not in self.runs:
            return
        sip = self.stats(wl, "siphon")
        v, p = self.best_peer(wl, i)
        what = f"{wl}: {label} at most {limit:g}x the best peer's"
        if not sip or not v:
            self.target(what, "siphon not measured" if not sip else "no peer measured", None)
            return
        self.target(what, f"siphon {sip[i]:.2f} s vs {p} {v:.2f} s = {sip[i] / v:.2f}x",
                    sip[i] <= limit * v)

    def build(self):
        m = self.meta
        quick = m.get("quick") == "1"
        self.w("# siphon benchmark" + (" (quick smoke run: small sizes, not the real table)" if quick else ""))
        self.w()
        self.w(f"Generated by `make bench` (tests/bench/run.sh) on {m['date']}. "
               f"Median of {m['runs']} run(s) per tool, after {m.get('warmup', 0)} unrecorded warm-up round(s), "
               "the tools interleaved round by round; nginx 1 worker on 127.0.0.1 serving a tmpfs, "
               "output into the same tmpfs, wiped between runs. Wall = elapsed time of the command; "
               "CPU = user + sys of the process and its threads; peak RSS = max resident set (GNU time %M); hand-offs / GiB = voluntary + involuntary context switches of the process and its threads (GNU time %w + %c) per GiB downloaded.")
        self.w()
        self.w("## Machine and versions")
        self.w()
        self.w("| | |")
        self.w("|---|---|")
        for k in ("cpu", "nproc", "memory", "kernel", "os", "tmpfs", "siphon", "siphon_commit",
                  "siphon_args", "curl", "aria2c", "wget2", "axel", "nginx"):
            if m.get(k):
                self.w(f"| {k} | {m[k]} |")
        self.w()
        self.w("Command lines: siphon `--headless --no-config -j N --per-host N -d OUT LIST.txt`; "
               "curl `-s -S --parallel --parallel-max N -K LIST.curl` (url/output pairs); "
               "aria2c `--no-conf -q -i LIST.txt -j N -x1 -s1 --max-connection-per-server=1 "
               "--file-allocation=none -d OUT`; wget2 `--no-config -q --max-threads N -i LIST.txt -P OUT "
               "--no-robots --no-hsts --no-hpkp --no-ocsp --no-xattr --no-netrc --no-cookies --no-metalink`; "
               "single: `curl -o FILE URL`, the others with N = 1, and the raw limit `curl -o /dev/null URL`. "
               "screen: siphon without `--headless` in a 120x40 tmux pane, `q` sent when every file is "
               "complete; its wall is until the files were complete. "
               "segthrottled/segsingle (one file over N connections): siphon `--headless --no-config -s N "
               "--per-host N -d OUT URL` (`--per-host` because its default of 6 would cap `-s 8` at 6; "
               "segsingle also `-s 1`), aria2c `--no-conf -q -x N -s N -k 4M --file-allocation=none -d OUT URL` "
               "(`-k` = siphon's `--min-segment` default), axel `-q -n N -o OUT/ URL`, wget2 `--max-threads N "
               "--chunk-size 16M` and the flags above (it used one connection here).")
        self.w()
        if self.notes:
            self.w("Notes of this run:")
            self.w()
            for n in self.notes:
                self.w(f"- {n}")
            self.w()
        self.w("## Results")
        self.w()
        for wl in ("big", "screen", "small", "https", "queue", "wide", "scale32", "single",
                   "segthrottled", "segsingle"):
            if wl in self.runs:
                self.table(wl)
                if wl == "queue" and "queue1" in self.runs:
                    per, url = self.queue_items()
        # targets
        buf_mib = int(m.get("buf_kib", 128)) / 1024.0
        self.ratio_target("big", 0, 0.85, "wall")
        self.ratio_target("big", 1, 1.0, "CPU")
        self.ratio_target("single", 0, 0.75, "wall")
        for wl in ("small", "queue", "https"):
            self.ratio_target(wl, 0, 1.0, "wall")
            self.ratio_target(wl, 1, 1.0, "CPU")
        for wl in ("big", "small", "https", "queue", "single", "screen"):
            if wl not in self.runs:
                continue
            _, j = self.sizes(wl)
            # DESIGN.md's memory bound: 16 MiB + 4 x buffer_size per open
            # transfer connection (j of them here)
            limit = 16 + 4 * j * buf_mib
            what = f"{wl}: peak RSS at most 16 MiB + 4 x {j} x {buf_mib * 1024:g} KiB = {limit:g} MiB"
            for tool in ("siphon", "siphon-screen") if wl == "screen" else ("siphon",):
                s = self.stats(wl, tool)
                if s:
                    self.target(what + (" (screen)" if tool == "siphon-screen" else ""),
                                f"{s[2]:.1f} MiB", s[2] <= limit)
                else:
                    self.target(what, "siphon not measured", None)
        if "queue" in self.runs and "queue1" in self.runs:
            full, one = self.stats("queue", "siphon"), self.stats("queue1", "siphon")
            n, j = self.queue_sizes()
            url = float(m.get("queue_url_bytes", 0))
            what = f"queue: at most 256 bytes per queued item beyond its URL text ({url:.0f} bytes)"
            if full and one:
                b = (full[2] - one[2]) * 1024 * 1024 / (n - j)
                self.target(what, f"{b:.0f} bytes per item = {b - url:.0f} beyond the URL", b - url <= 256)
            else:
                self.target(what, "siphon not measured", None)
        # issue 9: -j 1000 no dearer per file than -j 32 (same list), and the
        # peak RSS with 80,000 URLs queued at most curl's
        if "wide" in self.runs and "scale32" in self.runs:
            w, q = self.stats("wide", "siphon"), self.stats("scale32", "siphon")
            jw = self.sizes("wide")[1]
            for i, label in ((0, "wall"), (1, "CPU")):
                what = f"wide: -j {jw} costs no more {label} per file than -j {self.sizes('scale32')[1]} (same list)"
                if w and q:
                    self.target(what, f"{w[i]:.2f} s vs {q[i]:.2f} s = {w[i] / q[i]:.2f}x", w[i] <= q[i])
                else:
                    self.target(what, "siphon not measured", None)
        if "scale32" in self.runs:
            sq, cq = self.stats("scale32", "siphon"), self.stats("scale32", "curl")
            what = "scale32: peak RSS with the whole list queued at most curl's"
            if sq and cq:
                self.target(what, f"siphon {sq[2]:.1f} MiB vs curl {cq[2]:.1f} MiB = {sq[2] / cq[2]:.2f}x",
                            sq[2] <= cq[2])
            else:
                self.target(what, "siphon or curl not measured", None)
        # issue 11: on a server that limits each connection, within 1.1x of
        # the limit and ahead of every peer; unthrottled, -s N no slower than -s 1
        if "segthrottled" in self.runs:
            sip, lim = self.stats("segthrottled", "siphon"), self.seg_limit()
            what = f"segthrottled: wall at most 1.1x the limit ({lim:.2f} s)"
            if sip:
                self.target(what, f"{sip[0]:.2f} s = {sip[0] / lim:.2f}x", sip[0] <= 1.1 * lim)
            else:
                self.target(what, "siphon not measured", None)
            self.ratio_target("segthrottled", 0, 1.0, "wall")
        if "segsingle" in self.runs:
            sip, one = self.stats("segsingle", "siphon"), self.stats("segsingle", "siphon-s1")
            what = "segsingle: -s N no slower (wall) than -s 1"
            if sip and one:
                self.target(what, f"{sip[0]:.2f} s vs {one[0]:.2f} s = {sip[0] / one[0]:.2f}x",
                            sip[0] <= one[0])
            else:
                self.target(what, "siphon not measured", None)
        if "screen" in self.runs:
            h, s = self.stats("screen", "siphon"), self.stats("screen", "siphon-screen")
            what = "screen: CPU at most 1.05x headless on the same work"
            if h and s:
                front = ""
                if h[4] is not None and s[4] is not None:
                    front = f" (front-end thread {s[4]:.2f} s vs {h[4]:.2f} s)"
                self.target(what, f"screen {s[1]:.2f} s vs headless {h[1]:.2f} s = {s[1] / h[1]:.3f}x"
                                  + front, s[1] <= 1.05 * h[1])
            else:
                self.target(what, "siphon not measured", None)
        self.w("## Targets of issues 6, 9 and 11")
        self.w()
        self.w("| target | measured | holds |")
        self.w("|---|---|---|")
        for t in self.targets:
            self.w(f"| {t[0]} | {t[1]} | {t[2]} |")
        self.w()
        self.w("For reference, issue 6 measured the peers on this 2-core machine at (median wall / CPU / "
               "peak RSS): big: wget2 2.4 s / 4.0 s / 104 MiB, curl 5.3 s / 4.4 s / 11 MiB; single: wget2 "
               "1.9 s, curl 2.1 s; small: curl 0.24 s / 0.21 s / 12 MiB; queue: curl 0.68 s / 0.66 s / "
               "15 MiB, ~0.1 KiB RSS per queued URL (aria2c 11.7 KiB).")
        self.w()
        return "\n".join(self.out)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    runs = load_runs(sys.argv[1])
    meta, notes = load_meta(sys.argv[2])
    text = Report(runs, meta, notes).build()
    print(text)
    extra = ""
    if len(sys.argv) > 4:
        try:
            with open(sys.argv[4]) as f:
                extra = "\n" + f.read()
        except FileNotFoundError:
            pass
    with open(sys.argv[3], "w") as f:
        f.write(text + extra)


if __name__ == "__main__":
    main()
