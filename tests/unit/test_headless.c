/* test_headless.c - the headless JSON printer against a mailbox fed by
 * hand: a snapshot older than the events taken with it prints no progress
 * for an item those events already ended. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "siphon/headless.h"
#include "siphon/mbox.h"
#include "siphon/msg.h"

static struct msg_event *event(enum msg_event_kind kind, uint32_t id)
{
  struct msg_event *ev = calloc(1, sizeof *ev);
  cr_assert(ev);
  ev->kind = kind;
  ev->id = id;
  ev->total = -1;
  ev->t_connect = ev->t_first_byte = -1;
  return ev;
}

/* The engine's end of the run, a moment after the front end took the
 * first batch: every item final, then stopped. */
static void *finish_later(void *arg)
{
  struct mbox *mb = arg;
  struct timespec ts = {0, 300 * 1000000L};
  nanosleep(&ts, NULL);
  mbox_post_event(mb, event(MSG_EV_IDLE, 0));
  mbox_post_event(mb, event(MSG_EV_STOPPED, 0));
  return NULL;
}

Test(headless, stale_snapshot_gives_no_progress_after_done)
{
  struct mbox *mb = mbox_new();
  cr_assert(mb);
  struct msg_event *q = event(MSG_EV_QUEUED, 1);
  q->name = strdup("a.bin");
  q->url = strdup("http://127.0.0.1:1/a.bin");
  mbox_post_event(mb, q);
  mbox_post_event(mb, event(MSG_EV_START, 1));
  /* published before the item ended: it still says running */
  struct msg_snapshot *s = mbox_snapshot_buffer(mb);
  memset(s, 0, sizeof *s);
  s->items = s->running = 1;
  s->nrows = 1;
  s->rows[0] = (struct msg_snap_row){.id = 1, .state = MSG_STATE_RUNNING, .attempt = 1,
                                     .bytes = 100, .total = 200, .speed = 10};
  mbox_snapshot_publish(mb);
  struct msg_event *d = event(MSG_EV_DONE, 1);
  d->path = strdup("a.bin");
  d->bytes = 200;
  d->http = 200;
  mbox_post_event(mb, d);

  char path[] = "/tmp/siphon-test-headless-XXXXXX";
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  unlink(path);
  fflush(stdout);
  fflush(stderr);
  int saved = dup(STDOUT_FILENO), saved_err = dup(STDERR_FILENO);
  int devnull = open("/dev/null", O_WRONLY);
  cr_assert(saved >= 0 && saved_err >= 0 && devnull >= 0);
  cr_assert(dup2(fd, STDOUT_FILENO) >= 0 && dup2(devnull, STDERR_FILENO) >= 0);
  close(devnull);
  pthread_t th;
  cr_assert_eq(pthread_create(&th, NULL, finish_later, mb), 0);
  int rc = headless_run(mb, 1, NULL, NULL);
  fflush(stdout);
  fflush(stderr);
  pthread_join(th, NULL);
  dup2(saved, STDOUT_FILENO);
  dup2(saved_err, STDERR_FILENO);
  close(saved);
  close(saved_err);

  char out[4096] = "";
  ssize_t n = pread(fd, out, sizeof out - 1, 0);
  close(fd);
  cr_assert(n > 0);
  out[n] = '\0';
  cr_assert_eq(rc, 0, "exit %d; output:\n%s", rc, out);
  cr_assert(strstr(out, "\"event\":\"done\""), "no done event:\n%s", out);
  cr_assert_null(strstr(out, "\"event\":\"progress\""), "progress after done:\n%s", out);
  mbox_free(mb);
}
