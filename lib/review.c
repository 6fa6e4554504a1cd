/*
 * review.c — the language model's review of validated patterns (see
 * review.h).  The requests, retries and the cache are llm.h's; this is
 * which patterns go, what comes back into each, and what is worth a
 * warning.
 */
#include "pd.h"
#include "review.h"
#include "cache.h"
#include "llm.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *pd_review_default_cache_file(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	pd_buf b = PD_BUF_INIT;
	if (x && *x)
		pd_buf_printf(&b, "%s/pd", x);
	else if (home && *home)
		pd_buf_printf(&b, "%s/.cache/pd", home);
	else
		return NULL;
	/* make the directory (and ~/.cache) if missing; failure only means no file cache */
	if (!(x && *x)) {
		char *parent = xstrndup(b.p, b.len - 3);
		mkdir(parent, 0700);
		free(parent);
	}
	mkdir(b.p, 0700);
	pd_buf_adds(&b, "/llm-cache.ndjson");
	return pd_buf_detach(&b);
}

/* a warning, to the caller's function (err.h) */
#define warn(o, ...) pd_warnf((o)->on_warn, (o)->ud, __VA_ARGS__)

/* apply: pattern rec's verdict vd (taken over) from model */
static void apply(pd_validator *v, size_t i, cJSON *vd, int cached, const char *model,
		  int reject)
{
	cJSON *rec = pd_validator_pattern(v, i);
	cJSON *val = cJSON_GetObjectItemCaseSensitive(rec, "validation");
	cJSON_AddBoolToObject(vd, "cached", cached);
	cJSON_AddStringToObject(vd, "model", model);
	const char *name = pd_json_str(vd, "name"), *desc = pd_json_str(vd, "description");
	pd_json_set(rec, "name", cJSON_CreateString(name));
	pd_json_set(rec, "description", cJSON_CreateString(desc));
	cJSON *pdj = cJSON_GetObjectItemCaseSensitive(rec, "pattern_data");
	if (cJSON_IsObject(pdj)) {
		pd_json_set(pdj, "name", cJSON_CreateString(name));
		pd_json_set(pdj, "description", cJSON_CreateString(desc));
	}
	int meaningful = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vd, "is_meaningful"));
	pd_json_set(val, "llm", vd);
	if (reject && !meaningful) {
		pd_buf b = PD_BUF_INIT;
		pd_buf_printf(&b, "llm: judged not meaningful (%s)", pd_json_str(vd, "why_it_works"));
		pd_validator_reject(v, i, b.p);
		pd_buf_release(&b);
	}
}

int pd_review_patterns(pd_validator *v, const pd_review_opts *o, pd_review_stats *st,
		       pd_err *err)
{
	size_t np = pd_validator_npatterns(v), n = 0;
	size_t *idx = xcalloc(np + 1, sizeof *idx);
	cJSON **items = xcalloc(np + 1, sizeof *items);
	for (size_t i = 0; i < np; i++)
		if (pd_validator_passed(v, i)) {
			idx[n] = i;
			items[n++] = pd_validator_review_item(v, i);
		}
	pd_err cerr;
	pd_cache *cache = pd_cache_open(NULL, 0, 0, &cerr);
	if (!cache && cerr.code != PD_OK)
		warn(o, "redis: %s; caching LLM verdicts in a file", cerr.msg);
	char *deffile = o->cache_file ? NULL : pd_review_default_cache_file();
	pd_llm_config c = { 0 };
	c.url = o->url;
	c.model = o->model && *o->model ? o->model : "gpt-4o-mini";
	c.api_key = o->api_key;
	c.batch = o->batch;
	c.concurrency = o->concurrency;
	c.timeout_ms = (long)(o->timeout_s * 1000);
	c.max_retries = -1;
	c.reask = 1;
	c.cache = cache;
	c.cache_file = o->cache_file ? o->cache_file : deffile;
	c.seed = o->seed;
	c.on_retry = o->on_retry;
	c.ud = o->ud;
	pd_llm_result *res = xcalloc(n + 1, sizeof *res);
	pd_llm_stats ls = { 0 };
	int rc = pd_llm_review(&c, items, n, res, &ls, err);
	if (rc == 0) {
		if (pd_cache_take_error(cache, &cerr))
			warn(o, "redis: %s; LLM verdicts not cached", cerr.msg);
		const char *first = NULL;
		for (size_t k = 0; k < n; k++) {
			if (res[k].verdict) {
				apply(v, idx[k], res[k].verdict, res[k].cached, c.model, o->reject);
				res[k].verdict = NULL;
				continue;
			}
			cJSON *val = cJSON_GetObjectItemCaseSensitive(pd_validator_pattern(v, idx[k]),
								      "validation");
			pd_json_set(val, "llm", cJSON_CreateString("unavailable"));
			pd_json_set(val, "llm_error", cJSON_CreateString(res[k].reason));
			if (!first)
				first = res[k].reason;
		}
		if (first)
			warn(o, "llm: no review for %lu of %zu patterns (%s); their statistical "
				"verdict stands", ls.unavailable, n, first);
	}
	st->requests = ls.requests;
	st->cache_hits = ls.cache_hits;
	st->verdicts = ls.verdicts;
	st->unavailable = ls.unavailable;
	pd_llm_results_release(res, n);
	free(res);
	for (size_t k = 0; k < n; k++)
		cJSON_Delete(items[k]);
	free(items);
	free(idx);
	free(deffile);
	pd_cache_free(cache);
	return rc;
}
