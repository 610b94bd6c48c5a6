/* opts.c - the one key table behind the command line, the config file, a
 * list's [settings], profiles and item sections: which keys exist, where
 * each may be set, how its text value is checked and stored, and how
 * layers combine.  Main thread only (called while loading, before the
 * engine starts, and by the UI thread for "add a URL").
 *
 * Because args.c sends every option through cfg_opts_set too, the command
 * line and [settings] can never disagree on what a value means. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "siphon/cfg.h"
#include "siphon/dur.h"
#include "siphon/fname.h"
#include "siphon/size.h"
#include "siphon/url.h"
#include "siphon/xalloc.h"
#include "cfg-int.h"

enum opts_kind {
  K_COUNT1, K_COUNT0, K_SIZE, K_DUR, K_BOOL, K_DIR, K_HEADER, K_STR, K_SPEED, K_PROXY,
  K_SEGMENTS, /* a whole number from 1 to OPTS_SEG_MAX */
  K_SEGSIZE   /* a size of at least OPTS_SEGSIZE_MIN */
};

/* Where a key may be set: run-wide keys only at RUN scope; per-item keys
 * everywhere; per_host at RUN and in profiles. */
enum opts_reach { R_RUN, R_ITEM, R_PROFILE };

struct opts_key {
  const char *name;
  enum opts_kind kind;
  enum opts_reach reach;
  size_t off;
};

#define F(field) offsetof(struct cfg_opts, field)
static const struct opts_key opts_keys[CFG_KEY_COUNT] = {
    [CFG_KEY_concurrency] = {"concurrency", K_COUNT1, R_RUN, F(concurrency)},
    [CFG_KEY_per_host] = {"per_host", K_COUNT1, R_PROFILE, F(per_host)},
    [CFG_KEY_max_connections] = {"max_connections", K_COUNT1, R_RUN, F(max_connections)},
    [CFG_KEY_buffer_size] = {"buffer_size", K_SIZE, R_ITEM, F(buffer_size)},
    [CFG_KEY_timeout] = {"timeout", K_DUR, R_ITEM, F(timeout_ms)},
    [CFG_KEY_connect_timeout] = {"connect_timeout", K_DUR, R_ITEM, F(connect_timeout_ms)},
    [CFG_KEY_stall_timeout] = {"stall_timeout", K_DUR, R_ITEM, F(stall_timeout_ms)},
    [CFG_KEY_retries] = {"retries", K_COUNT0, R_ITEM, F(retries)},
    [CFG_KEY_conn_idle] = {"conn_idle", K_DUR, R_RUN, F(conn_idle_ms)},
    [CFG_KEY_conn_lifetime] = {"conn_lifetime", K_DUR, R_RUN, F(conn_lifetime_ms)},
    [CFG_KEY_dns_ttl] = {"dns_ttl", K_DUR, R_RUN, F(dns_ttl_ms)},
    [CFG_KEY_segments] = {"segments", K_SEGMENTS, R_ITEM, F(segments)},
    [CFG_KEY_min_segment] = {"min_segment", K_SEGSIZE, R_ITEM, F(min_segment)},
    [CFG_KEY_dir] = {"dir", K_DIR, R_ITEM, F(dir)},
    [CFG_KEY_overwrite] = {"overwrite", K_BOOL, R_ITEM, F(overwrite)},
    [CFG_KEY_header] = {"header", K_HEADER, R_ITEM, F(headers)},
    [CFG_KEY_theme] = {"theme", K_STR, R_RUN, F(theme)},
    [CFG_KEY_bell] = {"bell", K_BOOL, R_RUN, F(bell)},
    [CFG_KEY_log] = {"log", K_STR, R_RUN, F(log)},
    [CFG_KEY_max_speed] = {"max_speed", K_SPEED, R_ITEM, F(max_speed)},
    [CFG_KEY_proxy] = {"proxy", K_PROXY, R_ITEM, F(proxy)},
    [CFG_KEY_no_proxy] = {"no_proxy", K_STR, R_RUN, F(no_proxy)},
    [CFG_KEY_user_agent] = {"user_agent", K_STR, R_ITEM, F(user_agent)},
    [CFG_KEY_cacert] = {"cacert", K_STR, R_ITEM, F(cacert)},
    [CFG_KEY_insecure] = {"insecure", K_BOOL, R_ITEM, F(insecure)},
    [CFG_KEY_netrc] = {"netrc", K_BOOL, R_RUN, F(netrc)},
    [CFG_KEY_netrc_file] = {"netrc_file", K_STR, R_RUN, F(netrc_file)},
    [CFG_KEY_http11] = {"http11", K_BOOL, R_RUN, F(http11)},
};
#undef F

/* Keys only an item section knows (the INI loader handles them); listed
 * so a typo of them still gets a hint. */
static const char *const opts_item_only[] = {"url", "output", "profile", "sha256"};

enum { OPTS_NUM_MAX = 1000000, OPTS_BUF_MIN = 16 * 1024, OPTS_BUF_MAX = 8 * 1024 * 1024 };
/* A file over more than 32 connections only annoys the server; a segment
 * under 16K costs more in requests than it gains. */
enum { OPTS_SEG_MAX = 32, OPTS_SEGSIZE_MIN = 16 * 1024 };

void cfg_opts_defaults(struct cfg_opts *o)
{
  memset(o, 0, sizeof *o);
  o->set = (1u << CFG_KEY_COUNT) - 1;
  o->concurrency = 4;
  o->per_host = 6;
  o->max_connections = 64;
  o->buffer_size = 128 * 1024;
  o->timeout_ms = 0;
  o->connect_timeout_ms = 15000;
  o->stall_timeout_ms = 30000;
  o->retries = 3;
  o->conn_idle_ms = 60000;
  o->conn_lifetime_ms = 600000;
  o->dns_ttl_ms = 60000;
  o->segments = 4;
  o->min_segment = 4 * 1024 * 1024;
  o->dir = xstrdup(".");
  o->overwrite = 0;
  o->theme = xstrdup("default");
  o->bell = 1;
  o->log = NULL;
}

void opts_headers_free(struct cfg_headers *h)
{
  for (size_t i = 0; i < h->n; i++)
    free(h->v[i]);
  free(h->v);
  h->v = NULL;
  h->n = 0;
}

void cfg_opts_free(struct cfg_opts *o)
{
  if (!o)
    return;
  free(o->dir);
  free(o->theme);
  free(o->log);
  free(o->proxy);
  free(o->no_proxy);
  free(o->user_agent);
  free(o->cacert);
  free(o->netrc_file);
  opts_headers_free(&o->headers);
  memset(o, 0, sizeof *o);
}

int cfg_key_lookup(const char *name)
{
  if (!name)
    return -1;
  for (int k = 0; k < CFG_KEY_COUNT; k++) {
    const char *a = opts_keys[k].name, *b = name;
    while (*a && (*a == *b || (*a == '_' && *b == '-'))) {
      a++;
      b++;
    }
    if (!*a && !*b)
      return k;
  }
  return -1;
}

void opts_shorten(char *dst, size_t n, const char *value)
{
  enum { SHOW = 60 };
  size_t len = strlen(value), cut = len;
  if (len > SHOW) {
    /* Cut on a UTF-8 character boundary so the message stays valid text. */
    cut = SHOW;
    while (cut > 0 && ((unsigned char)value[cut] & 0xc0) == 0x80)
      cut--;
  }
  snprintf(dst, n, "%.*s%s", (int)cut, value, cut < len ? "..." : "");
  /* Messages go to a terminal: no escape sequences from a list file. */
  for (char *p = dst; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
}

/* Edit distance with adjacent transpositions (optimal string alignment),
 * ignoring case and dash/underscore; -1 when either is too long to care. */
static int opts_distance(const char *a, const char *b)
{
  enum { MAXL = 40 };
  size_t la = strlen(a), lb = strlen(b);
  if (la > MAXL || lb > MAXL)
    return -1;
  int d[MAXL + 1][MAXL + 1];
  char ca[MAXL], cb[MAXL];
  for (size_t i = 0; i < la; i++)
    ca[i] = a[i] == '-' ? '_' : (char)tolower((unsigned char)a[i]);
  for (size_t j = 0; j < lb; j++)
    cb[j] = b[j] == '-' ? '_' : (char)tolower((unsigned char)b[j]);
  for (size_t i = 0; i <= la; i++)
    d[i][0] = (int)i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = (int)j;
  for (size_t i = 1; i <= la; i++) {
    for (size_t j = 1; j <= lb; j++) {
      int cost = ca[i - 1] != cb[j - 1];
      int v = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < v)
        v = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < v)
        v = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && ca[i - 1] == cb[j - 2] && ca[i - 2] == cb[j - 1] &&
          d[i - 2][j - 2] + 1 < v)
        v = d[i - 2][j - 2] + 1;
      d[i][j] = v;
    }
  }
  return d[la][lb];
}

/* The hint of a typo: the closest candidate, when it is close enough. */
const char *cfg_nearest(const char *word, const char *const *cands, size_t n)
{
  const char *best = NULL;
  int bestd = 1 << 30;
  for (size_t i = 0; i < n; i++) {
    int d = opts_distance(word, cands[i]);
    if (d >= 0 && d < bestd) {
      bestd = d;
      best = cands[i];
    }
  }
  /* Only a close word is a hint; "foo" is not a typo of "log". */
  size_t len = strlen(word);
  int limit = len <= 3 ? 1 : (int)(len / 3 > 2 ? len / 3 : 2);
  return best && bestd > 0 && bestd <= limit ? best : NULL;
}

void opts_unknown_key(char *err, size_t errlen, const char *key)
{
  enum { NITEM = sizeof opts_item_only / sizeof opts_item_only[0] };
  const char *cands[CFG_KEY_COUNT + NITEM];
  for (size_t i = 0; i < CFG_KEY_COUNT; i++)
    cands[i] = opts_keys[i].name;
  for (size_t i = 0; i < NITEM; i++)
    cands[CFG_KEY_COUNT + i] = opts_item_only[i];
  const char *best = cfg_nearest(key, cands, CFG_KEY_COUNT + NITEM);
  char shown[80];
  opts_shorten(shown, sizeof shown, key);
  if (best)
    snprintf(err, errlen, "unknown key '%s' (did you mean '%s'?)", shown, best);
  else
    snprintf(err, errlen, "unknown key '%s'", shown);
}

/* A whole number in [lo, OPTS_NUM_MAX]: digits only, no sign or spaces. */
static int opts_parse_count(const char *s, int lo, int *out)
{
  if (!*s)
    return -1;
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9')
      return -1;
  errno = 0;
  unsigned long long v = strtoull(s, NULL, 10);
  if (errno || v > OPTS_NUM_MAX || (long long)v < lo)
    return -1;
  *out = (int)v;
  return 0;
}

static int opts_parse_bool(const char *s, int *out)
{
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) {
      *out = 1;
      return 0;
    }
    if (strcasecmp(s, no[i]) == 0) {
      *out = 0;
      return 0;
    }
  }
  return -1;
}

static int opts_tchar(int c)
{
  return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "Name: value" -> malloc'd "Name: value" with one space, or NULL.  The
 * name must be an HTTP token and the value present, with no control
 * characters (a CR or LF would inject another header). */
static char *opts_header_norm(const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t nl = 0;
  while (s[nl] && opts_tchar((unsigned char)s[nl]))
    nl++;
  const char *p = s + nl;
  while (*p == ' ' || *p == '\t')
    p++;
  if (nl == 0 || *p != ':')
    return NULL;
  p++;
  while (*p == ' ' || *p == '\t')
    p++;
  size_t vl = strlen(p);
  while (vl > 0 && (p[vl - 1] == ' ' || p[vl - 1] == '\t'))
    vl--;
  if (vl == 0)
    return NULL;
  for (size_t i = 0; i < vl; i++) {
    unsigned char c = (unsigned char)p[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return NULL;
  }
  return xasprintf("%.*s: %.*s", (int)nl, s, (int)vl, p);
}

/* A header as an error message may show it: its name at most, never its
 * value (which may be a secret, and a malformed line may be all value). */
static void opts_header_shown(char *dst, size_t n, const char *s)
{
  while (*s == ' ' || *s == '\t')
    s++;
  size_t nl = 0;
  while (s[nl] && opts_tchar((unsigned char)s[nl]))
    nl++;
  const char *p = s + nl;
  while (*p == ' ' || *p == '\t')
    p++;
  char name[64];
  if (nl > 0 && nl < sizeof name && *p == ':') {
    memcpy(name, s, nl);
    name[nl] = '\0';
    snprintf(dst, n, "%s: ***", name);
  } else {
    snprintf(dst, n, "***");
  }
}

/* Length of the name part of a stored "Name: value" line. */
static size_t opts_header_namelen(const char *h)
{
  return strcspn(h, ":");
}

/* Add line (taking ownership), replacing a header of the same name. */
static void opts_header_put(struct cfg_headers *h, char *line)
{
  size_t nl = opts_header_namelen(line);
  for (size_t i = 0; i < h->n; i++) {
    if (opts_header_namelen(h->v[i]) == nl && strncasecmp(h->v[i], line, nl) == 0) {
      free(h->v[i]);
      h->v[i] = line;
      return;
    }
  }
  h->v = xrealloc(h->v, (h->n + 1) * sizeof *h->v);
  h->v[h->n++] = line;
}

void opts_headers_copy(struct cfg_headers *dst, const struct cfg_headers *src)
{
  for (size_t i = 0; i < src->n; i++)
    opts_header_put(dst, xstrdup(src->v[i]));
}

enum { OPTS_SPEED_MAX_SHIFT = 40 };
#define OPTS_SPEED_MAX ((uint64_t)1 << OPTS_SPEED_MAX_SHIFT) /* 1 TiB/s: more is no limit */

/* No control characters: a value may end up in a request header. */
static int opts_printable(const char *v)
{
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
      return 0;
  return 1;
}

/* "none", or a proxy URL of a scheme curl speaks (SPEC.md "Network"), with
 * a host, and no spaces or control characters (it goes to curl as is). */
static int opts_proxy_ok(const char *v)
{
  static const char *const schemes[] = {"http://", "https://", "socks5://", "socks5h://"};
  if (strcmp(v, "none") == 0)
    return 1;
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    if (*p <= 0x20 || *p == 0x7f)
      return 0;
  for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
    size_t n = strlen(schemes[i]);
    if (strncasecmp(v, schemes[i], n) == 0) {
      const char *auth = v + n;
      size_t alen = strcspn(auth, "/?#");
      const char *host = auth;
      for (size_t j = 0; j < alen; j++)
        if (auth[j] == '@')
          host = auth + j + 1;
      return host < auth + alen && *host != ':';
    }
  }
  return 0;
}

/* The "where it belongs" message for a known key outside its scope. */
static void opts_scope_err(char *err, size_t errlen, const struct opts_key *k,
                           enum cfg_scope scope)
{
  if (k->reach == R_RUN)
    snprintf(err, errlen,
             "'%s' is a run-wide key: set it in [settings] or on the command line, "
             "not in %s",
             k->name, scope == CFG_SCOPE_PROFILE ? "a profile" : "a download section");
  else
    snprintf(err, errlen, "'%s' cannot be set per download: set it in a profile or [settings]",
             k->name);
}

static const char *opts_expected(const struct opts_key *k, enum cfg_scope scope)
{
  switch (k->kind) {
  case K_COUNT1:
    return "expected a whole number from 1 to 1000000";
  case K_COUNT0:
    return "expected a whole number from 0 to 1000000";
  case K_SIZE:
    return "expected a size from 16K to 8M, like 128K";
  case K_DUR:
    return "expected a duration like 30s, 5m or 0";
  case K_BOOL:
    return "expected true/false, yes/no, on/off or 1/0";
  case K_DIR:
    return scope == CFG_SCOPE_RUN ? "expected a directory"
                                  : "expected a relative path inside the download dir";
  case K_HEADER:
    return "expected 'Name: value'";
  case K_SPEED:
    return "expected bytes per second like 500K or 2M, or 0 for none";
  case K_PROXY:
    return "expected http://, https://, socks5:// or socks5h:// with a host, or none";
  case K_SEGMENTS:
    return "expected a whole number from 1 to 32";
  case K_SEGSIZE:
    return "expected a size of at least 16K, like 4M";
  case K_STR:
    break;
  }
  return "expected a value";
}

int cfg_opts_set(struct cfg_opts *o, enum cfg_scope scope, const char *key, const char *value,
                 char *err, size_t errlen)
{
  int ki = cfg_key_lookup(key);
  if (ki < 0) {
    for (size_t i = 0; i < sizeof opts_item_only / sizeof opts_item_only[0]; i++) {
      if (strcmp(key, opts_item_only[i]) == 0 && scope != CFG_SCOPE_ITEM) {
        snprintf(err, errlen, "'%s' belongs in a download section, not in %s", key,
                 scope == CFG_SCOPE_PROFILE ? "a profile" : "[settings]");
        return -1;
      }
    }
    opts_unknown_key(err, errlen, key);
    return -1;
  }
  const struct opts_key *k = &opts_keys[ki];
  if ((k->reach == R_RUN && scope != CFG_SCOPE_RUN) ||
      (k->reach == R_PROFILE && scope == CFG_SCOPE_ITEM)) {
    opts_scope_err(err, errlen, k, scope);
    return -1;
  }
  if (!value)
    value = "";

  char *field = (char *)o + k->off;
  int ok = -1;
  switch (k->kind) {
  case K_COUNT1:
  case K_COUNT0: {
    int v;
    if ((ok = opts_parse_count(value, k->kind == K_COUNT1, &v)) == 0)
      *(int *)field = v;
    break;
  }
  case K_SIZE: {
    uint64_t v;
    if (size_parse(value, &v) == 0 && v >= OPTS_BUF_MIN && v <= OPTS_BUF_MAX) {
      *(uint64_t *)field = v;
      ok = 0;
    }
    break;
  }
  case K_SEGMENTS: {
    int v;
    if (opts_parse_count(value, 1, &v) == 0 && v <= OPTS_SEG_MAX) {
      *(int *)field = v;
      ok = 0;
    }
    break;
  }
  case K_SEGSIZE: {
    uint64_t v;
    if (size_parse(value, &v) == 0 && v >= OPTS_SEGSIZE_MIN) {
      *(uint64_t *)field = v;
      ok = 0;
    }
    break;
  }
  case K_DUR: {
    int64_t v;
    if ((ok = dur_parse(value, &v)) == 0)
      *(int64_t *)field = v;
    break;
  }
  case K_BOOL: {
    int v;
    if ((ok = opts_parse_bool(value, &v)) == 0)
      *(int *)field = v;
    break;
  }
  case K_DIR:
  case K_STR:
    /* A profile's or item's dir is a sub-dir of the download dir and must
       stay inside it; the run's base dir may be anywhere. */
    if (*value && (k->kind != K_DIR || scope == CFG_SCOPE_RUN || fname_relpath_ok(value)) &&
        opts_printable(value)) {
      free(*(char **)field);
      *(char **)field = xstrdup(value);
      ok = 0;
    }
    break;
  case K_SPEED: {
    uint64_t v;
    if (size_parse(value, &v) == 0 && v <= OPTS_SPEED_MAX) {
      *(uint64_t *)field = v;
      ok = 0;
    }
    break;
  }
  case K_PROXY:
    if (opts_proxy_ok(value)) {
      free(*(char **)field);
      *(char **)field = xstrdup(value);
      ok = 0;
    }
    break;
  case K_HEADER: {
    char *line = opts_header_norm(value);
    if (line) {
      opts_header_put(&o->headers, line);
      ok = 0;
    }
    break;
  }
  }
  if (ok != 0) {
    char shown[80];
    if (k->kind == K_HEADER)
      opts_header_shown(shown, sizeof shown, value);
    else
      opts_shorten(shown, sizeof shown, value);
    snprintf(err, errlen, "bad value '%s' for %s: %s", shown, k->name, opts_expected(k, scope));
    return -2;
  }
  o->set |= 1u << ki;
  return 0;
}

void cfg_opts_overlay(struct cfg_opts *dst, const struct cfg_opts *src)
{
  for (int ki = 0; ki < CFG_KEY_COUNT; ki++) {
    if (!(src->set & (1u << ki)))
      continue;
    const struct opts_key *k = &opts_keys[ki];
    char *df = (char *)dst + k->off;
    const char *sf = (const char *)src + k->off;
    switch (k->kind) {
    case K_COUNT1:
    case K_COUNT0:
    case K_BOOL:
    case K_SEGMENTS:
      *(int *)df = *(const int *)sf;
      break;
    case K_SIZE:
    case K_SPEED:
    case K_SEGSIZE:
      *(uint64_t *)df = *(const uint64_t *)sf;
      break;
    case K_DUR:
      *(int64_t *)df = *(const int64_t *)sf;
      break;
    case K_DIR:
    case K_STR:
    case K_PROXY:
      free(*(char **)df);
      *(char **)df = xstrdup(*(char *const *)sf);
      break;
    case K_HEADER:
      opts_headers_copy(&dst->headers, &src->headers);
      break;
    }
    dst->set |= 1u << ki;
  }
}

void cfg_url_err(char *err, size_t errlen, const char *url)
{
  char shown[80];
  size_t n = url ? strlen(url) : 0;
  opts_shorten(shown, sizeof shown, url ? url : "");
  if (n > CFG_URL_MAX)
    snprintf(err, errlen, "URL longer than 64 KiB (%zu bytes): %s", n, shown);
  else
    snprintf(err, errlen, "not an http(s) URL: %s", shown);
}

/* An absolute http(s) URL with a host (util's check, which the screen
 * also makes before it sends a URL) of at most CFG_URL_MAX bytes. */
int cfg_url_ok(const char *url)
{
  if (!url || strnlen(url, CFG_URL_MAX + 1) > CFG_URL_MAX)
    return 0;
  return url_ok(url);
}
