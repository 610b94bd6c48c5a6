/* test_args.c - the command line: every option of SPEC.md's table, its
 * errors, inputs in order, and the --help text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "siphon/args.h"

static struct args a;
static char err[CFG_ERR_MAX];

/* Parse a NULL-terminated argument list (argv[0] added). */
static char *argvbuf[64];
static int parse(const char *const *args)
{
  int argc = 0;
  argvbuf[argc++] = "siphon";
  while (*args && argc < 63)
    argvbuf[argc++] = (char *)*args++;
  argvbuf[argc] = NULL;
  err[0] = '\0';
  return args_parse(&a, argc, argvbuf, err, sizeof err);
}

static void parse_ok(const char *const *args)
{
  int rc = parse(args);
  cr_assert_eq(rc, 0, "should parse, got: %s", err);
}

static void parse_bad(const char *const *args, const char *msg)
{
  cr_assert_eq(parse(args), -1, "should fail with: %s", msg);
  cr_assert_str_eq(err, msg);
}

static void fini(void)
{
  args_free(&a);
}

TestSuite(args, .fini = fini);

Test(args, every_setting_option)
{
  const char *v[] = {"-j",        "8",        "--per-host",      "2",      "--max-connections",
                     "10",        "--buffer-size", "1M",         "--timeout", "1h",
                     "--connect-timeout", "5s", "--stall-timeout", "0",     "--retries",
                     "0",         "--conn-idle", "2s",           "--conn-lifetime", "1m",
                     "--dns-ttl", "30s",      "-d",              "out",    "--overwrite",
                     "--header",  "X-A: 1",   "--header",        "X-B: 2", "--theme",
                     "mono",      "--log",    "req.log",         "--max-speed", "2M",
                     "--proxy",   "socks5h://u:p@127.0.0.1:1080",   "--no-proxy", "a,b",
                     "--user-agent", "ua/1",  "--cacert",        "ca.pem", "--insecure",
                     "--netrc",   "--netrc-file", "n.rc",        "--http1.1", "--no-bell",
                     "-s",        "8",        "--min-segment",  "1M",     NULL};
  parse_ok(v);
  struct cfg_opts *c = &a.cli;
  cr_assert_eq(c->concurrency, 8);
  cr_assert_eq(c->per_host, 2);
  cr_assert_eq(c->max_connections, 10);
  cr_assert_eq(c->buffer_size, 1 << 20);
  cr_assert_eq(c->timeout_ms, 3600000);
  cr_assert_eq(c->connect_timeout_ms, 5000);
  cr_assert_eq(c->stall_timeout_ms, 0);
  cr_assert_eq(c->retries, 0);
  cr_assert_eq(c->conn_idle_ms, 2000);
  cr_assert_eq(c->conn_lifetime_ms, 60000);
  cr_assert_eq(c->dns_ttl_ms, 30000);
  cr_assert_str_eq(c->dir, "out");
  cr_assert_eq(c->overwrite, 1);
  cr_assert_eq(c->headers.n, 2);
  cr_assert_str_eq(c->headers.v[0], "X-A: 1");
  cr_assert_str_eq(c->headers.v[1], "X-B: 2");
  cr_assert_str_eq(c->theme, "mono");
  cr_assert_str_eq(c->log, "req.log");
  cr_assert_eq(c->bell, 0, "--no-bell is bell = no");
  cr_assert_eq(c->max_speed, 2 << 20);
  cr_assert_str_eq(c->proxy, "socks5h://u:p@127.0.0.1:1080");
  cr_assert_str_eq(c->no_proxy, "a,b");
  cr_assert_str_eq(c->user_agent, "ua/1");
  cr_assert_str_eq(c->cacert, "ca.pem");
  cr_assert_str_eq(c->netrc_file, "n.rc");
  cr_assert(c->insecure && c->netrc && c->http11);
  cr_assert_eq(c->segments, 8);
  cr_assert_eq(c->min_segment, 1 << 20);
  cr_assert_eq(c->set, (1u << CFG_KEY_COUNT) - 1, "every key was given");
  cr_assert_eq(a.ninputs, 0);
}

Test(args, nothing_given_sets_nothing)
{
  const char *v[] = {NULL};
  parse_ok(v);
  cr_assert_eq(a.cli.set, 0, "defaults come from cfg, not from args");
  cr_assert_eq(a.ninputs, 0);
  cr_assert_eq(a.headless + a.json + a.help + a.version + a.no_config, 0);
  cr_assert_null(a.config);
}

Test(args, flags_and_config)
{
  const char *v[] = {"--headless", "--json", "--no-config", "--config", "c.ini", "-h", "-V",
                     "--concurrency=3", NULL};
  parse_ok(v);
  cr_assert(a.headless && a.json && a.no_config && a.help && a.version);
  cr_assert_str_eq(a.config, "c.ini");
  cr_assert_eq(a.cli.concurrency, 3);
  const char *w[] = {"--help", "--version", NULL};
  parse_ok(w);
  cr_assert(a.help && a.version);
}

Test(args, inputs_in_order_with_dash_and_double_dash)
{
  const char *v[] = {"a.ini", "-j", "2", "http://h/x", "-", "--headless", "--", "-j", "--x.txt",
                     NULL};
  parse_ok(v);
  cr_assert_eq(a.cli.concurrency, 2, "options after inputs still count");
  cr_assert(a.headless);
  cr_assert_eq(a.ninputs, 5);
  cr_assert_str_eq(a.inputs[0], "a.ini");
  cr_assert_str_eq(a.inputs[1], "http://h/x");
  cr_assert_str_eq(a.inputs[2], "-");
  cr_assert_str_eq(a.inputs[3], "-j", "after --, everything is an input");
  cr_assert_str_eq(a.inputs[4], "--x.txt");
}

Test(args, bad_values_name_the_option)
{
  const char *v1[] = {"--timeout", "x", NULL};
  parse_bad(v1, "option --timeout: bad value 'x': expected a duration like 30s, 5m or 0");
  const char *v2[] = {"-j", "0", NULL};
  parse_bad(v2, "option --concurrency: bad value '0': expected a whole number from 1 to 1000000");
  const char *v3[] = {"--buffer-size=9M", NULL};
  parse_bad(v3, "option --buffer-size: bad value '9M': expected a size from 16K to 8M, like 128K");
  const char *v4[] = {"--header", "oops", NULL};
  parse_bad(v4, "option --header: bad value '***': expected 'Name: value'");
  const char *v5[] = {"--retries", "-1", NULL};
  parse_bad(v5, "option --retries: bad value '-1': expected a whole number from 0 to 1000000");
  const char *v6[] = {"--per-host", "", NULL};
  parse_bad(v6, "option --per-host: bad value '': expected a whole number from 1 to 1000000");
  const char *v7[] = {"--dir=", NULL};
  parse_bad(v7, "option --dir: bad value '': expected a directory");
  const char *v8[] = {"-s", "33", NULL};
  parse_bad(v8, "option --segments: bad value '33': expected a whole number from 1 to 32");
  const char *v9[] = {"--segments=0", NULL};
  parse_bad(v9, "option --segments: bad value '0': expected a whole number from 1 to 32");
  const char *v10[] = {"--min-segment", "8K", NULL};
  parse_bad(v10, "option --min-segment: bad value '8K': expected a size of at least 16K, like 4M");
  const char *v11[] = {"--min-segment", "4Q", NULL};
  parse_bad(v11, "option --min-segment: bad value '4Q': expected a size of at least 16K, like 4M");
  cr_assert_eq(a.cli.set, 0, "a failed parse leaves nothing to free");
}

Test(args, unknown_and_missing)
{
  const char *v1[] = {"--foo", NULL};
  parse_bad(v1, "unknown option '--foo'");
  const char *v2[] = {"--foo=bar", "x", NULL};
  parse_bad(v2, "unknown option '--foo'");
  const char *v3[] = {"-x", NULL};
  parse_bad(v3, "unknown option '-x'");
  const char *h1[] = {"--concurency", "2", NULL};
  parse_bad(h1, "unknown option '--concurency' (did you mean '--concurrency'?)");
  const char *h2[] = {"--stall-timout=1s", NULL};
  parse_bad(h2, "unknown option '--stall-timout' (did you mean '--stall-timeout'?)");
  const char *h3[] = {"--overwirte", NULL};
  parse_bad(h3, "unknown option '--overwirte' (did you mean '--overwrite'?)");
  const char *h4[] = {"--conn", "1s", NULL};
  parse_bad(h4, "ambiguous option '--conn' (--connect-timeout, --conn-idle, --conn-lifetime)");
  const char *h5[] = {"--bogus-option", NULL};
  parse_bad(h5, "unknown option '--bogus-option'");
  const char *v4[] = {"--concurrency", NULL};
  parse_bad(v4, "option --concurrency needs a value");
  const char *v5[] = {"a.ini", "-j", NULL};
  parse_bad(v5, "option --concurrency needs a value");
  const char *v6[] = {"--timeout", NULL};
  parse_bad(v6, "option --timeout needs a value");
  const char *v7[] = {"--overwrite=yes", NULL};
  parse_bad(v7, "option --overwrite takes no value");
  const char *v8[] = {"--config", NULL};
  parse_bad(v8, "option --config needs a value");
}

Test(args, repeated_parses_start_over)
{
  const char *v1[] = {"-j", "5", "one", NULL};
  parse_ok(v1);
  args_free(&a);
  const char *v2[] = {"two", "three", NULL};
  parse_ok(v2);
  cr_assert_eq(a.cli.set, 0);
  cr_assert_eq(a.ninputs, 2);
  cr_assert_str_eq(a.inputs[0], "two");
}

Test(args, usage_lists_every_option_and_exit_codes)
{
  const char *u = args_usage();
  const char *want[] = {"-j, --concurrency N", "--per-host N",       "--max-connections N",
                        "--buffer-size SIZE",  "--timeout DUR",      "--connect-timeout DUR",
                        "--stall-timeout DUR", "--retries N",        "--conn-idle DUR",
                        "--conn-lifetime DUR", "--dns-ttl DUR",      "-d, --dir DIR",
                        "--overwrite",         "--header 'K: V'",    "--theme NAME",
                        "--log FILE",          "--config FILE",      "--no-config",
                        "--headless",          "--json",             "-h, --help",
                        "--max-speed SIZE",    "--proxy URL",        "--no-proxy HOSTS",
                        "--user-agent STR",    "--cacert FILE",      "--insecure",
                        "--netrc ",            "--netrc-file FILE",  "--http1.1",
                        "-V, --version",       "default 4",          "(default 128K)",
                        "-s, --segments N",    "--min-segment SIZE", "(default 4M)",
                        "16K..8M",             "Exit status: 0",     "2 usage or list error",
                        "130 interrupted"};
  for (size_t i = 0; i < sizeof want / sizeof *want; i++)
    cr_assert(strstr(u, want[i]), "--help lacks \"%s\"", want[i]);
  /* Fits an 80-column terminal. */
  for (const char *p = u; *p;) {
    size_t n = strcspn(p, "\n");
    cr_assert_leq(n, 80, "help line too long: %.*s", (int)n, p);
    p += n + (p[n] == '\n');
  }
}

/* SPEC: a header's value is never shown, not even when the line is malformed. */
Test(args, bad_header_value_never_shown)
{
  const char *v1[] = {"--header", "X-Api-Key sekrit-123", NULL};
  parse_bad(v1, "option --header: bad value '***': expected 'Name: value'");
  const char *v2[] = {"--header", "Authorization: Bearer ab\x01sekrit", NULL};
  parse_bad(v2, "option --header: bad value 'Authorization: ***': expected 'Name: value'");
}
