/* siphon/size.h - byte sizes as users write them: "131072", "128K",
 * "8M", "1G" (powers of 1024; lower-case and a trailing "B"/"iB" allowed). */
#ifndef SIPHON_SIZE_H
#define SIPHON_SIZE_H

#include <stdint.h>

/* 0 and *bytes set, or -1 (empty, negative, fraction, unknown suffix, overflow). */
int size_parse(const char *s, uint64_t *bytes);

#endif
