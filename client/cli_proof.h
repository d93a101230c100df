/* SPDX-License-Identifier: ISC */
#ifndef IDW_CLI_PROOF_H
#define IDW_CLI_PROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "client/cli.h"

/*
 * Person proof, the CLI's half (docs/protocol.md "Person proof").  The
 * seed is derived here, from the passphrase, with Argon2id; the agent only
 * checks signatures.  Seed, signing key and passphrase live in
 * sodium_malloc memory and are wiped before these functions return.
 */
#define CLI_PROOF_STDIN 0x1 /* the passphrase is the first line of stdin */

#define CLI_PROOF_SALT_LEN 16
#define CLI_PROOF_PK_LEN 32
#define CLI_PROOF_SIG_LEN 64
#define CLI_PROOF_CHALLENGE_LEN 32
#define CLI_PROOF_VAULT_ID_LEN 16

/*
 * Send req (with an optional secret segment) with person proof: ask the
 * agent for a challenge, read the passphrase (from stdin with
 * CLI_PROOF_STDIN, else on /dev/tty; never from IDW_PASSPHRASE, which
 * unlocks but proves no one is present), derive the key, sign, send.
 * Returns the exit status like cli_call (6 when the proof failed or could
 * not be given); messages are printed.  req is left as it was given.
 */
int cli_call_proven(struct idwc *c, cJSON *req, const struct idw_buf *secret,
		    unsigned flags, struct idwc_reply *rep);

/*
 * For a verb that sends several proven requests with one passphrase
 * (import, export): cli_proof_read checks a proof can be given for verb
 * and reads the passphrase into pass (made with idw_buf_init(pass,
 * CLI_PASS_MAX + 2, IDW_BUF_SECURE); the caller frees it), then
 * cli_call_proven_pass signs and sends each request with it.  Exit
 * statuses as cli_call_proven.
 */
int cli_proof_read(struct idwc *c, const char *verb, unsigned flags,
		   struct idw_buf *pass);
int cli_call_proven_pass(struct idwc *c, cJSON *req,
			 const struct idw_buf *secret,
			 const struct idw_buf *pass, struct idwc_reply *rep);

/*
 * The usual shape of a proof-taking verb: connect (starting the agent if
 * need be), send req with proof (from stdin when the verb's
 * --passphrase-stdin is set), close.  req is consumed.  Exit status as
 * cli_call_proven.
 */
int cli_simple_proven(cJSON *req, const struct cli_args *a,
		      struct idwc_reply *rep);

/*
 * The proof key of a new vault from its passphrase at the cost of kdf
 * (interactive, moderate, sensitive): {"pk","salt","opslimit",
 * "memlimit"} for the init request.  NULL when out of memory.
 */
cJSON *cli_proof_key(const uint8_t *pass, size_t passlen, const char *kdf);

/*
 * The signature itself: derive the seed from pass with salt and cost,
 * sign "idw-proof-v1" 0x00 | vault id | challenge | verb 0x00 |
 * BLAKE2b-256(req printed without "proof" | secret).  req must not hold
 * "proof".  0 or an IDW_E* code.
 */
int cli_proof_sign(const uint8_t *pass, size_t passlen,
		   const uint8_t salt[CLI_PROOF_SALT_LEN], uint64_t opslimit,
		   uint64_t memlimit,
		   const uint8_t vault_id[CLI_PROOF_VAULT_ID_LEN],
		   const uint8_t challenge[CLI_PROOF_CHALLENGE_LEN],
		   const char *verb, const cJSON *req, const uint8_t *secret,
		   size_t secret_len, uint8_t sig[CLI_PROOF_SIG_LEN]) IDW_WUR;

#endif
