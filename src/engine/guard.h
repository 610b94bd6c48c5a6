/* guard.h - the checks that keep siphon's files its own (SPEC "Integrity
 * and hostile input"): a directory that cannot be written, a symlink
 * below the run's directory, a .part that is a FIFO or a device or that
 * another siphon is writing.  Plain libc; engine thread (and disk
 * workers).  Each returns 0 or a negative errno-style code with a one-line
 * message naming the file in msg. */
#ifndef SIPHON_GUARD_H
#define SIPHON_GUARD_H

#include <stddef.h>
#include <stdint.h>

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
 * and take its advisory lock for as long as the fd stays open.  0 with
 * *fd and its *size, or -EBUSY / -EINVAL / -errno. */
int guard_part_open(const char *path, int *fd, int64_t *size, char *msg, size_t msglen);

#endif
