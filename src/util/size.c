/* size.c - parses byte sizes as users write them ("131072", "128K",
 * "8MiB") into bytes.  Pure function, called from any thread.
 *
 * Grammar: digits, then optionally one of K M G (either case, powers of
 * 1024) followed optionally by "B" or "iB" (either case), or a lone "B".
 * No signs, no fractions, no spaces, no other suffixes. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "siphon/size.h"

/* The multiplier a suffix names, or 0 if the suffix is not allowed. */
static uint64_t size_suffix(const char *p)
{
  uint64_t mul;
  switch (*p) {
  case '\0':
    return 1;
  case 'b':
  case 'B':
    return p[1] == '\0' ? 1 : 0;
  case 'k':
  case 'K':
    mul = 1ULL << 10;
    break;
  case 'm':
  case 'M':
    mul = 1ULL << 20;
    break;
  case 'g':
  case 'G':
    mul = 1ULL << 30;
    break;
  default:
    return 0;
  }
  p++;
  if (*p == '\0' || strcasecmp(p, "b") == 0 || strcasecmp(p, "ib") == 0)
    return mul;
  return 0;
}

int size_parse(const char *s, uint64_t *bytes)
{
  if (!s || *s < '0' || *s > '9')
    return -1; /* empty, signs, leading space, a bare suffix */
  uint64_t n = 0;
  const char *p = s;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (__builtin_mul_overflow(n, 10, &n) || __builtin_add_overflow(n, (uint64_t)(*p - '0'), &n))
      return -1;
  }
  uint64_t mul = size_suffix(p);
  if (!mul || __builtin_mul_overflow(n, mul, &n))
    return -1;
  *bytes = n;
  return 0;
}
