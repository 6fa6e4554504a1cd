/*
 * store.c — the run protocol of pd-store (see store.h): staging by binary
 * COPY, upserts by stable id, per-run cluster membership, the active-set
 * switch, pruning, indexes, view refresh, the cache generation.
 *
 * Why staging: records are encoded for binary COPY into temporary tables
 * as they are read, then moved into the real tables by set-based SQL.  A
 * video whose id the database does not hold (the ids are read at the start,
 * under the run's lock) skips that: its row is copied straight into videos
 * as it is read, so a million new videos are written once, never sit in
 * memory, and cost no INSERT ... ON CONFLICT.  Only one COPY can be under
 * way on the connection: the staged videos stream to stage_videos until
 * the first new one; from then on the staged rows (held videos, the
 * memberships of the new ones) are kept by the client, spilled to a
 * temporary file beyond 32 MB, and copied at the end, with the few
 * clusters, patterns and metrics.
 *
 * Why a content hash per video: a videos row keeps the hash of the record
 * it was stored from (less the membership); the hashes are read once at the
 * start of a run, and a video whose record has the same hash is staged as
 * its id and membership only, never written again.  (Comparing staged rows
 * with stored ones in SQL cost a join over the whole table, and INSERT ...
 * ON CONFLICT DO UPDATE ... WHERE still locks, so writes, every conflicting
 * row even when the WHERE refuses the update.)
 *
 * Why membership is a table of its own: a nightly re-clustering changes
 * every video's cluster but rarely the video; with the membership in
 * video_clusters (a narrow row per run and video, plain INSERT for a new
 * run) storing the re-run costs less than the first load did.
 *
 * The same input stored twice (the same records, byte for byte, metric
 * records included) is recognised by its content hash as the latest run
 * again and changes nothing.  The cache generation (pd:gen) is bumped after
 * the commit; a Redis failure is a warning, never a failed store.
 */
#include "pd.h"
#include "db.h"
#include "schema.h"
#include "store.h"
#include "cache.h"
#include "video.h"
#include "strmap.h"
#include "pattern.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Advisory lock key serialising runs: "pdst" */
#define STORE_LOCK "1885631348"

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
	" cluster_micro text, cluster_sim float8, other_fields jsonb, embedding vector,"
	" content_hash int8, unchanged bool) ON COMMIT DROP;"
	"CREATE TEMP TABLE stage_members (id text, macro text, meso text, micro text, sim float8)"
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
#define V_NCOLS 28	/* V_CLUSTER is 3 columns, then other_fields, embedding, content_hash, unchanged */
#define V_NDIRECT 24	/* a videos row: id, the video's 20 columns, embedding, content_hash, run_id */

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
	const cJSON *next;	/* the tree's child expected next (members come in text order) */
	unsigned seen;		/* the vkeys met so far */
	int irregular;		/* a key met with escapes: children found by name */
	uint64_t hash;		/* of every member but the membership (cluster, cluster_sim) */
	uint64_t all;		/* of every member: the record's part of the run's hash */
};

static uint64_t mix(uint64_t h, uint64_t x);

static int vscan_member(const pd_jmember *m, void *ud)
{
	struct vscan *s = ud;
	char key[64];
	int i = -1;
	/* each member hashed once, its two hashes mixed into both accumulators */
	uint64_t hk = pd_hash64(m->key, m->keylen), hv = pd_hash64(m->val, m->vallen);
	if (!(m->keylen == 7 && !memcmp(m->key, "cluster", 7)) &&
	    !(m->keylen == 11 && !memcmp(m->key, "cluster_sim", 11))) {
		s->hash = mix(s->hash, hk);
		s->hash = mix(s->hash, hv);
	}
	s->all = mix(mix(s->all, hk), hv);
	/* The tree's child of this member: the next one in text order (cJSON keeps
	   it; pd_record_parse leaves the embedding member out of the tree), so the
	   first member of a name is found without a search by name.  After a key
	   written with escapes (or very long) the children are found by name, as
	   before: the tree holds the key decoded. */
	int emb = (m->keylen == 9 && !memcmp(m->key, "embedding", 9)) ||
		  (m->keylen == 13 && !memcmp(m->key, "embedding_b64", 13));
	const cJSON *child = NULL;
	if (!emb) {
		child = s->next;
		s->next = child ? child->next : NULL;
	}
	if (m->keylen >= sizeof key || memchr(m->key, '\\', m->keylen))
		s->irregular = 1;
	else {
		memcpy(key, m->key, m->keylen);
		key[m->keylen] = 0;
		if (emb || !strcmp(key, "type"))
			return 0;
		i = vkey_index(key, m->keylen);
		if (i >= 0) {
			/* the first member of that name (cJSON_GetObjectItemCaseSensitive's) */
			const cJSON *it = !s->irregular && !(s->seen & (1u << i)) && child &&
					  child->string && !strcmp(child->string, key)
					? child : cJSON_GetObjectItemCaseSensitive(s->json, key);
			s->seen |= 1u << i;
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

static void put_text(pd_buf *b, const char *t)
{
	if (t)
		pd_copy_text(b, t, strlen(t));
	else
		pd_copy_null(b);
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

struct pd_store;
static int video_unchanged(const struct pd_store *st, const char *id, uint64_t hash);
static int video_direct(struct pd_store *st, const char *id, const pd_record *r, pd_buf **b,
			pd_buf **members, pd_err *err);
static long long st_run_id(const struct pd_store *st);

/*
 * encode_video: the video record r as one stage_videos row into b: whole,
 * or, when the videos row stored for its id came from a record with the
 * same content hash (the record less its membership), only its id and
 * membership, marked unchanged (its row is not written again).  A video
 * whose id the database does not hold (video_direct) is a videos row
 * instead, copied straight into the table, its membership a stage_members
 * row.  *fresh_emb is set when the row is whole and carries an embedding;
 * *rec_hash is the hash of the whole record (every member, the membership
 * too: the record's share of the run's content hash).  Returns 0, or -1 with err for a record the database could not take.
 */
static int encode_video(struct pd_store *st, const pd_record *r, pd_buf *b, pd_buf *other,
			int *fresh_emb, uint64_t *rec_hash, pd_err *err)
{
	struct vscan s;
	memset(&s, 0, sizeof s);
	s.json = r->json;
	s.other = other;
	s.hash = 0x766964656f73ULL;
	s.all = 0x7265636f7264ULL;
	s.next = r->json ? r->json->child : NULL;
	pd_buf_reset(other);
	if (pd_json_members(r->raw, r->rawlen, vscan_member, &s, err) < 0)
		return -1;
	if (other->len)
		pd_buf_addc(other, '}');
	*rec_hash = s.all;
	const cJSON *cl = s.item[V_CLUSTER];
	*fresh_emb = 0;
	if (s.item[V_ID] && video_unchanged(st, s.item[V_ID]->valuestring, s.hash)) {
		pd_copy_row(b, V_NCOLS);
		put_str(b, s.item[V_ID]);
		for (int i = V_CHANNEL_ID; i < V_CLUSTER; i++)
			pd_copy_null(b);
		put_str(b, cl ? cJSON_GetObjectItemCaseSensitive(cl, "macro") : NULL);
		put_str(b, cl ? cJSON_GetObjectItemCaseSensitive(cl, "meso") : NULL);
		put_str(b, cl ? cJSON_GetObjectItemCaseSensitive(cl, "micro") : NULL);
		put_num(b, s.item[V_CLUSTER_SIM]);
		pd_copy_null(b);	/* other_fields */
		pd_copy_null(b);	/* embedding */
		pd_copy_int8(b, (int64_t)s.hash);
		pd_copy_bool(b, 1);
		return 0;
	}
	*fresh_emb = r->dim > 0;
	pd_buf *members = NULL;
	if (s.item[V_ID]) {
		int d = video_direct(st, s.item[V_ID]->valuestring, r, &b, &members, err);
		if (d < 0)
			return -1;
	}
	if (members && (cl || s.item[V_CLUSTER_SIM])) {
		pd_copy_row(members, 5);
		put_str(members, s.item[V_ID]);
		put_str(members, cl ? cJSON_GetObjectItemCaseSensitive(cl, "macro") : NULL);
		put_str(members, cl ? cJSON_GetObjectItemCaseSensitive(cl, "meso") : NULL);
		put_str(members, cl ? cJSON_GetObjectItemCaseSensitive(cl, "micro") : NULL);
		put_num(members, s.item[V_CLUSTER_SIM]);
	}

	pd_copy_row(b, members ? V_NDIRECT : V_NCOLS);
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
	if (!members) {
		put_str(b, cl ? cJSON_GetObjectItemCaseSensitive(cl, "macro") : NULL);
		put_str(b, cl ? cJSON_GetObjectItemCaseSensitive(cl, "meso") : NULL);
		put_str(b, cl ? cJSON_GetObjectItemCaseSensitive(cl, "micro") : NULL);
		put_num(b, s.item[V_CLUSTER_SIM]);
	}
	if (other->len)
		pd_copy_jsonb(b, other->p, other->len);
	else
		pd_copy_null(b);
	if (r->dim > 0)
		pd_copy_vector(b, r->emb, r->dim);
	else
		pd_copy_null(b);
	pd_copy_int8(b, (int64_t)s.hash);
	if (members)
		pd_copy_int8(b, st_run_id(st));
	else
		pd_copy_bool(b, 0);
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

/* The video's own columns (not its membership), stored and staged alike. */
#define VCOLS(p) p "channel_id, " p "channel_title, " p "title, " p "description, " p "tags, " \
	p "category, " p "format, " p "published_at, " p "observed_at, " p "duration_s, " \
	p "views, " p "likes, " p "comments, " p "is_short, " p "age_days, " p "perf, " \
	p "perf_basis, " p "perf_reason, " p "extra, " p "other_fields"

/* The stored row equals the staged one (in ON CONFLICT's SET: v is the stored row). */
#define SAME_VIDEO "(" VCOLS("v.") ", v.embedding) IS NOT DISTINCT FROM" \
	" (" VCOLS("excluded.") ", coalesce(excluded.embedding, v.embedding))"

/*
 * The videos whose content hash differs from the stored one (see the file's
 * head); an embedding absent from the record keeps the stored one.  A row
 * whose content is the same (the hash of another form of it, or a row of an
 * older schema without a hash) gets the hash but keeps its run_id and
 * updated_at, which say when the video last changed.
 */
static const char upsert_videos_sql[] =
	"WITH w AS (INSERT INTO videos AS v (id, " VCOLS("") ", embedding, content_hash, run_id)"
	" SELECT s.id, " VCOLS("s.") ", s.embedding, s.content_hash, $1::bigint"
	" FROM stage_videos s WHERE NOT s.unchanged"
	" ON CONFLICT (id) DO UPDATE SET"
	" run_id = CASE WHEN " SAME_VIDEO " THEN v.run_id ELSE excluded.run_id END,"
	" updated_at = CASE WHEN " SAME_VIDEO " THEN v.updated_at ELSE now() END,"
	" channel_id = excluded.channel_id,"
	" channel_title = excluded.channel_title, title = excluded.title,"
	" description = excluded.description, tags = excluded.tags, category = excluded.category,"
	" format = excluded.format, published_at = excluded.published_at,"
	" observed_at = excluded.observed_at, duration_s = excluded.duration_s,"
	" views = excluded.views, likes = excluded.likes, comments = excluded.comments,"
	" is_short = excluded.is_short, age_days = excluded.age_days, perf = excluded.perf,"
	" perf_basis = excluded.perf_basis, perf_reason = excluded.perf_reason,"
	" extra = excluded.extra, other_fields = excluded.other_fields,"
	" embedding = coalesce(excluded.embedding, v.embedding),"
	" content_hash = excluded.content_hash"
	" RETURNING updated_at = now() AS changed)"
	" SELECT count(*) FILTER (WHERE changed), count(*) FROM w";

/* The run's memberships: those of staged videos, and those of videos copied straight in. */
#define RUN_MEMBERS \
	" SELECT $1::bigint, id, cluster_macro, cluster_meso, cluster_micro, cluster_sim" \
	" FROM stage_videos" \
	" WHERE num_nonnulls(cluster_macro, cluster_meso, cluster_micro, cluster_sim) > 0" \
	" UNION ALL SELECT $1::bigint, id, macro, meso, micro, sim FROM stage_members"

/* A new discovery run's membership: its own rows, nothing to compare with. */
static const char insert_members_sql[] =
	"INSERT INTO video_clusters (run_id, video_id, macro, meso, micro, sim)" RUN_MEMBERS;

/* Videos placed in an existing hierarchy: a record without a level keeps the stored one. */
static const char upsert_members_sql[] =
	"INSERT INTO video_clusters AS m (run_id, video_id, macro, meso, micro, sim)" RUN_MEMBERS
	" ON CONFLICT (run_id, video_id) DO UPDATE SET"
	" macro = coalesce(excluded.macro, m.macro), meso = coalesce(excluded.meso, m.meso),"
	" micro = coalesce(excluded.micro, m.micro), sim = coalesce(excluded.sim, m.sim)"
	" WHERE (m.macro, m.meso, m.micro, m.sim) IS DISTINCT FROM"
	" (coalesce(excluded.macro, m.macro), coalesce(excluded.meso, m.meso),"
	" coalesce(excluded.micro, m.micro), coalesce(excluded.sim, m.sim))";

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

/*
 * The original guide's shapes: pattern_data and performance_stats from the
 * record, by lib/pattern's rules (pd_pattern_sql_data, pd_pattern_sql_perf:
 * the compatibility path for older records lives there, not here).
 */
/* The ancestors are walked up from the patterns' own clusters only, and
 * joined by hash (a correlated subquery per pattern over every cluster's
 * ancestors took 11 s for the 764 patterns and 33,375 clusters of a
 * million videos). */
static const char upsert_patterns_head[] =
	"WITH RECURSIVE anc AS ("
	"  SELECT id AS start, id, parent, level, 0 AS depth FROM stage_clusters"
	"  WHERE id IN (SELECT cluster_id FROM stage_patterns)"
	"  UNION ALL SELECT a.start, c.id, c.parent, c.level, a.depth + 1"
	"  FROM anc a JOIN stage_clusters c ON c.id = a.parent WHERE a.depth < 8),"
	" hier AS (SELECT start, jsonb_agg(jsonb_build_object('level', level, 'id', id)"
	"  ORDER BY depth DESC) AS path FROM anc GROUP BY start),"
	" src AS (SELECT s.*, s.record->'stats' AS st, h.path FROM stage_patterns s"
	"  LEFT JOIN hier h ON h.start = s.cluster_id)"
	" INSERT INTO patterns AS p (run_id, id, pattern_type, pattern_data, performance_stats,"
	" centroid_embedding, semantic_radius, cluster_id, cluster_level, cluster_hierarchy,"
	" feature, status, validation, record)"
	" SELECT $1::bigint, s.id, s.pattern_type, ";
static const char upsert_patterns_tail[] =
	",  s.centroid, s.radius, s.cluster_id, s.cluster_level,"
	"  CASE WHEN s.cluster_id IS NOT NULL THEN jsonb_build_object('level', s.cluster_level,"
	"   'cluster', s.cluster_id, 'path', s.path) END,"
	"  s.record->'feature', s.status, s.record->'validation', s.record"
	" FROM src s"
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

static void upsert_patterns_sql(pd_buf *b)
{
	pd_buf_adds(b, upsert_patterns_head);
	pd_buf_adds(b, pd_pattern_sql_data);
	pd_buf_adds(b, ", ");
	pd_buf_adds(b, pd_pattern_sql_perf);
	pd_buf_adds(b, upsert_patterns_tail);
}

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
	/* from backslash to backslash by memchr (9% of pd-store's CPU as a byte loop) */
	for (const char *p = s, *end = s + n; (p = memchr(p, '\\', (size_t)(end - p))) != NULL;) {
		if (end - p < 2)
			break;
		if (end - p >= 6 && !memcmp(p + 1, "u0000", 5))
			return 1;
		p += 2;	/* the backslash and the escaped character */
	}
	return 0;
}

/* ---- the run ------------------------------------------------------------ */

/*
 * A spool: rows of a staging table kept until the end of the run (only one
 * COPY can be under way on the connection: the one into videos), in memory
 * up to SPOOL_MEM, the rest in a temporary file.
 */
#define SPOOL_MEM (32u << 20)
struct spool {
	pd_buf b;
	FILE *f;
};

static int spool_check(struct spool *sp, pd_err *err)
{
	if (sp->b.len < SPOOL_MEM)
		return 0;
	if (!sp->f && !(sp->f = tmpfile()))
		return pd_err_set(err, PD_ESERVICE, "staging file: %s", strerror(errno));
	if (fwrite(sp->b.p, 1, sp->b.len, sp->f) != sp->b.len)
		return pd_err_set(err, PD_ESERVICE, "staging file: %s", strerror(errno));
	pd_buf_reset(&sp->b);
	return 0;
}

static void spool_free(struct spool *sp)
{
	if (sp->f)
		fclose(sp->f);
	pd_buf_release(&sp->b);
}

/* COPY the spooled rows (sql: COPY ... FROM STDIN (FORMAT binary)). */
static int copy_spool(PGconn *c, const char *sql, struct spool *sp, pd_err *err)
{
	pd_buf b = PD_BUF_INIT;
	int rc = -1;
	if (pd_db_copy_begin(c, sql, &b, err) < 0)
		goto out;
	if (sp->f) {
		if (fflush(sp->f) != 0 || fseek(sp->f, 0, SEEK_SET) != 0) {
			pd_err_set(err, PD_ESERVICE, "staging file: %s", strerror(errno));
			pd_db_copy_abort(c, "staging file");
			goto out;
		}
		char chunk[1 << 16];
		size_t n;
		while ((n = fread(chunk, 1, sizeof chunk, sp->f)) > 0) {
			pd_buf_add(&b, chunk, n);
			if (b.len >= (4u << 20) && pd_db_copy_send(c, &b, err) < 0)
				goto out;
		}
	}
	pd_buf_add(&b, sp->b.p, sp->b.len);
	rc = pd_db_copy_end(c, &b, err) < 0 ? -1 : 0;
out:
	pd_buf_release(&b);
	return rc;
}

struct pd_store {
	PGconn *db;
	pd_store_opts o;
	int state;		/* 0 staging, 1 finished (before COMMIT), 2 committed, 3 void */
	int db_dim, dim;
	double t0;
	pd_buf vb, other, tmp, cl_rows, pat_rows, met_rows;
	pd_strmap *vids, *cids, *pids;
	long long nvideos, nclusters, npatterns, nmetrics;
	uint64_t hash;
	float *cen;
	size_t cencap;
	int reindex;		/* build the video index after the commit */
	long long fresh_emb;	/* whole rows staged with an embedding */
	pd_strmap *stored;	/* the stored videos' ids ... */
	uint64_t *stored_hash;	/* ... their content hash, by the map's index ... */
	unsigned char *stored_has;	/* ... when they have one */
	struct spool stage, members;	/* stage_videos, stage_members rows until the end */
	pd_buf sv;		/* the COPY into stage_videos while stage_copy */
	int stage_copy;		/* COPY into stage_videos under way (until the first direct row) */
	int direct;		/* 1 COPY into videos under way (vb), 0 not yet, -1 never */
	int dim_set;		/* the dimension fixed in this transaction already */
	long long run_id;	/* the run's id, taken for the first videos row copied */
	long long ndirect;	/* videos rows copied straight into videos */
};

static long long st_run_id(const struct pd_store *s)
{
	return s->run_id;
}

static long long query_num(PGconn *c, const char *sql, const char *p1, pd_err *err);
static int video_index_exists(PGconn *c, pd_err *err);

static int video_unchanged(const struct pd_store *s, const char *id, uint64_t hash)
{
	if (!s->stored)
		return 0;
	int i = pd_strmap_find(s->stored, id, strlen(id));
	return i >= 0 && s->stored_has[i] && s->stored_hash[i] == hash;
}

/* The columns of a videos row as copied straight in (encode_video, V_NDIRECT). */
static const char copy_videos_sql[] =
	"COPY videos (id, " VCOLS("") ", embedding, content_hash, run_id) FROM STDIN (FORMAT binary)";

/*
 * video_direct: does the video id go straight into videos?  When the
 * database does not hold it (its ids were all read at the start, under the
 * lock that makes runs take turns) and the embedding dimension is fixed:
 * then *b is the COPY into videos, started here for the first one (the run
 * id taken for it), and *members the membership spool.  Not when the video
 * index exists (an HNSW insertion per row is the slow path: those runs stage
 * and drop the index first), nor for an id that COPY's text output escapes
 * (it could be stored under a form load_hashes did not recognise).
 * Returns 1 direct, 0 staged, -1 with err.
 */
static int video_direct(struct pd_store *s, const char *id, const pd_record *r, pd_buf **b,
			pd_buf **members, pd_err *err)
{
	(void)r;
	/* (a halfvec column, beyond 2,000 dimensions, takes the staged vector by a cast) */
	if (s->direct < 0 || s->dim == 0 || s->dim > 2000 ||
	    (s->stored && pd_strmap_find(s->stored, id, strlen(id)) >= 0))
		return 0;
	for (const unsigned char *p = (const unsigned char *)id; *p; p++)
		if (*p < 0x20 || *p == '\\' || *p == 0x7f)
			return 0;
	if (!s->direct) {
		/* one COPY at a time: the staged rows from here on are spooled */
		if (s->stage_copy) {
			s->stage_copy = 0;
			if (pd_db_copy_end(s->db, &s->sv, err) < 0)
				return -1;
		}
		/* the column's type first: typing it after the rows would rewrite them */
		if (s->db_dim == 0 && !s->dim_set) {
			if (pd_schema_set_dim(s->db, s->dim, err) < 0)
				return -1;
			s->dim_set = 1;
		}
		s->run_id = query_num(s->db, "SELECT nextval(pg_get_serial_sequence('discovery_runs',"
				      " 'run_id'))", NULL, err);
		if (s->run_id < 0 || pd_db_copy_begin(s->db, copy_videos_sql, &s->vb, err) < 0)
			return -1;
		s->direct = 1;
	}
	*b = &s->vb;
	*members = &s->members.b;
	s->ndirect++;
	return 1;
}

/* A field of COPY's text output unescaped in place (\\, \t, \n, ...); its new length. */
static size_t copy_unescape(char *f, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = f[i];
		if (ch == '\\' && i + 1 < n) {
			ch = f[++i];
			ch = ch == 't' ? '\t' : ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch == 'b' ? '\b'
			   : ch == 'f' ? '\f' : ch == 'v' ? '\v' : ch;
		}
		f[o++] = ch;
	}
	return o;
}

/*
 * load_hashes: the ids of the stored videos and their content hashes, read
 * once at the start of a run (COPY TO: about a second per million videos),
 * so a video whose record did not change is not sent again, and one whose
 * id is not held is copied straight into videos (video_direct).
 */
static int load_hashes(pd_store *s, pd_err *err)
{
	PGconn *c = s->db;
	long long any = query_num(c, "SELECT count(*) FROM (SELECT 1 FROM videos LIMIT 1) x", NULL,
				  err);
	if (any <= 0)
		return (int)any;
	PGresult *r = PQexec(c, "COPY (SELECT id, content_hash FROM videos) TO STDOUT");
	if (PQresultStatus(r) != PGRES_COPY_OUT) {
		PQclear(r);
		return pd_db_error(c, "database: reading content hashes", err);
	}
	PQclear(r);
	s->stored = pd_strmap_new();
	size_t cap = 0;
	char *row;
	int n;
	while ((n = PQgetCopyData(c, &row, 0)) > 0) {
		char *tab = memchr(row, '\t', (size_t)n);
		if (tab) {
			size_t idlen = copy_unescape(row, (size_t)(tab - row));
			int added, i = pd_strmap_intern(s->stored, row, idlen, &added);
			if ((size_t)i >= cap) {
				cap = cap ? 2 * cap : 4096;
				s->stored_hash = xreallocarray(s->stored_hash, cap, sizeof *s->stored_hash);
				s->stored_has = xreallocarray(s->stored_has, cap, 1);
			}
			s->stored_has[i] = tab[1] != '\\';	/* \N: no hash */
			s->stored_hash[i] = s->stored_has[i] ? (uint64_t)strtoll(tab + 1, NULL, 10) : 0;
		}
		PQfreemem(row);
	}
	int failed = n == -2;
	while ((r = PQgetResult(c)) != NULL) {
		failed |= PQresultStatus(r) != PGRES_COMMAND_OK;
		PQclear(r);
	}
	return failed ? pd_db_error(c, "database: reading content hashes", err) : 0;
}

int pd_store_kind(const char *type)
{
	return !strcmp(type, "video") ? PD_STORE_VIDEO : !strcmp(type, "cluster") ? PD_STORE_CLUSTER
	     : !strcmp(type, "pattern") ? PD_STORE_PATTERN : !strcmp(type, "metric") ? PD_STORE_METRIC
	     : PD_STORE_NONE;
}

int pd_store_db_dim(const pd_store *s)
{
	return s->db_dim;
}

int pd_store_begin(pd_store **out, PGconn *c, const pd_store_opts *o, pd_err *err)
{
	*out = NULL;
	if (pd_db_exec(c, "SET temp_buffers = '256MB'", err) < 0 || pd_db_exec(c, "BEGIN", err) < 0)
		return -1;
	int d;
	if (pd_db_exec(c, "SELECT pg_advisory_xact_lock(" STORE_LOCK ")", err) < 0 ||
	    pd_db_exec(c, "SET LOCAL maintenance_work_mem = '1GB';"
		       "SET LOCAL client_min_messages = warning;"
		       /* the temporary tables have no statistics: their default
			  estimates made JIT compile the upserts (1.2 s of a run) */
		       "SET LOCAL jit = off", err) < 0 ||
	    pd_db_exec(c, stage_sql, err) < 0 || (d = pd_schema_get_dim(c, err)) < 0) {
		pd_db_exec(c, "ROLLBACK", NULL);
		return -1;
	}
	pd_store *s = xcalloc(1, sizeof *s);
	s->db = c;
	s->o = *o;
	s->db_dim = s->dim = d;
	s->t0 = mono_s();
	s->hash = 0x70645f73746f7265ULL;
	s->vids = pd_strmap_new();
	s->cids = pd_strmap_new();
	s->pids = pd_strmap_new();
	int vi = d > 0 ? video_index_exists(c, err) : 0;
	if (vi > 0)
		s->direct = -1;
	if (vi < 0 || load_hashes(s, err) < 0 ||
	    pd_db_copy_begin(c, "COPY stage_videos FROM STDIN (FORMAT binary)", &s->sv, err) < 0) {
		pd_db_exec(c, "ROLLBACK", NULL);
		pd_store_free(s);
		return -1;
	}
	s->stage_copy = 1;
	*out = s;
	return 0;
}

/* A refused record: PD_EREC with the message. */
#define REFUSE(...) pd_err_set(err, PD_EREC, __VA_ARGS__)

static int add_video(pd_store *s, const pd_record *r, const char *id, uint64_t *rec_hash,
		     pd_err *err)
{
	pd_video v;
	if (pd_video_from_json(r->json, &v, err) < 0)
		return -1;
	pd_video_release(&v);
	if (r->dim > 0 && s->dim > 0 && r->dim != s->dim)
		return REFUSE("video '%s': embedding has %d dimensions, expected %d%s", id, r->dim,
			      s->dim, s->db_dim ? " (as stored in the database)" : "");
	int added;
	pd_strmap_intern(s->vids, id, strlen(id), &added);
	if (!added)
		return REFUSE("duplicate video id '%s' in this run", id);
	if (r->dim > 0 && s->dim == 0) {
		if (r->dim > 16000)
			return REFUSE("embedding has %d dimensions, more than pgvector's 16000", r->dim);
		s->dim = r->dim;
	}
	int fresh;
	if (encode_video(s, r, s->stage_copy ? &s->sv : &s->stage.b, &s->other, &fresh, rec_hash,
			 err) < 0) {
		if (err->code != PD_ESERVICE)
			err->code = PD_EREC;
		return -1;
	}
	s->fresh_emb += fresh;
	s->nvideos++;
	if (s->direct == 1 && s->vb.len >= (4u << 20) && pd_db_copy_send(s->db, &s->vb, err) < 0)
		return -1;
	if (s->stage_copy && s->sv.len >= (4u << 20) && pd_db_copy_send(s->db, &s->sv, err) < 0)
		return -1;
	if (spool_check(&s->stage, err) < 0 || spool_check(&s->members, err) < 0)
		return -1;
	return 0;
}

static int add_cluster_or_pattern(pd_store *s, int kind, const pd_record *r, const char *id,
				  pd_err *err)
{
	static const char *const drop_centroid[] = { "centroid_b64", "centroid", "embedding",
						     "embedding_b64", NULL };
	const char *what = kind == PD_STORE_CLUSTER ? "cluster" : "pattern";
	if (!id || !*id)
		return REFUSE("%s record without a string \"id\"", what);
	if (kind == PD_STORE_PATTERN && !pd_json_str(r->json, "pattern_type"))
		return REFUSE("pattern '%s' has no string \"pattern_type\"", id);
	if (kind == PD_STORE_PATTERN && pd_pattern_check(r->json, 1, err) < 0) {
		err->code = PD_EREC;
		return -1;
	}
	if (kind == PD_STORE_CLUSTER && !pd_json_str(r->json, "level"))
		return REFUSE("cluster '%s' has no string \"level\"", id);
	int cdim = 0;
	pd_err e;
	int cr = decode_centroid(r, &s->cen, &s->cencap, &cdim, &e);
	if (cr < 0)
		return REFUSE("%s '%s': centroid: %s", what, id, e.msg);
	if (cr > 0 && s->dim > 0 && cdim != s->dim)
		return REFUSE("%s '%s': centroid has %d dimensions, expected %d", what, id, cdim,
			      s->dim);
	int added;
	pd_strmap_intern(kind == PD_STORE_CLUSTER ? s->cids : s->pids, id, strlen(id), &added);
	if (!added)
		return REFUSE("duplicate %s id '%s' in this run", what, id);
	if (cr > 0 && s->dim == 0)
		s->dim = cdim;
	strip_record(r, drop_centroid, &s->tmp);
	if (kind == PD_STORE_CLUSTER) {
		pd_buf *b = &s->cl_rows;
		pd_copy_row(b, 7);
		pd_copy_text(b, id, strlen(id));
		put_str(b, str_item(r->json, "level"));
		put_str(b, str_item(r->json, "parent"));
		put_int4(b, int_item(r->json, "size", 0, 2e9));
		put_num(b, num_item(r->json, "radius"));
		if (cr > 0)
			pd_copy_vector(b, s->cen, cdim);
		else
			pd_copy_null(b);
		pd_copy_jsonb(b, s->tmp.p, s->tmp.len);
		s->nclusters++;
	} else {
		/* the columns from lib/pattern's reader (radius: or semantic_radius) */
		pd_pattern p;
		if (pd_pattern_read(r->json, &p, err) < 0) {
			pd_pattern_release(&p);
			return -1;
		}
		pd_buf *b = &s->pat_rows;
		pd_copy_row(b, 8);
		pd_copy_text(b, id, strlen(id));
		put_text(b, p.pattern_type);
		put_text(b, p.cluster);
		put_text(b, p.level);
		if (isfinite(p.radius))
			pd_copy_float8(b, p.radius);
		else
			pd_copy_null(b);
		put_text(b, p.status);
		pd_pattern_release(&p);
		if (cr > 0)
			pd_copy_vector(b, s->cen, cdim);
		else
			pd_copy_null(b);
		pd_copy_jsonb(b, s->tmp.p, s->tmp.len);
		s->npatterns++;
	}
	return 0;
}

/* One metric row: the record's figures as columns, the record whole in data. */
static void put_metric(pd_buf *b, int seq, const cJSON *j, const char *raw, size_t len)
{
	pd_copy_row(b, 9);
	pd_copy_int4(b, (int32_t)seq);
	put_str(b, str_item(j, "stage"));
	put_num(b, num_item(j, "seconds"));
	put_int8(b, int_item(j, "records_in", 0, 9e15));
	put_int8(b, int_item(j, "records_out", 0, 9e15));
	put_int8(b, int_item(j, "rejected", 0, 9e15));
	/* patterns found: the stage's own figure; pd-validate's is what it let
	   through (validated and provisional), not the candidates it examined */
	const cJSON *pf = int_item(j, "patterns_found", 0, 2e9), *st = str_item(j, "stage");
	const cJSON *va = int_item(j, "validated", 0, 2e9), *pr = int_item(j, "provisional", 0, 2e9);
	if (!pf && va && st && !strcmp(st->valuestring, "validate"))
		pd_copy_int4(b, (int32_t)(va->valuedouble + (pr ? pr->valuedouble : 0)));
	else
		put_int4(b, pf ? pf : int_item(j, "patterns", 0, 2e9));
	const cJSON *ca = int_item(j, "clusters_analyzed", 0, 2e9);
	put_int4(b, ca ? ca : int_item(j, "clusters", 0, 2e9));
	pd_copy_jsonb(b, raw, len);
}

int pd_store_add(pd_store *s, int kind, const pd_record *r, pd_err *err)
{
	if (s->state != 0)
		return pd_err_set(err, PD_EUSAGE, "pd_store_add after pd_store_finish");
	if (has_nul_escape(r->raw, r->rawlen))
		return REFUSE("\\u0000 in a string cannot be stored");
	const char *id = pd_json_str(r->json, "id");
	int rc;
	uint64_t rh = 0;
	switch (kind) {
	case PD_STORE_VIDEO:
		rc = add_video(s, r, id, &rh, err);
		break;
	case PD_STORE_CLUSTER: case PD_STORE_PATTERN:
		rc = add_cluster_or_pattern(s, kind, r, id, err);
		break;
	case PD_STORE_METRIC:
		put_metric(&s->met_rows, (int)s->nmetrics, r->json, r->raw, r->rawlen);
		s->nmetrics++;
		rc = 0;
		break;
	default:
		return pd_err_set(err, PD_EUSAGE, "pd_store_add: not a stored kind");
	}
	/* the stored records, in order (a video's hash made as it was scanned) */
	if (rc == 0)
		s->hash = mix(s->hash, kind == PD_STORE_VIDEO ? rh : pd_hash64(r->raw, r->rawlen));
	return rc;
}

/* Copy a buffered staging table (rows already encoded in rows). */
static int copy_buffered(PGconn *c, const char *sql, const pd_buf *rows, pd_err *err)
{
	pd_buf b = PD_BUF_INIT;
	int rc = -1;
	if (pd_db_copy_begin(c, sql, &b, err) == 0) {
		pd_buf_add(&b, rows->p, rows->len);
		rc = pd_db_copy_end(c, &b, err) < 0 ? -1 : 0;
	}
	pd_buf_release(&b);
	return rc;
}

/* Run one command with the run id as $1 (and p2 as $2 when not NULL); rows affected. */
static long long exec_run(PGconn *c, const char *sql, const char *run_id, const char *p2,
			  pd_err *err)
{
	const char *p[2] = { run_id, p2 };
	PGresult *r = pd_db_query(c, sql, p2 ? 2 : 1, p, err);
	if (!r)
		return -1;
	long long n = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return n;
}

/* The first column of the first row of a one-row query, as a number (-1 with err). */
static long long query_num(PGconn *c, const char *sql, const char *p1, pd_err *err)
{
	const char *p[1] = { p1 };
	PGresult *r = pd_db_query(c, sql, p1 ? 1 : 0, p, err);
	if (!r)
		return -1;
	long long n = PQntuples(r) && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
							     : 0;
	PQclear(r);
	return n;
}

static double ms3(double s)
{
	return round(s * 1000) / 1000;
}

/* pd-store's own metric row: its figures as the stream's metric records carry them. */
static int store_metric_row(pd_store *s, const char *run_id, double seconds, long long in,
			    long long out, long long rejected, const pd_store_result *res,
			    pd_err *err)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "type", "metric");
	cJSON_AddStringToObject(m, "stage", "store");
	cJSON_AddNumberToObject(m, "seconds", ms3(seconds));
	cJSON_AddNumberToObject(m, "records_in", (double)in);
	cJSON_AddNumberToObject(m, "records_out", (double)out);
	cJSON_AddNumberToObject(m, "rejected", (double)rejected);
	cJSON_AddNumberToObject(m, "videos", (double)res->videos);
	cJSON_AddNumberToObject(m, "videos_changed", (double)res->videos_changed);
	cJSON_AddNumberToObject(m, "memberships", (double)res->memberships);
	cJSON_AddNumberToObject(m, "clusters", (double)res->clusters);
	cJSON_AddNumberToObject(m, "patterns", (double)res->patterns);
	cJSON_AddNumberToObject(m, "metrics", (double)res->metrics);
	cJSON_AddNumberToObject(m, "load_seconds", ms3(res->load_seconds));
	char *txt = cJSON_PrintUnformatted(m);
	cJSON_Delete(m);
	char seq[24], secs[32], n[3][24];
	snprintf(seq, sizeof seq, "%lld", s->nmetrics);
	snprintf(secs, sizeof secs, "%.3f", seconds);
	snprintf(n[0], sizeof n[0], "%lld", in);
	snprintf(n[1], sizeof n[1], "%lld", out);
	snprintf(n[2], sizeof n[2], "%lld", rejected);
	const char *p[7] = { run_id, seq, secs, n[0], n[1], n[2], txt };
	PGresult *r = pd_db_query(s->db, "INSERT INTO pattern_discovery_metrics (run_id, seq, stage,"
				  " seconds, records_in, records_out, rejected, data) VALUES"
				  " ($1::bigint, $2::int, 'store', $3::float8, $4::bigint, $5::bigint,"
				  " $6::bigint, $7::jsonb)", 7, p, err);
	cJSON_free(txt);
	if (!r)
		return -1;
	PQclear(r);
	return 0;
}

/* The index of videos.embedding: does it exist? */
static int video_index_exists(PGconn *c, pd_err *err)
{
	return (int)query_num(c, "SELECT count(*) FROM pg_class WHERE relname = 'videos_embedding_hnsw'"
			      " AND relnamespace = current_schema()::regnamespace", NULL, err);
}

/*
 * drop_centroid_index: before a run bringing many clusters is written,
 * drop the HNSW index of cluster centroids, so that it is built again in one
 * pass after the commit, concurrently (build_centroid_index): inserting
 * 33,375 centroids into the index row by row took 71 s (a million videos'
 * run, the index holding a 100,000-video run's 3,212), building the index
 * over all 36,587 took 8.7 s (10 to 16 s at a load average of 5 to 6),
 * which the run's readers need not wait for: a query by centroid between the
 * drop and the build reads the clusters without the index.  The drop is DROP INDEX CONCURRENTLY on a second connection
 * (committed at once, never blocking readers of clusters; a DROP INDEX in
 * the run's transaction would lock them out until the commit); it needs no
 * lock that this transaction holds (the dimension was fixed by an earlier
 * run: nothing of this run has touched clusters yet).  It is done when the
 * run brings PD_STORE_REINDEX_MIN clusters or more and at least an eighth
 * of the rows the table will hold (a build costs about an eighth of an
 * insertion per row); a failure (a reader holding clusters past the lock
 * timeout) leaves the index, and the rows are inserted into it.  A run that
 * is then rolled back (or killed before the build) leaves the index missing
 * until the next run builds it (pd_schema_ensure_indexes, in its
 * transaction); an index left invalid by a failed drop or build likewise.
 * Returns 1 dropped, 0 not.
 */
static int drop_centroid_index(pd_store *s)
{
	if (s->db_dim == 0 || s->dim_set || s->nclusters < PD_STORE_REINDEX_MIN)
		return 0;
	pd_err e;
	PGresult *r = pd_db_query(s->db, "SELECT greatest(reltuples, 0)::bigint FROM pg_class"
				  " WHERE oid = to_regclass('clusters_centroid_hnsw')", 0, NULL, &e);
	if (!r)
		return 0;
	long long held = PQntuples(r) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	PQclear(r);
	if (held < 0 || s->nclusters * 8 < held + s->nclusters)
		return 0;
	PGconn *d = pd_db_connect_like(s->db, &e);
	if (!d)
		return 0;
	int ok = pd_db_exec(d, "SET lock_timeout = '5s'", &e) == 0 &&
		 pd_db_exec(d, "DROP INDEX CONCURRENTLY IF EXISTS clusters_centroid_hnsw", &e) == 0;
	PQfinish(d);
	return ok;
}

static int finish(pd_store *s, double seconds, long long rin, long long rout, long long rejected,
		  pd_store_result *res, pd_err *err)
{
	PGconn *c = s->db;
	int sc = s->stage_copy;
	s->stage_copy = 0;
	if ((sc && pd_db_copy_end(c, &s->sv, err) < 0) ||
	    (s->direct == 1 && pd_db_copy_end(c, &s->vb, err) < 0) ||
	    copy_spool(c, "COPY stage_videos FROM STDIN (FORMAT binary)", &s->stage, err) < 0 ||
	    copy_spool(c, "COPY stage_members FROM STDIN (FORMAT binary)", &s->members, err) < 0 ||
	    copy_buffered(c, "COPY stage_clusters FROM STDIN (FORMAT binary)", &s->cl_rows, err) < 0 ||
	    copy_buffered(c, "COPY stage_patterns FROM STDIN (FORMAT binary)", &s->pat_rows, err) < 0 ||
	    copy_buffered(c, "COPY stage_metrics FROM STDIN (FORMAT binary)", &s->met_rows, err) < 0)
		return -1;
	res->videos = s->nvideos;
	res->clusters = s->nclusters;
	res->patterns = s->npatterns;
	res->metrics = s->nmetrics;
	res->embedding_dim = s->dim;
	res->load_seconds = mono_s() - s->t0;
	if (s->nvideos + s->nclusters + s->npatterns + s->nmetrics == 0)
		return 0;	/* nothing to store: rolled back by the caller */
	double tw = mono_s();

	/* The embedding dimension is fixed by the first run that has one. */
	if (s->db_dim == 0 && !s->dim_set && s->dim > 0 && pd_schema_set_dim(c, s->dim, err) < 0)
		return -1;
	uint64_t hash = mix(s->hash, (uint64_t)s->dim);
	char hashhex[24], dimtxt[16];
	snprintf(hashhex, sizeof hashhex, "%016llx", (unsigned long long)hash);
	snprintf(dimtxt, sizeof dimtxt, "%d", s->dim);

	/* The same content as the latest run: that run again (nothing changes). */
	char run_id[24] = "";
	int reused = 0, discovery = s->nclusters + s->npatterns > 0;
	PGresult *q = pd_db_query(c, "SELECT run_id, content_hash FROM discovery_runs"
				  " ORDER BY run_id DESC LIMIT 1", 0, NULL, err);
	if (!q)
		return -1;
	if (!s->ndirect && PQntuples(q) && !strcmp(PQgetvalue(q, 0, 1), hashhex)) {
		snprintf(run_id, sizeof run_id, "%s", PQgetvalue(q, 0, 0));
		reused = 1;
	}
	PQclear(q);
	if (!reused) {
		char rid[24];
		snprintf(rid, sizeof rid, "%lld", s->run_id);
		const char *p[5] = { discovery ? "superseded" : "loaded", hashhex,
				     s->dim > 0 ? dimtxt : NULL, s->o.program, s->run_id ? rid : NULL };
		/* the run id taken for the videos copied straight in, else the next one */
		q = pd_db_query(c, "INSERT INTO discovery_runs (run_id, status, content_hash,"
				" embedding_dim, program) VALUES (coalesce($5::bigint,"
				" nextval(pg_get_serial_sequence('discovery_runs', 'run_id'))),"
				" $1, $2, $3::int, $4) RETURNING run_id", 5, p, err);
		if (!q)
			return -1;
		snprintf(run_id, sizeof run_id, "%s", PQgetvalue(q, 0, 0));
		PQclear(q);
	}
	res->run_id = strtoll(run_id, NULL, 10);
	res->run = reused ? "repeat" : discovery ? "active" : "loaded";

	/* The membership's run: a discovery run's own; videos alone join the
	 * active run's hierarchy (else their own run's). */
	char mrun[24];
	snprintf(mrun, sizeof mrun, "%s", run_id);
	if (!discovery) {
		long long a = query_num(c, "SELECT run_id FROM discovery_runs WHERE status = 'active'",
					NULL, err);
		if (a < 0)
			return -1;
		if (a > 0)
			snprintf(mrun, sizeof mrun, "%lld", a);
	}

	/* The video index: dropped for a big load, rebuilt after the commit. */
	if (s->dim > 0 && s->dim <= 4000) {
		int exists = video_index_exists(c, err);
		if (exists < 0)
			return -1;
		if (exists && s->fresh_emb >= PD_STORE_REINDEX_MIN) {
			if (pd_db_exec(c, "DROP INDEX videos_embedding_hnsw", err) < 0)
				return -1;
			res->video_index_dropped = 1;
		}
		s->reindex = res->video_index_dropped || (!exists && s->o.video_index);
	}

	const char *p1[1] = { run_id };
	q = pd_db_query(c, upsert_videos_sql, 1, p1, err);
	if (!q)
		return -1;
	long long changed = strtoll(PQgetvalue(q, 0, 0), NULL, 10) + s->ndirect;
	res->videos_written = strtoll(PQgetvalue(q, 0, 1), NULL, 10) + s->ndirect;
	PQclear(q);
	int new_members = discovery && !reused;
	long long members = s->nvideos == 0 ? 0
			  : exec_run(c, new_members ? insert_members_sql : upsert_members_sql, mrun,
				     NULL, err);
	/* (not for the latest run again: its clusters change nothing) */
	if (members >= 0 && s->dim > 0 && !reused)
		res->centroid_index_dropped = drop_centroid_index(s);
	long long chc = members < 0 ? -1 : exec_run(c, upsert_clusters_sql, run_id, NULL, err);
	pd_buf psql = PD_BUF_INIT;
	upsert_patterns_sql(&psql);
	long long chp = chc < 0 ? -1 : exec_run(c, psql.p, run_id, NULL, err);
	pd_buf_release(&psql);
	long long chl = chp < 0 ? -1 : exec_run(c, video_patterns_sql, run_id, NULL, err);
	long long chm = chl < 0 ? -1 : exec_run(c, upsert_metrics_sql, run_id, NULL, err);
	if (chm < 0)
		return -1;
	res->videos_changed = changed;
	res->memberships = members;
	if (!reused) {
		if (store_metric_row(s, run_id, seconds, rin, rout, rejected, res, err) < 0)
			return -1;
		if (discovery && exec_run(c, "UPDATE discovery_runs SET status = 'superseded'"
					  " WHERE status = 'active' AND run_id <> $1::bigint", run_id,
					  NULL, err) < 0)
			return -1;
		char counts[6][24];
		snprintf(counts[0], sizeof counts[0], "%lld", s->nvideos);
		snprintf(counts[1], sizeof counts[1], "%lld", changed);
		snprintf(counts[2], sizeof counts[2], "%lld", s->nclusters);
		snprintf(counts[3], sizeof counts[3], "%lld", s->npatterns);
		snprintf(counts[4], sizeof counts[4], "%lld", s->nmetrics);
		snprintf(counts[5], sizeof counts[5], "%lld", rejected);
		const char *p[8] = { run_id, discovery ? "active" : "loaded", counts[0], counts[1],
				     counts[2], counts[3], counts[4], counts[5] };
		q = pd_db_query(c, "UPDATE discovery_runs SET status = $2, videos = $3::bigint,"
				" videos_changed = $4::bigint, clusters = $5::int, patterns = $6::int,"
				" metrics = $7::int, rejected = $8::bigint, finished_at = clock_timestamp()"
				" WHERE run_id = $1::bigint", 8, p, err);
		if (!q)
			return -1;
		PQclear(q);
	}
	if (s->o.keep_runs > 0) {
		char k[24];
		snprintf(k, sizeof k, "%ld", s->o.keep_runs);
		/* memberships, clusters, patterns and metrics go with their run (cascade) */
		res->runs_pruned = exec_run(c, "DELETE FROM discovery_runs WHERE status <> 'active'"
					    " AND run_id < (SELECT min(run_id) FROM (SELECT run_id"
					    "  FROM discovery_runs WHERE status IN ('active', 'superseded')"
					    "  ORDER BY run_id DESC LIMIT $1::int) k)", k, NULL, err);
		if (res->runs_pruned < 0)
			return -1;
	}
	res->write_seconds = mono_s() - tw;
	if (s->dim > 0 && pd_schema_ensure_indexes(c, s->dim, res->centroid_index_dropped,
						   &res->hnsw_built, &res->hnsw_seconds, err) < 0)
		return -1;
	res->changed = res->videos_written + members + chc + chp + chl + chm + res->runs_pruned + !reused > 0;
	res->refresh_seconds = -1;
	if (s->o.refresh && res->changed) {
		double t = mono_s();
		if (pd_schema_refresh_views(c, err) < 0)
			return -1;
		res->refresh_seconds = mono_s() - t;
	}
	res->stored = 1;
	return 0;
}

int pd_store_finish(pd_store *s, double seconds, long long records_in, long long records_out,
		    long long rejected, pd_store_result *res, pd_err *err)
{
	memset(res, 0, sizeof *res);
	res->cache_generation = -1;
	res->refresh_seconds = -1;
	if (s->state != 0)
		return pd_err_set(err, PD_EUSAGE, "pd_store_finish: the run is not staging");
	if (finish(s, seconds, records_in, records_out, rejected, res, err) < 0) {
		s->state = 3;
		pd_db_exec(s->db, "ROLLBACK", NULL);
		return -1;
	}
	if (!res->stored) {
		s->state = 3;
		return pd_db_exec(s->db, "ROLLBACK", err);
	}
	s->state = 1;
	return 0;
}

/*
 * build_index: the HNSW cosine index name on table (column), CONCURRENTLY
 * (readers and writers of the table go on), with memory for the whole
 * graph when the server allows and the parallel maintenance workers the
 * server has; rows_sql counts the rows it will hold.  A failed build leaves
 * an invalid index behind: dropped, so a later run builds it again.
 * Returns 0 or -1 with err.
 */
static int build_index(pd_store *s, const char *name, const char *table, const char *column,
		       const char *rows_sql, pd_err *err)
{
	PGconn *c = s->db;
	const char *ops = s->dim <= 2000 ? "vector_cosine_ops" : "halfvec_cosine_ops";
	/* HNSW's graph: about the vectors plus m * 2 neighbours of 8 bytes per element */
	long long rows = query_num(c, rows_sql, NULL, err);
	if (rows < 0)
		return -1;
	long long mb = (rows * ((long long)s->dim * (s->dim <= 2000 ? 4 : 2) + 400)) >> 20;
	if (mb < 64)
		mb = 64;
	if (mb > 4096)
		mb = 4096;
	char set[160];
	snprintf(set, sizeof set, "SET maintenance_work_mem = '%lldMB'", mb * 5 / 4);
	char sql[256], drop[160];
	/* identifiers are constants of this file, never input */
	snprintf(sql, sizeof sql, "CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s USING hnsw (%s %s)",
		 name, table, column, ops);
	snprintf(drop, sizeof drop, "DROP INDEX CONCURRENTLY IF EXISTS %s", name);
	if (pd_db_exec(c, set, err) < 0 ||
	    pd_db_exec(c, "SET max_parallel_maintenance_workers = 8", err) < 0)
		return -1;
	if (pd_db_exec(c, sql, err) < 0) {
		pd_db_exec(c, drop, NULL);
		return -1;
	}
	return 0;
}

/* videos_embedding_hnsw after the commit (build_index) */
static int build_video_index(pd_store *s, pd_store_result *res, pd_err *err)
{
	double t = mono_s();
	if (build_index(s, "videos_embedding_hnsw", "videos", "embedding",
			"SELECT count(*) FROM videos WHERE embedding IS NOT NULL", err) < 0)
		return -1;
	res->video_index = 1;
	res->video_index_seconds = mono_s() - t;
	return 0;
}

/* clusters_centroid_hnsw after the commit, when dropped for the load (drop_centroid_index) */
static int build_centroid_index(pd_store *s, pd_store_result *res, pd_err *err)
{
	double t = mono_s();
	if (build_index(s, "clusters_centroid_hnsw", "clusters", "centroid",
			"SELECT count(*) FROM clusters WHERE centroid IS NOT NULL", err) < 0)
		return -1;
	res->centroid_index_seconds = mono_s() - t;
	return 0;
}

int pd_store_commit(pd_store *s, pd_store_result *res, pd_err *err)
{
	if (s->state != 1)
		return pd_err_set(err, PD_EUSAGE, "pd_store_commit: the run is not finished");
	if (pd_db_exec(s->db, "COMMIT", err) < 0) {
		s->state = 3;
		return -1;
	}
	s->state = 2;
	res->commit_seconds = mono_s() - s->t0;
	pd_err e;
	if (res->centroid_index_dropped && build_centroid_index(s, res, &e) < 0)
		snprintf(res->warning, sizeof res->warning, "cluster centroid index not built: %.200s",
			 e.msg);
	if (s->reindex && build_video_index(s, res, &e) < 0 && !res->warning[0])
		snprintf(res->warning, sizeof res->warning, "video index not built: %.200s", e.msg);
	/* Caches: a new generation, so no reader meets an old run's values. */
	if (res->changed) {
		pd_cache *cache = pd_cache_open(NULL, 0, 0, &e);
		if (!cache && e.code) {
			if (!res->warning[0])
				snprintf(res->warning, sizeof res->warning, "%.200s; caches not invalidated",
					 e.msg);
		} else if (cache) {
			long long g = pd_cache_bump_gen(cache, &e);
			if (g < 0 && !res->warning[0])
				snprintf(res->warning, sizeof res->warning, "%.200s; caches not invalidated",
					 e.msg);
			res->cache_generation = g;
			pd_cache_free(cache);
		}
	}
	return 0;
}

void pd_store_free(pd_store *s)
{
	if (!s)
		return;
	if (s->state == 0) {
		if (s->direct == 1 || s->stage_copy)
			pd_db_copy_abort(s->db, "run abandoned");
		pd_db_exec(s->db, "ROLLBACK", NULL);
	} else if (s->state == 1)
		pd_db_exec(s->db, "ROLLBACK", NULL);
	pd_strmap_free(s->vids);
	pd_strmap_free(s->cids);
	pd_strmap_free(s->pids);
	pd_strmap_free(s->stored);
	free(s->stored_hash);
	free(s->stored_has);
	spool_free(&s->stage);
	pd_buf_release(&s->sv);
	spool_free(&s->members);
	pd_buf_release(&s->vb);
	pd_buf_release(&s->other);
	pd_buf_release(&s->tmp);
	pd_buf_release(&s->cl_rows);
	pd_buf_release(&s->pat_rows);
	pd_buf_release(&s->met_rows);
	free(s->cen);
	free(s);
}
