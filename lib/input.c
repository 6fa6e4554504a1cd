/*
 * input.c — capped, positioned line reading over operands; see input.h.
 *
 * Bytes come from read(2), which returns what is there: a line typed into a
 * pipe is seen at once (coprocess use, --unbuffered), where stdio or zlib's
 * gzread would wait to fill a large buffer.  A file whose first two bytes are
 * gzip's magic is inflated with zlib's streaming API (concatenated members
 * too).  Lines are found with memchr over a window that is refilled and
 * compacted, so a line is copied at most once (when the window moves).
 *
 * Time spent blocked in read(2) on a pipe, socket or terminal is the time
 * the producer upstream kept this process waiting; it is summed (over every
 * input, on any thread) so a stage's metric reports its own seconds, not
 * the pipeline's (pd_input_wait_seconds).
 */
#include "input.h"
#include "alloc.h"
#include "rng.h"
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (1u << 20)
#define ZCHUNK (256u << 10)

struct pd_input {
	int given_fd;		/* >= 0: read this descriptor (a dup of it) */
	char *const *paths;
	int npaths, next_path;
	int use_stdin_only;
	size_t max_line;
	FILE *spill;
	int fd;			/* -1: no file open */
	int is_gz;
	z_stream zs;
	unsigned char *zbuf;	/* compressed bytes not yet inflated */
	int z_end;		/* the current gzip member has ended */
	const char *name;
	long lineno;
	int at_eof;		/* current file fully read into the window */
	char *win;		/* window: bytes [start, end) not yet returned */
	size_t start, end, cap;
	unsigned long long bytes;
};

static _Atomic long long wait_ns;

double pd_input_wait_seconds(void)
{
	return (double)atomic_load(&wait_ns) / 1e9;
}

static long long mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* read_some: one read(2), retried on EINTR; bytes read, 0 at end, -1 error */
static ssize_t read_some(int fd, void *buf, size_t n)
{
	struct stat st;
	int waits = fstat(fd, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode);
	long long t0 = waits ? mono_ns() : 0;
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r >= 0 || errno != EINTR) {
			if (waits)
				atomic_fetch_add(&wait_ns, mono_ns() - t0);
			return r;
		}
	}
}

pd_input *pd_input_open(char *const *paths, int npaths, size_t max_line)
{
	pd_input *in = xcalloc(1, sizeof *in);
	in->paths = paths;
	in->npaths = npaths;
	in->use_stdin_only = npaths == 0;
	in->max_line = max_line ? max_line : PD_DEFAULT_MAX_LINE;
	in->cap = CHUNK + 1;
	in->win = xmalloc(in->cap);
	in->fd = -1;
	in->given_fd = -1;
	return in;
}

pd_input *pd_input_open_fd(int fd, const char *name, size_t max_line)
{
	pd_input *in = pd_input_open(NULL, 0, max_line);
	in->given_fd = fd;
	in->name = name;
	return in;
}

uint64_t pd_input_fingerprint(char *const *paths, int npaths)
{
	if (npaths < 1)
		return 0;
	uint64_t h = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < npaths; i++) {
		struct stat st;
		unsigned char magic[2];
		if (strcmp(paths[i], "-") == 0 || stat(paths[i], &st) != 0 || !S_ISREG(st.st_mode))
			return 0;
		int fd = open(paths[i], O_RDONLY);
		if (fd < 0)
			return 0;
		ssize_t n = read_some(fd, magic, 2);
		close(fd);
		if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
			return 0;	/* gzip: a second inflate costs more than a spill */
		uint64_t v[6] = { h, (uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
				  (uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec };
		h = pd_hash64(v, sizeof v);
	}
	return h ? h : 1;
}

void pd_input_set_spill(pd_input *in, FILE *f)
{
	in->spill = f;
}

static void close_current(pd_input *in)
{
	if (in->fd >= 0) {
		close(in->fd);
		in->fd = -1;
	}
	if (in->is_gz) {
		inflateEnd(&in->zs);
		in->is_gz = 0;
	}
}

/* open_next: open the next operand; 1 opened, 0 none left, -1 error. */
static int open_next(pd_input *in, pd_err *err)
{
	const char *path;
	if (in->given_fd >= 0) {
		if (in->next_path++ > 0)
			return 0;
		int fd = dup(in->given_fd);
		in->lineno = 0;
		in->start = in->end = 0;
		in->at_eof = 0;
		if (fd < 0)
			return pd_err_set(err, PD_ESERVICE, "cannot read '%s' again: %s", in->name,
					  strerror(errno));
		in->fd = fd;
		return 1;
	}
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
	in->fd = fd;
	/* the first bytes decide: gzip magic, or plain text into the window */
	ssize_t n = read_some(fd, in->win, 2);
	if (n == 1) {
		ssize_t m = read_some(fd, in->win + 1, 1);
		if (m > 0)
			n += m;
	}
	if (n < 0) {
		close_current(in);
		return pd_err_set(err, PD_ESERVICE, "error reading '%s': %s", path, strerror(errno));
	}
	if (n == 2 && (unsigned char)in->win[0] == 0x1f && (unsigned char)in->win[1] == 0x8b) {
		if (!in->zbuf)
			in->zbuf = xmalloc(ZCHUNK);
		memset(&in->zs, 0, sizeof in->zs);
		if (inflateInit2(&in->zs, 16 + MAX_WBITS) != Z_OK) {
			close_current(in);
			return pd_err_set(err, PD_ESERVICE, "cannot inflate '%s'", path);
		}
		in->is_gz = 1;
		in->z_end = 0;
		in->zbuf[0] = 0x1f;
		in->zbuf[1] = 0x8b;
		in->zs.next_in = in->zbuf;
		in->zs.avail_in = 2;
	} else {
		in->end = (size_t)n;
		in->bytes += (unsigned long long)n;
	}
	return 1;
}

/* more: at most `room` new bytes at dst; bytes produced, 0 at end, -1 error */
static ssize_t more(pd_input *in, char *dst, size_t room, pd_err *err)
{
	if (!in->is_gz) {
		ssize_t r = read_some(in->fd, dst, room);
		if (r < 0)
			pd_err_set(err, PD_ESERVICE, "error reading '%s': %s", in->name, strerror(errno));
		return r;
	}
	for (;;) {
		if (in->zs.avail_in == 0) {
			ssize_t r = read_some(in->fd, in->zbuf, ZCHUNK);
			if (r < 0) {
				pd_err_set(err, PD_ESERVICE, "error reading '%s': %s", in->name, strerror(errno));
				return -1;
			}
			if (r == 0) {
				if (!in->z_end) {
					pd_err_set(err, PD_ESERVICE, "'%s': gzip data ends early", in->name);
					return -1;
				}
				return 0;
			}
			in->zs.next_in = in->zbuf;
			in->zs.avail_in = (uInt)r;
		}
		if (in->z_end) {
			/* another gzip member follows (as `cat a.gz b.gz` makes) */
			if (inflateReset(&in->zs) != Z_OK)
				return pd_err_set(err, PD_ESERVICE, "'%s': bad gzip data", in->name);
			in->z_end = 0;
		}
		in->zs.next_out = (unsigned char *)dst;
		in->zs.avail_out = (uInt)(room > (1u << 30) ? (1u << 30) : room);
		int zr = inflate(&in->zs, Z_NO_FLUSH);
		size_t got = (size_t)((char *)in->zs.next_out - dst);
		if (zr == Z_STREAM_END)
			in->z_end = 1;
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return pd_err_set(err, PD_ESERVICE, "'%s': bad gzip data: %s", in->name,
					  in->zs.msg ? in->zs.msg : "inflate failed");
		if (got)
			return (ssize_t)got;
	}
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
	ssize_t n = more(in, in->win + in->end, in->cap - 1 - in->end, err);
	if (n < 0)
		return -1;
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
		if (in->fd < 0) {
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
	free(in->zbuf);
	free(in->win);
	free(in);
}

FILE *pd_tmpfile(pd_err *err)
{
	const char *dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	size_t n = strlen(dir) + sizeof "/pd.XXXXXX";
	char *path = xmalloc(n);
	snprintf(path, n, "%s/pd.XXXXXX", dir);
	int fd = mkstemp(path);
	FILE *f = NULL;
	int e = errno;
	if (fd >= 0) {
		unlink(path);
		f = fdopen(fd, "w+");
		e = errno;
		if (!f)
			close(fd);
	}
	free(path);
	if (!f)
		pd_err_set(err, PD_ESERVICE, "cannot create a temporary file in '%s': %s", dir,
			   strerror(e));
	return f;
}
