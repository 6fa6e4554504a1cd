/*
 * video.c — typed, checked access to video records; see video.h.
 */
#include "video.h"
#include "alloc.h"
#include "json.h"
#include "timeutil.h"
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/*
 * The fields are read through a small accessor so that one implementation
 * serves both a record's cJSON tree (pd_video_from_json) and a scanned
 * record (pd_video_from_jobj): same checks, same messages, same values.
 */
typedef struct vsrc {
	void (*get)(void *ctx, const char *key, pd_jv *v);
	/* array a's elements as strings into out[0..cap); count, -1 if one is not */
	int (*strings)(void *ctx, const pd_jv *a, const char **out, int cap);
	int (*count)(void *ctx, const pd_jv *a);
	void *ctx;
} vsrc;

static int opt_str(const vsrc *src, const char *key, const char **out, pd_err *err)
{
	pd_jv v;
	src->get(src->ctx, key, &v);
	*out = NULL;
	if (v.t == PD_JV_ABSENT || v.t == PD_JV_NULL)
		return 0;
	if (v.t != PD_JV_STRING)
		return pd_err_set(err, PD_EREC, "'%s' is not a string", key);
	*out = v.s;
	return 0;
}

/* The largest count taken: it fits PostgreSQL's bigint and a double exactly
 * (2^53 is 9.007e15), and is far above any real view count. */
#define COUNT_MAX 9e15

static int opt_count(const vsrc *src, const char *key, double *out, pd_err *err)
{
	pd_jv v;
	src->get(src->ctx, key, &v);
	*out = NAN;
	if (v.t == PD_JV_ABSENT || v.t == PD_JV_NULL)
		return 0;
	if (v.t != PD_JV_NUMBER || !isfinite(v.d) || v.d < 0)
		return pd_err_set(err, PD_EREC, "'%s' is not a non-negative number", key);
	if (v.d > COUNT_MAX)
		return pd_err_set(err, PD_EREC, "'%s' is over %g: %g", key, COUNT_MAX, v.d);
	*out = v.d;
	return 0;
}

/* opt_type: key absent, null or of type t (PD_JV_*; PD_JV_TRUE means a boolean) */
static int opt_type(const vsrc *src, const char *key, int t, const char *what, pd_err *err)
{
	pd_jv v;
	src->get(src->ctx, key, &v);
	int ok = v.t == PD_JV_ABSENT || v.t == PD_JV_NULL || v.t == t ||
		 (t == PD_JV_TRUE && v.t == PD_JV_FALSE);
	if (ok && v.t == PD_JV_NUMBER && !isfinite(v.d))
		ok = 0;		/* 1e999 parses as infinity */
	return ok ? 0 : pd_err_set(err, PD_EREC, "'%s' is not %s", key, what);
}

static int opt_time(const vsrc *src, const char *key, double *out, pd_err *err)
{
	const char *s;
	*out = NAN;
	if (opt_str(src, key, &s, err) < 0)
		return -1;
	if (s && pd_time_parse(s, out) < 0)
		return pd_err_set(err, PD_EREC, "'%s' is not an RFC 3339 time: '%.40s'", key, s);
	return 0;
}

static int video_fill(const vsrc *src, pd_video *v, pd_err *err)
{
	memset(v, 0, sizeof *v);
	pd_jv id;
	src->get(src->ctx, "id", &id);
	if (id.t == PD_JV_ABSENT)
		return pd_err_set(err, PD_EREC, "video has no 'id'");
	if (id.t != PD_JV_STRING || !id.s[0])
		return pd_err_set(err, PD_EREC, "video 'id' is not a non-empty string");
	v->id = id.s;
	if (opt_str(src, "channel_id", &v->channel_id, err) < 0 ||
	    opt_str(src, "title", &v->title, err) < 0 ||
	    opt_str(src, "description", &v->description, err) < 0 ||
	    opt_str(src, "category", &v->category, err) < 0 ||
	    opt_str(src, "format", &v->format, err) < 0 ||
	    opt_count(src, "duration_s", &v->duration_s, err) < 0 ||
	    opt_count(src, "views", &v->views, err) < 0 ||
	    opt_count(src, "likes", &v->likes, err) < 0 ||
	    opt_count(src, "comments", &v->comments, err) < 0 ||
	    opt_count(src, "age_days", &v->age_days, err) < 0 ||
	    opt_time(src, "published_at", &v->published_at, err) < 0 ||
	    opt_time(src, "observed_at", &v->observed_at, err) < 0)
		return -1;
	pd_jv perf;
	src->get(src->ctx, "perf", &perf);
	v->perf = NAN;
	if (perf.t != PD_JV_ABSENT && perf.t != PD_JV_NULL) {
		if (perf.t != PD_JV_NUMBER || !isfinite(perf.d) || perf.d < 0)
			return pd_err_set(err, PD_EREC, "'perf' is not a non-negative number or null");
		v->perf = perf.d;
	}
	pd_jv basis;
	src->get(src->ctx, "perf_basis", &basis);
	v->perf_basis = 0;
	if (basis.t != PD_JV_ABSENT && basis.t != PD_JV_NULL) {
		if (basis.t != PD_JV_NUMBER || !(basis.d >= 0 && basis.d <= INT_MAX) ||
		    basis.d != floor(basis.d))
			return pd_err_set(err, PD_EREC, "'perf_basis' is not a whole number from 0 to %d",
					  INT_MAX);
		v->perf_basis = (int)basis.d;
	}
	/* the fields of later stages: checked here so that no stage takes a
	 * wrong type for "none" (pd-cluster writes cluster and cluster_sim,
	 * pd-mine holdout) */
	if (opt_type(src, "holdout", PD_JV_TRUE, "true or false", err) < 0 ||
	    opt_type(src, "cluster", PD_JV_OBJECT, "an object (macro, meso, micro)", err) < 0 ||
	    opt_type(src, "cluster_sim", PD_JV_NUMBER, "a number", err) < 0)
		return -1;
	pd_jv h;
	src->get(src->ctx, "holdout", &h);
	v->holdout = h.t == PD_JV_TRUE;
	pd_jv tags;
	src->get(src->ctx, "tags", &tags);
	if (tags.t != PD_JV_ABSENT && tags.t != PD_JV_NULL) {
		if (tags.t != PD_JV_ARRAY)
			return pd_err_set(err, PD_EREC, "'tags' is not an array");
		int n = src->count(src->ctx, &tags);
		v->tags = xcalloc((size_t)n + 1, sizeof *v->tags);
		if (src->strings(src->ctx, &tags, v->tags, n) < 0) {
			pd_video_release(v);
			return pd_err_set(err, PD_EREC, "a tag is not a string");
		}
		v->ntags = n;
	}
	return 0;
}

/* ---- a cJSON tree ---- */

static void tree_get(void *ctx, const char *key, pd_jv *v)
{
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

static int tree_count(void *ctx, const pd_jv *a)
{
	return cJSON_GetArraySize(a->node);
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
	vsrc src = { tree_get, tree_strings, tree_count, (void *)o };
	return video_fill(&src, v, err);
}

/* ---- a scanned object ---- */

static void jobj_get(void *ctx, const char *key, pd_jv *v)
{
	v->node = NULL;
	pd_jobj_get(ctx, key, v);
}

static int jobj_count(void *ctx, const pd_jv *a)
{
	return pd_jobj_count(a);
}

static int jobj_strings(void *ctx, const pd_jv *a, const char **out, int cap)
{
	return pd_jobj_strings(ctx, a, out, cap);
}

int pd_video_from_jobj(pd_jobj *o, pd_video *v, pd_err *err)
{
	vsrc src = { jobj_get, jobj_strings, jobj_count, o };
	return video_fill(&src, v, err);
}

void pd_video_release(pd_video *v)
{
	free(v->tags);
	v->tags = NULL;
	v->ntags = 0;
}
