/*
 * video.c — typed, checked access to video records, and their one writer;
 * see video.h.
 *
 * Every source of videos (lib/csvin.c, lib/db.c, lib/youtube.c, lib/synth.c)
 * fills a pd_video and calls pd_video_write, and pd-fetch adds its derived
 * fields with pd_video_write_tail, so the member order, the null/absent
 * rules and the number forms live here alone.  Members the struct does not
 * model (an export's other columns, a stored record's other fields, an
 * embedding) travel as JSON text: `extra` and `rest`.
 */
#include "video.h"
#include "alloc.h"
#include "json.h"
#include "timeutil.h"
#include <limits.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The fields are read through a small accessor so that one implementation
 * serves both a record's cJSON tree (pd_video_from_json) and a scanned
 * record (pd_video_from_jobj): same checks, same messages, same values.
 */
typedef struct vsrc {
	/* key's member as v; dec 0: a string's text need not be decoded (v->s
	   may stay NULL: its type is what is checked) */
	void (*get)(void *ctx, const char *key, pd_jv *v, int dec);
	/* array a's elements as strings into out[0..cap); count, -1 if one is not */
	int (*strings)(void *ctx, const pd_jv *a, const char **out, int cap);
	void *ctx;
} vsrc;

/*
 * The members the filler reads, each looked up once (a scanned record's
 * lookup is a walk over its members).  K_CHANNEL_ID .. K_PERF_REASON are in
 * the order of vfields[] below: vfields[i] is key i + 1.
 */
enum { K_ID, K_CHANNEL_ID, K_CHANNEL_TITLE, K_TITLE, K_DESCRIPTION, K_TAGS, K_CATEGORY,
       K_CATEGORY_ID, K_FORMAT, K_PUBLISHED_AT, K_OBSERVED_AT, K_DURATION_S, K_VIEWS, K_LIKES,
       K_COMMENTS, K_IS_SHORT, K_CLUSTER, K_CLUSTER_SIM, K_AGE_DAYS, K_PERF, K_PERF_BASIS,
       K_PERF_REASON, K_HOLDOUT, NKEYS };

static int opt_str(const pd_jv *v, const char *key, const char **out, pd_err *err)
{
	*out = NULL;
	if (v->t == PD_JV_ABSENT || v->t == PD_JV_NULL)
		return 0;
	if (v->t != PD_JV_STRING)
		return pd_err_set(err, PD_EREC, "'%s' is not a string", key);
	*out = v->s;
	return 0;
}

static int opt_count(const pd_jv *v, const char *key, double *out, pd_err *err)
{
	*out = NAN;
	if (v->t == PD_JV_ABSENT || v->t == PD_JV_NULL)
		return 0;
	if (v->t != PD_JV_NUMBER || !isfinite(v->d) || v->d < 0)
		return pd_err_set(err, PD_EREC, "'%s' is not a non-negative number", key);
	if (v->d > PD_VIDEO_COUNT_MAX)
		return pd_err_set(err, PD_EREC, "'%s' is over %g: %g", key, PD_VIDEO_COUNT_MAX, v->d);
	*out = v->d;
	return 0;
}

/* opt_type: key absent, null or of type t (PD_JV_*; PD_JV_TRUE means a boolean) */
static int opt_type(const pd_jv *v, const char *key, int t, const char *what, pd_err *err)
{
	int ok = v->t == PD_JV_ABSENT || v->t == PD_JV_NULL || v->t == t ||
		 (t == PD_JV_TRUE && v->t == PD_JV_FALSE);
	if (ok && v->t == PD_JV_NUMBER && !isfinite(v->d))
		ok = 0;		/* 1e999 parses as infinity */
	return ok ? 0 : pd_err_set(err, PD_EREC, "'%s' is not %s", key, what);
}

static int opt_time(const pd_jv *v, const char *key, double *out, pd_err *err)
{
	const char *s;
	*out = NAN;
	if (opt_str(v, key, &s, err) < 0)
		return -1;
	if (s && pd_time_parse(s, out) < 0)
		return pd_err_set(err, PD_EREC, "'%s' is not an RFC 3339 time: '%.40s'", key, s);
	return 0;
}
/* the members pd_video_write writes from the struct, with their bits */
static const struct vfield {
	const char *key;
	unsigned bit;
	int type;		/* PD_JV_*: the type written (besides null) */
} vfields[] = {
	{ "channel_id", PD_VF_CHANNEL_ID, PD_JV_STRING },
	{ "channel_title", PD_VF_CHANNEL_TITLE, PD_JV_STRING },
	{ "title", PD_VF_TITLE, PD_JV_STRING }, { "description", PD_VF_DESCRIPTION, PD_JV_STRING },
	{ "tags", PD_VF_TAGS, PD_JV_ARRAY }, { "category", PD_VF_CATEGORY, PD_JV_STRING },
	{ "category_id", PD_VF_CATEGORY_ID, PD_JV_STRING }, { "format", PD_VF_FORMAT, PD_JV_STRING },
	{ "published_at", PD_VF_PUBLISHED_AT, PD_JV_STRING },
	{ "observed_at", PD_VF_OBSERVED_AT, PD_JV_STRING },
	{ "duration_s", PD_VF_DURATION_S, PD_JV_NUMBER }, { "views", PD_VF_VIEWS, PD_JV_NUMBER },
	{ "likes", PD_VF_LIKES, PD_JV_NUMBER }, { "comments", PD_VF_COMMENTS, PD_JV_NUMBER },
	{ "is_short", PD_VF_IS_SHORT, PD_JV_TRUE }, { "cluster", PD_VF_CLUSTER, PD_JV_OBJECT },
	{ "cluster_sim", PD_VF_CLUSTER_SIM, PD_JV_NUMBER },
	{ "age_days", PD_VF_AGE_DAYS, PD_JV_NUMBER }, { "perf", PD_VF_PERF, PD_JV_NUMBER },
	{ "perf_basis", PD_VF_PERF_BASIS, PD_JV_NUMBER },
	{ "perf_reason", PD_VF_PERF_REASON, PD_JV_STRING },
};

/* a cluster object pd_video_write writes back: string macro/meso/micro only */
static int cluster_plain(const cJSON *o)
{
	const cJSON *c;
	int seen = 0;
	cJSON_ArrayForEach(c, o) {
		if (!cJSON_IsString(c) || !c->string)
			return 0;
		int k = !strcmp(c->string, "macro") ? 1 : !strcmp(c->string, "meso") ? 2 :
			!strcmp(c->string, "micro") ? 4 : 0;
		if (!k || (seen & k))
			return 0;
		seen |= k;
	}
	return 1;
}
#define NVFIELDS (sizeof vfields / sizeof *vfields)

void pd_video_init(pd_video *v)
{
	memset(v, 0, sizeof *v);
	v->published_at = v->observed_at = v->duration_s = NAN;
	v->views = v->likes = v->comments = v->age_days = v->perf = v->cluster_sim = NAN;
	v->is_short = -1;
}

static int video_fill(const vsrc *src, pd_video *v, unsigned keep, pd_err *err)
{
	pd_video_init(v);
	pd_jv k[NKEYS];
	src->get(src->ctx, "id", &k[K_ID], 1);
	if (k[K_ID].t == PD_JV_ABSENT)
		return pd_err_set(err, PD_EREC, "video has no 'id'");
	if (k[K_ID].t != PD_JV_STRING || !k[K_ID].s[0])
		return pd_err_set(err, PD_EREC, "video 'id' is not a non-empty string");
	v->id = k[K_ID].s;
	for (size_t i = 0; i < NVFIELDS; i++) {
		/* a string decoded when kept; times always (their text is checked) */
		unsigned bit = vfields[i].bit;
		int dec = (keep & bit) || bit == PD_VF_PUBLISHED_AT || bit == PD_VF_OBSERVED_AT;
		src->get(src->ctx, vfields[i].key, &k[i + 1], dec);
	}
	src->get(src->ctx, "holdout", &k[K_HOLDOUT], 0);
	if (opt_str(&k[K_CHANNEL_ID], "channel_id", &v->channel_id, err) < 0 ||
	    opt_str(&k[K_TITLE], "title", &v->title, err) < 0 ||
	    opt_str(&k[K_DESCRIPTION], "description", &v->description, err) < 0 ||
	    opt_str(&k[K_CATEGORY], "category", &v->category, err) < 0 ||
	    opt_str(&k[K_FORMAT], "format", &v->format, err) < 0 ||
	    opt_count(&k[K_DURATION_S], "duration_s", &v->duration_s, err) < 0 ||
	    opt_count(&k[K_VIEWS], "views", &v->views, err) < 0 ||
	    opt_count(&k[K_LIKES], "likes", &v->likes, err) < 0 ||
	    opt_count(&k[K_COMMENTS], "comments", &v->comments, err) < 0 ||
	    opt_count(&k[K_AGE_DAYS], "age_days", &v->age_days, err) < 0 ||
	    opt_time(&k[K_PUBLISHED_AT], "published_at", &v->published_at, err) < 0 ||
	    opt_time(&k[K_OBSERVED_AT], "observed_at", &v->observed_at, err) < 0)
		return -1;
	const pd_jv *perf = &k[K_PERF];
	v->perf = NAN;
	if (perf->t != PD_JV_ABSENT && perf->t != PD_JV_NULL) {
		if (perf->t != PD_JV_NUMBER || !isfinite(perf->d) || perf->d < 0)
			return pd_err_set(err, PD_EREC, "'perf' is not a non-negative number or null");
		v->perf = perf->d;
	}
	const pd_jv *basis = &k[K_PERF_BASIS];
	v->perf_basis = 0;
	if (basis->t != PD_JV_ABSENT && basis->t != PD_JV_NULL) {
		if (basis->t != PD_JV_NUMBER || !(basis->d >= 0 && basis->d <= INT_MAX) ||
		    basis->d != floor(basis->d))
			return pd_err_set(err, PD_EREC, "'perf_basis' is not a whole number from 0 to %d",
					  INT_MAX);
		v->perf_basis = (int)basis->d;
	}
	/* the fields of later stages: checked here so that no stage takes a
	 * wrong type for "none" (pd-cluster writes cluster and cluster_sim,
	 * pd-mine holdout) */
	if (opt_type(&k[K_HOLDOUT], "holdout", PD_JV_TRUE, "true or false", err) < 0 ||
	    opt_type(&k[K_CLUSTER], "cluster", PD_JV_OBJECT, "an object (macro, meso, micro)", err) < 0 ||
	    opt_type(&k[K_CLUSTER_SIM], "cluster_sim", PD_JV_NUMBER, "a number", err) < 0)
		return -1;
	v->holdout = k[K_HOLDOUT].t == PD_JV_TRUE;
	/* members written back from the struct when they have the type
	 * pd_video_write gives them; any other value stays in "rest" */
	const pd_jv *h = &k[K_CHANNEL_TITLE];
	v->channel_title = h->t == PD_JV_STRING ? h->s : NULL;
	h = &k[K_CATEGORY_ID];
	v->category_id = h->t == PD_JV_STRING ? h->s : NULL;
	h = &k[K_PERF_REASON];
	v->perf_reason = h->t == PD_JV_STRING ? h->s : NULL;
	h = &k[K_IS_SHORT];
	v->is_short = h->t == PD_JV_TRUE ? 1 : h->t == PD_JV_FALSE ? 0 : -1;
	h = &k[K_CLUSTER_SIM];
	if (h->t == PD_JV_NUMBER)
		v->cluster_sim = h->d;
	h = &k[K_CLUSTER];
	if (h->t == PD_JV_OBJECT && h->node && cluster_plain(h->node)) {	/* a tree only */
		static const char *const lv[3] = { "macro", "meso", "micro" };
		for (int i = 0; i < 3; i++) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(h->node, lv[i]);
			v->cluster[i] = cJSON_IsString(c) ? c->valuestring : NULL;
		}
		v->fields |= PD_VF_CLUSTER;
	}
	for (size_t i = 0; i < NVFIELDS; i++) {
		h = &k[i + 1];
		if (vfields[i].bit == PD_VF_CLUSTER || h->t == PD_JV_ABSENT)
			continue;
		int t = vfields[i].type;
		if (h->t == PD_JV_NULL ? vfields[i].bit != PD_VF_TAGS && vfields[i].bit != PD_VF_PERF_BASIS :
		    h->t == t || (t == PD_JV_TRUE && h->t == PD_JV_FALSE))
			v->fields |= vfields[i].bit;
	}
	const pd_jv *tags = &k[K_TAGS];
	if (tags->t != PD_JV_ABSENT && tags->t != PD_JV_NULL) {
		if (tags->t != PD_JV_ARRAY)
			return pd_err_set(err, PD_EREC, "'tags' is not an array");
		if (!(keep & PD_VF_TAGS)) {	/* checked, not kept */
			if (src->strings(src->ctx, tags, NULL, 0) < 0)
				return pd_err_set(err, PD_EREC, "a tag is not a string");
			return 0;
		}
		/* the usual few tags in one walk of the array; more in a second */
		const char *few[32];
		int n = src->strings(src->ctx, tags, few, 32);
		if (n < 0)
			return pd_err_set(err, PD_EREC, "a tag is not a string");
		v->tags = xcalloc((size_t)n + 1, sizeof *v->tags);
		if (n <= 32)
			memcpy(v->tags, few, (size_t)n * sizeof *few);
		else
			src->strings(src->ctx, tags, v->tags, n);
		v->ntags = n;
	}
	return 0;
}

/* ---- a cJSON tree ---- */

static void tree_get(void *ctx, const char *key, pd_jv *v, int dec)
{
	(void)dec;
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(ctx, key);
	v->node = it;
	v->s = NULL;
	v->d = 0;
	v->raw = NULL;
	v->rawlen = 0;
	if (!it)
		v->t = PD_JV_ABSENT;
	else if (cJSON_IsNull(it))
		v->t = PD_JV_NULL;
	else if (cJSON_IsFalse(it))
		v->t = PD_JV_FALSE;
	else if (cJSON_IsTrue(it))
		v->t = PD_JV_TRUE;
	else if (cJSON_IsNumber(it))
		v->t = PD_JV_NUMBER, v->d = it->valuedouble;
	else if (cJSON_IsString(it))
		v->t = PD_JV_STRING, v->s = it->valuestring;
	else if (cJSON_IsArray(it))
		v->t = PD_JV_ARRAY;
	else
		v->t = PD_JV_OBJECT;
}

static int tree_strings(void *ctx, const pd_jv *a, const char **out, int cap)
{
	int k = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, (const cJSON *)a->node) {
		if (!cJSON_IsString(t))
			return -1;
		if (k < cap)
			out[k] = t->valuestring;
		k++;
	}
	return k;
}

int pd_video_from_json(const cJSON *o, pd_video *v, pd_err *err)
{
	vsrc src = { tree_get, tree_strings, (void *)o };
	return video_fill(&src, v, ~0u, err);
}

/* ---- a scanned object ---- */

static void jobj_get(void *ctx, const char *key, pd_jv *v, int dec)
{
	v->node = NULL;
	if (dec)
		pd_jobj_get(ctx, key, v);
	else
		pd_jobj_peek(ctx, key, v);
}

static int jobj_strings(void *ctx, const pd_jv *a, const char **out, int cap)
{
	return pd_jobj_strings(ctx, a, out, cap);
}

int pd_video_from_jobj(pd_jobj *o, pd_video *v, pd_err *err)
{
	return pd_video_from_jobj_keep(o, v, ~0u, err);
}

int pd_video_from_jobj_keep(pd_jobj *o, pd_video *v, unsigned keep, pd_err *err)
{
	vsrc src = { jobj_get, jobj_strings, o };
	return video_fill(&src, v, keep, err);
}

void pd_video_release(pd_video *v)
{
	free(v->tags);
	v->tags = NULL;
	v->ntags = 0;
}

/* ---- the writer ---- */

static void add_key(pd_buf *b, const char *k)
{
	pd_buf_adds(b, ",\"");
	pd_buf_adds(b, k);
	pd_buf_adds(b, "\":");
}

static void add_str(pd_buf *b, const pd_video *v, unsigned bit, const char *k, const char *s)
{
	if (!(v->fields & bit))
		return;
	add_key(b, k);
	if (s)
		pd_buf_add_json_string(b, s, strlen(s));
	else
		pd_buf_adds(b, "null");
}

static void add_num(pd_buf *b, const pd_video *v, unsigned bit, const char *k, double d)
{
	if (!(v->fields & bit))
		return;
	add_key(b, k);
	pd_buf_add_num_exact(b, d);
}

static void add_time(pd_buf *b, const pd_video *v, unsigned bit, const char *k, double t)
{
	if (!(v->fields & bit))
		return;
	add_key(b, k);
	if (isnan(t)) {
		pd_buf_adds(b, "null");
		return;
	}
	char tb[40];
	pd_time_format(t, tb, sizeof tb);
	pd_buf_add_json_string(b, tb, strlen(tb));
}

void pd_video_write(pd_buf *b, const pd_video *v)
{
	pd_video_write_head(b, v);
	pd_video_write_tail(b, v);
}

void pd_video_write_head(pd_buf *b, const pd_video *v)
{
	pd_buf_adds(b, "{\"type\":\"video\",\"id\":");
	pd_buf_add_json_string(b, v->id ? v->id : "", v->id ? strlen(v->id) : 0);
	add_str(b, v, PD_VF_CHANNEL_ID, "channel_id", v->channel_id);
	add_str(b, v, PD_VF_CHANNEL_TITLE, "channel_title", v->channel_title);
	add_str(b, v, PD_VF_TITLE, "title", v->title);
	add_str(b, v, PD_VF_DESCRIPTION, "description", v->description);
	if (v->fields & PD_VF_TAGS) {
		pd_buf_adds(b, ",\"tags\":[");
		for (int i = 0; i < v->ntags; i++) {
			if (i)
				pd_buf_addc(b, ',');
			pd_buf_add_json_string(b, v->tags[i], strlen(v->tags[i]));
		}
		pd_buf_addc(b, ']');
	}
	add_str(b, v, PD_VF_CATEGORY, "category", v->category);
	add_str(b, v, PD_VF_CATEGORY_ID, "category_id", v->category_id);
	add_str(b, v, PD_VF_FORMAT, "format", v->format);
	add_time(b, v, PD_VF_PUBLISHED_AT, "published_at", v->published_at);
	add_time(b, v, PD_VF_OBSERVED_AT, "observed_at", v->observed_at);
	add_num(b, v, PD_VF_DURATION_S, "duration_s", v->duration_s);
	add_num(b, v, PD_VF_VIEWS, "views", v->views);
	add_num(b, v, PD_VF_LIKES, "likes", v->likes);
	add_num(b, v, PD_VF_COMMENTS, "comments", v->comments);
	if (v->fields & PD_VF_IS_SHORT) {
		add_key(b, "is_short");
		pd_buf_adds(b, v->is_short < 0 ? "null" : v->is_short ? "true" : "false");
	}
	if (v->extra) {
		add_key(b, "extra");
		pd_buf_add(b, v->extra, v->extra_len);
	}
	if (v->fields & PD_VF_CLUSTER) {
		static const char *const lv[3] = { "macro", "meso", "micro" };
		add_key(b, "cluster");
		pd_buf_addc(b, '{');
		int first = 1;
		for (int i = 0; i < 3; i++) {
			if (!v->cluster[i])
				continue;
			pd_buf_printf(b, "%s\"%s\":", first ? "" : ",", lv[i]);
			pd_buf_add_json_string(b, v->cluster[i], strlen(v->cluster[i]));
			first = 0;
		}
		pd_buf_addc(b, '}');
	}
	add_num(b, v, PD_VF_CLUSTER_SIM, "cluster_sim", v->cluster_sim);
	if (v->rest && v->rest_len) {
		pd_buf_addc(b, ',');
		pd_buf_add(b, v->rest, v->rest_len);
	}
}

void pd_video_write_tail(pd_buf *b, const pd_video *v)
{
	if (v->fields & PD_VF_AGE_DAYS) {
		add_key(b, "age_days");
		pd_buf_add_num_fixed(b, v->age_days, 4);
	}
	if (v->fields & PD_VF_PERF) {
		add_key(b, "perf");
		pd_buf_add_num(b, v->perf);
	}
	if (v->fields & PD_VF_PERF_BASIS) {
		add_key(b, "perf_basis");
		pd_buf_printf(b, "%d", v->perf_basis);
	}
	if ((v->fields & PD_VF_PERF_REASON) && v->perf_reason)
		add_str(b, v, PD_VF_PERF_REASON, "perf_reason", v->perf_reason);
	pd_buf_adds(b, "}\n");
}

void pd_video_rest_from_json(const cJSON *o, const pd_video *v, pd_buf *extra, pd_buf *rest)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, o) {
		const char *k = m->string;
		if (!k || !strcmp(k, "type") || !strcmp(k, "id"))
			continue;
		int known = 0;
		for (size_t i = 0; i < NVFIELDS && !known; i++)
			known = !strcmp(k, vfields[i].key) && (v->fields & vfields[i].bit);
		if (known)
			continue;
		char *s = cJSON_PrintUnformatted(m);
		if (!s)
			abort();	/* cJSON fails only on allocation */
		if (!strcmp(k, "extra") && !extra->len) {
			pd_buf_adds(extra, s);
		} else {
			if (rest->len)
				pd_buf_addc(rest, ',');
			pd_buf_add_json_string(rest, k, strlen(k));
			pd_buf_addc(rest, ':');
			pd_buf_adds(rest, s);
		}
		cJSON_free(s);
	}
}
