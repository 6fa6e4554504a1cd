/*
 * pd-synth — write a synthetic video set with planted, known patterns
 * (lib/synth.h): CSV in the shared data file's columns (default) or NDJSON
 * video records on stdout, and the planted truth as NDJSON to --truth FILE.
 *
 * The plan of the whole set is made first (a few bytes per video); videos are
 * then generated and written one at a time, so memory stays bounded and the
 * output streams.  CSV output carries no metric record (it would not be a CSV
 * row); NDJSON output ends with the usual closing metric record.
 *
 * --realistic turns on every realistic option (decoy null topics, proxies,
 * trends, channel habits); an option given on its own sets just that one, and
 * wins over --realistic whatever the order.
 */
#include "cli.h"
#include "../lib/synth.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: pd-synth [OPTION]...\n"
	"Write a synthetic video set with planted, known patterns on standard output:\n"
	"topics with their own vocabularies, channels with their own baselines, views\n"
	"that grow with age, feature effects planted inside chosen topics and topics\n"
	"with nothing planted.  Same options and --seed give the same bytes.\n"
	"\n"
	"Set:\n"
	"      --videos N        number of videos (default 10000; 100 to 20000000)\n"
	"      --seed S          random seed (default 1)\n"
	"      --topics-macro K  macro topics (default videos/5000, at least 2)\n"
	"      --effects E       planted effects (default one per non-null meso topic)\n"
	"      --null-share F    share of meso topics with nothing planted (default 0.4)\n"
	"      --start DATE      first publish day, YYYY-MM-DD (default 2025-11-03)\n"
	"      --days D          publish window in days (default 180, at least 7)\n"
	"      --noise SD        sd of the per-video ln(views) noise (default 0.7)\n"
	"\n"
	"Realistic structure (all off by default):\n"
	"      --null-topics N   N null meso topics carry the planted features with no\n"
	"                        effect (decoys); 'all' for every one of 100+ videos\n"
	"      --proxies         plant stand-ins: a planted phrase lengthens titles, a\n"
	"                        tag on all of a topic's videos, the phrase's format\n"
	"      --trends          a third of the meso-level effects are trends: their\n"
	"                        carriers crowd into one time window, the effect only there\n"
	"      --trend-share F   that share of them instead (0 to 1)\n"
	"      --habits          channel habits (weekday, hour, word, tag), hot streaks,\n"
	"                        common words at realistic rates\n"
	"      --realistic       all of the above (--null-topics all --proxies --trends\n"
	"                        --habits)\n"
	"\n"
	"Output:\n"
	"      --format FMT      csv (default; the shared data file's columns, CRLF)\n"
	"                        or ndjson (video records, then a metric record)\n"
	"      --truth FILE      write the planted truth (NDJSON) to FILE\n"
	"\n"
	"Common options:\n"
	CLI_COMMON_HELP
	"\n"
	"Exit status: 0 done, 2 usage error, 3 an I/O failure.\n";

enum { OPT_VIDEOS = CLI_OPT_FIRST_OWN, OPT_SEED, OPT_TRUTH, OPT_FORMAT, OPT_MACRO, OPT_EFFECTS,
       OPT_NULL, OPT_START, OPT_DAYS, OPT_NOISE, OPT_NULL_TOPICS, OPT_PROXIES, OPT_TRENDS,
       OPT_TREND_SHARE, OPT_HABITS, OPT_REALISTIC };

static const struct option longopts[] = {
	{ "videos", required_argument, NULL, OPT_VIDEOS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "truth", required_argument, NULL, OPT_TRUTH },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "topics-macro", required_argument, NULL, OPT_MACRO },
	{ "effects", required_argument, NULL, OPT_EFFECTS },
	{ "null-share", required_argument, NULL, OPT_NULL },
	{ "start", required_argument, NULL, OPT_START },
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "noise", required_argument, NULL, OPT_NOISE },
	{ "null-topics", required_argument, NULL, OPT_NULL_TOPICS },
	{ "proxies", no_argument, NULL, OPT_PROXIES },
	{ "trends", no_argument, NULL, OPT_TRENDS },
	{ "trend-share", required_argument, NULL, OPT_TREND_SHARE },
	{ "habits", no_argument, NULL, OPT_HABITS },
	{ "realistic", no_argument, NULL, OPT_REALISTIC },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* what is buffered in b to the truth file (at 256 KiB, or at once with force) */
static void truth_write(FILE *truth, const char *truth_path, pd_buf *b, int force)
{
	if (!truth || (!force && b->len < (1u << 18)))
		return;
	if (b->len && fwrite(b->p, 1, b->len, truth) != b->len)
		cli_fatal(3, "cannot write '%s': %s", truth_path, strerror(errno));
	pd_buf_reset(b);
}

int main(int argc, char **argv)
{
	FILE *truth = NULL;
	const char *truth_path = NULL;
	cli_init("pd-synth", "synth", usage);
	pd_synth_opts o;
	pd_synth_opts_init(&o);
	int ndjson = 0, c, real = 0;
	int set_null = 0, set_trend = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_VIDEOS: o.videos = cli_parse_long("--videos", optarg, 100, 20000000L); break;
		case OPT_SEED: {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-')
				cli_usage_error("--seed takes a whole number from 0 to 2^64-1, not '%s'", optarg);
			o.seed = v;
			break;
		}
		case OPT_TRUTH: truth_path = optarg; break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "csv"))
				ndjson = 0;
			else if (!strcmp(optarg, "ndjson"))
				ndjson = 1;
			else
				cli_usage_error("--format takes csv or ndjson, not '%s'", optarg);
			break;
		case OPT_MACRO: o.macro = (int)cli_parse_long("--topics-macro", optarg, 1, 100000); break;
		case OPT_EFFECTS: o.effects = (int)cli_parse_long("--effects", optarg, 0, 1000000); break;
		case OPT_NULL: o.null_share = cli_parse_double("--null-share", optarg, 0, 1); break;
		case OPT_START: {
			double t;
			if (pd_time_parse(optarg, &t) < 0)
				cli_usage_error("--start takes a date YYYY-MM-DD, not '%s'", optarg);
			o.start = floor(t / 86400.0) * 86400.0;
			break;
		}
		case OPT_DAYS: o.days = (int)cli_parse_long("--days", optarg, 7, 3650); break;
		case OPT_NOISE: o.noise_sd = cli_parse_double("--noise", optarg, 0, 5); break;
		case OPT_NULL_TOPICS:
			o.null_topics = !strcmp(optarg, "all") ? -1
				: (int)cli_parse_long("--null-topics", optarg, 0, 1000000);
			set_null = 1;
			break;
		case OPT_PROXIES: o.proxies = 1; break;
		case OPT_TRENDS: o.trend_share = 1.0 / 3.0; set_trend = 1; break;
		case OPT_TREND_SHARE:
			o.trend_share = cli_parse_double("--trend-share", optarg, 0, 1);
			set_trend = 1;
			break;
		case OPT_HABITS: o.habits = 1; break;
		case OPT_REALISTIC: real = 1; break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected operand '%s'", argv[optind]);
	if (real) {
		pd_synth_opts r = o;
		pd_synth_opts_realistic(&r);
		if (!set_null)
			o.null_topics = r.null_topics;
		if (!set_trend)
			o.trend_share = r.trend_share;
		o.proxies = r.proxies;
		o.habits = r.habits;
	}
	if (o.macro > 0 && (long)o.macro * 50 > o.videos)
		cli_usage_error("--topics-macro %d needs at least %ld videos", o.macro, (long)o.macro * 50);
	cli_after_options();
	if (!ndjson)
		cli.no_metric = 1;	/* a metric record is not a CSV row */

	pd_err err;
	pd_synth *s = pd_synth_new(&o, &err);
	if (!s) {
		if (err.code == PD_EUSAGE)
			cli_usage_error("%s", err.msg);
		cli_fatal_err(&err);
	}
	pd_buf tb = PD_BUF_INIT;
	if (truth_path) {
		truth = fopen(truth_path, "w");
		if (!truth)
			cli_fatal(3, "cannot open '%s': %s", truth_path, strerror(errno));
		pd_synth_truth_head(s, &tb);
		truth_write(truth, truth_path, &tb, 1);
	}
	pd_synth_counts counts;
	pd_synth_counts_get(s, &counts);
	if (!ndjson) {
		pd_synth_csv_header(&cli_out);
		cli_record_done();
	}
	pd_synth_video v;
	pd_synth_video_init(&v);
	for (size_t i = 0; i < counts.videos; i++) {
		pd_synth_generate(s, i, &v);
		if (ndjson)
			pd_synth_ndjson(&v, &cli_out);
		else
			pd_synth_csv_row(&v, &cli_out);
		cli.records_out++;
		cli_record_done();
		if (truth) {
			pd_synth_truth_video(s, &v, &tb);
			truth_write(truth, truth_path, &tb, 0);
		}
		if (cli.progress && (i & 4095) == 0)
			cli_progress("videos", i, counts.videos);
	}
	if (truth) {
		truth_write(truth, truth_path, &tb, 1);
		if (fclose(truth) != 0)
			cli_fatal(3, "cannot write '%s': %s", truth_path, strerror(errno));
	}
	cli_progress("videos", counts.videos, counts.videos);
	cli_metric_num("videos", (double)counts.videos);
	cli_metric_num("channels", (double)counts.channels);
	cli_metric_num("topics_macro", counts.macro);
	cli_metric_num("topics_meso", counts.meso);
	cli_metric_num("topics_micro", counts.micro);
	cli_metric_num("effects", counts.effects);
	cli_metric_num("null_meso", counts.null_meso);
	if (counts.null_topics || counts.trends || o.proxies || o.habits) {
		cli_metric_num("null_topics", counts.null_topics);
		cli_metric_num("nulls", counts.nulls);
		cli_metric_num("trends", counts.trends);
	}
	pd_synth_video_release(&v);
	pd_buf_release(&tb);
	pd_synth_free(s);
	return cli_finish();
}
