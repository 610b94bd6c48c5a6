/* mbox.c - the mailbox between the front end (main thread) and the engine
 * thread.  Commands and events are FIFOs of heap messages behind one mutex;
 * snapshots are triple-buffered (engine's buffer, the published one, the
 * front end's) so neither side ever waits for the other to copy.  The front
 * end is woken through a non-blocking pipe; the engine through the callback
 * it registers.  pthreads only. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siphon/mbox.h"
#include "siphon/xalloc.h"


struct mbox {
  pthread_mutex_t lock;
  struct msg_cmd *cmd_head, **cmd_tail;
  struct msg_event *ev_head, **ev_tail;
  size_t ev_count;
  int wake_on_take;  /* the engine waits for the events to be taken */
  void (*cmd_wake)(void *);
  void *cmd_wake_arg;
  /* snapshots: engine fills `back`, publish swaps it with `ready`, the
     front end swaps `ready` with `front` when `fresh` */
  struct msg_snapshot *back, *ready, *front;
  int fresh;
  int wake_rd, wake_wr;
  int urgent_rd, urgent_wr; /* IDLE and STOPPED only */
};

struct mbox *mbox_new(void)
{
  struct mbox *mb = xcalloc(1, sizeof *mb);
  int fds[2], urgent[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    free(mb);
    return NULL;
  }
  if (pipe2(urgent, O_NONBLOCK | O_CLOEXEC) != 0) {
    close(fds[0]);
    close(fds[1]);
    free(mb);
    return NULL;
  }
  mb->wake_rd = fds[0];
  mb->wake_wr = fds[1];
  mb->urgent_rd = urgent[0];
  mb->urgent_wr = urgent[1];
  pthread_mutex_init(&mb->lock, NULL);
  mb->cmd_tail = &mb->cmd_head;
  mb->ev_tail = &mb->ev_head;
  mb->back = xcalloc(1, sizeof *mb->back);
  mb->ready = xcalloc(1, sizeof *mb->ready);
  mb->front = xcalloc(1, sizeof *mb->front);
  return mb;
}

void mbox_free(struct mbox *mb)
{
  if (!mb)
    return;
  for (struct msg_cmd *c = mb->cmd_head, *n; c; c = n) {
    n = c->next;
    msg_cmd_free(c);
  }
  for (struct msg_event *ev = mb->ev_head, *n; ev; ev = n) {
    n = ev->next;
    msg_event_free(ev);
  }
  free(mb->back);
  free(mb->ready);
  free(mb->front);
  close(mb->wake_rd);
  close(mb->wake_wr);
  close(mb->urgent_rd);
  close(mb->urgent_wr);
  pthread_mutex_destroy(&mb->lock);
  free(mb);
}

void mbox_set_cmd_wake(struct mbox *mb, void (*wake)(void *arg), void *arg)
{
  pthread_mutex_lock(&mb->lock);
  mb->cmd_wake = wake;
  mb->cmd_wake_arg = arg;
  pthread_mutex_unlock(&mb->lock);
}

void mbox_send_cmd(struct mbox *mb, struct msg_cmd *cmd)
{
  cmd->next = NULL;
  pthread_mutex_lock(&mb->lock);
  *mb->cmd_tail = cmd;
  mb->cmd_tail = &cmd->next;
  void (*wake)(void *) = mb->cmd_wake;
  void *arg = mb->cmd_wake_arg;
  pthread_mutex_unlock(&mb->lock);
  if (wake)
    wake(arg);
}

void mbox_send(struct mbox *mb, enum msg_cmd_kind kind, uint32_t id, int32_t value,
               const char *url)
{
  struct msg_cmd *c = xcalloc(1, sizeof *c);
  c->kind = kind;
  c->id = id;
  c->value = value;
  c->url = xstrdup(url);
  mbox_send_cmd(mb, c);
}

struct msg_cmd *mbox_take_cmds(struct mbox *mb)
{
  pthread_mutex_lock(&mb->lock);
  struct msg_cmd *all = mb->cmd_head;
  mb->cmd_head = NULL;
  mb->cmd_tail = &mb->cmd_head;
  pthread_mutex_unlock(&mb->lock);
  return all;
}

/* One byte says "look at the mailbox"; a full pipe already says so. */
static void wake_pipe(int fd)
{
  ssize_t n;
  do
    n = write(fd, "", 1);
  while (n < 0 && errno == EINTR);
}

static void wake_front(struct mbox *mb)
{
  wake_pipe(mb->wake_wr);
}

/* The front end drains the pipe before it takes the whole list, so only an
 * event that finds the list empty needs to wake it: one byte per batch,
 * not per event. */
void mbox_post_event(struct mbox *mb, struct msg_event *ev)
{
  ev->next = NULL;
  /* read before the event is handed over: the front end may free it as
     soon as the lock is let go */
  int ends_run = ev->kind == MSG_EV_IDLE || ev->kind == MSG_EV_STOPPED;
  pthread_mutex_lock(&mb->lock);
  int was_empty = mb->ev_head == NULL;
  *mb->ev_tail = ev;
  mb->ev_tail = &ev->next;
  mb->ev_count++;
  pthread_mutex_unlock(&mb->lock);
  if (was_empty)
    wake_front(mb);
  if (ends_run)
    wake_pipe(mb->urgent_wr);
}

struct msg_event *mbox_take_events(struct mbox *mb)
{
  pthread_mutex_lock(&mb->lock);
  struct msg_event *all = mb->ev_head;
  mb->ev_head = NULL;
  mb->ev_tail = &mb->ev_head;
  mb->ev_count = 0;
  void (*wake)(void *) = all && mb->wake_on_take ? mb->cmd_wake : NULL;
  void *arg = mb->cmd_wake_arg;
  if (wake)
    mb->wake_on_take = 0;
  pthread_mutex_unlock(&mb->lock);
  if (wake)
    wake(arg);
  return all;
}

size_t mbox_events_waiting(struct mbox *mb, int wake_when_taken)
{
  pthread_mutex_lock(&mb->lock);
  size_t n = mb->ev_count;
  if (wake_when_taken && n > 0)
    mb->wake_on_take = 1;
  pthread_mutex_unlock(&mb->lock);
  return n;
}

struct msg_snapshot *mbox_snapshot_buffer(struct mbox *mb)
{
  return mb->back; /* only the engine touches `back` */
}

void mbox_snapshot_publish(struct mbox *mb)
{
  pthread_mutex_lock(&mb->lock);
  struct msg_snapshot *t = mb->ready;
  mb->ready = mb->back;
  mb->back = t;
  int was_fresh = mb->fresh;
  mb->fresh = 1;
  pthread_mutex_unlock(&mb->lock);
  if (!was_fresh)
    wake_front(mb);
}

const struct msg_snapshot *mbox_take_snapshot(struct mbox *mb)
{
  const struct msg_snapshot *s = NULL;
  pthread_mutex_lock(&mb->lock);
  if (mb->fresh) {
    struct msg_snapshot *t = mb->front;
    mb->front = mb->ready;
    mb->ready = t;
    mb->fresh = 0;
    s = mb->front;
  }
  pthread_mutex_unlock(&mb->lock);
  return s;
}

int mbox_wake_fd(const struct mbox *mb)
{
  return mb->wake_rd;
}

int mbox_urgent_fd(const struct mbox *mb)
{
  return mb->urgent_rd;
}

void mbox_drain_wake(struct mbox *mb)
{
  char buf[256];
  while (read(mb->wake_rd, buf, sizeof buf) > 0)
    ;
  while (read(mb->urgent_rd, buf, sizeof buf) > 0)
    ;
}
