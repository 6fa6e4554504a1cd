/*
 * ahead.h — the input read a chunk ahead, on a second thread.
 *
 * A command whose per-line work needs nothing of the stream's state (parsing
 * a record, decoding its embedding, extracting features) has a helper thread
 * read the next chunk of lines (copies) and prepare them while the main
 * thread uses the chunk before, in input order.  Whatever the main thread
 * does with the lines — reject, count, match, write — comes out in the same
 * order and bytes as when one thread reads a line at a time: reading is
 * accounted (counts, progress, over-long lines, read errors) when the main
 * thread takes a line (cli_ahead_take), not when it is read, and an
 * over-long line's bytes, spilled by the input layer as it is read, wait in
 * a temporary file until then.  pd-cluster and pd-match read this way.
 */
#ifndef PD_CLI_AHEAD_H
#define PD_CLI_AHEAD_H
#include "../lib/buf.h"
#include "../lib/err.h"
#include "../lib/input.h"

typedef struct cli_aline {
	int what;		/* PD_LINE_OK, PD_LINE_TOOLONG or PD_LINE_ERROR */
	size_t off, len;	/* PD_LINE_OK: the line, text.p + off, NUL-terminated */
	const char *file;
	long lineno;
	pd_err err;		/* PD_LINE_ERROR */
	long spill_from, spill_to;	/* PD_LINE_TOOLONG: its bytes in the spill */
} cli_aline;

typedef struct cli_chunk {
	pd_buf text;
	cli_aline *l;
	int n, cap;
	void *user;		/* the command's per-chunk state, kept across reuse */
} cli_chunk;

typedef struct cli_ahead_ops {
	/* main thread, before the chunk is handed to the helper (may be NULL) */
	void (*hand)(cli_chunk *c, void *ud);
	/* helper thread, after reading c: what comes before its lines are
	   prepared, in chunk order (room in c->user for c->n lines); may be NULL */
	void (*setup)(cli_chunk *c, void *ud);
	/* line i of c (whatever its what), on the helper thread or, sharing the
	   work while it waits for the chunk, the main thread: who (0 the helper,
	   1 the main thread) tells which, so that lines prepared at the same
	   time can keep what they make apart; may be NULL */
	void (*prepare)(cli_chunk *c, int i, int who, void *ud);
	/* main thread, chunk after chunk in input order */
	void (*use)(cli_chunk *c, void *ud);
	/* main thread, at the end: free c->user (may be NULL) */
	void (*release)(cli_chunk *c, void *ud);
	/* 1: a second reading of lines accounted before (pd-cluster's output
	   pass): over-long lines are not kept for --rejects again */
	int again;
} cli_ahead_ops;

/*
 * cli_read_ahead: the whole input, in chunks of at most max_lines lines and
 * about max_bytes bytes.  When the helper thread cannot be started, every
 * chunk is read, prepared and used on the calling thread: the same result.
 */
void cli_read_ahead(pd_input *in, int max_lines, size_t max_bytes, const cli_ahead_ops *ops,
		    void *ud);

/*
 * cli_ahead_take: line i of c, accounted as read now (records_in, progress;
 * an over-long line rejected and its bytes copied to --rejects; a read error
 * reported).  1 when it is a line to use, 0 when not.
 */
int cli_ahead_take(const cli_chunk *c, int i);

#endif
