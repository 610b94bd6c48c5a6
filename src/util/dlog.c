/* dlog.c - the --log file: one timestamped line per call, from any thread
 * (the engine logs requests; main opens and closes it).  A mutex keeps
 * lines whole when threads log at once; the stream is line-buffered so a
 * crash loses at most the line being written. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "siphon/dlog.h"
#include "siphon/secret.h"

static pthread_mutex_t dlog_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *dlog_file;

/* Appends, never truncates (a log named by mistake loses nothing), is
 * created readable by its owner only, is never opened through a symlink,
 * and never waits on a FIFO without a reader (O_NONBLOCK, cleared after). */
int dlog_open(const char *path)
{
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
  if (fd < 0)
    return -1;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  FILE *f = fdopen(fd, "a");
  if (!f) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  setvbuf(f, NULL, _IOLBF, 0);
  pthread_mutex_lock(&dlog_lock);
  FILE *old = dlog_file;
  dlog_file = f;
  pthread_mutex_unlock(&dlog_lock);
  if (old)
    fclose(old);
  return 0;
}

void dlog_close(void)
{
  pthread_mutex_lock(&dlog_lock);
  FILE *f = dlog_file;
  dlog_file = NULL;
  pthread_mutex_unlock(&dlog_lock);
  if (f)
    fclose(f); /* flushes */
}

int dlog_enabled(void)
{
  pthread_mutex_lock(&dlog_lock);
  int on = dlog_file != NULL;
  pthread_mutex_unlock(&dlog_lock);
  return on;
}

/* Whatever wrote the line, a credential header's value never reaches the
 * file: in each " | "-separated part that starts with Authorization,
 * Proxy-Authorization, Cookie or Set-Cookie (after "#N < " or "#N > "), the
 * value becomes "***".  In place: the result is never longer. */
static void dlog_mask(char *msg)
{
  char *w = msg;
  const char *r = msg;
  while (*r) {
    int at_part = r == msg || (r - msg >= 2 && r[-1] == ' ' &&
                               (r[-2] == '|' || r[-2] == '<' || r[-2] == '>'));
    if (!at_part) {
      *w++ = *r++;
      continue;
    }
    const char *end = strstr(r, " | ");
    size_t seg = end ? (size_t)(end - r) : strlen(r);
    const char *colon = memchr(r, ':', seg);
    if (colon && secret_header(r, (size_t)(colon - r) + 1)) {
      size_t keep = (size_t)(colon - r) + 1;
      size_t vlen = seg - keep;
      memmove(w, r, keep);
      w += keep;
      if (vlen >= 4) {
        memcpy(w, " ***", 4);
        w += 4;
      } else {
        memset(w, '*', vlen);
        w += vlen;
      }
      r += seg;
      continue;
    }
    *w++ = *r++;
  }
  *w = '\0';
}

/* Format outside the lock; CR and LF inside the text become spaces so a
 * header value can never start a fake log line. */
void dlog(const char *fmt, ...)
{
  if (!dlog_enabled())
    return;
  int saved = errno; /* callers often log right before reading errno */

  char stack[1024], *msg = stack;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(stack, sizeof stack, fmt, ap);
  va_end(ap);
  if (n < 0)
    goto out;
  if ((size_t)n >= sizeof stack) {
    msg = malloc((size_t)n + 1);
    if (!msg)
      goto out;
    va_start(ap, fmt);
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    va_end(ap);
  }
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    msg[--n] = '\0';
  for (int i = 0; i < n; i++)
    if (msg[i] == '\n' || msg[i] == '\r')
      msg[i] = ' ';

  dlog_mask(msg);

  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

  pthread_mutex_lock(&dlog_lock);
  if (dlog_file)
    fprintf(dlog_file, "%s.%03ldZ %s\n", when, ts.tv_nsec / 1000000, msg);
  pthread_mutex_unlock(&dlog_lock);

out:
  if (msg != stack)
    free(msg);
  errno = saved;
}
