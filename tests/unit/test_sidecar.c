/* test_sidecar.c - the resume sidecar's text (issue 10: no secrets in it,
 * bounded and never-blocking reads), the validator rule (never a weak
 * ETag), and secret_url_query. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/engine/sidecar.h"
#include "siphon/secret.h"

static void redacts(const char *in, const char *want)
{
  char *got = secret_url_query(in);
  cr_assert_str_eq(got, want, "%s", in);
  free(got);
}

Test(redact, password_and_query)
{
  redacts("http://bob:Pa55@h:8/f/x?token=1&a=2#frag", "http://bob:***@h:8/f/x?***#frag");
  redacts("https://h/f/x", "https://h/f/x");
  redacts("http://bob@h/x?", "http://bob@h/x?");
  redacts("GET /f/x?sig=abc HTTP/1.1", "GET /f/x?*** HTTP/1.1");
  redacts("http://a:@h/x", "http://a:***@h/x");
}

Test(sidecar, round_trip_without_secrets)
{
  const char *url = "http://bob:Pa55w0rd@h/f/x?token=T0pS3cr3t";
  char *t = sidecar_format(url, "\"e1\"", "Mon, 01 Jan 2024 00:00:00 GMT", 12345, NULL);
  cr_assert_null(strstr(t, "Pa55w0rd"));
  cr_assert_null(strstr(t, "T0pS3cr3t"));
  struct sidecar sc;
  cr_assert_eq(sidecar_parse(t, strlen(t), &sc), 0);
  cr_assert_str_eq(sc.etag, "\"e1\"");
  cr_assert_str_eq(sc.last_modified, "Mon, 01 Jan 2024 00:00:00 GMT");
  cr_assert_eq(sc.total, 12345);
  cr_assert(sidecar_url_matches(&sc, url));
  cr_assert_not(sidecar_url_matches(&sc, "http://bob:other@h/f/x?token=T0pS3cr3t"));
  sidecar_free(&sc);
  free(t);
}

Test(sidecar, version_1_and_garbage)
{
  const char *v1 = "siphon-part 1\nurl http://h/x\netag \"a\"\nlast_modified \ntotal 9\n";
  struct sidecar sc;
  cr_assert_eq(sidecar_parse(v1, strlen(v1), &sc), 0);
  cr_assert(sidecar_url_matches(&sc, "http://h/x"));
  cr_assert_null(sc.last_modified);
  sidecar_free(&sc);
  cr_assert_eq(sidecar_parse("hello\n", 6, &sc), -1);
  cr_assert_eq(sidecar_parse("siphon-part 2\ntotal 5\n", 22, &sc), -1, "no URL");
  cr_assert_eq(sidecar_parse("siphon-part 1\nurl x\ntotal 1e9\n", 30, &sc), -1);
}

Test(sidecar, weak_etag_never_validates)
{
  cr_assert_str_eq(sidecar_validator("\"s\"", "LM"), "\"s\"");
  cr_assert_str_eq(sidecar_validator("W/\"w\"", "LM"), "LM");
  cr_assert_null(sidecar_validator("W/\"w\"", NULL));
  cr_assert_null(sidecar_validator(NULL, ""));
}

Test(sidecar, hostile_files_are_refused_without_blocking)
{
  char dir[] = "/tmp/siphon-sc-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char fifo[64], link[64], big[64], none[64];
  snprintf(fifo, sizeof fifo, "%s/f", dir);
  snprintf(link, sizeof link, "%s/l", dir);
  snprintf(big, sizeof big, "%s/b", dir);
  snprintf(none, sizeof none, "%s/n", dir);
  cr_assert_eq(mkfifo(fifo, 0600), 0);
  cr_assert_eq(symlink("/dev/zero", link), 0);
  FILE *f = fopen(big, "w");
  for (int i = 0; i < 70000; i++)
    fputc('x', f);
  fclose(f);
  struct sidecar sc;
  char msg[256];
  cr_assert_eq(sidecar_read(fifo, &sc, msg, sizeof msg), -1);
  cr_assert(strstr(msg, "FIFO"), "%s", msg);
  cr_assert_eq(sidecar_read(link, &sc, msg, sizeof msg), -1);
  cr_assert(strstr(msg, "symlink"), "%s", msg);
  cr_assert_eq(sidecar_read(big, &sc, msg, sizeof msg), -1);
  cr_assert(strstr(msg, "70000 bytes"), "%s", msg);
  cr_assert_eq(sidecar_read(none, &sc, msg, sizeof msg), 1);
  unlink(fifo);
  unlink(link);
  unlink(big);
  rmdir(dir);
}
