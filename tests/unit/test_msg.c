/* test_msg.c - the event table all three front ends read: its JSON names
 * are SPEC's, and each SPEC event says which state it leaves its item in. */
#include <criterion/criterion.h>
#include <string.h>

#include "siphon/msg.h"

Test(msg, event_names_are_specs)
{
  static const char *const spec[] = {"queued", "start",  "paused",    "resumed",
                                     "retry",  "done",   "failed",    "timed_out",
                                     "cancelled", "skipped"};
  size_t named = 0;
  for (int k = 0; k < MSG_EV_COUNT; k++) {
    const char *n = msg_event_name((enum msg_event_kind)k);
    if (!n)
      continue;
    named++;
    int found = 0;
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++)
      found |= !strcmp(spec[i], n);
    cr_assert(found, "event %d is named '%s', not one of SPEC's", k, n);
    cr_assert_geq(msg_event_state((enum msg_event_kind)k), 0, "%s implies no state", n);
  }
  cr_assert_eq(named, sizeof spec / sizeof spec[0]);
  cr_assert_null(msg_event_name(MSG_EV_DETAIL));
  cr_assert_null(msg_event_name(MSG_EV_COUNT));
}

Test(msg, event_states)
{
  cr_assert_eq(msg_event_state(MSG_EV_START), MSG_STATE_RUNNING);
  cr_assert_eq(msg_event_state(MSG_EV_RETRY), MSG_STATE_RUNNING, "waiting to retry still runs");
  cr_assert_eq(msg_event_state(MSG_EV_RESUMED), MSG_STATE_QUEUED, "SPEC: resumed shows queued");
  cr_assert_eq(msg_event_state(MSG_EV_TIMED_OUT), MSG_STATE_TIMED_OUT);
  cr_assert_eq(msg_event_state(MSG_EV_DETAIL), -1);
  cr_assert_eq(msg_event_state(MSG_EV_STOPPED), -1);
}
