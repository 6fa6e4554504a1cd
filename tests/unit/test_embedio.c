/*
 * test_embedio.c — unit tests of lib/embedio.c, pd-embed's training stream:
 * the kind of every sort of line (a video to embed, one already carrying an
 * embedding, with and without force, another record, a bad line, a video
 * without an id); lines examined on two scanners in any order; the second
 * pass writes every line as pd_record_parse + pd_record_set_emb +
 * pd_record_write would with the embeddings a plain trainer gives, the
 * others as read, counts what it embedded, and its bytes do not depend on
 * the threads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/embedio.h"

enum { NV = 24, NL = NV + 3 };	/* three lines are not videos */
static char *lines[NL];
static int kinds[NL];

static const char *const words[] = { "red fox", "blue whale", "green frog", "gold fish" };

static void make_lines(void)
{
	pd_buf b = PD_BUF_INIT;
	int v = 0;
	for (int i = 0; i < NL; i++) {
		pd_buf_reset(&b);
		if (i == 3) {
			pd_buf_adds(&b, "{\"type\":\"note\",\"x\":1}");
			kinds[i] = PD_EML_OTHER;
		} else if (i == 7) {
			pd_buf_adds(&b, "{\"type\":\"video\",\"id\":\"bad\"");
			kinds[i] = PD_EML_REJECT;
		} else if (i == 11) {
			pd_buf_adds(&b, "{\"type\":\"video\",\"title\":\"no id\"}");
			kinds[i] = PD_EML_REJECT;
		} else {
			char t[128];
			snprintf(t, sizeof t, "{\"type\":\"video\",\"id\":\"v%d\",\"title\":\"%s %s\"%s}",
				 v, words[v % 4], words[(v / 4) % 4],
				 i == 5 ? ",\"embedding_b64\":\"AACAPwAAAAA=\"" : "");
			pd_buf_adds(&b, t);
			kinds[i] = i == 5 ? PD_EML_KEEP : PD_EML_EMBED;
			v++;
		}
		lines[i] = xstrdup(b.p);
	}
	pd_buf_release(&b);
}

/* the whole stream through t's two passes; the output and the rejects */
static void run(int force, int threads, int order, pd_buf *out, int *nrej,
		unsigned long long *embedded, unsigned long long *zero)
{
	pd_err err;
	pd_emtrain *t = pd_emtrain_new(force, &err);
	assert_non_null(t);
	pd_embatch *b = pd_embatch_new();
	pd_embatch_reset(b, NL);
	for (int j = 0; j < NL; j++) {	/* order 1: from the end, scanners alternating */
		int i = order ? NL - 1 - j : j;
		pd_emtrain_examine(t, b, i, i & 1, lines[i], strlen(lines[i]));
	}
	*nrej = 0;
	for (int i = 0; i < NL; i++) {
		const char *why = NULL;
		int rc = pd_emtrain_take(t, b, i, lines[i], strlen(lines[i]), &why, &err);
		assert_int_equal(rc, kinds[i] == PD_EML_REJECT);
		if (rc) {
			assert_true(why && *why);
			++*nrej;
		}
	}
	pd_tmodel_params p;
	pd_tmodel_params_default(&p);
	p.dims = 4;
	p.threads = threads;
	pd_tmodel *m = NULL;
	assert_int_equal(pd_ttrainer_train(pd_emtrain_trainer(t), &p, &m, NULL, &err), 0);
	pd_emout *o;
	int rc;
	while ((rc = pd_emtrain_next(t, m, p.dims, PD_EMB_B64, threads, &o, &err)) > 0)
		for (int k = 0; k < PD_SVD_PARTS; k++)
			pd_buf_add(out, o->out[k].p, o->out[k].len);
	assert_int_equal(rc, 0);
	pd_emtrain_counts(t, embedded, zero);
	pd_tmodel_free(m);
	pd_embatch_free(b);
	pd_emtrain_free(t);
}

/* what the stream should be: each video trained on by a plain trainer */
static void expected(int force, pd_buf *out)
{
	pd_err err;
	pd_ttrainer *tr = pd_ttrainer_new();
	pd_record r = PD_RECORD_INIT;
	for (int i = 0; i < NL; i++) {
		if (kinds[i] < PD_EML_EMBED)
			continue;
		pd_video v;
		assert_int_equal(pd_record_parse(&r, lines[i], strlen(lines[i]), &err), 0);
		assert_int_equal(pd_video_from_json(r.json, &v, &err), 0);
		pd_tdoc_text d;
		pd_embed_doc(&v, &d);
		pd_ttrainer_add(tr, &d);
		pd_video_release(&v);
	}
	pd_tmodel_params p;
	pd_tmodel_params_default(&p);
	p.dims = 4;
	pd_tmodel *m = NULL;
	float *E = NULL;
	assert_int_equal(pd_ttrainer_train(tr, &p, &m, &E, &err), 0);
	size_t doc = 0;
	for (int i = 0; i < NL; i++) {
		if (kinds[i] == PD_EML_REJECT)
			continue;
		if (kinds[i] == PD_EML_OTHER || (kinds[i] == PD_EML_KEEP && !force)) {
			pd_buf_add(out, lines[i], strlen(lines[i]));
			pd_buf_addc(out, '\n');
		} else {
			assert_int_equal(pd_record_parse(&r, lines[i], strlen(lines[i]), &err), 0);
			pd_record_set_emb(&r, E + doc * 4, 4);
			pd_record_write(&r, out, PD_EMB_B64);
		}
		doc += kinds[i] != PD_EML_OTHER;
	}
	free(E);
	pd_record_release(&r);
	pd_tmodel_free(m);
	pd_ttrainer_free(tr);
}

static void stream(void **state)
{
	(void)state;
	for (int force = 0; force < 2; force++) {
		pd_buf want = PD_BUF_INIT, a = PD_BUF_INIT, b = PD_BUF_INIT;
		int nrej;
		unsigned long long emb, zero;
		expected(force, &want);
		run(force, 1, 0, &a, &nrej, &emb, &zero);
		assert_int_equal(nrej, 2);
		assert_int_equal(emb, force ? NV : NV - 1);
		assert_int_equal(zero, 0);
		assert_int_equal(a.len, want.len);
		assert_memory_equal(a.p, want.p, want.len);
		run(force, 3, 1, &b, &nrej, &emb, &zero);
		assert_int_equal(b.len, want.len);
		assert_memory_equal(b.p, want.p, want.len);
		pd_buf_release(&want);
		pd_buf_release(&a);
		pd_buf_release(&b);
	}
}

/* a line that is not one (over-long, unreadable) passes as read */
static void not_a_line(void **state)
{
	(void)state;
	pd_err err;
	pd_emtrain *t = pd_emtrain_new(0, &err);
	assert_non_null(t);
	pd_embatch *b = pd_embatch_new();
	pd_embatch_reset(b, 1);
	pd_emtrain_examine(t, b, 0, 0, NULL, 0);
	const char *why = NULL;
	assert_int_equal(pd_emtrain_take(t, b, 0, "x", 1, &why, &err), 0);
	assert_int_equal(pd_ttrainer_docs(pd_emtrain_trainer(t)), 0);
	pd_emout *o;
	assert_int_equal(pd_emtrain_next(t, NULL, 4, PD_EMB_B64, 1, &o, &err), 1);
	assert_int_equal(o->nrec[PD_SVD_PARTS - 1], 1);
	assert_int_equal(o->out[PD_SVD_PARTS - 1].len, 2);
	assert_int_equal(pd_emtrain_next(t, NULL, 4, PD_EMB_B64, 1, &o, &err), 0);
	pd_embatch_free(b);
	pd_emtrain_free(t);
}

int main(void)
{
	make_lines();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(stream),
		cmocka_unit_test(not_a_line),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (int i = 0; i < NL; i++)
		free(lines[i]);
	return rc;
}
