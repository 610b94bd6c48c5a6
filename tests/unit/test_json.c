/* test_json.c - the --json event lines, compared byte for byte with
 * SPEC.md's shapes, and json_string's escaping. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphon/json.h"
#include "siphon/msg.h"

/* Capture what f(out) writes. */
struct cap {
  FILE *f;
  char *buf;
  size_t len;
};

static void cap_open(struct cap *c)
{
  c->buf = NULL;
  c->len = 0;
  c->f = open_memstream(&c->buf, &c->len);
  cr_assert_not_null(c->f);
}

static void cap_expect(struct cap *c, const char *want)
{
  fclose(c->f);
  cr_assert_str_eq(c->buf, want);
  free(c->buf);
}

static void event_is(const struct msg_event *ev, const char *want)
{
  struct cap c;
  cap_open(&c);
  cr_assert_eq(json_event(c.f, ev), 1);
  cap_expect(&c, want);
}

static void string_is(const char *s, const char *want)
{
  struct cap c;
  cap_open(&c);
  json_string(c.f, s);
  cap_expect(&c, want);
}

Test(json, queued)
{
  struct msg_event ev = {.kind = MSG_EV_QUEUED, .id = 1, .name = "ubuntu",
                         .url = "https://example.org/u.iso?a=1&b=\"2\"", .path = "x"};
  event_is(&ev, "{\"event\":\"queued\",\"id\":1,\"name\":\"ubuntu\","
                "\"url\":\"https://example.org/u.iso?a=1&b=\\\"2\\\"\"}\n");
}

Test(json, start_paused_resumed_cancelled)
{
  struct msg_event ev = {.kind = MSG_EV_START, .id = 7, .attempt = 3};
  event_is(&ev, "{\"event\":\"start\",\"id\":7,\"attempt\":3}\n");
  ev.kind = MSG_EV_PAUSED;
  ev.message = "will restart";
  event_is(&ev, "{\"event\":\"paused\",\"id\":7}\n");
  ev.kind = MSG_EV_RESUMED;
  event_is(&ev, "{\"event\":\"resumed\",\"id\":7}\n");
  ev.kind = MSG_EV_CANCELLED;
  event_is(&ev, "{\"event\":\"cancelled\",\"id\":7}\n");
}

Test(json, retry_reason_keys)
{
  struct msg_event ev = {.kind = MSG_EV_RETRY, .id = 1, .attempt = 2, .delay_ms = 1000,
                         .reason = MSG_REASON_HTTP, .http = 503};
  event_is(&ev, "{\"event\":\"retry\",\"id\":1,\"attempt\":2,\"delay_ms\":1000,"
                "\"reason\":\"http_503\"}\n");
  ev.reason = MSG_REASON_STALL;
  ev.http = 200;
  ev.delay_ms = 60000;
  event_is(&ev, "{\"event\":\"retry\",\"id\":1,\"attempt\":2,\"delay_ms\":60000,"
                "\"reason\":\"stall\"}\n");
}

Test(json, done)
{
  struct msg_event ev = {.kind = MSG_EV_DONE, .id = 1, .path = "isos/ubuntu.iso",
                         .bytes = 4194304, .seconds = 1.9, .http = 200};
  event_is(&ev, "{\"event\":\"done\",\"id\":1,\"path\":\"isos/ubuntu.iso\","
                "\"bytes\":4194304,\"seconds\":1.9,\"http\":200}\n");
  ev.http = 0;
  ev.seconds = 0;
  ev.bytes = 0;
  event_is(&ev, "{\"event\":\"done\",\"id\":1,\"path\":\"isos/ubuntu.iso\","
                "\"bytes\":0,\"seconds\":0.0,\"http\":null}\n");
}

Test(json, failed_and_timed_out)
{
  struct msg_event ev = {.kind = MSG_EV_FAILED, .id = 2, .reason = MSG_REASON_HTTP,
                         .http = 404, .message = "Not Found"};
  event_is(&ev, "{\"event\":\"failed\",\"id\":2,\"reason\":\"http_404\","
                "\"message\":\"Not Found\"}\n");
  ev.reason = MSG_REASON_CHECKSUM;
  ev.message = NULL;
  event_is(&ev, "{\"event\":\"failed\",\"id\":2,\"reason\":\"checksum_mismatch\","
                "\"message\":\"the sha256 of the download does not match\"}\n");

  ev.kind = MSG_EV_TIMED_OUT;
  ev.reason = MSG_REASON_STALL;
  ev.message = "no data for 30s";
  event_is(&ev, "{\"event\":\"timed_out\",\"id\":2,\"reason\":\"stall\","
                "\"message\":\"no data for 30s\"}\n");
  ev.reason = MSG_REASON_TOTAL;
  ev.message = NULL;
  event_is(&ev, "{\"event\":\"timed_out\",\"id\":2,\"reason\":\"total\","
                "\"message\":\"the whole-item timeout passed\"}\n");
}

Test(json, skipped)
{
  struct msg_event ev = {.kind = MSG_EV_SKIPPED, .id = 4, .reason = MSG_REASON_EXISTS,
                         .path = "a.iso"};
  event_is(&ev, "{\"event\":\"skipped\",\"id\":4,\"reason\":\"exists\"}\n");
}

Test(json, silent_events)
{
  enum msg_event_kind kinds[] = {MSG_EV_DETAIL, MSG_EV_IDLE, MSG_EV_STOPPED};
  for (size_t i = 0; i < 3; i++) {
    struct msg_event ev = {.kind = kinds[i], .id = 1, .final_url = "http://x/"};
    struct cap c;
    cap_open(&c);
    cr_assert_eq(json_event(c.f, &ev), 0);
    cap_expect(&c, "");
  }
}

Test(json, progress)
{
  struct cap c;
  struct msg_snap_row row = {
      .id = 1, .bytes = 1048576, .total = 4194304, .speed = 2097152, .connections = 1};
  cap_open(&c);
  json_progress(c.f, &row);
  cap_expect(&c, "{\"event\":\"progress\",\"id\":1,\"bytes\":1048576,\"total\":4194304,"
                 "\"speed\":2097152,\"connections\":1}\n");
  row.total = -1;
  row.bytes = 5000000000LL;
  row.speed = 0;
  row.connections = 0;
  cap_open(&c);
  json_progress(c.f, &row);
  cap_expect(&c, "{\"event\":\"progress\",\"id\":1,\"bytes\":5000000000,\"total\":null,"
                 "\"speed\":0,\"connections\":0}\n");
}

Test(json, summary_and_seconds_format)
{
  struct cap c;
  cap_open(&c);
  json_summary(c.f, 3, 1, 0, 0, 0, 123, 4.2);
  cap_expect(&c, "{\"event\":\"summary\",\"done\":3,\"failed\":1,\"timed_out\":0,"
                 "\"cancelled\":0,\"skipped\":0,\"bytes\":123,\"seconds\":4.2}\n");

  const struct {
    double in;
    const char *out;
  } cases[] = {
      {0, "0.0"},        {2, "2.0"},          {0.125, "0.125"},  {1.23456, "1.235"},
      {1.9996, "2.0"},   {0.0004, "0.0"},     {60.5, "60.5"},    {-1, "0.0"},
      {12345.6, "12345.6"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char want[256];
    snprintf(want, sizeof want,
             "{\"event\":\"summary\",\"done\":0,\"failed\":0,\"timed_out\":0,"
             "\"cancelled\":0,\"skipped\":0,\"bytes\":0,\"seconds\":%s}\n",
             cases[i].out);
    cap_open(&c);
    json_summary(c.f, 0, 0, 0, 0, 0, 0, cases[i].in);
    cap_expect(&c, want);
  }
}

Test(json, flushed_after_each_line)
{
  /* A fully buffered stream: the line must reach the buffer without fclose. */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cr_assert_not_null(f);
  struct msg_event ev = {.kind = MSG_EV_CANCELLED, .id = 9};
  json_event(f, &ev);
  cr_assert_eq(len, strlen("{\"event\":\"cancelled\",\"id\":9}\n"));
  cr_assert_str_eq(buf, "{\"event\":\"cancelled\",\"id\":9}\n");
  json_summary(f, 1, 0, 0, 0, 0, 1, 1);
  cr_assert(len > 40 && buf[len - 1] == '\n');
  fclose(f);
  free(buf);
}

Test(json, string_escapes)
{
  string_is("plain", "\"plain\"");
  string_is("", "\"\"");
  string_is(NULL, "\"\"");
  string_is("a\"b\\c", "\"a\\\"b\\\\c\"");
  string_is("l1\nl2\r\t\b\f", "\"l1\\nl2\\r\\t\\b\\f\"");
  string_is("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
  string_is("a/b", "\"a/b\"");
}

Test(json, string_utf8)
{
  string_is("\xe2\x82\xac rates", "\"\xe2\x82\xac rates\"");
  string_is("caf\xc3\xa9 \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"");
  string_is("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");
  /* invalid bytes: one replacement each */
  string_is("a\xff" "b", "\"a\\ufffdb\"");
  string_is("\x80", "\"\\ufffd\"");
  string_is("\xc3", "\"\\ufffd\"");                         /* truncated at end */
  string_is("\xe2\x82" "A", "\"\\ufffd\\ufffdA\"");         /* truncated mid-string */
  string_is("\xc0\xaf", "\"\\ufffd\\ufffd\"");              /* overlong '/' */
  string_is("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");   /* overlong 3-byte */
  string_is("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");   /* surrogate */
  string_is("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
  string_is("\xf5", "\"\\ufffd\"");
}
