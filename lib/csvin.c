/*
 * csvin.c — CSV rows to video records; see csvin.h.
 */
#include "csvin.h"
#include "alloc.h"
#include "json.h"
#include "timeutil.h"
#include "video.h"
#include <csv.h>
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum field {
	F_ID, F_CHANNEL_ID, F_CHANNEL_TITLE, F_TITLE, F_DESCRIPTION, F_TAGS, F_CATEGORY,
	F_CATEGORY_ID, F_FORMAT, F_PUBLISHED_AT, F_OBSERVED_AT, F_TRENDING_DATE, F_DURATION_S,
	F_DURATION_ISO, F_VIEWS, F_LIKES, F_COMMENTS, F_PERF, F_NFIELDS
};

static const char *const field_names[F_NFIELDS] = {
	"id", "channel_id", "channel_title", "title", "description", "tags", "category",
	"category_id", "format", "published_at", "observed_at", "trending_date", "duration_s",
	"duration_iso", "views", "likes", "comments", "perf"
};

/* recognised header names per field, case-insensitive, first match wins */
static const char *const aliases[F_NFIELDS][5] = {
	[F_ID] = { "video_id", "id", "videoid", NULL },
	[F_CHANNEL_ID] = { "channel_id", "channelid", NULL },
	[F_CHANNEL_TITLE] = { "channel_title", "channeltitle", "channel", NULL },
	[F_TITLE] = { "title", NULL },
	[F_DESCRIPTION] = { "description", NULL },
	[F_TAGS] = { "tags", NULL },
	[F_CATEGORY] = { "category_name", "category", NULL },
	[F_CATEGORY_ID] = { "category_id", "categoryid", NULL },
	[F_FORMAT] = { "format", NULL },
	[F_PUBLISHED_AT] = { "published_at", "publishedat", "publish_time", "publish_date", NULL },
	[F_OBSERVED_AT] = { "observed_at", "observedat", NULL },
	[F_TRENDING_DATE] = { "trending_date", NULL },
	[F_DURATION_S] = { "duration_s", "duration_seconds", NULL },
	[F_DURATION_ISO] = { "duration_iso", "duration", NULL },
	[F_VIEWS] = { "view_count", "views", "viewcount", NULL },
	[F_LIKES] = { "like_count", "likes", "likecount", NULL },
	[F_COMMENTS] = { "comment_count", "comments", "commentcount", NULL },
	[F_PERF] = { "perf", NULL },
};

#define CSV_BLK (64u << 10)	/* the least a field buffer grows by */

/* A line held by the reader: its text is held.p[off, off + len). */
typedef struct held_line {
	size_t off, len;
	long lineno;
} held_line;

struct pd_csv {
	struct csv_parser p;
	char *map[F_NFIELDS];		/* --map column names */
	int col[F_NFIELDS];		/* column index per field, -1 none */
	int *is_known;			/* per column: used by a field */
	char **header;
	int ncols;
	int have_header;
	/* the row being parsed */
	pd_buf *fields;			/* field texts */
	size_t *flen;
	int nf, fcap;
	int row_done;
	/*
	 * The lines held: [0, nfed) are the row being parsed (fed to the
	 * parser), [nfed, nheld) wait to be read (again, after a resync).
	 * [0, consumed) are done with and dropped at the next call.
	 */
	pd_buf held;
	held_line *hl;
	int nheld, cheld, nfed, consumed;
	int cur;			/* the held line being fed */
	int field_line;			/* the held line where the open field began */
	int bad_close;			/* a quote closing a field of an earlier line
					   was followed by text (set by feed_line) */
	int at_end;			/* pd_csv_finish was called */
	/* the row just completed or rejected */
	pd_buf raw;
	long row_line;
	/* scratch of the record writer: tags (NUL-separated) and "extra" */
	pd_buf tagtext, extra;
	const char **tagp;
	size_t tagcap;
	/* a second parser, to read a line alone (looks_like_row) */
	pd_csv *probe;
	pd_buf probe_json;
};

const char *pd_csv_fields(void)
{
	return "id,channel_id,channel_title,title,description,tags,category,category_id,format,"
	       "published_at,observed_at,trending_date,duration_s,duration_iso,views,likes,comments,perf";
}

static void cb_field(void *s, size_t len, void *ud)
{
	pd_csv *c = ud;
	if (c->nf == c->fcap) {
		int nc = c->fcap ? c->fcap * 2 : 32;
		c->fields = xreallocarray(c->fields, (size_t)nc, sizeof *c->fields);
		for (int i = c->fcap; i < nc; i++)
			c->fields[i] = (pd_buf)PD_BUF_INIT;
		c->flen = xreallocarray(c->flen, (size_t)nc, sizeof *c->flen);
		c->fcap = nc;
	}
	pd_buf_reset(&c->fields[c->nf]);
	pd_buf_add(&c->fields[c->nf], s ? s : "", s ? len : 0);
	c->flen[c->nf] = s ? len : 0;
	c->nf++;
	c->field_line = c->cur;	/* the next field begins on this line */
}

static void cb_row(int ch, void *ud)
{
	pd_csv *c = ud;
	c->row_done = 1;
}

/* libcsv trims spaces around unquoted fields by default; we keep every byte */
static int no_space(unsigned char c)
{
	return 0;
}

/*
 * parser_init: libcsv in strict mode, which stops at a quote that is not
 * where RFC 4180 allows one; feed_line notes the case that matters and goes
 * on past it as the lenient parser would.
 */
static void parser_init(struct csv_parser *p)
{
	csv_init(p, CSV_STRICT | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
	csv_set_realloc_func(p, xrealloc);
	csv_set_space_func(p, no_space);
}

pd_csv *pd_csv_new(void)
{
	pd_csv *c = xcalloc(1, sizeof *c);
	parser_init(&c->p);
	for (int f = 0; f < F_NFIELDS; f++)
		c->col[f] = -1;
	return c;
}

static void drop_header(pd_csv *c)
{
	for (int i = 0; i < c->ncols; i++)
		free(c->header[i]);
	free(c->header);
	free(c->is_known);
	c->header = NULL;
	c->is_known = NULL;
	c->ncols = 0;
	c->have_header = 0;
}

void pd_csv_reset(pd_csv *c)
{
	csv_fini(&c->p, NULL, NULL, NULL);
	csv_free(&c->p);
	parser_init(&c->p);
	drop_header(c);
	c->nf = 0;
	c->row_done = 0;
	pd_buf_reset(&c->raw);
	pd_buf_reset(&c->held);
	c->nheld = c->nfed = c->consumed = 0;
	c->at_end = 0;
	for (int f = 0; f < F_NFIELDS; f++)
		c->col[f] = -1;
}

void pd_csv_free(pd_csv *c)
{
	if (!c)
		return;
	pd_csv_reset(c);
	csv_free(&c->p);
	for (int i = 0; i < c->fcap; i++)
		pd_buf_release(&c->fields[i]);
	free(c->fields);
	free(c->flen);
	for (int f = 0; f < F_NFIELDS; f++)
		free(c->map[f]);
	pd_buf_release(&c->raw);
	pd_buf_release(&c->held);
	free(c->hl);
	pd_csv_free(c->probe);
	pd_buf_release(&c->probe_json);
	pd_buf_release(&c->tagtext);
	pd_buf_release(&c->extra);
	free(c->tagp);
	free(c);
}

/* field_index: the field named name[0, n), or -1 */
static int field_index(const char *name, size_t n)
{
	for (int f = 0; f < F_NFIELDS; f++)
		if (strlen(field_names[f]) == n && !strncmp(field_names[f], name, n))
			return f;
	return -1;
}

int pd_csv_map(pd_csv *c, const char *spec, pd_err *err)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec || !eq[1])
		return pd_err_set(err, PD_EUSAGE, "--map takes FIELD=COLUMN, not '%s'", spec);
	int f = field_index(spec, (size_t)(eq - spec));
	if (f >= 0) {
		free(c->map[f]);
		c->map[f] = xstrdup(eq + 1);
		return 0;
	}
	return pd_err_set(err, PD_EUSAGE, "--map: unknown field '%.*s' (fields: %s)",
			  (int)(eq - spec), spec, pd_csv_fields());
}

static int set_header(pd_csv *c, pd_err *err)
{
	drop_header(c);
	c->ncols = c->nf;
	c->header = xcalloc((size_t)c->nf + 1, sizeof *c->header);
	c->is_known = xcalloc((size_t)c->nf + 1, sizeof *c->is_known);
	for (int i = 0; i < c->nf; i++) {
		const char *h = c->fields[i].p ? c->fields[i].p : "";
		/* a UTF-8 byte order mark before the first name */
		if (i == 0 && !strncmp(h, "\xEF\xBB\xBF", 3))
			h += 3;
		c->header[i] = xstrdup(h);
	}
	for (int f = 0; f < F_NFIELDS; f++) {
		c->col[f] = -1;
		if (c->map[f]) {
			for (int i = 0; i < c->ncols; i++)
				if (!strcmp(c->header[i], c->map[f]))
					c->col[f] = i;
			if (c->col[f] < 0)
				return pd_err_set(err, PD_EUSAGE, "--map %s=%s: no column '%s' in the header",
						  field_names[f], c->map[f], c->map[f]);
			continue;
		}
		for (int a = 0; a < 5 && aliases[f][a] && c->col[f] < 0; a++)
			for (int i = 0; i < c->ncols; i++)
				if (!strcasecmp(c->header[i], aliases[f][a])) {
					c->col[f] = i;
					break;
				}
	}
	for (int f = 0; f < F_NFIELDS; f++)
		if (c->col[f] >= 0)
			c->is_known[c->col[f]] = 1;
	/* a video is its id and its title: the text every later stage reads */
	if (pd_csv_check_header(c, "id,title", err) < 0)
		return -1;
	c->have_header = 1;
	return 0;
}

/* add_accepted: "title column (accepted: title)"; with --map, the column it named */
static void add_accepted(pd_buf *b, const pd_csv *c, int f)
{
	pd_buf_printf(b, "%s column", field_names[f]);
	if (c->map[f]) {
		pd_buf_printf(b, " (--map %s=%s)", field_names[f], c->map[f]);
		return;
	}
	pd_buf_adds(b, " (accepted: ");
	for (int a = 0; a < 5 && aliases[f][a]; a++)
		pd_buf_printf(b, "%s%s", a ? ", " : "", aliases[f][a]);
	pd_buf_addc(b, ')');
}

int pd_csv_check_header(const pd_csv *c, const char *fields, pd_err *err)
{
	pd_buf b = PD_BUF_INIT;
	int missing = 0, last = -1;
	for (const char *s = fields; *s;) {
		size_t n = strcspn(s, ",");
		/* a group "a|b": either field will do */
		int found = 0, nalt = 0, alt[4];
		for (const char *t = s; t < s + n && nalt < 4;) {
			size_t m = strcspn(t, "|,");
			int f = field_index(t, m);
			if (f >= 0) {
				alt[nalt++] = f;
				found |= c->col[f] >= 0;
			}
			t += m + (t[m] == '|');
		}
		if (!found && nalt) {
			pd_buf_adds(&b, missing++ ? ", no " : "no ");
			for (int k = 0; k < nalt; k++) {
				pd_buf_adds(&b, k ? " or " : "");
				add_accepted(&b, c, alt[k]);
			}
			last = nalt == 1 ? alt[0] : -1;
		}
		s += n + (s[n] == ',');
	}
	if (!missing) {
		pd_buf_release(&b);
		return 0;
	}
	pd_buf_adds(&b, "; its columns: ");
	for (int i = 0; i < c->ncols; i++) {
		if (b.len > 360) {
			pd_buf_printf(&b, " and %d more", c->ncols - i);
			break;
		}
		pd_buf_printf(&b, "%s'%.40s'", i ? ", " : "", c->header[i]);
	}
	pd_err_set(err, PD_EUSAGE, "the header has %s; --map %s=COLUMN names another", b.p,
		   missing == 1 && last >= 0 ? field_names[last] : "FIELD");
	pd_buf_release(&b);
	return -1;
}

static const char *fv(const pd_csv *c, int f)
{
	int i = c->col[f];
	if (i < 0 || i >= c->nf)
		return NULL;
	const char *s = c->fields[i].p;
	return s && *s ? s : NULL;
}

/* a count: digits, optionally ".0..."; NAN if empty; -1 on garbage or over 9e15 */
static int parse_count(const char *s, double *out)
{
	*out = NAN;
	if (!s)
		return 0;
	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	char *end;
	if (!isdigit((unsigned char)*s))
		return -1;
	double v = strtod(s, &end);
	while (*end == ' ')
		end++;
	if (*end || !isfinite(v) || v < 0 || v > 9e15)	/* as lib/video.c's counts */
		return -1;
	*out = v;
	return 0;
}

/* classic exports' trending_date "17.14.11" is yy.dd.mm */
static int parse_trending_date(const char *s, double *t)
{
	int yy, dd, mm;
	char tail;
	if (sscanf(s, "%2d.%2d.%2d%c", &yy, &dd, &mm, &tail) != 3)
		return pd_time_parse(s, t);
	if (mm < 1 || mm > 12 || dd < 1 || dd > 31)
		return -1;
	*t = (double)pd_days_from_civil(2000 + yy, (unsigned)mm, (unsigned)dd) * 86400.0;
	return 0;
}

/* add_tags: the tags of an export's "a|b|c" into v (c->tagtext holds them) */
static void add_tags(pd_csv *c, pd_video *v, const char *s, int classic)
{
	pd_buf_reset(&c->tagtext);
	int n = 0;
	while (s && *s) {
		const char *bar = strchr(s, '|');
		size_t len = bar ? (size_t)(bar - s) : strlen(s);
		const char *t = s;
		/* classic exports (with trending_date) quote each tag: "tag1"|"tag2",
		 * and "[none]" means none.  Otherwise a tag is kept as the export has it. */
		if (classic && len >= 2 && t[0] == '"' && t[len - 1] == '"')
			t++, len -= 2;
		if (len && !(classic && len == 6 && !memcmp(t, "[none]", 6))) {
			pd_buf_add(&c->tagtext, t, len);
			pd_buf_addc(&c->tagtext, 0);
			n++;
		}
		s = bar ? bar + 1 : NULL;
	}
	if ((size_t)n >= c->tagcap) {
		c->tagcap = (size_t)n + 16;
		c->tagp = xreallocarray(c->tagp, c->tagcap, sizeof *c->tagp);
	}
	const char *t = c->tagtext.p;
	for (int i = 0; i < n; i++, t += strlen(t) + 1)
		c->tagp[i] = t;
	v->tags = c->tagp;
	v->ntags = n;
}

static int convert(pd_csv *c, pd_buf *json, pd_csv_row *row, pd_err *err)
{
	if (c->nf != c->ncols)
		return pd_err_set(err, PD_EREC, "row has %d fields, the header has %d", c->nf, c->ncols);
	for (int i = 0; i < c->nf; i++)
		if (c->fields[i].p && !pd_utf8_valid(c->fields[i].p, c->flen[i]))
			return pd_err_set(err, PD_EREC, "invalid UTF-8 in column '%s'", c->header[i]);
	const char *id = fv(c, F_ID);
	if (!id)
		return pd_err_set(err, PD_EREC, "empty video id");
	double views, likes, comments, dur = NAN, pub = NAN, obs = NAN, perf = NAN;
	const char *s;
	if (parse_count(fv(c, F_VIEWS), &views) < 0)
		return pd_err_set(err, PD_EREC, "views is not a count: '%.40s'", fv(c, F_VIEWS));
	if (parse_count(fv(c, F_LIKES), &likes) < 0)
		return pd_err_set(err, PD_EREC, "likes is not a count: '%.40s'", fv(c, F_LIKES));
	if (parse_count(fv(c, F_COMMENTS), &comments) < 0)
		return pd_err_set(err, PD_EREC, "comments is not a count: '%.40s'", fv(c, F_COMMENTS));
	if ((s = fv(c, F_PERF)) && parse_count(s, &perf) < 0)
		return pd_err_set(err, PD_EREC, "perf is not a number: '%.40s'", s);
	if ((s = fv(c, F_DURATION_S))) {
		if (parse_count(s, &dur) < 0)
			return pd_err_set(err, PD_EREC, "duration_s is not a number: '%.40s'", s);
	} else if ((s = fv(c, F_DURATION_ISO))) {
		if (pd_duration_parse(s, &dur) < 0)
			return pd_err_set(err, PD_EREC, "duration is not ISO 8601: '%.40s'", s);
	}
	if ((s = fv(c, F_PUBLISHED_AT)) && pd_time_parse(s, &pub) < 0)
		return pd_err_set(err, PD_EREC, "published_at is not a date: '%.40s'", s);
	if ((s = fv(c, F_OBSERVED_AT))) {
		if (pd_time_parse(s, &obs) < 0)
			return pd_err_set(err, PD_EREC, "observed_at is not a date: '%.40s'", s);
	} else if ((s = fv(c, F_TRENDING_DATE))) {
		if (parse_trending_date(s, &obs) < 0)
			return pd_err_set(err, PD_EREC, "trending_date is not a date: '%.40s'", s);
	}
	if (!isnan(pub) && !isnan(obs) && obs < pub - 86400)
		return pd_err_set(err, PD_EREC, "observed before it was published");

	pd_video v;
	pd_video_init(&v);
	v.id = id;
	v.channel_id = fv(c, F_CHANNEL_ID);
	v.channel_title = fv(c, F_CHANNEL_TITLE);
	v.title = fv(c, F_TITLE);
	v.description = fv(c, F_DESCRIPTION);
	add_tags(c, &v, fv(c, F_TAGS), c->col[F_TRENDING_DATE] >= 0);
	const char *cat = fv(c, F_CATEGORY), *catid = fv(c, F_CATEGORY_ID);
	if (!cat && catid)
		cat = pd_category_name(atoi(catid));
	v.category = cat;
	v.category_id = catid;
	v.format = fv(c, F_FORMAT);
	v.published_at = pub;
	v.observed_at = obs;
	v.duration_s = dur;
	v.views = views;
	v.likes = likes;
	v.comments = comments;
	v.is_short = isnan(dur) ? -1 : dur > 0 && dur <= 60;
	v.fields = PD_VF_CHANNEL_ID | PD_VF_CHANNEL_TITLE | PD_VF_TITLE | PD_VF_DESCRIPTION |
		   PD_VF_TAGS | PD_VF_CATEGORY | PD_VF_PUBLISHED_AT | PD_VF_OBSERVED_AT |
		   PD_VF_DURATION_S | PD_VF_VIEWS | PD_VF_LIKES | PD_VF_COMMENTS | PD_VF_IS_SHORT |
		   (catid ? PD_VF_CATEGORY_ID : 0) | (v.format ? PD_VF_FORMAT : 0);
	/* every other column, so nothing is lost */
	pd_buf *x = &c->extra;
	pd_buf_reset(x);
	for (int i = 0; i < c->ncols; i++) {
		if (c->is_known[i] || !c->fields[i].p || !c->fields[i].p[0])
			continue;
		pd_buf_addc(x, x->len ? ',' : '{');
		pd_buf_add_json_string(x, c->header[i], strlen(c->header[i]));
		pd_buf_addc(x, ':');
		pd_buf_add_json_string(x, c->fields[i].p, c->flen[i]);
	}
	if (x->len) {
		pd_buf_addc(x, '}');
		v.extra = x->p;
		v.extra_len = x->len;
	}
	pd_buf_reset(json);
	pd_video_write_head(json, &v);

	row->id = id;
	row->channel = fv(c, F_CHANNEL_ID) ? fv(c, F_CHANNEL_ID) : fv(c, F_CHANNEL_TITLE);
	row->views = views;
	row->published_at = pub;
	row->observed_at = obs;
	row->perf_in = perf;
	return 0;
}

/*
 * Reading rows from lines.
 *
 * Lines are held (c->hl) until the row they belong to is complete, so that a
 * row whose quoted field does not close where it should can be cut short and
 * the lines after it read again.  A quoted field that spans lines is normal
 * (titles with line breaks); one that does not close is a stray quote, and
 * libcsv would go on swallowing rows until the next quote anywhere.  So an
 * open quoted field ends the row at the line where the field began (the row
 * is rejected, reported at that line) and reading resumes on the next line
 * when, reading on:
 *   - the next line, read alone, is a whole valid row of its own (as many
 *     fields as the header, a video id without spaces, every checked field
 *     valid): a line of a real multi-line title is not;
 *   - a quote closes the field and is followed by text rather than a comma
 *     or the line's end (it was the opening quote of a later field);
 *   - the field is still open after 1000 lines or 1 MiB, or at the end of
 *     the file.
 * man/pd-fetch.1 ("Quotes that do not close") says the same to users.
 */

#define ROW_MAX_LINES 1000
#define ROW_MAX_BYTES (1u << 20)

/* parser_restart: the parser at the start of a row, its buffer kept */
static void parser_restart(pd_csv *c)
{
	csv_fini(&c->p, NULL, NULL, NULL);
}

/*
 * feed_line: held line i (and its line break) to the parser.  libcsv's
 * strict mode stops before a quote in an unquoted field (kept as text, as
 * RFC 4180 readers commonly do) and before text after a closing quote: when
 * that quote closes a field begun on an earlier line, c->bad_close is set and
 * the line is not read further (the row will be cut); on the field's own
 * line the quote is kept as text, as the lenient parser does.  Returns 0, or
 * -1 when libcsv fails otherwise (never in practice: memory is checked by
 * xrealloc).
 */
static int feed_line(pd_csv *c, int i)
{
	const char *s = c->held.p + c->hl[i].off;
	size_t n = c->hl[i].len, at = 0;
	c->cur = i;
	csv_set_blk_size(&c->p, n + 2 > CSV_BLK ? n + 2 : CSV_BLK);
	while (at < n) {
		at += csv_parse(&c->p, s + at, n - at, cb_field, cb_row, c);
		if (at == n)
			break;
		if (csv_error(&c->p) != CSV_EPARSE)
			return -1;
		if (s[at] != '"' && c->field_line < i) {
			c->bad_close = 1;
			return 0;
		}
		/* the character as the lenient parser takes it, then strict again */
		c->p.status = 0;	/* csv.h's struct is public; libcsv has no reset */
		csv_set_opts(&c->p, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
		at += csv_parse(&c->p, s + at, 1, cb_field, cb_row, c);
		csv_set_opts(&c->p, CSV_STRICT | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
	}
	return csv_parse(&c->p, "\n", 1, cb_field, cb_row, c) == 1 ? 0 : -1;
}

/* take_raw: held lines [0, n) become the raw text (and line) of the current result */
static void take_raw(pd_csv *c, int n)
{
	pd_buf_reset(&c->raw);
	for (int i = 0; i < n; i++) {
		if (i)
			pd_buf_addc(&c->raw, '\n');
		pd_buf_add(&c->raw, c->held.p + c->hl[i].off, c->hl[i].len);
	}
	c->row_line = c->hl[0].lineno;
}

/* drop_consumed: forget held lines [0, consumed) */
static void drop_consumed(pd_csv *c)
{
	int k = c->consumed;
	if (k == 0)
		return;
	c->consumed = 0;
	if (k >= c->nheld) {
		c->nheld = 0;
		pd_buf_reset(&c->held);
		return;
	}
	size_t off = c->hl[k].off;
	memmove(c->held.p, c->held.p + off, c->held.len - off);
	c->held.len -= off;
	c->held.p[c->held.len] = '\0';
	for (int i = k; i < c->nheld; i++) {
		c->hl[i - k] = c->hl[i];
		c->hl[i - k].off -= off;
	}
	c->nheld -= k;
}

/*
 * looks_like_row: is held line i, read alone, a whole valid row of its own?
 * Read by a second parser that borrows the header, and checked as convert
 * checks a row; its video id must not contain spaces either.
 */
static int looks_like_row(pd_csv *c, int i)
{
	if (!c->have_header)
		return 0;
	if (!c->probe) {
		c->probe = pd_csv_new();
		csv_set_opts(&c->probe->p, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
	}
	pd_csv *pr = c->probe;
	const char *s = c->held.p + c->hl[i].off;
	size_t n = c->hl[i].len;
	pr->nf = 0;
	pr->row_done = 0;
	csv_set_blk_size(&pr->p, n + 2 > CSV_BLK ? n + 2 : CSV_BLK);
	csv_parse(&pr->p, s, n, cb_field, cb_row, pr);
	csv_parse(&pr->p, "\n", 1, cb_field, cb_row, pr);
	int whole = pr->row_done && pr->nf == c->ncols;
	parser_restart(pr);
	if (!whole)
		return 0;
	pr->ncols = c->ncols;
	pr->header = c->header;
	pr->is_known = c->is_known;
	memcpy(pr->col, c->col, sizeof pr->col);
	pd_csv_row row;
	int ok = convert(pr, &c->probe_json, &row, NULL) == 0 && !strpbrk(row.id, " \t");
	pr->header = NULL;
	pr->is_known = NULL;
	pr->ncols = 0;
	return ok;
}

/*
 * cut: the row's quoted field does not close (why says how we know).  Held
 * lines [0, field_line] are the rejected row, reported at field_line (where
 * the quote opened); the lines after it are read again.
 */
static int cut(pd_csv *c, const char *why, pd_err *err)
{
	int q = c->field_line;
	char col[64];
	if (c->have_header && c->nf < c->ncols)
		snprintf(col, sizeof col, "column '%.40s'", c->header[c->nf]);
	else
		snprintf(col, sizeof col, "field %d", c->nf + 1);
	take_raw(c, q + 1);
	long start = c->row_line;
	c->row_line = c->hl[q].lineno;
	parser_restart(c);
	c->consumed = q + 1;
	c->nfed = 0;
	if (start != c->row_line)
		return pd_err_set(err, PD_EREC, "unterminated quoted field in %s (%s; the row began "
				  "on line %ld)", col, why, start);
	return pd_err_set(err, PD_EREC, "unterminated quoted field in %s (%s)", col, why);
}

/* next_result: the next row of the held lines; see pd_csv_next */
static int next_result(pd_csv *c, pd_buf *json, pd_csv_row *row, pd_err *err)
{
	char why[64];
	drop_consumed(c);
	for (;;) {
		if (c->nfed == c->nheld) {
			if (c->at_end && c->nfed > 0)
				return cut(c, "no closing quote before the end of the file", err);
			return 0;
		}
		int i = c->nfed;
		if (i == 0) {
			if (c->hl[0].len == 0) {	/* a blank line between rows */
				c->consumed = 1;
				drop_consumed(c);
				continue;
			}
			c->nf = 0;
			c->row_done = 0;
			c->field_line = 0;
		} else if (looks_like_row(c, i)) {
			snprintf(why, sizeof why, "line %ld is a row of its own", c->hl[i].lineno);
			return cut(c, why, err);
		}
		c->bad_close = 0;
		if (feed_line(c, i) < 0) {
			int e = csv_error(&c->p);
			take_raw(c, i + 1);
			parser_restart(c);
			c->consumed = i + 1;
			c->nfed = 0;
			return pd_err_set(err, PD_EREC, "malformed CSV: %s", csv_strerror(e));
		}
		if (c->bad_close) {
			snprintf(why, sizeof why, "a quote on line %ld is followed by text",
				 c->hl[i].lineno);
			return cut(c, why, err);
		}
		c->nfed++;
		if (!c->row_done) {
			/* inside a quoted field */
			size_t bytes = c->hl[i].off + c->hl[i].len - c->hl[0].off;
			if (c->nfed >= ROW_MAX_LINES || bytes > ROW_MAX_BYTES)
				return cut(c, "still open after 1000 lines or 1 MiB", err);
			continue;
		}
		take_raw(c, c->nfed);
		c->consumed = c->nfed;
		c->nfed = 0;
		if (!c->have_header)
			return set_header(c, err) < 0 ? -1 : 2;
		return convert(c, json, row, err) < 0 ? -1 : 1;
	}
}

int pd_csv_feed(pd_csv *c, const char *line, size_t len, long lineno, pd_buf *json,
		pd_csv_row *row, pd_err *err)
{
	drop_consumed(c);
	if (c->nheld == c->cheld) {
		c->cheld = c->cheld ? c->cheld * 2 : 16;
		c->hl = xreallocarray(c->hl, (size_t)c->cheld, sizeof *c->hl);
	}
	c->hl[c->nheld].off = c->held.len;
	c->hl[c->nheld].len = len;
	c->hl[c->nheld].lineno = lineno;
	c->nheld++;
	pd_buf_add(&c->held, line, len);
	return next_result(c, json, row, err);
}

int pd_csv_next(pd_csv *c, pd_buf *json, pd_csv_row *row, pd_err *err)
{
	return next_result(c, json, row, err);
}

int pd_csv_finish(pd_csv *c, pd_buf *json, pd_csv_row *row, pd_err *err)
{
	c->at_end = 1;
	return next_result(c, json, row, err);
}

const char *pd_csv_raw(const pd_csv *c, size_t *len)
{
	*len = c->raw.len;
	return c->raw.p ? c->raw.p : "";
}

long pd_csv_row_line(const pd_csv *c)
{
	return c->row_line;
}

const char *pd_category_name(int id)
{
	switch (id) {
	case 1: return "Film & Animation";
	case 2: return "Autos & Vehicles";
	case 10: return "Music";
	case 15: return "Pets & Animals";
	case 17: return "Sports";
	case 18: return "Short Movies";
	case 19: return "Travel & Events";
	case 20: return "Gaming";
	case 21: return "Videoblogging";
	case 22: return "People & Blogs";
	case 23: return "Comedy";
	case 24: return "Entertainment";
	case 25: return "News & Politics";
	case 26: return "Howto & Style";
	case 27: return "Education";
	case 28: return "Science & Technology";
	case 29: return "Nonprofits & Activism";
	case 30: return "Movies";
	case 43: return "Shows";
	case 44: return "Trailers";
	}
	return NULL;
}
