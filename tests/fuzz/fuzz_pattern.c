/*
 * fuzz_pattern.c — libFuzzer target: pattern records, read the ways
 * pd-validate, pd-store and pd-match read them.  The input is an NDJSON
 * file of pattern, cluster and video records.  Each line: the one validator
 * (pd_pattern_check, with and without need_place) and pd_pattern_effect;
 * pd-validate's reader (pd_validator_add_pattern / _add_cluster /
 * _add_video, then pd_validator_run); and pd-match's loader on the whole
 * file (pd_matcher_load_file with its clusters, pd_matcher_finish), whose
 * loaded set then matches a few embeddings and a draft and writes the
 * answers.  A record pd_pattern_check refuses with need_place must never be
 * matched.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/pattern.h"
#include "../../lib/match.h"
#include "../../lib/validate.h"
#include "fz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ids of pattern records pd_pattern_check(rec, 1) refuses, and of those it accepts */
static char *refused[4096], *accepted[4096];
static int nrefused, naccepted;

static int listed(char *const *l, int n, const char *id)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(l[i], id))
			return 1;
	return 0;
}

static void check_lines(const uint8_t *data, size_t size)
{
	pd_validate_opts vo;
	pd_validate_opts_default(&vo);
	pd_validator *v = pd_validator_new(&vo);
	const char *p = (const char *)data, *end = p + size;
	pd_err err;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		cJSON *rec = cJSON_ParseWithLength(p, len);
		p += len + (nl ? 1 : 0);
		if (!cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			continue;
		}
		int a = pd_pattern_check(rec, 0, &err), b = pd_pattern_check(rec, 1, &err);
		if (b == 0 && a != 0)
			abort();	/* need_place only adds checks */
		double e, lo, hi;
		int k = pd_pattern_effect(rec, &e, &lo, &hi);
		if (k < 0 || k > 2)
			abort();
		const char *type = pd_json_str(rec, "type"), *id = pd_json_str(rec, "id");
		if (type && !strcmp(type, "pattern") && id) {
			if (b != 0 && nrefused < 4096)
				refused[nrefused++] = xstrdup(id);
			else if (b == 0 && naccepted < 4096)
				accepted[naccepted++] = xstrdup(id);
		}
		if (type && !strcmp(type, "pattern")) {
			pd_validator_add_pattern(v, rec, &err);	/* takes rec */
			continue;
		}
		if (type && !strcmp(type, "cluster"))
			pd_validator_add_cluster(v, rec);
		else if (type && !strcmp(type, "video"))
			pd_validator_add_video(v, rec, &err);
		cJSON_Delete(rec);
	}
	pd_validate_summary sum;
	pd_validator_run(v, &sum);
	for (size_t i = 0; i < pd_validator_npatterns(v); i++) {
		cJSON *it = pd_validator_review_item(v, i);
		cJSON_Delete(it);
	}
	pd_validator_free(v);
}

static void match(const uint8_t *data, size_t size)
{
	const char *path = fz_file(data, size, NULL, 0);
	pd_err err;
	pd_matcher *m = pd_matcher_new();
	if (pd_matcher_load_file(m, path, 1, &err) < 0 || pd_matcher_finish(m, &err) < 0 || m->n == 0 ||
	    m->dim < 1 || m->dim > 4096) {
		pd_matcher_free(m);
		return;
	}
	for (int i = 0; i < m->n; i++)	/* pd-match loads nothing pd-store would refuse */
		if (listed(refused, nrefused, m->pat[i].id) && !listed(accepted, naccepted, m->pat[i].id))
			abort();
	int d = m->dim;
	float *x = xcalloc((size_t)d, sizeof *x), *S = xcalloc((size_t)m->n, sizeof *S);
	pd_match_hit *hits = xcalloc((size_t)m->n, sizeof *hits);
	pd_vfeat *vf = pd_vfeat_new();
	pd_vfeat_set_title(vf, "How to bake bread? 10 tips");
	pd_buf out = PD_BUF_INIT;
	for (int q = 0; q < 3; q++) {
		/* e0, the all-equal direction, the first centroid */
		for (int i = 0; i < d; i++)
			x[i] = q == 0 ? (i == 0) : q == 1 ? 1.0f / sqrtf((float)d) : m->cent[i];
		pd_matcher_sims(m, x, 1, S);
		int place[PD_NLEVELS] = { -1, -1, -1 };
		int nh = pd_match_select(m, S, x, hits, place);
		if (nh < 0 || nh > m->n)
			abort();
		for (int i = 0; i < nh; i++)
			if (hits[i].pat < 0 || hits[i].pat >= m->n)
				abort();
		pd_match_fill_has(m, hits, nh, vf);
		pd_match_write(m, "v", hits, nh, q & 1, PD_RECOMMEND | PD_RECOMMEND_PROVISIONAL, place, &out);
		if (place[0] >= 0) {
			pd_buf pb = PD_BUF_INIT;
			int back[PD_NLEVELS] = { -1, -1, -1 };
			pd_matcher_place_format(m, place, &pb);
			if (!pd_matcher_place_parse(m, pb.p, pb.len, back) || memcmp(back, place, sizeof back))
				abort();
			pd_buf_release(&pb);
		}
	}
	pd_buf_release(&out);
	pd_vfeat_free(vf);
	free(hits);
	free(S);
	free(x);
	pd_matcher_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_lines(data, size);
	match(data, size);
	for (int i = 0; i < nrefused; i++)
		free(refused[i]);
	for (int i = 0; i < naccepted; i++)
		free(accepted[i]);
	nrefused = naccepted = 0;
	return 0;
}
