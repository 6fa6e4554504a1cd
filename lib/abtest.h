/*
 * abtest.h — title experiments: which upcoming videos get a recommended
 * pattern applied (the plan), and whether it paid off (the analysis), for
 * pd-abtest.  This module owns the three record shapes of an experiment:
 * abtest_assignment (written by the planner, read by the analyzer),
 * abtest_result (per-arm results from outside, e.g. YouTube's Test & Compare)
 * and abtest_analysis (written by the analyzer).
 *
 * The plan.  Each video (a `draft`, or the video a `recommendation` names) is
 * one unit.  Units are randomised in permuted blocks within each channel: a
 * block of B units (B even, 4 by default) holds B/2 of each arm in random
 * order, so each channel's videos are balanced between the arms however many
 * there are (at most B/2 apart), which coin flips would not guarantee for a
 * channel with ten videos.  Each channel draws from its own generator, seeded
 * from the seed and the channel id, and its units take block places in input
 * order: the same input and seed give the same assignment, and units added at
 * the end of a channel later leave the earlier assignments as they were.
 *
 * The analysis.  A unit's outcome is ln(perf) (perf: the views multiple
 * against the channel's baseline), for videos assigned to one arm; or, when a
 * video showed both titles to different viewers (YouTube Test & Compare, arm
 * "both"), ln(share_treatment / share_control) of its watch-time shares.  The
 * effect is the difference of mean outcomes (treatment minus control), or
 * the mean paired difference; exp(effect) is the ratio.  The test is a
 * mixture sequential probability ratio test (mSPRT, Robbins 1970; Johari,
 * Koomen, Pekelis and Walsh, "Always valid inference", 2017/2022) on the
 * standardised effect delta = effect / sigma with a normal mixture
 * delta ~ N(0, tau^2), where the unknown mean level and sigma are handled by
 * invariance (the right Haar measure d mu d sigma / sigma) instead of being
 * plugged in.  Its likelihood ratio is the Bayes factor of the two-sample
 * (or paired) t-test with a normal prior on delta (Rouder et al. 2009, at a
 * fixed g = tau^2):
 *
 *     L = g_m^(-1/2) * ((1 + t^2/nu) / (1 + t^2/(nu g_m)))^((nu+1)/2),
 *     g_m = 1 + m tau^2,
 *
 * t the usual pooled t statistic, m = n_t n_c / (n_t + n_c) (paired: n) and
 * nu = n_t + n_c - 2 (paired: n - 1).  Under "no effect" L is a nonnegative
 * martingale with mean 1 whatever the mean level and sigma (Hendriksen, de
 * Heide and Grunwald 2021: right-Haar Bayes factors keep their type-I
 * guarantee under optional stopping), so by Ville's inequality it ever
 * reaches 1/alpha with probability at most alpha, however often one looks.
 * As nu grows L tends to Johari et al.'s normal-mixture ratio with sigma
 * known.  The always-valid p is the smallest 1/L over every prefix of the
 * units in order of arrival, the confidence sequence the effects whose L
 * stays below 1/alpha, intersected over the prefixes: p < alpha exactly when
 * the interval excludes 0.  The analysis is a pure function of its input:
 * each daily look recomputes every prefix, so nothing has to be kept between
 * looks, as long as a unit's outcome is final when it arrives (perf at a
 * fixed age) and arrival order is publication order.
 *
 * Ownership: planner and analyzer copy what they keep from the cJSON trees
 * and video views they are given.  Nothing here prints or exits; records a
 * run finds bad only at the end (a result without an assignment) go to the
 * caller's reject callback.
 */
#ifndef PD_ABTEST_H
#define PD_ABTEST_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "buf.h"
#include "err.h"
#include "video.h"

enum { PD_AB_CONTROL = 0, PD_AB_TREATMENT = 1, PD_AB_BOTH = 2 };
/* pd_ab_arm_parse: "control", "treatment" or "both" to PD_AB_*; -1 otherwise. */
int pd_ab_arm_parse(const char *s);
const char *pd_ab_arm_name(int arm);

/* ---- the sequential test (pure functions) ---- */

/*
 * pd_ab_log_lr: ln L above for a t statistic with effective size m and nu
 * degrees of freedom, mixture sd tau (> 0).  0 when m <= 0 or nu <= 0.
 */
double pd_ab_log_lr(double t, double m, double nu, double tau);
/*
 * pd_ab_tcrit: the |t| at which L reaches 1/alpha (L grows with |t|);
 * INFINITY when L stays below 1/alpha for every t (too few units).
 */
double pd_ab_tcrit(double m, double nu, double tau, double alpha);

/*
 * pd_ab_seq: the test over a sequence of units added in arrival order.
 * Between-video (paired 0): arm PD_AB_TREATMENT or PD_AB_CONTROL, y the
 * outcome.  Paired (1): y the within-video difference, arm ignored.
 */
typedef struct pd_ab_seq {
	int paired;
	double tau, alpha;
	long n[2];
	double mean[2], m2[2];	/* Welford's running means and sums of squares */
	double log_lr_max;	/* the largest ln L over the prefixes so far */
	double lo, hi;		/* the confidence sequence, intersected */
} pd_ab_seq;

void pd_ab_seq_init(pd_ab_seq *s, int paired, double tau, double alpha);
void pd_ab_seq_add(pd_ab_seq *s, int arm, double y);

typedef struct pd_ab_est {
	long n_t, n_c;		/* units per arm (paired: both the pair count) */
	double mean_t, mean_c;	/* mean outcome per arm (paired: NAN) */
	double effect;		/* treatment minus control; NAN with too few units */
	double sd;		/* pooled within-arm sd of the outcome (paired: of the differences) */
	double se;		/* sd / sqrt(m) */
	double t;		/* effect / se */
	double p;		/* always-valid p: min(1, min over prefixes of 1/L) */
	double lo, hi;		/* effect interval at level 1 - alpha, always valid;
				 * -INFINITY / INFINITY when unbounded, NAN with too few units */
	int ci_current;		/* 1: the prefixes' intersection was empty, lo/hi are the last one's */
} pd_ab_est;

/* pd_ab_seq_estimate: the state of s as an estimate. */
void pd_ab_seq_estimate(const pd_ab_seq *s, pd_ab_est *e);

enum { PD_AB_NONE = 0, PD_AB_PREFERRED = 1, PD_AB_WINNER = 2 };
/*
 * pd_ab_decide: Winner when p < alpha (the interval excludes 0; *arm is the
 * side it lies on), else Preferred when p < prefer and the estimate favours
 * one arm (*arm that one), else None (*arm -1).
 */
int pd_ab_decide(const pd_ab_est *e, double alpha, double prefer, int *arm);
const char *pd_ab_decision_name(int decision);

/* ---- the plan ---- */

typedef struct pd_ab_plan_opts {
	uint64_t seed;
	int block;		/* permuted block size, even (4) */
	const char *experiment;	/* experiment id; NULL: "ab-" + a hash of seed and units */
	const char *pattern;	/* only units recommended this pattern; NULL: each unit's best */
	int within;		/* 1: every unit shows both titles (arm "both"), no randomisation */
} pd_ab_plan_opts;

void pd_ab_plan_opts_default(pd_ab_plan_opts *o);

typedef struct pd_ab_planner pd_ab_planner;
pd_ab_planner *pd_ab_planner_new(const pd_ab_plan_opts *o);
/*
 * pd_ab_draft_id: the id pd-match gives draft o: "ref", else "id", else
 * "draft:" + 16 hex digits of a hash of the title, duration and publication
 * time; into out.  Returns 0, or -1 (err, PD_EREC) for a draft with no id
 * and no title.
 */
int pd_ab_draft_id(const cJSON *o, pd_buf *out, pd_err *err);
/*
 * pd_ab_planner_add: a record of type `type` (draft, recommendation or
 * match_group).  A draft may name its pattern itself ("pattern_id"); a
 * recommendation names its video ("video_id"), pattern ("pattern_id") and
 * "rank" (lower is better); a match_group carries them in "recommendations".
 * Returns 1 taken, 0 not a type the planner takes, -1 with err (PD_EREC).
 */
int pd_ab_planner_add(pd_ab_planner *p, const char *type, const cJSON *o, pd_err *err);

typedef struct pd_ab_plan_counts {
	long units;		/* videos seen */
	long assigned, treatment, control;
	long no_pattern;	/* units with no (or not the asked) recommendation: not assigned */
	long channels;		/* strata */
} pd_ab_plan_counts;
/*
 * pd_ab_planner_write: assign the units and append one abtest_assignment
 * record a line to out, in order of the units' first appearance:
 *   experiment_id, video_id, arm, pattern_id, channel_id (or null),
 *   published_at (when the draft has it), block (1-based, per channel),
 *   block_size, seed.
 */
void pd_ab_planner_write(pd_ab_planner *p, pd_buf *out, pd_ab_plan_counts *k);
void pd_ab_planner_free(pd_ab_planner *p);

/* ---- the analysis ---- */

typedef struct pd_ab_opts {
	double alpha;		/* Winner below this always-valid p (0.05) */
	double prefer;		/* Preferred below this (0.2) */
	double tau;		/* mixture sd of the standardised effect (0.5) */
	double min_age;		/* video records count from this age_days on (0) */
} pd_ab_opts;

void pd_ab_opts_default(pd_ab_opts *o);

typedef struct pd_ab_analyzer pd_ab_analyzer;
pd_ab_analyzer *pd_ab_analyzer_new(const pd_ab_opts *o);

/*
 * pd_ab_analyzer_add_assignment: an abtest_assignment record.  Needs
 * "experiment_id" and "video_id" (non-empty strings) and "arm" (treatment,
 * control, or both for a within-video test); "pattern_id", "published_at"
 * optional.  The same video assigned again to the same arm is taken once.
 * Returns 0, or -1 with err (PD_EREC): missing id, unknown arm, the video
 * already in the other arm, an experiment mixing "both" with the others.
 */
int pd_ab_analyzer_add_assignment(pd_ab_analyzer *a, const cJSON *o, pd_err *err);
/*
 * pd_ab_analyzer_add_result: an abtest_result record, raw[0..len) its text
 * (kept, to be written or rejected at the end) at file:line.  Fields:
 * "video_id" (needed), "experiment_id" (needed when the video is in several
 * experiments), "arm" (treatment or control), and one of "perf" (> 0: the
 * arm's outcome for a between-video unit) or "watch_time_share" (a share in
 * (0, 1]: this arm's share of the video's watch time in a within-video
 * test); "published_at" optional (the arrival order).  Checks the record
 * alone (returns -1 with err); whether an assignment matches is known at the
 * end (pd_ab_analyzer_run).  Returns 0.
 */
int pd_ab_analyzer_add_result(pd_ab_analyzer *a, const cJSON *o, const char *raw, size_t len,
			      const char *file, long line, pd_err *err);
/*
 * pd_ab_analyzer_add_video: a video record's id, perf, published_at and
 * age_days, at file:line.  A later record of the same id replaces it.
 */
void pd_ab_analyzer_add_video(pd_ab_analyzer *a, const pd_video *v, const char *file, long line);

typedef struct pd_ab_report {
	/* a result record found bad at the end (the text as given) */
	void (*reject)(void *ud, const char *file, long line, const char *raw, size_t len,
		       const char *msg);
	/* something the user should know (a unit left out, and why) */
	void (*warn)(void *ud, const char *msg);
	void *ud;
} pd_ab_report;

typedef struct pd_ab_counts {
	long experiments, winners, preferred;
	long units, measured, pending, excluded;
	long results, results_written;
} pd_ab_counts;

/*
 * pd_ab_analyzer_run: match results to assignments (bad ones to
 * rep->reject), then append to out the accepted abtest_result records (as
 * given, in input order) and one abtest_analysis record per experiment (in
 * order of first appearance):
 *   experiment_id, design (between / within), pattern_ids, n_treatment,
 *   n_control, n_pending, n_excluded, mean_treatment, mean_control, sd,
 *   effect, se, effect_ci, ratio, ratio_ci, confidence, p_always_valid,
 *   decision (Winner / Preferred / None), arm, tau, alpha, prefer.
 */
void pd_ab_analyzer_run(pd_ab_analyzer *a, const pd_ab_report *rep, pd_buf *out,
			pd_ab_counts *k);
void pd_ab_analyzer_free(pd_ab_analyzer *a);

#endif
