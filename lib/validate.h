/*
 * validate.h — deciding which mined patterns hold (pd-validate's engine).
 *
 * pd-mine tests thousands of (cluster, feature) pairs and emits the promising
 * ones as "candidate" patterns with their statistics.  A candidate is
 * "validated" when it passes every check below, "provisional" when it passes
 * all but could not be tested on newer videos, else "rejected"; each check is
 * recorded in the pattern's "validation" object with the numbers behind it
 * (pd-validate(1) states the method and its guarantee):
 *
 *   fdr         weighted Benjamini-Hochberg (lib/fdr.h) over all m tests of
 *               the run (the sum of the mine_summary records' "tests"; tests
 *               pd-mine did not emit count at p = 1), form features weighted
 *               to form_budget of the budget: q <= fdr (a screen).
 *   holdout     the pattern's rank test on the held-out (newer) videos of its
 *               cluster that pd-mine marked "holdout": its side and
 *               p <= replication_alpha (the confirmation); too few videos
 *               with or without the feature leaves it untested.
 *   channel_stability
 *               on the mining videos: the channel with most videos with the
 *               feature must not hold more than max_channel_share of them,
 *               and the rank test must keep its side with p <= stability_alpha
 *               without that channel.
 *   too broad   a macro or meso pattern whose effect does not hold outside
 *               the child cluster holding most (>= half) of its videos, and
 *               is at most half its own there, on the mining videos or, where
 *               testable, the newer ones: the effect is the child's.
 *   proxies     the effect must hold among the videos without the features
 *               of the stronger screened patterns it overlaps, on the mining
 *               videos and, where testable, the newer ones; a stronger one
 *               that holds most of its videos and whose own effect vanishes
 *               without them is the stand-in, rejected in its favour (a
 *               stratified rank test, both ways).
 *   redundancy  among the patterns that pass, one per finding: the same
 *               feature at nested cluster levels, n-grams of which one
 *               contains the other (the whole phrase stays when it holds most
 *               of the shorter one's videos), or a pattern whose mining videos
 *               mostly (share >= overlap) have a stronger pattern's feature
 *               too, in the same or nested clusters and the same direction;
 *               the one with the smallest q (then p, then larger support)
 *               stays.
 *
 * confidence: the chance that the pattern replicates on the next period's
 * videos: the predictive probability of a significant rank test there, from
 * the mining test's z corrected for selection by Tweedie's formula over all
 * the run's tests (mine_summary's z_hist) and updated by the holdout test
 * (see pd-validate(1)).
 *
 * Ownership: pd_validator_add_pattern takes the pattern's cJSON tree; the
 * validator updates it in place, and pd_validator_free deletes it.  Video and
 * cluster records are only read (their fields are copied).
 */
#ifndef PD_VALIDATE_H
#define PD_VALIDATE_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "err.h"

typedef struct pd_validate_opts {
	double fdr;			/* FDR level (0.05) */
	int fdr_method;			/* PD_FDR_BH or PD_FDR_BY */
	int fdr_test;			/* which p enters the FDR step: PD_FDR_TEST_* */
	int min_holdout;		/* holdout videos with the feature for a replication test (5) */
	double replication_alpha;	/* holdout p needed besides the direction (1: direction only) */
	int require_replication;	/* reject patterns whose replication was not tested */
	int replication_clustered;	/* the holdout test counts a channel's videos as one unit */
	double max_channel_share;	/* (0.5) */
	double stability_alpha;		/* p without the top channel (0.05) */
	double overlap;			/* share of a weaker pattern's videos in a stronger's (0.8) */
	double form_budget;		/* share of the FDR budget for form features (0.5; weighted BH) */
	double next_ratio;		/* the next period's videos over the holdout's, for confidence (1) */
	int tz_offset_s;		/* for weekday/hour features */
} pd_validate_opts;

/*
 * The p-value of a pattern's test for the FDR step: pd-mine gives two, the
 * exact test of the high-performer table (stats.p) and the rank test on log
 * perf (stats.p_rank).  BOTH (the default) is 2 min(p, p_rank): a valid
 * p-value whatever the dependence between the two (Bonferroni over two),
 * which keeps the power of the rank test where the effect moves the whole
 * distribution and of the table where it moves the top.
 */
enum { PD_FDR_TEST_BOTH = 0, PD_FDR_TEST_FISHER = 1, PD_FDR_TEST_RANK = 2 };
int pd_fdr_test_parse(const char *s);	/* -1 if unknown */

void pd_validate_opts_default(pd_validate_opts *o);

typedef struct pd_validate_summary {
	size_t patterns, validated, provisional, rejected;
	size_t rej_fdr, rej_holdout, rej_channel, rej_stability, rej_redundant, rej_untested;
	size_t rej_broad;		/* too broad: the effect lives in one child cluster */
	/* findings (groups of redundant patterns, counted once) that pass FDR and
	   the channel checks and could be tested on the holdout, and those whose
	   strongest pattern replicated there */
	size_t holdout_tested, replicated;
	size_t videos, holdout_videos;
	double m;				/* tests in the BH denominator */
	int m_from_summary;			/* 1 when m came from mine_summary records */
} pd_validate_summary;

typedef struct pd_validator pd_validator;

pd_validator *pd_validator_new(const pd_validate_opts *o);
void pd_validator_free(pd_validator *v);

/*
 * pd_validator_add_video: remember a video record (its features are
 * extracted later, when the patterns are known).  Videos without perf or
 * without a cluster are counted but not used.  Returns 0, or -1 with err
 * (PD_EREC) when the record is not a valid video.
 */
int pd_validator_add_video(pd_validator *v, const cJSON *rec, pd_err *err);
/* pd_validator_add_video_scanned: the same from a record scanned without a
   tree (record.h, pd_record_scan returned 0), with the same checks. */
struct pd_jobj;
int pd_validator_add_video_scanned(pd_validator *v, struct pd_jobj *o, pd_err *err);
/* pd_validator_add_cluster: a cluster record's parent link (for nested levels). */
void pd_validator_add_cluster(pd_validator *v, const cJSON *rec);
/*
 * pd_validator_add_pattern: take a pattern record (the validator owns rec
 * from now on, also on failure).  Returns 0, or -1 with err (PD_EREC): no
 * string id, a duplicate id, no valid feature, no cluster, no stats.p in
 * [0,1], a direction other than positive/negative.
 */
int pd_validator_add_pattern(pd_validator *v, cJSON *rec, pd_err *err);
/*
 * pd_validator_add_tests: a mine_summary record's "tests" and "tests_topic"
 * (NAN when the record has none: the tests are then not weighted), summed
 * over records.
 */
void pd_validator_add_tests(pd_validator *v, double tests, double tests_topic);
/*
 * pd_validator_share_unmined: the share above which pd-mine left features
 * untested (a mine_summary's "max_channel_share").  Returns the validator's
 * own --max-channel-share when it is above that (patterns it would accept
 * were never mined), else NAN.
 */
double pd_validator_share_unmined(const pd_validator *v, double mine_share);
/*
 * pd_validator_add_zhist: a mine_summary record's "z_hist" (the z of every
 * mining test, binned: nbins counts of bins of width from lo), summed over
 * records; it lets confidence correct each pattern's z for selection
 * (Tweedie's formula, lib/stats.h).  Returns 0, or -1 for a histogram that is
 * not one (negative counts, no bins) or binned differently from an earlier one
 * (the run then goes without the correction).
 */
#define PD_VALIDATE_ZH_MAX 256
int pd_validator_add_zhist(pd_validator *v, const double *counts, int nbins, double lo, double width);

/*
 * pd_validator_run: all the checks; afterwards every pattern has "status",
 * "q", "confidence", "validation" (llm set to "off"), a template "name" when
 * it had none and a template "description".  Returns 0.
 */
int pd_validator_run(pd_validator *v, pd_validate_summary *sum);

size_t pd_validator_npatterns(const pd_validator *v);
/* pd_validator_pattern: the i-th pattern record in input order (owned by v). */
cJSON *pd_validator_pattern(pd_validator *v, size_t i);
/* pd_validator_passed: 1 when pattern i is validated. */
int pd_validator_passed(const pd_validator *v, size_t i);
/* pd_validator_provisional: 1 when pattern i passed every check but replication could not be tested. */
int pd_validator_provisional(const pd_validator *v, size_t i);
/*
 * pd_validator_review_item: the description of pattern i an LLM reviews (id,
 * feature in words, type, direction, mining statistics, up to 5 example
 * titles); a new object the caller deletes.
 */
cJSON *pd_validator_review_item(pd_validator *v, size_t i);
/* pd_validator_reject: mark pattern i rejected with a reason (after run). */
void pd_validator_reject(pd_validator *v, size_t i, const char *reason);

#endif
