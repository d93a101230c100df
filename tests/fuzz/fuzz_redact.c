/* SPDX-License-Identifier: ISC */
/*
 * The output filter of `idw run` on arbitrary program output, fed in
 * pieces whose sizes come from the input itself.  The values are made of
 * bytes the marker never contains, so a value in the output can only be
 * program bytes the filter let through: that must never happen (unless a
 * flush, the hold time running out, cut a value in two), and output with
 * no byte any form of a value is made of passes through whole.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/redact.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const values[] = {"#1234#5678#", "90#87", "0#0#0#0#1",
				     "#1234#5678#99"};

struct out {
	uint8_t *p;
	size_t len, cap;
};

static int collect(void *ctx, const uint8_t *p, size_t n)
{
	struct out *o = ctx;

	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2;
		if ((o->p = realloc(o->p, o->cap)) == NULL)
			abort();
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return sodium_init() < 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct out o = {0};
	struct redact *r = redact_new(collect, &o);
	size_t at, step;
	uint64_t now = 0;

	if (r == NULL)
		abort();
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (redact_add(r, i % 2 ? "ODD" : "EVEN",
			       (const uint8_t *)values[i],
			       strlen(values[i])) != 0)
			abort();
	/* The first byte picks the piece size; then the program's bytes. */
	step = size > 0 ? (size_t)data[0] % 17 + 1 : 1;
	for (at = 1; at < size; at += step) {
		size_t n = size - at < step ? size - at : step;

		if (redact_feed(r, data + at, n, now) != 0)
			abort();
		now += 100;
		/* Sometimes the hold time runs out between pieces. */
		if (data[at] == '!' && redact_flush(r) != 0)
			abort();
	}
	if (redact_flush(r) != 0 || redact_hold_ms(r, now) != -1)
		abort();
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (memmem(o.p ? o.p : (uint8_t *)"", o.len, values[i],
			   strlen(values[i])) != NULL &&
		    memchr(data, '!', size) == NULL)
			abort();
	/* No byte that any form of a value is made of: unchanged. */
	for (at = 1; at < size; at++)
		if (isalnum(data[at]) || strchr("#%\\+/-_=", data[at]) != NULL)
			break;
	if (at >= size && o.len != (size > 0 ? size - 1 : 0))
		abort();
	redact_free(r);
	free(o.p);
	return 0;
}
