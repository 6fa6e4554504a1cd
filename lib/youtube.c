/*
 * youtube.c — the YouTube Data API v3 source (see youtube.h).
 *
 * The API's three listing calls are chained per channel: channels.list for
 * the uploads playlist, playlistItems.list page by page for the video ids,
 * videos.list in batches of 50 for the videos themselves.  The batches of one
 * channel go out together through pd_http_many (a few in flight), so a
 * channel of thousands of uploads costs one round trip per page plus a few
 * for the videos; results are still handed on in upload order, so output
 * does not depend on which response came first.
 *
 * Everything the API returns is checked before use: counts arrive as
 * strings ("12345") and are parsed, absent counts (likes hidden, comments
 * disabled) become null rather than 0, and durations go through
 * pd_duration_parse.  Quota errors are recognised by their reason codes,
 * not by status alone, because 403 also means "forbidden" and a retry
 * would only burn more quota.
 */
#include "pd.h"
#include "youtube.h"
#include "csvin.h"
#include "video.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define YT_BATCH 50

typedef struct yt_ctx {
	const pd_youtube_opts *o;
	const char *base, *key;
	pd_http_opts http;
	pd_youtube_stats *st;
	pd_buf extra;			/* a record's "extra" text (pd_youtube_video_fill) */
} yt_ctx;

typedef struct yt_chan {
	const char *input;	/* as given, borrowed */
	char *id, *title, *uploads;
	int found, dup;
} yt_chan;

/* ---- errors ---- */

/* the API's message, tags (it has <a href>) and control characters dropped, cut */
static void clean_message(const char *s, char *out, size_t cap)
{
	size_t k = 0;
	int in_tag = 0;
	for (; s && *s && k + 1 < cap; s++) {
		if (*s == '<')
			in_tag = 1;
		else if (*s == '>' && in_tag)
			in_tag = 0;
		else if (!in_tag)
			out[k++] = (unsigned char)*s < 0x20 ? ' ' : *s;
	}
	while (k > 0 && (out[k - 1] == '.' || out[k - 1] == ' '))
		k--;	/* house style: no final full stop */
	out[k] = '\0';
}

static int has_reason(const cJSON *error, const char *reason)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(error, "errors")) {
		const char *r = pd_json_str(x, "reason");
		if (r && strcmp(r, reason) == 0)
			return 1;
	}
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(error, "details")) {
		const char *r = pd_json_str(x, "reason");
		if (r && strcmp(r, reason) == 0)
			return 1;
	}
	return 0;
}

static const char *first_reason(const cJSON *error)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(error, "errors")) {
		const char *r = pd_json_str(x, "reason");
		if (r)
			return r;
	}
	return NULL;
}

int pd_youtube_error(long status, const char *body, const char *what, pd_err *err)
{
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	char msg[256] = "";
	clean_message(pd_json_str(e, "message"), msg, sizeof msg);
	const char *reason = first_reason(e);
	int rc;
	if (has_reason(e, "quotaExceeded") || has_reason(e, "dailyLimitExceeded"))
		rc = pd_err_set(err, PD_ESERVICE,
				"YouTube API quota exhausted (%s, HTTP %ld on %s%s%s); the daily quota "
				"resets at midnight Pacific time",
				has_reason(e, "quotaExceeded") ? "quotaExceeded" : "dailyLimitExceeded",
				status, what, msg[0] ? ": " : "", msg);
	else if (has_reason(e, "keyInvalid") || has_reason(e, "API_KEY_INVALID") ||
		 (status == 400 && strstr(msg, "API key not valid")))
		rc = pd_err_set(err, PD_ESERVICE,
				"YouTube API key in YOUTUBE_API_KEY is not valid (HTTP %ld on %s%s%s)",
				status, what, msg[0] ? ": " : "", msg);
	else if (msg[0])
		rc = pd_err_set(err, PD_ESERVICE, "YouTube API error on %s: HTTP %ld%s%s: %s", what,
				status, reason ? " " : "", reason ? reason : "", msg);
	else
		rc = pd_err_set(err, PD_ESERVICE, "YouTube API error on %s: HTTP %ld", what, status);
	cJSON_Delete(j);
	return rc;
}

/* ---- calls ---- */

/* the URL of endpoint with query (already escaped, may be empty) and the key */
static char *yt_url(yt_ctx *c, const char *endpoint, const char *query)
{
	pd_buf b = PD_BUF_INIT;
	size_t bl = strlen(c->base);
	while (bl > 0 && c->base[bl - 1] == '/')
		bl--;
	pd_buf_add(&b, c->base, bl);
	pd_buf_printf(&b, "/%s?%s%skey=", endpoint, query, query[0] ? "&" : "");
	pd_http_escape(&b, c->key);
	return pd_buf_detach(&b);
}

/* check a finished call: 0 and *out (parsed body) on 2xx; 1 on 404 (err
   filled, for a per-channel warning); -1 with err otherwise */
static int yt_check(yt_ctx *c, const pd_http_resp *r, const char *what, cJSON **out, pd_err *err)
{
	*out = NULL;
	c->st->http_attempts += r->attempts;
	if (r->status == 404) {
		pd_youtube_error(r->status, r->body.p, what, err);
		return 1;
	}
	if (r->status < 200 || r->status > 299)
		return pd_youtube_error(r->status, r->body.p, what, err);
	cJSON *j = cJSON_ParseWithLength(r->body.p ? r->body.p : "", r->body.len);
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		return pd_err_set(err, PD_ESERVICE, "YouTube API %s: the response is not a JSON object",
				  what);
	}
	*out = j;
	return 0;
}

/* one GET through the retry policy; as yt_check */
static int yt_get(yt_ctx *c, const char *endpoint, const char *query, const char *what,
		  cJSON **out, pd_err *err)
{
	char *url = yt_url(c, endpoint, query);
	pd_http_resp r = PD_HTTP_RESP_INIT;
	pd_err e;
	c->st->quota_units++;
	int rc;
	if (pd_http_request("GET", url, NULL, 0, NULL, &c->http, &r, &e) != 0) {
		c->st->http_attempts += r.attempts;
		/* an exhausted retry on 403/429 may still carry the API's reason */
		if (r.status && r.body.len && strstr(r.body.p, "quotaExceeded"))
			rc = pd_youtube_error(r.status, r.body.p, what, err);
		else
			rc = pd_err_set(err, PD_ESERVICE, "YouTube API %s: %s", what, e.msg);
	} else {
		rc = yt_check(c, &r, what, out, err);
	}
	pd_http_resp_release(&r);
	free(url);
	return rc;
}

/* ---- records ---- */

/* a count the API sends as a decimal string (or, leniently, a number);
   unknown (NAN) when it is none, or beyond what a video record may hold
   (PD_VIDEO_COUNT_MAX), so that every record written here is one pd reads */
static double count_of(const cJSON *stats, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(stats, key);
	double v = NAN;
	if (cJSON_IsNumber(x)) {
		v = x->valuedouble;
	} else if (cJSON_IsString(x) && x->valuestring[0]) {
		const char *s = x->valuestring;
		for (const char *p = s; *p; p++)
			if (*p < '0' || *p > '9')
				return NAN;
		v = strtod(s, NULL);
	}
	return v >= 0 && v <= PD_VIDEO_COUNT_MAX ? v : NAN;
}

/* ,"k":"s" (or the first member, without the comma) into an object's text */
static void extra_str(pd_buf *x, const char *k, const char *s)
{
	pd_buf_addc(x, x->len ? ',' : '{');
	pd_buf_add_json_string(x, k, strlen(k));
	pd_buf_addc(x, ':');
	pd_buf_add_json_string(x, s, strlen(s));
}

int pd_youtube_video_fill(const cJSON *item, const char *observed_at, pd_video *v,
			  pd_buf *extra, pd_err *err)
{
	const char *id = pd_json_str(item, "id");
	const cJSON *sn = cJSON_GetObjectItemCaseSensitive(item, "snippet");
	const cJSON *stats = cJSON_GetObjectItemCaseSensitive(item, "statistics");
	const cJSON *cd = cJSON_GetObjectItemCaseSensitive(item, "contentDetails");
	pd_video_init(v);
	if (!id || !id[0])
		return pd_err_set(err, PD_EREC, "videos.list item without an id");
	if (!cJSON_IsObject(sn))
		return pd_err_set(err, PD_EREC, "videos.list item '%s' without a snippet", id);
	v->id = id;
	v->channel_id = pd_json_str(sn, "channelId");
	v->channel_title = pd_json_str(sn, "channelTitle");
	v->title = pd_json_str(sn, "title");
	v->description = pd_json_str(sn, "description");

	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(sn, "tags"), *t;
	v->tags = xcalloc((size_t)cJSON_GetArraySize(tags) + 1, sizeof *v->tags);
	cJSON_ArrayForEach(t, tags)
		if (cJSON_IsString(t))
			v->tags[v->ntags++] = t->valuestring;

	const char *catid = pd_json_str(sn, "categoryId");
	const char *cat = NULL;
	if (catid) {
		char *end;
		long k = strtol(catid, &end, 10);
		cat = (*catid && !*end && k > 0 && k < 1000) ? pd_category_name((int)k) : NULL;
		if (!cat)
			cat = catid;
	}
	v->category = cat;
	v->category_id = catid;

	const char *ps = pd_json_str(sn, "publishedAt");
	if (!ps || pd_time_parse(ps, &v->published_at) != 0)
		v->published_at = NAN;
	if (!observed_at || pd_time_parse(observed_at, &v->observed_at) != 0)
		v->observed_at = NAN;

	const char *live = pd_json_str(sn, "liveBroadcastContent");
	const char *ds = pd_json_str(cd, "duration");
	double dur = NAN;
	if (ds && pd_duration_parse(ds, &dur) != 0)
		dur = NAN;
	/* a broadcast that is live or upcoming has "P0D": its length is unknown */
	if (dur == 0 && live && strcmp(live, "none") != 0)
		dur = NAN;
	v->duration_s = dur;
	v->views = count_of(stats, "viewCount");
	v->likes = count_of(stats, "likeCount");
	v->comments = count_of(stats, "commentCount");
	v->is_short = isnan(dur) ? -1 : dur > 0 && dur <= 60;
	v->fields = PD_VF_CHANNEL_ID | PD_VF_CHANNEL_TITLE | PD_VF_TITLE | PD_VF_DESCRIPTION |
		    PD_VF_TAGS | PD_VF_CATEGORY | PD_VF_CATEGORY_ID | PD_VF_PUBLISHED_AT |
		    PD_VF_OBSERVED_AT | PD_VF_DURATION_S | PD_VF_VIEWS | PD_VF_LIKES |
		    PD_VF_COMMENTS | PD_VF_IS_SHORT;

	pd_buf_reset(extra);
	if (live)
		extra_str(extra, "live_broadcast_content", live);
	const char *s;
	if ((s = pd_json_str(cd, "definition")))
		extra_str(extra, "definition", s);
	if ((s = pd_json_str(cd, "caption")))
		extra_str(extra, "caption", s);
	const cJSON *lc = cJSON_GetObjectItemCaseSensitive(cd, "licensedContent");
	if (cJSON_IsBool(lc)) {
		pd_buf_adds(extra, extra->len ? "," : "{");
		pd_buf_adds(extra, cJSON_IsTrue(lc) ? "\"licensed_content\":true" :
						      "\"licensed_content\":false");
	}
	if ((s = pd_json_str(sn, "defaultLanguage")))
		extra_str(extra, "default_language", s);
	if ((s = pd_json_str(sn, "defaultAudioLanguage")))
		extra_str(extra, "default_audio_language", s);
	const cJSON *th = cJSON_GetObjectItemCaseSensitive(sn, "thumbnails");
	const char *best = NULL;
	static const char *const sizes[] = { "maxres", "standard", "high", "medium", "default" };
	for (size_t i = 0; i < sizeof sizes / sizeof *sizes && !best; i++)
		best = pd_json_str(cJSON_GetObjectItemCaseSensitive(th, sizes[i]), "url");
	if (best)
		extra_str(extra, "thumbnail", best);
	if (extra->len) {
		pd_buf_addc(extra, '}');
		v->extra = extra->p;
		v->extra_len = extra->len;
	}
	return 0;
}

/* the record as a tree: pd_video_write's text, parsed */
static cJSON *record_tree(const pd_video *v)
{
	pd_buf b = PD_BUF_INIT;
	pd_video_write(&b, v);
	cJSON *o = cJSON_ParseWithLength(b.p, b.len);
	pd_buf_release(&b);
	if (!o)
		abort();	/* the writer's JSON always parses: only allocation fails */
	return o;
}

cJSON *pd_youtube_video_record(const cJSON *item, const char *observed_at, pd_err *err)
{
	pd_video v;
	pd_buf extra = PD_BUF_INIT;
	cJSON *o = NULL;
	if (pd_youtube_video_fill(item, observed_at, &v, &extra, err) == 0)
		o = record_tree(&v);
	pd_video_release(&v);
	pd_buf_release(&extra);
	return o;
}

/* ---- the steps ---- */

static void warn(yt_ctx *c, const char *chan, const char *msg)
{
	c->st->channels_failed++;
	if (c->o->on_warn)
		c->o->on_warn(c->o->ud, chan, msg);
}

/* fill chans[] from one channels.list response */
static void take_channels(const cJSON *resp, yt_chan *chans, int n, const char *handle_of)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(resp, "items")) {
		const char *id = pd_json_str(it, "id");
		const cJSON *sn = cJSON_GetObjectItemCaseSensitive(it, "snippet");
		const cJSON *rp = cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(it, "contentDetails"), "relatedPlaylists");
		const char *up = pd_json_str(rp, "uploads");
		if (!id || !up)
			continue;
		for (int i = 0; i < n; i++) {
			yt_chan *ch = &chans[i];
			if (ch->found || ch->dup)
				continue;
			if (handle_of ? ch->input == handle_of : (ch->input[0] != '@' && strcmp(ch->input, id) == 0)) {
				ch->found = 1;
				ch->id = xstrdup(id);
				ch->uploads = xstrdup(up);
				const char *t = pd_json_str(sn, "title");
				ch->title = t ? xstrdup(t) : NULL;
			}
		}
	}
}

static int resolve_channels(yt_ctx *c, yt_chan *chans, int n, pd_err *err)
{
	/* ids, up to 50 a call */
	for (int i = 0; i < n;) {
		pd_buf q = PD_BUF_INIT;
		pd_buf_adds(&q, "part=contentDetails%2Csnippet&maxResults=50&id=");
		int k = 0, j = i;
		for (; j < n && k < YT_BATCH; j++) {
			if (chans[j].dup || chans[j].input[0] == '@')
				continue;
			if (k++)
				pd_buf_adds(&q, "%2C");
			pd_http_escape(&q, chans[j].input);
		}
		if (k) {
			cJSON *resp;
			int rc = yt_get(c, "channels", q.p, "channels.list", &resp, err);
			if (rc != 0) {
				pd_buf_release(&q);
				return -1;	/* 404 on channels.list is not per channel */
			}
			take_channels(resp, chans + i, j - i, NULL);
			cJSON_Delete(resp);
		}
		pd_buf_release(&q);
		i = j;
	}
	/* handles, one call each */
	for (int i = 0; i < n; i++) {
		if (chans[i].dup || chans[i].input[0] != '@')
			continue;
		pd_buf q = PD_BUF_INIT;
		pd_buf_adds(&q, "part=contentDetails%2Csnippet&forHandle=");
		pd_http_escape(&q, chans[i].input);
		cJSON *resp;
		int rc = yt_get(c, "channels", q.p, "channels.list", &resp, err);
		pd_buf_release(&q);
		if (rc != 0)
			return -1;
		take_channels(resp, chans, n, chans[i].input);
		cJSON_Delete(resp);
	}
	return 0;
}

/* more pages than any uploads playlist has (YouTube lists 50 a page) */
enum { YT_MAX_PAGES = 10000 };

static void free_tokens(char **t, int n)
{
	for (int i = 0; i < n; i++)
		free(t[i]);
	free(t);
}

/* the video ids of a channel's uploads, newest first, within the limits;
   0, 1 (warned: the channel is skipped) or -1 */
static int list_uploads(yt_ctx *c, yt_chan *ch, char ***ids, int *nids, pd_err *err)
{
	const pd_youtube_opts *o = c->o;
	char *token = NULL;
	int cap = 0, stop = 0;
	/* the page tokens asked for: a server that hands one out again (or never
	   stops: YT_MAX_PAGES) would keep the listing going forever */
	char **seen = NULL;
	int nseen = 0;
	*ids = NULL;
	*nids = 0;
	do {
		pd_buf q = PD_BUF_INIT;
		pd_buf_adds(&q, "part=contentDetails&maxResults=50&playlistId=");
		pd_http_escape(&q, ch->uploads);
		if (token) {
			pd_buf_adds(&q, "&pageToken=");
			pd_http_escape(&q, token);
			seen = xreallocarray(seen, (size_t)nseen + 1, sizeof *seen);
			seen[nseen++] = token;
			token = NULL;
		}
		cJSON *resp;
		int rc = yt_get(c, "playlistItems", q.p, "playlistItems.list", &resp, err);
		pd_buf_release(&q);
		if (rc == 1) {
			char m[700];
			snprintf(m, sizeof m, "uploads cannot be listed: %s", err->msg);
			pd_err_clear(err);
			warn(c, ch->input, m);
			free_tokens(seen, nseen);
			return 1;
		}
		if (rc < 0) {
			free_tokens(seen, nseen);
			return -1;
		}
		const cJSON *it;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(resp, "items")) {
			const cJSON *cd = cJSON_GetObjectItemCaseSensitive(it, "contentDetails");
			const char *vid = pd_json_str(cd, "videoId");
			const char *when = pd_json_str(cd, "videoPublishedAt");
			double t;
			if (!vid)
				continue;
			/* uploads come newest first: one older than --since ends the
			   listing after this page (private videos have no date) */
			if (o->since > 0 && when && pd_time_parse(when, &t) == 0 && t < o->since) {
				stop = 1;
				continue;
			}
			if (o->max_videos > 0 && *nids >= o->max_videos) {
				stop = 1;
				break;
			}
			if (*nids == cap) {
				cap = cap ? cap * 2 : 64;
				*ids = xreallocarray(*ids, (size_t)cap, sizeof **ids);
			}
			(*ids)[(*nids)++] = xstrdup(vid);
		}
		if (o->max_videos > 0 && *nids >= o->max_videos)
			stop = 1;
		const char *next = pd_json_str(resp, "nextPageToken");
		if (next && next[0] && !stop) {
			int again = nseen >= YT_MAX_PAGES;
			for (int i = 0; i < nseen && !again; i++)
				again = !strcmp(seen[i], next);
			if (again)
				warn(c, ch->input, "uploads listing stopped: the API gave a page token "
				     "again (the videos listed so far are fetched)");
			else
				token = xstrdup(next);
		}
		cJSON_Delete(resp);
	} while (token);
	free_tokens(seen, nseen);
	return 0;
}

/* videos.list for ids, records handed on in the order of ids */
static int fetch_videos(yt_ctx *c, yt_chan *ch, char **ids, int nids, pd_err *err)
{
	const pd_youtube_opts *o = c->o;
	int nb = (nids + YT_BATCH - 1) / YT_BATCH;
	if (nb == 0)
		return 0;
	pd_http_req *reqs = xcalloc((size_t)nb, sizeof *reqs);
	char **urls = xcalloc((size_t)nb, sizeof *urls);
	for (int b = 0; b < nb; b++) {
		pd_buf q = PD_BUF_INIT;
		pd_buf_adds(&q, "part=snippet%2Cstatistics%2CcontentDetails&maxResults=50&id=");
		for (int i = b * YT_BATCH; i < nids && i < (b + 1) * YT_BATCH; i++) {
			if (i > b * YT_BATCH)
				pd_buf_adds(&q, "%2C");
			pd_http_escape(&q, ids[i]);
		}
		urls[b] = yt_url(c, "videos", q.p);
		pd_buf_release(&q);
		reqs[b].method = "GET";
		reqs[b].url = urls[b];
	}
	c->st->quota_units += nb;
	pd_http_many(reqs, nb, o->concurrency > 0 ? o->concurrency : 4, &c->http);

	int rc = 0;
	for (int b = 0; b < nb && rc == 0; b++) {
		cJSON *resp = NULL;
		if (!reqs[b].ok) {
			c->st->http_attempts += reqs[b].resp.attempts;
			pd_http_resp *r = &reqs[b].resp;
			if (r->status && r->body.len && strstr(r->body.p, "quotaExceeded"))
				rc = pd_youtube_error(r->status, r->body.p, "videos.list", err);
			else
				rc = pd_err_set(err, PD_ESERVICE, "YouTube API videos.list: %s",
						reqs[b].err.msg);
			break;
		}
		int k = yt_check(c, &reqs[b].resp, "videos.list", &resp, err);
		if (k != 0) {
			if (k == 1)
				pd_youtube_error(reqs[b].resp.status, reqs[b].resp.body.p, "videos.list", err);
			rc = -1;
			break;
		}
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(resp, "items");
		for (int i = b * YT_BATCH; i < nids && i < (b + 1) * YT_BATCH; i++) {
			const cJSON *it, *hit = NULL;
			cJSON_ArrayForEach(it, items) {
				const char *id = pd_json_str(it, "id");
				if (id && strcmp(id, ids[i]) == 0) {
					hit = it;
					break;
				}
			}
			if (!hit) {
				c->st->missing++;
				continue;
			}
			pd_err e;
			pd_video v;
			if (pd_youtube_video_fill(hit, o->observed_at, &v, &c->extra, &e) < 0) {
				pd_video_release(&v);
				c->st->missing++;
				continue;
			}
			if (o->since > 0 && !isnan(v.published_at) && v.published_at < o->since) {
				pd_video_release(&v);
				continue;
			}
			/* the channel as asked for, when the snippet lacks it */
			if (!v.channel_id && ch->id)
				v.channel_id = ch->id;
			if (!v.channel_title && ch->title)
				v.channel_title = ch->title;
			c->st->videos++;
			if (o->on_record)
				o->on_record(o->ud, &v);
			else if (o->on_video)
				o->on_video(o->ud, record_tree(&v));
			pd_video_release(&v);
		}
		cJSON_Delete(resp);
	}
	for (int b = 0; b < nb; b++) {
		pd_http_resp_release(&reqs[b].resp);
		free(urls[b]);
	}
	free(reqs);
	free(urls);
	return rc;
}

int pd_youtube_fetch_channels(const char *const *channel_ids, int n, const pd_youtube_opts *o,
			      pd_youtube_stats *st, pd_err *err)
{
	pd_youtube_stats local;
	if (!st)
		st = &local;
	memset(st, 0, sizeof *st);
	yt_ctx c = { .o = o, .st = st };
	c.key = o->api_key ? o->api_key : getenv("YOUTUBE_API_KEY");
	if (!c.key || !c.key[0])
		return pd_err_set(err, PD_EUSAGE,
				  "YOUTUBE_API_KEY is not set: the YouTube Data API needs an API key "
				  "in the environment");
	c.base = o->base_url ? o->base_url : getenv("PD_YOUTUBE_URL");
	if (!c.base || !c.base[0])
		c.base = PD_YOUTUBE_DEFAULT_URL;
	if (o->http)
		c.http = *o->http;
	else
		pd_http_opts_default(&c.http);
	if (!o->observed_at)
		return pd_err_set(err, PD_EUSAGE, "pd_youtube_fetch_channels: no observed_at");

	yt_chan *chans = xcalloc(n > 0 ? (size_t)n : 1, sizeof *chans);
	for (int i = 0; i < n; i++) {
		chans[i].input = channel_ids[i];
		for (int j = 0; j < i; j++)
			if (strcmp(channel_ids[j], channel_ids[i]) == 0)
				chans[i].dup = 1;
	}
	int rc = resolve_channels(&c, chans, n, err);
	for (int i = 0; i < n && rc == 0; i++) {
		yt_chan *ch = &chans[i];
		if (ch->dup)
			continue;
		if (!ch->found) {
			warn(&c, ch->input, "channel not found");
			continue;
		}
		char **ids;
		int nids;
		int k = list_uploads(&c, ch, &ids, &nids, err);
		if (k == 0) {
			if (fetch_videos(&c, ch, ids, nids, err) != 0)
				rc = -1;
			else
				st->channels_ok++;
		} else if (k < 0) {
			rc = -1;
		}
		for (int j = 0; j < nids; j++)
			free(ids[j]);
		free(ids);
	}
	for (int i = 0; i < n; i++) {
		free(chans[i].id);
		free(chans[i].title);
		free(chans[i].uploads);
	}
	free(chans);
	pd_buf_release(&c.extra);
	return rc;
}
