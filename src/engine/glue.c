/* glue.c - one curl multi handle driven by the engine's libuv loop through
 * the socket interface (CURLMOPT_SOCKETFUNCTION starts and stops a
 * uv_poll_t per socket, CURLMOPT_TIMERFUNCTION arms one uv_timer_t), as in
 * curl's docs/examples/multi-uv.c.  It also owns the pool accounting: every
 * socket curl opens or closes goes through our open/close callbacks, so the
 * per-host open count is exact.  Engine thread only. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine-int.h"
#include "siphon/xalloc.h"

struct sockctx {
  uv_poll_t poll;
  curl_socket_t fd;
  struct engine *eng;
  int events;                      /* UV_READABLE/UV_WRITABLE polled now, 0 stopped */
  int wanted;                      /* curl wants events on it (not CURL_POLL_REMOVE) */
};

static void sockctx_closed(uv_handle_t *h)
{
  free(h->data);
}

/* After any socket_action: every finished transfer, every time (a transfer
 * ended by curl's connect timeout is often the last one running). */
static void glue_drain(struct engine *e)
{
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(e->multi, &left))) {
    if (m->msg != CURLMSG_DONE)
      continue;
    CURL *easy = m->easy_handle;
    CURLcode rc = m->data.result;
    if (easy == e->pruner) {
      curl_multi_remove_handle(e->multi, easy);
      e->pruner_attached = 0;
      continue;
    }
    struct leg *l = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&l);
    if (l)
      e->leg_done(l, rc);
  }
  if (e->seg_kick)
    e->open_extra_legs(e); /* curl takes new handles only outside its callbacks;
                              a callback: glue.c calls nothing above it */
}

static void on_poll(uv_poll_t *p, int status, int events)
{
  struct sockctx *c = p->data;
  if (!c->wanted) {
    /* an idle connection of the pool (or a paused one) stirred: curl
       does not want to hear of it, so stop polling it now (see socket_cb) */
    uv_poll_stop(&c->poll);
    c->events = 0;
    return;
  }
  int flags = 0;
  if (status < 0)
    flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE)
    flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE)
    flags |= CURL_CSELECT_OUT;
  int running;
  curl_multi_socket_action(c->eng->multi, c->fd, flags, &running);
  glue_drain(c->eng);
}

static void on_curl_timer(uv_timer_t *t)
{
  struct engine *e = t->data;
  int running;
  curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  glue_drain(e);
}

static int ours(const struct engine *e, curl_socket_t s)
{
  return (size_t)s < e->sock_cap && e->sock_host[s] > 0;
}

static void sockctx_close(struct sockctx *c)
{
  uv_poll_stop(&c->poll);
  uv_close((uv_handle_t *)&c->poll, sockctx_closed);
}

static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
  (void)easy;
  struct engine *e = userp;
  struct sockctx *c = socketp;
  if (what == CURL_POLL_REMOVE) {
    if (!c)
      return 0;
    curl_multi_assign(e->multi, s, NULL);
    /* A connection of ours comes back after a pause or with the next file
       and is closed through close_socket_cb: keep its poll handle until
       then, rather than re-creating it (ioctl + epoll_ctl) every time.
       Its polling stops only when an event comes while curl does not want
       it (on_poll): libuv's uv_poll_stop and uv_poll_start each cost an
       epoll_ctl, two per file on a reused connection. */
    if (ours(e, s))
      c->wanted = 0;
    else
      sockctx_close(c);
    return 0;
  }
  if (!c && ours(e, s))
    c = e->sock_ctx[s];
  if (!c) {
    c = xcalloc(1, sizeof *c);
    c->fd = s;
    c->eng = e;
    if (uv_poll_init_socket(&e->loop, &c->poll, s) != 0) {
      free(c);
      return -1;
    }
    c->poll.data = c;
    if (ours(e, s))
      e->sock_ctx[s] = c;
  }
  curl_multi_assign(e->multi, s, c);
  int ev = 0;
  if (what & CURL_POLL_IN)
    ev |= UV_READABLE;
  if (what & CURL_POLL_OUT)
    ev |= UV_WRITABLE;
  c->wanted = 1;
  if (ev != c->events)
    c->events = uv_poll_start(&c->poll, ev, on_poll) == 0 ? ev : 0;
  return 0;
}

static void close_poll_cb(uv_handle_t *h, void *arg)
{
  (void)arg;
  if (h->type == UV_POLL && !uv_is_closing(h))
    uv_close(h, sockctx_closed);
}

/* At shutdown, after curl_multi_cleanup: a socket curl never said REMOVE
 * or closesocket for (a transfer cut off mid-way) still has its context;
 * every poll handle in the loop is one of ours, closed with the callback
 * that frees it. */
void glue_close_polls(struct engine *e)
{
  uv_walk(&e->loop, close_poll_cb, NULL);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
  (void)multi;
  struct engine *e = userp;
  if (timeout_ms < 0)
    uv_timer_stop(&e->curl_timer);
  else
    uv_timer_start(&e->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
  return 0;
}

int glue_init(struct engine *e)
{
  e->multi = curl_multi_init();
  if (!e->multi)
    return -1;
  uv_timer_init(&e->loop, &e->curl_timer);
  e->curl_timer.data = e;
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
  curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
  curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
  curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)e->run.max_connections);
  curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->run.max_connections);
  return 0;
}

int glue_attach(struct engine *e, CURL *easy)
{
  return curl_multi_add_handle(e->multi, easy) == CURLM_OK ? 0 : -1;
}

int glue_detach(struct engine *e, CURL *easy)
{
  return curl_multi_remove_handle(e->multi, easy) == CURLM_OK ? 0 : -1;
}

/* ---- socket accounting -------------------------------------------- */

static void glue_socket_opened(struct engine *e, curl_socket_t s, struct host *h)
{
  if ((size_t)s >= e->sock_cap) {
    size_t cap = e->sock_cap ? e->sock_cap : 64;
    while (cap <= (size_t)s)
      cap *= 2;
    e->sock_host = xrealloc(e->sock_host, cap * sizeof *e->sock_host);
    memset(e->sock_host + e->sock_cap, 0, (cap - e->sock_cap) * sizeof *e->sock_host);
    e->sock_ctx = xrealloc(e->sock_ctx, cap * sizeof *e->sock_ctx);
    memset(e->sock_ctx + e->sock_cap, 0, (cap - e->sock_cap) * sizeof *e->sock_ctx);
    e->sock_cap = cap;
  }
  size_t hi = 0;
  while (hi < e->nhosts && e->hosts[hi] != h)
    hi++;
  e->sock_host[s] = (int)hi + 1;
  h->open++;
  e->pool_open++;
}

static int close_socket_cb(void *clientp, curl_socket_t s)
{
  struct engine *e = clientp;
  if (ours(e, s)) {
    struct host *h = e->hosts[e->sock_host[s] - 1];
    h->open--;
    e->pool_open--;
    e->sock_host[s] = 0;
    if (e->sock_ctx[s]) {
      sockctx_close(e->sock_ctx[s]);
      e->sock_ctx[s] = NULL;
    }
  }
  return close(s);
}

/* The pruner's sockets are refused before they exist: it only exists to
 * run curl's dead-connection sweep, which closes connections idle longer
 * than CURLOPT_MAXAGE_CONN (libcurl 7.88 sweeps only when a transfer
 * starts connecting). */
static curl_socket_t refuse_socket_cb(void *clientp, curlsocktype purpose,
                                      struct curl_sockaddr *addr)
{
  (void)clientp, (void)purpose, (void)addr;
  return CURL_SOCKET_BAD;
}

void glue_prune_idle(struct engine *e)
{
  if (e->pruner_attached || e->pool_open == 0)
    return;
  if (!e->pruner) {
    e->pruner = curl_easy_init();
    if (!e->pruner)
      return;
    /* a name only this handle resolves, so no DNS query leaves the machine */
    static const char resolve_entry[] = "siphon-pool-sweep.invalid:80:127.0.0.1";
    struct curl_slist *res = curl_slist_append(NULL, resolve_entry);
    curl_easy_setopt(e->pruner, CURLOPT_URL, "http://siphon-pool-sweep.invalid/");
    curl_easy_setopt(e->pruner, CURLOPT_RESOLVE, res);
    curl_easy_setopt(e->pruner, CURLOPT_OPENSOCKETFUNCTION, refuse_socket_cb);
    /* curl's sweep judges every connection by the sweeping handle's limits */
    curl_easy_setopt(e->pruner, CURLOPT_MAXAGE_CONN, (long)e->maxage_s);
    curl_easy_setopt(e->pruner, CURLOPT_MAXLIFETIME_CONN, (long)e->maxlife_s);
    curl_easy_setopt(e->pruner, CURLOPT_NOSIGNAL, 1L);
    e->pruner_resolve = res; /* freed with the handle at shutdown */
  }
  if (curl_multi_add_handle(e->multi, e->pruner) == CURLM_OK)
    e->pruner_attached = 1;
}

/* Every connection's socket: counted against the host of the transfer that
 * opens it. */
static curl_socket_t open_socket_cb(void *clientp, curlsocktype purpose,
                                  struct curl_sockaddr *addr)
{
  struct xfer *x = ((struct leg *)clientp)->x;
  (void)purpose;
  curl_socket_t s = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
  if (s == CURL_SOCKET_BAD)
    return s;
  glue_socket_opened(x->eng, s, x->host);
  return s;
}

void glue_set_socket_callbacks(struct engine *e, CURL *easy)
{
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket_cb);
  curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, e);
  curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_socket_cb);
}
