/*
 * db.h — PostgreSQL access for pd: connecting, running parameterised SQL,
 * binary COPY, and reading the stored videos back as a stream.
 *
 * Connection: DATABASE_URL when set (libpq does not read it itself), else
 * libpq's own PG* variables; connection failures are retried a few times
 * with backoff, then reported as PD_ESERVICE with libpq's reason.  SQL is
 * always parameterised; identifiers never come from input.
 *
 * Binary COPY (pd_copy_*): rows are encoded straight into a pd_buf in
 * PostgreSQL's binary COPY format, so embeddings travel as raw float32
 * (pgvector's `vector` receive format) and the server parses no text.
 * The schema itself (tables, migrations, views) lives in schema.h.
 */
#ifndef PD_DB_H
#define PD_DB_H
#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>
#include "buf.h"
#include "err.h"

/*
 * pd_db_connect: a connection to url (a postgresql:// URI or a libpq
 * "key=value" string); url NULL means DATABASE_URL when set, else libpq's
 * PG* environment.  Sets fallback_application_name (the program, from
 * pd_db_set_program, default "pd"), client_encoding UTF8, connect_timeout
 * 10 s unless the URL says otherwise; server NOTICEs are discarded (the
 * library never prints).  A URI of another scheme than postgresql:// or
 * postgres:// (mysql://...) is refused at once (PD_EUSAGE), not handed to
 * libpq (which would take it for a database name on the local socket).  Tries 3 times with backoff (0.25 s,
 * 1 s) unless the failure is one a retry cannot fix (authentication, no such
 * database or role).  Returns the connection (PQfinish it), or NULL with
 * err (PD_ESERVICE) carrying libpq's reason on one line.
 */
PGconn *pd_db_connect(const char *url, pd_err *err);
/*
 * pd_db_connect_like: a second connection to c's server and database, as
 * the same user, with c's parameters (PQconninfo); no retries.  Returns it
 * (PQfinish it), or NULL with err (PD_ESERVICE).
 */
PGconn *pd_db_connect_like(PGconn *c, pd_err *err);
/* pd_db_set_program: the application_name libpq reports (a static string). */
void pd_db_set_program(const char *name);

/*
 * pd_db_exec: run one or more SQL commands without parameters (no results
 * wanted).  A missing table (SQLSTATE 42P01: a database without pd's
 * schema, or with an older one) is reported as "database has no pd schema
 * (no relation "x"); run pd-store --migrate" here and in pd_db_error, for
 * every command that reads the database.  pd_db_query: one command with text parameters (NULL = SQL NULL);
 * returns the result (PQclear it) when it is COMMAND_OK or TUPLES_OK, else
 * NULL with err (PD_ESERVICE, the server's message).
 */
int pd_db_exec(PGconn *c, const char *sql, pd_err *err);
PGresult *pd_db_query(PGconn *c, const char *sql, int nparams, const char *const *params,
		      pd_err *err);
/* pd_db_error: err filled from the connection's last message (prefix: what). */
int pd_db_error(PGconn *c, const char *what, pd_err *err);

/*
 * Binary COPY.  pd_db_copy_begin runs `sql` (a COPY ... FROM STDIN (FORMAT
 * binary)); pd_db_copy_send sends b's bytes and empties b; pd_db_copy_end
 * sends the trailer, ends the COPY and returns the rows copied (or -1 with
 * err).  pd_db_copy_abort ends a COPY with an error (the transaction then
 * fails, which is the point).
 */
int pd_db_copy_begin(PGconn *c, const char *sql, pd_buf *b, pd_err *err);
int pd_db_copy_send(PGconn *c, pd_buf *b, pd_err *err);
long long pd_db_copy_end(PGconn *c, pd_buf *b, pd_err *err);
void pd_db_copy_abort(PGconn *c, const char *why);

/* Encoders of one binary COPY row: pd_copy_row(ncols), then ncols fields. */
void pd_copy_header(pd_buf *b);
void pd_copy_row(pd_buf *b, int ncols);
void pd_copy_null(pd_buf *b);
void pd_copy_text(pd_buf *b, const char *s, size_t n);	/* text, varchar */
void pd_copy_jsonb(pd_buf *b, const char *s, size_t n);	/* JSON text -> jsonb */
void pd_copy_int4(pd_buf *b, int32_t v);
void pd_copy_int8(pd_buf *b, int64_t v);
void pd_copy_float8(pd_buf *b, double v);
void pd_copy_bool(pd_buf *b, int v);
void pd_copy_timestamptz(pd_buf *b, double epoch_s);	/* seconds since 1970 */
void pd_copy_text_array(pd_buf *b, const char *const *s, int n);	/* text[] */
void pd_copy_vector(pd_buf *b, const float *v, int dim);	/* pgvector vector */

/*
 * pd_db_read_videos: the stored videos as `video` records, one NDJSON line
 * each (no '\n'), in id order (C collation), only those whose row changed
 * after `since` (RFC 3339) when since is not NULL, written by lib/video.h's
 * pd_video_write in its canonical order: type, id, channel_id,
 * channel_title, title, description, tags, category, format, published_at,
 * observed_at, duration_s, views, likes, comments, is_short, extra, cluster,
 * cluster_sim, then any other fields the record had, the embedding as
 * embedding_b64, then age_days, perf, perf_basis, perf_reason (the cluster
 * membership is the active run's, view active_video_clusters).  Rows are streamed in single-row mode, so
 * memory does not grow with the table.  cb(ud, json, len) is called for
 * each; a nonzero return stops the read (the rest is discarded) and is
 * returned.  The connection must not be used by cb.  Returns 0 when all
 * rows were read, cb's nonzero value, or -1 with err (PD_ESERVICE; a bad
 * `since` is PD_EUSAGE).
 */
int pd_db_read_videos(PGconn *c, const char *since,
		      int (*cb)(void *ud, const char *json, size_t len), void *ud, pd_err *err);
/*
 * pd_db_read_video: the stored video `id` as pd_db_read_videos writes it,
 * into out (reset first; no '\n').  Returns 1 found, 0 no such video, -1
 * with err (PD_ESERVICE).  Uses a prepared statement on the connection
 * (prepared on first use, again after a DISCARD ALL).
 */
int pd_db_read_video(PGconn *c, const char *id, pd_buf *out, pd_err *err);

#endif
