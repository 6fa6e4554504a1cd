/*
 * tfidf.h — pd-embed's local text model: TF-IDF over a video's terms,
 * projected on the leading right singular vectors of the corpus (LSA).
 *
 * Terms of a video (embedtok.h words):
 *   title words (weight 1) and title word pairs "a b" (1);
 *   character 2/3-grams "#xy" of title words in non-Latin scripts (0.5);
 *   each whole tag "t:tag words" (1) and each tag word (0.5);
 *   words of the first 2000 bytes of the description (0.25).
 * A term's value in a video is log(1 + summed weight) x idf, idf =
 * ln((1 + N) / (1 + df)) + 1; the row is L2-normalised; the embedding is
 * row x P (P: terms x dims, the right singular vectors), L2-normalised.
 *
 * The vocabulary is chosen deterministically: terms in at least min_df
 * videos and at most max_df_share of them, the max_terms most frequent (ties
 * by bytes), then sorted by bytes.  Training and pd_tmodel_embed go through
 * the same code from the term weights on, so a saved model embeds a training
 * video to exactly the vector it got at training time.
 *
 * Model file (little-endian):
 *   "PDTM" magic, u32 format version (1), u32 tokenizer version,
 *   u32 dims, u32 rank, u32 nterms, u64 training docs,
 *   nterms x (u32 length, bytes), nterms x f32 idf,
 *   nterms x dims f32 projection (row-major),
 *   u64 pd_hash64 of every byte before it.
 * Loading checks the magic, both versions, the sizes and the checksum; a
 * model of another tokenizer version (embedtok.h) is refused: retrain it.
 */
#ifndef PD_TFIDF_H
#define PD_TFIDF_H
#include <stddef.h>
#include <stdint.h>
#include "err.h"

typedef struct pd_tmodel_params {
	int dims;		/* output dimension (256) */
	int max_terms;		/* vocabulary size at most (50000) */
	int min_df;		/* 2 (1 when the corpus has fewer than 20 videos) */
	double max_df_share;	/* 0.5 */
	int oversample;		/* randomised SVD: 10 */
	int power_iters;	/* 3 */
	uint64_t seed;
	int threads;		/* 0: the online processors; the model does not depend on it */
} pd_tmodel_params;

void pd_tmodel_params_default(pd_tmodel_params *p);

typedef struct pd_tmodel pd_tmodel;

/* One video's text, borrowed. */
typedef struct pd_tdoc_text {
	const char *title, *description;
	const char *const *tags;
	int ntags;
} pd_tdoc_text;

/* Training: add every video, then train. */
typedef struct pd_ttrainer pd_ttrainer;
pd_ttrainer *pd_ttrainer_new(void);
void pd_ttrainer_add(pd_ttrainer *tr, const pd_tdoc_text *doc);
size_t pd_ttrainer_docs(const pd_ttrainer *tr);
/*
 * The two halves of pd_ttrainer_add, for a reader that cuts videos into
 * terms on several threads: pd_tterms_extract takes one video's terms (with
 * their hashes) into t, on any thread (one pd_tterms per thread or per video);
 * pd_ttrainer_add_terms adds them to the trainer as the next video, in input
 * order.  pd_ttrainer_add(tr, doc) is extract then add: the same model.
 */
typedef struct pd_tterms pd_tterms;
pd_tterms *pd_tterms_new(void);
void pd_tterms_extract(pd_tterms *t, const pd_tdoc_text *doc);
void pd_ttrainer_add_terms(pd_ttrainer *tr, const pd_tterms *t);
void pd_tterms_free(pd_tterms *t);
/*
 * pd_ttrainer_train: the model of the added videos into *out (caller frees
 * with pd_tmodel_free) and, when emb is not NULL, every added video's
 * embedding in order into *emb (docs x dims, xmalloc'ed, caller frees).
 * Once per trainer (it keeps only the TF-IDF rows after).  Returns 0, or -1
 * with err (no videos; LAPACK failure).
 */
int pd_ttrainer_train(pd_ttrainer *tr, const pd_tmodel_params *p, pd_tmodel **out,
		      float **emb, pd_err *err);
/*
 * pd_ttrainer_embed: after a successful train, the embeddings of added
 * videos first..first+count-1 (count x dims into out), as *emb would hold
 * them, on up to `threads` threads (0: the processors).
 */
void pd_ttrainer_embed(const pd_ttrainer *tr, const pd_tmodel *m, size_t first, size_t count,
		       int threads, float *out);
void pd_ttrainer_free(pd_ttrainer *tr);

/*
 * pd_tmodel_embed: one video's embedding (dims floats into out).  Returns
 * the number of the video's terms found in the vocabulary (0: a zero vector).
 * Not thread-safe (scratch space in the model).
 */
int pd_tmodel_embed(pd_tmodel *m, const pd_tdoc_text *doc, float *out);

int pd_tmodel_dims(const pd_tmodel *m);
int pd_tmodel_rank(const pd_tmodel *m);
int pd_tmodel_nterms(const pd_tmodel *m);

int pd_tmodel_save(const pd_tmodel *m, const char *path, pd_err *err);
/* pd_tmodel_load: NULL with err (PD_EUSAGE) for a missing or invalid file. */
pd_tmodel *pd_tmodel_load(const char *path, pd_err *err);
void pd_tmodel_free(pd_tmodel *m);

#endif
