/* siphon/version.h */
#ifndef SIPHON_VERSION_H
#define SIPHON_VERSION_H
#define SIPHON_VERSION "0.1.0"
#endif
