/* seg.c - segmented downloads: one file over several legs at once, each
 * fetching its own byte range (Range + If-Range) into the same NAME.part
 * through the item's write-behind (each leg fills its own buffer, written
 * at the leg's offsets: stream_write_at).  It owns the item's two range
 * sets (what is missing on disk, for the sidecar; what no leg is
 * fetching), the split of the first response, extra legs within the
 * host's and the pool's slots (never ahead of a queued item), work
 * stealing and the retries of one range.  Engine thread only; the item's
 * phases stay xfer.c's (xfer_move); this file reaches them only through
 * the callbacks engine.c hands down (item_failed, item_complete, ...).
 *
 * A leg is LEG_RUN (its handle in curl), LEG_WAIT (its range waits for a
 * retry) or LEG_IDLE.  Leg 0 uses the item's own slot; every other running
 * leg is "extra" and counts against per_host and max_connections. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine-int.h"
#include "siphon/dlog.h"
#include "siphon/xalloc.h"

static uint64_t now_ms(const struct xfer *x)
{
  return uv_now(&x->eng->loop);
}

void seg_setup(struct xfer *x)
{
  struct xrun *r = x->run;
  ranges_init(&r->missing);
  ranges_init(&r->todo);
  for (int i = 0; i < r->nlegs; i++)
    r->legs[i].lstate = LEG_IDLE;
}

void seg_free(struct xfer *x)
{
  struct xrun *r = x->run;
  ranges_free(&r->missing);
  ranges_free(&r->todo);
}

/* Legs with a range (running or waiting for a retry). */
static int seg_active(const struct xfer *x)
{
  int n = 0;
  for (int i = 0; i < x->run->nlegs; i++)
    n += x->run->legs[i].lstate != LEG_IDLE;
  return n;
}

/* Some host has an item waiting while a -j slot is free: extra legs must
 * not take the host or pool slot it could start with. */
static int queued_could_start(const struct engine *e)
{
  if (e->running >= e->run.concurrency)
    return 0;
  for (size_t i = 0; i < e->nhosts; i++)
    if (e->hosts[i]->qhead)
      return 1;
  return 0;
}

/* May this item open one more (extra) leg now? */
static int may_open(const struct xfer *x)
{
  const struct engine *e = x->eng;
  const struct host *h = x->host;
  if (x->phase != PH_ATTACHED || x->run->seg_refused || e->stopping)
    return 0;
  if (h->running + h->extra >= item_spec(x)->settings->per_host)
    return 0;
  if (e->running + e->extra >= e->run.max_connections)
    return 0;
  return !queued_could_start(e);
}

/* The leg stops holding an extra slot; when the item's own leg goes idle,
 * a running extra leg takes over the item's slot instead. */
static void leg_release_slot(struct leg *l)
{
  struct xfer *x = l->x;
  struct xrun *r = x->run;
  struct leg *from = NULL;
  if (l->extra) {
    from = l;
  } else {
    for (int i = 0; i < r->nlegs && !from; i++)
      if (r->legs[i].extra && r->legs[i].lstate != LEG_IDLE)
        from = &r->legs[i];
  }
  if (!from)
    return;
  from->extra = 0;
  x->host->extra--;
  x->eng->extra--;
}

/* The leg stops: out of curl, what it had left goes back to the item's
 * work, its slot is given back.  The tail of its buffer is written. */
static void leg_give_back(struct leg *l)
{
  struct xrun *r = l->x->run;
  attempt_detach(l);
  if (l->lstate != LEG_IDLE && l->pos < l->stop)
    ranges_add(&r->todo, l->pos, l->stop);
  leg_release_slot(l);
  l->lstate = LEG_IDLE;
  l->stop = l->pos;
  stream_leg_tail(l);
}

/* Work for a leg: the next piece nobody fetches, else half of the largest
 * range another leg still has (work stealing), when that half is at least
 * min_segment.  0 with *out set, or -1. */
static int find_work(struct xfer *x, struct ranges_span *out)
{
  struct xrun *r = x->run;
  if (ranges_take(&r->todo, r->piece, out) == 0)
    return 0;
  struct ranges_span v[32];
  int idx[32], n = 0;
  for (int i = 0; i < r->nlegs && n < 32; i++) {
    struct leg *l = &r->legs[i];
    if (l->lstate == LEG_IDLE)
      continue;
    v[n].start = l->pos;
    v[n].end = l->stop;
    idx[n++] = i;
  }
  int k = ranges_steal(v, (size_t)n, (int64_t)item_spec(x)->settings->min_segment, out);
  if (k < 0)
    return -1;
  r->legs[idx[k]].stop = v[k].end; /* the victim stops where the thief starts */
  return 0;
}

/* A request for bytes [start, stop) on this leg, into curl. */
static int leg_start(struct leg *l, int64_t start, int64_t stop)
{
  struct xfer *x = l->x;
  struct xrun *r = x->run;
  l->pos = start;
  l->stop = stop;
  l->lstate = LEG_RUN;
  if (attempt_prepare(l, start, stop - 1) != 0 || glue_attach(x->eng, l->easy) != 0) {
    attempt_detach(l);
    ranges_add(&r->todo, start, stop);
    leg_release_slot(l);
    l->lstate = LEG_IDLE;
    l->stop = l->pos;
    return -1;
  }
  if (dlog_enabled())
    dlog("#%u leg %d: bytes %lld-%lld%s", x->id, (int)(l - r->legs), (long long)start,
         (long long)stop - 1, l->extra ? " (extra)" : "");
  return 0;
}

/* After a leg went idle: the item goes on with the legs it has, starts its
 * own leg again when work is left and none runs, or is complete. */
static void after_leg(struct xfer *x)
{
  struct xrun *r = x->run;
  if (x->phase != PH_ATTACHED)
    return;
  if (seg_active(x) > 0)
    return;
  struct ranges_span s;
  if (ranges_take(&r->todo, r->piece, &s) == 0) {
    struct leg *l = &r->legs[0];
    if (leg_start(l, s.start, s.end) != 0)
      x->eng->item_failed(x, MSG_REASON_INTERNAL, "curl could not start a range");
    return;
  }
  x->eng->item_complete(x);
}

/* The leg has all of its range: more work if there is (an extra leg only
 * while no queued item could use its slot), else idle. */
static void leg_next(struct leg *l)
{
  struct xfer *x = l->x;
  struct engine *e = x->eng;
  l->tries = 0;
  l->lstate = LEG_IDLE;
  l->stop = l->pos;
  struct ranges_span s;
  if (x->phase == PH_ATTACHED && !(l->extra && queued_could_start(e)) &&
      find_work(x, &s) == 0) {
    if (leg_start(l, s.start, s.end) == 0)
      return;
    stream_leg_tail(l); /* leg_start gave its range and slot back */
  } else {
    leg_give_back(l);
  }
  e->slots_freed(e); /* a slot may be free for a queued item */
  after_leg(x);
}

/* A range failed: retried by the same leg after a backoff (or the server's
 * Retry-After) while the item's retries allow, else the item fails. */
static void leg_failed(struct leg *l, enum msg_reason why, long http, const char *message)
{
  struct xfer *x = l->x;
  attempt_detach(l);
  if (!msg_reason_transient(why, (int)http) || l->tries >= item_spec(x)->settings->retries) {
    x->eng->item_failed(x, why, message);
    return;
  }
  l->tries++;
  int64_t ra = l->resp.retry_after_ms;
  int64_t delay = ra >= 0 ? ra : sched_backoff_ms(l->tries);
  l->lstate = LEG_WAIT;
  l->retry_at = now_ms(x) + (uint64_t)delay;
  struct msg_event *ev = outbox_event(MSG_EV_RETRY, x->id);
  ev->attempt = ++x->attempt;
  ev->delay_ms = delay;
  ev->reason = why;
  ev->http = (int32_t)http;
  ev->message = xasprintf("bytes %lld-%lld: %s", (long long)l->pos, (long long)l->stop - 1,
                          message);
  outbox_post(x->eng, ev);
}

/* ---- the first response, and each leg's ------------------------------ */

/* A 2xx for the item's first leg is in (the file to be opened, the
 * validator stored): split the file when SPEC allows it.  Known size,
 * ranges accepted, a strong ETag or (without any ETag) a Last-Modified
 * date, and at least 2 x min_segment left. */
void seg_consider(struct xfer *x, struct leg *l, int64_t start)
{
  struct xrun *r = x->run;
  int64_t minseg = (int64_t)item_spec(x)->settings->min_segment;
  if (r->seg || r->nlegs < 2 || l != &r->legs[0] || x->total <= 0 || l->end >= 0)
    return;
  /* no second connection can ever open (--per-host 1 or --max-connections
     1): the file comes whole over its one request, its .part a plain
     prefix, rather than range after range over the same connection */
  if (item_spec(x)->settings->per_host < 2 || x->eng->run.max_connections < 2)
    return;
  int ranges_ok = l->resp.status == 206 || l->resp.accept_ranges == 1;
  int validator = r->etag ? strncmp(r->etag, "W/", 2) != 0 : r->last_modified != NULL;
  if (!ranges_ok || !validator || x->total - start < 2 * minseg)
    return;
  ranges_reset(&r->missing, x->total);
  ranges_remove(&r->missing, 0, start);
  ranges_clear(&r->todo);
  ranges_add(&r->todo, start, x->total);
  r->piece = ranges_piece(x->total - start, r->nlegs, minseg);
  struct ranges_span s;
  ranges_take(&r->todo, r->piece, &s);
  r->seg = 1;
  r->seg_refused = 0;
  r->sha_from_zero = 0; /* sha256 over the whole file once complete */
  r->hashed = 0;
  l->pos = start;
  l->stop = s.end;
  l->lstate = LEG_RUN;
  l->extra = 0;
  l->tries = 0;
  /* From here on the .part is no prefix: the next job stores the sidecar
     listing the missing ranges before it writes anything, then
     preallocates the file (a full disk shows now, not at 90 %) */
  stream_split(x);
  r->meta_at = now_ms(x);
  r->meta_dirty = 0;
  x->eng->seg_kick = 1; /* the extra legs start once curl's callback returns */
  if (dlog_enabled())
    dlog("#%u split: %lld bytes from %lld, pieces of %lld", x->id, (long long)x->total,
         (long long)start, (long long)r->piece);
}

/* Did this 200 come with another validator than the file's? */
static int validator_changed(const struct xrun *r, const struct headers *h)
{
  if (r->etag)
    return !h->etag || strcmp(h->etag, r->etag) != 0;
  if (r->last_modified)
    return !h->last_modified || strcmp(h->last_modified, r->last_modified) != 0;
  return 1;
}

/* A 2xx for a leg of a segmented file: only a 206 with exactly the range
 * asked for writes; a 200 with another validator restarts the file; any
 * other answer closes the leg.  0, or -1 with l->abort set. */
int seg_on_headers(struct leg *l)
{
  struct xfer *x = l->x;
  struct xrun *r = x->run;
  const struct headers *h = &l->resp;
  if (h->status == 206 && h->range_start == l->start && h->range_end == l->end &&
      h->range_total == x->total) {
    stream_open(x); /* on the worker, before the first write */
    l->body_ok = 1;
    return 0;
  }
  l->abort = h->status == 200 && validator_changed(r, h) ? AB_RESTART : AB_REFUSED;
  if (dlog_enabled())
    dlog("#%u leg %d: HTTP %ld for bytes %lld-%lld: %s", x->id, (int)(l - r->legs), h->status,
         (long long)l->start, (long long)l->end,
         l->abort == AB_RESTART ? "the file changed" : "not the range asked for");
  return -1;
}

/* Body bytes of a leg: into its own buffer at its offset, never past its
 * range (which stealing may have shortened: then the leg stops here). */
size_t seg_write(struct leg *l, const char *ptr, size_t len)
{
  struct xfer *x = l->x;
  int64_t room = l->stop - l->pos;
  if (room <= 0) {
    l->abort = AB_ENOUGH;
    return 0;
  }
  size_t n = (int64_t)len > room ? (size_t)room : len;
  size_t got = stream_write_at(l, ptr, n);
  if (got != n)
    return got; /* a pause (no buffer free), or 0 */
  l->pos += (int64_t)n;
  l->got += (int64_t)n;
  x->bytes += (int64_t)n;
  x->eng->bytes_total += (int64_t)n;
  limit_took(l, n);
  l->last_rx = now_ms(x);
  if (n < len || (l->pos >= l->stop && (l->end < 0 || l->end + 1 > l->stop))) {
    /* the rest belongs to another leg: stop here, not at the next bytes */
    l->abort = AB_ENOUGH;
    return 0;
  }
  return len;
}

/* curl finished a leg's request. */
void seg_leg_done(struct leg *l, CURLcode rc)
{
  struct xfer *x = l->x;
  struct xrun *r = x->run;
  char msg[CURL_ERROR_SIZE + 96];
  snprintf(msg, sizeof msg, "%s", l->errbuf[0] ? l->errbuf : curl_easy_strerror(rc));
  long http = l->resp.status;
  enum abort_why ab = l->abort;
  attempt_detach(l);
  l->abort = AB_NONE;
  switch (ab) {
  case AB_RESTART:
    x->eng->item_restart(x);
    return;
  case AB_REFUSED:
    r->seg_refused = 1; /* the item goes on with the legs it has */
    if (seg_active(x) > 1) {
      int had_extra = l->extra;
      leg_give_back(l);
      if (had_extra)
        x->eng->slots_freed(x->eng);
      return;
    }
    leg_failed(l, MSG_REASON_NETWORK, 0, "the server did not answer with the range asked for");
    return;
  case AB_ENOUGH:
    leg_next(l);
    return;
  case AB_NO_NAME: /* naming is the first answer's (before any split) */
  case AB_RESUME_NAMED:
  case AB_NONE:
    break;
  }
  if (rc == CURLE_OK && l->body_ok && l->pos >= l->stop) {
    leg_next(l);
  } else if (rc != CURLE_OK) {
    leg_failed(l, attempt_reason(rc), 0, msg);
  } else if (!l->body_ok) {
    snprintf(msg, sizeof msg, "the server answered HTTP %ld", http);
    leg_failed(l, MSG_REASON_HTTP, http, msg);
  } else {
    snprintf(msg, sizeof msg, "the range ended at %lld of %lld", (long long)l->pos,
             (long long)l->stop);
    leg_failed(l, MSG_REASON_NETWORK, 0, msg);
  }
}

/* ---- the item's phases ------------------------------------------------ */

/* An attempt of a segmented file (a resume, a later run): what is missing
 * becomes the work, the item's own leg takes the first piece.  0 (legs[0]
 * prepared, the caller attaches it), 1 nothing missing, -1 no handle. */
int seg_begin(struct xfer *x)
{
  struct xrun *r = x->run;
  ranges_clear(&r->todo);
  for (size_t i = 0; i < r->missing.n; i++)
    ranges_add(&r->todo, r->missing.v[i].start, r->missing.v[i].end);
  if (r->todo.n == 0)
    return 1;
  r->piece = ranges_piece(ranges_bytes(&r->todo), r->nlegs,
                          (int64_t)item_spec(x)->settings->min_segment);
  r->seg_refused = 0;
  r->meta_at = now_ms(x);
  struct ranges_span s;
  ranges_take(&r->todo, r->piece, &s);
  struct leg *l = &r->legs[0];
  l->pos = s.start;
  l->stop = s.end;
  l->lstate = LEG_RUN;
  l->extra = 0;
  l->tries = 0;
  if (attempt_prepare(l, s.start, s.end - 1) != 0) {
    ranges_add(&r->todo, s.start, s.end);
    l->lstate = LEG_IDLE;
    return -1;
  }
  return 0;
}

/* The item leaves ATTACHED (pause, end, shutdown, restart): every leg
 * stops, what each had left goes back to the work. */
void seg_stop_legs(struct xfer *x)
{
  struct xrun *r = x->run;
  for (int i = 0; i < r->nlegs; i++)
    leg_give_back(&r->legs[i]);
}

/* Back to one connection from zero (the file changed, or a checksum retry). */
void seg_reset(struct xfer *x)
{
  struct xrun *r = x->run;
  for (int i = 0; i < r->nlegs; i++) {
    struct leg *l = &r->legs[i];
    attempt_detach(l);
    leg_release_slot(l);
    l->lstate = LEG_IDLE;
    l->pos = l->stop = 0;
    l->tries = 0;
  }
  r->seg = 0;
  r->seg_refused = 0;
  ranges_clear(&r->missing);
  ranges_clear(&r->todo);
}

/* Extra legs for the item's work while free slots allow (may_open). */
static void open_extra(struct xfer *x)
{
  struct xrun *r = x->run;
  for (int i = 1; i < r->nlegs && may_open(x); i++) {
    struct leg *l = &r->legs[i];
    struct ranges_span s;
    if (l->lstate != LEG_IDLE || find_work(x, &s) != 0)
      continue;
    l->extra = 1;
    x->host->extra++;
    x->eng->extra++;
    if (leg_start(l, s.start, s.end) != 0)
      break;
  }
}

/* The tick of a segmented item: stalled legs, ranges whose retry is due,
 * extra legs while slots allow, each leg's speed, and the sidecar at most
 * once a second when something was written. */
void seg_tick(struct xfer *x, uint64_t now)
{
  struct xrun *r = x->run;
  int64_t stall = item_spec(x)->settings->stall_timeout_ms;
  for (int i = 0; x->phase == PH_ATTACHED && i < r->nlegs; i++) {
    struct leg *l = &r->legs[i];
    int64_t inst = (l->got - l->sample_got) * (1000 / TICK_MS);
    l->sample_got = l->got;
    l->speed = (l->speed * 3 + inst) / 4;
    if (l->lstate == LEG_RUN && l->easy && l->body_ok && l->pos >= l->stop &&
        now - l->last_rx >= 2 * TICK_MS) {
      /* it has its whole range, but curl has not said so (its abort can
         wait in curl's queue): the leg is done all the same */
      attempt_detach(l);
      leg_next(l);
    } else if (l->lstate == LEG_RUN && l->easy && l->connected && !l->write_paused &&
               stall > 0 && (int64_t)(now - l->last_rx) >= stall) {
      char msg[96];
      snprintf(msg, sizeof msg, "no data for %.3gs", (double)stall / 1000);
      if (dlog_enabled())
        dlog("#%u leg %d stalled at %lld of %lld-%lld", x->id, i, (long long)l->pos,
             (long long)l->start, (long long)l->stop);
      leg_failed(l, MSG_REASON_STALL, 0, msg);
    } else if (l->lstate == LEG_WAIT && now >= l->retry_at) {
      if (l->pos >= l->stop)
        leg_next(l);
      else if (leg_start(l, l->pos, l->stop) != 0)
        x->eng->item_failed(x, MSG_REASON_INTERNAL, "curl could not start a range");
    }
  }
  if (x->phase != PH_ATTACHED)
    return;
  open_extra(x);
}

/* Items split during the last socket action get their extra legs now, not
 * at the next tick: the first response already showed size, validator and
 * ranges, and each tick of waiting is a tick at one connection's speed. */
void seg_kick(struct engine *e)
{
  e->seg_kick = 0;
  for (struct xfer *x = e->live_head; x; x = x->lnext)
    if (x->run && x->run->seg && x->phase == PH_ATTACHED)
      open_extra(x);
}

/* xfer_pump found a queued item that could start but for a host slot an
 * extra leg holds: that leg closes, its range goes back to its item.  1 if
 * one did. */
int seg_yield(struct engine *e)
{
  if (e->running >= e->run.concurrency)
    return 0;
  for (size_t i = 0; i < e->nhosts; i++) {
    struct host *h = e->hosts[i];
    if (!h->qhead || h->extra == 0 || h->running + h->extra < item_spec(h->qhead)->settings->per_host)
      continue;
    struct leg *pick = NULL;
    for (struct xfer *x = e->live_head; x && !pick; x = x->lnext) {
      if (x->host != h || !x->run || !x->run->seg)
        continue;
      for (int k = 0; k < x->run->nlegs; k++) {
        struct leg *l = &x->run->legs[k];
        if (l->extra && l->lstate != LEG_IDLE && (!pick || l->lstate == LEG_WAIT))
          pick = l;
      }
    }
    if (pick) {
      if (dlog_enabled())
        dlog("#%u leg %d yields its slot to a queued item", pick->x->id,
             (int)(pick - pick->x->run->legs));
      leg_give_back(pick);
      return 1;
    }
  }
  return 0;
}

/* ---- the sidecar ------------------------------------------------------- */

/* ---- the screen's view ------------------------------------------------- */

/* A segmented item's map (a cell is set when none of its bytes is missing)
 * and its legs, for the detail pane. */
void seg_snapshot(const struct xfer *x, struct msg_snap_row *row, struct msg_snapshot *s)
{
  const struct xrun *r = x->run;
  memset(row->segmap, 0, sizeof row->segmap);
  row->segmented = r && r->seg && x->total > 0;
  if (!row->segmented)
    return;
  size_t k = 0;
  for (int c = 0; c < MSG_SEGMAP_CELLS; c++) {
    int64_t a = x->total * c / MSG_SEGMAP_CELLS, b = x->total * (c + 1) / MSG_SEGMAP_CELLS;
    while (k < r->missing.n && r->missing.v[k].end <= a)
      k++;
    int hole = k < r->missing.n && r->missing.v[k].start < b;
    if (!hole && b > a)
      row->segmap[c / 8] |= (uint8_t)(1u << (c % 8));
  }
  for (int i = 0; i < r->nlegs && s->nlegs < MSG_SNAP_LEGS; i++) {
    const struct leg *l = &r->legs[i];
    if (l->lstate == LEG_IDLE)
      continue;
    struct msg_snap_leg *sl = &s->legs[s->nlegs++];
    sl->id = x->id;
    sl->index = (uint8_t)i;
    sl->state = l->lstate == LEG_WAIT ? MSG_LEG_RETRY
                : l->connected        ? MSG_LEG_RECEIVING
                                      : MSG_LEG_CONNECTING;
    sl->start = l->start;
    sl->pos = l->pos;
    sl->stop = l->stop;
    sl->got = l->got;
    sl->speed = l->speed;
  }
}
