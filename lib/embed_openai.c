/*
 * embed_openai.c — the OpenAI-compatible embeddings client (embed_openai.h).
 *
 * Request bodies are built with pd_buf (texts escaped by
 * pd_buf_add_json_string); replies are parsed with cJSON, the base64
 * embeddings decoded by the vector codec.  A reply is checked whole: every
 * index of the batch exactly once, one dimension throughout, finite numbers.
 */
#include "pd.h"
#include "embed_openai.h"
#include "http.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static char *endpoint(const char *url)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	pd_buf b = PD_BUF_INIT;
	pd_buf_add(&b, url, n);
	if (!(n >= 11 && !memcmp(url + n - 11, "/embeddings", 11)))
		pd_buf_adds(&b, "/embeddings");
	return pd_buf_detach(&b);
}

/* the server's error message from a JSON error body, or the body's start */
static void server_message(const pd_buf *body, pd_buf *out)
{
	cJSON *j = cJSON_ParseWithLength(body->p ? body->p : "", body->len);
	const cJSON *e = j ? cJSON_GetObjectItemCaseSensitive(j, "error") : NULL;
	const cJSON *m = e ? cJSON_GetObjectItemCaseSensitive(e, "message") : NULL;
	if (cJSON_IsString(m))
		pd_buf_adds(out, m->valuestring);
	else if (cJSON_IsString(e))
		pd_buf_adds(out, e->valuestring);
	else if (body->len)
		pd_buf_add(out, body->p, body->len > 200 ? 200 : body->len);
	cJSON_Delete(j);
}

/* the embeddings of texts first..first+count of n from one reply into *E
   (n x *dim, allocated when the first embedding tells the dimension) */
static int parse_reply(const pd_buf *body, int first, int count, int n, float **E, int *dim,
		       int want, pd_err *err)
{
	cJSON *j = cJSON_ParseWithLength(body->p ? body->p : "", body->len);
	int rc = 0;
	unsigned char *seen = xcalloc((size_t)count, 1);
	float *v = NULL;
	size_t cap = 0;
	const cJSON *data = j ? cJSON_GetObjectItemCaseSensitive(j, "data") : NULL;
	if (!cJSON_IsArray(data)) {
		rc = pd_err_set(err, PD_EREC, "embeddings reply without a \"data\" array");
		goto out;
	}
	const cJSON *it;
	int got = 0;
	cJSON_ArrayForEach(it, data) {
		const cJSON *ix = cJSON_GetObjectItemCaseSensitive(it, "index");
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(it, "embedding");
		int d = 0;
		if (!cJSON_IsNumber(ix) || ix->valuedouble < 0 || ix->valuedouble >= count ||
		    ix->valuedouble != (int)ix->valuedouble || seen[(int)ix->valuedouble]) {
			rc = pd_err_set(err, PD_EREC, "embeddings reply: bad or repeated index");
			goto out;
		}
		int i = (int)ix->valuedouble;
		seen[i] = 1;
		if (cJSON_IsString(e)) {
			pd_buf q = PD_BUF_INIT;
			pd_buf_add_json_string(&q, e->valuestring, strlen(e->valuestring));
			int r = pd_vec_parse_b64(q.p, q.len, &v, &cap, &d, err);
			pd_buf_release(&q);
			if (r < 0) {
				rc = -1;
				goto out;
			}
		} else if (cJSON_IsArray(e)) {
			char *s = cJSON_PrintUnformatted(e);
			int r = pd_vec_parse_json(s, strlen(s), &v, &cap, &d, err);
			cJSON_free(s);
			if (r < 0) {
				rc = -1;
				goto out;
			}
		} else {
			rc = pd_err_set(err, PD_EREC, "embeddings reply: item %d has no embedding", i);
			goto out;
		}
		if (d < 1 || d > 65536 || (*dim && d != *dim) || (want && d != want)) {
			rc = pd_err_set(err, PD_EREC, "embeddings reply: dimension %d, expected %d", d,
					want ? want : *dim);
			goto out;
		}
		if (!*E) {
			*dim = d;
			*E = xmalloc((size_t)n * (size_t)d * sizeof **E);
		}
		memcpy(*E + (size_t)(first + i) * (size_t)d, v, (size_t)d * sizeof *v);
		got++;
	}
	if (got != count)
		rc = pd_err_set(err, PD_EREC, "embeddings reply: %d embeddings for %d texts", got, count);
out:
	free(seen);
	free(v);
	cJSON_Delete(j);
	return rc;
}

int pd_oai_embed(const pd_oai *o, const char *const *texts, int n, float **out, int *dim,
		 pd_err *err)
{
	*out = NULL;
	*dim = 0;
	if (n == 0)
		return 0;
	if (!o->url || !*o->url || !o->model || !*o->model)
		return pd_err_set(err, PD_EUSAGE, "PD_EMBED_URL and PD_EMBED_MODEL must be set");
	int batch = o->batch > 0 ? o->batch : 64, conc = o->concurrency > 0 ? o->concurrency : 4;
	int nreq = (n + batch - 1) / batch;
	char *url = endpoint(o->url);
	pd_http_req *reqs = xcalloc((size_t)nreq, sizeof *reqs);
	pd_buf *bodies = xcalloc((size_t)nreq, sizeof *bodies);
	for (int r = 0; r < nreq; r++) {
		pd_buf *b = &bodies[r];
		pd_buf_adds(b, "{\"model\":");
		pd_buf_add_json_string(b, o->model, strlen(o->model));
		pd_buf_adds(b, ",\"input\":[");
		for (int i = r * batch; i < n && i < (r + 1) * batch; i++) {
			if (i > r * batch)
				pd_buf_addc(b, ',');
			const char *t = texts[i] && *texts[i] ? texts[i] : " ";
			pd_buf_add_json_string(b, t, strlen(t));
		}
		pd_buf_adds(b, "],\"encoding_format\":\"base64\"");
		if (o->dims > 0)
			pd_buf_printf(b, ",\"dimensions\":%d", o->dims);
		pd_buf_addc(b, '}');
		reqs[r].method = "POST";
		reqs[r].url = url;
		reqs[r].body = b->p;
		reqs[r].bodylen = b->len;
		reqs[r].content_type = "application/json";
	}
	pd_http_opts ho;
	pd_http_opts_default(&ho);
	ho.bearer = o->key && *o->key ? o->key : NULL;
	ho.jitter_seed = o->seed;
	pd_http_many(reqs, nreq, conc, &ho);
	int rc = 0;
	float *E = NULL;
	for (int r = 0; r < nreq && rc == 0; r++) {
		pd_http_req *q = &reqs[r];
		if (!q->ok) {
			rc = pd_err_set(err, PD_ESERVICE, "%s", q->err.msg);
			break;
		}
		if (q->resp.status < 200 || q->resp.status > 299) {
			pd_buf m = PD_BUF_INIT;
			server_message(&q->resp.body, &m);
			char *red = pd_http_url_redacted(url);
			rc = pd_err_set(err, PD_ESERVICE, "POST %s: HTTP %ld%s%s", red, q->resp.status,
					m.len ? ": " : "", m.len ? m.p : "");
			free(red);
			pd_buf_release(&m);
			break;
		}
		int first = r * batch, count = (n - first < batch ? n - first : batch);
		if (parse_reply(&q->resp.body, first, count, n, &E, dim, o->dims, err) < 0)
			rc = -1;
	}
	for (int r = 0; r < nreq; r++) {
		pd_http_resp_release(&reqs[r].resp);
		pd_buf_release(&bodies[r]);
	}
	free(reqs);
	free(bodies);
	free(url);
	if (rc < 0) {
		free(E);
		*dim = 0;
		return -1;
	}
	*out = E;
	return 0;
}

void pd_oai_video_text(const pd_video *v, pd_buf *b)
{
	pd_buf_reset(b);
	if (v->title)
		pd_buf_adds(b, v->title);
	if (v->ntags) {
		pd_buf_addc(b, '\n');
		for (int i = 0; i < v->ntags; i++) {
			if (i)
				pd_buf_adds(b, ", ");
			pd_buf_adds(b, v->tags[i]);
		}
	}
	if (v->description && *v->description) {
		size_t n = strlen(v->description);
		if (n > 1000) {
			n = 1000;
			while (n > 0 && ((unsigned char)v->description[n] & 0xC0) == 0x80)
				n--;
		}
		pd_buf_addc(b, '\n');
		pd_buf_add(b, v->description, n);
	}
	pd_buf_addc(b, '\0');	/* even when empty */
}
