/*
 * pattern.h — what a pattern record says: its struct with one reader and
 * one writer (below), checked and put in words the same way by every
 * command that reads or writes one.
 *
 * The effect of a pattern is stated one way everywhere (DESIGN.md §2): the
 * multiplier `stats.effect` — the Hodges-Lehmann estimate of the shift of
 * log perf between the cluster's videos with the feature and those without,
 * exponentiated — with its interval `stats.effect_ci` from the same rank
 * test that decides the pattern, beside the medians `median_perf_with` /
 * `median_perf_without`.  The high-performer lift (`lift`, `lift_ci`) is
 * reported too, as a second view of the top of the distribution.
 *
 * Compatibility: records written before the effect fields (pd 0.1) have no
 * `stats.effect`; readers then take the ratio of the medians as the effect,
 * without an interval (pd_pattern_effect says which).
 *
 * Ownership: functions read the caller's cJSON tree and never keep it.
 */
#ifndef PD_PATTERN_H
#define PD_PATTERN_H
#include <cjson/cJSON.h>
#include "buf.h"
#include "err.h"
#include "features.h"

/*
 * pd_pattern_check_effect: 0 when the record's effect agrees with itself,
 * else -1 with err (PD_EREC) saying what contradicts what: a positive
 * pattern whose effect or median ratio is below 1 (a negative one above 1),
 * a high-performer lift above 1 with a median ratio below 1 (or the
 * reverse, for a negative pattern), an interval that does not hold its
 * estimate, a non-finite or non-positive effect.  Fields that are absent
 * are not checked (old records); a field of the wrong type is an error.
 */
int pd_pattern_check_effect(const cJSON *rec, pd_err *err);

/*
 * pd_pattern_check: the one validator of a pattern record, for pd-validate,
 * pd-store and pd-match alike.  0 when the record is usable, else -1 with
 * err (PD_EREC) naming the pattern and what is wrong: no string "id", no
 * valid "feature" predicate (features.h), a "direction" other than
 * positive/negative, a "status" other than candidate, validated,
 * provisional or rejected, an effect that contradicts itself
 * (pd_pattern_check_effect), a "radius" (or "semantic_radius") outside
 * [0, 2], a centroid ("centroid_b64" or "centroid") that does not decode,
 * has a non-finite value or is zero; checked in this order.  With need_place (pd-store, pd-match: what
 * they store and match by) the radius and the centroid must be there;
 * without it they are checked only when present.
 */
int pd_pattern_check(const cJSON *rec, int need_place, pd_err *err);

/*
 * pd_pattern_effect: the record's effect multiplier and interval: from
 * stats.effect / effect_ci (returns 2), else the ratio of the medians with
 * lo = hi = NAN (returns 1), else 0 with all NAN.
 */
int pd_pattern_effect(const cJSON *rec, double *eff, double *lo, double *hi);

/* What the sentence of a pattern is made of (NAN / NULL / -1 where unknown). */
typedef struct pd_pattern_words {
	const pd_feature *feature;
	const char *label;	/* the niche's label, e.g. "punjabi, latest, songs" */
	const char *level;	/* macro / meso / micro */
	int positive;
	double effect, lo, hi, ci_level;
	long n, n_with;		/* videos of the niche, with the feature */
	int channels;		/* distinct channels among the videos with it */
	int trend;		/* 1 trend, 0 evergreen, -1 not judged */
	double win_from, win_to;	/* trend window, or the span of the time check */
	int btest, bheld;	/* time blocks testable, where it held */
} pd_pattern_words;

/*
 * pd_pattern_sentence: the advice in plain English appended to out, e.g.
 *   In the niche "punjabi, latest, songs" (meso, 221 videos), titles
 *   containing "official video" get 1.5x the views of the niche's other
 *   videos, each measured against its channel's normal (95% CI 1.2-1.9x;
 *   90 videos from 28 channels; held in 4 of 4 periods, Nov 2025 - Jun 2026).
 * A trend says when it was hot and that it is expected to fade.
 * pd_pattern_name: a short name: the feature in words and the niche.
 */
void pd_pattern_sentence(const pd_pattern_words *w, pd_buf *out);
void pd_pattern_name(const pd_pattern_words *w, pd_buf *out);

/*
 * The pattern record as a struct: pd_pattern_read is the one reader and
 * pd_pattern_write the one writer of a pattern record (DESIGN.md §2), used
 * by pd-mine (writes), pd-store and pd-match (read; the database loader
 * too).  Its canonical JSON has the members in this order (the order pd-mine
 * has always written):
 *
 *   type, id, pattern_type, feature, aliases (only when there are some),
 *   direction, cluster, level, label, kind,
 *   window {from, to, blocks, testable, held, superiority[]},
 *   centroid_b64, radius, name, description,
 *   stats {n, n_with, high_with, high_without, base_rate, effect, effect_ci,
 *          lift, lift_ci, median_perf_with, median_perf_without, p, p_rank,
 *          channels, high_channels, top_channel, top_channel_share,
 *          threshold, quality, then stats.extra},
 *   examples[] (video ids),
 *   performance_stats {within_radius {avg, median, count},
 *                      outside_radius {avg, median, count}, lift_ratio},
 *   pattern_data {name, description, template, examples[] (titles),
 *                 confidence, sample_size},
 *   status, then extra (members the writer does not know, in their order:
 *   pd-validate's validation, q and confidence).
 *
 * Numbers are written as integers when whole (below 1e15), else with 6
 * significant digits; a NAN number is null, a NULL string is null.
 * feature and aliases are kept as JSON text: the canonical predicate of
 * features.h when it parses, else the member as it was.
 *
 * Compatibility (the one place older records are understood): a member that
 * is present, even as null, is what the record says; only when the
 * canonical member is absent does the reader take, in this order,
 *   radius               <- semantic_radius
 *   centroid_b64         <- centroid (an array of numbers, re-encoded)
 *   stats.median_perf_with    <- stats.median_with
 *                             <- performance_stats.within_radius.median
 *   stats.median_perf_without <- stats.median_without
 *                             <- performance_stats.outside_radius.median
 *   stats.n_with         <- performance_stats.within_radius.count
 *   stats.lift           <- performance_stats.lift_ratio (pd 0.1: a ratio
 *                           of means)
 *   performance_stats (absent, pd 0.1): from stats: avg <- mean_with <-
 *     avg_with <- mean_perf_with (and _without), median <- median_with <-
 *     median_perf_with (this order, as pd-store has always stored them),
 *     count <- n_with, and n_without <- n - n_with, lift_ratio <- effect <-
 *     lift_ratio <- median_perf_with / median_perf_without
 *   pattern_data (absent): name and description of the record, template
 *     <- template <- name, no example titles, confidence <- confidence <-
 *     stats.confidence <- 1 - stats.q <- 1 - stats.p, sample_size <- n_with
 *     <- n.
 * The database's columns are the SQL twins below (pd-store's upsert):
 * pd_pattern_sql_perf is the performance_stats rule above; the stored
 * pattern_data column (pd_pattern_sql_data) is made from the record's
 * top-level name, description, template (<- name), examples (the video
 * ids), confidence (<- pattern_data.confidence <- stats.confidence <- 1 - q
 * <- 1 - p) and sample_size (<- n_with <- n), as it always was.  So no
 * alias is named outside pattern.c.
 */
typedef struct pd_pattern {
	char *id, *pattern_type;
	char *feature;		/* canonical predicate JSON text, or NULL */
	char *aliases;		/* JSON array text of alias predicates, or NULL */
	int positive;		/* direction: 1 positive, 0 negative, -1 not said */
	char *cluster, *level, *label, *kind;
	int has_window;
	double win_from, win_to;	/* epoch seconds, NAN: null */
	double blocks, testable, held;
	int nsup;
	double *superiority;	/* nsup values, NAN: null */
	char *centroid_b64;	/* base64 of float32, or NULL */
	double radius;
	char *name, *description;
	struct {
		double n, n_with, high_with, high_without, base_rate;
		double effect, effect_lo, effect_hi, lift, lift_lo, lift_hi;
		double median_with, median_without, p, p_rank, channels, high_channels;
		char *top_channel;
		double top_channel_share, threshold, quality;
		cJSON *extra;	/* other members of stats (pd-validate's q), or NULL */
	} stats;
	int nexamples;
	char **examples;	/* video ids */
	struct {
		double avg, median, count;
	} within, outside;	/* performance_stats.within_radius / outside_radius */
	double lift_ratio;	/* performance_stats.lift_ratio (= stats.effect) */
	struct {
		char *name, *description, *template_;
		int ntitles;
		char **titles;	/* example titles */
		double confidence, sample_size;
	} data;			/* pattern_data */
	char *status;
	cJSON *extra;		/* other members, in their order (validation, q, ...), or NULL */
} pd_pattern;

/*
 * pd_pattern_init: an empty pattern (numbers NAN, strings NULL).
 * pd_pattern_release: frees what p owns and leaves it empty.
 */
void pd_pattern_init(pd_pattern *p);
void pd_pattern_release(pd_pattern *p);

/*
 * pd_pattern_read: rec (a pattern record) into p, through the compatibility
 * rules above.  Members of the wrong type read as absent: pd_pattern_check
 * is the validator.  Returns 0, or -1 with err (PD_EREC) when rec is not an
 * object; p is initialised either way (release it).  rec is not kept.
 */
int pd_pattern_read(const cJSON *rec, pd_pattern *p, pd_err *err);

/* pd_pattern_write: p's canonical JSON and a newline appended to out. */
void pd_pattern_write(const pd_pattern *p, pd_buf *out);

/*
 * pd_pattern_sql_data, pd_pattern_sql_perf: SQL expressions (jsonb) of a
 * stored pattern's pattern_data and performance_stats, over a row with the
 * record as s.record (jsonb) and its stats as st (s.record->'stats'), by
 * the compatibility rules above.
 */
extern const char pd_pattern_sql_data[];
extern const char pd_pattern_sql_perf[];

#endif
