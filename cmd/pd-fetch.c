/*
 * pd-fetch — read videos from CSV, NDJSON, PostgreSQL or the YouTube Data API
 * and write video records with their age-adjusted performance (lib/perf.h).
 *
 * Performance is relative to each channel, so every video is read into a
 * set (lib/vidset.h: kept as the head of its record's text, in input order,
 * duplicates refused) before any is written; the records are then written
 * in input order, each finished with age_days, perf and perf_basis.
 * Records of other types in NDJSON input pass through in place.  This file
 * is the sources' options and messages.
 */
#include "cli.h"
#include "../lib/csvin.h"
#include "../lib/db.h"
#include "../lib/youtube.h"
#include "../lib/perf.h"
#include "../lib/vidset.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
	"Usage: pd-fetch [OPTION]... [FILE]...\n"
	"Read videos and write video records (NDJSON) with age-adjusted performance.\n"
	"FILEs are CSV (YouTube exports; gzip read directly) or NDJSON; with no FILE,\n"
	"or when FILE is -, read standard input.\n"
	"\n"
	"Sources:\n"
	"      --format FMT      input format: auto (default), csv or ndjson\n"
	"      --map FIELD=COL   take FIELD from CSV column COL (repeatable)\n"
	"      --pg              read the videos table of DATABASE_URL\n"
	"      --since TIME      with --pg: only videos updated after TIME (RFC 3339)\n"
	"      --youtube-channel ID  read a channel's uploads from the YouTube Data API\n"
	"                        (repeatable; key from YOUTUBE_API_KEY)\n"
	"      --max-videos N    with --youtube-channel: at most N videos per channel\n"
	"\n"
	"Performance:\n"
	"      --perf-mode MODE  age (default): views against the channel's baseline at\n"
	"                        the same age; mean: views / channel mean; median: views /\n"
	"                        channel median of videos 30+ days old; keep: input perf\n"
	"      --min-channel-videos N  videos a channel needs for a baseline (default 5)\n"
	"      --now TIME        the time age is measured to when observed_at is missing\n"
	"                        (default: now)\n"
	"\n"
	CLI_RECORDS_HELP_END("a service or I/O failure");

enum { OPT_FORMAT = CLI_OPT_FIRST_OWN, OPT_MAP, OPT_PG, OPT_SINCE, OPT_YT, OPT_MAXV,
       OPT_PERF_MODE, OPT_MIN_CH, OPT_NOW };

static const struct option longopts[] = {
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "map", required_argument, NULL, OPT_MAP },
	{ "pg", no_argument, NULL, OPT_PG },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "youtube-channel", required_argument, NULL, OPT_YT },
	{ "max-videos", required_argument, NULL, OPT_MAXV },
	{ "perf-mode", required_argument, NULL, OPT_PERF_MODE },
	{ "min-channel-videos", required_argument, NULL, OPT_MIN_CH },
	{ "now", required_argument, NULL, OPT_NOW },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* what the readers share */
typedef struct fetch {
	pd_vidset *set;
	const char *perf_fields;	/* the CSV fields --perf-mode needs ("a|b": either) */
	pd_record rec;			/* reused by the database's rows */
	long rows;
} fetch;

static int looks_like_csv_name(const char *name)
{
	size_t n = strlen(name);
	return (n > 4 && !strcmp(name + n - 4, ".csv")) || (n > 7 && !strcmp(name + n - 7, ".csv.gz"));
}

/* take_record: an NDJSON video, parsed into r, into the set */
static void take_record(fetch *f, const pd_record *r, const char *file, long line, const char *raw,
			size_t len)
{
	pd_err err;
	if (pd_vidset_add_record(f->set, r, &err) < 0)
		cli_reject(file, line, raw, len, "%s", err.msg);
}

/* csv_results: r, the first result of a pd_csv call on file name, and all
 * that follow it (pd_csv_next) */
static void csv_results(fetch *f, pd_csv *csv, int r, const char *name, pd_buf *json,
			pd_csv_row *row, pd_err *err)
{
	for (; r != 0; r = pd_csv_next(csv, json, row, err)) {
		size_t rl;
		const char *raw;
		if (r == 1) {
			double age = pd_vidset_age(f->set, row->published_at, row->observed_at);
			if (pd_vidset_add(f->set, json->p, json->len, row->id, row->channel, row->views,
					  age, row->perf_in) < 0) {
				raw = pd_csv_raw(csv, &rl);
				cli_reject(name, pd_csv_row_line(csv), raw, rl,
					   "duplicate video id '%s'", row->id);
			}
		} else if (r == 2) {
			/* the header: perf needs these, else it is null for every video */
			if (pd_csv_check_header(csv, f->perf_fields, err) < 0)
				cli_warn("%s:%ld: every perf will be null: %s", name,
					 pd_csv_row_line(csv), err->msg);
		} else if (r < 0) {
			if (err->code == PD_EUSAGE)
				cli_fatal(2, "%s:%ld: %s", name, pd_csv_row_line(csv), err->msg);
			raw = pd_csv_raw(csv, &rl);
			cli_reject(name, pd_csv_row_line(csv), raw, rl, "%s", err->msg);
		}
	}
}

static void read_inputs(fetch *f, int argc, char **argv, int format, pd_csv *csv)
{
	pd_input *in = cli_open_input(argc, argv);
	const char *line;
	size_t len;
	const char *cur = NULL;
	int is_csv = 0;
	pd_buf json = PD_BUF_INIT;
	pd_record rec = PD_RECORD_INIT;
	while (cli_next_line(in, &line, &len)) {
		const char *name = pd_input_name(in);
		long lineno = pd_input_lineno(in);
		if (name != cur || lineno == 1) {
			/* a new file: decide its format */
			if (cur && is_csv) {
				pd_err err;
				pd_csv_row row;
				csv_results(f, csv, pd_csv_finish(csv, &json, &row, &err), cur, &json,
					    &row, &err);
			}
			cur = name;
			pd_csv_reset(csv);
			if (format == 'c')
				is_csv = 1;
			else if (format == 'j')
				is_csv = 0;
			else
				is_csv = looks_like_csv_name(name) ||
					 (len > 0 && line[strspn(line, " \t")] != '{');
		}
		if (is_csv) {
			pd_err err;
			pd_csv_row row;
			csv_results(f, csv, pd_csv_feed(csv, line, len, lineno, &json, &row, &err), name,
				    &json, &row, &err);
			continue;
		}
		if (len == 0 || line[strspn(line, " \t")] == '\0')
			continue;
		char type[32];
		pd_err err;
		int t = pd_json_type(line, len, type, sizeof type, &err);
		if (t == 1 && strcmp(type, "video") != 0) {
			pd_vidset_add_other(f->set, line, len);
			continue;
		}
		if (pd_record_parse(&rec, line, len, &err) < 0) {
			cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			continue;
		}
		if (!cli_stream_dim(rec.dim)) {
			cli_reject(CLI_POS(in), line, len, "embedding has %d dimensions, the stream %d",
				   rec.dim, cli.dim);
			continue;
		}
		take_record(f, &rec, name, lineno, line, len);
	}
	if (cur && is_csv) {
		pd_err err;
		pd_csv_row row;
		csv_results(f, csv, pd_csv_finish(csv, &json, &row, &err), cur, &json, &row, &err);
	}
	pd_record_release(&rec);
	pd_buf_release(&json);
	pd_input_free(in);
}

/* pg_row: one video of the database, an NDJSON line */
static int pg_row(void *ud, const char *json, size_t len)
{
	fetch *f = ud;
	pd_err err;
	cli.records_in++;
	long n = ++f->rows;
	if (pd_record_parse(&f->rec, json, len, &err) < 0)
		cli_reject("DATABASE_URL", n, json, len, "%s", err.msg);
	else
		take_record(f, &f->rec, "DATABASE_URL", n, json, len);
	if (cli.progress && (n & 4095) == 0)
		cli_progress("videos read", (unsigned long long)n, 0);
	return 0;
}

static void read_pg(fetch *f, const char *since)
{
	pd_err err;
	pd_db_set_program("pd-fetch");
	PGconn *c = pd_db_connect(NULL, &err);
	if (!c)
		cli_fatal(3, "%s", err.msg);
	if (pd_db_read_videos(c, since, pg_row, f, &err) < 0) {
		/* what was read is still written; the status says it is incomplete */
		cli_error("%s", err.msg);
		cli.status = 3;
	}
	PQfinish(c);
	cli_metric_num("db_rows", (double)f->rows);
}

/* a YouTube video: its record's head through the writer, as a CSV row's */
static void yt_video(void *ud, const pd_video *v)
{
	cli.records_in++;
	if (pd_vidset_add_video(((fetch *)ud)->set, v, NAN) < 0)
		cli_reject(v->id, 0, NULL, 0, "duplicate video id '%s'", v->id);
}

static void yt_warn(void *ud, const char *channel, const char *msg)
{
	cli_warn("youtube channel '%s': %s", channel, msg);
}

static void yt_retry(void *ud, int attempt, long status, double wait_s, const char *why)
{
	cli_warn("youtube: %s; retry %d in %.1f s", why, attempt, wait_s);
}

static void read_youtube(fetch *f, double now, const char **channels_in, int n, int max_videos)
{
	pd_http_opts h;
	pd_http_opts_default(&h);
	h.on_retry = yt_retry;
	char observed[40];
	pd_time_format(now, observed, sizeof observed);
	pd_youtube_opts o;
	memset(&o, 0, sizeof o);
	o.max_videos = max_videos;
	o.observed_at = observed;
	o.on_record = yt_video;
	o.ud = f;
	o.on_warn = yt_warn;
	o.http = &h;
	pd_youtube_stats st;
	pd_err err;
	if (pd_youtube_fetch_channels(channels_in, n, &o, &st, &err) < 0) {
		if (err.code == PD_EUSAGE)
			cli_fatal(2, "%s", err.msg);
		cli_error("%s", err.msg);
		cli.status = 3;
	}
	cli_metric_num("quota_units", (double)st.quota_units);
	cli_metric_num("http_attempts", (double)st.http_attempts);
	cli_metric_num("channels_ok", (double)st.channels_ok);
	cli_metric_num("channels_failed", (double)st.channels_failed);
	cli_metric_num("missing_videos", (double)st.missing);
}

int main(int argc, char **argv)
{
	cli_init("pd-fetch", "fetch", usage);
	int format = 'a', mode = PD_PERF_AGE, min_videos = 5, use_pg = 0;
	const char *since = NULL;
	const char **yt = NULL;
	int nyt = 0;
	long max_videos = 0;
	pd_csv *csv = pd_csv_new();
	double now = (double)time(NULL);
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		pd_err err;
		switch (c) {
		case OPT_FORMAT:
			if (!strcmp(optarg, "auto")) format = 'a';
			else if (!strcmp(optarg, "csv")) format = 'c';
			else if (!strcmp(optarg, "ndjson")) format = 'j';
			else cli_usage_error("--format takes auto, csv or ndjson, not '%s'", optarg);
			break;
		case OPT_MAP:
			if (pd_csv_map(csv, optarg, &err) < 0)
				cli_usage_error("%s", err.msg);
			break;
		case OPT_PG: use_pg = 1; break;
		case OPT_SINCE: {
			double t;
			if (pd_time_parse(optarg, &t) < 0)
				cli_usage_error("--since takes an RFC 3339 time, not '%s'", optarg);
			since = optarg;
			break;
		}
		case OPT_YT:
			yt = xreallocarray(yt, (size_t)nyt + 1, sizeof *yt);
			yt[nyt++] = optarg;
			break;
		case OPT_MAXV: max_videos = cli_parse_long("--max-videos", optarg, 1, 1000000000); break;
		case OPT_PERF_MODE:
			mode = pd_perf_mode_parse(optarg);
			if (mode < 0)
				cli_usage_error("--perf-mode takes age, mean, median or keep, not '%s'", optarg);
			break;
		case OPT_MIN_CH:
			min_videos = (int)cli_parse_long("--min-channel-videos", optarg, 2, 1000000);
			break;
		case OPT_NOW:
			if (pd_time_parse(optarg, &now) < 0)
				cli_usage_error("--now takes an RFC 3339 time, not '%s'", optarg);
			break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	fetch f = { NULL, "", PD_RECORD_INIT, 0 };
	f.perf_fields = mode == PD_PERF_KEEP ? "perf" :
		      mode == PD_PERF_MEAN ? "views,channel_id|channel_title" :
		      "views,channel_id|channel_title,published_at";
	if (since && !use_pg)
		cli_usage_error("--since goes with --pg");
	if (max_videos && !nyt)
		cli_usage_error("--max-videos goes with --youtube-channel");
	cli_after_options();
	f.set = pd_vidset_new(now);

	if (!use_pg && !nyt) {
		read_inputs(&f, argc - optind, argv + optind, format, csv);
	} else {
		if (optind < argc)
			cli_usage_error("FILE operands do not go with --pg or --youtube-channel");
		if (use_pg && nyt)
			cli_usage_error("--pg and --youtube-channel are separate sources: run pd-fetch twice");
		if (use_pg)
			read_pg(&f, since);
		else
			read_youtube(&f, now, yt, nyt, (int)max_videos);
	}
	free(yt);
	pd_csv_free(csv);

	pd_age_curve curve;
	pd_vidset_perf(f.set, mode, min_videos, &curve);
	for (size_t i = 0; i < pd_vidset_count(f.set); i++) {
		const char *line;
		size_t len;
		if (!pd_vidset_get(f.set, i, &cli_out, &line, &len)) {
			cli_passthrough(line, len);
			continue;
		}
		cli.records_out++;
		cli_record_done();
	}
	pd_vidset_stats st;
	pd_vidset_get_stats(f.set, &st);
	cli_metric_num("videos", (double)st.videos);
	cli_metric_num("channels", (double)st.channels);
	cli_metric_num("with_perf", (double)st.with_perf);
	cli_metric_num("duplicates", (double)st.duplicates);
	cli_metric_str("perf_mode", mode == PD_PERF_AGE ? "age" : mode == PD_PERF_MEAN ? "mean" :
				    mode == PD_PERF_MEDIAN ? "median" : "keep");
	if (mode == PD_PERF_AGE && curve.k > 0) {
		/* the fitted age curve: views multiple at each knot's age */
		cJSON *arr = cJSON_CreateArray();
		for (int j = 0; j < curve.k; j++) {
			cJSON *p = cJSON_CreateObject();
			cJSON_AddNumberToObject(p, "age_days", round(exp(curve.x[j]) * 1000) / 1000);
			cJSON_AddNumberToObject(p, "multiple", round(exp(curve.g[j]) * 1000) / 1000);
			cJSON_AddItemToArray(arr, p);
		}
		pd_json_set(cli.metric, "age_curve", arr);
	}
	pd_vidset_free(f.set);
	pd_record_release(&f.rec);
	return cli_finish();
}
