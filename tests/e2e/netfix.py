"""Real network servers for the network tests, each started by the test on
127.0.0.1 and stopped by its PID: nginx with TLS and HTTP/2 (certificate
made here with openssl), tinyproxy (HTTP and CONNECT) and microsocks
(SOCKS5), and stunnel as the TLS front of tinyproxy (an https:// proxy).
Every wait is bounded; a server that does not come up skips
nothing: the test fails with its log."""

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def auth(cred):
    """The test server's auth= value for "user:password"."""
    return hashlib.sha256(cred.encode()).hexdigest()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(name):
    for d in ("/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        p = Path(d) / name
        if os.access(p, os.X_OK):
            return str(p)
    return shutil.which(name)


def _wait_port(port, proc, what, logs, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    _stop(proc)
    text = ""
    for p in logs:
        try:
            text += Path(p).read_text(errors="replace")[-2000:]
        except OSError:
            pass
    raise RuntimeError("%s did not listen on 127.0.0.1:%d: %s" % (what, port, text))


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def make_cert(d):
    """A self-signed certificate for 127.0.0.1 and localhost: (cert, key)."""
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2",
                    "-subj", "/CN=siphon-test",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-addext", "basicConstraints=critical,CA:TRUE"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   timeout=60)
    return cert, key


class Nginx:
    """nginx serving `www` over TLS with HTTP/2 on 127.0.0.1; the access log
    has one line per request: connection serial, protocol, URI, status."""

    def __init__(self, work, www, cert, key):
        self.work = Path(work)
        (self.work / "tmp").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.access = self.work / "access.log"
        self.error = self.work / "error.log"
        user = "user root root;" if os.geteuid() == 0 else ""
        temps = "".join("    %s_temp_path %s/tmp/%s;\n" % (m, self.work, m)
                        for m in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        conf = """%s
worker_processes 1;
daemon off;
master_process on;
pid %s/nginx.pid;
error_log %s warn;
events { worker_connections 256; }
http {
    log_format conn '$connection $server_protocol $request_uri $status';
    access_log %s conn;
    server_tokens off;
    default_type application/octet-stream;
    types { }
%s
    keepalive_timeout 60s;
    server {
        listen 127.0.0.1:%d ssl http2;
        ssl_certificate %s;
        ssl_certificate_key %s;
        root %s;
        location / { }
        # the same files at 100 KiB/s per request, for transfers that last
        location /slow/ { alias %s/; limit_rate 100k; }
        location = /status { stub_status; access_log off; }
    }
}
""" % (user, self.work, self.error, self.access, temps, self.port, cert, key, www, www)
        (self.work / "nginx.conf").write_text(conf)
        exe = _which("nginx")
        if not exe:
            raise RuntimeError("nginx is not installed (Makefile DEB_PKGS has it)")
        self.cert = cert
        self.proc = subprocess.Popen([exe, "-p", str(self.work), "-c",
                                      str(self.work / "nginx.conf"), "-e", str(self.error)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, self.proc, "nginx", [self.error])

    def url(self, path):
        return "https://127.0.0.1:%d%s" % (self.port, path)

    def log(self):
        """[(connection, protocol, uri, status)] of the requests so far."""
        out = []
        try:
            for line in self.access.read_text().splitlines():
                f = line.split()
                if len(f) == 4:
                    out.append((f[0], f[1], f[2], f[3]))
        except FileNotFoundError:
            pass
        return out

    def active(self):
        """Connections open at nginx now, not counting this question's own."""
        import ssl
        import urllib.request
        ctx = ssl.create_default_context(cafile=str(self.cert))
        with urllib.request.urlopen(self.url("/status"), context=ctx, timeout=5) as r:
            text = r.read().decode()
        return int(text.split("Active connections:")[1].split()[0]) - 1

    def wait_active(self, n, timeout=5.0):
        """Poll until n connections are open (bounded); the last count."""
        deadline = time.time() + timeout
        while True:
            a = self.active()
            if a == n or time.time() > deadline:
                return a
            time.sleep(0.1)

    def clear(self):
        self.access.write_text("")

    def stop(self):
        _stop(self.proc)


class Tinyproxy:
    """tinyproxy on 127.0.0.1 (optionally with Basic auth); log() is its log,
    which names each request it forwards (GET http://... or CONNECT h:p)."""

    def __init__(self, work, auth=None):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.logfile = self.work / "tinyproxy.log"
        conf = ["Port %d" % self.port, "Listen 127.0.0.1", "Timeout 30",
                'LogFile "%s"' % self.logfile, "LogLevel Info", "MaxClients 50",
                "Allow 127.0.0.1"]
        if auth:
            conf.append("BasicAuth %s %s" % auth)
        (self.work / "tinyproxy.conf").write_text("\n".join(conf) + "\n")
        exe = _which("tinyproxy")
        if not exe:
            raise RuntimeError("tinyproxy is not installed (Makefile DEB_PKGS has it)")
        self.proc = subprocess.Popen([exe, "-d", "-c", str(self.work / "tinyproxy.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, self.proc, "tinyproxy", [self.logfile])

    def url(self, cred=None):
        return "http://%s127.0.0.1:%d" % (cred + "@" if cred else "", self.port)

    def log(self):
        try:
            return self.logfile.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def requests(self):
        out = []
        for l in self.log().splitlines():
            at = l.find("Request (file descriptor")
            if at >= 0 and "): " in l[at:]:
                out.append(l[at:].split("): ", 1)[1])
        return out

    def stop(self):
        _stop(self.proc)


class Microsocks:
    """microsocks (SOCKS5) on 127.0.0.1; its log says where each client was
    connected to: "connected to localhost:N" when the proxy resolved the
    name (socks5h), "connected to 127.0.0.1:N" when the client did."""

    def __init__(self, work, auth=None):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.logfile = self.work / ("microsocks-%d.log" % self.port)
        argv = [_which("microsocks") or "microsocks", "-i", "127.0.0.1", "-p", str(self.port)]
        if auth:
            argv += ["-u", auth[0], "-P", auth[1]]
        self._log = open(self.logfile, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT)
        _wait_port(self.port, self.proc, "microsocks", [self.logfile])

    def url(self, scheme="socks5h", cred=None):
        return "%s://%s127.0.0.1:%d" % (scheme, cred + "@" if cred else "", self.port)

    def connects(self):
        return [l.split("connected to ", 1)[1].strip()
                for l in self.logfile.read_text(errors="replace").splitlines()
                if "connected to " in l]

    def stop(self):
        _stop(self.proc)
        self._log.close()


class Stunnel:
    """stunnel on 127.0.0.1 with the test certificate, passing each TLS
    connection on to a plain TCP port: in front of tinyproxy it makes an
    https:// proxy (TLS between siphon and the proxy)."""

    def __init__(self, work, cert, key, to_port):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.cert = cert
        self.logfile = self.work / "stunnel.log"
        conf = ["foreground = yes", "pid =", 'output = %s' % self.logfile, "debug = 5",
                "[proxy]", "accept = 127.0.0.1:%d" % self.port,
                "connect = 127.0.0.1:%d" % to_port, "cert = %s" % cert, "key = %s" % key]
        (self.work / "stunnel.conf").write_text("\n".join(conf) + "\n")
        exe = _which("stunnel4") or _which("stunnel")
        if not exe:
            raise RuntimeError("stunnel is not installed (Makefile DEB_PKGS has stunnel4)")
        self.proc = subprocess.Popen([exe, str(self.work / "stunnel.conf")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, self.proc, "stunnel", [self.logfile])

    def url(self, cred=None):
        return "https://%s127.0.0.1:%d" % (cred + "@" if cred else "", self.port)

    def stop(self):
        _stop(self.proc)
