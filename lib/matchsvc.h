/*
 * matchsvc.h — a match session: pd-match's service behind its options and
 * its I/O.
 *
 * lib/match.h matches a batch of unit embeddings against a loaded pattern
 * set.  A session is everything around that which a long-running matcher
 * needs: where the pattern set and the hierarchy come from (files, or the
 * database's active run), reloading them when a new run is stored, the
 * inputs gathered in batches, videos given by id looked up (the Redis
 * cache, then PostgreSQL, then Pinecone), drafts embedded (a saved pd-embed
 * model, or the provider of PD_EMBED_URL, a batch at a time), the caches and
 * their keys, and the answers written.  Everything lives in the session
 * object: no file-scope state, so two sessions (two tests, two threads) do
 * not meet.
 *
 * Caches (Redis, keys carry the generation `pd:gen` that pd-store bumps
 * after each run, and a hash of DATABASE_URL): a stored video record fetched
 * by id, "pd:emb:<gen>:<db>:<id>" (24 h); its place in the hierarchy,
 * "pd:place:<gen>:<db>:r<run>:<id>" (6 h; "h<hash>" for a hierarchy from a
 * file); the whole answer to an id-only input,
 * "pd:match:<gen>:<db>:<options and pattern set>:<id>" (1 h); a provider's
 * embedding of a text, "pd:oemb:<url and model>:<text>" (24 h).  An id's
 * gets are one round trip, a batch's sets another.
 *
 * Staying current.  Before it starts a batch, a session whose patterns come
 * from the database looks, at most once a second, at the generation in
 * Redis: a new one reloads the patterns and the hierarchy (read in one
 * snapshot, with the active run's id).  When Redis cannot say — not
 * configured, down, or just back after an outage, during which pd-store
 * could not bump the generation — it asks PostgreSQL for the active run's
 * id instead, at most every 2 s (and every 30 s while Redis is up, in case
 * a run was stored without it), and reloads when the run changed.  A Redis
 * that goes away is reconnected with backoff (pd_cache_reconnect: 0.25 s
 * doubling to 5 s, each attempt bounded), so its loss costs no wait per
 * answer.  Each loss and each return is said once (io.warn).
 *
 * Errors.  A bad input is rejected through io.reject (with its file, line
 * and bytes, in input order) and the session goes on; a service failure
 * that the caller must end on (the database unreachable for an id, the
 * embeddings provider failing after its retries, a bad pattern file) is a
 * -1 return with err.  Warnings (no hierarchy, no patterns, Redis lost or
 * back, a reload that failed) go to io.warn, each once.
 */
#ifndef PD_MATCHSVC_H
#define PD_MATCHSVC_H
#include <stddef.h>
#include "buf.h"
#include "err.h"
#include "features.h"
#include "record.h"
#include "json.h"
#include "video.h"

typedef struct pd_msvc pd_msvc;

typedef struct pd_msvc_opts {
	const char *patterns_path;	/* NULL: the database's active set */
	const char *clusters_path;	/* NULL: the pattern file's clusters, or the active run's */
	const char *model_path;		/* a saved pd-embed model for drafts; NULL: the
					   provider of PD_EMBED_URL when set */
	int group, recommend;		/* pd_match_write's options */
	int tz_offset;			/* minutes east of UTC, for weekday and hour features */
	int batch;			/* inputs matched together (>= 1) */
	int use_cache;			/* 0: no Redis even when REDIS_URL is set */
	size_t max_line;		/* longest line of a pattern or cluster file */
} pd_msvc_opts;

/* Where the session's answers and messages go (the caller's I/O). */
typedef struct pd_msvc_io {
	void *ud;
	pd_buf *out;			/* answers are appended here */
	/* after each video's answer: out from offset `from` on holds it */
	void (*answered)(void *ud, size_t from);
	/* a rejected input: where it was, its bytes, why (one line) */
	void (*reject)(void *ud, const char *file, long lineno, const char *line, size_t len,
		       const char *msg);
	/* something worth saying once (one line, no program name) */
	void (*warn)(void *ud, const char *msg);
} pd_msvc_io;

/*
 * pd_msvc_new: a session; the model loaded, the provider of PD_EMBED_URL
 * taken when there is no model, the cache opened (REDIS_URL; when it cannot
 * be reached, io.warn says so once and the session goes on without it until
 * it is back).  The patterns are loaded at the first video or draft.
 * Returns NULL with err (PD_EUSAGE: the model cannot be read).  o's strings
 * and io's buffer must outlive the session.
 */
pd_msvc *pd_msvc_new(const pd_msvc_opts *o, const pd_msvc_io *io, pd_err *err);
void pd_msvc_free(pd_msvc *ms);

/*
 * pd_msvc_take: one `video` (is_draft 0) or `draft` record line into the
 * batch; it is answered by the pd_msvc_flush that follows (the caller
 * flushes when pd_msvc_full says so, and before anything else it writes).
 * Loads the patterns first when not yet loaded; before the first input of
 * a batch, looks for a new run (above).  Returns 1 taken, 0 rejected
 * (io.reject told), -1 with err: patterns that cannot be loaded (PD_EUSAGE
 * for a pattern or cluster file, else the database's code), the database
 * failing on a lookup, Pinecone failing.
 */
int pd_msvc_take(pd_msvc *ms, const char *file, long lineno, const char *line, size_t len,
		 int is_draft, pd_err *err);
/*
 * pd_msvc_take_plain: the common line, a plain `video` record with its
 * embedding (what pd_record_scan reads without a cJSON tree), taken as
 * pd_msvc_take takes it, without the caller having to find its type first
 * (pd_json_type reads the whole line: a pass this saves).  Returns 1 when
 * it was one (taken, or rejected for its dimension), 0 when it is not (the
 * caller goes on as usual: nothing was done), -1 with err as pd_msvc_take.
 */
int pd_msvc_take_plain(pd_msvc *ms, const char *file, long lineno, const char *line, size_t len,
		       pd_err *err);
/* pd_msvc_full: the batch holds o.batch inputs; pd_msvc_batched: how many. */
int pd_msvc_full(const pd_msvc *ms);
int pd_msvc_batched(const pd_msvc *ms);
/*
 * pd_msvc_flush: the batch's drafts embedded by the provider (one call),
 * matched, the answers appended to io.out in input order (io.answered after
 * each), the cache entries set in one round trip.  Returns 0, or -1 with
 * err (the provider failed after its retries: PD_ESERVICE).
 */
int pd_msvc_flush(pd_msvc *ms, pd_err *err);

/*
 * Reading ahead.  A line prepared on another thread (pd_msvc_prepare: a
 * plain video record with an embedding parsed, its unit row made) joins the batch as pd_msvc_take would have put it.
 * pd_msvc_prepare reads nothing of ms but its options, so it may run on
 * any thread while the session works; the rest are for the session's
 * thread.
 */
typedef struct pd_msvc_prep {
	int ok;			/* prepared: a video with an embedding and an id */
	pd_record r;
	pd_jobj o;
	pd_video v;
	int have_video;
	unsigned keep;		/* v's members kept (pd_video_from_jobj_keep) */
} pd_msvc_prep;

void pd_msvc_prep_init(pd_msvc_prep *a);
void pd_msvc_prep_release(pd_msvc_prep *a);
/* pd_msvc_need: what the loaded patterns ask of a video (PD_NEED_*); 0 and
 * *loaded 0 before they are loaded. */
unsigned pd_msvc_need(const pd_msvc *ms, int *loaded);
/*
 * pd_msvc_prepare: line (NULL: not a usable line) prepared into a, the
 * video's members that features of `need` read kept (all unless have_need).
 * a->ok says whether it could be.  The features themselves are extracted
 * at flush, for the patterns the video hits only.
 */
void pd_msvc_prepare(const pd_msvc *ms, pd_msvc_prep *a, const char *line, size_t len,
		     unsigned need, int have_need);
/*
 * pd_msvc_take_prepared: a prepared line (a->ok) into the batch.  Returns 1 taken (a's contents moved
 * out), 0 not (its dimension is not the patterns', or the patterns loaded
 * since it was prepared read more of a video: the caller takes the line with
 * pd_msvc_take, which rejects or reads it again), -1 with err as pd_msvc_take.
 */
int pd_msvc_take_prepared(pd_msvc *ms, pd_msvc_prep *a, pd_err *err);

/* What the session did, for the closing metric record. */
typedef struct pd_msvc_stats {
	int cache;			/* a cache is configured */
	unsigned long long cache_hits, cache_misses;
	unsigned long long answered;	/* videos and drafts answered */
	int provider;			/* drafts go to the embeddings provider */
	unsigned long long provider_embedded;
	int loaded;			/* the patterns were loaded (the rest below then holds) */
	int patterns, dims, hier, clusters;
	long skipped;			/* rejected patterns not loaded */
	unsigned long long unplaced, place_hits, reloads;
	double kernel_s;		/* CPU seconds in the similarity product and scans */
} pd_msvc_stats;

void pd_msvc_get_stats(const pd_msvc *ms, pd_msvc_stats *st);

#endif
