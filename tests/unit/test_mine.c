/*
 * test_mine.c — unit tests of lib/mine.c on a hand-made cluster whose answer
 * is known in closed form.
 *
 * One micro cluster (under its meso and macro) of 40 videos from 4
 * channels, published over four months: the 20 titled "zebra" have perf
 * 4 * b_k and the 20 titled "other" (a stop word: no n-gram) perf b_k, with
 * b_k = 1.00, 1.01, ..., 1.19.  So:
 *   - the rank test: every "zebra" video beats every other one, U = 400, no
 *     ties, z = (400 - 200 - 0.5) / sqrt(20 * 20 * 41 / 12), p = Q(z) = 3.3978e-8;
 *   - the effect (Hodges-Lehmann on log perf): log 4 plus the median of
 *     log b_i - log b_j, which is 0 by symmetry: exactly 4;
 *   - Fisher's test on high (perf >= 2) x feature: 20 of 20 against 0 of 20,
 *     p = 1 / C(40, 20) = 7.2544e-12; lift (20/20) / (20/40) = 2;
 *   - medians (geometric mean of the middle two): sqrt(4.36 * 4.40) and
 *     sqrt(1.09 * 1.10).
 * With "zebra" given to high and low videos alike the feature is tested
 * and has no effect: nothing is mined.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/mine.h"

/* the 40 videos; with planted = 0, "zebra" goes to both videos (high and
   low) of b_k for k mod 8 < 4: as many of each group, from 4 channels,
   with the same mean k (no effect) */
static pd_miner *mined(int planted, pd_buf *out)
{
	pd_mine_opts o;
	pd_mine_opts_default(&o);
	o.holdout_fraction = 0;
	o.pairs = 0;
	o.max_ngram = 1;
	o.threads = 1;
	pd_miner *m = pd_miner_new(&o);
	pd_err err;
	static const char *const ids[3] = { "m1", "m1.1", "m1.1.1" };
	for (int i = 0; i < 40; i++) {
		int high = i % 2 == 0, k = i / 2;
		int zebra = planted ? high : (k % 8 < 4);
		char line[512];
		snprintf(line, sizeof line,
			 "{\"type\":\"video\",\"id\":\"v%02d\",\"channel_id\":\"ch%d\",\"title\":\"%s\","
			 "\"published_at\":\"2026-%02d-%02dT12:00:00Z\",\"perf\":%.4f}",
			 i, k % 4, zebra ? "zebra" : "other", 1 + i / 10, 1 + i % 10 * 2,
			 (high ? 4 : 1) * (1.00 + 0.01 * k));
		cJSON *j = cJSON_Parse(line);
		assert_non_null(j);
		pd_video v;
		assert_int_equal(pd_video_from_json(j, &v, &err), 0);
		assert_int_equal(pd_miner_add_video(m, &v, ids), i);
		pd_video_release(&v);
		cJSON_Delete(j);
	}
	assert_int_equal(pd_miner_add_cluster(m, "m1", "macro", NULL, 40, NULL, 0.3, NULL, &err), 0);
	assert_int_equal(pd_miner_add_cluster(m, "m1.1", "meso", "m1", 40, NULL, 0.3, NULL, &err), 0);
	assert_int_equal(pd_miner_add_cluster(m, "m1.1.1", "micro", "m1.1", 40, NULL, 0.3, "zoo", &err), 0);
	assert_int_equal(pd_miner_add_cluster(m, "m9", "nano", NULL, 1, NULL, 0.3, NULL, &err), -1);
	assert_int_equal(pd_miner_holdout(m), 0);
	assert_int_equal(pd_miner_run(m, &err), 0);
	pd_miner_write_patterns(m, out);
	return m;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	assert_non_null(x);
	assert_true(cJSON_IsNumber(x));
	return x->valuedouble;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	assert_non_null(x);
	assert_true(cJSON_IsString(x));
	return x->valuestring;
}

static void planted_pattern(void **state)
{
	(void)state;
	pd_buf out = PD_BUF_INIT;
	pd_miner *m = mined(1, &out);
	/* exactly one pattern: the n-gram, at the micro level (its parents,
	   with the same videos, are explained by it) */
	assert_non_null(out.p);
	char *nl = strchr(out.p, '\n');
	assert_non_null(nl);
	assert_int_equal((size_t)(nl - out.p) + 1, out.len);
	cJSON *p = cJSON_Parse(out.p);
	assert_non_null(p);
	assert_string_equal(str(p, "type"), "pattern");
	assert_string_equal(str(p, "cluster"), "m1.1.1");
	assert_string_equal(str(p, "level"), "micro");
	assert_string_equal(str(p, "direction"), "positive");
	assert_string_equal(str(p, "kind"), "evergreen");	/* it held in every block */
	assert_string_equal(str(p, "label"), "zoo");
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(p, "feature");
	assert_string_equal(str(f, "kind"), "ngram");
	assert_string_equal(str(f, "value"), "zebra");
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "stats");
	assert_non_null(s);
	assert_int_equal(num(s, "n"), 40);
	assert_int_equal(num(s, "n_with"), 20);
	assert_int_equal(num(s, "high_with"), 20);
	assert_int_equal(num(s, "high_without"), 0);
	assert_int_equal(num(s, "channels"), 4);
	double z = (400 - 200 - 0.5) / sqrt(20.0 * 20 * 41 / 12);
	double prank = 0.5 * erfc(z / sqrt(2));
	assert_float_equal(num(s, "p_rank"), prank, prank * 1e-5);	/* 6 digits written */
	assert_float_equal(num(s, "p_rank"), 3.39781e-8, 1e-13);
	assert_float_equal(num(s, "p"), 7.25444e-12, 1e-17);		/* 1 / C(40, 20) */
	assert_float_equal(num(s, "effect"), 4, 1e-9);
	assert_float_equal(num(s, "lift"), 2, 1e-9);
	assert_float_equal(num(s, "median_perf_with"), sqrt(4.36 * 4.40), 1e-5);
	assert_float_equal(num(s, "median_perf_without"), sqrt(1.09 * 1.10), 1e-5);
	const cJSON *ci = cJSON_GetObjectItemCaseSensitive(s, "effect_ci");
	assert_int_equal(cJSON_GetArraySize(ci), 2);
	assert_true(cJSON_GetArrayItem(ci, 0)->valuedouble < 4 && cJSON_GetArrayItem(ci, 1)->valuedouble > 4);
	cJSON_Delete(p);

	pd_mine_counts c;
	pd_miner_counts(m, &c);
	assert_int_equal(c.patterns, 1);
	assert_int_equal(c.videos, 40);
	assert_int_equal(c.videos_used, 40);
	assert_int_equal(c.holdout, 0);
	assert_int_equal(c.tests, 3);	/* the feature once per level */
	/* every test's z falls in the histogram, in z's bin */
	int bin = (int)floor((z - PD_ZHIST_LO) / PD_ZHIST_WIDTH);
	assert_int_equal(c.zhist[bin], 3);
	pd_buf_release(&out);
	pd_miner_free(m);
}

static void no_effect(void **state)
{
	(void)state;
	pd_buf out = PD_BUF_INIT;
	pd_miner *m = mined(0, &out);
	assert_int_equal(out.len, 0);
	pd_mine_counts c;
	pd_miner_counts(m, &c);
	assert_int_equal(c.patterns, 0);
	assert_int_equal(c.tests, 3);	/* tested (support and channels suffice), not kept */
	pd_buf_release(&out);
	pd_miner_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(planted_pattern),
		cmocka_unit_test(no_effect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
