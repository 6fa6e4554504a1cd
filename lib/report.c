/*
 * report.c — pd-report's HTML page; see report.h.
 *
 * The page is built in one pass into a pd_buf from plain arrays collected
 * beforehand (patterns, niches, metrics, runs, effectiveness rows), so the
 * two sources (stream records, database rows) meet in one model and one
 * renderer.  Everything that came from data goes through esc(), which
 * escapes the five HTML-special characters and replaces malformed UTF-8 and
 * control characters, so a title in any script (or a hostile one) is text,
 * never markup.  Charts are inline SVG drawn here with fixed viewBoxes and
 * plain shapes; the page's script only sorts and filters tables and never
 * writes to the console, so a headless browser's console stays empty.
 *
 * Size: niches collapse into <details>, pattern rows per niche and niches
 * are capped (the page says how many were left out), so 1,000 niches and
 * 10,000 patterns stay a page of a few megabytes that a browser lays out in
 * a second or two.
 *
 * Redis INFO comes through lib/cache.h (pd_cache_info), the one door to
 * Redis.
 */
#include "pd.h"
#include "report.h"
#include "db.h"
#include "cache.h"
#include "strmap.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NA NAN

typedef struct rpat {
	char *id, *name, *desc, *cluster, *level, *label, *kind, *status, *ptype, *wfrom, *wto;
	double conf, effect, lo, hi, mw, mwo, prank, q, n, n_with, channels, ho_n_with, ho_p;
	int repl;		/* -1 not tested on newer videos, 0 did not hold, 1 held */
	int niche;		/* index in r->c */
} rpat;

typedef struct rniche {
	char *id, *level, *parent, *label;
	double size, median, channels;
	int *pats, npats, cap;
	int described;		/* a cluster record (or row) described it */
} rniche;

typedef struct rmetric {
	int run;
	char *stage;
	double seconds, rin, rout, rej, chits, cmiss;
} rmetric;

typedef struct rrun {
	char *id, *status, *started;
	double videos, clusters, patterns, rejected, seconds;
	char stages[16][24];	/* stream runs: stages seen, to split concatenated runs */
	int nstages;
} rrun;

typedef struct reff {
	char *pid, *run, *name, *at;
	char *flag;		/* pd-track's flag_reason, NULL when not flagged */
	double pred, act, videos;
} reff;

struct pd_report {
	rpat *p;
	int np, capp;
	rniche *c;
	int nc, capc;
	pd_strmap *cmap;	/* cluster id -> index in c */
	rmetric *m;
	int nm, capm;
	rrun *runs;
	int nr, capr;
	pd_strmap *rmap;	/* run id -> index in runs (database) */
	int stream_run;		/* current run of a stream, -1 before the first metric */
	reff *e;
	int ne, cape;
	long long videos, records;
	int have_videos;
	int from_db, db_empty;
	char *active_run, *active_started;
	long long total_runs;
	int redis_state;	/* 0 not asked, 1 figures, -1 unavailable */
	long long rhits, rmisses;
	char *redis_why;
	int track;		/* 0 absent, 1 present */
	char *track_note;
};

/* ---------- model ---------- */

#define GROW(arr, n, cap) do { if ((n) == (cap)) { (cap) = (cap) ? 2 * (cap) : 16; \
	(arr) = xreallocarray((arr), (size_t)(cap), sizeof *(arr)); } } while (0)

static char *dupn(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

pd_report *pd_report_new(void)
{
	pd_report *r = xcalloc(1, sizeof *r);
	r->cmap = pd_strmap_new();
	r->rmap = pd_strmap_new();
	r->stream_run = -1;
	return r;
}

void pd_report_free(pd_report *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->np; i++) {
		rpat *p = &r->p[i];
		free(p->id), free(p->name), free(p->desc), free(p->cluster), free(p->level);
		free(p->label), free(p->kind), free(p->status), free(p->ptype), free(p->wfrom);
		free(p->wto);
	}
	for (int i = 0; i < r->nc; i++) {
		rniche *c = &r->c[i];
		free(c->id), free(c->level), free(c->parent), free(c->label), free(c->pats);
	}
	for (int i = 0; i < r->nm; i++)
		free(r->m[i].stage);
	for (int i = 0; i < r->nr; i++)
		free(r->runs[i].id), free(r->runs[i].status), free(r->runs[i].started);
	for (int i = 0; i < r->ne; i++)
		free(r->e[i].pid), free(r->e[i].run), free(r->e[i].name), free(r->e[i].at), free(r->e[i].flag);
	free(r->p), free(r->c), free(r->m), free(r->runs), free(r->e);
	pd_strmap_free(r->cmap);
	pd_strmap_free(r->rmap);
	free(r->active_run), free(r->active_started), free(r->redis_why), free(r->track_note);
	free(r);
}

static int niche_of(pd_report *r, const char *id)
{
	int added = 0;
	int i = pd_strmap_intern(r->cmap, id, strlen(id), &added);
	if (added) {
		GROW(r->c, r->nc, r->capc);
		rniche *c = &r->c[r->nc++];
		memset(c, 0, sizeof *c);
		c->id = xstrdup(id);
		c->size = c->median = c->channels = NA;
	}
	return i;
}

static double num(const cJSON *o, const char *key)
{
	return pd_json_num(o, key, NA);
}

/* A label: a string, or an array of strings joined with ", ". */
static char *label_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (!cJSON_IsArray(v))
		return NULL;
	pd_buf b = PD_BUF_INIT;
	const cJSON *it;
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it))
			continue;
		if (b.len)
			pd_buf_adds(&b, ", ");
		pd_buf_adds(&b, it->valuestring);
	}
	return b.len ? pd_buf_detach(&b) : (pd_buf_release(&b), NULL);
}

static void add_pattern(pd_report *r, const cJSON *o)
{
	GROW(r->p, r->np, r->capp);
	rpat *p = &r->p[r->np++];
	memset(p, 0, sizeof *p);
	p->id = dupn(pd_json_str(o, "id"));
	p->name = dupn(pd_json_str(o, "name"));
	p->desc = dupn(pd_json_str(o, "description"));
	p->cluster = dupn(pd_json_str(o, "cluster"));
	p->level = dupn(pd_json_str(o, "level"));
	p->label = label_text(cJSON_GetObjectItemCaseSensitive(o, "label"));
	p->kind = dupn(pd_json_str(o, "kind"));
	p->status = dupn(pd_json_str(o, "status"));
	p->ptype = dupn(pd_json_str(o, "pattern_type"));
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "window");
	p->wfrom = dupn(pd_json_str(w, "from"));
	p->wto = dupn(pd_json_str(w, "to"));
	p->conf = num(o, "confidence");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "stats");
	p->effect = num(st, "effect");
	if (isnan(p->effect))
		p->effect = num(st, "lift");
	p->lo = p->hi = NA;
	const cJSON *ci = cJSON_GetObjectItemCaseSensitive(st, "effect_ci");
	if (cJSON_GetArraySize(ci) == 2 && cJSON_IsNumber(cJSON_GetArrayItem(ci, 0)) &&
	    cJSON_IsNumber(cJSON_GetArrayItem(ci, 1))) {
		p->lo = cJSON_GetArrayItem(ci, 0)->valuedouble;
		p->hi = cJSON_GetArrayItem(ci, 1)->valuedouble;
	}
	p->mw = num(st, "median_perf_with");
	p->mwo = num(st, "median_perf_without");
	p->prank = num(st, "p_rank");
	p->q = num(st, "q");
	if (isnan(p->q))
		p->q = num(o, "q");
	p->n = num(st, "n");
	p->n_with = num(st, "n_with");
	p->channels = num(st, "channels");
	if (isnan(p->conf)) {
		const cJSON *pdd = cJSON_GetObjectItemCaseSensitive(o, "pattern_data");
		p->conf = num(pdd, "confidence");
	}
	p->repl = -1;
	p->ho_n_with = p->ho_p = NA;
	const cJSON *ho = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(o, "validation"), "holdout");
	if (cJSON_IsObject(ho)) {
		const cJSON *rep = cJSON_GetObjectItemCaseSensitive(ho, "replicated");
		if (cJSON_IsBool(rep))
			p->repl = cJSON_IsTrue(rep);
		p->ho_n_with = num(ho, "n_with");
		const cJSON *rk = cJSON_GetObjectItemCaseSensitive(ho, "rank");
		p->ho_p = cJSON_IsObject(rk) ? num(rk, "p_rank") : num(ho, "p");
	}
	p->niche = niche_of(r, p->cluster ? p->cluster : "(no niche)");
	rniche *c = &r->c[p->niche];
	if (!c->label && p->label)
		c->label = xstrdup(p->label);
	if (!c->level && p->level)
		c->level = xstrdup(p->level);
	GROW(c->pats, c->npats, c->cap);
	c->pats[c->npats++] = r->np - 1;
}

static void add_cluster(pd_report *r, const cJSON *o)
{
	const char *id = pd_json_str(o, "id");
	if (!id)
		return;
	int k = niche_of(r, id);	/* may move r->c */
	rniche *c = &r->c[k];
	c->described = 1;
	char *lab = label_text(cJSON_GetObjectItemCaseSensitive(o, "label"));
	if (lab) {
		free(c->label);
		c->label = lab;
	}
	if (pd_json_str(o, "level")) {
		free(c->level);
		c->level = xstrdup(pd_json_str(o, "level"));
	}
	free(c->parent);
	c->parent = dupn(pd_json_str(o, "parent"));
	c->size = num(o, "size");
	const cJSON *perf = cJSON_GetObjectItemCaseSensitive(o, "perf");
	c->median = cJSON_IsObject(perf) ? num(perf, "median") : NA;
	const cJSON *ch = cJSON_GetObjectItemCaseSensitive(o, "channels");
	c->channels = cJSON_IsNumber(ch) ? ch->valuedouble : NA;
}

static int new_run(pd_report *r, const char *id)
{
	GROW(r->runs, r->nr, r->capr);
	rrun *u = &r->runs[r->nr];
	memset(u, 0, sizeof *u);
	u->id = xstrdup(id);
	u->videos = u->clusters = u->patterns = u->rejected = u->seconds = NA;
	return r->nr++;
}

static void add_metric(pd_report *r, int run, const char *stage, double seconds, double rin,
		       double rout, double rej, const cJSON *o)
{
	GROW(r->m, r->nm, r->capm);
	rmetric *m = &r->m[r->nm++];
	m->run = run;
	m->stage = xstrdup(stage ? stage : "?");
	m->seconds = seconds;
	m->rin = rin;
	m->rout = rout;
	m->rej = rej;
	m->chits = num(o, "cache_hits");
	m->cmiss = num(o, "cache_misses");
}

/* A stream metric: a stage already seen in the current run starts the next
 * run (pipelines' outputs concatenated are several runs). */
static void add_stream_metric(pd_report *r, const cJSON *o)
{
	const char *stage = pd_json_str(o, "stage");
	if (!stage)
		stage = "?";
	rrun *u = r->stream_run >= 0 ? &r->runs[r->stream_run] : NULL;
	int seen = 0;
	for (int i = 0; u && i < u->nstages; i++)
		if (!strcmp(u->stages[i], stage))
			seen = 1;
	if (!u || seen) {
		char id[32];
		snprintf(id, sizeof id, "%d", r->nr + 1);
		r->stream_run = new_run(r, id);
		u = &r->runs[r->stream_run];
	}
	if (u->nstages < 16)
		snprintf(u->stages[u->nstages++], sizeof u->stages[0], "%s", stage);
	add_metric(r, r->stream_run, stage, num(o, "seconds"), num(o, "records_in"),
		   num(o, "records_out"), num(o, "rejected"), o);
}

static void add_effectiveness(pd_report *r, const cJSON *o, const char *run)
{
	const char *pid = pd_json_str(o, "pattern_id");
	if (!pid)
		return;
	GROW(r->e, r->ne, r->cape);
	reff *e = &r->e[r->ne++];
	e->pid = xstrdup(pid);
	const cJSON *rv = cJSON_GetObjectItemCaseSensitive(o, "run_id");
	char nb[32];
	if (cJSON_IsNumber(rv)) {
		snprintf(nb, sizeof nb, "%.0f", rv->valuedouble);
		run = nb;
	} else if (cJSON_IsString(rv)) {
		run = rv->valuestring;
	}
	e->run = xstrdup(run ? run : "");
	/* pd-track's records (expected_perf, median_with, n_with, last_predicted_at)
	   or the short names of report.h */
	e->name = dupn(pd_json_str(o, "pattern_name"));
	e->at = dupn(pd_json_str(o, "measured_at") ? pd_json_str(o, "measured_at")
						   : pd_json_str(o, "last_predicted_at"));
	e->pred = num(o, "predicted_perf");
	if (isnan(e->pred))
		e->pred = num(o, "expected_perf");
	e->act = num(o, "actual_perf");
	if (isnan(e->act))
		e->act = num(o, "median_with");
	e->videos = num(o, "videos");
	if (isnan(e->videos))
		e->videos = num(o, "n_with");
	e->flag = dupn(pd_json_str(o, "flag_reason"));
}

int pd_report_add_line(pd_report *r, const char *line, size_t n, pd_err *err)
{
	char type[32];
	if (pd_json_type(line, n, type, sizeof type, err) != 1)
		return -1;
	r->records++;
	if (!strcmp(type, "video")) {
		r->videos++;
		r->have_videos = 1;
		return 1;
	}
	if (strcmp(type, "pattern") && strcmp(type, "cluster") && strcmp(type, "metric") &&
	    strcmp(type, "effectiveness"))
		return 0;
	cJSON *o = cJSON_ParseWithLength(line, n);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return pd_err_set(err, PD_EREC, "malformed JSON record");
	}
	if (!strcmp(type, "pattern")) {
		if (!pd_json_str(o, "id")) {
			cJSON_Delete(o);
			return pd_err_set(err, PD_EREC, "pattern record without a string \"id\"");
		}
		add_pattern(r, o);
	} else if (!strcmp(type, "cluster")) {
		if (!pd_json_str(o, "id")) {
			cJSON_Delete(o);
			return pd_err_set(err, PD_EREC, "cluster record without a string \"id\"");
		}
		add_cluster(r, o);
	} else if (!strcmp(type, "metric")) {
		add_stream_metric(r, o);
	} else {
		if (!pd_json_str(o, "pattern_id")) {
			cJSON_Delete(o);
			return pd_err_set(err, PD_EREC,
					  "effectiveness record without a string \"pattern_id\"");
		}
		add_effectiveness(r, o, NULL);
		r->track = 1;
	}
	cJSON_Delete(o);
	return 1;
}

void pd_report_set_redis(pd_report *r, long long hits, long long misses, const char *why)
{
	free(r->redis_why);
	r->redis_why = dupn(why);
	r->redis_state = why ? -1 : 1;
	r->rhits = hits;
	r->rmisses = misses;
}

void pd_report_counts(const pd_report *r, long *patterns, long *niches, long *runs)
{
	if (patterns)
		*patterns = r->np;
	if (niches)
		*niches = r->nc;
	if (runs)
		*runs = r->nr;
}

/* ---------- database ---------- */

static double dbnum(PGresult *q, int row, int col)
{
	return PQgetisnull(q, row, col) ? NA : atof(PQgetvalue(q, row, col));
}

static const char *dbstr(PGresult *q, int row, int col)
{
	return PQgetisnull(q, row, col) ? NULL : PQgetvalue(q, row, col);
}

/* Each row's column 0 (a record's JSON text) through fn. */
static void rows_as_records(pd_report *r, PGresult *q, void (*fn)(pd_report *, const cJSON *))
{
	for (int i = 0; i < PQntuples(q); i++) {
		cJSON *o = cJSON_Parse(PQgetvalue(q, i, 0));
		if (cJSON_IsObject(o))
			fn(r, o);
		cJSON_Delete(o);
	}
}

int pd_report_load_db(pd_report *r, PGconn *c, int max_runs, pd_err *err)
{
	r->from_db = 1;
	char lim[24];
	snprintf(lim, sizeof lim, "%d", max_runs > 0 ? max_runs : 30);
	const char *p1[1] = { lim };
	PGresult *q = pd_db_query(c, "SELECT to_regclass('discovery_runs') IS NULL", 0, NULL, err);
	if (!q)
		return -1;
	int empty = PQgetvalue(q, 0, 0)[0] == 't';
	PQclear(q);
	if (empty) {
		r->db_empty = 1;	/* pd-store has not run here yet: an empty page says so */
		return 0;
	}
	q = pd_db_query(c, "SELECT run_id::text, started_at::text FROM discovery_runs"
				  " WHERE status = 'active'", 0, NULL, err);
	if (!q)
		return -1;
	if (PQntuples(q)) {
		r->active_run = xstrdup(PQgetvalue(q, 0, 0));
		r->active_started = xstrdup(PQgetvalue(q, 0, 1));
	}
	PQclear(q);
	if (r->active_run) {
		const char *pa[1] = { r->active_run };
		q = pd_db_query(c, "SELECT (record - 'centroid_b64')::text FROM clusters"
				" WHERE run_id = $1::bigint ORDER BY id", 1, pa, err);
		if (!q)
			return -1;
		rows_as_records(r, q, add_cluster);
		PQclear(q);
		q = pd_db_query(c, "SELECT (record - 'centroid_b64')::text FROM patterns"
				" WHERE run_id = $1::bigint ORDER BY id", 1, pa, err);
		if (!q)
			return -1;
		rows_as_records(r, q, add_pattern);
		PQclear(q);
		q = pd_db_query(c, "SELECT videos FROM discovery_runs WHERE run_id = $1::bigint",
				1, pa, err);
		if (!q)
			return -1;
		if (PQntuples(q) && !PQgetisnull(q, 0, 0)) {
			r->videos = atoll(PQgetvalue(q, 0, 0));
			r->have_videos = 1;
		}
		PQclear(q);
	}
	q = pd_db_query(c, "SELECT count(*) FROM discovery_runs", 0, NULL, err);
	if (!q)
		return -1;
	r->total_runs = atoll(PQgetvalue(q, 0, 0));
	PQclear(q);
	q = pd_db_query(c, "SELECT run_id::text, status,"
			" to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
			" videos, clusters, patterns, rejected,"
			" extract(epoch FROM finished_at - started_at)"
			" FROM (SELECT * FROM discovery_runs ORDER BY run_id DESC LIMIT $1::int) d"
			" ORDER BY run_id", 1, p1, err);
	if (!q)
		return -1;
	for (int i = 0; i < PQntuples(q); i++) {
		const char *id = PQgetvalue(q, i, 0);
		int added;
		pd_strmap_intern(r->rmap, id, strlen(id), &added);
		int k = new_run(r, id);
		rrun *u = &r->runs[k];
		u->status = dupn(dbstr(q, i, 1));
		u->started = dupn(dbstr(q, i, 2));
		u->videos = dbnum(q, i, 3);
		u->clusters = dbnum(q, i, 4);
		u->patterns = dbnum(q, i, 5);
		u->rejected = dbnum(q, i, 6);
		u->seconds = dbnum(q, i, 7);
	}
	PQclear(q);
	q = pd_db_query(c, "SELECT run_id::text, stage, seconds, records_in, records_out, rejected,"
			" data::text FROM pattern_discovery_metrics WHERE run_id IN"
			" (SELECT run_id FROM discovery_runs ORDER BY run_id DESC LIMIT $1::int)"
			" ORDER BY run_id, seq", 1, p1, err);
	if (!q)
		return -1;
	for (int i = 0; i < PQntuples(q); i++) {
		const char *id = PQgetvalue(q, i, 0);
		int k = pd_strmap_find(r->rmap, id, strlen(id));
		if (k < 0)
			continue;
		cJSON *o = cJSON_Parse(PQgetvalue(q, i, 6));
		add_metric(r, k, dbstr(q, i, 1), dbnum(q, i, 2), dbnum(q, i, 3), dbnum(q, i, 4),
			   dbnum(q, i, 5), o);
		cJSON_Delete(o);
	}
	PQclear(q);
	/* tracking: pd-track's view (migration 2), shown when it has rows */
	q = pd_db_query(c, "SELECT to_regclass('pattern_effectiveness') IS NOT NULL", 0, NULL, err);
	if (!q)
		return -1;
	int have_view = PQgetvalue(q, 0, 0)[0] == 't';
	PQclear(q);
	if (!have_view)
		return 0;
	pd_err e2;
	q = pd_db_query(c, "SELECT e.pattern_id::text, e.run_id::text, p.pattern_data->>'name',"
			" e.expected_perf::float8, e.median_with::float8, e.n_with::float8,"
			" to_char(e.last_predicted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
			" e.flag_reason"
			" FROM pattern_effectiveness e LEFT JOIN patterns p"
			"  ON p.run_id = e.run_id AND p.id = e.pattern_id"
			" ORDER BY e.pattern_id, e.run_id LIMIT 200000", 0, NULL, &e2);
	if (!q) {
		pd_buf b = PD_BUF_INIT;
		pd_buf_printf(&b, "The view pattern_effectiveness could not be read as this "
			      "report expects (%s).", e2.msg);
		r->track = 1;
		r->track_note = pd_buf_detach(&b);
		return 0;
	}
	r->track = PQntuples(q) > 0;
	for (int i = 0; i < PQntuples(q); i++) {
		GROW(r->e, r->ne, r->cape);
		reff *e = &r->e[r->ne++];
		e->pid = xstrdup(PQgetvalue(q, i, 0));
		e->run = xstrdup(PQgetvalue(q, i, 1));
		e->name = dupn(dbstr(q, i, 2));
		e->pred = dbnum(q, i, 3);
		e->act = dbnum(q, i, 4);
		e->videos = dbnum(q, i, 5);
		e->at = dupn(dbstr(q, i, 6));
		e->flag = dupn(dbstr(q, i, 7));
	}
	PQclear(q);
	return 0;
}

/* ---------- Redis ---------- */

int pd_report_redis_info(const char *url, long long *hits, long long *misses, pd_err *err)
{
	pd_cache *c = pd_cache_open(url, 1000, 1000, err);
	if (!c)
		return err && err->code ? -1 : 0;
	int rc = pd_cache_info(c, hits, misses, err) < 0 ? -1 : 1;
	pd_cache_free(c);
	return rc;
}

/* ---------- HTML text ---------- */

/* esc: s as HTML text (safe in elements and quoted attributes). */
static void esc(pd_buf *b, const char *s)
{
	if (!s)
		return;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x80) {
			switch (ch) {
			case '&': pd_buf_adds(b, "&amp;"); break;
			case '<': pd_buf_adds(b, "&lt;"); break;
			case '>': pd_buf_adds(b, "&gt;"); break;
			case '"': pd_buf_adds(b, "&quot;"); break;
			case '\'': pd_buf_adds(b, "&#39;"); break;
			default:
				pd_buf_addc(b, ch < 0x20 || ch == 0x7f ? ' ' : (char)ch);
			}
			i++;
			continue;
		}
		size_t len;
		long cp = pd_utf8_decode(s + i, n - i, &len);
		if (cp < 0 || (cp >= 0x80 && cp < 0xa0))
			pd_buf_adds(b, "\xef\xbf\xbd");	/* U+FFFD */
		else
			pd_buf_add(b, s + i, len);
		i += len;
	}
}

/* A whole number with thousands separators ("12,345"); "–" for NaN. */
static void fint(pd_buf *b, double v)
{
	if (isnan(v)) {
		pd_buf_adds(b, "\xe2\x80\x93");
		return;
	}
	char t[32], o[48];
	snprintf(t, sizeof t, "%.0f", fabs(v));
	size_t n = strlen(t), k = 0;
	if (v <= -0.5)
		o[k++] = '-';
	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			o[k++] = ',';
		o[k++] = t[i];
	}
	o[k] = 0;
	pd_buf_adds(b, o);
}

/* A multiple of the channel normal: "1.14×". */
static void fx(pd_buf *b, double v)
{
	if (isnan(v))
		pd_buf_adds(b, "\xe2\x80\x93");
	else
		pd_buf_printf(b, v >= 10 ? "%.1f\xc3\x97" : "%.2f\xc3\x97", v);
}

static void fpct(pd_buf *b, double v)
{
	if (isnan(v))
		pd_buf_adds(b, "\xe2\x80\x93");
	else if (v > 0 && v < 0.005)
		pd_buf_adds(b, "&lt;1&#8239;%");
	else
		pd_buf_printf(b, "%.0f&#8239;%%", 100 * v);
}

static void fsec(pd_buf *b, double v)
{
	if (isnan(v))
		pd_buf_adds(b, "\xe2\x80\x93");
	else if (v < 10)
		pd_buf_printf(b, "%.2f&#8239;s", v);
	else if (v < 60)
		pd_buf_printf(b, "%.1f&#8239;s", v);
	else if (v < 3600)
		pd_buf_printf(b, "%d&#8239;min %02d&#8239;s", (int)(v / 60), (int)fmod(v, 60));
	else
		pd_buf_printf(b, "%d&#8239;h %02d&#8239;min", (int)(v / 3600), (int)fmod(v / 60, 60));
}

static void fp(pd_buf *b, double p)
{
	if (isnan(p))
		pd_buf_adds(b, "\xe2\x80\x93");
	else if (p < 0.0001)
		pd_buf_adds(b, "&lt;&#8239;0.0001");
	else
		pd_buf_printf(b, "%.2g", p);
}

/* data-v: the sort key of a numeric cell (NaN sorts first ascending). */
static void td_num(pd_buf *b, double v)
{
	pd_buf_adds(b, "<td class=n data-v=\"");
	if (isnan(v))
		pd_buf_adds(b, "-1e308");
	else
		pd_buf_add_num(b, v);
	pd_buf_adds(b, "\">");
}

/* td: a numeric cell: its sort key, v as fmt writes it, then `after` (the
   cell's end, or a unit and the end) */
static void td(pd_buf *b, double v, void (*fmt)(pd_buf *, double), const char *after)
{
	td_num(b, v);
	fmt(b, v);
	pd_buf_adds(b, after);
}

/* ---------- SVG ---------- */

static const char *palette[] = { "#3b6fd8", "#e08a1e", "#2a9d6f", "#c0485a", "#7a4fc2",
				 "#2b9bb3", "#a8892a", "#6b7a8f", "#d0609f", "#4d8a3a" };
#define NPAL ((int)(sizeof palette / sizeof palette[0]))

/* A stage's colour: the pipeline's stages keep theirs across charts. */
static const char *stage_color(const char *s)
{
	static const char *order[] = { "fetch", "embed", "cluster", "mine", "validate", "store",
				       "match", "abtest", "synth", "track" };
	for (int i = 0; i < 10; i++)
		if (!strcmp(s, order[i]))
			return palette[i];
	unsigned h = 0;
	for (; *s; s++)
		h = h * 31 + (unsigned char)*s;
	return palette[h % NPAL];
}

/* A "nice" axis top at or above v. */
static double nice_top(double v)
{
	if (!(v > 0))
		return 1;
	double e = pow(10, floor(log10(v))), m = v / e;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 4 ? 4 : m <= 5 ? 5 : m <= 8 ? 8 : 10) * e;
}

typedef void (*fmt_fn)(pd_buf *, double);

/*
 * svg_bars: a vertical bar chart of n values with labels; what says what a
 * bar is (for the accessible title); fmt formats values with their unit.
 */
static void svg_bars(pd_buf *b, const char *what, int n, char *const *labels, const double *v,
		     fmt_fn fmt, const char *color)
{
	const int W = 760, H = 210, L = 64, R = 12, T = 12, B = 40;
	double mx = 0;
	for (int i = 0; i < n; i++)
		if (!isnan(v[i]) && v[i] > mx)
			mx = v[i];
	/* four grid steps of a round size; whole numbers for counts */
	double step = nice_top(mx / 4);
	if (fmt == fint && step != floor(step))
		step = step < 1 ? 1 : ceil(step);
	double top = 4 * step;
	pd_buf_printf(b, "<svg class=chart viewBox=\"0 0 %d %d\" role=img><title>", W, H);
	esc(b, what);
	pd_buf_adds(b, "</title>");
	for (int g = 0; g <= 4; g++) {
		double y = T + (H - T - B) * (1 - g / 4.0);
		pd_buf_printf(b, "<line x1=%d x2=%d y1=%.1f y2=%.1f class=grid />"
			      "<text x=%d y=%.1f class=ax text-anchor=end>", L, W - R, y, y, L - 6,
			      y + 4);
		fmt(b, top * g / 4);
		pd_buf_adds(b, "</text>");
	}
	double slot = (double)(W - L - R) / (n ? n : 1), bw = slot * 0.72 < 56 ? slot * 0.72 : 56;
	int every = n > 12 ? (n + 11) / 12 : 1;
	for (int i = 0; i < n; i++) {
		double x = L + slot * i + (slot - bw) / 2;
		double h = isnan(v[i]) ? 0 : (H - T - B) * v[i] / top;
		pd_buf_printf(b, "<rect x=%.1f y=%.1f width=%.1f height=%.1f fill=\"%s\" rx=2><title>",
			      x, H - B - h, bw, h, color);
		esc(b, labels[i]);
		pd_buf_adds(b, ": ");
		fmt(b, v[i]);
		pd_buf_adds(b, "</title></rect>");
		if (i % every == 0 || i == n - 1) {
			pd_buf_printf(b, "<text x=%.1f y=%d class=ax text-anchor=middle>",
				      x + bw / 2, H - B + 16);
			esc(b, labels[i]);
			pd_buf_adds(b, "</text>");
		}
	}
	pd_buf_adds(b, "</svg>\n");
}

/* Log scale for effects: 0.5x .. 8x over w pixels. */
static double xlog(double v, double w)
{
	double lo = log(0.5), hi = log(8);
	double t = (log(v < 0.5 ? 0.5 : v > 8 ? 8 : v) - lo) / (hi - lo);
	return 4 + t * (w - 8);
}

/* The effect and its interval as a small dot-and-whisker (log scale, 1x marked). */
static void svg_effect(pd_buf *b, const rpat *p)
{
	if (isnan(p->effect) || p->effect <= 0)
		return;
	const double w = 110;
	const char *col = p->status && !strcmp(p->status, "validated") ? "#1a7f4b"
		: p->status && !strcmp(p->status, "rejected") ? "#999" : "#c07a00";
	pd_buf_printf(b, "<svg class=eff viewBox=\"0 0 110 14\"><line x1=%.1f x2=%.1f y1=1 y2=13 "
		      "class=one /><line x1=4 x2=106 y1=7 y2=7 class=grid />", xlog(1, w), xlog(1, w));
	if (!isnan(p->lo) && !isnan(p->hi) && p->lo > 0 && p->hi > 0)
		pd_buf_printf(b, "<line x1=%.1f x2=%.1f y1=7 y2=7 stroke=\"%s\" stroke-width=2 />",
			      xlog(p->lo, w), xlog(p->hi, w), col);
	pd_buf_printf(b, "<circle cx=%.1f cy=7 r=3.5 fill=\"%s\" /></svg>", xlog(p->effect, w), col);
}

/* ---------- sections ---------- */

static int status_rank(const char *s)
{
	if (!s)
		return 4;
	if (!strcmp(s, "validated"))
		return 0;
	if (!strcmp(s, "provisional"))
		return 1;
	if (!strcmp(s, "candidate"))
		return 2;
	if (!strcmp(s, "rejected"))
		return 3;
	return 4;
}

static int cmp_double_desc(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return a > b ? -1 : a < b;
}

/* What matters first: validated, then by confidence, then by effect. */
static int cmp_pat(const void *x, const void *y)
{
	const rpat *a = *(const rpat *const *)x, *b = *(const rpat *const *)y;
	int d = status_rank(a->status) - status_rank(b->status);
	if (d)
		return d;
	if ((d = cmp_double_desc(a->conf, b->conf)))
		return d;
	if ((d = cmp_double_desc(a->effect, b->effect)))
		return d;
	return strcmp(a->id ? a->id : "", b->id ? b->id : "");
}

static void badge(pd_buf *b, const char *cls, const char *text)
{
	pd_buf_adds(b, "<span class=\"b b-");
	esc(b, cls);
	pd_buf_adds(b, "\">");
	esc(b, text);
	pd_buf_adds(b, "</span>");
}

static void replication(pd_buf *b, const rpat *p)
{
	if (p->repl == 1)
		pd_buf_adds(b, "<span class=ok>held</span>");
	else if (p->repl == 0)
		pd_buf_adds(b, "<span class=bad>did not hold</span>");
	else if (!isnan(p->ho_n_with))
		pd_buf_adds(b, "<span class=mut>too few to test</span>");
	else
		pd_buf_adds(b, "<span class=mut>not tested</span>");
	if (!isnan(p->ho_n_with)) {
		pd_buf_adds(b, "<div class=sub>");
		fint(b, p->ho_n_with);
		pd_buf_adds(b, " newer videos");
		if (!isnan(p->ho_p)) {
			pd_buf_adds(b, ", p&#8201;=&#8201;");
			fp(b, p->ho_p);
		}
		pd_buf_adds(b, "</div>");
	}
}

static const char pat_head[] =
	"<thead><tr><th>Pattern</th><th>Status</th><th class=n>Effect (views vs niche)</th>"
	"<th class=n>95&#8239;% interval</th><th class=n>Videos with it</th><th class=n>Channels</th>"
	"<th>Newer videos</th><th class=n>Confidence</th></tr></thead><tbody>\n";

static void pattern_row(pd_buf *b, const pd_report *r, const rpat *p, int show_niche)
{
	pd_buf_adds(b, "<tr class=pat><td class=name><div>");
	esc(b, p->name ? p->name : p->id);
	pd_buf_adds(b, "</div>");
	if (show_niche) {
		const rniche *c = &r->c[p->niche];
		pd_buf_adds(b, "<div class=sub>niche: ");
		esc(b, c->label ? c->label : c->id);
		pd_buf_adds(b, "</div>");
	}
	if (p->desc) {
		pd_buf_adds(b, "<div class=desc>");
		esc(b, p->desc);
		pd_buf_adds(b, "</div>");
	}
	pd_buf_printf(b, "</td><td data-v=\"%d\">", status_rank(p->status));
	badge(b, p->status ? p->status : "unknown", p->status ? p->status : "unknown");
	if (p->kind) {
		pd_buf_adds(b, " ");
		badge(b, p->kind, p->kind);
	}
	if (p->kind && !strcmp(p->kind, "trend") && p->wfrom && p->wto) {
		pd_buf_adds(b, "<div class=sub>");
		pd_buf_add(b, p->wfrom, strnlen(p->wfrom, 10));
		pd_buf_adds(b, " to ");
		pd_buf_add(b, p->wto, strnlen(p->wto, 10));
		pd_buf_adds(b, "</div>");
	}
	pd_buf_adds(b, "</td>");
	td_num(b, p->effect);
	pd_buf_adds(b, "<b>");
	fx(b, p->effect);
	pd_buf_adds(b, "</b><br>");
	svg_effect(b, p);
	pd_buf_adds(b, "</td>");
	td_num(b, p->lo);
	if (!isnan(p->lo) && !isnan(p->hi)) {
		fx(b, p->lo);
		pd_buf_adds(b, "&#8201;\xe2\x80\x93&#8201;");
		fx(b, p->hi);
	} else {
		pd_buf_adds(b, "\xe2\x80\x93");
	}
	pd_buf_adds(b, "</td>");
	td_num(b, p->n_with);
	fint(b, p->n_with);
	if (!isnan(p->n)) {
		pd_buf_adds(b, "<div class=sub>of ");
		fint(b, p->n);
		pd_buf_adds(b, " in niche</div>");
	}
	pd_buf_adds(b, "</td>");
	td_num(b, p->channels);
	fint(b, p->channels);
	pd_buf_printf(b, "</td><td data-v=\"%d\">", p->repl);
	replication(b, p);
	pd_buf_adds(b, "</td>");
	td(b, p->conf, fpct, "</td></tr>\n");
}

static void section_summary(pd_buf *b, const pd_report *r)
{
	long st[5] = { 0 }, ever = 0, trend = 0;
	for (int i = 0; i < r->np; i++) {
		st[status_rank(r->p[i].status)]++;
		if (r->p[i].kind && !strcmp(r->p[i].kind, "evergreen"))
			ever++;
		else if (r->p[i].kind && !strcmp(r->p[i].kind, "trend"))
			trend++;
	}
	int with = 0;
	for (int i = 0; i < r->nc; i++)
		with += r->c[i].npats > 0;
	struct { const char *id, *what; double v; const char *cls; } cards[] = {
		{ "patterns", "patterns", r->np, "" },
		{ "validated", "validated", st[0], "ok" },
		{ "provisional", "provisional", st[1], "warn" },
		{ "rejected", "rejected", st[3], "bad" },
		{ "evergreen", "evergreen", ever, "" },
		{ "trend", "trend", trend, "" },
		{ "niches", "niches", r->nc, "" },
		{ "niches-with", "niches with patterns", with, "" },
		{ "videos", "videos", r->have_videos ? (double)r->videos : NA, "" },
		{ "runs", "runs", r->from_db ? (double)r->total_runs : r->nr, "" },
	};
	pd_buf_adds(b, "<div class=cards>");
	for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
		if (isnan(cards[i].v))
			continue;
		pd_buf_printf(b, "<div class=\"card %s\" id=\"n-%s\"><b>", cards[i].cls, cards[i].id);
		fint(b, cards[i].v);
		pd_buf_printf(b, "</b>%s</div>", cards[i].what);
	}
	pd_buf_adds(b, "</div>\n");
	if (st[2] || st[4]) {
		pd_buf_adds(b, "<p class=note>");
		if (st[2]) {
			fint(b, st[2]);
			pd_buf_adds(b, " candidate patterns (not yet validated). ");
		}
		if (st[4]) {
			fint(b, st[4]);
			pd_buf_adds(b, " patterns with another or no status.");
		}
		pd_buf_adds(b, "</p>\n");
	}
}

static void section_status_kind(pd_buf *b, const pd_report *r)
{
	static const char *sts[] = { "validated", "provisional", "candidate", "rejected", "other" };
	long t[5][3] = { { 0 } };
	for (int i = 0; i < r->np; i++) {
		const char *k = r->p[i].kind;
		int kc = k && !strcmp(k, "evergreen") ? 0 : k && !strcmp(k, "trend") ? 1 : 2;
		t[status_rank(r->p[i].status)][kc]++;
	}
	pd_buf_adds(b, "<section id=status><h2>Patterns by status and kind</h2>\n"
		    "<p class=lead><b>Validated</b>: held on newer videos. <b>Provisional</b>: "
		    "passed every test on the training videos but could not yet be tested on newer "
		    "ones. <b>Rejected</b>: did not hold. <b>Evergreen</b> patterns hold across the "
		    "whole time span; <b>trend</b> patterns are a burst within a time window.</p>\n");
	/* a stacked bar per kind */
	const int W = 760, RH = 26;
	long tot = r->np ? r->np : 1;
	pd_buf_printf(b, "<svg class=chart viewBox=\"0 0 %d %d\" role=img><title>Patterns by status "
		      "and kind</title>", W, 3 * (RH + 10) + 24);
	static const char *kinds[] = { "evergreen", "trend", "no kind" };
	static const char *cols[] = { "#2a9d6f", "#e0a021", "#8aa0c8", "#c0485a", "#9aa3ad" };
	long maxrow = 1;
	for (int k = 0; k < 3; k++) {
		long s = 0;
		for (int i = 0; i < 5; i++)
			s += t[i][k];
		if (s > maxrow)
			maxrow = s;
	}
	for (int k = 0; k < 3; k++) {
		double y = 4 + k * (RH + 10), x = 110;
		pd_buf_printf(b, "<text x=100 y=%.0f class=lab text-anchor=end>%s</text>", y + 17,
			      kinds[k]);
		long s = 0;
		for (int i = 0; i < 5; i++) {
			if (!t[i][k])
				continue;
			double w = (W - 180) * (double)t[i][k] / (double)maxrow;
			pd_buf_printf(b, "<rect x=%.1f y=%.0f width=%.1f height=%d fill=\"%s\"><title>"
				      "%s, %s: %ld patterns</title></rect>", x, y, w, RH, cols[i],
				      kinds[k], sts[i], t[i][k]);
			x += w;
			s += t[i][k];
		}
		pd_buf_printf(b, "<text x=%.1f y=%.0f class=lab>%ld</text>", x + 6, y + 17, s);
	}
	double lx = 110;
	for (int i = 0; i < 5; i++) {
		pd_buf_printf(b, "<rect x=%.0f y=%d width=12 height=12 fill=\"%s\" />"
			      "<text x=%.0f y=%d class=ax>%s</text>", lx, 3 * (RH + 10) + 8, cols[i],
			      lx + 16, 3 * (RH + 10) + 18, sts[i]);
		lx += 110;
	}
	pd_buf_adds(b, "</svg>\n");
	(void)tot;
	pd_buf_adds(b, "<table class=sort id=status-table><thead><tr><th>Status</th>"
		    "<th class=n>Evergreen</th><th class=n>Trend</th><th class=n>No kind</th>"
		    "<th class=n>Total</th></tr></thead><tbody>\n");
	for (int i = 0; i < 5; i++) {
		long s = t[i][0] + t[i][1] + t[i][2];
		if (!s && i >= 2)
			continue;
		pd_buf_printf(b, "<tr data-status=\"%s\"><td data-v=\"%d\">", sts[i], i);
		badge(b, sts[i], sts[i]);
		pd_buf_adds(b, "</td>");
		for (int k = 0; k < 3; k++)
			td(b, (double)t[i][k], fint, t[i][k] == 1 ? " pattern</td>" : " patterns</td>");
		td_num(b, (double)s);
		pd_buf_adds(b, "<b>");
		fint(b, (double)s);
		pd_buf_adds(b, s == 1 ? "</b> pattern</td></tr>\n" : "</b> patterns</td></tr>\n");
	}
	pd_buf_adds(b, "</tbody></table></section>\n");
}

static void section_top(pd_buf *b, const pd_report *r, const rpat **sorted)
{
	int n = 0;
	while (n < r->np && n < 25 && status_rank(sorted[n]->status) <= 1)
		n++;
	pd_buf_adds(b, "<section id=top><h2>Best patterns</h2>\n");
	if (!n) {
		pd_buf_adds(b, "<p class=note>No validated or provisional patterns.</p></section>\n");
		return;
	}
	pd_buf_adds(b, "<p class=lead>Validated patterns first, then provisional ones, each by "
		    "confidence. The effect is how many times the views of the niche&#39;s other "
		    "videos a video with the pattern gets, each video measured against its own "
		    "channel&#39;s normal.</p>\n<table class=\"sort pt\">");
	pd_buf_adds(b, pat_head);
	for (int i = 0; i < n; i++)
		pattern_row(b, r, sorted[i], 1);
	pd_buf_adds(b, "</tbody></table>\n");
	int more = 0;
	for (int i = n; i < r->np; i++)
		more += status_rank(sorted[i]->status) <= 1;
	if (more) {
		pd_buf_adds(b, "<p class=note>");
		fint(b, more);
		pd_buf_adds(b, " more validated or provisional patterns are listed under their "
			    "niches below.</p>\n");
	}
	pd_buf_adds(b, "</section>\n");
}

typedef struct nkey {
	const rniche *c;
	int best;		/* best status rank */
	double conf;
	int nvalid;
} nkey;

static int cmp_niche(const void *x, const void *y)
{
	const nkey *a = x, *b = y;
	if ((a->c->npats > 0) != (b->c->npats > 0))
		return a->c->npats > 0 ? -1 : 1;
	if (a->best != b->best)
		return a->best - b->best;
	if (a->nvalid != b->nvalid)
		return b->nvalid - a->nvalid;
	int d = cmp_double_desc(a->conf, b->conf);
	if (d)
		return d;
	if ((d = cmp_double_desc(a->c->size, b->c->size)))
		return d;
	return strcmp(a->c->id, b->c->id);
}

static void niche_name(pd_buf *b, const rniche *c)
{
	esc(b, c->label ? c->label : c->id);
}

static void section_niches(pd_buf *b, const pd_report *r, const pd_report_opts *o)
{
	nkey *k = xcalloc((size_t)r->nc + 1, sizeof *k);
	int nwith = 0;
	for (int i = 0; i < r->nc; i++) {
		k[i].c = &r->c[i];
		k[i].best = 5;
		k[i].conf = NA;
		for (int j = 0; j < r->c[i].npats; j++) {
			const rpat *p = &r->p[r->c[i].pats[j]];
			int s = status_rank(p->status);
			if (s < k[i].best)
				k[i].best = s;
			k[i].nvalid += s == 0;
			if (!isnan(p->conf) && (isnan(k[i].conf) || p->conf > k[i].conf))
				k[i].conf = p->conf;
		}
		nwith += r->c[i].npats > 0;
	}
	qsort(k, (size_t)r->nc, sizeof *k, cmp_niche);
	pd_buf_adds(b, "<section id=niches><h2>Niches and their patterns</h2>\n<p class=lead>A "
		    "niche is a group of videos on the same topic (macro &#8835; meso &#8835; micro). "
		    "<i>Median perf</i> is the niche&#39;s median video views as a multiple of its "
		    "channel&#39;s normal (1.00&#215; = usual). Niches with validated patterns come "
		    "first; click a niche to open it.</p>\n");
	pd_buf_adds(b, "<p><input id=filter type=search placeholder=\"Filter niches by name "
		    "or id\" aria-label=\"Filter niches\"> <button type=button id=openall>Open "
		    "all</button> <button type=button id=closeall>Close all</button></p>\n"
		    "<div id=niche-list>\n");
	int shown = 0, cap = o->max_niches > 0 ? o->max_niches : 1000;
	const rpat **ps = xcalloc((size_t)r->np + 1, sizeof *ps);
	for (int i = 0; i < nwith && shown < cap; i++, shown++) {
		const rniche *c = k[i].c;
		pd_buf_adds(b, "<details class=niche data-k=\"");
		esc(b, c->label);
		pd_buf_adds(b, " ");
		esc(b, c->id);
		pd_buf_printf(b, "\"%s><summary><span class=nl>", shown < 3 && k[i].nvalid ? " open"
			      : "");
		niche_name(b, c);
		pd_buf_adds(b, "</span><span class=meta>");
		if (c->level)
			badge(b, "lvl", c->level);
		pd_buf_adds(b, " <code>");
		esc(b, c->id);
		pd_buf_adds(b, "</code> &#183; ");
		fint(b, c->size);
		pd_buf_adds(b, " videos &#183; median perf ");
		fx(b, c->median);
		pd_buf_adds(b, " &#183; <span class=pc>");
		fint(b, c->npats);
		pd_buf_adds(b, c->npats == 1 ? " pattern" : " patterns");
		if (k[i].nvalid) {
			pd_buf_adds(b, " (");
			fint(b, k[i].nvalid);
			pd_buf_adds(b, " validated)");
		}
		pd_buf_adds(b, "</span></span></summary>\n");
		if (c->parent) {
			int pi = pd_strmap_find(r->cmap, c->parent, strlen(c->parent));
			pd_buf_adds(b, "<p class=sub>Part of ");
			if (pi >= 0)
				niche_name(b, &r->c[pi]);
			pd_buf_adds(b, " (<code>");
			esc(b, c->parent);
			pd_buf_adds(b, "</code>)");
			if (!isnan(c->channels)) {
				pd_buf_adds(b, "; ");
				fint(b, c->channels);
				pd_buf_adds(b, " channels");
			}
			pd_buf_adds(b, ".</p>\n");
		}
		for (int j = 0; j < c->npats; j++)
			ps[j] = &r->p[c->pats[j]];
		qsort(ps, (size_t)c->npats, sizeof *ps, cmp_pat);
		pd_buf_adds(b, "<table class=\"sort pt\">");
		pd_buf_adds(b, pat_head);
		int pcap = o->max_patterns > 0 ? o->max_patterns : 50;
		for (int j = 0; j < c->npats && j < pcap; j++)
			pattern_row(b, r, ps[j], 0);
		pd_buf_adds(b, "</tbody></table>\n");
		if (c->npats > pcap) {
			pd_buf_adds(b, "<p class=note>");
			fint(b, c->npats - pcap);
			pd_buf_printf(b, " more patterns of this niche not shown (the first %d by "
				      "status and confidence are; see --max-patterns).</p>\n", pcap);
		}
		pd_buf_adds(b, "</details>\n");
	}
	pd_buf_adds(b, "</div>\n");
	if (nwith > shown) {
		pd_buf_adds(b, "<p class=note>");
		fint(b, nwith - shown);
		pd_buf_printf(b, " more niches with patterns not shown (the first %d are; see "
			      "--max-niches).</p>\n", cap);
	}
	if (!nwith)
		pd_buf_adds(b, "<p class=note>No niche has patterns.</p>\n");
	int nwo = r->nc - nwith, ecap = cap < 200 ? cap : 200;
	if (nwo > 0) {
		pd_buf_adds(b, "<details class=empty><summary>");
		fint(b, nwo);
		pd_buf_adds(b, nwo == 1 ? " niche without patterns</summary>" : " niches without patterns</summary>");
		pd_buf_adds(b, "\n<table class=sort><thead><tr>"
			    "<th>Niche</th><th>Level</th><th class=n>Videos</th>"
			    "<th class=n>Median perf</th><th class=n>Channels</th></tr></thead><tbody>\n");
		/* the largest first */
		nkey *e = k + nwith;
		for (int i = 0; i < nwo && i < ecap; i++) {
			const rniche *c = e[i].c;
			pd_buf_adds(b, "<tr><td>");
			niche_name(b, c);
			pd_buf_adds(b, " <code>");
			esc(b, c->id);
			pd_buf_adds(b, "</code></td><td>");
			esc(b, c->level);
			pd_buf_adds(b, "</td>");
			td(b, c->size, fint, " videos</td>");
			td(b, c->median, fx, "</td>");
			td(b, c->channels, fint, "</td></tr>\n");
		}
		pd_buf_adds(b, "</tbody></table>\n");
		if (nwo > ecap) {
			pd_buf_adds(b, "<p class=note>");
			fint(b, nwo - ecap);
			pd_buf_printf(b, " smaller niches without patterns not listed (the %d "
				      "largest are).</p>\n", ecap);
		}
		pd_buf_adds(b, "</details>\n");
	}
	pd_buf_adds(b, "</section>\n");
	free(ps);
	free(k);
}

/* The stages of the metrics, in order of first appearance. */
static int stage_list(const pd_report *r, const char **st, int cap)
{
	int n = 0;
	for (int i = 0; i < r->nm; i++) {
		int j;
		for (j = 0; j < n; j++)
			if (!strcmp(st[j], r->m[i].stage))
				break;
		if (j == n && n < cap)
			st[n++] = r->m[i].stage;
	}
	return n;
}

static double run_stage_seconds(const pd_report *r, int run, const char *stage)
{
	double s = NA;
	for (int i = 0; i < r->nm; i++)
		if (r->m[i].run == run && !strcmp(r->m[i].stage, stage))
			s = isnan(s) ? r->m[i].seconds : s + r->m[i].seconds;
	return s;
}

static void section_times(pd_buf *b, const pd_report *r, const pd_report_opts *o)
{
	pd_buf_adds(b, "<section id=times><h2>Processing time per stage</h2>\n");
	if (!r->nm) {
		pd_buf_adds(b, "<p class=note>No metric records: processing times are not "
			    "known.</p></section>\n");
		return;
	}
	const char *st[32];
	int ns = stage_list(r, st, 32);
	/* the latest run with metrics: a timeline (stages of a pipe run side by side) */
	int last = r->m[r->nm - 1].run;
	pd_buf_adds(b, "<p class=lead>The stages of a pipeline run at the same time, each "
		    "reading the one before it, so each bar runs from the start of the run to the "
		    "moment that stage finished. <i>Added</i> is the time a stage finished after "
		    "the stage before it.</p>\n<h3>Latest run (");
	esc(b, r->runs[last].id);
	pd_buf_adds(b, ")</h3>\n");
	double mx = 0;
	int nl = 0;
	for (int i = 0; i < r->nm; i++)
		if (r->m[i].run == last) {
			nl++;
			if (r->m[i].seconds > mx)
				mx = r->m[i].seconds;
		}
	const int W = 760, RH = 22, L = 90;
	double top = nice_top(mx);
	pd_buf_printf(b, "<svg class=chart viewBox=\"0 0 %d %d\" role=img><title>Stage timeline "
		      "of the latest run</title>", W, nl * (RH + 6) + 28);
	for (int g = 0; g <= 4; g++) {
		double x = L + (W - L - 80) * g / 4.0;
		pd_buf_printf(b, "<line x1=%.1f x2=%.1f y1=0 y2=%d class=grid /><text x=%.1f y=%d "
			      "class=ax text-anchor=middle>", x, x, nl * (RH + 6), x,
			      nl * (RH + 6) + 16);
		fsec(b, top * g / 4);
		pd_buf_adds(b, "</text>");
	}
	int row = 0;
	for (int i = 0; i < r->nm; i++) {
		const rmetric *m = &r->m[i];
		if (m->run != last)
			continue;
		double y = row * (RH + 6) + 2, w = isnan(m->seconds) ? 0 : (W - L - 80) * m->seconds / top;
		pd_buf_printf(b, "<text x=%d y=%.0f class=lab text-anchor=end>", L - 8, y + 15);
		esc(b, m->stage);
		pd_buf_printf(b, "</text><rect x=%d y=%.0f width=%.1f height=%d rx=3 fill=\"%s\">"
			      "<title>", L, y, w, RH, stage_color(m->stage));
		esc(b, m->stage);
		pd_buf_adds(b, ": ");
		fsec(b, m->seconds);
		pd_buf_printf(b, "</title></rect><text x=%.1f y=%.0f class=lab>", L + w + 6, y + 15);
		fsec(b, m->seconds);
		pd_buf_adds(b, "</text>");
		row++;
	}
	pd_buf_adds(b, "</svg>\n<table class=sort><thead><tr><th>Stage</th><th class=n>Finished "
		    "after</th><th class=n>Added</th><th class=n>Records in</th><th class=n>Records "
		    "out</th><th class=n>Rejected</th><th class=n>Throughput</th></tr></thead><tbody>\n");
	double prev = 0;
	for (int i = 0; i < r->nm; i++) {
		const rmetric *m = &r->m[i];
		if (m->run != last)
			continue;
		pd_buf_adds(b, "<tr><td><span class=sw style=\"background:");
		pd_buf_adds(b, stage_color(m->stage));
		pd_buf_adds(b, "\"></span>");
		esc(b, m->stage);
		pd_buf_adds(b, "</td>");
		td(b, m->seconds, fsec, "</td>");
		double add = isnan(m->seconds) ? NA : m->seconds - prev > 0 ? m->seconds - prev : 0;
		td_num(b, add);
		if (!isnan(add))
			pd_buf_adds(b, "+");
		fsec(b, add);
		pd_buf_adds(b, "</td>");
		if (!isnan(m->seconds))
			prev = m->seconds;
		td(b, m->rin, fint, "</td>");
		td(b, m->rout, fint, "</td>");
		td(b, m->rej, fint, "</td>");
		double tp = m->seconds > 0 && !isnan(m->rin) ? m->rin / m->seconds : NA;
		td(b, tp, fint, isnan(tp) ? "</td></tr>\n" : " records/s</td></tr>\n");
	}
	pd_buf_adds(b, "</tbody></table>\n");
	/* every run: the table of stage times, and the run's total as a chart */
	int first = r->nr > o->max_runs && o->max_runs > 0 ? r->nr - o->max_runs : 0;
	int nruns = 0;
	for (int u = first; u < r->nr; u++)
		for (int i = 0; i < r->nm; i++)
			if (r->m[i].run == u) {
				nruns++;
				break;
			}
	if (nruns > 1) {
		char **lab = xcalloc((size_t)nruns, sizeof *lab);
		double *tot = xcalloc((size_t)nruns, sizeof *tot);
		int k = 0;
		pd_buf_adds(b, "<h3>Every run</h3>\n<table class=sort><thead><tr><th>Run</th>");
		for (int s = 0; s < ns; s++) {
			pd_buf_adds(b, "<th class=n>");
			esc(b, st[s]);
			pd_buf_adds(b, "</th>");
		}
		pd_buf_adds(b, "<th class=n>Longest stage</th></tr></thead><tbody>\n");
		for (int u = first; u < r->nr; u++) {
			double longest = NA;
			int has = 0;
			for (int i = 0; i < r->nm; i++)
				if (r->m[i].run == u) {
					has = 1;
					if (isnan(longest) || r->m[i].seconds > longest)
						longest = r->m[i].seconds;
				}
			if (!has)
				continue;
			pd_buf_adds(b, "<tr><td>");
			esc(b, r->runs[u].id);
			if (r->runs[u].started) {
				pd_buf_adds(b, " <span class=sub>");
				esc(b, r->runs[u].started);
				pd_buf_adds(b, "</span>");
			}
			pd_buf_adds(b, "</td>");
			for (int s = 0; s < ns; s++) {
				double v = run_stage_seconds(r, u, st[s]);
				td(b, v, fsec, "</td>");
			}
			td(b, longest, fsec, "</td></tr>\n");
			lab[k] = r->runs[u].id;
			tot[k++] = longest;
		}
		pd_buf_adds(b, "</tbody></table>\n<h3>Run time (longest stage) per run</h3>\n");
		svg_bars(b, "run time per run", k, lab, tot, fsec, "#3b6fd8");
		free(lab);
		free(tot);
	}
	pd_buf_adds(b, "</section>\n");
}

static void section_runs(pd_buf *b, const pd_report *r, const pd_report_opts *o)
{
	pd_buf_adds(b, "<section id=runs><h2>Runs over time</h2>\n");
	if (!r->from_db) {
		pd_buf_adds(b, "<p class=note>This page was made from a stream of records");
		if (r->nr) {
			pd_buf_adds(b, " holding ");
			fint(b, r->nr);
			pd_buf_adds(b, r->nr == 1 ? " run" : " runs");
		}
		pd_buf_adds(b, "; the history of runs is kept in the database (pd-report "
			    "--db).</p></section>\n");
		return;
	}
	if (!r->nr) {
		pd_buf_adds(b, "<p class=note>No runs stored yet.</p></section>\n");
		return;
	}
	int first = r->nr > o->max_runs && o->max_runs > 0 ? r->nr - o->max_runs : 0, n = r->nr - first;
	char **lab = xcalloc((size_t)n, sizeof *lab);
	double *v = xcalloc((size_t)n, sizeof *v);
	for (int i = 0; i < n; i++) {
		lab[i] = r->runs[first + i].id;
		v[i] = r->runs[first + i].patterns;
	}
	pd_buf_adds(b, "<p class=lead>");
	fint(b, (double)r->total_runs);
	pd_buf_adds(b, " runs stored");
	if (r->active_run) {
		pd_buf_adds(b, "; the active one (whose patterns this page shows) is run ");
		esc(b, r->active_run);
	}
	pd_buf_adds(b, ".</p>\n<h3>Patterns per run</h3>\n");
	svg_bars(b, "patterns per run", n, lab, v, fint, "#2a9d6f");
	pd_buf_adds(b, "<table class=sort><thead><tr><th class=n>Run</th><th>Status</th>"
		    "<th>Started (UTC)</th><th class=n>Took</th><th class=n>Videos</th>"
		    "<th class=n>Clusters</th><th class=n>Patterns</th><th class=n>Rejected "
		    "records</th></tr></thead><tbody>\n");
	for (int i = r->nr - 1; i >= first; i--) {
		const rrun *u = &r->runs[i];
		td_num(b, atof(u->id));
		esc(b, u->id);
		pd_buf_adds(b, "</td><td>");
		badge(b, u->status ? u->status : "unknown", u->status ? u->status : "unknown");
		pd_buf_adds(b, "</td><td>");
		esc(b, u->started);
		pd_buf_adds(b, "</td>");
		td(b, u->seconds, fsec, "</td>");
		double f[4] = { u->videos, u->clusters, u->patterns, u->rejected };
		for (int j = 0; j < 4; j++) {
			td(b, f[j], fint, "</td>");
		}
		pd_buf_adds(b, "</tr>\n");
	}
	pd_buf_adds(b, "</tbody></table>\n");
	if (first)
		pd_buf_printf(b, "<p class=note>The last %d runs are shown (see --runs).</p>\n", n);
	pd_buf_adds(b, "</section>\n");
	free(lab);
	free(v);
}

static void rate_bar(pd_buf *b, double hits, double misses)
{
	double t = hits + misses, rate = t > 0 ? hits / t : NA;
	pd_buf_adds(b, "<span class=rate><span style=\"width:");
	pd_buf_printf(b, "%.1f%%", isnan(rate) ? 0 : 100 * rate);
	pd_buf_adds(b, "\"></span></span> ");
	fpct(b, rate);
}

static void section_cache(pd_buf *b, const pd_report *r)
{
	pd_buf_adds(b, "<section id=cache><h2>Cache hit rates</h2>\n");
	int any = 0;
	if (r->redis_state == 1) {
		any = 1;
		pd_buf_adds(b, "<h3>Redis (whole server, since it started)</h3>\n<table><thead><tr>"
			    "<th class=n>Hits</th><th class=n>Misses</th><th>Hit rate</th></tr>"
			    "</thead><tbody><tr id=redis-row>");
		td(b, (double)r->rhits, fint, " lookups</td>");
		td(b, (double)r->rmisses, fint, " lookups</td><td>");
		rate_bar(b, (double)r->rhits, (double)r->rmisses);
		pd_buf_adds(b, "</td></tr></tbody></table>\n");
	} else if (r->redis_state == -1) {
		any = 1;
		pd_buf_adds(b, "<p class=note>Redis figures unavailable: ");
		esc(b, r->redis_why);
		pd_buf_adds(b, ".</p>\n");
	}
	int nm = 0;
	for (int i = 0; i < r->nm; i++)
		nm += !isnan(r->m[i].chits) || !isnan(r->m[i].cmiss);
	if (nm) {
		any = 1;
		pd_buf_adds(b, "<h3>pd-match and other stages (their metric records)</h3>\n"
			    "<table class=sort><thead><tr><th>Run</th><th>Stage</th><th class=n>Hits"
			    "</th><th class=n>Misses</th><th>Hit rate</th></tr></thead><tbody>\n");
		int shown = 0;
		for (int i = r->nm - 1; i >= 0 && shown < 200; i--) {
			const rmetric *m = &r->m[i];
			if (isnan(m->chits) && isnan(m->cmiss))
				continue;
			shown++;
			pd_buf_adds(b, "<tr><td>");
			esc(b, r->runs[m->run].id);
			pd_buf_adds(b, "</td><td>");
			esc(b, m->stage);
			pd_buf_adds(b, "</td>");
			td(b, m->chits, fint, " lookups</td>");
			td(b, m->cmiss, fint, " lookups</td><td>");
			rate_bar(b, isnan(m->chits) ? 0 : m->chits, isnan(m->cmiss) ? 0 : m->cmiss);
			pd_buf_adds(b, "</td></tr>\n");
		}
		pd_buf_adds(b, "</tbody></table>\n");
		if (nm > shown)
			pd_buf_adds(b, "<p class=note>The latest 200 are shown.</p>\n");
	}
	if (!any)
		pd_buf_adds(b, "<p class=note>No cache figures: REDIS_URL is not set and no "
			    "metric record carries cache_hits / cache_misses.</p>\n");
	pd_buf_adds(b, "</section>\n");
}

/* Predicted (dashed) and actual (solid) over runs, one small chart. */
static void svg_spark(pd_buf *b, const reff *e, int n)
{
	const double W = 160, H = 34;
	double lo = INFINITY, hi = -INFINITY;
	for (int i = 0; i < n; i++) {
		double v[2] = { e[i].pred, e[i].act };
		for (int j = 0; j < 2; j++)
			if (!isnan(v[j])) {
				lo = v[j] < lo ? v[j] : lo;
				hi = v[j] > hi ? v[j] : hi;
			}
	}
	if (!(hi >= lo))
		return;
	if (hi - lo < 0.1)
		lo -= 0.05, hi += 0.05;
	pd_buf_printf(b, "<svg class=spark viewBox=\"0 0 %.0f %.0f\">", W, H);
	for (int s = 0; s < 2; s++) {
		pd_buf_printf(b, "<polyline fill=none stroke=\"%s\" stroke-width=1.6%s points=\"",
			      s ? "#3b6fd8" : "#999", s ? "" : " stroke-dasharray=\"3 2\"");
		for (int i = 0; i < n; i++) {
			double v = s ? e[i].act : e[i].pred;
			if (isnan(v))
				continue;
			double x = n > 1 ? 4 + (W - 8) * i / (n - 1) : W / 2;
			pd_buf_printf(b, "%.1f,%.1f ", x, H - 3 - (H - 6) * (v - lo) / (hi - lo));
		}
		pd_buf_adds(b, "\" />");
	}
	pd_buf_adds(b, "</svg>");
}

static void section_track(pd_buf *b, const pd_report *r)
{
	if (!r->track)
		return;
	pd_buf_adds(b, "<section id=track><h2>Predicted vs actual performance</h2>\n"
		    "<p class=lead>For each pattern: the performance pd-match predicted for videos "
		    "with it, and the median the videos actually reached (both as a multiple of "
		    "their channel&#39;s normal), per run. In the small charts the dashed line is "
		    "predicted, the solid line actual.</p>\n");
	if (r->track_note) {
		pd_buf_adds(b, "<p class=note>");
		esc(b, r->track_note);
		pd_buf_adds(b, "</p>\n");
	}
	if (!r->ne) {
		pd_buf_adds(b, "<p class=note>No predictions measured yet.</p></section>\n");
		return;
	}
	/* rows arrive grouped by pattern (the database sorts; a stream is grouped here) */
	reff *e = xmalloc((size_t)r->ne * sizeof *e);
	memcpy(e, r->e, (size_t)r->ne * sizeof *e);
	pd_strmap *pm = pd_strmap_new();
	int *ord = xmalloc((size_t)r->ne * sizeof *ord), *cnt = xcalloc((size_t)r->ne + 1, sizeof *cnt);
	for (int i = 0; i < r->ne; i++) {
		int added;
		ord[i] = pd_strmap_intern(pm, e[i].pid, strlen(e[i].pid), &added);
		cnt[ord[i] + 1]++;
	}
	int np = pd_strmap_size(pm);
	for (int i = 0; i < np; i++)
		cnt[i + 1] += cnt[i];
	reff *g = xmalloc((size_t)r->ne * sizeof *g);
	int *pos = xmalloc(((size_t)np + 1) * sizeof *pos);
	memcpy(pos, cnt, ((size_t)np + 1) * sizeof *pos);
	for (int i = 0; i < r->ne; i++)
		g[pos[ord[i]]++] = e[i];
	pd_buf_adds(b, "<table class=sort id=track-table><thead><tr><th>Pattern</th><th class=n>"
		    "Runs measured</th><th class=n>Predicted (latest)</th><th class=n>Actual (latest)"
		    "</th><th class=n>Actual / predicted</th><th class=n>Videos</th><th>Over runs"
		    "</th></tr></thead><tbody>\n");
	int shown = 0;
	for (int p = 0; p < np && shown < 500; p++, shown++) {
		const reff *x = g + cnt[p];
		int n = cnt[p + 1] - cnt[p];
		const reff *l = &x[n - 1];
		const char *name = NULL;
		for (int i = 0; i < n; i++)
			if (x[i].name)
				name = x[i].name;
		pd_buf_adds(b, "<tr><td class=name>");
		esc(b, name ? name : l->pid);
		if (l->flag) {	/* pd-track's flag on the latest run: it stopped paying off */
			pd_buf_adds(b, " <span class=bad>flagged: ");
			esc(b, l->flag);
			pd_buf_adds(b, "</span>");
		}
		pd_buf_adds(b, "</td>");
		td(b, n, fint, n == 1 ? " run</td>" : " runs</td>");
		td(b, l->pred, fx, "</td>");
		td(b, l->act, fx, "</td>");
		double ratio = l->pred > 0 ? l->act / l->pred : NA;
		td_num(b, ratio);
		if (!isnan(ratio))
			pd_buf_printf(b, "<span class=\"%s\">", ratio >= 0.9 ? "ok" : "bad");
		fpct(b, ratio);
		if (!isnan(ratio))
			pd_buf_adds(b, "</span>");
		pd_buf_adds(b, "</td>");
		td(b, l->videos, fint, " videos</td><td>");
		svg_spark(b, x, n);
		pd_buf_adds(b, "</td></tr>\n");
	}
	pd_buf_adds(b, "</tbody></table>\n");
	if (np > shown) {
		pd_buf_adds(b, "<p class=note>");
		fint(b, np - shown);
		pd_buf_adds(b, " more patterns not shown.</p>\n");
	}
	pd_buf_adds(b, "</section>\n");
	free(e), free(g), free(ord), free(cnt), free(pos);
	pd_strmap_free(pm);
}

static const char css[] =
	":root{--fg:#1d2433;--mut:#5d6678;--bg:#f4f6f9;--card:#fff;--line:#e2e6ec;"
	"--ok:#17804a;--warn:#a86400;--bad:#b3363f;--acc:#2f5dd0}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:14px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\","
	"\"DejaVu Sans\",sans-serif;color:var(--fg);background:var(--bg)}\n"
	"header{background:#1d2433;color:#fff;padding:22px 0 20px}\n"
	"header .w{max-width:1240px;margin:0 auto;padding:0 28px}\n"
	"header h1{margin:0;font-size:24px;font-weight:650}\n"
	"header p{margin:4px 0 0;color:#b9c2d3}\n"
	"nav{max-width:1240px;margin:0 auto;padding:10px 28px 0;display:flex;gap:14px;flex-wrap:wrap}\n"
	"nav a{color:var(--acc);text-decoration:none;font-weight:600}\n"
	"main{max-width:1240px;margin:0 auto;padding:4px 28px 40px}\n"
	"section{background:var(--card);border:1px solid var(--line);border-radius:10px;"
	"padding:16px 20px;margin:16px 0;box-shadow:0 1px 2px rgba(20,30,50,.04)}\n"
	"h2{font-size:19px;margin:0 0 6px}h3{font-size:15px;margin:18px 0 6px;color:#333c4e}\n"
	".lead{color:var(--mut);margin:0 0 12px;max-width:900px}\n"
	".note{color:var(--mut);font-style:italic}\n"
	".cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(112px,1fr));gap:10px;"
	"margin:16px 0}\n"
	".card{background:var(--card);border:1px solid var(--line);border-radius:10px;"
	"padding:10px 14px;color:var(--mut)}\n"
	".card b{display:block;font-size:26px;color:var(--fg);font-variant-numeric:tabular-nums}\n"
	".card.ok b{color:var(--ok)}.card.warn b{color:var(--warn)}.card.bad b{color:var(--bad)}\n"
	"table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}\n"
	"th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;"
	"vertical-align:top}\n"
	"th{background:#f0f3f7;font-weight:600;color:#3a4456}\n"
	"table.sort th{cursor:pointer}table.sort th:hover{background:#e4e9f1}\n"
	"th[data-d=a]::after{content:\" \\25B2\"}th[data-d=d]::after{content:\" \\25BC\"}\n"
	".n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	"th.n,.n .sub{white-space:normal}\n"
	"tbody tr:hover{background:#f8fafc}\n"
	"td.name{overflow-wrap:anywhere}table.pt{table-layout:fixed}\n"
	"table.pt th:nth-child(1){width:33%}table.pt th:nth-child(2){width:11%}"
	"table.pt th:nth-child(3){width:12%}table.pt th:nth-child(4){width:11%}"
	"table.pt th:nth-child(5){width:9%}table.pt th:nth-child(6){width:7%}"
	"table.pt th:nth-child(7){width:9%}table.pt th:nth-child(8){width:8%}\n"
	".desc{color:var(--mut);font-size:12px;margin-top:3px}\n"
	".sub{color:var(--mut);font-size:12px}\n"
	".b{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;"
	"background:#eceff3;color:#4a5365;white-space:nowrap}\n"
	".b-validated,.b-active{background:#daf1e4;color:var(--ok)}"
	".b-provisional,.b-candidate{background:#fcefd6;color:var(--warn)}"
	".b-rejected{background:#f8dfe1;color:var(--bad)}"
	".b-evergreen{background:#e1eafb;color:#2f5dd0}.b-trend{background:#f0e3fa;color:#7a3aa8}"
	".b-lvl{background:#eef0f4;color:#555}\n"
	".ok{color:var(--ok);font-weight:600}.bad{color:var(--bad);font-weight:600}"
	".mut{color:var(--mut)}\n"
	"details.niche,details.empty{border:1px solid var(--line);border-radius:8px;margin:6px 0;"
	"background:#fcfdfe}\n"
	"details>summary{padding:9px 12px;cursor:pointer;display:flex;flex-wrap:wrap;gap:4px 12px;"
	"align-items:baseline}\n"
	"details[open]>summary{border-bottom:1px solid var(--line);background:#f5f8fc}\n"
	"details>table,details>p{margin:8px 12px;width:calc(100% - 24px)}\n"
	".nl{font-weight:650;overflow-wrap:anywhere}.meta{color:var(--mut);font-size:13px}\n"
	".pc{color:var(--fg)}\n"
	"code{font:12px ui-monospace,Menlo,Consolas,monospace;background:#eef1f5;padding:0 4px;"
	"border-radius:4px}\n"
	"svg.chart{width:100%;max-width:780px;height:auto;display:block;margin:8px 0}\n"
	"svg .grid{stroke:#e6e9ee}svg .one{stroke:#9aa3ad;stroke-dasharray:2 2}\n"
	"svg .ax{font-size:11px;fill:#6a7385}svg .lab{font-size:12px;fill:#333c4e}\n"
	"svg.eff{width:90px;max-width:100%;height:14px;margin-top:3px}\n"
	"svg.spark{width:160px;height:34px}\n"
	".rate{display:inline-block;width:120px;height:10px;background:#f1dede;border-radius:5px;"
	"vertical-align:middle;overflow:hidden}.rate span{display:block;height:100%;"
	"background:#2a9d6f}\n"
	".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}\n"
	"input[type=search]{padding:6px 10px;width:320px;max-width:100%;border:1px solid #c9d0da;"
	"border-radius:6px;font:inherit}\n"
	"button{padding:5px 10px;border:1px solid #c9d0da;border-radius:6px;background:#fff;"
	"font:inherit;cursor:pointer}\n"
	"footer{max-width:1240px;margin:0 auto;padding:0 28px 30px;color:var(--mut);font-size:12px}\n"
	"@media print{details{display:block}nav,#filter,button{display:none}}\n";

/* Sorting by header click (numeric cells carry data-v), the niche filter,
 * open/close all.  No console output, no network. */
static const char js[] =
	"(function(){\n"
	"function key(c){var v=c.getAttribute('data-v');return v===null?c.textContent.trim()"
	".toLowerCase():parseFloat(v);}\n"
	"document.querySelectorAll('table.sort').forEach(function(t){\n"
	" var hs=t.tHead?t.tHead.rows[0].cells:[];\n"
	" Array.prototype.forEach.call(hs,function(th,i){th.addEventListener('click',function(){\n"
	"  var d=th.getAttribute('data-d')==='d'?'a':'d';\n"
	"  Array.prototype.forEach.call(hs,function(h){h.removeAttribute('data-d');});\n"
	"  th.setAttribute('data-d',d);\n"
	"  var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);\n"
	"  rows.sort(function(x,y){var a=key(x.cells[i]),c=key(y.cells[i]);"
	"var r=a<c?-1:a>c?1:0;return d==='a'?r:-r;});\n"
	"  rows.forEach(function(r){b.appendChild(r);});});});});\n"
	"var f=document.getElementById('filter');\n"
	"if(f)f.addEventListener('input',function(){var q=f.value.toLowerCase();\n"
	" document.querySelectorAll('details.niche').forEach(function(d){\n"
	"  d.style.display=(d.getAttribute('data-k')||'').toLowerCase().indexOf(q)>=0?'':'none';});});\n"
	"function all(o){document.querySelectorAll('details.niche').forEach(function(d){"
	"if(d.style.display!=='none')d.open=o;});}\n"
	"var oa=document.getElementById('openall'),ca=document.getElementById('closeall');\n"
	"if(oa)oa.addEventListener('click',function(){all(true);});\n"
	"if(ca)ca.addEventListener('click',function(){all(false);});\n"
	"document.documentElement.setAttribute('data-ready','1');\n"
	"})();\n";

void pd_report_html(const pd_report *r, const pd_report_opts *o, pd_buf *b)
{
	pd_report_opts def = PD_REPORT_OPTS_INIT;
	if (!o)
		o = &def;
	const char *title = o->title ? o->title : "pd report";
	const rpat **sorted = xcalloc((size_t)r->np + 1, sizeof *sorted);
	for (int i = 0; i < r->np; i++)
		sorted[i] = &r->p[i];
	qsort(sorted, (size_t)r->np, sizeof *sorted, cmp_pat);

	pd_buf_adds(b, "<!DOCTYPE html>\n<html lang=en>\n<head>\n<meta charset=utf-8>\n"
		    "<meta name=viewport content=\"width=device-width,initial-scale=1\">\n"
		    "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; "
		    "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
		    "<title>");
	esc(b, title);
	pd_buf_adds(b, "</title>\n<style>\n");
	pd_buf_adds(b, css);
	pd_buf_adds(b, "</style>\n</head>\n<body>\n<header><div class=w><h1>");
	esc(b, title);
	pd_buf_adds(b, "</h1><p>What makes videos over-perform, niche by niche. ");
	if (r->from_db) {
		if (r->active_run) {
			pd_buf_adds(b, "From the database: active run ");
			esc(b, r->active_run);
			pd_buf_adds(b, ", started ");
			esc(b, r->active_started);
			pd_buf_adds(b, ".");
		} else if (r->db_empty) {
			pd_buf_adds(b, "From the database: it holds no pd tables yet "
				    "(pd-store has not stored a run there).");
		} else {
			pd_buf_adds(b, "From the database: no active run yet.");
		}
	} else {
		pd_buf_adds(b, "From a stream of ");
		fint(b, (double)r->records);
		pd_buf_adds(b, " records.");
	}
	if (o->generated_at) {
		pd_buf_adds(b, " Generated ");
		esc(b, o->generated_at);
		pd_buf_adds(b, ".");
	}
	pd_buf_adds(b, "</p></div></header>\n<nav><a href=\"#status\">Status and kind</a>"
		    "<a href=\"#top\">Best patterns</a><a href=\"#niches\">Niches</a>"
		    "<a href=\"#times\">Processing time</a><a href=\"#runs\">Runs</a>"
		    "<a href=\"#cache\">Cache</a>");
	if (r->track)
		pd_buf_adds(b, "<a href=\"#track\">Predicted vs actual</a>");
	pd_buf_adds(b, "</nav>\n<main>\n");
	section_summary(b, r);
	section_status_kind(b, r);
	section_top(b, r, sorted);
	section_niches(b, r, o);
	section_times(b, r, o);
	section_runs(b, r, o);
	section_cache(b, r);
	section_track(b, r);
	pd_buf_adds(b, "</main>\n<footer><p><b>Reading the figures.</b> <i>Perf</i>: a video&#39;s "
		    "views as a multiple of what its own channel usually gets at the same age. "
		    "<i>Effect</i>: how many times the views of the niche&#39;s other videos the videos "
		    "with the pattern get (1.00&#215; = no difference), with its 95&#8239;% interval; "
		    "the small chart shows it on a log scale from 0.5&#215; to 8&#215;, the dashed "
		    "line at 1&#215;. <i>Newer videos</i>: whether the effect held on videos published "
		    "after those it was found on. <i>Confidence</i>: the estimated chance that the "
		    "pattern holds on future videos.</p><p>Made by pd-report (pd ");
	pd_buf_adds(b, PD_VERSION);
	pd_buf_adds(b, ").</p></footer>\n<script>\n");
	pd_buf_adds(b, js);
	pd_buf_adds(b, "</script>\n</body>\n</html>\n");
	free(sorted);
}
