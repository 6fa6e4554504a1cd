/*
 * bench_record.c — the record layer's speed against cJSON, on the same bytes
 * in one run (make bench).  Prints MB/s for:
 *   passthrough   read lines, learn each record's type (with the structural
 *                 check), write the untouched bytes (to /dev/null)
 *   json-array    pd_record_parse of records with "embedding":[...] vs cJSON_Parse
 *   base64        pd_record_parse of records with "embedding_b64" vs cJSON_Parse,
 *                 and plain base64 decoding of the same strings
 * Usage: bench_record DIM RECORDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../../lib/pd.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void make_records(pd_buf *out, int dim, int n, int b64)
{
	pd_rng r;
	pd_rng_seed(&r, 1);
	float *v = xmalloc((size_t)dim * sizeof *v);
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < dim; k++)
			v[k] = (float)(pd_rng_normal(&r) * 0.05);
		pd_buf_printf(out, "{\"type\":\"video\",\"id\":\"v%08d\",\"title\":\"a title of some length %d\",", i, i);
		if (b64) {
			pd_buf_adds(out, "\"embedding_b64\":\"");
			pd_vec_add_b64(out, v, dim);
			pd_buf_adds(out, "\"}\n");
		} else {
			pd_buf_adds(out, "\"embedding\":");
			pd_vec_add_json(out, v, dim);
			pd_buf_adds(out, "}\n");
		}
	}
	free(v);
}

/* each line of buf through f; returns seconds of the best of 3 */
typedef void (*line_fn)(const char *s, size_t n, void *ud);
static double time_lines(const pd_buf *b, line_fn f, void *ud)
{
	double best = 1e9;
	for (int rep = 0; rep < 3; rep++) {
		double t = now();
		const char *p = b->p, *end = b->p + b->len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			f(p, (size_t)(nl - p), ud);
			p = nl + 1;
		}
		t = now() - t;
		if (t < best)
			best = t;
	}
	return best;
}

static void do_cjson(const char *s, size_t n, void *ud)
{
	cJSON *j = cJSON_ParseWithLength(s, n);
	if (!j)
		abort();
	cJSON_Delete(j);
}

static void do_record(const char *s, size_t n, void *ud)
{
	pd_err err;
	if (pd_record_parse(ud, s, n, &err) < 0)
		abort();
}

static void do_b64(const char *s, size_t n, void *ud)
{
	const char *k = strstr(s, "\"embedding_b64\":\"") + 17;
	const char *q = memchr(k, '"', (size_t)(s + n - k));
	if (pd_b64_decode(k, (size_t)(q - k), ud) < 0)
		abort();
}

static void do_pass(const char *s, size_t n, void *ud)
{
	char type[32];
	pd_err err;
	pd_buf *out = ud;
	if (pd_json_type(s, n, type, sizeof type, &err) != 1)
		abort();
	pd_buf_add(out, s, n);
	pd_buf_addc(out, '\n');
	if (out->len > (1u << 20)) {
		fwrite(out->p, 1, out->len, stdout);
		pd_buf_reset(out);
	}
}

int main(int argc, char **argv)
{
	int dim = argc > 1 ? atoi(argv[1]) : 1536;
	int n = argc > 2 ? atoi(argv[2]) : 20000;
	pd_buf js = PD_BUF_INIT, bs = PD_BUF_INIT, out = PD_BUF_INIT;
	make_records(&js, dim, n, 0);
	make_records(&bs, dim, n, 1);
	pd_record rec = PD_RECORD_INIT;
	unsigned char *scratch = xmalloc((size_t)dim * 4 + 16);
	double mb_j = (double)js.len / 1e6, mb_b = (double)bs.len / 1e6;
	double t_cj = time_lines(&js, do_cjson, NULL);
	double t_pj = time_lines(&js, do_record, &rec);
	double t_cb = time_lines(&bs, do_cjson, NULL);
	double t_pb = time_lines(&bs, do_record, &rec);
	double t_b64 = time_lines(&bs, do_b64, scratch);
	if (!freopen("/dev/null", "w", stdout))
		return 1;
	double t_pass = time_lines(&bs, do_pass, &out);
	fprintf(stderr, "records: %d x %d dims; JSON-array lines %.1f MB, base64 lines %.1f MB\n", n, dim, mb_j, mb_b);
	fprintf(stderr, "%-34s %9s %9s %7s\n", "", "pd MB/s", "ref MB/s", "ratio");
	fprintf(stderr, "%-34s %9.0f %9.0f %6.2fx\n", "JSON-array embeddings (vs cJSON)", mb_j / t_pj, mb_j / t_cj, t_cj / t_pj);
	fprintf(stderr, "%-34s %9.0f %9.0f %6.2fx\n", "base64 embeddings (vs cJSON)", mb_b / t_pb, mb_b / t_cb, t_cb / t_pb);
	fprintf(stderr, "%-34s %9.0f %9.0f %6.2fx\n", "base64 records (vs bare decode)", mb_b / t_pb, mb_b / t_b64, t_b64 / t_pb);
	fprintf(stderr, "%-34s %9.0f %9s\n", "pass-through (type check + write)", mb_b / t_pass, "-");
	return 0;
}
