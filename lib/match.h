/*
 * match.h — matching videos and draft titles against stored patterns: the
 * engine behind pd-match.
 *
 * A pd_matcher holds a set of patterns loaded once (from pattern records in a
 * file, or from the database's active set): their centroids as one
 * row-major matrix of unit rows, so the cosine similarity of a batch of
 * videos to every pattern is one BLAS product (pd_matcher_sims), and for
 * each pattern what a match record says about it (the feature predicate of
 * lib/features.h, the radius, the expected performance and its interval,
 * precomputed explanations).  A pattern applies to a video when the cosine
 * distance 1 - similarity is within the pattern's radius.
 *
 * Expected performance (documented in pd-match(1)): expected_perf is the
 * median perf of the niche's videos that have the feature (stats
 * median_perf_with, else median_with, else performance_stats.within_radius
 * .median); its interval carries the lift's confidence interval over:
 * expected_perf x [lift_ci lo / lift, lift_ci hi / lift].  The gain of
 * adopting a pattern is expected_perf minus the median perf of the niche's
 * videos without the feature.
 *
 * Ownership: the matcher owns everything it holds; pattern strings are
 * copied in.  Not thread-safe (one matcher per thread).
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

typedef struct pd_pattern {
	char *id, *cluster, *name;
	pd_feature *feature;
	double radius;		/* cosine distance */
	float min_sim;		/* 1 - radius: applies when similarity >= min_sim */
	int negative;		/* direction "negative" */
	double exp_perf, exp_lo, exp_hi;	/* NAN when the stats do not say */
	double perf_without;	/* NAN when unknown */
	double gain;		/* exp_perf - perf_without, NAN when unknown */
	char *explain_has, *explain_lacks;	/* one line each, plain UTF-8 */
	int idrank;		/* place of id among the set's ids (C order), for ties */
	/* pre-rendered JSON pieces of the records (the hot path is copying) */
	pd_buf head;		/* "pattern_id":"..","similarity": */
	pd_buf tail_has, tail_lacks;	/* ,"has_feature":..,..,"explanation":".." */
	pd_buf rec_tail;	/* ,"expected_perf":..,"expected_gain":..,"explanation":".." */
} pd_pattern;

typedef struct pd_matcher {
	int dim;		/* 0 until the first pattern */
	int n, cap;
	float *cent;		/* n x dim, unit rows */
	pd_pattern *pat;
	long skipped;		/* patterns not loaded because status "rejected" */
	uint64_t hash;		/* of everything loaded, for cache keys */
	unsigned need;		/* what the features ask of a video (PD_NEED_*, features.h) */
} pd_matcher;

pd_matcher *pd_matcher_new(void);
void pd_matcher_free(pd_matcher *m);

/*
 * pd_matcher_add: one pattern record (rec, without its centroid) and its
 * centroid cen[0..dim).  Reads id, feature, radius (or semantic_radius),
 * direction, status, name, stats, performance_stats.  Returns 1 added,
 * 0 skipped (status "rejected"), -1 with err (PD_EREC): no id, a bad or
 * missing feature, no finite radius in [0,2], a centroid of another
 * dimension than the patterns before, a zero centroid, a repeated id.
 */
int pd_matcher_add(pd_matcher *m, const cJSON *rec, const float *cen, int dim, pd_err *err);

/*
 * pd_matcher_add_line: a pattern record as a line of NDJSON, its centroid
 * as "centroid_b64" (or "centroid": a JSON array).  Lines of other types
 * are skipped (returns 0).  Same returns as pd_matcher_add.
 */
int pd_matcher_add_line(pd_matcher *m, const char *line, size_t len, pd_err *err);

/*
 * pd_matcher_load_file: every pattern record of the NDJSON file path (gzip
 * too).  Returns the number of patterns added, or -1 with err: the file
 * cannot be read (PD_EUSAGE), or a bad line (PD_EREC, message "FILE:LINE:
 * ...").
 */
long pd_matcher_load_file(pd_matcher *m, const char *path, pd_err *err);

/*
 * pd_matcher_sims: S (nq x m->n, row-major) = X C^T, the cosine similarities
 * of the nq unit rows of X (nq x m->dim) to every centroid: one sgemm.
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
 * x[0..m->dim) whose BLAS similarities are srow[0..m->n), into hits (room
 * for m->n), ordered by similarity (highest first), then pattern id.  srow
 * only screens: each pattern near or over its threshold gets its similarity
 * recomputed in one fixed order, and that value decides and is reported, so
 * answers do not depend on batch size, position in the batch or BLAS
 * threads.  Returns the count.
 */
int pd_match_select(const pd_matcher *m, const float *srow, const float *x,
		    pd_match_hit *hits);

/* pd_match_fill_has: hits[i].has from the video's extracted features. */
void pd_match_fill_has(const pd_matcher *m, pd_match_hit *hits, int nh, const pd_vfeat *vf);

/*
 * pd_match_write: the answer for one video appended to out, one record a
 * line.  Without group: a "match" record per hit, then with recommend a
 * "recommendation" record per recommended pattern.  With group: one
 * "match_group" record holding "matches" (and "recommendations" with
 * recommend).  Recommendations are the applicable positive patterns the
 * video lacks whose gain is known and positive, by gain (highest first),
 * then similarity, then id.  hits may be reordered.
 */
void pd_match_write(const pd_matcher *m, const char *video_id, pd_match_hit *hits, int nh,
		    int group, int recommend, pd_buf *out);

/* ---- Pinecone, the last place an id's embedding is looked up ---- */

/*
 * pd_match_pinecone_fetch: the vector stored under `id` in the Pinecone index
 * of the environment (PINECONE_API_KEY, PINECONE_INDEX_HOST, optional
 * PINECONE_NAMESPACE, as lib/pinecone.h reads them): GET
 * HOST/vectors/fetch?ids=ID[&namespace=NS] with header Api-Key, through
 * lib/http.h (429 and 5xx retried).  The floats go into *out (grown with
 * xrealloc; *cap floats held) and *dim.  Returns 1 found, 0 not found or
 * Pinecone not configured, -1 with err (PD_ESERVICE: no final answer, a
 * status other than 200, an answer that is not the documented shape; a
 * vector with a non-finite value is PD_EREC).
 */
int pd_match_pinecone_fetch(const char *id, float **out, size_t *cap, int *dim, pd_err *err);

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
 * pd_db_video_record: the stored video `id` as one compact `video` record
 * (no '\n') into out (reset first): id, channel_id, title, description,
 * tags, category, format, published_at, duration_s, is_short and the
 * embedding as embedding_b64 (absent when NULL).  Returns 1 found, 0 no
 * such video, -1 with err (PD_ESERVICE).  Uses a prepared statement on
 * the connection (prepared on first use).
 */
int pd_db_video_record(PGconn *c, const char *id, pd_buf *out, pd_err *err);

#endif
