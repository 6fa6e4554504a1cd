/*
 * stats.c — tests, intervals and summaries for pattern mining; see stats.h.
 *
 * Fisher's exact test uses GSL's hypergeometric upper and lower tails
 * (gsl_cdf_hypergeometric_Q/P), which are exact sums, not approximations.
 * The rank test is the textbook normal approximation: with the support pd
 * requires (>= 10 videos with a feature, clusters of >= 30) it is accurate to
 * the precision a p-value needs, and exact enumeration would cost far more.
 *
 * GSL's default error handler aborts the process.  This module is the one
 * door to GSL, so it owns that setting: every function that calls GSL first
 * passes through gsl_ready(), which switches the handler off once
 * (pthread_once, so threads may race to the first call); the arguments are
 * checked here, and a GSL error then gives GSL's return value instead of an
 * abort.  The handler is process-wide (a GSL setting, not ours): a program
 * that wants its own must set it after its first call into this module.
 */
#include "stats.h"
#include "alloc.h"
#include "blas.h"
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

static void gsl_quiet(void)
{
	gsl_set_error_handler_off();
}

/* before any call into GSL: its aborting handler off, once per process */
static void gsl_ready(void)
{
	pthread_once(&gsl_once, gsl_quiet);
}

double pd_fisher_greater(long a, long b, long c, long d)
{
	/* A ~ Hypergeometric: draws n1 = a+b from K = a+c successes and N-K failures. */
	if (a < 0 || b < 0 || c < 0 || d < 0)
		return 1.0;	/* not a table */
	unsigned K = (unsigned)(a + c), F = (unsigned)(b + d), t = (unsigned)(a + b);
	if (a == 0)
		return 1.0;
	gsl_ready();
	double p = gsl_cdf_hypergeometric_Q((unsigned)(a - 1), K, F, t);
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

double pd_fisher_less(long a, long b, long c, long d)
{
	if (a < 0 || b < 0 || c < 0 || d < 0)
		return 1.0;	/* not a table */
	unsigned K = (unsigned)(a + c), F = (unsigned)(b + d), t = (unsigned)(a + b);
	gsl_ready();
	double p = gsl_cdf_hypergeometric_P((unsigned)a, K, F, t);
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

double pd_lift(long a, long b, long c, long d)
{
	double n1 = (double)(a + b), N = (double)(a + b + c + d), K = (double)(a + c);
	if (n1 <= 0 || K <= 0)
		return 0;
	return ((double)a / n1) / (K / N);
}

double pd_norm_quantile(double p)
{
	gsl_ready();
	return gsl_cdf_ugaussian_Pinv(p);
}

void pd_lift_ci(long a, long b, long c, long d, double alpha, double *lo, double *hi)
{
	double A = a, B = b, C = c, D = d;
	if (a == 0 || b == 0 || c == 0 || d == 0)
		A += 0.5, B += 0.5, C += 0.5, D += 0.5;
	double n1 = A + B, n0 = C + D;
	double lrr = log((A / n1) / (C / n0));
	double se = sqrt(1 / A - 1 / n1 + 1 / C - 1 / n0);
	double z = pd_norm_quantile(1 - alpha / 2);
	double w = (double)(a + b) / (double)(a + b + c + d);
	double r[2] = { exp(lrr - z * se), exp(lrr + z * se) };
	for (int i = 0; i < 2; i++)
		r[i] = r[i] / (w * r[i] + 1 - w);
	/* the correction keeps the interval finite; it must not exclude the observed extremes */
	double lift = pd_lift(a, b, c, d);
	*lo = a == 0 ? 0 : fmin(r[0], lift);
	*hi = c == 0 && w > 0 ? 1 / w : fmax(r[1], lift);	/* c = 0: the largest lift there is */
}

void pd_wilson(long k, long n, double alpha, double *lo, double *hi)
{
	if (n <= 0) {
		*lo = 0;
		*hi = 1;
		return;
	}
	double z = pd_norm_quantile(1 - alpha / 2), p = (double)k / n, z2 = z * z;
	double den = 1 + z2 / n, mid = (p + z2 / (2.0 * n)) / den;
	double half = z * sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / den;
	*lo = k <= 0 || mid - half < 0 ? 0 : mid - half;
	*hi = k >= n || mid + half > 1 ? 1 : mid + half;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

typedef struct ranked {
	double v;
	size_t i;
} ranked;

static int cmp_ranked(const void *x, const void *y)
{
	const ranked *a = x, *b = y;
	if (a->v != b->v)
		return (a->v > b->v) - (a->v < b->v);
	return (a->i > b->i) - (a->i < b->i);
}

double pd_midranks(const double *v, size_t n, double *rank)
{
	ranked *r = xmalloc((n ? n : 1) * sizeof *r);
	for (size_t i = 0; i < n; i++)
		r[i].v = v[i], r[i].i = i;
	qsort(r, n, sizeof *r, cmp_ranked);
	double tie = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && r[j].v == r[i].v)
			j++;
		double mid = (double)(i + 1 + j) / 2.0;	/* mean of ranks i+1..j */
		for (size_t k = i; k < j; k++)
			rank[r[k].i] = mid;
		double t = (double)(j - i);
		tie += t * t * t - t;
		i = j;
	}
	free(r);
	return tie;
}

double pd_mw_from_ranks(double rank_sum_x, size_t nx, size_t ny, double tie_term, int greater,
			double *u)
{
	double n1 = (double)nx, n2 = (double)ny, N = n1 + n2;
	double U = rank_sum_x - n1 * (n1 + 1) / 2;
	if (u)
		*u = U;
	if (nx == 0 || ny == 0)
		return 1.0;
	double var = n1 * n2 / 12.0 * ((N + 1) - tie_term / (N * (N - 1)));
	if (var <= 0)
		return 1.0;
	double diff = U - n1 * n2 / 2;
	double z = greater ? (diff - 0.5) / sqrt(var) : (-diff - 0.5) / sqrt(var);
	gsl_ready();
	return gsl_cdf_ugaussian_Q(z);
}

double pd_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, int greater,
		       double *u)
{
	size_t n = nx + ny;
	double *all = xmalloc((n ? n : 1) * sizeof *all), *rank = xmalloc((n ? n : 1) * sizeof *rank);
	if (nx)
		memcpy(all, x, nx * sizeof *all);
	if (ny)
		memcpy(all + nx, y, ny * sizeof *all);
	double tie = pd_midranks(all, n, rank), rs = 0;
	for (size_t i = 0; i < nx; i++)
		rs += rank[i];
	free(all);
	free(rank);
	return pd_mw_from_ranks(rs, nx, ny, tie, greater, u);
}

typedef struct gsum {
	int g;
	double s10, s01;	/* summed placements of the group's x, y */
	long m, n;		/* its x, y */
} gsum;

static int cmp_gsum(const void *a, const void *b)
{
	int x = ((const gsum *)a)->g, y = ((const gsum *)b)->g;
	return (x > y) - (x < y);
}

double pd_mann_whitney_clustered(const double *x, const int *gx, size_t nx, const double *y,
				 const int *gy, size_t ny, int greater, double *theta)
{
	if (theta)
		*theta = NAN;
	if (nx < 2 || ny < 2)
		return 1;
	size_t n = nx + ny;
	double *all = xmalloc(n * sizeof *all), *rank = xmalloc(n * sizeof *rank);
	double *rx = xmalloc(nx * sizeof *rx), *ry = xmalloc(ny * sizeof *ry);
	memcpy(all, x, nx * sizeof *all);
	memcpy(all + nx, y, ny * sizeof *all);
	pd_midranks(all, n, rank);
	pd_midranks(x, nx, rx);
	pd_midranks(y, ny, ry);
	/* placements: the share of the other side below (ties half) */
	gsum *gs = xmalloc(n * sizeof *gs);
	double M = (double)nx, N = (double)ny, auc = 0;
	for (size_t i = 0; i < nx; i++) {
		double v = (rank[i] - rx[i]) / N;
		gs[i] = (gsum){ gx[i], v, 0, 1, 0 };
		auc += v;
	}
	for (size_t j = 0; j < ny; j++)
		gs[nx + j] = (gsum){ gy[j], 0, 1 - (rank[nx + j] - ry[j]) / M, 0, 1 };
	auc /= M;
	qsort(gs, n, sizeof *gs, cmp_gsum);
	/* merge each group's rows into one */
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		if (ng && gs[ng - 1].g == gs[i].g) {
			gs[ng - 1].s10 += gs[i].s10;
			gs[ng - 1].s01 += gs[i].s01;
			gs[ng - 1].m += gs[i].m;
			gs[ng - 1].n += gs[i].n;
		} else {
			gs[ng++] = gs[i];
		}
	}
	double s10 = 0, s01 = 0, s11 = 0;
	long i10 = 0, i01 = 0;
	for (size_t i = 0; i < ng; i++) {
		double a = gs[i].s10 - (double)gs[i].m * auc, b = gs[i].s01 - (double)gs[i].n * auc;
		s10 += a * a;
		s01 += b * b;
		s11 += a * b;
		i10 += gs[i].m > 0;
		i01 += gs[i].n > 0;
	}
	free(all);
	free(rank);
	free(rx);
	free(ry);
	free(gs);
	if (i10 < 2 || i01 < 2)
		return 1;
	double groups = (double)ng;
	s10 *= (double)i10 / ((double)(i10 - 1) * M);
	s01 *= (double)i01 / ((double)(i01 - 1) * N);
	s11 *= groups / (groups - 1);
	double var = s10 / M + s01 / N + 2 * s11 / (M * N);
	if (theta)
		*theta = auc;
	if (!(var > 0))
		return 1;
	double t = (auc - 0.5) / sqrt(var);
	if (!greater)
		t = -t;
	/* Student's t on the groups of the smaller side: few groups, heavy tails */
	return gsl_cdf_tdist_Q(t, (double)((i10 < i01 ? i10 : i01) - 1));
}

/* how many differences x_i - y_j are <= d (x, y ascending) */
static double count_le(const double *x, size_t nx, const double *y, size_t ny, double d)
{
	double cnt = 0;
	size_t j = 0;	/* y[0..j) < x_i - d; x_i - d grows with i */
	for (size_t i = 0; i < nx; i++) {
		while (j < ny && y[j] < x[i] - d)
			j++;
		cnt += (double)(ny - j);
	}
	return cnt;
}

/* the k-th smallest difference (1-based k in [1, nx ny]) by bisection on d */
static double kth_diff(const double *x, size_t nx, const double *y, size_t ny, double k)
{
	double lo = x[0] - y[ny - 1], hi = x[nx - 1] - y[0];
	if (count_le(x, nx, y, ny, lo) >= k)
		return lo;
	for (int it = 0; it < 60 && hi - lo > 1e-9 * (1 + fabs(lo) + fabs(hi)); it++) {
		double mid = lo + (hi - lo) / 2;
		if (count_le(x, nx, y, ny, mid) >= k)
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

void pd_hl_shift(const double *x, size_t nx, const double *y, size_t ny, double alpha,
		 double *est, double *lo, double *hi)
{
	if (nx == 0 || ny == 0) {
		*est = *lo = *hi = NAN;
		return;
	}
	double M = (double)nx * (double)ny;
	/* the median of the differences: the mean of the two middle ones when M is even */
	double m1 = kth_diff(x, nx, y, ny, floor((M + 1) / 2)), m2 = kth_diff(x, nx, y, ny, floor(M / 2) + 1);
	*est = (m1 + m2) / 2;
	gsl_ready();
	double z = gsl_cdf_ugaussian_Pinv(1 - alpha / 2);
	double k = floor(M / 2 - z * sqrt(M * (double)(nx + ny + 1) / 12));
	if (k < 1)
		k = 1;
	*lo = kth_diff(x, nx, y, ny, k);
	*hi = kth_diff(x, nx, y, ny, M - k + 1);
}

double pd_quantile_sorted(const double *v, size_t n, double q)
{
	if (n == 0)
		return NAN;
	double h = (double)(n - 1) * q;
	size_t i = (size_t)floor(h);
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + (h - (double)i) * (v[i + 1] - v[i]);
}

double pd_quantile(double *v, size_t n, double q)
{
	qsort(v, n, sizeof *v, cmp_double);
	return pd_quantile_sorted(v, n, q);
}

double pd_median(double *v, size_t n)
{
	return pd_quantile(v, n, 0.5);
}

double pd_mean(const double *v, size_t n)
{
	if (n == 0)
		return NAN;
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

/* ---- Tweedie's formula (Lindsey's method) ---- */

#define TW_SCALE 4.0	/* the polynomial is in z / 4: a well-conditioned system */

int pd_tweedie_fit(const double *counts, int nbins, double lo, double width,
		   double beta[PD_TWEEDIE_DEGREE + 1])
{
	enum { K = PD_TWEEDIE_DEGREE + 1 };
	double total = 0;
	int used = 0;
	for (int b = 1; b < nbins - 1; b++)
		if (counts[b] > 0 && isfinite(counts[b]))
			total += counts[b], used++;
	if (nbins < K + 3 || total < 200 || used < K + 2 || !(width > 0))
		return -1;
	for (int j = 0; j < K; j++)
		beta[j] = 0;
	beta[0] = log(total / (double)(nbins - 2));
	for (int it = 0; it < 100; it++) {
		double A[K * K] = { 0 }, g[K] = { 0 };
		for (int b = 1; b < nbins - 1; b++) {
			double x = (lo + (b + 0.5) * width) / TW_SCALE, xp[K], eta = 0;
			xp[0] = 1;
			for (int j = 1; j < K; j++)
				xp[j] = xp[j - 1] * x;
			for (int j = 0; j < K; j++)
				eta += beta[j] * xp[j];
			double mu = exp(fmin(eta, 50));
			double y = isfinite(counts[b]) && counts[b] > 0 ? counts[b] : 0;
			for (int j = 0; j < K; j++) {
				g[j] += (y - mu) * xp[j];
				for (int k = 0; k < K; k++)
					A[j * K + k] += mu * xp[j] * xp[k];
			}
		}
		for (int j = 0; j < K; j++)
			A[j * K + j] += 1e-9;
		if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', K, 1, A, K, g, 1) != 0)
			return -1;
		double step = 0;
		for (int j = 0; j < K; j++) {
			beta[j] += g[j];
			step = fmax(step, fabs(g[j]));
		}
		if (!isfinite(step))
			return -1;
		if (step < 1e-10)
			return 0;
	}
	return 0;
}

void pd_tweedie_post(const double beta[PD_TWEEDIE_DEGREE + 1], double zmin, double zmax, double z,
		     double *mean, double *var)
{
	double zc = z < zmin ? zmin : z > zmax ? zmax : z, x = zc / TW_SCALE;
	double d1 = 0, d2 = 0;
	for (int j = PD_TWEEDIE_DEGREE; j >= 1; j--)
		d1 = d1 * x + j * beta[j];
	for (int j = PD_TWEEDIE_DEGREE; j >= 2; j--)
		d2 = d2 * x + j * (j - 1) * beta[j];
	d1 /= TW_SCALE;
	d2 /= TW_SCALE * TW_SCALE;
	/* beyond the fitted range the shrinkage found at its edge carries on;
	   selection only shrinks: the mean stays between 0 and z */
	double e = z + d1;
	*mean = z >= 0 ? fmin(fmax(e, 0), z) : fmax(fmin(e, 0), z);
	*var = fmax(1 + d2, 0.05);
}

double pd_median_sorted(const double *v, size_t n)
{
	if (n == 0)
		return NAN;
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
