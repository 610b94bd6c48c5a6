/* disk.c - the worker side of the stream, off the network thread: buffer
 * writes (with the streaming sha256 and, once per response, the resume
 * sidecar of resume.c) and whole-file hashing run as libuv work items on
 * its worker threads (in batches, see below); the engine thread only
 * submits them and gets the results in the after-work callback.  At most
 * one job per transfer is in flight, so writes and hash updates happen in
 * file order. */
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine-int.h"
#include "siphon/xalloc.h"

/* What a worker needs, copied out so it touches no engine state. */
struct job {
  struct job *next;
  struct xfer *x;
  atomic_int finished; /* set by the worker when the job is done */
  int reaped;          /* the engine took the result before after_cb */
  int fd;
  const char *buf;
  size_t len;
  int64_t off;
  EVP_MD_CTX *sha;     /* update with the written bytes, or NULL */
  char *meta_text;     /* also store the sidecar, or NULL */
  char *meta_path;
  char *hash_path;     /* hash this whole file instead of writing */
  unsigned char digest[32];
  int err;
};

static int write_all(int fd, const char *p, size_t n, int64_t off)
{
  while (n > 0) {
    ssize_t w = pwrite(fd, p, n, (off_t)off);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (w == 0)
      return EIO;
    p += w;
    n -= (size_t)w;
    off += w;
  }
  return 0;
}

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

static void run_job(struct job *j)
{
  if (j->hash_path) {
    hash_file(j);
    return;
  }
  j->err = write_all(j->fd, j->buf, j->len, j->off);
  if (!j->err && j->sha)
    EVP_DigestUpdate(j->sha, j->buf, j->len);
  if (!j->err && j->meta_text)
    resume_write_file(j->meta_path, j->meta_text); /* best effort: resume is a bonus */
}

/* Jobs go to the pool in batches: the last writes submitted during one loop
 * iteration travel as one work item, so a burst of small files costs one
 * thread hand-off, not one each.  Each transfer has at most one job in
 * flight, so a batch never reorders a file's writes. */
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

static void job_done(struct job *j, int status)
{
  struct xfer *x = j->x;
  if (j->reaped) { /* disk_reap already gave the buffer back */
    free(j->meta_text);
    free(j->meta_path);
    free(j);
    return;
  }
  struct stream *s = &x->run->st;
  s->cur_job = NULL;
  s->job_err = status == UV_ECANCELED ? ECANCELED : j->err;
  if (j->hash_path) {
    memcpy(s->job_digest, j->digest, sizeof s->job_digest);
    s->job_hash_file = 1;
  }
  free(j->meta_text);
  free(j->meta_path);
  free(j->hash_path);
  free(j);
  xfer_write_done(x);
}

static void batch_done(uv_work_t *req, int status)
{
  struct batch *b = req->data;
  struct engine *e = b->req.loop->data;
  for (struct job *j = b->jobs, *next; j; j = next) {
    next = j->next;
    job_done(j, status);
  }
  free(b);
  e->disk_batches--;
}

static void send_batch(struct engine *e, struct job *jobs)
{
  struct batch *b = xcalloc(1, sizeof *b);
  b->req.data = b;
  b->jobs = jobs;
  e->disk_batches++;
  if (uv_queue_work(&e->loop, &b->req, batch_work, batch_done) != 0) {
    /* cannot happen with a live loop; do it here rather than lose bytes */
    batch_work(&b->req);
    batch_done(&b->req, 0);
  }
}

/* uv_idle: runs before the loop polls (and keeps it from blocking while
 * jobs wait), so whatever phase queued them, they leave within the
 * iteration.  (A uv_check would not stop the poll from blocking: jobs queued
 * by a timer callback waited for the next event.) */
static void flush_pending(uv_idle_t *idle)
{
  struct engine *e = idle->data;
  uv_idle_stop(idle);
  struct job *jobs = e->disk_pending;
  e->disk_pending = NULL;
  e->disk_pending_tail = &e->disk_pending;
  if (jobs)
    send_batch(e, jobs);
}

/* A full buffer mid-stream goes at once: the sooner its write starts, the
 * less often the network side finds both buffers busy.  Last writes of a
 * transfer (and hashes) wait for the end of the iteration and travel
 * together. */
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

void disk_init(struct engine *e)
{
  e->loop.data = e;
  uv_idle_init(&e->loop, &e->disk_idle);
  e->disk_idle.data = e;
  e->disk_pending = NULL;
  e->disk_pending_tail = &e->disk_pending;
}

/* Hand the fill buffer to a worker and switch to the other buffer. */
void disk_submit_write(struct xfer *x)
{
  struct xrun *r = x->run;
  struct stream *s = &r->st;
  struct job *j = xcalloc(1, sizeof *j);
  j->x = x;
  j->fd = r->fd;
  j->buf = s->buf[s->fill];
  j->len = s->fill_len;
  j->off = s->submitted;
  s->submitted += (int64_t)s->fill_len;
  j->sha = x->spec->sha256 && r->sha_from_zero ? r->sha : NULL;
  if (resume_meta_wanted(x)) {
    j->meta_text = resume_meta_text(x);
    j->meta_path = xstrdup(r->meta_path);
  }
  int streaming = s->fill_len == s->cap && x->phase == PH_ATTACHED;
  s->fill ^= 1;
  s->fill_len = 0;
  s->inflight = 1;
  s->cur_job = j;
  enqueue(x->eng, j, streaming);
}

/* The network side found both buffers busy.  The worker has often written
 * the other one already, and only the notification (libuv's async wake-up,
 * handled once curl returns) is still on its way: take the buffer back now
 * instead of pausing the transfer.  1 if the buffer is free. */
int disk_reap(struct xfer *x)
{
  struct stream *s = &x->run->st;
  struct job *j = s->cur_job;
  if (!j || j->hash_path || !atomic_load_explicit(&j->finished, memory_order_acquire) ||
      j->err)
    return 0;
  j->reaped = 1;
  s->cur_job = NULL;
  s->inflight = 0;
  return 1;
}

void disk_submit_hash(struct xfer *x)
{
  struct xrun *r = x->run;
  struct job *j = xcalloc(1, sizeof *j);
  j->x = x;
  j->hash_path = xstrdup(r->part_path);
  r->st.inflight = 1;
  r->st.cur_job = j;
  enqueue(x->eng, j, 0);
}
