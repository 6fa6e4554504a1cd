/*
 * llm.c — pattern review over an OpenAI-compatible chat-completions API (see
 * llm.h for the contract).
 *
 * One request per batch of patterns, all batches handed to pd_http_many so
 * the concurrency limit, retries, backoff with jitter, Retry-After and
 * timeouts are lib/http.h's one policy.  Whatever comes back is distrusted:
 * the content must be JSON, each review is matched by its "id" and checked
 * field by field, and anything missing or malformed leaves that pattern
 * "unavailable" with the reason, never guessed from position.  Only checked
 * verdicts are cached.
 */
#include "llm.h"
#include "http.h"
#include "pd.h"
#include "strmap.h"
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char system_prompt[] =
	"You review statistical patterns found in YouTube video data. Each pattern says that, "
	"within a cluster of similar videos, the videos with a feature (title words, title "
	"structure, format, duration, publish timing, tags, description) are more often "
	"(direction \"positive\") or less often (\"negative\") high performers, that is, videos "
	"with at least `threshold` times the views their channel usually gets. The statistics "
	"have already passed false-discovery-rate control and a replication test; your job is "
	"to judge meaning, not significance. You get one JSON object {\"patterns\":[...]}, each "
	"pattern with an \"id\", the feature in words, its statistics and example titles.\n"
	"For every pattern judge whether it is meaningful: an interpretable regularity a "
	"creator could act on, rather than an artefact of one channel, one event, a date or a "
	"spelling. Reply with exactly one JSON object and nothing else:\n"
	"{\"reviews\":[{\"id\":\"<the pattern's id, copied exactly>\",\"is_meaningful\":true,"
	"\"actionability_score\":7,\"why_it_works\":\"<one or two sentences>\","
	"\"best_use_cases\":[\"<short phrase>\"],\"warnings\":[\"<short phrase>\"],"
	"\"semantic_category\":\"<one or two words>\",\"confidence\":0.8,"
	"\"name\":\"<a short human name, at most 8 words>\","
	"\"description\":\"<one sentence a creator understands>\"}]}\n"
	"One review for every pattern, identified by its id. actionability_score is an integer "
	"from 1 (nothing to act on) to 10 (directly usable); confidence, from 0 to 1, is how "
	"sure you are of your review.";

char *pd_llm_chat_url(const char *url)
{
	static const char tail[] = "/chat/completions";
	size_t n = strlen(url), t = sizeof tail - 1;
	if (n >= t && !strcmp(url + n - t, tail))
		return xstrdup(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	pd_buf b = PD_BUF_INIT;
	pd_buf_add(&b, url, n);
	pd_buf_adds(&b, tail);
	return pd_buf_detach(&b);
}

/* ---- checking what the model said ---- */

static int set_why(char *why, size_t cap, const char *msg)
{
	snprintf(why, cap, "%s", msg);
	return 0;
}

static cJSON *string_list(const cJSON *a, int *ok)
{
	cJSON *out = cJSON_CreateArray();
	*ok = 1;
	if (a == NULL || cJSON_IsNull(a))
		return out;
	if (cJSON_IsString(a)) {	/* a single phrase where a list was asked */
		cJSON_AddItemToArray(out, cJSON_CreateString(a->valuestring));
		return out;
	}
	if (!cJSON_IsArray(a)) {
		*ok = 0;
		return out;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsString(e)) {
			*ok = 0;
			return out;
		}
		cJSON_AddItemToArray(out, cJSON_CreateString(e->valuestring));
	}
	return out;
}

static const char *nonempty_str(const cJSON *v, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, key);
	if (!cJSON_IsString(s))
		return NULL;
	const char *p = s->valuestring;
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	return *p ? s->valuestring : NULL;
}

cJSON *pd_llm_check_verdict(const cJSON *v, char *why, size_t cap)
{
	if (!cJSON_IsObject(v)) {
		set_why(why, cap, "review is not an object");
		return NULL;
	}
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "is_meaningful");
	if (!cJSON_IsBool(m)) {
		set_why(why, cap, "review has no boolean is_meaningful");
		return NULL;
	}
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(v, "actionability_score");
	if (!cJSON_IsNumber(a) || a->valuedouble != floor(a->valuedouble) || a->valuedouble < 1 ||
	    a->valuedouble > 10) {
		set_why(why, cap, "review's actionability_score is not an integer from 1 to 10");
		return NULL;
	}
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "confidence");
	if (!cJSON_IsNumber(c) || !(c->valuedouble >= 0 && c->valuedouble <= 1)) {
		set_why(why, cap, "review's confidence is not a number from 0 to 1");
		return NULL;
	}
	static const char *const strs[] = { "why_it_works", "semantic_category", "name",
					    "description" };
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
		if (!nonempty_str(v, strs[i])) {
			snprintf(why, cap, "review has no %s", strs[i]);
			return NULL;
		}
	int ok1, ok2;
	cJSON *uses = string_list(cJSON_GetObjectItemCaseSensitive(v, "best_use_cases"), &ok1);
	cJSON *warn = string_list(cJSON_GetObjectItemCaseSensitive(v, "warnings"), &ok2);
	if (!ok1 || !ok2) {
		cJSON_Delete(uses);
		cJSON_Delete(warn);
		set_why(why, cap, ok1 ? "review's warnings is not a list of strings"
				      : "review's best_use_cases is not a list of strings");
		return NULL;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "is_meaningful", cJSON_IsTrue(m));
	cJSON_AddNumberToObject(o, "actionability_score", a->valuedouble);
	cJSON_AddStringToObject(o, "why_it_works", nonempty_str(v, "why_it_works"));
	cJSON_AddItemToObject(o, "best_use_cases", uses);
	cJSON_AddItemToObject(o, "warnings", warn);
	cJSON_AddStringToObject(o, "semantic_category", nonempty_str(v, "semantic_category"));
	cJSON_AddNumberToObject(o, "confidence", round(c->valuedouble * 1000) / 1000);
	cJSON_AddStringToObject(o, "name", nonempty_str(v, "name"));
	cJSON_AddStringToObject(o, "description", nonempty_str(v, "description"));
	return o;
}

cJSON *pd_llm_parse_reply(const char *body, size_t len, char *why, size_t cap)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	if (!root) {
		set_why(why, cap, "reply is not JSON");
		return NULL;
	}
	const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
	const cJSON *c0 = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
	const cJSON *msg = c0 ? cJSON_GetObjectItemCaseSensitive(c0, "message") : NULL;
	const cJSON *content = msg ? cJSON_GetObjectItemCaseSensitive(msg, "content") : NULL;
	if (!cJSON_IsString(content)) {
		cJSON_Delete(root);
		set_why(why, cap, "reply has no choices[0].message.content");
		return NULL;
	}
	/* the JSON, without a ``` fence some models put around it */
	const char *s = content->valuestring, *e = s + strlen(s);
	const char *f = strstr(s, "```");
	if (f) {
		s = f + 3;
		while (s < e && *s != '\n')	/* the fence's language word */
			s++;
		const char *g = strstr(s, "```");
		if (g)
			e = g;
	}
	cJSON *j = cJSON_ParseWithLength(s, (size_t)(e - s));
	cJSON_Delete(root);
	if (!j) {
		set_why(why, cap, "reply content is not valid JSON");
		return NULL;
	}
	cJSON *arr = NULL;
	if (cJSON_IsArray(j)) {
		arr = j;
	} else if (cJSON_IsObject(j)) {
		cJSON *r = cJSON_DetachItemFromObjectCaseSensitive(j, "reviews");
		if (!r)
			r = cJSON_DetachItemFromObjectCaseSensitive(j, "patterns");
		cJSON_Delete(j);
		if (cJSON_IsArray(r))
			arr = r;
		else
			cJSON_Delete(r);
	} else {
		cJSON_Delete(j);
	}
	if (!arr)
		set_why(why, cap, "reply content has no \"reviews\" array");
	return arr;
}

/* ---- the cache: Redis, or an NDJSON file ---- */

typedef struct file_cache {
	pd_strmap *keys;
	char **vals;
	size_t cap;
} file_cache;

static void fc_put(file_cache *fc, const char *key, const char *val)
{
	int added;
	int i = pd_strmap_intern(fc->keys, key, strlen(key), &added);
	if ((size_t)i >= fc->cap) {
		size_t nc = fc->cap ? fc->cap * 2 : 256;
		while (nc <= (size_t)i)
			nc *= 2;
		fc->vals = xreallocarray(fc->vals, nc, sizeof *fc->vals);
		memset(fc->vals + fc->cap, 0, (nc - fc->cap) * sizeof *fc->vals);
		fc->cap = nc;
	}
	free(fc->vals[i]);
	fc->vals[i] = xstrdup(val);
}

static void fc_load(file_cache *fc, const char *path)
{
	fc->keys = pd_strmap_new();
	FILE *f = fopen(path, "r");
	if (!f)
		return;	/* no file yet: an empty cache */
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		cJSON *j = cJSON_ParseWithLength(line, (size_t)n);
		const char *k = pd_json_str(j, "key");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "verdict");
		if (k && cJSON_IsObject(v)) {	/* a damaged line is skipped, not fatal */
			char *t = cJSON_PrintUnformatted(v);
			fc_put(fc, k, t);
			free(t);
		}
		cJSON_Delete(j);
	}
	free(line);
	fclose(f);
}

static void fc_free(file_cache *fc)
{
	if (!fc->keys)
		return;
	for (size_t i = 0; i < fc->cap; i++)
		free(fc->vals[i]);
	free(fc->vals);
	pd_strmap_free(fc->keys);
}

/* ---- requests ---- */

typedef struct batch {
	size_t *idx;	/* items in this batch */
	size_t n;
	char *body;
} batch;

static char *request_body(const char *model, cJSON *const *items, const size_t *idx, size_t n)
{
	cJSON *user = cJSON_CreateObject();
	cJSON *arr = cJSON_AddArrayToObject(user, "patterns");
	for (size_t k = 0; k < n; k++)
		cJSON_AddItemToArray(arr, cJSON_Duplicate(items[idx[k]], 1));
	char *ut = cJSON_PrintUnformatted(user);
	cJSON_Delete(user);
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "model", model);
	cJSON_AddNumberToObject(req, "temperature", 0);
	cJSON *rf = cJSON_AddObjectToObject(req, "response_format");
	cJSON_AddStringToObject(rf, "type", "json_object");
	cJSON *msgs = cJSON_AddArrayToObject(req, "messages");
	cJSON *m1 = cJSON_CreateObject();
	cJSON_AddStringToObject(m1, "role", "system");
	cJSON_AddStringToObject(m1, "content", system_prompt);
	cJSON_AddItemToArray(msgs, m1);
	cJSON *m2 = cJSON_CreateObject();
	cJSON_AddStringToObject(m2, "role", "user");
	cJSON_AddStringToObject(m2, "content", ut);
	cJSON_AddItemToArray(msgs, m2);
	free(ut);
	char *t = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	return t;
}

static void unavailable(pd_llm_result *r, const char *fmt, const char *detail)
{
	cJSON_Delete(r->verdict);
	r->verdict = NULL;
	snprintf(r->reason, sizeof r->reason, fmt, detail);
}

int pd_llm_review(const pd_llm_config *c, cJSON *const *items, size_t n, pd_llm_result *out,
		  pd_llm_stats *st, pd_err *err)
{
	pd_llm_stats local = { 0 };
	if (!st)
		st = &local;
	if (!c->url || !*c->url)
		return pd_err_set(err, PD_EUSAGE, "no LLM URL (PD_LLM_URL)");
	if (!c->model || !*c->model)
		return pd_err_set(err, PD_EUSAGE, "no LLM model (PD_LLM_MODEL)");
	for (size_t i = 0; i < n; i++)
		if (!pd_json_str(items[i], "id"))
			return pd_err_set(err, PD_EUSAGE, "LLM review item %zu has no id", i);
	if (n == 0)
		return 0;

	/* keys: model, prompt version and the pattern's payload */
	char **keys = xcalloc(n, sizeof *keys);
	for (size_t i = 0; i < n; i++) {
		char *payload = cJSON_PrintUnformatted(items[i]);
		pd_buf kb = PD_BUF_INIT;
		pd_buf_printf(&kb, "%s\n%s\n%s", c->model, PD_LLM_PROMPT_VERSION, payload);
		uint64_t h = pd_hash64(kb.p, kb.len);
		pd_buf_reset(&kb);
		pd_buf_printf(&kb, "pd:llm:%016llx", (unsigned long long)h);
		keys[i] = pd_buf_detach(&kb);
		free(payload);
	}

	/* cache look-up */
	int use_redis = pd_cache_up(c->cache);
	file_cache fc = { 0 };
	if (!use_redis && c->cache_file)
		fc_load(&fc, c->cache_file);
	pd_buf *vals = xcalloc(n, sizeof *vals);
	int *hit = xcalloc(n, sizeof *hit);
	if (use_redis) {
		pd_cache_mget(c->cache, (const char *const *)keys, n, vals, hit);
	} else if (fc.keys) {
		for (size_t i = 0; i < n; i++) {
			int k = pd_strmap_find(fc.keys, keys[i], strlen(keys[i]));
			if (k >= 0 && (size_t)k < fc.cap && fc.vals[k]) {
				pd_buf_adds(&vals[i], fc.vals[k]);
				hit[i] = 1;
			}
		}
	}
	size_t *miss = xcalloc(n, sizeof *miss);
	size_t nmiss = 0;
	for (size_t i = 0; i < n; i++) {
		out[i].verdict = NULL;
		out[i].cached = 0;
		out[i].reason[0] = '\0';
		if (hit[i]) {
			cJSON *v = cJSON_ParseWithLength(vals[i].p, vals[i].len);
			char why[sizeof out->reason];
			cJSON *ck = v ? pd_llm_check_verdict(v, why, sizeof why) : NULL;
			cJSON_Delete(v);
			if (ck) {
				out[i].verdict = ck;
				out[i].cached = 1;
				st->cache_hits++;
				continue;
			}
		}
		st->cache_misses++;
		miss[nmiss++] = i;
	}

	/* batches of the misses, in item order */
	int bsz = c->batch > 0 ? c->batch : 8;
	size_t nb = (nmiss + (size_t)bsz - 1) / (size_t)bsz;
	batch *bs = xcalloc(nb + 1, sizeof *bs);
	pd_http_req *reqs = xcalloc(nb + 1, sizeof *reqs);
	char *url = pd_llm_chat_url(c->url);
	for (size_t b = 0; b < nb; b++) {
		bs[b].idx = miss + b * (size_t)bsz;
		bs[b].n = nmiss - b * (size_t)bsz < (size_t)bsz ? nmiss - b * (size_t)bsz : (size_t)bsz;
		bs[b].body = request_body(c->model, items, bs[b].idx, bs[b].n);
	}
	pd_http_opts o;
	pd_http_opts_default(&o);
	if (c->timeout_ms > 0)
		o.timeout_ms = c->timeout_ms;
	if (c->total_timeout_ms > 0)
		o.total_timeout_ms = c->total_timeout_ms;
	else if (o.total_timeout_ms <= 0)
		o.total_timeout_ms = 4 * (o.timeout_ms > 0 ? o.timeout_ms : 30000);
	if (c->max_retries >= 0)
		o.max_retries = c->max_retries;
	o.bearer = c->api_key && *c->api_key ? c->api_key : NULL;
	o.on_retry = c->on_retry;
	o.ud = c->ud;

	/* new verdicts to store */
	const char **skeys = xcalloc(nmiss + 1, sizeof *skeys);
	char **svals = xcalloc(nmiss + 1, sizeof *svals);
	size_t *slens = xcalloc(nmiss + 1, sizeof *slens);
	size_t ns = 0;
	/* rounds: all batches, then those whose reply content was malformed again
	   (models sometimes break their JSON), up to c->reask times */
	size_t *todo = xcalloc(nb + 1, sizeof *todo), ntodo = nb;
	for (size_t b = 0; b < nb; b++)
		todo[b] = b;
	for (int round = 0; ntodo > 0; round++) {
		for (size_t k = 0; k < ntodo; k++) {
			batch *bt = &bs[todo[k]];
			memset(&reqs[k], 0, sizeof reqs[k]);
			reqs[k].method = "POST";
			reqs[k].url = url;
			reqs[k].body = bt->body;
			reqs[k].bodylen = strlen(bt->body);
			reqs[k].content_type = "application/json";
		}
		o.jitter_seed = c->seed + (uint64_t)round * 0x9e3779b97f4a7c15ULL;
		pd_http_many(reqs, (int)ntodo, c->concurrency > 0 ? c->concurrency : 4, &o);
		size_t next = 0;
		for (size_t k = 0; k < ntodo; k++) {
			size_t b = todo[k];
			pd_http_req *rq = &reqs[k];
			st->requests++;
			st->attempts += (unsigned long)(rq->resp.attempts > 0 ? rq->resp.attempts : 1);
			char why[sizeof out->reason];
			cJSON *arr = NULL;
			int answered = 0;
			if (!rq->ok) {
				snprintf(why, sizeof why, "%s", rq->err.msg);
			} else if (rq->resp.status < 200 || rq->resp.status > 299) {
				snprintf(why, sizeof why, "HTTP status %ld", rq->resp.status);
			} else {
				answered = 1;
				arr = pd_llm_parse_reply(rq->resp.body.p ? rq->resp.body.p : "",
							 rq->resp.body.len, why, sizeof why);
			}
			pd_http_resp_release(&rq->resp);
			if (answered && !arr && round < c->reask) {
				todo[next++] = b;	/* ask again */
				continue;
			}
			for (size_t j = 0; j < bs[b].n; j++) {
				size_t i = bs[b].idx[j];
				if (!arr) {
					unavailable(&out[i], "%s", why);
					continue;
				}
				const char *id = pd_json_str(items[i], "id");
				const cJSON *rv = NULL, *e;
				cJSON_ArrayForEach(e, arr) {
					const char *eid = pd_json_str(e, "id");
					if (eid && !strcmp(eid, id)) {
						rv = e;	/* the first review with this id */
						break;
					}
				}
				if (!rv) {
					unavailable(&out[i], "%s", "reply has no review with this id");
					continue;
				}
				char vwhy[sizeof out->reason];
				cJSON *ck = pd_llm_check_verdict(rv, vwhy, sizeof vwhy);
				if (!ck) {
					unavailable(&out[i], "%s", vwhy);
					continue;
				}
				out[i].verdict = ck;
				skeys[ns] = keys[i];
				svals[ns] = cJSON_PrintUnformatted(ck);
				slens[ns] = strlen(svals[ns]);
				ns++;
			}
			cJSON_Delete(arr);
			free(bs[b].body);
		}
		ntodo = next;
	}
	free(todo);
	if (ns > 0) {
		if (use_redis) {
			pd_cache_mset(c->cache, skeys, (const char *const *)svals, slens, ns,
				      c->cache_ttl_s > 0 ? c->cache_ttl_s : 30 * 86400);
		} else if (c->cache_file) {
			/* append: one line per verdict; a failure to write only costs a later re-ask */
			FILE *f = fopen(c->cache_file, "a");
			if (f) {
				for (size_t k = 0; k < ns; k++) {
					pd_buf l = PD_BUF_INIT;
					pd_buf_adds(&l, "{\"key\":");
					pd_buf_add_json_string(&l, skeys[k], strlen(skeys[k]));
					pd_buf_adds(&l, ",\"verdict\":");
					pd_buf_add(&l, svals[k], slens[k]);
					pd_buf_adds(&l, "}\n");
					fwrite(l.p, 1, l.len, f);
					pd_buf_release(&l);
				}
				fclose(f);
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (out[i].verdict)
			st->verdicts++;
		else
			st->unavailable++;
	}

	for (size_t k = 0; k < ns; k++)
		free(svals[k]);
	free(skeys);
	free(svals);
	free(slens);
	free(url);
	free(reqs);
	free(bs);
	free(miss);
	for (size_t i = 0; i < n; i++) {
		pd_buf_release(&vals[i]);
		free(keys[i]);
	}
	free(vals);
	free(hit);
	free(keys);
	fc_free(&fc);
	return 0;
}

void pd_llm_results_release(pd_llm_result *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cJSON_Delete(out[i].verdict);
		out[i].verdict = NULL;
	}
}
