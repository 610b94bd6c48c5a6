/* siphon/dlog.h - a line log to a file (--log): one line per request and
 * response, timestamped; safe to call from any thread; a no-op while no
 * file is open.  Never writes to the terminal. */
#ifndef SIPHON_DLOG_H
#define SIPHON_DLOG_H

/* 0, or -1 with errno set. */
int dlog_open(const char *path);
void dlog_close(void);
int dlog_enabled(void);
void dlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
