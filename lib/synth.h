/*
 * synth.h — synthetic video sets with planted, known patterns (pd-synth).
 *
 * The demo and the mining tests need data whose truth is known: which videos
 * belong together, which features make videos over-perform and where, and
 * where nothing was planted at all.  A generator is built in two steps:
 *
 *   pd_synth_new plans the whole set in memory (a few bytes per video): a
 *   three-level topic hierarchy (macro > meso > micro) with its own made-up
 *   vocabularies, channels with heavy-tailed sizes that live mostly in one
 *   meso topic and have their own baseline views, the planted effects
 *   (topic, feature, multiplier) with exactly which videos carry each planted
 *   feature, and every video's publish time (output is in publish order).
 *
 *   pd_synth_generate then builds any one video's text and numbers from its
 *   own random stream (seeded from --seed and the video's index), so videos
 *   can be produced one at a time, in any order, with constant extra memory,
 *   and the same options give the same bytes.
 *
 * Realistic options (all off by default, and then the output is byte for byte
 * what it was before they existed; each draws from its own random streams, so
 * turning one on leaves the topics, channels, effects and every other draw
 * as they were):
 *
 *   null_topics: meso topics where nothing is planted that carry the planted
 *   features anyway (decoys: the same phrases, weekdays, tags, ... in the
 *   same share of their videos, with the same time profile) and no effect;
 *
 *   proxies: features that stand in for a planted one: a planted phrase
 *   makes its titles longer (title length and word-count bands follow it),
 *   every topic has a tag on all its videos (a stand-in for the topic one
 *   level up), and a topic with a planted phrase also uses other keywords of
 *   the format the phrase implies (so the format is a broader, weaker
 *   stand-in).  The proxies of each effect are measured on the generated
 *   videos with lib/features.h and listed in the truth;
 *
 *   trend_share: that share of the meso-level effects are trends: 80% of
 *   their carriers fall in one time window and the effect holds only there;
 *   the others are evergreen;
 *
 *   habits: channels have habits (a favourite weekday and hour, a pet word,
 *   a pet tag) and some have hot streaks (weeks when every video does
 *   1.5-3x its usual), and common words come at realistic, Zipf-like rates.
 *
 * Formatting is separate (CSV row in the shared data file's columns, NDJSON
 * video record, NDJSON truth records); nothing here prints: everything is
 * appended to a pd_buf for the caller to write.
 *
 * The model: ln(views) = channel baseline + age term + planted effects +
 * noise (+ a channel's hot streak, with habits), with the age term 1.2*ln(1 + age_days/0.7) minus its value at the
 * median age, age lognormal (median 2.6 days, 10% under 0.4, 10% over 11).
 * Features that can be planted (shared vocabulary of DESIGN/brief): title
 * n-grams, title structure (question, exclamation, brackets, parens,
 * listicle, year, emoji), duration buckets and short, weekday, hour band (UTC)
 * and tags.  Inside a planted topic the feature is on for exactly n_with of
 * its videos and off for all others, so the truth counts are exact.
 */
#ifndef PD_SYNTH_H
#define PD_SYNTH_H
#include <stddef.h>
#include <stdint.h>
#include "buf.h"
#include "err.h"

typedef struct pd_synth_opts {
	long videos;		/* 100 .. 20,000,000 */
	uint64_t seed;
	int macro;		/* macro topics; 0 = auto: videos/5000, at least 2 */
	int effects;		/* planted effects; -1 = auto: one per non-null meso topic */
	double null_share;	/* share of meso topics with nothing planted (0..1) */
	double start;		/* first publish day, seconds since the epoch (UTC midnight) */
	int days;		/* publish window in days (>= 7) */
	double noise_sd;	/* sd of the per-video ln(views) noise */
	int null_topics;	/* decoy topics; 0 none, -1 every null meso topic of 100+ videos */
	int proxies;		/* plant correlated proxies */
	double trend_share;	/* share of the meso-level effects that are trends (0..1) */
	int habits;		/* channel habits and hot streaks, common words */
} pd_synth_opts;

/* pd_synth_opts_init: the defaults (10,000 videos, seed 1, null share 0.4,
 * start 2025-11-03, 180 days, noise 0.7, the rest automatic, no realistic
 * option). */
void pd_synth_opts_init(pd_synth_opts *o);
/* pd_synth_opts_realistic: every realistic option on at its usual setting
 * (every null meso topic a decoy, proxies, a third of the effects trends,
 * habits); the other fields are left alone. */
void pd_synth_opts_realistic(pd_synth_opts *o);

typedef struct pd_synth pd_synth;

/* Sizes of a planned set. */
typedef struct pd_synth_counts {
	size_t videos, channels;
	int macro, meso, micro, effects, null_meso;
	int null_topics, nulls;	/* decoy topics, decoy features planted in them */
	int trends;		/* trend effects */
	double baseline_share;	/* share of videos in channels with 5+ videos */
} pd_synth_counts;

/*
 * One generated video.  Initialise with pd_synth_video_init, reuse across
 * calls (the buffers keep their memory), free with pd_synth_video_release.
 * Strings point into the generator (channel) or the buffers here.
 */
typedef struct pd_synth_video {
	char id[12];
	const char *channel_id, *channel_title, *category, *category_id;
	const char *language, *audio_language;
	int macro, meso, micro, channel;	/* indices */
	double published, observed, first_observed;	/* epoch seconds */
	int days_observed, n_countries;
	char countries[64];
	int duration_s;
	double views, likes, comments;
	int hd, caption, licensed;
	pd_buf title, description, tags;	/* tags joined with '|' */
	double log_base, log_age, log_effect, log_noise;
	double log_channel;		/* a channel's hot streak (habits), else 0 */
	int neff;			/* planted effects whose feature this video has */
	int eff[4];			/* their indices */
	int nnull;			/* decoy features (null topics) it has */
	int nul[4];			/* their indices */
} pd_synth_video;

void pd_synth_video_init(pd_synth_video *v);
void pd_synth_video_release(pd_synth_video *v);

/*
 * pd_synth_new: plan a set.  Returns NULL and err (PD_EUSAGE) when the
 * options cannot be met (e.g. more effects than room for them).  The caller
 * frees with pd_synth_free.
 */
pd_synth *pd_synth_new(const pd_synth_opts *o, pd_err *err);
void pd_synth_free(pd_synth *s);
void pd_synth_counts_get(const pd_synth *s, pd_synth_counts *c);

/* pd_synth_generate: the video at output position i (0 <= i < videos). */
void pd_synth_generate(const pd_synth *s, size_t i, pd_synth_video *v);

/* Output formats, appended to out. */
void pd_synth_csv_header(pd_buf *out);		/* the shared data file's header, CRLF */
void pd_synth_csv_row(const pd_synth_video *v, pd_buf *out);	/* RFC 4180, CRLF */
void pd_synth_ndjson(const pd_synth_video *v, pd_buf *out);	/* a "video" record + '\n' */
/* pd_synth_truth_head: truth_config, every truth_topic, every truth_effect,
 * every truth_proxy line; with a realistic option also truth_null (decoy
 * features) and (habits) truth_channel lines.  The proxies are measured
 * here, on a second generation of the planted topics' videos. */
void pd_synth_truth_head(const pd_synth *s, pd_buf *out);
/* pd_synth_truth_video: the truth_video line of v. */
void pd_synth_truth_video(const pd_synth *s, const pd_synth_video *v, pd_buf *out);

/* For tests: the topic id of a topic index at a level (0 macro, 1 meso, 2 micro). */
const char *pd_synth_topic_id(const pd_synth *s, int level, int index);

#endif
