/*
 * test_stats.c — unit tests of lib/stats: Fisher's exact test against
 * textbook values and a direct hypergeometric sum, the rank test against a
 * direct count of pairs, lift intervals, Wilson, quantiles, Tweedie's
 * formula on families whose answer is known.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <gsl/gsl_cdf.h>
#include <stdlib.h>
#include "../../lib/pd.h"
#include "../../lib/stats.h"

static double lchoose(long n, long k)
{
	return lgamma((double)n + 1) - lgamma((double)k + 1) - lgamma((double)(n - k) + 1);
}

/* P(A >= a) by summing hypergeometric terms directly */
static double fisher_direct(long a, long b, long c, long d, int greater)
{
	long n1 = a + b, K = a + c, N = a + b + c + d;
	double p = 0;
	long lo = K - (N - n1) > 0 ? K - (N - n1) : 0, hi = n1 < K ? n1 : K;
	for (long x = lo; x <= hi; x++)
		if (greater ? x >= a : x <= a)
			p += exp(lchoose(K, x) + lchoose(N - K, n1 - x) - lchoose(N, n1));
	return p;
}

static void fisher_known_values(void **state)
{
	/* the lady tasting tea: 3 of 4 right, p = 17/70 */
	assert_true(fabs(pd_fisher_greater(3, 1, 1, 3) - 17.0 / 70) < 1e-12);
	assert_true(fabs(pd_fisher_less(1, 3, 3, 1) - 17.0 / 70) < 1e-12);
	/* all right: 1/70 */
	assert_true(fabs(pd_fisher_greater(4, 0, 0, 4) - 1.0 / 70) < 1e-12);
	/* a = 0: nothing is more extreme in the lower direction than itself */
	assert_true(pd_fisher_greater(0, 5, 5, 0) == 1.0);
	assert_true(fabs(pd_fisher_less(0, 5, 5, 0) - fisher_direct(0, 5, 5, 0, 0)) < 1e-12);
}

static void fisher_matches_direct_sum(void **state)
{
	pd_rng r;
	pd_rng_seed(&r, 7);
	for (int i = 0; i < 300; i++) {
		long a = (long)pd_rng_below(&r, 40), b = (long)pd_rng_below(&r, 60);
		long c = (long)pd_rng_below(&r, 200), d = (long)pd_rng_below(&r, 900);
		double g = pd_fisher_greater(a, b, c, d), l = pd_fisher_less(a, b, c, d);
		double gd = fisher_direct(a, b, c, d, 1), ld = fisher_direct(a, b, c, d, 0);
		assert_true(fabs(g - gd) <= 1e-9 * (gd > 1e-300 ? 1 : 0) + 1e-9 * gd + 1e-300);
		assert_true(fabs(l - ld) <= 1e-9 + 1e-9 * ld);
		assert_true(g >= 0 && g <= 1 && l >= 0 && l <= 1);
	}
}

static void lift_and_interval(void **state)
{
	/* 30 of 50 with the feature are high; 70 of 950 without: base 100/1000 */
	double lift = pd_lift(30, 20, 70, 880);
	assert_true(fabs(lift - 0.6 / 0.1) < 1e-12);
	double lo, hi;
	pd_lift_ci(30, 20, 70, 880, 0.05, &lo, &hi);
	assert_true(lo < lift && lift < hi);
	assert_true(lo > 3.5 && hi < 8.5);
	/* wider at 99% */
	double lo99, hi99;
	pd_lift_ci(30, 20, 70, 880, 0.01, &lo99, &hi99);
	assert_true(lo99 < lo && hi99 > hi);
	/* no effect: the interval covers 1 */
	pd_lift_ci(10, 90, 100, 900, 0.05, &lo, &hi);
	assert_true(lo < 1 && hi > 1);
	/* a zero cell still gives a finite interval (0 of 20 against a 9% base: wide) */
	pd_lift_ci(0, 20, 50, 500, 0.05, &lo, &hi);
	assert_true(isfinite(lo) && isfinite(hi) && lo >= 0 && lo < 0.1 && hi > 1);
	/* lift can never exceed 1/w when every high performer has the feature */
	pd_lift_ci(50, 0, 0, 950, 0.05, &lo, &hi);
	assert_true(hi <= 1000.0 / 50 + 1e-9);
}

static void wilson_interval(void **state)
{
	double lo, hi;
	pd_wilson(0, 10, 0.05, &lo, &hi);
	assert_true(lo == 0 && hi > 0.25 && hi < 0.35);	/* 0.2775 */
	pd_wilson(50, 100, 0.05, &lo, &hi);
	assert_true(fabs(lo - 0.4038) < 1e-3 && fabs(hi - 0.5962) < 1e-3);
}

/* U by counting pairs, and the z statistic written out */
static void mann_whitney_against_direct(void **state)
{
	double x[] = { 1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30, 2.0, 2.0 };
	double y[] = { 0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29, 2.0 };
	size_t nx = 11, ny = 10;
	double u, udirect = 0;
	for (size_t i = 0; i < nx; i++)
		for (size_t j = 0; j < ny; j++)
			udirect += x[i] > y[j] ? 1 : x[i] == y[j] ? 0.5 : 0;
	double p = pd_mann_whitney(x, nx, y, ny, 1, &u);
	assert_true(fabs(u - udirect) < 1e-9);
	/* ties: 2.0 x3, 1.06 x2, 1.29 x2 -> sum t^3-t = 24 + 6 + 6 */
	double N = 21, var = nx * ny / 12.0 * ((N + 1) - 36 / (N * (N - 1)));
	double z = (udirect - nx * ny / 2.0 - 0.5) / sqrt(var);
	double pz = 0.5 * erfc(z / sqrt(2));
	assert_true(fabs(p - pz) < 1e-9);
	assert_true(p < 0.1 && p > 0.01);
	double q = pd_mann_whitney(x, nx, y, ny, 0, NULL);
	assert_true(q > 0.9);
	/* from ranks agrees */
	double all[21], rank[21], rs = 0;
	for (size_t i = 0; i < nx; i++)
		all[i] = x[i];
	for (size_t j = 0; j < ny; j++)
		all[nx + j] = y[j];
	double tie = pd_midranks(all, 21, rank);
	assert_true(fabs(tie - 36) < 1e-9);
	for (size_t i = 0; i < nx; i++)
		rs += rank[i];
	assert_true(fabs(pd_mw_from_ranks(rs, nx, ny, tie, 1, NULL) - p) < 1e-12);
	/* degenerate */
	assert_true(pd_mann_whitney(x, nx, y, 0, 1, NULL) == 1.0);
	double same[4] = { 1, 1, 1, 1 };
	assert_true(pd_mann_whitney(same, 2, same + 2, 2, 1, NULL) == 1.0);
}

static void quantiles(void **state)
{
	double v[] = { 5, 1, 4, 2, 3 };
	assert_true(pd_median(v, 5) == 3);
	double w[] = { 4, 1, 3, 2 };
	assert_true(pd_median(w, 4) == 2.5);
	double z[] = { 1, 2, 3, 4, 5 };
	assert_true(fabs(pd_quantile_sorted(z, 5, 0.9) - 4.6) < 1e-12);
	assert_true(isnan(pd_median(v, 0)));
	assert_true(pd_mean(z, 5) == 3);
	assert_true(fabs(pd_norm_quantile(0.975) - 1.959964) < 1e-5);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* the Hodges-Lehmann shift and its interval against all pairwise differences */
static void hodges_lehmann_against_direct(void **state)
{
	unsigned long long r = 12345;
	for (int trial = 0; trial < 40; trial++) {
		size_t nx = 3 + (size_t)(trial * 7 % 40), ny = 5 + (size_t)(trial * 11 % 60);
		double x[64], y[64], d[64 * 64];
		for (size_t i = 0; i < nx; i++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			x[i] = (double)(r >> 40) / (1 << 24) + 0.3 * (trial % 3);
		}
		for (size_t j = 0; j < ny; j++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			y[j] = (double)(r >> 40) / (1 << 24);
		}
		qsort(x, nx, sizeof *x, cmp_d);
		qsort(y, ny, sizeof *y, cmp_d);
		size_t M = 0;
		for (size_t i = 0; i < nx; i++)
			for (size_t j = 0; j < ny; j++)
				d[M++] = x[i] - y[j];
		qsort(d, M, sizeof *d, cmp_d);
		double med = M % 2 ? d[M / 2] : (d[M / 2 - 1] + d[M / 2]) / 2;
		double k = floor((double)M / 2 - 1.959964 * sqrt((double)M * (double)(nx + ny + 1) / 12));
		if (k < 1)
			k = 1;
		double est, lo, hi;
		pd_hl_shift(x, nx, y, ny, 0.05, &est, &lo, &hi);
		assert_true(fabs(est - med) < 1e-7);
		assert_true(fabs(lo - d[(size_t)k - 1]) < 1e-7);
		assert_true(fabs(hi - d[M - (size_t)k]) < 1e-7);
		assert_true(lo <= est && est <= hi);
	}
	double e, l, h;
	pd_hl_shift(NULL, 0, NULL, 0, 0.05, &e, &l, &h);
	assert_true(isnan(e) && isnan(l) && isnan(h));
}

/* a histogram of n z-values from N(0, s2): the expected count of each bin */
static void normal_hist(double *h, int nb, double lo, double w, double n, double s2)
{
	for (int b = 0; b < nb; b++) {
		double a = (lo + b * w) / sqrt(2 * s2), c = (lo + (b + 1) * w) / sqrt(2 * s2);
		h[b] = n * 0.5 * (erf(c) - erf(a));
	}
}

/*
 * Tweedie's formula on families with a known answer: all nulls (mu = 0, so
 * E[mu|z] = 0 however large z is), and mu ~ N(0, t2) (E[mu|z] = z t2/(1+t2),
 * Var = t2/(1+t2)); too few tests is refused.
 */
static void tweedie_known_families(void **state)
{
	(void)state;
	double h[64], beta[PD_TWEEDIE_DEGREE + 1], e, v;
	normal_hist(h, 64, -8, 0.25, 20000, 1);
	assert_int_equal(pd_tweedie_fit(h, 64, -8, 0.25, beta), 0);
	for (double z = -3; z <= 3.5; z += 0.5) {
		pd_tweedie_post(beta, -7.75, 7.75, z, &e, &v);
		assert_true(fabs(e) < 0.05);
		assert_true(v < 0.1);
	}
	normal_hist(h, 64, -8, 0.25, 20000, 1 + 3.0);
	assert_int_equal(pd_tweedie_fit(h, 64, -8, 0.25, beta), 0);
	for (double z = -4; z <= 5; z += 0.5) {
		pd_tweedie_post(beta, -7.75, 7.75, z, &e, &v);
		assert_true(fabs(e - z * 0.75) < 0.05);
		assert_true(fabs(v - 0.75) < 0.05);
	}
	normal_hist(h, 64, -8, 0.25, 150, 1);
	assert_int_equal(pd_tweedie_fit(h, 64, -8, 0.25, beta), -1);
}

/*
 * The clustered rank test: with every video its own group it is DeLong's
 * test (its statistic on Student's t), written out here by counting pairs; with every video copied five
 * times into its own group it gives the same theta and the same p (five
 * copies are one unit of evidence), while the ordinary test, which counts
 * the copies as videos, is far more sure.
 */
static void mann_whitney_clustered(void **state)
{
	double x[] = { 1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30, 2.0, 2.0 };
	double y[] = { 0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29, 2.0 };
	enum { NX = 11, NY = 10, K = 5 };
	int gx[NX], gy[NY];
	for (int i = 0; i < NX; i++)
		gx[i] = i;
	for (int j = 0; j < NY; j++)
		gy[j] = NX + j;
	double v10[NX], v01[NY], th = 0;
	for (int i = 0; i < NX; i++) {
		v10[i] = 0;
		for (int j = 0; j < NY; j++)
			v10[i] += (x[i] > y[j] ? 1 : x[i] == y[j] ? 0.5 : 0) / NY;
		th += v10[i] / NX;
	}
	for (int j = 0; j < NY; j++) {
		v01[j] = 0;
		for (int i = 0; i < NX; i++)
			v01[j] += (x[i] > y[j] ? 1 : x[i] == y[j] ? 0.5 : 0) / NX;
	}
	double s10 = 0, s01 = 0;
	for (int i = 0; i < NX; i++)
		s10 += (v10[i] - th) * (v10[i] - th) / (NX - 1);
	for (int j = 0; j < NY; j++)
		s01 += (v01[j] - th) * (v01[j] - th) / (NY - 1);
	/* Student's t on the groups of the smaller side: 10 - 1 degrees of freedom */
	double z = (th - 0.5) / sqrt(s10 / NX + s01 / NY), pz = gsl_cdf_tdist_Q(z, NY - 1);
	double t1, p1 = pd_mann_whitney_clustered(x, gx, NX, y, gy, NY, 1, &t1);
	assert_true(fabs(t1 - th) < 1e-12);
	assert_true(fabs(p1 - pz) < 1e-12);
	assert_true(fabs(pd_mann_whitney_clustered(x, gx, NX, y, gy, NY, 0, NULL) - (1 - pz)) < 1e-12);
	double xk[NX * K], yk[NY * K];
	int gxk[NX * K], gyk[NY * K];
	for (int c = 0; c < K; c++) {
		for (int i = 0; i < NX; i++)
			xk[c * NX + i] = x[i], gxk[c * NX + i] = gx[i];
		for (int j = 0; j < NY; j++)
			yk[c * NY + j] = y[j], gyk[c * NY + j] = gy[j];
	}
	double tk, pk = pd_mann_whitney_clustered(xk, gxk, NX * K, yk, gyk, NY * K, 1, &tk);
	assert_true(fabs(tk - th) < 1e-12);
	assert_true(fabs(pk - p1) < 1e-9);
	double pm = pd_mann_whitney(xk, NX * K, yk, NY * K, 1, NULL);
	assert_true(p1 > 0.01 && pm < p1 / 20);
	/* one group on a side: nothing to say */
	int one[NX] = { 0 };
	assert_true(pd_mann_whitney_clustered(x, one, NX, y, gy, NY, 1, &t1) == 1.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fisher_known_values),
		cmocka_unit_test(fisher_matches_direct_sum),
		cmocka_unit_test(lift_and_interval),
		cmocka_unit_test(wilson_interval),
		cmocka_unit_test(mann_whitney_against_direct),
		cmocka_unit_test(mann_whitney_clustered),
		cmocka_unit_test(quantiles),
		cmocka_unit_test(hodges_lehmann_against_direct),
		cmocka_unit_test(tweedie_known_families),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
