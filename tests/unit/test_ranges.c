/* test_ranges.c - the byte-range sets of segmented downloads: adding and
 * removing spans, taking work, piece sizes, work stealing and the
 * sidecar's text form (a model check against a plain byte map too). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/engine/ranges.h"

static const char *text(const struct ranges *r)
{
  static char buf[4096];
  cr_assert_geq(ranges_format(r, buf, sizeof buf), 0);
  return buf;
}

Test(ranges, reset_add_merge)
{
  struct ranges r;
  ranges_init(&r);
  ranges_reset(&r, 100);
  cr_assert_str_eq(text(&r), "0-99");
  cr_assert_eq(ranges_bytes(&r), 100);
  ranges_reset(&r, 0);
  cr_assert_eq(r.n, 0);
  cr_assert_str_eq(text(&r), "");
  cr_assert_eq(ranges_add(&r, 10, 20), 0);
  cr_assert_eq(ranges_add(&r, 30, 40), 0);
  cr_assert_eq(ranges_add(&r, 0, 5), 0);
  cr_assert_str_eq(text(&r), "0-4,10-19,30-39");
  /* touching spans merge; an overlapping one swallows several */
  cr_assert_eq(ranges_add(&r, 20, 25), 0);
  cr_assert_str_eq(text(&r), "0-4,10-24,30-39");
  cr_assert_eq(ranges_add(&r, 3, 31), 0);
  cr_assert_str_eq(text(&r), "0-39");
  cr_assert_eq(ranges_add(&r, 5, 5), -1);
  cr_assert_eq(ranges_add(&r, -1, 5), -1);
  cr_assert_eq(ranges_add(&r, 9, 3), -1);
  cr_assert_str_eq(text(&r), "0-39");
  ranges_free(&r);
}

Test(ranges, remove_cuts_and_splits)
{
  struct ranges r;
  ranges_init(&r);
  ranges_reset(&r, 100);
  ranges_remove(&r, 40, 60); /* a hole: one span becomes two */
  cr_assert_str_eq(text(&r), "0-39,60-99");
  ranges_remove(&r, 0, 10);
  cr_assert_str_eq(text(&r), "10-39,60-99");
  ranges_remove(&r, 90, 200);
  cr_assert_str_eq(text(&r), "10-39,60-89");
  ranges_remove(&r, 39, 61); /* the tail of one, the head of the next */
  cr_assert_str_eq(text(&r), "10-38,61-89");
  ranges_remove(&r, 0, 100);
  cr_assert_eq(r.n, 0);
  ranges_remove(&r, 0, 100); /* nothing left: no-op */
  cr_assert_eq(r.n, 0);
  ranges_reset(&r, 10);
  ranges_remove(&r, 10, 20); /* touching at the end removes nothing */
  ranges_remove(&r, 5, 5);
  cr_assert_str_eq(text(&r), "0-9");
  ranges_free(&r);
}

Test(ranges, has)
{
  struct ranges r;
  ranges_init(&r);
  ranges_reset(&r, 100);
  ranges_remove(&r, 50, 60);
  cr_assert(ranges_has(&r, 0, 50));
  cr_assert(ranges_has(&r, 60, 100));
  cr_assert_not(ranges_has(&r, 49, 51));
  cr_assert_not(ranges_has(&r, 55, 56));
  cr_assert_not(ranges_has(&r, 90, 101));
  cr_assert(ranges_has(&r, 7, 7));
  ranges_free(&r);
}

Test(ranges, take_in_pieces)
{
  struct ranges r;
  struct ranges_span s;
  ranges_init(&r);
  ranges_reset(&r, 100);
  ranges_remove(&r, 30, 50);
  cr_assert_eq(ranges_take(&r, 20, &s), 0);
  cr_assert_eq(s.start, 0);
  cr_assert_eq(s.end, 20);
  cr_assert_eq(ranges_take(&r, 20, &s), 0);
  cr_assert_eq(s.start, 20);
  cr_assert_eq(s.end, 30, "a piece never crosses a hole");
  cr_assert_eq(ranges_take_at(&r, 70, 1000, &s), 0);
  cr_assert_eq(s.start, 70);
  cr_assert_eq(s.end, 100);
  cr_assert_eq(ranges_take_at(&r, 70, 10, &s), -1, "70 is taken already");
  cr_assert_eq(ranges_take_at(&r, 40, 10, &s), -1, "40 was never in the set");
  cr_assert_str_eq(text(&r), "50-69");
  cr_assert_eq(ranges_take(&r, 0, &s), -1);
  cr_assert_eq(ranges_take(&r, 100, &s), 0);
  cr_assert_eq(ranges_take(&r, 100, &s), -1);
  ranges_free(&r);
}

Test(ranges, piece_sizes)
{
  const int64_t M = 1 << 20;
  /* 16 MiB over 4 legs of at least 4 MiB: four pieces of 4 MiB */
  cr_assert_eq(ranges_piece(16 * M, 4, 4 * M), 4 * M);
  /* under 2 x min_segment: one piece, no split */
  cr_assert_eq(ranges_piece(8 * M - 1, 4, 4 * M), 8 * M - 1);
  cr_assert_eq(ranges_piece(8 * M, 4, 4 * M), 4 * M);
  /* 10 MiB, min 4 MiB: two pieces, never one under the minimum */
  cr_assert_eq(ranges_piece(10 * M, 4, 4 * M), 5 * M);
  /* rounding up: pieces cover the whole */
  cr_assert_eq(ranges_piece(100, 3, 1), 34);
  cr_assert_eq(ranges_piece(100, 1, 1), 100);
  cr_assert_eq(ranges_piece(0, 4, 4 * M), 0);
  cr_assert_eq(ranges_piece(32 * M, 32, 1), M);
}

Test(ranges, steal_half_of_the_largest)
{
  struct ranges_span legs[3] = {{0, 0}, {100, 500}, {600, 1000}};
  struct ranges_span got;
  /* leg 1 has 400 left, leg 2 has 400: the first largest gives half */
  cr_assert_eq(ranges_steal(legs, 3, 100, &got), 1);
  cr_assert_eq(got.start, 300);
  cr_assert_eq(got.end, 500);
  cr_assert_eq(legs[1].end, 300);
  cr_assert_eq(ranges_steal(legs, 3, 100, &got), 2);
  cr_assert_eq(got.start, 800);
  cr_assert_eq(legs[2].end, 800);
  /* now 200 left at most: half is 100, still >= min */
  cr_assert_eq(ranges_steal(legs, 3, 100, &got), 1);
  cr_assert_eq(got.start, 200);
  /* 200 left on leg 2, half 100 < min 101: nothing worth stealing */
  cr_assert_eq(ranges_steal(legs, 3, 101, &got), -1);
  cr_assert_eq(legs[2].end, 800, "a refused steal changes nothing");
  struct ranges_span one = {0, 1};
  cr_assert_eq(ranges_steal(&one, 1, 0, &got), -1, "a single byte is not split");
}

Test(ranges, parse_round_trip)
{
  struct ranges r;
  ranges_init(&r);
  const char *t = "0-99,200-299,1000-1000";
  cr_assert_eq(ranges_parse(&r, t, strlen(t), 1001), 0);
  cr_assert_eq(r.n, 3);
  cr_assert_eq(r.v[2].start, 1000);
  cr_assert_eq(r.v[2].end, 1001);
  cr_assert_str_eq(text(&r), t);
  cr_assert_eq(ranges_parse(&r, "", 0, 10), 0, "nothing missing");
  cr_assert_eq(r.n, 0);
  char small[8];
  ranges_parse(&r, t, strlen(t), 1001);
  cr_assert_eq(ranges_format(&r, small, sizeof small), -1);
  cr_assert_str_eq(small, "");
  ranges_free(&r);
}

Test(ranges, parse_rejects)
{
  static const char *const bad[] = {
      "0-99,",          "0-99,,5-6",   "-5",           "5-",          "5-4",
      "0-1000",         "10-20,5-8",   "0-9,10-20",    "0-9,9-20",    " 0-9",
      "0-9 ",           "0x1-2",       "+1-2",         "1-2;3-4",     "1--2",
      "1234567890123456789-1234567890123456790", "0-9\n",
  };
  struct ranges r;
  ranges_init(&r);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ranges_add(&r, 0, 5);
    cr_assert_eq(ranges_parse(&r, bad[i], strlen(bad[i]), 1000), -1, "'%s' must fail", bad[i]);
    cr_assert_eq(r.n, 0, "'%s': a failed parse leaves the set empty", bad[i]);
  }
  /* a NUL inside the given length is not a terminator */
  cr_assert_eq(ranges_parse(&r, "0-9\0", 4, 1000), -1);
  cr_assert_eq(ranges_parse(&r, "0-9", 3, -1), -1);
  /* too many spans */
  size_t cap = (size_t)RANGES_MAX * 16 + 64, at = 0;
  char *big = malloc(cap);
  for (int i = 0; i <= RANGES_MAX; i++)
    at += (size_t)snprintf(big + at, cap - at, "%s%d-%d", i ? "," : "", i * 3, i * 3);
  cr_assert_eq(ranges_parse(&r, big, at, 1 << 30), -1);
  free(big);
  ranges_free(&r);
}

/* Random operations against a byte map: the set and the map must agree. */
Test(ranges, model_check)
{
  enum { N = 512 };
  unsigned char map[N];
  struct ranges r;
  ranges_init(&r);
  srand(12345);
  for (int round = 0; round < 20000; round++) {
    if (round % 500 == 0) {
      ranges_reset(&r, N);
      memset(map, 1, sizeof map);
    }
    int a = rand() % N, b = a + rand() % 64;
    if (b > N)
      b = N;
    if (rand() % 2) {
      if (b > a) {
        cr_assert_eq(ranges_add(&r, a, b), 0);
        memset(map + a, 1, (size_t)(b - a));
      }
    } else {
      ranges_remove(&r, a, b);
      if (b > a)
        memset(map + a, 0, (size_t)(b - a));
    }
    int64_t count = 0;
    for (int i = 0; i < N; i++)
      count += map[i];
    cr_assert_eq(ranges_bytes(&r), count, "round %d", round);
    for (size_t i = 0; i < r.n; i++) {
      cr_assert_lt(r.v[i].start, r.v[i].end);
      if (i)
        cr_assert_gt(r.v[i].start, r.v[i - 1].end, "spans never touch");
      for (int64_t k = r.v[i].start; k < r.v[i].end; k++)
        cr_assert_eq(map[k], 1);
    }
    /* and the text form reads back to the same set */
    char buf[8192];
    int len = ranges_format(&r, buf, sizeof buf);
    cr_assert_geq(len, 0);
    struct ranges back;
    ranges_init(&back);
    cr_assert_eq(ranges_parse(&back, buf, (size_t)len, N), 0, "'%s'", buf);
    cr_assert_eq(back.n, r.n);
    if (r.n)
      cr_assert_eq(memcmp(back.v, r.v, r.n * sizeof *r.v), 0);
    ranges_free(&back);
  }
  ranges_free(&r);
}
