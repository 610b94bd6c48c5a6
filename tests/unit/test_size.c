/* test_size.c - size_parse: byte sizes as users write them. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "siphon/size.h"

static uint64_t ok(const char *s)
{
  uint64_t b = 12345;
  cr_assert_eq(size_parse(s, &b), 0, "\"%s\" should parse", s);
  return b;
}

static void bad(const char *s)
{
  uint64_t b = 12345;
  cr_assert_eq(size_parse(s, &b), -1, "\"%s\" should be rejected", s);
  cr_assert_eq(b, 12345, "\"%s\": rejected value must leave *bytes alone", s);
}

Test(size, plain_bytes)
{
  cr_assert_eq(ok("0"), 0);
  cr_assert_eq(ok("131072"), 131072);
  cr_assert_eq(ok("100B"), 100);
  cr_assert_eq(ok("100b"), 100);
  cr_assert_eq(ok("0016"), 16);
}

Test(size, powers_of_1024)
{
  cr_assert_eq(ok("128K"), 131072);
  cr_assert_eq(ok("16k"), 16384);
  cr_assert_eq(ok("8M"), 8388608);
  cr_assert_eq(ok("1m"), 1048576);
  cr_assert_eq(ok("1G"), 1073741824ULL);
  cr_assert_eq(ok("3g"), 3221225472ULL);
  cr_assert_eq(ok("0K"), 0);
}

Test(size, b_and_ib_suffixes)
{
  cr_assert_eq(ok("1KB"), 1024);
  cr_assert_eq(ok("1Kb"), 1024);
  cr_assert_eq(ok("1kb"), 1024);
  cr_assert_eq(ok("1KiB"), 1024);
  cr_assert_eq(ok("1kib"), 1024);
  cr_assert_eq(ok("2MiB"), 2097152);
  cr_assert_eq(ok("2MB"), 2097152);
  cr_assert_eq(ok("1GiB"), 1073741824ULL);
}

Test(size, rejects_malformed)
{
  bad("");
  bad("K");
  bad("KB");
  bad("B");
  bad("-1");
  bad("-1K");
  bad("+1K");
  bad("1.5M");
  bad("0.5K");
  bad("1,5M");
  bad("1T");
  bad("1X");
  bad("1Ki");
  bad("1KBB");
  bad("1KiBs");
  bad("1BB");
  bad("1iB");
  bad(" 1K");
  bad("1K ");
  bad("1 K");
  bad("1K B");
  bad("12abc");
  uint64_t b;
  cr_assert_eq(size_parse(NULL, &b), -1);
}

Test(size, rejects_overflow)
{
  cr_assert_eq(ok("18446744073709551615"), UINT64_MAX);
  bad("18446744073709551616");
  bad("99999999999999999999999");
  cr_assert_eq(ok("17179869183G"), 17179869183ULL << 30);
  bad("17179869184G"); /* 2^34 G = 2^64 bytes */
  bad("18446744073709551615K");
}
