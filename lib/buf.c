/*
 * buf.c — growable byte buffer; see buf.h.
 */
#include "buf.h"
#include <math.h>
#include "alloc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pd_buf_grow(pd_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap < (1u << 20) ? cap * 2 : cap + cap / 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

void pd_buf_add(pd_buf *b, const void *data, size_t n)
{
	pd_buf_grow(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void pd_buf_adds(pd_buf *b, const char *s)
{
	pd_buf_add(b, s, strlen(s));
}

void pd_buf_addc(pd_buf *b, char c)
{
	pd_buf_grow(b, 1);
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
}

void pd_buf_vprintf(pd_buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return;
	pd_buf_grow(b, (size_t)n);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void pd_buf_printf(pd_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pd_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void pd_buf_add_json_string(pd_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	pd_buf_grow(b, n + 2);
	pd_buf_addc(b, '"');
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		pd_buf_add(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': pd_buf_add(b, "\\\"", 2); break;
		case '\\': pd_buf_add(b, "\\\\", 2); break;
		case '\n': pd_buf_add(b, "\\n", 2); break;
		case '\r': pd_buf_add(b, "\\r", 2); break;
		case '\t': pd_buf_add(b, "\\t", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			pd_buf_add(b, u, 6);
		}
		}
	}
	pd_buf_add(b, s + start, n - start);
	pd_buf_addc(b, '"');
}

void pd_buf_add_utf8(pd_buf *b, unsigned long cp)
{
	char t[4];
	if (cp < 0x80) {
		pd_buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		t[0] = (char)(0xC0 | (cp >> 6));
		t[1] = (char)(0x80 | (cp & 0x3F));
		pd_buf_add(b, t, 2);
	} else if (cp < 0x10000) {
		t[0] = (char)(0xE0 | (cp >> 12));
		t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[2] = (char)(0x80 | (cp & 0x3F));
		pd_buf_add(b, t, 3);
	} else {
		t[0] = (char)(0xF0 | (cp >> 18));
		t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		t[3] = (char)(0x80 | (cp & 0x3F));
		pd_buf_add(b, t, 4);
	}
}

void pd_buf_reset(pd_buf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

void pd_buf_release(pd_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

char *pd_buf_detach(pd_buf *b)
{
	char *s = b->p ? b->p : xstrdup("");
	b->p = NULL;
	b->len = b->cap = 0;
	return s;
}

/* a whole number below 1e15 in magnitude: its digits, by hand (printf's
   are most of a pd-synth run's time); "-0" only when neg_zero */
static void add_whole(pd_buf *b, double d, int neg_zero)
{
	char t[24], *e = t + sizeof t, *p = e;
	long long n = (long long)d;
	unsigned long long u = n < 0 ? 0ull - (unsigned long long)n : (unsigned long long)n;
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (n < 0 || (neg_zero && n == 0 && signbit(d)))
		*--p = '-';
	pd_buf_add(b, p, (size_t)(e - p));
}

void pd_buf_add_num(pd_buf *b, double v)
{
	if (!isfinite(v))
		pd_buf_adds(b, "null");
	else if (v == floor(v) && fabs(v) < 1e15)
		add_whole(b, v, 0);
	else
		pd_buf_printf(b, "%.6g", v);
}

void pd_buf_add_num_exact(pd_buf *b, double v)
{
	if (!isfinite(v)) {
		pd_buf_adds(b, "null");
		return;
	}
	if (v == floor(v) && fabs(v) < 1e15) {
		add_whole(b, v, 1);
		return;
	}
	char t[40];
	snprintf(t, sizeof t, "%.15g", v);
	if (strtod(t, NULL) != v)
		snprintf(t, sizeof t, "%.17g", v);
	pd_buf_adds(b, t);
}

void pd_buf_add_num_sig(pd_buf *b, double v, int digits)
{
	if (!isfinite(v))
		pd_buf_adds(b, "null");
	else
		pd_buf_printf(b, "%.*g", digits, v);
}

void pd_buf_add_num_fixed(pd_buf *b, double v, int decimals)
{
	if (!isfinite(v))
		pd_buf_adds(b, "null");
	else
		pd_buf_printf(b, "%.*f", decimals, v);
}
