/* detail.c - the detail pane (Enter) for the selected item: the state and
 * its reason in words, where the file is (only when there is one), the
 * URL, bytes, retries, HTTP status and remote address, the final URL after
 * redirects, and the time to connect and to first byte, in that order so
 * a short pane keeps what matters most; for a segmented download also
 * the file as a one-line map and each connection (range, bytes, speed,
 * state), from the snapshot.  The strings come from
 * MSG_EV_DETAIL and the final events.  Main thread. */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "ui-int.h"

enum { DETAIL_LINES = 10 };

/* The selected item's legs in the snapshot. */
static int legs_of(const struct ui *u, uint32_t id)
{
  int n = 0;
  for (uint32_t i = 0; u->have_snap && i < u->snap.nlegs && i < MSG_SNAP_LEGS; i++)
    n += u->snap.legs[i].id == id;
  return n;
}

int detail_height(const struct ui *u, int screen_rows)
{
  const struct ui_item *it = u->sel_id && u->sel_id <= u->nitems && u->items[u->sel_id - 1].id
                                 ? &u->items[u->sel_id - 1]
                                 : NULL;
  /* Keep at least a few list rows visible above it. */
  int h = DETAIL_LINES;
  if (it && it->segmented && it->state == MSG_STATE_RUNNING)
    h += 1 + legs_of(u, it->id);
  if (h > screen_rows - 9)
    h = screen_rows - 9;
  return h < 3 ? 0 : h;
}

static void field(struct ui *u, int y, int width, const char *label, const char *value)
{
  enum { LW = 13 };
  draw_put(y, 0, width, THEME_DETAIL, "", u->utf8);
  draw_put(y, 1, LW, THEME_DETAIL_LABEL, label, u->utf8);
  if (width > LW + 2)
    draw_put(y, LW + 2, width - LW - 2, THEME_DETAIL, value && *value ? value : "--",
           u->utf8);
}

/* The outcome in words: the state, and the reason once (the engine's
 * message when there is one, else the reason's own words) with its key. */
static void outcome(const struct ui_item *it, char *buf, size_t n)
{
  char key[16];
  enum msg_reason r = (enum msg_reason)it->reason;
  if (it->state == MSG_STATE_RUNNING && it->retrying) {
    r = (enum msg_reason)it->retry_reason;
    snprintf(buf, n, "retry in %ds (%s): %s", (it->retry_in_ms + 999) / 1000,
             msg_reason_key(r, it->http, key), it->message ? it->message : msg_reason_text(r));
  } else if (r != MSG_REASON_NONE) {
    snprintf(buf, n, "%s (%s): %s", draw_state_word(it->state), msg_reason_key(r, it->http, key),
             it->message ? it->message : msg_reason_text(r));
  } else {
    snprintf(buf, n, "%s%s%s", draw_state_word(it->state), it->message ? ": " : "",
             it->message ? it->message : "");
  }
}

/* Where the item's file is, or that it has none. */
static void file_line(const struct ui_item *it, char *buf, size_t n)
{
  /* Until it starts, path is the dir the file will go to. */
  int named = it->path && it->file_path;
  switch (it->state) {
  case MSG_STATE_DONE:
    snprintf(buf, n, "%s", it->path ? it->path : "--");
    break;
  case MSG_STATE_SKIPPED:
    snprintf(buf, n, "%s (already there, not touched)", it->path ? it->path : "--");
    break;
  case MSG_STATE_QUEUED:
  case MSG_STATE_RUNNING:
  case MSG_STATE_PAUSED:
    if (it->bytes > 0 && named)
      snprintf(buf, n, "%s.part (renamed when complete)", it->path);
    else
      snprintf(buf, n, "none yet (goes to %s)", it->path && *it->path ? it->path : ".");
    break;
  case MSG_STATE_CANCELLED:
    snprintf(buf, n, "none (the partial file was deleted)");
    break;
  default: /* failed, timed out: a .part stays only when bytes came and may resume */
    if (it->bytes > 0 && named && it->reason != MSG_REASON_CHECKSUM)
      snprintf(buf, n, "%s.part (kept: a later run resumes it)", it->path);
    else
      snprintf(buf, n, "none");
    break;
  }
}

void detail_draw(struct ui *u, int y, int height, int width)
{
  char title[512], buf[1024], a[64], b[64];
  const struct ui_item *it = model_selected(u);
  if (height <= 0)
    return;
  snprintf(title, sizeof title, " %s %s ", u->utf8 ? "\u25bc" : "v",
           it ? (it->name ? it->name : "?") : "no item");
  draw_put(y, 0, width, THEME_HEADING, title, u->utf8);
  if (!it)
    return;
  int row = y + 1, end = y + height;
  if (row < end) {
    outcome(it, buf, sizeof buf);
    field(u, row++, width, "state", buf);
  }
  if (row < end) {
    file_line(it, buf, sizeof buf);
    field(u, row++, width, "file", buf);
  }
  if (row < end)
    field(u, row++, width, "URL", it->url);
  if (row < end) {
    char t[32];
    snprintf(buf, sizeof buf, "%s of %s", fmt_size(a, sizeof a, it->bytes),
             it->total >= 0 ? fmt_size(t, sizeof t, it->total) : "unknown");
    field(u, row++, width, "bytes", buf);
  }
  if (row < end)
    field(u, row++, width, "limit",
          it->max_speed > 0 ? fmt_speed(a, sizeof a, it->max_speed) : "none");
  if (row < end) {
    snprintf(buf, sizeof buf, "%d (attempt %d)", it->retries,
             it->attempt > 0 ? it->attempt : 1);
    field(u, row++, width, "retries", buf);
  }
  if (row < end) {
    if (it->http)
      snprintf(buf, sizeof buf, "%d", it->http);
    else
      snprintf(buf, sizeof buf, "--");
    if (it->remote_addr) {
      size_t l = strlen(buf);
      snprintf(buf + l, sizeof buf - l, "   from %s", it->remote_addr);
    }
    field(u, row++, width, "HTTP", buf);
  }
  if (row < end)
    field(u, row++, width, "final URL", it->final_url);
  if (row < end) {
    snprintf(buf, sizeof buf, "connect %s   first byte %s", fmt_secs(a, sizeof a, it->t_connect),
             fmt_secs(b, sizeof b, it->t_first_byte));
    field(u, row++, width, "timing", buf);
  }
  if (it->segmented && it->state == MSG_STATE_RUNNING) {
    if (row < end) {
      int bw = width - 15 - 1;
      fmt_segbar(buf, sizeof buf, bw > 0 ? bw : 0, it->segmap, MSG_SEGMAP_CELLS, u->utf8);
      field(u, row++, width, "segments", buf);
    }
    static const char *const words[] = {"connecting", "receiving", "retry wait"};
    for (uint32_t i = 0; i < u->snap.nlegs && i < MSG_SNAP_LEGS && row < end; i++) {
      const struct msg_snap_leg *l = &u->snap.legs[i];
      char label[16], c[32], d[32], sp[32];
      if (l->id != it->id)
        continue;
      snprintf(label, sizeof label, "leg %d", l->index + 1);
      snprintf(buf, sizeof buf, "%s-%s   %s of %s   %s   %s", fmt_size(a, sizeof a, l->start),
               fmt_size(b, sizeof b, l->stop), fmt_size(c, sizeof c, l->pos - l->start),
               fmt_size(d, sizeof d, l->stop - l->start), fmt_speed(sp, sizeof sp, l->speed),
               l->state < 3 ? words[l->state] : "?");
      field(u, row++, width, label, buf);
    }
  }
  while (row < end)
    draw_put(row++, 0, width, THEME_DETAIL, "", u->utf8);
}
