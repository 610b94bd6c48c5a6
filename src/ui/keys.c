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
  struct ui_item *it = ui_selected(u);
  if (!it)
    return 0;
  if (it->state == MSG_STATE_PAUSED)
    mbox_send(u->mb, MSG_CMD_RESUME, it->id, 0, NULL);
  else if (it->state == MSG_STATE_RUNNING || it->state == MSG_STATE_QUEUED)
    mbox_send(u->mb, MSG_CMD_PAUSE, it->id, 0, NULL);
  else
    ui_set_status(u, "%s is %s: nothing to pause", it->name, ui_state_word(it->state));
  return UI_REDRAW;
}

/* P: pause every running item if any runs, else resume every paused one. */
static int k_pause_all(struct ui *u)
{
  struct ui_counts c;
  ui_counts(u, &c);
  if (c.n[MSG_STATE_RUNNING] > 0)
    mbox_send(u->mb, MSG_CMD_PAUSE_ALL, 0, 0, NULL);
  else
    mbox_send(u->mb, MSG_CMD_RESUME_ALL, 0, 0, NULL);
  return UI_REDRAW;
}

static int k_cancel(struct ui *u)
{
  struct ui_item *it = ui_selected(u);
  if (!it)
    return 0;
  if (it->state >= MSG_STATE_DONE) {
    ui_set_status(u, "%s is already %s", it->name, ui_state_word(it->state));
    return UI_REDRAW;
  }
  prompt_ask(u, UI_CONFIRM_CANCEL, it->id);
  return UI_REDRAW;
}

static int k_retry(struct ui *u)
{
  struct ui_item *it = ui_selected(u);
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
static int k_more(struct ui *u) { return concurrency_by(u, 1); }
static int k_less(struct ui *u) { return concurrency_by(u, -1); }

/* l: the whole run's speed limit; L: the selected item's. */
static int k_limit_run(struct ui *u)
{
  prompt_limit_open(u, 0);
  return UI_REDRAW;
}

static int k_limit_item(struct ui *u)
{
  struct ui_item *it = ui_selected(u);
  if (!it)
    return 0;
  if (it->state >= MSG_STATE_DONE) {
    ui_set_status(u, "%s is %s: no limit to set", it->name, ui_state_word(it->state));
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
  return UI_REDRAW;
}

static int k_quit(struct ui *u)
{
  if (ui_unfinished(u)) {
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
    {0, L'+', "+", "one more transfer at once", k_more},
    {0, L'=', "=", NULL, k_more},
    {0, L'-', "-", "one fewer (running ones finish)", k_less},
    {0, L'l', "l", "speed limit of the whole run (2M, 500K, 0 = none)", k_limit_run},
    {0, L'L', "L", "speed limit of the selected item", k_limit_item},
    {0, L'\r', "Enter", "show or hide the detail pane", k_detail},
    {0, L'\n', "Enter", NULL, k_detail},
    {1, KEY_ENTER, "Enter", NULL, k_detail},
    {0, L'a', "a", "add a URL", k_add},
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
  return "? help  p pause  c cancel  r retry  +/- concurrency  a add  q quit";
}

void keys_help_draw(struct ui *u, int rows, int cols)
{
  char line[512], names[64];
  int lines = 0;
  for (size_t i = 0; i < NKEYS; i++)
    if (keys[i].help)
      lines++;
  int h = lines + 4, w = 72;
  if (w > cols - 2)
    w = cols - 2;
  if (h > rows - 1)
    h = rows - 1;
  if (w < 20 || h < 4)
    return;
  int y0 = (rows - h) / 2, x0 = (cols - w) / 2;
  ui_put(y0, x0, w, THEME_HELP, " Keys", u->utf8);
  int y = y0 + 1;
  ui_put(y++, x0, w, THEME_HELP, "", u->utf8);
  for (size_t i = 0; i < NKEYS && y < y0 + h - 2; i++) {
    if (!keys[i].help)
      continue;
    /* Gather the aliases that follow, skipping repeated names. */
    snprintf(names, sizeof names, "%s", keys[i].name);
    for (size_t j = i + 1; j < NKEYS && !keys[j].help; j++) {
      if (strstr(names, keys[j].name))
        continue;
      size_t l = strlen(names);
      snprintf(names + l, sizeof names - l, " %s", keys[j].name);
    }
    char fitted[128];
    fmt_fit(fitted, sizeof fitted, names, 12, 1, u->utf8);
    snprintf(line, sizeof line, "  %s %s", fitted, keys[i].help);
    ui_put(y, x0, w, THEME_HELP, line, u->utf8);
    ui_put(y, x0 + 2, 12, THEME_KEY, fitted, u->utf8);
    y++;
  }
  while (y < y0 + h - 1)
    ui_put(y++, x0, w, THEME_HELP, "", u->utf8);
  ui_put(y0 + h - 1, x0, w, THEME_HELP, "  any key closes this help", u->utf8);
}
