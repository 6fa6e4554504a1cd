/*
 * pd.h — libpd, the library behind the pd commands.
 *
 * One module per concern; each header says what it owns and who frees what.
 * This header includes the common ones; the others are included where needed.
 * By layer (a module includes only its own layer or lower ones):
 *
 * base     alloc (aborts on exhaustion), err (the library never prints or
 *          exits), buf (byte buffer, the number writer), strmap (strings to
 *          indices), sort (qsort with a context), rng, version, timeutil
 *          (RFC 3339, ISO 8601 durations), banned, blas (the one door to BLAS
 *          and LAPACK), stats (exact and rank tests, intervals, the median,
 *          Tweedie's formula: pure functions)
 * stream   input (capped, positioned lines; gzip), json (scanning without a
 *          tree), vec (embedding codec), record (one stream record), video
 *          (the video record: its struct, reader and one writer), csvin (CSV
 *          exports to video records), perf (channel baselines, the age curve),
 *          vidset (the videos of one fetch: in order, duplicates refused,
 *          perf, the derived fields written)
 * model    text (tokens, stop words), embedtok, tfidf, svd (the local text
 *          model), kmeans, cluster (the macro/meso/micro hierarchy:
 *          placement, summaries, records), clusterio (pd-cluster's stream:
 *          each line examined, the two readings of training), embedio
 *          (pd-embed's training stream: each line examined, the spill, the
 *          write pass in fixed parts)
 * mining   features (the feature predicates, one implementation), mine
 *          (mining inside clusters), fdr, validate (the validation of
 *          patterns), valfeed (pd-validate's stream into a validator),
 *          pattern (the pattern record: its one reader and writer,
 *          its check, its effect and wording), abtest (title experiments:
 *          plan and sequential test), match (patterns against videos and
 *          drafts), synth (planted synthetic video sets)
 * storage  db (PostgreSQL connections and readers), db_patterns (the active
 *          run's patterns and clusters), schema (migrations), store (pd-store's
 *          run protocol), cache (Redis, the one door)
 * network  http (libcurl with retries), youtube (the YouTube Data API),
 *          embed_openai (OpenAI-compatible embeddings), llm (OpenAI-compatible
 *          chat), pinecone (upsert and fetch)
 * service  what joins the layers for one command: matchsvc (pd-match's
 *          session: batching, caches, reloads, lookups), track (predictions
 *          and their outcomes), report (the HTML report), review (the
 *          language model's review of validated patterns)
 */
#ifndef PD_H
#define PD_H

#include "alloc.h"
#include "err.h"
#include "buf.h"
#include "input.h"
#include "json.h"
#include "vec.h"
#include "record.h"
#include "timeutil.h"
#include "rng.h"
#include "version.h"
#include "banned.h"

#endif
