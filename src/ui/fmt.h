/* src/ui/fmt.h - pure formatting for the screen (ui-private): sizes, speeds,
 * ETAs, percentages, progress bars, display widths and column fitting.
 * No curses, no state: every function writes into the caller's buffer. */
#ifndef SIPHON_UI_FMT_H
#define SIPHON_UI_FMT_H

#include <stddef.h>
#include <stdint.h>

/* "0 B", "512 B", "1.5 KiB", "12.3 MiB", "152 GiB"; "?" when bytes < 0. */
const char *fmt_size(char *buf, size_t n, int64_t bytes);
/* fmt_size + "/s"; "--" when negative. */
const char *fmt_speed(char *buf, size_t n, int64_t bytes_per_s);
/* "45s", "3m05s", "1h02m", "4d03h"; "--" when unknown (< 0) or absurd. */
const char *fmt_eta(char *buf, size_t n, int64_t seconds);
/* Seconds left at this speed, or -1 when it cannot be known. */
int64_t fmt_eta_seconds(int64_t bytes, int64_t total, int64_t speed);
/* "42%" (floored, "100%" only when complete); "--" when total unknown. */
const char *fmt_percent(char *buf, size_t n, int64_t bytes, int64_t total);
/* "1.2s", "350ms"; "--" when negative. */
const char *fmt_secs(char *buf, size_t n, double seconds);

/* A progress bar exactly `width` columns wide: eighth blocks when utf8,
 * else '#' and '.'; frac < 0 (unknown total) draws an empty track.
 * Returns buf. */
const char *fmt_bar(char *buf, size_t n, int width, double frac, int utf8);
/* A segmented file's map in `width` columns: map has `cells` bits (bit i
 * set: cell i is on disk); a column is full when all its cells are, half
 * when some are, empty when none ('#', '+', '.' without UTF-8). */
const char *fmt_segbar(char *buf, size_t n, int width, const unsigned char *map, int cells,
                       int utf8);
/* A sparkline of the last `width` values of v[0..len), scaled to their max. */
const char *fmt_spark(char *buf, size_t n, const int64_t *v, size_t len, int width,
                      int utf8);

/* Display columns of a UTF-8 (or locale-encoded) string. */
int fmt_width(const char *s);
/* Copy s into buf cut to at most `cols` display columns (ending in "…" or
 * "~" when cut) and padded with spaces to exactly `cols` when pad.
 * Returns buf. */
const char *fmt_fit(char *buf, size_t n, const char *s, int cols, int pad, int utf8);

/* One column of a table to fit into a width. */
struct fmt_col {
  int min;  /* narrowest useful width */
  int max;  /* widest wanted; == min for fixed columns, 0 = unlimited */
  int drop; /* 0: never dropped; otherwise higher ranks drop first */
  int weight; /* share of spare columns among growable ones */
};

/* Choose widths for n columns separated by `gap` spaces in `width`
 * columns: drop columns by rank until the minimums fit, then share the
 * rest by weight up to each max.  w[i] = 0 for a dropped column.
 * Returns how many columns are shown. */
int fmt_fit_columns(const struct fmt_col *cols, int n, int width, int gap, int *w);

#endif
