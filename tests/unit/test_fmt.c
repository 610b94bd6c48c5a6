/* test_fmt.c - the screen's pure formatting: sizes, speeds, ETAs, percent,
 * progress bars, sparklines, display widths and column fitting. */
#include <criterion/criterion.h>
#include <locale.h>
#include <string.h>

#include "../../src/ui/fmt.h"

static void utf8_locale(void)
{
  cr_assert_not_null(setlocale(LC_ALL, "C.UTF-8"), "C.UTF-8 locale is needed");
}

Test(fmt, sizes)
{
  char b[32];
  cr_assert_str_eq(fmt_size(b, sizeof b, 0), "0 B");
  cr_assert_str_eq(fmt_size(b, sizeof b, 1023), "1023 B");
  cr_assert_str_eq(fmt_size(b, sizeof b, 1024), "1.0 KiB");
  cr_assert_str_eq(fmt_size(b, sizeof b, 1536), "1.5 KiB");
  cr_assert_str_eq(fmt_size(b, sizeof b, 1572864), "1.5 MiB");
  cr_assert_str_eq(fmt_size(b, sizeof b, 152LL << 20), "152 MiB");
  cr_assert_str_eq(fmt_size(b, sizeof b, 3LL << 30), "3.0 GiB");
  cr_assert_str_eq(fmt_size(b, sizeof b, -1), "?");
}

Test(fmt, size_never_prints_1024_of_a_unit)
{
  char b[32];
  /* 1 MiB minus one byte must not read "1024 KiB". */
  cr_assert_str_eq(fmt_size(b, sizeof b, (1 << 20) - 1), "1.0 MiB");
  cr_assert_str_eq(fmt_size(b, sizeof b, (1LL << 30) - 1), "1.0 GiB");
}

Test(fmt, speeds)
{
  char b[32];
  cr_assert_str_eq(fmt_speed(b, sizeof b, 0), "0 B/s");
  cr_assert_str_eq(fmt_speed(b, sizeof b, 2097152), "2.0 MiB/s");
  cr_assert_str_eq(fmt_speed(b, sizeof b, -5), "--");
}

Test(fmt, eta)
{
  char b[32];
  cr_assert_str_eq(fmt_eta(b, sizeof b, 0), "0s");
  cr_assert_str_eq(fmt_eta(b, sizeof b, 45), "45s");
  cr_assert_str_eq(fmt_eta(b, sizeof b, 185), "3m05s");
  cr_assert_str_eq(fmt_eta(b, sizeof b, 3720), "1h02m");
  cr_assert_str_eq(fmt_eta(b, sizeof b, 2 * 86400 + 3 * 3600), "2d03h");
  cr_assert_str_eq(fmt_eta(b, sizeof b, -1), "--");
  cr_assert_str_eq(fmt_eta(b, sizeof b, 1000LL * 86400), "--");
}

Test(fmt, eta_seconds)
{
  cr_assert_eq(fmt_eta_seconds(0, 1000, 100), 10);
  cr_assert_eq(fmt_eta_seconds(999, 1000, 100), 1, "a missing byte is never 0s left");
  cr_assert_eq(fmt_eta_seconds(0, -1, 100), -1, "unknown total");
  cr_assert_eq(fmt_eta_seconds(0, 1000, 0), -1, "stalled");
}

Test(fmt, percent)
{
  char b[16];
  cr_assert_str_eq(fmt_percent(b, sizeof b, 0, 100), "0%");
  cr_assert_str_eq(fmt_percent(b, sizeof b, 425, 1000), "42%");
  cr_assert_str_eq(fmt_percent(b, sizeof b, 9999, 10000), "99%", "never 100%% early");
  cr_assert_str_eq(fmt_percent(b, sizeof b, 100, 100), "100%");
  cr_assert_str_eq(fmt_percent(b, sizeof b, 0, 0), "100%", "an empty file is complete");
  cr_assert_str_eq(fmt_percent(b, sizeof b, 5, -1), "--");
}

Test(fmt, ascii_bar_is_exactly_width)
{
  char b[128];
  cr_assert_str_eq(fmt_bar(b, sizeof b, 10, 0.0, 0), "..........");
  cr_assert_str_eq(fmt_bar(b, sizeof b, 10, 0.5, 0), "#####.....");
  cr_assert_str_eq(fmt_bar(b, sizeof b, 10, 1.0, 0), "##########");
  cr_assert_str_eq(fmt_bar(b, sizeof b, 10, 7.0, 0), "##########", "clamped");
  cr_assert_str_eq(fmt_bar(b, sizeof b, 4, -1, 0), "....", "unknown total");
  cr_assert_str_eq(fmt_bar(b, sizeof b, 0, 0.5, 0), "");
}

Test(fmt, utf8_bar_uses_eighths, .init = utf8_locale)
{
  char b[128];
  fmt_bar(b, sizeof b, 4, 0.5, 1);
  cr_assert_str_eq(b, "\u2588\u2588  ");
  fmt_bar(b, sizeof b, 4, 1.0 / 32.0, 1); /* one eighth of one cell */
  cr_assert_str_eq(b, "\u258f   ");
  for (int i = 0; i <= 100; i++) {
    fmt_bar(b, sizeof b, 13, i / 100.0, 1);
    cr_assert_eq(fmt_width(b), 13, "bar at %d%% is %d wide", i, fmt_width(b));
  }
}

Test(fmt, bar_does_not_overflow_small_buffer, .init = utf8_locale)
{
  char b[8];
  fmt_bar(b, sizeof b, 40, 1.0, 1);
  cr_assert(strlen(b) < sizeof b);
}

Test(fmt, sparkline, .init = utf8_locale)
{
  char b[256];
  int64_t v[] = {0, 50, 100};
  fmt_spark(b, sizeof b, v, 3, 3, 1);
  cr_assert_str_eq(b, "\u2581\u2585\u2588");
  fmt_spark(b, sizeof b, v, 3, 5, 0);
  cr_assert_str_eq(b, "  _+@", "newest at the right, padded on the left");
  int64_t many[60];
  for (int i = 0; i < 60; i++)
    many[i] = i;
  fmt_spark(b, sizeof b, many, 60, 10, 1);
  cr_assert_eq(fmt_width(b), 10, "only the last 10 seconds are drawn");
}

Test(fmt, width_and_fit, .init = utf8_locale)
{
  char b[128];
  cr_assert_eq(fmt_width("abc"), 3);
  cr_assert_eq(fmt_width("\u00e9t\u00e9"), 3);
  cr_assert_eq(fmt_width("\u65e5\u672c"), 4, "CJK is two columns each");
  cr_assert_str_eq(fmt_fit(b, sizeof b, "abc", 5, 1, 1), "abc  ");
  cr_assert_str_eq(fmt_fit(b, sizeof b, "abcdef", 4, 1, 1), "abc\u2026");
  cr_assert_str_eq(fmt_fit(b, sizeof b, "abcdef", 4, 1, 0), "abc~");
  cr_assert_str_eq(fmt_fit(b, sizeof b, "abcd", 4, 1, 1), "abcd", "exact fit is not cut");
  /* A wide character that would straddle the edge is left out. */
  fmt_fit(b, sizeof b, "a\u65e5\u672cz", 4, 1, 1);
  cr_assert_eq(fmt_width(b), 4);
  cr_assert_str_eq(b, "a\u65e5\u2026");
  /* Control characters never reach the terminal. */
  fmt_fit(b, sizeof b, "a\x1b[2Jb", 10, 0, 1);
  cr_assert_null(strchr(b, '\x1b'));
}

/* The list's columns: name, state, bar, pct, size, speed, eta. */
static const struct fmt_col cols[] = {
    {.min = 10, .max = 0, .drop = 0, .weight = 3}, {.min = 9, .max = 9},
    {.min = 10, .max = 40, .drop = 5, .weight = 2}, {.min = 4, .max = 4, .drop = 2},
    {.min = 19, .max = 19, .drop = 3},              {.min = 11, .max = 11, .drop = 4},
    {.min = 6, .max = 6, .drop = 6},
};

static int used(const int *w, int n, int gap)
{
  int t = 0, c = 0;
  for (int i = 0; i < n; i++)
    if (w[i]) {
      t += w[i];
      c++;
    }
  return t + (c > 1 ? gap * (c - 1) : 0);
}

Test(fmt, columns_all_shown_at_80)
{
  int w[7];
  cr_assert_eq(fmt_fit_columns(cols, 7, 78, 1, w), 7);
  cr_assert_eq(used(w, 7, 1), 78, "the spare room is handed out");
  cr_assert_geq(w[0], 10);
  cr_assert_geq(w[2], 10);
}

Test(fmt, columns_drop_in_order_when_narrow)
{
  int w[7];
  fmt_fit_columns(cols, 7, 70, 1, w);
  cr_assert_eq(w[6], 0, "ETA goes first");
  cr_assert_neq(w[2], 0);
  fmt_fit_columns(cols, 7, 60, 1, w);
  cr_assert_eq(w[2], 0, "then the bar");
  cr_assert_neq(w[5], 0);
  fmt_fit_columns(cols, 7, 30, 1, w);
  cr_assert_neq(w[0], 0, "the name is never dropped");
  cr_assert_neq(w[1], 0, "the state is never dropped");
  cr_assert_eq(w[4] + w[5], 0);
  for (int width = 1; width <= 250; width++) {
    fmt_fit_columns(cols, 7, width, 1, w);
    cr_assert_leq(used(w, 7, 1), width > 20 ? width : 20, "width %d overflows", width);
    if (width >= 20)
      cr_assert_leq(used(w, 7, 1), width, "width %d overflows", width);
  }
}

Test(fmt, columns_respect_max)
{
  int w[7];
  fmt_fit_columns(cols, 7, 250, 1, w);
  cr_assert_eq(w[2], 40, "the bar stops growing at its max");
  cr_assert_eq(used(w, 7, 1), 250, "the name takes the rest");
}

Test(fmt, segment_bar)
{
  char b[512];
  unsigned char map[16];
  memset(map, 0, sizeof map);
  /* cells 0..31 and 96..127 on disk, the middle half missing */
  memset(map, 0xff, 4);
  memset(map + 12, 0xff, 4);
  cr_assert_str_eq(fmt_segbar(b, sizeof b, 8, map, 128, 0), "##....##");
  /* a column over cells of which only some are on disk is half */
  map[4] = 0x01;
  cr_assert_str_eq(fmt_segbar(b, sizeof b, 8, map, 128, 0), "##+...##");
  /* wider than the map: each cell spans several columns */
  unsigned char two = 0x01;
  cr_assert_str_eq(fmt_segbar(b, sizeof b, 4, &two, 2, 0), "##..");
  utf8_locale();
  cr_assert_str_eq(fmt_segbar(b, sizeof b, 4, &two, 2, 1), "\u2588\u2588\u2591\u2591");
  cr_assert_str_eq(fmt_segbar(b, sizeof b, 0, map, 128, 1), "");
}
