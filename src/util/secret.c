/* secret.c - masks credentials before text leaves the process: the
 * password of a URL's user-info and credential header values.  Pure
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
