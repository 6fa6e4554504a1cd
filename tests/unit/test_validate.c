/*
 * test_validate.c — unit tests of lib/validate.c on the hand-made cluster of
 * test_mine.c (40 videos; "zebra" in the titles of the 20 with 4x the perf:
 * rank test p = 3.39781e-8, written with 6 digits), its pattern mined by
 * lib/mine.c:
 *   - BH takes m from the mine_summary's tests: q = p * m / 1 for the only
 *     pattern (m = 3: q = 1.019343e-7, validated as far as it goes; m = 3e7:
 *     q = 1, rejected by the FDR screen);
 *   - no video marked holdout: replication untested, so the pattern that
 *     passes every other check is provisional, not validated;
 *   - redundancy: the same feature given again at the meso level (same
 *     videos, same numbers) is one finding: the pattern with the smaller id
 *     stays and the other is rejected as redundant with it.
 * And lib/stats.c owns GSL's error handler: after a validation run
 * (pd_fisher_* and the normal quantiles reached through it), GSL's handler is
 * no longer the aborting default.
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
#include <gsl/gsl_errno.h>
#include "../../lib/pd.h"
#include "../../lib/mine.h"
#include "../../lib/validate.h"

static const char *const lv[3] = { "macro", "meso", "micro" };
static const char *const cid[3] = { "m1", "m1.1", "m1.1.1" };

static cJSON *video(int i)
{
	int high = i % 2 == 0, k = i / 2;
	char line[512];
	snprintf(line, sizeof line,
		 "{\"type\":\"video\",\"id\":\"v%02d\",\"channel_id\":\"ch%d\",\"title\":\"%s\","
		 "\"published_at\":\"2026-%02d-%02dT12:00:00Z\",\"perf\":%.4f,"
		 "\"cluster\":{\"macro\":\"m1\",\"meso\":\"m1.1\",\"micro\":\"m1.1.1\"}}",
		 i, k % 4, high ? "zebra" : "other", 1 + i / 10, 1 + i % 10 * 2,
		 (high ? 4 : 1) * (1.00 + 0.01 * k));
	cJSON *j = cJSON_Parse(line);
	assert_non_null(j);
	return j;
}

static cJSON *cluster(int l)
{
	cJSON *c = cJSON_CreateObject();
	cJSON_AddStringToObject(c, "type", "cluster");
	cJSON_AddStringToObject(c, "id", cid[l]);
	cJSON_AddStringToObject(c, "level", lv[l]);
	if (l)
		cJSON_AddStringToObject(c, "parent", cid[l - 1]);
	else
		cJSON_AddNullToObject(c, "parent");
	return c;
}

/* the pattern lib/mine.c finds in the 40 videos (one line) */
static char *mined_pattern(void)
{
	pd_mine_opts o;
	pd_mine_opts_default(&o);
	o.holdout_fraction = 0;
	o.pairs = 0;
	o.max_ngram = 1;
	o.threads = 1;
	pd_miner *m = pd_miner_new(&o);
	pd_err err;
	for (int i = 0; i < 40; i++) {
		cJSON *j = video(i);
		pd_video v;
		assert_int_equal(pd_video_from_json(j, &v, &err), 0);
		pd_miner_add_video(m, &v, cid);
		pd_video_release(&v);
		cJSON_Delete(j);
	}
	for (int l = 0; l < 3; l++)
		assert_int_equal(pd_miner_add_cluster(m, cid[l], lv[l], l ? cid[l - 1] : NULL, 40, NULL,
						      0.3, NULL, &err), 0);
	pd_miner_holdout(m);
	assert_int_equal(pd_miner_run(m, &err), 0);
	pd_buf b = PD_BUF_INIT;
	pd_miner_write_patterns(m, &b);
	pd_miner_free(m);
	assert_non_null(b.p);
	assert_non_null(strstr(b.p, "\"value\":\"zebra\""));
	assert_ptr_equal(strchr(b.p, '\n'), b.p + b.len - 1);	/* one pattern */
	return pd_buf_detach(&b);
}

/* a newer video of the holdout: i in [40, 60); the even ones have "zebra"
   at 3x the perf and come from two channels, the others each from its own */
static cJSON *holdout_video(int i)
{
	char line[512];
	int zebra = i % 2 == 0, k = (i - 40) / 2;
	snprintf(line, sizeof line,
		 "{\"type\":\"video\",\"id\":\"h%02d\",\"channel_id\":\"%s%d\",\"title\":\"%s\","
		 "\"published_at\":\"2026-07-%02dT12:00:00Z\",\"perf\":%.4f,\"holdout\":true,"
		 "\"cluster\":{\"macro\":\"m1\",\"meso\":\"m1.1\",\"micro\":\"m1.1.1\"}}",
		 i, zebra ? "hz" : "ho", zebra ? k % 2 : k, zebra ? "zebra" : "other", 1 + k,
		 (zebra ? 3 : 1) * (1.00 + 0.01 * k));
	cJSON *j = cJSON_Parse(line);
	assert_non_null(j);
	return j;
}

/* a validator with options o fed the 40 videos (and the 20 newer ones of
   holdout_video when holdout), the clusters and the patterns (pattern text,
   and its copy at the meso level under id meso_id when given), tests from
   the summary */
static pd_validator *validator_with(const pd_validate_opts *o, int holdout, const char *pat,
				    const char *meso_id, double tests, pd_validate_summary *sum)
{
	pd_validator *v = pd_validator_new(o);
	pd_err err;
	for (int i = 0; i < (holdout ? 60 : 40); i++) {
		cJSON *j = i < 40 ? video(i) : holdout_video(i);
		assert_int_equal(pd_validator_add_video(v, j, &err), 0);
		cJSON_Delete(j);
	}
	for (int l = 0; l < 3; l++) {
		cJSON *c = cluster(l);
		pd_validator_add_cluster(v, c);
		cJSON_Delete(c);
	}
	assert_int_equal(pd_validator_add_pattern(v, cJSON_Parse(pat), &err), 0);
	if (meso_id) {
		cJSON *p = cJSON_Parse(pat);
		cJSON_ReplaceItemInObjectCaseSensitive(p, "id", cJSON_CreateString(meso_id));
		cJSON_ReplaceItemInObjectCaseSensitive(p, "cluster", cJSON_CreateString("m1.1"));
		cJSON_ReplaceItemInObjectCaseSensitive(p, "level", cJSON_CreateString("meso"));
		assert_int_equal(pd_validator_add_pattern(v, p, &err), 0);
	}
	pd_validator_add_tests(v, tests, tests);
	assert_int_equal(pd_validator_run(v, sum), 0);
	return v;
}

static pd_validator *validator(const char *pat, const char *meso_id, double tests,
			       pd_validate_summary *sum)
{
	pd_validate_opts o;
	pd_validate_opts_default(&o);
	return validator_with(&o, 0, pat, meso_id, tests, sum);
}

/*
 * Holdout replication counted by channel: 10 newer "zebra" videos at 3x the
 * perf of 10 newer others, but all ten from two channels, against others
 * from ten channels.  The plain rank test, every video a unit, replicates;
 * the channel-clustered test (--replication-test channels) sees two units of
 * evidence on that side and does not.
 */
static const char *holdout_by_channels(int clustered, pd_validate_summary *sum, pd_validator **out)
{
	char *pat = mined_pattern();
	pd_validate_opts o;
	pd_validate_opts_default(&o);
	o.replication_clustered = clustered;
	*out = validator_with(&o, 1, pat, NULL, 3, sum);
	free(pat);
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(pd_validator_pattern(*out, 0), "status");
	return s->valuestring;
}

static void replication_by_channels(void **state)
{
	pd_validate_summary sum;
	pd_validator *v;
	assert_string_equal(holdout_by_channels(0, &sum, &v), "validated");
	assert_int_equal(sum.holdout_videos, 20);
	pd_validator_free(v);
	assert_string_equal(holdout_by_channels(1, &sum, &v), "rejected");
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(pd_validator_pattern(v, 0), "validation");
	const cJSON *rk = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(val, "holdout"), "rank");
	double pp = pd_json_num(rk, "p_rank", NAN), pc = pd_json_num(rk, "p_channels", NAN);
	assert_true(pp < 0.001 && pc > 0.05);
	pd_validator_free(v);
}

static const char *status(pd_validator *v, size_t i)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(pd_validator_pattern(v, i), "status");
	assert_true(cJSON_IsString(s));
	return s->valuestring;
}

static double q_of(pd_validator *v, size_t i)
{
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(pd_validator_pattern(v, i), "q");
	assert_true(cJSON_IsNumber(q));
	return q->valuedouble;
}

static void bh_and_provisional(void **state)
{
	(void)state;
	char *pat = mined_pattern();
	pd_validate_summary s;
	pd_validator *v = validator(pat, NULL, 3, &s);
	assert_int_equal(s.m_from_summary, 1);
	assert_float_equal(s.m, 3, 0);
	assert_float_equal(q_of(v, 0), 3.39781e-8 * 3, 1e-12);
	/* every check passed but replication, which had no holdout videos */
	assert_string_equal(status(v, 0), "provisional");
	assert_int_equal(pd_validator_provisional(v, 0), 1);
	assert_int_equal(pd_validator_passed(v, 0), 0);
	assert_int_equal(s.provisional, 1);
	assert_int_equal(s.validated, 0);
	assert_int_equal(s.holdout_videos, 0);
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(pd_validator_pattern(v, 0), "validation"), "holdout");
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(h, "untested")));
	pd_validator_free(v);

	/* the same pattern among 3e7 tests does not pass the screen */
	v = validator(pat, NULL, 3e7, &s);
	assert_float_equal(q_of(v, 0), 1, 0);
	assert_string_equal(status(v, 0), "rejected");
	assert_int_equal(s.rej_fdr, 1);
	assert_int_equal(pd_validator_provisional(v, 0), 0);
	pd_validator_free(v);
	free(pat);

	/* lib/stats.c switched GSL's aborting handler off on the way */
	gsl_error_handler_t *was = gsl_set_error_handler(NULL);
	assert_non_null(was);
	gsl_set_error_handler(was);
}

static void redundancy(void **state)
{
	(void)state;
	char *pat = mined_pattern();
	cJSON *p = cJSON_Parse(pat);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "id");
	assert_true(strcmp(id->valuestring, "p0") > 0 && strcmp(id->valuestring, "pz") < 0);
	cJSON_Delete(p);
	pd_validate_summary s;
	/* the meso copy has the smaller id: it stays, the micro one goes */
	pd_validator *v = validator(pat, "p0000000000000000", 4, &s);
	assert_float_equal(q_of(v, 0), q_of(v, 1), 0);	/* one q for both: a tie */
	assert_string_equal(status(v, 1), "provisional");
	assert_string_equal(status(v, 0), "rejected");
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(pd_validator_pattern(v, 0), "validation");
	const cJSON *rw = cJSON_GetObjectItemCaseSensitive(val, "redundant_with");
	assert_true(cJSON_IsString(rw));
	assert_string_equal(rw->valuestring, "p0000000000000000");
	assert_int_equal(s.rej_redundant, 1);
	pd_validator_free(v);
	/* with a larger id, the copy is the one rejected */
	v = validator(pat, "pzzzzzzzzzzzzzzzz", 4, &s);
	assert_string_equal(status(v, 0), "provisional");
	assert_string_equal(status(v, 1), "rejected");
	pd_validator_free(v);
	free(pat);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bh_and_provisional),
		cmocka_unit_test(redundancy),
		cmocka_unit_test(replication_by_channels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
