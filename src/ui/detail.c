/* detail.c - the detail pane (Enter): URL, final URL after redirects, HTTP
 * status, remote address, time to connect and to first byte, retries, the
 * reason in words, and where the file goes, for the selected item; for a
 * segmented download also the file as a one-line map (received parts
 * filled) and each connection: range, bytes, speed, state.  The strings
 * come from MSG_EV_DETAIL and the final events, the map and the legs from
 * the snapshot.  Main thread. */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "ui-int.h"

enum { DETAIL_LINES = 9 };

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
  ui_put(y, 0, width, THEME_DETAIL, "", u->utf8);
  ui_put(y, 1, LW, THEME_DETAIL_LABEL, label, u->utf8);
  if (width > LW + 2)
    ui_put(y, LW + 2, width - LW - 2, THEME_DETAIL, value && *value ? value : "--",
           u->utf8);
}

/* The outcome in words: state, reason key and text, and the message. */
static void outcome(const struct ui_item *it, char *buf, size_t n)
{
  char key[16];
  enum msg_reason r = (enum msg_reason)it->reason;
  if (it->state == MSG_STATE_RUNNING && it->retrying) {
    r = (enum msg_reason)it->retry_reason;
    snprintf(buf, n, "retrying in %ds after %s: %s%s%s", (it->retry_in_ms + 999) / 1000,
             msg_reason_key(r, it->http, key), msg_reason_text(r),
             it->message ? " - " : "", it->message ? it->message : "");
  } else if (r != MSG_REASON_NONE) {
    snprintf(buf, n, "%s: %s (%s)%s%s", ui_state_word(it->state), msg_reason_text(r),
             msg_reason_key(r, it->http, key), it->message ? " - " : "",
             it->message ? it->message : "");
  } else {
    snprintf(buf, n, "%s%s%s", ui_state_word(it->state), it->message ? " - " : "",
             it->message ? it->message : "");
  }
}

void detail_draw(struct ui *u, int y, int height, int width)
{
  char title[512], buf[1024], a[64], b[64];
  const struct ui_item *it = ui_selected(u);
  if (height <= 0)
    return;
  snprintf(title, sizeof title, " %s %s ", u->utf8 ? "\u25bc" : "v",
           it ? (it->name ? it->name : "?") : "no item");
  ui_put(y, 0, width, THEME_HEADING, title, u->utf8);
  if (!it)
    return;
  int row = y + 1, end = y + height;
  if (row < end)
    field(u, row++, width, "URL", it->url);
  if (row < end)
    field(u, row++, width, "final URL", it->final_url);
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
  if (row < end) {
    snprintf(buf, sizeof buf, "connect %s   first byte %s", fmt_secs(a, sizeof a, it->t_connect),
             fmt_secs(b, sizeof b, it->t_first_byte));
    field(u, row++, width, "timing", buf);
  }
  if (row < end) {
    snprintf(buf, sizeof buf, "%d (attempt %d)", it->retries,
             it->attempt > 0 ? it->attempt : 1);
    field(u, row++, width, "retries", buf);
  }
  if (row < end) {
    outcome(it, buf, sizeof buf);
    field(u, row++, width, "state", buf);
  }
  if (row < end) {
    char t[32];
    snprintf(buf, sizeof buf, "%s of %s", fmt_size(a, sizeof a, it->bytes),
             it->total >= 0 ? fmt_size(t, sizeof t, it->total) : "unknown");
    field(u, row++, width, "bytes", buf);
  }
  if (row < end)
    field(u, row++, width, "file", it->path);
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
    ui_put(row++, 0, width, THEME_DETAIL, "", u->utf8);
}
