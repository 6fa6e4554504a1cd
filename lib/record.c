/*
 * record.c — parse and write stream records; see record.h.
 *
 * The embedding member is located with the structural scanner, decoded by the
 * vector codec, and cut out of the text before cJSON parses the remainder, so
 * cJSON only ever sees the small fields.  The remainder is rebuilt in a reused
 * scratch buffer (one copy of the non-embedding bytes).  pd_record_scan goes
 * further for readers of a few fields (pd-match): no tree at all, the members
 * kept as spans (json.h, pd_jobj) and decoded when asked; it decides only
 * records in the strict subset where that agrees with cJSON, and leaves the
 * rest to pd_record_parse.  pd_record_write_head writes a record's head
 * without a tree when its line is already what cJSON would print: whether
 * it is, is checked token by token (pd_record_cjson_form), with cJSON's own
 * number printer deciding every number but small integers.
 */
#include "record.h"
#include "alloc.h"
#include "json.h"
#include "vec.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct cut {
	size_t emb_start, emb_end;	/* member span to cut, 0/0 none */
	size_t b64_start, b64_end;
	const char *emb_val, *b64_val;
	size_t emb_len, b64_len;
	int has_emb, has_b64;
	size_t prev_end;		/* end of the member before the current one */
	size_t emb_prev_end, b64_prev_end;
	int index, emb_index, b64_index;
	int dups;			/* an embedding key seen twice */
};

static int cut_cb(const pd_jmember *m, void *ud)
{
	struct cut *c = ud;
	if (m->keylen == 9 && memcmp(m->key, "embedding", 9) == 0) {
		c->dups += c->has_emb;
		c->has_emb = 1;
		c->emb_val = m->val;
		c->emb_len = m->vallen;
		c->emb_start = m->start;
		c->emb_end = m->end;
		c->emb_prev_end = c->prev_end;
		c->emb_index = c->index;
	} else if (m->keylen == 13 && memcmp(m->key, "embedding_b64", 13) == 0) {
		c->dups += c->has_b64;
		c->has_b64 = 1;
		c->b64_val = m->val;
		c->b64_len = m->vallen;
		c->b64_start = m->start;
		c->b64_end = m->end;
		c->b64_prev_end = c->prev_end;
		c->b64_index = c->index;
	}
	c->prev_end = m->end;
	c->index++;
	return 0;
}

/* reset: drop the parsed content, keep the float buffer for the next parse */
static void reset(pd_record *r)
{
	if (r->json)
		cJSON_Delete(r->json);
	r->json = NULL;
	r->dim = 0;
	r->emb_form = PD_EMB_NONE;
	r->modified = 0;
	r->type[0] = '\0';
}

void pd_record_release(pd_record *r)
{
	reset(r);
	free(r->emb);
	r->emb = NULL;
	r->emb_cap = 0;
}

static __thread pd_buf scratch;	/* the record text less its embedding */

void pd_record_thread_release(void)
{
	pd_buf_release(&scratch);
}

int pd_record_parse(pd_record *r, const char *line, size_t n, pd_err *err)
{
	reset(r);
	r->raw = line;
	r->rawlen = n;
	if (!pd_utf8_valid(line, n))
		return pd_err_set(err, PD_EREC, "invalid UTF-8");
	/* a NUL would cut C strings (keys, values) short behind cJSON's back */
	if (memchr(line, '\0', n))
		return pd_err_set(err, PD_EREC, "NUL byte in record");
	struct cut c;
	memset(&c, 0, sizeof c);
	if (pd_json_members(line, n, cut_cb, &c, err) < 0)
		return -1;
	if ((c.has_emb && c.has_b64) || c.dups)
		return pd_err_set(err, PD_EREC, "record has more than one embedding");
	const char *text = line;
	size_t tlen = n;
	if (c.has_emb || c.has_b64) {
		int rc = c.has_b64
			? pd_vec_parse_b64(c.b64_val, c.b64_len, &r->emb, &r->emb_cap, &r->dim, err)
			: pd_vec_parse_json(c.emb_val, c.emb_len, &r->emb, &r->emb_cap, &r->dim, err);
		if (rc < 0) {
			r->dim = 0;
			return -1;
		}
		r->emb_form = c.has_b64 ? PD_EMB_B64 : PD_EMB_JSON;
		/* cut the member and one adjacent comma */
		size_t s = c.has_b64 ? c.b64_start : c.emb_start;
		size_t e = c.has_b64 ? c.b64_end : c.emb_end;
		int idx = c.has_b64 ? c.b64_index : c.emb_index;
		size_t pe = c.has_b64 ? c.b64_prev_end : c.emb_prev_end;
		if (idx > 0) {
			s = pe;		/* from the end of the previous member: drops ", " */
		} else {
			/* first member: drop through the following comma, if any */
			size_t k = e;
			while (k < n && (line[k] == ' ' || line[k] == '\t'))
				k++;
			if (k < n && line[k] == ',')
				e = k + 1;
		}
		pd_buf_reset(&scratch);
		pd_buf_add(&scratch, line, s);
		pd_buf_add(&scratch, line + e, n - e);
		text = scratch.p;
		tlen = scratch.len;
	}
	const char *endp = NULL;
	r->json = cJSON_ParseWithLengthOpts(text, tlen, &endp, 0);
	if (!r->json) {
		r->dim = 0;
		return pd_err_set(err, PD_EREC, "malformed JSON");
	}
	if (!cJSON_IsObject(r->json)) {
		reset(r);
		return pd_err_set(err, PD_EREC, "record is not a JSON object");
	}
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(r->json, "type");
	if (!cJSON_IsString(t)) {
		reset(r);
		return pd_err_set(err, PD_EREC, "record has no string 'type'");
	}
	if (strlen(t->valuestring) >= sizeof r->type) {
		reset(r);
		return pd_err_set(err, PD_EREC, "record type is too long");
	}
	memcpy(r->type, t->valuestring, strlen(t->valuestring) + 1);
	return 0;
}

/* scan_cb: cut_cb, and every other member (checked strict by the scan) kept in the jobj */
struct scan {
	struct cut c;
	pd_jobj *o;
	int outside;		/* a member outside what the scan decides */
};

/* an embedding's key: its value is checked by the vector codec, not the scan */
static int emb_key(const char *key, size_t n)
{
	return (n == 9 && memcmp(key, "embedding", 9) == 0) || (n == 13 && memcmp(key, "embedding_b64", 13) == 0);
}

static int scan_cb(const pd_jmember *m, void *ud)
{
	struct scan *sc = ud;
	int emb = emb_key(m->key, m->keylen);
	cut_cb(m, &sc->c);
	if (emb)
		return 0;
	/* keys with escapes would need decoding to be compared as cJSON does */
	if (memchr(m->key, '\\', m->keylen)) {
		sc->outside = 1;
		return 1;
	}
	pd_jobj_add(sc->o, m);
	return 0;
}

int pd_record_scan(pd_record *r, pd_jobj *o, const char *line, size_t n)
{
	reset(r);
	r->raw = line;
	r->rawlen = n;
	pd_jobj_reset(o, n);
	if (!pd_utf8_valid(line, n) || memchr(line, '\0', n))
		return 1;
	struct scan sc;
	memset(&sc, 0, sizeof sc);
	sc.o = o;
	pd_err err;
	if (pd_json_members_strict(line, n, emb_key, scan_cb, &sc, &err) != 0 || sc.outside)
		return 1;
	struct cut *c = &sc.c;
	if ((c->has_emb && c->has_b64) || c->dups)
		return 1;
	if (c->has_emb || c->has_b64) {
		int rc = c->has_b64
			? pd_vec_parse_b64(c->b64_val, c->b64_len, &r->emb, &r->emb_cap, &r->dim, &err)
			: pd_vec_parse_json(c->emb_val, c->emb_len, &r->emb, &r->emb_cap, &r->dim, &err);
		if (rc < 0) {
			r->dim = 0;
			return 1;
		}
		r->emb_form = c->has_b64 ? PD_EMB_B64 : PD_EMB_JSON;
	}
	pd_jv t;
	if (!pd_jobj_get(o, "type", &t) || t.t != PD_JV_STRING || strlen(t.s) >= sizeof r->type) {
		r->dim = 0;
		return 1;
	}
	memcpy(r->type, t.s, strlen(t.s) + 1);
	return 0;
}

/* head_of: the printed record s[0..len) less its closing brace, and a comma
   when it has members: where an embedding member is appended */
static void head_of(pd_buf *out, const char *s, size_t len)
{
	pd_buf_add(out, s, len - 1);
	if (len > 2)
		pd_buf_addc(out, ',');
}

void pd_record_write_emb(pd_buf *out, const float *v, int dim, int form)
{
	if (form == PD_EMB_JSON) {
		pd_buf_adds(out, "\"embedding\":");
		pd_vec_add_json(out, v, dim);
	} else {
		pd_buf_adds(out, "\"embedding_b64\":\"");
		pd_vec_add_b64(out, v, dim);
		pd_buf_addc(out, '"');
	}
	pd_buf_adds(out, "}\n");
}

void pd_record_write(const pd_record *r, pd_buf *out, int emb_form)
{
	if (!r->modified && r->raw) {
		pd_buf_add(out, r->raw, r->rawlen);
		pd_buf_addc(out, '\n');
		return;
	}
	char *s = cJSON_PrintUnformatted(r->json);
	if (!s)
		abort();	/* cJSON fails only on allocation */
	size_t len = strlen(s);
	if (r->dim > 0) {
		int form = emb_form != PD_EMB_NONE ? emb_form : r->emb_form;
		if (form == PD_EMB_NONE)
			form = PD_EMB_B64;
		head_of(out, s, len);
		pd_record_write_emb(out, r->emb, r->dim, form);
	} else {
		pd_buf_add(out, s, len);
		pd_buf_addc(out, '\n');
	}
	cJSON_free(s);
}

/* ---- the form cJSON writes (pd_record_cjson_form) ---- */

/* cjson_string: s[i] == '"'; the index past the string when cJSON would
   write its value as these bytes (bytes below 0x20, '"' and '\\' escaped,
   \b \f \n \r \t short, the rest as \u00xx), else 0 */
static size_t cjson_string(const char *s, size_t n, size_t i)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	for (i++; i < n; i++) {
		/* eight bytes at a time while none is '"', '\\' or below 0x20
		   (the tests for a zero byte and for a byte below n, exact for
		   whether there is one) */
		while (n - i >= 8) {
			uint64_t x, q, b;
			memcpy(&x, s + i, 8);
			q = x ^ (ones * '"');
			b = x ^ (ones * '\\');
			if (((x - ones * 0x20) & ~x & high) | ((q - ones) & ~q & high) |
			    ((b - ones) & ~b & high))
				break;
			i += 8;
		}
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			return i + 1;
		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (++i >= n)
			return 0;
		switch (s[i]) {
		case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
			break;
		case 'u': {
			if (n - i < 5 || s[i + 1] != '0' || s[i + 2] != '0')
				return 0;
			char hi = s[i + 3], lo = s[i + 4];
			int v;
			if (hi != '0' && hi != '1')
				return 0;
			if (lo >= '0' && lo <= '9')
				v = lo - '0';
			else if (lo >= 'a' && lo <= 'f')
				v = lo - 'a' + 10;
			else
				return 0;
			v += (hi - '0') * 16;
			/* NUL ends cJSON's string; these five have short escapes */
			if (v == 0 || v == '\b' || v == '\t' || v == '\n' || v == '\f' || v == '\r')
				return 0;
			i += 4;
			break;
		}
		default:
			return 0;
		}
	}
	return 0;
}

/* cjson_number: 1 when cJSON prints the value of number token t[0..n) as
   these bytes (cJSON's own printer decides, but for small integers) */
static int cjson_number(const char *t, size_t n)
{
	size_t i = t[0] == '-', k = i;
	while (k < n && t[k] >= '0' && t[k] <= '9')
		k++;
	if (k == n && n - i >= 1 && n - i <= 9) {
		/* an int: printed with %d ("-0" is printed as 0) */
		if (t[i] == '0')
			return n == 1;
		return 1;
	}
	if (n > 63)
		return 0;
	char z[64];
	memcpy(z, t, n);
	z[n] = '\0';
	char *end;
	double d = strtod(z, &end);
	if (end != z + n)
		return 0;
	cJSON item;
	memset(&item, 0, sizeof item);
	item.type = cJSON_Number;
	cJSON_SetNumberHelper(&item, d);
	char out[96];
	if (!cJSON_PrintPreallocated(&item, out, (int)sizeof out, 0))
		return 0;
	return strlen(out) == n && memcmp(out, t, n) == 0;
}

int pd_record_cjson_form(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		char c = s[i];
		if (c == '"') {
			i = cjson_string(s, n, i);
			if (!i)
				return 0;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t e = i + 1;
			while (e < n && ((s[e] >= '0' && s[e] <= '9') || s[e] == '.' || s[e] == 'e' ||
					 s[e] == 'E' || s[e] == '+' || s[e] == '-'))
				e++;
			if (!cjson_number(s + i, e - i))
				return 0;
			i = e;
		} else if (c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':') {
			i++;
		} else if (n - i >= 4 && (!memcmp(s + i, "true", 4) || !memcmp(s + i, "null", 4))) {
			i += 4;
		} else if (n - i >= 5 && !memcmp(s + i, "false", 5)) {
			i += 5;
		} else {
			return 0;	/* whitespace, or not JSON */
		}
	}
	return 1;
}

/* print_head: the head of a record's tree */
static void print_head(const cJSON *json, pd_buf *out)
{
	char *s = cJSON_PrintUnformatted(json);
	if (!s)
		abort();	/* cJSON fails only on allocation */
	head_of(out, s, strlen(s));
	cJSON_free(s);
}

int pd_record_write_head(const pd_record *r, pd_buf *out, pd_err *err)
{
	const char *line = r->raw;
	size_t n = r->rawlen;
	/* an embedding read in (r->dim) is a member to cut: the long way */
	if (r->dim == 0 && n >= 2 && line[0] == '{' && line[n - 1] == '}' &&
	    pd_record_cjson_form(line, n)) {
		head_of(out, line, n);
		return 0;
	}
	if (r->json) {
		print_head(r->json, out);
		return 0;
	}
	pd_record t = PD_RECORD_INIT;
	int rc = pd_record_parse(&t, line, n, err);
	if (rc == 0)
		print_head(t.json, out);
	pd_record_release(&t);
	return rc;
}

void pd_record_set_emb(pd_record *r, const float *v, int dim)
{
	if ((size_t)dim > r->emb_cap) {
		r->emb = xreallocarray(r->emb, (size_t)dim, sizeof *r->emb);
		r->emb_cap = (size_t)dim;
	}
	memcpy(r->emb, v, (size_t)dim * sizeof *v);
	r->dim = dim;
	r->modified = 1;
}

const char *pd_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double pd_json_num(const cJSON *o, const char *key, double fallback)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : fallback;
}

void pd_json_set(cJSON *o, const char *key, cJSON *v)
{
	if (cJSON_GetObjectItemCaseSensitive(o, key))
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, v);
	else
		cJSON_AddItemToObject(o, key, v);
}
