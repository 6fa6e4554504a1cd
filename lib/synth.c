/*
 * synth.c — the synthetic video generator behind pd-synth (see synth.h).
 *
 * Planning (pd_synth_new) lays the videos out by topic: micro topic 0 of meso
 * 0 of macro 0 first, and so on, so every topic at every level is one
 * contiguous range of plan slots.  Channels are cut from a shuffled meso range
 * (so they live in one meso topic and spread over its micro topics), then a
 * few per cent of videos swap channels with a video of another meso topic.
 * Each planted effect picks exactly n_with slots of its topic to carry its
 * feature (a bit in the slot's mask); the feature is forced off for the
 * others, so counts in the truth file are exact.  Publish times are drawn
 * last (weekday and hour effects force them) and the output order is publish
 * order, like the shared data file.
 *
 * Generation (pd_synth_generate) seeds a private xoshiro stream from the seed
 * and the slot index, so a video's bytes do not depend on which videos were
 * made before it.  Titles are assembled from tokens: words of the video's
 * micro, meso and macro vocabularies, English filler, the n-gram phrases and
 * title-structure parts of the shared feature vocabulary (each with a base
 * rate that is the same in every topic), rendered in the channel's casing
 * style.  Phrase words, filler and made-up words are disjoint sets, and
 * phrases, '?', '!', brackets, parens, leading numbers, years and emoji enter
 * a title only through their own switches, so a predicate holds exactly
 * when its switch is on.
 *
 * The realistic options (synth.h) are planned after the effects and drawn,
 * at planning and per video, from random streams of their own (r2), so the
 * main streams make the same draws with and without them: the default output
 * is what it was before they existed, and turning them on keeps a seed's
 * topics, channels, effects and noise.  Null topics' decoy features are
 * planted like effects (exact carriers, a mask bit, forced on and off) with
 * multiplier 1; trends move their carriers' publish days into the window;
 * the proxies the truth lists are measured, when it is written, by
 * generating the planted topics' videos again through lib/features.h.
 */
#include "pd.h"
#include "synth.h"
#include "features.h"
#include "strmap.h"
#include "video.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the feature vocabulary that can be planted ---- */

enum { K_NGRAM, K_TITLE, K_DUR, K_SHORT, K_WEEKDAY, K_HOUR, K_TAG };

static const char *const phrases[] = {
	"how to", "vs", "explained", "review", "reaction", "highlights", "tutorial",
	"official trailer", "full episode", "challenge", "gameplay", "live",
	"behind the scenes", "first time", "update", "tips", "compilation", "unboxing",
	"podcast", "news"
};
static const double phrase_rate[] = {
	.04, .04, .03, .04, .03, .04, .03, .03, .02, .04, .04, .04, .02, .03, .03, .03, .02,
	.02, .02, .03
};
#define NPHRASE ((int)(sizeof phrases / sizeof *phrases))

/* title structure switches; the first TF_PLANTABLE can be planted */
enum { TF_QUESTION, TF_EXCL, TF_BRACKETS, TF_PARENS, TF_LISTICLE, TF_YEAR, TF_EMOJI,
       TF_PLANTABLE, TF_CAPS = TF_PLANTABLE, TF_SEP, TF_FIRST, TF_SECOND, TF_PART, TF_QUOTE,
       TF_N };
static const char *const tf_name[TF_PLANTABLE] = {
	"question", "exclamation", "brackets", "parens", "listicle", "year", "emoji"
};
static const double tf_rate[TF_N] = {
	.06, .12, .05, .20, .05, .08, .08, .15, .30, .08, .06, .04, .03
};

static const char *const gtags[] = {
	"viral", "trending", "funny", "shorts", "new", "challenge", "tutorial", "review",
	"podcast", "asmr", "vlog", "highlights", "music", "gaming", "news", "comedy",
	"reaction", "fyp", "live"
};
#define NGTAG ((int)(sizeof gtags / sizeof *gtags))
#define GTAG_RATE 0.05

static const int dur_lo[5] = { 0, 60, 300, 600, 1200 };
static const int dur_hi[5] = { 60, 300, 600, 1200, 0 };
static const int hour_lo[4] = { 0, 6, 12, 18 };

/* English filler: disjoint from every phrase word and person word */
static const char *const filler[] = {
	"the", "a", "of", "in", "and", "new", "with", "for", "on", "at", "from", "day",
	"night", "final", "big", "little", "story", "world", "after", "before", "just",
	"this", "that", "real", "home", "city", "road", "season", "secret", "best", "last",
	"inside", "under", "every", "ultimate", "epic", "perfect", "crazy", "morning", "weekend"
};
#define NFILLER ((int)(sizeof filler / sizeof *filler))
static const char *const smallw[] = { "the", "a", "of", "in", "and", "for", "on", "at", "with", "from" };

/*
 * Realistic mode (see synth.h).  Common words: with habits, titles also take
 * filler words at Zipf-like rates (the first is the most common), so words
 * like "best" and "world" are in 5-15% of titles, with no effect.
 */
static const char *const common[] = {
	"new", "best", "the", "world", "day", "big", "real", "epic", "final", "night",
	"perfect", "crazy", "secret", "city", "home", "ultimate", "last", "little", "weekend",
	"morning"
};
#define NCOMMON ((int)(sizeof common / sizeof *common))

/*
 * Keywords that pd's format rules (lib/features.c) give the same format as a
 * phrase, none of them a phrase, a filler or a reserved word.  With proxies, a
 * topic where a phrase is planted uses them too (a fifth of its titles), so
 * the format the phrase implies is a broader, weaker stand-in for the phrase.
 * Only the keywords that pd_format_classify really gives the format are used
 * (checked when planning), so a change of the rules cannot make them lie.
 */
#define NSIBWORDS 7
static const struct { const char *format; const char *const words[NSIBWORDS]; } siblings[] = {
	{ "tutorial", { "guide", "step by step", "beginners", "walkthrough", "course", "diy", NULL } },
	{ "product_focus", { "hands on", "comparison", "tested", "worth it", "buying", NULL } },
	{ "explainer", { "meaning", "the science", "the truth about", NULL } },
	{ "news_analysis", { "breaking", "analysis", "report", "leaked", "reacts", NULL } },
	{ "compilation", { "moments", "montage", "funniest", NULL } },
	{ "update", { "announcement", "announcing", "patch notes", "coming soon", NULL } },
	{ "live_stream", { "livestream", "streaming", "stream", NULL } },
};
#define NSIBLING ((int)(sizeof siblings / sizeof *siblings))
/* the single words of the keywords above, kept out of the made-up vocabularies */
static const char *const sibling_words[] = {
	"guide", "step", "by", "beginners", "walkthrough", "course", "diy", "hands", "comparison",
	"tested", "worth", "it", "buying", "meaning", "science", "truth", "about", "breaking",
	"analysis", "report", "leaked", "reacts", "moments", "montage", "funniest", "announcement",
	"announcing", "patch", "notes", "coming", "soon", "livestream", "streaming", "stream"
};

static const char *const suffixes[] = {
	"Studio", "Official", "Gaming", "Music", "Media", "Channel", "World", "Show", "Daily",
	"Hub", "Plays", "Records", "Network", "Kitchen", "Sports", "Films"
};
static const char *const emoji[] = {
	"\xf0\x9f\x94\xa5", "\xf0\x9f\x98\xb1", "\xf0\x9f\x98\x82", "\xf0\x9f\x8e\xae",
	"\xf0\x9f\x8e\xb5", "\xf0\x9f\x8f\x86", "\xf0\x9f\x92\xaf", "\xf0\x9f\xa4\xaf",
	"\xf0\x9f\x98\x8d", "\xf0\x9f\x9a\x80", "\xf0\x9f\x91\x80", "\xf0\x9f\x92\xa5",
	"\xf0\x9f\x8e\xac", "\xf0\x9f\xa4\xa3", "\xf0\x9f\x98\xad", "\xf0\x9f\x99\x8f"
};
#define NEMOJI ((int)(sizeof emoji / sizeof *emoji))

static const char *const onsets[] = {
	"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr",
	"gr", "kr", "tr", "st", "sh", "ch", "th", "pl"
};
static const char *const nuclei[] = { "a", "e", "i", "o", "u", "ai", "ou", "ee" };
static const char *const codas[] = { "n", "r", "l", "s", "k", "x", "m", "nd", "rt" };
#define NELEM(a) ((int)(sizeof(a) / sizeof *(a)))

static const struct { const char *id, *name; double w; } cats[] = {
	{ "20", "Gaming", .30 }, { "10", "Music", .22 }, { "24", "Entertainment", .14 },
	{ "22", "People & Blogs", .08 }, { "1", "Film & Animation", .05 }, { "17", "Sports", .04 },
	{ "23", "Comedy", .03 }, { "27", "Education", .03 }, { "26", "Howto & Style", .03 },
	{ "28", "Science & Technology", .03 }, { "25", "News & Politics", .02 },
	{ "2", "Autos & Vehicles", .01 }, { "15", "Pets & Animals", .01 }, { "19", "Travel & Events", .01 }
};
#define NCAT NELEM(cats)

static const double wd_w[7] = { .134, .139, .144, .158, .167, .133, .125 };
static const double hour_w[24] = {
	.034, .031, .024, .020, .034, .026, .021, .028, .032, .038, .062, .044,
	.056, .057, .057, .061, .063, .055, .044, .044, .041, .042, .047, .038
};
static const char *const countries[] = {
	"US", "GB", "CA", "AU", "NZ", "IE", "IN", "PH", "SG", "ZA", "NG", "KE", "MY", "PK",
	"JM", "GH", "UG", "TZ", "ZW", "LK", "BD", "NP"
};

/* scripts for the non-Latin share: per ASCII letter a UTF-8 string */
enum { SC_LATIN, SC_CYRILLIC, SC_GREEK, SC_DEVANAGARI, SC_N };
static const char *const script_lang[SC_N] = { "en", "ru", "el", "hi" };
static const char *const cyr[26] = {
	"а", "б", "ц", "д", "е", "ф", "г", "х", "и", "й", "к", "л", "м", "н", "о", "п", "к",
	"р", "с", "т", "у", "в", "в", "кс", "ы", "з"
};
static const char *const grk[26] = {
	"α", "β", "κ", "δ", "ε", "φ", "γ", "η", "ι", "ι", "κ", "λ", "μ", "ν", "ο", "π", "κ",
	"ρ", "σ", "τ", "υ", "β", "ω", "ξ", "υ", "ζ"
};
static const char *const dev[26] = {
	"अ", "ब", "च", "द", "ए", "फ", "ग", "ह", "इ", "ज", "क", "ल", "म", "न", "ओ", "प", "क",
	"र", "स", "त", "उ", "व", "व", "ख", "य", "ज"
};

/* ---- the plan ---- */

typedef struct topic {
	char id[48];
	int parent;		/* index one level up, -1 for macro */
	int first, count;	/* children one level down */
	size_t start, size;	/* plan slots [start, start+size) */
	int w0, nw;		/* vocabulary: s->words[w0 .. w0+nw) */
	int null;
	int neff, eff[4];	/* effects planted at this topic */
	int cat;		/* macro: category */
	double mean;		/* macro: mean channel baseline */
	double dur[5];		/* macro: duration bucket weights */
	int sib;		/* proxies: 1 + the siblings[] its titles also use, 0 none */
} topic;

typedef struct channel {
	char id[25];
	char name[40];
	char name_lc[40];
	int meso, size;
	float base, like_rate, comment_rate, tag_rate;
	unsigned char cat, style, script, likes_hidden, comments_off;
	/* habits (all -1 when none): favourite weekday and hour, a word of
	 * common[] and a tag of gtags[] it uses often */
	signed char fav_wd, fav_hour, pet_word, pet_tag;
	float streak_boost;	/* ln multiplier of its hot streak, 0 when none */
	int streak0, streak1;	/* the streak: days [streak0, streak1) after the start */
} channel;

/*
 * A planted feature: an effect, or (decoy set) a feature of a null topic that
 * changes nothing.  s->eff holds the effects, then the decoys.
 */
typedef struct effect {
	char id[16];
	int level;		/* 1 meso, 2 micro */
	int topic;
	int kind, value;
	double mult, base_rate;
	size_t n, n_with, n_with_base;
	int slot;
	int decoy;		/* a decoy: no effect */
	int mirrors;		/* a decoy: the effect whose feature it carries */
	int trend;		/* carriers crowd into days [w0, w1); the effect holds there only */
	int w0, w1;
	size_t n_with_window;	/* carriers published in the window */
} effect;

/* A feature that stands in for an effect's (listed in the truth). */
enum { PX_ALIAS, PX_SUBSET, PX_PROXY, PX_TOPIC_TAG };
typedef struct proxy {
	int effect, why;
	int level, topic;	/* where it was measured */
	char *feature;		/* canonical JSON (owned) */
	size_t n, n_with, n_both;	/* topic videos, with it, with it and the planted feature */
	size_t n_carriers;	/* topic videos with the planted feature */
} proxy;

typedef struct vplan {
	uint32_t micro, channel, pub;	/* pub: seconds after opts.start */
	uint8_t mask;			/* bit e->slot: carries effect e's feature */
} vplan;

struct pd_synth {
	pd_synth_opts o;
	topic *t[3];
	int nt[3];
	channel *ch;
	size_t nch;
	effect *eff;
	int neff, null_meso;
	int ndecoy, null_topics, ntrend;	/* decoys at s->eff[neff ..] */
	const char *sib[NSIBLING][NSIBWORDS];	/* the keywords that give their format */
	int nsib[NSIBLING];
	char *arena;
	size_t alen, acap;
	uint32_t *word;		/* offsets into arena */
	int nwords, cwords;
	uint64_t *wset;		/* hashes of every word made (uniqueness), 0 = empty */
	size_t wsetcap;
	vplan *v;
	uint32_t *order;
	size_t n;
	int start_wd;
	double age_mid;		/* age term at the median age */
	double baseline_share;
};

void pd_synth_opts_init(pd_synth_opts *o)
{
	memset(o, 0, sizeof *o);
	o->videos = 10000;
	o->seed = 1;
	o->macro = 0;
	o->effects = -1;
	o->null_share = 0.4;
	o->start = (double)pd_days_from_civil(2025, 11, 3) * 86400.0;
	o->days = 180;
	o->noise_sd = 0.7;
	o->null_topics = 0;
	o->proxies = 0;
	o->trend_share = 0;
	o->habits = 0;
}

void pd_synth_opts_realistic(pd_synth_opts *o)
{
	o->null_topics = -1;
	o->proxies = 1;
	o->trend_share = 1.0 / 3.0;
	o->habits = 1;
}

/* realistic: any realistic option on (the truth then has its extra fields) */
static int realistic(const pd_synth *s)
{
	return s->o.null_topics != 0 || s->o.proxies || s->o.trend_share > 0 || s->o.habits;
}

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double unif(pd_rng *r) { return pd_rng_uniform(r); }
static int below(pd_rng *r, int n) { return (int)pd_rng_below(r, (uint64_t)n); }

/* pick: an index by weights w[0..n), skipping `skip` (-1 none) */
static int pick(pd_rng *r, const double *w, int n, int skip)
{
	double tot = 0;
	for (int i = 0; i < n; i++)
		if (i != skip)
			tot += w[i];
	double u = unif(r) * tot;
	int last = -1;
	for (int i = 0; i < n; i++) {
		if (i == skip)
			continue;
		last = i;
		if (u < w[i])
			return i;
		u -= w[i];
	}
	return last;
}

/* split total into n parts proportional to w, each at least lo (largest remainder) */
static void split(size_t total, const double *w, int n, size_t lo, size_t *out)
{
	double tw = 0;
	for (int i = 0; i < n; i++)
		tw += w[i];
	if ((size_t)n * lo > total)
		lo = total / (size_t)n;
	size_t rest = total - (size_t)n * lo, used = 0;
	double *frac = xmalloc((size_t)n * sizeof *frac);
	for (int i = 0; i < n; i++) {
		double x = (double)rest * w[i] / tw;
		out[i] = (size_t)x;
		frac[i] = x - (double)out[i];
		used += out[i];
	}
	while (used < rest) {
		int best = 0;
		for (int i = 1; i < n; i++)
			if (frac[i] > frac[best])
				best = i;
		out[best]++;
		frac[best] = -1;
		used++;
	}
	for (int i = 0; i < n; i++)
		out[i] += lo;
	free(frac);
}

/* ---- vocabulary ---- */

static const char *const reserved_extra[] = {
	"how", "to", "vs", "explained", "review", "reaction", "highlights", "tutorial",
	"official", "trailer", "full", "episode", "challenge", "gameplay", "live", "behind",
	"scenes", "first", "time", "update", "tips", "compilation", "unboxing", "podcast",
	"news", "i", "my", "me", "we", "our", "us", "you", "your", "why", "what", "part",
	"viral", "trending", "funny", "shorts", "asmr", "vlog", "music", "gaming", "comedy", "fyp"
};

static int wset_add(pd_synth *s, const char *w, size_t n)
{
	uint64_t h = pd_hash64(w, n) | 1;
	size_t m = s->wsetcap - 1, i = (size_t)h & m;
	while (s->wset[i]) {
		if (s->wset[i] == h)
			return 0;
		i = (i + 1) & m;
	}
	s->wset[i] = h;
	return 1;
}

static int wset_has(const pd_synth *s, const char *w, size_t n)
{
	uint64_t h = pd_hash64(w, n) | 1;
	size_t m = s->wsetcap - 1, i = (size_t)h & m;
	while (s->wset[i]) {
		if (s->wset[i] == h)
			return 1;
		i = (i + 1) & m;
	}
	return 0;
}

/* make_word: a word-like token of 2-3 syllables into buf (cap >= 24) */
static size_t make_word(pd_rng *r, char *buf, int nsyl)
{
	size_t n = 0;
	for (int k = 0; k < nsyl; k++) {
		const char *on = onsets[below(r, NELEM(onsets))];
		const char *nu = nuclei[below(r, NELEM(nuclei))];
		memcpy(buf + n, on, strlen(on));
		n += strlen(on);
		memcpy(buf + n, nu, strlen(nu));
		n += strlen(nu);
	}
	if (unif(r) < 0.4) {
		const char *co = codas[below(r, NELEM(codas))];
		memcpy(buf + n, co, strlen(co));
		n += strlen(co);
	}
	buf[n] = 0;
	return n;
}

/* new_words: nw fresh words (unique across the set) for a topic */
static void new_words(pd_synth *s, pd_rng *r, topic *t, int nw)
{
	t->w0 = s->nwords;
	t->nw = nw;
	for (int k = 0; k < nw; k++) {
		char buf[32];
		size_t n;
		do
			n = make_word(r, buf, unif(r) < 0.6 ? 2 : 3);
		while (!wset_add(s, buf, n));
		if (s->nwords == s->cwords) {
			s->cwords = s->cwords ? s->cwords * 2 : 1024;
			s->word = xreallocarray(s->word, (size_t)s->cwords, sizeof *s->word);
		}
		if (s->alen + n + 1 > s->acap) {
			s->acap = s->acap ? s->acap * 2 : 65536;
			s->arena = xrealloc(s->arena, s->acap);
		}
		s->word[s->nwords++] = (uint32_t)s->alen;
		memcpy(s->arena + s->alen, buf, n + 1);
		s->alen += n + 1;
	}
}

static const char *word_of(const pd_synth *s, const topic *t, int k)
{
	return s->arena + s->word[t->w0 + k];
}

/* ---- planning ---- */

static void plan_topics(pd_synth *s, pd_rng *r)
{
	size_t N = s->n;
	int nmacro = s->o.macro > 0 ? s->o.macro : (int)fmax(2, floor((double)N / 5000 + 0.5));
	if ((size_t)nmacro > N / 50)
		nmacro = (int)(N / 50) > 2 ? (int)(N / 50) : 2;
	long want = (long)floor((double)N / 500 + 0.5);
	int nmeso = (int)(want > 2L * nmacro ? want : 2L * nmacro);
	if ((size_t)nmeso > N / 25)
		nmeso = (int)(N / 25);
	if (nmeso < nmacro)
		nmeso = nmacro;

	double *w = xmalloc((size_t)(nmeso > nmacro ? nmeso : nmacro) * sizeof *w + 8 * sizeof *w);
	size_t *sz = xmalloc((size_t)(nmeso > nmacro ? nmeso : nmacro) * sizeof *sz + 8 * sizeof *sz);
	s->nt[0] = nmacro;
	s->t[0] = xcalloc((size_t)nmacro, sizeof(topic));
	for (int i = 0; i < nmacro; i++)
		w[i] = exp(0.3 * pd_rng_normal(r));
	split(N, w, nmacro, 25, sz);
	size_t *mac_size = xmalloc((size_t)nmacro * sizeof *mac_size);
	memcpy(mac_size, sz, (size_t)nmacro * sizeof *sz);
	/* mesos per macro, proportional to size, at least one each */
	for (int i = 0; i < nmacro; i++)
		w[i] = (double)mac_size[i];
	size_t *nm = xmalloc((size_t)nmacro * sizeof *nm);
	split((size_t)nmeso, w, nmacro, nmeso >= 2 * nmacro ? 2 : 1, nm);

	s->t[1] = xcalloc((size_t)nmeso, sizeof(topic));
	s->nt[1] = nmeso;
	topic *micro = NULL;
	int nmicro = 0, cmicro = 0, mi = 0;
	size_t start = 0;
	int width = nmacro >= 100 ? 3 : 2;
	if (nmacro >= 1000)
		width = 4;
	for (int a = 0; a < nmacro; a++) {
		topic *M = &s->t[0][a];
		snprintf(M->id, sizeof M->id, "M%0*d", width, a + 1);
		M->parent = -1;
		M->first = mi;
		M->count = (int)nm[a];
		M->start = start;
		M->size = mac_size[a];
		M->cat = pick(r, (const double[]){ .30, .22, .14, .08, .05, .04, .03, .03, .03, .03, .02, .01, .01, .01 }, NCAT, -1);
		M->mean = 12.0 + 0.5 * pd_rng_normal(r);
		static const double dbase[5] = { .05, .25, .20, .20, .30 };
		for (int b = 0; b < 5; b++)
			M->dur[b] = dbase[b] * exp(0.5 * pd_rng_normal(r));
		new_words(s, r, M, 8);
		for (int b = 0; b < M->count; b++)
			w[b] = exp(0.35 * pd_rng_normal(r));
		size_t *msz = xmalloc((size_t)M->count * sizeof *msz);
		split(M->size, w, M->count, 25, msz);
		for (int b = 0; b < M->count; b++, mi++) {
			topic *S = &s->t[1][mi];
			snprintf(S->id, sizeof S->id, "M%0*d.%d", width, a + 1, b + 1);
			S->parent = a;
			S->start = start;
			S->size = msz[b];
			new_words(s, r, S, 8);
			/* micro topics of 20..100 videos, about 50 each */
			int m = (int)floor((double)S->size / 50 + 0.5);
			if (m < 1)
				m = 1;
			while (S->size > (size_t)m * 100)
				m++;
			while (m > 1 && S->size < (size_t)m * 20)
				m--;
			S->first = nmicro;
			S->count = m;
			double *uw = xmalloc((size_t)m * sizeof *uw);
			size_t *usz = xmalloc((size_t)m * sizeof *usz);
			for (int k = 0; k < m; k++)
				uw[k] = exp(0.4 * pd_rng_normal(r));
			split(S->size, uw, m, m > 1 ? 20 : 0, usz);
			/* clamp to 100 and hand the excess to parts with room */
			size_t excess = 0;
			for (int k = 0; k < m; k++)
				if (usz[k] > 100) {
					excess += usz[k] - 100;
					usz[k] = 100;
				}
			for (int k = 0; excess && k < 4 * m; k++) {
				int j = k % m;
				size_t room = usz[j] < 100 ? 100 - usz[j] : 0;
				size_t give = room < excess ? room : excess;
				usz[j] += give;
				excess -= give;
			}
			usz[0] += excess;
			for (int k = 0; k < m; k++) {
				if (nmicro == cmicro) {
					cmicro = cmicro ? cmicro * 2 : 256;
					micro = xreallocarray(micro, (size_t)cmicro, sizeof *micro);
				}
				topic *U = &micro[nmicro++];
				memset(U, 0, sizeof *U);
				snprintf(U->id, sizeof U->id, "M%0*d.%d.%02d", width, a + 1, b + 1, k + 1);
				U->parent = mi;
				U->start = start;
				U->size = usz[k];
				start += usz[k];
			}
			free(uw);
			free(usz);
		}
		free(msz);
	}
	/* micro vocabularies after the loop: the array moved while growing */
	for (int k = 0; k < nmicro; k++)
		new_words(s, r, &micro[k], 5);
	s->t[2] = micro;
	s->nt[2] = nmicro;
	free(w);
	free(sz);
	free(mac_size);
	free(nm);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int channel_size(pd_rng *r)
{
	double u = unif(r);
	if (u < 0.62) {
		double v = unif(r);
		return v < 0.5 ? 1 : v < 0.8 ? 2 : 3;
	}
	if (u < 0.82)
		return 4 + below(r, 6);
	if (u < 0.95)
		return (int)floor(exp(log(10) + unif(r) * (log(31) - log(10))));
	return (int)floor(exp(log(31) + unif(r) * (log(201) - log(31))));
}

static void title_case_word(char *dst, const char *src)
{
	size_t n = strlen(src);
	memcpy(dst, src, n + 1);
	if (dst[0] >= 'a' && dst[0] <= 'z')
		dst[0] = (char)(dst[0] - 32);
}

static void plan_channels(pd_synth *s, pd_rng *r)
{
	size_t cap = 1024;
	s->ch = xmalloc(cap * sizeof *s->ch);
	s->nch = 0;
	uint32_t *idx = xmalloc(s->n * sizeof *idx);
	uint64_t key = mix64(s->o.seed ^ 0x5bd1e995ULL);
	for (int m = 0; m < s->nt[1]; m++) {
		topic *S = &s->t[1][m];
		size_t a = S->start, n = S->size;
		for (size_t k = 0; k < n; k++)
			idx[k] = (uint32_t)(a + k);
		for (size_t k = n; k > 1; k--) {
			size_t j = (size_t)pd_rng_below(r, k);
			uint32_t t = idx[k - 1];
			idx[k - 1] = idx[j];
			idx[j] = t;
		}
		size_t used = 0;
		/* no channel holds more than a tenth of its niche (at least 5 videos):
		 * in the real trending data the biggest channel of a large category
		 * holds 1-9% of its videos, and a niche ruled by one channel would
		 * make its own series look like a pattern */
		size_t cap_sz = n / 10 > 5 ? n / 10 : 5;
		while (used < n) {
			size_t sz = (size_t)channel_size(r);
			if (sz > cap_sz)
				sz = cap_sz;
			if (sz > n - used)
				sz = n - used;
			if (s->nch == cap) {
				cap *= 2;
				s->ch = xreallocarray(s->ch, cap, sizeof *s->ch);
			}
			channel *c = &s->ch[s->nch];
			memset(c, 0, sizeof *c);
			uint64_t h = mix64(key + s->nch * 0x9e3779b97f4a7c15ULL);
			uint64_t h2 = pd_rng_next(r);
			c->id[0] = 'U';
			c->id[1] = 'C';
			for (int k = 0; k < 10; k++)
				c->id[2 + k] = b64[(h >> (6 * k)) & 63];
			uint64_t rest = (h >> 60) | (h2 << 4);
			for (int k = 0; k < 11; k++)
				c->id[12 + k] = b64[(rest >> (6 * k)) & 63];
			c->id[23] = "AQgw"[(h2 >> 62) & 3];
			c->id[24] = 0;
			char w[32], cw[32];
			/* names enter titles (after " | ") and tags: never a reserved or topic word */
			while (wset_has(s, w, make_word(r, w, 2)))
				;
			title_case_word(cw, w);
			if (unif(r) < 0.6)
				snprintf(c->name, sizeof c->name, "%s %s", cw, suffixes[below(r, NELEM(suffixes))]);
			else
				snprintf(c->name, sizeof c->name, "%s", cw);
			for (size_t k = 0; c->name[k]; k++)
				c->name_lc[k] = (char)(c->name[k] >= 'A' && c->name[k] <= 'Z' ? c->name[k] + 32 : c->name[k]);
			c->meso = m;
			c->size = (int)sz;
			const topic *M = &s->t[0][S->parent];
			c->base = (float)(M->mean + 1.3 * pd_rng_normal(r));
			c->like_rate = (float)exp(log(0.023) + 0.6 * pd_rng_normal(r));
			c->comment_rate = (float)exp(log(0.0014) + 0.8 * pd_rng_normal(r));
			c->tag_rate = unif(r) < 0.76 ? 0.95f : 0.1f;
			c->cat = (unsigned char)(unif(r) < 0.9 ? M->cat : pick(r, (const double[]){ .30, .22, .14, .08, .05, .04, .03, .03, .03, .03, .02, .01, .01, .01 }, NCAT, -1));
			double u = unif(r);
			c->style = u < 0.6 ? 0 : u < 0.9 ? 1 : 2;
			u = unif(r);
			c->script = u < 0.92 ? SC_LATIN : u < 0.95 ? SC_CYRILLIC : u < 0.97 ? SC_GREEK : SC_DEVANAGARI;
			c->likes_hidden = unif(r) < 0.035;
			c->comments_off = unif(r) < 0.08;
			for (size_t k = 0; k < sz; k++)
				s->v[idx[used + k]].channel = (uint32_t)s->nch;
			used += sz;
			s->nch++;
		}
	}
	free(idx);
	/* a few videos cross over: swap channels with a video of another meso
	 * topic (same macro mostly); sizes stay as planned */
	size_t swaps = s->n * 3 / 100;
	for (size_t k = 0; k < swaps; k++) {
		size_t i = (size_t)pd_rng_below(r, s->n), j;
		const topic *U = &s->t[2][s->v[i].micro];
		const topic *M = &s->t[0][s->t[1][U->parent].parent];
		if (unif(r) < 0.6)
			j = M->start + (size_t)pd_rng_below(r, M->size);
		else
			j = (size_t)pd_rng_below(r, s->n);
		uint32_t t = s->v[i].channel;
		s->v[i].channel = s->v[j].channel;
		s->v[j].channel = t;
	}
	size_t inbig = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->ch[s->v[i].channel].size >= 5)
			inbig++;
	s->baseline_share = (double)inbig / (double)s->n;
}

static int kind_group(int kind) { return kind == K_SHORT ? K_DUR : kind; }

/* choose_feature: a feature for an effect in a topic whose groups[] are taken */
static void choose_feature(pd_rng *r, const int *taken, int *kind, int *value)
{
	static const double gw[] = { .30, .22, .14, .04, .10, .10, .10 };	/* by kind */
	double w[7];
	for (int k = 0; k < 7; k++)
		w[k] = taken[kind_group(k)] ? 0 : gw[k];
	int k = pick(r, w, 7, -1);
	*kind = k;
	switch (k) {
	case K_NGRAM: *value = below(r, NPHRASE); break;
	case K_TITLE: *value = below(r, TF_PLANTABLE); break;
	case K_DUR: *value = 1 + below(r, 4); break;	/* 60-300 .. 1200+ */
	case K_SHORT: *value = 0; break;
	case K_WEEKDAY: *value = below(r, 7); break;
	case K_HOUR: *value = below(r, 4); break;
	default: *value = below(r, NGTAG); break;
	}
}

static double feature_base_rate(const pd_synth *s, const effect *e)
{
	switch (e->kind) {
	case K_NGRAM: return phrase_rate[e->value];
	case K_TITLE: return tf_rate[e->value];
	case K_WEEKDAY: return wd_w[e->value];
	case K_HOUR: {
		double h = 0;
		for (int k = 0; k < 6; k++)
			h += hour_w[hour_lo[e->value] + k];
		return h;
	}
	case K_TAG: return GTAG_RATE * 0.76;
	default: {
		const topic *S = &s->t[1][e->level == 1 ? e->topic : s->t[2][e->topic].parent];
		const topic *M = &s->t[0][S->parent];
		double tot = 0;
		for (int b = 0; b < 5; b++)
			tot += M->dur[b];
		return M->dur[e->kind == K_SHORT ? 0 : e->value] / tot;
	}
	}
}

/* mark: exactly k carriers among topic T's slots (a partial Fisher-Yates) */
static void mark(pd_synth *s, pd_rng *r, const topic *T, effect *e, size_t k)
{
	uint32_t *ix = xmalloc(T->size * sizeof *ix);
	for (size_t q = 0; q < T->size; q++)
		ix[q] = (uint32_t)(T->start + q);
	for (size_t q = 0; q < k; q++) {
		size_t z = q + (size_t)pd_rng_below(r, T->size - q);
		uint32_t t = ix[q];
		ix[q] = ix[z];
		ix[z] = t;
		s->v[ix[q]].mask |= (uint8_t)(1u << e->slot);
		if (s->ch[s->v[ix[q]].channel].size >= 5)
			e->n_with_base++;
	}
	free(ix);
}

/* plant: the share of topic T's videos (40 at least, 60% at most) carry e's feature */
static void plant(pd_synth *s, pd_rng *r, const topic *T, effect *e, double share)
{
	size_t k = (size_t)floor(share * (double)T->size + 0.5);
	if (k < 40)
		k = 40;
	if (k > T->size * 6 / 10)
		k = T->size * 6 / 10;
	e->n_with = k;
	e->base_rate = feature_base_rate(s, e);
	mark(s, r, T, e, k);
}

static int plan_effects(pd_synth *s, pd_rng *r, pd_err *err)
{
	int nmeso = s->nt[1];
	int *perm = xmalloc((size_t)nmeso * sizeof *perm);
	for (int i = 0; i < nmeso; i++)
		perm[i] = i;
	for (int i = nmeso; i > 1; i--) {
		int j = below(r, i), t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	int nnull = (int)floor(s->o.null_share * nmeso + 0.5);
	/* candidates: the non-null mesos big enough to carry an effect */
	int *cand = xmalloc((size_t)nmeso * sizeof *cand), ncand = 0;
	for (int i = nnull; i < nmeso; i++)
		if (s->t[1][perm[i]].size >= 100)
			cand[ncand++] = perm[i];
	int E = s->o.effects < 0 ? ncand : s->o.effects;
	if (E > 3 * ncand) {
		free(perm);
		free(cand);
		return pd_err_set(err, PD_EUSAGE,
				  "%d effects do not fit: %d meso topics of 100+ videos can carry at most 3 each",
				  E, ncand);
	}
	s->eff = xcalloc((size_t)(E > 0 ? E : 1), sizeof *s->eff);
	int (*taken)[7] = xcalloc((size_t)(ncand > 0 ? ncand : 1), sizeof *taken);
	for (int j = 0; j < E; j++) {
		int c = j % ncand;
		topic *S = &s->t[1][cand[c]];
		effect *e = &s->eff[j];
		snprintf(e->id, sizeof e->id, "e%02d", j + 1);
		e->level = 1;
		e->topic = cand[c];
		/* a first effect lands on a big micro topic now and then */
		if (j < ncand && unif(r) < 0.25) {
			int best = -1;
			for (int k = 0; k < S->count; k++)
				if (s->t[2][S->first + k].size >= 80 &&
				    (best < 0 || s->t[2][S->first + k].size > s->t[2][best].size))
					best = S->first + k;
			if (best >= 0) {
				e->level = 2;
				e->topic = best;
			}
		}
		choose_feature(r, taken[c], &e->kind, &e->value);
		taken[c][kind_group(e->kind)] = 1;
		/* multipliers 1.5-4, log-uniform; a micro topic (40-50 carriers) gets 2+:
		 * no honest test sees a 1.5x effect on 40 videos */
		double lo = e->level == 2 ? log(2.0) : log(1.5);
		double lm = lo + unif(r) * (log(4.0) - lo);
		e->mult = floor(exp(lm) * 20 + 0.5) / 20;
		topic *T = e->level == 1 ? S : &s->t[2][e->topic];
		e->slot = e->level == 2 ? 3 : T->neff;
		T->eff[T->neff++] = j;
		e->n = T->size;
		/* the share of carriers: 15-40% of a meso topic, 30-40% when the
		 * effect is small (under 2x), 50-60% of a micro topic (80-100
		 * videos: 40+ carriers) */
		double p = e->level == 2 ? 0.50 + 0.10 * unif(r)
			 : e->mult < 2.0 ? 0.30 + 0.10 * unif(r) : 0.15 + 0.25 * unif(r);
		plant(s, r, T, e, p);
	}
	s->neff = E;
	/* null flags: nothing planted at, above or below the topic */
	s->null_meso = 0;
	for (int m = 0; m < nmeso; m++) {
		topic *S = &s->t[1][m];
		int any = S->neff > 0;
		for (int k = 0; k < S->count; k++) {
			topic *U = &s->t[2][S->first + k];
			U->null = !(S->neff > 0 || U->neff > 0);
			any |= U->neff > 0;
		}
		S->null = !any;
		s->null_meso += S->null;
	}
	for (int a = 0; a < s->nt[0]; a++) {
		topic *M = &s->t[0][a];
		M->null = 1;
		for (int k = 0; k < M->count; k++)
			if (!s->t[1][M->first + k].null)
				M->null = 0;
	}
	free(taken);
	free(perm);
	free(cand);
	return 0;
}

/* the effects that apply to plan slot i: up to 3 meso-level, 1 micro-level */
static int effects_of(const pd_synth *s, const vplan *p, const effect **out)
{
	const topic *U = &s->t[2][p->micro], *S = &s->t[1][U->parent];
	int n = 0;
	for (int k = 0; k < S->neff; k++)
		out[n++] = &s->eff[S->eff[k]];
	for (int k = 0; k < U->neff; k++)
		out[n++] = &s->eff[U->eff[k]];
	return n;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/*
 * trend_day: the publish day of a carrier of trend plant e whose weekday is
 * wd and whose day drawn without the trend was `day`: with probability 0.8 a
 * day of that weekday inside the window, else one outside it.
 */
static int trend_day(const pd_synth *s, pd_rng *r2, const effect *e, int wd, int day)
{
	int D = s->o.days;
	int d0 = (wd - s->start_wd + 7) % 7, all = (D - 1 - d0) / 7 + 1;
	int first = e->w0 + ((wd - (s->start_wd + e->w0) % 7) + 7) % 7;	/* first such day in it */
	int nin = first < e->w1 ? (e->w1 - 1 - first) / 7 + 1 : 0;
	if (unif(r2) < 0.8) {
		if (nin > 0)
			day = first + 7 * below(r2, nin);
	} else if (day >= e->w0 && day < e->w1 && all > nin) {
		int k = below(r2, all - nin), i0 = (first - d0) / 7;
		day = d0 + 7 * (k < i0 ? k : k + nin);
	}
	return day;
}

/* plan_times: every slot's publish time; r2 serves the realistic options only */
static void plan_times(pd_synth *s, pd_rng *r, pd_rng *r2)
{
	int D = s->o.days;
	for (size_t i = 0; i < s->n; i++) {
		vplan *p = &s->v[i];
		const effect *ef[4];
		int ne = effects_of(s, p, ef);
		int wd_force = -1, wd_skip = -1, band_force = -1, band_skip = -1;
		for (int k = 0; k < ne; k++) {
			int has = (p->mask >> ef[k]->slot) & 1;
			if (ef[k]->kind == K_WEEKDAY) {
				if (has)
					wd_force = ef[k]->value;
				else
					wd_skip = ef[k]->value;
			} else if (ef[k]->kind == K_HOUR) {
				if (has)
					band_force = ef[k]->value;
				else
					band_skip = ef[k]->value;
			}
		}
		int wd = wd_force >= 0 ? wd_force : pick(r, wd_w, 7, wd_skip);
		int d0 = (wd - s->start_wd + 7) % 7;
		int cnt = (D - 1 - d0) / 7 + 1;
		int day = d0 + 7 * below(r, cnt);
		int hour;
		if (band_force >= 0) {
			hour = hour_lo[band_force] + pick(r, hour_w + hour_lo[band_force], 6, -1);
		} else {
			double hw[24];
			for (int h = 0; h < 24; h++)
				hw[h] = band_skip >= 0 && h / 6 == band_skip ? 0 : hour_w[h];
			hour = pick(r, hw, 24, -1);
		}
		int sec = below(r, 3600);
		/* realistic options move the time with draws of their own (r2) */
		const channel *c = &s->ch[p->channel];
		if (c->fav_wd >= 0) {
			if (wd_force < 0 && c->fav_wd != wd_skip && unif(r2) < 0.4) {
				wd = c->fav_wd;
				d0 = (wd - s->start_wd + 7) % 7;
				day = d0 + 7 * below(r2, (D - 1 - d0) / 7 + 1);
			}
			if (band_force < 0 && c->fav_hour / 6 != band_skip && unif(r2) < 0.4)
				hour = c->fav_hour;
		}
		for (int k = 0; k < ne; k++)
			if (ef[k]->trend && ((p->mask >> ef[k]->slot) & 1)) {
				day = trend_day(s, r2, ef[k], wd, day);
				break;
			}
		p->pub = (uint32_t)day * 86400u + (uint32_t)hour * 3600u + (uint32_t)sec;
	}
	/* carriers of trend plants inside their windows */
	for (size_t i = 0; i < s->n; i++) {
		const effect *ef[4];
		int ne = effects_of(s, &s->v[i], ef);
		int day = (int)(s->v[i].pub / 86400u);
		for (int k = 0; k < ne; k++)
			if (ef[k]->trend && ((s->v[i].mask >> ef[k]->slot) & 1) && day >= ef[k]->w0 && day < ef[k]->w1)
				s->eff[ef[k] - s->eff].n_with_window++;
	}
	uint64_t *keys = xmalloc(s->n * sizeof *keys);
	for (size_t i = 0; i < s->n; i++)
		keys[i] = ((uint64_t)s->v[i].pub << 32) | i;
	qsort(keys, s->n, sizeof *keys, cmp_u64);
	s->order = xmalloc(s->n * sizeof *s->order);
	for (size_t i = 0; i < s->n; i++)
		s->order[i] = (uint32_t)keys[i];
	free(keys);
}

/* ---- realistic planning (synth.h): every draw from r2, none from the main stream ---- */

/* plan_trends: a share of the meso-level effects become trends, each with a
 * window of 20-30% of the publish span, most of it before the last fifth
 * (pd-mine holds out the newest 30% by default to look for replication) */
static void plan_trends(pd_synth *s, pd_rng *r)
{
	s->ntrend = 0;
	if (!(s->o.trend_share > 0) || s->neff == 0)
		return;
	int *cand = xmalloc((size_t)s->neff * sizeof *cand), nc = 0;
	for (int j = 0; j < s->neff; j++)
		if (s->eff[j].level == 1)
			cand[nc++] = j;
	int want = (int)floor(s->o.trend_share * nc + 0.5);
	if (want < 1 && nc > 0)
		want = 1;
	int D = s->o.days;
	for (int k = 0; k < want; k++) {
		int z = k + below(r, nc - k), t = cand[k];
		cand[k] = cand[z];
		cand[z] = t;
		effect *e = &s->eff[cand[k]];
		int W = (int)floor(D * (0.2 + 0.1 * unif(r)) + 0.5);
		if (W < 7)
			W = 7;
		if (W > D)
			W = D;
		int last = (int)floor(0.8 * D) - W / 2;	/* the latest start */
		if (last > D - W)
			last = D - W;
		if (last < 0)
			last = 0;
		e->trend = 1;
		e->w0 = below(r, last + 1);
		e->w1 = e->w0 + W;
	}
	s->ntrend = want;
	free(cand);
}


/*
 * plan_decoys: null topics that carry the planted features.  The chosen null
 * meso topics (100+ videos) take the features of up to three effects each
 * (one per kind of feature; each time the effect mirrored least so far, the
 * next in turn among equals, so every effect is mirrored once before any
 * twice when there is room), in the same share of their videos as the
 * effect's topic, at micro level when the effect is (on the topic's biggest
 * micro topic of 80+ videos), with the same trend window; the multiplier is 1.
 */
static int plan_decoys(pd_synth *s, pd_rng *r, pd_err *err)
{
	s->ndecoy = s->null_topics = 0;
	if (!s->o.null_topics)
		return 0;
	int nmeso = s->nt[1], nc = 0;
	int *cand = xmalloc((size_t)nmeso * sizeof *cand);
	for (int m = 0; m < nmeso; m++)
		if (s->t[1][m].null && s->t[1][m].size >= 100)
			cand[nc++] = m;
	int N = s->o.null_topics < 0 ? nc : s->o.null_topics;
	if (N > nc || (s->o.null_topics > 0 && s->neff == 0)) {
		free(cand);
		if (s->neff == 0)
			return pd_err_set(err, PD_EUSAGE, "null topics carry the planted features, and nothing is planted");
		return pd_err_set(err, PD_EUSAGE,
				  "%d null topics do not fit: %d meso topics of 100+ videos have nothing planted",
				  N, nc);
	}
	if (s->neff == 0)
		N = 0;
	for (int k = nc; k > 1; k--) {
		int z = below(r, k), t = cand[k - 1];
		cand[k - 1] = cand[z];
		cand[z] = t;
	}
	s->eff = xreallocarray(s->eff, (size_t)(s->neff + 3 * N + 1), sizeof *s->eff);
	memset(s->eff + s->neff, 0, (size_t)(3 * N + 1) * sizeof *s->eff);
	int next = 0, *mirrored = xcalloc((size_t)s->neff, sizeof *mirrored);
	for (int d = 0; d < N; d++) {
		topic *S = &s->t[1][cand[d]];
		int taken[7] = { 0 }, got = 0, micro = 0;
		while (got < 3) {
			int mi = -1;
			for (int q = 0; q < s->neff; q++) {
				int x = (next + q) % s->neff;
				if (!taken[kind_group(s->eff[x].kind)] && (mi < 0 || mirrored[x] < mirrored[mi]))
					mi = x;
			}
			if (mi < 0)
				break;
			next = (mi + 1) % s->neff;
			mirrored[mi]++;
			const effect *m = &s->eff[mi];
			int j = s->neff + s->ndecoy;
			effect *e = &s->eff[j];
			snprintf(e->id, sizeof e->id, "n%02d", s->ndecoy + 1);
			e->decoy = 1;
			e->mirrors = mi;
			e->kind = m->kind;
			e->value = m->value;
			e->mult = 1;
			e->trend = m->trend;
			e->w0 = m->w0;
			e->w1 = m->w1;
			e->level = 1;
			e->topic = cand[d];
			double share = (double)m->n_with / (double)m->n;
			if (m->level == 2) {
				int best = -1;
				for (int k = 0; k < S->count; k++)
					if (s->t[2][S->first + k].size >= 80 &&
					    (best < 0 || s->t[2][S->first + k].size > s->t[2][best].size))
						best = S->first + k;
				if (best >= 0 && !micro) {
					e->level = 2;
					e->topic = best;
					micro = 1;
				} else {
					share = 0.15 + 0.25 * unif(r);
				}
			}
			topic *T = e->level == 1 ? S : &s->t[2][e->topic];
			e->slot = e->level == 2 ? 3 : T->neff;
			T->eff[T->neff++] = j;
			e->n = T->size;
			plant(s, r, T, e, share);
			taken[kind_group(m->kind)] = 1;
			got++;
			s->ndecoy++;
		}
		s->null_topics += got > 0;
	}
	free(mirrored);
	free(cand);
	return 0;
}

/* plan_habits: channels of 3+ videos get habits, a third of those of 5+ a hot
 * streak of 10-30 days when their videos do 1.5-3x (none without habits) */
static void plan_habits(pd_synth *s, pd_rng *r)
{
	int D = s->o.days;
	for (size_t i = 0; i < s->nch; i++) {
		channel *c = &s->ch[i];
		c->fav_wd = c->fav_hour = c->pet_word = c->pet_tag = -1;
		if (!s->o.habits || c->size < 3)
			continue;
		c->fav_wd = (signed char)pick(r, wd_w, 7, -1);
		c->fav_hour = (signed char)pick(r, hour_w, 24, -1);
		c->pet_word = (signed char)below(r, NCOMMON);
		c->pet_tag = (signed char)(unif(r) < 0.5 ? below(r, NGTAG) : -1);
		if (c->size >= 5 && unif(r) < 0.3) {
			int L = 10 + below(r, 21);
			if (L > D)
				L = D;
			c->streak0 = below(r, D - L + 1);
			c->streak1 = c->streak0 + L;
			c->streak_boost = (float)(log(1.5) + unif(r) * (log(3.0) - log(1.5)));
		}
	}
}

/* plan_siblings: with proxies, the topics of planted phrases (effects and
 * decoys) that imply a format also use that format's other keywords */
static void plan_siblings(pd_synth *s)
{
	if (!s->o.proxies)
		return;
	for (int k = 0; k < NSIBLING; k++) {
		s->nsib[k] = 0;
		for (int i = 0; i < NSIBWORDS && siblings[k].words[i]; i++) {
			const char *f = pd_format_classify(siblings[k].words[i]);
			if (f && !strcmp(f, siblings[k].format))
				s->sib[k][s->nsib[k]++] = siblings[k].words[i];
		}
	}
	for (int j = 0; j < s->neff + s->ndecoy; j++) {
		const effect *e = &s->eff[j];
		if (e->kind != K_NGRAM)
			continue;
		const char *f = pd_format_classify(phrases[e->value]);
		for (int k = 0; f && k < NSIBLING; k++)
			if (!strcmp(f, siblings[k].format) && s->nsib[k] > 0)
				s->t[e->level][e->topic].sib = k + 1;
	}
}

static void generate_slot(const pd_synth *s, uint32_t idx, pd_synth_video *v);
static void feature_json(const effect *e, pd_buf *b);

typedef struct proxies {
	proxy *p;
	int n, cap;
} proxies;

static void add_proxy(proxies *px, int effect, int why, int level, int topic, const char *feature,
		      size_t n, size_t n_with, size_t n_both, size_t n_carriers)
{
	if (px->n == px->cap) {
		px->cap = px->cap ? 2 * px->cap : 16;
		px->p = xreallocarray(px->p, (size_t)px->cap, sizeof *px->p);
	}
	proxy *x = &px->p[px->n++];
	x->effect = effect;
	x->why = why;
	x->level = level;
	x->topic = topic;
	x->feature = xstrdup(feature);
	x->n = n;
	x->n_with = n_with;
	x->n_both = n_both;
	x->n_carriers = n_carriers;
}

static void proxies_release(proxies *px)
{
	for (int k = 0; k < px->n; k++)
		free(px->p[k].feature);
	free(px->p);
}

/*
 * measure_proxies: the stand-ins of every effect, measured on its topic's
 * generated videos with the toolkit's own predicates (lib/features.h): each
 * candidate feature pd-mine would see (pd_vfeat_atoms) that agrees with the
 * planted feature on 97%+ of the topic's videos is an alias (the same
 * finding under another name); one held by half or more of the carriers and
 * by 40 points fewer of the others is a proxy; one held by a tenth or more
 * of the carriers (10 at least) and 97%+ of whose holders are carriers is a
 * subset (what it claims is true of every video it covers).  With --proxies the topic's own tag is a proxy one level up
 * (it marks the whole topic).  Only the truth file needs them, and they
 * cost a second generation of the planted topics' videos, so they are
 * measured when it is written (with or without the realistic options: the
 * natural stand-ins, a year for the year flag, are there anyway).
 */
static void measure_proxies(const pd_synth *s, proxies *px)
{
	px->p = NULL;
	px->n = px->cap = 0;
	pd_vfeat *vf = pd_vfeat_new();
	pd_synth_video v;
	pd_synth_video_init(&v);
	pd_buf js = PD_BUF_INIT, fb = PD_BUF_INIT, canon = PD_BUF_INIT;
	for (int j = 0; j < s->neff; j++) {
		const effect *e = &s->eff[j];
		const topic *T = &s->t[e->level][e->topic];
		pd_buf_reset(&fb);
		feature_json(e, &fb);
		pd_err err;
		pd_feature *pf = pd_feature_parse(fb.p, fb.len, &err);
		pd_buf_reset(&canon);
		if (pf)
			pd_feature_canonical(pf, &canon);
		pd_feature_free(pf);
		pd_strmap *m = pd_strmap_new();
		size_t cap = 0, *cw = NULL, *co = NULL, *seen = NULL, nc = 0, nn = 0;
		for (size_t q = 0; q < T->size; q++) {
			uint32_t slot = (uint32_t)(T->start + q);
			int carrier = (s->v[slot].mask >> e->slot) & 1;
			generate_slot(s, slot, &v);
			pd_buf_reset(&js);
			pd_synth_ndjson(&v, &js);
			cJSON *o = cJSON_ParseWithLength(js.p, js.len);
			pd_video pv;
			if (!o || pd_video_from_json(o, &pv, &err) < 0) {
				cJSON_Delete(o);
				continue;	/* cannot happen: the tests read every video so */
			}
			pd_vfeat_extract(vf, &pv, 0);
			const uint64_t *keys;
			const char *texts;
			const size_t *offs;
			int na = pd_vfeat_atoms(vf, 3, &keys, &texts, &offs);
			for (int a = 0; a < na; a++) {
				int added;
				int x = pd_strmap_intern(m, texts + offs[a], strlen(texts + offs[a]), &added);
				if ((size_t)x >= cap) {
					size_t nc2 = cap ? 2 * cap : 256;
					cw = xreallocarray(cw, nc2, sizeof *cw);
					co = xreallocarray(co, nc2, sizeof *co);
					seen = xreallocarray(seen, nc2, sizeof *seen);
					memset(cw + cap, 0, (nc2 - cap) * sizeof *cw);
					memset(co + cap, 0, (nc2 - cap) * sizeof *co);
					memset(seen + cap, 0, (nc2 - cap) * sizeof *seen);
					cap = nc2;
				}
				if (seen[x] == q + 1)
					continue;
				seen[x] = q + 1;
				if (carrier)
					cw[x]++;
				else
					co[x]++;
			}
			pd_video_release(&pv);
			cJSON_Delete(o);
			nc += carrier;
			nn += !carrier;
		}
		for (int x = 0; x < pd_strmap_size(m) && nc && nn; x++) {
			const char *f = pd_strmap_key(m, x);
			if (canon.len && !strcmp(f, canon.p))
				continue;
			double rc = (double)cw[x] / (double)nc, rn = (double)co[x] / (double)nn;
			double agree = (double)(cw[x] + nn - co[x]) / (double)(nc + nn);
			int why = agree >= 0.97 ? PX_ALIAS : rc >= 0.5 && rc - rn >= 0.4 ? PX_PROXY : -1;
			if ((why == PX_PROXY || (why < 0 && rc >= 0.1 && cw[x] >= 10)) &&
			    (double)co[x] <= 0.03 * (double)(cw[x] + co[x]))
				why = PX_SUBSET;
			if (why >= 0)
				add_proxy(px, j, why, e->level, e->topic, f, nc + nn, cw[x] + co[x], cw[x], nc);
		}
		if (s->o.proxies) {
			const topic *P = &s->t[e->level - 1][T->parent];
			pd_buf_reset(&fb);
			pd_buf_adds(&fb, "{\"kind\":\"tag\",\"value\":");
			pd_buf_add_json_string(&fb, word_of(s, T, 0), strlen(word_of(s, T, 0)));
			pd_buf_addc(&fb, '}');
			add_proxy(px, j, PX_TOPIC_TAG, e->level - 1, T->parent, fb.p, P->size, T->size,
				  e->n_with, e->n_with);
		}
		free(cw);
		free(co);
		free(seen);
		pd_strmap_free(m);
	}
	pd_vfeat_free(vf);
	pd_synth_video_release(&v);
	pd_buf_release(&js);
	pd_buf_release(&fb);
	pd_buf_release(&canon);
}

pd_synth *pd_synth_new(const pd_synth_opts *o, pd_err *err)
{
	if (o->videos < 100 || o->videos > 20000000L) {
		pd_err_set(err, PD_EUSAGE, "the number of videos must be from 100 to 20000000");
		return NULL;
	}
	if (o->days < 7 || o->days > 3650) {
		pd_err_set(err, PD_EUSAGE, "the publish window must be from 7 to 3650 days");
		return NULL;
	}
	if (!(o->null_share >= 0 && o->null_share <= 1)) {
		pd_err_set(err, PD_EUSAGE, "the null share must be from 0 to 1");
		return NULL;
	}
	if (o->macro > 0 && (long)o->macro * 50 > o->videos) {
		pd_err_set(err, PD_EUSAGE, "%d macro topics need at least %ld videos", o->macro,
			   (long)o->macro * 50);
		return NULL;
	}
	if (!(o->trend_share >= 0 && o->trend_share <= 1)) {
		pd_err_set(err, PD_EUSAGE, "the trend share must be from 0 to 1");
		return NULL;
	}
	pd_synth *s = xcalloc(1, sizeof *s);
	s->o = *o;
	s->n = (size_t)o->videos;
	s->start_wd = pd_time_weekday(o->start, 0);
	s->age_mid = 1.2 * log1p(2.6 / 0.7);
	pd_rng r;
	pd_rng_seed(&r, mix64(o->seed + 0x243f6a8885a308d3ULL));
	s->wsetcap = 1024;
	while (s->wsetcap < s->n)
		s->wsetcap <<= 1;
	s->wsetcap <<= 2;
	s->wset = xcalloc(s->wsetcap, sizeof *s->wset);
	for (int k = 0; k < NFILLER; k++)
		wset_add(s, filler[k], strlen(filler[k]));
	for (int k = 0; k < NELEM(reserved_extra); k++)
		wset_add(s, reserved_extra[k], strlen(reserved_extra[k]));
	for (int k = 0; o->proxies && k < NELEM(sibling_words); k++)
		wset_add(s, sibling_words[k], strlen(sibling_words[k]));
	plan_topics(s, &r);
	s->v = xcalloc(s->n, sizeof *s->v);
	for (int k = 0; k < s->nt[2]; k++) {
		const topic *U = &s->t[2][k];
		for (size_t q = 0; q < U->size; q++)
			s->v[U->start + q].micro = (uint32_t)k;
	}
	plan_channels(s, &r);
	if (plan_effects(s, &r, err) < 0) {
		pd_synth_free(s);
		return NULL;
	}
	/* the realistic options draw from a stream of their own, so the main
	 * stream's draws, and all they decide, stay as without them */
	pd_rng r2;
	pd_rng_seed(&r2, mix64(o->seed + 0x13198a2e03707344ULL) ^ 0xa4093822299f31d0ULL);
	plan_trends(s, &r2);
	if (plan_decoys(s, &r2, err) < 0) {
		pd_synth_free(s);
		return NULL;
	}
	plan_habits(s, &r2);
	plan_siblings(s);
	plan_times(s, &r, &r2);
	free(s->wset);
	s->wset = NULL;
	return s;
}

void pd_synth_free(pd_synth *s)
{
	if (!s)
		return;
	for (int l = 0; l < 3; l++)
		free(s->t[l]);
	free(s->ch);
	free(s->eff);
	free(s->arena);
	free(s->word);
	free(s->wset);
	free(s->v);
	free(s->order);
	free(s);
}

void pd_synth_counts_get(const pd_synth *s, pd_synth_counts *c)
{
	c->videos = s->n;
	c->channels = s->nch;
	c->macro = s->nt[0];
	c->meso = s->nt[1];
	c->micro = s->nt[2];
	c->effects = s->neff;
	c->null_meso = s->null_meso;
	c->null_topics = s->null_topics;
	c->nulls = s->ndecoy;
	c->trends = s->ntrend;
	c->baseline_share = s->baseline_share;
}

const char *pd_synth_topic_id(const pd_synth *s, int level, int index)
{
	if (level < 0 || level > 2 || index < 0 || index >= s->nt[level])
		return NULL;
	return s->t[level][index].id;
}

/* ---- generation ---- */

void pd_synth_video_init(pd_synth_video *v)
{
	memset(v, 0, sizeof *v);
}

void pd_synth_video_release(pd_synth_video *v)
{
	pd_buf_release(&v->title);
	pd_buf_release(&v->description);
	pd_buf_release(&v->tags);
}

enum { T_WORD, T_TOPIC, T_LIT };
typedef struct tok {
	const char *s;
	unsigned char kind, glue;	/* glue: no space before */
} tok;

typedef struct tokens {
	tok t[48];
	int n;
} tokens;

static void tpush(tokens *ts, const char *s, int kind, int glue)
{
	if (ts->n < (int)(sizeof ts->t / sizeof *ts->t)) {
		ts->t[ts->n].s = s;
		ts->t[ts->n].kind = (unsigned char)kind;
		ts->t[ts->n].glue = (unsigned char)glue;
		ts->n++;
	}
}

static void tinsert(tokens *ts, int at, const char *s, int kind)
{
	if (ts->n >= (int)(sizeof ts->t / sizeof *ts->t))
		return;
	memmove(&ts->t[at + 1], &ts->t[at], (size_t)(ts->n - at) * sizeof(tok));
	ts->t[at].s = s;
	ts->t[at].kind = (unsigned char)kind;
	ts->t[at].glue = 0;
	ts->n++;
}

static int is_small(const char *w)
{
	for (int k = 0; k < NELEM(smallw); k++)
		if (!strcmp(w, smallw[k]))
			return 1;
	return 0;
}

/* render: tokens into b in the casing style; caps_at: token made ALL CAPS or -1 */
static void render(pd_buf *b, const tokens *ts, int style, int caps_at)
{
	int first_word = 1;
	for (int i = 0; i < ts->n; i++) {
		const tok *t = &ts->t[i];
		if (b->len && !t->glue)
			pd_buf_addc(b, ' ');
		if (t->kind == T_LIT) {
			pd_buf_adds(b, t->s);
			continue;
		}
		size_t at = b->len;
		pd_buf_adds(b, t->s);
		char *p = b->p + at;
		if (i == caps_at) {
			for (; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 32);
		} else if ((style == 0 && (first_word || !is_small(t->s))) || (style == 1 && first_word)) {
			/* capitalise the first letter (of each word of a phrase in title case) */
			int start = 1;
			for (; *p; p++) {
				if (start && *p >= 'a' && *p <= 'z')
					*p = (char)(*p - 32);
				start = *p == ' ' && style == 0;
			}
		}
		first_word = 0;
	}
}

static void translit(char *dst, size_t cap, const char *w, int script)
{
	const char *const *tab = script == SC_CYRILLIC ? cyr : script == SC_GREEK ? grk : dev;
	size_t n = 0;
	for (; *w; w++) {
		if (*w < 'a' || *w > 'z')
			continue;
		const char *x = tab[*w - 'a'];
		size_t l = strlen(x);
		if (n + l + 1 > cap)
			break;
		memcpy(dst + n, x, l);
		n += l;
	}
	dst[n] = 0;
}

/* civil: the proleptic Gregorian date of a day number (Howard Hinnant's algorithm) */
static void civil(long days, long *y, int *m, int *d)
{
	long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	long doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, long v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

/* fmt_time: "YYYY-MM-DDTHH:MM:SSZ" (as pd_time_format, without printf: it is hot) */
static void fmt_time(double t, char *out)
{
	double fl = floor(t);
	long days = (long)floor(fl / 86400.0), secs = (long)(fl - (double)days * 86400.0), y;
	int m, d;
	civil(days, &y, &m, &d);
	put2(out, y / 100);
	put2(out + 2, y % 100);
	out[4] = '-';
	put2(out + 5, m);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = 'T';
	put2(out + 11, secs / 3600);
	out[13] = ':';
	put2(out + 14, secs / 60 % 60);
	out[16] = ':';
	put2(out + 17, secs % 60);
	out[19] = 'Z';
	out[20] = 0;
}

static void add_uint(pd_buf *b, uint64_t v)
{
	char t[24];
	int n = 0;
	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	pd_buf_grow(b, (size_t)n);
	while (n)
		b->p[b->len++] = t[--n];
	b->p[b->len] = 0;
}

/* add_fixed4: x with 4 decimals */
static void add_fixed4(pd_buf *b, double x)
{
	if (x < 0) {
		pd_buf_addc(b, '-');
		x = -x;
	}
	uint64_t v = (uint64_t)floor(x * 10000.0 + 0.5);
	add_uint(b, v / 10000);
	char t[6] = { '.', (char)('0' + v / 1000 % 10), (char)('0' + v / 100 % 10),
		      (char)('0' + v / 10 % 10), (char)('0' + v % 10), 0 };
	pd_buf_add(b, t, 5);
}

void pd_synth_generate(const pd_synth *s, size_t pos, pd_synth_video *v)
{
	generate_slot(s, s->order[pos], v);
}

/* insert_word: w at a random place of ts (draws from r2) */
static void insert_word(tokens *ts, pd_rng *r2, const char *w, int kind)
{
	tinsert(ts, below(r2, ts->n + 1), w, kind);
}

/* zipf_common: a word of common[], the k-th with weight 1/(k+1) */
static const char *zipf_common(pd_rng *r2)
{
	static const double H = 3.597739657143682;	/* sum of 1/k, k = 1..20 */
	double u = unif(r2) * H;
	for (int k = 0; k < NCOMMON; k++) {
		u -= 1.0 / (k + 1);
		if (u < 0)
			return common[k];
	}
	return common[NCOMMON - 1];
}

/* generate_slot: the video of plan slot idx (pd_synth_generate maps output
 * positions to slots).  The realistic options draw from a second stream, r2,
 * so the main stream's draws stay as without them. */
static void generate_slot(const pd_synth *s, uint32_t idx, pd_synth_video *v)
{
	const vplan *p = &s->v[idx];
	const topic *U = &s->t[2][p->micro], *S = &s->t[1][U->parent], *M = &s->t[0][S->parent];
	const channel *c = &s->ch[p->channel];
	pd_rng rr, *r = &rr, rr2, *r2 = &rr2;
	pd_rng_seed(r, mix64(s->o.seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL) ^ ((uint64_t)idx * 0xd1342543de82ef95ULL));
	pd_rng_seed(r2, mix64(s->o.seed * 0xc2b2ae3d27d4eb4fULL + 0x165667b19e3779f9ULL) ^ ((uint64_t)idx * 0x9fb21c651e98df25ULL));
	int day = (int)(p->pub / 86400u);

	/* id: a bijection of the slot index, so ids never collide */
	uint64_t h = mix64(((uint64_t)idx + 1) * 0x9e3779b97f4a7c15ULL + mix64(s->o.seed));
	for (int k = 0; k < 10; k++)
		v->id[k] = b64[(h >> (6 * k)) & 63];
	v->id[10] = "AEIMQUYcgkosw048"[(h >> 60) & 15];
	v->id[11] = 0;
	v->channel = (int)p->channel;
	v->channel_id = c->id;
	v->channel_title = c->name;
	v->category = cats[c->cat].name;
	v->category_id = cats[c->cat].id;
	v->language = script_lang[c->script];
	v->audio_language = c->script == SC_LATIN ? (unif(r) < 0.8 ? "en" : "und") : script_lang[c->script];
	v->macro = S->parent;
	v->meso = U->parent;
	v->micro = (int)p->micro;

	/* planted effects: forced on or off */
	const effect *ef[4];
	int ne = effects_of(s, p, ef);
	signed char fphrase[NPHRASE], fflag[TF_N], ftag[NGTAG];
	memset(fphrase, 0, sizeof fphrase);
	memset(fflag, 0, sizeof fflag);
	memset(ftag, 0, sizeof ftag);
	int fdur = -1, fdur_has = 0, long_title = 0;
	v->neff = 0;
	v->nnull = 0;
	v->log_effect = 0;
	for (int k = 0; k < ne; k++) {
		int has = (p->mask >> ef[k]->slot) & 1;
		if (has && ef[k]->kind == K_NGRAM && s->o.proxies)
			long_title = 1;	/* a planted phrase makes titles longer */
		signed char f = has ? 1 : -1;
		switch (ef[k]->kind) {
		case K_NGRAM: fphrase[ef[k]->value] = f; break;
		case K_TITLE: fflag[ef[k]->value] = f; break;
		case K_TAG: ftag[ef[k]->value] = f; break;
		case K_DUR: fdur = ef[k]->value; fdur_has = has; break;
		case K_SHORT: fdur = 0; fdur_has = has; break;
		default: break;
		}
		if (has && ef[k]->decoy) {
			v->nul[v->nnull++] = (int)(ef[k] - s->eff);
		} else if (has) {
			/* a trend's effect holds only inside its window */
			if (!ef[k]->trend || (day >= ef[k]->w0 && day < ef[k]->w1))
				v->log_effect += log(ef[k]->mult);
			v->eff[v->neff++] = (int)(ef[k] - s->eff);
		}
	}

	/* switches at their base rates, then the forced ones */
	int flag[TF_N], phr[NPHRASE];
	for (int k = 0; k < TF_N; k++)
		flag[k] = fflag[k] ? fflag[k] > 0 : unif(r) < tf_rate[k];
	for (int k = 0; k < NPHRASE; k++)
		phr[k] = fphrase[k] ? fphrase[k] > 0 : unif(r) < phrase_rate[k];
	int nonlatin = c->script != SC_LATIN ? unif(r) < 0.5 : unif(r) < 0.01;
	int script = c->script != SC_LATIN ? c->script : 1 + below(r, 3);

	/* ---- title ---- */
	tokens body = { .n = 0 };
	int wi[2];
	wi[0] = below(r, U->nw);
	wi[1] = (wi[0] + 1 + below(r, U->nw - 1)) % U->nw;
	tpush(&body, word_of(s, U, wi[0]), T_TOPIC, 0);
	tpush(&body, word_of(s, U, wi[1]), T_TOPIC, 0);
	if (unif(r) < 0.6) {
		int w3 = below(r, U->nw);
		if (w3 != wi[0] && w3 != wi[1])
			tpush(&body, word_of(s, U, w3), T_TOPIC, 0);
	}
	int ns = 1 + (unif(r) < 0.5);
	int si = below(r, S->nw);
	for (int k = 0; k < ns; k++)
		tpush(&body, word_of(s, S, (si + 3 * k) % S->nw), T_TOPIC, 0);
	int mw = below(r, M->nw);
	tpush(&body, word_of(s, M, mw), T_TOPIC, 0);
	if (unif(r) < 0.3)
		tpush(&body, word_of(s, M, (mw + 1 + below(r, M->nw - 1)) % M->nw), T_TOPIC, 0);
	int nf = below(r, 3);
	for (int k = 0; k < nf; k++)
		tpush(&body, filler[below(r, NFILLER)], T_WORD, 0);
	for (int k = body.n; k > 1; k--) {
		int j = below(r, k);
		tok t = body.t[k - 1];
		body.t[k - 1] = body.t[j];
		body.t[j] = t;
	}
	if (long_title) {
		/* a clause of 4-6 more topic words, none already in the title */
		int nl = 4 + below(r2, 3);
		for (int k = 0; k < nl; k++) {
			const char *w = NULL;
			for (int tries = 0; tries < 8 && !w; tries++) {
				w = unif(r2) < 0.5 ? word_of(s, U, below(r2, U->nw)) : word_of(s, S, below(r2, S->nw));
				for (int q = 0; q < body.n && w; q++)
					if (body.t[q].s == w)
						w = NULL;
			}
			if (w)
				insert_word(&body, r2, w, T_TOPIC);
		}
	}
	if (s->o.habits) {
		if (c->pet_word >= 0 && unif(r2) < 0.4)
			insert_word(&body, r2, common[c->pet_word], T_WORD);
		double u = unif(r2);
		int nc = u < 0.5 ? 0 : u < 0.85 ? 1 : 2;
		for (int k = 0; k < nc; k++)
			insert_word(&body, r2, zipf_common(r2), T_WORD);
	}
	for (int l = 0; l < 2 && s->o.proxies; l++) {
		/* the other keywords of the format a planted phrase implies */
		int sib = (l ? U : S)->sib;
		if (sib && unif(r2) < 0.2) {
			const char *w = s->sib[sib - 1][below(r2, s->nsib[sib - 1])];
			if (unif(r2) < 0.3)
				tinsert(&body, 0, w, T_WORD);
			else
				tpush(&body, w, T_WORD, 0);
		}
	}
	/* phrases: "how to" leads, "vs" sits between two words, others start or end */
	for (int k = 0; k < NPHRASE; k++) {
		if (!phr[k])
			continue;
		if (k == 0)
			tinsert(&body, 0, phrases[k], T_WORD);
		else if (k == 1)
			tinsert(&body, 1 + below(r, body.n - 1), phrases[k], T_WORD);
		else if (unif(r) < 0.3)
			tinsert(&body, 0, phrases[k], T_WORD);
		else
			tpush(&body, phrases[k], T_WORD, 0);
	}
	if (flag[TF_QUESTION] && unif(r) < 0.4)
		tinsert(&body, 0, unif(r) < 0.5 ? "why" : "what", T_WORD);
	if (flag[TF_FIRST]) {
		if (unif(r) < 0.5)
			tinsert(&body, 0, unif(r) < 0.7 ? "my" : "our", T_WORD);
		else
			tinsert(&body, 0, "I", T_LIT);
	}
	if (flag[TF_SECOND]) {
		/* one draw per statement: the order of a call's arguments is unspecified */
		const char *you = unif(r) < 0.5 ? "you" : "your";
		tinsert(&body, below(r, body.n + 1), you, T_WORD);
	}
	if (flag[TF_QUOTE]) {
		/* a quoted topic word: "word" */
		for (int k = 0; k < body.n; k++)
			if (body.t[k].kind == T_TOPIC) {
				tinsert(&body, k, "\"", T_LIT);
				body.t[k + 2 - 1].glue = 1;
				tinsert(&body, k + 2, "\"", T_LIT);
				body.t[k + 2].glue = 1;
				break;
			}
	}

	tokens ts = { .n = 0 };
	char nbuf[4][24], tr[64];
	int lead_emoji = flag[TF_EMOJI] && !flag[TF_LISTICLE] && unif(r) < 0.3;
	if (lead_emoji)
		tpush(&ts, emoji[below(r, NEMOJI)], T_LIT, 0);
	if (flag[TF_LISTICLE]) {
		snprintf(nbuf[0], sizeof nbuf[0], "%d", 3 + below(r, 23));
		tpush(&ts, nbuf[0], T_LIT, 0);
	}
	int caps_at = -1;
	for (int k = 0; k < body.n; k++) {
		if (flag[TF_CAPS] && caps_at < 0 && body.t[k].kind == T_TOPIC)
			caps_at = ts.n;
		ts.t[ts.n++] = body.t[k];
	}
	if (nonlatin) {
		translit(tr, sizeof tr, word_of(s, U, wi[below(r, 2)]), script);
		tpush(&ts, tr, T_LIT, 0);
	}
	if (flag[TF_SEP]) {
		double u = unif(r);
		if (u < 0.5) {
			tpush(&ts, "|", T_LIT, 0);
			tpush(&ts, c->name, T_LIT, 0);
		} else if (u < 0.8) {
			tpush(&ts, "-", T_LIT, 0);
			tpush(&ts, word_of(s, S, below(r, S->nw)), T_TOPIC, 0);
		} else if (ts.n > 2) {
			tinsert(&ts, 2, ":", T_LIT);
			ts.t[2].glue = 1;
			if (caps_at >= 2)
				caps_at++;
		} else {
			tpush(&ts, "|", T_LIT, 0);
			tpush(&ts, c->name, T_LIT, 0);
		}
	}
	if (flag[TF_PARENS]) {
		tpush(&ts, "(", T_LIT, 0);
		tpush(&ts, word_of(s, S, below(r, S->nw)), T_TOPIC, 1);
		if (unif(r) < 0.5)
			tpush(&ts, word_of(s, U, below(r, U->nw)), T_TOPIC, 0);
		tpush(&ts, ")", T_LIT, 1);
	}
	if (flag[TF_BRACKETS]) {
		tpush(&ts, "[", T_LIT, 0);
		tpush(&ts, word_of(s, M, below(r, M->nw)), T_TOPIC, 1);
		tpush(&ts, "]", T_LIT, 1);
	}
	double pub = s->o.start + p->pub;
	if (flag[TF_YEAR]) {
		long y;
		int mo, dd;
		civil((long)floor(pub / 86400.0), &y, &mo, &dd);
		snprintf(nbuf[1], sizeof nbuf[1], "%ld", y + (unif(r) < 0.2));
		tpush(&ts, nbuf[1], T_LIT, 0);
	}
	if (flag[TF_PART]) {
		tpush(&ts, "part", T_WORD, 0);
		snprintf(nbuf[2], sizeof nbuf[2], "%d", 2 + below(r, 11));
		tpush(&ts, nbuf[2], T_LIT, 0);
	}
	if (flag[TF_QUESTION] && flag[TF_EXCL])
		tpush(&ts, "?!", T_LIT, 1);
	else if (flag[TF_QUESTION])
		tpush(&ts, "?", T_LIT, 1);
	else if (flag[TF_EXCL])
		tpush(&ts, unif(r) < 0.2 ? "!!" : "!", T_LIT, 1);
	if (flag[TF_EMOJI] && !lead_emoji) {
		int ne2 = 1 + (unif(r) < 0.3);
		for (int k = 0; k < ne2; k++)
			tpush(&ts, emoji[below(r, NEMOJI)], T_LIT, 0);
	}
	pd_buf_reset(&v->title);
	render(&v->title, &ts, c->style, caps_at);

	/* ---- description: empty, or a sentence or two, links, hashtags ---- */
	pd_buf_reset(&v->description);
	if (unif(r) < 0.6) {
		tokens d = { .n = 0 };
		int nw = 6 + below(r, 8);
		for (int k = 0; k < nw; k++) {
			double u = unif(r);
			if (u < 0.4)
				tpush(&d, filler[below(r, NFILLER)], T_WORD, 0);
			else if (u < 0.7)
				tpush(&d, word_of(s, U, below(r, U->nw)), T_TOPIC, 0);
			else if (u < 0.9)
				tpush(&d, word_of(s, S, below(r, S->nw)), T_TOPIC, 0);
			else
				tpush(&d, word_of(s, M, below(r, M->nw)), T_TOPIC, 0);
		}
		tpush(&d, ".", T_LIT, 1);
		render(&v->description, &d, 1, -1);
		if (unif(r) < 0.25) {
			pd_buf_adds(&v->description, unif(r) < 0.5 ? "\n\n" : "\n");
			pd_buf_printf(&v->description, "https://example.com/%s", word_of(s, S, 0));
		}
		if (unif(r) < 0.3) {
			int ws = below(r, S->nw), wu = below(r, U->nw);	/* in this order, one by one */
			pd_buf_printf(&v->description, " #%s #%s", word_of(s, U, wu), word_of(s, S, ws));
		}
	}

	/* ---- tags ---- */
	pd_buf_reset(&v->tags);
	int gt[NGTAG], any_g = 0;
	int has_tags = unif(r) < c->tag_rate;
	for (int k = 0; k < NGTAG; k++) {
		gt[k] = ftag[k] ? ftag[k] > 0 : has_tags && unif(r) < GTAG_RATE;
		any_g |= gt[k];
	}
	if (has_tags && c->pet_tag >= 0 && !ftag[c->pet_tag] && unif(r2) < 0.5)
		gt[c->pet_tag] = 1;
	/* proxies: every video carries its meso and micro topic's own tag (the
	 * first word of each vocabulary), which the walk below then skips */
	const char *sig[2] = { s->o.proxies ? word_of(s, U, 0) : NULL, s->o.proxies ? word_of(s, S, 0) : NULL };
	if (!(has_tags || any_g) && sig[0]) {
		pd_buf_adds(&v->tags, sig[0]);
		pd_buf_addc(&v->tags, '|');
		pd_buf_adds(&v->tags, sig[1]);
	}
	if (has_tags || any_g) {
		int nt = has_tags ? (int)floor(exp(log(8) + 0.6 * pd_rng_normal(r))) : 2;
		if (nt < 1)
			nt = 1;
		if (nt > 30)
			nt = 30;
		int first = 1;
		if (has_tags) {
			pd_buf_adds(&v->tags, c->name_lc);
			first = 0;
			nt--;
		}
		for (int l = 0; l < 2 && sig[l]; l++) {
			if (!first)
				pd_buf_addc(&v->tags, '|');
			pd_buf_adds(&v->tags, sig[l]);
			first = 0;
		}
		/* topic words without repeats: walk the vocabularies from random starts */
		const topic *src[3] = { U, S, M };
		int off[3], used[3] = { 0, 0, 0 };
		off[0] = below(r, U->nw);	/* one by one: an initializer list's order is unspecified */
		off[1] = below(r, S->nw);
		off[2] = below(r, M->nw);
		for (int k = 0; k < nt; k++) {
			int l = unif(r) < 0.5 ? 0 : unif(r) < 0.7 ? 1 : 2;
			if (used[l] >= src[l]->nw)
				continue;
			int w = (off[l] + used[l]++) % src[l]->nw;
			if (w == 0 && l < 2 && sig[l])
				continue;	/* the topic's own tag, already there */
			if (!first)
				pd_buf_addc(&v->tags, '|');
			pd_buf_adds(&v->tags, word_of(s, src[l], w));
			first = 0;
		}
		for (int k = 0; k < NGTAG; k++)
			if (gt[k]) {
				if (!first)
					pd_buf_addc(&v->tags, '|');
				pd_buf_adds(&v->tags, gtags[k]);
				first = 0;
			}
	}

	/* ---- duration ---- */
	int bucket;
	if (fdur >= 0 && fdur_has)
		bucket = fdur;
	else
		bucket = pick(r, M->dur, 5, fdur);
	int dur;
	switch (bucket) {
	case 0: dur = 5 + below(r, 55); break;
	case 4: {
		double x = exp(log(2400) + 0.8 * pd_rng_normal(r));
		dur = x < 1200 ? 1200 + below(r, 600) : x > 43200 ? 43200 : (int)x;
		break;
	}
	default:
		dur = (int)floor(exp(log(dur_lo[bucket] + 1) +
				 unif(r) * (log(dur_hi[bucket]) - log(dur_lo[bucket] + 1))));
		if (dur >= dur_hi[bucket])
			dur = dur_hi[bucket] - 1;
		if (dur <= dur_lo[bucket])
			dur = dur_lo[bucket] + 1;
	}
	if (fdur < 0 && unif(r) < 0.0015)
		dur = 0;	/* live streams and premieres */
	v->duration_s = dur;

	/* ---- times and counts ---- */
	double z = pd_rng_normal(r);
	double age = exp(log(2.6) + z * (z < 0 ? 1.46 : 1.125));
	if (age < 0.02)
		age = 0.02 + 0.01 * unif(r);
	if (age > 400)
		age = 400 - unif(r);
	v->published = pub;
	v->observed = pub + floor(age * 86400.0);
	age = (v->observed - pub) / 86400.0;
	v->days_observed = 1 + (int)floor(unif(r) * fmin(age, 12.0));
	v->first_observed = v->observed - (v->days_observed - 1) * 86400.0;
	if (v->days_observed > 1)
		v->first_observed -= below(r, 3600);
	if (v->first_observed < pub)
		v->first_observed = pub;
	v->log_base = c->base;
	v->log_age = 1.2 * log1p(age / 0.7) - s->age_mid;
	v->log_noise = s->o.noise_sd * pd_rng_normal(r);
	v->log_channel = c->streak_boost > 0 && day >= c->streak0 && day < c->streak1 ? c->streak_boost : 0;
	double lv = v->log_base + v->log_age + v->log_effect + v->log_noise;
	if (v->log_channel != 0)
		lv += v->log_channel;
	v->views = floor(exp(lv) + 0.5);
	v->likes = c->likes_hidden ? 0 : floor(v->views * c->like_rate * exp(0.35 * pd_rng_normal(r)) + 0.5);
	v->comments = c->comments_off ? 0 : floor(v->views * c->comment_rate * exp(0.5 * pd_rng_normal(r)) + 0.5);
	if (v->likes > v->views)
		v->likes = v->views;
	int nc = 1;
	while (nc < 12 && unif(r) < 0.45)
		nc++;
	v->n_countries = nc;
	int start = below(r, NELEM(countries)), step = 1 + below(r, 5);
	size_t n = 0;
	for (int k = 0; k < nc; k++) {
		const char *cc = countries[(start + k * step) % NELEM(countries)];
		if (k)
			v->countries[n++] = '|';
		memcpy(v->countries + n, cc, 2);
		n += 2;
	}
	v->countries[n] = 0;
	v->hd = unif(r) < 0.98;
	v->caption = unif(r) < 0.085;
	v->licensed = unif(r) < 0.89;
}

/* ---- formats ---- */

static void csv_field(pd_buf *b, const char *s, size_t n)
{
	int q = 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n') {
			q = 1;
			break;
		}
	if (!q) {
		pd_buf_add(b, s, n);
		return;
	}
	pd_buf_addc(b, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			pd_buf_addc(b, '"');
		pd_buf_addc(b, s[i]);
	}
	pd_buf_addc(b, '"');
}

static void iso_duration(char *out, size_t cap, int d)
{
	if (d <= 0) {
		snprintf(out, cap, "P0D");
		return;
	}
	int days = d / 86400, h = d / 3600 % 24, m = d / 60 % 60, sec = d % 60;
	size_t n = 0;
	n += (size_t)snprintf(out + n, cap - n, "P");
	if (days)
		n += (size_t)snprintf(out + n, cap - n, "%dD", days);
	if (h || m || sec)
		n += (size_t)snprintf(out + n, cap - n, "T");
	if (h)
		n += (size_t)snprintf(out + n, cap - n, "%dH", h);
	if (m)
		n += (size_t)snprintf(out + n, cap - n, "%dM", m);
	if (sec)
		snprintf(out + n, cap - n, "%dS", sec);
}

static const char csv_cols[] =
	"video_id,channel_id,channel_title,title,description,tags,category_id,category_name,"
	"published_at,duration_s,duration_iso,view_count,like_count,comment_count,observed_at,"
	"first_observed_at,days_observed,n_countries,countries,default_language,audio_language,"
	"definition,caption,licensed_content,is_live,source";

void pd_synth_csv_header(pd_buf *out)
{
	pd_buf_adds(out, csv_cols);
	pd_buf_adds(out, "\r\n");
}

static void csv_s(pd_buf *b, const char *s)
{
	csv_field(b, s, strlen(s));
	pd_buf_addc(b, ',');
}

void pd_synth_csv_row(const pd_synth_video *v, pd_buf *b)
{
	char t1[32], t2[32], t3[32], iso[40];
	fmt_time(v->published, t1);
	fmt_time(v->observed, t2);
	fmt_time(v->first_observed, t3);
	iso_duration(iso, sizeof iso, v->duration_s);
	csv_s(b, v->id);
	csv_s(b, v->channel_id);
	csv_s(b, v->channel_title);
	csv_field(b, v->title.p ? v->title.p : "", v->title.len);
	pd_buf_addc(b, ',');
	csv_field(b, v->description.p ? v->description.p : "", v->description.len);
	pd_buf_addc(b, ',');
	csv_field(b, v->tags.p ? v->tags.p : "", v->tags.len);
	pd_buf_addc(b, ',');
	csv_s(b, v->category_id);
	csv_s(b, v->category);
	pd_buf_adds(b, t1);
	pd_buf_addc(b, ',');
	add_uint(b, (uint64_t)v->duration_s);
	pd_buf_addc(b, ',');
	pd_buf_adds(b, iso);
	pd_buf_addc(b, ',');
	add_uint(b, (uint64_t)v->views);
	pd_buf_addc(b, ',');
	add_uint(b, (uint64_t)v->likes);
	pd_buf_addc(b, ',');
	add_uint(b, (uint64_t)v->comments);
	pd_buf_addc(b, ',');
	pd_buf_adds(b, t2);
	pd_buf_addc(b, ',');
	pd_buf_adds(b, t3);
	pd_buf_addc(b, ',');
	add_uint(b, (uint64_t)v->days_observed);
	pd_buf_addc(b, ',');
	add_uint(b, (uint64_t)v->n_countries);
	pd_buf_addc(b, ',');
	pd_buf_adds(b, v->countries);
	pd_buf_addc(b, ',');
	pd_buf_adds(b, v->language);
	pd_buf_addc(b, ',');
	pd_buf_adds(b, v->audio_language);
	pd_buf_adds(b, v->hd ? ",hd," : ",sd,");
	pd_buf_adds(b, v->caption ? "true," : "false,");
	pd_buf_adds(b, v->licensed ? "true," : "false,");
	pd_buf_adds(b, "false,pd-synth\r\n");
}

/* json_kv: ,"k":"s" into an object's text */
static void json_kv(pd_buf *b, const char *k, const char *s)
{
	pd_buf_adds(b, ",\"");
	pd_buf_adds(b, k);
	pd_buf_adds(b, "\":");
	pd_buf_add_json_string(b, s, strlen(s));
}

/* the record through lib/video's writer, with the CSV columns pd-fetch
 * keeps as "extra" (strings), as pd-fetch would write the CSV row */
void pd_synth_ndjson(const pd_synth_video *v, pd_buf *b)
{
	char t1[32], t2[32], t3[32], num[24];
	fmt_time(v->published, t1);
	fmt_time(v->observed, t2);
	fmt_time(v->first_observed, t3);
	pd_video r;
	pd_video_init(&r);
	r.id = v->id;
	r.channel_id = v->channel_id;
	r.channel_title = v->channel_title;
	r.title = v->title.len ? v->title.p : "";
	r.description = v->description.len ? v->description.p : NULL;	/* as pd-fetch reads an empty CSV field */
	/* the tags, '|'-joined, as strings */
	pd_buf tt = PD_BUF_INIT;
	pd_buf_add(&tt, v->tags.p ? v->tags.p : "", v->tags.len);
	int n = 0;
	for (size_t i = 0; i < tt.len; i++)
		n += tt.p[i] == '|';
	const char **tags = xcalloc((size_t)n + 2, sizeof *tags);
	n = 0;
	if (tt.len) {
		char *t = tt.p;
		tags[n++] = t;
		for (; *t; t++)
			if (*t == '|') {
				*t = 0;
				tags[n++] = t + 1;
			}
		if (n > 1 && !*tags[n - 1])
			n--;	/* "a|b|": no empty last tag */
	}
	r.tags = tags;
	r.ntags = n;
	r.category = v->category;
	r.category_id = v->category_id;
	pd_time_parse(t1, &r.published_at);
	pd_time_parse(t2, &r.observed_at);
	r.duration_s = (double)(uint64_t)v->duration_s;
	r.views = (double)(uint64_t)v->views;
	r.likes = (double)(uint64_t)v->likes;
	r.comments = (double)(uint64_t)v->comments;
	r.is_short = v->duration_s > 0 && v->duration_s <= 60;
	r.fields = PD_VF_CHANNEL_ID | PD_VF_CHANNEL_TITLE | PD_VF_TITLE | PD_VF_DESCRIPTION |
		   PD_VF_TAGS | PD_VF_CATEGORY | PD_VF_CATEGORY_ID | PD_VF_PUBLISHED_AT |
		   PD_VF_OBSERVED_AT | PD_VF_DURATION_S | PD_VF_VIEWS | PD_VF_LIKES |
		   PD_VF_COMMENTS | PD_VF_IS_SHORT;
	pd_buf x = PD_BUF_INIT;
	pd_buf_adds(&x, "{\"first_observed_at\":");
	pd_buf_add_json_string(&x, t3, strlen(t3));
	snprintf(num, sizeof num, "%d", v->days_observed);
	json_kv(&x, "days_observed", num);
	snprintf(num, sizeof num, "%d", v->n_countries);
	json_kv(&x, "n_countries", num);
	json_kv(&x, "countries", v->countries);
	json_kv(&x, "default_language", v->language);
	json_kv(&x, "audio_language", v->audio_language);
	json_kv(&x, "definition", v->hd ? "hd" : "sd");
	json_kv(&x, "caption", v->caption ? "true" : "false");
	json_kv(&x, "licensed_content", v->licensed ? "true" : "false");
	pd_buf_adds(&x, ",\"is_live\":\"false\",\"source\":\"pd-synth\"}");
	r.extra = x.p;
	r.extra_len = x.len;
	pd_video_write(b, &r);
	free(tags);
	pd_buf_release(&tt);
	pd_buf_release(&x);
}

static void feature_json(const effect *e, pd_buf *b)
{
	switch (e->kind) {
	case K_NGRAM:
		pd_buf_adds(b, "{\"kind\":\"ngram\",\"value\":");
		pd_buf_add_json_string(b, phrases[e->value], strlen(phrases[e->value]));
		pd_buf_addc(b, '}');
		break;
	case K_TITLE:
		pd_buf_printf(b, "{\"kind\":\"title\",\"value\":\"%s\"}", tf_name[e->value]);
		break;
	case K_DUR:
		if (dur_hi[e->value])
			pd_buf_printf(b, "{\"kind\":\"duration\",\"min_s\":%d,\"max_s\":%d}",
				      dur_lo[e->value], dur_hi[e->value]);
		else
			pd_buf_printf(b, "{\"kind\":\"duration\",\"min_s\":%d}", dur_lo[e->value]);
		break;
	case K_SHORT:
		pd_buf_adds(b, "{\"kind\":\"short\"}");
		break;
	case K_WEEKDAY:
		pd_buf_printf(b, "{\"kind\":\"weekday\",\"value\":%d}", e->value);
		break;
	case K_HOUR:
		pd_buf_printf(b, "{\"kind\":\"hour\",\"min\":%d,\"max\":%d}", hour_lo[e->value],
			      hour_lo[e->value] + 6);
		break;
	default:
		pd_buf_adds(b, "{\"kind\":\"tag\",\"value\":");
		pd_buf_add_json_string(b, gtags[e->value], strlen(gtags[e->value]));
		pd_buf_addc(b, '}');
	}
}

/* add_day: ,"KEY":"<the UTC midnight of day d after the start>" */
static void add_day(const pd_synth *s, pd_buf *b, const char *key, int d)
{
	char t[32];
	fmt_time(s->o.start + 86400.0 * d, t);
	pd_buf_printf(b, "\"%s\":\"%s\"", key, t);
}

/* the kind of a planted feature in time: evergreen, or a trend with its window */
static void add_kind(const pd_synth *s, const effect *e, pd_buf *b)
{
	if (!e->trend) {
		pd_buf_adds(b, ",\"kind\":\"evergreen\"");
		return;
	}
	pd_buf_adds(b, ",\"kind\":\"trend\",\"window\":{");
	add_day(s, b, "start", e->w0);
	pd_buf_addc(b, ',');
	add_day(s, b, "end", e->w1);
	pd_buf_printf(b, "},\"n_with_window\":%zu", e->n_with_window);
}

void pd_synth_truth_head(const pd_synth *s, pd_buf *b)
{
	char t[32];
	int ext = realistic(s);
	proxies px;
	measure_proxies(s, &px);
	fmt_time(s->o.start, t);
	pd_buf_printf(b, "{\"type\":\"truth_config\",\"videos\":%zu,\"seed\":%llu,\"channels\":%zu,"
		      "\"macro\":%d,\"meso\":%d,\"micro\":%d,\"effects\":%d,\"null_share\":%g,"
		      "\"null_meso\":%d,\"start\":\"%s\",\"days\":%d,\"noise_sd\":%g,"
		      "\"baseline_share\":%.4f,\"model\":\"ln(views) = log_base + log_age + %slog_effect + log_noise\","
		      "\"age_term\":\"1.2*ln(1+age_days/0.7) - 1.2*ln(1+2.6/0.7)\",\"time_zone\":\"UTC\"",
		      s->n, (unsigned long long)s->o.seed, s->nch, s->nt[0], s->nt[1], s->nt[2],
		      s->neff, s->o.null_share, s->null_meso, t, s->o.days, s->o.noise_sd,
		      s->baseline_share, s->o.habits ? "log_channel + " : "");
	if (ext)
		pd_buf_printf(b, ",\"null_topics\":%d,\"nulls\":%d,\"proxies\":%s,\"proxies_listed\":%d,"
			      "\"trend_share\":%.4g,\"trends\":%d,\"habits\":%s",
			      s->null_topics, s->ndecoy, s->o.proxies ? "true" : "false", px.n,
			      s->o.trend_share, s->ntrend, s->o.habits ? "true" : "false");
	pd_buf_adds(b, "}\n");
	static const char *const lname[3] = { "macro", "meso", "micro" };
	for (int l = 0; l < 3; l++)
		for (int i = 0; i < s->nt[l]; i++) {
			const topic *T = &s->t[l][i];
			pd_buf_printf(b, "{\"type\":\"truth_topic\",\"level\":\"%s\",\"id\":\"%s\",\"parent\":",
				      lname[l], T->id);
			if (l == 0)
				pd_buf_adds(b, "null");
			else
				pd_buf_printf(b, "\"%s\"", s->t[l - 1][T->parent].id);
			pd_buf_printf(b, ",\"size\":%zu,\"words\":[", T->size);
			for (int k = 0; k < T->nw; k++) {
				const char *w = word_of(s, T, k);
				if (k)
					pd_buf_addc(b, ',');
				pd_buf_add_json_string(b, w, strlen(w));
			}
			pd_buf_printf(b, "],\"null\":%s", T->null ? "true" : "false");
			if (l == 0)
				pd_buf_printf(b, ",\"category\":\"%s\"", cats[T->cat].name);
			if (l > 0 && s->o.proxies) {
				pd_buf_adds(b, ",\"tag\":");
				pd_buf_add_json_string(b, word_of(s, T, 0), strlen(word_of(s, T, 0)));
			}
			pd_buf_adds(b, "}\n");
		}
	for (int j = 0; j < s->neff; j++) {
		const effect *e = &s->eff[j];
		const topic *T = &s->t[e->level][e->topic];
		pd_buf_printf(b, "{\"type\":\"truth_effect\",\"id\":\"%s\",\"level\":\"%s\",\"topic\":\"%s\",\"feature\":",
			      e->id, lname[e->level], T->id);
		feature_json(e, b);
		pd_buf_printf(b, ",\"multiplier\":%.2f,\"n\":%zu,\"n_with\":%zu,\"n_with_baseline\":%zu,"
			      "\"base_rate\":%.4f", e->mult, e->n, e->n_with, e->n_with_base, e->base_rate);
		if (ext) {
			pd_buf_adds(b, ",\"direction\":\"positive\"");
			add_kind(s, e, b);
		}
		pd_buf_adds(b, "}\n");
	}
	for (int j = s->neff; j < s->neff + s->ndecoy; j++) {
		const effect *e = &s->eff[j];
		const topic *T = &s->t[e->level][e->topic];
		pd_buf_printf(b, "{\"type\":\"truth_null\",\"id\":\"%s\",\"level\":\"%s\",\"topic\":\"%s\",\"feature\":",
			      e->id, lname[e->level], T->id);
		feature_json(e, b);
		pd_buf_printf(b, ",\"mirrors\":\"%s\",\"n\":%zu,\"n_with\":%zu,\"n_with_baseline\":%zu",
			      s->eff[e->mirrors].id, e->n, e->n_with, e->n_with_base);
		add_kind(s, e, b);
		pd_buf_adds(b, "}\n");
	}
	static const char *const why[] = { "alias", "subset", "proxy", "topic_tag" };
	for (int k = 0; k < px.n; k++) {
		const proxy *x = &px.p[k];
		pd_buf_printf(b, "{\"type\":\"truth_proxy\",\"effect\":\"%s\",\"why\":\"%s\",\"level\":\"%s\","
			      "\"topic\":\"%s\",\"feature\":%s,\"n\":%zu,\"n_with\":%zu,\"n_both\":%zu,"
			      "\"n_carriers\":%zu}\n", s->eff[x->effect].id, why[x->why], lname[x->level],
			      s->t[x->level][x->topic].id, x->feature, x->n, x->n_with, x->n_both, x->n_carriers);
	}
	for (size_t i = 0; s->o.habits && i < s->nch; i++) {
		const channel *c = &s->ch[i];
		if (c->fav_wd < 0)
			continue;
		pd_buf_printf(b, "{\"type\":\"truth_channel\",\"id\":\"%s\",\"meso\":\"%s\",\"videos\":%d,"
			      "\"log_base\":%.4f,\"weekday\":%d,\"hour\":%d,\"word\":\"%s\",\"tag\":",
			      c->id, s->t[1][c->meso].id, c->size, c->base, c->fav_wd, c->fav_hour,
			      common[c->pet_word]);
		if (c->pet_tag >= 0)
			pd_buf_printf(b, "\"%s\"", gtags[c->pet_tag]);
		else
			pd_buf_adds(b, "null");
		if (c->streak_boost > 0) {
			pd_buf_adds(b, ",\"streak\":{");
			add_day(s, b, "start", c->streak0);
			pd_buf_addc(b, ',');
			add_day(s, b, "end", c->streak1);
			pd_buf_printf(b, ",\"multiplier\":%.2f}}\n", exp(c->streak_boost));
		} else {
			pd_buf_adds(b, ",\"streak\":null}\n");
		}
	}
	proxies_release(&px);
}

void pd_synth_truth_video(const pd_synth *s, const pd_synth_video *v, pd_buf *b)
{
	const topic *U = &s->t[2][v->micro], *S = &s->t[1][U->parent], *M = &s->t[0][S->parent];
	pd_buf_adds(b, "{\"type\":\"truth_video\",\"id\":\"");
	pd_buf_adds(b, v->id);
	pd_buf_adds(b, "\",\"channel_id\":\"");
	pd_buf_adds(b, v->channel_id);
	pd_buf_adds(b, "\",\"macro\":\"");
	pd_buf_adds(b, M->id);
	pd_buf_adds(b, "\",\"meso\":\"");
	pd_buf_adds(b, S->id);
	pd_buf_adds(b, "\",\"micro\":\"");
	pd_buf_adds(b, U->id);
	pd_buf_adds(b, "\",\"log_base\":");
	add_fixed4(b, v->log_base);
	pd_buf_adds(b, ",\"log_age\":");
	add_fixed4(b, v->log_age);
	pd_buf_adds(b, ",\"log_effect\":");
	add_fixed4(b, v->log_effect);
	pd_buf_adds(b, ",\"log_noise\":");
	add_fixed4(b, v->log_noise);
	if (s->o.habits) {
		pd_buf_adds(b, ",\"log_channel\":");
		add_fixed4(b, v->log_channel);
	}
	pd_buf_adds(b, ",\"effects\":[");
	for (int k = 0; k < v->neff; k++)
		pd_buf_printf(b, "%s\"%s\"", k ? "," : "", s->eff[v->eff[k]].id);
	pd_buf_adds(b, "]");
	if (s->o.null_topics) {
		pd_buf_adds(b, ",\"nulls\":[");
		for (int k = 0; k < v->nnull; k++)
			pd_buf_printf(b, "%s\"%s\"", k ? "," : "", s->eff[v->nul[k]].id);
		pd_buf_adds(b, "]");
	}
	pd_buf_adds(b, "}\n");
}
