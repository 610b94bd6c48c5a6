/* inilist.c - INI download lists and the config file, parsed with inih.
 * Main thread only.
 *
 * Debian's inih is built with INI_MAX_LINE 200 and cuts section names at
 * 50 bytes, but a URL with a token easily runs to kilobytes and item names
 * to a hundred characters.  So inih never sees the file itself: it reads
 * through inilist_reader (ini_parse_stream), which hands it exactly one
 * line per physical line, rewritten so that nothing inih stores can be
 * cut:
 *   - every "[section]" line becomes "[N]", N indexing our own table of
 *     sections, so names of any length survive, two long names sharing a
 *     prefix stay two, and even a section with no keys is seen (its
 *     missing url is reported at its own line);
 *   - a "key = value" line that would not fit inih's buffer is split into
 *     name and value here, with inih's own rules (first '=' or ':', a ';'
 *     after whitespace starts a comment, outer whitespace trimmed), and
 *     inih gets a short stand-in "k=v"; the handler then takes the real
 *     name and value from the reader (the handler is always called for
 *     the line the reader returned last);
 *   - leading whitespace is dropped, so an indented line is never one of
 *     inih's multi-line continuations, and blank and comment lines become
 *     empty lines.
 * One line in, one line out, so inih's line numbers and ours (il->line,
 * the line the handler is working on) are the physical line numbers.
 * Syntax errors (no ']' or no '=') are caught in the reader with the same
 * rules before inih would see them. */
#include <ctype.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphon/cfg.h"
#include "siphon/fname.h"
#include "siphon/xalloc.h"
#include "cfg-int.h"

enum inilist_kind { SECT_SETTINGS, SECT_PROFILE, SECT_ITEM };

struct inilist_sect {
  enum inilist_kind kind;
  size_t idx; /* item or profile index in the load */
  char *shown; /* "[name]" as messages show it */
  int line;
};

struct inilist {
  struct load *ld;
  const char *path;
  int is_config;
  long list; /* this list's index in ld->lists, -1 for the config file */
  char *buf;
  size_t len, pos;
  int line; /* the physical line last handed to inih */
  int failed;
  char *err;
  size_t errlen;
  struct inilist_sect *sects;
  size_t nsects;
  int subst; /* the last line was too long: the real name and value follow */
  char *sname, *svalue;
};

static void inilist_fail(struct inilist *il, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Record the first error, at the current physical line; later ones are
 * consequences and the reader stops feeding inih. */
static void inilist_fail(struct inilist *il, const char *fmt, ...)
{
  if (il->failed)
    return;
  char msg[CFG_ERR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  load_err(il->err, il->errlen, il->path, il->line, "%s", msg);
  il->failed = 1;
}

/* inih's find_chars_or_comment: the first of chars, or a ';' that follows
 * whitespace (an inline comment), or the end. */
static char *inilist_find(char *s, const char *chars)
{
  int was_space = 0;
  while (*s && (!chars || !strchr(chars, *s)) && !(was_space && *s == ';')) {
    was_space = isspace((unsigned char)*s);
    s++;
  }
  return s;
}

static char *inilist_rstrip(char *s)
{
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1]))
    *--e = '\0';
  return s;
}

static char *inilist_lskip(char *s)
{
  while (*s && isspace((unsigned char)*s))
    s++;
  return s;
}

/* The section before a new one (or the end) must be complete. */
static int inilist_close_section(struct inilist *il)
{
  if (!il->nsects)
    return 0;
  const struct inilist_sect *s = &il->sects[il->nsects - 1];
  if (s->kind == SECT_ITEM && !il->ld->items[s->idx].url) {
    load_err(il->err, il->errlen, il->path, s->line, "%s has no url", s->shown);
    il->failed = 1;
    return -1;
  }
  return 0;
}

/* A "[name]" line: classify it and make what it stands for. */
static int inilist_section(struct inilist *il, const char *name)
{
  if (inilist_close_section(il) < 0)
    return -1;
  char shown[128];
  char cut[80];
  opts_shorten(cut, sizeof cut, name);
  snprintf(shown, sizeof shown, "[%s]", cut);
  if (!*name) {
    inilist_fail(il, "empty section name []");
    return -1;
  }
  for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) {
      inilist_fail(il, "a control character in section name %s", shown);
      return -1;
    }
  }

  struct inilist_sect s = {.line = il->line};
  char pcut[80];
  opts_shorten(pcut, sizeof pcut, name + (strncmp(name, "profile.", 8) == 0 ? 8 : 0));
  if (strcmp(name, "settings") == 0) {
    s.kind = SECT_SETTINGS;
  } else if (strncmp(name, "profile.", 8) == 0 && name[8]) {
    const char *pname = name + 8;
    struct load_profile *p = load_profile_find(il->ld, pname);
    if (p && p->from_config && !il->is_config) {
      /* A list's profile replaces the config file's of the same name. */
      cfg_opts_free(&p->opts);
      free(p->file);
      p->file = xstrdup(il->path);
      p->line = il->line;
      p->from_config = 0;
    } else if (p && strcmp(p->file, il->path) == 0) {
      inilist_fail(il, "profile '%s' is defined twice (first at line %d)", pcut, p->line);
      return -1;
    } else if (p) {
      inilist_fail(il, "profile '%s' is already defined at %s:%d", pcut, load_where(p->file),
                   p->line);
      return -1;
    } else {
      p = load_profile_add(il->ld, pname, il->path, il->line, il->is_config);
    }
    s.kind = SECT_PROFILE;
    s.idx = (size_t)(p - il->ld->profiles);
  } else if (strcmp(name, "profile") == 0 || strncmp(name, "profile.", 8) == 0 ||
             strncmp(name, "settings.", 9) == 0) {
    inilist_fail(il, "unknown section kind %s (expected [settings], [profile.NAME] or a "
                     "download's name)", shown);
    return -1;
  } else if (il->is_config) {
    inilist_fail(il, "a config file holds only [settings] and [profile.NAME], not a "
                     "download like %s", shown);
    return -1;
  } else {
    const struct load_item *dup = load_item_find(il->ld, name);
    if (dup) {
      if (*dup->file)
        inilist_fail(il, "duplicate item name '%s' (first at %s:%d)", cut, load_where(dup->file),
                     dup->line);
      else
        inilist_fail(il, "duplicate item name '%s' (also a URL on the command line)", cut);
      return -1;
    }
    struct load_item *it = load_item_add(il->ld, name, il->path, il->line);
    it->list = il->list;
    s.kind = SECT_ITEM;
    s.idx = il->ld->nitems - 1;
  }
  s.shown = xstrdup(shown);
  il->sects = xrealloc(il->sects, (il->nsects + 1) * sizeof *il->sects);
  il->sects[il->nsects++] = s;
  return 0;
}

/* The ini_reader: one physical line in, one short line out (see top). */
static char *inilist_reader(char *str, int num, void *stream)
{
  struct inilist *il = stream;
  if (il->failed || il->pos >= il->len || num < 16)
    return NULL;
  char *p = il->buf + il->pos;
  char *nl = memchr(p, '\n', il->len - il->pos);
  char *end = nl ? nl : il->buf + il->len;
  il->pos = (size_t)(end - il->buf) + (nl ? 1 : 0);
  il->line++;
  *end = '\0';
  inilist_rstrip(p);
  p = inilist_lskip(p);
  free(il->sname);
  free(il->svalue);
  il->sname = il->svalue = NULL;
  il->subst = 0;
  str[0] = '\0';

  if (!*p || *p == ';' || *p == '#')
    return str;
  if (*p == '[') {
    char *close = inilist_find(p + 1, "]");
    if (*close != ']') {
      inilist_fail(il, "missing ']' in section header");
      return NULL;
    }
    char *rest = inilist_lskip(close + 1);
    if (*rest && *rest != ';' && *rest != '#') {
      inilist_fail(il, "unexpected text after ']'");
      return NULL;
    }
    *close = '\0';
    char *name = inilist_rstrip(inilist_lskip(p + 1));
    if (inilist_section(il, name) < 0)
      return NULL;
    snprintf(str, (size_t)num, "[%zu]", il->nsects - 1);
    return str;
  }

  char *sep = inilist_find(p, "=:");
  if (*sep != '=' && *sep != ':') {
    inilist_fail(il, "expected 'key = value' or a [section]");
    return NULL;
  }
  size_t len = strlen(p);
  if (len + 3 <= (size_t)num) { /* inih needs room for "\r\n\0" */
    memcpy(str, p, len + 1);
    return str;
  }
  *sep = '\0';
  char *value = sep + 1;
  *inilist_find(value, NULL) = '\0';
  il->sname = xstrdup(inilist_rstrip(p));
  il->svalue = xstrdup(inilist_rstrip(inilist_lskip(value)));
  il->subst = 1;
  snprintf(str, (size_t)num, "k=v");
  return str;
}

/* 64 hex digits, stored lower-case. */
static int inilist_sha256(const char *v, char out[65])
{
  if (strlen(v) != 64)
    return -1;
  for (int i = 0; i < 64; i++) {
    if (!isxdigit((unsigned char)v[i]))
      return -1;
    out[i] = (char)tolower((unsigned char)v[i]);
  }
  out[64] = '\0';
  return 0;
}

/* The keys only an item has: url, output, profile, sha256.  1 if name is
 * one of them (handled, or failed), 0 if not. */
static int inilist_item_key(struct inilist *il, struct load_item *it, const char *shown,
                            const char *name, const char *value)
{
  char v[80];
  opts_shorten(v, sizeof v, value);
  if (strcmp(name, "url") == 0) {
    if (it->url)
      inilist_fail(il, "duplicate key 'url' in %s", shown);
    else if (!cfg_url_ok(value)) {
      char msg[CFG_ERR_MAX];
      cfg_url_err(msg, sizeof msg, value);
      inilist_fail(il, "%s", msg);
    }
    else
      it->url = xstrdup(value);
  } else if (strcmp(name, "output") == 0) {
    if (it->output)
      inilist_fail(il, "duplicate key 'output' in %s", shown);
    else if (!fname_relpath_ok(value))
      inilist_fail(il, "bad value '%s' for output: expected a relative path inside the "
                       "download dir", v);
    else
      it->output = xstrdup(value);
  } else if (strcmp(name, "profile") == 0) {
    if (it->profile)
      inilist_fail(il, "duplicate key 'profile' in %s", shown);
    else if (!*value)
      inilist_fail(il, "bad value '' for profile: expected a profile name");
    else {
      it->profile = xstrdup(value);
      it->profile_line = il->line;
    }
  } else if (strcmp(name, "sha256") == 0) {
    char hex[65];
    if (it->sha256)
      inilist_fail(il, "duplicate key 'sha256' in %s", shown);
    else if (inilist_sha256(value, hex) < 0)
      inilist_fail(il, "bad value '%s' for sha256: expected 64 hex digits", v);
    else
      it->sha256 = xstrdup(hex);
  } else {
    return 0;
  }
  return 1;
}

/* Lists are data (SPEC "Integrity and hostile input"): a list's [settings]
 * may name only relative places inside the current directory; only the
 * command line and the config file may send files elsewhere.  -1 (and the
 * error recorded) for an absolute or climbing dir or log. */
static int inilist_place_key(struct inilist *il, const char *name, const char *value)
{
  if (strcmp(name, "dir") != 0 && strcmp(name, "log") != 0)
    return 0;
  if (fname_relpath_ok(value) || (strcmp(name, "dir") == 0 && strcmp(value, ".") == 0))
    return 0;
  char v[80];
  opts_shorten(v, sizeof v, value);
  inilist_fail(il, "bad value '%s' for %s: a list may only name a relative path inside the "
                   "current directory (use %s on the command line or the config file)",
               v, name, strcmp(name, "dir") == 0 ? "-d" : "--log");
  return -1;
}

/* The ini_handler: one key of the current section. */
static int inilist_handler(void *user, const char *section, const char *name,
                           const char *value)
{
  struct inilist *il = user;
  if (il->failed)
    return 0;
  if (il->subst) {
    name = il->sname;
    value = il->svalue;
  }
  char key[80];
  opts_shorten(key, sizeof key, name);
  if (!*section) {
    inilist_fail(il, "key '%s' before any [section]", key);
    return 0;
  }
  unsigned long si = strtoul(section, NULL, 10);
  if (si >= il->nsects) { /* cannot happen: every section line is ours */
    inilist_fail(il, "internal error: unknown section");
    return 0;
  }
  const struct inilist_sect *s = &il->sects[si];
  struct cfg_opts *o;
  enum cfg_scope scope;
  if (s->kind == SECT_ITEM) {
    struct load_item *it = &il->ld->items[s->idx];
    if (inilist_item_key(il, it, s->shown, name, value))
      return !il->failed;
    if (!it->opts)
      it->opts = xcalloc(1, sizeof *it->opts);
    o = it->opts;
    scope = CFG_SCOPE_ITEM;
  } else if (s->kind == SECT_PROFILE) {
    o = &il->ld->profiles[s->idx].opts;
    scope = CFG_SCOPE_PROFILE;
  } else {
    o = il->is_config ? &il->ld->config : &il->ld->lists[il->list].settings;
    scope = CFG_SCOPE_RUN;
  }
  int k = cfg_key_lookup(name);
  if (k >= 0 && k != CFG_KEY_header && (o->set & (1u << k))) {
    inilist_fail(il, "duplicate key '%s' in %s", key, s->shown);
    return 0;
  }
  if (!il->is_config && s->kind != SECT_ITEM && s->kind != SECT_PROFILE &&
      inilist_place_key(il, name, value) < 0)
    return 0;
  char msg[CFG_ERR_MAX];
  if (cfg_opts_set(o, scope, name, value, msg, sizeof msg) < 0) {
    inilist_fail(il, "%s", msg);
    return 0;
  }
  return 1;
}

int inilist_load(struct load *ld, const char *path, int is_config, char *err, size_t errlen)
{
  char *buf;
  size_t len;
  if (load_read_file(path, &buf, &len, err, errlen) < 0)
    return -1;
  return inilist_parse(ld, path, is_config, buf, len, err, errlen);
}

int inilist_parse(struct load *ld, const char *path, int is_config, char *buf, size_t len,
                  char *err, size_t errlen)
{
  struct inilist il = {.ld = ld, .path = path, .is_config = is_config, .list = -1,
                       .buf = buf, .len = len, .err = err, .errlen = errlen};
  if (strncmp(il.buf, "\xEF\xBB\xBF", 3) == 0) /* a UTF-8 byte order mark */
    il.pos = 3;
  size_t before = ld->nitems;
  if (!is_config)
    il.list = (long)load_list_add(ld, path);

  int ret = ini_parse_stream(inilist_reader, &il, inilist_handler, &il);
  if (!il.failed && ret > 0) {
    /* The reader checks inih's syntax rules first; this is a backstop. */
    load_err(err, errlen, path, ret, "syntax error");
    il.failed = 1;
  } else if (!il.failed && ret < 0) {
    load_err(err, errlen, path, 0, "cannot parse (inih error %d)", ret);
    il.failed = 1;
  }
  if (!il.failed && inilist_close_section(&il) < 0)
    il.failed = 1;
  if (!il.failed && !is_config && ld->nitems == before) {
    load_err(err, errlen, path, 0, "no downloads in this list");
    il.failed = 1;
  }

  for (size_t i = 0; i < il.nsects; i++)
    free(il.sects[i].shown);
  free(il.sects);
  free(il.sname);
  free(il.svalue);
  free(il.buf);
  return il.failed ? -1 : 0;
}
