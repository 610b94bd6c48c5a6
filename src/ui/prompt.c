/* prompt.c - the bottom-line prompts: y/n questions (cancel an item, quit
 * with work unfinished), the add-a-URL line and the filter line, with
 * editing (left, right, home, end, backspace, delete, ^U, ^A, ^E; Enter
 * takes the line, Esc leaves).  `a` checks the URL before it sends it
 * (an error stays in the prompt) and picks a file name no other item and
 * no file in the run's dir has (stem.1.ext, as list items get).  The
 * filter applies as it is typed.  Key handlers send commands and return a
 * redraw mask.  Main thread. */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <wctype.h>

#include "fmt.h"
#include "siphon/fname.h"
#include "siphon/secret.h"
#include "siphon/url.h"
#include "siphon/xalloc.h"
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
  u->prompt_err[0] = '\0';
}

void prompt_filter_open(struct ui *u)
{
  u->mode = UI_MODE_FILTER;
  snprintf(u->filter_old, sizeof u->filter_old, "%s", u->filter);
  size_t n = mbstowcs(u->url, u->filter, UI_URL_MAX - 1);
  u->url_len = u->url_cur = n == (size_t)-1 ? 0 : n;
  u->url[u->url_len] = L'\0';
}

/* The filter follows the line as it is typed. */
static void filter_update(struct ui *u)
{
  char buf[UI_FILTER_MAX];
  u->url[u->url_len] = L'\0';
  size_t n = wcstombs(buf, u->url, sizeof buf - 1);
  if (n == (size_t)-1)
    return;
  buf[n < sizeof buf ? n : sizeof buf - 1] = '\0';
  if (strcmp(buf, u->filter) != 0) {
    snprintf(u->filter, sizeof u->filter, "%s", buf);
    u->order_dirty = 1;
    u->top = 0;
  }
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
    u->status_130 = model_unfinished(u);
  }
  return UI_REDRAW;
}

/* dir/name the way the engine joins them ("." adds nothing). */
static char *join(const char *dir, const char *name)
{
  if (!dir || !*dir || !strcmp(dir, "."))
    return xstrdup(name);
  size_t n = strlen(dir);
  return xasprintf("%s%s%s", dir, dir[n - 1] == '/' ? "" : "/", name);
}

/* Whether name in the run's dir is taken: by an item of this run, or by a
 * complete file there (unless --overwrite, which replaces it). */
static int name_taken(const struct ui *u, const char *name)
{
  char *path = join(u->dir, name);
  struct stat sb;
  int taken = !u->overwrite && lstat(path, &sb) == 0;
  for (size_t i = 0; i < u->nitems && !taken; i++) {
    const struct ui_item *it = &u->items[i];
    if (!it->id || !it->path)
      continue;
    /* before it starts an item's path is its dir, its name the file's */
    if (!strcmp(it->path, path) ||
        (!it->file_path && !strcmp(it->path, u->dir) && it->name &&
         !strcmp(it->name, name)))
      taken = 1;
  }
  free(path);
  return taken;
}

/* name, or the first free "stem.N.ext"; malloc'd, NULL when none is free. */
static char *free_name(const struct ui *u, const char *name)
{
  if (!name_taken(u, name))
    return xstrdup(name);
  const char *slash = strrchr(name, '/');
  const char *base = slash ? slash + 1 : name;
  const char *dot = strrchr(base, '.');
  size_t stem = dot && dot != base ? (size_t)(dot - name) : strlen(name);
  for (int n = 1; n <= 10000; n++) {
    char *cand = xasprintf("%.*s.%d%s", (int)stem, name, n, name + stem);
    if (!name_taken(u, cand))
      return cand;
    free(cand);
  }
  return NULL;
}

/* Check the typed line ("URL" or "URL NAME") and send it as an ADD; 0, or
 * -1 with prompt_err saying what is wrong (nothing is sent). */
static int add_send(struct ui *u)
{
  char buf[UI_URL_MAX * 4 + 1];
  u->url[u->url_len] = L'\0';
  size_t n = wcstombs(buf, u->url, sizeof buf);
  if (n == (size_t)-1) {
    snprintf(u->prompt_err, sizeof u->prompt_err, "not valid text");
    return -1;
  }
  /* Trim the blanks a paste tends to bring along. */
  char *s = buf;
  while (*s == ' ' || *s == '\t')
    s++;
  size_t l = strlen(s);
  while (l > 0 && (s[l - 1] == ' ' || s[l - 1] == '\t'))
    s[--l] = '\0';
  if (!*s)
    return 0; /* an empty line adds nothing, like Esc */
  /* A URL holds no blank: what follows one is the file name. */
  char *name = s + strcspn(s, " \t");
  if (*name) {
    *name++ = '\0';
    while (*name == ' ' || *name == '\t')
      name++;
  }
  if (!url_ok(s)) {
    snprintf(u->prompt_err, sizeof u->prompt_err, "not an http:// or https:// URL");
    return -1;
  }
  char *want = *name ? xstrdup(name) : fname_from_url(s);
  if (!want || !fname_relpath_ok(want)) {
    snprintf(u->prompt_err, sizeof u->prompt_err, "not a safe relative file name");
    free(want);
    return -1;
  }
  size_t wl = strlen(want);
  if ((wl >= 5 && !strcmp(want + wl - 5, ".part")) ||
      (wl >= 10 && !strcmp(want + wl - 10, ".part.meta"))) {
    /* never a name another download's partial file could have */
    char *w2 = xasprintf("%s_", want);
    free(want);
    want = w2;
  }
  char *out = free_name(u, want);
  free(want);
  if (!out) {
    snprintf(u->prompt_err, sizeof u->prompt_err, "no free file name for it");
    return -1;
  }
  struct msg_cmd *c = xcalloc(1, sizeof *c);
  c->kind = MSG_CMD_ADD;
  c->url = xstrdup(s);
  c->output = out;
  char *shown = secret_url(s); /* a password in the URL stays off the screen */
  ui_set_status(u, "added %s as %s", shown, out);
  free(shown);
  mbox_send_cmd(u->mb, c);
  return 0;
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
      limit_send(u); /* a bad value is a note at the bottom */
    if (u->mode != UI_MODE_ADD || add_send(u) == 0)
      u->mode = UI_MODE_LIST; /* the filter applied as it was typed */
    return UI_REDRAW;
  case K_ESC:
    if (u->mode == UI_MODE_FILTER) {
      snprintf(u->filter, sizeof u->filter, "%s", u->filter_old);
      u->order_dirty = 1;
    }
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

int prompt_active(const struct ui *u)
{
  return u->mode != UI_MODE_LIST && u->mode != UI_MODE_HELP;
}

int prompt_key(struct ui *u, int is_code, wint_t ch)
{
  if (u->mode == UI_MODE_CONFIRM)
    return is_code ? 0 : confirm_key(u, ch);
  if (prompt_active(u)) { /* a line being typed: the add URL or the filter */
    enum ui_mode was = u->mode;
    size_t len = u->url_len;
    int mask = add_key(u, is_code, ch);
    if (was == UI_MODE_FILTER && u->mode == UI_MODE_FILTER)
      filter_update(u);
    if (u->mode == was && u->url_len != len)
      u->prompt_err[0] = '\0'; /* the line changed: the old complaint is gone */
    return mask;
  }
  return 0;
}

/* The y/n question, cut to the width so "(y/n)" always shows. */
static void confirm_draw(struct ui *u, int y, int width)
{
  char buf[1024], name[512];
  const struct ui_item *it =
      u->confirm_id && u->confirm_id <= u->nitems ? &u->items[u->confirm_id - 1] : NULL;
  if (u->confirm == UI_CONFIRM_CANCEL) {
    static const char pre[] = " Cancel '", post[] = "' and delete its partial file? (y/n)",
                      post_short[] = "'? .part deleted (y/n)";
    const char *tail = width >= 70 ? post : post_short;
    int room = width - (int)strlen(pre) - (int)strlen(tail);
    fmt_fit(name, sizeof name, it && it->name ? it->name : "?", room > 3 ? room : 3, 0,
            u->utf8);
    snprintf(buf, sizeof buf, "%s%s%s", pre, name, tail);
  } else {
    snprintf(buf, sizeof buf, "%s",
             width >= 66 ? " Quit with downloads unfinished? Partial files are kept. (y/n)"
                         : " Quit? Unfinished; .part files kept. (y/n)");
  }
  draw_put(y, 0, width, THEME_PROMPT, buf, u->utf8);
}

void prompt_draw(struct ui *u, int y, int width)
{
  if (u->mode == UI_MODE_CONFIRM) {
    confirm_draw(u, y, width);
    return;
  }
  char label[256];
  if (u->mode == UI_MODE_LIMIT && u->limit_id) {
    const struct ui_item *it = u->limit_id <= u->nitems ? &u->items[u->limit_id - 1] : NULL;
    char nm[64];
    fmt_fit(nm, sizeof nm, it && it->name ? it->name : "?", 30, 0, u->utf8);
    snprintf(label, sizeof label, " Limit of '%s' (2M, 500K, 0 = none): ", nm);
  } else if (u->mode == UI_MODE_LIMIT) {
    snprintf(label, sizeof label, " Limit of the whole run (2M, 500K, 0 = none): ");
  } else if (u->mode == UI_MODE_FILTER) {
    snprintf(label, sizeof label, " Filter (name or URL; Enter keeps, Esc drops): ");
  } else if (u->prompt_err[0]) {
    snprintf(label, sizeof label, " %s (Esc cancels): ", u->prompt_err);
  } else {
    snprintf(label, sizeof label, " Add URL: ");
  }
  if (fmt_width(label) > width - 20) /* keep room to type */
    snprintf(label, sizeof label, "%s", u->mode == UI_MODE_FILTER ? " /" :
             u->mode == UI_MODE_LIMIT ? " Limit (2M, 0 = none): " :
             u->prompt_err[0] ? " bad URL: " : " Add URL: ");
  int lw = fmt_width(label);
  draw_put(y, 0, width, u->prompt_err[0] && u->mode == UI_MODE_ADD ? THEME_ERROR : THEME_PROMPT,
         label, u->utf8);
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
