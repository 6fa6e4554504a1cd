/*
 * pd.h — libpd, the library behind the pd commands.
 *
 * One module per concern; each header says what it owns and who frees what.
 *   alloc   allocation that aborts on exhaustion
 *   err     how failures are reported (the library never prints or exits)
 *   buf     growable byte buffer
 *   input   capped, positioned lines from operands or stdin (gzip too)
 *   json    structural scanning of JSON text (spans, types) without a tree
 *   vec     the embedding codec: JSON number arrays and base64 float32
 *   record  one stream record: type, cJSON fields, decoded embedding
 *   timeutil RFC 3339 times and ISO 8601 durations
 *   rng     the seeded random number generator
 *   version the toolkit's version string
 * Further modules have their own headers, included where needed:
 *   strmap   strings to dense indices        csvin    CSV exports to video records
 *   video    typed view of a video record    perf     channel baselines, age curve
 *   http     libcurl with retries            youtube  the YouTube Data API source
 *   synth    planted synthetic video sets    embedtok, tfidf, svd  the local text model
 *   embed_openai  OpenAI-compatible embeddings
 *   kmeans, cluster  spherical k-means and the macro/meso/micro hierarchy
 *   text, features  tokens and the feature predicates (one implementation)
 *   stats    exact and rank tests, intervals  mine    mining inside clusters
 *   pattern  the pattern record: its struct, one reader, one writer; its check and wording
 *   fdr, validate, llm  the validation of patterns
 *   abtest   title experiments: the plan and the always-valid sequential test
 *   db, schema, cache, pinecone  PostgreSQL, its migrations, Redis, Pinecone
 *   store    pd-store's run protocol: staging, upserts, membership, the active set
 *   match    patterns against videos and drafts
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
