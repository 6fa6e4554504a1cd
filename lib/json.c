/*
 * json.c — structural scanning of JSON text; see json.h.
 *
 * The hot loop is skipping a value: strings are skipped with memchr for the
 * closing quote (then escapes checked), arrays and objects by depth counting
 * over bytes.  Number arrays (embeddings) are the bulk of the bytes and are
 * skipped at a few bytes a cycle.  The strict checker and pd_jobj below read
 * a record's fields without a tree where the text is in a subset of JSON on
 * which they provably agree with cJSON (tests/unit/test_scan.c checks it).
 */
#include "json.h"
#include "alloc.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static size_t skip_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* skip_string: s[i] == '"'; the index past the closing quote, or -1. */
static size_t skip_string(const char *s, size_t n, size_t i)
{
	i++;
#ifdef __SSE2__
	/* a short string (a key, most values): its closing quote among the
	   next 16 bytes, before any backslash, without a call */
	if (i + 16 <= n) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		unsigned q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
		unsigned b = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
		if (q && (q & -q) < (b & -b ? b & -b : 0x10000u))
			return i + (size_t)__builtin_ctz(q) + 1;
	}
#endif
	for (;;) {
		const char *q = memchr(s + i, '"', n - i);
		if (!q)
			return (size_t)-1;
		size_t j = (size_t)(q - s);
		/* count backslashes before the quote */
		size_t k = j;
		while (k > i && s[k - 1] == '\\')
			k--;
		if (((j - k) & 1) == 0)
			return j + 1;
		i = j + 1;
	}
}

size_t pd_json_skip_value(const char *s, size_t n, size_t i)
{
	i = skip_ws(s, n, i);
	if (i >= n)
		return (size_t)-1;
	char c = s[i];
	if (c == '"')
		return skip_string(s, n, i);
	if (c == '{' || c == '[') {
		/* depth count; strings skipped whole so brackets inside them don't count */
		char stack[256];
		int depth = 0;
		stack[depth++] = c;
		i++;
		while (i < n) {
			char d = s[i];
			if (d == '"') {
				i = skip_string(s, n, i);
				if (i == (size_t)-1)
					return i;
				continue;
			}
			if (d == '{' || d == '[') {
				if (depth == (int)sizeof stack)
					return (size_t)-1;
				stack[depth++] = d;
			} else if (d == '}' || d == ']') {
				char open = d == '}' ? '{' : '[';
				if (stack[--depth] != open)
					return (size_t)-1;
				if (depth == 0)
					return i + 1;
			}
			i++;
		}
		return (size_t)-1;
	}
	/* scalar: up to a delimiter */
	size_t j = i;
	while (j < n && s[j] != ',' && s[j] != '}' && s[j] != ']' && s[j] != ' ' &&
	       s[j] != '\t' && s[j] != '\n' && s[j] != '\r')
		j++;
	return j > i ? j : (size_t)-1;
}

static size_t strict_value(const char *s, size_t n, size_t i, int depth);

/* members: pd_json_members, or with strict the values' ends found by the
   strict checker (2 when a value is outside the strict subset), but for
   the keys lax says yes to */
static int members(const char *s, size_t n, int strict, int (*lax)(const char *key, size_t keylen),
		   int (*cb)(const pd_jmember *m, void *ud), void *ud, pd_err *err)
{
	size_t i = skip_ws(s, n, 0);
	if (i >= n || s[i] != '{')
		return pd_err_set(err, PD_EREC, "not a JSON object");
	i = skip_ws(s, n, i + 1);
	if (i < n && s[i] == '}') {
		if (skip_ws(s, n, i + 1) != n)
			return pd_err_set(err, PD_EREC, "text after the JSON object");
		return 0;
	}
	for (;;) {
		if (i >= n || s[i] != '"')
			return pd_err_set(err, PD_EREC, "malformed JSON: expected a key at byte %zu", i + 1);
		pd_jmember m;
		m.start = i;
		size_t ke = skip_string(s, n, i);
		if (ke == (size_t)-1)
			return pd_err_set(err, PD_EREC, "malformed JSON: unterminated string");
		m.key = s + i + 1;
		m.keylen = ke - i - 2;
		i = skip_ws(s, n, ke);
		if (i >= n || s[i] != ':')
			return pd_err_set(err, PD_EREC, "malformed JSON: expected ':' at byte %zu", i + 1);
		i = skip_ws(s, n, i + 1);
		int st = strict && !(lax && lax(m.key, m.keylen));
		size_t ve = st ? strict_value(s, n, i, 0) : pd_json_skip_value(s, n, i);
		if (ve == (size_t)-1 && st)
			return 2;
		if (ve == (size_t)-1)
			return pd_err_set(err, PD_EREC, "malformed JSON value at byte %zu", i + 1);
		m.val = s + i;
		m.vallen = ve - i;
		m.end = ve;
		int r = cb(&m, ud);
		if (r)
			return r;
		i = skip_ws(s, n, ve);
		if (i < n && s[i] == ',') {
			i = skip_ws(s, n, i + 1);
			continue;
		}
		if (i < n && s[i] == '}') {
			if (skip_ws(s, n, i + 1) != n)
				return pd_err_set(err, PD_EREC, "text after the JSON object");
			return 0;
		}
		return pd_err_set(err, PD_EREC, "malformed JSON: expected ',' or '}' at byte %zu", i + 1);
	}
}

int pd_json_members(const char *s, size_t n,
		    int (*cb)(const pd_jmember *m, void *ud), void *ud, pd_err *err)
{
	return members(s, n, 0, NULL, cb, ud, err);
}

int pd_json_members_strict(const char *s, size_t n, int (*lax)(const char *key, size_t keylen),
			   int (*cb)(const pd_jmember *m, void *ud), void *ud, pd_err *err)
{
	return members(s, n, 1, lax, cb, ud, err);
}

struct find_ctx {
	const char *key;
	size_t keylen;
	const char *val;
	size_t vallen;
};

static int find_cb(const pd_jmember *m, void *ud)
{
	struct find_ctx *f = ud;
	if (m->keylen == f->keylen && memcmp(m->key, f->key, f->keylen) == 0) {
		f->val = m->val;
		f->vallen = m->vallen;
		return 1;
	}
	return 0;
}

/* find_all_cb: like find_cb but scans on, so the whole object is checked */
static int find_all_cb(const pd_jmember *m, void *ud)
{
	struct find_ctx *f = ud;
	if (!f->val && m->keylen == f->keylen && memcmp(m->key, f->key, f->keylen) == 0) {
		f->val = m->val;
		f->vallen = m->vallen;
	}
	return 0;
}

int pd_json_find(const char *s, size_t n, const char *key,
		 const char **val, size_t *vallen, pd_err *err)
{
	struct find_ctx f = { key, strlen(key), NULL, 0 };
	int r = pd_json_members(s, n, find_cb, &f, err);
	if (r < 0)
		return -1;
	if (r == 1) {
		*val = f.val;
		*vallen = f.vallen;
		return 1;
	}
	return 0;
}

static int copy_type(const char *v, size_t vl, char *type, size_t cap)
{
	if (vl < 2 || v[0] != '"' || memchr(v + 1, '\\', vl - 2) || vl - 2 >= cap)
		return 0;
	memcpy(type, v + 1, vl - 2);
	type[vl - 2] = '\0';
	return 1;
}

int pd_json_type(const char *s, size_t n, char *type, size_t cap, pd_err *err)
{
	type[0] = '\0';
	/* fast path: {"type":"xxx", — what pd's writers produce */
	if (n > 10 && memcmp(s, "{\"type\":\"", 9) == 0) {
		const char *q = memchr(s + 9, '"', n - 9 < 64 ? n - 9 : 64);
		if (q && !memchr(s + 9, '\\', (size_t)(q - s) - 9)) {
			size_t tl = (size_t)(q - s) - 9;
			size_t after = (size_t)(q - s) + 1;
			if (tl < cap && after < n && (s[after] == ',' || s[after] == '}') &&
			    s[n - 1] == '}') {
				/* the whole record must still be well-formed */
				size_t e = pd_json_skip_value(s, n, 0);
				if (e == (size_t)-1 || skip_ws(s, n, e) != n)
					return pd_err_set(err, PD_EREC, "malformed JSON");
				memcpy(type, s + 9, tl);
				type[tl] = '\0';
				return 1;
			}
		}
	}
	struct find_ctx f = { "type", 4, NULL, 0 };
	if (pd_json_members(s, n, find_all_cb, &f, err) < 0)
		return -1;
	if (!f.val || !copy_type(f.val, f.vallen, type, cap))
		return pd_err_set(err, PD_EREC, "record has no string 'type'");
	return 1;
}

long pd_utf8_decode(const char *str, size_t n, size_t *len)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c = s[0];
	*len = 1;
	if (c < 0x80)
		return (long)c;
	int k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	if (k == 0 || (size_t)k > n)
		return -1;
	unsigned long cp = c & (0x3F >> (k - 1));
	for (int j = 1; j < k; j++) {
		if ((s[j] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (s[j] & 0x3F);
	}
	if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	*len = (size_t)k;
	return (long)cp;
}

int pd_utf8_valid(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		/* ASCII run, 16 bytes at a time with SSE2, then 8 */
#ifdef __SSE2__
		while (i + 16 <= n && !_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(s + i))))
			i += 16;
#endif
		while (i + 8 <= n) {
			unsigned long long w;
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		int len;
		unsigned cp;
		if (c >= 0xC2 && c <= 0xDF) {
			len = 2;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			len = 3;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + (size_t)len > n)
			return 0;
		for (int k = 1; k < len; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += (size_t)len;
	}
	return 1;
}

/* ---- the strict subset, and scanned objects ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* hex4: the 4 hex digits at s[i..i+4), or -1. */
static long hex4(const char *s, size_t n, size_t i)
{
	if (i + 4 > n)
		return -1;
	long v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hexval(s[i + k]);
		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

/*
 * plain_run: the index of the first byte at or after i, in a block that
 * does not run past n, that may be '"', '\\' or a control byte (< 0x20):
 * the bytes before it are none of these.  16 bytes at a time with SSE2, 8
 * without (the exact zero-byte and less-than tests of "Bit Twiddling
 * Hacks"); the last few bytes are left to the caller.
 */
static size_t plain_run(const char *s, size_t n, size_t i)
{
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), ctl = _mm_set1_epi8(0x1f);
	while (i + 16 <= n) {
		__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
					   _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));
		int mask = _mm_movemask_epi8(hit);
		if (mask)
			return i + (size_t)__builtin_ctz((unsigned)mask);
		i += 16;
	}
#else
	const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
	while (i + 8 <= n) {
		uint64_t w, q, b;
		memcpy(&w, s + i, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & high)
			return i;
		i += 8;
	}
#endif
	return i;
}

/*
 * strict_string: s[i] == '"'; the index past the closing quote, or -1 when
 * the string is outside the strict subset.  *plain: no escapes in it.
 */
static size_t strict_string(const char *s, size_t n, size_t i, int *plain)
{
	*plain = 1;
	for (i++; i < n; i++) {
		i = plain_run(s, n, i);
		if (i >= n)
			break;
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return (size_t)-1;
		if (c != '\\')
			continue;
		*plain = 0;
		if (++i >= n)
			return (size_t)-1;
		switch (s[i]) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
			break;
		case 'u': {
			long u = hex4(s, n, i + 1);
			if (u <= 0 || (u >= 0xDC00 && u <= 0xDFFF))
				return (size_t)-1;
			i += 4;
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (i + 2 >= n || s[i + 1] != '\\' || s[i + 2] != 'u')
					return (size_t)-1;
				long lo = hex4(s, n, i + 3);
				if (lo < 0xDC00 || lo > 0xDFFF)
					return (size_t)-1;
				i += 6;
			}
			break;
		}
		default:
			return (size_t)-1;
		}
	}
	return (size_t)-1;
}

static size_t strict_number(const char *s, size_t n, size_t i)
{
	size_t b = i;
	if (i < n && s[i] == '-')
		i++;
	if (i >= n || (unsigned)(s[i] - '0') > 9)
		return (size_t)-1;
	if (s[i] == '0')
		i++;
	else
		while (i < n && (unsigned)(s[i] - '0') <= 9)
			i++;
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || (unsigned)(s[i] - '0') > 9)
			return (size_t)-1;
		while (i < n && (unsigned)(s[i] - '0') <= 9)
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || (unsigned)(s[i] - '0') > 9)
			return (size_t)-1;
		while (i < n && (unsigned)(s[i] - '0') <= 9)
			i++;
	}
	/* cJSON reads a number through a 64-byte buffer */
	return i - b <= 63 ? i : (size_t)-1;
}

static size_t strict_value(const char *s, size_t n, size_t i, int depth)
{
	int plain;
	if (i >= n)
		return (size_t)-1;
	switch (s[i]) {
	case '"':
		return strict_string(s, n, i, &plain);
	case 't':
		return n - i >= 4 && memcmp(s + i, "true", 4) == 0 ? i + 4 : (size_t)-1;
	case 'f':
		return n - i >= 5 && memcmp(s + i, "false", 5) == 0 ? i + 5 : (size_t)-1;
	case 'n':
		return n - i >= 4 && memcmp(s + i, "null", 4) == 0 ? i + 4 : (size_t)-1;
	case '[': case '{': {
		char close = s[i] == '[' ? ']' : '}';
		if (depth >= 200)	/* well inside pd_json_skip_value's 256 */
			return (size_t)-1;
		i = skip_ws(s, n, i + 1);
		if (i < n && s[i] == close)
			return i + 1;
		for (;;) {
			if (close == '}') {
				if (i >= n || s[i] != '"')
					return (size_t)-1;
				i = strict_string(s, n, i, &plain);
				if (i == (size_t)-1)
					return i;
				i = skip_ws(s, n, i);
				if (i >= n || s[i] != ':')
					return (size_t)-1;
				i = skip_ws(s, n, i + 1);
			}
			i = strict_value(s, n, i, depth + 1);
			if (i == (size_t)-1)
				return i;
			i = skip_ws(s, n, i);
			if (i < n && s[i] == ',') {
				i = skip_ws(s, n, i + 1);
				continue;
			}
			return i < n && s[i] == close ? i + 1 : (size_t)-1;
		}
	}
	default:
		return strict_number(s, n, i);
	}
}

int pd_json_strict_value(const char *s, size_t n)
{
	return strict_value(s, n, 0, 0) == n;
}

void pd_jobj_reset(pd_jobj *o, size_t n)
{
	o->n = 0;
	o->alen = 0;
	memset(o->bucket, 0, sizeof o->bucket);
	for (int i = 0; i < o->nextra; i++)
		free(o->extra[i]);
	free(o->extra);
	o->extra = NULL;
	o->nextra = 0;
	if (o->acap < n + 1) {
		free(o->arena);
		o->acap = n + 1;
		o->arena = xmalloc(o->acap);
	}
}

/* key_bucket: which of pd_jobj's 64 buckets a key falls in */
static unsigned key_bucket(const char *k, size_t n)
{
	return n ? (unsigned)(n * 131 + (unsigned char)k[0] * 31 + (unsigned char)k[n - 1]) & 63 : 0;
}

void pd_jobj_add(pd_jobj *o, const pd_jmember *m)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 32;
		o->m = xreallocarray(o->m, (size_t)o->cap, sizeof *o->m);
		o->dec = xreallocarray(o->dec, (size_t)o->cap, sizeof *o->dec);
		o->chain = xreallocarray(o->chain, (size_t)o->cap, sizeof *o->chain);
	}
	o->dec[o->n] = NULL;
	unsigned b = key_bucket(m->key, m->keylen);
	o->chain[o->n] = o->bucket[b];
	o->bucket[b] = o->n + 1;
	o->m[o->n++] = *m;
}

static void put_utf8(char *o, size_t *k, unsigned long cp)
{
	if (cp < 0x80) {
		o[(*k)++] = (char)cp;
	} else if (cp < 0x800) {
		o[(*k)++] = (char)(0xC0 | cp >> 6);
		o[(*k)++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		o[(*k)++] = (char)(0xE0 | cp >> 12);
		o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[(*k)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		o[(*k)++] = (char)(0xF0 | cp >> 18);
		o[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[(*k)++] = (char)(0x80 | (cp & 0x3F));
	}
}

/*
 * decode: the strict string token t[0..n) (quotes included) into the arena,
 * NUL-terminated.  Decoded text plus its NUL is never longer than the token;
 * when the arena is out of room (strings asked for twice), a block of its own.
 */
static const char *decode(pd_jobj *o, const char *t, size_t n)
{
	char *out;
	if (o->alen + n <= o->acap) {
		out = o->arena + o->alen;
		o->alen += n;
	} else {
		o->extra = xreallocarray(o->extra, (size_t)o->nextra + 1, sizeof *o->extra);
		out = o->extra[o->nextra++] = xmalloc(n);
	}
	size_t k = 0, e = n - 1;	/* e: the closing quote */
	for (size_t i = 1; i < e; i++) {
		/* the run up to the next escape, copied whole */
		const char *bs = memchr(t + i, '\\', e - i);
		size_t run = bs ? (size_t)(bs - (t + i)) : e - i;
		memcpy(out + k, t + i, run);
		k += run;
		i += run;
		if (i >= e)
			break;
		char c = t[++i];
		switch (c) {
		case 'b': out[k++] = '\b'; break;
		case 'f': out[k++] = '\f'; break;
		case 'n': out[k++] = '\n'; break;
		case 'r': out[k++] = '\r'; break;
		case 't': out[k++] = '\t'; break;
		case 'u': {
			unsigned long cp = (unsigned long)hex4(t, n, i + 1);
			i += 4;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				unsigned long lo = (unsigned long)hex4(t, n, i + 3);
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				i += 6;
			}
			put_utf8(out, &k, cp);
			break;
		}
		default: out[k++] = c;	/* " \ / */
		}
	}
	out[k] = '\0';
	return out;
}

static int classify(pd_jobj *o, int i, pd_jv *jv, int dec)
{
	const char *v = o->m[i].val;
	size_t n = o->m[i].vallen;
	jv->raw = v;
	jv->rawlen = n;
	jv->s = NULL;
	jv->d = 0;
	switch (v[0]) {
	case '"':
		jv->t = PD_JV_STRING;
		if (!dec)
			break;
		if (!o->dec[i])
			o->dec[i] = decode(o, v, n);
		jv->s = o->dec[i];
		break;
	case 't': jv->t = PD_JV_TRUE; break;
	case 'f': jv->t = PD_JV_FALSE; break;
	case 'n': jv->t = PD_JV_NULL; break;
	case '[': jv->t = PD_JV_ARRAY; break;
	case '{': jv->t = PD_JV_OBJECT; break;
	default: {
		jv->t = PD_JV_NUMBER;
		/* a whole number of up to 15 digits (counts, durations, the usual
		   case) is exact in a double, so strtod's correctly rounded value is
		   the integer itself: read it directly, strtod's cost saved */
		size_t k = v[0] == '-', j = k;
		unsigned long long u = 0;
		while (j < n && j - k < 15 && v[j] >= '0' && v[j] <= '9')
			u = u * 10 + (unsigned long long)(v[j++] - '0');
		if (j == n && j > k) {
			jv->d = k ? -(double)u : (double)u;
			break;
		}
		/* a decimal of up to 15 digits in all and no exponent: the digits
		   and 10^f are exact doubles, so their quotient, rounded once, is
		   the correctly rounded value strtod gives (Clinger's fast path) */
		if (j < n && v[j] == '.' && j > k) {
			size_t f0 = ++j;
			while (j < n && j - k < 16 && v[j] >= '0' && v[j] <= '9')
				u = u * 10 + (unsigned long long)(v[j++] - '0');
			if (j == n && j > f0) {
				static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
							      1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
				double q = (double)u / p10[j - f0];
				jv->d = k ? -q : q;
				break;
			}
		}
		/* as cJSON: strtod over a copy (a strict number is at most 63 chars) */
		char num[64];
		memcpy(num, v, n);
		num[n] = '\0';
		jv->d = strtod(num, NULL);
	}
	}
	return 1;
}

static int find(pd_jobj *o, const char *key, pd_jv *v, int dec)
{
	size_t kl = strlen(key);
	/* the bucket's members, newest first: the last one named key is the
	   first in the record */
	int found = -1;
	for (int i = o->bucket[key_bucket(key, kl)] - 1; i >= 0; i = o->chain[i] - 1)
		if (o->m[i].keylen == kl && memcmp(o->m[i].key, key, kl) == 0)
			found = i;
	if (found >= 0)
		return classify(o, found, v, dec);
	v->t = PD_JV_ABSENT;
	v->s = NULL;
	v->raw = NULL;
	v->rawlen = 0;
	return 0;
}

int pd_jobj_get(pd_jobj *o, const char *key, pd_jv *v)
{
	return find(o, key, v, 1);
}

int pd_jobj_peek(pd_jobj *o, const char *key, pd_jv *v)
{
	return find(o, key, v, 0);
}

/* elements: the element spans of the strict array text a (up to cap of
 * them into el/ellen); returns how many there are. */
static int elements(const pd_jv *a, const char **el, size_t *ellen, int cap)
{
	const char *s = a->raw;
	size_t n = a->rawlen, i = skip_ws(s, n, 1);
	int k = 0;
	if (i < n && s[i] == ']')
		return 0;
	for (;;) {
		size_t e = pd_json_skip_value(s, n, i);
		if (k < cap) {
			el[k] = s + i;
			ellen[k] = e - i;
		}
		k++;
		i = skip_ws(s, n, e);
		if (s[i] == ']')
			return k;
		i = skip_ws(s, n, i + 1);
	}
}

int pd_jobj_count(const pd_jv *a)
{
	return elements(a, NULL, NULL, 0);
}

int pd_jobj_strings(pd_jobj *o, const pd_jv *a, const char **out, int cap)
{
	const char *el[64];
	size_t len[64];
	int n = elements(a, el, len, 64);
	if (n > 64) {
		/* rare: many tags; a second pass with room for all */
		const char **el2 = xmalloc((size_t)n * sizeof *el2);
		size_t *len2 = xmalloc((size_t)n * sizeof *len2);
		elements(a, el2, len2, n);
		int r = 0;
		for (int i = 0; i < n && r >= 0; i++) {
			if (el2[i][0] != '"')
				r = -1;
			else if (i < cap)
				out[i] = decode(o, el2[i], len2[i]);
		}
		free(el2);
		free(len2);
		return r < 0 ? -1 : n;
	}
	for (int i = 0; i < n; i++)
		if (el[i][0] != '"')
			return -1;
	for (int i = 0; i < n && i < cap; i++)
		out[i] = decode(o, el[i], len[i]);
	return n;
}

void pd_jobj_release(pd_jobj *o)
{
	pd_jobj_reset(o, 0);
	free(o->m);
	free(o->dec);
	o->dec = NULL;
	free(o->chain);
	o->chain = NULL;
	free(o->arena);
	o->m = NULL;
	o->arena = NULL;
	o->n = o->cap = 0;
	o->alen = o->acap = 0;
}
