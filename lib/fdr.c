/*
 * fdr.c — Benjamini–Hochberg (and –Yekutieli) over n reported p-values out of
 * m tests (see fdr.h).  Sorting is by (p, index) so equal p-values give the
 * same answer on every platform; the running minimum from the largest rank
 * down makes the adjusted values monotone in p.
 */
#include "fdr.h"
#include "pd.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct { double p; size_t i; } ranked;

static int cmp_ranked(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->p < y->p) return -1;
	if (x->p > y->p) return 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static double clean_p(double p)
{
	if (isnan(p) || p > 1)
		return 1;
	return p < 0 ? 0 : p;
}

static double method_factor(int method, size_t m)
{
	if (method != PD_FDR_BY)
		return 1;
	double c = 0;
	for (size_t k = m; k >= 1; k--)	/* small terms first: less rounding */
		c += 1.0 / (double)k;
	return c;
}

size_t pd_fdr_qvalues(const double *p, size_t n, size_t m, int method, double *q)
{
	if (m < n)
		m = n;
	if (n == 0)
		return m;
	ranked *r = xmalloc(n * sizeof *r);
	for (size_t i = 0; i < n; i++) {
		r[i].p = clean_p(p[i]);
		r[i].i = i;
	}
	qsort(r, n, sizeof *r, cmp_ranked);
	double c = method_factor(method, m), run = 1;
	for (size_t k = n; k >= 1; k--) {
		double v = c * (double)m * r[k - 1].p / (double)k;
		if (v < run)
			run = v;
		q[r[k - 1].i] = run;
	}
	free(r);
	return m;
}

size_t pd_fdr_select(const double *p, size_t n, size_t m, int method, double alpha, int *sel)
{
	if (m < n)
		m = n;
	memset(sel, 0, n * sizeof *sel);
	if (n == 0)
		return 0;
	ranked *r = xmalloc(n * sizeof *r);
	for (size_t i = 0; i < n; i++) {
		r[i].p = clean_p(p[i]);
		r[i].i = i;
	}
	qsort(r, n, sizeof *r, cmp_ranked);
	double c = method_factor(method, m);
	size_t kmax = 0;
	for (size_t k = 1; k <= n; k++)
		if (r[k - 1].p * c * (double)m <= (double)k * alpha)
			kmax = k;
	for (size_t k = 0; k < kmax; k++)
		sel[r[k].i] = 1;
	free(r);
	return kmax;
}

int pd_fdr_method_parse(const char *s)
{
	if (!strcmp(s, "bh"))
		return PD_FDR_BH;
	if (!strcmp(s, "by"))
		return PD_FDR_BY;
	return -1;
}
