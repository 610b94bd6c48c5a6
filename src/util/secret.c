/* secret.c - masks credentials before text leaves the process: the
 * password of a URL's user-info (and, for the log and the sidecar, its
 * query) and credential header values.  Pure
 * functions, called from any thread (the engine for events, the log and
 * the sidecar). */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "siphon/secret.h"
#include "siphon/xalloc.h"

/* Only the authority (between "scheme://" and the first / ? #) can hold
 * user-info; its last '@' ends it, and the first ':' before that starts
 * the password. */
char *secret_url(const char *url)
{
  if (!url)
    return NULL;
  const char *sep = strstr(url, "://");
  if (!sep)
    return xstrdup(url);
  const char *auth = sep + 3;
  size_t alen = strcspn(auth, "/?#");
  const char *at = NULL;
  for (size_t i = 0; i < alen; i++)
    if (auth[i] == '@')
      at = auth + i;
  if (!at)
    return xstrdup(url);
  const char *colon = memchr(auth, ':', (size_t)(at - auth));
  if (!colon)
    return xstrdup(url);
  return xasprintf("%.*s***%s", (int)(colon + 1 - url), url, at);
}

int secret_header(const char *line, size_t len)
{
  static const char *const names[] = {"Authorization", "Proxy-Authorization", "Cookie",
                                      "Set-Cookie"};
  const char *colon = memchr(line, ':', len);
  size_t nl = colon ? (size_t)(colon - line) : len;
  while (nl > 0 && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
    nl--;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i]) == nl && strncasecmp(line, names[i], nl) == 0)
      return 1;
  return 0;
}

/* Mask the password of a URL's user-info and its query, in one pass. */
char *secret_url_query(const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s);
  char *out = xmalloc(n + 8);
  size_t o = 0, i = 0;
  const char *sch = strstr(s, "://");
  if (sch) {
    size_t auth = (size_t)(sch - s) + 3;
    size_t alen = strcspn(s + auth, "/?# ");
    const char *at = NULL;
    for (size_t k = 0; k < alen; k++)
      if (s[auth + k] == '@')
        at = s + auth + k;
    const char *colon = at ? memchr(s + auth, ':', (size_t)(at - (s + auth))) : NULL;
    if (colon) {
      memcpy(out, s, (size_t)(colon - s) + 1);
      o = (size_t)(colon - s) + 1;
      memcpy(out + o, "***", 3);
      o += 3;
      i = (size_t)(at - s);
    }
  }
  int masked = 0;
  while (i < n) {
    if (s[i] == '?' && !masked) {
      masked = 1;
      out[o++] = '?';
      size_t q = strcspn(s + i + 1, " #");
      if (q > 0) {
        memcpy(out + o, "***", 3);
        o += 3;
      }
      i += 1 + q;
      continue;
    }
    out[o++] = s[i++];
  }
  out[o] = '\0';
  return out;
}
