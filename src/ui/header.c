/* header.c - the header lines: throughput now and a sparkline of the last
 * minute, concurrency and elapsed time; the run's progress (bytes done of
 * the known total, percent, ETA) or, once everything is final, that it
 * has all finished; items by state (always the same states, in the same
 * order); and the connection pool (open / in use / idle of the limit, and
 * per host in use of its limit with reused and new connection counts;
 * hosts that do not fit are summed up as "+N more").  Pieces that do not
 * fit are left off rather than wrapped.  Main thread. */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "ui-int.h"

/* A line being filled left to right; pieces that do not fit are dropped. */
struct line {
  int y, x, width;
  int full; /* a piece did not fit: later ones are skipped too */
};

static void piece(struct ui *u, struct line *l, enum theme_role role, const char *s)
{
  int w = fmt_width(s);
  if (l->full || l->x + w > l->width) {
    l->full = 1;
    return;
  }
  draw_put(l->y, l->x, w, role, s, u->utf8);
  l->x += w;
}

/* A label and its value as one piece, so neither is shown alone. */
static void pair(struct ui *u, struct line *l, const char *label, const char *value)
{
  int w = fmt_width(label) + fmt_width(value);
  if (l->full || l->x + w > l->width) {
    l->full = 1;
    return;
  }
  piece(u, l, THEME_LABEL, label);
  piece(u, l, THEME_VALUE, value);
}

static void fill(struct ui *u, int y, int width)
{
  draw_put(y, 0, width, THEME_HEADER, "", u->utf8);
}

int header_height(const struct ui *u, int width)
{
  (void)u;
  (void)width;
  return 4;
}

/* The host key without "http://", which is what people expect to read. */
static const char *host_label(const char *key)
{
  return strncmp(key, "http://", 7) ? key : key + 7;
}

/* "1m05s" of a span of milliseconds. */
static const char *elapsed(char *buf, size_t n, int64_t ms)
{
  return fmt_eta(buf, n, ms > 0 ? ms / 1000 : 0);
}

/* Bytes done of the known total: items whose size is not known yet count
 * neither way (they are named apart). */
static void progress(struct ui *u, int64_t *done, int64_t *total, size_t *unknown)
{
  *done = *total = 0;
  *unknown = 0;
  for (size_t i = 0; i < u->nitems; i++) {
    const struct ui_item *it = &u->items[i];
    if (!it->id || it->state == MSG_STATE_SKIPPED || it->state == MSG_STATE_CANCELLED)
      continue;
    if (it->total < 0) {
      if (it->state != MSG_STATE_FAILED && it->state != MSG_STATE_TIMED_OUT)
        (*unknown)++;
      continue;
    }
    *total += it->total;
    *done += it->bytes < it->total ? it->bytes : it->total;
  }
}

int header_draw(struct ui *u, int y, int width)
{
  const struct msg_snapshot *s = &u->snap;
  struct model_counts c;
  char a[64], b[256], spark[MSG_SNAP_HISTORY * 4 + 8];
  model_counts(u, &c);
  int64_t now = ui_now_ms();
  int64_t ran = (u->end_ms ? u->end_ms : now) - u->start_ms;

  /* Line 1: name, throughput, sparkline, concurrency, elapsed, bytes. */
  fill(u, y, width);
  struct line l = {.y = y, .x = 0, .width = width};
  piece(u, &l, THEME_TITLE, " siphon ");
  if (u->have_snap && s->insecure)
    piece(u, &l, THEME_ERROR, " insecure: TLS certificates not checked ");
  snprintf(b, sizeof b, " %s ", u->utf8 ? "\u2193" : "down");
  pair(u, &l, b, u->have_snap ? fmt_speed(a, sizeof a, s->speed) : "--");
  if (u->have_snap && s->max_speed > 0)
    pair(u, &l, "  limit ", fmt_speed(a, sizeof a, s->max_speed));
  int sw = width - l.x - 58;
  if (sw > MSG_SNAP_HISTORY)
    sw = MSG_SNAP_HISTORY;
  if (sw >= 8 && u->have_snap) {
    piece(u, &l, THEME_LABEL, "  ");
    fmt_spark(spark, sizeof spark, s->history,
              s->history_len <= MSG_SNAP_HISTORY ? s->history_len : MSG_SNAP_HISTORY, sw,
              u->utf8);
    piece(u, &l, THEME_SPARK, spark);
  }
  snprintf(a, sizeof a, "%d", u->have_snap ? (int)s->concurrency : 0);
  pair(u, &l, "  concurrency ", u->have_snap ? a : "?");
  pair(u, &l, "  elapsed ", elapsed(a, sizeof a, ran));
  pair(u, &l, "  received ", u->have_snap ? fmt_size(a, sizeof a, s->bytes) : "0 B");

  /* Line 2: what is under way, then the run's progress or its end. */
  fill(u, y + 1, width);
  l = (struct line){.y = y + 1, .x = 0, .width = width};
  static const struct {
    enum msg_state st;
    const char *label;
  } active[] = {{MSG_STATE_RUNNING, " running "},
                {MSG_STATE_QUEUED, "  queued "},
                {MSG_STATE_PAUSED, "  paused "}};
  for (size_t i = 0; i < sizeof active / sizeof active[0]; i++) {
    snprintf(a, sizeof a, "%zu", c.n[active[i].st]);
    pair(u, &l, active[i].label, a);
  }
  if (u->end_ms) {
    snprintf(b, sizeof b, "   all %zu finished in %s", c.total, elapsed(a, sizeof a, ran));
    piece(u, &l, THEME_DONE, b);
    piece(u, &l, THEME_LABEL, "  (q quits)");
  } else if (c.total > 0) {
    int64_t done, total;
    size_t unknown;
    char t[32];
    progress(u, &done, &total, &unknown);
    if (total > 0) {
      snprintf(b, sizeof b, "%s of %s", fmt_size(a, sizeof a, done),
               fmt_size(t, sizeof t, total));
      pair(u, &l, "   ", b);
      pair(u, &l, "  ", fmt_percent(a, sizeof a, done, total));
      int64_t eta = u->have_snap ? fmt_eta_seconds(done, total, s->speed) : -1;
      pair(u, &l, "  ETA ", fmt_eta(a, sizeof a, eta));
    }
    if (unknown) {
      snprintf(b, sizeof b, "  (%zu of unknown size)", unknown);
      piece(u, &l, THEME_LABEL, b);
    }
  }

  /* Line 3: how items ended, always the same states in the same order. */
  fill(u, y + 2, width);
  l = (struct line){.y = y + 2, .x = 0, .width = width};
  static const struct {
    enum msg_state st;
    const char *label;
  } ended[] = {{MSG_STATE_DONE, " done "},
               {MSG_STATE_FAILED, "  failed "},
               {MSG_STATE_TIMED_OUT, "  timed out "},
               {MSG_STATE_CANCELLED, "  cancelled "},
               {MSG_STATE_SKIPPED, "  skipped "}};
  for (size_t i = 0; i < sizeof ended / sizeof ended[0]; i++) {
    snprintf(a, sizeof a, "%zu", c.n[ended[i].st]);
    pair(u, &l, ended[i].label, a);
  }
  snprintf(a, sizeof a, "%zu", c.total);
  pair(u, &l, "  of ", a);

  /* Line 4: the pool, then each host while it fits with room left to say
     how many did not. */
  fill(u, y + 3, width);
  l = (struct line){.y = y + 3, .x = 0, .width = width};
  if (u->have_snap) {
    snprintf(b, sizeof b, "%d open / %d in use / %d idle of %d", (int)s->pool_open,
             (int)s->pool_in_use, (int)s->pool_idle, (int)s->pool_max);
    pair(u, &l, " pool ", b);
    uint32_t nh = s->nhosts <= MSG_SNAP_HOSTS ? s->nhosts : MSG_SNAP_HOSTS;
    int brief = 0; /* hosts without their reused/new counts, when those do not fit */
    for (uint32_t i = 0; i < nh; i++) {
      const struct msg_snap_host *h = &s->hosts[i];
      char key[MSG_HOST_KEY + 1], lab[MSG_HOST_KEY + 8], more[32];
      memcpy(key, h->key, MSG_HOST_KEY);
      key[MSG_HOST_KEY] = '\0';
      snprintf(lab, sizeof lab, "  %s ", host_label(key));
      /* this host, and after it the note for the ones left if any are */
      snprintf(more, sizeof more, "  +%u more", nh - i - 1);
      int need = 0;
      for (int pass = 0; pass < 2; pass++) {
        if (brief)
          snprintf(b, sizeof b, "%d/%d", (int)h->in_use, (int)h->limit);
        else if (h->streams > 0)
          snprintf(b, sizeof b, "%d/%d (%d HTTP/2 streams on %d conn, %u reused, %u new)",
                   (int)h->in_use, (int)h->limit, (int)h->streams, (int)h->open, h->reused,
                   h->fresh);
        else
          snprintf(b, sizeof b, "%d/%d (%u reused, %u new)", (int)h->in_use, (int)h->limit,
                   h->reused, h->fresh);
        need = fmt_width(lab) + fmt_width(b) + (i + 1 < nh ? fmt_width(more) : 0);
        if (l.x + need <= l.width || brief || i > 0)
          break;
        brief = 1; /* the first host alone does not fit in full: all go brief */
      }
      if (l.x + need > l.width) {
        snprintf(more, sizeof more, "  +%u more", nh - i);
        piece(u, &l, THEME_LABEL, more);
        break;
      }
      pair(u, &l, lab, b);
    }
  } else {
    piece(u, &l, THEME_LABEL, " pool: waiting for the engine");
  }
  return y + header_height(u, width);
}
