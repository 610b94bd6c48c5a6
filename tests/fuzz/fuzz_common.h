/* fuzz_common.h - shared by the libFuzzer targets: the input goes to a
 * file in a private temp dir (the loaders take paths), then the loaded
 * plan or the error is checked for what must always hold. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "siphon/cfg.h"
#include "siphon/fname.h"

static char fuzz_dir[64];

/* Leave no temp files behind when libFuzzer exits. */
static void fuzz_cleanup(void)
{
  unlink("list.ini");
  unlink("urls.txt");
  if (chdir("/") == 0)
    rmdir(fuzz_dir);
}

/* A private dir for the input files; cwd too, so "dir" keys stay inside. */
static void fuzz_init(void)
{
  /* tmpfs when there is one: a file is written per input. */
  strcpy(fuzz_dir, "/dev/shm/siphon-fuzz-XXXXXX");
  if (!mkdtemp(fuzz_dir)) {
    strcpy(fuzz_dir, "/tmp/siphon-fuzz-XXXXXX");
    if (!mkdtemp(fuzz_dir))
      abort();
  }
  if (chdir(fuzz_dir) != 0)
    abort();
  setenv("XDG_CONFIG_HOME", fuzz_dir, 1);
  atexit(fuzz_cleanup);
}

static void fuzz_write(const char *name, const uint8_t *data, size_t size)
{
  int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    abort();
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n <= 0)
      abort();
    data += n;
    size -= (size_t)n;
  }
  close(fd);
}

/* What any load must give: a sane plan, or one line of error text and
 * nothing to free. */
static void fuzz_check(int rc, const struct cfg_plan *plan, const char *err)
{
  if (rc != 0) {
    if (rc != -1 || !err[0] || plan->items || plan->nitems)
      abort();
    for (const unsigned char *p = (const unsigned char *)err; *p; p++)
      if (*p < 0x20 || *p == 0x7f)
        abort(); /* one line, no terminal escapes */
    return;
  }
  for (size_t i = 0; i < plan->nitems; i++) {
    const struct cfg_item *it = &plan->items[i];
    const struct cfg_settings *st = it->settings;
    if (!it->name || !*it->name || !cfg_url_ok(it->url) || !st || !st->dir || !*st->dir)
      abort();
    if (it->output && !fname_relpath_ok(it->output))
      abort();
    if (st->per_host < 1 || st->buffer_size < 16384 || st->buffer_size > 8u << 20 ||
        st->segments < 1 || st->segments > 32 || st->min_segment < 16384)
      abort();
    for (size_t j = 0; j < st->headers.n; j++)
      if (!strchr(st->headers.v[j], ':') || strpbrk(st->headers.v[j], "\r\n"))
        abort();
    for (size_t j = 0; j < i; j++)
      if (strcmp(plan->items[j].name, it->name) == 0)
        abort(); /* names are unique */
  }
  if (plan->run.concurrency < 1 || plan->run.max_connections < 1 || !plan->run.dir)
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  fuzz_init();
  return 0;
}

/* The input as a list file called name (its kind decided as for any list),
 * loaded and checked. */
static void fuzz_load_list(const char *name, const uint8_t *data, size_t size)
{
  struct cfg_plan plan;
  char err[CFG_ERR_MAX] = "";
  char *list[] = {(char *)name};
  fuzz_write(name, data, size);
  int rc = cfg_plan_load(&plan, NULL, NULL, 1, list, 1, err, sizeof err);
  fuzz_check(rc, &plan, err);
  cfg_plan_free(&plan);
}

#endif
