/*
 * embedio.c — pd-embed's training stream (see embedio.h).
 *
 * A batch keeps one slot per line, reused from chunk to chunk (the terms
 * and head buffers are emptied, not freed).  Training keeps per line taken
 * one byte (its kind) and the line or head in a temporary file; the second
 * pass reads that file back in order, so no line is parsed twice and the
 * embeddings are made a chunk at a time.
 */
#include "pd.h"
#include "embedio.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

typedef struct eline {
	int k;			/* PD_EML_* */
	pd_err err;		/* PD_EML_REJECT: why */
	pd_tterms *terms;	/* PD_EML_EMBED and _KEEP: the video's terms */
	pd_buf head;		/* PD_EML_EMBED: the output line up to its embedding */
} eline;

struct pd_embatch {
	eline *l;
	int cap;
};

typedef struct scanner {	/* one per examining thread */
	pd_record r;
	pd_jobj o;
} scanner;

/* the second pass's chunk: its lines (a video to embed: its head) and
   embeddings, formatted into PD_SVD_PARTS parts */
typedef struct eout {
	pd_buf text;
	struct { size_t off, len, doc; int k; } *l;
	size_t n, cap;
	float *E;		/* the chunk's videos' embeddings (_EMBED and _KEEP) */
	int dims, form;
	unsigned long long zero[PD_SVD_PARTS];
	pd_emout emout;
} eout;

struct pd_emtrain {
	int force;
	scanner w[2];
	pd_ttrainer *tr;
	FILE *spill;		/* per line, the line; for _EMBED its head */
	unsigned char *kind;	/* per line: its kind */
	size_t nlines, kcap;
	/* the second pass */
	int writing;
	size_t next, doc;	/* the next line and video to read back */
	char *buf;
	size_t bcap;
	eout o;
	unsigned long long embedded, zero;
};

void pd_embed_doc(const pd_video *v, pd_tdoc_text *t)
{
	t->title = v->title;
	t->description = v->description;
	t->tags = v->tags;
	t->ntags = v->ntags;
}

pd_embatch *pd_embatch_new(void)
{
	return xcalloc(1, sizeof(pd_embatch));
}

void pd_embatch_reset(pd_embatch *b, int n)
{
	if (b->cap < n) {
		b->l = xreallocarray(b->l, (size_t)n, sizeof *b->l);
		memset(b->l + b->cap, 0, (size_t)(n - b->cap) * sizeof *b->l);
		b->cap = n;
	}
}

void pd_embatch_free(pd_embatch *b)
{
	if (!b)
		return;
	for (int i = 0; i < b->cap; i++) {
		pd_tterms_free(b->l[i].terms);
		pd_buf_release(&b->l[i].head);
	}
	free(b->l);
	free(b);
}

pd_emtrain *pd_emtrain_new(int force, pd_err *err)
{
	FILE *spill = pd_tmpfile(err);
	if (!spill)
		return NULL;
	setvbuf(spill, NULL, _IOFBF, 1u << 20);
	pd_emtrain *t = xcalloc(1, sizeof *t);
	t->force = force;
	for (int k = 0; k < 2; k++) {
		t->w[k].r = (pd_record)PD_RECORD_INIT;
		t->w[k].o = (pd_jobj)PD_JOBJ_INIT;
	}
	t->spill = spill;
	t->tr = pd_ttrainer_new();
	return t;
}

void pd_emtrain_free(pd_emtrain *t)
{
	if (!t)
		return;
	for (int k = 0; k < 2; k++) {
		pd_record_release(&t->w[k].r);
		pd_jobj_release(&t->w[k].o);
	}
	pd_ttrainer_free(t->tr);
	fclose(t->spill);
	free(t->kind);
	free(t->buf);
	free(t->o.E);
	free(t->o.l);
	pd_buf_release(&t->o.text);
	for (int k = 0; k < PD_SVD_PARTS; k++)
		pd_buf_release(&t->o.emout.out[k]);
	free(t);
}

pd_ttrainer *pd_emtrain_trainer(pd_emtrain *t)
{
	return t->tr;
}

void pd_emtrain_examine(pd_emtrain *t, pd_embatch *b, int i, int who, const char *line,
			size_t len)
{
	scanner *w = &t->w[who];
	eline *e = &b->l[i];
	e->k = PD_EML_OTHER;
	if (!line)
		return;
	char type[32];
	if (pd_json_type(line, len, type, sizeof type, &e->err) != 1) {
		e->k = PD_EML_REJECT;
		return;
	}
	if (strcmp(type, "video"))
		return;
	/* the scan decides the records it can without a tree (record.h) */
	pd_video v;
	int rc;
	if (pd_record_scan(&w->r, &w->o, line, len) == 0)
		rc = pd_video_from_jobj(&w->o, &v, &e->err);
	else if (pd_record_parse(&w->r, line, len, &e->err) == 0)
		rc = pd_video_from_json(w->r.json, &v, &e->err);
	else
		rc = -1;
	if (rc < 0) {
		e->k = PD_EML_REJECT;
		return;
	}
	e->k = w->r.dim > 0 && !t->force ? PD_EML_KEEP : PD_EML_EMBED;
	pd_tdoc_text doc;
	pd_embed_doc(&v, &doc);
	if (!e->terms)
		e->terms = pd_tterms_new();
	pd_tterms_extract(e->terms, &doc);
	pd_video_release(&v);
	if (e->k == PD_EML_EMBED) {
		pd_buf_reset(&e->head);
		if (pd_record_write_head(&w->r, &e->head, &e->err) < 0)
			e->k = PD_EML_REJECT;	/* parsed above: cannot happen */
	}
}

int pd_emtrain_take(pd_emtrain *t, const pd_embatch *b, int i, const char *line, size_t len,
		    const char **why, pd_err *err)
{
	const eline *e = &b->l[i];
	if (e->k == PD_EML_REJECT) {
		*why = e->err.msg;
		return 1;
	}
	if (e->k != PD_EML_OTHER)
		pd_ttrainer_add_terms(t->tr, e->terms);
	if (t->nlines == t->kcap) {
		t->kcap = t->kcap ? 2 * t->kcap : 4096;
		t->kind = xrealloc(t->kind, t->kcap);
	}
	t->kind[t->nlines++] = (unsigned char)e->k;
	if (e->k == PD_EML_EMBED) {
		line = e->head.p;
		len = e->head.len;
	}
	if (fwrite(line, 1, len, t->spill) != len || putc('\n', t->spill) == EOF)
		return pd_err_set(err, PD_ESERVICE, "cannot write the temporary file: %s",
				  strerror(errno));
	return 0;
}

/* part `part` of the chunk's lines formatted into its own buffer */
static void format_part(int part, void *ud)
{
	eout *o = ud;
	size_t a = o->n * (size_t)part / PD_SVD_PARTS, b = o->n * (size_t)(part + 1) / PD_SVD_PARTS;
	pd_buf *out = &o->emout.out[part];
	pd_buf_reset(out);
	o->emout.nrec[part] = b - a;
	o->zero[part] = 0;
	for (size_t i = a; i < b; i++) {
		pd_buf_add(out, o->text.p + o->l[i].off, o->l[i].len);
		if (o->l[i].k != PD_EML_EMBED) {
			pd_buf_addc(out, '\n');
			continue;
		}
		const float *e = o->E + o->l[i].doc * (size_t)o->dims;
		int nz = 0;
		for (int j = 0; j < o->dims && !nz; j++)
			nz = e[j] != 0;
		o->zero[part] += !nz;
		pd_record_write_emb(out, e, o->dims, o->form);
	}
}

int pd_emtrain_next(pd_emtrain *t, const pd_tmodel *m, int dims, int form, int threads,
		    pd_emout **out, pd_err *err)
{
	eout *o = &t->o;
	if (!t->writing) {
		t->writing = 1;
		o->dims = dims;
		o->form = form;
		if (pd_ttrainer_docs(t->tr))
			o->E = xmalloc((size_t)PD_EMCHUNK * dims * sizeof *o->E);
		if (fflush(t->spill) != 0 || fseek(t->spill, 0, SEEK_SET) != 0)
			return pd_err_set(err, PD_ESERVICE,
					  "cannot read the temporary file back: %s", strerror(errno));
	}
	if (t->next >= t->nlines)
		return 0;
	/* the lines up to the chunk's last video and those after it, up to
	   the next video or the end */
	o->n = 0;
	pd_buf_reset(&o->text);
	size_t nd = 0;		/* videos trained on (_EMBED and _KEEP) */
	size_t i = t->next;
	for (; i < t->nlines && !(t->kind[i] && nd == PD_EMCHUNK) && o->text.len < (64u << 20); i++) {
		ssize_t got = getline(&t->buf, &t->bcap, t->spill);
		if (got <= 0)
			return pd_err_set(err, PD_ESERVICE, "cannot read the temporary file back");
		if (o->n == o->cap) {
			o->cap = o->cap ? 2 * o->cap : 4096;
			o->l = xreallocarray(o->l, o->cap, sizeof *o->l);
		}
		o->l[o->n].off = o->text.len;
		o->l[o->n].len = (size_t)got - 1;
		o->l[o->n].k = t->kind[i];
		o->l[o->n].doc = nd;
		o->n++;
		pd_buf_add(&o->text, t->buf, (size_t)got - 1);
		nd += t->kind[i] != 0;
		t->embedded += t->kind[i] == PD_EML_EMBED;
	}
	t->next = i;
	if (nd)
		pd_ttrainer_embed(t->tr, m, t->doc, nd, threads, o->E);
	t->doc += nd;
	pd_par_for(pd_par_threads(threads), PD_SVD_PARTS, format_part, o);
	for (int k = 0; k < PD_SVD_PARTS; k++)
		t->zero += o->zero[k];
	*out = &o->emout;
	return 1;
}

void pd_emtrain_counts(const pd_emtrain *t, unsigned long long *embedded,
		       unsigned long long *zero)
{
	*embedded = t->embedded;
	*zero = t->zero;
}
