/*
 * pd-abtest — title experiments (lib/abtest.h does the work).
 *
 * `plan` reads drafts and pd-match's recommendations, passes every record
 * through, and appends one abtest_assignment record per video: treatment
 * (apply the recommended pattern) or control, in permuted blocks per channel
 * from --seed.  `analyze` (also what runs with no mode) reads assignments,
 * video records (perf) and abtest_result records, passes every record through
 * but the results, and at the end writes the accepted results and one
 * abtest_analysis record per experiment: the effect, an always-valid
 * interval and p-value, and Winner / Preferred / None.  The whole stream is
 * read first in both modes: a result may come before its assignment.
 */
#include "cli.h"
#include "../lib/abtest.h"
#include "../lib/video.h"
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: pd-abtest plan [OPTION]... [FILE]...\n"
	"  or:  pd-abtest [analyze] [OPTION]... [FILE]...\n"
	"A/B tests of titles.  plan: assign each upcoming video (draft records, and the\n"
	"recommendation or match_group records of pd-match --recommend) to arm treatment\n"
	"(apply its recommended pattern) or control, in permuted blocks per channel, and\n"
	"append one abtest_assignment record per video.  analyze (the default): read\n"
	"abtest_assignment records with video records (perf) or abtest_result records,\n"
	"and append one abtest_analysis record per experiment: the effect on log perf,\n"
	"its always-valid interval and p-value (a mixture sequential probability ratio\n"
	"test that stays valid however often one looks), and Winner / Preferred / None.\n"
	"Every other record passes through.  With no FILE, or when FILE is -, read\n"
	"standard input.\n"
	"\n"
	"Plan:\n"
	"      --seed N          seed of the random assignment (default 1)\n"
	"      --block-size N    permuted block size per channel, even (default 4)\n"
	"      --experiment ID   the experiment id (default: ab- and a hash of the seed\n"
	"                        and the videos)\n"
	"      --pattern ID      only videos recommended pattern ID, which their treatment\n"
	"                        applies (default: each video's best recommendation)\n"
	"      --within          every video shows both titles to different viewers\n"
	"                        (YouTube Test & Compare): arm both, no randomisation\n"
	"\n"
	"Analyze:\n"
	"      --alpha P         Winner when the always-valid p is below P; the interval\n"
	"                        is at level 1 - P (default 0.05)\n"
	"      --prefer P        Preferred when it is below P and the estimate favours\n"
	"                        one arm (default 0.2)\n"
	"      --tau T           sd of the normal mixture over the standardised effect\n"
	"                        (effect on log perf / its sd; default 0.5)\n"
	"      --min-age DAYS    count a video record once its age_days is at least DAYS\n"
	"                        (default 0)\n"
	"\n"
	CLI_RECORDS_HELP_END("an I/O failure");

enum { OPT_SEED = CLI_OPT_FIRST_OWN, OPT_BLOCK, OPT_EXP, OPT_PATTERN, OPT_WITHIN, OPT_ALPHA,
       OPT_PREFER, OPT_TAU, OPT_MIN_AGE };

static const struct option longopts[] = {
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "block-size", required_argument, NULL, OPT_BLOCK },
	{ "experiment", required_argument, NULL, OPT_EXP },
	{ "pattern", required_argument, NULL, OPT_PATTERN },
	{ "within", no_argument, NULL, OPT_WITHIN },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "prefer", required_argument, NULL, OPT_PREFER },
	{ "tau", required_argument, NULL, OPT_TAU },
	{ "min-age", required_argument, NULL, OPT_MIN_AGE },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int plan(pd_input *in, const pd_ab_plan_opts *po)
{
	pd_ab_planner *p = pd_ab_planner_new(po);
	pd_record r = PD_RECORD_INIT;
	const char *line;
	size_t len;
	char type[32];
	while (cli_next_record(in, &line, &len, type)) {
		pd_err err;
		if (!strcmp(type, "draft") || !strcmp(type, "recommendation") ||
		    !strcmp(type, "match_group")) {
			if (pd_record_parse(&r, line, len, &err) < 0 ||
			    pd_ab_planner_add(p, type, r.json, &err) < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
		}
		cli_passthrough(line, len);
	}
	pd_record_release(&r);
	pd_ab_plan_counts k;
	pd_ab_planner_write(p, &cli_out, &k);
	cli.records_out += (unsigned long long)k.assigned;
	cli_record_done();
	if (k.no_pattern && !cli.quiet)
		cli_warn("%ld of %ld videos have %s: not in the experiment", k.no_pattern, k.units,
			 po->pattern ? "no recommendation of that pattern" : "no recommendation");
	cli_metric_num("videos", (double)k.units);
	cli_metric_num("assigned", (double)k.assigned);
	cli_metric_num("treatment", (double)k.treatment);
	cli_metric_num("control", (double)k.control);
	cli_metric_num("channels", (double)k.channels);
	pd_ab_planner_free(p);
	return 0;
}

static void on_reject(void *ud, const char *file, long line, const char *raw, size_t len,
		      const char *msg)
{
	cli_reject(file, line, raw, len, "%s", msg);
}

static void on_warn(void *ud, const char *msg)
{
	cli_warn("%s", msg);
}

/* a video record's fields, through the scanner when it decides, else cJSON */
static int read_video(pd_record *r, pd_jobj *o, pd_video *v, const char *line, size_t len,
		      pd_err *err)
{
	if (pd_record_scan(r, o, line, len) == 0)
		return pd_video_from_jobj(o, v, err);
	if (pd_record_parse(r, line, len, err) < 0)
		return -1;
	return pd_video_from_json(r->json, v, err);
}

static int analyze(pd_input *in, const pd_ab_opts *ao)
{
	pd_ab_analyzer *a = pd_ab_analyzer_new(ao);
	pd_record r = PD_RECORD_INIT;
	pd_jobj o = PD_JOBJ_INIT;
	const char *line;
	size_t len;
	char type[32];
	while (cli_next_record(in, &line, &len, type)) {
		pd_err err;
		if (!strcmp(type, "video")) {
			pd_video v;
			if (read_video(&r, &o, &v, line, len, &err) < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
			pd_ab_analyzer_add_video(a, &v, CLI_POS(in));
			pd_video_release(&v);
		} else if (!strcmp(type, "abtest_assignment") || !strcmp(type, "abtest_result")) {
			int result = !strcmp(type, "abtest_result");
			int rc = pd_record_parse(&r, line, len, &err);
			if (rc == 0 && !result)
				rc = pd_ab_analyzer_add_assignment(a, r.json, &err);
			else if (rc == 0)
				rc = pd_ab_analyzer_add_result(a, r.json, line, len, CLI_POS(in), &err);
			if (rc < 0)
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			if (rc < 0 || result)
				continue;	/* results are written at the end, once matched */
		}
		cli_passthrough(line, len);
	}
	pd_record_release(&r);
	pd_jobj_release(&o);
	pd_ab_report rep = { on_reject, on_warn, NULL };
	pd_ab_counts k;
	pd_ab_analyzer_run(a, &rep, &cli_out, &k);
	cli.records_out += (unsigned long long)(k.results_written + k.experiments);
	cli_record_done();
	cli_metric_num("experiments", (double)k.experiments);
	cli_metric_num("winners", (double)k.winners);
	cli_metric_num("preferred", (double)k.preferred);
	cli_metric_num("videos", (double)k.units);
	cli_metric_num("measured", (double)k.measured);
	cli_metric_num("pending", (double)k.pending);
	cli_metric_num("excluded", (double)k.excluded);
	cli_metric_num("results", (double)k.results_written);
	pd_ab_analyzer_free(a);
	return 0;
}

int main(int argc, char **argv)
{
	cli_init("pd-abtest", "abtest", usage);
	pd_ab_plan_opts po;
	pd_ab_opts ao;
	pd_ab_plan_opts_default(&po);
	pd_ab_opts_default(&ao);
	const char *plan_opt = NULL, *analyze_opt = NULL;	/* one option of each mode given */
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SEED:
			po.seed = (uint64_t)cli_parse_long("--seed", optarg, 0, 0x7fffffffffffffffL);
			plan_opt = "--seed";
			break;
		case OPT_BLOCK:
			po.block = (int)cli_parse_long("--block-size", optarg, 2, 1000);
			if (po.block % 2)
				cli_usage_error("--block-size takes an even number, not '%s'", optarg);
			plan_opt = "--block-size";
			break;
		case OPT_EXP:
			if (!*optarg)
				cli_usage_error("--experiment takes a non-empty id");
			po.experiment = optarg;
			plan_opt = "--experiment";
			break;
		case OPT_PATTERN:
			if (!*optarg)
				cli_usage_error("--pattern takes a non-empty pattern id");
			po.pattern = optarg;
			plan_opt = "--pattern";
			break;
		case OPT_WITHIN: po.within = 1; plan_opt = "--within"; break;
		case OPT_ALPHA:
			ao.alpha = cli_parse_double("--alpha", optarg, 1e-9, 0.5);
			analyze_opt = "--alpha";
			break;
		case OPT_PREFER:
			ao.prefer = cli_parse_double("--prefer", optarg, 1e-9, 1);
			analyze_opt = "--prefer";
			break;
		case OPT_TAU:
			ao.tau = cli_parse_double("--tau", optarg, 1e-6, 1e6);
			analyze_opt = "--tau";
			break;
		case OPT_MIN_AGE:
			ao.min_age = cli_parse_double("--min-age", optarg, 0, 1e6);
			analyze_opt = "--min-age";
			break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	/* the mode: a first operand "plan" or "analyze"; else analyze */
	int planning = 0;
	if (optind < argc && (!strcmp(argv[optind], "plan") || !strcmp(argv[optind], "analyze")))
		planning = !strcmp(argv[optind++], "plan");
	if (planning && analyze_opt)
		cli_usage_error("%s is an option of analyze, not plan", analyze_opt);
	if (!planning && plan_opt)
		cli_usage_error("%s is an option of plan, not analyze", plan_opt);
	if (ao.prefer < ao.alpha)
		cli_usage_error("--prefer (%g) is below --alpha (%g)", ao.prefer, ao.alpha);
	cli_after_options();
	pd_input *in = cli_open_input(argc - optind, argv + optind);
	if (planning)
		plan(in, &po);
	else
		analyze(in, &ao);
	pd_input_free(in);
	return cli_finish();
}
