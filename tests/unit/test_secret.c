/* test_secret.c - what is masked before text leaves siphon: a URL's
 * password and credential headers. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "siphon/secret.h"

static void url_is(const char *in, const char *want)
{
  char *got = secret_url(in);
  cr_assert_str_eq(got, want, "secret_url(%s)", in);
  free(got);
}

Test(secret, url_password_masked)
{
  url_is("http://u:pw@h/p", "http://u:***@h/p");
  url_is("https://user:p%40ss:w@host:8443/a?b=c@d", "https://user:***@host:8443/a?b=c@d");
  url_is("http://a:b@c@h/", "http://a:***@h/");
  url_is("socks5h://u:secret@127.0.0.1:1080", "socks5h://u:***@127.0.0.1:1080");
}

Test(secret, url_without_password_unchanged)
{
  url_is("http://h/p", "http://h/p");
  url_is("http://user@h/p", "http://user@h/p");
  url_is("http://h/p?x=a:b@c", "http://h/p?x=a:b@c");
  url_is("http://[::1]:80/", "http://[::1]:80/");
  url_is("not a url", "not a url");
  cr_assert_null(secret_url(NULL));
}

Test(secret, credential_headers)
{
  const char *yes[] = {"Authorization: Bearer x", "authorization:x", "Proxy-Authorization: B",
                       "Cookie: a=b", "set-cookie: sid=1", "Cookie"};
  const char *no[] = {"X-Authorization: 1", "Cookies: 1", "Content-Type: x", "Set-Cookie2x: 1",
                      ""};
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
    cr_assert(secret_header(yes[i], strlen(yes[i])), "%s", yes[i]);
  for (size_t i = 0; i < sizeof no / sizeof *no; i++)
    cr_assert(!secret_header(no[i], strlen(no[i])), "%s", no[i]);
}
