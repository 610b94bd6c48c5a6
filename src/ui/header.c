/* header.c - the header lines: throughput now and a sparkline of the last
 * minute, items by state, concurrency, and the connection pool (open / in
 * use / idle of the limit, and per host in use of its limit with reused
 * and new connection counts).  Pieces that do not fit are left off rather
 * than wrapped.  Main thread. */
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
  ui_put(l->y, l->x, w, role, s, u->utf8);
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
  ui_put(y, 0, width, THEME_HEADER, "", u->utf8);
}

int header_height(const struct ui *u, int width)
{
  (void)u;
  (void)width;
  return 3;
}

/* The host key without "http://", which is what people expect to read. */
static const char *host_label(const char *key)
{
  return strncmp(key, "http://", 7) ? key : key + 7;
}

int header_draw(struct ui *u, int y, int width)
{
  const struct msg_snapshot *s = &u->snap;
  struct ui_counts c;
  char a[64], b[256], spark[MSG_SNAP_HISTORY * 4 + 8];
  ui_counts(u, &c);

  /* Line 1: name, throughput, sparkline, bytes, concurrency. */
  fill(u, y, width);
  struct line l = {.y = y, .x = 0, .width = width};
  piece(u, &l, THEME_TITLE, " siphon ");
  if (u->have_snap && s->insecure)
    piece(u, &l, THEME_ERROR, " insecure: TLS certificates not checked ");
  snprintf(b, sizeof b, " %s ", u->utf8 ? "\u2193" : "down");
  pair(u, &l, b, u->have_snap ? fmt_speed(a, sizeof a, s->speed) : "--");
  if (u->have_snap && s->max_speed > 0)
    pair(u, &l, "  limit ", fmt_speed(a, sizeof a, s->max_speed));
  int sw = width - l.x - 40;
  if (sw > MSG_SNAP_HISTORY)
    sw = MSG_SNAP_HISTORY;
  if (sw >= 8 && u->have_snap) {
    piece(u, &l, THEME_LABEL, "  ");
    fmt_spark(spark, sizeof spark, s->history,
              s->history_len <= MSG_SNAP_HISTORY ? s->history_len : MSG_SNAP_HISTORY, sw,
              u->utf8);
    piece(u, &l, THEME_SPARK, spark);
  }
  pair(u, &l, "  received ", u->have_snap ? fmt_size(a, sizeof a, s->bytes) : "0 B");
  snprintf(a, sizeof a, "%d", u->have_snap ? (int)s->concurrency : 0);
  pair(u, &l, "  concurrency ", u->have_snap ? a : "?");

  /* Line 2: items by state. */
  fill(u, y + 1, width);
  l = (struct line){.y = y + 1, .x = 0, .width = width};
  static const struct {
    enum msg_state st;
    const char *label;
    int always;
  } order[] = {{MSG_STATE_RUNNING, " running ", 1},   {MSG_STATE_QUEUED, "  queued ", 1},
               {MSG_STATE_DONE, "  done ", 1},        {MSG_STATE_FAILED, "  failed ", 1},
               {MSG_STATE_TIMED_OUT, "  timed out ", 1}, {MSG_STATE_PAUSED, "  paused ", 0},
               {MSG_STATE_CANCELLED, "  cancelled ", 0}, {MSG_STATE_SKIPPED, "  skipped ", 0}};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    if (!order[i].always && c.n[order[i].st] == 0)
      continue;
    snprintf(a, sizeof a, "%zu", c.n[order[i].st]);
    pair(u, &l, order[i].label, a);
  }
  snprintf(a, sizeof a, "%zu", c.total);
  pair(u, &l, "  of ", a);

  /* Line 3: the pool, then each host while they fit. */
  fill(u, y + 2, width);
  l = (struct line){.y = y + 2, .x = 0, .width = width};
  if (u->have_snap) {
    snprintf(b, sizeof b, "%d open / %d in use / %d idle of %d", (int)s->pool_open,
             (int)s->pool_in_use, (int)s->pool_idle, (int)s->pool_max);
    pair(u, &l, " pool ", b);
    uint32_t nh = s->nhosts <= MSG_SNAP_HOSTS ? s->nhosts : MSG_SNAP_HOSTS;
    for (uint32_t i = 0; i < nh; i++) {
      const struct msg_snap_host *h = &s->hosts[i];
      char key[MSG_HOST_KEY + 1];
      memcpy(key, h->key, MSG_HOST_KEY);
      key[MSG_HOST_KEY] = '\0';
      if (h->streams > 0)
        snprintf(b, sizeof b, "%d/%d (%d HTTP/2 streams on %d conn, %u reused, %u new)",
                 (int)h->in_use, (int)h->limit, (int)h->streams, (int)h->open, h->reused,
                 h->fresh);
      else
        snprintf(b, sizeof b, "%d/%d (%u reused, %u new)", (int)h->in_use, (int)h->limit,
                 h->reused, h->fresh);
      char lab[MSG_HOST_KEY + 8];
      snprintf(lab, sizeof lab, "  %s ", host_label(key));
      pair(u, &l, lab, b);
      if (l.full) {
        l.full = 0;
        snprintf(a, sizeof a, "  +%u more", nh - i);
        piece(u, &l, THEME_LABEL, a);
        break;
      }
    }
  } else {
    piece(u, &l, THEME_LABEL, " pool: waiting for the engine");
  }
  return y + header_height(u, width);
}
