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

int urllist_add_url(struct load *ld, const char *url, const char *file, int line, char *err,
                    size_t errlen)
{
  char shown[80];
  if (!cfg_url_ok(url)) {
    opts_shorten(shown, sizeof shown, url);
    load_err(err, errlen, file, line, "not an http(s) URL: %s", shown);
    return -1;
  }
  char *name = fname_from_url(url);
  const struct load_item *dup = load_item_find(ld, name);
  if (dup) {
    /* Two items of one name would share one file and one .part. */
    char first[CFG_ERR_MAX];
    if (*dup->file) {
      snprintf(first, sizeof first, "first at %s:%d", load_where(dup->file), dup->line);
    } else {
      opts_shorten(shown, sizeof shown, dup->url ? dup->url : "");
      snprintf(first, sizeof first, "first from %s", shown);
    }
    opts_shorten(shown, sizeof shown, url);
    if (*file)
      load_err(err, errlen, file, line, "duplicate item name '%s' (%s)", name, first);
    else /* argv has no FILE:LINE; say which URL it was */
      load_err(err, errlen, file, line, "duplicate item name '%s' for %s (%s)", name, shown,
               first);
    free(name);
    return -1;
  }
  struct load_item *it = load_item_add(ld, name, file, line);
  it->url = xstrdup(url);
  free(name);
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
