/*
 * mine.h — pattern mining inside clusters: the engine behind pd-mine.
 *
 * The caller feeds every video (with its macro/meso/micro cluster ids) and
 * every cluster record, then runs the miner and asks for the pattern records.
 * For each cluster with enough videos that have a perf, each candidate
 * feature (features.h atoms, and pairs of them) with enough videos from
 * enough channels gets the primary test, a one-sided rank test on perf (every
 * video counts), the effect (the Hodges-Lehmann multiplier of perf with its
 * interval, stats.h), medians, and beside them the 2x2 table feature x high
 * performer (Fisher's test, the lift and its interval).  Candidates with
 * p_rank <= alpha whose effect and medians agree with the test are kept and
 * labelled evergreen or trend by publication-time blocks; then
 * generalisation-aware pruning between each parent and its children (rank
 * tests: a child's pattern stays only if its videos with the feature do
 * significantly better than the parent's other ones; a parent's pattern goes
 * when the children that keep it explain it), features true of exactly the
 * same videos become one pattern with "aliases", and the best `top` per
 * cluster and direction by quality (the lower bound of the effect's
 * interval; for negative patterns the inverse of the upper bound) remain.
 * By default the newest 30% of the videos are held out (holdout_fraction).
 *
 * Ownership: the miner copies what it keeps from the videos and clusters it
 * is given (ids, titles for examples, centroids as base64 text).
 */
#ifndef PD_MINE_H
#define PD_MINE_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"
#include "video.h"

enum { PD_MAX_BLOCKS = 8 };

typedef struct pd_mine_opts {
	int min_cluster;	/* videos with perf a cluster needs to be mined (30) */
	double threshold;	/* perf >= threshold is a high performer (2.0) */
	int min_high;		/* high performers with the feature (0) */
	int min_with;		/* videos with the feature (10) */
	int min_channels;	/* distinct channels among the videos with it (3) */
	double max_channel_share;	/* share of them one channel may hold (0.5) */
	int top;		/* patterns kept per cluster and direction (10) */
	int max_ngram;		/* title n-grams of 1..max_ngram words (3) */
	int pairs;		/* mine conjunctions of two features (1) */
	int pair_pool;		/* best single features per cluster that are paired (6) */
	int negative;		/* also under-performing features (0) */
	double alpha;		/* keep candidates with one-sided p <= alpha (0.05) */
	double ci_level;	/* confidence level of intervals (0.95) */
	int examples;		/* example videos per pattern (5) */
	int threads;		/* worker threads over clusters (2) */
	int tz_offset_s;	/* publish times shifted by this for weekday/hour */
	int shard_i, shard_n;	/* mine the macro subtrees planned for shard i of n (1..n; mine.c shard_plan) */
	double holdout_fraction;	/* > 0: the newest fraction of videos is held out */
	double holdout_before;		/* finite: videos published at/after this are held out */
	int time_blocks;	/* publication-time blocks of the evergreen check (4, at most PD_MAX_BLOCKS) */
} pd_mine_opts;

void pd_mine_opts_default(pd_mine_opts *o);

typedef struct pd_miner pd_miner;

pd_miner *pd_miner_new(const pd_mine_opts *o);
void pd_miner_free(pd_miner *m);

/*
 * pd_miner_add_video: one video (its features extracted here) with its
 * cluster ids per level (NULL where absent: index 0 macro, 1 meso, 2 micro).
 * Returns the video's sequence number (0, 1, ...).
 */
long pd_miner_add_video(pd_miner *m, const pd_video *v, const char *const cluster[3]);

/*
 * pd_miner_add_cluster: a cluster record's fields (level "macro"/"meso"/
 * "micro", parent may be NULL, centroid_b64 may be NULL, radius NAN when
 * unknown).  A repeated id replaces the earlier fields.  Returns 0, or -1
 * with err for an unknown level.
 */
int pd_miner_add_cluster(pd_miner *m, const char *id, const char *level, const char *parent,
			 double size, const char *centroid_b64, double radius, const char *label,
			 pd_err *err);

/*
 * pd_miner_holdout: decides the held-out videos (by opts); call after the
 * last video and before pd_miner_run.  Returns how many are held out.
 * pd_miner_is_holdout: 1 if video seq is held out by this run (its record
 * is to be marked), 2 if its record already carried "holdout":true, else 0.
 * With a holdout date the answer is known as soon as the video is added.
 */
long pd_miner_holdout(pd_miner *m);
int pd_miner_is_holdout(const pd_miner *m, long seq);

/* pd_miner_run: mine every cluster of the shard.  Returns 0, or -1 with err. */
int pd_miner_run(pd_miner *m, pd_err *err);

/* After a run: the pattern records (one JSON object per line, '\n' after each) appended to out. */
void pd_miner_write_patterns(pd_miner *m, pd_buf *out);
/* The mine_summary record (with '\n'). */
void pd_miner_write_summary(pd_miner *m, pd_buf *out);

/* Run figures: tests evaluated, clusters mined, patterns kept. */
typedef struct pd_mine_counts {
	long long tests, tests_topic;
	long clusters, patterns, videos, videos_used, holdout;
	long atoms;		/* distinct candidate features frequent enough to test */
	/* the z of every rank test counted in tests, in PD_ZHIST_BINS bins of
	   PD_ZHIST_WIDTH from PD_ZHIST_LO (the outer bins take the tails) */
	long long zhist[64];
} pd_mine_counts;
#define PD_ZHIST_BINS 64
#define PD_ZHIST_LO (-8.0)
#define PD_ZHIST_WIDTH 0.25
void pd_miner_counts(const pd_miner *m, pd_mine_counts *c);

/*
 * pd_mine_summary_merge: the mine_summary records of the n shards of one run
 * (pd-mine --shard i/n, each i of 1..n once, in any order) as the one record
 * the unsharded run writes: "tests", "tests_topic", "clusters" and
 * "patterns" summed, "z_hist"'s counts summed bin by bin (the bins alike),
 * "shard" "1/1", every other field (videos, holdout,
 * features, options) the same in all of them.  Returns a new object (the
 * caller frees it with cJSON_Delete), or NULL with err (PD_EREC) when the
 * records are not the complete shards of one run.
 * pd_mine_summary_shard: a mine_summary's "shard" "i/n" into i and n;
 * returns 0, or -1 when it has none that is valid.
 */
struct cJSON;
int pd_mine_summary_shard(const struct cJSON *s, int *i, int *n);
struct cJSON *pd_mine_summary_merge(const struct cJSON *const *s, size_t n, pd_err *err);

#endif
