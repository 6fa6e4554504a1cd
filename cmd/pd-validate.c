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
 * the FDR counts the tests of all of them either way.
 */
#include "cli.h"
#include "../lib/cache.h"
#include "../lib/fdr.h"
#include "../lib/http.h"
#include "../lib/llm.h"
#include "../lib/mine.h"
#include "../lib/validate.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
	"Common options:\n"
	CLI_COMMON_HELP
	"\n"
	"Exit status: 0 all records read, 1 some rejected, 2 usage error,\n"
	"3 a service or I/O failure.\n";

enum { OPT_FDR = CLI_OPT_FIRST_OWN, OPT_FDR_METHOD, OPT_FDR_TEST, OPT_MIN_HOLDOUT, OPT_REP_ALPHA, OPT_REQ_REP,
       OPT_MAX_SHARE, OPT_STAB_ALPHA, OPT_OVERLAP, OPT_FORM_BUDGET, OPT_NEXT_RATIO, OPT_TZ, OPT_KEEP, OPT_LLM, OPT_NO_LLM,
       OPT_LLM_BATCH, OPT_LLM_CONC, OPT_LLM_TIMEOUT, OPT_LLM_CACHE, OPT_LLM_REJECT, OPT_SEED };

static const struct option longopts[] = {
	{ "fdr", required_argument, NULL, OPT_FDR },
	{ "fdr-method", required_argument, NULL, OPT_FDR_METHOD },
	{ "fdr-test", required_argument, NULL, OPT_FDR_TEST },
	{ "min-holdout", required_argument, NULL, OPT_MIN_HOLDOUT },
	{ "replication-alpha", required_argument, NULL, OPT_REP_ALPHA },
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
	(void)status;	/* `why` names it */
	if (!cli.quiet)
		cli_warn("llm: retry %d in %.1fs (%s)", attempt, wait_s, why);
}

typedef struct llm_opts {
	int on, reject, batch, conc;
	double timeout_s;
	const char *cache_file;
	unsigned long long seed;
} llm_opts;

static char *default_cache_file(void)
{
	const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	pd_buf b = PD_BUF_INIT;
	if (x && *x)
		pd_buf_printf(&b, "%s/pd", x);
	else if (home && *home)
		pd_buf_printf(&b, "%s/.cache/pd", home);
	else
		return NULL;
	/* make the directory (and ~/.cache) if missing; failure only means no file cache */
	if (!(x && *x)) {
		char *parent = xstrndup(b.p, b.len - 3);
		mkdir(parent, 0700);
		free(parent);
	}
	mkdir(b.p, 0700);
	pd_buf_adds(&b, "/llm-cache.ndjson");
	return pd_buf_detach(&b);
}

static void llm_review(pd_validator *v, const llm_opts *lo)
{
	size_t np = pd_validator_npatterns(v), n = 0;
	size_t *idx = xcalloc(np + 1, sizeof *idx);
	cJSON **items = xcalloc(np + 1, sizeof *items);
	for (size_t i = 0; i < np; i++)
		if (pd_validator_passed(v, i)) {
			idx[n] = i;
			items[n++] = pd_validator_review_item(v, i);
		}
	pd_err err;
	pd_cache *cache = pd_cache_open(NULL, 0, 0, &err);
	if (!cache && err.code != PD_OK && !cli.quiet)
		cli_warn("redis: %s; caching LLM verdicts in a file", err.msg);
	char *deffile = lo->cache_file ? NULL : default_cache_file();
	pd_llm_config c = { 0 };
	c.url = getenv("PD_LLM_URL");
	c.model = getenv("PD_LLM_MODEL");
	if (!c.model || !*c.model)
		c.model = "gpt-4o-mini";
	c.api_key = getenv("PD_LLM_API_KEY");
	c.batch = lo->batch;
	c.concurrency = lo->conc;
	c.timeout_ms = (long)(lo->timeout_s * 1000);
	c.max_retries = -1;
	c.reask = 1;
	c.cache = cache;
	c.cache_file = lo->cache_file ? lo->cache_file : deffile;
	c.seed = lo->seed;
	c.on_retry = on_retry;
	pd_llm_result *res = xcalloc(n + 1, sizeof *res);
	pd_llm_stats st = { 0 };
	if (pd_llm_review(&c, items, n, res, &st, &err) < 0)
		cli_fatal(2, "%s", err.msg);
	if (pd_cache_take_error(cache, &err) && !cli.quiet)
		cli_warn("redis: %s; LLM verdicts not cached", err.msg);
	const char *first = NULL;
	for (size_t k = 0; k < n; k++) {
		cJSON *rec = pd_validator_pattern(v, idx[k]);
		cJSON *val = cJSON_GetObjectItemCaseSensitive(rec, "validation");
		if (!res[k].verdict) {
			pd_json_set(val, "llm", cJSON_CreateString("unavailable"));
			pd_json_set(val, "llm_error", cJSON_CreateString(res[k].reason));
			if (!first)
				first = res[k].reason;
			continue;
		}
		cJSON *vd = res[k].verdict;
		res[k].verdict = NULL;
		cJSON_AddBoolToObject(vd, "cached", res[k].cached);
		cJSON_AddStringToObject(vd, "model", c.model);
		const char *name = pd_json_str(vd, "name"), *desc = pd_json_str(vd, "description");
		pd_json_set(rec, "name", cJSON_CreateString(name));
		pd_json_set(rec, "description", cJSON_CreateString(desc));
		cJSON *pdj = cJSON_GetObjectItemCaseSensitive(rec, "pattern_data");
		if (cJSON_IsObject(pdj)) {
			pd_json_set(pdj, "name", cJSON_CreateString(name));
			pd_json_set(pdj, "description", cJSON_CreateString(desc));
		}
		int meaningful = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(vd, "is_meaningful"));
		pd_json_set(val, "llm", vd);
		if (lo->reject && !meaningful) {
			pd_buf b = PD_BUF_INIT;
			pd_buf_printf(&b, "llm: judged not meaningful (%s)",
				      pd_json_str(vd, "why_it_works"));
			pd_validator_reject(v, idx[k], b.p);
			pd_buf_release(&b);
		}
	}
	if (first && !cli.quiet)
		cli_warn("llm: no review for %lu of %zu patterns (%s); their statistical verdict "
			 "stands", st.unavailable, n, first);
	cli_metric_num("llm_requests", (double)st.requests);
	cli_metric_num("llm_cache_hits", (double)st.cache_hits);
	cli_metric_num("llm_verdicts", (double)st.verdicts);
	cli_metric_num("llm_unavailable", (double)st.unavailable);
	pd_llm_results_release(res, n);
	free(res);
	for (size_t k = 0; k < n; k++)
		cJSON_Delete(items[k]);
	free(items);
	free(idx);
	free(deffile);
	pd_cache_free(cache);
}

/* a mine_summary's z_hist, for confidence's selection correction; a bad one
   is named and left out (the run's confidence then goes without it) */
static void add_zhist(pd_validator *v, const cJSON *zh, pd_input *in)
{
	if (!zh)
		return;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(zh, "counts");
	double counts[PD_VALIDATE_ZH_MAX];
	int n = cJSON_IsArray(c) ? cJSON_GetArraySize(c) : 0, ok = n > 0 && n <= PD_VALIDATE_ZH_MAX;
	for (int b = 0; ok && b < n; b++) {
		const cJSON *x = cJSON_GetArrayItem(c, b);
		ok = cJSON_IsNumber(x);
		counts[b] = ok ? x->valuedouble : 0;
	}
	if (!ok || pd_validator_add_zhist(v, counts, n, pd_json_num(zh, "lo", NAN),
					  pd_json_num(zh, "width", NAN)) != 0)
		cli_warn("%s:%ld: mine_summary's z_hist is not a histogram like the others; "
			 "confidence goes without the selection correction", CLI_POS(in));
}

int main(int argc, char **argv)
{
	cli_init("pd-validate", "validate", usage);
	pd_validate_opts o;
	pd_validate_opts_default(&o);
	int keep = 0, llm_flag = 0, no_llm = 0;
	llm_opts lo = { 0, 0, 8, 4, 60, NULL, 1 };
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
			lo.conc = (int)cli_parse_long("--llm-concurrency", optarg, 1, 256);
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
	lo.on = !no_llm && url && *url;
	cli_after_options();

	pd_validator *v = pd_validator_new(&o);
	pd_input *in = cli_open_input(argc - optind, argv + optind);
	const char *line;
	size_t len;
	pd_record rec = PD_RECORD_INIT;
	pd_jobj jo = PD_JOBJ_INIT;	/* a video scanned without a tree (record.h) */
	int summaries = 0;
	cJSON **shards = NULL;	/* mine_summary records of shards, merged at the end */
	char **shard_lines = NULL;
	size_t nshards = 0;
	while (cli_next_line(in, &line, &len)) {
		char type[32];
		pd_err err;
		int t = pd_json_type(line, len, type, sizeof type, &err);
		if (t == 1 && strcmp(type, "video") && strcmp(type, "pattern") &&
		    strcmp(type, "mine_summary") && strcmp(type, "cluster")) {
			cli_passthrough(line, len);
			continue;
		}
		if (t == 1 && !strcmp(type, "video") && pd_record_scan(&rec, &jo, line, len) == 0) {
			/* the common case, without a tree */
			if (pd_validator_add_video_scanned(v, &jo, &err) < 0)
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			else
				cli_passthrough(line, len);
			continue;
		}
		if (pd_record_parse(&rec, line, len, &err) < 0) {
			cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			continue;
		}
		if (!strcmp(rec.type, "pattern")) {
			cJSON *j = rec.json;
			rec.json = NULL;
			if (pd_validator_add_pattern(v, j, &err) < 0)
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
			continue;
		}
		if (!strcmp(rec.type, "video")) {
			if (pd_validator_add_video(v, rec.json, &err) < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
		} else if (!strcmp(rec.type, "cluster")) {
			pd_validator_add_cluster(v, rec.json);
		} else if (!strcmp(rec.type, "mine_summary")) {
			const cJSON *tj = cJSON_GetObjectItemCaseSensitive(rec.json, "tests");
			if (!cJSON_IsNumber(tj) || !(tj->valuedouble >= 0) ||
			    tj->valuedouble != floor(tj->valuedouble)) {
				cli_reject(CLI_POS(in), line, len,
					   "mine_summary has no \"tests\" count (a whole number)");
				continue;
			}
			const cJSON *tt = cJSON_GetObjectItemCaseSensitive(rec.json, "tests_topic");
			pd_validator_add_tests(v, tj->valuedouble,
					       cJSON_IsNumber(tt) && tt->valuedouble >= 0 &&
							       tt->valuedouble <= tj->valuedouble
						       ? tt->valuedouble : NAN);
			add_zhist(v, cJSON_GetObjectItemCaseSensitive(rec.json, "z_hist"), in);
			summaries++;
			int si, sn;
			if (pd_mine_summary_shard(rec.json, &si, &sn) == 0 && sn > 1) {
				shards = xreallocarray(shards, nshards + 1, sizeof *shards);
				shard_lines = xreallocarray(shard_lines, nshards + 1, sizeof *shard_lines);
				shards[nshards] = rec.json;
				shard_lines[nshards++] = xstrndup(line, len);
				rec.json = NULL;
				continue;
			}
		}
		cli_passthrough(line, len);
	}
	pd_record_release(&rec);
	free(rec.emb);
	pd_jobj_release(&jo);
	pd_input_free(in);
	if (nshards) {
		pd_err err;
		cJSON *merged = pd_mine_summary_merge((const cJSON *const *)shards, nshards, &err);
		if (merged) {
			char *t = cJSON_PrintUnformatted(merged);
			cli_passthrough(t, strlen(t));
			free(t);
			cJSON_Delete(merged);
		} else {
			if (!cli.quiet)
				cli_warn("%s; they are written as they came, unmerged", err.msg);
			for (size_t i = 0; i < nshards; i++)
				cli_passthrough(shard_lines[i], strlen(shard_lines[i]));
		}
		for (size_t i = 0; i < nshards; i++) {
			cJSON_Delete(shards[i]);
			free(shard_lines[i]);
		}
		free(shards);
		free(shard_lines);
	}

	pd_validate_summary s;
	pd_validator_run(v, &s);
	if (!summaries && s.patterns && !cli.quiet)
		cli_warn("no mine_summary records: FDR over the %zu patterns alone (too lenient "
			 "when pd-mine tested more)", s.patterns);
	if (s.patterns && !s.holdout_videos && !cli.quiet)
		cli_warn("no holdout videos: replication not tested (run pd-mine with --holdout)");
	if (lo.on && s.validated)
		llm_review(v, &lo);

	size_t written = 0, validated = 0;
	for (size_t i = 0; i < pd_validator_npatterns(v); i++) {
		int passed = pd_validator_passed(v, i);
		validated += (size_t)passed;
		if (!passed && !pd_validator_provisional(v, i) && !keep)
			continue;
		char *t = cJSON_PrintUnformatted(pd_validator_pattern(v, i));
		pd_buf_adds(&cli_out, t);
		pd_buf_addc(&cli_out, '\n');
		free(t);
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
