/*
 * input.c — capped, positioned line reading over operands; see input.h.
 *
 * Reads through zlib's gzread with a 1 MiB buffer so plain and gzip-compressed
 * files take the same path; lines are found with memchr over a window that is
 * refilled and compacted, so a line is copied at most once (when the window
 * moves).  This keeps untouched records flowing at memory speed.
 */
#include "input.h"
#include "alloc.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1u << 20)

struct pd_input {
	char *const *paths;
	int npaths, next_path;
	int use_stdin_only;
	size_t max_line;
	FILE *spill;
	gzFile gz;
	const char *name;
	long lineno;
	int at_eof;		/* current file fully read into the window */
	char *win;		/* window: bytes [start, end) not yet returned */
	size_t start, end, cap;
	unsigned long long bytes;
};

pd_input *pd_input_open(char *const *paths, int npaths, size_t max_line)
{
	pd_input *in = xcalloc(1, sizeof *in);
	in->paths = paths;
	in->npaths = npaths;
	in->use_stdin_only = npaths == 0;
	in->max_line = max_line ? max_line : PD_DEFAULT_MAX_LINE;
	in->cap = CHUNK + 1;
	in->win = xmalloc(in->cap);
	return in;
}

void pd_input_set_spill(pd_input *in, FILE *f)
{
	in->spill = f;
}

static void close_current(pd_input *in)
{
	if (in->gz) {
		gzclose(in->gz);
		in->gz = NULL;
	}
}

/* open_next: open the next operand; 1 opened, 0 none left, -1 error. */
static int open_next(pd_input *in, pd_err *err)
{
	const char *path;
	if (in->use_stdin_only) {
		if (in->next_path++ > 0)
			return 0;
		path = "-";
	} else {
		if (in->next_path >= in->npaths)
			return 0;
		path = in->paths[in->next_path++];
	}
	int fd;
	if (strcmp(path, "-") == 0) {
		fd = dup(0);
		in->name = "(stdin)";
	} else {
		fd = open(path, O_RDONLY);
		in->name = path;
	}
	in->lineno = 0;
	in->start = in->end = 0;
	in->at_eof = 0;
	if (fd < 0)
		return pd_err_set(err, PD_EUSAGE, "cannot open '%s': %s", path, strerror(errno));
	in->gz = gzdopen(fd, "rb");
	if (!in->gz) {
		close(fd);
		return pd_err_set(err, PD_ESERVICE, "cannot read '%s'", path);
	}
	gzbuffer(in->gz, CHUNK);
	return 1;
}

/* fill: read more of the current file into the window; 0 at end, -1 error. */
static int fill(pd_input *in, pd_err *err)
{
	if (in->start > 0 && in->start == in->end) {
		in->start = in->end = 0;
	} else if (in->start > 0 && in->end - in->start < in->cap / 2) {
		memmove(in->win, in->win + in->start, in->end - in->start);
		in->end -= in->start;
		in->start = 0;
	}
	if (in->cap - 1 - in->end < CHUNK / 2) {
		if (in->start > 0) {
			memmove(in->win, in->win + in->start, in->end - in->start);
			in->end -= in->start;
			in->start = 0;
		}
		if (in->cap - 1 - in->end < CHUNK / 2) {
			in->cap = in->cap * 2;
			in->win = xrealloc(in->win, in->cap);
		}
	}
	int n = gzread(in->gz, in->win + in->end, (unsigned)(in->cap - 1 - in->end));
	if (n < 0) {
		int e;
		const char *m = gzerror(in->gz, &e);
		return pd_err_set(err, PD_ESERVICE, "error reading '%s': %s", in->name,
				  e == Z_ERRNO ? strerror(errno) : m);
	}
	if (n == 0) {
		in->at_eof = 1;
		return 0;
	}
	in->end += (size_t)n;
	in->bytes += (unsigned long long)n;
	return 1;
}

/* spill_rest: the current over-long line is copied to spill and skipped. */
static int spill_rest(pd_input *in, pd_err *err)
{
	for (;;) {
		char *nl = memchr(in->win + in->start, '\n', in->end - in->start);
		size_t upto = nl ? (size_t)(nl - in->win) : in->end;
		if (in->spill)
			fwrite(in->win + in->start, 1, upto - in->start, in->spill);
		if (nl) {
			in->start = upto + 1;
			break;
		}
		in->start = in->end;
		int r = fill(in, err);
		if (r < 0)
			return -1;
		if (r == 0)
			break;
	}
	if (in->spill)
		fputc('\n', in->spill);
	return 0;
}

int pd_input_next(pd_input *in, const char **line, size_t *len, pd_err *err)
{
	for (;;) {
		if (!in->gz) {
			int r = open_next(in, err);
			if (r <= 0)
				return r == 0 ? PD_LINE_EOF : PD_LINE_ERROR;
		}
		size_t scanned = in->start;
		for (;;) {
			char *nl = memchr(in->win + scanned, '\n', in->end - scanned);
			if (nl) {
				size_t s = in->start, e = (size_t)(nl - in->win);
				in->start = e + 1;
				in->lineno++;
				if (e - s > in->max_line) {
					/* whole line is in the window: spill it directly */
					if (in->spill) {
						fwrite(in->win + s, 1, e - s, in->spill);
						fputc('\n', in->spill);
					}
					*line = in->win + s;
					*len = in->max_line;
					return PD_LINE_TOOLONG;
				}
				if (e > s && in->win[e - 1] == '\r')
					e--;
				in->win[e] = '\0';
				*line = in->win + s;
				*len = e - s;
				return PD_LINE_OK;
			}
			if (in->end - in->start > in->max_line) {
				/* over the cap with no end in sight: spill and skip it */
				in->lineno++;
				size_t keep = in->max_line;
				if (in->spill)
					fwrite(in->win + in->start, 1, keep, in->spill);
				in->start += keep;
				if (spill_rest(in, err) < 0)
					return PD_LINE_ERROR;
				*line = "";
				*len = in->max_line;
				return PD_LINE_TOOLONG;
			}
			scanned = in->end;
			size_t off = scanned - in->start;
			int r = in->at_eof ? 0 : fill(in, err);
			if (r < 0) {
				close_current(in);
				return PD_LINE_ERROR;
			}
			scanned = in->start + off;
			if (r == 0) {
				if (in->end > in->start) {
					/* last line without '\n' */
					size_t s = in->start, e = in->end;
					in->start = in->end;
					in->lineno++;
					if (e > s && in->win[e - 1] == '\r')
						e--;
					in->win[e] = '\0';
					*line = in->win + s;
					*len = e - s;
					return PD_LINE_OK;
				}
				close_current(in);
				break;
			}
		}
	}
}

const char *pd_input_name(const pd_input *in)
{
	return in->name ? in->name : "(stdin)";
}

long pd_input_lineno(const pd_input *in)
{
	return in->lineno;
}

unsigned long long pd_input_bytes(const pd_input *in)
{
	return in->bytes;
}

void pd_input_free(pd_input *in)
{
	if (!in)
		return;
	close_current(in);
	free(in->win);
	free(in);
}
