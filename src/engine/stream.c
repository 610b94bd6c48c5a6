/* stream.c - an item's bytes on their way into NAME.part: curl's write
 * callback, the bounded write-behind, opening and closing the file, and
 * the disk work (pwritev, the streaming sha256, the resume sidecar,
 * whole-file hashing) on libuv's worker threads.
 *
 * The write callback copies curl's bytes into buffers of buffer_size.  Full
 * buffers queue up and go to a worker as one job (one pwritev for many
 * buffers) once WB_BATCH bytes wait, so the worker is woken per batch, not
 * per buffer.  The engine takes written buffers back by reading the job's
 * progress counter, without waiting for libuv's after-work round trip, and
 * sends the next batch at once.  Memory: each stream may hold WB_OWN
 * buffers, and beyond that borrows from WB_SHARED_MAX bytes shared by all;
 * a stream that gets no buffer pauses its leg (CURL_WRITEFUNC_PAUSE) until
 * its job is done.  Up to half of the shared bytes may be lent to curl's
 * receive buffers instead (stream_rx_size: bigger recvs).  One job per stream is in flight, so writes and hash
 * updates happen in file order.
 *
 * Each buffer carries its file offset: a segmented item's legs each fill
 * their own buffer at their own range (stream_write_at) into the same
 * queue, and a buffer counts as on disk (seg.c's missing ranges) only once
 * the worker has written it.  The split of a file (stream_split) makes the
 * next job store the sidecar listing the missing ranges and preallocate
 * the file before it writes anything at another offset.
 *
 * The disk side also does an item's file metadata, so a hung disk holds up
 * only the items that use it: the checks before an attempt (stream_prepare:
 * guard.c's guard_prepare), the close and tidy of an ended item's .part
 * (stream_end), and a cancelled item's stream, handed over while its write
 * hangs (stream_hand_over).  Jobs of one loop iteration go in one batch per
 * directory.
 *
 * Engine thread, except batch_work/run_job (a worker), which touch only
 * their job, and the job's atomics, which both sides read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "engine-int.h"
#include "guard.h"
#include "siphon/xalloc.h"

enum {
  WB_OWN = 4,                      /* buffers a stream may always hold */
  WB_SHARED_MAX = 16 << 20,        /* bytes all streams may hold beyond that */
  WB_BATCH = 2 << 20,              /* most bytes queued before a mid-stream job goes */
  WB_IOV = 64,                     /* buffers per pwritev */
  RX_BIG = 512 << 10,              /* curl's receive buffer while the shared bytes allow */
  RX_SHARED_MAX = WB_SHARED_MAX / 2 /* most shared bytes lent to receive buffers */
};

/* One hand-off to a worker: buffers to write at off (or a file to hash). */
struct job {
  struct job *next;                /* in a batch */
  struct xfer *x;
  atomic_int done;                 /* pieces written and hashed (worker) */
  atomic_int finished;             /* the worker is through with the job */
  atomic_int abandon;              /* the item is gone (cancelled): write no more */
  int reaped;                      /* the engine took it back before after_cb */
  int fd;
  char *open_path;                 /* first open (and maybe truncate) the file */
  int open_fresh;                  /* ... which was not there when looked at */
  int trunc;
  char *stale_meta;                /* remove this sidecar before truncating */
  int meta_first;                  /* store the sidecar before the writes (a split) */
  int64_t prealloc;                /* then preallocate this many bytes (a split) */
  int close;                       /* close fd after the writes */
  char *rename_from;               /* then rename the file */
  const char *rename_to;
  char *unlink_path;               /* then remove this */
  const char *err_path;            /* the path of the step that failed */
  struct piece *pieces;            /* each with its file offset */
  int n;
  EVP_MD_CTX *sha;                 /* update with the written bytes, or NULL */
  char *meta_text, *meta_path;     /* also store the sidecar, or NULL */
  char *hash_path;                 /* hash this whole file instead of writing */
  struct guard_prep *prep;         /* or look at the files before an attempt (the owner's) */
  struct guard_name *naming;       /* or at the candidates of a server's name (the owner's) */
  int ending;                      /* the item's last job (stream_end): never reaped early */
  int tidy;                        /* enum stream_tidy: what stays of the .part, after close */
  char *tidy_part, *tidy_meta, *tidy_text;
  unsigned char digest[32];
  int err;
  int refused;                     /* the .part was refused (guard.c): not ours */
};

/* ---- buffers ------------------------------------------------------- */

/* Buffers of the run's usual size are kept for the next transfer (up to
 * the memory the write-behind may hold), so a long list reuses the same
 * resident pages instead of fresh heap (and mmap faults) per file. */
static char *buf_get(struct engine *e, size_t size)
{
  if (size == e->bufpool_size && e->bufpool_n > 0)
    return e->bufpool[--e->bufpool_n];
  return xmalloc(size);
}

static void buf_put(struct engine *e, char *buf, size_t size)
{
  size_t keep = WB_OWN * (size_t)e->run.concurrency + WB_SHARED_MAX / (size ? size : 1);
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

/* A buffer for the stream within its budget, or NULL. */
static char *stream_buf_take(struct xfer *x)
{
  struct engine *e = x->eng;
  struct stream *s = &x->run->st;
  if (s->nbufs >= WB_OWN) {
    if (e->wb_shared + e->rx_lent + s->cap > WB_SHARED_MAX)
      return NULL;
    e->wb_shared += s->cap;
  }
  s->nbufs++;
  return buf_get(e, s->cap);
}

static void stream_buf_give(struct xfer *x, char *buf)
{
  struct engine *e = x->eng;
  struct stream *s = &x->run->st;
  if (!buf)
    return;
  if (s->nbufs > WB_OWN)
    e->wb_shared -= s->cap;
  s->nbufs--;
  buf_put(e, buf, s->cap);
}

/* curl's receive buffer for the leg's next handle.  buffer_size as a
 * rule; RX_BIG (fewer recv calls, and fewer ACKs and wake-ups of the TCP
 * stack, per byte) when that much more fits in the shared bytes, which
 * lend it until the handle is gone (stream_rx_release), so the write-behind
 * and the receive buffers together stay in the memory bound. */
size_t stream_rx_size(struct leg *l)
{
  struct engine *e = l->x->eng;
  size_t cap = l->x->run->st.cap;
  stream_rx_release(l);
  if (cap >= RX_BIG)
    return RX_BIG;
  size_t extra = RX_BIG - cap;
  if (e->rx_lent + extra > RX_SHARED_MAX || e->wb_shared + e->rx_lent + extra > WB_SHARED_MAX)
    return cap;
  e->rx_lent += extra;
  l->rx_extra = extra;
  return RX_BIG;
}

/* The leg's handle is gone: its receive buffer's loan goes back. */
void stream_rx_release(struct leg *l)
{
  l->x->eng->rx_lent -= l->rx_extra;
  l->rx_extra = 0;
}

/* ---- the worker side ------------------------------------------------- */

static void hash_file(struct job *j)
{
  int fd = open(j->hash_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    j->err = errno;
    return;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  char *buf = xmalloc(1 << 20);
  EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
  for (;;) {
    ssize_t n = read(fd, buf, 1 << 20);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      j->err = errno;
      break;
    }
    if (n == 0)
      break;
    EVP_DigestUpdate(ctx, buf, (size_t)n);
  }
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, j->digest, &len);
  EVP_MD_CTX_free(ctx);
  free(buf);
  close(fd);
}

/* pieces[0..n) at off, all of them (short writes continue). errno or 0. */
static int write_pieces(int fd, const struct piece *p, int n, int64_t off)
{
  struct iovec iov[WB_IOV];
  int first = 0;
  size_t skip = 0; /* bytes of pieces[first] already written */
  while (first < n) {
    int k = 0;
    for (int i = first; i < n && k < WB_IOV; i++, k++) {
      iov[k].iov_base = p[i].buf + (i == first ? skip : 0);
      iov[k].iov_len = p[i].len - (i == first ? skip : 0);
    }
    ssize_t w = pwritev(fd, iov, k, (off_t)off);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (w == 0)
      return EIO;
    off += w;
    size_t left = (size_t)w;
    while (left > 0) {
      size_t room = p[first].len - skip;
      if (left < room) {
        skip += left;
        left = 0;
      } else {
        left -= room;
        first++;
        skip = 0;
      }
    }
  }
  return 0;
}

/* A split file's blocks are reserved before its first write, so a full
 * disk shows at the start, not at 90 %.  On tmpfs a block is a page of RAM
 * that fallocate zeroes, a whole extra pass over the file while every leg
 * waits (0.3-0.7 s for 2 GiB here): there the free space is only checked.
 * File systems without fallocate get their blocks as the writes come. */
static int job_prealloc(struct job *j)
{
  struct statfs fs;
  struct stat st;
  if (fstatfs(j->fd, &fs) == 0 && fs.f_type == TMPFS_MAGIC) {
    if (fs.f_blocks == 0 || fstat(j->fd, &st) != 0)
      return 0; /* a tmpfs without a size limit */
    uint64_t have = (uint64_t)st.st_blocks * 512;
    uint64_t need = (uint64_t)j->prealloc > have ? (uint64_t)j->prealloc - have : 0;
    return need > (uint64_t)fs.f_bavail * (uint64_t)fs.f_bsize ? ENOSPC : 0;
  }
  if (fallocate(j->fd, 0, 0, (off_t)j->prealloc) != 0 && errno == ENOSPC)
    return ENOSPC;
  return 0;
}

/* The file operations around a job's writes; the err_path says which
 * path a failure names. */
static int job_open(struct job *j)
{
  int64_t size = -1; /* unknown unless opened here */
  if (j->open_path) {
    /* never blocks or follows a symlink, refuses a FIFO or device, and
       locks the file before anything (the truncate below) touches it */
    char msg[8];
    int rc = guard_part_open(j->open_path, j->open_fresh, &j->fd, &size, msg, sizeof msg);
    if (rc < 0) {
      j->refused = rc == -EBUSY || rc == -EINVAL;
      return -rc;
    }
  }
  if (j->trunc) {
    /* a sidecar listing a segmented file's missing ranges must never
       describe a .part that no longer holds the rest */
    if (j->stale_meta)
      unlink(j->stale_meta);
    /* a .part just created (the usual fresh start) is empty already */
    if (size != 0 && ftruncate(j->fd, 0) != 0)
      return errno;
  }
  if (j->meta_first) {
    /* from here on the .part is no prefix: its sidecar must say so first */
    int err = resume_write_file(j->meta_path, j->meta_text);
    if (err) {
      j->err_path = j->meta_path;
      return err;
    }
  }
  if (j->prealloc > 0)
    return job_prealloc(j);
  return 0;
}

static void job_close(struct job *j)
{
  if (j->close && j->fd >= 0) {
    if (close(j->fd) != 0 && !j->err)
      j->err = errno;
    j->fd = -1;
  }
  if (j->err)
    return;
  if (j->rename_from && rename(j->rename_from, j->rename_to) != 0) {
    j->err = errno;
    j->err_path = j->rename_to;
    return;
  }
  if (j->unlink_path)
    unlink(j->unlink_path);
}

/* An ended item's files, once closed (resume_tidy_plan decided): an
 * empty or unwanted .part goes with its sidecar; a kept one gets its
 * sidecar stored.  Only a regular file is touched. */
static void job_tidy(struct job *j)
{
  struct stat sb;
  if (j->tidy == TIDY_NONE || lstat(j->tidy_part, &sb) != 0 || !S_ISREG(sb.st_mode))
    return;
  if (j->tidy == TIDY_DROP || sb.st_size == 0) {
    unlink(j->tidy_part);
    unlink(j->tidy_meta);
  } else if (j->tidy_text) {
    resume_write_file(j->tidy_meta, j->tidy_text); /* best effort, as on pause */
  }
}

/* The pieces go out WB_IOV at a time, each group hashed and then published
 * as done, so the engine takes buffers back while the rest is written. */
static void run_job(struct job *j)
{
  if (j->hash_path) {
    hash_file(j);
    return;
  }
  if (j->prep) {
    guard_prepare(j->prep);
    return;
  }
  if (j->naming) {
    guard_name_probe(j->naming);
    return;
  }
  j->err = job_open(j);
  if (j->err) {
    job_tidy(j);
    return;
  }
  for (int i = 0, k; i < j->n; i += k) {
    if (atomic_load_explicit(&j->abandon, memory_order_acquire)) {
      j->err = ECANCELED; /* cancelled while an earlier write hung: the rest is not wanted */
      job_close(j);
      return;
    }
    /* one pwritev per run of buffers that follow each other in the file */
    int64_t end = j->pieces[i].off + (int64_t)j->pieces[i].len;
    for (k = 1; i + k < j->n && k < WB_IOV && j->pieces[i + k].off == end; k++)
      end += (int64_t)j->pieces[i + k].len;
    j->err = write_pieces(j->fd, j->pieces + i, k, j->pieces[i].off);
    if (j->err) {
      job_close(j);
      job_tidy(j);
      return;
    }
    for (int m = 0; m < k; m++)
      if (j->sha)
        EVP_DigestUpdate(j->sha, j->pieces[i + m].buf, j->pieces[i + m].len);
    atomic_store_explicit(&j->done, i + k, memory_order_release);
  }
  if (j->meta_text && !j->meta_first)
    resume_write_file(j->meta_path, j->meta_text); /* best effort: resume is a bonus */
  job_close(j);
  job_tidy(j);
}

/* Jobs go to the pool in batches: a mid-stream job alone, at once; the
 * last writes of transfers (and hashes) submitted during one loop
 * iteration together, so a burst of small files costs one thread hand-off,
 * not one each. */
struct batch {
  uv_work_t req;
  struct job *jobs;
};

static void batch_work(uv_work_t *req)
{
  struct batch *b = req->data;
  for (struct job *j = b->jobs; j; j = j->next) {
    run_job(j);
    atomic_store_explicit(&j->finished, 1, memory_order_release);
  }
}

static void job_free(struct job *j)
{
  free(j->open_path);
  free(j->stale_meta);
  free(j->rename_from);
  free(j->unlink_path);
  free(j->pieces);
  free(j->meta_text);
  free(j->meta_path);
  free(j->hash_path);
  free(j->tidy_part);
  free(j->tidy_meta);
  free(j->tidy_text);
  free(j);
}

/* The descriptor the job opened (or closed) is the stream's from now on. */
static void adopt_fd(struct xfer *x, const struct job *j)
{
  if (j->hash_path || j->prep || j->naming)
    return;
  x->run->fd = j->fd;
}

/* A buffer is on disk: for a segmented file, its bytes are missing no more. */
static void piece_written(struct xfer *x, const struct piece *p)
{
  struct xrun *r = x->run;
  if (!r->seg)
    return;
  ranges_remove(&r->missing, p->off, p->off + (int64_t)p->len);
  r->meta_dirty = 1;
}

/* Take back the buffers the worker has written.  When the whole job is
 * done (and did not fail), the stream lets go of it: the next job can go
 * without waiting for the after-work callback. */
static void stream_reap(struct xfer *x)
{
  struct stream *s = &x->run->st;
  struct job *j = s->job;
  if (!j || j->hash_path || j->prep || j->naming || j->ending)
    return;
  int done = atomic_load_explicit(&j->done, memory_order_acquire);
  for (; s->reclaimed < done; s->reclaimed++) {
    piece_written(x, &j->pieces[s->reclaimed]);
    stream_buf_give(x, j->pieces[s->reclaimed].buf);
    j->pieces[s->reclaimed].buf = NULL;
  }
  if (s->reclaimed == j->n && atomic_load_explicit(&j->finished, memory_order_acquire) &&
      !j->err) {
    adopt_fd(x, j);
    j->reaped = 1;
    s->job = NULL;
  }
}

/* libuv's after-work, per job not reaped: take the rest back, keep the
 * outcome, and let the state machine go on. */
static void job_done(struct job *j, int status)
{
  if (j->reaped) {
    job_free(j);
    return;
  }
  struct xfer *x = j->x;
  struct stream *s = &x->run->st;
  int done = atomic_load_explicit(&j->done, memory_order_acquire);
  for (; s->reclaimed < j->n; s->reclaimed++) {
    if (s->reclaimed < done && status != UV_ECANCELED)
      piece_written(x, &j->pieces[s->reclaimed]);
    stream_buf_give(x, j->pieces[s->reclaimed].buf);
  }
  s->job = NULL;
  adopt_fd(x, j);
  s->job_err = status == UV_ECANCELED ? ECANCELED : j->err;
  s->job_err_path = j->err_path;
  s->job_refused = j->refused;
  if (j->hash_path) {
    memcpy(s->job_digest, j->digest, sizeof s->job_digest);
    s->job_hash_file = 1;
  }
  s->job_named = j->naming != NULL;
  job_free(j);
  s->written(x);
}

static void batch_done(uv_work_t *req, int status)
{
  struct batch *b = req->data;
  for (struct job *j = b->jobs, *next; j; j = next) {
    next = j->next;
    job_done(j, status);
  }
  free(b);
}

static void send_batch(struct engine *e, struct job *jobs)
{
  struct batch *b = xcalloc(1, sizeof *b);
  b->req.data = b;
  b->jobs = jobs;
  if (uv_queue_work(&e->loop, &b->req, batch_work, batch_done) != 0) {
    /* cannot happen with a live loop; do it here rather than lose bytes */
    batch_work(&b->req);
    batch_done(&b->req, 0);
  }
}

/* The directory a job's item writes in: jobs of one directory share a
 * batch, those of another never wait behind them (a hung disk holds up
 * only the items that use it). */
static int same_dir(const struct job *a, const struct job *b)
{
  const char *da = item_spec(a->x)->settings->dir, *db = item_spec(b->x)->settings->dir;
  return da == db || (da && db && strcmp(da, db) == 0);
}

/* uv_idle: runs before the loop polls (and keeps it from blocking while
 * jobs wait), so whatever phase queued them, they leave within the
 * iteration, one batch per directory. */
static void flush_pending(uv_idle_t *idle)
{
  struct engine *e = idle->data;
  uv_idle_stop(idle);
  struct job *jobs = e->disk_pending;
  e->disk_pending = NULL;
  e->disk_pending_tail = &e->disk_pending;
  while (jobs) {
    struct job *batch = jobs, **btail = &batch->next, **rest;
    jobs = jobs->next;
    rest = &jobs;
    while (*rest) {
      struct job *j = *rest;
      if (same_dir(batch, j)) {
        *rest = j->next;
        *btail = j;
        btail = &j->next;
      } else {
        rest = &j->next;
      }
    }
    *btail = NULL;
    send_batch(e, batch);
  }
}

static void enqueue(struct engine *e, struct job *j, int now)
{
  j->next = NULL;
  if (now) {
    send_batch(e, j);
    return;
  }
  if (!e->disk_pending)
    uv_idle_start(&e->disk_idle, flush_pending);
  *e->disk_pending_tail = j;
  e->disk_pending_tail = &j->next;
}

void stream_loop_init(struct engine *e)
{
  uv_idle_init(&e->loop, &e->disk_idle);
  e->disk_idle.data = e;
  e->disk_pending = NULL;
  e->disk_pending_tail = &e->disk_pending;
}

/* ---- the engine side ------------------------------------------------ */

/* A buffer joins the queue with the file offset of its first byte. */
static void queue_piece(struct xfer *x, char *buf, size_t len, int64_t off)
{
  struct stream *s = &x->run->st;
  if (s->nqueued == s->qcap) {
    s->qcap = s->qcap ? 2 * s->qcap : 8;
    s->queued = xrealloc(s->queued, (size_t)s->qcap * sizeof *s->queued);
  }
  s->queued[s->nqueued++] = (struct piece){buf, len, off};
  s->queued_bytes += len;
}

/* Everything queued (and, when flushing, the partial fill buffers) goes to
 * a worker as one job.  now: mid-stream, at once; else with the other last
 * writes of this loop iteration. */
static void submit(struct xfer *x, int flush, int now)
{
  struct xrun *r = x->run;
  struct stream *s = &r->st;
  if (flush && s->fill && s->fill_len > 0) {
    queue_piece(x, s->fill, s->fill_len, s->queued_off);
    s->queued_off += (int64_t)s->fill_len;
    s->fill = NULL;
    s->fill_len = 0;
  }
  for (int i = 0; flush && i < r->nlegs; i++) {
    struct leg *l = &r->legs[i];
    if (l->fill && l->fill_len > 0) {
      queue_piece(x, l->fill, l->fill_len, l->fill_off);
      l->fill = NULL;
      l->fill_len = 0;
    }
  }
  int ops = s->open_pending || s->trunc_pending || s->meta_pending || s->split_pending ||
            (flush && s->close_pending);
  if ((s->nqueued == 0 && !ops) || s->job)
    return;
  struct job *j = xcalloc(1, sizeof *j);
  j->x = x;
  j->fd = r->fd;
  j->err_path = r->part_path;
  if (s->open_pending) {
    j->open_path = xstrdup(r->part_path);
    j->open_fresh = r->part_absent;
    r->part_absent = 0;
  }
  j->trunc = s->trunc_pending;
  if (j->trunc)
    j->stale_meta = xstrdup(r->meta_path);
  s->open_pending = s->trunc_pending = 0;
  j->n = s->nqueued;
  j->pieces = xmalloc((size_t)(j->n ? j->n : 1) * sizeof *j->pieces);
  if (j->n > 0)
    memcpy(j->pieces, s->queued, (size_t)j->n * sizeof *j->pieces);
  j->sha = item_sha256(x) && r->sha_from_zero ? r->sha : NULL;
  int finishing = flush && s->close_pending && s->rename_to;
  if (s->split_pending || s->meta_pending || (!finishing && resume_meta_wanted(x))) {
    j->meta_text = resume_meta_text(x);
    j->meta_path = xstrdup(r->meta_path);
  }
  if (s->split_pending) {
    j->meta_first = 1;
    j->prealloc = x->total;
    s->split_pending = 0;
  }
  s->meta_pending = 0;
  if (flush && s->close_pending) {
    j->close = 1;
    if (s->rename_to) {
      j->rename_from = xstrdup(r->part_path);
      j->rename_to = s->rename_to;
    }
    /* a complete file needs no sidecar (if one was ever written or read) */
    if (finishing && (r->meta_written || r->resumed_ever || r->seg))
      j->unlink_path = xstrdup(r->meta_path);
    s->close_pending = 0;
    s->rename_to = NULL;
  }
  s->nqueued = 0;
  s->queued_bytes = 0;
  s->job = j;
  s->reclaimed = 0;
  enqueue(x->eng, j, now);
}

/* written: called once a job's outcome is in and the engine did not take
 * it back early (errors, flushes, a paused leg). */
void stream_init(struct xfer *x, void (*written)(struct xfer *x))
{
  x->run->st.cap = item_spec(x)->settings->buffer_size;
  x->run->st.written = written;
}

/* Give back every buffer not in a worker's hands. */
static void drop_buffers(struct xfer *x)
{
  struct stream *s = &x->run->st;
  for (int i = 0; i < s->nqueued; i++)
    stream_buf_give(x, s->queued[i].buf);
  s->nqueued = 0;
  s->queued_bytes = 0;
  stream_buf_give(x, s->fill);
  s->fill = NULL;
  s->fill_len = 0;
  for (int i = 0; i < x->run->nlegs; i++) {
    struct leg *l = &x->run->legs[i];
    stream_buf_give(x, l->fill);
    l->fill = NULL;
    l->fill_len = 0;
  }
}

void stream_free(struct xfer *x)
{
  struct xrun *r = x->run;
  for (int i = 0; i < r->nlegs; i++)
    stream_rx_release(&r->legs[i]);
  if (r->fd >= 0)
    close(r->fd);
  r->fd = -1;
  drop_buffers(x);
  free(r->st.queued);
  r->st.queued = NULL;
  r->st.qcap = 0;
}

/* The first 2xx body of a file: NAME.part is opened (and truncated for a
 * fresh start) by the worker, ahead of the first write; a failure comes
 * back as the job's error. */
void stream_open(struct xfer *x)
{
  struct xrun *r = x->run;
  struct stream *s = &r->st;
  if (!s->opened)
    s->opened = s->open_pending = 1;
  if (r->truncate) {
    s->trunc_pending = 1;
    r->truncate = 0;
  }
}

/* After the buffered bytes, on the worker: store the sidecar (pause) and
 * close the file (shutdown). */
void stream_later(struct xfer *x, int close_file, int save_meta)
{
  struct stream *s = &x->run->st;
  if (close_file && s->opened)
    s->close_pending = 1;
  if (save_meta)
    s->meta_pending = 1;
}

/* A complete file: after its last write the worker closes it, renames it
 * to its final name and removes its sidecar. */
void stream_finish_later(struct xfer *x, const char *rename_to)
{
  struct stream *s = &x->run->st;
  s->close_pending = 1;
  s->rename_to = rename_to;
}

/* The item ended: a job closes NAME.part (if open) and tidies its files as
 * `tidy` says (text: the sidecar to store, taken over).  1 when a job went
 * (its end comes through the written callback), 0 when there was nothing
 * to do. */
int stream_end(struct xfer *x, enum stream_tidy tidy, char *text)
{
  struct xrun *r = x->run;
  if (r->fd < 0 && (tidy == TIDY_NONE || !r->part_path)) {
    free(text);
    return 0;
  }
  struct job *j = xcalloc(1, sizeof *j);
  j->x = x;
  j->fd = r->fd;
  j->close = r->fd >= 0;
  j->ending = 1;
  j->err_path = r->part_path;
  j->pieces = xmalloc(sizeof *j->pieces);
  if (tidy != TIDY_NONE && r->part_path) {
    j->tidy = tidy;
    j->tidy_part = xstrdup(r->part_path);
    j->tidy_meta = xstrdup(r->meta_path);
    j->tidy_text = text;
    text = NULL;
  }
  free(text);
  r->fd = -1; /* the job's now */
  r->st.job = j;
  r->st.reclaimed = 0;
  enqueue(x->eng, j, 0);
  return 1;
}

/* Before an attempt: a worker runs the checks p asks for (guard_prepare);
 * the answers are in p when the written callback comes. */
void stream_prepare(struct xfer *x, struct guard_prep *p)
{
  struct xrun *r = x->run;
  struct job *j = xcalloc(1, sizeof *j);
  j->x = x;
  j->fd = -1;
  j->prep = p;
  j->pieces = xmalloc(sizeof *j->pieces);
  r->st.job = j;
  r->st.reclaimed = 0;
  enqueue(x->eng, j, 0);
}

/* Before a name a server gave is taken: a worker looks at the candidates
 * in g (guard_name_probe); the answer is in g when the written callback
 * comes (with job_named set). */
void stream_name_probe(struct xfer *x, struct guard_name *g)
{
  struct xrun *r = x->run;
  struct job *j = xcalloc(1, sizeof *j);
  j->x = x;
  j->fd = -1;
  j->naming = g;
  j->pieces = xmalloc(sizeof *j->pieces);
  r->st.job = j;
  r->st.reclaimed = 0;
  enqueue(x->eng, j, 0);
}

/* The item is gone from the user's view (cancelled) while its stream goes
 * on: from now on the stream, its job in flight and its legs belong to
 * `to` (which outlives the job) and report to `written`.  The job in
 * flight writes nothing after its current write. */
void stream_hand_over(struct xfer *x, struct xfer *to, void (*written)(struct xfer *x))
{
  struct xrun *r = x->run;
  r->st.written = written;
  for (int i = 0; i < r->nlegs; i++)
    r->legs[i].x = to;
  if (r->st.job) {
    r->st.job->x = to;
    atomic_store_explicit(&r->st.job->abandon, 1, memory_order_release);
  }
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

/* A job is in flight (its outcome will come through the written callback). */
int stream_busy(const struct xfer *x)
{
  return x->run && x->run->st.job != NULL;
}

/* Bytes buffered, or file operations, that a job could take. */
int stream_has_pending(const struct xfer *x)
{
  const struct stream *s = &x->run->st;
  int legs = 0;
  for (int i = 0; i < x->run->nlegs; i++)
    legs |= x->run->legs[i].fill_len > 0;
  return (s->opened && (s->fill_len > 0 || s->nqueued > 0 || legs || s->open_pending ||
                        s->trunc_pending || s->split_pending || s->close_pending)) ||
         s->meta_pending;
}

/* Drop the buffered bytes (they are not wanted any more). */
void stream_discard(struct xfer *x)
{
  if (x->run->st.cap)
    drop_buffers(x);
}

/* The next bytes go at file offset off. */
void stream_rewind(struct xfer *x, int64_t off)
{
  stream_discard(x);
  x->run->st.queued_off = off;
}

/* Write everything buffered (the end of a response, pause, shutdown). */
void stream_flush(struct xfer *x)
{
  submit(x, 1, 0);
}

/* Once a tick: bytes that wait for a batch that is not filling up (a slow
 * connection) go now, and so does the open of a file whose first buffer
 * is not full yet (NAME.part appears within a tick of the response; a
 * small file that ends sooner is opened with its only write). */
void stream_tick(struct xfer *x)
{
  struct stream *s = &x->run->st;
  if ((s->nqueued > 0 || s->open_pending) && !s->job && x->phase == PH_ATTACHED)
    submit(x, 0, 1);
}

void stream_submit_hash(struct xfer *x)
{
  struct xrun *r = x->run;
  struct job *j = xcalloc(1, sizeof *j);
  j->x = x;
  j->hash_path = xstrdup(r->part_path);
  r->st.job = j;
  r->st.reclaimed = 0;
  enqueue(x->eng, j, 0);
}

/* How many queued bytes make a batch: WB_BATCH, less when many streams
 * share the memory (each gets to half its share, so the others still
 * find buffers while a batch fills), never less than one buffer. */
static size_t batch_bytes(const struct xfer *x)
{
  const struct engine *e = x->eng;
  size_t share = WB_SHARED_MAX / (2 * (size_t)(e->running > 1 ? e->running : 1));
  size_t b = share < WB_BATCH ? share : WB_BATCH;
  return b > x->run->st.cap ? b : x->run->st.cap;
}

/* A full fill buffer joins the queue; a batch goes when big enough. */
static void queue_fill(struct xfer *x)
{
  struct stream *s = &x->run->st;
  queue_piece(x, s->fill, s->fill_len, s->queued_off);
  s->queued_off += (int64_t)s->fill_len;
  s->fill = NULL;
  s->fill_len = 0;
  if (!s->job && s->queued_bytes >= batch_bytes(x))
    submit(x, 0, 1);
}

/* The leg waits for the disk: what is queued goes now if nothing is in
 * flight, and the leg resumes when the job is done (the written callback). */
static size_t pause_leg(struct leg *l)
{
  if (!l->x->run->st.job)
    submit(l->x, 0, 1);
  l->write_paused = 1;
  return CURL_WRITEFUNC_PAUSE;
}

/* Body bytes: copied into the fill buffer.  When the stream can get no
 * buffer (its own are all waiting and the shared ones are taken), the leg
 * pauses until its job is done; memory stays bounded however slow the
 * disk is.  Curl 7.88 hands at most CURL_MAX_WRITE_SIZE (16 KiB, whatever
 * its receive buffer) <= buffer_size bytes per call, so a call spans at
 * most two buffers, both taken before anything is copied (a write callback
 * takes all or nothing). */
size_t stream_write_cb(char *ptr, size_t size, size_t n, void *userp)
{
  struct leg *l = userp;
  struct xfer *x = l->x;
  struct stream *s = &x->run->st;
  size_t len = size * n;
  if (!l->body_ok)
    return len; /* an error page: drain it so the connection can be reused */
  if (limit_write(l))
    return CURL_WRITEFUNC_PAUSE; /* over a speed limit: the tick resumes it */
  if (x->run->seg)
    return x->eng->split_write(l, ptr, len); /* seg_write: charges the limit for what it takes */
  if (len > s->cap)
    return 0;
  if (s->job)
    stream_reap(x);
  if (!s->fill && !(s->fill = stream_buf_take(x)))
    return pause_leg(l);
  char *next = NULL;
  if (s->fill_len + len > s->cap && !(next = stream_buf_take(x)))
    return pause_leg(l);
  size_t part = len < s->cap - s->fill_len ? len : s->cap - s->fill_len;
  memcpy(s->fill + s->fill_len, ptr, part);
  s->fill_len += part;
  if (s->fill_len == s->cap) {
    queue_fill(x);
    if (next) {
      s->fill = next;
      memcpy(s->fill, ptr + part, len - part);
      s->fill_len = len - part;
    }
  }
  x->bytes += (int64_t)len;
  x->eng->bytes_total += (int64_t)len;
  limit_took(l, len);
  l->last_rx = uv_now(&x->eng->loop);
  return len;
}

/* A file is split over several legs (seg.c): before the next job writes
 * anything, it stores the sidecar listing the missing ranges and
 * preallocates the whole file. */
void stream_split(struct xfer *x)
{
  x->run->st.split_pending = 1;
}

/* No buffer for a leg: every leg's partial buffer goes to a worker with
 * the queue (unless a job is in flight already), so a job surely runs and
 * its end (the written callback) wakes the leg; legs holding half-filled
 * buffers can never all wait for each other. */
static size_t pause_legs(struct leg *l)
{
  if (!l->x->run->st.job)
    submit(l->x, 1, 1);
  l->write_paused = 1;
  return CURL_WRITEFUNC_PAUSE;
}

/* A segmented item's leg: bytes at l->pos into the leg's own buffer, which
 * joins the item's queue (at its offset) when full, or when the leg's next
 * bytes belong elsewhere (a new range).  len bytes taken, or
 * CURL_WRITEFUNC_PAUSE when no buffer is to be had (as for one leg). */
size_t stream_write_at(struct leg *l, const char *ptr, size_t len)
{
  struct xfer *x = l->x;
  struct stream *s = &x->run->st;
  if (len > s->cap)
    return 0;
  int paused = 0;
  for (int i = 0; i < x->run->nlegs; i++)
    paused |= x->run->legs[i].write_paused;
  /* taking a finished job back skips the written callback, which wakes
     paused legs */
  if (s->job && !paused)
    stream_reap(x);
  if (l->fill && l->fill_off + (int64_t)l->fill_len != l->pos) {
    /* the tail of the leg's previous range */
    queue_piece(x, l->fill, l->fill_len, l->fill_off);
    l->fill = NULL;
    l->fill_len = 0;
  }
  if (!l->fill) {
    if (!(l->fill = stream_buf_take(x)))
      return pause_legs(l);
    l->fill_len = 0;
    l->fill_off = l->pos;
  }
  char *next = NULL;
  if (l->fill_len + len > s->cap && !(next = stream_buf_take(x)))
    return pause_legs(l);
  size_t part = len < s->cap - l->fill_len ? len : s->cap - l->fill_len;
  memcpy(l->fill + l->fill_len, ptr, part);
  l->fill_len += part;
  if (l->fill_len == s->cap) {
    queue_piece(x, l->fill, l->fill_len, l->fill_off);
    l->fill = next;
    l->fill_len = 0;
    l->fill_off = l->pos + (int64_t)part;
    if (next) {
      memcpy(next, ptr + part, len - part);
      l->fill_len = len - part;
    }
    if (!s->job && s->queued_bytes >= batch_bytes(x))
      submit(x, 0, 1);
  }
  return len;
}

/* A leg's range ended: what its buffer holds joins the queue now. */
void stream_leg_tail(struct leg *l)
{
  struct xfer *x = l->x;
  struct stream *s = &x->run->st;
  if (!l->fill)
    return;
  if (l->fill_len > 0) {
    queue_piece(x, l->fill, l->fill_len, l->fill_off);
    if (!s->job && s->queued_bytes >= batch_bytes(x))
      submit(x, 0, 1);
  } else {
    stream_buf_give(x, l->fill);
  }
  l->fill = NULL;
  l->fill_len = 0;
}
