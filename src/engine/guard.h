/* guard.h - the checks that keep siphon's files its own (SPEC "Integrity
 * and hostile input"): a directory that cannot be written, a symlink
 * below the run's directory, a .part that is a FIFO or a device or that
 * another siphon is writing.  Plain libc; disk workers (guard_prepare
 * runs them before an attempt).  Each returns 0 or a negative errno-style code with a one-line
 * message naming the file in msg. */
#ifndef SIPHON_GUARD_H
#define SIPHON_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "sidecar.h"

/* dir (NULL or "" = ".") is a directory this process can write into, or
 * does not exist yet (it will be made).  -ENOTDIR / -EACCES otherwise. */
int guard_dir_writable(const char *dir, char *msg, size_t msglen);

/* No directory of path from byte `from` on (the part below the run's
 * directory) is a symlink: -ELOOP naming it. */
int guard_no_symlink_dirs(const char *path, size_t from, char *msg, size_t msglen);

/* Before any request: what NAME.part is.  0 and *size (-1: none); -EINVAL
 * for a FIFO, device, symlink or directory; -EBUSY when another process
 * holds its lock (another siphon is writing it). */
int guard_part_probe(const char *path, int64_t *size, char *msg, size_t msglen);

/* Open NAME.part for writing (created 0644 if missing) without ever
 * blocking or following a symlink, refuse anything but a regular file,
 * and take its advisory lock for as long as the fd stays open.  fresh:
 * the probe found no NAME.part, so it is first created with O_EXCL (two
 * syscalls fewer per file; whatever appeared meanwhile takes the careful
 * way).  0 with *fd and its *size, or -EBUSY / -EINVAL / -errno. */
int guard_part_open(const char *path, int fresh, int *fd, int64_t *size, char *msg,
                    size_t msglen);

/* What the disk side looks at before an attempt (a disk worker runs
 * guard_prepare; the engine reads the answers once the job is back), so a
 * hung disk never holds up the engine thread.  A NULL path skips its
 * check; the first check that fails stops the rest. */
enum guard_step { GUARD_OK, GUARD_NOLINK, GUARD_MKDIR, GUARD_WRITABLE, GUARD_PROBE };
struct guard_prep {
  /* asked */
  char *exists_path;           /* the item is skipped when this exists (lstat) */
  char *nolink_path;           /* no symlinked directory in it from byte nolink_from on */
  size_t nolink_from;
  char *mkdir_path;            /* make the directories this path's file goes in */
  int writable;                /* then writable_dir (NULL = ".") must be writable */
  char *writable_dir;
  char *probe_path;            /* what NAME.part is (guard_part_probe) */
  char *meta_path;             /* its sidecar, read when the .part has bytes */
  /* found */
  int exists;
  int made;                    /* mkdir_path's directories exist now */
  enum guard_step failed;
  int rc;                      /* the failed step's negative code */
  char msg[512];               /* ... and its one-line message */
  int probed;                  /* the probe ran: part_size (-1: no .part) */
  int64_t part_size;
  int meta_rc;                 /* sidecar_read's answer (1: none) */
  char meta_msg[512];
  struct sidecar meta;
};

/* Run the checks prep asks for (a disk worker). */
void guard_prepare(struct guard_prep *p);
void guard_prep_free(struct guard_prep *p);

/* A name a server gave (Content-Disposition) against the disk, on a disk
 * worker: the first candidate whose NAME.part is this URL's own from an
 * earlier run (its sidecar has the URL and the response's validator), or
 * that has neither a file nor a .part.  name.c picks the candidates (the
 * run's own names left out) and applies the answer. */
struct guard_name {
  /* asked */
  char *url;                   /* the item's URL, as its sidecar records it */
  char *validator;             /* this response's ETag or Last-Modified, or NULL */
  char **paths;                /* candidates in order: DIR/NAME */
  int *nums;                   /* the .N each is (name.c's) */
  int n;
  char *stem;                  /* the server's name (name.c's, for the next candidates) */
  int next;                    /* the next .N to try after these (name.c's) */
  /* found */
  int found;                   /* index of the first usable candidate, or -1 */
  int resume;                  /* ... which has this URL's .part to resume */
};

/* Look at the candidates (a disk worker). */
void guard_name_probe(struct guard_name *g);
void guard_name_free(struct guard_name *g);

#endif
