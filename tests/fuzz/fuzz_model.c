/*
 * fuzz_model.c — libFuzzer target: pd-embed's saved model files
 * (pd_tmodel_load, lib/tfidf.h).  The input is a model file without its
 * trailing checksum; the harness appends the right one, so the fuzzer gets
 * past it to the sizes, terms and matrices (the checksum itself is checked
 * with the input as it is, too).  A model that loads must embed videos
 * into finite vectors of its dimension.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/tfidf.h"
#include "fz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_load(const char *path)
{
	pd_err err;
	pd_tmodel *m = pd_tmodel_load(path, &err);
	if (!m)
		return;
	int d = pd_tmodel_dims(m);
	if (d < 1 || d > 65536 || pd_tmodel_rank(m) < 0 || pd_tmodel_nterms(m) < 0)
		abort();
	float *out = xcalloc((size_t)d, sizeof *out);
	static const char *const tags[] = { "bread", "baking" };
	const pd_tdoc_text docs[] = {
		{ "How to bake sourdough bread at home", "A recipe #bread", tags, 2 },
		{ "", NULL, NULL, 0 },
		{ "\xf0\x9f\x98\x80 TOP 10 goals 2026", "x", NULL, 0 },
	};
	for (int i = 0; i < 3; i++) {
		if (pd_tmodel_embed(m, &docs[i], out) == 0)
			for (int k = 0; k < d; k++)
				if (!isfinite(out[k]))
					abort();
	}
	free(out);
	pd_tmodel_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = pd_hash64(data, size);
	unsigned char sum[8];
	for (int i = 0; i < 8; i++)
		sum[i] = (unsigned char)(h >> (8 * i));
	try_load(fz_file(data, size, sum, 8));
	try_load(fz_file(data, size, NULL, 0));
	return 0;
}
