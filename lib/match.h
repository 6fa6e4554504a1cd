/*
 * match.h — matching videos and draft titles against stored patterns: the
 * engine behind pd-match.
 *
 * A pd_matcher holds a set of patterns loaded once (from pattern records in a
 * file, or from the database's active set) and, normally, the cluster
 * hierarchy they were mined in (lib/cluster.h: cluster records, or the
 * active run's clusters).  A pattern belongs to one cluster and applies to a
 * video exactly when the hierarchy places the video in that cluster: the
 * descent of pd-cluster --assign (pd_hier_place: the most similar macro
 * centroid, then the most similar of its meso children, then of their micro
 * children), so a pattern applies to every video it was found on and to no
 * video off the path macro -> meso -> micro of its cluster.  Placing costs
 * one dot product per macro centroid plus one per child of the two chosen
 * nodes; the patterns of the three nodes are listed per node at load.  The
 * similarity to the pattern's centroid and its radius are reported as
 * information.
 *
 * Without a hierarchy (old usage: pattern records with centroids and radii
 * only) a pattern applies when the cosine distance 1 - similarity to its
 * centroid is within its radius: the centroids are one row-major matrix of
 * unit rows, so a batch's similarities to every pattern are one BLAS product
 * (pd_matcher_sims).
 *
 * Expected performance (documented in pd-match(1)).  A record whose stats
 * carry "effect" (a multiplier: the Hodges-Lehmann estimate of exp(shift in
 * log perf) with the feature vs without, in the cluster) and "effect_ci",
 * with median_perf_without known: expected_perf = median_perf_without x
 * effect, its interval median_perf_without x effect_ci, the gain
 * expected_perf - median_perf_without with the interval that follows.  An
 * older record without "effect" (or without median_perf_without):
 * expected_perf is the median perf of the niche's videos that have the
 * feature (stats median_perf_with, else median_with, else
 * performance_stats.within_radius.median); its interval carries the lift's
 * confidence interval over: expected_perf x [lift_ci lo / lift, lift_ci hi /
 * lift]; the gain is expected_perf minus the median perf without the
 * feature.  Either way a record must not contradict itself
 * (pd_pattern_check_effect, lib/pattern.h, the check pd-validate and
 * pd-store make: effect and median ratio on the side of 1 its direction
 * says, intervals holding their estimates): one that does is a bad record.
 *
 * Status: "rejected" patterns are not loaded; "provisional" ones (not
 * testable on newer videos) are, and their records say so; they are
 * recommended only when asked (PD_RECOMMEND_PROVISIONAL).
 *
 * Use: pd_matcher_new; the hierarchy (pd_matcher_set_hier, or cluster
 * records in the pattern file); patterns (pd_matcher_add, _add_line,
 * _load_file, pd_db_read_patterns); pd_matcher_finish, which links each
 * pattern to its cluster and renders what the records say of it; then
 * pd_matcher_sims / pd_match_select / pd_match_fill_has / pd_match_write per
 * batch.
 *
 * Ownership: the matcher owns everything it holds; pattern strings are
 * copied in.  Building is single-threaded; after pd_matcher_finish the
 * select, fill and write calls only read the matcher and keep no file-scope
 * state (the sorts take the matcher as context), so threads may share it.
 */
#ifndef PD_MATCH_H
#define PD_MATCH_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include "buf.h"
#include "err.h"
#include "features.h"
#include "cluster.h"
#include "strmap.h"

typedef struct pd_match_pattern {
	char *id, *cluster, *name;
	char *level;		/* the record's "level", or NULL */
	char *label;		/* the record's "label" (pd_cluster_label), or NULL */
	char *status;		/* the record's "status" when not "validated", or NULL */
	char *kind;		/* the record's "kind" (evergreen / trend), or NULL */
	int provisional;	/* status "provisional" */
	pd_feature *feature;
	unsigned need;		/* what its feature asks of a video (pd_feature_needs) */
	double radius;		/* cosine distance */
	float min_sim;		/* 1 - radius: applies when similarity >= min_sim (no hierarchy) */
	int negative;		/* direction "negative" (or, without one, effect < 1) */
	double exp_perf, exp_lo, exp_hi;	/* NAN when the stats do not say */
	double perf_without;	/* NAN when unknown */
	double gain, gain_lo, gain_hi;	/* exp_perf - perf_without and its interval, NAN when unknown */
	double effect, effect_lo, effect_hi;	/* stats.effect(_ci), NAN when absent */
	char *explain_has, *explain_lacks;	/* one line each, plain UTF-8 */
	int idrank;		/* place of id among the set's ids (C order), for ties */
	long line;		/* line of the pattern file it came from (0: not a file) */
	int node;		/* its cluster in the hierarchy, -1 without one */
	uint64_t row_hash;	/* of its unit centroid: equal rows give equal similarities */
	/* pre-rendered JSON pieces of the records (the hot path is copying) */
	pd_buf head;		/* "pattern_id":"..","cluster":..,"level":..,"label":..,"similarity": */
	pd_buf tail_has, tail_lacks;	/* ,"radius":..,"has_feature":..,..,"explanation":".." */
	pd_buf rec_tail;	/* ,"expected_perf":..,"expected_gain":..,..,"explanation":".." */
} pd_match_pattern;

typedef struct pd_matcher {
	int dim;		/* 0 until the first pattern (or the hierarchy) */
	int n, cap;
	float *cent;		/* n x dim, unit rows */
	pd_match_pattern *pat;
	long skipped;		/* patterns not loaded because status "rejected" */
	uint64_t hash;		/* of everything loaded, for cache keys (pd_matcher_finish) */
	unsigned need;		/* what the features ask of a video (PD_NEED_*, features.h) */
	/* the hierarchy, when there is one (hier.n > 0) */
	pd_hier hier;
	pd_strmap *node_ids;	/* node id -> node index (pd_matcher_finish) */
	int *node_first;	/* hier.n + 1 offsets into node_pat */
	int *node_pat;		/* pattern indices grouped by node, by id */
	uint64_t hier_hash;	/* pd_hier_hash, 0 without a hierarchy */
	char *src;		/* the pattern file, for messages (NULL: the database) */
	int finished;
} pd_matcher;

pd_matcher *pd_matcher_new(void);
void pd_matcher_free(pd_matcher *m);

/*
 * pd_matcher_set_hier: the hierarchy the patterns apply by (pd_hier_finish
 * done); m takes it over and *h is left empty.  Before pd_matcher_finish; a
 * hierarchy set before replaces none: returns -1 with err (PD_EUSAGE) then.
 */
int pd_matcher_set_hier(pd_matcher *m, pd_hier *h, pd_err *err);

/*
 * pd_matcher_add: one pattern record (rec, without its centroid) and its
 * centroid cen[0..dim).  Reads id, feature, radius, direction, status,
 * kind, cluster, level, label, name, stats and performance_stats through
 * pd_pattern_read (pattern.h: older records' aliases, such as
 * semantic_radius or stats.median_with, are read there).  Returns 1 added, 0 skipped (status "rejected"), -1
 * with err (PD_EREC): no id, a bad or missing feature, no finite radius in
 * [0,2], a centroid of another dimension than the patterns before, a zero
 * centroid, a repeated id, stats that contradict themselves (see above).
 * The label (a string, or pd-cluster's array of terms) is read with
 * pd_cluster_label.
 */
int pd_matcher_add(pd_matcher *m, const cJSON *rec, const float *cen, int dim, pd_err *err);

/*
 * pd_matcher_add_line: a pattern record as a line of NDJSON, its centroid
 * as pd_pattern_read gives it ("centroid_b64", or an older "centroid" array).  Lines of other types
 * are skipped (returns 0).  Same returns as pd_matcher_add.
 */
int pd_matcher_add_line(pd_matcher *m, const char *line, size_t len, pd_err *err);

/*
 * pd_matcher_load_file: every pattern record of the NDJSON file path (gzip
 * too), and, when with_clusters and m has no hierarchy yet, the file's
 * cluster records as the hierarchy (none: no hierarchy).  Returns the number
 * of patterns added, or -1 with err: the file cannot be read (PD_EUSAGE), or
 * a bad line (PD_EREC, message "FILE:LINE: ...").  pd_matcher_finish
 * follows.
 */
long pd_matcher_load_file(pd_matcher *m, const char *path, int with_clusters, pd_err *err);

/*
 * pd_matcher_finish: after the last pattern: with a hierarchy, each pattern
 * linked to its cluster (its "level", when given, must be the cluster's);
 * the records' pieces rendered (a pattern's label is its record's, else its
 * cluster's); the set's hash.  Returns 0, or -1 with err (PD_EREC, "FILE:
 * LINE: ..." for a pattern from a file): a pattern without a cluster, or
 * whose cluster is not in the hierarchy or of another level, a hierarchy of
 * another dimension than the patterns.
 */
int pd_matcher_finish(pd_matcher *m, pd_err *err);

/* pd_matcher_has_hier: 1 when patterns apply by the hierarchy, 0 by radius. */
static inline int pd_matcher_has_hier(const pd_matcher *m) { return m->hier.n > 0; }

/*
 * pd_matcher_sims: S (nq x m->n, row-major) = X C^T, the cosine similarities
 * of the nq unit rows of X (nq x m->dim) to every centroid: one sgemm, or,
 * for a batch of a few rows (coprocess use), pd_km_dots row by row (sgemm
 * packs all of C each call).  The values only screen (pd_match_select).
 * Only the radius test needs it: with a hierarchy it does nothing.
 */
void pd_matcher_sims(const pd_matcher *m, const float *X, int nq, float *S);

/* One applicable pattern for one video. */
typedef struct pd_match_hit {
	int pat;		/* index into m->pat */
	float sim;
	int has;		/* the video has the feature (pd_match_fill_has) */
} pd_match_hit;

/*
 * pd_match_select: the patterns that apply to the video with unit embedding
 * x[0..m->dim), into hits (room for m->n), ordered by similarity (highest
 * first), then pattern id.  Returns the count.
 *
 * With a hierarchy: place[0..3) gets the video's macro, meso and micro nodes
 * (pd_hier_place), unless place[0] >= 0 on entry: then the place given is
 * used as it is (a cached one, pd_matcher_place_parse); the hits are the
 * patterns of those three nodes; srow is not read (may be NULL).  A zero x
 * (no direction: pd-cluster leaves such a video unclustered) is placed
 * nowhere: place[0] stays -1, no hits.
 *
 * Without: place[] is set to -1; srow[0..m->n) is the video's row of
 * pd_matcher_sims, which only screens: each pattern near or over its
 * threshold gets its similarity recomputed in one fixed order, and that
 * value decides.
 *
 * Either way the similarity reported is computed in one fixed order from x
 * and the pattern's unit centroid, so answers do not depend on batch size,
 * position in the batch, BLAS threads or a cached place.
 */
int pd_match_select(const pd_matcher *m, const float *srow, const float *x,
		    pd_match_hit *hits, int place[PD_NLEVELS]);

/*
 * The place of a video as cached (pd-match keeps it in Redis): the three
 * node ids separated by tabs.  pd_matcher_place_format appends it to out;
 * pd_matcher_place_parse reads s[0..n) into place[] and returns 1 when it is
 * a path of m's hierarchy (macro, a meso child of it, a micro child of
 * that), else 0 (place[] untouched).
 */
void pd_matcher_place_format(const pd_matcher *m, const int place[PD_NLEVELS], pd_buf *out);
int pd_matcher_place_parse(const pd_matcher *m, const char *s, size_t n, int place[PD_NLEVELS]);

/*
 * pd_match_hits_need: what the hits' patterns ask of a video (PD_NEED_*):
 * features extracted for it (pd_vfeat_extract_some) are enough for
 * pd_match_fill_has on these hits.
 */
unsigned pd_match_hits_need(const pd_matcher *m, const pd_match_hit *hits, int nh);
/* pd_match_fill_has: hits[i].has from the video's extracted features. */
void pd_match_fill_has(const pd_matcher *m, pd_match_hit *hits, int nh, const pd_vfeat *vf);

/* What pd_match_write recommends (its `recommend` argument). */
enum { PD_RECOMMEND = 1, PD_RECOMMEND_PROVISIONAL = 2, PD_RECOMMEND_TOPICS = 4 };

/*
 * pd_match_write: the answer for one video appended to out, one record a
 * line.  Without group: a "match" record per hit, then with recommend a
 * "recommendation" record per recommended pattern.  With group: one
 * "match_group" record holding the video's place ("cluster": macro, meso,
 * micro ids, when place[0] >= 0), "matches" (and "recommendations" with
 * recommend).  Recommendations are the applicable positive patterns the
 * video lacks whose gain is known and positive, provisional ones only with
 * PD_RECOMMEND_PROVISIONAL, topic features (features.h: n-grams, tags,
 * category) only with PD_RECOMMEND_TOPICS, by gain (highest first), then similarity, then
 * id.  hits may be reordered.  place may be NULL.
 */
void pd_match_write(const pd_matcher *m, const char *video_id, pd_match_hit *hits, int nh,
		    int group, int recommend, const int *place, pd_buf *out);

/* ---- Pinecone, the last place an id's embedding is looked up ---- */


/* ---- the database (lib/db_patterns.c) ---- */

/*
 * pd_db_read_patterns: the active set's patterns (view active_patterns,
 * schema.h) into m, in id order (C collation), the centroid from
 * centroid_embedding and the radius from semantic_radius.  Returns the
 * number added, or -1 with err (PD_ESERVICE; a bad stored pattern PD_EREC
 * naming its id).
 */
long pd_db_read_patterns(PGconn *c, pd_matcher *m, pd_err *err);

/*
 * pd_db_read_clusters: the active run's clusters (view active_clusters:
 * id, level, parent, centroid, radius, size, label) read as cluster records
 * (pd_hier_add_record) into h (initialised here), pd_hier_finish done, and
 * the run's id into *run.  Returns the number of clusters (0: the active run
 * has none, or there is no active run; h is then empty), or -1 with err
 * (PD_ESERVICE; a stored hierarchy that does not hold PD_EREC).
 */
long pd_db_read_clusters(PGconn *c, pd_hier *h, long long *run, pd_err *err);

/*
 * pd_db_video_record: the stored video `id` as one compact `video` record
 * (no '\n') into out (reset first): the record pd_db_read_videos (db.h)
 * gives for the row, every stored field and the embedding as embedding_b64
 * (absent when NULL).  Returns 1 found, 0 no such video, -1 with err
 * (PD_ESERVICE).  Uses a prepared statement on the connection (prepared on
 * first use).
 */
int pd_db_video_record(PGconn *c, const char *id, pd_buf *out, pd_err *err);

#endif
