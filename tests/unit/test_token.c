/* SPDX-License-Identifier: ISC */
/*
 * keychain/token.c: session tokens in DESIGN's format, "idwst_" ‖
 * base64url(vault tag[4] ‖ secret[32] ‖ check[2]) without padding, the id
 * being the first 12 hex digits of BLAKE2b-256(secret).  A token is read
 * back whole, a token of another vault is named as such, a mangled copy is
 * refused, and a refused parse leaves nothing of the secret behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "keychain/token.h"

#define B64_LEN 51
#define TEXT_LEN (sizeof(TOKEN_PREFIX) - 1 + B64_LEN)
#define PLEN (sizeof(TOKEN_PREFIX) - 1)

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "abcdefghijklmnopqrstuvwxyz0123456789-_";

static const uint8_t vid_a[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
				  0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
				  0xdd, 0xee, 0xff, 0x00};
static const uint8_t vid_b[16] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
				  0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
				  0xdd, 0xee, 0xff, 0x01};

/* The documented derivations, written out independently of token.c. */
static void doc_tag(const uint8_t vid[16], uint8_t tag[TOKEN_TAG_LEN])
{
	static const char ctx[] = "idw-token-vault-tag-v1";
	uint8_t h[16];

	assert_int_equal(crypto_generichash(h, sizeof(h), vid, 16,
					    (const uint8_t *)ctx,
					    sizeof(ctx) - 1),
			 0);
	memcpy(tag, h, TOKEN_TAG_LEN);
}

static void doc_id(const uint8_t secret[TOKEN_SECRET_LEN],
		   char id[TOKEN_ID_LEN + 1])
{
	uint8_t h[32];

	assert_int_equal(crypto_generichash(h, sizeof(h), secret,
					    TOKEN_SECRET_LEN, NULL, 0),
			 0);
	sodium_bin2hex(id, TOKEN_ID_LEN + 1, h, TOKEN_ID_LEN / 2);
}

static void doc_text(const uint8_t tag[TOKEN_TAG_LEN],
		     const uint8_t secret[TOKEN_SECRET_LEN],
		     char text[TOKEN_TEXT_MAX])
{
	uint8_t raw[TOKEN_TAG_LEN + TOKEN_SECRET_LEN + 2];
	unsigned crc = 0xffff;

	memcpy(raw, tag, TOKEN_TAG_LEN);
	memcpy(raw + TOKEN_TAG_LEN, secret, TOKEN_SECRET_LEN);
	/* CRC-16/CCITT-FALSE, bit by bit, big-endian */
	for (size_t i = 0; i < TOKEN_TAG_LEN + TOKEN_SECRET_LEN; i++)
		for (int b = 7; b >= 0; b--) {
			unsigned bit = ((raw[i] >> b) & 1) ^ (crc >> 15);

			crc = ((crc << 1) & 0xffff) ^ (bit ? 0x1021 : 0);
		}
	raw[TOKEN_TAG_LEN + TOKEN_SECRET_LEN] = (uint8_t)(crc >> 8);
	raw[TOKEN_TAG_LEN + TOKEN_SECRET_LEN + 1] = (uint8_t)crc;
	memcpy(text, TOKEN_PREFIX, PLEN);
	sodium_bin2base64(text + PLEN, TOKEN_TEXT_MAX - PLEN, raw, sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	assert_int_equal(strlen(text), TEXT_LEN);
}

static void assert_zeroed(const struct token *t)
{
	static const struct token zero;

	assert_memory_equal(t, &zero, sizeof(*t));
}

/* Refused as malformed, with a reason, and the struct wiped. */
static void assert_refused_len(const char *text, size_t len, const uint8_t *vid)
{
	struct token t;
	char why[256] = "";
	int r;

	memset(&t, 0xa5, sizeof(t));
	r = token_parse(text, len, vid, &t, why, sizeof(why));
	if (r != IDW_EINVAL)
		fail_msg("[%.*s] (%zu bytes): %d, not refused", (int)len, text,
			 len, r);
	assert_true(why[0] != '\0');
	assert_zeroed(&t);
}

static void assert_refused(const char *text)
{
	assert_refused_len(text, strlen(text), NULL);
	assert_refused_len(text, strlen(text), vid_a);
}

static void assert_parses_as(const char *text, size_t len,
			     const struct token *want)
{
	struct token t;
	char why[256] = "";

	memset(&t, 0xa5, sizeof(t));
	if (token_parse(text, len, vid_a, &t, why, sizeof(why)) != 0)
		fail_msg("[%.*s]: %s", (int)len, text, why);
	assert_memory_equal(t.tag, want->tag, TOKEN_TAG_LEN);
	assert_memory_equal(t.secret, want->secret, TOKEN_SECRET_LEN);
	assert_string_equal(t.id, want->id);
}

static void test_new_has_the_documented_form(void **state)
{
	struct token t, u;
	char text[TOKEN_TEXT_MAX], again[TOKEN_TEXT_MAX], other[TOKEN_TEXT_MAX];
	uint8_t tag[TOKEN_TAG_LEN];
	char id[TOKEN_ID_LEN + 1];

	(void)state;
	assert_int_equal(token_new(vid_a, &t, text), 0);
	assert_int_equal(strlen(text), TEXT_LEN);
	assert_memory_equal(text, "idwst_", PLEN);
	assert_int_equal(strspn(text + PLEN, alphabet), B64_LEN);
	doc_tag(vid_a, tag);
	assert_memory_equal(t.tag, tag, TOKEN_TAG_LEN);
	doc_id(t.secret, id);
	assert_string_equal(t.id, id);
	assert_int_equal(strlen(t.id), TOKEN_ID_LEN);
	assert_int_equal(strspn(t.id, "0123456789abcdef"), TOKEN_ID_LEN);
	doc_text(t.tag, t.secret, again);
	assert_string_equal(text, again);

	/* a new secret each time */
	assert_int_equal(token_new(vid_a, &u, other), 0);
	assert_memory_not_equal(t.secret, u.secret, TOKEN_SECRET_LEN);
	assert_string_not_equal(t.id, u.id);
	assert_string_not_equal(text, other);
	assert_memory_equal(t.tag, u.tag, TOKEN_TAG_LEN);
}

static void test_round_trip(void **state)
{
	struct token t, u;
	char text[TOKEN_TEXT_MAX], why[256];

	(void)state;
	for (int i = 0; i < 64; i++) {
		assert_int_equal(token_new(vid_a, &t, text), 0);
		assert_parses_as(text, strlen(text), &t);
		/* without a vault id the tag is not checked, only read */
		memset(&u, 0xa5, sizeof(u));
		assert_int_equal(token_parse(text, strlen(text), NULL, &u, why,
					     sizeof(why)),
				 0);
		assert_memory_equal(&u, &t, sizeof(t));
	}
}

static void test_id_is_blake2b_of_the_secret(void **state)
{
	uint8_t secret[TOKEN_SECRET_LEN];
	char id[TOKEN_ID_LEN + 1], want[TOKEN_ID_LEN + 1];

	(void)state;
	for (int i = 0; i < TOKEN_SECRET_LEN; i++)
		secret[i] = (uint8_t)i;
	token_id_of(secret, id);
	doc_id(secret, want);
	assert_string_equal(id, want);
	/* BLAKE2b-256 of 00 01 .. 1f, first six bytes */
	assert_string_equal(id, "cb2f5160fc1f");
}

static void test_another_vault_is_named(void **state)
{
	struct token t, u;
	char text[TOKEN_TEXT_MAX], why[256] = "";

	(void)state;
	assert_int_equal(token_new(vid_a, &t, text), 0);
	memset(&u, 0xa5, sizeof(u));
	assert_int_equal(
		token_parse(text, strlen(text), vid_b, &u, why, sizeof(why)),
		IDW_EPERM);
	assert_non_null(strstr(why, t.id));
	assert_non_null(strstr(why, "another vault"));
	assert_zeroed(&u);
	/* a token of vault b is fine for vault b */
	assert_int_equal(token_new(vid_b, &t, text), 0);
	assert_int_equal(
		token_parse(text, strlen(text), vid_b, &u, why, sizeof(why)),
		0);
	assert_int_equal(
		token_parse(text, strlen(text), vid_a, &u, why, sizeof(why)),
		IDW_EPERM);
	assert_zeroed(&u);
}

static void test_vault_tag_stable_and_distinct(void **state)
{
	uint8_t vid[16], tags[64][TOKEN_TAG_LEN], tag[TOKEN_TAG_LEN];

	(void)state;
	for (int i = 0; i < 64; i++) {
		memcpy(vid, vid_a, sizeof(vid));
		vid[i / 8] ^= (uint8_t)(1u << (i % 8));
		token_vault_tag(vid, tags[i]);
		token_vault_tag(vid, tag);
		assert_memory_equal(tag, tags[i], TOKEN_TAG_LEN);
		doc_tag(vid, tag);
		assert_memory_equal(tag, tags[i], TOKEN_TAG_LEN);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(tags[i], tags[j],
						TOKEN_TAG_LEN);
	}
	token_vault_tag(vid_a, tag);
	token_vault_tag(vid_b, tags[0]);
	assert_memory_not_equal(tag, tags[0], TOKEN_TAG_LEN);
}

/*
 * The last three characters hold the check and two zero bits, so any
 * change there is caught for every token: the check no longer matches, or
 * the zero bits are not zero and decoding refuses the text.
 */
static void test_check_characters_always_caught(void **state)
{
	struct token t;
	char text[TOKEN_TEXT_MAX], m[TOKEN_TEXT_MAX];

	(void)state;
	for (int k = 0; k < 64; k++) {
		assert_int_equal(token_new(vid_a, &t, text), 0);
		for (size_t i = TEXT_LEN - 3; i < TEXT_LEN; i++)
			for (const char *c = alphabet; *c != '\0'; c++) {
				if (*c == text[i])
					continue;
				memcpy(m, text, sizeof(m));
				m[i] = *c;
				assert_refused(m);
			}
	}
}

/*
 * Every single-character change of a token, to any character, is refused:
 * the CRC-16 catches every burst of up to 16 bits, and one base64
 * character spans at most 6.  Checked on 64 tokens.
 */
static void test_every_single_character_change_refused(void **state)
{
	static const char others[] = "+/=. \t\n\r\\\"'~!*%$#@&";
	uint8_t seeds[64];
	uint8_t secret[TOKEN_SECRET_LEN], tag[TOKEN_TAG_LEN];
	char text[TOKEN_TEXT_MAX], m[TOKEN_TEXT_MAX];
	struct token want;

	(void)state;
	for (size_t k = 0; k < sizeof(seeds); k++)
		seeds[k] = (uint8_t)k;
	for (size_t k = 0; k < sizeof(seeds); k++) {
		const uint8_t seed[2] = {'s', seeds[k]};

		assert_int_equal(crypto_generichash(secret, sizeof(secret),
						    seed, sizeof(seed), NULL,
						    0),
				 0);
		doc_tag(vid_a, tag);
		doc_text(tag, secret, text);
		memcpy(want.tag, tag, TOKEN_TAG_LEN);
		memcpy(want.secret, secret, TOKEN_SECRET_LEN);
		doc_id(secret, want.id);
		assert_parses_as(text, TEXT_LEN, &want);
		for (size_t i = PLEN; i < TEXT_LEN; i++) {
			for (const char *c = alphabet; *c != '\0'; c++) {
				if (*c == text[i])
					continue;
				memcpy(m, text, sizeof(m));
				m[i] = *c;
				assert_refused(m);
			}
			for (const char *c = others; *c != '\0'; c++) {
				memcpy(m, text, sizeof(m));
				m[i] = *c;
				assert_refused(m);
			}
			memcpy(m, text, sizeof(m));
			m[i] = '\0';
			assert_refused_len(m, TEXT_LEN, NULL);
			assert_refused_len(m, TEXT_LEN, vid_a);
		}
	}
}

static void test_truncated_or_extended_refused(void **state)
{
	struct token t;
	char text[TOKEN_TEXT_MAX], m[2 * TOKEN_TEXT_MAX];

	(void)state;
	assert_int_equal(token_new(vid_a, &t, text), 0);
	for (size_t n = 0; n < TEXT_LEN; n++) {
		assert_refused_len(text, n, NULL);
		assert_refused_len(text, n, vid_a);
	}
	/* a character dropped anywhere */
	for (size_t i = PLEN; i < TEXT_LEN; i++) {
		memcpy(m, text, i);
		memcpy(m + i, text + i + 1, TEXT_LEN - i);
		assert_refused(m);
	}
	/* a character inserted anywhere, or added at the end */
	for (size_t i = PLEN; i <= TEXT_LEN; i++)
		for (const char *c = alphabet; *c != '\0'; c++) {
			memcpy(m, text, i);
			m[i] = *c;
			memcpy(m + i + 1, text + i, TEXT_LEN - i + 1);
			assert_refused(m);
		}
	snprintf(m, sizeof(m), "%sAAAA", text);
	assert_refused(m);
	snprintf(m, sizeof(m), "%s%s", text, text);
	assert_refused(m);
	snprintf(m, sizeof(m), "%s\n%s", text, text);
	assert_refused(m);
	/* a trailing NUL is not trailing white space */
	assert_refused_len(text, TEXT_LEN + 1, NULL);
}

static void test_wrong_prefix_or_padding_refused(void **state)
{
	static const char *const prefixes[] = {
		"",	  "idwst",   "idwst-",	"IDWST_",  "idwsT_",  "idw_",
		"idwsk_", " idwst_", "xidwst_", "idwst__", "\nidwst_"};
	struct token t;
	char text[TOKEN_TEXT_MAX], m[2 * TOKEN_TEXT_MAX];

	(void)state;
	assert_int_equal(token_new(vid_a, &t, text), 0);
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		snprintf(m, sizeof(m), "%s%s", prefixes[i], text + PLEN);
		assert_refused(m);
	}
	assert_refused("");
	assert_refused("idwst_");
	assert_refused("idwst_\n");
	assert_refused("idwst_notatoken");
	/* padding, in any amount, anywhere */
	snprintf(m, sizeof(m), "%s=", text);
	assert_refused(m);
	snprintf(m, sizeof(m), "%s==", text);
	assert_refused(m);
	snprintf(m, sizeof(m), "%s=\n", text);
	assert_refused(m);
	memcpy(m, text, sizeof(text));
	m[TEXT_LEN - 1] = '=';
	assert_refused(m);
	/* the standard alphabet's two characters, anywhere */
	for (size_t i = PLEN; i < TEXT_LEN; i++) {
		memcpy(m, text, sizeof(text));
		m[i] = '+';
		assert_refused(m);
		m[i] = '/';
		assert_refused(m);
	}
}

static void test_trailing_white_space_accepted(void **state)
{
	static const char *const tails[] = {"\n", "\r\n", " ",	  "  ",
					    "\r", " \n",  "\n\n", " \r\n"};
	struct token t;
	char text[TOKEN_TEXT_MAX], m[2 * TOKEN_TEXT_MAX];

	(void)state;
	assert_int_equal(token_new(vid_a, &t, text), 0);
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(m, sizeof(m), "%s%s", text, tails[i]);
		assert_parses_as(m, strlen(m), &t);
	}
	/* only at the end */
	snprintf(m, sizeof(m), " %s", text);
	assert_refused(m);
	memcpy(m, text, 20);
	m[20] = ' ';
	memcpy(m + 21, text + 20, TEXT_LEN - 20 + 1);
	assert_refused(m);
	snprintf(m, sizeof(m), "%s \nx", text);
	assert_refused(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_has_the_documented_form),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_id_is_blake2b_of_the_secret),
		cmocka_unit_test(test_another_vault_is_named),
		cmocka_unit_test(test_vault_tag_stable_and_distinct),
		cmocka_unit_test(test_check_characters_always_caught),
		cmocka_unit_test(test_every_single_character_change_refused),
		cmocka_unit_test(test_truncated_or_extended_refused),
		cmocka_unit_test(test_wrong_prefix_or_padding_refused),
		cmocka_unit_test(test_trailing_white_space_accepted),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
