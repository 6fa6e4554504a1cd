/*
 * kmeans.c — spherical k-means (see kmeans.h).
 *
 * Lloyd's iteration with the assignment step as blocked products (rows of X
 * in blocks whose similarities stay in cache; below) and the update step as
 * fixed-order sums (8 float lanes), so the result does not depend on the
 * thread count: every similarity is computed the same way whichever thread
 * or block holds its row.
 *
 * Seeding is greedy k-means++ (Arthur & Vassilvitskii; the greedy trials as
 * in scikit-learn): each new centre is the best of 2 + ln k candidates drawn
 * by D^2 sampling, on a seeded random sample of the points when there are
 * many (32 points per centre, at least 1000: seeding only places the start).
 *
 * With many points per centre (more than 256 by default) the iterations run
 * on a seeded sample, as faiss does; the final assignment covers everyone.
 *
 * With many centres (PD_KM_BOUNDS_MIN_K), the assignment steps after the
 * first skip the groups of centres that exact bounds prove cannot hold a
 * point's nearest (pd_km_assign_bounded, Yinyang k-means' group filter with
 * the rounding error added): the same answers as the full scan, bit for bit.
 *
 * An empty cluster takes the point farthest from its own centroid among
 * clusters with more than one member (ties to the lower index).
 */
#include "pd.h"
#include "kmeans.h"
#include "vec.h"
#include "blas.h"
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/*
 * The fixed-order dot product: lane l of 8 accumulators sums a[i] b[i] for
 * i = l (mod 8) in increasing i, the tail past the last full 8 is summed on
 * its own, and the lanes are added in a fixed tree.  The 8 lanes are two
 * 4-float vectors (GCC's vector extension; SSE registers on any x86-64),
 * which changes no rounding; ISO C mode keeps multiply and add separate.
 */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float *p)
{
	v4f v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline float finish8(v4f lo, v4f hi, const float *a, const float *b, int i, int d)
{
	float t = 0;
	for (; i < d; i++)
		t += a[i] * b[i];
	return (((lo[0] + lo[1]) + (lo[2] + lo[3])) + ((hi[0] + hi[1]) + (hi[2] + hi[3]))) + t;
}

static void dots_sse(const float *x, const float *C, int k, int d, float *out)
{
	int d8 = d & ~7, j = 0;
	for (; j + 4 <= k; j += 4) {
		const float *c0 = C + (size_t)j * d, *c1 = c0 + d, *c2 = c1 + d, *c3 = c2 + d;
		v4f l0 = { 0 }, h0 = { 0 }, l1 = { 0 }, h1 = { 0 };
		v4f l2 = { 0 }, h2 = { 0 }, l3 = { 0 }, h3 = { 0 };
		for (int i = 0; i < d8; i += 8) {
			v4f xl = load4(x + i), xh = load4(x + i + 4);
			l0 += xl * load4(c0 + i);
			h0 += xh * load4(c0 + i + 4);
			l1 += xl * load4(c1 + i);
			h1 += xh * load4(c1 + i + 4);
			l2 += xl * load4(c2 + i);
			h2 += xh * load4(c2 + i + 4);
			l3 += xl * load4(c3 + i);
			h3 += xh * load4(c3 + i + 4);
		}
		out[j] = finish8(l0, h0, x, c0, d8, d);
		out[j + 1] = finish8(l1, h1, x, c1, d8, d);
		out[j + 2] = finish8(l2, h2, x, c2, d8, d);
		out[j + 3] = finish8(l3, h3, x, c3, d8, d);
	}
	for (; j < k; j++) {
		const float *c = C + (size_t)j * d;
		v4f l0 = { 0 }, h0 = { 0 };
		for (int i = 0; i < d8; i += 8) {
			l0 += load4(x + i) * load4(c + i);
			h0 += load4(x + i + 4) * load4(c + i + 4);
		}
		out[j] = finish8(l0, h0, x, c, d8, d);
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
/* the same sums with the 8 lanes in one AVX register: same roundings */
typedef float v8f __attribute__((vector_size(32)));

__attribute__((target("avx2"))) static inline v8f load8(const float *p)
{
	v8f v;
	memcpy(&v, p, sizeof v);
	return v;
}

__attribute__((target("avx2"))) static inline float finish8w(v8f s, const float *a, const float *b,
							       int i, int d)
{
	float t = 0;
	for (; i < d; i++)
		t += a[i] * b[i];
	return (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) + t;
}

__attribute__((target("avx2"))) static void dots_avx2(const float *x, const float *C, int k, int d,
						       float *out)
{
	int d8 = d & ~7, j = 0;
	for (; j + 4 <= k; j += 4) {
		const float *c0 = C + (size_t)j * d, *c1 = c0 + d, *c2 = c1 + d, *c3 = c2 + d;
		v8f s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, s3 = { 0 };
		for (int i = 0; i < d8; i += 8) {
			v8f xv = load8(x + i);
			s0 += xv * load8(c0 + i);
			s1 += xv * load8(c1 + i);
			s2 += xv * load8(c2 + i);
			s3 += xv * load8(c3 + i);
		}
		out[j] = finish8w(s0, x, c0, d8, d);
		out[j + 1] = finish8w(s1, x, c1, d8, d);
		out[j + 2] = finish8w(s2, x, c2, d8, d);
		out[j + 3] = finish8w(s3, x, c3, d8, d);
	}
	for (; j < k; j++) {
		const float *c = C + (size_t)j * d;
		v8f s0 = { 0 };
		for (int i = 0; i < d8; i += 8)
			s0 += load8(x + i) * load8(c + i);
		out[j] = finish8w(s0, x, c, d8, d);
	}
}
#endif

/* the kernel for this CPU, chosen once (both give the same bits) */
static void (*dots_fn)(const float *, const float *, int, int, float *) = dots_sse;
static pthread_once_t dots_once = PTHREAD_ONCE_INIT;

static void pick_dots(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (pd_cpu_avx2())
		dots_fn = dots_avx2;
#endif
}

int pd_km_set_kernel(int generic)
{
	pthread_once(&dots_once, pick_dots);
	if (generic) {
		dots_fn = dots_sse;
		return 1;
	}
#if defined(__x86_64__) && defined(__GNUC__)
	if (pd_cpu_avx2()) {
		dots_fn = dots_avx2;
		return 1;
	}
#endif
	return 0;
}

void pd_km_dots(const float *x, const float *C, int k, int d, float *out)
{
	pthread_once(&dots_once, pick_dots);
	dots_fn(x, C, k, d, out);
}

float pd_km_dot(const float *a, const float *b, int d)
{
	float r;
	pd_km_dots(a, b, 1, d, &r);
	return r;
}

int pd_km_nearest(const float *x, const float *C, int k, int d, float *sim)
{
	int best = 0;
	float bs = -INFINITY, s[64];
	for (int j0 = 0; j0 < k; j0 += 64) {
		int nb = k - j0 < 64 ? k - j0 : 64;
		pd_km_dots(x, C + (size_t)j0 * d, nb, d, s);
		for (int j = 0; j < nb; j++) {
			if (s[j] > bs) {
				bs = s[j];
				best = j0 + j;
			}
		}
	}
	if (sim)
		*sim = bs;
	return best;
}

/* rows per sgemm block: the block's n_b x k similarities kept under ~16 MB */
static size_t block_rows(int k)
{
	size_t b = (size_t)(4u << 20) / (size_t)(k > 0 ? k : 1);
	if (b > 4096)
		b = 4096;
	if (b < 64)
		b = 64;
	return b;
}

/*
 * The assignment's similarity matrix.  Where the CPU has FMA, pd's own
 * kernel makes it: C is packed into panels of 16 centroids laid out by
 * dimension, and each similarity is one chain of fused multiply-adds over
 * the dimensions in increasing order, so the AVX-512 and the AVX2 kernel
 * (16 or 8 lanes, one centroid per lane) give the same bits, whatever the
 * blocking or the thread count.  OpenBLAS's sgemm is the fallback: the
 * OpenBLAS of Debian 12 picks its generic SSE3 kernels (Prescott) on CPUs it
 * does not know, such as recent Xeons, which made the macro level of a 1M
 * clustering (every video against some 300 centroids) 4x slower than this.
 * The memberships do not depend on the kernel (near ties are decided by
 * pd_km_nearest); the similarities differ from sgemm's in the last bits.
 */
#define PANEL 16

/* Cp (ceil(k/16) panels of d x 16 floats): Cp[q][p][l] = C[16 q + l][p], 0
   past k */
static float *pack_panels(const float *C, int k, int d)
{
	int np = (k + PANEL - 1) / PANEL;
	float *Cp = xcalloc((size_t)np * PANEL * (size_t)d, sizeof *Cp);
	for (int j = 0; j < k; j++) {
		float *dst = Cp + (size_t)(j / PANEL) * PANEL * d + j % PANEL;
		const float *src = C + (size_t)j * d;
		for (int p = 0; p < d; p++)
			dst[(size_t)p * PANEL] = src[p];
	}
	return Cp;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* T (R rows of kp floats) := rows X[0..R) against panels [q0, q1) of Cp */
#define KERN512(R)								\
__attribute__((target("avx512f,fma")))						\
static void sims512_##R(const float *X, int d, const float *Cp, int q0, int q1,	\
			 float *T, int kp)					\
{										\
	int q = q0;								\
	for (; q + 2 <= q1; q += 2) {						\
		const float *b = Cp + (size_t)q * PANEL * d;			\
		__m512 a0[R], a1[R];						\
		_Pragma("GCC unroll 8") for (int r = 0; r < R; r++)					\
			a0[r] = a1[r] = _mm512_setzero_ps();			\
		for (int p = 0; p < d; p++) {					\
			__m512 b0 = _mm512_loadu_ps(b + (size_t)p * PANEL);	\
			__m512 b1 = _mm512_loadu_ps(b + (size_t)(d + p) * PANEL); \
			_Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {				\
				__m512 x = _mm512_set1_ps(X[(size_t)r * d + p]); \
				a0[r] = _mm512_fmadd_ps(x, b0, a0[r]);		\
				a1[r] = _mm512_fmadd_ps(x, b1, a1[r]);		\
			}							\
		}								\
		_Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {					\
			_mm512_storeu_ps(T + (size_t)r * kp + q * PANEL, a0[r]); \
			_mm512_storeu_ps(T + (size_t)r * kp + (q + 1) * PANEL, a1[r]); \
		}								\
	}									\
	for (; q < q1; q++) {							\
		const float *b = Cp + (size_t)q * PANEL * d;			\
		__m512 a0[R];							\
		_Pragma("GCC unroll 8") for (int r = 0; r < R; r++)					\
			a0[r] = _mm512_setzero_ps();				\
		for (int p = 0; p < d; p++) {					\
			__m512 b0 = _mm512_loadu_ps(b + (size_t)p * PANEL);	\
			_Pragma("GCC unroll 8") for (int r = 0; r < R; r++)				\
				a0[r] = _mm512_fmadd_ps(_mm512_set1_ps(X[(size_t)r * d + p]), \
							b0, a0[r]);		\
		}								\
		_Pragma("GCC unroll 8") for (int r = 0; r < R; r++)					\
			_mm512_storeu_ps(T + (size_t)r * kp + q * PANEL, a0[r]); \
	}									\
}
KERN512(8)
KERN512(1)

/* the same sums, each panel as two 8-lane halves */
#define KERN256(R)								\
__attribute__((target("avx2,fma")))						\
static void sims256_##R(const float *X, int d, const float *Cp, int q0, int q1,	\
			 float *T, int kp)					\
{										\
	for (int q = q0; q < q1; q++) {						\
		const float *b = Cp + (size_t)q * PANEL * d;			\
		__m256 a0[R], a1[R];						\
		_Pragma("GCC unroll 8") for (int r = 0; r < R; r++)					\
			a0[r] = a1[r] = _mm256_setzero_ps();			\
		for (int p = 0; p < d; p++) {					\
			__m256 b0 = _mm256_loadu_ps(b + (size_t)p * PANEL);	\
			__m256 b1 = _mm256_loadu_ps(b + (size_t)p * PANEL + 8);	\
			_Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {				\
				__m256 x = _mm256_set1_ps(X[(size_t)r * d + p]); \
				a0[r] = _mm256_fmadd_ps(x, b0, a0[r]);		\
				a1[r] = _mm256_fmadd_ps(x, b1, a1[r]);		\
			}							\
		}								\
		_Pragma("GCC unroll 8") for (int r = 0; r < R; r++) {					\
			_mm256_storeu_ps(T + (size_t)r * kp + q * PANEL, a0[r]); \
			_mm256_storeu_ps(T + (size_t)r * kp + q * PANEL + 8, a1[r]); \
		}								\
	}									\
}
KERN256(6)
KERN256(1)
#endif

/* which kernel makes the similarity matrix: 2 AVX-512, 1 AVX2, 0 sgemm */
static int sims_kind = -1;
static pthread_once_t sims_once = PTHREAD_ONCE_INIT;

static void pick_sims(void)
{
	sims_kind = 0;
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		sims_kind = __builtin_cpu_supports("avx512f") ? 2 : 1;
#endif
}

int pd_km_set_sims_kernel(int kind)
{
	pthread_once(&sims_once, pick_sims);
	int have = 0;
#if defined(__x86_64__) && defined(__GNUC__)
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		have = __builtin_cpu_supports("avx512f") ? 2 : 1;
#endif
	if (kind < 0)
		kind = have;
	if (kind > have)
		return 0;
	sims_kind = kind;
	return 1;
}

/* T (n rows of kp floats, kp = 16 ceil(k/16)) := X (n x d) against Cp */
static void sims_rows(const float *X, size_t n, int d, const float *Cp, int k, float *T, int kp)
{
	int np = (k + PANEL - 1) / PANEL;
	size_t i = 0;
#if defined(__x86_64__) && defined(__GNUC__)
	if (sims_kind == 2) {
		for (; i + 8 <= n; i += 8)
			sims512_8(X + i * (size_t)d, d, Cp, 0, np, T + i * (size_t)kp, kp);
		for (; i < n; i++)
			sims512_1(X + i * (size_t)d, d, Cp, 0, np, T + i * (size_t)kp, kp);
	} else {
		for (; i + 6 <= n; i += 6)
			sims256_6(X + i * (size_t)d, d, Cp, 0, np, T + i * (size_t)kp, kp);
		for (; i < n; i++)
			sims256_1(X + i * (size_t)d, d, Cp, 0, np, T + i * (size_t)kp, kp);
	}
#else
	(void)X; (void)n; (void)d; (void)Cp; (void)np; (void)T; (void)kp; (void)i;
#endif
}

/*
 * The best of a row of k similarities (the first of equals) into *bs, and the
 * largest of the others (-INFINITY when k = 1) into *second; returns the
 * best's index.  In three vector passes where the CPU has AVX2 (the largest,
 * its first place, the largest elsewhere): the same answers as one scalar
 * pass with its branches, several times faster at a few hundred centres.
 */
static int row_best_scalar(const float *row, int k, float *bs_out, float *second_out)
{
	int best = 0;
	float bs = row[0], second = -INFINITY;
	for (int c = 1; c < k; c++) {
		if (row[c] > bs) {
			second = bs;
			bs = row[c];
			best = c;
		} else if (row[c] > second) {
			second = row[c];
		}
	}
	*bs_out = bs;
	*second_out = second;
	return best;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* the largest of row[c0..c1) (-INFINITY when empty) */
__attribute__((target("avx2"))) static float range_max(const float *row, int c0, int c1)
{
	__m256 m = _mm256_set1_ps(-INFINITY);
	int c = c0;
	for (; c + 8 <= c1; c += 8)
		m = _mm256_max_ps(m, _mm256_loadu_ps(row + c));
	float t[8], r = -INFINITY;
	_mm256_storeu_ps(t, m);
	for (int i = 0; i < 8; i++)
		r = t[i] > r ? t[i] : r;
	for (; c < c1; c++)
		r = row[c] > r ? row[c] : r;
	return r;
}

__attribute__((target("avx2"))) static int row_best_avx2(const float *row, int k, float *bs,
							float *second)
{
	float m = range_max(row, 0, k);
	int best = 0;
	while (best < k - 1 && !(row[best] == m))
		best++;
	float a = range_max(row, 0, best), b = range_max(row, best + 1, k);
	*bs = row[best];
	*second = a > b ? a : b;
	return best;
}
#endif

/* the largest of row[c0..c1) (-INFINITY when empty), vectorised where the CPU can */
static float span_max(const float *row, int c0, int c1)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (sims_kind > 0)
		return range_max(row, c0, c1);
#endif
	float r = -INFINITY;
	for (int c = c0; c < c1; c++)
		r = row[c] > r ? row[c] : r;
	return r;
}

static int row_best(const float *row, int k, float *bs, float *second)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (sims_kind > 0 && k >= 32)
		return row_best_avx2(row, k, bs, second);
#endif
	return row_best_scalar(row, k, bs, second);
}

/*
 * One pair's similarity with exactly the bits sims512/sims256 give it: one
 * chain of fused multiply-adds over the dimensions in increasing order, from
 * zero.  Eight rows at a time (eight independent chains keep the FMA units
 * busy; each chain is still summed in its own order).  out[r] := x[r] . c[r].
 */
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2,fma"))) static void chain_dots(const float *const *x,
							   const float *const *c, int nr, int d,
							   float *out)
{
	float acc[8] = { 0 };
	if (nr == 8) {
		for (int p = 0; p < d; p++)
			for (int r = 0; r < 8; r++)
				acc[r] = __builtin_fmaf(x[r][p], c[r][p], acc[r]);
	} else {
		for (int r = 0; r < nr; r++)
			for (int p = 0; p < d; p++)
				acc[r] = __builtin_fmaf(x[r][p], c[r][p], acc[r]);
	}
	memcpy(out, acc, (size_t)nr * sizeof *out);
}
#else
static void chain_dots(const float *const *x, const float *const *c, int nr, int d, float *out)
{
	(void)x; (void)c; (void)d;
	memset(out, 0, (size_t)nr * sizeof *out);	/* never called: no kernel, no bounds */
}
#endif

/* panel q of one row's similarities into T[16 q .. 16 q + 16) (kernel bits) */
static void sims_panel(const float *x, int d, const float *Cp, int q, float *T)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (sims_kind == 2)
		sims512_1(x, d, Cp, q, q + 1, T, 0);
	else
		sims256_1(x, d, Cp, q, q + 1, T, 0);
#else
	(void)x; (void)d; (void)Cp; (void)q; (void)T;
#endif
}

/*
 * One range of rows of pd_km_assign_bounded.  Without bounds (shift NULL)
 * every row is scanned: its similarities to every centre by the kernel (or
 * sgemm), the best and the second best.  With bounds, the centres are taken
 * in their panels of 16 (the groups of Yinyang k-means), and for each row
 * and panel other[] holds a bound on the exact similarity of the row to the
 * panel's centres but its own.  A centre that moved by t changes the
 * similarity of a unit row by at most t, so after the move a panel's
 * centres stay below ub = its bound + the panel's largest move.  A panel
 * whose ub falls below the row's similarity to its own centre (as the kernel
 * computes it) by more than the kernel's error and the tie margin cannot
 * hold the best, nor a near tie: the full scan would ignore it, so it is not
 * computed.  A row with no panel left keeps its centre after one
 * similarity; a row with few left computes those panels alone; the rest are
 * gathered and scanned whole.  Every similarity computed is the kernel's, so
 * the answers are the full scan's, bit for bit.
 */
typedef struct assign_job {
	const float *X, *C, *Cp;
	size_t r0, r1;
	int d, k, exact;
	int *assign;
	float *sim;
	float *other;		/* per row and panel: bound on the similarities (or NULL) */
	const float *pshift;	/* per panel: how far its centres moved at most (NULL: scan every row) */
	size_t kept;		/* rows decided by their bounds alone */
} assign_job;

/* the end of a row whose similarities T (kp floats; -INFINITY where not
   computed) are known: membership, similarity and the bounds of the panels
   computed (computed[q], or every panel when computed is NULL) */
static void row_finish(assign_job *j, size_t r, float *T, const unsigned char *computed,
		       float eps, double err)
{
	int d = j->d, k = j->k, np = (k + PANEL - 1) / PANEL;
	float bs, second;
	int best = row_best(T, k, &bs, &second);
	const float *x = j->X + r * (size_t)d;
	int tie = bs - second <= eps;
	if (tie)
		best = pd_km_nearest(x, j->C, k, d, NULL);	/* a near tie: decide exactly */
	if (j->assign)
		j->assign[r] = best;
	if (j->sim)
		j->sim[r] = j->exact ? pd_km_dot(x, j->C + (size_t)best * d, d) : T[best];
	if (j->other) {
		float *o = j->other + r * (size_t)np;
		float keep = T[best];
		if (!tie)
			T[best] = -INFINITY;	/* the others only */
		for (int q = 0; q < np; q++) {
			if (computed && !computed[q])
				continue;
			int c1 = (q + 1) * PANEL < k ? (q + 1) * PANEL : k;
			float m = span_max(T, q * PANEL, c1);
			o[q] = (float)((double)m + err + 1e-6);
		}
		T[best] = keep;
	}
}

static void *assign_range(void *ud)
{
	assign_job *j = ud;
	int d = j->d, k = j->k, np = (k + PANEL - 1) / PANEL;
	int kp = j->Cp ? np * PANEL : k;
	size_t B = j->Cp ? (size_t)65536 / (size_t)kp : block_rows(k);
	if (B < 8)
		B = 8;
	if (B > 512)
		B = j->Cp ? 512 : B;
	/* Two float dot products of unit vectors differ by at most about
	   d * 2^-24 whatever their order of summation; a margin four times that
	   between the best and the second best means pd_km_nearest agrees. */
	float eps = 4.0f * (float)d * 5.9604645e-8f;
	/* how far one dot product of unit vectors (ours or pd_km_nearest's) can
	   be from the exact one: d * 2^-24 and some */
	double err = 1.01 * (double)d * 5.9604645e-8 + 1e-7;
	float *S = xmalloc(B * (size_t)kp * sizeof *S);
	size_t *rows = NULL, nrows = j->r1 - j->r0;
	float *Xb = NULL;
	if (j->pshift) {
		rows = xmalloc(nrows * sizeof *rows);
		Xb = xmalloc(B * (size_t)d * sizeof *Xb);
		float *T = xmalloc((size_t)kp * sizeof *T);
		double *ub = xmalloc((size_t)np * sizeof *ub);
		unsigned char *need = xmalloc((size_t)np);
		size_t nr = 0;
		for (size_t i0 = j->r0; i0 < j->r1; i0 += 8) {
			int g = j->r1 - i0 < 8 ? (int)(j->r1 - i0) : 8;
			const float *xs[8], *cs[8];
			float own[8];
			for (int r = 0; r < g; r++) {
				xs[r] = j->X + (i0 + r) * (size_t)d;
				cs[r] = j->C + (size_t)j->assign[i0 + r] * d;
			}
			chain_dots(xs, cs, g, d, own);
			for (int r = 0; r < g; r++) {
				size_t i = i0 + r;
				int a = j->assign[i];
				float *o = j->other + i * (size_t)np;
				double lim = (double)own[r] - (double)eps - 2 * err;
				int nneed = 0;
				for (int q = 0; q < np; q++) {
					ub[q] = (double)o[q] + (double)j->pshift[q] * 1.0001 + 1e-7;
					need[q] = !(ub[q] < lim);
					nneed += need[q];
				}
				if (nneed == 0) {
					if (j->sim)
						j->sim[i] = j->exact ? pd_km_dot(xs[r], cs[r], d) : own[r];
					for (int q = 0; q < np; q++)
						o[q] = (float)(ub[q] + 1e-6);
					j->kept++;
				} else if (2 * nneed > np) {
					rows[nr++] = i;		/* most panels: the full scan is cheaper */
				} else {
					for (int c = 0; c < kp; c++)
						T[c] = -INFINITY;
					for (int q = 0; q < np; q++)
						if (need[q])
							sims_panel(xs[r], d, j->Cp, q, T);
					int qa = a / PANEL;
					if (!need[qa])
						T[a] = own[r];
					row_finish(j, i, T, need, eps, err);
					for (int q = 0; q < np; q++)
						if (!need[q])
							o[q] = (float)(ub[q] + 1e-6);
					/* a centre left for another is another now */
					if (!need[qa] && j->assign[i] != a && o[qa] < own[r] + err + 1e-6)
						o[qa] = (float)((double)own[r] + err + 1e-6);
				}
			}
		}
		nrows = nr;
		free(T);
		free(ub);
		free(need);
	}
	for (size_t b0 = 0; b0 < nrows; b0 += B) {
		size_t nb = nrows - b0 < B ? nrows - b0 : B;
		const float *Xblk;
		if (rows) {
			for (size_t i = 0; i < nb; i++)
				memcpy(Xb + i * (size_t)d, j->X + rows[b0 + i] * (size_t)d,
				       (size_t)d * sizeof *Xb);
			Xblk = Xb;
		} else {
			Xblk = j->X + (j->r0 + b0) * (size_t)d;
		}
		if (j->Cp)
			sims_rows(Xblk, nb, d, j->Cp, k, S, kp);
		else
			pd_sgemm(CblasNoTrans, CblasTrans, (int)nb, k, d, 1.0f,
				    Xblk, d, j->C, d, 0.0f, S, k);
		for (size_t i = 0; i < nb; i++)
			row_finish(j, rows ? rows[b0 + i] : j->r0 + b0 + i, S + i * (size_t)kp, NULL,
				   eps, err);
	}
	free(S);
	free(rows);
	free(Xb);
	return NULL;
}

/* pd_km_assign_bounded and pd_km_assign_blas (Cold and other NULL) */
static void assign_core(const float *X, size_t n, int d, const float *Cold, const float *C, int k,
			int *assign, float *sim, int exact, float *other, size_t *kept)
{
	pthread_once(&sims_once, pick_sims);
	float *Cp = sims_kind ? pack_panels(C, k, d) : NULL;
	/* the moves of the centres' panels, for the bounds: with our kernel
	   only (its similarity of one pair is known bit for bit), and when
	   every row has a membership and bounds */
	float *pshift = NULL;
	if (Cp && Cold && other && assign && k > 1) {
		int np = (k + PANEL - 1) / PANEL;
		pshift = xcalloc((size_t)np, sizeof *pshift);
		for (int c = 0; c < k; c++) {
			const float *p = C + (size_t)c * d, *q = Cold + (size_t)c * d;
			double t = 0;
			for (int i = 0; i < d; i++)
				t += ((double)p[i] - q[i]) * ((double)p[i] - q[i]);
			/* rounded up: float rounding of the move */
			float m = (float)(sqrt(t) * (1 + 1e-6) + 1e-7);
			if (m > pshift[c / PANEL])
				pshift[c / PANEL] = m;
		}
	}
	/* with our kernel, large products are spread over as many threads as
	   OpenBLAS was given (rows are independent: the answers are the same) */
	int nt = 1;
	if (Cp && (double)n * k * d >= (double)(1 << 24)) {
		nt = openblas_get_num_threads();
		if (nt > 64)
			nt = 64;
		if ((size_t)nt > n / 64)
			nt = (int)(n / 64);
		if (nt < 1)
			nt = 1;
	}
	assign_job job[64];
	pthread_t tid[64];
	int started[64] = { 0 };
	for (int t = 0; t < nt; t++) {
		job[t] = (assign_job){ X, C, Cp, n * (size_t)t / (size_t)nt,
				       n * (size_t)(t + 1) / (size_t)nt, d, k, exact, assign, sim,
				       other, pshift, 0 };
		if (t > 0)
			started[t] = pthread_create(&tid[t], NULL, assign_range, &job[t]) == 0;
	}
	assign_range(&job[0]);
	size_t nkept = job[0].kept;
	for (int t = 1; t < nt; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			assign_range(&job[t]);
		nkept += job[t].kept;
	}
	if (kept)
		*kept = nkept;
	free(pshift);
	free(Cp);
}

size_t pd_km_bounds_len(int k)
{
	return (size_t)((k + PANEL - 1) / PANEL);
}

void pd_km_assign_bounded(const float *X, size_t n, int d, const float *Cold, const float *C,
			  int k, int *assign, float *sim, float *other, size_t *kept)
{
	assign_core(X, n, d, Cold, C, k, assign, sim, 0, other, kept);
}

void pd_km_assign_blas(const float *X, size_t n, int d, const float *C, int k, int *assign,
		       float *sim, int exact)
{
	assign_core(X, n, d, NULL, C, k, assign, sim, exact, NULL, NULL);
}

/* draw an index with probability w[i] / total (total > 0) */
static size_t draw_weighted(const double *w, size_t m, double total, pd_rng *rng)
{
	double r = pd_rng_uniform(rng) * total, acc = 0;
	size_t last = 0;
	for (size_t i = 0; i < m; i++) {
		if (w[i] <= 0)
			continue;
		acc += w[i];
		last = i;
		if (r < acc)
			return i;
	}
	return last;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

float *pd_km_sample(const float *X, size_t n, int d, size_t m, pd_rng *rng)
{
	/* partial Fisher-Yates, then the chosen rows in their order */
	size_t *idx = xmalloc(n * sizeof *idx);
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = 0; i < m; i++) {
		size_t j = i + (size_t)pd_rng_below(rng, n - i);
		size_t t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
	qsort(idx, m, sizeof *idx, cmp_size);
	float *S = xmalloc(m * (size_t)d * sizeof *S);
	for (size_t i = 0; i < m; i++)
		memcpy(S + i * (size_t)d, X + idx[i] * (size_t)d, (size_t)d * sizeof *S);
	free(idx);
	return S;
}

/* greedy k-means++ on a sample of X; fills C (k x d) */
static void seed_pp(const float *X, size_t n, int d, int k, size_t cap, pd_rng *rng, float *C)
{
	size_t m = n;
	float *S = (float *)X;
	if (n > cap) {
		m = cap;
		S = pd_km_sample(X, n, d, m, rng);
	}
	int trials = 2 + (int)log((double)k);
	double *D = xmalloc(m * sizeof *D);
	size_t *cand = xmalloc((size_t)trials * sizeof *cand);
	float *Ct = xmalloc((size_t)trials * (size_t)d * sizeof *Ct);
	float *sims = xmalloc(m * (size_t)trials * sizeof *sims);

	size_t first = (size_t)pd_rng_below(rng, m);
	memcpy(C, S + first * (size_t)d, (size_t)d * sizeof *C);
	double total = 0;
	for (size_t i = 0; i < m; i++) {
		double v = 1.0 - (double)pd_km_dot(S + i * (size_t)d, C, d);
		D[i] = v > 0 ? v : 0;
		total += D[i];
	}
	for (int c = 1; c < k; c++) {
		if (!(total > 1e-12)) {
			/* every point coincides with a centre: any point will do */
			size_t p = (size_t)pd_rng_below(rng, m);
			memcpy(C + (size_t)c * d, S + p * (size_t)d, (size_t)d * sizeof *C);
			continue;
		}
		for (int t = 0; t < trials; t++) {
			cand[t] = draw_weighted(D, m, total, rng);
			memcpy(Ct + (size_t)t * d, S + cand[t] * (size_t)d, (size_t)d * sizeof *Ct);
		}
		for (size_t i = 0; i < m; i++)
			pd_km_dots(S + i * (size_t)d, Ct, trials, d, sims + i * (size_t)trials);
		int best = 0;
		double best_pot = INFINITY;
		for (int t = 0; t < trials; t++) {
			double pot = 0;
			for (size_t i = 0; i < m; i++) {
				double v = 1.0 - (double)sims[i * (size_t)trials + t];
				if (v < 0)
					v = 0;
				pot += v < D[i] ? v : D[i];
			}
			if (pot < best_pot) {
				best_pot = pot;
				best = t;
			}
		}
		memcpy(C + (size_t)c * d, Ct + (size_t)best * d, (size_t)d * sizeof *C);
		total = 0;
		for (size_t i = 0; i < m; i++) {
			double v = 1.0 - (double)sims[i * (size_t)trials + best];
			if (v < 0)
				v = 0;
			if (v < D[i])
				D[i] = v;
			total += D[i];
		}
	}
	free(D);
	free(cand);
	free(Ct);
	free(sims);
	if (S != X)
		free(S);
}

/* sum[c] := the sum of the rows of X in cluster c, in row order (cnt, when
   not NULL: the members); float vectors, 8 lanes, so it runs at SIMD speed */
static void member_sums(const float *X, size_t n, int d, const int *a, int k, float *sum,
			size_t *cnt)
{
	int d8 = d & ~7;
	memset(sum, 0, (size_t)k * (size_t)d * sizeof *sum);
	if (cnt)
		memset(cnt, 0, (size_t)k * sizeof *cnt);
	for (size_t i = 0; i < n; i++) {
		float *t = sum + (size_t)a[i] * d;
		const float *x = X + i * (size_t)d;
		int j = 0;
		for (; j < d8; j += 8) {
			v4f lo = load4(t + j) + load4(x + j), hi = load4(t + j + 4) + load4(x + j + 4);
			memcpy(t + j, &lo, sizeof lo);
			memcpy(t + j + 4, &hi, sizeof hi);
		}
		for (; j < d; j++)
			t[j] += x[j];
		if (cnt)
			cnt[a[i]]++;
	}
}

/* C[c] := sum[c] scaled to unit length; a zero sum keeps the old centre */
static void unit_sums(const float *sum, int k, int d, float *C)
{
	for (int c = 0; c < k; c++) {
		const float *t = sum + (size_t)c * d;
		double nn = 0;
		for (int j = 0; j < d; j++)
			nn += (double)t[j] * t[j];
		if (nn <= 0)
			continue;
		double inv = 1.0 / sqrt(nn);
		float *cc = C + (size_t)c * d;
		for (int j = 0; j < d; j++)
			cc[j] = (float)(t[j] * inv);
	}
}

void pd_km_update(const float *X, size_t n, int d, const int *a, int k, float *C, float *sum)
{
	member_sums(X, n, d, a, k, sum, NULL);
	unit_sums(sum, k, d, C);
}

int pd_kmeans(const float *X, size_t n, int d, int k, const pd_kmeans_opts *o,
	      float *C, int *assign, float *sim, double *obj, pd_err *err)
{
	if (k < 1 || (size_t)k > n || d < 1)
		return pd_err_set(err, PD_EUSAGE, "k-means: k=%d with %zu points", k, n);
	int mpc = o && o->max_per_centroid ? o->max_per_centroid : 256;
	if (mpc > 0 && n > (size_t)mpc * (size_t)k) {
		/* iterate on a sample, then assign everyone */
		size_t m = (size_t)mpc * (size_t)k;
		pd_rng r2;
		pd_rng_seed(&r2, (o ? o->seed : 0) ^ 0x5eed5a3b1e5ULL);
		float *S = pd_km_sample(X, n, d, m, &r2);
		pd_kmeans_opts o2 = { 0, 0, 0, 0, 0 };
		if (o)
			o2 = *o;
		o2.max_per_centroid = -1;
		int it = pd_kmeans(S, m, d, k, &o2, C, NULL, NULL, NULL, err);
		free(S);
		if (it >= 0 && (assign || sim || obj)) {
			int *a = assign ? assign : xmalloc(n * sizeof *a);
			float *s = sim ? sim : xmalloc(n * sizeof *s);
			pd_km_assign_blas(X, n, d, C, k, a, s, 0);
			if (obj) {
				double sum = 0;
				for (size_t i = 0; i < n; i++)
					sum += 1.0 - (double)s[i];
				*obj = sum / (double)n;
			}
			if (!sim)
				free(s);
			if (!assign)
				free(a);
		}
		return it;
	}
	int max_iter = o && o->max_iter > 0 ? o->max_iter : 20;
	double tol = o && o->tol > 0 ? o->tol : 1e-4;
	pd_rng rng;
	pd_rng_seed(&rng, o ? o->seed : 0);

	size_t cap = o && o->seed_sample ? o->seed_sample : (size_t)32 * (size_t)k;
	if (cap < 1000)
		cap = 1000;
	if (k == 1) {
		memset(C, 0, (size_t)d * sizeof *C);
	} else {
		seed_pp(X, n, d, k, cap, &rng, C);
	}

	int *a = assign ? assign : xmalloc(n * sizeof *a);
	int *prev = xmalloc(n * sizeof *prev);
	float *s = sim ? sim : xmalloc(n * sizeof *s);
	float *sum = xmalloc((size_t)k * (size_t)d * sizeof *sum);
	size_t *cnt = xmalloc((size_t)k * sizeof *cnt);
	/* with many centres, the iterations after the first keep what their
	   bounds prove (pd_km_assign_bounded: the same answers) */
	float *other = NULL, *Cold = NULL;
	size_t nbound = pd_km_bounds_len(k);
	if (k >= PD_KM_BOUNDS_MIN_K) {
		other = xmalloc(n * nbound * sizeof *other);
		Cold = xmalloc((size_t)k * (size_t)d * sizeof *Cold);
	}
	double cur = INFINITY, last = INFINITY;
	int it = 0;
	for (;;) {
		if (k == 1) {
			memset(a, 0, n * sizeof *a);
		} else {
			if (other)
				pd_km_assign_bounded(X, n, d, it ? Cold : NULL, C, k, a, s, other, NULL);
			else
				pd_km_assign_blas(X, n, d, C, k, a, s, 0);
			double o_sum = 0;
			for (size_t i = 0; i < n; i++)
				o_sum += 1.0 - (double)s[i];
			cur = o_sum / (double)n;
			size_t changed = n;
			if (it > 0) {
				changed = 0;
				for (size_t i = 0; i < n; i++)
					changed += a[i] != prev[i];
			}
			if (it > 0 && (changed == 0 || last - cur < tol * last || it >= max_iter))
				break;
		}
		memcpy(prev, a, n * sizeof *a);
		last = cur;
		if (Cold)
			memcpy(Cold, C, (size_t)k * (size_t)d * sizeof *Cold);
		/* update: mean direction of the members, summed in order */
		member_sums(X, n, d, a, k, sum, cnt);
		for (int c = 0; c < k; c++) {
			if (cnt[c])
				continue;
			/* empty: the worst-placed point of a cluster that can spare one */
			size_t w = n;
			for (size_t i = 0; i < n; i++)
				if (cnt[a[i]] > 1 && (w == n || s[i] < s[w]))
					w = i;
			if (w == n)
				continue;
			const float *x = X + w * (size_t)d;
			float *from = sum + (size_t)a[w] * d, *to = sum + (size_t)c * d;
			for (int j = 0; j < d; j++) {
				from[j] -= x[j];
				to[j] = x[j];
			}
			cnt[a[w]]--;
			cnt[c] = 1;
			a[w] = c;
			s[w] = 2;	/* not chosen twice */
			for (size_t q = 0; other && q < nbound; q++)
				other[w * nbound + q] = INFINITY;	/* its old centre is another now */
		}
		unit_sums(sum, k, d, C);
		it++;
		if (k == 1)
			break;
	}
	if (k == 1) {
		double o_sum = 0;
		for (size_t i = 0; i < n; i++) {
			s[i] = pd_km_dot(X + i * (size_t)d, C, d);
			o_sum += 1.0 - (double)s[i];
		}
		cur = o_sum / (double)n;
	}
	if (obj)
		*obj = cur;
	if (!assign)
		free(a);
	free(prev);
	if (!sim)
		free(s);
	free(sum);
	free(cnt);
	free(other);
	free(Cold);
	return it;
}
