/* SPDX-License-Identifier: ISC */
#ifndef IDW_TIME_H
#define IDW_TIME_H

#include <stdint.h>

#include "common/err.h"

#define IDW_TIME_LEN 40

/* Wall clock, seconds since the epoch. IDW_FAKE_NOW is not honoured. */
int64_t idw_now(void);
/* Milliseconds of CLOCK_BOOTTIME: intervals that count suspend. */
uint64_t idw_boot_ms(void);

/* "2026-11-23T18:28:29Z" */
void idw_time_fmt_utc(int64_t t, char out[IDW_TIME_LEN]);
/* RFC 3339 in the local zone, "2026-11-23T19:28:29+01:00" */
void idw_time_fmt_local(int64_t t, char out[IDW_TIME_LEN]);

/*
 * Parse RFC 3339 ("…T…Z" or with ±HH:MM) or a bare date "YYYY-MM-DD".
 * A bare date means the start of that day in UTC, or its last second
 * when end_of_day is set.
 */
int idw_time_parse(const char *s, int end_of_day, int64_t *t) IDW_WUR;

/* Durations "N{s,m,h,d}" into seconds; N > 0. */
int idw_duration_parse(const char *s, int64_t *secs) IDW_WUR;

#endif
