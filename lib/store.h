/*
 * store.h — the run protocol of pd-store: a stream's videos, clusters,
 * patterns and metric records written to PostgreSQL as one discovery run.
 *
 *   pd_store_begin    one transaction (an advisory lock: one run at a time),
 *                     temporary staging tables, the stored videos' ids and
 *                     content hashes read
 *   pd_store_add      one record: checked (a record that would half-write is
 *                     refused, PD_EREC, and the run goes on), encoded, and
 *                     copied straight into videos (an id not held yet) or
 *                     staged
 *   pd_store_finish   staging ended; the run's row (or the latest run again
 *                     when the content hash says the input is the same),
 *                     upserts by stable id touching only changed rows, the
 *                     run's cluster membership, the active-set switch,
 *                     pruning, centroid indexes, view refresh — all before
 *                     COMMIT, so the caller can still abandon the run
 *   pd_store_commit   COMMIT; then the indexes dropped for the load (cluster
 *                     centroids) or asked for (video embeddings), built
 *                     concurrently (readers are never blocked by them), and
 *                     the cache generation bump
 *   pd_store_free     ends what is left (an uncommitted run is rolled back)
 *
 * Cluster membership is per run (video_clusters, schema.h): a discovery run
 * (one with clusters or patterns) gets its own membership rows; a run of
 * videos only (pd-cluster --assign output) adds its memberships to the
 * active run's hierarchy, a record without a cluster keeping the one stored.
 * A videos row is rewritten only when the video's own content changed, so a
 * re-clustering of the same videos rewrites no videos row and no vector
 * index entry.
 *
 * The vector index of videos.embedding (videos_embedding_hnsw) serves only
 * ad-hoc similarity queries (pd-match descends the cluster hierarchy): it is
 * built only when asked (video_index), never inside the run's transaction,
 * but after the commit with CREATE INDEX CONCURRENTLY; when it exists and a
 * run brings PD_STORE_REINDEX_MIN or more new embeddings, it is dropped in
 * the run's transaction (row-by-row HNSW insertion is the slow path) and
 * rebuilt after the commit.
 *
 * Ownership: the pd_store borrows the connection (the caller PQfinishes it
 * after pd_store_free); records given to pd_store_add are copied.
 */
#ifndef PD_STORE_H
#define PD_STORE_H
#include <libpq-fe.h>
#include "err.h"
#include "record.h"

/* A run bringing this many new or changed embeddings rebuilds the video index. */
#define PD_STORE_REINDEX_MIN 10000

enum pd_store_kind { PD_STORE_NONE = 0, PD_STORE_VIDEO, PD_STORE_CLUSTER, PD_STORE_PATTERN,
		     PD_STORE_METRIC };

/* pd_store_kind: the kind of a record "type" (PD_STORE_NONE: not stored). */
int pd_store_kind(const char *type);

typedef struct pd_store pd_store;

typedef struct pd_store_opts {
	long keep_runs;		/* > 0: keep that many discovery runs, delete older ones */
	int refresh;		/* refresh the materialized views */
	int video_index;	/* build videos_embedding_hnsw when missing (after the commit) */
	const char *program;	/* discovery_runs.program */
} pd_store_opts;

typedef struct pd_store_result {
	int stored;		/* 0: there was nothing to store (rolled back) */
	long long run_id;
	const char *run;	/* "active", "loaded", "repeat" (the latest run again) */
	long long videos, clusters, patterns, metrics;
	long long videos_changed;	/* videos new or changed (their content) */
	long long videos_written;	/* videos rows written (a changed hash: same content, other form) */
	long long memberships;		/* video_clusters rows inserted or changed */
	long long runs_pruned;
	int embedding_dim;
	int changed;		/* anything changed (views refreshed, caches bumped) */
	double load_seconds;	/* from begin to the end of staging (reading, COPY, new videos rows) */
	double write_seconds;	/* staging to tables (upserts, membership, switch) */
	int hnsw_built;		/* centroid indexes built in the transaction */
	int centroid_index_dropped;	/* the cluster centroids' index dropped for the load ... */
	double centroid_index_seconds;	/* ... and built after the commit, concurrently */
	double hnsw_seconds;
	double refresh_seconds;	/* -1: not refreshed */
	double commit_seconds;	/* from begin to the commit: when readers see the run */
	int video_index;	/* 1 video index built after the commit, 0 none */
	int video_index_dropped;	/* dropped for this run's load (then rebuilt) */
	double video_index_seconds;
	long long cache_generation;	/* -1: no cache, or not bumped */
	char warning[256];	/* a cache failure (never a failed store), or "" */
} pd_store_result;

/*
 * pd_store_begin: start a run on c (schema migrated by the caller).  Returns
 * 0 with *out, or -1 with err (PD_ESERVICE).
 */
int pd_store_begin(pd_store **out, PGconn *c, const pd_store_opts *o, pd_err *err);

/* pd_store_db_dim: the database's embedding dimension at begin (0: not fixed yet). */
int pd_store_db_dim(const pd_store *s);

/*
 * pd_store_add: stage record r (parsed from its line, r->raw) of the given
 * kind.  Returns 0 staged; -1 with err: PD_EREC the record is refused (the
 * message says why; nothing of it is stored), PD_ESERVICE the run failed.
 */
int pd_store_add(pd_store *s, int kind, const pd_record *r, pd_err *err);

/*
 * pd_store_finish: everything of the run short of COMMIT (see above).
 * seconds, records_in, records_out and rejected are the caller's figures so
 * far, stored as pd-store's own row of pattern_discovery_metrics (stage
 * "store").  Fills res.  Returns 0, or -1 with err (PD_ESERVICE; the run is
 * then void).
 */
int pd_store_finish(pd_store *s, double seconds, long long records_in, long long records_out,
		    long long rejected, pd_store_result *res, pd_err *err);

/*
 * pd_store_commit: COMMIT the finished run, then build the video index
 * when due and bump the cache generation (failures of these two are a
 * warning in res->warning, the run stays stored).  Returns 0, or -1 with err
 * when the COMMIT failed (nothing stored).
 */
int pd_store_commit(pd_store *s, pd_store_result *res, pd_err *err);

/* pd_store_free: roll back an uncommitted run and free s (NULL is fine). */
void pd_store_free(pd_store *s);

#endif
