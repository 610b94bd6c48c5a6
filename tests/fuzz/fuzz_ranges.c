/* fuzz_ranges.c - libFuzzer target: the sidecar's missing-ranges text.
 * The first 8 bytes (when there are) give the file's total size, the rest
 * is the text.  A parse either fails leaving an empty set, or gives a
 * sorted set of non-touching spans inside the file that prints back to
 * text which parses to the very same set; taking and removing work on it
 * keeps those rules. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/engine/ranges.h"

/* The rules every set must keep. */
static void check(const struct ranges *r, int64_t total)
{
  for (size_t i = 0; i < r->n; i++) {
    if (r->v[i].start < 0 || r->v[i].start >= r->v[i].end || r->v[i].end > total)
      abort();
    if (i && r->v[i].start <= r->v[i - 1].end)
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int64_t total = 1 << 20;
  if (size >= 8) {
    uint64_t t;
    memcpy(&t, data, 8);
    total = (int64_t)(t >> 2); /* any non-negative size, huge ones too */
    data += 8;
    size -= 8;
  }
  struct ranges r, back;
  ranges_init(&r);
  ranges_init(&back);
  if (ranges_parse(&r, (const char *)data, size, total) != 0) {
    if (r.n != 0)
      abort();
    goto out;
  }
  check(&r, total);
  if (r.n > RANGES_MAX)
    abort();
  int64_t bytes = ranges_bytes(&r);
  if (bytes < 0 || bytes > total)
    abort();
  size_t cap = r.n * 40 + 1;
  char *buf = malloc(cap);
  int len = ranges_format(&r, buf, cap);
  if (len < 0 || ranges_parse(&back, buf, (size_t)len, total) != 0 || back.n != r.n ||
      (r.n && memcmp(back.v, r.v, r.n * sizeof *r.v) != 0))
    abort();
  free(buf);
  /* hand the work out in pieces, as the engine would, then steal */
  struct ranges_span legs[4] = {{0, 0}, {0, 0}, {0, 0}, {0, 0}}, got;
  int64_t piece = ranges_piece(bytes, 4, 1), handed = 0;
  for (int i = 0; i < 4 && ranges_take(&back, piece, &legs[i]) == 0; i++) {
    if (!ranges_has(&r, legs[i].start, legs[i].end) || legs[i].end - legs[i].start > piece)
      abort();
    handed += legs[i].end - legs[i].start;
  }
  check(&back, total);
  if (ranges_bytes(&back) + handed != bytes)
    abort();
  int v = ranges_steal(legs, 4, 1, &got);
  if (v >= 0 && (got.start != legs[v].end || got.end <= got.start))
    abort();
  /* received bytes leave the set */
  for (int i = 0; i < 4; i++)
    ranges_remove(&r, legs[i].start, legs[i].end);
  if (v >= 0)
    ranges_remove(&r, got.start, got.end);
  check(&r, total);
  if (ranges_bytes(&r) != ranges_bytes(&back))
    abort();
out:
  ranges_free(&r);
  ranges_free(&back);
  return 0;
}
