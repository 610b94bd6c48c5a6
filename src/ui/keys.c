/* keys.c - the one key table: every key of the list view with its name and
 * help text and the handler it runs.  Handlers send commands through the
 * mailbox and return a redraw mask; they never paint.  The ? overlay and
 * the bottom-line hint are generated from the same table.  Main thread. */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "ui-int.h"

static int k_down(struct ui *u) { return listview_move(u, 1); }
static int k_up(struct ui *u) { return listview_move(u, -1); }
static int k_pgdn(struct ui *u) { return listview_scroll_page(u, 1); }
static int k_pgup(struct ui *u) { return listview_scroll_page(u, -1); }
static int k_home(struct ui *u) { return listview_move(u, -(long)u->nitems); }
static int k_end(struct ui *u) { return listview_move(u, (long)u->nitems); }

/* p: pause what runs or waits, resume what is paused. */
static int k_pause(struct ui *u)
{
  struct ui_item *it = model_selected(u);
  if (!it)
    return 0;
  if (it->state == MSG_STATE_PAUSED)
    mbox_send(u->mb, MSG_CMD_RESUME, it->id, 0, NULL);
  else if (it->state == MSG_STATE_RUNNING || it->state == MSG_STATE_QUEUED)
    mbox_send(u->mb, MSG_CMD_PAUSE, it->id, 0, NULL);
  else
    ui_set_status(u, "%s is %s: nothing to pause", it->name, draw_state_word(it->state));
  return UI_REDRAW;
}

/* P: pause every running item if any runs, else resume every paused one. */
static int k_pause_all(struct ui *u)
{
  struct model_counts c;
  model_counts(u, &c);
  if (c.n[MSG_STATE_RUNNING] > 0)
    mbox_send(u->mb, MSG_CMD_PAUSE_ALL, 0, 0, NULL);
  else
    mbox_send(u->mb, MSG_CMD_RESUME_ALL, 0, 0, NULL);
  return UI_REDRAW;
}

static int k_cancel(struct ui *u)
{
  struct ui_item *it = model_selected(u);
  if (!it)
    return 0;
  if (it->state >= MSG_STATE_DONE) {
    ui_set_status(u, "%s is already %s", it->name, draw_state_word(it->state));
    return UI_REDRAW;
  }
  prompt_ask(u, UI_CONFIRM_CANCEL, it->id);
  return UI_REDRAW;
}

static int k_retry(struct ui *u)
{
  struct ui_item *it = model_selected(u);
  if (!it)
    return 0;
  if (it->state == MSG_STATE_FAILED || it->state == MSG_STATE_TIMED_OUT ||
      it->state == MSG_STATE_CANCELLED)
    mbox_send(u->mb, MSG_CMD_RETRY, it->id, 0, NULL);
  else
    ui_set_status(u, "only a failed, timed-out or cancelled item can be retried");
  return UI_REDRAW;
}

/* +/-: the engine's current limit is in the snapshot; send the new one. */
static int concurrency_by(struct ui *u, int delta)
{
  int cur = u->have_snap && u->snap.concurrency > 0 ? u->snap.concurrency : 1;
  int next = cur + delta;
  if (next < 1)
    next = 1;
  if (next == cur)
    return 0;
  mbox_send(u->mb, MSG_CMD_SET_CONCURRENCY, 0, next, NULL);
  /* Show it at once; the next snapshot confirms the engine's value. */
  u->snap.concurrency = next;
  return UI_REDRAW;
}
/* "scheme://host:port" of a URL the way the engine keys its hosts
 * (lower case, default port filled in), to find an item's host in the
 * snapshot. */
static void host_key(const char *url, char *key, size_t n)
{
  const char *sep = url ? strstr(url, "://") : NULL;
  if (!sep) {
    snprintf(key, n, "?");
    return;
  }
  size_t sl = (size_t)(sep - url);
  const char *auth = sep + 3;
  size_t alen = strcspn(auth, "/?#");
  const char *at = NULL;
  for (const char *p = auth; p < auth + alen; p++)
    if (*p == '@')
      at = p;
  const char *host = at ? at + 1 : auth, *end = auth + alen;
  const char *colon = NULL;
  if (host < end && host[0] == '[') { /* [v6]:port */
    const char *rb = memchr(host, ']', (size_t)(end - host));
    colon = rb && rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
  } else {
    colon = memchr(host, ':', (size_t)(end - host));
  }
  const char *hend = colon ? colon : end;
  const char *port = colon ? colon + 1 : (sl == 5 ? "443" : "80");
  int plen = colon ? (int)(end - colon - 1) : (int)strlen(port);
  snprintf(key, n, "%.*s://%.*s:%.*s", (int)sl, url, (int)(hend - host), host, plen, port);
  for (char *c = key; *c; c++)
    if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c - 'A' + 'a');
}

/* After +: when a free slot still cannot start anything, say why (the
 * limit of the waiting items' hosts, or of the pool). */
static void why_no_start(struct ui *u, int limit)
{
  const struct msg_snapshot *s = &u->snap;
  struct model_counts c;
  model_counts(u, &c);
  if (!u->have_snap || (size_t)limit <= c.n[MSG_STATE_RUNNING])
    return; /* no free slot yet: nothing to explain */
  if (c.n[MSG_STATE_QUEUED] == 0) {
    ui_set_status(u, "concurrency %d: nothing is waiting to start", limit);
    return;
  }
  if (s->pool_max > 0 && s->pool_in_use >= s->pool_max) {
    ui_set_status(u, "the pool is full (--max-connections %d): no more can start",
                  (int)s->pool_max);
    return;
  }
  uint32_t nh = s->nhosts <= MSG_SNAP_HOSTS ? s->nhosts : MSG_SNAP_HOSTS;
  const struct msg_snap_host *full = NULL;
  for (size_t i = 0; i < u->nitems; i++) {
    const struct ui_item *it = &u->items[i];
    if (!it->id || it->state != MSG_STATE_QUEUED)
      continue;
    char key[MSG_HOST_KEY + 1];
    host_key(it->url, key, sizeof key);
    const struct msg_snap_host *h = NULL;
    for (uint32_t k = 0; k < nh && !h; k++)
      if (!strncmp(s->hosts[k].key, key, MSG_HOST_KEY))
        h = &s->hosts[k];
    if (!h || h->limit <= 0 || h->in_use < h->limit)
      return; /* this one can start */
    full = h;
  }
  if (full) {
    char key[MSG_HOST_KEY + 1];
    memcpy(key, full->key, MSG_HOST_KEY);
    key[MSG_HOST_KEY] = '\0';
    ui_set_status(u, "%s is at its --per-host limit of %d: no more can start",
                  strncmp(key, "http://", 7) ? key : key + 7, (int)full->limit);
  }
}

static int k_more(struct ui *u)
{
  int mask = concurrency_by(u, 1);
  why_no_start(u, u->snap.concurrency);
  return mask | UI_REDRAW;
}
static int k_less(struct ui *u) { return concurrency_by(u, -1); }

/* R: every failed and timed-out item again (cancelled ones stay: the user
 * cancelled them one by one). */
static int k_retry_all(struct ui *u)
{
  size_t n = 0;
  for (size_t i = 0; i < u->nitems; i++) {
    const struct ui_item *it = &u->items[i];
    if (it->id && (it->state == MSG_STATE_FAILED || it->state == MSG_STATE_TIMED_OUT)) {
      mbox_send(u->mb, MSG_CMD_RETRY, it->id, 0, NULL);
      n++;
    }
  }
  if (n)
    ui_set_status(u, "retrying %zu failed and timed-out item%s", n, n == 1 ? "" : "s");
  else
    ui_set_status(u, "nothing failed or timed out to retry");
  return UI_REDRAW;
}

static int k_sort(struct ui *u)
{
  u->sort = (enum ui_sort)((u->sort + 1) % UI_SORT_COUNT);
  u->order_dirty = 1;
  ui_set_status(u, "sorted by %s", model_sort_word(u->sort));
  return UI_REDRAW;
}

static int k_show(struct ui *u)
{
  u->show = (enum ui_show)((u->show + 1) % UI_SHOW_COUNT);
  u->order_dirty = 1;
  u->top = 0;
  ui_set_status(u, "showing %s items", model_show_word(u->show));
  return UI_REDRAW;
}

static int k_filter(struct ui *u)
{
  prompt_filter_open(u);
  return UI_REDRAW;
}

static int k_follow(struct ui *u)
{
  u->follow = !u->follow;
  ui_set_status(u, u->follow ? "following the running items" : "not following");
  return UI_REDRAW;
}

/* l: the whole run's speed limit; L: the selected item's. */
static int k_limit_run(struct ui *u)
{
  prompt_limit_open(u, 0);
  return UI_REDRAW;
}

static int k_limit_item(struct ui *u)
{
  struct ui_item *it = model_selected(u);
  if (!it)
    return 0;
  if (it->state >= MSG_STATE_DONE) {
    ui_set_status(u, "%s is %s: no limit to set", it->name, draw_state_word(it->state));
    return UI_REDRAW;
  }
  prompt_limit_open(u, it->id);
  return UI_REDRAW;
}

static int k_detail(struct ui *u)
{
  u->detail = !u->detail;
  return UI_REDRAW;
}

static int k_add(struct ui *u)
{
  prompt_add_open(u);
  return UI_REDRAW;
}

static int k_help(struct ui *u)
{
  u->mode = UI_MODE_HELP;
  u->help_top = 0;
  return UI_REDRAW;
}

static int k_quit(struct ui *u)
{
  if (model_unfinished(u)) {
    prompt_ask(u, UI_CONFIRM_QUIT, 0);
  } else {
    u->quit = 1;
    u->status_130 = 0;
  }
  return UI_REDRAW;
}

/* Esc closes the pane and clears a note. */
static int k_escape(struct ui *u)
{
  u->detail = 0;
  u->status[0] = '\0';
  return UI_REDRAW;
}

/* ^L: repaint from scratch, as in every curses program. */
static int k_redraw(struct ui *u)
{
  (void)u;
  return UI_CLEAR;
}

struct key_binding {
  int code;          /* 1: a curses KEY_* code, 0: a character */
  wint_t key;
  const char *name;  /* as shown in help */
  const char *help;  /* NULL: an alias shown on the line of the entry before */
  int (*fn)(struct ui *u);
};

static const struct key_binding keys[] = {
    {0, L'j', "j", "select the next item", k_down},
    {1, KEY_DOWN, "\u2193", NULL, k_down},
    {0, L'k', "k", "select the previous item", k_up},
    {1, KEY_UP, "\u2191", NULL, k_up},
    {1, KEY_NPAGE, "PgDn", "a page down", k_pgdn},
    {0, L' ', "Space", NULL, k_pgdn},
    {1, KEY_PPAGE, "PgUp", "a page up", k_pgup},
    {1, KEY_HOME, "Home", "the first item", k_home},
    {0, L'g', "g", NULL, k_home},
    {1, KEY_END, "End", "the last item", k_end},
    {0, L'G', "G", NULL, k_end},
    {0, L'p', "p", "pause or resume the selected item", k_pause},
    {0, L'P', "P", "pause all running items, or resume all paused ones", k_pause_all},
    {0, L'c', "c", "cancel the selected item (asks y/n, deletes its .part)", k_cancel},
    {0, L'r', "r", "retry a failed, timed-out or cancelled item", k_retry},
    {0, L'R', "R", "retry every failed and timed-out item", k_retry_all},
    {0, L'+', "+", "one more transfer at once", k_more},
    {0, L'=', "=", NULL, k_more},
    {0, L'-', "-", "one fewer (running ones finish)", k_less},
    {0, L'l', "l", "speed limit of the whole run (2M, 500K, 0 = none)", k_limit_run},
    {0, L'L', "L", "speed limit of the selected item", k_limit_item},
    {0, L'\r', "Enter", "show or hide the detail pane", k_detail},
    {0, L'\n', "Enter", NULL, k_detail},
    {1, KEY_ENTER, "Enter", NULL, k_detail},
    {0, L's', "s", "sort: queue order, state, progress, speed, name", k_sort},
    {0, L'/', "/", "filter by text in the name or URL (Esc: back)", k_filter},
    {0, L'f', "f", "show: all, active, failed, done items", k_show},
    {0, L'F', "F", "follow the running items (moving stops it)", k_follow},
    {0, L'a', "a", "add a URL (a name after a space: save as)", k_add},
    {0, L'?', "?", "this help", k_help},
    {0, L'q', "q", "quit (partial files are kept for resume)", k_quit},
    {0, 27, "Esc", "close the detail pane", k_escape},
    {0, 12, "^L", "redraw the screen", k_redraw},
};

enum { NKEYS = sizeof keys / sizeof keys[0] };

int keys_dispatch(struct ui *u, int is_code, wint_t ch)
{
  for (size_t i = 0; i < NKEYS; i++)
    if (keys[i].code == is_code && keys[i].key == ch) {
      /* A key press acknowledges the last note. */
      u->status[0] = '\0';
      return keys[i].fn(u) | UI_REDRAW;
    }
  return 0;
}

const char *keys_hint(void)
{
  return "? help  q quit  p pause  r retry  s sort  / filter  a add";
}

/* The help's lines: one per key of the table (aliases joined), then notes. */
static const char *const help_notes[] = {
    "",
    "Follow mode keeps the running items in view; moving the selection",
    "turns it off, F turns it back on.  The bottom line says which rows",
    "of how many are shown, and the sort and filter in force.",
};
enum { NNOTES = sizeof help_notes / sizeof help_notes[0] };

static int help_lines(void)
{
  int lines = 0;
  for (size_t i = 0; i < NKEYS; i++)
    if (keys[i].help)
      lines++;
  return lines + NNOTES;
}

/* Line i of the help, into buf; the key names (for their colour) in names. */
static void help_line(int i, char *buf, size_t n, char *names, size_t nn, int utf8)
{
  names[0] = buf[0] = '\0';
  for (size_t k = 0; k < NKEYS; k++) {
    if (!keys[k].help || i-- > 0)
      continue;
    /* Gather the aliases that follow, skipping repeated names. */
    char all[64];
    snprintf(all, sizeof all, "%s", keys[k].name);
    for (size_t j = k + 1; j < NKEYS && !keys[j].help; j++) {
      if (strstr(all, keys[j].name))
        continue;
      size_t l = strlen(all);
      snprintf(all + l, sizeof all - l, " %s", keys[j].name);
    }
    fmt_fit(names, nn, all, 12, 1, utf8);
    snprintf(buf, n, "  %s %s", names, keys[k].help);
    return;
  }
  if (i >= 0 && i < (int)NNOTES)
    snprintf(buf, n, "  %s", help_notes[i]);
}

/* Lines of the help that fit at once, as last drawn. */
static int help_page = 1;

void keys_help_draw(struct ui *u, int rows, int cols)
{
  char line[512], names[128];
  int lines = help_lines();
  int h = lines + 4, w = 74;
  if (w > cols - 2)
    w = cols - 2;
  if (h > rows - 1)
    h = rows - 1;
  if (w < 20 || h < 5)
    return;
  int page = h - 3; /* title, blank line, footer */
  help_page = page;
  if (u->help_top > lines - page)
    u->help_top = lines - page;
  if (u->help_top < 0)
    u->help_top = 0;
  int y0 = (rows - h) / 2, x0 = (cols - w) / 2;
  draw_put(y0, x0, w, THEME_HELP, " Keys", u->utf8);
  draw_put(y0 + 1, x0, w, THEME_HELP, "", u->utf8);
  for (int r = 0; r < page; r++) {
    int i = u->help_top + r;
    if (i >= lines) {
      draw_put(y0 + 2 + r, x0, w, THEME_HELP, "", u->utf8);
      continue;
    }
    help_line(i, line, sizeof line, names, sizeof names, u->utf8);
    draw_put(y0 + 2 + r, x0, w, THEME_HELP, line, u->utf8);
    if (names[0])
      draw_put(y0 + 2 + r, x0 + 2, 12, THEME_KEY, names, u->utf8);
  }
  if (page >= lines) {
    snprintf(line, sizeof line, "  any key closes this help");
  } else {
    int last = u->help_top + page < lines ? u->help_top + page : lines;
    snprintf(line, sizeof line, "  lines %d-%d of %d  j k Space PgUp: scroll  q: close",
             u->help_top + 1, last, lines);
  }
  draw_put(y0 + h - 1, x0, w, THEME_HELP, line, u->utf8);
}

int keys_help_key(struct ui *u, int is_code, wint_t ch)
{
  int lines = help_lines(), before = u->help_top;
  if (help_page >= lines) {
    u->mode = UI_MODE_LIST; /* it all fits: any key closes it */
    return UI_REDRAW;
  }
  if ((is_code && ch == KEY_DOWN) || (!is_code && ch == L'j'))
    u->help_top++;
  else if ((is_code && ch == KEY_UP) || (!is_code && ch == L'k'))
    u->help_top--;
  else if ((is_code && ch == KEY_NPAGE) || (!is_code && ch == L' '))
    u->help_top += help_page;
  else if ((is_code && ch == KEY_PPAGE) || (!is_code && ch == L'b'))
    u->help_top -= help_page;
  else if ((is_code && ch == KEY_HOME) || (!is_code && ch == L'g'))
    u->help_top = 0;
  else if ((is_code && ch == KEY_END) || (!is_code && ch == L'G'))
    u->help_top = lines;
  else {
    u->mode = UI_MODE_LIST;
    return UI_REDRAW;
  }
  /* keys_help_draw clamps; a page down past the end closes nothing */
  if (u->help_top > lines - help_page)
    u->help_top = lines - help_page;
  if (u->help_top < 0)
    u->help_top = 0;
  return u->help_top != before ? UI_REDRAW : 0;
}
