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
#include "client/redact_forms.h"

/*
 * The output filter of idw run.  The encoders below are the test's own,
 * written from the specifications (RFC 4648, RFC 3986, RFC 8259), so a
 * form the filter builds wrongly shows up as a value that survives.
 */

/* A growable byte string: the filter's output, or encoded text. */
struct bytes {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0; /* text stays a C string */
}

static void puts_(struct bytes *b, const char *s)
{
	put(b, s, strlen(s));
}

static int collect(void *ctx, const uint8_t *p, size_t n)
{
	put(ctx, p, n);
	return 0;
}

static bool contains(const struct bytes *b, const void *needle, size_t n)
{
	return n > 0 && b->len >= n && memmem(b->p, b->len, needle, n) != NULL;
}

/* ---- the test's encoders ---- */

static void enc_b64(struct bytes *o, const uint8_t *in, size_t n, bool url,
		    bool pad)
{
	const char *a = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
			      "wxyz0123456789-_"
			    : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
			      "wxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;
		char q[4];

		if (k > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (k > 2)
			v |= in[i + 2];
		for (int j = 0; j < 4; j++)
			q[j] = a[(v >> (18 - 6 * j)) & 63];
		put(o, q, k + 1);
		if (pad && k < 3)
			put(o, "==", 3 - k);
	}
}

static void enc_hex(struct bytes *o, const uint8_t *in, size_t n, bool upper)
{
	const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		char h[2] = {d[in[i] >> 4], d[in[i] & 15]};

		put(o, h, 2);
	}
}

/* how: 0 RFC 3986, 1 every byte, 2 form encoding (space as '+'). */
static void enc_pct(struct bytes *o, const uint8_t *in, size_t n, bool upper,
		    int how)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = in[i];

		if (how == 2 && c == ' ') {
			puts_(o, "+");
		} else if (how != 1 &&
			   (strchr("-._~", c) != NULL ||
			    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9')) &&
			   c != 0) {
			put(o, &c, 1);
		} else {
			puts_(o, "%");
			enc_hex(o, &c, 1, upper);
		}
	}
}

enum { JS_SLASH = 1, JS_ASCII = 2, JS_UPPER = 4, JS_ALL = 8, JS_HTML = 16 };

static void u_esc(struct bytes *o, unsigned u, bool upper)
{
	char e[8];

	snprintf(e, sizeof(e), upper ? "\\u%04X" : "\\u%04x", u);
	puts_(o, e);
}

/* JSON string contents (the value must be UTF-8). */
static void enc_json(struct bytes *o, const uint8_t *in, size_t n, int how)
{
	bool up = how & JS_UPPER;

	for (size_t i = 0; i < n;) {
		uint32_t cp = in[i];
		size_t len = 1;

		if (cp >= 0xf0) {
			cp = (cp & 7) << 18 | (in[i + 1] & 63u) << 12 |
			     (in[i + 2] & 63u) << 6 | (in[i + 3] & 63u);
			len = 4;
		} else if (cp >= 0xe0) {
			cp = (cp & 15) << 12 | (in[i + 1] & 63u) << 6 |
			     (in[i + 2] & 63u);
			len = 3;
		} else if (cp >= 0xc0) {
			cp = (cp & 31) << 6 | (in[i + 1] & 63u);
			len = 2;
		}
		if ((how & JS_ALL) || ((how & JS_ASCII) && cp >= 0x7f) ||
		    ((how & JS_HTML) && (cp == '<' || cp == '>' || cp == '&' ||
					 cp == 0x2028 || cp == 0x2029))) {
			if (cp >= 0x10000) {
				u_esc(o, 0xd800 + ((cp - 0x10000) >> 10), up);
				u_esc(o, 0xdc00 + ((cp - 0x10000) & 0x3ff), up);
			} else {
				u_esc(o, cp, up);
			}
		} else if (cp == '"' || cp == '\\') {
			puts_(o, cp == '"' ? "\\\"" : "\\\\");
		} else if (cp == '/' && (how & JS_SLASH)) {
			puts_(o, "\\/");
		} else if (cp < 0x20) {
			const char *s = strchr("\bb\ff\nn\rr\tt", (int)cp);

			if (cp != 0 && s != NULL) {
				char e[2] = {'\\', s[1]};

				put(o, e, 2);
			} else {
				u_esc(o, cp, up);
			}
		} else {
			put(o, in + i, len);
		}
		i += len;
	}
}

/* ---- running the filter ---- */

/*
 * Text through filter r (which must hold nothing) as one feed
 * (split 0), two feeds cut at split, or one byte at a time (split
 * SIZE_MAX); then flushed.  The output replaces *o.
 */
static void run(struct redact *r, struct bytes *o, const uint8_t *t, size_t n,
		size_t split)
{
	o->len = 0;
	if (split == SIZE_MAX) {
		for (size_t i = 0; i < n; i++)
			assert_int_equal(redact_feed(r, t + i, 1, i), 0);
	} else {
		assert_int_equal(redact_feed(r, t, split, 0), 0);
		assert_int_equal(redact_feed(r, t + split, n - split, 1), 0);
	}
	assert_int_equal(redact_flush(r), 0);
	assert_int_equal(redact_hold_ms(r, 2), -1);
	put(o, "", 0);
}

/* Every way of feeding t: whole, cut at each byte, byte by byte. */
#define EVERY_SPLIT(split, n)                                                  \
	for (size_t split = 0; split <= (n) + 1;                               \
	     split = split == (n) ? SIZE_MAX : split + 1)

static struct redact *filter(struct bytes *o, const char *const *names,
			     const uint8_t *const *values, const size_t *lens,
			     size_t count)
{
	struct redact *r = redact_new(collect, o);

	assert_non_null(r);
	for (size_t i = 0; i < count; i++)
		assert_int_equal(redact_add(r, names[i], values[i], lens[i]),
				 0);
	return r;
}

/* A value with every kind of byte the encodings treat apart. */
static const uint8_t value[] = "s3cr3t/Va lue+with\"odd\\chars\xc3\xa9\n\t"
			       "\x01\x7f<&>\xf0\x9f\x94\x91\xe2\x80\xa8"
			       "end";
#define VLEN (sizeof(value) - 1)
static const char *const tok_name[] = {"TOKEN"};
static const uint8_t *const tok_value[] = {value};
static const size_t tok_len[] = {VLEN};
#define MARK "<redacted:TOKEN>"

/*
 * Base64 and base64url, padded or not, of random bytes, the value and
 * random bytes, for prefixes of 0 to 5 bytes (every alignment, twice) and
 * suffixes of 0 to 3: the characters that encode the value alone are
 * replaced, nothing before them changes, and what follows is the rest of
 * the encoding, a partial character or the padding perhaps gone too.
 */
static void test_base64_every_alignment(void **state)
{
	struct bytes o = {0}, enc = {0};
	struct redact *r = filter(&o, tok_name, tok_value, tok_len, 1);

	(void)state;
	for (int v = 0; v < 4; v++)
		for (size_t pre = 0; pre < 6; pre++)
			for (size_t post = 0; post < 4; post++) {
				uint8_t bin[VLEN + 8];
				size_t first = (8 * pre + 5) / 6,
				       core = 8 * (pre + VLEN) / 6 - first;

				randombytes_buf(bin, pre);
				memcpy(bin + pre, value, VLEN);
				randombytes_buf(bin + pre + VLEN, post);
				enc.len = 0;
				enc_b64(&enc, bin, pre + VLEN + post, v & 1,
					v & 2);
				EVERY_SPLIT(split, enc.len)
				{
					size_t rest;

					run(r, &o, enc.p, enc.len, split);
					if (contains(&o, enc.p + first, core))
						fail_msg("base64 %d pre %zu "
							 "survived: %s",
							 v, pre, o.p);
					assert_true(o.len >=
						    first + strlen(MARK));
					assert_memory_equal(o.p, enc.p, first);
					assert_memory_equal(o.p + first, MARK,
							    strlen(MARK));
					rest = o.len - first - strlen(MARK);
					assert_true(rest <=
						    enc.len - first - core);
					assert_memory_equal(
						o.p + o.len - rest,
						enc.p + enc.len - rest, rest);
				}
			}
	redact_free(r);
	free(o.p);
	free(enc.p);
}

/* Hex of random bytes, the value and random bytes, in either case. */
static void test_hex(void **state)
{
	struct bytes o = {0}, enc = {0}, want = {0};
	struct redact *r = filter(&o, tok_name, tok_value, tok_len, 1);

	(void)state;
	for (int upper = 0; upper < 2; upper++)
		for (size_t pre = 0; pre < 3; pre++) {
			uint8_t rnd[4];

			randombytes_buf(rnd, sizeof(rnd));
			enc.len = want.len = 0;
			enc_hex(&enc, rnd, pre, upper);
			enc_hex(&enc, value, VLEN, upper);
			enc_hex(&enc, rnd + pre, 2, upper);
			enc_hex(&want, rnd, pre, upper);
			puts_(&want, MARK);
			enc_hex(&want, rnd + pre, 2, upper);
			EVERY_SPLIT(split, enc.len)
			{
				run(r, &o, enc.p, enc.len, split);
				assert_string_equal(o.p, want.p);
			}
		}
	redact_free(r);
	free(o.p);
	free(enc.p);
	free(want.p);
}

/*
 * Percent-encoding and JSON string contents, between text encoded the
 * same way: exactly the value is replaced.
 */
static void check_text_form(struct redact *r, struct bytes *o,
			    const struct bytes *form)
{
	struct bytes t = {0}, want = {0};
	char pre[8], post[8];

	for (int k = 0; k < 3; k++) {
		/* Random letters, which begin no form of the value. */
		for (int i = 0; i < 7; i++) {
			pre[i] = (char)('A' + randombytes_uniform(26));
			post[i] = (char)('A' + randombytes_uniform(26));
		}
		pre[k * 3] = post[k * 3] = 0;
		t.len = want.len = 0;
		puts_(&t, pre);
		put(&t, form->p, form->len);
		puts_(&t, post);
		puts_(&want, pre);
		puts_(&want, MARK);
		puts_(&want, post);
		EVERY_SPLIT(split, t.len)
		{
			run(r, o, t.p, t.len, split);
			if (contains(o, form->p, form->len) ||
			    strcmp((char *)o->p, (char *)want.p) != 0)
				fail_msg("form '%s' gave '%s'", form->p, o->p);
		}
	}
	free(t.p);
	free(want.p);
}

static void test_percent(void **state)
{
	struct bytes o = {0}, form = {0};
	struct redact *r = filter(&o, tok_name, tok_value, tok_len, 1);

	(void)state;
	for (int upper = 0; upper < 2; upper++)
		for (int how = 0; how < 3; how++) {
			form.len = 0;
			enc_pct(&form, value, VLEN, upper, how);
			check_text_form(r, &o, &form);
		}
	redact_free(r);
	free(o.p);
	free(form.p);
}

static void test_json(void **state)
{
	static const int hows[] = {0,
				   JS_SLASH,
				   JS_ASCII,
				   JS_SLASH | JS_ASCII,
				   JS_ALL,
				   JS_HTML,
				   JS_UPPER | JS_ASCII,
				   JS_UPPER | JS_SLASH | JS_ASCII,
				   JS_UPPER | JS_ALL,
				   JS_UPPER | JS_HTML};
	struct bytes o = {0}, form = {0};
	struct redact *r = filter(&o, tok_name, tok_value, tok_len, 1);

	(void)state;
	for (size_t k = 0; k < sizeof(hows) / sizeof(hows[0]); k++) {
		form.len = 0;
		enc_json(&form, value, VLEN, hows[k]);
		check_text_form(r, &o, &form);
	}
	/* The plain value the same way. */
	form.len = 0;
	put(&form, value, VLEN);
	check_text_form(r, &o, &form);
	redact_free(r);
	free(o.p);
	free(form.p);
}

/* The forms themselves: the escapes JSON encoders write, spelled out. */
static int count_form(void *ctx, const uint8_t *p, size_t n)
{
	const char *want = *(const char **)ctx;

	if (want != NULL && n == strlen(want) && memcmp(p, want, n) == 0)
		*(const char **)ctx = NULL;
	return 0;
}

static void assert_form(const char *v, const char *form)
{
	const char *want = form;

	assert_int_equal(
		redact_forms((const uint8_t *)v, strlen(v), count_form, &want),
		0);
	if (want != NULL)
		fail_msg("no form '%s' of '%s'", form, v);
}

static void test_form_spelling(void **state)
{
	(void)state;
	assert_form("a/\"\\\b\f\n\r\t\x01z",
		    "a/\\\"\\\\\\b\\f\\n\\r\\t\\u0001z");
	assert_form("a/b\x1f", "a\\/b\\u001f");
	assert_form("key\xf0\x9f\x94\x91", "key\\ud83d\\udd11");
	assert_form("key\xf0\x9f\x94\x91", "key\\uD83D\\uDD11");
	assert_form("k\x7f\xc3\xa9", "k\\u007f\\u00e9");
	assert_form("k\x7f\xc3\xa9", "k\x7f\xc3\xa9");
	assert_form("<a&b>", "\\u003ca\\u0026b\\u003e");
	assert_form("ab/", "\\u0061\\u0062\\u002f");
	assert_form("a b/c", "a+b%2Fc");
	assert_form("a b/c", "a%20b%2fc");
	assert_form("a b/c", "%61%20%62%2F%63");
	assert_form("abc", "616263");
	assert_form("abc", "YWJj");
	assert_form("abcd", "YWJjZA==");
	assert_form("abcd", "YWJjZA");
	assert_form("\xff\xfe\xfd", "__79");
	/* Alignment 1: "?abcd" is ?GFiY2Q=, the value's own part FiY2Q. */
	assert_form("abcd", "FiY2Q");
	assert_form("abcd", "FiY2Q=");
}

/* A value cut at every byte, fed in pieces of every size. */
static void test_split_reads(void **state)
{
	struct bytes o = {0}, t = {0};
	struct redact *r = filter(&o, tok_name, tok_value, tok_len, 1);

	(void)state;
	puts_(&t, "head ");
	put(&t, value, VLEN);
	puts_(&t, " tail");
	for (size_t step = 1; step <= t.len; step++) {
		o.len = 0;
		for (size_t i = 0; i < t.len; i += step)
			assert_int_equal(
				redact_feed(r, t.p + i,
					    t.len - i < step ? t.len - i : step,
					    0),
				0);
		assert_int_equal(redact_flush(r), 0);
		put(&o, "", 0);
		assert_string_equal(o.p, "head " MARK " tail");
	}
	redact_free(r);
	free(o.p);
	free(t.p);
}

/*
 * 64 values at once, each in a random form, between filler no form
 * contains: the output is the filler and the markers, exactly.
 */
static void test_many_values(void **state)
{
	enum { N = 64 };
	char names[N][16];
	uint8_t values[N][24];
	const char *np[N];
	const uint8_t *vp[N];
	size_t lens[N];
	struct bytes o = {0}, t = {0}, want = {0};
	struct redact *r;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "V%zu", i);
		lens[i] = 8 + randombytes_uniform(16);
		for (size_t k = 0; k < lens[i]; k++)
			values[i][k] =
				(uint8_t) "abcdefghijklmnopqrstuvwxyz"
					  "0123456789"[randombytes_uniform(36)];
		np[i] = names[i];
		vp[i] = values[i];
	}
	r = filter(&o, np, vp, lens, N);
	for (int round = 0; round < 4000; round++) {
		size_t i = randombytes_uniform(N);
		char m[32];

		const char *fill = " .;\n" + randombytes_uniform(4);

		puts_(&t, fill);
		puts_(&want, fill);
		switch (randombytes_uniform(6)) {
		case 0:
			put(&t, values[i], lens[i]);
			break;
		case 1:
			enc_hex(&t, values[i], lens[i], round & 1);
			break;
		case 2:
			enc_b64(&t, values[i], lens[i], round & 1, true);
			break;
		case 3:
			enc_b64(&t, values[i], lens[i], round & 1, false);
			break;
		case 4:
			enc_pct(&t, values[i], lens[i], round & 1, 1);
			break;
		default:
			enc_json(&t, values[i], lens[i], JS_ALL);
			break;
		}
		snprintf(m, sizeof(m), "<redacted:%s>", names[i]);
		puts_(&want, m);
		puts_(&t, " ");
		puts_(&want, " ");
	}
	for (size_t step = 1; step < 100000; step = step * 7 + 3) {
		o.len = 0;
		for (size_t i = 0; i < t.len; i += step)
			assert_int_equal(
				redact_feed(r, t.p + i,
					    t.len - i < step ? t.len - i : step,
					    0),
				0);
		assert_int_equal(redact_flush(r), 0);
		put(&o, "", 0);
		assert_string_equal(o.p, want.p);
	}
	redact_free(r);
	free(o.p);
	free(t.p);
	free(want.p);
}

/* Values that overlap leave no piece behind; one inside another. */
static void test_overlap_and_prefix(void **state)
{
	const char *np[] = {"A", "B", "SHORT", "LONG"};
	const uint8_t *vp[] = {(const uint8_t *)"abcdefgh",
			       (const uint8_t *)"efghijkl",
			       (const uint8_t *)"alpha-secret-1",
			       (const uint8_t *)"alpha-secret-1-and-more"};
	const size_t lens[] = {8, 8, 14, 23};
	const char *t = "xxabcdefghijklyy|alpha-secret-1-and-more|"
			"alpha-secret-1-and|abcdefghabcdefgh|efghijklmnop";
	const char *want = "xx<redacted:A><redacted:B>yy|<redacted:LONG>|"
			   "<redacted:SHORT>-and|<redacted:A><redacted:A>|"
			   "<redacted:B>mnop";
	struct bytes o = {0};
	struct redact *r = filter(&o, np, vp, lens, 4);
	size_t n = strlen(t);

	(void)state;
	EVERY_SPLIT(split, n)
	{
		run(r, &o, (const uint8_t *)t, n, split);
		assert_string_equal(o.p, want);
	}
	redact_free(r);
	free(o.p);
}

/* A form two values share is kept once, under the first name. */
static void test_shared_form(void **state)
{
	/* B's plain value is A's base64. */
	const char *np[] = {"A", "B"};
	const uint8_t *vp[] = {(const uint8_t *)"secret-a",
			       (const uint8_t *)"c2VjcmV0LWE="};
	const size_t lens[] = {8, 12};
	const char *t = "[c2VjcmV0LWE=] [secret-a] [6332566a636d56304c57453d]";
	struct bytes o = {0};
	struct redact *r = filter(&o, np, vp, lens, 2);

	(void)state;
	run(r, &o, (const uint8_t *)t, strlen(t), 0);
	assert_string_equal(o.p,
			    "[<redacted:A>] [<redacted:A>] [<redacted:B>]");
	redact_free(r);
	free(o.p);
}

static int count_all(void *ctx, const uint8_t *p, size_t n)
{
	(void)p;
	(void)n;
	++*(size_t *)ctx;
	return 0;
}

/* Each distinct form is looked for once. */
static void test_dedup(void **state)
{
	struct bytes o = {0};
	struct redact *r = redact_new(collect, &o);
	size_t forms = 0, one, two;

	(void)state;
	assert_int_equal(redact_patterns(r), 0);
	/* Letters only: its hex, percent and JSON forms coincide. */
	assert_int_equal(
		redact_forms((const uint8_t *)"abcdefgh", 8, count_all, &forms),
		0);
	assert_int_equal(redact_add(r, "A", (const uint8_t *)"abcdefgh", 8), 0);
	one = redact_patterns(r);
	assert_true(one > 10 && one < forms);
	/* The same value again, under another name: nothing new. */
	assert_int_equal(redact_add(r, "B", (const uint8_t *)"abcdefgh", 8), 0);
	assert_int_equal(redact_patterns(r), one);
	/* A value that is one of A's forms adds all but that one. */
	assert_int_equal(
		redact_add(r, "C", (const uint8_t *)"YWJjZGVmZ2g=", 12), 0);
	two = redact_patterns(r);
	assert_int_equal(
		redact_add(r, "D", (const uint8_t *)"YWJjZGVmZ2h=", 12), 0);
	assert_int_equal(redact_patterns(r) - two, two - one + 1);
	redact_free(r);
	free(o.p);
}

/* Every form of the value, for planting pieces of them. */
struct forms {
	struct bytes all;
	size_t off[128], len[128], n;
};

static int keep_form(void *ctx, const uint8_t *p, size_t n)
{
	struct forms *f = ctx;

	assert_true(f->n < 128);
	f->off[f->n] = f->all.len;
	f->len[f->n++] = n;
	put(&f->all, p, n);
	return 0;
}

/*
 * Random bytes, with proper prefixes of every form planted in them but
 * no whole form, come out byte for byte however they are fed.
 */
static void test_passthrough(void **state)
{
	static uint8_t buf[200000];
	struct forms f = {0};
	struct bytes o = {0};
	struct redact *r = filter(&o, tok_name, tok_value, tok_len, 1);
	bool clean;

	(void)state;
	assert_int_equal(redact_forms(value, VLEN, keep_form, &f), 0);
	assert_true(f.n > 20);
	randombytes_buf(buf, sizeof(buf));
	for (size_t at = 0, k = 0; at + 300 < sizeof(buf); at += 301, k++) {
		size_t i = k % f.n;

		memcpy(buf + at, f.all.p + f.off[i],
		       1 + randombytes_uniform((uint32_t)f.len[i] - 1));
	}
	/* A planted prefix may complete a shorter form: spoil those. */
	do {
		clean = true;
		for (size_t i = 0; i < f.n; i++) {
			uint8_t *hit;

			while ((hit = memmem(buf, sizeof(buf),
					     f.all.p + f.off[i], f.len[i])) !=
			       NULL) {
				hit[f.len[i] - 1] ^= 0x80;
				clean = false;
			}
		}
	} while (!clean);
	for (size_t step = 1; step <= sizeof(buf); step = step * 5 + 2) {
		o.len = 0;
		for (size_t i = 0; i < sizeof(buf); i += step)
			assert_int_equal(redact_feed(r, buf + i,
						     sizeof(buf) - i < step
							     ? sizeof(buf) - i
							     : step,
						     0),
					 0);
		assert_int_equal(redact_flush(r), 0);
		assert_int_equal(o.len, sizeof(buf));
		assert_memory_equal(o.p, buf, sizeof(buf));
	}
	redact_free(r);
	/* No values at all, and empty feeds. */
	r = redact_new(collect, &o);
	assert_non_null(r);
	o.len = 0;
	assert_int_equal(redact_feed(r, buf, 0, 0), 0);
	assert_int_equal(redact_feed(r, buf, 1000, 0), 0);
	assert_int_equal(redact_flush(r), 0);
	assert_int_equal(o.len, 1000);
	assert_memory_equal(o.p, buf, 1000);
	redact_free(r);
	free(o.p);
	free(f.all.p);
}

/* Empty input gives empty output and holds nothing. */
static void test_empty(void **state)
{
	struct bytes o = {0};
	struct redact *r = filter(&o, tok_name, tok_value, tok_len, 1);

	(void)state;
	assert_int_equal(redact_feed(r, (const uint8_t *)"", 0, 5), 0);
	assert_int_equal(redact_hold_ms(r, 5), -1);
	assert_int_equal(redact_flush(r), 0);
	assert_int_equal(o.len, 0);
	redact_free(r);
	free(o.p);
}

/* A held prefix: timed from its first byte, then written by a flush. */
static void test_hold_and_flush(void **state)
{
	const char *np[] = {"T"};
	const uint8_t *vp[] = {(const uint8_t *)"abcdefgh"};
	const size_t lens[] = {8};
	struct bytes o = {0};
	struct redact *r = filter(&o, np, vp, lens, 1);

	(void)state;
	assert_int_equal(redact_hold_ms(r, 0), -1);
	assert_int_equal(redact_feed(r, (const uint8_t *)"xyz abcd", 8, 1000),
			 0);
	assert_int_equal(o.len, 4); /* "xyz " out, "abcd" held */
	assert_int_equal(redact_hold_ms(r, 1100), 100);
	/* More of the prefix keeps the first byte's time. */
	assert_int_equal(redact_feed(r, (const uint8_t *)"ef", 2, 1200), 0);
	assert_int_equal(redact_hold_ms(r, 1300), 300);
	assert_int_equal(redact_hold_ms(r, 900), 0); /* clock went back */
	assert_int_equal(redact_flush(r), 0);
	assert_int_equal(o.len, 10);
	assert_memory_equal(o.p, "xyz abcdef", 10);
	assert_int_equal(redact_hold_ms(r, 1300), -1);
	/* Completed later, it is still caught. */
	assert_int_equal(redact_feed(r, (const uint8_t *)"abcdefg", 7, 2000),
			 0);
	assert_int_equal(redact_feed(r, (const uint8_t *)"h!", 2, 2001), 0);
	assert_int_equal(o.len, 10 + strlen("<redacted:T>!"));
	assert_memory_equal(o.p + 10, "<redacted:T>!", 13);
	assert_int_equal(redact_hold_ms(r, 2002), -1);
	redact_free(r);
	free(o.p);
}

/*
 * Inside a replaced region, bytes that may carry it further are held;
 * a flush drops them (they were replaced), more input extends it.
 */
static void test_hold_in_region(void **state)
{
	const char *np[] = {"A", "B"};
	const uint8_t *vp[] = {(const uint8_t *)"abcdefgh",
			       (const uint8_t *)"efghijkl"};
	const size_t lens[] = {8, 8};
	struct bytes o = {0};
	struct redact *r = filter(&o, np, vp, lens, 2);

	(void)state;
	assert_int_equal(redact_feed(r, (const uint8_t *)"abcdefgh", 8, 0), 0);
	put(&o, "", 0);
	assert_string_equal(o.p, "<redacted:A>");
	assert_int_equal(redact_hold_ms(r, 10), 10);
	assert_int_equal(redact_flush(r), 0);
	put(&o, "", 0);
	assert_string_equal(o.p, "<redacted:A>");
	o.len = 0;
	assert_int_equal(redact_feed(r, (const uint8_t *)"abcdefghi", 9, 0), 0);
	assert_int_equal(redact_feed(r, (const uint8_t *)"jkl.", 4, 1), 0);
	put(&o, "", 0);
	assert_string_equal(o.p, "<redacted:A><redacted:B>.");
	redact_free(r);
	free(o.p);
}

/* Values added after output began are caught from then on. */
static void test_add_later(void **state)
{
	struct bytes o = {0};
	struct redact *r = redact_new(collect, &o);

	(void)state;
	assert_non_null(r);
	assert_int_equal(redact_feed(r, (const uint8_t *)"one ", 4, 0), 0);
	assert_int_equal(redact_add(r, "X", (const uint8_t *)"sec", 3), 0);
	assert_int_equal(redact_feed(r, (const uint8_t *)"se", 2, 0), 0);
	assert_int_equal(redact_add(r, "Y", (const uint8_t *)"second", 6), 0);
	assert_int_equal(redact_feed(r, (const uint8_t *)"cond sec", 8, 0), 0);
	assert_int_equal(redact_flush(r), 0);
	put(&o, "", 0);
	assert_string_equal(o.p, "one <redacted:Y> <redacted:X>");
	redact_free(r);
	free(o.p);
}

static int broken_sink(void *ctx, const uint8_t *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return IDW_EIO;
}

static void test_bad_arguments(void **state)
{
	struct bytes o = {0};
	struct redact *r = redact_new(collect, &o);
	char long_name[300];

	(void)state;
	assert_null(redact_new(NULL, NULL));
	assert_int_equal(redact_add(NULL, "N", (const uint8_t *)"x", 1),
			 IDW_EINVAL);
	assert_int_equal(redact_add(r, NULL, (const uint8_t *)"x", 1),
			 IDW_EINVAL);
	assert_int_equal(redact_add(r, "E", NULL, 0), 0); /* empty: ignored */
	assert_int_equal(redact_feed(r, NULL, 3, 0), IDW_EINVAL);
	assert_int_equal(redact_feed(r, NULL, 0, 0), 0);
	assert_int_equal(redact_flush(NULL), 0);
	assert_int_equal(redact_hold_ms(NULL, 0), -1);
	/* A long name is cut to REDACT_NAME_MAX in the marker. */
	memset(long_name, 'N', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	assert_int_equal(redact_add(r, long_name, (const uint8_t *)"zz9zz", 5),
			 0);
	assert_int_equal(redact_feed(r, (const uint8_t *)"zz9zz", 5, 0), 0);
	assert_int_equal(o.len, strlen("<redacted:>") + REDACT_NAME_MAX);
	redact_free(r);
	redact_free(NULL);
	/* A sink's failure comes back. */
	r = redact_new(broken_sink, NULL);
	assert_int_equal(redact_add(r, "V", (const uint8_t *)"abcd", 4), 0);
	assert_int_equal(redact_feed(r, (const uint8_t *)"x abcd", 6, 0),
			 IDW_EIO);
	redact_free(r);
	free(o.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_every_alignment),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_form_spelling),
		cmocka_unit_test(test_split_reads),
		cmocka_unit_test(test_many_values),
		cmocka_unit_test(test_overlap_and_prefix),
		cmocka_unit_test(test_shared_form),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_hold_and_flush),
		cmocka_unit_test(test_hold_in_region),
		cmocka_unit_test(test_add_later),
		cmocka_unit_test(test_bad_arguments),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
