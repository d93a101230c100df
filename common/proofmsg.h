/* SPDX-License-Identifier: ISC */
#ifndef IDW_PROOFMSG_H
#define IDW_PROOFMSG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/*
 * The message a person proof signs (docs/protocol.md "Person proof"),
 * built by one function for both sides so the CLI's signature and the
 * agent's check can never drift apart:
 *
 *   "idw-proof-v1" 0x00 | vault id | challenge | verb 0x00 |
 *   BLAKE2b-256(request JSON printed without "proof" | secret segment)
 */
#define PROOF_DOMAIN "idw-proof-v1"
#define PROOF_CHALLENGE_LEN 32
#define PROOF_HASH_LEN 32
#define PROOF_VAULT_ID_LEN 16
#define PROOF_VERB_MAX 32 /* including the NUL */
#define PROOF_MSG_MAX                                                          \
	(sizeof(PROOF_DOMAIN) + PROOF_VAULT_ID_LEN + PROOF_CHALLENGE_LEN +     \
	 PROOF_VERB_MAX + PROOF_HASH_LEN)

/* BLAKE2b-256 of req as cJSON prints it, then the secret segment. */
int proof_request_hash(const cJSON *req, const uint8_t *secret,
		       size_t secret_len, uint8_t out[PROOF_HASH_LEN]) IDW_WUR;

/* The message into out; its length, or 0 for an empty or long verb. */
size_t proof_message(uint8_t out[PROOF_MSG_MAX],
		     const uint8_t vault_id[PROOF_VAULT_ID_LEN],
		     const uint8_t challenge[PROOF_CHALLENGE_LEN],
		     const char *verb, const uint8_t hash[PROOF_HASH_LEN]);

#endif
