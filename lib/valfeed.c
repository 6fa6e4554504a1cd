/*
 * valfeed.c — pd-validate's stream into a validator (see valfeed.h).  A line
 * of a type the validator ignores is told by its type alone (json.h
 * pd_json_type) and never parsed.
 */
#include "pd.h"
#include "valfeed.h"
#include "mine.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pd_valfeed {
	pd_validator *v;
	pd_record rec;
	pd_jobj jo;		/* a video scanned without a tree (record.h) */
	int summaries;
	cJSON **shards;		/* mine_summary records of shards, merged at the end */
	char **shard_lines;
	size_t nshards;
};

pd_valfeed *pd_valfeed_new(pd_validator *v)
{
	pd_valfeed *f = xcalloc(1, sizeof *f);
	pd_record r0 = PD_RECORD_INIT;
	pd_jobj j0 = PD_JOBJ_INIT;
	f->v = v;
	f->rec = r0;
	f->jo = j0;
	return f;
}

static void drop_shards(pd_valfeed *f)
{
	for (size_t i = 0; i < f->nshards; i++) {
		cJSON_Delete(f->shards[i]);
		free(f->shard_lines[i]);
	}
	free(f->shards);
	free(f->shard_lines);
	f->shards = NULL;
	f->shard_lines = NULL;
	f->nshards = 0;
}

void pd_valfeed_free(pd_valfeed *f)
{
	if (!f)
		return;
	pd_record_release(&f->rec);
	free(f->rec.emb);
	pd_jobj_release(&f->jo);
	drop_shards(f);
	free(f);
}

int pd_valfeed_summaries(const pd_valfeed *f)
{
	return f->summaries;
}

/* a mine_summary's z_hist into the validator: 0, or -1 when it is not a histogram like the others */
static int add_zhist(pd_validator *v, const cJSON *zh)
{
	if (!zh)
		return 0;
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(zh, "counts");
	double counts[PD_VALIDATE_ZH_MAX];
	int n = cJSON_IsArray(c) ? cJSON_GetArraySize(c) : 0, ok = n > 0 && n <= PD_VALIDATE_ZH_MAX;
	for (int b = 0; ok && b < n; b++) {
		const cJSON *x = cJSON_GetArrayItem(c, b);
		ok = cJSON_IsNumber(x);
		counts[b] = ok ? x->valuedouble : 0;
	}
	if (!ok || pd_validator_add_zhist(v, counts, n, pd_json_num(zh, "lo", NAN),
					  pd_json_num(zh, "width", NAN)) != 0)
		return -1;
	return 0;
}

/* a mine_summary parsed into f->rec: PD_VALFEED_* as pd_valfeed_line */
static int take_summary(pd_valfeed *f, const char *line, size_t len, pd_err *err, pd_err *warn)
{
	const cJSON *s = f->rec.json;
	const cJSON *tj = cJSON_GetObjectItemCaseSensitive(s, "tests");
	if (!cJSON_IsNumber(tj) || !(tj->valuedouble >= 0) || tj->valuedouble != floor(tj->valuedouble))
		return pd_err_set(err, PD_EREC, "mine_summary has no \"tests\" count (a whole number)");
	const cJSON *tt = cJSON_GetObjectItemCaseSensitive(s, "tests_topic");
	pd_validator_add_tests(f->v, tj->valuedouble,
			       cJSON_IsNumber(tt) && tt->valuedouble >= 0 &&
					       tt->valuedouble <= tj->valuedouble
				       ? tt->valuedouble : NAN);
	if (add_zhist(f->v, cJSON_GetObjectItemCaseSensitive(s, "z_hist")) < 0)
		pd_err_set(warn, PD_EREC, "mine_summary's z_hist is not a histogram like the others; "
			   "confidence goes without the selection correction");
	double ms = pd_json_num(s, "max_channel_share", NAN), own = pd_validator_share_unmined(f->v, ms);
	if (f->summaries == 0 && !warn->code && isfinite(own))
		pd_err_set(warn, PD_EREC, "--max-channel-share %g is above pd-mine's %g (mine_summary): "
			   "features one channel holds more than %g%% of were not mined", own, ms, 100 * ms);
	f->summaries++;
	int si, sn;
	if (pd_mine_summary_shard(s, &si, &sn) == 0 && sn > 1) {
		f->shards = xreallocarray(f->shards, f->nshards + 1, sizeof *f->shards);
		f->shard_lines = xreallocarray(f->shard_lines, f->nshards + 1, sizeof *f->shard_lines);
		f->shards[f->nshards] = f->rec.json;
		f->shard_lines[f->nshards++] = xstrndup(line, len);
		f->rec.json = NULL;
		return PD_VALFEED_KEPT;
	}
	return PD_VALFEED_PASS;
}

int pd_valfeed_line(pd_valfeed *f, const char *line, size_t len, pd_err *err, pd_err *warn)
{
	char type[32];
	pd_err_clear(warn);
	int t = pd_json_type(line, len, type, sizeof type, err);
	if (t == 1 && strcmp(type, "video") && strcmp(type, "pattern") &&
	    strcmp(type, "mine_summary") && strcmp(type, "cluster"))
		return PD_VALFEED_PASS;
	/* the common case, a video, without a tree */
	if (t == 1 && !strcmp(type, "video") && pd_record_scan(&f->rec, &f->jo, line, len) == 0)
		return pd_validator_add_video_scanned(f->v, &f->jo, err) < 0 ? PD_VALFEED_REJECT
									     : PD_VALFEED_PASS;
	if (pd_record_parse(&f->rec, line, len, err) < 0)
		return PD_VALFEED_REJECT;
	const char *rt = f->rec.type;
	if (!strcmp(rt, "pattern")) {
		cJSON *j = f->rec.json;
		f->rec.json = NULL;
		return pd_validator_add_pattern(f->v, j, err) < 0 ? PD_VALFEED_REJECT : PD_VALFEED_KEPT;
	}
	if (!strcmp(rt, "video"))
		return pd_validator_add_video(f->v, f->rec.json, err) < 0 ? PD_VALFEED_REJECT
									   : PD_VALFEED_PASS;
	if (!strcmp(rt, "cluster"))
		pd_validator_add_cluster(f->v, f->rec.json);
	else if (!strcmp(rt, "mine_summary"))
		return take_summary(f, line, len, err, warn);
	return PD_VALFEED_PASS;
}

size_t pd_valfeed_finish(pd_valfeed *f, pd_buf *out, pd_err *warn)
{
	pd_err_clear(warn);
	size_t n = 0;
	if (!f->nshards)
		return 0;
	pd_err err;
	cJSON *merged = pd_mine_summary_merge((const cJSON *const *)f->shards, f->nshards, &err);
	if (merged) {
		char *t = cJSON_PrintUnformatted(merged);
		pd_buf_adds(out, t);
		pd_buf_addc(out, '\n');
		n = 1;
		free(t);
		cJSON_Delete(merged);
	} else {
		pd_err_set(warn, err.code ? err.code : PD_EREC,
			   "%s; they are written as they came, unmerged", err.msg);
		for (size_t i = 0; i < f->nshards; i++) {
			pd_buf_adds(out, f->shard_lines[i]);
			pd_buf_addc(out, '\n');
		}
		n = f->nshards;
	}
	drop_shards(f);
	return n;
}
