"""Fixtures for the tmux tests of the interactive screen.

The test server and its helpers come from tests/e2e/conftest.py, loaded
under its own module name so nothing is copied.  `screen` starts the real
binary inside a detached tmux session on a private socket (-L), so the
screen has a real terminal; every wait polls capture-pane with a deadline.
"""

import importlib.util
import os
import re
import shlex
import subprocess
import time
import uuid
from pathlib import Path

import pytest

_E2E = Path(__file__).resolve().parents[1] / "e2e" / "conftest.py"
_spec = importlib.util.spec_from_file_location("siphon_e2e_conftest", _E2E)
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)

# Re-exported fixtures: the session's test server and the binary's path.
_server_proc = e2e._server_proc
server = e2e.server
verify_file = e2e.verify_file
siphon_bin = e2e.siphon_bin
ASAN = e2e.ASAN
SLOW = 3 if ASAN else 1


class Screen:
    """siphon running in a tmux pane of a private tmux server."""

    def __init__(self, args, cwd, width=120, height=40, env=None, wrap=None):
        self.cwd = Path(cwd)
        self.sock = "siphon-tui-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
        self.exit_file = self.cwd / ".tui-exit"
        self.stty_file = self.cwd / ".tui-stty"
        envs = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "screen"}
        envs.pop("NO_COLOR", None)
        envs.update(env or {})
        # wrap: a command siphon runs under (strace ... --), its exit code passed on
        argv = list(wrap or []) + [siphon_bin(), "--no-config"] + [str(a) for a in args]
        # After siphon exits: record its status and the terminal's modes,
        # then keep the pane open so the status table can be read.
        # The exit file is written last: once it is there, so is the rest.
        script = ("trap : INT; cd %s && env -u NO_COLOR %s %s; rc=$?; stty -a > %s; "
                  "echo $rc > %s.tmp; mv %s.tmp %s; sleep 600") % (
            shlex.quote(str(self.cwd)),
            " ".join(shlex.quote("%s=%s" % kv) for kv in envs.items()),
            " ".join(shlex.quote(a) for a in argv),
            shlex.quote(str(self.stty_file)), shlex.quote(str(self.exit_file)),
            shlex.quote(str(self.exit_file)), shlex.quote(str(self.exit_file)))
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height), "sh", "-c",
                  script)

    def tmux(self, *args, check=True):
        p = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
        if check and p.returncode != 0:
            raise AssertionError("tmux %s: %s" % (args, p.stderr.decode()))
        return p.stdout.decode(errors="replace")

    def text(self):
        return self.tmux("capture-pane", "-p")

    def lines(self):
        return self.text().split("\n")

    def keys(self, *keys):
        self.tmux("send-keys", *keys)

    def literal(self, s):
        self.tmux("send-keys", "-l", s)

    def resize(self, w, h):
        self.tmux("resize-window", "-x", str(w), "-y", str(h))

    def size(self):
        out = self.tmux("display-message", "-p", "#{pane_width} #{pane_height}")
        w, h = out.split()
        return int(w), int(h)

    def pane_flag(self, fmt):
        return self.tmux("display-message", "-p", fmt).strip()

    def wait(self, pred, timeout=20, what="the screen"):
        """Poll the screen until pred(text) is truthy; returns its value."""
        deadline = time.time() + timeout * SLOW
        text = ""
        while time.time() < deadline:
            text = self.text()
            v = pred(text)
            if v:
                return v
            if self.exited():
                text = self.text()
                v = pred(text)
                if v:
                    return v
                break
            time.sleep(0.1)
        raise AssertionError("timed out waiting for %s; screen:\n%s" % (what, text))

    def wait_text(self, needle, timeout=20):
        return self.wait(lambda t: needle in t, timeout, repr(needle))

    def row(self, name, text=None):
        """The list row of an item (the first line starting with its name)."""
        for line in (text if text is not None else self.text()).split("\n"):
            if line.startswith(" " + name + " "):
                return line
        return None

    def wait_row(self, name, pred, timeout=20, what=None):
        def check(t):
            r = self.row(name, t)
            return r if r is not None and pred(r) else None
        return self.wait(check, timeout, what or "row %s" % name)

    def exited(self):
        return self.exit_file.exists() and self.exit_file.read_text().strip() != ""

    def wait_exit(self, timeout=20):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            if self.exited():
                return int(self.exit_file.read_text().strip())
            time.sleep(0.1)
        raise AssertionError("siphon did not exit; screen:\n%s" % self.text())

    def close(self):
        self.tmux("kill-server", check=False)


@pytest.fixture
def screen(tmp_path):
    """start(args, width=120, height=40) -> Screen in tmp_path; the tmux
    server (and siphon with it) is killed at teardown."""
    screens = []

    def start(args, width=120, height=40, env=None, cwd=None, wrap=None):
        if cwd:
            Path(cwd).mkdir(parents=True, exist_ok=True)
        s = Screen(args, cwd or tmp_path, width, height, env, wrap)
        screens.append(s)
        return s

    yield start
    for s in screens:
        s.close()


ROW_BYTES = re.compile(r"([\d.]+) (B|KiB|MiB|GiB)/")
_UNITS = {"B": 1, "KiB": 1024, "MiB": 1 << 20, "GiB": 1 << 30}


def row_bytes(row):
    """Bytes done as the row shows them (from 'done/total'), or None."""
    m = ROW_BYTES.search(row or "")
    if not m:
        return None
    return float(m.group(1)) * _UNITS[m.group(2)]


POOL = re.compile(r"pool (\d+) open / (\d+) in use / (\d+) idle of (\d+)")


def pool_figures(text):
    m = POOL.search(text)
    return tuple(int(g) for g in m.groups()) if m else None


def concurrency(text):
    m = re.search(r"concurrency (\d+)", text)
    return int(m.group(1)) if m else None
