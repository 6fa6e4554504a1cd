/*
 * test_pattern.c — unit tests of lib/pattern's reader and writer: a pd-mine
 * record and a pd-validate record (their shapes as the commands write them
 * on the shared data, with the video ids, titles and channel made up) read
 * and written back to the same bytes; an old record read through the
 * compatibility rules; a record written from a struct filled by hand.
 *
 * With PD_PATTERN_RECORDS naming a file of records (e.g. pd-mine's or
 * pd-validate's output), every pattern record of it must come back
 * byte-identical too.
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
#include "../../lib/pattern.h"

/* a pd-mine record with aliases, a trend with untestable blocks */
static const char mine_rec[] =
"{\"type\":\"pattern\",\"id\":\"p89f906f54bf46507\",\"pattern_type\":\"title_ngram\",\"feature\":{\"kind\":\"ngram\",\"value\":\"die on this\"},\"aliases\":[{\"kind\":\"ngram\",\"value\":\"on this hill\"},{\"kind\":\"ngram\",\"value\":\"sienna spiro die\"},{\"kind\":\"ngram\",\"value\":\"spiro die on\"},{\"kind\":\"ngram\",\"value\":\"this hill lyrics\"},{\"kind\":\"ngram\",\"value\":\"die on\"},{\"kind\":\"ngram\",\"value\":\"hill lyrics\"},{\"kind\":\"ngram\",\"value\":\"spiro die\"},{\"kind\":\"ngram\",\"value\":\"this hill\"}],\"direction\":\"positive\",\"cluster\":\"m11\",\"level\":\"macro\",\"label\":\"lyrics, letra, español\",\"kind\":\"trend\",\"window\":{\"from\":\"2025-11-30T20:36:22Z\",\"to\":\"2026-03-23T07:00:00Z\",\"blocks\":4,\"testable\":2,\"held\":2,\"superiority\":[0.871094,0.663399,null,null]},\"centroid_b64\":\"AACAPwAAAAA=\",\"radius\":0.824167,\"name\":\"Titles containing \\\"die on this\\\" — lyrics, letra, español (2.2x)\",\"description\":\"In the niche \\\"lyrics, letra, español\\\" (macro, 1043 videos), titles containing \\\"die on this\\\" get 2.2x the views of the niche's other videos, each measured against its channel's normal (95% CI 1.4-3.3x; 10 videos from 10 channels). A trend: it held Nov 2025 - Mar 2026 and is expected to fade.\",\"stats\":{\"n\":1043,\"n_with\":10,\"high_with\":7,\"high_without\":207,\"base_rate\":0.205177,\"effect\":2.16386,\"effect_ci\":[1.3571,3.29489],\"lift\":3.41168,\"lift_ci\":[2.259,5.123],\"median_perf_with\":2.38717,\"median_perf_without\":1.01414,\"p\":0.000955285,\"p_rank\":0.00216653,\"channels\":10,\"high_channels\":7,\"top_channel\":\"UCchannel0001\",\"top_channel_share\":0.1,\"threshold\":2,\"quality\":1.3571},\"examples\":[\"vid-0001\",\"vid-0002\",\"vid-0003\",\"vid-0004\",\"vid-0005\"],\"performance_stats\":{\"within_radius\":{\"avg\":2.30896,\"median\":2.38717,\"count\":10},\"outside_radius\":{\"avg\":1.56871,\"median\":1.01414,\"count\":1033},\"lift_ratio\":2.16386},\"pattern_data\":{\"name\":\"Titles containing \\\"die on this\\\" — lyrics, letra, español (2.2x)\",\"description\":\"In the niche \\\"lyrics, letra, español\\\" (macro, 1043 videos), titles containing \\\"die on this\\\" get 2.2x the views of the niche's other videos, each measured against its channel's normal (95% CI 1.4-3.3x; 10 videos from 10 channels). A trend: it held Nov 2025 - Mar 2026 and is expected to fade.\",\"template\":\"[...] die on this [...]\",\"examples\":[\"Title one (Lyrics)\",\"Title two (Lyrics)\",\"Title three\",\"Title four \\\"quoted\\\"\",\"Title five — tab\\there\"],\"confidence\":0.997833,\"sample_size\":10},\"status\":\"candidate\"}\n";

/* a pd-validate record: stats.q, the validation object, q and confidence */
static const char validate_rec[] =
"{\"type\":\"pattern\",\"id\":\"p099cf5bdf58c54f2\",\"pattern_type\":\"title_ngram\",\"feature\":{\"kind\":\"ngram\",\"value\":\"mali vs\"},\"direction\":\"positive\",\"cluster\":\"m10\",\"level\":\"macro\",\"label\":\"simulation, pes, league\",\"kind\":\"trend\",\"window\":{\"from\":\"2025-12-03T15:00:06Z\",\"to\":\"2026-02-27T09:09:55Z\",\"blocks\":4,\"testable\":2,\"held\":2,\"superiority\":[0.930685,0.866589,null,null]},\"centroid_b64\":\"AACAPwAAAAA=\",\"radius\":0.876498,\"name\":\"Titles containing \\\"mali vs\\\" — simulation, pes, league (4.7x)\",\"description\":\"In the niche \\\"simulation, pes, league\\\" (macro, 1739 videos), titles containing \\\"mali vs\\\" get 4.7x the views of the niche's other videos, each measured against its channel's normal (95% CI 3.0-8.3x; 10 videos from 6 channels). A trend: it held Dec 2025 - Feb 2026 and is expected to fade. Not yet tested on newer videos.\",\"stats\":{\"n\":1739,\"n_with\":10,\"high_with\":8,\"high_without\":270,\"base_rate\":0.159862,\"effect\":4.72637,\"effect_ci\":[2.95783,8.27675],\"lift\":5.00432,\"lift_ci\":[3.63169,6.8748],\"median_perf_with\":4.25903,\"median_perf_without\":1,\"p\":1.30768e-05,\"p_rank\":3.52444e-06,\"channels\":6,\"high_channels\":4,\"top_channel\":\"UCchannel0001\",\"top_channel_share\":0.4,\"threshold\":2,\"quality\":2.95783,\"q\":0.0045168},\"examples\":[\"vid-0001\",\"vid-0002\",\"vid-0003\",\"vid-0004\",\"vid-0005\"],\"performance_stats\":{\"within_radius\":{\"avg\":6.58389,\"median\":4.25903,\"count\":10},\"outside_radius\":{\"avg\":1.67852,\"median\":1,\"count\":1729},\"lift_ratio\":4.72637},\"pattern_data\":{\"name\":\"Titles containing \\\"mali vs\\\" — simulation, pes, league (4.7x)\",\"description\":\"In the niche \\\"simulation, pes, league\\\" (macro, 1739 videos), titles containing \\\"mali vs\\\" get 4.7x the views of the niche's other videos, each measured against its channel's normal (95% CI 3.0-8.3x; 10 videos from 6 channels). A trend: it held Dec 2025 - Feb 2026 and is expected to fade. Not yet tested on newer videos.\",\"template\":\"[...] mali vs [...]\",\"examples\":[\"Title one (Lyrics)\",\"Title two (Lyrics)\",\"Title three\",\"Title four \\\"quoted\\\"\",\"Title five — tab\\there\"],\"confidence\":0.485402,\"sample_size\":10},\"status\":\"provisional\",\"validation\":{\"fdr\":{\"q\":0.0045168,\"m\":20373,\"method\":\"bh\",\"test\":\"rank\",\"p\":3.52444e-06,\"weight\":0.71334,\"level\":0.25},\"holdout\":{\"n\":237,\"n_with\":0,\"high_with\":0,\"high_without\":73,\"lift\":0,\"p\":1,\"rank\":{\"n_with\":0,\"n_without\":237,\"p_rank\":1,\"superiority\":null},\"replicated\":null,\"untested\":\"too few holdout videos with the feature\"},\"channel_stability\":{\"channels\":6,\"top_channel\":\"UCchannel0001\",\"basis\":\"with\",\"share\":0.4,\"max_share\":0.5,\"without_top\":{\"n_with\":6,\"n_without\":1668,\"p_rank\":0.000746854,\"superiority\":0.8751},\"stable\":true},\"mining\":{\"n\":1739,\"n_with\":10,\"high_with\":8,\"high_without\":270,\"lift\":5.00432,\"p\":1.30768e-05},\"redundant_with\":null,\"llm\":\"off\",\"reasons\":[],\"confidence\":{\"method\":\"tweedie\",\"z\":4.49221,\"mu_mining\":3.20548,\"var_mining\":1.29566,\"z_holdout\":null,\"holdout_size\":null,\"mu\":3.20548,\"var\":1.29566,\"next_ratio\":0.25}},\"q\":0.0045168,\"confidence\":0.485402}\n";

/* text read and written back: the same bytes */
static void round_trip_text(const char *text)
{
	size_t n = strlen(text);
	cJSON *j = cJSON_ParseWithLength(text, n);
	assert_non_null(j);
	pd_pattern p;
	pd_err err;
	assert_int_equal(pd_pattern_read(j, &p, &err), 0);
	cJSON_Delete(j);
	pd_buf b = PD_BUF_INIT;
	pd_pattern_write(&p, &b);
	if (b.len != n || memcmp(b.p, text, n)) {
		size_t i = 0;
		while (i < n && i < b.len && b.p[i] == text[i])
			i++;
		fail_msg("differs at byte %zu:\n  in:  %.80s\n  out: %.80s", i, text + i, b.p + i);
	}
	pd_buf_release(&b);
	pd_pattern_release(&p);
}

static void mine_record_round_trip(void **state)
{
	(void)state;
	round_trip_text(mine_rec);
	cJSON *j = cJSON_Parse(mine_rec);
	pd_pattern p;
	pd_err err;
	assert_int_equal(pd_pattern_read(j, &p, &err), 0);
	assert_string_equal(p.id, "p89f906f54bf46507");
	assert_string_equal(p.feature, "{\"kind\":\"ngram\",\"value\":\"die on this\"}");
	assert_non_null(p.aliases);
	assert_int_equal(p.positive, 1);
	assert_int_equal(p.nsup, 4);
	assert_true(isnan(p.superiority[2]));
	assert_true(fabs(p.stats.effect - 2.16386) < 1e-9);
	assert_true(fabs(p.stats.effect_lo - 1.3571) < 1e-9);
	assert_true(fabs(p.stats.median_without - 1.01414) < 1e-9);
	assert_int_equal(p.nexamples, 5);
	assert_int_equal(p.data.ntitles, 5);
	assert_string_equal(p.status, "candidate");
	assert_null(p.extra);
	assert_null(p.stats.extra);
	pd_pattern_release(&p);
	cJSON_Delete(j);
}

static void validate_record_round_trip(void **state)
{
	(void)state;
	round_trip_text(validate_rec);
	cJSON *j = cJSON_Parse(validate_rec);
	pd_pattern p;
	pd_err err;
	assert_int_equal(pd_pattern_read(j, &p, &err), 0);
	assert_string_equal(p.status, "provisional");
	assert_non_null(p.stats.extra);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(p.stats.extra, "q"));
	assert_non_null(p.extra);
	assert_string_equal(p.extra->child->string, "validation");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(p.extra, "confidence"));
	pd_pattern_release(&p);
	cJSON_Delete(j);
}

/* pd 0.1 and hand-made records: aliases read only when the canonical member is absent */
static void old_record_aliases(void **state)
{
	(void)state;
	static const char old[] =
		"{\"type\":\"pattern\",\"id\":\"p-old\",\"pattern_type\":\"title_ngram\","
		"\"feature\":{\"value\":\"How-To\",\"kind\":\"ngram\"},\"direction\":\"negative\","
		"\"cluster\":\"c1\",\"centroid\":[1,0],\"semantic_radius\":0.25,"
		"\"stats\":{\"n\":100,\"median_with\":3.5,\"median_without\":1.75,\"mean_with\":4,"
		"\"avg_without\":2,\"p\":0.01,\"n_with\":20},"
		"\"status\":\"validated\",\"extra_member\":[1,2]}";
	cJSON *j = cJSON_Parse(old);
	pd_pattern p;
	pd_err err;
	assert_int_equal(pd_pattern_read(j, &p, &err), 0);
	cJSON_Delete(j);
	assert_string_equal(p.feature, "{\"kind\":\"ngram\",\"value\":\"how to\"}");
	assert_int_equal(p.positive, 0);
	assert_true(p.radius == 0.25);
	assert_string_equal(p.centroid_b64, "AACAPwAAAAA=");	/* [1, 0] as float32 */
	assert_true(p.stats.median_with == 3.5);
	assert_true(p.stats.median_without == 1.75);
	assert_true(p.stats.n_with == 20);
	assert_true(isnan(p.stats.effect));
	/* performance_stats made from the stats */
	assert_true(p.within.avg == 4 && p.within.median == 3.5 && p.within.count == 20);
	assert_true(p.outside.avg == 2 && p.outside.median == 1.75 && p.outside.count == 80);
	assert_true(isnan(p.lift_ratio));	/* no median_perf_* : no ratio (as pd-store) */
	/* pattern_data: confidence 1 - p */
	assert_true(fabs(p.data.confidence - 0.99) < 1e-12);
	assert_true(p.data.sample_size == 20);
	assert_non_null(p.extra);
	assert_non_null(cJSON_GetObjectItemCaseSensitive(p.extra, "extra_member"));
	assert_null(cJSON_GetObjectItemCaseSensitive(p.extra, "semantic_radius"));
	assert_null(cJSON_GetObjectItemCaseSensitive(p.extra, "centroid"));
	pd_buf b = PD_BUF_INIT;
	pd_pattern_write(&p, &b);
	assert_non_null(strstr(b.p, "\"radius\":0.25,"));
	assert_non_null(strstr(b.p, "\"median_perf_with\":3.5,\"median_perf_without\":1.75,"));
	assert_null(strstr(b.p, "semantic_radius"));
	assert_null(strstr(b.p, "median_with"));
	/* the canonical form reads back to itself */
	round_trip_text(b.p);
	pd_buf_release(&b);
	pd_pattern_release(&p);

	/* present, even as null, beats an alias; performance_stats fills what stats lack */
	static const char mixed[] =
		"{\"type\":\"pattern\",\"id\":\"p-mixed\",\"radius\":null,\"semantic_radius\":0.5,"
		"\"stats\":{\"median_perf_with\":2,\"median_with\":9},"
		"\"performance_stats\":{\"within_radius\":{\"median\":8,\"count\":7},"
		"\"outside_radius\":{\"median\":1.25},\"lift_ratio\":1.6}}";
	j = cJSON_Parse(mixed);
	assert_int_equal(pd_pattern_read(j, &p, &err), 0);
	cJSON_Delete(j);
	assert_true(isnan(p.radius));
	assert_true(p.stats.median_with == 2);
	assert_true(p.stats.median_without == 1.25);
	assert_true(p.stats.n_with == 7);
	assert_true(p.stats.lift == 1.6);
	assert_true(p.lift_ratio == 1.6);
	pd_pattern_release(&p);

	j = cJSON_Parse("[1]");
	assert_int_equal(pd_pattern_read(j, &p, &err), -1);
	assert_int_equal(err.code, PD_EREC);
	cJSON_Delete(j);
	pd_pattern_release(&p);
}

/* a struct filled by hand: numbers and nulls written as pd-mine writes them */
static void written_by_hand(void **state)
{
	(void)state;
	pd_pattern p;
	pd_pattern_init(&p);
	p.id = strdup("p1");
	p.feature = strdup("{\"kind\":\"short\"}");
	p.positive = 1;
	p.stats.n = 1193;
	p.stats.base_rate = 0.15590947;
	p.stats.effect = 1.5;
	p.stats.effect_lo = 1e-7;
	p.stats.effect_hi = 123456789.0;
	p.status = strdup("candidate");
	pd_buf b = PD_BUF_INIT;
	pd_pattern_write(&p, &b);
	assert_non_null(strstr(b.p, "{\"type\":\"pattern\",\"id\":\"p1\",\"pattern_type\":null,"
				    "\"feature\":{\"kind\":\"short\"},\"direction\":\"positive\","));
	assert_non_null(strstr(b.p, "\"window\":null,"));
	assert_non_null(strstr(b.p, "\"stats\":{\"n\":1193,\"n_with\":null,"));
	assert_non_null(strstr(b.p, "\"base_rate\":0.155909,\"effect\":1.5,\"effect_ci\":[1e-07,123456789],"));
	assert_non_null(strstr(b.p, "\"status\":\"candidate\"}\n"));
	assert_int_equal(b.p[b.len - 1], '\n');
	round_trip_text(b.p);
	pd_buf_release(&b);
	pd_pattern_release(&p);
}

/* every pattern record of $PD_PATTERN_RECORDS, when set */
static void records_of_a_file(void **state)
{
	(void)state;
	const char *path = getenv("PD_PATTERN_RECORDS");
	if (!path || !*path)
		skip();
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long count = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		if (!strstr(line, "\"type\":\"pattern\""))
			continue;
		if (line[n - 1] != '\n')
			fail_msg("record %ld has no newline", count + 1);
		round_trip_text(line);
		count++;
	}
	free(line);
	fclose(f);
	print_message("%ld pattern records of %s read and written back byte-identical\n", count, path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mine_record_round_trip),
		cmocka_unit_test(validate_record_round_trip),
		cmocka_unit_test(old_record_aliases),
		cmocka_unit_test(written_by_hand),
		cmocka_unit_test(records_of_a_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
