/* siphon/mbox.h - the mailbox between the front end and the engine.
 *
 * Commands go in (any thread -> engine), events come out (engine -> front
 * end, a FIFO that never drops or merges), and progress snapshots are
 * triple-buffered: the engine fills its own buffer and publishes it, the
 * front end takes the newest one; a slow front end skips frames and the
 * engine never waits for it.  pthreads only: no curl, no uv, no curses.
 */
#ifndef SIPHON_MBOX_H
#define SIPHON_MBOX_H

#include <stddef.h>

#include "siphon/msg.h"

struct mbox;

/* NULL when out of memory or no pipe could be made. */
struct mbox *mbox_new(void);
void mbox_free(struct mbox *mb); /* frees anything still queued */

/* The engine's wake-up for new commands (it wraps uv_async_send). Called
 * after each send, outside the lock; may be called from any thread. */
void mbox_set_cmd_wake(struct mbox *mb, void (*wake)(void *arg), void *arg);

/* Append a heap-allocated command; the mailbox owns it from here. */
void mbox_send_cmd(struct mbox *mb, struct msg_cmd *cmd);
/* Convenience: allocate and send; url is copied (may be NULL). */
void mbox_send(struct mbox *mb, enum msg_cmd_kind kind, uint32_t id, int32_t value,
               const char *url);
/* Engine: every pending command, oldest first (NULL if none). */
struct msg_cmd *mbox_take_cmds(struct mbox *mb);

/* Engine: append a heap-allocated event and wake the front end. */
void mbox_post_event(struct mbox *mb, struct msg_event *ev);
/* Front end: every pending event, oldest first (NULL if none). */
struct msg_event *mbox_take_events(struct mbox *mb);
/* Engine: how many events wait for the front end.  With wake_when_taken,
 * the command wake-up is also called once the front end takes them, so a
 * producer can hold back until the backlog drains (flow control). */
size_t mbox_events_waiting(struct mbox *mb, int wake_when_taken);

/* Engine: the buffer to fill for the next snapshot (owned by the engine
 * until published). */
struct msg_snapshot *mbox_snapshot_buffer(struct mbox *mb);
/* Engine: publish the filled buffer and wake the front end. */
void mbox_snapshot_publish(struct mbox *mb);
/* Front end: the newest published snapshot if one arrived since the last
 * call, else NULL.  Valid until the next call. */
const struct msg_snapshot *mbox_take_snapshot(struct mbox *mb);

/* Front end: a non-blocking fd that turns readable when an event or a
 * snapshot arrives; poll() it, then mbox_drain_wake() BEFORE taking events
 * and the snapshot (a post that finds work already waiting writes no byte). */
int mbox_wake_fd(const struct mbox *mb);
/* Front end: a second such fd that turns readable only for the events that
 * end a run (IDLE, STOPPED): a front end that lets events gather between
 * two batches waits on this one meanwhile, so the end of a run is never
 * held back.  mbox_drain_wake() drains both. */
int mbox_urgent_fd(const struct mbox *mb);
void mbox_drain_wake(struct mbox *mb);

#endif
