/*
 * pd-match — which stored patterns apply to a video or a draft title, in
 * real time.
 *
 * Patterns come from --patterns FILE or the database's active set, the
 * cluster hierarchy they apply by from --clusters FILE, the cluster records
 * of the pattern file, or the active run's clusters; both are loaded once
 * (lib/match.h).  A pattern applies to the videos the hierarchy places in
 * its cluster (the descent of pd-cluster --assign); without a hierarchy, to
 * the videos within its radius (the older rule, with a warning).  When they
 * come from the database and Redis is configured, a change of the cache
 * generation `pd:gen` (pd-store bumps it after each run) reloads them.
 *
 * Inputs are `video` records with an embedding, `video` records without one
 * (the stored record is fetched by id: Redis, then PostgreSQL), and `draft`
 * records (a title, optionally a duration, a publish time, a "ref"),
 * embedded with a saved pd-embed model.  Inputs are gathered in batches
 * (--batch, 256): placed one by one in the hierarchy, or, by radius, a
 * batch's similarities to every centroid in one sgemm; with --unbuffered each line
 * is answered and flushed at once, read straight from the descriptor so the
 * first answer never waits for more input.  Otherwise a second thread reads
 * ahead (--threads, see "reading ahead" below): it parses the next chunk of
 * records while this one is matched and written.
 *
 * Caches (Redis, keys carry the generation): a stored video record fetched by
 * id (24 h), its place in the hierarchy (6 h, keyed by the run too), and the
 * whole answer to an id-only input (1 h); an id's gets are one round trip,
 * a batch's sets another.  Inputs that carry their embedding are never
 * looked up: matching them costs a few microseconds, a Redis round trip ~90.
 * Redis down: one warning, uncached.
 */
#include "ahead.h"
#include "cli.h"
#include "../lib/match.h"
#include "../lib/json.h"
#include "../lib/features.h"
#include "../lib/video.h"
#include "../lib/cache.h"
#include "../lib/db.h"
#include "../lib/tfidf.h"
#include "../lib/embed_openai.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
	"Usage: pd-match [OPTION]... [FILE]...\n"
	"Match video records and draft titles against stored patterns: the patterns of\n"
	"the clusters the hierarchy places the video in (macro, meso, micro, as\n"
	"pd-cluster --assign places it), whether the video has the pattern's feature, the\n"
	"expected performance, and recommendations.\n"
	"\n"
	"      --patterns FILE   patterns from this NDJSON file (default: the database's\n"
	"                        active set); its cluster records, if any, are the hierarchy\n"
	"      --clusters FILE   the cluster hierarchy from this NDJSON file of cluster\n"
	"                        records (default: those of the pattern file, or the active\n"
	"                        run's clusters)\n"
	"      --embed-model FILE  embed drafts (and videos without an embedding that are\n"
	"                        not stored) with this saved pd-embed model (default: the\n"
	"                        provider of PD_EMBED_URL when set)\n"
	"      --group           one match_group record per video instead of match records\n"
	"      --recommend       also list the applicable patterns the video lacks, by gain\n"
	"      --recommend-provisional  recommend provisional patterns too (implies\n"
	"                        --recommend)\n"
	"      --recommend-topics  recommend topic features too (title words, tags,\n"
	"                        category; implies --recommend)\n"
	"      --batch N         videos matched together (default 256)\n"
	"      --tz OFFSET       time zone of weekday and hour features: Z, +HH:MM, -HH:MM\n"
	"      --no-cache        do not use Redis even when REDIS_URL is set\n"
	"      --threads N       2: parse the next batch on a second thread while this one\n"
	"                        is matched (default when there are 2 or more CPUs); 1: not\n"
	CLI_COMMON_HELP
	"\n"
	"Environment: DATABASE_URL (patterns, clusters, videos by id), REDIS_URL (cache),\n"
	"PINECONE_API_KEY and PINECONE_INDEX_HOST (optional: embeddings by id),\n"
	"PD_EMBED_URL, PD_EMBED_MODEL, PD_EMBED_API_KEY (optional: embeddings provider).\n"
	"Exit status: 0 all matched, 1 some records rejected, 2 usage error, 3 service failure.\n";

enum { OPT_PATTERNS = CLI_OPT_FIRST_OWN, OPT_CLUSTERS, OPT_EMBED_MODEL, OPT_GROUP, OPT_RECOMMEND,
       OPT_RECOMMEND_PROV, OPT_RECOMMEND_TOPICS, OPT_BATCH, OPT_TZ, OPT_NO_CACHE, OPT_THREADS };

#define EMB_TTL (24 * 3600)
#define MATCH_TTL 3600
#define PLACE_TTL (6 * 3600)

static pd_matcher *M;
static pd_cache *cache;
static PGconn *db;
static int db_tried;
static pd_tmodel *model;
static pd_oai oai;		/* the embeddings provider (PD_EMBED_URL), when use_oai */
static int use_oai;
static uint64_t oai_tag;	/* hash of URL and model, for embedding cache keys */
static unsigned long long oai_texts;
static int group, recommend, tz_offset, from_db;
static long long gen;
static double last_gen_check;
static uint64_t sig;		/* options and pattern set, for match cache keys */
static char runtag[40];		/* the hierarchy's run ("r" + run id) or hash ("h" + hex), for place keys */
static long long db_run;	/* the active run whose clusters are the hierarchy (0: none) */
static unsigned long long place_hits;	/* places taken from the cache */
static unsigned long long unplaced;	/* videos with a zero embedding (no place) */
static unsigned dbtag;		/* which database (DATABASE_URL), for cache keys */
static pd_vfeat *vf;
static pd_match_hit *hits;	/* batch x patterns */
static int *nhits;		/* per slot */

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
	pd_vfeat *vf;		/* features extracted ahead (reader thread), when vf_done */
	int vf_done;
	unsigned vf_need;	/* what they were extracted for */
} slot;

static slot *slots;
static int nslots, batch = 256;
static float *X, *S;

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

/* ---- services ---- */

static void cache_warn(void)
{
	pd_err err;
	if (pd_cache_take_error(cache, &err) && !cli.quiet)
		cli_warn("%s; matching goes on without the cache", err.msg);
}

static PGconn *need_db(void)
{
	if (!db && !db_tried) {
		pd_err err;
		db_tried = 1;
		pd_db_set_program("pd-match");
		db = pd_db_connect(NULL, &err);
		if (!db)
			cli_fatal_err(&err);
	}
	return db;
}

/* db_configured: a database to read videos from (patterns from it count too). */
static int db_configured(void)
{
	static const char *const vars[] = { "DATABASE_URL", "PGHOST", "PGDATABASE", "PGSERVICE",
					    NULL };
	if (db || from_db)
		return 1;
	for (int i = 0; vars[i]; i++) {
		const char *v = getenv(vars[i]);
		if (v && *v)
			return 1;
	}
	return 0;
}

static float *pc_vec;		/* Pinecone answers */
static size_t pc_cap;

static void compute_sig(void)
{
	uint64_t v[4] = { M->hash, (uint64_t)group, (uint64_t)recommend, (uint64_t)(int64_t)tz_offset };
	sig = pd_hash64(v, sizeof v);
	if (db_run > 0)
		snprintf(runtag, sizeof runtag, "r%lld", db_run);
	else
		snprintf(runtag, sizeof runtag, "h%016llx", (unsigned long long)M->hier_hash);
}

static const char *clusters_path;

/* the hierarchy of --clusters into m */
static int load_clusters_file(pd_matcher *m, pd_err *err)
{
	pd_hier h;
	if (pd_hier_load_file(clusters_path, cli.max_line, &h, err) < 0)
		return -1;
	return pd_matcher_set_hier(m, &h, err);
}

/*
 * load_db_patterns: the active set, and the hierarchy from --clusters or the
 * active run's clusters; NULL with err.
 */
static pd_matcher *load_db_patterns(pd_err *err)
{
	pd_matcher *m = pd_matcher_new();
	db_run = 0;
	if (clusters_path) {
		if (load_clusters_file(m, err) < 0)
			goto fail;
	} else {
		pd_hier h;
		long long run;
		long k = pd_db_read_clusters(need_db(), &h, &run, err);
		if (k < 0)
			goto fail;
		if (k > 0) {
			db_run = run;
			pd_matcher_set_hier(m, &h, err);
		}
	}
	if (pd_db_read_patterns(need_db(), m, err) < 0 || pd_matcher_finish(m, err) < 0)
		goto fail;
	return m;
fail:
	pd_matcher_free(m);
	return NULL;
}

/* warn_radius: once, when patterns apply by radius for want of a hierarchy */
static void warn_radius(const pd_matcher *m)
{
	static int warned;
	if (warned || pd_matcher_has_hier(m) || !m->n)
		return;
	warned = 1;
	cli_warn("no cluster hierarchy (--clusters, cluster records in the pattern file, or the "
		 "active run's clusters): patterns apply within their radius instead of to their "
		 "cluster");
}

static void set_matcher(pd_matcher *m)
{
	pd_matcher_free(M);
	M = m;
	free(hits);
	hits = xcalloc((size_t)batch * (size_t)(M->n ? M->n : 1), sizeof *hits);
	free(S);
	S = xcalloc((size_t)batch * (size_t)(M->n ? M->n : 1), sizeof *S);
	free(X);
	X = xcalloc((size_t)batch * (size_t)(M->dim ? M->dim : 1), sizeof *X);
	compute_sig();
}

/* check_gen: at most once a second, a new generation reloads database patterns. */
static void check_gen(void)
{
	if (!pd_cache_up(cache))
		return;
	double now = mono_s();
	if (now - last_gen_check < 1.0)
		return;
	last_gen_check = now;
	long long g = pd_cache_gen(cache);
	cache_warn();
	if (g == gen || !pd_cache_up(cache))
		return;
	gen = g;
	if (from_db) {
		pd_err err;
		pd_matcher *m = load_db_patterns(&err);
		if (!m) {
			cli_warn("reloading patterns: %s; keeping the ones loaded", err.msg);
			return;
		}
		if (m->dim != M->dim && M->dim && m->dim) {
			cli_warn("reloaded patterns have %d dimensions, not %d; keeping the ones loaded",
				 m->dim, M->dim);
			pd_matcher_free(m);
			return;
		}
		set_matcher(m);
		warn_radius(m);
		cli_metric_num("pattern_reloads", 1);
	}
	compute_sig();
}

/* ---- input: the batch ---- */

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
	s->vf_done = 0;
	pd_buf_reset(&s->cached);
	pd_buf_reset(&s->stored);
}

static unsigned long long lines_out;
static double kernel_s;	/* CPU time in the similarity product and the radius scan */

/* count_out: the out bytes from offset `from` are records; count them (memchr:
 * the answers are ~1.7 KB a video, a byte loop over them cost 6% of a run). */
static void count_out(size_t from)
{
	if (!cli_out.p)
		return;	/* nothing written yet (NULL + 0 is undefined) */
	const char *p = cli_out.p + from, *e = cli_out.p + cli_out.len;
	while (p < e && (p = memchr(p, '\n', (size_t)(e - p)))) {
		cli.records_out++;
		p++;
	}
}


/* row_scale: what an embedding is multiplied by to make it a unit row of X. */
static float row_scale(const float *e, int dim)
{
	float norm = pd_vec_norm(e, dim);
	return norm > 0 ? 1.0f / norm : 0.0f;
}

/* set_row: row i of X := the unit embedding of slot i. */
static void set_row(int i)
{
	slot *s = &slots[i];
	float *x = X + (size_t)i * (size_t)M->dim;
	float inv = row_scale(s->r.emb, s->r.dim);
	for (int k = 0; k < M->dim; k++)
		x[k] = s->r.emb[k] * inv;
}

/*
 * embed_pending: the batch's texts waiting for the provider, in one call
 * (pd_oai_embed batches and retries); each embedding cached 24 h.  A
 * provider failure after its retries ends the command (exit 3).
 */
static void embed_pending(void)
{
	int n = 0;
	for (int i = 0; i < nslots; i++)
		n += slots[i].pending;
	if (!n)
		return;
	const char **texts = xmalloc((size_t)n * sizeof *texts);
	int k = 0;
	for (int i = 0; i < nslots; i++)
		if (slots[i].pending)
			texts[k++] = slots[i].text;
	float *E = NULL;
	int d = 0;
	pd_err err;
	if (pd_oai_embed(&oai, texts, n, &E, &d, &err) < 0) {
		if (err.code == PD_EREC)
			err.code = PD_ESERVICE;
		cli_fatal_err(&err);
	}
	oai_texts += (unsigned long long)n;
	k = 0;
	for (int i = 0; i < nslots; i++) {
		slot *s = &slots[i];
		if (!s->pending)
			continue;
		const float *e = E + (size_t)k++ * (size_t)d;
		s->pending = 0;
		if (M->dim && d != M->dim) {
			cli_reject(s->file, s->lineno, s->line, s->len,
			       "'%s': the provider's embedding has %d dimensions, the patterns have %d",
			       s->vid, d, M->dim);
			s->dropped = 1;
			continue;
		}
		pd_record_set_emb(&s->r, e, d);
		pd_cache_set(cache, s->ekey, e, (size_t)d * sizeof *e, EMB_TTL);
		set_row(i);
	}
	free(E);
	free(texts);
}

static void flush_batch(void)
{
	if (!nslots)
		return;
	embed_pending();
	/* the kernel: one product for the batch, then every row's radius scan */
	double t0 = cpu_s();
	pd_matcher_sims(M, X, nslots, S);
	for (int i = 0; i < nslots; i++)
		nhits[i] = slots[i].from_cache || slots[i].dropped ? 0
			 : pd_match_select(M, S + (size_t)i * (size_t)M->n,
					   X + (size_t)i * (size_t)M->dim,
					   hits + (size_t)i * (size_t)M->n, slots[i].place);
	kernel_s += cpu_s() - t0;
	if (pd_matcher_has_hier(M))
		for (int i = 0; i < nslots; i++)
			if (!slots[i].from_cache && !slots[i].dropped && slots[i].place[0] < 0 &&
			    !unplaced++)
				cli_warn("'%s': a video with a zero embedding is placed in no cluster: no "
					 "pattern applies", slots[i].vid);
	/* what to cache once the answers are out: answers (1 h), places (6 h) */
	const char **ckeys = NULL, **cvals = NULL;
	size_t *clens = NULL;
	int *cttls = NULL, nc = 0;
	pd_buf places = PD_BUF_INIT;
	size_t *place_at = NULL;
	if (pd_cache_up(cache)) {
		ckeys = xmalloc(2 * (size_t)nslots * sizeof *ckeys);
		cvals = xmalloc(2 * (size_t)nslots * sizeof *cvals);
		clens = xmalloc(2 * (size_t)nslots * sizeof *clens);
		cttls = xmalloc(2 * (size_t)nslots * sizeof *cttls);
		place_at = xmalloc(((size_t)nslots + 1) * sizeof *place_at);
		for (int i = 0; i < nslots; i++) {
			slot *s = &slots[i];
			place_at[i] = places.len;
			if (s->pkey && !s->place_cached && !s->dropped && s->place[0] >= 0)
				pd_matcher_place_format(M, s->place, &places);
		}
		place_at[nslots] = places.len;
	}
	for (int i = 0; i < nslots; i++) {
		slot *s = &slots[i];
		size_t from = cli_out.len;
		if (s->dropped) {
			slot_clear(s);
			continue;
		}
		if (s->from_cache) {
			pd_buf_add(&cli_out, s->cached.p, s->cached.len);
		} else {
			pd_match_hit *h = hits + (size_t)i * (size_t)M->n;
			if (nhits[i] > 0) {
				const pd_vfeat *f = s->vf;
				if (!s->vf_done || s->vf_need != M->need) {
					pd_vfeat_extract_some(vf, &s->v, tz_offset, M->need);
					f = vf;
				}
				pd_match_fill_has(M, h, nhits[i], f);
			}
			pd_match_write(M, s->vid, h, nhits[i], group, recommend, s->place, &cli_out);
			if (s->mkey)	/* kept to be cached once the answer is out */
				pd_buf_add(&s->cached, cli_out.p + from, cli_out.len - from);
		}
		count_out(from);
		lines_out++;
		cli_record_done();
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
		pd_cache_mset_ttls(cache, ckeys, cvals, clens, cttls, (size_t)nc);
	for (int i = 0; i < nslots; i++)
		slot_clear(&slots[i]);	/* (again for a dropped one: harmless) */
	free(ckeys);
	free(cvals);
	free(clens);
	free(cttls);
	free(place_at);
	pd_buf_release(&places);
	nslots = 0;
	if (cache)
		cache_warn();
}

/* answer_reject: in coprocess mode every line gets an answer: a rejected one
 * (found here or by the input layer) a match_error (cli.on_reject). */
static void answer_reject(const char *file, long line, const char *msg)
{
	size_t from = cli_out.len;
	pd_buf_adds(&cli_out, "{\"type\":\"match_error\",\"line\":");
	pd_buf_printf(&cli_out, "%ld,\"error\":", line);
	pd_buf_add_json_string(&cli_out, msg, strlen(msg));
	pd_buf_adds(&cli_out, "}\n");
	count_out(from);
	cli_record_done();
}

/*
 * lookup: s->r is a video without an embedding, id `id`: the stored record
 * (match cache, then embedding cache, then database) replaces it, and its
 * place in the hierarchy is taken from the place cache when there.  The
 * gets are one round trip.  Returns 1 ready (or answered from the match
 * cache), 0 not stored.
 */
static int lookup(slot *s, const char *id)
{
	int id_only = cJSON_GetArraySize(s->r.json) == 2;
	int hier = pd_matcher_has_hier(M);
	char ekey[600], mkey[640], pkey[640];
	snprintf(ekey, sizeof ekey, "pd:emb:%lld:%08x:%s", gen, dbtag, id);
	snprintf(mkey, sizeof mkey, "pd:match:%lld:%08x:%016llx:%s", gen, dbtag,
		 (unsigned long long)sig, id);
	snprintf(pkey, sizeof pkey, "pd:place:%lld:%08x:%s:%s", gen, dbtag, runtag, id);
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
			    pd_matcher_place_parse(M, vals[ip].p ? vals[ip].p : "", vals[ip].len,
						   s->place)) {
				s->place_cached = 1;
				place_hits++;
			}
		}
		for (int k = 0; k < 3; k++)
			pd_buf_release(&vals[k]);
		cache_warn();
		if (s->from_cache)
			return 1;
	}
	if (!s->stored.len) {
		pd_err err;
		int f = 0;
		if (db_configured()) {
			f = pd_db_video_record(need_db(), id, &s->stored, &err);
			if (f < 0)
				cli_fatal_err(&err);
		}
		if (f == 0) {
			/* Pinecone: the embedding only; the input's own fields stay */
			int dim = 0;
			f = pd_match_pinecone_fetch(id, &pc_vec, &pc_cap, &dim, &err);
			if (f < 0)
				cli_fatal_err(&err);
			if (f == 0)
				return 0;
			pd_record_set_emb(&s->r, pc_vec, dim);
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
static void embed_text(slot *s)
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
	int dims = pd_tmodel_dims(model);
	float *e = xmalloc((size_t)dims * sizeof *e);
	pd_tmodel_embed(model, &doc, e);
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
static int provider_text(slot *s, const char *file, long lineno, const char *line, size_t len)
{
	pd_buf b = PD_BUF_INIT;
	pd_oai_video_text(&s->v, &b);
	s->text = pd_buf_detach(&b);
	char key[80];
	snprintf(key, sizeof key, "pd:oemb:%016llx:%016llx", (unsigned long long)oai_tag,
		 (unsigned long long)pd_hash64(s->text, strlen(s->text)));
	s->ekey = xstrdup(key);
	pd_buf val = PD_BUF_INIT;
	if (pd_cache_get(cache, key, &val) && val.len && val.len % sizeof(float) == 0 &&
	    (!M->dim || val.len / sizeof(float) == (size_t)M->dim)) {
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
	cache_warn();
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
 * r, o and v filled (v borrows from o) when take()'s checks up to the
 * dimension all pass; 0 when the full path must decide (nothing to release).
 */
static int scan_video(pd_record *r, pd_jobj *o, pd_video *v, const char *line, size_t len)
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
	return pd_video_from_jobj(o, v, &err) == 0;
}

static void take(const char *file, long lineno, const char *line, size_t len, int is_draft)
{
	slot *s = &slots[nslots];
	pd_err err;
	if (!is_draft && scan_video(&s->r, &s->o, &s->v, line, len)) {
		s->have_video = 1;
		s->vid = xstrdup(s->v.id);
		if (M->dim && s->r.dim != M->dim) {
			cli_reject(file, lineno, line, len,
			       "'%s': embedding has %d dimensions, the patterns have %d", s->vid,
			       s->r.dim, M->dim);
			slot_clear(s);
			return;
		}
		set_row(nslots);
		nslots++;
		return;
	}
	if (pd_record_parse(&s->r, line, len, &err) < 0) {
		cli_reject(file, lineno, line, len, "%s", err.msg);
		return;
	}
	if (!is_draft) {
		const char *id = pd_json_str(s->r.json, "id");
		if (!id || !*id) {
			cli_reject(file, lineno, line, len, "video record without a string \"id\"");
			return;
		}
		s->vid = xstrdup(id);
		if (s->r.dim == 0) {
			int found = lookup(s, s->vid);
			if (s->from_cache) {
				nslots++;
				return;
			}
			if (found) {
				if (pd_record_parse(&s->r, s->stored.p, s->stored.len, &err) < 0) {
					cli_reject(file, lineno, line, len, "video '%s': stored record: %s",
					       s->vid, err.msg);
					slot_clear(s);
					return;
				}
			}
			if (s->r.dim == 0) {
				if (!(model || use_oai) || !pd_json_str(s->r.json, "title")) {
					cli_reject(file, lineno, line, len,
					       "video '%s' has no embedding and is not stored%s", s->vid,
					       model || use_oai ? "" :
					       " (no --embed-model or PD_EMBED_URL for its title)");
					slot_clear(s);
					return;
				}
				if (model)
					embed_text(s);
				else
					s->pending = 1;
			}
		}
	} else {
		const char *title = pd_json_str(s->r.json, "title");
		if (!title) {
			cli_reject(file, lineno, line, len, "draft without a string \"title\"");
			return;
		}
		const char *ref = pd_json_str(s->r.json, "ref");
		if (!ref || !*ref)
			ref = pd_json_str(s->r.json, "id");
		if (ref && *ref) {
			s->vid = xstrdup(ref);
		} else {
			/* a deterministic id: the title and what else decides the answer */
			pd_buf k = PD_BUF_INIT;
			pd_buf_adds(&k, title);
			pd_buf_printf(&k, "\n%.17g\n", pd_json_num(s->r.json, "duration_s", NAN));
			const char *pub = pd_json_str(s->r.json, "published_at");
			pd_buf_adds(&k, pub ? pub : "");
			char id[40];
			snprintf(id, sizeof id, "draft:%016llx",
				 (unsigned long long)pd_hash64(k.p, k.len));
			pd_buf_release(&k);
			s->vid = xstrdup(id);
		}
		pd_json_set(s->r.json, "id", cJSON_CreateString(s->vid));
		if (s->r.dim == 0) {
			if (!model && !use_oai) {
				cli_reject(file, lineno, line, len,
				       "draft '%s' has no embedding and no --embed-model or PD_EMBED_URL "
				       "was given", s->vid);
				slot_clear(s);
				return;
			}
			if (model)
				embed_text(s);
			else
				s->pending = 1;
		}
	}
	if (pd_video_from_json(s->r.json, &s->v, &err) < 0) {
		cli_reject(file, lineno, line, len, "%s", err.msg);
		slot_clear(s);
		return;
	}
	s->have_video = 1;
	if (s->pending && provider_text(s, file, lineno, line, len)) {
		nslots++;
		return;
	}
	if (M->dim && s->r.dim != M->dim) {
		cli_reject(file, lineno, line, len,
		       "'%s': embedding has %d dimensions, the patterns have %d", s->vid, s->r.dim,
		       M->dim);
		slot_clear(s);
		return;
	}
	set_row(nslots);
	nslots++;
}

/*
 * load_patterns: the pattern set, at the first video or draft (a stream of
 * other records needs none, and no database).
 */
static const char *patterns_path;

static void load_patterns(void)
{
	pd_err err;
	pd_matcher *m;
	if (patterns_path) {
		m = pd_matcher_new();
		/* --clusters first: then the pattern file's cluster records are not read */
		if ((clusters_path && load_clusters_file(m, &err) < 0) ||
		    pd_matcher_load_file(m, patterns_path, !clusters_path, &err) < 0 ||
		    pd_matcher_finish(m, &err) < 0) {
			cli_error("%s", err.msg);
			cli_flush();
			exit(2);
		}
	} else {
		from_db = 1;
		m = load_db_patterns(&err);
		if (!m)
			cli_fatal_err(&err);
	}
	if (model && m->dim && pd_tmodel_dims(model) != m->dim)
		cli_fatal(2, "the model's embeddings have %d dimensions, the patterns %d",
			  pd_tmodel_dims(model), m->dim);
	set_matcher(m);
	warn_radius(m);
	/* nothing to match against is worth saying once: an empty file, a run
	   whose patterns were all rejected */
	if (!m->n)
		cli_warn("no patterns to match (%s%s): every video gets none",
			 patterns_path ? patterns_path : "the active run of the database",
			 m->skipped ? ", only rejected ones" : "");
}

/* One input line. */
static void process(const char *file, long lineno, const char *line, size_t len)
{
	char type[32];
	pd_err err;
	int t = pd_json_type(line, len, type, sizeof type, &err);
	if (t < 0) {
		cli_reject(file, lineno, line, len, "%s", err.msg);
		return;
	}
	int kind = t == 0 ? 0 : !strcmp(type, "video") ? 1 : !strcmp(type, "draft") ? 2 : 0;
	if (!kind) {
		flush_batch();
		cli_passthrough(line, len);
		return;
	}
	if (!M)
		load_patterns();
	take(file, lineno, line, len, kind == 2);
	if (nslots == batch || cli.unbuffered)
		flush_batch();
}

/*
 * ---- reading ahead: a second thread prepares the next chunk (ahead.h) ----
 *
 * Without --unbuffered, the helper thread of cli_read_ahead reads the next
 * chunk of lines and prepares each plain video record with an embedding as
 * take() would (parse, checks, the unit row, the features the patterns ask
 * for) while the main thread matches and writes the chunk before.  The main
 * thread goes through a chunk in input order: a prepared video joins the
 * batch as it is; every other line (other types, drafts, ids, anything the
 * helper did not decide) goes through process() exactly as when reading one
 * line at a time, so rejections, their messages and the output are the same
 * bytes in the same order.
 */
typedef struct prep {
	/* a video with an embedding that take() accepts, prepared by the helper */
	int ok;
	pd_record r;
	pd_jobj o;
	pd_video v;
	int have_video;		/* r.emb scaled to the unit row (row_scale) */
	pd_vfeat *vf;
	int vf_done;
} prep;

typedef struct mchunk {
	prep *p;
	int cap;
	unsigned need;		/* M->need when handed over; 0: no features ahead */
	int have_need;
} mchunk;

#define CHUNK_BYTES (8u << 20)

/* ahead_prepare: what take() does for a video it can scan, without effects. */
static void ahead_prepare(cli_chunk *c, int i, int who, void *ud)
{
	(void)who;
	(void)ud;
	const mchunk *u = c->user;
	prep *a = &u->p[i];
	if (a->have_video) {
		pd_video_release(&a->v);
		a->have_video = 0;
	}
	a->ok = a->vf_done = 0;
	if (c->l[i].what != PD_LINE_OK ||
	    !scan_video(&a->r, &a->o, &a->v, c->text.p + c->l[i].off, c->l[i].len))
		return;		/* the main thread's take() decides */
	a->have_video = 1;
	/* the unit row, made here: the main thread copies it into X */
	float inv = row_scale(a->r.emb, a->r.dim);
	for (int k = 0; k < a->r.dim; k++)
		a->r.emb[k] *= inv;
	if (u->have_need) {
		pd_vfeat_extract_some(a->vf, &a->v, tz_offset, u->need);
		a->vf_done = 1;
	}
	a->ok = 1;
}

static void ahead_hand(cli_chunk *c, void *ud)
{
	(void)ud;
	if (!c->user)
		c->user = xcalloc(1, sizeof(mchunk));
	mchunk *u = c->user;
	u->have_need = M != NULL;
	u->need = M ? M->need : 0;
}

/* ahead_setup: room to prepare the chunk's lines */
static void ahead_setup(cli_chunk *c, void *ud)
{
	(void)ud;
	mchunk *u = c->user;
	if (c->n > u->cap) {
		int cap = c->cap;
		u->p = xreallocarray(u->p, (size_t)cap, sizeof *u->p);
		memset(u->p + u->cap, 0, (size_t)(cap - u->cap) * sizeof *u->p);
		for (int i = u->cap; i < cap; i++)
			u->p[i].vf = pd_vfeat_new();
		u->cap = cap;
	}
}

/* take_ahead: a prepared video into the batch (as take() would have put it). */
static void take_ahead(const mchunk *u, prep *a)
{
	slot *s = &slots[nslots];
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
	pd_vfeat *f = s->vf;
	s->vf = a->vf;
	a->vf = f;
	s->vf_done = a->vf_done;
	s->vf_need = u->need;
	memcpy(X + (size_t)nslots * (size_t)M->dim, s->r.emb, (size_t)M->dim * sizeof *X);
	nslots++;
}

/* ahead_use: the chunk's lines in order, as the one-line-at-a-time loop would. */
static void ahead_use(cli_chunk *c, void *ud)
{
	(void)ud;
	mchunk *u = c->user;
	for (int i = 0; i < c->n; i++) {
		if (!cli_ahead_take(c, i))
			continue;
		prep *a = &u->p[i];
		const cli_aline *l = &c->l[i];
		if (a->ok && !M)
			load_patterns();
		if (a->ok && (!M->dim || a->r.dim == M->dim)) {
			take_ahead(u, a);
			if (nslots == batch)
				flush_batch();
		} else {
			process(l->file, l->lineno, c->text.p + l->off, l->len);
		}
		if (nslots == 0)
			check_gen();
	}
}

static void ahead_release(cli_chunk *c, void *ud)
{
	(void)ud;
	mchunk *u = c->user;
	if (!u)
		return;
	for (int i = 0; i < u->cap; i++) {
		if (u->p[i].have_video)
			pd_video_release(&u->p[i].v);
		pd_record_release(&u->p[i].r);
		pd_jobj_release(&u->p[i].o);
		pd_vfeat_free(u->p[i].vf);
	}
	free(u->p);
	free(u);
	c->user = NULL;
}

static const cli_ahead_ops match_ahead = {
	ahead_hand, ahead_setup, ahead_prepare, ahead_use, ahead_release, 0
};

int main(int argc, char **argv)
{
	cli_init("pd-match", "match", usage_text);
	static const struct option longopts[] = {
		{ "patterns", required_argument, NULL, OPT_PATTERNS },
		{ "clusters", required_argument, NULL, OPT_CLUSTERS },
		{ "embed-model", required_argument, NULL, OPT_EMBED_MODEL },
		{ "group", no_argument, NULL, OPT_GROUP },
		{ "recommend", no_argument, NULL, OPT_RECOMMEND },
		{ "recommend-provisional", no_argument, NULL, OPT_RECOMMEND_PROV },
		{ "recommend-topics", no_argument, NULL, OPT_RECOMMEND_TOPICS },
		{ "batch", required_argument, NULL, OPT_BATCH },
		{ "tz", required_argument, NULL, OPT_TZ },
		{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
		{ "threads", required_argument, NULL, OPT_THREADS },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *model_path = NULL;
	int use_cache = 1, c;
	int threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PATTERNS: patterns_path = optarg; break;
		case OPT_CLUSTERS: clusters_path = optarg; break;
		case OPT_EMBED_MODEL: model_path = optarg; break;
		case OPT_GROUP: group = 1; break;
		case OPT_RECOMMEND: recommend |= PD_RECOMMEND; break;
		case OPT_RECOMMEND_PROV: recommend |= PD_RECOMMEND | PD_RECOMMEND_PROVISIONAL; break;
		case OPT_RECOMMEND_TOPICS: recommend |= PD_RECOMMEND | PD_RECOMMEND_TOPICS; break;
		case OPT_BATCH: batch = (int)cli_parse_long("--batch", optarg, 1, 1 << 16); break;
		case OPT_TZ:
			if (pd_tz_parse(optarg, &tz_offset) < 0)
				cli_usage_error("invalid --tz '%s' (Z, +HH:MM or -HH:MM)", optarg);
			break;
		case OPT_NO_CACHE: use_cache = 0; break;
		case OPT_THREADS: threads = (int)cli_parse_long("--threads", optarg, 1, 2); break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	cli_after_options();
	if (cli.unbuffered)
		batch = 1;
	pd_err err;
	if (model_path && !(model = pd_tmodel_load(model_path, &err)))
		cli_fatal(2, "%s", err.msg);
	if (!model) {
		/* the provider pd-embed --provider openai uses, when configured */
		const char *u = getenv("PD_EMBED_URL"), *mo = getenv("PD_EMBED_MODEL");
		if (u && *u && mo && *mo) {
			use_oai = 1;
			oai.url = u;
			oai.model = mo;
			oai.key = getenv("PD_EMBED_API_KEY");
			oai.seed = 1;
			pd_buf t = PD_BUF_INIT;
			pd_buf_printf(&t, "%s\n%s", u, mo);
			oai_tag = pd_hash64(t.p, t.len);
			pd_buf_release(&t);
		}
	}
	if (use_cache) {
		const char *url = getenv("DATABASE_URL");
		dbtag = (unsigned)pd_hash64(url ? url : "", url ? strlen(url) : 0);
		cache = pd_cache_open(NULL, 0, 0, &err);
		if (!cache && err.code && !cli.quiet)
			cli_warn("%s; matching goes on without the cache", err.msg);
		gen = pd_cache_gen(cache);
		cache_warn();
		last_gen_check = mono_s();
	}
	slots = xcalloc((size_t)batch, sizeof *slots);
	for (int i = 0; i < batch; i++) {
		slots[i].vf = pd_vfeat_new();
		slot_clear(&slots[i]);	/* nothing placed yet */
	}
	nhits = xcalloc((size_t)batch, sizeof *nhits);
	vf = pd_vfeat_new();

	if (cli.unbuffered)
		cli.on_reject = answer_reject;
	const char *line;
	size_t len;
	pd_input *in = cli_open_input(argc - optind, argv + optind);
	/* coprocess use answers each line at once: nothing to read ahead */
	if (threads > 1 && batch > 1 && !cli.unbuffered) {
		cli_read_ahead(in, batch, CHUNK_BYTES, &match_ahead, NULL);
	} else {
		while (cli_next_line(in, &line, &len)) {
			process(CLI_POS(in), line, len);
			if (nslots == 0)
				check_gen();
		}
	}
	flush_batch();
	pd_input_free(in);
	if (cache) {
		unsigned long long h, mi;
		pd_cache_stats(cache, &h, &mi);
		cli_metric_num("cache_hits", (double)h);
		cli_metric_num("cache_misses", (double)mi);
		cli_metric_num("cache_hit_rate", h + mi ? (double)h / (double)(h + mi) : 0);
	}
	cli_metric_num("videos_answered", (double)lines_out);
	if (use_oai)
		cli_metric_num("provider_embedded", (double)oai_texts);
	if (M) {
		cli_metric_num("patterns", M->n);
		cli_metric_num("patterns_skipped_rejected", (double)M->skipped);
		cli_metric_num("dims", M->dim);
		cli_metric_str("applies_by", pd_matcher_has_hier(M) ? "hierarchy" : "radius");
		if (pd_matcher_has_hier(M)) {
			cli_metric_num("clusters", M->hier.n);
			cli_metric_num("unplaced", (double)unplaced);
		}
		if (cache && pd_matcher_has_hier(M))
			cli_metric_num("place_cache_hits", (double)place_hits);
	}
	cli_metric_num("kernel_cpu_seconds", kernel_s);
	for (int i = 0; i < batch; i++) {
		slot_clear(&slots[i]);
		pd_vfeat_free(slots[i].vf);
		pd_record_release(&slots[i].r);
		pd_jobj_release(&slots[i].o);
		pd_buf_release(&slots[i].stored);
		pd_buf_release(&slots[i].cached);
	}
	free(slots);
	free(X);
	free(S);
	free(hits);
	free(nhits);
	pd_vfeat_free(vf);
	pd_matcher_free(M);
	pd_tmodel_free(model);
	free(pc_vec);
	pd_cache_free(cache);
	if (db)
		PQfinish(db);
	return cli_finish();
}
