/*
 * db.c — PostgreSQL access: connect with retries, parameterised queries,
 * binary COPY encoding, and streaming stored videos back as records.
 *
 * Why binary COPY: a 384-d embedding is 1.5 KB as float32 but ~4 KB as text
 * the server must parse number by number; sending the `vector` receive
 * format (int16 dim, int16 unused, dim big-endian float4) makes loading a
 * matter of memcpy on both sides.  Every other column used by pd has a
 * simple binary form too (text is raw bytes, jsonb is a version byte plus
 * text, timestamptz is microseconds since 2000-01-01).
 *
 * Why single-row mode in pd_db_read_videos: pd-fetch --pg may read a million
 * videos; single-row mode hands them over one at a time as the server sends
 * them, so the client holds one row, not the table.
 */
#include "pd.h"
#include "db.h"
#include "video.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *program_name = "pd";

void pd_db_set_program(const char *name)
{
	if (name && *name)
		program_name = name;
}

/* The server's or libpq's message on one line: newlines and tabs folded. */
static void fold_message(const char *m, char *out, size_t cap)
{
	size_t j = 0;
	int space = 0;
	if (!m)
		m = "unknown error";
	for (size_t i = 0; m[i] && j + 3 < cap; i++) {
		char ch = m[i];
		if (ch == '\n' || ch == '\t' || ch == '\r') {
			space = 1;
			continue;
		}
		if (space && j > 0) {
			out[j++] = ';';
			out[j++] = ' ';
		}
		space = 0;
		out[j++] = ch;
	}
	while (j > 0 && (out[j - 1] == ' ' || out[j - 1] == ';'))
		j--;
	out[j] = 0;
}

static int no_schema(const char *sqlstate, const char *msg, pd_err *err);

int pd_db_error(PGconn *c, const char *what, pd_err *err)
{
	char msg[480];
	fold_message(c ? PQerrorMessage(c) : NULL, msg, sizeof msg);
	if (no_schema(NULL, msg, err))
		return -1;
	return pd_err_set(err, PD_ESERVICE, "%s: %s", what, msg);
}

/* A failure a retry cannot fix: bad credentials, unknown database or role. */
static int permanent_failure(const char *m)
{
	static const char *const pats[] = {
		"authentication failed", "password", "does not exist", "permission denied",
		"invalid connection option", "invalid URI", "missing \"=\"", "invalid integer",
		"no pg_hba.conf entry", "not supported", NULL
	};
	for (int i = 0; pats[i]; i++)
		if (strstr(m, pats[i]))
			return 1;
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* libpq's default prints NOTICEs on stderr; the library never prints. */
static void quiet_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

PGconn *pd_db_connect(const char *url, pd_err *err)
{
	const char *from = "the database URL";
	if (!url) {
		const char *e = getenv("DATABASE_URL");
		if (e && *e) {
			url = e;
			from = "DATABASE_URL";
		}
	}
	/* A URI of another database is refused, not tried as a local socket.
	 * (libpq takes postgresql:// and postgres://; anything else with "://"
	 * would be read as a database name.) */
	const char *sep = url ? strstr(url, "://") : NULL;
	if (sep && !(sep - url == 10 && !strncmp(url, "postgresql", 10)) &&
	    !(sep - url == 8 && !strncmp(url, "postgres", 8))) {
		int n = (int)(sep - url);
		int ok = n > 0 && n <= 32;
		for (int i = 0; ok && i < n; i++)
			ok = (url[i] >= 'a' && url[i] <= 'z') || (url[i] >= 'A' && url[i] <= 'Z') ||
			     (i > 0 && ((url[i] >= '0' && url[i] <= '9') || strchr("+-.", url[i])));
		if (ok)
			return pd_err_set(err, PD_EUSAGE, "%s is a '%.*s://' URI; pd needs PostgreSQL"
					  " (postgresql:// or postgres://)", from, n, url),
			       NULL;
		return pd_err_set(err, PD_EUSAGE, "%s is not a PostgreSQL URI (postgresql:// or"
				  " postgres://)", from), NULL;
	}
	/* Keywords are processed in order and the last wins: the defaults
	 * come before the URL (which may override them), UTF8 after it. */
	const char *keys[6], *vals[6];
	int k = 0;
	if (!getenv("PGCONNECT_TIMEOUT")) {
		keys[k] = "connect_timeout";
		vals[k++] = "10";
	}
	keys[k] = "fallback_application_name";
	vals[k++] = program_name;
	if (url) {
		keys[k] = "dbname";
		vals[k++] = url;
	}
	keys[k] = "client_encoding";
	vals[k++] = "UTF8";
	keys[k] = NULL;
	vals[k] = NULL;

	static const long backoff_ms[] = { 250, 1000 };
	char msg[480] = "";
	for (int attempt = 0; attempt < 3; attempt++) {
		PGconn *c = PQconnectdbParams(keys, vals, 1);
		if (c && PQstatus(c) == CONNECTION_OK) {
			PQsetNoticeProcessor(c, quiet_notices, NULL);
			return c;
		}
		fold_message(c ? PQerrorMessage(c) : "out of memory", msg, sizeof msg);
		PQfinish(c);
		if (permanent_failure(msg) || attempt == 2)
			break;
		sleep_ms(backoff_ms[attempt]);
	}
	pd_err_set(err, PD_ESERVICE, "cannot connect to PostgreSQL: %s", msg);
	return NULL;
}

PGconn *pd_db_connect_like(PGconn *c, pd_err *err)
{
	PQconninfoOption *opts = PQconninfo(c);
	if (!opts) {
		pd_err_set(err, PD_ESERVICE, "cannot connect to PostgreSQL: out of memory");
		return NULL;
	}
	int n = 0;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		n++;
	const char **keys = xcalloc((size_t)n + 1, sizeof *keys);
	const char **vals = xcalloc((size_t)n + 1, sizeof *vals);
	int k = 0;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val && *o->val) {
			keys[k] = o->keyword;
			vals[k++] = o->val;
		}
	PGconn *d = PQconnectdbParams(keys, vals, 0);
	free(keys);
	free(vals);
	PQconninfoFree(opts);
	if (!d || PQstatus(d) != CONNECTION_OK) {
		char msg[480];
		fold_message(d ? PQerrorMessage(d) : "out of memory", msg, sizeof msg);
		PQfinish(d);
		pd_err_set(err, PD_ESERVICE, "cannot connect to PostgreSQL: %s", msg);
		return NULL;
	}
	PQsetNoticeProcessor(d, quiet_notices, NULL);
	return d;
}

/*
 * no_schema: 1 when the server's error is an undefined table (SQLSTATE
 * 42P01) of a database pd-store never migrated, or
 * migrated with an older pd; err then says so and how to fix it, instead
 * of the raw `relation "active_patterns" does not exist`.  The message is
 * checked too, for errors that reach us without a result (PQerrorMessage).
 */
static int no_schema(const char *sqlstate, const char *msg, pd_err *err)
{
	int undefined = sqlstate ? !strcmp(sqlstate, "42P01")
				 : strstr(msg, "relation \"") && strstr(msg, "\" does not exist");
	if (!undefined)
		return 0;
	const char *q = strchr(msg, '"'), *e = q ? strchr(q + 1, '"') : NULL;
	pd_err_set(err, PD_ESERVICE, "database has no pd schema%s%.*s%s; run pd-store --migrate",
		   q && e ? " (no relation " : "", q && e ? (int)(e - q + 1) : 0, q ? q : "",
		   q && e ? ")" : "");
	return 1;
}

/* failed: 1 when r is not a success; then r is cleared and err says why */
static int failed(PGconn *c, PGresult *r, pd_err *err)
{
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	char msg[480];
	fold_message(r ? PQresultErrorMessage(r) : PQerrorMessage(c), msg, sizeof msg);
	if (!*msg)
		fold_message(PQerrorMessage(c), msg, sizeof msg);
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (!no_schema(state, msg, err))
		pd_err_set(err, PD_ESERVICE, "database: %s", msg);
	PQclear(r);
	return 1;
}

int pd_db_exec(PGconn *c, const char *sql, pd_err *err)
{
	PGresult *r = PQexec(c, sql);
	if (failed(c, r, err))
		return -1;
	PQclear(r);
	return 0;
}

PGresult *pd_db_query(PGconn *c, const char *sql, int nparams, const char *const *params,
		      pd_err *err)
{
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (failed(c, r, err))
		return NULL;
	return r;
}

/* ---- binary COPY ------------------------------------------------------- */

static void put16(pd_buf *b, uint16_t v)
{
	unsigned char p[2] = { (unsigned char)(v >> 8), (unsigned char)v };
	pd_buf_add(b, p, 2);
}

static void put32(pd_buf *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };
	pd_buf_add(b, p, 4);
}

static void put64(pd_buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

void pd_copy_header(pd_buf *b)
{
	static const char sig[11] = { 'P', 'G', 'C', 'O', 'P', 'Y', '\n', '\377', '\r', '\n', 0 };
	pd_buf_add(b, sig, sizeof sig);
	put32(b, 0);	/* flags */
	put32(b, 0);	/* header extension length */
}

void pd_copy_row(pd_buf *b, int ncols) { put16(b, (uint16_t)ncols); }
void pd_copy_null(pd_buf *b) { put32(b, 0xffffffffu); }

void pd_copy_text(pd_buf *b, const char *s, size_t n)
{
	put32(b, (uint32_t)n);
	pd_buf_add(b, s, n);
}

void pd_copy_jsonb(pd_buf *b, const char *s, size_t n)
{
	put32(b, (uint32_t)(n + 1));
	pd_buf_addc(b, 1);	/* jsonb binary format version */
	pd_buf_add(b, s, n);
}

void pd_copy_int4(pd_buf *b, int32_t v)
{
	put32(b, 4);
	put32(b, (uint32_t)v);
}

void pd_copy_int8(pd_buf *b, int64_t v)
{
	put32(b, 8);
	put64(b, (uint64_t)v);
}

void pd_copy_float8(pd_buf *b, double v)
{
	uint64_t u;
	memcpy(&u, &v, 8);
	put32(b, 8);
	put64(b, u);
}

void pd_copy_bool(pd_buf *b, int v)
{
	put32(b, 1);
	pd_buf_addc(b, v ? 1 : 0);
}

void pd_copy_timestamptz(pd_buf *b, double epoch_s)
{
	/* PostgreSQL's epoch is 2000-01-01T00:00:00Z, 946684800 s after Unix's */
	double us = (epoch_s - 946684800.0) * 1e6;
	pd_copy_int8(b, (int64_t)llround(us));
}

void pd_copy_text_array(pd_buf *b, const char *const *s, int n)
{
	size_t len = 12 + (n > 0 ? 8 : 0);
	for (int i = 0; i < n; i++)
		len += 4 + strlen(s[i]);
	put32(b, (uint32_t)len);
	put32(b, n > 0 ? 1 : 0);	/* dimensions */
	put32(b, 0);			/* no nulls */
	put32(b, 25);			/* element type: text */
	if (n > 0) {
		put32(b, (uint32_t)n);	/* size of the dimension */
		put32(b, 1);		/* lower bound */
	}
	for (int i = 0; i < n; i++)
		pd_copy_text(b, s[i], strlen(s[i]));
}

void pd_copy_vector(pd_buf *b, const float *v, int dim)
{
	put32(b, (uint32_t)(4 + 4 * (size_t)dim));
	put16(b, (uint16_t)dim);
	put16(b, 0);
	pd_buf_grow(b, 4 * (size_t)dim);
	unsigned char *p = (unsigned char *)b->p + b->len;
	for (int i = 0; i < dim; i++) {
		uint32_t u;
		memcpy(&u, &v[i], 4);
		p[4 * i] = (unsigned char)(u >> 24);
		p[4 * i + 1] = (unsigned char)(u >> 16);
		p[4 * i + 2] = (unsigned char)(u >> 8);
		p[4 * i + 3] = (unsigned char)u;
	}
	b->len += 4 * (size_t)dim;
	b->p[b->len] = 0;
}

int pd_db_copy_begin(PGconn *c, const char *sql, pd_buf *b, pd_err *err)
{
	PGresult *r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		char msg[480];
		fold_message(r ? PQresultErrorMessage(r) : PQerrorMessage(c), msg, sizeof msg);
		PQclear(r);
		return pd_err_set(err, PD_ESERVICE, "database: COPY: %s", msg);
	}
	PQclear(r);
	pd_buf_reset(b);
	pd_copy_header(b);
	return 0;
}

int pd_db_copy_send(PGconn *c, pd_buf *b, pd_err *err)
{
	if (b->len && PQputCopyData(c, b->p, (int)b->len) != 1)
		return pd_db_error(c, "database: COPY", err);
	pd_buf_reset(b);
	return 0;
}

long long pd_db_copy_end(PGconn *c, pd_buf *b, pd_err *err)
{
	put16(b, 0xffff);	/* file trailer */
	if (pd_db_copy_send(c, b, err) < 0)
		return -1;
	if (PQputCopyEnd(c, NULL) != 1)
		return pd_db_error(c, "database: COPY", err);
	PGresult *r;
	long long n = -1;
	int failed = 0;
	char msg[480] = "";
	while ((r = PQgetResult(c)) != NULL) {
		if (PQresultStatus(r) == PGRES_COMMAND_OK)
			n = strtoll(PQcmdTuples(r), NULL, 10);
		else if (!failed) {
			failed = 1;
			fold_message(PQresultErrorMessage(r), msg, sizeof msg);
		}
		PQclear(r);
	}
	if (failed || n < 0) {
		if (!*msg)
			fold_message(PQerrorMessage(c), msg, sizeof msg);
		pd_err_set(err, PD_ESERVICE, "database: COPY: %s", msg);
		return -1;
	}
	return n;
}

void pd_db_copy_abort(PGconn *c, const char *why)
{
	if (PQputCopyEnd(c, why ? why : "aborted") == 1) {
		PGresult *r;
		while ((r = PQgetResult(c)) != NULL)
			PQclear(r);
	}
}

/* ---- reading videos back ----------------------------------------------- */

enum {
	RV_ID, RV_CHANNEL_ID, RV_CHANNEL_TITLE, RV_TITLE, RV_DESCRIPTION, RV_TAGS, RV_CATEGORY,
	RV_FORMAT, RV_PUBLISHED, RV_OBSERVED, RV_DURATION, RV_VIEWS, RV_LIKES, RV_COMMENTS,
	RV_IS_SHORT, RV_AGE, RV_PERF, RV_PERF_BASIS, RV_PERF_REASON, RV_EXTRA, RV_MACRO,
	RV_MESO, RV_MICRO, RV_CLUSTER_SIM, RV_OTHER, RV_EMBEDDING, RV_NCOLS
};

#define VIDEO_COLUMNS \
	"SELECT id, channel_id, channel_title, title, description, array_to_json(tags)::text," \
	" category, format, extract(epoch FROM published_at)::float8," \
	" extract(epoch FROM observed_at)::float8, duration_s, views, likes, comments, is_short," \
	" age_days, perf, perf_basis, perf_reason, extra::text, m.macro, m.meso," \
	" m.micro, m.sim, other_fields::text, embedding::text" \
	" FROM videos v LEFT JOIN active_video_clusters m ON m.video_id = v.id"

static const char read_videos_sql[] =
	VIDEO_COLUMNS
	" WHERE $1::timestamptz IS NULL OR v.updated_at > $1::timestamptz"
	" ORDER BY id COLLATE \"C\"";

/* one video, as pd_db_read_videos reads it (pd_db_read_video) */
static const char read_video_sql[] = VIDEO_COLUMNS " WHERE v.id = $1";
#define READ_VIDEO_STMT "pd_read_video"

/* JSON text s[0..n) appended without the whitespace outside strings. */
static void add_compact(pd_buf *b, const char *s, size_t n)
{
	int in_str = 0;
	pd_buf_grow(b, n);
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (in_str) {
			if (ch == '\\' && i + 1 < n) {
				pd_buf_addc(b, ch);
				ch = s[++i];
			} else if (ch == '"')
				in_str = 0;
		} else if (ch == '"')
			in_str = 1;
		else if (ch == ' ' || ch == '\n' || ch == '\t' || ch == '\r')
			continue;
		pd_buf_addc(b, ch);
	}
}

/* a text column, NULL when null */
static const char *col_str(PGresult *r, int col)
{
	return PQgetisnull(r, 0, col) ? NULL : PQgetvalue(r, 0, col);
}

/* a number column (PostgreSQL's float text), NAN when null or not finite */
static double col_num(PGresult *r, int col)
{
	if (PQgetisnull(r, 0, col))
		return NAN;
	double d = strtod(PQgetvalue(r, 0, col), NULL);
	return isfinite(d) ? d : NAN;
}

/*
 * One row as a video record into b (lib/video.h's writer, without the
 * newline); -1 with err on a malformed embedding.  Null columns are left
 * out, except perf (null).  tags arrive as JSON text (array_to_json),
 * other_fields as an object whose members follow cluster_sim.
 */
static int format_video(PGresult *r, pd_buf *b, float **emb, size_t *cap, pd_err *err)
{
	pd_buf_reset(b);
	pd_video v;
	pd_video_init(&v);
	v.id = PQgetvalue(r, 0, RV_ID);
	static const struct {
		int col;
		unsigned bit;
	} present[] = {
		{ RV_CHANNEL_ID, PD_VF_CHANNEL_ID }, { RV_CHANNEL_TITLE, PD_VF_CHANNEL_TITLE },
		{ RV_TITLE, PD_VF_TITLE }, { RV_DESCRIPTION, PD_VF_DESCRIPTION },
		{ RV_TAGS, PD_VF_TAGS }, { RV_CATEGORY, PD_VF_CATEGORY }, { RV_FORMAT, PD_VF_FORMAT },
		{ RV_PUBLISHED, PD_VF_PUBLISHED_AT }, { RV_OBSERVED, PD_VF_OBSERVED_AT },
		{ RV_DURATION, PD_VF_DURATION_S }, { RV_VIEWS, PD_VF_VIEWS }, { RV_LIKES, PD_VF_LIKES },
		{ RV_COMMENTS, PD_VF_COMMENTS }, { RV_IS_SHORT, PD_VF_IS_SHORT },
		{ RV_AGE, PD_VF_AGE_DAYS }, { RV_PERF_BASIS, PD_VF_PERF_BASIS },
		{ RV_PERF_REASON, PD_VF_PERF_REASON }, { RV_CLUSTER_SIM, PD_VF_CLUSTER_SIM },
	};
	v.fields = PD_VF_PERF;
	for (size_t i = 0; i < sizeof present / sizeof *present; i++)
		if (!PQgetisnull(r, 0, present[i].col))
			v.fields |= present[i].bit;
	v.channel_id = col_str(r, RV_CHANNEL_ID);
	v.channel_title = col_str(r, RV_CHANNEL_TITLE);
	v.title = col_str(r, RV_TITLE);
	v.description = col_str(r, RV_DESCRIPTION);
	v.category = col_str(r, RV_CATEGORY);
	v.format = col_str(r, RV_FORMAT);
	v.published_at = col_num(r, RV_PUBLISHED);
	v.observed_at = col_num(r, RV_OBSERVED);
	v.duration_s = col_num(r, RV_DURATION);
	v.views = col_num(r, RV_VIEWS);
	v.likes = col_num(r, RV_LIKES);
	v.comments = col_num(r, RV_COMMENTS);
	if (!PQgetisnull(r, 0, RV_IS_SHORT))
		v.is_short = PQgetvalue(r, 0, RV_IS_SHORT)[0] == 't';
	v.age_days = col_num(r, RV_AGE);
	v.perf = col_num(r, RV_PERF);
	double basis = col_num(r, RV_PERF_BASIS);	/* NaN when NULL: no cast of it */
	v.perf_basis = basis >= 0 && basis <= INT_MAX ? (int)basis : 0;
	v.perf_reason = col_str(r, RV_PERF_REASON);
	v.cluster_sim = col_num(r, RV_CLUSTER_SIM);
	for (int i = 0; i < 3; i++)
		if ((v.cluster[i] = col_str(r, RV_MACRO + i)))
			v.fields |= PD_VF_CLUSTER;
	cJSON *tags = NULL;
	if (!PQgetisnull(r, 0, RV_TAGS)) {
		tags = cJSON_ParseWithLength(PQgetvalue(r, 0, RV_TAGS),
					     (size_t)PQgetlength(r, 0, RV_TAGS));
		int n = cJSON_GetArraySize(tags), k = 0;
		v.tags = xcalloc((size_t)n + 1, sizeof *v.tags);
		const cJSON *t;
		cJSON_ArrayForEach(t, tags)
			if (cJSON_IsString(t))
				v.tags[k++] = t->valuestring;
		v.ntags = k;
	}
	pd_buf extra = PD_BUF_INIT, rest = PD_BUF_INIT;
	if (!PQgetisnull(r, 0, RV_EXTRA)) {
		add_compact(&extra, PQgetvalue(r, 0, RV_EXTRA), (size_t)PQgetlength(r, 0, RV_EXTRA));
		v.extra = extra.p;
		v.extra_len = extra.len;
	}
	if (!PQgetisnull(r, 0, RV_OTHER)) {
		const char *o = PQgetvalue(r, 0, RV_OTHER);
		size_t on = (size_t)PQgetlength(r, 0, RV_OTHER);
		/* the object's members, without its braces */
		while (on && o[on - 1] != '}')
			on--;
		if (on >= 2 && o[0] == '{')
			add_compact(&rest, o + 1, on - 2);
	}
	int ret = 0;
	if (!PQgetisnull(r, 0, RV_EMBEDDING)) {
		int dim = 0;
		if (pd_vec_parse_json(PQgetvalue(r, 0, RV_EMBEDDING),
				      (size_t)PQgetlength(r, 0, RV_EMBEDDING), emb, cap, &dim, err) < 0) {
			ret = pd_err_set(err, PD_ESERVICE, "video '%s': stored embedding: %s",
					 PQgetvalue(r, 0, RV_ID), err ? err->msg : "malformed");
		} else {
			if (rest.len)
				pd_buf_addc(&rest, ',');
			pd_buf_adds(&rest, "\"embedding_b64\":\"");
			pd_vec_add_b64(&rest, *emb, dim);
			pd_buf_addc(&rest, '"');
		}
	}
	v.rest = rest.p;
	v.rest_len = rest.len;
	if (ret == 0) {
		pd_video_write(b, &v);
		b->p[--b->len] = 0;	/* one record a call, as the callback's contract says */
	}
	free(v.tags);
	cJSON_Delete(tags);
	pd_buf_release(&extra);
	pd_buf_release(&rest);
	return ret;
}

int pd_db_read_videos(PGconn *c, const char *since,
		      int (*cb)(void *ud, const char *json, size_t len), void *ud, pd_err *err)
{
	double t;
	if (since && pd_time_parse(since, &t) < 0)
		return pd_err_set(err, PD_EUSAGE, "'%s' is not an RFC 3339 time", since);
	const char *params[1] = { since };
	if (!PQsendQueryParams(c, read_videos_sql, 1, NULL, params, NULL, NULL, 0))
		return pd_db_error(c, "database", err);
	if (!PQsetSingleRowMode(c)) {
		pd_db_error(c, "database: single-row mode", err);
		while (PQgetResult(c))
			;
		return -1;
	}
	pd_buf b = PD_BUF_INIT;
	float *emb = NULL;
	size_t cap = 0;
	int ret = 0, stopped = 0;
	PGresult *r;
	while ((r = PQgetResult(c)) != NULL) {
		ExecStatusType st = PQresultStatus(r);
		if (st == PGRES_SINGLE_TUPLE && !stopped && ret == 0) {
			if (PQnfields(r) != RV_NCOLS) {
				ret = pd_err_set(err, PD_ESERVICE, "database: unexpected columns");
			} else if (format_video(r, &b, &emb, &cap, err) < 0) {
				ret = -1;
			} else {
				int rc = cb(ud, b.p, b.len);
				if (rc) {
					ret = rc;
					stopped = 1;
					/* ask the server to stop; the rest is drained */
					PGcancel *cn = PQgetCancel(c);
					if (cn) {
						char eb[256];
						PQcancel(cn, eb, sizeof eb);
						PQfreeCancel(cn);
					}
				}
			}
		} else if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK && !stopped && ret == 0) {
			char msg[480];
			fold_message(PQresultErrorMessage(r), msg, sizeof msg);
			ret = no_schema(PQresultErrorField(r, PG_DIAG_SQLSTATE), msg, err) ? -1
			    : pd_err_set(err, PD_ESERVICE, "database: reading videos: %s", msg);
		}
		PQclear(r);
	}
	pd_buf_release(&b);
	free(emb);
	return ret;
}

int pd_db_read_video(PGconn *c, const char *id, pd_buf *out, pd_err *err)
{
	const char *params[1] = { id };
	pd_buf_reset(out);
	PGresult *r = PQexecPrepared(c, READ_VIDEO_STMT, 1, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		int unprepared = state && !strcmp(state, "26000");
		PQclear(r);
		if (!unprepared)
			return pd_db_error(c, "video lookup", err);
		r = PQprepare(c, READ_VIDEO_STMT, read_video_sql, 1, NULL);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			PQclear(r);
			return pd_db_error(c, "video lookup", err);
		}
		PQclear(r);
		r = PQexecPrepared(c, READ_VIDEO_STMT, 1, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			PQclear(r);
			return pd_db_error(c, "video lookup", err);
		}
	}
	int ret = 0;
	if (PQntuples(r) > 0) {
		float *emb = NULL;
		size_t cap = 0;
		if (PQnfields(r) != RV_NCOLS)
			ret = pd_err_set(err, PD_ESERVICE, "video lookup: unexpected columns");
		else
			ret = format_video(r, out, &emb, &cap, err) < 0 ? -1 : 1;
		free(emb);
	}
	PQclear(r);
	return ret;
}
