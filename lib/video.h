/*
 * video.h — a typed view of a `video` record (DESIGN.md §2).
 *
 * pd_video_from_json reads the fields the toolkit computes with out of a
 * record's cJSON tree and checks them; strings are borrowed from the tree, so
 * the view is valid while the tree lives.  Unknown numbers are NAN, never 0:
 * "no view count" and "zero views" differ.  pd_video_release frees only the
 * tag pointer array.
 *
 * pd_video_write is the one writer of a video record: every source (CSV,
 * PostgreSQL, the YouTube Data API, pd-synth) fills a pd_video and writes it
 * here, and pd-fetch adds its derived fields (age_days, perf, perf_basis,
 * perf_reason) through the same call.  One canonical field order:
 *
 *   type id channel_id channel_title title description tags category
 *   category_id format published_at observed_at duration_s views likes
 *   comments is_short extra cluster cluster_sim <rest> age_days perf
 *   perf_basis perf_reason
 *
 * `fields` says which members are written (PD_VF_*): a set bit with an
 * unknown value (NULL, NAN, is_short -1) writes null, a clear bit leaves the
 * member out, so a source that has "no description" (null) and one that never
 * had the column (absent) both keep their meaning.
 */
#ifndef PD_VIDEO_H
#define PD_VIDEO_H

/* The largest count (views, likes, comments) a video record may hold: it fits
 * PostgreSQL's bigint and a double exactly (2^53 is 9.007e15), and is far
 * above any real view count. */
#define PD_VIDEO_COUNT_MAX 9e15
#include <cjson/cJSON.h>
#include "err.h"
#include "buf.h"

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
	/* read by pd_video_from_json too; written by pd_video_write */
	const char *channel_title, *category_id, *perf_reason;
	int is_short;				/* -1 unknown, 0, 1 */
	const char *cluster[3];			/* macro, meso, micro; NULL none */
	double cluster_sim;			/* NAN none */
	unsigned fields;			/* PD_VF_* present members */
	/* written only (pd_video_from_json leaves them NULL): JSON text */
	const char *extra;			/* the "extra" object, NULL none */
	size_t extra_len;
	const char *rest;			/* further members "k":v,... without braces */
	size_t rest_len;
} pd_video;

enum {
	PD_VF_CHANNEL_ID = 1u << 0, PD_VF_CHANNEL_TITLE = 1u << 1, PD_VF_TITLE = 1u << 2,
	PD_VF_DESCRIPTION = 1u << 3, PD_VF_TAGS = 1u << 4, PD_VF_CATEGORY = 1u << 5,
	PD_VF_CATEGORY_ID = 1u << 6, PD_VF_FORMAT = 1u << 7, PD_VF_PUBLISHED_AT = 1u << 8,
	PD_VF_OBSERVED_AT = 1u << 9, PD_VF_DURATION_S = 1u << 10, PD_VF_VIEWS = 1u << 11,
	PD_VF_LIKES = 1u << 12, PD_VF_COMMENTS = 1u << 13, PD_VF_IS_SHORT = 1u << 14,
	PD_VF_CLUSTER = 1u << 15, PD_VF_CLUSTER_SIM = 1u << 16, PD_VF_AGE_DAYS = 1u << 17,
	PD_VF_PERF = 1u << 18, PD_VF_PERF_BASIS = 1u << 19, PD_VF_PERF_REASON = 1u << 20,
	PD_VF_DERIVED = PD_VF_AGE_DAYS | PD_VF_PERF | PD_VF_PERF_BASIS | PD_VF_PERF_REASON
};

/* pd_video_init: every value unknown (NAN, NULL, is_short -1), no fields */
void pd_video_init(pd_video *v);
/*
 * pd_video_write: v as one record "{...}\n" appended to b, members in the
 * canonical order above, those of v->fields (id and type always).  Numbers
 * exactly (buf.h pd_buf_add_num_exact: whole numbers below 1e15 without a
 * fraction, others the shortest of %.15g and %.17g that reads back
 * exactly); age_days with four decimals (pd_buf_add_num_fixed) and perf as
 * every record's numbers, six significant digits (pd_buf_add_num; pd-fetch's
 * model precision).  perf_reason is
 * written only when set and not NULL.
 */
void pd_video_write(pd_buf *b, const pd_video *v);
/*
 * The two halves of pd_video_write, for pd-fetch, which writes a record's
 * derived fields once every video is read: head, the members up to and with
 * the rest, without the closing brace; tail, the derived members of
 * v->fields (age_days, perf, perf_basis, perf_reason) and "}\n".
 */
void pd_video_write_head(pd_buf *b, const pd_video *v);
void pd_video_write_tail(pd_buf *b, const pd_video *v);
/*
 * pd_video_rest_from_json: the members of o that pd_video_write does not
 * write from v (filled from o by pd_video_from_json): all but type, id,
 * "extra" and the members of v->fields (those of the type the writer gives),
 * as "k":v,... text appended to rest; o's "extra", printed, to extra.  With
 * pd_video_from_json this turns any video record into a pd_video that
 * pd_video_write writes back whole.
 */
void pd_video_rest_from_json(const cJSON *o, const pd_video *v, pd_buf *extra, pd_buf *rest);

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
/*
 * pd_video_from_jobj_keep: the same, keeping only the strings and tags of
 * `keep` (PD_VF_* bits): every member is checked as above and its bit in
 * v->fields set as above, but a string member outside `keep` is left NULL
 * and tags outside it are not collected (v->tags NULL), so the decoding is
 * saved.  For a reader that uses a few fields (pd-match's features:
 * pd_vfeat_video_fields); such a v must not be written.
 */
int pd_video_from_jobj_keep(struct pd_jobj *o, pd_video *v, unsigned keep, pd_err *err);
void pd_video_release(pd_video *v);

#endif
