/*
 * valfeed.h — pd-validate's stream into a validator (validate.h): which
 * records feed it, and what of them is written on.
 *
 * Patterns are taken into the validator (written later, updated, by the
 * command).  Videos and clusters feed it and pass through.  A mine_summary
 * gives the run's test counts ("tests", a whole number, required;
 * "tests_topic" when it is between 0 and tests) and its "z_hist" for
 * confidence's selection correction (a histogram unlike the others is left
 * out, with a warning: the run's confidence goes without the correction),
 * and passes through — except the summaries of a sharded run (pd-mine
 * --shard i/n, n > 1), which are held back and written as one at the end,
 * the record the unsharded run would have written (mine.h
 * pd_mine_summary_merge), or as they came when they do not merge.  Records
 * of other types pass through untouched.
 */
#ifndef PD_VALFEED_H
#define PD_VALFEED_H
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "validate.h"

typedef struct pd_valfeed pd_valfeed;

/* pd_valfeed_new: a feed into v (which stays the caller's). */
pd_valfeed *pd_valfeed_new(pd_validator *v);
void pd_valfeed_free(pd_valfeed *f);

enum { PD_VALFEED_REJECT = -1, PD_VALFEED_PASS = 0, PD_VALFEED_KEPT = 1 };

/*
 * pd_valfeed_line: one input line (line[0..len)).  Returns PD_VALFEED_PASS
 * (to be written on as it is), PD_VALFEED_KEPT (nothing to write now) or
 * PD_VALFEED_REJECT with err (a bad record: the parser's or the
 * validator's message, or a mine_summary without its count).  warn gets a
 * message, and a nonzero code, when a line taken deserves a warning (a bad
 * z_hist), else code PD_OK.
 */
int pd_valfeed_line(pd_valfeed *f, const char *line, size_t len, pd_err *err, pd_err *warn);

/* pd_valfeed_summaries: the mine_summary records taken so far. */
int pd_valfeed_summaries(const pd_valfeed *f);

/*
 * pd_valfeed_finish: the held-back summaries of a sharded run, as lines
 * ("\n" each) appended to out: one merged record, or, when they do not
 * merge, each as it came, with warn saying why (code nonzero).  Returns
 * how many lines were appended.
 */
size_t pd_valfeed_finish(pd_valfeed *f, pd_buf *out, pd_err *warn);

#endif
