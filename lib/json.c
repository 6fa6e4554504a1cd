/*
 * json.c — structural scanning of JSON text; see json.h.
 *
 * The hot loop is skipping a value: strings are skipped with memchr for the
 * closing quote (then escapes checked), arrays and objects by depth counting
 * over bytes.  Number arrays (embeddings) are the bulk of the bytes and are
 * skipped at a few bytes a cycle.
 */
#include "json.h"
#include <string.h>

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

int pd_json_members(const char *s, size_t n,
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
		size_t ve = pd_json_skip_value(s, n, i);
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
		/* ASCII run, 8 bytes at a time */
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
