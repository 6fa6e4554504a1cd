/*
 * cluster.h — the three-level cluster hierarchy of pd-cluster.
 *
 * Levels macro, meso and micro, built top-down: spherical k-means (kmeans.h)
 * on all videos gives the macro clusters; inside each macro cluster, k-means
 * on its members gives its meso children; inside each meso cluster, the
 * micro children.  At each split the number of children is chosen so that
 * the mean child size lands at the geometric middle of the level's size band
 * (default macro 1000-10000, meso 100-1000, micro 10-100); a parent too small
 * to split keeps one child (the level is then not really used, and
 * pd_hier_depth says how many are).  Children smaller than the band's minimum
 * are merged away: the smallest one's centre is dropped and its members go to
 * their nearest remaining sibling, until none is too small.
 *
 * Membership rule, the one that makes --assign exact: a vector belongs to
 * the macro cluster whose centroid is most similar, then to the most similar
 * meso child of that, then to the most similar micro child of that, with
 * pd_km_nearest (fixed-order arithmetic, ties to the lower index).  Training
 * ends with exactly this rule over the published centroids, so a new vector
 * placed with pd_hier_place gets what it would have got at training.
 *
 * Nodes are stored level by level (all macro, then all meso, then all micro),
 * and the children of a node are contiguous.  Ids are strings: fresh ids are
 * hierarchical ("m3", "m3.2", "m3.2.5", children numbered by size,
 * largest first); pd_hier_match_previous carries ids over from a previous
 * hierarchy.
 *
 * The module owns the "cluster" and "drift" records and a video's "cluster"
 * and "cluster_sim" fields: read with pd_hier_add_record, written with
 * pd_cluster_record_write (summaries from pd_hier_summarise),
 * pd_drift_record_write and pd_cluster_video_write.
 */
#ifndef PD_CLUSTER_H
#define PD_CLUSTER_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "buf.h"
#include "err.h"

enum { PD_MACRO = 0, PD_MESO = 1, PD_MICRO = 2, PD_NLEVELS = 3 };

extern const char *const pd_level_name[PD_NLEVELS];	/* "macro", "meso", "micro" */
int pd_level_parse(const char *s);			/* -1 if none */

typedef struct pd_cl_node {
	int level;
	int parent;		/* node index, -1 for macro */
	int first_child, nchild;
	size_t size;		/* members (training, or as loaded) */
	float radius;		/* cosine distance holding radius_share of members */
	double mean_sim;	/* mean cosine similarity of members to the centroid */
	char *id;		/* owned */
	char *label;		/* owned: the niche's label as one string (pd_cluster_label), or
				   NULL (set only when loaded from records, pd_hier_add_record) */
} pd_cl_node;

typedef struct pd_hier {
	int d;
	int n;			/* nodes */
	pd_cl_node *node;
	float *cent;		/* n x d, unit rows */
	int level_start[PD_NLEVELS], level_count[PD_NLEVELS];
	double radius_share;
	char **parent_ids;	/* private to cluster.c: each node's parent id while loading
				   (pd_hier_add .. pd_hier_finish), else NULL */
} pd_hier;

typedef struct pd_hier_opts {
	size_t band_min[PD_NLEVELS], band_max[PD_NLEVELS];
	int max_iter;		/* k-means iterations per split (0: 20) */
	uint64_t seed;
	double radius_share;	/* 0: 0.9 */
} pd_hier_opts;

/* pd_hier_opts_default: the bands of the original guide, 20 iterations, 90%. */
void pd_hier_opts_default(pd_hier_opts *o);

/*
 * pd_hier_build: the hierarchy of X (n x d, unit rows, n >= 1) into h (which
 * it initialises; free with pd_hier_release).  memb (n x 3 node indices,
 * caller-allocated) gets each vector's macro, meso and micro node and sim
 * (n x 3, may be NULL) its similarity to each.  Returns 0, or -1 with err.
 */
int pd_hier_build(const float *X, size_t n, int d, const pd_hier_opts *o, pd_hier *h,
		  int *memb, float *sim, pd_err *err);

/*
 * pd_hier_place: the nodes (out[3]) of x under the membership rule above and
 * its similarity to each (sim[3], may be NULL).
 */
void pd_hier_place(const pd_hier *h, const float *x, int out[PD_NLEVELS], float sim[PD_NLEVELS]);

/* pd_hier_depth: how many levels actually split (0..3). */
int pd_hier_depth(const pd_hier *h);

/*
 * Loading a hierarchy from records: pd_hier_init, then pd_hier_add for each
 * cluster (centroid copied as given), then pd_hier_finish, which orders
 * the nodes, links parents (by id) and checks the tree: every meso has a
 * macro parent, every micro a meso parent, every macro and meso at least one
 * child, one dimension.  Returns 0, or -1 with err (PD_EUSAGE) naming the
 * cluster at fault.  pd_hier_init(h, 0) leaves the dimension to the first
 * cluster added.  Nodes keep the order they were added in among siblings,
 * which decides exact ties of pd_hier_place (ties to the first).
 */
void pd_hier_init(pd_hier *h, int d);
int pd_hier_add(pd_hier *h, int level, const char *id, const char *parent_id,
		const float *centroid, int d, float radius, size_t size, pd_err *err);
int pd_hier_finish(pd_hier *h, pd_err *err);

/*
 * Reading cluster records, as pd-cluster writes them: the one reader behind
 * pd-cluster --assign and --previous and pd-match --clusters (and the
 * database's active clusters, lib/db_patterns.c), so that a video is placed
 * the same way wherever it is placed.
 *
 * pd_hier_add_record: one cluster record (a parsed object) added with
 * pd_hier_add: "id", "level", "parent", "radius", "size", "radius_share"
 * (the hierarchy's, last one wins), "label" (pd_cluster_label) and the
 * centroid: cen[0..d) when cen is given (a database column), else the
 * record's "centroid_b64" or "centroid" array.  Returns 0, or -1 with err
 * (PD_EUSAGE): no id, level or centroid, a malformed centroid, or what
 * pd_hier_add refuses.
 *
 * pd_hier_add_line: the same for one NDJSON line; a line whose type is not
 * "cluster" is skipped.  Returns 1 added, 0 skipped, -1 with err (PD_EUSAGE;
 * a line that is not a JSON record too).
 *
 * pd_hier_load_file: every cluster record of the NDJSON file path (gzip
 * too; other records skipped; lines up to max_line bytes, 0 for the
 * default), then pd_hier_finish, into h (initialised here).  Returns the
 * number of clusters, or -1 with err (PD_EUSAGE: "FILE: ..." when the file
 * cannot be read, has no cluster records or its tree does not hold,
 * "FILE:LINE: ..." for a bad line); h holds nothing to release then.
 */
int pd_hier_add_record(pd_hier *h, const cJSON *rec, const float *cen, int d, pd_err *err);
int pd_hier_add_line(pd_hier *h, const char *line, size_t len, pd_err *err);
long pd_hier_load_file(const char *path, size_t max_line, pd_hier *h, pd_err *err);

/*
 * pd_cluster_label: a record's "label" as the niche's label in one string,
 * the form pattern records carry: a string as it is; an array of
 * distinctive terms (pd-cluster's) as its first three non-empty ones joined
 * by ", ".  NULL when there is none.  The caller frees the result.
 */
char *pd_cluster_label(const cJSON *label);

/*
 * pd_hier_hash: a 64-bit hash of what placement depends on and reports
 * (ids, levels, parents, centroids, in node order), for cache keys.
 */
uint64_t pd_hier_hash(const pd_hier *h);

/*
 * pd_hier_match_previous: ids carried over from prev: a node of h takes the
 * id of the previous node of the same level that is its mutual best match
 * by centroid similarity, when that similarity is at least min_sim.  Other
 * nodes get fresh hierarchical ids not used by prev (their parent's id, a
 * dot, the next free number).  Returns how many nodes kept an old id.
 */
int pd_hier_match_previous(pd_hier *h, const pd_hier *prev, double min_sim);

/* pd_hier_find: the node with this id, or -1 (linear). */
int pd_hier_find(const pd_hier *h, const char *id);

void pd_hier_release(pd_hier *h);

/*
 * Summaries: what a cluster record says of its members besides the
 * geometry — a label of distinctive title terms, how their videos perform,
 * how many channels they span.
 *
 * pd_cl_videos holds what the summaries need of each clustered video, added
 * with pd_cl_videos_add in the order of the rows given to pd_hier_build: the
 * terms of its title (cut by embedtok.h, as the text model cuts them; words
 * of one byte, numbers and label stop words, text.h PD_STOP_LABEL, left out;
 * each term once per title), its channel (NULL: none) and its perf (NAN:
 * none).  Strings are copied.
 */
typedef struct pd_cl_videos pd_cl_videos;
pd_cl_videos *pd_cl_videos_new(void);
void pd_cl_videos_add(pd_cl_videos *v, const char *title, const char *channel, double perf);
size_t pd_cl_videos_count(const pd_cl_videos *v);
void pd_cl_videos_free(pd_cl_videos *v);

typedef struct pd_cl_summary {
	size_t size;		/* members */
	int nperf;		/* members with a finite perf */
	double median;		/* their median perf (mean of the middle two), NAN if none */
	double mean_log;	/* mean log perf of members with perf > 0, NAN if none */
	double share_high;	/* share of the nperf with perf >= high, NAN if none */
	int channels;		/* distinct channels among members */
	int nlabel;
	char **label;		/* owned: up to nlabels terms, most distinctive first */
} pd_cl_summary;

/*
 * pd_hier_summarise: the summary of every node of h (h->n of them, in node
 * order) from its members: memb as pd_hier_build gave it for the
 * pd_cl_videos_count(v) videos of v.  Label terms are those in at least two
 * members (any, in a cluster of fewer than 4), ranked by count * log(lift),
 * lift = the term's share of members over its share of all videos (taken as
 * 1 when below), ties to the more frequent, then in byte order; the first
 * nlabels are kept.  Free with pd_cl_summaries_free(s, h->n).
 */
pd_cl_summary *pd_hier_summarise(const pd_hier *h, const int *memb, const pd_cl_videos *v,
				 int nlabels, double high);
void pd_cl_summaries_free(pd_cl_summary *s, int n);

/*
 * Drift (pd-cluster --assign): how many videos each micro cluster receives
 * and how many of them lie beyond its radius (cosine distance 1 - sim >
 * radius).  pd_drift_init sizes d for h; pd_drift_add counts one video
 * placed at nodes (pd_hier_place) with similarity micro_sim to its micro
 * cluster; pd_drift_release frees.
 */
typedef struct pd_drift {
	size_t *n, *beyond;		/* per node of h (micro nodes only are counted) */
	unsigned long long placed, beyond_total;
} pd_drift;
void pd_drift_init(pd_drift *d, const pd_hier *h);
void pd_drift_add(pd_drift *d, const pd_hier *h, const int nodes[PD_NLEVELS], float micro_sim);
void pd_drift_release(pd_drift *d);

/*
 * Writing, the other half of pd_hier_add_record (one owner for the shapes):
 *
 * pd_cluster_record_write: node c's "cluster" record (one line, newline
 * included) appended to b, with its summary s.
 *
 * pd_drift_record_write: a "drift" record of node c: n videos placed into
 * it by --assign, beyond of them further than its radius.
 *
 * pd_cluster_video_write: a video line (line[0..len), no newline) appended
 * to out with "cluster" (the ids of nodes[], one per level) and
 * "cluster_sim" (sim) added at its end.  A line that already has either
 * (had_cluster) is rebuilt member by member without them; otherwise it is
 * copied up to its closing brace.  Returns 0, or -1 with err when a line
 * with had_cluster is not a JSON object (out unchanged).
 */
void pd_cluster_record_write(pd_buf *b, const pd_hier *h, int c, const pd_cl_summary *s);
void pd_drift_record_write(pd_buf *b, const pd_hier *h, int c, size_t n, size_t beyond);
int pd_cluster_video_write(pd_buf *out, const char *line, size_t len, int had_cluster,
			   const pd_hier *h, const int nodes[PD_NLEVELS], float sim, pd_err *err);

#endif
