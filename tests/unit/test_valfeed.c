/*
 * test_valfeed.c — unit tests of lib/valfeed.c (pd-validate's stream into a
 * validator) and lib/review.c (the LLM review): the example's records feed
 * a validator (videos and clusters written on, patterns kept, the summary
 * counted); a record of another type passes untouched, a bad line and a
 * summary without its count are rejected, a bad z_hist warns and passes;
 * the two shards of a run are held and merged into one record, a lone
 * shard is written as it came with a warning.  The review: a service that
 * refuses every connection leaves each passed pattern "unavailable" with
 * the reason, warns once, and keeps the statistical verdict; no URL is
 * PD_EUSAGE; the default cache file under XDG_CACHE_HOME or HOME.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../lib/pd.h"
#include "../../lib/review.h"
#include "../../lib/valfeed.h"
#include "../../lib/validate.h"

static int feed(pd_valfeed *f, const char *line, pd_err *err, pd_err *warn)
{
	return pd_valfeed_line(f, line, strlen(line), err, warn);
}

/* the example's records into v; returns how many passed */
static int feed_example(pd_validator *v, pd_valfeed *f)
{
	char path[512];
	const char *top = getenv("PD_TOP");
	snprintf(path, sizeof path, "%s/examples/validate-input.ndjson", top ? top : ".");
	char *paths[1] = { path };
	pd_input *in = pd_input_open(paths, 1, 0);
	const char *line;
	size_t len;
	pd_err err, warn;
	int kept = 0, passed = 0;
	while (pd_input_next(in, &line, &len, &err) == PD_LINE_OK) {
		int r = pd_valfeed_line(f, line, len, &err, &warn);
		assert_int_not_equal(r, PD_VALFEED_REJECT);
		assert_int_equal(warn.code, PD_OK);
		kept += r == PD_VALFEED_KEPT;
		passed += r == PD_VALFEED_PASS;
	}
	pd_input_free(in);
	assert_int_equal(kept, 7);	/* the patterns */
	assert_int_equal(passed, 283);	/* 280 videos, 2 clusters, the summary (1/1: not held) */
	assert_int_equal(pd_valfeed_summaries(f), 1);
	pd_validate_summary s;
	pd_validator_run(v, &s);
	assert_int_equal(s.videos, 280);
	int n = 0;
	for (size_t i = 0; i < pd_validator_npatterns(v); i++)
		n += pd_validator_passed(v, i);
	return n;
}

static void example(void **state)
{
	(void)state;
	pd_validate_opts o;
	pd_validate_opts_default(&o);
	pd_validator *v = pd_validator_new(&o);
	pd_valfeed *f = pd_valfeed_new(v);
	assert_true(feed_example(v, f) > 0);
	pd_buf out = PD_BUF_INIT;
	pd_err warn;
	assert_int_equal(pd_valfeed_finish(f, &out, &warn), 0);
	assert_int_equal(out.len, 0);
	pd_valfeed_free(f);
	pd_validator_free(v);
}

static void lines_and_shards(void **state)
{
	(void)state;
	pd_validate_opts o;
	pd_validate_opts_default(&o);
	pd_validator *v = pd_validator_new(&o);
	pd_valfeed *f = pd_valfeed_new(v);
	pd_err err, warn;
	assert_int_equal(feed(f, "{\"type\":\"note\",\"x\":[1,2]}", &err, &warn), PD_VALFEED_PASS);
	assert_int_equal(feed(f, "{\"type\":\"video\",", &err, &warn), PD_VALFEED_REJECT);
	assert_int_equal(feed(f, "{\"type\":\"mine_summary\",\"tests\":1.5}", &err, &warn),
			 PD_VALFEED_REJECT);
	assert_string_equal(err.msg, "mine_summary has no \"tests\" count (a whole number)");
	assert_int_equal(feed(f, "{\"type\":\"mine_summary\",\"tests\":3,\"z_hist\":{\"counts\":[\"x\"]}}",
			      &err, &warn), PD_VALFEED_PASS);
	assert_int_not_equal(warn.code, PD_OK);
	assert_non_null(strstr(warn.msg, "z_hist is not a histogram"));
	assert_int_equal(feed(f, "{\"type\":\"mine_summary\",\"tests\":10,\"clusters\":1,\"shard\":\"2/2\"}",
			      &err, &warn), PD_VALFEED_KEPT);
	assert_int_equal(warn.code, PD_OK);
	assert_int_equal(feed(f, "{\"type\":\"mine_summary\",\"tests\":5,\"clusters\":2,\"shard\":\"1/2\"}",
			      &err, &warn), PD_VALFEED_KEPT);
	assert_int_equal(pd_valfeed_summaries(f), 3);
	pd_buf out = PD_BUF_INIT;
	assert_int_equal(pd_valfeed_finish(f, &out, &warn), 1);
	assert_int_equal(warn.code, PD_OK);
	cJSON *m = cJSON_Parse(out.p);
	assert_non_null(m);
	assert_int_equal(pd_json_num(m, "tests", 0), 15);
	assert_int_equal(pd_json_num(m, "clusters", 0), 3);
	cJSON_Delete(m);
	assert_int_equal(out.p[out.len - 1], '\n');

	/* a lone shard: as it came, said */
	const char *lone = "{\"type\":\"mine_summary\",\"tests\":5,\"shard\":\"1/3\"}";
	assert_int_equal(feed(f, lone, &err, &warn), PD_VALFEED_KEPT);
	pd_buf_reset(&out);
	assert_int_equal(pd_valfeed_finish(f, &out, &warn), 1);
	assert_int_not_equal(warn.code, PD_OK);
	assert_non_null(strstr(warn.msg, "; they are written as they came, unmerged"));
	assert_int_equal(out.len, strlen(lone) + 1);
	assert_memory_equal(out.p, lone, strlen(lone));
	pd_buf_release(&out);
	pd_valfeed_free(f);
	pd_validator_free(v);
}

static int warnings;
static char first_warning[600];
static void on_warn(void *ud, const char *msg)
{
	(void)ud;
	if (!warnings++)
		snprintf(first_warning, sizeof first_warning, "%s", msg);
}

static void review_unavailable(void **state)
{
	(void)state;
	char dir[] = "/tmp/pd-review-XXXXXX", file[600];
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof file, "%s/cache.ndjson", dir);
	unsetenv("REDIS_URL");
	setenv("PD_HTTP_MAX_RETRIES", "0", 1);
	pd_validate_opts vo;
	pd_validate_opts_default(&vo);
	pd_validator *v = pd_validator_new(&vo);
	pd_valfeed *f = pd_valfeed_new(v);
	int passed = feed_example(v, f);
	pd_review_opts o;
	memset(&o, 0, sizeof o);
	o.batch = 8;
	o.concurrency = 2;
	o.timeout_s = 5;
	o.cache_file = file;
	o.on_warn = on_warn;
	pd_review_stats st;
	pd_err err;
	assert_int_equal(pd_review_patterns(v, &o, &st, &err), -1);	/* no URL */
	assert_int_equal(err.code, PD_EUSAGE);
	o.url = "http://127.0.0.1:9/v1";	/* discard: refused */
	assert_int_equal(pd_review_patterns(v, &o, &st, &err), 0);
	assert_int_equal(st.unavailable, (unsigned long)passed);
	assert_int_equal(st.verdicts, 0);
	assert_int_equal(warnings, 1);
	char want[80];
	snprintf(want, sizeof want, "llm: no review for %d of %d patterns (", passed, passed);
	assert_memory_equal(first_warning, want, strlen(want));
	int seen = 0;
	for (size_t i = 0; i < pd_validator_npatterns(v); i++) {
		if (!pd_validator_passed(v, i))
			continue;
		const cJSON *val = cJSON_GetObjectItemCaseSensitive(pd_validator_pattern(v, i),
								    "validation");
		assert_string_equal(pd_json_str(val, "llm"), "unavailable");
		assert_non_null(pd_json_str(val, "llm_error"));
		seen++;
	}
	assert_int_equal(seen, passed);
	pd_valfeed_free(f);
	pd_validator_free(v);
	unlink(file);
	rmdir(dir);
}

static void default_cache_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/pd-review-XXXXXX", want[600];
	assert_non_null(mkdtemp(dir));
	setenv("XDG_CACHE_HOME", dir, 1);
	char *p = pd_review_default_cache_file();
	snprintf(want, sizeof want, "%s/pd/llm-cache.ndjson", dir);
	assert_string_equal(p, want);
	free(p);
	struct stat sb;
	snprintf(want, sizeof want, "%s/pd", dir);
	assert_int_equal(stat(want, &sb), 0);
	rmdir(want);
	unsetenv("XDG_CACHE_HOME");
	setenv("HOME", dir, 1);
	p = pd_review_default_cache_file();
	snprintf(want, sizeof want, "%s/.cache/pd/llm-cache.ndjson", dir);
	assert_string_equal(p, want);
	free(p);
	snprintf(want, sizeof want, "%s/.cache/pd", dir);
	assert_int_equal(stat(want, &sb), 0);
	rmdir(want);
	snprintf(want, sizeof want, "%s/.cache", dir);
	rmdir(want);
	rmdir(dir);
	unsetenv("HOME");
	assert_null(pd_review_default_cache_file());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(example),
		cmocka_unit_test(lines_and_shards),
		cmocka_unit_test(review_unavailable),
		cmocka_unit_test(default_cache_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
