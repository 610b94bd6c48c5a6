/* plan.c - the plan of a run: finds the config file, loads it and every
 * input in order (INI lists, URL lists, stdin, URLs), then applies the
 * precedence of SPEC.md to give each item its final settings:
 *   item > profile > command line > its list's [settings] > config > default
 * and the run-wide settings (later lists win, the command line over all).
 * Main thread only, before the engine starts; cfg_item_from_url also for
 * the UI's "add a URL". */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "siphon/cfg.h"
#include "siphon/fname.h"
#include "siphon/xalloc.h"
#include "cfg-int.h"

#define PLAN_BIT(k) (1u << CFG_KEY_##k)

/* $XDG_CONFIG_HOME/siphon/config.ini, else ~/.config/siphon/config.ini;
 * malloc'd, or NULL when neither variable helps. */
static char *plan_default_config(void)
{
  const char *xdg = getenv("XDG_CONFIG_HOME");
  if (xdg && *xdg)
    return xasprintf("%s/siphon/config.ini", xdg);
  const char *home = getenv("HOME");
  if (home && *home)
    return xasprintf("%s/.config/siphon/config.ini", home);
  return NULL;
}

/* A scheme and "://" up front: the input is a URL, not a file name. */
static int plan_is_url(const char *s)
{
  if (!isalpha((unsigned char)*s))
    return 0;
  while (isalnum((unsigned char)*s) || *s == '+' || *s == '-' || *s == '.')
    s++;
  return strncmp(s, "://", 3) == 0;
}

/* The config file if there is one: a missing default is fine, a missing
 * --config FILE is not. */
static int plan_load_config(struct load *ld, const char *config_path, char *err, size_t errlen)
{
  if (config_path)
    return inilist_load(ld, config_path, 1, err, errlen);
  char *path = plan_default_config();
  int rc = 0;
  struct stat st;
  if (path && !(stat(path, &st) < 0 && (errno == ENOENT || errno == ENOTDIR)))
    rc = inilist_load(ld, path, 1, err, errlen);
  free(path);
  return rc;
}

/* SPEC.md: INI when the name ends in .ini or the first line that is
 * neither blank nor a comment starts with '['.  The file is read once and
 * the kind decided from that text, so a pipe (siphon <(...)) works too. */
static int plan_load_input(struct load *ld, const char *in, char *err, size_t errlen)
{
  if (strcmp(in, "-") == 0)
    return urllist_load(ld, in, err, errlen);
  if (plan_is_url(in))
    return urllist_add_url(ld, in, "", 0, err, errlen);
  size_t n = strlen(in);
  if (n >= 4 && strcasecmp(in + n - 4, ".ini") == 0)
    return inilist_load(ld, in, 0, err, errlen);
  char *buf;
  size_t len;
  if (load_read_file(in, &buf, &len, err, errlen) < 0)
    return -1;
  if (load_looks_ini(buf))
    return inilist_parse(ld, in, 0, buf, len, err, errlen);
  return urllist_parse(ld, in, buf, err, errlen);
}

/* base joined with a safe relative sub-dir, as it opens from the cwd. */
static char *plan_join(const char *base, const char *sub)
{
  if (!sub)
    return xstrdup(base);
  if (strcmp(base, ".") == 0)
    return xstrdup(sub);
  size_t n = strlen(base);
  return xasprintf("%s%s%s", base, n && base[n - 1] == '/' ? "" : "/", sub);
}

/* How much of plan_join(base, ...)/NAME is base and its '/'. */
static size_t plan_base_len(const char *base)
{
  size_t n = strlen(base);
  if (strcmp(base, ".") == 0)
    return 0;
  return n && base[n - 1] == '/' ? n : n + 1;
}

enum { POOL_LOOKBACK = 64 };

/* The plan's one copy of s: items of a list share their dir and file name,
 * so a list of 20,000 URLs holds each once.  Only the most recent strings
 * are searched: consecutive items are the ones that share. */
static const char *plan_intern(struct cfg_plan *plan, char *s)
{
  for (size_t i = plan->npool, seen = 0; i-- > 0 && seen < POOL_LOOKBACK; seen++)
    if (strcmp(plan->pool[i], s) == 0) {
      free(s);
      return plan->pool[i];
    }
  plan->pool = xrealloc(plan->pool, (plan->npool + 1) * sizeof *plan->pool);
  plan->pool[plan->npool++] = s;
  return s;
}

struct planned_file {
  char *path;
  size_t item;
};

static int planned_cmp(const void *a, const void *b)
{
  const struct planned_file *x = a, *y = b;
  int c = strcmp(x->path, y->path);
  return c ? c : (x->item > y->item) - (x->item < y->item);
}

/* Two items must never write one file (they would share one .part): each
 * item's file, its dir joined with its output or its URL's name, must be
 * its own.  The later item is the error. */
static int plan_check_files(const struct cfg_plan *plan, char *err, size_t errlen)
{
  int rc = 0;
  struct planned_file *f = xcalloc(plan->nitems ? plan->nitems : 1, sizeof *f);
  for (size_t i = 0; i < plan->nitems; i++) {
    const struct cfg_item *it = &plan->items[i];
    char *name = it->output ? xstrdup(it->output) : fname_from_url(it->url);
    f[i].path = plan_join(it->settings->dir, name);
    f[i].item = i;
    free(name);
  }
  qsort(f, plan->nitems, sizeof *f, planned_cmp);
  for (size_t i = 1; i < plan->nitems && rc == 0; i++) {
    if (strcmp(f[i].path, f[i - 1].path) != 0)
      continue;
    const struct cfg_item *a = &plan->items[f[i - 1].item], *b = &plan->items[f[i].item];
    char first[CFG_ERR_MAX], shown[80];
    opts_shorten(shown, sizeof shown, f[i].path);
    if (*a->settings->file)
      snprintf(first, sizeof first, "%s:%d", load_where(a->settings->file), a->line);
    else
      snprintf(first, sizeof first, "the command line");
    load_err(err, errlen, b->settings->file, b->line,
             "'%s' would write the same file as '%s' (%s): %s; give one an output",
             b->name, a->name, first, shown);
    rc = -1;
  }
  for (size_t i = 0; i < plan->nitems; i++)
    free(f[i].path);
  free(f);
  return rc;
}

/* Hand a string over: the loader's copy becomes the plan's. */
static char *take(char **s)
{
  char *t = *s;
  *s = NULL;
  return t;
}

/* An interned copy of s, or NULL for NULL. */
static const char *plan_intern_opt(struct cfg_plan *plan, const char *s)
{
  return s ? plan_intern(plan, xstrdup(s)) : NULL;
}

/* The network keys of an item.  max_speed in [settings] limits the whole
 * run, so an item's own limit comes only from its profile or itself; the
 * others follow the usual precedence (eff). */
static void plan_net(struct cfg_plan *plan, const struct cfg_opts *eff,
                     const struct cfg_opts *prof, const struct cfg_opts *own,
                     struct cfg_settings *out)
{
  out->max_speed = own && (own->set & PLAN_BIT(max_speed))     ? own->max_speed
                   : prof && (prof->set & PLAN_BIT(max_speed)) ? prof->max_speed
                                                               : 0;
  out->insecure = eff->insecure;
  out->proxy = plan_intern_opt(plan, eff->proxy);
  out->user_agent = plan_intern_opt(plan, eff->user_agent);
  out->cacert = plan_intern_opt(plan, eff->cacert);
}

static int same_str(const char *a, const char *b)
{
  return a == b || (a && b && strcmp(a, b) == 0);
}

/* Equal settings, headers in order: items may share one. */
static int plan_settings_same(const struct cfg_settings *a, const struct cfg_settings *b)
{
  if (a->dir_base != b->dir_base || a->per_host != b->per_host || a->retries != b->retries ||
      a->overwrite != b->overwrite || a->segments != b->segments ||
      a->buffer_size != b->buffer_size || a->min_segment != b->min_segment ||
      a->timeout_ms != b->timeout_ms || a->connect_timeout_ms != b->connect_timeout_ms ||
      a->stall_timeout_ms != b->stall_timeout_ms || a->max_speed != b->max_speed ||
      a->insecure != b->insecure || a->headers.n != b->headers.n)
    return 0;
  if (!same_str(a->dir, b->dir) || !same_str(a->profile, b->profile) ||
      !same_str(a->file, b->file) || !same_str(a->proxy, b->proxy) ||
      !same_str(a->user_agent, b->user_agent) || !same_str(a->cacert, b->cacert))
    return 0;
  for (size_t i = 0; i < a->headers.n; i++)
    if (strcmp(a->headers.v[i], b->headers.v[i]) != 0)
      return 0;
  return 1;
}

enum { SETTINGS_LOOKBACK = 16 };

/* The plan's one copy of s (which it takes over): an item with keys of
 * its own usually resolves to what a recent neighbour has. */
static const struct cfg_settings *plan_settings_intern(struct cfg_plan *plan,
                                                       struct cfg_settings *s)
{
  for (size_t i = plan->nsettings, seen = 0; i-- > 0 && seen < SETTINGS_LOOKBACK; seen++)
    if (plan_settings_same(plan->settings[i], s)) {
      opts_headers_free(&s->headers);
      return plan->settings[i];
    }
  struct cfg_settings *copy = xmalloc(sizeof *copy);
  *copy = *s;
  plan->settings = xrealloc(plan->settings, (plan->nsettings + 1) * sizeof *plan->settings);
  plan->settings[plan->nsettings++] = copy;
  return copy;
}

/* The last settings resolved for an item without keys of its own, and
 * what they depend on: the next such item of the same list and profile
 * takes them as they are. */
struct plan_last {
  const struct cfg_settings *settings;
  long list;
  const struct load_profile *prof;
  const char *file;
};

/* The settings of an item: list, profile and its own keys over the
 * config and the command line. */
static const struct cfg_settings *plan_settings(const struct load *ld,
                                                const struct cfg_opts *cli,
                                                struct cfg_plan *plan,
                                                const struct load_item *li,
                                                const struct load_profile *prof)
{
  const struct cfg_run *run = &plan->run;
  struct cfg_opts eff;
  cfg_opts_defaults(&eff);
  cfg_opts_overlay(&eff, &ld->config);
  if (li->list >= 0)
    cfg_opts_overlay(&eff, &ld->lists[li->list].settings);
  cfg_opts_overlay(&eff, cli);
  /* Here eff.dir is the base dir; a profile's or item's dir goes under it. */
  char *base = xstrdup(eff.dir);
  const char *sub = li->opts && (li->opts->set & PLAN_BIT(dir)) ? li->opts->dir
                    : prof && (prof->opts.set & PLAN_BIT(dir)) ? prof->opts.dir
                                                                : NULL;
  if (prof)
    cfg_opts_overlay(&eff, &prof->opts);
  if (li->opts)
    cfg_opts_overlay(&eff, li->opts);

  struct cfg_settings s;
  memset(&s, 0, sizeof s);
  s.dir = plan_intern(plan, plan_join(base, sub));
  int base_from_list = li->list >= 0 && (ld->lists[li->list].settings.set & PLAN_BIT(dir)) &&
                       !(cli->set & PLAN_BIT(dir));
  s.dir_base = plan_base_len(base_from_list ? "." : base);
  s.profile = plan_intern_opt(plan, li->profile);
  s.file = plan_intern(plan, xstrdup(li->file));
  s.per_host =
      prof && (prof->opts.set & PLAN_BIT(per_host)) ? prof->opts.per_host : run->per_host;
  s.retries = eff.retries;
  s.overwrite = eff.overwrite;
  s.buffer_size = eff.buffer_size;
  s.segments = eff.segments;
  s.min_segment = eff.min_segment;
  s.timeout_ms = eff.timeout_ms;
  s.connect_timeout_ms = eff.connect_timeout_ms;
  s.stall_timeout_ms = eff.stall_timeout_ms;
  s.headers = eff.headers;
  eff.headers.v = NULL;
  eff.headers.n = 0;
  plan_net(plan, &eff, prof ? &prof->opts : NULL, li->opts, &s);
  free(base);
  cfg_opts_free(&eff);
  return plan_settings_intern(plan, &s);
}

/* One item's final settings, or -1 for an unknown profile.  Its strings
 * move from the loader to the plan (a long list is never held twice). */
static int plan_resolve(const struct load *ld, const struct cfg_opts *cli,
                        struct cfg_plan *plan, struct load_item *li,
                        struct cfg_item *out, struct plan_last *last, char *err,
                        size_t errlen)
{
  const struct load_profile *prof = NULL;
  if (li->profile && !(prof = load_profile_find(ld, li->profile))) {
    char shown[80];
    opts_shorten(shown, sizeof shown, li->profile);
    load_err(err, errlen, li->file, li->profile_line, "unknown profile '%s'", shown);
    return -1;
  }
  memset(out, 0, sizeof *out);
  if (!li->opts && last->settings && last->list == li->list && last->prof == prof &&
      strcmp(last->file, li->file) == 0) {
    out->settings = last->settings;
  } else {
    out->settings = plan_settings(ld, cli, plan, li, prof);
    if (!li->opts)
      *last = (struct plan_last){out->settings, li->list, prof, out->settings->file};
  }
  out->name = take(&li->name);
  out->name_in_url = li->name_in_url;
  out->url_in_plan = li->url_in_text;
  out->url = take(&li->url);
  out->output = take(&li->output);
  if (out->output) {
    char *fit = fname_fit_path(out->output);
    free(out->output);
    out->output = fit;
  }
  if (li->sha256) {
    size_t i = (size_t)(out - plan->items);
    plan->sha256 = xrealloc(plan->sha256, (plan->nsha256 + 1) * sizeof *plan->sha256);
    plan->sha256[plan->nsha256++] = (struct cfg_sha256){i, take(&li->sha256)};
  }
  out->line = li->line;
  return 0;
}

/* The settings of every URL added later: the config file and the command
 * line (add_defaults), like an item of no list: its speed limit is the
 * run's alone. */
static void plan_add_settings(struct cfg_plan *plan)
{
  const struct cfg_opts *d = &plan->add_defaults;
  struct cfg_settings *s = &plan->add_settings;
  memset(s, 0, sizeof *s);
  s->dir = plan->run.dir ? plan->run.dir : d->dir ? d->dir : ".";
  s->dir_base = plan_base_len(s->dir);
  s->file = "";
  s->per_host = plan->run.per_host;
  s->retries = d->retries;
  s->overwrite = d->overwrite;
  s->buffer_size = d->buffer_size;
  s->segments = d->segments;
  s->min_segment = d->min_segment;
  s->timeout_ms = d->timeout_ms;
  s->connect_timeout_ms = d->connect_timeout_ms;
  s->stall_timeout_ms = d->stall_timeout_ms;
  opts_headers_copy(&s->headers, &d->headers);
  s->insecure = d->insecure;
  s->proxy = d->proxy;
  s->user_agent = d->user_agent;
  s->cacert = d->cacert;
}

/* Run-wide settings: default < config < each list in order < command line;
 * the run's dir (for URLs added later) skips the lists, like add_defaults. */
static void plan_run(struct cfg_plan *plan, const struct load *ld, const struct cfg_opts *cli)
{
  struct cfg_opts r;
  cfg_opts_defaults(&r);
  cfg_opts_overlay(&r, &ld->config);
  for (size_t i = 0; i < ld->nlists; i++)
    cfg_opts_overlay(&r, &ld->lists[i].settings);
  cfg_opts_overlay(&r, cli);
  plan->run.concurrency = r.concurrency;
  plan->run.per_host = r.per_host;
  plan->run.max_connections = r.max_connections;
  plan->run.conn_idle_ms = r.conn_idle_ms;
  plan->run.conn_lifetime_ms = r.conn_lifetime_ms;
  plan->run.dns_ttl_ms = r.dns_ttl_ms;
  plan->run.log = xstrdup(r.log);
  plan->run.theme = xstrdup(r.theme);
  plan->run.bell = r.bell;
  plan->run.max_speed = r.max_speed;
  plan->run.no_proxy = xstrdup(r.no_proxy);
  plan->run.http11 = r.http11;
  if (r.netrc_file) {
    plan->run.netrc_file = xstrdup(r.netrc_file);
  } else if (r.netrc) {
    const char *home = getenv("HOME");
    plan->run.netrc_file = xasprintf("%s/.netrc", home && *home ? home : ".");
  }
  cfg_opts_free(&r);

  cfg_opts_defaults(&plan->add_defaults);
  cfg_opts_overlay(&plan->add_defaults, &ld->config);
  cfg_opts_overlay(&plan->add_defaults, cli);
  plan->run.dir = xstrdup(plan->add_defaults.dir);
  plan_add_settings(plan);
}

int cfg_plan_load(struct cfg_plan *plan, const struct cfg_opts *cli, const char *config_path,
                  int no_config, char *const *inputs, size_t ninputs, char *err, size_t errlen)
{
  static const struct cfg_opts none;
  struct load ld;
  int rc = -1;
  memset(plan, 0, sizeof *plan);
  load_init(&ld);
  if (!cli)
    cli = &none;
  if (!no_config && plan_load_config(&ld, config_path, err, errlen) < 0)
    goto out;
  for (size_t i = 0; i < ninputs; i++)
    if (plan_load_input(&ld, inputs[i], err, errlen) < 0)
      goto out;

  plan_run(plan, &ld, cli);
  /* the packed URLs are the plan's from here, whatever happens next */
  plan->text = ld.text;
  plan->ntext = ld.ntext;
  ld.text = NULL;
  ld.ntext = 0;
  plan->items = xcalloc(ld.nitems ? ld.nitems : 1, sizeof *plan->items);
  struct plan_last last = {NULL, 0, NULL, NULL};
  for (size_t i = 0; i < ld.nitems; i++) {
    if (plan_resolve(&ld, cli, plan, &ld.items[i], &plan->items[i], &last, err, errlen) < 0)
      goto out;
    plan->nitems++;
  }
  /* every string the plan keeps is its own by now: the loader's items and
     name index go before the check below builds its own arrays, so the two
     are never in memory at once (issue 9: the peak of a long list) */
  load_free(&ld);
  if (plan_check_files(plan, err, errlen) < 0)
    goto out;
  rc = 0;
out:
  load_free(&ld);
  if (rc < 0)
    cfg_plan_free(plan);
  return rc;
}

/* Every queued URL has one: keep it from growing back (issue 9). */
_Static_assert(sizeof(struct cfg_item) <= 40, "struct cfg_item is per queued item: keep it <= 40 bytes");

void cfg_item_free(struct cfg_item *it)
{
  if (!it)
    return;
  if (!it->name_in_url)
    free(it->name);
  if (!it->url_in_plan)
    free(it->url);
  free(it->output);
  memset(it, 0, sizeof *it);
}

void cfg_plan_free(struct cfg_plan *plan)
{
  if (!plan)
    return;
  for (size_t i = 0; i < plan->nitems; i++)
    cfg_item_free(&plan->items[i]);
  free(plan->items);
  for (size_t i = 0; i < plan->nsha256; i++)
    free(plan->sha256[i].hex);
  free(plan->sha256);
  for (size_t i = 0; i < plan->nsettings; i++) {
    opts_headers_free(&plan->settings[i]->headers);
    free(plan->settings[i]);
  }
  free(plan->settings);
  opts_headers_free(&plan->add_settings.headers);
  for (size_t i = 0; i < plan->ntext; i++)
    free(plan->text[i]);
  free(plan->text);
  for (size_t i = 0; i < plan->npool; i++)
    free(plan->pool[i]);
  free(plan->pool);
  free(plan->run.dir);
  free(plan->run.log);
  free(plan->run.theme);
  free(plan->run.no_proxy);
  free(plan->run.netrc_file);
  cfg_opts_free(&plan->add_defaults);
  memset(plan, 0, sizeof *plan);
}

int cfg_plan_insecure(const struct cfg_plan *plan)
{
  if (plan->add_defaults.insecure)
    return 1;
  for (size_t i = 0; i < plan->nsettings; i++)
    if (plan->settings[i]->insecure)
      return 1;
  return 0;
}

/* Binary search: the entries are in item order (plan_resolve adds them). */
const char *cfg_plan_sha256(const struct cfg_plan *plan, size_t i)
{
  size_t lo = 0, hi = plan->nsha256;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (plan->sha256[mid].item < i)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < plan->nsha256 && plan->sha256[lo].item == i ? plan->sha256[lo].hex : NULL;
}

int cfg_item_from_url(const struct cfg_plan *plan, const char *url, struct cfg_item *out,
                      char *err, size_t errlen)
{
  memset(out, 0, sizeof *out);
  if (!cfg_url_ok(url)) {
    cfg_url_err(err, errlen, url);
    return -1;
  }
  out->name = fname_from_url(url);
  out->url = xstrdup(url);
  out->settings = &plan->add_settings;
  return 0;
}
