/* netopt.c - the network options of a transfer (SPEC.md "Network"): the
 * User-Agent, the proxy and its exceptions, the CA file or --insecure,
 * netrc, and HTTP/2 over TLS multiplexed per host unless --http1.1; and
 * the pool figures that depend on them (HTTP/2 streams per host, the
 * insecure flag of the snapshot).  Everything is libcurl's own: this file
 * only maps our settings onto its options.  Engine thread only. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine-int.h"

/* Multiplexing is libcurl's default since 7.62; said here so it does not
 * depend on that. */
void netopt_multi(struct engine *e)
{
  curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
  e->insecure = cfg_plan_insecure(e->plan);
}

/* One easy handle's network options, applied after the rest of its setup
 * (so they win over any default set there). */
void netopt_apply(struct xfer *x, CURL *c)
{
  const struct engine *e = x->eng;
  const struct cfg_settings *it = item_spec(x)->settings;
  curl_easy_setopt(c, CURLOPT_USERAGENT,
                   it->user_agent ? it->user_agent : "siphon/" SIPHON_VERSION);
  if (it->proxy) {
    /* "" makes curl use no proxy at all, not even from the environment */
    const char *p = strcmp(it->proxy, "none") == 0 ? "" : it->proxy;
    curl_easy_setopt(c, CURLOPT_PROXY, p);
  }
  /* --cacert and --insecure also cover the TLS to an https:// proxy, whether
     it came from --proxy or from the environment (curl only reads these for
     an https:// proxy, so they are harmless for any other) */
  if (it->cacert)
    curl_easy_setopt(c, CURLOPT_PROXY_CAINFO, it->cacert);
  if (it->insecure) {
    curl_easy_setopt(c, CURLOPT_PROXY_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY_SSL_VERIFYHOST, 0L);
  }
  if (e->run.no_proxy)
    curl_easy_setopt(c, CURLOPT_NOPROXY, e->run.no_proxy);
  if (it->cacert)
    curl_easy_setopt(c, CURLOPT_CAINFO, it->cacert);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, it->insecure ? 0L : 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, it->insecure ? 0L : 2L);
  /* netrc credentials go only to the scheme, host and port the user named:
     siphon follows redirects itself (xfer.c), and a hop to another origin
     (r->foreign) gets a handle without netrc (curl looks netrc up by host
     name alone, so a redirect to another port would otherwise get them) */
  if (e->run.netrc_file && !(x->run && x->run->foreign)) {
    curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
    curl_easy_setopt(c, CURLOPT_NETRC_FILE, e->run.netrc_file);
  }
  if (e->run.http11) {
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  } else {
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* over TLS, wait for a connection that may multiplex rather than open
       another: transfers to one host then share one HTTP/2 connection.
       Plain http is HTTP/1.1 here, where waiting would only queue. */
    if (strncasecmp(item_spec(x)->url, "https:", 6) == 0)
      curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
  }
}

/* A pause: HTTP/1.1 closes a connection left mid-body by itself, but an
 * HTTP/2 connection outlives its stream.  Forbidding reuse closes it when
 * this was its last transfer, so a paused item holds no socket; streams of
 * other items keep it open as long as they run. */
void netopt_release(struct xfer *x)
{
  for (int i = 0; x->run && i < x->run->nlegs; i++)
    if (x->run->legs[i].easy)
      curl_easy_setopt(x->run->legs[i].easy, CURLOPT_FORBID_REUSE, 1L);
}

/* The snapshot's network figures: the insecure flag and, per host shown,
 * how many running transfers are HTTP/2 streams (the pool view). */
void netopt_snapshot(struct engine *e, struct msg_snapshot *s)
{
  s->insecure = (uint8_t)e->insecure;
  s->max_speed = limit_rate(e, NULL);
  /* the rows were filled from the live list, in its order */
  uint32_t row = 0;
  for (struct xfer *x = e->live_head; x && row < s->nrows; x = x->lnext)
    s->rows[row++].max_speed = limit_rate(e, x);
  for (uint32_t i = 0; i < s->nhosts; i++)
    s->hosts[i].streams = 0;
  for (struct xfer *x = e->live_head; x; x = x->lnext) {
    for (int j = 0; x->phase == PH_ATTACHED && x->run && j < x->run->nlegs; j++) {
      const struct leg *l = &x->run->legs[j];
      long v = 0;
      if (!l->easy || !l->headers_seen ||
          curl_easy_getinfo(l->easy, CURLINFO_HTTP_VERSION, &v) != CURLE_OK ||
          v != CURL_HTTP_VERSION_2_0)
        continue;
      for (uint32_t i = 0; i < s->nhosts; i++)
        if (strncmp(s->hosts[i].key, x->host->key, MSG_HOST_KEY) == 0) {
          s->hosts[i].streams++;
          break;
        }
    }
  }
}
