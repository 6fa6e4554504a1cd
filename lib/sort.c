/*
 * sort.c — pd_qsort_r; see sort.h.  The one place that knows whether the C
 * library has qsort_r (glibc, under _GNU_SOURCE) or not (a merge sort here).
 */
#define _GNU_SOURCE
#include "sort.h"
#include "alloc.h"
#include <stdlib.h>
#include <string.h>

#if !defined(__GLIBC__)
/* stable top-down merge sort of n elements of size bytes, tmp as scratch */
static void msort(char *b, size_t n, size_t size, pd_cmp_r cmp, void *ctx, char *tmp)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	msort(b, h, size, cmp, ctx, tmp);
	msort(b + h * size, n - h, size, cmp, ctx, tmp);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n) {
		if (cmp(b + j * size, b + i * size, ctx) < 0)
			memcpy(tmp + k++ * size, b + j++ * size, size);
		else
			memcpy(tmp + k++ * size, b + i++ * size, size);
	}
	memcpy(tmp + k * size, b + i * size, (h - i) * size);
	k += h - i;
	memcpy(b, tmp, k * size);	/* the rest of the right half is in place */
}
#endif

void pd_qsort_r(void *base, size_t n, size_t size, pd_cmp_r cmp, void *ctx)
{
	if (n < 2)
		return;
#if defined(__GLIBC__)
	qsort_r(base, n, size, cmp, ctx);
#else
	char *tmp = xmalloc(n * size);
	msort(base, n, size, cmp, ctx, tmp);
	free(tmp);
#endif
}
