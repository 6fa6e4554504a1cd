/*
 * fuzz_embed_reply.c — libFuzzer target: replies of an OpenAI-compatible
 * embeddings endpoint (lib/embed_openai.h).  The input, split into replies
 * at "===" lines (http_stub.c), answers pd_oai_embed of five texts in
 * batches of two (three requests).  A call that succeeds must give five
 * finite embeddings of one dimension; one that fails must say why and leave
 * nothing allocated.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/embed_openai.h"
#include "http_stub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const texts[] = { "how to bake bread", "", "top 10 goals", "vlog", "x" };
	for (int dims = 0; dims <= 2; dims += 2) {
		pd_oai o = { .url = "http://embed.invalid/v1/", .model = "m", .dims = dims, .batch = 2,
			     .concurrency = 2 };
		float *E = NULL;
		int dim = -1;
		pd_err err;
		fz_http_set(data, size);
		int rc = pd_oai_embed(&o, texts, 5, &E, &dim, &err);
		if (rc == 0) {
			if (!E || dim < 1 || (dims && dim != dims))
				abort();
			for (size_t i = 0; i < (size_t)5 * (size_t)dim; i++)
				if (!isfinite(E[i]))
					abort();
		} else if (rc != -1 || E || dim != 0 || !err.msg[0]) {
			abort();
		}
		free(E);
	}
	return 0;
}
