/*
 * track.c — pd-track's engine: match records read as predictions, recorded
 * into `predictions` by binary COPY in one transaction, and the
 * `pattern_effectiveness` view written out as `effectiveness` records.
 *
 * The statistics themselves are SQL (schema.c, migration 2): they are a view
 * so pd-report and any SQL client read the same numbers pd-track prints, and
 * pd-store's refresh keeps them current as the videos' perf arrives.  This
 * file only moves records in and out.
 *
 * Runs and their patterns are looked up before the COPY starts (the
 * connection cannot answer queries during a COPY); a prediction naming a run
 * not seen yet ends the COPY, loads that run's patterns, and starts a new
 * COPY into the same staging table.
 */
#include "pd.h"
#include "db.h"
#include "strmap.h"
#include "timeutil.h"
#include "track.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the match record, read as a prediction ---------------------------- */

static int finite_num(const cJSON *it, double *v)
{
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
		return 0;
	*v = it->valuedouble;
	return 1;
}

/* An optional number: absent or null gives NAN (1); a finite number (1); else 0. */
static int opt_num(const cJSON *m, const char *key, double *v)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(m, key);
	*v = NAN;
	if (!it || cJSON_IsNull(it))
		return 1;
	return finite_num(it, v);
}

int pd_prediction_from_json(const cJSON *m, const char *group_video_id, pd_prediction *p,
			     pd_err *err)
{
	memset(p, 0, sizeof *p);
	p->json = m;
	if (!cJSON_IsObject(m))
		return pd_err_set(err, PD_EREC, "a match is not a JSON object");
	p->video_id = group_video_id ? group_video_id : pd_json_str(m, "video_id");
	if (!p->video_id || !*p->video_id)
		return pd_err_set(err, PD_EREC, "match without a string \"video_id\"");
	p->pattern_id = pd_json_str(m, "pattern_id");
	if (!p->pattern_id || !*p->pattern_id)
		return pd_err_set(err, PD_EREC, "match of video '%s' without a string \"pattern_id\"",
				  p->video_id);
	const char *who = p->pattern_id;
	const cJSON *hf = cJSON_GetObjectItemCaseSensitive(m, "has_feature");
	if (!cJSON_IsBool(hf))
		return pd_err_set(err, PD_EREC, "match '%s': \"has_feature\" is not true or false", who);
	p->has_feature = cJSON_IsTrue(hf);
	if (!opt_num(m, "expected_perf", &p->expected) || p->expected < 0)
		return pd_err_set(err, PD_EREC, "match '%s': \"expected_perf\" is not a number >= 0 or null",
				  who);
	/* the interval: pd-match's expected_perf_ci, or expected_lo + expected_hi */
	const cJSON *ci = cJSON_GetObjectItemCaseSensitive(m, "expected_perf_ci");
	p->lo = p->hi = NAN;
	if (ci && !cJSON_IsNull(ci)) {
		if (!cJSON_IsArray(ci) || cJSON_GetArraySize(ci) != 2 ||
		    !finite_num(cJSON_GetArrayItem(ci, 0), &p->lo) ||
		    !finite_num(cJSON_GetArrayItem(ci, 1), &p->hi))
			return pd_err_set(err, PD_EREC,
					  "match '%s': \"expected_perf_ci\" is not [lo, hi] or null", who);
	} else if (!opt_num(m, "expected_lo", &p->lo) || !opt_num(m, "expected_hi", &p->hi)) {
		return pd_err_set(err, PD_EREC, "match '%s': \"expected_lo\"/\"expected_hi\" not numbers",
				  who);
	}
	if (isnan(p->lo) != isnan(p->hi))
		return pd_err_set(err, PD_EREC, "match '%s': the interval has one end only", who);
	if (!isnan(p->lo) && p->lo > p->hi)
		return pd_err_set(err, PD_EREC, "match '%s': interval [%g, %g] has lo > hi", who,
				  p->lo, p->hi);
	if (!opt_num(m, "similarity", &p->similarity) ||
	    (!isnan(p->similarity) && fabs(p->similarity) > 1 + 1e-6))
		return pd_err_set(err, PD_EREC, "match '%s': \"similarity\" is not in [-1, 1]", who);
	const cJSON *cl = cJSON_GetObjectItemCaseSensitive(m, "cluster");
	if (cl && !cJSON_IsNull(cl) && !cJSON_IsString(cl))
		return pd_err_set(err, PD_EREC, "match '%s': \"cluster\" is not a string", who);
	p->cluster = cJSON_IsString(cl) ? cl->valuestring : NULL;
	p->predicted_at = NAN;
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(m, "predicted_at");
	if (at && !cJSON_IsNull(at) &&
	    (!cJSON_IsString(at) || pd_time_parse(at->valuestring, &p->predicted_at) < 0))
		return pd_err_set(err, PD_EREC, "match '%s': \"predicted_at\" is not an RFC 3339 time",
				  who);
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(m, "run_id");
	if (run && !cJSON_IsNull(run)) {
		double r;
		if (!finite_num(run, &r) || r < 1 || r > 9e15 || r != floor(r))
			return pd_err_set(err, PD_EREC, "match '%s': \"run_id\" is not a positive integer",
					  who);
		p->run_id = (long long)r;
	}
	return 0;
}

/* ---- recording ----------------------------------------------------------- */

/* One discovery run's patterns: what a prediction copies from its pattern. */
struct run_patterns {
	long long run_id;
	pd_strmap *ids;
	double *effect;		/* NAN: unknown */
	int *direction;		/* 1 or -1 */
	char **cluster;		/* NULL: none */
};

struct pd_tracker {
	PGconn *c;
	long long default_run;
	struct run_patterns *runs;
	int nruns;
	pd_buf rows;		/* encoded COPY rows not yet sent */
	int in_copy, in_xact, broken;
	long long staged;
	pd_buf tmp;
};

static const char stage_sql[] =
	"CREATE TEMP TABLE stage_predictions (run_id int8, pattern_id text, video_id text,"
	" predicted_at timestamptz, expected_perf float8, expected_lo float8, expected_hi float8,"
	" has_feature bool, similarity float8, cluster_id text, effect float8, direction int4,"
	" record jsonb) ON COMMIT DROP";
static const char copy_sql[] = "COPY stage_predictions FROM STDIN (FORMAT binary)";

static const char insert_sql[] =
	"INSERT INTO predictions (run_id, pattern_id, video_id, predicted_at, expected_perf,"
	" expected_lo, expected_hi, has_feature, similarity, cluster_id, effect, direction, record)"
	" SELECT run_id, pattern_id, video_id, coalesce(predicted_at, now()), expected_perf,"
	" expected_lo, expected_hi, has_feature, similarity, cluster_id, effect, direction::int2,"
	" record FROM stage_predictions"
	" ON CONFLICT (run_id, pattern_id, video_id) DO NOTHING";

/* A run's patterns: the effect as pd-store keeps it (lift_ratio), else the record's
 * stats.effect, else its stats.lift (older records). */
static const char run_patterns_sql[] =
	"SELECT id, e, CASE WHEN record->>'direction' = 'negative' THEN -1"
	"  WHEN record->>'direction' = 'positive' THEN 1 WHEN e < 1 THEN -1 ELSE 1 END, cluster_id"
	" FROM (SELECT id, record, cluster_id, coalesce("
	"   CASE WHEN jsonb_typeof(performance_stats->'lift_ratio') = 'number'"
	"    THEN (performance_stats->>'lift_ratio')::float8 END,"
	"   CASE WHEN jsonb_typeof(record->'stats'->'effect') = 'number'"
	"    THEN (record->'stats'->>'effect')::float8 END,"
	"   CASE WHEN jsonb_typeof(record->'stats'->'lift') = 'number'"
	"    THEN (record->'stats'->>'lift')::float8 END) AS e"
	"  FROM patterns WHERE run_id = $1::bigint) p";

static void run_release(struct run_patterns *r)
{
	int n = r->ids ? pd_strmap_size(r->ids) : 0;
	for (int i = 0; i < n; i++)
		free(r->cluster[i]);
	free(r->cluster);
	free(r->effect);
	free(r->direction);
	pd_strmap_free(r->ids);
}

static int copy_start(pd_tracker *t, pd_err *err)
{
	pd_buf hdr = PD_BUF_INIT;
	int rc = pd_db_copy_begin(t->c, copy_sql, &hdr, err);
	if (rc == 0)
		rc = pd_db_copy_send(t->c, &hdr, err);
	pd_buf_release(&hdr);
	if (rc < 0) {
		t->broken = 1;
		return -1;
	}
	t->in_copy = 1;
	return 0;
}

static int copy_finish(pd_tracker *t, pd_err *err)
{
	if (!t->in_copy)
		return 0;
	t->in_copy = 0;
	if (pd_db_copy_end(t->c, &t->rows, err) < 0) {
		t->broken = 1;
		return -1;
	}
	return 0;
}

/*
 * find_run: the loaded patterns of run_id, loading them (the COPY paused)
 * the first time.  NULL with err: PD_EREC when no such run is stored,
 * PD_ESERVICE (t broken) when the database failed.
 */
static struct run_patterns *find_run(pd_tracker *t, long long run_id, pd_err *err)
{
	for (int i = 0; i < t->nruns; i++)
		if (t->runs[i].run_id == run_id)
			return &t->runs[i];
	int was_copying = t->in_copy;
	if (copy_finish(t, err) < 0)
		return NULL;
	char idtxt[24];
	snprintf(idtxt, sizeof idtxt, "%lld", run_id);
	const char *params[1] = { idtxt };
	PGresult *r = pd_db_query(t->c, "SELECT 1 FROM discovery_runs WHERE run_id = $1::bigint",
				  1, params, err);
	if (!r) {
		t->broken = 1;
		return NULL;
	}
	int exists = PQntuples(r) > 0;
	PQclear(r);
	if (!exists) {
		if (was_copying && copy_start(t, err) < 0)
			return NULL;
		pd_err_set(err, PD_EREC, "run %lld is not a stored discovery run", run_id);
		return NULL;
	}
	r = pd_db_query(t->c, run_patterns_sql, 1, params, err);
	if (!r) {
		t->broken = 1;
		return NULL;
	}
	t->runs = xreallocarray(t->runs, (size_t)t->nruns + 1, sizeof *t->runs);
	struct run_patterns *rp = &t->runs[t->nruns++];
	int n = PQntuples(r);
	rp->run_id = run_id;
	rp->ids = pd_strmap_new();
	rp->effect = xcalloc((size_t)n + 1, sizeof *rp->effect);
	rp->direction = xcalloc((size_t)n + 1, sizeof *rp->direction);
	rp->cluster = xcalloc((size_t)n + 1, sizeof *rp->cluster);
	for (int i = 0; i < n; i++) {
		const char *id = PQgetvalue(r, i, 0);
		int added, k = pd_strmap_intern(rp->ids, id, strlen(id), &added);
		rp->effect[k] = PQgetisnull(r, i, 1) ? NAN : strtod(PQgetvalue(r, i, 1), NULL);
		rp->direction[k] = atoi(PQgetvalue(r, i, 2)) < 0 ? -1 : 1;
		rp->cluster[k] = PQgetisnull(r, i, 3) ? NULL : xstrdup(PQgetvalue(r, i, 3));
	}
	PQclear(r);
	if (was_copying && copy_start(t, err) < 0)
		return NULL;
	return rp;
}

pd_tracker *pd_tracker_begin(PGconn *c, long long run_id, pd_err *err)
{
	pd_tracker *t = xcalloc(1, sizeof *t);
	t->c = c;
	/* the staging table in memory (effective before the session's first temp table) */
	if (pd_db_exec(c, "SET temp_buffers = '128MB'", err) < 0 || pd_db_exec(c, "BEGIN", err) < 0) {
		free(t);
		return NULL;
	}
	t->in_xact = 1;
	if (pd_db_exec(c, "SET LOCAL client_min_messages = warning", err) < 0 ||
	    pd_db_exec(c, stage_sql, err) < 0)
		goto fail;
	if (run_id > 0) {
		if (!find_run(t, run_id, err)) {
			if (err && err->code == PD_EREC)
				err->code = PD_EUSAGE;
			goto fail;
		}
	} else {
		PGresult *r = pd_db_query(c, "SELECT run_id FROM discovery_runs WHERE status = 'active'",
					  0, NULL, err);
		if (!r)
			goto fail;
		if (PQntuples(r))
			run_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		PQclear(r);
		if (run_id <= 0) {
			pd_err_set(err, PD_EUSAGE, "no active discovery run in the database: store one"
				   " with pd-store, or name the run with --run");
			goto fail;
		}
		if (!find_run(t, run_id, err))
			goto fail;
	}
	t->default_run = run_id;
	if (copy_start(t, err) < 0)
		goto fail;
	return t;
fail:
	pd_tracker_free(t);
	return NULL;
}

/* Does the JSON text hold a \u0000 escape?  (text and jsonb refuse NUL.) */
static int has_nul_escape(const char *s, size_t n)
{
	for (size_t i = 0; i + 6 <= n; i++)
		if (s[i] == '\\' && s[i + 1] == 'u' && !memcmp(s + i + 2, "0000", 4))
			return 1;
	return 0;
}

static void put_num(pd_buf *b, double v)
{
	if (isnan(v))
		pd_copy_null(b);
	else
		pd_copy_float8(b, v);
}

/*
 * check: what pd_tracker_check does; on success *rp and *k name the
 * prediction's run and pattern, and t->tmp holds the match as JSON text.
 */
static int check(pd_tracker *t, const pd_prediction *p, struct run_patterns **rpp, int *kp,
		 pd_err *err)
{
	if (t->broken)
		return pd_err_set(err, PD_ESERVICE, "the recording failed before");
	long long run_id = p->run_id > 0 ? p->run_id : t->default_run;
	struct run_patterns *rp = find_run(t, run_id, err);
	if (!rp)
		return -1;
	int k = pd_strmap_find(rp->ids, p->pattern_id, strlen(p->pattern_id));
	if (k < 0)
		return pd_err_set(err, PD_EREC, "pattern '%s' is not a pattern of run %lld",
				  p->pattern_id, run_id);
	pd_buf_reset(&t->tmp);
	char *js = cJSON_PrintUnformatted(p->json);
	if (!js)
		return pd_err_set(err, PD_ESERVICE, "out of memory printing a match");
	pd_buf_adds(&t->tmp, js);
	cJSON_free(js);
	if (has_nul_escape(t->tmp.p, t->tmp.len))
		return pd_err_set(err, PD_EREC, "match '%s': \\u0000 in a string cannot be stored",
				  p->pattern_id);
	*rpp = rp;
	*kp = k;
	return 0;
}

int pd_tracker_check(pd_tracker *t, const pd_prediction *p, pd_err *err)
{
	struct run_patterns *rp;
	int k;
	return check(t, p, &rp, &k, err);
}

int pd_tracker_add(pd_tracker *t, const pd_prediction *p, pd_err *err)
{
	struct run_patterns *rp;
	int k;
	if (check(t, p, &rp, &k, err) < 0)
		return -1;
	long long run_id = rp->run_id;
	pd_buf *b = &t->rows;
	pd_copy_row(b, 13);
	pd_copy_int8(b, run_id);
	pd_copy_text(b, p->pattern_id, strlen(p->pattern_id));
	pd_copy_text(b, p->video_id, strlen(p->video_id));
	if (isnan(p->predicted_at))
		pd_copy_null(b);
	else
		pd_copy_timestamptz(b, p->predicted_at);
	put_num(b, p->expected);
	put_num(b, p->lo);
	put_num(b, p->hi);
	pd_copy_bool(b, p->has_feature);
	put_num(b, p->similarity);
	const char *cl = p->cluster ? p->cluster : rp->cluster[k];
	if (cl)
		pd_copy_text(b, cl, strlen(cl));
	else
		pd_copy_null(b);
	put_num(b, rp->effect[k]);
	pd_copy_int4(b, rp->direction[k]);
	pd_copy_jsonb(b, t->tmp.p, t->tmp.len);
	t->staged++;
	if (b->len >= (1u << 20) && pd_db_copy_send(t->c, b, err) < 0) {
		t->broken = 1;
		return -1;
	}
	return 0;
}

int pd_tracker_commit(pd_tracker *t, long long *staged, long long *stored, pd_err *err)
{
	*staged = t->staged;
	*stored = 0;
	if (t->broken)
		return pd_err_set(err, PD_ESERVICE, "the recording failed before");
	if (copy_finish(t, err) < 0)
		return -1;
	PGresult *r = pd_db_query(t->c, insert_sql, 0, NULL, err);
	if (!r) {
		t->broken = 1;
		return -1;
	}
	*stored = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	if (pd_db_exec(t->c, "COMMIT", err) < 0) {
		t->broken = 1;
		return -1;
	}
	t->in_xact = 0;
	return 0;
}

void pd_tracker_free(pd_tracker *t)
{
	if (!t)
		return;
	if (t->in_copy)
		pd_db_copy_abort(t->c, "pd-track: recording abandoned");
	if (t->in_xact)
		pd_db_exec(t->c, "ROLLBACK", NULL);
	for (int i = 0; i < t->nruns; i++)
		run_release(&t->runs[i]);
	free(t->runs);
	pd_buf_release(&t->rows);
	pd_buf_release(&t->tmp);
	free(t);
}

/* ---- the report ------------------------------------------------------------ */

/*
 * The view's columns, with the flag recomputed at the caller's thresholds;
 * the numbers as float8 text (shortest exact form, extra_float_digits 1 is
 * PostgreSQL 12+'s default), the times in UTC.
 */
static const char report_sql[] =
	"SELECT pattern_id, run_id, predictions, n, pending, n_with, n_without, n_interval,"
	" in_interval, median_ratio, expected_perf, median_with, median_without,"
	" with_without_ratio, effect, direction, p_beats, rank_p, reason,"
	" to_char(first_predicted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
	" to_char(last_predicted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
	" FROM (SELECT e.*, pd_track_flag(n_with, n_without, p_beats, median_ratio, direction,"
	"   $3::int, $4::float8) AS reason,"
	"   row_number() OVER (PARTITION BY pattern_id ORDER BY run_id DESC) AS recent"
	"  FROM pattern_effectiveness e"
	"  WHERE ($1::bigint IS NULL OR run_id = $1::bigint)"
	"   AND ($2::text IS NULL OR pattern_id = $2::text)) x"
	" WHERE (NOT $5::bool OR recent = 1) AND (NOT $6::bool OR reason IS NOT NULL)"
	" ORDER BY pattern_id COLLATE \"C\", run_id";

enum { R_PATTERN, R_RUN, R_PRED, R_N, R_PENDING, R_NWITH, R_NWITHOUT, R_NINT, R_ININT,
       R_MRATIO, R_EXP, R_MWITH, R_MWITHOUT, R_WWRATIO, R_EFFECT, R_DIR, R_PBEATS, R_RANKP,
       R_REASON, R_FIRST, R_LAST };

/* A numeric column as JSON: null when NULL, else as every record's numbers (buf.h
   pd_buf_add_num: 6 significant digits, whole numbers in plain digits). */
static void add_col(pd_buf *b, const PGresult *r, int row, int col, int integer)
{
	if (PQgetisnull(r, row, col)) {
		pd_buf_adds(b, "null");
		return;
	}
	const char *v = PQgetvalue(r, row, col);
	if (integer) {
		pd_buf_adds(b, v);
		return;
	}
	pd_buf_add_num(b, strtod(v, NULL));
}

static void add_str_col(pd_buf *b, const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		pd_buf_adds(b, "null");
	else
		pd_buf_add_json_string(b, PQgetvalue(r, row, col),
				       (size_t)PQgetlength(r, row, col));
}

int pd_track_report(PGconn *c, const pd_track_report_opts *o,
		    void (*cb)(void *ud, const char *json, size_t len), void *ud,
		    long long *rows, long long *flagged, pd_err *err)
{
	if (rows)
		*rows = 0;
	if (flagged)
		*flagged = 0;
	/* only this view: the others change with pd-store runs, which refresh them */
	if (o->refresh &&
	    pd_db_exec(c, "REFRESH MATERIALIZED VIEW CONCURRENTLY pattern_effectiveness", err) < 0)
		return -1;
	char run[24], minn[16], minr[32];
	snprintf(run, sizeof run, "%lld", o->run_id);
	snprintf(minn, sizeof minn, "%d", o->min_n);
	snprintf(minr, sizeof minr, "%.17g", o->min_ratio);
	const char *params[6] = { o->run_id > 0 ? run : NULL, o->pattern_id, minn, minr,
				  o->latest ? "t" : "f", o->flagged_only ? "t" : "f" };
	PGresult *r = pd_db_query(c, report_sql, 6, params, err);
	if (!r)
		return -1;
	pd_buf b = PD_BUF_INIT;
	int n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		int is_flagged = !PQgetisnull(r, i, R_REASON);
		pd_buf_reset(&b);
		pd_buf_adds(&b, "{\"type\":\"effectiveness\",\"pattern_id\":");
		add_str_col(&b, r, i, R_PATTERN);
		pd_buf_adds(&b, ",\"run_id\":");
		add_col(&b, r, i, R_RUN, 1);
		pd_buf_adds(&b, ",\"predictions\":");
		add_col(&b, r, i, R_PRED, 1);
		pd_buf_adds(&b, ",\"n\":");
		add_col(&b, r, i, R_N, 1);
		pd_buf_adds(&b, ",\"pending\":");
		add_col(&b, r, i, R_PENDING, 1);
		pd_buf_adds(&b, ",\"n_with\":");
		add_col(&b, r, i, R_NWITH, 1);
		pd_buf_adds(&b, ",\"n_without\":");
		add_col(&b, r, i, R_NWITHOUT, 1);
		pd_buf_adds(&b, ",\"in_interval\":");
		add_col(&b, r, i, R_ININT, 0);
		pd_buf_adds(&b, ",\"n_interval\":");
		add_col(&b, r, i, R_NINT, 1);
		pd_buf_adds(&b, ",\"median_ratio\":");
		add_col(&b, r, i, R_MRATIO, 0);
		pd_buf_adds(&b, ",\"expected_perf\":");
		add_col(&b, r, i, R_EXP, 0);
		pd_buf_adds(&b, ",\"median_with\":");
		add_col(&b, r, i, R_MWITH, 0);
		pd_buf_adds(&b, ",\"median_without\":");
		add_col(&b, r, i, R_MWITHOUT, 0);
		pd_buf_adds(&b, ",\"with_without_ratio\":");
		add_col(&b, r, i, R_WWRATIO, 0);
		pd_buf_adds(&b, ",\"effect\":");
		add_col(&b, r, i, R_EFFECT, 0);
		pd_buf_adds(&b, atoi(PQgetvalue(r, i, R_DIR)) < 0 ? ",\"direction\":\"negative\""
								   : ",\"direction\":\"positive\"");
		pd_buf_adds(&b, ",\"p_beats\":");
		add_col(&b, r, i, R_PBEATS, 0);
		pd_buf_adds(&b, ",\"rank_p\":");
		add_col(&b, r, i, R_RANKP, 0);
		pd_buf_adds(&b, is_flagged ? ",\"flagged\":true" : ",\"flagged\":false");
		pd_buf_adds(&b, ",\"flag_reason\":");
		add_str_col(&b, r, i, R_REASON);
		pd_buf_adds(&b, ",\"first_predicted_at\":");
		add_str_col(&b, r, i, R_FIRST);
		pd_buf_adds(&b, ",\"last_predicted_at\":");
		add_str_col(&b, r, i, R_LAST);
		pd_buf_addc(&b, '}');
		cb(ud, b.p, b.len);
		if (rows)
			(*rows)++;
		if (flagged && is_flagged)
			(*flagged)++;
	}
	pd_buf_release(&b);
	PQclear(r);
	return 0;
}
