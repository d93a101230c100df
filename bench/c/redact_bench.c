/* SPDX-License-Identifier: ISC */
/*
 * The output filter of `idw run` (client/redact.c) on its own: throughput
 * of secret-free text with 1 and 16 values, and the time one short line
 * spends in the filter, beside a plain copy to the same sink (the floor);
 * the added latency per feed is the difference.  Also the worst case the
 * matcher admits: a 4 KiB value of one repeated byte but the last, under
 * output of that byte only, so every position compares 4 KiB.
 * Prints one JSON object.
 *
 *   cc -O2 -I. -o redact_bench bench/c/redact_bench.c client/redact.c \
 *      client/redact_forms.c -lsodium && ./redact_bench [MiB]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "client/redact.h"

static uint64_t sink_bytes;
static uint8_t dst[1 << 18];

/* The sink copies, as a write to a pipe would. */
static int sink(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	while (n > 0) {
		size_t k = n < sizeof(dst) ? n : sizeof(dst);

		memcpy(dst, p, k);
		sink_bytes += k + (dst[k - 1] & 1);
		p += k;
		n -= k;
	}
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Log-like text: printable ASCII lines, no value in it. */
static void fill_text(uint8_t *p, size_t n)
{
	static const char words[] = "GET /api/v1/items?page=2 200 OK "
				    "latency=12ms user=alice token=<none> ";
	for (size_t i = 0; i < n; i++)
		p[i] = (i % 97 == 96) ? '\n'
				      : (uint8_t)words[i % (sizeof(words) - 1)];
}

static struct redact *filter(size_t nvalues)
{
	struct redact *r = redact_new(sink, NULL);

	for (size_t i = 0; r != NULL && i < nvalues; i++) {
		char name[32], value[64];

		snprintf(name, sizeof(name), "VAR_%zu", i);
		snprintf(value, sizeof(value), "sk-live-%zu-%08x%08x", i,
			 randombytes_random(), randombytes_random());
		if (redact_add(r, name, (const uint8_t *)value,
			       strlen(value)) != 0) {
			redact_free(r);
			return NULL;
		}
	}
	return r;
}

/* MB/s of text fed in 64 KiB reads (nvalues 0: the plain copy). */
static double throughput(size_t nvalues, const uint8_t *text, size_t len)
{
	struct redact *r = nvalues ? filter(nvalues) : NULL;
	double t0 = now_s(), dt;

	for (size_t i = 0; i < len; i += 65536) {
		size_t n = len - i < 65536 ? len - i : 65536;

		if (r != NULL ? redact_feed(r, text + i, n, 0) != 0
			      : sink(NULL, text + i, n) != 0)
			exit(1);
	}
	if (r != NULL && redact_flush(r) != 0)
		exit(1);
	dt = now_s() - t0;
	redact_free(r);
	return (double)len / dt / 1e6;
}

/* MB/s of the worst case: "aaa…ab" (4 KiB) looked for in "aaa…". */
static double worst_case(size_t len)
{
	struct redact *r = redact_new(sink, NULL);
	uint8_t *v = malloc(4096), *text = malloc(len);
	double t0, dt;

	if (r == NULL || v == NULL || text == NULL)
		exit(1);
	memset(v, 'a', 4095);
	v[4095] = 'b';
	memset(text, 'a', len);
	if (redact_add(r, "WORST", v, 4096) != 0)
		exit(1);
	t0 = now_s();
	for (size_t i = 0; i < len; i += 65536)
		if (redact_feed(r, text + i, len - i < 65536 ? len - i : 65536,
				0) != 0)
			exit(1);
	if (redact_flush(r) != 0)
		exit(1);
	dt = now_s() - t0;
	redact_free(r);
	free(v);
	free(text);
	return (double)len / dt / 1e6;
}

/* Median µs one 80-byte line takes through the filter. */
static double line_us(size_t nvalues, const uint8_t *text)
{
	struct redact *r = nvalues ? filter(nvalues) : NULL;
	double t[2001];

	for (int k = 0; k < 2001; k++) {
		double t0 = now_s();

		if (r != NULL ? redact_feed(r, text + (k % 512) * 80, 80, 0) !=
						0 ||
					redact_flush(r) != 0
			      : sink(NULL, text + (k % 512) * 80, 80) != 0)
			exit(1);
		t[k] = (now_s() - t0) * 1e6;
	}
	redact_free(r);
	for (int i = 1; i < 2001; i++) /* insertion sort: small */
		for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
			double x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return t[1000];
}

int main(int argc, char *argv[])
{
	size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 64, len;
	uint8_t *text;
	double copy, one, sixteen, lc, l1, l16;

	if (sodium_init() < 0 || mib == 0)
		return 1;
	len = mib << 20;
	if ((text = malloc(len)) == NULL)
		return 1;
	fill_text(text, len);
	copy = throughput(0, text, len);
	one = throughput(1, text, len);
	sixteen = throughput(16, text, len);
	lc = line_us(0, text);
	l1 = line_us(1, text);
	l16 = line_us(16, text);
	printf("{\"mib\": %zu, \"copy_mb_s\": %.1f, \"one_value_mb_s\": %.1f, "
	       "\"sixteen_values_mb_s\": %.1f, \"line_copy_us\": %.3f, "
	       "\"line_one_value_us\": %.3f, \"line_sixteen_values_us\": "
	       "%.3f, \"added_us_per_feed_one_value\": %.3f, "
	       "\"added_us_per_feed_sixteen_values\": %.3f, "
	       "\"worst_case_mb_s\": %.2f}\n",
	       mib, copy, one, sixteen, lc, l1, l16, l1 - lc, l16 - lc,
	       worst_case(len / 16 ? len / 16 : 1));
	free(text);
	return sink_bytes == 0;
}
