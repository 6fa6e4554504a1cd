/*
 * fuzz_clusterio.c — libFuzzer target: pd-cluster's stream (lib/clusterio.h).
 * The input's lines (at most 64) are examined into one batch, as two
 * threads would (alternate arenas, last line first), with a small fixed
 * hierarchy for --assign's placement, then taken in order.  Every line gets
 * one kind; a rejected one has a message; the stream's dimension is the
 * first embedding's; a video to cluster of the hierarchy's dimension is on a
 * path of the tree and is written (pd_cluster_video_write) as a JSON object
 * with its clusters; examining without the hierarchy gives the same kinds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/cluster.h"
#include "../../lib/clusterio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static pd_hier H;

static void tree(void)
{
	static const float c[2][3] = { { 1, 0, 0 }, { 0, 0.6f, 0.8f } };
	pd_err err;
	pd_hier_init(&H, 3);
	if (pd_hier_add(&H, PD_MACRO, "m1", NULL, c[0], 3, 0.1f, 1, &err) ||
	    pd_hier_add(&H, PD_MACRO, "m2", NULL, c[1], 3, 0.1f, 1, &err) ||
	    pd_hier_add(&H, PD_MESO, "m1.1", "m1", c[0], 3, 0.1f, 1, &err) ||
	    pd_hier_add(&H, PD_MESO, "m2.1", "m2", c[1], 3, 0.1f, 1, &err) ||
	    pd_hier_add(&H, PD_MICRO, "m1.1.1", "m1.1", c[0], 3, 0.1f, 1, &err) ||
	    pd_hier_add(&H, PD_MICRO, "m2.1.1", "m2.1", c[1], 3, 0.1f, 1, &err) ||
	    pd_hier_finish(&H, &err))
		abort();
}

enum { MAXL = 64 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!H.n)
		tree();
	/* the lines, each a NUL-terminated copy */
	char *text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char *line[MAXL];
	size_t len[MAXL];
	int n = 0;
	for (char *p = text; n < MAXL && p < text + size;) {
		char *e = memchr(p, '\n', (size_t)(text + size - p));
		if (!e)
			e = text + size;
		*e = '\0';
		line[n] = p;
		len[n++] = (size_t)(e - p);
		p = e + 1;
	}
	pd_clbatch *b = pd_clbatch_new(), *b0 = pd_clbatch_new();
	pd_clbatch_reset(b, n);
	pd_clbatch_reset(b0, n);
	for (int i = n - 1; i >= 0; i--) {
		pd_clbatch_examine(b, i, i & 1, line[i], len[i], &H);
		pd_clbatch_examine(b0, i, (i + 1) & 1, line[i], len[i], NULL);
	}
	pd_clstream s = { H.d, 0, 0 }, s0 = { 0, 0, 0 };
	pd_buf out = PD_BUF_INIT;
	for (int i = 0; i < n; i++) {
		pd_err err, err0;
		int k = pd_clstream_take(&s, b, i, &err);
		int k0 = pd_clstream_take(&s0, b0, i, &err0);
		if (k < PD_CLL_OTHER || k > PD_CLL_REPLACE || k == -1)
			abort();
		if (k == PD_CLL_REJECT && !err.msg[0])
			abort();
		/* the same kinds without placement, but for the dimension: s0's is
		   the first embedding's, s's the hierarchy's */
		if (k != k0 && !(k == PD_CLL_REJECT || k0 == PD_CLL_REJECT))
			abort();
		if (k <= 0)
			continue;
		float sim;
		const int *nodes = pd_clbatch_placed(b, i, &sim);
		int parent = -1;
		for (int l = 0; l < PD_NLEVELS; l++) {
			if (nodes[l] < 0 || nodes[l] >= H.n || H.node[nodes[l]].level != l ||
			    H.node[nodes[l]].parent != parent)
				abort();
			parent = nodes[l];
		}
		pd_buf_reset(&out);
		if (pd_cluster_video_write(&out, line[i], len[i], k == PD_CLL_REPLACE, &H, nodes, sim,
					   &err) < 0)
			abort();	/* the line was parsed: it is an object */
		cJSON *o = cJSON_ParseWithLength(out.p, out.len);
		if (!cJSON_IsObject(o) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "cluster")))
			abort();
		cJSON_Delete(o);
	}
	if (s.unclustered > (unsigned long long)n || s.old_clusters > (unsigned long long)n)
		abort();
	pd_buf_release(&out);
	pd_clbatch_free(b);
	pd_clbatch_free(b0);
	free(text);
	return 0;
}
