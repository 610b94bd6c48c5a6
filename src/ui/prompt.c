/* prompt.c - the bottom-line prompts: y/n questions (cancel an item, quit
 * with work unfinished) and the add-a-URL line with editing (left, right,
 * home, end, backspace, delete, ^U, ^A, ^E; Enter sends, Esc cancels).
 * Key handlers send commands and return a redraw mask.  Main thread. */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "fmt.h"
#include "siphon/size.h"
#include "ui-int.h"

enum { K_CTRL_A = 1, K_CTRL_E = 5, K_BS = 8, K_CTRL_U = 21, K_ESC = 27, K_DEL = 127 };

void prompt_ask(struct ui *u, enum ui_confirm what, uint32_t id)
{
  u->mode = UI_MODE_CONFIRM;
  u->confirm = what;
  u->confirm_id = id;
}

void prompt_add_open(struct ui *u)
{
  u->mode = UI_MODE_ADD;
  u->url_len = u->url_cur = 0;
  u->url[0] = L'\0';
}

void prompt_limit_open(struct ui *u, uint32_t id)
{
  prompt_add_open(u);
  u->mode = UI_MODE_LIMIT;
  u->limit_id = id;
}

/* Send the typed SIZE as a SET_LIMIT command; a bad one is a note. */
static void limit_send(struct ui *u)
{
  char buf[64];
  u->url[u->url_len] = L'\0';
  size_t n = u->url_len < 32 ? wcstombs(buf, u->url, sizeof buf) : (size_t)-1;
  uint64_t v;
  if (n == (size_t)-1 || size_parse(buf, &v) < 0 || v > INT32_MAX) {
    ui_set_status(u, "not a speed: give bytes/s like 2M, 500K, or 0 for none");
    return;
  }
  mbox_send(u->mb, MSG_CMD_SET_LIMIT, u->limit_id, (int32_t)v, NULL);
  char a[64];
  struct ui_item *it =
      u->limit_id && u->limit_id <= u->nitems ? &u->items[u->limit_id - 1] : NULL;
  if (it)
    it->max_speed = (int64_t)v; /* at once; the snapshot confirms it */
  else if (!u->limit_id)
    u->snap.max_speed = (int64_t)v;
  if (v)
    ui_set_status(u, "limit of %s: %s", it ? it->name : "the run", fmt_speed(a, sizeof a, (int64_t)v));
  else
    ui_set_status(u, "no limit for %s", it ? it->name : "the run");
}

static int confirm_key(struct ui *u, wint_t ch)
{
  u->mode = UI_MODE_LIST;
  if (ch != L'y' && ch != L'Y')
    return UI_REDRAW; /* n, Esc or anything else: leave things be */
  if (u->confirm == UI_CONFIRM_CANCEL) {
    mbox_send(u->mb, MSG_CMD_CANCEL, u->confirm_id, 0, NULL);
  } else {
    u->quit = 1;
    u->status_130 = ui_unfinished(u);
  }
  return UI_REDRAW;
}

/* Send the typed URL (as a multibyte string) as an ADD command. */
static void add_send(struct ui *u)
{
  char buf[UI_URL_MAX * 4 + 1];
  u->url[u->url_len] = L'\0';
  size_t n = wcstombs(buf, u->url, sizeof buf);
  if (n == (size_t)-1 || n == 0)
    return;
  /* Trim the blanks a paste tends to bring along. */
  char *s = buf;
  while (*s == ' ' || *s == '\t')
    s++;
  size_t l = strlen(s);
  while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
    s[--l] = '\0';
  if (!*s)
    return;
  mbox_send(u->mb, MSG_CMD_ADD, 0, 0, s);
  ui_set_status(u, "added %s", s);
}

static int add_key(struct ui *u, int is_code, wint_t ch)
{
  if (is_code) {
    switch (ch) {
    case KEY_LEFT:
      if (u->url_cur > 0)
        u->url_cur--;
      break;
    case KEY_RIGHT:
      if (u->url_cur < u->url_len)
        u->url_cur++;
      break;
    case KEY_HOME:
      u->url_cur = 0;
      break;
    case KEY_END:
      u->url_cur = u->url_len;
      break;
    case KEY_BACKSPACE:
      goto backspace;
    case KEY_DC:
      goto delete;
    case KEY_ENTER:
      goto enter;
    default:
      break;
    }
    return UI_REDRAW;
  }
  switch (ch) {
  case L'\r':
  case L'\n':
  enter:
    if (u->mode == UI_MODE_LIMIT)
      limit_send(u);
    else
      add_send(u);
    u->mode = UI_MODE_LIST;
    return UI_REDRAW;
  case K_ESC:
    u->mode = UI_MODE_LIST;
    return UI_REDRAW;
  case K_CTRL_A:
    u->url_cur = 0;
    return UI_REDRAW;
  case K_CTRL_E:
    u->url_cur = u->url_len;
    return UI_REDRAW;
  case K_CTRL_U: /* like readline: drop everything before the cursor */
    memmove(u->url, u->url + u->url_cur, (u->url_len - u->url_cur) * sizeof u->url[0]);
    u->url_len -= u->url_cur;
    u->url_cur = 0;
    return UI_REDRAW;
  case K_BS:
  case K_DEL:
  backspace:
    if (u->url_cur == 0)
      return 0;
    u->url_cur--;
    /* fall through: delete the character now under the cursor */
  delete:
    if (u->url_cur < u->url_len) {
      memmove(u->url + u->url_cur, u->url + u->url_cur + 1,
              (u->url_len - u->url_cur - 1) * sizeof u->url[0]);
      u->url_len--;
    }
    return UI_REDRAW;
  default:
    break;
  }
  if (!iswprint(ch) || u->url_len + 1 >= UI_URL_MAX)
    return 0;
  memmove(u->url + u->url_cur + 1, u->url + u->url_cur,
          (u->url_len - u->url_cur) * sizeof u->url[0]);
  u->url[u->url_cur++] = (wchar_t)ch;
  u->url_len++;
  return UI_REDRAW;
}

int prompt_key(struct ui *u, int is_code, wint_t ch)
{
  if (u->mode == UI_MODE_CONFIRM)
    return is_code ? 0 : confirm_key(u, ch);
  if (u->mode == UI_MODE_ADD || u->mode == UI_MODE_LIMIT)
    return add_key(u, is_code, ch);
  return 0;
}

void prompt_draw(struct ui *u, int y, int width)
{
  char buf[1024];
  if (u->mode == UI_MODE_CONFIRM) {
    const struct ui_item *it =
        u->confirm_id && u->confirm_id <= u->nitems ? &u->items[u->confirm_id - 1] : NULL;
    if (u->confirm == UI_CONFIRM_CANCEL)
      snprintf(buf, sizeof buf, " Cancel '%s' and delete its partial file? (y/n)",
               it && it->name ? it->name : "?");
    else
      snprintf(buf, sizeof buf,
               " Quit with downloads unfinished? Partial files are kept. (y/n)");
    ui_put(y, 0, width, THEME_PROMPT, buf, u->utf8);
    return;
  }
  char label[160];
  if (u->mode == UI_MODE_LIMIT && u->limit_id) {
    const struct ui_item *it = u->limit_id <= u->nitems ? &u->items[u->limit_id - 1] : NULL;
    char nm[64];
    fmt_fit(nm, sizeof nm, it && it->name ? it->name : "?", 30, 0, u->utf8);
    snprintf(label, sizeof label, " Limit of '%s' (2M, 500K, 0 = none): ", nm);
  } else if (u->mode == UI_MODE_LIMIT) {
    snprintf(label, sizeof label, " Limit of the whole run (2M, 500K, 0 = none): ");
  } else {
    snprintf(label, sizeof label, " Add URL: ");
  }
  int lw = fmt_width(label);
  ui_put(y, 0, width, THEME_PROMPT, label, u->utf8);
  int room = width - lw - 1;
  if (room < 1)
    return;
  /* Scroll horizontally so the cursor stays visible. */
  size_t start = 0;
  int wcur = 0;
  for (size_t i = 0; i < u->url_cur; i++) {
    int cw = wcwidth(u->url[i]);
    wcur += cw > 0 ? cw : 1;
  }
  while (wcur >= room && start < u->url_cur) {
    int cw = wcwidth(u->url[start]);
    wcur -= cw > 0 ? cw : 1;
    start++;
  }
  wchar_t vis[UI_URL_MAX + 1];
  size_t nv = 0;
  int used = 0;
  for (size_t i = start; i < u->url_len; i++) {
    int cw = wcwidth(u->url[i]);
    cw = cw > 0 ? cw : 1;
    if (used + cw > room)
      break;
    vis[nv++] = u->url[i];
    used += cw;
  }
  vis[nv] = L'\0';
  attrset(theme_attr(THEME_PROMPT));
  mvaddnwstr(y, lw, vis, (int)nv);
  attrset(A_NORMAL);
  move(y, lw + wcur);
  curs_set(1);
}
