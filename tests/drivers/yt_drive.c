/*
 * yt_drive.c — a test driver for lib/youtube.c (not installed; built by
 * tests/t0300-fetch-youtube.sh with cc against build/libpd.a), so the
 * module is tested through its own interface as well as through pd-fetch.
 *
 *   yt_drive [-m MAX_VIDEOS] [-s SINCE] [-o OBSERVED_AT] CHANNEL...
 *
 * Video records to stdout (NDJSON); on stderr "warning: CHANNEL: MSG",
 * "retry ATTEMPT STATUS WAIT WHY", a last line "stats quota=Q attempts=A
 * ok=K failed=F videos=V missing=M", and on failure "error: MSG"; the exit
 * status is the error's code (2 usage, 3 service), else 0.
 */
#include "../../lib/pd.h"
#include "../../lib/youtube.h"
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void on_video(void *ud, cJSON *v)
{
	(void)ud;
	char *s = cJSON_PrintUnformatted(v);
	puts(s);
	free(s);
	cJSON_Delete(v);
}

static void on_warn(void *ud, const char *ch, const char *msg)
{
	(void)ud;
	fprintf(stderr, "warning: %s: %s\n", ch, msg);
}

static void on_retry(void *ud, int attempt, long status, double wait_s, const char *why)
{
	(void)ud;
	fprintf(stderr, "retry %d %ld %.3f %s\n", attempt, status, wait_s, why);
}

int main(int argc, char **argv)
{
	pd_youtube_opts o = { 0 };
	pd_http_opts h;
	pd_http_opts_default(&h);
	h.on_retry = on_retry;
	o.http = &h;
	o.observed_at = "2024-06-02T00:00:00Z";
	o.on_video = on_video;
	o.on_warn = on_warn;
	int c;
	while ((c = getopt(argc, argv, "m:s:o:")) != -1) {
		switch (c) {
		case 'm': o.max_videos = atoi(optarg); break;
		case 's': if (pd_time_parse(optarg, &o.since) != 0) return 2; break;
		case 'o': o.observed_at = optarg; break;
		default: return 2;
		}
	}
	pd_youtube_stats st;
	pd_err err;
	int rc = pd_youtube_fetch_channels((const char *const *)argv + optind, argc - optind, &o,
					   &st, &err);
	fflush(stdout);
	fprintf(stderr, "stats quota=%ld attempts=%ld ok=%ld failed=%ld videos=%ld missing=%ld\n",
		st.quota_units, st.http_attempts, st.channels_ok, st.channels_failed, st.videos,
		st.missing);
	if (rc != 0) {
		fprintf(stderr, "error: %s\n", err.msg);
		return err.code;
	}
	return 0;
}
