/* headers.h - response headers as pure functions: one header line in, the
 * facts the engine acts on out.  No engine state, no I/O, no clock (the
 * caller passes the time), so the parsers are unit-tested and fuzzed
 * (tests/fuzz/fuzz_headers.c): server headers are the hostile input. */
#ifndef SIPHON_HEADERS_H
#define SIPHON_HEADERS_H

#include <stddef.h>
#include <stdint.h>

enum { HEADERS_RETRY_AFTER_CAP_MS = 600000 };

/* What one response said.  Strings are owned (headers_reset frees them). */
struct headers {
  long status;              /* 0 until a status line */
  int location;             /* a Location header came */
  int accept_ranges;        /* -1 not said, 0 none, 1 bytes */
  int64_t range_start;      /* Content-Range: -1 none or unparsable */
  int64_t range_end;        /* last byte, inclusive; -1 none */
  int64_t range_total;      /* -1 none or "*" */
  int64_t retry_after_ms;   /* -1 none */
  char *etag, *last_modified, *disposition;
};

/* What a line was. */
enum headers_line {
  HEADERS_STATUS, /* "HTTP/..." : a new response; the struct was reset */
  HEADERS_END,    /* the blank line after the fields */
  HEADERS_FIELD   /* a field (known or not) */
};

void headers_init(struct headers *h);
/* Frees the strings and forgets everything: a new response. */
void headers_reset(struct headers *h);
/* One line as curl hands it (CRLF included, not NUL-terminated).  now_s is
 * the wall-clock time, for a Retry-After given as a date. */
enum headers_line headers_feed(struct headers *h, const char *line, size_t len, int64_t now_s);

/* The parts, for tests and for callers with one value. */
/* "HTTP/1.1 206 Partial" -> 206; 0 if not a status line with a code. */
long headers_status(const char *line, size_t len);
/* 1 if line is "name: value" (case-insensitive name); value trimmed. */
int headers_field(const char *line, size_t len, const char *name, const char **val,
                  size_t *vlen);
/* "bytes A-B/T", or with "*" for T: 0 and the numbers (total -1 for "*"), or
 * -1 when the value is anything else (A > B, B >= T, no digits, overflow). */
int headers_content_range(const char *v, size_t n, int64_t *start, int64_t *end,
                          int64_t *total);
/* A 416's Content-Range, "bytes *" then "/T" (the file is T bytes long):
 * 0 and T, else -1. */
int headers_unsatisfied(const char *v, size_t n, int64_t *total);
/* delta-seconds or an HTTP-date, as ms from now_s, capped at
 * HEADERS_RETRY_AFTER_CAP_MS; -1 if neither. */
int64_t headers_retry_after(const char *v, size_t n, int64_t now_s);

#endif
