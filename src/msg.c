/* msg.c - names of the protocol's reasons and states, and freeing messages.
 * Plain data; used by every thread. */
#include <stdio.h>
#include <stdlib.h>

#include "siphon/msg.h"

static const char *const state_words[] = {
#define STATE_WORD(e, word) word,
    MSG_STATE_MAP(STATE_WORD)
#undef STATE_WORD
};

static const char *const reason_keys[] = {
#define REASON_KEY(e, key, text, final, transient, keep) key,
    MSG_REASON_MAP(REASON_KEY)
#undef REASON_KEY
};

static const char *const reason_texts[] = {
#define REASON_TEXT(e, key, text, final, transient, keep) text,
    MSG_REASON_MAP(REASON_TEXT)
#undef REASON_TEXT
};

static const unsigned char reason_final[] = {
#define REASON_FINAL(e, key, text, final, transient, keep) MSG_STATE_##final,
    MSG_REASON_MAP(REASON_FINAL)
#undef REASON_FINAL
};

static const unsigned char reason_transient[] = {
#define REASON_TRANSIENT(e, key, text, final, transient, keep) MSG_RETRY_##transient,
    MSG_REASON_MAP(REASON_TRANSIENT)
#undef REASON_TRANSIENT
};

static const unsigned char reason_keep[] = {
#define REASON_KEEP(e, key, text, final, transient, keep) keep,
    MSG_REASON_MAP(REASON_KEEP)
#undef REASON_KEEP
};

enum msg_state msg_reason_final(enum msg_reason r)
{
  return (unsigned)r < MSG_REASON_COUNT ? (enum msg_state)reason_final[r] : MSG_STATE_FAILED;
}

int msg_reason_transient(enum msg_reason r, int http)
{
  if ((unsigned)r >= MSG_REASON_COUNT)
    return 0;
  switch (reason_transient[r]) {
  case MSG_RETRY_YES:
    return 1;
  case MSG_RETRY_STATUS:
    return http == 408 || http == 429 || http >= 500;
  default:
    return 0;
  }
}

int msg_reason_keeps_part(enum msg_reason r)
{
  return (unsigned)r < MSG_REASON_COUNT && reason_keep[r];
}

const char *msg_state_word(enum msg_state s)
{
  return (unsigned)s < MSG_STATE_COUNT ? state_words[s] : "?";
}

int msg_state_is_failure(enum msg_state s)
{
  return s == MSG_STATE_FAILED || s == MSG_STATE_TIMED_OUT || s == MSG_STATE_CANCELLED;
}

const char *msg_reason_text(enum msg_reason r)
{
  return (unsigned)r < MSG_REASON_COUNT ? reason_texts[r] : "?";
}

const char *msg_reason_key(enum msg_reason r, int http, char *buf)
{
  if (r == MSG_REASON_HTTP && http > 0) {
    snprintf(buf, 16, "http_%d", http);
    return buf;
  }
  return (unsigned)r < MSG_REASON_COUNT ? reason_keys[r] : "internal";
}

void msg_cmd_free(struct msg_cmd *c)
{
  if (!c)
    return;
  free(c->url);
  free(c);
}

void msg_event_free(struct msg_event *ev)
{
  if (!ev)
    return;
  free(ev->name);
  free(ev->url);
  free(ev->path);
  free(ev->message);
  free(ev->final_url);
  free(ev->remote_addr);
  free(ev);
}
