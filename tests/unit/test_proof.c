/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/proof.c and of the proof rule of the dispatch
 * table: every row takes person proof or is on DESIGN's closed list.  The
 * agent is built as in test_dispatch.c (a temporary home, vault and audit
 * log opened, then initialised); signatures are made here from a known
 * seed, and by the CLI's own code (client/cli_proof.c) for the round trip.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/unit/agentfx.h"
#include "agentd/dispatch.h"
#include "agentd/proof.h"
#include "client/cli_proof.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"
#include "sandbox/shield.h"

#define PASS "proof test passphrase"
#define PASSLEN (sizeof(PASS) - 1)
#define NOW 1000000u

/* RFC 8032, section 7.1, test 1: a known seed and its public key. */
static const char seed_hex[] =
	"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char pk_hex[] =
	"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

/*
 * DESIGN "Principals and proof": the closed list of verbs without proof,
 * and the protocol's own verbs.  Kept here, apart from agentd/dispatch.c,
 * so that neither can grow alone.
 */
static const char *const closed_list[] = {
	"list",		"show",
	"audit",	"status",
	"create",	"suspend",
	"revoke",	"deny",
	"lock",		"logout",
	"token_revoke", "grants_revoke",
	"backup",	"init",
	"unlock",	"stop",
	"challenge",	"get",
	"check_policy", "request_access",
	"token_list",	"login_confirm",
	"grants",	"policy_list",
	"config_get",	"elicitation_answer",
	"audit_verify", "profile_list",
	"profile_show", "rekey_plan",
};

/* Verbs of DESIGN's proof list that the agent serves. */
static const char *const proven_verbs[] = {
	"resume",	  "edit",	    "delegate",	     "policy_add",
	"policy_enable",  "policy_disable", "policy_remove", "approve",
	"config_set",	  "token_create",   "login",	     "profile_add",
	"profile_remove", "get_proven",	    "passwd",	     "rekey",
};

struct fx {
	char dir[64];
	struct agent a;
	struct peer p;
	struct reply rep;
	uint8_t seed[32];
};

static void hex_to(const char *hex, uint8_t *out, size_t n)
{
	size_t got = 0;

	assert_int_equal(
		sodium_hex2bin(out, n, hex, strlen(hex), NULL, &got, NULL), 0);
	assert_int_equal(got, n);
}

static int group_setup(void **state)
{
	return agentfx_group_setup(state);
}

/* main.c up to the unlock: paths, state, vault and audit log opened. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct agent *a;

	if (f == NULL)
		return -1;
	a = &f->a;
	if (agentfx_open(a, f->dir, sizeof(f->dir), "/tmp/idw-proof-XXXXXX") !=
	    0)
		return -1;
	snprintf(f->p.principal, sizeof(f->p.principal), "local");
	f->p.hello_done = true;
	*state = f;
	return 0;
}

/* What verb init does, with the fastest KDF, and the known seed's key. */
static void init_fast(struct fx *f, bool with_key)
{
	struct agent *a = &f->a;
	uint8_t key[AUDIT_KEY_LEN], *k, sk[64];
	struct proof_key pk;
	struct store_item *it;
	char why[200];
	size_t n;
	cJSON *meta = cJSON_CreateObject();

	assert_int_equal(idw_shield_init(), 0);
	assert_int_equal(idw_vault_init(a->vault, (const uint8_t *)PASS,
					PASSLEN, IDW_KDF_MIN),
			 0);
	randombytes_buf(key, sizeof(key));
	cJSON_AddStringToObject(meta, "purpose", "audit log key");
	assert_int_equal(store_put(&a->store, a->vault, "config", "audit_key",
				   meta, key, sizeof(key)),
			 0);
	it = store_find(&a->store, "config", "audit_key");
	assert_non_null(it);
	assert_int_equal(store_open_value(it, &k, &n), 0);
	assert_int_equal(audit_unlock(&a->audit, k, why, sizeof(why)), 0);
	idw_arena_free(k);
	a->locked = false;
	hex_to(seed_hex, f->seed, sizeof(f->seed));
	if (with_key) {
		memset(&pk, 0, sizeof(pk));
		assert_int_equal(crypto_sign_seed_keypair(pk.pk, sk, f->seed),
				 0);
		sodium_memzero(sk, sizeof(sk));
		memset(pk.salt, 0x5a, sizeof(pk.salt));
		pk.opslimit = crypto_pwhash_OPSLIMIT_MIN;
		pk.memlimit = crypto_pwhash_MEMLIMIT_MIN;
		assert_int_equal(proof_key_store(a, &pk), 0);
	}
}

static int setup_init(void **state)
{
	if (setup(state) != 0)
		return -1;
	init_fast(*state, true);
	return 0;
}

static int setup_init_nokey(void **state)
{
	if (setup(state) != 0)
		return -1;
	init_fast(*state, false);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	agentfx_reply_free(&f->rep);
	agentfx_close(&f->a, f->dir);
	free(f);
	return 0;
}

static cJSON *call_n(struct fx *f, const char *json, const void *secret,
		     size_t slen, bool has_secret)
{
	return agentfx_call(&f->a, &f->p, &f->rep, json, secret, slen,
			    has_secret);
}

static cJSON *call(struct fx *f, const char *json)
{
	return call_n(f, json, NULL, 0, false);
}

/* The shared reply checks (agentfx.h), on this file's fixture. */
#define code(f) agentfx_code(&(f)->rep)
#define expect_code(f, want) agentfx_expect_code(&(f)->rep, want)
#define expect_message(f, part) agentfx_expect_message(&(f)->rep, part)

/* A suspended passport; its id into id. */
static void suspended(struct fx *f, char id[20])
{
	char buf[200];

	call_n(f,
	       "{\"verb\":\"create\",\"name\":\"n\","
	       "\"credential_type\":\"api-key\"}",
	       "value", 5, true);
	expect_code(f, "ok");
	memcpy(id, idw_json_str(f->rep.json, "id"), 20);
	snprintf(buf, sizeof(buf), "{\"verb\":\"suspend\",\"id\":\"%s\"}", id);
	call(f, buf);
	expect_code(f, "ok");
}

static const char *status_of(struct fx *f, const char *id)
{
	char buf[200];

	snprintf(buf, sizeof(buf), "{\"verb\":\"show\",\"id\":\"%s\"}", id);
	call(f, buf);
	expect_code(f, "ok");
	return idw_json_str(cJSON_GetObjectItem(f->rep.json, "passport"),
			    "status");
}

/* Attach a proof by seed over req (which holds no proof yet). */
static void sign_req(struct fx *f, cJSON *req, const uint8_t seed[32],
		     const uint8_t nonce[PROOF_CHALLENGE_LEN], const char *verb,
		     const void *secret, size_t slen)
{
	uint8_t hash[PROOF_HASH_LEN], msg[PROOF_MSG_MAX], sig[PROOF_SIG_LEN];
	uint8_t pk[32], sk[64];
	char hn[2 * PROOF_CHALLENGE_LEN + 1], hs[2 * PROOF_SIG_LEN + 1];
	cJSON *p = cJSON_CreateObject();
	size_t n;

	assert_int_equal(proof_request_hash(req, secret, slen, hash), 0);
	n = proof_message(msg, idw_vault_id(f->a.vault), nonce, verb, hash);
	assert_true(n > 0);
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
	assert_int_equal(crypto_sign_detached(sig, NULL, msg, n, sk), 0);
	sodium_bin2hex(hn, sizeof(hn), nonce, PROOF_CHALLENGE_LEN);
	sodium_bin2hex(hs, sizeof(hs), sig, sizeof(sig));
	cJSON_AddStringToObject(p, "challenge", hn);
	cJSON_AddStringToObject(p, "signature", hs);
	cJSON_AddItemToObject(req, "proof", p);
}

/* A request for resume with a fresh challenge, signed by the known seed. */
static cJSON *resume_req(struct fx *f, const char *id, uint64_t now)
{
	char buf[200];
	cJSON *req;

	snprintf(buf, sizeof(buf), "{\"verb\":\"resume\",\"id\":\"%s\"}", id);
	req = cJSON_Parse(buf);
	assert_non_null(req);
	proof_challenge_issue(&f->p.challenge, "resume", now);
	sign_req(f, req, f->seed, f->p.challenge.nonce, "resume", NULL, 0);
	return req;
}

static int check(struct fx *f, cJSON *req, const char *verb, const void *secret,
		 size_t slen, uint64_t now, uint64_t *release)
{
	char why[300];
	int r;

	why[0] = '\0';
	r = proof_check(&f->a, &f->p, verb, req, secret, slen, now, release,
			why, sizeof(why));
	/* "proof" is gone, whatever the outcome. */
	assert_null(cJSON_GetObjectItem(req, "proof"));
	if (r != 0)
		assert_non_null(strstr(why, "proof"));
	return r;
}

/* ------------------------------------------------------------------ */

static bool on_closed_list(const char *verb)
{
	for (size_t i = 0; i < sizeof(closed_list) / sizeof(closed_list[0]);
	     i++)
		if (strcmp(closed_list[i], verb) == 0)
			return true;
	return false;
}

static void test_table_needs_proof_or_exempt(void **state)
{
	(void)state;
	for (size_t i = 0; i < dispatch_table_len; i++) {
		const struct verb_row *r = &dispatch_table[i];
		const char *why = dispatch_proof_exemption(r->verb);

		if (r->flags & VERB_NEEDS_PROOF) {
			if (why != NULL)
				fail_msg("'%s' needs proof and is exempt",
					 r->verb);
			/* Proof is checked against a key in the vault. */
			if (!(r->flags & VERB_NEEDS_UNLOCKED))
				fail_msg("'%s' needs proof but not an "
					 "unlocked agent",
					 r->verb);
			continue;
		}
		if (!on_closed_list(r->verb) || why == NULL || why[0] == '\0')
			fail_msg("'%s' takes no proof and is not on the "
				 "closed list",
				 r->verb);
	}
	/* The agent's list is the closed list, nothing more. */
	for (size_t i = 0; i < dispatch_no_proof_len; i++) {
		if (!on_closed_list(dispatch_no_proof[i].verb))
			fail_msg("'%s' was added to the exemptions",
				 dispatch_no_proof[i].verb);
		assert_non_null(dispatch_no_proof[i].why);
	}
	assert_true(dispatch_find("resume")->flags & VERB_NEEDS_PROOF);
	assert_null(dispatch_proof_exemption("resume"));
	assert_null(dispatch_proof_exemption("approve"));
	/* Every verb that widens access or changes rules or settings. */
	for (size_t i = 0; i < sizeof(proven_verbs) / sizeof(proven_verbs[0]);
	     i++) {
		const struct verb_row *r = dispatch_find(proven_verbs[i]);

		if (r == NULL || !(r->flags & VERB_NEEDS_PROOF))
			fail_msg("'%s' must take proof", proven_verbs[i]);
	}
	assert_non_null(dispatch_find("challenge"));
	assert_false(dispatch_find("challenge")->flags & VERB_NEEDS_PROOF);
	assert_null(dispatch_find("no_such_verb"));
}

/* The message layout of docs/protocol.md, byte for byte. */
static void test_message_layout(void **state)
{
	static const char req_txt[] =
		"{\"verb\":\"resume\",\"id\":\"pp_0123456789abcdef\"}";
	uint8_t vid[16], ch[32], hash[32], want_hash[32];
	uint8_t msg[PROOF_MSG_MAX], want[PROOF_MSG_MAX];
	cJSON *req = cJSON_Parse(" { \"verb\" : \"resume\", "
				 "\"id\": \"pp_0123456789abcdef\" } ");
	size_t n = 0;

	(void)state;
	memset(vid, 0x11, sizeof(vid));
	memset(ch, 0x22, sizeof(ch));
	/* The request as cJSON prints it unformatted, then the secret. */
	assert_int_equal(
		proof_request_hash(req, (const uint8_t *)"sec", 3, hash), 0);
	{
		crypto_generichash_state st;

		crypto_generichash_init(&st, NULL, 0, 32);
		crypto_generichash_update(&st, (const uint8_t *)req_txt,
					  strlen(req_txt));
		crypto_generichash_update(&st, (const uint8_t *)"sec", 3);
		crypto_generichash_final(&st, want_hash, 32);
	}
	assert_memory_equal(hash, want_hash, 32);
	memcpy(want, "idw-proof-v1", 13); /* with its NUL */
	n = 13;
	memcpy(want + n, vid, 16);
	n += 16;
	memcpy(want + n, ch, 32);
	n += 32;
	memcpy(want + n, "resume", 7);
	n += 7;
	memcpy(want + n, hash, 32);
	n += 32;
	assert_int_equal(proof_message(msg, vid, ch, "resume", hash), n);
	assert_memory_equal(msg, want, n);
	/* No verb, or one too long to be a verb: no message. */
	assert_int_equal(proof_message(msg, vid, ch, "", hash), 0);
	assert_int_equal(
		proof_message(msg, vid, ch,
			      "a_verb_name_that_is_far_too_long_to_be_one",
			      hash),
		0);
	cJSON_Delete(req);
}

static void test_key_json(void **state)
{
	struct proof_key k, back;
	char why[200];
	cJSON *o;

	(void)state;
	memset(&k, 0, sizeof(k));
	hex_to(pk_hex, k.pk, sizeof(k.pk));
	memset(k.salt, 0xab, sizeof(k.salt));
	k.opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
	k.memlimit = crypto_pwhash_MEMLIMIT_MODERATE;
	o = proof_key_to_json(&k);
	assert_non_null(o);
	assert_int_equal(proof_key_from_json(o, &back, why, sizeof(why)), 0);
	assert_memory_equal(&k, &back, sizeof(k));
	cJSON_Delete(o);

	static const char *const bad[] = {
		"[]",
		"{\"salt\":\"abababababababababababababababab\","
		"\"opslimit\":3,\"memlimit\":268435456}",
		/* pk one byte short */
		"{\"pk\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af02"
		"1a68f70751\",\"salt\":\"abababababababababababababababab\","
		"\"opslimit\":3,\"memlimit\":268435456}",
		/* salt not hex */
		"{\"pk\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af02"
		"1a68f707511a\",\"salt\":\"zbababababababababababababababab\","
		"\"opslimit\":3,\"memlimit\":268435456}",
		/* cost above SENSITIVE */
		"{\"pk\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af02"
		"1a68f707511a\",\"salt\":\"abababababababababababababababab\","
		"\"opslimit\":5,\"memlimit\":268435456}",
		"{\"pk\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af02"
		"1a68f707511a\",\"salt\":\"abababababababababababababababab\","
		"\"opslimit\":3,\"memlimit\":2147483648}",
		/* below the minimum, fractional, of another type */
		"{\"pk\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af02"
		"1a68f707511a\",\"salt\":\"abababababababababababababababab\","
		"\"opslimit\":0,\"memlimit\":268435456}",
		"{\"pk\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af02"
		"1a68f707511a\",\"salt\":\"abababababababababababababababab\","
		"\"opslimit\":2.5,\"memlimit\":268435456}",
		"{\"pk\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af02"
		"1a68f707511a\",\"salt\":\"abababababababababababababababab\","
		"\"opslimit\":\"3\",\"memlimit\":268435456}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = cJSON_Parse(bad[i]);
		assert_non_null(o);
		why[0] = '\0';
		if (proof_key_from_json(o, &back, why, sizeof(why)) !=
		    IDW_EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_true(why[0] != '\0');
		cJSON_Delete(o);
	}
}

/* The known seed signs; the agent's check accepts; the gate is open. */
static void test_known_seed_verifies(void **state)
{
	struct fx *f = *state;
	struct proof_key k;
	uint64_t rel = 1;
	cJSON *req;

	assert_int_equal(proof_key_load(&f->a, &k), 0);
	{
		uint8_t want[32];

		hex_to(pk_hex, want, sizeof(want));
		assert_memory_equal(k.pk, want, 32);
	}
	req = resume_req(f, "pp_0123456789abcdef", NOW);
	assert_int_equal(check(f, req, "resume", NULL, 0, NOW + 10, &rel), 0);
	assert_int_equal(rel, 0);
	assert_int_equal(f->a.proof.failures, 0);
	/* The challenge is spent. */
	assert_int_equal(f->p.challenge.expires_ms, 0);
	cJSON_Delete(req);
}

/* Each way of getting it wrong fails, and the challenge is spent. */
static void test_each_failure(void **state)
{
	struct fx *f = *state;
	uint8_t other[32];
	uint64_t rel, now = NOW;
	cJSON *req, *id;

#define EXPECT_FAIL(req, verb, sec, slen, at)                                  \
	do {                                                                   \
		f->a.proof.open_ms = 0;                                        \
		assert_int_equal(                                              \
			check(f, (req), (verb), (sec), (slen), (at), &rel),    \
			IDW_EPROOF);                                           \
		assert_true(rel > (at));                                       \
		assert_int_equal(f->p.challenge.expires_ms, 0);                \
		cJSON_Delete(req);                                             \
	} while (0)

	/* Signed for another verb. */
	req = cJSON_Parse(
		"{\"verb\":\"resume\",\"id\":\"pp_0123456789abcdef\"}");
	proof_challenge_issue(&f->p.challenge, "resume", now);
	sign_req(f, req, f->seed, f->p.challenge.nonce, "edit", NULL, 0);
	EXPECT_FAIL(req, "resume", NULL, 0, now);

	/* A challenge asked for another verb. */
	req = cJSON_Parse(
		"{\"verb\":\"resume\",\"id\":\"pp_0123456789abcdef\"}");
	proof_challenge_issue(&f->p.challenge, "approve", now);
	sign_req(f, req, f->seed, f->p.challenge.nonce, "resume", NULL, 0);
	EXPECT_FAIL(req, "resume", NULL, 0, now);

	/* A field of the request altered after signing. */
	req = resume_req(f, "pp_0123456789abcdef", now);
	id = cJSON_CreateString("pp_fedcba9876543210");
	cJSON_ReplaceItemInObjectCaseSensitive(req, "id", id);
	EXPECT_FAIL(req, "resume", NULL, 0, now);

	/* A field added after signing. */
	req = resume_req(f, "pp_0123456789abcdef", now);
	cJSON_AddStringToObject(req, "extra", "x");
	EXPECT_FAIL(req, "resume", NULL, 0, now);

	/* The secret segment altered, added or dropped. */
	req = cJSON_Parse(
		"{\"verb\":\"resume\",\"id\":\"pp_0123456789abcdef\"}");
	proof_challenge_issue(&f->p.challenge, "resume", now);
	sign_req(f, req, f->seed, f->p.challenge.nonce, "resume", "secret-A",
		 8);
	EXPECT_FAIL(req, "resume", "secret-B", 8, now);
	req = resume_req(f, "pp_0123456789abcdef", now);
	EXPECT_FAIL(req, "resume", "x", 1, now);
	req = cJSON_Parse(
		"{\"verb\":\"resume\",\"id\":\"pp_0123456789abcdef\"}");
	proof_challenge_issue(&f->p.challenge, "resume", now);
	sign_req(f, req, f->seed, f->p.challenge.nonce, "resume", "secret-A",
		 8);
	EXPECT_FAIL(req, "resume", NULL, 0, now);

	/* Expired: 60 s after it was given. */
	req = resume_req(f, "pp_0123456789abcdef", now);
	EXPECT_FAIL(req, "resume", NULL, 0, now + PROOF_TTL_MS);
	req = resume_req(f, "pp_0123456789abcdef", now);
	f->a.proof.open_ms = 0;
	assert_int_equal(
		check(f, req, "resume", NULL, 0, now + PROOF_TTL_MS - 1, &rel),
		0);
	cJSON_Delete(req);

	/* Reused: the same proof a second time. */
	req = resume_req(f, "pp_0123456789abcdef", now);
	{
		cJSON *copy = cJSON_Duplicate(req, 1);

		assert_int_equal(check(f, req, "resume", NULL, 0, now, &rel),
				 0);
		cJSON_Delete(req);
		EXPECT_FAIL(copy, "resume", NULL, 0, now);
	}

	/* Another key. */
	memset(other, 0x42, sizeof(other));
	req = cJSON_Parse(
		"{\"verb\":\"resume\",\"id\":\"pp_0123456789abcdef\"}");
	proof_challenge_issue(&f->p.challenge, "resume", now);
	sign_req(f, req, other, f->p.challenge.nonce, "resume", NULL, 0);
	EXPECT_FAIL(req, "resume", NULL, 0, now);

	/* Another challenge than the one outstanding. */
	req = resume_req(f, "pp_0123456789abcdef", now);
	proof_challenge_issue(&f->p.challenge, "resume", now);
	EXPECT_FAIL(req, "resume", NULL, 0, now);

	/* No challenge at all, no proof, a malformed proof. */
	req = resume_req(f, "pp_0123456789abcdef", now);
	memset(&f->p.challenge, 0, sizeof(f->p.challenge));
	EXPECT_FAIL(req, "resume", NULL, 0, now);
	req = cJSON_Parse(
		"{\"verb\":\"resume\",\"id\":\"pp_0123456789abcdef\"}");
	proof_challenge_issue(&f->p.challenge, "resume", now);
	EXPECT_FAIL(req, "resume", NULL, 0, now);
	req = cJSON_Parse("{\"verb\":\"resume\",\"id\":\"pp_0123456789abcdef\","
			  "\"proof\":{\"challenge\":\"00\",\"signature\":1}}");
	proof_challenge_issue(&f->p.challenge, "resume", now);
	EXPECT_FAIL(req, "resume", NULL, 0, now);
#undef EXPECT_FAIL
}

/* 250 ms, doubling, capped at 30 s; held, not checked; reset by a pass. */
static void test_delay_doubles_and_resets(void **state)
{
	struct fx *f = *state;
	uint64_t rel, now = NOW, want = PROOF_DELAY_FIRST_MS;
	cJSON *req;

	for (int i = 0; i < 12; i++) {
		req = cJSON_Parse("{\"verb\":\"resume\",\"id\":\"pp_0\"}");
		proof_challenge_issue(&f->p.challenge, "resume", now);
		assert_int_equal(check(f, req, "resume", NULL, 0, now, &rel),
				 IDW_EPROOF);
		assert_int_equal(rel - now, want);
		cJSON_Delete(req);
		/* Meanwhile even a good proof is refused, unchecked, and
		 * held as long; it counts as no failure. */
		req = resume_req(f, "pp_0", now + 1);
		assert_int_equal(
			check(f, req, "resume", NULL, 0, now + 1, &rel),
			IDW_EPROOF);
		assert_int_equal(rel, now + want);
		assert_int_equal(f->a.proof.failures, (unsigned)i + 1);
		cJSON_Delete(req);
		now += want;
		want = want * 2 > PROOF_DELAY_MAX_MS ? PROOF_DELAY_MAX_MS
						     : want * 2;
	}
	assert_int_equal(want, PROOF_DELAY_MAX_MS);
	/* The gate is open again: a correct proof passes and resets. */
	req = resume_req(f, "pp_0", now);
	assert_int_equal(check(f, req, "resume", NULL, 0, now, &rel), 0);
	assert_int_equal(rel, 0);
	assert_int_equal(f->a.proof.failures, 0);
	cJSON_Delete(req);
	req = cJSON_Parse("{\"verb\":\"resume\",\"id\":\"pp_0\"}");
	proof_challenge_issue(&f->p.challenge, "resume", now);
	assert_int_equal(check(f, req, "resume", NULL, 0, now, &rel),
			 IDW_EPROOF);
	assert_int_equal(rel - now, PROOF_DELAY_FIRST_MS);
	cJSON_Delete(req);
}

/* The challenge verb, through dispatch. */
static void test_challenge_verb(void **state)
{
	struct fx *f = *state;
	uint8_t nonce[32], first[32], salt[16], vid[16];
	const cJSON *o;

	o = call(f, "{\"verb\":\"challenge\",\"for\":\"resume\"}");
	expect_code(f, "ok");
	hex_to(idw_json_str(o, "challenge"), nonce, sizeof(nonce));
	hex_to(idw_json_str(o, "salt"), salt, sizeof(salt));
	hex_to(idw_json_str(o, "vault_id"), vid, sizeof(vid));
	assert_memory_equal(vid, idw_vault_id(f->a.vault), 16);
	assert_int_equal(idw_json_int(o, "opslimit", 0),
			 crypto_pwhash_OPSLIMIT_MIN);
	assert_int_equal(idw_json_int(o, "memlimit", 0),
			 crypto_pwhash_MEMLIMIT_MIN);
	assert_int_equal(idw_json_int(o, "expires_in", 0), 60);
	/* The verifier itself is never handed out. */
	assert_null(cJSON_GetObjectItem(o, "pk"));
	assert_memory_equal(f->p.challenge.nonce, nonce, 32);
	assert_string_equal(f->p.challenge.verb, "resume");
	assert_true(f->p.challenge.expires_ms > idw_boot_ms());
	/* A new one replaces the old. */
	memcpy(first, nonce, sizeof(first));
	o = call(f, "{\"verb\":\"challenge\",\"for\":\"resume\"}");
	hex_to(idw_json_str(o, "challenge"), nonce, sizeof(nonce));
	assert_memory_not_equal(first, nonce, 32);
	assert_memory_equal(f->p.challenge.nonce, nonce, 32);

	call(f, "{\"verb\":\"challenge\"}");
	expect_code(f, "usage");
	call(f, "{\"verb\":\"challenge\",\"for\":\"list\"}");
	expect_code(f, "usage");
	expect_message(f, "no person proof");
	call(f, "{\"verb\":\"challenge\",\"for\":\"nope\"}");
	expect_code(f, "usage");
	call(f, "{\"verb\":\"lock\"}");
	call(f, "{\"verb\":\"challenge\",\"for\":\"resume\"}");
	expect_code(f, "locked");
}

static void test_no_key_no_proof(void **state)
{
	struct fx *f = *state;
	char id[20], buf[200];
	uint64_t rel;
	cJSON *req;

	call(f, "{\"verb\":\"challenge\",\"for\":\"resume\"}");
	expect_code(f, "proof_failed");
	expect_message(f, "no person-proof key");
	suspended(f, id);
	req = resume_req(f, id, NOW);
	assert_int_equal(check(f, req, "resume", NULL, 0, NOW, &rel),
			 IDW_EPROOF);
	cJSON_Delete(req);
	f->a.proof.open_ms = 0;
	snprintf(buf, sizeof(buf), "{\"verb\":\"resume\",\"id\":\"%s\"}", id);
	call(f, buf);
	expect_code(f, "proof_failed");
	assert_string_equal(status_of(f, id), "suspended");
}

/* resume over dispatch: refused without proof, done with it. */
static void test_resume_through_dispatch(void **state)
{
	struct fx *f = *state;
	char id[20], buf[200], *txt;
	uint64_t before;
	const cJSON *o;
	cJSON *req;

	suspended(f, id);
	snprintf(buf, sizeof(buf), "{\"verb\":\"resume\",\"id\":\"%s\"}", id);
	before = idw_boot_ms();
	call(f, buf);
	expect_code(f, "proof_failed");
	expect_message(f, "needs person proof");
	assert_true(f->rep.release_ms >= before + PROOF_DELAY_FIRST_MS);
	assert_string_equal(status_of(f, id), "suspended");
	/* The failure was audited, without anything secret. */
	o = call(f, "{\"verb\":\"audit\",\"limit\":1}");
	expect_code(f, "ok");
	o = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "entries"), 0);
	assert_string_equal(idw_json_str(o, "action"), "proof");
	assert_string_equal(idw_json_str(o, "result"), "failed");

	/* With a proof, once the earlier failure's answer has gone. */
	f->a.proof.open_ms = 0;
	o = call(f, "{\"verb\":\"challenge\",\"for\":\"resume\"}");
	expect_code(f, "ok");
	req = cJSON_Parse(buf);
	sign_req(f, req, f->seed, f->p.challenge.nonce, "resume", NULL, 0);
	txt = cJSON_PrintUnformatted(req);
	call(f, txt);
	expect_code(f, "ok");
	assert_int_equal(f->rep.release_ms, 0);
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(f->rep.json, "passport"),
			     "status"),
		"active");
	/* Replayed as it was: the challenge is gone. */
	call(f, txt);
	expect_code(f, "proof_failed");
	cJSON_free(txt);
	cJSON_Delete(req);
}

/*
 * The CLI's signer against the agent's checker: init with the CLI's
 * proof key, then a request whose text needs escaping both ways.
 */
static void test_cli_signs_agent_verifies(void **state)
{
	struct fx *f = *state;
	uint8_t nonce[32], salt[16], vid[16], sig[64];
	char hn[65], hs[129], *txt;
	uint64_t rel;
	cJSON *init, *pk, *o, *req, *p;

	init = cJSON_Parse("{\"verb\":\"init\",\"kdf\":\"interactive\"}");
	pk = cli_proof_key((const uint8_t *)PASS, PASSLEN, "interactive");
	assert_non_null(pk);
	assert_int_equal(idw_json_int(pk, "opslimit", 0),
			 crypto_pwhash_OPSLIMIT_INTERACTIVE);
	cJSON_AddItemToObject(init, "proof_key", pk);
	txt = cJSON_PrintUnformatted(init);
	call_n(f, txt, PASS, PASSLEN, true);
	cJSON_free(txt);
	cJSON_Delete(init);
	expect_code(f, "ok");

	o = call(f, "{\"verb\":\"challenge\",\"for\":\"resume\"}");
	expect_code(f, "ok");
	hex_to(idw_json_str(o, "challenge"), nonce, sizeof(nonce));
	hex_to(idw_json_str(o, "salt"), salt, sizeof(salt));
	hex_to(idw_json_str(o, "vault_id"), vid, sizeof(vid));
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "verb", "resume");
	cJSON_AddStringToObject(req, "id", "pp_0123456789abcdef");
	cJSON_AddStringToObject(
		req, "note",
		"caf\xc3\xa9 \"quoted\" \\ / \n\t\x01 \xe2\x80\xae");
	cJSON_AddNumberToObject(req, "n", 0.1);
	cJSON_AddNumberToObject(req, "big", 1e300);
	assert_int_equal(
		cli_proof_sign((const uint8_t *)PASS, PASSLEN, salt,
			       (uint64_t)idw_json_int(o, "opslimit", 0),
			       (uint64_t)idw_json_int(o, "memlimit", 0), vid,
			       nonce, "resume", req, (const uint8_t *)"seg", 3,
			       sig),
		0);
	sodium_bin2hex(hn, sizeof(hn), nonce, 32);
	sodium_bin2hex(hs, sizeof(hs), sig, 64);
	p = cJSON_AddObjectToObject(req, "proof");
	cJSON_AddStringToObject(p, "challenge", hn);
	cJSON_AddStringToObject(p, "signature", hs);
	/* What travels is text: the agent parses it again. */
	txt = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	req = idw_json_parse(txt, strlen(txt));
	assert_non_null(req);
	assert_int_equal(check(f, req, "resume", "seg", 3, idw_boot_ms(), &rel),
			 0);
	cJSON_Delete(req);

	/* A wrong passphrase makes a key the agent does not know. */
	o = call(f, "{\"verb\":\"challenge\",\"for\":\"resume\"}");
	hex_to(idw_json_str(o, "challenge"), nonce, sizeof(nonce));
	req = cJSON_Parse(
		"{\"verb\":\"resume\",\"id\":\"pp_0123456789abcdef\"}");
	assert_int_equal(cli_proof_sign((const uint8_t *)"not the passphrase",
					18, salt,
					crypto_pwhash_OPSLIMIT_INTERACTIVE,
					crypto_pwhash_MEMLIMIT_INTERACTIVE, vid,
					nonce, "resume", req, NULL, 0, sig),
			 0);
	sodium_bin2hex(hs, sizeof(hs), sig, 64);
	sodium_bin2hex(hn, sizeof(hn), nonce, 32);
	p = cJSON_AddObjectToObject(req, "proof");
	cJSON_AddStringToObject(p, "challenge", hn);
	cJSON_AddStringToObject(p, "signature", hs);
	assert_int_equal(check(f, req, "resume", NULL, 0, idw_boot_ms(), &rel),
			 IDW_EPROOF);
	cJSON_Delete(req);
	cJSON_free(txt);

	/* The signer refuses a cost beyond SENSITIVE, and no verb. */
	req = cJSON_Parse("{}");
	assert_int_equal(cli_proof_sign((const uint8_t *)PASS, PASSLEN, salt,
					crypto_pwhash_OPSLIMIT_SENSITIVE + 1,
					crypto_pwhash_MEMLIMIT_MIN, vid, nonce,
					"resume", req, NULL, 0, sig),
			 IDW_EINVAL);
	assert_int_equal(cli_proof_sign((const uint8_t *)PASS, PASSLEN, salt,
					crypto_pwhash_OPSLIMIT_MIN,
					crypto_pwhash_MEMLIMIT_MIN, vid, nonce,
					"", req, NULL, 0, sig),
			 IDW_EINVAL);
	cJSON_Delete(req);
}

/* init checks the proof key before it writes anything. */
static void test_init_checks_the_key(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"{\"verb\":\"init\",\"kdf\":\"interactive\",\"proof_key\":7}",
		"{\"verb\":\"init\",\"kdf\":\"interactive\",\"proof_key\":{}}",
		/* cheaper than the passphrase slot */
		"{\"verb\":\"init\",\"kdf\":\"interactive\",\"proof_key\":{"
		"\"pk\":"
		"\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68"
		"f707511a\",\"salt\":\"abababababababababababababababab\","
		"\"opslimit\":1,\"memlimit\":8192}}",
		"{\"verb\":\"init\",\"kdf\":\"moderate\",\"proof_key\":{"
		"\"pk\":"
		"\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68"
		"f707511a\",\"salt\":\"abababababababababababababababab\","
		"\"opslimit\":2,\"memlimit\":67108864}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		call_n(f, bad[i], PASS, PASSLEN, true);
		expect_code(f, "usage");
		expect_message(f, "proof_key");
		assert_false(idw_vault_initialized(f->a.vault));
	}
	call_n(f,
	       "{\"verb\":\"init\",\"kdf\":\"interactive\",\"proof_key\":{"
	       "\"pk\":\"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a"
	       "68f707511a\",\"salt\":\"abababababababababababababababab\","
	       "\"opslimit\":2,\"memlimit\":67108864}}",
	       PASS, PASSLEN, true);
	expect_code(f, "ok");
	{
		struct store_item *it =
			store_find(&f->a.store, "config", PROOF_CONFIG_ID);

		assert_non_null(it);
		/* Metadata only. */
		assert_null(it->value);
		assert_string_equal(idw_json_str(it->meta, "pk"), pk_hex);
	}
	/* And it survives a lock and an unlock (the journal replays). */
	call(f, "{\"verb\":\"lock\"}");
	call_n(f, "{\"verb\":\"unlock\"}", PASS, PASSLEN, true);
	expect_code(f, "ok");
	call(f, "{\"verb\":\"challenge\",\"for\":\"resume\"}");
	expect_code(f, "ok");
	assert_string_equal(idw_json_str(f->rep.json, "salt"),
			    "abababababababababababababababab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_needs_proof_or_exempt),
		cmocka_unit_test(test_message_layout),
		cmocka_unit_test(test_key_json),
		cmocka_unit_test_setup_teardown(test_known_seed_verifies,
						setup_init, teardown),
		cmocka_unit_test_setup_teardown(test_each_failure, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(test_delay_doubles_and_resets,
						setup_init, teardown),
		cmocka_unit_test_setup_teardown(test_challenge_verb, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(test_no_key_no_proof,
						setup_init_nokey, teardown),
		cmocka_unit_test_setup_teardown(test_resume_through_dispatch,
						setup_init, teardown),
		cmocka_unit_test_setup_teardown(test_cli_signs_agent_verifies,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_checks_the_key, setup,
						teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
