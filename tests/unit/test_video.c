/*
 * test_video.c — unit tests of lib/video's writer: a pd_video written by
 * pd_video_write reads back through pd_video_from_json to the same struct
 * (every field, null and absent kept apart), the canonical member order,
 * head + tail equal to the whole, and a record read and written again keeps
 * the members the struct does not carry (extra, rest) byte for byte.
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
#include "../../lib/video.h"

static const char *tags[] = { "one", "two \"quoted\"", "ünï" };

static void full(pd_video *v)
{
	pd_video_init(v);
	v->id = "abc-123_XY";
	v->channel_id = "UCxyz";
	v->channel_title = "A Channel";
	v->title = "Title with \\ and \n";
	v->description = NULL;		/* null, not absent */
	v->tags = tags;
	v->ntags = 3;
	v->category = "Music";
	v->category_id = "10";
	v->format = "short";
	v->published_at = 1762156806;	/* 2025-11-03T08:00:06Z */
	v->observed_at = 1765345085;
	v->duration_s = 200;
	v->views = 985874;
	v->likes = 12.25;
	v->comments = NAN;
	v->is_short = 0;
	v->cluster[0] = "m1";
	v->cluster[2] = "u7";
	v->cluster_sim = 0.8125;
	v->age_days = 36.9014;
	v->perf = 2.15364;
	v->perf_basis = 4;
	v->perf_reason = "few videos";
	v->fields = ~0u;
}

static void assert_str_same(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_num_same(double a, double b)
{
	if (isnan(a))
		assert_true(isnan(b));
	else
		assert_true(a == b);
}

static void assert_same(const pd_video *a, const pd_video *b)
{
	assert_str_same(a->id, b->id);
	assert_str_same(a->channel_id, b->channel_id);
	assert_str_same(a->channel_title, b->channel_title);
	assert_str_same(a->title, b->title);
	assert_str_same(a->description, b->description);
	assert_str_same(a->category, b->category);
	assert_str_same(a->category_id, b->category_id);
	assert_str_same(a->format, b->format);
	assert_str_same(a->perf_reason, b->perf_reason);
	assert_int_equal(a->ntags, b->ntags);
	for (int i = 0; i < a->ntags; i++)
		assert_string_equal(a->tags[i], b->tags[i]);
	for (int i = 0; i < 3; i++)
		assert_str_same(a->cluster[i], b->cluster[i]);
	assert_num_same(a->published_at, b->published_at);
	assert_num_same(a->observed_at, b->observed_at);
	assert_num_same(a->duration_s, b->duration_s);
	assert_num_same(a->views, b->views);
	assert_num_same(a->likes, b->likes);
	assert_num_same(a->comments, b->comments);
	assert_num_same(a->age_days, b->age_days);
	assert_num_same(a->perf, b->perf);
	assert_num_same(a->cluster_sim, b->cluster_sim);
	assert_int_equal(a->perf_basis, b->perf_basis);
	assert_int_equal(a->is_short, b->is_short);
	assert_int_equal(a->fields, b->fields);
}

/* write v, parse, read back: the same struct */
static void round_trip_one(const pd_video *v)
{
	pd_buf b = PD_BUF_INIT;
	pd_video_write(&b, v);
	assert_true(b.len > 2 && b.p[b.len - 1] == '\n');
	cJSON *o = cJSON_ParseWithLength(b.p, b.len);
	assert_non_null(o);
	pd_video r;
	pd_err err;
	if (pd_video_from_json(o, &r, &err) < 0)
		fail_msg("%s: %s", b.p, err.msg);
	pd_video want = *v;
	want.fields &= PD_VF_CHANNEL_ID | PD_VF_CHANNEL_TITLE | PD_VF_TITLE | PD_VF_DESCRIPTION |
		       PD_VF_TAGS | PD_VF_CATEGORY | PD_VF_CATEGORY_ID | PD_VF_FORMAT |
		       PD_VF_PUBLISHED_AT | PD_VF_OBSERVED_AT | PD_VF_DURATION_S | PD_VF_VIEWS |
		       PD_VF_LIKES | PD_VF_COMMENTS | PD_VF_IS_SHORT | PD_VF_CLUSTER |
		       PD_VF_CLUSTER_SIM | PD_VF_DERIVED;
	if (!want.perf_reason)
		want.fields &= ~(unsigned)PD_VF_PERF_REASON;	/* written only when set */
	assert_same(&want, &r);
	/* and written again: the same bytes */
	pd_buf b2 = PD_BUF_INIT;
	pd_video_write(&b2, &r);
	assert_int_equal(b.len, b2.len);
	assert_memory_equal(b.p, b2.p, b.len);
	pd_video_release(&r);
	cJSON_Delete(o);
	pd_buf_release(&b);
	pd_buf_release(&b2);
}

static void round_trip(void **state)
{
	pd_video v;
	full(&v);
	round_trip_one(&v);
	/* few members: the others absent, not null */
	pd_video_init(&v);
	v.id = "x";
	v.views = 5;
	v.fields = PD_VF_VIEWS | PD_VF_TITLE | PD_VF_IS_SHORT;
	round_trip_one(&v);
	/* numbers that need all their digits */
	full(&v);
	v.views = 1234567890123.25;
	v.likes = 0.1 + 0.2;
	v.duration_s = 1e-7;
	v.is_short = 1;
	round_trip_one(&v);
}

static void canonical_order(void **state)
{
	pd_video v;
	full(&v);
	v.extra = "{\"k\":\"v\"}";
	v.extra_len = strlen(v.extra);
	v.rest = "\"zz\":1,\"aa\":[2]";
	v.rest_len = strlen(v.rest);
	pd_buf b = PD_BUF_INIT;
	pd_video_write(&b, &v);
	assert_string_equal(b.p,
		"{\"type\":\"video\",\"id\":\"abc-123_XY\",\"channel_id\":\"UCxyz\","
		"\"channel_title\":\"A Channel\",\"title\":\"Title with \\\\ and \\n\","
		"\"description\":null,\"tags\":[\"one\",\"two \\\"quoted\\\"\",\"ünï\"],"
		"\"category\":\"Music\",\"category_id\":\"10\",\"format\":\"short\","
		"\"published_at\":\"2025-11-03T08:00:06Z\",\"observed_at\":\"2025-12-10T05:38:05Z\","
		"\"duration_s\":200,\"views\":985874,\"likes\":12.25,\"comments\":null,"
		"\"is_short\":false,\"extra\":{\"k\":\"v\"},\"cluster\":{\"macro\":\"m1\",\"micro\":\"u7\"},"
		"\"cluster_sim\":0.8125,\"zz\":1,\"aa\":[2],\"age_days\":36.9014,\"perf\":2.15364,"
		"\"perf_basis\":4,\"perf_reason\":\"few videos\"}\n");
	/* head + tail: the whole */
	pd_buf h = PD_BUF_INIT;
	pd_video_write_head(&h, &v);
	pd_video_write_tail(&h, &v);
	assert_string_equal(h.p, b.p);
	pd_buf_release(&b);
	pd_buf_release(&h);
}

/* a record read (struct + extra + rest) and written again keeps every member */
static void rest_kept(void **state)
{
	const char *in = "{\"type\":\"video\",\"id\":\"q\",\"title\":\"t\",\"tags\":null,"
			 "\"is_short\":1,\"extra\":{\"a\":\"b\"},\"cluster\":{\"macro\":2},"
			 "\"views\":7,\"other\":{\"x\":[1,2]}}";
	cJSON *o = cJSON_Parse(in);
	assert_non_null(o);
	pd_video v;
	pd_err err;
	assert_int_equal(pd_video_from_json(o, &v, &err), 0);
	pd_buf extra = PD_BUF_INIT, rest = PD_BUF_INIT, b = PD_BUF_INIT;
	pd_video_rest_from_json(o, &v, &extra, &rest);
	v.extra = extra.p;
	v.extra_len = extra.len;
	v.rest = rest.p;
	v.rest_len = rest.len;
	pd_video_write(&b, &v);
	/* the struct's members first, in order; values of another type kept in rest */
	assert_string_equal(b.p, "{\"type\":\"video\",\"id\":\"q\",\"title\":\"t\",\"views\":7,"
				 "\"extra\":{\"a\":\"b\"},\"tags\":null,\"is_short\":1,"
				 "\"cluster\":{\"macro\":2},\"other\":{\"x\":[1,2]}}\n");
	pd_video_release(&v);
	cJSON_Delete(o);
	pd_buf_release(&extra);
	pd_buf_release(&rest);
	pd_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(canonical_order),
		cmocka_unit_test(rest_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
