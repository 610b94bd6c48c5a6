/* src/ui/ui-int.h - the screen's private state, shared by the views of
 * src/ui/ (ui-private; main thread only). */
#ifndef SIPHON_UI_INT_H
#define SIPHON_UI_INT_H

#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#include "siphon/mbox.h"
#include "siphon/msg.h"
#include "theme.h"

/* One item as the screen knows it, built from events and snapshot rows. */
struct ui_item {
  uint32_t id; /* 0: not announced yet */
  enum msg_state state;
  char *name, *url, *path, *final_url, *remote_addr, *message;
  int http, attempt, reason;
  int retries;    /* MSG_EV_RETRY events seen */
  int retrying;   /* from the snapshot: waiting for the next attempt */
  int retry_reason;
  int32_t retry_in_ms;
  int64_t bytes, total, speed;
  double seconds, t_connect, t_first_byte;
  int connections;  /* receiving now (from the snapshot) */
  int segmented;    /* segmap holds its map (from the snapshot) */
  unsigned char segmap[MSG_SEGMAP_CELLS / 8];
};

/* What a key handler asks the loop to do next. */
enum {
  UI_REDRAW = 1,   /* repaint at the next frame */
  UI_CLEAR = 2     /* repaint everything from scratch (resize, overlay gone) */
};

enum ui_mode {
  UI_MODE_LIST,        /* the list, keys go through the key table */
  UI_MODE_HELP,        /* the ? overlay; any key closes it */
  UI_MODE_CONFIRM,     /* a y/n question */
  UI_MODE_ADD          /* the URL prompt */
};

enum ui_confirm { UI_CONFIRM_CANCEL, UI_CONFIRM_QUIT };

enum { UI_URL_MAX = 4096 };

struct ui {
  struct mbox *mb;
  struct ui_item *items; /* items[id - 1] */
  size_t nitems, cap;
  uint32_t sel_id;       /* the selected item, 0 = none */
  size_t top;            /* first row shown */
  int list_rows;         /* rows the list had at the last paint */
  struct msg_snapshot snap;
  int have_snap;
  int utf8;
  int detail;            /* the detail pane is open */
  enum ui_mode mode;
  enum ui_confirm confirm;
  uint32_t confirm_id;
  wchar_t url[UI_URL_MAX]; /* the add prompt's line */
  size_t url_len, url_cur;
  char status[256];      /* a one-line note at the bottom (errors, hints) */
  int quit;              /* the user or a signal asked to quit */
  int status_130;        /* quit with work unfinished */
  int stopped;           /* MSG_EV_STOPPED arrived */
  int idle;              /* MSG_EV_IDLE arrived and nothing changed since */
};

/* Counts of items by state, from the screen's own table. */
struct ui_counts {
  size_t n[MSG_STATE_COUNT];
  size_t retrying, total;
};

/* ui.c */
void ui_counts(const struct ui *u, struct ui_counts *c);
int ui_unfinished(const struct ui *u);
struct ui_item *ui_selected(struct ui *u);
void ui_set_status(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *ui_state_word(enum msg_state s);
/* Write s into exactly width columns at (y, x) in a role's colours. */
void ui_put(int y, int x, int width, enum theme_role role, const char *s, int utf8);
enum theme_role ui_state_role(enum msg_state s);

/* header.c: the top lines; returns how many it used. */
int header_draw(struct ui *u, int y, int width);
int header_height(const struct ui *u, int width);

/* listview.c */
void listview_draw(struct ui *u, int y, int height, int width);
/* Move the selection by delta rows (clamped); to the ends with +-huge. */
int listview_move(struct ui *u, long delta);
int listview_page(const struct ui *u);
/* PgUp/PgDn: the view and the selection move a page (dir -1 or +1). */
int listview_scroll_page(struct ui *u, int dir);

/* detail.c */
int detail_height(const struct ui *u, int screen_rows);
void detail_draw(struct ui *u, int y, int height, int width);

/* prompt.c: the bottom line in CONFIRM/ADD mode, and their keys. */
void prompt_draw(struct ui *u, int y, int width);
int prompt_key(struct ui *u, int is_key_code, wint_t ch);
void prompt_ask(struct ui *u, enum ui_confirm what, uint32_t id);
void prompt_add_open(struct ui *u);

/* keys.c: the one key table. */
int keys_dispatch(struct ui *u, int is_key_code, wint_t ch);
void keys_help_draw(struct ui *u, int rows, int cols);
/* "? help  q quit ..." for the bottom line. */
const char *keys_hint(void);

#endif
