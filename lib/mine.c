/*
 * mine.c — pattern mining inside clusters; see mine.h.
 *
 * How the work is laid out, and why:
 *   - Each video's candidate features are extracted once, when it is added,
 *     as 64-bit keys (pd_hash64 of the canonical predicate text).  A
 *     dictionary counts every key over all videos and keeps a key's text
 *     from its second sighting on, so the huge tail of n-grams seen once
 *     costs a slot but no text.
 *   - Before mining, keys seen at least min_with times get dense ids and
 *     every video's keys become a short array of ids; rarer keys cannot pass
 *     support in any cluster and are dropped.
 *   - Each cluster is counted with flat per-thread arrays indexed by feature
 *     id plus a list of the ids touched (no per-cluster hashing or sorting);
 *     only the features passing support get member lists, tests,
 *     channel counts and ranks.  The rank test uses mid-ranks of perf
 *     computed once per cluster (ranks of log perf are ranks of perf).
 *   - Clusters are independent, so two (opts.threads) workers take them from
 *     a shared counter; results live with their cluster and are written in a
 *     fixed order (level, then id), so the output does not depend on timing.
 *   - Generalisation-aware pruning and the top-N cut run afterwards, in
 *     order, once every cluster's candidates are known.
 */
#include "mine.h"
#include "pd.h"
#include "features.h"
#include "stats.h"
#include "sort.h"
#include "strmap.h"
#include "text.h"
#include "pattern.h"
#include "timeutil.h"
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pd_mine_opts_default(pd_mine_opts *o)
{
	memset(o, 0, sizeof *o);
	o->min_cluster = 30;
	o->threshold = 2.0;
	o->min_high = 0;
	o->min_with = 10;
	o->min_channels = 3;
	o->max_channel_share = 0.5;
	o->top = 10;
	o->max_ngram = 3;
	o->pairs = 1;
	o->pair_pool = 6;
	o->alpha = 0.05;
	o->ci_level = 0.95;
	o->examples = 5;
	o->threads = 2;
	o->shard_i = 1;
	o->shard_n = 1;
	o->holdout_before = NAN;
	o->holdout_fraction = 0.3;
	o->time_blocks = 4;
}

/* ---- the key dictionary ---- */

typedef struct dslot {
	uint64_t key;
	uint32_t count;
	uint32_t text;		/* 1 + index into texts, 0 none */
} dslot;

typedef struct vid {
	double perf, published;
	size_t a0;		/* first key/id */
	uint32_t na;
	int channel;
	int cl[3];
	size_t id, title;	/* offsets into strs */
	unsigned char used, holdout, pre_holdout;
} vid;

typedef struct res {
	uint64_t fkey;
	char *ftext;		/* canonical predicate, owned */
	int dir;		/* +1 over-performs, -1 under */
	long n, n_with, a, c;
	double lift, lo, hi, p, p_rank, quality;
	double eff, eff_lo, eff_hi;	/* Hodges-Lehmann multiplier of perf and its interval */
	double *lp;		/* log perf of the videos with the feature, ascending, owned */
	int trend;		/* 0 evergreen, 1 trend */
	int blocks, btest, bheld;	/* time blocks: testable, where the effect held */
	double bps[PD_MAX_BLOCKS];	/* probability of superiority per block (NAN untestable) */
	double win_from, win_to;	/* trend: the window where it held */
	int channels, high_channels, top_channel;
	double top_share;
	double med_with, med_without, avg_with, avg_without;
	int ex[16], nex;	/* example videos (global index) */
	uint64_t mset;		/* hash of the member set: equal sets are aliases */
	char *aliases;		/* JSON array text of alias features, owned, or NULL */
	int pruned;		/* 1 by the parent, 2 by the top cut, 3 an alias */
} res;

typedef struct clu {
	char *id;
	int level;		/* -1 unknown */
	char *parent_id;
	int parent;		/* cluster index, -1 */
	double size, radius;
	char *centroid;
	char *label;
	double *allp;		/* log perf of the mining members, ascending, owned */
	double bedge[PD_MAX_BLOCKS + 1];	/* time block edges */
	int *mem;		/* member video indices (used videos) */
	int nmem, capmem;
	int mine;		/* in this shard */
	int N, H;
	long long tests, tests_topic;	/* all, and those of topic features (topic_class) */
	long long zhist[PD_ZHIST_BINS];	/* the z of each test, binned (pd_mine_counts) */
	res *res;
	int nres, capres;
	int mined;
} clu;

struct pd_miner {
	pd_mine_opts o;
	pd_vfeat *vf;
	/* dictionary */
	dslot *tab;
	size_t tcap, tused;
	pd_buf texts;
	size_t *toff;
	size_t ntexts, captexts;
	/* videos */
	vid *v;
	long nv, capv;
	uint64_t *akeys;
	uint32_t *aids;
	size_t nakeys, capakeys;
	pd_buf strs;
	pd_strmap *channels;
	/* features after finalising */
	int F;
	char **ftext;		/* dense id -> canonical text (into ftexts) */
	uint64_t *fkey;
	pd_buf ftexts;
	/* clusters */
	pd_strmap *cmap;
	clu *c;
	int nc, capc;
	int *order;		/* clusters in output order */
	pd_mine_counts counts;
	int holdout_done;
	/* threading */
	int *work;
	int nwork, next;
	pthread_mutex_t lock;
};

pd_miner *pd_miner_new(const pd_mine_opts *o)
{
	pd_miner *m = xcalloc(1, sizeof *m);
	m->o = *o;
	if (m->o.max_ngram < 1 || m->o.max_ngram > 3)
		m->o.max_ngram = 3;
	if (m->o.threads < 1)
		m->o.threads = 1;
	if (m->o.shard_n < 1)
		m->o.shard_n = 1, m->o.shard_i = 1;
	if (m->o.examples > 16)
		m->o.examples = 16;
	m->vf = pd_vfeat_new();
	m->tcap = 1 << 16;
	m->tab = xcalloc(m->tcap, sizeof *m->tab);
	m->channels = pd_strmap_new();
	m->cmap = pd_strmap_new();
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void pd_miner_free(pd_miner *m)
{
	if (!m)
		return;
	pd_vfeat_free(m->vf);
	free(m->tab);
	pd_buf_release(&m->texts);
	free(m->toff);
	free(m->v);
	free(m->akeys);
	free(m->aids);
	pd_buf_release(&m->strs);
	pd_strmap_free(m->channels);
	free(m->ftext);
	free(m->fkey);
	pd_buf_release(&m->ftexts);
	for (int i = 0; i < m->nc; i++) {
		clu *c = &m->c[i];
		free(c->id);
		free(c->parent_id);
		free(c->centroid);
		free(c->label);
		free(c->allp);
		free(c->mem);
		for (int r = 0; r < c->nres; r++) {
			free(c->res[r].lp);
			free(c->res[r].ftext);
			free(c->res[r].aliases);
		}
		free(c->res);
	}
	free(m->c);
	free(m->order);
	free(m->work);
	pd_strmap_free(m->cmap);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static dslot *dict_slot(pd_miner *m, uint64_t key)
{
	if (key == 0)
		key = 1;	/* 0 marks an empty slot */
	size_t i = key & (m->tcap - 1);
	while (m->tab[i].key && m->tab[i].key != key)
		i = (i + 1) & (m->tcap - 1);
	return &m->tab[i];
}

static void dict_grow(pd_miner *m)
{
	dslot *old = m->tab;
	size_t oc = m->tcap;
	m->tcap *= 2;
	m->tab = xcalloc(m->tcap, sizeof *m->tab);
	for (size_t i = 0; i < oc; i++)
		if (old[i].key)
			*dict_slot(m, old[i].key) = old[i];
	free(old);
}

static void dict_add(pd_miner *m, uint64_t key, const char *text)
{
	if (key == 0)
		key = 1;
	dslot *s = dict_slot(m, key);
	if (!s->key) {
		s->key = key;
		m->tused++;
	}
	if (s->count < UINT32_MAX)
		s->count++;
	if (s->count == 2 && !s->text) {
		if (m->ntexts == m->captexts) {
			m->captexts = m->captexts ? 2 * m->captexts : 1024;
			m->toff = xreallocarray(m->toff, m->captexts, sizeof *m->toff);
		}
		m->toff[m->ntexts] = m->texts.len;
		pd_buf_adds(&m->texts, text);
		pd_buf_addc(&m->texts, '\0');
		s->text = (uint32_t)++m->ntexts;
	}
	if (m->tused * 2 > m->tcap)
		dict_grow(m);
}

/* ---- input ---- */

static int cluster_index(pd_miner *m, const char *id)
{
	int added;
	int i = pd_strmap_intern(m->cmap, id, strlen(id), &added);
	if (added) {
		if (m->nc == m->capc) {
			m->capc = m->capc ? 2 * m->capc : 64;
			m->c = xreallocarray(m->c, (size_t)m->capc, sizeof *m->c);
		}
		clu *c = &m->c[m->nc++];
		memset(c, 0, sizeof *c);
		c->id = xstrdup(id);
		c->level = -1;
		c->parent = -1;
		c->size = NAN;
		c->radius = NAN;
	}
	return i;
}

static int level_of(const char *s)
{
	static const char *const names[3] = { "macro", "meso", "micro" };
	for (int i = 0; i < 3; i++)
		if (s && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

long pd_miner_add_video(pd_miner *m, const pd_video *v, const char *const cluster[3])
{
	if (m->nv == m->capv) {
		m->capv = m->capv ? 2 * m->capv : 1024;
		m->v = xreallocarray(m->v, (size_t)m->capv, sizeof *m->v);
	}
	vid *x = &m->v[m->nv];
	memset(x, 0, sizeof *x);
	x->perf = v->perf;
	x->published = v->published_at;
	x->pre_holdout = v->holdout != 0;
	x->holdout = x->pre_holdout || (isfinite(m->o.holdout_before) && isfinite(v->published_at) &&
					v->published_at >= m->o.holdout_before);
	x->channel = -1;
	for (int l = 0; l < 3; l++) {
		x->cl[l] = -1;
		if (cluster[l] && *cluster[l]) {
			x->cl[l] = cluster_index(m, cluster[l]);
			clu *c = &m->c[x->cl[l]];
			if (c->level < 0)
				c->level = l;
		}
	}
	/* parents inferred from membership, unless a cluster record names them */
	for (int l = 1; l < 3; l++)
		if (x->cl[l] >= 0 && x->cl[l - 1] >= 0 && !m->c[x->cl[l]].parent_id)
			m->c[x->cl[l]].parent = x->cl[l - 1];
	m->counts.videos++;
	if (isfinite(v->perf) && !x->holdout) {
		x->used = 1;
		const char *ch = v->channel_id ? v->channel_id : "";
		int added;
		x->channel = pd_strmap_intern(m->channels, ch, strlen(ch), &added);
		x->id = m->strs.len;
		pd_buf_adds(&m->strs, v->id);
		pd_buf_addc(&m->strs, '\0');
		x->title = m->strs.len;
		pd_buf_adds(&m->strs, v->title ? v->title : "");
		pd_buf_addc(&m->strs, '\0');
		pd_vfeat_extract(m->vf, v, m->o.tz_offset_s);
		const uint64_t *keys;
		const char *texts;
		const size_t *offs;
		int n = pd_vfeat_atoms(m->vf, m->o.max_ngram, &keys, &texts, &offs);
		if (m->nakeys + (size_t)n > m->capakeys) {
			m->capakeys = (m->capakeys + (size_t)n) * 2;
			m->akeys = xreallocarray(m->akeys, m->capakeys, sizeof *m->akeys);
		}
		x->a0 = m->nakeys;
		x->na = (uint32_t)n;
		for (int i = 0; i < n; i++) {
			m->akeys[m->nakeys++] = keys[i] ? keys[i] : 1;
			dict_add(m, keys[i], texts + offs[i]);
		}
	}
	return m->nv++;
}

int pd_miner_add_cluster(pd_miner *m, const char *id, const char *level, const char *parent,
			 double size, const char *centroid_b64, double radius, const char *label,
			 pd_err *err)
{
	int l = level_of(level);
	if (l < 0)
		return pd_err_set(err, PD_EREC, "cluster '%s' has no level macro, meso or micro", id);
	int i = cluster_index(m, id);
	int p = parent && *parent ? cluster_index(m, parent) : -1;
	clu *c = &m->c[i];
	c->level = l;
	free(c->parent_id);
	c->parent_id = p >= 0 ? xstrdup(parent) : NULL;
	c->parent = p;
	c->size = size;
	c->radius = radius;
	free(c->centroid);
	c->centroid = centroid_b64 ? xstrdup(centroid_b64) : NULL;
	free(c->label);
	c->label = label && *label ? xstrdup(label) : NULL;
	return 0;
}

static int cmp_desc_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

long pd_miner_holdout(pd_miner *m)
{
	double cutoff = INFINITY;
	if (m->o.holdout_fraction > 0) {
		double *t = xmalloc((size_t)(m->nv ? m->nv : 1) * sizeof *t);
		long k = 0;
		for (long i = 0; i < m->nv; i++)
			if (isfinite(m->v[i].published) && !m->v[i].pre_holdout)
				t[k++] = m->v[i].published;
		qsort(t, (size_t)k, sizeof *t, cmp_desc_double);
		long h = (long)floor(m->o.holdout_fraction * (double)k + 0.5);
		if (h > 0)
			cutoff = t[h - 1];
		free(t);
	} else if (isfinite(m->o.holdout_before)) {
		cutoff = m->o.holdout_before;
	}
	long n = 0;
	for (long i = 0; i < m->nv; i++) {
		vid *x = &m->v[i];
		x->holdout = x->pre_holdout || (isfinite(x->published) && x->published >= cutoff);
		if (x->holdout && x->used)
			x->used = 0;
		n += x->holdout;
	}
	m->counts.holdout = n;
	m->holdout_done = 1;
	return n;
}

int pd_miner_is_holdout(const pd_miner *m, long seq)
{
	if (seq < 0 || seq >= m->nv)
		return 0;
	return m->v[seq].pre_holdout ? 2 : m->v[seq].holdout;
}

/* ---- finalising: dense feature ids, members ---- */

static void finalise(pd_miner *m)
{
	/* dense ids for keys frequent enough, in key order (deterministic) */
	size_t nf = 0;
	for (size_t i = 0; i < m->tcap; i++)
		if (m->tab[i].key && m->tab[i].count >= (uint32_t)m->o.min_with && m->tab[i].text)
			nf++;
	uint64_t *fk = xmalloc((nf ? nf : 1) * sizeof *fk);
	nf = 0;
	for (size_t i = 0; i < m->tcap; i++)
		if (m->tab[i].key && m->tab[i].count >= (uint32_t)m->o.min_with && m->tab[i].text)
			fk[nf++] = m->tab[i].key;
	/* sort keys */
	for (size_t gap = nf / 2; gap > 0; gap /= 2)	/* simple shell sort: nf is modest */
		for (size_t i = gap; i < nf; i++)
			for (size_t j = i; j >= gap && fk[j - gap] > fk[j]; j -= gap) {
				uint64_t t = fk[j];
				fk[j] = fk[j - gap];
				fk[j - gap] = t;
			}
	m->F = (int)nf;
	m->fkey = fk;
	m->ftext = xmalloc((nf ? nf : 1) * sizeof *m->ftext);
	size_t *off = xmalloc((nf ? nf : 1) * sizeof *off);
	for (size_t f = 0; f < nf; f++) {
		dslot *s = dict_slot(m, fk[f]);
		off[f] = m->ftexts.len;
		pd_buf_adds(&m->ftexts, m->texts.p + m->toff[s->text - 1]);
		pd_buf_addc(&m->ftexts, '\0');
		s->count = (uint32_t)f;	/* reuse: now the dense id */
		s->text = UINT32_MAX;	/* mark frequent */
	}
	for (size_t f = 0; f < nf; f++)
		m->ftext[f] = m->ftexts.p + off[f];
	free(off);
	/* video keys -> ids (frequent only), compacted in place order */
	m->aids = xmalloc((m->nakeys ? m->nakeys : 1) * sizeof *m->aids);
	size_t w = 0;
	for (long i = 0; i < m->nv; i++) {
		vid *x = &m->v[i];
		size_t a0 = x->a0, start = w;
		for (uint32_t k = 0; k < x->na; k++) {
			dslot *s = dict_slot(m, m->akeys[a0 + k]);
			if (s->key && s->text == UINT32_MAX)
				m->aids[w++] = s->count;
		}
		x->a0 = start;
		x->na = (uint32_t)(w - start);
	}
	free(m->akeys);
	m->akeys = NULL;
	free(m->tab);
	m->tab = NULL;
	pd_buf_release(&m->texts);
	free(m->toff);
	m->toff = NULL;
	m->counts.atoms = m->F;

	/* members */
	for (long i = 0; i < m->nv; i++) {
		vid *x = &m->v[i];
		if (!x->used)
			continue;
		m->counts.videos_used++;
		for (int l = 0; l < 3; l++) {
			if (x->cl[l] < 0)
				continue;
			clu *c = &m->c[x->cl[l]];
			if (c->nmem == c->capmem) {
				c->capmem = c->capmem ? 2 * c->capmem : 16;
				c->mem = xreallocarray(c->mem, (size_t)c->capmem, sizeof *c->mem);
			}
			c->mem[c->nmem++] = (int)i;
		}
	}
}

/* ---- mining one cluster ---- */

typedef struct work {
	uint32_t *cnt, *hi;
	int *slot;		/* feature id -> candidate index, -1 */
	int *touched;
	int *order, *pos;	/* members sorted by perf; position of each */
	double *rank, *perf;
	double *xs, *ys;	/* log perf with / without a feature, ascending */
	int *blk;		/* time block of each member, -1 unknown */
	unsigned char *mark;
	int *tmp, *tmp2;
	size_t tmpcap;
} work;

typedef struct cand {
	int f;			/* feature id, or -1 for a pair */
	long n_with, a;
	int *m;			/* member local indices, ascending */
	int dir;
	double p;		/* p_rank of the positive test */
	int ok;			/* passed support and channels (positive) */
	int pa, pb;		/* pair parts (candidate indices) */
} cand;

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static void need_tmp(work *w, size_t n)
{
	if (n > w->tmpcap) {
		w->tmpcap = n * 2;
		w->tmp = xreallocarray(w->tmp, w->tmpcap, sizeof *w->tmp);
		w->tmp2 = xreallocarray(w->tmp2, w->tmpcap, sizeof *w->tmp2);
	}
}

/* distinct channels among members m[0..n) (all, or only the high ones), top channel and its count */
static int count_channels(const pd_miner *m, const clu *c, work *w, const int *mm, long n,
			  int only_high, int *top, long *topn)
{
	need_tmp(w, (size_t)n + 1);
	long k = 0;
	for (long i = 0; i < n; i++) {
		const vid *x = &m->v[c->mem[mm[i]]];
		if (!only_high || x->perf >= m->o.threshold)
			w->tmp[k++] = x->channel;
	}
	qsort(w->tmp, (size_t)k, sizeof *w->tmp, cmp_int);
	int d = 0;
	long best = 0, run = 0;
	int bestc = -1;
	for (long i = 0; i < k; i++) {
		if (i == 0 || w->tmp[i] != w->tmp[i - 1]) {
			d++;
			run = 0;
		}
		run++;
		if (run > best) {
			best = run;
			bestc = w->tmp[i];
		}
	}
	if (top)
		*top = bestc;
	if (topn)
		*topn = best;
	return d;
}

/*
 * The channel filter of a test: its videos come from at least min_channels
 * channels and no one channel holds more than max_channel_share of them
 * (pd-validate rejects such a pattern whatever its effect).  It never looks
 * at perf, so the tests it drops are not counted (independent filtering).
 */
static int channels_pass(const pd_mine_opts *o, int channels, long topn, long n)
{
	return channels >= o->min_channels && (double)topn <= o->max_channel_share * (double)n;
}

static void add_result(clu *c, const res *r)
{
	if (c->nres == c->capres) {
		c->capres = c->capres ? 2 * c->capres : 16;
		c->res = xreallocarray(c->res, (size_t)c->capres, sizeof *c->res);
	}
	c->res[c->nres++] = *r;
}

static double logp(double perf)
{
	return log(perf > 1e-9 ? perf : 1e-9);
}

/*
 * time_check: does the effect of the members marked in w->mark hold across
 * publication time?  The cluster's mining videos are cut into o.time_blocks
 * blocks of equal size by publication time; in each block with at least 3
 * videos with and 3 without the feature, the probability of superiority
 * U / (n1 n0) tells the side the effect falls on there.  Evergreen: testable
 * in at least 3 blocks and on the stated side in all but at most one of
 * them.  Otherwise a trend, its window the span of the blocks where it held
 * (all testable ones when it held in none).
 */
static void time_check(const pd_miner *m, const clu *c, const work *w, res *r)
{
	int B = m->o.time_blocks;
	double u[PD_MAX_BLOCKS] = { 0 }, n1[PD_MAX_BLOCKS] = { 0 }, n0[PD_MAX_BLOCKS] = { 0 };
	long N = c->N;
	for (long i = 0; i < N; i++) {
		int j = w->order[i], b = w->blk[j];
		if (b < 0)
			continue;
		if (w->mark[j]) {
			u[b] += n0[b];
			n1[b]++;
		} else {
			n0[b]++;
		}
	}
	r->blocks = B;
	r->btest = r->bheld = 0;
	int first = -1, last = -1, tfirst = -1, tlast = -1;
	for (int b = 0; b < B; b++) {
		r->bps[b] = NAN;
		if (n1[b] < 3 || n0[b] < 3)
			continue;
		r->bps[b] = u[b] / (n1[b] * n0[b]);
		r->btest++;
		if (tfirst < 0)
			tfirst = b;
		tlast = b;
		if (r->dir > 0 ? r->bps[b] > 0.5 : r->bps[b] < 0.5) {
			r->bheld++;
			if (first < 0)
				first = b;
			last = b;
		}
	}
	r->trend = !(r->btest >= 3 && r->bheld >= r->btest - 1);
	if (first < 0)
		first = tfirst, last = tlast;
	r->win_from = first >= 0 ? c->bedge[first] : NAN;
	r->win_to = last >= 0 ? c->bedge[last + 1] : NAN;
}

/*
 * evaluate: the statistics of candidate members mm[0..n) (local indices,
 * ascending) in direction dir.  The primary test is the one-sided rank test
 * on perf (every video of the cluster counts); the pattern is added when it
 * passes the channel minimum, p_rank <= alpha, and the effect agrees with
 * it: the Hodges-Lehmann shift of log perf and the difference of medians
 * are on the stated side.  The 2x2 table of high performers (Fisher's test,
 * the lift and its interval) is reported beside it.  Returns 1 if it passed
 * support + channels; *p_out gets p_rank.
 */
/* the bin of a test's z (its one-sided p as a normal quantile) in zhist */
static int zbin(double p)
{
	double z = -pd_norm_quantile(fmin(fmax(p, 1e-300), 1 - 1e-16));
	double b = floor((z - PD_ZHIST_LO) / PD_ZHIST_WIDTH);
	return b < 0 ? 0 : b > PD_ZHIST_BINS - 1 ? PD_ZHIST_BINS - 1 : (int)b;
}

static int evaluate(const pd_miner *m, clu *c, work *w, const int *mm, long n, long a, int dir,
		    const char *ftext, double *p_out)
{
	const pd_mine_opts *o = &m->o;
	long N = c->N, H = c->H;
	double rs = 0;
	for (long i = 0; i < n; i++)
		rs += w->rank[mm[i]];
	double p_rank = pd_mw_from_ranks(rs, (size_t)n, (size_t)(N - n), w->rank[N], dir > 0, NULL);
	if (p_out)
		*p_out = p_rank;
	int top;
	long topn;
	int ch = count_channels(m, c, w, mm, n, 0, &top, &topn);
	if (!channels_pass(o, ch, topn, n))
		return 0;
	c->zhist[zbin(p_rank)]++;
	if (p_rank > o->alpha)
		return 1;
	res r;
	memset(&r, 0, sizeof r);
	r.dir = dir;
	/* the two groups in perf order: sorted log perf, medians, means */
	for (long i = 0; i < n; i++)
		w->mark[mm[i]] = 1;
	long kx = 0, ky = 0;
	double sw = 0, so = 0;
	for (long i = 0; i < N; i++) {
		int j = w->order[i];
		double pf = w->perf[j];
		if (w->mark[j]) {
			w->xs[kx++] = logp(pf);
			sw += pf;
		} else {
			w->ys[ky++] = logp(pf);
			so += pf;
		}
	}
	double med_with = exp(pd_median_sorted(w->xs, (size_t)kx));
	double med_without = ky ? exp(pd_median_sorted(w->ys, (size_t)ky)) : NAN;
	double est, lo, hi;
	pd_hl_shift(w->xs, (size_t)kx, w->ys, (size_t)ky, 1 - o->ci_level, &est, &lo, &hi);
	int agrees = dir > 0 ? est > 0 && med_with > med_without : est < 0 && med_with < med_without;
	if (!agrees) {
		for (long i = 0; i < n; i++)
			w->mark[mm[i]] = 0;
		return 1;
	}
	long b = n - a, cc = H - a, d = (N - n) - cc;
	r.ftext = xstrdup(ftext);
	r.fkey = pd_hash64(ftext, strlen(ftext));
	r.mset = pd_hash64(mm, (unsigned long)n * sizeof *mm) ^ (uint64_t)n;
	r.n = N;
	r.n_with = n;
	r.a = a;
	r.c = cc;
	r.p = dir > 0 ? pd_fisher_greater(a, b, cc, d) : pd_fisher_less(a, b, cc, d);
	r.lift = pd_lift(a, b, cc, d);
	pd_lift_ci(a, b, cc, d, 1 - o->ci_level, &r.lo, &r.hi);
	r.p_rank = p_rank;
	r.eff = exp(est);
	r.eff_lo = exp(lo);
	r.eff_hi = exp(hi);
	r.quality = dir > 0 ? r.eff_lo : (r.eff_hi > 0 ? 1 / r.eff_hi : 0);
	r.channels = ch;
	r.high_channels = count_channels(m, c, w, mm, n, 1, NULL, NULL);
	r.top_channel = top;
	r.top_share = n ? (double)topn / (double)n : 0;
	r.med_with = med_with;
	r.med_without = med_without;
	r.avg_with = n ? sw / (double)n : NAN;
	r.avg_without = ky ? so / (double)ky : NAN;
	r.lp = xmalloc((size_t)(kx ? kx : 1) * sizeof *r.lp);
	memcpy(r.lp, w->xs, (size_t)kx * sizeof *r.lp);
	time_check(m, c, w, &r);
	/* examples: the best performers with the feature (positive), or any (negative) */
	for (long i = N - 1; i >= 0 && r.nex < o->examples; i--) {
		int j = w->order[i];
		if (w->mark[j])
			r.ex[r.nex++] = c->mem[j];
	}
	for (long i = 0; i < n; i++)
		w->mark[mm[i]] = 0;
	add_result(c, &r);
	return 1;
}

/*
 * cond_p: the one-sided rank test (greater) of the perf of the videos in
 * both[0..nb) against those of part[0..np) that are not in both (the
 * videos with one part of a pair but not the other); local indices,
 * ascending.  1 when either group is empty.
 */
static double cond_p(work *w, const int *both, long nb, const int *part, long np)
{
	long kx = 0, ky = 0;
	for (long i = 0, k = 0; i < np; i++) {
		while (k < nb && both[k] < part[i])
			k++;
		if (k < nb && both[k] == part[i])
			w->xs[kx++] = w->perf[part[i]];
		else
			w->ys[ky++] = w->perf[part[i]];
	}
	return pd_mann_whitney(w->xs, (size_t)kx, w->ys, (size_t)ky, 1, NULL);
}

static int is_kind(const char *t, const char *kind)
{
	size_t k = strlen(kind);
	return strncmp(t, "{\"kind\":\"", 9) == 0 && strncmp(t + 9, kind, k) == 0 && t[9 + k] == '"';
}

/* the value of an ngram atom text, for nesting checks */
/* contains: 1 if h[0..hn) holds n[0..nn) */
static int contains(const char *h, size_t hn, const char *n, size_t nn)
{
	for (size_t i = 0; i + nn <= hn; i++)
		if (memcmp(h + i, n, nn) == 0)
			return 1;
	return 0;
}

static const char *ngram_value(const char *t)
{
	const char *v = strstr(t, "\"value\":\"");
	return v ? v + 9 : "";
}

typedef struct pool_item {
	int ci;
	double p;
	const char *text;
} pool_item;

static int cmp_pool(const void *x, const void *y)
{
	const pool_item *a = x, *b = y;
	if (a->p != b->p)
		return (a->p > b->p) - (a->p < b->p);
	return strcmp(a->text, b->text);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* the cluster's time block edges (equal counts of mining videos) and each member's block */
static void time_blocks(const pd_miner *m, clu *c, work *w)
{
	int N = c->nmem, B = m->o.time_blocks, k = 0;
	double *t = w->xs;	/* scratch: free until the tests */
	for (int j = 0; j < N; j++)
		if (isfinite(m->v[c->mem[j]].published))
			t[k++] = m->v[c->mem[j]].published;
	qsort(t, (size_t)k, sizeof *t, cmp_double);
	for (int b = 0; b <= B; b++)
		c->bedge[b] = k ? t[b == B ? k - 1 : (int)((long)b * k / B)] : NAN;
	for (int j = 0; j < N; j++) {
		double p = m->v[c->mem[j]].published;
		int b = -1;
		if (k && isfinite(p))
			for (b = B - 1; b > 0 && p < c->bedge[b]; b--)
				;
		w->blk[j] = b;
	}
}

static void mine_cluster(pd_miner *m, clu *c, work *w)
{
	const pd_mine_opts *o = &m->o;
	int N = c->nmem;
	c->N = N;
	c->H = 0;
	for (int j = 0; j < N; j++)
		c->H += m->v[c->mem[j]].perf >= o->threshold;
	if (N < o->min_cluster || c->H == 0 || c->H == N)
		return;
	c->mined = 1;
	/* perf order and mid-ranks */
	w->order = xreallocarray(w->order, (size_t)N, sizeof *w->order);
	w->rank = xreallocarray(w->rank, (size_t)N + 1, sizeof *w->rank);
	w->perf = xreallocarray(w->perf, (size_t)N, sizeof *w->perf);
	w->mark = xrealloc(w->mark, (size_t)N);
	w->xs = xreallocarray(w->xs, (size_t)N, sizeof *w->xs);
	w->ys = xreallocarray(w->ys, (size_t)N, sizeof *w->ys);
	w->blk = xreallocarray(w->blk, (size_t)N, sizeof *w->blk);
	memset(w->mark, 0, (size_t)N);
	for (int j = 0; j < N; j++)
		w->perf[j] = m->v[c->mem[j]].perf;
	time_blocks(m, c, w);
	w->rank[N] = pd_midranks(w->perf, (size_t)N, w->rank);
	/* order by rank (ties by member index: members are in input order) */
	{
		need_tmp(w, (size_t)N + 1);
		/* counting sort on doubled mid-ranks is exact: 2*rank is an integer in [2, 2N] */
		int *cnt = xcalloc((size_t)2 * N + 2, sizeof *cnt);
		for (int j = 0; j < N; j++)
			cnt[(int)(2 * w->rank[j])]++;
		int s = 0;
		for (int k = 0; k <= 2 * N + 1; k++) {
			int t = cnt[k];
			cnt[k] = s;
			s += t;
		}
		for (int j = 0; j < N; j++)
			w->order[cnt[(int)(2 * w->rank[j])]++] = j;
		free(cnt);
	}
	c->allp = xmalloc((size_t)N * sizeof *c->allp);
	for (int i = 0; i < N; i++)
		c->allp[i] = logp(w->perf[w->order[i]]);

	/* count every feature of every member */
	int nt = 0;
	for (int j = 0; j < N; j++) {
		const vid *x = &m->v[c->mem[j]];
		int high = x->perf >= o->threshold;
		for (uint32_t k = 0; k < x->na; k++) {
			uint32_t f = m->aids[x->a0 + k];
			if (w->cnt[f] == 0)
				w->touched[nt++] = (int)f;
			w->cnt[f]++;
			w->hi[f] += (uint32_t)high;
		}
	}
	/* candidates passing support, in feature id order (deterministic) */
	qsort(w->touched, (size_t)nt, sizeof *w->touched, cmp_int);
	cand *cd = NULL;
	int ncd = 0, capcd = 0;
	for (int t = 0; t < nt; t++) {
		int f = w->touched[t];
		long n = w->cnt[f], a = w->hi[f];
		int pos = n >= o->min_with && a >= o->min_high && n < N;
		/*
		 * A feature with enough videos is a test whether or not it has
		 * enough high performers to report: that second filter looks at
		 * the outcome, so leaving such features out of the count would
		 * shrink m and make the FDR step anti-conservative.
		 */
		if (n >= o->min_with && n < N && !pos) {
			c->tests++;
			c->tests_topic += pd_feature_text_is_topic(m->ftext[f]);
		}
		int neg = o->negative && n >= o->min_with && n < N &&
			  (double)n * c->H / N >= o->min_high;
		if (pos || neg) {
			if (ncd == capcd) {
				capcd = capcd ? 2 * capcd : 64;
				cd = xreallocarray(cd, (size_t)capcd, sizeof *cd);
			}
			cand *x = &cd[ncd];
			memset(x, 0, sizeof *x);
			x->f = f;
			x->n_with = n;
			x->a = a;
			x->dir = (pos ? 1 : 0) | (neg ? 2 : 0);
			w->slot[f] = ncd++;
		}
	}
	/* member lists for candidates */
	size_t total = 0;
	for (int i = 0; i < ncd; i++)
		total += (size_t)cd[i].n_with;
	int *pool = xmalloc((total ? total : 1) * sizeof *pool);
	size_t off = 0;
	long *fill = xcalloc((size_t)(ncd ? ncd : 1), sizeof *fill);
	for (int i = 0; i < ncd; i++) {
		cd[i].m = pool + off;
		off += (size_t)cd[i].n_with;
	}
	for (int j = 0; j < N; j++) {
		const vid *x = &m->v[c->mem[j]];
		for (uint32_t k = 0; k < x->na; k++) {
			int s = w->slot[m->aids[x->a0 + k]];
			if (s >= 0)
				cd[s].m[fill[s]++] = j;
		}
	}
	free(fill);
	for (int t = 0; t < nt; t++) {
		int f = w->touched[t];
		w->cnt[f] = w->hi[f] = 0;
		w->slot[f] = -1;
	}
	/*
	 * Test singles.  A feature whose videos come from fewer than
	 * min_channels channels is not tested and not counted: that filter
	 * never looks at perf, so under the null it leaves the p-values of the
	 * tests it keeps uniform (independent filtering) and m honest.
	 */
	for (int i = 0; i < ncd; i++) {
		const char *txt = m->ftext[cd[i].f];
		int topic = pd_feature_text_is_topic(txt);
		if (cd[i].dir & 1) {
			cd[i].ok = evaluate(m, c, w, cd[i].m, cd[i].n_with, cd[i].a, 1, txt, &cd[i].p);
			c->tests += cd[i].ok;
			c->tests_topic += cd[i].ok && topic;
		}
		if (cd[i].dir & 2) {
			int ok = evaluate(m, c, w, cd[i].m, cd[i].n_with, cd[i].a, -1, txt, NULL);
			c->tests += ok;
			c->tests_topic += ok && topic;
		}
	}
	/* pairs: the best single features (and every format and duration) */
	if (o->pairs && ncd > 1) {
		pool_item *pi = xmalloc((size_t)ncd * sizeof *pi);
		int np = 0;
		for (int i = 0; i < ncd; i++)
			if ((cd[i].dir & 1) && cd[i].ok && cd[i].p < 0.5) {
				pi[np].ci = i;
				pi[np].p = cd[i].p;
				pi[np].text = m->ftext[cd[i].f];
				np++;
			}
		qsort(pi, (size_t)np, sizeof *pi, cmp_pool);
		int *sel = xmalloc((size_t)(np ? np : 1) * sizeof *sel);
		int ns = 0;
		for (int i = 0; i < np; i++)
			if (i < o->pair_pool || is_kind(pi[i].text, "format") || is_kind(pi[i].text, "duration") ||
			    is_kind(pi[i].text, "short"))
				sel[ns++] = pi[i].ci;
		free(pi);
		need_tmp(w, (size_t)N + 1);
		int *both = xmalloc((size_t)N * sizeof *both);
		pd_buf txt = PD_BUF_INIT;
		for (int x = 0; x < ns; x++) {
			for (int y = x + 1; y < ns; y++) {
				cand *A = &cd[sel[x]], *B = &cd[sel[y]];
				const char *ta = m->ftext[A->f], *tb = m->ftext[B->f];
				if (is_kind(ta, "ngram") && is_kind(tb, "ngram")) {
					/* nested n-grams ("how", "how to") say one thing */
					const char *va = ngram_value(ta), *vb = ngram_value(tb);
					size_t la = strlen(va) - 2, lb = strlen(vb) - 2;
					if (la <= lb ? contains(vb, lb, va, la) : contains(va, la, vb, lb))
						continue;
				}
				long n = 0, a = 0;
				for (long i = 0, k = 0; i < A->n_with && k < B->n_with;) {
					if (A->m[i] < B->m[k])
						i++;
					else if (A->m[i] > B->m[k])
						k++;
					else {
						both[n++] = A->m[i];
						a += w->perf[A->m[i]] >= o->threshold;
						i++, k++;
					}
				}
				/* every pair with enough videos is a test: its parts were
				 * chosen for their small p, so none may be left uncounted */
				if (n < o->min_with || n >= N)
					continue;
				long topn = 0;
				if (!channels_pass(o, count_channels(m, c, w, both, n, 0, NULL, &topn), topn, n))
					continue;
				c->tests++;
				c->tests_topic += pd_feature_text_is_topic(ta) || pd_feature_text_is_topic(tb);
				/* beats each part: among the videos with one part, those
				 * with the other part too do better (rank tests) */
				double pca = cond_p(w, both, n, A->m, A->n_with);
				double pcb = cond_p(w, both, n, B->m, B->n_with);
				if (pca > o->alpha || pcb > o->alpha)
					continue;
				pd_buf_reset(&txt);
				pd_buf_adds(&txt, "{\"all\":[");
				pd_buf_adds(&txt, strcmp(ta, tb) < 0 ? ta : tb);
				pd_buf_addc(&txt, ',');
				pd_buf_adds(&txt, strcmp(ta, tb) < 0 ? tb : ta);
				pd_buf_adds(&txt, "]}");
				/*
				 * The pair is worth reporting only for what it adds to
				 * each part, and its parts were chosen for their small
				 * p, so its p is the largest of its own test and the two
				 * conditional ones (a conservative union-intersection p).
				 */
				int before = c->nres;
				evaluate(m, c, w, both, n, a, 1, txt.p, NULL);
				if (c->nres > before) {
					res *x = &c->res[c->nres - 1];
					x->p_rank = fmax(x->p_rank, fmax(pca, pcb));
				}
			}
		}
		pd_buf_release(&txt);
		free(both);
		free(sel);
	}
	free(pool);
	free(cd);
}

static void *worker(void *ud)
{
	pd_miner *m = ud;
	work w;
	memset(&w, 0, sizeof w);
	size_t F = (size_t)(m->F ? m->F : 1);
	w.cnt = xcalloc(F, sizeof *w.cnt);
	w.hi = xcalloc(F, sizeof *w.hi);
	w.slot = xmalloc(F * sizeof *w.slot);
	for (size_t i = 0; i < F; i++)
		w.slot[i] = -1;
	w.touched = xmalloc(F * sizeof *w.touched);
	for (;;) {
		pthread_mutex_lock(&m->lock);
		int k = m->next < m->nwork ? m->work[m->next++] : -1;
		pthread_mutex_unlock(&m->lock);
		if (k < 0)
			break;
		mine_cluster(m, &m->c[k], &w);
	}
	free(w.cnt);
	free(w.hi);
	free(w.slot);
	free(w.touched);
	free(w.order);
	free(w.pos);
	free(w.rank);
	free(w.perf);
	free(w.xs);
	free(w.ys);
	free(w.blk);
	free(w.mark);
	free(w.tmp);
	free(w.tmp2);
	return NULL;
}

/* ---- ordering, pruning, top ---- */

static int cmp_res_key(const void *x, const void *y)
{
	const res *a = x, *b = y;
	if (a->fkey != b->fkey)
		return (a->fkey > b->fkey) - (a->fkey < b->fkey);
	return (a->dir > b->dir) - (a->dir < b->dir);
}

static int cmp_res_rank(const void *x, const void *y)
{
	const res *a = x, *b = y;
	if (a->pruned != b->pruned)
		return a->pruned - b->pruned;
	if (a->dir != b->dir)
		return b->dir - a->dir;
	if (a->quality != b->quality)
		return (a->quality < b->quality) - (a->quality > b->quality);
	if (a->p != b->p)
		return (a->p > b->p) - (a->p < b->p);
	return strcmp(a->ftext, b->ftext);
}

/* alias_rank: which of equal-set features speaks best: n-grams (longer first), title
 * flags, format, duration, tags, category, timing, lengths, description, pairs */
static int alias_rank(const char *t)
{
	static const char *const order[] = { "ngram", "title", "format", "short", "duration", "tag",
		"category", "weekday", "hour", "title_len", "title_words", "tag_count", "desc_links",
		"desc_hashtags", "desc_len" };
	for (int i = 0; i < (int)(sizeof order / sizeof *order); i++)
		if (is_kind(t, order[i])) {
			int words = 0;
			if (i == 0)
				for (const char *p = t; *p; p++)
					words += *p == ' ';
			return i * 10 - words;
		}
	return 1000;
}

static int cmp_res_alias(const void *x, const void *y)
{
	const res *a = x, *b = y;
	if (a->dir != b->dir)
		return b->dir - a->dir;
	if (a->mset != b->mset)
		return (a->mset > b->mset) - (a->mset < b->mset);
	int ra = alias_rank(a->ftext), rb = alias_rank(b->ftext);
	if (ra != rb)
		return ra - rb;
	return strcmp(a->ftext, b->ftext);
}

static int cmp_cluster(const void *x, const void *y, void *ctx)
{
	const pd_miner *sort_m = ctx;
	const clu *a = &sort_m->c[*(const int *)x], *b = &sort_m->c[*(const int *)y];
	int la = a->level < 0 ? 3 : a->level, lb = b->level < 0 ? 3 : b->level;
	if (la != lb)
		return la - lb;
	return strcmp(a->id, b->id);
}

static int cmp_size_desc(const void *x, const void *y, void *ctx)
{
	const pd_miner *sort_m = ctx;
	const clu *a = &sort_m->c[*(const int *)x], *b = &sort_m->c[*(const int *)y];
	if (a->nmem != b->nmem)
		return b->nmem - a->nmem;
	return strcmp(a->id, b->id);
}

static int macro_of(const pd_miner *m, int i)
{
	for (int guard = 0; guard < 8 && m->c[i].parent >= 0 && m->c[i].level != 0; guard++)
		i = m->c[i].parent;
	return i;
}

/* msdiff: the multiset a[0..na) minus b[0..nb) (both ascending) into out; returns its size,
 * or -1 when b is not within a */
static long msdiff(const double *a, long na, const double *b, long nb, double *out)
{
	long i = 0, j = 0, k = 0;
	while (i < na) {
		if (j < nb && b[j] == a[i]) {
			i++, j++;
		} else if (j < nb && b[j] < a[i]) {
			return -1;
		} else {
			out[k++] = a[i++];
		}
	}
	return j == nb ? k : -1;
}

/* rest := a minus each of parts[0..np) in turn (tmp: room for na); returns the size or -1 */
static long msdiff_all(const double *a, long na, double *const *parts, const long *nparts, int np,
		       double *rest, double *tmp)
{
	long n = na;
	memcpy(rest, a, (size_t)na * sizeof *rest);
	for (int k = 0; k < np && n >= 0; k++) {
		n = msdiff(rest, n, parts[k], nparts[k], tmp);
		if (n >= 0)
			memcpy(rest, tmp, (size_t)n * sizeof *rest);
	}
	return n;
}

/*
 * prune_family: parent p has feature q significant, and so do the children
 * xs[0..nx) (cluster indices xc).  "rest" is p's videos outside those
 * children.  All comparisons are one-sided rank tests on perf in q's
 * direction, like the mining test itself.
 *   - A child's pattern says something its parent's does not when its videos
 *     with the feature do better (worse, for negative patterns) than the
 *     rest's videos with it (at alpha); otherwise it is pruned.  When the
 *     rest has fewer than min_support videos with the feature, a single
 *     child holds the parent's whole finding and is kept, while several
 *     children sharing it are one finding at the parent's level and are
 *     pruned.
 *   - The parent's pattern is pruned when some child keeps the finding and
 *     the feature is not significant in the parent outside the children
 *     that keep it: those children explain it, and the most specific
 *     cluster where the effect holds is where it belongs.
 * Decisions use the data only, never earlier pruning, so the order in
 * which families are visited does not matter.
 */
static void prune_family(const pd_miner *m, const clu *p, res *q, res **xs, const int *xc, int nx)
{
	const pd_mine_opts *o = &m->o;
	int greater = q->dir > 0;
	long N = p->N;
	double *rest = xmalloc((size_t)(N + 1) * sizeof *rest), *tmp = xmalloc((size_t)(N + 1) * sizeof *tmp);
	double *rest2 = xmalloc((size_t)(N + 1) * sizeof *rest2);
	double **parts = xmalloc((size_t)nx * sizeof *parts);
	long *nparts = xmalloc((size_t)nx * sizeof *nparts);
	int *keepc = xmalloc((size_t)nx * sizeof *keepc);
	for (int k = 0; k < nx; k++) {
		parts[k] = xs[k]->lp;
		nparts[k] = xs[k]->n_with;
	}
	long n_with = msdiff_all(q->lp, q->n_with, parts, nparts, nx, rest, tmp);
	if (n_with < 0)
		goto out;	/* children that are not inside their parent (inconsistent input): no pruning */
	int kept = 0;
	for (int k = 0; k < nx; k++) {
		res *x = xs[k];
		int keep;
		if (n_with < o->min_with)
			keep = nx == 1;
		else
			keep = pd_mann_whitney(x->lp, (size_t)x->n_with, rest, (size_t)n_with, greater, NULL) <= o->alpha;
		if (!keep) {
			x->pruned = 1;
			continue;
		}
		keepc[kept] = xc[k];
		parts[kept] = x->lp;
		nparts[kept] = x->n_with;
		kept++;
	}
	if (!kept)
		goto out;
	/* the parent outside the kept children: with and without the feature */
	long kwith = msdiff_all(q->lp, q->n_with, parts, nparts, kept, rest, tmp);
	for (int k = 0; k < kept; k++) {	/* the kept children's videos leave the parent's rest */
		parts[k] = m->c[keepc[k]].allp;
		nparts[k] = m->c[keepc[k]].N;
	}
	long kall = msdiff_all(p->allp, N, parts, nparts, kept, rest2, tmp);
	int rest_sig = 0;
	if (kwith >= o->min_with && kall > kwith) {
		long kwo = msdiff(rest2, kall, rest, kwith, tmp);
		if (kwo > 0)
			rest_sig = pd_mann_whitney(rest, (size_t)kwith, tmp, (size_t)kwo, greater, NULL) <= o->alpha;
	}
	if (!rest_sig)
		q->pruned = 1;
out:
	free(rest);
	free(rest2);
	free(tmp);
	free(parts);
	free(nparts);
	free(keepc);
}

/*
 * shard_plan: which shard mines each macro cluster with all its children
 * (so pruning against parents is the same as in one run).  Every shard reads
 * all records, so each makes the same plan: the macro clusters by the
 * videos their subtree mines, most first (ties by id), each to the shard
 * with the fewest so far (ties: the lowest) -- the greedy longest-first
 * rule, within 4/3 of the best balance.  Sets c[].mine.
 */
typedef struct shard_root {
	long w;
	const char *id;
	int root;
} shard_root;

static int cmp_shard_root(const void *a, const void *b)
{
	const shard_root *x = a, *y = b;
	if (x->w != y->w)
		return x->w > y->w ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void shard_plan(pd_miner *m)
{
	int n = m->o.shard_n, nr = 0;
	shard_root *r = xcalloc((size_t)m->nc + 1, sizeof *r);
	int *root = xmalloc(((size_t)m->nc + 1) * sizeof *root);
	int *slot = xmalloc(((size_t)m->nc + 1) * sizeof *slot);	/* by root: its r[] entry, then its shard */
	long *load = xcalloc((size_t)n, sizeof *load);
	for (int i = 0; i < m->nc; i++)
		slot[i] = -1;
	for (int i = 0; i < m->nc; i++) {
		int t = root[i] = macro_of(m, i);
		if (slot[t] < 0) {
			slot[t] = nr;
			r[nr].id = m->c[t].id;
			r[nr++].root = t;
		}
		if (m->c[i].nmem >= m->o.min_cluster)
			r[slot[t]].w += m->c[i].nmem;
	}
	qsort(r, (size_t)nr, sizeof *r, cmp_shard_root);
	for (int k = 0; k < nr; k++) {
		int best = 0;
		for (int s = 1; s < n; s++)
			if (load[s] < load[best])
				best = s;
		load[best] += r[k].w;
		slot[r[k].root] = best;
	}
	for (int i = 0; i < m->nc; i++)
		m->c[i].mine = slot[root[i]] == m->o.shard_i - 1;
	free(load);
	free(slot);
	free(root);
	free(r);
}

int pd_miner_run(pd_miner *m, pd_err *err)
{
	if (!m->holdout_done)
		pd_miner_holdout(m);
	finalise(m);
	m->order = xmalloc((size_t)(m->nc ? m->nc : 1) * sizeof *m->order);
	m->work = xmalloc((size_t)(m->nc ? m->nc : 1) * sizeof *m->work);
	shard_plan(m);
	for (int i = 0; i < m->nc; i++) {
		m->order[i] = i;
		if (m->c[i].mine && m->c[i].nmem >= m->o.min_cluster)
			m->work[m->nwork++] = i;
	}
	pd_qsort_r(m->order, (size_t)m->nc, sizeof *m->order, cmp_cluster, m);
	pd_qsort_r(m->work, (size_t)m->nwork, sizeof *m->work, cmp_size_desc, m);
	int nth = m->o.threads > m->nwork ? (m->nwork ? m->nwork : 1) : m->o.threads;
	pthread_t th[16];
	if (nth > 16)
		nth = 16;
	int started = 0;
	for (int t = 1; t < nth; t++) {
		if (pthread_create(&th[t], NULL, worker, m) != 0)
			break;
		started = t;
	}
	worker(m);
	for (int t = 1; t <= started; t++)
		pthread_join(th[t], NULL);

	/*
	 * Generalisation-aware pruning, decided for each parent P and each of
	 * its significant features F at once (see prune_family).
	 */
	for (int i = 0; i < m->nc; i++)
		if (m->c[i].nres)
			qsort(m->c[i].res, (size_t)m->c[i].nres, sizeof *m->c[i].res, cmp_res_key);
	int *kids = xmalloc((size_t)(m->nc ? m->nc : 1) * sizeof *kids);
	int *first = xmalloc((size_t)(m->nc + 1) * sizeof *first);
	{
		/* children of each cluster, contiguous (counting sort by parent) */
		for (int i = 0; i <= m->nc; i++)
			first[i] = 0;
		for (int i = 0; i < m->nc; i++)
			if (m->c[i].parent >= 0)
				first[m->c[i].parent + 1]++;
		for (int i = 0; i < m->nc; i++)
			first[i + 1] += first[i];
		int *fill = xcalloc((size_t)(m->nc ? m->nc : 1), sizeof *fill);
		for (int i = 0; i < m->nc; i++)	/* in index order: deterministic */
			if (m->c[i].parent >= 0) {
				int p = m->c[i].parent;
				kids[first[p] + fill[p]++] = i;
			}
		free(fill);
	}
	res **xs = xmalloc((size_t)(m->nc ? m->nc : 1) * sizeof *xs);
	int *xc = xmalloc((size_t)(m->nc ? m->nc : 1) * sizeof *xc);
	for (int i = 0; i < m->nc; i++) {
		clu *p = &m->c[i];
		m->counts.tests += p->tests;
		m->counts.tests_topic += p->tests_topic;
		for (int b = 0; b < PD_ZHIST_BINS; b++)
			m->counts.zhist[b] += p->zhist[b];
		m->counts.clusters += p->mined;
		for (int r = 0; r < p->nres; r++) {
			int nx = 0;
			for (int k = first[i]; k < first[i + 1]; k++) {
				clu *c = &m->c[kids[k]];
				res *x = c->nres ? bsearch(&p->res[r], c->res, (size_t)c->nres, sizeof *c->res, cmp_res_key)
						 : NULL;
				if (x) {
					xs[nx] = x;
					xc[nx++] = kids[k];
				}
			}
			if (nx)
				prune_family(m, p, &p->res[r], xs, xc, nx);
		}
	}
	free(kids);
	free(first);
	free(xs);
	free(xc);
	/*
	 * Aliases: features true of exactly the same videos of a cluster (an
	 * n-gram and the format its keyword implies, "ultimate" and "ultimate
	 * guide") are one finding.  The most specific-looking one is kept (see
	 * alias_rank) and the others are listed as its "aliases".
	 */
	for (int i = 0; i < m->nc; i++) {
		clu *c = &m->c[i];
		if (c->nres == 0)
			continue;
		qsort(c->res, (size_t)c->nres, sizeof *c->res, cmp_res_alias);
		for (int r = 0, g; r < c->nres; r = g) {
			for (g = r; g < c->nres && c->res[g].dir == c->res[r].dir && c->res[g].mset == c->res[r].mset; g++)
				;
			int rep = -1;
			pd_buf al = PD_BUF_INIT;
			for (int k = r; k < g; k++) {
				if (c->res[k].pruned)
					continue;
				if (rep < 0) {
					rep = k;
					continue;
				}
				pd_buf_adds(&al, al.len ? "," : "[");
				pd_buf_adds(&al, c->res[k].ftext);
				c->res[k].pruned = 3;
			}
			if (rep >= 0 && al.len) {
				pd_buf_addc(&al, ']');
				c->res[rep].aliases = pd_buf_detach(&al);
			}
			pd_buf_release(&al);
		}
	}
	for (int i = 0; i < m->nc; i++) {
		clu *c = &m->c[i];
		if (c->nres)
			qsort(c->res, (size_t)c->nres, sizeof *c->res, cmp_res_rank);
		int kp = 0, kn = 0;
		for (int r = 0; r < c->nres; r++) {
			res *x = &c->res[r];
			if (x->pruned)
				continue;
			if (x->dir > 0 ? kp++ >= m->o.top : kn++ >= m->o.top)
				x->pruned = 2;
			else
				m->counts.patterns++;
		}
	}
	(void)err;
	return 0;
}

/* ---- output ---- */


static const char *template_for(const pd_feature *f, const char *ftext, pd_buf *tmp)
{
	pd_buf_reset(tmp);
	if (is_kind(ftext, "ngram")) {
		pd_buf_adds(tmp, "[...] ");
		const char *v = ngram_value(ftext);
		pd_buf_add(tmp, v, strlen(v) - 2);
		pd_buf_adds(tmp, " [...]");
	} else if (strstr(ftext, "\"value\":\"question\"")) {
		pd_buf_adds(tmp, "[Question about the topic]?");
	} else if (strstr(ftext, "\"value\":\"listicle\"")) {
		pd_buf_adds(tmp, "[N] [things about the topic]");
	} else if (strstr(ftext, "\"value\":\"how_to\"")) {
		pd_buf_adds(tmp, "How to [do something]");
	} else if (is_kind(ftext, "format")) {
		pd_buf_adds(tmp, "[");
		const char *v = ngram_value(ftext);
		pd_buf_add(tmp, v, strlen(v) - 2);
		pd_buf_adds(tmp, " video about the topic]");
	} else {
		pd_buf_adds(tmp, "[Title] — ");
		pd_feature_describe(f, tmp);
	}
	return tmp->p;
}

/* One pattern record, written by lib/pattern's writer (the canonical JSON). */
static void write_pattern(const pd_miner *m, const clu *c, const res *r, pd_buf *b)
{
	static const char *const lv[3] = { "macro", "meso", "micro" };
	pd_err e;
	pd_feature *f = pd_feature_parse(r->ftext, strlen(r->ftext), &e);
	if (!f)
		return;	/* cannot happen: the texts are canonical predicates */
	pd_buf idb = PD_BUF_INIT, name = PD_BUF_INIT, desc = PD_BUF_INIT, tmp = PD_BUF_INIT;
	pd_buf_adds(&idb, c->id);
	pd_buf_addc(&idb, '\n');
	pd_buf_adds(&idb, r->ftext);
	char id[24];
	snprintf(id, sizeof id, "p%016llx", (unsigned long long)pd_hash64(idb.p, idb.len));
	pd_pattern_words pw = { f, c->label, c->level >= 0 ? lv[c->level] : NULL, r->dir > 0,
				r->eff, r->eff_lo, r->eff_hi, m->o.ci_level, r->n, r->n_with, r->channels,
				r->trend, r->win_from, r->win_to, r->btest, r->bheld };
	pd_pattern_name(&pw, &name);
	pd_pattern_sentence(&pw, &desc);
	char *ids[16], *titles[16];
	for (int i = 0; i < r->nex; i++) {
		ids[i] = m->strs.p + m->v[r->ex[i]].id;
		titles[i] = m->strs.p + m->v[r->ex[i]].title;
	}
	/* the struct borrows every string and array: nothing to release */
	pd_pattern p;
	pd_pattern_init(&p);
	p.id = id;
	p.pattern_type = (char *)pd_feature_pattern_type(f);
	p.feature = r->ftext;
	p.aliases = r->aliases;
	p.positive = r->dir > 0;
	p.cluster = c->id;
	p.level = c->level >= 0 ? (char *)lv[c->level] : NULL;
	p.label = c->label;
	p.kind = (char *)(r->trend ? "trend" : "evergreen");
	p.has_window = 1;
	p.win_from = r->win_from;
	p.win_to = r->win_to;
	p.blocks = r->blocks;
	p.testable = r->btest;
	p.held = r->bheld;
	p.nsup = r->blocks;
	p.superiority = (double *)r->bps;
	p.centroid_b64 = c->centroid;
	p.radius = c->radius;
	p.name = p.data.name = name.p;
	p.description = p.data.description = desc.p;
	p.stats.n = (double)r->n;
	p.stats.n_with = (double)r->n_with;
	p.stats.high_with = (double)r->a;
	p.stats.high_without = (double)r->c;
	p.stats.base_rate = (double)(c->H) / (double)c->N;
	p.stats.effect = r->eff;
	p.stats.effect_lo = r->eff_lo;
	p.stats.effect_hi = r->eff_hi;
	p.stats.lift = r->lift;
	p.stats.lift_lo = r->lo;
	p.stats.lift_hi = r->hi;
	p.stats.median_with = r->med_with;
	p.stats.median_without = r->med_without;
	p.stats.p = r->p;
	p.stats.p_rank = r->p_rank;
	p.stats.channels = r->channels;
	p.stats.high_channels = r->high_channels;
	p.stats.top_channel = r->top_channel >= 0 ? (char *)pd_strmap_key(m->channels, r->top_channel) : (char *)"";
	p.stats.top_channel_share = r->top_share;
	p.stats.threshold = m->o.threshold;
	p.stats.quality = r->quality;
	p.nexamples = r->nex;
	p.examples = ids;
	p.within.avg = r->avg_with;
	p.within.median = r->med_with;
	p.within.count = (double)r->n_with;
	p.outside.avg = r->avg_without;
	p.outside.median = r->med_without;
	p.outside.count = (double)(r->n - r->n_with);
	p.lift_ratio = r->eff;
	p.data.template_ = (char *)template_for(f, r->ftext, &tmp);
	p.data.ntitles = r->nex;
	p.data.titles = titles;
	p.data.confidence = 1 - r->p_rank;
	p.data.sample_size = (double)r->n_with;
	p.status = (char *)"candidate";
	pd_pattern_write(&p, b);
	pd_buf_release(&idb);
	pd_buf_release(&name);
	pd_buf_release(&desc);
	pd_buf_release(&tmp);
	pd_feature_free(f);
}

void pd_miner_write_patterns(pd_miner *m, pd_buf *out)
{
	for (int k = 0; k < m->nc; k++) {
		const clu *c = &m->c[m->order[k]];
		for (int r = 0; r < c->nres; r++)
			if (!c->res[r].pruned)
				write_pattern(m, c, &c->res[r], out);
	}
}

void pd_miner_write_summary(pd_miner *m, pd_buf *out)
{
	pd_buf_printf(out, "{\"type\":\"mine_summary\",\"tests\":%lld,\"tests_topic\":%lld,\"clusters\":%ld,\"shard\":\"%d/%d\","
		      "\"patterns\":%ld,\"videos\":%ld,\"videos_used\":%ld,\"holdout\":%ld,\"features\":%ld,",
		      m->counts.tests, m->counts.tests_topic, m->counts.clusters, m->o.shard_i, m->o.shard_n, m->counts.patterns,
		      m->counts.videos, m->counts.videos_used, m->counts.holdout, m->counts.atoms);
	pd_buf_adds(out, "\"threshold\":");
	pd_buf_add_num(out, m->o.threshold);
	pd_buf_printf(out, ",\"min_cluster_size\":%d,\"alpha\":", m->o.min_cluster);
	pd_buf_add_num(out, m->o.alpha);
	pd_buf_adds(out, ",\"max_channel_share\":");
	pd_buf_add_num(out, m->o.max_channel_share);
	pd_buf_adds(out, ",\"z_hist\":{\"lo\":");
	pd_buf_add_num(out, PD_ZHIST_LO);
	pd_buf_adds(out, ",\"width\":");
	pd_buf_add_num(out, PD_ZHIST_WIDTH);
	pd_buf_adds(out, ",\"counts\":[");
	for (int b = 0; b < PD_ZHIST_BINS; b++)
		pd_buf_printf(out, "%s%lld", b ? "," : "", m->counts.zhist[b]);
	pd_buf_adds(out, "]}}\n");
}

void pd_miner_counts(const pd_miner *m, pd_mine_counts *c)
{
	*c = m->counts;
}

/*
 * Shards: the counts of what a shard mined add up over the shards; every
 * other field of mine_summary (videos, holdout, features, options) is the
 * whole run's, the same in each shard.
 */
static const char *const shard_sums[] = { "tests", "tests_topic", "clusters", "patterns" };

int pd_mine_summary_shard(const cJSON *s, int *i, int *n)
{
	const char *sh = pd_json_str(s, "shard");
	char rest;
	return sh && sscanf(sh, "%d/%d%c", i, n, &rest) == 2 && *n >= 1 && *i >= 1 && *i <= *n ? 0 : -1;
}

/* z_hist's counts of b added to a's (in place); -1 when binned differently */
static int zhist_add(const cJSON *a, const cJSON *b)
{
	const cJSON *ca = cJSON_GetObjectItemCaseSensitive(a, "counts"),
		    *cb = cJSON_GetObjectItemCaseSensitive(b, "counts");
	if (!cJSON_IsArray(ca) || !cJSON_IsArray(cb) || cJSON_GetArraySize(ca) != cJSON_GetArraySize(cb) ||
	    !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a, "lo"), cJSON_GetObjectItemCaseSensitive(b, "lo"), 1) ||
	    !cJSON_Compare(cJSON_GetObjectItemCaseSensitive(a, "width"), cJSON_GetObjectItemCaseSensitive(b, "width"), 1))
		return -1;
	for (const cJSON *x = ca->child, *y = cb->child; x && y; x = x->next, y = y->next)
		if (!cJSON_IsNumber(x) || !cJSON_IsNumber(y))
			return -1;
	for (cJSON *x = ca->child, *y = cb->child; x && y; x = x->next, y = y->next)
		cJSON_SetNumberValue(x, x->valuedouble + y->valuedouble);
	return 0;
}

cJSON *pd_mine_summary_merge(const cJSON *const *s, size_t n, pd_err *err)
{
	int i0 = 0, n0 = 0;
	if (n == 0 || pd_mine_summary_shard(s[0], &i0, &n0) < 0 || (size_t)n0 != n) {
		pd_err_set(err, PD_EREC, "%zu mine_summary record%s of shards of %d: not the shards 1..%d of one run",
			   n, n == 1 ? "" : "s", n0, n0);
		return NULL;
	}
	cJSON *out = cJSON_Duplicate(s[0], 1);
	if (!out) {
		pd_err_set(err, PD_EREC, "out of memory merging mine_summary records");
		return NULL;
	}
	unsigned char *seen = xcalloc(n, 1);
	for (size_t k = 0; k < n; k++) {
		int i, nn;
		if (pd_mine_summary_shard(s[k], &i, &nn) < 0 || (size_t)nn != n || seen[i - 1]) {
			pd_err_set(err, PD_EREC, "mine_summary shard '%s' is not one of the shards 1..%zu, each once",
				   pd_json_str(s[k], "shard") ? pd_json_str(s[k], "shard") : "?", n);
			goto fail;
		}
		seen[i - 1] = 1;
		if (cJSON_GetArraySize((cJSON *)s[k]) != cJSON_GetArraySize(out))
			goto differ;
		for (const cJSON *f = s[k]->child; f; f = f->next) {
			const cJSON *g = cJSON_GetObjectItemCaseSensitive(out, f->string);
			int sum = 0;
			for (size_t j = 0; j < sizeof shard_sums / sizeof *shard_sums; j++)
				sum |= !strcmp(f->string, shard_sums[j]);
			if (!g)
				goto differ;
			if (!strcmp(f->string, "shard"))
				continue;
			if (!strcmp(f->string, "z_hist")) {
				if (k > 0 && zhist_add(g, f) < 0) {
					pd_err_set(err, PD_EREC, "mine_summary shards' z_hist are binned differently: not one run");
					goto fail;
				}
				continue;
			}
			if (sum && cJSON_IsNumber(f) && cJSON_IsNumber(g)) {
				if (k > 0)
					pd_json_set(out, f->string, cJSON_CreateNumber(g->valuedouble + f->valuedouble));
			} else if (!cJSON_Compare(f, g, 1)) {
				pd_err_set(err, PD_EREC, "mine_summary shards disagree on \"%s\": not one run", f->string);
				goto fail;
			}
		}
	}
	pd_json_set(out, "shard", cJSON_CreateString("1/1"));
	free(seen);
	return out;
differ:
	pd_err_set(err, PD_EREC, "mine_summary shards have different fields: not one run");
fail:
	free(seen);
	cJSON_Delete(out);
	return NULL;
}
