/* headless.c - the front end without a screen (main thread): the same
 * loop as the screen's, without curses.  It polls the mailbox's wake fd and
 * a self-pipe for SIGINT/SIGTERM/SIGHUP, prints every event (JSON lines on stdout
 * with --json, short text lines on stderr), turns snapshots into progress
 * (JSON at most 2 per item per second; once a second a status line on
 * stderr naming the running items with their percent), stops the
 * engine once every item is final, and returns SPEC.md's exit status.
 * After a signal (or a write error on stdout) the engine gets STOP_GRACE_MS
 * to stop; if it has not by then (a hung disk, a blocked open), this thread
 * prints the summary it has and ends the process itself: a signal always
 * works. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "siphon/headless.h"
#include "siphon/json.h"
#include "siphon/xalloc.h"

enum {
  PROGRESS_EVERY_MS = 500,
  /* a script reading --json needs no sub-millisecond reaction: letting
     events gather for a moment turns thousands of wake-ups into batches */
  BATCH_MS = 10,
  /* SPEC: a signal ends siphon within 2 s whatever the engine is doing */
  STOP_GRACE_MS = 1500
};

/* One per item of the run, so kept to 5 bytes, packed: 80,000 queued URLs
 * hold 400 KB here, not 640 (names are the caller's, or in names[]). */
struct __attribute__((packed)) item {
  uint32_t last_progress_ms; /* since the start of the run */
  uint8_t state;             /* enum msg_state */
};
_Static_assert(sizeof(struct item) == 5, "struct headless item: one per queued URL");

struct headless {
  struct mbox *mb;
  int json;
  int tty;
  struct item *items;
  size_t nitems, cap;
  const char *(*name_of)(const void *ctx, uint32_t id); /* the caller's names, or NULL */
  const void *name_ctx;
  char **names;         /* names the caller does not have, by id - 1, or NULL */
  size_t nnames;
  int64_t bytes;
  uint64_t started_ms, last_status_ms;
  int quit_sent, all_final, interrupted, stopped;
  int out_failed;       /* a write to stdout failed: events were lost */
  uint64_t stop_asked_ms; /* when a signal or the stdout error asked to stop */
};

static int sig_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
  int saved = errno;
  char c = (char)sig;
  if (write(sig_pipe[1], &c, 1) < 0) {
    /* a full pipe already says it */
  }
  errno = saved;
}

static uint64_t mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct item *item_at(struct headless *h, uint32_t id)
{
  if (id == 0)
    return NULL;
  if (id > h->cap) {
    /* geometric growth: a realloc per new item leaves a trail of holes */
    size_t cap = h->cap ? h->cap : 256;
    while (cap < id)
      cap *= 2;
    h->items = xrealloc(h->items, cap * sizeof *h->items);
    h->cap = cap;
  }
  if (id > h->nitems) {
    /* cleared up to id only: the rest of a large block stays untouched,
       so it costs no memory until items reach it */
    memset(h->items + h->nitems, 0, (id - h->nitems) * sizeof *h->items);
    h->nitems = id;
  }
  return &h->items[id - 1];
}

static const char *name_of(struct headless *h, uint32_t id)
{
  const char *name = id && id <= h->nnames && h->names[id - 1] ? h->names[id - 1]
                     : h->name_of                            ? h->name_of(h->name_ctx, id)
                                                             : NULL;
  return name ? name : "?";
}

static void clear_status(struct headless *h)
{
  if (h->tty)
    fputs("\r\033[K", stderr);
}

/* Every size headless prints, in one format: "512 B", "1.5 MiB". */
static void fmt_bytes(char *buf, size_t n, double v)
{
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (v >= 1024 && u < 4)
    v /= 1024, u++;
  snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/* A QUEUED event's name, kept (taken from the event) unless the caller
 * has the same one: one string per item, not two. */
static void keep_name(struct headless *h, struct msg_event *ev)
{
  const char *known = h->name_of ? h->name_of(h->name_ctx, ev->id) : NULL;
  int same = known && strcmp(known, ev->name) == 0;
  if (ev->id > h->nnames) {
    if (same)
      return;
    size_t n = h->nnames ? h->nnames : 16;
    while (n < ev->id)
      n *= 2;
    h->names = xrealloc(h->names, n * sizeof *h->names);
    memset(h->names + h->nnames, 0, (n - h->nnames) * sizeof *h->names);
    h->nnames = n;
  }
  free(h->names[ev->id - 1]);
  h->names[ev->id - 1] = NULL;
  if (same)
    return;
  h->names[ev->id - 1] = ev->name;
  ev->name = NULL;
}

/* One line on stderr for the events a person wants to read. */
static void print_text(struct headless *h, const struct msg_event *ev)
{
  char rbuf[16];
  const char *name = name_of(h, ev->id);
  clear_status(h);
  switch (ev->kind) {
  case MSG_EV_DONE: {
    char size[32];
    fmt_bytes(size, sizeof size, (double)ev->bytes);
    fprintf(stderr, "done      %s -> %s (%s, %.1fs)\n", name, ev->path ? ev->path : "", size,
            ev->seconds);
    break;
  }
  case MSG_EV_FAILED:
  case MSG_EV_TIMED_OUT:
    fprintf(stderr, "%-9s %s: %s (%s)\n", ev->kind == MSG_EV_FAILED ? "failed" : "timed out",
            name, ev->message ? ev->message : msg_reason_text(ev->reason),
            msg_reason_key(ev->reason, ev->http, rbuf));
    break;
  case MSG_EV_RETRY:
    fprintf(stderr, "retry     %s: attempt %d in %.1fs (%s)\n", name, ev->attempt,
            (double)ev->delay_ms / 1000, msg_reason_key(ev->reason, ev->http, rbuf));
    break;
  case MSG_EV_SKIPPED:
    fprintf(stderr, "skipped   %s: %s exists (--overwrite replaces it)\n", name,
            ev->path ? ev->path : "file");
    break;
  case MSG_EV_CANCELLED:
    fprintf(stderr, "cancelled %s\n", name);
    break;
  case MSG_EV_PAUSED:
    if (ev->message)
      fprintf(stderr, "paused    %s: %s\n", name, ev->message);
    break;
  default:
    break;
  }
}

static void on_event(struct headless *h, struct msg_event *ev)
{
  struct item *it = item_at(h, ev->id);
  int st = msg_event_state(ev->kind);
  if (st >= 0 && it)
    it->state = (uint8_t)st;
  switch (ev->kind) {
  case MSG_EV_IDLE:
    h->all_final = 1;
    if (!h->quit_sent) {
      h->quit_sent = 1;
      mbox_send(h->mb, MSG_CMD_QUIT, 0, 0, NULL);
    }
    break;
  case MSG_EV_STOPPED:
    h->stopped = 1;
    h->bytes = ev->bytes;
    if (ev->message)
      fprintf(stderr, "siphon: %s\n", ev->message);
    break;
  default:
    break;
  }
  if (h->json && !h->out_failed)
    json_event(stdout, ev);
  print_text(h, ev);
  if (ev->kind == MSG_EV_QUEUED && ev->name && ev->id)
    keep_name(h, ev);
}

enum { STATUS_EVERY_MS = 1000, STATUS_NAMES = 4 };

/* Columns of the terminal stderr is, so a rewritten line never wraps. */
static int status_width(void)
{
  struct winsize ws;
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
    return ws.ws_col - 1;
  return 79;
}

/* The progress line: the counts, bytes, speed and pool, then the running
 * items by name with their percent.  At most once a second: rewritten in
 * place on a terminal (cut to its width), appended to a file. */
static void print_status(struct headless *h, const struct msg_snapshot *s)
{
  char line[1024], got[32], speed[32];
  size_t len = 0, named = 0, running = 0;
  fmt_bytes(got, sizeof got, (double)s->bytes);
  fmt_bytes(speed, sizeof speed, (double)s->speed);
  len += (size_t)snprintf(line, sizeof line,
                          "%u running, %u queued, %u done, %u failed | %s, %s/s | pool %d open, "
                          "%d in use",
                          s->running, s->queued, s->done, s->failed + s->timed_out, got, speed,
                          s->pool_open, s->pool_in_use);
  for (uint32_t i = 0; i < s->nrows && i < MSG_SNAP_ROWS; i++) {
    const struct msg_snap_row *row = &s->rows[i];
    /* the events are newer than the snapshot: trust them for the state */
    if (row->state != MSG_STATE_RUNNING || item_at(h, row->id)->state != MSG_STATE_RUNNING)
      continue;
    running++;
    if (named == STATUS_NAMES || len >= sizeof line)
      continue;
    char pct[32];
    if (row->retrying)
      snprintf(pct, sizeof pct, "retry in %ds", (row->retry_in_ms + 999) / 1000);
    else if (row->total > 0)
      snprintf(pct, sizeof pct, "%d%%", (int)(row->bytes * 100 / row->total));
    else
      snprintf(pct, sizeof pct, "%s", "?%");
    len += (size_t)snprintf(line + len, sizeof line - len, "%s%s %s", named ? ", " : " | ",
                            name_of(h, row->id), pct);
    named++;
  }
  if (running > named && len < sizeof line)
    snprintf(line + len, sizeof line - len, ", +%zu more", running - named);
  if (h->tty) {
    int w = status_width();
    if ((int)strlen(line) > w) /* names are UTF-8: cut on a character boundary */
      for (int k = w; k >= 0; k--)
        if (((unsigned char)line[k] & 0xc0) != 0x80) {
          line[k] = '\0';
          break;
        }
    fprintf(stderr, "\r\033[K%s", line);
  } else {
    fprintf(stderr, "%s\n", line);
  }
}

static void on_snapshot(struct headless *h, const struct msg_snapshot *s, uint64_t now)
{
  if (h->json) {
    for (uint32_t i = 0; i < s->nrows; i++) {
      const struct msg_snap_row *row = &s->rows[i];
      struct item *it = item_at(h, row->id);
      uint32_t t = (uint32_t)(now - h->started_ms);
      /* The snapshot may be older than the events just printed: an item
         they ended (or paused) gets no progress after its final event. */
      if (row->state != MSG_STATE_RUNNING || it->state != MSG_STATE_RUNNING || row->retrying ||
          (it->last_progress_ms && t - it->last_progress_ms < PROGRESS_EVERY_MS))
        continue;
      it->last_progress_ms = t ? t : 1;
      if (!h->out_failed)
        json_progress(stdout, row);
    }
  }
  h->bytes = s->bytes;
  if (now - h->last_status_ms < STATUS_EVERY_MS || s->running + s->queued == 0)
    return;
  h->last_status_ms = now;
  print_status(h, s);
}

static int exit_status(struct headless *h, unsigned *counts)
{
  int failed = 0;
  for (size_t i = 0; i < h->nitems; i++) {
    counts[h->items[i].state]++;
    failed |= msg_state_is_failure((enum msg_state)h->items[i].state);
  }
  if (h->interrupted && !h->all_final)
    return 130;
  return failed || h->out_failed ? 1 : 0;
}

/* Stop the run as a signal would: the engine keeps every partial file. */
static void ask_stop(struct headless *h)
{
  if (!h->all_final)
    h->interrupted = 1;
  if (!h->stop_asked_ms)
    h->stop_asked_ms = mono_ms();
  if (!h->quit_sent) {
    h->quit_sent = 1;
    mbox_send(h->mb, MSG_CMD_QUIT, 0, 0, NULL);
  }
}

/* SPEC: a write error on stdout (a closed pipe, a full disk) ends the run
 * like a signal, with a non-zero exit, instead of losing events silently. */
static void check_stdout(struct headless *h)
{
  if (!h->json || h->out_failed || !ferror(stdout))
    return;
  h->out_failed = 1;
  clear_status(h);
  fprintf(stderr, "siphon: cannot write events to stdout: %s; stopping (partial files kept)\n",
          strerror(errno ? errno : EIO));
  ask_stop(h);
}

/* The summary on stdout (--json) and stderr; rc is the exit status. */
static void print_summary(struct headless *h, int rc, const unsigned *counts)
{
  double secs = (double)(mono_ms() - h->started_ms) / 1000.0;
  if (h->json && !h->out_failed) {
    json_summary(stdout, counts[MSG_STATE_DONE], counts[MSG_STATE_FAILED],
                 counts[MSG_STATE_TIMED_OUT], counts[MSG_STATE_CANCELLED],
                 counts[MSG_STATE_SKIPPED], h->bytes, secs);
    fflush(stdout);
  }
  char got[32];
  fmt_bytes(got, sizeof got, (double)h->bytes);
  fprintf(stderr, "siphon: %u done, %u failed, %u timed out, %u cancelled, %u skipped; %s in %.1fs%s\n",
          counts[MSG_STATE_DONE], counts[MSG_STATE_FAILED], counts[MSG_STATE_TIMED_OUT],
          counts[MSG_STATE_CANCELLED], counts[MSG_STATE_SKIPPED], got, secs,
          rc == 130 ? " (interrupted; partial files kept)" : "");
}

/* The engine did not stop within STOP_GRACE_MS of being asked: it is stuck
 * (a hung disk, a blocked open).  Say what we have and end the process
 * from here; the files it holds stay as they are (partial, resumable). */
static void watchdog_fire(struct headless *h)
{
  unsigned counts[MSG_STATE_COUNT] = {0};
  int rc = exit_status(h, counts);
  if (h->interrupted)
    rc = 130;
  clear_status(h);
  fprintf(stderr, "siphon: the engine did not stop within %.1fs; exiting anyway\n",
          STOP_GRACE_MS / 1000.0);
  print_summary(h, rc, counts);
  fflush(stderr);
  _exit(rc);
}

int headless_run(struct mbox *mb, int json, const char *(*names)(const void *ctx, uint32_t id),
                 const void *ctx)
{
  struct headless h = {
      .mb = mb, .json = json, .tty = isatty(2), .name_of = names, .name_ctx = ctx};
  h.started_ms = mono_ms();
  /* one write per batch of lines, not one per line (a list of 20,000
     small files printed 20,000 "done" lines with as many syscalls) */
  static char errbuf[16384];
  setvbuf(stderr, errbuf, _IOFBF, sizeof errbuf);
  if (pipe2(sig_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
    perror("siphon: pipe");
    mbox_send(mb, MSG_CMD_QUIT, 0, 0, NULL);
  }
  struct sigaction sa = {.sa_handler = on_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  while (!h.stopped) {
    struct pollfd fds[2] = {{.fd = mbox_wake_fd(mb), .events = POLLIN},
                            {.fd = sig_pipe[0], .events = POLLIN}};
    int wait_ms = 1000;
    if (h.stop_asked_ms) {
      uint64_t since = mono_ms() - h.stop_asked_ms;
      if (since >= STOP_GRACE_MS)
        watchdog_fire(&h);
      wait_ms = (int)(STOP_GRACE_MS - since) + 1;
      if (wait_ms > 100)
        wait_ms = 100;
    }
    if (poll(fds, 2, wait_ms) < 0 && errno != EINTR)
      break;
    if (fds[1].revents & POLLIN) {
      char buf[16];
      while (read(sig_pipe[0], buf, sizeof buf) > 0)
        ;
      ask_stop(&h);
    }
    mbox_drain_wake(mb);
    struct msg_event *ev = mbox_take_events(mb);
    while (ev) {
      struct msg_event *next = ev->next;
      on_event(&h, ev);
      msg_event_free(ev);
      ev = next;
    }
    const struct msg_snapshot *s = mbox_take_snapshot(mb);
    if (s && !h.stopped)
      on_snapshot(&h, s, mono_ms());
    check_stdout(&h);
    fflush(stderr);
    /* What woke us is handled at once; the next events gather for a
       moment before the next wait, unless the run ends meanwhile (IDLE,
       STOPPED) or a signal comes.  Not at all once the run is ending: the
       idle -> quit -> stopped exchange would wait twice. */
    if ((fds[0].revents & POLLIN) && !h.stopped && !h.quit_sent && !h.stop_asked_ms) {
      struct pollfd gather[2] = {{.fd = mbox_urgent_fd(mb), .events = POLLIN},
                                 {.fd = sig_pipe[0], .events = POLLIN}};
      (void)poll(gather, 2, BATCH_MS);
    }
  }
  clear_status(&h);
  unsigned counts[MSG_STATE_COUNT] = {0};
  int rc = exit_status(&h, counts);
  print_summary(&h, rc, counts);
  fflush(stderr);
  if (json && !h.out_failed && ferror(stdout) && rc == 0)
    rc = 1; /* the summary itself was lost */
  for (size_t i = 0; i < h.nnames; i++)
    free(h.names[i]);
  free(h.names);
  free(h.items);
  close(sig_pipe[0]);
  close(sig_pipe[1]);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGHUP, SIG_DFL);
  return rc;
}
