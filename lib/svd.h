/*
 * svd.h — sparse matrices (CSR), a fixed-partition parallel loop, and the
 * randomised truncated SVD of pd-embed.
 *
 * The local text model reduces a TF-IDF matrix (videos x terms, sparse) to
 * its leading right singular vectors (Halko, Martinsson & Tropp 2011) by
 * subspace iteration on A^T A: a Gaussian test matrix Z (terms x l),
 * q times Z = orth(A^T (A Z)), then W = A^T (A Z) and, in double, the
 * l x l problems that turn W into the right singular vectors (svd.c).
 * A Z is made and used 256 rows at a time, never stored whole, so the
 * memory is a few terms x l matrices whatever the number of videos.  orth
 * is Cholesky QR (Gram matrix summed in float over 512 rows at a time,
 * then in double; dpotrf; strsm), Householder QR if the Gram matrix is
 * singular.
 *
 * Threads: the work is cut into a fixed number of parts (PD_SVD_PARTS row
 * ranges) whatever the thread count; each part's sums run in a fixed order
 * and parts are added in index order, and OpenBLAS runs on one thread inside
 * each part; so the result is the same bytes for any number of threads.
 */
#ifndef PD_SVD_H
#define PD_SVD_H
#include <stddef.h>
#include <stdint.h>
#include "err.h"

#define PD_SVD_PARTS 8

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
 * pd_par_for: fn(task, ud) for every task in [0, ntasks), on up to
 * `threads` threads (<= 1: in the caller, in order).  Tasks must write
 * disjoint outputs; which thread runs a task never changes its result.
 */
void pd_par_for(int threads, int ntasks, void (*fn)(int task, void *ud), void *ud);
/* pd_par_threads: n if n >= 1, else the online processors (at most 64). */
int pd_par_threads(int n);

/*
 * pd_rsvd: the k leading right singular vectors of a, as the columns of V
 * (ncols x k, row-major, caller-allocated) and the singular values in sv
 * (k, may be NULL).  Requires 1 <= k <= min(nrows, ncols).  Each vector's
 * sign is fixed so that its largest component is positive.  threads: as
 * pd_par_threads (the result does not depend on it).  Returns 0 or -1 with
 * err (a LAPACK failure).
 */
int pd_rsvd(const pd_csr *a, int k, int oversample, int power_iters, uint64_t seed,
	    int threads, float *V, float *sv, pd_err *err);

#endif
