/* siphon/ui.h - the interactive ncurses screen (main thread). */
#ifndef SIPHON_UI_H
#define SIPHON_UI_H

#include <stddef.h>

#include "siphon/mbox.h"

struct ui_options {
  const char *theme;    /* name or path; NULL = "default" */
  const char *argv0;    /* to find themes/ beside the binary */
  const char *dir;      /* the run's --dir, where a URL added with `a` goes */
  int overwrite;        /* --overwrite: an added URL may replace a file there */
  int ring_bell;        /* ring once when everything has finished */
};

/* 1 if the terminal on stdout can carry the screen (cursor addressing,
 * not TERM=dumb); else 0 with why = a short reason for the notice. */
int ui_term_usable(char *why, size_t whylen);

/* Run the screen until the user quits and the engine has stopped (it
 * sends MSG_CMD_QUIT itself and waits for MSG_EV_STOPPED).  Returns the
 * exit status of SPEC.md: 0, 1, or 130. */
int ui_run(struct mbox *mb, const struct ui_options *opts);

/* Load the theme the screen would use, without opening the screen, so a bad
 * theme is a usage error before any transfer starts.  0, or -1 with err =
 * "FILE:LINE: what is wrong". */
int ui_theme_check(const struct ui_options *opts, char *err, size_t errlen);

#endif
