/* stream.c - an item's bytes on their way into NAME.part: curl's write
 * callback, the write-behind buffers, opening the file and handing full
 * buffers to the disk side (disk.c, on libuv's workers).  Engine thread
 * only.  Two buffers per item: the engine fills one while a worker writes
 * the other. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine-int.h"
#include "guard.h"
#include "siphon/xalloc.h"

/* Transfer buffers of the run's usual size are kept for the next transfer
 * (as many as the running ones can use): no malloc/free of 2 x buffer size
 * per file, and the pages that stay resident are the same few buffers, not
 * fresh heap for every transfer of a long list. */
static char *buf_get(struct engine *e, size_t size)
{
  if (size == e->bufpool_size && e->bufpool_n > 0)
    return e->bufpool[--e->bufpool_n];
  return xmalloc(size);
}

static void buf_put(struct engine *e, char *buf, size_t size)
{
  size_t keep = 2 * (size_t)e->run.concurrency + 2;
  if (!buf)
    return;
  if (size != e->bufpool_size || e->bufpool_n >= keep) {
    free(buf);
    return;
  }
  if (e->bufpool_n == e->bufpool_cap) {
    e->bufpool_cap = e->bufpool_cap ? 2 * e->bufpool_cap : 16;
    e->bufpool = xrealloc(e->bufpool, e->bufpool_cap * sizeof *e->bufpool);
  }
  e->bufpool[e->bufpool_n++] = buf;
}

void stream_init(struct xfer *x)
{
  struct stream *s = &x->run->st;
  s->cap = x->spec->buffer_size;
  s->buf[0] = buf_get(x->eng, s->cap);
  s->buf[1] = buf_get(x->eng, s->cap);
}

void stream_free(struct xfer *x)
{
  struct xrun *r = x->run;
  if (r->fd >= 0)
    close(r->fd);
  r->fd = -1;
  buf_put(x->eng, r->st.buf[0], r->st.cap);
  buf_put(x->eng, r->st.buf[1], r->st.cap);
  r->st.buf[0] = r->st.buf[1] = NULL;
}

/* The first 2xx body of a file: open NAME.part (truncating it for a fresh
 * start) without blocking or following a symlink, and lock it: nothing is
 * truncated before the lock says no other siphon writes it.  0 or -errno
 * (-EBUSY: another siphon's; r->guard_msg says why). */
int stream_open(struct xfer *x)
{
  struct xrun *r = x->run;
  if (r->fd < 0) {
    int rc = guard_part_open(r->part_path, &r->fd, r->guard_msg, sizeof r->guard_msg);
    if (rc < 0)
      return rc;
  }
  if (r->truncate) {
    if (ftruncate(r->fd, 0) != 0)
      return -errno;
    r->truncate = 0;
  }
  return 0;
}

/* Close NAME.part.  0 or -errno. */
int stream_close(struct xfer *x)
{
  struct xrun *r = x->run;
  if (r->fd < 0)
    return 0;
  int rc = close(r->fd);
  r->fd = -1;
  return rc == 0 ? 0 : -errno;
}

/* Bytes buffered that a write could take. */
int stream_has_pending(const struct xfer *x)
{
  return x->run->st.fill_len > 0 && x->run->fd >= 0;
}

/* Drop the buffered bytes (they are not wanted any more). */
void stream_discard(struct xfer *x)
{
  x->run->st.fill_len = 0;
}

/* The next bytes go at file offset off. */
void stream_rewind(struct xfer *x, int64_t off)
{
  x->run->st.submitted = off;
  x->run->st.fill_len = 0;
}

/* Hand what is buffered to the disk side. */
void stream_submit(struct xfer *x)
{
  disk_submit_write(x);
}

/* Body bytes: copied into the fill buffer; a full buffer goes to a disk
 * worker while the other one fills.  When both are busy we take nothing
 * and pause the leg until the write completes, so memory stays at two
 * buffers however slow the disk is. */
size_t stream_write_cb(char *ptr, size_t size, size_t n, void *userp)
{
  struct leg *l = userp;
  struct xfer *x = l->x;
  struct stream *s = &x->run->st;
  size_t len = size * n;
  if (!l->body_ok)
    return len; /* an error page: drain it so the connection can be reused */
  if (len > s->cap)
    return 0; /* libcurl hands at most CURL_MAX_WRITE_SIZE (16K) <= cap */
  if (s->fill_len + len >= s->cap && s->inflight && !disk_reap(x)) {
    l->write_paused = 1;
    return CURL_WRITEFUNC_PAUSE;
  }
  size_t part = len;
  if (part > s->cap - s->fill_len)
    part = s->cap - s->fill_len;
  memcpy(s->buf[s->fill] + s->fill_len, ptr, part);
  s->fill_len += part;
  if (s->fill_len == s->cap) {
    disk_submit_write(x);
    if (len > part) {
      memcpy(s->buf[s->fill], ptr + part, len - part);
      s->fill_len = len - part;
    }
  }
  x->bytes += (int64_t)len;
  x->eng->bytes_total += (int64_t)len;
  l->last_rx = xfer_now(x);
  return len;
}
