/* test_cfg_opts.c - the key table: values, ranges, scopes, hints,
 * headers, layering and URL checks. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "siphon/cfg.h"

static struct cfg_opts o;
static char err[CFG_ERR_MAX];

static void reset(void)
{
  memset(&o, 0, sizeof o);
  err[0] = '\0';
}

static void done(void)
{
  cfg_opts_free(&o);
}

static void set_ok(enum cfg_scope scope, const char *key, const char *value)
{
  int rc = cfg_opts_set(&o, scope, key, value, err, sizeof err);
  cr_assert_eq(rc, 0, "%s = %s should be accepted, got: %s", key, value, err);
}

static void set_bad(enum cfg_scope scope, const char *key, const char *value, int want,
                    const char *msg)
{
  int rc = cfg_opts_set(&o, scope, key, value, err, sizeof err);
  cr_assert_eq(rc, want, "%s = %s: rc %d, want %d (%s)", key, value, rc, want, err);
  cr_assert_str_eq(err, msg);
}

TestSuite(cfg_opts, .init = reset, .fini = done);

Test(cfg_opts, defaults_are_specs)
{
  cfg_opts_defaults(&o);
  cr_assert_eq(o.set, (1u << CFG_KEY_COUNT) - 1);
  cr_assert_eq(o.concurrency, 4);
  cr_assert_eq(o.per_host, 6);
  cr_assert_eq(o.max_connections, 64);
  cr_assert_eq(o.buffer_size, 128 * 1024);
  cr_assert_eq(o.timeout_ms, 0);
  cr_assert_eq(o.connect_timeout_ms, 15000);
  cr_assert_eq(o.stall_timeout_ms, 30000);
  cr_assert_eq(o.retries, 3);
  cr_assert_eq(o.conn_idle_ms, 60000);
  cr_assert_eq(o.conn_lifetime_ms, 600000);
  cr_assert_eq(o.dns_ttl_ms, 60000);
  cr_assert_eq(o.segments, 4);
  cr_assert_eq(o.min_segment, 4 << 20);
  cr_assert_str_eq(o.dir, ".");
  cr_assert_eq(o.overwrite, 0);
  cr_assert_str_eq(o.theme, "default");
  cr_assert_null(o.log);
  cr_assert_eq(o.headers.n, 0);
}

Test(cfg_opts, values_are_stored_and_marked)
{
  set_ok(CFG_SCOPE_RUN, "concurrency", "8");
  set_ok(CFG_SCOPE_RUN, "per_host", "1");
  set_ok(CFG_SCOPE_RUN, "max-connections", "100");
  set_ok(CFG_SCOPE_RUN, "buffer_size", "1M");
  set_ok(CFG_SCOPE_RUN, "timeout", "1m30s");
  set_ok(CFG_SCOPE_RUN, "connect_timeout", "1.5s");
  set_ok(CFG_SCOPE_RUN, "stall_timeout", "0");
  set_ok(CFG_SCOPE_RUN, "retries", "0");
  set_ok(CFG_SCOPE_RUN, "dir", "/tmp/x");
  set_ok(CFG_SCOPE_RUN, "log", "run.log");
  set_ok(CFG_SCOPE_RUN, "theme", "dark");
  cr_assert_eq(o.concurrency, 8);
  cr_assert_eq(o.per_host, 1);
  cr_assert_eq(o.max_connections, 100);
  cr_assert_eq(o.buffer_size, 1024 * 1024);
  cr_assert_eq(o.timeout_ms, 90000);
  cr_assert_eq(o.connect_timeout_ms, 1500);
  cr_assert_eq(o.stall_timeout_ms, 0);
  cr_assert_eq(o.retries, 0);
  cr_assert_str_eq(o.dir, "/tmp/x");
  cr_assert_str_eq(o.log, "run.log");
  cr_assert_str_eq(o.theme, "dark");
  uint32_t want = (1u << CFG_KEY_concurrency) | (1u << CFG_KEY_per_host) |
                  (1u << CFG_KEY_max_connections) | (1u << CFG_KEY_buffer_size) |
                  (1u << CFG_KEY_timeout) | (1u << CFG_KEY_connect_timeout) |
                  (1u << CFG_KEY_stall_timeout) | (1u << CFG_KEY_retries) |
                  (1u << CFG_KEY_dir) | (1u << CFG_KEY_log) | (1u << CFG_KEY_theme);
  cr_assert_eq(o.set, want);
}

Test(cfg_opts, booleans)
{
  const char *yes[] = {"true", "yes", "on", "1", "TRUE", "Yes"};
  const char *no[] = {"false", "no", "off", "0", "False"};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    o.overwrite = 0;
    set_ok(CFG_SCOPE_ITEM, "overwrite", yes[i]);
    cr_assert_eq(o.overwrite, 1, "%s", yes[i]);
  }
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
    o.overwrite = 1;
    set_ok(CFG_SCOPE_ITEM, "overwrite", no[i]);
    cr_assert_eq(o.overwrite, 0, "%s", no[i]);
  }
  set_bad(CFG_SCOPE_RUN, "overwrite", "maybe", -2,
          "bad value 'maybe' for overwrite: expected true/false, yes/no, on/off or 1/0");
}

Test(cfg_opts, numbers_and_ranges)
{
  set_bad(CFG_SCOPE_RUN, "concurrency", "0", -2,
          "bad value '0' for concurrency: expected a whole number from 1 to 1000000");
  set_bad(CFG_SCOPE_RUN, "per_host", "-1", -2,
          "bad value '-1' for per_host: expected a whole number from 1 to 1000000");
  set_bad(CFG_SCOPE_RUN, "max_connections", "1.5", -2,
          "bad value '1.5' for max_connections: expected a whole number from 1 to 1000000");
  set_bad(CFG_SCOPE_RUN, "concurrency", " 4", -2,
          "bad value ' 4' for concurrency: expected a whole number from 1 to 1000000");
  set_bad(CFG_SCOPE_RUN, "concurrency", "99999999999999999999", -2,
          "bad value '99999999999999999999' for concurrency: expected a whole number from 1 "
          "to 1000000");
  set_bad(CFG_SCOPE_ITEM, "retries", "-1", -2,
          "bad value '-1' for retries: expected a whole number from 0 to 1000000");
  set_bad(CFG_SCOPE_ITEM, "retries", "", -2,
          "bad value '' for retries: expected a whole number from 0 to 1000000");
  cr_assert_eq(o.set, 0, "a rejected value must not mark the key as set");
}

Test(cfg_opts, sizes_and_durations)
{
  set_ok(CFG_SCOPE_ITEM, "buffer_size", "16K");
  cr_assert_eq(o.buffer_size, 16384);
  set_ok(CFG_SCOPE_ITEM, "buffer_size", "8M");
  cr_assert_eq(o.buffer_size, 8u << 20);
  set_bad(CFG_SCOPE_ITEM, "buffer_size", "4K", -2,
          "bad value '4K' for buffer_size: expected a size from 16K to 8M, like 128K");
  set_bad(CFG_SCOPE_ITEM, "buffer_size", "9M", -2,
          "bad value '9M' for buffer_size: expected a size from 16K to 8M, like 128K");
  set_bad(CFG_SCOPE_ITEM, "buffer_size", "lots", -2,
          "bad value 'lots' for buffer_size: expected a size from 16K to 8M, like 128K");
  set_bad(CFG_SCOPE_ITEM, "timeout", "x", -2,
          "bad value 'x' for timeout: expected a duration like 30s, 5m or 0");
  set_bad(CFG_SCOPE_ITEM, "stall_timeout", "30", -2,
          "bad value '30' for stall_timeout: expected a duration like 30s, 5m or 0");
  cr_assert_eq(o.buffer_size, 8u << 20, "a rejected value must leave the old one");
}

Test(cfg_opts, headers_check_and_replace_by_name)
{
  set_ok(CFG_SCOPE_ITEM, "header", "X-Token: 1");
  set_ok(CFG_SCOPE_ITEM, "header", "Accept:text/plain");
  set_ok(CFG_SCOPE_ITEM, "header", "x-token:   2  ");
  cr_assert_eq(o.headers.n, 2);
  cr_assert_str_eq(o.headers.v[0], "x-token: 2");
  cr_assert_str_eq(o.headers.v[1], "Accept: text/plain");
  const char *bad[] = {"NoColon", "X-Empty:", "X-Empty:   ", ": value", "Bad Name: v",
                       "X-Inject: a\r\nHost: evil", "Bad\"Name: v"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int rc = cfg_opts_set(&o, CFG_SCOPE_ITEM, "header", bad[i], err, sizeof err);
    cr_assert_eq(rc, -2, "header '%s' should be rejected", bad[i]);
    cr_assert(strstr(err, "for header: expected 'Name: value'"), "%s", err);
  }
  cr_assert_eq(o.headers.n, 2);
}

Test(cfg_opts, unknown_keys_get_a_close_hint_only)
{
  set_bad(CFG_SCOPE_RUN, "tiemout", "1s", -1, "unknown key 'tiemout' (did you mean 'timeout'?)");
  set_bad(CFG_SCOPE_RUN, "concurency", "1", -1,
          "unknown key 'concurency' (did you mean 'concurrency'?)");
  set_bad(CFG_SCOPE_RUN, "per-hots", "1", -1, "unknown key 'per-hots' (did you mean 'per_host'?)");
  set_bad(CFG_SCOPE_ITEM, "ulr", "http://x/", -1, "unknown key 'ulr' (did you mean 'url'?)");
  set_bad(CFG_SCOPE_RUN, "foo", "1", -1, "unknown key 'foo'");
  set_bad(CFG_SCOPE_RUN, "colour_scheme", "1", -1, "unknown key 'colour_scheme'");
}

Test(cfg_opts, scopes)
{
  /* RUN takes every key. */
  set_ok(CFG_SCOPE_RUN, "conn_idle", "5s");
  /* A profile takes per-item keys and per_host. */
  set_ok(CFG_SCOPE_PROFILE, "per_host", "2");
  set_ok(CFG_SCOPE_PROFILE, "timeout", "2h");
  set_bad(CFG_SCOPE_PROFILE, "concurrency", "2", -1,
          "'concurrency' is a run-wide key: set it in [settings] or on the command line, not "
          "in a profile");
  /* An item: per-item keys only. */
  set_ok(CFG_SCOPE_ITEM, "retries", "5");
  set_bad(CFG_SCOPE_ITEM, "per_host", "2", -1,
          "'per_host' cannot be set per download: set it in a profile or [settings]");
  set_bad(CFG_SCOPE_ITEM, "dns_ttl", "1s", -1,
          "'dns_ttl' is a run-wide key: set it in [settings] or on the command line, not in a "
          "download section");
  set_bad(CFG_SCOPE_RUN, "url", "http://x/", -1,
          "'url' belongs in a download section, not in [settings]");
  set_bad(CFG_SCOPE_PROFILE, "sha256", "00", -1,
          "'sha256' belongs in a download section, not in a profile");
}

Test(cfg_opts, dir_is_relative_below_run_scope)
{
  set_ok(CFG_SCOPE_RUN, "dir", "../elsewhere");
  set_ok(CFG_SCOPE_ITEM, "dir", "isos/2024");
  cr_assert_str_eq(o.dir, "isos/2024");
  const char *bad[] = {"/abs", "..", "../up", "a/../../b", "a//b", ""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    char want[256];
    snprintf(want, sizeof want,
             "bad value '%s' for dir: expected a relative path inside the download dir", bad[i]);
    set_bad(CFG_SCOPE_PROFILE, "dir", bad[i], -2, want);
  }
}

Test(cfg_opts, long_values_are_cut_in_messages)
{
  char v[300];
  memset(v, 'z', sizeof v - 1);
  v[sizeof v - 1] = '\0';
  cr_assert_eq(cfg_opts_set(&o, CFG_SCOPE_RUN, "timeout", v, err, sizeof err), -2);
  cr_assert_lt(strlen(err), 160);
  cr_assert(strstr(err, "zzz...' for timeout: expected a duration"), "%s", err);
}

Test(cfg_opts, key_lookup)
{
  cr_assert_eq(cfg_key_lookup("per_host"), CFG_KEY_per_host);
  cr_assert_eq(cfg_key_lookup("per-host"), CFG_KEY_per_host);
  cr_assert_eq(cfg_key_lookup("stall-timeout"), CFG_KEY_stall_timeout);
  cr_assert_eq(cfg_key_lookup("header"), CFG_KEY_header);
  cr_assert_eq(cfg_key_lookup("per_hostx"), -1);
  cr_assert_eq(cfg_key_lookup("url"), -1);
  cr_assert_eq(cfg_key_lookup(""), -1);
}

Test(cfg_opts, overlay_copies_only_what_is_set)
{
  struct cfg_opts base, top = {0};
  cfg_opts_defaults(&base);
  set_ok(CFG_SCOPE_RUN, "header", "A: base");
  set_ok(CFG_SCOPE_RUN, "header", "B: base");
  cfg_opts_overlay(&base, &o);
  cr_assert_eq(cfg_opts_set(&top, CFG_SCOPE_RUN, "retries", "9", err, sizeof err), 0);
  cr_assert_eq(cfg_opts_set(&top, CFG_SCOPE_RUN, "dir", "out", err, sizeof err), 0);
  cr_assert_eq(cfg_opts_set(&top, CFG_SCOPE_RUN, "header", "a: top", err, sizeof err), 0);
  cr_assert_eq(cfg_opts_set(&top, CFG_SCOPE_RUN, "header", "C: top", err, sizeof err), 0);
  cfg_opts_overlay(&base, &top);
  cr_assert_eq(base.retries, 9);
  cr_assert_str_eq(base.dir, "out");
  cr_assert_eq(base.concurrency, 4, "keys the top layer does not set stay");
  cr_assert_eq(base.connect_timeout_ms, 15000);
  cr_assert_eq(base.headers.n, 3);
  cr_assert_str_eq(base.headers.v[0], "a: top");
  cr_assert_str_eq(base.headers.v[1], "B: base");
  cr_assert_str_eq(base.headers.v[2], "C: top");
  cfg_opts_free(&top);
  cfg_opts_free(&base);
  cr_assert_null(base.dir);
}

Test(cfg_opts, url_ok)
{
  const char *good[] = {"http://example.org/",
                        "https://example.org/a/b.iso?x=1#f",
                        "HTTP://EXAMPLE.ORG",
                        "http://127.0.0.1:8080/x",
                        "http://user:pw@host/x",
                        "http://[::1]:443/x",
                        "https://h.example/%20x"};
  const char *bad[] = {"ftp://example.org/x", "example.org/x", "http://", "http:///x",
                       "http://host:/x",      "http://host:99999/x", "http://host:8a/x",
                       "http://ho st/x",      "http://host/a b",     "http://[]/x",
                       "http://[::1/x",       "mailto:x@y",          "",
                       "https://host/\x01"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    cr_assert(cfg_url_ok(good[i]), "%s should be accepted", good[i]);
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_assert_not(cfg_url_ok(bad[i]), "%s should be rejected", bad[i]);
  cr_assert_not(cfg_url_ok(NULL));
}

Test(cfg_opts, network_keys)
{
  set_ok(CFG_SCOPE_RUN, "max_speed", "2M");
  cr_assert_eq(o.max_speed, 2 << 20);
  set_ok(CFG_SCOPE_ITEM, "max_speed", "0");
  cr_assert_eq(o.max_speed, 0);
  set_ok(CFG_SCOPE_PROFILE, "max-speed", "500K");
  cr_assert_eq(o.max_speed, 500 << 10);
  set_bad(CFG_SCOPE_RUN, "max_speed", "1.5M", -2,
          "bad value '1.5M' for max_speed: expected bytes per second like 500K or 2M, or 0 "
          "for none");
  const char *good[] = {"none", "http://127.0.0.1:3128", "https://p.example:443",
                        "socks5://u:pw@h:1080", "SOCKS5H://h:1080/", "http://[::1]:8080"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    set_ok(CFG_SCOPE_ITEM, "proxy", good[i]);
    cr_assert_str_eq(o.proxy, good[i]);
  }
  const char *bad[] = {"", "127.0.0.1:3128", "ftp://h:21", "socks4://h:1", "http://",
                       "http://u:p@", "http://h :1", "http://:80"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    cr_assert_eq(cfg_opts_set(&o, CFG_SCOPE_RUN, "proxy", bad[i], err, sizeof err), -2,
                 "proxy '%s' must be refused", bad[i]);
  set_ok(CFG_SCOPE_PROFILE, "user_agent", "mirror-bot/2");
  set_bad(CFG_SCOPE_ITEM, "user_agent", "a\r\nX-Evil: 1", -2,
          "bad value 'a??X-Evil: 1' for user_agent: expected a value");
  set_ok(CFG_SCOPE_ITEM, "cacert", "ca.pem");
  set_ok(CFG_SCOPE_ITEM, "insecure", "yes");
  cr_assert_eq(o.insecure, 1);
  set_ok(CFG_SCOPE_RUN, "http11", "on");
  set_ok(CFG_SCOPE_RUN, "netrc", "true");
  set_ok(CFG_SCOPE_RUN, "netrc_file", "n.rc");
  set_ok(CFG_SCOPE_RUN, "no_proxy", "localhost,.example.org");
  /* run-wide ones stay run-wide */
  cr_assert_eq(cfg_opts_set(&o, CFG_SCOPE_ITEM, "no_proxy", "x", err, sizeof err), -1);
  cr_assert_eq(cfg_opts_set(&o, CFG_SCOPE_PROFILE, "http11", "1", err, sizeof err), -1);
  cr_assert_eq(cfg_opts_set(&o, CFG_SCOPE_ITEM, "netrc_file", "f", err, sizeof err), -1);
}

Test(cfg_opts, segments_and_min_segment)
{
  set_ok(CFG_SCOPE_ITEM, "segments", "1");
  cr_assert_eq(o.segments, 1);
  set_ok(CFG_SCOPE_PROFILE, "segments", "32");
  cr_assert_eq(o.segments, 32);
  set_ok(CFG_SCOPE_RUN, "min-segment", "16K");
  cr_assert_eq(o.min_segment, 16384);
  set_ok(CFG_SCOPE_ITEM, "min_segment", "1G");
  cr_assert_eq(o.min_segment, 1ull << 30);
  cr_assert_eq(o.set, (1u << CFG_KEY_segments) | (1u << CFG_KEY_min_segment));
  set_bad(CFG_SCOPE_ITEM, "segments", "0", -2,
          "bad value '0' for segments: expected a whole number from 1 to 32");
  set_bad(CFG_SCOPE_ITEM, "segments", "33", -2,
          "bad value '33' for segments: expected a whole number from 1 to 32");
  set_bad(CFG_SCOPE_ITEM, "segments", "4x", -2,
          "bad value '4x' for segments: expected a whole number from 1 to 32");
  set_bad(CFG_SCOPE_ITEM, "min_segment", "16383", -2,
          "bad value '16383' for min_segment: expected a size of at least 16K, like 4M");
  set_bad(CFG_SCOPE_ITEM, "min_segment", "", -2,
          "bad value '' for min_segment: expected a size of at least 16K, like 4M");
  cr_assert_eq(o.segments, 32, "a rejected value must leave the old one");
  cr_assert_eq(o.min_segment, 1ull << 30);
}
