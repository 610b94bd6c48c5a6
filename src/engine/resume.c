/* resume.c - every decision about where a file resumes, and the sidecar
 * (NAME.part.meta: the URL, the validator, the expected size and, for a
 * segmented download, the ranges still missing) that
 * lets a later run resume it safely.  The sidecar is written atomically
 * (temp file, fsync, rename).  Engine thread, except resume_write_file,
 * which the disk workers also run (once per response, with a write job). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine-int.h"
#include "guard.h"
#include "sidecar.h"
#include "siphon/xalloc.h"

static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    if (w == 0)
      return EIO;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* Atomic replace: temp, fsync, rename.  The temp file is made afresh
 * (whatever was there, even a FIFO, is removed first, so the open never
 * waits), readable by its owner only: it may name a private URL.  errno
 * or 0. */
int resume_write_file(const char *path, const char *text)
{
  char *tmp = xasprintf("%s.tmp", path);
  int err = 0;
  unlink(tmp);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0) {
    err = errno;
    goto out;
  }
  err = write_all(fd, text, strlen(text));
  if (!err && fsync(fd) != 0)
    err = errno;
  if (close(fd) != 0 && !err)
    err = errno;
  if (!err && rename(tmp, path) != 0)
    err = errno;
  if (err)
    unlink(tmp);
out:
  free(tmp);
  return err;
}

/* The URL is stored masked (and hashed to compare): see sidecar.c. */
char *resume_meta_text(const struct xfer *x)
{
  const struct xrun *r = x->run;
  char *missing = NULL;
  if (r->seg) {
    /* every range not yet on disk: a .part of a segmented file is no prefix */
    size_t cap = r->missing.n * 42 + 16;
    missing = xmalloc(cap);
    if (ranges_format(&r->missing, missing, cap) < 0)
      snprintf(missing, cap, "0-%lld", (long long)(x->total > 0 ? x->total - 1 : 0));
  }
  char *text = sidecar_format(item_spec(x)->url, r->etag, r->last_modified, x->total, missing);
  free(missing);
  return text;
}

/* A sidecar's "missing" line for a file of total bytes: the item resumes
 * segmented (seg.c), fetching only those ranges.  0, or -1 (a bad line:
 * the caller starts over from zero). */
static int load_missing(struct xfer *x, const char *text, int64_t total)
{
  struct xrun *r = x->run;
  if (ranges_parse(&r->missing, text, strlen(text), total) != 0)
    return -1;
  r->seg = 1;
  r->resumed_ever = 1;
  r->sha_from_zero = 0;
  r->hashed = 0;
  ranges_clear(&r->todo);
  return 0;
}

/* An earlier run's .part resumes only when its sidecar (read by the
 * disk side: p) is for this URL and holds a validator that may go in
 * If-Range (never a weak ETag).  0 if usable; 1 if not (start over); -1
 * with msg when the sidecar is refused (a FIFO, a device, a symlink, too
 * big). */
static int meta_load(struct xfer *x, struct guard_prep *p, int64_t part_size, char *msg,
                     size_t msglen)
{
  struct xrun *r = x->run;
  struct sidecar *scp = &p->meta;
  if (p->meta_rc == -1) {
    snprintf(msg, msglen, "%s", p->meta_msg);
    return -1;
  }
  if (p->meta_rc != 0)
    return 1;
  struct sidecar sc = *scp;
  memset(scp, 0, sizeof *scp); /* ours now */
  int ok = sidecar_url_matches(&sc, item_spec(x)->url) &&
           sidecar_validator(sc.etag, sc.last_modified) &&
           !(sc.total >= 0 && part_size > sc.total);
  /* a segmented .part: only its missing ranges are fetched again (a bad
     list starts the file over) */
  if (ok && sc.missing)
    ok = sc.total > 0 && load_missing(x, sc.missing, sc.total) == 0;
  if (ok) {
    free(r->etag);
    free(r->last_modified);
    r->etag = sc.etag;
    r->last_modified = sc.last_modified;
    sc.etag = sc.last_modified = NULL;
    x->total = sc.total;
  }
  sidecar_free(&sc);
  return ok ? 0 : 1;
}

/* Before an attempt: how many bytes of the file we already have.  A .part
 * from an earlier run counts only with its stored validator; bytes of this
 * run count only with a validator too (SPEC: bytes are only joined when a
 * validator proves they belong together).  Until the file is open, what
 * NAME.part and its sidecar are comes from the disk side (p: the probe of
 * xfer.c's preparing phase).  0 to go on; 1 when the .part already holds
 * the whole file (finish it without a request); -EBUSY when another
 * siphon writes it; another negative code when the .part or its sidecar is
 * refused.  msg says why. */
int resume_decide(struct xfer *x, struct guard_prep *p, char *msg, size_t msglen)
{
  struct xrun *r = x->run;
  if (!r->st.opened && (!p || !p->probed)) {
    snprintf(msg, msglen, "%s: not looked at before the attempt", r->part_path);
    return -EIO; /* cannot happen: xfer.c probes first */
  }
  if (!r->st.opened && p->rc < 0) {
    snprintf(msg, msglen, "%s", p->msg);
    return p->rc;
  }
  if (!r->st.opened && !r->truncate) {
    int64_t size = p->part_size;
    int m = size > 0 ? meta_load(x, p, size, msg, msglen) : 1;
    if (m < 0)
      return -EINVAL;
    if (m == 0)
      x->bytes = r->seg ? x->total - ranges_bytes(&r->missing) : size;
    else
      x->bytes = 0, r->truncate = 1;
  }
  if (!r->truncate && x->bytes > 0 && !sidecar_validator(r->etag, r->last_modified))
    r->truncate = 1;
  if (r->truncate)
    x->bytes = 0;
  if (x->bytes > 0 && x->total >= 0 && x->bytes == x->total)
    return 1;
  return 0;
}

/* A 2xx response is in: where its body lands in the file (the offset), or
 * -1 when a 206 is not for the range we asked (start over from zero).  Its
 * validator becomes the one of the file on disk. */
int64_t resume_on_response(struct xfer *x, struct leg *l, int64_t content_length, int *rewind)
{
  struct xrun *r = x->run;
  int64_t start = 0;
  if (l->resp.status == 206) {
    if (l->resp.range_start != l->start)
      return -1;
    /* the right start but another file length: not the same file */
    if (l->start > 0 && x->total >= 0 && l->resp.range_total >= 0 &&
        l->resp.range_total != x->total)
      return -1;
    start = l->start;
    x->total = l->resp.range_total >= 0 ? l->resp.range_total
               : content_length >= 0    ? start + content_length
                                        : -1;
  } else {
    /* a 200 to a Range request: the server or the file changed; start over */
    x->total = content_length >= 0 ? content_length : -1;
    if (l->start > 0 || x->bytes > 0)
      r->truncate = 1;
    l->start = 0;
    x->bytes = 0;
    *rewind = 1; /* the caller drops what is buffered: writes start at 0 */
  }
  free(r->etag);
  free(r->last_modified);
  r->etag = l->resp.etag;
  r->last_modified = l->resp.last_modified;
  l->resp.etag = l->resp.last_modified = NULL;
  if (start > 0)
    r->resumed_ever = 1;
  r->meta_written = 0;
  return start;
}

/* Should this write job also store the sidecar?  Once per response, and
 * only for files big enough to be worth resuming; for a segmented file
 * whenever its missing ranges changed, at most once a second. */
int resume_meta_wanted(struct xfer *x)
{
  struct xrun *r = x->run;
  if (r->seg) {
    /* the missing ranges changed: at most once a second, so a kill -9
       loses about a second of a segmented download */
    uint64_t now = uv_now(&x->eng->loop);
    if (!r->meta_dirty || now - r->meta_at < 1000)
      return 0;
    r->meta_at = now;
    r->meta_dirty = 0;
    return 1;
  }
  if (r->meta_written || !(r->etag || r->last_modified))
    return 0;
  /* a file done within two buffers is cheaper to fetch again than to guard */
  if (x->total >= 0 && x->total <= (int64_t)(2 * r->st.cap))
    return 0;
  r->meta_written = 1;
  return 1;
}

/* An item ended in state st: what stays on disk (a worker does it, once
 * the file is closed: stream_end).  The .part and sidecar stay only when
 * the reason's policy keeps them, the item was not cancelled and the file
 * is not empty; a kept one gets its sidecar (*text) when it has a
 * validator. */
enum stream_tidy resume_tidy_plan(const struct xfer *x, enum msg_state st, char **text)
{
  const struct xrun *r = x->run;
  *text = NULL;
  if (!r->part_path || st == MSG_STATE_DONE || st == MSG_STATE_SKIPPED || r->hands_off)
    return TIDY_NONE;
  if (st == MSG_STATE_CANCELLED || !msg_reason_keeps_part(r->end_reason))
    return TIDY_DROP;
  if (r->etag || r->last_modified)
    *text = resume_meta_text(x);
  return TIDY_KEEP;
}
