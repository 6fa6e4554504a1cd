/*
 * video.h — a typed view of a `video` record (DESIGN.md §2).
 *
 * pd_video_from_json reads the fields the toolkit computes with out of a
 * record's cJSON tree and checks them; strings are borrowed from the tree, so
 * the view is valid while the tree lives.  Unknown numbers are NAN, never 0:
 * "no view count" and "zero views" differ.  pd_video_release frees only the
 * tag pointer array.
 */
#ifndef PD_VIDEO_H
#define PD_VIDEO_H
#include <cjson/cJSON.h>
#include "err.h"

typedef struct pd_video {
	const char *id, *channel_id, *title, *description, *category, *format;
	const char **tags;
	int ntags;
	double published_at, observed_at;	/* seconds since the epoch, NAN unknown */
	double duration_s;			/* NAN unknown */
	double views, likes, comments;		/* NAN unknown */
	double age_days;			/* NAN unknown */
	double perf;				/* NAN when null or absent */
	int perf_basis;
	int holdout;
} pd_video;

/*
 * pd_video_from_json: fill v from the object o.  Rejects (PD_EREC, message
 * naming the field): a missing or non-string or empty "id", a non-string
 * channel_id/title, a non-array "tags" or non-string tag, a negative,
 * non-numeric or over 9e15 count, a published_at/observed_at that is not RFC
 * 3339, a perf_basis that is not a whole number in int range, a holdout that
 * is not a boolean, a cluster that is not an object, a cluster_sim that is
 * not a number (null or absent is always fine).
 */
int pd_video_from_json(const cJSON *o, pd_video *v, pd_err *err);
/*
 * pd_video_from_jobj: the same from a scanned record (record.h,
 * pd_record_scan): the same checks and messages; strings are borrowed from o
 * and valid until it is reset.
 */
struct pd_jobj;
int pd_video_from_jobj(struct pd_jobj *o, pd_video *v, pd_err *err);
void pd_video_release(pd_video *v);

#endif
