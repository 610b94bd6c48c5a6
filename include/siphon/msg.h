/* siphon/msg.h - the protocol between the engine thread and a front end.
 *
 * Plain data only: commands (front end -> engine), events (engine -> front
 * end, never dropped or merged) and the flat progress snapshot the engine
 * publishes about ten times a second.  Nothing here points into engine
 * memory.  A message owns its strings; whoever takes it frees it with
 * msg_cmd_free() / msg_event_free().
 */
#ifndef SIPHON_MSG_H
#define SIPHON_MSG_H

#include <stdint.h>

/* Why an item ended (or is retried), and what each reason means for the
 * item: X(ENUM, json-key, words, final state, transient, keep .part).
 *   final state  the MSG_STATE_* an item ending for this reason takes
 *   transient    NO, YES, or STATUS (retried for HTTP 408, 429 and 5xx)
 *   keep .part   1: the partial file (and its sidecar) stays for a resume
 * HTTP's JSON key is "http_NNN" (see msg_reason_key()). */
#define MSG_REASON_MAP(X)                                                                  \
  X(NONE, "none", "no error", DONE, NO, 0)                                                 \
  X(HTTP, "http", "the server answered with an error status", FAILED, STATUS, 1)           \
  X(NETWORK, "network", "the connection failed or broke off", FAILED, YES, 1)              \
  X(TOO_MANY_REDIRECTS, "too_many_redirects", "more than 10 redirects", FAILED, NO, 1)     \
  X(BAD_REDIRECT, "bad_redirect", "redirected to another scheme", FAILED, NO, 0)           \
  X(TLS, "tls", "TLS handshake or certificate verification failed", FAILED, NO, 1)         \
  X(CHECKSUM, "checksum_mismatch", "the sha256 of the download does not match", FAILED,   \
    NO, 0)                                                                                 \
  X(DISK, "disk", "the file could not be written", FAILED, NO, 1)                          \
  X(CONNECT, "connect", "no connection within the connect timeout", TIMED_OUT, YES, 1)     \
  X(STALL, "stall", "no data received within the stall timeout", TIMED_OUT, YES, 1)        \
  X(TOTAL, "total", "the whole-item timeout passed", TIMED_OUT, NO, 1)                     \
  X(EXISTS, "exists", "a complete file is already there", SKIPPED, NO, 1)                  \
  X(BAD_URL, "bad_url", "not a valid http or https URL", FAILED, NO, 1)                    \
  X(BAD_NAME, "bad_name", "no safe file name could be made", FAILED, NO, 1)                \
  X(BUSY, "busy", "another siphon is writing this file", FAILED, NO, 1)                   \
  X(INTERNAL, "internal", "internal error", FAILED, NO, 1)

/* The transient column. */
enum msg_retry { MSG_RETRY_NO, MSG_RETRY_YES, MSG_RETRY_STATUS };

enum msg_reason {
#define MSG_REASON_ENUM(e, key, text, final, transient, keep) MSG_REASON_##e,
  MSG_REASON_MAP(MSG_REASON_ENUM)
#undef MSG_REASON_ENUM
  MSG_REASON_COUNT
};

/* Item states as the user sees them (SPEC.md "States"). */
#define MSG_STATE_MAP(X)                                                          \
  X(QUEUED, "queued")                                                             \
  X(RUNNING, "running")                                                           \
  X(PAUSED, "paused")                                                             \
  X(DONE, "done")                                                                 \
  X(FAILED, "failed")                                                             \
  X(TIMED_OUT, "timed_out")                                                       \
  X(CANCELLED, "cancelled")                                                       \
  X(SKIPPED, "skipped")

enum msg_state {
#define MSG_STATE_ENUM(e, word) MSG_STATE_##e,
  MSG_STATE_MAP(MSG_STATE_ENUM)
#undef MSG_STATE_ENUM
  MSG_STATE_COUNT
};

/* ---- commands: front end -> engine ---------------------------------- */

enum msg_cmd_kind {
  MSG_CMD_ADD,             /* url [output]: a new item with the run's defaults */
  MSG_CMD_PAUSE,           /* id */
  MSG_CMD_RESUME,          /* id */
  MSG_CMD_PAUSE_ALL,       /* every running item */
  MSG_CMD_RESUME_ALL,      /* every paused item */
  MSG_CMD_CANCEL,          /* id */
  MSG_CMD_RETRY,           /* id: a failed, timed-out or cancelled item */
  MSG_CMD_SET_CONCURRENCY, /* value: the new limit, >= 1 */
  MSG_CMD_SET_LIMIT,       /* id: the item, 0 = the whole run; value: bytes/s, 0 = none */
  MSG_CMD_QUIT             /* stop everything, keep .part files, then MSG_EV_STOPPED */
};

struct msg_cmd {
  struct msg_cmd *next; /* mailbox link */
  enum msg_cmd_kind kind;
  uint32_t id;
  int32_t value;
  char *url; /* owned; MSG_CMD_ADD only */
  char *output; /* owned; MSG_CMD_ADD: the file name in the run's dir, NULL = from the URL */
};

/* ---- events: engine -> front end ------------------------------------ */

/* Every event: X(ENUM, JSON "event" name or NULL when it is not part of
 * SPEC's --json stream, the state of the item once it is applied or -1
 * when it changes none).  The engine posts them; the screen, the headless
 * printer and the JSON printer all read this one table.  Fields each
 * carries:
 *   QUEUED    id name url path          START     id attempt
 *   PAUSED    id message (a warning when resume will restart)
 *   RESUMED   id (waits for a slot: queued until START)
 *   RETRY     id attempt delay_ms reason http message (still running)
 *   DONE      id path bytes seconds http
 *   FAILED    id reason http message    TIMED_OUT id reason (CONNECT|STALL|TOTAL) message
 *   CANCELLED id                        SKIPPED   id reason path
 *   DETAIL    id final_url remote_addr http t_connect t_first_byte path
 *   IDLE      every item has reached a final state
 *   STOPPED   the engine has shut down; bytes = received this run */
#define MSG_EVENT_MAP(X)                                                          \
  X(QUEUED, "queued", MSG_STATE_QUEUED)                                           \
  X(START, "start", MSG_STATE_RUNNING)                                            \
  X(PAUSED, "paused", MSG_STATE_PAUSED)                                           \
  X(RESUMED, "resumed", MSG_STATE_QUEUED)                                         \
  X(RETRY, "retry", MSG_STATE_RUNNING)                                            \
  X(DONE, "done", MSG_STATE_DONE)                                                 \
  X(FAILED, "failed", MSG_STATE_FAILED)                                           \
  X(TIMED_OUT, "timed_out", MSG_STATE_TIMED_OUT)                                  \
  X(CANCELLED, "cancelled", MSG_STATE_CANCELLED)                                  \
  X(SKIPPED, "skipped", MSG_STATE_SKIPPED)                                        \
  X(DETAIL, NULL, -1)                                                             \
  X(IDLE, NULL, -1)                                                               \
  X(STOPPED, NULL, -1)

enum msg_event_kind {
#define MSG_EVENT_ENUM(e, name, state) MSG_EV_##e,
  MSG_EVENT_MAP(MSG_EVENT_ENUM)
#undef MSG_EVENT_ENUM
  MSG_EV_COUNT
};

struct msg_event {
  struct msg_event *next; /* mailbox link */
  enum msg_event_kind kind;
  uint32_t id;
  int32_t attempt;
  int32_t http;   /* last HTTP status, 0 if none */
  int32_t reason; /* enum msg_reason */
  int64_t bytes;
  int64_t total;  /* -1: unknown */
  int64_t delay_ms;
  int64_t max_speed; /* QUEUED: the item's own limit, bytes/s, 0 = none */
  double seconds;
  double t_connect, t_first_byte; /* seconds, -1 unknown */
  /* owned, NULL when absent */
  char *name, *url, *path, *message, *final_url, *remote_addr;
};

/* ---- progress snapshot: engine -> front end, latest wins ------------- */

enum {
  MSG_SNAP_ROWS = 512,   /* active (running / paused / retry-waiting) items */
  MSG_SNAP_HOSTS = 16,   /* hosts shown in the pool figures */
  MSG_SNAP_HISTORY = 60, /* seconds of throughput history */
  MSG_SNAP_LEGS = 64,    /* connections of segmented items, listed */
  MSG_SEGMAP_CELLS = 128, /* a segmented file's map: cells of 1/128 */
  MSG_HOST_KEY = 96
};

struct msg_snap_row {
  uint32_t id;
  uint8_t state;      /* enum msg_state */
  uint8_t retrying;   /* waiting retry_in_ms before the next attempt */
  uint8_t connected;  /* has a connection (false: connecting or paused) */
  uint8_t connections; /* its connections receiving now (progress.connections) */
  uint8_t segmented;  /* its legs write ranges: segmap and legs[] describe it */
  uint8_t segmap[MSG_SEGMAP_CELLS / 8]; /* bit i: cell i of the file is on disk */
  int32_t attempt;
  int32_t retry_in_ms;
  int64_t bytes;      /* on disk or in buffers, including resumed bytes */
  int64_t total;      /* -1: unknown */
  int64_t speed;      /* bytes/s over the last ~2 s */
  int64_t max_speed;  /* the item's own limit, bytes/s, 0 = none */
};

struct msg_snap_host {
  char key[MSG_HOST_KEY]; /* scheme://host:port */
  int32_t open, in_use, limit;
  uint32_t reused, fresh; /* transfers that reused a connection / opened one */
  int32_t streams;        /* running transfers that are HTTP/2 streams */
};

/* One connection of a segmented item. */
enum msg_leg_state { MSG_LEG_CONNECTING, MSG_LEG_RECEIVING, MSG_LEG_RETRY };

struct msg_snap_leg {
  uint32_t id;        /* the item */
  uint8_t index;      /* the leg's number in the item */
  uint8_t state;      /* enum msg_leg_state */
  int64_t start, pos, stop; /* its range [start, stop) and the next byte */
  int64_t got;        /* bytes it received in this run */
  int64_t speed;      /* bytes/s */
};

struct msg_snapshot {
  uint64_t seq;
  int64_t uptime_ms;
  int64_t bytes; /* received this run, all items */
  int64_t speed; /* bytes/s now */
  uint32_t history_len;
  int64_t history[MSG_SNAP_HISTORY]; /* bytes/s per second, oldest first */
  uint32_t items, queued, running, paused, done, failed, timed_out, cancelled, skipped;
  int32_t concurrency;
  int64_t max_speed; /* the whole run's limit, bytes/s, 0 = none */
  uint8_t insecure;  /* some item does not verify TLS certificates */
  int32_t pool_open, pool_in_use, pool_idle, pool_max;
  uint32_t nhosts;
  struct msg_snap_host hosts[MSG_SNAP_HOSTS];
  uint32_t nlegs;
  struct msg_snap_leg legs[MSG_SNAP_LEGS];
  uint32_t nrows;
  struct msg_snap_row rows[MSG_SNAP_ROWS];
};

const char *msg_state_word(enum msg_state s);
/* The --json "event" name of an event, or NULL when it is not in the stream. */
const char *msg_event_name(enum msg_event_kind k);
/* The state an event puts its item in, or -1 when it changes none. */
int msg_event_state(enum msg_event_kind k);
/* 1 for the final states that make the run exit 1 (SPEC.md "Exit status"):
 * failed, timed out, cancelled. */
int msg_state_is_failure(enum msg_state s);
const char *msg_reason_text(enum msg_reason r);
/* The policy columns of MSG_REASON_MAP: the state an item ending for this
 * reason takes, whether an attempt failing for it is retried (http: the
 * status, for the STATUS rows), whether its .part stays. */
enum msg_state msg_reason_final(enum msg_reason r);
int msg_reason_transient(enum msg_reason r, int http);
int msg_reason_keeps_part(enum msg_reason r);
/* The JSON reason: "http_404" for MSG_REASON_HTTP, else the map's key.
 * buf must hold 16 bytes; the result is buf or a static string. */
const char *msg_reason_key(enum msg_reason r, int http, char *buf);
void msg_cmd_free(struct msg_cmd *c);
void msg_event_free(struct msg_event *ev);

#endif
