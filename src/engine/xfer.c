/* xfer.c - an item's state machine: admission, attempts and retries with
 * backoff, pause without a socket, the tick's limits, user commands, and
 * the one path every ending goes through.  Only xfer_move() changes an
 * admitted item's phase.  The attempt itself is attempt.c, the bytes
 * stream.c, the file's resume resume.c.  Engine thread only. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine-int.h"
#include "guard.h"
#include "siphon/dlog.h"
#include "siphon/secret.h"
#include "siphon/xalloc.h"

enum { KEEP_STATE = -1 };

static void xfer_write_done(struct xfer *x);

static const char *const phase_names[] = {
#define XFER_PHASE_NAME(e, name) name,
    XFER_PHASE_MAP(XFER_PHASE_NAME)
#undef XFER_PHASE_NAME
};

const char *xfer_phase_name(enum phase ph)
{
  return (unsigned)ph < PH_COUNT ? phase_names[ph] : "?";
}

uint64_t xfer_now(const struct xfer *x)
{
  return uv_now(&x->eng->loop);
}

static int holds_slot(enum phase ph)
{
  return ph == PH_ATTACHED || ph == PH_RETRY_WAIT || ph == PH_PREPARING;
}

/* The one place an item changes phase (like curl's multistate()): leaving
 * ATTACHED takes the legs out of curl, leaving the phases that hold a slot
 * gives it back, the live list and the host's counters follow, the
 * user-visible state becomes `state` (KEEP_STATE: unchanged), and ev (if
 * any) is posted. */
static void xfer_move(struct xfer *x, enum phase to, int state, struct msg_event *ev)
{
  struct engine *e = x->eng;
  enum phase from = x->phase;
  if (from == PH_ATTACHED && to != PH_ATTACHED) {
    if (x->run && x->run->seg)
      seg_stop_legs(x); /* ranges back to the item, extra slots given back */
    for (int i = 0; x->run && i < x->run->nlegs; i++)
      attempt_detach(&x->run->legs[i]);
    x->host->attached--;
  } else if (to == PH_ATTACHED && from != PH_ATTACHED) {
    x->host->attached++;
  }
  if (holds_slot(from) && !holds_slot(to))
    sched_release(e, x);
  if (to == PH_FINAL)
    outbox_live_remove(e, x);
  else if (to != PH_QUEUED)
    outbox_live_add(e, x);
  x->phase = (uint8_t)to;
  if (state != KEEP_STATE)
    outbox_set_state(x, state);
  if (from != to && dlog_enabled())
    dlog("#%u %s -> %s", x->id, xfer_phase_name(from), xfer_phase_name(to));
  if (ev)
    outbox_post(e, ev);
}

static void clock_stop(struct xfer *x)
{
  struct xrun *r = x->run;
  if (r && r->run_since) {
    r->run_used_ms += xfer_now(x) - r->run_since;
    r->run_since = 0;
  }
}

static uint64_t clock_used(struct xfer *x)
{
  const struct xrun *r = x->run;
  return r ? r->run_used_ms + (r->run_since ? xfer_now(x) - r->run_since : 0) : 0;
}

/* The running state an admitted item gets: one leg for the whole file,
 * its buffers, its name. */
static struct xrun *run_new(struct xfer *x)
{
  struct xrun *r = xcalloc(1, sizeof *r);
  x->run = r;
  r->fd = -1;
  /* one leg for the whole file; a segmented download uses up to `segments` */
  r->nlegs = item_spec(x)->settings->segments > 1 ? item_spec(x)->settings->segments : 1;
  r->legs = xcalloc((size_t)r->nlegs, sizeof *r->legs);
  for (int i = 0; i < r->nlegs; i++) {
    r->legs[i].x = x;
    r->legs[i].end = -1;
    headers_init(&r->legs[i].resp);
  }
  stream_init(x, xfer_write_done);
  seg_setup(x);
  r->sha = EVP_MD_CTX_new();
  name_init(x);
  return r;
}

static void run_free(struct xfer *x)
{
  struct xrun *r = x->run;
  if (!r)
    return;
  for (int i = 0; i < r->nlegs; i++) {
    struct leg *l = &r->legs[i];
    if (l->easy)
      curl_easy_cleanup(l->easy);
    curl_slist_free_all(l->req_headers);
    headers_reset(&l->resp);
  }
  stream_free(x); /* gives back the legs' buffers too */
  seg_free(x);
  free(r->legs);
  EVP_MD_CTX_free(r->sha);
  free(r->name);
  free(r->final_path);
  free(r->part_path);
  free(r->meta_path);
  free(r->etag);
  free(r->last_modified);
  free(r->end_message);
  free(r->cur_url);
  guard_prep_free(r->prep);
  guard_name_free(r->naming);
  free(r);
  x->run = NULL;
}

static void flush_then(struct xfer *x, enum after_flush what);

/* The item's final state and its event, once its files are as they stay. */
static void end_post(struct xfer *x)
{
  struct engine *e = x->eng;
  struct xrun *r = x->run;
  enum msg_state st = r->end_state;
  struct msg_event *ev = outbox_event(MSG_EV_FAILED, x->id);
  ev->http = (int32_t)x->http;
  switch (st) {
  case MSG_STATE_DONE:
    ev->kind = MSG_EV_DONE;
    ev->path = xstrdup(r->final_path);
    ev->bytes = x->bytes;
    ev->seconds = (double)r->run_used_ms / 1000.0;
    break;
  case MSG_STATE_SKIPPED:
    ev->kind = MSG_EV_SKIPPED;
    ev->reason = r->end_reason;
    ev->path = r->final_path ? xstrdup(r->final_path) : NULL;
    break;
  case MSG_STATE_CANCELLED:
    ev->kind = MSG_EV_CANCELLED;
    break;
  case MSG_STATE_TIMED_OUT:
    ev->kind = MSG_EV_TIMED_OUT;
    /* fallthrough */
  default:
    ev->reason = r->end_reason;
    ev->message = xstrdup(r->end_message ? r->end_message : msg_reason_text(ev->reason));
    break;
  }
  ev->total = x->total;
  xfer_move(x, PH_FINAL, (int)st, ev);
  run_free(x);
  e->item_ended(e);
  xfer_pump(e);
}

/* The last step of an ending, once no disk job runs: a worker closes the
 * file and leaves on disk what the policy keeps (AF_ENDED goes on), then
 * the item gets its final state. */
static void end_finish(struct xfer *x)
{
  char *text;
  enum stream_tidy tidy = resume_tidy_plan(x, x->run->end_state, &text);
  if (stream_end(x, tidy, text)) {
    x->run->after = AF_ENDED;
    return;
  }
  end_post(x);
}

/* A cancelled item's run, handed to the disk side: the user sees the item
 * cancelled at once (its legs are out of curl, its slot is free) while a
 * write that hangs finishes, then a worker closes the .part and removes
 * it.  The copy `x` stands in for the item in the stream's callbacks: the
 * item itself may run again (`r`: a retry), with a run of its own. */
struct handover {
  struct xfer x;               /* the copy the stream and its job point to */
  struct xfer *item;
  int tidying;                 /* the closing job went */
};

static void handover_written(struct xfer *gx)
{
  struct handover *h = (struct handover *)((char *)gx - offsetof(struct handover, x));
  struct engine *e = gx->eng;
  if (!h->tidying) {
    char *text;
    struct guard_prep *p = gx->run->prep;
    h->tidying = 1;
    stream_discard(gx);
    /* cancelled while preparing: a .part the checks did not pass (or that
       they never got to) is not ours to remove */
    if (p && (gx->run->prep_admit || p->rc < 0))
      gx->run->hands_off = 1;
    enum stream_tidy tidy = resume_tidy_plan(gx, MSG_STATE_CANCELLED, &text);
    if (stream_end(gx, tidy, text))
      return; /* back here when the .part is gone */
  }
  struct xfer *item = h->item;
  run_free(gx);
  free(h);
  e->draining--;
  int retry = item->draining == 2;
  item->draining = 0;
  if (retry && !e->stopping)
    xfer_retry_cmd(item); /* asked for while its old files were being tidied */
}

/* Cancel: the run goes to a handover (above), the item ends now. */
static void cancel_hand_over(struct xfer *x)
{
  struct engine *e = x->eng;
  struct handover *h = xcalloc(1, sizeof *h);
  h->x = *x;
  h->item = x;
  h->x.qnext = h->x.qprev = h->x.lnext = h->x.lprev = NULL;
  h->x.live = 0;
  h->x.owns_spec = 0;
  /* its legs left curl (and closed their sockets) on the way to PH_ENDING */
  stream_hand_over(x, &h->x, handover_written);
  x->run = NULL;
  x->draining = 1;
  e->draining++;
  struct msg_event *ev = outbox_event(MSG_EV_CANCELLED, x->id);
  ev->total = x->total;
  xfer_move(x, PH_FINAL, MSG_STATE_CANCELLED, ev);
  e->item_ended(e);
  if (!stream_busy(&h->x))
    handover_written(&h->x); /* nothing in flight: close and tidy now */
  xfer_pump(e);
}

/* Every way an item ends goes through here: the outcome is recorded
 * first, then the legs leave curl (closing their connections unless the
 * transfer completed), the slot is given back, buffered bytes are written
 * (unless they are to be thrown away), and end_finish closes. */
static void xfer_end(struct xfer *x, enum msg_state st, enum msg_reason why,
                     const char *message)
{
  if (x->phase == PH_FINAL || x->phase == PH_ENDING)
    return;
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
  clock_stop(x);
  xfer_move(x, PH_ENDING, KEEP_STATE, NULL);
  if (st == MSG_STATE_CANCELLED ||
      (st != MSG_STATE_DONE && st != MSG_STATE_SKIPPED && !msg_reason_keeps_part(why))) {
    stream_discard(x);
  }
  if (st == MSG_STATE_CANCELLED && (r->part_path || r->fd >= 0 || stream_busy(x))) {
    cancel_hand_over(x); /* answers now, whatever the disk does */
    return;
  }
  flush_then(x, AF_END);
}

/* An item ends for a reason: its state is the reason's policy. */
static void xfer_fail(struct xfer *x, enum msg_reason why, const char *message)
{
  xfer_end(x, msg_reason_final(why), why, message);
}

/* ---- disk flow ----------------------------------------------------- */

static void attempt_begin(struct xfer *x);
static void finalize(struct xfer *x);
static void prepare(struct xfer *x, int admit);
static void prepared(struct xfer *x);

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
    attempt_begin(x);
    break;
  case AF_ADMIT: /* admitted again while a job of its pause ran */
    prepare(x, 1);
    break;
  case AF_PREPARED: /* the disk side looked at the files */
    prepared(x);
    break;
  case AF_PAUSE: /* the sidecar went with the last write */
    break;
  case AF_FINALIZE:
    finalize(x);
    break;
  case AF_RENAMED: /* closed, renamed, sidecar removed: on the worker */
    xfer_end(x, MSG_STATE_DONE, MSG_REASON_NONE, NULL);
    break;
  case AF_END:
    end_finish(x);
    break;
  case AF_ENDED: /* closed and tidied on the worker */
    end_post(x);
    break;
  case AF_STOP: /* closed (and the sidecar stored) on the worker */
    stream_close(x);
    break;
  }
}

/* Write what is buffered, then do `what`. */
static void flush_then(struct xfer *x, enum after_flush what)
{
  struct xrun *r = x->run;
  r->after = what;
  if (stream_busy(x))
    return; /* xfer_write_done continues */
  if (stream_has_pending(x)) {
    stream_flush(x);
    return;
  }
  stream_discard(x);
  run_after(x);
}

/* A disk job's outcome is in (stream.c's callback). */
static void xfer_write_done(struct xfer *x)
{
  struct xrun *r = x->run;
  if (r->st.job_hash_file) {
    r->st.job_hash_file = 0;
    r->hashed = 1;
  }
  if (r->st.job_named) {
    r->st.job_named = 0;
    if (x->phase == PH_ATTACHED && r->after == AF_NONE && !r->st.job_err) {
      attempt_named(x); /* the leg's held headers go on (or another look) */
      return;
    }
  }
  if (r->st.job_err && x->phase != PH_ENDING) {
    char msg[256];
    enum msg_reason why = MSG_REASON_DISK;
    if (r->st.job_refused) {
      /* another siphon's .part, or a FIFO/device put in its place: hands off */
      r->hands_off = 1;
      why = r->st.job_err == EBUSY ? MSG_REASON_BUSY : MSG_REASON_DISK;
      snprintf(msg, sizeof msg, "%s %s", r->part_path,
               why == MSG_REASON_BUSY ? "is being written by another siphon"
                                      : "is not a regular file: refusing it");
    } else {
      snprintf(msg, sizeof msg, "%s: %s",
               r->st.job_err_path ? r->st.job_err_path : r->part_path,
               strerror(r->st.job_err));
    }
    r->st.job_err = 0;
    r->st.job_err_path = NULL;
    r->st.job_refused = 0;
    stream_discard(x);
    xfer_fail(x, why, msg);
    return;
  }
  if (r->after != AF_NONE) {
    if (stream_has_pending(x))
      stream_flush(x);
    else
      run_after(x);
    return;
  }
  stream_tick(x); /* the network side is idle or paused: what is queued goes */
  for (int i = 0; i < r->nlegs; i++) {
    struct leg *l = &r->legs[i];
    if (l->write_paused && l->easy) {
      l->write_paused = 0;
      l->last_rx = xfer_now(x);
      curl_easy_pause(l->easy, CURLPAUSE_CONT); /* may call the write callback at once */
    }
  }
}

/* ---- finishing a complete download ---------------------------------- */

static void finalize(struct xfer *x)
{
  struct xrun *r = x->run;
  const char *want = item_sha256(x);
  if (r->seg && (r->missing.n > 0 || x->total < 0)) {
    /* never rename a file with a range that was not received */
    xfer_fail(x, MSG_REASON_INTERNAL, "a segmented file is missing ranges at its end");
    return;
  }
  if (r->seg)
    x->bytes = x->total;
  if (want) {
    unsigned char md[32];
    if (r->sha_from_zero) {
      unsigned int len = 0;
      EVP_DigestFinal_ex(r->sha, md, &len);
    } else if (!r->hashed) {
      r->after = AF_FINALIZE;
      stream_submit_hash(x); /* bytes from an earlier run: hash the file once */
      return;
    } else {
      memcpy(md, r->st.job_digest, sizeof md);
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
        seg_reset(x);
        struct msg_event *ev = outbox_event(MSG_EV_RETRY, x->id);
        ev->attempt = ++x->attempt;
        ev->reason = MSG_REASON_CHECKSUM;
        ev->message = xstrdup(msg);
        r->retry_at = xfer_now(x);
        xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, ev);
        return;
      }
      xfer_fail(x, MSG_REASON_CHECKSUM, msg);
      return;
    }
  }
  stream_finish_later(x, r->final_path);
  flush_then(x, AF_RENAMED);
}

/* ---- attempts ------------------------------------------------------ */


/* The longest Retry-After any leg's response asked for; -1 none. */
static int64_t retry_after_ms(const struct xfer *x)
{
  int64_t ms = -1;
  for (int i = 0; x->run && i < x->run->nlegs; i++)
    if (x->run->legs[i].resp.retry_after_ms > ms)
      ms = x->run->legs[i].resp.retry_after_ms;
  return ms;
}

/* This attempt failed: retry after a backoff if the reason is transient
 * and retries are left, else end the item. */
static void attempt_failed(struct xfer *x, enum msg_reason why, long http, const char *message)
{
  struct xrun *r = x->run;
  if (msg_reason_transient(why, (int)http) && x->attempt <= item_spec(x)->settings->retries) {
    int64_t ra = retry_after_ms(x);
    int64_t delay = ra >= 0 ? ra : sched_backoff_ms(x->attempt);
    struct msg_event *ev = outbox_event(MSG_EV_RETRY, x->id);
    ev->attempt = ++x->attempt;
    ev->delay_ms = delay;
    ev->reason = why;
    ev->http = (int32_t)http;
    ev->message = xstrdup(message);
    r->retry_at = xfer_now(x) + (uint64_t)delay;
    xfer_move(x, PH_RETRY_WAIT, MSG_STATE_RUNNING, ev);
    flush_then(x, AF_FLUSH);
    return;
  }
  xfer_fail(x, why, message);
}

/* The .part already holds the whole file (its sidecar's total, or a
 * 416's): finish it without fetching anything again. */
static void finish_whole(struct xfer *x)
{
  struct xrun *r = x->run;
  x->total = x->bytes;
  r->sha_from_zero = 0;
  r->hashed = 0;
  r->resumed_ever = 1;
  r->truncate = 0;
  stream_open(x); /* the worker opens (and locks) it, then closes and renames it */
  flush_then(x, AF_FINALIZE);
}

/* Begin an attempt: decide where it resumes from and hand the legs to
 * curl. */
static void attempt_begin(struct xfer *x)
{
  struct xrun *r = x->run;
  if (stream_busy(x)) {
    r->after = AF_RETRY; /* write_done starts us */
    return;
  }
  if (!r->st.opened && !(r->prep && r->prep->probed)) {
    prepare(x, 0); /* what NAME.part is: the disk side looks, then back here */
    return;
  }
  char msg[512];
  int whole = resume_decide(x, r->prep, msg, sizeof msg);
  /* no NAME.part when looked at: its open may create it with O_EXCL */
  r->part_absent = !r->st.opened && r->prep && r->prep->probed && r->prep->part_size < 0;
  guard_prep_free(r->prep); /* the next attempt looks again */
  r->prep = NULL;
  if (whole < 0) {
    r->hands_off = 1; /* another siphon's, or refused: leave it as it is */
    xfer_fail(x, whole == -EBUSY ? MSG_REASON_BUSY : MSG_REASON_DISK, msg);
    return;
  }
  free(r->cur_url); /* every attempt starts at the user's URL */
  r->cur_url = NULL;
  r->redirects = 0;
  r->foreign = 0;
  if (r->seg && !whole) {
    /* the missing ranges of a segmented file, each with If-Range */
    int rc = seg_begin(x);
    if (rc == 1) {
      flush_then(x, AF_FINALIZE); /* nothing is missing */
      return;
    }
    if (rc < 0) {
      xfer_fail(x, MSG_REASON_INTERNAL, "curl_easy_init failed");
      return;
    }
    struct msg_event *ev = outbox_event(MSG_EV_START, x->id);
    ev->attempt = x->attempt;
    xfer_move(x, PH_ATTACHED, MSG_STATE_RUNNING, ev);
    if (glue_attach(x->eng, r->legs[0].easy) != 0) {
      xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, NULL);
      xfer_fail(x, MSG_REASON_INTERNAL, "curl_multi_add_handle failed");
    }
    return;
  }
  stream_rewind(x, x->bytes);
  if (whole) {
    finish_whole(x);
    return;
  }
  if (x->bytes == 0 && item_sha256(x))
    r->sha_from_zero = 1;
  else if (x->bytes > 0 && !r->sha_from_zero)
    r->hashed = 0;
  struct leg *l = &r->legs[0];
  if (attempt_prepare(l, x->bytes, -1) != 0) {
    xfer_fail(x, MSG_REASON_INTERNAL, "curl_easy_init failed");
    return;
  }
  struct msg_event *ev = outbox_event(MSG_EV_START, x->id);
  ev->attempt = x->attempt;
  xfer_move(x, PH_ATTACHED, MSG_STATE_RUNNING, ev);
  if (glue_attach(x->eng, l->easy) != 0) {
    xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, NULL);
    xfer_fail(x, MSG_REASON_INTERNAL, "curl_multi_add_handle failed");
  }
}

/* A redirect: the same leg asks the target (at most 10 hops, never to
 * another scheme); after one to another scheme, host or port the user's
 * headers stay behind.  Not a new attempt. */
static void follow_redirect(struct xfer *x, struct leg *l, char *url)
{
  struct xrun *r = x->run;
  const char *from = item_spec(x)->url;
  char msg[160];
  if (++r->redirects > 10) {
    free(url);
    xfer_fail(x, MSG_REASON_TOO_MANY_REDIRECTS, "more than 10 redirects");
    return;
  }
  if (strncasecmp(url, from, strcspn(from, ":") + 1) != 0) {
    snprintf(msg, sizeof msg, "redirected to another scheme: %.100s", url);
    free(url);
    xfer_fail(x, MSG_REASON_BAD_REDIRECT, msg);
    return;
  }
  r->foreign = r->foreign || attempt_other_origin(from, url);
  free(r->cur_url);
  r->cur_url = url;
  if (attempt_prepare(l, l->start, l->end) != 0) {
    xfer_fail(x, MSG_REASON_INTERNAL, "curl_easy_init failed");
    return;
  }
  xfer_move(x, PH_ATTACHED, MSG_STATE_RUNNING, NULL);
  if (glue_attach(x->eng, l->easy) != 0) {
    xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, NULL);
    xfer_fail(x, MSG_REASON_INTERNAL, "curl_multi_add_handle failed");
  }
}

/* A 206 that does not continue the file, or a 416 that says the .part is
 * the whole file: what the attempt's response means for the item. */
static void restart_from_zero(struct xfer *x, struct leg *l)
{
  struct xrun *r = x->run;
  char msg[200];
  snprintf(msg, sizeof msg,
           "asked for bytes %lld- of %lld, the server answered from %lld of %lld: "
           "starting over from zero",
           (long long)l->start, (long long)x->total, (long long)l->resp.range_start,
           (long long)l->resp.range_total);
  r->truncate = 1;
  stream_discard(x);
  /* SPEC: a restart counts as an attempt (backoff and retries apply) */
  attempt_failed(x, MSG_REASON_NETWORK, 0, msg);
}

/* Before an attempt whose file is not open yet, and at admission before
 * anything (the name is free, no symlinked directory below the run's
 * directory, the directories exist and may be written): a disk worker
 * looks (guard_prepare), so a hung disk holds up only this item, and
 * prepared() goes on.  A list's items mostly share one directory: it is
 * checked and made once while it passes. */
static void prepare(struct xfer *x, int admit)
{
  struct engine *e = x->eng;
  struct xrun *r = x->run;
  if (stream_busy(x)) {
    r->after = admit ? AF_ADMIT : AF_RETRY; /* a job of its pause is still out */
    return;
  }
  guard_prep_free(r->prep);
  struct guard_prep *p = r->prep = xcalloc(1, sizeof *p);
  r->prep_admit = admit;
  if (admit) {
    if (!item_spec(x)->settings->overwrite && !r->st.opened)
      p->exists_path = xstrdup(r->final_path);
    if (!(item_spec(x)->settings->dir == e->dir_checked && !strchr(r->name, '/'))) {
      p->nolink_path = xstrdup(r->final_path);
      p->nolink_from = item_spec(x)->settings->dir_base;
      p->writable = 1;
      p->writable_dir = item_spec(x)->settings->dir ? xstrdup(item_spec(x)->settings->dir) : NULL;
    }
    const char *slash = strrchr(r->final_path, '/');
    size_t dirlen = slash ? (size_t)(slash - r->final_path) : 0;
    if (slash && !(e->last_dir && strlen(e->last_dir) == dirlen &&
                   memcmp(e->last_dir, r->final_path, dirlen) == 0))
      p->mkdir_path = xstrdup(r->final_path);
  }
  if (!r->st.opened) {
    p->probe_path = xstrdup(r->part_path);
    if (!r->truncate)
      p->meta_path = xstrdup(r->meta_path);
  }
  xfer_move(x, PH_PREPARING, KEEP_STATE, NULL);
  if (!p->exists_path && !p->nolink_path && !p->mkdir_path && !p->probe_path) {
    prepared(x); /* nothing to look at (an open file in a checked directory) */
    return;
  }
  r->after = AF_PREPARED;
  stream_prepare(x, p);
}

/* What the disk side found: skip, fail with `disk`, or go on to the
 * attempt (which reads the probe of NAME.part). */
static void prepared(struct xfer *x)
{
  struct engine *e = x->eng;
  struct xrun *r = x->run;
  struct guard_prep *p = r->prep;
  if (r->prep_admit) {
    r->prep_admit = 0;
    if (p->exists) {
      xfer_end(x, MSG_STATE_SKIPPED, MSG_REASON_EXISTS, NULL);
      return;
    }
    if (p->made) {
      const char *slash = strrchr(r->final_path, '/');
      free(e->last_dir);
      e->last_dir = xstrndup(r->final_path, (size_t)(slash - r->final_path));
    }
    if (p->failed == GUARD_NOLINK || p->failed == GUARD_WRITABLE)
      e->dir_checked = NULL;
    if (p->failed == GUARD_NOLINK || p->failed == GUARD_MKDIR || p->failed == GUARD_WRITABLE) {
      xfer_fail(x, MSG_REASON_DISK, p->msg);
      return;
    }
    if (p->writable && !strchr(r->name, '/'))
      e->dir_checked = item_spec(x)->settings->dir;
  }
  xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, NULL);
  attempt_begin(x);
}

/* The scheduler gave this item a slot. */
static void xfer_admit(struct xfer *x)
{
  struct xrun *r = x->run ? x->run : run_new(x);
  xfer_move(x, PH_PREPARING, KEEP_STATE, NULL); /* holds the slot until attached */
  r->run_since = xfer_now(x);
  if (x->attempt == 0)
    x->attempt = 1;
  prepare(x, 1);
}

/* Admit what the scheduler lets start.  An item that ends at once
 * (skipped, no directory) gives its slot back and pumps again: the
 * outer loop goes on instead. */
void xfer_pump(struct engine *e)
{
  if (e->pumping)
    return;
  e->pumping = 1;
  struct xfer *x;
  for (;;) {
    x = sched_next(e);
    if (!x && seg_yield(e))
      x = sched_next(e); /* an extra leg made room for a queued item */
    if (!x)
      break;
    xfer_admit(x);
  }
  e->pumping = 0;
}

/* curl finished a leg's attempt (successfully or not). */
void xfer_leg_done(struct leg *l, CURLcode rc)
{
  struct xfer *x = l->x;
  struct xrun *r = x->run;
  if (r->seg) {
    seg_leg_done(l, rc); /* one range of a segmented file */
    return;
  }
  char msg[CURL_ERROR_SIZE + 64];
  snprintf(msg, sizeof msg, "%s", l->errbuf[0] ? l->errbuf : curl_easy_strerror(rc));
  long http = l->resp.status;
  char *redirect = NULL;
  if (rc == CURLE_OK && l->abort == AB_NONE && attempt_redirect_url(l, &redirect) == 0) {
    xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, NULL);
    follow_redirect(x, l, redirect);
    return;
  }
  xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, NULL); /* between attempts, still holding the slot */
  switch (l->abort) {
  case AB_RESTART:
    restart_from_zero(x, l);
    return;
  case AB_NO_NAME:
    xfer_fail(x, MSG_REASON_BAD_NAME, "no free name for the file the server named");
    return;
  case AB_RESUME_NAMED: /* an earlier run's .part of the server's name: resume it */
    r->truncate = 0;
    x->bytes = 0;
    attempt_begin(x);
    return;
  case AB_ENOUGH:
  case AB_REFUSED: /* set only for the legs of a segmented item (seg.c) */
  case AB_NONE:
    break;
  }
  if (rc == CURLE_OK && http == 416 && l->start > 0 && l->resp.range_total == l->start) {
    x->bytes = l->start; /* the .part is the whole file */
    finish_whole(x);
    return;
  }
  if (rc != CURLE_OK) {
    attempt_failed(x, attempt_reason(rc), 0, msg);
  } else if (!l->body_ok) {
    snprintf(msg, sizeof msg, "the server answered HTTP %ld", http);
    attempt_failed(x, MSG_REASON_HTTP, http, msg);
  } else if (x->total >= 0 && x->bytes != x->total) {
    snprintf(msg, sizeof msg, "the body ended after %lld of %lld bytes", (long long)x->bytes,
             (long long)x->total);
    attempt_failed(x, MSG_REASON_NETWORK, 0, msg);
  } else if (item_sha256(x)) {
    x->total = x->bytes;
    flush_then(x, AF_FINALIZE); /* the hash is checked once every byte is written */
  } else {
    x->total = x->bytes;
    stream_finish_later(x, r->final_path); /* one job: last write, close, rename */
    flush_then(x, AF_RENAMED);
  }
}

/* ---- the tick: limits, retry waits, speed --------------------------- */

void xfer_tick(struct xfer *x, uint64_t now)
{
  struct xrun *r = x->run;
  if (!r)
    return;
  if (holds_slot(x->phase)) {
    int64_t limit = item_spec(x)->settings->timeout_ms;
    if (limit > 0 && (int64_t)clock_used(x) >= limit) {
      char msg[96];
      snprintf(msg, sizeof msg, "the whole-item timeout of %.3gs passed", (double)limit / 1000);
      xfer_fail(x, MSG_REASON_TOTAL, msg);
      return;
    }
  }
  if (x->phase == PH_ATTACHED && r->seg) {
    seg_tick(x, now); /* stalls per leg, retries of ranges, extra legs */
    if (x->phase != PH_ATTACHED || !x->run)
      return;
    stream_tick(x); /* what waits for a batch goes, with the sidecar when due */
  } else if (x->phase == PH_ATTACHED) {
    int64_t stall = item_spec(x)->settings->stall_timeout_ms;
    for (int i = 0; stall > 0 && i < r->nlegs; i++) {
      struct leg *l = &r->legs[i];
      if (l->easy && l->connected && !l->write_paused && !l->limit_paused &&
          (int64_t)(now - l->last_rx) >= stall) {
        char msg[96];
        snprintf(msg, sizeof msg, "no data for %.3gs", (double)stall / 1000);
        xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, NULL);
        attempt_failed(x, MSG_REASON_STALL, 0, msg);
        return;
      }
    }
    stream_tick(x);
  } else if (x->phase == PH_RETRY_WAIT && !stream_busy(x) && r->after == AF_NONE &&
             now >= r->retry_at) {
    attempt_begin(x);
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

int xfer_connected(const struct xfer *x)
{
  if (x->phase != PH_ATTACHED || !x->run)
    return 0;
  for (int i = 0; i < x->run->nlegs; i++)
    if (x->run->legs[i].connected)
      return 1;
  return 0;
}

/* progress.connections: the legs receiving now (attached and connected). */
int xfer_connections(const struct xfer *x)
{
  int n = 0;
  if (x->phase != PH_ATTACHED || !x->run)
    return 0;
  for (int i = 0; i < x->run->nlegs; i++)
    if (x->run->legs[i].easy && x->run->legs[i].connected)
      n++;
  return n;
}

/* ---- user commands ------------------------------------------------- */

void xfer_pause(struct xfer *x)
{
  struct engine *e = x->eng;
  int queued = x->phase == PH_QUEUED;
  if (!queued && !holds_slot(x->phase))
    return;
  struct msg_event *ev = outbox_event(MSG_EV_PAUSED, x->id);
  if (x->run && x->bytes > 0 && !(x->run->etag || x->run->last_modified) &&
      !x->run->accept_ranges)
    ev->message = xstrdup("the server cannot resume this file: it will restart from zero");
  if (queued) {
    sched_dequeue(x);
    xfer_move(x, PH_PAUSED, MSG_STATE_PAUSED, ev);
  } else {
    /* the legs leave curl, which closes their connections: a paused item
       holds no socket */
    netopt_release(x);
    clock_stop(x);
    xfer_move(x, PH_PAUSED, MSG_STATE_PAUSED, ev);
    if (x->bytes > 0 && (x->run->etag || x->run->last_modified))
      stream_later(x, 0, 1); /* the file stays open; the sidecar is stored */
    flush_then(x, AF_PAUSE);
  }
  xfer_pump(e);
}

void xfer_resume(struct xfer *x)
{
  if (x->phase != PH_PAUSED)
    return;
  outbox_post(x->eng, outbox_event(MSG_EV_RESUMED, x->id));
  if (x->run && x->bytes > 0 && !(x->run->etag || x->run->last_modified) &&
      !x->run->accept_ranges)
    x->run->truncate = 1;
  sched_enqueue(x->eng, x, 1); /* a resumed item goes first */
  xfer_pump(x->eng);
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
  if (x->draining) {
    x->draining = 2; /* its cancelled run's files first (handover_written) */
    return;
  }
  x->attempt = 0;
  x->bytes = 0;
  x->total = -1;
  x->http = 0;
  struct msg_event *ev = outbox_event(MSG_EV_QUEUED, x->id);
  ev->name = xstrdup(item_spec(x)->name);
  ev->url = secret_url(item_spec(x)->url);
  ev->max_speed = limit_rate(x->eng, x);
  outbox_post(x->eng, ev);
  x->eng->idle_posted = 0;
  sched_enqueue(x->eng, x, 0);
  xfer_pump(x->eng);
}

/* After shutdown (engine_free): whatever the item still holds (the item
 * itself lives in the engine's slabs). */
void xfer_free(struct xfer *x)
{
  run_free(x);
  if (x->owns_spec) {
    struct cfg_item *spec = item_spec(x);
    cfg_item_free(spec);
    free(spec);
  }
}

/* Shutdown: the legs leave curl, what is buffered is written, the file is
 * closed; the .part and its sidecar stay for the next run.  No event and
 * no new state. */
void xfer_stop(struct xfer *x)
{
  if (x->phase == PH_QUEUED) {
    sched_dequeue(x);
    return;
  }
  if (!x->run || x->phase == PH_FINAL)
    return;
  clock_stop(x);
  xfer_move(x, PH_PAUSED, KEEP_STATE, NULL);
  stream_later(x, 1, x->bytes > 0 && (x->run->etag || x->run->last_modified));
  flush_then(x, AF_STOP);
}

/* ---- seg.c's ways back into the state machine ----------------------- */

/* Every range of a segmented file is in: write what is buffered, then
 * check and rename it. */
void xfer_complete(struct xfer *x)
{
  xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, NULL);
  flush_then(x, AF_FINALIZE);
}

/* A leg's failure that ends the item (not transient, or its range used up
 * the item's retries). */
void xfer_leg_failed_item(struct xfer *x, enum msg_reason why, const char *message)
{
  xfer_fail(x, why, message);
}

/* The file changed under a segmented download (another validator): every
 * leg stops and the file starts over from zero, over one connection until
 * the first answer says it may split again. */
void xfer_restart(struct xfer *x)
{
  struct xrun *r = x->run;
  xfer_move(x, PH_RETRY_WAIT, KEEP_STATE, NULL);
  seg_reset(x);
  r->truncate = 1;
  stream_discard(x);
  x->bytes = 0;
  attempt_begin(x);
}
