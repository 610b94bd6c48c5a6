/* fuzz_sidecar.c - libFuzzer target: the input as the bytes of a resume
 * sidecar (NAME.part.meta), which a later run reads back from a directory
 * anyone may have written to.  Whatever it holds, parsing never crashes or
 * reads past it; what parses formats back into a sidecar that parses to the
 * same validators and total. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/engine/sidecar.h"

static int same(const char *a, const char *b)
{
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int clean(const char *s)
{
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct sidecar sc;
  if (sidecar_parse((const char *)data, size, &sc) != 0)
    return 0;
  const char *v = sidecar_validator(sc.etag, sc.last_modified);
  if (v && v != sc.etag && v != sc.last_modified)
    abort();
  if (v && v == sc.etag && strncmp(v, "W/", 2) == 0)
    abort(); /* a weak ETag never validates */
  (void)sidecar_url_matches(&sc, "http://h/x");
  if (clean(sc.etag) && clean(sc.last_modified)) {
    char *text = sidecar_format("http://u:p@h/x?t=1", sc.etag, sc.last_modified, sc.total, sc.missing);
    struct sidecar back;
    if (sidecar_parse(text, strlen(text), &back) != 0)
      abort();
    if (!same(back.etag, sc.etag) || !same(back.last_modified, sc.last_modified) ||
        back.total != sc.total || !sidecar_url_matches(&back, "http://u:p@h/x?t=1"))
      abort();
    /* the URL's password and query never show in the file */
    const char *url = strstr(text, "\nurl ");
    size_t ul = url ? strcspn(url + 1, "\n") : 0;
    if (!url || memmem(url, ul + 1, ":p@", 3) || memmem(url, ul + 1, "t=1", 3))
      abort();
    sidecar_free(&back);
    free(text);
  }
  sidecar_free(&sc);
  return 0;
}
