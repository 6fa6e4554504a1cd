/*
 * youtube.h — videos from the YouTube Data API v3, as pd video records.
 *
 * For each channel: channels.list (part=contentDetails,snippet, up to 50
 * ids a call; a handle "@name" is resolved with forHandle, one call each)
 * gives the uploads playlist; playlistItems.list (50 a page, pageToken)
 * gives the video ids, newest first; videos.list (part=snippet,statistics,
 * contentDetails, 50 ids a call, several calls in flight) gives the videos.
 * Every call costs 1 quota unit and is counted.
 *
 * Configuration: the key comes from the environment (YOUTUBE_API_KEY; never
 * argv), the base URL from PD_YOUTUBE_URL (default
 * https://www.googleapis.com/youtube/v3) so tests can point at a loopback
 * server; HTTP timeouts and retries are lib/http.h's (PD_HTTP_* variables).
 *
 * Failures: a channel that does not exist or whose uploads cannot be listed
 * (404) is reported through on_warn and the others go on; an exhausted quota
 * (403 quotaExceeded / dailyLimitExceeded), an invalid key, any other HTTP
 * error, or a transport failure after the retries ends the fetch with -1 and
 * PD_ESERVICE (a missing key: PD_EUSAGE).  Videos already handed to on_video
 * stay handed.
 */
#ifndef PD_YOUTUBE_H
#define PD_YOUTUBE_H
#include <cjson/cJSON.h>
#include "err.h"
#include "http.h"
#include "video.h"

#define PD_YOUTUBE_DEFAULT_URL "https://www.googleapis.com/youtube/v3"

typedef struct pd_youtube_opts {
	int max_videos;			/* per channel; 0: all uploads */
	double since;			/* seconds since the epoch: skip videos published
					   before; 0: no bound */
	const char *observed_at;	/* RFC 3339 time stamped on every record (the
					   time of the fetch); required */
	const char *base_url;		/* NULL: $PD_YOUTUBE_URL, else the default */
	const char *api_key;		/* NULL: $YOUTUBE_API_KEY */
	const pd_http_opts *http;	/* NULL: pd_http_opts_default */
	int concurrency;		/* videos.list calls in flight; 0: 4 */
	/* each video, in channel order then upload order (newest first); the
	   callback owns the object (cJSON_Delete it) */
	void (*on_video)(void *ud, cJSON *video);
	/* or, when set (on_video is then not called), each video as the
	   struct pd_video_write writes (lib/video.h); valid during the call */
	void (*on_record)(void *ud, const pd_video *v);
	/* a per-channel problem: the fetch goes on; channel is the id or
	   handle as given, msg does not repeat it ("channel not found",
	   "uploads cannot be listed: ...") */
	void (*on_warn)(void *ud, const char *channel, const char *msg);
	void *ud;
} pd_youtube_opts;

typedef struct pd_youtube_stats {
	long quota_units;	/* API calls made, 1 unit each */
	long http_attempts;	/* including retries */
	long channels_ok, channels_failed;
	long videos;		/* records handed to on_video */
	long missing;		/* playlist entries videos.list did not return
				   (private or deleted videos) */
} pd_youtube_stats;

/*
 * pd_youtube_fetch_channels: channel_ids[0..n) (ids "UC..." or handles
 * "@name", duplicates fetched once) through the callbacks of o.  st (may be
 * NULL) is zeroed first and filled even on failure, so the quota used can
 * be reported.  Returns 0 when every channel was fetched or warned about,
 * -1 with err otherwise.
 */
int pd_youtube_fetch_channels(const char *const *channel_ids, int n, const pd_youtube_opts *o,
			      pd_youtube_stats *st, pd_err *err);

/*
 * pd_youtube_video_record: one videos.list item (with parts snippet,
 * statistics, contentDetails) as a new pd video record (the caller frees
 * it), written by lib/video.h's pd_video_write and parsed: type, id,
 * channel_id, channel_title, title, description, tags ([]
 * when none), category (the standard name of snippet.categoryId, or the id
 * itself when unknown), category_id, published_at, observed_at, duration_s
 * (null for a live or upcoming broadcast's P0D), views, likes, comments
 * (null when absent: hidden or disabled), is_short, extra (live broadcast
 * content, definition, caption, languages, licensed content, thumbnail).
 * Returns NULL with err (PD_EREC) when the item has no id or snippet.
 */
cJSON *pd_youtube_video_record(const cJSON *item, const char *observed_at, pd_err *err);
/*
 * pd_youtube_video_fill: the same record as a pd_video for pd_video_write
 * (pd_youtube_video_record is that writer's text as a tree): strings
 * borrowed from item, "extra" written into the caller's buffer extra (reset
 * first); pd_video_release(v) frees the tags array, also after a failure.
 * Returns 0, or -1 with err as pd_youtube_video_record.
 */
int pd_youtube_video_fill(const cJSON *item, const char *observed_at, pd_video *v,
			  pd_buf *extra, pd_err *err);

/*
 * pd_youtube_error: the message of a failed API response (HTTP status and
 * JSON error body, which may be anything) into err, with code PD_ESERVICE;
 * what names the call ("videos.list").  Quota exhaustion and an invalid key
 * get their own wording.  Returns -1.
 */
int pd_youtube_error(long status, const char *body, const char *what, pd_err *err);

#endif
