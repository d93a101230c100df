/* SPDX-License-Identifier: ISC */
#ifndef IDW_PROOF_H
#define IDW_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"
#include "common/proofmsg.h"

/*
 * Person proof (docs/protocol.md "Person proof").  At init the CLI derives
 * an Ed25519 seed from the passphrase with Argon2id and a salt of its own,
 * and the agent keeps only the public key, the salt and the cost.  A
 * proof-taking request then carries a signature over
 *
 *   "idw-proof-v1" 0x00 | vault id (16) | challenge (32) | verb 0x00 |
 *   BLAKE2b-256(request JSON printed without "proof" | secret segment)
 *
 * where the challenge is a single-use nonce the agent gave this
 * connection.  The agent checks it in microseconds and never runs
 * Argon2id for a proof; the public key never leaves the agent, so no
 * client can test passphrases against it offline.
 */
#define PROOF_SALT_LEN 16
#define PROOF_PK_LEN 32
#define PROOF_SIG_LEN 64
#define PROOF_TTL_MS 60000u
#define PROOF_DELAY_FIRST_MS 250u
#define PROOF_DELAY_MAX_MS 30000u
/* The journal record holding the verifier: kind "config", this id. */
#define PROOF_CONFIG_ID "proof_key"

/* The verifier of a vault. */
struct proof_key {
	uint8_t pk[PROOF_PK_LEN];
	uint8_t salt[PROOF_SALT_LEN];
	uint64_t opslimit;
	uint64_t memlimit;
};

/* The one outstanding challenge of a connection. */
struct proof_challenge {
	uint8_t nonce[PROOF_CHALLENGE_LEN];
	char verb[PROOF_VERB_MAX];
	uint64_t expires_ms; /* CLOCK_BOOTTIME ms; 0: none outstanding */
};

/*
 * Agent-wide: failures in a row, and the boot time before which no proof
 * is checked (the answer to the last failure is held until then).
 */
struct proof_gate {
	unsigned failures;
	uint64_t open_ms;
};

struct agent;
struct peer;

/*
 * {"pk":hex,"salt":hex,"opslimit":N,"memlimit":N} into k: a 32-byte key,
 * a 16-byte salt and a cost within libsodium's minimum and SENSITIVE.
 * IDW_EINVAL otherwise, with why set.
 */
int proof_key_from_json(const cJSON *o, struct proof_key *k, char *why,
			size_t whylen) IDW_WUR;
/* The same object; NULL when out of memory. */
cJSON *proof_key_to_json(const struct proof_key *k);

/* Keep k as the vault's verifier (a journal record, no value). */
int proof_key_store(struct agent *a, const struct proof_key *k) IDW_WUR;
/* The vault's verifier; IDW_ENOENT when the vault has none. */
int proof_key_load(struct agent *a, struct proof_key *k) IDW_WUR;

/* proof_request_hash and proof_message: common/proofmsg.h. */

/* 0 when sig is k's signature of that message; IDW_EPROOF otherwise. */
int proof_verify(const struct proof_key *k,
		 const uint8_t vault_id[PROOF_VAULT_ID_LEN],
		 const uint8_t challenge[PROOF_CHALLENGE_LEN], const char *verb,
		 const uint8_t hash[PROOF_HASH_LEN],
		 const uint8_t sig[PROOF_SIG_LEN]) IDW_WUR;

/* A fresh challenge for verb, replacing any earlier one. */
void proof_challenge_issue(struct proof_challenge *c, const char *verb,
			   uint64_t now_ms);

/*
 * Check the person proof of a request for verb.  "proof" is removed from
 * req whatever happens, and the connection's challenge is used up.  Returns
 * 0 when the proof holds (the gate resets).  Otherwise IDW_EPROOF with why
 * set for a person, the failure audited and counted, and *release_ms the
 * boot time before which the answer must not leave: 250 ms after the
 * first failure in a row, doubling up to 30 s.  While an earlier
 * failure's answer is held, a proof is refused unchecked and its answer
 * held as long, so proofs sent side by side are no faster than in turn.
 */
int proof_check(struct agent *a, struct peer *p, const char *verb, cJSON *req,
		const uint8_t *secret, size_t secret_len, uint64_t now_ms,
		uint64_t *release_ms, char *why, size_t whylen) IDW_WUR;

#endif
