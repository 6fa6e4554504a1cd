/*
 * test_match.c — unit tests of lib/match.c: loading pattern records (and
 * refusing bad ones), the radius test at its edge, ordering, the rendered
 * records (similarity digits, expected performance and its interval,
 * recommendations by gain), and that the answer for a video does not depend
 * on which batch or row of a batch it was in.
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
#include "../../lib/match.h"
#include "../../lib/features.h"

static int add(pd_matcher *m, const char *line, pd_err *err)
{
	return pd_matcher_add_line(m, line, strlen(line), err);
}

static pd_matcher *planted(void)
{
	pd_matcher *m = pd_matcher_new();
	pd_err err;
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pb\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0,0],\"radius\":0.2,\"stats\":{\"median_perf_with\":2,"
			     "\"median_perf_without\":1,\"lift\":2,\"lift_ci\":[1,4]}}", &err), 1);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pa\",\"feature\":{\"kind\":\"ngram\","
			     "\"value\":\"how to\"},\"centroid\":[2,0,0],\"radius\":0.5,"
			     "\"stats\":{\"median_perf_with\":4,\"median_perf_without\":1}}", &err), 1);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pc\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[0,1,0],\"radius\":0.1}", &err), 1);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pr\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0,0],\"radius\":1,\"status\":\"rejected\"}", &err), 0);
	assert_int_equal(add(m, "{\"type\":\"cluster\",\"id\":\"x\"}", &err), 0);
	assert_int_equal(m->n, 3);
	assert_int_equal(m->dim, 3);
	assert_int_equal(m->skipped, 1);
	return m;
}

static void test_load_and_refuse(void **state)
{
	(void)state;
	pd_matcher *m = planted();
	pd_err err;
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pa\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0,0],\"radius\":0.1}", &err), -1);
	assert_non_null(strstr(err.msg, "twice"));
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"q\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0],\"radius\":0.1}", &err), -1);
	assert_non_null(strstr(err.msg, "2 dimensions"));
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"q\",\"feature\":{\"kind\":\"bogus\"},"
			     "\"centroid\":[1,0,0],\"radius\":0.1}", &err), -1);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"q\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[0,0,0],\"radius\":0.1}", &err), -1);
	assert_non_null(strstr(err.msg, "zero centroid"));
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"q\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0,0]}", &err), -1);
	assert_non_null(strstr(err.msg, "radius"));
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0,0],\"radius\":0.1}", &err), -1);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"q\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0,null],\"radius\":0.1}", &err), -1);
	assert_int_equal(m->n, 3);
	/* expected performance and interval */
	assert_true(fabs(m->pat[0].exp_perf - 2) < 1e-12);
	assert_true(fabs(m->pat[0].exp_lo - 1) < 1e-12 && fabs(m->pat[0].exp_hi - 4) < 1e-12);
	assert_true(fabs(m->pat[0].gain - 1) < 1e-12);
	assert_true(isnan(m->pat[2].exp_perf) && isnan(m->pat[2].gain));
	pd_matcher_free(m);
}

/* match one unit vector x (dim 3) alone */
static int match1(pd_matcher *m, const float *x, pd_match_hit *hits)
{
	float s[3];
	pd_matcher_sims(m, x, 1, s);
	return pd_match_select(m, s, x, hits);
}

static void test_radius_edge_and_order(void **state)
{
	(void)state;
	pd_matcher *m = planted();
	pd_match_hit h[3];
	float x1[3] = { 1, 0, 0 };
	assert_int_equal(match1(m, x1, h), 2);
	/* equal similarity: by id */
	assert_string_equal(m->pat[h[0].pat].id, "pa");
	assert_string_equal(m->pat[h[1].pat].id, "pb");
	/* cos 0.85: inside pb (0.8), inside pa (0.5) */
	float x2[3] = { 0.85f, sqrtf(1 - 0.85f * 0.85f), 0 };
	assert_int_equal(match1(m, x2, h), 2);
	/* cos 0.79: outside pb, inside pa */
	float x3[3] = { 0.79f, sqrtf(1 - 0.79f * 0.79f), 0 };
	assert_int_equal(match1(m, x3, h), 1);
	assert_string_equal(m->pat[h[0].pat].id, "pa");
	/* by similarity first: close to pc */
	float x4[3] = { 0.6f, 0.8f, 0 };
	assert_int_equal(match1(m, x4, h), 1);
	float x5[3] = { 0.1f, sqrtf(1 - 0.01f), 0 };
	assert_int_equal(match1(m, x5, h), 1);
	assert_string_equal(m->pat[h[0].pat].id, "pc");
	float x6[3] = { 0, 0, 1 };
	assert_int_equal(match1(m, x6, h), 0);
	pd_matcher_free(m);
}

static void test_batch_independent(void **state)
{
	(void)state;
	/* 40 random patterns, 64 dims; a video's hits in a batch of 33 at every
	 * row equal its hits alone, bit for bit */
	enum { D = 64, NP = 40, NB = 33 };
	pd_matcher *m = pd_matcher_new();
	pd_rng r;
	pd_rng_seed(&r, 9);
	pd_buf line = PD_BUF_INIT;
	float c[D];
	pd_err err;
	for (int i = 0; i < NP; i++) {
		for (int k = 0; k < D; k++)
			c[k] = (float)pd_rng_normal(&r);
		pd_buf_reset(&line);
		pd_buf_printf(&line, "{\"type\":\"pattern\",\"id\":\"p%02d\",\"feature\":{\"kind\":\"short\"},"
			      "\"radius\":1.2,\"centroid\":", i);
		pd_vec_add_json(&line, c, D);
		pd_buf_addc(&line, '}');
		assert_int_equal(pd_matcher_add_line(m, line.p, line.len, &err), 1);
	}
	float *X = malloc(sizeof(float) * NB * D), *S = malloc(sizeof(float) * NB * NP);
	for (int i = 0; i < NB * D; i++)
		X[i] = (float)pd_rng_normal(&r);
	for (int i = 0; i < NB; i++)
		pd_vec_normalize(X + i * D, D);
	pd_matcher_sims(m, X, NB, S);
	pd_match_hit hb[NP], h1[NP];
	float s1[NP];
	for (int i = 0; i < NB; i++) {
		int nb = pd_match_select(m, S + i * NP, X + i * D, hb);
		pd_matcher_sims(m, X + i * D, 1, s1);
		int n1 = pd_match_select(m, s1, X + i * D, h1);
		assert_int_equal(nb, n1);
		assert_true(nb > 0);
		for (int j = 0; j < nb; j++) {
			assert_int_equal(hb[j].pat, h1[j].pat);
			assert_memory_equal(&hb[j].sim, &h1[j].sim, sizeof(float));
		}
	}
	free(X);
	free(S);
	pd_buf_release(&line);
	pd_matcher_free(m);
}

static void test_write(void **state)
{
	(void)state;
	pd_matcher *m = planted();
	pd_match_hit h[3];
	float x[3] = { 1, 0, 0 };
	int n = match1(m, x, h);
	pd_vfeat *vf = pd_vfeat_new();
	pd_vfeat_set_title(vf, "How to knead");	/* has "how to", duration unknown */
	pd_match_fill_has(m, h, n, vf);
	pd_buf out = PD_BUF_INIT;
	pd_match_write(m, "v\"1", h, n, 0, 1, &out);
	/* two matches then one recommendation (pb lacked, gain 1; pa had) */
	const char *p = out.p;
	assert_non_null(strstr(p, "{\"type\":\"match\",\"video_id\":\"v\\\"1\",\"pattern_id\":\"pa\","
			       "\"similarity\":1.000000,\"has_feature\":true,\"expected_perf\":4,"
			       "\"expected_perf_ci\":[4,4],\"explanation\":\"has "));
	assert_non_null(strstr(p, "\"pattern_id\":\"pb\",\"similarity\":1.000000,\"has_feature\":false,"
			       "\"expected_perf\":2,\"expected_perf_ci\":[1,4],\"explanation\":\"lacks "));
	assert_non_null(strstr(p, "{\"type\":\"recommendation\",\"video_id\":\"v\\\"1\",\"rank\":1,"
			       "\"pattern_id\":\"pb\",\"similarity\":1.000000,\"expected_perf\":2,"
			       "\"expected_gain\":1,\"explanation\":\"lacks "));
	int lines = 0;
	for (size_t i = 0; i < out.len; i++)
		lines += out.p[i] == '\n';
	assert_int_equal(lines, 3);
	pd_buf_reset(&out);
	pd_match_write(m, "v2", h, 0, 1, 1, &out);
	assert_string_equal(out.p, "{\"type\":\"match_group\",\"video_id\":\"v2\",\"matches\":[],"
			    "\"recommendations\":[]}\n");
	/* similarity digits: negative and rounding */
	pd_buf_reset(&out);
	h[0].pat = 2;
	h[0].sim = -0.25f;
	h[0].has = 0;
	pd_match_write(m, "v3", h, 1, 1, 0, &out);
	assert_non_null(strstr(out.p, "\"similarity\":-0.250000,"));
	assert_non_null(strstr(out.p, "\"expected_perf\":null,\"expected_perf_ci\":null"));
	pd_buf_release(&out);
	pd_vfeat_free(vf);
	pd_matcher_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_refuse),
		cmocka_unit_test(test_radius_edge_and_order),
		cmocka_unit_test(test_batch_independent),
		cmocka_unit_test(test_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
