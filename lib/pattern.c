/*
 * pattern.c — one check and one wording of a pattern's effect (pattern.h).
 *
 * pd-mine words its patterns here, pd-validate re-words them with what the
 * newer videos said, and pd-validate, pd-store and pd-match all refuse a
 * record whose effect contradicts itself through pd_pattern_check_effect,
 * so a record that one command accepts is accepted by the others.
 */
#include "pattern.h"
#include "record.h"
#include "alloc.h"
#include "vec.h"
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* a number field of o: 1 found (finite), 0 absent or null, -1 another type */
static int num_field(const cJSON *o, const char *k, double *v)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	*v = NAN;
	if (!x || cJSON_IsNull(x))
		return 0;
	if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
		return -1;
	*v = x->valuedouble;
	return 1;
}

/* an interval field [lo, hi]: 1 found, 0 absent, -1 malformed */
static int ci_field(const cJSON *o, const char *k, double *lo, double *hi)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	*lo = *hi = NAN;
	if (!x || cJSON_IsNull(x))
		return 0;
	if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 2)
		return -1;
	const cJSON *a = cJSON_GetArrayItem(x, 0), *b = cJSON_GetArrayItem(x, 1);
	if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b) || !isfinite(a->valuedouble) ||
	    !isfinite(b->valuedouble) || a->valuedouble > b->valuedouble)
		return -1;
	*lo = a->valuedouble;
	*hi = b->valuedouble;
	return 1;
}

/* the estimate within its interval, allowing for the 6 digits records are written with */
static int holds(double lo, double est, double hi)
{
	double tol = 1e-5 * (fabs(est) + 1e-12);
	return lo <= est + tol && est <= hi + tol;
}

int pd_pattern_check_effect(const cJSON *rec, pd_err *err)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "stats");
	if (!st || cJSON_IsNull(st))
		return 0;
	if (!cJSON_IsObject(st))
		return pd_err_set(err, PD_EREC, "'stats' is not an object");
	const char *dir = pd_json_str(rec, "direction");
	int positive = !dir || strcmp(dir, "negative") != 0;
	double eff, elo, ehi, lift, llo, lhi, mw, mo;
	int he = num_field(st, "effect", &eff), hec = ci_field(st, "effect_ci", &elo, &ehi);
	int hl = num_field(st, "lift", &lift), hlc = ci_field(st, "lift_ci", &llo, &lhi);
	int hmw = num_field(st, "median_perf_with", &mw), hmo = num_field(st, "median_perf_without", &mo);
	if (he < 0 || hec < 0 || hl < 0 || hlc < 0 || hmw < 0 || hmo < 0)
		return pd_err_set(err, PD_EREC, "stats: %s is not %s",
				  he < 0 ? "'effect'" : hec < 0 ? "'effect_ci'" : hl < 0 ? "'lift'" :
				  hlc < 0 ? "'lift_ci'" : hmw < 0 ? "'median_perf_with'" : "'median_perf_without'",
				  hec < 0 || hlc < 0 ? "an interval [lo, hi] of finite numbers" : "a finite number");
	const char *side = positive ? "positive" : "negative";
	if (he > 0) {
		if (!(eff > 0))
			return pd_err_set(err, PD_EREC, "stats: effect %g is not a positive multiplier", eff);
		if (positive ? eff < 1 : eff > 1)
			return pd_err_set(err, PD_EREC, "stats: a %s pattern with effect %g", side, eff);
		if (hec > 0 && !holds(elo, eff, ehi))
			return pd_err_set(err, PD_EREC, "stats: effect_ci [%g, %g] does not hold effect %g",
					  elo, ehi, eff);
	}
	if (hl > 0 && hlc > 0 && !holds(llo, lift, lhi))
		return pd_err_set(err, PD_EREC, "stats: lift_ci [%g, %g] does not hold lift %g", llo, lhi, lift);
	if (hmw > 0 && hmo > 0 && mw >= 0 && mo > 0) {
		double ratio = mw / mo;
		if (positive ? ratio < 1 : ratio > 1)
			return pd_err_set(err, PD_EREC, "stats: a %s pattern whose median perf with the feature "
					  "(%g) is %s than without (%g)", side, mw, positive ? "lower" : "higher", mo);
		/* the reverse (lift below 1, median ratio above) is allowed: with
		   few high performers the lift of a real gain is often 0 */
		if (hl > 0 && lift > 1 && ratio < 1)
			return pd_err_set(err, PD_EREC, "stats: lift %g and median ratio %g point opposite ways",
					  lift, ratio);
	}
	return 0;
}

int pd_pattern_check(const cJSON *rec, int need_place, pd_err *err)
{
	const char *id = pd_json_str(rec, "id");
	if (!id || !*id)
		return pd_err_set(err, PD_EREC, "pattern without a string \"id\"");
	pd_err e;
	pd_feature *f = pd_feature_from_json(cJSON_GetObjectItemCaseSensitive(rec, "feature"), &e);
	if (!f)
		return pd_err_set(err, PD_EREC, "pattern '%s': feature: %s", id, e.msg);
	pd_feature_free(f);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "direction");
	if (d && !cJSON_IsNull(d) &&
	    (!cJSON_IsString(d) || (strcmp(d->valuestring, "positive") && strcmp(d->valuestring, "negative"))))
		return pd_err_set(err, PD_EREC, "pattern '%s': \"direction\" is not positive or negative", id);
	static const char *const statuses[] = { "candidate", "validated", "provisional", "rejected" };
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "status");
	if (st && !cJSON_IsNull(st)) {
		int ok = 0;
		for (size_t i = 0; cJSON_IsString(st) && i < sizeof statuses / sizeof *statuses; i++)
			ok |= !strcmp(st->valuestring, statuses[i]);
		if (!ok)
			return pd_err_set(err, PD_EREC, "pattern '%s': \"status\" is not candidate, validated, "
					  "provisional or rejected", id);
	}
	if (pd_pattern_check_effect(rec, &e) < 0)
		return pd_err_set(err, PD_EREC, "pattern '%s': %s", id, e.msg);
	double radius;
	int hr = num_field(rec, "radius", &radius);
	if (hr == 0)
		hr = num_field(rec, "semantic_radius", &radius);
	if (hr < 0 || (hr > 0 && !(radius >= 0 && radius <= 2)) || (hr == 0 && need_place))
		return pd_err_set(err, PD_EREC, "pattern '%s' has no \"radius\" in [0, 2]", id);
	const cJSON *cb = cJSON_GetObjectItemCaseSensitive(rec, "centroid_b64");
	const cJSON *ca = cJSON_GetObjectItemCaseSensitive(rec, "centroid");
	float *v = NULL;
	size_t cap = 0;
	int dim = 0, rc = 0;
	if (cJSON_IsString(cb)) {
		char *txt = cJSON_PrintUnformatted(cb);	/* the string with its quotes */
		rc = pd_vec_parse_b64(txt, strlen(txt), &v, &cap, &dim, &e) < 0 ? -1 : 1;
		free(txt);
	} else if (cJSON_IsArray(ca)) {
		char *txt = cJSON_PrintUnformatted(ca);
		rc = pd_vec_parse_json(txt, strlen(txt), &v, &cap, &dim, &e) < 0 ? -1 : 1;
		free(txt);
	} else if ((cb && !cJSON_IsNull(cb)) || (ca && !cJSON_IsNull(ca))) {
		rc = -1;
		pd_err_set(&e, PD_EREC, "not a base64 string or an array of numbers");
	}
	if (rc < 0) {
		free(v);
		return pd_err_set(err, PD_EREC, "pattern '%s': centroid: %s", id, e.msg);
	}
	if (rc == 0 && need_place)
		return pd_err_set(err, PD_EREC, "pattern '%s' has no centroid", id);
	if (rc > 0) {
		float norm = dim > 0 ? pd_vec_norm(v, dim) : 0;
		free(v);
		if (!(norm > 0) || !isfinite(norm))
			return pd_err_set(err, PD_EREC, "pattern '%s' has a zero centroid", id);
	}
	return 0;
}

int pd_pattern_effect(const cJSON *rec, double *eff, double *lo, double *hi)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "stats");
	*eff = *lo = *hi = NAN;
	if (num_field(st, "effect", eff) == 1) {
		if (ci_field(st, "effect_ci", lo, hi) != 1)
			*lo = *hi = NAN;
		return 2;
	}
	double mw, mo;
	if (num_field(st, "median_perf_with", &mw) == 1 && num_field(st, "median_perf_without", &mo) == 1 &&
	    mo > 0) {
		*eff = mw / mo;
		return 1;
	}
	*eff = NAN;
	return 0;
}

/* a multiplier as people write it: 1.8, 0.62, 12 */
static void mult(pd_buf *out, double x)
{
	if (x >= 9.95)
		pd_buf_printf(out, "%.0f", x);
	else if (x >= 0.995)
		pd_buf_printf(out, "%.1f", x);
	else
		pd_buf_printf(out, "%.2f", x);
}

static void month(double t, char *out, size_t cap)
{
	static const char *const mon[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	time_t s = 0;
	/* checked before the cast: a NaN or huge time is undefined as a time_t */
	if (!(fabs(t) < 1e15) || (s = (time_t)t, !gmtime_r(&s, &tm))) {
		snprintf(out, cap, "?");
		return;
	}
	snprintf(out, cap, "%s %d", mon[tm.tm_mon], tm.tm_year + 1900);
}

/* the feature phrase with its first letter as it is ("titles containing ...") */
static void feature_phrase(const pd_pattern_words *w, pd_buf *out)
{
	if (w->feature)
		pd_feature_describe(w->feature, out);
	else
		pd_buf_adds(out, "videos with this feature");
}

void pd_pattern_sentence(const pd_pattern_words *w, pd_buf *out)
{
	if (w->label && *w->label)
		pd_buf_printf(out, "In the niche \"%s\"", w->label);
	else
		pd_buf_adds(out, "In this niche");
	if (w->level && w->n > 0)
		pd_buf_printf(out, " (%s, %ld videos)", w->level, w->n);
	pd_buf_adds(out, ", ");
	feature_phrase(w, out);
	if (isfinite(w->effect)) {
		if (w->positive || w->effect >= 1) {
			pd_buf_adds(out, " get ");
			mult(out, w->effect);
			pd_buf_adds(out, "x the views of the niche's other videos");
		} else
			pd_buf_printf(out, " get %.0f%% fewer views than the niche's other videos",
				      100 * (1 - w->effect));
		pd_buf_adds(out, ", each measured against its channel's normal");
	} else {
		pd_buf_adds(out, w->positive ? " do better than the niche's other videos"
					     : " do worse than the niche's other videos");
	}
	const char *sep = " (";
	if (isfinite(w->lo) && isfinite(w->hi)) {
		pd_buf_printf(out, "%s%.0f%% CI ", sep, 100 * (isfinite(w->ci_level) ? w->ci_level : 0.95));
		mult(out, w->lo);
		pd_buf_addc(out, '-');
		mult(out, w->hi);
		pd_buf_addc(out, 'x');
		sep = "; ";
	}
	if (w->n_with > 0) {
		pd_buf_printf(out, "%s%ld videos", sep, w->n_with);
		if (w->channels > 0)
			pd_buf_printf(out, " from %d channels", w->channels);
		sep = "; ";
	}
	char a[16], b[16];
	month(w->win_from, a, sizeof a);
	month(w->win_to, b, sizeof b);
	if (w->trend == 0 && w->btest > 0) {
		pd_buf_printf(out, "%sheld in %d of %d periods, %s - %s", sep, w->bheld, w->btest, a, b);
		sep = "; ";
	}
	if (*sep == ';')
		pd_buf_addc(out, ')');
	if (w->trend == 1)
		pd_buf_printf(out, ". A trend: it held %s - %s and is expected to fade", a, b);
	pd_buf_addc(out, '.');
}

void pd_pattern_name(const pd_pattern_words *w, pd_buf *out)
{
	size_t at = out->len;
	feature_phrase(w, out);
	if (out->len > at && out->p[at] >= 'a' && out->p[at] <= 'z')
		out->p[at] = (char)(out->p[at] - 'a' + 'A');
	if (w->label && *w->label)
		pd_buf_printf(out, " — %s", w->label);
	if (isfinite(w->effect)) {
		pd_buf_adds(out, " (");
		mult(out, w->effect);
		pd_buf_adds(out, "x)");
	}
}
