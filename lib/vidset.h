/*
 * vidset.h — the videos of one fetch, held until their performance is
 * known (pd-fetch).
 *
 * Performance is relative to each channel (perf.h), so every video is read
 * before any is written.  A set keeps, in input order, each video as the
 * head of its record's text (video.h pd_video_write_head: every member but
 * the derived ones, no closing brace) with the few numbers the model needs,
 * and each record of another type as its line; a video whose id was seen
 * before is refused and counted.  pd_vidset_perf computes every video's
 * perf; pd_vidset_get then gives the items back in input order, each video
 * finished with its derived fields (age_days, perf, perf_basis,
 * perf_reason) through the record's writer.
 *
 * Ages: days from published_at to observed_at, or to the set's `now` when a
 * video has no observed_at; never below 0; NAN without published_at (an
 * NDJSON record's own age_days is then kept).
 */
#ifndef PD_VIDSET_H
#define PD_VIDSET_H
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "perf.h"
#include "record.h"
#include "video.h"

typedef struct pd_vidset pd_vidset;

/* pd_vidset_new: an empty set measuring ages to now (Unix seconds) at most. */
pd_vidset *pd_vidset_new(double now);
void pd_vidset_free(pd_vidset *s);

/* pd_vidset_age: the age in days of a video published and observed then (NAN: unknown) */
double pd_vidset_age(const pd_vidset *s, double published, double observed);

/*
 * pd_vidset_add: a video kept: head[0..len) its record's head, id its id,
 * channel its channel (NULL or "": none), views, age (days) and the input's
 * perf (NAN: none; for PD_PERF_KEEP).  Returns 0, or -1 when the id was
 * seen before (nothing kept; counted as a duplicate).
 */
int pd_vidset_add(pd_vidset *s, const char *head, size_t len, const char *id, const char *channel,
		  double views, double age, double perf_in);
/* pd_vidset_add_video: v kept (its head written from v, its channel_id or
 * else channel_title its channel); as pd_vidset_add. */
int pd_vidset_add_video(pd_vidset *s, const pd_video *v, double perf_in);
/*
 * pd_vidset_add_record: an NDJSON video record parsed into r (record.h
 * pd_record_parse; its embedding kept in the form it came in) kept, its
 * stale derived fields dropped (they are computed again).  Returns 0, or -1
 * with err (PD_EREC): not a valid video (video.h's message), or "duplicate
 * video id 'ID'".
 */
int pd_vidset_add_record(pd_vidset *s, const pd_record *r, pd_err *err);
/* pd_vidset_add_other: a record of another type (line[0..len)) kept in place. */
void pd_vidset_add_other(pd_vidset *s, const char *line, size_t len);

/* pd_vidset_perf: every video's perf (perf.h pd_perf_compute); curve may be NULL. */
void pd_vidset_perf(pd_vidset *s, int mode, int min_videos, pd_age_curve *curve);

/* the items, in input order */
size_t pd_vidset_count(const pd_vidset *s);
/*
 * pd_vidset_get: item i (after pd_vidset_perf): a video is appended to out
 * as its whole record, "\n" included (returns 1); another record is given
 * in *line, *len, without "\n" (returns 0; out untouched).
 */
int pd_vidset_get(const pd_vidset *s, size_t i, pd_buf *out, const char **line, size_t *len);

typedef struct pd_vidset_stats {
	size_t videos, channels, with_perf;	/* with_perf: after pd_vidset_perf */
	unsigned long long duplicates;
} pd_vidset_stats;
void pd_vidset_get_stats(const pd_vidset *s, pd_vidset_stats *st);

#endif
