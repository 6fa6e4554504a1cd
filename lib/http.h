/*
 * http.h — pd's HTTP client: libcurl behind one small interface with one
 * retry policy, shared by every module that talks to a web service (the
 * YouTube Data API, OpenAI-compatible embeddings and chat completions,
 * Pinecone).
 *
 * Policy, the same everywhere:
 *   - TLS certificates are always verified; only http and https URLs.
 *   - Each attempt is bounded in time (timeout_ms, connect_timeout_ms) and the
 *     whole request including retries and waits may be bounded too
 *     (total_timeout_ms), so a hung server cannot hang a command.
 *   - 429, 500, 502, 503, 504, and transient transport failures (connection
 *     refused or reset, timeouts, empty replies) are retried up to max_retries
 *     times with exponential backoff and full jitter (delays drawn from
 *     lib/rng.h seeded by jitter_seed, so a run's waits are reproducible);
 *     a Retry-After header (seconds or HTTP date) on 429/503 is honoured,
 *     capped by max_backoff_ms.  Other statuses (400, 401, 403, 404, ...)
 *     are final at once: the caller reads status and body.
 *   - Secrets never reach messages: a bearer token is only a header, and URLs
 *     in messages lose their query string (API keys often travel there).
 *
 * Environment overrides (read by pd_http_opts_default, so every command that
 * uses it gets them, and tests can shorten timeouts without new options):
 *   PD_HTTP_TIMEOUT_MS, PD_HTTP_CONNECT_TIMEOUT_MS, PD_HTTP_TOTAL_TIMEOUT_MS,
 *   PD_HTTP_MAX_RETRIES, PD_HTTP_BACKOFF_MS, PD_HTTP_MAX_BACKOFF_MS.
 *
 * Threads: curl_global_init runs once (pthread_once) on first use; a request
 * uses its own handles, so different threads may call these functions at the
 * same time.  Callbacks (on_retry) run in the calling thread.
 */
#ifndef PD_HTTP_H
#define PD_HTTP_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"

typedef struct pd_http_opts {
	long timeout_ms;		/* one attempt, whole transfer; 0: 30000 */
	long connect_timeout_ms;	/* 0: 10000 */
	long total_timeout_ms;		/* all attempts and waits; 0: no bound beyond
					   the attempts' own */
	int max_retries;		/* retries after the first attempt, used as is
					   (pd_http_opts_default: 4); <0 counts as 0 */
	long backoff_ms;		/* first backoff ceiling, doubled each retry;
					   the wait is uniform in [0, ceiling] */
	long max_backoff_ms;		/* cap of the ceiling and of Retry-After */
	size_t max_body;		/* response bytes kept at most; 0: 256 MiB */
	const char *bearer;		/* "Authorization: Bearer ..." when not NULL */
	const char *const *headers;	/* extra "Name: value" lines, NULL-terminated */
	const char *user_agent;		/* NULL: "pd/VERSION" */
	uint64_t jitter_seed;
	/* called before each wait: attempt (1 = the first retry), the status that
	   caused it (0: transport failure), the wait, a short reason */
	void (*on_retry)(void *ud, int attempt, long status, double wait_s, const char *why);
	void *ud;
} pd_http_opts;

/* pd_http_opts_default: zero o, then the defaults above and the environment
   overrides.  A zeroed struct also works (0 fields take defaults) except
   max_retries, which is then 0: no retries. */
void pd_http_opts_default(pd_http_opts *o);

typedef struct pd_http_resp {
	long status;		/* final HTTP status, 0 if none arrived */
	pd_buf body;		/* the final response's body (NUL-terminated) */
	int attempts;		/* attempts made, >= 1 */
	double retry_after_s;	/* the last Retry-After seen, 0 if none */
	double wait_s;		/* total time spent waiting between attempts */
} pd_http_resp;

#define PD_HTTP_RESP_INIT { 0, PD_BUF_INIT, 0, 0, 0 }

/*
 * pd_http_request: one request (method "GET", "POST", "PUT", "DELETE", ...;
 * body may be NULL; content_type may be NULL) with the retry policy of o
 * (NULL: pd_http_opts_default).  resp must be initialised (PD_HTTP_RESP_INIT
 * or zeroed); its body is replaced.
 * Returns 0 when a final HTTP response arrived — the caller checks
 * resp->status, 2xx or not; -1 with err (PD_ESERVICE, a message naming the
 * method and URL without query and the last status or transport error) when
 * retries are exhausted, the total time bound passes, or transport fails for
 * good (bad URL, certificate problem).  After a retryable status was
 * exhausted resp still holds that last response.  The caller releases resp.
 */
int pd_http_request(const char *method, const char *url, const char *body, size_t bodylen,
		    const char *content_type, const pd_http_opts *o, pd_http_resp *resp,
		    pd_err *err);

/* One of many requests: fill method..content_type, the rest is output. */
typedef struct pd_http_req {
	const char *method, *url, *body;
	size_t bodylen;
	const char *content_type;
	pd_http_resp resp;	/* zero it before the call (calloc or = {0}) */
	pd_err err;
	int ok;			/* 1: a final response arrived (as return 0 above) */
} pd_http_req;

/*
 * pd_http_many: reqs[0..n) with at most `concurrency` in flight at once (curl
 * multi, one thread, at most `concurrency` connections, reused), each with
 * the retry policy of o; a request waiting for its retry does not hold a
 * place.  Requests start in index order; results are in each reqs[i]
 * whatever the order of completion.  Returns 0 if every request got a final
 * response, -1 otherwise (see reqs[i].ok / .err).  Jitter for reqs[i] is
 * seeded from o->jitter_seed and i.  The bodies must stay valid until the
 * call returns (curl sends them from the caller's memory).
 */
int pd_http_many(pd_http_req *reqs, int n, int concurrency, const pd_http_opts *o);

void pd_http_resp_release(pd_http_resp *r);

/* pd_http_escape: append s URL-encoded (RFC 3986 unreserved kept) to b. */
void pd_http_escape(pd_buf *b, const char *s);

/* pd_http_url_redacted: url without its query string and fragment (and
   without user:password@), for messages; the caller frees. */
char *pd_http_url_redacted(const char *url);

/*
 * pd_http_parse_retry_after: a Retry-After value — delta seconds or an HTTP
 * date (compared with now, seconds since the epoch) — as seconds to wait
 * (>= 0).  Returns 0, or -1 when unparsable.
 */
int pd_http_parse_retry_after(const char *v, double now, double *wait_s);

/* pd_http_status_retryable: 1 for 429, 500, 502, 503, 504. */
int pd_http_status_retryable(long status);

/* pd_http_curl_version: "libcurl/7.88.1 OpenSSL/..." for --version lines. */
const char *pd_http_curl_version(void);

#endif
