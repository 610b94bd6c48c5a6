/* model.c - what the screen knows, without drawing it: the item table
 * (items[id - 1]) built from events (which own every state change) and
 * snapshots (bytes, totals, speeds, retry waits), the counts the header
 * shows, and the display order: the state and text filters and the sort,
 * rebuilt only when something changed.  Main thread; no curses. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphon/secret.h"
#include "siphon/xalloc.h"
#include "ui-int.h"

void model_counts(const struct ui *u, struct model_counts *c)
{
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < u->nitems; i++) {
    const struct ui_item *it = &u->items[i];
    if (!it->id)
      continue;
    c->n[it->state]++;
    c->total++;
    if (it->state == MSG_STATE_RUNNING && it->retrying)
      c->retrying++;
  }
}

int model_unfinished(const struct ui *u)
{
  for (size_t i = 0; i < u->nitems; i++) {
    enum msg_state s = u->items[i].state;
    if (u->items[i].id &&
        (s == MSG_STATE_QUEUED || s == MSG_STATE_RUNNING || s == MSG_STATE_PAUSED))
      return 1;
  }
  return 0;
}

const char *model_sort_word(enum ui_sort s)
{
  static const char *const w[UI_SORT_COUNT] = {"queue order", "state", "progress", "speed",
                                               "name"};
  return (unsigned)s < UI_SORT_COUNT ? w[s] : "?";
}

const char *model_show_word(enum ui_show s)
{
  static const char *const w[UI_SHOW_COUNT] = {"all", "active", "failed", "done"};
  return (unsigned)s < UI_SHOW_COUNT ? w[s] : "?";
}

/* Whether the state filter (f) and the text filter (/) let an item show. */
static int shown(const struct ui *u, const struct ui_item *it)
{
  if (!it->id)
    return 0;
  switch (u->show) {
  case UI_SHOW_ACTIVE:
    if (it->state > MSG_STATE_PAUSED)
      return 0;
    break;
  case UI_SHOW_FAILED:
    if (!msg_state_is_failure(it->state))
      return 0;
    break;
  case UI_SHOW_DONE:
    if (it->state != MSG_STATE_DONE && it->state != MSG_STATE_SKIPPED)
      return 0;
    break;
  default:
    break;
  }
  if (u->filter[0] && !(it->name && strcasestr(it->name, u->filter)) &&
      !(it->url && strcasestr(it->url, u->filter)))
    return 0;
  return 1;
}

/* Running first, then what waits, then what failed, then what is done. */
static int state_rank(const struct ui_item *it)
{
  static const int rank[MSG_STATE_COUNT] = {
      [MSG_STATE_RUNNING] = 0, [MSG_STATE_PAUSED] = 2,    [MSG_STATE_QUEUED] = 3,
      [MSG_STATE_FAILED] = 4,  [MSG_STATE_TIMED_OUT] = 5, [MSG_STATE_CANCELLED] = 6,
      [MSG_STATE_SKIPPED] = 7, [MSG_STATE_DONE] = 8};
  if (it->state == MSG_STATE_RUNNING && it->retrying)
    return 1;
  return (unsigned)it->state < MSG_STATE_COUNT ? rank[it->state] : 9;
}

static double progress_of(const struct ui_item *it)
{
  if (it->state == MSG_STATE_DONE || it->state == MSG_STATE_SKIPPED)
    return 1.0;
  if (it->total > 0)
    return (double)it->bytes / (double)it->total;
  return it->total == 0 ? 1.0 : -1.0;
}

/* qsort_r's comparator: ctx is the screen whose items are sorted. */
static int cmp_rows(const void *pa, const void *pb, void *ctx)
{
  const struct ui *u = ctx;
  const struct ui_item *a = &u->items[*(const uint32_t *)pa];
  const struct ui_item *b = &u->items[*(const uint32_t *)pb];
  int c = 0;
  switch (u->sort) {
  case UI_SORT_STATE:
    c = state_rank(a) - state_rank(b);
    break;
  case UI_SORT_PROGRESS: { /* most nearly finished first */
    double fa = progress_of(a), fb = progress_of(b);
    c = fa < fb ? 1 : fa > fb ? -1 : 0;
    break;
  }
  case UI_SORT_SPEED:
    c = a->speed < b->speed ? 1 : a->speed > b->speed ? -1 : 0;
    break;
  case UI_SORT_NAME:
    c = strcoll(a->name ? a->name : "", b->name ? b->name : "");
    break;
  default:
    break;
  }
  if (c == 0)
    c = a->id < b->id ? -1 : a->id > b->id ? 1 : 0;
  return c;
}

void model_order(struct ui *u)
{
  if (!u->order_dirty)
    return;
  u->order_dirty = 0;
  if (u->sort == UI_SORT_QUEUE && u->show == UI_SHOW_ALL && !u->filter[0]) {
    /* The common case costs nothing: row i is item i. */
    free(u->order);
    u->order = NULL;
    u->norder = u->order_cap = 0;
    return;
  }
  if (u->order_cap < u->nitems || !u->order) {
    u->order_cap = u->nitems ? u->nitems : 1;
    free(u->order);
    u->order = xmalloc(u->order_cap * sizeof *u->order);
  }
  u->norder = 0;
  for (size_t i = 0; i < u->nitems; i++)
    if (shown(u, &u->items[i]))
      u->order[u->norder++] = (uint32_t)i;
  if (u->sort != UI_SORT_QUEUE)
    qsort_r(u->order, u->norder, sizeof *u->order, cmp_rows, u);
}

size_t model_rows(struct ui *u)
{
  model_order(u);
  return u->order ? u->norder : u->nitems;
}

struct ui_item *model_row_item(struct ui *u, size_t i)
{
  model_order(u);
  if (u->order)
    return i < u->norder ? &u->items[u->order[i]] : NULL;
  return i < u->nitems ? &u->items[i] : NULL;
}

long model_row_of(struct ui *u, uint32_t id)
{
  model_order(u);
  if (!id || id > u->nitems)
    return -1;
  if (!u->order)
    return (long)id - 1;
  for (size_t i = 0; i < u->norder; i++)
    if (u->order[i] == id - 1)
      return (long)i;
  return -1;
}

struct ui_item *model_selected(struct ui *u)
{
  if (!u->sel_id || u->sel_id > u->nitems || !u->items[u->sel_id - 1].id)
    return NULL;
  return &u->items[u->sel_id - 1];
}

static void set_str(char **dst, const char *src)
{
  if (!src)
    return;
  free(*dst);
  *dst = xstrdup(src);
}

/* A URL as the screen keeps it: its password never reaches the terminal. */
static void set_url(char **dst, const char *src)
{
  if (!src)
    return;
  free(*dst);
  *dst = secret_url(src);
}

/* The table slot of an id, growing the table as the queue grows. */
static struct ui_item *item_slot(struct ui *u, uint32_t id)
{
  if (id == 0 || id > 10000000)
    return NULL;
  if (id > u->cap) {
    size_t ncap = u->cap ? u->cap : 64;
    while (ncap < id)
      ncap *= 2;
    u->items = xrealloc(u->items, ncap * sizeof *u->items);
    memset(u->items + u->cap, 0, (ncap - u->cap) * sizeof *u->items);
    u->cap = ncap;
  }
  if (id > u->nitems)
    u->nitems = id;
  return &u->items[id - 1];
}

/* Fold one event into the table; events own every state change. */
void model_apply_event(struct ui *u, const struct msg_event *ev)
{
  if (ev->kind == MSG_EV_IDLE) {
    u->idle = 1;
    return;
  }
  if (ev->kind == MSG_EV_STOPPED) {
    u->stopped = 1;
    u->run_bytes = ev->bytes;
    return;
  }
  struct ui_item *it = item_slot(u, ev->id);
  if (!it)
    return;
  if (!it->id && ev->kind != MSG_EV_QUEUED && ev->kind != MSG_EV_SKIPPED)
    return; /* never announced: the protocol promises QUEUED first */
  u->idle = 0;
  u->order_dirty = 1;
  switch (ev->kind) {
  case MSG_EV_QUEUED:
    if (!it->id) {
      it->id = ev->id;
      it->total = -1;
      it->t_connect = it->t_first_byte = -1;
    } else if (it->state >= MSG_STATE_DONE) {
      /* queued again after r: a retry the user asked for; start afresh */
      it->retries++;
      it->reason = MSG_REASON_NONE;
      free(it->message);
      it->message = NULL;
      it->bytes = 0;
      it->total = -1;
      it->speed = 0;
      it->http = 0;
      it->retrying = 0;
    }
    set_str(&it->name, ev->name);
    set_url(&it->url, ev->url);
    if (ev->path) {
      set_str(&it->path, ev->path);
      it->file_path = 0;
    }
    it->max_speed = ev->max_speed;
    if (!it->name)
      it->name = ev->url ? secret_url(ev->url) : xstrdup("?");
    if (!u->sel_id)
      u->sel_id = it->id;
    break;
  case MSG_EV_START:
    if (it->state != MSG_STATE_RUNNING) {
      it->reason = MSG_REASON_NONE;
      free(it->message);
      it->message = NULL;
    }
    it->attempt = ev->attempt;
    it->retrying = 0;
    break;
  case MSG_EV_PAUSED:
    it->speed = 0;
    it->connections = 0;
    it->retrying = 0;
    if (ev->message)
      snprintf(u->status, sizeof u->status, "%s: %s", it->name, ev->message);
    break;
  case MSG_EV_RESUMED:
    /* Waiting for a slot until START says otherwise (SPEC: shows queued). */
    break;
  case MSG_EV_RETRY:
    it->retries++;
    it->attempt = ev->attempt;
    it->retrying = 1;
    it->retry_in_ms = (int32_t)ev->delay_ms;
    it->retry_reason = ev->reason;
    it->http = ev->http ? ev->http : it->http;
    it->speed = 0;
    it->connections = 0;
    set_str(&it->message, ev->message);
    break;
  case MSG_EV_DONE:
    it->bytes = ev->bytes;
    if (it->total < 0 || it->total < ev->bytes)
      it->total = ev->bytes;
    it->seconds = ev->seconds;
    it->http = ev->http ? ev->http : it->http;
    it->speed = 0;
    it->connections = 0;
    it->retrying = 0;
    set_str(&it->path, ev->path);
    it->file_path |= ev->path != NULL;
    break;
  case MSG_EV_FAILED:
  case MSG_EV_TIMED_OUT:
    it->reason = ev->reason;
    it->http = ev->http ? ev->http : it->http;
    it->speed = 0;
    it->connections = 0;
    it->retrying = 0;
    set_str(&it->message, ev->message);
    break;
  case MSG_EV_CANCELLED:
    it->speed = 0;
    it->connections = 0;
    it->retrying = 0;
    break;
  case MSG_EV_SKIPPED:
    if (!it->id) {
      it->id = ev->id;
      it->total = -1;
      it->t_connect = it->t_first_byte = -1;
      if (!u->sel_id)
        u->sel_id = it->id;
    }
    it->reason = ev->reason;
    set_str(&it->name, ev->name);
    set_url(&it->url, ev->url);
    set_str(&it->path, ev->path);
    it->file_path |= ev->path != NULL;
    if (!it->name)
      it->name = xstrdup(ev->path ? ev->path : "?");
    break;
  case MSG_EV_DETAIL:
    set_url(&it->final_url, ev->final_url);
    set_str(&it->remote_addr, ev->remote_addr);
    set_str(&it->path, ev->path);
    it->file_path |= ev->path != NULL;
    if (ev->http)
      it->http = ev->http;
    if (ev->t_connect >= 0)
      it->t_connect = ev->t_connect;
    if (ev->t_first_byte >= 0)
      it->t_first_byte = ev->t_first_byte;
    break;
  default:
    break;
  }
  int st = msg_event_state(ev->kind); /* after the cases: they look at the state before */
  if (st >= 0)
    it->state = (enum msg_state)st;
}

/* Bytes, totals and speeds come from the snapshot; states from events. */
int model_apply_snapshot(struct ui *u, const struct msg_snapshot *s)
{
  /* Ignore the counters that move while nothing else does. */
  size_t cmp = offsetof(struct msg_snapshot, rows) +
               (size_t)(s->nrows <= MSG_SNAP_ROWS ? s->nrows : MSG_SNAP_ROWS) *
                   sizeof s->rows[0];
  int changed = !u->have_snap || s->nrows != u->snap.nrows ||
                memcmp((const char *)s + offsetof(struct msg_snapshot, bytes),
                       (const char *)&u->snap + offsetof(struct msg_snapshot, bytes),
                       cmp - offsetof(struct msg_snapshot, bytes)) != 0;
  if (!changed)
    return 0;
  memcpy(&u->snap, s, cmp);
  u->have_snap = 1;
  u->order_dirty = 1;
  for (uint32_t i = 0; i < s->nrows && i < MSG_SNAP_ROWS; i++) {
    const struct msg_snap_row *r = &s->rows[i];
    if (r->id == 0 || r->id > u->nitems || !u->items[r->id - 1].id)
      continue;
    struct ui_item *it = &u->items[r->id - 1];
    if (it->state >= MSG_STATE_DONE)
      continue; /* a stale row racing the final event */
    it->bytes = r->bytes;
    it->total = r->total;
    it->speed = r->state == MSG_STATE_RUNNING ? r->speed : 0;
    it->retrying = r->retrying;
    it->retry_in_ms = r->retry_in_ms;
    it->connections = r->state == MSG_STATE_RUNNING ? r->connections : 0;
    it->segmented = r->segmented;
    memcpy(it->segmap, r->segmap, sizeof it->segmap);
    it->max_speed = r->max_speed;
    if (r->attempt > 0)
      it->attempt = r->attempt;
  }
  return 1;
}

void model_free(struct ui *u)
{
  free(u->order);
  for (size_t i = 0; i < u->nitems; i++) {
    struct ui_item *it = &u->items[i];
    free(it->name);
    free(it->url);
    free(it->path);
    free(it->final_url);
    free(it->remote_addr);
    free(it->message);
  }
  free(u->items);
}
