/*
 * fuzz_llm.c — libFuzzer target: the LLM reviewer's reading of chat
 * replies (lib/llm.h).  The input is a chat-completions response body:
 * pd_llm_parse_reply's reviews, each checked by pd_llm_check_verdict, whose
 * canonical verdict must pass the check again unchanged.  Then the same
 * input, split into replies at "===" lines (http_stub.c), answers a whole
 * pd_llm_review of three patterns in batches of two with one re-ask: every
 * pattern ends with a verdict or a reason, never both, never neither.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/llm.h"
#include "http_stub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512];
	cJSON *arr = pd_llm_parse_reply((const char *)data, size, why, sizeof why);
	if (arr) {
		if (!cJSON_IsArray(arr))
			abort();
		const cJSON *it;
		cJSON_ArrayForEach(it, arr) {
			cJSON *v = pd_llm_check_verdict(it, why, sizeof why);
			if (!v)
				continue;
			cJSON *v2 = pd_llm_check_verdict(v, why, sizeof why);
			if (!v2)
				abort();	/* a checked verdict must pass again */
			char *a = cJSON_PrintUnformatted(v), *b = cJSON_PrintUnformatted(v2);
			if (strcmp(a, b))
				abort();	/* and be a fixed point */
			cJSON_free(a);
			cJSON_free(b);
			cJSON_Delete(v2);
			cJSON_Delete(v);
		}
		cJSON_Delete(arr);
	}

	static const char *const ids[] = { "p1", "p2", "p3" };
	cJSON *items[3];
	for (int i = 0; i < 3; i++) {
		items[i] = cJSON_CreateObject();
		cJSON_AddStringToObject(items[i], "id", ids[i]);
		cJSON_AddStringToObject(items[i], "feature", "titles containing \"how to\"");
	}
	pd_llm_config c = { .url = "http://llm.invalid/v1", .model = "m", .batch = 2,
			    .concurrency = 2, .max_retries = 0, .reask = 1 };
	pd_llm_result out[3];
	memset(out, 0, sizeof out);
	pd_llm_stats st = { 0 };
	pd_err err;
	fz_http_set(data, size);
	if (pd_llm_review(&c, items, 3, out, &st, &err) != 0)
		abort();
	for (int i = 0; i < 3; i++)
		if (!out[i].verdict == !out[i].reason[0])
			abort();	/* a verdict or a reason, exactly one */
	if (st.verdicts + st.unavailable != 3)
		abort();
	pd_llm_results_release(out, 3);
	for (int i = 0; i < 3; i++)
		cJSON_Delete(items[i]);
	return 0;
}
