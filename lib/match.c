/*
 * match.c — the pattern set of pd-match and the matching of one batch of
 * videos against it; see match.h.
 *
 * Everything that can be decided once per pattern is decided at load time:
 * the unit centroid (a row of one matrix, so a batch's similarities are one
 * cblas_sgemm), the similarity threshold, the expected performance with its
 * interval, and the two explanations (video has / lacks the feature).  Per
 * video there is then only the product, a scan of its row for the patterns
 * within their radius, a predicate test per applicable pattern (the same
 * lib/features.h code pd-mine counted with), and formatting.
 *
 * The screening product is BLAS; the similarity that decides and is written
 * is recomputed in one fixed order (dot_fixed), so answers are the same
 * bytes whatever the batch.  The Pinecone fetch (the last place an id's
 * embedding is looked up) lives here too: lib/pinecone.c only upserts.
 */
#include "pd.h"
#include "match.h"
#include "features.h"
#include "http.h"
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

pd_matcher *pd_matcher_new(void)
{
	pd_matcher *m = xcalloc(1, sizeof *m);
	m->hash = 0x9e3779b97f4a7c15ull;
	return m;
}

static void pattern_release(pd_pattern *p)
{
	free(p->id);
	free(p->cluster);
	free(p->name);
	free(p->explain_has);
	free(p->explain_lacks);
	pd_buf_release(&p->head);
	pd_buf_release(&p->tail_has);
	pd_buf_release(&p->tail_lacks);
	pd_buf_release(&p->rec_tail);
	pd_feature_free(p->feature);
}

void pd_matcher_free(pd_matcher *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n; i++)
		pattern_release(&m->pat[i]);
	free(m->pat);
	free(m->cent);
	free(m);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

/* num: a finite number member of o, or NAN. */
static double num(const cJSON *o, const char *key)
{
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

static double first_num(const cJSON *o, const char *const *keys)
{
	for (; *keys; keys++) {
		double v = num(o, *keys);
		if (isfinite(v))
			return v;
	}
	return NAN;
}

/* The performance figures of a pattern from its stats (brief: pattern record). */
static void pattern_stats(pd_pattern *p, const cJSON *rec, double *lift, double *lo, double *hi,
			  double *n_with)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(rec, "stats");
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(rec, "performance_stats");
	const cJSON *win = ps ? cJSON_GetObjectItemCaseSensitive(ps, "within_radius") : NULL;
	const cJSON *wout = ps ? cJSON_GetObjectItemCaseSensitive(ps, "outside_radius") : NULL;
	static const char *const with_keys[] = { "median_perf_with", "median_with", NULL };
	static const char *const without_keys[] = { "median_perf_without", "median_without", NULL };
	p->exp_perf = first_num(st, with_keys);
	if (!isfinite(p->exp_perf))
		p->exp_perf = num(win, "median");
	p->perf_without = first_num(st, without_keys);
	if (!isfinite(p->perf_without))
		p->perf_without = num(wout, "median");
	*lift = num(st, "lift");
	if (!isfinite(*lift))
		*lift = num(ps, "lift_ratio");
	*lo = *hi = NAN;
	const cJSON *ci = st ? cJSON_GetObjectItemCaseSensitive(st, "lift_ci") : NULL;
	if (cJSON_IsArray(ci) && cJSON_GetArraySize(ci) == 2) {
		const cJSON *a = cJSON_GetArrayItem(ci, 0), *b = cJSON_GetArrayItem(ci, 1);
		if (cJSON_IsNumber(a) && cJSON_IsNumber(b) && isfinite(a->valuedouble) &&
		    isfinite(b->valuedouble)) {
			*lo = a->valuedouble;
			*hi = b->valuedouble;
		}
	}
	*n_with = num(st, "n_with");
	if (!isfinite(*n_with))
		*n_with = num(win, "count");
	p->exp_lo = p->exp_hi = NAN;
	if (isfinite(p->exp_perf)) {
		if (isfinite(*lift) && *lift > 0 && isfinite(*lo) && isfinite(*hi) && *lo <= *hi) {
			p->exp_lo = p->exp_perf * *lo / *lift;
			p->exp_hi = p->exp_perf * *hi / *lift;
		} else {
			p->exp_lo = p->exp_hi = p->exp_perf;
		}
	}
	p->gain = isfinite(p->exp_perf) && isfinite(p->perf_without) ? p->exp_perf - p->perf_without
								      : NAN;
}

/* The evidence clause shared by both explanations. */
static void evidence(pd_buf *b, const pd_pattern *p, double lift, double lo, double hi,
		     double n_with)
{
	if (isfinite(p->exp_perf) && isfinite(p->perf_without))
		pd_buf_printf(b, "median %.2fx the channel norm with it vs %.2fx without",
			      p->exp_perf, p->perf_without);
	else if (isfinite(p->exp_perf))
		pd_buf_printf(b, "median %.2fx the channel norm with it", p->exp_perf);
	else
		pd_buf_adds(b, "performance not recorded");
	if (isfinite(lift)) {
		pd_buf_printf(b, "; lift %.2f", lift);
		if (isfinite(lo) && isfinite(hi))
			pd_buf_printf(b, " (95%% CI %.2f-%.2f)", lo, hi);
	}
	if (isfinite(n_with))
		pd_buf_printf(b, ", %.0f videos with it", n_with);
}

static void explanations(pd_pattern *p, double lift, double lo, double hi, double n_with)
{
	pd_buf d = PD_BUF_INIT, b = PD_BUF_INIT;
	pd_feature_describe(p->feature, &d);
	const char *desc = d.p ? d.p : "the feature";
	pd_buf_printf(&b, "has %s, which in this niche goes with %s performance: ", desc,
		      p->negative ? "lower" : "higher");
	evidence(&b, p, lift, lo, hi, n_with);
	p->explain_has = pd_buf_detach(&b);
	if (p->negative)
		pd_buf_printf(&b, "lacks %s, which in this niche goes with lower performance: ",
			      desc);
	else
		pd_buf_printf(&b, "lacks %s, which in this niche goes with higher performance: ",
			      desc);
	evidence(&b, p, lift, lo, hi, n_with);
	p->explain_lacks = pd_buf_detach(&b);
	pd_buf_release(&d);
}

/* A number as JSON: null when not finite. */
static void add_num(pd_buf *b, double v, const char *fmt)
{
	if (isfinite(v))
		pd_buf_printf(b, fmt, v);
	else
		pd_buf_adds(b, "null");
}

static void render_tail(pd_buf *b, const pd_pattern *p, int has)
{
	pd_buf_adds(b, has ? ",\"has_feature\":true" : ",\"has_feature\":false");
	pd_buf_adds(b, ",\"expected_perf\":");
	add_num(b, p->exp_perf, "%.4g");
	pd_buf_adds(b, ",\"expected_perf_ci\":");
	if (isfinite(p->exp_lo) && isfinite(p->exp_hi)) {
		pd_buf_addc(b, '[');
		add_num(b, p->exp_lo, "%.4g");
		pd_buf_addc(b, ',');
		add_num(b, p->exp_hi, "%.4g");
		pd_buf_addc(b, ']');
	} else {
		pd_buf_adds(b, "null");
	}
	const char *ex = has ? p->explain_has : p->explain_lacks;
	pd_buf_adds(b, ",\"explanation\":");
	pd_buf_add_json_string(b, ex, strlen(ex));
}

/* render: the pre-rendered pieces of p's records. */
static void render(pd_pattern *p)
{
	pd_buf_adds(&p->head, "\"pattern_id\":");
	pd_buf_add_json_string(&p->head, p->id, strlen(p->id));
	pd_buf_adds(&p->head, ",\"similarity\":");
	render_tail(&p->tail_has, p, 1);
	render_tail(&p->tail_lacks, p, 0);
	pd_buf_adds(&p->rec_tail, ",\"expected_perf\":");
	add_num(&p->rec_tail, p->exp_perf, "%.4g");
	pd_buf_adds(&p->rec_tail, ",\"expected_gain\":");
	add_num(&p->rec_tail, p->gain, "%.4g");
	pd_buf_adds(&p->rec_tail, ",\"explanation\":");
	pd_buf_add_json_string(&p->rec_tail, p->explain_lacks, strlen(p->explain_lacks));
}

int pd_matcher_add(pd_matcher *m, const cJSON *rec, const float *cen, int dim, pd_err *err)
{
	const char *id = pd_json_str(rec, "id");
	if (!id || !*id)
		return pd_err_set(err, PD_EREC, "pattern without a string \"id\"");
	const char *status = pd_json_str(rec, "status");
	if (status && !strcmp(status, "rejected")) {
		m->skipped++;
		return 0;
	}
	const cJSON *fj = cJSON_GetObjectItemCaseSensitive(rec, "feature");
	if (!cJSON_IsObject(fj))
		return pd_err_set(err, PD_EREC, "pattern '%s' has no \"feature\" object", id);
	double radius = num(rec, "radius");
	if (!isfinite(radius))
		radius = num(rec, "semantic_radius");
	if (!isfinite(radius) || radius < 0 || radius > 2)
		return pd_err_set(err, PD_EREC, "pattern '%s' has no \"radius\" in [0, 2]", id);
	if (!cen || dim <= 0)
		return pd_err_set(err, PD_EREC, "pattern '%s' has no centroid", id);
	if (m->dim && dim != m->dim)
		return pd_err_set(err, PD_EREC,
				  "pattern '%s': centroid has %d dimensions, the patterns before %d",
				  id, dim, m->dim);
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->pat[i].id, id))
			return pd_err_set(err, PD_EREC, "pattern '%s' appears twice", id);
	pd_err ferr;
	pd_feature *f = pd_feature_from_json(fj, &ferr);
	if (!f)
		return pd_err_set(err, PD_EREC, "pattern '%s': feature: %s", id, ferr.msg);
	float norm = pd_vec_norm(cen, dim);
	if (!(norm > 0) || !isfinite(norm)) {
		pd_feature_free(f);
		return pd_err_set(err, PD_EREC, "pattern '%s' has a zero centroid", id);
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->pat = xreallocarray(m->pat, (size_t)m->cap, sizeof *m->pat);
		m->cent = xreallocarray(m->cent, (size_t)m->cap * (size_t)dim, sizeof *m->cent);
	}
	m->dim = dim;
	float *row = m->cent + (size_t)m->n * (size_t)dim;
	for (int k = 0; k < dim; k++)
		row[k] = cen[k] / norm;
	pd_pattern *p = &m->pat[m->n];
	memset(p, 0, sizeof *p);
	p->id = xstrdup(id);
	const char *s = pd_json_str(rec, "cluster");
	p->cluster = s ? xstrdup(s) : NULL;
	s = pd_json_str(rec, "name");
	p->name = s ? xstrdup(s) : NULL;
	p->feature = f;
	m->need |= pd_feature_needs(f);
	p->radius = radius;
	p->min_sim = (float)(1.0 - radius);
	s = pd_json_str(rec, "direction");
	p->negative = s && !strcmp(s, "negative");
	double lift, lo, hi, n_with;
	pattern_stats(p, rec, &lift, &lo, &hi, &n_with);
	explanations(p, lift, lo, hi, n_with);
	render(p);
	p->idrank = 0;
	for (int i = 0; i < m->n; i++) {
		if (strcmp(m->pat[i].id, id) < 0)
			p->idrank++;
		else
			m->pat[i].idrank++;
	}
	/* the set's hash: what changes an answer */
	uint64_t h = pd_hash64(id, strlen(id));
	h = mix(h, pd_feature_key(f));
	h = mix(h, pd_hash64(row, (unsigned long)dim * sizeof *row));
	h = mix(h, pd_hash64(p->explain_has, strlen(p->explain_has)));
	double nums[6] = { radius, p->exp_perf, p->exp_lo, p->exp_hi, p->gain, p->negative };
	h = mix(h, pd_hash64(nums, sizeof nums));
	m->hash = mix(m->hash, h);
	m->n++;
	return 1;
}

int pd_matcher_add_line(pd_matcher *m, const char *line, size_t len, pd_err *err)
{
	char type[32];
	int t = pd_json_type(line, len, type, sizeof type, err);
	if (t < 0)
		return -1;
	if (t == 0 || strcmp(type, "pattern"))
		return 0;
	const char *val;
	size_t vlen;
	float *cen = NULL;
	size_t cap = 0;
	int dim = 0, rc = -1;
	cJSON *rec = NULL;
	int f = pd_json_find(line, len, "centroid_b64", &val, &vlen, err);
	if (f < 0)
		return -1;
	if (f == 1) {
		if (pd_vec_parse_b64(val, vlen, &cen, &cap, &dim, err) < 0)
			goto out;
	} else {
		f = pd_json_find(line, len, "centroid", &val, &vlen, err);
		if (f < 0)
			return -1;
		if (f == 1 && pd_vec_parse_json(val, vlen, &cen, &cap, &dim, err) < 0)
			goto out;
	}
	rec = cJSON_ParseWithLength(line, len);
	if (!rec) {
		pd_err_set(err, PD_EREC, "pattern record is not valid JSON");
		goto out;
	}
	rc = pd_matcher_add(m, rec, cen, dim, err);
out:
	cJSON_Delete(rec);
	free(cen);
	return rc;
}

long pd_matcher_load_file(pd_matcher *m, const char *path, pd_err *err)
{
	char *const paths[1] = { (char *)path };
	pd_input *in = pd_input_open(paths, 1, PD_DEFAULT_MAX_LINE);
	const char *line;
	size_t len;
	long added = 0;
	int r;
	pd_err e;
	while ((r = pd_input_next(in, &line, &len, &e)) != PD_LINE_EOF) {
		if (r == PD_LINE_ERROR) {
			pd_err_set(err, PD_EUSAGE, "%s", e.msg);
			pd_input_free(in);
			return -1;
		}
		if (r == PD_LINE_TOOLONG) {
			pd_err_set(err, PD_EREC, "%s:%ld: line too long", pd_input_name(in),
				   pd_input_lineno(in));
			pd_input_free(in);
			return -1;
		}
		int k = pd_matcher_add_line(m, line, len, &e);
		if (k < 0) {
			pd_err_set(err, PD_EREC, "%s:%ld: %s", pd_input_name(in), pd_input_lineno(in),
				   e.msg);
			pd_input_free(in);
			return -1;
		}
		added += k;
	}
	pd_input_free(in);
	return added;
}

void pd_matcher_sims(const pd_matcher *m, const float *X, int nq, float *S)
{
	if (nq <= 0 || m->n <= 0)
		return;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, m->n, m->dim, 1.0f, X, m->dim,
		    m->cent, m->dim, 0.0f, S, m->n);
}

static const pd_matcher *sort_m;

static int hit_cmp(const void *a, const void *b)
{
	const pd_match_hit *x = a, *y = b;
	if (x->sim != y->sim)
		return x->sim > y->sim ? -1 : 1;
	return sort_m->pat[x->pat].idrank - sort_m->pat[y->pat].idrank;
}

/*
 * dot_fixed: x . c in one fixed order (8 running sums over k, then a fixed
 * tree), so a similarity does not depend on which batch, which row of it,
 * or how many BLAS threads produced the screening value.
 */
static float dot_fixed(const float *x, const float *c, int dim)
{
	float a[8] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	int k = 0;
	for (; k + 8 <= dim; k += 8)
		for (int l = 0; l < 8; l++)
			a[l] += x[k + l] * c[k + l];
	for (int l = 0; k < dim; k++, l++)
		a[l] += x[k] * c[k];
	return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/* Screening margin: BLAS and dot_fixed differ by ~1e-6 for unit vectors. */
#define SCREEN_MARGIN 1e-3f

int pd_match_select(const pd_matcher *m, const float *srow, const float *x,
		    pd_match_hit *hits)
{
	int nh = 0;
	for (int j = 0; j < m->n; j++) {
		if (srow[j] < m->pat[j].min_sim - SCREEN_MARGIN)
			continue;
		float sim = dot_fixed(x, m->cent + (size_t)j * (size_t)m->dim, m->dim);
		if (sim >= m->pat[j].min_sim) {
			hits[nh].pat = j;
			hits[nh].sim = sim;
			hits[nh].has = 0;
			nh++;
		}
	}
	if (nh > 1) {
		sort_m = m;
		qsort(hits, (size_t)nh, sizeof *hits, hit_cmp);
	}
	return nh;
}

void pd_match_fill_has(const pd_matcher *m, pd_match_hit *hits, int nh, const pd_vfeat *vf)
{
	for (int i = 0; i < nh; i++)
		hits[i].has = pd_feature_has(m->pat[hits[i].pat].feature, vf);
}

static int rec_cmp(const void *a, const void *b)
{
	const pd_match_hit *x = a, *y = b;
	double gx = sort_m->pat[x->pat].gain, gy = sort_m->pat[y->pat].gain;
	if (gx != gy)
		return gx > gy ? -1 : 1;
	return hit_cmp(a, b);
}

/*
 * add_sim: a similarity with 6 decimals.  (double)sim * 1e6 is exact (24 +
 * 20 bits), so this is the correctly rounded value (ties away from zero),
 * without printf's cost on the hot path.
 */
static void add_sim(pd_buf *b, float sim)
{
	if (!isfinite(sim)) {
		pd_buf_adds(b, "null");
		return;
	}
	long long v = llround((double)sim * 1e6);
	char tmp[32], *e = tmp + sizeof tmp, *q = e;
	int neg = v < 0;
	unsigned long long u = neg ? (unsigned long long)-v : (unsigned long long)v;
	for (int i = 0; i < 6; i++) {
		*--q = (char)('0' + u % 10);
		u /= 10;
	}
	*--q = '.';
	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (neg)
		*--q = '-';
	pd_buf_add(b, q, (size_t)(e - q));
}

void pd_match_write(const pd_matcher *m, const char *video_id, pd_match_hit *hits, int nh,
		    int group, int recommend, pd_buf *out)
{
	/* the video id, escaped once */
	static __thread pd_buf vid;
	pd_buf_reset(&vid);
	pd_buf_add_json_string(&vid, video_id, strlen(video_id));
	if (group) {
		pd_buf_adds(out, "{\"type\":\"match_group\",\"video_id\":");
		pd_buf_add(out, vid.p, vid.len);
		pd_buf_adds(out, ",\"matches\":[");
	}
	for (int i = 0; i < nh; i++) {
		const pd_pattern *p = &m->pat[hits[i].pat];
		const pd_buf *tail = hits[i].has ? &p->tail_has : &p->tail_lacks;
		pd_buf_grow(out, 64 + vid.len + p->head.len + tail->len);
		if (group) {
			pd_buf_adds(out, i ? ",{" : "{");
		} else {
			pd_buf_adds(out, "{\"type\":\"match\",\"video_id\":");
			pd_buf_add(out, vid.p, vid.len);
			pd_buf_addc(out, ',');
		}
		pd_buf_add(out, p->head.p, p->head.len);
		add_sim(out, hits[i].sim);
		pd_buf_add(out, tail->p, tail->len);
		pd_buf_adds(out, group ? "}" : "}\n");
	}
	if (group)
		pd_buf_addc(out, ']');
	if (recommend) {
		/* the positive patterns the video lacks with a known, positive gain */
		int nr = 0;
		for (int i = 0; i < nh; i++) {
			const pd_pattern *p = &m->pat[hits[i].pat];
			if (!hits[i].has && !p->negative && isfinite(p->gain) && p->gain > 0) {
				pd_match_hit t = hits[nr];
				hits[nr] = hits[i];
				hits[i] = t;
				nr++;
			}
		}
		if (nr > 1) {
			sort_m = m;
			qsort(hits, (size_t)nr, sizeof *hits, rec_cmp);
		}
		if (group)
			pd_buf_adds(out, ",\"recommendations\":[");
		for (int i = 0; i < nr; i++) {
			const pd_pattern *p = &m->pat[hits[i].pat];
			if (group) {
				pd_buf_adds(out, i ? ",{" : "{");
			} else {
				pd_buf_adds(out, "{\"type\":\"recommendation\",\"video_id\":");
				pd_buf_add(out, vid.p, vid.len);
				pd_buf_addc(out, ',');
			}
			pd_buf_printf(out, "\"rank\":%d,", i + 1);
			pd_buf_add(out, p->head.p, p->head.len);
			add_sim(out, hits[i].sim);
			pd_buf_add(out, p->rec_tail.p, p->rec_tail.len);
			pd_buf_adds(out, group ? "}" : "}\n");
		}
		if (group)
			pd_buf_addc(out, ']');
	}
	if (group)
		pd_buf_adds(out, "}\n");
}

int pd_match_pinecone_fetch(const char *id, float **out, size_t *cap, int *dim, pd_err *err)
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
