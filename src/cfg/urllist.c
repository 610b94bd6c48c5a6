/* urllist.c - plain URL lists (one URL per line, "-" for stdin) and URLs
 * given on the command line: each becomes one item named from its URL.
 * Main thread only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphon/cfg.h"
#include "siphon/fname.h"
#include "siphon/xalloc.h"
#include "cfg-int.h"

enum { MAX_NUMBERED = 100000 };

/* The first free "stem.N.ext" (N = 1, 2, ...) for a name already taken;
 * malloc'd, or NULL when all are taken. */
static char *numbered_name(const struct load *ld, const char *name)
{
  const char *dot = strrchr(name, '.');
  size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
  const char *ext = name + stem;
  for (int n = 1; n <= MAX_NUMBERED; n++) {
    char *cand = xasprintf("%.*s.%d%s", (int)stem, name, n, ext);
    if (!load_item_find(ld, cand))
      return cand;
    free(cand);
  }
  return NULL;
}

int urllist_add_url(struct load *ld, const char *url, const char *file, int line, char *err,
                    size_t errlen)
{
  char shown[80];
  if (!cfg_url_ok(url)) {
    char msg[CFG_ERR_MAX];
    cfg_url_err(msg, sizeof msg, url);
    load_err(err, errlen, file, line, "%s", msg);
    return -1;
  }
  char *name = fname_from_url(url);
  char *output = NULL;
  if (load_item_find(ld, name)) {
    /* Two items of one name would share one file and one .part: like wget
       and aria2, the later one gets a numbered name, "stem.N.ext", chosen
       in list order so a rerun of the same list finds the same .part. */
    output = numbered_name(ld, name);
    if (!output) {
      opts_shorten(shown, sizeof shown, url);
      load_err(err, errlen, file, line, "too many items named '%s' (%s)", name, shown);
      free(name);
      return -1;
    }
    free(name);
    name = xstrdup(output);
  }
  struct load_item *it = load_item_add_url(ld, url, name, file, line);
  it->output = output;
  return 0;
}

int urllist_load(struct load *ld, const char *path, char *err, size_t errlen)
{
  char *buf;
  size_t len;
  if (load_read_file(path, &buf, &len, err, errlen) < 0)
    return -1;
  return urllist_parse(ld, path, buf, err, errlen);
}

int urllist_parse(struct load *ld, const char *path, char *buf, char *err, size_t errlen)
{
  int rc = -1, line = 0;
  size_t before = ld->nitems;
  char *p = buf;
  if (strncmp(p, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
    p += 3;
  while (*p) {
    char *nl = strchr(p, '\n');
    char *next = nl ? nl + 1 : p + strlen(p);
    char *end = nl ? nl : next;
    line++;
    while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
      end--;
    *end = '\0';
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p && *p != '#' && urllist_add_url(ld, p, path, line, err, errlen) < 0)
      goto out;
    p = next;
  }
  if (ld->nitems == before) {
    load_err(err, errlen, path, 0, "no downloads in this list");
    goto out;
  }
  rc = 0;
out:
  free(buf);
  return rc;
}
