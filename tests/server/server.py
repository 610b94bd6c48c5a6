#!/usr/bin/python3
"""siphon's local fault-injecting HTTP/1.1 test server (stdlib only).

Serves deterministic content: byte i of a resource with seed S is
pattern(S)[i % PERIOD], where pattern(S) is a fixed block of PERIOD bytes
made from sha256 of the seed.  PERIOD is a prime (65521) so a misplaced
buffer of any power-of-two size shows up as wrong bytes.  Bodies stream
from memoryview slices; nothing builds a whole body in memory.

Fault modes are chosen by the query string of any path that does not start
with /_ (see README.md beside this file).  The server records every
connection and request; GET /_stats returns them as JSON, GET or POST
/_reset clears them.

Prints "PORT <n>" as its first line on stdout, then serves until SIGTERM or
SIGINT.
"""

import argparse
import base64
import email.utils
import hashlib
import json
import select
import signal
import socket
import struct
import sys
import threading
import time
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit, urlencode

PERIOD = 65521          # prime: no power-of-two buffer lines up with it
CHUNK = 256 * 1024      # largest slice handed to sendall
HOLD_MAX = 600.0        # a silent connection is held at most this long

_patterns = {}
_patterns_lock = threading.Lock()


def pattern(seed):
    """The PERIOD-byte block of a seed, plus CHUNK bytes of wrap-around so
    any offset has CHUNK contiguous bytes after it."""
    with _patterns_lock:
        p = _patterns.get(seed)
        if p is None:
            out = bytearray()
            k = 0
            while len(out) < PERIOD:
                out += hashlib.sha256(b"siphon-test:%d:%d" % (seed, k)).digest()
                k += 1
            block = bytes(out[:PERIOD])
            reps = (PERIOD + CHUNK) // PERIOD + 1
            p = memoryview((block * reps)[:PERIOD + CHUNK])
            _patterns[seed] = p
        return p


def content(seed, start, length):
    """Bytes [start, start+length) of a resource (for tests; small ranges)."""
    p = pattern(seed)
    out = bytearray()
    pos = start
    end = start + length
    while pos < end:
        off = pos % PERIOD
        n = min(CHUNK, end - pos)
        out += p[off:off + n]
        pos += n
    return bytes(out)


class Stats:
    """What the server saw.  One lock; handlers update their own records.

    A connection counts (connections_opened, open_now, max_open) from its
    first request that is not a control request (/_stats, /_reset), so the
    harness's own look-ups never show up.  An accepted connection that has
    sent nothing yet is "pending"; if it closes without a request it is
    still counted in connections_opened."""

    def __init__(self):
        self.lock = threading.Lock()
        self.conn_seq = 0
        self.open_now = 0
        self.pending_now = 0
        self.reset()

    def reset(self):
        with self.lock:
            self.opened = 0
            self.max_open = self.open_now
            self.conns = []
            self.requests = []
            self.counters = {}   # fail_first / etag_change counters by key

    def conn_open(self, peer):
        with self.lock:
            self.conn_seq += 1
            self.pending_now += 1
            return {"id": self.conn_seq, "peer": "%s:%d" % peer[:2],
                    "state": "pending", "opened": time.time(), "first_request": None,
                    "closed": None, "requests": 0}

    def conn_request(self, rec, control):
        """The connection sent a request: decide what it counts as."""
        with self.lock:
            if rec["state"] != "pending":
                return
            self.pending_now -= 1
            if control:
                rec["state"] = "control"
                return
            rec["state"] = "open"
            rec["first_request"] = time.time()
            self.opened += 1
            self.open_now += 1
            self.max_open = max(self.max_open, self.open_now)
            self.conns.append(rec)

    def conn_close(self, rec):
        with self.lock:
            rec["closed"] = time.time()
            if rec["state"] == "open":
                self.open_now -= 1
            elif rec["state"] == "pending":
                self.pending_now -= 1
                self.opened += 1
                self.conns.append(rec)
            if rec["state"] != "control":
                rec["state"] = "closed"

    def add_request(self, rec):
        with self.lock:
            self.requests.append(rec)

    def bump(self, key):
        """The 1-based count of requests seen for key."""
        with self.lock:
            n = self.counters.get(key, 0) + 1
            self.counters[key] = n
            return n

    def snapshot(self):
        with self.lock:
            return {
                "connections_opened": self.opened,
                "open_now": self.open_now,
                "pending_now": self.pending_now,
                "max_open": self.max_open,
                "connections": [dict(c) for c in self.conns],
                "requests": [dict(r) for r in self.requests],
            }


STATS = Stats()
STOP = threading.Event()


def parse_range(value, size):
    """(start, end_inclusive) for a single 'bytes=' range; 'ignore' for forms
    we do not serve (multi-range, junk): those get a 200 with the whole body;
    'unsat' when nothing of the range lies inside the resource."""
    if not value or not value.startswith("bytes="):
        return "ignore"
    spec = value[len("bytes="):].strip()
    if "," in spec or "-" not in spec:
        return "ignore"
    a, b = spec.split("-", 1)
    a, b = a.strip(), b.strip()
    try:
        if a == "":
            n = int(b)
            if n <= 0:
                return "unsat"
            if size == 0:
                return "unsat"
            return (max(0, size - n), size - 1)
        start = int(a)
        end = int(b) if b else size - 1
    except ValueError:
        return "ignore"
    if start < 0 or (b and end < start):
        return "ignore"
    if start >= size:
        return "unsat"
    return (start, min(end, size - 1))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "siphon-test"
    timeout = 300  # an idle keep-alive connection is dropped after this

    def log_message(self, fmt, *args):  # quiet: the tests read /_stats
        pass

    def setup(self):
        super().setup()
        self.conn_rec = STATS.conn_open(self.client_address)

    def finish(self):
        try:
            super().finish()
        finally:
            STATS.conn_close(self.conn_rec)

    # -- plumbing ---------------------------------------------------------

    def send_head(self, status, headers, reason=None):
        """Write the status line and headers in one sendall (bytes as given:
        a Content-Disposition value goes out verbatim, UTF-8)."""
        if reason is None:
            reason = self.responses.get(status, ("Status",))[0]
        lines = ["HTTP/1.1 %d %s" % (status, reason)]
        lines.append("Date: " + email.utils.formatdate(usegmt=True))
        lines.append("Server: siphon-test")
        for k, v in headers:
            lines.append("%s: %s" % (k, v))
        data = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
        self.connection.sendall(data)
        self.rec["status"] = status

    def hold(self, limit=HOLD_MAX):
        """Say nothing until the client closes (or limit passes, or the server
        stops).  Detects the client's close so /_stats shows it."""
        self.close_connection = True
        sock = self.connection
        deadline = time.time() + limit
        while not STOP.is_set() and time.time() < deadline:
            try:
                r, _, _ = select.select([sock], [], [], 0.1)
            except (OSError, ValueError):
                return
            if r:
                try:
                    data = sock.recv(65536)
                except OSError:
                    return
                if not data:
                    return

    def abort(self):
        """Close with a RST, after a moment so the client has read what was
        sent (an RST can make the peer drop unread data)."""
        self.close_connection = True
        time.sleep(0.05)
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.server.aborted.add(self.connection)

    def body_out(self, data):
        self.connection.sendall(data)
        self.rec["body_bytes"] += len(data)
        self.rec["t_last_write"] = time.time()

    # -- requests ---------------------------------------------------------

    def do_GET(self):
        self.serve(head=False)

    def do_HEAD(self):
        self.serve(head=True)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        self.serve(head=False)

    def serve(self, head):
        now = time.time()
        self.rec = {
            "conn": self.conn_rec["id"],
            "method": self.command,
            "path": self.path,
            "headers": [[k, v] for k, v in self.headers.items()],
            "host": self.headers.get("Host"),
            "range": self.headers.get("Range"),
            "if_range": self.headers.get("If-Range"),
            "content_range": None,
            "status": None,
            "body_bytes": 0,
            "t_start": now,
            "t_last_write": None,
            "t_end": None,
            "complete": False,
        }
        self.conn_rec["requests"] += 1
        parts = urlsplit(self.path)
        STATS.conn_request(self.conn_rec, parts.path in ("/_stats", "/_reset"))
        if parts.path == "/_stats":
            return self.control(STATS.snapshot())
        if parts.path == "/_reset":
            STATS.reset()
            return self.control({"ok": True})
        STATS.add_request(self.rec)
        try:
            self.serve_file(parts, head)
            self.rec["complete"] = True
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            self.close_connection = True
        finally:
            self.rec["t_end"] = time.time()

    def control(self, obj):
        data = json.dumps(obj).encode()
        self.rec["status"] = 200
        self.send_head(200, [("Content-Type", "application/json"),
                             ("Content-Length", str(len(data))),
                             ("Cache-Control", "no-store")])
        self.connection.sendall(data)

    def serve_file(self, parts, head):
        q = dict(parse_qsl(parts.query, keep_blank_values=True,
                           encoding="utf-8", errors="surrogateescape"))
        size = int(q.get("size", "1024"))
        seed = int(q.get("seed", "1"))
        key = q.get("key", self.path)
        n_req = STATS.bump(key)
        self.rec["n"] = n_req
        fail_first = q.get("fail_first")
        faulty = fail_first is None or n_req <= int(fail_first)
        if "fault_n" in q:
            # faults only on these requests of the key (1-based), e.g. "2,5"
            faulty = str(n_req) in q["fault_n"].split(",")
        host = self.headers.get("Host") or "127.0.0.1"

        # Redirects come first: every hop is a response of its own.
        if q.get("redirect_loop") == "1":
            return self.redirect("http://%s%s" % (host, self.path), q)
        if "redirect_to" in q and faulty:
            return self.redirect(q["redirect_to"], q)
        hops = int(q.get("redirect", "0"))
        if hops > 0:
            q2 = dict(q)
            q2["redirect"] = str(hops - 1)
            if "key" not in q2:
                q2.pop("fail_first", None)
            target = "http://%s%s?%s" % (host, parts.path, urlencode(q2))
            return self.redirect(target, q)

        if faulty and q.get("no_headers") == "1":
            return self.hold(float(q.get("hold", HOLD_MAX)))

        if faulty and "status" in q:
            return self.error_status(int(q["status"]), q)

        if "auth" in q:
            # the sha256 of "user:password", so the URL never holds the secret
            got = self.headers.get("Authorization") or ""
            try:
                cred = base64.b64decode(got[6:], validate=True) if got.startswith("Basic ") else b""
            except ValueError:
                cred = b""
            if not cred or hashlib.sha256(cred).hexdigest() != q["auth"].lower():
                return self.unauthorized()
        rng = self.headers.get("Range")
        # Hostile answers to a Range request: another content every time
        # (vary), a different total (range_size), or always from 0.
        if q.get("vary") == "1":
            seed += n_req

        # The validators of this response.
        if "etag" in q:
            etag = q["etag"]
            if not (etag.startswith('"') or etag.startswith('W/"')):
                etag = '"%s"' % etag
        else:
            etag = '"s%d-n%d"' % (seed, size)
        if q.get("etag_change") == "1":
            etag = '"s%d-n%d-v%d"' % (seed, size, n_req)
        if "etag_change_after" in q and n_req > int(q["etag_change_after"]):
            etag = '"s%d-n%d-changed"' % (seed, size)
        last_mod = q.get("last_modified")
        no_range = q.get("no_range") == "1"
        chunked = q.get("chunked") == "1"

        headers = [("Content-Type", "application/octet-stream")]
        if q.get("no_etag") == "1":
            etag = None
        else:
            headers.append(("ETag", etag))
        if last_mod:
            headers.append(("Last-Modified", last_mod))
        headers.append(("Accept-Ranges", "none" if no_range else "bytes"))
        if "cd" in q:
            headers.append(("Content-Disposition", q["cd"]))
        if "set_cookie" in q:
            # a value the URL does not hold: sha256 of the parameter
            sid = hashlib.sha256(q["set_cookie"].encode()).hexdigest()[:24]
            headers.append(("Set-Cookie", "sid=%s; Path=/" % sid))

        if rng and "range_size" in q:
            size = int(q["range_size"])  # same validator, another length
        status, start, end = 200, 0, size - 1
        if rng and q.get("range_from0") == "1":
            rng = "bytes=0-"  # answered as if the client had asked from 0
        if rng and not no_range:
            ir = self.headers.get("If-Range")
            if ir is not None:
                if ir.startswith('"') or ir.startswith("W/"):
                    match = etag is not None and ir == etag and not ir.startswith("W/")
                else:
                    match = last_mod is not None and ir == last_mod
            else:
                match = True
            if match:
                r = parse_range(rng, size)
                if r == "unsat":
                    headers.append(("Content-Range", "bytes */%d" % size))
                    headers.append(("Content-Length", "0"))
                    self.send_head(416, headers)
                    return
                if r != "ignore":
                    status, (start, end) = 206, r
        if status == 206 and faulty and q.get("range_fault") == "200":
            status, start, end = 200, 0, size - 1    # a Range ignored
        elif status == 206 and faulty and q.get("range_fault") == "shift":
            # another range than asked for, said so truthfully
            start = min(start + 4096, end)
        length = end - start + 1
        if status == 206:
            cr = "bytes %d-%d/%d" % (start, end, size)
            headers.append(("Content-Range", cr))
            self.rec["content_range"] = cr
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        else:
            headers.append(("Content-Length", str(length)))
        self.send_head(status, headers)
        if head:
            return

        limit = None      # body bytes to send before the fault
        after = None      # what to do then: stall, drop, short
        if faulty:
            for name in ("stall_after", "drop_after", "short"):
                if name in q:
                    limit, after = int(q[name]), name
                    break
        rate = float(q["rate"]) if "rate" in q else None
        self.stream(seed, start, length, limit, rate, chunked)
        if after == "stall_after":
            return self.hold(float(q.get("hold", HOLD_MAX)))
        if after == "drop_after":
            return self.abort()
        if after == "short":
            self.close_connection = True
            return
        if chunked:
            self.connection.sendall(b"0\r\n\r\n")

    def stream(self, seed, start, length, limit, rate, chunked):
        """Send bytes [start, start+length) of the resource, stopping after
        `limit` bytes if given, paced to `rate` bytes/s if given."""
        p = pattern(seed)
        todo = length if limit is None else min(limit, length)
        pos = start
        sent = 0
        t0 = time.time()
        step = CHUNK
        if rate:
            step = max(1, min(CHUNK, int(rate / 20)))
        while sent < todo and not STOP.is_set():
            if rate:
                # wait until this chunk is due, never after the last one, so
                # the thread is back reading (and sees a close) at once
                ahead = t0 + sent / rate - time.time()
                if ahead > 0:
                    time.sleep(ahead)
            n = min(step, todo - sent)
            off = pos % PERIOD
            data = p[off:off + n]
            if chunked:
                self.connection.sendall(b"%x\r\n" % n)
                self.body_out(data)
                self.connection.sendall(b"\r\n")
            else:
                self.body_out(data)
            pos += n
            sent += n

    def redirect(self, location, q):
        code = int(q.get("redirect_code", "302"))
        body = b"moved\n"
        self.send_head(code, [("Location", location),
                              ("Content-Length", str(len(body)))])
        self.connection.sendall(body)

    def unauthorized(self):
        body = b"authorization required\n"
        self.send_head(401, [("WWW-Authenticate", 'Basic realm="siphon-test"'),
                             ("Content-Type", "text/plain"),
                             ("Content-Length", str(len(body)))])
        if self.command != "HEAD":
            self.connection.sendall(body)

    def error_status(self, code, q):
        body = ("status %d\n" % code).encode()
        headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        if "retry_after" in q:
            headers.append(("Retry-After", q["retry_after"]))
        elif "retry_after_in" in q:
            when = time.time() + float(q["retry_after_in"])
            headers.append(("Retry-After", email.utils.formatdate(when, usegmt=True)))
        self.send_head(code, headers)
        if self.command != "HEAD":
            self.connection.sendall(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.aborted = weakref.WeakSet()

    def shutdown_request(self, request):
        # An aborted connection skips the polite shutdown(SHUT_WR): with
        # SO_LINGER 0 the close then sends an RST, not a FIN.
        if request in self.aborted:
            self.aborted.discard(request)
            self.close_request(request)
        else:
            super().shutdown_request(request)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    httpd = Server((args.host, args.port), Handler)
    print("PORT %d" % httpd.server_address[1], flush=True)

    def stop(signum, frame):
        STOP.set()
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        httpd.serve_forever(poll_interval=0.1)
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
