/*
 * eval_future.c — does what pd found on older videos hold on newer ones?
 * The measuring half of `make eval` (scripts/eval runs the pipeline).
 *
 *   eval_future CLUSTERS TRAIN PATTERNS FUTURE CUT [LABEL]
 *
 * CLUSTERS: the training run's cluster records; TRAIN: its video records
 * (with "cluster" and "perf"); PATTERNS: pd-validate's output (any records;
 * the pattern records are read); FUTURE: the newer videos, fetched on their
 * own and placed with `pd-cluster --assign` into the training hierarchy;
 * CUT: the RFC 3339 time that splits them.
 *
 * For each pattern its cluster's future videos (those the hierarchy placed
 * in that cluster, at the pattern's level) are split by the feature and
 * compared by a one-sided Mann-Whitney test on perf in the pattern's
 * direction.  Testable: at least 5 videos with and 5 without.  Replicated:
 * p < 0.05.  Direction agrees: the probability of superiority U/(n1 n0) is
 * on the pattern's side of 1/2.  A `trend` pattern is tested only on the
 * videos of the first 4 weeks after the cut, and counted apart.
 *
 * The baseline is the original guide's heuristic, re-implemented here: in
 * every training cluster of 30 to 500 videos with a perf (the guide's
 * minClusterSize / maxClusterSize), the high performers (perf >= 2.0, its
 * performanceThreshold); a single feature (lib/features.h atoms) is a
 * pattern when at least 3 high performers and 30% of them have it and it is
 * 1.5 times as frequent among them as in the cluster; no test.  Its patterns
 * are tested on the future exactly as pd's.
 *
 * Prints a readable report, then one line `eval {json}` with the figures.
 * Per-pattern results (every candidate, rejected ones too) go to
 * $EVAL_DETAIL (NDJSON) when that is set.
 */
#include "../../lib/pd.h"
#include "../../lib/features.h"
#include "../../lib/stats.h"
#include "../../lib/strmap.h"
#include "../../lib/timeutil.h"
#include "../../lib/video.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NLEV = 3 };
static const char *const LEV[NLEV] = { "macro", "meso", "micro" };

typedef struct vrec {
	double perf, published;
	int ch;			/* channel index */
	uint64_t vh;		/* a hash of the video id, for the video-level placebo */
	int cl[NLEV];		/* cluster index per level, -1 */
	pd_vfeat *vf;
} vrec;

typedef struct vset {
	vrec *v;
	size_t n, cap;
} vset;

typedef struct cinfo {
	int level, parent;
	double size;
	char *parent_id;
} cinfo;

static pd_strmap *cmap, *chmap;
static cinfo *cl;
static int ncl, capcl;

static int level_of(const char *s)
{
	for (int i = 0; i < NLEV; i++)
		if (s && !strcmp(s, LEV[i]))
			return i;
	return -1;
}

static int cluster_index(const char *id)
{
	int added;
	int k = pd_strmap_intern(cmap, id, strlen(id), &added);
	if (added) {
		if (ncl == capcl) {
			capcl = capcl ? 2 * capcl : 256;
			cl = xreallocarray(cl, (size_t)capcl, sizeof *cl);
		}
		cl[ncl].level = -1;
		cl[ncl].parent = -1;
		cl[ncl].size = 0;
		cl[ncl].parent_id = NULL;
		ncl++;
	}
	return k;
}

static FILE *open_or_die(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		exit(2);
	}
	return f;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(x) ? x->valuestring : NULL;
}

static void read_clusters(const char *path)
{
	FILE *f = open_or_die(path);
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		if (!strstr(line, "\"type\":\"cluster\""))
			continue;
		cJSON *j = cJSON_Parse(line);
		const char *id = jstr(j, "id");
		if (id) {
			int k = cluster_index(id);
			cl[k].level = level_of(jstr(j, "level"));
			const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "size");
			cl[k].size = cJSON_IsNumber(s) ? s->valuedouble : 0;
			const char *p = jstr(j, "parent");
			cl[k].parent_id = p ? xstrdup(p) : NULL;
		}
		cJSON_Delete(j);
	}
	free(line);
	fclose(f);
	for (int k = 0; k < ncl; k++)
		if (cl[k].parent_id)
			cl[k].parent = pd_strmap_find(cmap, cl[k].parent_id, strlen(cl[k].parent_id));
}

/* video records with a perf and a cluster path */
static void read_videos(const char *path, vset *out)
{
	FILE *f = open_or_die(path);
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "{\"type\":\"video\"", 15) != 0)
			continue;
		cJSON *j = cJSON_Parse(line);
		pd_video v;
		pd_err e;
		if (!j || pd_video_from_json(j, &v, &e) < 0) {
			cJSON_Delete(j);
			continue;
		}
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "cluster");
		if (isfinite(v.perf) && v.perf > 0 && cJSON_IsObject(c)) {
			if (out->n == out->cap) {
				out->cap = out->cap ? 2 * out->cap : 1024;
				out->v = xreallocarray(out->v, out->cap, sizeof *out->v);
			}
			vrec *r = &out->v[out->n++];
			r->perf = v.perf;
			r->published = v.published_at;
			const char *ch = v.channel_id ? v.channel_id : "";
			int added;
			r->ch = pd_strmap_intern(chmap, ch, strlen(ch), &added);
			r->vh = pd_hash64(v.id ? v.id : "", v.id ? strlen(v.id) : 0);
			for (int l = 0; l < NLEV; l++) {
				const char *id = jstr(c, LEV[l]);
				r->cl[l] = id ? cluster_index(id) : -1;
			}
			r->vf = pd_vfeat_new();
			pd_vfeat_extract(r->vf, &v, 0);
		}
		pd_video_release(&v);
		cJSON_Delete(j);
	}
	free(line);
	fclose(f);
}

typedef struct result {
	int testable, replicated, agrees;
	int replicated_cl;	/* by the channel-clustered rank test */
	long n1, n0;
	double p, ps;		/* one-sided p, probability of superiority */
	double p_cl;
} result;

static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/*
 * Placebo features: a quarter of the cluster's channels (PLACEBO_CHANNEL) or
 * of its videos (PLACEBO_VIDEO), drawn by a hash salted with the pattern's
 * index.  They carry no effect, so the share of them that "replicate" is the
 * future test's chance level: 5% if the test is right, more if videos of one
 * channel are not independent of one another.
 */
enum { PLACEBO_NONE, PLACEBO_CHANNEL, PLACEBO_VIDEO };

static int has_feature(const vrec *v, const pd_feature *f, int placebo, uint64_t salt)
{
	if (placebo == PLACEBO_CHANNEL)
		return (mix64((uint64_t)v->ch ^ mix64(salt)) & 3) == 0;
	if (placebo == PLACEBO_VIDEO)
		return (mix64(v->vh ^ mix64(salt)) & 3) == 0;
	return pd_feature_has(f, v->vf);
}

/*
 * The future test of feature f (direction positive) in cluster k at level
 * lev: the one-sided rank test, and beside it the same question with a
 * channel's videos as one unit of evidence (pd_mann_whitney_clustered).
 */
static void future_test_as(const vset *fut, const pd_feature *f, int placebo, uint64_t salt, int k,
			   int lev, int positive, double until, result *r)
{
	size_t n = fut->n;
	double *x = xmalloc((n + 1) * sizeof *x), *y = xmalloc((n + 1) * sizeof *y);
	int *gx = xmalloc((n + 1) * sizeof *gx), *gy = xmalloc((n + 1) * sizeof *gy);
	size_t nx = 0, ny = 0;
	for (size_t i = 0; i < n; i++) {
		const vrec *v = &fut->v[i];
		if (v->cl[lev] != k || (isfinite(until) && !(v->published < until)))
			continue;
		if (has_feature(v, f, placebo, salt)) {
			gx[nx] = v->ch;
			x[nx++] = v->perf;
		} else {
			gy[ny] = v->ch;
			y[ny++] = v->perf;
		}
	}
	memset(r, 0, sizeof *r);
	r->n1 = (long)nx;
	r->n0 = (long)ny;
	r->p = r->p_cl = 1;
	r->ps = NAN;
	if (nx >= 5 && ny >= 5) {
		double u;
		r->testable = 1;
		r->p = pd_mann_whitney(x, nx, y, ny, positive, &u);
		r->ps = u / ((double)nx * (double)ny);
		r->agrees = positive ? r->ps > 0.5 : r->ps < 0.5;
		r->replicated = r->p < 0.05;
		r->p_cl = pd_mann_whitney_clustered(x, gx, nx, y, gy, ny, positive, NULL);
		r->replicated_cl = r->p_cl < 0.05;
	}
	free(x);
	free(y);
	free(gx);
	free(gy);
}

static void future_test(const vset *fut, const pd_feature *f, int k, int lev, int positive,
			double until, result *r)
{
	future_test_as(fut, f, PLACEBO_NONE, 0, k, lev, positive, until, r);
}

/* ---- the guide's heuristic ---- */

typedef struct bpat {
	pd_feature *f;
	int k, lev;
} bpat;

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static size_t baseline(const vset *train, bpat **out)
{
	size_t nb = 0, capb = 0;
	*out = NULL;
	for (int k = 0; k < ncl; k++) {
		int lev = cl[k].level;
		if (lev < 0)
			continue;
		size_t N = 0, H = 0;
		for (size_t i = 0; i < train->n; i++)
			if (train->v[i].cl[lev] == k) {
				N++;
				H += train->v[i].perf >= 2.0;
			}
		if (N < 30 || N > 500 || H < 3)
			continue;
		/* count atoms among all and among high performers: keys sorted */
		uint64_t *all = NULL, *hi = NULL;
		size_t na = 0, ca = 0, nh = 0, ch = 0;
		pd_strmap *texts = pd_strmap_new();	/* key as hex -> index into txts */
		char **txts = NULL;
		size_t ntx = 0;
		for (size_t i = 0; i < train->n; i++) {
			const vrec *v = &train->v[i];
			if (v->cl[lev] != k)
				continue;
			const uint64_t *keys;
			const char *tx;
			const size_t *offs;
			int m = pd_vfeat_atoms(v->vf, 3, &keys, &tx, &offs);
			for (int a = 0; a < m; a++) {
				if (na == ca) {
					ca = ca ? 2 * ca : 4096;
					all = xreallocarray(all, ca, sizeof *all);
				}
				all[na++] = keys[a];
				if (v->perf >= 2.0) {
					if (nh == ch) {
						ch = ch ? 2 * ch : 1024;
						hi = xreallocarray(hi, ch, sizeof *hi);
					}
					hi[nh++] = keys[a];
					char kb[17];
					snprintf(kb, sizeof kb, "%016llx", (unsigned long long)keys[a]);
					int added;
					pd_strmap_intern(texts, kb, 16, &added);
					if (added) {
						txts = xreallocarray(txts, ntx + 1, sizeof *txts);
						txts[ntx++] = xstrdup(tx + offs[a]);
					}
				}
			}
		}
		qsort(all, na, sizeof *all, cmp_u64);
		qsort(hi, nh, sizeof *hi, cmp_u64);
		for (size_t i = 0, j; i < nh; i = j) {
			for (j = i; j < nh && hi[j] == hi[i]; j++)
				;
			size_t cnt_h = j - i;
			if (cnt_h < 3 || (double)cnt_h < 0.3 * (double)H)
				continue;
			/* frequency among all */
			size_t lo = 0, up = na;
			while (lo < up) {
				size_t mid = (lo + up) / 2;
				if (all[mid] < hi[i])
					lo = mid + 1;
				else
					up = mid;
			}
			size_t cnt_a = 0;
			while (lo + cnt_a < na && all[lo + cnt_a] == hi[i])
				cnt_a++;
			double lift = ((double)cnt_h / (double)H) / ((double)cnt_a / (double)N);
			if (lift < 1.5)
				continue;
			char kb[17];
			snprintf(kb, sizeof kb, "%016llx", (unsigned long long)hi[i]);
			int t = pd_strmap_find(texts, kb, 16);
			if (t < 0)
				continue;
			const char *txt = txts[t];
			pd_err e;
			pd_feature *f = pd_feature_parse(txt, strlen(txt), &e);
			if (!f)
				continue;
			if (nb == capb) {
				capb = capb ? 2 * capb : 256;
				*out = xreallocarray(*out, capb, sizeof **out);
			}
			(*out)[nb].f = f;
			(*out)[nb].k = k;
			(*out)[nb].lev = lev;
			nb++;
		}
		free(all);
		free(hi);
		pd_strmap_free(texts);
		for (size_t i = 0; i < ntx; i++)
			free(txts[i]);
		free(txts);
	}
	return nb;
}

/* ---- report ---- */

typedef struct tally {
	long n, testable, replicated, agrees, big, big_rep, big_agree, replicated_cl;
} tally;

static void tally_add(tally *t, const result *r)
{
	t->n++;
	if (!r->testable)
		return;
	t->testable++;
	t->replicated += r->replicated;
	t->replicated_cl += r->replicated_cl;
	t->agrees += r->agrees;
	if (r->n1 >= 20) {
		t->big++;
		t->big_rep += r->replicated;
		t->big_agree += r->agrees;
	}
}

static double share(long a, long b)
{
	return b ? (double)a / (double)b : NAN;
}

static void tally_print(const char *what, const tally *t)
{
	printf("%-34s %5ld patterns, %5ld testable, %5ld replicate (%5.1f%%), direction agrees %5.1f%%;"
	       " with >= 20 future videos with the feature: %ld, %ld replicate, %ld agree;"
	       " by the channel-clustered test %ld replicate (%.1f%%)\n",
	       what, t->n, t->testable, t->replicated, 100 * share(t->replicated, t->testable),
	       100 * share(t->agrees, t->testable), t->big, t->big_rep, t->big_agree, t->replicated_cl,
	       100 * share(t->replicated_cl, t->testable));
}

static void tally_json(const char *k, const tally *t)
{
	printf("\"%s\":{\"patterns\":%ld,\"testable\":%ld,\"replicated\":%ld,\"agree\":%ld,\"replicated_cl\":%ld}",
	       k, t->n, t->testable, t->replicated, t->agrees, t->replicated_cl);
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: eval_future CLUSTERS TRAIN PATTERNS FUTURE CUT [LABEL]\n");
		return 2;
	}
	pd_err e;
	double cut;
	if (pd_time_parse(argv[5], &cut) != 0) {
		fprintf(stderr, "eval_future: bad CUT '%s'\n", argv[5]);
		return 2;
	}
	const char *label = argc > 6 ? argv[6] : "";
	cmap = pd_strmap_new();
	chmap = pd_strmap_new();
	read_clusters(argv[1]);
	vset train = { 0 }, fut = { 0 };
	read_videos(argv[2], &train);
	read_videos(argv[4], &fut);
	FILE *detail = getenv("EVAL_DETAIL") && *getenv("EVAL_DETAIL") ? fopen(getenv("EVAL_DETAIL"), "a") : NULL;

	/* pd's patterns */
	tally ev = { 0 }, tr = { 0 }, prov = { 0 };
	/* calibration: 5 bins of stated confidence over the testable validated
	   patterns (evergreen + trend), and over validated + provisional */
	long cbin_n[5] = { 0 }, cbin_rep[5] = { 0 }, abin_n[5] = { 0 }, abin_rep[5] = { 0 };
	double cbin_sum[5] = { 0 }, abin_sum[5] = { 0 };
	/* and over every candidate (rejected ones too, when pd-validate kept them) */
	long ebin_n[5] = { 0 }, ebin_rep[5] = { 0 };
	double ebin_sum[5] = { 0 };
	unsigned char *covered = xcalloc((size_t)ncl + 1, 1);
	FILE *f = open_or_die(argv[3]);
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, "{\"type\":\"pattern\"", 17) != 0)
			continue;
		cJSON *j = cJSON_Parse(line);
		const char *status = jstr(j, "status"), *cid = jstr(j, "cluster"), *kind = jstr(j, "kind");
		int lev = level_of(jstr(j, "level"));
		const char *dir = jstr(j, "direction");
		int positive = !dir || strcmp(dir, "negative") != 0;
		pd_feature *feat = pd_feature_from_json(cJSON_GetObjectItemCaseSensitive(j, "feature"), &e);
		int k = cid ? pd_strmap_find(cmap, cid, strlen(cid)) : -1;
		int validated = status && !strcmp(status, "validated");
		int provisional = status && !strcmp(status, "provisional");
		if (feat && k >= 0 && lev >= 0) {
			int trend = kind && !strcmp(kind, "trend");
			result r;
			future_test(&fut, feat, k, lev, positive, trend ? cut + 28 * 86400.0 : NAN, &r);
			const cJSON *cf0 = cJSON_GetObjectItemCaseSensitive(j, "confidence");
			if (r.testable && cJSON_IsNumber(cf0)) {
				int b = (int)(cf0->valuedouble * 5);
				b = b < 0 ? 0 : b > 4 ? 4 : b;
				ebin_n[b]++;
				ebin_rep[b] += r.replicated;
				ebin_sum[b] += cf0->valuedouble;
			}
			if (detail) {
				const char *name = jstr(j, "name");
				fprintf(detail, "{\"run\":\"%s\",\"id\":\"%s\",\"status\":\"%s\",\"kind\":\"%s\",\"level\":\"%s\","
					"\"n1\":%ld,\"n0\":%ld,\"p\":%.4g,\"ps\":%.4g,\"p_cl\":%.4g,\"testable\":%d,"
					"\"replicated\":%d,\"replicated_cl\":%d,\"name\":",
					label, jstr(j, "id"), status, kind ? kind : "", LEV[lev], r.n1, r.n0, r.p,
					isfinite(r.ps) ? r.ps : -1, r.p_cl, r.testable, r.replicated, r.replicated_cl);
				cJSON *s = cJSON_CreateString(name ? name : "");
				char *t = cJSON_PrintUnformatted(s);
				fprintf(detail, "%s}\n", t);
				free(t);
				cJSON_Delete(s);
			}
			if (!validated && !provisional)
				goto next;
			if (r.testable && cJSON_IsNumber(cf0)) {
				int b = (int)(cf0->valuedouble * 5);
				b = b < 0 ? 0 : b > 4 ? 4 : b;
				abin_n[b]++;
				abin_rep[b] += r.replicated;
				abin_sum[b] += cf0->valuedouble;
			}
			if (validated) {
				tally_add(trend ? &tr : &ev, &r);
				/* coverage: the cluster and its ancestors */
				for (int c = k, s = 0; c >= 0 && s < 4; c = cl[c].parent, s++)
					covered[c] = 1;
				const cJSON *cf = cJSON_GetObjectItemCaseSensitive(j, "confidence");
				if (r.testable && cJSON_IsNumber(cf)) {
					int b = (int)(cf->valuedouble * 5);
					b = b < 0 ? 0 : b > 4 ? 4 : b;
					cbin_n[b]++;
					cbin_rep[b] += r.replicated;
					cbin_sum[b] += cf->valuedouble;
				}
			} else {
				tally_add(&prov, &r);
			}
		}
	next:
		pd_feature_free(feat);
		cJSON_Delete(j);
	}
	free(line);
	fclose(f);

	/* meso coverage: meso clusters of >= 30 training videos with a validated pattern
	   of their own or of a child */
	long meso = 0, meso_cov = 0;
	for (int k = 0; k < ncl; k++)
		if (cl[k].level == 1 && cl[k].size >= 30) {
			meso++;
			int c = covered[k];
			for (int x = 0; x < ncl && !c; x++)
				if (cl[x].parent == k && covered[x])
					c = 1;
			meso_cov += c;
		}

	/* the guide's heuristic */
	bpat *bp;
	size_t nb = baseline(&train, &bp);
	tally base = { 0 }, plc = { 0 }, plv = { 0 };
	for (size_t i = 0; i < nb; i++) {
		result r;
		future_test(&fut, bp[i].f, bp[i].k, bp[i].lev, 1, NAN, &r);
		tally_add(&base, &r);
		/* placebos in the same clusters */
		future_test_as(&fut, NULL, PLACEBO_CHANNEL, i, bp[i].k, bp[i].lev, 1, NAN, &r);
		tally_add(&plc, &r);
		future_test_as(&fut, NULL, PLACEBO_VIDEO, i, bp[i].k, bp[i].lev, 1, NAN, &r);
		tally_add(&plv, &r);
		pd_feature_free(bp[i].f);
	}
	free(bp);

	printf("== %s: %zu training videos with perf, %zu future videos with perf ==\n", label, train.n, fut.n);
	tally_print("pd validated, evergreen", &ev);
	tally_print("pd validated, trend (first 4 weeks)", &tr);
	tally_print("pd provisional", &prov);
	tally_print("guide's heuristic (no tests)", &base);
	tally_print("placebo: a quarter of the channels", &plc);
	tally_print("placebo: a quarter of the videos", &plv);
	printf("meso clusters (>= 30 videos) with a validated pattern of their own or a child's: %ld of %ld (%.1f%%)\n",
	       meso_cov, meso, 100 * share(meso_cov, meso));
	printf("calibration (validated, testable): stated confidence bin, patterns, mean stated, observed replication\n");
	for (int b = 0; b < 5; b++)
		if (cbin_n[b])
			printf("  [%.1f, %.1f)  %4ld  %.2f  %.2f\n", b / 5.0, (b + 1) / 5.0, cbin_n[b],
			       cbin_sum[b] / (double)cbin_n[b], share(cbin_rep[b], cbin_n[b]));
	printf("calibration (validated and provisional, testable):\n");
	for (int b = 0; b < 5; b++)
		if (abin_n[b])
			printf("  [%.1f, %.1f)  %4ld  %.2f  %.2f\n", b / 5.0, (b + 1) / 5.0, abin_n[b],
			       abin_sum[b] / (double)abin_n[b], share(abin_rep[b], abin_n[b]));
	printf("calibration (every candidate, rejected ones included, testable):\n");
	for (int b = 0; b < 5; b++)
		if (ebin_n[b])
			printf("  [%.1f, %.1f)  %4ld  %.2f  %.2f\n", b / 5.0, (b + 1) / 5.0, ebin_n[b],
			       ebin_sum[b] / (double)ebin_n[b], share(ebin_rep[b], ebin_n[b]));
	printf("eval {\"label\":\"%s\",", label);
	tally_json("evergreen", &ev);
	putchar(',');
	tally_json("trend", &tr);
	putchar(',');
	tally_json("provisional", &prov);
	putchar(',');
	tally_json("baseline", &base);
	putchar(',');
	tally_json("placebo_channel", &plc);
	putchar(',');
	tally_json("placebo_video", &plv);
	printf(",\"meso\":%ld,\"meso_covered\":%ld,\"calibration\":[", meso, meso_cov);
	for (int b = 0, first = 1; b < 5; b++)
		if (cbin_n[b]) {
			printf("%s{\"bin\":%d,\"n\":%ld,\"stated\":%.4f,\"observed\":%.4f}", first ? "" : ",", b,
			       cbin_n[b], cbin_sum[b] / (double)cbin_n[b], share(cbin_rep[b], cbin_n[b]));
			first = 0;
		}
	printf("],\"calibration_all\":[");
	for (int b = 0, first = 1; b < 5; b++)
		if (abin_n[b]) {
			printf("%s{\"bin\":%d,\"n\":%ld,\"stated_sum\":%.4f,\"replicated\":%ld}", first ? "" : ",", b,
			       abin_n[b], abin_sum[b], abin_rep[b]);
			first = 0;
		}
	printf("],\"calibration_every\":[");
	for (int b = 0, first = 1; b < 5; b++)
		if (ebin_n[b]) {
			printf("%s{\"bin\":%d,\"n\":%ld,\"stated_sum\":%.4f,\"replicated\":%ld}", first ? "" : ",", b,
			       ebin_n[b], ebin_sum[b], ebin_rep[b]);
			first = 0;
		}
	printf("]}\n");
	if (detail)
		fclose(detail);
	return 0;
}
