/*
 * test_features.c — unit tests of lib/features: predicates parsed and
 * written canonically, bad predicates refused, each kind checked against
 * extracted videos, the format classifier, and the property pd-mine relies
 * on: every candidate feature a video yields, parsed back, is true of it.
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
#include "../../lib/features.h"
#include "../../lib/video.h"

static pd_feature *P(const char *s)
{
	pd_err err;
	pd_feature *f = pd_feature_parse(s, strlen(s), &err);
	if (!f)
		fail_msg("parse %s: %s", s, err.msg);
	return f;
}

static void canonical_round_trip(void **state)
{
	struct { const char *in, *out; } cases[] = {
		{ "{\"value\":\"How-To\",\"kind\":\"ngram\"}", "{\"kind\":\"ngram\",\"value\":\"how to\"}" },
		{ "{\"kind\":\"duration\",\"max_s\":600.0,\"min_s\":300}", "{\"kind\":\"duration\",\"min_s\":300,\"max_s\":600}" },
		{ "{\"kind\":\"duration\",\"min_s\":1200}", "{\"kind\":\"duration\",\"min_s\":1200}" },
		{ "{\"kind\":\"short\"}", "{\"kind\":\"short\"}" },
		{ "{\"kind\":\"weekday\",\"value\":5}", "{\"kind\":\"weekday\",\"value\":5}" },
		{ "{\"kind\":\"tag\",\"value\":\" MineCraft \"}", "{\"kind\":\"tag\",\"value\":\"minecraft\"}" },
		{ "{\"kind\":\"category\",\"value\":\"Gaming\"}", "{\"kind\":\"category\",\"value\":\"Gaming\"}" },
		{ "{\"kind\":\"title_len\",\"min\":40,\"max\":60}", "{\"kind\":\"title_len\",\"min\":40,\"max\":60}" },
		{ "{\"all\":[{\"kind\":\"format\",\"value\":\"Tutorial\"},{\"kind\":\"title\",\"value\":\"question\"}]}",
		  "{\"all\":[{\"kind\":\"format\",\"value\":\"tutorial\"},{\"kind\":\"title\",\"value\":\"question\"}]}" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		pd_feature *f = P(cases[i].in);
		pd_buf b = PD_BUF_INIT;
		pd_feature_canonical(f, &b);
		assert_string_equal(b.p, cases[i].out);
		assert_true(pd_feature_key(f) == pd_hash64(b.p, b.len));
		cJSON *j = pd_feature_to_json(f);
		assert_non_null(j);
		pd_err err;
		pd_feature *g = pd_feature_from_json(j, &err);
		assert_non_null(g);
		assert_true(pd_feature_key(g) == pd_feature_key(f));
		cJSON_Delete(j);
		pd_feature_free(g);
		pd_feature_free(f);
		pd_buf_release(&b);
	}
}

static void bad_predicates(void **state)
{
	const char *bad[] = { "[]", "{}", "{\"kind\":\"colour\"}", "{\"kind\":\"ngram\"}",
			      "{\"kind\":\"ngram\",\"value\":\"?!\"}", "{\"kind\":\"title\",\"value\":\"shouty\"}",
			      "{\"kind\":\"weekday\",\"value\":7}", "{\"kind\":\"weekday\",\"value\":\"5\"}",
			      "{\"kind\":\"duration\",\"min_s\":600,\"max_s\":300}", "{\"kind\":\"hour\",\"min\":\"x\"}",
			      "{\"all\":[]}", "{\"all\":[{\"kind\":\"nope\"}]}", "{\"kind\":\"tag\",\"value\":3}", "not json" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		pd_err err = { 0, "" };
		pd_feature *f = pd_feature_parse(bad[i], strlen(bad[i]), &err);
		if (f)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(err.code, PD_EREC);
		assert_true(err.msg[0] != 0);
	}
}

static pd_vfeat *extract(const char *json)
{
	cJSON *j = cJSON_Parse(json);
	assert_non_null(j);
	pd_video v;
	pd_err err;
	if (pd_video_from_json(j, &v, &err) < 0)
		fail_msg("%s", err.msg);
	pd_vfeat *vf = pd_vfeat_new();
	pd_vfeat_extract(vf, &v, 0);
	pd_video_release(&v);
	cJSON_Delete(j);	/* the pd_vfeat keeps copies */
	return vf;
}

static const char *video1 =
	"{\"type\":\"video\",\"id\":\"a\",\"channel_id\":\"c\",\"title\":\"10 Ways How to WIN at Chess "
	"in 2024? | You Won't Believe (Part 2) [HD] vs AI \xf0\x9f\x94\xa5\",\"description\":\"See "
	"https://x.y #chess\",\"tags\":[\"Chess\",\"Strategy\",\"chess\"],\"category\":\"Gaming\","
	"\"published_at\":\"2024-03-08T19:30:00Z\",\"duration_s\":480,\"perf\":2.5}";

static void kinds_against_a_video(void **state)
{
	pd_vfeat *vf = extract(video1);
	const char *yes[] = {
		"{\"kind\":\"ngram\",\"value\":\"how to win\"}", "{\"kind\":\"ngram\",\"value\":\"chess\"}",
		"{\"kind\":\"title\",\"value\":\"question\"}", "{\"kind\":\"title\",\"value\":\"number\"}",
		"{\"kind\":\"title\",\"value\":\"listicle\"}", "{\"kind\":\"title\",\"value\":\"year\"}",
		"{\"kind\":\"title\",\"value\":\"caps\"}", "{\"kind\":\"title\",\"value\":\"brackets\"}",
		"{\"kind\":\"title\",\"value\":\"parens\"}", "{\"kind\":\"title\",\"value\":\"separator\"}",
		"{\"kind\":\"title\",\"value\":\"emoji\"}", "{\"kind\":\"title\",\"value\":\"second_person\"}",
		"{\"kind\":\"title\",\"value\":\"how_to\"}", "{\"kind\":\"title\",\"value\":\"vs\"}",
		"{\"kind\":\"title_len\",\"min\":60,\"max\":80}", "{\"kind\":\"title_words\",\"min\":12}",
		"{\"kind\":\"format\",\"value\":\"tutorial\"}",
		"{\"kind\":\"duration\",\"min_s\":300,\"max_s\":600}",
		"{\"kind\":\"weekday\",\"value\":4}", "{\"kind\":\"hour\",\"min\":18,\"max\":24}",
		"{\"kind\":\"tag\",\"value\":\"chess\"}", "{\"kind\":\"tag\",\"value\":\"STRATEGY\"}",
		"{\"kind\":\"tag_count\",\"min\":1,\"max\":5}", "{\"kind\":\"category\",\"value\":\"Gaming\"}",
		"{\"kind\":\"desc_len\",\"min\":0,\"max\":100}", "{\"kind\":\"desc_links\"}",
		"{\"kind\":\"desc_hashtags\"}",
		"{\"all\":[{\"kind\":\"format\",\"value\":\"tutorial\"},{\"kind\":\"duration\",\"min_s\":300,\"max_s\":600}]}",
	};
	const char *no[] = {
		"{\"kind\":\"ngram\",\"value\":\"win chess\"}", "{\"kind\":\"title\",\"value\":\"exclamation\"}",
		"{\"kind\":\"title\",\"value\":\"first_person\"}", "{\"kind\":\"short\"}",
		"{\"kind\":\"weekday\",\"value\":5}", "{\"kind\":\"hour\",\"min\":12,\"max\":18}",
		"{\"kind\":\"tag\",\"value\":\"checkers\"}", "{\"kind\":\"category\",\"value\":\"gaming\"}",
		"{\"kind\":\"format\",\"value\":\"vlog\"}", "{\"kind\":\"duration\",\"min_s\":600,\"max_s\":1200}",
		"{\"all\":[{\"kind\":\"format\",\"value\":\"tutorial\"},{\"kind\":\"short\"}]}",
	};
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		pd_feature *f = P(yes[i]);
		if (!pd_feature_has(f, vf))
			fail_msg("video should have %s", yes[i]);
		pd_feature_free(f);
	}
	for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
		pd_feature *f = P(no[i]);
		if (pd_feature_has(f, vf))
			fail_msg("video should not have %s", no[i]);
		pd_feature_free(f);
	}
	/* a draft title knows nothing else */
	pd_vfeat_set_title(vf, "How to bake bread");
	pd_feature *f = P("{\"kind\":\"ngram\",\"value\":\"bake bread\"}");
	assert_true(pd_feature_has(f, vf));
	pd_feature_free(f);
	f = P("{\"kind\":\"tag_count\",\"min\":0,\"max\":1}");
	assert_false(pd_feature_has(f, vf));
	pd_feature_free(f);
	f = P("{\"kind\":\"duration\",\"min_s\":0,\"max_s\":60}");
	assert_false(pd_feature_has(f, vf));
	pd_feature_free(f);
	pd_vfeat_free(vf);
}

static void atoms_hold_for_their_video(void **state)
{
	const char *videos[] = {
		video1,
		"{\"type\":\"video\",\"id\":\"b\",\"title\":\"my morning vlog!\",\"duration_s\":45,"
		"\"published_at\":\"2024-03-10T03:00:00Z\",\"tags\":[]}",
		"{\"type\":\"video\",\"id\":\"c\",\"title\":\"Привет МИР: обзор\",\"format\":\"Review\"}",
		"{\"type\":\"video\",\"id\":\"d\"}",
	};
	for (size_t i = 0; i < sizeof videos / sizeof *videos; i++) {
		pd_vfeat *vf = extract(videos[i]);
		const uint64_t *keys;
		const char *texts;
		const size_t *offs;
		int n = pd_vfeat_atoms(vf, 3, &keys, &texts, &offs);
		assert_true(i == 3 ? n == 0 : n > 5);
		for (int k = 0; k < n; k++) {
			const char *t = texts + offs[k];
			pd_feature *f = P(t);
			pd_buf b = PD_BUF_INIT;
			pd_feature_canonical(f, &b);
			assert_string_equal(b.p, t);
			assert_true(keys[k] == pd_hash64(t, strlen(t)));
			if (!pd_feature_has(f, vf))
				fail_msg("atom %s is not true of video %zu", t, i);
			for (int j = 0; j < k; j++)
				assert_true(keys[j] != keys[k]);
			pd_buf_release(&b);
			pd_feature_free(f);
		}
		pd_vfeat_free(vf);
	}
}

/*
 * Extracting only what a predicate needs (pd-match does, for the features its
 * patterns hold) gives the same answer as extracting everything, for every
 * candidate feature of these videos and for every title flag and format.
 */
static void partial_extraction_agrees(void **state)
{
	const char *videos[] = {
		video1,
		"{\"type\":\"video\",\"id\":\"b\",\"title\":\"my morning vlog!\",\"duration_s\":45,"
		"\"published_at\":\"2024-03-10T03:00:00Z\",\"tags\":[]}",
		"{\"type\":\"video\",\"id\":\"c\",\"title\":\"Привет МИР: обзор\",\"format\":\"Review\"}",
		"{\"type\":\"video\",\"id\":\"d\",\"title\":\"Top 7 tricks 1999 - I vs you\"}",
		"{\"type\":\"video\",\"id\":\"e\",\"title\":\"12 easy breads\",\"description\":\"x\"}",
		"{\"type\":\"video\",\"id\":\"f\"}",
	};
	enum { NV = sizeof videos / sizeof *videos };
	pd_buf pool = PD_BUF_INIT;	/* predicates as NUL-separated texts */
	for (int i = 0; i < PD_TF_COUNT; i++) {
		pd_buf_printf(&pool, "{\"kind\":\"title\",\"value\":\"%s\"}", pd_title_flag_names[i]);
		pd_buf_addc(&pool, '\0');
	}
	for (int i = 0; i < PD_NFORMATS; i++) {
		pd_buf_printf(&pool, "{\"kind\":\"format\",\"value\":\"%s\"}", pd_format_names[i]);
		pd_buf_addc(&pool, '\0');
	}
	pd_buf_adds(&pool, "{\"all\":[{\"kind\":\"format\",\"value\":\"listicle\"},"
		    "{\"kind\":\"hour\",\"min\":0,\"max\":6}]}");
	pd_buf_addc(&pool, '\0');
	for (int i = 0; i < NV; i++) {
		pd_vfeat *vf = extract(videos[i]);
		const uint64_t *keys;
		const char *texts;
		const size_t *offs;
		int n = pd_vfeat_atoms(vf, 3, &keys, &texts, &offs);
		for (int k = 0; k < n; k++) {
			pd_buf_adds(&pool, texts + offs[k]);
			pd_buf_addc(&pool, '\0');
		}
		pd_vfeat_free(vf);
	}
	pd_vfeat *part = pd_vfeat_new();
	int checked = 0, trues = 0;
	for (int i = 0; i < NV; i++) {
		pd_vfeat *full = extract(videos[i]);
		cJSON *j = cJSON_Parse(videos[i]);
		pd_video v;
		pd_err err;
		assert_int_equal(pd_video_from_json(j, &v, &err), 0);
		for (size_t off = 0; off < pool.len; off += strlen(pool.p + off) + 1) {
			pd_feature *f = P(pool.p + off);
			pd_vfeat_extract_some(part, &v, 0, pd_feature_needs(f));
			int want = pd_feature_has(f, full), got = pd_feature_has(f, part);
			if (want != got)
				fail_msg("%s on video %d: %d extracting all, %d extracting what it needs",
					 pool.p + off, i, want, got);
			checked++;
			trues += want;
			pd_feature_free(f);
		}
		pd_video_release(&v);
		cJSON_Delete(j);
		pd_vfeat_free(full);
	}
	assert_true(checked > 300 && trues > 50);
	pd_vfeat_free(part);
	pd_buf_release(&pool);
}

static void formats_and_words(void **state)
{
	assert_string_equal(pd_format_classify("How to tie a tie"), "tutorial");
	assert_string_equal(pd_format_classify("Top 10 goals of 2023"), "listicle");
	assert_string_equal(pd_format_classify("iPhone 15 review"), "product_focus");
	assert_string_equal(pd_format_classify("Inflation explained"), "explainer");
	assert_string_equal(pd_format_classify("LIVE: election night"), "live_stream");
	assert_string_equal(pd_format_classify("Funniest moments compilation"), "compilation");
	assert_string_equal(pd_format_classify("My week vlog"), "vlog");
	assert_string_equal(pd_format_classify("Breaking news tonight"), "news_analysis");
	assert_string_equal(pd_format_classify("Patch 2.1 update"), "update");
	assert_string_equal(pd_format_classify("Storytime: I got lost"), "personal_story");
	assert_string_equal(pd_format_classify("Case study: a startup"), "case_study");
	assert_string_equal(pd_format_classify("cat #shorts"), "shorts");
	assert_null(pd_format_classify("Lovely evening"));
	int seen = 0;
	for (int i = 0; i < PD_NFORMATS; i++)
		seen += pd_format_names[i] != NULL;
	assert_int_equal(seen, 12);

	pd_feature *f = P("{\"all\":[{\"kind\":\"ngram\",\"value\":\"how to\"},{\"kind\":\"duration\",\"min_s\":300,\"max_s\":600}]}");
	assert_string_equal(pd_feature_pattern_type(f), "combination");
	pd_buf b = PD_BUF_INIT;
	pd_feature_describe(f, &b);
	assert_string_equal(b.p, "titles containing \"how to\" and videos of 5 min to 10 min");
	pd_feature_free(f);
	f = P("{\"kind\":\"hour\",\"min\":18,\"max\":24}");
	assert_string_equal(pd_feature_pattern_type(f), "timing");
	pd_buf_reset(&b);
	pd_feature_name(f, &b);
	assert_string_equal(b.p, "Videos published between 18:00 and 24:00");
	pd_feature_free(f);
	f = P("{\"kind\":\"tag_count\",\"min\":0,\"max\":1}");
	pd_buf_reset(&b);
	pd_feature_name(f, &b);
	assert_string_equal(b.p, "Videos without tags");
	pd_feature_free(f);
	f = P("{\"kind\":\"tag_count\",\"min\":5,\"max\":10}");
	pd_buf_reset(&b);
	pd_feature_name(f, &b);
	assert_string_equal(b.p, "Videos with 5-9 tags");
	pd_feature_free(f);
	pd_feature *a = P("{\"kind\":\"short\"}"), *c = P("{\"kind\":\"tag\",\"value\":\"x\"}");
	pd_feature *ac = pd_feature_all(a, c), *acc = pd_feature_all(ac, c);
	pd_buf_reset(&b);
	pd_feature_canonical(acc, &b);
	assert_string_equal(b.p, "{\"all\":[{\"kind\":\"short\"},{\"kind\":\"tag\",\"value\":\"x\"},"
				 "{\"kind\":\"tag\",\"value\":\"x\"}]}");
	pd_feature_free(a);
	pd_feature_free(c);
	pd_feature_free(ac);
	pd_feature_free(acc);
	pd_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(canonical_round_trip),
		cmocka_unit_test(bad_predicates),
		cmocka_unit_test(kinds_against_a_video),
		cmocka_unit_test(atoms_hold_for_their_video),
		cmocka_unit_test(partial_extraction_agrees),
		cmocka_unit_test(formats_and_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
