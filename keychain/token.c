/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "keychain/token.h"

#define TOKEN_RAW_LEN (TOKEN_TAG_LEN + TOKEN_SECRET_LEN + 2)

void token_vault_tag(const uint8_t vault_id[16], uint8_t tag[TOKEN_TAG_LEN])
{
	static const uint8_t ctx[] = "idw-token-vault-tag-v1";
	uint8_t h[16];

	crypto_generichash(h, sizeof(h), vault_id, 16, ctx, sizeof(ctx) - 1);
	memcpy(tag, h, TOKEN_TAG_LEN);
}

void token_id_of(const uint8_t secret[TOKEN_SECRET_LEN],
		 char id[TOKEN_ID_LEN + 1])
{
	uint8_t h[32];

	crypto_generichash(h, sizeof(h), secret, TOKEN_SECRET_LEN, NULL, 0);
	sodium_bin2hex(id, TOKEN_ID_LEN + 1, h, TOKEN_ID_LEN / 2);
}

/*
 * The check catches a mistyped or mangled copy before anything is looked
 * up (the secret, not the check, is what makes a token unguessable).  A
 * CRC-16 (CCITT: polynomial 0x1021, initial 0xffff, big-endian) finds
 * every burst of up to 16 bits, so every one-character change and every
 * swap of neighbours in the base64 text is refused; a 16-bit cut of a
 * hash would let one change in 65536 through.
 */
static void check_of(const uint8_t *tag_secret, uint8_t check[2])
{
	uint16_t crc = 0xffff;

	for (size_t i = 0; i < TOKEN_TAG_LEN + TOKEN_SECRET_LEN; i++) {
		crc ^= (uint16_t)(tag_secret[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021
						      : crc << 1);
	}
	check[0] = (uint8_t)(crc >> 8);
	check[1] = (uint8_t)crc;
}

int token_new(const uint8_t vault_id[16], struct token *t,
	      char text[TOKEN_TEXT_MAX])
{
	uint8_t raw[TOKEN_RAW_LEN];

	token_vault_tag(vault_id, t->tag);
	randombytes_buf(t->secret, sizeof(t->secret));
	token_id_of(t->secret, t->id);
	memcpy(raw, t->tag, TOKEN_TAG_LEN);
	memcpy(raw + TOKEN_TAG_LEN, t->secret, TOKEN_SECRET_LEN);
	check_of(raw, raw + TOKEN_TAG_LEN + TOKEN_SECRET_LEN);
	memcpy(text, TOKEN_PREFIX, sizeof(TOKEN_PREFIX) - 1);
	sodium_bin2base64(text + sizeof(TOKEN_PREFIX) - 1,
			  TOKEN_TEXT_MAX - (sizeof(TOKEN_PREFIX) - 1), raw,
			  sizeof(raw),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int token_parse(const char *text, size_t len, const uint8_t *vault_id,
		struct token *t, char *why, size_t whylen)
{
	uint8_t raw[TOKEN_RAW_LEN], check[2], tag[TOKEN_TAG_LEN];
	const size_t plen = sizeof(TOKEN_PREFIX) - 1;
	size_t bin = 0;
	const char *end = NULL;
	int r = IDW_EINVAL;

	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
			   text[len - 1] == ' '))
		len--;
	if (len < plen || memcmp(text, TOKEN_PREFIX, plen) != 0) {
		snprintf(why, whylen, "it does not start with %s",
			 TOKEN_PREFIX);
		goto out;
	}
	/*
	 * Only the base64url alphabet: libsodium's decoder maps some bytes
	 * above 0x7f onto letters, which would let two texts name one token.
	 */
	for (size_t i = plen; i < len; i++) {
		char ch = text[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
			snprintf(why, whylen,
				 "it holds a character that is "
				 "not in a token");
			goto out;
		}
	}
	if (sodium_base642bin(raw, sizeof(raw), text + plen, len - plen, NULL,
			      &bin, &end,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    bin != sizeof(raw) || end != text + len) {
		snprintf(why, whylen,
			 "it is not a whole idw token (truncated "
			 "or mangled copy?)");
		goto out;
	}
	check_of(raw, check);
	if (sodium_memcmp(check, raw + TOKEN_TAG_LEN + TOKEN_SECRET_LEN, 2) !=
	    0) {
		snprintf(why, whylen,
			 "its check digits do not match (a "
			 "mistyped or mangled copy)");
		goto out;
	}
	memcpy(t->tag, raw, TOKEN_TAG_LEN);
	memcpy(t->secret, raw + TOKEN_TAG_LEN, TOKEN_SECRET_LEN);
	token_id_of(t->secret, t->id);
	if (vault_id != NULL) {
		token_vault_tag(vault_id, tag);
		if (sodium_memcmp(tag, t->tag, TOKEN_TAG_LEN) != 0) {
			snprintf(why, whylen,
				 "token %s belongs to another "
				 "vault",
				 t->id);
			r = IDW_EPERM;
			goto out;
		}
	}
	r = 0;
out:
	sodium_memzero(raw, sizeof(raw));
	if (r != 0)
		sodium_memzero(t, sizeof(*t));
	return r;
}
