/*
 * match.c — the pattern set of pd-match and the matching of one batch of
 * videos against it; see match.h.
 *
 * Everything that can be decided once per pattern is decided at load time:
 * the unit centroid, the cluster it belongs to (with a hierarchy: the
 * patterns listed per node, so a video's patterns are those of its three
 * nodes), the expected performance with its interval, and the pieces of the
 * records (video has / lacks the feature, the recommendation), rendered once
 * by pd_matcher_finish.  Per video there is then only the placement (or,
 * without a hierarchy, a row of one matrix product and its radius scan), a
 * predicate test per applicable pattern (the same lib/features.h code
 * pd-mine counted with), and copying.
 *
 * The similarity that is written is computed in one fixed order (dot_fixed)
 * from the video and the pattern's unit centroid, once per distinct
 * centroid among a video's patterns (a cluster's patterns share it), so
 * answers are the same bytes whatever the batch.
 */
#include "pd.h"
#include "match.h"
#include "features.h"
#include "pattern.h"
#include "blas.h"
#include "kmeans.h"
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

static void pattern_release(pd_match_pattern *p)
{
	free(p->id);
	free(p->cluster);
	free(p->name);
	free(p->level);
	free(p->label);
	free(p->status);
	free(p->kind);
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
	pd_hier_release(&m->hier);
	pd_strmap_free(m->node_ids);
	free(m->node_first);
	free(m->node_pat);
	free(m->src);
	free(m);
}

int pd_matcher_set_hier(pd_matcher *m, pd_hier *h, pd_err *err)
{
	if (m->hier.n)
		return pd_err_set(err, PD_EUSAGE, "a hierarchy is set already");
	m->hier = *h;
	memset(h, 0, sizeof *h);
	return 0;
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h;
}

/* a finite number, or NAN (a record's null is NAN already) */
static double fin(double v)
{
	return isfinite(v) ? v : NAN;
}

/* What the explanations say besides the expected performance. */
typedef struct evid {
	double lift, lo, hi;	/* stats.lift and lift_ci (older records) */
	double n_with;
	double perf_with;	/* median perf with the feature, as recorded */
} evid;

/*
 * pattern_stats: the performance figures of a pattern from its stats, as
 * lib/pattern's reader gives them (pr; older records through its
 * compatibility path), with stats.effect or the older computation
 * (match.h).  Returns 0, or -1 with err when the record contradicts itself.
 */
static int pattern_stats(pd_match_pattern *p, const cJSON *rec, const pd_pattern *pr, evid *ev,
			 pd_err *err)
{
	double with = fin(pr->stats.median_with);
	ev->perf_with = with;
	p->perf_without = fin(pr->stats.median_without);
	ev->lift = fin(pr->stats.lift);
	ev->lo = fin(pr->stats.lift_lo);
	ev->hi = fin(pr->stats.lift_hi);
	if (!isfinite(ev->lo) || !isfinite(ev->hi))
		ev->lo = ev->hi = NAN;	/* as before: an unusable interval is no interval */
	ev->n_with = fin(pr->stats.n_with);

	/* the record agrees with itself: the check pd-validate and pd-store make
	   (lib/pattern.h), so what one command accepts the others do */
	pd_err e;
	if (pd_pattern_check_effect(rec, &e) < 0)
		return pd_err_set(err, PD_EREC, "pattern '%s': %s", p->id, e.msg);
	/* the effect (a multiplier) and its interval, when the record has them */
	double eff, lo, hi;
	p->effect = p->effect_lo = p->effect_hi = NAN;
	if (pd_pattern_effect(rec, &eff, &lo, &hi) == 2) {
		p->effect = eff;
		p->effect_lo = lo;
		p->effect_hi = hi;
	}

	p->exp_lo = p->exp_hi = p->gain = p->gain_lo = p->gain_hi = NAN;
	if (isfinite(p->effect) && isfinite(p->perf_without) && p->perf_without > 0) {
		p->exp_perf = p->perf_without * p->effect;
		if (isfinite(p->effect_lo)) {
			p->exp_lo = p->perf_without * p->effect_lo;
			p->exp_hi = p->perf_without * p->effect_hi;
		}
	} else {
		p->exp_perf = with;
		if (isfinite(p->exp_perf)) {
			if (isfinite(ev->lift) && ev->lift > 0 && isfinite(ev->lo) && isfinite(ev->hi) &&
			    ev->lo <= ev->hi) {
				p->exp_lo = p->exp_perf * ev->lo / ev->lift;
				p->exp_hi = p->exp_perf * ev->hi / ev->lift;
			} else {
				p->exp_lo = p->exp_hi = p->exp_perf;
			}
		}
	}
	if (isfinite(p->exp_perf) && isfinite(p->perf_without)) {
		p->gain = p->exp_perf - p->perf_without;
		if (isfinite(p->exp_lo) && isfinite(p->exp_hi)) {
			p->gain_lo = p->exp_lo - p->perf_without;
			p->gain_hi = p->exp_hi - p->perf_without;
		}
	}
	return 0;
}

/* The evidence clause shared by both explanations. */
static void evidence(pd_buf *b, const pd_match_pattern *p, const evid *ev)
{
	if (isfinite(p->effect)) {
		pd_buf_printf(b, "%.2fx the performance of the niche's videos without it", p->effect);
		if (isfinite(p->effect_lo))
			pd_buf_printf(b, " (interval %.2f-%.2f)", p->effect_lo, p->effect_hi);
		if (isfinite(p->perf_without) && isfinite(ev->perf_with))
			pd_buf_printf(b, "; median %.2fx the channel norm with it vs %.2fx without",
				      ev->perf_with, p->perf_without);
		else if (isfinite(p->perf_without))
			pd_buf_printf(b, "; median %.2fx the channel norm without it",
				      p->perf_without);
	} else {
		if (isfinite(p->exp_perf) && isfinite(p->perf_without))
			pd_buf_printf(b, "median %.2fx the channel norm with it vs %.2fx without",
				      p->exp_perf, p->perf_without);
		else if (isfinite(p->exp_perf))
			pd_buf_printf(b, "median %.2fx the channel norm with it", p->exp_perf);
		else
			pd_buf_adds(b, "performance not recorded");
		if (isfinite(ev->lift)) {
			pd_buf_printf(b, "; lift %.2f", ev->lift);
			if (isfinite(ev->lo) && isfinite(ev->hi))
				pd_buf_printf(b, " (95%% CI %.2f-%.2f)", ev->lo, ev->hi);
		}
	}
	if (isfinite(ev->n_with))
		pd_buf_printf(b, ", %.0f videos with it", ev->n_with);
}

static void explanations(pd_match_pattern *p, const evid *ev)
{
	pd_buf d = PD_BUF_INIT, b = PD_BUF_INIT;
	pd_feature_describe(p->feature, &d);
	const char *desc = d.p ? d.p : "the feature";
	pd_buf_printf(&b, "has %s, which in this niche goes with %s performance: ", desc,
		      p->negative ? "lower" : "higher");
	evidence(&b, p, ev);
	p->explain_has = pd_buf_detach(&b);
	pd_buf_printf(&b, "lacks %s, which in this niche goes with %s performance: ", desc,
		      p->negative ? "lower" : "higher");
	evidence(&b, p, ev);
	p->explain_lacks = pd_buf_detach(&b);
	pd_buf_release(&d);
}

/* A number as JSON: null when not finite. */
/* [lo,hi], or null when either is unknown */
static void add_interval(pd_buf *b, double lo, double hi)
{
	if (isfinite(lo) && isfinite(hi)) {
		pd_buf_addc(b, '[');
		pd_buf_add_num_sig(b, lo, 4);
		pd_buf_addc(b, ',');
		pd_buf_add_num_sig(b, hi, 4);
		pd_buf_addc(b, ']');
	} else {
		pd_buf_adds(b, "null");
	}
}

static void add_str_or_null(pd_buf *b, const char *s)
{
	if (s)
		pd_buf_add_json_string(b, s, strlen(s));
	else
		pd_buf_adds(b, "null");
}

/* ,"status":..,"kind":.. when the record has them */
static void add_status_kind(pd_buf *b, const pd_match_pattern *p)
{
	if (p->status) {
		pd_buf_adds(b, ",\"status\":");
		add_str_or_null(b, p->status);
	}
	if (p->kind) {
		pd_buf_adds(b, ",\"kind\":");
		add_str_or_null(b, p->kind);
	}
}

static void add_effect(pd_buf *b, const pd_match_pattern *p)
{
	if (!isfinite(p->effect))
		return;
	pd_buf_adds(b, ",\"effect\":");
	pd_buf_add_num_sig(b, p->effect, 4);
	pd_buf_adds(b, ",\"effect_ci\":");
	add_interval(b, p->effect_lo, p->effect_hi);
}

static void render_tail(pd_buf *b, const pd_match_pattern *p, int has)
{
	pd_buf_adds(b, ",\"radius\":");
	pd_buf_add_num(b, p->radius);
	pd_buf_adds(b, has ? ",\"has_feature\":true" : ",\"has_feature\":false");
	add_status_kind(b, p);
	pd_buf_adds(b, ",\"expected_perf\":");
	pd_buf_add_num_sig(b, p->exp_perf, 4);
	pd_buf_adds(b, ",\"expected_perf_ci\":");
	add_interval(b, p->exp_lo, p->exp_hi);
	add_effect(b, p);
	const char *ex = has ? p->explain_has : p->explain_lacks;
	pd_buf_adds(b, ",\"explanation\":");
	pd_buf_add_json_string(b, ex, strlen(ex));
}

/* render: the pre-rendered pieces of p's records (pd_matcher_finish). */
static void render(const pd_matcher *m, pd_match_pattern *p)
{
	const pd_cl_node *nd = p->node >= 0 ? &m->hier.node[p->node] : NULL;
	const char *label = p->label ? p->label : nd ? nd->label : NULL;
	const char *level = p->level ? p->level : nd ? pd_level_name[nd->level] : NULL;
	pd_buf_reset(&p->head);
	pd_buf_reset(&p->tail_has);
	pd_buf_reset(&p->tail_lacks);
	pd_buf_reset(&p->rec_tail);
	pd_buf_adds(&p->head, "\"pattern_id\":");
	pd_buf_add_json_string(&p->head, p->id, strlen(p->id));
	pd_buf_adds(&p->head, ",\"cluster\":");
	add_str_or_null(&p->head, p->cluster);
	pd_buf_adds(&p->head, ",\"level\":");
	add_str_or_null(&p->head, level);
	pd_buf_adds(&p->head, ",\"label\":");
	add_str_or_null(&p->head, label);
	pd_buf_adds(&p->head, ",\"similarity\":");
	render_tail(&p->tail_has, p, 1);
	render_tail(&p->tail_lacks, p, 0);
	add_status_kind(&p->rec_tail, p);
	pd_buf_adds(&p->rec_tail, ",\"expected_perf\":");
	pd_buf_add_num_sig(&p->rec_tail, p->exp_perf, 4);
	pd_buf_adds(&p->rec_tail, ",\"expected_perf_ci\":");
	add_interval(&p->rec_tail, p->exp_lo, p->exp_hi);
	pd_buf_adds(&p->rec_tail, ",\"expected_gain\":");
	pd_buf_add_num_sig(&p->rec_tail, p->gain, 4);
	pd_buf_adds(&p->rec_tail, ",\"expected_gain_ci\":");
	add_interval(&p->rec_tail, p->gain_lo, p->gain_hi);
	add_effect(&p->rec_tail, p);
	pd_buf_adds(&p->rec_tail, ",\"explanation\":");
	pd_buf_add_json_string(&p->rec_tail, p->explain_lacks, strlen(p->explain_lacks));
}

static int add_read(pd_matcher *m, const cJSON *rec, pd_pattern *pr, const float *cen, int dim,
		    pd_err *err);

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
	if (m->finished)
		return pd_err_set(err, PD_EUSAGE, "pattern '%s' added after pd_matcher_finish", id);
	const cJSON *fj = cJSON_GetObjectItemCaseSensitive(rec, "feature");
	if (!cJSON_IsObject(fj))
		return pd_err_set(err, PD_EREC, "pattern '%s' has no \"feature\" object", id);
	/* the checks pd-validate and pd-store make (lib/pattern.h); the centroid
	   comes as cen (from the record or the database) and is checked here */
	if (pd_pattern_check(rec, 0, err) < 0)
		return -1;
	/* the fields through lib/pattern's one reader (older records' aliases there) */
	pd_pattern pr;
	if (pd_pattern_read(rec, &pr, err) < 0) {
		pd_pattern_release(&pr);
		return -1;
	}
	int rc = add_read(m, rec, &pr, cen, dim, err);
	pd_pattern_release(&pr);
	return rc;
}

static int add_read(pd_matcher *m, const cJSON *rec, pd_pattern *pr, const float *cen, int dim,
		    pd_err *err)
{
	const char *id = pr->id;
	double radius = pr->radius;
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
	float norm = pd_vec_norm(cen, dim);
	if (!(norm > 0) || !isfinite(norm))
		return pd_err_set(err, PD_EREC, "pattern '%s' has a zero centroid", id);
	pd_err ferr;
	pd_feature *f = pd_feature_from_json(cJSON_GetObjectItemCaseSensitive(rec, "feature"), &ferr);
	if (!f)
		return pd_err_set(err, PD_EREC, "pattern '%s': feature: %s", id, ferr.msg);
	pd_match_pattern tmp;
	memset(&tmp, 0, sizeof tmp);
	pd_match_pattern *p = &tmp;
	p->id = xstrdup(id);
	p->feature = f;
	p->node = -1;
	p->negative = pr->positive == 0;
	evid ev;
	if (pattern_stats(p, rec, pr, &ev, err) < 0) {
		pattern_release(p);
		return -1;
	}
	/* the strings move from the reader's struct */
	p->cluster = pr->cluster;
	p->level = pr->level;
	p->name = pr->name;
	p->kind = pr->kind;
	pr->cluster = pr->level = pr->name = pr->kind = NULL;
	p->label = pd_cluster_label(cJSON_GetObjectItemCaseSensitive(rec, "label"));
	const char *status = pr->status;
	p->status = status && strcmp(status, "validated") ? xstrdup(status) : NULL;
	p->provisional = status && !strcmp(status, "provisional");
	p->radius = radius;
	p->min_sim = (float)(1.0 - radius);
	explanations(p, &ev);
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->pat = xreallocarray(m->pat, (size_t)m->cap, sizeof *m->pat);
		m->cent = xreallocarray(m->cent, (size_t)m->cap * (size_t)dim, sizeof *m->cent);
	}
	m->dim = dim;
	float *row = m->cent + (size_t)m->n * (size_t)dim;
	for (int k = 0; k < dim; k++)
		row[k] = cen[k] / norm;
	p->row_hash = pd_hash64(row, (unsigned long)dim * sizeof *row);
	p->need = pd_feature_needs(f);
	m->need |= p->need;
	p->idrank = 0;
	for (int i = 0; i < m->n; i++) {
		if (strcmp(m->pat[i].id, id) < 0)
			p->idrank++;
		else
			m->pat[i].idrank++;
	}
	m->pat[m->n++] = tmp;
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
	float *cen = NULL;
	size_t cap = 0;
	int dim = 0, rc = -1;
	cJSON *rec = cJSON_ParseWithLength(line, len);
	if (!rec)
		return pd_err_set(err, PD_EREC, "pattern record is not valid JSON");
	const char *status = pd_json_str(rec, "status");
	/* the one validator first, so a bad centroid is named with its pattern */
	if (!(status && !strcmp(status, "rejected")) && pd_pattern_check(rec, 0, err) < 0)
		goto out;
	/* the centroid as lib/pattern's reader gives it (base64, an array re-encoded) */
	pd_pattern pr;
	if (pd_pattern_read(rec, &pr, err) < 0) {
		pd_pattern_release(&pr);
		goto out;
	}
	if (pr.centroid_b64) {
		pd_buf q = PD_BUF_INIT;
		pd_buf_add_json_string(&q, pr.centroid_b64, strlen(pr.centroid_b64));
		int pr_rc = pd_vec_parse_b64(q.p, q.len, &cen, &cap, &dim, err);
		pd_buf_release(&q);
		if (pr_rc < 0) {
			pd_pattern_release(&pr);
			goto out;
		}
	}
	pd_pattern_release(&pr);
	rc = pd_matcher_add(m, rec, cen, dim, err);
out:
	cJSON_Delete(rec);
	free(cen);
	return rc;
}

long pd_matcher_load_file(pd_matcher *m, const char *path, int with_clusters, pd_err *err)
{
	char *const paths[1] = { (char *)path };
	pd_input *in = pd_input_open(paths, 1, PD_DEFAULT_MAX_LINE);
	const char *line;
	size_t len;
	long added = 0, nclusters = 0;
	int r;
	pd_err e;
	pd_hier h;
	pd_hier_init(&h, 0);
	with_clusters = with_clusters && !m->hier.n;
	free(m->src);
	m->src = xstrdup(path);
	while ((r = pd_input_next(in, &line, &len, &e)) != PD_LINE_EOF) {
		if (r == PD_LINE_ERROR) {
			pd_err_set(err, PD_EUSAGE, "%s", e.msg);
			goto fail;
		}
		if (r == PD_LINE_TOOLONG) {
			pd_err_set(err, PD_EREC, "%s:%ld: line too long", pd_input_name(in),
				   pd_input_lineno(in));
			goto fail;
		}
		char type[32];
		if (pd_json_type(line, len, type, sizeof type, &e) < 0) {
			pd_err_set(err, PD_EREC, "%s:%ld: %s", pd_input_name(in), pd_input_lineno(in),
				   e.msg);
			goto fail;
		}
		int k = 0;
		if (!strcmp(type, "pattern")) {
			k = pd_matcher_add_line(m, line, len, &e);
			if (k == 1)
				m->pat[m->n - 1].line = pd_input_lineno(in);
		} else if (with_clusters && !strcmp(type, "cluster")) {
			if (pd_hier_add_line(&h, line, len, &e) < 0) {
				e.code = PD_EREC;
				k = -1;
			} else {
				nclusters++;
			}
		}
		if (k < 0) {
			pd_err_set(err, PD_EREC, "%s:%ld: %s", pd_input_name(in), pd_input_lineno(in),
				   e.msg);
			goto fail;
		}
		added += k;
	}
	pd_input_free(in);
	in = NULL;
	if (nclusters) {
		if (pd_hier_finish(&h, &e) < 0) {
			pd_err_set(err, PD_EREC, "%s: the cluster records: %s", path, e.msg);
			goto fail;
		}
		pd_matcher_set_hier(m, &h, &e);
	}
	pd_hier_release(&h);
	return added;
fail:
	pd_input_free(in);
	pd_hier_release(&h);
	return -1;
}

/* where: "FILE:LINE: " for a pattern from a file, "" otherwise */
static void where(const pd_matcher *m, const pd_match_pattern *p, char *buf, size_t cap)
{
	if (m->src && p->line > 0)
		snprintf(buf, cap, "%s:%ld: ", m->src, p->line);
	else
		buf[0] = '\0';
}

int pd_matcher_finish(pd_matcher *m, pd_err *err)
{
	char at[600];
	pd_hier *h = &m->hier;
	if (h->n) {
		if (m->n && h->d != m->dim)
			return pd_err_set(err, PD_EREC, "the clusters' centroids have %d dimensions, "
					  "the patterns' %d", h->d, m->dim);
		if (!m->dim)
			m->dim = h->d;
		pd_strmap_free(m->node_ids);
		m->node_ids = pd_strmap_new();
		for (int i = 0; i < h->n; i++) {
			int added;
			pd_strmap_intern(m->node_ids, h->node[i].id, strlen(h->node[i].id), &added);
		}
		for (int j = 0; j < m->n; j++) {
			pd_match_pattern *p = &m->pat[j];
			where(m, p, at, sizeof at);
			if (!p->cluster)
				return pd_err_set(err, PD_EREC, "%spattern '%s' has no \"cluster\": with a "
						  "hierarchy, a pattern applies to its cluster", at, p->id);
			p->node = pd_strmap_find(m->node_ids, p->cluster, strlen(p->cluster));
			if (p->node < 0)
				return pd_err_set(err, PD_EREC, "%spattern '%s': cluster '%s' is not in "
						  "the hierarchy", at, p->id, p->cluster);
			const char *lv = pd_level_name[h->node[p->node].level];
			if (p->level && strcmp(p->level, lv))
				return pd_err_set(err, PD_EREC, "%spattern '%s': level '%s', but cluster "
						  "'%s' is a %s cluster", at, p->id, p->level,
						  p->cluster, lv);
		}
		/* the patterns of each node, by id */
		free(m->node_first);
		free(m->node_pat);
		m->node_first = xcalloc((size_t)h->n + 1, sizeof *m->node_first);
		m->node_pat = xmalloc(((size_t)m->n + 1) * sizeof *m->node_pat);
		for (int j = 0; j < m->n; j++)
			m->node_first[m->pat[j].node + 1]++;
		for (int i = 0; i < h->n; i++)
			m->node_first[i + 1] += m->node_first[i];
		int *fill = xmalloc(((size_t)h->n + 1) * sizeof *fill);
		memcpy(fill, m->node_first, (size_t)h->n * sizeof *fill);
		int *byid = xmalloc(((size_t)m->n + 1) * sizeof *byid);
		for (int j = 0; j < m->n; j++)
			byid[m->pat[j].idrank] = j;
		for (int r = 0; r < m->n; r++)
			m->node_pat[fill[m->pat[byid[r]].node]++] = byid[r];
		free(byid);
		free(fill);
		m->hier_hash = pd_hier_hash(h);
	}
	/* the set's hash: what changes an answer (ids, predicates, centroids,
	   thresholds, the rendered records, the hierarchy), independent of order */
	uint64_t hs = 0x9e3779b97f4a7c15ull;
	for (int j = 0; j < m->n; j++) {
		pd_match_pattern *p = &m->pat[j];
		render(m, p);
		uint64_t x = pd_hash64(p->id, strlen(p->id));
		x = mix(x, pd_feature_key(p->feature));
		x = mix(x, p->row_hash);
		x = mix(x, pd_hash64(&p->min_sim, sizeof p->min_sim));
		x = mix(x, pd_hash64(p->head.p, p->head.len));
		x = mix(x, pd_hash64(p->tail_has.p, p->tail_has.len));
		x = mix(x, pd_hash64(p->tail_lacks.p, p->tail_lacks.len));
		x = mix(x, pd_hash64(p->rec_tail.p, p->rec_tail.len));
		x = mix(x, (uint64_t)(p->negative | p->provisional << 1));
		hs += x;	/* a sum: the same set in another order hashes the same */
	}
	m->hash = mix(mix(hs, m->hier_hash), (uint64_t)m->n);
	m->finished = 1;
	return 0;
}

/* batches of fewer rows than this screen with pd_km_dots, not sgemm */
#define SIMS_DOTS_BELOW 16

void pd_matcher_sims(const pd_matcher *m, const float *X, int nq, float *S)
{
	if (nq <= 0 || m->n <= 0 || m->hier.n)
		return;
	/* a few rows (coprocess use answers one line at a time): sgemm would
	   pack the whole centroid matrix for each call, about 20 us of a
	   one-line answer here; the SIMD dot products of the k-means (the
	   descent's kernel) take it row by row instead.  The screen's values
	   differ from sgemm's in the last bits only, within its margin. */
	if (nq < SIMS_DOTS_BELOW) {
		for (int i = 0; i < nq; i++)
			pd_km_dots(X + (size_t)i * (size_t)m->dim, m->cent, m->n, m->dim,
				   S + (size_t)i * (size_t)m->n);
		return;
	}
	pd_sgemm(CblasNoTrans, CblasTrans, nq, m->n, m->dim, 1.0f, X, m->dim,
		    m->cent, m->dim, 0.0f, S, m->n);
}

/* hit_cmp: by similarity (highest first), then pattern id: a total order */
static int hit_cmp(const pd_matcher *m, const pd_match_hit *x, const pd_match_hit *y)
{
	if (x->sim != y->sim)
		return x->sim > y->sim ? -1 : 1;
	return m->pat[x->pat].idrank - m->pat[y->pat].idrank;
}

/* rec_cmp: recommendations by gain (highest first), then as hit_cmp */
static int rec_cmp(const pd_matcher *m, const pd_match_hit *x, const pd_match_hit *y)
{
	double gx = m->pat[x->pat].gain, gy = m->pat[y->pat].gain;
	if (gx != gy)
		return gx > gy ? -1 : 1;
	return hit_cmp(m, x, y);
}

typedef int (*hit_order)(const pd_matcher *, const pd_match_hit *, const pd_match_hit *);

/*
 * sort_hits: h[0..n) by cmp, which reads the matcher it is given rather than
 * a file-scope variable (what qsort would need), so matchers on several
 * threads sort at once.  Both orders are total (ids are unique), so the
 * result is the one any correct sort gives: insertion for a few hits (the
 * usual three nodes' patterns), a merge through scratch space beyond.
 */
static void sort_hits(pd_match_hit *h, int n, const pd_matcher *m, hit_order cmp)
{
	if (n <= 24) {
		for (int i = 1; i < n; i++) {
			pd_match_hit t = h[i];
			int j = i;
			for (; j > 0 && cmp(m, &t, &h[j - 1]) < 0; j--)
				h[j] = h[j - 1];
			h[j] = t;
		}
		return;
	}
	int a = n / 2;
	sort_hits(h, a, m, cmp);
	sort_hits(h + a, n - a, m, cmp);
	pd_match_hit *t = xmalloc((size_t)a * sizeof *t);
	memcpy(t, h, (size_t)a * sizeof *t);
	int i = 0, j = a, k = 0;
	while (i < a && j < n)
		h[k++] = cmp(m, &h[j], &t[i]) < 0 ? h[j++] : t[i++];
	while (i < a)
		h[k++] = t[i++];
	free(t);
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
		    pd_match_hit *hits, int place[PD_NLEVELS])
{
	int nh = 0;
	if (m->hier.n) {
		if (place[0] < 0) {
			/* no direction (pd-embed's zero vector): no cluster, as pd-cluster
			   leaves it unclustered */
			int k = 0;
			while (k < m->dim && x[k] == 0)
				k++;
			if (k == m->dim)
				return 0;
			pd_hier_place(&m->hier, x, place, NULL);
		}
		for (int L = 0; L < PD_NLEVELS; L++) {
			int c = place[L];
			uint64_t last = 0;
			float sim = 0;
			for (int k = m->node_first[c]; k < m->node_first[c + 1]; k++) {
				int j = m->node_pat[k];
				/* a cluster's patterns share its centroid: one product */
				if (k == m->node_first[c] || m->pat[j].row_hash != last) {
					sim = dot_fixed(x, m->cent + (size_t)j * (size_t)m->dim, m->dim);
					last = m->pat[j].row_hash;
				}
				hits[nh].pat = j;
				hits[nh].sim = sim;
				hits[nh].has = 0;
				nh++;
			}
		}
	} else {
		for (int L = 0; L < PD_NLEVELS; L++)
			place[L] = -1;
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
	}
	sort_hits(hits, nh, m, hit_cmp);
	return nh;
}

void pd_matcher_place_format(const pd_matcher *m, const int place[PD_NLEVELS], pd_buf *out)
{
	for (int L = 0; L < PD_NLEVELS; L++) {
		if (L)
			pd_buf_addc(out, '\t');
		pd_buf_adds(out, m->hier.node[place[L]].id);
	}
}

int pd_matcher_place_parse(const pd_matcher *m, const char *s, size_t n, int place[PD_NLEVELS])
{
	if (!m->hier.n || !m->node_ids)
		return 0;
	const char *e = s + n;
	int got[PD_NLEVELS];	/* place[] is written only when all of it holds */
	for (int L = 0; L < PD_NLEVELS; L++) {
		const char *t = memchr(s, '\t', (size_t)(e - s));
		if (!t)
			t = e;
		if ((t == e) != (L == PD_NLEVELS - 1))
			return 0;
		int c = pd_strmap_find(m->node_ids, s, (size_t)(t - s));
		if (c < 0 || m->hier.node[c].level != L || (L && m->hier.node[c].parent != got[L - 1]))
			return 0;
		got[L] = c;
		s = t + 1;
	}
	memcpy(place, got, sizeof got);
	return 1;
}

unsigned pd_match_hits_need(const pd_matcher *m, const pd_match_hit *hits, int nh)
{
	unsigned need = 0;
	for (int i = 0; i < nh; i++)
		need |= m->pat[hits[i].pat].need;
	return need;
}

void pd_match_fill_has(const pd_matcher *m, pd_match_hit *hits, int nh, const pd_vfeat *vf)
{
	for (int i = 0; i < nh; i++)
		hits[i].has = pd_feature_has(m->pat[hits[i].pat].feature, vf);
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
		    int group, int recommend, const int *place, pd_buf *out)
{
	/* the video id, escaped once */
	pd_buf vid = PD_BUF_INIT;
	pd_buf_add_json_string(&vid, video_id, strlen(video_id));
	if (group) {
		pd_buf_adds(out, "{\"type\":\"match_group\",\"video_id\":");
		pd_buf_add(out, vid.p, vid.len);
		if (place && place[0] >= 0 && m->hier.n) {
			pd_buf_adds(out, ",\"cluster\":{");
			for (int L = 0; L < PD_NLEVELS; L++) {
				const char *id = m->hier.node[place[L]].id;
				pd_buf_adds(out, L == 0 ? "\"macro\":" : L == 1 ? ",\"meso\":" : ",\"micro\":");
				pd_buf_add_json_string(out, id, strlen(id));
			}
			pd_buf_addc(out, '}');
		}
		pd_buf_adds(out, ",\"matches\":[");
	}
	for (int i = 0; i < nh; i++) {
		const pd_match_pattern *p = &m->pat[hits[i].pat];
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
		/* the positive patterns the video lacks with a known, positive gain
		   (provisional ones only when asked); a topic feature (an n-gram,
		   a tag, a category) says what another video is about, not what to
		   change, so it is recommended only when asked */
		int nr = 0;
		for (int i = 0; i < nh; i++) {
			const pd_match_pattern *p = &m->pat[hits[i].pat];
			if (!hits[i].has && !p->negative && isfinite(p->gain) && p->gain > 0 &&
			    (!p->provisional || (recommend & PD_RECOMMEND_PROVISIONAL)) &&
			    (!pd_feature_is_topic(p->feature) || (recommend & PD_RECOMMEND_TOPICS))) {
				pd_match_hit t = hits[nr];
				hits[nr] = hits[i];
				hits[i] = t;
				nr++;
			}
		}
		sort_hits(hits, nr, m, rec_cmp);
		if (group)
			pd_buf_adds(out, ",\"recommendations\":[");
		for (int i = 0; i < nr; i++) {
			const pd_match_pattern *p = &m->pat[hits[i].pat];
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
	pd_buf_release(&vid);
}
