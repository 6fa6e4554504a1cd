/*
 * review.h — a language model's review of the validated patterns
 * (pd-validate --llm), on top of llm.h.
 *
 * Each pattern that passed validation (validate.h pd_validator_passed) is
 * sent as its review item; a verdict names and describes the pattern (its
 * "name" and "description", in pattern_data too) and is kept whole under
 * validation.llm with "cached" and "model" added.  A pattern left without
 * a verdict (the service failed after its retries) keeps its statistical
 * verdict: validation.llm is "unavailable" and validation.llm_error says
 * why.  With reject, a pattern the model judges not meaningful is rejected
 * ("llm: judged not meaningful (WHY)").  Verdicts are cached in Redis
 * (REDIS_URL), or in a file when Redis is not there.
 *
 * The review never prints: what a command would warn of (Redis down, the
 * verdicts not cached, patterns without a review) goes to on_warn.
 */
#ifndef PD_REVIEW_H
#define PD_REVIEW_H
#include "err.h"
#include "validate.h"

typedef struct pd_review_opts {
	const char *url;		/* the OpenAI-compatible endpoint (PD_LLM_URL) */
	const char *model;		/* NULL or "": gpt-4o-mini */
	const char *api_key;		/* may be NULL */
	int batch, concurrency;		/* patterns per request, requests in flight */
	double timeout_s;		/* per attempt */
	const char *cache_file;		/* NULL: pd_review_default_cache_file() */
	int reject;			/* reject patterns judged not meaningful */
	unsigned long long seed;	/* of the retry jitter */
	/* before each retry wait (may be NULL); ud is theirs */
	void (*on_retry)(void *ud, int attempt, long status, double wait_s, const char *why);
	/* a warning, one line without the program's name (may be NULL) */
	void (*on_warn)(void *ud, const char *msg);
	void *ud;
} pd_review_opts;

typedef struct pd_review_stats {
	unsigned long requests, cache_hits, verdicts, unavailable;
} pd_review_stats;

/*
 * pd_review_patterns: the passed patterns of v (after pd_validator_run)
 * reviewed and updated as above.  Returns 0, or -1 with err (PD_EUSAGE)
 * for what llm.h's pd_llm_review refuses (no URL, say).
 */
int pd_review_patterns(pd_validator *v, const pd_review_opts *o, pd_review_stats *st,
		       pd_err *err);

/*
 * pd_review_default_cache_file: $XDG_CACHE_HOME/pd/llm-cache.ndjson, or
 * ~/.cache/pd/llm-cache.ndjson, its directory made when missing (failing to
 * make it only means no file cache); NULL with neither variable set.  The
 * caller frees it.
 */
char *pd_review_default_cache_file(void);

#endif
