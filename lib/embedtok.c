/*
 * embedtok.c — words and character n-grams for the text model (embedtok.h).
 *
 * A small UTF-8 decoder; malformed bytes are kept as single "characters" of
 * their own (never a crash, never a lost byte).  Case folding is a handful of
 * range rules, enough for the scripts of the data.
 */
#include "pd.h"
#include "embedtok.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* decode one code point at s[i..n); *adv gets its byte length (>= 1); a
   malformed sequence yields the byte itself with the high bit set as 0xDC00+b */
static uint32_t decode(const unsigned char *s, size_t n, size_t i, size_t *adv)
{
	long cp = pd_utf8_decode((const char *)s + i, n - i, adv);
	return cp < 0 ? 0xDC00u + s[i] : (uint32_t)cp;
}

static void encode(pd_buf *b, uint32_t cp)
{
	if (cp >= 0xDC80 && cp < 0xDD00)	/* a malformed byte, kept */
		pd_buf_addc(b, (char)(cp - 0xDC00));
	else
		pd_buf_add_utf8(b, cp);
}

static uint32_t fold(uint32_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c + 32;
	if (c < 0xC0)
		return c;
	if ((c >= 0xC0 && c <= 0xDE && c != 0xD7))
		return c + 32;
	if (c >= 0x100 && c <= 0x137 && !(c & 1))
		return c + 1;
	if (c >= 0x139 && c <= 0x148 && (c & 1))
		return c + 1;
	if (c >= 0x14A && c <= 0x177 && !(c & 1))
		return c + 1;
	if (c == 0x178)
		return 0xFF;
	if (c >= 0x179 && c <= 0x17E && (c & 1))
		return c + 1;
	if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
		return c + 32;
	if (c >= 0x386 && c <= 0x38F) {
		static const uint16_t g[] = { 0x3AC, 0, 0x3AD, 0x3AE, 0x3AF, 0, 0x3CC, 0, 0x3CD, 0x3CE };
		return g[c - 0x386] ? g[c - 0x386] : c;
	}
	if (c >= 0x410 && c <= 0x42F)
		return c + 32;
	if (c >= 0x400 && c <= 0x40F)
		return c + 80;
	if (c >= 0x460 && c <= 0x4FF && !(c & 1) && !(c >= 0x482 && c <= 0x489))
		return c + 1;
	return c;
}

/* 0 break, 1 word character, 2 deleted (apostrophes, joiners, selectors) */
static int klass(uint32_t c)
{
	if (c < 0x80) {
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			return 1;
		return c == '\'' ? 2 : 0;
	}
	if (c == 0x2019 || c == 0x200D || (c >= 0xFE00 && c <= 0xFE0F) || c == 0x200B)
		return 2;
	if (c <= 0xBF || c == 0xD7 || c == 0xF7)
		return 0;
	if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
	    (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
	    (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
	    (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0xE0000 && c <= 0xE007F) ||
	    (c >= 0x2E00 && c <= 0x2E7F) || c == 0x30FB)
		return 0;
	return 1;
}

static void push_word(pd_etok *t, size_t start, int nonlatin)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->off = xreallocarray(t->off, (size_t)t->cap, sizeof *t->off);
		t->len = xreallocarray(t->len, (size_t)t->cap, sizeof *t->len);
		t->nonlatin = xreallocarray(t->nonlatin, (size_t)t->cap, sizeof *t->nonlatin);
	}
	t->off[t->n] = start;
	t->len[t->n] = t->text.len - start;
	t->nonlatin[t->n] = (unsigned char)nonlatin;
	t->n++;
	pd_buf_addc(&t->text, '\0');
}

int pd_etok_split(pd_etok *t, const char *s, size_t n)
{
	pd_buf_reset(&t->text);
	pd_buf_grow(&t->text, n + 1);
	t->n = 0;
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0;
	int inword = 0, nonlatin = 0;
	while (i < n) {
		size_t adv;
		uint32_t c = decode(u, n, i, &adv);
		i += adv;
		int k = klass(c);
		if (k == 2)
			continue;
		if (k == 0) {
			if (inword)
				push_word(t, start, nonlatin);
			inword = 0;
			continue;
		}
		if (!inword) {
			inword = 1;
			nonlatin = 0;
			start = t->text.len;
		}
		if (c >= 0x370 && !(c >= 0xDC80 && c < 0xDD00))
			nonlatin = 1;
		encode(&t->text, fold(c));
	}
	if (inword)
		push_word(t, start, nonlatin);
	return t->n;
}

void pd_etok_release(pd_etok *t)
{
	pd_buf_release(&t->text);
	free(t->off);
	free(t->len);
	free(t->nonlatin);
	memset(t, 0, sizeof *t);
}

void pd_etok_chargrams(const char *w, size_t len,
		       void (*cb)(const char *g, size_t glen, void *ud), void *ud)
{
	/* boundaries of the code points of " w " */
	size_t cap = len + 3, nb = 0;
	size_t *at = xmalloc((cap + 1) * sizeof *at);
	char *p = xmalloc(len + 3);
	p[0] = ' ';
	memcpy(p + 1, w, len);
	p[len + 1] = ' ';
	size_t n = len + 2, i = 0;
	while (i < n) {
		at[nb++] = i;
		size_t adv;
		decode((const unsigned char *)p, n, i, &adv);
		i += adv;
	}
	at[nb] = n;
	for (int g = 2; g <= 3; g++)
		for (size_t s = 0; s + (size_t)g <= nb; s++)
			cb(p + at[s], at[s + g] - at[s], ud);
	free(at);
	free(p);
}
