/* limit.c - speed limits (SPEC.md "Speed limits"): token buckets of the
 * engine, one for the whole run and one per limited item, refilled by the
 * 100 ms tick.  A leg whose budget is spent returns CURL_WRITEFUNC_PAUSE
 * from its write callback (leg->limit_paused), and the tick resumes it once
 * there is budget again; a leg paused this way is not stalled.
 *
 * Fair sharing: each tick the run's refill is split equally among the legs
 * running under it, each into its own allowance (leg->limit_own); what a
 * leg cannot use (a slow server, its item's own limit) overflows into a
 * shared pool any leg may draw on, so the run still reaches its limit.
 * Budgets may go into debt by one write (curl hands up to 16 KiB at once),
 * which the next refills repay, so the long-run average holds however the
 * writes fall.  Engine thread only. */
#include <stdint.h>
#include <stdlib.h>

#include "engine-int.h"
#include "siphon/xalloc.h"

enum {
  LIMIT_MIN_BURST = 32 * 1024, /* a budget may hold at least this much */
  LIMIT_MAX_DT_MS = 500        /* a late tick refills no more than this */
};

struct limit_item {
  int64_t rate;   /* the item's own limit, bytes/s, 0 = none */
  double tokens;  /* the item's budget (rate > 0) */
};

/* An item's limit state, found by the item's address (items never move;
 * a cancelled run's handover copy has none, as it never had). */
struct limit_slot {
  const struct xfer *x;
  struct limit_item *li;
};

struct limit {
  int64_t rate;     /* the run's limit, bytes/s, 0 = none */
  double shared;    /* the run's budget no leg has claimed */
  uint64_t last_ms; /* the last refill */
  /* the items that have limit state, open addressing, at most half full:
     only items with a limit of their own (or set one) are here, so a
     queued URL pays nothing in struct xfer (issue 9) */
  struct limit_slot *tab;
  size_t cap, n;
};

int limit_init(struct engine *e)
{
  e->limit = xcalloc(1, sizeof *e->limit);
  e->limit->rate = (int64_t)e->run.max_speed;
  e->limit->last_ms = uv_now(&e->loop);
  return 0;
}

void limit_free(struct engine *e)
{
  if (!e->limit)
    return;
  for (size_t i = 0; i < e->limit->cap; i++)
    free(e->limit->tab[i].li);
  free(e->limit->tab);
  free(e->limit);
  e->limit = NULL;
}

/* Where x's slot is, or the empty slot it would take (cap > 0). */
static size_t limit_slot_of(const struct limit *L, const struct xfer *x)
{
  uint64_t h = (uint64_t)(uintptr_t)x;
  h = (h ^ (h >> 29)) * 0x9e3779b97f4a7c15u;
  size_t i = (size_t)(h >> 32) & (L->cap - 1);
  while (L->tab[i].x && L->tab[i].x != x)
    i = (i + 1) & (L->cap - 1);
  return i;
}

/* x's limit state, or NULL: none yet (its limit is its settings'). */
static struct limit_item *limit_find(const struct limit *L, const struct xfer *x)
{
  if (!L || !L->n)
    return NULL;
  return L->tab[limit_slot_of(L, x)].li;
}

/* x's limit state, made on first use from its settings. */
static struct limit_item *limit_item(struct xfer *x)
{
  struct limit *L = x->eng->limit;
  struct limit_item *li = limit_find(L, x);
  if (li)
    return li;
  if (2 * (L->n + 1) > L->cap) {
    struct limit old = *L;
    L->cap = L->cap ? 2 * L->cap : 16;
    L->tab = xcalloc(L->cap, sizeof *L->tab);
    for (size_t i = 0; i < old.cap; i++)
      if (old.tab[i].x)
        L->tab[limit_slot_of(L, old.tab[i].x)] = old.tab[i];
    free(old.tab);
  }
  li = xcalloc(1, sizeof *li);
  li->rate = (int64_t)item_spec(x)->settings->max_speed;
  L->tab[limit_slot_of(L, x)] = (struct limit_slot){x, li};
  L->n++;
  return li;
}

/* The write callback's question, asked before it takes anything: may this
 * leg take bytes now?  0 yes, 1 no: it pauses until the tick resumes it.
 * A budget above zero lets one whole write through (it may go into debt). */
int limit_write(struct leg *l)
{
  struct xfer *x = l->x;
  struct limit *L = x->eng->limit;
  if (!L->rate && !limit_rate(x->eng, x))
    return 0;
  /* under the run's limit alone an item without a limit of its own needs
     no state: a rate of 0 is what it would hold */
  struct limit_item *li = limit_find(L, x);
  if (!li && item_spec(x)->settings->max_speed)
    li = limit_item(x);
  if ((li && li->rate && li->tokens <= 0) ||
      (L->rate && l->limit_own <= 0 && L->shared <= 0)) {
    l->limit_paused = 1;
    return 1;
  }
  return 0;
}

/* The write callback took len bytes: charge them to the budgets. */
void limit_took(struct leg *l, size_t len)
{
  struct xfer *x = l->x;
  struct limit *L = x->eng->limit;
  if (L->rate) {
    if (l->limit_own > 0)
      l->limit_own -= (double)len;
    else
      L->shared -= (double)len;
  }
  struct limit_item *li = limit_find(L, x);
  if (li && li->rate)
    li->tokens -= (double)len;
}

/* The legs of an item that are in curl now. */
static int limit_leg_live(const struct xfer *x, const struct leg *l)
{
  return x->phase == PH_ATTACHED && l->easy != NULL;
}

/* The run's refill for dt ms, split into equal allowances of the legs in
 * curl; what an allowance cannot hold goes to the shared pool. */
static void limit_refill_run(struct engine *e, uint64_t dt)
{
  struct limit *L = e->limit;
  double total = (double)L->rate * (double)dt / 1000.0;
  int n = 0;
  for (struct xfer *x = e->live_head; x; x = x->lnext)
    for (int i = 0; x->run && i < x->run->nlegs; i++)
      n += limit_leg_live(x, &x->run->legs[i]);
  if (n == 0) {
    L->shared += total;
  } else {
    double share = total / n, cap = 2 * share;
    if (cap < (double)LIMIT_MIN_BURST / n)
      cap = (double)LIMIT_MIN_BURST / n;
    for (struct xfer *x = e->live_head; x; x = x->lnext) {
      for (int i = 0; x->run && i < x->run->nlegs; i++) {
        struct leg *l = &x->run->legs[i];
        if (!limit_leg_live(x, l))
          continue;
        l->limit_own += share;
        if (l->limit_own > cap) {
          L->shared += l->limit_own - cap; /* unused: any leg may take it */
          l->limit_own = cap;
        }
      }
    }
  }
  if (L->shared > total)
    L->shared = total;
}

/* The tick: refill the buckets for the time passed, then resume the legs
 * that have budget again. */
void limit_tick(struct engine *e, uint64_t now)
{
  struct limit *L = e->limit;
  uint64_t dt = now - L->last_ms;
  L->last_ms = now;
  if (dt > LIMIT_MAX_DT_MS)
    dt = LIMIT_MAX_DT_MS;
  if (L->rate)
    limit_refill_run(e, dt);
  for (struct xfer *x = e->live_head, *next; x; x = next) {
    next = x->lnext;
    struct limit_item *li = limit_find(L, x);
    if (li && li->rate) {
      double cap = (double)li->rate * 2 * TICK_MS / 1000.0;
      if (cap < LIMIT_MIN_BURST)
        cap = LIMIT_MIN_BURST;
      li->tokens += (double)li->rate * (double)dt / 1000.0;
      if (li->tokens > cap)
        li->tokens = cap;
    }
    for (int i = 0; x->run && i < x->run->nlegs; i++) {
      struct leg *l = &x->run->legs[i];
      if (!l->limit_paused)
        continue;
      if (!limit_leg_live(x, l)) {
        l->limit_paused = 0; /* that handle is gone: nothing to resume */
        continue;
      }
      int item_ok = !li || !li->rate || li->tokens > 0;
      int run_ok = !L->rate || l->limit_own > 0 || L->shared > 0;
      if (item_ok && run_ok) {
        l->limit_paused = 0;
        l->last_rx = now; /* the wait was ours, not the server's */
        curl_easy_pause(l->easy, CURLPAUSE_CONT); /* may call the write callback */
      }
    }
  }
}

/* SET_LIMIT: x NULL for the whole run.  Takes effect at the next tick. */
void limit_set(struct engine *e, struct xfer *x, int64_t rate)
{
  if (rate < 0)
    rate = 0;
  if (!x) {
    e->limit->rate = rate;
    e->limit->shared = 0;
    return;
  }
  struct limit_item *li = limit_item(x);
  li->rate = rate;
  if (li->tokens > 0)
    li->tokens = 0; /* a lower limit starts now, not after an old burst */
}

/* The limit shown for an item (0 = none), or the run's for x NULL. */
int64_t limit_rate(const struct engine *e, const struct xfer *x)
{
  if (!x)
    return e->limit ? e->limit->rate : 0;
  const struct limit_item *li = limit_find(e->limit, x);
  return li ? li->rate : (int64_t)item_spec(x)->settings->max_speed;
}
