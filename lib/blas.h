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

/* The BLAS build's own description ("OpenBLAS 0.3.21 ..."). */
static inline const char *pd_blas_config(void) { return openblas_get_config(); }

#endif
