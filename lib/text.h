/*
 * text.h — the words of a title: case folding, tokenisation, stop words, n-grams.
 *
 * Every module that speaks of "the title contains the n-gram X" (pd-mine
 * mining it, pd-match checking it, pd-synth planting it) must cut titles into
 * words the same way, so this is the one place that does it:
 *
 *   1. case folding: UTF-8 aware lowercasing by table — ASCII, Latin-1,
 *      Latin Extended-A/B, Greek and Cyrillic; other scripts are unchanged
 *      (utf8proc is not available; the table covers the scripts of the data);
 *   2. punctuation stripped: ASCII punctuation and symbols, the Unicode
 *      general punctuation block, arrows/symbols/emoji and CJK punctuation
 *      become word breaks, except apostrophes (' and U+2019), which are
 *      deleted ("don't" -> "dont");
 *   3. words split on whitespace (and on the breaks of step 2).
 *
 * An n-gram's text is its words joined by single spaces ("how to"), and its
 * 64-bit key is pd_hash64 of that text, so a predicate's value maps straight
 * to a key.  Malformed UTF-8 bytes are kept as they are (never crash).
 */
#ifndef PD_TEXT_H
#define PD_TEXT_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"

/* pd_text_fold: s[0..n) lowercased (as above) appended to out. */
void pd_text_fold(const char *s, size_t n, pd_buf *out);

/*
 * pd_words: the words of one text, folded and stripped.  The words live in
 * `text`, each NUL-terminated, at off[i] with length len[i]; nonlatin[i] is
 * 1 when word i has a code point at or beyond U+0370 (Greek, Cyrillic, CJK,
 * ...: the text model adds character n-grams for those, embedtok.h).
 * Reusable: pd_words_split resets it; pd_words_release frees it.  This is
 * the one tokeniser of pd: text features (pd-mine, pd-match, pd-synth), the
 * text model of pd-embed and pd-cluster's labels all cut text here.
 */
typedef struct pd_words {
	pd_buf text;
	size_t *off;
	size_t *len;
	unsigned char *nonlatin;
	int n, cap;
} pd_words;

#define PD_WORDS_INIT { PD_BUF_INIT, NULL, NULL, NULL, 0, 0 }

/* pd_words_split: w := the words of s[0..n).  Returns the number of words. */
int pd_words_split(pd_words *w, const char *s, size_t n);
void pd_words_release(pd_words *w);
static inline const char *pd_words_at(const pd_words *w, int i)
{
	return w->text.p + w->off[i];
}

/*
 * Stop words: one list (text.c) with two uses.  pd_text_stopword_use: the uses
 * (PD_STOP_* bits) for which the (folded) word w[0..n) is a stop word, 0 for
 * none.  pd_text_is_stopword: 1 if it is one for n-grams (English, and the
 * commonest function words of other languages of trending titles).
 */
enum { PD_STOP_NGRAM = 1, PD_STOP_LABEL = 2 };
int pd_text_stopword_use(const char *w, size_t n);
int pd_text_is_stopword(const char *w, size_t n);

/* pd_text_ngram_key: the key of an n-gram given as its text ("how to"). */
uint64_t pd_text_ngram_key(const char *text, size_t n);

/*
 * pd_text_normalize: any phrase brought to canonical n-gram text (folded,
 * stripped, words joined by one space) into out (reset first).  Returns the
 * number of words.  pd_feature_from_json uses it on ngram values, so
 * {"kind":"ngram","value":"How-To"} means "how to".
 */
int pd_text_normalize(const char *s, size_t n, pd_buf *out);

/*
 * pd_text_ngrams: the distinct n-grams of 1..maxn words of w (counted once
 * per text), leaving out those made only of stop words.  For each, calls
 * cb(key, text, len, ud) with the n-gram's text (valid only during the call).
 * Returns the number of n-grams given.
 */
int pd_text_ngrams(const pd_words *w, int maxn,
		   void (*cb)(uint64_t key, const char *text, size_t len, void *ud), void *ud);

/* pd_text_has_ngram: 1 if the words of w contain the n-gram text (canonical form). */
int pd_text_has_ngram(const pd_words *w, const char *text, size_t n);

/* pd_text_has_caps_word: 1 if s holds a word of 2+ letters, all upper case (by the fold table). */
int pd_text_has_caps_word(const char *s, size_t n);
/* pd_text_has_emoji: 1 if s holds a pictographic code point (U+1F000-1FAFF, U+2600-27BF, U+2B00-2BFF). */
int pd_text_has_emoji(const char *s, size_t n);
/* pd_text_chars: the number of code points of s[0..n) (an invalid byte counts as one). */
size_t pd_text_chars(const char *s, size_t n);

#endif
