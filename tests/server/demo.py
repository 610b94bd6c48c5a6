#!/usr/bin/python3
"""siphon demo: start the local test server, write a demo list, and run siphon
on it in the foreground.

    python3 tests/server/demo.py /abs/path/to/siphon [--keep]

Interactive when stdout is a terminal, else --headless.  Uses an INI list
(with [settings] and item names) when tests/server/demo.ini exists or
siphon's INI loader passes a quick probe; otherwise a plain URL list.  No
internet needed: everything comes from 127.0.0.1.  Returns siphon's exit
code.
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
SERVER = HERE / "server.py"
TEMPLATE = HERE / "demo.ini"
MiB = 1024 * 1024


def start_server():
    # own session: a Ctrl-C meant for siphon must not stop the server
    p = subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE,
                         start_new_session=True)
    r, _, _ = select.select([p.stdout], [], [], 10)
    line = p.stdout.readline().decode().split() if r else []
    if len(line) != 2 or line[0] != "PORT":
        p.kill()
        sys.exit("demo: the test server did not start")
    return p, int(line[1])


def stop_server(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(5)


def items(base):
    """(name, path, query, extra INI keys) of the demo downloads."""
    return [
        ("fast", "/f/fast.bin", {"size": 8 * MiB, "seed": 1}, {}),
        ("slow", "/f/slow.bin", {"size": 4 * MiB, "seed": 2, "rate": 512 * 1024}, {}),
        ("large", "/f/large.iso", {"size": 96 * MiB, "seed": 3, "rate": 12 * MiB}, {}),
        ("chunked", "/f/stream.log", {"size": 3 * MiB, "seed": 4, "chunked": 1,
                                      "rate": MiB}, {}),
        ("redirected", "/f/redirected.tar", {"size": 2 * MiB, "seed": 5, "redirect": 2}, {}),
        ("missing", "/f/missing.bin", {"status": 404}, {}),
        ("busy-then-ok", "/f/busy.bin", {"size": MiB, "seed": 6, "status": 503,
                                         "retry_after": 2, "fail_first": 1}, {}),
        ("stalls", "/f/stalls.bin", {"size": 2 * MiB, "seed": 7, "stall_after": 300000},
         {"stall_timeout": "3s", "retries": "0"}),
    ] + [("small-%d" % i, "/f/small-%d.txt" % i, {"size": 20000 + i * 977, "seed": 10 + i}, {})
         for i in range(6)]


def url(base, path, query):
    return base + path + "?" + urlencode(query)


def write_url_list(d, base):
    p = d / "demo.txt"
    p.write_text("# siphon demo list (local test server)\n" +
                 "".join(url(base, path, q) + "\n" for _, path, q, _ in items(base)))
    return p, ["--stall-timeout", "3s"]


def write_ini(d, base):
    p = d / "demo.ini"
    if TEMPLATE.exists():
        p.write_text(TEMPLATE.read_text().replace("{base}", base))
        return p, []
    out = ["; siphon demo list (local test server)", "[settings]", "concurrency = 4",
           "dir = downloads", "retries = 2", ""]
    for name, path, q, extra in items(base):
        out.append("[%s]" % name)
        out.append("url = %s" % url(base, path, q))
        for k, v in extra.items():
            out.append("%s = %s" % (k, v))
        out.append("")
    p.write_text("\n".join(out))
    return p, []


def ini_works(siphon, d, base):
    """A one-item INI list that only a working INI loader gets right."""
    probe = d / "probe"
    probe.mkdir()
    (probe / "p.ini").write_text(
        "[settings]\ndir = got\n\n[probe item]\nurl = %s\noutput = probe.bin\n"
        % url(base, "/f/probe", {"size": 10}))
    try:
        r = subprocess.run([siphon, "--headless", "--no-config", "p.ini"], cwd=probe,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=15)
        ok = r.returncode == 0 and (probe / "got" / "probe.bin").is_file()
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    shutil.rmtree(probe, ignore_errors=True)
    return ok


def main():
    args = [a for a in sys.argv[1:] if a != "--keep"]
    keep = "--keep" in sys.argv[1:]
    if len(args) != 1:
        sys.exit("usage: demo.py /abs/path/to/siphon [--keep]")
    siphon = os.path.abspath(args[0])
    if not os.access(siphon, os.X_OK):
        sys.exit("demo: %s is not an executable" % siphon)
    srv, port = start_server()
    base = "http://127.0.0.1:%d" % port
    d = Path(tempfile.mkdtemp(prefix="siphon-demo-"))
    code = 1
    try:
        if TEMPLATE.exists() or ini_works(siphon, d, base):
            lst, extra = write_ini(d, base)
        else:
            lst, extra = write_url_list(d, base)
            extra += ["-d", "downloads", "--retries", "2"]
        argv = [siphon, "--no-config"] + extra + [lst.name]
        if not sys.stdout.isatty():
            argv.insert(1, "--headless")
        print("demo: server on %s, list %s" % (base, lst), file=sys.stderr, flush=True)
        # siphon gets the terminal's Ctrl-C; we only wait for it
        signal.signal(signal.SIGINT, lambda *a: None)
        p = subprocess.Popen(argv, cwd=d)
        while True:
            try:
                code = p.wait()
                break
            except InterruptedError:
                continue
    finally:
        stop_server(srv)
        if keep:
            print("demo: files kept in %s" % d, file=sys.stderr)
        else:
            shutil.rmtree(d, ignore_errors=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
