/*
 * pinecone.h — upserting embeddings to a Pinecone index over its REST API,
 * and fetching one back (pd-match's last place to look an id's embedding up).
 *
 * Optional: configured by PINECONE_API_KEY and PINECONE_INDEX_HOST (the
 * index's data-plane host, "https://NAME-PROJECT.svc.REGION.pinecone.io";
 * a bare host gets https://; a loopback http:// URL is how the tests point it
 * at a local server), and PINECONE_NAMESPACE (default: the default
 * namespace).  Vectors are batched (100 a request, Pinecone's advice) and
 * several batches are sent concurrently through lib/http.h, which retries
 * 429 and 5xx with backoff.  The request is POST /vectors/upsert with
 * header Api-Key and body {"vectors":[{"id":...,"values":[...]}],
 * "namespace":...}; the answer's upsertedCount is checked.
 */
#ifndef PD_PINECONE_H
#define PD_PINECONE_H
#include "err.h"

typedef struct pd_pinecone pd_pinecone;

/*
 * pd_pinecone_open: *pc from the environment.  Returns 0 with *pc NULL when
 * Pinecone is not configured (neither variable set), 0 with *pc set, or -1
 * with err (PD_EUSAGE) when only one of the two variables is set.
 */
int pd_pinecone_open(pd_pinecone **pc, pd_err *err);

/* pd_pinecone_add: queue one vector (copied); sends when enough are queued.  0 or -1 with err. */
int pd_pinecone_add(pd_pinecone *pc, const char *id, const float *v, int dim, pd_err *err);
/* pd_pinecone_flush: send everything queued.  0, or -1 with err (PD_ESERVICE). */
int pd_pinecone_flush(pd_pinecone *pc, pd_err *err);
/* pd_pinecone_count: vectors Pinecone confirmed so far. */
long long pd_pinecone_count(const pd_pinecone *pc);
void pd_pinecone_free(pd_pinecone *pc);

/*
 * pd_pinecone_fetch: the vector stored under `id` in the Pinecone index
 * of the environment (PINECONE_API_KEY, PINECONE_INDEX_HOST, optional
 * PINECONE_NAMESPACE, as lib/pinecone.h reads them): GET
 * HOST/vectors/fetch?ids=ID[&namespace=NS] with header Api-Key, through
 * lib/http.h (429 and 5xx retried).  The floats go into *out (grown with
 * xrealloc; *cap floats held) and *dim.  Returns 1 found, 0 not found or
 * Pinecone not configured, -1 with err (PD_ESERVICE: no final answer, a
 * status other than 200, an answer that is not the documented shape; a
 * vector with a non-finite value is PD_EREC).
 */
int pd_pinecone_fetch(const char *id, float **out, size_t *cap, int *dim, pd_err *err);

#endif
