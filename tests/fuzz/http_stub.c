/*
 * http_stub.c — the fuzzers' web services: pd_http_request and pd_http_many
 * (lib/http.h) replaced at link time (-Wl,--wrap) by a server that answers
 * with the fuzz input, so the modules that read replies (YouTube, embeddings,
 * chat completions, Pinecone) run their real code on hostile replies with no
 * network.
 *
 * fz_http_set(data, size) splits the input into replies at each line "===";
 * a reply that starts with three digits and a space ("404 {...}") has that
 * status, else 200.  Each request, in the order made, takes the next reply;
 * when they run out a request fails as a transport error would — or, after
 * fz_http_repeat_last(1), gets the last reply again, as a server stuck on one
 * answer would, up to FZ_HTTP_MAX_REQUESTS requests: a client still asking
 * then is in an endless loop, and the stub aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/http.h"
#include "http_stub.h"

static const char *in_p;
static size_t in_n, in_at;
static int in_done, repeat_last;
static long nreq;
static size_t last_at, last_len;

void fz_http_set(const uint8_t *data, size_t size)
{
	in_p = (const char *)data;
	in_n = size;
	in_at = 0;
	in_done = 0;
	nreq = 0;
	repeat_last = 0;
	last_at = last_len = 0;
}

void fz_http_repeat_last(int on)
{
	repeat_last = on;
}

long fz_http_requests(void)
{
	return nreq;
}

/* the next reply into r; 0, or -1 when there is none */
static int next_reply(pd_http_resp *r)
{
	if (nreq >= FZ_HTTP_MAX_REQUESTS) {
		fprintf(stderr, "http_stub: %d requests: the client does not stop asking\n",
			FZ_HTTP_MAX_REQUESTS);
		abort();
	}
	const char *p, *end, *cut = NULL;
	size_t len;
	if (in_done) {
		if (!repeat_last)
			return -1;
		p = in_p + last_at;
		len = last_len;
		goto reply;
	}
	p = in_p + in_at;
	end = in_p + in_n;
	for (const char *q = p; q + 5 <= end; q++)
		if (q[0] == '\n' && !memcmp(q + 1, "===\n", 4)) {
			cut = q;
			break;
		}
	len = cut ? (size_t)(cut - p) : (size_t)(end - p);
	last_at = (size_t)(p - in_p);
	last_len = len;
	if (cut)
		in_at += len + 5;
	else
		in_done = 1;
reply:;
	long status = 200;
	if (len >= 4 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
	    p[2] >= '0' && p[2] <= '9' && p[3] == ' ') {
		status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		p += 4;
		len -= 4;
	}
	pd_buf_reset(&r->body);
	pd_buf_add(&r->body, p, len);
	r->status = status;
	r->attempts = 1;
	nreq++;
	return 0;
}

int __wrap_pd_http_request(const char *method, const char *url, const char *body, size_t bodylen,
			   const char *content_type, const pd_http_opts *o, pd_http_resp *resp,
			   pd_err *err);
int __wrap_pd_http_many(pd_http_req *reqs, int n, int concurrency, const pd_http_opts *o);

int __wrap_pd_http_request(const char *method, const char *url, const char *body, size_t bodylen,
			   const char *content_type, const pd_http_opts *o, pd_http_resp *resp,
			   pd_err *err)
{
	if (next_reply(resp) < 0)
		return pd_err_set(err, PD_ESERVICE, "%s %s: connection refused (fuzz stub)", method,
				  "stub");
	return 0;
}

int __wrap_pd_http_many(pd_http_req *reqs, int n, int concurrency, const pd_http_opts *o)
{
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (next_reply(&reqs[i].resp) == 0) {
			reqs[i].ok = 1;
		} else {
			reqs[i].ok = 0;
			pd_err_set(&reqs[i].err, PD_ESERVICE, "%s stub: connection refused (fuzz stub)",
				   reqs[i].method);
			rc = -1;
		}
	}
	return rc;
}
