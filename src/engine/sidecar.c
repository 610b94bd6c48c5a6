/* sidecar.c - the resume sidecar NAME.part.meta as pure data: parse and
 * format its text, choose the validator, and read it from disk with the
 * guards SPEC "Integrity and hostile input" asks for.  Called on the
 * engine thread and on disk workers; touches no engine state.
 *
 * Format (version 2), one "key value" per line:
 *   siphon-part 2
 *   url http://bob:***@host/f/x?***     (for people: secrets masked)
 *   url_sha256 <hex>                    (what a later run compares)
 *   etag "abc"
 *   last_modified Mon, 01 Jan 2024 00:00:00 GMT
 *   total 12345                         (-1: unknown)
 *   missing 0-1023,4096-8191            (segmented: ranges not on disk)
 * A version 1 sidecar (url in clear) is still read, to resume old .parts. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sidecar.h"
#include "siphon/secret.h"
#include "siphon/xalloc.h"

static void url_hash(const char *url, char hex[65])
{
  unsigned char md[32];
  unsigned int len = 0;
  EVP_Digest(url, strlen(url), md, &len, EVP_sha256(), NULL);
  for (int i = 0; i < 32; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

static int has_ctl(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return 1;
  return 0;
}

void sidecar_free(struct sidecar *sc)
{
  free(sc->etag);
  free(sc->last_modified);
  free(sc->url_clear);
  free(sc->missing);
  memset(sc, 0, sizeof *sc);
  sc->total = -1;
}

/* One line's value into *field (the last one wins). */
static void set_str(char **field, const char *v, size_t n)
{
  free(*field);
  *field = n ? xstrndup(v, n) : NULL;
}

int sidecar_parse(const char *text, size_t len, struct sidecar *out)
{
  memset(out, 0, sizeof *out);
  out->total = -1;
  int version = 0;
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *le = nl ? nl : end;
    size_t n = (size_t)(le - p);
    if (memchr(p, '\0', n))
      goto bad;
    const char *sp = memchr(p, ' ', n);
    size_t kl = sp ? (size_t)(sp - p) : n;
    const char *v = sp ? sp + 1 : le;
    size_t vl = (size_t)(le - v);
    if (kl == 11 && memcmp(p, "siphon-part", 11) == 0) {
      if (vl == 1 && (*v == '1' || *v == '2'))
        version = *v - '0';
      else
        goto bad;
    } else if (kl == 3 && memcmp(p, "url", 3) == 0) {
      set_str(&out->url_clear, v, vl);
    } else if (kl == 10 && memcmp(p, "url_sha256", 10) == 0) {
      if (vl != 64)
        goto bad;
      memcpy(out->url_sha256, v, 64);
      out->url_sha256[64] = '\0';
    } else if (kl == 4 && memcmp(p, "etag", 4) == 0) {
      set_str(&out->etag, v, vl);
    } else if (kl == 13 && memcmp(p, "last_modified", 13) == 0) {
      set_str(&out->last_modified, v, vl);
    } else if (kl == 7 && memcmp(p, "missing", 7) == 0) {
      set_str(&out->missing, v, vl);
    } else if (kl == 5 && memcmp(p, "total", 5) == 0) {
      char num[24];
      if (vl == 0 || vl >= sizeof num)
        goto bad;
      memcpy(num, v, vl);
      num[vl] = '\0';
      char *e;
      errno = 0;
      long long t = strtoll(num, &e, 10);
      if (*e || errno || t < -1)
        goto bad;
      out->total = t;
    }
    p = nl ? nl + 1 : end;
  }
  if (version == 0)
    goto bad;
  if (version == 2) { /* the URL line is masked: only the hash compares */
    free(out->url_clear);
    out->url_clear = NULL;
  }
  if (!out->url_sha256[0] && !out->url_clear)
    goto bad;
  return 0;
bad:
  sidecar_free(out);
  return -1;
}

int sidecar_url_matches(const struct sidecar *sc, const char *url)
{
  if (!url)
    return 0;
  if (sc->url_sha256[0]) {
    char hex[65];
    url_hash(url, hex);
    return strcmp(hex, sc->url_sha256) == 0;
  }
  return sc->url_clear && strcmp(sc->url_clear, url) == 0;
}

char *sidecar_format(const char *url, const char *etag, const char *last_modified,
                     int64_t total, const char *missing)
{
  char hex[65];
  url_hash(url, hex);
  char *shown = secret_url_query(url);
  if (has_ctl(shown))
    shown[0] = '\0';
  if (etag && has_ctl(etag))
    etag = NULL;
  if (last_modified && has_ctl(last_modified))
    last_modified = NULL;
  char all[48];
  if (missing && has_ctl(missing)) { /* cannot be (ranges.c writes digits, '-'
                                        and ','): then everything is missing */
    snprintf(all, sizeof all, "0-%lld", (long long)(total > 0 ? total - 1 : 0));
    missing = all;
  }
  char *text = xasprintf("siphon-part 2\nurl %s\nurl_sha256 %s\netag %s\nlast_modified %s\n"
                         "total %lld\n%s%s%s",
                         shown, hex, etag ? etag : "", last_modified ? last_modified : "",
                         (long long)(total < -1 ? -1 : total), missing ? "missing " : "",
                         missing ? missing : "", missing ? "\n" : "");
  free(shown);
  return text;
}

const char *sidecar_validator(const char *etag, const char *last_modified)
{
  if (etag && *etag == '"' && strlen(etag) >= 2 && etag[strlen(etag) - 1] == '"')
    return etag;
  if (last_modified && *last_modified)
    return last_modified;
  return NULL;
}

const char *sidecar_kind(unsigned mode)
{
  switch (mode & S_IFMT) {
  case S_IFIFO: return "a FIFO";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFDIR: return "a directory";
  case S_IFSOCK: return "a socket";
  case S_IFLNK: return "a symlink";
  default: return "not a regular file";
  }
}

int sidecar_read(const char *path, struct sidecar *out, char *msg, size_t msglen)
{
  memset(out, 0, sizeof *out);
  out->total = -1;
  struct stat sb;
  if (lstat(path, &sb) != 0) {
    if (errno == ENOENT)
      return 1;
    snprintf(msg, msglen, "%s: %s", path, strerror(errno));
    return -1;
  }
  if (!S_ISREG(sb.st_mode)) {
    snprintf(msg, msglen, "%s is %s, not a regular file: refusing it", path,
             sidecar_kind(sb.st_mode));
    return -1;
  }
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    snprintf(msg, msglen, "%s: %s", path, strerror(errno));
    return -1;
  }
  int rc = -1;
  char *buf = NULL;
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) { /* swapped since lstat */
    snprintf(msg, msglen, "%s is not a regular file: refusing it", path);
    goto out;
  }
  if (sb.st_size > SIDECAR_MAX) {
    snprintf(msg, msglen, "%s is %lld bytes, more than a sidecar's %d: refusing it", path,
             (long long)sb.st_size, SIDECAR_MAX);
    goto out;
  }
  buf = xmalloc(SIDECAR_MAX + 1);
  size_t got = 0;
  while (got <= SIDECAR_MAX) {
    ssize_t n = read(fd, buf + got, SIDECAR_MAX + 1 - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      snprintf(msg, msglen, "%s: %s", path, strerror(errno));
      goto out;
    }
    if (n == 0)
      break;
    got += (size_t)n;
  }
  if (got > SIDECAR_MAX) {
    snprintf(msg, msglen, "%s grew past %d bytes: refusing it", path, SIDECAR_MAX);
    goto out;
  }
  rc = sidecar_parse(buf, got, out) == 0 ? 0 : -2;
out:
  free(buf);
  close(fd);
  return rc;
}
