/*
 * track.h — pattern effectiveness tracking, the engine behind pd-track:
 * pd-match's predictions kept in PostgreSQL, then compared with the
 * performance the videos actually reached.
 *
 * This module owns the `match` record as a prediction (its reader: the
 * fields and their aliases) and the `effectiveness` record (its writer).
 * The tables and views are schema.c's migration 2: `predictions` (one row
 * per run, pattern and video) and the materialized view
 * `pattern_effectiveness` (one row per run and pattern, with the flag rule
 * of SQL pd_track_flag), documented in pd-track(1).
 *
 * Recording (pd_tracker_*): one transaction.  Predictions are checked as
 * they are read, streamed by binary COPY into a temporary staging table,
 * then moved into `predictions` with INSERT ... ON CONFLICT DO NOTHING, so
 * the same stream recorded twice adds nothing and the first prediction of a
 * (run, pattern, video) is the one kept.  Each prediction belongs to a
 * discovery run: the record's "run_id", else the tracker's run (given, or
 * the active run); its pattern must be a pattern of that run, whose effect
 * (performance_stats.lift_ratio, else stats.effect, else stats.lift) and
 * direction (the record's "direction", else effect < 1: negative) are
 * copied in.
 *
 * Ownership: a pd_tracker owns its connection's transaction (not the
 * connection) and everything it allocates; pd_tracker_free rolls back what
 * was not committed.  Nothing here prints or exits.
 */
#ifndef PD_TRACK_H
#define PD_TRACK_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include "buf.h"
#include "err.h"

/* One prediction as a match record states it (strings borrowed from the tree). */
typedef struct pd_prediction {
	const char *video_id, *pattern_id;
	const char *cluster;		/* NULL when absent */
	int has_feature;
	double expected, lo, hi;	/* NAN when null or absent */
	double similarity;		/* NAN when null or absent */
	double predicted_at;		/* seconds since 1970; NAN: the recording time */
	long long run_id;		/* 0: not stated */
	const cJSON *json;		/* the match object itself */
} pd_prediction;

/*
 * pd_prediction_from_json: the prediction in match object m (a `match`
 * record, or one element of a `match_group` record's "matches", whose
 * video_id is then group_video_id).  Fields: video_id, pattern_id,
 * has_feature (boolean, required), expected_perf (finite, >= 0, or null),
 * expected_perf_ci [lo, hi] or expected_lo + expected_hi (finite,
 * lo <= hi, or null), similarity (in [-1, 1], or null), cluster,
 * predicted_at (RFC 3339), run_id (a positive integer).  Returns 0, or -1
 * with err (PD_EREC) naming the field.
 */
int pd_prediction_from_json(const cJSON *m, const char *group_video_id, pd_prediction *p,
			     pd_err *err);

typedef struct pd_tracker pd_tracker;

/*
 * pd_tracker_begin: start recording on c (BEGIN, the staging table, the
 * COPY under way).  run_id > 0: predictions that state no run belong to
 * that run (it must exist); 0: to the active run (there must be one).
 * Returns the tracker, or NULL with err (PD_ESERVICE; a run that does not
 * exist, or no active run, PD_EUSAGE).
 */
pd_tracker *pd_tracker_begin(PGconn *c, long long run_id, pd_err *err);

/*
 * pd_tracker_add: stage one prediction.  Returns 0, or -1 with err:
 * PD_EREC for a prediction that cannot be kept (a run that is not stored,
 * a pattern that is not a pattern of its run, \u0000 in a string), the
 * tracker still usable; PD_ESERVICE when the database failed (the tracker
 * is then only good for pd_tracker_free).
 */
int pd_tracker_add(pd_tracker *t, const pd_prediction *p, pd_err *err);
/* pd_tracker_check: pd_tracker_add's checks without staging (same returns). */
int pd_tracker_check(pd_tracker *t, const pd_prediction *p, pd_err *err);

/*
 * pd_tracker_commit: move the staged predictions into `predictions` and
 * commit.  *staged gets how many were staged, *stored how many were new
 * (the rest were recorded before).  Returns 0 or -1 with err (PD_ESERVICE).
 */
int pd_tracker_commit(pd_tracker *t, long long *staged, long long *stored, pd_err *err);

/* pd_tracker_free: roll back whatever was not committed; frees t (NULL is fine). */
void pd_tracker_free(pd_tracker *t);

/* What pd_track_report selects. */
typedef struct pd_track_report_opts {
	long long run_id;	/* > 0: that run only */
	const char *pattern_id;	/* non-NULL: that pattern only */
	int latest;		/* only each pattern's most recent run */
	int flagged_only;	/* only flagged rows */
	int refresh;		/* refresh pattern_effectiveness first */
	int min_n;		/* the flag rule's minimum group size (default 20) */
	double min_ratio;	/* the flag rule's median-ratio threshold (default 0.5) */
} pd_track_report_opts;
#define PD_TRACK_REPORT_OPTS_INIT { 0, NULL, 0, 0, 1, 20, 0.5 }

/*
 * pd_track_report: the rows of pattern_effectiveness as `effectiveness`
 * records (one compact JSON line each, no '\n'), by pattern id (C order),
 * then run id; flagged and flag_reason computed with o's thresholds.
 * cb(ud, json, len) is called for each; *rows and *flagged (may be NULL)
 * count them.  Returns 0, or -1 with err (PD_ESERVICE).
 */
int pd_track_report(PGconn *c, const pd_track_report_opts *o,
		    void (*cb)(void *ud, const char *json, size_t len), void *ud,
		    long long *rows, long long *flagged, pd_err *err);

#endif
