/* sched.c - the scheduler: hosts keyed by scheme://host:port, one queue of
 * waiting items per host, and admission.  An item is admitted only when a
 * global slot (concurrency) and a slot of its host (its per_host limit) are
 * free, and no more at once than the pool has connections (--max-connections),
 * so waiting items never sit inside curl.  Admission takes, among the
 * hosts with a free slot, the head with the lowest queue number; resumed
 * items get numbers below every other so they go first.  Extra legs of
 * segmented items count against their host's limit.  The scheduler only
 * picks (sched_next); xfer_pump admits.  Engine thread. */
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"
#include "siphon/xalloc.h"

/* "scheme://host:port" of a URL, lower-cased, default ports filled in. */
static void host_key(const char *url, char *key, size_t len)
{
  CURLU *u = curl_url();
  char *scheme = NULL, *hostname = NULL, *port = NULL;
  if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
    curl_url_get(u, CURLUPART_HOST, &hostname, 0);
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
  }
  snprintf(key, len, "%s://%s:%s", scheme ? scheme : "?", hostname ? hostname : "?",
           port ? port : "?");
  for (char *c = key; *c; c++)
    if (*c >= 'A' && *c <= 'Z')
      *c = (char)(*c - 'A' + 'a');
  curl_free(scheme);
  curl_free(hostname);
  curl_free(port);
  curl_url_cleanup(u);
}

struct host *sched_host(struct engine *e, const char *url)
{
  char key[MSG_HOST_KEY];
  host_key(url, key, sizeof key);
  for (size_t i = e->nhosts; i-- > 0;)
    if (strcmp(e->hosts[i]->key, key) == 0)
      return e->hosts[i];
  struct host *h = xcalloc(1, sizeof *h);
  memcpy(h->key, key, sizeof key);
  e->hosts = xrealloc(e->hosts, (e->nhosts + 1) * sizeof *e->hosts);
  e->hosts[e->nhosts++] = h;
  return h;
}

void sched_enqueue(struct engine *e, struct xfer *x, int front)
{
  struct host *h = x->host;
  x->phase = PH_QUEUED;
  outbox_set_state(x, MSG_STATE_QUEUED);
  x->qnext = x->qprev = NULL;
  if (front) {
    x->qseq = --e->qseq_front;
    x->qnext = h->qhead;
    if (h->qhead)
      h->qhead->qprev = x;
    else
      h->qtail = x;
    h->qhead = x;
  } else {
    x->qseq = ++e->qseq_back;
    x->qprev = h->qtail;
    if (h->qtail)
      h->qtail->qnext = x;
    else
      h->qhead = x;
    h->qtail = x;
  }
}

void sched_dequeue(struct xfer *x)
{
  struct host *h = x->host;
  if (x->qprev)
    x->qprev->qnext = x->qnext;
  else if (h->qhead == x)
    h->qhead = x->qnext;
  if (x->qnext)
    x->qnext->qprev = x->qprev;
  else if (h->qtail == x)
    h->qtail = x->qprev;
  x->qnext = x->qprev = NULL;
}

/* Queue order of two queued items: qseq counts up from the back and down
 * from the front and wraps, so it is compared as a distance (the items
 * queued at one time are far fewer than 2^31 enqueues apart). */
static int sched_before(const struct xfer *a, const struct xfer *b)
{
  return (int32_t)(a->qseq - b->qseq) < 0;
}

/* The next waiting item that a global and a per-host slot allow, taken
 * off its queue with its slots counted; NULL when none may start.  The
 * caller admits it (the scheduler never starts a transfer itself). */
struct xfer *sched_next(struct engine *e)
{
  /* an item needs a connection of its own (HTTP/1.1): admitting more than
     the pool holds only parks them in curl's pending list, which curl 7.88
     walks on every finished transfer (-j 1000 cost 2x per file) */
  int cap = e->run.concurrency < e->run.max_connections ? e->run.concurrency
                                                         : e->run.max_connections;
  if (e->stopping || e->running >= cap)
    return NULL;
  struct xfer *best = NULL;
  for (size_t i = 0; i < e->nhosts; i++) {
    struct xfer *head = e->hosts[i]->qhead;
    if (head && e->hosts[i]->running + e->hosts[i]->extra < item_spec(head)->settings->per_host &&
        (!best || sched_before(head, best)))
      best = head;
  }
  if (!best)
    return NULL;
  sched_dequeue(best);
  best->host->running++;
  e->running++;
  return best;
}

/* Give back the slots of an admitted item. */
void sched_release(struct engine *e, struct xfer *x)
{
  x->host->running--;
  e->running--;
}

enum { BACKOFF_FIRST_MS = 1000, BACKOFF_CAP_MS = 60000 };

/* When a failed attempt (or range) comes back: 1 s doubling to 60 s, with
 * jitter.  Here, below xfer.c and seg.c, which both ask. */
int64_t sched_backoff_ms(int retry_no)
{
  int64_t d = BACKOFF_FIRST_MS;
  for (int i = 1; i < retry_no && d < BACKOFF_CAP_MS; i++)
    d *= 2;
  if (d > BACKOFF_CAP_MS)
    d = BACKOFF_CAP_MS;
  /* +-20 % jitter so many failing items do not come back in lockstep */
  int64_t span = d * 2 / 5;
  return d - d / 5 + (span > 0 ? (int64_t)(rand() % (int)(span + 1)) : 0);
}
