/*
 * text.c — case folding, word splitting, stop words and n-grams; see text.h.
 *
 * The folding table is written as ranges with a rule each (add an offset, or
 * "uppercase at even/odd code points, lowercase is the next one"), the way
 * the Unicode case tables are laid out in these blocks; that covers Latin,
 * Greek and Cyrillic in a few dozen lines without a data file.  Code points
 * outside the ranges are unchanged.  Decoding is forgiving: an invalid byte
 * is taken as a one-byte "letter" so nothing is lost or crashes.
 */
#include "text.h"
#include "alloc.h"
#include "json.h"
#include "rng.h"
#include <stdlib.h>
#include <string.h>

/* decode one code point at s[i..n); *len its byte length; invalid -> the byte | 0x80000000 */
static unsigned decode(const unsigned char *s, size_t n, size_t i, size_t *len)
{
	long cp = pd_utf8_decode((const char *)s + i, n - i, len);
	return cp < 0 ? 0x80000000u | s[i] : (unsigned)cp;
}

static void encode(pd_buf *b, unsigned cp)
{
	if (cp & 0x80000000u)
		pd_buf_addc(b, (char)(cp & 0xFF));	/* a malformed byte, kept */
	else
		pd_buf_add_utf8(b, cp);
}

/* rule: 'o' add offset; 'e' even code points are upper (+1); 'd' odd ones are */
static const struct { unsigned lo, hi; char rule; int off; } fold_tab[] = {
	{ 0x41, 0x5A, 'o', 32 },
	{ 0xC0, 0xD6, 'o', 32 }, { 0xD8, 0xDE, 'o', 32 },
	{ 0x100, 0x12F, 'e', 1 }, { 0x132, 0x137, 'e', 1 }, { 0x139, 0x148, 'd', 1 },
	{ 0x14A, 0x177, 'e', 1 }, { 0x179, 0x17E, 'd', 1 },
	{ 0x1CD, 0x1DC, 'd', 1 }, { 0x1DE, 0x1EF, 'e', 1 }, { 0x1F8, 0x21F, 'e', 1 },
	{ 0x222, 0x233, 'e', 1 },
	{ 0x388, 0x38A, 'o', 37 }, { 0x38E, 0x38F, 'o', 63 },
	{ 0x391, 0x3A1, 'o', 32 }, { 0x3A3, 0x3AB, 'o', 32 }, { 0x3D8, 0x3EF, 'e', 1 },
	{ 0x400, 0x40F, 'o', 80 }, { 0x410, 0x42F, 'o', 32 },
	{ 0x460, 0x481, 'e', 1 }, { 0x48A, 0x4BF, 'e', 1 }, { 0x4C1, 0x4CE, 'd', 1 },
	{ 0x4D0, 0x52F, 'e', 1 },
	{ 0x1E00, 0x1E95, 'e', 1 }, { 0x1EA0, 0x1EFF, 'e', 1 },
	{ 0xFF21, 0xFF3A, 'o', 32 },
};

static unsigned fold_cp(unsigned c)
{
	if (c < 0x41 || (c & 0x80000000u))
		return c;
	if (c == 0x130)
		return 'i';
	if (c == 0x178)
		return 0xFF;
	if (c == 0x386)
		return 0x3AC;
	if (c == 0x38C)
		return 0x3CC;
	for (size_t i = 0; i < sizeof fold_tab / sizeof *fold_tab; i++) {
		if (c < fold_tab[i].lo)
			return c;
		if (c > fold_tab[i].hi)
			continue;
		switch (fold_tab[i].rule) {
		case 'o':
			return c + (unsigned)fold_tab[i].off;
		case 'e':
			return (c & 1) == 0 ? c + 1 : c;
		default:
			return (c & 1) == 1 ? c + 1 : c;
		}
	}
	return c;
}

void pd_text_fold(const char *s, size_t n, pd_buf *out)
{
	pd_buf_grow(out, n);
	for (size_t i = 0, l; i < n; i += l)
		encode(out, fold_cp(decode((const unsigned char *)s, n, i, &l)));
}

/* 0 letter/digit, 1 break, 2 deleted (apostrophes, joiners, variation selectors) */
static int cp_class(unsigned c)
{
	if (c & 0x80000000u)
		return 0;
	if (c < 0x80) {
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			return 0;
		return c == '\'' ? 2 : 1;
	}
	if (c >= 0xA0 && c <= 0xBF)
		return c == 0xAA || c == 0xB5 || c == 0xBA || c == 0xB2 || c == 0xB3 || c == 0xB9 ? 0 : 1;
	if (c == 0xD7 || c == 0xF7)
		return 1;
	if (c == 0x2018 || c == 0x2019 || c == 0x200D || c == 0x200C || (c >= 0xFE00 && c <= 0xFE0F) ||
	    c == 0x2BC)
		return 2;
	if (c >= 0x2000 && c <= 0x2BFF)
		return 1;
	if (c >= 0x3000 && c <= 0x303F)
		return 1;
	if (c >= 0xFF01 && c <= 0xFF0F)
		return 1;
	if ((c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65))
		return 1;
	if (c >= 0x1F000 && c <= 0x1FAFF)
		return 1;
	if (c >= 0xE0000 && c <= 0xE007F)
		return 2;
	if (c == 0xFEFF)
		return 1;
	return 0;
}

/* end_word: the word begun at `start` of w->text ends here */
static void end_word(pd_words *w, size_t start, int nonlatin)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 16;
		w->off = xreallocarray(w->off, (size_t)w->cap, sizeof *w->off);
		w->len = xreallocarray(w->len, (size_t)w->cap, sizeof *w->len);
		w->nonlatin = xreallocarray(w->nonlatin, (size_t)w->cap, sizeof *w->nonlatin);
	}
	w->off[w->n] = start;
	w->len[w->n] = w->text.len - start;
	w->nonlatin[w->n] = (unsigned char)nonlatin;
	w->n++;
	pd_buf_addc(&w->text, '\0');
}

/* a separator: the word in progress, if any, ends */
static inline void word_break(pd_words *w, int *inword, size_t start, int nonlatin)
{
	if (*inword)
		end_word(w, start, nonlatin);
	*inword = 0;
}

/* a word character: a word starts here unless one is in progress */
static inline void word_begin(const pd_words *w, int *inword, size_t *start, int *nonlatin)
{
	if (*inword)
		return;
	*start = w->text.len;
	*inword = 1;
	*nonlatin = 0;
}

int pd_words_split(pd_words *w, const char *s, size_t n)
{
	pd_buf_reset(&w->text);
	w->n = 0;
	int inword = 0, nonlatin = 0, prev_bad = 0;
	size_t start = 0;
	pd_buf_grow(&w->text, n + 1);
	for (size_t i = 0, l; i <= n; i += l) {
		unsigned c = 0;
		int cls = 1;
		l = 1;
		if (i < n) {
			unsigned char b = (unsigned char)s[i];
			if (b < 0x80 && b != '\'') {
				/* ASCII but the apostrophe, the bulk of titles: the
				   same classes and folding as below, without decoding */
				prev_bad = 0;
				if (!((b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z'))) {
					word_break(w, &inword, start, nonlatin);
					continue;
				}
				word_begin(w, &inword, &start, &nonlatin);
				/* room: reserved above, or grown (end_word ends with a NUL) */
				if (w->text.len + 1 >= w->text.cap)
					pd_buf_grow(&w->text, 1);
				w->text.p[w->text.len++] = (char)(b >= 'A' && b <= 'Z' ? b + 32 : b);
				continue;
			}
			c = decode((const unsigned char *)s, n, i, &l);
			cls = cp_class(c);
		}
		if (cls == 2) {
			/* an apostrophe inside a word is dropped ("it's" -> "its"), but
			   not beside a malformed byte: dropping it there could join the
			   bytes on its two sides into a valid character the text never had */
			size_t l2;
			int next_bad = i + l < n && (decode((const unsigned char *)s, n, i + l, &l2) & 0x80000000u);
			if (!prev_bad && !next_bad)
				continue;
			cls = 1;
		}
		prev_bad = i < n && (c & 0x80000000u);
		if (cls == 1) {
			word_break(w, &inword, start, nonlatin);
			continue;
		}
		word_begin(w, &inword, &start, &nonlatin);
		if (c >= 0x370 && !(c & 0x80000000u))
			nonlatin = 1;
		encode(&w->text, fold_cp(c));
	}
	return w->n;
}

void pd_words_release(pd_words *w)
{
	pd_buf_release(&w->text);
	free(w->off);
	free(w->len);
	free(w->nonlatin);
	w->off = w->len = NULL;
	w->nonlatin = NULL;
	w->n = w->cap = 0;
}

/*
 * The one stop-word list of pd, with two uses marked per word:
 *
 *   NG n-grams (pd_text_is_stopword): English (NLTK's list without "how", so
 *      that "how to", the contract's own example n-gram, is a candidate) and
 *      the commonest function words of the other languages of trending
 *      titles (Spanish, French, Portuguese, Hindi and Indonesian in Latin
 *      script, Tagalog): an n-gram made only of these says nothing an
 *      analyst can use ("de", "en").
 *   LB cluster labels (pd-cluster's "label", lib/cluster.c): a shorter set of
 *      the commonest function words, since a label is read by a person and
 *      rarer words ("about", "ki") still tell niches apart; plus words that
 *      fill titles without naming a topic, which an n-gram may keep ("how",
 *      "vs", "ft", "feat", "official", "video") and German articles.
 *
 * The two uses were written apart and have been published as they are, so
 * the marks keep each use's words exactly (outputs unchanged).  Sorted by
 * bytes for bsearch.
 */
enum { NG = PD_STOP_NGRAM, LB = PD_STOP_LABEL };
static const struct stopword {
	const char *w;
	unsigned char use;
} stopwords[] = {
	{ "a", NG|LB }, { "about", NG }, { "above", NG }, { "after", NG }, { "again", NG },
	{ "against", NG }, { "all", NG }, { "am", NG }, { "an", NG|LB }, { "and", NG|LB },
	{ "any", NG }, { "are", NG|LB }, { "as", NG|LB }, { "at", NG|LB }, { "au", NG },
	{ "be", NG|LB }, { "because", NG }, { "been", NG }, { "before", NG }, { "being", NG },
	{ "below", NG }, { "between", NG }, { "both", NG }, { "but", NG }, { "by", NG|LB },
	{ "can", NG }, { "con", NG }, { "could", NG }, { "da", NG }, { "dan", NG },
	{ "de", NG|LB }, { "del", NG }, { "der", LB }, { "des", NG|LB }, { "di", NG },
	{ "did", NG }, { "die", LB }, { "do", NG }, { "does", NG }, { "doing", NG },
	{ "down", NG }, { "du", NG|LB }, { "during", NG }, { "e", NG }, { "each", NG },
	{ "el", NG|LB }, { "en", NG|LB }, { "et", NG|LB }, { "feat", LB }, { "few", NG },
	{ "for", NG|LB }, { "from", NG|LB }, { "ft", LB }, { "further", NG }, { "had", NG },
	{ "hai", NG }, { "has", NG }, { "have", NG }, { "having", NG }, { "he", NG },
	{ "her", NG }, { "here", NG }, { "hers", NG }, { "herself", NG }, { "him", NG },
	{ "himself", NG }, { "his", NG }, { "how", LB }, { "i", NG|LB }, { "if", NG },
	{ "im", NG }, { "in", NG|LB }, { "into", NG }, { "is", NG|LB }, { "it", NG|LB },
	{ "its", NG }, { "itself", NG }, { "just", NG }, { "ka", NG }, { "ke", NG }, { "ki", NG },
	{ "ko", NG }, { "la", NG|LB }, { "las", NG }, { "le", NG|LB }, { "les", NG|LB },
	{ "los", NG }, { "me", NG|LB }, { "mga", NG }, { "more", NG }, { "most", NG },
	{ "my", NG|LB }, { "myself", NG }, { "na", NG }, { "ng", NG }, { "ni", NG }, { "no", NG },
	{ "nor", NG }, { "not", NG }, { "now", NG }, { "o", NG }, { "of", NG|LB }, { "off", NG },
	{ "official", LB }, { "on", NG|LB }, { "once", NG }, { "only", NG }, { "or", NG|LB },
	{ "other", NG }, { "our", NG|LB }, { "ours", NG }, { "ourselves", NG }, { "out", NG },
	{ "over", NG }, { "own", NG }, { "para", NG }, { "por", NG }, { "sa", NG }, { "same", NG },
	{ "se", NG }, { "she", NG }, { "should", NG }, { "so", NG|LB }, { "some", NG },
	{ "such", NG }, { "than", NG }, { "that", NG|LB }, { "the", NG|LB }, { "their", NG },
	{ "theirs", NG }, { "them", NG }, { "themselves", NG }, { "then", NG }, { "there", NG },
	{ "these", NG }, { "they", NG }, { "this", NG|LB }, { "those", NG }, { "through", NG },
	{ "to", NG|LB }, { "too", NG }, { "un", NG|LB }, { "una", NG }, { "und", LB },
	{ "under", NG }, { "une", LB }, { "until", NG }, { "up", NG }, { "very", NG },
	{ "video", LB }, { "vs", LB }, { "was", NG|LB }, { "we", NG|LB }, { "were", NG },
	{ "what", NG|LB }, { "when", NG }, { "where", NG }, { "which", NG }, { "while", NG },
	{ "who", NG }, { "whom", NG }, { "why", NG }, { "will", NG }, { "with", NG|LB },
	{ "would", NG }, { "y", NG|LB }, { "yang", NG }, { "you", NG|LB }, { "your", NG|LB },
	{ "yours", NG }, { "yourself", NG }, { "yourselves", NG },
};

int pd_text_stopword_use(const char *w, size_t n)
{
	size_t lo = 0, hi = sizeof stopwords / sizeof *stopwords;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *s = stopwords[mid].w;
		size_t sl = strlen(s);
		int c = memcmp(w, s, n < sl ? n : sl);
		if (c == 0)
			c = (n > sl) - (n < sl);
		if (c == 0)
			return stopwords[mid].use;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

int pd_text_is_stopword(const char *w, size_t n)
{
	return (pd_text_stopword_use(w, n) & PD_STOP_NGRAM) != 0;
}

uint64_t pd_text_ngram_key(const char *text, size_t n)
{
	return pd_hash64(text, n);
}

int pd_text_normalize(const char *s, size_t n, pd_buf *out)
{
	pd_words w = PD_WORDS_INIT;
	int k = pd_words_split(&w, s, n);
	pd_buf_reset(out);
	for (int i = 0; i < k; i++) {
		if (i)
			pd_buf_addc(out, ' ');
		pd_buf_add(out, pd_words_at(&w, i), w.len[i]);
	}
	if (!out->p)
		pd_buf_grow(out, 1), out->p[0] = '\0';
	pd_words_release(&w);
	return k;
}

int pd_text_ngrams(const pd_words *w, int maxn,
		   void (*cb)(uint64_t key, const char *text, size_t len, void *ud), void *ud)
{
	uint64_t seen_small[128], *seen = seen_small;
	size_t nseen = 0, cap = 128;
	char tmp_small[512];
	pd_buf big = PD_BUF_INIT;
	int given = 0;
	for (int i = 0; i < w->n; i++) {
		for (int k = 1; k <= maxn && i + k <= w->n; k++) {
			int allstop = 1;
			size_t len = 0;
			for (int j = i; j < i + k; j++) {
				len += w->len[j] + (j > i);
				if (allstop && !pd_text_is_stopword(pd_words_at(w, j), w->len[j]))
					allstop = 0;
			}
			if (allstop)
				continue;
			char *t = tmp_small;
			if (len + 1 > sizeof tmp_small) {
				pd_buf_reset(&big);
				pd_buf_grow(&big, len + 1);
				t = big.p;
			}
			size_t p = 0;
			for (int j = i; j < i + k; j++) {
				if (j > i)
					t[p++] = ' ';
				memcpy(t + p, pd_words_at(w, j), w->len[j]);
				p += w->len[j];
			}
			t[p] = '\0';
			uint64_t key = pd_hash64(t, p);
			int dup = 0;
			for (size_t q = 0; q < nseen && !dup; q++)
				dup = seen[q] == key;
			if (dup)
				continue;
			if (nseen == cap) {
				uint64_t *ns = xmalloc(2 * cap * sizeof *ns);
				memcpy(ns, seen, nseen * sizeof *ns);
				if (seen != seen_small)
					free(seen);
				seen = ns;
				cap *= 2;
			}
			seen[nseen++] = key;
			cb(key, t, p, ud);
			given++;
		}
	}
	if (seen != seen_small)
		free(seen);
	pd_buf_release(&big);
	return given;
}

int pd_text_has_ngram(const pd_words *w, const char *text, size_t n)
{
	for (int i = 0; i < w->n; i++) {
		size_t p = 0;
		int j = i;
		while (j < w->n) {
			size_t l = w->len[j];
			if (p + l > n || memcmp(text + p, pd_words_at(w, j), l) != 0)
				break;
			p += l;
			j++;
			if (p == n)
				return 1;
			if (text[p] != ' ')
				break;
			p++;
		}
	}
	return 0;
}

/* a letter for caps detection: ASCII letters and the folded ranges */
int pd_text_has_caps_word(const char *s, size_t n)
{
	int upper = 0, lower = 0;
	for (size_t i = 0, l; i <= n; i += l) {
		unsigned c = ' ';
		l = 1;
		if (i < n)
			c = decode((const unsigned char *)s, n, i, &l);
		int isup = !(c & 0x80000000u) && fold_cp(c) != c;
		int islow = !isup && !(c & 0x80000000u) &&
			    ((c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0x24F) || (c >= 0x3AC && c <= 0x3CE) ||
			     (c >= 0x430 && c <= 0x45F));
		int letter = isup || islow;
		if (letter) {
			upper += isup;
			lower += islow;
		} else if (c != '\'' && c != 0x2019) {
			if (upper >= 2 && lower == 0)
				return 1;
			upper = lower = 0;
		}
	}
	return 0;
}

int pd_text_has_emoji(const char *s, size_t n)
{
	for (size_t i = 0, l; i < n; i += l) {
		unsigned c = decode((const unsigned char *)s, n, i, &l);
		if ((c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) || (c >= 0x2B00 && c <= 0x2BFF))
			return 1;
	}
	return 0;
}

size_t pd_text_chars(const char *s, size_t n)
{
	size_t k = 0;
	for (size_t i = 0, l; i < n; i += l, k++)
		decode((const unsigned char *)s, n, i, &l);
	return k;
}
