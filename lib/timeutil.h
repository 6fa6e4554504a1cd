/*
 * timeutil.h — the times and durations that video records carry.
 *
 * RFC 3339 timestamps (published_at, observed_at) to and from seconds since
 * the epoch, without the C library's time zone state (so results do not
 * depend on TZ), and ISO 8601 durations as the YouTube API gives them
 * ("PT1H2M3S", "P1DT2H", "P0D").
 */
#ifndef PD_TIMEUTIL_H
#define PD_TIMEUTIL_H
#include <stddef.h>

/*
 * pd_time_parse: "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)", also with a space
 * for 'T', without a zone (taken as UTC), or a bare date "YYYY-MM-DD".
 * Returns 0 and *t (seconds since 1970-01-01T00:00:00Z), or -1.
 */
int pd_time_parse(const char *s, double *t);
/* pd_time_format: t as "YYYY-MM-DDTHH:MM:SSZ" into out (at least 21 bytes). */
void pd_time_format(double t, char *out, size_t cap);
/* pd_days_from_civil: days since 1970-01-01 of a proleptic Gregorian date. */
long pd_days_from_civil(long y, unsigned m, unsigned d);
/* pd_time_weekday: 0 = Monday .. 6 = Sunday, of t shifted by tz_offset_s. */
int pd_time_weekday(double t, int tz_offset_s);
/* pd_time_hour: 0..23 of t shifted by tz_offset_s. */
int pd_time_hour(double t, int tz_offset_s);
/*
 * pd_tz_parse: a time zone offset for --tz: "Z", "z", "UTC", "+HH", "+HH:MM"
 * or "-HH:MM" (at most 14 hours).  Returns 0 and *offset_s, or -1.
 */
int pd_tz_parse(const char *s, int *offset_s);
/* pd_duration_parse: ISO 8601 duration to seconds; -1 if malformed. */
int pd_duration_parse(const char *s, double *seconds);

#endif
