/*
 * vec.c — embedding codec; see vec.h.
 *
 * The decimal parser reads up to 19 significant digits into a 64-bit integer
 * and scales it by an exact power of ten held in a table (one multiply or
 * divide for exponents up to 22, two beyond), in double precision, then
 * rounds to float.  For float32 output this is correctly rounded except in
 * astronomically rare double-rounding ties, and it runs several times faster
 * than strtod.  Base64 decodes four characters to three bytes per step through
 * four 256-entry tables that place each character's bits in the output word;
 * on x86-64 CPUs with AVX2 (checked at run time), 32 characters a step.
 */
#include "vec.h"
#include "alloc.h"
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const double pow10tab[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static double scale10(double m, int e)
{
	if (e == 0)
		return m;
	if (e > 0) {
		while (e > 22) {
			m *= 1e22;
			e -= 22;
		}
		return m * pow10tab[e];
	}
	e = -e;
	while (e > 22) {
		m /= 1e22;
		e -= 22;
	}
	return m / pow10tab[e];
}

/* parse_number: one JSON number at s[*i]; returns 0 or -1. */
static int parse_number(const char *s, size_t n, size_t *pi, double *out)
{
	size_t i = *pi;
	int neg = 0;
	if (i < n && s[i] == '-') {
		neg = 1;
		i++;
	}
	if (i >= n || (unsigned)(s[i] - '0') > 9)
		return -1;
	uint64_t m = 0;
	int digits = 0, exp10 = 0;
	if (s[i] == '0') {
		i++;
	} else {
		while (i < n && (unsigned)(s[i] - '0') <= 9) {
			if (digits < 19) {
				m = m * 10 + (uint64_t)(s[i] - '0');
				if (m)
					digits++;
			} else {
				exp10++;
			}
			i++;
		}
	}
	if (i < n && s[i] == '.') {
		i++;
		if (i >= n || (unsigned)(s[i] - '0') > 9)
			return -1;
		while (i < n && (unsigned)(s[i] - '0') <= 9) {
			if (digits < 19) {
				m = m * 10 + (uint64_t)(s[i] - '0');
				if (m)
					digits++;
				exp10--;
			}
			i++;
		}
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		int eneg = 0, e = 0;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if (i >= n || (unsigned)(s[i] - '0') > 9)
			return -1;
		while (i < n && (unsigned)(s[i] - '0') <= 9) {
			if (e < 100000)
				e = e * 10 + (s[i] - '0');
			i++;
		}
		exp10 += eneg ? -e : e;
	}
	double v = m ? scale10((double)m, exp10) : 0.0;
	*out = neg ? -v : v;
	*pi = i;
	return 0;
}

static void ensure(float **out, size_t *cap, size_t need)
{
	if (need > *cap) {
		size_t c = *cap ? *cap : 256;
		while (c < need)
			c *= 2;
		*out = xreallocarray(*out, c, sizeof **out);
		*cap = c;
	}
}

int pd_vec_parse_json(const char *s, size_t n, float **out, size_t *cap, int *dim, pd_err *err)
{
	size_t i = 0, k = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i >= n || s[i] != '[')
		return pd_err_set(err, PD_EREC, "embedding is not an array");
	i++;
	ensure(out, cap, 512);
	for (;;) {
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (i < n && s[i] == ']' && k == 0) {
			i++;
			break;
		}
		double v;
		if (parse_number(s, n, &i, &v) < 0)
			return pd_err_set(err, PD_EREC, "embedding element %zu is not a number", k);
		float f = (float)v;
		if (!isfinite(f))
			return pd_err_set(err, PD_EREC, "embedding element %zu is not finite", k);
		if (k == *cap)
			ensure(out, cap, k + 1);
		(*out)[k++] = f;
		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (i < n && s[i] == ',') {
			i++;
			continue;
		}
		if (i < n && s[i] == ']') {
			i++;
			break;
		}
		return pd_err_set(err, PD_EREC, "malformed embedding array after element %zu", k);
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i != n)
		return pd_err_set(err, PD_EREC, "text after the embedding array");
	if (k == 0)
		return pd_err_set(err, PD_EREC, "embedding is empty");
	if (k > 1000000)
		return pd_err_set(err, PD_EREC, "embedding has %zu dimensions (at most 1000000)", k);
	*dim = (int)k;
	return 0;
}

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static signed char b64val[256];
/*
 * b64q[j][c]: character c at place j of a quad, as its bits in the three
 * output bytes of a little-endian 32-bit word; a character outside the
 * alphabet sets bit 24.  A quad is then four loads, three ORs and one test.
 */
static uint32_t b64q[4][256];
static pthread_once_t b64once = PTHREAD_ONCE_INIT;

static int have_avx2;

int pd_cpu_avx2(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") != 0;
#else
	return 0;
#endif
}

static void b64_setup(void)
{
	have_avx2 = pd_cpu_avx2();
	memset(b64val, -1, sizeof b64val);
	for (int j = 0; j < 4; j++)
		for (int c = 0; c < 256; c++)
			b64q[j][c] = 1u << 24;
	for (int i = 0; i < 64; i++) {
		unsigned char c = (unsigned char)b64chars[i];
		uint32_t v = (uint32_t)i;
		b64val[c] = (signed char)i;
		b64q[0][c] = v << 2;
		b64q[1][c] = v >> 4 | (v & 15) << 12;
		b64q[2][c] = (v >> 2) << 8 | (v & 3) << 22;
		b64q[3][c] = v << 16;
	}
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PD_B64_AVX2 1

/*
 * b64_avx2: 32 characters at a time (Mula and Lemire's packing): each byte
 * mapped to its 6 bits by range (A-Z, a-z, 0-9, +, /; anything else is
 * invalid), then pairs and quads merged by two multiply-adds and the three
 * bytes of each quad gathered by a shuffle.  Decodes whole 32-character
 * blocks while at least 12 more characters follow (so the 16-byte stores
 * stay inside the output); returns the characters consumed, *o advanced, or
 * (size_t)-1 when a character is not base64.
 */
__attribute__((target("avx2")))
static size_t b64_avx2(const unsigned char *u, size_t n, unsigned char *out, size_t *o)
{
	size_t i = 0, k = *o;
	__m256i bad = _mm256_setzero_si256();
	const __m256i shuf = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,
					      2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
	for (; i + 32 + 12 <= n; i += 32, k += 24) {
		__m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(u + i));
		/* x in [lo, hi] as signed bytes (bytes >= 0x80 are negative: in no range) */
#define IN(lo, hi) _mm256_and_si256(_mm256_cmpgt_epi8(c, _mm256_set1_epi8((char)((lo) - 1))), \
				    _mm256_cmpgt_epi8(_mm256_set1_epi8((char)((hi) + 1)), c))
		__m256i up = IN('A', 'Z'), lo = IN('a', 'z'), dg = IN('0', '9');
		__m256i pl = _mm256_cmpeq_epi8(c, _mm256_set1_epi8('+'));
		__m256i sl = _mm256_cmpeq_epi8(c, _mm256_set1_epi8('/'));
#undef IN
		__m256i off = _mm256_and_si256(up, _mm256_set1_epi8(-65));
		off = _mm256_or_si256(off, _mm256_and_si256(lo, _mm256_set1_epi8(-71)));
		off = _mm256_or_si256(off, _mm256_and_si256(dg, _mm256_set1_epi8(4)));
		off = _mm256_or_si256(off, _mm256_and_si256(pl, _mm256_set1_epi8(62 - '+')));
		off = _mm256_or_si256(off, _mm256_and_si256(sl, _mm256_set1_epi8(63 - '/')));
		__m256i ok = _mm256_or_si256(_mm256_or_si256(up, lo), _mm256_or_si256(dg,
					     _mm256_or_si256(pl, sl)));
		bad = _mm256_or_si256(bad, _mm256_andnot_si256(ok, _mm256_set1_epi8(-1)));
		__m256i v = _mm256_add_epi8(c, off);
		v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
		v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
		v = _mm256_shuffle_epi8(v, shuf);
		_mm_storeu_si128((__m128i *)(void *)(out + k), _mm256_castsi256_si128(v));
		_mm_storeu_si128((__m128i *)(void *)(out + k + 12), _mm256_extracti128_si256(v, 1));
	}
	if (_mm256_movemask_epi8(bad))
		return (size_t)-1;
	*o = k;
	return i;
}
#endif

long pd_b64_decode(const char *s, size_t n, unsigned char *out)
{
	pthread_once(&b64once, b64_setup);
	while (n > 0 && s[n - 1] == '=')
		n--;
	if (n % 4 == 1)
		return -1;
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;
#ifdef PD_B64_AVX2
	if (have_avx2) {
		i = b64_avx2(u, n, out, &o);
		if (i == (size_t)-1)
			return -1;
	}
#endif
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* whole quads with another one after them: a 4-byte store has room */
	uint32_t bad = 0;
	for (; i + 8 <= n; i += 4) {
		uint32_t w = b64q[0][u[i]] | b64q[1][u[i + 1]] | b64q[2][u[i + 2]] | b64q[3][u[i + 3]];
		bad |= w;
		memcpy(out + o, &w, 4);
		o += 3;
	}
	if (bad >> 24)
		return -1;
#endif
	for (; i + 4 <= n; i += 4) {
		int a = b64val[u[i]], b = b64val[u[i + 1]], c = b64val[u[i + 2]], d = b64val[u[i + 3]];
		if ((a | b | c | d) < 0)
			return -1;
		uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
		out[o] = (unsigned char)(w >> 16);
		out[o + 1] = (unsigned char)(w >> 8);
		out[o + 2] = (unsigned char)w;
		o += 3;
	}
	size_t rest = n - i;
	if (rest >= 2) {
		int a = b64val[u[i]], b = b64val[u[i + 1]];
		int c = rest == 3 ? b64val[u[i + 2]] : 0;
		if ((a | b | c) < 0)
			return -1;
		uint32_t w = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
		out[o++] = (unsigned char)(w >> 16);
		if (rest == 3)
			out[o++] = (unsigned char)(w >> 8);
	}
	return (long)o;
}

int pd_vec_parse_b64(const char *s, size_t n, float **out, size_t *cap, int *dim, pd_err *err)
{
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return pd_err_set(err, PD_EREC, "embedding_b64 is not a string");
	s++;
	n -= 2;
	size_t bytes = n / 4 * 3 + 3;
	ensure(out, cap, bytes / 4 + 1);
	long got = pd_b64_decode(s, n, (unsigned char *)*out);
	if (got < 0)
		return pd_err_set(err, PD_EREC, "embedding_b64 is not valid base64");
	if (got == 0 || got % 4)
		return pd_err_set(err, PD_EREC, "embedding_b64 holds %ld bytes, not a whole number of float32", got);
	int d = (int)(got / 4);
	float *v = *out;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	for (int k = 0; k < d; k++) {
		uint32_t w;
		memcpy(&w, v + k, 4);
		w = __builtin_bswap32(w);
		memcpy(v + k, &w, 4);
	}
#endif
	/* all exponent bits set: inf or nan; one pass without a branch, which
	 * the compiler vectorizes, and a second only to name the element */
	uint64_t nonfinite = 0;
	int k = 0;
#ifdef __SSE2__
	{
		/* four at a time: a lane whose exponent bits are all set */
		const __m128i e = _mm_set1_epi32(0x7f800000);
		__m128i acc = _mm_setzero_si128();
		for (; k + 4 <= d; k += 4) {
			__m128i w = _mm_loadu_si128((const __m128i *)(const void *)(v + k));
			acc = _mm_or_si128(acc, _mm_cmpeq_epi32(_mm_and_si128(w, e), e));
		}
		nonfinite = (uint64_t)_mm_movemask_epi8(acc);
	}
#endif
	for (; k + 2 <= d; k += 2) {
		/* two at a time: a lane of x is 0 exactly when its exponent bits
		   are all set, and x's lanes are under 2^31, so the borrow test
		   finds a zero lane without false alarms from the other */
		const uint64_t e = 0x7f8000007f800000u, one = 0x0000000100000001u;
		uint64_t w, x;
		memcpy(&w, v + k, 8);
		x = (w & e) ^ e;
		nonfinite |= (x - one) & ~x & 0x8000000080000000u;
	}
	for (; k < d; k++) {
		uint32_t w;
		memcpy(&w, v + k, 4);
		nonfinite |= (w & 0x7f800000u) == 0x7f800000u;
	}
	if (nonfinite)
		for (int k = 0; k < d; k++)
			if (!isfinite(v[k]))
				return pd_err_set(err, PD_EREC, "embedding element %d is not finite", k);
	*dim = d;
	return 0;
}

void pd_b64_encode(pd_buf *b, const void *data, size_t n)
{
	const unsigned char *u = data;
	pd_buf_grow(b, (n + 2) / 3 * 4);
	char *o = b->p + b->len;
	size_t i = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t w = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];
		*o++ = b64chars[w >> 18];
		*o++ = b64chars[(w >> 12) & 63];
		*o++ = b64chars[(w >> 6) & 63];
		*o++ = b64chars[w & 63];
	}
	if (i < n) {
		uint32_t w = (uint32_t)u[i] << 16 | (i + 1 < n ? (uint32_t)u[i + 1] << 8 : 0);
		*o++ = b64chars[w >> 18];
		*o++ = b64chars[(w >> 12) & 63];
		*o++ = i + 1 < n ? b64chars[(w >> 6) & 63] : '=';
		*o++ = '=';
	}
	b->len = (size_t)(o - b->p);
	b->p[b->len] = '\0';
}

void pd_vec_add_b64(pd_buf *b, const float *v, int dim)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	uint32_t *tmp = xmalloc((size_t)dim * 4);
	for (int k = 0; k < dim; k++) {
		memcpy(tmp + k, v + k, 4);
		tmp[k] = __builtin_bswap32(tmp[k]);
	}
	pd_b64_encode(b, tmp, (size_t)dim * 4);
	free(tmp);
#else
	pd_b64_encode(b, v, (size_t)dim * 4);
#endif
}

void pd_vec_add_json(pd_buf *b, const float *v, int dim)
{
	pd_buf_addc(b, '[');
	for (int k = 0; k < dim; k++) {
		char tmp[32];
		/* %.9g always round-trips a float; try shorter first */
		int len = snprintf(tmp, sizeof tmp, "%.6g", (double)v[k]);
		if ((float)strtod(tmp, NULL) != v[k])
			len = snprintf(tmp, sizeof tmp, "%.9g", (double)v[k]);
		if (k)
			pd_buf_addc(b, ',');
		pd_buf_add(b, tmp, (size_t)len);
	}
	pd_buf_addc(b, ']');
}

float pd_vec_norm(const float *v, int dim)
{
	/* eight sums side by side (two to an SSE2 register); each square of a
	   float is exact in double, so the order moves only the last bits of the
	   double sum, and the float result practically never */
	double a[8] = { 0 }, s = 0;
	int k = 0;
#ifdef __SSE2__
	/* the same eight sums, two to a register */
	__m128d l0 = _mm_setzero_pd(), l1 = l0, l2 = l0, l3 = l0;
	for (; k + 8 <= dim; k += 8) {
		__m128 x = _mm_loadu_ps(v + k), y = _mm_loadu_ps(v + k + 4);
		__m128d x0 = _mm_cvtps_pd(x), x1 = _mm_cvtps_pd(_mm_movehl_ps(x, x));
		__m128d y0 = _mm_cvtps_pd(y), y1 = _mm_cvtps_pd(_mm_movehl_ps(y, y));
		l0 = _mm_add_pd(l0, _mm_mul_pd(x0, x0));
		l1 = _mm_add_pd(l1, _mm_mul_pd(x1, x1));
		l2 = _mm_add_pd(l2, _mm_mul_pd(y0, y0));
		l3 = _mm_add_pd(l3, _mm_mul_pd(y1, y1));
	}
	_mm_storeu_pd(a, l0);
	_mm_storeu_pd(a + 2, l1);
	_mm_storeu_pd(a + 4, l2);
	_mm_storeu_pd(a + 6, l3);
#else
	for (; k + 8 <= dim; k += 8)
		for (int j = 0; j < 8; j++)
			a[j] += (double)v[k + j] * v[k + j];
#endif
	for (; k < dim; k++)
		s += (double)v[k] * v[k];
	return (float)sqrt(((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])) + s);
}

float pd_vec_normalize(float *v, int dim)
{
	float nrm = pd_vec_norm(v, dim);
	if (nrm > 0) {
		float inv = 1.0f / nrm;
		for (int k = 0; k < dim; k++)
			v[k] *= inv;
	}
	return nrm;
}
