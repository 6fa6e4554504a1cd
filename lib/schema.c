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
	"CREATE VIEW active_video_clusters AS\n"
	"  SELECT m.* FROM video_clusters m JOIN discovery_runs r USING (run_id) WHERE r.status = 'active';\n"
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
	"  WITH a AS (\n"
	"    SELECT m.macro, m.meso, m.micro, v.perf, v.channel_id\n"
	"    FROM active_video_clusters m JOIN videos v ON v.id = m.video_id),\n"
	"  m AS (\n"
	"    SELECT 'macro'::text AS level, macro AS cid, perf, channel_id FROM a WHERE macro IS NOT NULL\n"
	"    UNION ALL SELECT 'meso', meso, perf, channel_id FROM a WHERE meso IS NOT NULL\n"
	"    UNION ALL SELECT 'micro', micro, perf, channel_id FROM a WHERE micro IS NOT NULL)\n"
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
	"DROP VIEW IF EXISTS active_clusters;\n"
	"DROP VIEW IF EXISTS active_video_clusters;\n";

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

/*
 * Migration 2: pattern effectiveness tracking (pd-track, lib/track.h) and the
 * guide's refresh_pattern_views().
 *
 * predictions: one row per prediction pd-match made, keyed (run_id,
 * pattern_id, video_id) so recording the same stream again adds nothing; the
 * first prediction of a key is the one kept (it was made before the outcome).
 * Rows outlive the discovery run they came from (no foreign key): pruning old
 * runs (pd-store --keep-runs) must not erase the tracking history; the
 * pattern's effect and direction are copied in at recording time for the
 * same reason.
 *
 * pattern_effectiveness (materialized, one row per run and pattern): the
 * predictions joined to the videos' latest stored perf.  p_beats and rank_p
 * are those of a Mann-Whitney test of "the videos with the feature beat those
 * without, in the predicted direction" (average ranks for ties, the
 * tie-corrected variance, a continuity correction, the normal
 * approximation); pd_normal_sf is the upper normal tail (PostgreSQL 15 has no
 * erf: Numerical Recipes' erfc, fractional error below 1.2e-7).  The flag rule
 * is one function, pd_track_flag (the reason, or NULL), used by the view
 * (with its defaults) and by pd-track report (with its options); pd-track(1) states it.  The view
 * reads only predictions and videos' id and perf, never the embedding
 * columns, so pd_schema_set_dim need not rebuild it.
 *
 * refresh_pattern_views(): every materialized view of the schema, CONCURRENTLY
 * when it is populated and has a plain unique index, else a plain refresh.
 */
static const char migration2[] =
	"CREATE TABLE predictions (\n"
	"  run_id bigint NOT NULL,\n"
	"  pattern_id text NOT NULL,\n"
	"  video_id text NOT NULL,\n"
	"  predicted_at timestamptz NOT NULL DEFAULT now(),\n"
	"  expected_perf double precision,\n"
	"  expected_lo double precision,\n"
	"  expected_hi double precision,\n"
	"  has_feature boolean NOT NULL,\n"
	"  similarity double precision,\n"
	"  cluster_id text,\n"
	"  effect double precision,\n"
	"  direction smallint NOT NULL DEFAULT 1 CHECK (direction IN (-1, 1)),\n"
	"  record jsonb NOT NULL,\n"
	"  recorded_at timestamptz NOT NULL DEFAULT now(),\n"
	"  PRIMARY KEY (run_id, pattern_id, video_id));\n"
	"CREATE INDEX predictions_video ON predictions (video_id);\n"
	"CREATE INDEX predictions_pattern ON predictions (pattern_id, run_id);\n"
	"CREATE FUNCTION pd_normal_sf(z double precision) RETURNS double precision\n"
	"  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$\n"
	"  SELECT CASE WHEN z >= 0 THEN e / 2 ELSE 1 - e / 2 END FROM (\n"
	"    SELECT t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418\n"
	"      + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587\n"
	"      + t * (-0.82215223 + t * 0.17087277))))))))) AS e\n"
	"    FROM (SELECT abs(z) / sqrt(2) AS x, 1 / (1 + 0.5 * abs(z) / sqrt(2)) AS t) a) b\n"
	"$$;\n"
	"CREATE FUNCTION pd_track_flag(n_with bigint, n_without bigint, p_beats double precision,\n"
	"    median_ratio double precision, direction integer, min_n integer DEFAULT 20,\n"
	"    min_ratio double precision DEFAULT 0.5) RETURNS text\n"
	"  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$\n"
	"  SELECT CASE\n"
	"    WHEN n_with >= min_n AND n_without >= min_n AND p_beats <= 0.5 THEN 'no_advantage'\n"
	"    WHEN direction > 0 AND n_with >= min_n AND median_ratio < min_ratio THEN 'below_expected'\n"
	"  END\n"
	"$$;\n"
	"CREATE MATERIALIZED VIEW pattern_effectiveness AS\n"
	"  WITH obs AS (\n"
	"    SELECT p.run_id, p.pattern_id, p.predicted_at, p.has_feature, p.expected_perf,\n"
	"      p.expected_lo, p.expected_hi, p.direction, p.effect,\n"
	"      CASE WHEN v.perf <> 'NaN'::float8 THEN v.perf END AS actual\n"
	"    FROM predictions p LEFT JOIN videos v ON v.id = p.video_id),\n"
	"  ranked AS (\n"
	"    SELECT run_id, pattern_id, has_feature,\n"
	"      rank() OVER (PARTITION BY run_id, pattern_id ORDER BY direction * actual)\n"
	"        + (count(*) OVER (PARTITION BY run_id, pattern_id, direction * actual) - 1) / 2.0 AS r,\n"
	"      count(*) OVER (PARTITION BY run_id, pattern_id, direction * actual) AS ties\n"
	"    FROM obs WHERE actual IS NOT NULL),\n"
	"  ranks AS (\n"
	"    SELECT run_id, pattern_id,\n"
	"      sum(r) FILTER (WHERE has_feature)::float8 AS r_with,\n"
	"      sum(ties * ties - 1)::float8 AS tie_sum\n"
	"    FROM ranked GROUP BY run_id, pattern_id),\n"
	"  s AS (\n"
	"    SELECT run_id, pattern_id,\n"
	"      count(*) AS predictions,\n"
	"      count(actual) AS n,\n"
	"      count(*) - count(actual) AS pending,\n"
	"      count(actual) FILTER (WHERE has_feature) AS n_with,\n"
	"      count(actual) FILTER (WHERE NOT has_feature) AS n_without,\n"
	"      count(actual) FILTER (WHERE has_feature AND expected_lo IS NOT NULL\n"
	"        AND expected_hi IS NOT NULL) AS n_interval,\n"
	"      avg(CASE WHEN actual BETWEEN expected_lo AND expected_hi THEN 1.0 ELSE 0.0 END)\n"
	"        FILTER (WHERE has_feature AND actual IS NOT NULL AND expected_lo IS NOT NULL\n"
	"          AND expected_hi IS NOT NULL)::float8 AS in_interval,\n"
	"      percentile_cont(0.5) WITHIN GROUP (ORDER BY actual / expected_perf)\n"
	"        FILTER (WHERE has_feature AND expected_perf > 0) AS median_ratio,\n"
	"      percentile_cont(0.5) WITHIN GROUP (ORDER BY actual) FILTER (WHERE has_feature)\n"
	"        AS median_with,\n"
	"      percentile_cont(0.5) WITHIN GROUP (ORDER BY actual) FILTER (WHERE NOT has_feature)\n"
	"        AS median_without,\n"
	"      percentile_cont(0.5) WITHIN GROUP (ORDER BY expected_perf)\n"
	"        FILTER (WHERE has_feature) AS expected_perf,\n"
	"      percentile_cont(0.5) WITHIN GROUP (ORDER BY effect) AS effect,\n"
	"      min(direction)::integer AS direction,\n"
	"      min(predicted_at) AS first_predicted_at,\n"
	"      max(predicted_at) AS last_predicted_at\n"
	"    FROM obs GROUP BY run_id, pattern_id),\n"
	"  u AS (\n"
	"    SELECT s.*, ranks.tie_sum,\n"
	"      CASE WHEN n_with > 0 AND n_without > 0\n"
	"        THEN r_with - n_with * (n_with + 1) / 2.0 END AS u_with\n"
	"    FROM s LEFT JOIN ranks USING (run_id, pattern_id)),\n"
	"  t AS (\n"
	"    SELECT u.*,\n"
	"      u_with / (n_with * n_without) AS p_beats,\n"
	"      CASE WHEN u_with IS NOT NULL THEN n_with * n_without / 12.0\n"
	"        * ((n + 1) - tie_sum / (n * (n - 1.0))) END AS u_var\n"
	"    FROM u)\n"
	"  SELECT f.*, flag_reason IS NOT NULL AS flagged FROM (\n"
	"    SELECT run_id, pattern_id, predictions, n, pending, n_with, n_without, n_interval,\n"
	"      in_interval, median_ratio, median_with, median_without,\n"
	"      CASE WHEN median_without > 0 THEN median_with / median_without END AS with_without_ratio,\n"
	"      expected_perf, effect, direction, p_beats,\n"
	"      CASE WHEN u_var > 0\n"
	"        THEN pd_normal_sf((u_with - n_with * n_without / 2.0 - 0.5) / sqrt(u_var)) END AS rank_p,\n"
	"      pd_track_flag(n_with, n_without, p_beats, median_ratio, direction) AS flag_reason,\n"
	"      first_predicted_at, last_predicted_at\n"
	"    FROM t) f;\n"
	"CREATE UNIQUE INDEX pattern_effectiveness_id ON pattern_effectiveness (run_id, pattern_id);\n"
	"CREATE VIEW run_effectiveness AS\n"
	"  SELECT run_id, count(*) AS patterns, count(*) FILTER (WHERE flagged) AS flagged,\n"
	"    sum(predictions) AS predictions, sum(n) AS n, sum(pending) AS pending,\n"
	"    sum(in_interval * n_interval) / nullif(sum(n_interval), 0) AS in_interval,\n"
	"    min(first_predicted_at) AS first_predicted_at, max(last_predicted_at) AS last_predicted_at\n"
	"  FROM pattern_effectiveness GROUP BY run_id;\n"
	"CREATE FUNCTION refresh_pattern_views() RETURNS void LANGUAGE plpgsql AS $$\n"
	"DECLARE\n"
	"  v record;\n"
	"BEGIN\n"
	"  FOR v IN\n"
	"    SELECT m.schemaname, m.matviewname, m.ispopulated AND EXISTS (\n"
	"        SELECT 1 FROM pg_index i\n"
	"        WHERE i.indrelid = format('%I.%I', m.schemaname, m.matviewname)::regclass\n"
	"          AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL) AS concurrently\n"
	"    FROM pg_matviews m WHERE m.schemaname = current_schema() ORDER BY m.matviewname\n"
	"  LOOP\n"
	"    IF v.concurrently THEN\n"
	"      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.%I', v.schemaname, v.matviewname);\n"
	"    ELSE\n"
	"      EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I', v.schemaname, v.matviewname);\n"
	"    END IF;\n"
	"  END LOOP;\n"
	"END\n"
	"$$;\n";

/*
 * Migration 3: cluster membership per run.  Until now a video's cluster ids
 * were columns of its `videos` row, so storing a re-clustering of the same
 * videos rewrote every row (and its HNSW index entries).  Membership now
 * lives in video_clusters, one row per (run, video), loaded by COPY; the
 * videos rows change only when a video does.  The membership read
 * everywhere is the active run's (view active_video_clusters).  Existing
 * memberships move to the active run (else the latest run): they described
 * the hierarchy that was current.  Memberships go with their run when
 * pd-store --keep-runs prunes it (ON DELETE CASCADE).  videos.content_hash
 * is a hash of the record a row was stored from (less its membership), so
 * pd-store sends again only the videos whose record changed; rows of older
 * schemas have none, and get theirs the next time they are stored.
 */
static const char migration3[] =
	"DROP MATERIALIZED VIEW IF EXISTS pattern_effectiveness_by_cluster;\n"
	"DROP MATERIALIZED VIEW IF EXISTS semantic_cluster_stats;\n"
	"DROP VIEW IF EXISTS active_patterns;\n"
	"DROP VIEW IF EXISTS active_clusters;\n"
	"CREATE TABLE video_clusters (\n"
	"  run_id bigint NOT NULL REFERENCES discovery_runs ON DELETE CASCADE,\n"
	"  video_id text NOT NULL,\n"
	"  macro text, meso text, micro text,\n"
	"  sim double precision,\n"
	"  PRIMARY KEY (run_id, video_id));\n"
	"INSERT INTO video_clusters (run_id, video_id, macro, meso, micro, sim)\n"
	"  SELECT r.run_id, v.id, v.cluster_macro, v.cluster_meso, v.cluster_micro, v.cluster_sim\n"
	"  FROM videos v, (SELECT run_id FROM discovery_runs\n"
	"    ORDER BY status = 'active' DESC, run_id DESC LIMIT 1) r\n"
	"  WHERE num_nonnulls(v.cluster_macro, v.cluster_meso, v.cluster_micro, v.cluster_sim) > 0;\n"
	"ALTER TABLE videos DROP COLUMN cluster_macro, DROP COLUMN cluster_meso,\n"
	"  DROP COLUMN cluster_micro, DROP COLUMN cluster_sim,\n"
	"  ADD COLUMN content_hash bigint;\n";

/*
 * Migration 4: the memberships' run without a foreign key.  Each of a
 * run's membership rows (a million for a million videos) paid a check of
 * its run_id against discovery_runs, row by row (600 ms per 100,000 rows,
 * more than the rows' own insertion); only pd-store writes video_clusters,
 * under its lock, with the id of a run it holds, so the check found
 * nothing.  What the key did on a deleted run (ON DELETE CASCADE) a
 * statement trigger does now, once per DELETE: memberships still go with
 * their run (pd-store --keep-runs, or a DELETE by hand).
 */
static const char migration4[] =
	"ALTER TABLE video_clusters DROP CONSTRAINT IF EXISTS video_clusters_run_id_fkey;\n"
	"CREATE FUNCTION pd_drop_run_memberships() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  DELETE FROM video_clusters m USING gone g WHERE m.run_id = g.run_id;\n"
	"  RETURN NULL;\n"
	"END\n"
	"$$;\n"
	"CREATE TRIGGER discovery_runs_memberships AFTER DELETE ON discovery_runs\n"
	"  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT\n"
	"  EXECUTE FUNCTION pd_drop_run_memberships();\n";

static const struct migration {
	int version;
	const char *name;
	const char *sql;
	int with_views;
} migrations[] = {
	/* the views are created by the last migration that changes what they
	   read (3), so a new database gets them once, in their current text */
	{ 1, "initial schema", migration1, 0 },
	{ 2, "pattern effectiveness tracking", migration2, 0 },
	{ 3, "cluster membership per run", migration3, 1 },
	{ 4, "memberships without a per-row run check", migration4, 0 },
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

int pd_schema_ensure_indexes(PGconn *c, int dim, int skip_clusters, int *built, double *seconds,
			     pd_err *err)
{
	static const struct { const char *name, *table, *column; } idx[] = {
		{ "clusters_centroid_hnsw", "clusters", "centroid" },
		{ "patterns_centroid_hnsw", "patterns", "centroid_embedding" },
	};
	*built = 0;
	*seconds = 0;
	if (dim < 1 || dim > 4000)
		return 0;	/* HNSW indexes up to 2,000 vector or 4,000 halfvec dimensions */
	const char *ops = dim <= 2000 ? "vector_cosine_ops" : "halfvec_cosine_ops";
	double t0 = now_s();
	for (int i = skip_clusters ? 1 : 0; i < 2; i++) {
		const char *params[1] = { idx[i].name };
		/* missing, or left invalid by a concurrent drop that failed half way */
		PGresult *r = pd_db_query(c, "SELECT to_regclass($1) IS NULL, coalesce((SELECT"
					  " indisvalid AND indisready FROM pg_index"
					  " WHERE indexrelid = to_regclass($1)), false)", 1, params, err);
		if (!r)
			return -1;
		int missing = PQgetvalue(r, 0, 0)[0] == 't', valid = PQgetvalue(r, 0, 1)[0] == 't';
		PQclear(r);
		if (!missing && valid)
			continue;
		char sql[256];
		if (!missing) {
			snprintf(sql, sizeof sql, "DROP INDEX IF EXISTS %s", idx[i].name);
			if (pd_db_exec(c, sql, err) < 0)
				return -1;
		}
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
	/* migration 2's function: every materialized view, concurrently */
	return pd_db_exec(c, "SELECT refresh_pattern_views()", err);
}
