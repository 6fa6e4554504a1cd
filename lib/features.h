/*
 * features.h — the feature predicates of pd: what a pattern says about a video.
 *
 * One implementation shared by pd-mine (which enumerates the features every
 * video has and counts them per cluster), pd-validate (which re-counts them
 * on held-out videos) and pd-match (which asks whether a video or a draft
 * title already has a pattern's feature).  A predicate is a JSON object
 * (brief "Feature predicates"):
 *
 *   {"kind":"ngram","value":"how to"}      title word n-gram, 1-3 words (text.h)
 *   {"kind":"title","value":V}             V in pd_title_flag_names below
 *   {"kind":"title_len","min":a,"max":b}   title length in characters (code points) [a,b)
 *   {"kind":"title_words","min":a,"max":b} title words [a,b)
 *   {"kind":"format","value":F}            the record's format, else classified from the title
 *   {"kind":"duration","min_s":a,"max_s":b} duration_s in [a,b) (max_s omitted: no bound)
 *   {"kind":"short"}                       duration_s <= 60 (or is_short)
 *   {"kind":"weekday","value":d}           0 = Monday .. 6 = Sunday, at the extractor's tz
 *   {"kind":"hour","min":a,"max":b}        publish hour in [a,b)
 *   {"kind":"tag","value":t}               has tag t (lowercased)
 *   {"kind":"tag_count","min":a,"max":b}
 *   {"kind":"category","value":c}
 *   {"kind":"desc_len","min":a,"max":b}    description length in characters [a,b)
 *   {"kind":"desc_links"}                  description holds an http(s) link
 *   {"kind":"desc_hashtags"}               description holds a #hashtag
 *   {"all":[F1,F2,...]}                    conjunction
 * For interval kinds a missing "max" means no upper bound.  A video whose
 * field is unknown (no duration, no publish time) has none of its features.
 *
 * The canonical JSON of a predicate has a fixed key order ("kind" first, then
 * "value" or "min"/"max" or "min_s"/"max_s"; "all" members in the order given)
 * and integers printed as integers, so equal predicates have equal text; a
 * predicate's key is pd_hash64 of that text.
 *
 * Candidate ("atomic") features that pd_vfeat_extract enumerates per video,
 * with the fixed buckets below: every title n-gram (1..3 words, not only stop
 * words), every title flag, the title_len / title_words / duration /
 * hour / tag_count / desc_len bucket it falls in, short, format, weekday,
 * each tag, category, desc_links, desc_hashtags.
 */
#ifndef PD_FEATURES_H
#define PD_FEATURES_H
#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "buf.h"
#include "err.h"
#include "video.h"

/* Bucket edges (lower bounds; the last bucket has no upper bound). */
#define PD_TITLE_LEN_EDGES   { 0, 20, 40, 60, 80 }
#define PD_TITLE_WORDS_EDGES { 0, 5, 8, 12 }
#define PD_DURATION_EDGES    { 0, 60, 300, 600, 1200 }
#define PD_HOUR_EDGES        { 0, 6, 12, 18 }	/* last band is 18-24 */
#define PD_TAG_COUNT_EDGES   { 0, 1, 5, 10, 20 }
#define PD_DESC_LEN_EDGES    { 0, 100, 500, 2000 }

/* The title flags, in bit order, as their "value" strings. */
enum {
	PD_TF_QUESTION, PD_TF_EXCLAMATION, PD_TF_NUMBER, PD_TF_LISTICLE, PD_TF_YEAR,
	PD_TF_CAPS, PD_TF_BRACKETS, PD_TF_PARENS, PD_TF_SEPARATOR, PD_TF_EMOJI,
	PD_TF_FIRST_PERSON, PD_TF_SECOND_PERSON, PD_TF_HOW_TO, PD_TF_VS, PD_TF_COUNT
};
extern const char *const pd_title_flag_names[PD_TF_COUNT];

/* The 12 formats of the original guide. */
enum { PD_NFORMATS = 12 };
extern const char *const pd_format_names[PD_NFORMATS];
/*
 * pd_format_classify: the format of a title by keyword rules (first rule
 * that fires, in a fixed order), or NULL when none does.
 */
const char *pd_format_classify(const char *title);

/* ---- one video's features, extracted once ---- */

typedef struct pd_vfeat pd_vfeat;

pd_vfeat *pd_vfeat_new(void);
void pd_vfeat_free(pd_vfeat *f);
/*
 * pd_vfeat_extract: f := the features of v (f is reset and reused; it keeps
 * copies, so v may go away).  tz_offset_s shifts publish times for weekday
 * and hour.  v may carry only a title (pd-match drafts): unknown fields give
 * no features.  Returns 0 (never fails today; -1 reserved).
 */
int pd_vfeat_extract(pd_vfeat *f, const pd_video *v, int tz_offset_s);
/*
 * What a predicate can ask of a video, as a bit set: one bit per title flag
 * (bit i for flag i), then the parts below.  pd_feature_needs(f) is the set
 * f's test reads; pd_vfeat_extract_some(f, v, tz, need) extracts only what
 * `need` names (the rest stays unknown), so pd_feature_has(g, f) is the same
 * as after a full extraction for every g whose needs are within `need`.
 * pd_vfeat_extract is pd_vfeat_extract_some with PD_NEED_ALL, which
 * pd_vfeat_atoms requires.
 */
enum {
	PD_NEED_WORDS = 1u << PD_TF_COUNT,	/* the title's words: ngram, title_words */
	PD_NEED_TITLE_LEN = 1u << (PD_TF_COUNT + 1),
	PD_NEED_FORMAT = 1u << (PD_TF_COUNT + 2),
	PD_NEED_DURATION = 1u << (PD_TF_COUNT + 3),	/* duration, short */
	PD_NEED_TIME = 1u << (PD_TF_COUNT + 4),		/* weekday, hour */
	PD_NEED_TAGS = 1u << (PD_TF_COUNT + 5),		/* tag, tag_count */
	PD_NEED_CATEGORY = 1u << (PD_TF_COUNT + 6),
	PD_NEED_DESC = 1u << (PD_TF_COUNT + 7),		/* desc_len, desc_links, desc_hashtags */
	PD_NEED_ALL = (1u << (PD_TF_COUNT + 8)) - 1
};
int pd_vfeat_extract_some(pd_vfeat *f, const pd_video *v, int tz_offset_s, unsigned need);
/* pd_vfeat_video_fields: the members of a video (PD_VF_*) that
   pd_vfeat_extract_some(f, v, tz, need) reads: what a filler must keep
   (pd_video_from_jobj_keep). */
unsigned pd_vfeat_video_fields(unsigned need);
/* pd_vfeat_set_title: f := the features of a bare draft title (nothing else known). */
void pd_vfeat_set_title(pd_vfeat *f, const char *title);

/*
 * pd_vfeat_atoms: the candidate features of the video extracted last, as
 * keys (pd_hash64 of the canonical JSON) and the canonical JSON texts.
 * keys[i]'s text is texts + offs[i] (NUL-terminated).  Arrays are owned by
 * f and valid until the next extract.  max_ngram 1..3.  Returns the count.
 */
int pd_vfeat_atoms(pd_vfeat *f, int max_ngram, const uint64_t **keys,
		   const char **texts, const size_t **offs);

/* ---- predicates ---- */

typedef struct pd_feature pd_feature;

/*
 * pd_feature_from_json: parse a predicate (the caller keeps j).  Returns a
 * new feature (free with pd_feature_free), or NULL with err (PD_EREC) naming
 * what is wrong: unknown kind, missing or mistyped value, min > max, an
 * unknown title flag, an empty conjunction.
 */
pd_feature *pd_feature_from_json(const cJSON *j, pd_err *err);
/* pd_feature_parse: the same from JSON text s[0..n). */
pd_feature *pd_feature_parse(const char *s, size_t n, pd_err *err);
/* pd_feature_to_json: canonical form as a new cJSON tree (caller deletes). */
cJSON *pd_feature_to_json(const pd_feature *f);
/* pd_feature_canonical: canonical JSON text appended to out. */
void pd_feature_canonical(const pd_feature *f, pd_buf *out);
/* pd_feature_key: pd_hash64 of the canonical text. */
uint64_t pd_feature_key(const pd_feature *f);
/* pd_feature_all: the conjunction of copies of a and b (flattened when they are conjunctions). */
pd_feature *pd_feature_all(const pd_feature *a, const pd_feature *b);
/* pd_feature_needs: the parts of a video f's test reads (PD_NEED_* and flag bits). */
unsigned pd_feature_needs(const pd_feature *f);
/* pd_feature_has: 1 if the video of vf has the feature, else 0. */
int pd_feature_has(const pd_feature *f, const pd_vfeat *vf);
/*
 * pd_feature_pattern_type: title_ngram, title_structure (title, title_len,
 * title_words), format, duration (duration, short), timing (weekday, hour),
 * tags (tag, tag_count), category, description, combination (all).
 */
const char *pd_feature_pattern_type(const pd_feature *f);
/* pd_feature_describe: a phrase such as `titles containing "how to"` appended to out. */
void pd_feature_describe(const pd_feature *f, pd_buf *out);
/* pd_feature_name: a short name such as `"how to" in title` appended to out. */
void pd_feature_name(const pd_feature *f, pd_buf *out);
void pd_feature_free(pd_feature *f);

/*
 * Two classes of features, for weighting the multiple-testing budget
 * (pd-validate(1)): topic features say what a video is about (title
 * n-grams, tags, category, and conjunctions with one of them); form
 * features say how it is made and published (title structure and length,
 * format, duration, Shorts, timing, tag count, description).
 * pd_feature_is_topic / pd_feature_text_is_topic (on canonical JSON text):
 * 1 for a topic feature.
 */
int pd_feature_is_topic(const pd_feature *f);
int pd_feature_text_is_topic(const char *canonical);

#endif
