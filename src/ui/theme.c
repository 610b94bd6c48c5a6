/* theme.c - colour themes: the roles (THEME_ROLE_MAP, whose names are the
 * theme-file keys), finding and parsing theme files with inih, and turning
 * a theme into curses colour pairs for 256- or 8-colour terminals.
 * Runs on the main thread (theme_load may run before the engine starts). */
#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "theme.h"

/* The Makefile passes both from its DATADIR and BINDIR (make install puts
 * the themes in $(DATADIR)/siphon/themes): SIPHON_DATADIR as installed,
 * SIPHON_DATADIR_REL as seen from BINDIR, so a tree staged with DESTDIR
 * or moved as a whole still finds its own themes.  The fallbacks are the
 * Makefile's defaults, for a build outside it (a fuzzer). */
#ifndef SIPHON_DATADIR
#define SIPHON_DATADIR "/usr/local/share"
#endif
#ifndef SIPHON_DATADIR_REL
#define SIPHON_DATADIR_REL "../share"
#endif
#define SIPHON_SHARE_DIR SIPHON_DATADIR "/siphon"

static const char *const role_keys[] = {
#define THEME_ROLE_KEY(e, key, def, mono) #key,
    THEME_ROLE_MAP(THEME_ROLE_KEY)
#undef THEME_ROLE_KEY
};

static const char *const role_default[] = {
#define THEME_ROLE_DEF(e, key, def, mono) def,
    THEME_ROLE_MAP(THEME_ROLE_DEF)
#undef THEME_ROLE_DEF
};

static const char *const role_mono[] = {
#define THEME_ROLE_MONO(e, key, def, mono) mono,
    THEME_ROLE_MAP(THEME_ROLE_MONO)
#undef THEME_ROLE_MONO
};

static int role_attrs[THEME_ROLE_COUNT];

const char *theme_role_key(enum theme_role r)
{
  return (unsigned)r < THEME_ROLE_COUNT ? role_keys[r] : NULL;
}

static const char *const colour_names[] = {"black", "red",     "green", "yellow",
                                           "blue",  "magenta", "cyan",  "white"};

/* A colour word: default, a name, bright-NAME, 0..255, or N/NAME (N for
 * 256-colour terminals, NAME for 8-colour ones).  0 or -1. */
static int parse_colour(const char *w, short *c256, short *c8)
{
  const char *slash = strchr(w, '/');
  if (slash) {
    char num[8];
    size_t l = (size_t)(slash - w);
    short a8, b256, b8;
    if (l == 0 || l >= sizeof num)
      return -1;
    memcpy(num, w, l);
    num[l] = '\0';
    if (parse_colour(num, c256, &a8) < 0 || parse_colour(slash + 1, &b256, &b8) < 0)
      return -1;
    *c8 = b8;
    return 0;
  }
  if (!strcasecmp(w, "default") || !strcasecmp(w, "none")) {
    *c256 = *c8 = -1;
    return 0;
  }
  for (int i = 0; i < 8; i++) {
    if (!strcasecmp(w, colour_names[i])) {
      *c256 = *c8 = (short)i;
      return 0;
    }
    if (!strncasecmp(w, "bright", 6)) {
      const char *b = w + 6 + (w[6] == '-' || w[6] == '_');
      if (!strcasecmp(b, colour_names[i])) {
        *c256 = (short)(8 + i);
        *c8 = (short)i;
        return 0;
      }
    }
  }
  char *end;
  long n = strtol(w, &end, 10);
  if (*w && *end == '\0' && n >= 0 && n <= 255) {
    *c256 = (short)n;
    if (n < 16) {
      *c8 = (short)(n % 8);
    } else if (n < 232) {
      /* xterm's 6x6x6 cube: a channel counts as lit from level 3 up. */
      int v = (int)n - 16, r = v / 36, g = v / 6 % 6, b = v % 6;
      *c8 = (short)((r >= 3 ? 1 : 0) | (g >= 3 ? 2 : 0) | (b >= 3 ? 4 : 0));
    } else {
      *c8 = n >= 244 ? 7 : 0;
    }
    return 0;
  }
  return -1;
}

int theme_parse_style(const char *value, struct theme_style *st, char *bad, size_t badlen)
{
  char buf[256];
  int on = 0, have_fg = 0;
  snprintf(buf, sizeof buf, "%s", value);
  st->fg256 = st->bg256 = st->fg8 = st->bg8 = -1;
  st->attrs = 0;
  for (char *save = NULL, *w = strtok_r(buf, " \t,", &save); w;
       w = strtok_r(NULL, " \t,", &save)) {
    static const struct {
      const char *word;
      unsigned bit;
    } attrs[] = {{"bold", THEME_A_BOLD},           {"dim", THEME_A_DIM},
                 {"underline", THEME_A_UNDERLINE}, {"reverse", THEME_A_REVERSE},
                 {"italic", THEME_A_ITALIC},       {"normal", 0}};
    int matched = 0;
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
      if (!strcasecmp(w, attrs[i].word)) {
        st->attrs |= attrs[i].bit;
        matched = 1;
      }
    if (matched)
      continue;
    if (!strcasecmp(w, "on")) {
      if (on)
        goto bad;
      on = 1;
      continue;
    }
    short c256, c8;
    if (parse_colour(w, &c256, &c8) < 0)
      goto bad;
    if (on) {
      st->bg256 = c256;
      st->bg8 = c8;
    } else if (!have_fg) {
      st->fg256 = c256;
      st->fg8 = c8;
      have_fg = 1;
    } else {
      goto bad;
    }
    continue;
  bad:
    snprintf(bad, badlen, "%s", w);
    return -1;
  }
  return 0;
}

/* Fill every role from one of the built-in tables (they always parse). */
static void theme_builtin(struct theme *t, int mono)
{
  char bad[64];
  for (int i = 0; i < THEME_ROLE_COUNT; i++)
    theme_parse_style(mono ? role_mono[i] : role_default[i], &t->role[i], bad,
                      sizeof bad);
  snprintf(t->source, sizeof t->source, "built-in %s", mono ? "mono" : "default");
}

struct parse_ctx {
  struct theme *t;
  FILE *f;
  const char *path;
  int line; /* physical line the reader handed to inih last */
  int err_line;
  char *err;
  size_t errlen;
};

/* fgets that counts physical lines, so errors name the right line. */
static char *count_reader(char *str, int num, void *stream)
{
  struct parse_ctx *c = stream;
  char *r = fgets(str, num, c->f);
  if (r)
    c->line++;
  return r;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
  struct parse_ctx *c = user;
  if (c->err_line)
    return 1; /* report only the first error */
  if (*section && strcasecmp(section, "theme") && strcasecmp(section, "colors") &&
      strcasecmp(section, "colours")) {
    snprintf(c->err, c->errlen, "%s:%d: unknown section '%s'", c->path, c->line, section);
    c->err_line = c->line;
    return 0;
  }
  for (int i = 0; i < THEME_ROLE_COUNT; i++) {
    if (strcmp(name, role_keys[i]))
      continue;
    char bad[64];
    if (theme_parse_style(value, &c->t->role[i], bad, sizeof bad) < 0) {
      snprintf(c->err, c->errlen, "%s:%d: unknown colour '%s'", c->path, c->line, bad);
      c->err_line = c->line;
      return 0;
    }
    return 1;
  }
  snprintf(c->err, c->errlen, "%s:%d: unknown role '%s'", c->path, c->line, name);
  c->err_line = c->line;
  return 0;
}

/* SPEC "Local files siphon reads back are hostile too": a theme is a
 * regular file of at most 64 KiB, opened without waiting on a FIFO. */
enum { THEME_MAX = 64 * 1024 };

static FILE *theme_open(const char *path, char *err, size_t errlen)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat sb;
  if (fd < 0) {
    snprintf(err, errlen, "%s: cannot open theme", path);
    return NULL;
  }
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > THEME_MAX) {
    snprintf(err, errlen, "%s: not a theme (a theme is a regular file of at most 64 KiB)",
             path);
    close(fd);
    return NULL;
  }
  FILE *f = fdopen(fd, "r");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open theme", path);
    close(fd);
  }
  return f;
}

int theme_parse_file(struct theme *t, const char *path, char *err, size_t errlen)
{
  struct parse_ctx c = {.t = t, .path = path, .err = err, .errlen = errlen};
  int mono = t->source[0] && strstr(t->source, "mono") != NULL;
  theme_builtin(t, mono);
  c.f = theme_open(path, err, errlen);
  if (!c.f)
    return -1;
  int r = ini_parse_stream(count_reader, &c, on_key, &c);
  fclose(c.f);
  if (r == 0) {
    snprintf(t->source, sizeof t->source, "%s", path);
    return 0;
  }
  if (!c.err_line || r != c.err_line)
    snprintf(err, errlen, "%s:%d: expected 'role = colour'", path, r > 0 ? r : 0);
  return -1;
}

static int is_file(const char *p)
{
  struct stat sb;
  return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* dir/NAME.ini, then dir/NAME, into out; 0 when one exists. */
static int try_dir(char *out, size_t n, const char *dir, const char *name)
{
  snprintf(out, n, "%s/%s.ini", dir, name);
  if (is_file(out))
    return 0;
  snprintf(out, n, "%s/%s", dir, name);
  return is_file(out) ? 0 : -1;
}

/* The directory of the running binary (from /proc, else argv0). */
static int exe_dir(char *out, size_t n, const char *argv0)
{
  char buf[PATH_MAX];
  ssize_t l = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (l > 0) {
    buf[l] = '\0';
  } else if (argv0 && strchr(argv0, '/')) {
    snprintf(buf, sizeof buf, "%s", argv0);
  } else {
    return -1;
  }
  char *slash = strrchr(buf, '/');
  if (!slash)
    return -1;
  *slash = '\0';
  snprintf(out, n, "%s", *buf ? buf : "/");
  return 0;
}

/* Where a theme name resolves, per SPEC.md "Details". */
static int theme_find(char *out, size_t n, const char *name, const char *argv0)
{
  char dir[PATH_MAX + 64];
  if (is_file(name)) {
    snprintf(out, n, "%s", name);
    return 0;
  }
  if (strchr(name, '/'))
    return -1; /* a path that is not there is not a name to look up */
  const char *xdg = getenv("XDG_CONFIG_HOME");
  const char *home = getenv("HOME");
  if (xdg && *xdg) {
    snprintf(dir, sizeof dir, "%s/siphon/themes", xdg);
    if (try_dir(out, n, dir, name) == 0)
      return 0;
  } else if (home && *home) {
    snprintf(dir, sizeof dir, "%s/.config/siphon/themes", home);
    if (try_dir(out, n, dir, name) == 0)
      return 0;
  }
  if (try_dir(out, n, SIPHON_SHARE_DIR "/themes", name) == 0)
    return 0;
  char exe[PATH_MAX];
  if (exe_dir(exe, sizeof exe, argv0) == 0) {
    snprintf(dir, sizeof dir, "%s/" SIPHON_DATADIR_REL "/siphon/themes", exe);
    if (try_dir(out, n, dir, name) == 0)
      return 0;
    snprintf(dir, sizeof dir, "%s/themes", exe);
    if (try_dir(out, n, dir, name) == 0)
      return 0;
    /* build/siphon: the source tree's themes/ sits one level up. */
    snprintf(dir, sizeof dir, "%s/../themes", exe);
    if (try_dir(out, n, dir, name) == 0)
      return 0;
  }
  return -1;
}

int theme_load(struct theme *t, const char *name, const char *argv0, char *err,
               size_t errlen)
{
  char path[PATH_MAX + 80];
  const char *nc = getenv("NO_COLOR");
  if (!name || !*name)
    name = "default";
  if (nc && *nc && !strcmp(name, "default"))
    name = "mono";
  memset(t, 0, sizeof *t);
  if (!strcmp(name, "mono"))
    snprintf(t->source, sizeof t->source, "mono");
  if (theme_find(path, sizeof path, name, argv0) == 0)
    return theme_parse_file(t, path, err, errlen);
  if (!strcmp(name, "default") || !strcmp(name, "mono")) {
    theme_builtin(t, !strcmp(name, "mono"));
    return 0;
  }
  snprintf(err, errlen,
           "theme '%s' not found (as a path, in $XDG_CONFIG_HOME/siphon/themes, "
           "%s/themes or themes/ beside the binary)",
           name, SIPHON_SHARE_DIR);
  return -1;
}

void theme_apply(const struct theme *t)
{
  int colour = has_colors() && start_color() == OK;
  int wide = colour && COLORS >= 256;
  if (colour)
    use_default_colors();
  for (int i = 0; i < THEME_ROLE_COUNT; i++) {
    const struct theme_style *st = &t->role[i];
    int a = A_NORMAL;
    if (st->attrs & THEME_A_BOLD)
      a |= A_BOLD;
    if (st->attrs & THEME_A_DIM)
      a |= A_DIM;
    if (st->attrs & THEME_A_UNDERLINE)
      a |= A_UNDERLINE;
    if (st->attrs & THEME_A_REVERSE)
      a |= A_REVERSE;
#ifdef A_ITALIC
    if (st->attrs & THEME_A_ITALIC)
      a |= A_ITALIC;
#endif
    short fg = wide ? st->fg256 : st->fg8, bg = wide ? st->bg256 : st->bg8;
    if (colour && (fg >= 0 || bg >= 0) && i + 1 < COLOR_PAIRS) {
      init_pair((short)(i + 1), fg, bg);
      a |= COLOR_PAIR(i + 1);
    }
    role_attrs[i] = a;
  }
}

int theme_attr(enum theme_role r)
{
  return (unsigned)r < THEME_ROLE_COUNT ? role_attrs[r] : (int)A_NORMAL;
}
