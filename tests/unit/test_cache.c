/*
 * test_cache.c — unit tests of lib/cache.c (Redis) and the binary COPY
 * encoders of lib/db.c: REDIS_URL parsing, an absent cache, a server that
 * does not exist, one that never answers (the command timeout), and, when
 * REDIS_URL is set (tests/run starts a private Redis), real get/set/TTL,
 * pipelined multi-get/set, the generation counter, and a connection dropped
 * under the cache (EPIPE with SIGPIPE ignored, as the commands run: the
 * cache goes down, reports once, and answers misses), a lasting cache
 * that reconnects with backoff, and INFO's hit figures (pd_cache_info).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <hiredis/hiredis.h>
#include "../../lib/pd.h"
#include "../../lib/cache.h"
#include "../../lib/db.h"

static void url_parsing(void **state)
{
	pd_cache_url u;
	pd_err err;
	assert_int_equal(pd_cache_parse_url("unix:///tmp/x/redis.sock", &u, &err), 0);
	assert_string_equal(u.path, "/tmp/x/redis.sock");
	assert_null(u.host);
	assert_int_equal(u.db, 0);
	pd_cache_url_release(&u);
	assert_int_equal(pd_cache_parse_url("unix:///tmp/r.sock?db=3", &u, &err), 0);
	assert_int_equal(u.db, 3);
	pd_cache_url_release(&u);
	assert_int_equal(pd_cache_parse_url("redis://cache.example:6380/2", &u, &err), 0);
	assert_string_equal(u.host, "cache.example");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 2);
	assert_null(u.password);
	pd_cache_url_release(&u);
	assert_int_equal(pd_cache_parse_url("redis://:p%40ss@10.0.0.1:7000", &u, &err), 0);
	assert_string_equal(u.host, "10.0.0.1");
	assert_int_equal(u.port, 7000);
	assert_string_equal(u.password, "p@ss");
	assert_null(u.user);
	pd_cache_url_release(&u);
	assert_int_equal(pd_cache_parse_url("redis://alice:pw@h", &u, &err), 0);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.password, "pw");
	assert_int_equal(u.port, 6379);
	pd_cache_url_release(&u);
	assert_int_equal(pd_cache_parse_url("redis://[::1]:6390/1", &u, &err), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6390);
	pd_cache_url_release(&u);
	const char *bad[] = { "http://x", "redis://h:99999", "redis://h:abc", "redis://h/x",
			      "unix://relative", "unix:///a?db=x", "rediss://h", "redis://h:/1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err.code = 0;
		assert_int_equal(pd_cache_parse_url(bad[i], &u, &err), -1);
		assert_int_equal(err.code, PD_EUSAGE);
	}
}

static void absent_cache(void **state)
{
	pd_err err;
	pd_buf v = PD_BUF_INIT;
	assert_int_equal(pd_cache_get(NULL, "k", &v), 0);
	pd_cache_set(NULL, "k", "v", 1, 10);
	const char *keys[2] = { "a", "b" };
	pd_buf vals[2] = { PD_BUF_INIT, PD_BUF_INIT };
	int hit[2] = { 1, 1 };
	assert_int_equal(pd_cache_mget(NULL, keys, 2, vals, hit), 0);
	assert_int_equal(hit[0] + hit[1], 0);
	assert_int_equal(pd_cache_gen(NULL), 0);
	assert_int_equal(pd_cache_bump_gen(NULL, &err), -1);
	assert_int_equal(pd_cache_up(NULL), 0);
	assert_int_equal(pd_cache_take_error(NULL, &err), 0);
	pd_cache_free(NULL);

	char *saved = getenv("REDIS_URL") ? strdup(getenv("REDIS_URL")) : NULL;
	unsetenv("REDIS_URL");
	err.code = 99;
	assert_null(pd_cache_open(NULL, 0, 0, &err));
	assert_int_equal(err.code, PD_OK);	/* not configured is not an error */
	if (saved) {
		setenv("REDIS_URL", saved, 1);
		free(saved);
	}
	assert_null(pd_cache_open("unix:///nonexistent/dir/redis.sock", 200, 200, &err));
	assert_int_equal(err.code, PD_ESERVICE);
	assert_non_null(strstr(err.msg, "cannot connect"));
	assert_null(pd_cache_open("redis://127.0.0.1:1", 200, 200, &err));
	assert_int_equal(err.code, PD_ESERVICE);
	assert_null(pd_cache_open("bogus://", 200, 200, &err));
	assert_int_equal(err.code, PD_EUSAGE);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A unix socket that accepts connections (backlog) but never answers. */
static void silent_server(void **state)
{
	char path[] = "/tmp/pd-cache-test-XXXXXX";
	assert_non_null(mkdtemp(path));
	char sock[96];
	snprintf(sock, sizeof sock, "%s/s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 4), 0);
	char url[160];
	snprintf(url, sizeof url, "unix://%s", sock);
	pd_err err;
	pd_cache *c = pd_cache_open(url, 300, 300, &err);
	assert_non_null(c);
	pd_buf v = PD_BUF_INIT;
	double t0 = now_s();
	assert_int_equal(pd_cache_get(c, "k", &v), 0);	/* times out: a miss */
	double dt = now_s() - t0;
	assert_true(dt >= 0.2 && dt < 2.0);
	assert_int_equal(pd_cache_up(c), 0);
	assert_int_equal(pd_cache_take_error(c, &err), 1);
	assert_int_equal(pd_cache_take_error(c, &err), 0);	/* once */
	t0 = now_s();
	assert_int_equal(pd_cache_get(c, "k", &v), 0);	/* down: no wait at all */
	assert_true(now_s() - t0 < 0.05);
	unsigned long long h, m;
	pd_cache_stats(c, &h, &m);
	assert_int_equal(h, 0);
	assert_int_equal(m, 2);
	pd_cache_free(c);
	pd_buf_release(&v);
	close(fd);
	unlink(sock);
	rmdir(path);
}

/*
 * A lasting cache: kept when the server is not there, reconnected when it
 * is, attempts spaced by the backoff on the caller's clock (a server that
 * accepts but never answers makes each attempt cost its 250 ms PING bound,
 * a skipped one costs nothing).
 */
static void lasting_cache(void **state)
{
	char path[] = "/tmp/pd-cache-test-XXXXXX";
	assert_non_null(mkdtemp(path));
	char sock[96], url[160];
	snprintf(sock, sizeof sock, "%s/s", path);
	snprintf(url, sizeof url, "unix://%s", sock);
	pd_err err;
	assert_null(pd_cache_open(url, 200, 200, &err));	/* the plain open gives up */
	pd_cache *c = pd_cache_open_lasting(url, 200, 200, &err);
	assert_non_null(c);
	assert_int_equal(err.code, PD_ESERVICE);
	assert_int_equal(pd_cache_up(c), 0);
	assert_int_equal(pd_cache_take_error(c, &err), 1);
	assert_non_null(strstr(err.msg, "cannot connect"));
	assert_int_equal(pd_cache_take_error(c, &err), 0);
	assert_null(pd_cache_open_lasting("bogus://", 200, 200, &err));
	assert_int_equal(err.code, PD_EUSAGE);

	/* a socket that accepts and never answers */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a;
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	/* attempts due at 100, then 0.25 s later, then 0.5 s after that */
	static const struct { double at; int tries; } plan[] = {
		{ 100.0, 1 }, { 100.2, 0 }, { 100.3, 1 }, { 100.7, 0 }, { 100.8, 1 }, { 101.7, 0 },
	};
	for (size_t i = 0; i < sizeof plan / sizeof plan[0]; i++) {
		double t0 = now_s();
		assert_int_equal(pd_cache_reconnect(c, plan[i].at), 0);
		double dt = now_s() - t0;
		if (plan[i].tries)
			assert_true(dt >= 0.2 && dt < 2.0);
		else
			assert_true(dt < 0.1);
		assert_int_equal(pd_cache_up(c), 0);
	}
	close(fd);
	unlink(sock);
	rmdir(path);

	/* a real server: the next due attempt brings the cache back */
	if (getenv("REDIS_URL") && *getenv("REDIS_URL")) {
		pd_cache_free(c);
		c = pd_cache_open_lasting(NULL, 0, 0, &err);
		assert_true(pd_cache_up(c));
		long long h = -1, m = -1;
		assert_int_equal(pd_cache_info(c, &h, &m, &err), 0);
		assert_true(h >= 0 && m >= 0);
	}
	pd_cache_free(c);
}

static void real_redis(void **state)
{
	if (!getenv("REDIS_URL") || !*getenv("REDIS_URL"))
		skip();
	pd_err err;
	pd_cache *c = pd_cache_open(NULL, 0, 0, &err);
	if (!c) {
		print_message("# %s\n", err.msg);
		fail();
	}
	pd_buf v = PD_BUF_INIT;
	static const char bin[5] = { 'a', 0, 'b', '\n', 'c' };
	pd_cache_set(c, "pd:test:k1", bin, sizeof bin, 60);
	assert_int_equal(pd_cache_get(c, "pd:test:k1", &v), 1);
	assert_int_equal(v.len, 5);
	assert_memory_equal(v.p, bin, 5);
	assert_int_equal(pd_cache_get(c, "pd:test:absent", &v), 0);
	assert_int_equal(v.len, 0);
	pd_cache_set(c, "pd:test:short", "x", 1, 1);	/* TTL 1 s */
	assert_int_equal(pd_cache_get(c, "pd:test:short", &v), 1);
	usleep(2100 * 1000);
	assert_int_equal(pd_cache_get(c, "pd:test:short", &v), 0);

	enum { N = 300 };
	char *keys[N], *vals[N];
	size_t lens[N];
	for (int i = 0; i < N; i++) {
		keys[i] = xmalloc(32);
		vals[i] = xmalloc(32);
		snprintf(keys[i], 32, "pd:test:m%d", i);
		lens[i] = (size_t)snprintf(vals[i], 32, "value %d", i * 7);
	}
	pd_cache_mset(c, (const char *const *)keys, (const char *const *)vals, lens, N / 2, 60);
	pd_buf got[N];
	int hit[N];
	for (int i = 0; i < N; i++)
		got[i] = (pd_buf)PD_BUF_INIT;
	assert_int_equal(pd_cache_mget(c, (const char *const *)keys, N, got, hit), N / 2);
	for (int i = 0; i < N; i++) {
		assert_int_equal(hit[i], i < N / 2);
		if (hit[i])
			assert_string_equal(got[i].p, vals[i]);
		else
			assert_int_equal(got[i].len, 0);
	}
	long long g0 = pd_cache_gen(c);
	assert_int_equal(pd_cache_bump_gen(c, &err), g0 + 1);
	assert_int_equal(pd_cache_gen(c), g0 + 1);
	assert_true(pd_cache_up(c));

	/* the connection dropped under the cache: a failed command, not SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	redisContext *k = NULL;
	pd_cache_url u;
	assert_int_equal(pd_cache_parse_url(getenv("REDIS_URL"), &u, &err), 0);
	k = u.path ? redisConnectUnix(u.path) : redisConnect(u.host, u.port);
	assert_true(k && !k->err);
	if (u.password) {
		redisReply *ra = redisCommand(k, "AUTH %s", u.password);
		freeReplyObject(ra);
	}
	redisReply *r = redisCommand(k, "CLIENT KILL TYPE normal SKIPME yes");
	assert_non_null(r);
	freeReplyObject(r);
	redisFree(k);
	pd_cache_url_release(&u);
	for (int i = 0; i < 5; i++)
		pd_cache_set(c, "pd:test:after", "v", 1, 60);
	assert_int_equal(pd_cache_get(c, "pd:test:k1", &v), 0);
	assert_int_equal(pd_cache_up(c), 0);
	assert_int_equal(pd_cache_take_error(c, &err), 1);
	assert_non_null(strstr(err.msg, "redis:"));
	assert_int_equal(pd_cache_mget(c, (const char *const *)keys, N, got, hit), 0);
	assert_int_equal(pd_cache_bump_gen(c, &err), -1);
	/* the server is still there: reconnecting brings the cache back, and
	   the next failure is reported anew */
	assert_int_equal(pd_cache_reconnect(c, now_s()), 1);
	assert_true(pd_cache_up(c));
	assert_int_equal(pd_cache_take_error(c, &err), 0);
	assert_int_equal(pd_cache_get(c, "pd:test:k1", &v), 1);
	assert_int_equal(v.len, 5);
	assert_int_equal(pd_cache_reconnect(c, now_s()), 0);	/* up: nothing to do */
	long long ih = -1, im = -1;
	assert_int_equal(pd_cache_info(c, &ih, &im, &err), 0);
	assert_true(ih >= 1 && im >= 1);
	pd_cache_free(c);
	for (int i = 0; i < N; i++) {
		free(keys[i]);
		free(vals[i]);
		pd_buf_release(&got[i]);
	}
	pd_buf_release(&v);
}

/* The binary COPY encoders against hand-computed bytes. */
static void copy_encoding(void **state)
{
	pd_buf b = PD_BUF_INIT;
	pd_copy_int4(&b, 0x01020304);
	assert_memory_equal(b.p, "\0\0\0\4\1\2\3\4", 8);
	pd_buf_reset(&b);
	const float v[2] = { 1.0f, -2.0f };	/* 0x3f800000, 0xc0000000 */
	pd_copy_vector(&b, v, 2);
	assert_int_equal(b.len, 16);
	assert_memory_equal(b.p, "\0\0\0\x0c\0\2\0\0\x3f\x80\0\0\xc0\0\0\0", 16);
	pd_buf_reset(&b);
	pd_copy_timestamptz(&b, 946684800.0 + 1.5);	/* 1.5 s after 2000-01-01 */
	assert_memory_equal(b.p, "\0\0\0\x08\0\0\0\0\0\x16\xe3\x60", 12);
	pd_buf_reset(&b);
	const char *tags[2] = { "a", "bc" };
	pd_copy_text_array(&b, tags, 2);
	assert_int_equal(b.len, 4 + 20 + 5 + 6);
	pd_buf_reset(&b);
	pd_copy_jsonb(&b, "{}", 2);
	assert_memory_equal(b.p, "\0\0\0\3\1{}", 7);
	pd_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(url_parsing),
		cmocka_unit_test(absent_cache),
		cmocka_unit_test(silent_server),
		cmocka_unit_test(lasting_cache),
		cmocka_unit_test(real_redis),
		cmocka_unit_test(copy_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
