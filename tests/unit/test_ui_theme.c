/* test_ui_theme.c - theme files: every shipped theme parses, unknown roles
 * and colours are FILE:LINE errors, lookup order, and NO_COLOR. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/ui/theme.h"

static char tmpdir[64];

static void mk_tmp(void)
{
  snprintf(tmpdir, sizeof tmpdir, "/tmp/siphon-theme-XXXXXX");
  cr_assert_not_null(mkdtemp(tmpdir));
  unsetenv("NO_COLOR");
  setenv("XDG_CONFIG_HOME", tmpdir, 1);
}

static void rm_tmp(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
  cr_assert_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const char *text)
{
  static char path[256];
  snprintf(path, sizeof path, "%s/%s", tmpdir, name);
  FILE *f = fopen(path, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

TestSuite(ui_theme, .init = mk_tmp, .fini = rm_tmp);

Test(ui_theme, shipped_themes_parse)
{
  static const char *const files[] = {"themes/default.ini", "themes/mono.ini",
                                      "themes/solarized.ini"};
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    struct theme t;
    char err[512] = "";
    cr_assert_eq(theme_load(&t, files[i], NULL, err, sizeof err), 0, "%s: %s", files[i],
                 err);
    cr_assert_str_eq(t.source, files[i]);
  }
}

Test(ui_theme, every_role_is_in_the_default_file)
{
  FILE *f = fopen("themes/default.ini", "r");
  cr_assert_not_null(f);
  char text[8192];
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  for (int r = 0; r < THEME_ROLE_COUNT; r++) {
    char key[64];
    snprintf(key, sizeof key, "\n%s ", theme_role_key((enum theme_role)r));
    cr_assert_not_null(strstr(text, key), "role '%s' missing", theme_role_key(r));
  }
}

Test(ui_theme, values)
{
  struct theme_style st;
  char bad[64];
  cr_assert_eq(theme_parse_style("214/yellow on default bold", &st, bad, sizeof bad), 0);
  cr_assert_eq(st.fg256, 214);
  cr_assert_eq(st.fg8, 3);
  cr_assert_eq(st.bg256, -1);
  cr_assert_eq(st.attrs, THEME_A_BOLD);
  cr_assert_eq(theme_parse_style("bright-red on 17", &st, bad, sizeof bad), 0);
  cr_assert_eq(st.fg256, 9);
  cr_assert_eq(st.fg8, 1);
  cr_assert_eq(st.bg256, 17);
  cr_assert_eq(st.bg8, 0, "dark blue 17 maps to black on 8 colours");
  cr_assert_eq(theme_parse_style("red on pink", &st, bad, sizeof bad), -1);
  cr_assert_str_eq(bad, "pink");
  cr_assert_eq(theme_parse_style("256", &st, bad, sizeof bad), -1);
  cr_assert_eq(theme_parse_style("red green", &st, bad, sizeof bad), -1, "two foregrounds");
}

Test(ui_theme, unknown_colour_names_file_and_line)
{
  const char *p = write_file("bad.ini", "; a comment\n[theme]\nrunning = cyan\n\n"
                                        "paused = purplish bold\n");
  struct theme t;
  char err[512] = "", want[300];
  cr_assert_eq(theme_load(&t, p, NULL, err, sizeof err), -1);
  snprintf(want, sizeof want, "%s:5: unknown colour 'purplish'", p);
  cr_assert_str_eq(err, want);
}

Test(ui_theme, unknown_role_names_file_and_line)
{
  const char *p = write_file("bad.ini", "[theme]\nrunning = cyan\nblinking = red\n");
  struct theme t;
  char err[512] = "", want[300];
  cr_assert_eq(theme_load(&t, p, NULL, err, sizeof err), -1);
  snprintf(want, sizeof want, "%s:3: unknown role 'blinking'", p);
  cr_assert_str_eq(err, want);
}

Test(ui_theme, syntax_error_names_its_line)
{
  const char *p = write_file("bad.ini", "[theme]\nrunning = cyan\njust words\n");
  struct theme t;
  char err[512] = "";
  cr_assert_eq(theme_load(&t, p, NULL, err, sizeof err), -1);
  cr_assert_not_null(strstr(err, "bad.ini:3:"), "%s", err);
}

Test(ui_theme, found_by_name_in_xdg_config)
{
  char dir[128];
  snprintf(dir, sizeof dir, "%s/siphon", tmpdir);
  cr_assert_eq(mkdir(dir, 0700), 0);
  snprintf(dir, sizeof dir, "%s/siphon/themes", tmpdir);
  cr_assert_eq(mkdir(dir, 0700), 0);
  write_file("siphon/themes/mine.ini", "[theme]\ndone = 2 bold\n");
  struct theme t;
  char err[512] = "";
  cr_assert_eq(theme_load(&t, "mine", NULL, err, sizeof err), 0, "%s", err);
  cr_assert_eq(t.role[THEME_DONE].fg256, 2);
  cr_assert_not_null(strstr(t.source, "siphon/themes/mine.ini"));
}

Test(ui_theme, unknown_name_is_an_error)
{
  struct theme t;
  char err[512] = "";
  cr_assert_eq(theme_load(&t, "no-such-theme", NULL, err, sizeof err), -1);
  cr_assert_not_null(strstr(err, "no-such-theme"));
}

Test(ui_theme, no_color_picks_mono)
{
  struct theme t;
  char err[512] = "";
  setenv("NO_COLOR", "1", 1);
  cr_assert_eq(theme_load(&t, NULL, NULL, err, sizeof err), 0, "%s", err);
  for (int r = 0; r < THEME_ROLE_COUNT; r++) {
    cr_assert_eq(t.role[r].fg256, -1, "role %s has a colour", theme_role_key(r));
    cr_assert_eq(t.role[r].bg256, -1, "role %s has a colour", theme_role_key(r));
  }
  setenv("NO_COLOR", "", 1);
  cr_assert_eq(theme_load(&t, NULL, NULL, err, sizeof err), 0, "%s", err);
  cr_assert_neq(t.role[THEME_RUNNING].fg256, -1, "an empty NO_COLOR does not count");
}

/* Issue 10: a theme is hostile input too: a FIFO is never waited on and a
 * file over 64 KiB is refused, each with a message naming it. */
Test(theme, fifo_and_huge_files_are_refused, .init = mk_tmp, .fini = rm_tmp)
{
  struct theme t;
  char err[512], fifo[128], big[128];
  snprintf(fifo, sizeof fifo, "%s/fifo.ini", tmpdir);
  snprintf(big, sizeof big, "%s/big.ini", tmpdir);
  cr_assert_eq(mkfifo(fifo, 0600), 0);
  FILE *f = fopen(big, "w");
  for (int i = 0; i < 3000; i++)
    fputs("; a comment line that is long enough to add up\n", f);
  fclose(f);
  memset(&t, 0, sizeof t);
  cr_assert_eq(theme_parse_file(&t, fifo, err, sizeof err), -1);
  cr_assert(strstr(err, "fifo.ini") && strstr(err, "64 KiB"), "%s", err);
  cr_assert_eq(theme_parse_file(&t, big, err, sizeof err), -1);
  cr_assert(strstr(err, "big.ini") && strstr(err, "64 KiB"), "%s", err);
}
