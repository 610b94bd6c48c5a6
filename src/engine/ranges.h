/* ranges.h - sets of byte ranges for segmented downloads: which bytes of a
 * file are still missing (the sidecar's record) and which are not yet
 * given to any connection, how to cut work into pieces for N connections,
 * and work stealing.  Pure: no I/O, no curl, no uv; unit-tested and fuzzed.
 *
 * A set is kept sorted, its spans disjoint and never touching (adding a
 * span next to another merges them).  Spans are half-open [start, end);
 * the text form (sidecar) is HTTP's inclusive "a-b" list: "0-99,200-299". */
#ifndef SIPHON_RANGES_H
#define SIPHON_RANGES_H

#include <stddef.h>
#include <stdint.h>

/* A sidecar never holds more spans than this (it is at most 64 KiB). */
enum { RANGES_MAX = 2048 };

struct ranges_span {
  int64_t start, end; /* [start, end) */
};

struct ranges {
  struct ranges_span *v;
  size_t n, cap;
};

void ranges_init(struct ranges *r);
void ranges_free(struct ranges *r);
void ranges_clear(struct ranges *r);
/* The set becomes exactly [0, total) (nothing when total <= 0). */
void ranges_reset(struct ranges *r, int64_t total);
/* Add [start, end) (merging with neighbours).  0; -1 for an empty or
 * negative span, or when the set would exceed RANGES_MAX spans. */
int ranges_add(struct ranges *r, int64_t start, int64_t end);
/* Remove [start, end) from the set (bytes received and written). */
void ranges_remove(struct ranges *r, int64_t start, int64_t end);
/* Bytes in the set. */
int64_t ranges_bytes(const struct ranges *r);
/* 1 when every byte of [start, end) is in the set. */
int ranges_has(const struct ranges *r, int64_t start, int64_t end);
/* Take the first at most maxlen bytes of the first span out of the set
 * into *out.  0; -1 when the set is empty. */
int ranges_take(struct ranges *r, int64_t maxlen, struct ranges_span *out);
/* Take the whole span that contains byte pos out of the set, from pos on,
 * at most maxlen bytes.  0; -1 when pos is not in the set. */
int ranges_take_at(struct ranges *r, int64_t pos, int64_t maxlen, struct ranges_span *out);

/* How large each piece is when `work` bytes are shared by at most `legs`
 * connections, no piece under min_seg: the number of pieces is
 * work / min_seg, clamped to 1..legs, and a piece is work / pieces rounded
 * up.  Splitting is worth it only when this is less than work. */
int64_t ranges_piece(int64_t work, int legs, int64_t min_seg);

/* Work stealing.  legs[i] is what connection i still has to receive
 * (start = its next byte, end = the end of its range; empty when idle).
 * Finds the largest; when half of it (rounded down) is at least min_seg,
 * the upper half goes to *out, and that leg's end becomes out->start.
 * Returns the index of the leg stolen from, or -1 (nothing worth it). */
int ranges_steal(struct ranges_span *legs, size_t n, int64_t min_seg,
                 struct ranges_span *out);

/* The set as text, "a-b,c-d" with inclusive ends; "" for an empty set.
 * Length written (without the NUL), or -1 when it does not fit in len. */
int ranges_format(const struct ranges *r, char *buf, size_t len);
/* Parse that text for a file of `total` bytes into r (replacing what it
 * held).  Strict: decimal digits, a <= b < total, spans in increasing
 * order and not touching, at most RANGES_MAX of them, nothing else.
 * 0; -1 with r cleared on any error. */
int ranges_parse(struct ranges *r, const char *text, size_t len, int64_t total);

#endif
