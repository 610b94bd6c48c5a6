/* test_cfg_plan.c - a run's plan: precedence step by step, several lists,
 * URL lists and stdin, list detection, the config file, URLs added later,
 * and the shipped examples. */
#include <fcntl.h>
#include <glob.h>

#include "siphon/fname.h"
#include "test_cfg_util.h"

TestSuite(cfg_plan, .init = tcu_setup, .fini = tcu_teardown);

static void cli_set(struct cfg_opts *cli, const char *key, const char *value)
{
  char err[CFG_ERR_MAX];
  cr_assert_eq(cfg_opts_set(cli, CFG_SCOPE_RUN, key, value, err, sizeof err), 0, "%s", err);
}

/* Each step of item > profile > command line > list [settings] > config >
 * default, shown on stall_timeout, with one item per step. */
Test(cfg_plan, precedence_each_step)
{
  tcu_write("siphon/config.ini", "[settings]\nstall_timeout = 10s\nretries = 1\n");
  tcu_write("l.ini",
            "[settings]\nretries = 2\n"
            "[profile.p]\nstall_timeout = 40s\nretries = 4\n"
            "[by_profile]\nurl = http://h/1\nprofile = p\n"
            "[by_item]\nurl = http://h/2\nprofile = p\nstall_timeout = 50s\nretries = 5\n"
            "[by_list]\nurl = http://h/3\n");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];

  /* config only (a URL from the command line has no list settings) */
  const char *in0[] = {"http://h/plain", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in0), 0, "%s", err);
  cr_assert_eq(tcu_item(&plan, "plain")->settings->stall_timeout_ms, 10000, "config > default");
  cr_assert_eq(tcu_item(&plan, "plain")->settings->connect_timeout_ms, 15000, "default");
  cfg_plan_free(&plan);

  /* without the command line */
  const char *in[] = {"l.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in), 0, "%s", err);
  cr_assert_eq(tcu_item(&plan, "by_list")->settings->retries, 2, "list [settings] > config");
  cr_assert_eq(tcu_item(&plan, "by_list")->settings->stall_timeout_ms, 10000,
               "config shows through");
  cr_assert_eq(tcu_item(&plan, "by_profile")->settings->retries, 4, "profile > list [settings]");
  cfg_plan_free(&plan);

  /* with the command line */
  struct cfg_opts cli = {0};
  cli_set(&cli, "stall_timeout", "25s");
  cli_set(&cli, "retries", "3");
  cr_assert_eq(tcu_load_cfg(&plan, &cli, NULL, 0, err, in), 0, "%s", err);
  cr_assert_eq(tcu_item(&plan, "by_list")->settings->stall_timeout_ms, 25000,
               "command line > config");
  cr_assert_eq(tcu_item(&plan, "by_list")->settings->retries, 3, "command line > list [settings]");
  cr_assert_eq(tcu_item(&plan, "by_profile")->settings->stall_timeout_ms, 40000,
               "profile > command line");
  cr_assert_eq(tcu_item(&plan, "by_profile")->settings->retries, 4);
  cr_assert_eq(tcu_item(&plan, "by_item")->settings->stall_timeout_ms, 50000, "item > profile");
  cr_assert_eq(tcu_item(&plan, "by_item")->settings->retries, 5);
  cfg_plan_free(&plan);
  cfg_opts_free(&cli);
}

Test(cfg_plan, headers_from_every_level_more_specific_replaces)
{
  tcu_write("siphon/config.ini", "[settings]\nheader = X-Config: c\nheader = X-Level: config\n");
  tcu_write("l.ini",
            "[settings]\nheader = X-List: l\nheader = x-level: list\n"
            "[profile.p]\nheader = X-Profile: p\nheader = X-LEVEL: profile\n"
            "[a]\nurl = http://h/a\nprofile = p\nheader = X-Item: i\nheader = X-Level: item\n"
            "[b]\nurl = http://h/b\nprofile = p\n"
            "[c]\nurl = http://h/c\n");
  struct cfg_opts cli = {0};
  cli_set(&cli, "header", "X-Cli: k");
  cli_set(&cli, "header", "X-Level: cli");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"l.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, &cli, NULL, 0, err, in), 0, "%s", err);
  const struct cfg_item *a = tcu_item(&plan, "a"), *b = tcu_item(&plan, "b"),
                        *c = tcu_item(&plan, "c");
  const char *all[] = {"X-Config", "X-List", "X-Cli", "X-Profile", "X-Item"};
  for (size_t i = 0; i < 5; i++)
    cr_assert_not_null(tcu_header(&a->settings->headers, all[i]), "item a lacks %s", all[i]);
  cr_assert_eq(a->settings->headers.n, 6, "one X-Level, not one per level");
  cr_assert_str_eq(tcu_header(&a->settings->headers, "X-Level"), "item");
  cr_assert_str_eq(tcu_header(&b->settings->headers, "X-Level"), "profile");
  cr_assert_str_eq(tcu_header(&c->settings->headers, "X-Level"), "cli");
  cr_assert_null(tcu_header(&c->settings->headers, "X-Profile"));
  cfg_plan_free(&plan);

  /* Without the command line, the list's beats the config's. */
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in), 0, "%s", err);
  cr_assert_str_eq(tcu_header(&tcu_item(&plan, "c")->settings->headers, "X-Level"), "list");
  cfg_plan_free(&plan);
  cfg_opts_free(&cli);
}

Test(cfg_plan, dirs_join_base_and_sub)
{
  tcu_write("l.ini",
            "[settings]\ndir = downloads\n"
            "[profile.p]\ndir = isos\n"
            "[plain]\nurl = http://h/1\n"
            "[by_profile]\nurl = http://h/2\nprofile = p\n"
            "[by_item]\nurl = http://h/3\nprofile = p\ndir = other/deep\n");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"l.ini", "http://h/argv.bin", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_str_eq(tcu_item(&plan, "plain")->settings->dir, "downloads");
  cr_assert_str_eq(tcu_item(&plan, "by_profile")->settings->dir, "downloads/isos");
  cr_assert_str_eq(tcu_item(&plan, "by_item")->settings->dir, "downloads/other/deep");
  cr_assert_str_eq(tcu_item(&plan, "argv.bin")->settings->dir, ".",
                   "a list's dir is for its items");
  cfg_plan_free(&plan);

  struct cfg_opts cli = {0};
  cli_set(&cli, "dir", "/srv/x/");
  cr_assert_eq(tcu_load_cfg(&plan, &cli, NULL, 1, err, in), 0, "%s", err);
  cr_assert_str_eq(tcu_item(&plan, "plain")->settings->dir, "/srv/x/");
  cr_assert_str_eq(tcu_item(&plan, "by_profile")->settings->dir, "/srv/x/isos");
  cr_assert_str_eq(tcu_item(&plan, "argv.bin")->settings->dir, "/srv/x/");
  cr_assert_str_eq(plan.run.dir, "/srv/x/");
  cfg_plan_free(&plan);
  cfg_opts_free(&cli);
}

Test(cfg_plan, per_host_from_profile_else_run)
{
  tcu_write("l.ini",
            "[settings]\nper_host = 3\n"
            "[profile.mirror]\nper_host = 8\n"
            "[m]\nurl = http://h/1\nprofile = mirror\n"
            "[n]\nurl = http://h/2\n");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"l.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_eq(tcu_item(&plan, "m")->settings->per_host, 8);
  cr_assert_eq(tcu_item(&plan, "n")->settings->per_host, 3);
  cr_assert_eq(plan.run.per_host, 3);
  cfg_plan_free(&plan);
}

Test(cfg_plan, several_lists)
{
  tcu_write("siphon/config.ini", "[settings]\nconcurrency = 2\nconn_idle = 5s\n");
  tcu_write("one.ini",
            "[settings]\nconcurrency = 5\nlog = one.log\ntimeout = 1m\n"
            "[a]\nurl = http://h/a\n");
  tcu_write("two.ini", "[settings]\nconcurrency = 7\n[b]\nurl = http://h/b\n");
  tcu_write("three.ini", "[c]\nurl = http://h/c\n");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"one.ini", "two.ini", "three.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in), 0, "%s", err);
  cr_assert_eq(plan.run.concurrency, 7, "the last list that sets it wins");
  cr_assert_str_eq(plan.run.log, "one.log", "a later list that does not set it keeps it");
  cr_assert_eq(plan.run.conn_idle_ms, 5000, "config shows through");
  cr_assert_eq(plan.run.max_connections, 64);
  cr_assert_str_eq(plan.run.theme, "default");
  cr_assert_eq(tcu_item(&plan, "a")->settings->timeout_ms, 60000);
  cr_assert_eq(tcu_item(&plan, "b")->settings->timeout_ms, 0,
               "per-item [settings] stay in their list");
  cr_assert_eq(tcu_item(&plan, "c")->settings->timeout_ms, 0);
  cr_assert_eq(plan.nitems, 3);
  cr_assert_str_eq(plan.items[0].name, "a");
  cr_assert_str_eq(plan.items[2].name, "c");
  cfg_plan_free(&plan);

  struct cfg_opts cli = {0};
  cli_set(&cli, "concurrency", "9");
  cr_assert_eq(tcu_load_cfg(&plan, &cli, NULL, 0, err, in), 0, "%s", err);
  cr_assert_eq(plan.run.concurrency, 9, "the command line beats every list");
  cfg_plan_free(&plan);
  cfg_opts_free(&cli);
}

Test(cfg_plan, url_lists)
{
  tcu_write("urls.txt",
            "# mirrors\n"
            "\n"
            "http://h/a.iso   \r\n"
            "   https://h/dir/b.tar.gz?x=1\n"
            "http://h/c%20d.bin\n"
            "http://h/\n");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"urls.txt", "https://h/argv.zip", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_eq(plan.nitems, 5);
  cr_assert_str_eq(plan.items[0].name, "a.iso");
  cr_assert_str_eq(plan.items[0].url, "http://h/a.iso");
  cr_assert_eq(plan.items[0].line, 3);
  cr_assert_str_eq(plan.items[0].settings->file, "urls.txt");
  cr_assert_str_eq(plan.items[1].name, "b.tar.gz");
  cr_assert_str_eq(plan.items[1].url, "https://h/dir/b.tar.gz?x=1");
  cr_assert_str_eq(plan.items[2].name, "c d.bin");
  cr_assert_str_eq(plan.items[3].name, "index.html");
  cr_assert_str_eq(plan.items[4].name, "argv.zip");
  cr_assert_str_eq(plan.items[4].settings->file, "");
  cr_assert_null(plan.items[4].output);
  cfg_plan_free(&plan);
}

Test(cfg_plan, urls_with_one_file_name_get_numbered_names)
{
  /* like wget and aria2: the later ones are renamed, in list order, so the
     same list names its files the same way on every run */
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"http://h/get?id=1", "http://h/get?id=2", "http://k/x/report.pdf",
                      "http://h/report.pdf", "http://h/report.pdf", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_eq(plan.nitems, 5);
  cr_assert_str_eq(plan.items[0].name, "get");
  cr_assert_null(plan.items[0].output);
  cr_assert_str_eq(plan.items[1].name, "get.1");
  cr_assert_str_eq(plan.items[1].output, "get.1", "the file takes the numbered name too");
  cr_assert_str_eq(plan.items[2].name, "report.pdf");
  cr_assert_str_eq(plan.items[3].name, "report.1.pdf");
  cr_assert_str_eq(plan.items[3].output, "report.1.pdf");
  cr_assert_str_eq(plan.items[4].name, "report.2.pdf");
  cfg_plan_free(&plan);
}

Test(cfg_plan, url_list_errors)
{
  tcu_expect_err("urls.txt", "http://h/a\n\n ftp://h/b\n", "urls.txt:3: not an http(s) URL: ftp://h/b");
  tcu_expect_err("urls.txt", "http://h/a\nhttp://h/a b\n",
                 "urls.txt:2: not an http(s) URL: http://h/a b");
  tcu_expect_err("urls.txt", "# only comments\n\n", "urls.txt: no downloads in this list");
  tcu_expect_err("urls.txt", "http://h/\xe2\x82\n", "urls.txt:1: not valid UTF-8 text");

  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"ftp://h/x", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), -1);
  cr_assert_str_eq(err, "not an http(s) URL: ftp://h/x");
  const char *in3[] = {"nosuch.txt", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in3), -1);
  cr_assert_str_eq(err, "nosuch.txt: No such file or directory");
}

Test(cfg_plan, stdin_list)
{
  tcu_write("in.txt", "http://h/one\n\nhttp://h/two\nnope\n");
  int fd = open("in.txt", O_RDONLY);
  cr_assert_geq(fd, 0);
  cr_assert_eq(dup2(fd, 0), 0);
  close(fd);
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"-", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), -1);
  cr_assert_str_eq(err, "stdin:4: not an http(s) URL: nope");

  tcu_write("in2.txt", "http://h/one\nhttp://h/two\n");
  fd = open("in2.txt", O_RDONLY);
  cr_assert_eq(dup2(fd, 0), 0);
  close(fd);
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_eq(plan.nitems, 2);
  cr_assert_str_eq(plan.items[1].name, "two");
  cr_assert_str_eq(plan.items[1].settings->file, "-");
  cr_assert_eq(plan.items[1].line, 2);
  cfg_plan_free(&plan);
}

Test(cfg_plan, list_kind_detection)
{
  /* INI by content: first line that is not blank or a comment starts with '['. */
  tcu_write("list.txt", "# a comment\n\n  [a]\nurl = http://h/a\n");
  /* INI by name, whatever the content. */
  tcu_write("UPPER.INI", "[b]\nurl = http://h/b\n");
  /* URLs, even with a '[' further down. */
  tcu_write("urls", "; not a comment in a URL list?\n");
  tcu_write("urls2", "# c\nhttp://h/c\n");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"list.txt", "UPPER.INI", "urls2", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_eq(plan.nitems, 3);
  cr_assert_str_eq(plan.items[0].name, "a");
  cr_assert_str_eq(plan.items[1].name, "b");
  cr_assert_str_eq(plan.items[2].name, "c");
  cfg_plan_free(&plan);
  const char *in2[] = {"urls", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in2), -1);
  cr_assert_str_eq(err, "urls:1: not an http(s) URL: ; not a comment in a URL list?");
}

Test(cfg_plan, config_file_locations)
{
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"http://h/x", NULL};

  /* No config anywhere: fine. */
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in), 0, "%s", err);
  cr_assert_eq(plan.items[0].settings->retries, 3);
  cfg_plan_free(&plan);

  /* $XDG_CONFIG_HOME/siphon/config.ini */
  tcu_write("xdg/siphon/config.ini", "[settings]\nretries = 11\n");
  setenv("XDG_CONFIG_HOME", "xdg", 1);
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in), 0, "%s", err);
  cr_assert_eq(plan.items[0].settings->retries, 11);
  cfg_plan_free(&plan);

  /* empty XDG_CONFIG_HOME: ~/.config/siphon/config.ini */
  tcu_write(".config/siphon/config.ini", "[settings]\nretries = 12\n");
  setenv("XDG_CONFIG_HOME", "", 1);
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in), 0, "%s", err);
  cr_assert_eq(plan.items[0].settings->retries, 12);
  cfg_plan_free(&plan);

  /* --no-config */
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_eq(plan.items[0].settings->retries, 3);
  cfg_plan_free(&plan);

  /* --config FILE, and a missing one is an error */
  tcu_write("mine.ini", "[settings]\nretries = 13\n");
  cr_assert_eq(tcu_load_cfg(&plan, NULL, "mine.ini", 0, err, in), 0, "%s", err);
  cr_assert_eq(plan.items[0].settings->retries, 13);
  cfg_plan_free(&plan);
  cr_assert_eq(tcu_load_cfg(&plan, NULL, "absent.ini", 0, err, in), -1);
  cr_assert_str_eq(err, "absent.ini: No such file or directory");
}

Test(cfg_plan, config_file_errors)
{
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"http://h/x", NULL};
  tcu_write("c1.ini", "[settings]\nretries = 1\n\n[ubuntu]\nurl = http://h/u\n");
  cr_assert_eq(tcu_load_cfg(&plan, NULL, "c1.ini", 0, err, in), -1);
  cr_assert_str_eq(err, "c1.ini:4: a config file holds only [settings] and [profile.NAME], "
                        "not a download like [ubuntu]");
  tcu_write("c2.ini", "[settings]\ntimeuot = 1s\n");
  cr_assert_eq(tcu_load_cfg(&plan, NULL, "c2.ini", 0, err, in), -1);
  cr_assert_str_eq(err, "c2.ini:2: unknown key 'timeuot' (did you mean 'timeout'?)");
  tcu_write("c3.ini", "[profile.p]\nconnect_timeout = soon\n");
  cr_assert_eq(tcu_load_cfg(&plan, NULL, "c3.ini", 0, err, in), -1);
  cr_assert_str_eq(err, "c3.ini:2: bad value 'soon' for connect_timeout: expected a duration "
                        "like 30s, 5m or 0");
  /* An empty config file is fine: it holds no downloads by design. */
  tcu_write("c4.ini", "");
  cr_assert_eq(tcu_load_cfg(&plan, NULL, "c4.ini", 0, err, in), 0, "%s", err);
  cfg_plan_free(&plan);
  /* A default config that exists but is broken is an error too. */
  tcu_write("siphon/config.ini", "[settings\n");
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in), -1);
  char want[256];
  snprintf(want, sizeof want, "%s/siphon/config.ini:1: missing ']' in section header", tcu_dir);
  cr_assert_str_eq(err, want);
}

Test(cfg_plan, list_profile_replaces_config_profile)
{
  tcu_write("siphon/config.ini", "[profile.p]\nretries = 1\ntimeout = 1m\n[profile.q]\nretries = 2\n");
  tcu_write("l.ini",
            "[profile.p]\nretries = 9\n"
            "[a]\nurl = http://h/a\nprofile = p\n"
            "[b]\nurl = http://h/b\nprofile = q\n");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"l.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in), 0, "%s", err);
  cr_assert_eq(tcu_item(&plan, "a")->settings->retries, 9);
  cr_assert_eq(tcu_item(&plan, "a")->settings->timeout_ms, 0, "replaced whole, not merged");
  cr_assert_eq(tcu_item(&plan, "b")->settings->retries, 2, "config profiles serve lists");
  cfg_plan_free(&plan);

  /* The config's profile, replaced by one list, may not be defined by another. */
  tcu_write("m.ini", "[c]\nurl = http://h/c\n[profile.p]\nretries = 3\n");
  const char *in2[] = {"l.ini", "m.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in2), -1);
  cr_assert_str_eq(err, "m.ini:3: profile 'p' is already defined at l.ini:1");
}

Test(cfg_plan, item_from_url_uses_config_and_command_line_only)
{
  tcu_write("siphon/config.ini", "[settings]\nretries = 7\nheader = X-C: 1\nper_host = 2\n");
  tcu_write("l.ini", "[settings]\ntimeout = 1m\ndir = listdir\n[a]\nurl = http://h/a\n");
  struct cfg_opts cli = {0};
  cli_set(&cli, "stall_timeout", "9s");
  cli_set(&cli, "dir", "out");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"l.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, &cli, NULL, 0, err, in), 0, "%s", err);
  struct cfg_item it;
  cr_assert_eq(cfg_item_from_url(&plan, "https://h/path/new.iso?x=1", &it, err, sizeof err), 0);
  cr_assert_str_eq(it.name, "new.iso");
  cr_assert_str_eq(it.url, "https://h/path/new.iso?x=1");
  cr_assert_str_eq(it.settings->dir, "out");
  cr_assert_null(it.output);
  cr_assert_eq(it.settings->retries, 7);
  cr_assert_eq(it.settings->stall_timeout_ms, 9000);
  cr_assert_eq(it.settings->timeout_ms, 0, "a list's [settings] do not apply");
  cr_assert_eq(it.settings->per_host, 2);
  cr_assert_str_eq(tcu_header(&it.settings->headers, "X-C"), "1");
  cfg_item_free(&it);
  cr_assert_eq(cfg_item_from_url(&plan, "file:///etc/passwd", &it, err, sizeof err), -1);
  cr_assert_str_eq(err, "not an http(s) URL: file:///etc/passwd");
  cfg_plan_free(&plan);
  cfg_opts_free(&cli);
}

Test(cfg_plan, no_inputs_is_an_empty_plan)
{
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_eq(plan.nitems, 0);
  cr_assert_eq(plan.run.concurrency, 4);
  cr_assert_str_eq(plan.run.dir, ".");
  cfg_plan_free(&plan);
}

Test(cfg_plan, many_items)
{
  enum { N = 3000 };
  char *text = malloc(N * 64), *p = text;
  for (int i = 0; i < N; i++)
    p += sprintf(p, "[item%d]\nurl = http://h/f%d\n", i, i);
  tcu_write("big.ini", text);
  free(text);
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"big.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_eq(plan.nitems, N);
  cr_assert_str_eq(plan.items[N - 1].name, "item2999");
  cr_assert_eq(plan.items[N - 1].line, 2 * N - 1);
  cfg_plan_free(&plan);
}

/* A long URL list: every URL and name comes back whole, long URLs (own
 * blocks of the packed text) among short ones, across many blocks, and a
 * name that is not the URL's tail (query, numbering) is its own. */
Test(cfg_plan, long_url_list_keeps_every_url_and_name)
{
  enum { N = 5000, LONG = 20000 };
  char *longpath = malloc(LONG + 1);
  memset(longpath, 'a', LONG);
  longpath[LONG] = '\0';
  size_t cap = (size_t)N * 48 + 4 * (LONG + 64);
  char *text = malloc(cap), *p = text;
  for (int i = 0; i < N; i++) {
    if (i % 1000 == 7)
      p += sprintf(p, "http://h/%d%s\n", i, longpath);
    else if (i == 42)
      p += sprintf(p, "http://h/q?x=%d\n", i);
    else if (i == 43)
      p += sprintf(p, "http://k/f1\n");
    else
      p += sprintf(p, "http://h/f%d\n", i);
  }
  tcu_write("long.txt", text);
  free(text);
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"long.txt", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  cr_assert_eq(plan.nitems, N);
  char want[LONG + 64];
  for (int i = 0; i < N; i++) {
    const struct cfg_item *it = &plan.items[i];
    if (i % 1000 == 7) {
      snprintf(want, sizeof want, "http://h/%d%s", i, longpath);
      cr_assert_str_eq(it->url, want, "item %d", i);
      char *name = fname_from_url(want); /* cut to a file name's length */
      cr_assert_str_eq(it->name, name, "item %d", i);
      cr_assert_lt(strlen(name), 300);
      free(name);
    } else if (i == 42) {
      cr_assert_str_eq(it->url, "http://h/q?x=42");
      cr_assert_str_eq(it->name, "q");
    } else if (i == 43) {
      cr_assert_str_eq(it->url, "http://k/f1");
      cr_assert_str_eq(it->name, "f1.1", "the second f1 is numbered");
    } else {
      snprintf(want, sizeof want, "http://h/f%d", i);
      cr_assert_str_eq(it->url, want, "item %d", i);
      cr_assert_str_eq(it->name, want + 9, "item %d", i);
    }
  }
  cfg_plan_free(&plan);
  free(longpath);
}

/* Every shipped example loads (loading makes no request). */
Test(cfg_examples, every_example_loads)
{
  glob_t g;
  cr_assert_eq(glob("examples/*.ini", 0, NULL, &g), 0,
               "no examples/*.ini: run the unit tests from the top of the repo");
  cr_assert_geq(g.gl_pathc, 4);
  for (size_t i = 0; i < g.gl_pathc; i++) {
    struct cfg_plan plan;
    char err[CFG_ERR_MAX];
    char *in[] = {g.gl_pathv[i]};
    cr_assert_eq(cfg_plan_load(&plan, NULL, NULL, 1, in, 1, err, sizeof err), 0, "%s", err);
    cr_assert_gt(plan.nitems, 0, "%s", g.gl_pathv[i]);
    cfg_plan_free(&plan);
  }
  globfree(&g);
}

/* A list from a pipe (siphon <(...)) is read once: deciding its kind must
 * not eat its first lines. */
Test(cfg_plan, list_from_a_pipe)
{
  const char *texts[] = {"# urls\nhttp://h/one\nhttp://h/two\n",
                         "; ini\n[one]\nurl = http://h/1\n[two]\nurl = http://h/2\n"};
  for (size_t i = 0; i < 2; i++) {
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(write(fds[1], texts[i], strlen(texts[i])), (ssize_t)strlen(texts[i]));
    close(fds[1]);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fds[0]);
    struct cfg_plan plan;
    char err[CFG_ERR_MAX];
    const char *in[] = {path, NULL};
    cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
    cr_assert_eq(plan.nitems, 2);
    cr_assert_str_eq(plan.items[0].name, "one");
    cr_assert_str_eq(plan.items[1].name, "two");
    cfg_plan_free(&plan);
    close(fds[0]);
  }
}

Test(cfg_plan, two_items_never_write_one_file)
{
  /* both URLs end in x.iso: one .part for two downloads would corrupt both */
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x.iso\n[b]\nurl = http://k/pub/x.iso\n",
                 "l.ini:3: 'b' would write the same file as 'a' (l.ini:1): x.iso; "
                 "give one an output");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/1\noutput = same.bin\n"
                          "[b]\nurl = http://h/2\noutput = same.bin\n",
                 "l.ini:4: 'b' would write the same file as 'a' (l.ini:1): same.bin; "
                 "give one an output");
  struct cfg_plan plan;
  /* different outputs, or different dirs, are fine */
  tcu_expect_ok(&plan, "l.ini", "[a]\nurl = http://h/x.iso\n[b]\nurl = http://k/x.iso\n"
                                "output = x2.iso\n[c]\nurl = http://m/x.iso\ndir = other\n");
  cr_assert_eq(plan.nitems, 3);
  cfg_plan_free(&plan);
}

/* A long list costs one settings block, not one per item: items of a list
 * and profile share theirs, an item with keys of its own gets its own
 * (or an equal neighbour's), and that never changes the others. */
Test(cfg_plan, items_of_one_list_share_their_settings)
{
  tcu_write("l.ini", "[settings]\nretries = 2\nheader = X-A: list\n"
                     "[profile.p]\ntimeout = 1m\n"
                     "[a]\nurl = http://h/a\n"
                     "[b]\nurl = http://h/b\n"
                     "[c]\nurl = http://h/c\ntimeout = 5s\nheader = X-A: own\n"
                     "[d]\nurl = http://h/d\n"
                     "[e]\nurl = http://h/e\nprofile = p\n"
                     "[f]\nurl = http://h/f\nprofile = p\n"
                     "[g]\nurl = http://h/g\nretries = 2\n");
  tcu_write("urls.txt", "http://h/u1\nhttp://h/u2\nhttp://h/u3\n");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"l.ini", "urls.txt", "http://h/argv", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), 0, "%s", err);
  const struct cfg_settings *a = tcu_item(&plan, "a")->settings;
  const struct cfg_settings *c = tcu_item(&plan, "c")->settings;
  const struct cfg_settings *e = tcu_item(&plan, "e")->settings;
  cr_assert_eq(tcu_item(&plan, "b")->settings, a, "items of one list share their settings");
  cr_assert_eq(tcu_item(&plan, "d")->settings, a, "an item after an override shares again");
  cr_assert_eq(tcu_item(&plan, "g")->settings, a, "keys equal to the list's: shared too");
  cr_assert_neq(c, a, "an item with keys of its own has its own settings");
  cr_assert_eq(c->timeout_ms, 5000);
  cr_assert_str_eq(tcu_header(&c->headers, "X-A"), "own");
  cr_assert_eq(a->timeout_ms, 0, "an override does not reach the neighbours");
  cr_assert_str_eq(tcu_header(&a->headers, "X-A"), "list");
  cr_assert_eq(a->retries, 2);
  cr_assert_eq(c->retries, 2);
  cr_assert_neq(e, a);
  cr_assert_eq(tcu_item(&plan, "f")->settings, e, "items of one profile share");
  cr_assert_eq(e->timeout_ms, 60000);
  cr_assert_str_eq(e->profile, "p");
  cr_assert_null(a->profile);
  const struct cfg_settings *u = tcu_item(&plan, "u1")->settings;
  cr_assert_eq(tcu_item(&plan, "u2")->settings, u);
  cr_assert_eq(tcu_item(&plan, "u3")->settings, u);
  cr_assert_str_eq(u->file, "urls.txt");
  cr_assert_eq(u->retries, 3, "a URL list has no [settings]");
  cr_assert_str_eq(tcu_item(&plan, "argv")->settings->file, "");
  cr_assert_eq(plan.nsettings, 5, "l.ini, its override, its profile, urls.txt, argv");

  struct cfg_item x, y;
  cr_assert_eq(cfg_item_from_url(&plan, "http://h/x", &x, err, sizeof err), 0);
  cr_assert_eq(cfg_item_from_url(&plan, "http://h/y", &y, err, sizeof err), 0);
  cr_assert_eq(x.settings, y.settings, "URLs added later share one too");
  cr_assert_eq(x.settings, &plan.add_settings);
  cfg_item_free(&x);
  cfg_item_free(&y);
  cfg_plan_free(&plan);
}

/* max_speed in [settings] (or on the command line) limits the run; in a
 * profile or an item it limits that item; the other network keys follow
 * the usual precedence. */
Test(cfg_plan, max_speed_and_network_keys)
{
  tcu_write("l.ini", "[settings]\nmax_speed = 4M\nproxy = http://127.0.0.1:3128\n"
                     "no_proxy = localhost\nhttp11 = yes\n"
                     "[profile.m]\nmax_speed = 1M\nproxy = none\ncacert = m.pem\n"
                     "insecure = on\nuser_agent = m/1\n"
                     "[plain]\nurl = http://h/1\n"
                     "[mirror]\nurl = http://h/2\nprofile = m\n"
                     "[own]\nurl = http://h/3\nprofile = m\nmax_speed = 256K\n");
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"l.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 0, err, in), 0, "%s", err);
  cr_assert_eq(plan.run.max_speed, 4 << 20, "[settings] max_speed is the run's");
  cr_assert_str_eq(plan.run.no_proxy, "localhost");
  cr_assert_eq(plan.run.http11, 1);
  cr_assert_null(plan.run.netrc_file);
  const struct cfg_item *p = tcu_item(&plan, "plain"), *m = tcu_item(&plan, "mirror"),
                        *o = tcu_item(&plan, "own");
  cr_assert_eq(p->settings->max_speed, 0, "an item without its own limit has none");
  cr_assert_eq(m->settings->max_speed, 1 << 20);
  cr_assert_eq(o->settings->max_speed, 256 << 10);
  cr_assert_str_eq(p->settings->proxy, "http://127.0.0.1:3128");
  cr_assert_str_eq(m->settings->proxy, "none");
  cr_assert_str_eq(m->settings->cacert, "m.pem");
  cr_assert_str_eq(m->settings->user_agent, "m/1");
  cr_assert_null(p->settings->cacert);
  cr_assert_null(p->settings->user_agent);
  cr_assert(m->settings->insecure && !p->settings->insecure);
  cr_assert_eq(cfg_plan_insecure(&plan), 1);
  cfg_plan_free(&plan);

  /* --netrc is ~/.netrc; --netrc-file wins over it */
  struct cfg_opts cli = {0};
  cli_set(&cli, "netrc", "true");
  const char *in2[] = {"http://h/x", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, &cli, NULL, 0, err, in2), 0, "%s", err);
  char want[600];
  snprintf(want, sizeof want, "%s/.netrc", getenv("HOME"));
  cr_assert_str_eq(plan.run.netrc_file, want);
  cr_assert_eq(cfg_plan_insecure(&plan), 0);
  cfg_plan_free(&plan);
  cli_set(&cli, "netrc_file", "other.rc");
  cr_assert_eq(tcu_load_cfg(&plan, &cli, NULL, 0, err, in2), 0, "%s", err);
  cr_assert_str_eq(plan.run.netrc_file, "other.rc");
  cfg_plan_free(&plan);
  cfg_opts_free(&cli);
}
