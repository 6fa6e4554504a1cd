/*
 * svd.c — randomised truncated SVD of a sparse matrix (see svd.h).
 *
 * With l = k + oversample columns (capped by the matrix's smaller side),
 * Z a Gaussian terms x l matrix:
 *   q times { W = A^T (A Z); Z = orth(W) };  W = A^T (A Z);
 *   R^T R = Z^T W  (= (A Z)^T (A Z), so Y = A Z R^-1 is orthonormal);
 *   B^T = A^T Y = W R^-1 (terms x l);
 *   B B^T = R^-T W^T W R^-1 = Vr S^2 Vr^T (dsyevd, all l x l in double);
 *   the right singular vectors of A: B^T Vr S^-1 = W (R^-1 Vr S^-1).
 * In exact arithmetic this is Halko et al.'s algorithm 4.4 with the
 * orthonormal Y of the videos' side never formed: A Z is made 256 rows at a
 * time and folded into A^T (A Z) at once, so memory does not grow with the
 * number of videos beyond A itself.
 *
 * Parallel parts: the videos are cut into PD_SVD_PARTS row ranges and the
 * terms into PD_SVD_PARTS row ranges, whatever the thread count.  Each part
 * sums in a fixed order into its own buffer; the parts' buffers are added in
 * index order.  OpenBLAS runs on one thread throughout (its threaded
 * kernels round differently with different thread counts), restored after.
 */
#include "pd.h"
#include "svd.h"
#include "blas.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLK 256		/* rows of A Z made at a time */
#define GBLK 512	/* rows summed in float before the double sum of a Gram matrix */

void pd_csr_release(pd_csr *a)
{
	free(a->rowptr);
	free(a->col);
	free(a->val);
	memset(a, 0, sizeof *a);
}

/* ---- kernels: y += v x over l floats, 8 lanes at a time (no FMA, so every
   build rounds alike) ---- */

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

typedef float v8f __attribute__((vector_size(32)));

static inline void axpy(float v, const float *restrict x, float *restrict y, int l)
{
	int j = 0;
	v8f vv = { v, v, v, v, v, v, v, v };
	for (; j + 8 <= l; j += 8) {
		v8f a, b;
		memcpy(&a, x + j, sizeof a);
		memcpy(&b, y + j, sizeof b);
		b += vv * a;
		memcpy(y + j, &b, sizeof b);
	}
	for (; j < l; j++)
		y[j] += v * x[j];
}

/* unaligned loads and stores of 8 floats (macros: no vector passes a call) */
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v8f))
#define STORE8(p, v) memcpy((p), &(v), sizeof(v8f))

/* Y[0..r1-r0) = A[r0..r1) M; 64 columns at a time held in registers (each
   sum still runs over the row's nonzeros in order) */
CLONES static void rows_mul(const pd_csr *a, size_t r0, size_t r1, const float *M, int l, float *Y)
{
	int l64 = l - l % 64;
	for (size_t i = r0; i < r1; i++) {
		float *y = Y + (i - r0) * (size_t)l;
		size_t p0 = a->rowptr[i], p1 = a->rowptr[i + 1];
		for (int j = 0; j < l64; j += 64) {
			v8f c0 = { 0 }, c1 = { 0 }, c2 = { 0 }, c3 = { 0 }, c4 = { 0 }, c5 = { 0 }, c6 = { 0 }, c7 = { 0 };
			for (size_t p = p0; p < p1; p++) {
				const float *m = M + (size_t)a->col[p] * l + j;
				float v = a->val[p];
				v8f vv = { v, v, v, v, v, v, v, v };
				v8f t;
				LOAD8(t, m);
				c0 += vv * t;
				LOAD8(t, m + 8);
				c1 += vv * t;
				LOAD8(t, m + 16);
				c2 += vv * t;
				LOAD8(t, m + 24);
				c3 += vv * t;
				LOAD8(t, m + 32);
				c4 += vv * t;
				LOAD8(t, m + 40);
				c5 += vv * t;
				LOAD8(t, m + 48);
				c6 += vv * t;
				LOAD8(t, m + 56);
				c7 += vv * t;
			}
			STORE8(y + j, c0);
			STORE8(y + j + 8, c1);
			STORE8(y + j + 16, c2);
			STORE8(y + j + 24, c3);
			STORE8(y + j + 32, c4);
			STORE8(y + j + 40, c5);
			STORE8(y + j + 48, c6);
			STORE8(y + j + 56, c7);
		}
		memset(y + l64, 0, (size_t)(l - l64) * sizeof *y);
		for (size_t p = p0; p < p1; p++)
			axpy(a->val[p], M + (size_t)a->col[p] * l + l64, y + l64, l - l64);
	}
}

/* Z += A[r0..r1)^T Y[0..r1-r0); 32 columns of a row of Y held in registers */
CLONES static void rows_tmul_add(const pd_csr *a, size_t r0, size_t r1, const float *Y, int l, float *Z)
{
	int l32 = l - l % 32;
	for (size_t i = r0; i < r1; i++) {
		const float *y = Y + (i - r0) * (size_t)l;
		size_t p0 = a->rowptr[i], p1 = a->rowptr[i + 1];
		for (int j = 0; j < l32; j += 32) {
			v8f y0, y1, y2, y3;
			LOAD8(y0, y + j);
			LOAD8(y1, y + j + 8);
			LOAD8(y2, y + j + 16);
			LOAD8(y3, y + j + 24);
			for (size_t p = p0; p < p1; p++) {
				float *z = Z + (size_t)a->col[p] * l + j;
				float v = a->val[p];
				v8f vv = { v, v, v, v, v, v, v, v };
				v8f t;
				LOAD8(t, z);
				t += vv * y0;
				STORE8(z, t);
				LOAD8(t, z + 8);
				t += vv * y1;
				STORE8(z + 8, t);
				LOAD8(t, z + 16);
				t += vv * y2;
				STORE8(z + 16, t);
				LOAD8(t, z + 24);
				t += vv * y3;
				STORE8(z + 24, t);
			}
		}
		for (size_t p = p0; p < p1; p++)
			axpy(a->val[p], y + l32, Z + (size_t)a->col[p] * l + l32, l - l32);
	}
}

void pd_csr_mul(const pd_csr *a, const float *M, int l, float *Y)
{
	rows_mul(a, 0, a->nrows, M, l, Y);
}

void pd_csr_tmul(const pd_csr *a, const float *Y, int l, float *Z)
{
	memset(Z, 0, (size_t)a->ncols * l * sizeof *Z);
	rows_tmul_add(a, 0, a->nrows, Y, l, Z);
}

/* ---- threads ---- */

typedef struct par {
	void (*fn)(int, void *);
	void *ud;
	int ntasks, nthreads, me;
} par;

static void *par_main(void *arg)
{
	par *p = arg;
	for (int t = p->me; t < p->ntasks; t += p->nthreads)
		p->fn(t, p->ud);
	return NULL;
}

int pd_par_threads(int n)
{
	if (n >= 1)
		return n;
	long c = sysconf(_SC_NPROCESSORS_ONLN);
	return c < 1 ? 1 : c > 64 ? 64 : (int)c;
}

void pd_par_for(int threads, int ntasks, void (*fn)(int task, void *ud), void *ud)
{
	int nt = threads < ntasks ? threads : ntasks;
	if (nt <= 1) {
		for (int t = 0; t < ntasks; t++)
			fn(t, ud);
		return;
	}
	par ps[64];
	pthread_t th[64];
	int started = 0;
	if (nt > 64)
		nt = 64;
	for (int i = 0; i < nt; i++)
		ps[i] = (par){ fn, ud, ntasks, nt, i };
	for (int i = 1; i < nt; i++) {
		if (pthread_create(&th[i], NULL, par_main, &ps[i]) != 0)
			break;
		started = i;
	}
	/* threads that could not start: their tasks run here, after ours */
	par_main(&ps[0]);
	for (int i = started + 1; i < nt; i++)
		par_main(&ps[i]);
	for (int i = 1; i <= started; i++)
		pthread_join(th[i], NULL);
}

/* the row range of part i of n rows */
static void part_range(size_t n, int i, size_t *r0, size_t *r1)
{
	*r0 = n * (size_t)i / PD_SVD_PARTS;
	*r1 = n * (size_t)(i + 1) / PD_SVD_PARTS;
}

/* ---- W = A^T (A Z) ---- */

typedef struct ata {
	const pd_csr *a;
	const float *Z;
	int L;
	float **scratch;	/* per slot: ncols x L */
	float **yb;		/* per slot: BLK x L */
	int base;		/* first part of this round */
	float *W;
	int cnt;		/* parts in this round */
} ata;

static void ata_part(int slot, void *ud)
{
	ata *s = ud;
	size_t r0, r1;
	part_range(s->a->nrows, s->base + slot, &r0, &r1);
	float *Wp = s->scratch[slot];
	memset(Wp, 0, (size_t)s->a->ncols * s->L * sizeof *Wp);
	for (size_t b = r0; b < r1; b += BLK) {
		size_t e = b + BLK < r1 ? b + BLK : r1;
		rows_mul(s->a, b, e, s->Z, s->L, s->yb[slot]);
		rows_tmul_add(s->a, b, e, s->yb[slot], s->L, Wp);
	}
}

/* W += the round's parts, in order; task i: the i-th range of W's floats */
static void ata_add(int task, void *ud)
{
	ata *s = ud;
	size_t n = (size_t)s->a->ncols * s->L, r0, r1;
	part_range(n, task, &r0, &r1);
	for (int k = 0; k < s->cnt; k++) {
		const float *src = s->scratch[k];
		if (s->base == 0 && k == 0)
			memcpy(s->W + r0, src + r0, (r1 - r0) * sizeof *src);
		else
			for (size_t i = r0; i < r1; i++)
				s->W[i] += src[i];
	}
}

static void ata_mul(const pd_csr *a, const float *Z, int L, int nt, float **scratch, float **yb, float *W)
{
	ata s = { a, Z, L, scratch, yb, 0, W, 0 };
	for (s.base = 0; s.base < PD_SVD_PARTS; s.base += nt) {
		s.cnt = PD_SVD_PARTS - s.base < nt ? PD_SVD_PARTS - s.base : nt;
		pd_par_for(nt, s.cnt, ata_part, &s);
		pd_par_for(nt, PD_SVD_PARTS, ata_add, &s);
	}
}

/* ---- Gram matrices in double: G = X^T Y over rows, in parts ---- */

typedef struct gram {
	const float *X, *Y;	/* rows x L; Y == X: X^T X */
	size_t rows;
	int L;
	double *G[PD_SVD_PARTS];
} gram;

static void gram_part(int part, void *ud)
{
	gram *s = ud;
	size_t r0, r1, L = (size_t)s->L;
	part_range(s->rows, part, &r0, &r1);
	double *G = s->G[part];
	memset(G, 0, L * L * sizeof *G);
	float *g = xmalloc(L * L * sizeof *g);
	for (size_t b = r0; b < r1; b += GBLK) {
		size_t e = b + GBLK < r1 ? b + GBLK : r1, m = e - b;
		if (s->Y != s->X)
			pd_sgemm(CblasTrans, CblasNoTrans, (int)L, (int)L, (int)m, 1.0f,
				    s->X + b * L, (int)L, s->Y + b * L, (int)L, 0.0f, g, (int)L);
		else
			pd_ssyrk(CblasUpper, CblasTrans, (int)L, (int)m, 1.0f, s->X + b * L,
				    (int)L, 0.0f, g, (int)L);
		for (size_t i = 0; i < L; i++)
			for (size_t j = s->Y != s->X ? 0 : i; j < L; j++)
				G[i * L + j] += g[i * L + j];
	}
	free(g);
}

/* G (L x L, upper triangle at least) = X^T Y */
static void gram_of(const float *X, const float *Y, size_t rows, int L, int nt, double *G)
{
	gram s = { X, Y, rows, L, { 0 } };
	size_t LL = (size_t)L * L;
	for (int p = 0; p < PD_SVD_PARTS; p++)
		s.G[p] = xmalloc(LL * sizeof(double));
	pd_par_for(nt, PD_SVD_PARTS, gram_part, &s);
	memcpy(G, s.G[0], LL * sizeof *G);
	for (int p = 1; p < PD_SVD_PARTS; p++)
		for (size_t i = 0; i < LL; i++)
			G[i] += s.G[p][i];
	for (int p = 0; p < PD_SVD_PARTS; p++)
		free(s.G[p]);
}

/* X := X R^-1 (R upper, L x L, float), by row parts */
typedef struct trsm {
	float *X;
	size_t rows;
	int L;
	const float *R;
} trsm;

static void trsm_part(int part, void *ud)
{
	trsm *s = ud;
	size_t r0, r1;
	part_range(s->rows, part, &r0, &r1);
	if (r1 > r0)
		pd_strsm(CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, (int)(r1 - r0),
			    s->L, 1.0f, s->R, s->L, s->X + r0 * (size_t)s->L, s->L);
}

static void right_solve(float *X, size_t rows, int L, const double *R, int nt)
{
	size_t LL = (size_t)L * L;
	float *Rf = xcalloc(LL, sizeof *Rf);
	for (int i = 0; i < L; i++)
		for (int j = i; j < L; j++)
			Rf[(size_t)i * L + j] = (float)R[(size_t)i * L + j];
	trsm s = { X, rows, L, Rf };
	pd_par_for(nt, PD_SVD_PARTS, trsm_part, &s);
	free(Rf);
}

/* upper Cholesky factor of G in place (lower triangle zeroed); -1 if not positive definite */
static int chol(double *G, int L)
{
	if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', L, G, L) != 0)
		return -1;
	for (int i = 0; i < L; i++)
		for (int j = 0; j < i; j++)
			G[(size_t)i * L + j] = 0;
	return 0;
}

/*
 * X (rows x L, rows >= L) := an orthonormal basis of its columns: Cholesky
 * QR, `passes` times; Householder QR when the Gram matrix is not positive
 * definite (a rank-deficient X).
 */
static int orth(float *X, size_t rows, int L, int passes, int nt, pd_err *err)
{
	double *G = xmalloc((size_t)L * L * sizeof *G);
	int ok = 1;
	for (int p = 0; p < passes && ok; p++) {
		gram_of(X, X, rows, L, nt, G);
		ok = chol(G, L) == 0;
		if (ok)
			right_solve(X, rows, L, G, nt);
	}
	free(G);
	if (ok)
		return 0;
	float *tau = xmalloc((size_t)L * sizeof *tau);
	lapack_int r = LAPACKE_sgeqrf(LAPACK_ROW_MAJOR, (lapack_int)rows, L, X, L, tau);
	if (r == 0)
		r = LAPACKE_sorgqr(LAPACK_ROW_MAJOR, (lapack_int)rows, L, L, X, L, tau);
	free(tau);
	if (r != 0)
		return pd_err_set(err, PD_ESERVICE, "LAPACK QR failed (info %d)", (int)r);
	return 0;
}

int pd_rsvd(const pd_csr *a, int k, int oversample, int power_iters, uint64_t seed,
	    int threads, float *V, float *sv, pd_err *err)
{
	size_t small = a->nrows < (size_t)a->ncols ? a->nrows : (size_t)a->ncols;
	if (k < 1 || (size_t)k > small)
		return pd_err_set(err, PD_EUSAGE, "SVD: %d components of a %zu x %d matrix", k,
				  a->nrows, a->ncols);
	size_t l = (size_t)k + (size_t)(oversample > 0 ? oversample : 0);
	if (l > small)
		l = small;
	int L = (int)l, rc = 0;
	int nt = pd_par_threads(threads);
	if (nt > PD_SVD_PARTS)
		nt = PD_SVD_PARTS;
	int blas_threads = openblas_get_num_threads();
	openblas_set_num_threads(1);
	size_t T = (size_t)a->ncols, TL = T * l, LL = l * l;
	float *Z = xmalloc(TL * sizeof *Z);
	float *W = xmalloc(TL * sizeof *W);
	float *scratch[PD_SVD_PARTS], *yb[PD_SVD_PARTS];
	for (int i = 0; i < nt; i++) {
		scratch[i] = xmalloc(TL * sizeof *scratch[i]);
		yb[i] = xmalloc(BLK * l * sizeof *yb[i]);
	}
	double *G = xmalloc(LL * sizeof *G), *H = xmalloc(LL * sizeof *H), *C = xmalloc(LL * sizeof *C);
	double *s = xmalloc(l * sizeof *s);
	float *Cf = xmalloc(LL * sizeof *Cf);
	pd_rng rng;
	pd_rng_seed(&rng, seed);
	for (size_t i = 0; i < TL; i++)
		Z[i] = (float)pd_rng_normal(&rng);
	for (int q = 0; q < power_iters; q++) {
		ata_mul(a, Z, L, nt, scratch, yb, W);
		float *t = Z;
		Z = W;
		W = t;
		if ((rc = orth(Z, T, L, 1, nt, err)) < 0)
			goto out;
	}
	ata_mul(a, Z, L, nt, scratch, yb, W);
	/* R^T R = Z^T W; B^T = W R^-1 (into W) */
	gram_of(Z, W, T, L, nt, G);
	for (int i = 0; i < L; i++)	/* symmetric: the upper triangle from both */
		for (int j = i + 1; j < L; j++)
			G[(size_t)i * L + j] = 0.5 * (G[(size_t)i * L + j] + G[(size_t)j * L + i]);
	if (chol(G, L) < 0) {
		/* rank-deficient A Z: a tiny shift keeps the basis change defined */
		gram_of(Z, W, T, L, nt, G);
		double tr = 0;
		for (int i = 0; i < L; i++)
			tr += G[(size_t)i * L + i];
		for (int i = 0; i < L; i++)
			G[(size_t)i * L + i] += 1e-6 * tr / L + 1e-30;
		if (chol(G, L) < 0) {
			rc = pd_err_set(err, PD_ESERVICE, "LAPACK Cholesky failed");
			goto out;
		}
	}
	/* B B^T = R^-T (W^T W) R^-1 = Vr S^2 Vr^T; the left singular vectors of
	   B^T, the right ones of A: B^T Vr S^-1 = W (R^-1 Vr S^-1) */
	gram_of(W, W, T, L, nt, H);
	for (int i = 0; i < L; i++)
		for (int j = 0; j < i; j++)
			H[(size_t)i * L + j] = H[(size_t)j * L + i];
	pd_dtrsm(CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, L, L, 1.0, G, L, H, L);
	pd_dtrsm(CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, L, L, 1.0, G, L, H, L);
	for (int i = 0; i < L; i++)	/* symmetric up to rounding */
		for (int j = i + 1; j < L; j++)
			H[(size_t)i * L + j] = H[(size_t)j * L + i] = 0.5 * (H[(size_t)i * L + j] + H[(size_t)j * L + i]);
	lapack_int info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', L, H, L, s);
	if (info != 0) {
		rc = pd_err_set(err, PD_ESERVICE, "LAPACK dsyevd failed (info %d)", (int)info);
		goto out;
	}
	/* C = R^-1 Vr S^-1, columns by decreasing singular value */
	for (int i = 0; i < L; i++)
		for (int j = 0; j < L; j++)
			C[(size_t)i * L + j] = H[(size_t)i * L + (L - 1 - j)];
	pd_dtrsm(CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, L, L, 1.0, G, L, C, L);
	for (int j = 0; j < L; j++) {
		double lam = s[L - 1 - j], inv = lam > 0 ? 1.0 / sqrt(lam) : 0;
		for (int i = 0; i < L; i++)
			Cf[(size_t)i * L + j] = (float)(C[(size_t)i * L + j] * inv);
	}
	pd_sgemm(CblasNoTrans, CblasNoTrans, (int)T, L, L, 1.0f, W, L, Cf, L, 0.0f, Z, L);
	for (int j = 0; j < k; j++) {
		/* sign: the largest component positive (first one on ties) */
		size_t arg = 0;
		float big = -1;
		for (size_t t = 0; t < T; t++) {
			float v = fabsf(Z[t * l + (size_t)j]);
			if (v > big) {
				big = v;
				arg = t;
			}
		}
		float sg = Z[arg * l + (size_t)j] < 0 ? -1.0f : 1.0f;
		for (size_t t = 0; t < T; t++)
			V[t * (size_t)k + (size_t)j] = sg * Z[t * l + (size_t)j];
		if (sv)
			sv[j] = (float)(s[L - 1 - j] > 0 ? sqrt(s[L - 1 - j]) : 0);
	}
out:
	openblas_set_num_threads(blas_threads);
	free(Z);
	free(W);
	for (int i = 0; i < nt; i++) {
		free(scratch[i]);
		free(yb[i]);
	}
	free(G);
	free(H);
	free(C);
	free(s);
	free(Cf);
	return rc;
}
