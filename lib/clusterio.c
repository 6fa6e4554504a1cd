/*
 * clusterio.c — pd-cluster's stream (see clusterio.h).
 *
 * A batch keeps its lines' results in arrays (one slot per line) and what
 * they point into (embeddings, strings) in two arenas, one per thread that
 * may examine lines at once, so that neither waits for the other; the
 * arenas are emptied, not freed, when the batch is reused for the next
 * chunk.  Training keeps one byte per line taken (what it becomes on the
 * second reading), which is all the second reading needs to write each
 * line in order without examining it again.
 */
#include "pd.h"
#include "clusterio.h"
#include "video.h"
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* what a thread keeps of the lines it examines (two may at once) */
typedef struct arena {
	pd_record rec;		/* reused */
	pd_jobj obj;
	float *embs;
	size_t nembs, cembs;
	pd_buf str;
} arena;

struct pd_clbatch {
	int cap;		/* lines the arrays have room for */
	int *k;			/* per line: examine_video's answer, or PD_CLL_* */
	int *dim;
	unsigned char *who;	/* per line: the arena it was examined into */
	double *perf;
	long *chan, *title, *msg;	/* per line: offsets in str, -1 for none */
	size_t *emb;		/* per line: the first of its floats in embs */
	int *nodes;		/* placed, per line: its clusters (PD_NLEVELS) */
	float *msim;		/* placed, per line: similarity to its micro cluster */
	arena a[2];
};

pd_clbatch *pd_clbatch_new(void)
{
	pd_clbatch *b = xcalloc(1, sizeof *b);
	for (int w = 0; w < 2; w++) {
		pd_record r0 = PD_RECORD_INIT;
		pd_jobj o0 = PD_JOBJ_INIT;
		b->a[w].rec = r0;
		b->a[w].obj = o0;
	}
	return b;
}

void pd_clbatch_free(pd_clbatch *b)
{
	if (!b)
		return;
	for (int w = 0; w < 2; w++) {
		pd_record_release(&b->a[w].rec);
		pd_jobj_release(&b->a[w].obj);
		free(b->a[w].embs);
		pd_buf_release(&b->a[w].str);
	}
	free(b->k);
	free(b->dim);
	free(b->perf);
	free(b->chan);
	free(b->title);
	free(b->msg);
	free(b->emb);
	free(b->who);
	free(b->nodes);
	free(b->msim);
	free(b);
}

void pd_clbatch_reset(pd_clbatch *b, int n)
{
	if (n > b->cap) {
		size_t cap = (size_t)n;
		b->k = xreallocarray(b->k, cap, sizeof *b->k);
		b->dim = xreallocarray(b->dim, cap, sizeof *b->dim);
		b->who = xreallocarray(b->who, cap, sizeof *b->who);
		b->perf = xreallocarray(b->perf, cap, sizeof *b->perf);
		b->chan = xreallocarray(b->chan, cap, sizeof *b->chan);
		b->title = xreallocarray(b->title, cap, sizeof *b->title);
		b->msg = xreallocarray(b->msg, cap, sizeof *b->msg);
		b->emb = xreallocarray(b->emb, cap, sizeof *b->emb);
		b->nodes = xreallocarray(b->nodes, cap * PD_NLEVELS, sizeof *b->nodes);
		b->msim = xreallocarray(b->msim, cap, sizeof *b->msim);
		b->cap = n;
	}
	for (int w = 0; w < 2; w++) {
		pd_buf_reset(&b->a[w].str);
		b->a[w].nembs = 0;
	}
}

static long keep_str(pd_buf *b, const char *s)
{
	if (!s)
		return -1;
	long at = (long)b->len;
	pd_buf_add(b, s, strlen(s) + 1);
	return at;
}

/*
 * examine_video: a video record parsed into r (o: scanned, else r->json),
 * read into v, its embedding normalised.  Returns -1 (err: the line is to
 * be rejected), 0 (no embedding, or a zero one: unclustered), 1 (to
 * cluster) or 2 (to cluster, and it carries clusters of an earlier run,
 * which its output replaces).
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

static void examine(pd_clbatch *b, int i, int who, const char *line, size_t len)
{
	arena *A = &b->a[who];
	char type[32];
	pd_err err, err2;
	b->chan[i] = b->title[i] = b->msg[i] = -1;
	b->dim[i] = 0;
	/* read at once without a tree when the scan can (json.h), else
	   parsed whole; a line that is neither is told by its type alone,
	   as the other commands tell it */
	int scanned = pd_record_scan(&A->rec, &A->obj, line, len) == 0;
	int parsed = scanned || pd_record_parse(&A->rec, line, len, &err) == 0;
	if (parsed) {
		memcpy(type, A->rec.type, sizeof type);
	} else if (pd_json_type(line, len, type, sizeof type, &err2) != 1) {
		b->k[i] = PD_CLL_REJECT;
		b->msg[i] = keep_str(&A->str, err2.msg);
		return;
	}
	if (!strcmp(type, "cluster")) {
		b->k[i] = PD_CLL_OLD_CLUSTER;
		return;
	}
	if (strcmp(type, "video")) {
		b->k[i] = PD_CLL_OTHER;
		return;
	}
	pd_video v;
	int k = parsed ? examine_video(&A->rec, scanned ? &A->obj : NULL, &v, &err) : -1;
	if (k < 0) {
		b->k[i] = PD_CLL_REJECT;
		b->msg[i] = keep_str(&A->str, err.msg);
		return;
	}
	b->k[i] = k;
	b->dim[i] = A->rec.dim;
	if (k > 0) {
		size_t dd = (size_t)A->rec.dim;
		if (A->nembs + dd > A->cembs) {
			A->cembs = 2 * (A->nembs + dd);
			A->embs = xreallocarray(A->embs, A->cembs, sizeof *A->embs);
		}
		memcpy(A->embs + A->nembs, A->rec.emb, dd * sizeof *A->embs);
		b->emb[i] = A->nembs;
		A->nembs += dd;
		b->perf[i] = v.perf;
		b->chan[i] = keep_str(&A->str, v.channel_id);
		b->title[i] = keep_str(&A->str, v.title);
	}
	pd_video_release(&v);
}

void pd_clbatch_examine(pd_clbatch *b, int i, int who, const char *line, size_t len,
			const pd_hier *h)
{
	b->who[i] = (unsigned char)who;
	if (!line)
		return;
	examine(b, i, who, line, len);
	if (!h || b->k[i] <= 0 || b->dim[i] != h->d)
		return;
	float sim[PD_NLEVELS];
	pd_hier_place(h, b->a[who].embs + b->emb[i], b->nodes + (size_t)i * PD_NLEVELS, sim);
	b->msim[i] = sim[PD_MICRO];
}

const int *pd_clbatch_placed(const pd_clbatch *b, int i, float *micro_sim)
{
	*micro_sim = b->msim[i];
	return b->nodes + (size_t)i * PD_NLEVELS;
}

int pd_clstream_take(pd_clstream *s, const pd_clbatch *b, int i, pd_err *err)
{
	int k = b->k[i];
	if (k == PD_CLL_REJECT) {
		pd_err_set(err, PD_EREC, "%s", b->a[b->who[i]].str.p + b->msg[i]);
		return k;
	}
	if (k == PD_CLL_OLD_CLUSTER) {
		s->old_clusters++;
		return k;
	}
	if (k == PD_CLL_OTHER)
		return k;
	int dim = b->dim[i];
	if (dim != 0) {
		if (s->d == 0)
			s->d = dim;
		if (dim != s->d) {
			pd_err_set(err, PD_EREC, "embedding of dimension %d, expected %d", dim, s->d);
			return PD_CLL_REJECT;
		}
	}
	if (k == PD_CLL_UNCLUSTERED)
		s->unclustered++;
	return k;
}

/* ---- training ---- */

/* what becomes of a line taken, on the second reading */
enum { K_THROUGH = 0, K_VIDEO = PD_CLL_VIDEO, K_VIDEO_REPLACE = PD_CLL_REPLACE, K_DROPPED = 3 };

int pd_cltrain_init(pd_cltrain *t, char *const *files, int nfiles, pd_err *err)
{
	memset(t, 0, sizeof *t);
	/* input files are read twice; a stream (or gzip) is kept in a temporary file */
	t->fingerprint = pd_input_fingerprint(files, nfiles);
	if (!t->fingerprint && !(t->spill = pd_tmpfile(err)))
		return -1;
	t->vids = pd_cl_videos_new();
	return 0;
}

static int keep_line(pd_cltrain *t, const char *line, size_t len, int kind, pd_err *err)
{
	if (t->nlines == t->kcap) {
		t->kcap = t->kcap ? 2 * t->kcap : 4096;
		t->kind = xrealloc(t->kind, t->kcap);
	}
	t->kind[t->nlines++] = (unsigned char)kind;
	if (t->spill && kind != K_DROPPED &&
	    (fwrite(line, 1, len, t->spill) != len || putc('\n', t->spill) == EOF))
		return pd_err_set(err, PD_ESERVICE, "cannot write the temporary file: %s",
				  strerror(errno));
	return 0;
}

int pd_cltrain_take(pd_cltrain *t, const pd_clbatch *b, int i, const char *line, size_t len,
		    pd_err *err)
{
	int k = pd_clstream_take(&t->s, b, i, err);
	int kind = k == PD_CLL_REJECT || k == PD_CLL_OLD_CLUSTER ? K_DROPPED :
		   k == PD_CLL_OTHER || k == PD_CLL_UNCLUSTERED ? K_THROUGH : k;
	if (kind == K_VIDEO || kind == K_VIDEO_REPLACE) {
		const arena *A = &b->a[b->who[i]];
		size_t d = (size_t)t->s.d;
		if (t->n == t->xcap) {
			t->xcap = t->xcap ? 2 * t->xcap : 1024;
			t->X = xreallocarray(t->X, t->xcap * d, sizeof *t->X);
		}
		memcpy(t->X + t->n * d, A->embs + b->emb[i], d * sizeof *t->X);
		pd_cl_videos_add(t->vids, b->title[i] >= 0 ? A->str.p + b->title[i] : NULL,
				 b->chan[i] >= 0 ? A->str.p + b->chan[i] : NULL, b->perf[i]);
		t->n++;
	}
	pd_err kerr;
	if (keep_line(t, line, len, kind, &kerr) < 0) {
		*err = kerr;
		return -1;
	}
	return k;
}

int pd_cltrain_build(pd_cltrain *t, const pd_hier_opts *o, pd_err *err)
{
	t->memb = xmalloc(t->n * PD_NLEVELS * sizeof *t->memb);
	t->sim = xmalloc(t->n * PD_NLEVELS * sizeof *t->sim);
	int rc = pd_hier_build(t->X, t->n, t->s.d, o, &t->h, t->memb, t->sim, err);
	free(t->X);
	t->X = NULL;
	t->built = rc == 0;
	return rc;
}

static const char changed_msg[] =
	"the input files changed while being read; give them on standard input instead";

pd_input *pd_cltrain_reread(pd_cltrain *t, char *const *files, int nfiles, size_t max_line,
			    pd_err *err)
{
	t->line_at = t->vi_at = 0;
	if (t->spill) {
		if (fflush(t->spill) != 0 || fseek(t->spill, 0, SEEK_SET) != 0) {
			pd_err_set(err, PD_ESERVICE, "cannot read the temporary file back: %s",
			   strerror(errno));
			return NULL;
		}
		return pd_input_open_fd(fileno(t->spill), "(temporary file)", max_line);
	}
	if (pd_input_fingerprint(files, nfiles) != t->fingerprint) {
		pd_err_set(err, PD_EUSAGE, "%s", changed_msg);
		return NULL;
	}
	return pd_input_open(files, nfiles, max_line);
}

static void skip_dropped(pd_cltrain *t)
{
	if (t->spill)	/* dropped lines were not kept */
		while (t->line_at < t->nlines && t->kind[t->line_at] == K_DROPPED)
			t->line_at++;
}

int pd_cltrain_out(pd_cltrain *t, const char *line, size_t len, pd_buf *out, pd_err *err)
{
	skip_dropped(t);
	if (t->line_at == t->nlines) {
		pd_err_set(err, PD_EUSAGE, "%s", changed_msg);
		return -1;
	}
	int k = t->kind[t->line_at++];
	if (k == K_DROPPED)
		return 0;
	if (k == K_THROUGH) {
		pd_buf_add(out, line, len);
		pd_buf_addc(out, '\n');
		return 1;
	}
	pd_err verr;
	if (pd_cluster_video_write(out, line, len, k == K_VIDEO_REPLACE, &t->h,
				   t->memb + t->vi_at * PD_NLEVELS,
				   t->sim[t->vi_at * PD_NLEVELS + PD_MICRO], &verr) < 0)
		abort();	/* the line was parsed before: cannot be malformed */
	t->vi_at++;
	return 1;
}

int pd_cltrain_reread_end(pd_cltrain *t, pd_err *err)
{
	skip_dropped(t);
	if (t->line_at != t->nlines)
		return pd_err_set(err, PD_EUSAGE, "%s ended early when read again",
				  t->spill ? "the temporary file" : "the input");
	return 0;
}

pd_cl_summary *pd_cltrain_summarise(const pd_cltrain *t, int nlabels, double high)
{
	return pd_hier_summarise(&t->h, t->memb, t->vids, nlabels, high);
}

double pd_cltrain_mean_sim(const pd_cltrain *t, int level)
{
	double s = 0;
	for (size_t i = 0; i < t->n; i++)
		s += t->sim[i * PD_NLEVELS + level];
	return s / (double)t->n;
}

void pd_cltrain_release(pd_cltrain *t)
{
	if (t->spill)
		fclose(t->spill);
	free(t->kind);
	free(t->X);
	free(t->memb);
	free(t->sim);
	if (t->built)
		pd_hier_release(&t->h);
	pd_cl_videos_free(t->vids);
	memset(t, 0, sizeof *t);
}
