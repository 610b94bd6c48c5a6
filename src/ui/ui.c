/* ui.c - the interactive screen's loop: poll() on the keyboard, the
 * mailbox's wake fd and a self-pipe for signals; apply events and the
 * newest snapshot to the screen's own item table; paint at most once per
 * ~100 ms frame and block when nothing changes.  Owns the terminal: it is
 * restored on every way out (normal quit, SIGINT/SIGTERM/SIGHUP, exit(),
 * and a crash).  Runs on the main thread; never calls curl or libuv.
 */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <term.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "siphon/ui.h"
#include "siphon/xalloc.h"
#include "theme.h"
#include "ui-int.h"

enum { FRAME_MS = 100 };

/* Signal plumbing: handlers only write a byte; the loop does the work. */
static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t curses_on;
static struct termios saved_tio;
static int saved_tio_ok;
static char crash_reset[128]; /* leave alternate screen, show cursor */
static size_t crash_reset_len;

static void on_signal(int sig)
{
  int e = errno;
  char c = sig == SIGWINCH ? 'W' : 'Q';
  if (sig_pipe[1] >= 0 && write(sig_pipe[1], &c, 1) < 0) {
    /* full pipe: a byte is already pending, which is all we need */
  }
  errno = e;
}

/* A crash must not leave the terminal raw: only async-signal-safe calls. */
static void on_crash(int sig)
{
  if (curses_on) {
    if (saved_tio_ok)
      tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
    if (crash_reset_len && write(STDOUT_FILENO, crash_reset, crash_reset_len) < 0) {
      /* nothing more can be done */
    }
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

static void restore_terminal(void)
{
  if (curses_on) {
    curses_on = 0;
    endwin();
  }
}

int64_t ui_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *ui_state_word(enum msg_state s)
{
  return s == MSG_STATE_TIMED_OUT ? "timed out" : msg_state_word(s);
}

enum theme_role ui_state_role(enum msg_state s)
{
  static const enum theme_role roles[MSG_STATE_COUNT] = {
      [MSG_STATE_QUEUED] = THEME_QUEUED,       [MSG_STATE_RUNNING] = THEME_RUNNING,
      [MSG_STATE_PAUSED] = THEME_PAUSED,       [MSG_STATE_DONE] = THEME_DONE,
      [MSG_STATE_FAILED] = THEME_FAILED,       [MSG_STATE_TIMED_OUT] = THEME_TIMED_OUT,
      [MSG_STATE_CANCELLED] = THEME_CANCELLED, [MSG_STATE_SKIPPED] = THEME_SKIPPED};
  return (unsigned)s < MSG_STATE_COUNT ? roles[s] : THEME_NORMAL;
}

void ui_counts(const struct ui *u, struct ui_counts *c)
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

int ui_unfinished(const struct ui *u)
{
  for (size_t i = 0; i < u->nitems; i++) {
    enum msg_state s = u->items[i].state;
    if (u->items[i].id &&
        (s == MSG_STATE_QUEUED || s == MSG_STATE_RUNNING || s == MSG_STATE_PAUSED))
      return 1;
  }
  return 0;
}

const char *ui_sort_word(enum ui_sort s)
{
  static const char *const w[UI_SORT_COUNT] = {"queue order", "state", "progress", "speed",
                                               "name"};
  return (unsigned)s < UI_SORT_COUNT ? w[s] : "?";
}

const char *ui_show_word(enum ui_show s)
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

void ui_order(struct ui *u)
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

size_t ui_rows(struct ui *u)
{
  ui_order(u);
  return u->order ? u->norder : u->nitems;
}

struct ui_item *ui_row_item(struct ui *u, size_t i)
{
  ui_order(u);
  if (u->order)
    return i < u->norder ? &u->items[u->order[i]] : NULL;
  return i < u->nitems ? &u->items[i] : NULL;
}

long ui_row_of(struct ui *u, uint32_t id)
{
  ui_order(u);
  if (!id || id > u->nitems)
    return -1;
  if (!u->order)
    return (long)id - 1;
  for (size_t i = 0; i < u->norder; i++)
    if (u->order[i] == id - 1)
      return (long)i;
  return -1;
}

struct ui_item *ui_selected(struct ui *u)
{
  if (!u->sel_id || u->sel_id > u->nitems || !u->items[u->sel_id - 1].id)
    return NULL;
  return &u->items[u->sel_id - 1];
}

void ui_set_status(struct ui *u, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(u->status, sizeof u->status, fmt, ap);
  va_end(ap);
}

static void set_str(char **dst, const char *src)
{
  if (!src)
    return;
  free(*dst);
  *dst = xstrdup(src);
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
static void apply_event(struct ui *u, const struct msg_event *ev)
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
    it->state = MSG_STATE_QUEUED;
    set_str(&it->name, ev->name);
    set_str(&it->url, ev->url);
    if (ev->path) {
      set_str(&it->path, ev->path);
      it->file_path = 0;
    }
    if (!it->name)
      it->name = xstrdup(ev->url ? ev->url : "?");
    if (!u->sel_id)
      u->sel_id = it->id;
    break;
  case MSG_EV_START:
    if (it->state != MSG_STATE_RUNNING) {
      it->reason = MSG_REASON_NONE;
      free(it->message);
      it->message = NULL;
    }
    it->state = MSG_STATE_RUNNING;
    it->attempt = ev->attempt;
    it->retrying = 0;
    break;
  case MSG_EV_PAUSED:
    it->state = MSG_STATE_PAUSED;
    it->speed = 0;
    it->retrying = 0;
    if (ev->message)
      ui_set_status(u, "%s: %s", it->name, ev->message);
    break;
  case MSG_EV_RESUMED:
    /* Waiting for a slot until START says otherwise (SPEC: shows queued). */
    it->state = MSG_STATE_QUEUED;
    break;
  case MSG_EV_RETRY:
    it->retries++;
    it->attempt = ev->attempt;
    it->retrying = 1;
    it->retry_in_ms = (int32_t)ev->delay_ms;
    it->retry_reason = ev->reason;
    it->http = ev->http ? ev->http : it->http;
    it->speed = 0;
    set_str(&it->message, ev->message);
    break;
  case MSG_EV_DONE:
    it->state = MSG_STATE_DONE;
    it->bytes = ev->bytes;
    if (it->total < 0 || it->total < ev->bytes)
      it->total = ev->bytes;
    it->seconds = ev->seconds;
    it->http = ev->http ? ev->http : it->http;
    it->speed = 0;
    it->retrying = 0;
    set_str(&it->path, ev->path);
    it->file_path |= ev->path != NULL;
    break;
  case MSG_EV_FAILED:
  case MSG_EV_TIMED_OUT:
    it->state = ev->kind == MSG_EV_FAILED ? MSG_STATE_FAILED : MSG_STATE_TIMED_OUT;
    it->reason = ev->reason;
    it->http = ev->http ? ev->http : it->http;
    it->speed = 0;
    it->retrying = 0;
    set_str(&it->message, ev->message);
    break;
  case MSG_EV_CANCELLED:
    it->state = MSG_STATE_CANCELLED;
    it->speed = 0;
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
    it->state = MSG_STATE_SKIPPED;
    it->reason = ev->reason;
    set_str(&it->name, ev->name);
    set_str(&it->url, ev->url);
    set_str(&it->path, ev->path);
    it->file_path |= ev->path != NULL;
    if (!it->name)
      it->name = xstrdup(ev->path ? ev->path : "?");
    break;
  case MSG_EV_DETAIL:
    set_str(&it->final_url, ev->final_url);
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
}

/* Bytes, totals and speeds come from the snapshot; states from events. */
static int apply_snapshot(struct ui *u, const struct msg_snapshot *s)
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
    if (r->attempt > 0)
      it->attempt = r->attempt;
  }
  return 1;
}

void ui_put(int y, int x, int width, enum theme_role role, const char *s, int utf8)
{
  char buf[2048];
  if (width <= 0)
    return;
  fmt_fit(buf, sizeof buf, s, width, 1, utf8);
  attrset(theme_attr(role));
  mvaddstr(y, x, buf);
  attrset(A_NORMAL);
}

/* Below the smallest usable size: say so, in whatever room there is. */
static void paint_small(struct ui *u, int rows, int cols)
{
  char a[96], b[96];
  snprintf(a, sizeof a, "siphon needs at least %dx%d", UI_MIN_COLS, UI_MIN_ROWS);
  snprintf(b, sizeof b, "(now %dx%d); q quits", cols, rows);
  int y = rows / 2 - 1;
  if (y < 0)
    y = 0;
  ui_put(y, 0, cols, THEME_NORMAL, a, u->utf8);
  if (y + 1 < rows)
    ui_put(y + 1, 0, cols, THEME_NORMAL, b, u->utf8);
  if (u->mode == UI_MODE_CONFIRM || u->mode == UI_MODE_ADD || u->mode == UI_MODE_FILTER)
    prompt_draw(u, rows - 1, cols);
}

/* The right end of the bottom line: follow, sort, filter and which rows
 * of how many are in view. */
static void position_text(struct ui *u, char *buf, size_t n)
{
  size_t rows = ui_rows(u), len = 1;
  snprintf(buf, n, " ");
  if (u->follow)
    len += (size_t)snprintf(buf + len, n - len, "follow  ");
  if (len < n && u->sort != UI_SORT_QUEUE)
    len += (size_t)snprintf(buf + len, n - len, "sort %s  ", ui_sort_word(u->sort));
  if (len < n && u->show != UI_SHOW_ALL)
    len += (size_t)snprintf(buf + len, n - len, "show %s  ", ui_show_word(u->show));
  if (len < n && u->filter[0])
    len += (size_t)snprintf(buf + len, n - len, "/%s  ", u->filter);
  if (len >= n)
    return;
  size_t first = rows ? u->top + 1 : 0;
  size_t last = u->top + (size_t)(u->list_rows > 0 ? u->list_rows : 0);
  if (last > rows)
    last = rows;
  if (rows == u->nitems)
    snprintf(buf + len, n - len, "rows %zu-%zu of %zu ", first, last, rows);
  else
    snprintf(buf + len, n - len, "rows %zu-%zu of %zu (%zu in all) ", first, last, rows,
             u->nitems);
}

static void paint(struct ui *u)
{
  int rows, cols;
  getmaxyx(stdscr, rows, cols);
  erase();
  if (rows < UI_MIN_ROWS || cols < UI_MIN_COLS) {
    paint_small(u, rows, cols);
    refresh();
    return;
  }
  int y = header_draw(u, 0, cols);
  int dh = u->detail ? detail_height(u, rows) : 0;
  int list_h = rows - 1 - y - dh;
  if (list_h < 2) {
    dh = 0;
    list_h = rows - 1 - y;
  }
  listview_draw(u, y, list_h, cols);
  if (dh > 0)
    detail_draw(u, rows - 1 - dh, dh, cols);
  curs_set(0);
  if (u->mode == UI_MODE_CONFIRM || u->mode == UI_MODE_ADD || u->mode == UI_MODE_FILTER) {
    prompt_draw(u, rows - 1, cols);
  } else {
    char line[512], pos[512];
    position_text(u, pos, sizeof pos);
    int pw = fmt_width(pos);
    if (pw > cols / 2)
      pw = cols / 2;
    if (u->quit)
      snprintf(line, sizeof line, " stopping... (waiting for transfers to close)");
    else if (u->status[0])
      snprintf(line, sizeof line, " %s", u->status);
    else
      snprintf(line, sizeof line, " %s", keys_hint());
    ui_put(rows - 1, 0, cols, THEME_STATUS, "", u->utf8);
    ui_put(rows - 1, 0, cols - pw, u->status[0] && !u->quit ? THEME_ERROR : THEME_STATUS,
           line, u->utf8);
    ui_put(rows - 1, cols - pw, pw, THEME_STATUS, pos, u->utf8);
  }
  if (u->mode == UI_MODE_HELP)
    keys_help_draw(u, rows, cols);
  if (u->mode == UI_MODE_ADD || u->mode == UI_MODE_FILTER)
    prompt_draw(u, rows - 1, cols); /* last, so the cursor ends up there */
  refresh();
}

/* Follow the terminal's new size (after SIGWINCH). */
static void resize(void)
{
  struct winsize ws;
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
    resizeterm(ws.ws_row, ws.ws_col);
  clearok(curscr, TRUE);
}

static void install_signals(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGWINCH, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sa.sa_handler = on_crash;
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGSEGV, &sa, NULL);
  sigaction(SIGBUS, &sa, NULL);
  sigaction(SIGFPE, &sa, NULL);
  sigaction(SIGILL, &sa, NULL);
  sigaction(SIGABRT, &sa, NULL);
}

/* The strings a crash handler writes, computed while it is safe to. */
static void prepare_crash_reset(void)
{
  const char *parts[] = {exit_attribute_mode, exit_ca_mode, cursor_normal, "\r\n"};
  crash_reset_len = 0;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
    const char *p = parts[i];
    if (!p || p == (char *)-1)
      continue;
    size_t l = strlen(p);
    if (crash_reset_len + l < sizeof crash_reset) {
      memcpy(crash_reset + crash_reset_len, p, l);
      crash_reset_len += l;
    }
  }
}

static int start_curses(struct ui *u, const struct theme *th)
{
  if (tcgetattr(STDIN_FILENO, &saved_tio) == 0)
    saved_tio_ok = 1;
  if (!newterm(NULL, stdout, stdin))
    return -1;
  curses_on = 1;
  atexit(restore_terminal);
  set_escdelay(25);
  cbreak(); /* not raw: ^C still raises SIGINT, handled below */
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  curs_set(0);
  theme_apply(th);
  bkgd(' ' | (chtype)theme_attr(THEME_NORMAL)); /* themes may colour the background */
  prepare_crash_reset();
  install_signals();
  u->utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
  return 0;
}

/* Read every pending key; returns a redraw mask. */
static int read_keys(struct ui *u)
{
  int mask = 0;
  for (int n = 0; n < 4096; n++) {
    wint_t ch;
    int r = get_wch(&ch);
    if (r == ERR)
      break;
    if (r == KEY_CODE_YES && ch == KEY_RESIZE) {
      mask |= UI_CLEAR;
      continue;
    }
    int is_code = r == KEY_CODE_YES;
    if (u->quit)
      continue; /* stopping: keys no longer mean anything */
    if (u->mode == UI_MODE_HELP) {
      mask |= keys_help_key(u, is_code, ch);
      continue;
    }
    if (u->mode == UI_MODE_CONFIRM || u->mode == UI_MODE_ADD || u->mode == UI_MODE_FILTER) {
      mask |= prompt_key(u, is_code, ch);
      continue;
    }
    mask |= keys_dispatch(u, is_code, ch);
  }
  return mask;
}

enum { EXIT_LIST_MAX = 20 };

/* What an unfinished or failed item is called in the exit list. */
static const char *exit_word(const struct ui_item *it)
{
  if (it->state == MSG_STATE_RUNNING)
    return "interrupted"; /* running (or waiting to retry) when the user quit */
  if (it->state == MSG_STATE_QUEUED)
    return "not started";
  return ui_state_word(it->state);
}

/* After the screen is gone: a totals line like headless prints, then only
 * what did not finish, with its reason; at most EXIT_LIST_MAX lines of it. */
static void print_table(const struct ui *u)
{
  size_t n[MSG_STATE_COUNT] = {0}, listed = 0, left = 0;
  int namew = 4;
  for (size_t i = 0; i < u->nitems; i++) {
    const struct ui_item *it = &u->items[i];
    if (!it->id)
      continue;
    n[it->state]++;
    if (it->state == MSG_STATE_DONE || it->state == MSG_STATE_SKIPPED)
      continue;
    int w = fmt_width(it->name ? it->name : "?");
    if (w > namew)
      namew = w;
  }
  if (namew > 40)
    namew = 40;
  int64_t end = u->end_ms ? u->end_ms : ui_now_ms();
  printf("siphon: %zu done, %zu failed, %zu timed out, %zu cancelled, %zu skipped", n[MSG_STATE_DONE],
         n[MSG_STATE_FAILED], n[MSG_STATE_TIMED_OUT], n[MSG_STATE_CANCELLED],
         n[MSG_STATE_SKIPPED]);
  if (n[MSG_STATE_RUNNING] || n[MSG_STATE_QUEUED] || n[MSG_STATE_PAUSED])
    printf(", %zu unfinished", n[MSG_STATE_RUNNING] + n[MSG_STATE_QUEUED] + n[MSG_STATE_PAUSED]);
  printf("; %lld bytes in %.1fs%s\n", (long long)u->run_bytes, (double)(end - u->start_ms) / 1000.0,
         u->status_130 ? " (interrupted; partial files kept)" : "");
  for (size_t i = 0; i < u->nitems; i++) {
    const struct ui_item *it = &u->items[i];
    char name[256], rk[16];
    if (!it->id || it->state == MSG_STATE_DONE || it->state == MSG_STATE_SKIPPED)
      continue;
    if (listed == EXIT_LIST_MAX) {
      left++;
      continue;
    }
    listed++;
    /* Full names (scripts read this); short ones padded to line up. */
    snprintf(name, sizeof name, "%s", it->name ? it->name : "?");
    for (int w = fmt_width(name); w < namew && strlen(name) + 1 < sizeof name; w++)
      strcat(name, " ");
    const char *reason = "";
    if (it->state == MSG_STATE_FAILED || it->state == MSG_STATE_TIMED_OUT)
      reason = msg_reason_key((enum msg_reason)it->reason, it->http, rk);
    else if (it->state == MSG_STATE_RUNNING && it->retrying)
      reason = "waiting to retry";
    else if (it->state == MSG_STATE_RUNNING || it->state == MSG_STATE_PAUSED)
      reason = it->bytes > 0 ? "partial file kept" : "";
    printf("%s  %-11s  %s%s%s\n", name, exit_word(it), reason,
           it->message && msg_state_is_failure(it->state) ? ": " : "",
           it->message && msg_state_is_failure(it->state) ? it->message : "");
  }
  if (left)
    printf("... and %zu more not finished\n", left);
  fflush(stdout);
}

static int exit_status(const struct ui *u)
{
  if (u->status_130)
    return 130;
  for (size_t i = 0; i < u->nitems; i++)
    if (u->items[i].id && msg_state_is_failure((enum msg_state)u->items[i].state))
      return 1;
  return 0;
}

/* Without a screen (bad theme, no terminal): stop the engine and wait. */
static void stop_engine_blind(struct mbox *mb)
{
  mbox_send(mb, MSG_CMD_QUIT, 0, 0, NULL);
  for (int stopped = 0; !stopped;) {
    struct pollfd p = {.fd = mbox_wake_fd(mb), .events = POLLIN};
    if (poll(&p, 1, 1000) < 0 && errno != EINTR)
      break;
    mbox_drain_wake(mb);
    for (struct msg_event *ev = mbox_take_events(mb), *n; ev; ev = n) {
      n = ev->next;
      if (ev->kind == MSG_EV_STOPPED)
        stopped = 1;
      msg_event_free(ev);
    }
  }
}

static void free_items(struct ui *u)
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

/* When the last item reaches a final state: remember when (the header
 * says so and the clock stops) and ring the bell once. */
static void note_finish(struct ui *u)
{
  int finished = u->nitems > 0 && !ui_unfinished(u);
  if (!finished) {
    u->end_ms = 0;
    u->rang = 0;
    return;
  }
  if (!u->end_ms)
    u->end_ms = ui_now_ms();
  if (u->ring_bell && !u->rang && !u->quit)
    beep();
  u->rang = 1;
}

/* Handle the bytes on the signal pipe: resizes and requests to stop. */
static int handle_signals(struct ui *u, int *force)
{
  char buf[64];
  int mask = 0;
  ssize_t n;
  while ((n = read(sig_pipe[0], buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == 'W') {
        resize();
        mask |= UI_CLEAR;
      } else if (u->quit) {
        *force = 1; /* a second signal while stopping: stop waiting */
      } else {
        u->quit = 1;
        u->status_130 = ui_unfinished(u);
        mask |= UI_REDRAW;
      }
    }
  }
  return mask;
}

int ui_term_usable(char *why, size_t whylen)
{
  const char *term = getenv("TERM");
  int err = 0;
  if (!term || !*term || !strcmp(term, "dumb")) {
    snprintf(why, whylen, "the terminal (TERM=%s) cannot show the screen",
             term && *term ? term : "unset");
    return 0;
  }
  if (setupterm(NULL, STDOUT_FILENO, &err) != OK) {
    snprintf(why, whylen, "no terminal description for TERM=%.64s", term);
    return 0;
  }
  /* The screen moves the cursor and clears: without those it is a blank page. */
  int ok = cursor_address && cursor_address != (char *)-1 && clear_screen &&
           clear_screen != (char *)-1;
  del_curterm(cur_term);
  if (!ok)
    snprintf(why, whylen, "the terminal (TERM=%.64s) cannot move the cursor", term);
  return ok;
}

int ui_theme_check(const struct ui_options *opts, char *err, size_t errlen)
{
  struct theme th;
  return theme_load(&th, opts ? opts->theme : NULL, opts ? opts->argv0 : NULL, err, errlen) < 0
             ? -1
             : 0;
}

int ui_run(struct mbox *mb, const struct ui_options *opts)
{
  struct theme th;
  char err[1024];
  int status = 0;
  setlocale(LC_ALL, "");
  if (theme_load(&th, opts ? opts->theme : NULL, opts ? opts->argv0 : NULL, err,
                 sizeof err) < 0) {
    stop_engine_blind(mb);
    fprintf(stderr, "siphon: %s\n", err);
    return 2;
  }
  struct ui *u = xcalloc(1, sizeof *u);
  u->mb = mb;
  u->follow = 1;
  u->order_dirty = 1;
  u->start_ms = ui_now_ms();
  u->dir = opts && opts->dir ? opts->dir : ".";
  u->overwrite = opts ? opts->overwrite : 0;
  u->ring_bell = opts ? opts->ring_bell : 0;
  if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0 || start_curses(u, &th) < 0) {
    stop_engine_blind(mb);
    fprintf(stderr, "siphon: cannot open the screen (TERM=%s)\n",
            getenv("TERM") ? getenv("TERM") : "");
    status = 2;
    goto out;
  }
  int dirty = UI_CLEAR, quit_sent = 0, force = 0, stdin_ok = 1;
  int64_t last_paint = 0;
  while (!(u->quit && u->stopped) && !force) {
    if (u->quit && !quit_sent) {
      mbox_send(mb, MSG_CMD_QUIT, 0, 0, NULL);
      quit_sent = 1;
    }
    int timeout = -1;
    if (dirty) {
      int64_t wait = last_paint + FRAME_MS - ui_now_ms();
      timeout = wait > 0 ? (int)wait : 0;
    } else if (!u->end_ms && u->nitems > 0 && !u->quit) {
      /* the elapsed clock moves on while anything is unfinished */
      int64_t wait = last_paint + 1000 - ui_now_ms();
      timeout = wait > 0 ? (int)wait : 0;
    }
    struct pollfd p[3] = {{.fd = stdin_ok ? STDIN_FILENO : -1, .events = POLLIN},
                          {.fd = mbox_wake_fd(mb), .events = POLLIN},
                          {.fd = sig_pipe[0], .events = POLLIN}};
    int r = poll(p, 3, timeout);
    if (r < 0 && errno != EINTR)
      break;
    if (r > 0 && (p[2].revents & POLLIN))
      dirty |= handle_signals(u, &force);
    if (r > 0 && (p[0].revents & (POLLHUP | POLLERR | POLLNVAL)) &&
        !(p[0].revents & POLLIN)) {
      stdin_ok = 0; /* the terminal went away: behave as on SIGHUP */
      if (!u->quit) {
        u->quit = 1;
        u->status_130 = ui_unfinished(u);
      }
    }
    dirty |= read_keys(u);
    mbox_drain_wake(mb);
    int got_events = 0;
    for (struct msg_event *ev = mbox_take_events(mb), *n; ev; ev = n) {
      n = ev->next;
      apply_event(u, ev);
      msg_event_free(ev);
      got_events = 1;
    }
    if (got_events) {
      dirty |= UI_REDRAW;
      note_finish(u);
    }
    const struct msg_snapshot *s = mbox_take_snapshot(mb);
    if (s && apply_snapshot(u, s))
      dirty |= UI_REDRAW;
    int64_t t = ui_now_ms();
    if (!u->end_ms && u->nitems > 0 && t - last_paint >= 1000)
      dirty |= UI_REDRAW;
    if (dirty && t - last_paint >= FRAME_MS) {
      if (dirty & UI_CLEAR)
        clearok(curscr, TRUE);
      paint(u);
      last_paint = t;
      dirty = 0;
    }
  }
  restore_terminal();
  print_table(u);
  status = exit_status(u);
out:
  free_items(u);
  free(u);
  return status;
}
