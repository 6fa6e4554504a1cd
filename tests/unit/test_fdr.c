/*
 * test_fdr.c — Benjamini–Hochberg and –Yekutieli (lib/fdr.h): the published
 * example of the 1995 paper, hand-computed adjusted values, the unreported
 * tests of m counted at p = 1, ties, NaN, and the two formulations (q <= alpha
 * and the step-up rule) agreeing on random data against a brute-force rule.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/fdr.h"

/* Benjamini & Hochberg (1995), section 4: 15 p-values, 4 discoveries at 0.05 */
static void bh_paper_example(void **state)
{
	const double p[15] = { 0.0201, 0.0001, 0.0004, 0.0019, 0.0095, 0.0278, 0.0298, 0.0344,
			       0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0 };
	int sel[15];
	double q[15];
	assert_int_equal(pd_fdr_select(p, 15, 15, PD_FDR_BH, 0.05, sel), 4);
	int want[15] = { 0, 1, 1, 1, 1, 0 };
	for (int i = 0; i < 15; i++)
		assert_int_equal(sel[i], want[i]);
	pd_fdr_qvalues(p, 15, 15, PD_FDR_BH, q);
	for (int i = 0; i < 15; i++)
		assert_int_equal(q[i] <= 0.05, want[i]);
	assert_true(fabs(q[1] - 0.0015) < 1e-12);	/* 15 * 0.0001 / 1 */
	assert_true(fabs(q[4] - 0.035625) < 1e-12);	/* 15 * 0.0095 / 4 */
	assert_true(fabs(q[14] - 1.0) < 1e-12);
}

static void bh_hand_values_and_unreported_tests(void **state)
{
	const double p[4] = { 0.01, 0.04, 0.03, 0.005 };
	double q[4];
	assert_int_equal(pd_fdr_qvalues(p, 4, 4, PD_FDR_BH, q), 4);
	assert_true(fabs(q[0] - 0.02) < 1e-12 && fabs(q[3] - 0.02) < 1e-12);
	assert_true(fabs(q[1] - 0.04) < 1e-12 && fabs(q[2] - 0.04) < 1e-12);
	/* the same four reported out of 10 tests: the other 6 at p = 1 */
	assert_int_equal(pd_fdr_qvalues(p, 4, 10, PD_FDR_BH, q), 10);
	assert_true(fabs(q[3] - 0.05) < 1e-12 && fabs(q[0] - 0.05) < 1e-12);
	assert_true(fabs(q[1] - 0.1) < 1e-12);
	double full[10] = { 0.01, 0.04, 0.03, 0.005, 1, 1, 1, 1, 1, 1 }, qf[10];
	pd_fdr_qvalues(full, 10, 10, PD_FDR_BH, qf);
	for (int i = 0; i < 4; i++)
		assert_true(fabs(q[i] - qf[i]) < 1e-15);
	/* m below n counts as n */
	assert_int_equal(pd_fdr_qvalues(p, 4, 2, PD_FDR_BH, q), 4);
	/* BY: times 1 + 1/2 + 1/3 + 1/4 */
	pd_fdr_qvalues(p, 4, 4, PD_FDR_BY, q);
	assert_true(fabs(q[3] - 0.02 * (25.0 / 12.0)) < 1e-12);
	assert_true(fabs(q[1] - fmin(1, 0.04 * 25.0 / 12.0)) < 1e-12);
}

static void bh_ties_nan_bounds(void **state)
{
	const double p[5] = { 0.02, 0.02, NAN, -0.5, 1.7 };
	double q[5];
	int sel[5];
	pd_fdr_qvalues(p, 5, 5, PD_FDR_BH, q);
	assert_true(q[3] == 0);			/* p < 0 counts as 0 */
	assert_true(fabs(q[0] - 0.05 * 5 * 0.02 / 0.05 / 3) < 1e-12); /* 5*0.02/3 */
	assert_true(q[0] == q[1]);
	assert_true(q[2] == 1 && q[4] == 1);	/* NaN and > 1 count as 1 */
	assert_int_equal(pd_fdr_select(p, 5, 5, PD_FDR_BH, 0.05, sel), 3);
	assert_true(sel[0] && sel[1] && sel[3] && !sel[2] && !sel[4]);
	assert_int_equal(pd_fdr_select(p, 0, 0, PD_FDR_BH, 0.05, sel), 0);
	assert_int_equal(pd_fdr_qvalues(p, 0, 7, PD_FDR_BH, q), 7);
	assert_int_equal(pd_fdr_method_parse("bh"), PD_FDR_BH);
	assert_int_equal(pd_fdr_method_parse("by"), PD_FDR_BY);
	assert_int_equal(pd_fdr_method_parse("holm"), -1);
}

/* brute force: the largest k such that at least... the definition itself */
static size_t brute(const double *p, size_t n, size_t m, double alpha, int *sel)
{
	size_t best = 0;
	for (size_t k = 1; k <= n; k++) {
		double thr = (double)k * alpha / (double)m;
		size_t cnt = 0;
		for (size_t i = 0; i < n; i++)
			cnt += p[i] <= thr;
		if (cnt >= k)
			best = k;
	}
	/* with k discoveries the selected are those with p <= k alpha / m */
	double thr = (double)best * alpha / (double)m;
	size_t got = 0;
	for (size_t i = 0; i < n; i++) {
		sel[i] = best > 0 && p[i] <= thr;
		got += (size_t)sel[i];
	}
	return got;
}

static void bh_random_agrees_with_brute_force(void **state)
{
	pd_rng r;
	pd_rng_seed(&r, 42);
	double p[300], q[300];
	int sel[300], bsel[300];
	for (int round = 0; round < 200; round++) {
		size_t n = 1 + pd_rng_below(&r, 300);
		size_t m = n + pd_rng_below(&r, 500);
		for (size_t i = 0; i < n; i++) {
			double u = pd_rng_uniform(&r);
			/* a mix of nulls and strong effects, with ties */
			p[i] = pd_rng_below(&r, 5) == 0 ? u * 1e-4 : u;
			if (pd_rng_below(&r, 20) == 0 && i > 0)
				p[i] = p[i - 1];
		}
		double alpha = 0.01 + 0.2 * pd_rng_uniform(&r);
		size_t k = pd_fdr_select(p, n, m, PD_FDR_BH, alpha, sel);
		size_t kb = brute(p, n, m, alpha, bsel);
		assert_int_equal(k, kb);
		pd_fdr_qvalues(p, n, m, PD_FDR_BH, q);
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(sel[i], bsel[i]);
			assert_int_equal(q[i] <= alpha, sel[i]);
			assert_true(q[i] >= p[i] - 1e-15 && q[i] <= 1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bh_paper_example),
		cmocka_unit_test(bh_hand_values_and_unreported_tests),
		cmocka_unit_test(bh_ties_nan_bounds),
		cmocka_unit_test(bh_random_agrees_with_brute_force),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
