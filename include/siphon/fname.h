/* siphon/fname.h - safe file names and relative paths.
 *
 * A safe base name has no '/' (a decoded '/' becomes '_'), is not "." or
 * "..", does not start with '.', holds no control characters (0x00-0x1f,
 * 0x7f), is at most 200 bytes (a cut keeps a short extension) and does
 * not end in ".part" or ".part.meta" (such a name gets '_' appended). */
#ifndef SIPHON_FNAME_H
#define SIPHON_FNAME_H

/* Make any string a safe base name: leading dots dropped, '/' and '\\' and
 * control characters become '_'.  malloc'd; NULL if nothing is left (or
 * out of memory). */
char *fname_sanitize(const char *name);

/* The file name for a URL: query and fragment dropped, the last path
 * segment percent-decoded once and made safe; an empty segment (or one
 * that nothing safe is left of) gives "index.html".  malloc'd. */
char *fname_from_url(const char *url);

/* The file name a Content-Disposition header value names: filename*=
 * (RFC 5987, UTF-8''...) preferred over filename= (quoted or token); only
 * its base name is kept, then made safe.  malloc'd; NULL if none. */
char *fname_from_disposition(const char *value);

/* A user-given relative path (`output`) with its last component made fit
 * to be a final name: cut so that NAME.part.meta fits the file system's
 * name limit, and '_' appended when it ends in .part or .part.meta (a
 * final file never looks like another download's partial file).
 * malloc'd. */
char *fname_fit_path(const char *path);

/* 1 if path is a safe relative path: not empty, not absolute, no "." or
 * ".." component, no empty component, no control characters; else 0. */
int fname_relpath_ok(const char *path);

#endif
