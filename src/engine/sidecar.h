/* sidecar.h - the resume sidecar NAME.part.meta as pure data: its text
 * format, which validator may join bytes, and a bounded, never-blocking
 * read.  No curl, no uv: unit-tested and fuzzed (tests/fuzz/fuzz_sidecar.c). */
#ifndef SIPHON_SIDECAR_H
#define SIPHON_SIDECAR_H

#include <stddef.h>
#include <stdint.h>

/* SPEC: sidecars are at most 64 KiB; a bigger one is refused. */
enum { SIDECAR_MAX = 64 * 1024 };

struct sidecar {
  char *etag, *last_modified; /* NULL when absent */
  int64_t total;              /* -1 unknown */
  char url_sha256[65];        /* hex of the URL it was written for; "" if none */
  char *url_clear;            /* a version 1 sidecar's URL (in clear) */
  char *missing;              /* a segmented .part's missing ranges
                                 ("a-b,c-d", parsed by ranges.c); NULL if none */
};

/* Parse a sidecar's bytes.  0 and *out filled (free with sidecar_free),
 * or -1 when text is not a siphon sidecar (then *out holds nothing). */
int sidecar_parse(const char *text, size_t len, struct sidecar *out);
void sidecar_free(struct sidecar *sc);

/* 1 if the sidecar was written for url. */
int sidecar_url_matches(const struct sidecar *sc, const char *url);

/* The text of a sidecar for url: the URL only with its secrets masked
 * (for a person reading it) and as a sha256 (to compare), the validators,
 * the total and, for a segmented .part, the missing ranges (NULL: none).
 * Values with control characters are left out.  malloc'd. */
char *sidecar_format(const char *url, const char *etag, const char *last_modified,
                     int64_t total, const char *missing);

/* What may go in If-Range: a strong ETag, else a Last-Modified date, else
 * NULL (never a weak W/ ETag: it does not prove the bytes are the same). */
const char *sidecar_validator(const char *etag, const char *last_modified);

/* Read path as a sidecar without blocking or reading without bound: not
 * followed through a symlink, opened O_NONBLOCK, refused unless a regular
 * file of at most SIDECAR_MAX bytes.  0 and *out; 1 when there is no such
 * file; -1 with a one-line message in msg when it is refused (a FIFO, a
 * device, a symlink, too big, unreadable); -2 when it is not a sidecar. */
int sidecar_read(const char *path, struct sidecar *out, char *msg, size_t msglen);

/* "a FIFO", "a directory", ... for a file mode that is not a regular file. */
const char *sidecar_kind(unsigned mode);

#endif
