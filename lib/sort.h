/*
 * sort.h — qsort with a context argument, so that a comparator needs no
 * file-scope variable (and the library stays reentrant).
 *
 * glibc's qsort_r is used where it exists (the same merge sort as its qsort,
 * so orders are exactly what qsort gave); elsewhere a plain merge sort of
 * the same contract.  Every comparator pd sorts with is a total order (ties
 * broken by an id or an index), so the result does not depend on which.
 */
#ifndef PD_SORT_H
#define PD_SORT_H
#include <stddef.h>

typedef int (*pd_cmp_r)(const void *a, const void *b, void *ctx);

/* pd_qsort_r: base[0..n) (elements of size bytes) sorted by cmp(a, b, ctx). */
void pd_qsort_r(void *base, size_t n, size_t size, pd_cmp_r cmp, void *ctx);

#endif
