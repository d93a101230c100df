/* SPDX-License-Identifier: ISC */
/*
 * The output filter of `idw run` (client/redact.c) on its own: throughput
 * of secret-free text with 1 and 16 values, and the time one short line
 * spends in the filter, beside a plain copy to the same sink (the floor).
 * Prints one JSON object.
 *
 *   cc -O2 -I. -o redact_bench bench/c/redact_bench.c client/redact.c \
 *      -lsodium && ./redact_bench [MiB]
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
	double copy, one, sixteen;

	if (sodium_init() < 0 || mib == 0)
		return 1;
	len = mib << 20;
	if ((text = malloc(len)) == NULL)
		return 1;
	fill_text(text, len);
	copy = throughput(0, text, len);
	one = throughput(1, text, len);
	sixteen = throughput(16, text, len);
	printf("{\"mib\": %zu, \"copy_mb_s\": %.1f, \"one_value_mb_s\": %.1f, "
	       "\"sixteen_values_mb_s\": %.1f, \"line_copy_us\": %.3f, "
	       "\"line_one_value_us\": %.3f, \"line_sixteen_values_us\": "
	       "%.3f}\n",
	       mib, copy, one, sixteen, line_us(0, text), line_us(1, text),
	       line_us(16, text));
	free(text);
	return sink_bytes == 0;
}
