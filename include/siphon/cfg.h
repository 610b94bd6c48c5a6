/* siphon/cfg.h - settings, their precedence, and download lists.
 *
 * Every option of the command line is also a key of [settings] (dashes
 * become underscores); the same key table serves the command line, the
 * config file, a list's [settings], a [profile.X] and an item section.
 *
 * Precedence, most specific first:
 *   item > profile > command line > the list's [settings] > config file > default.
 * Run-wide keys (concurrency, per_host, max_connections, conn_idle, no_proxy,
 * netrc, netrc_file, http11, and max_speed at RUN scope;
 * conn_lifetime, dns_ttl, log, theme) take the value of the last list that
 * sets them.  Headers from every level are all sent; a header of the same
 * name (compared without case) at a more specific level replaces the less
 * specific one.
 *
 * Errors are written into the caller's buffer as one line:
 * "FILE:LINE: what is wrong" for files, "option --x: ..." for the command
 * line (the caller adds the option part; cfg_opts_set writes "what").
 */
#ifndef SIPHON_CFG_H
#define SIPHON_CFG_H

#include <stddef.h>
#include <stdint.h>

enum { CFG_ERR_MAX = 512 };

/* X(key, field-kind): every key a settings layer may set. */
#define CFG_KEY_MAP(X)                                                            \
  X(concurrency)                                                                  \
  X(per_host)                                                                     \
  X(max_connections)                                                              \
  X(buffer_size)                                                                  \
  X(timeout)                                                                      \
  X(connect_timeout)                                                              \
  X(stall_timeout)                                                                \
  X(retries)                                                                      \
  X(conn_idle)                                                                    \
  X(conn_lifetime)                                                                \
  X(dns_ttl)                                                                      \
  X(segments)                                                                     \
  X(min_segment)                                                                  \
  X(dir)                                                                          \
  X(overwrite)                                                                    \
  X(header)                                                                       \
  X(theme)                                                                        \
  X(bell)                                                                         \
  X(log)                                                                          \
  X(max_speed)                                                                    \
  X(proxy)                                                                        \
  X(no_proxy)                                                                     \
  X(user_agent)                                                                   \
  X(cacert)                                                                       \
  X(insecure)                                                                     \
  X(netrc)                                                                        \
  X(netrc_file)                                                                   \
  X(http11)

enum cfg_key {
#define CFG_KEY_ENUM(k) CFG_KEY_##k,
  CFG_KEY_MAP(CFG_KEY_ENUM)
#undef CFG_KEY_ENUM
  CFG_KEY_COUNT
};

/* Where a key is being set: decides which keys are allowed and what "dir"
 * means (RUN: the base download dir; PROFILE/ITEM: a sub-dir of it, which
 * must be a safe relative path). */
enum cfg_scope { CFG_SCOPE_RUN, CFG_SCOPE_PROFILE, CFG_SCOPE_ITEM };

/* "Name: value" lines, in order, names unique without case. */
struct cfg_headers {
  char **v;
  size_t n;
};

/* One layer of settings; `set` has bit (1u << CFG_KEY_x) for each key this
 * layer gives. */
struct cfg_opts {
  uint32_t set;
  int concurrency, per_host, max_connections, retries, overwrite;
  int bell; /* the screen rings once when the run is all finished */
  int segments;          /* connections one file may use at once, 1..32 */
  uint64_t buffer_size;
  uint64_t min_segment;  /* no segment smaller; split only from 2 x this */
  int64_t timeout_ms, connect_timeout_ms, stall_timeout_ms; /* 0 = none */
  int64_t conn_idle_ms, conn_lifetime_ms, dns_ttl_ms;
  char *dir;   /* RUN: base dir; PROFILE/ITEM: sub-dir */
  char *theme, *log;
  struct cfg_headers headers;
  /* network (SPEC.md "Speed limits", "Network"); max_speed at RUN scope
     is the whole run's limit, in a profile or an item that item's */
  uint64_t max_speed;           /* bytes/s, 0 = none */
  char *proxy;                  /* URL, or "none": ignore the environment */
  char *no_proxy, *user_agent, *cacert, *netrc_file;
  int insecure, netrc, http11;
};

/* Built-in defaults (SPEC.md); `set` has every bit. */
void cfg_opts_defaults(struct cfg_opts *o);
/* Set one key from its text value.  0; -1 unknown key or not allowed in
 * this scope (err: "unknown key 'tiemout' (did you mean 'timeout'?)");
 * -2 bad value (err: "bad value 'x' for timeout: expected a duration
 * like 30s, 5m or 0").  A "header" adds (or replaces same-name) a line. */
int cfg_opts_set(struct cfg_opts *o, enum cfg_scope scope, const char *key,
                 const char *value, char *err, size_t errlen);
/* Copy every key `src` sets onto `dst` (headers merged by name). */
void cfg_opts_overlay(struct cfg_opts *dst, const struct cfg_opts *src);
void cfg_opts_free(struct cfg_opts *o);
/* The key for a name ("per-host" and "per_host" both work), or -1. */
int cfg_key_lookup(const char *name);
/* The candidate a mistyped word most likely meant (edit distance with
 * transpositions, ignoring case and '-' vs '_'), or NULL when none is
 * close: the hint of "unknown key" and of "unknown option". */
const char *cfg_nearest(const char *word, const char *const *cands, size_t n);

/* The resolved settings of a download: the same for every item of one
 * list and profile, so items share one (the plan owns them, each distinct
 * combination once; an item with keys of its own gets its own or an equal
 * one's).  Read-only once loaded: what changes while running (a speed
 * limit set with l/L) lives in the engine's state of that item. */
struct cfg_settings {
  const char *dir; /* the directory the file goes to, as it opens from the
                       current directory: base dir joined with profile/item
                       dir; borrowed from the plan */
  size_t dir_base; /* bytes of dir's path (as joined with its file name)
                      that the command line or config file named: below them
                      no symlink is followed (a list's places are data) */
  const char *profile; /* profile name or NULL */
  const char *file; /* where the items were defined ("-" for stdin, "" for
                        argv) */
  int per_host;    /* the host limit (the profile's, else the run's) */
  int retries, overwrite;
  int segments;          /* connections a file may use at once, 1..32 */
  uint64_t buffer_size;
  uint64_t min_segment;  /* smallest segment; split only from 2 x this */
  int64_t timeout_ms, connect_timeout_ms, stall_timeout_ms; /* 0 = none */
  struct cfg_headers headers;
  uint64_t max_speed;     /* the item's own limit (profile or item), 0 = none */
  int insecure;
  /* NULL = not set: proxy ("none" = no proxy, not even from the
     environment), User-Agent, CA file; borrowed from the plan */
  const char *proxy, *user_agent, *cacert;
};

/* One download, fully resolved: the engine needs nothing else.  Every
 * queued URL has one, so only what is the item's own is here. */
struct cfg_item {
  char *name;    /* section name, or the file name from the URL */
  char *url;
  char *output;  /* safe relative path inside dir, or NULL: from the URL or
                    Content-Disposition at download time */
  /* its sha256, if any, is the plan's (cfg_plan_sha256): few items have
     one, and a pointer here would cost every queued URL 8 bytes */
  const struct cfg_settings *settings; /* shared; owned by the plan */
  int line;      /* of settings->file */
  /* where its strings live; 0 = their own allocations (a URL added later):
     a list's URLs are packed in the plan's text blocks, and a URL list's
     name is often its URL's tail.  Such strings are never freed or
     replaced on their own. */
  unsigned name_in_url : 1;
  unsigned url_in_plan : 1;
};

/* Run-wide settings, resolved. */
struct cfg_run {
  int concurrency, per_host, max_connections;
  int64_t conn_idle_ms, conn_lifetime_ms, dns_ttl_ms;
  char *dir, *log, *theme;
  int bell;
  uint64_t max_speed;   /* the whole run's limit, bytes/s, 0 = none */
  char *no_proxy;       /* NULL: from the environment */
  char *netrc_file;     /* NULL: none; --netrc gives ~/.netrc */
  int http11;           /* never HTTP/2 */
};

struct cfg_plan {
  struct cfg_run run;
  struct cfg_item *items;
  size_t nitems;
  /* per-item defaults for a URL added later (the UI's "a"):
     defaults > config file > command line */
  struct cfg_opts add_defaults;
  /* the settings of a URL added later, resolved from add_defaults */
  struct cfg_settings add_settings;
  /* the strings items borrow (dirs, file names), each once */
  char **pool;
  size_t npool;
  /* the items' settings, each distinct one once */
  struct cfg_settings **settings;
  size_t nsettings;
  /* blocks of URL text, packed without a malloc header per URL */
  char **text;
  size_t ntext;
  /* the items' expected sha256 (lower-case hex), by item index, in index
     order: only the items that have one */
  struct cfg_sha256 *sha256;
  size_t nsha256;
};

struct cfg_sha256 {
  size_t item;
  char *hex;
};

/* Load everything, in order: defaults, the config file (config_path, or
 * $XDG_CONFIG_HOME/siphon/config.ini / ~/.config/siphon/config.ini when
 * NULL and it exists; none when no_config), then each input: a list file
 * (INI when its name ends in .ini or its first non-blank, non-comment line
 * starts with '['; else one URL per line; "-" reads URLs from stdin) or a
 * URL.  cli holds the command line's options.  0, or -1 with err set and
 * nothing in *plan to free. */
int cfg_plan_load(struct cfg_plan *plan, const struct cfg_opts *cli,
                  const char *config_path, int no_config, char *const *inputs,
                  size_t ninputs, char *err, size_t errlen);
void cfg_plan_free(struct cfg_plan *plan);

/* A resolved item for a URL added at run time (its settings are the
 * plan's add_settings: the plan must outlive it). 0, or -1 with err set. */
int cfg_item_from_url(const struct cfg_plan *plan, const char *url,
                      struct cfg_item *out, char *err, size_t errlen);
void cfg_item_free(struct cfg_item *it);

/* 1 if some item (or a URL added later) does not verify TLS certificates
 * (--insecure): the screen and stderr must say so. */
int cfg_plan_insecure(const struct cfg_plan *plan);
/* The expected sha256 (lower-case hex) of the plan's item i, or NULL:
 * none given, or not an item of the plan. */
const char *cfg_plan_sha256(const struct cfg_plan *plan, size_t i);

/* 1 if url is an absolute http:// or https:// URL with a host, at most
 * CFG_URL_MAX bytes; else 0. */
int cfg_url_ok(const char *url);
/* A longer URL is a bad_url whatever it holds (SPEC "Reasons are right"). */
enum { CFG_URL_MAX = 64 * 1024 };
/* The message for a URL that is not ok: "not an http(s) URL: ..." or
 * "URL longer than 64 KiB (N bytes)". */
void cfg_url_err(char *err, size_t errlen, const char *url);

#endif
