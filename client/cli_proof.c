/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/jsonu.h"
#include "common/proofmsg.h"

#define SEED_LEN crypto_sign_SEEDBYTES

/* What a challenge reply carries. */
struct challenge {
	uint8_t nonce[CLI_PROOF_CHALLENGE_LEN];
	uint8_t salt[CLI_PROOF_SALT_LEN];
	uint64_t opslimit;
	uint64_t memlimit;
};

static bool hex_exact(const char *s, uint8_t *out, size_t n)
{
	size_t got = 0;

	if (s == NULL || strlen(s) != 2 * n)
		return false;
	return sodium_hex2bin(out, n, s, 2 * n, NULL, &got, NULL) == 0 &&
	       got == n;
}

/*
 * The agent names the cost, and a cost beyond SENSITIVE would only make
 * this process spend memory and time for nothing.
 */
static bool cost_ok(uint64_t ops, uint64_t mem)
{
	return ops >= crypto_pwhash_OPSLIMIT_MIN &&
	       ops <= crypto_pwhash_OPSLIMIT_SENSITIVE &&
	       mem >= crypto_pwhash_MEMLIMIT_MIN &&
	       mem <= crypto_pwhash_MEMLIMIT_SENSITIVE;
}

/* Argon2id seed, then the Ed25519 pair, in one sodium_malloc block. */
static uint8_t *derive_keys(const uint8_t *pass, size_t passlen,
			    const uint8_t salt[CLI_PROOF_SALT_LEN],
			    uint64_t ops, uint64_t mem,
			    uint8_t pk[CLI_PROOF_PK_LEN], int *err)
{
	uint8_t *k = sodium_malloc(SEED_LEN + crypto_sign_SECRETKEYBYTES);

	*err = 0;
	if (k == NULL) {
		*err = IDW_ENOMEM;
		return NULL;
	}
	if (!cost_ok(ops, mem)) {
		*err = IDW_EINVAL;
	} else if (crypto_pwhash(k, SEED_LEN, (const char *)pass, passlen, salt,
				 (unsigned long long)ops, (size_t)mem,
				 crypto_pwhash_ALG_ARGON2ID13) != 0) {
		*err = IDW_ENOMEM;
	} else if (crypto_sign_seed_keypair(pk, k + SEED_LEN, k) != 0) {
		*err = IDW_ERR;
	}
	if (*err != 0) {
		sodium_free(k); /* wipes */
		return NULL;
	}
	return k;
}

int cli_proof_sign(const uint8_t *pass, size_t passlen,
		   const uint8_t salt[CLI_PROOF_SALT_LEN], uint64_t opslimit,
		   uint64_t memlimit,
		   const uint8_t vault_id[CLI_PROOF_VAULT_ID_LEN],
		   const uint8_t challenge[CLI_PROOF_CHALLENGE_LEN],
		   const char *verb, const cJSON *req, const uint8_t *secret,
		   size_t secret_len, uint8_t sig[CLI_PROOF_SIG_LEN])
{
	uint8_t msg[PROOF_MSG_MAX], pk[CLI_PROOF_PK_LEN], *k;
	uint8_t hash[PROOF_HASH_LEN];
	size_t n;
	int r;

	if ((r = proof_request_hash(req, secret, secret_len, hash)) != 0)
		return r;
	/* The same message the agent checks, from the same code. */
	if ((n = proof_message(msg, vault_id, challenge, verb, hash)) == 0)
		return IDW_EINVAL;
	if ((k = derive_keys(pass, passlen, salt, opslimit, memlimit, pk,
			     &r)) == NULL)
		return r;
	r = crypto_sign_detached(sig, NULL, msg, n, k + SEED_LEN) == 0
		    ? 0
		    : IDW_ERR;
	sodium_free(k);
	return r;
}

cJSON *cli_proof_key(const uint8_t *pass, size_t passlen, const char *kdf)
{
	uint64_t ops = crypto_pwhash_OPSLIMIT_MODERATE;
	uint64_t mem = crypto_pwhash_MEMLIMIT_MODERATE;
	uint8_t salt[CLI_PROOF_SALT_LEN], pk[CLI_PROOF_PK_LEN], *k;
	char hpk[2 * CLI_PROOF_PK_LEN + 1], hsalt[2 * CLI_PROOF_SALT_LEN + 1];
	cJSON *o;
	int r;

	/* The passphrase slot's cost: a proof is no cheaper to guess. */
	if (strcmp(kdf, "interactive") == 0) {
		ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
	} else if (strcmp(kdf, "sensitive") == 0) {
		ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
	}
	randombytes_buf(salt, sizeof(salt));
	if ((k = derive_keys(pass, passlen, salt, ops, mem, pk, &r)) == NULL)
		return NULL;
	sodium_free(k);
	sodium_bin2hex(hpk, sizeof(hpk), pk, sizeof(pk));
	sodium_bin2hex(hsalt, sizeof(hsalt), salt, sizeof(salt));
	o = cJSON_CreateObject();
	if (o == NULL || cJSON_AddStringToObject(o, "pk", hpk) == NULL ||
	    cJSON_AddStringToObject(o, "salt", hsalt) == NULL ||
	    cJSON_AddNumberToObject(o, "opslimit", (double)ops) == NULL ||
	    cJSON_AddNumberToObject(o, "memlimit", (double)mem) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool num_of(const cJSON *o, const char *key, uint64_t *out)
{
	int64_t v = idw_json_int(o, key, -1);

	if (v < 0)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* Ask for a challenge; the exit status, with the reason printed. */
static int ask_challenge(struct idwc *c, const char *verb,
			 const char *vault_hex, struct challenge *ch)
{
	struct idwc_reply rep = {0};
	const char *vid;
	cJSON *req = cli_request("challenge");
	int rc;

	if (req == NULL || cJSON_AddStringToObject(req, "for", verb) == NULL) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	rc = cli_call(c, req, NULL, &rep);
	cJSON_Delete(req);
	if (rc != 0)
		goto out;
	vid = idw_json_str(rep.json, "vault_id");
	if (!hex_exact(idw_json_str(rep.json, "challenge"), ch->nonce,
		       sizeof(ch->nonce)) ||
	    !hex_exact(idw_json_str(rep.json, "salt"), ch->salt,
		       sizeof(ch->salt)) ||
	    !num_of(rep.json, "opslimit", &ch->opslimit) ||
	    !num_of(rep.json, "memlimit", &ch->memlimit) ||
	    !cost_ok(ch->opslimit, ch->memlimit)) {
		cli_warn("the agent's challenge is malformed");
		rc = CLI_EXIT_ERR;
	} else if (vid == NULL || strcmp(vid, vault_hex) != 0) {
		cli_warn("the agent's challenge names another vault");
		rc = CLI_EXIT_ERR;
	}
out:
	cli_reply_free(&rep);
	return rc;
}

/* The passphrase as proof: stdin or the terminal, never the environment. */
static int read_proof_pass(unsigned flags, const char *verb, struct idw_buf *b)
{
	char prompt[96];
	int r;

	if (flags & CLI_PROOF_STDIN) {
		r = cli_read_line(STDIN_FILENO, b, CLI_PASS_MAX);
		if (r == IDW_ETRUNCATED) {
			cli_warn("no passphrase on stdin");
			return r;
		}
	} else {
		snprintf(prompt, sizeof(prompt),
			 "Passphrase to confirm %s: ", verb);
		r = cli_prompt_tty(prompt, b, CLI_PASS_MAX);
		if (r == IDW_ENOENT) {
			cli_warnf("%s needs your passphrase as person proof "
				  "and there is no terminal to ask: use "
				  "--passphrase-stdin (IDW_PASSPHRASE unlocks "
				  "the vault but proves no person is present)",
				  verb);
			return r;
		}
	}
	if (r == IDW_ETOOBIG) {
		cli_warn("passphrase too long");
		return r;
	}
	if (r != 0) {
		cli_warnf("reading the passphrase: %s", idw_strerror(r));
		return r;
	}
	if (b->len == 0) {
		cli_warn("empty passphrase");
		return IDW_EINVAL;
	}
	return 0;
}

static int add_proof(cJSON *req, const uint8_t nonce[CLI_PROOF_CHALLENGE_LEN],
		     const uint8_t sig[CLI_PROOF_SIG_LEN])
{
	char hn[2 * CLI_PROOF_CHALLENGE_LEN + 1], hs[2 * CLI_PROOF_SIG_LEN + 1];
	cJSON *p = cJSON_CreateObject();

	sodium_bin2hex(hn, sizeof(hn), nonce, CLI_PROOF_CHALLENGE_LEN);
	sodium_bin2hex(hs, sizeof(hs), sig, CLI_PROOF_SIG_LEN);
	if (p == NULL || cJSON_AddStringToObject(p, "challenge", hn) == NULL ||
	    cJSON_AddStringToObject(p, "signature", hs) == NULL ||
	    !cJSON_AddItemToObject(req, "proof", p)) {
		cJSON_Delete(p);
		return IDW_ENOMEM;
	}
	return 0;
}

int cli_proof_read(struct idwc *c, const char *verb, unsigned flags,
		   struct idw_buf *pass)
{
	const char *vault_hex = idwc_hello_info(c)->vault_id;
	uint8_t vid[CLI_PROOF_VAULT_ID_LEN];
	struct challenge ch;
	int rc;

	if (!hex_exact(vault_hex, vid, sizeof(vid))) {
		cli_warnf("no vault in %s: run 'idw init'", cli_home());
		return idw_err_exit(IDW_ENOVAULT);
	}
	/* A first challenge says at once whether a proof can be given. */
	if ((rc = ask_challenge(c, verb, vault_hex, &ch)) != 0)
		return rc;
	if (read_proof_pass(flags, verb, pass) != 0)
		return idw_err_exit(IDW_EPROOF);
	return 0;
}

int cli_call_proven_pass(struct idwc *c, cJSON *req,
			 const struct idw_buf *secret,
			 const struct idw_buf *pass, struct idwc_reply *rep)
{
	const char *verb = idw_json_str(req, "verb");
	const char *vault_hex = idwc_hello_info(c)->vault_id;
	uint8_t vid[CLI_PROOF_VAULT_ID_LEN], sig[CLI_PROOF_SIG_LEN];
	struct challenge ch;
	int rc, r;

	memset(rep, 0, sizeof(*rep));
	if (verb == NULL || strlen(verb) >= PROOF_VERB_MAX ||
	    cJSON_GetObjectItemCaseSensitive(req, "proof") != NULL ||
	    !hex_exact(vault_hex, vid, sizeof(vid))) {
		cli_warn("a request to prove needs a verb, a vault and no "
			 "proof yet");
		return CLI_EXIT_ERR;
	}
	if ((rc = ask_challenge(c, verb, vault_hex, &ch)) != 0)
		return rc;
	r = cli_proof_sign(pass->d, pass->len, ch.salt, ch.opslimit,
			   ch.memlimit, vid, ch.nonce, verb, req,
			   secret ? secret->d : NULL, secret ? secret->len : 0,
			   sig);
	if (r == 0)
		r = add_proof(req, ch.nonce, sig);
	if (r != 0) {
		cli_warnf("signing the person proof failed: %s",
			  idw_strerror(r));
		return CLI_EXIT_ERR;
	}
	rc = cli_call(c, req, secret, rep);
	cJSON_DeleteItemFromObjectCaseSensitive(req, "proof");
	return rc;
}

int cli_call_proven(struct idwc *c, cJSON *req, const struct idw_buf *secret,
		    unsigned flags, struct idwc_reply *rep)
{
	const char *verb = idw_json_str(req, "verb");
	const char *vault_hex = idwc_hello_info(c)->vault_id;
	uint8_t vid[CLI_PROOF_VAULT_ID_LEN], sig[CLI_PROOF_SIG_LEN];
	struct challenge ch;
	struct idw_buf pass;
	int rc, r;

	memset(rep, 0, sizeof(*rep));
	idw_buf_init(&pass, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	if (verb == NULL || strlen(verb) >= PROOF_VERB_MAX ||
	    cJSON_GetObjectItemCaseSensitive(req, "proof") != NULL) {
		cli_warn("a request to prove needs a verb and no proof yet");
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if (!hex_exact(vault_hex, vid, sizeof(vid))) {
		cli_warnf("no vault in %s: run 'idw init'", cli_home());
		rc = idw_err_exit(IDW_ENOVAULT);
		goto out;
	}
	/* A first challenge says at once whether a proof can be given. */
	if ((rc = ask_challenge(c, verb, vault_hex, &ch)) != 0)
		goto out;
	if (read_proof_pass(flags, verb, &pass) != 0) {
		rc = idw_err_exit(IDW_EPROOF);
		goto out;
	}
	/* A fresh one to sign: the first may have aged while a person typed. */
	if ((rc = ask_challenge(c, verb, vault_hex, &ch)) != 0)
		goto out;
	r = cli_proof_sign(pass.d, pass.len, ch.salt, ch.opslimit, ch.memlimit,
			   vid, ch.nonce, verb, req, secret ? secret->d : NULL,
			   secret ? secret->len : 0, sig);
	idw_buf_free(&pass);
	if (r == 0)
		r = add_proof(req, ch.nonce, sig);
	if (r != 0) {
		cli_warnf("signing the person proof failed: %s",
			  idw_strerror(r));
		rc = CLI_EXIT_ERR;
		goto out;
	}
	rc = cli_call(c, req, secret, rep);
	cJSON_DeleteItemFromObjectCaseSensitive(req, "proof");
out:
	idw_buf_free(&pass);
	return rc;
}

int cli_simple_proven(cJSON *req, const struct cli_args *a,
		      struct idwc_reply *rep)
{
	struct idwc *c = NULL;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (req == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		cJSON_Delete(req);
		return idw_err_exit(rc);
	}
	rc = cli_call_proven(
		c, req, NULL,
		cli_arg_set(a, "passphrase-stdin") ? CLI_PROOF_STDIN : 0, rep);
	idwc_close(c);
	cJSON_Delete(req);
	return rc;
}
