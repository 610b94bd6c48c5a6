/* listview.c - the list of items: one row per item (name, state, bar,
 * percent, done/total, speed, connections of a segmented download, ETA),
 * columns fitted to the width and dropped in order (connections, ETA, bar,
 * speed, size, percent) when it is narrow,
 * the selection kept on its item id and scrolled into view.  Rows follow
 * the display order (sort and filter, see ui.c); in follow mode the view
 * keeps the first running item at its top until the user moves the
 * selection.  Only the visible rows are formatted, so 10,000 items cost
 * no more than 40.  Main thread. */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "ui-int.h"

enum { COL_NAME, COL_STATE, COL_BAR, COL_PCT, COL_SIZE, COL_SPEED, COL_CONN, COL_ETA, NCOLS };

/* Widths and drop ranks: higher ranks go first when space runs out. */
static const struct fmt_col cols_spec[NCOLS] = {
    [COL_NAME] = {.min = 16, .max = 0, .drop = 0, .weight = 3},
    [COL_STATE] = {.min = 11, .max = 11, .drop = 0, .weight = 0},
    [COL_BAR] = {.min = 10, .max = 40, .drop = 5, .weight = 2},
    [COL_PCT] = {.min = 4, .max = 4, .drop = 2, .weight = 0},
    [COL_SIZE] = {.min = 19, .max = 19, .drop = 3, .weight = 0},
    [COL_SPEED] = {.min = 11, .max = 11, .drop = 4, .weight = 0},
    [COL_CONN] = {.min = 3, .max = 3, .drop = 7, .weight = 0},
    [COL_ETA] = {.min = 6, .max = 6, .drop = 6, .weight = 0},
};

static const char *const headings[NCOLS] = {"NAME", "STATE", "PROGRESS", "%",
                                            "DONE/TOTAL", "SPEED", "CON", "ETA"};

int listview_page(const struct ui *u)
{
  return u->list_rows > 1 ? u->list_rows - 1 : 1;
}

int listview_scroll_page(struct ui *u, int dir)
{
  long page = listview_page(u);
  long top = (long)u->top + dir * page;
  long maxtop = (long)model_rows(u) - (long)(u->list_rows > 0 ? u->list_rows : 1);
  if (top > maxtop)
    top = maxtop;
  if (top < 0)
    top = 0;
  /* The view moves a page and the selection moves with it. */
  u->top = (size_t)top;
  return listview_move(u, dir * page) | UI_REDRAW;
}

int listview_move(struct ui *u, long delta)
{
  size_t n = model_rows(u);
  u->follow = 0; /* the user chose where to look */
  if (n == 0)
    return UI_REDRAW;
  long idx = model_row_of(u, u->sel_id);
  if (idx < 0)
    idx = 0;
  else
    idx += delta;
  if (idx < 0)
    idx = 0;
  if (idx >= (long)n)
    idx = (long)n - 1;
  struct ui_item *it = model_row_item(u, (size_t)idx);
  if (it && it->id)
    u->sel_id = it->id;
  return UI_REDRAW;
}

/* Follow mode: the first running item (else the first queued one) in
 * display order, or -1. */
static long follow_row(struct ui *u)
{
  size_t n = model_rows(u);
  long queued = -1;
  for (size_t i = 0; i < n; i++) {
    const struct ui_item *it = model_row_item(u, i);
    if (it->state == MSG_STATE_RUNNING)
      return (long)i;
    if (queued < 0 && (it->state == MSG_STATE_QUEUED || it->state == MSG_STATE_PAUSED))
      queued = (long)i;
  }
  return queued;
}

/* Right-align s in w columns into out. */
static const char *ralign(char *out, size_t n, const char *s, int w, int utf8)
{
  int sw = fmt_width(s);
  if (sw >= w)
    return fmt_fit(out, n, s, w, 1, utf8);
  snprintf(out, n, "%*s%s", w - sw, "", s);
  return out;
}

static void draw_row(struct ui *u, const struct ui_item *it, int y, const int *w, int sel)
{
  char buf[512], tmp[64], tmp2[64];
  int x = 1;
  enum theme_role base = sel ? THEME_SELECTED : THEME_NORMAL;
  for (int c = 0; c < NCOLS; c++) {
    if (w[c] == 0)
      continue;
    enum theme_role role = base;
    const char *text = "";
    switch (c) {
    case COL_NAME:
      text = it->name ? it->name : "?";
      break;
    case COL_STATE:
      if (it->state == MSG_STATE_RUNNING && it->retrying) {
        /* waiting for the next attempt is not running */
        snprintf(tmp2, sizeof tmp2, "retry in %ds", (it->retry_in_ms + 999) / 1000);
        text = tmp2;
        if (!sel)
          role = THEME_PAUSED;
        break;
      }
      text = draw_state_word(it->state);
      if (!sel)
        role = draw_state_role(it->state);
      break;
    case COL_BAR: {
      double frac = -1;
      if (it->state == MSG_STATE_DONE)
        frac = 1;
      else if (it->total > 0)
        frac = (double)it->bytes / (double)it->total;
      else if (it->total == 0)
        frac = 1;
      fmt_bar(buf, sizeof buf, w[c], frac, u->utf8);
      /* The empty track in its own colour shows where the bar ends. */
      draw_put(y, x, w[c], sel ? THEME_SELECTED : THEME_BAR_EMPTY, "", u->utf8);
      draw_put(y, x, w[c], sel ? THEME_SELECTED : THEME_BAR, buf, u->utf8);
      x += w[c] + 1;
      continue;
    }
    case COL_PCT:
      if (it->state == MSG_STATE_QUEUED && it->bytes == 0 && it->total < 0)
        break; /* nothing known yet: leave the columns empty */
      text = ralign(buf, sizeof buf,
                    it->state == MSG_STATE_DONE ? "100%"
                                                : fmt_percent(tmp, sizeof tmp, it->bytes,
                                                              it->total),
                    w[c], u->utf8);
      break;
    case COL_SIZE:
      if (it->state == MSG_STATE_QUEUED && it->bytes == 0 && it->total < 0)
        break;
      if (it->total >= 0) {
        char t2[32];
        snprintf(tmp2, sizeof tmp2, "%s/%s", fmt_size(tmp, sizeof tmp, it->bytes),
                 fmt_size(t2, sizeof t2, it->total));
      } else {
        snprintf(tmp2, sizeof tmp2, "%s/?", fmt_size(tmp, sizeof tmp, it->bytes));
      }
      text = ralign(buf, sizeof buf, tmp2, w[c], u->utf8);
      break;
    case COL_SPEED:
      if (it->state == MSG_STATE_RUNNING && it->retrying) {
        /* the reason it waits, where a failure's reason goes */
        snprintf(tmp2, sizeof tmp2, "%s",
                 msg_reason_key((enum msg_reason)it->retry_reason, it->http, tmp));
        if (!sel)
          role = THEME_PAUSED;
      } else if (it->state == MSG_STATE_RUNNING) {
        fmt_speed(tmp2, sizeof tmp2, it->speed);
      } else if (it->state == MSG_STATE_FAILED || it->state == MSG_STATE_TIMED_OUT ||
                 it->state == MSG_STATE_SKIPPED) {
        /* the key is tmp for http_NNN, else a static string */
        snprintf(tmp2, sizeof tmp2, "%s",
                 msg_reason_key((enum msg_reason)it->reason, it->http, tmp));
        if (!sel)
          role = draw_state_role(it->state);
      } else {
        tmp2[0] = '\0';
      }
      text = ralign(buf, sizeof buf, tmp2, w[c], u->utf8);
      break;
    case COL_CONN: /* a segmented download's connections receiving now */
      if (it->state == MSG_STATE_RUNNING && it->connections > 1)
        snprintf(tmp2, sizeof tmp2, "%s%d", u->utf8 ? "\u00d7" : "x", it->connections);
      else
        tmp2[0] = '\0';
      text = ralign(buf, sizeof buf, tmp2, w[c], u->utf8);
      break;
    case COL_ETA:
      if (it->state == MSG_STATE_RUNNING && !it->retrying)
        fmt_eta(tmp2, sizeof tmp2, fmt_eta_seconds(it->bytes, it->total, it->speed));
      else
        tmp2[0] = '\0';
      text = ralign(buf, sizeof buf, tmp2, w[c], u->utf8);
      break;
    }
    draw_put(y, x, w[c], role, text, u->utf8);
    x += w[c] + 1;
  }
}

void listview_draw(struct ui *u, int y, int height, int width)
{
  int w[NCOLS];
  if (height < 1 || width < 4)
    return;
  fmt_fit_columns(cols_spec, NCOLS, width - 2, 1, w);
  /* Headings. */
  draw_put(y, 0, width, THEME_HEADING, "", u->utf8);
  int x = 1;
  for (int c = 0; c < NCOLS; c++) {
    if (!w[c])
      continue;
    char buf[64];
    const char *h = headings[c];
    if (c == COL_PCT || c == COL_SIZE || c == COL_SPEED || c == COL_ETA)
      h = ralign(buf, sizeof buf, h, w[c], u->utf8);
    draw_put(y, x, w[c], THEME_HEADING, h, u->utf8);
    x += w[c] + 1;
  }
  int rows = height - 1;
  u->list_rows = rows;
  if (rows < 1)
    return;
  size_t n = model_rows(u);
  if (n == 0) {
    draw_put(y + 1, 1, width - 2, THEME_LABEL,
           u->nitems == 0 ? "Nothing queued yet. Press a to add a URL, ? for help."
                          : "No item matches the filter (f and / change it).",
           u->utf8);
    return;
  }
  long sel = model_row_of(u, u->sel_id);
  if (u->follow) {
    long f = follow_row(u);
    if (f >= 0) {
      sel = f;
      u->sel_id = model_row_item(u, (size_t)f)->id;
      u->top = (size_t)f; /* the running ones start at the top */
    }
  }
  if (sel < 0) {
    /* the selected item was filtered out: select the first row shown */
    sel = (long)(u->top < n ? u->top : 0);
    u->sel_id = model_row_item(u, (size_t)sel)->id;
  }
  if ((size_t)sel < u->top)
    u->top = (size_t)sel;
  if ((size_t)sel >= u->top + (size_t)rows)
    u->top = (size_t)sel - (size_t)rows + 1;
  if (n > (size_t)rows && u->top > n - (size_t)rows)
    u->top = n - (size_t)rows;
  if (n <= (size_t)rows)
    u->top = 0;
  for (int r = 0; r < rows && u->top + (size_t)r < n; r++) {
    size_t i = u->top + (size_t)r;
    const struct ui_item *it = model_row_item(u, i);
    int is_sel = i == (size_t)sel;
    if (is_sel)
      draw_put(y + 1 + r, 0, width, THEME_SELECTED, "", u->utf8);
    if (!it->id)
      continue;
    draw_row(u, it, y + 1 + r, w, is_sel);
  }
}
