#!/usr/bin/env bash
# t1700-reliability.sh — regressions of issue 15 that belong to no one command:
# temporary files in TMPDIR (pd-cluster, pd-embed, pd-mine), out-of-range and
# wrongly typed fields of video records, the CSV reader's field buffer growth,
# and an LLM error message kept whole.  (The CSV quote resync is in
# t0210-fetch-bad-input.sh, pd-store's statuses in t0810-store-faults.sh.)
. "$(dirname "$0")/lib/tap.sh"

# ---- the CSV reader's field buffer -------------------------------------------
# libcsv grows a field 128 bytes at a time by default: a 10 MB field took
# ~80,000 reallocs (minutes under ASan).  Count them with a preloaded shim.
cat >"$TMP/count.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
static unsigned long n;
void *realloc(void *p, size_t size)
{
	static void *(*real)(void *, size_t);
	if (!real)
		real = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	n++;
	return real(p, size);
}
__attribute__((destructor)) static void report(void)
{
	const char *f = getenv("REALLOC_COUNT");
	FILE *o = f ? fopen(f, "w") : NULL;
	if (o) {
		fprintf(o, "%lu\n", n);
		fclose(o);
	}
}
EOF
if ${CC:-cc} -shared -fPIC -o "$TMP/count.so" "$TMP/count.c" -ldl 2>"$TMP/cc.err"; then
	/usr/bin/python3 -c "
import sys
sys.stdout.write('video_id,title,view_count\r\nv1,' + 'x' * 10000000 + ',5\r\nv2,ok,6\r\n')" >"$TMP/wide.csv"
	run env LD_PRELOAD="$TMP/count.so" REALLOC_COUNT="$TMP/count" pd-fetch --no-metric "$TMP/wide.csv"
	expect "a 10 MB CSV field is read with few reallocs" '
		check_status 0 && [ "$(jq -r ".title | length" "$OUT" | head -n 1)" = 10000000 ] &&
		n=$(cat "$TMP/count") && echo "reallocs: $n" && [ "$n" -lt 2000 ]'
else
	skip "a 10 MB CSV field is read with few reallocs" "cannot build the counting shim: $(head -n 1 "$TMP/cc.err")"
fi

test_done
