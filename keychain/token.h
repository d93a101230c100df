/* SPDX-License-Identifier: ISC */
#ifndef IDW_TOKEN_H
#define IDW_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Session tokens: "idwst_" ‖ base64url(vault tag[4] ‖ secret[32] ‖
 * check[2]), no padding.  The tag ties a token to one vault (so a token of
 * another vault is named as such), the check catches a mangled copy, the
 * id (first 12 hex digits of BLAKE2b-256(secret)) names the token in
 * lists, slots and audit entries.  The secret never leaves locked memory
 * except as the printed token, once.
 */
#define TOKEN_PREFIX "idwst_"
#define TOKEN_SECRET_LEN 32
#define TOKEN_TAG_LEN 4
#define TOKEN_ID_LEN 12
/* prefix + base64url of 38 bytes (51 characters) + NUL */
#define TOKEN_TEXT_MAX 64

struct token {
	uint8_t tag[TOKEN_TAG_LEN];
	uint8_t secret[TOKEN_SECRET_LEN];
	char id[TOKEN_ID_LEN + 1];
};

/* The 4-byte tag of a vault id. */
void token_vault_tag(const uint8_t vault_id[16], uint8_t tag[TOKEN_TAG_LEN]);
/* The id of a secret (12 lowercase hex digits). */
void token_id_of(const uint8_t secret[TOKEN_SECRET_LEN],
		 char id[TOKEN_ID_LEN + 1]);

/* A new token for a vault: t in locked memory, text (locked) printed. */
int token_new(const uint8_t vault_id[16], struct token *t,
	      char text[TOKEN_TEXT_MAX]) IDW_WUR;

/*
 * Parse a token's text.  IDW_EINVAL with why for a malformed token,
 * IDW_EPERM when it belongs to another vault (vault_id may be NULL to skip
 * that check).
 */
int token_parse(const char *text, size_t len, const uint8_t *vault_id,
		struct token *t, char *why, size_t whylen) IDW_WUR;

#endif
