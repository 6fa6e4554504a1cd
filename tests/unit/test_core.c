/*
 * test_core.c — unit tests of the core modules: the embedding codec, the
 * JSON scanner, records, input lines, times and durations, perf, the number
 * writer and its variants (buf.h), warnings and rejections handed over (err.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "../../lib/pd.h"
#include "../../lib/perf.h"
#include "../../lib/strmap.h"

static void vec_json_numbers(void **state)
{
	float *v = NULL;
	size_t cap = 0;
	int dim;
	pd_err err;
	const char *s = "[0, -1.5, 2e3, 1.25E-2 ,-0.0, 123456789, 0.1]";
	assert_int_equal(pd_vec_parse_json(s, strlen(s), &v, &cap, &dim, &err), 0);
	assert_int_equal(dim, 7);
	assert_true(v[0] == 0.0f && v[1] == -1.5f && v[2] == 2000.0f);
	assert_true(v[3] == 0.0125f && v[5] == 123456789.0f && v[6] == 0.1f);
	const char *bad[] = { "[1,]", "[1 2]", "[NaN]", "[1e999]", "[]", "[--1]", "[1.]", "[.5]",
			      "1,2", "[1,2", "[\"1\"]", "[Infinity]", "[1e5x]" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(pd_vec_parse_json(bad[i], strlen(bad[i]), &v, &cap, &dim, &err), -1);
	free(v);
}

/* the fast decimal parser agrees with strtof on random floats printed in many ways */
static void vec_json_matches_strtof(void **state)
{
	pd_rng r;
	pd_rng_seed(&r, 42);
	pd_buf b = PD_BUF_INIT;
	float *v = NULL;
	size_t cap = 0;
	int dim, bad = 0;
	pd_err err;
	for (int round = 0; round < 200; round++) {
		float ref[64];
		pd_buf_reset(&b);
		pd_buf_addc(&b, '[');
		for (int k = 0; k < 64; k++) {
			double x = pd_rng_normal(&r) * pow(10, (int)pd_rng_below(&r, 20) - 10);
			char tmp[64];
			const char *fmt[] = { "%.9g", "%.17g", "%g", "%e", "%.3f", "%.12e" };
			snprintf(tmp, sizeof tmp, fmt[k % 6], x);
			ref[k] = strtof(tmp, NULL);
			if (k)
				pd_buf_addc(&b, ',');
			pd_buf_adds(&b, tmp);
		}
		pd_buf_addc(&b, ']');
		assert_int_equal(pd_vec_parse_json(b.p, b.len, &v, &cap, &dim, &err), 0);
		assert_int_equal(dim, 64);
		for (int k = 0; k < 64; k++)
			if (v[k] != ref[k])
				bad++;
	}
	assert_int_equal(bad, 0);
	pd_buf_release(&b);
	free(v);
}

/* ref_b64: a plain base64 decoder for the test (trailing '=' stripped, as pd's) */
static long ref_b64(const char *s, size_t n, unsigned char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	while (n && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	unsigned long acc = 0;
	int bits = 0;
	long o = 0;
	for (size_t i = 0; i < n; i++) {
		const char *p = s[i] ? strchr(al, s[i]) : NULL;
		if (!p)
			return -1;
		acc = acc << 6 | (unsigned long)(p - al);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	return o;
}

/* pd_b64_decode (whose long inputs go through the vector path where the CPU
 * has one) against the plain decoder: every length, and one byte changed
 * to every value at every kind of place */
static void b64_decode_matches_reference(void **state)
{
	unsigned char data[400], got[400], want[400];
	uint64_t x = 88172645463325252ull;
	for (size_t len = 0; len < 300; len++) {
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			data[i] = (unsigned char)x;
		}
		pd_buf b = PD_BUF_INIT;
		pd_b64_encode(&b, data, len);
		long r = pd_b64_decode(b.p ? b.p : "", b.len, got);
		assert_int_equal(r, (long)len);
		assert_memory_equal(got, data, len);
		for (int t = 0; t < 8 && b.len; t++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t at = (size_t)(x >> 16) % b.len;
			char keep = b.p[at];
			b.p[at] = (char)(x >> 40);
			long w = ref_b64(b.p, b.len, want), g = pd_b64_decode(b.p, b.len, got);
			if (w != g)
				fail_msg("length %zu, byte %zu set to %d: %ld, reference %ld", len, at,
					 (unsigned char)b.p[at], g, w);
			if (w > 0)
				assert_memory_equal(got, want, (size_t)w);
			b.p[at] = keep;
		}
		pd_buf_release(&b);
	}
}

static void vec_b64_roundtrip(void **state)
{
	float in[5] = { 0.1f, -2.0f, 3.5e-8f, 1e20f, 0.0f }, *out = NULL;
	size_t cap = 0;
	int dim;
	pd_err err;
	for (int n = 1; n <= 5; n++) {
		pd_buf b = PD_BUF_INIT;
		pd_buf_addc(&b, '"');
		pd_vec_add_b64(&b, in, n);
		pd_buf_addc(&b, '"');
		assert_int_equal(pd_vec_parse_b64(b.p, b.len, &out, &cap, &dim, &err), 0);
		assert_int_equal(dim, n);
		assert_memory_equal(out, in, (size_t)n * 4);
		pd_buf_release(&b);
	}
	/* OpenAI's example: [0.1, -0.2] little-endian float32 */
	const char *s = "\"zczMPc3MTL4=\"";
	assert_int_equal(pd_vec_parse_b64(s, strlen(s), &out, &cap, &dim, &err), 0);
	assert_int_equal(dim, 2);
	assert_true(out[0] == 0.1f && out[1] == -0.2f);
	const char *bad[] = { "\"zczM!c3MTL4=\"", "\"AAA=\"", "\"\"", "zczMPQ==",
			      "\"AADAfw==\"" /* NaN */ };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(pd_vec_parse_b64(bad[i], strlen(bad[i]), &out, &cap, &dim, &err), -1);
	free(out);
}

static void json_scanner(void **state)
{
	char type[32];
	pd_err err;
	const char *a = "{\"type\":\"video\",\"id\":\"x\"}";
	assert_int_equal(pd_json_type(a, strlen(a), type, sizeof type, &err), 1);
	assert_string_equal(type, "video");
	const char *b = " { \"id\" : \"x\\\"}{\" , \"nested\":{\"type\":\"no\"}, \"type\" : \"cluster\" } ";
	assert_int_equal(pd_json_type(b, strlen(b), type, sizeof type, &err), 1);
	assert_string_equal(type, "cluster");
	const char *c = "{\"id\":1}";
	assert_int_equal(pd_json_type(c, strlen(c), type, sizeof type, &err), -1);
	assert_string_equal(err.msg, "record has no string 'type'");
	const char *c2 = "{\"type\":7}";
	assert_int_equal(pd_json_type(c2, strlen(c2), type, sizeof type, &err), -1);
	const char *bad[] = { "{\"type\":\"video\"", "{\"type\" \"video\"}", "[1]", "{\"a\":[1,2}",
			      "{\"a\":1,}", "{\"a\":\"x}", "{\"type\":\"video\"} x" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(pd_json_type(bad[i], strlen(bad[i]), type, sizeof type, &err), -1);
	const char *v;
	size_t vl;
	const char *d = "{\"k\":[1,{\"x\":\"]\"}],\"z\":null}";
	assert_int_equal(pd_json_find(d, strlen(d), "k", &v, &vl, &err), 1);
	assert_int_equal(vl, strlen("[1,{\"x\":\"]\"}]"));
	assert_int_equal(pd_json_find(d, strlen(d), "q", &v, &vl, &err), 0);
}

static void utf8(void **state)
{
	assert_true(pd_utf8_valid("plain ascii text, long enough for the fast path", 46));
	assert_true(pd_utf8_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
	assert_false(pd_utf8_valid("caf\xe9", 4));		/* Latin-1 */
	assert_false(pd_utf8_valid("\xc0\xaf", 2));		/* overlong */
	assert_false(pd_utf8_valid("\xed\xa0\x80", 3));		/* surrogate */
	assert_false(pd_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(pd_utf8_valid("\xe2\x82", 2));		/* truncated */
}

static void record_roundtrip(void **state)
{
	pd_record r = PD_RECORD_INIT;
	pd_err err;
	pd_buf out = PD_BUF_INIT;
	const char *a = "{\"embedding\":[0.5,-1],\"type\":\"video\",\"id\":\"v1\",\"x\":{\"y\":[1]}}";
	assert_int_equal(pd_record_parse(&r, a, strlen(a), &err), 0);
	assert_string_equal(r.type, "video");
	assert_int_equal(r.dim, 2);
	assert_null(cJSON_GetObjectItem(r.json, "embedding"));
	/* untouched: the same bytes */
	pd_record_write(&r, &out, PD_EMB_B64);
	assert_int_equal(out.len, strlen(a) + 1);
	assert_memory_equal(out.p, a, strlen(a));
	/* modified: JSON plus the embedding in the asked form */
	r.modified = 1;
	pd_buf_reset(&out);
	pd_record_write(&r, &out, PD_EMB_B64);
	assert_string_equal(out.p, "{\"type\":\"video\",\"id\":\"v1\",\"x\":{\"y\":[1]},\"embedding_b64\":\"AAAAPwAAgL8=\"}\n");
	pd_buf_reset(&out);
	pd_record_write(&r, &out, PD_EMB_JSON);
	assert_string_equal(out.p, "{\"type\":\"video\",\"id\":\"v1\",\"x\":{\"y\":[1]},\"embedding\":[0.5,-1]}\n");
	const char *b = "{\"type\":\"video\",\"id\":\"v1\",\"embedding_b64\":\"AAAAPwAAgL8=\"}";
	assert_int_equal(pd_record_parse(&r, b, strlen(b), &err), 0);
	assert_int_equal(r.dim, 2);
	assert_true(r.emb[0] == 0.5f && r.emb[1] == -1.0f);
	const char *bad[] = { "{\"type\":\"v\",\"embedding\":[1],\"embedding_b64\":\"AACAPw==\"}",
			      "{\"type\":\"v\",\"embedding\":[1,\"a\"]}", "{\"type\":3}", "{}", "[]",
			      "{\"type\":\"v\",\"embedding\":[1,2]", "{\"type\":\"v\xff\"}" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(pd_record_parse(&r, bad[i], strlen(bad[i]), &err), -1);
	pd_record_release(&r);
	pd_buf_release(&out);
}

static void input_lines(void **state)
{
	char path[] = "/tmp/pd-unit-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char text[] = "one\r\ntwo\n\nthree-is-too-long-for-the-cap\nfour";
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	char *paths[] = { path };
	pd_input *in = pd_input_open(paths, 1, 10);
	char *spill = NULL;
	size_t spill_len = 0;
	FILE *sp = open_memstream(&spill, &spill_len);
	pd_input_set_spill(in, sp);
	const char *line;
	size_t len;
	pd_err err;
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_OK);
	assert_string_equal(line, "one");
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_OK);
	assert_string_equal(line, "two");
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_OK);
	assert_int_equal(len, 0);
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_TOOLONG);
	assert_int_equal(pd_input_lineno(in), 4);
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_OK);
	assert_string_equal(line, "four");
	assert_int_equal(pd_input_lineno(in), 5);
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_EOF);
	fclose(sp);
	assert_string_equal(spill, "three-is-too-long-for-the-cap\n");
	free(spill);
	pd_input_free(in);
	unlink(path);
}

/* a line written into a pipe that stays open comes back at once (coprocess
 * use): the reader must not wait to fill a buffer.  alarm() turns a hang
 * into a failure. */
static void input_pipe_line_at_once(void **state)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	int saved = dup(0);
	assert_int_equal(dup2(p[0], 0), 0);
	close(p[0]);
	assert_int_equal(write(p[1], "first\n", 6), 6);
	pd_input *in = pd_input_open(NULL, 0, 0);
	const char *line;
	size_t len;
	pd_err err;
	alarm(5);
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_OK);
	assert_string_equal(line, "first");
	assert_int_equal(write(p[1], "second\n", 7), 7);
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_OK);
	assert_string_equal(line, "second");
	alarm(0);
	close(p[1]);
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_EOF);
	pd_input_free(in);
	dup2(saved, 0);
	close(saved);
}

/* gzip input, two members concatenated (as cat a.gz b.gz makes) */
static void input_gzip_members(void **state)
{
	char path[] = "/tmp/pd-unit-gz-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	for (int k = 0; k < 2; k++) {
		gzFile g = gzopen(path, k ? "ab" : "wb");
		assert_non_null(g);
		gzprintf(g, k ? "three\nfour" : "one\ntwo\n");
		gzclose(g);
	}
	char *paths[] = { path };
	pd_input *in = pd_input_open(paths, 1, 0);
	const char *want[] = { "one", "two", "three", "four" };
	const char *line;
	size_t len;
	pd_err err;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_OK);
		assert_string_equal(line, want[i]);
	}
	assert_int_equal(pd_input_next(in, &line, &len, &err), PD_LINE_EOF);
	pd_input_free(in);
	/* truncated gzip: an error, not silence */
	FILE *f = fopen(path, "r+");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 20), 0);
	fclose(f);
	in = pd_input_open(paths, 1, 0);
	int r;
	while ((r = pd_input_next(in, &line, &len, &err)) == PD_LINE_OK)
		;
	assert_int_equal(r, PD_LINE_ERROR);
	pd_input_free(in);
	unlink(path);
}

static void times(void **state)
{
	double t;
	assert_int_equal(pd_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_true(t == 0);
	assert_int_equal(pd_time_parse("2026-08-21T12:34:56.5+02:00", &t), 0);
	char buf[32];
	pd_time_format(t, buf, sizeof buf);
	assert_string_equal(buf, "2026-08-21T10:34:56Z");
	assert_int_equal(pd_time_parse("2024-02-29", &t), 0);
	assert_int_equal(pd_time_weekday(t, 0), 3);	/* a Thursday */
	const char *bad[] = { "2025-02-29T00:00:00Z", "2025-13-01", "2025-01-01T25:00:00Z", "yesterday",
			      "2025-01-01T00:00:00Zjunk", "" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(pd_time_parse(bad[i], &t), -1);
	double d;
	assert_int_equal(pd_duration_parse("PT1H2M3S", &d), 0);
	assert_true(d == 3723);
	assert_int_equal(pd_duration_parse("P1DT2H3M4S", &d), 0);
	assert_true(d == 93784);
	assert_int_equal(pd_duration_parse("P0D", &d), 0);
	assert_true(d == 0);
	assert_int_equal(pd_duration_parse("PT45.5S", &d), 0);
	assert_true(d == 45.5);
	assert_int_equal(pd_duration_parse("PT", &d), -1);
	assert_int_equal(pd_duration_parse("1H", &d), -1);
	assert_int_equal(pd_duration_parse("PT5X", &d), -1);
}

/* perf: a channel of identical videos has perf 1; a planted x4 video gets 4 */
static void perf_planted(void **state)
{
	enum { N = 400 };
	pd_perf_in in[N];
	pd_perf_out out[N];
	pd_rng r;
	pd_rng_seed(&r, 3);
	for (int i = 0; i < N; i++) {
		int ch = i / 20;
		double age = exp(pd_rng_normal(&r));
		double base = 8 + ch * 0.1;
		double mult = (i % 20 == 7) ? 4.0 : 1.0;
		in[i].channel = ch;
		in[i].age_days = age;
		in[i].views = exp(base + 0.7 * log(age) + log(mult)) - 1;
		in[i].perf_in = NAN;
	}
	pd_age_curve c;
	pd_perf_compute(in, N, N / 20, PD_PERF_AGE, 5, out, &c);
	assert_true(c.k >= 3);
	for (int i = 0; i < N; i++) {
		double want = (i % 20 == 7) ? 4.0 : 1.0;
		if (fabs(log(out[i].perf) - log(want)) >= 0.2)
			print_error("video %d: perf %g, planted %g\n", i, out[i].perf, want), fail();
		assert_int_equal(out[i].basis, 19);
	}
	/* too few videos: null with a reason */
	pd_perf_compute(in, 3, 1, PD_PERF_AGE, 5, out, NULL);
	assert_true(isnan(out[0].perf));
	assert_non_null(strstr(out[0].reason, "3 usable videos"));
}

static void strmap(void **state)
{
	pd_strmap *m = pd_strmap_new();
	char key[32];
	for (int i = 0; i < 10000; i++) {
		snprintf(key, sizeof key, "k%d", i);
		int added;
		assert_int_equal(pd_strmap_intern(m, key, strlen(key), &added), i);
		assert_true(added);
	}
	assert_int_equal(pd_strmap_find(m, "k1234", 5), 1234);
	assert_int_equal(pd_strmap_find(m, "nope", 4), -1);
	assert_string_equal(pd_strmap_key(m, 9999), "k9999");
	pd_strmap_free(m);
}

/* the number writer and its two variants (buf.h) */
static void numbers(void **state)
{
	(void)state;
	static const struct {
		double v;
		const char *num, *exact, *fixed2, *sig4;
	} c[] = {
		{ 3, "3", "3", "3.00", "3" },
		{ -0.0, "0", "-0", "-0.00", "-0" },
		{ -42, "-42", "-42", "-42.00", "-42" },
		{ 1e6, "1000000", "1000000", "1000000.00", "1e+06" },
		{ 123456789012345, "123456789012345", "123456789012345", "123456789012345.00",
		  "1.235e+14" },
		{ 1e15, "1e+15", "1e+15", "1000000000000000.00", "1e+15" },
		{ 0.1, "0.1", "0.1", "0.10", "0.1" },
		{ 1.0 / 3, "0.333333", "0.33333333333333331", "0.33", "0.3333" },
		{ 2.5e-7, "2.5e-07", "2.5e-07", "0.00", "2.5e-07" },
		{ NAN, "null", "null", "null", "null" },
		{ INFINITY, "null", "null", "null", "null" },
	};
	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		pd_buf b = PD_BUF_INIT;
		pd_buf_add_num(&b, c[i].v);
		assert_string_equal(b.p, c[i].num);
		pd_buf_reset(&b);
		pd_buf_add_num_exact(&b, c[i].v);
		assert_string_equal(b.p, c[i].exact);
		if (isfinite(c[i].v))
			assert_true(strtod(b.p, NULL) == c[i].v);
		pd_buf_reset(&b);
		pd_buf_add_num_fixed(&b, c[i].v, 2);
		assert_string_equal(b.p, c[i].fixed2);
		pd_buf_reset(&b);
		pd_buf_add_num_sig(&b, c[i].v, 4);
		assert_string_equal(b.p, c[i].sig4);
		pd_buf_release(&b);
	}
}

/* warnings and rejections handed to the caller's function (err.h) */
static char said[2048];
static long said_line;
static void on_warn(void *ud, const char *msg)
{
	*(int *)ud += 1;
	snprintf(said, sizeof said, "%s", msg);
}
static void on_reject(void *ud, const char *file, long line, const char *raw, size_t len,
		      const char *msg)
{
	*(int *)ud += 1;
	said_line = line;
	snprintf(said, sizeof said, "%s|%.*s|%s", file, (int)len, raw, msg);
}

static void messages(void **state)
{
	(void)state;
	int n = 0;
	pd_warnf(NULL, &n, "nobody hears %d", 1);
	pd_rejectf(NULL, &n, "f", 1, "x", 1, "nobody hears %d", 2);
	assert_int_equal(n, 0);
	pd_warnf(on_warn, &n, "video '%s' has %d", "v1", 3);
	assert_int_equal(n, 1);
	assert_string_equal(said, "video 'v1' has 3");
	pd_rejectf(on_reject, &n, "a.ndjson", 7, "{raw}xx", 5, "bad '%s'", "k");
	assert_int_equal(n, 2);
	assert_int_equal(said_line, 7);
	assert_string_equal(said, "a.ndjson|{raw}|bad 'k'");
	char big[1500];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	pd_warnf(on_warn, &n, "%s", big);
	assert_int_equal(strlen(said), 1023);	/* cut, not overrun */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(vec_json_numbers),
		cmocka_unit_test(vec_json_matches_strtof),
		cmocka_unit_test(vec_b64_roundtrip),
		cmocka_unit_test(b64_decode_matches_reference),
		cmocka_unit_test(json_scanner),
		cmocka_unit_test(utf8),
		cmocka_unit_test(record_roundtrip),
		cmocka_unit_test(input_lines),
		cmocka_unit_test(input_pipe_line_at_once),
		cmocka_unit_test(input_gzip_members),
		cmocka_unit_test(times),
		cmocka_unit_test(perf_planted),
		cmocka_unit_test(strmap),
		cmocka_unit_test(numbers),
		cmocka_unit_test(messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
