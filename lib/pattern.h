/*
 * pattern.h — what a pattern record says, checked and put in words the same
 * way by every command that reads or writes one.
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

#endif
