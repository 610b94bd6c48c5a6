/* siphon/redact.h - secrets out of URLs before they are shown or stored.
 *
 * SPEC.md: the password of a user:pass@ URL is never shown or stored in
 * clear; a query often carries a token (?token=..., signed URLs), so the
 * log and the resume sidecar keep neither: "http://bob:***@h/f?***". */
#ifndef SIPHON_REDACT_H
#define SIPHON_REDACT_H

/* s with the password of its user-info (if it holds "://") and its query
 * (from '?' to the next ' ', '#' or the end) replaced by "***".  Works on
 * a URL and on an HTTP request line ("GET /f?t=1 HTTP/1.1").  malloc'd;
 * NULL in, NULL out. */
char *redact_url(const char *s);

#endif
