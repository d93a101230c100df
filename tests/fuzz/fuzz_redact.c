/* SPDX-License-Identifier: ISC */
/*
 * The output filter of `idw run` on arbitrary program output (outside
 * bytes), fed in pieces whose sizes come from the input itself.
 *
 * Fed without flushes, the output must equal that of a plain reference
 * matcher run over the whole input at once (leftmost, longest match of
 * any form; a match that starts inside a replaced region and ends past
 * it carries the region on): so no split leaks a value and bytes that
 * are no value pass unchanged.  Fed again with flushes (the hold time
 * running out) at pieces that start with '!', it must not crash or leak
 * memory, and must hold nothing after the last flush.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/redact.h"
#include "client/redact_forms.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"A", "B", "C", "D", "E", "F"};
static const char *const values[] = {"#1234#5678#", "90#87",
				     "0#0#0#0#1",   "#1234#5678#99",
				     "78#9ab",	    "k/\"\\\xc3\xa9<"};
#define NVALUES (sizeof(values) / sizeof(values[0]))

struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

static int collect(void *ctx, const uint8_t *p, size_t n)
{
	put(ctx, p, n);
	return 0;
}

/* The reference's patterns: every form, first name first, in order. */
static struct bytes pool;
static size_t pat_off[512], pat_len[512], pat_name[512], npats, cur_name;

static int keep_form(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < npats; i++)
		if (pat_len[i] == n && memcmp(pool.p + pat_off[i], p, n) == 0)
			return 0;
	if (npats == 512)
		abort();
	pat_off[npats] = pool.len;
	pat_len[npats] = n;
	pat_name[npats++] = cur_name;
	put(&pool, p, n);
	return 0;
}

/* One filter for every input: a flush leaves it as new. */
static struct bytes got;
static struct redact *r;

static void make_filter(void)
{
	if ((r = redact_new(collect, &got)) == NULL)
		abort();
	for (size_t i = 0; i < NVALUES; i++)
		if (redact_add(r, names[i], (const uint8_t *)values[i],
			       strlen(values[i])) != 0)
			abort();
	if (redact_patterns(r) != npats)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	for (cur_name = 0; cur_name < NVALUES; cur_name++)
		if (redact_forms((const uint8_t *)values[cur_name],
				 strlen(values[cur_name]), keep_form,
				 NULL) != 0)
			abort();
	make_filter();
	return 0;
}

static void marker(struct bytes *o, size_t name)
{
	char m[32];
	int n = snprintf(m, sizeof(m), "<redacted:%s>", names[name]);

	put(o, m, (size_t)n);
}

/* What the filter must write for t, by the rule, the slow way. */
static void reference(struct bytes *o, const uint8_t *t, size_t n)
{
	size_t cov = 0, plain = 0, last = SIZE_MAX;

	for (size_t i = 0; i < n; i++) {
		size_t best = SIZE_MAX, end;

		for (size_t k = 0; k < npats; k++)
			if (pat_len[k] <= n - i &&
			    (best == SIZE_MAX || pat_len[k] > pat_len[best]) &&
			    memcmp(t + i, pool.p + pat_off[k], pat_len[k]) == 0)
				best = k;
		if (best == SIZE_MAX)
			continue;
		end = i + pat_len[best];
		if (i >= cov || (end > cov && pat_name[best] != last)) {
			if (i > plain)
				put(o, t + plain, i - plain);
			marker(o, pat_name[best]);
			last = pat_name[best];
		}
		if (end > cov)
			cov = plain = end;
	}
	if (n > plain)
		put(o, t + plain, n - plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bytes want = {0};
	const uint8_t *t = data + 1;
	size_t n = size > 0 ? size - 1 : 0;
	uint32_t seed = size > 0 ? data[0] : 0;
	uint64_t now = 0;

	/* Pieces of 1 to 32 bytes, sizes from a generator seeded by data[0]. */
	got.len = 0;
	for (size_t at = 0; at < n;) {
		size_t step;

		seed = seed * 1103515245u + 12345u;
		step = (seed >> 16) % 32 + 1;
		if (step > n - at)
			step = n - at;
		if (redact_feed(r, t + at, step, now++) != 0)
			abort();
		at += step;
	}
	if (redact_flush(r) != 0 || redact_hold_ms(r, now) != -1)
		abort();
	reference(&want, t, n);
	if (got.len != want.len || memcmp(got.p, want.p, got.len) != 0)
		abort();

	/* Again with flushes at pieces that start with '!'. */
	got.len = 0;
	for (size_t at = 0; at < n;) {
		size_t step = (t[at] & 7) + 1;

		if (step > n - at)
			step = n - at;
		if (redact_feed(r, t + at, step, now++) != 0)
			abort();
		if (t[at] == '!' && redact_flush(r) != 0)
			abort();
		at += step;
	}
	if (redact_flush(r) != 0 || redact_hold_ms(r, now) != -1)
		abort();
	free(want.p);
	return 0;
}
