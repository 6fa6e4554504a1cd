/*
 * schema.h — pd's PostgreSQL schema: versioned migrations, the embedding
 * dimension, HNSW indexes and the materialized views.
 *
 * Tables (migration 1): videos (one row per video id, upserted), the
 * discovery_runs log, clusters and patterns (one copy per run, keyed
 * (run_id, id)), video_patterns, pattern_discovery_metrics, pd_settings.
 * The active set is the run whose discovery_runs.status is 'active'
 * (at most one, enforced by a unique partial index); the views
 * active_clusters and active_patterns show it, and the materialized views
 * pattern_effectiveness_by_cluster and semantic_cluster_stats summarise it.
 * Migration 2 adds the predictions pd-track records, the materialized view
 * pattern_effectiveness over them and SQL refresh_pattern_views().
 * Migration 3 moves cluster membership out of videos into video_clusters
 * (one row per run and video; view active_video_clusters: the active
 * run's), so a re-clustering of the same videos rewrites no videos row.
 *
 * The embedding columns are created as `vector` without a dimension; the
 * first run that stores an embedding fixes it (pd_schema_set_dim: vector(d),
 * or halfvec(d) beyond 2,000 dimensions, which is what HNSW can index), and
 * then the HNSW cosine indexes of the centroids are built over the loaded
 * rows.  The index of video embeddings is store.h's concern (built after the
 * commit, on request).
 */
#ifndef PD_SCHEMA_H
#define PD_SCHEMA_H
#include <libpq-fe.h>
#include "err.h"

/* The newest migration this build knows. */
int pd_schema_latest(void);

/*
 * pd_schema_migrate: check that pgvector is available, then apply every
 * pending migration, each in its own transaction, under a session advisory
 * lock (two concurrent callers: one applies, the other waits and finds
 * nothing left).  *applied (may be NULL) gets how many were applied.
 * Returns 0, or -1 with err (PD_ESERVICE; pgvector missing says so).
 * The database must not be newer than this build (an error too).
 */
int pd_schema_migrate(PGconn *c, int *applied, pd_err *err);

/* pd_schema_get_dim: the stored embedding dimension (0: not fixed yet), or -1 with err. */
int pd_schema_get_dim(PGconn *c, pd_err *err);

/*
 * pd_schema_set_dim: fix the embedding columns to dimension dim (1..16000)
 * inside the caller's transaction (rebuilding the views that depend on
 * them).  Returns 0 or -1 with err.
 */
int pd_schema_set_dim(PGconn *c, int dim, pd_err *err);

/*
 * pd_schema_ensure_indexes: build the HNSW cosine indexes of cluster and
 * pattern centroids that are missing or invalid (none beyond 4,000
 * dimensions, which HNSW cannot index), in the caller's transaction; the
 * clusters' not when skip_clusters (the caller builds it after its commit).
 * *built gets how many were built and *seconds how long it took.  Returns 0
 * or -1 with err.
 */
int pd_schema_ensure_indexes(PGconn *c, int dim, int skip_clusters, int *built, double *seconds,
			     pd_err *err);

/*
 * pd_schema_refresh_views: every materialized view (SQL refresh_pattern_views()
 * of migration 2: CONCURRENTLY where a unique index allows).
 */
int pd_schema_refresh_views(PGconn *c, pd_err *err);

#endif
