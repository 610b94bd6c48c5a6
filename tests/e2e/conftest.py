"""Fixtures for siphon's end-to-end tests: the local test server, the real
binary (run to completion or as a live process), and helpers to check files
byte by byte.

Everything talks to 127.0.0.1 only.  Every wait is bounded; a siphon run
that outlives its timeout is killed and the test fails.
"""

import hashlib
import importlib.util
import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER_PY = REPO / "tests" / "server" / "server.py"
PYTHON = "/usr/bin/python3"
ASAN = os.environ.get("SIPHON_ASAN") == "1"
DEFAULT_FLAGS = ["--headless", "--json", "--no-config"]
NOBODY = 65534

_spec = importlib.util.spec_from_file_location("siphon_test_server", SERVER_PY)
srvmod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(srvmod)


def content(size, seed=1, start=0):
    """The bytes the server sends for [start, size) of a resource."""
    return srvmod.content(seed, start, size - start)


def sha256_of(size, seed=1):
    """sha256 hex of a whole resource, computed in slices."""
    h = hashlib.sha256()
    p = srvmod.pattern(seed)
    pos = 0
    while pos < size:
        n = min(srvmod.CHUNK, size - pos)
        off = pos % srvmod.PERIOD
        h.update(p[off:off + n])
        pos += n
    return h.hexdigest()


def verify_file(path, size, seed=1):
    """Assert that the file at path is exactly the resource (size, seed);
    names the first wrong offset."""
    path = Path(path)
    assert path.is_file(), "%s: no such file" % path
    actual = path.stat().st_size
    p = srvmod.pattern(seed)
    pos = 0
    with open(path, "rb") as f:
        while pos < min(size, actual):
            n = min(srvmod.CHUNK, size - pos)
            got = f.read(n)
            if not got:
                break
            off = pos % srvmod.PERIOD
            want = p[off:off + len(got)]
            if got != want:
                bad = next(i for i in range(len(got)) if got[i] != want[i])
                raise AssertionError("%s: wrong byte at offset %d (got %d, want %d)"
                                     % (path, pos + bad, got[bad], want[bad]))
            pos += len(got)
    assert actual == size, "%s: %d bytes, expected %d" % (path, actual, size)


class TestServer:
    """A running tests/server/server.py."""

    def __init__(self):
        self.proc = subprocess.Popen([PYTHON, str(SERVER_PY)], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        r, _, _ = select.select([self.proc.stdout], [], [], 10)
        if not r:
            self.proc.kill()
            raise RuntimeError("test server did not print its port within 10 s")
        line = self.proc.stdout.readline().decode().split()
        if len(line) != 2 or line[0] != "PORT":
            self.proc.kill()
            raise RuntimeError("test server said %r" % line)
        self.port = int(line[1])

    def base(self, host="127.0.0.1"):
        return "http://%s:%d" % (host, self.port)

    def url(self, path, host="127.0.0.1", **params):
        """URL of path on the server; params become the query (fault modes)."""
        u = self.base(host) + path
        if params:
            u += "?" + urlencode(params)
        return u

    def _get(self, path, timeout=10):
        with urllib.request.urlopen(self.base() + path, timeout=timeout) as r:
            return json.loads(r.read())

    def stats(self):
        return self._get("/_stats")

    def requests(self, prefix="/"):
        """Recorded requests whose path starts with prefix, in order."""
        return [r for r in self.stats()["requests"] if r["path"].startswith(prefix)]

    def max_overlap(self, slack=0.03, host=None):
        """The most connections open at once, from the records: each open from
        its first request until its close was seen, less `slack` seconds.
        The server notices a client's close a few ms late (thread
        scheduling), so a client that closes one connection and at once
        opens another can look like one too many in max_open; a client that
        really exceeds a limit holds the extra connection far longer."""
        st = self.stats()
        marks = []
        for c in st["connections"]:
            if c["first_request"] is None:
                continue
            if host is not None:
                reqs = [r for r in st["requests"] if r["conn"] == c["id"]]
                if not reqs or not (reqs[0]["host"] or "").startswith(host + ":"):
                    continue
            end = c["closed"] - slack if c["closed"] is not None else float("inf")
            if end > c["first_request"]:
                marks.append((c["first_request"], 1))
                marks.append((end, -1))
        best = cur = 0
        for _, d in sorted(marks, key=lambda m: (m[0], m[1])):
            cur += d
            best = max(best, cur)
        return best

    def wait_open(self, n=0, timeout=5.0):
        """Wait until at most n connections are open (bounded); the last stats."""
        deadline = time.time() + timeout
        while True:
            st = self.stats()
            if st["open_now"] + st["pending_now"] <= n or time.time() > deadline:
                return st
            time.sleep(0.05)

    def reset(self):
        """Forget what was seen, once earlier tests' connections are closed."""
        self.wait_open(0, timeout=3.0)
        self._get("/_reset")

    # content helpers, here so test modules need not import conftest
    @staticmethod
    def expected_bytes(size, seed=1, start=0):
        return content(size, seed, start)

    @staticmethod
    def verify(path, size, seed=1):
        verify_file(path, size, seed)

    @staticmethod
    def sha256(size, seed=1):
        return sha256_of(size, seed)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture(scope="session")
def _server_proc():
    s = TestServer()
    yield s
    s.stop()


@pytest.fixture
def server(_server_proc):
    """The session's test server, with its records cleared for this test."""
    _server_proc.reset()
    return _server_proc


@pytest.fixture
def second_server():
    """Another test server on another port (another host, for credentials)."""
    s = TestServer()
    yield s
    s.stop()


# -- the binary -----------------------------------------------------------

def siphon_bin():
    b = os.environ.get("SIPHON_BIN")
    if b:
        if not os.access(b, os.X_OK):
            pytest.fail("SIPHON_BIN=%s is not an executable file" % b)
        return b
    b = REPO / "build" / "siphon"
    if not os.access(b, os.X_OK):
        pytest.skip("no siphon binary: set SIPHON_BIN or run make")
    return str(b)


def parse_events(text):
    """NDJSON stdout -> list of dicts; anything else on stdout is an error."""
    events = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            ev = json.loads(line)
        except ValueError:
            raise AssertionError("stdout line %d is not JSON: %r" % (n, line))
        assert isinstance(ev, dict) and "event" in ev, \
            "stdout line %d is not an event object: %r" % (n, line)
        events.append(ev)
    return events


class Result:
    def __init__(self, code, stdout, stderr, json_out=True):
        self.code = code
        self.stdout = stdout
        self.stderr = stderr
        self.events = parse_events(stdout) if json_out else []

    def of(self, item_id):
        return [e for e in self.events if e.get("id") == item_id]

    def kinds(self, item_id):
        return [e["event"] for e in self.of(item_id)]

    def final(self, item_id):
        """The one final event of an item (asserts there is exactly one)."""
        fin = [e for e in self.of(item_id) if e["event"] in FINAL]
        assert len(fin) == 1, "item %d final events: %r\nstderr: %s" % (
            item_id, fin, self.stderr[-2000:])
        return fin[0]

    def summary(self):
        s = [e for e in self.events if e["event"] == "summary"]
        assert len(s) == 1, "summary events: %r" % s
        assert self.events[-1]["event"] == "summary", "summary is not the last event"
        return s[0]

    def __repr__(self):
        return "<siphon exit %s, %d events, stderr %r>" % (
            self.code, len(self.events), self.stderr[-1500:])


FINAL = ("done", "failed", "timed_out", "cancelled", "skipped")


def _argv(args, flags):
    return [siphon_bin()] + (DEFAULT_FLAGS if flags else []) + [str(a) for a in args]


@pytest.fixture
def siphon(tmp_path):
    """run(args, cwd=tmp_path, timeout=60, stdin=None, flags=True) -> Result.
    flags=False leaves out --headless --json --no-config."""

    def run(args, cwd=None, timeout=60, stdin=None, flags=True, env=None):
        argv = _argv(args, flags)
        e = dict(os.environ)
        e.pop("NO_COLOR", None)
        e.update(env or {})
        try:
            p = subprocess.run(argv, cwd=str(cwd or tmp_path), input=stdin,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout * (3 if ASAN else 1), env=e,
                               stdin=None if stdin is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired as ex:
            err = (ex.stderr or b"").decode(errors="replace")[-2000:]
            pytest.fail("siphon did not finish within %ss: %s\nstderr: %s"
                        % (timeout, argv, err))
        return Result(p.returncode, p.stdout.decode(errors="replace"),
                      p.stderr.decode(errors="replace"), json_out="--json" in argv)

    return run


class SiphonProc:
    """A live siphon process: events arrive in .events as they are printed;
    /proc figures can be read while it runs; waited for with wait4 so its
    peak RSS (ru_maxrss) is exact."""

    def __init__(self, args, cwd, flags=True, env=None, sample=False, nobody=False, wrap=None):
        e = dict(os.environ)
        e.update(env or {})
        # wrap: a command siphon runs under (strace ... --), its exit code passed on
        self.argv = list(wrap or []) + _argv(args, flags)
        pre = None
        if nobody and os.geteuid() == 0:
            # root ignores file modes; a read-only dir only bites an ordinary user
            def pre():
                os.setgroups([])
                os.setgid(NOBODY)
                os.setuid(NOBODY)
        self.p = subprocess.Popen(self.argv, cwd=str(cwd), stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
                                  preexec_fn=pre)
        self.pid = self.p.pid
        self.events = []
        self.event_times = []  # arrival time of each event, same index
        self.stdout_lines = []
        self.stderr_chunks = []
        self.cond = threading.Condition()
        self.code = None
        self.rusage = None
        self.max_hwm_kb = 0
        self.fd_samples = []  # (time, count)
        self._done = threading.Event()
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True),
                         threading.Thread(target=self._wait, daemon=True)]
        if sample:
            self._threads.append(threading.Thread(target=self._sample, daemon=True))
        for t in self._threads:
            t.start()

    def _read_out(self):
        for raw in self.p.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            with self.cond:
                self.stdout_lines.append(line)
                if line.strip():
                    try:
                        self.events.append(json.loads(line))
                    except ValueError:
                        self.events.append({"event": "__not_json__", "line": line})
                    self.event_times.append(time.time())
                self.cond.notify_all()

    def _read_err(self):
        for raw in self.p.stderr:
            self.stderr_chunks.append(raw.decode(errors="replace"))

    def _wait(self):
        _, status, ru = os.wait4(self.pid, 0)
        self.p.returncode = os.waitstatus_to_exitcode(status)
        with self.cond:
            self.code = self.p.returncode
            self.rusage = ru
            self._done.set()
            self.cond.notify_all()

    def _sample(self):
        while not self._done.is_set():
            hwm = self.vmhwm_kb()
            if hwm:
                self.max_hwm_kb = max(self.max_hwm_kb, hwm)
            n = self.fd_count()
            if n is not None:
                self.fd_samples.append((time.time(), n))
            time.sleep(0.05)

    @property
    def stderr(self):
        return "".join(self.stderr_chunks)

    def wait_event(self, pred, timeout=30):
        """The first event satisfying pred, waiting at most timeout seconds."""
        deadline = time.time() + timeout * (3 if ASAN else 1)
        with self.cond:
            while True:
                for ev in self.events:
                    if pred(ev):
                        return ev
                left = deadline - time.time()
                if left <= 0 or self.code is not None:
                    for ev in self.events:
                        if pred(ev):
                            return ev
                    self.kill()
                    pytest.fail("no matching event within %ss (exit %s); events %r\n"
                                "stderr: %s" % (timeout, self.code, self.events[-20:],
                                                self.stderr[-2000:]))
                self.cond.wait(min(left, 0.2))

    def count(self, pred):
        with self.cond:
            return sum(1 for ev in self.events if pred(ev))

    def wait(self, timeout=60):
        """The exit code; kills the process and fails the test on timeout."""
        t = timeout * (3 if ASAN else 1)
        if not self._done.wait(t):
            self.kill()
            pytest.fail("siphon still running after %ss: %s\nstderr: %s"
                        % (timeout, self.argv, self.stderr[-2000:]))
        for th in self._threads[:2]:
            th.join(5)
        return self.code

    def kill(self, sig=signal.SIGKILL):
        if self.code is None:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass
        if sig == signal.SIGKILL:
            self._done.wait(10)

    def signal(self, sig):
        os.kill(self.pid, sig)

    def fd_count(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.pid))
        except OSError:
            return None

    def fd_targets(self):
        out = []
        try:
            for fd in os.listdir("/proc/%d/fd" % self.pid):
                try:
                    out.append(os.readlink("/proc/%d/fd/%s" % (self.pid, fd)))
                except OSError:
                    pass
        except OSError:
            pass
        return out

    def vmhwm_kb(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1])
        except OSError:
            pass
        return None

    def peak_rss_kb(self):
        """Peak RSS: the highest VmHWM read while it ran (sampled every 50 ms;
        VmHWM only grows, so this misses at most the last 50 ms).  Not
        wait4's ru_maxrss: Linux carries the pre-exec high-water mark of the
        forked (or vforked) Python parent into it."""
        return self.max_hwm_kb

    def result(self):
        return Result(self.code, "\n".join(self.stdout_lines), self.stderr,
                      json_out="--json" in self.argv)


@pytest.fixture
def siphon_proc(tmp_path):
    """start(args, cwd=tmp_path, flags=True, sample=False) -> SiphonProc; every
    process still running at the end of the test is killed."""
    procs = []

    def start(args, cwd=None, flags=True, env=None, sample=False, nobody=False, wrap=None):
        sp = SiphonProc(args, cwd or tmp_path, flags=flags, env=env, sample=sample,
                        nobody=nobody, wrap=wrap)
        procs.append(sp)
        return sp

    yield start
    for sp in procs:
        if sp.code is None:
            sp.kill()


@pytest.fixture
def blackhole():
    """A 127.0.0.1 port where a TCP connect never completes.

    A listener with backlog 0 that never accepts, its accept queue filled by
    our own connections: Linux then drops further SYNs (a full accept queue
    drops the SYN even with syncookies on), so a client sits in SYN_SENT
    until its connect timeout fires.  This is a connect timeout proper, not
    a server that accepts and then says nothing."""
    lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lst.bind(("127.0.0.1", 0))
    lst.listen(0)
    port = lst.getsockname()[1]
    fills = []
    for _ in range(4):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fills.append(c)
    time.sleep(0.2)
    # prove it: a fresh connect must not complete within 0.5 s
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(0.5)
    try:
        probe.connect(("127.0.0.1", port))
        ok = False
    except (socket.timeout, TimeoutError):
        ok = True
    except OSError:
        ok = False
    probe.close()
    if not ok:
        for c in fills:
            c.close()
        lst.close()
        pytest.skip("cannot make a loopback port that drops SYNs on this kernel")
    yield port
    for c in fills:
        c.close()
    lst.close()


@pytest.fixture
def closed_port():
    """A 127.0.0.1 port with nothing listening (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_list(path, urls):
    Path(path).write_text("".join(u + "\n" for u in urls))
    return Path(path)
