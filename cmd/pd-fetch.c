/*
 * pd-fetch — read videos from CSV, NDJSON, PostgreSQL or the YouTube Data API
 * and write video records with their age-adjusted performance (lib/perf.h).
 *
 * Performance is relative to each channel, so every video is read before any
 * is written: records are kept as the head of their text (lib/video.h,
 * pd_video_write_head: every member but the derived ones, no closing brace)
 * plus the few numbers the model needs, then written in input order, the
 * record finished by pd_video_write_tail with age_days, perf, perf_basis.  Records of other types in NDJSON
 * input pass through in place.
 */
#include "cli.h"
#include "../lib/csvin.h"
#include "../lib/db.h"
#include "../lib/youtube.h"
#include "../lib/perf.h"
#include "../lib/strmap.h"
#include "../lib/video.h"
#include "../lib/vec.h"
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
	"Common options:\n"
	CLI_COMMON_HELP
	"\n"
	"Exit status: 0 all records read, 1 some rejected, 2 usage error,\n"
	"3 a service or I/O failure.\n";

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

/* One output item: a video to complete, or a record passed through. */
typedef struct item {
	char *text;		/* record text; for videos without the closing brace */
	size_t len;
	int is_video;
	int channel;		/* -1 none */
	double views, age_days, perf_in;
} item;

static item *items;
static size_t nitems, citems;
static pd_strmap *channels, *ids;
static double now_t;
static unsigned long long dup_count;

static item *new_item(void)
{
	if (nitems == citems) {
		citems = citems ? citems * 2 : 4096;
		items = xreallocarray(items, citems, sizeof *items);
	}
	item *it = &items[nitems++];
	memset(it, 0, sizeof *it);
	it->channel = -1;
	it->views = it->age_days = it->perf_in = NAN;
	return it;
}

static double age_of(double pub, double obs)
{
	if (isnan(pub))
		return NAN;
	double end = isnan(obs) ? now_t : obs;
	double a = (end - pub) / 86400.0;
	return a < 0 ? 0 : a;
}

/* add_video: keep a video's text and numbers; -1 if its id was seen before */
static int add_video(const char *text, size_t len, const char *id, const char *channel,
		     double views, double age, double perf_in)
{
	int added;
	pd_strmap_intern(ids, id, strlen(id), &added);
	if (!added) {
		dup_count++;
		return -1;
	}
	item *it = new_item();
	it->text = xmemdup(text, len);
	it->len = len;
	it->is_video = 1;
	if (channel && *channel)
		it->channel = pd_strmap_intern(channels, channel, strlen(channel), NULL);
	it->views = views;
	it->age_days = age;
	it->perf_in = perf_in;
	return 0;
}

static int looks_like_csv_name(const char *name)
{
	size_t n = strlen(name);
	return (n > 4 && !strcmp(name + n - 4, ".csv")) || (n > 7 && !strcmp(name + n - 7, ".csv.gz"));
}

/* NDJSON video: check it, drop stale derived fields, keep the record's head
 * (lib/video.h) as text: the members it has, in the canonical order */
static void take_ndjson_video(pd_record *r, const char *file, long line, const char *raw, size_t len)
{
	pd_video v;
	pd_err err;
	if (pd_video_from_json(r->json, &v, &err) < 0) {
		cli_reject(file, line, raw, len, "%s", err.msg);
		return;
	}
	double age = !isnan(v.published_at) ? age_of(v.published_at, v.observed_at) : v.age_days;
	const char *channel = v.channel_id ? v.channel_id : v.channel_title;
	pd_buf extra = PD_BUF_INIT, rest = PD_BUF_INIT, b = PD_BUF_INIT;
	pd_video_rest_from_json(r->json, &v, &extra, &rest);
	if (r->dim > 0) {	/* taken out of the tree by pd_record_parse */
		if (rest.len)
			pd_buf_addc(&rest, ',');
		if (r->emb_form == PD_EMB_JSON) {
			pd_buf_adds(&rest, "\"embedding\":");
			pd_vec_add_json(&rest, r->emb, r->dim);
		} else {
			pd_buf_adds(&rest, "\"embedding_b64\":\"");
			pd_vec_add_b64(&rest, r->emb, r->dim);
			pd_buf_addc(&rest, '"');
		}
	}
	v.extra = extra.len ? extra.p : NULL;
	v.extra_len = extra.len;
	v.rest = rest.p;
	v.rest_len = rest.len;
	v.fields &= ~(unsigned)PD_VF_DERIVED;	/* stale: computed again */
	pd_video_write_head(&b, &v);
	if (add_video(b.p, b.len, v.id, channel, v.views, age, v.perf) < 0)
		cli_reject(file, line, raw, len, "duplicate video id '%s'", v.id);
	pd_video_release(&v);
	pd_buf_release(&b);
	pd_buf_release(&extra);
	pd_buf_release(&rest);
}

/* the CSV fields --perf-mode needs ("a|b": either); see main */
static const char *perf_fields = "";

/* csv_results: r, the first result of a pd_csv call on file name, and all
 * that follow it (pd_csv_next) */
static void csv_results(pd_csv *csv, int r, const char *name, pd_buf *json, pd_csv_row *row,
			pd_err *err)
{
	for (; r != 0; r = pd_csv_next(csv, json, row, err)) {
		size_t rl;
		const char *raw;
		if (r == 1) {
			double age = age_of(row->published_at, row->observed_at);
			if (add_video(json->p, json->len, row->id, row->channel, row->views, age,
				      row->perf_in) < 0) {
				raw = pd_csv_raw(csv, &rl);
				cli_reject(name, pd_csv_row_line(csv), raw, rl,
					   "duplicate video id '%s'", row->id);
			}
		} else if (r == 2) {
			/* the header: perf needs these, else it is null for every video */
			if (pd_csv_check_header(csv, perf_fields, err) < 0)
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

static void read_inputs(int argc, char **argv, int format, pd_csv *csv)
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
				csv_results(csv, pd_csv_finish(csv, &json, &row, &err), cur, &json,
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
			csv_results(csv, pd_csv_feed(csv, line, len, lineno, &json, &row, &err), name,
				    &json, &row, &err);
			continue;
		}
		if (len == 0 || line[strspn(line, " \t")] == '\0')
			continue;
		char type[32];
		pd_err err;
		int t = pd_json_type(line, len, type, sizeof type, &err);
		if (t == 1 && strcmp(type, "video") != 0) {
			item *it = new_item();
			it->text = xmemdup(line, len);
			it->len = len;
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
		take_ndjson_video(&rec, name, lineno, line, len);
	}
	if (cur && is_csv) {
		pd_err err;
		pd_csv_row row;
		csv_results(csv, pd_csv_finish(csv, &json, &row, &err), cur, &json, &row, &err);
	}
	pd_record_release(&rec);
	pd_buf_release(&json);
	pd_input_free(in);
}

/* take_line: one NDJSON video line from a service (PostgreSQL rows) */
static pd_record svc_rec = PD_RECORD_INIT;
static void take_line(const char *where, long n, const char *line, size_t len)
{
	pd_err err;
	if (pd_record_parse(&svc_rec, line, len, &err) < 0) {
		cli_reject(where, n, line, len, "%s", err.msg);
		return;
	}
	take_ndjson_video(&svc_rec, where, n, line, len);
}

static int pg_row(void *ud, const char *json, size_t len)
{
	long *n = ud;
	cli.records_in++;
	take_line("DATABASE_URL", ++*n, json, len);
	if (cli.progress && (*n & 4095) == 0)
		cli_progress("videos read", (unsigned long long)*n, 0);
	return 0;
}

static void read_pg(const char *since)
{
	pd_err err;
	pd_db_set_program("pd-fetch");
	PGconn *c = pd_db_connect(NULL, &err);
	if (!c)
		cli_fatal(3, "%s", err.msg);
	long n = 0;
	if (pd_db_read_videos(c, since, pg_row, &n, &err) < 0) {
		/* what was read is still written; the status says it is incomplete */
		cli_error("%s", err.msg);
		cli.status = 3;
	}
	PQfinish(c);
	cli_metric_num("db_rows", (double)n);
}

/* a YouTube video: its record's head through the writer, as a CSV row's */
static void yt_video(void *ud, const pd_video *v)
{
	cli.records_in++;
	pd_buf b = PD_BUF_INIT;
	pd_video_write_head(&b, v);
	double age = age_of(v->published_at, v->observed_at);
	if (add_video(b.p, b.len, v->id, v->channel_id ? v->channel_id : v->channel_title,
		      v->views, age, NAN) < 0)
		cli_reject(v->id, 0, NULL, 0, "duplicate video id '%s'", v->id);
	pd_buf_release(&b);
}

static void yt_warn(void *ud, const char *channel, const char *msg)
{
	cli_warn("youtube channel '%s': %s", channel, msg);
}

static void yt_retry(void *ud, int attempt, long status, double wait_s, const char *why)
{
	cli_warn("youtube: %s; retry %d in %.1f s", why, attempt, wait_s);
}

static void read_youtube(const char **channels_in, int n, int max_videos)
{
	pd_http_opts h;
	pd_http_opts_default(&h);
	h.on_retry = yt_retry;
	char observed[40];
	pd_time_format(now_t, observed, sizeof observed);
	pd_youtube_opts o;
	memset(&o, 0, sizeof o);
	o.max_videos = max_videos;
	o.observed_at = observed;
	o.on_record = yt_video;
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
	now_t = (double)time(NULL);
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
			if (pd_time_parse(optarg, &now_t) < 0)
				cli_usage_error("--now takes an RFC 3339 time, not '%s'", optarg);
			break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	perf_fields = mode == PD_PERF_KEEP ? "perf" :
		      mode == PD_PERF_MEAN ? "views,channel_id|channel_title" :
		      "views,channel_id|channel_title,published_at";
	if (since && !use_pg)
		cli_usage_error("--since goes with --pg");
	if (max_videos && !nyt)
		cli_usage_error("--max-videos goes with --youtube-channel");
	cli_after_options();
	channels = pd_strmap_new();
	ids = pd_strmap_new();

	if (!use_pg && !nyt) {
		read_inputs(argc - optind, argv + optind, format, csv);
	} else {
		if (optind < argc)
			cli_usage_error("FILE operands do not go with --pg or --youtube-channel");
		if (use_pg && nyt)
			cli_usage_error("--pg and --youtube-channel are separate sources: run pd-fetch twice");
		if (use_pg)
			read_pg(since);
		else
			read_youtube(yt, nyt, (int)max_videos);
	}
	free(yt);
	pd_csv_free(csv);

	/* performance */
	size_t nv = 0;
	for (size_t i = 0; i < nitems; i++)
		nv += items[i].is_video;
	pd_perf_in *pin = xcalloc(nv + 1, sizeof *pin);
	pd_perf_out *pout = xcalloc(nv + 1, sizeof *pout);
	for (size_t i = 0, k = 0; i < nitems; i++) {
		if (!items[i].is_video)
			continue;
		pin[k].channel = items[i].channel;
		pin[k].views = items[i].views;
		pin[k].age_days = items[i].age_days;
		pin[k].perf_in = items[i].perf_in;
		k++;
	}
	pd_age_curve curve;
	pd_perf_compute(pin, nv, pd_strmap_size(channels), mode, min_videos, pout, &curve);

	size_t with_perf = 0;
	for (size_t i = 0, k = 0; i < nitems; i++) {
		item *it = &items[i];
		if (!it->is_video) {
			cli_passthrough(it->text, it->len);
			free(it->text);
			continue;
		}
		pd_perf_out *o = &pout[k++];
		pd_buf_add(&cli_out, it->text, it->len);
		pd_video d;	/* the derived fields, through the record's writer */
		pd_video_init(&d);
		d.age_days = it->age_days;
		d.perf = o->perf;
		d.perf_basis = o->basis;
		d.perf_reason = isnan(o->perf) ? o->reason : NULL;
		d.fields = PD_VF_DERIVED;
		pd_video_write_tail(&cli_out, &d);
		with_perf += !isnan(o->perf);
		cli.records_out++;
		cli_record_done();
		free(it->text);
	}
	cli_metric_num("videos", (double)nv);
	cli_metric_num("channels", pd_strmap_size(channels));
	cli_metric_num("with_perf", (double)with_perf);
	cli_metric_num("duplicates", (double)dup_count);
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
	free(pin);
	free(pout);
	free(items);
	pd_strmap_free(channels);
	pd_strmap_free(ids);
	pd_record_release(&svc_rec);
	return cli_finish();
}
