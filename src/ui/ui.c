/* ui.c - the interactive screen's loop (the model is model.c, the views
 * header/listview/detail/prompt/keys.c): poll() on the keyboard, the
 * mailbox's wake fd and a self-pipe for signals; hand events and the
 * newest snapshot to the model; paint at most once per ~100 ms frame (once
 * a second for the clock while anything is unfinished) and block when
 * nothing changes; ring the bell once when everything has finished; print
 * the totals and what did not finish on the way out.  Owns the terminal: it is
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

int64_t ui_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ui_set_status(struct ui *u, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(u->status, sizeof u->status, fmt, ap);
  va_end(ap);
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
  draw_put(y, 0, cols, THEME_NORMAL, a, u->utf8);
  if (y + 1 < rows)
    draw_put(y + 1, 0, cols, THEME_NORMAL, b, u->utf8);
  if (prompt_active(u))
    prompt_draw(u, rows - 1, cols);
}

/* The right end of the bottom line: follow, sort, filter and which rows
 * of how many are in view. */
static void position_text(struct ui *u, char *buf, size_t n)
{
  size_t rows = model_rows(u), len = 1;
  snprintf(buf, n, " ");
  if (u->follow)
    len += (size_t)snprintf(buf + len, n - len, "follow  ");
  if (len < n && u->sort != UI_SORT_QUEUE)
    len += (size_t)snprintf(buf + len, n - len, "sort %s  ", model_sort_word(u->sort));
  if (len < n && u->show != UI_SHOW_ALL)
    len += (size_t)snprintf(buf + len, n - len, "show %s  ", model_show_word(u->show));
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
  if (prompt_active(u)) {
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
    draw_put(rows - 1, 0, cols, THEME_STATUS, "", u->utf8);
    draw_put(rows - 1, 0, cols - pw, u->status[0] && !u->quit ? THEME_ERROR : THEME_STATUS,
           line, u->utf8);
    draw_put(rows - 1, cols - pw, pw, THEME_STATUS, pos, u->utf8);
  }
  if (u->mode == UI_MODE_HELP)
    keys_help_draw(u, rows, cols);
  if (prompt_active(u) && u->mode != UI_MODE_CONFIRM)
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
    if (prompt_active(u)) {
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
  return draw_state_word(it->state);
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
  char got[32];
  printf("; %s in %.1fs%s\n", fmt_size(got, sizeof got, u->run_bytes),
         (double)(end - u->start_ms) / 1000.0,
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

/* When the last item reaches a final state: remember when (the header
 * says so and the clock stops) and ring the bell once. */
static void note_finish(struct ui *u)
{
  int finished = u->nitems > 0 && !model_unfinished(u);
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
        u->status_130 = model_unfinished(u);
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
  int64_t last_paint = 0, quit_at = 0;
  while (!(u->quit && u->stopped) && !force) {
    if (u->quit && !quit_sent) {
      mbox_send(mb, MSG_CMD_QUIT, 0, 0, NULL);
      quit_sent = 1;
      quit_at = ui_now_ms();
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
    if (quit_sent && !u->stopped) { /* the shutdown watchdog */
      int64_t left = quit_at + STOP_GRACE_MS - ui_now_ms();
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
        u->status_130 = model_unfinished(u);
      }
    }
    dirty |= read_keys(u);
    mbox_drain_wake(mb);
    int got_events = 0;
    for (struct msg_event *ev = mbox_take_events(mb), *n; ev; ev = n) {
      n = ev->next;
      model_apply_event(u, ev);
      msg_event_free(ev);
      got_events = 1;
    }
    if (got_events) {
      dirty |= UI_REDRAW;
      note_finish(u);
    }
    const struct msg_snapshot *s = mbox_take_snapshot(mb);
    if (s && model_apply_snapshot(u, s))
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
  if (!u->stopped) {
    /* the engine is stuck (a hung disk): it cannot be joined, so end the
       process here; its partial files stay as they are, resumable */
    fprintf(stderr, "siphon: the engine did not stop within %.1fs; exiting anyway\n",
            STOP_GRACE_MS / 1000.0);
    fflush(stdout);
    _exit(status);
  }
out:
  model_free(u);
  free(u);
  return status;
}
