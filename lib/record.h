/*
 * record.h — one line of the stream: a JSON object with a "type".
 *
 * A command reads a line, asks its type (cheap: no parse), and either passes
 * the line through untouched or parses it.  Parsing splits the record in two:
 * the embedding ("embedding" array or "embedding_b64" string) is decoded by
 * the vector codec into floats, and the rest, small, goes to cJSON.  Writing a
 * record back joins them again, the embedding in the form the command asks.
 * An untouched record is written as the very bytes it was read as.
 *
 * Ownership: a pd_record owns its cJSON tree and its float buffer; `raw`
 * borrows the input line and is only valid until the next line is read.
 * Parsing into the same record again reuses the float buffer;
 * pd_record_release frees everything and leaves it as PD_RECORD_INIT.
 */
#ifndef PD_RECORD_H
#define PD_RECORD_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "buf.h"
#include "err.h"

enum pd_emb_form { PD_EMB_NONE = 0, PD_EMB_JSON = 1, PD_EMB_B64 = 2 };

typedef struct pd_record {
	const char *raw;	/* the line as read, borrowed */
	size_t rawlen;
	char type[32];
	cJSON *json;		/* the object less its embedding member */
	float *emb;		/* embedding, dim floats (dim 0: none) */
	size_t emb_cap;
	int dim;
	int emb_form;		/* the form it was read in */
	int modified;		/* set by whoever changes json/emb: write from them */
} pd_record;

#define PD_RECORD_INIT { NULL, 0, "", NULL, NULL, 0, 0, 0, 0 }

/*
 * pd_record_parse: parse line[0..n) into r (any previous content released,
 * the float buffer reused).  Checks: valid UTF-8, a JSON object, a string
 * "type", a well-formed finite embedding when present, not both forms.
 * Returns 0, or -1 with err (PD_EREC) saying what is wrong.
 */
int pd_record_parse(pd_record *r, const char *line, size_t n, pd_err *err);

/*
 * pd_record_scan: pd_record_parse without the cJSON tree, for a reader that
 * needs a few fields (read through o, json.h: pd_jobj_get, or
 * pd_video_from_jobj): the same checks, the embedding decoded into r, every
 * other member's value checked to lie in the strict subset on which the scan
 * and cJSON agree (pd_json_strict_value).  Returns 0 when the record is one
 * pd_record_parse accepts, with the same type, embedding and field values
 * (r->json stays NULL; o borrows line); 1 when the scan does not decide (an
 * error, or text outside the subset): pd_record_parse then accepts or
 * rejects it with its message.
 */
struct pd_jobj;
int pd_record_scan(pd_record *r, struct pd_jobj *o, const char *line, size_t n);

/*
 * pd_record_write: the record as one line with '\n' appended to out: the raw
 * bytes when unmodified, else the JSON with the embedding (if any) added as
 * `emb_form` (PD_EMB_B64 or PD_EMB_JSON; PD_EMB_NONE keeps the input's form).
 */
void pd_record_write(const pd_record *r, pd_buf *out, int emb_form);

/*
 * Writing a record with an embedding set, in two halves, for a writer that
 * keeps a record's text between reading it and knowing its embedding
 * (pd-embed): pd_record_write_head + pd_record_write_emb give the very bytes
 * that pd_record_parse, pd_record_set_emb and pd_record_write would.
 *
 * pd_record_write_head: for r, a record as pd_record_parse or pd_record_scan
 * left it (r->raw still valid), what pd_record_write writes once an
 * embedding is set, up to where the embedding member begins (the record
 * less its embedding member and closing brace, and a comma when members
 * remain), appended to out.  When the line has no embedding and is already
 * as cJSON writes it, that is the line itself and no tree is built; else
 * r's tree (parsed from the line when r was only scanned) is printed.
 * Returns 0, or -1 with err when a scanned line does not parse (cannot
 * happen for a line pd_record_scan decided).  Thread-safe.
 */
int pd_record_write_head(const pd_record *r, pd_buf *out, pd_err *err);
/* pd_record_write_emb: the embedding member v[0..dim) as `form` (PD_EMB_B64
 * or PD_EMB_JSON), the closing brace and '\n', appended to out. */
void pd_record_write_emb(pd_buf *out, const float *v, int dim, int form);
/*
 * pd_record_cjson_form: 1 when the JSON text s[0..n) (a value cJSON parses)
 * is byte for byte what cJSON_PrintUnformatted writes of it: no whitespace
 * between tokens, strings escaped only as cJSON escapes them, numbers as
 * cJSON prints their value.  0 when it is not, or when this does not decide.
 */
int pd_record_cjson_form(const char *s, size_t n);

/* pd_record_set_emb: copy v[0..dim) in as the embedding; marks modified. */
void pd_record_set_emb(pd_record *r, const float *v, int dim);

void pd_record_release(pd_record *r);
/* pd_record_thread_release: frees this thread's parse scratch buffer (a
 * thread that parsed records calls it before it ends). */
void pd_record_thread_release(void);

/* Typed access to r->json members (NULL / fallback when absent or mistyped). */
const char *pd_json_str(const cJSON *o, const char *key);
double pd_json_num(const cJSON *o, const char *key, double fallback);
/* pd_json_set: replace or add member key of o with v (v is consumed). */
void pd_json_set(cJSON *o, const char *key, cJSON *v);

#endif
