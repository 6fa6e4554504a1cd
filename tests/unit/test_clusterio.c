/*
 * test_clusterio.c — unit tests of lib/clusterio.c, pd-cluster's stream:
 * the kind of every sort of line (video to cluster, one carrying old
 * clusters, one without an embedding or with a zero one, another record,
 * an old cluster record, a bad line, an embedding of another dimension);
 * lines examined into two arenas in any order give what examining them in
 * order gives; training's second reading from the temporary file writes the
 * videos with their clusters and the other lines as they were, drops the
 * dropped ones, and notices more lines or fewer than the first time; the
 * placement of --assign is pd_hier_place's.
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
#include "../../lib/cluster.h"
#include "../../lib/clusterio.h"

static const char *const lines[] = {
	"{\"type\":\"video\",\"id\":\"a\",\"title\":\"red fox\",\"channel_id\":\"c1\",\"perf\":2,"
	"\"embedding\":[1,0,0]}",
	"{\"type\":\"note\",\"x\":1}",
	"{\"type\":\"video\",\"id\":\"b\",\"embedding\":[0,0,0]}",
	"{\"type\":\"cluster\",\"id\":\"m1\",\"level\":\"macro\"}",
	"{\"type\":\"video\",\"id\":\"c\",\"cluster\":{\"macro\":\"x\"},\"cluster_sim\":1,"
	"\"embedding\":[0,2,0]}",
	"{\"type\":\"video\",\"id\":\"d\"",
	"{\"type\":\"video\",\"id\":\"e\",\"embedding\":[1,1]}",
	"{\"type\":\"video\",\"id\":\"f\"}",
	"{\"type\":\"video\",\"id\":\"g\",\"embedding\":[0,0,3]}",
};
enum { NL = sizeof lines / sizeof *lines };
static const int kinds[NL] = {
	PD_CLL_VIDEO, PD_CLL_OTHER, PD_CLL_UNCLUSTERED, PD_CLL_OLD_CLUSTER, PD_CLL_REPLACE,
	PD_CLL_REJECT, PD_CLL_REJECT, PD_CLL_UNCLUSTERED, PD_CLL_VIDEO
};

/* every line examined (even ones into arena 0, odd ones into 1, last first) */
static pd_clbatch *examined(const pd_hier *h)
{
	pd_clbatch *b = pd_clbatch_new();
	pd_clbatch_reset(b, NL);
	for (int i = NL - 1; i >= 0; i--)
		pd_clbatch_examine(b, i, i & 1, lines[i], strlen(lines[i]), h);
	return b;
}

static void kinds_and_counts(void **state)
{
	(void)state;
	pd_clbatch *b = examined(NULL);
	pd_clstream s = { 0, 0, 0 };
	pd_err err;
	for (int i = 0; i < NL; i++) {
		assert_int_equal(pd_clstream_take(&s, b, i, &err), kinds[i]);
		if (i == 6)
			assert_string_equal(err.msg, "embedding of dimension 2, expected 3");
	}
	assert_int_equal(s.d, 3);
	assert_int_equal(s.unclustered, 2);
	assert_int_equal(s.old_clusters, 1);
	/* a batch reused for the next chunk holds nothing of the one before */
	pd_clbatch_reset(b, 1);
	pd_clbatch_examine(b, 0, 1, lines[1], strlen(lines[1]), NULL);
	assert_int_equal(pd_clstream_take(&s, b, 0, &err), PD_CLL_OTHER);
	pd_clbatch_free(b);
}

/* the whole of what the second reading writes */
static int reread(pd_cltrain *t, int extra, pd_buf *out, pd_err *err)
{
	pd_input *in = pd_cltrain_reread(t, NULL, 0, 0, err);
	assert_non_null(in);
	const char *line;
	size_t len;
	int rc = 0;
	while (rc >= 0 && pd_input_next(in, &line, &len, err) == PD_LINE_OK)
		rc = pd_cltrain_out(t, line, len, out, err) < 0 ? -1 : 0;
	pd_input_free(in);
	for (int k = 0; rc >= 0 && k < extra; k++)
		rc = pd_cltrain_out(t, lines[1], strlen(lines[1]), out, err);
	return rc < 0 ? -1 : pd_cltrain_reread_end(t, err);
}

static void training(void **state)
{
	(void)state;
	pd_clbatch *b = examined(NULL);
	pd_cltrain t;
	pd_err err;
	assert_int_equal(pd_cltrain_init(&t, NULL, 0, &err), 0);	/* stdin: kept */
	for (int i = 0; i < NL; i++)
		assert_int_equal(pd_cltrain_take(&t, b, i, lines[i], strlen(lines[i]), &err), kinds[i]);
	pd_clbatch_free(b);
	assert_int_equal(t.n, 3);
	pd_hier_opts o;
	pd_hier_opts_default(&o);
	for (int L = 0; L < PD_NLEVELS; L++)
		o.band_min[L] = o.band_max[L] = 1;
	assert_int_equal(pd_cltrain_build(&t, &o, &err), 0);
	assert_true(pd_cltrain_mean_sim(&t, PD_MICRO) > 0.999);

	pd_buf out = PD_BUF_INIT;
	assert_int_equal(reread(&t, 0, &out, &err), 0);
	/* lines 0 1 2 4 7 8 written, in order; the old cluster and the bad ones not */
	const char *p = out.p;
	int written[] = { 0, 1, 2, 4, 7, 8 };
	for (size_t k = 0; k < sizeof written / sizeof *written; k++) {
		const char *l = lines[written[k]], *nl = strchr(p, '\n');
		assert_non_null(nl);
		int video = kinds[written[k]] > 0;
		if (!video) {
			assert_int_equal((size_t)(nl - p), strlen(l));
			assert_memory_equal(p, l, strlen(l));
		} else {
			assert_non_null(strstr(p, "\"cluster\":{\"macro\":\"m"));
			assert_true(strstr(p, "\"cluster_sim\":") < nl);
			assert_null(strstr(p, "\"macro\":\"x\""));
		}
		p = nl + 1;
	}
	assert_int_equal(*p, '\0');

	/* a line more than the first time, or fewer */
	pd_buf_reset(&out);
	assert_int_equal(reread(&t, 1, &out, &err), -1);
	assert_int_equal(err.code, PD_EUSAGE);
	assert_non_null(strstr(err.msg, "changed while being read"));
	t.nlines++;	/* as if a line had been kept that is no longer there */
	t.kind[t.nlines - 1] = 0;
	pd_buf_reset(&out);
	assert_int_equal(reread(&t, 0, &out, &err), -1);
	assert_string_equal(err.msg, "the temporary file ended early when read again");

	pd_cl_summary *s = pd_cltrain_summarise(&t, 2, 2.0);
	size_t members = 0;
	for (int c = t.h.level_start[PD_MACRO]; c < t.h.level_start[PD_MACRO] + t.h.level_count[PD_MACRO]; c++)
		members += s[c].size;
	assert_int_equal(members, 3);
	pd_cl_summaries_free(s, t.h.n);
	pd_buf_release(&out);
	pd_cltrain_release(&t);
}

static void assign_places(void **state)
{
	(void)state;
	pd_hier h;
	pd_err err;
	float c[2][3] = { { 1, 0, 0 }, { 0, 0.6f, 0.8f } };
	pd_hier_init(&h, 3);
	assert_int_equal(pd_hier_add(&h, PD_MACRO, "m1", NULL, c[0], 3, 0.1f, 1, &err), 0);
	assert_int_equal(pd_hier_add(&h, PD_MACRO, "m2", NULL, c[1], 3, 0.1f, 1, &err), 0);
	assert_int_equal(pd_hier_add(&h, PD_MESO, "m1.1", "m1", c[0], 3, 0.1f, 1, &err), 0);
	assert_int_equal(pd_hier_add(&h, PD_MESO, "m2.1", "m2", c[1], 3, 0.1f, 1, &err), 0);
	assert_int_equal(pd_hier_add(&h, PD_MICRO, "m1.1.1", "m1.1", c[0], 3, 0.1f, 1, &err), 0);
	assert_int_equal(pd_hier_add(&h, PD_MICRO, "m2.1.1", "m2.1", c[1], 3, 0.1f, 1, &err), 0);
	assert_int_equal(pd_hier_finish(&h, &err), 0);
	pd_clbatch *b = examined(&h);
	pd_clstream s = { h.d, 0, 0 };
	const char *want[NL] = { [0] = "m1.1.1", [4] = "m2.1.1", [8] = "m2.1.1" };
	for (int i = 0; i < NL; i++) {
		if (pd_clstream_take(&s, b, i, &err) <= 0)
			continue;
		float sim;
		const int *nodes = pd_clbatch_placed(b, i, &sim);
		assert_string_equal(h.node[nodes[PD_MICRO]].id, want[i]);
		assert_float_equal(sim, i == 0 ? 1 : i == 4 ? 0.6 : 0.8, 1e-6);
	}
	pd_clbatch_free(b);
	pd_hier_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kinds_and_counts),
		cmocka_unit_test(training),
		cmocka_unit_test(assign_places),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
