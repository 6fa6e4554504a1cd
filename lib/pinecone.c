/*
 * pinecone.c — batched, concurrent upserts of embeddings to Pinecone (see
 * pinecone.h).  Vectors are encoded into request bodies as they arrive, so
 * only the pending batches (a few hundred vectors) are held; when GROUP
 * batches are ready they go out together through pd_http_many.  A batch
 * that fails after the HTTP layer's retries fails the upsert: the caller
 * decides (pd-store fails the run, since it was asked to keep Pinecone in
 * step).
 */
#include "pd.h"
#include "http.h"
#include "pinecone.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 100	/* vectors a request */
#define GROUP 8		/* requests sent together */
#define CONCURRENCY 4

struct pd_pinecone {
	char *url;		/* .../vectors/upsert */
	char *key_header;	/* "Api-Key: ..." */
	char *ns;		/* namespace or NULL */
	pd_buf body[GROUP];
	int nvec[GROUP];	/* vectors in body[i] */
	int cur;		/* the batch being filled */
	long long confirmed;
};

int pd_pinecone_open(pd_pinecone **pc, pd_err *err)
{
	*pc = NULL;
	const char *key = getenv("PINECONE_API_KEY"), *host = getenv("PINECONE_INDEX_HOST");
	int has_key = key && *key, has_host = host && *host;
	if (!has_key && !has_host)
		return 0;
	if (!has_key || !has_host)
		return pd_err_set(err, PD_EUSAGE, "Pinecone needs both PINECONE_API_KEY and "
				  "PINECONE_INDEX_HOST (%s is not set)",
				  has_key ? "PINECONE_INDEX_HOST" : "PINECONE_API_KEY");
	pd_pinecone *p = xcalloc(1, sizeof *p);
	pd_buf u = PD_BUF_INIT;
	if (strncmp(host, "http://", 7) && strncmp(host, "https://", 8))
		pd_buf_adds(&u, "https://");
	pd_buf_adds(&u, host);
	while (u.len && u.p[u.len - 1] == '/')
		u.p[--u.len] = 0;
	pd_buf_adds(&u, "/vectors/upsert");
	p->url = pd_buf_detach(&u);
	pd_buf h = PD_BUF_INIT;
	pd_buf_printf(&h, "Api-Key: %s", key);
	p->key_header = pd_buf_detach(&h);
	const char *ns = getenv("PINECONE_NAMESPACE");
	p->ns = ns && *ns ? xstrdup(ns) : NULL;
	*pc = p;
	return 0;
}

static void close_body(pd_pinecone *p, int i)
{
	pd_buf_adds(&p->body[i], "]");
	if (p->ns) {
		pd_buf_adds(&p->body[i], ",\"namespace\":");
		pd_buf_add_json_string(&p->body[i], p->ns, strlen(p->ns));
	}
	pd_buf_adds(&p->body[i], "}");
}

/* upsertedCount from a response body, or -1. */
static long long upserted_count(const char *body)
{
	const char *k = strstr(body, "\"upsertedCount\"");
	if (!k)
		return -1;
	k = strchr(k + 15, ':');
	return k ? strtoll(k + 1, NULL, 10) : -1;
}

/* send the batches 0..n-1 (each closed first) and reset them */
static int send_batches(pd_pinecone *p, int n, pd_err *err)
{
	if (n == 0)
		return 0;
	const char *headers[3] = { p->key_header, "X-Pinecone-API-Version: 2024-07", NULL };
	pd_http_opts o;
	pd_http_opts_default(&o);
	o.headers = headers;
	pd_http_req reqs[GROUP];
	memset(reqs, 0, sizeof reqs);
	for (int i = 0; i < n; i++) {
		close_body(p, i);
		reqs[i].method = "POST";
		reqs[i].url = p->url;
		reqs[i].body = p->body[i].p;
		reqs[i].bodylen = p->body[i].len;
		reqs[i].content_type = "application/json";
	}
	pd_http_many(reqs, n, CONCURRENCY, &o);
	int ret = 0;
	for (int i = 0; i < n; i++) {
		if (ret == 0) {
			if (!reqs[i].ok) {
				ret = pd_err_set(err, PD_ESERVICE, "pinecone: %s", reqs[i].err.msg);
			} else if (reqs[i].resp.status / 100 != 2) {
				ret = pd_err_set(err, PD_ESERVICE, "pinecone: upsert: HTTP %ld: %.200s",
						 reqs[i].resp.status,
						 reqs[i].resp.body.p ? reqs[i].resp.body.p : "");
			} else {
				long long c = upserted_count(reqs[i].resp.body.p ? reqs[i].resp.body.p : "");
				if (c != p->nvec[i])
					ret = pd_err_set(err, PD_ESERVICE,
							 "pinecone: upsert of %d vectors answered "
							 "upsertedCount %lld", p->nvec[i], c);
				else
					p->confirmed += c;
			}
		}
		pd_http_resp_release(&reqs[i].resp);
		pd_buf_reset(&p->body[i]);
		p->nvec[i] = 0;
	}
	p->cur = 0;
	return ret;
}

int pd_pinecone_add(pd_pinecone *p, const char *id, const float *v, int dim, pd_err *err)
{
	pd_buf *b = &p->body[p->cur];
	pd_buf_adds(b, p->nvec[p->cur] ? ",{\"id\":" : "{\"vectors\":[{\"id\":");
	pd_buf_add_json_string(b, id, strlen(id));
	pd_buf_adds(b, ",\"values\":");
	pd_vec_add_json(b, v, dim);
	pd_buf_addc(b, '}');
	if (++p->nvec[p->cur] < BATCH)
		return 0;
	if (++p->cur < GROUP)
		return 0;
	return send_batches(p, GROUP, err);
}

int pd_pinecone_flush(pd_pinecone *p, pd_err *err)
{
	int n = p->cur + (p->nvec[p->cur] > 0 ? 1 : 0);
	return send_batches(p, n, err);
}

long long pd_pinecone_count(const pd_pinecone *p)
{
	return p ? p->confirmed : 0;
}

void pd_pinecone_free(pd_pinecone *p)
{
	if (!p)
		return;
	for (int i = 0; i < GROUP; i++)
		pd_buf_release(&p->body[i]);
	free(p->url);
	free(p->key_header);
	free(p->ns);
	free(p);
}

int pd_pinecone_fetch(const char *id, float **out, size_t *cap, int *dim, pd_err *err)
{
	const char *key = getenv("PINECONE_API_KEY"), *host = getenv("PINECONE_INDEX_HOST");
	const char *ns = getenv("PINECONE_NAMESPACE");
	if (!key || !*key || !host || !*host)
		return 0;
	pd_buf url = PD_BUF_INIT, hdr = PD_BUF_INIT;
	if (strncmp(host, "http://", 7) && strncmp(host, "https://", 8))
		pd_buf_adds(&url, "https://");
	pd_buf_adds(&url, host);
	while (url.len && url.p[url.len - 1] == '/')
		url.p[--url.len] = '\0';
	pd_buf_adds(&url, "/vectors/fetch?ids=");
	pd_http_escape(&url, id);
	if (ns && *ns) {
		pd_buf_adds(&url, "&namespace=");
		pd_http_escape(&url, ns);
	}
	pd_buf_printf(&hdr, "Api-Key: %s", key);
	const char *headers[2] = { hdr.p, NULL };
	pd_http_opts o;
	pd_http_opts_default(&o);
	o.headers = headers;
	pd_http_resp resp = PD_HTTP_RESP_INIT;
	int rc = -1;
	cJSON *j = NULL;
	if (pd_http_request("GET", url.p, NULL, 0, NULL, &o, &resp, err) < 0)
		goto out;
	if (resp.status != 200) {
		pd_err_set(err, PD_ESERVICE, "pinecone: fetch '%s': HTTP %ld", id, resp.status);
		goto out;
	}
	j = cJSON_ParseWithLength(resp.body.p ? resp.body.p : "", resp.body.len);
	const cJSON *vecs = j ? cJSON_GetObjectItemCaseSensitive(j, "vectors") : NULL;
	if (!cJSON_IsObject(vecs)) {
		pd_err_set(err, PD_ESERVICE, "pinecone: fetch '%s': answer has no \"vectors\" object",
			   id);
		goto out;
	}
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(vecs, id);
	if (!v) {
		rc = 0;
		goto out;
	}
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(v, "values");
	int n = cJSON_IsArray(vals) ? cJSON_GetArraySize(vals) : 0;
	if (n <= 0) {
		pd_err_set(err, PD_ESERVICE, "pinecone: fetch '%s': no \"values\"", id);
		goto out;
	}
	if ((size_t)n > *cap) {
		*out = xreallocarray(*out, (size_t)n, sizeof **out);
		*cap = (size_t)n;
	}
	int k = 0;
	const cJSON *x;
	cJSON_ArrayForEach(x, vals) {
		if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble) ||
		    !isfinite((float)x->valuedouble)) {
			pd_err_set(err, PD_EREC, "pinecone: vector '%s' has a value that is not a "
				   "finite number", id);
			goto out;
		}
		(*out)[k++] = (float)x->valuedouble;
	}
	*dim = n;
	rc = 1;
out:
	cJSON_Delete(j);
	pd_http_resp_release(&resp);
	pd_buf_release(&url);
	pd_buf_release(&hdr);
	return rc;
}
