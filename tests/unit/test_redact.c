/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "client/redact.h"

/* The filter's output, collected. */
struct out {
	uint8_t *p;
	size_t len, cap;
};

static int collect(void *ctx, const uint8_t *p, size_t n)
{
	struct out *o = ctx;

	if (o->len + n > o->cap) {
		o->cap = (o->len + n) * 2 + 64;
		o->p = realloc(o->p, o->cap);
		assert_non_null(o->p);
	}
	memcpy(o->p + o->len, p, n);
	o->len += n;
	return 0;
}

static bool contains(const struct out *o, const void *needle, size_t n)
{
	return n > 0 && o->len >= n && memmem(o->p, o->len, needle, n) != NULL;
}

static bool has_str(const struct out *o, const char *s)
{
	return contains(o, s, strlen(s));
}

/* Run text through a filter with the given values, in pieces of step. */
static struct out run(const char *const *names, const char *const *values,
		      size_t nvalues, const uint8_t *text, size_t len,
		      size_t step)
{
	struct out o = {0};
	struct redact *r = redact_new(collect, &o);

	assert_non_null(r);
	for (size_t i = 0; i < nvalues; i++)
		assert_int_equal(redact_add(r, names[i],
					    (const uint8_t *)values[i],
					    strlen(values[i])),
				 0);
	for (size_t i = 0; i < len; i += step) {
		size_t n = len - i < step ? len - i : step;

		assert_int_equal(redact_feed(r, text + i, n, 0), 0);
	}
	assert_int_equal(redact_flush(r), 0);
	redact_free(r);
	return o;
}

static const char *const one_name[] = {"TOKEN"};
static const char *const one_value[] = {
	"s3cr3t/Value+with\"odd\\chars\xc3\xa9"};

static void check_hidden(const char *text, const char *form)
{
	struct out o = run(one_name, one_value, 1, (const uint8_t *)text,
			   strlen(text), strlen(text) + 1);

	if (contains(&o, form, strlen(form)) ||
	    !has_str(&o, "<redacted:TOKEN>"))
		fail_msg("form '%s' survived in '%.*s'", form, (int)o.len,
			 (char *)o.p);
	free(o.p);
}

static void test_plain_and_hex(void **state)
{
	const char *v = one_value[0];
	char hex[200], text[300];

	(void)state;
	snprintf(text, sizeof(text), "before %s after", v);
	check_hidden(text, v);
	sodium_bin2hex(hex, sizeof(hex), (const uint8_t *)v, strlen(v));
	snprintf(text, sizeof(text), "x=%s;", hex);
	check_hidden(text, hex);
	for (char *c = hex; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	snprintf(text, sizeof(text), "x=%s;", hex);
	check_hidden(text, hex);
}

/* Base64 of random prefix ‖ value ‖ random suffix, for every alignment. */
static void test_base64_alignments(void **state)
{
	const int variants[] = {sodium_base64_VARIANT_ORIGINAL,
				sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
				sodium_base64_VARIANT_URLSAFE,
				sodium_base64_VARIANT_URLSAFE_NO_PADDING};
	const char *v = one_value[0];
	size_t vl = strlen(v);

	(void)state;
	for (size_t vi = 0; vi < 4; vi++)
		for (size_t pre = 0; pre < 6; pre++)
			for (size_t post = 0; post < 4; post++) {
				uint8_t bin[128];
				char enc[256], core[256];

				randombytes_buf(bin, pre);
				memcpy(bin + pre, v, vl);
				randombytes_buf(bin + pre + vl, post);
				sodium_bin2base64(enc, sizeof(enc), bin,
						  pre + vl + post,
						  variants[vi]);
				/* The run that encodes the value alone. */
				snprintf(core, sizeof(core), "%.*s",
					 (int)((8 * (pre + vl)) / 6 -
					       (8 * pre + 5) / 6),
					 enc + (8 * pre + 5) / 6);
				check_hidden(enc, core);
			}
}

static void test_percent_and_json(void **state)
{
	(void)state;
	/* Reserved bytes encoded, unreserved kept. */
	check_hidden("q=s3cr3t%2FValue%2Bwith%22odd%5Cchars%C3%A9&x",
		     "s3cr3t%2FValue%2Bwith%22odd%5Cchars%C3%A9");
	check_hidden("q=s3cr3t%2fValue%2bwith%22odd%5cchars%c3%a9&x",
		     "s3cr3t%2fValue%2bwith%22odd%5cchars%c3%a9");
	/* JSON: the usual escapes, \/ and \u for non-ASCII. */
	check_hidden("{\"k\":\"s3cr3t/Value+with\\\"odd\\\\chars\xc3\xa9\"}",
		     "s3cr3t/Value+with\\\"odd\\\\chars\xc3\xa9");
	check_hidden("{\"k\":\"s3cr3t\\/Value+with\\\"odd\\\\chars\\u00e9\"}",
		     "s3cr3t\\/Value+with\\\"odd\\\\chars\\u00e9");
	/* Every code point escaped (a short value for brevity). */
	{
		const char *n[] = {"K"}, *v[] = {"ab/\xc3\xa9"};
		const char *t = "[\"\\u0061\\u0062\\u002f\\u00e9\"]";
		struct out o = run(n, v, 1, (const uint8_t *)t, strlen(t), 3);

		assert_true(has_str(&o, "[\"<redacted:K>\"]"));
		free(o.p);
	}
	check_hidden("{\"k\":\"s3cr3t\\/Value+with\\\"odd\\\\chars\\u00E9\"}",
		     "s3cr3t\\/Value+with\\\"odd\\\\chars\\u00E9");
}

/* A value cut at every byte, and fed one byte at a time. */
static void test_split_reads(void **state)
{
	const char *v = one_value[0];
	char text[200];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text), "head %s tail", v);
	for (size_t step = 1; step <= n; step++) {
		struct out o = run(one_name, one_value, 1,
				   (const uint8_t *)text, n, step);

		assert_false(contains(&o, v, strlen(v)));
		assert_true(has_str(&o, "head <redacted:TOKEN> tail"));
		assert_int_equal(o.len, strlen("head <redacted:TOKEN> tail"));
		free(o.p);
	}
}

static void test_many_values(void **state)
{
	const char *names[] = {"A", "B", "C", "LONG"};
	const char *values[] = {"alpha-secret-1", "bravo-secret-22",
				"charlie-3333", "alpha-secret-1-and-more"};
	const char *text = "alpha-secret-1-and-more|bravo-secret-22"
			   "charlie-3333 alpha-secret-1.";
	struct out o =
		run(names, values, 4, (const uint8_t *)text, strlen(text), 7);

	(void)state;
	o.p = realloc(o.p, o.len + 1);
	o.p[o.len] = 0;
	assert_string_equal((char *)o.p,
			    "<redacted:LONG>|<redacted:B><redacted:C> "
			    "<redacted:A>.");
	free(o.p);
}

/* Text without values comes out byte for byte, prefixes included. */
static void test_passthrough(void **state)
{
	uint8_t buf[70000];
	const char *v = one_value[0];

	(void)state;
	randombytes_buf(buf, sizeof(buf));
	/* Prefixes of the value, never the whole of it. */
	for (size_t at = 0; at + 40 < sizeof(buf); at += 997)
		memcpy(buf + at, v, 1 + at % (strlen(v) - 1));
	for (size_t step = 1; step <= 65537; step = step * 4 + 1) {
		struct out o =
			run(one_name, one_value, 1, buf, sizeof(buf), step);

		assert_int_equal(o.len, sizeof(buf));
		assert_memory_equal(o.p, buf, sizeof(buf));
		free(o.p);
	}
	/* No values at all, and an empty input. */
	{
		struct out o = run(NULL, NULL, 0, buf, 100, 100);

		assert_int_equal(o.len, 100);
		assert_memory_equal(o.p, buf, 100);
		free(o.p);
	}
}

/* A held prefix: timed, then written as it is by a flush. */
static void test_hold_and_flush(void **state)
{
	struct out o = {0};
	struct redact *r = redact_new(collect, &o);

	(void)state;
	assert_int_equal(redact_add(r, "T", (const uint8_t *)"abcdefgh", 8), 0);
	assert_int_equal(redact_hold_ms(r, 0), -1);
	assert_int_equal(redact_feed(r, (const uint8_t *)"xyz abcd", 8, 1000),
			 0);
	assert_int_equal(o.len, 4); /* "xyz " out, "abcd" held */
	assert_int_equal(redact_hold_ms(r, 1100), 100);
	/* More of the prefix keeps the first byte's time. */
	assert_int_equal(redact_feed(r, (const uint8_t *)"ef", 2, 1200), 0);
	assert_int_equal(redact_hold_ms(r, 1300), 300);
	assert_int_equal(redact_flush(r), 0);
	assert_int_equal(o.len, 10);
	assert_memory_equal(o.p, "xyz abcdef", 10);
	assert_int_equal(redact_hold_ms(r, 1300), -1);
	/* Completed later, it is still caught. */
	assert_int_equal(redact_feed(r, (const uint8_t *)"abcdefg", 7, 2000),
			 0);
	assert_int_equal(redact_feed(r, (const uint8_t *)"h!", 2, 2001), 0);
	assert_int_equal(redact_flush(r), 0);
	assert_int_equal(o.len, 10 + strlen("<redacted:T>!"));
	assert_memory_equal(o.p + 10, "<redacted:T>!", 13);
	redact_free(r);
	free(o.p);
}

static void test_bad_arguments(void **state)
{
	struct out o = {0};
	struct redact *r = redact_new(collect, &o);

	(void)state;
	assert_null(redact_new(NULL, NULL));
	assert_int_equal(redact_add(r, NULL, (const uint8_t *)"x", 1),
			 IDW_EINVAL);
	assert_int_equal(redact_add(r, "E", NULL, 0), 0); /* empty: ignored */
	assert_int_equal(redact_feed(r, NULL, 3, 0), IDW_EINVAL);
	assert_int_equal(redact_feed(r, NULL, 0, 0), 0);
	redact_free(r);
	redact_free(NULL);
	free(o.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_and_hex),
		cmocka_unit_test(test_base64_alignments),
		cmocka_unit_test(test_percent_and_json),
		cmocka_unit_test(test_split_reads),
		cmocka_unit_test(test_many_values),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_hold_and_flush),
		cmocka_unit_test(test_bad_arguments),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
