/* siphon/args.h - the command line (getopt_long). */
#ifndef SIPHON_ARGS_H
#define SIPHON_ARGS_H

#include <stddef.h>
#include "siphon/cfg.h"

struct args {
  struct cfg_opts cli; /* the options that are also [settings] keys */
  char **inputs;       /* lists and URLs, in order (pointers into argv) */
  size_t ninputs;
  int headless, json, help, version, no_config;
  const char *config; /* --config FILE, or NULL */
};

/* 0, or -1 with err = "option --timeout: bad value 'x': expected ..." (or
 * "unknown option --foo"). */
int args_parse(struct args *a, int argc, char **argv, char *err, size_t errlen);
void args_free(struct args *a);
/* The --help text. */
const char *args_usage(void);

#endif
