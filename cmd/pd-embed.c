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
 * bytes do not depend on the threads.
 *
 * Records that already carry an embedding pass through unchanged (they still
 * count as training text) unless --force.
 */
#include "cli.h"
#include "ahead.h"
#include "../lib/tfidf.h"
#include "../lib/embed_openai.h"
#include "../lib/video.h"
#include "../lib/json.h"
#include "../lib/record.h"
#include "../lib/svd.h"
#include <math.h>
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

static void doc_of(const pd_video *v, pd_tdoc_text *t)
{
	t->title = v->title;
	t->description = v->description;
	t->tags = v->tags;
	t->ntags = v->ntags;
}

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
		doc_of(&v, &doc);
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

/* ---- training on the input: read it (a chunk ahead, videos cut into terms
   on both threads), train, then write it again with the embeddings ---- */

typedef struct eline {
	int k;			/* 0 pass, 1 embed, 2 trained on and passed, -1 rejected */
	pd_err err;		/* k -1 */
	pd_tterms *terms;	/* k 1 and 2: the video's terms */
	pd_buf head;		/* k 1: the output line up to its embedding */
} eline;

typedef struct echunk {
	eline *l;
	int cap;
} echunk;

typedef struct ework {		/* one per preparing thread (ahead.h: who) */
	pd_record r;
	pd_jobj o;
} ework;

typedef struct etrain {
	ework w[2];
	pd_ttrainer *tr;
	FILE *spill;		/* per line, the line; for k 1 its head */
	unsigned char *kind;	/* per line: its k */
	size_t nlines, kcap;
} etrain;

/* helper thread: room for the chunk's lines */
static void train_setup(cli_chunk *c, void *ud)
{
	(void)ud;
	if (!c->user)
		c->user = xcalloc(1, sizeof(echunk));
	echunk *u = c->user;
	if (u->cap < c->n) {
		u->l = xreallocarray(u->l, (size_t)c->n, sizeof *u->l);
		memset(u->l + u->cap, 0, (size_t)(c->n - u->cap) * sizeof *u->l);
		u->cap = c->n;
	}
}

/* line i on either thread: its type, its video's terms, its output head */
static void train_prepare(cli_chunk *c, int i, int who, void *ud)
{
	etrain *t = ud;
	ework *w = &t->w[who];
	eline *e = &((echunk *)c->user)->l[i];
	const cli_aline *a = &c->l[i];
	e->k = 0;
	if (a->what != PD_LINE_OK)
		return;
	const char *line = c->text.p + a->off;
	char type[32];
	if (pd_json_type(line, a->len, type, sizeof type, &e->err) != 1) {
		e->k = -1;
		return;
	}
	if (strcmp(type, "video"))
		return;
	/* the scan decides the records it can without a tree (record.h) */
	pd_video v;
	int rc;
	if (pd_record_scan(&w->r, &w->o, line, a->len) == 0)
		rc = pd_video_from_jobj(&w->o, &v, &e->err);
	else if (pd_record_parse(&w->r, line, a->len, &e->err) == 0)
		rc = pd_video_from_json(w->r.json, &v, &e->err);
	else
		rc = -1;
	if (rc < 0) {
		e->k = -1;
		return;
	}
	e->k = w->r.dim > 0 && !force ? 2 : 1;
	pd_tdoc_text doc;
	doc_of(&v, &doc);
	if (!e->terms)
		e->terms = pd_tterms_new();
	pd_tterms_extract(e->terms, &doc);
	pd_video_release(&v);
	if (e->k == 1) {
		pd_buf_reset(&e->head);
		if (pd_record_write_head(&w->r, &e->head, &e->err) < 0)
			e->k = -1;	/* parsed above: cannot happen */
	}
}

/* main thread, in input order: rejects told, videos to the trainer, lines spilled */
static void train_use(cli_chunk *c, void *ud)
{
	etrain *t = ud;
	echunk *u = c->user;
	for (int i = 0; i < c->n; i++) {
		if (!cli_ahead_take(c, i))
			continue;
		const cli_aline *a = &c->l[i];
		const eline *e = &u->l[i];
		const char *line = c->text.p + a->off;
		size_t len = a->len;
		if (e->k < 0) {
			cli_reject(a->file, a->lineno, line, len, "%s", e->err.msg);
			continue;
		}
		if (e->k > 0)
			pd_ttrainer_add_terms(t->tr, e->terms);
		if (t->nlines == t->kcap) {
			t->kcap = t->kcap ? 2 * t->kcap : 4096;
			t->kind = xrealloc(t->kind, t->kcap);
		}
		t->kind[t->nlines++] = (unsigned char)e->k;
		if (e->k == 1) {
			line = e->head.p;
			len = e->head.len;
		}
		if (fwrite(line, 1, len, t->spill) != len || putc('\n', t->spill) == EOF)
			cli_fatal(3, "cannot write the temporary file: %m");
	}
}

static void train_release(cli_chunk *c, void *ud)
{
	(void)ud;
	echunk *u = c->user;
	if (!u)
		return;
	for (int i = 0; i < u->cap; i++) {
		pd_tterms_free(u->l[i].terms);
		pd_buf_release(&u->l[i].head);
	}
	free(u->l);
	free(u);
	c->user = NULL;
}

static const cli_ahead_ops train_ahead = { NULL, train_setup, train_prepare, train_use,
					   train_release, 0 };

/* the output of one chunk: its lines (k 1: a video's head), formatted in
   PD_SVD_PARTS parts of the lines, each part's bytes its own */
typedef struct eout {
	pd_buf text;
	struct { size_t off, len, doc; int k; } *l;
	size_t n, cap;
	float *E;		/* the embeddings of the chunk's videos (k 1 and 2) */
	int dims;
	pd_buf out[PD_SVD_PARTS];
	unsigned long long nrec[PD_SVD_PARTS], zero[PD_SVD_PARTS];
} eout;

static void format_part(int part, void *ud)
{
	eout *o = ud;
	size_t a = o->n * (size_t)part / PD_SVD_PARTS, b = o->n * (size_t)(part + 1) / PD_SVD_PARTS;
	pd_buf *out = &o->out[part];
	pd_buf_reset(out);
	o->nrec[part] = b - a;
	o->zero[part] = 0;
	for (size_t i = a; i < b; i++) {
		pd_buf_add(out, o->text.p + o->l[i].off, o->l[i].len);
		if (o->l[i].k != 1) {
			pd_buf_addc(out, '\n');
			continue;
		}
		const float *e = o->E + o->l[i].doc * (size_t)o->dims;
		int nz = 0;
		for (int j = 0; j < o->dims && !nz; j++)
			nz = e[j] != 0;
		o->zero[part] += !nz;
		pd_record_write_emb(out, e, o->dims, form);
	}
}

static int run_train(int argc, char **argv, const pd_tmodel_params *p, const char *save)
{
	double t_start = cli_now();
	pd_err err;
	etrain t;
	memset(&t, 0, sizeof t);
	for (int k = 0; k < 2; k++) {
		t.w[k].r = (pd_record)PD_RECORD_INIT;
		t.w[k].o = (pd_jobj)PD_JOBJ_INIT;
	}
	t.spill = pd_tmpfile(&err);
	if (!t.spill)
		cli_fatal_err(&err);
	setvbuf(t.spill, NULL, _IOFBF, 1u << 20);
	t.tr = pd_ttrainer_new();
	pd_input *in = cli_open_input(argc, argv);
	cli_read_ahead(in, 2048, 8u << 20, &train_ahead, &t);
	pd_input_free(in);
	for (int k = 0; k < 2; k++) {
		pd_record_release(&t.w[k].r);
		pd_jobj_release(&t.w[k].o);
	}
	pd_ttrainer *tr = t.tr;
	double t_read = cli_now();
	size_t ndocs = pd_ttrainer_docs(tr);
	pd_tmodel *m = NULL;
	int dims = p->dims;
	if (ndocs) {
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
	/* the stream again from the spill, CHUNK videos at a time (not all
	   embeddings held at once: 1 GB per million videos): the chunk's
	   lines read, its embeddings made, its output lines formatted on the
	   threads in fixed parts, and written in order */
	enum { CHUNK = 16384 };
	eout o;
	memset(&o, 0, sizeof o);
	o.dims = dims;
	if (ndocs)
		o.E = xmalloc((size_t)CHUNK * dims * sizeof *o.E);
	FILE *spill = t.spill;
	if (fflush(spill) != 0 || fseek(spill, 0, SEEK_SET) != 0)
		cli_fatal(3, "cannot read the temporary file back: %m");
	char *buf = NULL;
	size_t bcap = 0, doc = 0, i = 0;
	unsigned long long embedded = 0, zero = 0;
	int threads = pd_par_threads(p->threads);
	while (i < t.nlines) {
		/* the lines up to the chunk's last video and those after it, up
		   to the next video or the end */
		o.n = 0;
		pd_buf_reset(&o.text);
		size_t nd = 0;	/* videos trained on (k 1 and 2) */
		for (; i < t.nlines && !(t.kind[i] && nd == CHUNK) && o.text.len < (64u << 20); i++) {
			ssize_t got = getline(&buf, &bcap, spill);
			if (got <= 0)
				cli_fatal(3, "cannot read the temporary file back");
			if (o.n == o.cap) {
				o.cap = o.cap ? 2 * o.cap : 4096;
				o.l = xreallocarray(o.l, o.cap, sizeof *o.l);
			}
			o.l[o.n].off = o.text.len;
			o.l[o.n].len = (size_t)got - 1;
			o.l[o.n].k = t.kind[i];
			o.l[o.n].doc = nd;
			o.n++;
			pd_buf_add(&o.text, buf, (size_t)got - 1);
			nd += t.kind[i] != 0;
			embedded += t.kind[i] == 1;
		}
		if (nd)
			pd_ttrainer_embed(tr, m, doc, nd, p->threads, o.E);
		doc += nd;
		pd_par_for(threads, PD_SVD_PARTS, format_part, &o);
		for (int k = 0; k < PD_SVD_PARTS; k++) {
			cli_write_lines(o.out[k].p, o.out[k].len, o.nrec[k]);
			zero += o.zero[k];
		}
	}
	free(buf);
	fclose(spill);
	free(t.kind);
	free(o.E);
	free(o.l);
	pd_buf_release(&o.text);
	for (int k = 0; k < PD_SVD_PARTS; k++)
		pd_buf_release(&o.out[k]);
	pd_ttrainer_free(tr);
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
