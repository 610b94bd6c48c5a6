/* draw.c - the drawing helpers every view of the screen uses: text put
 * into exactly a width in a theme role's colours, and each state's word
 * and role.  No state of its own; main thread (curses). */
#define NCURSES_WIDECHAR 1
#include <curses.h>

#include "fmt.h"
#include "ui-int.h"

/* SPEC's words; "timed out" reads better on a screen than timed_out. */
const char *draw_state_word(enum msg_state s)
{
  return s == MSG_STATE_TIMED_OUT ? "timed out" : msg_state_word(s);
}

enum theme_role draw_state_role(enum msg_state s)
{
  static const enum theme_role roles[MSG_STATE_COUNT] = {
      [MSG_STATE_QUEUED] = THEME_QUEUED,       [MSG_STATE_RUNNING] = THEME_RUNNING,
      [MSG_STATE_PAUSED] = THEME_PAUSED,       [MSG_STATE_DONE] = THEME_DONE,
      [MSG_STATE_FAILED] = THEME_FAILED,       [MSG_STATE_TIMED_OUT] = THEME_TIMED_OUT,
      [MSG_STATE_CANCELLED] = THEME_CANCELLED, [MSG_STATE_SKIPPED] = THEME_SKIPPED};
  return (unsigned)s < MSG_STATE_COUNT ? roles[s] : THEME_NORMAL;
}

/* fmt_fit does the cutting, so every cut text ends the same way. */
void draw_put(int y, int x, int width, enum theme_role role, const char *s, int utf8)
{
  char buf[2048];
  if (width <= 0)
    return;
  fmt_fit(buf, sizeof buf, s, width, 1, utf8);
  attrset(theme_attr(role));
  mvaddstr(y, x, buf);
  attrset(A_NORMAL);
}
