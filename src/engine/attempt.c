/* attempt.c - one attempt of one leg: the easy handle and its options, what
 * curl hands back while it runs (connected, response headers, the request
 * for --log) and how a CURLcode maps to a failure reason.  The body goes to
 * stream.c; decisions about the file go to resume.c and name.c.  Engine
 * thread only. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine-int.h"
#include "sidecar.h"
#include "siphon/dlog.h"
#include "siphon/secret.h"
#include "siphon/xalloc.h"

/* Each CURLcode that is not a plain network failure, and its reason. */
static const struct {
  CURLcode rc;
  enum msg_reason why;
} curl_reasons[] = {
    {CURLE_OPERATION_TIMEDOUT, MSG_REASON_CONNECT}, /* the only limit curl enforces */
    {CURLE_TOO_MANY_REDIRECTS, MSG_REASON_TOO_MANY_REDIRECTS},
    {CURLE_UNSUPPORTED_PROTOCOL, MSG_REASON_BAD_REDIRECT},
    {CURLE_SSL_CONNECT_ERROR, MSG_REASON_TLS},
    {CURLE_PEER_FAILED_VERIFICATION, MSG_REASON_TLS},
    {CURLE_SSL_CERTPROBLEM, MSG_REASON_TLS},
    {CURLE_SSL_CIPHER, MSG_REASON_TLS},
    {CURLE_SSL_CACERT_BADFILE, MSG_REASON_TLS},
    {CURLE_SSL_ISSUER_ERROR, MSG_REASON_TLS},
    {CURLE_SSL_PINNEDPUBKEYNOTMATCH, MSG_REASON_TLS},
    {CURLE_SSL_INVALIDCERTSTATUS, MSG_REASON_TLS},
    {CURLE_URL_MALFORMAT, MSG_REASON_BAD_URL},
};

enum msg_reason attempt_reason(CURLcode rc)
{
  if (rc == CURLE_OK)
    return MSG_REASON_NONE;
  for (size_t i = 0; i < sizeof curl_reasons / sizeof curl_reasons[0]; i++)
    if (curl_reasons[i].rc == rc)
      return curl_reasons[i].why;
  return MSG_REASON_NETWORK;
}

static int prereq_cb(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
  (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
  struct leg *l = clientp;
  /* connected: from here on silence counts against the stall limit */
  l->connected = 1;
  l->last_rx = uv_now(&l->x->eng->loop);
  return CURL_PREREQFUNC_OK;
}

static void log_append(struct leg *l, const char *s, size_t n)
{
  size_t room = sizeof l->logline - 1 - l->loglen;
  if (n > room)
    n = room;
  memcpy(l->logline + l->loglen, s, n);
  l->loglen += n;
  l->logline[l->loglen] = '\0';
}

static void post_detail(struct leg *l)
{
  struct xfer *x = l->x;
  struct msg_event *ev = outbox_event(MSG_EV_DETAIL, x->id);
  char *eff = NULL, *ip = NULL;
  long port = 0;
  curl_off_t tc = -1, tfb = -1;
  curl_easy_getinfo(l->easy, CURLINFO_EFFECTIVE_URL, &eff);
  curl_easy_getinfo(l->easy, CURLINFO_PRIMARY_IP, &ip);
  curl_easy_getinfo(l->easy, CURLINFO_PRIMARY_PORT, &port);
  curl_easy_getinfo(l->easy, CURLINFO_CONNECT_TIME_T, &tc);
  curl_easy_getinfo(l->easy, CURLINFO_STARTTRANSFER_TIME_T, &tfb);
  ev->final_url = secret_url(eff);
  ev->url = secret_url(item_spec(x)->url);
  if (ip && *ip)
    ev->remote_addr = strchr(ip, ':') ? xasprintf("[%s]:%ld", ip, port)
                                      : xasprintf("%s:%ld", ip, port);
  ev->http = (int32_t)l->resp.status;
  ev->t_connect = tc >= 0 ? (double)tc / 1e6 : -1;
  ev->t_first_byte = tfb >= 0 ? (double)tfb / 1e6 : -1;
  ev->path = xstrdup(x->run->final_path);
  ev->attempt = x->attempt;
  ev->total = x->total;
  outbox_post(x->eng, ev);
}

/* The body of a 2xx that starts at `start` goes into the file. */
static void body_goes_on(struct leg *l, int64_t start)
{
  struct xfer *x = l->x;
  struct xrun *r = x->run;
  stream_open(x); /* on the worker, before the first write */
  if (item_sha256(x) && start == 0) {
    EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL);
    r->sha_from_zero = 1;
  }
  l->body_ok = 1;
  x->eng->split_consider(x, l, start); /* seg_consider: split the file over several legs? */
  post_detail(l);
}

/* A name the server gave has its answer from the disk (name_probe_done):
 * the body goes on, or the attempt stops (l->abort says why).  0 or -1. */
static int name_answered(struct leg *l, int rc)
{
  if (rc == 0) {
    body_goes_on(l, 0);
    return 0;
  }
  l->abort = rc == NAME_RESUME ? AB_RESUME_NAMED : AB_NO_NAME;
  return -1;
}

/* The final response's headers are in: decide whether and where its body
 * goes.  0 goes on, -1 aborts the attempt (l->abort says why), 1 holds the
 * headers while a disk worker looks at the name the server gave. */
static int on_final_headers(struct leg *l)
{
  struct xfer *x = l->x;
  struct xrun *r = x->run;
  long status = l->resp.status;
  x->http = (int16_t)status;
  if (status < 200 || status >= 300) {
    l->body_ok = 0;
    post_detail(l);
    return 0;
  }
  if (r->seg)
    return x->eng->split_headers(l); /* seg_on_headers: a range of a segmented file */
  curl_off_t cl = -1;
  curl_easy_getinfo(l->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
  int rewind = 0;
  int64_t start = resume_on_response(x, l, cl, &rewind);
  if (rewind)
    stream_rewind(x, 0); /* a 200 to a Range request: the file starts over */
  if (start < 0) {
    l->abort = AB_RESTART; /* not where we asked: start over from zero */
    return -1;
  }
  if (start == 0) {
    struct guard_name *g = NULL;
    int named = name_probe_start(x, &l->resp, &g);
    if (named < 0)
      return name_answered(l, -1);
    if (named == 1) {
      if (stream_busy(x)) {
        /* cannot happen: no file job runs before the first 2xx's file is
           named; were one out, the attempt starts over and looks again */
        guard_name_free(g);
        l->abort = AB_RESTART;
        return -1;
      }
      guard_name_free(r->naming);
      r->naming = g;
      l->naming = NAMING_WAIT;
      stream_name_probe(x, g);
      return 1;
    }
  }
  body_goes_on(l, start);
  return 0;
}

/* The disk side looked at the candidates of the server's name (xfer.c
 * passes the job's outcome on): another round, or the held headers go
 * back to curl, which hands them to header_cb again (NAMING_DONE). */
void attempt_named(struct xfer *x)
{
  struct xrun *r = x->run;
  struct leg *l = &r->legs[0];
  if (l->naming != NAMING_WAIT || !l->easy || !r->naming)
    return; /* the attempt is gone (paused, cancelled): a later one names again */
  int rc = name_probe_done(x, r->naming);
  if (rc == NAME_AGAIN) {
    stream_name_probe(x, r->naming);
    return;
  }
  guard_name_free(r->naming);
  r->naming = NULL;
  r->name_rc = rc;
  l->naming = NAMING_DONE;
  l->write_paused = 0;
  l->last_rx = uv_now(&x->eng->loop);
  curl_easy_pause(l->easy, CURLPAUSE_CONT); /* header_cb gets the last line again */
}

static size_t header_cb(char *buf, size_t size, size_t n, void *userp)
{
  struct leg *l = userp;
  struct xfer *x = l->x;
  size_t len = size * n;
  enum headers_line kind = headers_feed(&l->resp, buf, len, (int64_t)time(NULL));
  if (l->resp.accept_ranges >= 0)
    x->run->accept_ranges = l->resp.accept_ranges;
  if (kind == HEADERS_STATUS) {
    l->headers_seen = 0;
    l->loglen = 0;
    if (dlog_enabled())
      log_append(l, buf, len > 2 ? len - 2 : len);
    return len;
  }
  if (kind == HEADERS_END && l->naming == NAMING_DONE) {
    l->naming = NAMING_NONE; /* the held line again: the disk has answered */
    return name_answered(l, x->run->name_rc) == 0 ? len : 0;
  }
  if (kind == HEADERS_END) {
    if (dlog_enabled())
      dlog("#%u < %s", x->id, l->logline);
    long status = l->resp.status;
    if (status >= 100 && status < 200)
      return len;
    if (status >= 300 && status < 400 && l->resp.location)
      return len; /* its body is drained; xfer.c follows it */
    l->headers_seen = 1;
    long connects = 0; /* 0: this attempt reused a pooled connection */
    if (curl_easy_getinfo(l->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) {
      if (connects > 0)
        x->host->fresh++;
      else
        x->host->reused++;
    }
    int go = on_final_headers(l);
    if (go == 1) {
      l->write_paused = 1; /* not stalled: waiting for the disk */
      return CURL_WRITEFUNC_PAUSE;
    }
    return go == 0 ? len : 0;
  }
  if (dlog_enabled() && len > 2) {
    log_append(l, " | ", 3);
    log_append(l, buf, len - 2);
  }
  return len;
}

static int debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
  (void)easy;
  struct leg *l = userp;
  if (type != CURLINFO_HEADER_OUT)
    return 0;
  /* one line per request; credentials masked */
  char line[1024];
  size_t o = 0;
  const char *p = data, *end = data + size;
  while (p < end && o < sizeof line - 16) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t len = (size_t)((eol ? eol : end) - p);
    while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n'))
      len--;
    if (len > 0) {
      int secret = (len > 14 && strncasecmp(p, "Authorization:", 14) == 0) ||
                   (len > 7 && strncasecmp(p, "Cookie:", 7) == 0) ||
                   (len > 20 && strncasecmp(p, "Proxy-Authorization:", 20) == 0);
      const char *colon = memchr(p, ':', len);
      size_t shown = secret && colon ? (size_t)(colon - p) + 1 : len;
      if (o)
        o += (size_t)snprintf(line + o, sizeof line - o, " | ");
      /* the request line's query may hold a token: masked like the URL's */
      char *first = p == data ? xstrndup(p, shown) : NULL;
      char *masked = first ? secret_url_query(first) : NULL;
      if (masked)
        o += (size_t)snprintf(line + o, sizeof line - o, "%s", masked);
      else
        o += (size_t)snprintf(line + o, sizeof line - o, "%.*s%s", (int)shown, p,
                              secret ? " ***" : "");
      free(first);
      free(masked);
      if (o >= sizeof line)
        o = sizeof line - 1;
    }
    p = eol ? eol + 1 : end;
  }
  dlog("#%u > %s", l->x->id, line);
  return 0;
}

/* The request headers: the item's own, then the leg's range (with the
 * validator, so a changed file comes back whole as a 200). */
static void set_request_headers(struct leg *l)
{
  struct xrun *r = l->x->run;
  const struct cfg_settings *it = item_spec(l->x)->settings;
  curl_slist_free_all(l->req_headers);
  l->req_headers = NULL;
  /* after a redirect to another scheme, host or port only siphon's own
     headers go (SPEC "Headers stay with their host") */
  for (size_t i = 0; !r->foreign && i < it->headers.n; i++)
    l->req_headers = curl_slist_append(l->req_headers, it->headers.v[i]);
  if (l->start > 0 || l->end >= 0) {
    char h[600];
    if (l->end >= 0)
      snprintf(h, sizeof h, "Range: bytes=%lld-%lld", (long long)l->start, (long long)l->end);
    else
      snprintf(h, sizeof h, "Range: bytes=%lld-", (long long)l->start);
    l->req_headers = curl_slist_append(l->req_headers, h);
    const char *validator = sidecar_validator(r->etag, r->last_modified);
    if (validator && strlen(validator) < 500) {
      snprintf(h, sizeof h, "If-Range: %s", validator);
      l->req_headers = curl_slist_append(l->req_headers, h);
    }
  }
  curl_easy_setopt(l->easy, CURLOPT_HTTPHEADER, l->req_headers);
}

/* Every option of a leg's easy handle.  Options the user sets for the
 * network (proxy, TLS, netrc, HTTP version) belong in one call here. */
static void setup_easy(struct leg *l, size_t rx)
{
  struct xfer *x = l->x;
  struct engine *e = x->eng;
  const struct cfg_item *it = item_spec(x);
  CURL *c = l->easy;
  curl_easy_setopt(c, CURLOPT_URL, x->run->cur_url ? x->run->cur_url : it->url);
  curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)l);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "siphon/" SIPHON_VERSION);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, l->errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, stream_write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, l);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, l);
  curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, prereq_cb);
  curl_easy_setopt(c, CURLOPT_PREREQDATA, l);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, l);
  glue_set_socket_callbacks(e, c);
  /* curl 7.88 sends custom headers to a redirect's target whatever its
     host: xfer.c follows redirects itself (CURLINFO_REDIRECT_URL) */
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  /* custom Authorization/Cookie headers stay with the host the user named */
  curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  /* 0 = none: curl's own 0 means its 300 s default, so say "very long" */
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   it->settings->connect_timeout_ms > 0 ? (long)it->settings->connect_timeout_ms
                                                        : 0x7fffffffL);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long)rx);
  curl_easy_setopt(c, CURLOPT_DNS_CACHE_TIMEOUT, (long)(e->run.dns_ttl_ms / 1000));
  curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, (long)e->maxage_s);
  curl_easy_setopt(c, CURLOPT_MAXLIFETIME_CONN, (long)e->maxlife_s);
  netopt_apply(x, c);
  if (dlog_enabled()) {
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, l);
  }
  set_request_headers(l);
}

/* Scheme, host and port of an absolute http(s) URL, lower-cased, with the
 * default port made explicit: "http://h:80". */
static char *origin_of(const char *url)
{
  const char *sch = strstr(url, "://");
  if (!sch)
    return xstrdup(url);
  size_t sl = (size_t)(sch - url);
  const char *auth = sch + 3;
  size_t alen = strcspn(auth, "/?#");
  const char *host = auth;
  for (size_t i = 0; i < alen; i++)
    if (auth[i] == '@')
      host = auth + i + 1;
  size_t hlen = (size_t)(auth + alen - host);
  const char *rb = memchr(host, ']', hlen);
  const char *colon = memchr(rb ? rb : host, ':', hlen - (size_t)((rb ? rb : host) - host));
  int https = sl == 5 && strncasecmp(url, "https", 5) == 0;
  char *o = colon ? xasprintf("%.*s://%.*s", (int)sl, url, (int)hlen, host)
                  : xasprintf("%.*s://%.*s:%s", (int)sl, url, (int)hlen, host,
                              https ? "443" : "80");
  for (char *p = o; *p; p++)
    *p = (char)(*p >= 'A' && *p <= 'Z' ? *p + 32 : *p);
  return o;
}

int attempt_other_origin(const char *a, const char *b)
{
  char *oa = origin_of(a), *ob = origin_of(b);
  int other = strcmp(oa, ob) != 0;
  free(oa);
  free(ob);
  return other;
}

int attempt_redirect_url(struct leg *l, char **url)
{
  char *u = NULL;
  long status = l->resp.status;
  *url = NULL;
  if (!l->easy || status < 300 || status >= 400 || !l->resp.location ||
      curl_easy_getinfo(l->easy, CURLINFO_REDIRECT_URL, &u) != CURLE_OK || !u)
    return 1;
  *url = xstrdup(u);
  return 0;
}

/* A kept handle whose receive buffer size was rx, or a new one.  The size
 * must match: curl 7.88 mallocs its receive buffer once per transfer
 * (Curl_preconnect, when there is none) and frees it in multi_done, which
 * curl_multi_remove_handle skips for a transfer that has no connection
 * (waiting for one, say): a buffer left over in a handle would be read
 * into with the next size set. */
static CURL *easy_take(struct engine *e, size_t rx)
{
  for (int i = e->easy_pooled - 1; i >= 0; i--)
    if (e->easy_pool_rx[i] == rx) {
      CURL *c = e->easy_pool[i];
      e->easy_pooled--;
      e->easy_pool[i] = e->easy_pool[e->easy_pooled];
      e->easy_pool_rx[i] = e->easy_pool_rx[e->easy_pooled];
      return c; /* reset when it came back: setup_easy sets every option */
    }
  return curl_easy_init();
}

/* An easy handle for the leg (kept or new), asking for bytes start..end
 * (end -1: to the end of the file).  The caller attaches it (glue_attach).  0, or -1
 * when curl cannot make a handle. */
int attempt_prepare(struct leg *l, int64_t start, int64_t end)
{
  l->start = start;
  l->end = end;
  l->body_ok = 0;
  l->headers_seen = 0;
  headers_reset(&l->resp);
  l->connected = 0;
  l->write_paused = 0;
  l->limit_paused = 0;
  l->naming = NAMING_NONE;
  l->abort = AB_NONE;
  l->errbuf[0] = '\0';
  size_t rx = stream_rx_size(l);
  l->easy = easy_take(l->x->eng, rx);
  if (!l->easy) {
    stream_rx_release(l);
    return -1;
  }
  l->rx_size = rx;
  setup_easy(l, rx);
  l->last_rx = uv_now(&l->x->eng->loop);
  return 0;
}

/* Take the leg's handle out of curl (closing its connection unless the
 * transfer completed) and keep it, reset, for the next leg: a new handle
 * per file was ~10 % of a queue of small files' CPU.  Only a handle that
 * got a connection is kept: curl freed its receive buffer when that
 * transfer ended (multi_done), so the loan goes back here and the next leg
 * takes its own; easy_take's size match covers the rare leftover (a
 * retry on a fresh connection that never came).  curl_easy_reset keeps
 * the handle's TLS session cache (matched against each connection's TLS
 * settings); connections and the DNS cache are the multi handle's. */
void attempt_detach(struct leg *l)
{
  if (!l->easy)
    return;
  struct engine *e = l->x->eng;
  int out = glue_detach(e, l->easy) == 0; /* then curl holds no reference to it */
  int cap = e->run.max_connections < EASY_POOL_MAX ? e->run.max_connections : EASY_POOL_MAX;
  if (out && l->connected && e->easy_pooled < cap) {
    curl_easy_reset(l->easy); /* drops every option: the leg pointers, headers, errbuf */
    e->easy_pool_rx[e->easy_pooled] = l->rx_size;
    e->easy_pool[e->easy_pooled++] = l->easy;
  } else {
    curl_easy_cleanup(l->easy);
  }
  stream_rx_release(l);
  l->easy = NULL;
  l->write_paused = 0;
}

/* At shutdown, before curl_multi_cleanup: the kept handles (none is in
 * the multi handle). */
void attempt_pool_free(struct engine *e)
{
  while (e->easy_pooled > 0)
    curl_easy_cleanup(e->easy_pool[--e->easy_pooled]);
}
