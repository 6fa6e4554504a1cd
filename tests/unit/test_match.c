/*
 * test_match.c — unit tests of lib/match.c: loading pattern records (and
 * refusing bad ones, self-contradicting stats among them), the radius test
 * at its edge (the fallback without a hierarchy), ordering, the rendered
 * records (similarity digits, expected performance and its interval from
 * the lift or from stats.effect, recommendations by gain, provisional
 * patterns), patterns applying by the hierarchy (exactly the videos placed
 * in their cluster, never off the path), the cached place's text, and that
 * the answer for a video does not depend on which batch or row of a batch it
 * was in.
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

static pd_matcher *planted_unfinished(void)
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

static pd_matcher *planted(void)
{
	pd_matcher *m = planted_unfinished();
	pd_err err;
	assert_int_equal(pd_matcher_finish(m, &err), 0);
	return m;
}

static void test_load_and_refuse(void **state)
{
	(void)state;
	pd_matcher *m = planted_unfinished();
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
	assert_int_equal(pd_matcher_finish(m, &err), 0);
	/* adding after finishing is a mistake of the caller */
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"late\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0,0],\"radius\":0.1}", &err), -1);
	pd_matcher_free(m);
}

/* a pattern line with stats s (a JSON object text) and direction dir ("" for none) */
static int add_stats(pd_matcher *m, const char *id, const char *dir, const char *stats, pd_err *err)
{
	pd_buf b = PD_BUF_INIT;
	pd_buf_printf(&b, "{\"type\":\"pattern\",\"id\":\"%s\",\"feature\":{\"kind\":\"short\"},"
		      "\"centroid\":[1,0,0],\"radius\":0.1,%s%s%s\"stats\":%s}", id,
		      *dir ? "\"direction\":\"" : "", dir, *dir ? "\"," : "", stats);
	int k = pd_matcher_add_line(m, b.p, b.len, err);
	pd_buf_release(&b);
	return k;
}

static void test_effect(void **state)
{
	(void)state;
	pd_matcher *m = pd_matcher_new();
	pd_err err;
	/* expected = without x effect, its interval without x effect_ci, the gain and its interval */
	assert_int_equal(add_stats(m, "e1", "positive", "{\"effect\":1.5,\"effect_ci\":[1.2,1.9],"
				   "\"median_perf_with\":3,\"median_perf_without\":2,\"lift\":9,"
				   "\"lift_ci\":[8,10]}", &err), 1);
	const pd_match_pattern *p = &m->pat[0];
	assert_true(fabs(p->exp_perf - 3) < 1e-12);
	assert_true(fabs(p->exp_lo - 2.4) < 1e-12 && fabs(p->exp_hi - 3.8) < 1e-12);
	assert_true(fabs(p->gain - 1) < 1e-12);
	assert_true(fabs(p->gain_lo - 0.4) < 1e-12 && fabs(p->gain_hi - 1.8) < 1e-12);
	/* a negative pattern: the gain is negative */
	assert_int_equal(add_stats(m, "e2", "negative", "{\"effect\":0.5,\"effect_ci\":[0.3,0.8],"
				   "\"median_perf_without\":1}", &err), 1);
	assert_true(m->pat[1].negative);
	assert_true(fabs(m->pat[1].gain + 0.5) < 1e-12);
	/* contradictions: each is a bad record */
	static const char *const bad[][2] = {
		{ "negative", "{\"effect\":1.5,\"effect_ci\":[1.2,1.9]}" },
		{ "positive", "{\"effect\":0.8,\"effect_ci\":[0.6,0.9]}" },
		{ "positive", "{\"effect\":1.5,\"effect_ci\":[1.2,1.9],\"median_perf_with\":1,"
			      "\"median_perf_without\":2}" },
		{ "negative", "{\"effect\":0.5,\"effect_ci\":[0.2,0.9],\"median_perf_with\":3,"
			      "\"median_perf_without\":2}" },
		{ "positive", "{\"effect\":1.5,\"effect_ci\":[1.6,1.9]}" },
		{ "positive", "{\"effect\":1.5,\"effect_ci\":[1.9,1.2]}" },
		{ "positive", "{\"effect\":1.5,\"effect_ci\":[1.2]}" },
		{ "positive", "{\"effect\":-1}" },
		{ "positive", "{\"effect\":\"big\"}" },
		{ "", "{\"effect\":0.5,\"effect_ci\":[0.3,0.8]}" },	/* no direction: positive */
		/* older records (no effect) are checked the same way */
		{ "positive", "{\"median_perf_with\":0.9,\"median_perf_without\":1}" },
		{ "positive", "{\"lift\":3,\"lift_ci\":[1.5,2.5]}" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.msg[0] = 0;
		assert_int_equal(add_stats(m, "bad", bad[i][0], bad[i][1], &err), -1);
		assert_int_equal(err.code, PD_EREC);
		assert_non_null(strstr(err.msg, "'bad'"));
	}
	/* an older record (no effect) is read as before */
	assert_int_equal(add_stats(m, "old", "positive", "{\"median_perf_with\":1.2,"
				   "\"median_perf_without\":1,\"lift\":3,\"lift_ci\":[2,4]}", &err), 1);
	assert_true(fabs(m->pat[2].exp_perf - 1.2) < 1e-12 && fabs(m->pat[2].gain - 0.2) < 1e-12);
	assert_true(fabs(m->pat[2].exp_lo - 0.8) < 1e-12 && fabs(m->pat[2].exp_hi - 1.6) < 1e-12);
	assert_true(isnan(m->pat[2].effect));
	assert_int_equal(m->n, 3);
	assert_int_equal(pd_matcher_finish(m, &err), 0);
	pd_buf out = PD_BUF_INIT;
	pd_match_hit h[3] = { { 0, 1.0f, 0 }, { 1, 1.0f, 0 }, { 2, 1.0f, 0 } };
	pd_match_write(m, "v", h, 3, 1, PD_RECOMMEND, NULL, &out);
	assert_non_null(strstr(out.p, "\"expected_perf\":3,\"expected_perf_ci\":[2.4,3.8],"
			       "\"effect\":1.5,\"effect_ci\":[1.2,1.9],\"explanation\":\"lacks "));
	assert_non_null(strstr(out.p, "\"recommendations\":[{\"rank\":1,\"pattern_id\":\"e1\","));
	assert_non_null(strstr(out.p, "\"expected_gain\":1,\"expected_gain_ci\":[0.4,1.8],\"effect\":1.5,"));
	assert_non_null(strstr(out.p, "{\"rank\":2,\"pattern_id\":\"old\","));	/* gain 0.2 */
	assert_null(strstr(out.p, "\"rank\":3"));	/* e2 negative */
	pd_buf_release(&out);
	pd_matcher_free(m);
}

static void test_provisional(void **state)
{
	(void)state;
	pd_matcher *m = pd_matcher_new();
	pd_err err;
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pv\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0,0],\"radius\":0.1,\"status\":\"provisional\","
			     "\"stats\":{\"median_perf_with\":2,\"median_perf_without\":1}}", &err), 1);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"ok\",\"feature\":{\"kind\":\"short\"},"
			     "\"centroid\":[1,0,0],\"radius\":0.1,\"status\":\"validated\","
			     "\"stats\":{\"median_perf_with\":1.5,\"median_perf_without\":1}}", &err), 1);
	assert_int_equal(pd_matcher_finish(m, &err), 0);
	pd_match_hit h[2] = { { 0, 1.0f, 0 }, { 1, 1.0f, 0 } };
	pd_buf out = PD_BUF_INIT;
	pd_match_write(m, "v", h, 2, 1, PD_RECOMMEND, NULL, &out);
	/* marked in its match; not recommended */
	assert_non_null(strstr(out.p, "\"pattern_id\":\"pv\",\"cluster\":null,\"level\":null,"
			       "\"label\":null,\"similarity\":1.000000,\"radius\":0.1,"
			       "\"has_feature\":false,\"status\":\"provisional\","));
	assert_null(strstr(out.p, "\"pattern_id\":\"ok\",\"cluster\":null,\"level\":null,"
			   "\"label\":null,\"similarity\":1.000000,\"radius\":0.1,"
			   "\"has_feature\":false,\"status\""));
	const char *r = strstr(out.p, "\"recommendations\":");
	assert_non_null(r);
	assert_non_null(strstr(r, "\"pattern_id\":\"ok\""));
	assert_null(strstr(r, "\"pattern_id\":\"pv\""));
	/* unless asked for: then first (gain 1 > 0.5), and marked */
	pd_buf_reset(&out);
	pd_match_write(m, "v", h, 2, 1, PD_RECOMMEND | PD_RECOMMEND_PROVISIONAL, NULL, &out);
	r = strstr(out.p, "\"recommendations\":");
	assert_non_null(strstr(r, "{\"rank\":1,\"pattern_id\":\"pv\""));
	assert_non_null(strstr(r, "\"status\":\"provisional\""));
	assert_non_null(strstr(r, "{\"rank\":2,\"pattern_id\":\"ok\""));
	pd_buf_release(&out);
	pd_matcher_free(m);
}

/*
 * A hierarchy of dimension 3: macro A, B; meso A.1, A.2 (under A), B.1;
 * micro A.1.a, A.1.b (under A.1), A.2.a, B.1.a.
 */
static const char *const hier_lines[] = {
	"{\"type\":\"cluster\",\"id\":\"A\",\"level\":\"macro\",\"centroid\":[1,0,0],\"label\":[\"a\"]}",
	"{\"type\":\"cluster\",\"id\":\"B\",\"level\":\"macro\",\"centroid\":[0,1,0],\"label\":[\"b\"]}",
	"{\"type\":\"cluster\",\"id\":\"A.1\",\"level\":\"meso\",\"parent\":\"A\",\"centroid\":[1,0,0]}",
	"{\"type\":\"cluster\",\"id\":\"A.2\",\"level\":\"meso\",\"parent\":\"A\",\"centroid\":[0.6,0,0.8],"
	"\"label\":[\"a2\",\"\",\"x\",\"y\",\"z\"]}",
	"{\"type\":\"cluster\",\"id\":\"B.1\",\"level\":\"meso\",\"parent\":\"B\",\"centroid\":[0,1,0]}",
	"{\"type\":\"cluster\",\"id\":\"A.1.a\",\"level\":\"micro\",\"parent\":\"A.1\",\"centroid\":[1,0,0]}",
	"{\"type\":\"cluster\",\"id\":\"A.1.b\",\"level\":\"micro\",\"parent\":\"A.1\",\"centroid\":[0.8,0.6,0],"
	"\"label\":[\"a1b\"]}",
	"{\"type\":\"cluster\",\"id\":\"A.2.a\",\"level\":\"micro\",\"parent\":\"A.2\",\"centroid\":[0.6,0,0.8]}",
	"{\"type\":\"cluster\",\"id\":\"B.1.a\",\"level\":\"micro\",\"parent\":\"B.1\",\"centroid\":[0,1,0]}",
	NULL
};

/* the hierarchy above with four patterns: pM (A), pm (A.2), pu (A.1.b, its own label), pB (B.1.a) */
static pd_matcher *hier_matcher(void)
{
	pd_matcher *m = pd_matcher_new();
	pd_hier h;
	pd_err err;
	pd_hier_init(&h, 0);
	for (int i = 0; hier_lines[i]; i++)
		assert_int_equal(pd_hier_add_line(&h, hier_lines[i], strlen(hier_lines[i]), &err), 1);
	const char *video = "{\"type\":\"video\",\"id\":\"x\"}";
	assert_int_equal(pd_hier_add_line(&h, video, strlen(video), &err), 0);
	assert_int_equal(pd_hier_finish(&h, &err), 0);
	assert_int_equal(pd_matcher_set_hier(m, &h, &err), 0);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pM\",\"feature\":{\"kind\":\"short\"},"
			     "\"cluster\":\"A\",\"level\":\"macro\",\"centroid\":[1,0,0],\"radius\":0.01}", &err), 1);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pm\",\"feature\":{\"kind\":\"short\"},"
			     "\"cluster\":\"A.2\",\"centroid\":[0.6,0,0.8],\"radius\":0.01}", &err), 1);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pu\",\"feature\":{\"kind\":\"short\"},"
			     "\"cluster\":\"A.1.b\",\"label\":\"own\",\"centroid\":[0.8,0.6,0],\"radius\":0.01}",
			     &err), 1);
	assert_int_equal(add(m, "{\"type\":\"pattern\",\"id\":\"pB\",\"feature\":{\"kind\":\"short\"},"
			     "\"cluster\":\"B.1.a\",\"centroid\":[0,1,0],\"radius\":0.9}", &err), 1);
	assert_int_equal(pd_matcher_finish(m, &err), 0);
	assert_true(pd_matcher_has_hier(m));
	return m;
}

static int node_of(const pd_matcher *m, const char *id)
{
	return pd_hier_find(&m->hier, id);
}

static void test_hierarchy(void **state)
{
	(void)state;
	pd_matcher *m = hier_matcher();
	pd_match_hit h[4];
	int place[PD_NLEVELS];
	/* near B's centroid (0.69) and within pB's radius, but placed in A -> A.1 -> A.1.b:
	   pM and pu apply, pB does not */
	float x[3] = { 0.72f, 0.69f, 0 };
	pd_vec_normalize(x, 3);
	place[0] = -1;
	int n = pd_match_select(m, NULL, x, h, place);
	assert_int_equal(place[0], node_of(m, "A"));
	assert_int_equal(place[1], node_of(m, "A.1"));
	assert_int_equal(place[2], node_of(m, "A.1.b"));
	assert_int_equal(n, 2);
	assert_string_equal(m->pat[h[0].pat].id, "pu");	/* more similar first */
	assert_string_equal(m->pat[h[1].pat].id, "pM");
	/* a cached place is used as given */
	pd_buf t = PD_BUF_INIT;
	pd_matcher_place_format(m, place, &t);
	assert_string_equal(t.p, "A\tA.1\tA.1.b");
	int q[PD_NLEVELS];
	assert_int_equal(pd_matcher_place_parse(m, t.p, t.len, q), 1);
	assert_memory_equal(q, place, sizeof q);
	static const char *const notpaths[] = { "A\tB.1\tB.1.a", "A\tA.1", "A\tA.1\tA.1.b\tx",
						"A.1\tA\tA.1.b", "" };
	for (int i = 0; i < 5; i++) {
		assert_int_equal(pd_matcher_place_parse(m, notpaths[i], strlen(notpaths[i]), q), 0);
		assert_memory_equal(q, place, sizeof q);	/* untouched */
	}
	int bq[PD_NLEVELS] = { node_of(m, "B"), node_of(m, "B.1"), node_of(m, "B.1.a") };
	n = pd_match_select(m, NULL, x, h, bq);
	assert_int_equal(n, 1);
	assert_string_equal(m->pat[h[0].pat].id, "pB");
	/* the records name the niche: the pattern's own label, else its cluster's */
	pd_buf out = PD_BUF_INIT;
	place[0] = -1;
	n = pd_match_select(m, NULL, x, h, place);
	pd_match_write(m, "v", h, n, 1, 0, place, &out);
	assert_non_null(strstr(out.p, "{\"type\":\"match_group\",\"video_id\":\"v\",\"cluster\":{"
			       "\"macro\":\"A\",\"meso\":\"A.1\",\"micro\":\"A.1.b\"},\"matches\":["));
	assert_non_null(strstr(out.p, "\"pattern_id\":\"pu\",\"cluster\":\"A.1.b\",\"level\":\"micro\","
			       "\"label\":\"own\",\"similarity\":"));
	assert_non_null(strstr(out.p, "\"pattern_id\":\"pM\",\"cluster\":\"A\",\"level\":\"macro\","
			       "\"label\":\"a\",\"similarity\":0.72"));
	/* a label of more than three terms: the first three non-empty ones */
	assert_string_equal(m->hier.node[node_of(m, "A.2")].label, "a2, x, y");
	/* a zero vector has no place and no patterns */
	float z[3] = { 0, 0, 0 };
	place[0] = -1;
	assert_int_equal(pd_match_select(m, NULL, z, h, place), 0);
	assert_int_equal(place[0], -1);
	/* many random directions: the hits are exactly the patterns of the three nodes */
	pd_rng r;
	pd_rng_seed(&r, 4);
	for (int i = 0; i < 2000; i++) {
		float v[3] = { (float)pd_rng_normal(&r), (float)pd_rng_normal(&r), (float)pd_rng_normal(&r) };
		pd_vec_normalize(v, 3);
		int pl[PD_NLEVELS] = { -1, -1, -1 }, want[PD_NLEVELS];
		pd_hier_place(&m->hier, v, want, NULL);
		n = pd_match_select(m, NULL, v, h, pl);
		assert_memory_equal(pl, want, sizeof want);
		int expect = 0;
		for (int j = 0; j < m->n; j++) {
			int in = m->pat[j].node == pl[0] || m->pat[j].node == pl[1] || m->pat[j].node == pl[2];
			int got = 0;
			for (int k = 0; k < n; k++)
				got |= h[k].pat == j;
			assert_int_equal(in, got);
			expect += in;
		}
		assert_int_equal(n, expect);
	}
	pd_buf_release(&t);
	pd_buf_release(&out);
	pd_matcher_free(m);
}

static void test_hierarchy_refuse(void **state)
{
	(void)state;
	static const char *const bad[] = {
		/* no cluster; a cluster not in the hierarchy; another level; another dimension */
		"{\"type\":\"pattern\",\"id\":\"q\",\"feature\":{\"kind\":\"short\"},\"centroid\":[1,0,0],\"radius\":0.1}",
		"{\"type\":\"pattern\",\"id\":\"q\",\"feature\":{\"kind\":\"short\"},\"cluster\":\"Z\","
		"\"centroid\":[1,0,0],\"radius\":0.1}",
		"{\"type\":\"pattern\",\"id\":\"q\",\"feature\":{\"kind\":\"short\"},\"cluster\":\"A\","
		"\"level\":\"micro\",\"centroid\":[1,0,0],\"radius\":0.1}",
		"{\"type\":\"pattern\",\"id\":\"q\",\"feature\":{\"kind\":\"short\"},\"cluster\":\"A\","
		"\"centroid\":[1,0,0,0],\"radius\":0.1}",
	};
	static const char *const why[] = { "no \"cluster\"", "not in the hierarchy", "is a macro cluster",
					   "dimensions" };
	for (int i = 0; i < 4; i++) {
		pd_matcher *m = pd_matcher_new();
		pd_hier h;
		pd_err err;
		pd_hier_init(&h, 0);
		for (int k = 0; hier_lines[k]; k++)
			assert_int_equal(pd_hier_add_line(&h, hier_lines[k], strlen(hier_lines[k]), &err), 1);
		assert_int_equal(pd_hier_finish(&h, &err), 0);
		assert_int_equal(pd_matcher_set_hier(m, &h, &err), 0);
		assert_int_equal(add(m, bad[i], &err), 1);
		assert_int_equal(pd_matcher_finish(m, &err), -1);
		assert_non_null(strstr(err.msg, why[i]));
		pd_matcher_free(m);
	}
}

/* match one unit vector x (dim 3) alone */
static int match1(pd_matcher *m, const float *x, pd_match_hit *hits)
{
	float s[16];
	int place[PD_NLEVELS] = { -1, -1, -1 };
	pd_matcher_sims(m, x, 1, s);
	return pd_match_select(m, s, x, hits, place);
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
	assert_int_equal(pd_matcher_finish(m, &err), 0);
	float *X = malloc(sizeof(float) * NB * D), *S = malloc(sizeof(float) * NB * NP);
	for (int i = 0; i < NB * D; i++)
		X[i] = (float)pd_rng_normal(&r);
	for (int i = 0; i < NB; i++)
		pd_vec_normalize(X + i * D, D);
	pd_matcher_sims(m, X, NB, S);
	pd_match_hit hb[NP], h1[NP];
	float s1[NP];
	for (int i = 0; i < NB; i++) {
		int pb[PD_NLEVELS] = { -1, -1, -1 }, p1[PD_NLEVELS] = { -1, -1, -1 };
		int nb = pd_match_select(m, S + i * NP, X + i * D, hb, pb);
		pd_matcher_sims(m, X + i * D, 1, s1);
		int n1 = pd_match_select(m, s1, X + i * D, h1, p1);
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
	pd_match_write(m, "v\"1", h, n, 0, PD_RECOMMEND, NULL, &out);
	/* two matches then one recommendation (pb lacked, gain 1; pa had) */
	const char *p = out.p;
	assert_non_null(strstr(p, "{\"type\":\"match\",\"video_id\":\"v\\\"1\",\"pattern_id\":\"pa\","
			       "\"cluster\":null,\"level\":null,\"label\":null,"
			       "\"similarity\":1.000000,\"radius\":0.5,\"has_feature\":true,\"expected_perf\":4,"
			       "\"expected_perf_ci\":[4,4],\"explanation\":\"has "));
	assert_non_null(strstr(p, "\"pattern_id\":\"pb\",\"cluster\":null,\"level\":null,\"label\":null,"
			       "\"similarity\":1.000000,\"radius\":0.2,\"has_feature\":false,"
			       "\"expected_perf\":2,\"expected_perf_ci\":[1,4],\"explanation\":\"lacks "));
	assert_non_null(strstr(p, "{\"type\":\"recommendation\",\"video_id\":\"v\\\"1\",\"rank\":1,"
			       "\"pattern_id\":\"pb\",\"cluster\":null,\"level\":null,\"label\":null,"
			       "\"similarity\":1.000000,\"expected_perf\":2,\"expected_perf_ci\":[1,4],"
			       "\"expected_gain\":1,\"expected_gain_ci\":[0,3],\"explanation\":\"lacks "));
	int lines = 0;
	for (size_t i = 0; i < out.len; i++)
		lines += out.p[i] == '\n';
	assert_int_equal(lines, 3);
	pd_buf_reset(&out);
	pd_match_write(m, "v2", h, 0, 1, PD_RECOMMEND, NULL, &out);
	assert_string_equal(out.p, "{\"type\":\"match_group\",\"video_id\":\"v2\",\"matches\":[],"
			    "\"recommendations\":[]}\n");
	/* similarity digits: negative and rounding */
	pd_buf_reset(&out);
	h[0].pat = 2;
	h[0].sim = -0.25f;
	h[0].has = 0;
	pd_match_write(m, "v3", h, 1, 1, 0, NULL, &out);
	assert_non_null(strstr(out.p, "\"similarity\":-0.250000,"));
	assert_non_null(strstr(out.p, "\"expected_perf\":null,\"expected_perf_ci\":null"));
	pd_buf_release(&out);
	pd_vfeat_free(vf);
	pd_matcher_free(m);
}

/* Many hits (the merge path of the sort): by similarity, then id, ties included. */
static void test_many_hits_order(void **state)
{
	(void)state;
	pd_matcher *m = pd_matcher_new();
	pd_err err;
	enum { N = 61 };
	char line[400];
	for (int i = 0; i < N; i++) {
		/* ids in reverse of the similarity order, every third pair with equal centroids */
		int k = (i * 37) % N;
		snprintf(line, sizeof line,
			 "{\"type\":\"pattern\",\"id\":\"p%02d\",\"feature\":{\"kind\":\"short\"},"
			 "\"centroid\":[1,%d,0],\"radius\":2}", i, k / 2);
		assert_int_equal(add(m, line, &err), 1);
	}
	assert_int_equal(pd_matcher_finish(m, &err), 0);
	float x[3] = { 1, 0, 0 }, S[N];
	pd_matcher_sims(m, x, 1, S);
	pd_match_hit hits[N];
	int place[PD_NLEVELS];
	assert_int_equal(pd_match_select(m, S, x, hits, place), N);
	for (int i = 1; i < N; i++) {
		const pd_match_hit *a = &hits[i - 1], *b = &hits[i];
		assert_true(a->sim > b->sim ||
			    (a->sim == b->sim && strcmp(m->pat[a->pat].id, m->pat[b->pat].id) < 0));
	}
	pd_matcher_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_refuse),
		cmocka_unit_test(test_many_hits_order),
		cmocka_unit_test(test_radius_edge_and_order),
		cmocka_unit_test(test_batch_independent),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_effect),
		cmocka_unit_test(test_provisional),
		cmocka_unit_test(test_hierarchy),
		cmocka_unit_test(test_hierarchy_refuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
