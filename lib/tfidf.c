/*
 * tfidf.c — the local text model (see tfidf.h).
 *
 * Training keeps, for every video, its distinct terms with their summed
 * weights (term ids into a map of every term seen), and each term's document
 * frequency.  Once all videos are in, the vocabulary is chosen, each video's
 * terms become a sparse TF-IDF row (through `finalize`, the code
 * pd_tmodel_embed uses too), the randomised SVD gives the projection, and
 * each row is projected (through `project`, also shared).
 */
#include "pd.h"
#include "tfidf.h"
#include "svd.h"
#include "embedtok.h"
#include "strmap.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL_MAGIC "PDTM"
#define MODEL_VERSION 1u
#define DESC_BYTES 2000

void pd_tmodel_params_default(pd_tmodel_params *p)
{
	memset(p, 0, sizeof *p);
	p->dims = 256;
	p->max_terms = 50000;
	p->min_df = 2;
	p->max_df_share = 0.5;
	p->oversample = 10;
	p->power_iters = 3;
	p->seed = 0;
	p->threads = 0;
}

/* ---- terms of a video ---- */

typedef void term_cb(const char *t, size_t n, float w, void *ud);

typedef struct extractor {
	pd_etok tok;
	pd_buf tmp;
	term_cb *cb;
	void *ud;
} extractor;

static void gram_cb(const char *g, size_t n, void *ud)
{
	extractor *x = ud;
	pd_buf_reset(&x->tmp);
	pd_buf_addc(&x->tmp, '#');
	pd_buf_add(&x->tmp, g, n);
	x->cb(x->tmp.p, x->tmp.len, 0.5f, x->ud);
}

static void extract(extractor *x, const pd_tdoc_text *d)
{
	pd_etok *t = &x->tok;
	if (d->title) {
		int n = pd_etok_split(t, d->title, strlen(d->title));
		for (int i = 0; i < n; i++) {
			x->cb(pd_etok_at(t, i), t->len[i], 1.0f, x->ud);
			if (i + 1 < n) {
				pd_buf_reset(&x->tmp);
				pd_buf_add(&x->tmp, pd_etok_at(t, i), t->len[i]);
				pd_buf_addc(&x->tmp, ' ');
				pd_buf_add(&x->tmp, pd_etok_at(t, i + 1), t->len[i + 1]);
				x->cb(x->tmp.p, x->tmp.len, 1.0f, x->ud);
			}
		}
		for (int i = 0; i < n; i++)
			if (t->nonlatin[i])
				pd_etok_chargrams(pd_etok_at(t, i), t->len[i], gram_cb, x);
	}
	for (int g = 0; g < d->ntags; g++) {
		if (!d->tags[g])
			continue;
		int n = pd_etok_split(t, d->tags[g], strlen(d->tags[g]));
		if (!n)
			continue;
		pd_buf_reset(&x->tmp);
		pd_buf_adds(&x->tmp, "t:");
		for (int i = 0; i < n; i++) {
			if (i)
				pd_buf_addc(&x->tmp, ' ');
			pd_buf_add(&x->tmp, pd_etok_at(t, i), t->len[i]);
		}
		x->cb(x->tmp.p, x->tmp.len, 1.0f, x->ud);
		for (int i = 0; i < n; i++)
			x->cb(pd_etok_at(t, i), t->len[i], 0.5f, x->ud);
	}
	if (d->description) {
		size_t len = strlen(d->description);
		if (len > DESC_BYTES) {
			len = DESC_BYTES;
			while (len > 0 && ((unsigned char)d->description[len] & 0xC0) == 0x80)
				len--;	/* not inside a character */
		}
		int n = pd_etok_split(t, d->description, len);
		for (int i = 0; i < n; i++)
			if (t->len[i] <= 40)
				x->cb(pd_etok_at(t, i), t->len[i], 0.25f, x->ud);
	}
}

/* ---- shared by training and embedding ---- */

typedef struct tw {
	int idx;
	float w;
} tw;

static int cmp_tw(const void *a, const void *b)
{
	int x = ((const tw *)a)->idx, y = ((const tw *)b)->idx;
	return x < y ? -1 : x > y;
}

/* e[0..n): summed weights by vocabulary index -> TF-IDF values, sorted by
   index, L2-normalised (in place: e[i].w becomes the value) */
static void finalize(tw *e, int n, const float *idf)
{
	if (n > 1)	/* e may be NULL when n is 0: qsort must not see it */
		qsort(e, (size_t)n, sizeof *e, cmp_tw);
	double ss = 0;
	for (int i = 0; i < n; i++) {
		e[i].w = (float)log1p((double)e[i].w) * idf[e[i].idx];
		ss += (double)e[i].w * e[i].w;
	}
	if (ss > 0) {
		float inv = (float)(1.0 / sqrt(ss));
		for (int i = 0; i < n; i++)
			e[i].w *= inv;
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
typedef float pv8 __attribute__((vector_size(32)));

/* out[j0 .. j0 + 64) of project's sums: the same products and sums in the
   same order per element (ISO C: multiply and add stay apart), eight AVX
   registers kept across the row's terms */
__attribute__((target("avx2"))) static void project64_avx2(const tw *e, int n, const float *P,
							    int dims, int j0, float *out)
{
	pv8 a[8];
	memset(a, 0, sizeof a);
	for (int i = 0; i < n; i++) {
		const float *p = P + (size_t)e[i].idx * dims + j0;
		float v = e[i].w;
		pv8 vv = { v, v, v, v, v, v, v, v };
		for (int t = 0; t < 8; t++) {
			pv8 q;
			memcpy(&q, p + 8 * t, sizeof q);
			a[t] += vv * q;
		}
	}
	memcpy(out + j0, a, sizeof a);
}
#endif

static void project(const tw *e, int n, const float *P, int dims, float *out)
{
	int j0 = 0;
#if defined(__x86_64__) && defined(__GNUC__)
	if (pd_cpu_avx2())
		for (; j0 + 64 <= dims; j0 += 64)
			project64_avx2(e, n, P, dims, j0, out);
#endif
	memset(out + j0, 0, (size_t)(dims - j0) * sizeof *out);
	for (int i = 0; i < n; i++) {
		const float *p = P + (size_t)e[i].idx * dims;
		float v = e[i].w;
		for (int j = j0; j < dims; j++)
			out[j] += v * p[j];
	}
	double ss = 0;
	for (int j = 0; j < dims; j++)
		ss += (double)out[j] * out[j];
	if (ss > 0) {
		float inv = (float)(1.0 / sqrt(ss));
		for (int j = 0; j < dims; j++)
			out[j] *= inv;
	}
}

/* ---- the model ---- */

struct pd_tmodel {
	int dims, rank, nterms;
	uint64_t docs;
	char **term;
	float *idf;
	float *proj;		/* nterms x dims */
	pd_strmap *map;
	/* scratch for pd_tmodel_embed */
	extractor x;
	int *pos;		/* nterms, -1 */
	tw *e;
	int ne, cap;
};

int pd_tmodel_dims(const pd_tmodel *m) { return m->dims; }
int pd_tmodel_rank(const pd_tmodel *m) { return m->rank; }
int pd_tmodel_nterms(const pd_tmodel *m) { return m->nterms; }

void pd_tmodel_free(pd_tmodel *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->nterms; i++)
		free(m->term[i]);
	free(m->term);
	free(m->idf);
	free(m->proj);
	if (m->map)
		pd_strmap_free(m->map);
	pd_etok_release(&m->x.tok);
	pd_buf_release(&m->x.tmp);
	free(m->pos);
	free(m->e);
	free(m);
}

static void model_index(pd_tmodel *m)
{
	m->map = pd_strmap_new();
	for (int i = 0; i < m->nterms; i++) {
		int added;
		pd_strmap_intern(m->map, m->term[i], strlen(m->term[i]), &added);
	}
	m->pos = xmalloc((size_t)(m->nterms ? m->nterms : 1) * sizeof *m->pos);
	for (int i = 0; i < m->nterms; i++)
		m->pos[i] = -1;
}

static void embed_cb(const char *t, size_t n, float w, void *ud)
{
	pd_tmodel *m = ud;
	int i = pd_strmap_find(m->map, t, n);
	if (i < 0)
		return;
	if (m->pos[i] >= 0) {
		m->e[m->pos[i]].w += w;
		return;
	}
	if (m->ne == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		m->e = xreallocarray(m->e, (size_t)m->cap, sizeof *m->e);
	}
	m->pos[i] = m->ne;
	m->e[m->ne].idx = i;
	m->e[m->ne].w = w;
	m->ne++;
}

int pd_tmodel_embed(pd_tmodel *m, const pd_tdoc_text *doc, float *out)
{
	m->ne = 0;
	m->x.cb = embed_cb;
	m->x.ud = m;
	extract(&m->x, doc);
	for (int i = 0; i < m->ne; i++)
		m->pos[m->e[i].idx] = -1;
	int n = m->ne;
	finalize(m->e, n, m->idf);
	project(m->e, n, m->proj, m->dims, out);
	return n;
}

/* ---- training ---- */

struct pd_ttrainer {
	pd_strmap *all;
	int *df;		/* per term id */
	int *stamp, *pos;	/* per term id: last doc seen (+1), position in it */
	int tcap;
	size_t ndocs;
	size_t *dptr;		/* ndocs + 1 */
	size_t dcap;
	tw *ent;		/* every doc's distinct terms (term id, summed weight) */
	size_t nent, ecap;
	struct pd_tterms *terms;	/* pd_ttrainer_add's */
	pd_csr A;		/* after training: the TF-IDF rows (the rest is freed) */
};

pd_ttrainer *pd_ttrainer_new(void)
{
	pd_ttrainer *tr = xcalloc(1, sizeof *tr);
	tr->all = pd_strmap_new();
	tr->dcap = 1024;
	tr->dptr = xmalloc(tr->dcap * sizeof *tr->dptr);
	tr->dptr[0] = 0;
	return tr;
}

void pd_ttrainer_free(pd_ttrainer *tr)
{
	if (!tr)
		return;
	pd_strmap_free(tr->all);
	free(tr->df);
	free(tr->stamp);
	free(tr->pos);
	free(tr->dptr);
	free(tr->ent);
	pd_tterms_free(tr->terms);
	pd_csr_release(&tr->A);
	free(tr);
}

size_t pd_ttrainer_docs(const pd_ttrainer *tr) { return tr->ndocs; }

/* add_term: term id of weight w in the video being added */
static void add_term(pd_ttrainer *tr, int id, float w)
{
	if (id >= tr->tcap) {
		int nc = tr->tcap ? tr->tcap * 2 : 4096;
		while (nc <= id)
			nc *= 2;
		tr->df = xreallocarray(tr->df, (size_t)nc, sizeof *tr->df);
		tr->stamp = xreallocarray(tr->stamp, (size_t)nc, sizeof *tr->stamp);
		tr->pos = xreallocarray(tr->pos, (size_t)nc, sizeof *tr->pos);
		for (int i = tr->tcap; i < nc; i++)
			tr->df[i] = tr->stamp[i] = 0;
		tr->tcap = nc;
	}
	int doc1 = (int)(tr->ndocs + 1);
	if (tr->stamp[id] == doc1) {
		tr->ent[tr->pos[id]].w += w;
		return;
	}
	tr->stamp[id] = doc1;
	tr->df[id]++;
	if (tr->nent == tr->ecap) {
		tr->ecap = tr->ecap ? 2 * tr->ecap : 65536;
		tr->ent = xreallocarray(tr->ent, tr->ecap, sizeof *tr->ent);
	}
	tr->pos[id] = (int)tr->nent;
	tr->ent[tr->nent].idx = id;
	tr->ent[tr->nent].w = w;
	tr->nent++;
}

/* one video's terms in order of extraction: bytes, weight, pd_hash64 */
typedef struct tterm {
	size_t off;		/* into text */
	size_t len;
	float w;
	uint64_t h;
} tterm;

struct pd_tterms {
	extractor x;
	pd_buf text;
	tterm *v;
	int n, cap;
};

pd_tterms *pd_tterms_new(void)
{
	return xcalloc(1, sizeof(pd_tterms));
}

void pd_tterms_free(pd_tterms *t)
{
	if (!t)
		return;
	pd_etok_release(&t->x.tok);
	pd_buf_release(&t->x.tmp);
	pd_buf_release(&t->text);
	free(t->v);
	free(t);
}

static void collect_cb(const char *s, size_t n, float w, void *ud)
{
	pd_tterms *t = ud;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->v = xreallocarray(t->v, (size_t)t->cap, sizeof *t->v);
	}
	tterm *e = &t->v[t->n++];
	e->off = t->text.len;
	e->len = n;
	e->w = w;
	e->h = pd_hash64(s, n);
	pd_buf_add(&t->text, s, n);
}

void pd_tterms_extract(pd_tterms *t, const pd_tdoc_text *doc)
{
	t->n = 0;
	pd_buf_reset(&t->text);
	t->x.cb = collect_cb;
	t->x.ud = t;
	extract(&t->x, doc);
}

void pd_ttrainer_add_terms(pd_ttrainer *tr, const pd_tterms *t)
{
	/* the map's slots are cache misses once it is large: ask for each a
	   few terms before it is needed (the hashes are known) */
	enum { AHEAD = 6 };
	for (int i = 0; i < t->n && i < AHEAD; i++)
		pd_strmap_prefetch(tr->all, t->v[i].h);
	for (int i = 0; i < t->n; i++) {
		if (i + AHEAD < t->n)
			pd_strmap_prefetch(tr->all, t->v[i + AHEAD].h);
		const tterm *e = &t->v[i];
		int added;
		add_term(tr, pd_strmap_intern_hashed(tr->all, t->text.p + e->off, e->len, e->h, &added),
			 e->w);
	}
	if (tr->ndocs + 2 > tr->dcap) {
		tr->dcap *= 2;
		tr->dptr = xreallocarray(tr->dptr, tr->dcap, sizeof *tr->dptr);
	}
	tr->ndocs++;
	tr->dptr[tr->ndocs] = tr->nent;
}

void pd_ttrainer_add(pd_ttrainer *tr, const pd_tdoc_text *doc)
{
	if (!tr->terms)
		tr->terms = pd_tterms_new();
	pd_tterms_extract(tr->terms, doc);
	pd_ttrainer_add_terms(tr, tr->terms);
}

typedef struct cand {
	int id, df;
	const char *s;
} cand;

static int cmp_cand_df(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	if (x->df != y->df)
		return x->df > y->df ? -1 : 1;
	return strcmp(x->s, y->s);
}

static int cmp_cand_str(const void *a, const void *b)
{
	return strcmp(((const cand *)a)->s, ((const cand *)b)->s);
}

/* the training videos' embeddings, by parts of the rows */
typedef struct embed_rows {
	const pd_csr *A;
	const pd_tmodel *m;
	size_t first, count;
	float *E;
} embed_rows;

static void embed_part(int part, void *ud)
{
	embed_rows *s = ud;
	const pd_csr *A = s->A;
	size_t r0 = s->first + s->count * (size_t)part / PD_SVD_PARTS;
	size_t r1 = s->first + s->count * (size_t)(part + 1) / PD_SVD_PARTS;
	tw *row = NULL;
	size_t rcap = 0;
	for (size_t d = r0; d < r1; d++) {
		size_t k = A->rowptr[d + 1] - A->rowptr[d];
		if (k > rcap) {
			rcap = k;
			row = xreallocarray(row, rcap, sizeof *row);
		}
		for (size_t j = 0; j < k; j++) {
			row[j].idx = A->col[A->rowptr[d] + j];
			row[j].w = A->val[A->rowptr[d] + j];
		}
		project(row, (int)k, s->m->proj, s->m->dims, s->E + (d - s->first) * (size_t)s->m->dims);
	}
	free(row);
}

void pd_ttrainer_embed(const pd_ttrainer *tr, const pd_tmodel *m, size_t first, size_t count,
		       int threads, float *out)
{
	embed_rows er = { &tr->A, m, first, count, out };
	pd_par_for(pd_par_threads(threads), PD_SVD_PARTS, embed_part, &er);
}

int pd_ttrainer_train(pd_ttrainer *tr, const pd_tmodel_params *p, pd_tmodel **out,
		      float **emb, pd_err *err)
{
	*out = NULL;
	if (emb)
		*emb = NULL;
	size_t N = tr->ndocs;
	if (N == 0)
		return pd_err_set(err, PD_EUSAGE, "no videos to train the text model on");
	int nall = pd_strmap_size(tr->all);
	int min_df = p->min_df > 0 ? p->min_df : 2;
	if (N < 20)
		min_df = 1;
	double max_df = p->max_df_share > 0 ? p->max_df_share * (double)N : (double)N;
	if (N < 20)
		max_df = (double)N;
	cand *c = xmalloc((size_t)(nall ? nall : 1) * sizeof *c);
	int nc = 0;
	for (int i = 0; i < nall; i++)
		if (tr->df[i] >= min_df && (double)tr->df[i] <= max_df) {
			c[nc].id = i;
			c[nc].df = tr->df[i];
			c[nc].s = pd_strmap_key(tr->all, i);
			nc++;
		}
	if (nc == 0) {
		free(c);
		return pd_err_set(err, PD_EUSAGE,
				  "the videos share no terms: nothing to learn a text model from");
	}
	qsort(c, (size_t)nc, sizeof *c, cmp_cand_df);
	if (p->max_terms > 0 && nc > p->max_terms)
		nc = p->max_terms;
	qsort(c, (size_t)nc, sizeof *c, cmp_cand_str);

	pd_tmodel *m = xcalloc(1, sizeof *m);
	m->dims = p->dims > 0 ? p->dims : 256;
	m->nterms = nc;
	m->docs = N;
	m->term = xmalloc((size_t)nc * sizeof *m->term);
	m->idf = xmalloc((size_t)nc * sizeof *m->idf);
	int *vidx = xmalloc((size_t)nall * sizeof *vidx);
	for (int i = 0; i < nall; i++)
		vidx[i] = -1;
	for (int i = 0; i < nc; i++) {
		m->term[i] = xstrdup(c[i].s);
		m->idf[i] = (float)(log((1.0 + (double)N) / (1.0 + (double)c[i].df)) + 1.0);
		vidx[c[i].id] = i;
	}
	free(c);
	model_index(m);

	/* the TF-IDF rows; what led to them is no longer needed */
	pd_csr A = { 0 };
	A.nrows = N;
	A.ncols = nc;
	A.rowptr = xmalloc((N + 1) * sizeof *A.rowptr);
	size_t nnz = 0;
	for (size_t i = 0; i < tr->nent; i++)
		nnz += vidx[tr->ent[i].idx] >= 0;
	A.col = xmalloc((nnz ? nnz : 1) * sizeof *A.col);
	A.val = xmalloc((nnz ? nnz : 1) * sizeof *A.val);
	tw *row = NULL;
	size_t rcap = 0, at = 0;
	A.rowptr[0] = 0;
	for (size_t d = 0; d < N; d++) {
		size_t n = tr->dptr[d + 1] - tr->dptr[d];
		if (n > rcap) {
			rcap = n;
			row = xreallocarray(row, rcap, sizeof *row);
		}
		int k = 0;
		for (size_t e = tr->dptr[d]; e < tr->dptr[d + 1]; e++) {
			int v = vidx[tr->ent[e].idx];
			if (v >= 0) {
				row[k].idx = v;
				row[k].w = tr->ent[e].w;
				k++;
			}
		}
		finalize(row, k, m->idf);
		for (int j = 0; j < k; j++) {
			A.col[at] = row[j].idx;
			A.val[at] = row[j].w;
			at++;
		}
		A.rowptr[d + 1] = at;
	}
	free(vidx);
	free(tr->ent);
	tr->ent = NULL;
	tr->nent = tr->ecap = 0;
	pd_strmap_free(tr->all);
	tr->all = pd_strmap_new();
	free(tr->df);
	free(tr->stamp);
	free(tr->pos);
	tr->df = tr->stamp = tr->pos = NULL;
	tr->tcap = 0;

	/* the projection: the leading right singular vectors */
	size_t small = N < (size_t)nc ? N : (size_t)nc;
	m->rank = m->dims < (int)small ? m->dims : (int)small;
	m->proj = xcalloc((size_t)nc * m->dims, sizeof *m->proj);
	float *V = xmalloc((size_t)nc * m->rank * sizeof *V);
	if (pd_rsvd(&A, m->rank, p->oversample, p->power_iters, p->seed, p->threads, V, NULL, err) < 0) {
		free(V);
		free(row);
		pd_csr_release(&A);
		pd_tmodel_free(m);
		return -1;
	}
	for (int t = 0; t < nc; t++)
		memcpy(m->proj + (size_t)t * m->dims, V + (size_t)t * m->rank,
		       (size_t)m->rank * sizeof *V);
	free(V);

	free(row);
	tr->A = A;
	if (emb) {
		*emb = xmalloc(N * (size_t)m->dims * sizeof **emb);
		pd_ttrainer_embed(tr, m, 0, N, p->threads, *emb);
	}
	*out = m;
	return 0;
}

/* ---- the file ---- */

static void put32(pd_buf *b, uint32_t v)
{
	unsigned char t[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 24) };
	pd_buf_add(b, t, 4);
}

static void put64(pd_buf *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

static void putf(pd_buf *b, float f)
{
	uint32_t v;
	memcpy(&v, &f, 4);
	put32(b, v);
}

int pd_tmodel_save(const pd_tmodel *m, const char *path, pd_err *err)
{
	pd_buf b = PD_BUF_INIT;
	pd_buf_add(&b, MODEL_MAGIC, 4);
	put32(&b, MODEL_VERSION);
	put32(&b, PD_ETOK_VERSION);
	put32(&b, (uint32_t)m->dims);
	put32(&b, (uint32_t)m->rank);
	put32(&b, (uint32_t)m->nterms);
	put64(&b, m->docs);
	for (int i = 0; i < m->nterms; i++) {
		size_t n = strlen(m->term[i]);
		put32(&b, (uint32_t)n);
		pd_buf_add(&b, m->term[i], n);
	}
	for (int i = 0; i < m->nterms; i++)
		putf(&b, m->idf[i]);
	size_t np = (size_t)m->nterms * m->dims;
	for (size_t i = 0; i < np; i++)
		putf(&b, m->proj[i]);
	put64(&b, pd_hash64(b.p, b.len));
	FILE *f = fopen(path, "wb");
	int rc = 0;
	if (!f) {
		rc = pd_err_set(err, PD_ESERVICE, "cannot write '%s': %m", path);
	} else {
		size_t w = fwrite(b.p, 1, b.len, f);
		if (w != b.len || fclose(f) != 0)
			rc = pd_err_set(err, PD_ESERVICE, "cannot write '%s'", path);
	}
	pd_buf_release(&b);
	return rc;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

pd_tmodel *pd_tmodel_load(const char *path, pd_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		pd_err_set(err, PD_EUSAGE, "cannot open model '%s': %m", path);
		return NULL;
	}
	pd_buf b = PD_BUF_INIT;
	char chunk[65536];
	size_t r;
	while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
		pd_buf_add(&b, chunk, r);
	int bad = ferror(f);
	fclose(f);
	const unsigned char *p = (const unsigned char *)b.p;
	size_t n = b.len, at = 0;
	pd_tmodel *m = NULL;
	if (bad) {
		pd_err_set(err, PD_EUSAGE, "cannot read model '%s'", path);
		goto fail;
	}
	if (n < 36 || memcmp(p, MODEL_MAGIC, 4) != 0) {
		pd_err_set(err, PD_EUSAGE, "'%s' is not a pd-embed model", path);
		goto fail;
	}
	uint64_t h = (uint64_t)get32(p + n - 8) | (uint64_t)get32(p + n - 4) << 32;
	if (h != pd_hash64(p, n - 8)) {
		pd_err_set(err, PD_EUSAGE, "model '%s' is damaged (checksum mismatch)", path);
		goto fail;
	}
	if (get32(p + 4) != MODEL_VERSION) {
		pd_err_set(err, PD_EUSAGE, "model '%s' has format %u; this pd-embed reads %u: "
			   "retrain it (pd-embed --save-model)", path, get32(p + 4), MODEL_VERSION);
		goto fail;
	}
	if (get32(p + 8) != PD_ETOK_VERSION) {
		pd_err_set(err, PD_EUSAGE, "model '%s' was trained with tokeniser version %u; this "
			   "pd-embed cuts words with version %u, so the model must be retrained "
			   "(pd-embed --save-model)", path, get32(p + 8), PD_ETOK_VERSION);
		goto fail;
	}
	m = xcalloc(1, sizeof *m);
	m->dims = (int)get32(p + 12);
	m->rank = (int)get32(p + 16);
	uint32_t nt = get32(p + 20);
	m->docs = (uint64_t)get32(p + 24) | (uint64_t)get32(p + 28) << 32;
	at = 32;
	if (m->dims < 1 || m->dims > 65536 || m->rank < 0 || m->rank > m->dims || nt > (1u << 26)) {
		pd_err_set(err, PD_EUSAGE, "model '%s' has impossible sizes", path);
		goto fail;
	}
	m->term = xcalloc(nt ? nt : 1, sizeof *m->term);
	for (uint32_t i = 0; i < nt; i++) {
		if (at + 4 > n - 8)
			goto trunc;
		uint32_t len = get32(p + at);
		at += 4;
		if (len > n - 8 - at)
			goto trunc;
		m->term[i] = xmemdup(p + at, len);
		m->nterms = (int)i + 1;
		at += len;
	}
	size_t need = (size_t)nt * 4 + (size_t)nt * (size_t)m->dims * 4;
	if (n - 8 - at != need)
		goto trunc;
	m->idf = xmalloc((size_t)(nt ? nt : 1) * sizeof *m->idf);
	memcpy(m->idf, p + at, (size_t)nt * 4);
	at += (size_t)nt * 4;
	m->proj = xmalloc((size_t)(nt ? nt : 1) * m->dims * sizeof *m->proj);
	memcpy(m->proj, p + at, (size_t)nt * m->dims * 4);
	model_index(m);
	pd_buf_release(&b);
	return m;
trunc:
	pd_err_set(err, PD_EUSAGE, "model '%s' is truncated or malformed", path);
fail:
	pd_tmodel_free(m);
	pd_buf_release(&b);
	return NULL;
}
