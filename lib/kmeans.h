/*
 * kmeans.h — spherical (cosine) k-means over unit vectors, with OpenBLAS.
 *
 * The vectors are rows of a row-major n x d float matrix, each of length 1
 * (or 0).  Similarity is the dot product; a cluster's centroid is the mean of
 * its members scaled to unit length; the objective is the mean cosine
 * distance 1 - cos(x, centroid).  Seeding is k-means++ (D^2 sampling, where
 * for unit vectors the squared Euclidean distance is 2 (1 - cos)) with a few
 * greedy trials per centre, from a pd_rng seeded by the caller.  Assignment
 * steps are blocked products X_block * C^T (pd_km_assign_blas).
 *
 * Reproducibility: every random choice comes from the seed; sums are taken in
 * a fixed order; ties go to the lower index.  Final memberships
 * that other runs must reproduce exactly (pd-cluster --assign) are those of
 * pd_km_nearest, a fixed-order dot product that does not depend on the batch
 * or on BLAS threads; pd_km_assign_blas gets the same answers faster.
 */
#ifndef PD_KMEANS_H
#define PD_KMEANS_H
#include <stddef.h>
#include <stdint.h>
#include "err.h"
#include "rng.h"

typedef struct pd_kmeans_opts {
	int max_iter;		/* Lloyd iterations at most (0: 20) */
	double tol;		/* stop when the objective improves by less than tol
				   (relative; 0: 1e-4) or no membership changes */
	uint64_t seed;
	size_t seed_sample;	/* k-means++ runs on at most this many points
				   (0: max(1000, 32 k)) */
	int max_per_centroid;	/* iterate on a seeded sample of at most this many
				   points per centre, as faiss does (0: 256; <0:
				   all points); assign and obj are still over all */
} pd_kmeans_opts;

/*
 * pd_kmeans: cluster X (n x d, unit rows) into k clusters, 1 <= k <= n.
 * Fills C (k x d, unit rows, caller-allocated) and, when not NULL, assign
 * (n ints) and sim (n floats) with the membership of every point in the
 * final C and its similarity, as pd_km_assign_blas gives them (not exact);
 * *obj (may be NULL) gets the final mean cosine distance.  Returns the number of
 * iterations run, or -1 with err (PD_EUSAGE) for a bad k.
 */
int pd_kmeans(const float *X, size_t n, int d, int k, const pd_kmeans_opts *o,
	      float *C, int *assign, float *sim, double *obj, pd_err *err);

/*
 * pd_km_update: the update step — C[c] (k x d) := the mean direction of the
 * rows of X assigned to c by a (summed in row order); a centre without
 * members keeps its place.  sum: room for k x d floats.
 */
void pd_km_update(const float *X, size_t n, int d, const int *a, int k, float *C, float *sum);

/* pd_km_sample: m of the n rows of X (m <= n), drawn without replacement
   from rng, in their order, as a new m x d array (the caller's to free). */
float *pd_km_sample(const float *X, size_t n, int d, size_t m, pd_rng *rng);

/* pd_km_dot: a[0..d) . b[0..d) in a fixed order (8 lanes, then a fixed tree). */
float pd_km_dot(const float *a, const float *b, int d);

/* pd_km_dots: out[j] = pd_km_dot(x, C + j d, d) for j in [0,k), bit for bit,
   several rows of C at a time. */
void pd_km_dots(const float *x, const float *C, int k, int d, float *out);

/* pd_km_set_kernel: pd_km_dots's SIMD kernel, chosen for the CPU at first
   use; generic 1 forces the SSE2 one, 0 the wider one (AVX2), returning 0 if
   the CPU lacks it.  For tests: every kernel gives the same bits.  Not to be
   called while another thread clusters. */
int pd_km_set_kernel(int generic);

/* pd_km_set_sims_kernel: the kernel of pd_km_assign_blas's similarities,
   chosen for the CPU at first use: kind 2 AVX-512, 1 AVX2 (both with FMA:
   the same bits), 0 OpenBLAS's sgemm, -1 the CPU's best; returns 0 (and
   changes nothing) if the CPU lacks it.  For tests and benches; not to be
   called while another thread clusters. */
int pd_km_set_sims_kernel(int kind);

/*
 * pd_km_nearest: the index in [0,k) of the row of C (k x d) most similar to
 * x, ties to the lower index; *sim (may be NULL) gets the similarity.
 * Deterministic bit for bit: the same x and C give the same answer whatever
 * else is being clustered.
 */
int pd_km_nearest(const float *x, const float *C, int k, int d, float *sim);

/*
 * pd_km_assign_blas: for each row of X (n x d), the most similar row of C
 * (k x d) into assign and its similarity into sim (either may be NULL), by
 * blocks of products: each similarity one chain of fused multiply-adds over
 * the dimensions in order (AVX2 or AVX-512: the same bits), or OpenBLAS's
 * sgemm on CPUs without FMA.  Large products are spread over as many
 * threads as OpenBLAS is given (openblas_get_num_threads).  The membership
 * is the same as pd_km_nearest's, bit for bit: when the best and second
 * best similarities are closer than the rounding error of a d-term dot
 * product can explain, the row is decided by pd_km_nearest.  With exact,
 * the similarity reported is pd_km_dot's; else the kernel's, which can
 * differ from it in the last bits (and does not depend on the thread count).
 */
void pd_km_assign_blas(const float *X, size_t n, int d, const float *C, int k,
		       int *assign, float *sim, int exact);

/*
 * pd_km_assign_bounded: pd_km_assign_blas (exact 0) for centres C that moved
 * from Cold (both k x d), doing less work when they moved little, with the
 * same memberships and similarities bit for bit.  other (n x
 * pd_km_bounds_len(k) floats) carries between calls, for each row and group
 * of 16 centres, a bound on the row's similarity to the group's centres but
 * its own: Cold NULL scans every row and fills it; else assign and other
 * must hold what the call for Cold left (a row whose membership the caller
 * changed since must have every bound INFINITY).  A group whose bound, moved
 * by its centres' largest move, stays below the row's similarity to its own
 * centre by more than the rounding error and the tie margin is not computed
 * (Yinyang k-means' group filter; Hamerly's when nothing is left); see
 * kmeans.c.  *kept (may be NULL) gets the number of rows that kept their
 * centre after one similarity.  Without pd's kernel (sgemm: the bits of one
 * pair are not known) every row is scanned.
 */
/* pd_kmeans and pd-cluster keep bounds from this many centres: with fewer
   groups the one similarity each row pays for its bounds saves too little */
#define PD_KM_BOUNDS_MIN_K 80
size_t pd_km_bounds_len(int k);
void pd_km_assign_bounded(const float *X, size_t n, int d, const float *Cold, const float *C,
			  int k, int *assign, float *sim, float *other, size_t *kept);

#endif
