/*
 * test_svd.c — unit tests of lib/svd.c and lib/tfidf.c: sparse products
 * against dense ones, the randomised SVD against LAPACK's exact SVD of the
 * dense matrix (singular values, and the subspace of the right singular
 * vectors), sign convention and orthonormality, the text model's save/load
 * round trip (embeddings bit for bit) and its refusal of damaged files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <lapacke.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../lib/pd.h"
#include "../../lib/svd.h"
#include "../../lib/tfidf.h"
#include "../../lib/embedtok.h"

/* a random sparse matrix of low rank plus noise, as CSR and dense */
static void make(pd_csr *a, float **dense, size_t n, int m, uint64_t seed)
{
	pd_rng r;
	pd_rng_seed(&r, seed);
	float *D = xcalloc(n * m, sizeof *D);
	float U[5][64];
	for (int k = 0; k < 5; k++)
		for (int j = 0; j < m; j++)
			U[k][j] = (float)pd_rng_normal(&r) * (float)(5 - k);
	for (size_t i = 0; i < n; i++) {
		int k = (int)(i % 5);
		for (int j = 0; j < m; j++)
			if (pd_rng_uniform(&r) < 0.3)
				D[i * m + j] = U[k][j] + 0.1f * (float)pd_rng_normal(&r);
	}
	a->nrows = n;
	a->ncols = m;
	a->rowptr = xmalloc((n + 1) * sizeof *a->rowptr);
	a->col = xmalloc(n * m * sizeof *a->col);
	a->val = xmalloc(n * m * sizeof *a->val);
	size_t at = 0;
	a->rowptr[0] = 0;
	for (size_t i = 0; i < n; i++) {
		for (int j = 0; j < m; j++)
			if (D[i * m + j] != 0) {
				a->col[at] = j;
				a->val[at++] = D[i * m + j];
			}
		a->rowptr[i + 1] = at;
	}
	*dense = D;
}

static void sparse_products(void **state)
{
	pd_csr a;
	float *D;
	size_t n = 50;
	int m = 20, l = 3;
	make(&a, &D, n, m, 1);
	float M[20 * 3], Y[50 * 3], Z[20 * 3];
	for (int i = 0; i < m * l; i++)
		M[i] = (float)(i % 7) - 3;
	pd_csr_mul(&a, M, l, Y);
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < l; c++) {
			double s = 0;
			for (int j = 0; j < m; j++)
				s += D[i * m + j] * M[j * l + c];
			assert_float_equal(Y[i * l + c], s, 1e-3);
		}
	pd_csr_tmul(&a, Y, l, Z);
	for (int j = 0; j < m; j++)
		for (int c = 0; c < l; c++) {
			double s = 0;
			for (size_t i = 0; i < n; i++)
				s += D[i * m + j] * Y[i * l + c];
			assert_float_equal(Z[j * l + c], s, 1e-2 * (1 + fabs(s)));
		}
	pd_csr_release(&a);
	free(D);
}

static void rsvd_matches_exact(void **state)
{
	pd_csr a;
	float *D;
	size_t n = 400;
	int m = 64, k = 5;
	make(&a, &D, n, m, 2);
	float *V = xmalloc((size_t)m * k * sizeof *V), sv[5];
	pd_err err;
	assert_int_equal(pd_rsvd(&a, k, 10, 3, 7, 1, V, sv, &err), 0);
	/* exact */
	float *Dc = xmalloc(n * m * sizeof *Dc), s[64], *U = xmalloc(n * m * sizeof *U), VT[64 * 64];
	memcpy(Dc, D, n * m * sizeof *Dc);
	assert_int_equal(LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)n, m, Dc, m, s, U, m, VT, m), 0);
	for (int j = 0; j < k; j++)
		assert_float_equal(sv[j], s[j], 1e-3 * s[0]);
	for (int j = 0; j < k; j++) {
		/* |<v_j, exact v_j>| ~ 1, unit length, largest component positive */
		double dot = 0, nn = 0, big = 0, bigv = 0;
		for (int t = 0; t < m; t++) {
			dot += V[t * k + j] * VT[j * m + t];
			nn += V[t * k + j] * V[t * k + j];
			if (fabs(V[t * k + j]) > big) {
				big = fabs(V[t * k + j]);
				bigv = V[t * k + j];
			}
		}
		assert_float_equal(fabs(dot), 1.0, 1e-3);
		assert_float_equal(nn, 1.0, 1e-4);
		assert_true(bigv > 0);
	}
	/* k beyond the rank bound is refused */
	assert_int_equal(pd_rsvd(&a, 65, 10, 3, 7, 1, V, sv, &err), -1);
	pd_csr_release(&a);
	free(D);
	free(Dc);
	free(U);
	free(V);
}

static void model_roundtrip(void **state)
{
	static const char *titles[] = {
		"minecraft survival ep 1", "minecraft survival ep 2", "minecraft castle build",
		"easy pasta recipe", "pasta carbonara recipe", "perfect ramen recipe",
		"pixel 6 review", "iphone 13 review", "pixel 6 camera test", "簡単 パスタ",
		"簡単 ラーメン", "arsenal vs chelsea highlights", "chelsea vs arsenal goals",
	};
	int n = (int)(sizeof titles / sizeof *titles);
	const char *tags[] = { "gaming", "food" };
	pd_ttrainer *tr = pd_ttrainer_new();
	for (int i = 0; i < n; i++) {
		pd_tdoc_text d = { titles[i], "a description", tags + (i & 1), 1 };
		pd_ttrainer_add(tr, &d);
	}
	pd_tmodel_params p;
	pd_tmodel_params_default(&p);
	p.dims = 8;
	pd_tmodel *m;
	float *E;
	pd_err err;
	assert_int_equal(pd_ttrainer_train(tr, &p, &m, &E, &err), 0);
	assert_int_equal(pd_tmodel_dims(m), 8);
	char path[] = "/tmp/pd-test-model.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(pd_tmodel_save(m, path, &err), 0);
	pd_tmodel *m2 = pd_tmodel_load(path, &err);
	assert_non_null(m2);
	float e[8];
	for (int i = 0; i < n; i++) {
		pd_tdoc_text d = { titles[i], "a description", tags + (i & 1), 1 };
		pd_tmodel_embed(m2, &d, e);
		assert_memory_equal(e, E + i * 8, sizeof e);
		assert_float_equal(pd_vec_norm(e, 8), 1.0, 1e-5);
	}
	/* an unknown text: zero vector */
	pd_tdoc_text z = { "zzzz qqqq", NULL, NULL, 0 };
	assert_int_equal(pd_tmodel_embed(m2, &z, e), 0);
	assert_float_equal(pd_vec_norm(e, 8), 0.0, 0);
	/* a model of tokeniser version 1 (before text.c's words): refused, retrain */
	{
		FILE *g = fopen(path, "rb");
		fseek(g, 0, SEEK_END);
		long sz = ftell(g);
		fseek(g, 0, SEEK_SET);
		unsigned char *b = xmalloc((size_t)sz);
		assert_int_equal(fread(b, 1, (size_t)sz, g), (size_t)sz);
		fclose(g);
		assert_int_equal(b[8], PD_ETOK_VERSION);
		b[8] = 1;
		uint64_t h = pd_hash64(b, (unsigned long)sz - 8);
		for (int i = 0; i < 8; i++)
			b[sz - 8 + i] = (unsigned char)(h >> (8 * i));
		char old[] = "/tmp/pd-test-model-v1.XXXXXX";
		int fd1 = mkstemp(old);
		assert_true(fd1 >= 0);
		assert_int_equal(write(fd1, b, (size_t)sz), sz);
		close(fd1);
		assert_null(pd_tmodel_load(old, &err));
		assert_non_null(strstr(err.msg, "tokeniser version 1"));
		assert_non_null(strstr(err.msg, "retrained"));
		unlink(old);
		free(b);
	}
	/* damaged: one byte changed */
	FILE *f = fopen(path, "r+b");
	fseek(f, 40, SEEK_SET);
	int c = fgetc(f);
	fseek(f, 40, SEEK_SET);
	fputc(c ^ 1, f);
	fclose(f);
	assert_null(pd_tmodel_load(path, &err));
	assert_non_null(strstr(err.msg, "checksum"));
	unlink(path);
	pd_tmodel_free(m);
	pd_tmodel_free(m2);
	pd_ttrainer_free(tr);
	free(E);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sparse_products),
		cmocka_unit_test(rsvd_matches_exact),
		cmocka_unit_test(model_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
