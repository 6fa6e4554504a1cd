/*
 * test_scan.c — the record scan (pd_record_scan, pd_jobj, pd_video_from_jobj)
 * against the full parser (pd_record_parse with its cJSON tree,
 * pd_video_from_json) on tricky records: escapes, unicode, duplicate keys,
 * nested values, missing and null fields, odd numbers, bad fields.  The
 * property pd-match relies on: whenever the scan decides a record, the full
 * parser accepts it too, with the same type, the same embedding bytes, and a
 * video with the same fields (or the same rejection message).  Then the same
 * property over thousands of random mutations of a record.
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
#include "../../lib/pd.h"
#include "../../lib/json.h"
#include "../../lib/video.h"

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int same_num(double a, double b)
{
	return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/*
 * check: the property on one record.  Returns -1 when the scan did not
 * decide it, 0 when it decided and the full parser rejects the record
 * (which fails the test), 1 when both agree.  *video_ok: the video checks
 * passed (both ways).
 */
static int check(const char *line, size_t n, int *video_ok)
{
	pd_record full = PD_RECORD_INIT, sc = PD_RECORD_INIT;
	pd_jobj o = PD_JOBJ_INIT;
	pd_err e1, e2;
	int rc = -1;
	*video_ok = 0;
	int parsed = pd_record_parse(&full, line, n, &e1) == 0;
	if (pd_record_scan(&sc, &o, line, n) != 0)
		goto out;
	if (!parsed)
		fail_msg("scan accepted what the parser rejects (%s): %.*s", e1.msg, (int)n, line);
	assert_string_equal(sc.type, full.type);
	assert_int_equal(sc.dim, full.dim);
	assert_int_equal(sc.emb_form, full.emb_form);
	if (sc.dim)
		assert_memory_equal(sc.emb, full.emb, (size_t)sc.dim * sizeof *sc.emb);
	pd_video a, b;
	int ra = pd_video_from_json(full.json, &a, &e1), rb = pd_video_from_jobj(&o, &b, &e2);
	if (ra != rb)
		fail_msg("video: %d from the tree, %d from the scan: %.*s", ra, rb, (int)n, line);
	/* keeping the title only: the same checks, the same members seen,
	   the strings outside the mask not kept */
	pd_video c;
	pd_err e3;
	int rc3 = pd_video_from_jobj_keep(&o, &c, PD_VF_TITLE, &e3);
	assert_int_equal(rc3, rb);
	if (rc3 < 0) {
		assert_string_equal(e3.msg, e2.msg);
	} else {
		assert_int_equal(c.fields, b.fields);
		assert_true(same_str(c.id, b.id) && same_str(c.title, b.title));
		assert_true(!c.description && !c.channel_id && !c.category && !c.tags && !c.ntags);
		assert_true(same_num(c.published_at, b.published_at) &&
			    same_num(c.duration_s, b.duration_s));
		pd_video_release(&c);
	}
	if (ra < 0) {
		assert_string_equal(e1.msg, e2.msg);
	} else {
		assert_true(same_str(a.id, b.id) && same_str(a.channel_id, b.channel_id));
		assert_true(same_str(a.title, b.title) && same_str(a.description, b.description));
		assert_true(same_str(a.category, b.category) && same_str(a.format, b.format));
		assert_true(same_num(a.published_at, b.published_at) &&
			    same_num(a.observed_at, b.observed_at));
		assert_true(same_num(a.duration_s, b.duration_s) && same_num(a.views, b.views) &&
			    same_num(a.likes, b.likes) && same_num(a.comments, b.comments) &&
			    same_num(a.age_days, b.age_days) && same_num(a.perf, b.perf));
		assert_int_equal(a.perf_basis, b.perf_basis);
		assert_int_equal(a.holdout, b.holdout);
		assert_int_equal(a.ntags, b.ntags);
		assert_true((a.tags == NULL) == (b.tags == NULL));
		for (int i = 0; i < a.ntags; i++)
			assert_string_equal(a.tags[i], b.tags[i]);
		pd_video_release(&a);
		pd_video_release(&b);
		*video_ok = 1;
	}
	rc = 1;
out:
	pd_record_release(&full);
	pd_record_release(&sc);
	pd_jobj_release(&o);
	return rc;
}

#define EMB "\"embedding_b64\":\"AACAPwAAAEAAAEBA\""

/* records the scan must decide, and agree on */
static const char *const decided[] = {
	"{\"type\":\"video\",\"id\":\"v1\",\"title\":\"How to bake bread\",\"duration_s\":540,"
	"\"published_at\":\"2024-03-01T12:00:00Z\",\"tags\":[\"a\",\"b\"]," EMB "}",
	/* escapes of every kind, in values, tags and the id */
	"{\"type\":\"video\",\"id\":\"v\\\"2\\\\\",\"title\":\"a\\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\","
	"\"tags\":[\"x\\ty\",\"\\u00e9\"]," EMB "}",
	/* unicode: escaped BMP and a surrogate pair, and raw UTF-8 */
	"{\"type\":\"video\",\"id\":\"u\",\"title\":\"caf\\u00e9 \\ud83d\\ude00 \\u4E2D \xd0\x9f\xd1\x80\xd0\xb8 \xf0\x9f\x98\x80\"," EMB "}",
	/* duplicate keys: the first wins, as cJSON_GetObjectItemCaseSensitive */
	"{\"type\":\"video\",\"id\":\"d1\",\"title\":\"first\",\"title\":\"second\",\"id\":\"d2\","
	"\"duration_s\":10,\"duration_s\":\"x\"," EMB "}",
	/* nested values the video does not read, spaces everywhere */
	" { \"type\" : \"video\" , \"id\" : \"n\" , \"extra\" : { \"a\" : [ 1 , { \"b\" : [ true , false , null ] } ] , \"c\" : { } } ,"
	" \"x\" : [ ] , " EMB " , \"title\" : \"t\" } ",
	/* only the id and the embedding */
	"{\"type\":\"video\",\"id\":\"m\"," EMB "}",
	/* embedding first, then the rest */
	"{" EMB ",\"type\":\"video\",\"id\":\"f\"}",
	/* numbers: exponents, negative zero, many digits */
	"{\"type\":\"video\",\"id\":\"num\",\"duration_s\":1e2,\"views\":1E+3,\"likes\":0.5e-3,"
	"\"comments\":12345678901234567890,\"age_days\":0.1,\"perf\":2.50,\"perf_basis\":7.9,"
	"\"z\":-0," EMB "}",
	/* nulls and booleans */
	"{\"type\":\"video\",\"id\":\"null\",\"title\":null,\"tags\":null,\"perf\":null,\"holdout\":true,"
	"\"format\":null," EMB "}",
	/* the embedding as a JSON array */
	"{\"type\":\"video\",\"id\":\"j\",\"embedding\":[1, 2.5, -3e-2]}",
	/* no embedding at all, other types */
	"{\"type\":\"video\",\"id\":\"noemb\",\"title\":\"x\"}",
	"{\"type\":\"cluster\",\"id\":\"c\",\"size\":3}",
	/* bad video fields: the scan decides the record, the video is rejected alike */
	"{\"type\":\"video\",\"id\":\"neg\",\"views\":-1," EMB "}",
	"{\"type\":\"video\",\"id\":\"tags\",\"tags\":[\"a\",1]," EMB "}",
	"{\"type\":\"video\",\"id\":\"time\",\"published_at\":\"yesterday\"," EMB "}",
	"{\"type\":\"video\",\"id\":\"\"," EMB "}",
	"{\"type\":\"video\",\"id\":5," EMB "}",
	"{\"type\":\"video\"," EMB "}",
	"{\"type\":\"video\",\"id\":\"t\",\"tags\":\"x\"," EMB "}",
	"{\"type\":\"video\",\"id\":\"t\",\"title\":[\"x\"]," EMB "}",
	"{\"type\":\"video\",\"id\":\"p\",\"perf\":\"high\"," EMB "}",
};

/* records the scan leaves to the full parser (valid or not) */
static const char *const undecided[] = {
	"{\"type\":\"video\",\"id\":\"z\",\"title\":\"a\\u0000b\"," EMB "}",	/* NUL escape */
	"{\"type\":\"video\",\"id\":\"c\",\"title\":\"a\tb\"," EMB "}",		/* raw control char */
	"{\"type\":\"video\",\"id\":\"s\",\"title\":\"\\ud800\"," EMB "}",	/* lone surrogates */
	"{\"type\":\"video\",\"id\":\"s\",\"title\":\"\\udc00x\"," EMB "}",
	"{\"type\":\"video\",\"id\":\"s\",\"title\":\"\\ud800\\u0041\"," EMB "}",
	"{\"type\":\"video\",\"id\":\"k\",\"ti\\u0074le\":\"x\"," EMB "}",	/* escaped key */
	"{\"type\":\"video\",\"id\":\"l\",\"views\":1234567890123456789012345678901234567890123456789012345678901234567890," EMB "}",
	"{\"type\":\"video\",\"id\":\"o\",\"views\":01," EMB "}",			/* leading zero */
	"{\"type\":\"video\",\"id\":\"b\",\"embedding\":[1],\"embedding_b64\":\"AACAPw==\"}",
	"{\"type\":\"video\",\"id\":\"e\",\"embedding_b64\":\"!!!!\"}",
	"{\"type\":5,\"id\":\"x\"," EMB "}",
	"{\"type\":\"video\",\"id\":\"x\"," EMB "} x",
	"{\"type\":\"video\",\"id\":\"x\",\"title\":\"unterminated}",
	"{\"type\":\"video\",\"id\":\"x\",\"a\":tru," EMB "}",
	"{\"type\":\"video\",\"id\":\"x\",\"a\":[1,]," EMB "}",
	"[1,2]",
};

static void tricky_records(void **state)
{
	int videos = 0;
	for (size_t i = 0; i < sizeof decided / sizeof *decided; i++) {
		int vok;
		int r = check(decided[i], strlen(decided[i]), &vok);
		if (r != 1)
			fail_msg("the scan did not decide: %s", decided[i]);
		videos += vok;
	}
	assert_true(videos >= 10);
	for (size_t i = 0; i < sizeof undecided / sizeof *undecided; i++) {
		int vok;
		if (check(undecided[i], strlen(undecided[i]), &vok) != -1)
			fail_msg("the scan decided: %s", undecided[i]);
	}
}

static void first_of_duplicates_and_decoding(void **state)
{
	pd_record r = PD_RECORD_INIT;
	pd_jobj o = PD_JOBJ_INIT;
	pd_video v;
	pd_err err;
	assert_int_equal(pd_record_scan(&r, &o, decided[3], strlen(decided[3])), 0);
	assert_int_equal(pd_video_from_jobj(&o, &v, &err), 0);
	assert_string_equal(v.id, "d1");
	assert_string_equal(v.title, "first");
	assert_true(v.duration_s == 10);
	pd_video_release(&v);
	assert_int_equal(pd_record_scan(&r, &o, decided[2], strlen(decided[2])), 0);
	assert_int_equal(pd_video_from_jobj(&o, &v, &err), 0);
	assert_string_equal(v.title, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe4\xb8\xad \xd0\x9f\xd1\x80\xd0\xb8 \xf0\x9f\x98\x80");
	assert_int_equal(r.dim, 3);
	assert_true(r.emb[0] == 1.0f && r.emb[2] == 3.0f);
	pd_video_release(&v);
	pd_record_release(&r);
	pd_jobj_release(&o);
}

/* numbers read by the scan are strtod's, bit for bit: whole numbers (read
 * directly up to 15 digits) around the limits, and random ones of 1 to 18
 * digits with and without a sign, fractions and exponents */
static void numbers_as_strtod(void **state)
{
	(void)state;
	static const char *fixed[] = { "0", "-0", "7", "-7", "10", "999999999999999",
		"-999999999999999", "1000000000000000", "9007199254740993", "123456789012345678",
		"1.5", "-0.25", "1e3", "2E-2", "12345678901234567890" };
	uint64_t x = 0x243f6a8885a308d3ull;
	for (int it = 0; it < 20000 + (int)(sizeof fixed / sizeof *fixed); it++) {
		char num[48], line[96];
		if (it < (int)(sizeof fixed / sizeof *fixed)) {
			snprintf(num, sizeof num, "%s", fixed[it]);
		} else {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			int digits = 1 + (int)(x % 18), k = 0;
			if ((x >> 5) & 1)
				num[k++] = '-';
			for (int j = 0; j < digits; j++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				num[k++] = (char)('0' + (j == 0 && digits > 1 ? 1 + x % 9 : x % 10));
			}
			if ((x >> 9) % 4 == 0)
				k += snprintf(num + k, sizeof num - (size_t)k, ".%d", (int)((x >> 20) % 1000));
			num[k] = '\0';
		}
		snprintf(line, sizeof line, "{\"type\":\"video\",\"id\":\"n\",\"views\":%s}", num);
		pd_record r = PD_RECORD_INIT;
		pd_jobj o = PD_JOBJ_INIT;
		pd_jv v;
		assert_int_equal(pd_record_scan(&r, &o, line, strlen(line)), 0);
		assert_int_equal(pd_jobj_get(&o, "views", &v), 1);
		assert_int_equal(v.t, PD_JV_NUMBER);
		double want = strtod(num, NULL);
		if (!same_num(v.d, want))
			fail_msg("'%s': %.17g from the scan, %.17g from strtod", num, v.d, want);
		pd_record_release(&r);
		pd_jobj_release(&o);
	}
}

/* random mutations of a record: whenever the scan decides, the parser agrees */
static void random_mutations(void **state)
{
	static const char base[] =
		"{\"type\":\"video\",\"id\":\"v\\u00e9\",\"title\":\"How \\\"to\\\" [x] 1999?\","
		"\"tags\":[\"a\",\"b\\n\"],\"duration_s\":1.5e2,\"perf\":null,\"views\":12,"
		"\"published_at\":\"2024-03-01T12:00:00Z\",\"extra\":{\"k\":[true,false,null,-0.5]},"
		EMB "}";
	static const char alphabet[] = "{}[]\",:\\u0aeE.-+ tfnl19\x01\xc3\xa9";
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char buf[512];
	int decided_n = 0, video_n = 0;
	for (int it = 0; it < 20000; it++) {
		size_t n = strlen(base);
		memcpy(buf, base, n);
		int edits = 1 + (int)(x % 3);
		for (int k = 0; k < edits; k++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t at = (size_t)(x >> 8) % n;
			char c = alphabet[(x >> 40) % (sizeof alphabet - 1)];
			switch ((x >> 32) % 3) {
			case 0: buf[at] = c; break;			/* replace */
			case 1: if (n + 1 < sizeof buf) {		/* insert */
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = c;
					n++;
				}
				break;
			default: memmove(buf + at, buf + at + 1, n - at - 1); n--; break;	/* delete */
			}
		}
		int vok;
		int r = check(buf, n, &vok);
		decided_n += r == 1;
		video_n += vok;
	}
	/* the property was tested on many records, not just on the rejected ones */
	assert_true(decided_n > 2000 && video_n > 1000);
}

/* strict strings: each special byte at every offset of a long string (the
   checker reads runs of 8 bytes at a time, then byte by byte) */
static void strings_at_every_offset(void **state)
{
	(void)state;
	static const struct { const char *x; int ok; } sp[] = {
		{ "\x01", 0 }, { "\x1f", 0 }, { "\n", 0 }, { "\\n", 1 }, { "\\\"", 1 },
		{ "\\u00e9", 1 }, { "\\x", 0 }, { "\xc3\xa9", 1 }, { "\x7f", 1 }, { " ", 1 },
		{ "\"", 0 },
	};
	for (size_t k = 0; k < sizeof sp / sizeof *sp; k++)
		for (int len = 0; len < 40; len++)
			for (int at = 0; at <= len; at++) {
				char t[64];
				int m = 0;
				t[m++] = '"';
				for (int j = 0; j < at; j++)
					t[m++] = 'a';
				for (const char *x = sp[k].x; *x; x++)
					t[m++] = *x;
				for (int j = at; j < len; j++)
					t[m++] = 'b';
				t[m++] = '"';
				if (pd_json_strict_value(t, (size_t)m) != sp[k].ok)
					fail_msg("%s at %d of %d: not %d", sp[k].x, at, len, sp[k].ok);
			}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tricky_records),
		cmocka_unit_test(first_of_duplicates_and_decoding),
		cmocka_unit_test(random_mutations),
		cmocka_unit_test(numbers_as_strtod),
		cmocka_unit_test(strings_at_every_offset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
