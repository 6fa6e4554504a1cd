/*
 * report.h — pd-report's page: what was found, as one self-contained HTML
 * document (inline CSS, inline SVG charts drawn here, a few lines of inline
 * script for sorting and filtering; nothing is fetched when it is viewed).
 *
 * A pd_report collects what the page shows, from either source:
 *   - stream records (pd_report_add_line): pattern, cluster, metric records
 *     as pd-mine / pd-validate / every stage write them, `video` records
 *     (only counted), and `effectiveness` records (below); other types are
 *     ignored;
 *   - the database (pd_report_load_db): the active run's clusters and
 *     patterns, the history of discovery_runs and pattern_discovery_metrics,
 *     and predicted-vs-actual figures when the tracking relations exist.
 * Redis figures (keyspace hits and misses) are added with
 * pd_report_redis_info + pd_report_set_redis.  pd_report_html then writes
 * the page into a buffer; the library never prints or exits.
 *
 * Predicted vs actual: pd-track's materialized view `pattern_effectiveness`
 * (migration 2), shown when it has rows: per pattern and run, the median
 * expected perf, the median perf the matched videos with the feature reached
 * (median_with) and how many were measured (n_with), joined to the
 * pattern's name.
 * A stream carries the same as pd-track's `effectiveness` records
 * (expected_perf, median_with, n_with, last_predicted_at), or with the
 * names predicted_perf, actual_perf, videos, measured_at, pattern_name.
 *
 * Ownership: the report copies everything it keeps; pd_report_free frees it.
 */
#ifndef PD_REPORT_H
#define PD_REPORT_H
#include <stddef.h>
#include <libpq-fe.h>
#include "buf.h"
#include "err.h"

typedef struct pd_report pd_report;

typedef struct pd_report_opts {
	const char *title;		/* page title (NULL: "pd report") */
	const char *generated_at;	/* shown under the title (NULL: not shown) */
	int max_niches;			/* niches rendered (others counted in a note) */
	int max_patterns;		/* pattern rows per niche */
	int max_runs;			/* runs of history shown */
} pd_report_opts;
#define PD_REPORT_OPTS_INIT { NULL, NULL, 1000, 50, 30 }

pd_report *pd_report_new(void);
void pd_report_free(pd_report *r);

/*
 * pd_report_add_line: one stream record (n bytes of JSON text).  Returns 1
 * when the record was used or counted, 0 when its type is one the report
 * does not show, -1 with err (PD_EREC) when it is malformed.
 */
int pd_report_add_line(pd_report *r, const char *line, size_t n, pd_err *err);

/*
 * pd_report_load_db: the active run, the last max_runs runs' history and
 * metrics, and the tracking view when present, from connection c.  Returns
 * 0, or -1 with err (PD_ESERVICE).  A tracking view whose columns do not
 * match the contract above is not an error: the page says so.
 */
int pd_report_load_db(pd_report *r, PGconn *c, int max_runs, pd_err *err);

/*
 * pd_report_redis_info: keyspace_hits and keyspace_misses from Redis INFO
 * stats at url (NULL: REDIS_URL).  Returns 1 with the figures, 0 when no
 * URL is configured, -1 with err (PD_ESERVICE/PD_EUSAGE) when it fails.
 */
int pd_report_redis_info(const char *url, long long *hits, long long *misses, pd_err *err);
/* pd_report_set_redis: the figures to show (or, with why != NULL, why there are none). */
void pd_report_set_redis(pd_report *r, long long hits, long long misses, const char *why);

/* pd_report_html: the whole page appended to out. */
void pd_report_html(const pd_report *r, const pd_report_opts *o, pd_buf *out);

/* Counts, for the command's summary and for tests. */
void pd_report_counts(const pd_report *r, long *patterns, long *niches, long *runs);

#endif
