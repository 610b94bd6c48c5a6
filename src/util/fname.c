/* fname.c - safe file names from URLs and Content-Disposition, and the
 * check for user-given relative paths (`output =`).  Pure functions,
 * called from any thread (the engine names files; cfg checks outputs).
 *
 * Everything funnels through sanitize_n(), which works on a byte range so
 * a percent-decoded NUL cannot cut a name short. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "siphon/fname.h"
#include "siphon/xalloc.h"

enum {
  FNAME_MAX = 200,
  /* a user's name is cut so that NAME.part.meta.tmp fits NAME_MAX (255) */
  FNAME_FIT = 255 - 14,
  EXT_MAX = 16 /* longest extension (dot included) kept when truncating */
};

static int is_ctl(unsigned char c)
{
  return c < 0x20 || c == 0x7f;
}

static int hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Percent-decode s[0..n) once into a new buffer; a '%' not followed by two
 * hex digits stays as it is.  *outlen gets the decoded length. */
static char *pct_decode(const char *s, size_t n, size_t *outlen)
{
  char *d = xmalloc(n + 1);
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    int hi, lo;
    if (s[i] == '%' && i + 2 < n &&
        (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
      d[j++] = (char)(hi << 4 | lo);
      i += 2;
    } else {
      d[j++] = s[i];
    }
  }
  d[j] = '\0';
  *outlen = j;
  return d;
}

/* Where to cut s so that at most max bytes remain and no UTF-8 sequence
 * is split: back up over at most 3 continuation bytes (a sequence has no
 * more); bytes that are not UTF-8 at all are cut at max. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
  if (len <= max)
    return len;
  size_t cut = max;
  while (cut > 0 && max - cut < 3 && ((unsigned char)s[cut] & 0xc0) == 0x80)
    cut--;
  return ((unsigned char)s[cut] & 0xc0) == 0x80 ? max : cut;
}

/* The names siphon gives its own files beside NAME: a final name never
 * ends in one of these, or a download could take over another's partial
 * file. */
static const char *const own_suffixes[] = {".part", ".part.meta", ".part.meta.tmp"};

/* Cut the base name d (malloc'd, NUL-terminated) to at most max bytes,
 * keeping "report.pdf"'s ".pdf" so the file still opens right, then
 * append '_' if it ends like one of siphon's own files.  Returns d, maybe
 * reallocated. */
static char *fit_name(char *d, size_t max)
{
  size_t n = strlen(d);
  if (n > max) {
    const char *dot = strrchr(d, '.');
    size_t extlen = dot ? n - (size_t)(dot - d) : 0;
    if (extlen > EXT_MAX || extlen == 1)
      extlen = 0;
    size_t stem = utf8_cut(d, n - extlen, max - extlen);
    memmove(d + stem, d + n - extlen, extlen);
    n = stem + extlen;
    d[n] = '\0';
  }
  for (size_t i = 0; i < sizeof own_suffixes / sizeof own_suffixes[0]; i++) {
    size_t sl = strlen(own_suffixes[i]);
    if (n >= sl && strcmp(d + n - sl, own_suffixes[i]) == 0) {
      d = xrealloc(d, n + 2);
      d[n] = '_';
      d[n + 1] = '\0';
      break;
    }
  }
  return d;
}

char *fname_fit_path(const char *path)
{
  if (!path)
    return NULL;
  const char *slash = strrchr(path, '/');
  size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
  char *base = fit_name(xstrdup(path + dirlen), FNAME_FIT);
  char *out = xasprintf("%.*s%s", (int)dirlen, path, base);
  free(base);
  return out;
}

/* The safe base name of s[0..n): leading dots dropped, separators and
 * control characters made '_', at most FNAME_MAX bytes with a short
 * extension kept.  NULL if nothing is left. */
static char *sanitize_n(const char *s, size_t n)
{
  while (n > 0 && *s == '.') {
    s++;
    n--;
  }
  if (n == 0)
    return NULL;

  char *d = xmalloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    d[i] = (c == '/' || c == '\\' || is_ctl(c)) ? '_' : (char)c;
  }
  d[n] = '\0';
  return fit_name(d, FNAME_MAX);
}

char *fname_sanitize(const char *name)
{
  return name ? sanitize_n(name, strlen(name)) : NULL;
}

/* Length of an RFC 3986 scheme followed by "://" at the start of url, or 0. */
static size_t scheme_len(const char *url)
{
  size_t i = 0;
  if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
    return 0;
  while ((url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') ||
         (url[i] >= '0' && url[i] <= '9') || url[i] == '+' || url[i] == '-' || url[i] == '.')
    i++;
  return strncmp(url + i, "://", 3) == 0 ? i + 3 : 0;
}

char *fname_from_url(const char *url)
{
  if (!url)
    return xstrdup("index.html");
  const char *p = url;
  size_t sl = scheme_len(url);
  if (sl || strncmp(url, "//", 2) == 0) {
    /* The authority (userinfo, [v6] host, port) holds no '/', '?' or '#'. */
    p = url + (sl ? sl : 2);
    p += strcspn(p, "/?#");
  }
  size_t pathlen = strcspn(p, "?#");
  const char *seg = p;
  for (size_t i = 0; i < pathlen; i++)
    if (p[i] == '/')
      seg = p + i + 1;
  size_t seglen = pathlen - (size_t)(seg - p);

  size_t dlen;
  char *dec = pct_decode(seg, seglen, &dlen);
  char *name = sanitize_n(dec, dlen);
  free(dec);
  return name ? name : xstrdup("index.html");
}

static const char *skip_ws(const char *p)
{
  while (*p == ' ' || *p == '\t')
    p++;
  return p;
}

/* Read one parameter value at p (quoted string or token) into a new
 * buffer; *end gets where parsing stopped.  In a quoted string only \" and
 * \\ are escapes, so IE-style "C:\dir\x.exe" keeps its backslashes. */
static char *disp_value(const char *p, const char **end)
{
  if (*p != '"') {
    size_t n = strcspn(p, ";");
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
      n--;
    *end = p + strcspn(p, ";");
    return xstrndup(p, n);
  }
  p++;
  char *d = xmalloc(strlen(p) + 1);
  size_t j = 0;
  while (*p && *p != '"') {
    if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
      p++;
    d[j++] = *p++;
  }
  d[j] = '\0';
  if (*p == '"')
    p++;
  *end = p + strcspn(p, ";"); /* anything after the closing quote is ignored */
  return d;
}

/* Decode an RFC 5987 ext-value (charset'lang'pct-text) into *len bytes of
 * UTF-8; NULL for a charset we cannot read or a malformed value. */
static char *disp_ext_value(const char *v, size_t *len)
{
  const char *q1 = strchr(v, '\'');
  const char *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
  if (!q2)
    return NULL;
  size_t cslen = (size_t)(q1 - v);
  int latin1;
  if (cslen == 5 && strncasecmp(v, "UTF-8", 5) == 0)
    latin1 = 0;
  else if (cslen == 10 && strncasecmp(v, "ISO-8859-1", 10) == 0)
    latin1 = 1;
  else
    return NULL;
  char *dec = pct_decode(q2 + 1, strlen(q2 + 1), len);
  if (!latin1)
    return dec;
  /* Latin-1 bytes are code points; each high one becomes two UTF-8 bytes. */
  char *u = xmalloc(*len * 2 + 1);
  size_t j = 0;
  for (size_t i = 0; i < *len; i++) {
    unsigned char c = (unsigned char)dec[i];
    if (c < 0x80) {
      u[j++] = (char)c;
    } else {
      u[j++] = (char)(0xc0 | c >> 6);
      u[j++] = (char)(0x80 | (c & 0x3f));
    }
  }
  u[j] = '\0';
  free(dec);
  *len = j;
  return u;
}

/* Base name of s[0..n) (after the last '/' or '\\'), made safe. */
static char *base_safe(const char *s, size_t n)
{
  size_t start = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '/' || s[i] == '\\')
      start = i + 1;
  return sanitize_n(s + start, n - start);
}

char *fname_from_disposition(const char *value)
{
  if (!value)
    return NULL;
  char *plain = NULL, *ext = NULL;
  size_t extlen = 0;
  const char *p = value;

  /* Walk "type; name=value; ..." - the type is just a part without '='. */
  while (*p) {
    p = skip_ws(p);
    size_t nlen = strcspn(p, "=;");
    const char *name = p;
    p += nlen;
    if (*p != '=') {
      if (*p == ';')
        p++;
      continue;
    }
    while (nlen > 0 && (name[nlen - 1] == ' ' || name[nlen - 1] == '\t'))
      nlen--;
    const char *end;
    char *v = disp_value(skip_ws(p + 1), &end);
    p = *end ? end + 1 : end;

    if (nlen == 9 && strncasecmp(name, "filename*", 9) == 0 && !ext) {
      ext = disp_ext_value(v, &extlen);
      free(v);
    } else if (nlen == 8 && strncasecmp(name, "filename", 8) == 0 && !plain) {
      plain = v;
    } else {
      free(v);
    }
  }

  char *name = NULL;
  if (ext)
    name = base_safe(ext, extlen);
  if (!name && plain)
    name = base_safe(plain, strlen(plain));
  free(ext);
  free(plain);
  return name;
}

int fname_relpath_ok(const char *path)
{
  if (!path || !*path || *path == '/')
    return 0;
  const char *p = path;
  for (;;) {
    size_t n = strcspn(p, "/");
    if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
      return 0;
    for (size_t i = 0; i < n; i++)
      if (is_ctl((unsigned char)p[i]))
        return 0;
    if (!p[n])
      return 1;
    p += n + 1;
  }
}
