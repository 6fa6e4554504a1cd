/*
 * stats.h — the statistics of pattern mining, shared by pd-mine and pd-validate.
 *
 * A pattern is a 2x2 table inside one cluster:
 *
 *                    high performer   not high
 *     with feature        a               b          n1 = a + b
 *     without             c               d          n0 = c + d
 *
 * and a comparison of perf between the two groups.  This module gives the
 * one-sided exact test of the table (Fisher, through GSL's hypergeometric
 * distribution), the one-sided Mann-Whitney rank test with tie correction
 * (normal approximation with continuity correction), the lift
 * P(high | feature) / P(high | cluster) with a confidence interval, Wilson
 * intervals, medians and quantiles.  Pure functions: no allocation visible to
 * the caller except where stated, no state of ours; the first call into GSL
 * switches GSL's aborting error handler off for the process (stats.c), so no
 * caller needs to.
 */
#ifndef PD_STATS_H
#define PD_STATS_H
#include <stddef.h>

/*
 * pd_fisher_greater: one-sided Fisher exact p for "the feature raises the
 * high rate": P(A >= a) under the hypergeometric null with the margins fixed.
 * pd_fisher_less: P(A <= a) ("the feature lowers it").  A negative count
 * (not a table) gives 1.
 */
double pd_fisher_greater(long a, long b, long c, long d);
double pd_fisher_less(long a, long b, long c, long d);

/*
 * pd_lift: (a / n1) / ((a + c) / N), N = n1 + n0; 0 when undefined.
 * pd_lift_ci: a two-sided (1 - alpha) interval for the lift: the Katz
 * log interval of the risk ratio (a/n1)/(c/n0) (0.5 added to each cell when
 * any is 0), mapped to the lift by lift = RR / (w RR + 1 - w), w = n1 / N,
 * which is monotone in RR.  Writes lo, hi; the interval always holds the
 * observed lift (lo is 0 when a is 0, hi is N/n1, the largest possible,
 * when c is 0).
 */
double pd_lift(long a, long b, long c, long d);
void pd_lift_ci(long a, long b, long c, long d, double alpha, double *lo, double *hi);

/* pd_wilson: Wilson score interval of k successes in n at level 1 - alpha. */
void pd_wilson(long k, long n, double alpha, double *lo, double *hi);

/* pd_norm_quantile: the standard normal quantile of p in (0,1). */
double pd_norm_quantile(double p);

/*
 * pd_mann_whitney: one-sided rank test that x tends to be larger than y
 * (greater != 0) or smaller (greater == 0).  Ties get mid-ranks and the
 * variance its tie correction; normal approximation with continuity
 * correction.  Returns p (1 when either group is empty or all values tie);
 * *u (may be NULL) gets U of x.  Works on copies; x, y unchanged.
 */
double pd_mann_whitney(const double *x, size_t nx, const double *y, size_t ny, int greater,
		       double *u);

/*
 * pd_mann_whitney_clustered: the same one-sided question when videos come in
 * groups that are not independent of one another (a channel's videos): the
 * probability of superiority theta = P(x > y) + P(x = y) / 2 with
 * Obuchowski's (1997) variance for clustered data, built from each group's
 * summed placement values, so that a group counts as one unit of evidence
 * however many videos it holds.  gx[i] / gy[j] name x[i]'s / y[j]'s group
 * (any ints).  z = (theta - 1/2) / se, p from the normal.  Returns 1 when
 * either side has fewer than two groups or the variance is 0; *theta (may be
 * NULL) gets theta, NAN then.  Works on copies; the inputs are unchanged.
 */
double pd_mann_whitney_clustered(const double *x, const int *gx, size_t nx, const double *y,
				 const int *gy, size_t ny, int greater, double *theta);

/*
 * pd_mw_from_ranks: the same test from precomputed mid-ranks: rank_sum_x is
 * the sum of x's mid-ranks in the pooled sample of N = nx + ny, tie_term the
 * sum over tie groups of (t^3 - t) in the pooled sample.  For callers that
 * rank a cluster once and test many subsets of it.
 */
double pd_mw_from_ranks(double rank_sum_x, size_t nx, size_t ny, double tie_term, int greater,
			double *u);

/*
 * pd_midranks: mid-ranks (1-based) of v[0..n) into rank (n doubles), and
 * the tie term sum(t^3 - t); returns the tie term.  Allocates internally.
 */
double pd_midranks(const double *v, size_t n, double *rank);

/*
 * pd_hl_shift: the Hodges-Lehmann estimate of the shift between x and y (the
 * median of the nx * ny differences x_i - y_j) and its (1 - alpha) interval
 * from the Mann-Whitney distribution (Moses' interval: the k-th smallest and
 * k-th largest difference, k = nx ny / 2 - z sqrt(nx ny (nx + ny + 1) / 12),
 * at least 1).  x and y must be sorted ascending.  The interval excludes 0
 * on the same side as the two-sided rank test at alpha rejects, up to ties,
 * so the test and the effect agree.  Work O((nx + ny) log(range)), no
 * allocation.  Writes NAN when either group is empty.
 */
void pd_hl_shift(const double *x, size_t nx, const double *y, size_t ny, double alpha,
		 double *est, double *lo, double *hi);

/* pd_median / pd_quantile (type 7, linear): of v[0..n), which is sorted in place; NAN if n = 0. */
double pd_median(double *v, size_t n);
double pd_quantile(double *v, size_t n, double q);
/* pd_median_sorted: the median of an already sorted v[0..n) (the mean of the
   two middle values when n is even), v unchanged; NAN if n = 0.  pd's one
   median: channel baselines, cluster summaries and pattern medians use it. */
double pd_median_sorted(const double *v, size_t n);
/* pd_quantile_sorted: the same of an already sorted array, v unchanged. */
double pd_quantile_sorted(const double *v, size_t n, double q);
/* pd_mean: the arithmetic mean; NAN if n = 0. */
double pd_mean(const double *v, size_t n);

/*
 * Empirical Bayes for a family of z-values (Efron 2011, "Tweedie's formula
 * and selection bias").  If each test's z ~ N(mu, 1) and f is the density of
 * all the family's z, then E[mu | z] = z + (log f)'(z) and
 * Var[mu | z] = 1 + (log f)''(z), whatever the distribution of the mu: the
 * correction for having picked the largest z of many, read off the family
 * itself.  pd_tweedie_fit estimates log f by Lindsey's method: a Poisson
 * regression of a histogram's counts (nbins bins of width from lo; the two
 * outer bins, which take the tails, are left out) on a polynomial of degree
 * PD_TWEEDIE_DEGREE in z.  It writes the PD_TWEEDIE_DEGREE + 1 coefficients
 * to beta and returns 0, or -1 when the histogram holds too few tests
 * (< 200) or the fit fails.  pd_tweedie_post gives the posterior mean and
 * variance of mu at z from them: the derivatives are taken at z clamped into
 * the histogram's inner range (where the fit has data), the mean is kept
 * between 0 and z (selection only shrinks) and the variance at 0.05 or more.
 */
#define PD_TWEEDIE_DEGREE 5
int pd_tweedie_fit(const double *counts, int nbins, double lo, double width,
		   double beta[PD_TWEEDIE_DEGREE + 1]);
void pd_tweedie_post(const double beta[PD_TWEEDIE_DEGREE + 1], double zmin, double zmax, double z,
		     double *mean, double *var);

#endif
