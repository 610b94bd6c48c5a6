/* name.c - where an item's file goes: its name (from --output, the URL or
 * the response's Content-Disposition), the paths of NAME, NAME.part and
 * NAME.part.meta in the item's directory, and the names the run's items
 * have taken.  Engine thread only, and it never touches the disk: what is
 * on disk under a name a server gives is guard_name_probe's to look up,
 * on a disk worker. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine-int.h"
#include "sidecar.h"
#include "siphon/dlog.h"
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
  r->final_path = path_join(item_spec(x)->settings->dir, name);
  r->part_path = xasprintf("%s.part", r->final_path);
  r->meta_path = xasprintf("%s.part.meta", r->final_path);
}

/* The name before any response: --output, else the URL's. */
void name_init(struct xfer *x)
{
  char *name = item_spec(x)->output ? xstrdup(item_spec(x)->output) : fname_from_url(item_spec(x)->url);
  name_set(x, name ? name : "index.html");
  free(name);
  name_claim(x);
}

/* ---- names taken in this run ------------------------------------------
 * SPEC "One file, one owner": a name a server gives (Content-Disposition)
 * must not be one another item of the run writes, started or not.  The set
 * of every item's path is built the first time a server names a file (most
 * runs never pay for it); items admitted later add theirs. */
struct nameset {
  char **slot;
  size_t cap, n;
};

static uint64_t name_hash(const char *s)
{
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static char **nameset_find(struct nameset *ns, const char *path)
{
  size_t i = (size_t)name_hash(path) & (ns->cap - 1);
  while (ns->slot[i] && strcmp(ns->slot[i], path) != 0)
    i = (i + 1) & (ns->cap - 1);
  return &ns->slot[i];
}

static void nameset_add(struct nameset *ns, const char *path)
{
  if (2 * (ns->n + 1) > ns->cap) {
    struct nameset big = {xcalloc(ns->cap ? 2 * ns->cap : 64, sizeof(char *)),
                          ns->cap ? 2 * ns->cap : 64, 0};
    for (size_t i = 0; i < ns->cap; i++)
      if (ns->slot[i]) {
        *nameset_find(&big, ns->slot[i]) = ns->slot[i];
        big.n++;
      }
    free(ns->slot);
    *ns = big;
  }
  char **s = nameset_find(ns, path);
  if (!*s) {
    *s = xstrdup(path);
    ns->n++;
  }
}

void name_free_all(struct engine *e)
{
  struct nameset *ns = e->names;
  if (!ns)
    return;
  for (size_t i = 0; i < ns->cap; i++)
    free(ns->slot[i]);
  free(ns->slot);
  free(ns);
  e->names = NULL;
}

/* The path an item writes before any response names it. */
static char *planned_path(const struct xfer *x)
{
  if (x->run && x->run->final_path)
    return xstrdup(x->run->final_path);
  char *name = item_spec(x)->output ? xstrdup(item_spec(x)->output) : fname_from_url(item_spec(x)->url);
  char *path = path_join(item_spec(x)->settings->dir, name ? name : "index.html");
  free(name);
  return path;
}

static struct nameset *names_of_run(struct engine *e)
{
  if (!e->names) {
    e->names = xcalloc(1, sizeof *e->names);
    e->names->cap = 64; /* never empty: lookups mask with cap - 1 */
    e->names->slot = xcalloc(e->names->cap, sizeof(char *));
    for (size_t i = 0; i < e->nitems; i++) {
      char *p = planned_path(&e->slabs[i / ITEM_SLAB][i % ITEM_SLAB]);
      nameset_add(e->names, p);
      free(p);
    }
  }
  return e->names;
}

void name_claim(struct xfer *x)
{
  if (x->eng->names && x->run && x->run->final_path)
    nameset_add(x->eng->names, x->run->final_path);
}

/* "stem.N.ext" of name (N >= 1), or name itself for N = 0. */
static char *numbered(const char *name, int n)
{
  if (n == 0)
    return xstrdup(name);
  const char *dot = strrchr(name, '.');
  size_t stem = dot && dot != name ? (size_t)(dot - name) : strlen(name);
  return xasprintf("%.*s.%d%s", (int)stem, name, n, name + stem);
}

enum { NAME_TRIES = 1000 };

void name_for_added(struct engine *e, struct cfg_item *it)
{
  struct nameset *ns = names_of_run(e);
  char *name = it->output ? xstrdup(it->output) : fname_from_url(it->url);
  for (int n = 0; n < NAME_TRIES; n++) {
    char *cand = numbered(name, n);
    char *path = path_join(it->settings->dir, cand);
    int free_name = *nameset_find(ns, path) == NULL;
    if (free_name)
      nameset_add(ns, path);
    free(path);
    if (free_name && n > 0) {
      free(it->output);
      free(it->name);
      it->output = cand;
      it->name = xstrdup(cand);
      break;
    }
    free(cand);
    if (free_name)
      break;
  }
  free(name);
}

/* The next candidates for the server's name into g, from .N = g->next
 * on: the ones no other item of the run writes (this item's own path
 * counts as free).  The number of candidates (0: none left). */
static int next_candidates(struct xfer *x, struct guard_name *g)
{
  enum { CHUNK = 8 }; /* one disk job looks at this many; the first is usually free */
  struct nameset *ns = names_of_run(x->eng);
  for (int i = 0; i < g->n; i++)
    free(g->paths[i]);
  g->n = 0;
  if (!g->paths) {
    g->paths = xcalloc(CHUNK, sizeof *g->paths);
    g->nums = xcalloc(CHUNK, sizeof *g->nums);
  }
  for (; g->next < NAME_TRIES && g->n < CHUNK; g->next++) {
    char *cand = numbered(g->stem, g->next);
    char *path = path_join(item_spec(x)->settings->dir, cand);
    free(cand);
    if (*nameset_find(ns, path) != NULL && strcmp(path, x->run->final_path) != 0) {
      free(path);
      continue;
    }
    g->paths[g->n] = path;
    g->nums[g->n++] = g->next;
  }
  return g->n;
}

/* A response's Content-Disposition names a file that has no bytes yet (and
 * the user gave no output).  The server never chooses what is replaced: a
 * name another item of the run writes, or that is on disk already (a file,
 * or another download's .part), is passed over for the next free
 * stem.N.ext, whatever --overwrite says.  A .part of this URL with the
 * response's validator is this item's own from an earlier run.  What is on
 * disk is the disk side's to look at (guard_name_probe): this sets up
 * *out for it.  0: nothing to look at (the name stays); 1: *out is ready
 * for a disk job; -1: no free name. */
int name_probe_start(struct xfer *x, const struct headers *resp, struct guard_name **out)
{
  struct xrun *r = x->run;
  *out = NULL;
  if (item_spec(x)->output || r->st.opened || !resp->disposition)
    return 0;
  char *cd = fname_from_disposition(resp->disposition);
  if (!cd || strcmp(cd, r->name) == 0) {
    free(cd);
    return 0;
  }
  struct guard_name *g = xcalloc(1, sizeof *g);
  g->stem = cd;
  g->url = xstrdup(item_spec(x)->url);
  /* this response's validator (resume_on_response made it the run's) */
  const char *v = sidecar_validator(r->etag, r->last_modified);
  g->validator = v ? xstrdup(v) : NULL;
  if (next_candidates(x, g) == 0) {
    guard_name_free(g);
    return -1;
  }
  *out = g;
  return 1;
}

/* The disk side's answer to g is in.  0: the name is set (a fresh file);
 * NAME_RESUME: set, and an earlier run's .part of it can be resumed;
 * NAME_AGAIN: g holds the next candidates for another disk job; -1: no free
 * name. */
int name_probe_done(struct xfer *x, struct guard_name *g)
{
  if (g->found >= 0) {
    const char *path = g->paths[g->found];
    struct nameset *ns = names_of_run(x->eng);
    if (*nameset_find(ns, path) == NULL || strcmp(path, x->run->final_path) == 0) {
      char *cand = numbered(g->stem, g->nums[g->found]);
      name_set(x, cand);
      free(cand);
      nameset_add(ns, path);
      return g->resume ? NAME_RESUME : 0;
    }
    /* another item of the run took it while the disk answered */
    if (dlog_enabled())
      dlog("#%u %s: taken by another item meanwhile, looking further", x->id, path);
    g->next = g->nums[g->found] + 1;
  }
  return next_candidates(x, g) > 0 ? NAME_AGAIN : -1;
}
