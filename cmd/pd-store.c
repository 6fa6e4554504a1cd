/*
 * pd-store — write the stream (videos, clusters, patterns, metrics) to
 * PostgreSQL + pgvector as one run, then invalidate the Redis caches.
 *
 * The run protocol (staging COPY, upserts, per-run cluster membership, the
 * active-set switch, pruning, indexes, the cache generation) is lib/store.h;
 * this main parses options, reads records, reports the refused ones, passes
 * every record through to stdout (pd-store can sit mid-pipeline) unless
 * --no-passthrough, feeds Pinecone when configured, and writes the closing
 * metric record.  What was written (records passed through, --rejects)
 * reaches its file before the COMMIT: if it cannot, nothing is stored.
 */
#include "cli.h"
#include "../lib/db.h"
#include "../lib/schema.h"
#include "../lib/store.h"
#include "../lib/pinecone.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
	"      --video-index     build the HNSW index of video embeddings after the commit\n"
	CLI_COMMON_HELP
	"\n"
	"Environment: DATABASE_URL (else libpq's PG* variables), REDIS_URL (optional),\n"
	"PINECONE_API_KEY and PINECONE_INDEX_HOST (optional).\n"
	"Exit status: 0 stored, 1 some records rejected (the rest stored), 2 usage error,\n"
	"3 database or output failure (nothing of the run stored), 4 the run was stored\n"
	"but writing the output failed afterwards.\n";

enum { OPT_MIGRATE = CLI_OPT_FIRST_OWN, OPT_KEEP_RUNS, OPT_NO_PASSTHROUGH, OPT_NO_REFRESH,
       OPT_NO_PINECONE, OPT_VIDEO_INDEX };

/* connect: a connection with pending migrations applied, or exit 3. */
static PGconn *connect_db(void)
{
	pd_err err;
	pd_db_set_program("pd-store");
	PGconn *db = pd_db_connect(NULL, &err);
	if (!db)
		cli_fatal_err(&err);
	int applied = 0;
	if (pd_schema_migrate(db, &applied, &err) < 0)
		cli_fatal(3, "%s", err.msg);
	cli_metric_num("migrations_applied", applied);
	return db;
}

static double ms3(double s)
{
	return round(s * 1000) / 1000;
}

/* The closing metric's figures of a stored run. */
static void report(const pd_store_result *res, int refresh)
{
	cli_metric_num("run_id", (double)res->run_id);
	cli_metric_str("run", res->run);
	cli_metric_num("videos_changed", (double)res->videos_changed);
	if (res->videos_written != res->videos_changed)
		cli_metric_num("videos_written", (double)res->videos_written);
	cli_metric_num("memberships", (double)res->memberships);
	cli_metric_num("runs_pruned", (double)res->runs_pruned);
	cli_metric_num("embedding_dim", res->embedding_dim);
	cli_metric_num("load_seconds", ms3(res->load_seconds));
	cli_metric_num("write_seconds", ms3(res->write_seconds));
	if (res->hnsw_built) {
		cli_metric_num("hnsw_indexes_built", res->hnsw_built);
		cli_metric_num("hnsw_seconds", ms3(res->hnsw_seconds));

	}
	if (refresh && res->refresh_seconds >= 0)
		cli_metric_num("refresh_seconds", ms3(res->refresh_seconds));
	cli_metric_num("commit_seconds", ms3(res->commit_seconds));
	if (res->centroid_index_dropped) {
		cli_metric_str("centroid_index", "rebuilt");
		cli_metric_num("centroid_index_seconds", ms3(res->centroid_index_seconds));
	}
	if (res->video_index) {
		cli_metric_num("video_index_seconds", ms3(res->video_index_seconds));
		if (res->video_index_dropped)
			cli_metric_str("video_index", "rebuilt");
		else
			cli_metric_str("video_index", "built");
	}
	if (res->cache_generation >= 0)
		cli_metric_num("cache_generation", (double)res->cache_generation);
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
		{ "video-index", no_argument, NULL, OPT_VIDEO_INDEX },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int migrate_only = 0, passthrough = 1, use_pinecone = 1;
	pd_store_opts so = { .refresh = 1, .program = "pd-store " PD_VERSION };
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_MIGRATE: migrate_only = 1; break;
		case OPT_KEEP_RUNS: so.keep_runs = cli_parse_long("--keep-runs", optarg, 1, 1000000); break;
		case OPT_NO_PASSTHROUGH: passthrough = 0; break;
		case OPT_NO_REFRESH: so.refresh = 0; break;
		case OPT_NO_PINECONE: use_pinecone = 0; break;
		case OPT_VIDEO_INDEX: so.video_index = 1; break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	cli_after_options();
	if (migrate_only && optind < argc)
		cli_usage_error("--migrate takes no input files");

	pd_err err;
	PGconn *db = NULL;
	if (migrate_only) {
		db = connect_db();
		cli_metric_num("schema_version", pd_schema_latest());
		PQfinish(db);
		return cli_finish();
	}

	pd_pinecone *pc = NULL;
	if (use_pinecone && pd_pinecone_open(&pc, &err) < 0)
		cli_fatal(2, "%s", err.msg);

	/* The run starts at the first record to store (a stream with none needs
	 * no database: it passes through). */
	pd_store *st = NULL;
	pd_record r = PD_RECORD_INIT;
	pd_input *in = cli_open_input(argc - optind, argv + optind);
	const char *line;
	size_t len;
	char type[32];
	unsigned long long nvideos = 0;
	while (cli_next_record(in, &line, &len, type)) {
		int kind = pd_store_kind(type);
		if (!kind) {
			if (passthrough)
				cli_passthrough(line, len);
			continue;
		}
		if (!st) {
			db = connect_db();
			if (pd_store_begin(&st, db, &so, &err) < 0)
				cli_fatal(3, "%s", err.msg);
		}
		if (pd_record_parse(&r, line, len, &err) < 0) {
			cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			continue;
		}
		if (pd_store_add(st, kind, &r, &err) < 0) {
			if (err.code != PD_EREC)
				cli_fatal(3, "%s", err.msg);
			cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			continue;
		}
		if (kind == PD_STORE_VIDEO) {
			if (pc && r.dim > 0 && pd_pinecone_add(pc, pd_json_str(r.json, "id"), r.emb, r.dim,
							       &err) < 0)
				cli_fatal(3, "%s", err.msg);
			cli_progress("videos", ++nvideos, 0);
		}
		if (passthrough)
			cli_passthrough(line, len);
	}
	pd_input_free(in);
	pd_record_release(&r);
	if (!st) {
		cli_metric_str("result", "nothing to store");
		pd_pinecone_free(pc);
		return cli_finish();
	}
	if (pc && pd_pinecone_flush(pc, &err) < 0)
		cli_fatal(3, "%s", err.msg);

	pd_store_result res;
	if (pd_store_finish(st, cli_seconds(), (long long)cli.records_in, (long long)cli.records_out,
			    (long long)cli.rejected, &res, &err) < 0)
		cli_fatal(3, "%s", err.msg);
	cli_metric_num("videos", (double)res.videos);
	cli_metric_num("clusters", (double)res.clusters);
	cli_metric_num("patterns", (double)res.patterns);
	cli_metric_num("metrics", (double)res.metrics);
	if (!res.stored) {
		pd_store_free(st);
		PQfinish(db);
		pd_pinecone_free(pc);
		cli_metric_str("result", "nothing to store");
		return cli_finish();
	}
	/* What was written so far (records passed through, --rejects) reaches its
	 * file before the commit: if it cannot, nothing is stored (exit 3) */
	cli_flush();
	if (cli.rejects && (fflush(cli.rejects) != 0 || ferror(cli.rejects)))
		cli_fatal(3, "cannot write '%s': %s", cli.rejects_path, strerror(errno));
	if (pd_store_commit(st, &res, &err) < 0)
		cli_fatal(3, "%s", err.msg);
	cli.write_status = 4;	/* stored: a write failing from here on says so */
	pd_store_free(st);
	PQfinish(db);
	if (res.warning[0])
		cli_warn("%s", res.warning);
	report(&res, so.refresh);
	if (pc) {
		cli_metric_num("pinecone_upserted", (double)pd_pinecone_count(pc));
		pd_pinecone_free(pc);
	}
	return cli_finish();
}
