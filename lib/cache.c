/*
 * cache.c — a Redis cache that can be absent or fail without failing anyone
 * (see cache.h for the contract).
 *
 * hiredis 0.14's blocking API: redisConnect(Unix)WithTimeout bounds the
 * connect, redisSetTimeout every later read and write.  Every reply is
 * checked: a NULL reply (I/O error, timeout, EOF) or an error reply marks the
 * cache down with the reason; from then on nothing is sent.  A dropped
 * connection may leave the context unusable, so it is never reused: a
 * command that lives long (pd-match as a coprocess) opens its cache with
 * pd_cache_open_lasting and calls pd_cache_reconnect between answers, which
 * throws the old context away and connects afresh, at most once per backoff
 * delay (0.25 s doubling to 5 s), each attempt bounded by a short connect
 * and PING timeout, so a Redis that stays away costs one failed connect
 * every 5 s and never a wait per answer.
 * Multi-gets and multi-sets are pipelined (redisAppendCommand then one
 * redisGetReply per command), one round trip for the lot.
 */
#include "pd.h"
#include "cache.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <hiredis/hiredis.h>

struct pd_cache {
	redisContext *ctx;
	int down;		/* failed: everything is a miss from now on */
	int reported;		/* pd_cache_take_error has handed the reason over */
	char why[400];
	unsigned long long hits, misses;
	/* for pd_cache_reconnect */
	char *url;
	int connect_ms, cmd_ms;
	double next_try, delay;	/* the next attempt's time (caller's clock), the backoff */
};

#define RETRY_FIRST 0.25	/* seconds before the first reconnect attempt after a failed one */
#define RETRY_MAX 5.0		/* the longest wait between attempts */
#define RETRY_MS 250		/* connect and PING bound of a reconnect attempt */

/* ---- URL --------------------------------------------------------------- */

static char *pct_decode(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
		    isxdigit((unsigned char)s[i + 2])) {
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			o[j++] = (char)strtol(hex, NULL, 16);
			i += 2;
		} else
			o[j++] = s[i];
	}
	o[j] = 0;
	return o;
}

void pd_cache_url_release(pd_cache_url *u)
{
	free(u->path);
	free(u->host);
	free(u->user);
	free(u->password);
	memset(u, 0, sizeof *u);
}

static int parse_db(const char *s, int *db)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 1000000)
		return -1;
	*db = (int)v;
	return 0;
}

int pd_cache_parse_url(const char *url, pd_cache_url *u, pd_err *err)
{
	memset(u, 0, sizeof *u);
	u->port = 6379;
	if (!strncmp(url, "unix://", 7)) {
		const char *p = url + 7;
		const char *q = strchr(p, '?');
		size_t n = q ? (size_t)(q - p) : strlen(p);
		if (n == 0 || p[0] != '/')
			return pd_err_set(err, PD_EUSAGE, "REDIS_URL '%s': expected unix:///path", url);
		u->path = pct_decode(p, n);
		if (q) {
			if (strncmp(q, "?db=", 4) || parse_db(q + 4, &u->db) < 0) {
				pd_cache_url_release(u);
				return pd_err_set(err, PD_EUSAGE, "REDIS_URL '%s': bad query (want ?db=N)", url);
			}
		}
		return 0;
	}
	if (!strncmp(url, "rediss://", 9))
		return pd_err_set(err, PD_EUSAGE, "REDIS_URL '%s': TLS (rediss://) is not supported", url);
	if (strncmp(url, "redis://", 8))
		return pd_err_set(err, PD_EUSAGE,
				  "REDIS_URL '%s': expected redis://[:password@]host:port/db or unix:///path",
				  url);
	const char *p = url + 8;
	const char *slash = strchr(p, '/');
	const char *hostend = slash ? slash : p + strlen(p);
	const char *at = NULL;
	for (const char *s = p; s < hostend; s++)
		if (*s == '@')
			at = s;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));
		if (colon) {
			if (colon > p)
				u->user = pct_decode(p, (size_t)(colon - p));
			u->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
		} else {
			u->password = pct_decode(p, (size_t)(at - p));	/* redis://password@host */
		}
		p = at + 1;
	}
	const char *hs = p, *he = hostend, *port = NULL;
	if (*hs == '[') {	/* [::1]:6379 */
		const char *rb = memchr(hs, ']', (size_t)(he - hs));
		if (!rb)
			goto bad;
		port = rb + 1 < he && rb[1] == ':' ? rb + 2 : NULL;
		u->host = xstrndup(hs + 1, (size_t)(rb - hs - 1));
	} else {
		const char *colon = memchr(hs, ':', (size_t)(he - hs));
		if (colon)
			port = colon + 1;
		u->host = xstrndup(hs, (size_t)((colon ? colon : he) - hs));
	}
	if (!*u->host) {
		free(u->host);
		u->host = xstrdup("127.0.0.1");
	}
	if (port) {
		char pb[8];
		size_t pn = (size_t)(he - port);
		if (pn == 0 || pn >= sizeof pb)
			goto bad;
		memcpy(pb, port, pn);
		pb[pn] = 0;
		int pv;
		if (parse_db(pb, &pv) < 0 || pv < 1 || pv > 65535)
			goto bad;
		u->port = pv;
	}
	if (slash && slash[1] && parse_db(slash + 1, &u->db) < 0)
		goto bad;
	return 0;
bad:
	pd_cache_url_release(u);
	return pd_err_set(err, PD_EUSAGE, "REDIS_URL '%s' is malformed", url);
}

/* ---- connection -------------------------------------------------------- */

static void mark_down(pd_cache *c, const char *what)
{
	if (c->down)
		return;
	c->down = 1;
	const char *why = c->ctx && c->ctx->err ? c->ctx->errstr : "no reply";
	snprintf(c->why, sizeof c->why, "redis: %s: %s", what, why);
}

/* check: reply r of command what; NULL or an error reply marks the cache down. */
static int check(pd_cache *c, redisReply *r, const char *what)
{
	if (!r) {
		mark_down(c, what);
		return -1;
	}
	if (r->type == REDIS_REPLY_ERROR) {
		if (!c->down) {
			c->down = 1;
			snprintf(c->why, sizeof c->why, "redis: %s: %.*s", what,
				 (int)(r->len > 300 ? 300 : r->len), r->str);
		}
		return -1;
	}
	return 0;
}

static struct timeval tv_ms(int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	return tv;
}

/*
 * dial: a new connection for c (any old one closed first), with AUTH and
 * SELECT as the URL says and, when ping, a PING: the server answers, not
 * just the kernel.  0 and c up, or -1 with err (PD_ESERVICE) and c down
 * (its reason set).  connect_ms bounds the connect, cmd_ms each command.
 */
static int dial(pd_cache *c, int connect_ms, int cmd_ms, int ping, pd_err *err)
{
	pd_cache_url u;
	if (pd_cache_parse_url(c->url, &u, err) < 0)
		return -1;
	if (c->ctx)
		redisFree(c->ctx);
	c->down = 0;
	c->why[0] = 0;
	redisContext *ctx = u.path ? redisConnectUnixWithTimeout(u.path, tv_ms(connect_ms))
				   : redisConnectWithTimeout(u.host, u.port, tv_ms(connect_ms));
	c->ctx = ctx;
	if (!ctx || ctx->err) {
		c->down = 1;
		if (u.path)
			snprintf(c->why, sizeof c->why, "redis: cannot connect to %s: %s", u.path,
				 ctx ? ctx->errstr : "out of memory");
		else
			snprintf(c->why, sizeof c->why, "redis: cannot connect to %s:%d: %s", u.host,
				 u.port, ctx ? ctx->errstr : "out of memory");
		if (ctx)
			redisFree(ctx);
		c->ctx = NULL;
	}
	if (!c->down && redisSetTimeout(ctx, tv_ms(cmd_ms)) != REDIS_OK)
		mark_down(c, "setting the timeout");
	if (!c->down && u.password) {
		redisReply *r = u.user ? redisCommand(ctx, "AUTH %s %s", u.user, u.password)
				       : redisCommand(ctx, "AUTH %s", u.password);
		check(c, r, "AUTH");
		if (r)
			freeReplyObject(r);
	}
	if (!c->down && u.db) {
		redisReply *r = redisCommand(ctx, "SELECT %d", u.db);
		check(c, r, "SELECT");
		if (r)
			freeReplyObject(r);
	}
	if (!c->down && ping) {
		redisReply *r = redisCommand(ctx, "PING");
		check(c, r, "PING");
		if (r)
			freeReplyObject(r);
	}
	pd_cache_url_release(&u);
	if (c->down)
		return pd_err_set(err, PD_ESERVICE, "%s", c->why);
	return 0;
}

/* open: the cache of url (NULL: REDIS_URL); lasting: kept, down, when the first connect fails */
static pd_cache *open_cache(const char *url, int connect_ms, int cmd_ms, int lasting, pd_err *err)
{
	pd_err_clear(err);
	if (!url) {
		url = getenv("REDIS_URL");
		if (!url || !*url)
			return NULL;
	}
	pd_cache_url u;
	if (pd_cache_parse_url(url, &u, err) < 0)
		return NULL;
	pd_cache_url_release(&u);
	pd_cache *c = xcalloc(1, sizeof *c);
	c->url = xstrdup(url);
	c->connect_ms = connect_ms > 0 ? connect_ms : 1000;
	c->cmd_ms = cmd_ms > 0 ? cmd_ms : 1000;
	if (dial(c, c->connect_ms, c->cmd_ms, 0, err) < 0 && !lasting) {
		pd_cache_free(c);
		return NULL;
	}
	return c;
}

pd_cache *pd_cache_open(const char *url, int connect_ms, int cmd_ms, pd_err *err)
{
	return open_cache(url, connect_ms, cmd_ms, 0, err);
}

pd_cache *pd_cache_open_lasting(const char *url, int connect_ms, int cmd_ms, pd_err *err)
{
	return open_cache(url, connect_ms, cmd_ms, 1, err);
}

int pd_cache_reconnect(pd_cache *c, double now)
{
	if (!c || !c->down || now < c->next_try)
		return 0;
	int ms = c->connect_ms < RETRY_MS ? c->connect_ms : RETRY_MS;
	int cms = c->cmd_ms < RETRY_MS ? c->cmd_ms : RETRY_MS;
	if (dial(c, ms, cms, 1, NULL) == 0 && redisSetTimeout(c->ctx, tv_ms(c->cmd_ms)) == REDIS_OK) {
		c->reported = 0;
		c->delay = 0;
		return 1;
	}
	c->down = 1;
	c->delay = c->delay <= 0 ? RETRY_FIRST : c->delay * 2 > RETRY_MAX ? RETRY_MAX : c->delay * 2;
	c->next_try = now + c->delay;
	return 0;
}

void pd_cache_free(pd_cache *c)
{
	if (!c)
		return;
	if (c->ctx)
		redisFree(c->ctx);
	free(c->url);
	free(c);
}

int pd_cache_up(const pd_cache *c)
{
	return c && !c->down;
}

int pd_cache_take_error(pd_cache *c, pd_err *err)
{
	if (!c || !c->down || c->reported)
		return 0;
	c->reported = 1;
	pd_err_set(err, PD_ESERVICE, "%s", c->why);
	return 1;
}

/* ---- commands ---------------------------------------------------------- */

static int take_value(pd_cache *c, redisReply *r, pd_buf *val)
{
	if (r->type == REDIS_REPLY_STRING) {
		pd_buf_add(val, r->str, r->len);
		c->hits++;
		return 1;
	}
	c->misses++;
	return 0;
}

int pd_cache_get(pd_cache *c, const char *key, pd_buf *val)
{
	pd_buf_reset(val);
	if (!pd_cache_up(c)) {
		if (c)
			c->misses++;
		return 0;
	}
	redisReply *r = redisCommand(c->ctx, "GET %s", key);
	int hit = 0;
	if (check(c, r, "GET") == 0)
		hit = take_value(c, r, val);
	else
		c->misses++;
	if (r)
		freeReplyObject(r);
	return hit;
}

void pd_cache_set(pd_cache *c, const char *key, const void *val, size_t len, int ttl_s)
{
	if (!pd_cache_up(c))
		return;
	redisReply *r = ttl_s > 0 ? redisCommand(c->ctx, "SETEX %s %d %b", key, ttl_s, val, len)
				  : redisCommand(c->ctx, "SET %s %b", key, val, len);
	check(c, r, "SET");
	if (r)
		freeReplyObject(r);
}

size_t pd_cache_mget(pd_cache *c, const char *const *keys, size_t n, pd_buf *vals, int *hit)
{
	for (size_t i = 0; i < n; i++) {
		pd_buf_reset(&vals[i]);
		hit[i] = 0;
	}
	if (!pd_cache_up(c)) {
		if (c)
			c->misses += n;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (redisAppendCommand(c->ctx, "GET %s", keys[i]) != REDIS_OK) {
			mark_down(c, "GET");
			c->misses += n;
			return 0;
		}
	size_t hits = 0;
	for (size_t i = 0; i < n; i++) {
		redisReply *r = NULL;
		if (c->down || redisGetReply(c->ctx, (void **)&r) != REDIS_OK)
			r = NULL;
		if (!c->down && check(c, r, "GET") == 0) {
			hit[i] = take_value(c, r, &vals[i]);
			hits += (size_t)hit[i];
		} else {
			c->misses++;
		}
		if (r)
			freeReplyObject(r);
	}
	if (c->down) {	/* a partial answer is no answer */
		for (size_t i = 0; i < n; i++) {
			pd_buf_reset(&vals[i]);
			hit[i] = 0;
		}
		return 0;
	}
	return hits;
}

/* n SETEX (SET when the TTL is <= 0) pipelined: ttl_one for all, or ttls[i] each */
static void mset(pd_cache *c, const char *const *keys, const char *const *vals,
		 const size_t *lens, size_t n, int ttl_one, const int *ttls)
{
	if (!pd_cache_up(c))
		return;
	for (size_t i = 0; i < n; i++) {
		int ttl_s = ttls ? ttls[i] : ttl_one;
		int rc = ttl_s > 0 ? redisAppendCommand(c->ctx, "SETEX %s %d %b", keys[i], ttl_s,
							vals[i], lens[i])
				   : redisAppendCommand(c->ctx, "SET %s %b", keys[i], vals[i], lens[i]);
		if (rc != REDIS_OK) {
			mark_down(c, "SET");
			return;
		}
	}
	for (size_t i = 0; i < n && !c->down; i++) {
		redisReply *r = NULL;
		if (redisGetReply(c->ctx, (void **)&r) != REDIS_OK)
			r = NULL;
		check(c, r, "SET");
		if (r)
			freeReplyObject(r);
	}
}

void pd_cache_mset(pd_cache *c, const char *const *keys, const char *const *vals,
		   const size_t *lens, size_t n, int ttl_s)
{
	mset(c, keys, vals, lens, n, ttl_s, NULL);
}

void pd_cache_mset_ttls(pd_cache *c, const char *const *keys, const char *const *vals,
			const size_t *lens, const int *ttls, size_t n)
{
	mset(c, keys, vals, lens, n, 0, ttls);
}

long long pd_cache_gen(pd_cache *c)
{
	if (!pd_cache_up(c))
		return 0;
	redisReply *r = redisCommand(c->ctx, "GET pd:gen");
	long long g = 0;
	if (check(c, r, "GET pd:gen") == 0 && r->type == REDIS_REPLY_STRING)
		g = strtoll(r->str, NULL, 10);
	if (r)
		freeReplyObject(r);
	return g;
}

long long pd_cache_bump_gen(pd_cache *c, pd_err *err)
{
	if (!pd_cache_up(c)) {
		if (c)
			pd_err_set(err, PD_ESERVICE, "%s", c->why);
		else
			pd_err_set(err, PD_ESERVICE, "redis: no cache");
		return -1;
	}
	redisReply *r = redisCommand(c->ctx, "INCR pd:gen");
	long long g = -1;
	if (check(c, r, "INCR pd:gen") == 0 && r->type == REDIS_REPLY_INTEGER)
		g = r->integer;
	else if (!c->down) {
		c->down = 1;
		snprintf(c->why, sizeof c->why, "redis: INCR pd:gen: unexpected reply");
	}
	if (r)
		freeReplyObject(r);
	if (g < 0)
		pd_err_set(err, PD_ESERVICE, "%s", c->why);
	return g;
}

void pd_cache_stats(const pd_cache *c, unsigned long long *hits, unsigned long long *misses)
{
	*hits = c ? c->hits : 0;
	*misses = c ? c->misses : 0;
}

/* info_field: the number after "key:" at the start of a line of INFO's text, or -1 */
static long long info_field(const char *s, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = s; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, k) && p[k] == ':')
			return atoll(p + k + 1);
	return -1;
}

int pd_cache_info(pd_cache *c, long long *hits, long long *misses, pd_err *err)
{
	if (!pd_cache_up(c))
		return pd_err_set(err, PD_ESERVICE, "%s", c ? c->why : "redis: no cache");
	redisReply *r = redisCommand(c->ctx, "INFO stats");
	int rc = -1;
	if (check(c, r, "INFO") < 0) {
		pd_err_set(err, PD_ESERVICE, "%s", c->why);
	} else if (r->type != REDIS_REPLY_STRING) {
		pd_err_set(err, PD_ESERVICE, "redis: INFO: unexpected reply");
	} else {
		*hits = info_field(r->str, "keyspace_hits");
		*misses = info_field(r->str, "keyspace_misses");
		if (*hits < 0 || *misses < 0)
			pd_err_set(err, PD_ESERVICE, "redis: INFO stats has no keyspace_hits/misses");
		else
			rc = 0;
	}
	if (r)
		freeReplyObject(r);
	return rc;
}
