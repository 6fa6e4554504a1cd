/*
 * input.h — lines from the command's operands, or standard input.
 *
 * Every pd command reads its input through this: files named as operands in
 * order, or standard input when there are none or an operand is "-".  Files
 * compressed with gzip are read directly.  A line is returned as soon as it
 * has arrived, so a command answering a coprocess does not wait for more.
 * Each line comes with its position (file name, 1-based line number) so that a
 * message can say `FILE:LINE`.  Lines are capped: a line longer than max_line
 * bytes is not held in memory; it is copied whole to the spill stream, when
 * one is set, and reported as PD_LINE_TOOLONG so the caller can count it as a
 * rejected record instead of crashing or silently cutting it.
 */
#ifndef PD_INPUT_H
#define PD_INPUT_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "err.h"

typedef struct pd_input pd_input;

enum { PD_LINE_EOF = 0, PD_LINE_OK = 1, PD_LINE_TOOLONG = 2, PD_LINE_ERROR = -1 };

#define PD_DEFAULT_MAX_LINE (64u << 20)	/* 64 MiB: a 1M-float embedding */

/*
 * pd_input_open: an input over paths[0..npaths) ("-" is stdin); npaths 0
 * means stdin.  Files are opened lazily, so a missing file is reported by
 * pd_input_next when it is reached (after the lines before it were read).
 * The strings in paths must outlive the input.
 */
pd_input *pd_input_open(char *const *paths, int npaths, size_t max_line);
/*
 * pd_input_open_fd: an input over the open descriptor fd (read through a
 * dup of it, from its current offset; not compressed), its lines named
 * `name` in messages.  fd stays the caller's.
 */
pd_input *pd_input_open_fd(int fd, const char *name, size_t max_line);

/*
 * pd_input_fingerprint: 0 unless paths[0..npaths) can be read a second time
 * as they were the first (every one a regular file, not gzip, not "-", and
 * at least one); else a nonzero hash of the files' identities, sizes and
 * modification times, to compare later and tell whether any changed.
 */
uint64_t pd_input_fingerprint(char *const *paths, int npaths);

/* pd_input_set_spill: over-long lines are written whole to f, plus '\n'. */
void pd_input_set_spill(pd_input *in, FILE *f);

/*
 * pd_input_next: the next line without its '\n' (and without a '\r' before
 * it).  *line points into the input's buffer, valid until the next call, and
 * is NUL-terminated.  Returns PD_LINE_OK, PD_LINE_TOOLONG (*line, *len: the
 * first max_line bytes), PD_LINE_EOF, or PD_LINE_ERROR with err filled (a
 * file that cannot be opened or read: the caller may go on to the next file
 * by calling again).
 */
int pd_input_next(pd_input *in, const char **line, size_t *len, pd_err *err);

const char *pd_input_name(const pd_input *in);	/* "-" shown as "(stdin)" */
long pd_input_lineno(const pd_input *in);
/* pd_input_bytes: bytes consumed so far (uncompressed), for progress. */
unsigned long long pd_input_bytes(const pd_input *in);
void pd_input_free(pd_input *in);

/*
 * pd_input_wait_seconds: the time this process spent blocked reading a
 * pipe, socket or terminal (its producer's time, not its own), summed over
 * every pd_input and thread.
 */
double pd_input_wait_seconds(void);

/*
 * pd_tmpfile: a new, empty file open for reading and writing (a spill for
 * input read twice or kept until the end), made with mkstemp in $TMPDIR, or
 * /tmp when TMPDIR is unset or empty, and unlinked at once, so it goes away
 * when closed or when the process ends.  (tmpfile() ignores TMPDIR.)  NULL
 * with err (PD_ESERVICE, naming the directory) when it cannot be made.
 */
FILE *pd_tmpfile(pd_err *err);

#endif
