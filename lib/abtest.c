/*
 * abtest.c — title experiments: the permuted-block plan and the always-valid
 * sequential analysis of pd-abtest; see abtest.h for the statistics and the
 * record shapes.
 *
 * Both halves keep units in arrays indexed through pd_strmap (video ids,
 * channels, experiments), so every output is in first-appearance order and
 * independent of hashing.  Numbers are written with fixed printf formats, so
 * the same input gives the same bytes.
 */
#include "abtest.h"
#include "alloc.h"
#include "record.h"
#include "rng.h"
#include "strmap.h"
#include "timeutil.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

static const char *const arm_names[3] = { "control", "treatment", "both" };

int pd_ab_arm_parse(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (!strcmp(s, arm_names[i]))
			return i;
	return -1;
}

const char *pd_ab_arm_name(int arm)
{
	return arm >= 0 && arm < 3 ? arm_names[arm] : "none";
}

/* ---- the sequential test ---- */

double pd_ab_log_lr(double t, double m, double nu, double tau)
{
	if (!(m > 0) || !(nu > 0) || !isfinite(t))
		return 0;
	double g = 1 + m * tau * tau, t2 = t * t;
	return -0.5 * log(g) + 0.5 * (nu + 1) * (log1p(t2 / nu) - log1p(t2 / (nu * g)));
}

double pd_ab_tcrit(double m, double nu, double tau, double alpha)
{
	if (!(m > 0) || !(nu > 0))
		return INFINITY;
	/* L = 1/alpha  <=>  (1 + x) / (1 + x/g) = K, x = t^2/nu,
	 * K = (sqrt(g) / alpha)^(2/(nu+1)); a solution needs K < g */
	double g = 1 + m * tau * tau;
	double km1 = expm1((log(g) - 2 * log(alpha)) / (nu + 1));	/* K - 1 */
	double den = g - 1 - km1;					/* g - K */
	if (!(den > 0))
		return INFINITY;
	return sqrt(nu * km1 * g / den);
}

void pd_ab_seq_init(pd_ab_seq *s, int paired, double tau, double alpha)
{
	memset(s, 0, sizeof *s);
	s->paired = paired;
	s->tau = tau;
	s->alpha = alpha;
	s->lo = -INFINITY;
	s->hi = INFINITY;
}

/* the test's statistics at the current prefix; 0 when not yet defined */
static int seq_stats(const pd_ab_seq *s, double *effect, double *se, double *m, double *nu,
		     double *sd)
{
	double ss;
	if (s->paired) {
		long n = s->n[1];
		if (n < 2)
			return 0;
		*effect = s->mean[1];
		*m = (double)n;
		*nu = (double)(n - 1);
		ss = s->m2[1];
	} else {
		long nt = s->n[PD_AB_TREATMENT], nc = s->n[PD_AB_CONTROL];
		if (nt < 1 || nc < 1 || nt + nc < 3)
			return 0;
		*effect = s->mean[PD_AB_TREATMENT] - s->mean[PD_AB_CONTROL];
		*m = (double)nt * (double)nc / (double)(nt + nc);
		*nu = (double)(nt + nc - 2);
		ss = s->m2[0] + s->m2[1];
	}
	if (!(ss > 0))
		return 0;
	*sd = sqrt(ss / *nu);
	*se = *sd / sqrt(*m);
	return 1;
}

void pd_ab_seq_add(pd_ab_seq *s, int arm, double y)
{
	int k = s->paired ? 1 : (arm == PD_AB_TREATMENT);
	s->n[k]++;
	double d = y - s->mean[k];
	s->mean[k] += d / (double)s->n[k];
	s->m2[k] += d * (y - s->mean[k]);
	double effect, se, m, nu, sd;
	if (!seq_stats(s, &effect, &se, &m, &nu, &sd))
		return;
	double llr = pd_ab_log_lr(effect / se, m, nu, s->tau);
	if (llr > s->log_lr_max)
		s->log_lr_max = llr;
	double half = pd_ab_tcrit(m, nu, s->tau, s->alpha) * se;
	if (isfinite(half)) {
		if (effect - half > s->lo)
			s->lo = effect - half;
		if (effect + half < s->hi)
			s->hi = effect + half;
	}
}

void pd_ab_seq_estimate(const pd_ab_seq *s, pd_ab_est *e)
{
	e->n_t = s->paired ? s->n[1] : s->n[PD_AB_TREATMENT];
	e->n_c = s->paired ? s->n[1] : s->n[PD_AB_CONTROL];
	e->mean_t = !s->paired && s->n[1] ? s->mean[1] : NAN;
	e->mean_c = !s->paired && s->n[0] ? s->mean[0] : NAN;
	e->p = fmin(1, exp(-s->log_lr_max));
	e->ci_current = 0;
	double m, nu;
	if (!seq_stats(s, &e->effect, &e->se, &m, &nu, &e->sd)) {
		e->effect = e->se = e->sd = e->t = e->lo = e->hi = NAN;
		return;
	}
	e->t = e->effect / e->se;
	e->lo = s->lo;
	e->hi = s->hi;
	if (!(e->lo <= e->hi)) {
		/* every effect was excluded at some prefix: the model is off, or the
		 * alpha chance came up; report the last prefix's own interval */
		double half = pd_ab_tcrit(m, nu, s->tau, s->alpha) * e->se;
		e->lo = e->effect - half;
		e->hi = e->effect + half;
		e->ci_current = 1;
	}
}

int pd_ab_decide(const pd_ab_est *e, double alpha, double prefer, int *arm)
{
	*arm = -1;
	if (!isfinite(e->effect))
		return PD_AB_NONE;
	if (e->p < alpha) {
		if (!e->ci_current && e->lo > 0)
			*arm = PD_AB_TREATMENT;
		else if (!e->ci_current && e->hi < 0)
			*arm = PD_AB_CONTROL;
		else
			*arm = e->effect > 0 ? PD_AB_TREATMENT : PD_AB_CONTROL;
		return PD_AB_WINNER;
	}
	if (e->p < prefer && e->effect != 0) {
		*arm = e->effect > 0 ? PD_AB_TREATMENT : PD_AB_CONTROL;
		return PD_AB_PREFERRED;
	}
	return PD_AB_NONE;
}

const char *pd_ab_decision_name(int decision)
{
	return decision == PD_AB_WINNER ? "Winner" : decision == PD_AB_PREFERRED ? "Preferred" : "None";
}

/* ---- writing (numbers: buf.h pd_buf_add_num) ---- */

static void add_str(pd_buf *b, const char *s)
{
	if (s)
		pd_buf_add_json_string(b, s, strlen(s));
	else
		pd_buf_adds(b, "null");
}

static void add_interval(pd_buf *b, double lo, double hi, int as_ratio)
{
	if (isnan(lo) || isnan(hi)) {
		pd_buf_adds(b, "null");
		return;
	}
	/* an unbounded side is null (JSON has no infinity), on both scales */
	pd_buf_addc(b, '[');
	pd_buf_add_num(b, as_ratio && isfinite(lo) ? exp(lo) : lo);
	pd_buf_addc(b, ',');
	pd_buf_add_num(b, as_ratio && isfinite(hi) ? exp(hi) : hi);
	pd_buf_addc(b, ']');
}

/* ---- the plan ---- */

typedef struct plan_unit {
	int channel;		/* stratum index */
	char *published_at;
	char *draft_pattern;	/* the draft's own "pattern_id" */
	char *best;		/* the best-ranked recommendation's pattern */
	double best_rank;
	int wanted;		/* some recommendation names opts.pattern */
} plan_unit;

struct pd_ab_planner {
	pd_ab_plan_opts o;
	pd_strmap *ids, *channels;
	plan_unit *u;
	int cap;
	double next_rank;	/* rank of a recommendation without one: input order */
};

void pd_ab_plan_opts_default(pd_ab_plan_opts *o)
{
	memset(o, 0, sizeof *o);
	o->seed = 1;
	o->block = 4;
}

pd_ab_planner *pd_ab_planner_new(const pd_ab_plan_opts *o)
{
	pd_ab_planner *p = xcalloc(1, sizeof *p);
	p->o = *o;
	if (p->o.block < 2)
		p->o.block = 2;
	p->o.block &= ~1;
	p->ids = pd_strmap_new();
	p->channels = pd_strmap_new();
	return p;
}

void pd_ab_planner_free(pd_ab_planner *p)
{
	if (!p)
		return;
	for (int i = 0; i < pd_strmap_size(p->ids); i++) {
		free(p->u[i].published_at);
		free(p->u[i].draft_pattern);
		free(p->u[i].best);
	}
	free(p->u);
	pd_strmap_free(p->ids);
	pd_strmap_free(p->channels);
	free(p);
}

static plan_unit *plan_unit_of(pd_ab_planner *p, const char *id)
{
	int added;
	int i = pd_strmap_intern(p->ids, id, strlen(id), &added);
	if (added) {
		if (i >= p->cap) {
			p->cap = p->cap ? 2 * p->cap : 64;
			p->u = xreallocarray(p->u, (size_t)p->cap, sizeof *p->u);
		}
		memset(&p->u[i], 0, sizeof p->u[i]);
		p->u[i].channel = -1;
		p->u[i].best_rank = INFINITY;
	}
	return &p->u[i];
}

int pd_ab_draft_id(const cJSON *o, pd_buf *out, pd_err *err)
{
	/* as pd-match names drafts, so its recommendations find them */
	const char *ref = pd_json_str(o, "ref");
	if (!ref || !*ref)
		ref = pd_json_str(o, "id");
	if (ref && *ref) {
		pd_buf_adds(out, ref);
		return 0;
	}
	const char *title = pd_json_str(o, "title");
	if (!title)
		return pd_err_set(err, PD_EREC, "draft has no string \"id\" and no \"title\"");
	pd_buf k = PD_BUF_INIT;
	pd_buf_adds(&k, title);
	pd_buf_printf(&k, "\n%.17g\n", pd_json_num(o, "duration_s", NAN));
	const char *pub = pd_json_str(o, "published_at");
	pd_buf_adds(&k, pub ? pub : "");
	pd_buf_printf(out, "draft:%016llx", (unsigned long long)pd_hash64(k.p, k.len));
	pd_buf_release(&k);
	return 0;
}

/* one recommendation of pattern pid at rank for video vid */
static int plan_recommend(pd_ab_planner *p, const cJSON *o, const char *vid, pd_err *err)
{
	const char *pid = pd_json_str(o, "pattern_id");
	if (!vid || !*vid)
		return pd_err_set(err, PD_EREC, "recommendation has no string \"video_id\"");
	if (!pid || !*pid)
		return pd_err_set(err, PD_EREC, "recommendation for '%s' has no string \"pattern_id\"",
				  vid);
	const cJSON *rk = cJSON_GetObjectItemCaseSensitive(o, "rank");
	if (rk && !cJSON_IsNull(rk) && (!cJSON_IsNumber(rk) || !isfinite(rk->valuedouble)))
		return pd_err_set(err, PD_EREC, "recommendation for '%s': \"rank\" is not a number", vid);
	/* without a rank, earlier recommendations come first, after every ranked one */
	double rank = cJSON_IsNumber(rk) ? rk->valuedouble : 1e15 + p->next_rank;
	p->next_rank++;
	plan_unit *u = plan_unit_of(p, vid);
	if (rank < u->best_rank) {
		free(u->best);
		u->best = xstrdup(pid);
		u->best_rank = rank;
	}
	if (p->o.pattern && !strcmp(pid, p->o.pattern))
		u->wanted = 1;
	return 0;
}

int pd_ab_planner_add(pd_ab_planner *p, const char *type, const cJSON *o, pd_err *err)
{
	if (!strcmp(type, "draft")) {
		pd_buf id = PD_BUF_INIT;
		if (pd_ab_draft_id(o, &id, err) < 0)
			return -1;
		const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "channel_id");
		const cJSON *pub = cJSON_GetObjectItemCaseSensitive(o, "published_at");
		const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "pattern_id");
		double t;
		int bad = 0;
		if (ch && !cJSON_IsNull(ch) && !cJSON_IsString(ch))
			bad = pd_err_set(err, PD_EREC, "draft '%s': \"channel_id\" is not a string", id.p);
		else if (pub && !cJSON_IsNull(pub) &&
			 (!cJSON_IsString(pub) || pd_time_parse(pub->valuestring, &t) < 0))
			bad = pd_err_set(err, PD_EREC, "draft '%s': \"published_at\" is not an RFC 3339 time",
					 id.p);
		else if (pat && !cJSON_IsNull(pat) && (!cJSON_IsString(pat) || !*pat->valuestring))
			bad = pd_err_set(err, PD_EREC, "draft '%s': \"pattern_id\" is not a string", id.p);
		if (bad) {
			pd_buf_release(&id);
			return -1;
		}
		plan_unit *u = plan_unit_of(p, id.p);
		const char *chs = cJSON_IsString(ch) ? ch->valuestring : "";
		int added;
		u->channel = pd_strmap_intern(p->channels, chs, strlen(chs), &added);
		if (cJSON_IsString(pub)) {
			free(u->published_at);
			u->published_at = xstrdup(pub->valuestring);
		}
		if (cJSON_IsString(pat)) {
			free(u->draft_pattern);
			u->draft_pattern = xstrdup(pat->valuestring);
			if (p->o.pattern && !strcmp(pat->valuestring, p->o.pattern))
				u->wanted = 1;
		}
		pd_buf_release(&id);
		return 1;
	}
	if (!strcmp(type, "recommendation"))
		return plan_recommend(p, o, pd_json_str(o, "video_id"), err) < 0 ? -1 : 1;
	if (!strcmp(type, "match_group")) {
		const char *vid = pd_json_str(o, "video_id");
		const cJSON *recs = cJSON_GetObjectItemCaseSensitive(o, "recommendations");
		if (!recs || cJSON_IsNull(recs))
			return 1;
		if (!cJSON_IsArray(recs))
			return pd_err_set(err, PD_EREC, "match_group: \"recommendations\" is not an array");
		const cJSON *r;
		cJSON_ArrayForEach(r, recs) {
			if (!cJSON_IsObject(r))
				return pd_err_set(err, PD_EREC,
						  "match_group: a recommendation is not an object");
			if (plan_recommend(p, r, vid, err) < 0)
				return -1;
		}
		return 1;
	}
	return 0;
}

/* the pattern unit u tests, or NULL when it is not in the experiment */
static const char *plan_pattern(const pd_ab_planner *p, const plan_unit *u)
{
	if (p->o.pattern)
		return u->wanted ? p->o.pattern : NULL;
	return u->draft_pattern ? u->draft_pattern : u->best;
}

void pd_ab_planner_write(pd_ab_planner *p, pd_buf *out, pd_ab_plan_counts *k)
{
	int n = pd_strmap_size(p->ids);
	memset(k, 0, sizeof *k);
	k->units = n;
	/* units without a draft (a recommendation alone) share the "" stratum */
	int added;
	for (int i = 0; i < n; i++)
		if (p->u[i].channel < 0)
			p->u[i].channel = pd_strmap_intern(p->channels, "", 0, &added);
	int nch = pd_strmap_size(p->channels);

	/* the experiment id: given, or from the seed and the units in the experiment */
	char expid[40];
	const char *exp = p->o.experiment;
	if (!exp) {
		pd_buf h = PD_BUF_INIT;
		pd_buf_printf(&h, "%llu", (unsigned long long)p->o.seed);
		for (int i = 0; i < n; i++)
			if (plan_pattern(p, &p->u[i])) {
				const char *id = pd_strmap_key(p->ids, i);
				pd_buf_addc(&h, '\n');
				pd_buf_adds(&h, id);
			}
		snprintf(expid, sizeof expid, "ab-%016llx",
			 (unsigned long long)pd_hash64(h.p, h.len));
		pd_buf_release(&h);
		exp = expid;
	}

	/* per channel: its generator, the current block and the place in it */
	pd_rng *rng = xcalloc((size_t)nch + 1, sizeof *rng);
	int *blk = xcalloc((size_t)nch * (size_t)p->o.block + 1, sizeof *blk);
	int *pos = xcalloc((size_t)nch + 1, sizeof *pos);
	int *nblk = xcalloc((size_t)nch + 1, sizeof *nblk);
	for (int c = 0; c < nch; c++) {
		const char *key = pd_strmap_key(p->channels, c);
		pd_buf s = PD_BUF_INIT;
		pd_buf_printf(&s, "%llu\n", (unsigned long long)p->o.seed);
		pd_buf_adds(&s, key);
		pd_rng_seed(&rng[c], pd_hash64(s.p, s.len));
		pd_buf_release(&s);
		pos[c] = p->o.block;	/* a new block at the first unit */
	}
	int B = p->o.block;
	for (int i = 0; i < n; i++) {
		plan_unit *u = &p->u[i];
		const char *pat = plan_pattern(p, u);
		if (!pat) {
			k->no_pattern++;
			continue;
		}
		int c = u->channel, arm = PD_AB_BOTH;
		if (!p->o.within) {
			int *b = blk + (size_t)c * (size_t)B;
			if (pos[c] == B) {
				/* a new block: B/2 of each arm, shuffled (Fisher-Yates) */
				for (int j = 0; j < B; j++)
					b[j] = j < B / 2 ? PD_AB_TREATMENT : PD_AB_CONTROL;
				for (int j = B - 1; j > 0; j--) {
					int r = (int)pd_rng_below(&rng[c], (uint64_t)j + 1);
					int t = b[j];
					b[j] = b[r];
					b[r] = t;
				}
				pos[c] = 0;
				nblk[c]++;
			}
			arm = b[pos[c]++];
		}
		k->assigned++;
		if (arm == PD_AB_TREATMENT)
			k->treatment++;
		else if (arm == PD_AB_CONTROL)
			k->control++;
		const char *ch = pd_strmap_key(p->channels, c);
		pd_buf_adds(out, "{\"type\":\"abtest_assignment\",\"experiment_id\":");
		add_str(out, exp);
		pd_buf_adds(out, ",\"video_id\":");
		add_str(out, pd_strmap_key(p->ids, i));
		pd_buf_printf(out, ",\"arm\":\"%s\",\"pattern_id\":", pd_ab_arm_name(arm));
		add_str(out, pat);
		pd_buf_adds(out, ",\"channel_id\":");
		add_str(out, *ch ? ch : NULL);
		if (u->published_at) {
			pd_buf_adds(out, ",\"published_at\":");
			add_str(out, u->published_at);
		}
		if (!p->o.within)
			pd_buf_printf(out, ",\"block\":%d,\"block_size\":%d", nblk[c], B);
		pd_buf_printf(out, ",\"seed\":%llu}\n", (unsigned long long)p->o.seed);
	}
	for (int c = 0; c < nch; c++)
		if (nblk[c])
			k->channels++;
	free(rng);
	free(blk);
	free(pos);
	free(nblk);
}

/* ---- the analysis ---- */

typedef struct ab_unit {
	int exp;
	int video;		/* index in the video map */
	int arm;
	char *pattern_id;
	double t_plan;		/* the assignment's published_at, NAN */
	int next;		/* the next unit of the same video, -1 */
	/* from abtest_result records */
	int have_perf;
	double perf, t_res;
	long seq_res;
	int have_share[2];
	double share[2];
	/* the outcome, once known */
	int state;		/* 0 pending, 1 measured, 2 excluded */
	double y, t_key;
	long seq_key;
} ab_unit;

typedef struct ab_video {
	int first_unit;		/* -1: no assignment */
	int seen;		/* a video record was read */
	double perf, published_at, age_days;
	int file;
	long line, seq;
} ab_video;

typedef struct ab_result {
	char *raw;
	size_t len;
	int file;
	long line, seq;
	char *video_id, *experiment_id;
	int arm, is_share;
	double value, t;
	int ok;
} ab_result;

typedef struct ab_exp {
	int design;		/* -1 unset, 0 between, 1 within */
} ab_exp;

struct pd_ab_analyzer {
	pd_ab_opts o;
	pd_strmap *exps, *videos, *unit_keys, *files;
	ab_exp *e;
	int ecap;
	ab_video *v;
	int vcap;
	ab_unit *u;
	int ucap;
	ab_result *r;
	size_t nr, rcap;
	long seq;		/* records given so far: their order of arrival */
};

void pd_ab_opts_default(pd_ab_opts *o)
{
	o->alpha = 0.05;
	o->prefer = 0.2;
	o->tau = 0.5;
	o->min_age = 0;
}

pd_ab_analyzer *pd_ab_analyzer_new(const pd_ab_opts *o)
{
	pd_ab_analyzer *a = xcalloc(1, sizeof *a);
	a->o = *o;
	a->exps = pd_strmap_new();
	a->videos = pd_strmap_new();
	a->unit_keys = pd_strmap_new();
	a->files = pd_strmap_new();
	return a;
}

void pd_ab_analyzer_free(pd_ab_analyzer *a)
{
	if (!a)
		return;
	for (int i = 0; i < pd_strmap_size(a->unit_keys); i++)
		free(a->u[i].pattern_id);
	for (size_t i = 0; i < a->nr; i++) {
		free(a->r[i].raw);
		free(a->r[i].video_id);
		free(a->r[i].experiment_id);
	}
	free(a->r);
	free(a->u);
	free(a->v);
	free(a->e);
	pd_strmap_free(a->exps);
	pd_strmap_free(a->videos);
	pd_strmap_free(a->unit_keys);
	pd_strmap_free(a->files);
	free(a);
}

static int video_index(pd_ab_analyzer *a, const char *id)
{
	int added;
	int i = pd_strmap_intern(a->videos, id, strlen(id), &added);
	if (added) {
		if (i >= a->vcap) {
			a->vcap = a->vcap ? 2 * a->vcap : 1024;
			a->v = xreallocarray(a->v, (size_t)a->vcap, sizeof *a->v);
		}
		memset(&a->v[i], 0, sizeof a->v[i]);
		a->v[i].first_unit = -1;
		a->v[i].perf = a->v[i].published_at = a->v[i].age_days = NAN;
	}
	return i;
}

/* an optional RFC 3339 member: 0 absent or null (*t NAN), 1 read, -1 malformed */
static int opt_time(const cJSON *o, const char *key, double *t)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, key);
	*t = NAN;
	if (!j || cJSON_IsNull(j))
		return 0;
	if (!cJSON_IsString(j) || pd_time_parse(j->valuestring, t) < 0)
		return -1;
	return 1;
}

int pd_ab_analyzer_add_assignment(pd_ab_analyzer *a, const cJSON *o, pd_err *err)
{
	const char *exp = pd_json_str(o, "experiment_id"), *vid = pd_json_str(o, "video_id");
	const char *arms = pd_json_str(o, "arm");
	const cJSON *pat = cJSON_GetObjectItemCaseSensitive(o, "pattern_id");
	if (!exp || !*exp)
		return pd_err_set(err, PD_EREC, "abtest_assignment has no string \"experiment_id\"");
	if (!vid || !*vid)
		return pd_err_set(err, PD_EREC, "abtest_assignment has no string \"video_id\"");
	int arm = pd_ab_arm_parse(arms);
	if (arm < 0) {
		if (!arms)
			return pd_err_set(err, PD_EREC, "abtest_assignment of '%s' has no string \"arm\"",
					  vid);
		return pd_err_set(err, PD_EREC, "abtest_assignment of '%s': unknown arm '%s' "
				  "(treatment, control or both)", vid, arms);
	}
	if (pat && !cJSON_IsNull(pat) && !cJSON_IsString(pat))
		return pd_err_set(err, PD_EREC, "abtest_assignment of '%s': \"pattern_id\" is not a string",
				  vid);
	double t;
	if (opt_time(o, "published_at", &t) < 0)
		return pd_err_set(err, PD_EREC, "abtest_assignment of '%s': \"published_at\" is not an "
				  "RFC 3339 time", vid);
	int added;
	int ei = pd_strmap_intern(a->exps, exp, strlen(exp), &added);
	if (added) {
		if (ei >= a->ecap) {
			a->ecap = a->ecap ? 2 * a->ecap : 16;
			a->e = xreallocarray(a->e, (size_t)a->ecap, sizeof *a->e);
		}
		a->e[ei].design = -1;
	}
	int design = arm == PD_AB_BOTH;
	if (a->e[ei].design >= 0 && a->e[ei].design != design)
		return pd_err_set(err, PD_EREC, "abtest_assignment of '%s': experiment '%s' mixes "
				  "within-video (arm both) and between-video assignments", vid, exp);
	pd_buf key = PD_BUF_INIT;
	pd_buf_printf(&key, "%d:", ei);
	pd_buf_adds(&key, vid);
	int ui = pd_strmap_find(a->unit_keys, key.p, key.len);
	if (ui >= 0) {
		pd_buf_release(&key);
		if (a->u[ui].arm != arm)
			return pd_err_set(err, PD_EREC, "video '%s' is already in arm %s of experiment '%s'",
					  vid, pd_ab_arm_name(a->u[ui].arm), exp);
		return 0;	/* the same assignment again */
	}
	ui = pd_strmap_intern(a->unit_keys, key.p, key.len, &added);
	pd_buf_release(&key);
	a->e[ei].design = design;
	if (ui >= a->ucap) {
		a->ucap = a->ucap ? 2 * a->ucap : 256;
		a->u = xreallocarray(a->u, (size_t)a->ucap, sizeof *a->u);
	}
	ab_unit *u = &a->u[ui];
	memset(u, 0, sizeof *u);
	u->exp = ei;
	u->arm = arm;
	u->pattern_id = cJSON_IsString(pat) ? xstrdup(pat->valuestring) : NULL;
	u->t_plan = t;
	u->t_res = NAN;
	u->video = video_index(a, vid);
	/* chain in assignment order */
	u->next = -1;
	int *link = &a->v[u->video].first_unit;
	while (*link >= 0)
		link = &a->u[*link].next;
	*link = ui;
	return 0;
}

static int file_index(pd_ab_analyzer *a, const char *file)
{
	int added;
	return pd_strmap_intern(a->files, file ? file : "", file ? strlen(file) : 0, &added);
}

int pd_ab_analyzer_add_result(pd_ab_analyzer *a, const cJSON *o, const char *raw, size_t len,
			      const char *file, long line, pd_err *err)
{
	const char *vid = pd_json_str(o, "video_id"), *arms = pd_json_str(o, "arm");
	const cJSON *exp = cJSON_GetObjectItemCaseSensitive(o, "experiment_id");
	const cJSON *perf = cJSON_GetObjectItemCaseSensitive(o, "perf");
	const cJSON *share = cJSON_GetObjectItemCaseSensitive(o, "watch_time_share");
	if (!vid || !*vid)
		return pd_err_set(err, PD_EREC, "abtest_result has no string \"video_id\"");
	if (exp && !cJSON_IsNull(exp) && (!cJSON_IsString(exp) || !*exp->valuestring))
		return pd_err_set(err, PD_EREC, "abtest_result of '%s': \"experiment_id\" is not a string",
				  vid);
	int arm = pd_ab_arm_parse(arms);
	if (arm != PD_AB_TREATMENT && arm != PD_AB_CONTROL) {
		if (!arms)
			return pd_err_set(err, PD_EREC, "abtest_result of '%s' has no string \"arm\"", vid);
		return pd_err_set(err, PD_EREC, "abtest_result of '%s': unknown arm '%s' (treatment or "
				  "control)", vid, arms);
	}
	int has_perf = perf && !cJSON_IsNull(perf), has_share = share && !cJSON_IsNull(share);
	if (has_perf == has_share)
		return pd_err_set(err, PD_EREC, "abtest_result of '%s' needs one of \"perf\" and "
				  "\"watch_time_share\"", vid);
	double value;
	if (has_perf) {
		if (!cJSON_IsNumber(perf) || !isfinite(perf->valuedouble) || !(perf->valuedouble > 0))
			return pd_err_set(err, PD_EREC, "abtest_result of '%s': \"perf\" is not a positive "
					  "number", vid);
		value = perf->valuedouble;
	} else {
		if (!cJSON_IsNumber(share) || !(share->valuedouble > 0 && share->valuedouble <= 1))
			return pd_err_set(err, PD_EREC, "abtest_result of '%s': \"watch_time_share\" is not "
					  "a share in (0, 1] (54.3%% is 0.543)", vid);
		value = share->valuedouble;
	}
	double t;
	if (opt_time(o, "published_at", &t) < 0)
		return pd_err_set(err, PD_EREC, "abtest_result of '%s': \"published_at\" is not an RFC "
				  "3339 time", vid);
	if (a->nr == a->rcap) {
		a->rcap = a->rcap ? 2 * a->rcap : 64;
		a->r = xreallocarray(a->r, a->rcap, sizeof *a->r);
	}
	ab_result *r = &a->r[a->nr++];
	memset(r, 0, sizeof *r);
	r->raw = xmemdup(raw, len);
	r->len = len;
	r->file = file_index(a, file);
	r->line = line;
	r->seq = a->seq++;
	r->video_id = xstrdup(vid);
	r->experiment_id = cJSON_IsString(exp) ? xstrdup(exp->valuestring) : NULL;
	r->arm = arm;
	r->is_share = has_share;
	r->value = value;
	r->t = t;
	return 0;
}

void pd_ab_analyzer_add_video(pd_ab_analyzer *a, const pd_video *v, const char *file, long line)
{
	int i = video_index(a, v->id);
	ab_video *x = &a->v[i];
	x->seen = 1;
	x->perf = v->perf;
	x->published_at = v->published_at;
	x->age_days = v->age_days;
	x->file = file_index(a, file);
	x->line = line;
	x->seq = a->seq++;
}

/* reject: result r is bad, for the reason fmt says */
#define reject(rep, a, r, ...) \
	pd_rejectf((rep) ? (rep)->reject : NULL, (rep) ? (rep)->ud : NULL, \
		   pd_strmap_key((a)->files, (r)->file), (r)->line, (r)->raw, (r)->len, __VA_ARGS__)

/* match result r to its unit and apply it; 0, or -1 after reporting why not */
static int apply_result(pd_ab_analyzer *a, ab_result *r, const pd_ab_report *rep)
{
	int vi = pd_strmap_find(a->videos, r->video_id, strlen(r->video_id));
	int ui = -1, count = 0;
	for (int j = vi >= 0 ? a->v[vi].first_unit : -1; j >= 0; j = a->u[j].next) {
		const char *e = pd_strmap_key(a->exps, a->u[j].exp);
		if (!r->experiment_id || !strcmp(e, r->experiment_id)) {
			ui = j;
			count++;
		}
	}
	if (count == 0) {
		if (r->experiment_id)
			reject(rep, a, r, "no assignment of video '%s' in experiment '%s'", r->video_id,
			       r->experiment_id);
		else
			reject(rep, a, r, "no assignment of video '%s'", r->video_id);
		return -1;
	}
	if (count > 1) {
		reject(rep, a, r, "video '%s' is in %d experiments: the result needs "
		       "\"experiment_id\"", r->video_id, count);
		return -1;
	}
	ab_unit *u = &a->u[ui];
	const char *e = pd_strmap_key(a->exps, u->exp);
	if (u->arm == PD_AB_BOTH && !r->is_share) {
		reject(rep, a, r, "video '%s' showed both titles in experiment '%s': its results are "
		       "\"watch_time_share\", not \"perf\"", r->video_id, e);
		return -1;
	}
	if (u->arm != PD_AB_BOTH && r->is_share) {
		reject(rep, a, r, "video '%s' is in arm %s of experiment '%s': \"watch_time_share\" "
		       "is for videos that showed both titles (arm both)", r->video_id,
		       pd_ab_arm_name(u->arm), e);
		return -1;
	}
	if (u->arm != PD_AB_BOTH && r->arm != u->arm) {
		reject(rep, a, r, "video '%s' is in arm %s of experiment '%s', the result is for %s",
		       r->video_id, pd_ab_arm_name(u->arm), e, pd_ab_arm_name(r->arm));
		return -1;
	}
	/* a later result replaces an earlier one */
	if (r->is_share) {
		u->have_share[r->arm] = 1;
		u->share[r->arm] = r->value;
	} else {
		u->have_perf = 1;
		u->perf = r->value;
	}
	if (isfinite(r->t))
		u->t_res = r->t;
	u->seq_res = r->seq;
	return 0;
}

/* the order in which outcomes arrive: publication time, then input order, then id */
static const pd_ab_analyzer *sort_a;
static int arrival_cmp(const void *x, const void *y)
{
	const ab_unit *p = &sort_a->u[*(const int *)x], *q = &sort_a->u[*(const int *)y];
	double tp = isfinite(p->t_key) ? p->t_key : INFINITY;
	double tq = isfinite(q->t_key) ? q->t_key : INFINITY;
	if (tp != tq)
		return tp < tq ? -1 : 1;
	if (p->seq_key != q->seq_key)
		return p->seq_key < q->seq_key ? -1 : 1;
	return strcmp(pd_strmap_key(sort_a->videos, p->video),
		      pd_strmap_key(sort_a->videos, q->video));
}

/* the outcome of unit u from its results and its video record */
static void unit_outcome(pd_ab_analyzer *a, ab_unit *u, const pd_ab_report *rep)
{
	const ab_video *v = &a->v[u->video];
	const char *vid = pd_strmap_key(a->videos, u->video);
	u->state = 0;
	u->t_key = isfinite(u->t_res) ? u->t_res : v->seen && isfinite(v->published_at) ?
		v->published_at : u->t_plan;
	u->seq_key = u->have_perf || u->have_share[0] || u->have_share[1] ? u->seq_res :
		v->seen ? v->seq : a->seq;
	if (u->arm == PD_AB_BOTH) {
		if (u->have_share[0] && u->have_share[1]) {
			u->y = log(u->share[PD_AB_TREATMENT] / u->share[PD_AB_CONTROL]);
			u->state = 1;
		}
		return;
	}
	if (u->have_perf) {
		u->y = log(u->perf);
		u->state = 1;
		return;
	}
	if (!v->seen || isnan(v->perf))
		return;
	if (a->o.min_age > 0 && !(v->age_days >= a->o.min_age))
		return;
	if (!(v->perf > 0)) {
		pd_warnf(rep ? rep->warn : NULL, rep ? rep->ud : NULL,
			 "%s:%ld: video '%s' has perf 0: left out of experiment '%s' (its log is "
			 "undefined)", pd_strmap_key(a->files, v->file), v->line, vid,
			 pd_strmap_key(a->exps, u->exp));
		u->state = 2;
		return;
	}
	u->y = log(v->perf);
	u->state = 1;
}

static void write_analysis(pd_ab_analyzer *a, int ei, const int *units, int n, pd_buf *out,
			   pd_ab_counts *k)
{
	const pd_ab_opts *o = &a->o;
	int within = a->e[ei].design == 1;
	pd_ab_seq s;
	pd_ab_seq_init(&s, within, o->tau, o->alpha);
	long pending = 0, excluded = 0;
	int *m = xcalloc((size_t)n + 1, sizeof *m);
	int nm = 0;
	for (int i = 0; i < n; i++) {
		const ab_unit *u = &a->u[units[i]];
		if (u->state == 1)
			m[nm++] = units[i];
		else if (u->state == 2)
			excluded++;
		else
			pending++;
	}
	sort_a = a;
	qsort(m, (size_t)nm, sizeof *m, arrival_cmp);
	for (int i = 0; i < nm; i++)
		pd_ab_seq_add(&s, a->u[m[i]].arm, a->u[m[i]].y);
	pd_ab_est e;
	pd_ab_seq_estimate(&s, &e);
	int arm;
	int d = pd_ab_decide(&e, o->alpha, o->prefer, &arm);
	k->measured += nm;
	k->pending += pending;
	k->excluded += excluded;
	k->winners += d == PD_AB_WINNER;
	k->preferred += d == PD_AB_PREFERRED;

	pd_buf_adds(out, "{\"type\":\"abtest_analysis\",\"experiment_id\":");
	add_str(out, pd_strmap_key(a->exps, ei));
	pd_buf_printf(out, ",\"design\":\"%s\",\"pattern_ids\":[", within ? "within" : "between");
	/* the distinct patterns, in order of assignment */
	pd_strmap *seen = pd_strmap_new();
	for (int i = 0; i < n; i++) {
		const char *pid = a->u[units[i]].pattern_id;
		int added;
		if (!pid)
			continue;
		pd_strmap_intern(seen, pid, strlen(pid), &added);
		if (!added)
			continue;
		if (pd_strmap_size(seen) > 1)
			pd_buf_addc(out, ',');
		add_str(out, pid);
	}
	pd_strmap_free(seen);
	pd_buf_printf(out, "],\"n_treatment\":%ld,\"n_control\":%ld,\"n_pending\":%ld,"
		      "\"n_excluded\":%ld", e.n_t, e.n_c, pending, excluded);
	pd_buf_adds(out, ",\"mean_treatment\":");
	pd_buf_add_num(out, e.mean_t);
	pd_buf_adds(out, ",\"mean_control\":");
	pd_buf_add_num(out, e.mean_c);
	pd_buf_adds(out, ",\"sd\":");
	pd_buf_add_num(out, e.sd);
	pd_buf_adds(out, ",\"effect\":");
	pd_buf_add_num(out, e.effect);
	pd_buf_adds(out, ",\"se\":");
	pd_buf_add_num(out, e.se);
	pd_buf_adds(out, ",\"effect_ci\":");
	add_interval(out, e.lo, e.hi, 0);
	pd_buf_adds(out, ",\"ratio\":");
	pd_buf_add_num(out, exp(e.effect));
	pd_buf_adds(out, ",\"ratio_ci\":");
	add_interval(out, e.lo, e.hi, 1);
	pd_buf_adds(out, ",\"confidence\":");
	pd_buf_add_num(out, 1 - o->alpha);
	pd_buf_adds(out, ",\"p_always_valid\":");
	pd_buf_add_num(out, e.p);
	pd_buf_printf(out, ",\"decision\":\"%s\",\"arm\":", pd_ab_decision_name(d));
	add_str(out, arm >= 0 ? pd_ab_arm_name(arm) : NULL);
	pd_buf_adds(out, ",\"test\":\"msprt-t\",\"tau\":");
	pd_buf_add_num(out, o->tau);
	pd_buf_adds(out, ",\"alpha\":");
	pd_buf_add_num(out, o->alpha);
	pd_buf_adds(out, ",\"prefer\":");
	pd_buf_add_num(out, o->prefer);
	pd_buf_adds(out, "}\n");
	free(m);
}

void pd_ab_analyzer_run(pd_ab_analyzer *a, const pd_ab_report *rep, pd_buf *out,
			pd_ab_counts *k)
{
	memset(k, 0, sizeof *k);
	k->results = (long)a->nr;
	for (size_t i = 0; i < a->nr; i++)
		a->r[i].ok = apply_result(a, &a->r[i], rep) == 0;
	for (size_t i = 0; i < a->nr; i++)
		if (a->r[i].ok) {
			pd_buf_add(out, a->r[i].raw, a->r[i].len);
			pd_buf_addc(out, '\n');
			k->results_written++;
		}
	int nu = pd_strmap_size(a->unit_keys), ne = pd_strmap_size(a->exps);
	k->units = nu;
	k->experiments = ne;
	for (int i = 0; i < nu; i++)
		unit_outcome(a, &a->u[i], rep);
	/* units by experiment, in assignment order */
	int *start = xcalloc((size_t)ne + 1, sizeof *start), *idx = xcalloc((size_t)nu + 1, sizeof *idx);
	for (int i = 0; i < nu; i++)
		start[a->u[i].exp + 1]++;
	for (int e = 0; e < ne; e++)
		start[e + 1] += start[e];
	int *fill = xcalloc((size_t)ne + 1, sizeof *fill);
	for (int i = 0; i < nu; i++)
		idx[start[a->u[i].exp] + fill[a->u[i].exp]++] = i;
	for (int e = 0; e < ne; e++)
		write_analysis(a, e, idx + start[e], start[e + 1] - start[e], out, k);
	free(start);
	free(idx);
	free(fill);
}
