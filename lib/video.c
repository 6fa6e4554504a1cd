/*
 * video.c — typed, checked access to video records; see video.h.
 */
#include "video.h"
#include "alloc.h"
#include "timeutil.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double pd_json_num_in(const cJSON *o, const char *key, double fb)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : fb;
}

static int opt_str(const cJSON *o, const char *key, const char **out, pd_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return pd_err_set(err, PD_EREC, "'%s' is not a string", key);
	*out = v->valuestring;
	return 0;
}

static int opt_count(const cJSON *o, const char *key, double *out, pd_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	*out = NAN;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0)
		return pd_err_set(err, PD_EREC, "'%s' is not a non-negative number", key);
	*out = v->valuedouble;
	return 0;
}

static int opt_time(const cJSON *o, const char *key, double *out, pd_err *err)
{
	const char *s;
	*out = NAN;
	if (opt_str(o, key, &s, err) < 0)
		return -1;
	if (s && pd_time_parse(s, out) < 0)
		return pd_err_set(err, PD_EREC, "'%s' is not an RFC 3339 time: '%.40s'", key, s);
	return 0;
}

int pd_video_from_json(const cJSON *o, pd_video *v, pd_err *err)
{
	memset(v, 0, sizeof *v);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
	if (!id)
		return pd_err_set(err, PD_EREC, "video has no 'id'");
	if (!cJSON_IsString(id) || !id->valuestring[0])
		return pd_err_set(err, PD_EREC, "video 'id' is not a non-empty string");
	v->id = id->valuestring;
	if (opt_str(o, "channel_id", &v->channel_id, err) < 0 ||
	    opt_str(o, "title", &v->title, err) < 0 ||
	    opt_str(o, "description", &v->description, err) < 0 ||
	    opt_str(o, "category", &v->category, err) < 0 ||
	    opt_str(o, "format", &v->format, err) < 0 ||
	    opt_count(o, "duration_s", &v->duration_s, err) < 0 ||
	    opt_count(o, "views", &v->views, err) < 0 ||
	    opt_count(o, "likes", &v->likes, err) < 0 ||
	    opt_count(o, "comments", &v->comments, err) < 0 ||
	    opt_count(o, "age_days", &v->age_days, err) < 0 ||
	    opt_time(o, "published_at", &v->published_at, err) < 0 ||
	    opt_time(o, "observed_at", &v->observed_at, err) < 0)
		return -1;
	const cJSON *perf = cJSON_GetObjectItemCaseSensitive(o, "perf");
	v->perf = NAN;
	if (perf && !cJSON_IsNull(perf)) {
		if (!cJSON_IsNumber(perf) || !isfinite(perf->valuedouble) || perf->valuedouble < 0)
			return pd_err_set(err, PD_EREC, "'perf' is not a non-negative number or null");
		v->perf = perf->valuedouble;
	}
	v->perf_basis = (int)pd_json_num_in(o, "perf_basis", 0);
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "holdout");
	v->holdout = cJSON_IsTrue(h);
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(o, "tags");
	if (tags && !cJSON_IsNull(tags)) {
		if (!cJSON_IsArray(tags))
			return pd_err_set(err, PD_EREC, "'tags' is not an array");
		int n = cJSON_GetArraySize(tags);
		v->tags = xcalloc((size_t)n + 1, sizeof *v->tags);
		const cJSON *t;
		cJSON_ArrayForEach(t, tags) {
			if (!cJSON_IsString(t)) {
				pd_video_release(v);
				return pd_err_set(err, PD_EREC, "a tag is not a string");
			}
			v->tags[v->ntags++] = t->valuestring;
		}
	}
	return 0;
}

void pd_video_release(pd_video *v)
{
	free(v->tags);
	v->tags = NULL;
	v->ntags = 0;
}
