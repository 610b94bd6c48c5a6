/* src/cfg/cfg-int.h - private to src/cfg: what the loaders gather from the
 * config file, the lists and the command line before cfg_plan_load
 * resolves it into items.  Main thread only. */
#ifndef SIPHON_CFG_INT_H
#define SIPHON_CFG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "siphon/cfg.h"

/* One download as written, before precedence is applied. */
/* One per download while loading, so kept small: a URL-list item has no
 * keys of its own, so opts is NULL until an INI item sets one. */
struct load_item {
  char *name, *url, *output, *profile;
  char *sha256;          /* lower-case hex, or NULL */
  struct cfg_opts *opts; /* the item section's own keys (ITEM scope), or NULL */
  const char *file;     /* "" for argv, "-" for stdin; borrowed from load.files */
  int line;             /* the section's or the URL's line */
  int profile_line;
  int list;             /* index into load.lists, or -1 (no [settings]) */
  unsigned char name_in_url; /* name is the tail of url, not an allocation of its own */
  unsigned char url_in_text; /* url is in load.text, not an allocation of its own */
};

/* A [profile.NAME] from the config file or a list. */
struct load_profile {
  char *name;
  struct cfg_opts opts; /* PROFILE scope */
  char *file;
  int line;
  int from_config;
};

/* An INI list: its [settings] apply to its own items. */
struct load_list {
  char *file;
  struct cfg_opts settings; /* RUN scope */
};

struct load {
  struct load_item *items;
  size_t nitems, itemcap;
  struct load_profile *profiles;
  size_t nprofiles, profcap;
  struct load_list *lists;
  size_t nlists, listcap;
  struct cfg_opts config; /* the config file's [settings] */
  uint32_t *hash;         /* item name -> index + 1, open addressing; 0 = empty */
  size_t hashcap;
  char **files;           /* the file names items borrow, each input once */
  size_t nfiles;
  char **text;            /* blocks URL-list URLs are packed in (the plan takes them) */
  size_t ntext;
  char *text_at;          /* free space in the last block, and how much */
  size_t text_left;
};

/* load.c */
void load_init(struct load *ld);
void load_free(struct load *ld);
/* The item named name, or NULL. */
struct load_item *load_item_find(const struct load *ld, const char *name);
/* Append an item (name copied); the caller has checked it is new. */
struct load_item *load_item_add(struct load *ld, const char *name, const char *file, int line);
/* The same for a URL-list item: url is copied into the packed text, name
 * is taken over; a name that is the URL's last path segment is not stored
 * twice. */
struct load_item *load_item_add_url(struct load *ld, const char *url, char *name,
                                    const char *file, int line);
struct load_profile *load_profile_find(const struct load *ld, const char *name);
struct load_profile *load_profile_add(struct load *ld, const char *name, const char *file,
                                      int line, int from_config);
size_t load_list_add(struct load *ld, const char *file);
/* How a file is named in messages ("stdin" for "-"). */
const char *load_where(const char *file);
/* err = "FILE:LINE: " (or "FILE: " for line 0, nothing for file "") + fmt. */
void load_err(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Read a whole text file ("-" = stdin), checked to be UTF-8 without NUL
 * bytes.  0 and *buf (NUL-terminated, malloc'd), or -1 with err set. */
int load_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen);

/* 1 if text (a whole file) is an INI list by its content: its first line
 * that is neither blank nor a comment starts with '['. */
int load_looks_ini(const char *text);

/* inilist.c: an INI list (is_config = 0) or the config file (1); _parse
 * takes a file already read by load_read_file (and frees it). */
int inilist_load(struct load *ld, const char *path, int is_config, char *err, size_t errlen);
int inilist_parse(struct load *ld, const char *path, int is_config, char *buf, size_t len,
                  char *err, size_t errlen);

/* urllist.c: one URL per line; _parse as above. */
int urllist_load(struct load *ld, const char *path, char *err, size_t errlen);
int urllist_parse(struct load *ld, const char *path, char *buf, char *err, size_t errlen);
/* One URL from argv (or a URL list): validated, named from the URL. */
int urllist_add_url(struct load *ld, const char *url, const char *file, int line, char *err,
                    size_t errlen);

/* opts.c */
/* A value as shown in a message: cut to a readable length. */
void opts_shorten(char *dst, size_t n, const char *value);
/* "unknown key 'x'" plus " (did you mean 'y'?)" when a key is close. */
void opts_unknown_key(char *err, size_t errlen, const char *key);
/* Copy a header list (each line duplicated). */
void opts_headers_copy(struct cfg_headers *dst, const struct cfg_headers *src);
void opts_headers_free(struct cfg_headers *h);

#endif
