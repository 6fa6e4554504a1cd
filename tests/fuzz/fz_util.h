/*
 * fz_util.h — what the fuzzers share: the input as a file (for loaders that
 * take a path), and the input split into lines.
 */
#ifndef FZ_UTIL_H
#define FZ_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* fz_file: a private temporary file (under $TMPDIR, else /tmp) holding
   data[0..size) then extra[0..nextra); its path, the same for the whole run,
   removed at exit. */
static char fz_path[4096];
static inline void fz_file_remove(void)
{
	unlink(fz_path);
}

static inline const char *fz_file(const void *data, size_t size, const void *extra, size_t nextra)
{
	char *path = fz_path;
	if (!path[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(path, sizeof fz_path, "%s/pd-fuzz-XXXXXX", t && *t ? t : "/tmp");
		int fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(fz_file_remove);
	}
	FILE *f = fopen(path, "wb");
	if (!f || (size && fwrite(data, 1, size, f) != size) ||
	    (nextra && fwrite(extra, 1, nextra, f) != nextra) || fclose(f) != 0)
		abort();
	return path;
}

#endif
