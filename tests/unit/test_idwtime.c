/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/idwtime.h"

#define T_2026_11_23_182829 INT64_C(1795458509)

static int64_t parse_ok(const char *s, int end_of_day)
{
	int64_t t = -1;

	assert_int_equal(idw_time_parse(s, end_of_day, &t), 0);
	return t;
}

static void parse_bad(const char *s)
{
	int64_t t = 12345;

	assert_int_equal(idw_time_parse(s, 0, &t), IDW_EINVAL);
	assert_int_equal(idw_time_parse(s, 1, &t), IDW_EINVAL);
	/* A refused string leaves the output alone. */
	assert_int_equal(t, 12345);
}

static void test_parse_utc(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z", 0), 0);
	assert_int_equal(parse_ok("2000-01-01T00:00:00Z", 0), 946684800);
	assert_int_equal(parse_ok("2026-11-23T18:28:29Z", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2038-01-19T03:14:08Z", 0),
			 INT64_C(2147483648));
	assert_int_equal(parse_ok("9999-12-31T23:59:59Z", 0),
			 INT64_C(253402300799));
	/* RFC 3339 allows lower-case t and z, and a space for T. */
	assert_int_equal(parse_ok("2026-11-23t18:28:29z", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2026-11-23 18:28:29Z", 0),
			 T_2026_11_23_182829);
	/* end_of_day only concerns bare dates. */
	assert_int_equal(parse_ok("2026-11-23T18:28:29Z", 1),
			 T_2026_11_23_182829);
}

static void test_parse_offsets(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-11-23T19:28:29+01:00", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2026-11-23T13:28:29-05:00", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2026-11-23T23:58:29+05:30", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2026-11-24T04:13:29+09:45", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2026-11-23T18:28:29+00:00", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2026-11-23T18:28:29-00:00", 0),
			 T_2026_11_23_182829);
	/* An offset may carry the instant across a day boundary. */
	assert_int_equal(parse_ok("2026-11-22T23:28:29-19:00", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2026-11-24T17:28:29+23:00", 0),
			 T_2026_11_23_182829);
}

static void test_parse_fractions(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-11-23T18:28:29.1Z", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2026-11-23T18:28:29.999999999Z", 0),
			 T_2026_11_23_182829);
	assert_int_equal(parse_ok("2026-11-23T19:28:29.5+01:00", 0),
			 T_2026_11_23_182829);
	parse_bad("2026-11-23T18:28:29.Z");
	parse_bad("2026-11-23T18:28:29.+01:00");
	parse_bad("2026-11-23T18:28:29,5Z");
	parse_bad("2026-11-23T18:28:29.5");
	parse_bad("2026-11-23T18:28:29.5x");
}

static void test_parse_bare_dates(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("2026-02-28", 0), INT64_C(1772236800));
	assert_int_equal(parse_ok("2026-02-28", 1),
			 INT64_C(1772236800) + 86399);
	assert_int_equal(parse_ok("1970-01-01", 0), 0);
	assert_int_equal(parse_ok("1970-01-01", 1), 86399);
	assert_int_equal(parse_ok("2024-02-29", 0), INT64_C(1709164800));
	assert_int_equal(parse_ok("2024-02-29", 1),
			 INT64_C(1709164800) + 86399);
	/* The next day starts one second after the end of this one. */
	assert_int_equal(parse_ok("2024-03-01", 0),
			 parse_ok("2024-02-29", 1) + 1);
	assert_int_equal(parse_ok("2026-12-31", 1) + 1,
			 parse_ok("2027-01-01", 0));
}

static void test_parse_leap_years(void **state)
{
	(void)state;
	(void)parse_ok("2000-02-29", 0); /* divisible by 400 */
	(void)parse_ok("2024-02-29", 0);
	(void)parse_ok("2400-02-29T12:00:00Z", 0);
	parse_bad("2026-02-29");
	parse_bad("2100-02-29"); /* divisible by 100, not by 400 */
	parse_bad("1900-02-29");
	parse_bad("2023-02-29T00:00:00Z");
	assert_int_equal(parse_ok("2100-03-01", 0), INT64_C(4107542400));
	assert_int_equal(parse_ok("2100-02-28", 0),
			 INT64_C(4107542400) - 86400);
}

static void test_parse_invalid(void **state)
{
	(void)state;
	parse_bad("");
	parse_bad("2026");
	parse_bad("2026-02-30");
	parse_bad("2026-02-31");
	parse_bad("2026-04-31");
	parse_bad("2026-06-31");
	parse_bad("2026-09-31");
	parse_bad("2026-11-31");
	parse_bad("2026-00-10");
	parse_bad("2026-13-01");
	parse_bad("2026-01-00");
	parse_bad("2026-01-32");
	parse_bad("1969-12-31");
	parse_bad("0000-01-01");
	parse_bad("2026-1-01");
	parse_bad("2026/01/01");
	parse_bad("+2026-01-01");
	parse_bad("2026-01-01T");
	parse_bad("2026-01-01x");
	parse_bad("2026-01-01 ");
	parse_bad("2026-11-23T18:28:29");
	parse_bad("2026-11-23T18:28Z");
	parse_bad("2026-11-23T24:00:00Z");
	parse_bad("2026-11-23T18:60:00Z");
	parse_bad("2026-11-23T18:28:61Z");
	parse_bad("2026-11-23T-1:28:29Z");
	parse_bad("2026-11-23X18:28:29Z");
	parse_bad("2026-11-23T18:28:29Z ");
	parse_bad("2026-11-23T18:28:29ZZ");
	parse_bad("2026-11-23T18:28:29+0100");
	parse_bad("2026-11-23T18:28:29+01");
	parse_bad("2026-11-23T18:28:29+01:00:00");
	parse_bad("2026-11-23T18:28:29+24:00");
	parse_bad("2026-11-23T18:28:29+01:60");
	parse_bad("2026-11-23T18:28:29 +01:00");
	parse_bad("2026-11-23T18:28:29UTC");
	parse_bad("１９７０-01-01");
}

static void test_fmt_utc(void **state)
{
	static const int64_t samples[] = {0,
					  1,
					  86399,
					  946684800,
					  T_2026_11_23_182829,
					  INT64_C(2147483648),
					  INT64_C(253402300799)};
	char out[IDW_TIME_LEN];

	(void)state;
	idw_time_fmt_utc(0, out);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	idw_time_fmt_utc(T_2026_11_23_182829, out);
	assert_string_equal(out, "2026-11-23T18:28:29Z");
	idw_time_fmt_utc(INT64_C(1709164800) + 86399, out);
	assert_string_equal(out, "2024-02-29T23:59:59Z");
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		idw_time_fmt_utc(samples[i], out);
		assert_int_equal(parse_ok(out, 0), samples[i]);
	}
}

static void check_local(const char *tz, int64_t t, const char *want)
{
	char out[IDW_TIME_LEN];

	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
	idw_time_fmt_local(t, out);
	assert_string_equal(out, want);
	assert_int_equal(parse_ok(out, 0), t);
}

static void test_fmt_local(void **state)
{
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	(void)state;
	/* POSIX TZ strings: the sign is west-positive. */
	check_local("UTC0", T_2026_11_23_182829, "2026-11-23T18:28:29Z");
	check_local("CET-1", T_2026_11_23_182829, "2026-11-23T19:28:29+01:00");
	check_local("EST5", T_2026_11_23_182829, "2026-11-23T13:28:29-05:00");
	check_local("IST-5:30", T_2026_11_23_182829,
		    "2026-11-23T23:58:29+05:30");
	check_local("XXX-9:45", 0, "1970-01-01T09:45:00+09:45");
	if (old != NULL) {
		setenv("TZ", old, 1);
		free(old);
	} else {
		unsetenv("TZ");
	}
	tzset();
}

static int64_t dur_ok(const char *s)
{
	int64_t v = -1;

	assert_int_equal(idw_duration_parse(s, &v), 0);
	return v;
}

static void dur_bad(const char *s)
{
	int64_t v = 777;

	assert_true(idw_duration_parse(s, &v) < 0);
	assert_int_equal(v, 777);
}

static void test_durations(void **state)
{
	(void)state;
	assert_int_equal(dur_ok("1s"), 1);
	assert_int_equal(dur_ok("90s"), 90);
	assert_int_equal(dur_ok("5m"), 300);
	assert_int_equal(dur_ok("2h"), 7200);
	assert_int_equal(dur_ok("720h"), 720 * 3600);
	assert_int_equal(dur_ok("7d"), 7 * 86400);
	assert_int_equal(dur_ok("30d"), 30 * 86400);
	assert_int_equal(dur_ok("007m"), 420);
}

static void test_durations_refused(void **state)
{
	int64_t v = 0;

	(void)state;
	dur_bad(NULL);
	dur_bad("");
	dur_bad("0s");
	dur_bad("0d");
	dur_bad("-1s");
	dur_bad("-5m");
	dur_bad("+5m");
	dur_bad(" 5m");
	dur_bad("5 m");
	dur_bad("5m ");
	dur_bad("10");
	dur_bad("s");
	dur_bad("1w");
	dur_bad("1ms");
	dur_bad("1S");
	dur_bad("1.5h");
	dur_bad("1h30m");
	dur_bad("0x10s");
	/* Overflow is refused, never wrapped. */
	assert_int_equal(idw_duration_parse("99999999999999999999d", &v),
			 IDW_ETOOBIG);
	assert_int_equal(idw_duration_parse("9223372036854775807s", &v),
			 IDW_ETOOBIG);
	assert_int_equal(idw_duration_parse("106751991167301d", &v),
			 IDW_ETOOBIG);
	/* Large but sane values still fit. */
	assert_int_equal(idw_duration_parse("36500d", &v), 0);
	assert_int_equal(v, INT64_C(36500) * 86400);
}

static void test_clocks(void **state)
{
	int64_t now = idw_now(), sys = (int64_t)time(NULL);
	uint64_t a, b;

	(void)state;
	assert_true(now >= sys - 1 && now <= sys + 1);
	a = idw_boot_ms();
	b = idw_boot_ms();
	assert_true(a > 0);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_utc),
		cmocka_unit_test(test_parse_offsets),
		cmocka_unit_test(test_parse_fractions),
		cmocka_unit_test(test_parse_bare_dates),
		cmocka_unit_test(test_parse_leap_years),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_fmt_utc),
		cmocka_unit_test(test_fmt_local),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_durations_refused),
		cmocka_unit_test(test_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
