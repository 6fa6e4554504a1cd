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
 * when they run out a request fails as a transport error would.  The last
 * request's method, URL and body are kept (fz_http_last_*) for harnesses
 * that check what was asked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/http.h"
#include "http_stub.h"

static const char *in_p;
static size_t in_n, in_at;
static int in_done;
static long nreq;

void fz_http_set(const uint8_t *data, size_t size)
{
	in_p = (const char *)data;
	in_n = size;
	in_at = 0;
	in_done = 0;
	nreq = 0;
}

long fz_http_requests(void)
{
	return nreq;
}

/* the next reply into r; 0, or -1 when there is none */
static int next_reply(pd_http_resp *r)
{
	if (in_done)
		return -1;
	const char *p = in_p + in_at, *end = in_p + in_n, *cut = NULL;
	for (const char *q = p; q + 5 <= end; q++)
		if (q[0] == '\n' && !memcmp(q + 1, "===\n", 4)) {
			cut = q;
			break;
		}
	size_t len = cut ? (size_t)(cut - p) : (size_t)(end - p);
	if (cut)
		in_at += len + 5;
	else
		in_done = 1;
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
