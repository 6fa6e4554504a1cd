/*
 * blas.h — pd's one door to BLAS and LAPACK (OpenBLAS's CBLAS and LAPACKE).
 *
 * Every module that multiplies vectors or matrices includes this header, not
 * <cblas.h> or <lapacke.h>, so the choice of implementation and its
 * thread-count controls live in one place.  pd_blas_config() names the build
 * (for --version).
 */
#ifndef PD_BLAS_H
#define PD_BLAS_H

#include <cblas.h>
#include <lapacke.h>

/*
 * The BLAS routines pd uses, row-major (pd's matrices all are): the same
 * arguments as their CBLAS namesakes without the layout.  A module calls
 * these, so what BLAS does for pd can be read, counted or swapped here.
 */
static inline void pd_sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
			    const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
	cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static inline void pd_ssyrk(CBLAS_UPLO uplo, CBLAS_TRANSPOSE t, int n, int k, float alpha, const float *a,
			    int lda, float beta, float *c, int ldc)
{
	cblas_ssyrk(CblasRowMajor, uplo, t, n, k, alpha, a, lda, beta, c, ldc);
}

static inline void pd_strsm(CBLAS_SIDE side, CBLAS_UPLO uplo, CBLAS_TRANSPOSE t, CBLAS_DIAG diag, int m, int n,
			    float alpha, const float *a, int lda, float *b, int ldb)
{
	cblas_strsm(CblasRowMajor, side, uplo, t, diag, m, n, alpha, a, lda, b, ldb);
}

static inline void pd_dtrsm(CBLAS_SIDE side, CBLAS_UPLO uplo, CBLAS_TRANSPOSE t, CBLAS_DIAG diag, int m, int n,
			    double alpha, const double *a, int lda, double *b, int ldb)
{
	cblas_dtrsm(CblasRowMajor, side, uplo, t, diag, m, n, alpha, a, lda, b, ldb);
}

/* The BLAS build's own description ("OpenBLAS 0.3.21 ..."). */
static inline const char *pd_blas_config(void) { return openblas_get_config(); }

#endif
