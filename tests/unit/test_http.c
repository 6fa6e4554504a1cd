/*
 * test_http.c — unit tests of lib/http.c's pure parts (escaping, URL
 * redaction, Retry-After, the retryable statuses, defaults from the
 * environment) and of lib/youtube.c's record conversion and error wording.
 * Requests over the network are tested by tests/t0310-http.sh and
 * tests/t0300-fetch-youtube.sh against loopback servers.
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
#include "../../lib/http.h"
#include "../../lib/youtube.h"

static void escape(void **state)
{
	pd_buf b = PD_BUF_INIT;
	pd_http_escape(&b, "UC-x_y.z~ a,b/c?d=e&f@g%h");
	assert_string_equal(b.p, "UC-x_y.z~%20a%2Cb%2Fc%3Fd%3De%26f%40g%25h");
	pd_buf_reset(&b);
	pd_http_escape(&b, "caf\xc3\xa9");
	assert_string_equal(b.p, "caf%C3%A9");
	pd_buf_release(&b);
}

static void redaction(void **state)
{
	struct { const char *in, *out; } t[] = {
		{ "https://www.googleapis.com/youtube/v3/videos?id=a&key=SECRET",
		  "https://www.googleapis.com/youtube/v3/videos" },
		{ "http://user:pass@127.0.0.1:8080/v1/x?k=1#f", "http://127.0.0.1:8080/v1/x" },
		{ "http://h/p#frag", "http://h/p" },
		{ "http://h/a@b", "http://h/a@b" },	/* an @ in the path is not a login */
		{ "?key=x", "" },
	};
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		char *r = pd_http_url_redacted(t[i].in);
		assert_string_equal(r, t[i].out);
		free(r);
	}
}

static void retry_after(void **state)
{
	double w = -1;
	assert_int_equal(pd_http_parse_retry_after("1", 0, &w), 0);
	assert_true(w == 1);
	assert_int_equal(pd_http_parse_retry_after(" 120 \r\n", 0, &w), 0);
	assert_true(w == 120);
	/* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
	assert_int_equal(pd_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412470, &w), 0);
	assert_true(fabs(w - 10) < 1e-9);
	assert_int_equal(pd_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490, &w), 0);
	assert_true(w == 0);	/* a date in the past: no wait */
	assert_int_equal(pd_http_parse_retry_after("soon", 0, &w), -1);
	assert_int_equal(pd_http_parse_retry_after("", 0, &w), -1);
	assert_int_equal(pd_http_parse_retry_after("5x", 0, &w), -1);
}

static void retryable(void **state)
{
	long yes[] = { 429, 500, 502, 503, 504 };
	long no[] = { 200, 201, 301, 400, 401, 403, 404, 409, 501, 505 };
	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		assert_true(pd_http_status_retryable(yes[i]));
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		assert_false(pd_http_status_retryable(no[i]));
}

static void defaults(void **state)
{
	pd_http_opts o;
	unsetenv("PD_HTTP_TIMEOUT_MS");
	unsetenv("PD_HTTP_MAX_RETRIES");
	pd_http_opts_default(&o);
	assert_int_equal(o.timeout_ms, 30000);
	assert_int_equal(o.connect_timeout_ms, 10000);
	assert_int_equal(o.max_retries, 4);
	assert_null(o.bearer);
	setenv("PD_HTTP_TIMEOUT_MS", "1500", 1);
	setenv("PD_HTTP_MAX_RETRIES", "0", 1);
	pd_http_opts_default(&o);
	assert_int_equal(o.timeout_ms, 1500);
	assert_int_equal(o.max_retries, 0);
	setenv("PD_HTTP_TIMEOUT_MS", "junk", 1);	/* ignored, not 0 */
	pd_http_opts_default(&o);
	assert_int_equal(o.timeout_ms, 30000);
	unsetenv("PD_HTTP_TIMEOUT_MS");
	unsetenv("PD_HTTP_MAX_RETRIES");
}

/* a request to a port nobody listens on, no retries: -1, PD_ESERVICE, no query in the message */
static void refused(void **state)
{
	pd_http_opts o;
	pd_http_opts_default(&o);
	o.max_retries = 0;
	pd_http_resp r = PD_HTTP_RESP_INIT;
	pd_err err;
	int rc = pd_http_request("GET", "http://127.0.0.1:1/x?key=SECRET", NULL, 0, NULL, &o, &r, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, PD_ESERVICE);
	assert_int_equal(r.attempts, 1);
	assert_non_null(strstr(err.msg, "GET http://127.0.0.1:1/x: "));
	assert_null(strstr(err.msg, "SECRET"));
	pd_http_resp_release(&r);
	/* an unsupported scheme is not retried whatever max_retries says */
	o.max_retries = 3;
	rc = pd_http_request("GET", "ftp://127.0.0.1:1/x", NULL, 0, NULL, &o, &r, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(r.attempts, 1);
	pd_http_resp_release(&r);
}

static cJSON *item(const char *stats, const char *dur, const char *live, const char *cat)
{
	char buf[1024];
	snprintf(buf, sizeof buf,
		 "{\"kind\":\"youtube#video\",\"id\":\"abc\",\"snippet\":{\"publishedAt\":"
		 "\"2024-01-02T03:04:05.000Z\",\"channelId\":\"UCx\",\"channelTitle\":\"X\","
		 "\"title\":\"T\",\"description\":\"D\",\"categoryId\":\"%s\","
		 "\"liveBroadcastContent\":\"%s\"},\"statistics\":%s,"
		 "\"contentDetails\":{\"duration\":\"%s\"}}", cat, live, stats, dur);
	cJSON *j = cJSON_Parse(buf);
	assert_non_null(j);
	return j;
}

static void youtube_record(void **state)
{
	pd_err err;
	cJSON *it = item("{\"viewCount\":\"123456789012\",\"likeCount\":\"7\",\"commentCount\":\"0\"}",
			 "PT1H2M3S", "none", "28");
	cJSON *r = pd_youtube_video_record(it, "2024-02-01T00:00:00+01:00", &err);
	assert_non_null(r);
	char *s = cJSON_PrintUnformatted(r);
	assert_string_equal(s,
		"{\"type\":\"video\",\"id\":\"abc\",\"channel_id\":\"UCx\",\"channel_title\":\"X\","
		"\"title\":\"T\",\"description\":\"D\",\"tags\":[],\"category\":\"Science & Technology\","
		"\"category_id\":\"28\",\"published_at\":\"2024-01-02T03:04:05Z\","
		"\"observed_at\":\"2024-01-31T23:00:00Z\",\"duration_s\":3723,\"views\":123456789012,"
		"\"likes\":7,\"comments\":0,\"is_short\":false,"
		"\"extra\":{\"live_broadcast_content\":\"none\"}}");
	free(s);
	cJSON_Delete(r);
	cJSON_Delete(it);

	/* hidden likes, comments off, a bad count, an upcoming premiere, unknown category */
	it = item("{\"viewCount\":\"12x\"}", "P0D", "upcoming", "77");
	r = pd_youtube_video_record(it, "2024-02-01T00:00:00Z", &err);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "views")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "likes")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "comments")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "duration_s")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "is_short")));
	assert_string_equal(pd_json_str(r, "category"), "77");
	cJSON_Delete(r);
	cJSON_Delete(it);

	it = item("{}", "P1DT2H3M4S", "none", "10");
	r = pd_youtube_video_record(it, "2024-02-01T00:00:00Z", &err);
	assert_true(pd_json_num(r, "duration_s", -1) == 93784);
	assert_string_equal(pd_json_str(r, "category"), "Music");
	cJSON_Delete(r);
	cJSON_Delete(it);

	it = cJSON_Parse("{\"snippet\":{}}");
	assert_null(pd_youtube_video_record(it, "2024-02-01T00:00:00Z", &err));
	assert_int_equal(err.code, PD_EREC);
	cJSON_Delete(it);
}

static void youtube_errors(void **state)
{
	pd_err err;
	pd_youtube_error(403, "{\"error\":{\"code\":403,\"message\":\"The request cannot be completed "
			 "because you have exceeded your <a href=\\\"/x\\\">quota</a>.\",\"errors\":"
			 "[{\"reason\":\"quotaExceeded\",\"domain\":\"youtube.quota\"}]}}",
			 "videos.list", &err);
	assert_int_equal(err.code, PD_ESERVICE);
	assert_string_equal(err.msg, "YouTube API quota exhausted (quotaExceeded, HTTP 403 on "
			    "videos.list: The request cannot be completed because you have exceeded "
			    "your quota); the daily quota resets at midnight Pacific time");
	pd_youtube_error(400, "{\"error\":{\"code\":400,\"message\":\"Bad\",\"errors\":"
			 "[{\"reason\":\"keyInvalid\"}]}}", "channels.list", &err);
	assert_non_null(strstr(err.msg, "YOUTUBE_API_KEY is not valid"));
	pd_youtube_error(502, "<html>gateway</html>", "videos.list", &err);
	assert_string_equal(err.msg, "YouTube API error on videos.list: HTTP 502");
	pd_youtube_error(403, "{\"error\":{\"message\":\"Forbidden\",\"errors\":[{\"reason\":"
			 "\"forbidden\"}]}}", "videos.list", &err);
	assert_string_equal(err.msg, "YouTube API error on videos.list: HTTP 403 forbidden: Forbidden");
}

static void youtube_no_key(void **state)
{
	pd_youtube_opts o = { 0 };
	o.observed_at = "2024-01-01T00:00:00Z";
	o.api_key = "";
	unsetenv("YOUTUBE_API_KEY");
	const char *ch[] = { "UCx" };
	pd_youtube_stats st;
	pd_err err;
	o.api_key = NULL;
	assert_int_equal(pd_youtube_fetch_channels(ch, 1, &o, &st, &err), -1);
	assert_int_equal(err.code, PD_EUSAGE);
	assert_non_null(strstr(err.msg, "YOUTUBE_API_KEY is not set"));
	assert_int_equal(st.quota_units, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape),
		cmocka_unit_test(redaction),
		cmocka_unit_test(retry_after),
		cmocka_unit_test(retryable),
		cmocka_unit_test(defaults),
		cmocka_unit_test(refused),
		cmocka_unit_test(youtube_record),
		cmocka_unit_test(youtube_errors),
		cmocka_unit_test(youtube_no_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
