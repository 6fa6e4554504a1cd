/*
 * fuzz_csv.c — libFuzzer target: the input split into lines and fed to the
 * CSV reader as pd-fetch does (a header, then rows), checking that every row
 * it accepts becomes a JSON record cJSON can parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/csvin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* every row the reader accepts must be a JSON record cJSON can parse */
static void check_row(int rc, pd_buf *json)
{
	if (rc != 1)
		return;
	pd_buf_addc(json, '}');
	cJSON *j = cJSON_ParseWithLength(json->p, json->len);
	if (!j)
		abort();	/* we wrote invalid JSON */
	cJSON_Delete(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pd_csv *c = pd_csv_new();
	pd_buf json = PD_BUF_INIT;
	const char *p = (const char *)data, *end = p + size;
	long lineno = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = xmemdup(p, len);
		pd_csv_row row;
		pd_err err;
		int rc = pd_csv_feed(c, line, len, ++lineno, &json, &row, &err);
		for (; rc != 0; rc = pd_csv_next(c, &json, &row, &err))
			check_row(rc, &json);
		free(line);
		p += len + (nl ? 1 : 0);
	}
	pd_err err;
	pd_csv_row row;
	for (int rc = pd_csv_finish(c, &json, &row, &err); rc != 0; rc = pd_csv_next(c, &json, &row, &err))
		check_row(rc, &json);
	pd_buf_release(&json);
	pd_csv_free(c);
	return 0;
}
