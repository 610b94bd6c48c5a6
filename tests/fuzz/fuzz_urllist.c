/* fuzz_urllist.c - libFuzzer target: the input as a URL list file (which
 * list-kind detection may still call INI), and its first line as a URL
 * given on the command line. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  int rc;
  fuzz_load_list("urls.txt", data, size);

  /* The first line, as an argv URL (argv strings hold no NUL). */
  size_t n = 0;
  while (n < size && data[n] != '\n' && data[n] != '\0')
    n++;
  char *arg = malloc(n + 1);
  memcpy(arg, data, n);
  arg[n] = '\0';
  if (strncmp(arg, "http", 4) == 0) {
    char *argv[] = {arg};
    err[0] = '\0';
    rc = cfg_plan_load(&plan, NULL, NULL, 1, argv, 1, err, sizeof err);
    fuzz_check(rc, &plan, err);
    if ((rc == 0) != (cfg_url_ok(arg) != 0))
      abort(); /* an argv URL loads exactly when it is a valid URL */
    cfg_plan_free(&plan);
  }
  free(arg);
  return 0;
}
