/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentd/dispatch.h"
#include "agentd/proof.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

/* Exactly n bytes of lowercase or uppercase hex in s. */
static bool hex_exact(const char *s, uint8_t *out, size_t n)
{
	size_t got = 0;

	if (s == NULL || strlen(s) != 2 * n)
		return false;
	return sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) == 0 &&
	       got == n;
}

/* A whole number within [lo, hi]. */
static bool num_within(const cJSON *o, const char *key, uint64_t lo,
		       uint64_t hi, uint64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	double d;

	if (!cJSON_IsNumber(v))
		return false;
	d = v->valuedouble;
	if (!(d >= (double)lo && d <= (double)hi) || d != (double)(uint64_t)d)
		return false;
	*out = (uint64_t)d;
	return true;
}

int proof_key_from_json(const cJSON *o, struct proof_key *k, char *why,
			size_t whylen)
{
	memset(k, 0, sizeof(*k));
	if (!cJSON_IsObject(o)) {
		snprintf(why, whylen, "proof_key must be an object");
		return IDW_EINVAL;
	}
	if (!hex_exact(idw_json_str(o, "pk"), k->pk, sizeof(k->pk))) {
		snprintf(why, whylen, "proof_key.pk must be 32 bytes in hex");
		return IDW_EINVAL;
	}
	if (!hex_exact(idw_json_str(o, "salt"), k->salt, sizeof(k->salt))) {
		snprintf(why, whylen, "proof_key.salt must be 16 bytes in hex");
		return IDW_EINVAL;
	}
	if (!num_within(o, "opslimit", crypto_pwhash_OPSLIMIT_MIN,
			crypto_pwhash_OPSLIMIT_SENSITIVE, &k->opslimit) ||
	    !num_within(o, "memlimit", crypto_pwhash_MEMLIMIT_MIN,
			crypto_pwhash_MEMLIMIT_SENSITIVE, &k->memlimit)) {
		snprintf(why, whylen,
			 "proof_key's opslimit and memlimit must lie between "
			 "libsodium's minimum and SENSITIVE");
		return IDW_EINVAL;
	}
	return 0;
}

cJSON *proof_key_to_json(const struct proof_key *k)
{
	char pk[2 * PROOF_PK_LEN + 1], salt[2 * PROOF_SALT_LEN + 1];
	cJSON *o = cJSON_CreateObject();

	sodium_bin2hex(pk, sizeof(pk), k->pk, sizeof(k->pk));
	sodium_bin2hex(salt, sizeof(salt), k->salt, sizeof(k->salt));
	if (o == NULL || cJSON_AddStringToObject(o, "pk", pk) == NULL ||
	    cJSON_AddStringToObject(o, "salt", salt) == NULL ||
	    cJSON_AddNumberToObject(o, "opslimit", (double)k->opslimit) ==
		    NULL ||
	    cJSON_AddNumberToObject(o, "memlimit", (double)k->memlimit) ==
		    NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int proof_key_store(struct agent *a, const struct proof_key *k)
{
	cJSON *meta = proof_key_to_json(k);

	if (meta == NULL)
		return IDW_ENOMEM;
	return store_put(&a->store, a->vault, "config", PROOF_CONFIG_ID, meta,
			 NULL, 0);
}

int proof_key_load(struct agent *a, struct proof_key *k)
{
	struct store_item *it =
		store_find(&a->store, "config", PROOF_CONFIG_ID);
	char why[120];

	if (it == NULL)
		return IDW_ENOENT;
	/* What init checked is checked again: the record is ours, but old. */
	return proof_key_from_json(it->meta, k, why, sizeof(why)) == 0
		       ? 0
		       : IDW_ECORRUPT;
}

int proof_verify(const struct proof_key *k,
		 const uint8_t vault_id[PROOF_VAULT_ID_LEN],
		 const uint8_t challenge[PROOF_CHALLENGE_LEN], const char *verb,
		 const uint8_t hash[PROOF_HASH_LEN],
		 const uint8_t sig[PROOF_SIG_LEN])
{
	uint8_t msg[PROOF_MSG_MAX];
	size_t n = proof_message(msg, vault_id, challenge, verb, hash);

	if (n == 0)
		return IDW_EPROOF;
	return crypto_sign_verify_detached(sig, msg, n, k->pk) == 0
		       ? 0
		       : IDW_EPROOF;
}

void proof_challenge_issue(struct proof_challenge *c, const char *verb,
			   uint64_t now_ms)
{
	randombytes_buf(c->nonce, sizeof(c->nonce));
	snprintf(c->verb, sizeof(c->verb), "%s", verb);
	c->expires_ms = now_ms + PROOF_TTL_MS;
}

/* The answer to failure number n (1, 2, ...) waits this long. */
static uint64_t fail_delay_ms(unsigned n)
{
	uint64_t d = PROOF_DELAY_FIRST_MS;

	while (n-- > 1 && d < PROOF_DELAY_MAX_MS)
		d *= 2;
	return d < PROOF_DELAY_MAX_MS ? d : PROOF_DELAY_MAX_MS;
}

static void audit_failure(struct agent *a, struct peer *p, const char *verb,
			  const char *why)
{
	struct audit_event ev = {
		.principal = p->principal,
		.claimed_actor = p->claimed_actor[0] ? p->claimed_actor : NULL,
		.action = "proof",
		.purpose = verb,
		.result = "failed",
		.reason = why,
	};

	/* A failure releases nothing: a log that refuses it is marked broken
	 * and that denies every later release. */
	if (audit_append(&a->audit, &ev) != 0)
		return;
}

/* Everything but the gate: 0, or IDW_EPROOF with why. */
static int check_one(struct agent *a, struct peer *p, const char *verb,
		     const cJSON *proof, const cJSON *req,
		     const uint8_t *secret, size_t secret_len, uint64_t now_ms,
		     char *why, size_t whylen)
{
	struct proof_challenge ch = p->challenge;
	uint8_t nonce[PROOF_CHALLENGE_LEN], sig[PROOF_SIG_LEN];
	uint8_t hash[PROOF_HASH_LEN];
	struct proof_key k;
	int r;

	/* Single use, whatever follows. */
	sodium_memzero(&p->challenge, sizeof(p->challenge));
	if (proof == NULL) {
		snprintf(why, whylen,
			 "%s needs person proof: run 'idw %s' on a terminal, "
			 "or with --passphrase-stdin",
			 verb, verb);
		return IDW_EPROOF;
	}
	if (!cJSON_IsObject(proof) ||
	    !hex_exact(idw_json_str(proof, "challenge"), nonce,
		       sizeof(nonce)) ||
	    !hex_exact(idw_json_str(proof, "signature"), sig, sizeof(sig))) {
		snprintf(why, whylen,
			 "person proof failed: the proof is malformed");
		return IDW_EPROOF;
	}
	if (ch.expires_ms == 0) {
		snprintf(why, whylen,
			 "person proof failed: no challenge outstanding on "
			 "this connection");
		return IDW_EPROOF;
	}
	if (now_ms >= ch.expires_ms) {
		snprintf(why, whylen,
			 "person proof failed: the challenge expired");
		return IDW_EPROOF;
	}
	if (sodium_memcmp(nonce, ch.nonce, sizeof(nonce)) != 0 ||
	    strcmp(ch.verb, verb) != 0) {
		snprintf(why, whylen,
			 "person proof failed: the proof answers another "
			 "challenge");
		return IDW_EPROOF;
	}
	if ((r = proof_key_load(a, &k)) != 0) {
		snprintf(why, whylen,
			 r == IDW_ENOENT
				 ? "person proof failed: this vault holds no "
				   "person-proof key"
				 : "person proof failed: the vault's "
				   "person-proof "
				   "key is malformed");
		return IDW_EPROOF;
	}
	if ((r = proof_request_hash(req, secret, secret_len, hash)) != 0) {
		snprintf(why, whylen, "person proof failed: out of memory");
		return IDW_EPROOF;
	}
	if (proof_verify(&k, idw_vault_id(a->vault), nonce, verb, hash, sig) !=
	    0) {
		snprintf(why, whylen,
			 "person proof failed: wrong passphrase, or the "
			 "request was altered");
		return IDW_EPROOF;
	}
	return 0;
}

int proof_check(struct agent *a, struct peer *p, const char *verb, cJSON *req,
		const uint8_t *secret, size_t secret_len, uint64_t now_ms,
		uint64_t *release_ms, char *why, size_t whylen)
{
	cJSON *proof = cJSON_DetachItemFromObjectCaseSensitive(req, "proof");
	struct proof_gate *g = &a->proof;
	int r;

	*release_ms = 0;
	if (now_ms < g->open_ms) {
		/*
		 * An earlier failure's answer is still held: check nothing,
		 * and answer no sooner than it.
		 */
		sodium_memzero(&p->challenge, sizeof(p->challenge));
		cJSON_Delete(proof);
		snprintf(why, whylen,
			 "person proof refused: another proof failed moments "
			 "ago; try again in %llu s",
			 (unsigned long long)((g->open_ms - now_ms + 999) /
					      1000));
		*release_ms = g->open_ms;
		return IDW_EPROOF;
	}
	r = check_one(a, p, verb, proof, req, secret, secret_len, now_ms, why,
		      whylen);
	cJSON_Delete(proof);
	if (r == 0) {
		g->failures = 0;
		g->open_ms = 0;
		return 0;
	}
	if (g->failures < 64)
		g->failures++;
	g->open_ms = now_ms + fail_delay_ms(g->failures);
	*release_ms = g->open_ms;
	audit_failure(a, p, verb, why);
	return IDW_EPROOF;
}

int verb_challenge(struct agent *a, struct peer *p, const struct verb_args *in,
		   struct reply *rep)
{
	const char *verb = idw_json_str(in->req, "for");
	const struct verb_row *row = verb ? dispatch_find(verb) : NULL;
	char nonce[2 * PROOF_CHALLENGE_LEN + 1], salt[2 * PROOF_SALT_LEN + 1];
	char vid[33];
	struct proof_key k;
	cJSON *o;
	int r;

	if (verb == NULL)
		return reply_error(
			rep, IDW_EUSAGE,
			"challenge needs \"for\": the verb to prove");
	if (row == NULL || !(row->flags & VERB_NEEDS_PROOF))
		return reply_error(rep, IDW_EUSAGE,
				   "'%.40s' takes no person proof", verb);
	if ((r = proof_key_load(a, &k)) != 0)
		return reply_error(
			rep, r == IDW_ENOENT ? IDW_EPROOF : r,
			r == IDW_ENOENT ? "this vault holds no person-proof "
					  "key: it was made "
					  "without one, so %s cannot be proven"
					: "the vault's person-proof key is "
					  "malformed (%s)",
			row->verb);
	proof_challenge_issue(&p->challenge, row->verb, idw_boot_ms());
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	sodium_bin2hex(nonce, sizeof(nonce), p->challenge.nonce,
		       sizeof(p->challenge.nonce));
	sodium_bin2hex(salt, sizeof(salt), k.salt, sizeof(k.salt));
	idw_vault_id_hex(a->vault, vid);
	cJSON_AddStringToObject(o, "challenge", nonce);
	cJSON_AddStringToObject(o, "salt", salt);
	cJSON_AddNumberToObject(o, "opslimit", (double)k.opslimit);
	cJSON_AddNumberToObject(o, "memlimit", (double)k.memlimit);
	cJSON_AddStringToObject(o, "vault_id", vid);
	cJSON_AddNumberToObject(o, "expires_in", PROOF_TTL_MS / 1000);
	return 0;
}
