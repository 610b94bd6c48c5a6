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
  int file_path;  /* path is the file's (from DETAIL/DONE/SKIPPED), not yet just its dir */
  int32_t retry_in_ms;
  int64_t bytes, total, speed;
  int64_t max_speed; /* the item's own limit, bytes/s, 0 = none */
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
  UI_MODE_ADD,         /* the URL prompt */
  UI_MODE_FILTER,      /* the / prompt: text to look for in names and URLs */
  UI_MODE_LIMIT        /* the speed-limit prompt (l: the run, L: an item) */
};

/* s cycles the order of the list. */
enum ui_sort { UI_SORT_QUEUE, UI_SORT_STATE, UI_SORT_PROGRESS, UI_SORT_SPEED, UI_SORT_NAME,
               UI_SORT_COUNT };
/* f cycles which states the list shows. */
enum ui_show { UI_SHOW_ALL, UI_SHOW_ACTIVE, UI_SHOW_FAILED, UI_SHOW_DONE, UI_SHOW_COUNT };

/* The smallest terminal the screen draws a frame in. */
enum { UI_MIN_COLS = 50, UI_MIN_ROWS = 12 };

enum ui_confirm { UI_CONFIRM_CANCEL, UI_CONFIRM_QUIT };

enum { UI_URL_MAX = 4096, UI_FILTER_MAX = 256 };

struct ui {
  struct mbox *mb;
  struct ui_item *items; /* items[id - 1] */
  size_t nitems, cap;
  uint32_t sel_id;       /* the selected item, 0 = none */
  size_t top;            /* first row shown (a position in the display order) */
  int follow;            /* keep the running items in view; off once the user moves */
  enum ui_sort sort;
  enum ui_show show;
  char filter[UI_FILTER_MAX]; /* text looked for in names and URLs, "" = none */
  char filter_old[UI_FILTER_MAX]; /* restored when the / prompt is left with Esc */
  uint32_t *order;       /* item indices in display order; NULL = every item, queue order */
  size_t norder, order_cap;
  int order_dirty;       /* items, sort or filter changed since order was built */
  int help_top;          /* first line of the help overlay shown */
  const char *dir;       /* the run's --dir, for `a` */
  int overwrite, ring_bell;
  int rang;              /* the bell rang for this finish */
  int64_t start_ms, end_ms; /* the run's start; when all finished (0 = not) */
  int64_t run_bytes;     /* received this run, from MSG_EV_STOPPED */
  int list_rows;         /* rows the list had at the last paint */
  struct msg_snapshot snap;
  int have_snap;
  int utf8;
  int detail;            /* the detail pane is open */
  enum ui_mode mode;
  enum ui_confirm confirm;
  uint32_t confirm_id;
  wchar_t url[UI_URL_MAX]; /* the add (or limit) prompt's line */
  uint32_t limit_id;     /* UI_MODE_LIMIT: the item, 0 = the whole run */
  size_t url_len, url_cur;
  char prompt_err[160];  /* why the add prompt did not take the line ("" = none) */
  char status[256];      /* a one-line note at the bottom (errors, hints) */
  int quit;              /* the user or a signal asked to quit */
  int status_130;        /* quit with work unfinished */
  int stopped;           /* MSG_EV_STOPPED arrived */
  int idle;              /* MSG_EV_IDLE arrived and nothing changed since */
};

/* Counts of items by state, from the screen's own table. */
struct model_counts {
  size_t n[MSG_STATE_COUNT];
  size_t retrying, total;
};

/* ui.c: the loop */
int64_t ui_now_ms(void);
void ui_set_status(struct ui *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* model.c: the item table, the counts, the display order */
void model_apply_event(struct ui *u, const struct msg_event *ev);
/* 1 if anything the screen shows changed. */
int model_apply_snapshot(struct ui *u, const struct msg_snapshot *s);
void model_free(struct ui *u);
void model_counts(const struct ui *u, struct model_counts *c);
int model_unfinished(const struct ui *u);
struct ui_item *model_selected(struct ui *u);
/* Rows the list shows now (after the filter), and the item of row i. */
size_t model_rows(struct ui *u);
struct ui_item *model_row_item(struct ui *u, size_t i);
/* The row of an item id in the display order, or -1 when filtered out. */
long model_row_of(struct ui *u, uint32_t id);
/* Rebuild the display order if items, sort or filter changed. */
void model_order(struct ui *u);
const char *model_sort_word(enum ui_sort s);
const char *model_show_word(enum ui_show s);

/* draw.c: helpers of every view */
/* Write s into exactly width columns at (y, x) in a role's colours. */
void draw_put(int y, int x, int width, enum theme_role role, const char *s, int utf8);
const char *draw_state_word(enum msg_state s);
enum theme_role draw_state_role(enum msg_state s);

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
/* 1 while a prompt owns the bottom line and the keys (every mode but the
 * list and the help: a y/n question or a line being typed). */
int prompt_active(const struct ui *u);
int prompt_key(struct ui *u, int is_key_code, wint_t ch);
void prompt_ask(struct ui *u, enum ui_confirm what, uint32_t id);
void prompt_add_open(struct ui *u);
void prompt_filter_open(struct ui *u);
/* l / L: ask for a speed limit of the run (id 0) or of item id. */
void prompt_limit_open(struct ui *u, uint32_t id);

/* keys.c: the one key table. */
int keys_dispatch(struct ui *u, int is_key_code, wint_t ch);
void keys_help_draw(struct ui *u, int rows, int cols);
/* A key while the help is shown: scroll it, or close it. */
int keys_help_key(struct ui *u, int is_key_code, wint_t ch);
/* "? help  q quit ..." for the bottom line. */
const char *keys_hint(void);

#endif
