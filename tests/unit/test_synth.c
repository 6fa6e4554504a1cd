/*
 * test_synth.c — unit tests of lib/synth.c, the synthetic video generator:
 * the same options give the same bytes (and another seed other bytes), a
 * video does not depend on which videos were generated before it, the topic
 * hierarchy has the planned sizes, the distributions are those documented
 * (age quantiles, Shorts share, channels with a baseline, ids), impossible
 * options are refused, and — the contract with pd-mine — the toolkit's own
 * feature predicates (lib/features.h) hold for exactly the videos the truth
 * says carry each planted feature.  The realistic options: they leave the
 * plan of a seed as it was, the decoy features of null topics and every
 * proxy the truth lists recount exactly with lib/features.h, truth features
 * are canonical, trends and null topics put their effects only where the
 * truth says, and a phrase's format keywords really give its format.
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

static pd_synth *make_real(long n, uint64_t seed)
{
	pd_synth_opts o;
	pd_synth_opts_init(&o);
	pd_synth_opts_realistic(&o);
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

/* the planted truth agrees with lib/features.h, the predicates pd-mine uses
 * (seeds 5 and 6 with the realistic options) */
static void features_agree(void **state)
{
	for (uint64_t seed = 1; seed <= 6; seed++) {
		pd_synth *s = seed <= 4 ? make(8000, seed) : make_real(8000, seed);
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

/* ---- realistic options ---- */

/* truth_of: the truth head's lines of a type, parsed (caller deletes each) */
static int truth_of(const pd_synth *s, const char *type, cJSON **out, int max)
{
	pd_buf head = PD_BUF_INIT;
	pd_synth_truth_head(s, &head);
	int n = 0;
	for (char *line = head.p, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		cJSON *j = cJSON_ParseWithLength(line, nl ? (size_t)(nl - line) : strlen(line));
		assert_non_null(j);
		if (!strcmp(cJSON_GetObjectItem(j, "type")->valuestring, type) && n < max)
			out[n++] = j;
		else
			cJSON_Delete(j);
	}
	pd_buf_release(&head);
	return n;
}

static const char *str(const cJSON *j, const char *k) { return cJSON_GetObjectItem(j, k)->valuestring; }
static double num(const cJSON *j, const char *k) { return cJSON_GetObjectItem(j, k)->valuedouble; }
static int level_of(const char *name) { return !strcmp(name, "macro") ? 0 : !strcmp(name, "meso") ? 1 : 2; }

/* the realistic options leave the plan of a seed as it was, and are deterministic */
static void realistic_same_plan(void **state)
{
	for (uint64_t seed = 1; seed <= 3; seed++) {
		pd_synth *d = make(8000, seed), *r = make_real(8000, seed), *r2 = make_real(8000, seed);
		pd_buf a = PD_BUF_INIT, b = PD_BUF_INIT, c = PD_BUF_INIT;
		pd_synth_truth_head(d, &a);
		pd_synth_truth_head(r, &b);
		/* every default truth_effect line, less its closing brace, starts a realistic one */
		int checked = 0;
		for (char *line = a.p, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (strncmp(line, "{\"type\":\"truth_effect\"", 22) != 0)
				continue;
			size_t n = (size_t)(nl - line) - 1;
			char *want = strndup(line, n);
			char *at = strstr(b.p, want);
			assert_non_null(at);
			assert_true(at[n] == ',');
			free(want);
			checked++;
		}
		pd_synth_counts cd, cr;
		pd_synth_counts_get(d, &cd);
		pd_synth_counts_get(r, &cr);
		assert_int_equal(checked, cd.effects);
		assert_int_equal(cd.effects, cr.effects);
		assert_int_equal(cd.channels, cr.channels);
		assert_int_equal(cd.micro, cr.micro);
		assert_true(cr.null_topics > 0 && cr.nulls >= cr.null_topics && cr.trends > 0);
		assert_non_null(strstr(b.p, "{\"type\":\"truth_proxy\""));
		pd_buf_reset(&b);
		all(r, &b);
		all(r2, &c);
		assert_int_equal(b.len, c.len);
		assert_memory_equal(b.p, c.p, b.len);
		pd_buf_release(&a);
		pd_buf_release(&b);
		pd_buf_release(&c);
		pd_synth_free(d);
		pd_synth_free(r);
		pd_synth_free(r2);
	}
}

/* every feature of the truth is in the canonical form of lib/features.h */
static void realistic_canonical(void **state)
{
	pd_synth *s = make_real(8000, 5);
	static const char *const types[] = { "truth_effect", "truth_null", "truth_proxy" };
	for (int t = 0; t < 3; t++) {
		cJSON *j[512];
		int n = truth_of(s, types[t], j, 512);
		assert_true(n > 0);
		for (int k = 0; k < n; k++) {
			char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(j[k], "feature"));
			pd_err err;
			pd_feature *f = pd_feature_parse(text, strlen(text), &err);
			assert_non_null(f);
			pd_buf c = PD_BUF_INIT;
			pd_feature_canonical(f, &c);
			assert_string_equal(c.p, text);
			pd_buf_release(&c);
			pd_feature_free(f);
			free(text);
			cJSON_Delete(j[k]);
		}
	}
	pd_synth_free(s);
}

/*
 * On realistic sets, with lib/features.h: the decoy features of null topics
 * hold for exactly the videos marked, and every proxy the truth lists has
 * exactly its counts; trend effects act only inside their windows, nothing
 * acts in null topics, and ln(views) is the sum of the parts.
 */
static void realistic_recount(void **state)
{
	for (uint64_t seed = 1; seed <= 3; seed++) {
		pd_synth *s = make_real(8000, seed);
		cJSON *eff[64], *nul[256], *px[512];
		int ne = truth_of(s, "truth_effect", eff, 64);
		int nn = truth_of(s, "truth_null", nul, 256);
		int np = truth_of(s, "truth_proxy", px, 512);
		assert_true(ne > 0 && nn > 0 && np > 0);
		pd_feature *nf[256], *pf[512];
		size_t pc[512][3];	/* recount: n, n_with, n_both */
		pd_feature *ef[64];
		double w0[64], w1[64];
		pd_err err;
		for (int k = 0; k < nn; k++)
			assert_non_null(nf[k] = pd_feature_from_json(cJSON_GetObjectItem(nul[k], "feature"), &err));
		for (int k = 0; k < np; k++) {
			assert_non_null(pf[k] = pd_feature_from_json(cJSON_GetObjectItem(px[k], "feature"), &err));
			pc[k][0] = pc[k][1] = pc[k][2] = 0;
		}
		for (int k = 0; k < ne; k++) {
			assert_non_null(ef[k] = pd_feature_from_json(cJSON_GetObjectItem(eff[k], "feature"), &err));
			w0[k] = w1[k] = 0;
			if (!strcmp(str(eff[k], "kind"), "trend")) {
				cJSON *w = cJSON_GetObjectItem(eff[k], "window");
				assert_int_equal(pd_time_parse(str(w, "start"), &w0[k]), 0);
				assert_int_equal(pd_time_parse(str(w, "end"), &w1[k]), 0);
			}
		}
		pd_synth_counts c;
		pd_synth_counts_get(s, &c);
		pd_synth_video v;
		pd_synth_video_init(&v);
		pd_vfeat *vf = pd_vfeat_new();
		pd_buf js = PD_BUF_INIT;
		long nul_checked = 0;
		for (size_t i = 0; i < c.videos; i++) {
			pd_synth_generate(s, i, &v);
			pd_buf_reset(&js);
			pd_synth_ndjson(&v, &js);
			cJSON *j = cJSON_ParseWithLength(js.p, js.len);
			pd_video pv;
			assert_int_equal(pd_video_from_json(j, &pv, &err), 0);
			pd_vfeat_extract(vf, &pv, 0);
			const char *tid[3] = { pd_synth_topic_id(s, 0, v.macro), pd_synth_topic_id(s, 1, v.meso),
					       pd_synth_topic_id(s, 2, v.micro) };
			for (int k = 0; k < nn; k++) {
				if (strcmp(tid[level_of(str(nul[k], "level"))], str(nul[k], "topic")))
					continue;
				int marked = 0;
				for (int q = 0; q < v.nnull; q++)
					marked |= v.nul[q] == c.effects + k;
				assert_int_equal(pd_feature_has(nf[k], vf), marked);
				assert_true(v.log_effect == 0);
				nul_checked++;
			}
			for (int k = 0; k < np; k++) {
				if (strcmp(tid[level_of(str(px[k], "level"))], str(px[k], "topic")))
					continue;
				/* the planted feature: the effect's, counted at the proxy's level */
				int e = atoi(str(px[k], "effect") + 1) - 1;
				pc[k][0]++;
				if (pd_feature_has(pf[k], vf)) {
					pc[k][1]++;
					pc[k][2] += pd_feature_has(ef[e], vf) &&
						!strcmp(tid[level_of(str(eff[e], "level"))], str(eff[e], "topic"));
				}
			}
			double lin = 0;
			for (int q = 0; q < v.neff; q++) {
				int e = v.eff[q];
				int inside = w1[e] == 0 || (v.published >= w0[e] && v.published < w1[e]);
				if (inside)
					lin += log(num(eff[e], "multiplier"));
			}
			assert_true(fabs(v.log_effect - lin) < 1e-6);
			double lv = v.log_base + v.log_age + v.log_channel + v.log_effect + v.log_noise;
			if (v.views > 100)
				assert_true(fabs(log(v.views) - lv) < 0.01);
			pd_video_release(&pv);
			cJSON_Delete(j);
		}
		assert_true(nul_checked > 1000);
		for (int k = 0; k < np; k++) {
			if (pc[k][0] != (size_t)num(px[k], "n") || pc[k][1] != (size_t)num(px[k], "n_with") ||
			    pc[k][2] != (size_t)num(px[k], "n_both")) {
				char *t = cJSON_PrintUnformatted(px[k]);
				print_error("seed %llu: %s recounts %zu %zu %zu\n", (unsigned long long)seed, t,
					    pc[k][0], pc[k][1], pc[k][2]);
				free(t);
			}
			assert_int_equal(pc[k][0], (size_t)num(px[k], "n"));
			assert_int_equal(pc[k][1], (size_t)num(px[k], "n_with"));
			assert_int_equal(pc[k][2], (size_t)num(px[k], "n_both"));
		}
		/* with --proxies, each planted phrase has a length band among its
		 * proxies, and the format it implies (when it implies one) is a
		 * broader stand-in: held by 7% or more of the videos without it (other
		 * phrases alone give it to 2-3%) */
		for (int e = 0; e < ne; e++) {
			cJSON *f = cJSON_GetObjectItem(eff[e], "feature");
			if (strcmp(str(f, "kind"), "ngram"))
				continue;
			const char *fmt = pd_format_classify(str(f, "value"));
			int length = 0, format = 0;
			for (int k = 0; k < np; k++) {
				if (strcmp(str(px[k], "effect"), str(eff[e], "id")) || strcmp(str(px[k], "why"), "proxy"))
					continue;
				cJSON *g = cJSON_GetObjectItem(px[k], "feature");
				length |= !strcmp(str(g, "kind"), "title_words") || !strcmp(str(g, "kind"), "title_len");
				if (fmt && !strcmp(str(g, "kind"), "format") && !strcmp(str(g, "value"), fmt)) {
					double others = num(px[k], "n") - num(px[k], "n_carriers");
					format = num(px[k], "n_with") - num(px[k], "n_both") >= 0.07 * others;
				}
			}
			assert_true(length);
			assert_true(!fmt || format);
		}
		for (int k = 0; k < nn; k++) {
			pd_feature_free(nf[k]);
			cJSON_Delete(nul[k]);
		}
		for (int k = 0; k < np; k++) {
			pd_feature_free(pf[k]);
			cJSON_Delete(px[k]);
		}
		for (int k = 0; k < ne; k++) {
			pd_feature_free(ef[k]);
			cJSON_Delete(eff[k]);
		}
		pd_vfeat_free(vf);
		pd_buf_release(&js);
		pd_synth_video_release(&v);
		pd_synth_free(s);
	}
}

static void realistic_refused(void **state)
{
	pd_synth_opts o;
	pd_err err;
	pd_synth_opts_init(&o);
	o.videos = 5000;
	o.null_topics = 50;
	assert_null(pd_synth_new(&o, &err));
	assert_int_equal(err.code, PD_EUSAGE);
	assert_non_null(strstr(err.msg, "null topics"));
	pd_synth_opts_init(&o);
	o.videos = 5000;
	o.null_share = 1;
	o.null_topics = 1;
	assert_null(pd_synth_new(&o, &err));
	assert_int_equal(err.code, PD_EUSAGE);
	pd_synth_opts_init(&o);
	o.videos = 5000;
	o.trend_share = 2;
	assert_null(pd_synth_new(&o, &err));
	assert_int_equal(err.code, PD_EUSAGE);
	/* every option with nothing planted: no decoys, no trends, no proxies */
	pd_synth_opts_init(&o);
	pd_synth_opts_realistic(&o);
	o.videos = 5000;
	o.null_share = 1;
	pd_synth *s = pd_synth_new(&o, &err);
	assert_non_null(s);
	pd_synth_counts c;
	pd_synth_counts_get(s, &c);
	assert_int_equal(c.effects, 0);
	assert_int_equal(c.nulls, 0);
	assert_int_equal(c.trends, 0);
	pd_buf head = PD_BUF_INIT;
	pd_synth_truth_head(s, &head);
	assert_null(strstr(head.p, "truth_proxy"));
	pd_buf_release(&head);
	pd_synth_free(s);
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
		cmocka_unit_test(realistic_same_plan),
		cmocka_unit_test(realistic_canonical),
		cmocka_unit_test(realistic_recount),
		cmocka_unit_test(realistic_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
