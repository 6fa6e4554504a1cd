/*
 * matchsvc.c — the match session (see matchsvc.h).
 *
 * A batch is an array of slots, one per input, filled by take (the full
 * record path: a draft, a video without an embedding looked up by id) or by
 * take_prepared (a video with an embedding prepared on the reading thread),
 * and emptied by flush: the provider's embeddings for the batch in one
 * call, the kernel (one sgemm for the radius screen, or the hierarchy's
 * descent per row), each answer written in input order, then the batch's
 * cache entries set in one round trip.  A slot keeps what a late rejection
 * needs (its line, file and line number) while it waits for the provider.
 *
 * Staying current (matchsvc.h) is decided in refresh(), run before the
 * first input of a batch, never in the middle of one: a reload swaps the
 * matcher only when no slot refers to it.  Its costs when nothing changed:
 * one clock read; a Redis GET once a second; a PostgreSQL query every 2 s
 * while Redis cannot say and every 30 s while it can.  A failed reconnect
 * costs one refused connect per backoff delay (cache.c).
 */
#include "pd.h"
#include "matchsvc.h"
#include "abtest.h"
#include "match.h"
#include "pinecone.h"
#include "cache.h"
#include "db.h"
#include "tfidf.h"
#include "embed_openai.h"
#include "vec.h"
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EMB_TTL (24 * 3600)	/* a stored record, a provider's embedding */
#define MATCH_TTL 3600		/* an id-only input's answer */
#define PLACE_TTL (6 * 3600)	/* a video's place in the hierarchy */
#define GEN_EVERY 1.0		/* seconds between looks at pd:gen */
#define RUN_EVERY_DOWN 2.0	/* seconds between looks at the active run, Redis unable to say */
#define RUN_EVERY_UP 30.0	/* the same while Redis is up */

/* One input in the current batch. */
typedef struct slot {
	pd_record r;
	pd_jobj o;		/* r's fields when it was scanned (scan_video) */
	pd_video v;
	int have_video;
	char *vid;		/* the video_id of the answer */
	pd_buf stored;		/* the stored record the video came from (cache or database) */
	pd_buf cached;		/* a whole answer from the match cache */
	int from_cache;
	char *mkey;		/* match cache key to fill after matching */
	char *pkey;		/* place cache key: the embedding is the id's (a lookup) */
	int place[PD_NLEVELS];	/* its nodes in the hierarchy; -1: to be placed */
	int place_cached;	/* place came from the cache */
	/* waiting for the embeddings provider (embedded for the whole batch at once) */
	int pending, dropped;
	char *text, *ekey;	/* the text sent, its embedding cache key */
	char *line, *file;	/* copies, for a rejection at flush time */
	size_t len;
	long lineno;
} slot;

struct pd_msvc {
	pd_msvc_opts o;
	pd_msvc_io io;
	pd_matcher *M;		/* NULL until the first video or draft */
	int from_db;		/* the patterns are the database's active set */
	/* services */
	pd_cache *cache;
	PGconn *db;
	int db_tried;
	unsigned dbtag;		/* which database (DATABASE_URL), for cache keys */
	pd_tmodel *model;
	pd_oai oai;		/* the embeddings provider (PD_EMBED_URL), when use_oai */
	int use_oai;
	uint64_t oai_tag;	/* hash of URL and model, for embedding cache keys */
	unsigned long long oai_texts;
	float *pc_vec;		/* Pinecone answers */
	size_t pc_cap;
	/* staying current */
	long long gen;		/* pd:gen when last read */
	double gen_at, run_at;	/* when pd:gen, the active run were last looked at */
	long long run;		/* the active run the patterns were read from (0: unknown) */
	long long db_run;	/* the active run whose clusters are the hierarchy (0: none) */
	int warned_run, warned_reload, warned_radius;
	uint64_t sig;		/* options and pattern set, for match cache keys */
	char runtag[40];	/* "r" + run id or "h" + hierarchy hash, for place keys */
	/* the batch */
	slot *slots;
	int nslots;
	float *X, *S;		/* unit rows, similarities */
	pd_match_hit *hits;	/* batch x patterns */
	int *nhits;		/* per slot */
	pd_vfeat *vf;
	/* figures */
	unsigned long long place_hits, unplaced, answered, reloads;
	double kernel_s;
};

/* cpu_s: the process's CPU time (the kernel figure holds on a busy machine too). */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* a warning and a rejected input, to the caller's functions (err.h) */
#define warn(ms, ...) pd_warnf((ms)->io.warn, (ms)->io.ud, __VA_ARGS__)
#define reject(ms, ...) pd_rejectf((ms)->io.reject, (ms)->io.ud, __VA_ARGS__)

/* ---- services ---- */

/* cache_warn: the cache's failure, said once per loss */
static void cache_warn(pd_msvc *ms)
{
	pd_err err;
	if (pd_cache_take_error(ms->cache, &err))
		warn(ms, "%s; matching goes on without the cache", err.msg);
}

static PGconn *need_db(pd_msvc *ms, pd_err *err)
{
	if (!ms->db && !ms->db_tried) {
		ms->db_tried = 1;
		pd_db_set_program("pd-match");
		ms->db = pd_db_connect(NULL, err);
	} else if (!ms->db) {
		pd_err_set(err, PD_ESERVICE, "no database connection");
	}
	return ms->db;
}

/* db_configured: a database to read videos from (patterns from it count too). */
static int db_configured(const pd_msvc *ms)
{
	static const char *const vars[] = { "DATABASE_URL", "PGHOST", "PGDATABASE", "PGSERVICE",
					    NULL };
	if (ms->db || ms->from_db)
		return 1;
	for (int i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return 1;
	}
	return 0;
}

static void compute_sig(pd_msvc *ms)
{
	uint64_t v[4] = { ms->M->hash, (uint64_t)ms->o.group, (uint64_t)ms->o.recommend,
			  (uint64_t)(int64_t)ms->o.tz_offset };
	ms->sig = pd_hash64(v, sizeof v);
	if (ms->db_run > 0)
		snprintf(ms->runtag, sizeof ms->runtag, "r%lld", ms->db_run);
	else
		snprintf(ms->runtag, sizeof ms->runtag, "h%016llx",
			 (unsigned long long)ms->M->hier_hash);
}

/* the hierarchy of --clusters into m */
static int load_clusters_file(pd_msvc *ms, pd_matcher *m, pd_err *err)
{
	pd_hier h;
	if (pd_hier_load_file(ms->o.clusters_path, ms->o.max_line, &h, err) < 0)
		return -1;
	return pd_matcher_set_hier(m, &h, err);
}

/* active_run: the active run's id into *run (0: none); -1 with err */
static int active_run(PGconn *c, long long *run, pd_err *err)
{
	PGresult *r = pd_db_query(c, "SELECT run_id FROM discovery_runs WHERE status = 'active'",
				  0, NULL, err);
	if (!r)
		return -1;
	*run = PQntuples(r) > 0 && !PQgetisnull(r, 0, 0) ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
	PQclear(r);
	return 0;
}

/*
 * load_db_patterns: the active set, the hierarchy from --clusters or the
 * active run's clusters, and the active run's id into *run, read in one
 * snapshot (a run stored meanwhile is all in or all out); NULL with err.
 */
static pd_matcher *load_db_patterns(pd_msvc *ms, long long *run, long long *hier_run,
				    pd_err *err)
{
	PGconn *c = need_db(ms, err);
	if (!c)
		return NULL;
	pd_matcher *m = pd_matcher_new();
	*hier_run = 0;
	*run = 0;
	if (pd_db_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err) < 0)
		goto fail;
	if (ms->o.clusters_path) {
		if (load_clusters_file(ms, m, err) < 0)
			goto fail;
	} else {
		pd_hier h;
		long long hr;
		long k = pd_db_read_clusters(c, &h, &hr, err);
		if (k < 0)
			goto fail;
		if (k > 0) {
			*hier_run = hr;
			pd_matcher_set_hier(m, &h, err);
		}
	}
	if (pd_db_read_patterns(c, m, err) < 0 || active_run(c, run, err) < 0 ||
	    pd_db_exec(c, "COMMIT", err) < 0 || pd_matcher_finish(m, err) < 0)
		goto fail;
	return m;
fail:
	if (PQtransactionStatus(c) != PQTRANS_IDLE) {
		pd_err keep = *err;
		pd_db_exec(c, "ROLLBACK", NULL);
		*err = keep;
	}
	pd_matcher_free(m);
	return NULL;
}

/* warn_radius: once, when patterns apply by radius for want of a hierarchy */
static void warn_radius(pd_msvc *ms)
{
	if (ms->warned_radius || pd_matcher_has_hier(ms->M) || !ms->M->n)
		return;
	ms->warned_radius = 1;
	warn(ms, "no cluster hierarchy (--clusters, cluster records in the pattern file, or the "
		 "active run's clusters): patterns apply within their radius instead of to their "
		 "cluster");
}

static void set_matcher(pd_msvc *ms, pd_matcher *m)
{
	pd_matcher_free(ms->M);
	ms->M = m;
	size_t b = (size_t)ms->o.batch;
	free(ms->hits);
	ms->hits = xcalloc(b * (size_t)(m->n ? m->n : 1), sizeof *ms->hits);
	free(ms->S);
	ms->S = xcalloc(b * (size_t)(m->n ? m->n : 1), sizeof *ms->S);
	free(ms->X);
	ms->X = xcalloc(b * (size_t)(m->dim ? m->dim : 1), sizeof *ms->X);
	compute_sig(ms);
}

/*
 * load: the pattern set, at the first video or draft (a stream of other
 * records needs none, and no database).  -1 with err: PD_EUSAGE for a
 * pattern or cluster file, a model of another dimension.
 */
static int load(pd_msvc *ms, pd_err *err)
{
	pd_matcher *m;
	const char *path = ms->o.patterns_path;
	if (path) {
		m = pd_matcher_new();
		/* --clusters first: then the pattern file's cluster records are not read */
		if ((ms->o.clusters_path && load_clusters_file(ms, m, err) < 0) ||
		    pd_matcher_load_file(m, path, !ms->o.clusters_path, err) < 0 ||
		    pd_matcher_finish(m, err) < 0) {
			pd_matcher_free(m);
			err->code = PD_EUSAGE;
			return -1;
		}
	} else {
		ms->from_db = 1;
		m = load_db_patterns(ms, &ms->run, &ms->db_run, err);
		if (!m)
			return -1;
		ms->run_at = mono_s();
	}
	if (ms->model && m->dim && pd_tmodel_dims(ms->model) != m->dim) {
		pd_err_set(err, PD_EUSAGE, "the model's embeddings have %d dimensions, the patterns %d",
			   pd_tmodel_dims(ms->model), m->dim);
		pd_matcher_free(m);
		return -1;
	}
	set_matcher(ms, m);
	warn_radius(ms);
	/* nothing to match against is worth saying once: an empty file, a run
	   whose patterns were all rejected */
	if (!m->n)
		warn(ms, "no patterns to match (%s%s): every video gets none",
		     path ? path : "the active run of the database",
		     m->skipped ? ", only rejected ones" : "");
	return 0;
}

/* reload: the database's active set again; the loaded one kept when it fails */
static void reload(pd_msvc *ms, double now)
{
	pd_err err;
	long long run, hier_run;
	ms->run_at = now;
	pd_matcher *m = load_db_patterns(ms, &run, &hier_run, &err);
	if (!m) {
		if (!ms->warned_reload++)
			warn(ms, "reloading patterns: %s; keeping the ones loaded", err.msg);
		return;
	}
	ms->warned_reload = 0;
	ms->run = run;		/* decided for this run, either way */
	if (m->dim != ms->M->dim && ms->M->dim && m->dim) {
		warn(ms, "reloaded patterns have %d dimensions, not %d; keeping the ones loaded",
		     m->dim, ms->M->dim);
		pd_matcher_free(m);
		return;
	}
	ms->db_run = hier_run;
	set_matcher(ms, m);
	warn_radius(ms);
	ms->reloads++;
}

/*
 * refresh: before a batch, the session made current (matchsvc.h): the
 * cache reconnected when down, a new generation or a new active run
 * reloading the database's patterns.
 */
static void refresh(pd_msvc *ms)
{
	if (!ms->M)
		return;		/* the first load reads what is current */
	double now = mono_s();
	if (ms->cache && !pd_cache_up(ms->cache)) {
		cache_warn(ms);
		if (pd_cache_reconnect(ms->cache, now)) {
			warn(ms, "redis: connected again; matching uses the cache again");
			ms->gen = pd_cache_gen(ms->cache);
			ms->gen_at = now;
			ms->run_at = -1e9;	/* what happened while it was away: ask the database */
			cache_warn(ms);
		}
	}
	if (pd_cache_up(ms->cache) && now - ms->gen_at >= GEN_EVERY) {
		ms->gen_at = now;
		long long g = pd_cache_gen(ms->cache);
		cache_warn(ms);
		if (pd_cache_up(ms->cache) && g != ms->gen) {
			ms->gen = g;
			if (ms->from_db)
				reload(ms, now);
		}
	}
	if (!ms->from_db)
		return;
	if (now - ms->run_at < (pd_cache_up(ms->cache) ? RUN_EVERY_UP : RUN_EVERY_DOWN))
		return;
	ms->run_at = now;
	pd_err err;
	long long run = 0;
	PGconn *c = need_db(ms, &err);
	if (c && PQstatus(c) == CONNECTION_BAD)
		PQreset(c);	/* PostgreSQL restarted: a new connection, bounded by its timeout */
	if (!c || active_run(c, &run, &err) < 0) {
		if (!ms->warned_run++)
			warn(ms, "looking for a new run: %s; keeping the patterns loaded", err.msg);
		return;
	}
	ms->warned_run = 0;
	if (run != ms->run)
		reload(ms, now);
}

/* ---- the batch ---- */

static void slot_clear(slot *s)
{
	if (s->have_video)
		pd_video_release(&s->v);
	s->have_video = 0;
	free(s->vid);
	s->vid = NULL;
	free(s->mkey);
	s->mkey = NULL;
	free(s->pkey);
	s->pkey = NULL;
	for (int L = 0; L < PD_NLEVELS; L++)
		s->place[L] = -1;
	s->place_cached = 0;
	free(s->text);
	free(s->ekey);
	free(s->line);
	free(s->file);
	s->text = s->ekey = s->line = s->file = NULL;
	s->pending = s->dropped = 0;
	s->from_cache = 0;
	pd_buf_reset(&s->cached);
	pd_buf_reset(&s->stored);
}

/* row_scale: what an embedding is multiplied by to make it a unit row of X. */
static float row_scale(const float *e, int dim)
{
	float norm = pd_vec_norm(e, dim);
	return norm > 0 ? 1.0f / norm : 0.0f;
}

/* scale: x := e * inv, in blocks of 8 that the compiler turns into vector
   multiplies (the same products, each rounded once) */
static void scale(float *restrict x, const float *restrict e, int n, float inv)
{
	int k = 0;
	for (; k + 8 <= n; k += 8)
		for (int j = 0; j < 8; j++)
			x[k + j] = e[k + j] * inv;
	for (; k < n; k++)
		x[k] = e[k] * inv;
}

/* set_row: row i of X := the unit embedding of slot i. */
static void set_row(pd_msvc *ms, int i)
{
	slot *s = &ms->slots[i];
	int dim = ms->M->dim;
	float *x = ms->X + (size_t)i * (size_t)dim;
	scale(x, s->r.emb, dim, row_scale(s->r.emb, s->r.dim));
}

/*
 * embed_pending: the batch's texts waiting for the provider, in one call
 * (pd_oai_embed batches and retries); each embedding cached 24 h.  -1 with
 * err when the provider fails after its retries.
 */
static int embed_pending(pd_msvc *ms, pd_err *err)
{
	int n = 0;
	for (int i = 0; i < ms->nslots; i++)
		n += ms->slots[i].pending;
	if (!n)
		return 0;
	const char **texts = xmalloc((size_t)n * sizeof *texts);
	int k = 0;
	for (int i = 0; i < ms->nslots; i++)
		if (ms->slots[i].pending)
			texts[k++] = ms->slots[i].text;
	float *E = NULL;
	int d = 0;
	if (pd_oai_embed(&ms->oai, texts, n, &E, &d, err) < 0) {
		if (err->code == PD_EREC)
			err->code = PD_ESERVICE;
		free(texts);
		return -1;
	}
	ms->oai_texts += (unsigned long long)n;
	k = 0;
	for (int i = 0; i < ms->nslots; i++) {
		slot *s = &ms->slots[i];
		if (!s->pending)
			continue;
		const float *e = E + (size_t)k++ * (size_t)d;
		s->pending = 0;
		if (ms->M->dim && d != ms->M->dim) {
			reject(ms, s->file, s->lineno, s->line, s->len,
			       "'%s': the provider's embedding has %d dimensions, the patterns have %d",
			       s->vid, d, ms->M->dim);
			s->dropped = 1;
			continue;
		}
		pd_record_set_emb(&s->r, e, d);
		pd_cache_set(ms->cache, s->ekey, e, (size_t)d * sizeof *e, EMB_TTL);
		set_row(ms, i);
	}
	free(E);
	free(texts);
	return 0;
}

int pd_msvc_flush(pd_msvc *ms, pd_err *err)
{
	int n = ms->nslots;
	if (!n)
		return 0;
	if (embed_pending(ms, err) < 0)
		return -1;
	pd_matcher *M = ms->M;
	slot *slots = ms->slots;
	pd_buf *out = ms->io.out;
	/* the kernel: one product for the batch, then every row's radius scan */
	double t0 = cpu_s();
	pd_matcher_sims(M, ms->X, n, ms->S);
	for (int i = 0; i < n; i++)
		ms->nhits[i] = slots[i].from_cache || slots[i].dropped ? 0
			     : pd_match_select(M, ms->S + (size_t)i * (size_t)M->n,
					       ms->X + (size_t)i * (size_t)M->dim,
					       ms->hits + (size_t)i * (size_t)M->n, slots[i].place);
	ms->kernel_s += cpu_s() - t0;
	if (pd_matcher_has_hier(M))
		for (int i = 0; i < n; i++)
			if (!slots[i].from_cache && !slots[i].dropped && slots[i].place[0] < 0 &&
			    !ms->unplaced++)
				warn(ms, "'%s': a video with a zero embedding is placed in no cluster: no "
					 "pattern applies", slots[i].vid);
	/* what to cache once the answers are out: answers (1 h), places (6 h) */
	const char **ckeys = NULL, **cvals = NULL;
	size_t *clens = NULL;
	int *cttls = NULL, nc = 0;
	pd_buf places = PD_BUF_INIT;
	size_t *place_at = NULL;
	if (pd_cache_up(ms->cache)) {
		ckeys = xmalloc(2 * (size_t)n * sizeof *ckeys);
		cvals = xmalloc(2 * (size_t)n * sizeof *cvals);
		clens = xmalloc(2 * (size_t)n * sizeof *clens);
		cttls = xmalloc(2 * (size_t)n * sizeof *cttls);
		place_at = xmalloc(((size_t)n + 1) * sizeof *place_at);
		for (int i = 0; i < n; i++) {
			slot *s = &slots[i];
			place_at[i] = places.len;
			if (s->pkey && !s->place_cached && !s->dropped && s->place[0] >= 0)
				pd_matcher_place_format(M, s->place, &places);
		}
		place_at[n] = places.len;
	}
	for (int i = 0; i < n; i++) {
		slot *s = &slots[i];
		size_t from = out->len;
		if (s->dropped) {
			slot_clear(s);
			continue;
		}
		if (s->from_cache) {
			pd_buf_add(out, s->cached.p, s->cached.len);
		} else {
			pd_match_hit *h = ms->hits + (size_t)i * (size_t)M->n;
			if (ms->nhits[i] > 0) {
				/* the features these patterns test: a video's few
				   hits ask for much less than all the patterns */
				unsigned need = pd_match_hits_need(M, h, ms->nhits[i]);
				pd_vfeat_extract_some(ms->vf, &s->v, ms->o.tz_offset, need);
				pd_match_fill_has(M, h, ms->nhits[i], ms->vf);
			}
			pd_match_write(M, s->vid, h, ms->nhits[i], ms->o.group, ms->o.recommend,
				       s->place, out);
			if (s->mkey)	/* kept to be cached once the answer is out */
				pd_buf_add(&s->cached, out->p + from, out->len - from);
		}
		ms->answered++;
		/* (the caller may write the buffer out and empty it here) */
		if (ms->io.answered)
			ms->io.answered(ms->io.ud, from);
		if (ckeys && s->mkey) {
			ckeys[nc] = s->mkey;
			cvals[nc] = s->cached.p ? s->cached.p : "";
			clens[nc] = s->cached.len;
			cttls[nc++] = MATCH_TTL;
		}
		if (ckeys && place_at[i + 1] > place_at[i]) {
			ckeys[nc] = s->pkey;
			cvals[nc] = places.p + place_at[i];
			clens[nc] = place_at[i + 1] - place_at[i];
			cttls[nc++] = PLACE_TTL;
		}
	}
	/* one round trip for the batch's cache entries, then the slots are free */
	if (nc)
		pd_cache_mset_ttls(ms->cache, ckeys, cvals, clens, cttls, (size_t)nc);
	for (int i = 0; i < n; i++)
		slot_clear(&slots[i]);	/* (again for a dropped one: harmless) */
	free(ckeys);
	free(cvals);
	free(clens);
	free(cttls);
	free(place_at);
	pd_buf_release(&places);
	ms->nslots = 0;
	cache_warn(ms);
	return 0;
}

/*
 * lookup: s->r is a video without an embedding, id `id`: the stored record
 * (match cache, then embedding cache, then database, then Pinecone)
 * replaces it, and its place in the hierarchy is taken from the place cache
 * when there.  The gets are one round trip.  Returns 1 ready (or answered
 * from the match cache), 0 not stored, -1 with err (a service failed).
 */
static int lookup(pd_msvc *ms, slot *s, const char *id, pd_err *err)
{
	int id_only = cJSON_GetArraySize(s->r.json) == 2;
	int hier = pd_matcher_has_hier(ms->M);
	pd_cache *cache = ms->cache;
	char ekey[600], mkey[640], pkey[640];
	snprintf(ekey, sizeof ekey, "pd:emb:%lld:%08x:%s", ms->gen, ms->dbtag, id);
	snprintf(mkey, sizeof mkey, "pd:match:%lld:%08x:%016llx:%s", ms->gen, ms->dbtag,
		 (unsigned long long)ms->sig, id);
	snprintf(pkey, sizeof pkey, "pd:place:%lld:%08x:%s:%s", ms->gen, ms->dbtag, ms->runtag,
		 id);
	int ok = strlen(id) < 500;
	if (ok && pd_cache_up(cache)) {
		/* the record, the place, and for an id alone its answer */
		const char *keys[3];
		pd_buf vals[3] = { PD_BUF_INIT, PD_BUF_INIT, PD_BUF_INIT };
		int hit[3] = { 0, 0, 0 }, nk = 0, ip = -1, im = -1;
		keys[nk++] = ekey;
		if (hier)
			keys[ip = nk++] = pkey;
		if (id_only)
			keys[im = nk++] = mkey;
		pd_cache_mget(cache, keys, (size_t)nk, vals, hit);
		if (im >= 0 && hit[im]) {
			pd_buf_add(&s->cached, vals[im].p ? vals[im].p : "", vals[im].len);
			s->from_cache = 1;
		} else if (hit[0]) {
			pd_buf_add(&s->stored, vals[0].p, vals[0].len);
			if (ip >= 0 && hit[ip] &&
			    pd_matcher_place_parse(ms->M, vals[ip].p ? vals[ip].p : "", vals[ip].len,
						   s->place)) {
				s->place_cached = 1;
				ms->place_hits++;
			}
		}
		for (int k = 0; k < 3; k++)
			pd_buf_release(&vals[k]);
		cache_warn(ms);
		if (s->from_cache)
			return 1;
	}
	if (!s->stored.len) {
		int f = 0;
		if (db_configured(ms)) {
			PGconn *c = need_db(ms, err);
			if (!c)
				return -1;
			f = pd_db_video_record(c, id, &s->stored, err);
			if (f < 0)
				return -1;
		}
		if (f == 0) {
			/* Pinecone: the embedding only; the input's own fields stay */
			int dim = 0;
			f = pd_pinecone_fetch(id, &ms->pc_vec, &ms->pc_cap, &dim, err);
			if (f <= 0)
				return f;
			pd_record_set_emb(&s->r, ms->pc_vec, dim);
			pd_record_write(&s->r, &s->stored, PD_EMB_B64);
			if (s->stored.len && s->stored.p[s->stored.len - 1] == '\n')
				s->stored.p[--s->stored.len] = '\0';
		}
		if (ok)
			pd_cache_set(cache, ekey, s->stored.p, s->stored.len, EMB_TTL);
	}
	if (ok && id_only && pd_cache_up(cache))
		s->mkey = xstrdup(mkey);
	if (ok && hier && pd_cache_up(cache))
		s->pkey = xstrdup(pkey);
	return 1;
}

/* embed_text: the model's embedding of the record's title, tags, description. */
static void embed_text(pd_msvc *ms, slot *s)
{
	const char *title = pd_json_str(s->r.json, "title");
	const char *desc = pd_json_str(s->r.json, "description");
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(s->r.json, "tags");
	const char *tv[256];
	int nt = 0;
	const cJSON *t;
	if (cJSON_IsArray(tags))
		cJSON_ArrayForEach(t, tags)
			if (cJSON_IsString(t) && nt < 256)
				tv[nt++] = t->valuestring;
	pd_tdoc_text doc = { title, desc, tv, nt };	/* as pd-embed: NULL when absent */
	int dims = pd_tmodel_dims(ms->model);
	float *e = xmalloc((size_t)dims * sizeof *e);
	pd_tmodel_embed(ms->model, &doc, e);
	pd_record_set_emb(&s->r, e, dims);
	free(e);
}

/*
 * provider_text: s waits for the provider: its text as pd-embed's openai
 * provider composes it (title, then tags joined by ", ", then the first
 * 1000 bytes of the description, on lines of their own), unless the
 * embedding cache has it.  Returns 1 still pending (kept with copies for a
 * late rejection), 0 embedded from the cache.
 */
static int provider_text(pd_msvc *ms, slot *s, const char *file, long lineno, const char *line,
			 size_t len)
{
	pd_buf b = PD_BUF_INIT;
	pd_oai_video_text(&s->v, &b);
	s->text = pd_buf_detach(&b);
	char key[80];
	snprintf(key, sizeof key, "pd:oemb:%016llx:%016llx", (unsigned long long)ms->oai_tag,
		 (unsigned long long)pd_hash64(s->text, strlen(s->text)));
	s->ekey = xstrdup(key);
	pd_buf val = PD_BUF_INIT;
	int dim = ms->M->dim;
	if (pd_cache_get(ms->cache, key, &val) && val.len && val.len % sizeof(float) == 0 &&
	    (!dim || val.len / sizeof(float) == (size_t)dim)) {
		float *e = xmalloc(val.len);
		memcpy(e, val.p, val.len);
		int d = (int)(val.len / sizeof(float));
		int finite = 1;
		for (int k = 0; k < d; k++)
			finite &= isfinite(e[k]) != 0;
		if (finite) {
			pd_record_set_emb(&s->r, e, d);
			s->pending = 0;
		}
		free(e);
	}
	pd_buf_release(&val);
	cache_warn(ms);
	if (!s->pending)
		return 0;
	s->line = xmemdup(line, len);
	s->len = len;
	s->file = xstrdup(file);
	s->lineno = lineno;
	return 1;
}

/*
 * scan_video: the common case read without a cJSON tree: a `video` record
 * with an embedding and an id, which pd_record_scan decides.  Returns 1 with
 * r, o and v filled (v borrows from o; its strings of `keep` only, as
 * pd_video_from_jobj_keep) when take's checks up to the dimension all pass;
 * 0 when the full path must decide (nothing to release).
 */
static int scan_video(pd_record *r, pd_jobj *o, pd_video *v, const char *line, size_t len,
		      unsigned keep)
{
	pd_jv t, id;
	pd_err err;
	if (pd_record_scan(r, o, line, len) != 0)
		return 0;
	/* the type as pd_json_type reads it: the first "type", unescaped */
	pd_jobj_get(o, "type", &t);
	if (t.rawlen != 7 || memcmp(t.raw, "\"video\"", 7) || r->dim == 0)
		return 0;
	if (!pd_jobj_get(o, "id", &id) || id.t != PD_JV_STRING || !id.s[0])
		return 0;
	return pd_video_from_jobj_keep(o, v, keep, &err) == 0;
}

/* video_keep: the members of a video the loaded patterns' features read
   (all before they are loaded) */
static unsigned video_keep(const pd_msvc *ms)
{
	return ms->M ? pd_vfeat_video_fields(ms->M->need) : ~0u;
}

/* ready: the patterns loaded, and before a batch's first input the session made current */
static int ready(pd_msvc *ms, pd_err *err)
{
	if (!ms->M)
		return load(ms, err);
	if (ms->nslots == 0)
		refresh(ms);
	return 0;
}

/* embed_title: slot s, without an embedding, embedded from its title: now
   with the local model, or with the batch by the provider; 0 when there is
   neither */
static int embed_title(pd_msvc *ms, slot *s)
{
	if (ms->model)
		embed_text(ms, s);
	else if (ms->use_oai)
		s->pending = 1;
	else
		return 0;
	return 1;
}

/* take_video: a video record (not a draft) on the full path; 1, 0, -1 as pd_msvc_take */
static int take_video(pd_msvc *ms, slot *s, const char *file, long lineno, const char *line,
		      size_t len, pd_err *err)
{
	const char *id = pd_json_str(s->r.json, "id");
	if (!id || !*id) {
		reject(ms, file, lineno, line, len, "video record without a string \"id\"");
		return 0;
	}
	s->vid = xstrdup(id);
	if (s->r.dim != 0)
		return 1;
	int found = lookup(ms, s, s->vid, err);
	if (found < 0)
		return -1;
	if (s->from_cache)
		return 2;	/* answered: nothing more to do */
	if (found && pd_record_parse(&s->r, s->stored.p, s->stored.len, err) < 0) {
		reject(ms, file, lineno, line, len, "video '%s': stored record: %s", s->vid, err->msg);
		return 0;
	}
	if (s->r.dim == 0 && (!pd_json_str(s->r.json, "title") || !embed_title(ms, s))) {
		reject(ms, file, lineno, line, len, "video '%s' has no embedding and is not stored%s",
		       s->vid, ms->model || ms->use_oai ? "" :
		       " (no --embed-model or PD_EMBED_URL for its title)");
		return 0;
	}
	return 1;
}

/* take_draft: a draft record; 1 or 0 as pd_msvc_take */
static int take_draft(pd_msvc *ms, slot *s, const char *file, long lineno, const char *line,
		      size_t len)
{
	const char *title = pd_json_str(s->r.json, "title");
	if (!title) {
		reject(ms, file, lineno, line, len, "draft without a string \"title\"");
		return 0;
	}
	/* "ref", "id", or a deterministic id from the title and what else decides
	   the answer: the one naming of drafts, which pd-abtest shares */
	pd_buf k = PD_BUF_INIT;
	pd_err e;
	pd_ab_draft_id(s->r.json, &k, &e);	/* cannot fail: the title is there */
	s->vid = pd_buf_detach(&k);
	pd_json_set(s->r.json, "id", cJSON_CreateString(s->vid));
	if (s->r.dim == 0 && !embed_title(ms, s)) {
		reject(ms, file, lineno, line, len,
		       "draft '%s' has no embedding and no --embed-model or PD_EMBED_URL "
		       "was given", s->vid);
		return 0;
	}
	return 1;
}

/* take_scanned: slot s holds a video read by scan_video: into the batch, or
   rejected for its dimension (1 or 0 as pd_msvc_take) */
static int take_scanned(pd_msvc *ms, slot *s, const char *file, long lineno, const char *line,
			size_t len)
{
	int dim = ms->M->dim;
	s->have_video = 1;
	s->vid = xstrdup(s->v.id);
	if (dim && s->r.dim != dim) {
		reject(ms, file, lineno, line, len,
		       "'%s': embedding has %d dimensions, the patterns have %d", s->vid,
		       s->r.dim, dim);
		slot_clear(s);
		return 0;
	}
	set_row(ms, ms->nslots++);
	return 1;
}

int pd_msvc_take_plain(pd_msvc *ms, const char *file, long lineno, const char *line, size_t len,
		       pd_err *err)
{
	slot *s = &ms->slots[ms->nslots];
	unsigned keep = video_keep(ms);
	if (!scan_video(&s->r, &s->o, &s->v, line, len, keep))
		return 0;
	/* as pd_msvc_take: the session made ready first (it does not touch the
	   slots), then the record into the batch */
	if (ready(ms, err) < 0) {
		pd_video_release(&s->v);
		return -1;
	}
	if (video_keep(ms) & ~keep) {
		/* the patterns (re)loaded read more of the video: filled again,
		   which passes as the first filling did */
		pd_err e;
		pd_video_release(&s->v);
		pd_video_from_jobj(&s->o, &s->v, &e);
	}
	take_scanned(ms, s, file, lineno, line, len);
	return 1;
}

int pd_msvc_take(pd_msvc *ms, const char *file, long lineno, const char *line, size_t len,
		 int is_draft, pd_err *err)
{
	if (ready(ms, err) < 0)
		return -1;
	int dim = ms->M->dim;
	slot *s = &ms->slots[ms->nslots];
	if (!is_draft && scan_video(&s->r, &s->o, &s->v, line, len, video_keep(ms)))
		return take_scanned(ms, s, file, lineno, line, len);
	if (pd_record_parse(&s->r, line, len, err) < 0) {
		reject(ms, file, lineno, line, len, "%s", err->msg);
		return 0;
	}
	int rc = is_draft ? take_draft(ms, s, file, lineno, line, len)
			  : take_video(ms, s, file, lineno, line, len, err);
	if (rc <= 0 || rc == 2) {
		if (rc == 2)
			ms->nslots++;
		else
			slot_clear(s);
		return rc < 0 ? -1 : rc ? 1 : 0;
	}
	if (pd_video_from_json(s->r.json, &s->v, err) < 0) {
		reject(ms, file, lineno, line, len, "%s", err->msg);
		slot_clear(s);
		return 0;
	}
	s->have_video = 1;
	if (s->pending && provider_text(ms, s, file, lineno, line, len)) {
		ms->nslots++;
		return 1;
	}
	if (dim && s->r.dim != dim) {
		reject(ms, file, lineno, line, len,
		       "'%s': embedding has %d dimensions, the patterns have %d", s->vid, s->r.dim,
		       dim);
		slot_clear(s);
		return 0;
	}
	set_row(ms, ms->nslots++);
	return 1;
}

int pd_msvc_full(const pd_msvc *ms)
{
	return ms->nslots >= ms->o.batch;
}

int pd_msvc_batched(const pd_msvc *ms)
{
	return ms->nslots;
}

/* ---- reading ahead ---- */

void pd_msvc_prep_init(pd_msvc_prep *a)
{
	memset(a, 0, sizeof *a);
}

void pd_msvc_prep_release(pd_msvc_prep *a)
{
	if (a->have_video)
		pd_video_release(&a->v);
	pd_record_release(&a->r);
	pd_jobj_release(&a->o);
	memset(a, 0, sizeof *a);
}

unsigned pd_msvc_need(const pd_msvc *ms, int *loaded)
{
	*loaded = ms->M != NULL;
	return ms->M ? ms->M->need : 0;
}

void pd_msvc_prepare(const pd_msvc *ms, pd_msvc_prep *a, const char *line, size_t len,
		     unsigned need, int have_need)
{
	if (a->have_video) {
		pd_video_release(&a->v);
		a->have_video = 0;
	}
	a->ok = 0;
	a->keep = have_need ? pd_vfeat_video_fields(need) : ~0u;
	if (!line || !scan_video(&a->r, &a->o, &a->v, line, len, a->keep))
		return;		/* pd_msvc_take decides */
	a->have_video = 1;
	/* the unit row, made here: the session copies it into X */
	float inv = row_scale(a->r.emb, a->r.dim);
	float *e = a->r.emb;
	int k = 0;
	for (; k + 8 <= a->r.dim; k += 8)	/* in place, in blocks as scale */
		for (int j = 0; j < 8; j++)
			e[k + j] *= inv;
	for (; k < a->r.dim; k++)
		e[k] *= inv;
	a->ok = 1;
}

int pd_msvc_take_prepared(pd_msvc *ms, pd_msvc_prep *a, pd_err *err)
{
	if (ready(ms, err) < 0)
		return -1;
	if (!a->ok || (ms->M->dim && a->r.dim != ms->M->dim) || (video_keep(ms) & ~a->keep))
		return 0;
	slot *s = &ms->slots[ms->nslots];
	pd_record t = s->r;
	s->r = a->r;
	a->r = t;
	pd_jobj o = s->o;
	s->o = a->o;
	a->o = o;
	s->v = a->v;
	s->have_video = 1;
	a->have_video = 0;
	s->vid = xstrdup(s->v.id);
	memcpy(ms->X + (size_t)ms->nslots * (size_t)ms->M->dim, s->r.emb,
	       (size_t)ms->M->dim * sizeof *ms->X);
	ms->nslots++;
	return 1;
}

/* ---- the session ---- */

pd_msvc *pd_msvc_new(const pd_msvc_opts *o, const pd_msvc_io *io, pd_err *err)
{
	pd_msvc *ms = xcalloc(1, sizeof *ms);
	ms->o = *o;
	ms->io = *io;
	if (ms->o.batch < 1)
		ms->o.batch = 1;
	if (o->model_path && !(ms->model = pd_tmodel_load(o->model_path, err))) {
		err->code = PD_EUSAGE;
		free(ms);
		return NULL;
	}
	if (!ms->model) {
		/* the provider pd-embed --provider openai uses, when configured */
		const char *u = getenv("PD_EMBED_URL"), *mo = getenv("PD_EMBED_MODEL");
		if (u && *u && mo && *mo) {
			ms->use_oai = 1;
			ms->oai.url = u;
			ms->oai.model = mo;
			ms->oai.key = getenv("PD_EMBED_API_KEY");
			ms->oai.seed = 1;
			pd_buf t = PD_BUF_INIT;
			pd_buf_printf(&t, "%s\n%s", u, mo);
			ms->oai_tag = pd_hash64(t.p, t.len);
			pd_buf_release(&t);
		}
	}
	if (o->use_cache) {
		const char *url = getenv("DATABASE_URL");
		pd_err cerr;
		ms->dbtag = (unsigned)pd_hash64(url ? url : "", url ? strlen(url) : 0);
		ms->cache = pd_cache_open_lasting(NULL, 0, 0, &cerr);
		if (!ms->cache && cerr.code)
			warn(ms, "%s; matching goes on without the cache", cerr.msg);
		ms->gen = pd_cache_gen(ms->cache);
		cache_warn(ms);
		ms->gen_at = mono_s();
	}
	ms->slots = xcalloc((size_t)ms->o.batch, sizeof *ms->slots);
	for (int i = 0; i < ms->o.batch; i++)
		slot_clear(&ms->slots[i]);	/* nothing placed yet */
	ms->nhits = xcalloc((size_t)ms->o.batch, sizeof *ms->nhits);
	ms->vf = pd_vfeat_new();
	return ms;
}

void pd_msvc_free(pd_msvc *ms)
{
	if (!ms)
		return;
	for (int i = 0; i < ms->o.batch; i++) {
		slot *s = &ms->slots[i];
		slot_clear(s);
		pd_record_release(&s->r);
		pd_jobj_release(&s->o);
		pd_buf_release(&s->stored);
		pd_buf_release(&s->cached);
	}
	free(ms->slots);
	free(ms->X);
	free(ms->S);
	free(ms->hits);
	free(ms->nhits);
	pd_vfeat_free(ms->vf);
	pd_matcher_free(ms->M);
	pd_tmodel_free(ms->model);
	free(ms->pc_vec);
	pd_cache_free(ms->cache);
	if (ms->db)
		PQfinish(ms->db);
	free(ms);
}

void pd_msvc_get_stats(const pd_msvc *ms, pd_msvc_stats *st)
{
	memset(st, 0, sizeof *st);
	st->cache = ms->cache != NULL;
	pd_cache_stats(ms->cache, &st->cache_hits, &st->cache_misses);
	st->answered = ms->answered;
	st->provider = ms->use_oai;
	st->provider_embedded = ms->oai_texts;
	st->kernel_s = ms->kernel_s;
	st->reloads = ms->reloads;
	if (!ms->M)
		return;
	st->loaded = 1;
	st->patterns = ms->M->n;
	st->skipped = ms->M->skipped;
	st->dims = ms->M->dim;
	st->hier = pd_matcher_has_hier(ms->M);
	st->clusters = ms->M->hier.n;
	st->unplaced = ms->unplaced;
	st->place_hits = ms->place_hits;
}
