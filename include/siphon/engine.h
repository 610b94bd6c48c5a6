/* siphon/engine.h - the download engine: its own thread, one libuv loop
 * driving one curl multi handle.  It talks to the world only through the
 * mailbox. */
#ifndef SIPHON_ENGINE_H
#define SIPHON_ENGINE_H

#include <stddef.h>
#include "siphon/cfg.h"
#include "siphon/mbox.h"

struct engine;

/* The plan must outlive the engine.  0, or -1 with err set. */
int engine_new(struct engine **out, const struct cfg_plan *plan, struct mbox *mb,
               char *err, size_t errlen);
/* Start the thread: it posts MSG_EV_QUEUED (or SKIPPED) for every item,
 * then runs until MSG_CMD_QUIT, and posts MSG_EV_STOPPED last. */
int engine_start(struct engine *e);
/* Wait for the thread (after MSG_EV_STOPPED) and free everything. */
void engine_free(struct engine *e);

#endif
