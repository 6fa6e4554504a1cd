/*
 * pd-track — pattern effectiveness: pd-match's predictions kept in
 * PostgreSQL, then compared with the performance the videos reached.
 *
 * `record` reads match (and match_group) records, passes every record
 * through, and stores the predictions in one transaction (lib/track.h:
 * binary COPY, then an idempotent insert).  `report`, the default, refreshes
 * the materialized view pattern_effectiveness and appends one `effectiveness` record per pattern
 * and discovery run from the view pattern_effectiveness; it reads input only
 * when FILE operands are given (then their records pass through first, so it
 * can end a pipeline after pd-store), because a report run from cron or a
 * terminal has no stream to wait for.
 *
 * pd-track is its own command rather than a record type of pd-store: a
 * pd-store run is a discovery run (content hash, active-set switch, one
 * transaction per run of videos, clusters and patterns), while predictions
 * belong to an existing run and arrive in many small batches, as pd-match
 * answers; keeping them apart keeps both simple.
 */
#include "cli.h"
#include "../lib/db.h"
#include "../lib/schema.h"
#include "../lib/track.h"
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
	"Usage: pd-track record [OPTION]... [FILE]...\n"
	"  or:  pd-track [report] [OPTION]... [FILE]...\n"
	"Pattern effectiveness.  record: store the predictions of pd-match's match and\n"
	"match_group records in PostgreSQL, each (run, pattern, video) once; every record\n"
	"passes through.  report (the default): refresh the view, then append one\n"
	"effectiveness record per pattern and discovery run: the share of videos whose\n"
	"actual perf fell inside the predicted interval, the median actual / expected\n"
	"perf, whether the videos with the feature beat those without as predicted, and\n"
	"a flag on patterns that stop paying off.  record reads standard input when there\n"
	"is no FILE or FILE is -; report reads input only from FILE operands (their\n"
	"records pass through first).\n"
	"\n"
	"      --run ID          record: the discovery run of predictions that name none\n"
	"                        (default: the active run); report: that run only\n"
	"\n"
	"Record:\n"
	"      --no-passthrough  write only the closing metric record, not the input\n"
	"\n"
	"Report:\n"
	"      --pattern ID      that pattern only\n"
	"      --latest          only each pattern's most recent run\n"
	"      --flagged         only flagged patterns\n"
	"      --min-n N         flag only with at least N videos in a group (default 20)\n"
	"      --min-ratio R     flag when the median actual / expected perf is below R\n"
	"                        (default 0.5)\n"
	"      --no-refresh      do not refresh the materialized view first\n"
	"\n"
	"Common options:\n"
	CLI_COMMON_HELP
	"\n"
	"Environment: DATABASE_URL (else libpq's PG* variables).\n"
	"Exit status: 0 done, 1 some records rejected (the rest stored), 2 usage error,\n"
	"3 database failure (nothing of the batch stored).\n";

enum { OPT_RUN = CLI_OPT_FIRST_OWN, OPT_NO_PASSTHROUGH, OPT_PATTERN, OPT_LATEST, OPT_FLAGGED,
       OPT_MIN_N, OPT_MIN_RATIO, OPT_NO_REFRESH };

/* connect_db: connect and apply pending migrations (predictions needs 2), or exit 3. */
static PGconn *connect_db(void)
{
	pd_err err;
	pd_db_set_program("pd-track");
	PGconn *db = pd_db_connect(NULL, &err);
	if (!db)
		cli_fatal(3, "%s", err.msg);
	int applied = 0;
	if (pd_schema_migrate(db, &applied, &err) < 0)
		cli_fatal(3, "%s", err.msg);
	if (applied)
		cli_metric_num("migrations_applied", applied);
	return db;
}

static void fail(const pd_err *err)
{
	cli_fatal(err->code == PD_EUSAGE ? 2 : 3, "%s", err->msg);
}

/* record: the predictions of the input stored; every record passes through. */
static void record(pd_input *in, long long run_id, int passthrough)
{
	pd_err err;
	pd_tracker *t = NULL;
	PGconn *db = NULL;
	pd_record r = PD_RECORD_INIT;
	long long matches = 0, staged = 0, stored = 0;
	const char *line;
	size_t len;
	char type[32];
	while (cli_next_record(in, &line, &len, type)) {
		int group = !strcmp(type, "match_group");
		if (!group && strcmp(type, "match")) {
			if (passthrough)
				cli_passthrough(line, len);
			continue;
		}
		if (pd_record_parse(&r, line, len, &err) < 0) {
			cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			continue;
		}
		if (!t) {
			db = connect_db();
			if (!(t = pd_tracker_begin(db, run_id, &err)))
				fail(&err);
		}
		const cJSON *list = group ? cJSON_GetObjectItemCaseSensitive(r.json, "matches") : NULL;
		const char *gvid = group ? pd_json_str(r.json, "video_id") : NULL;
		int bad = 0;
		if (group && (!gvid || !*gvid || !cJSON_IsArray(list))) {
			cli_reject(CLI_POS(in), line, len, "match_group without a string \"video_id\""
				   " and a \"matches\" array");
			continue;
		}
		/* every match checked before any is staged: a group is stored whole or not */
		pd_prediction p;
		const cJSON *first = group ? list->child : r.json;
		for (const cJSON *m = first; m && !bad; m = group ? m->next : NULL)
			bad = pd_prediction_from_json(m, gvid, &p, &err) < 0 ||
			      pd_tracker_check(t, &p, &err) < 0;
		if (bad && err.code != PD_EREC)
			fail(&err);
		for (const cJSON *m = first; m && !bad; m = group ? m->next : NULL) {
			pd_prediction_from_json(m, gvid, &p, &err);
			if (pd_tracker_add(t, &p, &err) < 0)
				fail(&err);
			matches++;
		}
		if (bad) {
			cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			continue;
		}
		if (passthrough)
			cli_passthrough(line, len);
	}
	pd_record_release(&r);
	if (t) {
		if (pd_tracker_commit(t, &staged, &stored, &err) < 0)
			fail(&err);
		pd_tracker_free(t);
		PQfinish(db);
	}
	cli_metric_num("predictions", (double)matches);
	cli_metric_num("stored", (double)stored);
	cli_metric_num("already_stored", (double)(staged - stored));
}

static void emit(void *ud, const char *json, size_t len)
{
	(void)ud;
	cli_passthrough(json, len);
}

/* report: the input's records through (only when operands name some), then the rows. */
static void report(int nfiles, char **files, const pd_track_report_opts *o)
{
	if (nfiles > 0) {
		pd_input *in = cli_open_input(nfiles, files);
		const char *line;
		size_t len;
		while (cli_next_line(in, &line, &len))
			cli_passthrough(line, len);
		pd_input_free(in);
	}
	pd_err err;
	PGconn *db = connect_db();
	long long rows = 0, flagged = 0;
	if (pd_track_report(db, o, emit, NULL, &rows, &flagged, &err) < 0)
		fail(&err);
	PQfinish(db);
	cli_metric_num("effectiveness", (double)rows);
	cli_metric_num("flagged", (double)flagged);
}

int main(int argc, char **argv)
{
	cli_init("pd-track", "track", usage_text);
	static const struct option longopts[] = {
		{ "run", required_argument, NULL, OPT_RUN },
		{ "no-passthrough", no_argument, NULL, OPT_NO_PASSTHROUGH },
		{ "pattern", required_argument, NULL, OPT_PATTERN },
		{ "latest", no_argument, NULL, OPT_LATEST },
		{ "flagged", no_argument, NULL, OPT_FLAGGED },
		{ "min-n", required_argument, NULL, OPT_MIN_N },
		{ "min-ratio", required_argument, NULL, OPT_MIN_RATIO },
		{ "no-refresh", no_argument, NULL, OPT_NO_REFRESH },
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	pd_track_report_opts ro = PD_TRACK_REPORT_OPTS_INIT;
	long long run_id = 0;
	int passthrough = 1;
	const char *record_opt = NULL, *report_opt = NULL;	/* one option of each mode given */
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RUN: run_id = cli_parse_long("--run", optarg, 1, 2000000000L); break;
		case OPT_NO_PASSTHROUGH: passthrough = 0; record_opt = "--no-passthrough"; break;
		case OPT_PATTERN:
			if (!*optarg)
				cli_usage_error("--pattern needs a pattern id");
			ro.pattern_id = optarg;
			report_opt = "--pattern";
			break;
		case OPT_LATEST: ro.latest = 1; report_opt = "--latest"; break;
		case OPT_FLAGGED: ro.flagged_only = 1; report_opt = "--flagged"; break;
		case OPT_MIN_N:
			ro.min_n = (int)cli_parse_long("--min-n", optarg, 1, 1000000);
			report_opt = "--min-n";
			break;
		case OPT_MIN_RATIO:
			ro.min_ratio = cli_parse_double("--min-ratio", optarg, 0, 1e6);
			report_opt = "--min-ratio";
			break;
		case OPT_NO_REFRESH: ro.refresh = 0; report_opt = "--no-refresh"; break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	/* the mode: a first operand "record" or "report"; else report */
	int recording = 0;
	if (optind < argc && (!strcmp(argv[optind], "record") || !strcmp(argv[optind], "report")))
		recording = !strcmp(argv[optind++], "record");
	if (recording && report_opt)
		cli_usage_error("%s is an option of report, not record", report_opt);
	if (!recording && record_opt)
		cli_usage_error("%s is an option of record, not report", record_opt);
	cli_after_options();
	ro.run_id = run_id;

	if (recording) {
		pd_input *in = cli_open_input(argc - optind, argv + optind);
		record(in, run_id, passthrough);
		pd_input_free(in);
	} else {
		report(argc - optind, argv + optind, &ro);
	}
	return cli_finish();
}
