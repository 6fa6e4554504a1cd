/*
 * db_patterns.c — what pd-match reads from PostgreSQL: the active set's
 * patterns and the active run's cluster hierarchy (loaded once into a
 * matcher) and one stored video by id (for inputs that carry only an id);
 * declared in match.h.
 *
 * The active set is the view active_patterns (schema.c): the patterns of the
 * run whose discovery_runs.status is 'active'; its clusters are the view
 * active_clusters.  pd-store keeps each pattern and cluster record whole in
 * `record` (less its centroid, which is a pgvector column), so the matcher
 * reads the same fields it reads from a file, through the same readers
 * (pd_matcher_add, which reads a pattern with lib/pattern's
 * pd_pattern_read, and pd_hier_add_record).  pgvector prints float4 values
 * exactly (shortest round trip), so a stored centroid is the file's, bit for
 * bit, and a video is placed as pd-cluster placed it.  The video lookup is one prepared statement, so a lookup is
 * one round trip with no parse or plan on the server; the JSON is built by
 * the server (json_build_object), the embedding read as pgvector text.
 */
#include "pd.h"
#include "db.h"
#include "match.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

long pd_db_read_patterns(PGconn *c, pd_matcher *m, pd_err *err)
{
	PGresult *r = pd_db_query(c, "SELECT id, record::text, centroid_embedding::text,"
				  " semantic_radius FROM active_patterns ORDER BY id COLLATE \"C\"",
				  0, NULL, err);
	if (!r)
		return -1;
	long added = 0;
	float *cen = NULL;
	size_t cap = 0;
	int rows = PQntuples(r);
	for (int i = 0; i < rows; i++) {
		const char *id = PQgetvalue(r, i, 0);
		cJSON *rec = cJSON_Parse(PQgetvalue(r, i, 1));
		int dim = 0;
		pd_err e;
		if (!rec || !cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			pd_err_set(err, PD_EREC, "stored pattern '%s': record is not a JSON object", id);
			goto fail;
		}
		if (!PQgetisnull(r, i, 2)) {
			const char *v = PQgetvalue(r, i, 2);
			if (pd_vec_parse_json(v, strlen(v), &cen, &cap, &dim, &e) < 0) {
				cJSON_Delete(rec);
				pd_err_set(err, PD_EREC, "stored pattern '%s': centroid: %s", id, e.msg);
				goto fail;
			}
		}
		if (!PQgetisnull(r, i, 3)) {
			double rad = strtod(PQgetvalue(r, i, 3), NULL);
			if (isfinite(rad))
				pd_json_set(rec, "radius", cJSON_CreateNumber(rad));
		}
		int k = pd_matcher_add(m, rec, cen, dim, &e);
		cJSON_Delete(rec);
		if (k < 0) {
			pd_err_set(err, PD_EREC, "stored pattern: %s", e.msg);
			goto fail;
		}
		added += k;
	}
	PQclear(r);
	free(cen);
	return added;
fail:
	PQclear(r);
	free(cen);
	return -1;
}

long pd_db_read_clusters(PGconn *c, pd_hier *h, long long *run, pd_err *err)
{
	pd_hier_init(h, 0);
	*run = 0;
	/* siblings in id order: the order decides only exact ties of the descent */
	PGresult *r = pd_db_query(c, "SELECT id, record::text, centroid::text, run_id"
				  " FROM active_clusters ORDER BY id COLLATE \"C\"", 0, NULL, err);
	if (!r)
		return -1;
	int rows = PQntuples(r);
	float *cen = NULL;
	size_t cap = 0;
	for (int i = 0; i < rows; i++) {
		const char *id = PQgetvalue(r, i, 0);
		int dim = 0;
		pd_err e;
		if (PQgetisnull(r, i, 2)) {
			pd_err_set(err, PD_EREC, "stored cluster '%s' has no centroid", id);
			goto fail;
		}
		const char *v = PQgetvalue(r, i, 2);
		if (pd_vec_parse_json(v, strlen(v), &cen, &cap, &dim, &e) < 0) {
			pd_err_set(err, PD_EREC, "stored cluster '%s': centroid: %s", id, e.msg);
			goto fail;
		}
		cJSON *rec = cJSON_Parse(PQgetvalue(r, i, 1));
		if (!cJSON_IsObject(rec)) {
			cJSON_Delete(rec);
			pd_err_set(err, PD_EREC, "stored cluster '%s': record is not a JSON object", id);
			goto fail;
		}
		int k = pd_hier_add_record(h, rec, cen, dim, &e);
		cJSON_Delete(rec);
		if (k < 0) {
			pd_err_set(err, PD_EREC, "stored cluster: %s", e.msg);
			goto fail;
		}
		*run = strtoll(PQgetvalue(r, i, 3), NULL, 10);
	}
	PQclear(r);
	free(cen);
	if (rows) {
		pd_err e;
		if (pd_hier_finish(h, &e) < 0) {
			pd_hier_release(h);
			return pd_err_set(err, PD_EREC, "the active run's clusters: %s", e.msg);
		}
	}
	return rows;
fail:
	PQclear(r);
	free(cen);
	pd_hier_release(h);
	return -1;
}

/* the stored record as pd-fetch --pg reads it: one reader of a video row
 * (lib/db.c), one writer of the record (lib/video.c) */
int pd_db_video_record(PGconn *c, const char *id, pd_buf *out, pd_err *err)
{
	return pd_db_read_video(c, id, out, err);
}
