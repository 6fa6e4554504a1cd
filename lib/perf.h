/*
 * perf.h — how well a video did against its own channel's normal.
 *
 * The default ("age") model: views grow with age, and in real exports a video
 * is observed anywhere from hours to months after publishing, so raw views
 * compare unlike with like.  With l = ln(1 + views) and x = ln(age in days):
 *
 *     l_i = b_channel(i) + g(x_i) + e_i
 *
 * g is one age curve for the whole corpus (piecewise linear through the
 * median of equal-count bins of x, made non-decreasing, continued linearly
 * beyond the end knots), b the channel's baseline; both are fitted
 * by backfitting with medians (robust to the heavy tail of views).  Then
 *
 *     perf_i = exp( (l_i - g(x_i)) - median_{j in channel, j != i} (l_j - g(x_j)) )
 *
 * i.e. the video's views as a multiple of what its channel usually gets at the
 * same age, the baseline leaving the video itself out (perf_basis = the number
 * of other videos).  A channel with fewer than min_videos usable videos gets
 * no perf (NAN, with a reason): such videos must not be scored.
 *
 * The other modes are the definitions users already know: "mean" (views over
 * the channel's mean views, the original guide's performance_ratio), "median"
 * (views over the channel's median among videos at least 30 days old), and
 * "keep" (the input's perf is kept).
 */
#ifndef PD_PERF_H
#define PD_PERF_H
#include <stddef.h>
#include "err.h"

enum pd_perf_mode { PD_PERF_AGE, PD_PERF_MEAN, PD_PERF_MEDIAN, PD_PERF_KEEP };

typedef struct pd_perf_in {
	int channel;		/* channel index, -1 when unknown */
	double views;		/* NAN unknown */
	double age_days;	/* NAN unknown */
	double perf_in;		/* for PD_PERF_KEEP: the input's perf (NAN null) */
} pd_perf_in;

typedef struct pd_perf_out {
	double perf;		/* NAN: null */
	int basis;		/* videos the baseline rests on */
	const char *reason;	/* static text when perf is null */
	char reason_buf[64];
} pd_perf_out;

#define PD_AGE_KNOTS_MAX 24
typedef struct pd_age_curve {
	int k;
	double x[PD_AGE_KNOTS_MAX];	/* ln(age days) at the knots */
	double g[PD_AGE_KNOTS_MAX];	/* log-views offset at the knots, 0 at the median age */
} pd_age_curve;

int pd_perf_mode_parse(const char *s);	/* -1 if unknown */

/*
 * pd_perf_compute: out[i] for in[i], i < n; nchannels channel indices in use.
 * curve (may be NULL) receives the fitted age curve (mode age).
 */
void pd_perf_compute(const pd_perf_in *in, size_t n, int nchannels, int mode, int min_videos,
		     pd_perf_out *out, pd_age_curve *curve);
/* pd_age_curve_eval: g at ln-age x (linear between knots and beyond them). */
double pd_age_curve_eval(const pd_age_curve *c, double x);

#endif
