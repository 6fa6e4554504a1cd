/*
 * llm.h — review of patterns by a language model over any OpenAI-compatible
 * chat-completions endpoint (PD_LLM_URL, PD_LLM_MODEL, PD_LLM_API_KEY).
 *
 * The statistics decide whether a pattern holds; the model only judges
 * whether it means something a creator can act on, and names it.  So this
 * module never fails a run: every pattern gets either a checked verdict or a
 * reason why there is none ("unavailable"), and the caller keeps the
 * statistical verdict either way.
 *
 * How: patterns go in batches (one request each, at most `concurrency` in
 * flight, lib/http.h's retries with backoff, jitter and Retry-After on 429 and
 * 5xx, per-attempt and total timeouts).  The prompt asks for one JSON object
 * {"reviews":[{"id":..., verdict fields}]}; replies are matched to patterns
 * by "id", never by position, and each verdict is checked field by field
 * (pd_llm_check_verdict); a batch whose reply is not JSON at all is asked
 * again up to `reask` times.  Verdicts are cached under a key made from the
 * model, PD_LLM_PROMPT_VERSION and the pattern's review payload: in Redis
 * when a cache is up, else in an NDJSON file, so a second run asks nothing.
 *
 * Ownership: the caller owns the items; results' verdicts are owned by the
 * results (pd_llm_results_release).
 */
#ifndef PD_LLM_H
#define PD_LLM_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "cache.h"
#include "err.h"

/* Bump when the prompt or the verdict schema changes: old cache entries are then not used. */
#define PD_LLM_PROMPT_VERSION "pd-validate-review-2"

typedef struct pd_llm_config {
	const char *url;	/* base (".../v1") or full ".../chat/completions" URL */
	const char *model;
	const char *api_key;	/* sent as a bearer token only; may be NULL */
	int batch;		/* patterns per request (0: 8) */
	int concurrency;	/* requests in flight (0: 4) */
	long timeout_ms;	/* per attempt (0: lib/http.h default or PD_HTTP_TIMEOUT_MS) */
	long total_timeout_ms;	/* per request including retries (0: 4 x timeout) */
	int max_retries;	/* < 0: lib/http.h default */
	int reask;		/* times a batch is asked again when the reply's
				   content is not valid JSON (0: never) */
	pd_cache *cache;	/* Redis cache, or NULL */
	const char *cache_file;	/* NDJSON cache used when cache is NULL or down; NULL: none */
	int cache_ttl_s;	/* Redis TTL (0: 30 days) */
	uint64_t seed;		/* jitter seed */
	/* called before each retry wait (may be NULL) */
	void (*on_retry)(void *ud, int attempt, long status, double wait_s, const char *why);
	void *ud;
} pd_llm_config;

typedef struct pd_llm_result {
	cJSON *verdict;		/* checked verdict object, or NULL: unavailable */
	char reason[sizeof ((pd_err *)0)->msg];	/* when unavailable: why (an HTTP
						   error's whole message fits) */
	int cached;		/* 1 when the verdict came from the cache */
} pd_llm_result;

typedef struct pd_llm_stats {
	unsigned long requests;		/* chat requests that got a final response or failed */
	unsigned long attempts;		/* HTTP attempts, retries included */
	unsigned long cache_hits, cache_misses;
	unsigned long verdicts, unavailable;
} pd_llm_stats;

/*
 * pd_llm_review: a verdict for each items[i] (a JSON object with a string
 * "id", unique among the items, and whatever describes the pattern: it is
 * sent as is and is part of the cache key).  out[0..n) is filled (zero it
 * first); st (may be NULL) is added to.  Returns 0; -1 with err only for a
 * caller mistake (no URL or model, an item without an id) — service failures
 * are per-item "unavailable" results, never an error.
 */
int pd_llm_review(const pd_llm_config *c, cJSON *const *items, size_t n, pd_llm_result *out,
		  pd_llm_stats *st, pd_err *err);

void pd_llm_results_release(pd_llm_result *out, size_t n);

/*
 * pd_llm_check_verdict: a model's review object v into a new canonical verdict
 * (is_meaningful, actionability_score 1-10, why_it_works, best_use_cases,
 * warnings, semantic_category, confidence 0-1, name, description; the id
 * dropped).  Returns it, or NULL with why (cap bytes) naming the bad field.
 */
cJSON *pd_llm_check_verdict(const cJSON *v, char *why, size_t cap);

/*
 * pd_llm_parse_reply: the reviews array from a chat-completions response body
 * (choices[0].message.content, JSON, optionally inside a ``` fence; the object
 * {"reviews":[...]}, or a bare array).  Returns a new cJSON array the caller
 * deletes, or NULL with why.
 */
cJSON *pd_llm_parse_reply(const char *body, size_t len, char *why, size_t cap);

/* pd_llm_chat_url: url with "/chat/completions" appended unless it ends so; caller frees. */
char *pd_llm_chat_url(const char *url);

#endif
