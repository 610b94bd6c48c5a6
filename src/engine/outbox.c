/* outbox.c - what leaves the engine about its items: events (to the
 * mailbox, in the order they happen), each item's user-visible state with
 * the per-state counts the snapshot reads, and the live list (admitted or
 * paused items) the tick walks.  The lowest part of the engine: the state
 * machine, the scheduler, attempts and segments call down into it, it
 * calls no other part, so nothing calls back up into engine.c.  Engine
 * thread only. */
#include <stdlib.h>

#include "engine-int.h"
#include "siphon/xalloc.h"

struct msg_event *outbox_event(enum msg_event_kind kind, uint32_t id)
{
  struct msg_event *ev = xcalloc(1, sizeof *ev);
  ev->kind = kind;
  ev->id = id;
  ev->total = -1;
  ev->t_connect = ev->t_first_byte = -1;
  return ev;
}

void outbox_post(struct engine *e, struct msg_event *ev)
{
  mbox_post_event(e->mb, ev);
}

void outbox_live_add(struct engine *e, struct xfer *x)
{
  if (x->live)
    return;
  x->live = 1;
  x->lprev = NULL;
  x->lnext = e->live_head;
  if (e->live_head)
    e->live_head->lprev = x;
  e->live_head = x;
}

void outbox_live_remove(struct engine *e, struct xfer *x)
{
  if (!x->live)
    return;
  x->live = 0;
  if (x->lprev)
    x->lprev->lnext = x->lnext;
  else
    e->live_head = x->lnext;
  if (x->lnext)
    x->lnext->lprev = x->lprev;
  x->lnext = x->lprev = NULL;
}

/* Every change of what the user sees goes through here, so the snapshot
 * reads the counts instead of walking every item. */
void outbox_set_state(struct xfer *x, int state)
{
  struct engine *e = x->eng;
  e->nstate[x->state]--;
  e->nstate[state]++;
  x->state = (uint8_t)state;
}
