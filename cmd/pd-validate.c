/*
 * pd-validate — keep only the mined patterns that hold (lib/validate.h):
 * false-discovery-rate control over every test of the run, replication on
 * the held-out newer videos, stability without the top channel, redundancy
 * pruning; then, optionally, a language model's review and naming
 * (lib/llm.h), cached, which never rejects a pattern by failing.
 *
 * The whole stream is read first (the FDR denominator and the holdout
 * videos are only known at its end).  Records other than patterns are
 * written as they come, unchanged; patterns are written at the end, in
 * input order, updated: "status", "q", "confidence", "validation", name and
 * description.  Rejected patterns are dropped unless --keep-rejected.
 *
 * The mine_summary records of a sharded run (pd-mine --shard i/n, n > 1)
 * are held back and written as one, the record the unsharded run would
 * have written (lib/mine.h pd_mine_summary_merge), after the other records;
 * the FDR counts the tests of all of them either way.  Which records feed
 * the validator is lib/valfeed.h's; the review, lib/review.h's.
 */
#include "cli.h"
#include "../lib/fdr.h"
#include "../lib/pattern.h"
#include "../lib/review.h"
#include "../lib/valfeed.h"
#include "../lib/validate.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: pd-validate [OPTION]... [FILE]...\n"
	"Keep the mined patterns that hold: false-discovery-rate control over all the\n"
	"run's tests, replication on held-out newer videos, stability without the top\n"
	"channel, redundancy pruning; optional LLM review and naming.  Reads the whole\n"
	"stream (videos, clusters, patterns, mine_summary) from FILEs or standard input.\n"
	"\n"
	"Statistics:\n"
	"      --fdr Q           false discovery rate level of the screen (default 0.25)\n"
	"      --fdr-method M    bh (Benjamini-Hochberg, default) or by (Benjamini-\n"
	"                        Yekutieli, for any dependence between tests)\n"
	"      --fdr-test T      the test whose p enters the FDR step: rank (default:\n"
	"                        the rank test on perf), fisher (the high-performer\n"
	"                        table) or both (2 min(p, p_rank))\n"
	"      --form-budget S   share of the FDR budget for form features, the rest\n"
	"                        for topic features (default 0.5; weighted BH)\n"
	"      --next-ratio R    the next period's videos over the holdout's, for the\n"
	"                        stated confidence (default 1)\n"
	"      --min-holdout N   holdout videos with and without the feature needed to\n"
	"                        test replication (default 5)\n"
	"      --replication-alpha P  holdout rank-test p needed to replicate (default\n"
	"                        0.05; 1: the direction alone)\n"
	"      --replication-test T  plain (each video one unit) or channels (a\n"
	"                        channel's videos one unit; default plain)\n"
	"      --require-replication  reject patterns whose replication could not be\n"
	"                        tested (default: provisional)\n"
	"      --max-channel-share S  most of the videos with the feature one channel may\n"
	"                        hold (default 0.5)\n"
	"      --stability-alpha P  p needed without the top channel (default 0.05)\n"
	"      --overlap S       share of a weaker pattern's videos that have a stronger\n"
	"                        pattern's feature too that makes them one finding\n"
	"                        (default 0.8)\n"
	"      --tz OFFSET       time zone of weekday and hour features, +HH:MM (default\n"
	"                        +00:00; use pd-mine's)\n"
	"      --keep-rejected   write rejected patterns too, with their reasons\n"
	"                        (validated and provisional ones are always written)\n"
	"\n"
	"LLM review (on when --llm is given or PD_LLM_URL is set):\n"
	"      --llm             review validated patterns with the chat model at PD_LLM_URL\n"
	"      --no-llm          no review even when PD_LLM_URL is set\n"
	"      --llm-batch N     patterns per request (default 8)\n"
	"      --llm-concurrency N  requests in flight (default 4)\n"
	"      --llm-timeout S   seconds per attempt (default 60)\n"
	"      --llm-cache FILE  verdict cache file when Redis (REDIS_URL) is not there\n"
	"                        (default ~/.cache/pd/llm-cache.ndjson)\n"
	"      --llm-reject      reject patterns the model judges not meaningful\n"
	"      --seed N          seed of the retry jitter (default 1)\n"
	"\n"
	CLI_RECORDS_HELP_END("a service or I/O failure");

enum { OPT_FDR = CLI_OPT_FIRST_OWN, OPT_FDR_METHOD, OPT_FDR_TEST, OPT_MIN_HOLDOUT, OPT_REP_ALPHA, OPT_REP_TEST, OPT_REQ_REP,
       OPT_MAX_SHARE, OPT_STAB_ALPHA, OPT_OVERLAP, OPT_FORM_BUDGET, OPT_NEXT_RATIO, OPT_TZ, OPT_KEEP, OPT_LLM, OPT_NO_LLM,
       OPT_LLM_BATCH, OPT_LLM_CONC, OPT_LLM_TIMEOUT, OPT_LLM_CACHE, OPT_LLM_REJECT, OPT_SEED };

static const struct option longopts[] = {
	{ "fdr", required_argument, NULL, OPT_FDR },
	{ "fdr-method", required_argument, NULL, OPT_FDR_METHOD },
	{ "fdr-test", required_argument, NULL, OPT_FDR_TEST },
	{ "min-holdout", required_argument, NULL, OPT_MIN_HOLDOUT },
	{ "replication-alpha", required_argument, NULL, OPT_REP_ALPHA },
	{ "replication-test", required_argument, NULL, OPT_REP_TEST },
	{ "require-replication", no_argument, NULL, OPT_REQ_REP },
	{ "max-channel-share", required_argument, NULL, OPT_MAX_SHARE },
	{ "stability-alpha", required_argument, NULL, OPT_STAB_ALPHA },
	{ "overlap", required_argument, NULL, OPT_OVERLAP },
	{ "form-budget", required_argument, NULL, OPT_FORM_BUDGET },
	{ "next-ratio", required_argument, NULL, OPT_NEXT_RATIO },
	{ "tz", required_argument, NULL, OPT_TZ },
	{ "keep-rejected", no_argument, NULL, OPT_KEEP },
	{ "llm", no_argument, NULL, OPT_LLM },
	{ "no-llm", no_argument, NULL, OPT_NO_LLM },
	{ "llm-batch", required_argument, NULL, OPT_LLM_BATCH },
	{ "llm-concurrency", required_argument, NULL, OPT_LLM_CONC },
	{ "llm-timeout", required_argument, NULL, OPT_LLM_TIMEOUT },
	{ "llm-cache", required_argument, NULL, OPT_LLM_CACHE },
	{ "llm-reject", no_argument, NULL, OPT_LLM_REJECT },
	{ "seed", required_argument, NULL, OPT_SEED },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static void on_retry(void *ud, int attempt, long status, double wait_s, const char *why)
{
	(void)ud;
	(void)status;	/* `why` names it */
	cli_warn("llm: retry %d in %.1fs (%s)", attempt, wait_s, why);
}

static void on_warn(void *ud, const char *msg)
{
	(void)ud;
	cli_warn("%s", msg);
}

/* the LLM review (lib/review.h), its figures in the metric record */
static void llm_review(pd_validator *v, pd_review_opts *lo)
{
	lo->url = getenv("PD_LLM_URL");
	lo->model = getenv("PD_LLM_MODEL");
	lo->api_key = getenv("PD_LLM_API_KEY");
	lo->on_retry = on_retry;
	lo->on_warn = on_warn;
	pd_review_stats st;
	pd_err err;
	if (pd_review_patterns(v, lo, &st, &err) < 0)
		cli_fatal(2, "%s", err.msg);
	cli_metric_num("llm_requests", (double)st.requests);
	cli_metric_num("llm_cache_hits", (double)st.cache_hits);
	cli_metric_num("llm_verdicts", (double)st.verdicts);
	cli_metric_num("llm_unavailable", (double)st.unavailable);
}

int main(int argc, char **argv)
{
	cli_init("pd-validate", "validate", usage);
	pd_validate_opts o;
	pd_validate_opts_default(&o);
	int keep = 0, llm_flag = 0, no_llm = 0;
	pd_review_opts lo;
	memset(&lo, 0, sizeof lo);
	lo.batch = 8;
	lo.concurrency = 4;
	lo.timeout_s = 60;
	lo.seed = 1;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FDR: o.fdr = cli_parse_double("--fdr", optarg, 1e-12, 1); break;
		case OPT_FDR_METHOD:
			o.fdr_method = pd_fdr_method_parse(optarg);
			if (o.fdr_method < 0)
				cli_usage_error("--fdr-method takes bh or by, not '%s'", optarg);
			break;
		case OPT_FDR_TEST:
			o.fdr_test = pd_fdr_test_parse(optarg);
			if (o.fdr_test < 0)
				cli_usage_error("--fdr-test takes both, fisher or rank, not '%s'", optarg);
			break;
		case OPT_MIN_HOLDOUT:
			o.min_holdout = (int)cli_parse_long("--min-holdout", optarg, 1, 1000000000);
			break;
		case OPT_REP_ALPHA:
			o.replication_alpha = cli_parse_double("--replication-alpha", optarg, 1e-12, 1);
			break;
		case OPT_REP_TEST:
			if (strcmp(optarg, "plain") && strcmp(optarg, "channels"))
				cli_usage_error("--replication-test takes plain or channels, not '%s'", optarg);
			o.replication_clustered = !strcmp(optarg, "channels");
			break;
		case OPT_REQ_REP: o.require_replication = 1; break;
		case OPT_MAX_SHARE:
			o.max_channel_share = cli_parse_double("--max-channel-share", optarg, 0, 1);
			break;
		case OPT_STAB_ALPHA:
			o.stability_alpha = cli_parse_double("--stability-alpha", optarg, 1e-12, 1);
			break;
		case OPT_OVERLAP: o.overlap = cli_parse_double("--overlap", optarg, 1e-9, 1); break;
		case OPT_FORM_BUDGET: o.form_budget = cli_parse_double("--form-budget", optarg, 0, 1); break;
		case OPT_NEXT_RATIO: o.next_ratio = cli_parse_double("--next-ratio", optarg, 1e-3, 1e3); break;
		case OPT_TZ:
			if (pd_tz_parse(optarg, &o.tz_offset_s) < 0)
				cli_usage_error("--tz takes +HH:MM or -HH:MM, not '%s'", optarg);
			break;
		case OPT_KEEP: keep = 1; break;
		case OPT_LLM: llm_flag = 1; break;
		case OPT_NO_LLM: no_llm = 1; break;
		case OPT_LLM_BATCH: lo.batch = (int)cli_parse_long("--llm-batch", optarg, 1, 1000); break;
		case OPT_LLM_CONC:
			lo.concurrency = (int)cli_parse_long("--llm-concurrency", optarg, 1, 256);
			break;
		case OPT_LLM_TIMEOUT:
			lo.timeout_s = cli_parse_double("--llm-timeout", optarg, 0.001, 86400);
			break;
		case OPT_LLM_CACHE: lo.cache_file = optarg; break;
		case OPT_LLM_REJECT: lo.reject = 1; break;
		case OPT_SEED:
			lo.seed = (unsigned long long)cli_parse_long("--seed", optarg, 0, 0x7fffffffffffffffL);
			break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	const char *url = getenv("PD_LLM_URL");
	if (llm_flag && no_llm)
		cli_usage_error("--llm and --no-llm exclude each other");
	if (llm_flag && !(url && *url))
		cli_usage_error("--llm needs PD_LLM_URL (an OpenAI-compatible endpoint)");
	int llm_on = !no_llm && url && *url;
	cli_after_options();

	pd_validator *v = pd_validator_new(&o);
	pd_valfeed *feed = pd_valfeed_new(v);
	pd_input *in = cli_open_input(argc - optind, argv + optind);
	const char *line;
	size_t len;
	while (cli_next_line(in, &line, &len)) {
		pd_err err, warn;
		int r = pd_valfeed_line(feed, line, len, &err, &warn);
		if (warn.code)
			cli_warn("%s:%ld: %s", CLI_POS(in), warn.msg);
		if (r == PD_VALFEED_REJECT)
			cli_reject(CLI_POS(in), line, len, "%s", err.msg);
		else if (r == PD_VALFEED_PASS)
			cli_passthrough(line, len);
	}
	pd_input_free(in);
	/* the summaries of a sharded run, as one */
	pd_buf held = PD_BUF_INIT;
	pd_err warn;
	size_t nheld = pd_valfeed_finish(feed, &held, &warn);
	if (warn.code)
		cli_warn("%s", warn.msg);
	if (nheld)
		cli_write_lines(held.p, held.len, nheld);
	pd_buf_release(&held);
	int summaries = pd_valfeed_summaries(feed);
	pd_valfeed_free(feed);

	pd_validate_summary s;
	pd_validator_run(v, &s);
	if (!summaries && s.patterns)
		cli_warn("no mine_summary records: FDR over the %zu patterns alone (too lenient "
			 "when pd-mine tested more)", s.patterns);
	if (s.patterns && !s.holdout_videos)
		cli_warn("no holdout videos: replication not tested (run pd-mine with --holdout)");
	if (llm_on && s.validated)
		llm_review(v, &lo);

	size_t written = 0, validated = 0;
	for (size_t i = 0; i < pd_validator_npatterns(v); i++) {
		int passed = pd_validator_passed(v, i);
		validated += (size_t)passed;
		if (!passed && !pd_validator_provisional(v, i) && !keep)
			continue;
		/* through the one writer of pattern records */
		pd_pattern pat;
		pd_err perr;
		if (pd_pattern_read(pd_validator_pattern(v, i), &pat, &perr) != 0)
			cli_fatal(3, "pattern %zu: %s", i, perr.msg);
		pd_pattern_write(&pat, &cli_out);
		pd_pattern_release(&pat);
		cli.records_out++;
		cli_record_done();
		written++;
	}
	cli_metric_num("patterns", (double)s.patterns);
	cli_metric_num("validated", (double)validated);
	cli_metric_num("provisional", (double)s.provisional);
	cli_metric_num("patterns_rejected", (double)(s.patterns - validated - s.provisional));
	cli_metric_num("rejected_fdr", (double)s.rej_fdr);
	cli_metric_num("rejected_holdout", (double)s.rej_holdout);
	cli_metric_num("rejected_channel", (double)s.rej_channel);
	cli_metric_num("rejected_redundant", (double)s.rej_redundant);
	cli_metric_num("rejected_too_broad", (double)s.rej_broad);
	cli_metric_num("tests", s.m);
	cli_metric_num("holdout_tested", (double)s.holdout_tested);
	cli_metric_num("replicated", (double)s.replicated);
	if (s.holdout_tested)
		cli_metric_num("replication_share",
			       round(1000.0 * (double)s.replicated / (double)s.holdout_tested) / 1000);
	cli_metric_num("videos", (double)s.videos);
	cli_metric_num("holdout_videos", (double)s.holdout_videos);
	pd_validator_free(v);
	return cli_finish();
}
