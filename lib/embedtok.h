/*
 * embedtok.h — the terms pd-embed's local model and pd-cluster's labels are
 * made of.
 *
 * Words follow the rules of lib/text.h (the title tokeniser of pd-mine):
 * case folding by table (ASCII, Latin-1, Latin Extended-A, Greek,
 * Cyrillic), ASCII punctuation, general punctuation, symbols, emoji and CJK
 * punctuation are breaks, apostrophes are deleted.  This module keeps its own
 * small implementation so that the model's terms never change under it (a
 * saved model must embed a video exactly as at training time, so the
 * tokeniser is part of the model's format: MODEL_TOKENIZER below).
 *
 * On top of words, for the text model: character 2- and 3-grams of code
 * points for words in scripts beyond Latin (so that Chinese, Japanese, Thai
 * or Arabic titles, often written without spaces, still share terms).
 */
#ifndef PD_EMBEDTOK_H
#define PD_EMBEDTOK_H
#include <stddef.h>
#include "buf.h"

#define PD_ETOK_VERSION 1	/* bump when the output of this module changes */

typedef struct pd_etok {
	pd_buf text;		/* the words, each NUL-terminated */
	size_t *off, *len;
	unsigned char *nonlatin;	/* word has a code point >= U+0370 */
	int n, cap;
} pd_etok;

#define PD_ETOK_INIT { PD_BUF_INIT, NULL, NULL, NULL, 0, 0 }

/* pd_etok_split: t := the words of s[0..n) (reset first); returns their number. */
int pd_etok_split(pd_etok *t, const char *s, size_t n);
static inline const char *pd_etok_at(const pd_etok *t, int i)
{
	return t->text.p + t->off[i];
}
void pd_etok_release(pd_etok *t);

/*
 * pd_etok_chargrams: the code-point n-grams (n = 2 and 3) of word w[0..len),
 * padded with a space at each end, each given to cb as bytes.
 */
void pd_etok_chargrams(const char *w, size_t len,
		       void (*cb)(const char *g, size_t glen, void *ud), void *ud);

#endif
