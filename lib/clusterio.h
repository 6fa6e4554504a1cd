/*
 * clusterio.h — pd-cluster's stream: what it reads of each line, what
 * training keeps between its two readings, and the lines it writes.
 *
 * pd-cluster reads its input a chunk ahead on a second thread (the command's
 * cmd/ahead.h); this module is everything that reading does except the
 * threads and the messages, so that the command is options and I/O.
 *
 * A batch (pd_clbatch) holds what was examined of a chunk's lines: each
 * line's kind (PD_CLL_*), and for a video to cluster its normalised
 * embedding, perf, channel and title, or the message of a line to reject.
 * Lines may be examined on two threads at once, each into its own arena
 * (who 0 or 1), in any order; they are then taken in input order.
 *
 * Taking a line (pd_clstream_take) settles what depends on the lines before
 * it: the stream's dimension (the first embedding's; another one is a
 * rejected line) and the counts of unclustered videos and dropped cluster
 * records.  Training (pd_cltrain) keeps, per line taken, what becomes of
 * it on the second reading, the embeddings to cluster and what the
 * summaries need; the lines themselves are read again from the input files
 * or, when those cannot be read again (standard input, gzip), from a
 * temporary file they were kept in.  --assign places each video as it is
 * examined (pd_clbatch_examine with a hierarchy) and writes it when taken.
 *
 * Videos without an embedding, or with an all-zero one (pd-embed gives that
 * to a video none of whose terms is in its vocabulary), pass through
 * unclustered; cluster records of an earlier run are dropped (this run's
 * replace them).
 */
#ifndef PD_CLUSTERIO_H
#define PD_CLUSTERIO_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "buf.h"
#include "cluster.h"
#include "err.h"
#include "input.h"

/* The kinds of lines, as pd_clstream_take tells them. */
enum {
	PD_CLL_OTHER = -4,		/* a record of another type: passes through */
	PD_CLL_OLD_CLUSTER = -3,	/* a cluster record of an earlier run: dropped */
	PD_CLL_REJECT = -2,		/* a bad line: rejected (err says why) */
	PD_CLL_UNCLUSTERED = 0,		/* a video without a direction: passes through */
	PD_CLL_VIDEO = 1,		/* a video to cluster */
	PD_CLL_REPLACE = 2		/* the same, and it carries an earlier run's clusters */
};

/* ---- examining the lines of a chunk ---- */

typedef struct pd_clbatch pd_clbatch;

pd_clbatch *pd_clbatch_new(void);
void pd_clbatch_free(pd_clbatch *b);
/* pd_clbatch_reset: room for n lines; what the lines before kept is gone. */
void pd_clbatch_reset(pd_clbatch *b, int n);
/*
 * pd_clbatch_examine: line i (line[0..len), NUL-terminated; NULL: not a
 * line, an over-long one or a read error) examined into arena who (0 or 1;
 * two threads may examine lines of one batch at once when their who
 * differs).  With h, a video to cluster of h's dimension is also placed in
 * h (pd_hier_place; pd_clbatch_placed).
 */
void pd_clbatch_examine(pd_clbatch *b, int i, int who, const char *line, size_t len,
			const pd_hier *h);
/* pd_clbatch_placed: line i's nodes and similarity to its micro cluster, as
 * pd_clbatch_examine placed it (valid for a line taken as a video). */
const int *pd_clbatch_placed(const pd_clbatch *b, int i, float *micro_sim);

/* ---- taking them in order ---- */

typedef struct pd_clstream {
	int d;				/* the stream's dimension, 0 until an embedding is seen */
	unsigned long long unclustered;	/* videos passed through without a direction */
	unsigned long long old_clusters;	/* cluster records of an earlier run dropped */
} pd_clstream;

/*
 * pd_clstream_take: line i of b, examined, taken in input order.  Returns
 * its kind (PD_CLL_*); PD_CLL_REJECT with err's message (the examination's,
 * or "embedding of dimension D, expected E" when it is not the stream's).
 */
int pd_clstream_take(pd_clstream *s, const pd_clbatch *b, int i, pd_err *err);

/* ---- training: the first reading kept, the hierarchy built, the second reading ---- */

typedef struct pd_cltrain {
	pd_clstream s;
	size_t n;		/* videos to cluster (taken so far) */
	pd_hier h;		/* after pd_cltrain_build */
	/* private */
	FILE *spill;		/* the lines kept, or NULL: the input files are read again */
	uint64_t fingerprint;	/* of the input files, when read again */
	unsigned char *kind;	/* per line: what it becomes on the second reading */
	size_t nlines, kcap, line_at, vi_at;
	float *X;		/* n x s.d, until built */
	size_t xcap;
	pd_cl_videos *vids;
	int *memb;		/* n x PD_NLEVELS, after pd_cltrain_build */
	float *sim;		/* n x PD_NLEVELS */
	int built;
} pd_cltrain;

/*
 * pd_cltrain_init: t ready for the first reading of files[0..nfiles) (none:
 * standard input): they are read again when they can be (input.h
 * pd_input_fingerprint), else the lines are kept in a temporary file.
 * Returns 0, or -1 with err (no temporary file).  pd_cltrain_release frees.
 */
int pd_cltrain_init(pd_cltrain *t, char *const *files, int nfiles, pd_err *err);
/*
 * pd_cltrain_take: line i of b (line[0..len)) taken in input order
 * (pd_clstream_take on t->s), and kept.  Returns its kind as
 * pd_clstream_take; -1 with err (PD_ESERVICE) when the temporary file cannot be
 * written.
 */
int pd_cltrain_take(pd_cltrain *t, const pd_clbatch *b, int i, const char *line, size_t len,
		    pd_err *err);
/*
 * pd_cltrain_build: the hierarchy of the t->n videos (t->n >= 1) into t->h
 * (pd_hier_build).  Returns 0, or -1 with err.
 */
int pd_cltrain_build(pd_cltrain *t, const pd_hier_opts *o, pd_err *err);
/*
 * pd_cltrain_reread: the input of the first reading, to be read again
 * (files as given to pd_cltrain_init).  NULL with err: the temporary file
 * cannot be read back (PD_ESERVICE), the input files changed (PD_EUSAGE).
 */
pd_input *pd_cltrain_reread(pd_cltrain *t, char *const *files, int nfiles, size_t max_line,
			    pd_err *err);
/*
 * pd_cltrain_out: the next good line of the second reading, in order: its
 * output (a video with its clusters, another record as it is; nothing for a
 * dropped line) appended to out.  Returns 1 a record written, 0 none, -1
 * with err (PD_EUSAGE) when there are more lines than at the first reading.
 * Calls follow each other (any thread, one at a time).
 */
int pd_cltrain_out(pd_cltrain *t, const char *line, size_t len, pd_buf *out, pd_err *err);
/* pd_cltrain_reread_end: 0 when the second reading had every line of the
 * first, else -1 with err (PD_EUSAGE, "... ended early when read again"). */
int pd_cltrain_reread_end(pd_cltrain *t, pd_err *err);
/* pd_cltrain_summarise: pd_hier_summarise of the built hierarchy. */
pd_cl_summary *pd_cltrain_summarise(const pd_cltrain *t, int nlabels, double high);
/* pd_cltrain_mean_sim: the videos' mean similarity to their cluster of level L. */
double pd_cltrain_mean_sim(const pd_cltrain *t, int level);
void pd_cltrain_release(pd_cltrain *t);

#endif
