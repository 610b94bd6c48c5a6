/* test_fname.c - safe names from URLs and Content-Disposition, and the
 * relative-path check for `output =`.  Also the dlog suite (the util
 * module's line log), which has no test file of its own yet. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "siphon/dlog.h"
#include "siphon/fname.h"

/* Compare a malloc'd result (NULL allowed) with want and free it. */
static void expect(char *got, const char *want, const char *input)
{
  if (!want) {
    cr_assert_null(got, "%s -> expected NULL, got \"%s\"", input, got ? got : "");
    return;
  }
  cr_assert_not_null(got, "%s -> NULL, expected \"%s\"", input, want);
  cr_assert_str_eq(got, want, "%s", input);
  free(got);
}

static void url_is(const char *url, const char *want)
{
  expect(fname_from_url(url), want, url);
}

static void disp_is(const char *v, const char *want)
{
  expect(fname_from_disposition(v), want, v);
}

static void san_is(const char *v, const char *want)
{
  expect(fname_sanitize(v), want, v);
}

Test(fname, url_basic)
{
  url_is("https://example.org/ubuntu.iso", "ubuntu.iso");
  url_is("https://example.org/a/b/c/file.tar.gz", "file.tar.gz");
  url_is("http://example.org/dir/file.bin?token=abc/def#frag/x", "file.bin");
  url_is("http://example.org/file.bin#x?y", "file.bin");
}

Test(fname, url_empty_segment_is_index_html)
{
  url_is("https://example.org", "index.html");
  url_is("https://example.org/", "index.html");
  url_is("https://example.org/dir/", "index.html");
  url_is("https://example.org?q=1", "index.html");
  url_is("https://example.org/?q=a/b.iso", "index.html");
  url_is("https://example.org#a/b", "index.html");
  url_is("https://example.org/..", "index.html");
  url_is("https://example.org/a/.", "index.html");
  url_is("https://example.org/%2e%2e", "index.html");
  url_is("", "index.html");
}

Test(fname, url_authority_forms)
{
  url_is("http://user:pa.ss@example.org:8080/f.zip", "f.zip");
  url_is("http://user@example.org", "index.html");
  url_is("http://[::1]:8080/v6.bin", "v6.bin");
  url_is("http://[2001:db8::1]/", "index.html");
  url_is("http://127.0.0.1:1234/x/y.dat?z", "y.dat");
  url_is("HTTPS://Example.org/Up.ISO", "Up.ISO");
  /* the host never becomes the name */
  url_is("http://evil.example", "index.html");
}

Test(fname, url_percent_decoded_once)
{
  url_is("http://h/a%20b.txt", "a b.txt");
  url_is("http://h/%E2%82%AC.txt", "\xe2\x82\xac.txt");
  url_is("http://h/%252F.txt", "%2F.txt");
  url_is("http://h/a%2Fb", "a_b");
  url_is("http://h/..%2F..%2Fetc%2Fpasswd", "_.._etc_passwd");
  url_is("http://h/a%5Cb", "a_b");
  url_is("http://h/%2e%2ebashrc", "bashrc");
  url_is("http://h/.hidden", "hidden");
  url_is("http://h/a%00b", "a_b");
  url_is("http://h/a%0Ab", "a_b");
  url_is("http://h/100%", "100%");
  url_is("http://h/100%zz", "100%zz");
  url_is("http://h/a%4", "a%4");
  url_is("http://h/a+b", "a+b");
}

Test(fname, url_length_limit)
{
  char url[700], want[300];
  strcpy(url, "http://h/");
  memset(url + 9, 'a', 500);
  strcpy(url + 509, ".iso");
  memset(want, 'a', 196);
  strcpy(want + 196, ".iso");
  url_is(url, want);

  char *got = fname_from_url(url);
  cr_assert_eq(strlen(got), 200);
  free(got);
}

Test(fname, sanitize_rules)
{
  san_is("plain.txt", "plain.txt");
  san_is(".bashrc", "bashrc");
  san_is("...x", "x");
  san_is(".", NULL);
  san_is("..", NULL);
  san_is("...", NULL);
  san_is("", NULL);
  san_is("a/b", "a_b");
  san_is("a\\b", "a_b");
  san_is("a\x01" "b\x7f" "c\td", "a_b_c_d");
  san_is("x..y", "x..y");
  san_is("a.", "a.");
  cr_assert_null(fname_sanitize(NULL));
}

Test(fname, sanitize_truncates_on_utf8_boundary)
{
  /* 67 euro signs = 201 bytes, no extension: cut to 66 signs = 198 bytes */
  char in[400] = "", want[400] = "";
  for (int i = 0; i < 67; i++)
    strcat(in, "\xe2\x82\xac");
  for (int i = 0; i < 66; i++)
    strcat(want, "\xe2\x82\xac");
  san_is(in, want);

  /* with an extension: the extension survives, the stem is cut cleanly */
  strcat(in, ".pdf");
  strcpy(want, "");
  for (int i = 0; i < 65; i++)
    strcat(want, "\xe2\x82\xac");
  strcat(want, ".pdf");
  char *got = fname_sanitize(in);
  cr_assert_leq(strlen(got), 200);
  cr_assert_str_eq(got, want);
  free(got);

  /* an overlong "extension" is not kept: plain cut at 200 */
  char longext[300];
  memset(longext, 'b', 100);
  longext[100] = '.';
  memset(longext + 101, 'c', 150);
  longext[251] = '\0';
  char want2[201];
  memcpy(want2, longext, 200);
  want2[200] = '\0';
  san_is(longext, want2);

  /* exactly 200 bytes is left alone */
  char exact[201];
  memset(exact, 'z', 200);
  exact[200] = '\0';
  san_is(exact, exact);
}

Test(fname, disposition_forms)
{
  disp_is("attachment; filename=\"a b.txt\"", "a b.txt");
  disp_is("attachment; filename=token.bin", "token.bin");
  disp_is("attachment; filename=token.bin; size=3", "token.bin");
  disp_is("inline;filename=x.pdf", "x.pdf");
  disp_is("filename=bare.txt", "bare.txt");
  disp_is("attachment; FileName=\"Case.TXT\"", "Case.TXT");
  disp_is("attachment; filename = \"spaced.txt\" ", "spaced.txt");
  disp_is("attachment; filename=\"semi;colon.txt\"; x=1", "semi;colon.txt");
  disp_is("attachment; name=\"field\"; filename=\"real.txt\"", "real.txt");
  disp_is("attachment; xfilename=\"no.txt\"; filename=\"yes.txt\"", "yes.txt");
}

Test(fname, disposition_ext_value_preferred)
{
  disp_is("attachment; filename*=UTF-8''%e2%82%ac%20rates.txt", "\xe2\x82\xac rates.txt");
  disp_is("attachment; filename=\"fallback.txt\"; filename*=UTF-8''%e2%82%ac%20rates.txt",
          "\xe2\x82\xac rates.txt");
  disp_is("attachment; filename*=utf-8'en'real.txt; filename=fallback.txt", "real.txt");
  disp_is("attachment; FILENAME*=UTF-8''up.txt", "up.txt");
  disp_is("attachment; filename*=ISO-8859-1''caf%E9.txt", "caf\xc3\xa9.txt");
  /* unreadable charset or malformed ext-value: fall back to filename= */
  disp_is("attachment; filename*=KOI8-R''x.txt; filename=fb.txt", "fb.txt");
  disp_is("attachment; filename*=noquotes.txt; filename=fb.txt", "fb.txt");
  disp_is("attachment; filename*=UTF-8''..; filename=fb.txt", "fb.txt");
  disp_is("attachment; filename*=UTF-8''%2e%2e%2fx.txt", "x.txt");
  /* a repeated parameter: the first one counts */
  disp_is("attachment; filename*=UTF-8''one.txt; filename*=UTF-8''two.txt", "one.txt");
  disp_is("attachment; filename=one.txt; filename=two.txt", "one.txt");
}

Test(fname, disposition_quoted_escapes)
{
  disp_is("attachment; filename=\"a\\\"b.txt\"", "a\"b.txt");
  disp_is("attachment; filename=\"a\\\\b.txt\"", "b.txt"); /* a\b.txt: base name */
  disp_is("attachment; filename=\"unterminated.txt", "unterminated.txt");
}

Test(fname, disposition_strips_paths)
{
  disp_is("attachment; filename=\"../../etc/passwd\"", "passwd");
  disp_is("attachment; filename=../../etc/passwd", "passwd");
  disp_is("attachment; filename=\"C:\\\\evil\\\\x.exe\"", "x.exe");
  disp_is("attachment; filename=\"C:\\evil\\x.exe\"", "x.exe");
  disp_is("attachment; filename=\"/abs/path.txt\"", "path.txt");
  disp_is("attachment; filename=\".bashrc\"", "bashrc");
  disp_is("attachment; filename=\"dir/.profile\"", "profile");
}

Test(fname, disposition_none)
{
  disp_is("attachment; filename=\"..\"", NULL);
  disp_is("attachment; filename=..", NULL);
  disp_is("attachment; filename=\".\"", NULL);
  disp_is("attachment; filename=\"\"", NULL);
  disp_is("attachment; filename=", NULL);
  disp_is("attachment; filename=\"dir/\"", NULL);
  disp_is("attachment", NULL);
  disp_is("inline", NULL);
  disp_is("", NULL);
  cr_assert_null(fname_from_disposition(NULL));
}

Test(fname, disposition_control_chars)
{
  disp_is("attachment; filename=\"a\x01" "b\x7f.txt\"", "a_b_.txt");
  disp_is("attachment; filename*=UTF-8''a%0Db%00c.txt", "a_b_c.txt");
}

Test(fname, relpath_ok)
{
  cr_assert_eq(fname_relpath_ok("a.iso"), 1);
  cr_assert_eq(fname_relpath_ok("isos/ubuntu.iso"), 1);
  cr_assert_eq(fname_relpath_ok("a/b/c/d"), 1);
  cr_assert_eq(fname_relpath_ok(".hidden"), 1);
  cr_assert_eq(fname_relpath_ok("a..b"), 1);
  cr_assert_eq(fname_relpath_ok("...")  , 1);

  cr_assert_eq(fname_relpath_ok(""), 0);
  cr_assert_eq(fname_relpath_ok(NULL), 0);
  cr_assert_eq(fname_relpath_ok("/etc/passwd"), 0);
  cr_assert_eq(fname_relpath_ok(".."), 0);
  cr_assert_eq(fname_relpath_ok("../x"), 0);
  cr_assert_eq(fname_relpath_ok("a/../../x"), 0);
  cr_assert_eq(fname_relpath_ok("a/.."), 0);
  cr_assert_eq(fname_relpath_ok("."), 0);
  cr_assert_eq(fname_relpath_ok("./a"), 0);
  cr_assert_eq(fname_relpath_ok("a/./b"), 0);
  cr_assert_eq(fname_relpath_ok("a//b"), 0);
  cr_assert_eq(fname_relpath_ok("a/"), 0);
  cr_assert_eq(fname_relpath_ok("a\nb"), 0);
  cr_assert_eq(fname_relpath_ok("a/b\x7f"), 0);
}

/* ---- dlog -------------------------------------------------------------- */

enum { DLOG_THREADS = 4, DLOG_LINES = 250 };

static void *dlog_writer(void *arg)
{
  int t = (int)(long)arg;
  for (int i = 0; i < DLOG_LINES; i++)
    dlog("thread %d line %d %s", t, i, "padding-to-make-lines-longer-than-a-few-bytes");
  return NULL;
}

/* Read a whole file into a malloc'd string. */
static char *slurp(const char *path)
{
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f);
  char *buf = NULL;
  size_t cap = 0;
  ssize_t n = getdelim(&buf, &cap, '\0', f);
  fclose(f);
  cr_assert(n >= 0);
  return buf;
}

static void tmp_path(char *path)
{
  strcpy(path, "/tmp/siphon-dlog-XXXXXX");
  int fd = mkstemp(path);
  cr_assert(fd >= 0);
  close(fd);
}

Test(dlog, noop_while_closed)
{
  cr_assert_eq(dlog_enabled(), 0);
  dlog("nobody hears %d", 1); /* must not crash or write anywhere */
  cr_assert_eq(dlog_open("/nonexistent-dir/x.log"), -1);
  cr_assert_eq(dlog_enabled(), 0);
}

Test(dlog, lines_are_timestamped_utc_and_whole)
{
  char path[64];
  tmp_path(path);
  setenv("TZ", "America/New_York", 1); /* UTC must not depend on TZ */
  tzset();
  time_t before = time(NULL);
  cr_assert_eq(dlog_open(path), 0);
  cr_assert_eq(dlog_enabled(), 1);
  dlog("GET http://127.0.0.1/x");
  dlog("header: a\r\nInjected: b\n");
  /* line-buffered: visible before close */
  char *early = slurp(path);
  cr_assert(strstr(early, "GET http://127.0.0.1/x\n") != NULL, "got: %s", early);
  free(early);
  dlog_close();
  cr_assert_eq(dlog_enabled(), 0);
  dlog("after close");

  char *text = slurp(path);
  unlink(path);
  char *nl = strchr(text, '\n');
  cr_assert_not_null(nl);
  struct tm tm = {0};
  int msec = -1;
  char z = 0;
  cr_assert_eq(sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon,
                      &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec, &z), 8,
               "got: %s", text);
  cr_assert_eq(z, 'Z');
  cr_assert(msec >= 0 && msec <= 999);
  cr_assert_eq(text[23], 'Z');
  cr_assert_eq(text[24], ' ');
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  time_t logged = timegm(&tm);
  cr_assert(logged >= before - 1 && logged <= time(NULL) + 1, "timestamp %ld not near %ld",
            (long)logged, (long)before);
  cr_assert_str_eq(nl + 1 + 25, "header: a  Injected: b\n", "got: %s", nl + 1);
  cr_assert_null(strstr(text, "after close"));
  free(text);
}

Test(dlog, threads_never_mix_lines)
{
  char path[64];
  tmp_path(path);
  cr_assert_eq(dlog_open(path), 0);
  pthread_t th[DLOG_THREADS];
  for (long t = 0; t < DLOG_THREADS; t++)
    cr_assert_eq(pthread_create(&th[t], NULL, dlog_writer, (void *)t), 0);
  for (int t = 0; t < DLOG_THREADS; t++)
    pthread_join(th[t], NULL);
  dlog_close();

  char *text = slurp(path);
  unlink(path);
  static char seen[DLOG_THREADS][DLOG_LINES];
  int lines = 0;
  for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
    int t = -1, i = -1, end = 0;
    cr_assert_eq(sscanf(line + 25, "thread %d line %d padding-to-make-lines-longer-than-a-few-"
                                   "bytes%n", &t, &i, &end), 2, "mangled line: %s", line);
    cr_assert_eq(line[25 + end], '\0', "mangled line: %s", line);
    cr_assert(t >= 0 && t < DLOG_THREADS && i >= 0 && i < DLOG_LINES);
    cr_assert_eq(seen[t][i], 0, "duplicate line: %s", line);
    seen[t][i] = 1;
    lines++;
  }
  cr_assert_eq(lines, DLOG_THREADS * DLOG_LINES);
  free(text);
}

Test(fname, long_run_of_non_utf8_bytes_still_gives_a_name)
{
  /* found by fuzzing: 213 continuation bytes used to be cut to nothing */
  char url[300] = "http://h/";
  memset(url + strlen(url), 0x98, 213);
  char *n = fname_from_url(url);
  cr_assert_not_null(n);
  cr_assert_gt(strlen(n), 0, "an empty file name");
  cr_assert_leq(strlen(n), 200);
  free(n);
  /* a real 3-byte character at the cut still is not split */
  char url2[400] = "http://h/";
  for (int i = 0; i < 100; i++)
    strcat(url2, "\xe2\x82\xac"); /* the euro sign, 300 bytes in all */
  n = fname_from_url(url2);
  cr_assert_eq(strlen(n) % 3, 0, "a UTF-8 sequence was split: %zu bytes", strlen(n));
  cr_assert_leq(strlen(n), 200);
  free(n);
}

/* Issue 10, finding 1: a final name never ends like a partial file. */
Test(fname, own_suffixes_get_underscore)
{
  url_is("http://h/y.part", "y.part_");
  url_is("http://h/y.part.meta", "y.part.meta_");
  url_is("http://h/y.part.meta.tmp", "y.part.meta.tmp_");
  url_is("http://h/y.partial", "y.partial");
  disp_is("attachment; filename=\"a.part\"", "a.part_");
  expect(fname_fit_path("sub/x.part"), "sub/x.part_", "sub/x.part");
  expect(fname_fit_path("x.bin"), "x.bin", "x.bin");
}
