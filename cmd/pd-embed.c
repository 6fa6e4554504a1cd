/*
 * pd-embed — add embeddings to video records (DESIGN.md §3).
 *
 * The local model (lib/tfidf.h): by default it is learned from the input
 * itself — every video record is read (the stream is spilled to a temporary
 * file), the TF-IDF + truncated SVD model is trained on all of them, and the
 * stream is written again in order with the embeddings added; --save-model
 * keeps the model.  With --model FILE, a saved model embeds each video as it
 * streams by, exactly as training did.
 *
 * Training's two passes use both cores: the input is read a chunk ahead
 * (ahead.h) and both threads scan records and cut videos into terms, the main
 * thread adding the terms in input order; the spill keeps each video's output
 * text up to its embedding (record.h pd_record_write_head), so the write pass
 * parses nothing again: a chunk's embeddings are made and its lines
 * formatted in fixed parts on the threads, then written in order.  The
 * bytes do not depend on the threads.  What each line becomes and what the
 * passes keep is lib/embedio.h; here are the threads and the messages.
 *
 * Records that already carry an embedding pass through unchanged (they still
 * count as training text) unless --force.
 */
#include "cli.h"
#include "ahead.h"
#include "../lib/embedio.h"
#include "../lib/embed_openai.h"
#include "../lib/video.h"
#include "../lib/json.h"
#include "../lib/record.h"
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"Usage: pd-embed [OPTION]... [FILE]...\n"
	"Add embeddings to video records with a text model learned from the corpus.\n"
	"\n"
	"      --dims N          embedding dimension (default 256)\n"
	"      --seed N          random seed of the model (default 1)\n"
	"      --model FILE      embed with the saved model FILE instead of training\n"
	"      --save-model FILE write the trained model to FILE\n"
	"      --max-terms N     vocabulary size at most (default 50000)\n"
	"      --force           embed videos that already have an embedding\n"
	"      --threads N       threads of the local model (default: the processors;\n"
	"                        the output does not depend on it)\n"
	"      --emb-form FORM   write embeddings as b64 (default) or json\n"
	"      --provider NAME   local (default) or openai (PD_EMBED_URL, PD_EMBED_MODEL,\n"
	"                        PD_EMBED_API_KEY)\n"
	"      --batch N         openai: texts per request (default 64)\n"
	"      --concurrency N   openai: requests in flight at most (default 4)\n"
	CLI_COMMON_HELP;

enum {
	OPT_DIMS = CLI_OPT_FIRST_OWN, OPT_SEED, OPT_MODEL, OPT_SAVE, OPT_MAXT, OPT_FORCE, OPT_FORM,
	OPT_PROVIDER, OPT_BATCH, OPT_CONC, OPT_THREADS
};

static const struct option longopts[] = {
	{ "dims", required_argument, NULL, OPT_DIMS },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "save-model", required_argument, NULL, OPT_SAVE },
	{ "max-terms", required_argument, NULL, OPT_MAXT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "emb-form", required_argument, NULL, OPT_FORM },
	{ "provider", required_argument, NULL, OPT_PROVIDER },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "concurrency", required_argument, NULL, OPT_CONC },
	{ "threads", required_argument, NULL, OPT_THREADS },
	CLI_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int force, form = PD_EMB_B64;

/* parse a video line; 1 to embed, 2 passes through (has one), -1 rejected */
static int take(pd_record *r, pd_video *v, const char *file, long lineno, const char *line, size_t len)
{
	pd_err err;
	if (pd_record_parse(r, line, len, &err) < 0 || pd_video_from_json(r->json, v, &err) < 0) {
		cli_reject(file, lineno, line, len, "%s", err.msg);
		return -1;
	}
	return r->dim > 0 && !force ? 2 : 1;
}

static int run_model(int argc, char **argv, const char *path)
{
	pd_err err;
	pd_tmodel *m = pd_tmodel_load(path, &err);
	if (!m)
		cli_fatal(2, "%s", err.msg);
	int dims = pd_tmodel_dims(m);
	float *e = xmalloc((size_t)dims * sizeof *e);
	pd_input *in = cli_open_input(argc, argv);
	const char *line;
	size_t len;
	pd_record r = PD_RECORD_INIT;
	unsigned long long embedded = 0, empty = 0;
	char type[32];
	while (cli_next_record(in, &line, &len, type)) {
		if (strcmp(type, "video")) {
			cli_passthrough(line, len);
			continue;
		}
		pd_video v;
		int k = take(&r, &v, CLI_POS(in), line, len);
		if (k < 0)
			continue;
		if (k == 2) {
			pd_video_release(&v);
			cli_passthrough(line, len);
			continue;
		}
		pd_tdoc_text doc;
		pd_embed_doc(&v, &doc);
		if (pd_tmodel_embed(m, &doc, e) == 0)
			empty++;
		pd_video_release(&v);
		pd_record_set_emb(&r, e, dims);
		cli_write_record(&r, form);
		embedded++;
	}
	pd_record_release(&r);
	pd_input_free(in);
	free(e);
	cli_metric_str("model", "local");
	cli_metric_num("embedded", (double)embedded);
	cli_metric_num("no_known_terms", (double)empty);
	cli_metric_num("dims", dims);
	pd_tmodel_free(m);
	return cli_finish();
}

/* ---- the openai provider: chunks of videos, in order ---- */

typedef struct pending {
	char *line;		/* the input line (owned) */
	size_t len;
	int text;		/* index into texts, -1: pass through as is */
} pending;

/* the pending records, their texts embedded by the endpoint; returns nt */
static int flush_chunk(const pd_oai *o, pending *pd, int np, char **texts, int nt, int *dim)
{
	float *E = NULL;
	int d = 0;
	pd_err err;
	if (nt && pd_oai_embed(o, (const char *const *)texts, nt, &E, &d, &err) < 0)
		cli_fatal(err.code == PD_EUSAGE ? 2 : 3, "%s", err.msg);
	if (nt && *dim && d != *dim)
		cli_fatal(3, "the endpoint changed dimension: %d, then %d", *dim, d);
	if (nt)
		*dim = d;
	pd_record r = PD_RECORD_INIT;
	for (int i = 0; i < np; i++) {
		if (pd[i].text < 0) {
			cli_passthrough(pd[i].line, pd[i].len);
		} else {
			if (pd_record_parse(&r, pd[i].line, pd[i].len, &err) < 0)
				cli_fatal(3, "%s", err.msg);	/* parsed before: cannot happen */
			pd_record_set_emb(&r, E + (size_t)pd[i].text * d, d);
			cli_write_record(&r, form);
		}
		free(pd[i].line);
	}
	pd_record_release(&r);
	for (int i = 0; i < nt; i++)
		free(texts[i]);
	free(E);
	return nt;
}

static int run_openai(int argc, char **argv, const pd_oai *o)
{
	int chunk = (o->batch > 0 ? o->batch : 64) * (o->concurrency > 0 ? o->concurrency : 4) * 2;
	pending *pd = xmalloc((size_t)(chunk * 4 + 16) * sizeof *pd);
	char **texts = xmalloc((size_t)chunk * sizeof *texts);
	int np = 0, nt = 0, dim = 0;
	unsigned long long embedded = 0;
	pd_buf tb = PD_BUF_INIT;
	pd_input *in = cli_open_input(argc, argv);
	const char *line;
	size_t len;
	pd_record r = PD_RECORD_INIT;
	char type[32];
	while (cli_next_record(in, &line, &len, type)) {
		int text = -1;
		if (!strcmp(type, "video")) {
			pd_video v;
			int k = take(&r, &v, CLI_POS(in), line, len);
			if (k < 0)
				continue;
			if (k == 1) {
				pd_oai_video_text(&v, &tb);
				texts[nt] = xstrdup(tb.p);
				text = nt++;
			}
			pd_video_release(&v);
		}
		pd[np].line = xmemdup(line, len);
		pd[np].len = len;
		pd[np].text = text;
		np++;
		if (nt == chunk || np >= chunk * 4) {
			embedded += (unsigned long long)flush_chunk(o, pd, np, texts, nt, &dim);
			np = nt = 0;
		}
	}
	embedded += (unsigned long long)flush_chunk(o, pd, np, texts, nt, &dim);
	pd_input_free(in);
	pd_record_release(&r);
	pd_buf_release(&tb);
	free(pd);
	free(texts);
	cli_metric_str("model", "openai");
	cli_metric_num("embedded", (double)embedded);
	cli_metric_num("dims", dim);
	return cli_finish();
}

/* ---- training on the input (lib/embedio.h): read it a chunk ahead (both
   threads examine lines), train, then write it again with the embeddings ---- */

/* helper thread: a batch with room for the chunk's lines */
static void train_setup(cli_chunk *c, void *ud)
{
	(void)ud;
	if (!c->user)
		c->user = pd_embatch_new();
	pd_embatch_reset(c->user, c->n);
}

/* line i on either thread */
static void train_prepare(cli_chunk *c, int i, int who, void *ud)
{
	const cli_aline *a = &c->l[i];
	pd_emtrain_examine(ud, c->user, i, who,
			   a->what == PD_LINE_OK ? c->text.p + a->off : NULL, a->len);
}

/* main thread, in input order: rejects told, the others kept for training */
static void train_use(cli_chunk *c, void *ud)
{
	for (int i = 0; i < c->n; i++) {
		if (!cli_ahead_take(c, i))
			continue;
		const cli_aline *a = &c->l[i];
		const char *line = c->text.p + a->off, *why;
		pd_err err;
		int rc = pd_emtrain_take(ud, c->user, i, line, a->len, &why, &err);
		if (rc < 0)
			cli_fatal_err(&err);
		if (rc > 0)
			cli_reject(a->file, a->lineno, line, a->len, "%s", why);
	}
}

static void train_release(cli_chunk *c, void *ud)
{
	(void)ud;
	pd_embatch_free(c->user);
	c->user = NULL;
}

static const cli_ahead_ops train_ahead = { NULL, train_setup, train_prepare, train_use,
					   train_release, 0 };

static int run_train(int argc, char **argv, const pd_tmodel_params *p, const char *save)
{
	double t_start = cli_now();
	pd_err err;
	pd_emtrain *t = pd_emtrain_new(force, &err);
	if (!t)
		cli_fatal_err(&err);
	pd_input *in = cli_open_input(argc, argv);
	cli_read_ahead(in, 2048, 8u << 20, &train_ahead, t);
	pd_input_free(in);
	pd_ttrainer *tr = pd_emtrain_trainer(t);
	double t_read = cli_now();
	pd_tmodel *m = NULL;
	int dims = p->dims;
	if (pd_ttrainer_docs(tr)) {
		if (pd_ttrainer_train(tr, p, &m, NULL, &err) < 0)
			cli_fatal(err.code == PD_EUSAGE ? 1 : 3, "%s", err.msg);
		if (save && pd_tmodel_save(m, save, &err) < 0)
			cli_fatal_err(&err);
		cli_metric_num("terms", pd_tmodel_nterms(m));
		cli_metric_num("rank", pd_tmodel_rank(m));
	} else if (save) {
		cli_fatal(1, "no videos: no model to save");
	}
	double t_train = cli_now();
	/* the stream again, a chunk of videos at a time, formatted on the
	   threads in fixed parts and written in order */
	pd_emout *o;
	int rc;
	while ((rc = pd_emtrain_next(t, m, dims, form, p->threads, &o, &err)) > 0)
		for (int k = 0; k < PD_SVD_PARTS; k++)
			cli_write_lines(o->out[k].p, o->out[k].len, o->nrec[k]);
	if (rc < 0)
		cli_fatal_err(&err);
	unsigned long long embedded, zero;
	pd_emtrain_counts(t, &embedded, &zero);
	pd_emtrain_free(t);
	pd_tmodel_free(m);
	cli_metric_str("model", "local");
	cli_metric_num("seconds_reading", t_read - t_start);
	cli_metric_num("seconds_training", t_train - t_read);
	cli_metric_num("seconds_writing", cli_now() - t_train);
	cli_metric_num("embedded", (double)embedded);
	cli_metric_num("no_known_terms", (double)zero);
	cli_metric_num("dims", dims);
	return cli_finish();
}

int main(int argc, char **argv)
{
	cli_init("pd-embed", "embed", usage);
	pd_tmodel_params p;
	pd_tmodel_params_default(&p);
	p.seed = 1;
	const char *model = NULL, *save = NULL;
	int c, openai = 0, dims_set = 0;
	pd_oai oai = { 0 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_DIMS: p.dims = (int)cli_parse_long("--dims", optarg, 1, 4096); dims_set = 1; break;
		case OPT_PROVIDER:
			if (!strcmp(optarg, "local")) openai = 0;
			else if (!strcmp(optarg, "openai")) openai = 1;
			else cli_usage_error("--provider takes local or openai, not '%s'", optarg);
			break;
		case OPT_BATCH: oai.batch = (int)cli_parse_long("--batch", optarg, 1, 2048); break;
		case OPT_CONC: oai.concurrency = (int)cli_parse_long("--concurrency", optarg, 1, 64); break;
		case OPT_SEED: p.seed = (uint64_t)cli_parse_long("--seed", optarg, 0, 0x7fffffffffffffffL); break;
		case OPT_MODEL: model = optarg; break;
		case OPT_SAVE: save = optarg; break;
		case OPT_MAXT: p.max_terms = (int)cli_parse_long("--max-terms", optarg, 1, 10000000); break;
		case OPT_FORCE: force = 1; break;
		case OPT_THREADS: p.threads = (int)cli_parse_long("--threads", optarg, 1, 64); break;
		case OPT_FORM:
			if (!strcmp(optarg, "b64")) form = PD_EMB_B64;
			else if (!strcmp(optarg, "json")) form = PD_EMB_JSON;
			else cli_usage_error("--emb-form takes b64 or json, not '%s'", optarg);
			break;
		default:
			if (!cli_common_option(c, optarg))
				cli_usage_error("unknown option");
		}
	}
	if (model && save)
		cli_usage_error("--model and --save-model do not go together");
	if (openai && (model || save))
		cli_usage_error("--model and --save-model go with the local provider");
	cli_after_options();
	if (openai) {
		oai.url = getenv("PD_EMBED_URL");
		oai.model = getenv("PD_EMBED_MODEL");
		oai.key = getenv("PD_EMBED_API_KEY");
		oai.dims = dims_set ? p.dims : 0;
		oai.seed = p.seed;
		if (!oai.url || !*oai.url || !oai.model || !*oai.model)
			cli_usage_error("--provider openai needs PD_EMBED_URL and PD_EMBED_MODEL");
		return run_openai(argc - optind, argv + optind, &oai);
	}
	if (model)
		return run_model(argc - optind, argv + optind, model);

	return run_train(argc - optind, argv + optind, &p, save);
}
