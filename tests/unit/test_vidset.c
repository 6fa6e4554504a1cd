/*
 * test_vidset.c — unit tests of lib/vidset.c, the videos of one fetch: items
 * come back in input order (other records in place, as they came); a
 * repeated id is refused and counted, from either door; an NDJSON record's
 * stale derived fields are dropped and computed again, its embedding kept
 * in its form; perf by channel mean computed by hand (100 and 300 views:
 * 0.5 and 1.5); a channel with too few videos gets a null perf with the
 * reason from perf.c's own buffer, still right once every item is written;
 * ages to observed_at, or to the set's now, never below 0.
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
#include "../../lib/vidset.h"

#define DAY 86400.0

static void ages(void **state)
{
	(void)state;
	pd_vidset *s = pd_vidset_new(10 * DAY);
	assert_float_equal(pd_vidset_age(s, 2 * DAY, 5 * DAY), 3, 1e-12);
	assert_float_equal(pd_vidset_age(s, 2 * DAY, NAN), 8, 1e-12);
	assert_float_equal(pd_vidset_age(s, 12 * DAY, NAN), 0, 1e-12);
	assert_true(isnan(pd_vidset_age(s, NAN, 5 * DAY)));
	pd_vidset_free(s);
}

static void add_json(pd_vidset *s, const char *line, int want)
{
	pd_record r = PD_RECORD_INIT;
	pd_err err;
	assert_int_equal(pd_record_parse(&r, line, strlen(line), &err), 0);
	int rc = pd_vidset_add_record(s, &r, &err);
	assert_int_equal(rc, want);
	if (rc < 0)
		assert_string_equal(err.msg, "duplicate video id 'a'");
	pd_record_release(&r);
}

static void order_dups_perf(void **state)
{
	(void)state;
	pd_vidset *s = pd_vidset_new(10 * DAY);
	add_json(s, "{\"type\":\"video\",\"id\":\"a\",\"channel_id\":\"c1\",\"views\":100,"
		    "\"perf\":9,\"perf_basis\":7,\"age_days\":3,\"embedding\":[1,0.5]}", 0);
	pd_vidset_add_other(s, "{\"type\":\"note\", \"x\":1}", 22);
	pd_video v;
	pd_video_init(&v);
	v.id = "b";
	v.channel_id = "c1";
	v.views = 300;
	v.fields = PD_VF_CHANNEL_ID | PD_VF_VIEWS;
	assert_int_equal(pd_vidset_add_video(s, &v, NAN), 0);
	v.id = "c";
	v.channel_id = "c2";
	assert_int_equal(pd_vidset_add_video(s, &v, NAN), 0);
	add_json(s, "{\"type\":\"video\",\"id\":\"a\"}", -1);
	v.id = "a";
	assert_int_equal(pd_vidset_add_video(s, &v, NAN), -1);

	pd_vidset_perf(s, PD_PERF_MEAN, 2, NULL);
	pd_vidset_stats st;
	pd_vidset_get_stats(s, &st);
	assert_int_equal(st.videos, 3);
	assert_int_equal(st.channels, 2);
	assert_int_equal(st.with_perf, 2);
	assert_int_equal(st.duplicates, 2);

	assert_int_equal(pd_vidset_count(s), 4);
	pd_buf out = PD_BUF_INIT;
	const char *line;
	size_t len;
	assert_int_equal(pd_vidset_get(s, 0, &out, &line, &len), 1);
	assert_string_equal(out.p, "{\"type\":\"video\",\"id\":\"a\",\"channel_id\":\"c1\",\"views\":100,"
				   "\"embedding\":[1,0.5],\"age_days\":3.0000,\"perf\":0.5,"
				   "\"perf_basis\":2}\n");
	pd_buf_reset(&out);
	assert_int_equal(pd_vidset_get(s, 1, &out, &line, &len), 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(len, 22);
	assert_memory_equal(line, "{\"type\":\"note\", \"x\":1}", 22);
	assert_int_equal(pd_vidset_get(s, 2, &out, &line, &len), 1);
	assert_non_null(strstr(out.p, "\"id\":\"b\""));
	assert_non_null(strstr(out.p, "\"age_days\":null,\"perf\":1.5,\"perf_basis\":2}\n"));
	pd_buf_reset(&out);
	assert_int_equal(pd_vidset_get(s, 3, &out, &line, &len), 1);
	assert_non_null(strstr(out.p, "\"perf\":null,\"perf_basis\":1,\"perf_reason\":\"channel has 1 "));
	pd_buf_release(&out);
	pd_vidset_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ages),
		cmocka_unit_test(order_dups_perf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
