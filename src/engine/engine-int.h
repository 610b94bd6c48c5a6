/* engine-int.h - the engine's private structures, shared by its files:
 * engine.c (thread, loop, commands, tick, shutdown), glue.c (curl multi
 * driven by libuv), sched.c (hosts, queue, admission), xfer.c (the item's
 * state machine), attempt.c (one leg's easy handle and response),
 * headers.c (pure header parsers), stream.c (the bytes to NAME.part),
 * resume.c (the sidecar, resume decisions), seg.c (segmented downloads:
 * extra legs and their ranges), name.c (the file's name and
 * directory), outbox.c (events, states and the live list).  Engine
 * thread only, except the work functions in stream.c (and guard.c's checks
 * they run), which run on libuv's workers and touch nothing but their job. */
#ifndef SIPHON_ENGINE_INT_H
#define SIPHON_ENGINE_INT_H

#include <stdint.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <uv.h>

#include "guard.h"
#include "headers.h"
#include "ranges.h"
#include "siphon/cfg.h"
#include "siphon/mbox.h"
#include "siphon/msg.h"
#include "siphon/version.h"

enum { SPEED_SAMPLES = 21, TICK_MS = 100, ANNOUNCE_CHUNK = 512, ITEM_SLAB = 1024 };

/* One scheme://host:port: its queue of waiting items and its pool use. */
struct host {
  char key[MSG_HOST_KEY];
  struct xfer *qhead, *qtail; /* waiting items, ordered by qseq */
  int running;                /* admitted: attached, connecting or retry-waiting */
  int extra;                  /* extra legs of segmented items (seg.c) */
  int attached;               /* easy handles in curl now */
  int open;                   /* sockets open */
  int limit;                  /* per-host limit shown (the largest seen) */
  uint32_t reused, fresh;
};

/* Where an item is in its life: X(ENUM, debug name).  Only xfer_move()
 * (xfer.c) changes an admitted item's phase. */
#define XFER_PHASE_MAP(X)                                                    \
  X(QUEUED, "queued")           /* waiting for a slot, in its host's queue */ \
  X(PREPARING, "preparing")     /* holds a slot; the disk side looks at its files */ \
  X(ATTACHED, "attached")       /* its legs' easy handles are in the multi */  \
  X(RETRY_WAIT, "retry_wait")   /* between attempts, holding its slot */       \
  X(PAUSED, "paused")           /* no slot, no socket */                       \
  X(ENDING, "ending")           /* final state decided; waiting for the disk */ \
  X(FINAL, "final")

enum phase {
#define XFER_PHASE_ENUM(e, name) PH_##e,
  XFER_PHASE_MAP(XFER_PHASE_ENUM)
#undef XFER_PHASE_ENUM
  PH_COUNT
};

/* What to do once the write in flight completes. */
enum after_flush { AF_NONE, AF_FLUSH, AF_RETRY, AF_ADMIT, AF_PREPARED, AF_PAUSE, AF_FINALIZE, AF_RENAMED,
                   AF_END, AF_ENDED, AF_STOP };

/* Why the current attempt was aborted from inside a curl callback.
 * AB_ENOUGH: a segment leg has all of its (maybe shortened) range;
 * AB_REFUSED: an extra leg's answer was not a 206 for exactly its range;
 * AB_NO_NAME / AB_RESUME_NAMED: a Content-Disposition name is taken / is
 * an earlier run's .part of this item. */
enum abort_why { AB_NONE, AB_RESTART, AB_ENOUGH, AB_REFUSED, AB_NO_NAME, AB_RESUME_NAMED };

/* A leg whose response names the file (Content-Disposition): its final
 * header line is held (CURL_WRITEFUNC_PAUSE) while a disk worker looks at
 * the name (NAMING_WAIT), then curl hands it over again (NAMING_DONE). */
enum leg_naming { NAMING_NONE, NAMING_WAIT, NAMING_DONE };

/* A leg of a segmented item (seg.c). */
enum leg_state { LEG_IDLE, LEG_RUN, LEG_WAIT };

/* One connection of an item: an easy handle with its byte range and what
 * its current response said.  An item has nlegs of them (one, or up to
 * `segments` for a segmented download, seg.c).  curl's PRIVATE and callback data point
 * here; leg->x is the item. */
struct leg {
  struct xfer *x;
  CURL *easy;
  struct curl_slist *req_headers;
  char errbuf[CURL_ERROR_SIZE];
  int64_t start;               /* first byte asked for (Range) */
  int64_t end;                 /* last byte asked for, -1 to the end */
  struct headers resp;         /* the current response's headers */
  int body_ok;                 /* the final response is a 2xx we write */
  int headers_seen;
  enum abort_why abort;
  int write_paused;            /* we returned CURL_WRITEFUNC_PAUSE */
  int limit_paused;            /* ... because a speed limit's budget was spent */
  uint8_t naming;              /* enum leg_naming: its headers wait for the disk */
  double limit_own;            /* this leg's share of the run's budget (limit.c) */
  int connected;
  uint64_t last_rx;            /* last body byte, or when connected (uv_now ms) */
  /* --log: this response's header lines, logged as one */
  char logline[1024];
  size_t loglen;
  /* segmented downloads (seg.c) */
  int64_t pos, stop;           /* next byte it receives; end of its range (exclusive) */
  char *fill;                  /* its buffer in the item's write-behind, or NULL */
  size_t fill_len;
  int64_t fill_off;            /* where fill's first byte goes */
  uint8_t lstate;              /* enum leg_state */
  uint8_t extra;               /* holds an extra connection of its host */
  int tries;                   /* failures of its current range */
  uint64_t retry_at;
  int64_t got, sample_got;     /* bytes it received; at the last speed sample */
  int64_t speed;
  size_t rx_extra;             /* shared bytes its receive buffer borrows (stream.c) */
  size_t rx_size;              /* its handle's CURLOPT_BUFFERSIZE */
};

/* A buffer of the write-behind and how many bytes it holds. */
struct piece {
  char *buf;
  size_t len;
  int64_t off;                 /* where it goes in the file */
};

/* The write-behind of one item (stream.c).  Engine thread only; the job in
 * flight is shared with a worker through its atomics. */
struct stream {
  size_t cap;                  /* buffer_size */
  char *fill;                  /* the buffer being filled, or NULL */
  size_t fill_len;
  struct piece *queued;        /* full buffers waiting for a job, each with its offset */
  int nqueued, qcap;
  size_t queued_bytes;
  int64_t queued_off;          /* file offset of fill's first byte (legs have their own) */
  int nbufs;                   /* buffers held: fill + queued + the job's not taken back */
  struct job *job;             /* the one job in flight, or NULL */
  int reclaimed;               /* pieces of that job taken back */
  int job_err;                 /* errno from the last job */
  unsigned char job_digest[32];
  int job_hash_file;           /* the last job hashed the whole file */
  int job_named;               /* the last job looked at a server's name */
  void (*written)(struct xfer *x); /* a job's outcome is in (the owner's callback) */
  const char *job_err_path;    /* the path the failed step names */
  int job_refused;             /* the open refused the .part: busy or not a regular file */
  /* file operations the next job does, in this order, on the worker */
  int opened;                  /* NAME.part is (or is being) opened */
  int open_pending;            /* open it */
  int trunc_pending;           /* truncate it (a fresh start) */
  int meta_pending;            /* store the sidecar */
  int close_pending;           /* close it once everything is written */
  const char *rename_to;       /* then rename it here (and drop the sidecar) */
  int split_pending;           /* a split: store the sidecar first, preallocate (seg.c) */
};

/* The heavy state of an item that has been admitted at least once; queued
 * items carry none of it (a queue of 20,000 URLs stays small). */
struct xrun {
  struct leg *legs;
  int nlegs;
  char *name;                  /* final file name (relative, safe) */
  char *final_path, *part_path, *meta_path;
  int fd;                      /* .part, -1 until the first 2xx body */
  struct stream st;
  enum after_flush after;
  struct guard_prep *prep;     /* what the disk side found before this attempt */
  int prep_admit;              /* ... and whether it was the admission's checks */
  int part_absent;             /* ... no NAME.part then (its open may use O_EXCL) */
  struct guard_name *naming;   /* a server's name being looked at on disk (name.c) */
  int name_rc;                 /* ... and the answer for the waiting leg */
  EVP_MD_CTX *sha;
  int sha_from_zero;           /* every byte went through sha since offset 0 */
  int hashed;                  /* whole-file hash job done */
  int truncate;                /* the next open truncates: a fresh start */
  int resumed_ever, checksum_retried;
  int meta_written;            /* this response's sidecar is written */
  char *etag, *last_modified;  /* validator of the file on disk */
  int accept_ranges;
  /* redirects are followed here, not by curl (SPEC: headers stay with
     their host): the URL of this request, how many hops, and whether it is
     another scheme/host/port than the user's URL */
  char *cur_url;
  int redirects;
  int foreign;
  int hands_off;               /* the .part or its sidecar is not ours to touch */
  uint64_t retry_at;
  /* whole-item clock: ms used in earlier running spans + current span start
     (a failed item's retry starts a new run at 0) */
  uint64_t run_used_ms, run_since;
  /* speed ring, one sample per tick */
  int64_t samples[SPEED_SAMPLES];
  uint64_t sample_t[SPEED_SAMPLES];
  int nsamples, sample_pos;
  /* segmented downloads (seg.c) */
  int seg;                     /* legs write at their own offsets */
  int seg_refused;             /* an extra leg got a wrong answer: no more extra legs */
  int meta_dirty;              /* missing changed since the last sidecar */
  uint64_t meta_at;            /* when the last sidecar went with a write */
  int64_t piece;               /* the size of a leg's share */
  struct ranges missing;       /* bytes not yet on disk (the sidecar's record) */
  struct ranges todo;          /* bytes no leg is fetching */
  /* pending end */
  enum msg_state end_state;
  enum msg_reason end_reason;
  char *end_message;
};

/* One item.  Every queued URL has one, so it is kept small: the state of a
 * running transfer lives in struct xrun, allocated when it is admitted. */
struct xfer {
  struct engine *eng;           /* its cfg_item: item_spec(), found from the id */
  struct host *host;
  struct xfer *qnext, *qprev;  /* host queue */
  struct xfer *lnext, *lprev;  /* live list: admitted or paused */
  struct xrun *run;
  int64_t bytes;               /* bytes of the file (on disk + buffered) */
  int64_t total;               /* -1 unknown */
  uint32_t qseq;               /* queue order, wrapping: compared by sched_before() */
  uint32_t id;
  int32_t attempt;             /* 1-based; retries used = attempt - 1 */
  int16_t http;
  uint16_t state : 4;          /* enum msg_state: what the user sees */
  uint16_t phase : 4;          /* enum phase */
  uint16_t owns_spec : 1, live : 1; /* owns_spec: an added item (engine->added) */
  uint16_t draining : 2;       /* a cancelled run's files are being tidied (xfer.c);
                                  2: and a retry waits for that */
};

/* Every queued URL has a struct xfer: keep it from growing back (issue 9). */
_Static_assert(sizeof(struct xfer) <= 88, "struct xfer is per queued item: keep it <= 88 bytes");
_Static_assert(MSG_STATE_COUNT <= 16 && PH_COUNT <= 16, "state and phase are 4-bit fields of struct xfer");

/* At most this many finished legs' easy handles are kept for reuse (and
 * never more than max_connections). */
#define EASY_POOL_MAX 64

struct engine {
  const struct cfg_plan *plan;
  struct cfg_run run;          /* live copy: concurrency changes */
  struct mbox *mb;
  uv_thread_t thread;
  uv_loop_t loop;
  uv_async_t wake;
  uv_timer_t curl_timer;
  uv_timer_t tick;
  uv_idle_t announcer;         /* announces the plan's items a chunk at a time */
  size_t announced;            /* plan items announced so far */
  CURLM *multi;
  void (*leg_done)(struct leg *l, CURLcode rc); /* glue.c reports a finished leg */
  void (*open_extra_legs)(struct engine *e); /* glue.c, after a socket action that split a file */
  void (*item_ended)(struct engine *e); /* xfer.c reports an item's final state */
  /* The calls back up that engine.c hands down, so every call between the
     engine's files goes one way (check-deps): */
  size_t (*split_write)(struct leg *l, const char *ptr, size_t len); /* stream.c: seg_write */
  int (*split_headers)(struct leg *l);                        /* attempt.c: seg_on_headers */
  void (*split_consider)(struct xfer *x, struct leg *l, int64_t start); /* attempt.c: seg_consider */
  void (*item_failed)(struct xfer *x, enum msg_reason why, const char *message); /* seg.c */
  void (*item_restart)(struct xfer *x);                       /* seg.c: xfer_restart */
  void (*item_complete)(struct xfer *x);                      /* seg.c: xfer_complete */
  void (*slots_freed)(struct engine *e);                      /* seg.c: xfer_pump */
  CURL *pruner;                /* a handle that never connects: makes curl prune */
  struct curl_slist *pruner_resolve;
  int pruner_attached;
  CURL *easy_pool[EASY_POOL_MAX]; /* reset easy handles kept for the next leg (attempt.c) */
  size_t easy_pool_rx[EASY_POOL_MAX]; /* the CURLOPT_BUFFERSIZE each had */
  int easy_pooled;
  struct xfer **slabs;         /* items, ITEM_SLAB per slab, in id order */
  size_t nitems;
  struct cfg_item **added;     /* the specs of items after the plan's (owned), in id order */
  struct host **hosts;
  size_t nhosts;
  struct xfer *live_head;
  size_t nstate[MSG_STATE_COUNT]; /* items in each state: the snapshot's counts */
  uint32_t qseq_back, qseq_front; /* wrap: see sched_before() */
  int running;                 /* admitted items */
  int extra;                   /* extra legs of segmented items, all hosts */
  int seg_kick;                /* an item split: open its extra legs after this socket action */
  int stopping;
  int thread_started;
  int pumping;
  int stopped_posted;
  int draining;                /* cancelled runs still on the disk side (xfer.c) */
  int idle_posted;
  uint64_t started_ms;
  int64_t bytes_total;         /* received this run */
  int64_t tot_samples[SPEED_SAMPLES];
  uint64_t tot_sample_t[SPEED_SAMPLES];
  int tot_n, tot_pos;
  int64_t history[MSG_SNAP_HISTORY];
  int history_len;
  int64_t history_mark;        /* bytes_total at the last second boundary */
  uint64_t history_t;
  uint64_t last_prune;
  uint64_t seq;
  /* sockets we opened: fd -> host index + 1 (0 = not ours), and the poll
     handle kept for it across pauses (glue.c) */
  int *sock_host;
  struct sockctx **sock_ctx;
  size_t sock_cap;
  int pool_open;
  char *last_dir;              /* the directory xfer.c made last */
  struct nameset *names;       /* every item's path, once a server names a file (name.c) */
  const char *dir_checked;     /* the item dir (plan-interned) that passed the guards last */
  char **bufpool;              /* free transfer buffers of bufpool_size */
  size_t bufpool_n, bufpool_cap, bufpool_size;
  size_t wb_shared;            /* bytes of buffers held beyond each stream's own */
  size_t rx_lent;              /* shared bytes lent to curl's receive buffers */
  uv_idle_t disk_idle;         /* sends the flush jobs of one loop iteration */
  struct job *disk_pending, **disk_pending_tail;
  int64_t maxage_s, maxlife_s; /* CURLOPT_MAXAGE_CONN, CURLOPT_MAXLIFETIME_CONN */
  struct limit *limit;         /* the run's speed limit (limit.c) */
  int insecure;                /* some item does not verify certificates */
};

/* An item's cfg_item, found from its id (ids count from 1): the plan's
 * items first, then the added ones; not stored in the item (issue 9). */
static inline struct cfg_item *item_spec(const struct xfer *x)
{
  size_t i = x->id - 1;
  const struct engine *e = x->eng;
  return i < e->plan->nitems ? &e->plan->items[i] : e->added[i - e->plan->nitems];
}

/* The sha256 an item's file must have, or NULL (an added item has none). */
static inline const char *item_sha256(const struct xfer *x)
{
  return cfg_plan_sha256(x->eng->plan, x->id - 1);
}

/* outbox.c - events out, user-visible states and their counts, the live
 * list: the bottom of the engine (the parts call down into it, never up
 * into engine.c) */
struct msg_event *outbox_event(enum msg_event_kind kind, uint32_t id);
void outbox_post(struct engine *e, struct msg_event *ev);
void outbox_set_state(struct xfer *x, int state);
void outbox_live_add(struct engine *e, struct xfer *x);
void outbox_live_remove(struct engine *e, struct xfer *x);

/* glue.c */
int glue_init(struct engine *e);
/* easy's PRIVATE must be its struct leg. */
int glue_attach(struct engine *e, CURL *easy);
int glue_detach(struct engine *e, CURL *easy); /* 0, or -1: curl kept it */
void glue_close_polls(struct engine *e);
void glue_prune_idle(struct engine *e);
/* Our open/close socket callbacks on an easy handle; OPENSOCKETDATA must be
 * the struct leg. */
void glue_set_socket_callbacks(struct engine *e, CURL *easy);

/* sched.c */
struct host *sched_host(struct engine *e, const char *url);
void sched_enqueue(struct engine *e, struct xfer *x, int front);
void sched_dequeue(struct xfer *x);
struct xfer *sched_next(struct engine *e);
int64_t sched_backoff_ms(int retry_no);
void sched_release(struct engine *e, struct xfer *x);

/* xfer.c - the item's state machine */
const char *xfer_phase_name(enum phase ph);
uint64_t xfer_now(const struct xfer *x);
void xfer_pump(struct engine *e);
void xfer_leg_done(struct leg *l, CURLcode rc);
void xfer_tick(struct xfer *x, uint64_t now);
void xfer_pause(struct xfer *x);
void xfer_resume(struct xfer *x);
void xfer_cancel(struct xfer *x);
void xfer_retry_cmd(struct xfer *x);
void xfer_stop(struct xfer *x);
void xfer_free(struct xfer *x);
int64_t xfer_speed(const struct xfer *x);
int xfer_retry_in_ms(const struct xfer *x, uint64_t now);
int xfer_connected(const struct xfer *x);
int xfer_connections(const struct xfer *x);

/* limit.c: token buckets for --max-speed and max_speed */
struct limit;
int limit_init(struct engine *e);
void limit_free(struct engine *e);
int limit_write(struct leg *l);
void limit_took(struct leg *l, size_t len);
void limit_tick(struct engine *e, uint64_t now);
void limit_set(struct engine *e, struct xfer *x, int64_t rate);
int64_t limit_rate(const struct engine *e, const struct xfer *x);

/* netopt.c: proxy, TLS, netrc, HTTP/2 on a handle; the snapshot's part */
void netopt_multi(struct engine *e);
void netopt_apply(struct xfer *x, CURL *c);
void netopt_release(struct xfer *x);
void netopt_snapshot(struct engine *e, struct msg_snapshot *s);

/* attempt.c - one attempt of one leg: its easy handle and its response */
int attempt_prepare(struct leg *l, int64_t start, int64_t end);
void attempt_detach(struct leg *l);
/* The disk's answer about a server's name is in: the held headers go on. */
void attempt_named(struct xfer *x);
void attempt_pool_free(struct engine *e);
enum msg_reason attempt_reason(CURLcode rc);
/* A 3xx's target, to be followed by the caller: 0 and *url (malloc'd),
 * 1 when the response is not a redirect. */
int attempt_redirect_url(struct leg *l, char **url);
/* 1 if a and b differ in scheme, host or port (SPEC "another host"). */
int attempt_other_origin(const char *a, const char *b);

/* stream.c - the item's bytes on their way to NAME.part (write-behind and
 * its disk workers) */
/* What stays of an ended item's .part (resume_tidy_plan decides, a worker
 * does it): nothing to do; remove it and its sidecar; keep it (an empty
 * one goes) and store its sidecar. */
enum stream_tidy { TIDY_NONE, TIDY_DROP, TIDY_KEEP };
int stream_end(struct xfer *x, enum stream_tidy tidy, char *text);
void stream_prepare(struct xfer *x, struct guard_prep *p);
/* A worker looks at the candidates of a server's name (guard_name_probe). */
void stream_name_probe(struct xfer *x, struct guard_name *g);
void stream_hand_over(struct xfer *x, struct xfer *to, void (*written)(struct xfer *x));
void stream_init(struct xfer *x, void (*written)(struct xfer *x));
void stream_free(struct xfer *x);
size_t stream_write_cb(char *ptr, size_t size, size_t n, void *userp);
size_t stream_rx_size(struct leg *l);
void stream_rx_release(struct leg *l);
void stream_open(struct xfer *x);
int stream_close(struct xfer *x);
void stream_later(struct xfer *x, int close_file, int save_meta);
void stream_finish_later(struct xfer *x, const char *rename_to);
int stream_busy(const struct xfer *x);
int stream_has_pending(const struct xfer *x);
void stream_discard(struct xfer *x);
void stream_rewind(struct xfer *x, int64_t off);
void stream_flush(struct xfer *x);
void stream_tick(struct xfer *x);
void stream_submit_hash(struct xfer *x);
size_t stream_write_at(struct leg *l, const char *ptr, size_t len);
void stream_leg_tail(struct leg *l);
void stream_split(struct xfer *x);
void stream_loop_init(struct engine *e);

/* resume.c - the sidecar and every decision about where a file resumes */
int resume_decide(struct xfer *x, struct guard_prep *p, char *msg, size_t msglen);
int64_t resume_on_response(struct xfer *x, struct leg *l, int64_t content_length, int *rewind);
int resume_meta_wanted(struct xfer *x);
char *resume_meta_text(const struct xfer *x);
int resume_write_file(const char *path, const char *text);
enum stream_tidy resume_tidy_plan(const struct xfer *x, enum msg_state st, char **text);

/* seg.c - segmented downloads: several legs, each with its byte range */
void seg_setup(struct xfer *x);
void seg_free(struct xfer *x);
void seg_consider(struct xfer *x, struct leg *l, int64_t start);
int seg_on_headers(struct leg *l);
size_t seg_write(struct leg *l, const char *ptr, size_t len);
void seg_leg_done(struct leg *l, CURLcode rc);
int seg_begin(struct xfer *x);
void seg_tick(struct xfer *x, uint64_t now);
void seg_stop_legs(struct xfer *x);
void seg_reset(struct xfer *x);
int seg_yield(struct engine *e);
void seg_kick(struct engine *e);
void seg_snapshot(const struct xfer *x, struct msg_snap_row *row, struct msg_snapshot *s);

/* name.c - where the item's file goes */
void name_init(struct xfer *x);
void name_set(struct xfer *x, const char *name);
enum { NAME_RESUME = 1, NAME_AGAIN = 2 };
int name_probe_start(struct xfer *x, const struct headers *resp, struct guard_name **out);
int name_probe_done(struct xfer *x, struct guard_name *g);
/* This item's path is taken (once the run's set of names exists). */
void name_claim(struct xfer *x);
void name_free_all(struct engine *e);
/* A URL added while running (`a`) whose file another item of the run
 * writes is named the next free stem.N.ext (name and output). */
void name_for_added(struct engine *e, struct cfg_item *it);

/* xfer.c - seg.c's ways back into the state machine */
void xfer_leg_failed_item(struct xfer *x, enum msg_reason why, const char *message);
void xfer_restart(struct xfer *x);
void xfer_complete(struct xfer *x);

#endif
