"""The network options against real servers on 127.0.0.1 (SPEC.md
"Network"): TLS and HTTP/2 with nginx (a certificate made here with
openssl), proxies with tinyproxy (HTTP, CONNECT) and microsocks (SOCKS5),
netrc, and secrets that must never show up in clear."""

import hashlib
import os
import random
import socket
import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import netfix  # noqa: E402

SMALL = 40  # files served over one HTTP/2 connection


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """nginx with TLS + HTTP/2, its certificate, and the files it serves
    (name -> bytes)."""
    work = tmp_path_factory.mktemp("nginx")
    cert, key = netfix.make_cert(work / "pki")
    www = work / "www"
    www.mkdir()
    rnd = random.Random(12)
    files = {}
    for i in range(SMALL):
        data = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 40000)))
        files["s%02d.bin" % i] = data
    files["big.bin"] = os.urandom(3 << 20)
    files["mid.bin"] = os.urandom(250 * 1024)
    for name, data in files.items():
        (www / name).write_bytes(data)
    ng = netfix.Nginx(work / "run", www, cert, key)
    ng.files = files
    yield ng
    ng.stop()


@pytest.fixture
def tinyproxy(tmp_path):
    started = []

    def start(auth=None):
        p = netfix.Tinyproxy(tmp_path / ("tinyproxy%d" % len(started)), auth)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


@pytest.fixture
def microsocks(tmp_path):
    started = []

    def start(auth=None):
        p = netfix.Microsocks(tmp_path / "socks", auth)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


NOENV = {"http_proxy": "", "https_proxy": "", "all_proxy": "", "no_proxy": "",
         "HTTPS_PROXY": "", "ALL_PROXY": "", "NO_PROXY": "", "HTTP_PROXY": ""}


# -- TLS and HTTP/2 --------------------------------------------------------

def test_tls_untrusted_certificate_fails_tls(tls, siphon, tmp_path):
    res = siphon([tls.url("/s00.bin")], env=NOENV)
    assert res.code == 1, res
    assert res.final(1)["event"] == "failed"
    assert res.final(1)["reason"] == "tls", res.final(1)
    assert not (tmp_path / "s00.bin").exists()


def test_tls_with_cacert_is_done_byte_exact(tls, siphon, tmp_path):
    res = siphon(["--cacert", tls.cert, tls.url("/big.bin")], env=NOENV)
    assert res.code == 0, res
    assert res.final(1)["event"] == "done"
    assert (tmp_path / "big.bin").read_bytes() == tls.files["big.bin"]
    assert "not checked" not in res.stderr


def test_insecure_works_and_says_so(tls, siphon, tmp_path):
    res = siphon(["--insecure", tls.url("/s01.bin")], env=NOENV)
    assert res.code == 0, res
    assert (tmp_path / "s01.bin").read_bytes() == tls.files["s01.bin"]
    assert "TLS certificates are not checked" in res.stderr, res.stderr


def test_cacert_and_insecure_per_item_in_a_profile(tls, siphon, tmp_path):
    (tmp_path / "l.ini").write_text(
        "[profile.own_ca]\ncacert = %s\n"
        "[trusted]\nurl = %s\nprofile = own_ca\n"
        "[untrusted]\nurl = %s\n" % (tls.cert, tls.url("/s02.bin"), tls.url("/s03.bin")))
    res = siphon(["l.ini"], env=NOENV)
    assert res.final(1)["event"] == "done", res
    assert res.final(2)["reason"] == "tls", res
    assert (tmp_path / "s02.bin").read_bytes() == tls.files["s02.bin"]


def test_many_small_files_share_one_http2_connection(tls, siphon, tmp_path):
    tls.clear()
    names = sorted(n for n in tls.files if n.startswith("s"))
    res = siphon(["--cacert", tls.cert, "-j", "8"] + [tls.url("/" + n) for n in names],
                 env=NOENV)
    assert res.code == 0, res
    for n in names:
        assert (tmp_path / n).read_bytes() == tls.files[n], n
    log = [l for l in tls.log() if l[2].startswith("/s")]
    assert len(log) == len(names), log
    assert {l[1] for l in log} == {"HTTP/2.0"}, log
    assert len({l[0] for l in log}) == 1, "nginx saw %d connections" % len({l[0] for l in log})


def test_http11_turns_http2_off(tls, siphon, tmp_path):
    tls.clear()
    res = siphon(["--cacert", tls.cert, "--http1.1", tls.url("/s04.bin"), tls.url("/s05.bin")],
                 env=NOENV)
    assert res.code == 0, res
    log = [l for l in tls.log() if l[2].startswith("/s")]
    assert len(log) == 2 and {l[1] for l in log} == {"HTTP/1.1"}, log
    (tmp_path / "c.ini").write_text("[settings]\nhttp11 = yes\n")
    tls.clear()
    res = siphon(["--config", "c.ini", "--cacert", tls.cert, "--overwrite", tls.url("/s04.bin")],
                 flags=False, env=NOENV)
    assert res.code == 0, res
    assert [l[1] for l in tls.log()] == ["HTTP/1.1"]


def test_http2_per_host_still_counts_transfers(tls, siphon, tmp_path):
    tls.clear()
    names = ["s%02d.bin" % i for i in range(10, 16)]
    res = siphon(["--cacert", tls.cert, "-j", "8", "--per-host", "2"] +
                 [tls.url("/slow/" + n) for n in names], env=NOENV)
    assert res.code == 0, res
    running = peak = 0
    for ev in res.events:
        if ev["event"] == "start":
            running += 1
        elif ev["event"] == "done":
            running -= 1
        peak = max(peak, running)
    assert peak == 2, "at most per_host transfers at once, even as streams (peak %d)" % peak
    log = [l for l in tls.log() if l[2].startswith("/slow/")]
    assert len(log) == len(names) and len({l[0] for l in log}) == 1, log
    for n in names:
        assert (tmp_path / n).read_bytes() == tls.files[n], n


def test_http2_idle_connection_closes(tls, server, siphon_proc, tmp_path):
    p = siphon_proc(["--cacert", tls.cert, "--conn-idle", "1s", "-j", "2",
                     tls.url("/s07.bin"), server.url("/f/keep.bin", size=600000, rate=100000)],
                    env=NOENV)
    p.wait_event(lambda e: e["event"] == "done" and e["id"] == 1)
    assert tls.wait_active(0, timeout=3.0) == 0, "the idle HTTP/2 connection stayed open"
    assert p.count(lambda e: e["event"] == "done" and e["id"] == 2) == 0, \
        "the run was still going while the connection closed"
    assert p.wait(30) == 0, p.stderr
    assert (tmp_path / "s07.bin").read_bytes() == tls.files["s07.bin"]


def test_http2_conn_lifetime(tls, siphon, tmp_path):
    # mid.bin takes about 2.5 s at nginx's 100 KiB/s: the connection is then
    # older than a 1 s lifetime and the next item must not reuse it
    for life, conns in (("1s", 2), ("10m", 1)):
        tls.clear()
        res = siphon(["--cacert", tls.cert, "-j", "1", "--conn-lifetime", life, "--overwrite",
                      tls.url("/slow/mid.bin"), tls.url("/s08.bin")], env=NOENV)
        assert res.code == 0, res
        log = [l for l in tls.log() if l[2] in ("/slow/mid.bin", "/s08.bin")]
        assert len(log) == 2 and {l[1] for l in log} == {"HTTP/2.0"}, log
        assert len({l[0] for l in log}) == conns, (life, log)
    assert (tmp_path / "mid.bin").read_bytes() == tls.files["mid.bin"]


# -- proxies ----------------------------------------------------------------

def test_http_proxy_carries_the_request(tinyproxy, server, siphon, tmp_path):
    px = tinyproxy()
    url = server.url("/f/via.bin", size=5000)
    res = siphon(["--proxy", px.url(), url], env=NOENV)
    assert res.code == 0, res
    server.verify(tmp_path / "via.bin", 5000)
    assert any(r.startswith("GET " + url) for r in px.requests()), px.log()


def test_http_proxy_with_credentials(tinyproxy, server, siphon, tmp_path):
    px = tinyproxy(auth=("pu", "PXSECRET1"))
    url = server.url("/f/auth.bin", size=3000)
    res = siphon(["--retries", "0", "--proxy", px.url(), url], env=NOENV)
    assert res.final(1)["reason"] == "http_407", res
    res = siphon(["--log", "px.log", "--proxy", px.url("pu:PXSECRET1"), url], env=NOENV)
    assert res.code == 0, res
    server.verify(tmp_path / "auth.bin", 3000)
    for text in (res.stdout, res.stderr, (tmp_path / "px.log").read_text()):
        assert "PXSECRET1" not in text
        assert "cHU6UFhTRUNSRVQx" not in text  # base64 of pu:PXSECRET1


def test_https_through_connect(tinyproxy, tls, siphon, tmp_path):
    px = tinyproxy()
    res = siphon(["--proxy", px.url(), "--cacert", tls.cert, tls.url("/s06.bin")], env=NOENV)
    assert res.code == 0, res
    assert (tmp_path / "s06.bin").read_bytes() == tls.files["s06.bin"]
    assert any(r.startswith("CONNECT 127.0.0.1:%d" % tls.port) for r in px.requests()), \
        px.log()


@pytest.fixture
def tls_proxy(tinyproxy, tls, tmp_path):
    """An https:// proxy: stunnel with the test certificate in front of
    tinyproxy; (stunnel, tinyproxy)."""
    started = []

    def start(auth=None):
        px = tinyproxy(auth=auth)
        st = netfix.Stunnel(tmp_path / ("stunnel%d" % len(started)), tls.cert,
                            Path(tls.cert).parent / "key.pem", px.port)
        started.append(st)
        return st, px

    yield start
    for st in started:
        st.stop()


def test_https_proxy_speaks_tls_and_checks_its_certificate(tls_proxy, server, siphon, tmp_path):
    st, px = tls_proxy()
    url = server.url("/f/tlsproxy.bin", size=6000)
    # the proxy's certificate is self-signed: refused unless trusted
    res = siphon(["--retries", "0", "--proxy", st.url(), url], env=NOENV)
    assert res.code == 1, res
    assert res.final(1)["reason"] == "tls", res
    assert px.requests() == [], px.log()
    assert not (tmp_path / "tlsproxy.bin").exists()
    res = siphon(["--proxy", st.url(), "--cacert", str(st.cert), url], env=NOENV)
    assert res.code == 0, res
    server.verify(tmp_path / "tlsproxy.bin", 6000)
    assert any(r.startswith("GET " + url) for r in px.requests()), px.log()
    (tmp_path / "tlsproxy.bin").unlink()
    res = siphon(["--proxy", st.url(), "--insecure", url], env=NOENV)
    assert res.code == 0, res
    server.verify(tmp_path / "tlsproxy.bin", 6000)
    assert sum(r.startswith("GET " + url) for r in px.requests()) == 2, px.log()


def test_https_proxy_from_the_environment_with_credentials(tls_proxy, server, siphon, tmp_path):
    st, px = tls_proxy(auth=("tu", "TLSPXSECRET7"))
    url = server.url("/f/tlsenv.bin", size=4000)
    env = dict(NOENV, http_proxy=st.url("tu:TLSPXSECRET7"))
    res = siphon(["--log", "tp.log", "--cacert", str(st.cert), url], env=env)
    assert res.code == 0, res
    server.verify(tmp_path / "tlsenv.bin", 4000)
    assert any(r.startswith("GET " + url) for r in px.requests()), px.log()
    for text in (res.stdout, res.stderr, (tmp_path / "tp.log").read_text()):
        assert "TLSPXSECRET7" not in text


@pytest.mark.parametrize("scheme,where", [("socks5h", "localhost"), ("socks5", "127.0.0.1")])
def test_socks5_resolves_where_it_should(microsocks, server, siphon, tmp_path, scheme, where):
    first = socket.getaddrinfo("localhost", server.port, type=socket.SOCK_STREAM)[0][0]
    if first != socket.AF_INET:
        pytest.skip("localhost is ::1 first here: the first address is the one used "
                    "(by microsocks, or by curl for socks5), and the server is on 127.0.0.1")
    px = microsocks()
    url = server.url("/f/sock.bin", host="localhost", size=7000)
    res = siphon(["--proxy", px.url(scheme), url], env=NOENV)
    assert res.code == 0, res
    server.verify(tmp_path / "sock.bin", 7000)
    assert px.connects() == ["%s:%d" % (where, server.port)], px.connects()


def test_socks5_with_credentials(microsocks, server, siphon, tmp_path):
    px = microsocks(auth=("su", "SOCKSSECRET2"))
    url = server.url("/f/sauth.bin", size=2000)
    res = siphon(["--retries", "0", "--proxy", px.url("socks5h"), url], env=NOENV)
    assert res.code == 1 and px.connects() == [], res
    res = siphon(["--proxy", px.url("socks5h", "su:SOCKSSECRET2"), url], env=NOENV)
    assert res.code == 0, res
    server.verify(tmp_path / "sauth.bin", 2000)
    assert len(px.connects()) == 1
    assert "SOCKSSECRET2" not in res.stdout + res.stderr


def test_no_proxy_goes_direct(tinyproxy, server, siphon, tmp_path):
    px = tinyproxy()
    res = siphon(["--proxy", px.url(), "--no-proxy", "127.0.0.1",
                  server.url("/f/direct.bin", size=100)], env=NOENV)
    assert res.code == 0, res
    assert px.requests() == [], px.log()
    env = dict(NOENV, http_proxy=px.url(), no_proxy="127.0.0.1")
    res = siphon([server.url("/f/direct2.bin", size=100)], env=env)
    assert res.code == 0, res
    assert px.requests() == [], px.log()


def test_proxy_environment_and_proxy_none(tinyproxy, server, siphon, tmp_path):
    px = tinyproxy()
    env = dict(NOENV, http_proxy=px.url())
    res = siphon([server.url("/f/env.bin", size=100)], env=env)
    assert res.code == 0, res
    assert len(px.requests()) == 1, px.log()
    res = siphon(["--proxy", "none", server.url("/f/none.bin", size=100)], env=env)
    assert res.code == 0, res
    assert len(px.requests()) == 1, "--proxy none still used the environment"
    # upper-case HTTP_PROXY is ignored, as curl does
    res = siphon([server.url("/f/upper.bin", size=100)], env=dict(NOENV, HTTP_PROXY=px.url()))
    assert res.code == 0, res
    assert len(px.requests()) == 1, px.log()


def test_profile_with_its_own_proxy_beside_direct_items(tinyproxy, server, siphon, tmp_path):
    px = tinyproxy()
    (tmp_path / "l.ini").write_text(
        "[profile.mirror]\nproxy = %s\n"
        "[proxied]\nurl = %s\nprofile = mirror\n"
        "[direct]\nurl = %s\n" % (px.url(), server.url("/f/p1.bin", size=900),
                                   server.url("/f/d1.bin", size=800)))
    res = siphon(["l.ini"], env=NOENV)
    assert res.code == 0, res
    reqs = px.requests()
    assert len(reqs) == 1 and "/f/p1.bin" in reqs[0], reqs
    server.verify(tmp_path / "p1.bin", 900)
    server.verify(tmp_path / "d1.bin", 800)


def test_bad_proxy_values_are_usage_errors(siphon):
    for bad in ("ftp://127.0.0.1:1", "127.0.0.1:3128", "http://", "socks4://127.0.0.1:1"):
        res = siphon(["--proxy", bad, "http://127.0.0.1:1/x"])
        assert res.code == 2, (bad, res)
        assert "--proxy" in res.stderr and "bad value" in res.stderr, res.stderr


# -- netrc ------------------------------------------------------------------

def test_netrc_credentials(server, siphon, tmp_path):
    url = server.url("/f/n.bin", size=1234, auth=netfix.auth("nu:NETRCSECRET3"))
    res = siphon(["--retries", "0", url], env=NOENV)
    assert res.final(1)["reason"] == "http_401", res
    (tmp_path / "netrc").write_text("machine 127.0.0.1 login nu password NETRCSECRET3\n")
    res = siphon(["--netrc-file", "netrc", "--log", "n.log", url], env=NOENV)
    assert res.code == 0, res
    server.verify(tmp_path / "n.bin", 1234)
    for text in (res.stdout, res.stderr, (tmp_path / "n.log").read_text()):
        assert "NETRCSECRET3" not in text
    # a redirect to the same scheme, host and port keeps them
    res = siphon(["--netrc-file", "netrc", "--overwrite", "--retries", "0",
                  server.url("/f/n.bin", size=1234, redirect=1,
                             auth=netfix.auth("nu:NETRCSECRET3"))], env=NOENV)
    assert res.code == 0, res
    # --netrc reads ~/.netrc
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login nu password NETRCSECRET3\n")
    res = siphon(["--netrc", "--overwrite", url], env=dict(NOENV, HOME=str(home)))
    assert res.code == 0, res


def test_netrc_not_sent_after_redirect_to_another_port(server, second_server, siphon,
                                                       tmp_path):
    target = second_server.url("/f/other.bin", size=100, auth=netfix.auth("nu:NETRCSECRET4"))
    url = server.url("/f/start.bin", redirect_to=target)
    (tmp_path / "netrc").write_text("machine 127.0.0.1 login nu password NETRCSECRET4\n")
    res = siphon(["--retries", "0", "--netrc-file", "netrc", url], env=NOENV)
    assert res.final(1).get("reason") == "http_401", (res.final(1), second_server.requests("/"))
    first = server.requests("/f/start.bin")
    assert first and any(k.lower() == "authorization" for k, _ in first[0]["headers"]), \
        "netrc credentials go to the host they name"
    other = second_server.requests("/f/other.bin")
    assert other, "the redirect was followed"
    for r in other:
        assert not any(k.lower() == "authorization" for k, _ in r["headers"]), r["headers"]


# -- secrets ----------------------------------------------------------------

def test_secrets_appear_nowhere(tinyproxy, server, siphon, tmp_path):
    px = tinyproxy(auth=("pu", "PXSECRET5"))
    (tmp_path / "netrc").write_text("machine localhost login nu password NETRCSECRET5\n")
    u_cred = server.url("/f/cred.bin", size=3000, auth=netfix.auth("uu:URLSECRET5"),
                        set_cookie="c5")
    u_cred = u_cred.replace("http://", "http://uu:URLSECRET5@")
    # stalls after 300 KiB with a validator: a .part and its sidecar stay
    u_side = server.url("/f/side.bin", size=2000000, stall_after=300000)
    u_side = u_side.replace("http://", "http://uu:URLSECRET5@")
    u_netrc = server.url("/f/nrc.bin", host="localhost", size=500,
                         auth=netfix.auth("nu:NETRCSECRET5"))
    u_hdr = server.url("/f/hdr.bin", size=700)
    (tmp_path / "l.ini").write_text(
        "[profile.h]\nheader = Authorization: Bearer AUTHSECRET5\n"
        "header = Cookie: c=COOKIESECRET5\n"
        "[cred]\nurl = %s\n[side]\nurl = %s\n[nrc]\nurl = %s\n"
        "[hdr]\nurl = %s\nprofile = h\n" % (u_cred, u_side, u_netrc, u_hdr))
    res = siphon(["--log", "s.log", "--retries", "0", "--stall-timeout", "1s",
                  "--proxy", px.url("pu:PXSECRET5"), "--netrc-file", "netrc", "l.ini"],
                 env=NOENV, timeout=60)
    assert res.final(1)["event"] == "done", res
    assert res.final(2)["event"] == "timed_out", res
    assert res.final(3)["event"] == "done", res
    assert res.final(4)["event"] == "done", res
    queued = [e for e in res.events if e["event"] == "queued"]
    assert queued[0]["url"].startswith("http://uu:***@"), queued[0]
    assert len(px.requests()) == 4, px.log()
    hdr = server.requests("/f/hdr.bin")[0]["headers"]
    assert ["Authorization", "Bearer AUTHSECRET5"] in hdr, "the header was sent"
    sidecar = tmp_path / "side.part.meta"
    if not sidecar.exists():
        sidecar = tmp_path / "side.bin.part.meta"
    assert sidecar.exists(), sorted(os.listdir(tmp_path))
    log = tmp_path / "s.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(sidecar.stat().st_mode) == 0o600
    assert "/f/cred.bin" in log.read_text()
    set_cookie = hashlib.sha256(b"c5").hexdigest()[:24]
    secrets = ["URLSECRET5", "PXSECRET5", "NETRCSECRET5", "AUTHSECRET5", "COOKIESECRET5",
               set_cookie]
    for where, text in (("stdout", res.stdout), ("stderr", res.stderr),
                        ("log", log.read_text(errors="replace")),
                        ("sidecar", sidecar.read_text(errors="replace"))):
        for s in secrets:
            assert s not in text, "%s shows %s:\n%s" % (where, s, text[-3000:])
    assert "Set-Cookie: ***" in log.read_text(), "the Set-Cookie header is logged, masked"
