/* test_mbox.c - the mailbox with plain threads: FIFO order across threads,
 * the engine's wake callback, the front end's wake fd, and snapshots that
 * hand over the newest frame exactly once. */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "siphon/mbox.h"

enum { PER_THREAD = 2000 };

static atomic_int wakes;

static void count_wake(void *arg)
{
  (void)arg;
  atomic_fetch_add(&wakes, 1);
}

struct sender {
  struct mbox *mb;
  int base;
};

static void *send_many(void *arg)
{
  struct sender *s = arg;
  for (int i = 0; i < PER_THREAD; i++)
    mbox_send(s->mb, MSG_CMD_PAUSE, (uint32_t)(s->base + i), 0, NULL);
  return NULL;
}

Test(mbox, commands_keep_each_senders_order_and_wake_every_send)
{
  struct mbox *mb = mbox_new();
  cr_assert_not_null(mb);
  atomic_store(&wakes, 0);
  mbox_set_cmd_wake(mb, count_wake, NULL);
  pthread_t t[2];
  struct sender s[2] = {{mb, 0}, {mb, 100000}};
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, send_many, &s[i]);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  cr_assert_eq(atomic_load(&wakes), 2 * PER_THREAD);
  uint32_t next[2] = {0, 100000};
  int n = 0;
  for (struct msg_cmd *c = mbox_take_cmds(mb), *nx; c; c = nx) {
    nx = c->next;
    int who = c->id >= 100000;
    cr_assert_eq(c->id, next[who], "command %u out of order", c->id);
    next[who]++;
    n++;
    msg_cmd_free(c);
  }
  cr_assert_eq(n, 2 * PER_THREAD);
  cr_assert_null(mbox_take_cmds(mb), "a second take finds nothing");
  mbox_free(mb);
}

Test(mbox, add_command_owns_a_copy_of_its_url)
{
  struct mbox *mb = mbox_new();
  char url[] = "http://127.0.0.1/x";
  mbox_send(mb, MSG_CMD_ADD, 0, 0, url);
  url[0] = 'X';
  struct msg_cmd *c = mbox_take_cmds(mb);
  cr_assert_str_eq(c->url, "http://127.0.0.1/x");
  msg_cmd_free(c);
  mbox_free(mb);
}

static int readable(int fd)
{
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1;
}

Test(mbox, events_arrive_in_order_and_wake_the_front_end)
{
  struct mbox *mb = mbox_new();
  cr_assert_not(readable(mbox_wake_fd(mb)));
  for (uint32_t i = 1; i <= 3; i++) {
    struct msg_event *ev = calloc(1, sizeof *ev);
    ev->kind = MSG_EV_START;
    ev->id = i;
    mbox_post_event(mb, ev);
  }
  cr_assert(readable(mbox_wake_fd(mb)));
  mbox_drain_wake(mb);
  cr_assert_not(readable(mbox_wake_fd(mb)));
  uint32_t want = 1;
  for (struct msg_event *ev = mbox_take_events(mb), *nx; ev; ev = nx) {
    nx = ev->next;
    cr_assert_eq(ev->id, want++);
    msg_event_free(ev);
  }
  cr_assert_eq(want, 4);
  mbox_free(mb);
}

/* A front end that lets events gather between batches waits on the
 * urgent fd meanwhile: progress must not end its pause, the end of the
 * run must (else every run ends up to a batch later than it could). */
Test(mbox, only_the_end_of_a_run_wakes_the_urgent_fd)
{
  struct mbox *mb = mbox_new();
  enum msg_event_kind kinds[] = {MSG_EV_QUEUED, MSG_EV_START, MSG_EV_DONE, MSG_EV_IDLE,
                                 MSG_EV_STOPPED};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    struct msg_event *ev = calloc(1, sizeof *ev);
    ev->kind = kinds[i];
    ev->id = 1;
    mbox_post_event(mb, ev);
    int end = kinds[i] == MSG_EV_IDLE || kinds[i] == MSG_EV_STOPPED;
    cr_assert_eq(readable(mbox_urgent_fd(mb)), end, "event kind %d", (int)kinds[i]);
    cr_assert(readable(mbox_wake_fd(mb)));
    mbox_drain_wake(mb);
    cr_assert_not(readable(mbox_urgent_fd(mb)));
    cr_assert_not(readable(mbox_wake_fd(mb)));
    for (struct msg_event *e = mbox_take_events(mb), *nx; e; e = nx) {
      nx = e->next;
      msg_event_free(e);
    }
  }
  mbox_snapshot_publish(mb);
  cr_assert_not(readable(mbox_urgent_fd(mb)));
  mbox_free(mb);
}

Test(mbox, a_full_wake_pipe_never_blocks_the_engine)
{
  struct mbox *mb = mbox_new();
  /* far more posts than a pipe holds: the poster must not block */
  for (int i = 0; i < 200000; i++)
    mbox_snapshot_publish(mb);
  cr_assert(readable(mbox_wake_fd(mb)));
  mbox_free(mb);
}

Test(mbox, snapshot_gives_the_newest_frame_once)
{
  struct mbox *mb = mbox_new();
  cr_assert_null(mbox_take_snapshot(mb), "nothing published yet");
  for (uint64_t seq = 1; seq <= 3; seq++) {
    struct msg_snapshot *s = mbox_snapshot_buffer(mb);
    s->seq = seq;
    s->bytes = (int64_t)seq * 100;
    mbox_snapshot_publish(mb);
  }
  const struct msg_snapshot *got = mbox_take_snapshot(mb);
  cr_assert_not_null(got);
  cr_assert_eq(got->seq, 3, "a slow front end skips to the newest frame");
  cr_assert_eq(got->bytes, 300);
  cr_assert_null(mbox_take_snapshot(mb), "the same frame is not handed out twice");
  struct msg_snapshot *s = mbox_snapshot_buffer(mb);
  cr_assert_neq((const void *)s, (const void *)got, "engine never fills the front end's frame");
  s->seq = 4;
  mbox_snapshot_publish(mb);
  cr_assert_eq(mbox_take_snapshot(mb)->seq, 4);
  mbox_free(mb);
}

static void post_start(struct mbox *mb, uint32_t id)
{
  struct msg_event *ev = calloc(1, sizeof *ev);
  ev->kind = MSG_EV_START;
  ev->id = id;
  mbox_post_event(mb, ev);
}

static int take_count(struct mbox *mb)
{
  int n = 0;
  for (struct msg_event *ev = mbox_take_events(mb), *nx; ev; ev = nx, n++) {
    nx = ev->next;
    msg_event_free(ev);
  }
  return n;
}

Test(mbox, a_wake_is_never_lost_between_batches)
{
  struct mbox *mb = mbox_new();
  for (int round = 0; round < 3; round++) {
    post_start(mb, 1);
    post_start(mb, 2); /* same batch: the pipe already says "look" */
    cr_assert(readable(mbox_wake_fd(mb)), "round %d: no wake-up", round);
    mbox_drain_wake(mb);
    post_start(mb, 3); /* lands before the take: picked up by it */
    cr_assert_eq(take_count(mb), 3);
    cr_assert_not(readable(mbox_wake_fd(mb)), "nothing left to say");
  }
  /* a snapshot after a take wakes again; a second before the take does not
     need to */
  mbox_snapshot_publish(mb);
  cr_assert(readable(mbox_wake_fd(mb)));
  mbox_drain_wake(mb);
  cr_assert_not_null(mbox_take_snapshot(mb));
  mbox_snapshot_publish(mb);
  cr_assert(readable(mbox_wake_fd(mb)), "a fresh frame after a take wakes the front end");
  mbox_free(mb);
}
