/* redact.c - masks the secrets of a URL (its password and its query) for
 * the log and the sidecar.  Pure string work, called from any thread. */
#include <string.h>

#include "siphon/redact.h"
#include "siphon/xalloc.h"

/* Mask the password of a URL's user-info and its query, in one pass. */
char *redact_url(const char *s)
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
