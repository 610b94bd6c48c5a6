/* load.c - the loading state shared by the INI and URL-list loaders: the
 * items, profiles and lists gathered so far, an index of item names (they
 * must be unique across every input), error formatting, and reading a list
 * file whole with the checks every list gets (directory, unreadable, not
 * UTF-8, NUL bytes, too large).  Main thread only. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "siphon/cfg.h"
#include "siphon/xalloc.h"
#include "cfg-int.h"

/* A list bigger than this is surely not a list (and /dev/zero ends). */
enum { LOAD_MAX_FILE = 64 * 1024 * 1024 };

void load_init(struct load *ld)
{
  memset(ld, 0, sizeof *ld);
}

void load_free(struct load *ld)
{
  for (size_t i = 0; i < ld->nitems; i++) {
    struct load_item *it = &ld->items[i];
    if (!it->name_in_url)
      free(it->name);
    if (!it->url_in_text)
      free(it->url);
    free(it->output);
    free(it->profile);
    free(it->sha256);
    if (it->opts) {
      cfg_opts_free(it->opts);
      free(it->opts);
    }
  }
  free(ld->items);
  for (size_t i = 0; i < ld->nprofiles; i++) {
    free(ld->profiles[i].name);
    free(ld->profiles[i].file);
    cfg_opts_free(&ld->profiles[i].opts);
  }
  free(ld->profiles);
  for (size_t i = 0; i < ld->nlists; i++) {
    free(ld->lists[i].file);
    cfg_opts_free(&ld->lists[i].settings);
  }
  free(ld->lists);
  cfg_opts_free(&ld->config);
  free(ld->hash);
  for (size_t i = 0; i < ld->nfiles; i++)
    free(ld->files[i]);
  free(ld->files);
  for (size_t i = 0; i < ld->ntext; i++)
    free(ld->text[i]);
  free(ld->text);
  memset(ld, 0, sizeof *ld);
}

/* FNV-1a: names are short and this is only a lookup index. */
static size_t load_hash(const char *s)
{
  size_t h = 1469598103934665603u;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211u;
  }
  return h;
}

struct load_item *load_item_find(const struct load *ld, const char *name)
{
  if (!ld->hashcap)
    return NULL;
  for (size_t i = load_hash(name) & (ld->hashcap - 1);; i = (i + 1) & (ld->hashcap - 1)) {
    uint32_t v = ld->hash[i];
    if (!v)
      return NULL;
    if (strcmp(ld->items[v - 1].name, name) == 0)
      return &ld->items[v - 1];
  }
}

/* Keep the index at most half full so probes stay short. */
static void load_hash_grow(struct load *ld)
{
  size_t cap = ld->hashcap ? ld->hashcap * 2 : 64;
  free(ld->hash);
  ld->hash = xcalloc(cap, sizeof *ld->hash);
  ld->hashcap = cap;
  for (size_t k = 0; k < ld->nitems; k++) {
    size_t i = load_hash(ld->items[k].name) & (cap - 1);
    while (ld->hash[i])
      i = (i + 1) & (cap - 1);
    ld->hash[i] = (uint32_t)(k + 1);
  }
}

/* The loader's one copy of a file name: items of one input come in a row,
 * so 80,000 URLs of a list do not each hold (and then free) a copy. */
static const char *load_file_name(struct load *ld, const char *file)
{
  if (!ld->nfiles || strcmp(ld->files[ld->nfiles - 1], file) != 0) {
    ld->files = xrealloc(ld->files, (ld->nfiles + 1) * sizeof *ld->files);
    ld->files[ld->nfiles++] = xstrdup(file);
  }
  return ld->files[ld->nfiles - 1];
}

/* Append an item that owns name. */
static struct load_item *load_item_put(struct load *ld, char *name, int name_in_url,
                                       const char *file, int line)
{
  if (ld->nitems == ld->itemcap) {
    ld->itemcap = ld->itemcap ? ld->itemcap * 2 : 16;
    ld->items = xrealloc(ld->items, ld->itemcap * sizeof *ld->items);
  }
  struct load_item *it = &ld->items[ld->nitems++];
  memset(it, 0, sizeof *it);
  it->name = name;
  it->name_in_url = (unsigned char)name_in_url;
  it->file = load_file_name(ld, file);
  it->line = line;
  it->list = -1;
  if (2 * ld->nitems > ld->hashcap) {
    load_hash_grow(ld);
  } else {
    size_t i = load_hash(name) & (ld->hashcap - 1);
    while (ld->hash[i])
      i = (i + 1) & (ld->hashcap - 1);
    ld->hash[i] = (uint32_t)ld->nitems;
  }
  return it;
}

struct load_item *load_item_add(struct load *ld, const char *name, const char *file, int line)
{
  return load_item_put(ld, xstrdup(name), 0, file, line);
}

enum { LOAD_TEXT_BLOCK = 64 * 1024 };

/* A copy of s in the packed text: 80,000 URLs without a malloc header and
 * rounding each (a long one gets a block of its own). */
static char *load_text(struct load *ld, const char *s)
{
  size_t n = strlen(s) + 1;
  char *p;
  if (n > ld->text_left) {
    size_t size = n > LOAD_TEXT_BLOCK / 4 ? n : LOAD_TEXT_BLOCK;
    ld->text = xrealloc(ld->text, (ld->ntext + 1) * sizeof *ld->text);
    p = ld->text[ld->ntext++] = xmalloc(size);
    if (size == n) { /* its own block; the current one keeps its free space */
      memcpy(p, s, n);
      return p;
    }
    ld->text_at = p;
    ld->text_left = size;
  }
  p = ld->text_at;
  memcpy(p, s, n);
  ld->text_at += n;
  ld->text_left -= n;
  return p;
}

struct load_item *load_item_add_url(struct load *ld, const char *text, char *name,
                                    const char *file, int line)
{
  char *url = load_text(ld, text);
  size_t n = strlen(name), u = strlen(url);
  int tail = n > 0 && n < u && url[u - n - 1] == '/' && strcmp(url + u - n, name) == 0;
  struct load_item *it = load_item_put(ld, tail ? url + u - n : name, tail, file, line);
  if (tail)
    free(name);
  it->url = url;
  it->url_in_text = 1;
  return it;
}

struct load_profile *load_profile_find(const struct load *ld, const char *name)
{
  for (size_t i = 0; i < ld->nprofiles; i++)
    if (strcmp(ld->profiles[i].name, name) == 0)
      return &ld->profiles[i];
  return NULL;
}

struct load_profile *load_profile_add(struct load *ld, const char *name, const char *file,
                                      int line, int from_config)
{
  if (ld->nprofiles == ld->profcap) {
    ld->profcap = ld->profcap ? ld->profcap * 2 : 8;
    ld->profiles = xrealloc(ld->profiles, ld->profcap * sizeof *ld->profiles);
  }
  struct load_profile *p = &ld->profiles[ld->nprofiles++];
  memset(p, 0, sizeof *p);
  p->name = xstrdup(name);
  p->file = xstrdup(file);
  p->line = line;
  p->from_config = from_config;
  return p;
}

size_t load_list_add(struct load *ld, const char *file)
{
  if (ld->nlists == ld->listcap) {
    ld->listcap = ld->listcap ? ld->listcap * 2 : 4;
    ld->lists = xrealloc(ld->lists, ld->listcap * sizeof *ld->lists);
  }
  struct load_list *l = &ld->lists[ld->nlists];
  memset(l, 0, sizeof *l);
  l->file = xstrdup(file);
  return ld->nlists++;
}

const char *load_where(const char *file)
{
  return strcmp(file, "-") == 0 ? "stdin" : file;
}

void load_err(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
{
  if (!err || !errlen)
    return;
  int n = 0;
  if (*file)
    n = line > 0 ? snprintf(err, errlen, "%s:%d: ", load_where(file), line)
                 : snprintf(err, errlen, "%s: ", load_where(file));
  if (n < 0 || (size_t)n >= errlen)
    n = (int)errlen - 1;
  /* The message goes to a terminal: a control character in a file name
     must not become an escape sequence (what follows is already clean). */
  for (int i = 0; i < n; i++)
    if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
      err[i] = '?';
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t load_utf8_len(const unsigned char *s, size_t n)
{
  unsigned c = s[0];
  size_t len;
  unsigned min;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  unsigned cp = c & (0xff >> (len + 1));
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

/* Check the text; -1 with err naming the line of the first bad byte. */
static int load_check_text(const char *path, const char *buf, size_t len, char *err,
                           size_t errlen)
{
  int line = 1;
  for (size_t i = 0; i < len;) {
    const unsigned char *p = (const unsigned char *)buf + i;
    if (*p == 0) {
      load_err(err, errlen, path, line, "a NUL byte: not a text file");
      return -1;
    }
    size_t n = load_utf8_len(p, len - i);
    if (!n) {
      load_err(err, errlen, path, line, "not valid UTF-8 text");
      return -1;
    }
    if (*p == '\n')
      line++;
    i += n;
  }
  return 0;
}

int load_read_file(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
  int is_stdin = strcmp(path, "-") == 0;
  /* O_NONBLOCK: a FIFO nobody writes to must not hang the open (a list is
     hostile input); cleared at once, so a pipe that has a writer, as in
     siphon <(cmd), is read to its end */
  int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  char *b = NULL;
  size_t n = 0, cap = 0;
  int rc = -1;
  if (fd < 0) {
    load_err(err, errlen, path, 0, "%s", strerror(errno));
    return -1;
  }
  int fl = is_stdin ? 0 : fcntl(fd, F_GETFL);
  if (fl < 0 || (!is_stdin && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)) {
    load_err(err, errlen, path, 0, "%s", strerror(errno));
    close(fd);
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0) {
    load_err(err, errlen, path, 0, "%s", strerror(errno));
    goto out;
  }
  if (S_ISDIR(st.st_mode)) {
    load_err(err, errlen, path, 0, "is a directory, not a list");
    goto out;
  }
  /* a device is never a list (/dev/zero would be read up to the limit,
     a tape or a terminal could block); a regular file over the limit is
     refused by its size before a byte is read */
  if (!is_stdin && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))) {
    load_err(err, errlen, path, 0, "is a device, not a list");
    goto out;
  }
  if (S_ISREG(st.st_mode) && st.st_size > (off_t)LOAD_MAX_FILE) {
    load_err(err, errlen, path, 0, "too large for a list (over 64 MiB)");
    goto out;
  }
  for (;;) {
    if (cap - n < 4096) {
      cap = cap ? cap * 2 : 65536;
      b = xrealloc(b, cap + 1);
    }
    ssize_t r = read(fd, b + n, cap - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      load_err(err, errlen, path, 0, "%s", strerror(errno));
      goto out;
    }
    if (r == 0)
      break;
    n += (size_t)r;
    if (n > LOAD_MAX_FILE) {
      load_err(err, errlen, path, 0, "too large for a list (over 64 MiB)");
      goto out;
    }
  }
  if (!b)
    b = xmalloc(1);
  b[n] = '\0';
  if (load_check_text(path, b, n, err, errlen) < 0)
    goto out;
  *buf = b;
  *len = n;
  b = NULL;
  rc = 0;
out:
  free(b);
  if (!is_stdin)
    close(fd);
  return rc;
}

int load_looks_ini(const char *text)
{
  const char *p = text;
  if (strncmp(p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
      p++;
    if (*p != '#' && *p != ';')
      return *p == '[';
    p += strcspn(p, "\n");
  }
}
