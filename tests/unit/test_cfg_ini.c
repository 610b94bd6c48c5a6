/* test_cfg_ini.c - INI lists: every key, every error with its exact
 * FILE:LINE text, and the lines and names Debian's inih would cut. */
#include "test_cfg_util.h"

TestSuite(cfg_ini, .init = tcu_setup, .fini = tcu_teardown);

Test(cfg_ini, every_item_key)
{
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini",
                "; a list\n"
                "[settings]\n"
                "dir = downloads\n"
                "\n"
                "[profile.mirror]\n"
                "per_host = 8\n"
                "header = Authorization: Bearer abc\n"
                "\n"
                "[ubuntu]\n"
                "url = https://example.org/ubuntu.iso    ; required\n"
                "output = ubuntu.iso\n"
                "dir = isos\n"
                "profile = mirror\n"
                "timeout = 2h\n"
                "connect_timeout = 10s\n"
                "stall_timeout = 1m\n"
                "buffer_size = 1M\n"
                "retries = 5\n"
                "overwrite = yes\n"
                "header = X-Token: 1\n"
                "header = X-Other: 2\n"
                "sha256 = 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n");
  cr_assert_eq(plan.nitems, 1);
  const struct cfg_item *it = &plan.items[0];
  cr_assert_str_eq(it->name, "ubuntu");
  cr_assert_str_eq(it->url, "https://example.org/ubuntu.iso");
  cr_assert_str_eq(it->output, "ubuntu.iso");
  cr_assert_str_eq(it->settings->dir, "downloads/isos");
  cr_assert_str_eq(it->settings->profile, "mirror");
  cr_assert_eq(it->settings->per_host, 8);
  cr_assert_eq(it->settings->timeout_ms, 7200000);
  cr_assert_eq(it->settings->connect_timeout_ms, 10000);
  cr_assert_eq(it->settings->stall_timeout_ms, 60000);
  cr_assert_eq(it->settings->buffer_size, 1 << 20);
  cr_assert_eq(it->settings->retries, 5);
  cr_assert_eq(it->settings->overwrite, 1);
  cr_assert_str_eq(cfg_plan_sha256(&plan, 0),
                   "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  cr_assert_eq(it->settings->headers.n, 3);
  cr_assert_str_eq(tcu_header(&it->settings->headers, "Authorization"), "Bearer abc");
  cr_assert_str_eq(tcu_header(&it->settings->headers, "X-Token"), "1");
  cr_assert_str_eq(tcu_header(&it->settings->headers, "X-Other"), "2");
  cr_assert_str_eq(it->settings->file, "l.ini");
  cr_assert_eq(it->line, 9);
  cfg_plan_free(&plan);
}

Test(cfg_ini, items_keep_file_order_and_defaults)
{
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini",
                "[b]\nurl = http://h/1\n[a]\nurl = http://h/2\n[c]\nurl = http://h/3\n");
  cr_assert_eq(plan.nitems, 3);
  cr_assert_str_eq(plan.items[0].name, "b");
  cr_assert_str_eq(plan.items[1].name, "a");
  cr_assert_str_eq(plan.items[2].name, "c");
  const struct cfg_item *it = &plan.items[0];
  cr_assert_null(it->output);
  cr_assert_null(it->settings->profile);
  cr_assert_str_eq(it->settings->dir, ".");
  cr_assert_null(cfg_plan_sha256(&plan, 0), "no sha256 key, no checksum");
  cr_assert_eq(it->settings->per_host, 6);
  cr_assert_eq(it->settings->retries, 3);
  cr_assert_eq(it->settings->timeout_ms, 0);
  cr_assert_eq(it->settings->stall_timeout_ms, 30000);
  cr_assert_eq(it->settings->buffer_size, 128 * 1024);
  cfg_plan_free(&plan);
}

/* The checksums are kept beside the items, not in them: each item finds
 * its own, whichever of its neighbours have one. */
Test(cfg_ini, sha256_belongs_to_its_own_item)
{
  struct cfg_plan plan;
  const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const char *c = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
  const char *e = "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee";
  char text[1024];
  snprintf(text, sizeof text,
           "[a]\nurl = http://h/a\nsha256 = %s\n[b]\nurl = http://h/b\n"
           "[c]\nurl = http://h/c\nsha256 = %s\n[d]\nurl = http://h/d\n"
           "[e]\nurl = http://h/e\nsha256 = %s\n",
           a, c, e);
  tcu_expect_ok(&plan, "l.ini", text);
  cr_assert_eq(plan.nitems, 5);
  cr_assert_str_eq(cfg_plan_sha256(&plan, 0), a);
  cr_assert_null(cfg_plan_sha256(&plan, 1));
  cr_assert_str_eq(cfg_plan_sha256(&plan, 2), c);
  cr_assert_null(cfg_plan_sha256(&plan, 3));
  cr_assert_str_eq(cfg_plan_sha256(&plan, 4), e);
  cr_assert_null(cfg_plan_sha256(&plan, 5), "an added item (past the plan's) has none");
  cfg_plan_free(&plan);
}

/* --- every error, with the exact text --- */

Test(cfg_ini, unknown_key_with_hint)
{
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\ntiemout = 5s\n",
                 "l.ini:3: unknown key 'tiemout' (did you mean 'timeout'?)");
  tcu_expect_err("m.ini", "[settings]\nbogusness = 1\n[a]\nurl = http://h/x\n",
                 "m.ini:2: unknown key 'bogusness'");
}

Test(cfg_ini, missing_url_names_the_section_line)
{
  tcu_expect_err("l.ini", "\n[a]\noutput = x\n\n[b]\nurl = http://h/x\n",
                 "l.ini:2: [a] has no url");
  tcu_expect_err("m.ini", "[a]\nurl = http://h/x\n; last one\n[b]\nretries = 1\n",
                 "m.ini:4: [b] has no url");
  tcu_expect_err("n.ini", "[a]\nurl = http://h/x\n[empty]\n", "n.ini:3: [empty] has no url");
}

Test(cfg_ini, bad_values)
{
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\ntimeout = 5x\n",
                 "l.ini:3: bad value '5x' for timeout: expected a duration like 30s, 5m or 0");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nbuffer_size = 4K\n",
                 "l.ini:3: bad value '4K' for buffer_size: expected a size from 16K to 8M, "
                 "like 128K");
  tcu_expect_err("l.ini", "[settings]\nconcurrency = 0\n[a]\nurl = http://h/x\n",
                 "l.ini:2: bad value '0' for concurrency: expected a whole number from 1 to "
                 "1000000");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nretries = many\n",
                 "l.ini:3: bad value 'many' for retries: expected a whole number from 0 to "
                 "1000000");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\noverwrite = sure\n",
                 "l.ini:3: bad value 'sure' for overwrite: expected true/false, yes/no, on/off "
                 "or 1/0");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nheader = NoColon\n",
                 "l.ini:3: bad value '***' for header: expected 'Name: value'");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nsha256 = abc\n",
                 "l.ini:3: bad value 'abc' for sha256: expected 64 hex digits");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nprofile =\n",
                 "l.ini:3: bad value '' for profile: expected a profile name");
}

Test(cfg_ini, duplicate_item_names)
{
  tcu_expect_err("l.ini", "[a]\nurl = http://h/1\n\n[a]\nurl = http://h/2\n",
                 "l.ini:4: duplicate item name 'a' (first at l.ini:1)");

  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  tcu_write("one.ini", "[a]\nurl = http://h/1\n");
  tcu_write("two.ini", "[b]\nurl = http://h/2\n[a]\nurl = http://h/3\n");
  const char *in[] = {"one.ini", "two.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), -1);
  cr_assert_str_eq(err, "two.ini:3: duplicate item name 'a' (first at one.ini:1)");
}

Test(cfg_ini, unknown_profile_names_the_profile_line)
{
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nprofile = nope\n",
                 "l.ini:3: unknown profile 'nope'");
}

Test(cfg_ini, profiles_may_be_defined_after_use)
{
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini", "[a]\nurl = http://h/x\nprofile = p\n[profile.p]\nretries = 9\n");
  cr_assert_eq(plan.items[0].settings->retries, 9);
  cfg_plan_free(&plan);
}

Test(cfg_ini, output_and_dir_must_stay_inside)
{
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\noutput = /etc/passwd\n",
                 "l.ini:3: bad value '/etc/passwd' for output: expected a relative path "
                 "inside the download dir");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\noutput = ../x\n",
                 "l.ini:3: bad value '../x' for output: expected a relative path inside the "
                 "download dir");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\noutput = a/../../x\n",
                 "l.ini:3: bad value 'a/../../x' for output: expected a relative path inside "
                 "the download dir");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\ndir = ../up\n",
                 "l.ini:3: bad value '../up' for dir: expected a relative path inside the "
                 "download dir");
  tcu_expect_err("l.ini", "[profile.p]\ndir = /abs\n[a]\nurl = http://h/x\n",
                 "l.ini:2: bad value '/abs' for dir: expected a relative path inside the "
                 "download dir");
  /* output may name sub-directories. */
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "ok.ini", "[a]\nurl = http://h/x\noutput = sub/dir/file.bin\n");
  cr_assert_str_eq(plan.items[0].output, "sub/dir/file.bin");
  cfg_plan_free(&plan);
}

Test(cfg_ini, url_must_be_http)
{
  tcu_expect_err("l.ini", "[a]\nurl = ftp://h/x\n", "l.ini:2: not an http(s) URL: ftp://h/x");
  tcu_expect_err("l.ini", "[a]\nurl = not a url\n", "l.ini:2: not an http(s) URL: not a url");
  tcu_expect_err("l.ini", "[a]\nurl =\n", "l.ini:2: not an http(s) URL: ");
}

Test(cfg_ini, profile_defined_twice)
{
  tcu_expect_err("l.ini", "[profile.p]\nretries = 1\n[profile.p]\nretries = 2\n[a]\nurl = http://h/x\n",
                 "l.ini:3: profile 'p' is defined twice (first at line 1)");

  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  tcu_write("one.ini", "[profile.p]\nretries = 1\n[a]\nurl = http://h/1\n");
  tcu_write("two.ini", "[b]\nurl = http://h/2\n\n[profile.p]\nretries = 2\n");
  const char *in[] = {"one.ini", "two.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), -1);
  cr_assert_str_eq(err, "two.ini:4: profile 'p' is already defined at one.ini:1");
}

Test(cfg_ini, unknown_section_kinds)
{
  const char *want = "(expected [settings], [profile.NAME] or a download's name)";
  char msg[256];
  snprintf(msg, sizeof msg, "l.ini:2: unknown section kind [profile] %s", want);
  tcu_expect_err("l.ini", "\n[profile]\nretries = 1\n", msg);
  snprintf(msg, sizeof msg, "l.ini:1: unknown section kind [profile.] %s", want);
  tcu_expect_err("l.ini", "[profile.]\nretries = 1\n", msg);
  snprintf(msg, sizeof msg, "l.ini:1: unknown section kind [settings.x] %s", want);
  tcu_expect_err("l.ini", "[settings.x]\nretries = 1\n", msg);
  tcu_expect_err("l.ini", "[]\nurl = http://h/x\n", "l.ini:1: empty section name []");
}

Test(cfg_ini, syntax_errors)
{
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\njust some words\n",
                 "l.ini:3: expected 'key = value' or a [section]");
  tcu_expect_err("l.ini", "[a\nurl = http://h/x\n", "l.ini:1: missing ']' in section header");
  tcu_expect_err("l.ini", "[a] trailing\nurl = http://h/x\n",
                 "l.ini:1: unexpected text after ']'");
  tcu_expect_err("l.ini", "retries = 1\n[a]\nurl = http://h/x\n",
                 "l.ini:1: key 'retries' before any [section]");
}

Test(cfg_ini, keys_outside_their_scope)
{
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nconcurrency = 2\n",
                 "l.ini:3: 'concurrency' is a run-wide key: set it in [settings] or on the "
                 "command line, not in a download section");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nper_host = 2\n",
                 "l.ini:3: 'per_host' cannot be set per download: set it in a profile or "
                 "[settings]");
  tcu_expect_err("l.ini", "[profile.p]\nlog = x.log\n",
                 "l.ini:2: 'log' is a run-wide key: set it in [settings] or on the command "
                 "line, not in a profile");
  tcu_expect_err("l.ini", "[settings]\nurl = http://h/x\n",
                 "l.ini:2: 'url' belongs in a download section, not in [settings]");
}

Test(cfg_ini, duplicate_keys)
{
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nurl = http://h/y\n",
                 "l.ini:3: duplicate key 'url' in [a]");
  tcu_expect_err("l.ini", "[a]\nurl = http://h/x\nretries = 1\nretries = 2\n",
                 "l.ini:4: duplicate key 'retries' in [a]");
}

Test(cfg_ini, files_that_are_not_lists)
{
  tcu_expect_err("bad.ini", "[a]\nurl = http://h/\xff\n", "bad.ini:2: not valid UTF-8 text");
  tcu_expect_err("bad.ini", "[a]\n\xc0\xaf\n", "bad.ini:2: not valid UTF-8 text");
  tcu_expect_err("empty.ini", "", "empty.ini: no downloads in this list");
  tcu_expect_err("only.ini", "; nothing\n[settings]\nretries = 1\n",
                 "only.ini: no downloads in this list");
  mkdir("dir.ini", 0700);
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"dir.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), -1);
  cr_assert_str_eq(err, "dir.ini: is a directory, not a list");
  const char *in2[] = {"missing.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in2), -1);
  cr_assert_str_eq(err, "missing.ini: No such file or directory");
}

Test(cfg_ini, nul_byte)
{
  FILE *f = fopen("nul.ini", "wb");
  fwrite("[a]\nurl = http://h/x\n\0\n", 1, 23, f);
  fclose(f);
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"nul.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), -1);
  cr_assert_str_eq(err, "nul.ini:3: a NUL byte: not a text file");
}

/* A read that fails after the open (root can still hit this one). */
Test(cfg_ini, read_error_gives_errno_text)
{
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"/proc/self/mem", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), -1);
  cr_assert_str_eq(err, "/proc/self/mem: Input/output error");
}

Test(cfg_ini, unreadable_file)
{
  if (geteuid() == 0) {
    tcu_teardown(); /* a skipped test does not reach .fini */
    cr_skip_test("root reads any file");
  }
  tcu_write("secret.ini", "[a]\nurl = http://h/x\n");
  chmod("secret.ini", 0);
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  const char *in[] = {"secret.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), -1);
  cr_assert_str_eq(err, "secret.ini: Permission denied");
}

/* --- what Debian's inih (200-byte lines, 50-byte sections) would cut --- */

Test(cfg_ini, four_kib_url_loads_intact)
{
  char url[4200], text[8192];
  int n = snprintf(url, sizeof url, "https://example.org/file.bin?token=");
  memset(url + n, 'T', 4096 - (size_t)n);
  url[4096] = '\0';
  snprintf(text, sizeof text,
           "[big]\n"
           "url = %s\n"
           "retries = nope\n",
           url);
  /* The line after the long one is still counted right. */
  tcu_expect_err("l.ini", text,
                 "l.ini:3: bad value 'nope' for retries: expected a whole number from 0 to "
                 "1000000");

  snprintf(text, sizeof text, "[big]\nurl = %s   ; a comment after it\nretries = 7\n", url);
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "ok.ini", text);
  cr_assert_eq(strlen(plan.items[0].url), 4096);
  cr_assert_str_eq(plan.items[0].url, url);
  cr_assert_eq(plan.items[0].settings->retries, 7);
  cfg_plan_free(&plan);
}

Test(cfg_ini, long_header_and_bad_long_url_name_their_line)
{
  char val[1024], text[4096];
  memset(val, 'v', sizeof val - 1);
  val[sizeof val - 1] = '\0';
  snprintf(text, sizeof text, "[a]\nurl = http://h/x\nheader = X-Long: %s\n", val);
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini", text);
  cr_assert_str_eq(tcu_header(&plan.items[0].settings->headers, "X-Long"), val);
  cfg_plan_free(&plan);

  snprintf(text, sizeof text, "[a]\n\n\nurl = ftp://h/%s\n", val);
  char want[256];
  snprintf(want, sizeof want, "m.ini:4: not an http(s) URL: ftp://h/%.*s...", 52, val);
  tcu_expect_err("m.ini", text, want);

  /* A long line with no '=' is a syntax error on its own line. */
  snprintf(text, sizeof text, "[a]\nurl = http://h/x\n%s\n", val);
  tcu_expect_err("n.ini", text, "n.ini:3: expected 'key = value' or a [section]");
}

Test(cfg_ini, long_item_names_stay_whole_and_apart)
{
  char n120[121], a60[61], b60[61], text[1024];
  memset(n120, 'n', 120);
  n120[120] = '\0';
  memset(a60, 'x', 60);
  memcpy(b60, a60, 60);
  a60[59] = 'a';
  b60[59] = 'b';
  a60[60] = b60[60] = '\0';
  snprintf(text, sizeof text,
           "[%s]\nurl = http://h/1\n[%s]\nurl = http://h/2\n[%s]\nurl = http://h/3\n", n120,
           a60, b60);
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini", text);
  cr_assert_eq(plan.nitems, 3);
  cr_assert_str_eq(plan.items[0].name, n120);
  cr_assert_str_eq(plan.items[1].name, a60);
  cr_assert_str_eq(plan.items[2].name, b60);
  cr_assert_str_eq(plan.items[2].url, "http://h/3");
  cfg_plan_free(&plan);

  /* Two long names that are really the same are still a duplicate. */
  snprintf(text, sizeof text, "[%s]\nurl = http://h/1\n[%s]\nurl = http://h/2\n", a60, a60);
  char want[256];
  snprintf(want, sizeof want, "d.ini:3: duplicate item name '%s' (first at d.ini:1)", a60);
  tcu_expect_err("d.ini", text, want);
}

Test(cfg_ini, long_profile_name)
{
  char name[101], text[1024];
  memset(name, 'p', 100);
  name[100] = '\0';
  snprintf(text, sizeof text, "[profile.%s]\nretries = 8\n[a]\nurl = http://h/x\nprofile = %s\n",
           name, name);
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini", text);
  cr_assert_eq(plan.items[0].settings->retries, 8);
  cr_assert_str_eq(plan.items[0].settings->profile, name);
  cfg_plan_free(&plan);
}

Test(cfg_ini, long_comment_lines_are_skipped)
{
  char c[600], text[2048];
  memset(c, '#', sizeof c - 1);
  c[sizeof c - 1] = '\0';
  snprintf(text, sizeof text, "%s\n[a]\n;%s\nurl = http://h/x\nretries = x\n", c, c);
  tcu_expect_err("l.ini", text,
                 "l.ini:5: bad value 'x' for retries: expected a whole number from 0 to 1000000");
}

/* --- layout details --- */

Test(cfg_ini, indented_lines_crlf_and_bom)
{
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini",
                "\xEF\xBB\xBF[a]\r\n"
                "  url = http://h/x\r\n"
                "  retries = 2\r\n"
                "\t[b]\r\n"
                "\turl: http://h/y\r\n");
  cr_assert_eq(plan.nitems, 2);
  cr_assert_str_eq(plan.items[0].name, "a");
  cr_assert_str_eq(plan.items[0].url, "http://h/x");
  cr_assert_eq(plan.items[0].settings->retries, 2);
  cr_assert_str_eq(plan.items[1].url, "http://h/y");
  cfg_plan_free(&plan);
}

Test(cfg_ini, comments_and_values_with_semicolons)
{
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini",
                "# hash comment\n"
                "; semicolon comment\n"
                "[a]   ; the section\n"
                "url = http://h/x;y=1#frag ; inline comment\n"
                "header = Cookie: a=1;b=2\n");
  cr_assert_str_eq(plan.items[0].url, "http://h/x;y=1#frag");
  cr_assert_str_eq(tcu_header(&plan.items[0].settings->headers, "Cookie"), "a=1;b=2");
  cfg_plan_free(&plan);
}

Test(cfg_ini, repeated_settings_sections_merge)
{
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini",
                "[settings]\nretries = 1\n[a]\nurl = http://h/x\n[settings]\ntimeout = 5s\n");
  cr_assert_eq(plan.items[0].settings->retries, 1);
  cr_assert_eq(plan.items[0].settings->timeout_ms, 5000);
  cfg_plan_free(&plan);
}

/* segments and min_segment at every level, most specific first */
Test(cfg_ini, segments_at_every_level)
{
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini",
                "[settings]\n"
                "segments = 2\n"
                "min_segment = 1M\n"
                "[profile.fast]\n"
                "segments = 16\n"
                "[a]\nurl = http://h/1\n"
                "[b]\nurl = http://h/2\nprofile = fast\n"
                "[c]\nurl = http://h/3\nprofile = fast\nsegments = 1\nmin_segment = 64K\n");
  cr_assert_eq(plan.nitems, 3);
  cr_assert_eq(plan.items[0].settings->segments, 2);
  cr_assert_eq(plan.items[0].settings->min_segment, 1 << 20);
  cr_assert_eq(plan.items[1].settings->segments, 16);
  cr_assert_eq(plan.items[1].settings->min_segment, 1 << 20);
  cr_assert_eq(plan.items[2].settings->segments, 1);
  cr_assert_eq(plan.items[2].settings->min_segment, 64 << 10);
  cfg_plan_free(&plan);
  tcu_expect_ok(&plan, "m.ini", "[a]\nurl = http://h/1\n");
  cr_assert_eq(plan.items[0].settings->segments, 4, "default 4");
  cr_assert_eq(plan.items[0].settings->min_segment, 4 << 20, "default 4M");
  cfg_plan_free(&plan);
  tcu_expect_err("n.ini", "[a]\nurl = http://h/x\nsegments = 64\n",
                 "n.ini:3: bad value '64' for segments: expected a whole number from 1 to 32");
}

/* Issue 10, finding 7: a list is data; its [settings] may not send files
 * (or the log) anywhere but relative places inside the current dir. */
Test(cfg_ini, list_paths_stay_inside)
{
  tcu_expect_err("l.ini", "[settings]\nlog = /tmp/x.log\n[a]\nurl = http://h/x\n",
                 "l.ini:2: bad value '/tmp/x.log' for log: a list may only name a relative "
                 "path inside the current directory (use --log on the command line or the "
                 "config file)");
  tcu_expect_err("l.ini", "[settings]\ndir = /root/.ssh\n[a]\nurl = http://h/x\n",
                 "l.ini:2: bad value '/root/.ssh' for dir: a list may only name a relative "
                 "path inside the current directory (use -d on the command line or the "
                 "config file)");
  tcu_expect_err("l.ini", "[settings]\ndir = a/../../b\n[a]\nurl = http://h/x\n",
                 "l.ini:2: bad value 'a/../../b' for dir: a list may only name a relative "
                 "path inside the current directory (use -d on the command line or the "
                 "config file)");
  tcu_expect_err("l.ini", "[settings]\nlog = ../x.log\n[a]\nurl = http://h/x\n",
                 "l.ini:2: bad value '../x.log' for log: a list may only name a relative "
                 "path inside the current directory (use --log on the command line or the "
                 "config file)");
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "ok.ini", "[settings]\ndir = dl/sub\nlog = logs/s.log\n[a]\nurl = http://h/x\n");
  cr_assert_str_eq(plan.items[0].settings->dir, "dl/sub");
  cr_assert_str_eq(plan.run.log, "logs/s.log");
  cfg_plan_free(&plan);
  /* the config file may name other places */
  char err[CFG_ERR_MAX];
  tcu_write("conf.ini", "[settings]\ndir = /tmp\nlog = /tmp/siphon-test.log\n");
  tcu_write("l2.txt", "http://h/x\n");
  const char *in[] = {"l2.txt", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, "conf.ini", 0, err, in), 0, "%s", err);
  cr_assert_str_eq(plan.items[0].settings->dir, "/tmp");
  cfg_plan_free(&plan);
}

/* Issue 10, finding 15: a URL longer than 64 KiB is a list error naming
 * the line, whatever list it comes from. */
Test(cfg_ini, url_longer_than_64k)
{
  size_t n = 70 * 1024;
  char *url = malloc(n + 64);
  strcpy(url, "http://h/");
  memset(url + 9, 'a', n);
  url[9 + n] = '\0';
  char *ini = malloc(n + 128), *txt = malloc(n + 128);
  snprintf(ini, n + 128, "[a]\nurl = %s\n", url);
  snprintf(txt, n + 128, "# c\n%s\n", url);
  char want[128];
  snprintf(want, sizeof want, "l.ini:2: URL longer than 64 KiB (%zu bytes): http://h/aaaa", n + 9);
  struct cfg_plan plan;
  char err[CFG_ERR_MAX];
  tcu_write("l.ini", ini);
  const char *in[] = {"l.ini", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in), -1);
  cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
  tcu_write("l.txt", txt);
  const char *in2[] = {"l.txt", NULL};
  cr_assert_eq(tcu_load_cfg(&plan, NULL, NULL, 1, err, in2), -1);
  cr_assert(strncmp(err, "l.txt:2: URL longer than 64 KiB", 31) == 0, "%s", err);
  free(url);
  free(ini);
  free(txt);
}

/* Issue 10, findings 1 and 16: an output that ends like siphon's own files
 * gets '_'; one too long for NAME.part.meta is cut, its extension kept. */
Test(cfg_ini, output_names_fit)
{
  char big[400];
  memset(big, 'b', 250);
  strcpy(big + 250, ".iso");
  char text[600];
  snprintf(text, sizeof text,
           "[a]\nurl = http://h/x\noutput = y.part\n[b]\nurl = http://h/z\noutput = d/%s\n"
           "[c]\nurl = http://h/y.part.meta\n", big);
  struct cfg_plan plan;
  tcu_expect_ok(&plan, "l.ini", text);
  cr_assert_str_eq(tcu_item(&plan, "a")->output, "y.part_");
  const char *o = tcu_item(&plan, "b")->output;
  cr_assert_eq(strlen(o), 2 + 241, "%s", o);
  cr_assert(strncmp(o, "d/bbb", 5) == 0 && strcmp(o + strlen(o) - 4, ".iso") == 0, "%s", o);
  cfg_plan_free(&plan);
}
