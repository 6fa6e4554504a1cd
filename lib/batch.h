/*
 * batch.h — lines handed to a worker thread in batches, given back in order.
 *
 * A command whose per-line work needs nothing of the stream's state (parsing
 * a record, decoding its embedding) can have a second core do it: the
 * reading thread copies lines into a batch and submits it; a worker thread
 * runs the command's function over the batch; the reading thread gets the
 * batches back in the order they were submitted and does, in order, what
 * depends on the stream (rejecting, counting, storing, writing).  The output
 * is therefore exactly what one thread doing everything would give.
 *
 *	pd_batcher *bt = pd_batcher_new(2, 4096, work, ud);
 *	pd_batch *b = pd_batcher_get(bt), *done;
 *	while (read a line) {
 *		pd_batch_add(b, line, len, file, lineno);
 *		if (b->n == b->cap) {
 *			if ((done = pd_batcher_submit(bt, b))) {
 *				use(done);
 *				pd_batcher_release(bt, done);
 *			}
 *			b = pd_batcher_get(bt);
 *		}
 *	}
 *	pd_batcher_submit(bt, b) ... then pd_batcher_next until NULL, as above
 *	pd_batcher_free(bt);
 *
 * The worker's function writes its per-line results wherever the user keeps
 * them for the batch (b->res, set up by the user, kept across reuse).
 */
#ifndef PD_BATCH_H
#define PD_BATCH_H
#include <stddef.h>
#include "buf.h"

typedef struct pd_batch {
	pd_buf text;		/* the lines, back to back */
	size_t *off;		/* line i: text.p + off[i], len[i] bytes */
	size_t *len;
	long *lineno;		/* where line i was read, for messages */
	const char **file;
	int n, cap;
	void *res;		/* the user's: per-batch results */
	int seq;		/* order of submission (the batcher's) */
	int state;		/* the batcher's */
} pd_batch;

typedef void (*pd_batch_work)(pd_batch *b, void *ud);
typedef struct pd_batcher pd_batcher;

/* nbatch (>= 2) batches of cap lines; starts the worker thread (if it cannot
   be started, the work is done at submission, on the calling thread). */
pd_batcher *pd_batcher_new(int nbatch, int cap, pd_batch_work work, void *ud);

/* an empty batch to fill (there always is one between submissions) */
pd_batch *pd_batcher_get(pd_batcher *bt);

/* line[0..len) copied into b (b->n < b->cap) */
void pd_batch_add(pd_batch *b, const char *line, size_t len, const char *file, long lineno);

/*
 * pd_batcher_submit: b goes to the worker (an empty b is just given back).
 * When no empty batch is left, waits for the oldest submitted batch and
 * returns it, its work done, for the caller to use and release; else NULL.
 */
pd_batch *pd_batcher_submit(pd_batcher *bt, pd_batch *b);

/* the oldest submitted batch, its work done (waits), or NULL if none */
pd_batch *pd_batcher_next(pd_batcher *bt);

/* a batch the caller has used, back to the empty ones */
void pd_batcher_release(pd_batcher *bt, pd_batch *b);

/* stops the worker and frees the batches (not what b->res points to: the
   caller frees that first, through pd_batcher_batch) */
void pd_batcher_free(pd_batcher *bt);

/* batch i in [0, nbatch), for setting up or freeing results */
pd_batch *pd_batcher_batch(pd_batcher *bt, int i);

#endif
