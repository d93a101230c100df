/* SPDX-License-Identifier: ISC */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/idwtime.h"

int64_t idw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

uint64_t idw_boot_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void idw_time_fmt_utc(int64_t t, char out[IDW_TIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL) {
		snprintf(out, IDW_TIME_LEN, "1970-01-01T00:00:00Z");
		return;
	}
	strftime(out, IDW_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void idw_time_fmt_local(int64_t t, char out[IDW_TIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;
	char z[8];
	size_t n;

	if (localtime_r(&tt, &tm) == NULL) {
		idw_time_fmt_utc(t, out);
		return;
	}
	n = strftime(out, IDW_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(z, sizeof(z), "%z", &tm); /* +0100 */
	if (strcmp(z, "+0000") == 0 || strlen(z) != 5)
		snprintf(out + n, IDW_TIME_LEN - n, "Z");
	else
		snprintf(out + n, IDW_TIME_LEN - n, "%.3s:%.2s", z, z + 3);
}

static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* Days from the civil date, proleptic Gregorian (H. Hinnant). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int mdays(int y, int m)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30,
				 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

int idw_time_parse(const char *s, int end_of_day, int64_t *t)
{
	int y, mo, d, h = 0, mi = 0, se = 0, oh = 0, om = 0, sign = 0;
	size_t n = strlen(s);
	const char *p;

	if (n < 10 || digits(s, 4, &y) || s[4] != '-' ||
	    digits(s + 5, 2, &mo) || s[7] != '-' || digits(s + 8, 2, &d))
		return IDW_EINVAL;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays(y, mo))
		return IDW_EINVAL;
	if (n == 10) {
		*t = days_from_civil(y, mo, d) * 86400 +
		     (end_of_day ? 86399 : 0);
		return 0;
	}
	if (n < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
	    s[16] != ':' || digits(s + 17, 2, &se))
		return IDW_EINVAL;
	if (h > 23 || mi > 59 || se > 60)
		return IDW_EINVAL;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return IDW_EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
		sign = 0;
	} else if ((*p == '+' || *p == '-') && strlen(p) == 6 &&
		   digits(p + 1, 2, &oh) == 0 && p[3] == ':' &&
		   digits(p + 4, 2, &om) == 0 && oh < 24 && om < 60) {
		sign = *p == '+' ? 1 : -1;
	} else {
		return IDW_EINVAL;
	}
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se -
	     sign * (oh * 3600 + om * 60);
	return 0;
}

int idw_duration_parse(const char *s, int64_t *secs)
{
	char *end = NULL;
	long long n;
	int64_t mul;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return IDW_EINVAL;
	n = strtoll(s, &end, 10);
	if (end == NULL || end[0] == '\0' || end[1] != '\0' || n <= 0)
		return IDW_EINVAL;
	switch (end[0]) {
	case 's':
		mul = 1;
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return IDW_EINVAL;
	}
	if (n > (long long)(INT64_MAX / 86400 / 1000))
		return IDW_ETOOBIG;
	*secs = (int64_t)n * mul;
	return 0;
}
