/* test_headers.c - the response-header parsers (src/engine/headers.c): what
 * a server's status line, Content-Range, Retry-After, validators and
 * Content-Disposition make the engine believe. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/engine/headers.h"

static enum headers_line feed(struct headers *h, const char *line, int64_t now)
{
  return headers_feed(h, line, strlen(line), now);
}

static int range(const char *v, int64_t *a, int64_t *b, int64_t *t)
{
  *a = *b = *t = 777;
  return headers_content_range(v, strlen(v), a, b, t);
}

Test(headers, status_lines)
{
  cr_assert_eq(headers_status("HTTP/1.1 206 Partial Content\r\n", 30), 206);
  cr_assert_eq(headers_status("HTTP/2 404\r\n", 12), 404);
  cr_assert_eq(headers_status("HTTP/1.0 200\r\n", 14), 200);
  cr_assert_eq(headers_status("HTTP/1.1 20\r\n", 13), 0, "two digits are no status");
  cr_assert_eq(headers_status("HTTP/1.1\r\n", 10), 0);
  cr_assert_eq(headers_status("HTTP/1. 013 x\r\n", 15), 0, "found by fuzz_headers");
  cr_assert_eq(headers_status("Content-Type: x\r\n", 17), 0);
}

Test(headers, content_range_forms)
{
  int64_t a, b, t;
  cr_assert_eq(range("bytes 100-199/1000", &a, &b, &t), 0);
  cr_assert(a == 100 && b == 199 && t == 1000);
  cr_assert_eq(range("bytes 0-0/*", &a, &b, &t), 0);
  cr_assert(a == 0 && b == 0 && t == -1, "an unknown total is -1");
  cr_assert_eq(range("BYTES 5-9/10", &a, &b, &t), 0, "the unit is case-insensitive");
  cr_assert(a == 5 && b == 9 && t == 10);
}

Test(headers, content_range_rejects)
{
  int64_t a, b, t;
  const char *bad[] = {"bytes */1000",          "bytes 200-100/1000", "bytes 0-1000/1000",
                       "bytes -5-10/100",       "bytes 1-2",          "bytes 1-2/3x",
                       "items 1-2/3",           "bytes1-2/3",         "",
                       "bytes 99999999999999999999-1/2"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cr_assert_eq(range(bad[i], &a, &b, &t), -1, "\"%s\" should be rejected", bad[i]);
    cr_assert(a == 777 && b == 777 && t == 777, "\"%s\": rejected leaves outputs", bad[i]);
  }
}

Test(headers, retry_after_seconds_and_dates)
{
  cr_assert_eq(headers_retry_after("3", 1, 0), 3000);
  cr_assert_eq(headers_retry_after("0", 1, 0), 0);
  cr_assert_eq(headers_retry_after("86400", 5, 0), HEADERS_RETRY_AFTER_CAP_MS, "capped");
  /* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
  const char *date = "Sun, 06 Nov 1994 08:49:37 GMT";
  cr_assert_eq(headers_retry_after(date, strlen(date), 784111777 - 20), 20000);
  cr_assert_eq(headers_retry_after(date, strlen(date), 784111777 + 50), 0, "past dates: now");
  cr_assert_eq(headers_retry_after("soon", 4, 0), -1);
  cr_assert_eq(headers_retry_after("-3", 2, 0), -1);
  cr_assert_eq(headers_retry_after("", 0, 0), -1);
}

Test(headers, one_response_fed_line_by_line)
{
  struct headers h;
  headers_init(&h);
  cr_assert_eq(feed(&h, "HTTP/1.1 206 Partial Content\r\n", 0), HEADERS_STATUS);
  cr_assert_eq(feed(&h, "etag:   \"abc\"  \r\n", 0), HEADERS_FIELD);
  feed(&h, "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\n", 0);
  feed(&h, "Content-Disposition: attachment; filename=\"r.pdf\"\r\n", 0);
  feed(&h, "Content-Range: bytes 10-19/20\r\n", 0);
  feed(&h, "Accept-Ranges: bytes\r\n", 0);
  feed(&h, "Retry-After: 7\r\n", 0);
  feed(&h, "X-ETag: not-this\r\n", 0);
  cr_assert_eq(feed(&h, "\r\n", 0), HEADERS_END);
  cr_assert_eq(h.status, 206);
  cr_assert_str_eq(h.etag, "\"abc\"", "value trimmed, quotes kept");
  cr_assert_str_eq(h.last_modified, "Sun, 06 Nov 1994 08:49:37 GMT");
  cr_assert_str_eq(h.disposition, "attachment; filename=\"r.pdf\"");
  cr_assert(h.range_start == 10 && h.range_end == 19 && h.range_total == 20);
  cr_assert_eq(h.accept_ranges, 1);
  cr_assert_eq(h.retry_after_ms, 7000);
  cr_assert_eq(h.location, 0);
  headers_reset(&h);
}

Test(headers, a_new_status_line_forgets_the_last_response)
{
  struct headers h;
  headers_init(&h);
  feed(&h, "HTTP/1.1 301 Moved\r\n", 0);
  feed(&h, "Location: /elsewhere\r\n", 0);
  feed(&h, "ETag: \"old\"\r\n", 0);
  feed(&h, "Content-Range: bytes 0-1/2\r\n", 0);
  feed(&h, "\r\n", 0);
  cr_assert_eq(h.location, 1);
  feed(&h, "HTTP/1.1 200 OK\r\n", 0);
  cr_assert_eq(h.status, 200);
  cr_assert_eq(h.location, 0);
  cr_assert_null(h.etag, "a redirect's validator is not the file's");
  cr_assert_eq(h.range_start, -1);
  cr_assert_eq(h.accept_ranges, -1, "not said");
  feed(&h, "Content-Range: bytes 5-1/9\r\n", 0);
  cr_assert_eq(h.range_start, -1, "a bad range is no range");
  headers_reset(&h);
}

Test(headers, field_names_need_the_colon)
{
  const char *v;
  size_t n;
  cr_assert_eq(headers_field("ETagX: 1\r\n", 10, "ETag", &v, &n), 0);
  cr_assert_eq(headers_field("ETag\r\n", 6, "ETag", &v, &n), 0);
  cr_assert_eq(headers_field("etag:\r\n", 7, "ETag", &v, &n), 1);
  cr_assert_eq(n, 0, "an empty value");
}
