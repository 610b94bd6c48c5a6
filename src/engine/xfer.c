/* xfer.c - one transfer: its attempts, what curl hands us (headers, body),
 * the two-buffer stream to disk, retries with backoff, validated resume,
 * pause without a socket, and the one path every ending goes through.
 * Engine thread only; disk work is handed to disk.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine-int.h"
#include "siphon/dlog.h"
#include "siphon/fname.h"
#include "siphon/secret.h"
#include "siphon/xalloc.h"

enum { BACKOFF_FIRST_MS = 1000, BACKOFF_CAP_MS = 60000, RETRY_AFTER_CAP_MS = 600000 };

static uint64_t now_ms(struct xfer *x)
{
  return uv_now(&x->eng->loop);
}

static char *path_join(const char *dir, const char *name)
{
  if (!dir || !*dir || strcmp(dir, ".") == 0)
    return xstrdup(name);
  size_t n = strlen(dir);
  return xasprintf("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
}

/* mkdir -p for the directory part of path, skipped when it is the
 * directory made last (a list's items mostly share one). 0 or -errno. */
static int make_parents(struct engine *e, const char *path)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    return 0;
  size_t dirlen = (size_t)(slash - path);
  if (e->last_dir && strlen(e->last_dir) == dirlen && memcmp(e->last_dir, path, dirlen) == 0)
    return 0;
  char *p = xstrdup(path);
  int rc = 0;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      rc = -errno;
      break;
    }
    *s = '/';
  }
  if (rc == 0) {
    free(e->last_dir);
    e->last_dir = xstrndup(path, dirlen);
  }
  free(p);
  return rc;
}

static void set_name(struct xfer *x, const char *name)
{
  struct xrun *r = x->run;
  free(r->name);
  free(r->final_path);
  free(r->part_path);
  free(r->meta_path);
  r->name = xstrdup(name);
  r->final_path = path_join(x->spec->dir, name);
  r->part_path = xasprintf("%s.part", r->final_path);
  r->meta_path = xasprintf("%s.part.meta", r->final_path);
}

static void post_simple(struct xfer *x, enum msg_event_kind kind)
{
  engine_post(x->eng, engine_event(kind, x->id));
}

static void clock_stop(struct xfer *x)
{
  if (x->run_since) {
    x->run_used_ms += now_ms(x) - x->run_since;
    x->run_since = 0;
  }
}

static uint64_t clock_used(struct xfer *x)
{
  return x->run_used_ms + (x->run_since ? now_ms(x) - x->run_since : 0);
}

/* ---- buffers ------------------------------------------------------ */

/* Transfer buffers of the run's usual size are kept for the next transfer
 * (as many as the running ones can use): no malloc/free of 2 x buffer size
 * per file, and the pages that stay resident are the same few buffers, not
 * fresh heap for every transfer of a long list. */
static char *buf_get(struct engine *e, size_t size)
{
  if (size == e->bufpool_size && e->bufpool_n > 0)
    return e->bufpool[--e->bufpool_n];
  return xmalloc(size);
}

static void buf_put(struct engine *e, char *buf, size_t size)
{
  size_t keep = 2 * (size_t)e->run.concurrency + 2;
  if (!buf)
    return;
  if (size != e->bufpool_size || e->bufpool_n >= keep) {
    free(buf);
    return;
  }
  if (e->bufpool_n == e->bufpool_cap) {
    e->bufpool_cap = e->bufpool_cap ? 2 * e->bufpool_cap : 16;
    e->bufpool = xrealloc(e->bufpool, e->bufpool_cap * sizeof *e->bufpool);
  }
  e->bufpool[e->bufpool_n++] = buf;
}

/* ---- ending ------------------------------------------------------- */

static void run_free(struct xfer *x)
{
  struct xrun *r = x->run;
  if (!r)
    return;
  if (r->easy)
    curl_easy_cleanup(r->easy);
  curl_slist_free_all(r->req_headers);
  if (r->fd >= 0)
    close(r->fd);
  buf_put(x->eng, r->buf[0], r->cap);
  buf_put(x->eng, r->buf[1], r->cap);
  EVP_MD_CTX_free(r->sha);
  free(r->name);
  free(r->final_path);
  free(r->part_path);
  free(r->meta_path);
  free(r->etag);
  free(r->last_modified);
  free(r->end_message);
  free(r->resp_etag);
  free(r->resp_lm);
  free(r->resp_cd);
  free(r);
  x->run = NULL;
}

static void detach(struct xfer *x)
{
  struct xrun *r = x->run;
  if (x->phase != PH_ATTACHED || !r || !r->easy)
    return;
  glue_detach(x->eng, r->easy);
  curl_easy_cleanup(r->easy);
  r->easy = NULL;
  r->write_paused = 0;
  x->host->attached--;
}

static void flush_then(struct xfer *x, enum after_flush what);

/* The last step of an ending, once no disk job runs: close the file,
 * decide what stays on disk, give the item its final state and say so. */
static void end_finish(struct xfer *x)
{
  struct engine *e = x->eng;
  struct xrun *r = x->run;
  enum msg_state st = r ? r->end_state : x->state;
  if (r) {
    if (r->fd >= 0) {
      close(r->fd);
      r->fd = -1;
    }
    int keep = st == MSG_STATE_TIMED_OUT || st == MSG_STATE_FAILED;
    if (st == MSG_STATE_FAILED &&
        (r->end_reason == MSG_REASON_CHECKSUM || r->end_reason == MSG_REASON_BAD_REDIRECT))
      keep = 0;
    if (st == MSG_STATE_CANCELLED)
      keep = 0;
    if (r->part_path && st != MSG_STATE_DONE && st != MSG_STATE_SKIPPED) {
      struct stat sb;
      int has_part = lstat(r->part_path, &sb) == 0 && S_ISREG(sb.st_mode);
      if (has_part && (!keep || sb.st_size == 0)) {
        disk_unlink_part(x);
      } else if (has_part && (r->etag || r->last_modified)) {
        disk_meta_save(x);
      }
    }
  }
  x->phase = PH_FINAL;
  x->state = st;
  engine_live_remove(e, x);

  struct msg_event *ev = engine_event(MSG_EV_FAILED, x->id);
  ev->http = (int32_t)x->http;
  switch (st) {
  case MSG_STATE_DONE:
    ev->kind = MSG_EV_DONE;
    ev->path = xstrdup(r->final_path);
    ev->bytes = x->bytes;
    ev->seconds = (double)x->run_used_ms / 1000.0;
    break;
  case MSG_STATE_SKIPPED:
    ev->kind = MSG_EV_SKIPPED;
    ev->reason = r ? r->end_reason : MSG_REASON_EXISTS;
    ev->path = r ? xstrdup(r->final_path) : NULL;
    break;
  case MSG_STATE_CANCELLED:
    ev->kind = MSG_EV_CANCELLED;
    break;
  case MSG_STATE_TIMED_OUT:
    ev->kind = MSG_EV_TIMED_OUT;
    /* fallthrough */
  default:
    ev->reason = r ? r->end_reason : MSG_REASON_INTERNAL;
    ev->message = xstrdup(r && r->end_message ? r->end_message : msg_reason_text(ev->reason));
    break;
  }
  ev->total = x->total;
  engine_post(e, ev);
  run_free(x);
  engine_check_idle(e);
  sched_pump(e);
}

/* Every way a transfer ends goes through here: the outcome is recorded
 * first, then the easy handle is removed (closing its connection unless
 * the transfer completed), the slot is given back, buffered bytes are
 * written (unless they are to be thrown away), and end_finish closes. */
static void xfer_end(struct xfer *x, enum msg_state st, enum msg_reason why,
                     const char *message)
{
  struct engine *e = x->eng;
  if (x->phase == PH_FINAL || x->phase == PH_ENDING)
    return;
  int held_slot = x->phase == PH_ATTACHED || x->phase == PH_RETRY_WAIT;
  if (x->phase == PH_QUEUED)
    sched_dequeue(x);
  if (!x->run) {
    x->run = xcalloc(1, sizeof(struct xrun));
    x->run->fd = -1;
  }
  struct xrun *r = x->run;
  r->end_state = st;
  r->end_reason = why;
  free(r->end_message);
  r->end_message = message ? xstrdup(message) : NULL;
  detach(x);
  clock_stop(x);
  x->phase = PH_ENDING;
  if (held_slot)
    sched_release(e, x);
  int discard = st == MSG_STATE_CANCELLED || why == MSG_REASON_CHECKSUM;
  if (discard)
    r->fill_len = 0;
  flush_then(x, AF_END);
}

/* ---- disk flow ----------------------------------------------------- */

static void attempt_start(struct xfer *x);
static void finalize(struct xfer *x);

static void run_after(struct xfer *x)
{
  struct xrun *r = x->run;
  enum after_flush what = r->after;
  r->after = AF_NONE;
  switch (what) {
  case AF_NONE:
  case AF_FLUSH:
    break;
  case AF_RETRY: /* an admitted item waiting for its write before starting */
    attempt_start(x);
    break;
  case AF_PAUSE:
    if (x->bytes > 0 && (r->etag || r->last_modified))
      disk_meta_save(x);
    break;
  case AF_FINALIZE:
    finalize(x);
    break;
  case AF_END:
    end_finish(x);
    break;
  case AF_STOP:
    if (r->fd >= 0) {
      close(r->fd);
      r->fd = -1;
    }
    if (x->bytes > 0 && (r->etag || r->last_modified))
      disk_meta_save(x);
    break;
  }
}

/* Write what is buffered, then do `what`. */
static void flush_then(struct xfer *x, enum after_flush what)
{
  struct xrun *r = x->run;
  r->after = what;
  if (r->inflight)
    return; /* xfer_write_done continues */
  if (r->fill_len > 0 && r->fd >= 0) {
    disk_submit_write(x);
    return;
  }
  r->fill_len = 0;
  run_after(x);
}

/* A disk job finished (libuv's after-work callback). */
void xfer_write_done(struct xfer *x)
{
  struct xrun *r = x->run;
  r->inflight = 0;
  if (r->job_hash_file) {
    r->job_hash_file = 0;
    r->hashed = 1;
  }
  if (r->job_err && x->phase != PH_ENDING) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", r->part_path, strerror(r->job_err));
    r->job_err = 0;
    r->fill_len = 0;
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_DISK, msg);
    return;
  }
  if (r->after != AF_NONE) {
    if (r->fill_len > 0 && r->fd >= 0)
      disk_submit_write(x);
    else
      run_after(x);
    return;
  }
  if (r->write_paused && r->easy) {
    r->write_paused = 0;
    r->last_rx = now_ms(x);
    curl_easy_pause(r->easy, CURLPAUSE_CONT); /* may call write_cb at once */
  }
}

/* ---- finishing a complete download ---------------------------------- */

static void finalize(struct xfer *x)
{
  struct xrun *r = x->run;
  const char *want = x->spec->sha256;
  if (want) {
    unsigned char md[32];
    if (r->sha_from_zero) {
      unsigned int len = 0;
      EVP_DigestFinal_ex(r->sha, md, &len);
    } else if (!r->hashed) {
      r->after = AF_FINALIZE;
      disk_submit_hash(x); /* bytes from an earlier run: hash the file once */
      return;
    } else {
      memcpy(md, r->job_digest, sizeof md);
    }
    char hex[65];
    for (int i = 0; i < 32; i++)
      snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (strcmp(hex, want) != 0) {
      char msg[200];
      snprintf(msg, sizeof msg, "sha256 is %.16s..., expected %.16s...", hex, want);
      if (r->resumed_ever && !r->checksum_retried) {
        /* a resumed file may hide bad old bytes: one fresh try from zero */
        r->checksum_retried = 1;
        r->resumed_ever = 0;
        r->truncate = 1;
        struct msg_event *ev = engine_event(MSG_EV_RETRY, x->id);
        ev->attempt = ++x->attempt;
        ev->reason = MSG_REASON_CHECKSUM;
        ev->message = xstrdup(msg);
        engine_post(x->eng, ev);
        x->phase = PH_RETRY_WAIT;
        r->retry_at = now_ms(x);
        return;
      }
      xfer_end(x, MSG_STATE_FAILED, MSG_REASON_CHECKSUM, msg);
      return;
    }
  }
  int closed = close(r->fd);
  r->fd = -1;
  if (closed != 0 || rename(r->part_path, r->final_path) != 0) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", r->final_path, strerror(errno));
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_DISK, msg);
    return;
  }
  if (r->meta_written || r->resumed_ever)
    unlink(r->meta_path);
  xfer_end(x, MSG_STATE_DONE, MSG_REASON_NONE, NULL);
}

/* ---- attempts ------------------------------------------------------ */

static int64_t backoff_ms(int retry_no)
{
  int64_t d = BACKOFF_FIRST_MS;
  for (int i = 1; i < retry_no && d < BACKOFF_CAP_MS; i++)
    d *= 2;
  if (d > BACKOFF_CAP_MS)
    d = BACKOFF_CAP_MS;
  /* +-20 % jitter so many failing items do not come back in lockstep */
  int64_t span = d * 2 / 5;
  return d - d / 5 + (span > 0 ? (int64_t)(rand() % (int)(span + 1)) : 0);
}

static int transient(enum msg_reason why, long http)
{
  switch (why) {
  case MSG_REASON_NETWORK:
  case MSG_REASON_CONNECT:
  case MSG_REASON_STALL:
    return 1;
  case MSG_REASON_HTTP:
    return http == 408 || http == 429 || http >= 500;
  default:
    return 0;
  }
}

/* This attempt failed: retry after a backoff if the failure is transient
 * and retries are left, else end the item. */
static void attempt_failed(struct xfer *x, enum msg_reason why, long http, const char *message)
{
  struct xrun *r = x->run;
  detach(x);
  if (transient(why, http) && x->attempt <= x->spec->retries) {
    int64_t delay = r->retry_after_ms >= 0 ? r->retry_after_ms : backoff_ms(x->attempt);
    struct msg_event *ev = engine_event(MSG_EV_RETRY, x->id);
    ev->attempt = ++x->attempt;
    ev->delay_ms = delay;
    ev->reason = why;
    ev->http = (int32_t)http;
    ev->message = xstrdup(message);
    engine_post(x->eng, ev);
    x->phase = PH_RETRY_WAIT;
    x->state = MSG_STATE_RUNNING;
    r->retry_at = now_ms(x) + (uint64_t)delay;
    flush_then(x, AF_FLUSH);
    return;
  }
  enum msg_state st = why == MSG_REASON_CONNECT || why == MSG_REASON_STALL
                          ? MSG_STATE_TIMED_OUT
                          : MSG_STATE_FAILED;
  xfer_end(x, st, why, message);
}

/* ---- curl callbacks ------------------------------------------------ */

static int prereq_cb(void *clientp, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
  (void)conn_primary_ip, (void)conn_local_ip, (void)conn_primary_port, (void)conn_local_port;
  struct xfer *x = clientp;
  /* connected: from here on silence counts against the stall limit */
  x->run->connected = 1;
  x->run->last_rx = now_ms(x);
  return CURL_PREREQFUNC_OK;
}

static int header_is(const char *line, size_t len, const char *name, const char **val,
                     size_t *vlen)
{
  size_t n = strlen(name);
  if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
    return 0;
  const char *v = line + n + 1, *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
    end--;
  *val = v;
  *vlen = (size_t)(end - v);
  return 1;
}

/* Retry-After: delta-seconds or an HTTP-date; -1 if neither. */
static int64_t parse_retry_after(const char *v, size_t n)
{
  char buf[64];
  if (n == 0 || n >= sizeof buf)
    return -1;
  memcpy(buf, v, n);
  buf[n] = '\0';
  char *end;
  long long secs = strtoll(buf, &end, 10);
  if (end != buf && *end == '\0' && secs >= 0)
    return secs > RETRY_AFTER_CAP_MS / 1000 ? RETRY_AFTER_CAP_MS : secs * 1000;
  time_t when = curl_getdate(buf, NULL);
  if (when < 0)
    return -1;
  int64_t ms = ((int64_t)when - (int64_t)time(NULL)) * 1000;
  if (ms < 0)
    ms = 0;
  return ms > RETRY_AFTER_CAP_MS ? RETRY_AFTER_CAP_MS : ms;
}

static void log_append(struct xfer *x, const char *s, size_t n)
{
  struct xrun *r = x->run;
  size_t room = sizeof r->logline - 1 - r->loglen;
  if (n > room)
    n = room;
  memcpy(r->logline + r->loglen, s, n);
  r->loglen += n;
  r->logline[r->loglen] = '\0';
}

static void post_detail(struct xfer *x)
{
  struct xrun *r = x->run;
  struct msg_event *ev = engine_event(MSG_EV_DETAIL, x->id);
  char *eff = NULL, *ip = NULL;
  long port = 0;
  curl_off_t tc = -1, tfb = -1;
  curl_easy_getinfo(r->easy, CURLINFO_EFFECTIVE_URL, &eff);
  curl_easy_getinfo(r->easy, CURLINFO_PRIMARY_IP, &ip);
  curl_easy_getinfo(r->easy, CURLINFO_PRIMARY_PORT, &port);
  curl_easy_getinfo(r->easy, CURLINFO_CONNECT_TIME_T, &tc);
  curl_easy_getinfo(r->easy, CURLINFO_STARTTRANSFER_TIME_T, &tfb);
  ev->final_url = secret_url(eff);
  ev->url = secret_url(x->spec->url);
  if (ip && *ip)
    ev->remote_addr = strchr(ip, ':') ? xasprintf("[%s]:%ld", ip, port)
                                      : xasprintf("%s:%ld", ip, port);
  ev->http = (int32_t)r->http;
  ev->t_connect = tc >= 0 ? (double)tc / 1e6 : -1;
  ev->t_first_byte = tfb >= 0 ? (double)tfb / 1e6 : -1;
  ev->path = xstrdup(r->final_path);
  ev->attempt = x->attempt;
  ev->total = x->total;
  engine_post(x->eng, ev);
}

/* The final response's headers are in: decide whether and where its body
 * goes.  -1 aborts the attempt (x->run->abort says why). */
static int on_final_headers(struct xfer *x)
{
  struct xrun *r = x->run;
  x->http = (int16_t)r->http;
  if (r->http < 200 || r->http >= 300) {
    r->body_ok = 0;
    post_detail(x);
    return 0;
  }
  curl_off_t cl = -1;
  curl_easy_getinfo(r->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
  int64_t start = 0;
  if (r->http == 206) {
    if (r->content_range_start != r->resume_from) {
      r->abort = AB_RESTART; /* not where we asked: start over from zero */
      return -1;
    }
    start = r->resume_from;
    x->total = r->content_range_total >= 0 ? r->content_range_total
               : cl >= 0                    ? start + cl
                                            : -1;
  } else {
    /* a 200 to a Range request: the server or the file changed; start over */
    x->total = cl >= 0 ? cl : -1;
    if (r->resume_from > 0 || x->bytes > 0)
      r->truncate = 1;
    r->resume_from = 0;
    x->bytes = 0;
    r->submitted = 0;
    r->fill_len = 0;
  }
  /* the validator of what is now on disk */
  free(r->etag);
  free(r->last_modified);
  r->etag = r->resp_etag;
  r->last_modified = r->resp_lm;
  r->resp_etag = r->resp_lm = NULL;

  if (!x->spec->output && start == 0 && r->fd < 0 && r->resp_cd) {
    char *cd = fname_from_disposition(r->resp_cd);
    if (cd && strcmp(cd, r->name) != 0) {
      set_name(x, cd);
      struct stat sb;
      if (!x->spec->overwrite && lstat(r->final_path, &sb) == 0) {
        free(cd);
        r->abort = AB_SKIP;
        return -1;
      }
    }
    free(cd);
  }
  if (r->fd < 0) {
    r->fd = open(r->part_path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (r->fd < 0) {
      r->abort = AB_DISK;
      r->abort_errno = errno;
      return -1;
    }
  }
  if (r->truncate) {
    if (ftruncate(r->fd, 0) != 0) {
      r->abort = AB_DISK;
      r->abort_errno = errno;
      return -1;
    }
    r->truncate = 0;
  }
  if (x->spec->sha256 && start == 0) {
    EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL);
    r->sha_from_zero = 1;
  }
  if (start > 0)
    r->resumed_ever = 1;
  r->body_ok = 1;
  r->meta_written = 0;
  post_detail(x);
  return 0;
}

static size_t header_cb(char *buf, size_t size, size_t n, void *userp)
{
  struct xfer *x = userp;
  struct xrun *r = x->run;
  size_t len = size * n;
  const char *v;
  size_t vlen;
  if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
    /* a new response (redirects and 1xx bring several) */
    const char *sp = memchr(buf, ' ', len);
    r->http = sp ? strtol(sp + 1, NULL, 10) : 0;
    r->headers_seen = 0;
    r->location = 0;
    r->content_range_start = -1;
    r->content_range_total = -1;
    r->retry_after_ms = -1;
    free(r->resp_etag);
    free(r->resp_lm);
    free(r->resp_cd);
    r->resp_etag = r->resp_lm = r->resp_cd = NULL;
    r->loglen = 0;
    if (dlog_enabled())
      log_append(x, buf, len > 2 ? len - 2 : len);
    return len;
  }
  if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
    if (dlog_enabled())
      dlog("#%u < %s", x->id, r->logline);
    if (r->http >= 100 && r->http < 200)
      return len;
    if (r->http >= 300 && r->http < 400 && r->location)
      return len; /* curl follows it */
    r->headers_seen = 1;
    long connects = 0; /* 0: this attempt reused a pooled connection */
    if (curl_easy_getinfo(r->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK) {
      if (connects > 0)
        x->host->fresh++;
      else
        x->host->reused++;
    }
    return on_final_headers(x) == 0 ? len : 0;
  }
  if (header_is(buf, len, "ETag", &v, &vlen)) {
    free(r->resp_etag);
    r->resp_etag = xstrndup(v, vlen);
  } else if (header_is(buf, len, "Last-Modified", &v, &vlen)) {
    free(r->resp_lm);
    r->resp_lm = xstrndup(v, vlen);
  } else if (header_is(buf, len, "Content-Disposition", &v, &vlen)) {
    free(r->resp_cd);
    r->resp_cd = xstrndup(v, vlen);
  } else if (header_is(buf, len, "Location", &v, &vlen)) {
    r->location = 1;
    if (r->http >= 300 && r->http < 400)
      netopt_redirect(x, r->easy, v, vlen);
  } else if (header_is(buf, len, "Retry-After", &v, &vlen)) {
    r->retry_after_ms = parse_retry_after(v, vlen);
  } else if (header_is(buf, len, "Accept-Ranges", &v, &vlen)) {
    r->accept_ranges = vlen >= 5 && strncasecmp(v, "bytes", 5) == 0;
  } else if (header_is(buf, len, "Content-Range", &v, &vlen)) {
    long long a, b, t;
    char tmp[96];
    snprintf(tmp, sizeof tmp, "%.*s", (int)(vlen < 95 ? vlen : 95), v);
    if (sscanf(tmp, "bytes %lld-%lld/%lld", &a, &b, &t) == 3) {
      r->content_range_start = a;
      r->content_range_total = t;
    } else if (sscanf(tmp, "bytes %lld-%lld/*", &a, &b) == 2) {
      r->content_range_start = a;
    }
  }
  if (dlog_enabled() && len > 2) {
    log_append(x, " | ", 3);
    log_append(x, buf, len - 2);
  }
  return len;
}

/* Body bytes: copied into the fill buffer; a full buffer goes to a disk
 * worker while the other one fills.  When both are busy we take nothing
 * and pause the transfer until the write completes, so memory stays at two
 * buffers however slow the disk is. */
static size_t write_cb(char *ptr, size_t size, size_t n, void *userp)
{
  struct xfer *x = userp;
  struct xrun *r = x->run;
  size_t len = size * n;
  if (!r->body_ok)
    return len; /* an error page: drain it so the connection can be reused */
  if (len > r->cap)
    return 0; /* libcurl hands at most CURL_MAX_WRITE_SIZE (16K) <= cap */
  if (limit_write(x, len))
    return CURL_WRITEFUNC_PAUSE; /* over a speed limit: the tick resumes it */
  if (r->fill_len + len >= r->cap && r->inflight && !disk_reap(x)) {
    r->write_paused = 1;
    return CURL_WRITEFUNC_PAUSE;
  }
  size_t part = len;
  if (part > r->cap - r->fill_len)
    part = r->cap - r->fill_len;
  memcpy(r->buf[r->fill] + r->fill_len, ptr, part);
  r->fill_len += part;
  if (r->fill_len == r->cap) {
    disk_submit_write(x);
    if (len > part) {
      memcpy(r->buf[r->fill], ptr + part, len - part);
      r->fill_len = len - part;
    }
  }
  x->bytes += (int64_t)len;
  x->eng->bytes_total += (int64_t)len;
  r->last_rx = now_ms(x);
  return len;
}

static int debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *userp)
{
  (void)easy;
  struct xfer *x = userp;
  if (type != CURLINFO_HEADER_OUT)
    return 0;
  /* one line per request; credentials masked */
  char line[1024];
  size_t o = 0;
  const char *p = data, *end = data + size;
  while (p < end && o < sizeof line - 16) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t l = (size_t)((eol ? eol : end) - p);
    while (l > 0 && (p[l - 1] == '\r' || p[l - 1] == '\n'))
      l--;
    if (l > 0) {
      int secret = (l > 14 && strncasecmp(p, "Authorization:", 14) == 0) ||
                   (l > 7 && strncasecmp(p, "Cookie:", 7) == 0) ||
                   (l > 20 && strncasecmp(p, "Proxy-Authorization:", 20) == 0);
      const char *colon = memchr(p, ':', l);
      size_t shown = secret && colon ? (size_t)(colon - p) + 1 : l;
      if (o)
        o += (size_t)snprintf(line + o, sizeof line - o, " | ");
      o += (size_t)snprintf(line + o, sizeof line - o, "%.*s%s", (int)shown, p,
                            secret ? " ***" : "");
      if (o >= sizeof line)
        o = sizeof line - 1;
    }
    p = eol ? eol + 1 : end;
  }
  dlog("#%u > %s", x->id, line);
  return 0;
}

/* ---- attempts ------------------------------------------------------ */

static void setup_easy(struct xfer *x)
{
  struct engine *e = x->eng;
  struct xrun *r = x->run;
  const struct cfg_item *it = x->spec;
  CURL *c = r->easy;
  curl_easy_setopt(c, CURLOPT_URL, it->url);
  curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)x);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "siphon/" SIPHON_VERSION);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, prereq_cb);
  curl_easy_setopt(c, CURLOPT_PREREQDATA, x);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
  glue_set_socket_callbacks(e, c);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  /* never follow a redirect to another scheme */
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR,
                   strncasecmp(it->url, "https:", 6) == 0 ? "https" : "http");
  /* custom Authorization/Cookie headers stay with the host the user named */
  curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  /* 0 = none: curl's own 0 means its 300 s default, so say "very long" */
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   it->connect_timeout_ms > 0 ? (long)it->connect_timeout_ms : 0x7fffffffL);
  long cbuf = (long)(r->cap < 512 * 1024 ? r->cap : 512 * 1024);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, cbuf);
  curl_easy_setopt(c, CURLOPT_DNS_CACHE_TIMEOUT, (long)(e->run.dns_ttl_ms / 1000));
  curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, (long)e->maxage_s);
  curl_easy_setopt(c, CURLOPT_MAXLIFETIME_CONN, (long)e->maxlife_s);
  netopt_apply(x, c);
  if (dlog_enabled()) {
    curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
    curl_easy_setopt(c, CURLOPT_DEBUGDATA, x);
  }
  curl_slist_free_all(r->req_headers);
  r->req_headers = NULL;
  for (size_t i = 0; i < it->headers.n; i++)
    r->req_headers = curl_slist_append(r->req_headers, it->headers.v[i]);
  if (r->resume_from > 0) {
    char h[600];
    snprintf(h, sizeof h, "Range: bytes=%lld-", (long long)r->resume_from);
    r->req_headers = curl_slist_append(r->req_headers, h);
    const char *validator = r->etag ? r->etag : r->last_modified;
    if (validator && strlen(validator) < 500) {
      snprintf(h, sizeof h, "If-Range: %s", validator);
      r->req_headers = curl_slist_append(r->req_headers, h);
    }
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->req_headers);
}

/* Begin an attempt: decide where it resumes from and hand the handle to
 * curl. */
static void attempt_start(struct xfer *x)
{
  struct xrun *r = x->run;
  if (r->inflight) {
    r->after = AF_RETRY; /* write_done starts us */
    return;
  }
  if (r->fd < 0 && !r->truncate) {
    /* a .part from an earlier run resumes only with its stored validator */
    struct stat sb;
    if (lstat(r->part_path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0 &&
        disk_meta_load(x, sb.st_size) == 0)
      x->bytes = sb.st_size;
    else
      x->bytes = 0, r->truncate = 1;
  }
  if (r->truncate)
    x->bytes = 0;
  r->resume_from = x->bytes;
  r->submitted = x->bytes;
  r->fill_len = 0;
  r->body_ok = 0;
  r->headers_seen = 0;
  r->http = 0;
  r->retry_after_ms = -1;
  r->connected = 0;
  r->abort = AB_NONE;
  r->errbuf[0] = '\0';
  if (r->resume_from == 0 && x->spec->sha256)
    r->sha_from_zero = 1;
  else if (r->resume_from > 0 && !r->sha_from_zero)
    r->hashed = 0;
  r->easy = curl_easy_init();
  if (!r->easy) {
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_INTERNAL, "curl_easy_init failed");
    return;
  }
  setup_easy(x);
  x->phase = PH_ATTACHED;
  x->state = MSG_STATE_RUNNING;
  x->host->attached++;
  r->last_rx = now_ms(x);
  struct msg_event *ev = engine_event(MSG_EV_START, x->id);
  ev->attempt = x->attempt;
  engine_post(x->eng, ev);
  if (glue_attach(x->eng, r->easy) != 0) {
    x->host->attached--;
    x->phase = PH_RETRY_WAIT; /* so xfer_end releases the slot */
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_INTERNAL, "curl_multi_add_handle failed");
  }
}

/* The scheduler gave this item a slot. */
void xfer_admit(struct xfer *x)
{
  struct engine *e = x->eng;
  if (!x->run) {
    x->run = xcalloc(1, sizeof(struct xrun));
    struct xrun *r = x->run;
    r->fd = -1;
    r->retry_after_ms = -1;
    r->cap = x->spec->buffer_size;
    r->buf[0] = buf_get(e, r->cap);
    r->buf[1] = buf_get(e, r->cap);
    r->sha = EVP_MD_CTX_new();
    char *name = x->spec->output ? xstrdup(x->spec->output) : fname_from_url(x->spec->url);
    set_name(x, name ? name : "index.html");
    free(name);
  }
  struct xrun *r = x->run;
  engine_live_add(e, x);
  x->phase = PH_RETRY_WAIT; /* holds the slot until attached */
  x->run_since = now_ms(x);
  if (x->attempt == 0)
    x->attempt = 1;
  struct stat sb;
  if (!x->spec->overwrite && r->fd < 0 && lstat(r->final_path, &sb) == 0) {
    xfer_end(x, MSG_STATE_SKIPPED, MSG_REASON_EXISTS, NULL);
    return;
  }
  int rc = make_parents(e, r->final_path);
  if (rc < 0) {
    char msg[300];
    snprintf(msg, sizeof msg, "cannot create the directory of %s: %s", r->final_path,
             strerror(-rc));
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_DISK, msg);
    return;
  }
  attempt_start(x);
}

/* curl finished an attempt (successfully or not). */
void xfer_done(struct xfer *x, CURLcode rc)
{
  struct xrun *r = x->run;
  char msg[CURL_ERROR_SIZE + 64];
  snprintf(msg, sizeof msg, "%s", r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
  long http = r->http;
  detach(x);
  x->phase = PH_RETRY_WAIT; /* between attempts, still holding the slot */
  switch (r->abort) {
  case AB_RESTART:
    r->truncate = 1;
    r->fill_len = 0;
    attempt_start(x);
    return;
  case AB_DISK:
    snprintf(msg, sizeof msg, "%s: %s", r->part_path, strerror(r->abort_errno));
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_DISK, msg);
    return;
  case AB_SKIP:
    xfer_end(x, MSG_STATE_SKIPPED, MSG_REASON_EXISTS, NULL);
    return;
  case AB_NONE:
    break;
  }
  switch (rc) {
  case CURLE_OK:
    if (!r->body_ok) {
      snprintf(msg, sizeof msg, "the server answered HTTP %ld", http);
      attempt_failed(x, MSG_REASON_HTTP, http, msg);
    } else if (x->total >= 0 && x->bytes != x->total) {
      snprintf(msg, sizeof msg, "the body ended after %lld of %lld bytes",
               (long long)x->bytes, (long long)x->total);
      attempt_failed(x, MSG_REASON_NETWORK, 0, msg);
    } else {
      x->total = x->bytes;
      flush_then(x, AF_FINALIZE);
    }
    return;
  case CURLE_OPERATION_TIMEDOUT: /* the only limit curl enforces is connect */
    attempt_failed(x, MSG_REASON_CONNECT, 0, msg);
    return;
  case CURLE_TOO_MANY_REDIRECTS:
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_TOO_MANY_REDIRECTS, msg);
    return;
  case CURLE_UNSUPPORTED_PROTOCOL:
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_BAD_REDIRECT, msg);
    return;
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
  case CURLE_SSL_INVALIDCERTSTATUS:
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_TLS, msg);
    return;
  case CURLE_URL_MALFORMAT:
    xfer_end(x, MSG_STATE_FAILED, MSG_REASON_BAD_URL, msg);
    return;
  default:
    attempt_failed(x, MSG_REASON_NETWORK, 0, msg);
    return;
  }
}

/* Should this write job also store the resume sidecar?  Once per response,
 * and only for files big enough to be worth resuming. */
int xfer_meta_wanted(struct xfer *x)
{
  struct xrun *r = x->run;
  if (r->meta_written || !(r->etag || r->last_modified))
    return 0;
  /* a file done within two buffers is cheaper to fetch again than to guard */
  if (x->total >= 0 && x->total <= (int64_t)(2 * r->cap))
    return 0;
  r->meta_written = 1;
  return 1;
}

int64_t xfer_job_offset(struct xfer *x, size_t len)
{
  struct xrun *r = x->run;
  int64_t off = r->submitted;
  r->submitted += (int64_t)len;
  return off;
}

/* ---- the tick: limits, retry waits, speed --------------------------- */

void xfer_tick(struct xfer *x, uint64_t now)
{
  struct xrun *r = x->run;
  if (!r)
    return;
  if (x->phase == PH_ATTACHED || x->phase == PH_RETRY_WAIT) {
    int64_t limit = x->spec->timeout_ms;
    if (limit > 0 && (int64_t)clock_used(x) >= limit) {
      char msg[96];
      snprintf(msg, sizeof msg, "the whole-item timeout of %.3gs passed", (double)limit / 1000);
      xfer_end(x, MSG_STATE_TIMED_OUT, MSG_REASON_TOTAL, msg);
      return;
    }
  }
  if (x->phase == PH_ATTACHED) {
    int64_t stall = x->spec->stall_timeout_ms;
    if (stall > 0 && r->connected && !r->write_paused && !limit_paused(x) &&
        (int64_t)(now - r->last_rx) >= stall) {
      char msg[96];
      snprintf(msg, sizeof msg, "no data for %.3gs", (double)stall / 1000);
      attempt_failed(x, MSG_REASON_STALL, 0, msg);
      return;
    }
  } else if (x->phase == PH_RETRY_WAIT && !r->inflight && r->after == AF_NONE &&
             now >= r->retry_at) {
    attempt_start(x);
    return;
  }
  /* speed ring: one sample a tick */
  r->samples[r->sample_pos] = x->bytes;
  r->sample_t[r->sample_pos] = now;
  r->sample_pos = (r->sample_pos + 1) % SPEED_SAMPLES;
  if (r->nsamples < SPEED_SAMPLES)
    r->nsamples++;
}

int64_t xfer_speed(const struct xfer *x)
{
  const struct xrun *r = x->run;
  if (!r || r->nsamples < 2 || x->phase != PH_ATTACHED)
    return 0;
  int newest = (r->sample_pos + SPEED_SAMPLES - 1) % SPEED_SAMPLES;
  int oldest = r->nsamples < SPEED_SAMPLES ? 0 : r->sample_pos;
  uint64_t dt = r->sample_t[newest] - r->sample_t[oldest];
  int64_t db = r->samples[newest] - r->samples[oldest];
  if (dt == 0 || db < 0)
    return 0;
  return (int64_t)((double)db * 1000.0 / (double)dt);
}

int xfer_retry_in_ms(const struct xfer *x, uint64_t now)
{
  if (x->phase != PH_RETRY_WAIT || !x->run || x->run->retry_at <= now)
    return 0;
  return (int)(x->run->retry_at - now);
}

/* ---- user commands ------------------------------------------------- */

void xfer_pause(struct xfer *x)
{
  struct engine *e = x->eng;
  if (x->phase == PH_QUEUED) {
    sched_dequeue(x);
    engine_live_add(e, x);
    x->phase = PH_PAUSED;
  } else if (x->phase == PH_ATTACHED || x->phase == PH_RETRY_WAIT) {
    /* detach: curl closes the connection, so a paused item holds no socket */
    detach(x);
    clock_stop(x);
    sched_release(e, x);
    x->phase = PH_PAUSED;
    flush_then(x, AF_PAUSE);
  } else {
    return;
  }
  x->state = MSG_STATE_PAUSED;
  struct msg_event *ev = engine_event(MSG_EV_PAUSED, x->id);
  if (x->run && x->bytes > 0 && !(x->run->etag || x->run->last_modified) &&
      !x->run->accept_ranges)
    ev->message = xstrdup("the server cannot resume this file: it will restart from zero");
  engine_post(e, ev);
  sched_pump(e);
}

void xfer_resume(struct xfer *x)
{
  if (x->phase != PH_PAUSED)
    return;
  post_simple(x, MSG_EV_RESUMED);
  if (x->run && x->bytes > 0 && !(x->run->etag || x->run->last_modified) &&
      !x->run->accept_ranges)
    x->run->truncate = 1;
  sched_enqueue(x->eng, x, 1); /* a resumed item goes first */
  sched_pump(x->eng);
}

void xfer_cancel(struct xfer *x)
{
  xfer_end(x, MSG_STATE_CANCELLED, MSG_REASON_NONE, NULL);
}

void xfer_retry_cmd(struct xfer *x)
{
  if (x->phase != PH_FINAL || !(x->state == MSG_STATE_FAILED || x->state == MSG_STATE_TIMED_OUT ||
                                x->state == MSG_STATE_CANCELLED))
    return;
  x->attempt = 0;
  x->run_used_ms = 0;
  x->bytes = 0;
  x->total = -1;
  x->http = 0;
  struct msg_event *ev = engine_event(MSG_EV_QUEUED, x->id);
  ev->name = xstrdup(x->spec->name);
  ev->url = secret_url(x->spec->url);
  ev->max_speed = limit_rate(x->eng, x);
  engine_post(x->eng, ev);
  x->eng->idle_posted = 0;
  sched_enqueue(x->eng, x, 0);
  sched_pump(x->eng);
}

/* After shutdown (engine_free): whatever the item still holds (the item
 * itself lives in the engine's slabs). */
void xfer_free(struct xfer *x)
{
  run_free(x);
  limit_item_free(x);
  if (x->owns_spec) {
    cfg_item_free(x->spec);
    free(x->spec);
  }
}

/* Shutdown: detach, write what is buffered, close, keep the .part and its
 * sidecar for the next run. No final event. */
void xfer_stop(struct xfer *x)
{
  if (x->phase == PH_QUEUED) {
    sched_dequeue(x);
    return;
  }
  if (!x->run || x->phase == PH_FINAL)
    return;
  detach(x);
  clock_stop(x);
  if (x->phase == PH_ATTACHED || x->phase == PH_RETRY_WAIT)
    sched_release(x->eng, x);
  x->phase = PH_PAUSED;
  flush_then(x, AF_STOP);
}
