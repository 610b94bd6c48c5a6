/* ranges.c - byte-range sets for segmented downloads (see ranges.h): the
 * missing ranges of a file and the work not yet given to a connection,
 * piece sizes, work stealing, and the sidecar's text form.  Pure code,
 * called on the engine thread (and by the unit tests and the fuzzer). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ranges.h"
#include "siphon/xalloc.h"

void ranges_init(struct ranges *r)
{
  memset(r, 0, sizeof *r);
}

void ranges_free(struct ranges *r)
{
  free(r->v);
  memset(r, 0, sizeof *r);
}

void ranges_clear(struct ranges *r)
{
  r->n = 0;
}

/* Room for `need` spans. */
static void ranges_grow(struct ranges *r, size_t need)
{
  if (need <= r->cap)
    return;
  size_t cap = r->cap ? r->cap * 2 : 4;
  while (cap < need)
    cap *= 2;
  r->v = xrealloc(r->v, cap * sizeof *r->v);
  r->cap = cap;
}

void ranges_reset(struct ranges *r, int64_t total)
{
  r->n = 0;
  if (total <= 0)
    return;
  ranges_grow(r, 1);
  r->v[0].start = 0;
  r->v[0].end = total;
  r->n = 1;
}

/* Index of the first span whose end is >= pos (it touches or follows pos). */
static size_t ranges_lower(const struct ranges *r, int64_t pos)
{
  size_t lo = 0, hi = r->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (r->v[mid].end < pos)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

int ranges_add(struct ranges *r, int64_t start, int64_t end)
{
  if (start < 0 || end <= start)
    return -1;
  /* spans i..j-1 touch or overlap [start, end): they merge into one */
  size_t i = ranges_lower(r, start), j = i;
  while (j < r->n && r->v[j].start <= end)
    j++;
  if (i == j) {
    if (r->n >= RANGES_MAX)
      return -1;
    ranges_grow(r, r->n + 1);
    memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof *r->v);
    r->v[i].start = start;
    r->v[i].end = end;
    r->n++;
    return 0;
  }
  if (r->v[i].start < start)
    start = r->v[i].start;
  if (r->v[j - 1].end > end)
    end = r->v[j - 1].end;
  r->v[i].start = start;
  r->v[i].end = end;
  memmove(&r->v[i + 1], &r->v[j], (r->n - j) * sizeof *r->v);
  r->n -= j - i - 1;
  return 0;
}

void ranges_remove(struct ranges *r, int64_t start, int64_t end)
{
  if (end <= start)
    return;
  size_t i = ranges_lower(r, start);
  /* a span that touches start only at its end keeps all of it */
  if (i < r->n && r->v[i].end == start)
    i++;
  if (i >= r->n || r->v[i].start >= end)
    return;
  struct ranges_span *s = &r->v[i];
  if (s->start < start && s->end > end) {
    /* a hole in the middle: one span becomes two (never more spans than
     * RANGES_MAX + 1 here; a set at its limit may briefly exceed it) */
    ranges_grow(r, r->n + 1);
    s = &r->v[i];
    memmove(&r->v[i + 1], &r->v[i], (r->n - i) * sizeof *r->v);
    r->v[i].end = start;
    r->v[i + 1].start = end;
    r->n++;
    return;
  }
  if (s->start < start) {
    s->end = start;
    i++;
  }
  size_t j = i;
  while (j < r->n && r->v[j].end <= end)
    j++;
  if (j < r->n && r->v[j].start < end)
    r->v[j].start = end;
  memmove(&r->v[i], &r->v[j], (r->n - j) * sizeof *r->v);
  r->n -= j - i;
}

int64_t ranges_bytes(const struct ranges *r)
{
  int64_t sum = 0;
  for (size_t i = 0; i < r->n; i++)
    sum += r->v[i].end - r->v[i].start;
  return sum;
}

int ranges_has(const struct ranges *r, int64_t start, int64_t end)
{
  if (end <= start)
    return 1;
  size_t i = ranges_lower(r, start);
  if (i < r->n && r->v[i].end == start)
    i++;
  return i < r->n && r->v[i].start <= start && r->v[i].end >= end;
}

int ranges_take(struct ranges *r, int64_t maxlen, struct ranges_span *out)
{
  if (r->n == 0 || maxlen <= 0)
    return -1;
  return ranges_take_at(r, r->v[0].start, maxlen, out);
}

int ranges_take_at(struct ranges *r, int64_t pos, int64_t maxlen, struct ranges_span *out)
{
  size_t i = ranges_lower(r, pos);
  if (i < r->n && r->v[i].end == pos)
    i++;
  if (maxlen <= 0 || i >= r->n || r->v[i].start > pos)
    return -1;
  out->start = pos;
  out->end = r->v[i].end - pos > maxlen ? pos + maxlen : r->v[i].end;
  ranges_remove(r, out->start, out->end);
  return 0;
}

int64_t ranges_piece(int64_t work, int legs, int64_t min_seg)
{
  if (work <= 0)
    return 0;
  if (min_seg < 1)
    min_seg = 1;
  int64_t k = work / min_seg;
  if (k > legs)
    k = legs;
  if (k < 1)
    k = 1;
  return work / k + (work % k != 0);
}

int ranges_steal(struct ranges_span *legs, size_t n, int64_t min_seg,
                 struct ranges_span *out)
{
  size_t best = n;
  int64_t most = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t left = legs[i].end - legs[i].start;
    if (left > most) {
      most = left;
      best = i;
    }
  }
  if (best == n || most / 2 < min_seg || most / 2 < 1)
    return -1;
  out->end = legs[best].end;
  out->start = out->end - most / 2;
  legs[best].end = out->start;
  return (int)best;
}

int ranges_format(const struct ranges *r, char *buf, size_t len)
{
  size_t at = 0;
  if (len == 0)
    return -1;
  buf[0] = '\0';
  for (size_t i = 0; i < r->n; i++) {
    int w = snprintf(buf + at, len - at, "%s%lld-%lld", i ? "," : "",
                     (long long)r->v[i].start, (long long)r->v[i].end - 1);
    if (w < 0 || (size_t)w >= len - at) {
      buf[0] = '\0';
      return -1;
    }
    at += (size_t)w;
  }
  return (int)at;
}

/* A decimal number of at most 18 digits (so it fits int64 with room). */
static int ranges_num(const char **p, const char *end, int64_t *out)
{
  const char *s = *p;
  int64_t v = 0;
  int digits = 0;
  while (s < end && *s >= '0' && *s <= '9') {
    if (++digits > 18)
      return -1;
    v = v * 10 + (*s - '0');
    s++;
  }
  if (digits == 0)
    return -1;
  *p = s;
  *out = v;
  return 0;
}

int ranges_parse(struct ranges *r, const char *text, size_t len, int64_t total)
{
  const char *p = text, *end = text + len;
  r->n = 0;
  if (total < 0)
    return -1;
  while (p < end) {
    int64_t a, b;
    if (r->n > 0 && *p++ != ',')
      goto bad;
    if (ranges_num(&p, end, &a) < 0 || p >= end || *p++ != '-' ||
        ranges_num(&p, end, &b) < 0)
      goto bad;
    if (a > b || b >= total || (r->n > 0 && a <= r->v[r->n - 1].end))
      goto bad; /* out of order, overlapping, touching or past the end */
    if (r->n >= RANGES_MAX)
      goto bad;
    ranges_grow(r, r->n + 1);
    r->v[r->n].start = a;
    r->v[r->n].end = b + 1;
    r->n++;
  }
  return 0;
bad:
  r->n = 0;
  return -1;
}
