/*
 * svd.c — randomised truncated SVD of a sparse matrix (see svd.h).
 *
 * With l = k + oversample columns (capped by the matrix's smaller side):
 *   Y = A Omega; Y = orth(Y); q times { Z = orth(A^T Y); Y = orth(A Z) };
 *   B^T = A^T Y (ncols x l); B^T = U S W^T (sgesdd, thin);
 * then A ~ Y B = Y W S U^T, so the right singular vectors of A are the
 * columns of U.  Memory: nrows x l + 2 ncols x l floats.
 *
 * OpenBLAS's threaded QR and SVD round differently with different thread
 * counts (measured: the embeddings changed between OPENBLAS_NUM_THREADS=1
 * and 2), and pd's output must not depend on it; so pd_rsvd runs OpenBLAS
 * on one thread and restores the caller's setting after.
 */
#include "pd.h"
#include "svd.h"
#include "blas.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void pd_csr_release(pd_csr *a)
{
	free(a->rowptr);
	free(a->col);
	free(a->val);
	memset(a, 0, sizeof *a);
}

void pd_csr_mul(const pd_csr *a, const float *M, int l, float *Y)
{
	for (size_t i = 0; i < a->nrows; i++) {
		float *y = Y + i * (size_t)l;
		memset(y, 0, (size_t)l * sizeof *y);
		for (size_t p = a->rowptr[i]; p < a->rowptr[i + 1]; p++) {
			const float *m = M + (size_t)a->col[p] * l;
			float v = a->val[p];
			for (int j = 0; j < l; j++)
				y[j] += v * m[j];
		}
	}
}

void pd_csr_tmul(const pd_csr *a, const float *Y, int l, float *Z)
{
	memset(Z, 0, (size_t)a->ncols * l * sizeof *Z);
	for (size_t i = 0; i < a->nrows; i++) {
		const float *y = Y + i * (size_t)l;
		for (size_t p = a->rowptr[i]; p < a->rowptr[i + 1]; p++) {
			float *z = Z + (size_t)a->col[p] * l;
			float v = a->val[p];
			for (int j = 0; j < l; j++)
				z[j] += v * y[j];
		}
	}
}

/* M (rows x cols, rows >= cols) := an orthonormal basis of its columns */
static int orth(float *M, size_t rows, int cols, float *tau, pd_err *err)
{
	lapack_int r = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rows, cols, M, cols, tau);
	if (r == 0)
		r = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, cols, cols, M, cols, tau);
	if (r != 0)
		return pd_err_set(err, PD_ESERVICE, "LAPACK QR failed (info %d)", (int)r);
	return 0;
}

int pd_rsvd(const pd_csr *a, int k, int oversample, int power_iters, uint64_t seed,
	    float *V, float *sv, pd_err *err)
{
	size_t small = a->nrows < (size_t)a->ncols ? a->nrows : (size_t)a->ncols;
	if (k < 1 || (size_t)k > small)
		return pd_err_set(err, PD_EUSAGE, "SVD: %d components of a %zu x %d matrix", k,
				  a->nrows, a->ncols);
	size_t l = (size_t)k + (size_t)(oversample > 0 ? oversample : 0);
	if (l > small)
		l = small;
	int L = (int)l, rc = 0;
	int threads = openblas_get_num_threads();
	openblas_set_num_threads(1);
	size_t T = (size_t)a->ncols, N = a->nrows;
	float *Om = xmalloc(T * l * sizeof *Om);
	float *Y = xmalloc(N * l * sizeof *Y);
	float *tau = xmalloc(l * sizeof *tau);
	float *s = xmalloc(l * sizeof *s);
	float *U = NULL, *VT = NULL;
	pd_rng rng;
	pd_rng_seed(&rng, seed);
	for (size_t i = 0; i < T * l; i++)
		Om[i] = (float)pd_rng_normal(&rng);
	pd_csr_mul(a, Om, L, Y);
	if ((rc = orth(Y, N, L, tau, err)) < 0)
		goto out;
	for (int q = 0; q < power_iters; q++) {
		pd_csr_tmul(a, Y, L, Om);	/* Om reused as Z */
		if ((rc = orth(Om, T, L, tau, err)) < 0)
			goto out;
		pd_csr_mul(a, Om, L, Y);
		if ((rc = orth(Y, N, L, tau, err)) < 0)
			goto out;
	}
	pd_csr_tmul(a, Y, L, Om);		/* B^T */
	U = xmalloc(T * l * sizeof *U);
	VT = xmalloc(l * l * sizeof *VT);
	lapack_int info = LAPACKE_sgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)T, L, Om, L, s, U, L, VT, L);
	if (info != 0) {
		rc = pd_err_set(err, PD_ESERVICE, "LAPACK sgesdd failed (info %d)", (int)info);
		goto out;
	}
	for (int j = 0; j < k; j++) {
		/* sign: the largest component positive (first one on ties) */
		size_t arg = 0;
		float big = -1;
		for (size_t t = 0; t < T; t++) {
			float v = fabsf(U[t * l + (size_t)j]);
			if (v > big) {
				big = v;
				arg = t;
			}
		}
		float sg = U[arg * l + (size_t)j] < 0 ? -1.0f : 1.0f;
		for (size_t t = 0; t < T; t++)
			V[t * (size_t)k + (size_t)j] = sg * U[t * l + (size_t)j];
		if (sv)
			sv[j] = s[j];
	}
out:
	openblas_set_num_threads(threads);
	free(Om);
	free(Y);
	free(tau);
	free(s);
	free(U);
	free(VT);
	return rc;
}
