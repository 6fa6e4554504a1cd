/* version.h — the toolkit's version, one for all commands. */
#ifndef PD_VERSION_H
#define PD_VERSION_H
#define PD_VERSION "0.2.0"
#endif
