/* siphon/secret.h - masking what must never be shown, logged or stored in
 * clear (SPEC.md "Network"): the password of a user:pass@ URL and the
 * values of credential headers.  Pure functions, any thread. */
#ifndef SIPHON_SECRET_H
#define SIPHON_SECRET_H

#include <stddef.h>

/* A malloc'd copy of url with the password of its user-info replaced by
 * "***" ("http://u:***@h/p"); a URL without one is copied as it is.
 * NULL gives NULL. */
char *secret_url(const char *url);
/* The same, and its query too (from '?' to the next ' ', '#' or the end):
 * "http://bob:***@h/f?***", for the log and the sidecar, since a query
 * often carries a token (signed URLs).  Works on a URL and on an HTTP
 * request line ("GET /f?t=1 HTTP/1.1").  NULL gives NULL. */
char *secret_url_query(const char *s);
/* 1 if the header line "Name: value" (or a name of len bytes) carries a
 * credential: Authorization, Proxy-Authorization, Cookie, Set-Cookie. */
int secret_header(const char *line, size_t len);

#endif
