/* siphon/url.h - what counts as a URL siphon downloads. */
#ifndef SIPHON_URL_H
#define SIPHON_URL_H

/* 1 if url is an absolute http:// or https:// URL with a host (an
 * optional user-info and port), with no spaces or control characters;
 * else 0. */
int url_ok(const char *url);

#endif
