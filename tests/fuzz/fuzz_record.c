/*
 * fuzz_record.c — libFuzzer target: one input is one stream line through
 * everything a command does with it: the type scanner, the record parser (with
 * the embedding codec), the typed video view, and writing it back in both
 * embedding forms, which must parse again to the same embedding.  And the
 * tree-less reader against the tree: whatever pd_record_scan accepts,
 * pd_record_parse accepts with the same type and embedding, and the video
 * read from the scan (pd_video_from_jobj) is the one read from the tree.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/video.h"
#include "../../lib/json.h"
#include <math.h>

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static int same_num(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

/* the scan's verdict against the tree's, for a line the scan accepted */
static void check_scan(const char *line, size_t size)
{
	pd_record rs = PD_RECORD_INIT, rt = PD_RECORD_INIT;
	pd_jobj o = PD_JOBJ_INIT;
	pd_err err;
	if (pd_record_scan(&rs, &o, line, size) == 0) {
		if (pd_record_parse(&rt, line, size, &err) != 0 || strcmp(rs.type, rt.type) ||
		    rs.dim != rt.dim || (rs.dim && memcmp(rs.emb, rt.emb, (size_t)rs.dim * 4)))
			abort();
		pd_video vs, vt;
		pd_err e1, e2;
		int a = pd_video_from_jobj(&o, &vs, &e1), b = pd_video_from_json(rt.json, &vt, &e2);
		if (a != b || (a != 0 && strcmp(e1.msg, e2.msg)))
			abort();
		if (a == 0) {
			if (!same_str(vs.id, vt.id) || !same_str(vs.channel_id, vt.channel_id) ||
			    !same_str(vs.title, vt.title) || !same_str(vs.description, vt.description) ||
			    !same_str(vs.category, vt.category) || !same_str(vs.format, vt.format) ||
			    vs.ntags != vt.ntags || !same_num(vs.published_at, vt.published_at) ||
			    !same_num(vs.duration_s, vt.duration_s) || !same_num(vs.views, vt.views) ||
			    !same_num(vs.perf, vt.perf) || vs.holdout != vt.holdout)
				abort();
			for (int i = 0; i < vs.ntags; i++)
				if (strcmp(vs.tags[i], vt.tags[i]))
					abort();
			pd_video_release(&vs);
			pd_video_release(&vt);
		}
	}
	pd_record_release(&rs);
	pd_record_release(&rt);
	pd_jobj_release(&o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = xmemdup(data, size);
	char type[32];
	pd_err err;
	pd_json_type(line, size, type, sizeof type, &err);
	pd_record r = PD_RECORD_INIT;
	if (pd_record_parse(&r, line, size, &err) == 0) {
		pd_video v;
		if (pd_video_from_json(r.json, &v, &err) == 0)
			pd_video_release(&v);
		for (int form = PD_EMB_JSON; form <= PD_EMB_B64; form++) {
			pd_buf out = PD_BUF_INIT;
			r.modified = 1;
			pd_record_write(&r, &out, form);
			pd_record r2 = PD_RECORD_INIT;
			if (pd_record_parse(&r2, out.p, out.len - 1, &err) != 0)
				abort();	/* what we write must read back */
			if (r2.dim != r.dim || (r.dim && memcmp(r2.emb, r.emb, (size_t)r.dim * 4)))
				abort();
			pd_record_release(&r2);
			pd_buf_release(&out);
		}
	}
	pd_record_release(&r);
	check_scan(line, size);
	free(line);
	return 0;
}
