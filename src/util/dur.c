/* dur.c - parses durations as users write them ("250ms", "1m30s", "1.5s")
 * into milliseconds.  Pure function, called from any thread (option and
 * list parsing run on the main thread).
 *
 * Grammar: "0", or one or more NUMBER UNIT pairs with the units in
 * decreasing order, each at most once: h, m, s, ms (lower case only, so
 * "1M" is never read as minutes or months).  NUMBER is digits with an
 * optional ".digits".  No signs, no spaces, nothing after the last unit.
 * Fractions are summed exactly and rounded to the nearest millisecond
 * once, at the end (half rounds up). */
#include <stdint.h>
#include <string.h>

#include "siphon/dur.h"

/* Fraction digits beyond this many cannot change a millisecond result. */
#define FRAC_DIGITS 9
#define FRAC_SCALE 1000000000LL /* 10^FRAC_DIGITS */

struct unit {
  const char *name;
  int64_t ms;
};

/* Longest name first where one is a prefix of another ("ms" before "m"). */
static const struct unit units[] = {
    {"h", 3600000},
    {"ms", 1},
    {"m", 60000},
    {"s", 1000},
};

/* Rank of a unit for the decreasing-order rule: larger units rank lower. */
static int unit_rank(int64_t ms)
{
  return ms == 3600000 ? 0 : ms == 60000 ? 1 : ms == 1000 ? 2 : 3;
}

/* Match a unit at s; returns its index or -1 and sets *len. */
static int unit_match(const char *s, size_t *len)
{
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    size_t n = strlen(units[i].name);
    if (strncmp(s, units[i].name, n) == 0) {
      *len = n;
      return (int)i;
    }
  }
  return -1;
}

int dur_parse(const char *s, int64_t *ms)
{
  if (!s || !*s)
    return -1;
  /* The one unitless form: "30" is rejected so nobody guesses the unit. */
  if (strcmp(s, "0") == 0) {
    *ms = 0;
    return 0;
  }

  int64_t whole = 0; /* integral milliseconds */
  int64_t frac = 0;  /* remainder in units of 10^-9 ms, < 4 * 3.6e15 */
  int last_rank = -1;
  const char *p = s;

  while (*p) {
    if (*p < '0' || *p > '9')
      return -1;
    int64_t ip = 0;
    while (*p >= '0' && *p <= '9') {
      if (__builtin_mul_overflow(ip, 10, &ip) || __builtin_add_overflow(ip, *p - '0', &ip))
        return -1;
      p++;
    }
    int64_t fp = 0; /* first FRAC_DIGITS fraction digits, scaled to FRAC_SCALE */
    if (*p == '.') {
      p++;
      if (*p < '0' || *p > '9')
        return -1; /* "1.s" and "1." */
      int64_t scale = FRAC_SCALE;
      for (; *p >= '0' && *p <= '9'; p++) {
        if (scale > 1) {
          scale /= 10;
          fp += (*p - '0') * scale;
        }
      }
    }
    size_t ulen;
    int u = unit_match(p, &ulen);
    if (u < 0)
      return -1;
    p += ulen;
    int rank = unit_rank(units[u].ms);
    if (rank <= last_rank)
      return -1; /* "30s5m", "1m1m" */
    last_rank = rank;

    int64_t part;
    if (__builtin_mul_overflow(ip, units[u].ms, &part) ||
        __builtin_add_overflow(whole, part, &whole))
      return -1;
    frac += fp * units[u].ms;
  }

  int64_t rounded = frac / FRAC_SCALE + (frac % FRAC_SCALE >= FRAC_SCALE / 2);
  if (__builtin_add_overflow(whole, rounded, &whole))
    return -1;
  *ms = whole;
  return 0;
}
