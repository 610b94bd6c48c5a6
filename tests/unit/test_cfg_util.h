/* test_cfg_util.h - helpers for the cfg and args unit tests: each test
 * runs in its own scratch directory (Criterion forks a process per test,
 * so chdir and setenv stay inside the test), writes list files there and
 * loads them. */
#ifndef TEST_CFG_UTIL_H
#define TEST_CFG_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "siphon/cfg.h"

#define TCU static __attribute__((unused))

static char tcu_dir[64];

TCU int tcu_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  chmod(path, 0700);
  return remove(path);
}

/* A fresh scratch dir as the cwd; config lookups point into it too, so a
 * user's own ~/.config never leaks into a test. */
TCU void tcu_setup(void)
{
  strcpy(tcu_dir, "/tmp/siphon-cfg-XXXXXX");
  cr_assert_not_null(mkdtemp(tcu_dir));
  cr_assert_eq(chdir(tcu_dir), 0);
  setenv("XDG_CONFIG_HOME", tcu_dir, 1);
  setenv("HOME", tcu_dir, 1);
}

TCU void tcu_teardown(void)
{
  if (chdir("/") == 0 && tcu_dir[0])
    nftw(tcu_dir, tcu_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write text to a file in the scratch dir (sub-dirs made as needed). */
TCU void tcu_write(const char *name, const char *text)
{
  char path[512];
  snprintf(path, sizeof path, "%s", name);
  for (char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
    *p = '\0';
    mkdir(path, 0700);
    *p = '/';
  }
  FILE *f = fopen(name, "wb");
  cr_assert_not_null(f, "cannot write %s", name);
  fwrite(text, 1, strlen(text), f);
  fclose(f);
}

/* Load inputs (NULL-terminated) without a config file; the rc. */
TCU int tcu_load_cfg(struct cfg_plan *plan, const struct cfg_opts *cli, const char *config,
                        int no_config, char *err, const char *const *inputs)
{
  size_t n = 0;
  while (inputs[n])
    n++;
  err[0] = '\0';
  return cfg_plan_load(plan, cli, config, no_config, (char *const *)inputs, n, err,
                       CFG_ERR_MAX);
}

/* Expect loading one file to fail with exactly msg. */
TCU void tcu_expect_err(const char *file, const char *text, const char *msg)
{
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  tcu_write(file, text);
  const char *in[] = {file, NULL};
  int rc = tcu_load_cfg(&plan, NULL, NULL, 1, err, in);
  cr_assert_eq(rc, -1, "%s should fail with \"%s\"", file, msg);
  cr_assert_str_eq(err, msg);
  cr_assert_eq(plan.nitems, 0);
  cr_assert_null(plan.items);
}

/* Load one file that must succeed. */
TCU void tcu_expect_ok(struct cfg_plan *plan, const char *file, const char *text)
{
  char err[CFG_ERR_MAX];
  tcu_write(file, text);
  const char *in[] = {file, NULL};
  int rc = tcu_load_cfg(plan, NULL, NULL, 1, err, in);
  cr_assert_eq(rc, 0, "%s should load, got: %s", file, err);
}

/* The item called name in the plan (the test fails if there is none). */
TCU const struct cfg_item *tcu_item(const struct cfg_plan *plan, const char *name)
{
  for (size_t i = 0; i < plan->nitems; i++)
    if (strcmp(plan->items[i].name, name) == 0)
      return &plan->items[i];
  cr_assert_fail("no item named %s", name);
  return NULL;
}

/* The value of header name in an item, or NULL. */
TCU const char *tcu_header(const struct cfg_headers *h, const char *name)
{
  size_t n = strlen(name);
  for (size_t i = 0; i < h->n; i++)
    if (strncasecmp(h->v[i], name, n) == 0 && h->v[i][n] == ':')
      return h->v[i] + n + 2;
  return NULL;
}

#endif
