/* url.c - the one check of what counts as a URL siphon downloads (lists,
 * the command line, and the screen's `a` before it sends one).  Pure
 * functions; any thread. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "siphon/url.h"

/* Accepts http:// and https:// (any case) with a host, an optional
 * user-info and port, and no spaces or control characters anywhere; the
 * rest is curl's business.  Plain parsing: no curl here. */
int url_ok(const char *url)
{
  if (!url)
    return 0;
  size_t sl;
  if (strncasecmp(url, "http://", 7) == 0)
    sl = 7;
  else if (strncasecmp(url, "https://", 8) == 0)
    sl = 8;
  else
    return 0;
  for (const unsigned char *p = (const unsigned char *)url; *p; p++)
    if (*p <= 0x20 || *p == 0x7f)
      return 0;
  const char *auth = url + sl;
  size_t alen = strcspn(auth, "/?#");
  const char *host = auth;
  for (size_t i = 0; i < alen; i++)
    if (auth[i] == '@')
      host = auth + i + 1;
  const char *end = auth + alen;
  const char *port = NULL;
  if (host < end && *host == '[') {
    const char *rb = NULL;
    for (const char *p = host; p < end && !rb; p++)
      if (*p == ']')
        rb = p;
    if (!rb || rb == host + 1)
      return 0;
    for (const char *p = host + 1; p < rb; p++)
      if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.' && *p != '%')
        return 0;
    if (rb + 1 < end) {
      if (rb[1] != ':')
        return 0;
      port = rb + 2;
    }
  } else {
    const char *colon = NULL;
    for (const char *p = host; p < end && !colon; p++)
      if (*p == ':')
        colon = p;
    const char *hend = colon ? colon : end;
    if (hend == host)
      return 0;
    for (const char *p = host; p < hend; p++) {
      unsigned char c = (unsigned char)*p;
      if (!(isalnum(c) || c >= 0x80 || strchr("-._~%", c)))
        return 0;
    }
    if (colon)
      port = colon + 1;
  }
  if (port) {
    size_t pl = (size_t)(end - port);
    if (pl == 0 || pl > 5)
      return 0;
    long v = 0;
    for (size_t i = 0; i < pl; i++) {
      if (port[i] < '0' || port[i] > '9')
        return 0;
      v = v * 10 + (port[i] - '0');
    }
    if (v < 1 || v > 65535)
      return 0;
  }
  return 1;
}
