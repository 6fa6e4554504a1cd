/*
 * http_drive.c — a test driver for lib/http.c (not installed; built by
 * tests/t0310-http.sh with cc against build/libpd.a).
 *
 *   http_drive [-X METHOD] [-d BODY] [-t CONTENT_TYPE] [-H 'Name: value']...
 *              [-c CONCURRENCY] [-m MAX_BODY] URL...
 *
 * Options and retry policy come from pd_http_opts_default (so PD_HTTP_*
 * variables apply); the bearer token from $DRIVE_BEARER.  One URL runs
 * pd_http_request, several run pd_http_many.  Prints per request one line
 * "i status attempts wait_s retry_after_s body" to stdout, each retry as
 * "retry attempt status wait why" and each failure as "error i: msg" to
 * stderr; exits 0 when every request got a final response, else 3.
 */
#include "../../lib/pd.h"
#include "../../lib/http.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_retry(void *ud, int attempt, long status, double wait_s, const char *why)
{
	(void)ud;
	fprintf(stderr, "retry %d %ld %.3f %s\n", attempt, status, wait_s, why);
}

int main(int argc, char **argv)
{
	const char *method = "GET", *body = NULL, *ctype = NULL;
	const char *hdrs[16];
	int nh = 0, conc = 4, c;
	long max_body = 0;
	while ((c = getopt(argc, argv, "X:d:t:H:c:m:")) != -1) {
		switch (c) {
		case 'X': method = optarg; break;
		case 'd': body = optarg; break;
		case 't': ctype = optarg; break;
		case 'H': if (nh < 15) hdrs[nh++] = optarg; break;
		case 'c': conc = atoi(optarg); break;
		case 'm': max_body = atol(optarg); break;
		default: return 2;
		}
	}
	hdrs[nh] = NULL;
	if (optind >= argc)
		return 2;
	pd_http_opts o;
	pd_http_opts_default(&o);
	o.bearer = getenv("DRIVE_BEARER");
	o.headers = hdrs;
	o.on_retry = on_retry;
	o.jitter_seed = 42;
	o.max_body = (size_t)max_body;
	int n = argc - optind, rc = 0;
	pd_http_req *r = xcalloc((size_t)n, sizeof *r);
	for (int i = 0; i < n; i++) {
		r[i].method = method;
		r[i].url = argv[optind + i];
		r[i].body = body;
		r[i].bodylen = body ? strlen(body) : 0;
		r[i].content_type = ctype;
	}
	if (n == 1) {
		pd_http_resp resp = PD_HTTP_RESP_INIT;
		pd_err err;
		if (pd_http_request(method, r[0].url, body, r[0].bodylen, ctype, &o, &resp, &err) == 0)
			r[0].ok = 1;
		else
			r[0].err = err;
		r[0].resp = resp;
	} else {
		pd_http_many(r, n, conc, &o);
	}
	for (int i = 0; i < n; i++) {
		if (!r[i].ok) {
			fprintf(stderr, "error %d: %s\n", i, r[i].err.msg);
			rc = 3;
			pd_http_resp_release(&r[i].resp);	/* may hold the last response */
			continue;
		}
		pd_buf *b = &r[i].resp.body;
		while (b->len > 0 && b->p[b->len - 1] == '\n')
			b->p[--b->len] = '\0';	/* one line per request */
		printf("%d %ld %d %.3f %.3f %s\n", i, r[i].resp.status, r[i].resp.attempts,
		       r[i].resp.wait_s, r[i].resp.retry_after_s, b->p ? b->p : "");
		pd_http_resp_release(&r[i].resp);
	}
	free(r);
	return rc;
}
