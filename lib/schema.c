/*
 * schema.c — pd's tables as versioned migrations, after the usual
 * schema_migrations pattern: each migration is a numbered SQL script applied
 * once, in its own transaction, and recorded; a session advisory lock makes
 * concurrent pd-store runs take turns.  A migration is never edited once
 * released: a change is a new migration appended to the list.
 *
 * The views are kept apart from the migrations because fixing the embedding
 * dimension (ALTER COLUMN ... TYPE vector(d)) must drop and recreate the
 * views that select those columns; both places use the same text.
 */
#include "pd.h"
#include "db.h"
#include "schema.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Advisory lock key for migrations: "pdmg" */
#define MIGRATE_LOCK "1885627751"

/* The views over the active set; recreated by pd_schema_set_dim. */
static const char views_sql[] =
	"CREATE VIEW active_clusters AS\n"
	"  SELECT c.* FROM clusters c JOIN discovery_runs r USING (run_id) WHERE r.status = 'active';\n"
	"CREATE VIEW active_patterns AS\n"
	"  SELECT p.* FROM patterns p JOIN discovery_runs r USING (run_id) WHERE r.status = 'active';\n"
	"CREATE MATERIALIZED VIEW pattern_effectiveness_by_cluster AS\n"
	"  SELECT p.id AS pattern_id, p.run_id, p.cluster_id, p.cluster_level, p.pattern_type,\n"
	"    p.pattern_data->>'name' AS pattern_name,\n"
	"    (p.performance_stats->'within_radius'->>'avg')::float8 AS avg_performance,\n"
	"    (p.performance_stats->'within_radius'->>'median')::float8 AS median_performance,\n"
	"    (p.performance_stats->'within_radius'->>'count')::float8::bigint AS video_count,\n"
	"    (p.performance_stats->>'lift_ratio')::float8 AS lift_ratio,\n"
	"    (p.pattern_data->>'confidence')::float8 AS confidence,\n"
	"    p.semantic_radius, p.status, p.updated_at\n"
	"  FROM active_patterns p;\n"
	"CREATE UNIQUE INDEX pattern_effectiveness_by_cluster_id\n"
	"  ON pattern_effectiveness_by_cluster (pattern_id);\n"
	"CREATE MATERIALIZED VIEW semantic_cluster_stats AS\n"
	"  WITH m AS (\n"
	"    SELECT 'macro'::text AS level, cluster_macro AS cid, perf, channel_id FROM videos\n"
	"      WHERE cluster_macro IS NOT NULL\n"
	"    UNION ALL SELECT 'meso', cluster_meso, perf, channel_id FROM videos\n"
	"      WHERE cluster_meso IS NOT NULL\n"
	"    UNION ALL SELECT 'micro', cluster_micro, perf, channel_id FROM videos\n"
	"      WHERE cluster_micro IS NOT NULL)\n"
	"  SELECT c.id AS cluster_id, c.run_id, c.level, c.parent, c.size, c.radius,\n"
	"    count(m.cid) AS video_count,\n"
	"    avg(m.perf) AS avg_perf,\n"
	"    percentile_cont(0.5) WITHIN GROUP (ORDER BY m.perf) AS median_perf,\n"
	"    count(DISTINCT m.channel_id) AS channel_count,\n"
	"    (SELECT count(*) FROM active_patterns p WHERE p.cluster_id = c.id) AS pattern_count\n"
	"  FROM active_clusters c LEFT JOIN m ON m.cid = c.id AND m.level = c.level\n"
	"  GROUP BY c.run_id, c.id, c.level, c.parent, c.size, c.radius;\n"
	"CREATE UNIQUE INDEX semantic_cluster_stats_id ON semantic_cluster_stats (cluster_id);\n";

static const char drop_views_sql[] =
	"DROP MATERIALIZED VIEW IF EXISTS pattern_effectiveness_by_cluster;\n"
	"DROP MATERIALIZED VIEW IF EXISTS semantic_cluster_stats;\n"
	"DROP VIEW IF EXISTS active_patterns;\n"
	"DROP VIEW IF EXISTS active_clusters;\n";

static const char migration1[] =
	"CREATE EXTENSION IF NOT EXISTS vector;\n"
	"CREATE TABLE pd_settings (key text PRIMARY KEY, value text NOT NULL);\n"
	"CREATE TABLE discovery_runs (\n"
	"  run_id bigserial PRIMARY KEY,\n"
	"  status text NOT NULL CHECK (status IN ('active', 'superseded', 'loaded')),\n"
	"  content_hash text NOT NULL,\n"
	"  embedding_dim integer,\n"
	"  videos bigint NOT NULL DEFAULT 0,\n"
	"  videos_changed bigint NOT NULL DEFAULT 0,\n"
	"  clusters integer NOT NULL DEFAULT 0,\n"
	"  patterns integer NOT NULL DEFAULT 0,\n"
	"  metrics integer NOT NULL DEFAULT 0,\n"
	"  rejected bigint NOT NULL DEFAULT 0,\n"
	"  program text,\n"
	"  started_at timestamptz NOT NULL DEFAULT now(),\n"
	"  finished_at timestamptz NOT NULL DEFAULT clock_timestamp());\n"
	"CREATE UNIQUE INDEX discovery_runs_one_active ON discovery_runs ((true))\n"
	"  WHERE status = 'active';\n"
	"CREATE TABLE videos (\n"
	"  id text PRIMARY KEY,\n"
	"  channel_id text, channel_title text, title text, description text, tags text[],\n"
	"  category text, format text, published_at timestamptz, observed_at timestamptz,\n"
	"  duration_s double precision, views bigint, likes bigint, comments bigint,\n"
	"  is_short boolean, age_days double precision, perf double precision,\n"
	"  perf_basis integer, perf_reason text, extra jsonb,\n"
	"  cluster_macro text, cluster_meso text, cluster_micro text,\n"
	"  cluster_sim double precision,\n"
	"  other_fields jsonb,\n"
	"  embedding vector,\n"
	"  run_id bigint,\n"
	"  created_at timestamptz NOT NULL DEFAULT now(),\n"
	"  updated_at timestamptz NOT NULL DEFAULT now());\n"
	"CREATE INDEX videos_updated_at ON videos (updated_at);\n"
	"CREATE INDEX videos_channel_id ON videos (channel_id);\n"
	"CREATE INDEX videos_cluster_micro ON videos (cluster_micro);\n"
	"CREATE TABLE clusters (\n"
	"  run_id bigint NOT NULL REFERENCES discovery_runs ON DELETE CASCADE,\n"
	"  id text NOT NULL,\n"
	"  level text NOT NULL,\n"
	"  parent text,\n"
	"  size integer,\n"
	"  radius double precision,\n"
	"  label jsonb, perf_stats jsonb, channels jsonb,\n"
	"  centroid vector,\n"
	"  record jsonb NOT NULL,\n"
	"  created_at timestamptz NOT NULL DEFAULT now(),\n"
	"  PRIMARY KEY (run_id, id));\n"
	"CREATE TABLE patterns (\n"
	"  run_id bigint NOT NULL REFERENCES discovery_runs ON DELETE CASCADE,\n"
	"  id text NOT NULL,\n"
	"  pattern_type text NOT NULL,\n"
	"  pattern_data jsonb NOT NULL,\n"
	"  performance_stats jsonb NOT NULL,\n"
	"  centroid_embedding vector,\n"
	"  semantic_radius double precision,\n"
	"  cluster_id text, cluster_level text,\n"
	"  cluster_hierarchy jsonb,\n"
	"  feature jsonb,\n"
	"  status text,\n"
	"  validation jsonb,\n"
	"  record jsonb NOT NULL,\n"
	"  created_at timestamptz NOT NULL DEFAULT now(),\n"
	"  updated_at timestamptz NOT NULL DEFAULT now(),\n"
	"  PRIMARY KEY (run_id, id));\n"
	"CREATE INDEX patterns_cluster ON patterns (run_id, cluster_id);\n"
	"CREATE TABLE video_patterns (\n"
	"  run_id bigint NOT NULL,\n"
	"  pattern_id text NOT NULL,\n"
	"  video_id text NOT NULL,\n"
	"  role text NOT NULL DEFAULT 'example',\n"
	"  PRIMARY KEY (run_id, pattern_id, video_id),\n"
	"  FOREIGN KEY (run_id, pattern_id) REFERENCES patterns ON DELETE CASCADE);\n"
	"CREATE INDEX video_patterns_video ON video_patterns (video_id);\n"
	"CREATE TABLE pattern_discovery_metrics (\n"
	"  run_id bigint NOT NULL REFERENCES discovery_runs ON DELETE CASCADE,\n"
	"  seq integer NOT NULL,\n"
	"  stage text,\n"
	"  seconds double precision,\n"
	"  records_in bigint, records_out bigint, rejected bigint,\n"
	"  patterns_found integer, clusters_analyzed integer,\n"
	"  data jsonb NOT NULL,\n"
	"  recorded_at timestamptz NOT NULL DEFAULT now(),\n"
	"  PRIMARY KEY (run_id, seq));\n";

static const struct migration {
	int version;
	const char *name;
	const char *sql;
	int with_views;
} migrations[] = {
	{ 1, "initial schema", migration1, 1 },
};
#define NMIGRATIONS ((int)(sizeof migrations / sizeof migrations[0]))

int pd_schema_latest(void)
{
	return migrations[NMIGRATIONS - 1].version;
}

static int check_pgvector(PGconn *c, pd_err *err)
{
	PGresult *r = pd_db_query(c,
		"SELECT (SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'),"
		" (SELECT count(*) FROM pg_extension WHERE extname = 'vector')", 0, NULL, err);
	if (!r)
		return -1;
	int available = atoi(PQgetvalue(r, 0, 0)), installed = atoi(PQgetvalue(r, 0, 1));
	PQclear(r);
	if (!available && !installed)
		return pd_err_set(err, PD_ESERVICE,
				  "pgvector is not installed on the server (no extension 'vector'); "
				  "install pgvector 0.5 or newer");
	if (!installed) {
		pd_err e2;
		if (pd_db_exec(c, "CREATE EXTENSION IF NOT EXISTS vector", &e2) < 0)
			return pd_err_set(err, PD_ESERVICE,
					  "pgvector: extension 'vector' is not installed in this "
					  "database and cannot be created: %s", e2.msg);
	}
	return 0;
}

int pd_schema_migrate(PGconn *c, int *applied, pd_err *err)
{
	pd_err local;
	if (!err)
		err = &local;
	if (applied)
		*applied = 0;
	/* the lock first: two first runs would race on CREATE EXTENSION too */
	if (pd_db_exec(c, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", err) < 0)
		return -1;
	int ret = -1, current = 0;
	PGresult *r = NULL;
	if (check_pgvector(c, err) < 0)
		goto out;
	if (pd_db_exec(c, "SET client_min_messages = warning;"
		       "CREATE TABLE IF NOT EXISTS schema_migrations ("
		       " version integer PRIMARY KEY, name text NOT NULL,"
		       " applied_at timestamptz NOT NULL DEFAULT now())", err) < 0)
		goto out;
	r = pd_db_query(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", 0, NULL, err);
	if (!r)
		goto out;
	current = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	if (current > pd_schema_latest()) {
		pd_err_set(err, PD_ESERVICE,
			   "the database schema is version %d, newer than this pd knows (%d)",
			   current, pd_schema_latest());
		goto out;
	}
	for (int i = 0; i < NMIGRATIONS; i++) {
		const struct migration *m = &migrations[i];
		if (m->version <= current)
			continue;
		char ver[16];
		snprintf(ver, sizeof ver, "%d", m->version);
		const char *params[2] = { ver, m->name };
		if (pd_db_exec(c, "BEGIN", err) < 0 || pd_db_exec(c, m->sql, err) < 0 ||
		    (m->with_views && pd_db_exec(c, views_sql, err) < 0) ||
		    !(r = pd_db_query(c, "INSERT INTO schema_migrations (version, name)"
				      " VALUES ($1::int, $2)", 2, params, err)) ||
		    (PQclear(r), pd_db_exec(c, "COMMIT", err) < 0)) {
			char m2[sizeof err->msg];
			memcpy(m2, err->msg, sizeof m2);
			m2[300] = 0;
			pd_db_exec(c, "ROLLBACK", NULL);
			pd_err_set(err, PD_ESERVICE, "migration %d (%s): %s", m->version, m->name, m2);
			goto out;
		}
		if (applied)
			(*applied)++;
	}
	ret = 0;
out:
	pd_db_exec(c, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")", NULL);
	return ret;
}

int pd_schema_get_dim(PGconn *c, pd_err *err)
{
	PGresult *r = pd_db_query(c, "SELECT value FROM pd_settings WHERE key = 'embedding_dim'",
				  0, NULL, err);
	if (!r)
		return -1;
	int d = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	return d;
}

/* The column type for dim: vector up to 2,000 (HNSW's limit), else halfvec. */
static void type_for_dim(int dim, char *out, size_t cap)
{
	snprintf(out, cap, "%s(%d)", dim <= 2000 ? "vector" : "halfvec", dim);
}

int pd_schema_set_dim(PGconn *c, int dim, pd_err *err)
{
	if (dim < 1 || dim > 16000)
		return pd_err_set(err, PD_EREC, "embedding dimension %d is out of range 1..16000", dim);
	char type[32];
	type_for_dim(dim, type, sizeof type);
	pd_buf sql = PD_BUF_INIT;
	pd_buf_adds(&sql, drop_views_sql);
	/* identifiers and the type are constants and an integer, never input */
	pd_buf_printf(&sql, "ALTER TABLE videos ALTER COLUMN embedding TYPE %s USING embedding::%s;\n",
		      type, type);
	pd_buf_printf(&sql, "ALTER TABLE clusters ALTER COLUMN centroid TYPE %s USING centroid::%s;\n",
		      type, type);
	pd_buf_printf(&sql, "ALTER TABLE patterns ALTER COLUMN centroid_embedding TYPE %s"
		      " USING centroid_embedding::%s;\n", type, type);
	pd_buf_printf(&sql, "INSERT INTO pd_settings VALUES ('embedding_dim', '%d'),"
		      " ('embedding_type', '%s') ON CONFLICT (key) DO UPDATE SET value = excluded.value;\n",
		      dim, dim <= 2000 ? "vector" : "halfvec");
	pd_buf_adds(&sql, views_sql);
	int rc = pd_db_exec(c, sql.p, err);
	pd_buf_release(&sql);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int pd_schema_ensure_indexes(PGconn *c, int dim, int *built, double *seconds, pd_err *err)
{
	static const struct { const char *name, *table, *column; } idx[] = {
		{ "videos_embedding_hnsw", "videos", "embedding" },
		{ "clusters_centroid_hnsw", "clusters", "centroid" },
		{ "patterns_centroid_hnsw", "patterns", "centroid_embedding" },
	};
	*built = 0;
	*seconds = 0;
	if (dim < 1 || dim > 4000)
		return 0;	/* HNSW indexes up to 2,000 vector or 4,000 halfvec dimensions */
	const char *ops = dim <= 2000 ? "vector_cosine_ops" : "halfvec_cosine_ops";
	double t0 = now_s();
	for (int i = 0; i < 3; i++) {
		const char *params[1] = { idx[i].name };
		PGresult *r = pd_db_query(c, "SELECT to_regclass($1) IS NULL", 1, params, err);
		if (!r)
			return -1;
		int missing = PQgetvalue(r, 0, 0)[0] == 't';
		PQclear(r);
		if (!missing)
			continue;
		char sql[256];
		snprintf(sql, sizeof sql, "CREATE INDEX %s ON %s USING hnsw (%s %s)",
			 idx[i].name, idx[i].table, idx[i].column, ops);
		if (pd_db_exec(c, sql, err) < 0)
			return -1;
		(*built)++;
	}
	*seconds = now_s() - t0;
	return 0;
}

int pd_schema_refresh_views(PGconn *c, pd_err *err)
{
	return pd_db_exec(c, "REFRESH MATERIALIZED VIEW CONCURRENTLY pattern_effectiveness_by_cluster;"
			  "REFRESH MATERIALIZED VIEW CONCURRENTLY semantic_cluster_stats", err);
}
