
\restrict qyqRK5fQKiFjZIaUPd4fvPghFLfKwshjObQCozsM7dCizV0wfS1ZdzktywHjLZg

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;

COMMENT ON EXTENSION vector IS 'vector data type and ivfflat and hnsw access methods';

CREATE FUNCTION public.pd_normal_sf(z double precision) RETURNS double precision
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
  SELECT CASE WHEN z >= 0 THEN e / 2 ELSE 1 - e / 2 END FROM (
    SELECT t * exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
      + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
      + t * (-0.82215223 + t * 0.17087277))))))))) AS e
    FROM (SELECT abs(z) / sqrt(2) AS x, 1 / (1 + 0.5 * abs(z) / sqrt(2)) AS t) a) b
$$;

CREATE FUNCTION public.pd_track_flag(n_with bigint, n_without bigint, p_beats double precision, median_ratio double precision, direction integer, min_n integer DEFAULT 20, min_ratio double precision DEFAULT 0.5) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
  SELECT CASE
    WHEN n_with >= min_n AND n_without >= min_n AND p_beats <= 0.5 THEN 'no_advantage'
    WHEN direction > 0 AND n_with >= min_n AND median_ratio < min_ratio THEN 'below_expected'
  END
$$;

CREATE FUNCTION public.refresh_pattern_views() RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
  v record;
BEGIN
  FOR v IN
    SELECT m.schemaname, m.matviewname, m.ispopulated AND EXISTS (
        SELECT 1 FROM pg_index i
        WHERE i.indrelid = format('%I.%I', m.schemaname, m.matviewname)::regclass
          AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL) AS concurrently
    FROM pg_matviews m WHERE m.schemaname = current_schema() ORDER BY m.matviewname
  LOOP
    IF v.concurrently THEN
      EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I.%I', v.schemaname, v.matviewname);
    ELSE
      EXECUTE format('REFRESH MATERIALIZED VIEW %I.%I', v.schemaname, v.matviewname);
    END IF;
  END LOOP;
END
$$;

SET default_tablespace = '';

SET default_table_access_method = heap;

CREATE TABLE public.clusters (
    run_id bigint NOT NULL,
    id text NOT NULL,
    level text NOT NULL,
    parent text,
    size integer,
    radius double precision,
    label jsonb,
    perf_stats jsonb,
    channels jsonb,
    centroid public.vector(4),
    record jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.discovery_runs (
    run_id bigint NOT NULL,
    status text NOT NULL,
    content_hash text NOT NULL,
    embedding_dim integer,
    videos bigint DEFAULT 0 NOT NULL,
    videos_changed bigint DEFAULT 0 NOT NULL,
    clusters integer DEFAULT 0 NOT NULL,
    patterns integer DEFAULT 0 NOT NULL,
    metrics integer DEFAULT 0 NOT NULL,
    rejected bigint DEFAULT 0 NOT NULL,
    program text,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
    CONSTRAINT discovery_runs_status_check CHECK ((status = ANY (ARRAY['active'::text, 'superseded'::text, 'loaded'::text])))
);

CREATE VIEW public.active_clusters AS
 SELECT c.run_id,
    c.id,
    c.level,
    c.parent,
    c.size,
    c.radius,
    c.label,
    c.perf_stats,
    c.channels,
    c.centroid,
    c.record,
    c.created_at
   FROM (public.clusters c
     JOIN public.discovery_runs r USING (run_id))
  WHERE (r.status = 'active'::text);

CREATE TABLE public.patterns (
    run_id bigint NOT NULL,
    id text NOT NULL,
    pattern_type text NOT NULL,
    pattern_data jsonb NOT NULL,
    performance_stats jsonb NOT NULL,
    centroid_embedding public.vector(4),
    semantic_radius double precision,
    cluster_id text,
    cluster_level text,
    cluster_hierarchy jsonb,
    feature jsonb,
    status text,
    validation jsonb,
    record jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE VIEW public.active_patterns AS
 SELECT p.run_id,
    p.id,
    p.pattern_type,
    p.pattern_data,
    p.performance_stats,
    p.centroid_embedding,
    p.semantic_radius,
    p.cluster_id,
    p.cluster_level,
    p.cluster_hierarchy,
    p.feature,
    p.status,
    p.validation,
    p.record,
    p.created_at,
    p.updated_at
   FROM (public.patterns p
     JOIN public.discovery_runs r USING (run_id))
  WHERE (r.status = 'active'::text);

CREATE SEQUENCE public.discovery_runs_run_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.discovery_runs_run_id_seq OWNED BY public.discovery_runs.run_id;

CREATE TABLE public.pattern_discovery_metrics (
    run_id bigint NOT NULL,
    seq integer NOT NULL,
    stage text,
    seconds double precision,
    records_in bigint,
    records_out bigint,
    rejected bigint,
    patterns_found integer,
    clusters_analyzed integer,
    data jsonb NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.predictions (
    run_id bigint NOT NULL,
    pattern_id text NOT NULL,
    video_id text NOT NULL,
    predicted_at timestamp with time zone DEFAULT now() NOT NULL,
    expected_perf double precision,
    expected_lo double precision,
    expected_hi double precision,
    has_feature boolean NOT NULL,
    similarity double precision,
    cluster_id text,
    effect double precision,
    direction smallint DEFAULT 1 NOT NULL,
    record jsonb NOT NULL,
    recorded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT predictions_direction_check CHECK ((direction = ANY (ARRAY['-1'::integer, 1])))
);

CREATE TABLE public.videos (
    id text NOT NULL,
    channel_id text,
    channel_title text,
    title text,
    description text,
    tags text[],
    category text,
    format text,
    published_at timestamp with time zone,
    observed_at timestamp with time zone,
    duration_s double precision,
    views bigint,
    likes bigint,
    comments bigint,
    is_short boolean,
    age_days double precision,
    perf double precision,
    perf_basis integer,
    perf_reason text,
    extra jsonb,
    cluster_macro text,
    cluster_meso text,
    cluster_micro text,
    cluster_sim double precision,
    other_fields jsonb,
    embedding public.vector(4),
    run_id bigint,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE MATERIALIZED VIEW public.pattern_effectiveness AS
 WITH obs AS (
         SELECT p.run_id,
            p.pattern_id,
            p.predicted_at,
            p.has_feature,
            p.expected_perf,
            p.expected_lo,
            p.expected_hi,
            p.direction,
            p.effect,
                CASE
                    WHEN (v.perf <> 'NaN'::double precision) THEN v.perf
                    ELSE NULL::double precision
                END AS actual
           FROM (public.predictions p
             LEFT JOIN public.videos v ON ((v.id = p.video_id)))
        ), ranked AS (
         SELECT obs.run_id,
            obs.pattern_id,
            obs.has_feature,
            ((rank() OVER (PARTITION BY obs.run_id, obs.pattern_id ORDER BY ((obs.direction)::double precision * obs.actual)))::numeric + (((count(*) OVER (PARTITION BY obs.run_id, obs.pattern_id, ((obs.direction)::double precision * obs.actual)) - 1))::numeric / 2.0)) AS r,
            count(*) OVER (PARTITION BY obs.run_id, obs.pattern_id, ((obs.direction)::double precision * obs.actual)) AS ties
           FROM obs
          WHERE (obs.actual IS NOT NULL)
        ), ranks AS (
         SELECT ranked.run_id,
            ranked.pattern_id,
            (sum(ranked.r) FILTER (WHERE ranked.has_feature))::double precision AS r_with,
            (sum(((ranked.ties * ranked.ties) - 1)))::double precision AS tie_sum
           FROM ranked
          GROUP BY ranked.run_id, ranked.pattern_id
        ), s AS (
         SELECT obs.run_id,
            obs.pattern_id,
            count(*) AS predictions,
            count(obs.actual) AS n,
            (count(*) - count(obs.actual)) AS pending,
            count(obs.actual) FILTER (WHERE obs.has_feature) AS n_with,
            count(obs.actual) FILTER (WHERE (NOT obs.has_feature)) AS n_without,
            count(obs.actual) FILTER (WHERE (obs.has_feature AND (obs.expected_lo IS NOT NULL) AND (obs.expected_hi IS NOT NULL))) AS n_interval,
            (avg(
                CASE
                    WHEN ((obs.actual >= obs.expected_lo) AND (obs.actual <= obs.expected_hi)) THEN 1.0
                    ELSE 0.0
                END) FILTER (WHERE (obs.has_feature AND (obs.actual IS NOT NULL) AND (obs.expected_lo IS NOT NULL) AND (obs.expected_hi IS NOT NULL))))::double precision AS in_interval,
            percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY (obs.actual / obs.expected_perf)) FILTER (WHERE (obs.has_feature AND (obs.expected_perf > (0)::double precision))) AS median_ratio,
            percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY obs.actual) FILTER (WHERE obs.has_feature) AS median_with,
            percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY obs.actual) FILTER (WHERE (NOT obs.has_feature)) AS median_without,
            percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY obs.expected_perf) FILTER (WHERE obs.has_feature) AS expected_perf,
            percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY obs.effect) AS effect,
            (min(obs.direction))::integer AS direction,
            min(obs.predicted_at) AS first_predicted_at,
            max(obs.predicted_at) AS last_predicted_at
           FROM obs
          GROUP BY obs.run_id, obs.pattern_id
        ), u AS (
         SELECT s.run_id,
            s.pattern_id,
            s.predictions,
            s.n,
            s.pending,
            s.n_with,
            s.n_without,
            s.n_interval,
            s.in_interval,
            s.median_ratio,
            s.median_with,
            s.median_without,
            s.expected_perf,
            s.effect,
            s.direction,
            s.first_predicted_at,
            s.last_predicted_at,
            ranks.tie_sum,
                CASE
                    WHEN ((s.n_with > 0) AND (s.n_without > 0)) THEN (ranks.r_with - ((((s.n_with * (s.n_with + 1)))::numeric / 2.0))::double precision)
                    ELSE NULL::double precision
                END AS u_with
           FROM (s
             LEFT JOIN ranks USING (run_id, pattern_id))
        ), t AS (
         SELECT u.run_id,
            u.pattern_id,
            u.predictions,
            u.n,
            u.pending,
            u.n_with,
            u.n_without,
            u.n_interval,
            u.in_interval,
            u.median_ratio,
            u.median_with,
            u.median_without,
            u.expected_perf,
            u.effect,
            u.direction,
            u.first_predicted_at,
            u.last_predicted_at,
            u.tie_sum,
            u.u_with,
            (u.u_with / ((u.n_with * u.n_without))::double precision) AS p_beats,
                CASE
                    WHEN (u.u_with IS NOT NULL) THEN (((((u.n_with * u.n_without))::numeric / 12.0))::double precision * (((u.n + 1))::double precision - (u.tie_sum / (((u.n)::numeric * ((u.n)::numeric - 1.0)))::double precision)))
                    ELSE NULL::double precision
                END AS u_var
           FROM u
        )
 SELECT f.run_id,
    f.pattern_id,
    f.predictions,
    f.n,
    f.pending,
    f.n_with,
    f.n_without,
    f.n_interval,
    f.in_interval,
    f.median_ratio,
    f.median_with,
    f.median_without,
    f.with_without_ratio,
    f.expected_perf,
    f.effect,
    f.direction,
    f.p_beats,
    f.rank_p,
    f.flag_reason,
    f.first_predicted_at,
    f.last_predicted_at,
    (f.flag_reason IS NOT NULL) AS flagged
   FROM ( SELECT t.run_id,
            t.pattern_id,
            t.predictions,
            t.n,
            t.pending,
            t.n_with,
            t.n_without,
            t.n_interval,
            t.in_interval,
            t.median_ratio,
            t.median_with,
            t.median_without,
                CASE
                    WHEN (t.median_without > (0)::double precision) THEN (t.median_with / t.median_without)
                    ELSE NULL::double precision
                END AS with_without_ratio,
            t.expected_perf,
            t.effect,
            t.direction,
            t.p_beats,
                CASE
                    WHEN (t.u_var > (0)::double precision) THEN public.pd_normal_sf((((t.u_with - ((((t.n_with * t.n_without))::numeric / 2.0))::double precision) - (0.5)::double precision) / sqrt(t.u_var)))
                    ELSE NULL::double precision
                END AS rank_p,
            public.pd_track_flag(t.n_with, t.n_without, t.p_beats, t.median_ratio, t.direction) AS flag_reason,
            t.first_predicted_at,
            t.last_predicted_at
           FROM t) f
  WITH NO DATA;

CREATE MATERIALIZED VIEW public.pattern_effectiveness_by_cluster AS
 SELECT p.id AS pattern_id,
    p.run_id,
    p.cluster_id,
    p.cluster_level,
    p.pattern_type,
    (p.pattern_data ->> 'name'::text) AS pattern_name,
    (((p.performance_stats -> 'within_radius'::text) ->> 'avg'::text))::double precision AS avg_performance,
    (((p.performance_stats -> 'within_radius'::text) ->> 'median'::text))::double precision AS median_performance,
    ((((p.performance_stats -> 'within_radius'::text) ->> 'count'::text))::double precision)::bigint AS video_count,
    ((p.performance_stats ->> 'lift_ratio'::text))::double precision AS lift_ratio,
    ((p.pattern_data ->> 'confidence'::text))::double precision AS confidence,
    p.semantic_radius,
    p.status,
    p.updated_at
   FROM public.active_patterns p
  WITH NO DATA;

CREATE TABLE public.pd_settings (
    key text NOT NULL,
    value text NOT NULL
);

CREATE VIEW public.run_effectiveness AS
 SELECT pattern_effectiveness.run_id,
    count(*) AS patterns,
    count(*) FILTER (WHERE pattern_effectiveness.flagged) AS flagged,
    sum(pattern_effectiveness.predictions) AS predictions,
    sum(pattern_effectiveness.n) AS n,
    sum(pattern_effectiveness.pending) AS pending,
    (sum((pattern_effectiveness.in_interval * (pattern_effectiveness.n_interval)::double precision)) / (NULLIF(sum(pattern_effectiveness.n_interval), (0)::numeric))::double precision) AS in_interval,
    min(pattern_effectiveness.first_predicted_at) AS first_predicted_at,
    max(pattern_effectiveness.last_predicted_at) AS last_predicted_at
   FROM public.pattern_effectiveness
  GROUP BY pattern_effectiveness.run_id;

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE MATERIALIZED VIEW public.semantic_cluster_stats AS
 WITH m AS (
         SELECT 'macro'::text AS level,
            videos.cluster_macro AS cid,
            videos.perf,
            videos.channel_id
           FROM public.videos
          WHERE (videos.cluster_macro IS NOT NULL)
        UNION ALL
         SELECT 'meso'::text,
            videos.cluster_meso,
            videos.perf,
            videos.channel_id
           FROM public.videos
          WHERE (videos.cluster_meso IS NOT NULL)
        UNION ALL
         SELECT 'micro'::text,
            videos.cluster_micro,
            videos.perf,
            videos.channel_id
           FROM public.videos
          WHERE (videos.cluster_micro IS NOT NULL)
        )
 SELECT c.id AS cluster_id,
    c.run_id,
    c.level,
    c.parent,
    c.size,
    c.radius,
    count(m.cid) AS video_count,
    avg(m.perf) AS avg_perf,
    percentile_cont((0.5)::double precision) WITHIN GROUP (ORDER BY m.perf) AS median_perf,
    count(DISTINCT m.channel_id) AS channel_count,
    ( SELECT count(*) AS count
           FROM public.active_patterns p
          WHERE (p.cluster_id = c.id)) AS pattern_count
   FROM (public.active_clusters c
     LEFT JOIN m ON (((m.cid = c.id) AND (m.level = c.level))))
  GROUP BY c.run_id, c.id, c.level, c.parent, c.size, c.radius
  WITH NO DATA;

CREATE TABLE public.video_patterns (
    run_id bigint NOT NULL,
    pattern_id text NOT NULL,
    video_id text NOT NULL,
    role text DEFAULT 'example'::text NOT NULL
);

ALTER TABLE ONLY public.discovery_runs ALTER COLUMN run_id SET DEFAULT nextval('public.discovery_runs_run_id_seq'::regclass);

COPY public.clusters (run_id, id, level, parent, size, radius, label, perf_stats, channels, centroid, record, created_at) FROM stdin;
1	m0	macro	\N	6	0.4	["how", "fix"]	{"median": 1.2}	7	[0.6600714,0.34061113,-0.39326298,0.17516121]	{"id": "m0", "perf": {"median": 1.2}, "size": 6, "type": "cluster", "label": ["how", "fix"], "level": "macro", "parent": null, "radius": 0.4, "channels": 7}	2026-12-06 08:22:41.988053+00
1	m0.s0	meso	m0	3	0.3	\N	\N	\N	[0.764958,0.69239485,0.010567641,0.17800452]	{"id": "m0.s0", "size": 3, "type": "cluster", "level": "meso", "parent": "m0", "radius": 0.3}	2026-12-06 08:22:41.988053+00
1	m0.s0.u0	micro	m0.s0	1	0.2	\N	\N	\N	[-0.9309483,-0.51452005,0.5948085,-0.171372]	{"id": "m0.s0.u0", "size": 1, "type": "cluster", "level": "micro", "parent": "m0.s0", "radius": 0.2}	2026-12-06 08:22:41.988053+00
1	m0.s0.u4	micro	m0.s0	1	0.2	\N	\N	\N	[-0.6539852,0.097597525,0.40608153,0.34897166]	{"id": "m0.s0.u4", "size": 1, "type": "cluster", "level": "micro", "parent": "m0.s0", "radius": 0.2}	2026-12-06 08:22:41.988053+00
1	m0.s2	meso	m0	3	0.3	\N	\N	\N	[-0.25059396,-0.12207674,0.016852977,0.55688524]	{"id": "m0.s2", "size": 3, "type": "cluster", "level": "meso", "parent": "m0", "radius": 0.3}	2026-12-06 08:22:41.988053+00
1	m0.s2.u2	micro	m0.s2	1	0.2	\N	\N	\N	[0.041876834,-0.21348982,-0.020612959,-0.9408501]	{"id": "m0.s2.u2", "size": 1, "type": "cluster", "level": "micro", "parent": "m0.s2", "radius": 0.2}	2026-12-06 08:22:41.988053+00
1	m0.s2.u6	micro	m0.s2	1	0.2	\N	\N	\N	[-0.91302544,0.40676418,0.9663754,0.18636747]	{"id": "m0.s2.u6", "size": 1, "type": "cluster", "level": "micro", "parent": "m0.s2", "radius": 0.2}	2026-12-06 08:22:41.988053+00
1	m1	macro	\N	6	0.4	["how", "fix"]	{"median": 1.2}	7	[-0.21280062,-0.6593016,0.0044771167,0.9641533]	{"id": "m1", "perf": {"median": 1.2}, "size": 6, "type": "cluster", "label": ["how", "fix"], "level": "macro", "parent": null, "radius": 0.4, "channels": 7}	2026-12-06 08:22:41.988053+00
1	m1.s1	meso	m1	3	0.3	\N	\N	\N	[0.54104626,0.0792349,0.72057956,-0.53564775]	{"id": "m1.s1", "size": 3, "type": "cluster", "level": "meso", "parent": "m1", "radius": 0.3}	2026-12-06 08:22:41.988053+00
1	m1.s1.u1	micro	m1.s1	1	0.2	\N	\N	\N	[0.027543327,0.90493476,0.15558961,-0.081736535]	{"id": "m1.s1.u1", "size": 1, "type": "cluster", "level": "micro", "parent": "m1.s1", "radius": 0.2}	2026-12-06 08:22:41.988053+00
1	m1.s1.u5	micro	m1.s1	1	0.2	\N	\N	\N	[-0.46144104,0.09599262,0.91423255,-0.9885817]	{"id": "m1.s1.u5", "size": 1, "type": "cluster", "level": "micro", "parent": "m1.s1", "radius": 0.2}	2026-12-06 08:22:41.988053+00
1	m1.s3	meso	m1	3	0.3	\N	\N	\N	[0.56731045,0.64097184,0.77235913,0.48100683]	{"id": "m1.s3", "size": 3, "type": "cluster", "level": "meso", "parent": "m1", "radius": 0.3}	2026-12-06 08:22:41.988053+00
1	m1.s3.u3	micro	m1.s3	1	0.2	\N	\N	\N	[0.6182798,0.037356567,0.12271573,-0.14781864]	{"id": "m1.s3.u3", "size": 1, "type": "cluster", "level": "micro", "parent": "m1.s3", "radius": 0.2}	2026-12-06 08:22:41.988053+00
1	m1.s3.u7	micro	m1.s3	1	0.2	\N	\N	\N	[-0.8877534,0.74002033,0.13999867,-0.6003212]	{"id": "m1.s3.u7", "size": 1, "type": "cluster", "level": "micro", "parent": "m1.s3", "radius": 0.2}	2026-12-06 08:22:41.988053+00
2	m0	macro	\N	6	0.4	["how", "fix"]	{"median": 1.2}	7	[-0.07718661,0.060711432,-0.019972157,0.84966415]	{"id": "m0", "perf": {"median": 1.2}, "size": 6, "type": "cluster", "label": ["how", "fix"], "level": "macro", "parent": null, "radius": 0.4, "channels": 7}	2026-12-06 08:22:42.371789+00
2	m0.s0	meso	m0	3	0.3	\N	\N	\N	[0.0016821253,0.663049,-0.2921516,0.76570183]	{"id": "m0.s0", "size": 3, "type": "cluster", "level": "meso", "parent": "m0", "radius": 0.3}	2026-12-06 08:22:42.371789+00
2	m0.s0.u0	micro	m0.s0	1	0.2	\N	\N	\N	[0.79940116,-0.07797567,0.13541014,0.84066087]	{"id": "m0.s0.u0", "size": 1, "type": "cluster", "level": "micro", "parent": "m0.s0", "radius": 0.2}	2026-12-06 08:22:42.371789+00
2	m0.s0.u4	micro	m0.s0	1	0.2	\N	\N	\N	[0.44754592,-0.02678289,-0.556378,-0.3506655]	{"id": "m0.s0.u4", "size": 1, "type": "cluster", "level": "micro", "parent": "m0.s0", "radius": 0.2}	2026-12-06 08:22:42.371789+00
2	m0.s2	meso	m0	3	0.3	\N	\N	\N	[0.39914328,-0.6678606,0.815881,-0.46372497]	{"id": "m0.s2", "size": 3, "type": "cluster", "level": "meso", "parent": "m0", "radius": 0.3}	2026-12-06 08:22:42.371789+00
2	m0.s2.u2	micro	m0.s2	1	0.2	\N	\N	\N	[0.8227557,-0.38087374,0.9147234,0.4124116]	{"id": "m0.s2.u2", "size": 1, "type": "cluster", "level": "micro", "parent": "m0.s2", "radius": 0.2}	2026-12-06 08:22:42.371789+00
2	m0.s2.u6	micro	m0.s2	1	0.2	\N	\N	\N	[0.008497634,0.035495512,0.3028288,0.17588942]	{"id": "m0.s2.u6", "size": 1, "type": "cluster", "level": "micro", "parent": "m0.s2", "radius": 0.2}	2026-12-06 08:22:42.371789+00
2	m1	macro	\N	6	0.4	["how", "fix"]	{"median": 1.2}	7	[-0.37631136,-0.58436304,0.023783317,0.8683087]	{"id": "m1", "perf": {"median": 1.2}, "size": 6, "type": "cluster", "label": ["how", "fix"], "level": "macro", "parent": null, "radius": 0.4, "channels": 7}	2026-12-06 08:22:42.371789+00
2	m1.s1	meso	m1	3	0.3	\N	\N	\N	[0.24653018,-0.84924924,0.6408,0.45189857]	{"id": "m1.s1", "size": 3, "type": "cluster", "level": "meso", "parent": "m1", "radius": 0.3}	2026-12-06 08:22:42.371789+00
2	m1.s1.u1	micro	m1.s1	1	0.2	\N	\N	\N	[0.81530726,-0.61719453,0.48956546,-0.88248223]	{"id": "m1.s1.u1", "size": 1, "type": "cluster", "level": "micro", "parent": "m1.s1", "radius": 0.2}	2026-12-06 08:22:42.371789+00
2	m1.s1.u5	micro	m1.s1	1	0.2	\N	\N	\N	[0.30581987,-0.45380053,-0.54676694,0.75098234]	{"id": "m1.s1.u5", "size": 1, "type": "cluster", "level": "micro", "parent": "m1.s1", "radius": 0.2}	2026-12-06 08:22:42.371789+00
2	m1.s3	meso	m1	3	0.3	\N	\N	\N	[-0.787468,0.044725332,0.70788604,-0.51033604]	{"id": "m1.s3", "size": 3, "type": "cluster", "level": "meso", "parent": "m1", "radius": 0.3}	2026-12-06 08:22:42.371789+00
2	m1.s3.u3	micro	m1.s3	1	0.2	\N	\N	\N	[-0.57904214,0.76116353,-0.1541647,0.4339222]	{"id": "m1.s3.u3", "size": 1, "type": "cluster", "level": "micro", "parent": "m1.s3", "radius": 0.2}	2026-12-06 08:22:42.371789+00
2	m1.s3.u7	micro	m1.s3	1	0.2	\N	\N	\N	[-0.93625385,-0.27528617,-0.656238,0.3455309]	{"id": "m1.s3.u7", "size": 1, "type": "cluster", "level": "micro", "parent": "m1.s3", "radius": 0.2}	2026-12-06 08:22:42.371789+00
\.

COPY public.discovery_runs (run_id, status, content_hash, embedding_dim, videos, videos_changed, clusters, patterns, metrics, rejected, program, started_at, finished_at) FROM stdin;
1	superseded	f896e7578926dc84	4	12	12	14	3	3	0	pd-store 0.2.0	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.251525+00
2	active	c90177acfa94e69d	4	12	12	14	4	3	0	pd-store 0.2.0	2026-12-06 08:22:42.371789+00	2026-12-06 08:22:42.57637+00
\.

COPY public.pattern_discovery_metrics (run_id, seq, stage, seconds, records_in, records_out, rejected, patterns_found, clusters_analyzed, data, recorded_at) FROM stdin;
1	0	fetch	0.5	12	12	0	\N	\N	{"type": "metric", "stage": "fetch", "videos": 12, "seconds": 0.5, "rejected": 0, "records_in": 12, "records_out": 12}	2026-12-06 08:22:41.988053+00
1	1	cluster	0.25	12	12	0	\N	14	{"type": "metric", "stage": "cluster", "seconds": 0.25, "clusters": 14, "rejected": 0, "records_in": 12, "records_out": 12}	2026-12-06 08:22:41.988053+00
1	2	mine	0.75	12	15	0	3	\N	{"type": "metric", "stage": "mine", "seconds": 0.75, "patterns": 3, "rejected": 0, "records_in": 12, "records_out": 15}	2026-12-06 08:22:41.988053+00
2	0	fetch	0.5	12	12	0	\N	\N	{"type": "metric", "stage": "fetch", "videos": 12, "seconds": 0.5, "rejected": 0, "records_in": 12, "records_out": 12}	2026-12-06 08:22:42.371789+00
2	1	cluster	0.25	12	12	0	\N	14	{"type": "metric", "stage": "cluster", "seconds": 0.25, "clusters": 14, "rejected": 0, "records_in": 12, "records_out": 12}	2026-12-06 08:22:42.371789+00
2	2	mine	0.75	12	16	0	4	\N	{"type": "metric", "stage": "mine", "seconds": 0.75, "patterns": 4, "rejected": 0, "records_in": 12, "records_out": 16}	2026-12-06 08:22:42.371789+00
\.

COPY public.patterns (run_id, id, pattern_type, pattern_data, performance_stats, centroid_embedding, semantic_radius, cluster_id, cluster_level, cluster_hierarchy, feature, status, validation, record, created_at, updated_at) FROM stdin;
1	p0-0	title	{"name": "How-to titles 0", "examples": ["v0000", "v0001", "v0002"], "template": "How-to titles 0", "confidence": 0.99, "description": "Titles that start with how to", "sample_size": 12}	{"lift_ratio": 1.8, "within_radius": {"avg": 2.9, "count": 12, "median": 2.5}, "outside_radius": {"avg": 1.3, "count": 28, "median": 1.1}}	[0.009440935,-0.030149775,-0.28642008,-0.30784416]	0.25	m0.s0.u0	micro	{"path": [{"id": "m0", "level": "macro"}, {"id": "m0.s0", "level": "meso"}, {"id": "m0.s0.u0", "level": "micro"}], "level": "micro", "cluster": "m0.s0.u0"}	{"kind": "ngram", "value": "how to"}	validated	{"stable": true, "holdout_lift": 1.6}	{"id": "p0-0", "name": "How-to titles 0", "type": "pattern", "level": "micro", "stats": {"n": 40, "p": 0.001, "q": 0.01, "ci": [1.2, 2.4], "lift": 1.8, "effect": 1.8, "n_with": 12, "channels": 5, "effect_ci": [1.2, 2.4], "mean_with": 2.9, "median_with": 2.5, "mean_without": 1.3, "median_without": 1.1}, "radius": 0.25, "status": "validated", "cluster": "m0.s0.u0", "feature": {"kind": "ngram", "value": "how to"}, "examples": ["v0000", "v0001", "v0002"], "validation": {"stable": true, "holdout_lift": 1.6}, "description": "Titles that start with how to", "pattern_type": "title"}	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:41.988053+00
1	p0-1	title	{"name": "How-to titles 1", "examples": ["v0001", "v0002", "v0003"], "template": "How-to titles 1", "confidence": 0.99, "description": "Titles that start with how to", "sample_size": 13}	{"lift_ratio": 1.9000000000000001, "within_radius": {"avg": 2.9, "count": 13, "median": 2.5}, "outside_radius": {"avg": 1.3, "count": 27, "median": 1.1}}	[0.07695759,0.24697891,0.22490492,-0.0837064]	0.25	m0.s0.u4	micro	{"path": [{"id": "m0", "level": "macro"}, {"id": "m0.s0", "level": "meso"}, {"id": "m0.s0.u4", "level": "micro"}], "level": "micro", "cluster": "m0.s0.u4"}	{"kind": "ngram", "value": "how to"}	validated	{"stable": true, "holdout_lift": 1.6}	{"id": "p0-1", "name": "How-to titles 1", "type": "pattern", "level": "micro", "stats": {"n": 40, "p": 0.001, "q": 0.01, "ci": [1.2, 2.4], "lift": 1.9000000000000001, "effect": 1.9000000000000001, "n_with": 13, "channels": 5, "effect_ci": [1.2, 2.4], "mean_with": 2.9, "median_with": 2.5, "mean_without": 1.3, "median_without": 1.1}, "radius": 0.25, "status": "validated", "cluster": "m0.s0.u4", "feature": {"kind": "ngram", "value": "how to"}, "examples": ["v0001", "v0002", "v0003"], "validation": {"stable": true, "holdout_lift": 1.6}, "description": "Titles that start with how to", "pattern_type": "title"}	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:41.988053+00
1	p0-2	title	{"name": "How-to titles 2", "examples": ["v0002", "v0003", "v0004"], "template": "How-to titles 2", "confidence": 0.99, "description": "Titles that start with how to", "sample_size": 14}	{"lift_ratio": 2.0, "within_radius": {"avg": 2.9, "count": 14, "median": 2.5}, "outside_radius": {"avg": 1.3, "count": 26, "median": 1.1}}	[-0.94405,-0.54078996,-0.6455775,0.16892174]	0.25	m0.s0.u0	micro	{"path": [{"id": "m0", "level": "macro"}, {"id": "m0.s0", "level": "meso"}, {"id": "m0.s0.u0", "level": "micro"}], "level": "micro", "cluster": "m0.s0.u0"}	{"kind": "ngram", "value": "how to"}	validated	{"stable": true, "holdout_lift": 1.6}	{"id": "p0-2", "name": "How-to titles 2", "type": "pattern", "level": "micro", "stats": {"n": 40, "p": 0.001, "q": 0.01, "ci": [1.2, 2.4], "lift": 2.0, "effect": 2.0, "n_with": 14, "channels": 5, "effect_ci": [1.2, 2.4], "mean_with": 2.9, "median_with": 2.5, "mean_without": 1.3, "median_without": 1.1}, "radius": 0.25, "status": "validated", "cluster": "m0.s0.u0", "feature": {"kind": "ngram", "value": "how to"}, "examples": ["v0002", "v0003", "v0004"], "validation": {"stable": true, "holdout_lift": 1.6}, "description": "Titles that start with how to", "pattern_type": "title"}	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:41.988053+00
2	p1-0	title	{"name": "How-to titles 0", "examples": ["v0000", "v0001", "v0002"], "template": "How-to titles 0", "confidence": 0.99, "description": "Titles that start with how to", "sample_size": 12}	{"lift_ratio": 1.8, "within_radius": {"avg": 2.9, "count": 12, "median": 2.5}, "outside_radius": {"avg": 1.3, "count": 28, "median": 1.1}}	[-0.83419365,0.9091243,-0.94931054,0.45884702]	0.25	m0.s0.u0	micro	{"path": [{"id": "m0", "level": "macro"}, {"id": "m0.s0", "level": "meso"}, {"id": "m0.s0.u0", "level": "micro"}], "level": "micro", "cluster": "m0.s0.u0"}	{"kind": "ngram", "value": "how to"}	validated	{"stable": true, "holdout_lift": 1.6}	{"id": "p1-0", "name": "How-to titles 0", "type": "pattern", "level": "micro", "stats": {"n": 40, "p": 0.001, "q": 0.01, "ci": [1.2, 2.4], "lift": 1.8, "effect": 1.8, "n_with": 12, "channels": 5, "effect_ci": [1.2, 2.4], "mean_with": 2.9, "median_with": 2.5, "mean_without": 1.3, "median_without": 1.1}, "radius": 0.25, "status": "validated", "cluster": "m0.s0.u0", "feature": {"kind": "ngram", "value": "how to"}, "examples": ["v0000", "v0001", "v0002"], "validation": {"stable": true, "holdout_lift": 1.6}, "description": "Titles that start with how to", "pattern_type": "title"}	2026-12-06 08:22:42.371789+00	2026-12-06 08:22:42.371789+00
2	p1-1	title	{"name": "How-to titles 1", "examples": ["v0001", "v0002", "v0003"], "template": "How-to titles 1", "confidence": 0.99, "description": "Titles that start with how to", "sample_size": 13}	{"lift_ratio": 1.9000000000000001, "within_radius": {"avg": 2.9, "count": 13, "median": 2.5}, "outside_radius": {"avg": 1.3, "count": 27, "median": 1.1}}	[-0.95771027,-0.4886199,0.62670875,-0.6857634]	0.25	m0.s0.u4	micro	{"path": [{"id": "m0", "level": "macro"}, {"id": "m0.s0", "level": "meso"}, {"id": "m0.s0.u4", "level": "micro"}], "level": "micro", "cluster": "m0.s0.u4"}	{"kind": "ngram", "value": "how to"}	validated	{"stable": true, "holdout_lift": 1.6}	{"id": "p1-1", "name": "How-to titles 1", "type": "pattern", "level": "micro", "stats": {"n": 40, "p": 0.001, "q": 0.01, "ci": [1.2, 2.4], "lift": 1.9000000000000001, "effect": 1.9000000000000001, "n_with": 13, "channels": 5, "effect_ci": [1.2, 2.4], "mean_with": 2.9, "median_with": 2.5, "mean_without": 1.3, "median_without": 1.1}, "radius": 0.25, "status": "validated", "cluster": "m0.s0.u4", "feature": {"kind": "ngram", "value": "how to"}, "examples": ["v0001", "v0002", "v0003"], "validation": {"stable": true, "holdout_lift": 1.6}, "description": "Titles that start with how to", "pattern_type": "title"}	2026-12-06 08:22:42.371789+00	2026-12-06 08:22:42.371789+00
2	p1-2	title	{"name": "How-to titles 2", "examples": ["v0002", "v0003", "v0004"], "template": "How-to titles 2", "confidence": 0.99, "description": "Titles that start with how to", "sample_size": 14}	{"lift_ratio": 2.0, "within_radius": {"avg": 2.9, "count": 14, "median": 2.5}, "outside_radius": {"avg": 1.3, "count": 26, "median": 1.1}}	[-0.6325224,0.38299087,-0.22886823,-0.913678]	0.25	m0.s0.u0	micro	{"path": [{"id": "m0", "level": "macro"}, {"id": "m0.s0", "level": "meso"}, {"id": "m0.s0.u0", "level": "micro"}], "level": "micro", "cluster": "m0.s0.u0"}	{"kind": "ngram", "value": "how to"}	validated	{"stable": true, "holdout_lift": 1.6}	{"id": "p1-2", "name": "How-to titles 2", "type": "pattern", "level": "micro", "stats": {"n": 40, "p": 0.001, "q": 0.01, "ci": [1.2, 2.4], "lift": 2.0, "effect": 2.0, "n_with": 14, "channels": 5, "effect_ci": [1.2, 2.4], "mean_with": 2.9, "median_with": 2.5, "mean_without": 1.3, "median_without": 1.1}, "radius": 0.25, "status": "validated", "cluster": "m0.s0.u0", "feature": {"kind": "ngram", "value": "how to"}, "examples": ["v0002", "v0003", "v0004"], "validation": {"stable": true, "holdout_lift": 1.6}, "description": "Titles that start with how to", "pattern_type": "title"}	2026-12-06 08:22:42.371789+00	2026-12-06 08:22:42.371789+00
2	p1-3	title	{"name": "How-to titles 3", "examples": ["v0003", "v0004", "v0005"], "template": "How-to titles 3", "confidence": 0.99, "description": "Titles that start with how to", "sample_size": 15}	{"lift_ratio": 2.1, "within_radius": {"avg": 2.9, "count": 15, "median": 2.5}, "outside_radius": {"avg": 1.3, "count": 25, "median": 1.1}}	[0.9800031,-0.69715977,-0.927462,-0.311598]	0.25	m0.s0.u4	micro	{"path": [{"id": "m0", "level": "macro"}, {"id": "m0.s0", "level": "meso"}, {"id": "m0.s0.u4", "level": "micro"}], "level": "micro", "cluster": "m0.s0.u4"}	{"kind": "ngram", "value": "how to"}	validated	{"stable": true, "holdout_lift": 1.6}	{"id": "p1-3", "name": "How-to titles 3", "type": "pattern", "level": "micro", "stats": {"n": 40, "p": 0.001, "q": 0.01, "ci": [1.2, 2.4], "lift": 2.1, "effect": 2.1, "n_with": 15, "channels": 5, "effect_ci": [1.2, 2.4], "mean_with": 2.9, "median_with": 2.5, "mean_without": 1.3, "median_without": 1.1}, "radius": 0.25, "status": "validated", "cluster": "m0.s0.u4", "feature": {"kind": "ngram", "value": "how to"}, "examples": ["v0003", "v0004", "v0005"], "validation": {"stable": true, "holdout_lift": 1.6}, "description": "Titles that start with how to", "pattern_type": "title"}	2026-12-06 08:22:42.371789+00	2026-12-06 08:22:42.371789+00
\.

COPY public.pd_settings (key, value) FROM stdin;
embedding_dim	4
embedding_type	vector
\.

COPY public.predictions (run_id, pattern_id, video_id, predicted_at, expected_perf, expected_lo, expected_hi, has_feature, similarity, cluster_id, effect, direction, record, recorded_at) FROM stdin;
\.

COPY public.schema_migrations (version, name, applied_at) FROM stdin;
1	initial schema	2026-12-06 08:22:41.886591+00
2	pattern effectiveness tracking	2026-12-06 08:22:41.954556+00
\.

COPY public.video_patterns (run_id, pattern_id, video_id, role) FROM stdin;
1	p0-2	v0004	example
1	p0-0	v0002	example
1	p0-0	v0000	example
1	p0-1	v0003	example
1	p0-2	v0002	example
1	p0-2	v0003	example
1	p0-0	v0001	example
1	p0-1	v0002	example
1	p0-1	v0001	example
2	p1-1	v0001	example
2	p1-0	v0002	example
2	p1-1	v0003	example
2	p1-0	v0000	example
2	p1-1	v0002	example
2	p1-2	v0003	example
2	p1-0	v0001	example
2	p1-3	v0005	example
2	p1-3	v0004	example
2	p1-2	v0004	example
2	p1-3	v0003	example
2	p1-2	v0002	example
\.

COPY public.videos (id, channel_id, channel_title, title, description, tags, category, format, published_at, observed_at, duration_s, views, likes, comments, is_short, age_days, perf, perf_basis, perf_reason, extra, cluster_macro, cluster_meso, cluster_micro, cluster_sim, other_fields, embedding, run_id, created_at, updated_at) FROM stdin;
v0000	ch0	Channel 0	How to fix 0 things ü	desc 0\twith tab\nand newline \\ backslash	{t0,common}	Education	\N	2025-11-01 10:00:00+00	2025-12-10 05:00:00+00	60	1000	10	0	t	10.5	\N	5	channel has too few videos	{"n": "0", "definition": "hd"}	m0	m0.s0	m0.s0.u0	0.5	{"holdout": true}	[0.91206855,0.895655,-0.88689727,-0.830256]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0001	ch1	Channel 1	Video number 1	desc 1\twith tab\nand newline \\ backslash	{t1,common}	Education	\N	2025-11-02 10:00:00+00	2025-12-10 05:00:00+00	67	1113	11	1	f	11.5	1.75	6	\N	{"n": "1", "definition": "hd"}	m1	m1.s1	m1.s1.u1	0.51	{"holdout": false}	[0.67099774,0.47193998,0.3394608,-0.38372707]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0002	ch2	Channel 2	Video number 2	desc 2\twith tab\nand newline \\ backslash	{t2,common}	Education	\N	2025-11-03 10:00:00+00	2025-12-10 05:00:00+00	74	1226	12	2	f	12.5	2	7	\N	{"n": "2", "definition": "hd"}	m0	m0.s2	m0.s2.u2	0.52	{"holdout": false}	[0.21188833,0.21360347,0.16240804,-0.6832343]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0003	ch3	Channel 3	How to fix 3 things ü	desc 3\twith tab\nand newline \\ backslash	{t3,common}	Education	\N	2025-11-04 10:00:00+00	2025-12-10 05:00:00+00	81	1339	13	3	f	13.5	2.25	5	\N	{"n": "3", "definition": "hd"}	m1	m1.s3	m1.s3.u3	0.53	{"holdout": false}	[-0.13866071,-0.21293636,0.44602415,0.9896391]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0004	ch4	Channel 4	Video number 4	desc 4\twith tab\nand newline \\ backslash	{t4,common}	Education	\N	2025-11-05 10:00:00+00	2025-12-10 05:00:00+00	88	1452	14	4	f	14.5	2.5	6	\N	{"n": "4", "definition": "hd"}	m0	m0.s0	m0.s0.u4	0.54	{"holdout": true}	[0.89879096,0.088354096,-0.11029162,-0.46351853]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0005	ch5	Channel 5	Video number 5	desc 5\twith tab\nand newline \\ backslash	{t0,common}	Education	\N	2025-11-06 10:00:00+00	2025-12-10 05:00:00+00	95	1565	15	5	f	15.5	2.75	7	\N	{"n": "5", "definition": "hd"}	m1	m1.s1	m1.s1.u5	0.55	{"holdout": false}	[-0.92815137,-0.94511026,-0.070212275,-0.36306974]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0006	ch6	Channel 6	How to fix 6 things ü	desc 6\twith tab\nand newline \\ backslash	{t1,common}	Education	\N	2025-11-07 10:00:00+00	2025-12-10 05:00:00+00	102	1678	16	6	f	16.5	3	5	\N	{"n": "6", "definition": "hd"}	m0	m0.s2	m0.s2.u6	0.56	{"holdout": false}	[-0.23997016,0.78357893,0.05150554,0.12102072]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0007	ch0	Channel 0	Video number 7	desc 7\twith tab\nand newline \\ backslash	{t2,common}	Education	\N	2025-11-08 10:00:00+00	2025-12-10 05:00:00+00	109	1791	17	7	f	17.5	3.25	6	\N	{"n": "7", "definition": "hd"}	m1	m1.s3	m1.s3.u7	0.57	{"holdout": false}	[-0.5277532,-0.95228386,-0.34971413,-0.72660524]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0008	ch1	Channel 1	Video number 8	desc 8\twith tab\nand newline \\ backslash	{t3,common}	Education	\N	2025-11-09 10:00:00+00	2025-12-10 05:00:00+00	116	1904	18	8	f	18.5	3.5	7	\N	{"n": "8", "definition": "hd"}	m0	m0.s0	m0.s0.u0	0.58	{"holdout": true}	[0.020447692,0.99736714,0.3489594,-0.636313]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0009	ch2	Channel 2	How to fix 9 things ü	desc 9\twith tab\nand newline \\ backslash	{t4,common}	Education	\N	2025-11-10 10:00:00+00	2025-12-10 05:00:00+00	123	2017	19	0	f	19.5	3.75	5	\N	{"n": "9", "definition": "hd"}	m1	m1.s1	m1.s1.u1	0.59	{"holdout": false}	[0.78714305,0.59351987,0.46880338,0.8131873]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0010	ch3	Channel 3	Video number 10	desc 10\twith tab\nand newline \\ backslash	{t0,common}	Education	\N	2025-11-11 10:00:00+00	2025-12-10 05:00:00+00	130	2130	20	1	t	20.5	4	6	\N	{"n": "10", "definition": "hd"}	m0	m0.s2	m0.s2.u2	0.6	{"holdout": false}	[0.52577096,0.57949525,-0.29242605,0.96195316]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
v0011	ch4	Channel 4	Video number 11	desc 11\twith tab\nand newline \\ backslash	{t1,common}	Education	\N	2025-11-12 10:00:00+00	2025-12-10 05:00:00+00	137	2243	21	2	f	21.5	\N	7	channel has too few videos	{"n": "11", "definition": "hd"}	m1	m1.s3	m1.s3.u3	0.61	{"holdout": false}	[0.9238019,-0.6776307,0.5080081,0.4303018]	2	2026-12-06 08:22:41.988053+00	2026-12-06 08:22:42.371789+00
\.

SELECT pg_catalog.setval('public.discovery_runs_run_id_seq', 2, true);

ALTER TABLE ONLY public.clusters
    ADD CONSTRAINT clusters_pkey PRIMARY KEY (run_id, id);

ALTER TABLE ONLY public.discovery_runs
    ADD CONSTRAINT discovery_runs_pkey PRIMARY KEY (run_id);

ALTER TABLE ONLY public.pattern_discovery_metrics
    ADD CONSTRAINT pattern_discovery_metrics_pkey PRIMARY KEY (run_id, seq);

ALTER TABLE ONLY public.patterns
    ADD CONSTRAINT patterns_pkey PRIMARY KEY (run_id, id);

ALTER TABLE ONLY public.pd_settings
    ADD CONSTRAINT pd_settings_pkey PRIMARY KEY (key);

ALTER TABLE ONLY public.predictions
    ADD CONSTRAINT predictions_pkey PRIMARY KEY (run_id, pattern_id, video_id);

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY public.video_patterns
    ADD CONSTRAINT video_patterns_pkey PRIMARY KEY (run_id, pattern_id, video_id);

ALTER TABLE ONLY public.videos
    ADD CONSTRAINT videos_pkey PRIMARY KEY (id);

CREATE INDEX clusters_centroid_hnsw ON public.clusters USING hnsw (centroid public.vector_cosine_ops);

CREATE UNIQUE INDEX discovery_runs_one_active ON public.discovery_runs USING btree ((true)) WHERE (status = 'active'::text);

CREATE UNIQUE INDEX pattern_effectiveness_by_cluster_id ON public.pattern_effectiveness_by_cluster USING btree (pattern_id);

CREATE UNIQUE INDEX pattern_effectiveness_id ON public.pattern_effectiveness USING btree (run_id, pattern_id);

CREATE INDEX patterns_centroid_hnsw ON public.patterns USING hnsw (centroid_embedding public.vector_cosine_ops);

CREATE INDEX patterns_cluster ON public.patterns USING btree (run_id, cluster_id);

CREATE INDEX predictions_pattern ON public.predictions USING btree (pattern_id, run_id);

CREATE INDEX predictions_video ON public.predictions USING btree (video_id);

CREATE UNIQUE INDEX semantic_cluster_stats_id ON public.semantic_cluster_stats USING btree (cluster_id);

CREATE INDEX video_patterns_video ON public.video_patterns USING btree (video_id);

CREATE INDEX videos_channel_id ON public.videos USING btree (channel_id);

CREATE INDEX videos_cluster_micro ON public.videos USING btree (cluster_micro);

CREATE INDEX videos_embedding_hnsw ON public.videos USING hnsw (embedding public.vector_cosine_ops);

CREATE INDEX videos_updated_at ON public.videos USING btree (updated_at);

ALTER TABLE ONLY public.clusters
    ADD CONSTRAINT clusters_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.discovery_runs(run_id) ON DELETE CASCADE;

ALTER TABLE ONLY public.pattern_discovery_metrics
    ADD CONSTRAINT pattern_discovery_metrics_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.discovery_runs(run_id) ON DELETE CASCADE;

ALTER TABLE ONLY public.patterns
    ADD CONSTRAINT patterns_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.discovery_runs(run_id) ON DELETE CASCADE;

ALTER TABLE ONLY public.video_patterns
    ADD CONSTRAINT video_patterns_run_id_pattern_id_fkey FOREIGN KEY (run_id, pattern_id) REFERENCES public.patterns(run_id, id) ON DELETE CASCADE;

REFRESH MATERIALIZED VIEW public.pattern_effectiveness;

REFRESH MATERIALIZED VIEW public.pattern_effectiveness_by_cluster;

REFRESH MATERIALIZED VIEW public.semantic_cluster_stats;

\unrestrict qyqRK5fQKiFjZIaUPd4fvPghFLfKwshjObQCozsM7dCizV0wfS1ZdzktywHjLZg

