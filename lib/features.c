/*
 * features.c — feature predicates and per-video feature extraction; see features.h.
 *
 * A video's features are extracted once into a pd_vfeat (the title's words,
 * a bit set of title flags, the numbers the interval kinds test, folded tags
 * and strings); a predicate is then a cheap test against it.  The candidate
 * ("atomic") features a miner counts are produced from the same pd_vfeat as
 * canonical JSON texts, with the same helpers pd_feature_canonical uses, so
 * a mined pattern's predicate, parsed back, is true of exactly the videos it
 * was counted on.
 */
#include "features.h"
#include "pd.h"
#include "alloc.h"
#include "rng.h"
#include "text.h"
#include <assert.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const pd_title_flag_names[PD_TF_COUNT] = {
	"question", "exclamation", "number", "listicle", "year", "caps", "brackets", "parens",
	"separator", "emoji", "first_person", "second_person", "how_to", "vs",
};

const char *const pd_format_names[PD_NFORMATS] = {
	"tutorial", "listicle", "explainer", "case_study", "news_analysis", "personal_story",
	"product_focus", "live_stream", "shorts", "vlog", "compilation", "update",
};

enum kind {
	K_NGRAM, K_TITLE, K_TITLE_LEN, K_TITLE_WORDS, K_FORMAT, K_DURATION, K_SHORT, K_WEEKDAY,
	K_HOUR, K_TAG, K_TAG_COUNT, K_CATEGORY, K_DESC_LEN, K_DESC_LINKS, K_DESC_HASHTAGS, K_ALL,
	K_COUNT
};

static const char *const kind_names[K_COUNT] = {
	"ngram", "title", "title_len", "title_words", "format", "duration", "short", "weekday",
	"hour", "tag", "tag_count", "category", "desc_len", "desc_links", "desc_hashtags", "all",
};

struct pd_feature {
	int kind;
	char *value;		/* ngram (canonical), format, tag (folded), category */
	int ivalue;		/* title flag, weekday */
	double min, max;	/* interval kinds */
	int has_max;
	pd_feature **all;
	int nall;
};

struct pd_vfeat {
	pd_words words;
	int has_title;
	unsigned flags;
	long title_len, title_words;	/* -1 unknown */
	pd_buf format;			/* folded; len 0 none */
	double duration;		/* NAN unknown */
	int weekday, hour;		/* -1 unknown */
	int has_tags, ntags;
	pd_buf tags;			/* folded tags, NUL-separated */
	pd_buf category;
	int has_category;
	long desc_len;			/* -1 unknown */
	int links, hashtags;
	/* atoms */
	uint64_t *keys;
	size_t *offs;
	int natoms, acap;
	unsigned need;			/* what the last extraction extracted */
	pd_buf atext;
	pd_buf tmp;
};

static const double title_len_edges[] = PD_TITLE_LEN_EDGES;
static const double title_words_edges[] = PD_TITLE_WORDS_EDGES;
static const double duration_edges[] = PD_DURATION_EDGES;
static const double hour_edges[] = PD_HOUR_EDGES;
static const double tag_count_edges[] = PD_TAG_COUNT_EDGES;
static const double desc_len_edges[] = PD_DESC_LEN_EDGES;
#define NEDGES(a) ((int)(sizeof(a) / sizeof *(a)))

/* ---- canonical text ---- */

static void add_num(pd_buf *b, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		pd_buf_printf(b, "%lld", (long long)v);
	else
		pd_buf_printf(b, "%.17g", v);
}

static void canon_head(pd_buf *b, int kind)
{
	pd_buf_adds(b, "{\"kind\":\"");
	pd_buf_adds(b, kind_names[kind]);
	pd_buf_addc(b, '"');
}

static void canon_str(pd_buf *b, int kind, const char *v, size_t n)
{
	canon_head(b, kind);
	pd_buf_adds(b, ",\"value\":");
	pd_buf_add_json_string(b, v, n);
	pd_buf_addc(b, '}');
}

static void canon_int(pd_buf *b, int kind, int v)
{
	canon_head(b, kind);
	pd_buf_printf(b, ",\"value\":%d}", v);
}

static void canon_flag(pd_buf *b, int kind)
{
	canon_head(b, kind);
	pd_buf_addc(b, '}');
}

static void canon_range(pd_buf *b, int kind, double min, double max, int has_max)
{
	int secs = kind == K_DURATION;
	canon_head(b, kind);
	pd_buf_adds(b, secs ? ",\"min_s\":" : ",\"min\":");
	add_num(b, min);
	if (has_max) {
		pd_buf_adds(b, secs ? ",\"max_s\":" : ",\"max\":");
		add_num(b, max);
	}
	pd_buf_addc(b, '}');
}

void pd_feature_canonical(const pd_feature *f, pd_buf *out)
{
	switch (f->kind) {
	case K_NGRAM: case K_FORMAT: case K_TAG: case K_CATEGORY:
		canon_str(out, f->kind, f->value, strlen(f->value));
		break;
	case K_TITLE:
		canon_str(out, f->kind, pd_title_flag_names[f->ivalue], strlen(pd_title_flag_names[f->ivalue]));
		break;
	case K_WEEKDAY:
		canon_int(out, f->kind, f->ivalue);
		break;
	case K_SHORT: case K_DESC_LINKS: case K_DESC_HASHTAGS:
		canon_flag(out, f->kind);
		break;
	case K_ALL:
		pd_buf_adds(out, "{\"all\":[");
		for (int i = 0; i < f->nall; i++) {
			if (i)
				pd_buf_addc(out, ',');
			pd_feature_canonical(f->all[i], out);
		}
		pd_buf_adds(out, "]}");
		break;
	default:
		canon_range(out, f->kind, f->min, f->max, f->has_max);
	}
}

uint64_t pd_feature_key(const pd_feature *f)
{
	pd_buf b = PD_BUF_INIT;
	pd_feature_canonical(f, &b);
	uint64_t k = pd_hash64(b.p, b.len);
	pd_buf_release(&b);
	return k;
}

cJSON *pd_feature_to_json(const pd_feature *f)
{
	pd_buf b = PD_BUF_INIT;
	pd_feature_canonical(f, &b);
	cJSON *j = cJSON_ParseWithLength(b.p, b.len);
	pd_buf_release(&b);
	return j;
}

/* ---- parsing ---- */

void pd_feature_free(pd_feature *f)
{
	if (!f)
		return;
	for (int i = 0; i < f->nall; i++)
		pd_feature_free(f->all[i]);
	free(f->all);
	free(f->value);
	free(f);
}

static int find_kind(const char *s)
{
	for (int i = 0; i < K_ALL; i++)
		if (strcmp(s, kind_names[i]) == 0)
			return i;
	return -1;
}

static char *folded(const char *s)
{
	pd_buf b = PD_BUF_INIT;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	pd_text_fold(s, n, &b);
	if (!b.p)
		return xstrdup("");
	return pd_buf_detach(&b);
}

static pd_feature *parse_err(pd_feature *f, pd_err *err, const char *msg, const char *kind)
{
	pd_feature_free(f);
	pd_err_set(err, PD_EREC, "feature%s%s: %s", kind ? " " : "", kind ? kind : "", msg);
	return NULL;
}

pd_feature *pd_feature_from_json(const cJSON *j, pd_err *err)
{
	if (!cJSON_IsObject(j))
		return parse_err(NULL, err, "not an object", NULL);
	pd_feature *f = xcalloc(1, sizeof *f);
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(j, "all");
	if (all) {
		f->kind = K_ALL;
		if (!cJSON_IsArray(all) || cJSON_GetArraySize(all) < 1)
			return parse_err(f, err, "'all' is not a non-empty array", NULL);
		int n = cJSON_GetArraySize(all);
		f->all = xcalloc((size_t)n, sizeof *f->all);
		const cJSON *e;
		cJSON_ArrayForEach(e, all) {
			pd_feature *g = pd_feature_from_json(e, err);
			if (!g) {
				pd_feature_free(f);
				return NULL;
			}
			f->all[f->nall++] = g;
		}
		return f;
	}
	const char *ks = pd_json_str(j, "kind");
	if (!ks)
		return parse_err(f, err, "has no string 'kind' (nor 'all')", NULL);
	f->kind = find_kind(ks);
	if (f->kind < 0)
		return parse_err(f, err, "unknown kind", ks);
	const cJSON *val = cJSON_GetObjectItemCaseSensitive(j, "value");
	switch (f->kind) {
	case K_NGRAM: case K_FORMAT: case K_TAG: case K_CATEGORY:
		if (!cJSON_IsString(val) || !val->valuestring[0])
			return parse_err(f, err, "'value' is not a non-empty string", ks);
		if (f->kind == K_NGRAM) {
			pd_buf b = PD_BUF_INIT;
			int nw = pd_text_normalize(val->valuestring, strlen(val->valuestring), &b);
			if (nw < 1) {
				pd_buf_release(&b);
				return parse_err(f, err, "'value' has no words", ks);
			}
			f->value = pd_buf_detach(&b);
		} else if (f->kind == K_CATEGORY) {
			f->value = xstrdup(val->valuestring);
		} else {
			f->value = folded(val->valuestring);
		}
		return f;
	case K_TITLE:
		if (!cJSON_IsString(val))
			return parse_err(f, err, "'value' is not a string", ks);
		for (f->ivalue = 0; f->ivalue < PD_TF_COUNT; f->ivalue++)
			if (strcmp(val->valuestring, pd_title_flag_names[f->ivalue]) == 0)
				return f;
		return parse_err(f, err, "unknown title flag", ks);
	case K_WEEKDAY:
		if (!cJSON_IsNumber(val) || val->valuedouble != floor(val->valuedouble) ||
		    val->valuedouble < 0 || val->valuedouble > 6)
			return parse_err(f, err, "'value' is not a day 0-6", ks);
		f->ivalue = (int)val->valuedouble;
		return f;
	case K_SHORT: case K_DESC_LINKS: case K_DESC_HASHTAGS:
		return f;
	default: {
		const char *kmin = f->kind == K_DURATION ? "min_s" : "min";
		const char *kmax = f->kind == K_DURATION ? "max_s" : "max";
		const cJSON *mn = cJSON_GetObjectItemCaseSensitive(j, kmin);
		const cJSON *mx = cJSON_GetObjectItemCaseSensitive(j, kmax);
		if (mn && !cJSON_IsNumber(mn))
			return parse_err(f, err, "'min' is not a number", ks);
		if (mx && !cJSON_IsNull(mx) && !cJSON_IsNumber(mx))
			return parse_err(f, err, "'max' is not a number", ks);
		f->min = mn ? mn->valuedouble : 0;
		f->has_max = mx && cJSON_IsNumber(mx);
		f->max = f->has_max ? mx->valuedouble : 0;
		if (!isfinite(f->min) || (f->has_max && (!isfinite(f->max) || f->max <= f->min)))
			return parse_err(f, err, "empty or invalid interval", ks);
		return f;
	}
	}
}

pd_feature *pd_feature_parse(const char *s, size_t n, pd_err *err)
{
	cJSON *j = cJSON_ParseWithLength(s, n);
	if (!j) {
		pd_err_set(err, PD_EREC, "feature is not valid JSON");
		return NULL;
	}
	pd_feature *f = pd_feature_from_json(j, err);
	cJSON_Delete(j);
	return f;
}

static pd_feature *feature_copy(const pd_feature *f)
{
	pd_feature *g = xcalloc(1, sizeof *g);
	*g = *f;
	g->value = f->value ? xstrdup(f->value) : NULL;
	g->all = NULL;
	g->nall = 0;
	if (f->nall) {
		g->all = xcalloc((size_t)f->nall, sizeof *g->all);
		for (int i = 0; i < f->nall; i++)
			g->all[g->nall++] = feature_copy(f->all[i]);
	}
	return g;
}

pd_feature *pd_feature_all(const pd_feature *a, const pd_feature *b)
{
	pd_feature *f = xcalloc(1, sizeof *f);
	f->kind = K_ALL;
	int n = (a->kind == K_ALL ? a->nall : 1) + (b->kind == K_ALL ? b->nall : 1);
	f->all = xcalloc((size_t)n, sizeof *f->all);
	const pd_feature *parts[2] = { a, b };
	for (int p = 0; p < 2; p++) {
		if (parts[p]->kind == K_ALL)
			for (int i = 0; i < parts[p]->nall; i++)
				f->all[f->nall++] = feature_copy(parts[p]->all[i]);
		else
			f->all[f->nall++] = feature_copy(parts[p]);
	}
	return f;
}

/* ---- extraction ---- */

pd_vfeat *pd_vfeat_new(void)
{
	pd_vfeat *f = xcalloc(1, sizeof *f);
	pd_words w = PD_WORDS_INIT;
	f->words = w;
	return f;
}

void pd_vfeat_free(pd_vfeat *f)
{
	if (!f)
		return;
	pd_words_release(&f->words);
	pd_buf_release(&f->format);
	pd_buf_release(&f->tags);
	pd_buf_release(&f->category);
	pd_buf_release(&f->atext);
	pd_buf_release(&f->tmp);
	free(f->keys);
	free(f->offs);
	free(f);
}

/* has_word: a word of w is in list (whose words are at most 8 bytes long:
 * longer words are skipped unseen, and the first byte gates each strcmp) */
static int has_word(const pd_words *w, const char *const *list)
{
	for (int i = 0; i < w->n; i++) {
		if (w->len[i] > 8)
			continue;
		const char *x = pd_words_at(w, i);
		for (const char *const *l = list; *l; l++)
			if ((*l)[0] == x[0] && strcmp(x, *l) == 0)
				return 1;
	}
	return 0;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* title_flags: the flags of title t (words w) that `want` names (bit i: flag i) */
static unsigned title_flags(const char *t, const pd_words *w, unsigned want)
{
	static const char *const first[] = { "i", "me", "my", "mine", "myself", "we", "us", "our",
		"ours", "im", "ive", "ill", "id", "weve", "were", NULL };
	static const char *const second[] = { "you", "your", "yours", "yourself", "youre", "youll",
		"youve", "youd", "u", "ya", NULL };
	static const char *const vs[] = { "vs", "versus", NULL };
#define WANT(flag) (want & (1u << (flag)))
	unsigned fl = 0;
	if (WANT(PD_TF_QUESTION) && (strchr(t, '?') || strstr(t, "\xef\xbc\x9f")))
		fl |= 1u << PD_TF_QUESTION;
	if (WANT(PD_TF_EXCLAMATION) && (strchr(t, '!') || strstr(t, "\xef\xbc\x81")))
		fl |= 1u << PD_TF_EXCLAMATION;
	if (WANT(PD_TF_NUMBER) && strpbrk(t, "0123456789"))
		fl |= 1u << PD_TF_NUMBER;
	if (WANT(PD_TF_LISTICLE) && w->n >= 1 && (all_digits(pd_words_at(w, 0)) ||
			  (w->n >= 2 && strcmp(pd_words_at(w, 0), "top") == 0 && all_digits(pd_words_at(w, 1)))))
		fl |= 1u << PD_TF_LISTICLE;
	for (int i = 0; WANT(PD_TF_YEAR) && i < w->n; i++) {
		const char *x = pd_words_at(w, i);
		if (w->len[i] == 4 && all_digits(x) && (strncmp(x, "19", 2) == 0 || strncmp(x, "20", 2) == 0))
			fl |= 1u << PD_TF_YEAR;
	}
	if (WANT(PD_TF_CAPS) && pd_text_has_caps_word(t, strlen(t)))
		fl |= 1u << PD_TF_CAPS;
	if (WANT(PD_TF_BRACKETS) && strpbrk(t, "[]"))
		fl |= 1u << PD_TF_BRACKETS;
	if (WANT(PD_TF_PARENS) && strpbrk(t, "()"))
		fl |= 1u << PD_TF_PARENS;
	if (WANT(PD_TF_SEPARATOR) && (strpbrk(t, "|:") || strstr(t, " - ") ||
				      strstr(t, " \xe2\x80\x93 ") || strstr(t, " \xe2\x80\x94 ")))
		fl |= 1u << PD_TF_SEPARATOR;
	if (WANT(PD_TF_EMOJI) && pd_text_has_emoji(t, strlen(t)))
		fl |= 1u << PD_TF_EMOJI;
	if (WANT(PD_TF_FIRST_PERSON) && has_word(w, first))
		fl |= 1u << PD_TF_FIRST_PERSON;
	if (WANT(PD_TF_SECOND_PERSON) && has_word(w, second))
		fl |= 1u << PD_TF_SECOND_PERSON;
	if (WANT(PD_TF_HOW_TO) && pd_text_has_ngram(w, "how to", 6))
		fl |= 1u << PD_TF_HOW_TO;
	if (WANT(PD_TF_VS) && has_word(w, vs))
		fl |= 1u << PD_TF_VS;
#undef WANT
	return fl;
}

/* keyword rules: the first format whose phrases occur in the title wins */
static const struct { const char *format; const char *const phrases[12]; } format_rules[] = {
	{ "shorts", { "shorts", NULL } },
	{ "live_stream", { "live stream", "livestream", "live streaming", "streaming", "stream",
			   "live", NULL } },
	{ "compilation", { "compilation", "best of", "moments", "highlights", "montage", "funniest",
			   NULL } },
	{ "tutorial", { "how to", "tutorial", "guide", "step by step", "learn", "diy", "beginners",
			"walkthrough", "course", NULL } },
	{ "listicle", { NULL } },	/* by the listicle title flag */
	/* not "vs": match titles ("argentina vs brazil") are no product focus;
	   the vs title flag says it */
	{ "product_focus", { "review", "unboxing", "hands on", "comparison", "tested",
			     "worth it", "buying", "buying guide", NULL } },
	{ "explainer", { "explained", "what is", "what are", "why", "how does", "how do",
			 "the truth about", "the science", "meaning", NULL } },
	{ "case_study", { "case study", "experiment", "i tried", "we tried", "how i", "how we",
			  NULL } },
	{ "personal_story", { "my story", "storytime", "story time", "my journey", "i quit",
			      "my experience", "confession", NULL } },
	{ "vlog", { "vlog", "day in the life", "a day in", "week in", "daily", NULL } },
	{ "news_analysis", { "news", "breaking", "analysis", "report", "reacts", "reaction",
			     "leaked", NULL } },
	/* not "trailer", "teaser" or "official": a trailer or an official music
	   video is not an update (n-grams and tags say those) */
	{ "update", { "update", "announcement", "announcing", "patch notes", "coming soon", NULL } },
};

#define NRULES (sizeof format_rules / sizeof *format_rules)
/* the phrases padded with spaces (" best of "), made once: classifying a
 * title is then a strstr per phrase, with no formatting on the hot path */
static char padded[NRULES][12][40];
static pthread_once_t padded_once = PTHREAD_ONCE_INIT;

static void make_padded(void)
{
	for (size_t r = 0; r < NRULES; r++)
		for (int k = 0; k < 12 && format_rules[r].phrases[k]; k++)
			snprintf(padded[r][k], sizeof padded[r][k], " %s ", format_rules[r].phrases[k]);
}

static const char *classify_words(const pd_words *w, unsigned flags, pd_buf *tmp)
{
	pthread_once(&padded_once, make_padded);
	pd_buf_reset(tmp);
	pd_buf_addc(tmp, ' ');
	for (int i = 0; i < w->n; i++) {
		pd_buf_add(tmp, pd_words_at(w, i), w->len[i]);
		pd_buf_addc(tmp, ' ');
	}
	for (size_t r = 0; r < NRULES; r++) {
		if (strcmp(format_rules[r].format, "listicle") == 0) {
			if (flags & (1u << PD_TF_LISTICLE))
				return "listicle";
			continue;
		}
		for (int k = 0; k < 12 && format_rules[r].phrases[k]; k++)
			if (strstr(tmp->p, padded[r][k]))
				return format_rules[r].format;
	}
	return NULL;
}

const char *pd_format_classify(const char *title)
{
	pd_words w = PD_WORDS_INIT;
	pd_buf tmp = PD_BUF_INIT;
	pd_words_split(&w, title, strlen(title));
	const char *f = classify_words(&w, title_flags(title, &w, 1u << PD_TF_LISTICLE), &tmp);
	pd_words_release(&w);
	pd_buf_release(&tmp);
	return f;
}

static void vfeat_reset(pd_vfeat *f)
{
	f->words.n = 0;
	f->has_title = 0;
	f->flags = 0;
	f->title_len = f->title_words = -1;
	pd_buf_reset(&f->format);
	f->duration = NAN;
	f->weekday = f->hour = -1;
	f->has_tags = f->ntags = 0;
	pd_buf_reset(&f->tags);
	pd_buf_reset(&f->category);
	f->has_category = 0;
	f->desc_len = -1;
	f->links = f->hashtags = 0;
	f->natoms = -1;
}

/* flags_needed: the title flags that `need` asks for, directly or through
 * the format classification (which reads the listicle flag) */
static unsigned flags_needed(unsigned need)
{
	unsigned fl = need & ((1u << PD_TF_COUNT) - 1);
	if (need & PD_NEED_FORMAT)
		fl |= 1u << PD_TF_LISTICLE;
	return fl;
}

static void set_title(pd_vfeat *f, const char *title, const char *format, unsigned need)
{
	if (title) {
		size_t n = strlen(title);
		f->has_title = 1;
		/* the words feed ngrams, title_words, the format and these flags */
		const unsigned word_flags = 1u << PD_TF_LISTICLE | 1u << PD_TF_YEAR |
			1u << PD_TF_FIRST_PERSON | 1u << PD_TF_SECOND_PERSON | 1u << PD_TF_HOW_TO |
			1u << PD_TF_VS;
		if (need & (PD_NEED_WORDS | PD_NEED_FORMAT | word_flags)) {
			pd_words_split(&f->words, title, n);
			f->title_words = f->words.n;
		}
		f->flags = title_flags(title, &f->words, flags_needed(need));
		if (need & PD_NEED_TITLE_LEN)
			f->title_len = (long)pd_text_chars(title, n);
	}
	if (!(need & PD_NEED_FORMAT))
		return;
	if (format && *format) {
		pd_text_fold(format, strlen(format), &f->format);
	} else if (title) {
		const char *c = classify_words(&f->words, f->flags, &f->tmp);
		if (c)
			pd_buf_adds(&f->format, c);
	}
}

void pd_vfeat_set_title(pd_vfeat *f, const char *title)
{
	vfeat_reset(f);
	f->need = PD_NEED_ALL;
	set_title(f, title, NULL, PD_NEED_ALL);
}

int pd_vfeat_extract(pd_vfeat *f, const pd_video *v, int tz_offset_s)
{
	return pd_vfeat_extract_some(f, v, tz_offset_s, PD_NEED_ALL);
}

unsigned pd_vfeat_video_fields(unsigned need)
{
	unsigned k = PD_VF_TITLE | PD_VF_FORMAT;	/* set_title reads them always */
	if (need & PD_NEED_DURATION)
		k |= PD_VF_DURATION_S;
	if (need & PD_NEED_TIME)
		k |= PD_VF_PUBLISHED_AT;
	if (need & PD_NEED_TAGS)
		k |= PD_VF_TAGS;
	if (need & PD_NEED_CATEGORY)
		k |= PD_VF_CATEGORY;
	if (need & PD_NEED_DESC)
		k |= PD_VF_DESCRIPTION;
	return k;
}

int pd_vfeat_extract_some(pd_vfeat *f, const pd_video *v, int tz_offset_s, unsigned need)
{
	vfeat_reset(f);
	f->need = need;
	set_title(f, v->title, v->format, need);
	if (need & PD_NEED_DURATION)
		f->duration = v->duration_s;
	if ((need & PD_NEED_TIME) && isfinite(v->published_at)) {
		f->weekday = pd_time_weekday(v->published_at, tz_offset_s);
		f->hour = pd_time_hour(v->published_at, tz_offset_s);
	}
	if ((need & PD_NEED_TAGS) && v->tags) {
		f->has_tags = 1;
		for (int i = 0; i < v->ntags; i++) {
			const char *t = v->tags[i];
			size_t n = strlen(t);
			while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
				n--;
			while (n && (*t == ' ' || *t == '\t'))
				t++, n--;
			if (!n)
				continue;
			pd_text_fold(t, n, &f->tags);
			pd_buf_addc(&f->tags, '\0');
			f->ntags++;
		}
	}
	if ((need & PD_NEED_CATEGORY) && v->category && *v->category) {
		f->has_category = 1;
		pd_buf_adds(&f->category, v->category);
	}
	if ((need & PD_NEED_DESC) && v->description) {
		const char *d = v->description;
		size_t n = strlen(d);
		f->desc_len = (long)pd_text_chars(d, n);
		f->links = strstr(d, "http://") || strstr(d, "https://") || strstr(d, "www.");
		for (const char *p = strchr(d, '#'); p && !f->hashtags; p = strchr(p + 1, '#')) {
			unsigned char c = (unsigned char)p[1];
			if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80)
				f->hashtags = 1;
		}
	}
	return 0;
}

static int in_range(const pd_feature *f, double x)
{
	return isfinite(x) && x >= f->min && (!f->has_max || x < f->max);
}

unsigned pd_feature_needs(const pd_feature *f)
{
	switch (f->kind) {
	case K_NGRAM: case K_TITLE_WORDS: return PD_NEED_WORDS;
	case K_TITLE: return 1u << f->ivalue;
	case K_TITLE_LEN: return PD_NEED_TITLE_LEN;
	case K_FORMAT: return PD_NEED_FORMAT;
	case K_DURATION: case K_SHORT: return PD_NEED_DURATION;
	case K_WEEKDAY: case K_HOUR: return PD_NEED_TIME;
	case K_TAG: case K_TAG_COUNT: return PD_NEED_TAGS;
	case K_CATEGORY: return PD_NEED_CATEGORY;
	case K_DESC_LEN: case K_DESC_LINKS: case K_DESC_HASHTAGS: return PD_NEED_DESC;
	case K_ALL: {
		unsigned need = 0;
		for (int i = 0; i < f->nall; i++)
			need |= pd_feature_needs(f->all[i]);
		return need;
	}
	}
	return PD_NEED_ALL;
}

int pd_feature_has(const pd_feature *f, const pd_vfeat *vf)
{
	switch (f->kind) {
	case K_NGRAM:
		return vf->has_title && pd_text_has_ngram(&vf->words, f->value, strlen(f->value));
	case K_TITLE:
		return (vf->flags >> f->ivalue) & 1;
	case K_TITLE_LEN:
		return vf->title_len >= 0 && in_range(f, (double)vf->title_len);
	case K_TITLE_WORDS:
		return vf->title_words >= 0 && in_range(f, (double)vf->title_words);
	case K_FORMAT:
		return vf->format.len && strcmp(vf->format.p, f->value) == 0;
	case K_DURATION:
		return in_range(f, vf->duration);
	case K_SHORT:
		return isfinite(vf->duration) && vf->duration <= 60;
	case K_WEEKDAY:
		return vf->weekday == f->ivalue;
	case K_HOUR:
		return vf->hour >= 0 && in_range(f, (double)vf->hour);
	case K_TAG: {
		const char *p = vf->tags.p;
		for (int i = 0; i < vf->ntags; i++) {
			if (strcmp(p, f->value) == 0)
				return 1;
			p += strlen(p) + 1;
		}
		return 0;
	}
	case K_TAG_COUNT:
		return vf->has_tags && in_range(f, (double)vf->ntags);
	case K_CATEGORY:
		return vf->has_category && strcmp(vf->category.p, f->value) == 0;
	case K_DESC_LEN:
		return vf->desc_len >= 0 && in_range(f, (double)vf->desc_len);
	case K_DESC_LINKS:
		return vf->links;
	case K_DESC_HASHTAGS:
		return vf->hashtags;
	case K_ALL:
		for (int i = 0; i < f->nall; i++)
			if (!pd_feature_has(f->all[i], vf))
				return 0;
		return 1;
	}
	return 0;
}

/* ---- atoms ---- */

static void atom_begin(pd_vfeat *f)
{
	if (f->natoms == f->acap) {
		f->acap = f->acap ? 2 * f->acap : 64;
		f->keys = xreallocarray(f->keys, (size_t)f->acap, sizeof *f->keys);
		f->offs = xreallocarray(f->offs, (size_t)f->acap, sizeof *f->offs);
	}
	f->offs[f->natoms] = f->atext.len;
}

static void atom_end(pd_vfeat *f)
{
	size_t off = f->offs[f->natoms];
	f->keys[f->natoms] = pd_hash64(f->atext.p + off, f->atext.len - off);
	pd_buf_addc(&f->atext, '\0');
	f->natoms++;
}

static void atom_ngram(uint64_t key, const char *text, size_t len, void *ud)
{
	pd_vfeat *f = ud;
	atom_begin(f);
	canon_str(&f->atext, K_NGRAM, text, len);
	atom_end(f);
}

static void atom_bucket(pd_vfeat *f, int kind, const double *edges, int nedges, double x, double top)
{
	if (!isfinite(x))
		return;
	for (int i = nedges - 1; i >= 0; i--) {
		if (x >= edges[i]) {
			atom_begin(f);
			if (i == nedges - 1)
				canon_range(&f->atext, kind, edges[i], top, top > 0);
			else
				canon_range(&f->atext, kind, edges[i], edges[i + 1], 1);
			atom_end(f);
			return;
		}
	}
}

int pd_vfeat_atoms(pd_vfeat *f, int max_ngram, const uint64_t **keys, const char **texts,
		   const size_t **offs)
{
	assert(f->need == PD_NEED_ALL);	/* atoms are every feature */
	f->natoms = 0;
	pd_buf_reset(&f->atext);
	if (f->has_title) {
		pd_text_ngrams(&f->words, max_ngram, atom_ngram, f);
		for (int i = 0; i < PD_TF_COUNT; i++) {
			if (f->flags & (1u << i)) {
				atom_begin(f);
				canon_str(&f->atext, K_TITLE, pd_title_flag_names[i], strlen(pd_title_flag_names[i]));
				atom_end(f);
			}
		}
		atom_bucket(f, K_TITLE_LEN, title_len_edges, NEDGES(title_len_edges), (double)f->title_len, 0);
		atom_bucket(f, K_TITLE_WORDS, title_words_edges, NEDGES(title_words_edges),
			    (double)f->title_words, 0);
	}
	if (f->format.len) {
		atom_begin(f);
		canon_str(&f->atext, K_FORMAT, f->format.p, f->format.len);
		atom_end(f);
	}
	atom_bucket(f, K_DURATION, duration_edges, NEDGES(duration_edges), f->duration, 0);
	if (isfinite(f->duration) && f->duration <= 60) {
		atom_begin(f);
		canon_flag(&f->atext, K_SHORT);
		atom_end(f);
	}
	if (f->weekday >= 0) {
		atom_begin(f);
		canon_int(&f->atext, K_WEEKDAY, f->weekday);
		atom_end(f);
		atom_bucket(f, K_HOUR, hour_edges, NEDGES(hour_edges), (double)f->hour, 24);
	}
	if (f->has_tags) {
		atom_bucket(f, K_TAG_COUNT, tag_count_edges, NEDGES(tag_count_edges), (double)f->ntags, 0);
		const char *p = f->tags.p;
		int start = f->natoms;
		for (int i = 0; i < f->ntags; i++) {
			size_t n = strlen(p);
			atom_begin(f);
			canon_str(&f->atext, K_TAG, p, n);
			atom_end(f);
			/* a tag listed twice counts once */
			for (int j = start; j < f->natoms - 1; j++)
				if (f->keys[j] == f->keys[f->natoms - 1]) {
					f->natoms--;
					f->atext.len = f->offs[f->natoms];
					break;
				}
			p += n + 1;
		}
	}
	if (f->has_category) {
		atom_begin(f);
		canon_str(&f->atext, K_CATEGORY, f->category.p, f->category.len);
		atom_end(f);
	}
	if (f->desc_len >= 0) {
		atom_bucket(f, K_DESC_LEN, desc_len_edges, NEDGES(desc_len_edges), (double)f->desc_len, 0);
		if (f->links) {
			atom_begin(f);
			canon_flag(&f->atext, K_DESC_LINKS);
			atom_end(f);
		}
		if (f->hashtags) {
			atom_begin(f);
			canon_flag(&f->atext, K_DESC_HASHTAGS);
			atom_end(f);
		}
	}
	*keys = f->keys;
	*texts = f->atext.p;
	*offs = f->offs;
	return f->natoms;
}

/* ---- words for people ---- */

const char *pd_feature_pattern_type(const pd_feature *f)
{
	switch (f->kind) {
	case K_NGRAM: return "title_ngram";
	case K_TITLE: case K_TITLE_LEN: case K_TITLE_WORDS: return "title_structure";
	case K_FORMAT: return "format";
	case K_DURATION: case K_SHORT: return "duration";
	case K_WEEKDAY: case K_HOUR: return "timing";
	case K_TAG: case K_TAG_COUNT: return "tags";
	case K_CATEGORY: return "category";
	case K_DESC_LEN: case K_DESC_LINKS: case K_DESC_HASHTAGS: return "description";
	default: return "combination";
	}
}

static const char *const flag_phrases[PD_TF_COUNT] = {
	"titles that ask a question", "titles with an exclamation mark", "titles with a number",
	"titles that start with a number (listicles)", "titles naming a year",
	"titles with an ALL-CAPS word", "titles with [brackets]", "titles with (parentheses)",
	"titles with a separator (| : -)", "titles with an emoji", "titles in the first person",
	"titles that address the viewer (you)", "\"how to\" titles", "titles that compare (vs)",
};

static const char *const day_names[7] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
};

static void describe_range(pd_buf *out, const pd_feature *f, const char *pre, const char *unit)
{
	pd_buf_adds(out, pre);
	if (!f->has_max) {
		add_num(out, f->min);
		pd_buf_printf(out, " or more %s", unit);
	} else if (f->min <= 0) {
		pd_buf_adds(out, "fewer than ");
		add_num(out, f->max);
		pd_buf_printf(out, " %s", unit);
	} else {
		add_num(out, f->min);
		pd_buf_addc(out, '-');
		add_num(out, f->max - 1);
		pd_buf_printf(out, " %s", unit);
	}
}

static void add_minutes(pd_buf *out, double s)
{
	if (fmod(s, 60) == 0)
		pd_buf_printf(out, "%g min", s / 60);
	else
		pd_buf_printf(out, "%g s", s);
}

/* a format in words, as a plural noun phrase */
static const char *format_phrase(const char *v)
{
	static const char *const phr[PD_NFORMATS] = {
		"tutorials", "list videos (\"10 ...\")", "explainers", "experiments and case studies",
		"news and reaction videos", "personal stories", "reviews and unboxings",
		"live streams", "Shorts-style videos", "vlogs", "compilations and highlights",
		"updates and announcements" };
	for (int i = 0; i < PD_NFORMATS; i++)
		if (!strcmp(v, pd_format_names[i]))
			return phr[i];
	return v;
}

void pd_feature_describe(const pd_feature *f, pd_buf *out)
{
	switch (f->kind) {
	case K_NGRAM:
		pd_buf_adds(out, "titles containing \"");
		pd_buf_adds(out, f->value);
		pd_buf_addc(out, '"');
		break;
	case K_TITLE:
		pd_buf_adds(out, flag_phrases[f->ivalue]);
		break;
	case K_TITLE_LEN:
		describe_range(out, f, "titles of ", "characters");
		break;
	case K_TITLE_WORDS:
		describe_range(out, f, "titles of ", "words");
		break;
	case K_FORMAT:
		pd_buf_adds(out, format_phrase(f->value));
		break;
	case K_DURATION:
		pd_buf_adds(out, "videos ");
		if (!f->has_max) {
			pd_buf_adds(out, "of ");
			add_minutes(out, f->min);
			pd_buf_adds(out, " or more");
		} else if (f->min <= 0) {
			pd_buf_adds(out, "under ");
			add_minutes(out, f->max);
		} else {
			pd_buf_adds(out, "of ");
			add_minutes(out, f->min);
			pd_buf_adds(out, " to ");
			add_minutes(out, f->max);
		}
		break;
	case K_SHORT:
		pd_buf_adds(out, "Shorts (60 s or less)");
		break;
	case K_WEEKDAY:
		pd_buf_printf(out, "videos published on %s", day_names[f->ivalue]);
		break;
	case K_HOUR:
		pd_buf_printf(out, "videos published between %02d:00 and %02d:00", (int)f->min,
			      f->has_max ? (int)f->max : 24);
		break;
	case K_TAG:
		pd_buf_adds(out, "videos tagged \"");
		pd_buf_adds(out, f->value);
		pd_buf_addc(out, '"');
		break;
	case K_TAG_COUNT:
		if (f->has_max && f->min <= 0 && f->max <= 1)
			pd_buf_adds(out, "videos without tags");
		else
			describe_range(out, f, "videos with ", "tags");
		break;
	case K_CATEGORY:
		pd_buf_printf(out, "videos in the category %s", f->value);
		break;
	case K_DESC_LEN:
		describe_range(out, f, "descriptions of ", "characters");
		break;
	case K_DESC_LINKS:
		pd_buf_adds(out, "descriptions with links");
		break;
	case K_DESC_HASHTAGS:
		pd_buf_adds(out, "descriptions with hashtags");
		break;
	case K_ALL:
		for (int i = 0; i < f->nall; i++) {
			if (i)
				pd_buf_adds(out, " and ");
			pd_feature_describe(f->all[i], out);
		}
		break;
	}
}

void pd_feature_name(const pd_feature *f, pd_buf *out)
{
	size_t start = out->len;
	pd_feature_describe(f, out);
	if (out->len > start && out->p[start] >= 'a' && out->p[start] <= 'z')
		out->p[start] = (char)(out->p[start] - 'a' + 'A');
}

int pd_feature_text_is_topic(const char *t)
{
	return strstr(t, "\"kind\":\"ngram\"") || strstr(t, "\"kind\":\"tag\"") ||
	       strstr(t, "\"kind\":\"category\"");
}

int pd_feature_is_topic(const pd_feature *f)
{
	if (f->kind == K_ALL) {
		for (int i = 0; i < f->nall; i++)
			if (pd_feature_is_topic(f->all[i]))
				return 1;
		return 0;
	}
	return f->kind == K_NGRAM || f->kind == K_TAG || f->kind == K_CATEGORY;
}
