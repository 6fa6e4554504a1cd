/*
 * pd-mine — find the features that make videos over-perform inside each
 * cluster, with honest statistics (lib/mine.h does the work).
 *
 * Every record passes through in order (video records unchanged but for a
 * "holdout":true mark on held-out videos); pattern records and one
 * mine_summary record follow at the end.  With --holdout FRACTION the newest
 * videos are known only once all are read, so the records are spooled to a
 * temporary file and written after the first pass; otherwise they stream.
 *
 * With --shard I/N every record is read (the holdout cut, the channels and
 * the tests counted are those of the whole run) but only the clusters of
 * shard I are mined; shard 1 writes the input records through and shards
 * 2..N only what they make, so the shards' outputs concatenated are one
 * stream, each input record once, for pd-validate to finish over.
 */
#include "cli.h"
#include "../lib/mine.h"
#include "../lib/cluster.h"
#include "../lib/video.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: pd-mine [OPTION]... [FILE]...\n"
	"Find title, format, duration, timing, tag and description features that make\n"
	"videos over-perform inside each cluster (records from pd-cluster), with exact\n"
	"tests, confidence intervals and support; write every record through, then\n"
	"pattern records and a mine_summary record.  With no FILE, or when FILE is -,\n"
	"read standard input.\n"
	"\n"
	"Mining:\n"
	"      --performance-threshold X  perf >= X is a high performer (default 2.0)\n"
	"      --min-cluster-size N  videos with a perf a cluster needs (default 30)\n"
	"      --min-high N      high performers with the feature (default 0: the rank\n"
	"                        test on perf counts every video)\n"
	"      --min-support N   videos with the feature (default 10)\n"
	"      --min-channels N  distinct channels among the videos with the feature\n"
	"                        (default 3)\n"
	"      --max-channel-share S  the share of them one channel may hold (default\n"
	"                        0.5; pd-validate rejects the rest)\n"
	"      --alpha P         keep candidates whose one-sided rank test on perf gives\n"
	"                        p <= P (default 0.05)\n"
	"      --confidence L    level of the effect's and the lift's intervals (default 0.95)\n"
	"      --top N           patterns kept per cluster and direction (default 10)\n"
	"      --max-ngram N     title n-grams of 1..N words, N <= 3 (default 3)\n"
	"      --no-pairs        do not mine conjunctions of two features\n"
	"      --pair-pool N     best single features per cluster that are paired (default 6)\n"
	"      --negative        also report features that under-perform\n"
	"      --examples N      example videos per pattern (default 5, at most 16)\n"
	"      --tz OFFSET       time zone of weekday and hour features: Z, +HH:MM, -HH:MM\n"
	"                        (default Z)\n"
	"      --holdout F|DATE  leave the newest videos out of mining and mark them\n"
	"                        \"holdout\":true: a fraction (default 0.3; 0: none) or\n"
	"                        those published at or after DATE (RFC 3339)\n"
	"      --time-blocks N   publication-time blocks of the evergreen/trend check\n"
	"                        (default 4, 2 to 8)\n"
	"      --shard I/N       mine only the macro clusters (with their children) planned\n"
	"                        for shard I of N (default 1/1); shards 2..N write only\n"
	"                        their patterns and mine_summary, not the input records\n"
	"      --threads N       worker threads (default 2)\n"
	"\n"
	CLI_RECORDS_HELP_END("an I/O failure");

enum { OPT_THR = CLI_OPT_FIRST_OWN, OPT_MINC, OPT_MINH, OPT_MINS, OPT_MINCH, OPT_MAXCH, OPT_ALPHA, OPT_CONF,
       OPT_TOP, OPT_NGRAM, OPT_NOPAIRS, OPT_POOL, OPT_NEG, OPT_EX, OPT_TZ, OPT_HOLD, OPT_SHARD,
       OPT_THREADS, OPT_BLOCKS };

static const struct option longopts[] = {
	{ "performance-threshold", required_argument, NULL, OPT_THR },
	{ "min-cluster-size", required_argument, NULL, OPT_MINC },
	{ "min-high", required_argument, NULL, OPT_MINH },
	{ "min-support", required_argument, NULL, OPT_MINS },
	{ "min-channels", required_argument, NULL, OPT_MINCH },
	{ "max-channel-share", required_argument, NULL, OPT_MAXCH },
	{ "alpha", required_argument, NULL, OPT_ALPHA },
	{ "confidence", required_argument, NULL, OPT_CONF },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "max-ngram", required_argument, NULL, OPT_NGRAM },
	{ "no-pairs", no_argument, NULL, OPT_NOPAIRS },
	{ "pair-pool", required_argument, NULL, OPT_POOL },
	{ "negative", no_argument, NULL, OPT_NEG },
	{ "examples", required_argument, NULL, OPT_EX },
	{ "tz", required_argument, NULL, OPT_TZ },
	{ "holdout", required_argument, NULL, OPT_HOLD },
	{ "time-blocks", required_argument, NULL, OPT_BLOCKS },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "threads", required_argument, NULL, OPT_THREADS },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* write a video line, with "holdout":true added when held out here */
static void emit_video(const char *line, size_t len, int mark)
{
	if (!mark) {
		cli_passthrough(line, len);
		return;
	}
	const char *val;
	size_t vl;
	if (pd_json_find(line, len, "holdout", &val, &vl, NULL) == 1) {
		pd_record r = PD_RECORD_INIT;
		pd_err err;
		if (pd_record_parse(&r, line, len, &err) == 0) {
			pd_json_set(r.json, "holdout", cJSON_CreateTrue());
			r.modified = 1;
			cli_write_record(&r, PD_EMB_NONE);
		} else {
			cli_passthrough(line, len);
		}
		pd_record_release(&r);
		return;
	}
	size_t end = len;
	while (end > 0 && line[end - 1] != '}')
		end--;
	if (end == 0) {
		cli_passthrough(line, len);
		return;
	}
	pd_buf_add(&cli_out, line, end - 1);
	/* an empty object "{}" cannot be a video (it has an id), so a comma is right */
	pd_buf_adds(&cli_out, ",\"holdout\":true}\n");
	cli.records_out++;
	cli_record_done();
}

int main(int argc, char **argv)
{
	cli_init("pd-mine", "mine", usage);
	pd_mine_opts o;
	pd_mine_opts_default(&o);
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_THR: o.threshold = cli_parse_double("--performance-threshold", optarg, 1e-9, 1e9); break;
		case OPT_MINC: o.min_cluster = (int)cli_parse_long("--min-cluster-size", optarg, 2, 1000000000); break;
		case OPT_MINH: o.min_high = (int)cli_parse_long("--min-high", optarg, 0, 1000000000); break;
		case OPT_MINS: o.min_with = (int)cli_parse_long("--min-support", optarg, 2, 1000000000); break;
		case OPT_MINCH: o.min_channels = (int)cli_parse_long("--min-channels", optarg, 1, 1000000000); break;
		case OPT_MAXCH: o.max_channel_share = cli_parse_double("--max-channel-share", optarg, 0, 1); break;
		case OPT_ALPHA: o.alpha = cli_parse_double("--alpha", optarg, 0, 1); break;
		case OPT_CONF: o.ci_level = cli_parse_double("--confidence", optarg, 0.5, 0.999999); break;
		case OPT_TOP: o.top = (int)cli_parse_long("--top", optarg, 1, 1000000); break;
		case OPT_NGRAM: o.max_ngram = (int)cli_parse_long("--max-ngram", optarg, 1, 3); break;
		case OPT_NOPAIRS: o.pairs = 0; break;
		case OPT_POOL: o.pair_pool = (int)cli_parse_long("--pair-pool", optarg, 0, 1000); break;
		case OPT_NEG: o.negative = 1; break;
		case OPT_BLOCKS: o.time_blocks = (int)cli_parse_long("--time-blocks", optarg, 2, PD_MAX_BLOCKS); break;
		case OPT_EX: o.examples = (int)cli_parse_long("--examples", optarg, 0, 16); break;
		case OPT_THREADS: o.threads = (int)cli_parse_long("--threads", optarg, 1, 16); break;
		case OPT_TZ:
			if (pd_tz_parse(optarg, &o.tz_offset_s) < 0)
				cli_usage_error("invalid --tz '%s' (Z, +HH:MM or -HH:MM)", optarg);
			break;
		case OPT_HOLD: {
			char *end;
			double f = strtod(optarg, &end);
			if (*optarg && !*end && strchr(optarg, '-') == NULL) {
				if (!(f >= 0 && f < 1))
					cli_usage_error("--holdout fraction '%s' is not in [0, 1)", optarg);
				o.holdout_fraction = f;
				o.holdout_before = NAN;
			} else if (pd_time_parse(optarg, &o.holdout_before) < 0) {
				cli_usage_error("invalid --holdout '%s' (a fraction or an RFC 3339 date)", optarg);
			} else {
				o.holdout_fraction = 0;
			}
			break;
		}
		case OPT_SHARD: {
			int i, n;
			char rest;
			if (sscanf(optarg, "%d/%d%c", &i, &n, &rest) != 2 || n < 1 || i < 1 || i > n || n > 10000)
				cli_usage_error("invalid --shard '%s' (I/N with 1 <= I <= N <= 10000)", optarg);
			o.shard_i = i;
			o.shard_n = n;
			break;
		}
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	cli_after_options();

	pd_miner *m = pd_miner_new(&o);
	long with_cluster = 0, with_perf = 0;	/* for the warnings at the end */
	int pass = o.shard_i == 1;	/* shard 1 writes the input records through */
	int spool = pass && o.holdout_fraction > 0;
	FILE *sp = NULL;
	long *seqs = NULL;
	size_t nseq = 0, capseq = 0;
	pd_err sp_err;
	if (spool && !(sp = pd_tmpfile(&sp_err)))
		cli_fatal_err(&sp_err);

	pd_input *in = cli_open_input(argc - optind, argv + optind);
	const char *line;
	size_t len;
	pd_record r = PD_RECORD_INIT;
	pd_jobj jo = PD_JOBJ_INIT;	/* a video scanned without a tree (record.h) */
	char type[32];
	while (cli_next_record(in, &line, &len, type)) {
		pd_err err;
		long seq = -1;
		int mark = 0;
		if (strcmp(type, "video") == 0) {
			pd_video v;
			int scanned = pd_record_scan(&r, &jo, line, len) == 0;
			if (!scanned && pd_record_parse(&r, line, len, &err) < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
			if (r.dim && !cli_stream_dim(r.dim)) {
				cli_reject(CLI_POS(in), line, len, "embedding has %d dimensions, the stream %d",
					   r.dim, cli.dim);
				continue;
			}
			if ((scanned ? pd_video_from_jobj(&jo, &v, &err) : pd_video_from_json(r.json, &v, &err)) < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
			/* scanned: the cluster member's own text parsed (a few ids) */
			cJSON *clown = NULL;
			pd_jv cjv;
			if (scanned && pd_jobj_get(&jo, "cluster", &cjv))
				clown = cJSON_ParseWithLength(cjv.raw, cjv.rawlen);
			const cJSON *cl = scanned ? clown : cJSON_GetObjectItemCaseSensitive(r.json, "cluster");
			const char *ids[3] = { NULL, NULL, NULL };
			if (cl && !cJSON_IsNull(cl)) {
				static const char *const lv[3] = { "macro", "meso", "micro" };
				int bad = !cJSON_IsObject(cl);
				for (int l = 0; l < 3 && !bad; l++) {
					const cJSON *x = cJSON_GetObjectItemCaseSensitive(cl, lv[l]);
					if (x && !cJSON_IsNull(x) && !cJSON_IsString(x))
						bad = 1;
					else if (x && cJSON_IsString(x))
						ids[l] = x->valuestring;
				}
				if (bad) {
					pd_video_release(&v);
					cJSON_Delete(clown);
					cli_reject(CLI_POS(in), line, len,
						   "'cluster' is not an object of string ids (macro, meso, micro)");
					continue;
				}
			}
			with_cluster += ids[0] || ids[1] || ids[2];
			with_perf += isfinite(v.perf);
			seq = pd_miner_add_video(m, &v, ids);
			mark = pd_miner_is_holdout(m, seq) == 1;
			pd_video_release(&v);
			cJSON_Delete(clown);
		} else if (strcmp(type, "cluster") == 0) {
			if (pd_record_parse(&r, line, len, &err) < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
			const char *id = pd_json_str(r.json, "id");
			if (!id || !*id) {
				cli_reject(CLI_POS(in), line, len, "cluster has no string 'id'");
				continue;
			}
			char *lbl = pd_cluster_label(cJSON_GetObjectItemCaseSensitive(r.json, "label"));
			int rc = pd_miner_add_cluster(m, id, pd_json_str(r.json, "level"), pd_json_str(r.json, "parent"),
						      pd_json_num(r.json, "size", NAN), pd_json_str(r.json, "centroid_b64"),
						      pd_json_num(r.json, "radius", NAN), lbl, &err);
			free(lbl);
			if (rc < 0) {
				cli_reject(CLI_POS(in), line, len, "%s", err.msg);
				continue;
			}
		}
		if (!pass) {
			continue;
		} else if (spool) {
			if (nseq == capseq) {
				capseq = capseq ? 2 * capseq : 1024;
				seqs = xreallocarray(seqs, capseq, sizeof *seqs);
			}
			seqs[nseq++] = seq;
			if (fwrite(line, 1, len, sp) != len || putc('\n', sp) == EOF)
				cli_fatal(3, "cannot write the temporary file");
		} else if (seq >= 0) {
			emit_video(line, len, mark);
		} else {
			cli_passthrough(line, len);
		}
	}
	pd_record_release(&r);
	pd_jobj_release(&jo);
	pd_input_free(in);

	pd_miner_holdout(m);
	if (spool) {
		if (fflush(sp) != 0 || fseek(sp, 0, SEEK_SET) != 0)
			cli_fatal(3, "cannot read the temporary file back");
		char *buf = NULL;
		size_t cap = 0;
		ssize_t n;
		for (size_t i = 0; i < nseq && (n = getline(&buf, &cap, sp)) > 0; i++) {
			long seq = seqs[i];
			emit_video(buf, (size_t)n - 1, seq >= 0 && pd_miner_is_holdout(m, seq) == 1);
		}
		free(buf);
		fclose(sp);
		free(seqs);
	}
	pd_err err;
	if (pd_miner_run(m, &err) < 0)
		cli_fatal_err(&err);
	pd_miner_write_patterns(m, &cli_out);
	pd_miner_write_summary(m, &cli_out);
	cli_record_done();
	pd_mine_counts k;
	pd_miner_counts(m, &k);
	cli.records_out += (unsigned long long)k.patterns + 1;
	/* a run that mines nothing says why */
	if (k.videos && !k.clusters) {
		if (o.shard_n > 1 && with_cluster && with_perf)
			cli_warn("no cluster to mine in shard %d/%d (fewer macro clusters big enough "
				 "than shards)", o.shard_i, o.shard_n);
		else if (!with_cluster)
			cli_warn("no video has a \"cluster\": nothing to mine (run pd-cluster first)");
		else if (!with_perf)
			cli_warn("no video has a \"perf\": nothing to mine (pd-fetch computes it for "
				 "channels with enough videos for a baseline)");
		else
			cli_warn("no cluster has %d videos with a perf outside the holdout, with high and "
				 "other performers: nothing mined (--min-cluster-size)", o.min_cluster);
	}
	cli_metric_num("tests", (double)k.tests);
	cli_metric_num("clusters", (double)k.clusters);
	cli_metric_num("patterns", (double)k.patterns);
	cli_metric_num("holdout", (double)k.holdout);
	cli_metric_num("features", (double)k.atoms);
	if (o.shard_n > 1) {
		char sh[32];
		snprintf(sh, sizeof sh, "%d/%d", o.shard_i, o.shard_n);
		cli_metric_str("shard", sh);
	}
	pd_miner_free(m);
	return cli_finish();
}
