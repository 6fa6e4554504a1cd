/*
 * test_kmeans.c — unit tests of lib/kmeans.c and lib/cluster.c: the fixed
 * order dot product, blocked assignment agreeing with the exact rule (also
 * on constructed near ties, with every kernel and thread count), the
 * bounded assignment agreeing with the full one bit for bit, k-means recovering well-separated
 * clusters, empty clusters refilled, the hierarchy's invariants (bands, every
 * vector in one cluster per level, children contiguous), placement equal to
 * training membership, loading a hierarchy back, and id matching.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/kmeans.h"
#include "../../lib/cluster.h"
#include "../../lib/blas.h"

/* n unit vectors around k random unit centres, noise s; truth in lab */
static float *blobs(size_t n, int d, int k, double s, uint64_t seed, int *lab)
{
	pd_rng r;
	pd_rng_seed(&r, seed);
	float *C = xmalloc((size_t)k * d * sizeof *C), *X = xmalloc(n * d * sizeof *X);
	for (int c = 0; c < k; c++) {
		for (int j = 0; j < d; j++)
			C[c * d + j] = (float)pd_rng_normal(&r);
		pd_vec_normalize(C + c * d, d);
	}
	for (size_t i = 0; i < n; i++) {
		int c = (int)(i % (size_t)k);
		if (lab)
			lab[i] = c;
		for (int j = 0; j < d; j++)
			X[i * d + j] = C[c * d + j] + (float)(s * pd_rng_normal(&r) / sqrt(d));
		pd_vec_normalize(X + i * d, d);
	}
	free(C);
	return X;
}

/* the order pd_km_dot promises, written out plainly */
static float ref_dot(const float *a, const float *b, int d)
{
	float s[8] = { 0 }, t = 0;
	int i = 0;
	for (; i + 8 <= d; i += 8)
		for (int l = 0; l < 8; l++)
			s[l] += a[i + l] * b[i + l];
	for (; i < d; i++)
		t += a[i] * b[i];
	return (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) + t;
}

/* every SIMD kernel of pd_km_dots gives the reference's bits, for every
   row count (blocks of 4 and the rest) and length (full 8s and a tail) */
static void dots_every_kernel(void **state)
{
	pd_rng r;
	pd_rng_seed(&r, 99);
	static const int dims[] = { 1, 7, 8, 9, 19, 64, 384, 385 };
	float x[385], C[9 * 385], out[9];
	for (int kern = 1; kern >= 0; kern--) {
		if (!pd_km_set_kernel(kern))
			continue;	/* the CPU lacks it */
		for (size_t di = 0; di < sizeof dims / sizeof *dims; di++) {
			int d = dims[di];
			for (int k = 1; k <= 9; k++) {
				for (int j = 0; j < d; j++)
					x[j] = (float)pd_rng_normal(&r);
				for (int j = 0; j < k * d; j++)
					C[j] = (float)pd_rng_normal(&r);
				pd_km_dots(x, C, k, d, out);
				for (int j = 0; j < k; j++) {
					float want = ref_dot(x, C + j * d, d);
					assert_memory_equal(&out[j], &want, sizeof want);
				}
			}
		}
	}
	pd_km_set_kernel(0);
}

static void dot_fixed_order(void **state)
{
	float a[19], b[19];
	double want = 0;
	for (int i = 0; i < 19; i++) {
		a[i] = (float)(i + 1) * 0.5f;
		b[i] = (float)(19 - i);
		want += (double)a[i] * b[i];
	}
	assert_float_equal(pd_km_dot(a, b, 19), want, 1e-3);
	assert_true(pd_km_dot(a, b, 19) == pd_km_dot(a, b, 19));
	pd_vec_normalize(a, 19);
	pd_vec_normalize(b, 19);
	float C[3 * 19];
	memcpy(C, b, sizeof b);
	memcpy(C + 19, a, sizeof a);
	memcpy(C + 38, a, sizeof a);	/* a tie with row 1: the lower index wins */
	float s;
	assert_int_equal(pd_km_nearest(a, C, 3, 19, &s), 1);
	assert_true(s == pd_km_dot(a, a, 19));
}

static void blas_agrees_with_exact(void **state)
{
	size_t n = 3000;
	int d = 37, k = 23;
	float *X = blobs(n, d, k, 2.0, 5, NULL);
	float *C = blobs((size_t)k, d, k, 0.0, 6, NULL);
	/* near ties: some points exactly between two centres */
	for (size_t i = 0; i < 50; i++) {
		for (int j = 0; j < d; j++)
			X[i * d + j] = C[j] + C[d + j];
		pd_vec_normalize(X + i * d, d);
	}
	int *a = xmalloc(n * sizeof *a);
	float *s = xmalloc(n * sizeof *s);
	pd_km_assign_blas(X, n, d, C, k, a, s, 1);
	for (size_t i = 0; i < n; i++) {
		float es;
		int e = pd_km_nearest(X + i * d, C, k, d, &es);
		assert_int_equal(a[i], e);
		assert_true(s[i] == es);
	}
	free(X);
	free(C);
	free(a);
	free(s);
}

/* every kernel of pd_km_assign_blas gives pd_km_nearest's memberships, and
   the FMA kernels (AVX2, AVX-512) give one fused multiply-add chain's bits,
   on one thread and on three; shapes with tails of rows and of panels */
static void assign_every_kernel(void **state)
{
	static const struct { size_t n; int d, k; } shapes[] = {
		{ 5003, 100, 41 }, { 701, 256, 10 }, { 13, 7, 3 }, { 2100, 384, 33 },
	};
	int threads = openblas_get_num_threads();
	for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
		size_t n = shapes[si].n;
		int d = shapes[si].d, k = shapes[si].k;
		float *X = blobs(n, d, k, 1.5, 21 + si, NULL);
		float *C = blobs((size_t)k, d, k, 0.0, 22 + si, NULL);
		for (size_t i = 0; i < 20 && i < n; i++) {	/* near ties */
			for (int j = 0; j < d; j++)
				X[i * d + j] = C[j] + C[d + j];
			pd_vec_normalize(X + i * d, d);
		}
		int *a = xmalloc(n * sizeof *a);
		float *s = xmalloc(n * sizeof *s);
		for (int kind = 2; kind >= 0; kind--) {
			if (!pd_km_set_sims_kernel(kind))
				continue;	/* the CPU lacks it */
			for (int nt = 1; nt <= 3; nt += 2) {
				openblas_set_num_threads(nt);
				pd_km_assign_blas(X, n, d, C, k, a, s, 0);
				for (size_t i = 0; i < n; i++) {
					assert_int_equal(a[i], pd_km_nearest(X + i * d, C, k, d, NULL));
					if (!kind)
						continue;
					float want = 0;
					for (int j = 0; j < d; j++)
						want = fmaf(X[i * d + j], C[(size_t)a[i] * d + j], want);
					assert_memory_equal(&s[i], &want, sizeof want);
				}
			}
		}
		free(X);
		free(C);
		free(a);
		free(s);
	}
	pd_km_set_sims_kernel(-1);
	openblas_set_num_threads(threads);
}

/* pd_km_assign_bounded after moves small and large gives the full scan's
   memberships and similarities bit for bit, with both FMA kernels and on
   one thread and three, and keeps rows by their bounds when the moves are
   small; a row the caller reassigned (bounds INFINITY) is scanned again */
static void assign_bounded_exact(void **state)
{
	size_t n = 3001;
	int d = 64, k = 45;
	int threads = openblas_get_num_threads();
	float *X = blobs(n, d, k, 0.8, 31, NULL);
	for (size_t i = 0; i < 20; i++) {	/* near ties between centres 0 and 1 */
		for (int j = 0; j < d; j++)
			X[i * d + j] = X[j] + X[d + j];
		pd_vec_normalize(X + i * d, d);
	}
	size_t nb = pd_km_bounds_len(k);
	float *C = xmalloc((size_t)k * d * sizeof *C), *Cold = xmalloc((size_t)k * d * sizeof *C);
	float *other = xmalloc(n * nb * sizeof *other), *s = xmalloc(n * sizeof *s);
	float *s2 = xmalloc(n * sizeof *s2);
	int *a = xmalloc(n * sizeof *a), *a2 = xmalloc(n * sizeof *a2);
	for (int kind = 2; kind >= 1; kind--) {
		if (!pd_km_set_sims_kernel(kind))
			continue;
		for (int nt = 1; nt <= 3; nt += 2) {
			openblas_set_num_threads(nt);
			pd_rng r;
			pd_rng_seed(&r, 5);
			memcpy(C, X, (size_t)k * d * sizeof *C);	/* centres on points */
			pd_km_assign_bounded(X, n, d, NULL, C, k, a, s, other, NULL);
			size_t kept_small = 0;
			/* moves from large to tiny; centre 7 jumps far once */
			static const double step[] = { 0.5, 0.2, 0.05, 0.01, 0.002, 0.0005, 0.3, 0.001 };
			for (size_t t = 0; t < sizeof step / sizeof *step; t++) {
				memcpy(Cold, C, (size_t)k * d * sizeof *C);
				for (int c = 0; c < k; c++) {
					double sc = c == 7 && t == 6 ? 1.0 : step[t] * (c % 3 + 1) / 3;
					for (int j = 0; j < d; j++)
						C[c * d + j] += (float)(sc * pd_rng_normal(&r) / sqrt(d));
					pd_vec_normalize(C + c * d, d);
				}
				if (t == 5)	/* the caller moves a row to another centre */
					for (size_t i = 100; i < 110; i++) {
						a[i] = (a[i] + 1) % k;
						for (size_t q = 0; q < nb; q++)
							other[i * nb + q] = INFINITY;
					}
				size_t kept;
				pd_km_assign_bounded(X, n, d, Cold, C, k, a, s, other, &kept);
				pd_km_assign_blas(X, n, d, C, k, a2, s2, 0);
				assert_memory_equal(a, a2, n * sizeof *a);
				assert_memory_equal(s, s2, n * sizeof *s);
				if (step[t] <= 0.002)
					kept_small += kept;
			}
			assert_true(kept_small > n / 2);	/* the bounds did work */
		}
	}
	pd_km_set_sims_kernel(-1);
	openblas_set_num_threads(threads);
	free(X);
	free(C);
	free(Cold);
	free(other);
	free(s);
	free(s2);
	free(a);
	free(a2);
}

static void kmeans_recovers_blobs(void **state)
{
	size_t n = 2000;
	int d = 16, k = 8;
	int *lab = xmalloc(n * sizeof *lab), *a = xmalloc(n * sizeof *a);
	float *X = blobs(n, d, k, 0.3, 11, lab);
	float *C = xmalloc((size_t)k * d * sizeof *C);
	pd_kmeans_opts o = { 20, 0, 3, 0, 0 };
	double obj;
	pd_err err;
	int it = pd_kmeans(X, n, d, k, &o, C, a, NULL, &obj, &err);
	assert_true(it >= 1);
	/* every found cluster is one planted cluster */
	int map[8];
	for (int c = 0; c < k; c++)
		map[c] = -1;
	for (size_t i = 0; i < n; i++) {
		if (map[a[i]] < 0)
			map[a[i]] = lab[i];
		assert_int_equal(map[a[i]], lab[i]);
	}
	assert_true(obj < 0.1);
	for (int c = 0; c < k; c++)
		assert_float_equal(pd_vec_norm(C + c * d, d), 1.0, 1e-5);
	/* same seed, same answer; bad k refused */
	float *C2 = xmalloc((size_t)k * d * sizeof *C2);
	pd_kmeans(X, n, d, k, &o, C2, NULL, NULL, NULL, &err);
	assert_memory_equal(C, C2, (size_t)k * d * sizeof *C);
	assert_int_equal(pd_kmeans(X, n, d, 0, &o, C2, NULL, NULL, NULL, &err), -1);
	assert_int_equal(pd_kmeans(X, 5, d, 6, &o, C2, NULL, NULL, NULL, &err), -1);
	/* the memberships returned are those of the final centres, exactly,
	   and the similarities to the last bits: iterating on everyone and on a
	   sample */
	float *s = xmalloc(n * sizeof *s);
	for (int mpc = -1; mpc <= 100; mpc += 101) {
		pd_kmeans_opts o2 = { 20, 0, 3, 0, mpc };
		assert_true(pd_kmeans(X, n, d, k, &o2, C2, a, s, NULL, &err) >= 1);
		for (size_t i = 0; i < n; i++) {
			float es;
			assert_int_equal(a[i], pd_km_nearest(X + i * d, C2, k, d, &es));
			assert_float_equal(s[i], es, 1e-5);
		}
	}
	free(s);
	free(X);
	free(C);
	free(C2);
	free(lab);
	free(a);
}

static void kmeans_duplicates(void **state)
{
	/* 10 copies of 2 points, k = 4: no crash, every cluster non-empty or
	   refilled, all centres unit */
	int d = 4;
	float X[20 * 4];
	for (int i = 0; i < 20; i++)
		for (int j = 0; j < d; j++)
			X[i * d + j] = (j == (i & 1)) ? 1.0f : 0.0f;
	float C[4 * 4];
	int a[20];
	pd_kmeans_opts o = { 10, 0, 1, 0, 0 };
	assert_true(pd_kmeans(X, 20, d, 4, &o, C, a, NULL, NULL, NULL) >= 1);
	for (int c = 0; c < 4; c++)
		assert_float_equal(pd_vec_norm(C + c * d, d), 1.0, 1e-5);
}

static void hierarchy(void **state)
{
	size_t n = 6000;
	int d = 24;
	float *X = blobs(n, d, 60, 0.5, 21, NULL);
	pd_hier_opts o;
	pd_hier_opts_default(&o);
	o.band_min[0] = 1000, o.band_max[0] = 4000;
	o.band_min[1] = 200, o.band_max[1] = 1000;
	o.band_min[2] = 20, o.band_max[2] = 200;
	o.seed = 4;
	pd_hier h;
	int *memb = xmalloc(n * 3 * sizeof *memb);
	float *sim = xmalloc(n * 3 * sizeof *sim);
	pd_err err;
	assert_int_equal(pd_hier_build(X, n, d, &o, &h, memb, sim, &err), 0);
	assert_int_equal(pd_hier_depth(&h), 3);
	size_t *cnt = xcalloc((size_t)h.n, sizeof *cnt);
	for (size_t i = 0; i < n; i++) {
		int p[3];
		float s[3];
		pd_hier_place(&h, X + i * d, p, s);
		for (int L = 0; L < 3; L++) {
			assert_int_equal(p[L], memb[i * 3 + L]);
			assert_true(s[L] == sim[i * 3 + L]);
			assert_int_equal(h.node[p[L]].level, L);
			cnt[p[L]]++;
		}
		assert_int_equal(h.node[p[2]].parent, p[1]);
		assert_int_equal(h.node[p[1]].parent, p[0]);
	}
	for (int c = 0; c < h.n; c++) {
		assert_int_equal(cnt[c], h.node[c].size);
		if (h.level_count[h.node[c].level] > 1 || h.node[c].level > 0)
			assert_true(h.node[c].size >= o.band_min[h.node[c].level] ||
				    h.node[h.node[c].parent].nchild == 1);
		if (h.node[c].level < 2) {
			int f = h.node[c].first_child;
			for (int j = 0; j < h.node[c].nchild; j++)
				assert_int_equal(h.node[f + j].parent, c);
		}
	}
	/* reload: same placement */
	pd_hier g;
	pd_hier_init(&g, d);
	for (int c = h.n - 1; c >= 0; c--)	/* reversed order: finish re-sorts */
		assert_int_equal(pd_hier_add(&g, h.node[c].level, h.node[c].id,
					     h.node[c].parent >= 0 ? h.node[h.node[c].parent].id : NULL,
					     h.cent + (size_t)c * d, d, h.node[c].radius, h.node[c].size, &err), 0);
	assert_int_equal(pd_hier_finish(&g, &err), 0);
	for (size_t i = 0; i < n; i += 7) {
		int p[3], q[3];
		pd_hier_place(&h, X + i * d, p, NULL);
		pd_hier_place(&g, X + i * d, q, NULL);
		for (int L = 0; L < 3; L++)
			assert_string_equal(h.node[p[L]].id, g.node[q[L]].id);
	}
	/* matching a hierarchy against itself keeps every id */
	assert_int_equal(pd_hier_match_previous(&g, &h, 0.99), h.n);
	pd_hier_release(&g);
	/* a broken one is refused */
	pd_hier_init(&g, d);
	assert_int_equal(pd_hier_add(&g, 2, "x", "nope", h.cent, d, 0, 0, &err), 0);
	assert_int_equal(pd_hier_finish(&g, &err), -1);
	assert_non_null(strstr(err.msg, "parent"));
	pd_hier_release(&g);
	pd_hier_release(&h);
	free(X);
	free(memb);
	free(sim);
	free(cnt);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dot_fixed_order),
		cmocka_unit_test(dots_every_kernel),
		cmocka_unit_test(assign_every_kernel),
		cmocka_unit_test(assign_bounded_exact),
		cmocka_unit_test(blas_agrees_with_exact),
		cmocka_unit_test(kmeans_recovers_blobs),
		cmocka_unit_test(kmeans_duplicates),
		cmocka_unit_test(hierarchy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
