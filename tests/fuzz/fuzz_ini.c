/* fuzz_ini.c - libFuzzer target: the input as an INI list, then as the
 * config file in front of a URL. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  int rc;
  fuzz_load_list("list.ini", data, size);

  char *url[] = {"http://127.0.0.1/x"};
  err[0] = '\0';
  rc = cfg_plan_load(&plan, NULL, "list.ini", 0, url, 1, err, sizeof err);
  fuzz_check(rc, &plan, err);
  if (rc == 0) {
    struct cfg_item it;
    if (cfg_item_from_url(&plan, "https://127.0.0.1/a/b.iso", &it, err, sizeof err) != 0)
      abort();
    cfg_item_free(&it);
  }
  cfg_plan_free(&plan);
  return 0;
}
