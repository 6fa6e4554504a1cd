/*
 * test_cluster.c — unit tests of lib/cluster.c on a small hand-made
 * hierarchy (3 dimensions, known centroids): pd_hier_place descends macro ->
 * meso -> micro and so reaches the micro cluster under the best macro, not
 * the globally nearest micro centroid; the summaries of hand-placed videos
 * (label terms ranked as computed by hand below, label stop words left
 * out, medians of odd and even counts, channels, shares); the writers of
 * cluster and video records and their agreement with the reader; drift
 * counts against the radius; the stop
 * word list's two uses.
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
#include "../../lib/cluster.h"
#include "../../lib/text.h"

/*
 * The tree:  m1 (1,0,0)      -> m1.1 (1,0,0)  -> m1.1.1 (.8,0,.6), m1.1.2 (.8,0,-.6)
 *            m2 (0,1,0)      -> m2.1 (.6,.8,0) -> m2.1.1 (.95,.31225,0)
 * m2.1.1 is the micro centroid nearest to x = (1, .05, .1), but x's macro
 * is m1, so x belongs to m1.1.1.
 */
static void tree(pd_hier *h)
{
	static const struct {
		int level;
		const char *id, *parent;
		float c[3];
	} n[] = {
		{ PD_MICRO, "m2.1.1", "m2.1", { 0.95f, 0.31225f, 0 } },	/* any order: finish sorts */
		{ PD_MACRO, "m1", NULL, { 1, 0, 0 } },
		{ PD_MACRO, "m2", NULL, { 0, 1, 0 } },
		{ PD_MESO, "m1.1", "m1", { 1, 0, 0 } },
		{ PD_MESO, "m2.1", "m2", { 0.6f, 0.8f, 0 } },
		{ PD_MICRO, "m1.1.1", "m1.1", { 0.8f, 0, 0.6f } },
		{ PD_MICRO, "m1.1.2", "m1.1", { 0.8f, 0, -0.6f } },
	};
	pd_err err;
	pd_hier_init(h, 3);
	for (size_t i = 0; i < sizeof n / sizeof *n; i++)
		assert_int_equal(pd_hier_add(h, n[i].level, n[i].id, n[i].parent, n[i].c, 3, 0.25f,
					     10, &err), 0);
	assert_int_equal(pd_hier_finish(h, &err), 0);
	assert_int_equal(h->n, 7);
	assert_null(h->parent_ids);	/* the load's own state is gone */
}

static const char *id_of(const pd_hier *h, int i)
{
	return h->node[i].id;
}

static void place_descends(void **state)
{
	(void)state;
	pd_hier h;
	tree(&h);
	float x[3] = { 1, 0.05f, 0.1f };
	pd_vec_normalize(x, 3);
	int out[PD_NLEVELS];
	float sim[PD_NLEVELS];
	pd_hier_place(&h, x, out, sim);
	assert_string_equal(id_of(&h, out[PD_MACRO]), "m1");
	assert_string_equal(id_of(&h, out[PD_MESO]), "m1.1");
	assert_string_equal(id_of(&h, out[PD_MICRO]), "m1.1.1");
	/* the similarity is the dot product with that micro centroid */
	assert_float_equal(sim[PD_MICRO], 0.8 * x[0] + 0.6 * x[2], 1e-6);
	/* ... which is lower than with the micro centroid of the other branch */
	assert_true(sim[PD_MICRO] < 0.95 * x[0] + 0.31225 * x[1]);
	/* and the other side of m1.1 */
	float y[3] = { 1, 0.05f, -0.1f };
	pd_vec_normalize(y, 3);
	pd_hier_place(&h, y, out, sim);
	assert_string_equal(id_of(&h, out[PD_MICRO]), "m1.1.2");
	/* and the other branch */
	float z[3] = { 0.2f, 1, 0 };
	pd_vec_normalize(z, 3);
	pd_hier_place(&h, z, out, NULL);
	assert_string_equal(id_of(&h, out[PD_MACRO]), "m2");
	assert_string_equal(id_of(&h, out[PD_MICRO]), "m2.1.1");
	pd_hier_release(&h);
}

/*
 * Six videos.  Micro m1.1.1 holds v0-v2 (n = 6 in all, m = 3, so every term
 * counts): score = in * log(lift), lift = (in / m) / (df / n):
 *   ep        in 2, df 2: lift 2    -> 2 log 2   = 1.386
 *   minecraft in 3, df 4: lift 1.5  -> 3 log 1.5 = 1.216
 *   hardcore  in 1, df 1: lift 2    -> log 2     = 0.693
 *   survival  in 2, df 3: lift 4/3  -> 2 log 4/3 = 0.575
 * ("official" and "video" would tie with "hardcore" were they not label
 * stop words; "1" and "2" are numbers).
 */
static const struct {
	const char *title, *channel;
	double perf;
	const char *micro;
} vids[] = {
	{ "Minecraft Survival Ep 1", "A", 1.0, "m1.1.1" },
	{ "Minecraft Survival Ep 2", "A", 3.0, "m1.1.1" },
	{ "Minecraft Hardcore Official Video", "B", 2.0, "m1.1.1" },
	{ "Minecraft survival tips", "C", NAN, "m1.1.2" },
	{ "Cooking Pasta", "D", 4.0, "m2.1.1" },
	{ "Cooking Rice", NULL, 0.5, "m2.1.1" },
};
enum { NV = sizeof vids / sizeof *vids };

static pd_cl_summary *summarise(pd_hier *h, int nlabels)
{
	tree(h);
	pd_cl_videos *v = pd_cl_videos_new();
	int memb[NV * PD_NLEVELS];
	for (int i = 0; i < NV; i++) {
		pd_cl_videos_add(v, vids[i].title, vids[i].channel, vids[i].perf);
		int mc = pd_hier_find(h, vids[i].micro);
		assert_true(mc >= 0);
		memb[i * PD_NLEVELS + PD_MICRO] = mc;
		memb[i * PD_NLEVELS + PD_MESO] = h->node[mc].parent;
		memb[i * PD_NLEVELS + PD_MACRO] = h->node[h->node[mc].parent].parent;
	}
	assert_int_equal(pd_cl_videos_count(v), NV);
	pd_cl_summary *s = pd_hier_summarise(h, memb, v, nlabels, 2.0);
	pd_cl_videos_free(v);
	return s;
}

static void summaries(void **state)
{
	(void)state;
	pd_hier h;
	pd_cl_summary *s = summarise(&h, 5);
	const pd_cl_summary *a = &s[pd_hier_find(&h, "m1.1.1")];
	assert_int_equal(a->size, 3);
	assert_int_equal(a->nlabel, 4);
	assert_string_equal(a->label[0], "ep");
	assert_string_equal(a->label[1], "minecraft");
	assert_string_equal(a->label[2], "hardcore");
	assert_string_equal(a->label[3], "survival");
	assert_int_equal(a->nperf, 3);
	assert_float_equal(a->median, 2.0, 1e-12);	/* of 1, 3, 2 */
	assert_float_equal(a->mean_log, (log(1.0) + log(3.0) + log(2.0)) / 3, 1e-12);
	assert_float_equal(a->share_high, 2.0 / 3, 1e-12);	/* 3 and 2 are >= 2 */
	assert_int_equal(a->channels, 2);

	/* the macro m1: four members, one without perf, three channels */
	const pd_cl_summary *m = &s[pd_hier_find(&h, "m1")];
	assert_int_equal(m->size, 4);
	assert_int_equal(m->nperf, 3);
	assert_float_equal(m->median, 2.0, 1e-12);
	assert_int_equal(m->channels, 3);
	assert_string_equal(m->label[0], "minecraft");	/* in all 4, yet lift 1.5 */

	/* m2.1.1: an even count (median of 0.5 and 4), one channel (the other
	   video has none), pasta and rice tied (log 3 each), in byte order */
	const pd_cl_summary *c = &s[pd_hier_find(&h, "m2.1.1")];
	assert_int_equal(c->nperf, 2);
	assert_float_equal(c->median, 2.25, 1e-12);
	assert_float_equal(c->share_high, 0.5, 1e-12);
	assert_int_equal(c->channels, 1);
	assert_int_equal(c->nlabel, 3);
	assert_string_equal(c->label[0], "cooking");
	assert_string_equal(c->label[1], "pasta");
	assert_string_equal(c->label[2], "rice");

	/* m1.1.2: one member without perf */
	const pd_cl_summary *e = &s[pd_hier_find(&h, "m1.1.2")];
	assert_int_equal(e->nperf, 0);
	assert_true(isnan(e->median) && isnan(e->mean_log) && isnan(e->share_high));
	pd_cl_summaries_free(s, h.n);
	pd_hier_release(&h);

	/* nlabels cuts the list */
	s = summarise(&h, 2);
	a = &s[pd_hier_find(&h, "m1.1.1")];
	assert_int_equal(a->nlabel, 2);
	assert_string_equal(a->label[1], "minecraft");
	pd_cl_summaries_free(s, h.n);
	pd_hier_release(&h);
}

/* a cluster record written is read back as the same node */
static void record_roundtrip(void **state)
{
	(void)state;
	pd_hier h;
	pd_cl_summary *s = summarise(&h, 5);
	int c = pd_hier_find(&h, "m1.1.1");
	pd_buf b = PD_BUF_INIT;
	pd_cluster_record_write(&b, &h, c, &s[c]);
	assert_non_null(strstr(b.p, "\"perf\":{\"n\":3,\"median\":2,\"mean_log\":0.597253,"
			       "\"share_high\":0.666667},\"channels\":2,"
			       "\"label\":[\"ep\",\"minecraft\",\"hardcore\",\"survival\"]}\n"));
	assert_non_null(strstr(b.p, "\"level\":\"micro\",\"parent\":\"m1.1\",\"size\":3,"));
	cJSON *o = cJSON_Parse(b.p);
	assert_non_null(o);
	pd_hier g;
	pd_err err;
	pd_hier_init(&g, 0);
	assert_int_equal(pd_hier_add_record(&g, o, NULL, 0, &err), 0);
	assert_string_equal(g.node[0].id, "m1.1.1");
	assert_int_equal(g.node[0].level, PD_MICRO);
	assert_int_equal(g.node[0].size, 3);
	assert_float_equal(g.node[0].radius, 0.25, 1e-7);
	for (int j = 0; j < 3; j++)
		assert_float_equal(g.cent[j], h.cent[(size_t)c * 3 + j], 0);
	assert_string_equal(g.node[0].label, "ep, minecraft, hardcore");
	cJSON_Delete(o);
	pd_hier_release(&g);
	pd_buf_reset(&b);
	pd_drift_record_write(&b, &h, c, 4, 1);
	assert_string_equal(b.p, "{\"type\":\"drift\",\"cluster\":\"m1.1.1\",\"level\":\"micro\","
			    "\"n\":4,\"beyond_radius\":1,\"share\":0.25,\"radius\":0.25}\n");
	pd_buf_release(&b);
	pd_cl_summaries_free(s, h.n);
	pd_hier_release(&h);
}

static void video_write(void **state)
{
	(void)state;
	pd_hier h;
	tree(&h);
	int nodes[PD_NLEVELS] = { pd_hier_find(&h, "m2"), pd_hier_find(&h, "m2.1"),
				  pd_hier_find(&h, "m2.1.1") };
	pd_buf b = PD_BUF_INIT;
	pd_err err;
	const char *plain = "{\"type\":\"video\",\"id\":\"v1\"} ";
	assert_int_equal(pd_cluster_video_write(&b, plain, strlen(plain), 0, &h, nodes, 0.5f, &err), 0);
	assert_string_equal(b.p, "{\"type\":\"video\",\"id\":\"v1\",\"cluster\":{\"macro\":\"m2\","
			    "\"meso\":\"m2.1\",\"micro\":\"m2.1.1\"},\"cluster_sim\":0.5}\n");
	pd_buf_reset(&b);
	/* an earlier run's clusters are replaced, not repeated */
	const char *old = "{\"type\":\"video\",\"cluster\":{\"macro\":\"x\"},\"id\":\"v1\",\"cluster_sim\":1}";
	assert_int_equal(pd_cluster_video_write(&b, old, strlen(old), 1, &h, nodes, 0.25f, &err), 0);
	assert_string_equal(b.p, "{\"type\":\"video\",\"id\":\"v1\",\"cluster\":{\"macro\":\"m2\","
			    "\"meso\":\"m2.1\",\"micro\":\"m2.1.1\"},\"cluster_sim\":0.25}\n");
	/* not an object: an error, nothing written */
	size_t at = b.len;
	assert_int_equal(pd_cluster_video_write(&b, "[1]", 3, 1, &h, nodes, 0.25f, &err), -1);
	assert_int_equal(b.len, at);
	pd_buf_release(&b);
	pd_hier_release(&h);
}

/* drift: beyond the radius (0.25) is a cosine distance over it */
static void drift(void **state)
{
	(void)state;
	pd_hier h;
	tree(&h);
	int mc = pd_hier_find(&h, "m1.1.1");
	int nodes[PD_NLEVELS] = { pd_hier_find(&h, "m1"), pd_hier_find(&h, "m1.1"), mc };
	pd_drift d;
	pd_drift_init(&d, &h);
	pd_drift_add(&d, &h, nodes, 0.9f);	/* distance 0.1: within */
	pd_drift_add(&d, &h, nodes, 0.7f);	/* 0.3: beyond */
	pd_drift_add(&d, &h, nodes, 0.76f);	/* 0.24: within */
	assert_int_equal(d.n[mc], 3);
	assert_int_equal(d.beyond[mc], 1);
	assert_int_equal(d.placed, 3);
	assert_int_equal(d.beyond_total, 1);
	assert_int_equal(d.n[pd_hier_find(&h, "m1.1.2")], 0);
	pd_drift_release(&d);
	pd_hier_release(&h);
}

/* one stop-word list, two uses (text.h) */
static void stopword_uses(void **state)
{
	(void)state;
	static const char *const label[] = {
		"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "i", "in",
		"is", "it", "me", "my", "of", "on", "or", "our", "so", "that", "the", "this", "to",
		"vs", "was", "we", "what", "with", "you", "your", "de", "la", "el", "en", "y", "le",
		"les", "et", "des", "du", "un", "une", "der", "die", "und", "ft", "feat", "official",
		"video",
	};
	for (size_t i = 0; i < sizeof label / sizeof *label; i++)
		assert_true(pd_text_stopword_use(label[i], strlen(label[i])) & PD_STOP_LABEL);
	/* n-gram stop words a label keeps, label stop words an n-gram keeps */
	assert_int_equal(pd_text_stopword_use("about", 5), PD_STOP_NGRAM);
	assert_int_equal(pd_text_stopword_use("ki", 2), PD_STOP_NGRAM);
	assert_int_equal(pd_text_stopword_use("official", 8), PD_STOP_LABEL);
	assert_int_equal(pd_text_stopword_use("how", 3), PD_STOP_LABEL);
	assert_false(pd_text_is_stopword("video", 5));
	assert_int_equal(pd_text_stopword_use("the", 3), PD_STOP_NGRAM | PD_STOP_LABEL);
	assert_int_equal(pd_text_stopword_use("minecraft", 9), 0);
	assert_int_equal(pd_text_stopword_use("yourselves", 10), PD_STOP_NGRAM);	/* the last */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(place_descends),
		cmocka_unit_test(summaries),
		cmocka_unit_test(record_roundtrip),
		cmocka_unit_test(video_write),
		cmocka_unit_test(drift),
		cmocka_unit_test(stopword_uses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
