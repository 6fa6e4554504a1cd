/*
 * fuzz_youtube.c — libFuzzer target: YouTube Data API replies
 * (lib/youtube.h).  The input as a videos.list reply: each item made a video
 * record by pd_youtube_video_record, which pd's own video reader must
 * accept; the input as an error body (pd_youtube_error).  Then the input,
 * split into replies at "===" lines (http_stub.c), answers a whole
 * pd_youtube_fetch_channels of a channel id and a handle: channels.list,
 * playlistItems.list pages, videos.list.  Every video handed on must be a
 * video pd reads, every answered call counted in the quota, and the call
 * must end, also when the server repeats its last answer forever.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/pd.h"
#include "../../lib/video.h"
#include "../../lib/youtube.h"
#include "http_stub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *observed = "2026-08-21T12:00:00Z";

static void check_video(const cJSON *rec)
{
	pd_video v;
	pd_err err;
	if (pd_video_from_json(rec, &v, &err) != 0) {
		char *s = cJSON_PrintUnformatted(rec);
		fprintf(stderr, "fuzz_youtube: a record pd does not read (%s): %s\n", err.msg, s);
		abort();
	}
	pd_video_release(&v);
}

static void on_video(void *ud, cJSON *video)
{
	(*(long *)ud)++;
	check_video(video);
	cJSON_Delete(video);
}

static void on_warn(void *ud, const char *channel, const char *msg)
{
	(void)ud;
	if (!channel || !msg)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pd_err err;
	cJSON *j = cJSON_ParseWithLength((const char *)data, size);
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "items")) {
		cJSON *rec = pd_youtube_video_record(it, observed, &err);
		if (rec) {
			check_video(rec);
			cJSON_Delete(rec);
		}
	}
	cJSON_Delete(j);
	char *body = xmemdup(data, size);
	if (pd_youtube_error(403, body, "videos.list", &err) != -1 || err.code != PD_ESERVICE)
		abort();
	free(body);

	static const char *const chans[] = { "UCabcdefghijklmnopqrstuv", "@handle" };
	long nvideos = 0;
	pd_youtube_opts o = { .observed_at = observed, .base_url = "http://yt.invalid/youtube/v3",
			      .api_key = "k", .concurrency = 2, .on_video = on_video,
			      .on_warn = on_warn, .ud = &nvideos };
	pd_youtube_stats st;
	fz_http_set(data, size);
	int rc = pd_youtube_fetch_channels(chans, 2, &o, &st, &err);
	if ((rc != 0 && rc != -1) || st.videos != nvideos || st.quota_units < fz_http_requests())
		abort();
	/* a server stuck on its last answer (the same page and page token
	   forever): the fetch must still end */
	fz_http_set(data, size);
	fz_http_repeat_last(1);
	nvideos = 0;
	pd_youtube_fetch_channels(chans, 2, &o, &st, &err);
	return 0;
}
