/*
 * validate.c — the checks of pd-validate (see validate.h for what they are).
 *
 * The stream gives videos first and patterns later, so videos are kept as
 * their JSON text (embedding already cut out by lib/record.c) with the few
 * numbers the checks need; when the run starts, each usable video is parsed
 * once, its features extracted once (lib/features.h), and tested against the
 * patterns of each cluster it belongs to, which collects, per pattern, the
 * sorted lists of mining and holdout videos that have the feature.  Every
 * count after that (2x2 tables, the top channel, the table without it, video
 * set overlaps) comes from those lists and the clusters' member lists.
 *
 * Clusters are keyed "level/id" (a video's "cluster" object gives one key
 * per level and the parent links micro -> meso -> macro; lib/video.c refuses
 * any other form of "cluster").
 */
#include "validate.h"
#include "fdr.h"
#include "pattern.h"
#include "features.h"
#include "pd.h"
#include "stats.h"
#include "sort.h"
#include "strmap.h"
#include "video.h"
#include "timeutil.h"
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ivec {
	int *v;
	size_t n, cap;
} ivec;

static void ivec_push(ivec *a, int x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 8;
		a->v = xreallocarray(a->v, a->cap, sizeof *a->v);
	}
	a->v[a->n++] = x;
}

typedef struct vid {
	char *text;
	int channel;	/* -1: none */
	double perf;	/* NAN: none */
	int holdout;
	int ck[3], nck;
} vid;

/* a 2x2 table and its test */
typedef struct table {
	long a, b, c, d;
	double lift, p;
} table;

typedef struct pat {
	cJSON *rec;
	const char *id;
	pd_feature *f;
	char *canon;
	char *ngram;		/* value of an ngram feature, or NULL */
	int positive;
	double p, threshold, q, confidence;
	double p_cl;		/* the mining rank test with a channel's videos as one unit, NAN */
	double weight;		/* of the weighted BH step */
	int ck[3], nck;
	int root;
	ivec mine_with, hold_with;
	cJSON *reasons;
	int passed;
	int replicated;		/* the holdout test held */
	int redundant_of;
	int broad_of;		/* the child cluster (key) its effect lives in, -1 */
	/* for ordering and the description */
	table mine, hold;
	int hold_tested;
	int provisional;	/* passed every check but could not be tested on newer videos */
	double hold_p, hold_ps;	/* the holdout rank test: p, probability of superiority */
	long hold_n1, hold_n0;
} pat;

typedef struct cluster {
	int parent;	/* key index, -1 */
	ivec members;	/* usable videos */
	ivec pats;	/* patterns listening on this key */
} cluster;

struct pd_validator {
	pd_validate_opts o;
	vid *vids;
	size_t nv, cv;
	pd_strmap *channels, *vids_by_id, *ckeys, *pat_ids;
	cluster *cl;
	size_t ccap;
	pat *pats;
	size_t np, cp;
	double tests, tests_topic;
	int have_tests, unweighted;
	size_t videos_seen, holdout_seen;
	/* the z of every mining test (mine_summary's z_hist), summed */
	double zh[PD_VALIDATE_ZH_MAX], zh_lo, zh_width;
	int zh_n, zh_bad;
};

int pd_fdr_test_parse(const char *s)
{
	if (!strcmp(s, "both"))
		return PD_FDR_TEST_BOTH;
	if (!strcmp(s, "fisher"))
		return PD_FDR_TEST_FISHER;
	if (!strcmp(s, "rank"))
		return PD_FDR_TEST_RANK;
	return -1;
}

void pd_validate_opts_default(pd_validate_opts *o)
{
	memset(o, 0, sizeof *o);
	o->fdr = 0.25;
	o->fdr_method = PD_FDR_BH;
	o->min_holdout = 5;
	o->replication_alpha = 0.05;
	o->fdr_test = PD_FDR_TEST_RANK;
	o->max_channel_share = 0.5;
	o->stability_alpha = 0.05;
	o->overlap = 0.8;
	o->form_budget = 0.5;
	o->next_ratio = 1;
}

pd_validator *pd_validator_new(const pd_validate_opts *o)
{
	pd_validator *v = xcalloc(1, sizeof *v);
	v->o = *o;
	v->channels = pd_strmap_new();
	v->vids_by_id = pd_strmap_new();
	v->ckeys = pd_strmap_new();
	v->pat_ids = pd_strmap_new();
	return v;
}

void pd_validator_free(pd_validator *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nv; i++)
		free(v->vids[i].text);
	free(v->vids);
	for (int i = 0; i < pd_strmap_size(v->ckeys); i++) {
		free(v->cl[i].members.v);
		free(v->cl[i].pats.v);
	}
	free(v->cl);
	for (size_t i = 0; i < v->np; i++) {
		pat *p = &v->pats[i];
		cJSON_Delete(p->rec);
		pd_feature_free(p->f);
		free(p->canon);
		free(p->ngram);
		free(p->mine_with.v);
		free(p->hold_with.v);
		cJSON_Delete(p->reasons);
	}
	free(v->pats);
	pd_strmap_free(v->channels);
	pd_strmap_free(v->vids_by_id);
	pd_strmap_free(v->ckeys);
	pd_strmap_free(v->pat_ids);
	free(v);
}

/* ckey: the index of cluster key "level/id", created when absent */
static int ckey(pd_validator *v, const char *level, const char *id)
{
	pd_buf b = PD_BUF_INIT;
	pd_buf_printf(&b, "%s/%s", level, id);
	int added;
	int k = pd_strmap_intern(v->ckeys, b.p, b.len, &added);
	pd_buf_release(&b);
	if ((size_t)k >= v->ccap) {
		size_t nc = v->ccap ? v->ccap * 2 : 64;
		v->cl = xreallocarray(v->cl, nc, sizeof *v->cl);
		memset(v->cl + v->ccap, 0, (nc - v->ccap) * sizeof *v->cl);
		for (size_t i = v->ccap; i < nc; i++)
			v->cl[i].parent = -1;
		v->ccap = nc;
	}
	return k;
}

static const char *const levels[3] = { "macro", "meso", "micro" };

/* the cluster keys of a video's cluster object c (may be NULL) into ck;
   returns how many */
static int video_ckeys(pd_validator *v, const cJSON *c, int ck[3])
{
	int nck = 0;
	if (cJSON_IsObject(c)) {
		int prev = -1;
		for (int l = 0; l < 3; l++) {
			const char *id = pd_json_str(c, levels[l]);
			if (!id || !*id)
				continue;
			int k = ckey(v, levels[l], id);
			if (prev >= 0 && v->cl[k].parent < 0)
				v->cl[k].parent = prev;
			prev = k;
			ck[nck++] = k;
		}
	}
	return nck;
}

/* a video read (pv, its cluster object c), counted and, when usable, kept
   with the JSON text text() makes of it */
static void video_add(pd_validator *v, const pd_video *pv, const cJSON *c,
		      char *(*text)(const void *), const void *src)
{
	v->videos_seen++;
	if (pv->holdout)
		v->holdout_seen++;
	int ck[3];
	int nck = video_ckeys(v, c, ck);
	int usable = nck > 0 && !isnan(pv->perf);
	if (usable) {
		if (v->nv == v->cv) {
			v->cv = v->cv ? v->cv * 2 : 1024;
			v->vids = xreallocarray(v->vids, v->cv, sizeof *v->vids);
		}
		vid *x = &v->vids[v->nv];
		x->text = text(src);
		x->channel = pv->channel_id && *pv->channel_id
				     ? pd_strmap_intern(v->channels, pv->channel_id,
							strlen(pv->channel_id), NULL)
				     : -1;
		x->perf = pv->perf;
		x->holdout = pv->holdout;
		memcpy(x->ck, ck, sizeof ck);
		x->nck = nck;
		int added;
		int idx = pd_strmap_intern(v->vids_by_id, pv->id, strlen(pv->id), &added);
		(void)idx;	/* dense: equals v->nv for a new id */
		if (added)
			v->nv++;
		else
			free(x->text);	/* a repeated id: the first one counts */
	}
}

static char *tree_text(const void *src)
{
	return cJSON_PrintUnformatted(src);
}

int pd_validator_add_video(pd_validator *v, const cJSON *rec, pd_err *err)
{
	pd_video pv;
	if (pd_video_from_json(rec, &pv, err) < 0)
		return -1;
	video_add(v, &pv, cJSON_GetObjectItemCaseSensitive(rec, "cluster"), tree_text, rec);
	pd_video_release(&pv);
	return 0;
}

/* the scanned members (the embedding left out) as one object text: parsed,
   the same tree as pd_record_parse's */
static char *scan_text(const void *src)
{
	const pd_jobj *o = src;
	size_t n = 3;	/* braces and the NUL */
	for (int i = 0; i < o->n; i++)
		n += o->m[i].keylen + o->m[i].vallen + 4;
	char *t = xmalloc(n), *p = t;	/* exactly: every kept video holds one */
	*p++ = '{';
	for (int i = 0; i < o->n; i++) {
		if (i)
			*p++ = ',';
		*p++ = '"';
		memcpy(p, o->m[i].key, o->m[i].keylen);
		p += o->m[i].keylen;
		*p++ = '"';
		*p++ = ':';
		memcpy(p, o->m[i].val, o->m[i].vallen);
		p += o->m[i].vallen;
	}
	*p++ = '}';
	*p = '\0';
	return t;
}

int pd_validator_add_video_scanned(pd_validator *v, pd_jobj *o, pd_err *err)
{
	pd_video pv;
	if (pd_video_from_jobj(o, &pv, err) < 0)
		return -1;
	pd_jv cj;
	cJSON *c = pd_jobj_get(o, "cluster", &cj) ? cJSON_ParseWithLength(cj.raw, cj.rawlen) : NULL;
	video_add(v, &pv, c, scan_text, o);
	cJSON_Delete(c);
	pd_video_release(&pv);
	return 0;
}

void pd_validator_add_cluster(pd_validator *v, const cJSON *rec)
{
	const char *id = pd_json_str(rec, "id"), *level = pd_json_str(rec, "level");
	const char *parent = pd_json_str(rec, "parent");
	if (!id || !level || !parent || !*parent)
		return;
	int l = -1;
	for (int i = 0; i < 3; i++)
		if (!strcmp(level, levels[i]))
			l = i;
	if (l <= 0)
		return;
	int k = ckey(v, levels[l], id), pk = ckey(v, levels[l - 1], parent);
	v->cl[k].parent = pk;
}

void pd_validator_add_tests(pd_validator *v, double tests, double tests_topic)
{
	if (tests > 0 && isfinite(tests)) {
		v->tests += tests;
		v->have_tests = 1;
		if (isfinite(tests_topic))
			v->tests_topic += tests_topic;
		else
			v->unweighted = 1;
	}
}

double pd_validator_share_unmined(const pd_validator *v, double mine_share)
{
	return mine_share < v->o.max_channel_share ? v->o.max_channel_share : NAN;
}

int pd_validator_add_zhist(pd_validator *v, const double *counts, int nbins, double lo, double width)
{
	if (nbins < 8 || nbins > PD_VALIDATE_ZH_MAX || !isfinite(lo) || !(width > 0) || !isfinite(width))
		return -1;
	for (int b = 0; b < nbins; b++)
		if (!(counts[b] >= 0) || !isfinite(counts[b]))
			return -1;
	if (v->zh_n && (v->zh_n != nbins || v->zh_lo != lo || v->zh_width != width)) {
		v->zh_bad = 1;	/* shards binned differently: no shrinkage */
		return -1;
	}
	v->zh_n = nbins;
	v->zh_lo = lo;
	v->zh_width = width;
	for (int b = 0; b < nbins; b++)
		v->zh[b] += counts[b];
	return 0;
}

int pd_validator_add_pattern(pd_validator *v, cJSON *rec, pd_err *err)
{
	const char *id = pd_json_str(rec, "id");
	if (!id || !*id) {
		cJSON_Delete(rec);
		return pd_err_set(err, PD_EREC, "pattern has no string \"id\"");
	}
	int added;
	pd_strmap_intern(v->pat_ids, id, strlen(id), &added);
	if (!added) {
		pd_err_set(err, PD_EREC, "duplicate pattern id '%s'", id);
		cJSON_Delete(rec);
		return -1;
	}
	const char *cl = pd_json_str(rec, "cluster");
	if (!cl || !*cl) {
		cJSON_Delete(rec);
		return pd_err_set(err, PD_EREC, "pattern has no string \"cluster\"");
	}
	const char *dir = pd_json_str(rec, "direction");
	int positive = 1;
	if (dir && !strcmp(dir, "negative"))
		positive = 0;
	else if (dir && strcmp(dir, "positive")) {
		pd_err_set(err, PD_EREC, "pattern '%s': direction '%s' is not positive or negative", id, dir);
		cJSON_Delete(rec);
		return -1;
	}
	const cJSON *stats = cJSON_GetObjectItemCaseSensitive(rec, "stats");
	const cJSON *pj = cJSON_GetObjectItemCaseSensitive(stats, "p");
	if (!cJSON_IsNumber(pj) || !(pj->valuedouble >= 0 && pj->valuedouble <= 1)) {
		cJSON_Delete(rec);
		return pd_err_set(err, PD_EREC, "pattern has no \"stats\".\"p\" in [0, 1]");
	}
	pd_err ferr;
	if (pd_pattern_check(rec, 0, &ferr) < 0) {
		pd_err_set(err, PD_EREC, "%s", ferr.msg);
		cJSON_Delete(rec);
		return -1;
	}
	pd_feature *f = pd_feature_from_json(cJSON_GetObjectItemCaseSensitive(rec, "feature"), &ferr);
	if (!f) {
		pd_err_set(err, PD_EREC, "pattern feature: %s", ferr.msg);
		cJSON_Delete(rec);
		return -1;
	}
	if (v->np == v->cp) {
		v->cp = v->cp ? v->cp * 2 : 256;
		v->pats = xreallocarray(v->pats, v->cp, sizeof *v->pats);
	}
	pat *p = &v->pats[v->np];
	memset(p, 0, sizeof *p);
	p->rec = rec;
	p->id = pd_json_str(rec, "id");
	p->f = f;
	pd_buf b = PD_BUF_INIT;
	pd_feature_canonical(f, &b);
	p->canon = pd_buf_detach(&b);
	const cJSON *fj = cJSON_GetObjectItemCaseSensitive(rec, "feature");
	const char *kind = pd_json_str(fj, "kind"), *val = pd_json_str(fj, "value");
	if (kind && val && !strcmp(kind, "ngram"))
		p->ngram = xstrdup(val);
	p->positive = positive;
	p->p = pj->valuedouble;
	const cJSON *prj = cJSON_GetObjectItemCaseSensitive(stats, "p_rank");
	if (cJSON_IsNumber(prj) && prj->valuedouble >= 0 && prj->valuedouble <= 1) {
		if (v->o.fdr_test == PD_FDR_TEST_RANK)
			p->p = prj->valuedouble;
		else if (v->o.fdr_test == PD_FDR_TEST_BOTH)
			p->p = fmin(1.0, 2.0 * fmin(p->p, prj->valuedouble));
	}
	p->threshold = pd_json_num(stats, "threshold", 2.0);
	if (!(p->threshold > 0))
		p->threshold = 2.0;
	p->redundant_of = -1;
	p->broad_of = -1;
	p->p_cl = NAN;
	p->reasons = cJSON_CreateArray();
	const char *level = pd_json_str(rec, "level");
	int l = -1;
	for (int i = 0; level && i < 3; i++)
		if (!strcmp(level, levels[i]))
			l = i;
	/* listen on the level's key (on every level's when it has none) */
	size_t me = v->np;
	int keys[3], nk = 0;
	if (l >= 0)
		keys[nk++] = ckey(v, levels[l], cl);
	else
		for (int i = 0; i < 3; i++)
			keys[nk++] = ckey(v, levels[i], cl);
	p->nck = 0;
	for (int i = 0; i < nk; i++) {
		ivec_push(&v->cl[keys[i]].pats, (int)me);
		p->ck[p->nck++] = keys[i];
	}
	v->np++;
	return 0;
}

size_t pd_validator_npatterns(const pd_validator *v) { return v->np; }
cJSON *pd_validator_pattern(pd_validator *v, size_t i) { return v->pats[i].rec; }
int pd_validator_passed(const pd_validator *v, size_t i) { return v->pats[i].passed; }
int pd_validator_provisional(const pd_validator *v, size_t i) { return v->pats[i].provisional; }

/* ---- counting ---- */

static double rnd(double x)
{
	if (!isfinite(x))
		return x;
	char t[40];
	snprintf(t, sizeof t, "%.6g", x);
	return strtod(t, NULL);
}

static double dir_p(int positive, long a, long b, long c, long d)
{
	if (a + b == 0 || c + d == 0)
		return 1;
	return positive ? pd_fisher_greater(a, b, c, d) : pd_fisher_less(a, b, c, d);
}

static void table_finish(table *t, int positive)
{
	t->lift = pd_lift(t->a, t->b, t->c, t->d);
	t->p = dir_p(positive, t->a, t->b, t->c, t->d);
}

/* the members of pattern p's clusters, holdout or not, with their table */
static void pat_table(const pd_validator *v, const pat *p, int holdout, const ivec *with,
		      int skip_channel, const unsigned char *excl, table *t)
{
	long n = 0, high = 0, a = 0, n1 = 0;
	for (int k = 0; k < p->nck; k++) {
		const ivec *m = &v->cl[p->ck[k]].members;
		for (size_t i = 0; i < m->n; i++) {
			const vid *x = &v->vids[m->v[i]];
			if (x->holdout != holdout || (skip_channel >= 0 && x->channel == skip_channel) ||
			    (excl && excl[m->v[i]]))
				continue;
			n++;
			high += x->perf >= p->threshold;
		}
	}
	for (size_t i = 0; i < with->n; i++) {
		const vid *x = &v->vids[with->v[i]];
		if ((skip_channel >= 0 && x->channel == skip_channel) || (excl && excl[with->v[i]]))
			continue;
		n1++;
		a += x->perf >= p->threshold;
	}
	t->a = a;
	t->b = n1 - a;
	t->c = high - a;
	t->d = (n - n1) - (high - a);
	table_finish(t, p->positive);
}

/*
 * The rank test of a pattern on a set of videos: the perf of the members of
 * its clusters (holdout or not, without channel skip_channel and the videos
 * marked in excl) that have the feature (in the ascending list with) against
 * those that lack it, one-sided in the pattern's direction.
 */
typedef struct rtest {
	long n1, n0;
	double p, ps;		/* p, probability of superiority U / (n1 n0) */
	double p_cl;		/* p of the channel-clustered test (only when asked) */
} rtest;

static void pat_rank(const pd_validator *v, const pat *p, int holdout, const ivec *with,
		     int skip_channel, const unsigned char *excl, int clustered, rtest *t)
{
	size_t cap = with->n + 1;
	for (int k = 0; k < p->nck; k++)
		cap += v->cl[p->ck[k]].members.n;
	double *x = xmalloc(cap * sizeof *x), *y = xmalloc(cap * sizeof *y);
	int *gx = clustered ? xmalloc(cap * sizeof *gx) : NULL, *gy = clustered ? xmalloc(cap * sizeof *gy) : NULL;
	size_t nx = 0, ny = 0;
	for (int k = 0; k < p->nck; k++) {
		const ivec *m = &v->cl[p->ck[k]].members;
		size_t j = 0;
		for (size_t i = 0; i < m->n; i++) {
			int vi = m->v[i];
			const vid *q = &v->vids[vi];
			while (j < with->n && with->v[j] < vi)
				j++;
			if (q->holdout != holdout || (skip_channel >= 0 && q->channel == skip_channel) ||
			    (excl && excl[vi]))
				continue;
			/* a video without a channel is a group of its own */
			int g = q->channel >= 0 ? q->channel : -2 - vi;
			if (j < with->n && with->v[j] == vi) {
				if (gx)
					gx[nx] = g;
				x[nx++] = q->perf;
			} else {
				if (gy)
					gy[ny] = g;
				y[ny++] = q->perf;
			}
		}
	}
	t->n1 = (long)nx;
	t->n0 = (long)ny;
	double u = 0;
	t->p = pd_mann_whitney(x, nx, y, ny, p->positive, &u);
	t->ps = nx && ny ? u / ((double)nx * (double)ny) : NAN;
	t->p_cl = clustered ? pd_mann_whitney_clustered(x, gx, nx, y, gy, ny, p->positive, NULL) : NAN;
	free(x);
	free(y);
	free(gx);
	free(gy);
}

/* the rank test's verdict: the stated side, and p <= alpha */
static int rank_holds(const pat *p, const rtest *t, double alpha)
{
	return isfinite(t->ps) && (p->positive ? t->ps > 0.5 : t->ps < 0.5) && t->p <= alpha;
}

static cJSON *rtest_json(const rtest *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "n_with", (double)t->n1);
	cJSON_AddNumberToObject(o, "n_without", (double)t->n0);
	cJSON_AddNumberToObject(o, "p_rank", rnd(t->p));
	if (!isnan(t->p_cl))
		cJSON_AddNumberToObject(o, "p_channels", rnd(t->p_cl));
	if (isfinite(t->ps))
		cJSON_AddNumberToObject(o, "superiority", rnd(t->ps));
	else
		cJSON_AddNullToObject(o, "superiority");
	return o;
}

static void collect(pd_validator *v)
{
	pd_vfeat *vf = pd_vfeat_new();
	pd_record r = PD_RECORD_INIT;	/* the text scanned without a tree (record.h) */
	pd_jobj o = PD_JOBJ_INIT;
	for (size_t i = 0; i < v->nv; i++) {
		vid *x = &v->vids[i];
		int any = 0;
		for (int k = 0; k < x->nck; k++) {
			ivec_push(&v->cl[x->ck[k]].members, (int)i);
			any |= v->cl[x->ck[k]].pats.n > 0;
		}
		if (!any)
			continue;
		cJSON *j = NULL;
		pd_video pv;
		if (pd_record_scan(&r, &o, x->text, strlen(x->text)) != 0 ||
		    pd_video_from_jobj(&o, &pv, NULL) < 0) {
			j = cJSON_Parse(x->text);	/* outside the scan's subset */
			if (!j || pd_video_from_json(j, &pv, NULL) < 0) {	/* checked when added */
				cJSON_Delete(j);
				continue;
			}
		}
		pd_vfeat_extract(vf, &pv, v->o.tz_offset_s);
		for (int k = 0; k < x->nck; k++) {
			const ivec *ps = &v->cl[x->ck[k]].pats;
			for (size_t q = 0; q < ps->n; q++) {
				pat *p = &v->pats[ps->v[q]];
				if (pd_feature_has(p->f, vf))
					ivec_push(x->holdout ? &p->hold_with : &p->mine_with, (int)i);
			}
		}
		pd_video_release(&pv);
		cJSON_Delete(j);
	}
	pd_vfeat_free(vf);
	pd_record_release(&r);
	pd_jobj_release(&o);
}

static void reason(pat *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason(pat *p, const char *fmt, ...)
{
	char t[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t, sizeof t, fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(p->reasons, cJSON_CreateString(t));
}

static cJSON *table_json(const table *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "n", (double)(t->a + t->b + t->c + t->d));
	cJSON_AddNumberToObject(o, "n_with", (double)(t->a + t->b));
	cJSON_AddNumberToObject(o, "high_with", (double)t->a);
	cJSON_AddNumberToObject(o, "high_without", (double)t->c);
	cJSON_AddNumberToObject(o, "lift", rnd(t->lift));
	cJSON_AddNumberToObject(o, "p", rnd(t->p));
	return o;
}

/*
 * holdout replication, the real test: the rank test of the pattern on the
 * held-out (newer) videos of its clusters, one-sided in its direction, must
 * give p <= replication_alpha.  Too few newer videos with or without the
 * feature leaves it untested: the pattern is then provisional at best.
 * Returns the validation object.
 */
static cJSON *check_holdout(pd_validator *v, pat *p, int have_holdout)
{
	pat_table(v, p, 1, &p->hold_with, -1, NULL, &p->hold);
	rtest t;
	pat_rank(v, p, 1, &p->hold_with, -1, NULL, v->o.replication_clustered, &t);
	cJSON *o = table_json(&p->hold);
	cJSON_AddItemToObject(o, "rank", rtest_json(&t));
	p->hold_p = t.p;
	p->hold_ps = t.ps;
	p->hold_n1 = t.n1;
	p->hold_n0 = t.n0;
	const char *why = NULL;
	if (!have_holdout)
		why = "no holdout videos in the stream";
	else if (t.n1 < v->o.min_holdout)
		why = "too few holdout videos with the feature";
	else if (t.n0 < v->o.min_holdout)
		why = "too few holdout videos without the feature";
	if (why) {
		cJSON_AddNullToObject(o, "replicated");
		cJSON_AddStringToObject(o, "untested", why);
		if (v->o.require_replication)
			reason(p, "holdout: replication not tested (%s)", why);
		return o;
	}
	p->hold_tested = 1;
	/* the channel-clustered p when asked: a channel's videos count as one */
	if (v->o.replication_clustered)
		t.p = t.p_cl;
	int ok = rank_holds(p, &t, v->o.replication_alpha);
	cJSON_AddBoolToObject(o, "replicated", ok);
	p->replicated = ok;
	if (!ok) {
		if (!(p->positive ? t.ps > 0.5 : t.ps < 0.5))
			reason(p, "holdout: %s effect not replicated (superiority %.3g on %ld newer videos "
				  "with the feature)", p->positive ? "positive" : "negative", t.ps, t.n1);
		else
			reason(p, "holdout: p %.3g above %.3g on %ld newer videos with the feature", t.p,
			       v->o.replication_alpha, t.n1);
	}
	return o;
}

typedef struct chcount {
	int ch;
	int high;
} chcount;

static int cmp_chcount(const void *a, const void *b)
{
	const chcount *x = a, *y = b;
	return x->ch < y->ch ? -1 : x->ch > y->ch;
}

static cJSON *check_channels(pd_validator *v, pat *p)
{
	cJSON *o = cJSON_CreateObject();
	const ivec *w = &p->mine_with;
	if (w->n == 0) {
		/* no videos of this pattern in the stream: pd-mine's figure if any */
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(p->rec, "stats");
		double share = pd_json_num(st, "top_channel_share", NAN);
		cJSON_AddStringToObject(o, "untested", "no mining videos with the feature in the stream");
		if (!isnan(share)) {
			cJSON_AddNumberToObject(o, "share", rnd(share));
			cJSON_AddStringToObject(o, "basis", "stats.top_channel_share");
			if (share > v->o.max_channel_share)
				reason(p, "channel: one channel holds %.0f%% (over %.0f%%)", 100 * share,
				       100 * v->o.max_channel_share);
		}
		return o;
	}
	chcount *cc = xmalloc(w->n * sizeof *cc);
	for (size_t i = 0; i < w->n; i++) {
		const vid *x = &v->vids[w->v[i]];
		cc[i].ch = x->channel;
		cc[i].high = x->perf >= p->threshold;
	}
	qsort(cc, w->n, sizeof *cc, cmp_chcount);
	/* the top channel: most videos with the feature; ties to more high
	   performers (fewer for negative patterns), then the first seen */
	int top = -1;
	long top_high = -1, top_n = -1, nch = 0;
	for (size_t i = 0; i < w->n;) {
		size_t j = i;
		long h = 0;
		while (j < w->n && cc[j].ch == cc[i].ch)
			h += cc[j++].high;
		long cnt = (long)(j - i);
		nch++;
		if (cc[i].ch >= 0) {
			long key2 = p->positive ? h : -h, best2 = p->positive ? top_high : -top_high;
			if (cnt > top_n || (cnt == top_n && key2 > best2)) {
				top = cc[i].ch;
				top_high = h;
				top_n = cnt;
			}
		}
		i = j;
	}
	free(cc);
	cJSON_AddNumberToObject(o, "channels", (double)nch);
	if (top < 0) {
		cJSON_AddStringToObject(o, "untested", "no channel ids");
		return o;
	}
	double share = (double)top_n / (double)w->n;
	cJSON_AddStringToObject(o, "top_channel", pd_strmap_key(v->channels, top));
	cJSON_AddStringToObject(o, "basis", "with");
	cJSON_AddNumberToObject(o, "share", rnd(share));
	cJSON_AddNumberToObject(o, "max_share", v->o.max_channel_share);
	int stable = 1;
	if (share > v->o.max_channel_share) {
		stable = 0;
		reason(p, "channel: '%s' holds %.0f%% of the videos with the feature (over %.0f%%)",
		       pd_strmap_key(v->channels, top), 100 * share, 100 * v->o.max_channel_share);
	}
	rtest t;
	pat_rank(v, p, 0, w, top, NULL, 0, &t);
	cJSON_AddItemToObject(o, "without_top", rtest_json(&t));
	if (!rank_holds(p, &t, v->o.stability_alpha)) {
		stable = 0;
		reason(p, "channel: without '%s' superiority %.3g, p %.3g (needs the same direction and "
			  "p <= %.3g)", pd_strmap_key(v->channels, top), t.ps, t.p, v->o.stability_alpha);
	}
	cJSON_AddBoolToObject(o, "stable", stable);
	return o;
}

/* ---- redundancy ---- */

static int root_of(const pd_validator *v, int k)
{
	for (int s = 0; s < 8 && v->cl[k].parent >= 0; s++)
		k = v->cl[k].parent;
	return k;
}

static int ancestor(const pd_validator *v, int a, int b)	/* a is b or above it */
{
	for (int s = 0; s < 8 && b >= 0; s++) {
		if (a == b)
			return 1;
		b = v->cl[b].parent;
	}
	return 0;
}

static int words_contain(const char *big, const char *small)
{
	size_t nb = strlen(big), ns = strlen(small);
	if (ns > nb)
		return 0;
	for (size_t i = 0; i + ns <= nb; i++)
		if (!memcmp(big + i, small, ns) && (i == 0 || big[i - 1] == ' ') &&
		    (i + ns == nb || big[i + ns] == ' '))
			return 1;
	return 0;
}

/* containment: the share of y's videos that are also in x */
static double contained(const ivec *x, const ivec *y)
{
	size_t i = 0, j = 0, inter = 0;
	while (i < x->n && j < y->n) {
		if (x->v[i] < y->v[j])
			i++;
		else if (x->v[i] > y->v[j])
			j++;
		else {
			inter++;
			i++;
			j++;
		}
	}
	return y->n ? (double)inter / (double)y->n : 0;
}

/*
 * explained: 1 when b's effect is gone among the videos that lack a's
 * feature (b is then a proxy of a: long titles where a phrase lengthens
 * them, a format the same words decide).  Only asked when a good share of
 * b's videos have a's feature.  mark: v->nv zeroed bytes, left zeroed.
 */
static int explained(const pd_validator *v, const pat *a, const pat *b, unsigned char *mark)
{
	double share = contained(&a->mine_with, &b->mine_with);
	if (share < 0.2)
		return 0;
	for (size_t i = 0; i < a->mine_with.n; i++)
		mark[a->mine_with.v[i]] = 1;
	rtest t;
	pat_rank(v, b, 0, &b->mine_with, -1, mark, 0, &t);
	for (size_t i = 0; i < a->mine_with.n; i++)
		mark[a->mine_with.v[i]] = 0;
	return !rank_holds(b, &t, v->o.stability_alpha);
}

/* why b (weaker) is the same finding as a (stronger, kept), or NULL */
static const char *same_finding(const pd_validator *v, const pat *a, const pat *b,
				unsigned char *mark)
{
	if (a->positive != b->positive)
		return NULL;
	if (!ancestor(v, a->ck[0], b->ck[0]) && !ancestor(v, b->ck[0], a->ck[0]))
		return NULL;
	if (!strcmp(a->canon, b->canon))
		return "the same feature at a nested level";
	if (a->ngram && b->ngram &&
	    (words_contain(a->ngram, b->ngram) || words_contain(b->ngram, a->ngram)))
		return "an overlapping n-gram";
	if (a->mine_with.n && b->mine_with.n && contained(&a->mine_with, &b->mine_with) >= v->o.overlap)
		return "mostly the same videos";
	if (a->mine_with.n && b->mine_with.n && explained(v, a, b, mark))
		return "an effect that vanishes without the feature";
	return NULL;
}

static int cmp_strength(const void *x, const void *y, void *ctx)
{
	const pd_validator *sort_ctx = ctx;
	const pat *a = &sort_ctx->pats[*(const int *)x], *b = &sort_ctx->pats[*(const int *)y];
	if (a->q != b->q)
		return a->q < b->q ? -1 : 1;
	if (a->p != b->p)
		return a->p < b->p ? -1 : 1;
	long na = a->mine.a + a->mine.b, nb = b->mine.a + b->mine.b;
	if (na != nb)
		return na > nb ? -1 : 1;
	return strcmp(a->id, b->id);
}

/*
 * group: the greedy grouping into findings of the patterns with cand[i] set,
 * strongest first.  With mark_reasons, the weaker members of a finding are
 * rejected as redundant; without, only *nrep (representatives) and *nrep_ok
 * (representatives whose replication held) are counted.
 */
static void group(pd_validator *v, const unsigned char *cand, int mark_reasons, size_t *nrep,
		  size_t *nrep_ok)
{
	int *ord = xmalloc((v->np + 1) * sizeof *ord);
	size_t n = 0;
	for (size_t i = 0; i < v->np; i++)
		if (cand[i])
			ord[n++] = (int)i;
	pd_qsort_r(ord, n, sizeof *ord, cmp_strength, v);
	/* kept patterns grouped by root cluster */
	int nroots = pd_strmap_size(v->ckeys);
	ivec *kept = xcalloc((size_t)nroots + 1, sizeof *kept);
	unsigned char *mark = xcalloc(v->nv + 1, 1);
	for (size_t r = 0; r < n; r++) {
		pat *p = &v->pats[ord[r]];
		ivec *g = &kept[p->root];
		const char *why = NULL;
		size_t k;
		for (k = 0; k < g->n && !why; k++)
			why = same_finding(v, &v->pats[g->v[k]], p, mark);
		if (why) {
			pat *o = &v->pats[g->v[k - 1]];
			/*
			 * The whole phrase speaks for the finding: "stranger
			 * things" rather than "things" when most of the shorter
			 * n-gram's videos have the longer one.
			 */
			if (p->ngram && o->ngram && strlen(p->ngram) > strlen(o->ngram) &&
			    words_contain(p->ngram, o->ngram) &&
			    contained(&p->mine_with, &o->mine_with) >= v->o.overlap) {
				if (mark_reasons) {
					o->redundant_of = ord[r];
					reason(o, "redundant: the whole phrase of %s, which says it", p->id);
				}
				g->v[k - 1] = ord[r];
				continue;
			}
			if (mark_reasons) {
				p->redundant_of = g->v[k - 1];
				reason(p, "redundant: %s as %s, which has stronger evidence", why, o->id);
			}
		} else {
			ivec_push(g, ord[r]);
			if (nrep) {
				(*nrep)++;
				*nrep_ok += (size_t)p->replicated;
			}
		}
	}
	for (int i = 0; i < nroots; i++)
		free(kept[i].v);
	free(kept);
	free(mark);
	free(ord);
}

/*
 * proxies: a feature that only stands in for stronger features overlapping
 * it (a length band for the phrase that lengthens titles, a topic's tag for
 * the feature that does well inside the topic, a pair for its stronger part,
 * a macro pattern for the meso one beneath it) is rejected.  For a pattern b
 * that passed so far, the others it is tested against are the screened
 * patterns (q within the FDR level, whatever became of them later) that are
 * stronger (the order of the redundancy step), of the same direction, in the
 * same or a nested cluster, with another feature, and share at least 5% of
 * b's mining videos.  A stratified test in its simplest form, both ways:
 *
 *   first, which of them b explains: a stronger pattern a whose effect is
 *   gone among the mining videos without b's feature while b's holds without
 *   a's (or cannot be tested there, b lying inside a) is the stand-in, not b
 *   ("long titles" for the phrase "how to" that lengthens them, a topic's
 *   tag for the Shorts of that topic): a is rejected, as long as b stands;
 *
 *   then b against the rest, R: b's rank test among the mining videos that
 *   have none of R's features must keep its side with p <= stability_alpha,
 *   and, where the newer videos allow the test (min_holdout with b's feature
 *   and without, outside R's), replicate there as the holdout check asks
 *   (p <= replication_alpha): what b claims beyond R is then its own, on the
 *   older videos and on the newer ones.  A b with fewer than min_holdout
 *   videos outside R is left to the redundancy step when a single one of R
 *   holds most of its videos (share >= overlap) or shares an n-gram with it,
 *   else it is rejected: its videos are those of several stronger findings
 *   (a format of long titles over two phrases that each do well).
 *
 * mark: scratch bytes, one per video, zero on entry and on return.
 */
static void mark_videos(const pd_validator *v, const ivec *list, int hold, unsigned char *mark,
			unsigned char val)
{
	for (size_t u = 0; u < list->n; u++) {
		const pat *x = &v->pats[list->v[u]];
		const ivec *w = hold ? &x->hold_with : &x->mine_with;
		for (size_t j = 0; j < w->n; j++)
			mark[w->v[j]] = val;
	}
}

/* b's rank test (mining or holdout videos) without the marked videos:
   1 it holds at alpha, 0 it does not, -1 too few videos to tell */
static int holds_outside(const pd_validator *v, const pat *b, int hold, const unsigned char *mark,
			 double alpha, int clustered, rtest *t)
{
	pat_rank(v, b, hold, hold ? &b->hold_with : &b->mine_with, -1, mark, clustered, t);
	if (t->n1 < v->o.min_holdout || t->n0 < v->o.min_holdout)
		return -1;
	if (clustered)
		t->p = t->p_cl;
	return rank_holds(b, t, alpha);
}

static int is_stronger(pd_validator *v, int a, int b)
{
	return cmp_strength(&a, &b, v) < 0;
}

static void proxies(pd_validator *v, unsigned char *mark)
{
	int *drop = xmalloc((v->np + 1) * sizeof *drop);	/* the pattern it stands in for, -1 */
	for (size_t i = 0; i < v->np; i++)
		drop[i] = -1;
	ivec one = { 0 };
	for (size_t i = 0; i < v->np; i++) {
		pat *b = &v->pats[i];
		if (cJSON_GetArraySize(b->reasons) > 0 || !b->mine_with.n)
			continue;
		ivec S = { 0 }, R = { 0 }, E = { 0 };
		for (size_t k = 0; k < v->np; k++) {
			const pat *a = &v->pats[k];
			if (k == i || a->q > v->o.fdr || a->positive != b->positive || !a->mine_with.n ||
			    !strcmp(a->canon, b->canon) ||
			    (!ancestor(v, a->ck[0], b->ck[0]) && !ancestor(v, b->ck[0], a->ck[0])) ||
			    !is_stronger(v, (int)k, (int)i) || contained(&a->mine_with, &b->mine_with) < 0.05)
				continue;
			ivec_push(&S, (int)k);
		}
		/* the stronger ones that only stand in for b */
		for (size_t u = 0; u < S.n; u++) {
			const pat *a = &v->pats[S.v[u]];
			rtest t;
			int ha = 1, hb = 1;
			if (contained(&a->mine_with, &b->mine_with) >= v->o.overlap) {
				one.n = 0;
				ivec_push(&one, (int)i);
				mark_videos(v, &one, 0, mark, 1);
				ha = holds_outside(v, a, 0, mark, v->o.stability_alpha, 0, &t);
				mark_videos(v, &one, 0, mark, 0);
			}
			if (ha == 0) {
				one.n = 0;
				ivec_push(&one, S.v[u]);
				mark_videos(v, &one, 0, mark, 1);
				hb = holds_outside(v, b, 0, mark, v->o.stability_alpha, 0, &t);
				mark_videos(v, &one, 0, mark, 0);
			}
			ivec_push(ha == 0 && hb != 0 ? &E : &R, S.v[u]);
		}
		const char *why = NULL;
		int best = -1;
		double best_share = 0;
		for (size_t u = 0; u < R.n; u++) {
			double sh = contained(&v->pats[R.v[u]].mine_with, &b->mine_with);
			if (sh > best_share)
				best_share = sh, best = R.v[u];
		}
		if (R.n) {
			rtest t;
			mark_videos(v, &R, 0, mark, 1);
			int h = holds_outside(v, b, 0, mark, v->o.stability_alpha, 0, &t);
			mark_videos(v, &R, 0, mark, 0);
			if (h == 0) {
				why = "an effect that vanishes without the feature of";
			} else if (h < 0 && t.n1 < v->o.min_holdout) {
				int inside = 0;
				for (size_t u = 0; u < R.n && !inside; u++) {
					const pat *a = &v->pats[R.v[u]];
					inside = contained(&a->mine_with, &b->mine_with) >= v->o.overlap ||
						 (a->ngram && b->ngram && (words_contain(a->ngram, b->ngram) ||
									   words_contain(b->ngram, a->ngram)));
				}
				if (!inside)
					why = "no videos of its own beyond those of";
			} else if (h > 0) {
				mark_videos(v, &R, 1, mark, 1);
				h = holds_outside(v, b, 1, mark, v->o.replication_alpha,
						  v->o.replication_clustered, &t);
				mark_videos(v, &R, 1, mark, 0);
				if (h == 0)
					why = "on newer videos, an effect that does not hold without the feature of";
			}
		}
		if (why) {
			b->redundant_of = best;
			reason(b, "redundant: %s %s%s", why, v->pats[best].id,
			       R.n > 1 ? " and the stronger patterns it overlaps" : "");
		} else {
			for (size_t u = 0; u < E.n; u++)
				if (drop[E.v[u]] < 0)
					drop[E.v[u]] = (int)i;
		}
		free(S.v);
		free(R.v);
		free(E.v);
	}
	for (size_t k = 0; k < v->np; k++) {
		pat *a = &v->pats[k];
		if (drop[k] < 0 || cJSON_GetArraySize(a->reasons) > 0)
			continue;
		a->redundant_of = drop[k];
		reason(a, "redundant: a stand-in for %s, whose feature it overlaps: its effect vanishes "
			  "without it", v->pats[drop[k]].id);
	}
	free(one.v);
	free(drop);
}


/*
 * too_broad: an effect that lives in one child cluster belongs to it, not to
 * the parent (an effect of a meso topic is not one of its macro cluster).
 * For a pattern that passed so far in a cluster with children, the child
 * holding most of its mining videos, when it holds at least half of them, is
 * set aside with all its videos.  The pattern is too broad when among the
 * rest of its cluster its rank test fails (side lost or p above
 * stability_alpha on the mining videos; above replication_alpha on the newer
 * ones where they allow the test) and the effect there is at most half its
 * own on the same videos: an effect as strong outside the child as in it,
 * only harder to show on fewer videos, stays.  A pattern with fewer than
 * min_holdout videos outside that child is kept: what it claims of the
 * cluster is what it claims of the child.  mark: as for proxies.
 */
static const char *ckey_id(const pd_validator *v, int k)	/* "m2.3.7" of "micro/m2.3.7" */
{
	const char *key = pd_strmap_key(v->ckeys, k), *id = strchr(key, '/');
	return id ? id + 1 : key;
}

/* the effect of superiority ps (toward the pattern's side) is at most half
   that of whole (a missing ps counts as no effect) */
static int smaller_half(const pat *b, double ps, double whole)
{
	double e = isfinite(ps) ? (b->positive ? ps - 0.5 : 0.5 - ps) : 0;
	double w = isfinite(whole) ? (b->positive ? whole - 0.5 : 0.5 - whole) : 0;
	return e <= w / 2;
}

static void too_broad(pd_validator *v, unsigned char *mark)
{
	size_t nk = (size_t)pd_strmap_size(v->ckeys);
	long *cnt = xcalloc(nk + 1, sizeof *cnt);
	for (size_t i = 0; i < v->np; i++) {
		pat *b = &v->pats[i];
		if (cJSON_GetArraySize(b->reasons) > 0 || !b->mine_with.n || b->nck != 1)
			continue;
		int best = -1;
		for (size_t j = 0; j < b->mine_with.n; j++) {
			const vid *x = &v->vids[b->mine_with.v[j]];
			for (int k = 0; k + 1 < x->nck; k++) {
				if (x->ck[k] != b->ck[0])
					continue;
				int c = x->ck[k + 1];
				if (++cnt[c] > (best >= 0 ? cnt[best] : 0))
					best = c;
			}
		}
		long top = best >= 0 ? cnt[best] : 0;
		for (size_t j = 0; j < b->mine_with.n; j++) {
			const vid *x = &v->vids[b->mine_with.v[j]];
			for (int k = 0; k + 1 < x->nck; k++)
				if (x->ck[k] == b->ck[0])
					cnt[x->ck[k + 1]] = 0;
		}
		if (best < 0 || 2 * (size_t)top < b->mine_with.n)
			continue;
		const ivec *m = &v->cl[best].members;
		for (size_t j = 0; j < m->n; j++)
			mark[m->v[j]] = 1;
		/* the effect outside the child is absent and at most half the
		   pattern's own (as a distance of the superiority from 1/2), on the
		   mining videos or, where testable, the newer ones */
		rtest t, all;
		const char *why = NULL;
		pat_rank(v, b, 0, &b->mine_with, -1, NULL, 0, &all);
		int h = holds_outside(v, b, 0, mark, v->o.stability_alpha, 0, &t);
		if (h == 0 && smaller_half(b, t.ps, all.ps))
			why = "";
		else if (h >= 0 && holds_outside(v, b, 1, mark, v->o.replication_alpha,
						 v->o.replication_clustered, &t) == 0 &&
			 smaller_half(b, t.ps, b->hold_ps))
			why = "on newer videos ";
		for (size_t j = 0; j < m->n; j++)
			mark[m->v[j]] = 0;
		if (why) {
			b->broad_of = best;
			reason(b, "too broad: %sits effect does not hold outside its child cluster %s, "
				  "which holds %.0f%% of its videos", why, ckey_id(v, best),
			       100.0 * (double)top / (double)b->mine_with.n);
		}
	}
	free(cnt);
}

/* ---- confidence ---- */

static double clamp01(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* the selection correction of a run: Tweedie's formula fitted to its z_hist */
typedef struct shrink {
	int ok;
	double beta[PD_TWEEDIE_DEGREE + 1], zmin, zmax;
} shrink;

static shrink shrink_fit(const pd_validator *v)
{
	shrink s;
	memset(&s, 0, sizeof s);
	if (v->zh_n && !v->zh_bad &&
	    pd_tweedie_fit(v->zh, v->zh_n, v->zh_lo, v->zh_width, s.beta) == 0) {
		s.ok = 1;
		s.zmin = v->zh_lo + v->zh_width;
		s.zmax = v->zh_lo + (v->zh_n - 1) * v->zh_width;
	}
	return s;
}

/* the effective size n1 n0 / (n1 + n0) of a two-group comparison */
static double eff_size(double n1, double n0)
{
	return n1 > 0 && n0 > 0 ? n1 * n0 / (n1 + n0) : 0;
}

/*
 * confidence: the chance that the pattern holds on the next period's newer
 * videos, stated as the probability that a one-sided rank test there, on
 * `ratio` times the mining test's videos, gives p < 0.05 in its direction
 * (what pd's evaluation calls "replicates").
 *
 * The mining test's z is that of the less significant of its two p values,
 * the plain rank test's and the one that counts a channel's videos as one
 * unit (a feature carried by a few channels is weaker evidence than its
 * video count says), and it is corrected for selection: the pattern was kept
 * because its z was large among the run's many tests, and Tweedie's formula,
 * read off the histogram of all of them (sh), gives the posterior N(E, V) of
 * its true standardised effect mu (without a histogram, E = z, V = 1:
 * Goodman's predictive probability, too hopeful for a chosen effect).  The
 * holdout test, z_h on r_h times the mining test's effective size, updates
 * it: mu ~ N((E/V + sqrt(r_h) z_h) / (1/V + r_h), 1 / (1/V + r_h)).  The next
 * period's z is then N(sqrt(ratio) E, 1 + ratio V).
 */
static double confidence(const pat *p, const shrink *sh, double ratio, cJSON *why)
{
	/* the evidence of the mining test as a channel's videos allow it: the
	   less significant of the plain and the channel-clustered p */
	int by_channels = isfinite(p->p_cl) && p->p_cl > p->p;
	double z = -pd_norm_quantile(clamp01(by_channels ? p->p_cl : p->p, 1e-300, 1 - 1e-16));
	double e = z, var = 1;
	if (sh->ok)
		pd_tweedie_post(sh->beta, sh->zmin, sh->zmax, z, &e, &var);
	double e_mine = e, v_mine = var;
	double em = eff_size((double)(p->mine.a + p->mine.b), (double)(p->mine.c + p->mine.d));
	double eh = eff_size((double)p->hold_n1, (double)p->hold_n0);
	double rh = em > 0 ? eh / em : 0, zh = NAN;
	if (rh > 0) {
		zh = -pd_norm_quantile(clamp01(p->hold_p, 1e-300, 1 - 1e-16));
		double prec = 1 / var + rh;
		e = (e / var + sqrt(rh) * zh) / prec;
		var = 1 / prec;
	}
	double r = ratio > 0 && isfinite(ratio) ? ratio : 1;
	double conf = 0.5 * erfc((1.6448536 - sqrt(r) * e) / sqrt(1 + r * var) / sqrt(2.0));
	if (why) {
		cJSON_AddStringToObject(why, "method", sh->ok ? "tweedie" : "goodman");
		cJSON_AddNumberToObject(why, "z", rnd(z));
		cJSON_AddStringToObject(why, "z_from", by_channels ? "channels" : "videos");
		cJSON_AddNumberToObject(why, "mu_mining", rnd(e_mine));
		cJSON_AddNumberToObject(why, "var_mining", rnd(v_mine));
		if (rh > 0) {
			cJSON_AddNumberToObject(why, "z_holdout", rnd(zh));
			cJSON_AddNumberToObject(why, "holdout_size", rnd(rh));
		} else {
			cJSON_AddNullToObject(why, "z_holdout");
			cJSON_AddNullToObject(why, "holdout_size");
		}
		cJSON_AddNumberToObject(why, "mu", rnd(e));
		cJSON_AddNumberToObject(why, "var", rnd(var));
		cJSON_AddNumberToObject(why, "next_ratio", rnd(r));
	}
	return clamp01(conf, 1e-3, 1 - 1e-3);
}

/* ---- templates ---- */

/* a count a record states, for its sentence: 0 when absent or not a whole
   number that fits an int (a cast of 1e66 or NaN would be undefined) */
static long count_of(const cJSON *o, const char *key)
{
	double x = pd_json_num(o, key, 0);
	return x >= 0 && x <= INT_MAX ? (long)x : 0;
}

/* the words of a pattern record written by pd-mine 0.2 or later (stats.effect) */
static int words_of(const pat *p, pd_pattern_words *w)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(p->rec, "stats");
	double eff, lo, hi;
	if (pd_pattern_effect(p->rec, &eff, &lo, &hi) != 2)
		return 0;
	const cJSON *win = cJSON_GetObjectItemCaseSensitive(p->rec, "window");
	const char *kind = pd_json_str(p->rec, "kind"), *from = pd_json_str(win, "from"),
		   *to = pd_json_str(win, "to");
	memset(w, 0, sizeof *w);
	w->feature = p->f;
	w->label = pd_json_str(p->rec, "label");
	w->level = pd_json_str(p->rec, "level");
	w->positive = p->positive;
	w->effect = eff;
	w->lo = lo;
	w->hi = hi;
	w->ci_level = 0.95;
	w->n = count_of(st, "n");
	w->n_with = count_of(st, "n_with");
	w->channels = (int)count_of(st, "channels");
	w->trend = kind ? !strcmp(kind, "trend") : -1;
	w->win_from = w->win_to = NAN;
	if (from)
		pd_time_parse(from, &w->win_from);
	if (to)
		pd_time_parse(to, &w->win_to);
	w->btest = (int)count_of(win, "testable");
	w->bheld = (int)count_of(win, "held");
	return 1;
}

static void describe(pd_validator *v, pat *p)
{
	pd_buf b = PD_BUF_INIT;
	pd_pattern_words w;
	if (words_of(p, &w)) {
		pd_pattern_name(&w, &b);
		pd_json_set(p->rec, "name", cJSON_CreateString(b.p));
		pd_buf_reset(&b);
		pd_pattern_sentence(&w, &b);
		if (p->hold_tested)
			pd_buf_printf(&b, " On %ld newer videos with it, %s (rank test p = %.2g).", p->hold_n1,
				      p->replicated ? "it held" : "it did not hold", p->hold_p);
		else
			pd_buf_adds(&b, " Not yet tested on newer videos.");
		pd_json_set(p->rec, "description", cJSON_CreateString(b.p));
		pd_buf_release(&b);
		return;
	}
	if (!pd_json_str(p->rec, "name") || !*pd_json_str(p->rec, "name")) {
		pd_feature_name(p->f, &b);
		pd_json_set(p->rec, "name", cJSON_CreateString(b.p ? b.p : p->id));
		pd_buf_reset(&b);
	}
	/* the counts re-made here from the stream's videos, else pd-mine's */
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(p->rec, "stats");
	const table *t = &p->mine;
	double n_with = (double)(t->a + t->b), hw = (double)t->a, n = n_with + (double)(t->c + t->d);
	double hwo = (double)t->c, lift = t->lift;
	if (n_with == 0) {
		n_with = pd_json_num(st, "n_with", NAN);
		hw = pd_json_num(st, "high_with", NAN);
		n = pd_json_num(st, "n", NAN);
		hwo = pd_json_num(st, "high_without", NAN);
		lift = pd_json_num(st, "lift", NAN);
	}
	/* "Videos with titles containing "how to" in cluster c7 are high performers
	   2.1 times as often as the cluster (34% of 120 vs 12%)" */
	pd_buf_adds(&b, "Videos with ");
	pd_feature_describe(p->f, &b);
	pd_buf_printf(&b, " in cluster %s", pd_json_str(p->rec, "cluster"));
	if (!isnan(lift) && lift > 0)
		pd_buf_printf(&b, " are high performers %.2g times as often as the cluster", lift);
	else
		pd_buf_adds(&b, p->positive ? " perform better" : " perform worse");
	if (!isnan(n_with) && !isnan(hw) && n_with > 0 && !isnan(n) && !isnan(hwo) && n > n_with)
		pd_buf_printf(&b, " (%.0f%% of %.0f videos, against %.0f%% without)",
			      100 * hw / n_with, n_with, 100 * hwo / (n - n_with));
	if (p->hold_tested)
		pd_buf_printf(&b, "; on %ld newer videos with it the lift was %.2g",
			      p->hold.a + p->hold.b, p->hold.lift);
	pd_buf_adds(&b, ".");
	pd_json_set(p->rec, "description", cJSON_CreateString(b.p));
	pd_buf_release(&b);
}

static void set_pattern_data(pat *p)
{
	cJSON *pdj = cJSON_GetObjectItemCaseSensitive(p->rec, "pattern_data");
	if (!cJSON_IsObject(pdj)) {
		pdj = cJSON_CreateObject();
		pd_json_set(p->rec, "pattern_data", pdj);
	}
	pd_json_set(pdj, "name", cJSON_CreateString(pd_json_str(p->rec, "name")));
	pd_json_set(pdj, "description", cJSON_CreateString(pd_json_str(p->rec, "description")));
	pd_json_set(pdj, "confidence", cJSON_CreateNumber(rnd(p->confidence)));
}

int pd_validator_run(pd_validator *v, pd_validate_summary *sum)
{
	memset(sum, 0, sizeof *sum);
	collect(v);
	sum->patterns = v->np;
	sum->videos = v->videos_seen;
	sum->holdout_videos = v->holdout_seen;
	/* BH over m tests */
	double *pv = xmalloc((v->np + 1) * sizeof *pv), *qv = xmalloc((v->np + 1) * sizeof *qv);
	/*
	 * Weighted Benjamini-Hochberg (Genovese, Roeder and Wasserman 2006):
	 * BH on p_i / w_i with weights that average 1 over all m tests keeps
	 * the FDR at the level.  The weights are fixed by the test counts
	 * alone, before any p-value is seen: the form features (how a video is
	 * made: far fewer tests, and the advice an analyst can act on) get
	 * form_budget of the budget, the topic features the rest.
	 */
	double m_topic = v->tests_topic, m_form = v->tests - v->tests_topic;
	double w_form = 1, w_topic = 1;
	if (v->have_tests && !v->unweighted && m_topic > 0 && m_form > 0 && v->o.form_budget > 0 &&
	    v->o.form_budget < 1) {
		w_form = v->o.form_budget * v->tests / m_form;
		w_topic = (1 - v->o.form_budget) * v->tests / m_topic;
	}
	for (size_t i = 0; i < v->np; i++) {
		pat *p = &v->pats[i];
		p->weight = pd_feature_is_topic(p->f) ? w_topic : w_form;
		pv[i] = fmin(1.0, p->p / p->weight);
	}
	size_t m = v->have_tests ? (size_t)llround(v->tests) : v->np;
	sum->m_from_summary = v->have_tests;
	m = pd_fdr_qvalues(pv, v->np, m, v->o.fdr_method, qv);
	sum->m = (double)m;
	/* held-out over mining videos; the next period has next_ratio times the holdout's */
	double hold_mine = v->videos_seen > v->holdout_seen && v->holdout_seen
				   ? (double)v->holdout_seen / (double)(v->videos_seen - v->holdout_seen) : 0.25;
	double ratio = v->o.next_ratio * hold_mine;
	int have_holdout = v->holdout_seen > 0;
	unsigned char *pre = xcalloc(v->np + 1, 1);
	for (size_t i = 0; i < v->np; i++) {
		pat *p = &v->pats[i];
		p->q = qv[i];
		p->root = root_of(v, p->ck[0]);
		pat_table(v, p, 0, &p->mine_with, -1, NULL, &p->mine);
		cJSON *val = cJSON_CreateObject();
		cJSON *fdr = cJSON_AddObjectToObject(val, "fdr");
		cJSON_AddNumberToObject(fdr, "q", rnd(p->q));
		cJSON_AddNumberToObject(fdr, "m", (double)m);
		cJSON_AddStringToObject(fdr, "method", v->o.fdr_method == PD_FDR_BY ? "by" : "bh");
		cJSON_AddStringToObject(fdr, "test", v->o.fdr_test == PD_FDR_TEST_FISHER ? "fisher" :
						     v->o.fdr_test == PD_FDR_TEST_RANK ? "rank" : "both");
		cJSON_AddNumberToObject(fdr, "p", rnd(p->p));
		cJSON_AddNumberToObject(fdr, "weight", rnd(p->weight));
		cJSON_AddNumberToObject(fdr, "level", v->o.fdr);
		if (p->q > v->o.fdr) {
			reason(p, "fdr: q %.3g above %.3g (p %.3g, m %zu)", p->q, v->o.fdr, p->p, m);
			sum->rej_fdr++;
		}
		size_t before = (size_t)cJSON_GetArraySize(p->reasons);
		cJSON_AddItemToObject(val, "holdout", check_holdout(v, p, have_holdout));
		if ((size_t)cJSON_GetArraySize(p->reasons) > before) {
			if (p->hold_tested)
				sum->rej_holdout++;
			else
				sum->rej_untested++;
		}
		before = (size_t)cJSON_GetArraySize(p->reasons);
		cJSON_AddItemToObject(val, "channel_stability", check_channels(v, p));
		int channel_ok = (size_t)cJSON_GetArraySize(p->reasons) == before;
		if (!channel_ok)
			sum->rej_channel++;
		/* for the replication share (below): passing FDR and the channel checks */
		pre[i] = p->q <= v->o.fdr && channel_ok && p->hold_tested;
		/* mining counts as re-counted here, next to pd-mine's, and the mining
		   rank test with a channel's videos as one unit */
		cJSON *mine = table_json(&p->mine);
		if (p->mine_with.n) {
			rtest mr;
			pat_rank(v, p, 0, &p->mine_with, -1, NULL, 1, &mr);
			p->p_cl = mr.p_cl;
			cJSON_AddNumberToObject(mine, "p_channels", rnd(mr.p_cl));
		}
		cJSON_AddItemToObject(val, "mining", mine);
		pd_json_set(p->rec, "validation", val);

	}
	shrink sh = shrink_fit(v);
	/* the replication share counts findings, not patterns: "poppy" and
	   "poppy playtime" that fail together are one failure */
	group(v, pre, 0, &sum->holdout_tested, &sum->replicated);
	{
		unsigned char *mark = xcalloc(v->nv + 1, 1);
		too_broad(v, mark);
		proxies(v, mark);
		free(mark);
	}
	for (size_t i = 0; i < v->np; i++)
		pre[i] = cJSON_GetArraySize(v->pats[i].reasons) == 0;
	group(v, pre, 1, NULL, NULL);
	free(pre);
	for (size_t i = 0; i < v->np; i++) {
		pat *p = &v->pats[i];
		cJSON *val = cJSON_GetObjectItemCaseSensitive(p->rec, "validation");
		if (p->redundant_of >= 0) {
			cJSON_AddStringToObject(val, "redundant_with", v->pats[p->redundant_of].id);
			sum->rej_redundant++;
		} else {
			cJSON_AddNullToObject(val, "redundant_with");
		}
		if (p->broad_of >= 0) {
			cJSON_AddStringToObject(val, "too_broad_for", ckey_id(v, p->broad_of));
			sum->rej_broad++;
		}
		cJSON_AddStringToObject(val, "llm", "off");
		int clean = cJSON_GetArraySize(p->reasons) == 0;
		p->passed = clean && p->hold_tested;
		p->provisional = clean && !p->hold_tested;
		cJSON_AddItemToObject(val, "reasons", cJSON_Duplicate(p->reasons, 1));
		cJSON *cw = cJSON_AddObjectToObject(val, "confidence");
		p->confidence = confidence(p, &sh, ratio, cw);
		pd_json_set(p->rec, "status", cJSON_CreateString(p->passed ? "validated" :
								 p->provisional ? "provisional" : "rejected"));
		pd_json_set(p->rec, "q", cJSON_CreateNumber(rnd(p->q)));
		cJSON *st = cJSON_GetObjectItemCaseSensitive(p->rec, "stats");
		if (cJSON_IsObject(st))
			pd_json_set(st, "q", cJSON_CreateNumber(rnd(p->q)));
		pd_json_set(p->rec, "confidence", cJSON_CreateNumber(rnd(p->confidence)));
		describe(v, p);
		set_pattern_data(p);
		if (p->passed)
			sum->validated++;
		else if (p->provisional)
			sum->provisional++;
		else
			sum->rejected++;
	}
	free(pv);
	free(qv);
	return 0;
}

void pd_validator_reject(pd_validator *v, size_t i, const char *why)
{
	pat *p = &v->pats[i];
	cJSON *val = cJSON_GetObjectItemCaseSensitive(p->rec, "validation");
	cJSON *r = cJSON_GetObjectItemCaseSensitive(val, "reasons");
	if (cJSON_IsArray(r))
		cJSON_AddItemToArray(r, cJSON_CreateString(why));
	p->passed = p->provisional = 0;
	pd_json_set(p->rec, "status", cJSON_CreateString("rejected"));
}

cJSON *pd_validator_review_item(pd_validator *v, size_t i)
{
	pat *p = &v->pats[i];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", p->id);
	pd_buf b = PD_BUF_INIT;
	pd_feature_describe(p->f, &b);
	cJSON_AddStringToObject(o, "feature", b.p ? b.p : "");
	pd_buf_release(&b);
	const char *pt = pd_feature_pattern_type(p->f);
	cJSON_AddStringToObject(o, "pattern_type", pt ? pt : "");
	cJSON_AddStringToObject(o, "direction", p->positive ? "positive" : "negative");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(p->rec, "stats");
	cJSON *s = cJSON_AddObjectToObject(o, "stats");
	static const char *const keys[] = { "n", "n_with", "high_with", "base_rate", "lift",
					    "median_perf_with", "median_perf_without", "p",
					    "channels", "threshold" };
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(st, keys[k]);
		if (cJSON_IsNumber(x))
			cJSON_AddNumberToObject(s, keys[k], rnd(x->valuedouble));
	}
	cJSON *ex = cJSON_AddArrayToObject(o, "example_titles");
	const cJSON *pdj = cJSON_GetObjectItemCaseSensitive(p->rec, "pattern_data");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(pdj, "examples"), *e;
	int cnt = 0;
	if (cJSON_IsArray(t)) {
		cJSON_ArrayForEach(e, t) {
			if (cJSON_IsString(e) && cnt < 5) {
				cJSON_AddItemToArray(ex, cJSON_CreateString(e->valuestring));
				cnt++;
			}
		}
	}
	t = cJSON_GetObjectItemCaseSensitive(p->rec, "examples");
	if (cnt == 0 && cJSON_IsArray(t)) {
		cJSON_ArrayForEach(e, t) {
			if (!cJSON_IsString(e) || cnt >= 5)
				continue;
			int k = pd_strmap_find(v->vids_by_id, e->valuestring, strlen(e->valuestring));
			if (k < 0 || (size_t)k >= v->nv)
				continue;
			cJSON *j = cJSON_Parse(v->vids[k].text);
			const char *title = pd_json_str(j, "title");
			if (title) {
				cJSON_AddItemToArray(ex, cJSON_CreateString(title));
				cnt++;
			}
			cJSON_Delete(j);
		}
	}
	return o;
}
