/*
 * test_text.c — unit tests of lib/text: folding across scripts, word
 * splitting and punctuation, stop words, n-grams counted once, n-gram search,
 * caps/emoji detection, and robustness on malformed UTF-8; the text model's
 * words (embedtok.h) are the features' words on tricky strings.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/text.h"
#include "../../lib/embedtok.h"

static void fold_scripts(void **state)
{
	const char *in[] = { "HELLO World", "ÀÉÎÕÜ Ç", "ŁÓDŹ ŠŽČ", "ΑΒΓ ΆΈΩ", "ПРИВЕТ Ёж",
			     "ẞ İstanbul", "日本語 ABC", "Ｆｕｌｌ" };
	const char *want[] = { "hello world", "àéîõü ç", "łódź šžč", "αβγ άέω", "привет ёж",
			       "ẞ istanbul", "日本語 abc", "ｆｕｌｌ" };
	for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
		pd_buf b = PD_BUF_INIT;
		pd_text_fold(in[i], strlen(in[i]), &b);
		assert_string_equal(b.p, want[i]);
		pd_buf_release(&b);
	}
}

static void split_words(void **state)
{
	pd_words w = PD_WORDS_INIT;
	const char *t = "How-To: Build a PC (2024) | Don't Miss it!! \xf0\x9f\x94\xa5\xf0\x9f\x94\xa5 ¿Qué?";
	int n = pd_words_split(&w, t, strlen(t));
	const char *want[] = { "how", "to", "build", "a", "pc", "2024", "dont", "miss", "it", "qué" };
	assert_int_equal(n, 10);
	for (int i = 0; i < n; i++)
		assert_string_equal(pd_words_at(&w, i), want[i]);
	/* reuse; typographic apostrophe deleted, dashes break */
	n = pd_words_split(&w, "It\xe2\x80\x99s \xe2\x80\x94 fine", strlen("It\xe2\x80\x99s \xe2\x80\x94 fine"));
	assert_int_equal(n, 2);
	assert_string_equal(pd_words_at(&w, 0), "its");
	assert_string_equal(pd_words_at(&w, 1), "fine");
	assert_int_equal(pd_words_split(&w, "", 0), 0);
	assert_int_equal(pd_words_split(&w, " ?! ", 4), 0);
	/* malformed UTF-8 is kept as bytes, never a crash */
	n = pd_words_split(&w, "ab\xff\xfe cd\xc3", 7);
	assert_int_equal(n, 2);
	assert_int_equal((int)w.len[0], 4);
	pd_words_release(&w);
}

static void stopwords(void **state)
{
	assert_true(pd_text_is_stopword("the", 3));
	assert_true(pd_text_is_stopword("what", 4));
	assert_false(pd_text_is_stopword("how", 3));	/* "how to" is an n-gram */
	assert_true(pd_text_is_stopword("yourselves", 10));
	assert_true(pd_text_is_stopword("a", 1));
	assert_false(pd_text_is_stopword("minecraft", 9));
	assert_false(pd_text_is_stopword("th", 2));
	assert_false(pd_text_is_stopword("", 0));
}

typedef struct coll {
	char got[64][64];
	int n;
} coll;

static void collect(uint64_t key, const char *text, size_t len, void *ud)
{
	coll *c = ud;
	assert_true(key == pd_text_ngram_key(text, len));
	assert_true(len < 64 && c->n < 64);
	memcpy(c->got[c->n], text, len);
	c->got[c->n][len] = 0;
	c->n++;
}

static int has(const coll *c, const char *s)
{
	for (int i = 0; i < c->n; i++)
		if (strcmp(c->got[i], s) == 0)
			return 1;
	return 0;
}

static void ngrams_once_without_stop_only(void **state)
{
	pd_words w = PD_WORDS_INIT;
	const char *t = "How to cook rice, how to cook pasta in the oven";
	pd_words_split(&w, t, strlen(t));
	coll c = { .n = 0 };
	pd_text_ngrams(&w, 3, collect, &c);
	assert_true(has(&c, "how to cook"));
	assert_true(has(&c, "cook"));
	assert_true(has(&c, "to cook rice"));
	assert_true(has(&c, "rice how to"));
	assert_true(has(&c, "how to"));
	assert_true(has(&c, "pasta in the"));
	assert_false(has(&c, "in the"));	/* only stop words */
	assert_false(has(&c, "to"));
	/* each counted once */
	int k = 0;
	for (int i = 0; i < c.n; i++)
		k += strcmp(c.got[i], "how to cook") == 0;
	assert_int_equal(k, 1);
	coll c1 = { .n = 0 };
	pd_text_ngrams(&w, 1, collect, &c1);
	assert_int_equal(c1.n, 5);	/* how, cook, rice, pasta, oven */
	pd_words_release(&w);
}

static void ngram_search_and_normalize(void **state)
{
	pd_words w = PD_WORDS_INIT;
	const char *t = "The Ultimate Guide: how-to train";
	pd_words_split(&w, t, strlen(t));
	assert_true(pd_text_has_ngram(&w, "ultimate guide", 14));
	assert_true(pd_text_has_ngram(&w, "how to", 6));
	assert_true(pd_text_has_ngram(&w, "guide how to train", 18));
	assert_false(pd_text_has_ngram(&w, "ultimate g", 10));
	assert_false(pd_text_has_ngram(&w, "guide how", 8));
	assert_false(pd_text_has_ngram(&w, "train more", 10));
	pd_buf b = PD_BUF_INIT;
	assert_int_equal(pd_text_normalize("  How-To!! ", 11, &b), 2);
	assert_string_equal(b.p, "how to");
	pd_buf_release(&b);
	pd_words_release(&w);
}

static void caps_emoji_chars(void **state)
{
	assert_true(pd_text_has_caps_word("This is INSANE", 14));
	assert_true(pd_text_has_caps_word("ПОЧЕМУ так", strlen("ПОЧЕМУ так")));
	assert_false(pd_text_has_caps_word("I am A person", 13));
	assert_false(pd_text_has_caps_word("McDonald iPhone", 15));
	assert_true(pd_text_has_caps_word("DON'T do it", 11));
	assert_true(pd_text_has_emoji("fire \xf0\x9f\x94\xa5", 9));
	assert_true(pd_text_has_emoji("sun \xe2\x98\x80", 7));
	assert_false(pd_text_has_emoji("plain ÄÖ", strlen("plain ÄÖ")));
	assert_int_equal((int)pd_text_chars("ÄÖ\xf0\x9f\x94\xa5x", strlen("ÄÖ\xf0\x9f\x94\xa5x")), 4);
}

/* the text model (embedtok.h) and the text features cut text alike */
static void one_tokeniser(void **state)
{
	static const struct { const char *in, *want; const char *nonlatin; } cases[] = {
		{ "Café CRÈME brûlée à l'Œuf", "café|crème|brûlée|à|lœuf", "00000" },
		{ "\xc7\x8d\xc7\x8f \xc8\x98tefan \xe1\xba\xa0\xe1\xbb\x8c", "ǎǐ|ștefan|ạọ", "001" },
		{ "ＦＵＬＬ ｗｉｄｔｈ！ＡＢＣ１２３", "ｆｕｌｌ|ｗｉｄｔｈ|ａｂｃ１２３", "111" },
		{ "fire\xf0\x9f\x94\xa5" "emoji \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd ok\xe2\x9d\xa4\xef\xb8\x8f",
		  "fire|emoji|ok", "000" },
		{ "日本語のタイトル【公式】 中文标题", "日本語のタイトル|公式|中文标题", "111" },
		{ "#Shorts #MinecraftBuild @user", "shorts|minecraftbuild|user", "000" },
		{ "Top 10 (2024) 3.5km 1,000,000 x²", "top|10|2024|3|5km|1|000|000|x²", "000000000" },
		{ "ΠΡΟΣΟΧΗ Ёлка Straße \xe2\x80\x98quoted\xe2\x80\x99 it\xca\xbcs", "προσοχη|ёлка|straße|quoted|its",
		  "11000" },
		{ "zero\xe2\x80\x8bwidth ta\xf3\xa0\x80\x81g bad\xff\xfe" "bytes", "zero|width|tag|bad\xff\xfe" "bytes", "0000" },
	};
	pd_words w = PD_WORDS_INIT;
	pd_etok t = PD_ETOK_INIT;
	pd_buf norm = PD_BUF_INIT, got = PD_BUF_INIT;
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		const char *s = cases[c].in;
		int n = pd_words_split(&w, s, strlen(s));
		assert_int_equal(pd_etok_split(&t, s, strlen(s)), n);
		pd_buf_reset(&got);
		for (int i = 0; i < n; i++) {
			assert_int_equal(t.len[i], w.len[i]);
			assert_memory_equal(pd_etok_at(&t, i), pd_words_at(&w, i), w.len[i] + 1);
			assert_int_equal(t.nonlatin[i], w.nonlatin[i]);
			assert_int_equal(w.nonlatin[i], cases[c].nonlatin[i] - '0');
			if (i)
				pd_buf_addc(&got, '|');
			pd_buf_add(&got, pd_words_at(&w, i), w.len[i]);
		}
		pd_buf_addc(&got, '\0');
		assert_string_equal(got.p, cases[c].want);
		assert_int_equal((int)strlen(cases[c].nonlatin), n);
		/* the canonical n-gram text of the phrase is the same words */
		assert_int_equal(pd_text_normalize(s, strlen(s), &norm), n);
	}
	pd_words_release(&w);
	pd_etok_release(&t);
	pd_buf_release(&norm);
	pd_buf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fold_scripts),
		cmocka_unit_test(split_words),
		cmocka_unit_test(stopwords),
		cmocka_unit_test(ngrams_once_without_stop_only),
		cmocka_unit_test(ngram_search_and_normalize),
		cmocka_unit_test(caps_emoji_chars),
		cmocka_unit_test(one_tokeniser),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
