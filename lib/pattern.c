/*
 * pattern.c — the pattern record (pattern.h): its struct, read by one
 * reader (older records through the one compatibility path) and written by
 * one writer in its canonical JSON; one check and one wording of its effect.
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
#include "timeutil.h"
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

/* ---- the struct, its reader and its writer (pattern.h) ---- */

void pd_pattern_init(pd_pattern *p)
{
	memset(p, 0, sizeof *p);
	p->positive = -1;
	p->win_from = p->win_to = p->blocks = p->testable = p->held = NAN;
	p->radius = NAN;
	double *st[] = { &p->stats.n, &p->stats.n_with, &p->stats.high_with, &p->stats.high_without,
			 &p->stats.base_rate, &p->stats.effect, &p->stats.effect_lo, &p->stats.effect_hi,
			 &p->stats.lift, &p->stats.lift_lo, &p->stats.lift_hi, &p->stats.median_with,
			 &p->stats.median_without, &p->stats.p, &p->stats.p_rank, &p->stats.channels,
			 &p->stats.high_channels, &p->stats.top_channel_share, &p->stats.threshold,
			 &p->stats.quality, &p->within.avg, &p->within.median, &p->within.count,
			 &p->outside.avg, &p->outside.median, &p->outside.count, &p->lift_ratio,
			 &p->data.confidence, &p->data.sample_size };
	for (size_t i = 0; i < sizeof st / sizeof *st; i++)
		*st[i] = NAN;
}

static void free_strs(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void pd_pattern_release(pd_pattern *p)
{
	char *s[] = { p->id, p->pattern_type, p->feature, p->aliases, p->cluster, p->level, p->label,
		      p->kind, p->centroid_b64, p->name, p->description, p->stats.top_channel,
		      p->data.name, p->data.description, p->data.template_, p->status };
	for (size_t i = 0; i < sizeof s / sizeof *s; i++)
		free(s[i]);
	free(p->superiority);
	free_strs(p->examples, p->nexamples);
	free_strs(p->data.titles, p->data.ntitles);
	cJSON_Delete(p->stats.extra);
	cJSON_Delete(p->extra);
	pd_pattern_init(p);
}

static const cJSON *item(const cJSON *o, const char *k)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, k) : NULL;
}

/* a string member, copied, or NULL */
static char *str_dup(const cJSON *o, const char *k)
{
	const cJSON *x = item(o, k);
	return cJSON_IsString(x) ? xstrdup(x->valuestring) : NULL;
}

/*
 * a number member into *v: 1 present (a number, or null: NAN), 0 absent (or
 * of another type), so the compatibility rules ask only when it is absent
 */
static int num_in(const cJSON *o, const char *k, double *v)
{
	const cJSON *x = item(o, k);
	if (cJSON_IsNumber(x)) {
		*v = x->valuedouble;
		return 1;
	}
	if (cJSON_IsNull(x)) {
		*v = NAN;
		return 1;
	}
	return 0;
}

/* the first of keys present in o */
static int num_first(const cJSON *o, const char *const *keys, double *v)
{
	for (; *keys; keys++)
		if (num_in(o, *keys, v))
			return 1;
	return 0;
}

static void pair_in(const cJSON *o, const char *k, double *lo, double *hi)
{
	const cJSON *x = item(o, k);
	if (cJSON_IsArray(x) && cJSON_GetArraySize(x) == 2) {
		const cJSON *a = cJSON_GetArrayItem(x, 0), *b = cJSON_GetArrayItem(x, 1);
		if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) {
			*lo = a->valuedouble;
			*hi = b->valuedouble;
		}
	}
}

static char **strs_in(const cJSON *o, const char *k, int *n)
{
	const cJSON *x = item(o, k), *e;
	*n = 0;
	if (!cJSON_IsArray(x))
		return NULL;
	char **v = xcalloc((size_t)cJSON_GetArraySize(x) + 1, sizeof *v);
	cJSON_ArrayForEach(e, x)
		if (cJSON_IsString(e))
			v[(*n)++] = xstrdup(e->valuestring);
	return v;
}

/* a predicate as its canonical text, or as it was when it does not parse */
static void feature_text(const cJSON *x, pd_buf *out)
{
	pd_err e;
	pd_feature *f = pd_feature_from_json(x, &e);
	if (f) {
		pd_feature_canonical(f, out);
		pd_feature_free(f);
	} else {
		char *t = cJSON_PrintUnformatted(x);
		pd_buf_adds(out, t);
		free(t);
	}
}

/* members of o not named in known, copied in their order, or NULL */
static cJSON *others(const cJSON *o, const char *const *known)
{
	cJSON *x = NULL;
	const cJSON *m;
	cJSON_ArrayForEach(m, o) {
		int k = 0;
		for (const char *const *q = known; *q && !k; q++)
			k = m->string && !strcmp(m->string, *q);
		if (k)
			continue;
		if (!x)
			x = cJSON_CreateObject();
		cJSON_AddItemToObject(x, m->string, cJSON_Duplicate(m, 1));
	}
	return x;
}

static const char *const top_known[] = {
	"type", "id", "pattern_type", "feature", "aliases", "direction", "cluster", "level", "label",
	"kind", "window", "centroid_b64", "radius", "name", "description", "stats", "examples",
	"performance_stats", "pattern_data", "status",
	/* read through the compatibility rules */
	"semantic_radius", "centroid", NULL
};

static const char *const stats_known[] = {
	"n", "n_with", "high_with", "high_without", "base_rate", "effect", "effect_ci", "lift",
	"lift_ci", "median_perf_with", "median_perf_without", "p", "p_rank", "channels",
	"high_channels", "top_channel", "top_channel_share", "threshold", "quality",
	/* read through the compatibility rules */
	"median_with", "median_without", NULL
};

int pd_pattern_read(const cJSON *rec, pd_pattern *p, pd_err *err)
{
	pd_pattern_init(p);
	if (!cJSON_IsObject(rec))
		return pd_err_set(err, PD_EREC, "pattern record is not a JSON object");
	pd_buf b = PD_BUF_INIT;
	p->id = str_dup(rec, "id");
	p->pattern_type = str_dup(rec, "pattern_type");
	const cJSON *x = item(rec, "feature");
	if (x && !cJSON_IsNull(x)) {
		feature_text(x, &b);
		p->feature = pd_buf_detach(&b);
	}
	x = item(rec, "aliases");
	if (cJSON_IsArray(x)) {
		const cJSON *e;
		pd_buf_addc(&b, '[');
		cJSON_ArrayForEach(e, x) {
			if (e != x->child)
				pd_buf_addc(&b, ',');
			feature_text(e, &b);
		}
		pd_buf_addc(&b, ']');
		p->aliases = pd_buf_detach(&b);
	}
	const char *d = pd_json_str(rec, "direction");
	p->positive = !d ? -1 : !strcmp(d, "positive") ? 1 : !strcmp(d, "negative") ? 0 : -1;
	p->cluster = str_dup(rec, "cluster");
	p->level = str_dup(rec, "level");
	p->label = str_dup(rec, "label");
	p->kind = str_dup(rec, "kind");
	const cJSON *w = item(rec, "window");
	if (cJSON_IsObject(w)) {
		p->has_window = 1;
		const char *t = pd_json_str(w, "from");
		if (!t || pd_time_parse(t, &p->win_from) < 0)
			p->win_from = NAN;
		t = pd_json_str(w, "to");
		if (!t || pd_time_parse(t, &p->win_to) < 0)
			p->win_to = NAN;
		num_in(w, "blocks", &p->blocks);
		num_in(w, "testable", &p->testable);
		num_in(w, "held", &p->held);
		const cJSON *s = item(w, "superiority"), *e;
		if (cJSON_IsArray(s)) {
			p->superiority = xcalloc((size_t)cJSON_GetArraySize(s) + 1, sizeof *p->superiority);
			cJSON_ArrayForEach(e, s)
				p->superiority[p->nsup++] = cJSON_IsNumber(e) ? e->valuedouble : NAN;
		}
	}
	p->centroid_b64 = str_dup(rec, "centroid_b64");
	x = item(rec, "centroid");
	if (!item(rec, "centroid_b64") && cJSON_IsArray(x)) {
		char *t = cJSON_PrintUnformatted(x);
		float *v = NULL;
		size_t cap = 0;
		int dim = 0;
		pd_err e;
		if (pd_vec_parse_json(t, strlen(t), &v, &cap, &dim, &e) == 0) {
			pd_vec_add_b64(&b, v, dim);
			p->centroid_b64 = pd_buf_detach(&b);
		}
		free(v);
		free(t);
	}
	if (!num_in(rec, "radius", &p->radius))
		num_in(rec, "semantic_radius", &p->radius);
	p->name = str_dup(rec, "name");
	p->description = str_dup(rec, "description");

	const cJSON *st = item(rec, "stats");
	const cJSON *ps = item(rec, "performance_stats");
	const cJSON *win = item(ps, "within_radius"), *wout = item(ps, "outside_radius");
	num_in(st, "n", &p->stats.n);
	if (!num_in(st, "n_with", &p->stats.n_with))
		num_in(win, "count", &p->stats.n_with);
	num_in(st, "high_with", &p->stats.high_with);
	num_in(st, "high_without", &p->stats.high_without);
	num_in(st, "base_rate", &p->stats.base_rate);
	num_in(st, "effect", &p->stats.effect);
	pair_in(st, "effect_ci", &p->stats.effect_lo, &p->stats.effect_hi);
	if (!num_in(st, "lift", &p->stats.lift))
		num_in(ps, "lift_ratio", &p->stats.lift);
	pair_in(st, "lift_ci", &p->stats.lift_lo, &p->stats.lift_hi);
	static const char *const mw[] = { "median_perf_with", "median_with", NULL };
	static const char *const mo[] = { "median_perf_without", "median_without", NULL };
	if (!num_first(st, mw, &p->stats.median_with))
		num_in(win, "median", &p->stats.median_with);
	if (!num_first(st, mo, &p->stats.median_without))
		num_in(wout, "median", &p->stats.median_without);
	num_in(st, "p", &p->stats.p);
	num_in(st, "p_rank", &p->stats.p_rank);
	num_in(st, "channels", &p->stats.channels);
	num_in(st, "high_channels", &p->stats.high_channels);
	p->stats.top_channel = str_dup(st, "top_channel");
	num_in(st, "top_channel_share", &p->stats.top_channel_share);
	num_in(st, "threshold", &p->stats.threshold);
	num_in(st, "quality", &p->stats.quality);
	if (cJSON_IsObject(st))
		p->stats.extra = others(st, stats_known);
	p->examples = strs_in(rec, "examples", &p->nexamples);

	if (cJSON_IsObject(ps)) {
		num_in(win, "avg", &p->within.avg);
		num_in(win, "median", &p->within.median);
		num_in(win, "count", &p->within.count);
		num_in(wout, "avg", &p->outside.avg);
		num_in(wout, "median", &p->outside.median);
		num_in(wout, "count", &p->outside.count);
		num_in(ps, "lift_ratio", &p->lift_ratio);
	} else {
		/* pd 0.1: made from the stats, as pd_pattern_sql_perf does */
		static const char *const aw[] = { "mean_with", "avg_with", "mean_perf_with", NULL };
		static const char *const ao[] = { "mean_without", "avg_without", "mean_perf_without", NULL };
		num_first(st, aw, &p->within.avg);
		num_first(st, ao, &p->outside.avg);
		static const char *const mw0[] = { "median_with", "median_perf_with", NULL };
		static const char *const mo0[] = { "median_without", "median_perf_without", NULL };
		num_first(st, mw0, &p->within.median);
		num_first(st, mo0, &p->outside.median);
		num_in(st, "n_with", &p->within.count);
		if (!num_in(st, "n_without", &p->outside.count))
			p->outside.count = p->stats.n - p->stats.n_with;
		double a, c;
		if (!num_in(st, "effect", &p->lift_ratio) && !num_in(st, "lift_ratio", &p->lift_ratio) &&
		    num_in(st, "median_perf_with", &a) && num_in(st, "median_perf_without", &c) && c > 0)
			p->lift_ratio = a / c;
	}
	const cJSON *pd = item(rec, "pattern_data");
	if (cJSON_IsObject(pd)) {
		p->data.name = str_dup(pd, "name");
		p->data.description = str_dup(pd, "description");
		p->data.template_ = str_dup(pd, "template");
		p->data.titles = strs_in(pd, "examples", &p->data.ntitles);
		num_in(pd, "confidence", &p->data.confidence);
		num_in(pd, "sample_size", &p->data.sample_size);
	} else {
		/* older records: made from the record, as pd_pattern_sql_data does */
		p->data.name = str_dup(rec, "name");
		p->data.description = str_dup(rec, "description");
		p->data.template_ = str_dup(rec, "template");
		if (!p->data.template_)
			p->data.template_ = str_dup(rec, "name");
		double q;
		const cJSON *c = item(rec, "confidence");
		if (cJSON_IsNumber(c))
			p->data.confidence = c->valuedouble;
		else if (cJSON_IsNumber(item(st, "confidence")))
			p->data.confidence = item(st, "confidence")->valuedouble;
		else if (cJSON_IsNumber(item(st, "q")) && num_in(st, "q", &q))
			p->data.confidence = 1 - q;
		else if (cJSON_IsNumber(item(st, "p")))
			p->data.confidence = 1 - p->stats.p;
		p->data.sample_size = isfinite(p->stats.n_with) ? p->stats.n_with : p->stats.n;
	}
	p->status = str_dup(rec, "status");
	p->extra = others(rec, top_known);
	pd_buf_release(&b);
	return 0;
}

/* ---- the writer ---- */


static void w_key(pd_buf *b, const char *k)
{
	pd_buf_printf(b, ",\"%s\":", k);
}

static void w_str(pd_buf *b, const char *s)
{
	if (s)
		pd_buf_add_json_string(b, s, strlen(s));
	else
		pd_buf_adds(b, "null");
}

static void w_time(pd_buf *b, double t)
{
	char s[40];
	if (!isfinite(t)) {
		pd_buf_adds(b, "null");
		return;
	}
	pd_time_format(t, s, sizeof s);
	pd_buf_printf(b, "\"%s\"", s);
}

static void w_interval(pd_buf *b, double lo, double hi)
{
	pd_buf_addc(b, '[');
	pd_buf_add_num(b, lo);
	pd_buf_addc(b, ',');
	pd_buf_add_num(b, hi);
	pd_buf_addc(b, ']');
}

static void w_strs(pd_buf *b, char *const *v, int n)
{
	pd_buf_addc(b, '[');
	for (int i = 0; i < n; i++) {
		if (i)
			pd_buf_addc(b, ',');
		w_str(b, v[i]);
	}
	pd_buf_addc(b, ']');
}

/* the members of o (an object), each as ,"key":value */
static void w_others(pd_buf *b, const cJSON *o)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, o) {
		pd_buf_addc(b, ',');
		pd_buf_add_json_string(b, m->string, strlen(m->string));
		pd_buf_addc(b, ':');
		char *t = cJSON_PrintUnformatted(m);
		pd_buf_adds(b, t);
		free(t);
	}
}

void pd_pattern_write(const pd_pattern *p, pd_buf *b)
{
	pd_buf_adds(b, "{\"type\":\"pattern\",\"id\":");
	w_str(b, p->id);
	w_key(b, "pattern_type");
	w_str(b, p->pattern_type);
	w_key(b, "feature");
	pd_buf_adds(b, p->feature ? p->feature : "null");
	if (p->aliases) {
		w_key(b, "aliases");
		pd_buf_adds(b, p->aliases);
	}
	w_key(b, "direction");
	w_str(b, p->positive < 0 ? NULL : p->positive ? "positive" : "negative");
	w_key(b, "cluster"), w_str(b, p->cluster);
	w_key(b, "level"), w_str(b, p->level);
	w_key(b, "label"), w_str(b, p->label);
	w_key(b, "kind"), w_str(b, p->kind);
	w_key(b, "window");
	if (p->has_window) {
		pd_buf_adds(b, "{\"from\":");
		w_time(b, p->win_from);
		w_key(b, "to"), w_time(b, p->win_to);
		w_key(b, "blocks"), pd_buf_add_num(b, p->blocks);
		w_key(b, "testable"), pd_buf_add_num(b, p->testable);
		w_key(b, "held"), pd_buf_add_num(b, p->held);
		w_key(b, "superiority");
		pd_buf_addc(b, '[');
		for (int k = 0; k < p->nsup; k++) {
			if (k)
				pd_buf_addc(b, ',');
			pd_buf_add_num(b, p->superiority[k]);
		}
		pd_buf_adds(b, "]}");
	} else {
		pd_buf_adds(b, "null");
	}
	w_key(b, "centroid_b64"), w_str(b, p->centroid_b64);
	w_key(b, "radius"), pd_buf_add_num(b, p->radius);
	w_key(b, "name"), w_str(b, p->name);
	w_key(b, "description"), w_str(b, p->description);
	pd_buf_adds(b, ",\"stats\":{\"n\":");
	pd_buf_add_num(b, p->stats.n);
	w_key(b, "n_with"), pd_buf_add_num(b, p->stats.n_with);
	w_key(b, "high_with"), pd_buf_add_num(b, p->stats.high_with);
	w_key(b, "high_without"), pd_buf_add_num(b, p->stats.high_without);
	w_key(b, "base_rate"), pd_buf_add_num(b, p->stats.base_rate);
	w_key(b, "effect"), pd_buf_add_num(b, p->stats.effect);
	w_key(b, "effect_ci"), w_interval(b, p->stats.effect_lo, p->stats.effect_hi);
	w_key(b, "lift"), pd_buf_add_num(b, p->stats.lift);
	w_key(b, "lift_ci"), w_interval(b, p->stats.lift_lo, p->stats.lift_hi);
	w_key(b, "median_perf_with"), pd_buf_add_num(b, p->stats.median_with);
	w_key(b, "median_perf_without"), pd_buf_add_num(b, p->stats.median_without);
	w_key(b, "p"), pd_buf_add_num(b, p->stats.p);
	w_key(b, "p_rank"), pd_buf_add_num(b, p->stats.p_rank);
	w_key(b, "channels"), pd_buf_add_num(b, p->stats.channels);
	w_key(b, "high_channels"), pd_buf_add_num(b, p->stats.high_channels);
	w_key(b, "top_channel"), w_str(b, p->stats.top_channel);
	w_key(b, "top_channel_share"), pd_buf_add_num(b, p->stats.top_channel_share);
	w_key(b, "threshold"), pd_buf_add_num(b, p->stats.threshold);
	w_key(b, "quality"), pd_buf_add_num(b, p->stats.quality);
	w_others(b, p->stats.extra);
	pd_buf_adds(b, "},\"examples\":");
	w_strs(b, p->examples, p->nexamples);
	pd_buf_adds(b, ",\"performance_stats\":{\"within_radius\":{\"avg\":");
	pd_buf_add_num(b, p->within.avg);
	w_key(b, "median"), pd_buf_add_num(b, p->within.median);
	w_key(b, "count"), pd_buf_add_num(b, p->within.count);
	pd_buf_adds(b, "},\"outside_radius\":{\"avg\":");
	pd_buf_add_num(b, p->outside.avg);
	w_key(b, "median"), pd_buf_add_num(b, p->outside.median);
	w_key(b, "count"), pd_buf_add_num(b, p->outside.count);
	pd_buf_addc(b, '}');
	w_key(b, "lift_ratio"), pd_buf_add_num(b, p->lift_ratio);
	pd_buf_adds(b, "},\"pattern_data\":{\"name\":");
	w_str(b, p->data.name);
	w_key(b, "description"), w_str(b, p->data.description);
	w_key(b, "template"), w_str(b, p->data.template_);
	w_key(b, "examples"), w_strs(b, p->data.titles, p->data.ntitles);
	w_key(b, "confidence"), pd_buf_add_num(b, p->data.confidence);
	w_key(b, "sample_size"), pd_buf_add_num(b, p->data.sample_size);
	pd_buf_adds(b, "},\"status\":");
	w_str(b, p->status);
	w_others(b, p->extra);
	pd_buf_adds(b, "}\n");
}

/* ---- the same rules in SQL, for pd-store's upsert (pattern.h) ---- */

const char pd_pattern_sql_data[] =
	"jsonb_build_object('name', s.record->'name', 'description', s.record->'description',"
	"   'template', coalesce(s.record->'template', s.record->'name'),"
	"   'examples', coalesce(s.record->'examples', '[]'::jsonb),"
	"   'confidence', coalesce("
	"     CASE WHEN jsonb_typeof(s.record->'confidence') = 'number' THEN s.record->'confidence' END,"
	"     CASE WHEN jsonb_typeof(s.record->'pattern_data'->'confidence') = 'number'"
	"      THEN s.record->'pattern_data'->'confidence' END,"
	"     CASE WHEN jsonb_typeof(st->'confidence') = 'number' THEN st->'confidence' END,"
	"     CASE WHEN jsonb_typeof(st->'q') = 'number' THEN to_jsonb(1 - (st->'q')::numeric) END,"
	"     CASE WHEN jsonb_typeof(st->'p') = 'number' THEN to_jsonb(1 - (st->'p')::numeric) END),"
	"   'sample_size', coalesce(st->'n_with', st->'n'))";

/* the record's own performance_stats (pd-mine writes them: lift_ratio is
   the effect multiplier, as in stats.effect), else made from its stats;
   pd 0.1 records: their lift_ratio was a ratio of means, kept as stored */
const char pd_pattern_sql_perf[] =
	"coalesce(CASE WHEN jsonb_typeof(s.record->'performance_stats') = 'object'"
	"   THEN s.record->'performance_stats' END, jsonb_build_object("
	"   'within_radius', jsonb_build_object("
	"     'avg', coalesce(st->'mean_with', st->'avg_with', st->'mean_perf_with'),"
	"     'median', coalesce(st->'median_with', st->'median_perf_with'),"
	"     'count', st->'n_with'),"
	"   'outside_radius', jsonb_build_object("
	"     'avg', coalesce(st->'mean_without', st->'avg_without', st->'mean_perf_without'),"
	"     'median', coalesce(st->'median_without', st->'median_perf_without'),"
	"     'count', coalesce(st->'n_without',"
	"      CASE WHEN jsonb_typeof(st->'n') = 'number' AND jsonb_typeof(st->'n_with') = 'number'"
	"       THEN to_jsonb((st->'n')::numeric - (st->'n_with')::numeric) END)),"
	"   'lift_ratio', coalesce(st->'effect', st->'lift_ratio',"
	"     CASE WHEN jsonb_typeof(st->'median_perf_with') = 'number'"
	"      AND jsonb_typeof(st->'median_perf_without') = 'number'"
	"      AND (st->>'median_perf_without')::numeric > 0"
	"      THEN to_jsonb((st->>'median_perf_with')::numeric / (st->>'median_perf_without')::numeric) END)))";
