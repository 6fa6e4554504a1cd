/*
 * pd-cluster — hierarchical clustering of video embeddings (DESIGN.md §3).
 *
 * Training (the default): every video record is read (records parsed on a
 * second core; only the embeddings stay in memory), the macro/meso/micro
 * hierarchy is built (lib/cluster.h), then the stream is read again —
 * input files a second time, standard input or gzip from a temporary file
 * it was kept in — and written in order, each video with "cluster" and
 * "cluster_sim" added, followed by one "cluster" record per cluster.
 *
 * --assign CLUSTERS: no clustering; each video is placed into the hierarchy
 * of the cluster records in CLUSTERS as it streams by, exactly as training
 * would have placed it, and drift is reported.
 *
 * Videos without an embedding, or with an all-zero one (pd-embed gives that
 * to a video none of whose terms is in its vocabulary), pass through
 * unclustered, with one warning and a count in the metric record; an embedding of another dimension than the
 * first one is a rejected record.  Cluster records in the
 * input (from an earlier run) are dropped and counted: this run's replace them.
 */
#include "ahead.h"
#include "cli.h"
#include "../lib/cluster.h"
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

/* ---- the output of one video: lib/cluster.h ---- */

static void format_video(pd_buf *out, const char *line, size_t len, int had_cluster,
			 const pd_hier *h, const int *nodes, float sim)
{
	pd_err err;
	if (pd_cluster_video_write(out, line, len, had_cluster, h, nodes, sim, &err) < 0)
		abort();	/* the line was parsed before: cannot be malformed */
}

static void write_video(const char *line, size_t len, int had_cluster, const pd_hier *h,
			const int *nodes, float sim)
{
	format_video(&cli_out, line, len, had_cluster, h, nodes, sim);
	cli.records_out++;
	cli_record_done();
}

/* ---- reading cluster records (for --assign and --previous): lib/cluster.h ---- */

static void load_hier(const char *path, pd_hier *h)
{
	pd_err err;
	if (pd_hier_load_file(path, cli.max_line, h, &err) < 0)
		cli_fatal(2, "%s", err.msg);
}

/* ---- the cluster records, summaries from lib/cluster.h ---- */

static void write_clusters(const pd_hier *h, const int *memb, const pd_cl_videos *v, int nlabels,
			   double high)
{
	pd_cl_summary *s = pd_hier_summarise(h, memb, v, nlabels, high);
	for (int c = 0; c < h->n; c++) {
		pd_cluster_record_write(&cli_out, h, c, &s[c]);
		cli.records_out++;
		cli_record_done();
	}
	pd_cl_summaries_free(s, h->n);
}

/*
 * examine_video: a video record parsed into r, read into v, its embedding
 * normalised.  Returns -1 (err: the line is to be rejected), 0 (no
 * embedding, or a zero one: unclustered), 1 (to cluster) or 2 (to cluster,
 * and it carries clusters of an earlier run, which its output replaces).
 * Whether its dimension is the stream's is the caller's to check (r->dim),
 * before anything else.
 */
static int examine_video(pd_record *r, pd_jobj *o, pd_video *v, pd_err *err)
{
	if ((o ? pd_video_from_jobj(o, v, err) : pd_video_from_json(r->json, v, err)) < 0)
		return -1;
	if (r->dim == 0 || pd_vec_normalize(r->emb, r->dim) <= 0)
		return 0;	/* no direction (pd-embed found no known term): unclustered */
	pd_jv jv;
	if (o ? pd_jobj_get(o, "cluster", &jv) || pd_jobj_get(o, "cluster_sim", &jv)
	      : cJSON_GetObjectItemCaseSensitive(r->json, "cluster") ||
		cJSON_GetObjectItemCaseSensitive(r->json, "cluster_sim"))
		return 2;
	return 1;
}

/* the stream's dimension: the first embedding's; another one is rejected */
static int check_dim(int dim, int *d, const char *file, long lineno, const char *line, size_t len)
{
	if (dim == 0)
		return 0;
	if (*d == 0)
		*d = dim;
	if (dim != *d) {
		cli_reject(file, lineno, line, len, "embedding of dimension %d, expected %d", dim, *d);
		return -1;
	}
	return 0;
}

static unsigned long long unclustered;

static void warn_unclustered(const char *file, long lineno)
{
	if (!unclustered++)
		cli_warn("%s:%ld: video without an embedding (or with a zero one) passes through "
			 "unclustered", file, lineno);
}


/* ---- reading the stream for training ---- */

/*
 * Records are read and parsed a chunk ahead on a second core (ahead.h): the
 * helper examines each line of a chunk (type, record, embedding) into the
 * chunk's results; this thread then takes the chunk in order — rejects, the
 * stream's dimension, the spill, the embeddings and what the labels and
 * statistics need — so the result is the same as reading on one thread.
 */
enum { L_NONE = -5, L_OTHER = -4, L_OLD_CLUSTER = -3, L_REJECT = -2 };

/* what a thread keeps of the lines it prepares (two may at once) */
typedef struct arena {
	pd_record rec;		/* reused */
	pd_jobj obj;
	float *embs;
	size_t nembs, cembs;
	pd_buf str;
} arena;

typedef struct lres {
	int cap;		/* lines the arrays have room for */
	int *k;			/* per line: examine_video's answer, or L_* */
	int *dim;
	unsigned char *who;	/* per line: the arena it was prepared into */
	double *perf;
	long *chan, *title, *msg;	/* per line: offsets in str, -1 for none */
	size_t *emb;		/* per line: the first of its floats in embs */
	int *nodes;		/* --assign, per line: its clusters (PD_NLEVELS) */
	float *msim;		/* --assign, per line: similarity to its micro cluster */
	arena a[2];
} lres;

static long keep_str(pd_buf *b, const char *s)
{
	if (!s)
		return -1;
	long at = (long)b->len;
	pd_buf_add(b, s, strlen(s) + 1);
	return at;
}

/* room for the chunk's lines, the arenas emptied */
static void setup_chunk(cli_chunk *c, void *ud)
{
	(void)ud;
	if (!c->user) {
		lres *R0 = xcalloc(1, sizeof *R0);
		for (int w = 0; w < 2; w++) {
			pd_record r0 = PD_RECORD_INIT;
			pd_jobj o0 = PD_JOBJ_INIT;
			R0->a[w].rec = r0;
			R0->a[w].obj = o0;
		}
		c->user = R0;
	}
	lres *R = c->user;
	if (c->n > R->cap) {
		size_t cap = (size_t)c->cap;
		R->k = xreallocarray(R->k, cap, sizeof *R->k);
		R->dim = xreallocarray(R->dim, cap, sizeof *R->dim);
		R->who = xreallocarray(R->who, cap, sizeof *R->who);
		R->perf = xreallocarray(R->perf, cap, sizeof *R->perf);
		R->chan = xreallocarray(R->chan, cap, sizeof *R->chan);
		R->title = xreallocarray(R->title, cap, sizeof *R->title);
		R->msg = xreallocarray(R->msg, cap, sizeof *R->msg);
		R->emb = xreallocarray(R->emb, cap, sizeof *R->emb);
		R->nodes = xreallocarray(R->nodes, cap * PD_NLEVELS, sizeof *R->nodes);
		R->msim = xreallocarray(R->msim, cap, sizeof *R->msim);
		R->cap = c->cap;
	}
	for (int w = 0; w < 2; w++) {
		pd_buf_reset(&R->a[w].str);
		R->a[w].nembs = 0;
	}
}

/* line i examined into arena `who` (ahead.h: on either thread) */
static void parse_line(cli_chunk *c, int i, int who, void *ud)
{
	(void)ud;
	lres *R = c->user;
	arena *A = &R->a[who];
	R->who[i] = (unsigned char)who;
	if (c->l[i].what != PD_LINE_OK)
		return;
	const char *line = c->text.p + c->l[i].off;
	size_t len = c->l[i].len;
	char type[32];
	pd_err err, err2;
	R->chan[i] = R->title[i] = R->msg[i] = -1;
	R->dim[i] = 0;
	/* read at once without a tree when the scan can (json.h), else
	   parsed whole; a line that is neither is told by its type alone,
	   as the other commands tell it */
	int scanned = pd_record_scan(&A->rec, &A->obj, line, len) == 0;
	int parsed = scanned || pd_record_parse(&A->rec, line, len, &err) == 0;
	if (parsed) {
		memcpy(type, A->rec.type, sizeof type);
	} else if (pd_json_type(line, len, type, sizeof type, &err2) != 1) {
		R->k[i] = L_REJECT;
		R->msg[i] = keep_str(&A->str, err2.msg);
		return;
	}
	if (!strcmp(type, "cluster")) {
		R->k[i] = L_OLD_CLUSTER;
		return;
	}
	if (strcmp(type, "video")) {
		R->k[i] = L_OTHER;
		return;
	}
	pd_video v;
	int k = parsed ? examine_video(&A->rec, scanned ? &A->obj : NULL, &v, &err) : -1;
	if (k < 0) {
		R->k[i] = L_REJECT;
		R->msg[i] = keep_str(&A->str, err.msg);
		return;
	}
	R->k[i] = k;
	R->dim[i] = A->rec.dim;
	if (k > 0) {
		size_t dd = (size_t)A->rec.dim;
		if (A->nembs + dd > A->cembs) {
			A->cembs = 2 * (A->nembs + dd);
			A->embs = xreallocarray(A->embs, A->cembs, sizeof *A->embs);
		}
		memcpy(A->embs + A->nembs, A->rec.emb, dd * sizeof *A->embs);
		R->emb[i] = A->nembs;
		A->nembs += dd;
		R->perf[i] = v.perf;
		R->chan[i] = keep_str(&A->str, v.channel_id);
		R->title[i] = keep_str(&A->str, v.title);
	}
	pd_video_release(&v);
}


/* what became of each line read (cli_next_line's), for the second reading */
enum { K_THROUGH = 0, K_VIDEO = 1, K_VIDEO_REPLACE = 2, K_DROPPED = 3 };

typedef struct train {
	FILE *spill;		/* the lines kept, or NULL: the input files are read again */
	uint64_t fingerprint;	/* of the input files, when read again */
	unsigned char *kind;	/* per line: K_* (examine_video's answer for a video) */
	size_t nlines, kcap;
	float *X;		/* the videos to cluster: n x d */
	pd_cl_videos *vids;	/* what their summaries need */
	size_t n, xcap;
	int d;
	unsigned long long old_clusters;
} train;

static void keep_line(train *t, const char *line, size_t len, int kind)
{
	if (t->nlines == t->kcap) {
		t->kcap = t->kcap ? 2 * t->kcap : 4096;
		t->kind = xrealloc(t->kind, t->kcap);
	}
	t->kind[t->nlines++] = (unsigned char)kind;
	if (t->spill && kind != K_DROPPED &&
	    (fwrite(line, 1, len, t->spill) != len || putc('\n', t->spill) == EOF))
		cli_fatal(3, "cannot write the temporary file: %m");
}

/*
 * take_line: line i of a parsed chunk taken in order (training and --assign
 * alike): accounted, rejected when it is bad or of another dimension than
 * *d (the first embedding's), warned of when a video has no direction.
 * Returns L_NONE (not a line: an over-long one or a read error, already
 * reported), L_REJECT (reported), L_OLD_CLUSTER, L_OTHER, or
 * examine_video's 0 (unclustered), 1 or 2.
 */
static int take_line(const cli_chunk *c, int i, int *d)
{
	if (!cli_ahead_take(c, i))
		return L_NONE;
	const lres *R = c->user;
	const cli_aline *l = &c->l[i];
	const char *line = c->text.p + l->off;
	int k = R->k[i];
	if (k == L_REJECT) {
		cli_reject(l->file, l->lineno, line, l->len, "%s", R->a[R->who[i]].str.p + R->msg[i]);
		return L_REJECT;
	}
	if (k == L_OLD_CLUSTER || k == L_OTHER)
		return k;
	if (check_dim(R->dim[i], d, l->file, l->lineno, line, l->len) < 0)
		return L_REJECT;
	if (k == 0)
		warn_unclustered(l->file, l->lineno);
	return k;
}

static void take_chunk(cli_chunk *c, void *ud)
{
	train *t = ud;
	const lres *R = c->user;
	for (int i = 0; i < c->n; i++) {
		int k = take_line(c, i, &t->d);
		if (k == L_NONE)
			continue;
		const char *line = c->text.p + c->l[i].off;
		size_t len = c->l[i].len;
		if (k == L_OLD_CLUSTER)
			t->old_clusters++;
		if (k == L_REJECT || k == L_OLD_CLUSTER) {
			keep_line(t, line, len, K_DROPPED);
			continue;
		}
		if (k == L_OTHER || k == 0) {
			keep_line(t, line, len, K_THROUGH);
			continue;
		}
		const arena *A = &R->a[R->who[i]];
		if (t->n == t->xcap) {
			t->xcap = t->xcap ? 2 * t->xcap : 1024;
			t->X = xreallocarray(t->X, t->xcap * (size_t)t->d, sizeof *t->X);
		}
		memcpy(t->X + t->n * (size_t)t->d, A->embs + R->emb[i], (size_t)t->d * sizeof *t->X);
		pd_cl_videos_add(t->vids, R->title[i] >= 0 ? A->str.p + R->title[i] : NULL,
				 R->chan[i] >= 0 ? A->str.p + R->chan[i] : NULL, R->perf[i]);
		t->n++;
		keep_line(t, line, len, k);
	}
}

static void free_chunk(cli_chunk *c, void *ud)
{
	(void)ud;
	lres *R = c->user;
	if (!R)
		return;
	for (int w = 0; w < 2; w++) {
		pd_record_release(&R->a[w].rec);
		pd_jobj_release(&R->a[w].obj);
		free(R->a[w].embs);
		pd_buf_release(&R->a[w].str);
	}
	free(R->k);
	free(R->dim);
	free(R->perf);
	free(R->chan);
	free(R->title);
	free(R->msg);
	free(R->emb);
	free(R->who);
	free(R->nodes);
	free(R->msim);
	free(R);
	c->user = NULL;
}

static const cli_ahead_ops train_ahead = { NULL, setup_chunk, parse_line, take_chunk, free_chunk, 0 };

/* ---- --assign: videos placed as they stream by, a chunk read ahead ---- */

typedef struct assign {
	const pd_hier *h;
	int d;
	pd_drift drift;
} assign;

/* line i parsed (parse_line) and, a video of the hierarchy's dimension,
   placed: on either thread */
static void place_line(cli_chunk *c, int i, int who, void *ud)
{
	const assign *as = ud;
	parse_line(c, i, who, NULL);
	lres *R = c->user;
	if (c->l[i].what != PD_LINE_OK || R->k[i] <= 0 || R->dim[i] != as->h->d)
		return;
	float sim[PD_NLEVELS];
	pd_hier_place(as->h, R->a[who].embs + R->emb[i], R->nodes + (size_t)i * PD_NLEVELS, sim);
	R->msim[i] = sim[PD_MICRO];
}

static void assign_chunk(cli_chunk *c, void *ud)
{
	assign *as = ud;
	const lres *R = c->user;
	for (int i = 0; i < c->n; i++) {
		int k = take_line(c, i, &as->d);
		if (k == L_NONE || k == L_REJECT)
			continue;
		const char *line = c->text.p + c->l[i].off;
		size_t len = c->l[i].len;
		if (k == L_OTHER || k == L_OLD_CLUSTER || k == 0) {
			cli_passthrough(line, len);
			continue;
		}
		const int *nodes = R->nodes + (size_t)i * PD_NLEVELS;
		pd_drift_add(&as->drift, as->h, nodes, R->msim[i]);
		write_video(line, len, k == 2, as->h, nodes, R->msim[i]);
	}
}

static const cli_ahead_ops assign_ahead = { NULL, setup_chunk, place_line, assign_chunk, free_chunk, 0 };

static int run_assign(int argc, char **argv, const char *path)
{
	pd_hier h;
	load_hier(path, &h);
	assign as = { &h, h.d, { NULL, NULL, 0, 0 } };
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
	if (!dr->placed && unclustered)
		cli_warn("no embeddings found: %llu video%s, none with an embedding; nothing was "
			 "placed (run pd-embed --model FILE before pd-cluster --assign)", unclustered,
			 unclustered == 1 ? "" : "s");
	cli_metric_str("mode", "assign");
	cli_metric_num("videos", (double)dr->placed);
	cli_metric_num("unclustered", (double)unclustered);
	cli_metric_num("drift_share", dr->placed ? (double)dr->beyond_total / (double)dr->placed : 0);
	cli_metric_num("clusters_macro", h.level_count[PD_MACRO]);
	cli_metric_num("clusters_meso", h.level_count[PD_MESO]);
	cli_metric_num("clusters_micro", h.level_count[PD_MICRO]);
	pd_drift_release(&as.drift);
	pd_hier_release(&h);
	return cli_finish();
}

/* ---- the output: the stream read again ---- */

typedef struct outpass {
	const train *t;
	const pd_hier *h;
	const int *memb;
	const float *sim;
	size_t line_at, vi_at;	/* the helper's place in t->kind and memb */
} outpass;

typedef struct outchunk {
	pd_buf out;		/* the chunk's output lines */
	unsigned long long nrec;
	int fault;		/* 1 a read error (err), 2 more lines than the first time */
	pd_err err;
} outchunk;

/* helper thread: the output lines of chunk c, in order */
static void out_prepare(cli_chunk *c, void *ud)
{
	outpass *w = ud;
	const train *t = w->t;
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
		if (t->spill)	/* dropped lines were not kept */
			while (w->line_at < t->nlines && t->kind[w->line_at] == K_DROPPED)
				w->line_at++;
		if (w->line_at == t->nlines) {
			u->fault = 2;
			break;
		}
		int k = t->kind[w->line_at++];
		const char *line = c->text.p + l->off;
		if (k == K_DROPPED)
			continue;
		if (k == K_THROUGH) {
			pd_buf_add(&u->out, line, l->len);
			pd_buf_addc(&u->out, '\n');
		} else {
			format_video(&u->out, line, l->len, k == K_VIDEO_REPLACE, w->h,
				     w->memb + w->vi_at * PD_NLEVELS,
				     w->sim[w->vi_at * PD_NLEVELS + PD_MICRO]);
			w->vi_at++;
		}
		u->nrec++;
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
		cli_fatal(2, "the input files changed while being read; give them on standard "
			  "input instead");
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

/* ---- main ---- */

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
	if (assign)
		return run_assign(argc - optind, argv + optind, assign);

	pd_hier prev;
	int have_prev = 0;
	if (previous) {
		load_hier(previous, &prev);
		have_prev = 1;
	}

	train t;
	memset(&t, 0, sizeof t);
	/* input files are read twice; a stream (or gzip) is kept in a temporary file */
	t.fingerprint = pd_input_fingerprint(argv + optind, argc - optind);
	pd_err sp_err;
	if (!t.fingerprint && !(t.spill = pd_tmpfile(&sp_err)))
		cli_fatal_err(&sp_err);
	t.vids = pd_cl_videos_new();
	pd_input *in = cli_open_input(argc - optind, argv + optind);
	cli_read_ahead(in, 1024, 8u << 20, &train_ahead, &t);
	pd_input_free(in);
	if (have_prev && t.n && prev.d != t.d)
		cli_fatal(2, "%s: centroids of dimension %d, the videos' embeddings have %d", previous,
			  prev.d, t.d);

	pd_hier h;
	int *memb = NULL;
	float *sim = NULL;
	if (t.n) {
		memb = xmalloc(t.n * PD_NLEVELS * sizeof *memb);
		sim = xmalloc(t.n * PD_NLEVELS * sizeof *sim);
		pd_err err;
		double t0 = cli_now();
		if (pd_hier_build(t.X, t.n, t.d, &ho, &h, memb, sim, &err) < 0)
			cli_fatal_err(&err);
		cli_metric_num("seconds_clustering", round((cli_now() - t0) * 1e3) / 1e3);
		if (have_prev)
			cli_metric_num("ids_kept", pd_hier_match_previous(&h, &prev, match_sim));
	}
	free(t.X);

	/* the stream again, in order, read a chunk ahead (the output lines are
	   made on the helper thread too) */
	pd_input *again;
	if (t.spill) {
		if (fflush(t.spill) != 0 || fseek(t.spill, 0, SEEK_SET) != 0)
			cli_fatal(3, "cannot read the temporary file back: %m");
		again = pd_input_open_fd(fileno(t.spill), "(temporary file)", cli.max_line);
	} else {
		if (pd_input_fingerprint(argv + optind, argc - optind) != t.fingerprint)
			cli_fatal(2, "the input files changed while being read; give them on standard "
				  "input instead");
		again = pd_input_open(argv + optind, argc - optind, cli.max_line);
	}
	outpass w = { &t, &h, memb, sim, 0, 0 };
	cli_read_ahead(again, 1024, 8u << 20, &out_ahead, &w);
	if (t.spill)
		while (w.line_at < t.nlines && t.kind[w.line_at] == K_DROPPED)
			w.line_at++;
	if (w.line_at != t.nlines)
		cli_fatal(2, "%s ended early when read again",
			  t.spill ? "the temporary file" : "the input");
	pd_input_free(again);
	if (t.spill)
		fclose(t.spill);
	free(t.kind);
	if (t.n) {
		write_clusters(&h, memb, t.vids, nlabels, high);
		cli_metric_num("videos", (double)t.n);
		cli_metric_num("levels", pd_hier_depth(&h));
		for (int L = 0; L < PD_NLEVELS; L++) {
			char key[64];
			snprintf(key, sizeof key, "clusters_%s", pd_level_name[L]);
			cli_metric_num(key, h.level_count[L]);
			double s = 0;
			for (size_t i = 0; i < t.n; i++)
				s += sim[i * PD_NLEVELS + L];
			snprintf(key, sizeof key, "mean_sim_%s", pd_level_name[L]);
			cli_metric_num(key, round(s / (double)t.n * 1e6) / 1e6);
		}
		pd_hier_release(&h);
	} else {
		if (unclustered)
			cli_warn("no embeddings found: %llu video%s, none with an embedding; nothing "
				 "was clustered (run pd-embed before pd-cluster)", unclustered,
				 unclustered == 1 ? "" : "s");
		cli_metric_num("videos", 0);
		cli_metric_num("levels", 0);
	}
	cli_metric_num("unclustered", (double)unclustered);
	cli_metric_num("old_clusters_dropped", (double)t.old_clusters);
	if (have_prev)
		pd_hier_release(&prev);
	free(memb);
	free(sim);
	pd_cl_videos_free(t.vids);
	return cli_finish();
}
