/*
 * cluster.c — the cluster hierarchy (see cluster.h).
 *
 * Built level by level.  For each level, the members of every parent node
 * (in node order) are gathered into one contiguous block of rows, split by
 * spherical k-means, small children merged away, and the children appended
 * as the next nodes; then every member's node at this level is the nearest
 * child under the membership rule.  Gathering costs one copy of the parent's
 * rows, which keeps the k-means on contiguous memory for sgemm; at most one
 * parent's rows are copied at a time.
 *
 * The seed of each split is derived from --seed, the level and the parent's
 * position, so a split does not depend on how many random numbers other
 * splits drew.
 *
 * The summaries a cluster record carries (label terms, perf, channels) are
 * computed here from what pd_cl_videos kept of each member, and the records
 * of this module's shapes (cluster, drift, a video's "cluster") are written
 * here too, beside their reader, so that pd-cluster only moves bytes.
 */
#include "pd.h"
#include "cluster.h"
#include "stats.h"
#include "sort.h"
#include "kmeans.h"
#include "strmap.h"
#include "embedtok.h"
#include "text.h"
#include "blas.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char *const pd_level_name[PD_NLEVELS] = { "macro", "meso", "micro" };

int pd_level_parse(const char *s)
{
	for (int i = 0; i < PD_NLEVELS; i++)
		if (s && !strcmp(s, pd_level_name[i]))
			return i;
	return -1;
}

void pd_hier_opts_default(pd_hier_opts *o)
{
	memset(o, 0, sizeof *o);
	o->band_min[PD_MACRO] = 1000;
	o->band_max[PD_MACRO] = 10000;
	o->band_min[PD_MESO] = 100;
	o->band_max[PD_MESO] = 1000;
	o->band_min[PD_MICRO] = 10;
	o->band_max[PD_MICRO] = 100;
	o->max_iter = 20;
	o->radius_share = 0.9;
}

void pd_hier_init(pd_hier *h, int d)
{
	memset(h, 0, sizeof *h);
	h->d = d;
	h->radius_share = 0.9;
}

/* the parent ids of a load, freed (pd_hier_finish, or a load abandoned) */
static void pend_clear(pd_hier *h)
{
	if (h->parent_ids)
		for (int i = 0; i < h->n; i++)
			free(h->parent_ids[i]);
	free(h->parent_ids);
	h->parent_ids = NULL;
}

void pd_hier_release(pd_hier *h)
{
	for (int i = 0; i < h->n; i++) {
		free(h->node[i].id);
		free(h->node[i].label);
	}
	pend_clear(h);	/* a load abandoned before pd_hier_finish */
	free(h->node);
	free(h->cent);
	memset(h, 0, sizeof *h);
}

/* append a node; returns its index */
static int add_node(pd_hier *h, int level, int parent, const float *c)
{
	if ((h->n & (h->n - 1)) == 0 || h->n == 0) {
		size_t cap = h->n ? (size_t)h->n * 2 : 16;
		h->node = xreallocarray(h->node, cap, sizeof *h->node);
		h->cent = xreallocarray(h->cent, cap * (size_t)h->d, sizeof *h->cent);
	}
	int i = h->n++;
	pd_cl_node *nd = &h->node[i];
	memset(nd, 0, sizeof *nd);
	nd->level = level;
	nd->parent = parent;
	nd->first_child = -1;
	memcpy(h->cent + (size_t)i * h->d, c, (size_t)h->d * sizeof *h->cent);
	return i;
}

/* the number of children for a parent of m members at a level's band */
static int choose_k(size_t m, size_t bmin, size_t bmax)
{
	double target = sqrt((double)bmin * (double)bmax);
	size_t k = (size_t)floor((double)m / target + 0.5);
	size_t kmax = bmin ? m / bmin : m;
	size_t kmin = bmax ? (m + bmax - 1) / bmax : 1;
	if (k < kmin)
		k = kmin;
	if (k > kmax)
		k = kmax;
	if (k < 1)
		k = 1;
	if (k > m)
		k = m;
	if (k > 1000000)
		k = 1000000;
	return (int)k;
}

/* remove child j (its centre) from C (k x d); members of j go to their
   nearest remaining child (s: their similarity); indices above j shift down */
static void drop_child(const float *Y, size_t m, int d, float *C, int *k, int j, int *a, float *s,
		       size_t *cnt)
{
	memmove(C + (size_t)j * d, C + (size_t)(j + 1) * d, (size_t)(*k - j - 1) * d * sizeof *C);
	memmove(cnt + j, cnt + j + 1, (size_t)(*k - j - 1) * sizeof *cnt);
	(*k)--;
	for (size_t i = 0; i < m; i++) {
		if (a[i] > j) {
			a[i]--;
		} else if (a[i] == j) {
			a[i] = pd_km_nearest(Y + i * (size_t)d, C, *k, d, &s[i]);
			cnt[a[i]]++;
		}
	}
}

/* children below bmin dropped, smallest first; returns how many */
static int merge_small(const float *Y, size_t m, int d, float *C, int *k, int *a, float *s,
		       size_t *cnt, size_t bmin)
{
	int dropped = 0;
	while (*k > 1) {
		int j = -1;
		for (int c = 0; c < *k; c++)
			if (cnt[c] < bmin && (j < 0 || cnt[c] < cnt[j]))
				j = c;
		if (j < 0)
			break;
		drop_child(Y, m, d, C, k, j, a, s, cnt);
		dropped++;
	}
	return dropped;
}

/* the mean member similarity of each child (s: each member's similarity) */
static void child_mean_sim(const int *a, const float *s, size_t m, int k, double *ms, size_t *cnt)
{
	memset(ms, 0, (size_t)k * sizeof *ms);
	for (size_t i = 0; i < m; i++)
		ms[a[i]] += s[i];
	for (int c = 0; c < k; c++)
		ms[c] = cnt[c] ? ms[c] / (double)cnt[c] : 1;
}

/*
 * merge_close: siblings that are not separable — two centroids more similar
 * to each other than the members of either are, on average, to their own —
 * are merged (the one with fewer members is dropped), while the merged size
 * stays within bmax.  Disjoint pairs are merged a round at a time, most
 * similar first; returns the number merged.
 */
static int merge_close(const float *Y, size_t m, int d, float *C, int *k, int *a, float *s,
		       size_t *cnt, size_t bmax)
{
	int K = *k;
	if (K < 2)
		return 0;
	double *ms = xmalloc((size_t)K * sizeof *ms);
	child_mean_sim(a, s, m, K, ms, cnt);
	int *drop = xcalloc((size_t)K, sizeof *drop), *used = xcalloc((size_t)K, sizeof *used);
	int merged = 0;
	for (;;) {
		int bi = -1, bj = -1;
		float best = -2;
		for (int i = 0; i < K; i++) {
			if (used[i])
				continue;
			for (int j = i + 1; j < K; j++) {
				if (used[j] || cnt[i] + cnt[j] > bmax)
					continue;
				float c = pd_km_dot(C + (size_t)i * d, C + (size_t)j * d, d);
				if (c > best && c > ms[i] && c > ms[j]) {
					best = c;
					bi = i;
					bj = j;
				}
			}
		}
		if (bi < 0)
			break;
		used[bi] = used[bj] = 1;
		drop[cnt[bi] < cnt[bj] ? bi : bj] = 1;
		merged++;
	}
	for (int j = K - 1; j >= 0; j--)
		if (drop[j])
			drop_child(Y, m, d, C, k, j, a, s, cnt);
	free(ms);
	free(drop);
	free(used);
	return merged;
}

static void count_members(const int *a, size_t m, int k, size_t *cnt)
{
	memset(cnt, 0, (size_t)k * sizeof *cnt);
	for (size_t i = 0; i < m; i++)
		cnt[a[i]]++;
}

/* centroids := normalised means of the members; members := nearest rule.
   other (may be NULL): the bounds pd_km_assign_bounded left for a and C,
   kept to place the members with less work (the same answers) */
static void update_assign(const float *Y, size_t m, int d, float *C, int k, int *a, float *s,
			  size_t *cnt, float *sum, float *other)
{
	if (other) {
		float *Cold = xmalloc((size_t)k * (size_t)d * sizeof *Cold);
		memcpy(Cold, C, (size_t)k * (size_t)d * sizeof *Cold);
		pd_km_update(Y, m, d, a, k, C, sum);
		pd_km_assign_bounded(Y, m, d, Cold, C, k, a, s, other, NULL);
		free(Cold);
	} else {
		pd_km_update(Y, m, d, a, k, C, sum);
		pd_km_assign_blas(Y, m, d, C, k, a, s, 0);
	}
	count_members(a, m, k, cnt);
}

/*
 * refine: Y (m x d) into children by k-means, then merged and split until
 * the children's sizes fall in [bmin, bmax] as far as they can; C (and cnt,
 * sum) must have room for kroom children, at least choose_k's.  Returns the
 * number of children k; a[i] is each row's child (nearest rule), s[i] its
 * similarity.
 */
static int refine(const float *Y, size_t m, int d, size_t bmin, size_t bmax, int max_iter,
		  uint64_t seed, float *C, size_t kroom, int *a, float *s, size_t *cnt, float *sum,
		  pd_err *err)
{
	int k = choose_k(m, bmin, bmax);
	pd_kmeans_opts ko = { max_iter, 0, seed, 0, 0 };
	if (pd_kmeans(Y, m, d, k, &ko, C, a, s, NULL, err) < 0)
		return -1;
	if (k > 1) {
		count_members(a, m, k, cnt);
		/* after merging, one update, then the nearest rule again */
		if (merge_small(Y, m, d, C, &k, a, s, cnt, bmin) && k > 1) {
			update_assign(Y, m, d, C, k, a, s, cnt, sum, NULL);
			merge_small(Y, m, d, C, &k, a, s, cnt, bmin);
		}
		for (int round = 0; round < 4 && k > 1; round++) {
			if (!merge_close(Y, m, d, C, &k, a, s, cnt, bmax))
				break;
			update_assign(Y, m, d, C, k, a, s, cnt, sum, NULL);
			merge_small(Y, m, d, C, &k, a, s, cnt, bmin);
		}
		/* children above the band: split the largest again (a few rounds;
		   a dense knot of near-identical videos may stay whole) */
		for (int round = 0; round < 8; round++) {
			int big = -1;
			for (int c = 0; c < k; c++)
				if (cnt[c] > bmax && (big < 0 || cnt[c] > cnt[big]))
					big = c;
			if (big < 0)
				break;
			size_t mb = cnt[big], at = 0;
			int k2 = choose_k(mb, bmin, bmax);
			if (k2 < 2 || (size_t)(k + k2 - 1) > kroom)
				break;
			float *Z = xmalloc(mb * (size_t)d * sizeof *Z);
			for (size_t i = 0; i < m; i++)
				if (a[i] == big)
					memcpy(Z + (at++) * (size_t)d, Y + i * (size_t)d, (size_t)d * sizeof *Z);
			float *C2 = xmalloc((size_t)k2 * d * sizeof *C2);
			pd_kmeans_opts k2o = { max_iter, 0, seed + 0x9e3779b97f4a7c15ULL * (uint64_t)(round + 1), 0, 0 };
			int r = pd_kmeans(Z, mb, d, k2, &k2o, C2, NULL, NULL, NULL, err);
			free(Z);
			if (r < 0) {
				free(C2);
				return -1;
			}
			memcpy(C + (size_t)big * d, C2, (size_t)d * sizeof *C);
			memcpy(C + (size_t)k * d, C2 + d, (size_t)(k2 - 1) * d * sizeof *C);
			free(C2);
			k += k2 - 1;
			pd_km_assign_blas(Y, m, d, C, k, a, s, 0);
			count_members(a, m, k, cnt);
			merge_small(Y, m, d, C, &k, a, s, cnt, bmin);
		}
	}
	if (k == 1) {
		for (size_t i = 0; i < m; i++)
			a[i] = 0;
		cnt[0] = m;
	}
	return k;
}

/*
 * split: Y (m x d) into children as refine does; when there are many rows per
 * child the children are found on a seeded sample of 256 rows per child,
 * with the bands scaled to it, as faiss trains on a sample: everyone is then
 * placed by the nearest rule, one Lloyd step is taken over everyone, and
 * children below bmin are merged by their real sizes.  On return the
 * children are ordered by size, largest first.
 */
static int split(const float *Y, size_t m, int d, size_t bmin, size_t bmax, int max_iter,
		 uint64_t seed, float *C, size_t kroom, int *a, float *s, size_t *cnt, float *sum,
		 pd_err *err)
{
	int k = choose_k(m, bmin, bmax);
	size_t ms = (size_t)256 * (size_t)k;
	if (k > 1 && m > 2 * ms) {
		pd_rng rng;
		pd_rng_seed(&rng, seed ^ 0x53414d504c45ULL);
		float *Z = pd_km_sample(Y, m, d, ms, &rng);
		double f = (double)ms / (double)m;
		size_t zmin = (size_t)fmax(1, floor((double)bmin * f + 0.5));
		size_t zmax = (size_t)fmax((double)zmin, floor((double)bmax * f + 0.5));
		/* a and s have room for m >= ms rows: the sample's work first */
		k = refine(Z, ms, d, zmin, zmax, max_iter, seed, C, kroom, a, s, cnt, sum, err);
		free(Z);
		if (k < 0)
			return -1;
		/* everyone placed, one Lloyd step, placed again: the second
		   placement keeps what the first one's bounds prove */
		float *other = k >= PD_KM_BOUNDS_MIN_K ?
			xmalloc(m * pd_km_bounds_len(k) * sizeof *other) : NULL;
		if (other)
			pd_km_assign_bounded(Y, m, d, NULL, C, k, a, s, other, NULL);
		else
			pd_km_assign_blas(Y, m, d, C, k, a, s, 0);
		count_members(a, m, k, cnt);
		if (k > 1) {
			update_assign(Y, m, d, C, k, a, s, cnt, sum, other);
			merge_small(Y, m, d, C, &k, a, s, cnt, bmin);
		}
		free(other);
	} else {
		k = refine(Y, m, d, bmin, bmax, max_iter, seed, C, kroom, a, s, cnt, sum, err);
		if (k < 0)
			return -1;
	}
	/* order children by size (largest first, then by position) */
	int *ord = xmalloc((size_t)k * sizeof *ord);
	for (int c = 0; c < k; c++)
		ord[c] = c;
	for (int i = 1; i < k; i++) {	/* insertion sort: k is small, stable */
		int v = ord[i], j = i;
		while (j > 0 && cnt[ord[j - 1]] < cnt[v]) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = v;
	}
	int *inv = xmalloc((size_t)k * sizeof *inv);
	float *C2 = xmalloc((size_t)k * d * sizeof *C2);
	for (int c = 0; c < k; c++) {
		inv[ord[c]] = c;
		memcpy(C2 + (size_t)c * d, C + (size_t)ord[c] * d, (size_t)d * sizeof *C2);
	}
	memcpy(C, C2, (size_t)k * d * sizeof *C);
	/* the similarities reported (and --assign reproduces): exact */
	for (size_t i = 0; i < m; i++) {
		a[i] = inv[a[i]];
		s[i] = pd_km_dot(Y + i * (size_t)d, C + (size_t)a[i] * d, d);
	}
	free(ord);
	free(inv);
	free(C2);
	return k;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return x < y ? -1 : x > y;
}

/* radius and mean similarity of node ni from its members' similarities */
static void node_stats(pd_cl_node *nd, float *dist, size_t m, double share, double sim_sum)
{
	nd->size = m;
	nd->mean_sim = m ? sim_sum / (double)m : 0;
	if (!m) {
		nd->radius = 0;
		return;
	}
	qsort(dist, m, sizeof *dist, cmp_float);
	size_t q = (size_t)ceil(share * (double)m);
	if (q < 1)
		q = 1;
	if (q > m)
		q = m;
	nd->radius = dist[q - 1] > 0 ? dist[q - 1] : 0;
}

static char *fresh_id(const pd_hier *h, int parent, int num)
{
	pd_buf b = PD_BUF_INIT;
	if (parent < 0)
		pd_buf_printf(&b, "m%d", num);
	else
		pd_buf_printf(&b, "%s.%d", h->node[parent].id, num);
	return pd_buf_detach(&b);
}

/*
 * The splits of one level: parents p in [0, nparents), members
 * order[start[p] .. start[p+1]).  Workers take parents from a shared counter
 * (each split depends only on its parent's rows and seed, so which thread
 * does it changes nothing); results go to per-parent slots and to a/s at the
 * members' positions in `order`.
 */
typedef struct level_job {
	const float *X;
	int d, L, max_iter, nparents;
	const pd_hier_opts *o;
	const size_t *order, *start;
	int *k;			/* per parent: children */
	float **C;		/* per parent: k x d centroids (xmalloc'ed) */
	int *a;			/* per position in order: child */
	float *s;		/* per position in order: similarity */
	int next, failed;
	pd_err err;
	pthread_mutex_t mu;
} level_job;

static void *level_worker(void *ud)
{
	level_job *j = ud;
	int d = j->d, L = j->L;
	float *Y = NULL, *C = NULL;
	size_t *cnt = NULL;
	float *sum = NULL;
	size_t ycap = 0, kcap = 0;
	for (;;) {
		pthread_mutex_lock(&j->mu);
		int p = j->failed ? j->nparents : j->next++;
		pthread_mutex_unlock(&j->mu);
		if (p >= j->nparents)
			break;
		size_t m = j->start[p + 1] - j->start[p];
		const size_t *mi = j->order + j->start[p];
		const float *Yp;
		if (L == 0) {
			Yp = j->X;
		} else {
			if (m > ycap) {
				free(Y);
				ycap = m;
				Y = xmalloc(ycap * (size_t)d * sizeof *Y);
			}
			for (size_t i = 0; i < m; i++)
				memcpy(Y + i * (size_t)d, j->X + mi[i] * (size_t)d, (size_t)d * sizeof *Y);
			Yp = Y;
		}
		/* room for the children: choose_k's, and more for splitting
		   oversized ones, never more than members / band minimum */
		size_t bmin = j->o->band_min[L], bmax = j->o->band_max[L];
		size_t kmax = (size_t)choose_k(m, bmin, bmax);
		size_t kroom = 2 * kmax + 8, kcapm = m / (bmin ? bmin : 1) + 1;
		if (kroom > kcapm)
			kroom = kcapm;
		if (kroom < kmax)
			kroom = kmax;
		if (kroom > kcap) {
			kcap = kroom;
			C = xreallocarray(C, kcap * (size_t)d, sizeof *C);
			cnt = xreallocarray(cnt, kcap, sizeof *cnt);
			sum = xreallocarray(sum, kcap * (size_t)d, sizeof *sum);
		}
		uint64_t key[3] = { j->o->seed, (uint64_t)L, (uint64_t)p };
		uint64_t seed = pd_hash64(key, sizeof key);
		pd_err err;
		int k = split(Yp, m, d, bmin, bmax, j->max_iter, seed, C, kroom,
			      j->a + j->start[p], j->s + j->start[p], cnt, sum, &err);
		if (k < 0) {
			pthread_mutex_lock(&j->mu);
			if (!j->failed)
				j->err = err;
			j->failed = 1;
			pthread_mutex_unlock(&j->mu);
			break;
		}
		j->k[p] = k;
		j->C[p] = xmalloc((size_t)k * d * sizeof *C);
		memcpy(j->C[p], C, (size_t)k * d * sizeof *C);
	}
	free(Y);
	free(C);
	free(cnt);
	free(sum);
	return NULL;
}

int pd_hier_build(const float *X, size_t n, int d, const pd_hier_opts *o, pd_hier *h,
		  int *memb, float *sim, pd_err *err)
{
	pd_hier_init(h, d);
	if (n < 1 || d < 1)
		return pd_err_set(err, PD_EUSAGE, "nothing to cluster");
	h->radius_share = o->radius_share > 0 ? o->radius_share : 0.9;
	int max_iter = o->max_iter > 0 ? o->max_iter : 20;

	size_t *order = xmalloc(n * sizeof *order);	/* members grouped by parent */
	size_t *start = NULL;				/* per parent: first in order */
	int *a = xmalloc(n * sizeof *a);
	float *s = xmalloc(n * sizeof *s);
	float *lsim = xmalloc(n * sizeof *lsim);
	float *dist = xmalloc(n * sizeof *dist);
	int rc = 0;

	/* the root: everyone */
	int nparents = 1, pfirst = -1;
	start = xmalloc(2 * sizeof *start);
	start[0] = 0;
	start[1] = n;
	for (size_t i = 0; i < n; i++)
		order[i] = i;

	/* Below the macro level the splits are many and small (a few hundred
	   rows, ten centres): OpenBLAS threads cost more to wake than they save
	   there, so those levels run OpenBLAS on one thread and spread the
	   splits over as many threads of our own as OpenBLAS was given; the
	   caller's setting is restored at the end.  Results do not depend on
	   either (kmeans.h, level_job). */
	int threads = openblas_get_num_threads();
	for (int L = 0; L < PD_NLEVELS; L++) {
		if (L == 1)
			openblas_set_num_threads(1);
		h->level_start[L] = h->n;
		level_job j;
		memset(&j, 0, sizeof j);
		j.X = X;
		j.d = d;
		j.L = L;
		j.max_iter = max_iter;
		j.nparents = nparents;
		j.o = o;
		j.order = order;
		j.start = start;
		j.k = xcalloc((size_t)nparents, sizeof *j.k);
		j.C = xcalloc((size_t)nparents, sizeof *j.C);
		j.a = a;
		j.s = s;
		pthread_mutex_init(&j.mu, NULL);
		int nt = L == 0 ? 1 : threads;
		if (nt > nparents)
			nt = nparents;
		if (nt > 64)
			nt = 64;
		pthread_t tid[64];
		int started = 0;
		for (int t = 1; t < nt; t++)
			if (pthread_create(&tid[started], NULL, level_worker, &j) == 0)
				started++;
		level_worker(&j);
		for (int t = 0; t < started; t++)
			pthread_join(tid[t], NULL);
		pthread_mutex_destroy(&j.mu);
		if (j.failed) {
			*err = j.err;
			rc = -1;
		}
		for (int p = 0; p < nparents && !rc; p++) {
			int parent = pfirst < 0 ? -1 : pfirst + p;
			int first = h->n, k = j.k[p];
			for (int c = 0; c < k; c++) {
				int ni = add_node(h, L, parent, j.C[p] + (size_t)c * d);
				h->node[ni].id = fresh_id(h, parent, c + 1);
			}
			if (parent >= 0) {
				h->node[parent].first_child = first;
				h->node[parent].nchild = k;
			}
			for (size_t i = start[p]; i < start[p + 1]; i++) {
				memb[order[i] * PD_NLEVELS + L] = first + a[i];
				lsim[order[i]] = s[i];
			}
		}
		for (int p = 0; p < nparents; p++)
			free(j.C[p]);
		free(j.C);
		free(j.k);
		if (rc)
			goto out;
		h->level_count[L] = h->n - h->level_start[L];
		/* regroup members by this level's nodes (counting sort, stable) */
		int nn = h->level_count[L], base = h->level_start[L];
		size_t *st = xcalloc((size_t)nn + 1, sizeof *st);
		for (size_t i = 0; i < n; i++)
			st[memb[i * PD_NLEVELS + L] - base + 1]++;
		for (int c = 0; c < nn; c++)
			st[c + 1] += st[c];
		size_t *pos = xmalloc((size_t)nn * sizeof *pos);
		memcpy(pos, st, (size_t)nn * sizeof *pos);
		for (size_t i = 0; i < n; i++)
			order[pos[memb[i * PD_NLEVELS + L] - base]++] = i;
		free(pos);
		free(start);
		start = st;
		nparents = nn;
		pfirst = base;
		/* stats of this level's nodes */
		for (int c = 0; c < nn; c++) {
			double ssum = 0;
			size_t m = st[c + 1] - st[c];
			for (size_t i = 0; i < m; i++) {
				float v = lsim[order[st[c] + i]];
				dist[i] = 1.0f - v;
				ssum += v;
			}
			node_stats(&h->node[base + c], dist, m, h->radius_share, ssum);
		}
		if (sim)
			for (size_t i = 0; i < n; i++)
				sim[i * PD_NLEVELS + L] = lsim[i];
	}
out:
	openblas_set_num_threads(threads);
	free(order);
	free(start);
	free(a);
	free(s);
	free(lsim);
	free(dist);
	if (rc < 0)
		pd_hier_release(h);
	return rc;
}

void pd_hier_place(const pd_hier *h, const float *x, int out[PD_NLEVELS], float sim[PD_NLEVELS])
{
	int d = h->d;
	int first = h->level_start[PD_MACRO], k = h->level_count[PD_MACRO];
	for (int L = 0; L < PD_NLEVELS; L++) {
		float s;
		int j = first + pd_km_nearest(x, h->cent + (size_t)first * d, k, d, &s);
		out[L] = j;
		if (sim)
			sim[L] = s;
		first = h->node[j].first_child;
		k = h->node[j].nchild;
	}
}

int pd_hier_depth(const pd_hier *h)
{
	int depth = 0, prev = 1;
	for (int L = 0; L < PD_NLEVELS; L++) {
		if (h->level_count[L] > prev)
			depth++;
		prev = h->level_count[L];
	}
	return depth;
}

int pd_hier_find(const pd_hier *h, const char *id)
{
	for (int i = 0; i < h->n; i++)
		if (!strcmp(h->node[i].id, id))
			return i;
	return -1;
}

/* ---- loading ---- */


int pd_hier_add(pd_hier *h, int level, const char *id, const char *parent_id,
		const float *centroid, int d, float radius, size_t size, pd_err *err)
{
	if (h->d == 0 && h->n == 0 && d > 0)
		h->d = d;	/* pd_hier_init(h, 0): the first cluster's dimension */
	if (d != h->d)
		return pd_err_set(err, PD_EUSAGE, "cluster '%s': centroid of dimension %d, expected %d",
				  id, d, h->d);
	if (level < 0 || level >= PD_NLEVELS)
		return pd_err_set(err, PD_EUSAGE, "cluster '%s': bad level", id);
	if ((level == PD_MACRO) != (parent_id == NULL || !*parent_id))
		return pd_err_set(err, PD_EUSAGE, "cluster '%s': %s", id,
				  level == PD_MACRO ? "a macro cluster has no parent"
						    : "no parent");
	int i = add_node(h, level, -1, centroid);
	h->node[i].id = xstrdup(id);
	h->node[i].radius = radius;
	h->node[i].size = size;
	h->parent_ids = xreallocarray(h->parent_ids, (size_t)h->n, sizeof *h->parent_ids);
	h->parent_ids[i] = parent_id && *parent_id ? xstrdup(parent_id) : NULL;
	return 0;
}

typedef struct load_order {
	const pd_hier *h;
	const int *parent_pos;
} load_order;

static int cmp_load(const void *pa, const void *pb, void *ctx)
{
	const load_order *lo = ctx;
	int a = *(const int *)pa, b = *(const int *)pb;
	const pd_cl_node *x = &lo->h->node[a], *y = &lo->h->node[b];
	if (x->level != y->level)
		return x->level - y->level;
	int px = x->parent >= 0 ? lo->parent_pos[x->parent] : -1;
	int py = y->parent >= 0 ? lo->parent_pos[y->parent] : -1;
	if (px != py)
		return px < py ? -1 : 1;
	return a < b ? -1 : a > b;
}

int pd_hier_finish(pd_hier *h, pd_err *err)
{
	int rc = 0, n = h->n, d = h->d;
	if (n == 0)
		return pd_err_set(err, PD_EUSAGE, "no cluster records");
	pd_strmap *ids = pd_strmap_new();
	for (int i = 0; i < n; i++) {
		int added;
		int j = pd_strmap_intern(ids, h->node[i].id, strlen(h->node[i].id), &added);
		(void)j;
		if (!added) {
			rc = pd_err_set(err, PD_EUSAGE, "cluster id '%s' appears twice", h->node[i].id);
			goto out;
		}
	}
	for (int i = 0; i < n; i++) {
		const char *pid = h->parent_ids ? h->parent_ids[i] : NULL;
		if (!pid)
			continue;
		int p = pd_strmap_find(ids, pid, strlen(pid));
		if (p < 0 || h->node[p].level != h->node[i].level - 1) {
			rc = pd_err_set(err, PD_EUSAGE, "cluster '%s': parent '%s' is not a %s cluster",
					h->node[i].id, pid,
					pd_level_name[h->node[i].level - 1]);
			goto out;
		}
		h->node[i].parent = p;
	}
	/* order: level, then parent's final position, then file order; parents
	   come first, so positions are settled level by level */
	int *ord = xmalloc((size_t)n * sizeof *ord);
	int *pos = xmalloc((size_t)n * sizeof *pos);
	for (int i = 0; i < n; i++)
		ord[i] = pos[i] = i;
	load_order lo = { h, pos };
	for (int L = 0; L < PD_NLEVELS; L++) {
		/* positions of the nodes of levels < L are final after each pass */
		pd_qsort_r(ord, (size_t)n, sizeof *ord, cmp_load, &lo);
		for (int i = 0; i < n; i++)
			pos[ord[i]] = i;
	}
	pd_cl_node *node = xmalloc((size_t)n * sizeof *node);
	float *cent = xmalloc((size_t)n * d * sizeof *cent);
	for (int i = 0; i < n; i++) {
		node[i] = h->node[ord[i]];
		if (node[i].parent >= 0)
			node[i].parent = pos[node[i].parent];
		node[i].first_child = -1;
		node[i].nchild = 0;
		memcpy(cent + (size_t)i * d, h->cent + (size_t)ord[i] * d, (size_t)d * sizeof *cent);
	}
	free(h->node);
	free(h->cent);
	h->node = node;
	h->cent = cent;
	free(ord);
	free(pos);
	for (int L = 0; L < PD_NLEVELS; L++) {
		h->level_start[L] = -1;
		h->level_count[L] = 0;
	}
	for (int i = 0; i < n; i++) {
		pd_cl_node *nd = &node[i];
		if (h->level_start[nd->level] < 0)
			h->level_start[nd->level] = i;
		h->level_count[nd->level]++;
		if (nd->parent >= 0) {
			pd_cl_node *p = &node[nd->parent];
			if (p->first_child < 0)
				p->first_child = i;
			p->nchild++;
		}
	}
	for (int L = 0; L < PD_NLEVELS; L++)
		if (h->level_count[L] == 0) {
			rc = pd_err_set(err, PD_EUSAGE, "no %s clusters", pd_level_name[L]);
			goto out;
		}
	for (int i = 0; i < n; i++)
		if (node[i].level < PD_MICRO && node[i].nchild == 0) {
			rc = pd_err_set(err, PD_EUSAGE, "cluster '%s' (%s) has no children", node[i].id,
					pd_level_name[node[i].level]);
			goto out;
		}
out:
	pend_clear(h);
	pd_strmap_free(ids);
	return rc;
}

/* ---- reading cluster records ---- */

int pd_hier_add_record(pd_hier *h, const cJSON *rec, const float *cen, int d, pd_err *err)
{
	const char *id = pd_json_str(rec, "id");
	int level = pd_level_parse(pd_json_str(rec, "level"));
	if (!id || !*id || level < 0)
		return pd_err_set(err, PD_EUSAGE, "a cluster record needs id, level and centroid_b64");
	float *own = NULL;
	size_t cap = 0;
	int rc = -1;
	pd_err e;
	if (!cen) {
		const cJSON *cb = cJSON_GetObjectItemCaseSensitive(rec, "centroid_b64");
		const cJSON *ca = cJSON_GetObjectItemCaseSensitive(rec, "centroid");
		d = 0;
		if (cJSON_IsString(cb)) {
			/* the codec reads the string's JSON text, quotes included */
			pd_buf q = PD_BUF_INIT;
			pd_buf_add_json_string(&q, cb->valuestring, strlen(cb->valuestring));
			int bad = pd_vec_parse_b64(q.p, q.len, &own, &cap, &d, &e) < 0;
			pd_buf_release(&q);
			if (bad) {
				pd_err_set(err, PD_EUSAGE, "cluster '%s': centroid_b64: %s", id, e.msg);
				goto out;
			}
		} else if (cJSON_IsArray(ca)) {
			char *t = cJSON_PrintUnformatted(ca);
			int bad = !t || pd_vec_parse_json(t, strlen(t), &own, &cap, &d, &e) < 0;
			cJSON_free(t);
			if (bad) {
				pd_err_set(err, PD_EUSAGE, "cluster '%s': centroid: %s", id,
					   t ? e.msg : "cannot be read");
				goto out;
			}
		} else {
			pd_err_set(err, PD_EUSAGE, "a cluster record needs id, level and centroid_b64");
			goto out;
		}
		cen = own;
	}
	if (d < 1) {
		pd_err_set(err, PD_EUSAGE, "cluster '%s': empty centroid", id);
		goto out;
	}
	double rad = pd_json_num(rec, "radius", 0), size = pd_json_num(rec, "size", 0);
	if (!(size >= 0) || size > 1e15)
		size = 0;
	if (pd_hier_add(h, level, id, pd_json_str(rec, "parent"), cen, d, (float)rad,
			(size_t)size, err) < 0)
		goto out;
	h->node[h->n - 1].label = pd_cluster_label(cJSON_GetObjectItemCaseSensitive(rec, "label"));
	const cJSON *rs = cJSON_GetObjectItemCaseSensitive(rec, "radius_share");
	if (cJSON_IsNumber(rs) && rs->valuedouble > 0 && rs->valuedouble <= 1)
		h->radius_share = rs->valuedouble;
	rc = 0;
out:
	free(own);
	return rc;
}

char *pd_cluster_label(const cJSON *l)
{
	if (cJSON_IsString(l))
		return *l->valuestring ? xstrdup(l->valuestring) : NULL;
	if (!cJSON_IsArray(l))
		return NULL;
	pd_buf b = PD_BUF_INIT;
	int k = 0;
	const cJSON *t;
	cJSON_ArrayForEach(t, l) {
		if (!cJSON_IsString(t) || !*t->valuestring || k == 3)
			continue;
		if (k++)
			pd_buf_adds(&b, ", ");
		pd_buf_adds(&b, t->valuestring);
	}
	return k ? pd_buf_detach(&b) : NULL;
}

int pd_hier_add_line(pd_hier *h, const char *line, size_t len, pd_err *err)
{
	char type[32];
	pd_err e;
	if (pd_json_type(line, len, type, sizeof type, &e) < 0)
		return pd_err_set(err, PD_EUSAGE, "%s", e.msg);
	if (strcmp(type, "cluster"))
		return 0;
	cJSON *rec = cJSON_ParseWithLength(line, len);
	if (!cJSON_IsObject(rec)) {
		cJSON_Delete(rec);
		return pd_err_set(err, PD_EUSAGE, "cluster record is not valid JSON");
	}
	int rc = pd_hier_add_record(h, rec, NULL, 0, err);
	cJSON_Delete(rec);
	return rc < 0 ? -1 : 1;
}

long pd_hier_load_file(const char *path, size_t max_line, pd_hier *h, pd_err *err)
{
	char *const paths[1] = { (char *)path };
	pd_input *in = pd_input_open(paths, 1, max_line ? max_line : PD_DEFAULT_MAX_LINE);
	const char *line;
	size_t len;
	long added = 0;
	int r;
	pd_err e;
	pd_hier_init(h, 0);
	while ((r = pd_input_next(in, &line, &len, &e)) != PD_LINE_EOF) {
		if (r == PD_LINE_ERROR) {
			pd_err_set(err, PD_EUSAGE, "%s", e.msg);
			goto fail;
		}
		if (r == PD_LINE_TOOLONG) {
			pd_err_set(err, PD_EUSAGE, "%s:%ld: line too long", path, pd_input_lineno(in));
			goto fail;
		}
		int k = pd_hier_add_line(h, line, len, &e);
		if (k < 0) {
			pd_err_set(err, PD_EUSAGE, "%s:%ld: %s", path, pd_input_lineno(in), e.msg);
			goto fail;
		}
		added += k;
	}
	pd_input_free(in);
	in = NULL;
	if (!added) {
		pd_err_set(err, PD_EUSAGE, "%s: no cluster records", path);
		goto fail;
	}
	if (pd_hier_finish(h, &e) < 0) {
		pd_err_set(err, PD_EUSAGE, "%s: %s", path, e.msg);
		goto fail;
	}
	return added;
fail:
	pd_input_free(in);
	pd_hier_release(h);
	return -1;
}

static uint64_t hmix(uint64_t h, uint64_t v)
{
	return h ^ (v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2));
}

uint64_t pd_hier_hash(const pd_hier *h)
{
	uint64_t x = hmix(0x51ed270b27ef5d2dull, (uint64_t)h->d);
	for (int i = 0; i < h->n; i++) {
		const pd_cl_node *nd = &h->node[i];
		x = hmix(x, pd_hash64(nd->id, strlen(nd->id)));
		x = hmix(x, ((uint64_t)(unsigned)nd->level << 32) | (uint32_t)(nd->parent + 1));
		x = hmix(x, pd_hash64(h->cent + (size_t)i * h->d, (unsigned long)h->d * sizeof(float)));
	}
	return x;
}

/* ---- ids across runs ---- */

int pd_hier_match_previous(pd_hier *h, const pd_hier *prev, double min_sim)
{
	int d = h->d, kept = 0;
	pd_strmap *used = pd_strmap_new();
	int added;
	for (int i = 0; i < prev->n; i++)
		pd_strmap_intern(used, prev->node[i].id, strlen(prev->node[i].id), &added);
	char **newid = xcalloc((size_t)h->n, sizeof *newid);
	for (int L = 0; L < PD_NLEVELS && prev->d == d; L++) {
		int ka = h->level_count[L], kb = prev->level_count[L];
		if (!ka || !kb)
			continue;
		const float *A = h->cent + (size_t)h->level_start[L] * d;
		const float *B = prev->cent + (size_t)prev->level_start[L] * d;
		int *bestb = xmalloc((size_t)ka * sizeof *bestb);
		float *bestbs = xmalloc((size_t)ka * sizeof *bestbs);
		int *besta = xmalloc((size_t)kb * sizeof *besta);
		float *bestas = xmalloc((size_t)kb * sizeof *bestas);
		for (int j = 0; j < kb; j++) {
			besta[j] = -1;
			bestas[j] = -INFINITY;
		}
		for (int i = 0; i < ka; i++) {
			bestb[i] = -1;
			bestbs[i] = -INFINITY;
		}
		/* similarities by blocks of rows of A (sgemm), best in each direction */
		int rb = (int)((4u << 20) / (unsigned)kb);
		if (rb < 1)
			rb = 1;
		float *S = xmalloc((size_t)(rb < ka ? rb : ka) * kb * sizeof *S);
		for (int i0 = 0; i0 < ka; i0 += rb) {
			int nb = ka - i0 < rb ? ka - i0 : rb;
			pd_sgemm(CblasNoTrans, CblasTrans, nb, kb, d, 1.0f,
				    A + (size_t)i0 * d, d, B, d, 0.0f, S, kb);
			for (int i = 0; i < nb; i++)
				for (int j = 0; j < kb; j++) {
					float v = S[(size_t)i * kb + j];
					if (v > bestbs[i0 + i]) {
						bestbs[i0 + i] = v;
						bestb[i0 + i] = j;
					}
					if (v > bestas[j]) {
						bestas[j] = v;
						besta[j] = i0 + i;
					}
				}
		}
		free(S);
		for (int i = 0; i < ka; i++) {
			int j = bestb[i];
			if (j >= 0 && besta[j] == i && bestbs[i] >= min_sim) {
				newid[h->level_start[L] + i] = xstrdup(prev->node[prev->level_start[L] + j].id);
				kept++;
			}
		}
		free(bestb);
		free(bestbs);
		free(besta);
		free(bestas);
	}
	/* fresh ids for the rest, parents first (nodes are in level order) */
	for (int i = 0; i < h->n; i++) {
		if (newid[i]) {
			free(h->node[i].id);
			h->node[i].id = newid[i];
			continue;
		}
		int p = h->node[i].parent;
		for (int num = 1;; num++) {
			char *id = fresh_id(h, p, num);
			if (pd_strmap_find(used, id, strlen(id)) < 0) {
				/* `used` holds every old id (so every id a later
				   node may keep) and every id given so far */
				free(h->node[i].id);
				h->node[i].id = id;
				break;
			}
			free(id);
		}
		pd_strmap_intern(used, h->node[i].id, strlen(h->node[i].id), &added);
	}
	free(newid);
	pd_strmap_free(used);
	return kept;
}

/* ---- summaries: what a cluster record says of its members ---- */

struct pd_cl_videos {
	pd_strmap *terms, *channels;
	pd_etok tok;			/* reused */
	int *tid;			/* every video's label terms, one after another */
	size_t ntid, tidcap;
	size_t *t0;			/* per video: its terms are tid[t0[i] .. t0[i + 1]) */
	int *channel;			/* per video: channel index, -1 for none */
	double *perf;
	size_t n, cap;
};

/* a word a label leaves out: one character, a number, or a label stop word (text.h) */
static int label_skips(const char *w, size_t n)
{
	if (n < 2)
		return 1;
	size_t i = 0;
	while (i < n && w[i] >= '0' && w[i] <= '9')
		i++;
	if (i == n)
		return 1;
	return (pd_text_stopword_use(w, n) & PD_STOP_LABEL) != 0;
}

pd_cl_videos *pd_cl_videos_new(void)
{
	pd_cl_videos *v = xcalloc(1, sizeof *v);
	pd_etok tok = PD_ETOK_INIT;
	v->tok = tok;
	v->terms = pd_strmap_new();
	v->channels = pd_strmap_new();
	return v;
}

void pd_cl_videos_add(pd_cl_videos *v, const char *title, const char *channel, double perf)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? 2 * v->cap : 1024;
		v->t0 = xreallocarray(v->t0, v->cap + 1, sizeof *v->t0);
		v->channel = xreallocarray(v->channel, v->cap, sizeof *v->channel);
		v->perf = xreallocarray(v->perf, v->cap, sizeof *v->perf);
	}
	size_t i = v->n++;
	v->perf[i] = perf;
	v->channel[i] = -1;
	if (channel) {
		int added;
		v->channel[i] = pd_strmap_intern(v->channels, channel, strlen(channel), &added);
	}
	v->t0[i] = v->ntid;
	if (title) {
		int nw = pd_etok_split(&v->tok, title, strlen(title));
		for (int k = 0; k < nw; k++) {
			const char *w = pd_etok_at(&v->tok, k);
			if (label_skips(w, v->tok.len[k]))
				continue;
			int added;
			int id = pd_strmap_intern(v->terms, w, v->tok.len[k], &added);
			int dup = 0;
			for (size_t j = v->t0[i]; j < v->ntid; j++)
				dup |= v->tid[j] == id;
			if (dup)
				continue;
			if (v->ntid == v->tidcap) {
				v->tidcap = v->tidcap ? 2 * v->tidcap : 65536;
				v->tid = xreallocarray(v->tid, v->tidcap, sizeof *v->tid);
			}
			v->tid[v->ntid++] = id;
		}
	}
	v->t0[i + 1] = v->ntid;
}

size_t pd_cl_videos_count(const pd_cl_videos *v)
{
	return v->n;
}

void pd_cl_videos_free(pd_cl_videos *v)
{
	if (!v)
		return;
	pd_strmap_free(v->terms);
	pd_strmap_free(v->channels);
	pd_etok_release(&v->tok);
	free(v->tid);
	free(v->t0);
	free(v->channel);
	free(v->perf);
	free(v);
}

typedef struct lscore {
	int id;
	double score;
} lscore;

/* label terms: higher score first, then by the term's text */
static int cmp_lscore(const void *a, const void *b, void *ctx)
{
	const pd_strmap *terms = ctx;
	const lscore *x = a, *y = b;
	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return strcmp(pd_strmap_key(terms, x->id), pd_strmap_key(terms, y->id));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

pd_cl_summary *pd_hier_summarise(const pd_hier *h, const int *memb, const pd_cl_videos *v,
				 int nlabels, double high)
{
	size_t n = v->n;
	int V = pd_strmap_size(v->terms), nch = pd_strmap_size(v->channels);
	const int *tid = v->tid;
	int *df = xcalloc((size_t)V + 1, sizeof *df);
	for (size_t j = 0; j < v->ntid; j++)
		df[tid[j]]++;
	int *cnt = xcalloc((size_t)V + 1, sizeof *cnt);
	int *touched = xmalloc(((size_t)V + 1) * sizeof *touched);
	lscore *ls = xmalloc(((size_t)V + 1) * sizeof *ls);
	int *chstamp = xcalloc((size_t)nch + 1, sizeof *chstamp);
	double *perf = xmalloc((n + 1) * sizeof *perf);
	/* members of every node, grouped (node order) */
	size_t *st = xcalloc((size_t)h->n + 1, sizeof *st);
	size_t *ord = xmalloc((n * PD_NLEVELS + 1) * sizeof *ord);
	for (size_t i = 0; i < n; i++)
		for (int L = 0; L < PD_NLEVELS; L++)
			st[memb[i * PD_NLEVELS + L] + 1]++;
	for (int c = 0; c < h->n; c++)
		st[c + 1] += st[c];
	size_t *pos = xmalloc(((size_t)h->n + 1) * sizeof *pos);
	memcpy(pos, st, (size_t)h->n * sizeof *pos);
	for (size_t i = 0; i < n; i++)
		for (int L = 0; L < PD_NLEVELS; L++)
			ord[pos[memb[i * PD_NLEVELS + L]]++] = i;
	free(pos);

	pd_cl_summary *out = xcalloc((size_t)h->n + 1, sizeof *out);
	for (int c = 0; c < h->n; c++) {
		pd_cl_summary *s = &out[c];
		size_t m = st[c + 1] - st[c];
		const size_t *mi = ord + st[c];
		int nt = 0, np = 0, chans = 0;
		double sumlog = 0;
		int nlog = 0, nhigh = 0;
		for (size_t k = 0; k < m; k++) {
			size_t i = mi[k];
			for (size_t j = v->t0[i]; j < v->t0[i + 1]; j++)
				if (!cnt[tid[j]]++)
					touched[nt++] = tid[j];
			int ch = v->channel[i];
			if (ch >= 0 && chstamp[ch] != c + 1) {
				chstamp[ch] = c + 1;
				chans++;
			}
			double p = v->perf[i];
			if (isfinite(p)) {
				perf[np++] = p;
				if (p > 0) {
					sumlog += log(p);
					nlog++;
				}
				nhigh += p >= high;
			}
		}
		/* labels: terms over-represented in the cluster, weighted by count */
		int nl = 0;
		for (int t = 0; t < nt; t++) {
			int id = touched[t];
			double in = cnt[id];
			if (in >= 2 || m < 4) {
				double lift = (in / (double)m) / ((double)df[id] / (double)n);
				ls[nl].id = id;
				ls[nl].score = in * log(lift > 1 ? lift : 1) + 1e-9 * in;
				nl++;
			}
			cnt[id] = 0;
		}
		pd_qsort_r(ls, (size_t)nl, sizeof *ls, cmp_lscore, v->terms);
		s->size = m;
		s->nperf = np;
		s->median = NAN;
		if (np) {
			qsort(perf, (size_t)np, sizeof *perf, cmp_double);
			s->median = pd_median_sorted(perf, (size_t)np);
		}
		s->mean_log = nlog ? sumlog / nlog : NAN;
		s->share_high = np ? (double)nhigh / np : NAN;
		s->channels = chans;
		s->nlabel = nl < nlabels ? nl : nlabels;
		s->label = xmalloc(((size_t)s->nlabel + 1) * sizeof *s->label);
		for (int k = 0; k < s->nlabel; k++)
			s->label[k] = xstrdup(pd_strmap_key(v->terms, ls[k].id));
	}
	free(df);
	free(cnt);
	free(touched);
	free(ls);
	free(chstamp);
	free(perf);
	free(st);
	free(ord);
	return out;
}

void pd_cl_summaries_free(pd_cl_summary *s, int n)
{
	if (!s)
		return;
	for (int c = 0; c < n; c++) {
		for (int k = 0; k < s[c].nlabel; k++)
			free(s[c].label[k]);
		free(s[c].label);
	}
	free(s);
}

/* ---- writing: cluster records, drift records, a video's clusters ---- */

static void add_str(pd_buf *b, const char *s)
{
	pd_buf_add_json_string(b, s, strlen(s));
}

void pd_cluster_record_write(pd_buf *b, const pd_hier *h, int c, const pd_cl_summary *s)
{
	const pd_cl_node *nd = &h->node[c];
	pd_buf_adds(b, "{\"type\":\"cluster\",\"id\":");
	add_str(b, nd->id);
	pd_buf_printf(b, ",\"level\":\"%s\",\"parent\":", pd_level_name[nd->level]);
	if (nd->parent >= 0)
		add_str(b, h->node[nd->parent].id);
	else
		pd_buf_adds(b, "null");
	pd_buf_printf(b, ",\"size\":%zu,\"centroid_b64\":\"", s->size);
	pd_vec_add_b64(b, h->cent + (size_t)c * h->d, h->d);
	pd_buf_adds(b, "\",\"radius\":");
	pd_buf_add_num(b, nd->radius);
	pd_buf_adds(b, ",\"radius_share\":");
	pd_buf_add_num(b, h->radius_share);
	pd_buf_adds(b, ",\"mean_sim\":");
	pd_buf_add_num(b, nd->mean_sim);
	pd_buf_printf(b, ",\"perf\":{\"n\":%d,\"median\":", s->nperf);
	pd_buf_add_num(b, s->median);
	pd_buf_adds(b, ",\"mean_log\":");
	pd_buf_add_num(b, s->mean_log);
	pd_buf_adds(b, ",\"share_high\":");
	pd_buf_add_num(b, s->share_high);
	pd_buf_printf(b, "},\"channels\":%d,\"label\":[", s->channels);
	for (int k = 0; k < s->nlabel; k++) {
		if (k)
			pd_buf_addc(b, ',');
		add_str(b, s->label[k]);
	}
	pd_buf_adds(b, "]}\n");
}

void pd_drift_init(pd_drift *d, const pd_hier *h)
{
	d->n = xcalloc((size_t)h->n + 1, sizeof *d->n);
	d->beyond = xcalloc((size_t)h->n + 1, sizeof *d->beyond);
	d->placed = d->beyond_total = 0;
}

void pd_drift_add(pd_drift *d, const pd_hier *h, const int nodes[PD_NLEVELS], float micro_sim)
{
	int mc = nodes[PD_MICRO];
	d->n[mc]++;
	if (1.0f - micro_sim > h->node[mc].radius) {
		d->beyond[mc]++;
		d->beyond_total++;
	}
	d->placed++;
}

void pd_drift_release(pd_drift *d)
{
	free(d->n);
	free(d->beyond);
	d->n = d->beyond = NULL;
}

void pd_drift_record_write(pd_buf *b, const pd_hier *h, int c, size_t n, size_t beyond)
{
	pd_buf_adds(b, "{\"type\":\"drift\",\"cluster\":");
	add_str(b, h->node[c].id);
	pd_buf_printf(b, ",\"level\":\"%s\",\"n\":%zu,\"beyond_radius\":%zu,\"share\":",
		      pd_level_name[h->node[c].level], n, beyond);
	pd_buf_add_num(b, (double)beyond / (double)n);
	pd_buf_adds(b, ",\"radius\":");
	pd_buf_add_num(b, h->node[c].radius);
	pd_buf_adds(b, "}\n");
}

typedef struct splice {
	pd_buf *out;
	int first;
	const char *s;
} splice;

static int splice_cb(const pd_jmember *m, void *ud)
{
	splice *sp = ud;
	if ((m->keylen == 7 && !memcmp(m->key, "cluster", 7)) ||
	    (m->keylen == 11 && !memcmp(m->key, "cluster_sim", 11)))
		return 0;
	if (!sp->first)
		pd_buf_addc(sp->out, ',');
	sp->first = 0;
	pd_buf_add(sp->out, sp->s + m->start, m->end - m->start);
	return 0;
}

int pd_cluster_video_write(pd_buf *out, const char *line, size_t len, int had_cluster,
			   const pd_hier *h, const int nodes[PD_NLEVELS], float sim, pd_err *err)
{
	size_t end = len;
	while (end > 0 && line[end - 1] != '}')
		end--;
	if (!had_cluster && end >= 2) {
		size_t last = end - 1;
		while (last > 1 && (line[last - 1] == ' ' || line[last - 1] == '\t' ||
				    line[last - 1] == '\r' || line[last - 1] == '\n'))
			last--;
		pd_buf_add(out, line, end - 1);
		if (line[last - 1] != '{')
			pd_buf_addc(out, ',');
	} else {
		size_t at = out->len;
		splice sp = { out, 1, line };
		pd_buf_addc(out, '{');
		if (pd_json_members(line, len, splice_cb, &sp, err) < 0) {
			out->len = at;
			out->p[at] = '\0';
			return -1;
		}
		if (!sp.first)
			pd_buf_addc(out, ',');
	}
	pd_buf_adds(out, "\"cluster\":{");
	for (int L = 0; L < PD_NLEVELS; L++) {
		if (L)
			pd_buf_addc(out, ',');
		pd_buf_addc(out, '"');
		pd_buf_adds(out, pd_level_name[L]);
		pd_buf_adds(out, "\":");
		add_str(out, h->node[nodes[L]].id);
	}
	pd_buf_adds(out, "},\"cluster_sim\":");
	pd_buf_add_num(out, sim);
	pd_buf_adds(out, "}\n");
	return 0;
}
