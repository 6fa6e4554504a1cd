/*
 * alloc.h — allocation that never returns NULL.
 *
 * Every allocation in pd goes through these wrappers.  On exhaustion they
 * print one line naming the size and abort (as jq's jv_alloc.c does): an
 * analysis tool that runs out of memory half way cannot recover usefully, and
 * checking every call site would hide the real logic.  This is the one place
 * in lib/ that writes to stderr.
 */
#ifndef PD_ALLOC_H
#define PD_ALLOC_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* xreallocarray: p resized to n*size bytes, overflow-checked. */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xmemdup: n bytes copied into a new buffer with a NUL after them. */
char *xmemdup(const void *p, size_t n);

#endif
