/* test_guard.c - what the disk side checks before an attempt
 * (guard_prepare, run by a disk worker): the skip when the file exists,
 * a symlinked directory refused before anything is made, the directories
 * made, the .part probed (FIFO refused, another siphon's lock = busy) and
 * its sidecar read; the first failing check stops the rest. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/engine/guard.h"
#include "siphon/xalloc.h"

static char root[64];

static void setup(void)
{
  snprintf(root, sizeof root, "/tmp/siphon-guard-XXXXXX");
  cr_assert_not_null(mkdtemp(root));
}

static void teardown(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  cr_assert_eq(system(cmd), 0);
}

static char *at(const char *rel)
{
  return xasprintf("%s/%s", root, rel);
}

static void put(const char *rel, const char *text)
{
  char *p = at(rel);
  FILE *f = fopen(p, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
  free(p);
}

static struct guard_prep *admission(const char *file, int probe)
{
  struct guard_prep *p = xcalloc(1, sizeof *p);
  p->exists_path = at(file);
  p->nolink_path = at(file);
  p->nolink_from = strlen(root);
  p->mkdir_path = at(file);
  p->writable = 1;
  p->writable_dir = xstrdup(root);
  if (probe) {
    p->probe_path = xasprintf("%s/%s.part", root, file);
    p->meta_path = xasprintf("%s/%s.part.meta", root, file);
  }
  return p;
}

TestSuite(guard, .init = setup, .fini = teardown);

Test(guard, makes_the_directories_and_finds_no_part)
{
  struct guard_prep *p = admission("a/b/f.bin", 1);
  guard_prepare(p);
  cr_assert_eq(p->failed, GUARD_OK, "%s", p->msg);
  cr_assert(p->made && p->probed && !p->exists);
  cr_assert_eq(p->part_size, -1);
  cr_assert_eq(p->meta_rc, 1);
  char *d = at("a/b");
  struct stat sb;
  cr_assert(stat(d, &sb) == 0 && S_ISDIR(sb.st_mode));
  free(d);
  guard_prep_free(p);
}

Test(guard, an_existing_file_stops_before_anything_is_made)
{
  put("f.bin", "x");
  struct guard_prep *p = admission("f.bin", 1);
  free(p->mkdir_path);
  p->mkdir_path = at("never/f.bin");
  guard_prepare(p);
  cr_assert(p->exists);
  cr_assert(!p->made && !p->probed);
  char *d = at("never");
  cr_assert_neq(access(d, F_OK), 0);
  free(d);
  guard_prep_free(p);
}

Test(guard, a_symlinked_directory_is_refused_before_mkdir)
{
  char *target = at("elsewhere");
  char *link = at("in");
  cr_assert_eq(mkdir(target, 0755), 0);
  cr_assert_eq(symlink(target, link), 0);
  struct guard_prep *p = admission("in/sub/f.bin", 1);
  guard_prepare(p);
  cr_assert_eq(p->failed, GUARD_NOLINK);
  cr_assert_eq(p->rc, -ELOOP);
  cr_assert_not_null(strstr(p->msg, "symlink"), "%s", p->msg);
  cr_assert(!p->made && !p->probed);
  char *sub = at("elsewhere/sub");
  cr_assert_neq(access(sub, F_OK), 0, "made a directory through the symlink");
  free(sub);
  free(target);
  free(link);
  guard_prep_free(p);
}

Test(guard, a_file_in_the_way_of_a_directory_fails_mkdir)
{
  put("plain", "x");
  struct guard_prep *p = admission("plain/sub/f.bin", 1);
  guard_prepare(p);
  cr_assert_eq(p->failed, GUARD_MKDIR);
  cr_assert_not_null(strstr(p->msg, "cannot create the directory of"), "%s", p->msg);
  guard_prep_free(p);
}

Test(guard, the_part_and_its_sidecar_are_read)
{
  put("f.bin.part", "12345");
  char *text = sidecar_format("http://h/f.bin", "\"e1\"", NULL, 10, NULL);
  put("f.bin.part.meta", text);
  free(text);
  struct guard_prep *p = admission("f.bin", 1);
  guard_prepare(p);
  cr_assert_eq(p->failed, GUARD_OK, "%s", p->msg);
  cr_assert_eq(p->part_size, 5);
  cr_assert_eq(p->meta_rc, 0, "%s", p->meta_msg);
  cr_assert_str_eq(p->meta.etag, "\"e1\"");
  cr_assert_eq(p->meta.total, 10);
  guard_prep_free(p);
}

Test(guard, a_fifo_sidecar_is_refused_unread)
{
  put("f.bin.part", "12345");
  char *fifo = at("f.bin.part.meta");
  cr_assert_eq(mkfifo(fifo, 0644), 0);
  struct guard_prep *p = admission("f.bin", 1);
  guard_prepare(p); /* never waits on the FIFO */
  cr_assert_eq(p->failed, GUARD_OK, "%s", p->msg);
  cr_assert_eq(p->meta_rc, -1);
  cr_assert_not_null(strstr(p->meta_msg, "FIFO"), "%s", p->meta_msg);
  free(fifo);
  guard_prep_free(p);
}

Test(guard, a_fifo_part_is_refused)
{
  char *fifo = at("f.bin.part");
  cr_assert_eq(mkfifo(fifo, 0644), 0);
  struct guard_prep *p = admission("f.bin", 1);
  guard_prepare(p);
  cr_assert_eq(p->failed, GUARD_PROBE);
  cr_assert_eq(p->rc, -EINVAL);
  cr_assert_not_null(strstr(p->msg, "FIFO"), "%s", p->msg);
  free(fifo);
  guard_prep_free(p);
}

Test(guard, a_locked_part_is_busy)
{
  put("f.bin.part", "12345");
  char *part = at("f.bin.part");
  int fd = open(part, O_RDWR);
  cr_assert_geq(fd, 0);
  cr_assert_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
  struct guard_prep *p = admission("f.bin", 1);
  guard_prepare(p);
  cr_assert_eq(p->failed, GUARD_PROBE);
  cr_assert_eq(p->rc, -EBUSY);
  close(fd);
  free(part);
  guard_prep_free(p);
}

/* The open of a .part the probe did not find (fresh): created with O_EXCL,
 * empty, locked against a second siphon, writable. */
Test(guard, a_fresh_part_is_created_and_locked)
{
  char *part = at("n.bin.part");
  char msg[256];
  int fd = -1, fd2 = -1;
  int64_t size = -1, size2 = -1;
  cr_assert_eq(guard_part_open(part, 1, &fd, &size, msg, sizeof msg), 0, "%s", msg);
  cr_assert_geq(fd, 0);
  cr_assert_eq(size, 0);
  cr_assert_eq(write(fd, "abc", 3), 3);
  cr_assert_eq(guard_part_open(part, 0, &fd2, &size2, msg, sizeof msg), -EBUSY);
  cr_assert_eq(fd2, -1);
  cr_assert_not_null(strstr(msg, "another siphon"), "%s", msg);
  struct stat sb;
  cr_assert_eq(lstat(part, &sb), 0);
  cr_assert(S_ISREG(sb.st_mode));
  close(fd);
  free(part);
}

/* Whatever appeared after the probe (fresh, but O_EXCL finds something)
 * takes the careful way: a FIFO is refused, a file is opened as it is. */
Test(guard, a_fresh_open_that_finds_something_takes_the_careful_way)
{
  char *fifo = at("f.bin.part");
  cr_assert_eq(mkfifo(fifo, 0644), 0);
  char msg[256];
  int fd = -1;
  int64_t size = -1;
  cr_assert_eq(guard_part_open(fifo, 1, &fd, &size, msg, sizeof msg), -EINVAL);
  cr_assert_eq(fd, -1);
  cr_assert_not_null(strstr(msg, "FIFO"), "%s", msg);
  put("g.bin.part", "12345");
  char *part = at("g.bin.part");
  cr_assert_eq(guard_part_open(part, 1, &fd, &size, msg, sizeof msg), 0, "%s", msg);
  cr_assert_eq(size, 5, "the bytes already there are kept: the caller decides");
  close(fd);
  char *link = at("l.bin.part");
  cr_assert_eq(symlink(part, link), 0);
  cr_assert_lt(guard_part_open(link, 1, &fd, &size, msg, sizeof msg), 0);
  cr_assert_eq(fd, -1);
  free(link);
  free(part);
  free(fifo);
}
