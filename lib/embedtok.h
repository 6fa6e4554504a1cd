/*
 * embedtok.h — the terms pd-embed's local model and pd-cluster's labels are
 * made of.
 *
 * Words are lib/text.h's words, cut by the same code (pd_words_split): one
 * tokeniser for text features and the text model.  Since the tokeniser is
 * part of the model (a saved model must embed a video exactly as at
 * training time), its version is written in the model file (PD_ETOK_VERSION
 * below); a model saved by a pd-embed whose tokeniser differed is refused
 * with a request to retrain it.  Version 1 was a separate copy of the rules
 * that did not fold Latin Extended-B, Latin Extended Additional and
 * fullwidth letters and differed on a few marks; version 2 is lib/text.c.
 *
 * On top of words, for the text model: character 2- and 3-grams of code
 * points for words in scripts beyond Latin (so that Chinese, Japanese, Thai
 * or Arabic titles, often written without spaces, still share terms).
 */
#ifndef PD_EMBEDTOK_H
#define PD_EMBEDTOK_H
#include <stddef.h>
#include "text.h"

#define PD_ETOK_VERSION 2	/* bump when the words of lib/text.c change */

typedef pd_words pd_etok;	/* nonlatin[i]: word i has a code point >= U+0370 */

#define PD_ETOK_INIT PD_WORDS_INIT

/* pd_etok_split: t := the words of s[0..n) (reset first); returns their number. */
static inline int pd_etok_split(pd_etok *t, const char *s, size_t n)
{
	return pd_words_split(t, s, n);
}
static inline const char *pd_etok_at(const pd_etok *t, int i)
{
	return pd_words_at(t, i);
}
static inline void pd_etok_release(pd_etok *t)
{
	pd_words_release(t);
}

/*
 * pd_etok_chargrams: the code-point n-grams (n = 2 and 3) of word w[0..len),
 * padded with a space at each end, each given to cb as bytes.
 */
void pd_etok_chargrams(const char *w, size_t len,
		       void (*cb)(const char *g, size_t glen, void *ud), void *ud);

#endif
