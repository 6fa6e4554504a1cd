/*
 * fuzz_hier.c — libFuzzer target: saved cluster models — the cluster
 * records pd-cluster writes and pd-cluster --assign / --previous and
 * pd-match --clusters load (pd_hier_load_file, lib/cluster.h).  The input
 * is the NDJSON file.  A hierarchy that loads must place embeddings on a
 * path of its own tree (macro, a meso child of it, a micro child of that),
 * hash the same twice and match itself as a previous hierarchy.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/cluster.h"
#include "fz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pd_err err;
	pd_hier h;
	const char *path = fz_file(data, size, NULL, 0);
	if (pd_hier_load_file(path, 0, &h, &err) < 0)
		return 0;
	if (h.n < 1 || h.d < 1)
		abort();
	int d = h.d;
	float *x = xcalloc((size_t)d, sizeof *x);
	for (int q = 0; q < 3; q++) {
		for (int i = 0; i < d; i++)
			x[i] = q == 0 ? (i == 0) : q == 1 ? 1.0f / sqrtf((float)d) : h.cent[i];
		int out[PD_NLEVELS];
		float sim[PD_NLEVELS];
		pd_hier_place(&h, x, out, sim);
		int parent = -1;
		for (int l = 0; l < PD_NLEVELS; l++) {
			if (out[l] < 0)
				break;
			if (out[l] >= h.n || h.node[out[l]].level != l || h.node[out[l]].parent != parent)
				abort();
			parent = out[l];
		}
	}
	if (pd_hier_hash(&h) != pd_hier_hash(&h))
		abort();
	pd_hier_depth(&h);
	free(x);
	pd_hier_release(&h);
	return 0;
}
