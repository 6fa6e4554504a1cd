/*
 * vec.h — the embedding codec: the two forms an embedding takes in the stream.
 *
 *   "embedding": [0.1, -0.2, ...]     a JSON array of numbers
 *   "embedding_b64": "zczMPc3MTL4="   base64 of little-endian float32, as
 *                                     OpenAI's encoding_format "base64"
 *
 * Every command reads both.  The parsers here are the dedicated fast paths
 * that keep embeddings out of cJSON's tree: a decimal parser that goes
 * straight to float, and a table-driven base64 decoder.  Both check what
 * DESIGN.md asks: a well-formed value, finite numbers only.
 */
#ifndef PD_VEC_H
#define PD_VEC_H
#include <stddef.h>
#include "buf.h"
#include "err.h"

/*
 * pd_vec_parse_json: the JSON array text s[0..n) (e.g. "[1,2.5e-3]") parsed
 * into *out, which is grown with xrealloc as needed (*cap floats held; pass
 * *out NULL and *cap 0 to start).  Sets *dim.  Returns 0, or -1 with err
 * (PD_EREC) for a malformed array, a non-number, or a non-finite value.
 */
int pd_vec_parse_json(const char *s, size_t n, float **out, size_t *cap, int *dim, pd_err *err);

/*
 * pd_vec_parse_b64: the JSON string text s[0..n) *including its quotes*
 * decoded as base64 little-endian float32 into *out (grown as above).
 */
int pd_vec_parse_b64(const char *s, size_t n, float **out, size_t *cap, int *dim, pd_err *err);

/* pd_vec_add_b64: v[0..dim) appended to b as base64 (no quotes). */
void pd_vec_add_b64(pd_buf *b, const float *v, int dim);
/* pd_vec_add_json: v[0..dim) appended as a JSON array, shortest round-trip floats. */
void pd_vec_add_json(pd_buf *b, const float *v, int dim);

/* base64 of arbitrary bytes, standard alphabet with padding. */
void pd_b64_encode(pd_buf *b, const void *data, size_t n);
/* pd_b64_decode: n chars of s into out (room for n/4*3 bytes); -1 if invalid. */
long pd_b64_decode(const char *s, size_t n, unsigned char *out);

/* Vector helpers used across modules. */
float pd_vec_norm(const float *v, int dim);
/* pd_vec_normalize: v scaled to unit length; returns the old norm (0 stays 0). */
float pd_vec_normalize(float *v, int dim);

/* pd_cpu_avx2: 1 when this CPU runs AVX2 code (the SIMD kernels' choice:
   base64 here, the dot products of kmeans.c) */
int pd_cpu_avx2(void);

#endif
