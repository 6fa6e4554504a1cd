/*
 * fuzz_record.c — libFuzzer target: one input is one stream line through
 * everything a command does with it: the type scanner, the record parser (with
 * the embedding codec), the typed video view, and writing it back in both
 * embedding forms, which must parse again to the same embedding.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/video.h"

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
	free(line);
	return 0;
}
