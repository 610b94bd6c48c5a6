/* guard.c - the checks that keep siphon's files its own: directories it
 * cannot write are found before any request, no file is written through
 * a symlinked directory below the run's directory, a .part is never a
 * FIFO or device (opened O_NONBLOCK | O_NOFOLLOW, then fstat), and an
 * advisory lock (flock) on the .part keeps two siphons off one file.
 * Plain libc; run by the disk workers (guard_prepare, the .part's open,
 * guard_name_probe for a name a server gives), so a hung disk holds up
 * only the transfers that use it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guard.h"
#include "sidecar.h"
#include "siphon/xalloc.h"

int guard_dir_writable(const char *dir, char *msg, size_t msglen)
{
  if (!dir || !*dir)
    dir = ".";
  struct stat sb;
  if (stat(dir, &sb) != 0) {
    if (errno == ENOENT)
      return 0; /* made on first use; a failure to make it says why */
    int err = errno;
    snprintf(msg, msglen, "%s: %s", dir, strerror(err));
    return -err;
  }
  if (!S_ISDIR(sb.st_mode)) {
    snprintf(msg, msglen, "%s is not a directory", dir);
    return -ENOTDIR;
  }
  if (access(dir, W_OK | X_OK) != 0) {
    int err = errno;
    snprintf(msg, msglen, "cannot write into %s: %s", dir, strerror(err));
    return -err;
  }
  return 0;
}

int guard_no_symlink_dirs(const char *path, size_t from, char *msg, size_t msglen)
{
  size_t n = strlen(path);
  if (from > n)
    return 0;
  char *p = xstrdup(path);
  int rc = 0;
  for (size_t i = from; i < n && rc == 0; i++) {
    if (p[i] != '/' || i == 0)
      continue;
    p[i] = '\0';
    struct stat sb;
    if (lstat(p, &sb) == 0 && S_ISLNK(sb.st_mode)) {
      snprintf(msg, msglen, "%s is a symlink: siphon never writes through one", p);
      rc = -ELOOP;
    }
    p[i] = '/';
  }
  free(p);
  return rc;
}

static int refuse(const char *path, unsigned mode, char *msg, size_t msglen)
{
  snprintf(msg, msglen, "%s is %s, not a regular file: refusing it", path, sidecar_kind(mode));
  return -EINVAL;
}

static int busy(const char *path, char *msg, size_t msglen)
{
  snprintf(msg, msglen, "%s is being written by another siphon", path);
  return -EBUSY;
}

int guard_part_probe(const char *path, int64_t *size, char *msg, size_t msglen)
{
  *size = -1;
  struct stat sb;
  if (lstat(path, &sb) != 0) {
    if (errno == ENOENT)
      return 0;
    int err = errno;
    snprintf(msg, msglen, "%s: %s", path, strerror(err));
    return -err;
  }
  if (!S_ISREG(sb.st_mode))
    return refuse(path, sb.st_mode, msg, msglen);
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    snprintf(msg, msglen, "%s: %s", path, strerror(err));
    return -err;
  }
  int rc = 0;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
    rc = refuse(path, sb.st_mode, msg, msglen);
  else if (flock(fd, LOCK_SH | LOCK_NB) != 0)
    rc = errno == EWOULDBLOCK ? busy(path, msg, msglen) : 0;
  else
    *size = sb.st_size;
  close(fd); /* drops our shared lock */
  return rc;
}

int guard_part_open(const char *path, int fresh, int *fd, int64_t *size, char *msg,
                    size_t msglen)
{
  *fd = -1;
  *size = -1;
  if (fresh) {
    /* what O_EXCL creates is a new regular file: no fstat, no O_NONBLOCK
       to take back; anything already there goes the careful way below */
    int f = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f >= 0) {
      if (flock(f, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        close(f);
        if (err == EWOULDBLOCK)
          return busy(path, msg, msglen);
        snprintf(msg, msglen, "%s: %s", path, strerror(err));
        return -err;
      }
      *fd = f;
      *size = 0;
      return 0;
    }
    if (errno != EEXIST) {
      int err = errno;
      snprintf(msg, msglen, "%s: %s", path, strerror(err));
      return -err;
    }
  }
  int f = open(path, O_WRONLY | O_CREAT | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (f < 0) {
    int err = errno;
    struct stat sb;
    if ((err == ELOOP || err == ENXIO) && lstat(path, &sb) == 0)
      return refuse(path, sb.st_mode, msg, msglen);
    snprintf(msg, msglen, "%s: %s", path, strerror(err));
    return -err;
  }
  struct stat sb = {0};
  int rc = 0;
  if (fstat(f, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    rc = refuse(path, sb.st_mode, msg, msglen);
  } else if (flock(f, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EWOULDBLOCK)
      rc = busy(path, msg, msglen);
    else {
      snprintf(msg, msglen, "%s: %s", path, strerror(err));
      rc = -err;
    }
  } else if (fcntl(f, F_SETFL, 0) != 0) {
    /* of the flags F_SETFL sets, the open above gave only O_NONBLOCK */
    int err = errno;
    snprintf(msg, msglen, "%s: %s", path, strerror(err));
    rc = -err;
  }
  if (rc != 0) {
    close(f);
    return rc;
  }
  *fd = f;
  *size = sb.st_size;
  return 0;
}

/* mkdir -p for the directory part of path.  0 or -errno. */
static int make_parents(const char *path)
{
  char *p = xstrdup(path);
  int rc = 0;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      rc = -errno;
      break;
    }
    *s = '/';
  }
  free(p);
  return rc;
}

void guard_prepare(struct guard_prep *p)
{
  struct stat sb;
  p->part_size = -1;
  p->meta_rc = 1;
  if (p->exists_path && lstat(p->exists_path, &sb) == 0) {
    p->exists = 1;
    return;
  }
  if (p->nolink_path) {
    p->rc = guard_no_symlink_dirs(p->nolink_path, p->nolink_from, p->msg, sizeof p->msg);
    if (p->rc < 0) {
      p->failed = GUARD_NOLINK;
      return;
    }
  }
  if (p->mkdir_path) {
    p->rc = make_parents(p->mkdir_path);
    if (p->rc < 0) {
      snprintf(p->msg, sizeof p->msg, "cannot create the directory of %s: %s", p->mkdir_path,
               strerror(-p->rc));
      p->failed = GUARD_MKDIR;
      return;
    }
    p->made = 1;
  }
  if (p->writable) {
    p->rc = guard_dir_writable(p->writable_dir, p->msg, sizeof p->msg);
    if (p->rc < 0) {
      p->failed = GUARD_WRITABLE;
      return;
    }
  }
  if (p->probe_path) {
    p->rc = guard_part_probe(p->probe_path, &p->part_size, p->msg, sizeof p->msg);
    p->probed = 1;
    if (p->rc < 0) {
      p->failed = GUARD_PROBE;
      return;
    }
    if (p->meta_path && p->part_size > 0)
      p->meta_rc = sidecar_read(p->meta_path, &p->meta, p->meta_msg, sizeof p->meta_msg);
  }
}

void guard_prep_free(struct guard_prep *p)
{
  if (!p)
    return;
  free(p->exists_path);
  free(p->nolink_path);
  free(p->mkdir_path);
  free(p->writable_dir);
  free(p->probe_path);
  free(p->meta_path);
  sidecar_free(&p->meta);
  free(p);
}

/* Is DIR/NAME.part the .part of this URL from an earlier run, with the
 * validator this response has?  Its sidecar says. */
static int is_our_part(const struct guard_name *g, const char *path)
{
  char *meta = xasprintf("%s.part.meta", path);
  struct sidecar sc;
  char msg[8];
  int ours = 0;
  if (sidecar_read(meta, &sc, msg, sizeof msg) == 0) {
    const char *had = sidecar_validator(sc.etag, sc.last_modified);
    ours = sidecar_url_matches(&sc, g->url) && had && g->validator &&
           strcmp(had, g->validator) == 0;
    sidecar_free(&sc);
  }
  free(meta);
  return ours;
}

void guard_name_probe(struct guard_name *g)
{
  g->found = -1;
  g->resume = 0;
  for (int i = 0; i < g->n; i++) {
    char *part = xasprintf("%s.part", g->paths[i]);
    struct stat sb;
    int has_part = lstat(part, &sb) == 0;
    free(part);
    if (has_part) {
      if (!is_our_part(g, g->paths[i]))
        continue; /* another download's .part: never touched */
      g->found = i;
      g->resume = 1;
      return;
    }
    if (lstat(g->paths[i], &sb) != 0) {
      g->found = i; /* neither a file nor a .part */
      return;
    }
  }
}

void guard_name_free(struct guard_name *g)
{
  if (!g)
    return;
  for (int i = 0; i < g->n; i++)
    free(g->paths[i]);
  free(g->paths);
  free(g->nums);
  free(g->url);
  free(g->validator);
  free(g->stem);
  free(g);
}
