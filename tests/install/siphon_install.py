"""Helpers for the install tests: `make install` into a temporary DESTDIR
(with its own build directory, so the tree's build/ is not touched), the
options of `siphon --help`, and running a binary on a pseudo-terminal.

Nothing here uses the network.  Every wait is bounded; a process that
outlives its deadline is killed by its PID and the test fails.
"""

import fcntl
import os
import re
import select
import shutil
import struct
import subprocess
import termios
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PREFIX = "/usr"
ASAN = os.environ.get("SIPHON_ASAN") == "1"
SLOW = 3 if ASAN else 1


def siphon_bin():
    b = os.environ.get("SIPHON_BIN") or str(REPO / "build" / "siphon")
    if not os.access(b, os.X_OK):
        pytest.fail("no siphon binary at %s: set SIPHON_BIN or run make" % b)
    return b


def make(*args, timeout=600):
    """Run make in the source tree with a clean make environment (so a
    `make asan` or `make -j` around the tests does not leak its variables
    into this one)."""
    return subprocess.run(["make", "--no-print-directory", "-C", str(REPO)] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=make_env(), timeout=timeout)


# What a make around the tests passes down: its flags, and the variables of
# its command line, which make exports (make asan: BUILD, SAN, OPT, ...).
MAKE_VARS = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS", "BUILD", "SAN",
             "OPT", "FUZZ_TIME", "PREFIX", "DESTDIR", "BINDIR", "DATADIR", "MANDIR", "CC",
             "CFLAGS", "CPPFLAGS", "LDFLAGS", "LDLIBS", "PKGS", "PKG_CONFIG"}


def make_env():
    return {k: v for k, v in os.environ.items() if k not in MAKE_VARS}


def files_under(root):
    """Every file (not directory) below root, as paths relative to it."""
    root = Path(root)
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() or p.is_symlink())


def theme_names():
    return sorted(p.stem for p in (REPO / "themes").glob("*.ini"))


def expected_files(prefix=PREFIX):
    p = prefix.lstrip("/")
    want = ["%s/bin/siphon" % p,
            "%s/share/man/man1/siphon.1" % p,
            "%s/share/bash-completion/completions/siphon" % p,
            "%s/share/zsh/site-functions/_siphon" % p,
            "%s/share/fish/vendor_completions.d/siphon.fish" % p]
    want += ["%s/share/siphon/themes/%s.ini" % (p, t) for t in theme_names()]
    return sorted(want)


def do_install(build, destdir, *extra):
    res = make("install", "BUILD=%s" % build, "DESTDIR=%s" % destdir, "PREFIX=%s" % PREFIX,
               "-j2", *extra)
    assert res.returncode == 0, "make install failed:\n%s\n%s" % (res.stdout, res.stderr)
    return Path(destdir)


def base_env(home):
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
            "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "xterm-256color"}


# --help -----------------------------------------------------------------

OPT_RE = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9.-]*|-[a-zA-Z])(?![\w-])")


def help_text():
    res = subprocess.run([siphon_bin(), "--help"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=10 * SLOW)
    assert res.returncode == 0, res.stderr
    return res.stdout


def help_options():
    """Every option --help lists: the names at the start of its option lines."""
    opts = set()
    for line in help_text().splitlines():
        m = re.match(r"^\s+(-[a-zA-Z], )?(--[a-z0-9][a-z0-9.-]*)", line)
        if m:
            if m.group(1):
                opts.add(m.group(1)[:2])
            opts.add(m.group(2))
    assert len(opts) > 10, "could not read the options of --help"
    return opts


# a program on a pseudo-terminal ------------------------------------------

class TtyRun:
    def __init__(self, code, output):
        self.code = code
        self.output = output

    def __repr__(self):
        return "TtyRun(code=%r, output=%r)" % (self.code, self.output[-2000:])


def run_on_tty(argv, env, cwd, quit_after=None, timeout=15):
    """Run argv with a pseudo-terminal as stdin, stdout and stderr (80x24).
    With quit_after: once that text was drawn, type q (and y).  Returns the
    exit code and everything written to the terminal."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=str(cwd),
                         start_new_session=True)
    os.close(slave)
    out = b""
    sent = False
    deadline = time.time() + timeout * SLOW
    try:
        while time.time() < deadline:
            r, _, _ = select.select([master], [], [], 0.1)
            if r:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the other side is gone
                    data = b""
                if not data and p.poll() is not None:
                    break
                out += data
            elif p.poll() is not None:
                break
            if quit_after and not sent and quit_after.encode() in out:
                time.sleep(0.3)
                os.write(master, b"q")
                sent = True
        else:
            p.kill()
            p.wait(timeout=5)
            raise AssertionError("%s did not exit within %ds; output: %r"
                                 % (argv, timeout * SLOW, out[-2000:]))
        code = p.wait(timeout=5 * SLOW)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=5)
        os.close(master)
    return TtyRun(code, out.decode("utf-8", "replace"))


def copy_tree(src, dst):
    shutil.copytree(src, dst, symlinks=True)
    return Path(dst)
