/*
 * planted_vectors.c — video records with planted topic structure, for
 * pd-cluster's tests (tests/t0700-cluster-basic.sh) and its benchmark
 * (scripts/bench-cluster).  Not installed; built by `make unit` (and by
 * `make bench`) against build/libpd.a.
 *
 *   planted_vectors N D TOPICS SEED OUT.ndjson [TRUTH.ndjson|-] [OUT.npy]
 *
 * TOPICS micro topics, each a unit direction; meso topics group 10 micro
 * topics (micro topic t belongs to meso t mod MESO), macro topics 10 meso
 * (meso m belongs to macro m mod MACRO), with MESO = max(1, TOPICS/10) and
 * MACRO = max(1, MESO/10).  A micro topic's centre is
 * unit(macro + meso + 1.2 micro), each component a random unit direction, so
 * the hierarchy is nested.  Each of the N videos picks its micro topic
 * uniformly; its embedding is unit(centre + NOISE * g / sqrt(D)) with g
 * standard normal in every dimension (NOISE from $PD_PLANT_NOISE, default
 * 0.6), written as embedding_b64 (little-endian float32), with a lognormal
 * perf (sigma 0.8) and a title of two words naming the topic.  TRUTH gets one
 * {"type": "truth_video", "id": .., "macro": .., "meso": .., "micro": ..} line
 * per video; OUT.npy (optional) the same vectors as an N x D float32 array in
 * NumPy's .npy format (version 1.0), for the reference implementations of the
 * benchmark.
 *
 * It replaces a NumPy script so that `make check` needs no Python package:
 * the same construction, drawn from pd's own generator (lib/rng.c), so the
 * same arguments give the same bytes on any machine.  Everything is computed
 * in double and rounded to float32 once, at the end, as the script did.
 * Exit status 0, 1 when a file cannot be written, 2 on a usage error.
 */
#include "../../lib/pd.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const words[10] = {
	"alpha", "beta", "gamma", "delta", "omega", "river", "stone", "cloud", "pixel", "tiger"
};

static int usage(const char *msg)
{
	fprintf(stderr, "planted_vectors: %s\n"
		"usage: planted_vectors N D TOPICS SEED OUT.ndjson [TRUTH.ndjson|-] [OUT.npy]\n", msg);
	return 2;
}

/* arg_long: s as a whole decimal number in [lo, hi] into *v; -1 if it is not one */
static int arg_long(const char *s, long lo, long hi, long *v)
{
	char *end;
	errno = 0;
	long x = strtol(s, &end, 10);
	if (errno || end == s || *end || x < lo || x > hi)
		return -1;
	*v = x;
	return 0;
}

/* unit: v[0..d) scaled to unit length */
static void unit(double *v, long d)
{
	double s = 0;
	for (long k = 0; k < d; k++)
		s += v[k] * v[k];
	s = sqrt(s);
	for (long k = 0; k < d; k++)
		v[k] /= s;
}

/* directions: n random unit directions of d dimensions (n*d doubles, the caller frees) */
static double *directions(pd_rng *r, long n, long d)
{
	double *m = xreallocarray(NULL, (size_t)(n * d), sizeof *m);
	for (long i = 0; i < n; i++) {
		for (long k = 0; k < d; k++)
			m[i * d + k] = pd_rng_normal(r);
		unit(m + i * d, d);
	}
	return m;
}

/* open_out: path opened for writing, or NULL with a message */
static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		fprintf(stderr, "planted_vectors: %s: %s\n", path, strerror(errno));
	return f;
}

/* close_out: f closed; -1 with a message when anything written to it failed */
static int close_out(FILE *f, const char *path)
{
	if (!f)
		return 0;
	int bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		fprintf(stderr, "planted_vectors: %s: write error: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* npy_header: NumPy's .npy v1.0 header of an n x d little-endian float32 array */
static void npy_header(FILE *f, long n, long d)
{
	char dict[128];
	int len = snprintf(dict, sizeof dict,
			   "{'descr': '<f4', 'fortran_order': False, 'shape': (%ld, %ld), }", n, d);
	/* magic (6) + version (2) + length (2) + dict, padded with spaces and a
	 * final newline to a multiple of 64 bytes, as numpy.save writes it */
	int total = 10 + len + 1;
	int pad = (64 - total % 64) % 64;
	int hlen = len + pad + 1;
	unsigned char pre[10] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
				  (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8) };
	fwrite(pre, 1, sizeof pre, f);
	fwrite(dict, 1, (size_t)len, f);
	for (int i = 0; i < pad; i++)
		fputc(' ', f);
	fputc('\n', f);
}

/* put_f32le: v[0..d) as little-endian float32 */
static void put_f32le(FILE *f, const float *v, long d)
{
	for (long k = 0; k < d; k++) {
		uint32_t u;
		memcpy(&u, v + k, 4);
		unsigned char b[4] = { (unsigned char)u, (unsigned char)(u >> 8),
				       (unsigned char)(u >> 16), (unsigned char)(u >> 24) };
		fwrite(b, 1, 4, f);
	}
}

/* add_round4: x rounded to 4 decimals, written as Python's repr writes it
 * (no trailing zeros, but at least one digit after the point) */
static void add_round4(pd_buf *b, double x)
{
	char s[64];
	int n = snprintf(s, sizeof s, "%.4f", x);
	while (n > 2 && s[n - 1] == '0' && s[n - 2] != '.')
		s[--n] = '\0';
	pd_buf_adds(b, s);
}

int main(int argc, char **argv)
{
	long n, d, topics, seed;
	if (argc < 6 || argc > 8)
		return usage("wrong number of arguments");
	if (arg_long(argv[1], 0, 100000000L, &n) || arg_long(argv[2], 1, 65536, &d) ||
	    arg_long(argv[3], 1, 10000000L, &topics) || arg_long(argv[4], 0, LONG_MAX, &seed))
		return usage("N, D, TOPICS and SEED are whole numbers (D, TOPICS >= 1)");
	double noise = 0.6;
	const char *ns = getenv("PD_PLANT_NOISE");
	if (ns && *ns) {
		char *end;
		noise = strtod(ns, &end);
		if (*end || !isfinite(noise) || noise < 0)
			return usage("PD_PLANT_NOISE is not a number >= 0");
	}
	const char *out_path = argv[5];
	const char *truth_path = argc > 6 && strcmp(argv[6], "-") != 0 ? argv[6] : NULL;
	const char *npy_path = argc > 7 ? argv[7] : NULL;

	pd_rng r;
	pd_rng_seed(&r, (uint64_t)seed);
	long nmeso = topics / 10 > 1 ? topics / 10 : 1;
	long nmacro = nmeso / 10 > 1 ? nmeso / 10 : 1;
	double *macro = directions(&r, nmacro, d);
	double *meso = directions(&r, nmeso, d);
	double *micro = directions(&r, topics, d);
	/* the centre of every micro topic */
	double *centre = xreallocarray(NULL, (size_t)(topics * d), sizeof *centre);
	for (long t = 0; t < topics; t++) {
		long me = t % nmeso, ma = me % nmacro;
		for (long k = 0; k < d; k++)
			centre[t * d + k] = macro[ma * d + k] + meso[me * d + k] + 1.2 * micro[t * d + k];
		unit(centre + t * d, d);
	}

	FILE *out = open_out(out_path), *truth = NULL, *npy = NULL;
	if (!out || (truth_path && !(truth = open_out(truth_path))) ||
	    (npy_path && !(npy = open_out(npy_path))))
		return 1;
	if (npy)
		npy_header(npy, n, d);
	double *x = xreallocarray(NULL, (size_t)d, sizeof *x);
	float *xf = xreallocarray(NULL, (size_t)d, sizeof *xf);
	double scale = noise / sqrt((double)d);
	pd_buf line = PD_BUF_INIT;
	for (long i = 0; i < n; i++) {
		long mi = (long)pd_rng_below(&r, (uint64_t)topics);
		long me = mi % nmeso, ma = me % nmacro;
		for (long k = 0; k < d; k++)
			x[k] = centre[mi * d + k] + scale * pd_rng_normal(&r);
		unit(x, d);
		for (long k = 0; k < d; k++)
			xf[k] = (float)x[k];
		double perf = exp(0.8 * pd_rng_normal(&r));

		pd_buf_reset(&line);
		pd_buf_printf(&line, "{\"type\":\"video\",\"id\":\"v%06ld\",\"channel_id\":\"ch%ld\","
			      "\"title\":\"%s %s video %ld\",\"perf\":", i, i % 97,
			      words[mi % 10], words[(mi / 10) % 10], i);
		add_round4(&line, perf);
		pd_buf_adds(&line, ",\"embedding_b64\":\"");
		pd_vec_add_b64(&line, xf, (int)d);
		pd_buf_adds(&line, "\"}\n");
		fwrite(line.p, 1, line.len, out);
		if (truth)
			fprintf(truth, "{\"type\": \"truth_video\", \"id\": \"v%06ld\", \"macro\": \"%ld\", "
				"\"meso\": \"%ld\", \"micro\": \"%ld\"}\n", i, ma, me, mi);
		if (npy)
			put_f32le(npy, xf, d);
	}
	pd_buf_release(&line);
	free(x);
	free(xf);
	free(centre);
	free(micro);
	free(meso);
	free(macro);
	int rc = 0;
	rc |= close_out(out, out_path);
	rc |= close_out(truth, truth_path);
	rc |= close_out(npy, npy_path);
	return rc ? 1 : 0;
}
