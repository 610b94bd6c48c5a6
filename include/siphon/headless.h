/* siphon/headless.h - the front end without a screen: text progress on
 * stderr, and with json one event object per line on stdout. */
#ifndef SIPHON_HEADLESS_H
#define SIPHON_HEADLESS_H

#include "siphon/mbox.h"

/* Run until every item is final (or SIGINT/SIGTERM), then stop the engine
 * and wait for MSG_EV_STOPPED.  Returns the exit status of SPEC.md. */
int headless_run(struct mbox *mb, int json);

#endif
