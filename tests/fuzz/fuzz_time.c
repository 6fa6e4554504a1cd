/*
 * fuzz_time.c — libFuzzer target: RFC 3339 times and ISO 8601 durations;
 * a parsed time must format and parse back to the same second.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xmemdup(data, size);
	double t, d;
	if (pd_time_parse(s, &t) == 0 && fabs(t) < 1e13) {
		char buf[64];
		double t2;
		pd_time_format(t, buf, sizeof buf);
		if (pd_time_parse(buf, &t2) != 0 || fabs(t2 - floor(t)) > 0.5)
			abort();
	}
	pd_duration_parse(s, &d);
	free(s);
	return 0;
}
