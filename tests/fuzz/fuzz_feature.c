/*
 * fuzz_feature.c — libFuzzer target: feature predicates (lib/features.h).
 * The input is a predicate's JSON text.  Whatever pd_feature_parse accepts
 * must print a canonical text that parses to the same canonical text and
 * key, convert to and from a cJSON tree alike, answer pd_feature_has the
 * same for the copy and for the conjunction with itself, answer the same on
 * a video extracted only with what it needs, and describe and name itself.
 * The input is also a draft title: its features extracted and listed.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/features.h"
#include "../../lib/video.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const videos[] = {
	("{\"type\":\"video\",\"id\":\"v1\",\"channel_id\":\"c1\",\"title\":\"How to make sourdough "
	"at home? 5 TIPS (2024) | My bread vs yours!\",\"description\":\"Recipe: "
	"https://example.com #baking #bread\",\"tags\":[\"Bread\",\"sourdough\",\"baking\"],"
	"\"category\":\"Howto & Style\",\"duration_s\":540,\"published_at\":\"2026-03-04T18:30:00Z\"}"),
	("{\"type\":\"video\",\"id\":\"v2\",\"title\":\"\\u0645\\u0631\\u062d\\u0628\\u0627 \\ud83d\\ude00 "
	"TOP 10\",\"duration_s\":45,\"published_at\":\"2025-12-28T02:00:00+05:30\",\"format\":\"listicle\"}"),
	("{\"type\":\"video\",\"id\":\"v3\",\"title\":\"\"}"),
};
enum { NV = sizeof videos / sizeof *videos };
static pd_vfeat *vf[NV], *draft, *some;
static pd_video vids[NV];
static cJSON *trees[NV];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pd_err err;
	for (int i = 0; i < NV; i++) {
		trees[i] = cJSON_Parse(videos[i]);
		if (!trees[i] || pd_video_from_json(trees[i], &vids[i], &err) != 0)
			abort();
		vf[i] = pd_vfeat_new();
		pd_vfeat_extract(vf[i], &vids[i], 0);
	}
	draft = pd_vfeat_new();
	some = pd_vfeat_new();
	return 0;
}

static void canon(const pd_feature *f, pd_buf *b)
{
	pd_buf_reset(b);
	pd_feature_canonical(f, b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pd_err err;
	char *s = xmemdup(data, size);
	/* the input as a draft title */
	pd_vfeat_set_title(draft, s);
	const uint64_t *keys;
	const char *texts;
	const size_t *offs;
	pd_video dv = { .id = "d", .title = s, .published_at = NAN, .observed_at = NAN,
			 .duration_s = NAN, .views = NAN, .likes = NAN, .comments = NAN,
			 .age_days = NAN, .perf = NAN };
	pd_vfeat_extract(draft, &dv, 0);
	int na = pd_vfeat_atoms(draft, 3, &keys, &texts, &offs);
	for (int i = 0; i < na && i < 50; i++) {	/* every atom is a predicate */
		pd_feature *a = pd_feature_parse(texts + offs[i], strlen(texts + offs[i]), &err);
		if (!a || pd_feature_key(a) != keys[i] || !pd_feature_has(a, draft))
			abort();
		pd_feature_free(a);
	}

	pd_feature *f = pd_feature_parse(s, size, &err);
	if (f) {
		pd_buf c1 = PD_BUF_INIT, c2 = PD_BUF_INIT;
		canon(f, &c1);
		pd_feature *g = pd_feature_parse(c1.p, c1.len, &err);
		if (!g)
			abort();	/* a canonical text must parse */
		canon(g, &c2);
		if (c1.len != c2.len || memcmp(c1.p, c2.p, c1.len) || pd_feature_key(f) != pd_feature_key(g))
			abort();
		cJSON *j = pd_feature_to_json(f);
		pd_feature *h = pd_feature_from_json(j, &err);
		if (!h)
			abort();
		canon(h, &c2);
		if (c1.len != c2.len || memcmp(c1.p, c2.p, c1.len))
			abort();
		if (pd_feature_is_topic(f) != pd_feature_text_is_topic(c1.p))
			abort();
		pd_feature *all = pd_feature_all(f, g);
		unsigned need = pd_feature_needs(f);
		for (int i = 0; i < NV; i++) {
			int has = pd_feature_has(f, vf[i]);
			if (has != pd_feature_has(g, vf[i]) || has != pd_feature_has(all, vf[i]))
				abort();
			pd_vfeat_extract_some(some, &vids[i], 0, need);
			if (has != pd_feature_has(f, some))
				abort();
		}
		pd_feature_has(f, draft);
		pd_buf words = PD_BUF_INIT;
		pd_feature_describe(f, &words);
		pd_feature_name(all, &words);
		if (!pd_feature_pattern_type(f))
			abort();
		pd_buf_release(&words);
		cJSON_Delete(j);
		pd_feature_free(all);
		pd_feature_free(h);
		pd_feature_free(g);
		pd_feature_free(f);
		pd_buf_release(&c1);
		pd_buf_release(&c2);
	}
	free(s);
	return 0;
}
