/* fmt.c - pure formatting for the screen: sizes, speeds, ETAs, percentages,
 * bars, sparklines, display widths and column fitting.  No curses and no
 * state, so it is unit-tested on its own (tests/unit/test_fmt.c).
 * Runs on the main (UI) thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "fmt.h"

const char *fmt_size(char *buf, size_t n, int64_t bytes)
{
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 0) {
    snprintf(buf, n, "?");
    return buf;
  }
  if (bytes < 1024) {
    snprintf(buf, n, "%d B", (int)bytes);
    return buf;
  }
  double v = (double)bytes / 1024.0;
  size_t u = 0;
  /* Move up a unit before rounding would print "1024.0". */
  while (v >= 1023.95 && u + 1 < sizeof units / sizeof units[0]) {
    v /= 1024.0;
    u++;
  }
  if (v < 99.95)
    snprintf(buf, n, "%.1f %s", v, units[u]);
  else
    snprintf(buf, n, "%.0f %s", v, units[u]);
  return buf;
}

const char *fmt_speed(char *buf, size_t n, int64_t bytes_per_s)
{
  if (bytes_per_s < 0) {
    snprintf(buf, n, "--");
    return buf;
  }
  char tmp[32];
  snprintf(buf, n, "%s/s", fmt_size(tmp, sizeof tmp, bytes_per_s));
  return buf;
}

const char *fmt_eta(char *buf, size_t n, int64_t s)
{
  if (s < 0 || s >= 100LL * 86400)
    snprintf(buf, n, "--");
  else if (s < 60)
    snprintf(buf, n, "%ds", (int)s);
  else if (s < 3600)
    snprintf(buf, n, "%dm%02ds", (int)(s / 60), (int)(s % 60));
  else if (s < 86400)
    snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)(s % 3600 / 60));
  else
    snprintf(buf, n, "%dd%02dh", (int)(s / 86400), (int)(s % 86400 / 3600));
  return buf;
}

int64_t fmt_eta_seconds(int64_t bytes, int64_t total, int64_t speed)
{
  if (total < 0 || speed <= 0 || bytes < 0 || bytes > total)
    return -1;
  /* Round up: "0s" left while bytes are still missing would be a lie. */
  return (total - bytes + speed - 1) / speed;
}

const char *fmt_percent(char *buf, size_t n, int64_t bytes, int64_t total)
{
  if (total < 0 || bytes < 0) {
    snprintf(buf, n, "--");
    return buf;
  }
  int pct;
  if (total == 0 || bytes >= total)
    pct = 100;
  else
    pct = (int)((double)bytes * 100.0 / (double)total); /* floors; < 100 */
  if (pct > 99 && bytes < total)
    pct = 99;
  snprintf(buf, n, "%d%%", pct);
  return buf;
}

const char *fmt_secs(char *buf, size_t n, double s)
{
  if (s < 0)
    snprintf(buf, n, "--");
  else if (s < 1.0)
    snprintf(buf, n, "%dms", (int)(s * 1000.0 + 0.5));
  else
    snprintf(buf, n, "%.2fs", s);
  return buf;
}

/* Append s to buf at *pos if it fits (always leaving room for the NUL). */
static void put(char *buf, size_t n, size_t *pos, const char *s)
{
  size_t l = strlen(s);
  if (*pos + l < n) {
    memcpy(buf + *pos, s, l);
    *pos += l;
  }
  buf[*pos < n ? *pos : n - 1] = '\0';
}

const char *fmt_bar(char *buf, size_t n, int width, double frac, int utf8)
{
  /* U+258F..U+2589: 1/8 .. 7/8 left blocks; U+2588 is the full block. */
  static const char *const eighths[] = {"", "\u258f", "\u258e", "\u258d", "\u258c",
                                        "\u258b", "\u258a", "\u2589"};
  size_t pos = 0;
  if (n == 0)
    return buf;
  buf[0] = '\0';
  if (width <= 0)
    return buf;
  if (frac > 1.0)
    frac = 1.0;
  long units = frac < 0 ? 0 : (long)(frac * width * 8.0);
  long full = units / 8, part = units % 8;
  for (int i = 0; i < width; i++) {
    if (i < full)
      put(buf, n, &pos, utf8 ? "\u2588" : "#");
    else if (i == full && part > 0 && utf8)
      put(buf, n, &pos, eighths[part]);
    else if (i == full && part >= 4 && !utf8)
      put(buf, n, &pos, "#");
    else
      put(buf, n, &pos, utf8 ? " " : ".");
  }
  return buf;
}

const char *fmt_segbar(char *buf, size_t n, int width, const unsigned char *map, int cells,
                       int utf8)
{
  size_t pos = 0;
  if (n == 0)
    return buf;
  buf[0] = '\0';
  for (int c = 0; c < width && cells > 0; c++) {
    int a = (int)((long)c * cells / width), b = (int)((long)(c + 1) * cells / width);
    if (b <= a)
      b = a + 1; /* wider than the map: a cell spans several columns */
    int have = 0;
    for (int k = a; k < b; k++)
      have += (map[k / 8] >> (k % 8)) & 1;
    const char *glyph = have == b - a ? (utf8 ? "\u2588" : "#")
                        : have        ? (utf8 ? "\u2592" : "+")
                                      : (utf8 ? "\u2591" : ".");
    put(buf, n, &pos, glyph);
  }
  return buf;
}

const char *fmt_spark(char *buf, size_t n, const int64_t *v, size_t len, int width,
                      int utf8)
{
  static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                       "\u2585", "\u2586", "\u2587", "\u2588"};
  static const char ascii[] = "_.-=+*#@";
  size_t pos = 0;
  if (n == 0)
    return buf;
  buf[0] = '\0';
  if (width <= 0)
    return buf;
  size_t first = len > (size_t)width ? len - (size_t)width : 0;
  int64_t max = 0;
  for (size_t i = first; i < len; i++)
    if (v[i] > max)
      max = v[i];
  /* Left-pad with the lowest level so the newest second sits at the right. */
  for (int i = 0; i < width - (int)(len - first); i++)
    put(buf, n, &pos, " ");
  for (size_t i = first; i < len; i++) {
    int lvl = 0;
    if (max > 0 && v[i] > 0)
      lvl = (int)((double)v[i] * 7.0 / (double)max + 0.5);
    if (lvl > 7)
      lvl = 7;
    char one[2] = {ascii[lvl], '\0'};
    put(buf, n, &pos, utf8 ? blocks[lvl] : one);
  }
  return buf;
}

int fmt_width(const char *s)
{
  mbstate_t st;
  memset(&st, 0, sizeof st);
  int w = 0;
  size_t len = strlen(s);
  while (len > 0) {
    wchar_t wc;
    size_t k = mbrtowc(&wc, s, len, &st);
    if (k == (size_t)-1 || k == (size_t)-2) {
      /* Invalid bytes are drawn as one cell each by curses' fallback. */
      memset(&st, 0, sizeof st);
      w++;
      s++;
      len--;
      continue;
    }
    if (k == 0)
      break;
    int cw = wcwidth(wc);
    w += cw < 0 ? 1 : cw;
    s += k;
    len -= k;
  }
  return w;
}

const char *fmt_fit(char *buf, size_t n, const char *s, int cols, int pad, int utf8)
{
  size_t pos = 0;
  if (n == 0)
    return buf;
  buf[0] = '\0';
  if (cols <= 0)
    return buf;
  int total = fmt_width(s);
  /* Leave one column for the ellipsis when the text does not fit. */
  int room = total > cols ? cols - 1 : cols;
  int w = 0;
  mbstate_t st;
  memset(&st, 0, sizeof st);
  size_t len = strlen(s);
  while (len > 0) {
    wchar_t wc;
    size_t k = mbrtowc(&wc, s, len, &st);
    int cw;
    if (k == (size_t)-1 || k == (size_t)-2) {
      memset(&st, 0, sizeof st);
      k = 1;
      cw = 1;
      wc = L'?';
    } else if (k == 0) {
      break;
    } else {
      cw = wcwidth(wc);
      if (cw < 0) { /* a control character: never send it to the terminal */
        cw = 1;
        wc = L'?';
      }
    }
    if (w + cw > room)
      break;
    if (wc == L'?' && (k == 1)) {
      put(buf, n, &pos, "?");
    } else if (pos + k < n) {
      memcpy(buf + pos, s, k);
      pos += k;
      buf[pos] = '\0';
    }
    w += cw;
    s += k;
    len -= k;
  }
  if (total > cols) {
    put(buf, n, &pos, utf8 ? "\u2026" : "~");
    w++;
  }
  while (pad && w < cols) {
    put(buf, n, &pos, " ");
    w++;
  }
  return buf;
}

int fmt_fit_columns(const struct fmt_col *cols, int n, int width, int gap, int *w)
{
  int shown = n;
  for (int i = 0; i < n; i++)
    w[i] = cols[i].min;
  /* Drop the highest-ranked droppable column until the minimums fit. */
  for (;;) {
    int need = 0, cnt = 0;
    for (int i = 0; i < n; i++)
      if (w[i] > 0) {
        need += w[i];
        cnt++;
      }
    need += cnt > 1 ? gap * (cnt - 1) : 0;
    if (need <= width) {
      width -= need;
      break;
    }
    int worst = -1;
    for (int i = 0; i < n; i++)
      if (w[i] > 0 && cols[i].drop > 0 && (worst < 0 || cols[i].drop > cols[worst].drop))
        worst = i;
    if (worst < 0) {
      /* Nothing left to drop: shrink the last columns so nothing wraps. */
      int over = need - width;
      for (int i = n - 1; i >= 0 && over > 0; i--) {
        int cut = w[i] - 1 < over ? w[i] - 1 : over;
        if (cut > 0) {
          w[i] -= cut;
          over -= cut;
        }
      }
      width = 0;
      break;
    }
    w[worst] = 0;
    shown--;
  }
  /* Share the spare columns by weight, in rounds, respecting maxima. */
  for (int round = 0; round < 8 && width > 0; round++) {
    int wsum = 0;
    for (int i = 0; i < n; i++)
      if (w[i] > 0 && cols[i].weight > 0 && (cols[i].max == 0 || w[i] < cols[i].max))
        wsum += cols[i].weight;
    if (wsum == 0)
      break;
    int spare = width, given = 0;
    for (int i = 0; i < n; i++) {
      if (!(w[i] > 0 && cols[i].weight > 0 && (cols[i].max == 0 || w[i] < cols[i].max)))
        continue;
      int add = spare * cols[i].weight / wsum;
      if (add == 0)
        add = 1;
      if (add > width - given)
        add = width - given;
      if (cols[i].max > 0 && w[i] + add > cols[i].max)
        add = cols[i].max - w[i];
      w[i] += add;
      given += add;
    }
    width -= given;
    if (given == 0)
      break;
  }
  return shown;
}
