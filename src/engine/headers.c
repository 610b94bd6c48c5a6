/* headers.c - the response-header parsers of headers.h: pure functions over
 * one line at a time.  Runs on the engine thread (from curl's header
 * callback), in the unit tests and in the fuzzer. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "headers.h"
#include "siphon/xalloc.h"

void headers_init(struct headers *h)
{
  memset(h, 0, sizeof *h);
  h->accept_ranges = -1;
  h->range_start = h->range_end = h->range_total = -1;
  h->retry_after_ms = -1;
}

void headers_reset(struct headers *h)
{
  free(h->etag);
  free(h->last_modified);
  free(h->disposition);
  headers_init(h);
}

long headers_status(const char *line, size_t len)
{
  if (len < 5 || strncmp(line, "HTTP/", 5) != 0)
    return 0;
  const char *sp = memchr(line, ' ', len);
  if (!sp)
    return 0;
  long code = 0;
  int digits = 0;
  for (const char *p = sp + 1; p < line + len && *p >= '0' && *p <= '9' && digits < 3; p++) {
    code = code * 10 + (*p - '0');
    digits++;
  }
  return digits == 3 && code >= 100 ? code : 0;
}

int headers_field(const char *line, size_t len, const char *name, const char **val,
                  size_t *vlen)
{
  size_t n = strlen(name);
  if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
    return 0;
  const char *v = line + n + 1, *end = line + len;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
    end--;
  *val = v;
  *vlen = (size_t)(end - v);
  return 1;
}

/* Decimal digits at *p (at most 18, so no overflow); advances *p. */
static int parse_num(const char **p, const char *end, int64_t *out)
{
  int64_t n = 0;
  int digits = 0;
  while (*p < end && **p >= '0' && **p <= '9') {
    if (++digits > 18)
      return -1;
    n = n * 10 + (**p - '0');
    (*p)++;
  }
  if (digits == 0)
    return -1;
  *out = n;
  return 0;
}

int headers_content_range(const char *v, size_t n, int64_t *start, int64_t *end,
                          int64_t *total)
{
  const char *p = v, *e = v + n;
  int64_t a, b, t = -1;
  if (n < 6 || strncasecmp(p, "bytes", 5) != 0)
    return -1;
  p += 5;
  if (p >= e || (*p != ' ' && *p != '\t'))
    return -1;
  while (p < e && (*p == ' ' || *p == '\t'))
    p++;
  if (parse_num(&p, e, &a) != 0 || p >= e || *p++ != '-' || parse_num(&p, e, &b) != 0 ||
      p >= e || *p++ != '/')
    return -1;
  if (p < e && *p == '*')
    p++;
  else if (parse_num(&p, e, &t) != 0)
    return -1;
  if (p != e || a > b || (t >= 0 && b >= t))
    return -1;
  *start = a;
  *end = b;
  *total = t;
  return 0;
}

int headers_unsatisfied(const char *v, size_t n, int64_t *total)
{
  const char *p = v, *e = v + n;
  int64_t t;
  if (n < 8 || strncasecmp(p, "bytes", 5) != 0)
    return -1;
  p += 5;
  while (p < e && (*p == ' ' || *p == '\t'))
    p++;
  if (e - p < 3 || p[0] != '*' || p[1] != '/')
    return -1;
  p += 2;
  if (parse_num(&p, e, &t) != 0 || p != e)
    return -1;
  *total = t;
  return 0;
}

int64_t headers_retry_after(const char *v, size_t n, int64_t now_s)
{
  char buf[64];
  if (n == 0 || n >= sizeof buf)
    return -1;
  memcpy(buf, v, n);
  buf[n] = '\0';
  const char *p = buf;
  int64_t secs;
  if (parse_num(&p, buf + n, &secs) == 0 && *p == '\0')
    return secs > HEADERS_RETRY_AFTER_CAP_MS / 1000 ? HEADERS_RETRY_AFTER_CAP_MS : secs * 1000;
  time_t when = curl_getdate(buf, NULL);
  if (when < 0)
    return -1;
  int64_t d = (int64_t)when - now_s;
  if (d < 0)
    return 0;
  return d > HEADERS_RETRY_AFTER_CAP_MS / 1000 ? HEADERS_RETRY_AFTER_CAP_MS : d * 1000;
}

static void set_str(char **dst, const char *v, size_t n)
{
  free(*dst);
  *dst = xstrndup(v, n);
}

enum headers_line headers_feed(struct headers *h, const char *line, size_t len, int64_t now_s)
{
  const char *v;
  size_t vlen;
  if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
    /* a new response (redirects and 1xx bring several) */
    headers_reset(h);
    h->status = headers_status(line, len);
    return HEADERS_STATUS;
  }
  if (len == 0 || (len <= 2 && (line[0] == '\r' || line[0] == '\n')))
    return HEADERS_END;
  if (headers_field(line, len, "ETag", &v, &vlen)) {
    set_str(&h->etag, v, vlen);
  } else if (headers_field(line, len, "Last-Modified", &v, &vlen)) {
    set_str(&h->last_modified, v, vlen);
  } else if (headers_field(line, len, "Content-Disposition", &v, &vlen)) {
    set_str(&h->disposition, v, vlen);
  } else if (headers_field(line, len, "Location", &v, &vlen)) {
    h->location = 1;
  } else if (headers_field(line, len, "Retry-After", &v, &vlen)) {
    h->retry_after_ms = headers_retry_after(v, vlen, now_s);
  } else if (headers_field(line, len, "Accept-Ranges", &v, &vlen)) {
    h->accept_ranges = vlen >= 5 && strncasecmp(v, "bytes", 5) == 0;
  } else if (headers_field(line, len, "Content-Range", &v, &vlen)) {
    if (headers_content_range(v, vlen, &h->range_start, &h->range_end, &h->range_total) != 0) {
      h->range_start = h->range_end = h->range_total = -1;
      int64_t t;
      if (headers_unsatisfied(v, vlen, &t) == 0)
        h->range_total = t; /* a 416: how long the file is */
    }
  }
  return HEADERS_FIELD;
}
