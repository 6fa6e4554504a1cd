/*
 * svd.h — sparse matrices (CSR) and the randomised truncated SVD of pd-embed.
 *
 * The local text model reduces a TF-IDF matrix (videos x terms, sparse) to
 * its leading right singular vectors (Halko, Martinsson & Tropp 2011): a
 * Gaussian test matrix, a range finder with power iterations, each step
 * re-orthonormalised by QR (LAPACKE sgeqrf + sorgqr), then the SVD of the
 * small projected matrix (LAPACKE sgesdd).  The sparse products are plain
 * loops in a fixed order (so the result does not depend on threads); the
 * dense work is LAPACK/BLAS.
 */
#ifndef PD_SVD_H
#define PD_SVD_H
#include <stddef.h>
#include <stdint.h>
#include "err.h"

typedef struct pd_csr {
	size_t nrows;
	int ncols;
	size_t *rowptr;		/* nrows + 1 */
	int *col;		/* column of each nonzero, increasing within a row */
	float *val;
} pd_csr;

void pd_csr_release(pd_csr *a);

/* pd_csr_mul: Y (nrows x l) = A M, M is ncols x l, row-major. */
void pd_csr_mul(const pd_csr *a, const float *M, int l, float *Y);
/* pd_csr_tmul: Z (ncols x l) = A^T Y, Y is nrows x l. */
void pd_csr_tmul(const pd_csr *a, const float *Y, int l, float *Z);

/*
 * pd_rsvd: the k leading right singular vectors of a, as the columns of V
 * (ncols x k, row-major, caller-allocated) and the singular values in sv
 * (k, may be NULL).  Requires 1 <= k <= min(nrows, ncols).  Each vector's
 * sign is fixed so that its largest component is positive.  Returns 0 or -1
 * with err (a LAPACK failure).
 */
int pd_rsvd(const pd_csr *a, int k, int oversample, int power_iters, uint64_t seed,
	    float *V, float *sv, pd_err *err);

#endif
