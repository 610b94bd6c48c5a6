/* fuzz_headers.c - libFuzzer target: the input as a server's response
 * header block, split into lines the way curl hands them to the header
 * callback, fed through headers_feed() (src/engine/headers.c).  Checks the
 * parsers' promises: a status is 0 or three digits, a range is ordered and
 * inside its total, a Retry-After is capped. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/engine/headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct headers h;
  headers_init(&h);
  size_t pos = 0;
  while (pos < size) {
    const uint8_t *nl = memchr(data + pos, '\n', size - pos);
    size_t len = nl ? (size_t)(nl - (data + pos)) + 1 : size - pos;
    /* a copy of exactly len bytes, so any read past the line is caught */
    char *line = malloc(len ? len : 1);
    memcpy(line, data + pos, len);
    headers_feed(&h, line, len, 1700000000);
    free(line);
    pos += len;
    if (h.status != 0 && (h.status < 100 || h.status > 999))
      abort();
    if (h.range_start >= 0 &&
        (h.range_end < h.range_start || (h.range_total >= 0 && h.range_end >= h.range_total)))
      abort();
    if (h.retry_after_ms > HEADERS_RETRY_AFTER_CAP_MS || h.retry_after_ms < -1)
      abort();
    if (h.accept_ranges < -1 || h.accept_ranges > 1)
      abort();
  }
  headers_reset(&h);
  return 0;
}
