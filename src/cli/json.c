/* json.c - SPEC.md's --json events, one object per line on stdout, keys in
 * SPEC's order.  Run by the headless front end on the main thread.  Each
 * line is flushed at once because scripts read the stream live, and every
 * string is escaped so that each line is valid JSON whatever bytes a
 * server or URL put in it. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphon/json.h"
#include "siphon/secret.h"
#include "siphon/msg.h"

/* Length of the valid UTF-8 sequence at s, or 0 if s[0] does not start
 * one (overlong forms, surrogates and code points past U+10FFFF count as
 * invalid). */
static int utf8_len(const unsigned char *s)
{
  unsigned char c = s[0];
  int n;
  unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
  if (c >= 0xc2 && c <= 0xdf)
    n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f;
  } else
    return 0;
  if (s[1] < lo || s[1] > hi)
    return 0;
  for (int i = 2; i < n; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

/* NULL prints as "" so a field keeps its type for scripts. */
void json_string(FILE *out, const char *str)
{
  const unsigned char *s = (const unsigned char *)(str ? str : "");
  putc('"', out);
  while (*s) {
    unsigned char c = *s;
    if (c == '"' || c == '\\') {
      putc('\\', out);
      putc(c, out);
      s++;
    } else if (c < 0x20 || c == 0x7f) {
      switch (c) {
      case '\n': fputs("\\n", out); break;
      case '\r': fputs("\\r", out); break;
      case '\t': fputs("\\t", out); break;
      case '\b': fputs("\\b", out); break;
      case '\f': fputs("\\f", out); break;
      default: fprintf(out, "\\u%04x", c); break;
      }
      s++;
    } else if (c < 0x80) {
      putc(c, out);
      s++;
    } else {
      int n = utf8_len(s);
      if (n) {
        fwrite(s, 1, (size_t)n, out);
        s += n;
      } else {
        fputs("\\ufffd", out); /* one per bad byte */
        s++;
      }
    }
  }
  putc('"', out);
}

/* Seconds with at most 3 decimals and at least one ("1.9", "2.0",
 * "0.125"), so the field always reads as a float; NaN and negatives are
 * not valid durations and print as 0.0. */
static void json_seconds(FILE *out, double sec)
{
  if (!(sec >= 0) || isinf(sec))
    sec = 0;
  char buf[64];
  int n = snprintf(buf, sizeof buf, "%.3f", sec);
  while (n > 0 && buf[n - 1] == '0' && buf[n - 2] != '.')
    buf[--n] = '\0';
  fputs(buf, out);
}

static void json_head(FILE *out, const char *event, uint32_t id)
{
  fprintf(out, "{\"event\":\"%s\",\"id\":%" PRIu32, event, id);
}

static void json_end(FILE *out)
{
  fputs("}\n", out);
  fflush(out);
}

static void json_reason(FILE *out, const struct msg_event *ev)
{
  char buf[16];
  fputs(",\"reason\":", out);
  json_string(out, msg_reason_key((enum msg_reason)ev->reason, ev->http, buf));
}

/* A URL without its password (SPEC.md "Network": events never hold one). */
static void json_url(FILE *out, const char *url)
{
  char *shown = secret_url(url);
  json_string(out, shown);
  free(shown);
}

/* An absent message is replaced by the reason in words, never left out. */
static void json_message(FILE *out, const struct msg_event *ev)
{
  fputs(",\"message\":", out);
  json_string(out, ev->message ? ev->message : msg_reason_text((enum msg_reason)ev->reason));
}

int json_event(FILE *out, const struct msg_event *ev)
{
  const char *name = msg_event_name(ev->kind);
  if (!name)
    return 0; /* DETAIL, IDLE, STOPPED: not part of SPEC's stream */
  json_head(out, name, ev->id);
  switch (ev->kind) {
  case MSG_EV_QUEUED:
    fputs(",\"name\":", out);
    json_string(out, ev->name);
    fputs(",\"url\":", out);
    json_url(out, ev->url);
    break;
  case MSG_EV_START:
    fprintf(out, ",\"attempt\":%" PRId32, ev->attempt);
    break;
  case MSG_EV_RETRY:
    fprintf(out, ",\"attempt\":%" PRId32 ",\"delay_ms\":%" PRId64, ev->attempt, ev->delay_ms);
    json_reason(out, ev);
    break;
  case MSG_EV_DONE:
    fputs(",\"path\":", out);
    json_string(out, ev->path);
    fprintf(out, ",\"bytes\":%" PRId64 ",\"seconds\":", ev->bytes);
    json_seconds(out, ev->seconds);
    if (ev->http > 0)
      fprintf(out, ",\"http\":%" PRId32, ev->http);
    else
      fputs(",\"http\":null", out);
    break;
  case MSG_EV_FAILED:
  case MSG_EV_TIMED_OUT:
    json_reason(out, ev);
    json_message(out, ev);
    break;
  case MSG_EV_SKIPPED:
    json_reason(out, ev);
    break;
  default: /* paused, resumed, cancelled: the id says it all */
    break;
  }
  json_end(out);
  return 1;
}

void json_progress(FILE *out, const struct msg_snap_row *row)
{
  json_head(out, "progress", row->id);
  fprintf(out, ",\"bytes\":%" PRId64, row->bytes);
  if (row->total >= 0)
    fprintf(out, ",\"total\":%" PRId64, row->total);
  else
    fputs(",\"total\":null", out);
  fprintf(out, ",\"speed\":%" PRId64, row->speed);
  fprintf(out, ",\"connections\":%u", (unsigned)row->connections);
  json_end(out);
}

void json_summary(FILE *out, unsigned done, unsigned failed, unsigned timed_out,
                  unsigned cancelled, unsigned skipped, int64_t bytes, double seconds)
{
  fprintf(out,
          "{\"event\":\"summary\",\"done\":%u,\"failed\":%u,\"timed_out\":%u,"
          "\"cancelled\":%u,\"skipped\":%u,\"bytes\":%" PRId64 ",\"seconds\":",
          done, failed, timed_out, cancelled, skipped, bytes);
  json_seconds(out, seconds);
  json_end(out);
}
