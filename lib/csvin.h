/*
 * csvin.h — videos from CSV exports.
 *
 * Parsing is libcsv's (RFC 4180: quoted fields, doubled quotes, quoted line
 * breaks).  We feed it one physical line at a time from pd_input, so every
 * record knows the line it starts on and keeps its raw text: a bad row is
 * reported as FILE:LINE and written whole to --rejects.  A stray quote does
 * not swallow the rows after it: its row is rejected and reading resumes on
 * the next line (csvin.c).  The header row names
 * the columns; the columns of pd's shared data (video_id, view_count, ...),
 * of the classic Kaggle trending exports (views, publish_time, trending_date,
 * ...) and of the YouTube API's field names are recognised, and `--map
 * field=column` names any other.  Each row becomes a video record's JSON text
 * (without its closing brace, so derived fields can be appended later) plus
 * the numbers pd-fetch computes with.
 */
#ifndef PD_CSVIN_H
#define PD_CSVIN_H
#include <stddef.h>
#include "buf.h"
#include "err.h"

typedef struct pd_csv pd_csv;

/* The numbers and keys of one row that perf computation needs. */
typedef struct pd_csv_row {
	const char *id;		/* borrowed: valid until the next feed */
	const char *channel;	/* channel_id, else channel_title; NULL if neither */
	double views;		/* NAN unknown */
	double published_at, observed_at;	/* NAN unknown */
	double perf_in;		/* a "perf" column, NAN if none */
} pd_csv_row;

pd_csv *pd_csv_new(void);
void pd_csv_free(pd_csv *c);
/* pd_csv_map: "field=column" (field one of pd_csv_fields()); -1 if unknown field. */
int pd_csv_map(pd_csv *c, const char *spec, pd_err *err);
/* pd_csv_fields: the field names --map accepts, comma-separated. */
const char *pd_csv_fields(void);
/*
 * pd_csv_check_header: after the header row (pd_csv_feed returned 2): 0 when
 * the header has a column for each field of `fields` (comma-separated field
 * names; "a|b" when either will do); else -1 and err (PD_EUSAGE) names each
 * missing field with the column names accepted for it, and the header's
 * columns.  The header must name id and title (the reader checks them
 * itself: a header without them is a -1 result of pd_csv_feed).
 */
int pd_csv_check_header(const pd_csv *c, const char *fields, pd_err *err);

/*
 * pd_csv_feed: one physical line (without its newline) at line number lineno.
 * Returns 0 when no row is complete yet (a quoted line break), 1 when a data
 * row is complete and was converted (*json holds the record text without its
 * closing '}', *row its numbers), 2 when the row was the header, and -1 when
 * a row is bad (err says why; pd_csv_raw gives its whole text).
 *
 * A quoted field that does not close where it should (a stray quote) makes
 * the reader reject the row at the line where the quote opened and read the
 * lines after it again (csvin.c says when), so one line can complete several
 * rows: after a nonzero result, call pd_csv_next until it returns 0.
 */
int pd_csv_feed(pd_csv *c, const char *line, size_t len, long lineno, pd_buf *json,
		pd_csv_row *row, pd_err *err);
/* pd_csv_next: the next result of the lines fed so far, as pd_csv_feed; 0 when none. */
int pd_csv_next(pd_csv *c, pd_buf *json, pd_csv_row *row, pd_err *err);
/*
 * pd_csv_finish: at the end of a file: the rows still held (a quoted field
 * still open is cut, and the lines after its quote read again), as
 * pd_csv_next: call it, then pd_csv_next, until 0.
 */
int pd_csv_finish(pd_csv *c, pd_buf *json, pd_csv_row *row, pd_err *err);
/* pd_csv_reset: before the next file (a new header row follows). */
void pd_csv_reset(pd_csv *c);
/* The raw text and line of the row just completed or rejected (for a quote
 * that does not close: the line where it opened). */
const char *pd_csv_raw(const pd_csv *c, size_t *len);
long pd_csv_row_line(const pd_csv *c);

/* pd_category_name: the standard YouTube category name of an id, or NULL. */
const char *pd_category_name(int id);

#endif
