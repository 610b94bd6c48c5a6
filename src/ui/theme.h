/* src/ui/theme.h - colour themes (ui-private): semantic roles whose names
 * are the keys of a theme file, loading a theme file (inih), and turning
 * it into curses attributes.  main.c may call theme_load() before starting
 * the engine to report a bad theme as a usage error (exit 2). */
#ifndef SIPHON_UI_THEME_H
#define SIPHON_UI_THEME_H

#include <stddef.h>

/* X(ENUM, key, built-in default, built-in mono) */
#define THEME_ROLE_MAP(X)                                                        \
  X(NORMAL, normal, "default on default", "default")                             \
  X(HEADER, header, "252/white on 236/black", "reverse")                         \
  X(TITLE, title, "81/cyan on 236/black bold", "reverse bold")                   \
  X(LABEL, label, "245/white on 236/black", "reverse")                           \
  X(VALUE, value, "231/white on 236/black bold", "reverse bold")                 \
  X(SPARK, spark, "77/green on 236/black", "reverse")                            \
  X(HEADING, heading, "245/white underline", "underline")                        \
  X(SELECTED, selected, "231/white on 24/blue", "reverse")                       \
  X(BAR, bar, "39/cyan", "bold")                                                 \
  X(BAR_EMPTY, bar_empty, "238/black on 235/default", "dim")                     \
  X(QUEUED, queued, "245/white", "dim")                                          \
  X(RUNNING, running, "39/cyan bold", "bold")                                    \
  X(PAUSED, paused, "214/yellow", "underline")                                   \
  X(DONE, done, "77/green", "default")                                           \
  X(FAILED, failed, "203/red bold", "bold")                                      \
  X(TIMED_OUT, timed_out, "209/magenta bold", "bold")                            \
  X(CANCELLED, cancelled, "244/white", "dim")                                    \
  X(SKIPPED, skipped, "109/blue", "dim")                                         \
  X(DETAIL, detail, "default on 235/default", "default")                         \
  X(DETAIL_LABEL, detail_label, "245/white on 235/default", "bold")              \
  X(HELP, help, "231/white on 238/blue", "reverse")                              \
  X(KEY, key, "81/cyan bold", "bold")                                            \
  X(PROMPT, prompt, "231/white on 24/blue bold", "reverse bold")                 \
  X(ERROR, error, "231/white on 124/red bold", "reverse bold")                   \
  X(STATUS, status, "245/white on 236/black", "reverse")

enum theme_role {
#define THEME_ROLE_ENUM(e, key, def, mono) THEME_##e,
  THEME_ROLE_MAP(THEME_ROLE_ENUM)
#undef THEME_ROLE_ENUM
  THEME_ROLE_COUNT
};

/* A role's look, independent of the terminal: a colour for 256-colour
 * terminals and one for 8-colour ones (-1 = the terminal's default). */
struct theme_style {
  short fg256, bg256, fg8, bg8;
  unsigned attrs; /* THEME_A_* */
};

enum { THEME_A_BOLD = 1, THEME_A_DIM = 2, THEME_A_UNDERLINE = 4, THEME_A_REVERSE = 8,
       THEME_A_ITALIC = 16 };

struct theme {
  struct theme_style role[THEME_ROLE_COUNT];
  char source[512]; /* the file it came from, or "built-in NAME" */
};

/* The role's theme-file key ("timed_out"), or NULL. */
const char *theme_role_key(enum theme_role r);

/* Find and parse a theme: name_or_path NULL means "default"; NO_COLOR (set
 * and not empty) turns "default" into "mono".  Lookup: as given (a path),
 * $XDG_CONFIG_HOME/siphon/themes/, the installed share directory, then
 * themes/ beside the binary (argv0 or /proc/self/exe); "default" and
 * "mono" fall back to built-in copies.  0, or -1 with err set to
 * "FILE:LINE: unknown colour 'x'" / "theme 'x' not found ...". */
int theme_load(struct theme *t, const char *name_or_path, const char *argv0, char *err,
               size_t errlen);
/* Parse one theme file over the built-in defaults (used by theme_load). */
int theme_parse_file(struct theme *t, const char *path, char *err, size_t errlen);
/* Parse one style value ("214/yellow on default bold"); 0, or -1 with the
 * offending word copied into bad. */
int theme_parse_style(const char *value, struct theme_style *st, char *bad, size_t badlen);

/* After initscr(): set up colour pairs (256 or 8 colours, or none). */
void theme_apply(const struct theme *t);
/* The curses attributes of a role, valid after theme_apply(). */
int theme_attr(enum theme_role r);

#endif
