/* engine.c - the engine thread: its libuv loop, the commands that arrive
 * through the mailbox, the 100 ms tick (limits, retry waits, speeds, idle
 * connections, the progress snapshot) and an orderly shutdown that closes
 * every handle.  Runs on the engine thread, except engine_new/start/free,
 * which the main thread calls before and after it. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine-int.h"
#include "siphon/dlog.h"
#include "siphon/engine.h"
#include "siphon/fname.h"
#include "siphon/secret.h"
#include "siphon/xalloc.h"

/* Nothing queued, running, paused or finishing: say so once.  Also the
 * state machine's item_ended callback (an item reached its final state). */
static void engine_check_idle(struct engine *e)
{
  if (e->idle_posted || e->stopping || e->live_head || e->announced < e->plan->nitems)
    return;
  for (size_t i = 0; i < e->nhosts; i++)
    if (e->hosts[i]->qhead)
      return;
  e->idle_posted = 1;
  outbox_post(e, outbox_event(MSG_EV_IDLE, 0));
}

/* Items live in slabs of ITEM_SLAB that never move: no allocation header
 * per item, no pointer array, and the id finds the item by arithmetic. */
static struct xfer *engine_item(const struct engine *e, size_t i)
{
  return &e->slabs[i / ITEM_SLAB][i % ITEM_SLAB];
}

static struct xfer *item_new(struct engine *e, struct cfg_item *spec, int owns)
{
  if (e->nitems % ITEM_SLAB == 0) {
    e->slabs = xrealloc(e->slabs, (e->nitems / ITEM_SLAB + 1) * sizeof *e->slabs);
    e->slabs[e->nitems / ITEM_SLAB] = xcalloc(ITEM_SLAB, sizeof(struct xfer));
  }
  /* the plan's items come first (engine_new), the added ones after: an
     id is an index into one of the two (item_spec) */
  if (owns) {
    size_t n = e->nitems - e->plan->nitems;
    if ((n & (n - 1)) == 0) /* 0, 1, 2, 4, ...: double */
      e->added = xrealloc(e->added, (n ? 2 * n : 1) * sizeof *e->added);
    e->added[n] = spec;
  }
  struct xfer *x = engine_item(e, e->nitems++);
  x->eng = e;
  x->owns_spec = owns;
  x->total = -1;
  x->host = sched_host(e, spec->url);
  if (spec->settings->per_host > x->host->limit)
    x->host->limit = spec->settings->per_host;
  x->id = (uint32_t)e->nitems;
  e->nstate[MSG_STATE_QUEUED]++; /* x->state is 0, queued */
  return x;
}

static void announce(struct engine *e, struct xfer *x)
{
  struct msg_event *ev = outbox_event(MSG_EV_QUEUED, x->id);
  ev->name = xstrdup(item_spec(x)->name);
  ev->url = secret_url(item_spec(x)->url);
  ev->path = xstrdup(item_spec(x)->settings->dir);
  ev->max_speed = limit_rate(e, x);
  outbox_post(e, ev);
}

static struct xfer *item_by_id(struct engine *e, uint32_t id)
{
  return id >= 1 && id <= e->nitems ? engine_item(e, id - 1) : NULL;
}

/* ---- commands ------------------------------------------------------ */

static void begin_shutdown(struct engine *e);
static void announce_chunk(uv_idle_t *idle);

/* The settings of an added URL that is not one: it never runs. */
static const struct cfg_settings bad_url_settings = {.dir = ".", .file = ""};

static void add_url(struct engine *e, const char *url, const char *output)
{
  struct cfg_item *it = xcalloc(1, sizeof *it);
  char err[CFG_ERR_MAX];
  if (!url || cfg_item_from_url(e->plan, url, it, err, sizeof err) != 0) {
    /* still an item, so the user sees what was wrong with it */
    cfg_item_free(it);
    memset(it, 0, sizeof *it);
    it->name = url ? secret_url(url) : xstrdup("");
    it->url = xstrdup(url ? url : "");
    it->settings = &bad_url_settings;
    struct xfer *x = item_new(e, it, 1);
    announce(e, x);
    x->phase = PH_FINAL;
    outbox_set_state(x, MSG_STATE_FAILED);
    struct msg_event *ev = outbox_event(MSG_EV_FAILED, x->id);
    ev->reason = MSG_REASON_BAD_URL;
    ev->message = xstrdup(err);
    outbox_post(e, ev);
    return;
  }
  if (output && fname_relpath_ok(output)) { /* the screen chose the name */
    free(it->name);
    it->name = xstrdup(output);
    it->output = xstrdup(output);
  }
  name_for_added(e, it);
  struct xfer *x = item_new(e, it, 1);
  announce(e, x);
  e->idle_posted = 0;
  sched_enqueue(e, x, 0);
}

static void apply(struct engine *e, const struct msg_cmd *c)
{
  struct xfer *x = item_by_id(e, c->id);
  switch (c->kind) {
  case MSG_CMD_ADD:
    add_url(e, c->url, c->output);
    break;
  case MSG_CMD_PAUSE:
    if (x)
      xfer_pause(x);
    break;
  case MSG_CMD_RESUME:
    if (x)
      xfer_resume(x);
    break;
  case MSG_CMD_PAUSE_ALL:
    for (size_t i = 0; i < e->nitems; i++)
      if (engine_item(e, i)->phase == PH_ATTACHED || engine_item(e, i)->phase == PH_RETRY_WAIT ||
          engine_item(e, i)->phase == PH_PREPARING)
        xfer_pause(engine_item(e, i));
    break;
  case MSG_CMD_RESUME_ALL:
    /* in id order, each to the front: walk backwards so the first stays first */
    for (size_t i = e->nitems; i-- > 0;)
      if (engine_item(e, i)->phase == PH_PAUSED)
        xfer_resume(engine_item(e, i));
    break;
  case MSG_CMD_CANCEL:
    if (x)
      xfer_cancel(x);
    break;
  case MSG_CMD_RETRY:
    if (x)
      xfer_retry_cmd(x);
    break;
  case MSG_CMD_SET_CONCURRENCY:
    if (c->value >= 1)
      e->run.concurrency = c->value; /* lowering never stops a running transfer */
    break;
  case MSG_CMD_SET_LIMIT:
    if (c->id == 0 || x)
      limit_set(e, x, c->value);
    break;
  case MSG_CMD_QUIT:
    begin_shutdown(e);
    break;
  }
}

static void on_wake(uv_async_t *a)
{
  struct engine *e = a->data;
  if (e->announced < e->plan->nitems && !e->stopping)
    uv_idle_start(&e->announcer, announce_chunk); /* the backlog may have drained */
  struct msg_cmd *c = mbox_take_cmds(e->mb);
  while (c) {
    struct msg_cmd *next = c->next;
    if (!e->stopping)
      apply(e, c);
    msg_cmd_free(c);
    c = next;
  }
  xfer_pump(e);
}

static void wake_engine(void *arg)
{
  uv_async_send(arg);
}

/* ---- the tick ------------------------------------------------------ */

static int64_t ring_speed(const int64_t *v, const uint64_t *t, int n, int pos)
{
  if (n < 2)
    return 0;
  int newest = (pos + SPEED_SAMPLES - 1) % SPEED_SAMPLES;
  int oldest = n < SPEED_SAMPLES ? 0 : pos;
  uint64_t dt = t[newest] - t[oldest];
  return dt ? (int64_t)((double)(v[newest] - v[oldest]) * 1000.0 / (double)dt) : 0;
}

static void snapshot(struct engine *e, uint64_t now)
{
  struct msg_snapshot *s = mbox_snapshot_buffer(e->mb);
  s->seq = ++e->seq;
  s->uptime_ms = (int64_t)(now - e->started_ms);
  s->bytes = e->bytes_total;
  s->speed = ring_speed(e->tot_samples, e->tot_sample_t, e->tot_n, e->tot_pos);
  s->history_len = (uint32_t)e->history_len;
  memcpy(s->history, e->history, sizeof s->history);
  s->items = (uint32_t)e->nitems;
  /* counted at each state change: no walk over every item per tick */
  s->queued = (uint32_t)e->nstate[MSG_STATE_QUEUED];
  s->running = (uint32_t)e->nstate[MSG_STATE_RUNNING];
  s->paused = (uint32_t)e->nstate[MSG_STATE_PAUSED];
  s->done = (uint32_t)e->nstate[MSG_STATE_DONE];
  s->failed = (uint32_t)e->nstate[MSG_STATE_FAILED];
  s->timed_out = (uint32_t)e->nstate[MSG_STATE_TIMED_OUT];
  s->cancelled = (uint32_t)e->nstate[MSG_STATE_CANCELLED];
  s->skipped = (uint32_t)e->nstate[MSG_STATE_SKIPPED];
  s->concurrency = e->run.concurrency;
  s->pool_max = e->run.max_connections;
  s->pool_open = e->pool_open;
  s->pool_in_use = 0;
  s->nhosts = 0;
  for (size_t i = 0; i < e->nhosts; i++) {
    struct host *h = e->hosts[i];
    int used = h->attached + h->extra; /* items' connections plus extra legs */
    int in_use = used < h->open ? used : h->open;
    s->pool_in_use += in_use;
    if (s->nhosts < MSG_SNAP_HOSTS && (h->open || h->running || h->qhead)) {
      struct msg_snap_host *sh = &s->hosts[s->nhosts++];
      memcpy(sh->key, h->key, sizeof sh->key);
      sh->open = h->open;
      sh->in_use = in_use;
      sh->limit = h->limit;
      sh->reused = h->reused;
      sh->fresh = h->fresh;
    }
  }
  s->pool_idle = s->pool_open - s->pool_in_use;
  s->nrows = 0;
  s->nlegs = 0;
  for (struct xfer *x = e->live_head; x && s->nrows < MSG_SNAP_ROWS; x = x->lnext) {
    struct msg_snap_row *row = &s->rows[s->nrows++];
    row->id = x->id;
    row->state = (uint8_t)x->state;
    row->retrying = x->phase == PH_RETRY_WAIT && x->run && x->run->retry_at > now;
    row->connected = xfer_connected(x);
    row->connections = (uint8_t)xfer_connections(x);
    seg_snapshot(x, row, s);
    row->attempt = x->attempt;
    row->retry_in_ms = xfer_retry_in_ms(x, now);
    row->bytes = x->bytes;
    row->total = x->total;
    row->speed = xfer_speed(x);
  }
  netopt_snapshot(e, s);
  mbox_snapshot_publish(e->mb);
}

static void finish_shutdown(struct engine *e);

static void on_tick(uv_timer_t *t)
{
  struct engine *e = t->data;
  uint64_t now = uv_now(&e->loop);
  if (!e->stopping)
    limit_tick(e, now);
  for (struct xfer *x = e->live_head, *next; x; x = next) {
    next = x->lnext;
    if (!e->stopping)
      xfer_tick(x, now);
  }
  e->tot_samples[e->tot_pos] = e->bytes_total;
  e->tot_sample_t[e->tot_pos] = now;
  e->tot_pos = (e->tot_pos + 1) % SPEED_SAMPLES;
  if (e->tot_n < SPEED_SAMPLES)
    e->tot_n++;
  if (now - e->history_t >= 1000) {
    if (e->history_len == MSG_SNAP_HISTORY) {
      memmove(e->history, e->history + 1, (MSG_SNAP_HISTORY - 1) * sizeof *e->history);
      e->history_len--;
    }
    e->history[e->history_len++] =
        (int64_t)((double)(e->bytes_total - e->history_mark) * 1000.0 / (double)(now - e->history_t));
    e->history_mark = e->bytes_total;
    e->history_t = now;
  }
  /* libcurl 7.88 sweeps idle connections only when one starts connecting */
  int attached = 0;
  for (size_t i = 0; i < e->nhosts; i++)
    attached += e->hosts[i]->attached;
  if (!e->stopping && e->pool_open > attached && now - e->last_prune >= 500) {
    e->last_prune = now;
    glue_prune_idle(e);
  }
  snapshot(e, now);
  if (e->stopping)
    finish_shutdown(e);
}

/* ---- shutdown ------------------------------------------------------ */

/* A test seam for the front end's shutdown watchdog (SPEC: a signal ends
 * siphon within 2 s whatever the engine does): with SIPHON_TEST_HANG_ON_QUIT
 * set, the engine thread hangs on quit the way a hung disk would hang it. */
static void test_hang_on_quit(void)
{
  const char *v = getenv("SIPHON_TEST_HANG_ON_QUIT");
  if (!v || !*v)
    return;
  for (;;)
    pause(); /* signals are blocked on this thread: it never returns */
}

static void begin_shutdown(struct engine *e)
{
  test_hang_on_quit();
  if (e->stopping)
    return;
  e->stopping = 1;
  for (size_t i = 0; i < e->nitems; i++)
    xfer_stop(engine_item(e, i));
  finish_shutdown(e);
}

static void close_walk_cb(uv_handle_t *h, void *arg)
{
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* Once no disk job is in flight: free curl, close every handle, stop. */
static void finish_shutdown(struct engine *e)
{
  for (struct xfer *x = e->live_head; x; x = x->lnext)
    if (stream_busy(x))
      return; /* the tick comes back */
  if (e->draining)
    return; /* a cancelled item's files are still being tidied */
  if (e->stopped_posted)
    return;
  e->stopped_posted = 1;
  for (size_t i = 0; i < e->nitems; i++) {
    struct xfer *x = engine_item(e, i);
    for (int k = 0; x->run && k < x->run->nlegs; k++) {
      struct leg *l = &x->run->legs[k];
      if (l->easy) {
        glue_detach(e, l->easy);
        curl_easy_cleanup(l->easy);
        l->easy = NULL;
      }
    }
  }
  attempt_pool_free(e);
  if (e->pruner) {
    if (e->pruner_attached)
      curl_multi_remove_handle(e->multi, e->pruner);
    curl_easy_cleanup(e->pruner);
    curl_slist_free_all(e->pruner_resolve);
    e->pruner = NULL;
  }
  curl_multi_cleanup(e->multi); /* closes pooled connections */
  e->multi = NULL;
  glue_close_polls(e);
  uv_walk(&e->loop, close_walk_cb, NULL);
}

/* The list's items are announced (QUEUED event, then queued) a chunk at a
 * time, and the next chunk only once the front end has taken most of the
 * events before it: transfers start at once, and a list of 20,000 URLs
 * never has 20,000 events waiting in the mailbox.  If the backlog is too
 * big, the mailbox wakes us (on_wake) when the front end takes it. */
static void announce_chunk(uv_idle_t *idle)
{
  struct engine *e = idle->data;
  if (mbox_events_waiting(e->mb, 1) >= ANNOUNCE_CHUNK) {
    uv_idle_stop(idle);
    return;
  }
  size_t end = e->announced + ANNOUNCE_CHUNK;
  if (end > e->plan->nitems)
    end = e->plan->nitems;
  for (; e->announced < end; e->announced++) {
    struct xfer *x = engine_item(e, e->announced);
    announce(e, x);
    sched_enqueue(e, x, 0);
  }
  if (e->announced == e->plan->nitems)
    uv_idle_stop(idle);
  xfer_pump(e);
  engine_check_idle(e);
}

static void thread_main(void *arg)
{
  struct engine *e = arg;
  e->started_ms = e->history_t = e->last_prune = uv_now(&e->loop);
  mbox_set_cmd_wake(e->mb, wake_engine, &e->wake);
  announce_chunk(&e->announcer);
  on_wake(&e->wake); /* commands sent before we could be woken */
  uv_run(&e->loop, UV_RUN_DEFAULT);
  mbox_set_cmd_wake(e->mb, NULL, NULL);
  int rc = uv_loop_close(&e->loop);
  struct msg_event *ev = outbox_event(MSG_EV_STOPPED, 0);
  ev->bytes = e->bytes_total;
  if (rc != 0)
    ev->message = xstrdup("engine: handles left open at shutdown");
  outbox_post(e, ev);
}

/* Threads of libuv's pool (a string: it goes into the environment). */
#define DISK_THREADS "16"

int engine_new(struct engine **out, const struct cfg_plan *plan, struct mbox *mb, char *err,
               size_t errlen)
{
  struct engine *e = xcalloc(1, sizeof *e);
  e->plan = plan;
  e->run = plan->run;
  e->mb = mb;
  /* The disk side is libuv's pool, one thread per directory with work at
     once: a directory that hangs (a dead NFS mount) holds one thread until
     it answers.  libuv's 4 would let four such directories stall every
     other item's writes, so siphon asks for DISK_THREADS unless the user
     set UV_THREADPOOL_SIZE.  libuv reads it at its first job, after this;
     no other thread runs yet, so setenv is safe here. */
  setenv("UV_THREADPOOL_SIZE", DISK_THREADS, 0);
  /* curl keeps a connection while idle <= MAXAGE_CONN whole seconds, so
     one second less closes it within a second of conn_idle passing */
  /* the buffer size most items of a run share: the first item's */
  e->bufpool_size = plan->nitems ? plan->items[0].settings->buffer_size
                                 : plan->add_defaults.buffer_size;
  e->maxage_s = plan->run.conn_idle_ms > 1000 ? (plan->run.conn_idle_ms + 999) / 1000 - 1 : 0;
  /* the same for the lifetime, where 0 means "no limit" to curl: 1 s is
     the shortest it can say (a connection is retired once 2 s old) */
  e->maxlife_s = plan->run.conn_lifetime_ms <= 0      ? 0
                 : plan->run.conn_lifetime_ms <= 2000 ? 1
                                                      : (plan->run.conn_lifetime_ms + 999) / 1000 - 1;
  if (uv_loop_init(&e->loop) != 0 || uv_async_init(&e->loop, &e->wake, on_wake) != 0) {
    snprintf(err, errlen, "cannot start the event loop");
    free(e);
    return -1;
  }
  e->wake.data = e;
  uv_timer_init(&e->loop, &e->tick);
  e->tick.data = e;
  uv_idle_init(&e->loop, &e->announcer);
  e->announcer.data = e;
  stream_loop_init(e);
  e->leg_done = xfer_leg_done;
  e->open_extra_legs = seg_kick;
  e->item_ended = engine_check_idle;
  e->split_write = seg_write;
  e->split_headers = seg_on_headers;
  e->split_consider = seg_consider;
  e->item_failed = xfer_leg_failed_item;
  e->item_restart = xfer_restart;
  e->item_complete = xfer_complete;
  e->slots_freed = xfer_pump;
  if (glue_init(e) != 0) {
    snprintf(err, errlen, "cannot create the curl multi handle");
    uv_close((uv_handle_t *)&e->wake, NULL);
    uv_close((uv_handle_t *)&e->tick, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
    free(e);
    return -1;
  }
  netopt_multi(e);
  limit_init(e);
  for (size_t i = 0; i < plan->nitems; i++)
    item_new(e, &plan->items[i], 0);
  if (plan->run.log && *plan->run.log && dlog_open(plan->run.log) != 0) {
    snprintf(err, errlen, "option --log: cannot open '%s': %s", plan->run.log, strerror(errno));
    engine_free(e);
    return -1;
  }
  *out = e;
  return 0;
}

int engine_start(struct engine *e)
{
  uv_timer_start(&e->tick, on_tick, TICK_MS, TICK_MS);
  uv_idle_start(&e->announcer, announce_chunk);
  /* signals are the front end's: the engine thread never takes them */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  int rc = uv_thread_create(&e->thread, thread_main, e);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc == 0)
    e->thread_started = 1;
  return rc == 0 ? 0 : -1;
}

void engine_free(struct engine *e)
{
  if (!e)
    return;
  if (e->thread_started)
    uv_thread_join(&e->thread);
  else {
    if (e->multi)
      curl_multi_cleanup(e->multi);
    uv_walk(&e->loop, close_walk_cb, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
  }
  for (size_t i = 0; i < e->nitems; i++)
    xfer_free(engine_item(e, i));
  for (size_t i = 0; i < (e->nitems + ITEM_SLAB - 1) / ITEM_SLAB; i++)
    free(e->slabs[i]);
  free(e->slabs);
  free(e->added);
  for (size_t i = 0; i < e->nhosts; i++)
    free(e->hosts[i]);
  free(e->hosts);
  free(e->sock_host);
  free(e->sock_ctx);
  free(e->last_dir);
  name_free_all(e);
  for (size_t i = 0; i < e->bufpool_n; i++)
    free(e->bufpool[i]);
  free(e->bufpool);
  limit_free(e);
  dlog_close();
  free(e);
}
