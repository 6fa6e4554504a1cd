/*
 * embedio.h — pd-embed's training stream: what it reads of each line, what
 * it keeps between its two passes, and the lines it writes.
 *
 * pd-embed trains its local model (tfidf.h) on its own input: it reads the
 * input a chunk ahead on a second thread (the command's cmd/ahead.h), trains,
 * then writes the stream again with the embeddings added.  This module is
 * everything those two passes do except the threads and the messages, so
 * that the command is options and I/O.
 *
 * A batch (pd_embatch) holds what was examined of a chunk's lines: each
 * line's kind (PD_EML_*), for a video its terms (cut on the examining
 * thread) and, for a video to embed, its output line up to its embedding
 * (record.h pd_record_write_head), or the message of a line to reject.
 * Lines may be examined on two threads at once (who 0 or 1, each with its
 * own record and scanner), in any order; they are then taken in input order
 * (pd_emtrain_take): a video's terms go to the trainer as its next document
 * and the line is kept in a temporary file — as read, or for a video to
 * embed its head only — with one byte per line saying its kind.  That is all
 * the second pass needs: it parses nothing again.
 *
 * The second pass (pd_emtrain_next) reads the kept lines back a chunk at a
 * time (at most PD_EMCHUNK videos, not every embedding at once), makes the
 * chunk's embeddings (pd_ttrainer_embed) and formats its lines in
 * PD_SVD_PARTS fixed parts of the lines, each part into its own buffer, on
 * the threads; the parts are then written in order.  The parts are cut by
 * line count, not by thread, so the bytes do not depend on the threads.
 *
 * Videos that already carry an embedding are trained on and pass through
 * unchanged unless force is given.
 */
#ifndef PD_EMBEDIO_H
#define PD_EMBEDIO_H
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "svd.h"
#include "tfidf.h"
#include "video.h"

/* The kinds of lines, as pd_emtrain_examine tells them. */
enum {
	PD_EML_REJECT = -1,	/* a bad line: rejected (the batch keeps why) */
	PD_EML_OTHER = 0,	/* not a video (or not a line): written as read */
	PD_EML_EMBED = 1,	/* a video to embed: trained on, written with its embedding */
	PD_EML_KEEP = 2		/* a video with an embedding: trained on, written as read */
};

/* Videos per chunk of the second pass. */
#define PD_EMCHUNK 16384

/* pd_embed_doc: v's texts as the text model takes them (pointers into v). */
void pd_embed_doc(const pd_video *v, pd_tdoc_text *t);

/* ---- examining the lines of a chunk ---- */

typedef struct pd_embatch pd_embatch;

pd_embatch *pd_embatch_new(void);
void pd_embatch_free(pd_embatch *b);
/* pd_embatch_reset: room for n lines (what earlier lines kept is reused). */
void pd_embatch_reset(pd_embatch *b, int n);

/* ---- the two passes ---- */

typedef struct pd_emtrain pd_emtrain;

/* pd_emtrain_new: a training stream with its temporary file; NULL with err.
 * force: videos with an embedding are embedded again. */
pd_emtrain *pd_emtrain_new(int force, pd_err *err);
void pd_emtrain_free(pd_emtrain *t);

/*
 * pd_emtrain_examine: line i of b (line[0..len); NULL: not a line, an
 * over-long one or a read error) examined with t's scanner who (0 or 1;
 * two threads may examine lines at once when their who differs).
 */
void pd_emtrain_examine(pd_emtrain *t, pd_embatch *b, int i, int who, const char *line,
			size_t len);
/*
 * pd_emtrain_take: line i of b, examined, taken in input order (line as
 * given to pd_emtrain_examine).  Returns 0 when the line was kept, 1 when it
 * is to be rejected (*why: the message, valid until b is reset), -1 with err
 * when the temporary file cannot be written.
 */
int pd_emtrain_take(pd_emtrain *t, const pd_embatch *b, int i, const char *line, size_t len,
		    const char **why, pd_err *err);
/* pd_emtrain_trainer: the trainer the taken videos went to (t owns it). */
pd_ttrainer *pd_emtrain_trainer(pd_emtrain *t);

/* A chunk of the second pass: its lines in PD_SVD_PARTS parts, in order. */
typedef struct pd_emout {
	pd_buf out[PD_SVD_PARTS];		/* the part's lines, each ended by '\n' */
	unsigned long long nrec[PD_SVD_PARTS];	/* and how many */
} pd_emout;

/*
 * pd_emtrain_next: the next chunk of the second pass into t's pd_emout
 * (*out; valid until the next call), embedded with m (trained on t's
 * trainer; NULL when no video was taken) at dims dimensions, embeddings as
 * `form` (PD_EMB_B64 or PD_EMB_JSON), on up to `threads` threads (0: the
 * processors).  Returns 1 with a chunk, 0 at the end, -1 with err when the
 * temporary file cannot be read back.
 */
int pd_emtrain_next(pd_emtrain *t, const pd_tmodel *m, int dims, int form, int threads,
		    pd_emout **out, pd_err *err);
/* pd_emtrain_counts: of the lines written so far, the videos embedded and
 * those with an all-zero embedding (none of their terms known). */
void pd_emtrain_counts(const pd_emtrain *t, unsigned long long *embedded,
		       unsigned long long *zero);

#endif
