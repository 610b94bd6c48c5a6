/* siphon/dur.h - durations as users write them: "250ms", "30s", "5m",
 * "2h", "0", combined and with decimals ("1m30s", "1.5s"). */
#ifndef SIPHON_DUR_H
#define SIPHON_DUR_H

#include <stdint.h>

/* 0 and *ms set, or -1 (empty, unknown unit, negative, overflow, junk).
 * A bare number without a unit is accepted only for "0". */
int dur_parse(const char *s, int64_t *ms);

#endif
