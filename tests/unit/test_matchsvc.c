/*
 * test_matchsvc.c — unit tests of lib/matchsvc.c, the match session: two
 * sessions with other options, fed line by line in turns, answer exactly as
 * each does alone (a session keeps all its state in itself); a batch gives
 * the answers of one line at a time; rejections come back through the
 * caller's function with their file, line and bytes, in input order; a
 * pattern file that cannot be read is PD_EUSAGE at the first video.  The
 * examples' patterns and hierarchy (examples/match-*.ndjson, under PD_TOP).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/matchsvc.h"
#include "../../lib/match.h"

typedef struct sink {
	pd_buf out;		/* the answers */
	pd_buf rejects;		/* "LINE: message\n" each */
	int answers, warnings;
} sink;

static void on_answer(void *ud, size_t from)
{
	(void)from;
	((sink *)ud)->answers++;
}

static void on_reject(void *ud, const char *file, long lineno, const char *line, size_t len,
		      const char *msg)
{
	sink *k = ud;
	(void)file;
	(void)line;
	(void)len;
	pd_buf_printf(&k->rejects, "%ld: %s\n", lineno, msg);
}

static void on_warn(void *ud, const char *msg)
{
	(void)msg;
	((sink *)ud)->warnings++;
}

static char path_p[512], path_c[512];

static void paths(void)
{
	const char *top = getenv("PD_TOP");
	if (!top)
		top = ".";
	snprintf(path_p, sizeof path_p, "%s/examples/match-patterns.ndjson", top);
	snprintf(path_c, sizeof path_c, "%s/examples/match-clusters.ndjson", top);
}

static pd_msvc *session(sink *k, int group, int recommend, int batch, const char *patterns)
{
	memset(k, 0, sizeof *k);
	pd_msvc_opts o = { 0 };
	o.patterns_path = patterns;
	o.clusters_path = path_c;
	o.group = group;
	o.recommend = recommend;
	o.batch = batch;
	o.use_cache = 0;
	o.max_line = 1 << 20;
	pd_msvc_io io = { k, &k->out, on_answer, on_reject, on_warn };
	pd_err err;
	pd_msvc *ms = pd_msvc_new(&o, &io, &err);
	assert_non_null(ms);
	return ms;
}

/* the input: the examples' videos, a draft without a model, a wrong dimension, a bad line */
static const char *const lines[] = {
	"{\"type\":\"video\",\"id\":\"v1\",\"title\":\"How to bake bread\",\"duration_s\":400,\"embedding\":[1,0,0,0]}",
	"{\"type\":\"video\",\"id\":\"v2\",\"title\":\"Why is bread so good?\",\"duration_s\":400,\"embedding\":[0.8,0.6,0,0]}",
	"{\"type\":\"draft\",\"title\":\"How to grill\"}",
	"{\"type\":\"video\",\"id\":\"v3\",\"title\":\"Quick tip\",\"duration_s\":30,\"embedding\":[0,1,0.1,0]}",
	"{\"type\":\"video\",\"id\":\"short\",\"title\":\"x\",\"embedding\":[1,0]}",
	"{\"type\":\"video\",\"title\":\"no id\",\"embedding\":[1,0,0,0]}",
	"{\"type\":\"video\",\"id\":\"v6\",\"title\":\"Rye bread at home\",\"duration_s\":500,\"embedding\":[0.89,0.456,0,0]}",
};
enum { NL = sizeof lines / sizeof lines[0] };

static int take(pd_msvc *ms, int i)
{
	pd_err err;
	int draft = strstr(lines[i], "\"draft\"") != NULL;
	int rc = pd_msvc_take(ms, "in", i + 1, lines[i], strlen(lines[i]), draft, &err);
	assert_true(rc >= 0);
	if (pd_msvc_full(ms))
		assert_int_equal(pd_msvc_flush(ms, &err), 0);
	return rc;
}

static void alone(int group, int recommend, int batch, sink *k)
{
	pd_msvc *ms = session(k, group, recommend, batch, path_p);
	pd_err err;
	for (int i = 0; i < NL; i++)
		take(ms, i);
	assert_int_equal(pd_msvc_flush(ms, &err), 0);
	pd_msvc_free(ms);
}

static void sink_release(sink *k)
{
	pd_buf_release(&k->out);
	pd_buf_release(&k->rejects);
}

static void test_sessions_apart(void **state)
{
	(void)state;
	paths();
	sink a1, b1, a2, b2, a3;
	alone(0, 0, 1, &a1);
	alone(1, PD_RECOMMEND, 1, &b1);
	/* what was answered and rejected, in order */
	assert_int_equal(a1.answers, 4);
	assert_string_equal(a1.rejects.p,
			    "3: draft 'draft:d35b54079351531e' has no embedding and no --embed-model or PD_EMBED_URL was given\n"
			    "5: 'short': embedding has 2 dimensions, the patterns have 4\n"
			    "6: video record without a string \"id\"\n");
	assert_non_null(strstr(a1.out.p, "{\"type\":\"match\",\"video_id\":\"v1\""));
	assert_non_null(strstr(b1.out.p, "{\"type\":\"match_group\",\"video_id\":\"v6\",\"cluster\":{\"macro\":\"food\",\"meso\":\"food.grill\",\"micro\":\"c-grill\"}"));
	/* in turns, two sessions at once */
	pd_msvc *x = session(&a2, 0, 0, 1, path_p), *y = session(&b2, 1, PD_RECOMMEND, 1, path_p);
	pd_err err;
	for (int i = 0; i < NL; i++) {
		take(x, i);
		take(y, i);
	}
	assert_int_equal(pd_msvc_flush(x, &err), 0);
	assert_int_equal(pd_msvc_flush(y, &err), 0);
	assert_string_equal(a2.out.p, a1.out.p);
	assert_string_equal(b2.out.p, b1.out.p);
	assert_string_equal(a2.rejects.p, a1.rejects.p);
	/* a batch of 3: the same answers */
	alone(0, 0, 3, &a3);
	assert_string_equal(a3.out.p, a1.out.p);
	pd_msvc_stats st;
	pd_msvc_get_stats(x, &st);
	assert_int_equal(st.answered, 4);
	assert_int_equal(st.loaded, 1);
	assert_int_equal(st.hier, 1);
	assert_int_equal(st.clusters, 12);
	assert_int_equal(st.cache, 0);
	pd_msvc_free(x);
	pd_msvc_free(y);
	sink_release(&a1), sink_release(&b1), sink_release(&a2), sink_release(&b2), sink_release(&a3);
}

static void test_prepared(void **state)
{
	(void)state;
	paths();
	sink a, b;
	alone(1, PD_RECOMMEND, 4, &a);
	pd_msvc *ms = session(&b, 1, PD_RECOMMEND, 4, path_p);
	pd_err err;
	for (int i = 0; i < NL; i++) {
		/* prepared as the reading thread does, with what the patterns need once loaded */
		int loaded;
		unsigned need = pd_msvc_need(ms, &loaded);
		pd_msvc_prep p;
		pd_msvc_prep_init(&p);
		pd_msvc_prepare(ms, &p, lines[i], strlen(lines[i]), need, loaded);
		int rc = p.ok ? pd_msvc_take_prepared(ms, &p, &err) : 0;
		assert_true(rc >= 0);
		if (rc == 0)
			take(ms, i);
		else if (pd_msvc_full(ms))
			assert_int_equal(pd_msvc_flush(ms, &err), 0);
		pd_msvc_prep_release(&p);
	}
	assert_int_equal(pd_msvc_flush(ms, &err), 0);
	assert_string_equal(b.out.p, a.out.p);
	assert_string_equal(b.rejects.p, a.rejects.p);
	pd_msvc_free(ms);
	sink_release(&a), sink_release(&b);
}

static void test_bad_pattern_file(void **state)
{
	(void)state;
	paths();
	sink k;
	pd_msvc *ms = session(&k, 0, 0, 1, "/nonexistent/patterns.ndjson");
	pd_err err;
	assert_int_equal(pd_msvc_take(ms, "in", 1, lines[0], strlen(lines[0]), 0, &err), -1);
	assert_int_equal(err.code, PD_EUSAGE);
	assert_int_equal(k.answers, 0);
	pd_msvc_free(ms);
	sink_release(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sessions_apart),
		cmocka_unit_test(test_prepared),
		cmocka_unit_test(test_bad_pattern_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
