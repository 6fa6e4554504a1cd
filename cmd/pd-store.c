/*
 * pd-store — write the stream (videos, clusters, patterns, metrics) to
 * PostgreSQL + pgvector as one run, then invalidate the Redis caches.
 *
 * A run is one transaction.  Records are streamed by binary COPY into
 * temporary staging tables as they are read (videos go straight to the
 * server, so a million of them never sit in memory; clusters, patterns and
 * metrics, few, are buffered and copied at the end), then moved into the
 * real tables with INSERT ... ON CONFLICT (stable ids) that only touch rows
 * whose content changed.  The run's clusters and patterns become the active
 * set by flipping discovery_runs.status inside the same transaction, so a
 * reader sees the old set or the new one, never a mix; a run killed half way
 * leaves nothing.  The same input stored twice (the same records, byte for
 * byte, metric records included) is recognised by its content hash as the
 * latest run again and changes nothing.  Redis is told by bumping pd:gen after the
 * commit; a Redis failure is a warning, never a failed store.
 *
 * Every record also passes through to stdout (pd-store can sit mid-pipeline)
 * unless --no-passthrough; the closing metric record says what was stored.
 */
#include "cli.h"
#include "../lib/db.h"
#include "../lib/schema.h"
#include "../lib/cache.h"
#include "../lib/video.h"
#include "../lib/strmap.h"
#include "../lib/pinecone.h"
#include "../lib/pattern.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
	"Usage: pd-store [OPTION]... [FILE]...\n"
	"Store the stream's videos, clusters, patterns and metric records in PostgreSQL\n"
	"(with pgvector) as one run, make the run's patterns the active set, refresh the\n"
	"materialized views and invalidate the Redis caches; pass the records through.\n"
	"\n"
	"      --migrate         apply pending schema migrations and exit (no input read)\n"
	"      --keep-runs N     keep the N most recent discovery runs, delete older ones\n"
	"      --no-passthrough  write only the closing metric record, not the input records\n"
	"      --no-refresh      do not refresh the materialized views\n"
	"      --no-pinecone     do not upsert embeddings to Pinecone even when configured\n"
	CLI_COMMON_HELP
	"\n"
	"Environment: DATABASE_URL (else libpq's PG* variables), REDIS_URL (optional),\n"
	"PINECONE_API_KEY and PINECONE_INDEX_HOST (optional).\n"
	"Exit status: 0 stored, 1 some records rejected (the rest stored), 2 usage error,\n"
	"3 database or output failure (nothing of the run stored), 4 the run was stored\n"
	"but writing the output failed afterwards.\n";

enum { OPT_MIGRATE = CLI_OPT_FIRST_OWN, OPT_KEEP_RUNS, OPT_NO_PASSTHROUGH, OPT_NO_REFRESH,
       OPT_NO_PINECONE };

/* Advisory lock key serialising runs: "pdst" */
#define STORE_LOCK "1885631348"

static PGconn *db;

static void fail(const pd_err *err)
{
	cli_fatal(3, "%s", err->msg);
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- staging ------------------------------------------------------------ */

static const char stage_sql[] =
	"CREATE TEMP TABLE stage_videos (id text, channel_id text, channel_title text,"
	" title text, description text, tags text[], category text, format text,"
	" published_at timestamptz, observed_at timestamptz, duration_s float8, views int8,"
	" likes int8, comments int8, is_short bool, age_days float8, perf float8,"
	" perf_basis int4, perf_reason text, extra jsonb, cluster_macro text, cluster_meso text,"
	" cluster_micro text, cluster_sim float8, other_fields jsonb, embedding vector)"
	" ON COMMIT DROP;"
	"CREATE TEMP TABLE stage_clusters (id text, level text, parent text, size int4,"
	" radius float8, centroid vector, record jsonb) ON COMMIT DROP;"
	"CREATE TEMP TABLE stage_patterns (id text, pattern_type text, cluster_id text,"
	" cluster_level text, radius float8, status text, centroid vector, record jsonb)"
	" ON COMMIT DROP;"
	"CREATE TEMP TABLE stage_metrics (seq int4, stage text, seconds float8, records_in int8,"
	" records_out int8, rejected int8, patterns_found int4, clusters_analyzed int4,"
	" data jsonb) ON COMMIT DROP;";

/* The video columns in stage order. */
enum {
	V_ID, V_CHANNEL_ID, V_CHANNEL_TITLE, V_TITLE, V_DESCRIPTION, V_TAGS, V_CATEGORY, V_FORMAT,
	V_PUBLISHED, V_OBSERVED, V_DURATION, V_VIEWS, V_LIKES, V_COMMENTS, V_IS_SHORT, V_AGE,
	V_PERF, V_PERF_BASIS, V_PERF_REASON, V_EXTRA, V_CLUSTER, V_CLUSTER_SIM, V_NKEYS
};
#define V_NCOLS 26	/* V_CLUSTER is 3 columns, then other_fields and embedding */

static const char *const vkeys[V_NKEYS] = {
	"id", "channel_id", "channel_title", "title", "description", "tags", "category", "format",
	"published_at", "observed_at", "duration_s", "views", "likes", "comments", "is_short",
	"age_days", "perf", "perf_basis", "perf_reason", "extra", "cluster", "cluster_sim"
};

static int vkey_index(const char *k, size_t n)
{
	for (int i = 0; i < V_NKEYS; i++)
		if (strlen(vkeys[i]) == n && !memcmp(vkeys[i], k, n))
			return i;
	return -1;
}

static int is_whole(double v, double lo, double hi)
{
	return isfinite(v) && v == floor(v) && v >= lo && v <= hi;
}

/* Does item fit column i's type?  (Else the member goes to other_fields.) */
static int fits(int i, const cJSON *it)
{
	switch (i) {
	case V_ID:
		return cJSON_IsString(it);
	case V_CHANNEL_ID: case V_CHANNEL_TITLE: case V_TITLE: case V_DESCRIPTION:
	case V_CATEGORY: case V_FORMAT: case V_PERF_REASON:
		return cJSON_IsString(it) || cJSON_IsNull(it);
	case V_TAGS: {
		if (!cJSON_IsArray(it))
			return 0;
		for (const cJSON *t = it->child; t; t = t->next)
			if (!cJSON_IsString(t))
				return 0;
		return 1;
	}
	case V_PUBLISHED: case V_OBSERVED: {
		double t;
		return cJSON_IsNull(it) || (cJSON_IsString(it) && pd_time_parse(it->valuestring, &t) == 0);
	}
	case V_DURATION: case V_AGE: case V_PERF: case V_CLUSTER_SIM:
		return cJSON_IsNull(it) || (cJSON_IsNumber(it) && isfinite(it->valuedouble));
	case V_VIEWS: case V_LIKES: case V_COMMENTS:
		return cJSON_IsNull(it) || (cJSON_IsNumber(it) && is_whole(it->valuedouble, -9e15, 9e15));
	case V_PERF_BASIS:
		return cJSON_IsNull(it) || (cJSON_IsNumber(it) && is_whole(it->valuedouble, -2e9, 2e9));
	case V_IS_SHORT:
		return cJSON_IsBool(it) || cJSON_IsNull(it);
	case V_EXTRA:
		return cJSON_IsObject(it) || cJSON_IsNull(it);
	case V_CLUSTER: {
		if (!cJSON_IsObject(it))
			return 0;
		for (const cJSON *t = it->child; t; t = t->next)
			if (!cJSON_IsString(t) || (strcmp(t->string, "macro") && strcmp(t->string, "meso") &&
						   strcmp(t->string, "micro")))
				return 0;
		return 1;
	}
	}
	return 0;
}

struct vscan {
	const cJSON *json;
	const cJSON *item[V_NKEYS];
	const char *raw[V_NKEYS];	/* raw value text (for jsonb columns) */
	size_t rawlen[V_NKEYS];
	pd_buf *other;
};

static int vscan_member(const pd_jmember *m, void *ud)
{
	struct vscan *s = ud;
	char key[64];
	int i = -1;
	if (m->keylen < sizeof key && !memchr(m->key, '\\', m->keylen)) {
		memcpy(key, m->key, m->keylen);
		key[m->keylen] = 0;
		if (!strcmp(key, "type") || !strcmp(key, "embedding") || !strcmp(key, "embedding_b64"))
			return 0;
		i = vkey_index(key, m->keylen);
		if (i >= 0) {
			const cJSON *it = cJSON_GetObjectItemCaseSensitive(s->json, key);
			if (it && fits(i, it)) {
				s->item[i] = it;
				s->raw[i] = m->val;
				s->rawlen[i] = m->vallen;
				return 0;
			}
		}
	}
	pd_buf_addc(s->other, s->other->len ? ',' : '{');
	pd_buf_addc(s->other, '"');
	pd_buf_add(s->other, m->key, m->keylen);
	pd_buf_adds(s->other, "\":");
	pd_buf_add(s->other, m->val, m->vallen);
	return 0;
}

static void put_str(pd_buf *b, const cJSON *it)
{
	if (!it || !cJSON_IsString(it))
		pd_copy_null(b);
	else
		pd_copy_text(b, it->valuestring, strlen(it->valuestring));
}

static void put_num(pd_buf *b, const cJSON *it)
{
	if (!it || !cJSON_IsNumber(it))
		pd_copy_null(b);
	else
		pd_copy_float8(b, it->valuedouble);
}

static void put_int8(pd_buf *b, const cJSON *it)
{
	if (!it || !cJSON_IsNumber(it))
		pd_copy_null(b);
	else
		pd_copy_int8(b, (int64_t)it->valuedouble);
}

static void put_int4(pd_buf *b, const cJSON *it)
{
	if (!it || !cJSON_IsNumber(it))
		pd_copy_null(b);
	else
		pd_copy_int4(b, (int32_t)it->valuedouble);
}

static void put_time(pd_buf *b, const cJSON *it)
{
	double t;
	if (!it || !cJSON_IsString(it) || pd_time_parse(it->valuestring, &t) < 0)
		pd_copy_null(b);
	else
		pd_copy_timestamptz(b, t);
}

/*
 * encode_video: the video record r as one stage_videos row into b.
 * Returns 0, or -1 with err for a record the database could not take.
 */
static int encode_video(const pd_record *r, pd_buf *b, pd_buf *other, pd_err *err)
{
	struct vscan s;
	memset(&s, 0, sizeof s);
	s.json = r->json;
	s.other = other;
	pd_buf_reset(other);
	if (pd_json_members(r->raw, r->rawlen, vscan_member, &s, err) < 0)
		return -1;
	if (other->len)
		pd_buf_addc(other, '}');

	pd_copy_row(b, V_NCOLS);
	put_str(b, s.item[V_ID]);
	put_str(b, s.item[V_CHANNEL_ID]);
	put_str(b, s.item[V_CHANNEL_TITLE]);
	put_str(b, s.item[V_TITLE]);
	put_str(b, s.item[V_DESCRIPTION]);
	if (s.item[V_TAGS]) {
		int n = cJSON_GetArraySize(s.item[V_TAGS]), k = 0;
		const char **tags = xcalloc((size_t)n + 1, sizeof *tags);
		for (const cJSON *t = s.item[V_TAGS]->child; t; t = t->next)
			tags[k++] = t->valuestring;
		pd_copy_text_array(b, tags, k);
		free(tags);
	} else
		pd_copy_null(b);
	put_str(b, s.item[V_CATEGORY]);
	put_str(b, s.item[V_FORMAT]);
	put_time(b, s.item[V_PUBLISHED]);
	put_time(b, s.item[V_OBSERVED]);
	put_num(b, s.item[V_DURATION]);
	put_int8(b, s.item[V_VIEWS]);
	put_int8(b, s.item[V_LIKES]);
	put_int8(b, s.item[V_COMMENTS]);
	if (s.item[V_IS_SHORT] && cJSON_IsBool(s.item[V_IS_SHORT]))
		pd_copy_bool(b, cJSON_IsTrue(s.item[V_IS_SHORT]));
	else
		pd_copy_null(b);
	put_num(b, s.item[V_AGE]);
	put_num(b, s.item[V_PERF]);
	put_int4(b, s.item[V_PERF_BASIS]);
	put_str(b, s.item[V_PERF_REASON]);
	if (s.item[V_EXTRA] && cJSON_IsObject(s.item[V_EXTRA]))
		pd_copy_jsonb(b, s.raw[V_EXTRA], s.rawlen[V_EXTRA]);
	else
		pd_copy_null(b);
	const cJSON *cl = s.item[V_CLUSTER];
	put_str(b, cl ? cJSON_GetObjectItemCaseSensitive(cl, "macro") : NULL);
	put_str(b, cl ? cJSON_GetObjectItemCaseSensitive(cl, "meso") : NULL);
	put_str(b, cl ? cJSON_GetObjectItemCaseSensitive(cl, "micro") : NULL);
	put_num(b, s.item[V_CLUSTER_SIM]);
	if (other->len)
		pd_copy_jsonb(b, other->p, other->len);
	else
		pd_copy_null(b);
	if (r->dim > 0)
		pd_copy_vector(b, r->emb, r->dim);
	else
		pd_copy_null(b);
	return 0;
}

/* The record's raw text without the members named in drop (NULL-terminated). */
struct strip {
	const char *const *drop;
	pd_buf *out;
};

static int strip_member(const pd_jmember *m, void *ud)
{
	struct strip *s = ud;
	for (int i = 0; s->drop[i]; i++)
		if (strlen(s->drop[i]) == m->keylen && !memcmp(s->drop[i], m->key, m->keylen))
			return 0;
	pd_buf_addc(s->out, s->out->len ? ',' : '{');
	pd_buf_addc(s->out, '"');
	pd_buf_add(s->out, m->key, m->keylen);
	pd_buf_adds(s->out, "\":");
	pd_buf_add(s->out, m->val, m->vallen);
	return 0;
}

static void strip_record(const pd_record *r, const char *const *drop, pd_buf *out)
{
	struct strip s = { drop, out };
	pd_buf_reset(out);
	pd_json_members(r->raw, r->rawlen, strip_member, &s, NULL);
	if (!out->len)
		pd_buf_addc(out, '{');
	pd_buf_addc(out, '}');
}

/* A string member of the tree, or NULL. */
static const cJSON *str_item(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(it) ? it : NULL;
}

static const cJSON *num_item(const cJSON *o, const char *k)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(it) && isfinite(it->valuedouble) ? it : NULL;
}

static const cJSON *int_item(const cJSON *o, const char *k, double lo, double hi)
{
	const cJSON *it = num_item(o, k);
	return it && is_whole(it->valuedouble, lo, hi) ? it : NULL;
}

/*
 * decode_centroid: the record's "centroid_b64" (or "centroid" array) into
 * v and dim; 0 when absent, 1 decoded, -1 with err when malformed.
 */
static int decode_centroid(const pd_record *r, float **v, size_t *cap, int *dim, pd_err *err)
{
	const char *val;
	size_t n;
	int f = pd_json_find(r->raw, r->rawlen, "centroid_b64", &val, &n, err);
	if (f < 0)
		return -1;
	if (f == 1 && !(n == 4 && !memcmp(val, "null", 4)))
		return pd_vec_parse_b64(val, n, v, cap, dim, err) < 0 ? -1 : 1;
	f = pd_json_find(r->raw, r->rawlen, "centroid", &val, &n, err);
	if (f == 1 && n && val[0] == '[')
		return pd_vec_parse_json(val, n, v, cap, dim, err) < 0 ? -1 : 1;
	*dim = 0;
	return f < 0 ? -1 : 0;
}

/* ---- the run's SQL ------------------------------------------------------ */

static const char upsert_videos_sql[] =
	"INSERT INTO videos AS v (id, channel_id, channel_title, title, description, tags,"
	" category, format, published_at, observed_at, duration_s, views, likes, comments,"
	" is_short, age_days, perf, perf_basis, perf_reason, extra, cluster_macro, cluster_meso,"
	" cluster_micro, cluster_sim, other_fields, embedding, run_id)"
	" SELECT s.*, $1::bigint FROM stage_videos s"
	" ON CONFLICT (id) DO UPDATE SET channel_id = excluded.channel_id,"
	" channel_title = excluded.channel_title, title = excluded.title,"
	" description = excluded.description, tags = excluded.tags, category = excluded.category,"
	" format = excluded.format, published_at = excluded.published_at,"
	" observed_at = excluded.observed_at, duration_s = excluded.duration_s,"
	" views = excluded.views, likes = excluded.likes, comments = excluded.comments,"
	" is_short = excluded.is_short, age_days = excluded.age_days, perf = excluded.perf,"
	" perf_basis = excluded.perf_basis, perf_reason = excluded.perf_reason,"
	" extra = excluded.extra,"
	/* enrichments: a record without them keeps the stored ones */
	" cluster_macro = coalesce(excluded.cluster_macro, v.cluster_macro),"
	" cluster_meso = coalesce(excluded.cluster_meso, v.cluster_meso),"
	" cluster_micro = coalesce(excluded.cluster_micro, v.cluster_micro),"
	" cluster_sim = coalesce(excluded.cluster_sim, v.cluster_sim),"
	" other_fields = excluded.other_fields,"
	" embedding = coalesce(excluded.embedding, v.embedding),"
	" run_id = excluded.run_id, updated_at = now()"
	" WHERE (v.channel_id, v.channel_title, v.title, v.description, v.tags, v.category,"
	" v.format, v.published_at, v.observed_at, v.duration_s, v.views, v.likes, v.comments,"
	" v.is_short, v.age_days, v.perf, v.perf_basis, v.perf_reason, v.extra, v.cluster_macro,"
	" v.cluster_meso, v.cluster_micro, v.cluster_sim, v.other_fields, v.embedding)"
	" IS DISTINCT FROM (excluded.channel_id, excluded.channel_title, excluded.title,"
	" excluded.description, excluded.tags, excluded.category, excluded.format,"
	" excluded.published_at, excluded.observed_at, excluded.duration_s, excluded.views,"
	" excluded.likes, excluded.comments, excluded.is_short, excluded.age_days, excluded.perf,"
	" excluded.perf_basis, excluded.perf_reason, excluded.extra,"
	" coalesce(excluded.cluster_macro, v.cluster_macro),"
	" coalesce(excluded.cluster_meso, v.cluster_meso),"
	" coalesce(excluded.cluster_micro, v.cluster_micro),"
	" coalesce(excluded.cluster_sim, v.cluster_sim), excluded.other_fields,"
	" coalesce(excluded.embedding, v.embedding))";

static const char upsert_clusters_sql[] =
	"INSERT INTO clusters AS c (run_id, id, level, parent, size, radius, label, perf_stats,"
	" channels, centroid, record)"
	" SELECT $1::bigint, s.id, s.level, s.parent, s.size, s.radius, s.record->'label',"
	" s.record->'perf', s.record->'channels', s.centroid, s.record FROM stage_clusters s"
	" ON CONFLICT (run_id, id) DO UPDATE SET level = excluded.level, parent = excluded.parent,"
	" size = excluded.size, radius = excluded.radius, label = excluded.label,"
	" perf_stats = excluded.perf_stats, channels = excluded.channels,"
	" centroid = excluded.centroid, record = excluded.record"
	" WHERE (c.level, c.parent, c.size, c.radius, c.centroid, c.record) IS DISTINCT FROM"
	" (excluded.level, excluded.parent, excluded.size, excluded.radius, excluded.centroid,"
	" excluded.record)";

/* The original guide's shapes: pattern_data and performance_stats from the record. */
static const char upsert_patterns_sql[] =
	"WITH RECURSIVE anc AS ("
	"  SELECT id AS start, id, parent, level, 0 AS depth FROM stage_clusters"
	"  UNION ALL SELECT a.start, c.id, c.parent, c.level, a.depth + 1"
	"  FROM anc a JOIN stage_clusters c ON c.id = a.parent WHERE a.depth < 8),"
	" hier AS (SELECT start, jsonb_agg(jsonb_build_object('level', level, 'id', id)"
	"  ORDER BY depth DESC) AS path FROM anc GROUP BY start),"
	" src AS (SELECT s.*, s.record->'stats' AS st FROM stage_patterns s),"
	" num AS (SELECT src.*,"
	"  CASE WHEN jsonb_typeof(st->'n') = 'number' AND jsonb_typeof(st->'n_with') = 'number'"
	"   THEN to_jsonb((st->'n')::numeric - (st->'n_with')::numeric) END AS n_without_calc"
	"  FROM src)"
	" INSERT INTO patterns AS p (run_id, id, pattern_type, pattern_data, performance_stats,"
	" centroid_embedding, semantic_radius, cluster_id, cluster_level, cluster_hierarchy,"
	" feature, status, validation, record)"
	" SELECT $1::bigint, s.id, s.pattern_type,"
	"  jsonb_build_object('name', s.record->'name', 'description', s.record->'description',"
	"   'template', coalesce(s.record->'template', s.record->'name'),"
	"   'examples', coalesce(s.record->'examples', '[]'::jsonb),"
	"   'confidence', coalesce("
	"     CASE WHEN jsonb_typeof(s.record->'confidence') = 'number' THEN s.record->'confidence' END,"
	"     CASE WHEN jsonb_typeof(s.record->'pattern_data'->'confidence') = 'number'"
	"      THEN s.record->'pattern_data'->'confidence' END,"
	"     CASE WHEN jsonb_typeof(st->'confidence') = 'number' THEN st->'confidence' END,"
	"     CASE WHEN jsonb_typeof(st->'q') = 'number' THEN to_jsonb(1 - (st->'q')::numeric) END,"
	"     CASE WHEN jsonb_typeof(st->'p') = 'number' THEN to_jsonb(1 - (st->'p')::numeric) END),"
	"   'sample_size', coalesce(st->'n_with', st->'n')),"
	/* the record's own performance_stats (pd-mine writes them: lift_ratio is
	   the effect multiplier, as in stats.effect), else made from its stats;
	   pd 0.1 records: their lift_ratio was a ratio of means, kept as stored */
	"  coalesce(CASE WHEN jsonb_typeof(s.record->'performance_stats') = 'object'"
	"   THEN s.record->'performance_stats' END, jsonb_build_object("
	"   'within_radius', jsonb_build_object("
	"     'avg', coalesce(st->'mean_with', st->'avg_with', st->'mean_perf_with'),"
	"     'median', coalesce(st->'median_with', st->'median_perf_with'),"
	"     'count', st->'n_with'),"
	"   'outside_radius', jsonb_build_object("
	"     'avg', coalesce(st->'mean_without', st->'avg_without', st->'mean_perf_without'),"
	"     'median', coalesce(st->'median_without', st->'median_perf_without'),"
	"     'count', coalesce(st->'n_without', n_without_calc)),"
	"   'lift_ratio', coalesce(st->'effect', st->'lift_ratio',"
	"     CASE WHEN jsonb_typeof(st->'median_perf_with') = 'number'"
	"      AND jsonb_typeof(st->'median_perf_without') = 'number'"
	"      AND (st->>'median_perf_without')::numeric > 0"
	"      THEN to_jsonb((st->>'median_perf_with')::numeric / (st->>'median_perf_without')::numeric) END))),"
	"  s.centroid, s.radius, s.cluster_id, s.cluster_level,"
	"  CASE WHEN s.cluster_id IS NOT NULL THEN jsonb_build_object('level', s.cluster_level,"
	"   'cluster', s.cluster_id, 'path', (SELECT path FROM hier WHERE start = s.cluster_id)) END,"
	"  s.record->'feature', s.status, s.record->'validation', s.record"
	" FROM num s"
	" ON CONFLICT (run_id, id) DO UPDATE SET pattern_type = excluded.pattern_type,"
	" pattern_data = excluded.pattern_data, performance_stats = excluded.performance_stats,"
	" centroid_embedding = excluded.centroid_embedding,"
	" semantic_radius = excluded.semantic_radius, cluster_id = excluded.cluster_id,"
	" cluster_level = excluded.cluster_level, cluster_hierarchy = excluded.cluster_hierarchy,"
	" feature = excluded.feature, status = excluded.status, validation = excluded.validation,"
	" record = excluded.record, updated_at = now()"
	" WHERE (p.pattern_type, p.centroid_embedding, p.semantic_radius, p.cluster_hierarchy,"
	" p.status, p.record) IS DISTINCT FROM (excluded.pattern_type, excluded.centroid_embedding,"
	" excluded.semantic_radius, excluded.cluster_hierarchy, excluded.status, excluded.record)";

static const char video_patterns_sql[] =
	"INSERT INTO video_patterns (run_id, pattern_id, video_id, role)"
	" SELECT DISTINCT $1::bigint, s.id, e.v, 'example' FROM stage_patterns s,"
	" jsonb_array_elements_text(CASE WHEN jsonb_typeof(s.record->'examples') = 'array'"
	"  THEN s.record->'examples' ELSE '[]'::jsonb END) AS e(v)"
	" ON CONFLICT DO NOTHING";

static const char upsert_metrics_sql[] =
	"INSERT INTO pattern_discovery_metrics AS m (run_id, seq, stage, seconds, records_in,"
	" records_out, rejected, patterns_found, clusters_analyzed, data)"
	" SELECT $1::bigint, s.* FROM stage_metrics s"
	" ON CONFLICT (run_id, seq) DO UPDATE SET stage = excluded.stage,"
	" seconds = excluded.seconds, records_in = excluded.records_in,"
	" records_out = excluded.records_out, rejected = excluded.rejected,"
	" patterns_found = excluded.patterns_found, clusters_analyzed = excluded.clusters_analyzed,"
	" data = excluded.data, recorded_at = now()"
	" WHERE m.data IS DISTINCT FROM excluded.data";

/* Run one parameterised command with the run id; returns rows affected. */
static long long exec_run(const char *sql, const char *run_id)
{
	pd_err err;
	const char *p[1] = { run_id };
	PGresult *r = pd_db_query(db, sql, 1, p, &err);
	if (!r)
		fail(&err);
	long long n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return n;
}

static void exec_or_fail(const char *sql)
{
	pd_err err;
	if (pd_db_exec(db, sql, &err) < 0)
		fail(&err);
}

/* Copy a buffered staging table (rows already encoded in rows). */
static void copy_buffered(const char *sql, pd_buf *rows)
{
	pd_err err;
	pd_buf b = PD_BUF_INIT;
	if (pd_db_copy_begin(db, sql, &b, &err) < 0)
		fail(&err);
	pd_buf_add(&b, rows->p, rows->len);
	if (pd_db_copy_end(db, &b, &err) < 0)
		fail(&err);
	pd_buf_release(&b);
}

/* ---- main --------------------------------------------------------------- */

/* connect_db: connect and apply pending migrations, or exit 3. */
static void connect_db(void)
{
	pd_err err;
	pd_db_set_program("pd-store");
	db = pd_db_connect(NULL, &err);
	if (!db)
		fail(&err);
	int applied = 0;
	if (pd_schema_migrate(db, &applied, &err) < 0)
		fail(&err);
	cli_metric_num("migrations_applied", applied);
}

/*
 * begin_run: the run's transaction (one run at a time: an advisory lock),
 * the staging tables, the COPY of videos under way.  Returns the database's
 * embedding dimension (0: not fixed yet).
 */
static int begin_run(pd_buf *vb)
{
	pd_err err;
	connect_db();
	exec_or_fail("SET temp_buffers = '256MB'");
	exec_or_fail("BEGIN");
	exec_or_fail("SELECT pg_advisory_xact_lock(" STORE_LOCK ")");
	exec_or_fail("SET LOCAL maintenance_work_mem = '1GB'");
	exec_or_fail("SET LOCAL client_min_messages = warning");
	exec_or_fail(stage_sql);
	int d = pd_schema_get_dim(db, &err);
	if (d < 0)
		fail(&err);
	if (pd_db_copy_begin(db, "COPY stage_videos FROM STDIN (FORMAT binary)", vb, &err) < 0)
		fail(&err);
	return d;
}

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xbf58476d1ce4e5b9ULL;
}

/*
 * A record the database could not store whole: \u0000 (text and jsonb refuse
 * NUL).  Escapes are read in pairs, so the text \\u0000 (an escaped
 * backslash, then "u0000") is not taken for one.
 */
static int has_nul_escape(const char *s, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '\\')
			continue;
		if (i + 6 <= n && !memcmp(s + i + 1, "u0000", 5))
			return 1;
		i++;	/* the escaped character */
	}
	return 0;
}

int main(int argc, char **argv)
{
	cli_init("pd-store", "store", usage_text);
	static const struct option longopts[] = {
		{ "migrate", no_argument, NULL, OPT_MIGRATE },
		{ "keep-runs", required_argument, NULL, OPT_KEEP_RUNS },
		{ "no-passthrough", no_argument, NULL, OPT_NO_PASSTHROUGH },
		{ "no-refresh", no_argument, NULL, OPT_NO_REFRESH },
		{ "no-pinecone", no_argument, NULL, OPT_NO_PINECONE },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int migrate_only = 0, passthrough = 1, refresh = 1, use_pinecone = 1;
	long keep_runs = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MIGRATE: migrate_only = 1; break;
		case OPT_KEEP_RUNS: keep_runs = cli_parse_long("--keep-runs", optarg, 1, 1000000); break;
		case OPT_NO_PASSTHROUGH: passthrough = 0; break;
		case OPT_NO_REFRESH: refresh = 0; break;
		case OPT_NO_PINECONE: use_pinecone = 0; break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	cli_after_options();
	if (migrate_only && optind < argc)
		cli_usage_error("--migrate takes no input files");

	pd_err err;
	if (migrate_only) {
		connect_db();
		cli_metric_num("schema_version", pd_schema_latest());
		PQfinish(db);
		return cli_finish();
	}

	pd_pinecone *pc = NULL;
	if (use_pinecone && pd_pinecone_open(&pc, &err) < 0)
		cli_fatal(2, "%s", err.msg);

	/* The run starts at the first record to store (a stream with none needs
	 * no database: it passes through). */
	int started = 0, db_dim = 0, dim = 0;
	double t_copy0 = 0;
	pd_buf vb = PD_BUF_INIT, other = PD_BUF_INIT, tmp = PD_BUF_INIT;
	pd_buf cl_rows = PD_BUF_INIT, pat_rows = PD_BUF_INIT, met_rows = PD_BUF_INIT;
	pd_strmap *vids = pd_strmap_new(), *cids = pd_strmap_new(), *pids = pd_strmap_new();
	long long nvideos = 0, nclusters = 0, npatterns = 0, nmetrics = 0;
	uint64_t hash = 0x70645f73746f7265ULL;
	float *cen = NULL;
	size_t cencap = 0;
	pd_record r = PD_RECORD_INIT;
	pd_input *in = cli_open_input(argc - optind, argv + optind);
	const char *line;
	size_t len;
	static const char *const drop_centroid[] = { "centroid_b64", "centroid", "embedding",
						     "embedding_b64", NULL };
	char type[32];
	while (cli_next_record(in, &line, &len, type)) {
		int kind = !strcmp(type, "video") ? 1 : !strcmp(type, "cluster") ? 2
			 : !strcmp(type, "pattern") ? 3 : !strcmp(type, "metric") ? 4 : 0;
		if (!kind) {
			if (passthrough)
				cli_passthrough(line, len);
			continue;
		}
		if (!started) {
			db_dim = dim = begin_run(&vb);
			started = 1;
			t_copy0 = mono_s();
		}
		if (pd_record_parse(&r, line, len, &err) < 0) {
			cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			continue;
		}
		if (has_nul_escape(line, len)) {
			cli_reject(CLI_POS(in), line, len, "\\u0000 in a string cannot be stored");
			continue;
		}
		const char *id = pd_json_str(r.json, "id");
		if (kind == 1) {
			pd_video v;
			if (pd_video_from_json(r.json, &v, &err) < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
			pd_video_release(&v);
			if (r.dim > 0 && dim > 0 && r.dim != dim) {
				cli_reject(CLI_POS(in), line, len,
					   "video '%s': embedding has %d dimensions, expected %d%s", id,
					   r.dim, dim, db_dim ? " (as stored in the database)" : "");
				continue;
			}
			int added;
			pd_strmap_intern(vids, id, strlen(id), &added);
			if (!added) {
				cli_reject(CLI_POS(in), line, len, "duplicate video id '%s' in this run", id);
				continue;
			}
			if (r.dim > 0 && dim == 0) {
				if (r.dim > 16000) {
					cli_reject(CLI_POS(in), line, len,
						   "embedding has %d dimensions, more than pgvector's 16000",
						   r.dim);
					continue;
				}
				dim = r.dim;
			}
			if (encode_video(&r, &vb, &other, &err) < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
			if (pc && r.dim > 0 && pd_pinecone_add(pc, id, r.emb, r.dim, &err) < 0)
				fail(&err);
			nvideos++;
			if (vb.len >= (1u << 20) && pd_db_copy_send(db, &vb, &err) < 0)
				fail(&err);
			cli_progress("videos", (unsigned long long)nvideos, 0);
		} else if (kind == 2 || kind == 3) {
			const char *what = kind == 2 ? "cluster" : "pattern";
			if (!id || !*id) {
				cli_reject(CLI_POS(in), line, len, "%s record without a string \"id\"", what);
				continue;
			}
			if (kind == 3 && !pd_json_str(r.json, "pattern_type")) {
				cli_reject(CLI_POS(in), line, len, "pattern '%s' has no string \"pattern_type\"", id);
				continue;
			}
			if (kind == 3 && pd_pattern_check(r.json, 1, &err) < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
			if (kind == 2 && !pd_json_str(r.json, "level")) {
				cli_reject(CLI_POS(in), line, len, "cluster '%s' has no string \"level\"", id);
				continue;
			}
			int cdim = 0;
			int cr = decode_centroid(&r, &cen, &cencap, &cdim, &err);
			if (cr < 0) {
				cli_reject(CLI_POS(in), line, len, "%s '%s': centroid: %s", what, id, err.msg);
				continue;
			}
			if (cr > 0 && dim > 0 && cdim != dim) {
				cli_reject(CLI_POS(in), line, len,
					   "%s '%s': centroid has %d dimensions, expected %d", what, id,
					   cdim, dim);
				continue;
			}
			int added;
			pd_strmap_intern(kind == 2 ? cids : pids, id, strlen(id), &added);
			if (!added) {
				cli_reject(CLI_POS(in), line, len, "duplicate %s id '%s' in this run", what, id);
				continue;
			}
			if (cr > 0 && dim == 0)
				dim = cdim;
			strip_record(&r, drop_centroid, &tmp);
			if (kind == 2) {
				pd_copy_row(&cl_rows, 7);
				pd_copy_text(&cl_rows, id, strlen(id));
				put_str(&cl_rows, str_item(r.json, "level"));
				put_str(&cl_rows, str_item(r.json, "parent"));
				put_int4(&cl_rows, int_item(r.json, "size", 0, 2e9));
				put_num(&cl_rows, num_item(r.json, "radius"));
				if (cr > 0)
					pd_copy_vector(&cl_rows, cen, cdim);
				else
					pd_copy_null(&cl_rows);
				pd_copy_jsonb(&cl_rows, tmp.p, tmp.len);
				nclusters++;
			} else {
				pd_copy_row(&pat_rows, 8);
				pd_copy_text(&pat_rows, id, strlen(id));
				put_str(&pat_rows, str_item(r.json, "pattern_type"));
				put_str(&pat_rows, str_item(r.json, "cluster"));
				put_str(&pat_rows, str_item(r.json, "level"));
				put_num(&pat_rows, num_item(r.json, "radius"));
				put_str(&pat_rows, str_item(r.json, "status"));
				if (cr > 0)
					pd_copy_vector(&pat_rows, cen, cdim);
				else
					pd_copy_null(&pat_rows);
				pd_copy_jsonb(&pat_rows, tmp.p, tmp.len);
				npatterns++;
			}
		} else {	/* metric */
			pd_copy_row(&met_rows, 9);
			pd_copy_int4(&met_rows, (int32_t)nmetrics);
			put_str(&met_rows, str_item(r.json, "stage"));
			put_num(&met_rows, num_item(r.json, "seconds"));
			put_int8(&met_rows, int_item(r.json, "records_in", 0, 9e15));
			put_int8(&met_rows, int_item(r.json, "records_out", 0, 9e15));
			put_int8(&met_rows, int_item(r.json, "rejected", 0, 9e15));
			const cJSON *pf = int_item(r.json, "patterns_found", 0, 2e9);
			put_int4(&met_rows, pf ? pf : int_item(r.json, "patterns", 0, 2e9));
			const cJSON *ca = int_item(r.json, "clusters_analyzed", 0, 2e9);
			put_int4(&met_rows, ca ? ca : int_item(r.json, "clusters", 0, 2e9));
			pd_copy_jsonb(&met_rows, line, len);
			nmetrics++;
		}
		hash = mix(hash, pd_hash64(line, len));	/* the stored records, in order */
		if (passthrough)
			cli_passthrough(line, len);
	}
	pd_input_free(in);
	pd_record_release(&r);
	if (!started) {
		cli_metric_str("result", "nothing to store");
		pd_pinecone_free(pc);
		pd_strmap_free(vids);
		pd_strmap_free(cids);
		pd_strmap_free(pids);
		return cli_finish();
	}
	if (pd_db_copy_end(db, &vb, &err) < 0)
		fail(&err);
	if (pc && pd_pinecone_flush(pc, &err) < 0)
		fail(&err);
	copy_buffered("COPY stage_clusters FROM STDIN (FORMAT binary)", &cl_rows);
	copy_buffered("COPY stage_patterns FROM STDIN (FORMAT binary)", &pat_rows);
	copy_buffered("COPY stage_metrics FROM STDIN (FORMAT binary)", &met_rows);
	double t_stage = mono_s() - t_copy0;

	cli_metric_num("videos", (double)nvideos);
	cli_metric_num("clusters", (double)nclusters);
	cli_metric_num("patterns", (double)npatterns);
	cli_metric_num("metrics", (double)nmetrics);
	pd_strmap_free(vids);
	pd_strmap_free(cids);
	pd_strmap_free(pids);
	pd_buf_release(&vb);
	pd_buf_release(&other);
	pd_buf_release(&tmp);
	pd_buf_release(&cl_rows);
	pd_buf_release(&pat_rows);
	pd_buf_release(&met_rows);
	free(cen);
	if (nvideos + nclusters + npatterns + nmetrics == 0) {
		exec_or_fail("ROLLBACK");
		PQfinish(db);
		pd_pinecone_free(pc);
		cli_metric_str("result", "nothing to store");
		return cli_finish();
	}

	/* The embedding dimension is fixed by the first run that has one. */
	if (db_dim == 0 && dim > 0 && pd_schema_set_dim(db, dim, &err) < 0)
		fail(&err);
	hash = mix(hash, (uint64_t)dim);
	char hashhex[24], dimtxt[16], counts[5][24];
	snprintf(hashhex, sizeof hashhex, "%016llx", (unsigned long long)hash);
	snprintf(dimtxt, sizeof dimtxt, "%d", dim);

	/* The same content as the latest run: that run again (nothing changes). */
	char run_id[24] = "";
	int reused = 0, discovery = nclusters + npatterns > 0;
	PGresult *res = pd_db_query(db, "SELECT run_id, content_hash FROM discovery_runs"
				    " ORDER BY run_id DESC LIMIT 1", 0, NULL, &err);
	if (!res)
		fail(&err);
	if (PQntuples(res) && !strcmp(PQgetvalue(res, 0, 1), hashhex)) {
		snprintf(run_id, sizeof run_id, "%s", PQgetvalue(res, 0, 0));
		reused = 1;
	}
	PQclear(res);
	if (!reused) {
		const char *p[4] = { discovery ? "superseded" : "loaded", hashhex,
				     dim > 0 ? dimtxt : NULL, "pd-store " PD_VERSION };
		res = pd_db_query(db, "INSERT INTO discovery_runs (status, content_hash,"
				  " embedding_dim, program) VALUES ($1, $2, $3::int, $4) RETURNING run_id",
				  4, p, &err);
		if (!res)
			fail(&err);
		snprintf(run_id, sizeof run_id, "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}

	long long changed = exec_run(upsert_videos_sql, run_id);
	long long ch_clusters = exec_run(upsert_clusters_sql, run_id);
	long long ch_patterns = exec_run(upsert_patterns_sql, run_id);
	long long ch_links = exec_run(video_patterns_sql, run_id);
	long long ch_metrics = exec_run(upsert_metrics_sql, run_id);
	long long pruned = 0;
	if (!reused) {
		snprintf(counts[0], sizeof counts[0], "%lld", nvideos);
		snprintf(counts[1], sizeof counts[1], "%lld", changed);
		snprintf(counts[2], sizeof counts[2], "%lld", nclusters);
		snprintf(counts[3], sizeof counts[3], "%lld", npatterns);
		snprintf(counts[4], sizeof counts[4], "%lld", nmetrics);
		char rej[24];
		snprintf(rej, sizeof rej, "%llu", cli.rejected);
		if (discovery) {
			const char *p1[1] = { run_id };
			res = pd_db_query(db, "UPDATE discovery_runs SET status = 'superseded'"
					  " WHERE status = 'active' AND run_id <> $1::bigint", 1, p1, &err);
			if (!res)
				fail(&err);
			PQclear(res);
		}
		const char *p[8] = { run_id, discovery ? "active" : "loaded", counts[0], counts[1],
				     counts[2], counts[3], counts[4], rej };
		res = pd_db_query(db, "UPDATE discovery_runs SET status = $2, videos = $3::bigint,"
				  " videos_changed = $4::bigint, clusters = $5::int, patterns = $6::int,"
				  " metrics = $7::int, rejected = $8::bigint, finished_at = clock_timestamp()"
				  " WHERE run_id = $1::bigint", 8, p, &err);
		if (!res)
			fail(&err);
		PQclear(res);
	}
	if (keep_runs > 0) {
		char k[24];
		snprintf(k, sizeof k, "%ld", keep_runs);
		const char *p[1] = { k };
		res = pd_db_query(db, "DELETE FROM discovery_runs WHERE status <> 'active' AND run_id <"
				  " (SELECT min(run_id) FROM (SELECT run_id FROM discovery_runs"
				  "  WHERE status IN ('active', 'superseded')"
				  "  ORDER BY run_id DESC LIMIT $1::int) k)", 1, p, &err);
		if (!res)
			fail(&err);
		pruned = strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
	}
	int built = 0;
	double hnsw_s = 0;
	if (dim > 0 && pd_schema_ensure_indexes(db, dim, &built, &hnsw_s, &err) < 0)
		fail(&err);
	long long anything = changed + ch_clusters + ch_patterns + ch_links + ch_metrics + pruned +
			     (reused ? 0 : 1);
	double t_refresh = mono_s();
	if (refresh && anything && pd_schema_refresh_views(db, &err) < 0)
		fail(&err);
	t_refresh = mono_s() - t_refresh;
	/* What was written so far (records passed through, --rejects) reaches its
	 * file before the commit: if it cannot, nothing is stored (exit 3) */
	cli_flush();
	if (cli.rejects && (fflush(cli.rejects) != 0 || ferror(cli.rejects)))
		cli_fatal(3, "cannot write '%s': %s", cli.rejects_path, strerror(errno));
	exec_or_fail("COMMIT");
	cli.write_status = 4;	/* stored: a write failing from here on says so */
	PQfinish(db);

	cli_metric_num("run_id", strtod(run_id, NULL));
	cli_metric_str("run", reused ? "repeat" : discovery ? "active" : "loaded");
	cli_metric_num("videos_changed", (double)changed);
	cli_metric_num("runs_pruned", (double)pruned);
	cli_metric_num("embedding_dim", dim);
	cli_metric_num("load_seconds", (double)(long)(t_stage * 1000) / 1000.0);
	if (built) {
		cli_metric_num("hnsw_indexes_built", built);
		cli_metric_num("hnsw_seconds", (double)(long)(hnsw_s * 1000) / 1000.0);
	}
	if (refresh && anything)
		cli_metric_num("refresh_seconds", (double)(long)(t_refresh * 1000) / 1000.0);
	if (pc) {
		cli_metric_num("pinecone_upserted", (double)pd_pinecone_count(pc));
		pd_pinecone_free(pc);
	}

	/* Caches: a new generation, so no reader meets an old run's values. */
	if (anything) {
		pd_cache *cache = pd_cache_open(NULL, 0, 0, &err);
		if (!cache && err.code) {
			cli_warn("%s; caches not invalidated", err.msg);
		} else if (cache) {
			long long g = pd_cache_bump_gen(cache, &err);
			if (g < 0)
				cli_warn("%s; caches not invalidated", err.msg);
			else
				cli_metric_num("cache_generation", (double)g);
			pd_cache_free(cache);
		}
	}
	return cli_finish();
}
