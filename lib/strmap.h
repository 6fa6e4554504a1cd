/*
 * strmap.h — strings to dense indices (0, 1, 2, ... in order of first insertion).
 *
 * For grouping videos by channel, finding duplicate ids, naming clusters:
 * open addressing with linear probing over pd_hash64, keys copied into one
 * arena.  Indices are stable and dense, so callers keep per-key data in plain
 * arrays.
 */
#ifndef PD_STRMAP_H
#define PD_STRMAP_H
#include <stddef.h>
#include <stdint.h>

typedef struct pd_strmap pd_strmap;

pd_strmap *pd_strmap_new(void);
void pd_strmap_free(pd_strmap *m);
/* pd_strmap_intern: the index of key (n bytes), added if absent; *added set when new. */
int pd_strmap_intern(pd_strmap *m, const char *key, size_t n, int *added);
/*
 * pd_strmap_intern_hashed: pd_strmap_intern with the key's hash h (which
 * must be pd_hash64(key, n)) computed by the caller, e.g. on another thread;
 * pd_strmap_prefetch: start loading the slot of hash h, a few keys before
 * interning it (a large map's slots are cache misses).
 */
int pd_strmap_intern_hashed(pd_strmap *m, const char *key, size_t n, uint64_t h, int *added);
void pd_strmap_prefetch(const pd_strmap *m, uint64_t h);
/* pd_strmap_find: the index of key, or -1. */
int pd_strmap_find(const pd_strmap *m, const char *key, size_t n);
int pd_strmap_size(const pd_strmap *m);
/* pd_strmap_key: the key of index i (NUL-terminated, owned by the map). */
const char *pd_strmap_key(const pd_strmap *m, int i);

#endif
