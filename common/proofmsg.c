/* SPDX-License-Identifier: ISC */
#include <string.h>

#include <sodium.h>

#include "common/proofmsg.h"

int proof_request_hash(const cJSON *req, const uint8_t *secret,
		       size_t secret_len, uint8_t out[PROOF_HASH_LEN])
{
	crypto_generichash_state st;
	char *txt = cJSON_PrintUnformatted(req);

	if (txt == NULL)
		return IDW_ENOMEM;
	crypto_generichash_init(&st, NULL, 0, PROOF_HASH_LEN);
	crypto_generichash_update(&st, (const uint8_t *)txt, strlen(txt));
	if (secret != NULL && secret_len > 0)
		crypto_generichash_update(&st, secret, secret_len);
	crypto_generichash_final(&st, out, PROOF_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
	cJSON_free(txt);
	return 0;
}

size_t proof_message(uint8_t out[PROOF_MSG_MAX],
		     const uint8_t vault_id[PROOF_VAULT_ID_LEN],
		     const uint8_t challenge[PROOF_CHALLENGE_LEN],
		     const char *verb, const uint8_t hash[PROOF_HASH_LEN])
{
	size_t vlen = verb ? strlen(verb) : 0, n = 0;

	if (vlen == 0 || vlen >= PROOF_VERB_MAX)
		return 0;
	/* The domain and the verb each end with their NUL. */
	memcpy(out + n, PROOF_DOMAIN, sizeof(PROOF_DOMAIN));
	n += sizeof(PROOF_DOMAIN);
	memcpy(out + n, vault_id, PROOF_VAULT_ID_LEN);
	n += PROOF_VAULT_ID_LEN;
	memcpy(out + n, challenge, PROOF_CHALLENGE_LEN);
	n += PROOF_CHALLENGE_LEN;
	memcpy(out + n, verb, vlen + 1);
	n += vlen + 1;
	memcpy(out + n, hash, PROOF_HASH_LEN);
	return n + PROOF_HASH_LEN;
}
