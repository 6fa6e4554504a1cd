/*
 * pd-cluster — hierarchical clustering of video embeddings (DESIGN.md §3).
 *
 * Training (the default): every video record is read (records examined on a
 * second core; only the embeddings stay in memory), the macro/meso/micro
 * hierarchy is built (lib/cluster.h), then the stream is read again and
 * written in order, each video with "cluster" and "cluster_sim" added,
 * followed by one "cluster" record per cluster.  --assign CLUSTERS: each
 * video is placed into the hierarchy of CLUSTERS as it streams by, exactly
 * as training would have placed it, and drift is reported.
 *
 * What is read of each line, what passes through unclustered or is dropped,
 * and what is kept between the two readings is lib/clusterio.h's; this file
 * is options, the threads (ahead.h) and messages.
 */
#include "ahead.h"
#include "cli.h"
#include "../lib/cluster.h"
#include "../lib/clusterio.h"
#include "../lib/video.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: pd-cluster [OPTION]... [FILE]...\n"
	"Cluster video embeddings into macro, meso and micro clusters, or place\n"
	"videos into an existing hierarchy.\n"
	"\n"
	"      --seed N          random seed (default 1)\n"
	"      --assign CLUSTERS place videos into the clusters of file CLUSTERS\n"
	"      --previous CLUSTERS  keep the ids of clusters that persist from CLUSTERS\n"
	"      --match-sim X     centroid similarity for a cluster to persist (default 0.9)\n"
	"      --macro MIN-MAX   macro cluster sizes (default 1000-10000)\n"
	"      --meso MIN-MAX    meso cluster sizes (default 100-1000)\n"
	"      --micro MIN-MAX   micro cluster sizes (default 10-100)\n"
	"      --iter N          k-means iterations per split at most (default 20)\n"
	"      --radius-share X  share of members within a cluster's radius (default 0.9)\n"
	"      --labels N        label terms per cluster (default 5)\n"
	"      --high X          perf counted as high from X (default 2.0)\n"
	CLI_COMMON_HELP;

enum {
	OPT_SEED = CLI_OPT_FIRST_OWN, OPT_ASSIGN, OPT_PREVIOUS, OPT_MATCH_SIM, OPT_MACRO, OPT_MESO,
	OPT_MICRO, OPT_ITER, OPT_RADIUS, OPT_LABELS, OPT_HIGH
};

static const struct option longopts[] = {
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "assign", required_argument, NULL, OPT_ASSIGN },
	{ "previous", required_argument, NULL, OPT_PREVIOUS },
	{ "match-sim", required_argument, NULL, OPT_MATCH_SIM },
	{ "macro", required_argument, NULL, OPT_MACRO },
	{ "meso", required_argument, NULL, OPT_MESO },
	{ "micro", required_argument, NULL, OPT_MICRO },
	{ "iter", required_argument, NULL, OPT_ITER },
	{ "radius-share", required_argument, NULL, OPT_RADIUS },
	{ "labels", required_argument, NULL, OPT_LABELS },
	{ "high", required_argument, NULL, OPT_HIGH },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static void parse_band(const char *opt, const char *arg, size_t *lo, size_t *hi)
{
	char *end;
	unsigned long a = strtoul(arg, &end, 10);
	if (end == arg || *end != '-')
		cli_usage_error("%s takes MIN-MAX, not '%s'", opt, arg);
	const char *b = end + 1;
	unsigned long c = strtoul(b, &end, 10);
	if (end == b || *end || a < 1 || c < a)
		cli_usage_error("%s takes MIN-MAX with 1 <= MIN <= MAX, not '%s'", opt, arg);
	*lo = a;
	*hi = c;
}

/* ---- reading cluster records (for --assign and --previous): lib/cluster.h ---- */

static void load_hier(const char *path, pd_hier *h)
{
	pd_err err;
	if (pd_hier_load_file(path, cli.max_line, h, &err) < 0)
		cli_fatal(2, "%s", err.msg);
}

static void warn_unclustered(const cli_aline *l)
{
	cli_warn("%s:%ld: video without an embedding (or with a zero one) passes through "
		 "unclustered", l->file, l->lineno);
}

static void warn_no_embeddings(unsigned long long n, const char *what)
{
	cli_warn("no embeddings found: %llu video%s, none with an embedding; nothing %s", n,
		 n == 1 ? "" : "s", what);
}

/* ---- reading a chunk ahead (ahead.h), examined by lib/clusterio.h ---- */

/* helper thread: room for the chunk's lines */
static void setup_chunk(cli_chunk *c, void *ud)
{
	(void)ud;
	if (!c->user)
		c->user = pd_clbatch_new();
	pd_clbatch_reset(c->user, c->cap);
}

/* line i examined (and, with --assign, placed) into arena `who`: either thread */
static void examine_line(cli_chunk *c, int i, int who, const pd_hier *h)
{
	const cli_aline *l = &c->l[i];
	pd_clbatch_examine(c->user, i, who, l->what == PD_LINE_OK ? c->text.p + l->off : NULL,
			   l->len, h);
}

static void parse_line(cli_chunk *c, int i, int who, void *ud)
{
	(void)ud;
	examine_line(c, i, who, NULL);
}

static void free_chunk(cli_chunk *c, void *ud)
{
	(void)ud;
	pd_clbatch_free(c->user);
	c->user = NULL;
}

/*
 * report: what taking line i gave (k, err), told: a rejected line to
 * --rejects, the first video without a direction warned of.  Returns k.
 */
static int report(const cli_chunk *c, int i, int k, const pd_clstream *s, const pd_err *err)
{
	const cli_aline *l = &c->l[i];
	if (k == PD_CLL_REJECT)
		cli_reject(l->file, l->lineno, c->text.p + l->off, l->len, "%s", err->msg);
	else if (k == PD_CLL_UNCLUSTERED && s->unclustered == 1)
		warn_unclustered(l);
	return k;
}

/* training's first reading: each line taken in order and kept (clusterio.h) */
static void take_chunk(cli_chunk *c, void *ud)
{
	pd_cltrain *t = ud;
	for (int i = 0; i < c->n; i++) {
		if (!cli_ahead_take(c, i))
			continue;
		const cli_aline *l = &c->l[i];
		pd_err err;
		int k = pd_cltrain_take(t, c->user, i, c->text.p + l->off, l->len, &err);
		if (k == -1)
			cli_fatal_err(&err);
		report(c, i, k, &t->s, &err);
	}
}

static const cli_ahead_ops train_ahead = { NULL, setup_chunk, parse_line, take_chunk, free_chunk, 0 };

/* ---- --assign: videos placed as they stream by, a chunk read ahead ---- */

typedef struct assign {
	const pd_hier *h;
	pd_clstream s;
	pd_drift drift;
} assign;

static void place_line(cli_chunk *c, int i, int who, void *ud)
{
	examine_line(c, i, who, ((const assign *)ud)->h);
}

static void assign_chunk(cli_chunk *c, void *ud)
{
	assign *as = ud;
	for (int i = 0; i < c->n; i++) {
		if (!cli_ahead_take(c, i))
			continue;
		pd_err err;
		int k = report(c, i, pd_clstream_take(&as->s, c->user, i, &err), &as->s, &err);
		const char *line = c->text.p + c->l[i].off;
		size_t len = c->l[i].len;
		if (k == PD_CLL_REJECT)
			continue;
		if (k == PD_CLL_OTHER || k == PD_CLL_OLD_CLUSTER || k == PD_CLL_UNCLUSTERED) {
			cli_passthrough(line, len);
			continue;
		}
		float sim;
		const int *nodes = pd_clbatch_placed(c->user, i, &sim);
		pd_drift_add(&as->drift, as->h, nodes, sim);
		if (pd_cluster_video_write(&cli_out, line, len, k == PD_CLL_REPLACE, as->h, nodes, sim,
					   &err) < 0)
			abort();	/* the line was parsed before: cannot be malformed */
		cli.records_out++;
		cli_record_done();
	}
}

static const cli_ahead_ops assign_ahead = { NULL, setup_chunk, place_line, assign_chunk, free_chunk, 0 };

static int run_assign(int argc, char **argv, const char *path)
{
	pd_hier h;
	load_hier(path, &h);
	assign as = { &h, { h.d, 0, 0 }, { NULL, NULL, 0, 0 } };
	pd_drift_init(&as.drift, &h);
	const pd_drift *dr = &as.drift;
	pd_input *in = cli_open_input(argc, argv);
	cli_read_ahead(in, cli.unbuffered ? 1 : 1024, 8u << 20, &assign_ahead, &as);
	pd_input_free(in);
	/* drift: one record per micro cluster that received videos */
	for (int c = h.level_start[PD_MICRO]; c < h.n; c++) {
		if (!dr->n[c])
			continue;
		pd_drift_record_write(&cli_out, &h, c, dr->n[c], dr->beyond[c]);
		cli.records_out++;
		cli_record_done();
	}
	if (!dr->placed && as.s.unclustered)
		warn_no_embeddings(as.s.unclustered, "was placed (run pd-embed --model FILE before "
				   "pd-cluster --assign)");
	cli_metric_str("mode", "assign");
	cli_metric_num("videos", (double)dr->placed);
	cli_metric_num("unclustered", (double)as.s.unclustered);
	cli_metric_num("drift_share", dr->placed ? (double)dr->beyond_total / (double)dr->placed : 0);
	cli_metric_num("clusters_macro", h.level_count[PD_MACRO]);
	cli_metric_num("clusters_meso", h.level_count[PD_MESO]);
	cli_metric_num("clusters_micro", h.level_count[PD_MICRO]);
	pd_drift_release(&as.drift);
	pd_hier_release(&h);
	return cli_finish();
}

/* ---- the output: the stream read again ---- */

typedef struct outchunk {
	pd_buf out;		/* the chunk's output lines */
	unsigned long long nrec;
	int fault;		/* 1 a read error, 2 more lines than the first time */
	pd_err err;
} outchunk;

/* helper thread: the output lines of chunk c, in order */
static void out_prepare(cli_chunk *c, void *ud)
{
	if (!c->user)
		c->user = xcalloc(1, sizeof(outchunk));
	outchunk *u = c->user;
	pd_buf_reset(&u->out);
	u->nrec = 0;
	u->fault = 0;
	for (int i = 0; i < c->n && !u->fault; i++) {
		const cli_aline *l = &c->l[i];
		if (l->what == PD_LINE_TOOLONG)
			continue;	/* rejected at the first reading */
		if (l->what != PD_LINE_OK) {
			u->fault = 1;
			u->err = l->err;
			break;
		}
		int r = pd_cltrain_out(ud, c->text.p + l->off, l->len, &u->out, &u->err);
		if (r < 0)
			u->fault = 2;
		else
			u->nrec += (unsigned)r;
	}
}

static void out_use(cli_chunk *c, void *ud)
{
	(void)ud;
	outchunk *u = c->user;
	if (u->out.len)
		cli_write_lines(u->out.p, u->out.len, u->nrec);
	if (u->fault == 1)
		cli_fatal(3, "%s", u->err.msg);
	if (u->fault == 2)
		cli_fatal(2, "%s", u->err.msg);
}

static void out_release(cli_chunk *c, void *ud)
{
	(void)ud;
	outchunk *u = c->user;
	if (!u)
		return;
	pd_buf_release(&u->out);
	free(u);
	c->user = NULL;
}

static const cli_ahead_ops out_ahead = { NULL, out_prepare, NULL, out_use, out_release, 1 };

int main(int argc, char **argv)
{
	cli_init("pd-cluster", "cluster", usage);
	pd_hier_opts ho;
	pd_hier_opts_default(&ho);
	ho.seed = 1;
	const char *assign = NULL, *previous = NULL;
	double match_sim = 0.9, high = 2.0;
	int nlabels = 5;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SEED: ho.seed = (uint64_t)cli_parse_long("--seed", optarg, 0, 0x7fffffffffffffffL); break;
		case OPT_ASSIGN: assign = optarg; break;
		case OPT_PREVIOUS: previous = optarg; break;
		case OPT_MATCH_SIM: match_sim = cli_parse_double("--match-sim", optarg, -1, 1); break;
		case OPT_MACRO: parse_band("--macro", optarg, &ho.band_min[0], &ho.band_max[0]); break;
		case OPT_MESO: parse_band("--meso", optarg, &ho.band_min[1], &ho.band_max[1]); break;
		case OPT_MICRO: parse_band("--micro", optarg, &ho.band_min[2], &ho.band_max[2]); break;
		case OPT_ITER: ho.max_iter = (int)cli_parse_long("--iter", optarg, 1, 1000); break;
		case OPT_RADIUS: ho.radius_share = cli_parse_double("--radius-share", optarg, 0.01, 1); break;
		case OPT_LABELS: nlabels = (int)cli_parse_long("--labels", optarg, 0, 100); break;
		case OPT_HIGH: high = cli_parse_double("--high", optarg, 0, 1e9); break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (assign && previous)
		cli_usage_error("--assign and --previous do not go together");
	cli_after_options();
	char **files = argv + optind;
	int nfiles = argc - optind;
	if (assign)
		return run_assign(nfiles, files, assign);

	pd_hier prev;
	if (previous)
		load_hier(previous, &prev);

	/* the first reading */
	pd_cltrain t;
	pd_err err;
	if (pd_cltrain_init(&t, files, nfiles, &err) < 0)
		cli_fatal_err(&err);
	pd_input *in = cli_open_input(nfiles, files);
	cli_read_ahead(in, 1024, 8u << 20, &train_ahead, &t);
	pd_input_free(in);
	if (previous && t.n && prev.d != t.s.d)
		cli_fatal(2, "%s: centroids of dimension %d, the videos' embeddings have %d", previous,
			  prev.d, t.s.d);

	if (t.n) {
		double t0 = cli_now();
		if (pd_cltrain_build(&t, &ho, &err) < 0)
			cli_fatal_err(&err);
		cli_metric_num("seconds_clustering", round((cli_now() - t0) * 1e3) / 1e3);
		if (previous)
			cli_metric_num("ids_kept", pd_hier_match_previous(&t.h, &prev, match_sim));
	}

	/* the stream again, in order, read a chunk ahead (the output lines are
	   made on the helper thread too) */
	pd_input *again = pd_cltrain_reread(&t, files, nfiles, cli.max_line, &err);
	if (!again)
		cli_fatal_err(&err);
	cli_read_ahead(again, 1024, 8u << 20, &out_ahead, &t);
	if (pd_cltrain_reread_end(&t, &err) < 0)
		cli_fatal_err(&err);
	pd_input_free(again);
	if (t.n) {
		/* the cluster records, summaries from lib/cluster.h */
		pd_cl_summary *s = pd_cltrain_summarise(&t, nlabels, high);
		for (int k = 0; k < t.h.n; k++) {
			pd_cluster_record_write(&cli_out, &t.h, k, &s[k]);
			cli.records_out++;
			cli_record_done();
		}
		pd_cl_summaries_free(s, t.h.n);
		cli_metric_num("videos", (double)t.n);
		cli_metric_num("levels", pd_hier_depth(&t.h));
		for (int L = 0; L < PD_NLEVELS; L++) {
			char key[64];
			snprintf(key, sizeof key, "clusters_%s", pd_level_name[L]);
			cli_metric_num(key, t.h.level_count[L]);
			snprintf(key, sizeof key, "mean_sim_%s", pd_level_name[L]);
			cli_metric_num(key, round(pd_cltrain_mean_sim(&t, L) * 1e6) / 1e6);
		}
	} else {
		if (t.s.unclustered)
			warn_no_embeddings(t.s.unclustered, "was clustered (run pd-embed before "
					   "pd-cluster)");
		cli_metric_num("videos", 0);
		cli_metric_num("levels", 0);
	}
	cli_metric_num("unclustered", (double)t.s.unclustered);
	cli_metric_num("old_clusters_dropped", (double)t.s.old_clusters);
	if (previous)
		pd_hier_release(&prev);
	pd_cltrain_release(&t);
	return cli_finish();
}
