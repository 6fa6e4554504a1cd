/*
 * pd-match — which stored patterns apply to a video or a draft title, in
 * real time.
 *
 * This main holds the options and the I/O.  The service is a match session
 * (lib/matchsvc.h: the patterns and hierarchy and keeping to the active
 * run, the batch, lookups by id, drafts embedded, the Redis caches and
 * reconnecting); the matching itself is lib/match.h.  With --unbuffered
 * (coprocess use) each line is answered and flushed at once, a rejected one
 * with a match_error record.  Otherwise a second thread reads ahead
 * (cmd/ahead.h), preparing the next chunk's plain video records
 * (pd_msvc_prepare) while this one is matched; lines are used in input
 * order, so the output is the same bytes as when reading one at a time.
 */
#include "ahead.h"
#include "cli.h"
#include "../lib/matchsvc.h"
#include "../lib/match.h"
#include "../lib/timeutil.h"
#include <stdlib.h>
#include <string.h>
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

/* ---- the session's I/O: answers to cli_out, messages through cli ---- */

/* answered: the out bytes from offset `from` are records; count them (memchr:
 * the answers are ~1.7 KB a video, a byte loop over them cost 6% of a run). */
static void answered(void *ud, size_t from)
{
	(void)ud;
	if (cli_out.p) {	/* nothing written yet: NULL + 0 is undefined */
		const char *p = cli_out.p + from, *e = cli_out.p + cli_out.len;
		while (p < e && (p = memchr(p, '\n', (size_t)(e - p)))) {
			cli.records_out++;
			p++;
		}
	}
	cli_record_done();
}

static void rejected(void *ud, const char *file, long lineno, const char *line, size_t len,
		     const char *msg)
{
	(void)ud;
	cli_reject(file, lineno, line, len, "%s", msg);
}

static void warned(void *ud, const char *msg)
{
	(void)ud;
	cli_warn("%s", msg);
}

/* answer_reject: in coprocess mode every line gets an answer: a rejected one
 * (found here or by the input layer) a match_error (cli.on_reject). */
static void answer_reject(const char *file, long line, const char *msg)
{
	(void)file;
	size_t from = cli_out.len;
	pd_buf_adds(&cli_out, "{\"type\":\"match_error\",\"line\":");
	pd_buf_printf(&cli_out, "%ld,\"error\":", line);
	pd_buf_add_json_string(&cli_out, msg, strlen(msg));
	pd_buf_adds(&cli_out, "}\n");
	answered(NULL, from);
}

static void flush(pd_msvc *ms)
{
	pd_err err;
	if (pd_msvc_flush(ms, &err) < 0)
		cli_fatal_err(&err);
}

/* One input line: a video or a draft to the session, anything else through. */
static void process(pd_msvc *ms, const char *file, long lineno, const char *line, size_t len)
{
	char type[32];
	pd_err err;
	/* a plain video record: the session reads it at once (one pass, not two) */
	if (len > 16 && !memcmp(line, "{\"type\":\"video\",", 16)) {
		int rc = pd_msvc_take_plain(ms, file, lineno, line, len, &err);
		if (rc < 0)
			cli_fatal_err(&err);
		if (rc > 0) {
			if (pd_msvc_full(ms) || cli.unbuffered)
				flush(ms);
			return;
		}
	}
	int t = pd_json_type(line, len, type, sizeof type, &err);
	if (t < 0) {
		cli_reject(file, lineno, line, len, "%s", err.msg);
		return;
	}
	int kind = t == 0 ? 0 : !strcmp(type, "video") ? 1 : !strcmp(type, "draft") ? 2 : 0;
	if (!kind) {
		flush(ms);
		cli_passthrough(line, len);
		return;
	}
	if (pd_msvc_take(ms, file, lineno, line, len, kind == 2, &err) < 0)
		cli_fatal_err(&err);
	if (pd_msvc_full(ms) || cli.unbuffered)
		flush(ms);
}

/* ---- reading ahead: a second thread prepares the next chunk (ahead.h) ---- */

typedef struct mchunk {
	pd_msvc_prep *p;
	int cap;
	unsigned need;		/* what the patterns asked for when handed over */
	int have_need;		/* 0: not loaded then: every member kept */
} mchunk;

#define CHUNK_BYTES (8u << 20)

static void ahead_prepare(cli_chunk *c, int i, int who, void *ud)
{
	(void)who;
	const mchunk *u = c->user;
	int ok = c->l[i].what == PD_LINE_OK;
	pd_msvc_prepare(ud, &u->p[i], ok ? c->text.p + c->l[i].off : NULL, c->l[i].len, u->need,
			u->have_need);
}

static void ahead_hand(cli_chunk *c, void *ud)
{
	if (!c->user)
		c->user = xcalloc(1, sizeof(mchunk));
	mchunk *u = c->user;
	u->need = pd_msvc_need(ud, &u->have_need);
}

/* ahead_setup: room to prepare the chunk's lines */
static void ahead_setup(cli_chunk *c, void *ud)
{
	(void)ud;
	mchunk *u = c->user;
	if (c->n > u->cap) {
		u->p = xreallocarray(u->p, (size_t)c->cap, sizeof *u->p);
		for (int i = u->cap; i < c->cap; i++)
			pd_msvc_prep_init(&u->p[i]);
		u->cap = c->cap;
	}
}

/* ahead_use: the chunk's lines in order, as the one-line-at-a-time loop would. */
static void ahead_use(cli_chunk *c, void *ud)
{
	pd_msvc *ms = ud;
	mchunk *u = c->user;
	pd_err err;
	for (int i = 0; i < c->n; i++) {
		if (!cli_ahead_take(c, i))
			continue;
		const cli_aline *l = &c->l[i];
		int rc = u->p[i].ok ? pd_msvc_take_prepared(ms, &u->p[i], &err) : 0;
		if (rc < 0)
			cli_fatal_err(&err);
		if (rc == 0)
			process(ms, l->file, l->lineno, c->text.p + l->off, l->len);
		else if (pd_msvc_full(ms))
			flush(ms);
	}
}

static void ahead_release(cli_chunk *c, void *ud)
{
	(void)ud;
	mchunk *u = c->user;
	if (!u)
		return;
	for (int i = 0; i < u->cap; i++)
		pd_msvc_prep_release(&u->p[i]);
	free(u->p);
	free(u);
	c->user = NULL;
}

static const cli_ahead_ops match_ahead = {
	ahead_hand, ahead_setup, ahead_prepare, ahead_use, ahead_release, 0
};

/* metrics: the session's figures in the closing metric record */
static void metrics(const pd_msvc *ms)
{
	pd_msvc_stats st;
	pd_msvc_get_stats(ms, &st);
	if (st.reloads)
		cli_metric_num("pattern_reloads", (double)st.reloads);
	if (st.cache) {
		unsigned long long h = st.cache_hits, mi = st.cache_misses;
		cli_metric_num("cache_hits", (double)h);
		cli_metric_num("cache_misses", (double)mi);
		cli_metric_num("cache_hit_rate", h + mi ? (double)h / (double)(h + mi) : 0);
	}
	cli_metric_num("videos_answered", (double)st.answered);
	if (st.provider)
		cli_metric_num("provider_embedded", (double)st.provider_embedded);
	if (st.loaded) {
		cli_metric_num("patterns", st.patterns);
		cli_metric_num("patterns_skipped_rejected", (double)st.skipped);
		cli_metric_num("dims", st.dims);
		cli_metric_str("applies_by", st.hier ? "hierarchy" : "radius");
		if (st.hier) {
			cli_metric_num("clusters", st.clusters);
			cli_metric_num("unplaced", (double)st.unplaced);
		}
		if (st.cache && st.hier)
			cli_metric_num("place_cache_hits", (double)st.place_hits);
	}
	cli_metric_num("kernel_cpu_seconds", st.kernel_s);
}

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
	pd_msvc_opts o = { .batch = 256, .use_cache = 1 };
	int c, threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PATTERNS: o.patterns_path = optarg; break;
		case OPT_CLUSTERS: o.clusters_path = optarg; break;
		case OPT_EMBED_MODEL: o.model_path = optarg; break;
		case OPT_GROUP: o.group = 1; break;
		case OPT_RECOMMEND: o.recommend |= PD_RECOMMEND; break;
		case OPT_RECOMMEND_PROV: o.recommend |= PD_RECOMMEND | PD_RECOMMEND_PROVISIONAL; break;
		case OPT_RECOMMEND_TOPICS: o.recommend |= PD_RECOMMEND | PD_RECOMMEND_TOPICS; break;
		case OPT_BATCH: o.batch = (int)cli_parse_long("--batch", optarg, 1, 1 << 16); break;
		case OPT_TZ:
			if (pd_tz_parse(optarg, &o.tz_offset) < 0)
				cli_usage_error("invalid --tz '%s' (Z, +HH:MM or -HH:MM)", optarg);
			break;
		case OPT_NO_CACHE: o.use_cache = 0; break;
		case OPT_THREADS: threads = (int)cli_parse_long("--threads", optarg, 1, 2); break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	cli_after_options();
	if (cli.unbuffered)
		o.batch = 1;
	o.max_line = cli.max_line;
	pd_msvc_io io = { NULL, &cli_out, answered, rejected, warned };
	pd_err err;
	pd_msvc *ms = pd_msvc_new(&o, &io, &err);
	if (!ms)
		cli_fatal_err(&err);
	if (cli.unbuffered)
		cli.on_reject = answer_reject;
	const char *line;
	size_t len;
	pd_input *in = cli_open_input(argc - optind, argv + optind);
	/* coprocess use answers each line at once: nothing to read ahead */
	if (threads > 1 && o.batch > 1 && !cli.unbuffered) {
		cli_read_ahead(in, o.batch, CHUNK_BYTES, &match_ahead, ms);
	} else {
		while (cli_next_line(in, &line, &len))
			process(ms, CLI_POS(in), line, len);
	}
	flush(ms);
	pd_input_free(in);
	metrics(ms);
	pd_msvc_free(ms);
	return cli_finish();
}
