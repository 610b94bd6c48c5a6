/* test_dur.c - dur_parse: the duration forms SPEC.md lets users write. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "siphon/dur.h"

static int64_t ok(const char *s)
{
  int64_t ms = -12345;
  cr_assert_eq(dur_parse(s, &ms), 0, "\"%s\" should parse", s);
  return ms;
}

static void bad(const char *s)
{
  int64_t ms = -12345;
  cr_assert_eq(dur_parse(s, &ms), -1, "\"%s\" should be rejected", s);
  cr_assert_eq(ms, -12345, "\"%s\": rejected value must leave *ms alone", s);
}

Test(dur, single_units)
{
  cr_assert_eq(ok("250ms"), 250);
  cr_assert_eq(ok("30s"), 30000);
  cr_assert_eq(ok("5m"), 300000);
  cr_assert_eq(ok("2h"), 7200000);
  cr_assert_eq(ok("0"), 0);
  cr_assert_eq(ok("0s"), 0);
  cr_assert_eq(ok("0ms"), 0);
  cr_assert_eq(ok("1ms"), 1);
  cr_assert_eq(ok("90s"), 90000);
  cr_assert_eq(ok("007s"), 7000);
}

Test(dur, combinations)
{
  cr_assert_eq(ok("1m30s"), 90000);
  cr_assert_eq(ok("1h2m3s"), 3723000);
  cr_assert_eq(ok("1h2m3s4ms"), 3723004);
  cr_assert_eq(ok("1h30m"), 5400000);
  cr_assert_eq(ok("2m500ms"), 120500);
  cr_assert_eq(ok("1h0m0s"), 3600000);
}

Test(dur, decimals)
{
  cr_assert_eq(ok("1.5s"), 1500);
  cr_assert_eq(ok("0.25s"), 250);
  cr_assert_eq(ok("1.5m"), 90000);
  cr_assert_eq(ok("0.5h"), 1800000);
  cr_assert_eq(ok("1.5h30s"), 5430000);
  cr_assert_eq(ok("0.001s"), 1);
  cr_assert_eq(ok("2.000s"), 2000);
}

Test(dur, rounds_to_nearest_ms)
{
  cr_assert_eq(ok("0.0004s"), 0);
  cr_assert_eq(ok("0.0005s"), 1); /* half rounds up */
  cr_assert_eq(ok("0.0016s"), 2);
  cr_assert_eq(ok("1.4ms"), 1);
  cr_assert_eq(ok("1.6ms"), 2);
  cr_assert_eq(ok("0.3333333333333s"), 333);
  /* fractions are summed before rounding: 0.4 + 0.4 ms = 0.8 -> 1 */
  cr_assert_eq(ok("0.0004s0.4ms"), 1);
}

Test(dur, rejects_bare_numbers_and_empty)
{
  bad("");
  bad("30"); /* users must say 30s */
  bad("1");
  bad("00");
  bad("0.0");
  bad("1.5");
  int64_t ms;
  cr_assert_eq(dur_parse(NULL, &ms), -1);
}

Test(dur, rejects_unknown_units_and_case)
{
  bad("5d");
  bad("5x");
  bad("5sec");
  bad("5S");
  bad("5M");
  bad("1H");
  bad("5us");
  bad("5mss");
  bad("s");
  bad("ms");
}

Test(dur, rejects_signs_and_whitespace)
{
  bad("-1s");
  bad("+1s");
  bad("-0");
  bad(" 1s");
  bad("1s ");
  bad("1 s");
  bad("1m 30s");
  bad("1\ts");
}

Test(dur, rejects_malformed_decimals)
{
  bad(".5s");
  bad("1.s");
  bad("1..5s");
  bad("1.5.5s");
  bad("1,5s");
}

Test(dur, rejects_trailing_junk_and_bad_order)
{
  bad("1s5");
  bad("1sx");
  bad("30s5m");
  bad("1m1m");
  bad("1s1s");
  bad("1ms1s");
  bad("5m5h");
}

Test(dur, rejects_overflow)
{
  bad("99999999999999999999ms");
  bad("9223372036854775808ms");
  bad("9223372036854775807s");
  bad("3000000000000h");
  cr_assert_eq(ok("9223372036854775807ms"), INT64_MAX);
  cr_assert_eq(ok("9223372036854775s807ms"), INT64_MAX);
  bad("9223372036854775s808ms");
  bad("9223372036854775s807.5ms"); /* rounding up would overflow */
}
