/*
 * fuzz_pinecone.c — libFuzzer target: Pinecone replies, with no network:
 * the input, split into replies at "===" lines (http_stub.c), answers
 * pd-match's fetch of a stored vector (pd_pinecone_fetch) and then
 * pd-store's upserts of three vectors (pd_pinecone_add / _flush).  A
 * fetched vector must be finite and have a dimension; the upserts may be
 * confirmed only when Pinecone counted every vector.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/match.h"
#include "../../lib/pinecone.h"
#include "http_stub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	setenv("PINECONE_API_KEY", "k", 1);
	setenv("PINECONE_INDEX_HOST", "http://pinecone.invalid", 1);
	setenv("PINECONE_NAMESPACE", "ns", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pd_err err;
	float *v = NULL;
	size_t cap = 0;
	int dim = 0;
	fz_http_set(data, size);
	int rc = pd_pinecone_fetch("vid-1", &v, &cap, &dim, &err);
	if (rc == 1) {
		if (dim < 1 || (size_t)dim > cap)
			abort();
		for (int i = 0; i < dim; i++)
			if (!isfinite(v[i]))
				abort();
	} else if (rc != 0 && rc != -1) {
		abort();
	}
	free(v);

	pd_pinecone *pc;
	if (pd_pinecone_open(&pc, &err) != 0 || !pc)
		abort();
	const float x[4] = { 0.5f, -0.5f, 0.5f, 0.5f };
	int ok = 0;
	for (int i = 0; i < 3; i++) {
		char id[16];
		snprintf(id, sizeof id, "v%d", i);
		if (pd_pinecone_add(pc, id, x, 4, &err) != 0)
			break;
		ok++;
	}
	if (ok == 3 && pd_pinecone_flush(pc, &err) == 0 && pd_pinecone_count(pc) != 3)
		abort();	/* success only when every vector was confirmed */
	if (pd_pinecone_count(pc) < 0 || pd_pinecone_count(pc) > 3)
		abort();
	pd_pinecone_free(pc);
	return 0;
}
