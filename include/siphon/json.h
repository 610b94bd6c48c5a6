/* siphon/json.h - SPEC.md's event objects, one per line. */
#ifndef SIPHON_JSON_H
#define SIPHON_JSON_H

#include <stdio.h>
#include "siphon/msg.h"

/* Write one event as a JSON line (nothing for events SPEC.md does not
 * print, like MSG_EV_DETAIL).  Returns 1 if a line was written. */
int json_event(FILE *out, const struct msg_event *ev);
void json_progress(FILE *out, const struct msg_snap_row *row);
void json_summary(FILE *out, unsigned done, unsigned failed, unsigned timed_out,
                  unsigned cancelled, unsigned skipped, int64_t bytes, double seconds);
/* A JSON string literal, quotes included, with escapes. */
void json_string(FILE *out, const char *s);

#endif
