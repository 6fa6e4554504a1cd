/*
 * timeutil.c — RFC 3339 and ISO 8601 durations; see timeutil.h.
 * Date arithmetic is Howard Hinnant's days_from_civil, exact for all dates.
 */
#include "timeutil.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

long pd_days_from_civil(long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

static void civil_from_days(long z, long *y, unsigned *m, unsigned *d)
{
	z += 719468;
	long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long yy = (long)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int mdays(int y, int m)
{
	static const int md[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return md[m - 1];
}

int pd_time_parse(const char *s, double *t)
{
	int Y, M, D, h = 0, mi = 0, sec = 0;
	size_t n = strlen(s);
	if (n < 10 || digits(s, 4, &Y) || s[4] != '-' || digits(s + 5, 2, &M) || s[7] != '-' ||
	    digits(s + 8, 2, &D))
		return -1;
	if (M < 1 || M > 12 || D < 1 || D > mdays(Y, M))
		return -1;
	const char *p = s + 10;
	double frac = 0;
	int off = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		if (strlen(p) < 9 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi) ||
		    p[6] != ':' || digits(p + 7, 2, &sec))
			return -1;
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		p += 9;
		if (*p == '.') {
			double scale = 0.1;
			p++;
			if (*p < '0' || *p > '9')
				return -1;
			while (*p >= '0' && *p <= '9') {
				frac += (*p - '0') * scale;
				scale /= 10;
				p++;
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int oh, om;
			int sign = *p == '-' ? -1 : 1;
			if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) || oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 3600 + om * 60);
			p += 6;
		}
	}
	if (*p != '\0')
		return -1;
	long days = pd_days_from_civil(Y, (unsigned)M, (unsigned)D);
	*t = (double)days * 86400.0 + h * 3600 + mi * 60 + sec + frac - off;
	return 0;
}

void pd_time_format(double t, char *out, size_t cap)
{
	double fl = floor(t);
	long days = (long)floor(fl / 86400.0);
	long secs = (long)(fl - (double)days * 86400.0);
	long y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, cap, "%04ld-%02u-%02uT%02ld:%02ld:%02ldZ", y, m, d, secs / 3600,
		 (secs / 60) % 60, secs % 60);
}

int pd_time_weekday(double t, int tz_offset_s)
{
	long days = (long)floor((t + tz_offset_s) / 86400.0);
	/* 1970-01-01 was a Thursday (3 when Monday is 0) */
	long w = (days + 3) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

int pd_time_hour(double t, int tz_offset_s)
{
	double x = t + tz_offset_s;
	double s = x - floor(x / 86400.0) * 86400.0;
	return (int)(s / 3600.0);
}

int pd_tz_parse(const char *s, int *off)
{
	if (!strcmp(s, "Z") || !strcmp(s, "z") || !strcmp(s, "UTC")) {
		*off = 0;
		return 0;
	}
	int h, mi = 0;
	char sign, rest;
	if ((sign = s[0]) != '+' && sign != '-')
		return -1;
	if (sscanf(s + 1, "%2d:%2d%c", &h, &mi, &rest) != 2 &&
	    !(strlen(s) == 3 && sscanf(s + 1, "%2d%c", &h, &rest) == 1))
		return -1;
	if (h > 14 || mi > 59)
		return -1;
	*off = (sign == '-' ? -1 : 1) * (h * 3600 + mi * 60);
	return 0;
}

int pd_duration_parse(const char *s, double *seconds)
{
	/* P[nW][nD][T[nH][nM][n[.f]S]] (years and months are not durations a video has) */
	if (*s != 'P')
		return -1;
	s++;
	double total = 0;
	int in_time = 0, any = 0;
	while (*s) {
		if (*s == 'T') {
			if (in_time)
				return -1;
			in_time = 1;
			s++;
			continue;
		}
		double v = 0;
		int nd = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (*s - '0');
			s++;
			nd++;
		}
		if (*s == '.' && in_time) {
			double scale = 0.1;
			s++;
			while (*s >= '0' && *s <= '9') {
				v += (*s - '0') * scale;
				scale /= 10;
				s++;
				nd++;
			}
		}
		if (!nd)
			return -1;
		char u = *s++;
		if (!in_time && u == 'W')
			total += v * 604800;
		else if (!in_time && u == 'D')
			total += v * 86400;
		else if (in_time && u == 'H')
			total += v * 3600;
		else if (in_time && u == 'M')
			total += v * 60;
		else if (in_time && u == 'S')
			total += v;
		else
			return -1;
		any = 1;
	}
	if (!any)
		return -1;
	*seconds = total;
	return 0;
}
