/* siphon/headless.h - the front end without a screen: text progress on
 * stderr, and with json one event object per line on stdout. */
#ifndef SIPHON_HEADLESS_H
#define SIPHON_HEADLESS_H

#include <stdint.h>

#include "siphon/mbox.h"

/* Run until every item is final (or SIGINT/SIGTERM), then stop the engine
 * and wait for MSG_EV_STOPPED.  Returns the exit status of SPEC.md.
 * name_of(ctx, id), if given, is the name of item id where the caller
 * keeps it for the whole run (the plan's items), or NULL: then the name of
 * the item's QUEUED event is kept (80,000 URLs hold each name once, not
 * twice). */
int headless_run(struct mbox *mb, int json, const char *(*name_of)(const void *ctx, uint32_t id),
                 const void *ctx);

#endif
