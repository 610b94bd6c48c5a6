/* name.c - where an item's file goes: its name (from --output, the URL or
 * the response's Content-Disposition), the paths of NAME, NAME.part and
 * NAME.part.meta in the item's directory, and making that directory.
 * Engine thread only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine-int.h"
#include "siphon/fname.h"
#include "siphon/xalloc.h"

static char *path_join(const char *dir, const char *name)
{
  if (!dir || !*dir || strcmp(dir, ".") == 0)
    return xstrdup(name);
  size_t n = strlen(dir);
  return xasprintf("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
}

void name_set(struct xfer *x, const char *name)
{
  struct xrun *r = x->run;
  free(r->name);
  free(r->final_path);
  free(r->part_path);
  free(r->meta_path);
  r->name = xstrdup(name);
  r->final_path = path_join(x->spec->dir, name);
  r->part_path = xasprintf("%s.part", r->final_path);
  r->meta_path = xasprintf("%s.part.meta", r->final_path);
}

/* The name before any response: --output, else the URL's. */
void name_init(struct xfer *x)
{
  char *name = x->spec->output ? xstrdup(x->spec->output) : fname_from_url(x->spec->url);
  name_set(x, name ? name : "index.html");
  free(name);
}

/* mkdir -p for the directory part of path, skipped when it is the
 * directory made last (a list's items mostly share one). 0 or -errno. */
int name_make_parents(struct engine *e, const char *path)
{
  const char *slash = strrchr(path, '/');
  if (!slash)
    return 0;
  size_t dirlen = (size_t)(slash - path);
  if (e->last_dir && strlen(e->last_dir) == dirlen && memcmp(e->last_dir, path, dirlen) == 0)
    return 0;
  char *p = xstrdup(path);
  int rc = 0;
  for (char *s = p + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = '\0';
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
      rc = -errno;
      break;
    }
    *s = '/';
  }
  if (rc == 0) {
    free(e->last_dir);
    e->last_dir = xstrndup(path, dirlen);
  }
  free(p);
  return rc;
}

/* A response's Content-Disposition renames a file that has no bytes yet
 * (and no --output).  0, or 1 when the new name is already there and the
 * item is to be skipped. */
int name_from_disposition(struct xfer *x, const char *disposition)
{
  struct xrun *r = x->run;
  if (x->spec->output || r->fd >= 0 || !disposition)
    return 0;
  char *cd = fname_from_disposition(disposition);
  int rc = 0;
  if (cd && strcmp(cd, r->name) != 0) {
    name_set(x, cd);
    struct stat sb;
    if (!x->spec->overwrite && lstat(r->final_path, &sb) == 0)
      rc = 1;
  }
  free(cd);
  return rc;
}
