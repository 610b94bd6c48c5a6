/* args.c - the command line (getopt_long) and the --help text.  Main
 * thread only, before anything else starts.
 *
 * Every option that is also a [settings] key goes through cfg_opts_set at
 * RUN scope, so the command line and the lists check and read a value the
 * same way; only the error's wording is rearranged here. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siphon/args.h"
#include "siphon/cfg.h"

/* Values for long options without a short letter. */
enum {
  ARGS_PER_HOST = 256,
  ARGS_MAX_CONNECTIONS,
  ARGS_BUFFER_SIZE,
  ARGS_TIMEOUT,
  ARGS_CONNECT_TIMEOUT,
  ARGS_STALL_TIMEOUT,
  ARGS_RETRIES,
  ARGS_CONN_IDLE,
  ARGS_CONN_LIFETIME,
  ARGS_DNS_TTL,
  ARGS_MIN_SEGMENT,
  ARGS_OVERWRITE,
  ARGS_HEADER,
  ARGS_THEME,
  ARGS_LOG,
  ARGS_CONFIG,
  ARGS_NO_CONFIG,
  ARGS_HEADLESS,
  ARGS_JSON,
  ARGS_NO_BELL,
  ARGS_MAX_SPEED,
  ARGS_PROXY,
  ARGS_NO_PROXY,
  ARGS_USER_AGENT,
  ARGS_CACERT,
  ARGS_INSECURE,
  ARGS_NETRC,
  ARGS_NETRC_FILE,
  ARGS_HTTP11,
};

static const struct option args_long[] = {
    {"concurrency", required_argument, NULL, 'j'},
    {"per-host", required_argument, NULL, ARGS_PER_HOST},
    {"max-connections", required_argument, NULL, ARGS_MAX_CONNECTIONS},
    {"buffer-size", required_argument, NULL, ARGS_BUFFER_SIZE},
    {"timeout", required_argument, NULL, ARGS_TIMEOUT},
    {"connect-timeout", required_argument, NULL, ARGS_CONNECT_TIMEOUT},
    {"stall-timeout", required_argument, NULL, ARGS_STALL_TIMEOUT},
    {"retries", required_argument, NULL, ARGS_RETRIES},
    {"conn-idle", required_argument, NULL, ARGS_CONN_IDLE},
    {"conn-lifetime", required_argument, NULL, ARGS_CONN_LIFETIME},
    {"dns-ttl", required_argument, NULL, ARGS_DNS_TTL},
    {"segments", required_argument, NULL, 's'},
    {"min-segment", required_argument, NULL, ARGS_MIN_SEGMENT},
    {"dir", required_argument, NULL, 'd'},
    {"overwrite", no_argument, NULL, ARGS_OVERWRITE},
    {"header", required_argument, NULL, ARGS_HEADER},
    {"theme", required_argument, NULL, ARGS_THEME},
    {"log", required_argument, NULL, ARGS_LOG},
    {"max-speed", required_argument, NULL, ARGS_MAX_SPEED},
    {"proxy", required_argument, NULL, ARGS_PROXY},
    {"no-proxy", required_argument, NULL, ARGS_NO_PROXY},
    {"user-agent", required_argument, NULL, ARGS_USER_AGENT},
    {"cacert", required_argument, NULL, ARGS_CACERT},
    {"insecure", no_argument, NULL, ARGS_INSECURE},
    {"netrc", no_argument, NULL, ARGS_NETRC},
    {"netrc-file", required_argument, NULL, ARGS_NETRC_FILE},
    {"http1.1", no_argument, NULL, ARGS_HTTP11},
    {"config", required_argument, NULL, ARGS_CONFIG},
    {"no-config", no_argument, NULL, ARGS_NO_CONFIG},
    {"headless", no_argument, NULL, ARGS_HEADLESS},
    {"json", no_argument, NULL, ARGS_JSON},
    {"no-bell", no_argument, NULL, ARGS_NO_BELL},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

static const char args_help[] =
    "usage: siphon [OPTIONS] [LIST.ini | LIST.txt | URL | -]...\n"
    "\n"
    "Downloads every URL of the lists and the command line, in order.  A list is\n"
    "INI when its name ends in .ini or its first line that is neither blank nor a\n"
    "comment starts with '['; otherwise it holds one URL per line.  '-' reads URLs\n"
    "from stdin.  With a terminal it opens the interactive screen.\n"
    "\n"
    "Options (each long option is also a [settings] key, '-' becoming '_'):\n"
    "  -j, --concurrency N      transfers running at once (default 4)\n"
    "      --per-host N         connections to one host at once (default 6)\n"
    "      --max-connections N  connections open in the whole pool (default 64)\n"
    "      --buffer-size SIZE   buffer of one transfer, 16K..8M (default 128K)\n"
    "      --timeout DUR        whole-item limit while it runs; 0 = none (default 0)\n"
    "      --connect-timeout DUR  TCP+TLS connect limit (default 15s)\n"
    "      --stall-timeout DUR  no byte for this long: timed out; 0 = none (30s)\n"
    "      --retries N          retries after a transient failure (default 3)\n"
    "      --conn-idle DUR      close a connection idle this long (default 60s)\n"
    "      --conn-lifetime DUR  reuse no connection this old; 0 = none (10m)\n"
    "      --dns-ttl DUR        how long a resolved address is cached (default 60s)\n"
    "  -s, --segments N         connections per file at once, 1..32 (default 4)\n"
    "      --min-segment SIZE   no segment smaller; split from 2 x this (default 4M)\n"
    "  -d, --dir DIR            where files go (default .)\n"
    "      --overwrite          replace an existing complete file (default: skip it)\n"
    "      --header 'K: V'      extra request header; repeatable\n"
    "      --theme NAME         a theme of themes/ or a path (default: default)\n"
    "      --no-bell            no bell when all is finished ([settings] bell = no)\n"
    "      --log FILE           one line per request and response (default: none)\n"
    "      --max-speed SIZE     whole-run limit in bytes/s, like 2M; 0 = none (0)\n"
    "      --proxy URL          http(s)://, socks5:// or socks5h:// proxy; none =\n"
    "                           ignore the proxy variables (default: environment)\n"
    "      --no-proxy HOSTS     hosts or domains reached directly (default: no_proxy)\n"
    "      --user-agent STR     the User-Agent header (default: siphon/VERSION)\n"
    "      --cacert FILE        trust the CA certificates in FILE (PEM)\n"
    "      --insecure           do not verify TLS certificates\n"
    "      --netrc              credentials per host from ~/.netrc\n"
    "      --netrc-file FILE    credentials per host from FILE\n"
    "      --http1.1            never use HTTP/2 ([settings] key http11)\n"
    "      --config FILE        start from FILE, not the default config (see below)\n"
    "      --no-config          read no config file\n"
    "      --headless           no screen: progress as text on stderr\n"
    "      --json               with --headless: one JSON event per line on stdout\n"
    "  -h, --help               this text\n"
    "  -V, --version            the version\n"
    "\n"
    "DUR is 250ms, 30s, 5m, 2h, 1m30s, 1.5s or 0.  SIZE is bytes or K/M/G (x1024).\n"
    "Config file: $XDG_CONFIG_HOME/siphon/config.ini (default ~/.config/siphon/...).\n"
    "Precedence: item > profile > command line > list [settings] > config > default.\n"
    "\n"
    "Exit status: 0 every item done or skipped; 1 an item failed, timed out or was\n"
    "cancelled; 2 usage or list error (nothing downloaded); 130 interrupted.\n"
    "The manual, siphon(1), has the list keys, the screen's keys and the events.\n";

const char *args_usage(void)
{
  return args_help;
}

static const struct option *args_find(int val)
{
  for (const struct option *o = args_long; o->name; o++)
    if (o->val == val)
      return o;
  return NULL;
}

/* Turn cfg's "bad value 'x' for key: expected ..." into the option's
 * "option --name: bad value 'x': expected ...". */
static void args_value_err(char *err, size_t errlen, const char *name, const char *key,
                           const char *msg)
{
  char mid[64];
  snprintf(mid, sizeof mid, "' for %s: ", key);
  const char *at = strstr(msg, mid);
  if (strncmp(msg, "bad value '", 11) == 0 && at)
    snprintf(err, errlen, "option --%s: %.*s': %s", name, (int)(at - msg), msg,
             at + strlen(mid));
  else
    snprintf(err, errlen, "option --%s: %s", name, msg);
}

/* One option that is a settings key: the key is its long name with '_'. */
static int args_setting(struct args *a, const struct option *o, const char *value, char *err,
                        size_t errlen)
{
  char key[32], msg[CFG_ERR_MAX];
  /* "max-speed" -> "max_speed", "http1.1" -> "http11" */
  size_t kn = 0;
  for (const char *p = o->name; *p && kn < sizeof key - 1; p++)
    if (*p != '.')
      key[kn++] = *p == '-' ? '_' : *p;
  key[kn] = '\0';
  if (cfg_opts_set(&a->cli, CFG_SCOPE_RUN, key, value, msg, sizeof msg) < 0) {
    args_value_err(err, errlen, o->name, key, msg);
    return -1;
  }
  return 0;
}

/* "unknown option '--concurency' (did you mean '--concurrency'?)", or, for
 * a prefix of several options, which ones it could be. */
static void args_unknown_long(char *err, size_t errlen, const char *arg)
{
  enum { NOPT = sizeof args_long / sizeof args_long[0] - 1 };
  const char *names[NOPT], *word = arg + 2;
  size_t len = strcspn(word, "="), nmatch = 0;
  char shown[64];
  snprintf(shown, sizeof shown, "--%.*s", (int)(len > 40 ? 40 : len), word);
  for (char *p = shown; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = '?';
  char list[400] = "";
  for (size_t i = 0; i < NOPT; i++) {
    names[i] = args_long[i].name;
    if (len > 0 && strncmp(names[i], word, len) == 0) {
      size_t used = strlen(list);
      snprintf(list + used, sizeof list - used, "%s--%s", nmatch ? ", " : "", names[i]);
      nmatch++;
    }
  }
  if (nmatch > 1) {
    snprintf(err, errlen, "ambiguous option '%s' (%s)", shown, list);
    return;
  }
  char typed[48];
  snprintf(typed, sizeof typed, "%.*s", (int)(len < sizeof typed - 1 ? len : sizeof typed - 1),
           word);
  const char *best = cfg_nearest(typed, names, NOPT);
  if (best)
    snprintf(err, errlen, "unknown option '%s' (did you mean '--%s'?)", shown, best);
  else
    snprintf(err, errlen, "unknown option '%s'", shown);
}

/* The message for getopt's '?': an unknown option, or a value given to
 * an option that takes none ("--overwrite=yes"). */
static void args_unknown(char *err, size_t errlen, int argc, char **argv)
{
  const struct option *o = optopt ? args_find(optopt) : NULL;
  const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
  if (o && o->has_arg == no_argument && strncmp(arg, "--", 2) == 0) {
    snprintf(err, errlen, "option --%s takes no value", o->name);
  } else if (optopt && !o) {
    snprintf(err, errlen, "unknown option '-%c'", optopt);
  } else if (strncmp(arg, "--", 2) == 0) {
    args_unknown_long(err, errlen, arg);
  } else {
    size_t n = strcspn(arg, "=");
    snprintf(err, errlen, "unknown option '%.*s'", (int)(n > 100 ? 100 : n), arg);
  }
}

int args_parse(struct args *a, int argc, char **argv, char *err, size_t errlen)
{
  memset(a, 0, sizeof *a);
  optind = 0; /* GNU: start over, even after an earlier parse */
  opterr = 0; /* our messages, not getopt's */
  int c;
  while ((c = getopt_long(argc, argv, ":j:d:s:hV", args_long, NULL)) != -1) {
    const struct option *o = args_find(c);
    switch (c) {
    case 'h':
      a->help = 1;
      break;
    case 'V':
      a->version = 1;
      break;
    case ARGS_CONFIG:
      a->config = optarg;
      break;
    case ARGS_NO_CONFIG:
      a->no_config = 1;
      break;
    case ARGS_HEADLESS:
      a->headless = 1;
      break;
    case ARGS_JSON:
      a->json = 1;
      break;
    case ARGS_OVERWRITE:
    case ARGS_INSECURE:
    case ARGS_NETRC:
    case ARGS_HTTP11:
      if (args_setting(a, o, "true", err, errlen) < 0)
        goto fail;
      break;
    case ARGS_NO_BELL: /* the key is "bell"; the option says what it turns off */
      if (cfg_opts_set(&a->cli, CFG_SCOPE_RUN, "bell", "no", err, errlen) < 0)
        goto fail;
      break;
    case ':':
      o = args_find(optopt);
      snprintf(err, errlen, "option --%s needs a value", o ? o->name : "?");
      goto fail;
    case '?':
      args_unknown(err, errlen, argc, argv);
      goto fail;
    default:
      if (!o) {
        snprintf(err, errlen, "unknown option '%s'", argv[optind > 0 ? optind - 1 : 0]);
        goto fail;
      }
      if (args_setting(a, o, optarg, err, errlen) < 0)
        goto fail;
      break;
    }
  }
  a->inputs = argv + optind;
  a->ninputs = (size_t)(argc - optind);
  return 0;
fail:
  cfg_opts_free(&a->cli);
  memset(a, 0, sizeof *a);
  return -1;
}

void args_free(struct args *a)
{
  if (!a)
    return;
  cfg_opts_free(&a->cli);
  a->inputs = NULL;
  a->ninputs = 0;
}
