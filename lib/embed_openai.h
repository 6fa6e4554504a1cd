/*
 * embed_openai.h — embeddings from any OpenAI-compatible /v1/embeddings
 * endpoint (OpenAI, Azure-style proxies, vLLM, Ollama, llama.cpp server...).
 *
 * One request per batch of texts: {"model", "input": [texts],
 * "encoding_format": "base64", "dimensions": N (when asked)}; the reply's
 * data[i].embedding is read as base64 float32 or as a number array, placed
 * by data[i].index.  Batches go out through pd_http_many (lib/http.h) with
 * at most `concurrency` in flight, each with http.h's retries and backoff on
 * 429/5xx and transport failures.  The key is only a bearer header.
 */
#ifndef PD_EMBED_OPENAI_H
#define PD_EMBED_OPENAI_H
#include <stdint.h>
#include "err.h"
#include "buf.h"
#include "video.h"

typedef struct pd_oai {
	const char *url;	/* base ("http://host/v1") or the full .../embeddings URL */
	const char *model;
	const char *key;	/* may be NULL (local servers) */
	int dims;		/* requested "dimensions"; 0: not sent */
	int batch;		/* texts per request (0: 64) */
	int concurrency;	/* requests in flight at most (0: 4) */
	uint64_t seed;		/* retry jitter */
} pd_oai;

/*
 * pd_oai_video_text: the text a provider embeds for a video (and for a draft,
 * so both are embedded alike): the title, then the tags joined by ", ", then
 * at most the first 1000 bytes of the description (cut on a UTF-8 boundary),
 * each part on a line of its own.  b is reset; a NUL is added as its last
 * byte (counted in b->len) even when the text is empty.
 */
void pd_oai_video_text(const pd_video *v, pd_buf *b);

/*
 * pd_oai_embed: the embeddings of texts[0..n) into out (n x *dim floats,
 * xmalloc'ed, the caller frees).  *dim is set from the replies (every
 * embedding must have it, and it must equal o->dims when that is set).
 * Returns 0, or -1 with err: PD_ESERVICE for an HTTP failure or a final
 * non-2xx status (the server's error message quoted), PD_EREC for a reply
 * that breaks the protocol (missing or duplicate index, bad embedding).
 */
int pd_oai_embed(const pd_oai *o, const char *const *texts, int n, float **out, int *dim,
		 pd_err *err);

#endif
