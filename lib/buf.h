/*
 * buf.h — a growable byte buffer (curl's dynbuf, redis's sds in spirit).
 *
 * The buffer owns its memory; `p` is always NUL-terminated once anything has
 * been added, so it can be handed to C string functions.  A pd_buf declared
 * with PD_BUF_INIT needs no init call; pd_buf_release frees and resets it.
 */
#ifndef PD_BUF_H
#define PD_BUF_H
#include <stddef.h>
#include <stdarg.h>

typedef struct pd_buf {
	char *p;
	size_t len, cap;
} pd_buf;

#define PD_BUF_INIT { NULL, 0, 0 }

void pd_buf_grow(pd_buf *b, size_t extra);	/* room for extra more bytes + NUL */
void pd_buf_add(pd_buf *b, const void *data, size_t n);
void pd_buf_adds(pd_buf *b, const char *s);
void pd_buf_addc(pd_buf *b, char c);
void pd_buf_printf(pd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pd_buf_vprintf(pd_buf *b, const char *fmt, va_list ap);
/* pd_buf_add_json_string: s (n bytes of UTF-8) as a quoted, escaped JSON string. */
void pd_buf_add_json_string(pd_buf *b, const char *s, size_t n);
/*
 * pd_buf_add_num: a number as pd's records write it: null when not finite,
 * an integer below 1e15 in magnitude in plain digits ("3", never "3.0" or
 * "-0"), anything else with 6 significant digits (%.6g).
 */
void pd_buf_add_num(pd_buf *b, double v);
/*
 * The variants, for the fields whose precision is part of their record
 * (video.h, match.h), each null when not finite: pd_buf_add_num_exact, a
 * number that reads back as the same double (a whole number below 1e15 in
 * plain digits, "-0" kept; else the shorter of %.15g and %.17g that reads
 * back exactly); pd_buf_add_num_sig, digits significant digits (%.*g, whole
 * numbers too); pd_buf_add_num_fixed, a fixed number of decimals (%.*f).
 */
void pd_buf_add_num_exact(pd_buf *b, double v);
void pd_buf_add_num_sig(pd_buf *b, double v, int digits);
void pd_buf_add_num_fixed(pd_buf *b, double v, int decimals);
/* pd_buf_add_utf8: code point cp (at most 0x10FFFF) encoded as UTF-8. */
void pd_buf_add_utf8(pd_buf *b, unsigned long cp);
void pd_buf_reset(pd_buf *b);		/* length 0, memory kept */
void pd_buf_release(pd_buf *b);		/* memory freed */
/* pd_buf_detach: the string, now the caller's to free; the buffer is reset. */
char *pd_buf_detach(pd_buf *b);

#endif
