/*
 * http.c — pd's HTTP client on libcurl (see http.h for the policy).
 *
 * Every request, single or many, runs through one scheduler on a curl multi
 * handle: each request is a slot that waits (until its next attempt is due),
 * runs (an easy handle in the multi), or is done.  A retry removes the easy
 * handle from the multi, sets the slot's due time to now + backoff and puts
 * the same handle back in when that time comes; the loop sleeps in
 * curl_multi_poll until either a transfer needs attention or the earliest due
 * time passes.  So the single request and the concurrent batch share one
 * code path, the backoff never blocks other transfers in flight, and no
 * thread is needed.
 *
 * Why full jitter: many clients (or many requests of one batch) that failed
 * together should not retry together; a uniform wait in [0, ceiling] spreads
 * them best (the AWS architecture blog's comparison).  The generator is
 * pd_rng seeded by the caller, so a run's waits can be reproduced.
 */
#include "pd.h"
#include "http.h"
#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long env_long(const char *name, long fallback, long min)
{
	const char *s = getenv(name);
	if (!s || !*s)
		return fallback;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < min)
		return fallback;
	return v;
}

void pd_http_opts_default(pd_http_opts *o)
{
	memset(o, 0, sizeof *o);
	o->timeout_ms = env_long("PD_HTTP_TIMEOUT_MS", 30000, 1);
	o->connect_timeout_ms = env_long("PD_HTTP_CONNECT_TIMEOUT_MS", 10000, 1);
	o->total_timeout_ms = env_long("PD_HTTP_TOTAL_TIMEOUT_MS", 0, 0);
	o->max_retries = (int)env_long("PD_HTTP_MAX_RETRIES", 4, 0);
	o->backoff_ms = env_long("PD_HTTP_BACKOFF_MS", 500, 0);
	o->max_backoff_ms = env_long("PD_HTTP_MAX_BACKOFF_MS", 30000, 0);
}

void pd_http_resp_release(pd_http_resp *r)
{
	if (!r)
		return;
	pd_buf_release(&r->body);
	r->status = 0;
	r->attempts = 0;
	r->retry_after_s = 0;
	r->wait_s = 0;
}

const char *pd_http_curl_version(void)
{
	return curl_version();
}

int pd_http_status_retryable(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/* transport failures worth another attempt: the network or the server hiccuped */
static int curl_code_retryable(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

void pd_http_escape(pd_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			pd_buf_addc(b, (char)c);
		} else {
			pd_buf_addc(b, '%');
			pd_buf_addc(b, hex[c >> 4]);
			pd_buf_addc(b, hex[c & 15]);
		}
	}
}

char *pd_http_url_redacted(const char *url)
{
	size_t n = strcspn(url, "?#");
	const char *scheme_end = strstr(url, "://");
	pd_buf b = PD_BUF_INIT;
	if (scheme_end && (size_t)(scheme_end - url) < n) {
		const char *auth = scheme_end + 3;
		size_t alen = strcspn(auth, "/?#");
		const char *at = memchr(auth, '@', alen);
		if (at && (size_t)(at - url) < n) {
			pd_buf_add(&b, url, (size_t)(auth - url));
			pd_buf_add(&b, at + 1, n - (size_t)(at + 1 - url));
			return pd_buf_detach(&b);
		}
	}
	pd_buf_add(&b, url, n);
	if (!b.p)
		pd_buf_adds(&b, "");
	return pd_buf_detach(&b);
}

int pd_http_parse_retry_after(const char *v, double now, double *wait_s)
{
	while (*v == ' ' || *v == '\t')
		v++;
	if (!*v)
		return -1;
	if (*v >= '0' && *v <= '9') {
		char *end;
		double s = strtod(v, &end);
		while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
			end++;
		if (*end || s < 0)
			return -1;
		*wait_s = s;
		return 0;
	}
	time_t t = curl_getdate(v, NULL);
	if (t == (time_t)-1)
		return -1;
	double d = (double)t - now;
	*wait_s = d > 0 ? d : 0;
	return 0;
}

/* ---- the scheduler ---- */

enum { SLOT_WAIT, SLOT_RUN, SLOT_DONE };

typedef struct slot {
	pd_http_req *req;
	CURL *easy;
	struct curl_slist *hdrs;
	pd_buf body;
	char retry_after[64];
	char curlerr[CURL_ERROR_SIZE];
	size_t max_body;
	int too_big;
	int state;
	double due;
	pd_rng rng;
} slot;

typedef struct sched {
	const pd_http_opts *o;
	double t0;
	CURLM *multi;
	slot *slots;
	int n, running, done;
} sched;

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	slot *s = ud;
	size_t n = size * nmemb;
	if (s->body.len + n > s->max_body) {
		s->too_big = 1;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	pd_buf_add(&s->body, p, n);
	return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	slot *s = ud;
	size_t n = size * nmemb;
	static const char name[] = "retry-after:";
	if (n > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
		size_t vlen = n - (sizeof name - 1);
		if (vlen >= sizeof s->retry_after)
			vlen = sizeof s->retry_after - 1;
		memcpy(s->retry_after, p + sizeof name - 1, vlen);
		s->retry_after[vlen] = '\0';
		/* drop the line end */
		size_t k = strcspn(s->retry_after, "\r\n");
		s->retry_after[k] = '\0';
	} else if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after a 100 Continue, say): forget the old header */
		s->retry_after[0] = '\0';
	}
	return n;
}

/* slot_setup: the easy handle with every option that stays the same across
   attempts.  Returns 0, or -1 with the request's err filled. */
static int slot_setup(sched *sc, slot *s)
{
	const pd_http_opts *o = sc->o;
	pd_http_req *r = s->req;
	CURL *e = curl_easy_init();
	if (!e)
		return pd_err_set(&r->err, PD_ESERVICE, "cannot create a curl handle");
	s->easy = e;
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->curlerr);
	curl_easy_setopt(e, CURLOPT_USERAGENT, o->user_agent ? o->user_agent : "pd/" PD_VERSION);

	const char *m = r->method ? r->method : "GET";
	if (strcmp(m, "GET") == 0 && !r->body) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(m, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(r->body ? r->bodylen : 0));
		if (strcmp(m, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
	}

	struct curl_slist *h = NULL, *t;
	pd_buf line = PD_BUF_INIT;
	/* no "Expect: 100-continue" round trip (and its 1 s stall on servers
	   that do not answer it) */
	h = curl_slist_append(h, "Expect:");
	if (h && r->content_type) {
		pd_buf_printf(&line, "Content-Type: %s", r->content_type);
		h = (t = curl_slist_append(h, line.p)) ? t : (curl_slist_free_all(h), NULL);
	}
	if (h && o->bearer) {
		pd_buf_reset(&line);
		pd_buf_printf(&line, "Authorization: Bearer %s", o->bearer);
		h = (t = curl_slist_append(h, line.p)) ? t : (curl_slist_free_all(h), NULL);
		memset(line.p, 0, line.len);	/* the token does not linger */
	}
	for (const char *const *x = o->headers; h && x && *x; x++)
		h = (t = curl_slist_append(h, *x)) ? t : (curl_slist_free_all(h), NULL);
	pd_buf_release(&line);
	if (!h)
		return pd_err_set(&r->err, PD_ESERVICE, "cannot build request headers");
	s->hdrs = h;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	return 0;
}

static void slot_finish(sched *sc, slot *s, int ok)
{
	s->state = SLOT_DONE;
	s->req->ok = ok;
	sc->done++;
	if (s->easy) {
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->hdrs);
	s->hdrs = NULL;
}

/* fail: the request is over without a final response; err names it */
static void slot_fail(sched *sc, slot *s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void slot_fail(sched *sc, slot *s, const char *fmt, ...)
{
	pd_http_req *r = s->req;
	char what[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	char *u = pd_http_url_redacted(r->url);
	pd_err_set(&r->err, PD_ESERVICE, "%s %s: %s", r->method ? r->method : "GET", u, what);
	free(u);
	slot_finish(sc, s, 0);
}

static int slot_start(sched *sc, slot *s, double now)
{
	const pd_http_opts *o = sc->o;
	long tmo = o->timeout_ms > 0 ? o->timeout_ms : 30000L;
	if (o->total_timeout_ms > 0) {
		double left = sc->t0 + o->total_timeout_ms / 1000.0 - now;
		if (left <= 0.001) {
			slot_fail(sc, s, "gave up after %d attempts: total time bound of %ld ms passed",
				  s->req->resp.attempts, o->total_timeout_ms);
			return -1;
		}
		if (left * 1000 < tmo)
			tmo = (long)(left * 1000) + 1;
	}
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, tmo);
	pd_buf_reset(&s->body);
	s->retry_after[0] = '\0';
	s->curlerr[0] = '\0';
	s->too_big = 0;
	if (curl_multi_add_handle(sc->multi, s->easy) != CURLM_OK) {
		slot_fail(sc, s, "cannot start the transfer");
		return -1;
	}
	s->req->resp.attempts++;
	s->state = SLOT_RUN;
	sc->running++;
	return 0;
}

/* the backoff before retry number `attempt` (1-based), in seconds */
static double backoff_wait(const pd_http_opts *o, slot *s, int attempt, int have_ra, double ra)
{
	double cap = (o->max_backoff_ms > 0 ? o->max_backoff_ms : 30000) / 1000.0;
	if (have_ra)
		return ra < cap ? ra : cap;
	double ceil = (o->backoff_ms > 0 ? o->backoff_ms : 0) / 1000.0;
	for (int i = 1; i < attempt && ceil < cap; i++)
		ceil *= 2;
	if (ceil > cap)
		ceil = cap;
	return pd_rng_uniform(&s->rng) * ceil;
}

/* an attempt ended: final, failed for good, or to be retried */
static void slot_done_attempt(sched *sc, slot *s, CURLcode rc, double now)
{
	const pd_http_opts *o = sc->o;
	pd_http_req *r = s->req;
	pd_http_resp *resp = &r->resp;
	curl_multi_remove_handle(sc->multi, s->easy);
	s->state = SLOT_WAIT;
	sc->running--;

	long status = 0;
	char why[CURL_ERROR_SIZE + 64];
	int retry;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
		/* the latest response is what the caller sees, even a failed one */
		resp->status = status;
		pd_buf_release(&resp->body);
		resp->body = s->body;
		memset(&s->body, 0, sizeof s->body);
		if (!resp->body.p)
			pd_buf_adds(&resp->body, "");
		if (!pd_http_status_retryable(status)) {
			slot_finish(sc, s, 1);
			return;
		}
		snprintf(why, sizeof why, "HTTP %ld", status);
		retry = 1;
	} else if (s->too_big) {
		slot_fail(sc, s, "response larger than %zu bytes", s->max_body);
		return;
	} else {
		snprintf(why, sizeof why, "%s", s->curlerr[0] ? s->curlerr : curl_easy_strerror(rc));
		retry = curl_code_retryable(rc);
	}

	int attempt = resp->attempts;	/* attempts made so far */
	int retries = o->max_retries > 0 ? o->max_retries : 0;
	if (!retry) {
		slot_fail(sc, s, "%s", why);
		return;
	}
	if (attempt > retries) {
		slot_fail(sc, s, "%s (gave up after %d attempt%s)", why, attempt, attempt == 1 ? "" : "s");
		return;
	}
	double ra = 0;
	int have_ra = 0;
	if (status && s->retry_after[0] && (status == 429 || status == 503) &&
	    pd_http_parse_retry_after(s->retry_after, (double)time(NULL), &ra) == 0) {
		have_ra = 1;
		resp->retry_after_s = ra;
	}
	double wait = backoff_wait(o, s, attempt, have_ra, ra);
	if (o->total_timeout_ms > 0 && now + wait >= sc->t0 + o->total_timeout_ms / 1000.0) {
		slot_fail(sc, s, "%s (gave up after %d attempt%s: the next wait of %.1f s passes the total time bound of %ld ms)",
			  why, attempt, attempt == 1 ? "" : "s", wait, o->total_timeout_ms);
		return;
	}
	if (o->on_retry)
		o->on_retry(o->ud, attempt, status, wait, why);
	resp->wait_s += wait;
	s->due = now + wait;
}

int pd_http_many(pd_http_req *reqs, int n, int concurrency, const pd_http_opts *opts)
{
	pd_http_opts defaults;
	if (!opts) {
		pd_http_opts_default(&defaults);
		opts = &defaults;
	}
	if (n <= 0)
		return 0;
	if (concurrency < 1)
		concurrency = 1;
	pthread_once(&global_once, global_init);

	sched sc = { .o = opts, .t0 = now_mono(), .n = n };
	size_t max_body = opts->max_body ? opts->max_body : (size_t)256 << 20;
	for (int i = 0; i < n; i++) {
		pd_buf_release(&reqs[i].resp.body);
		memset(&reqs[i].resp, 0, sizeof reqs[i].resp);
		pd_err_clear(&reqs[i].err);
		reqs[i].ok = 0;
	}
	if (global_rc != CURLE_OK) {
		for (int i = 0; i < n; i++)
			pd_err_set(&reqs[i].err, PD_ESERVICE, "cannot initialise libcurl: %s",
				   curl_easy_strerror(global_rc));
		return -1;
	}
	sc.multi = curl_multi_init();
	if (!sc.multi) {
		for (int i = 0; i < n; i++)
			pd_err_set(&reqs[i].err, PD_ESERVICE, "cannot create a curl multi handle");
		return -1;
	}
	curl_multi_setopt(sc.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)concurrency);
	sc.slots = xcalloc((size_t)n, sizeof *sc.slots);
	for (int i = 0; i < n; i++) {
		slot *s = &sc.slots[i];
		s->req = &reqs[i];
		s->max_body = max_body;
		s->due = sc.t0;
		s->state = SLOT_WAIT;
		pd_rng_seed(&s->rng, opts->jitter_seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(i + 1)));
		if (slot_setup(&sc, s) != 0)
			slot_finish(&sc, s, 0);
	}

	int next = 0;	/* slots before it have had their first attempt started */
	while (sc.done < n) {
		double now = now_mono();
		/* start what is due: waiting retries first, in index order, then new ones */
		for (int i = 0; i < next && sc.running < concurrency; i++)
			if (sc.slots[i].state == SLOT_WAIT && sc.slots[i].due <= now)
				slot_start(&sc, &sc.slots[i], now);
		while (next < n && sc.running < concurrency) {
			slot *s = &sc.slots[next++];
			if (s->state == SLOT_WAIT)
				slot_start(&sc, s, now);
		}

		int still = 0;
		curl_multi_perform(sc.multi, &still);
		CURLMsg *msg;
		int q;
		while ((msg = curl_multi_info_read(sc.multi, &q))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			slot *s = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			slot_done_attempt(&sc, s, msg->data.result, now_mono());
		}
		if (sc.done >= n)
			break;

		/* sleep until a transfer needs attention (curl_multi_poll also
		   honours curl's own timers) or the next retry is due */
		long wait_ms = 1000;
		if (sc.running < concurrency) {
			double soonest = -1;
			for (int i = 0; i < next; i++)
				if (sc.slots[i].state == SLOT_WAIT && (soonest < 0 || sc.slots[i].due < soonest))
					soonest = sc.slots[i].due;
			if (next < n || (soonest >= 0 && soonest <= now_mono()))
				continue;	/* something can start now */
			if (soonest >= 0) {
				double d = (soonest - now_mono()) * 1000;
				wait_ms = d > 1000 ? 1000 : (long)d + 1;
			}
		}
		curl_multi_poll(sc.multi, NULL, 0, (int)wait_ms, NULL);
	}

	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (sc.slots[i].easy)	/* not reached: every slot is done */
			curl_easy_cleanup(sc.slots[i].easy);
		curl_slist_free_all(sc.slots[i].hdrs);
		pd_buf_release(&sc.slots[i].body);
		if (!reqs[i].ok)
			rc = -1;
		if (reqs[i].resp.wait_s < 0)
			reqs[i].resp.wait_s = 0;
	}
	free(sc.slots);
	curl_multi_cleanup(sc.multi);
	return rc;
}

int pd_http_request(const char *method, const char *url, const char *body, size_t bodylen,
		    const char *content_type, const pd_http_opts *o, pd_http_resp *resp,
		    pd_err *err)
{
	pd_http_req r;
	memset(&r, 0, sizeof r);
	r.method = method;
	r.url = url;
	r.body = body;
	r.bodylen = bodylen;
	r.content_type = content_type;
	pd_http_many(&r, 1, 1, o);
	pd_buf_release(&resp->body);
	*resp = r.resp;
	if (!r.ok) {
		if (err)
			*err = r.err;
		return -1;
	}
	return 0;
}
