/*
 * cache.h — the Redis cache shared by pd-store, pd-match and pd-validate.
 *
 * Redis holds caches only: losing it loses no data, and every command works
 * without it.  So a cache that is absent (REDIS_URL unset: pd_cache_open
 * returns NULL) or that fails (connection refused, timeout, dropped
 * connection, an error reply) behaves as an empty one: gets miss, sets do
 * nothing.  After the first failure the cache marks itself down and sends
 * nothing more (until pd_cache_reconnect, for a long-running command);
 * pd_cache_take_error hands the reason over once so the caller can warn
 * once.  Every function accepts a NULL cache.  This is the one module that
 * talks to Redis (pd-report's INFO figures too: pd_cache_info).
 *
 * Invalidation is by generation, never by scanning keys: pd-store INCRs
 * `pd:gen` after each committed run that changed something; readers GET it
 * once (pd_cache_gen) and put it in their keys ("pd:match:<gen>:..."), so a
 * new run's keys never meet an old run's values, which expire by their TTL.
 *
 * SIGPIPE: hiredis writes with plain write(2); the commands ignore SIGPIPE
 * (cli_init), so a dropped connection is an EPIPE error here, not death.
 *
 * URLs: unix:///path/to/redis.sock[?db=N], redis://[[user]:password@]host[:port][/db].
 */
#ifndef PD_CACHE_H
#define PD_CACHE_H
#include <stddef.h>
#include "buf.h"
#include "err.h"

typedef struct pd_cache pd_cache;

/* Parsed REDIS_URL (pd_cache_parse_url); strings are owned by the struct. */
typedef struct pd_cache_url {
	char *path;		/* unix socket path, or NULL */
	char *host;		/* tcp host, or NULL */
	int port;		/* tcp port (6379 by default) */
	char *user, *password;	/* AUTH (user only with a password), or NULL */
	int db;			/* SELECT db when nonzero */
} pd_cache_url;

/* pd_cache_parse_url: url into u (release with pd_cache_url_release); -1 with err (PD_EUSAGE). */
int pd_cache_parse_url(const char *url, pd_cache_url *u, pd_err *err);
void pd_cache_url_release(pd_cache_url *u);

/*
 * pd_cache_open: connect to url (NULL: REDIS_URL).  Returns the cache, or
 * NULL: with err->code PD_OK when no URL is configured (no cache, not an
 * error), PD_EUSAGE for a malformed URL, PD_ESERVICE when the server cannot
 * be reached or refuses AUTH/SELECT (the caller warns and goes on without).
 * Timeouts: connect_ms to connect, cmd_ms for each command (0: defaults of
 * 1000 ms and 1000 ms).  pd_cache_free closes it (NULL is fine).
 */
pd_cache *pd_cache_open(const char *url, int connect_ms, int cmd_ms, pd_err *err);
void pd_cache_free(pd_cache *c);

/*
 * pd_cache_open_lasting: pd_cache_open for a long-running command: a
 * server that cannot be reached still gives a cache, down (the reason for
 * pd_cache_take_error, and in err), that pd_cache_reconnect can bring back.
 * NULL only when no URL is configured (err PD_OK) or it is malformed
 * (PD_EUSAGE).
 */
pd_cache *pd_cache_open_lasting(const char *url, int connect_ms, int cmd_ms, pd_err *err);
/*
 * pd_cache_reconnect: when c is down and now (seconds, the caller's
 * monotonic clock) has reached the time of the next attempt: a new
 * connection (the old one thrown away), checked with PING; connect and PING
 * bounded by 250 ms.  Returns 1 when c is up again (pd_cache_take_error
 * then reports the next failure anew), 0 otherwise; a failed attempt puts
 * the next one 0.25 s later, doubling up to 5 s.  Sends nothing when c is
 * up or NULL.
 */
int pd_cache_reconnect(pd_cache *c, double now);

/* pd_cache_up: 1 when there is a cache that has not failed. */
int pd_cache_up(const pd_cache *c);
/*
 * pd_cache_take_error: 1 (and err filled with the reason, PD_ESERVICE) the
 * first time it is called after the cache went down; 0 otherwise.
 */
int pd_cache_take_error(pd_cache *c, pd_err *err);

/*
 * pd_cache_get: the value of key into val (reset first).  Returns 1 hit,
 * 0 miss (absent, no cache, or down).
 */
int pd_cache_get(pd_cache *c, const char *key, pd_buf *val);
/* pd_cache_set: SETEX key ttl_s val (SET without expiry when ttl_s <= 0). */
void pd_cache_set(pd_cache *c, const char *key, const void *val, size_t len, int ttl_s);

/*
 * pd_cache_mget: n GETs pipelined in one round trip; vals[i] (reset first)
 * and hit[i] (1/0) for each key.  Returns the number of hits (0 when down).
 */
size_t pd_cache_mget(pd_cache *c, const char *const *keys, size_t n, pd_buf *vals, int *hit);
/* pd_cache_mset: n SETEX pipelined; lens[i] bytes of vals[i]. */
void pd_cache_mset(pd_cache *c, const char *const *keys, const char *const *vals,
		   const size_t *lens, size_t n, int ttl_s);
/* pd_cache_mset_ttls: the same, key i kept ttls[i] seconds (no expiry when <= 0). */
void pd_cache_mset_ttls(pd_cache *c, const char *const *keys, const char *const *vals,
			const size_t *lens, const int *ttls, size_t n);

/* pd_cache_gen: GET pd:gen (0 when absent, no cache or down). */
long long pd_cache_gen(pd_cache *c);
/* pd_cache_bump_gen: INCR pd:gen; the new generation, or -1 when down (err filled). */
long long pd_cache_bump_gen(pd_cache *c, pd_err *err);

/*
 * pd_cache_info: keyspace_hits and keyspace_misses of the server (INFO
 * stats): 0, or -1 with err (PD_ESERVICE; the cache is then down).
 */
int pd_cache_info(pd_cache *c, long long *hits, long long *misses, pd_err *err);

/* Counters since open: gets answered from the cache and gets that missed. */
void pd_cache_stats(const pd_cache *c, unsigned long long *hits, unsigned long long *misses);

#endif
