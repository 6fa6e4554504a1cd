/*
 * test_synth.c — unit tests of lib/synth.c, the synthetic video generator:
 * the same options give the same bytes (and another seed other bytes), a
 * video does not depend on which videos were generated before it, the topic
 * hierarchy has the planned sizes, the distributions are those documented
 * (age quantiles, Shorts share, channels with a baseline, ids), impossible
 * options are refused, and — the contract with pd-mine — the toolkit's own
 * feature predicates (lib/features.h) hold for exactly the videos the truth
 * says carry each planted feature.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "../../lib/pd.h"
#include "../../lib/synth.h"
#include "../../lib/features.h"
#include "../../lib/video.h"

static pd_synth *make(long n, uint64_t seed)
{
	pd_synth_opts o;
	pd_synth_opts_init(&o);
	o.videos = n;
	o.seed = seed;
	pd_err err;
	pd_synth *s = pd_synth_new(&o, &err);
	assert_non_null(s);
	return s;
}

/* all: the whole CSV output and the truth of a set, into out */
static void all(pd_synth *s, pd_buf *out)
{
	pd_synth_counts c;
	pd_synth_counts_get(s, &c);
	pd_synth_truth_head(s, out);
	pd_synth_csv_header(out);
	pd_synth_video v;
	pd_synth_video_init(&v);
	for (size_t i = 0; i < c.videos; i++) {
		pd_synth_generate(s, i, &v);
		pd_synth_csv_row(&v, out);
		pd_synth_ndjson(&v, out);
		pd_synth_truth_video(s, &v, out);
	}
	pd_synth_video_release(&v);
}

static void deterministic(void **state)
{
	pd_buf a = PD_BUF_INIT, b = PD_BUF_INIT, c = PD_BUF_INIT;
	pd_synth *s1 = make(3000, 42), *s2 = make(3000, 42), *s3 = make(3000, 43);
	all(s1, &a);
	all(s2, &b);
	all(s3, &c);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.p, b.p, a.len);
	assert_true(a.len != c.len || memcmp(a.p, c.p, a.len) != 0);
	pd_synth_free(s1);
	pd_synth_free(s2);
	pd_synth_free(s3);
	pd_buf_release(&a);
	pd_buf_release(&b);
	pd_buf_release(&c);
}

static void random_access(void **state)
{
	pd_synth *s = make(2000, 9);
	pd_synth_video v, w;
	pd_synth_video_init(&v);
	pd_synth_video_init(&w);
	pd_buf x = PD_BUF_INIT, y = PD_BUF_INIT;
	pd_synth_generate(s, 1234, &v);
	pd_synth_ndjson(&v, &x);
	for (size_t i = 0; i < 2000; i += 7)
		pd_synth_generate(s, i, &w);
	pd_synth_generate(s, 1234, &w);
	pd_synth_ndjson(&w, &y);
	assert_string_equal(x.p, y.p);
	pd_synth_video_release(&v);
	pd_synth_video_release(&w);
	pd_buf_release(&x);
	pd_buf_release(&y);
	pd_synth_free(s);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void sizes_and_distributions(void **state)
{
	const long N = 20000;
	pd_synth *s = make(N, 3);
	pd_synth_counts c;
	pd_synth_counts_get(s, &c);
	assert_int_equal(c.videos, N);
	assert_int_equal(c.macro, 4);			/* N / 5000 */
	assert_int_equal(c.meso, 40);			/* N / 500 */
	assert_in_range(c.micro, 360, 440);		/* about N / 50 */
	assert_int_equal(c.effects, c.meso - c.null_meso);
	assert_int_equal(c.null_meso, 16);		/* 0.4 of the meso topics */
	assert_true(c.baseline_share > 0.70 && c.baseline_share < 0.95);

	/* topic sizes from the truth: micro 20..100, every level sums to N */
	pd_buf head = PD_BUF_INIT;
	pd_synth_truth_head(s, &head);
	long sum[3] = { 0, 0, 0 };
	int neff = 0;
	for (char *line = head.p, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		cJSON *j = cJSON_ParseWithLength(line, nl ? (size_t)(nl - line) : strlen(line));
		assert_non_null(j);
		const char *type = cJSON_GetObjectItem(j, "type")->valuestring;
		if (!strcmp(type, "truth_topic")) {
			const char *lv = cJSON_GetObjectItem(j, "level")->valuestring;
			long size = (long)cJSON_GetObjectItem(j, "size")->valuedouble;
			int l = !strcmp(lv, "macro") ? 0 : !strcmp(lv, "meso") ? 1 : 2;
			sum[l] += size;
			if (l == 2)
				assert_in_range(size, 20, 100);
			if (l == 1)
				assert_in_range(size, 100, 1500);
		} else if (!strcmp(type, "truth_effect")) {
			neff++;
			double m = cJSON_GetObjectItem(j, "multiplier")->valuedouble;
			double n = cJSON_GetObjectItem(j, "n")->valuedouble;
			double nw = cJSON_GetObjectItem(j, "n_with")->valuedouble;
			assert_true(m >= 1.5 && m <= 4.0);
			assert_true(nw >= 40 && nw <= n * 0.6);
		}
		cJSON_Delete(j);
	}
	assert_int_equal(neff, c.effects);
	for (int l = 0; l < 3; l++)
		assert_int_equal(sum[l], N);
	pd_buf_release(&head);

	double *age = malloc((size_t)N * sizeof *age), *tl = malloc((size_t)N * sizeof *tl);
	long shorts = 0, zero = 0, nonascii = 0, emoji = 0;
	double prev = 0;
	pd_synth_video v;
	pd_synth_video_init(&v);
	for (long i = 0; i < N; i++) {
		pd_synth_generate(s, (size_t)i, &v);
		assert_true(v.published >= prev);	/* publish order */
		prev = v.published;
		age[i] = (v.observed - v.published) / 86400.0;
		tl[i] = (double)v.title.len;
		shorts += v.duration_s > 0 && v.duration_s <= 60;
		zero += v.duration_s == 0;
		assert_int_equal(strlen(v.id), 11);
		assert_int_equal(strlen(v.channel_id), 24);
		assert_true(v.views >= 0 && v.likes <= v.views);
		int na = 0;
		for (size_t k = 0; k < v.title.len; k++)
			na |= (unsigned char)v.title.p[k] >= 0x80;
		nonascii += na;
		emoji += strstr(v.title.p, "\xf0\x9f") != NULL;
		/* ln(views) is the sum of the parts the truth file gives */
		double lv = v.log_base + v.log_age + v.log_effect + v.log_noise;
		if (v.views > 100)
			assert_true(fabs(log(v.views) - lv) < 0.01);
	}
	pd_synth_video_release(&v);
	qsort(age, (size_t)N, sizeof *age, cmp_d);
	qsort(tl, (size_t)N, sizeof *tl, cmp_d);
	assert_true(age[N / 2] > 2.3 && age[N / 2] < 2.9);
	assert_true(age[N / 10] > 0.33 && age[N / 10] < 0.48);
	assert_true(age[N * 9 / 10] > 9.5 && age[N * 9 / 10] < 12.5);
	assert_true(tl[N / 2] > 35 && tl[N / 2] < 75);
	assert_true(shorts > N * 0.02 && shorts < N * 0.09);
	assert_true(zero > 0 && zero < N * 0.005);
	assert_true(nonascii > N * 0.03 && nonascii < N * 0.25);
	assert_true(emoji > N * 0.05 && emoji < N * 0.15);
	free(age);
	free(tl);
	pd_synth_free(s);
}

static void ids_unique(void **state)
{
	const long N = 50000;
	pd_synth *s = make(N, 77);
	pd_synth_video v;
	pd_synth_video_init(&v);
	char (*ids)[12] = malloc((size_t)N * sizeof *ids);
	for (long i = 0; i < N; i++) {
		pd_synth_generate(s, (size_t)i, &v);
		memcpy(ids[i], v.id, 12);
	}
	qsort(ids, (size_t)N, sizeof *ids, (int (*)(const void *, const void *))strcmp);
	for (long i = 1; i < N; i++)
		assert_true(strcmp(ids[i - 1], ids[i]) != 0);
	free(ids);
	pd_synth_video_release(&v);
	pd_synth_free(s);
}

static void refused(void **state)
{
	pd_synth_opts o;
	pd_err err;
	pd_synth_opts_init(&o);
	o.videos = 50;
	assert_null(pd_synth_new(&o, &err));
	assert_int_equal(err.code, PD_EUSAGE);
	pd_synth_opts_init(&o);
	o.videos = 1000;
	o.effects = 100;
	assert_null(pd_synth_new(&o, &err));
	assert_int_equal(err.code, PD_EUSAGE);
	assert_non_null(strstr(err.msg, "effects"));
	pd_synth_opts_init(&o);
	o.videos = 5000;
	o.null_share = 1.0;
	pd_synth *s = pd_synth_new(&o, &err);
	assert_non_null(s);
	pd_synth_counts c;
	pd_synth_counts_get(s, &c);
	assert_int_equal(c.effects, 0);
	assert_int_equal(c.null_meso, c.meso);
	pd_synth_free(s);
}

/* the planted truth agrees with lib/features.h, the predicates pd-mine uses */
static void features_agree(void **state)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		pd_synth *s = make(8000, seed);
		pd_buf head = PD_BUF_INIT;
		pd_synth_truth_head(s, &head);
		pd_feature *feat[64];
		char topic[64][48];
		int level[64], ne = 0;
		for (char *line = head.p, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			cJSON *j = cJSON_ParseWithLength(line, nl ? (size_t)(nl - line) : strlen(line));
			if (!strcmp(cJSON_GetObjectItem(j, "type")->valuestring, "truth_effect") && ne < 64) {
				pd_err err;
				feat[ne] = pd_feature_from_json(cJSON_GetObjectItem(j, "feature"), &err);
				assert_non_null(feat[ne]);
				snprintf(topic[ne], sizeof topic[ne], "%s", cJSON_GetObjectItem(j, "topic")->valuestring);
				level[ne] = !strcmp(cJSON_GetObjectItem(j, "level")->valuestring, "meso") ? 1 : 2;
				ne++;
			}
			cJSON_Delete(j);
		}
		assert_true(ne > 0);
		pd_synth_counts c;
		pd_synth_counts_get(s, &c);
		pd_synth_video v;
		pd_synth_video_init(&v);
		pd_vfeat *vf = pd_vfeat_new();
		pd_buf js = PD_BUF_INIT;
		long checked = 0;
		for (size_t i = 0; i < c.videos; i++) {
			pd_synth_generate(s, i, &v);
			pd_buf_reset(&js);
			pd_synth_ndjson(&v, &js);
			cJSON *j = cJSON_ParseWithLength(js.p, js.len);
			assert_non_null(j);
			pd_video pv;
			pd_err err;
			assert_int_equal(pd_video_from_json(j, &pv, &err), 0);
			pd_vfeat_extract(vf, &pv, 0);
			for (int e = 0; e < ne; e++) {
				const char *tid = pd_synth_topic_id(s, level[e], level[e] == 1 ? v.meso : v.micro);
				if (strcmp(tid, topic[e]))
					continue;
				int marked = 0;
				for (int k = 0; k < v.neff; k++)
					marked |= v.eff[k] == e;
				int has = pd_feature_has(feat[e], vf);
				if (has != marked) {
					pd_buf d = PD_BUF_INIT;
					pd_feature_canonical(feat[e], &d);
					print_error("seed %llu effect %d %s: video %s \"%s\" dur %d has %d, truth %d\n",
						    (unsigned long long)seed, e + 1, d.p, v.id, v.title.p,
						    v.duration_s, has, marked);
					pd_buf_release(&d);
				}
				assert_int_equal(has, marked);
				checked++;
			}
			pd_video_release(&pv);
			cJSON_Delete(j);
		}
		assert_true(checked > 1000);
		for (int e = 0; e < ne; e++)
			pd_feature_free(feat[e]);
		pd_vfeat_free(vf);
		pd_buf_release(&js);
		pd_buf_release(&head);
		pd_synth_video_release(&v);
		pd_synth_free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deterministic),
		cmocka_unit_test(random_access),
		cmocka_unit_test(sizes_and_distributions),
		cmocka_unit_test(ids_unique),
		cmocka_unit_test(refused),
		cmocka_unit_test(features_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
