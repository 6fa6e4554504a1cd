/*
 * perf.c — channel baselines and the age curve; see perf.h for the model.
 *
 * Work is O(n log n): videos are grouped by channel once (counting sort of
 * indices), medians come from sorting small per-channel arrays, and the age
 * curve's knots from sorting all ln-ages once.
 */
#include "perf.h"
#include "stats.h"
#include "alloc.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

int pd_perf_mode_parse(const char *s)
{
	if (!strcmp(s, "age")) return PD_PERF_AGE;
	if (!strcmp(s, "mean")) return PD_PERF_MEAN;
	if (!strcmp(s, "median")) return PD_PERF_MEDIAN;
	if (!strcmp(s, "keep")) return PD_PERF_KEEP;
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

struct vi {
	double v;
	size_t i;
};

static int cmp_vi(const void *a, const void *b)
{
	const struct vi *x = a, *y = b;
	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i);
}

/* median of the sorted v[0..n) less element at sorted position k */
static double median_without(const double *v, size_t n, size_t k)
{
	size_t m = n - 1;	/* size after removal */
	/* element at position p of the reduced array */
#define AT(p) ((p) < k ? v[(p)] : v[(p) + 1])
	return m % 2 ? AT(m / 2) : 0.5 * (AT(m / 2 - 1) + AT(m / 2));
#undef AT
}

double pd_age_curve_eval(const pd_age_curve *c, double x)
{
	if (c->k == 0)
		return 0;
	if (c->k == 1)
		return c->g[0];
	/* linear inside; beyond the end knots, the end segments continue */
	int i = 1;
	while (i < c->k - 1 && c->x[i] < x)
		i++;
	double t = (x - c->x[i - 1]) / (c->x[i] - c->x[i - 1]);
	return c->g[i - 1] + t * (c->g[i] - c->g[i - 1]);
}

/* pool adjacent violators: g made non-decreasing, weights w */
static void isotonic(double *g, const double *w, int k)
{
	double val[PD_AGE_KNOTS_MAX], wt[PD_AGE_KNOTS_MAX];
	int cnt[PD_AGE_KNOTS_MAX], m = 0;
	for (int i = 0; i < k; i++) {
		val[m] = g[i];
		wt[m] = w[i] > 0 ? w[i] : 1e-9;
		cnt[m] = 1;
		m++;
		while (m > 1 && val[m - 2] > val[m - 1]) {
			double W = wt[m - 2] + wt[m - 1];
			val[m - 2] = (val[m - 2] * wt[m - 2] + val[m - 1] * wt[m - 1]) / W;
			wt[m - 2] = W;
			cnt[m - 2] += cnt[m - 1];
			m--;
		}
	}
	int i = 0;
	for (int j = 0; j < m; j++)
		for (int c = 0; c < cnt[j]; c++)
			g[i++] = val[j];
}

typedef struct groups {
	size_t *start;	/* nchannels + 1 offsets into idx */
	size_t *idx;	/* usable video indices grouped by channel */
} groups;

static void group_by_channel(const pd_perf_in *in, size_t n, int nch, const char *usable, groups *gr)
{
	gr->start = xcalloc((size_t)nch + 2, sizeof *gr->start);
	for (size_t i = 0; i < n; i++)
		if (usable[i])
			gr->start[in[i].channel + 1]++;
	for (int c = 0; c < nch; c++)
		gr->start[c + 1] += gr->start[c];
	gr->idx = xmalloc((gr->start[nch] + 1) * sizeof *gr->idx);
	size_t *fill = xmalloc(((size_t)nch + 1) * sizeof *fill);
	memcpy(fill, gr->start, ((size_t)nch + 1) * sizeof *fill);
	for (size_t i = 0; i < n; i++)
		if (usable[i])
			gr->idx[fill[in[i].channel]++] = i;
	free(fill);
}

static void fit_age_curve(const double *l, const double *x, const pd_perf_in *in, size_t n,
			  int nch, const groups *gr, int min_videos, pd_age_curve *c)
{
	/* the videos of channels with a baseline drive the curve */
	size_t m = 0;
	size_t *use = xmalloc((n + 1) * sizeof *use);
	for (int ch = 0; ch < nch; ch++)
		if (gr->start[ch + 1] - gr->start[ch] >= (size_t)min_videos)
			for (size_t k = gr->start[ch]; k < gr->start[ch + 1]; k++)
				use[m++] = gr->idx[k];
	c->k = 0;
	if (m < 50) {
		free(use);
		return;
	}
	/* equal-count bins of ln-age; each bin's knot sits at its median age */
	struct vi *byx = xmalloc(m * sizeof *byx);
	for (size_t u = 0; u < m; u++) {
		byx[u].v = x[use[u]];
		byx[u].i = use[u];
	}
	qsort(byx, m, sizeof *byx, cmp_vi);
	int k = (int)(m / 100);
	if (k > PD_AGE_KNOTS_MAX)
		k = PD_AGE_KNOTS_MAX;
	if (k < 4)
		k = 4;
	size_t bstart[PD_AGE_KNOTS_MAX + 1];
	int kk = 0;
	for (int j = 0; j <= k; j++) {
		size_t b = (size_t)((double)j / k * (double)m);
		/* equal ages stay in one bin */
		while (b > 0 && b < m && byx[b].v == byx[b - 1].v)
			b++;
		if (j == 0 || b > bstart[kk]) {
			if (j > 0)
				kk++;
			bstart[kk] = b;
		}
	}
	if (bstart[kk] < m)
		bstart[++kk] = m;
	for (int j = 0; j < kk; j++) {
		size_t a = bstart[j], b = bstart[j + 1];
		c->x[j] = (b - a) % 2 ? byx[a + (b - a) / 2].v
				      : 0.5 * (byx[a + (b - a) / 2 - 1].v + byx[a + (b - a) / 2].v);
	}
	c->k = kk;
	memset(c->g, 0, sizeof c->g);
	double xmed = byx[m / 2].v;
	double *base = xcalloc((size_t)nch + 1, sizeof *base);
	double *tmp = xmalloc((n + 1) * sizeof *tmp);
	double w[PD_AGE_KNOTS_MAX];
	for (int iter = 0; iter < 8; iter++) {
		/* channel baselines given the curve */
		for (int ch = 0; ch < nch; ch++) {
			size_t s = gr->start[ch], e = gr->start[ch + 1];
			if (e - s < (size_t)min_videos)
				continue;
			for (size_t q = s; q < e; q++) {
				size_t i = gr->idx[q];
				tmp[q - s] = l[i] - pd_age_curve_eval(c, x[i]);
			}
			qsort(tmp, e - s, sizeof *tmp, cmp_double);
			base[ch] = pd_median_sorted(tmp, e - s);
		}
		/* the curve given the baselines: each bin's median residual */
		for (int j = 0; j < kk; j++) {
			size_t a = bstart[j], b = bstart[j + 1];
			for (size_t u = a; u < b; u++)
				tmp[u - a] = l[byx[u].i] - base[in[byx[u].i].channel];
			qsort(tmp, b - a, sizeof *tmp, cmp_double);
			c->g[j] = pd_median_sorted(tmp, b - a);
			w[j] = (double)(b - a);
		}
		isotonic(c->g, w, kk);
		/* anchor: g = 0 at the median age (baselines absorb the level) */
		double g0 = pd_age_curve_eval(c, xmed);
		for (int j = 0; j < kk; j++)
			c->g[j] -= g0;
	}
	free(base);
	free(tmp);
	free(byx);
	free(use);
}

void pd_perf_compute(const pd_perf_in *in, size_t n, int nch, int mode, int min_videos,
		     pd_perf_out *out, pd_age_curve *curve)
{
	pd_age_curve local;
	if (!curve)
		curve = &local;
	curve->k = 0;
	char *usable = xcalloc(n + 1, 1);
	double *l = xmalloc((n + 1) * sizeof *l), *x = xmalloc((n + 1) * sizeof *x);
	for (size_t i = 0; i < n; i++) {
		out[i].perf = NAN;
		out[i].basis = 0;
		out[i].reason = NULL;
		if (mode == PD_PERF_KEEP) {
			out[i].perf = in[i].perf_in;
			if (isnan(in[i].perf_in))
				out[i].reason = "no perf in the input";
			continue;
		}
		if (in[i].channel < 0) {
			out[i].reason = "no channel";
			continue;
		}
		if (isnan(in[i].views)) {
			out[i].reason = "no view count";
			continue;
		}
		if (mode != PD_PERF_MEAN && !(in[i].age_days > 0)) {
			out[i].reason = "no age (published_at or observed_at missing)";
			continue;
		}
		if (mode == PD_PERF_MEDIAN && in[i].age_days < 30) {
			/* scored, but not part of the baseline: handled below */
		}
		usable[i] = 1;
		l[i] = log1p(in[i].views);
		double age = in[i].age_days < 1.0 / 24 ? 1.0 / 24 : in[i].age_days;
		x[i] = log(age);
	}
	if (mode == PD_PERF_KEEP)
		goto done;
	groups gr;
	group_by_channel(in, n, nch, usable, &gr);
	if (mode == PD_PERF_AGE)
		fit_age_curve(l, x, in, n, nch, &gr, min_videos, curve);
	size_t maxg = 0;
	for (int ch = 0; ch < nch; ch++)
		if (gr.start[ch + 1] - gr.start[ch] > maxg)
			maxg = gr.start[ch + 1] - gr.start[ch];
	double *vals = xmalloc((maxg + 1) * sizeof *vals);
	for (int ch = 0; ch < nch; ch++) {
		size_t s = gr.start[ch], e = gr.start[ch + 1], cnt = e - s;
		if (cnt < (size_t)min_videos) {
			for (size_t q = s; q < e; q++) {
				pd_perf_out *o = &out[gr.idx[q]];
				snprintf(o->reason_buf, sizeof o->reason_buf,
					 "channel has %zu usable video%s (need %d)", cnt,
					 cnt == 1 ? "" : "s", min_videos);
				o->reason = o->reason_buf;
				o->basis = (int)cnt;
			}
			continue;
		}
		if (mode == PD_PERF_MEAN) {
			double sum = 0;
			for (size_t q = s; q < e; q++)
				sum += in[gr.idx[q]].views;
			double mean = sum / (double)cnt;
			for (size_t q = s; q < e; q++) {
				pd_perf_out *o = &out[gr.idx[q]];
				o->basis = (int)cnt;
				if (mean > 0)
					o->perf = in[gr.idx[q]].views / mean;
				else
					o->reason = "channel mean views is 0";
			}
		} else if (mode == PD_PERF_MEDIAN) {
			size_t k = 0;
			for (size_t q = s; q < e; q++)
				if (in[gr.idx[q]].age_days >= 30)
					vals[k++] = in[gr.idx[q]].views;
			for (size_t q = s; q < e; q++) {
				pd_perf_out *o = &out[gr.idx[q]];
				o->basis = (int)k;
				if (k < (size_t)min_videos) {
					snprintf(o->reason_buf, sizeof o->reason_buf,
						 "channel has %zu videos 30+ days old (need %d)", k, min_videos);
					o->reason = o->reason_buf;
				}
			}
			if (k < (size_t)min_videos)
				continue;
			qsort(vals, k, sizeof *vals, cmp_double);
			double med = pd_median_sorted(vals, k);
			for (size_t q = s; q < e; q++) {
				pd_perf_out *o = &out[gr.idx[q]];
				if (med > 0)
					o->perf = in[gr.idx[q]].views / med;
				else
					o->reason = "channel median views is 0";
			}
		} else {
			/* age-adjusted residuals, leave-one-out median */
			for (size_t q = s; q < e; q++) {
				size_t i = gr.idx[q];
				vals[q - s] = l[i] - pd_age_curve_eval(curve, x[i]);
			}
			/* rank each video's residual (ties broken by position: deterministic) */
			struct vi *pairs = xmalloc(cnt * sizeof *pairs);
			for (size_t q = 0; q < cnt; q++) {
				pairs[q].v = vals[q];
				pairs[q].i = q;
			}
			qsort(pairs, cnt, sizeof *pairs, cmp_vi);
			double *sorted = xmalloc(cnt * sizeof *sorted);
			for (size_t q = 0; q < cnt; q++)
				sorted[q] = pairs[q].v;
			for (size_t r = 0; r < cnt; r++) {
				size_t q = pairs[r].i;
				size_t i = gr.idx[s + q];
				double base = median_without(sorted, cnt, r);
				out[i].perf = exp(vals[q] - base);
				out[i].basis = (int)cnt - 1;
			}
			free(pairs);
			free(sorted);
		}
	}
	free(vals);
	free(gr.start);
	free(gr.idx);
done:
	free(usable);
	free(l);
	free(x);
}
