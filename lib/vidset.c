/*
 * vidset.c — the videos of one fetch (see vidset.h).
 *
 * Items are an array in input order; ids and channels are interned
 * (strmap.h), channels to the indices perf.h groups by.  A video keeps its
 * head as text rather than a pd_video: the text is what is written, and
 * 43,860 heads take less memory than as many parsed records.
 */
#include "pd.h"
#include "vidset.h"
#include "strmap.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct item {
	char *text;		/* record text; for videos without the closing brace */
	size_t len;
	int is_video;
	int channel;		/* -1 none */
	double views, age_days, perf_in;
	size_t k;		/* a video's index among the videos */
} item;

struct pd_vidset {
	item *items;
	size_t n, cap, nvideos, with_perf;
	pd_strmap *channels, *ids;
	pd_perf_out *pout;	/* per video, after pd_vidset_perf */
	double now;
	unsigned long long dups;
};

pd_vidset *pd_vidset_new(double now)
{
	pd_vidset *s = xcalloc(1, sizeof *s);
	s->channels = pd_strmap_new();
	s->ids = pd_strmap_new();
	s->now = now;
	return s;
}

void pd_vidset_free(pd_vidset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i].text);
	free(s->items);
	free(s->pout);
	pd_strmap_free(s->channels);
	pd_strmap_free(s->ids);
	free(s);
}

static item *new_item(pd_vidset *s, const char *text, size_t len)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->items = xreallocarray(s->items, s->cap, sizeof *s->items);
	}
	item *it = &s->items[s->n++];
	memset(it, 0, sizeof *it);
	it->text = xmemdup(text, len);
	it->len = len;
	it->channel = -1;
	it->views = it->age_days = it->perf_in = NAN;
	return it;
}

double pd_vidset_age(const pd_vidset *s, double published, double observed)
{
	if (isnan(published))
		return NAN;
	double end = isnan(observed) ? s->now : observed;
	double a = (end - published) / 86400.0;
	return a < 0 ? 0 : a;
}

int pd_vidset_add(pd_vidset *s, const char *head, size_t len, const char *id, const char *channel,
		  double views, double age, double perf_in)
{
	int added;
	pd_strmap_intern(s->ids, id, strlen(id), &added);
	if (!added) {
		s->dups++;
		return -1;
	}
	item *it = new_item(s, head, len);
	it->is_video = 1;
	if (channel && *channel)
		it->channel = pd_strmap_intern(s->channels, channel, strlen(channel), NULL);
	it->views = views;
	it->age_days = age;
	it->perf_in = perf_in;
	it->k = s->nvideos++;
	return 0;
}

int pd_vidset_add_video(pd_vidset *s, const pd_video *v, double perf_in)
{
	pd_buf b = PD_BUF_INIT;
	pd_video_write_head(&b, v);
	int rc = pd_vidset_add(s, b.p, b.len, v->id, v->channel_id ? v->channel_id : v->channel_title,
			       v->views, pd_vidset_age(s, v->published_at, v->observed_at), perf_in);
	pd_buf_release(&b);
	return rc;
}

int pd_vidset_add_record(pd_vidset *s, const pd_record *r, pd_err *err)
{
	pd_video v;
	if (pd_video_from_json(r->json, &v, err) < 0)
		return -1;
	double age = !isnan(v.published_at) ? pd_vidset_age(s, v.published_at, v.observed_at)
					    : v.age_days;
	const char *channel = v.channel_id ? v.channel_id : v.channel_title;
	/* the record's head: the members it has, in the canonical order */
	pd_buf extra = PD_BUF_INIT, rest = PD_BUF_INIT, b = PD_BUF_INIT;
	pd_video_rest_from_json(r->json, &v, &extra, &rest);
	if (r->dim > 0) {	/* taken out of the tree by pd_record_parse */
		if (rest.len)
			pd_buf_addc(&rest, ',');
		if (r->emb_form == PD_EMB_JSON) {
			pd_buf_adds(&rest, "\"embedding\":");
			pd_vec_add_json(&rest, r->emb, r->dim);
		} else {
			pd_buf_adds(&rest, "\"embedding_b64\":\"");
			pd_vec_add_b64(&rest, r->emb, r->dim);
			pd_buf_addc(&rest, '"');
		}
	}
	v.extra = extra.len ? extra.p : NULL;
	v.extra_len = extra.len;
	v.rest = rest.p;
	v.rest_len = rest.len;
	v.fields &= ~(unsigned)PD_VF_DERIVED;	/* stale: computed again */
	pd_video_write_head(&b, &v);
	int rc = 0;
	if (pd_vidset_add(s, b.p, b.len, v.id, channel, v.views, age, v.perf) < 0)
		rc = pd_err_set(err, PD_EREC, "duplicate video id '%s'", v.id);
	pd_video_release(&v);
	pd_buf_release(&b);
	pd_buf_release(&extra);
	pd_buf_release(&rest);
	return rc;
}

void pd_vidset_add_other(pd_vidset *s, const char *line, size_t len)
{
	new_item(s, line, len);
}

void pd_vidset_perf(pd_vidset *s, int mode, int min_videos, pd_age_curve *curve)
{
	size_t nv = s->nvideos;
	pd_perf_in *pin = xcalloc(nv + 1, sizeof *pin);
	free(s->pout);
	s->pout = xcalloc(nv + 1, sizeof *s->pout);
	for (size_t i = 0; i < s->n; i++) {
		const item *it = &s->items[i];
		if (!it->is_video)
			continue;
		pin[it->k].channel = it->channel;
		pin[it->k].views = it->views;
		pin[it->k].age_days = it->age_days;
		pin[it->k].perf_in = it->perf_in;
	}
	pd_perf_compute(pin, nv, pd_strmap_size(s->channels), mode, min_videos, s->pout, curve);
	s->with_perf = 0;
	for (size_t k = 0; k < nv; k++)
		s->with_perf += !isnan(s->pout[k].perf);
	free(pin);
}

size_t pd_vidset_count(const pd_vidset *s)
{
	return s->n;
}

int pd_vidset_get(const pd_vidset *s, size_t i, pd_buf *out, const char **line, size_t *len)
{
	const item *it = &s->items[i];
	if (!it->is_video) {
		*line = it->text;
		*len = it->len;
		return 0;
	}
	pd_buf_add(out, it->text, it->len);
	pd_video d;	/* the derived fields, through the record's writer */
	pd_video_init(&d);
	d.age_days = it->age_days;
	const pd_perf_out *o = &s->pout[it->k];
	d.perf = o->perf;
	d.perf_basis = o->basis;
	d.perf_reason = isnan(o->perf) ? o->reason : NULL;
	d.fields = PD_VF_DERIVED;
	pd_video_write_tail(out, &d);
	return 1;
}

void pd_vidset_get_stats(const pd_vidset *s, pd_vidset_stats *st)
{
	st->videos = s->nvideos;
	st->channels = (size_t)pd_strmap_size(s->channels);
	st->with_perf = s->with_perf;
	st->duplicates = s->dups;
}
