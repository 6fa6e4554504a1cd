/*
 * json.h — what pd needs of JSON text beyond cJSON.
 *
 * cJSON builds a tree of every value, which is right for the small fields of
 * a record and wrong for the two things that dominate the stream's bytes:
 * records a command only passes through, and embeddings (thousands of
 * numbers).  So this module scans a record's text without building anything:
 * it finds the span of each top-level member, from which a command learns a
 * record's type, or cuts the embedding out before handing the rest to cJSON.
 * The scanner checks structure (balanced brackets, closed strings, commas and
 * colons in place) but not the grammar of scalars; cJSON or the vector codec
 * checks those when a value is actually used.
 */
#ifndef PD_JSON_H
#define PD_JSON_H
#include <stddef.h>
#include "err.h"

typedef struct pd_jmember {
	const char *key;	/* the key's bytes, between the quotes (escapes kept) */
	size_t keylen;
	const char *val;	/* the value's text, e.g. `"video"`, `[1,2]`, `12` */
	size_t vallen;
	size_t start, end;	/* the member's span in the object text, from key to value end */
} pd_jmember;

/*
 * pd_json_members: calls cb for each top-level member of the object text
 * s[0..n), in order, until cb returns nonzero (which is then returned).
 * Returns 0 when all were visited, -1 with err filled when s is not an
 * object or is malformed.
 */
int pd_json_members(const char *s, size_t n,
		    int (*cb)(const pd_jmember *m, void *ud), void *ud, pd_err *err);
/*
 * pd_json_members_strict: pd_json_members whose values are each checked to
 * be in the strict subset of pd_json_strict_value while their ends are
 * found (one walk instead of two); returns 2 at the first value outside it.
 * The values of the keys lax (may be NULL) says yes to are only skipped, as
 * pd_json_members does: a caller that checks them itself (an embedding, by
 * its codec) saves the walk.
 */
int pd_json_members_strict(const char *s, size_t n, int (*lax)(const char *key, size_t keylen),
			   int (*cb)(const pd_jmember *m, void *ud), void *ud, pd_err *err);

/*
 * pd_json_find: the value span of top-level key `key` (a plain key, no
 * escapes).  Returns 1 found, 0 absent, -1 malformed (err filled).
 */
int pd_json_find(const char *s, size_t n, const char *key,
		 const char **val, size_t *vallen, pd_err *err);

/*
 * pd_json_type: the record's "type" value copied into type (cap bytes).
 * Fast when "type" is the first member (as every pd writer puts it).  The
 * whole text is checked structurally either way, so a record passed through
 * on the strength of its type is at least well-formed JSON structure.
 * Every record has a type (DESIGN.md §2), so a record without one, or whose
 * type is not a plain string, is malformed too.  Returns 1, or -1 with err.
 */
int pd_json_type(const char *s, size_t n, char *type, size_t cap, pd_err *err);

/*
 * pd_json_skip_value: the end of the JSON value starting at s[i] (after
 * whitespace).  Returns the index just past it, or (size_t)-1 if malformed.
 */
size_t pd_json_skip_value(const char *s, size_t n, size_t i);

/*
 * Reading a record's fields without a tree.
 *
 * pd_json_strict_value: 1 if s[0..n) is exactly one JSON value in the strict
 * grammar (RFC 8259) with these further limits: no raw control characters,
 * no escaped NUL (\u0000) and no unpaired surrogate escape in strings, no
 * number longer than 63 characters, nesting at most 200 deep.  Every such
 * value is one cJSON parses, to the same value: this is the subset on which
 * a scanned record and a cJSON tree are known to agree.  0 otherwise (which
 * may still be valid JSON: the caller then asks cJSON).
 */
int pd_json_strict_value(const char *s, size_t n);

/* The value of a member as typed readers see it (video.c reads both a cJSON
 * tree and a scanned object through this). */
enum { PD_JV_ABSENT, PD_JV_NULL, PD_JV_FALSE, PD_JV_TRUE, PD_JV_NUMBER, PD_JV_STRING,
       PD_JV_ARRAY, PD_JV_OBJECT };
typedef struct pd_jv {
	int t;			/* PD_JV_* */
	const char *s;		/* PD_JV_STRING: decoded, NUL-terminated */
	double d;		/* PD_JV_NUMBER */
	const char *raw;	/* the value's text (scanned objects only) */
	size_t rawlen;
	const void *node;	/* the cJSON item (trees only) */
} pd_jv;

/*
 * pd_jobj: the top-level members of one object text, scanned (the text is
 * borrowed and must outlive the reads).  Strings are decoded on demand, once
 * per member, into an arena reserved at the text's size (the decoded text is
 * never longer), so pointers handed out stay valid until the next
 * pd_jobj_reset.  The first member of a name wins, as with
 * cJSON_GetObjectItemCaseSensitive.
 */
typedef struct pd_jobj {
	pd_jmember *m;
	const char **dec;	/* member i's string, decoded (NULL: not yet) */
	int n, cap;
	char *arena;
	size_t alen, acap;
	char **extra;		/* blocks for decodes beyond the arena (rare) */
	int nextra;
	int *chain;		/* the member before i in its key's bucket, + 1 (0: none) */
	int bucket[64];		/* the last member in each bucket of key_bucket, + 1 */
} pd_jobj;
#define PD_JOBJ_INIT { NULL, NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL, { 0 } }

/* pd_jobj_reset: empty o for a text of up to n bytes. */
void pd_jobj_reset(pd_jobj *o, size_t n);
/* pd_jobj_add: one member (its value already checked by pd_json_strict_value
   or pd_json_members_strict). */
void pd_jobj_add(pd_jobj *o, const pd_jmember *m);
/* pd_jobj_get: the first member named key (a plain key) as v; 0 when absent. */
int pd_jobj_get(pd_jobj *o, const char *key, pd_jv *v);
/* pd_jobj_peek: the same without decoding a string (v->s NULL, v->raw its
 * text): for a reader that checks the type only. */
int pd_jobj_peek(pd_jobj *o, const char *key, pd_jv *v);
/*
 * pd_jobj_strings: the elements of array value a (from pd_jobj_get) into
 * out[0..cap), decoded; returns their count, or -1 when one is not a string.
 */
int pd_jobj_strings(pd_jobj *o, const pd_jv *a, const char **out, int cap);
/* pd_jobj_count: the number of elements of array value a. */
int pd_jobj_count(const pd_jv *a);
void pd_jobj_release(pd_jobj *o);

/* pd_utf8_valid: 1 if s[0..n) is well-formed UTF-8 (no overlongs, no surrogates). */
int pd_utf8_valid(const char *s, size_t n);
/*
 * pd_utf8_decode: the code point starting at s[0] (n bytes available), its
 * byte length in *len; -1 with *len = 1 when the sequence there is malformed
 * (as pd_utf8_valid judges), so callers can skip or keep that one byte.
 */
long pd_utf8_decode(const char *s, size_t n, size_t *len);

#endif
