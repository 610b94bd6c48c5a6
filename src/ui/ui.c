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

enum {
  FRAME_MS = 100,
  /* SPEC: a signal ends siphon within 2 s whatever the engine is doing;
     after this long the screen stops waiting for the engine */
  STOP_GRACE_MS = 1500
};

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

static int64_t now_ms(void)
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
    return;
  }
  struct ui_item *it = item_slot(u, ev->id);
  if (!it)
    return;
  if (!it->id && ev->kind != MSG_EV_QUEUED && ev->kind != MSG_EV_SKIPPED)
    return; /* never announced: the protocol promises QUEUED first */
  u->idle = 0;
  switch (ev->kind) {
  case MSG_EV_QUEUED:
    if (!it->id) {
      it->id = ev->id;
      it->total = -1;
      it->t_connect = it->t_first_byte = -1;
    }
    it->state = MSG_STATE_QUEUED;
    set_str(&it->name, ev->name);
    set_str(&it->url, ev->url);
    set_str(&it->path, ev->path);
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
    if (!it->name)
      it->name = xstrdup(ev->path ? ev->path : "?");
    break;
  case MSG_EV_DETAIL:
    set_str(&it->final_url, ev->final_url);
    set_str(&it->remote_addr, ev->remote_addr);
    set_str(&it->path, ev->path);
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

static void paint(struct ui *u)
{
  int rows, cols;
  getmaxyx(stdscr, rows, cols);
  erase();
  if (rows < 3 || cols < 10) {
    mvaddnstr(0, 0, "siphon: terminal too small", cols);
    refresh();
    return;
  }
  int y = header_draw(u, 0, cols);
  int dh = u->detail ? detail_height(u, rows) : 0;
  int list_h = rows - 1 - y - dh;
  if (list_h < 1) {
    dh = 0;
    list_h = rows - 1 - y;
  }
  listview_draw(u, y, list_h, cols);
  if (dh > 0)
    detail_draw(u, rows - 1 - dh, dh, cols);
  curs_set(0);
  if (u->mode == UI_MODE_CONFIRM || u->mode == UI_MODE_ADD) {
    prompt_draw(u, rows - 1, cols);
  } else {
    char line[512];
    if (u->quit)
      snprintf(line, sizeof line, " stopping... (waiting for transfers to close)");
    else if (u->status[0])
      snprintf(line, sizeof line, " %s", u->status);
    else
      snprintf(line, sizeof line, " %s", keys_hint());
    ui_put(rows - 1, 0, cols, u->status[0] && !u->quit ? THEME_ERROR : THEME_STATUS, line,
           u->utf8);
  }
  if (u->mode == UI_MODE_HELP)
    keys_help_draw(u, rows, cols);
  if (u->mode == UI_MODE_ADD)
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
      u->mode = UI_MODE_LIST;
      mask |= UI_REDRAW;
      continue;
    }
    if (u->mode == UI_MODE_CONFIRM || u->mode == UI_MODE_ADD) {
      mask |= prompt_key(u, is_code, ch);
      continue;
    }
    mask |= keys_dispatch(u, is_code, ch);
  }
  return mask;
}

/* Print the status table after the screen is gone. */
static void print_table(const struct ui *u)
{
  int namew = 4;
  for (size_t i = 0; i < u->nitems; i++) {
    if (u->items[i].id && u->items[i].name) {
      int w = fmt_width(u->items[i].name);
      if (w > namew)
        namew = w;
    }
  }
  if (namew > 40)
    namew = 40;
  for (size_t i = 0; i < u->nitems; i++) {
    const struct ui_item *it = &u->items[i];
    char name[256], size[32], rk[16];
    if (!it->id)
      continue;
    /* Full names (scripts read this); short ones padded to line up. */
    snprintf(name, sizeof name, "%s", it->name ? it->name : "?");
    for (int w = fmt_width(name); w < namew && strlen(name) + 1 < sizeof name; w++)
      strcat(name, " ");
    const char *reason = "";
    if (it->state == MSG_STATE_FAILED || it->state == MSG_STATE_TIMED_OUT ||
        it->state == MSG_STATE_SKIPPED)
      reason = msg_reason_key((enum msg_reason)it->reason, it->http, rk);
    printf("%s  %-9s  %10s  %s\n", name, msg_state_word(it->state),
           fmt_size(size, sizeof size, it->bytes), reason);
  }
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
  if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) < 0 || start_curses(u, &th) < 0) {
    stop_engine_blind(mb);
    fprintf(stderr, "siphon: cannot open the screen (TERM=%s)\n",
            getenv("TERM") ? getenv("TERM") : "");
    status = 2;
    goto out;
  }
  int dirty = UI_CLEAR, quit_sent = 0, force = 0, stdin_ok = 1;
  int64_t last_paint = 0, quit_at = 0;
  while (!(u->quit && u->stopped) && !force) {
    if (u->quit && !quit_sent) {
      mbox_send(mb, MSG_CMD_QUIT, 0, 0, NULL);
      quit_sent = 1;
      quit_at = now_ms();
    }
    int timeout = -1;
    if (dirty) {
      int64_t wait = last_paint + FRAME_MS - now_ms();
      timeout = wait > 0 ? (int)wait : 0;
    }
    if (quit_sent && !u->stopped) { /* the shutdown watchdog */
      int64_t left = quit_at + STOP_GRACE_MS - now_ms();
      if (left <= 0)
        break;
      if (timeout < 0 || left < timeout)
        timeout = (int)left;
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
    for (struct msg_event *ev = mbox_take_events(mb), *n; ev; ev = n) {
      n = ev->next;
      apply_event(u, ev);
      msg_event_free(ev);
      dirty |= UI_REDRAW;
    }
    const struct msg_snapshot *s = mbox_take_snapshot(mb);
    if (s && apply_snapshot(u, s))
      dirty |= UI_REDRAW;
    int64_t t = now_ms();
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
  if (!u->stopped) {
    /* the engine is stuck (a hung disk): it cannot be joined, so end the
       process here; its partial files stay as they are, resumable */
    fprintf(stderr, "siphon: the engine did not stop within %.1fs; exiting anyway\n",
            STOP_GRACE_MS / 1000.0);
    fflush(stdout);
    _exit(status);
  }
out:
  free_items(u);
  free(u);
  return status;
}
