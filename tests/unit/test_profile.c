/* SPDX-License-Identifier: ISC */
/*
 * Use without reveal, in the agent: the vault's reveal default (init,
 * config_set, create), run profiles (profile_add, _list, _show,
 * _remove), passport references by path/name, get with via/var/profile
 * (a 'never' passport is served only to the profile that pins its
 * variable) and get_proven (person proof).  The agent is driven through
 * dispatch_request as in test_proof.c; proofs are signed here with a
 * known seed.
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
#include "agentd/ppref.h"
#include "agentd/profile.h"
#include "agentd/proof.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"
#include "sandbox/shield.h"

#define PASS "profile test passphrase"
#define PASSLEN (sizeof(PASS) - 1)

struct fx {
	char dir[64];
	struct agent a;
	struct peer p;
	struct reply rep;
	uint8_t seed[32];
};

static int group_setup(void **state)
{
	return agentfx_group_setup(state);
}

static int setup_open(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (agentfx_open(&f->a, f->dir, sizeof(f->dir),
			 "/tmp/idw-profile-XXXXXX") != 0)
		return -1;
	f->a.locked = true;
	snprintf(f->p.principal, sizeof(f->p.principal), "local");
	f->p.hello_done = true;
	*state = f;
	return 0;
}

/* An initialised vault with a proof key from a known seed. */
static int setup(void **state)
{
	struct fx *f;
	struct agent *a;
	uint8_t key[AUDIT_KEY_LEN], *k, sk[64];
	struct proof_key pk;
	struct store_item *it;
	char why[200];
	size_t n;
	cJSON *meta;

	if (setup_open(state) != 0)
		return -1;
	f = *state;
	a = &f->a;
	if (idw_shield_init() != 0 ||
	    idw_vault_init(a->vault, (const uint8_t *)PASS, PASSLEN,
			   IDW_KDF_MIN) != 0)
		return -1;
	randombytes_buf(key, sizeof(key));
	meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "purpose", "audit log key");
	if (store_put(&a->store, a->vault, "config", "audit_key", meta, key,
		      sizeof(key)) != 0)
		return -1;
	it = store_find(&a->store, "config", "audit_key");
	if (it == NULL || store_open_value(it, &k, &n) != 0)
		return -1;
	if (audit_unlock(&a->audit, k, why, sizeof(why)) != 0)
		return -1;
	idw_arena_free(k);
	a->locked = false;
	randombytes_buf(f->seed, sizeof(f->seed));
	memset(&pk, 0, sizeof(pk));
	if (crypto_sign_seed_keypair(pk.pk, sk, f->seed) != 0)
		return -1;
	sodium_memzero(sk, sizeof(sk));
	memset(pk.salt, 0x5a, sizeof(pk.salt));
	pk.opslimit = crypto_pwhash_OPSLIMIT_MIN;
	pk.memlimit = crypto_pwhash_MEMLIMIT_MIN;
	return proof_key_store(a, &pk) != 0 ? -1 : 0;
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

/* json with a fresh challenge for its verb, signed by the fixture's seed. */
static cJSON *proven(struct fx *f, const char *json)
{
	uint8_t hash[PROOF_HASH_LEN], msg[PROOF_MSG_MAX], sig[PROOF_SIG_LEN];
	uint8_t pk[32], sk[64];
	char hn[2 * PROOF_CHALLENGE_LEN + 1], hs[2 * PROOF_SIG_LEN + 1];
	cJSON *req = cJSON_Parse(json), *p = cJSON_CreateObject();
	const char *verb;
	char *text;
	size_t n;

	assert_non_null(req);
	verb = idw_json_str(req, "verb");
	proof_challenge_issue(&f->p.challenge, verb, idw_boot_ms());
	assert_int_equal(proof_request_hash(req, NULL, 0, hash), 0);
	n = proof_message(msg, idw_vault_id(f->a.vault), f->p.challenge.nonce,
			  verb, hash);
	assert_true(n > 0);
	assert_int_equal(crypto_sign_seed_keypair(pk, sk, f->seed), 0);
	assert_int_equal(crypto_sign_detached(sig, NULL, msg, n, sk), 0);
	sodium_bin2hex(hn, sizeof(hn), f->p.challenge.nonce,
		       PROOF_CHALLENGE_LEN);
	sodium_bin2hex(hs, sizeof(hs), sig, sizeof(sig));
	cJSON_AddStringToObject(p, "challenge", hn);
	cJSON_AddStringToObject(p, "signature", hs);
	cJSON_AddItemToObject(req, "proof", p);
	text = cJSON_PrintUnformatted(req);
	cJSON_Delete(req);
	call(f, text);
	cJSON_free(text);
	return f->rep.json;
}

#define code(f) agentfx_code(&(f)->rep)
#define expect_code(f, want) agentfx_expect_code(&(f)->rep, want)
#define expect_message(f, part) agentfx_expect_message(&(f)->rep, part)

/* A passport; its id into id (20 bytes). */
static void create(struct fx *f, const char *extra, const char *value,
		   char id[20])
{
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"create\",\"name\":\"n\",\"credential_type\":"
		 "\"api-key\",\"human_owner\":\"alice\"%s}",
		 extra);
	call_n(f, buf, value, strlen(value), true);
	expect_code(f, "ok");
	memcpy(id, idw_json_str(f->rep.json, "id"), 20);
}

static const char *reveal_of(struct fx *f, const char *id)
{
	char buf[200];

	snprintf(buf, sizeof(buf), "{\"verb\":\"show\",\"id\":\"%s\"}", id);
	call(f, buf);
	expect_code(f, "ok");
	return idw_json_str(cJSON_GetObjectItem(f->rep.json, "passport"),
			    "reveal");
}

static void expect_secret(struct fx *f, const char *want)
{
	expect_code(f, "ok");
	assert_true(f->rep.has_secret);
	assert_int_equal(f->rep.secret_len, strlen(want));
	assert_memory_equal(f->rep.secret, want, strlen(want));
}

/* ------------------------------------------------------------------ */

static void test_reveal_default_setting(void **state)
{
	struct fx *f = *state;
	char a[20], b[20], c[20];

	create(f, "", "v1", a);
	assert_string_equal(reveal_of(f, a), "model");
	call(f, "{\"verb\":\"config_get\",\"key\":\"reveal.default\"}");
	expect_code(f, "ok");
	assert_string_equal(idw_json_str(f->rep.json, "value"), "model");
	/* Changing it takes proof, and only model or never. */
	call(f, "{\"verb\":\"config_set\",\"key\":\"reveal.default\","
		"\"value\":\"never\"}");
	expect_code(f, "proof_failed");
	f->a.proof.failures = 0;
	f->a.proof.open_ms = 0;
	proven(f, "{\"verb\":\"config_set\",\"key\":\"reveal.default\","
		  "\"value\":\"sometimes\"}");
	expect_code(f, "usage");
	proven(f, "{\"verb\":\"config_set\",\"key\":\"reveal.default\","
		  "\"value\":\"never\"}");
	expect_code(f, "ok");
	create(f, "", "v2", b);
	assert_string_equal(reveal_of(f, b), "never");
	/* Named, it wins over the default. */
	create(f, ",\"reveal\":\"model\"", "v3", c);
	assert_string_equal(reveal_of(f, c), "model");
	assert_string_equal(reveal_of(f, a), "model");
	call(f, "{\"verb\":\"config_get\"}");
	expect_code(f, "ok");
	assert_true(cJSON_GetArraySize(
			    cJSON_GetObjectItem(f->rep.json, "settings")) >= 3);
}

static void test_init_reveal_default(void **state)
{
	struct fx *f = *state;
	char id[20];

	call_n(f,
	       "{\"verb\":\"init\",\"kdf\":\"interactive\","
	       "\"reveal_default\":\"always\"}",
	       PASS, PASSLEN, true);
	expect_code(f, "usage");
	assert_false(idw_vault_initialized(f->a.vault));
	call_n(f,
	       "{\"verb\":\"init\",\"kdf\":\"interactive\","
	       "\"reveal_default\":\"never\"}",
	       PASS, PASSLEN, true);
	expect_code(f, "ok");
	call(f, "{\"verb\":\"config_get\",\"key\":\"reveal.default\"}");
	expect_code(f, "ok");
	assert_string_equal(idw_json_str(f->rep.json, "value"), "never");
	create(f, "", "value", id);
	assert_string_equal(reveal_of(f, id), "never");
}

static void test_never_refused_without_profile(void **state)
{
	struct fx *f = *state;
	char id[20], buf[300];

	create(f, ",\"reveal\":\"never\"", "s3cr3t", id);
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", id);
	call(f, buf);
	expect_code(f, "denied");
	assert_false(f->rep.has_secret);
	assert_string_equal(idw_json_str(f->rep.json, "reveal"), "never");
	assert_string_equal(idw_json_str(f->rep.json, "passport_id"), id);
	expect_message(f, "idw profile add");
	expect_message(f, "idw run --profile");
	/* Ad hoc idw run: via and var do not open it either. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\","
		 "\"via\":\"run\",\"var\":\"TOKEN\"}",
		 id);
	call(f, buf);
	expect_code(f, "denied");
	/* check_policy says which way to go. */
	snprintf(buf, sizeof(buf), "{\"verb\":\"check_policy\",\"id\":\"%s\"}",
		 id);
	call(f, buf);
	expect_code(f, "ok");
	assert_string_equal(idw_json_str(f->rep.json, "reveal"), "never");
}

static void add_profile(struct fx *f, const char *name, const char *env)
{
	char buf[1400];

	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"profile_add\",\"name\":\"%s\",\"program\":"
		 "\"/usr/bin/env\",\"args\":[\"-0\",\"x y\"],\"env\":%s}",
		 name, env);
	proven(f, buf);
}

static void test_profile_serves_never(void **state)
{
	struct fx *f = *state;
	char never[20], other[20], buf[600];

	create(f, ",\"reveal\":\"never\"", "s3cr3t", never);
	create(f, "", "plain", other);
	snprintf(buf, sizeof(buf), "{\"TOKEN\":\"%s\",\"OTHER\":\"%s\"}", never,
		 other);
	add_profile(f, "gh", buf);
	expect_code(f, "ok");
	assert_false(idw_json_bool(f->rep.json, "replaced", true));
	/* The right variable of the right profile. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\","
		 "\"via\":\"run\",\"var\":\"TOKEN\",\"profile\":\"gh\"}",
		 never);
	call(f, buf);
	expect_secret(f, "s3cr3t");
	/* Another variable of the profile: pinned to another passport. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\","
		 "\"via\":\"run\",\"var\":\"OTHER\",\"profile\":\"gh\"}",
		 never);
	call(f, buf);
	expect_code(f, "denied");
	expect_message(f, "does not pin OTHER");
	/* A variable the profile does not have. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\","
		 "\"via\":\"run\",\"var\":\"NOPE\",\"profile\":\"gh\"}",
		 never);
	call(f, buf);
	expect_code(f, "denied");
	/* A profile that does not exist. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\","
		 "\"via\":\"run\",\"var\":\"TOKEN\",\"profile\":\"nope\"}",
		 never);
	call(f, buf);
	expect_code(f, "denied");
	expect_message(f, "no profile nope");
	/* profile without var is malformed. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\","
		 "\"profile\":\"gh\"}",
		 never);
	call(f, buf);
	expect_code(f, "usage");
	/* The model passport through its own variable. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\","
		 "\"via\":\"run\",\"var\":\"OTHER\",\"profile\":\"gh\"}",
		 other);
	call(f, buf);
	expect_secret(f, "plain");
	/* The audit entry says how the value left; it never holds it. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"audit\",\"id\":\"%s\",\"result\":\"allowed\"}",
		 never);
	call(f, buf);
	expect_code(f, "ok");
	{
		cJSON *e = cJSON_GetArrayItem(
			cJSON_GetObjectItem(f->rep.json, "entries"), 0);
		const char *reason = idw_json_str(e, "reason");
		char *all = cJSON_PrintUnformatted(f->rep.json);

		assert_non_null(reason);
		assert_non_null(strstr(reason, "via run"));
		assert_non_null(strstr(reason, "var TOKEN"));
		assert_non_null(strstr(reason, "profile gh"));
		assert_null(strstr(all, "s3cr3t"));
		cJSON_free(all);
	}
	/* Removed, it serves nothing. */
	call(f, "{\"verb\":\"profile_remove\",\"name\":\"gh\"}");
	expect_code(f, "proof_failed");
	f->a.proof.failures = 0;
	f->a.proof.open_ms = 0;
	proven(f, "{\"verb\":\"profile_remove\",\"name\":\"gh\"}");
	expect_code(f, "ok");
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\","
		 "\"via\":\"run\",\"var\":\"TOKEN\",\"profile\":\"gh\"}",
		 never);
	call(f, buf);
	expect_code(f, "denied");
	proven(f, "{\"verb\":\"profile_remove\",\"name\":\"gh\"}");
	expect_code(f, "not_found");
}

static void test_profile_add_checks(void **state)
{
	struct fx *f = *state;
	char id[20], env[200];

	create(f, ",\"path\":\"prod/gh\"", "v", id);
	snprintf(env, sizeof(env), "{\"TOKEN\":\"%s\"}", id);
	/* No proof, no profile. */
	call(f, "{\"verb\":\"profile_add\",\"name\":\"p\",\"program\":"
		"\"/bin/true\"}");
	expect_code(f, "proof_failed");
	f->a.proof.failures = 0;
	f->a.proof.open_ms = 0;
	call(f, "{\"verb\":\"profile_list\"}");
	expect_code(f, "ok");
	assert_int_equal(cJSON_GetArraySize(
				 cJSON_GetObjectItem(f->rep.json, "profiles")),
			 0);
	add_profile(f, "bad/name", env);
	expect_code(f, "usage");
	add_profile(f, "", env);
	expect_code(f, "usage");
	proven(f, "{\"verb\":\"profile_add\",\"name\":\"p\",\"program\":"
		  "\"env\"}");
	expect_code(f, "usage");
	expect_message(f, "absolute");
	add_profile(f, "p", "{\"IDW_PASSPHRASE\":\"prod/gh/n\"}");
	expect_code(f, "usage");
	add_profile(f, "p", "{\"1X\":\"prod/gh/n\"}");
	expect_code(f, "usage");
	add_profile(f, "p", "{\"A\":\"pp_0000000000000000\"}");
	expect_code(f, "not_found");
	add_profile(f, "p", "{\"A\":\"prod/gh/none\"}");
	expect_code(f, "not_found");
	/* path/name is resolved to the id at add time. */
	add_profile(f, "p", "{\"A\":\"prod/gh/n\"}");
	expect_code(f, "ok");
	assert_string_equal(
		idw_json_str(
			cJSON_GetObjectItem(
				cJSON_GetObjectItem(f->rep.json, "profile"),
				"env"),
			"A"),
		id);
	add_profile(f, "p", env);
	expect_code(f, "exists");
	expect_message(f, "--replace");
	proven(f, "{\"verb\":\"profile_add\",\"name\":\"p\",\"program\":"
		  "\"/bin/true\",\"replace\":true}");
	expect_code(f, "ok");
	assert_true(idw_json_bool(f->rep.json, "replaced", false));
	call(f, "{\"verb\":\"profile_show\",\"name\":\"p\"}");
	expect_code(f, "ok");
	{
		cJSON *p = cJSON_GetObjectItem(f->rep.json, "profile");

		assert_string_equal(idw_json_str(p, "program"), "/bin/true");
		assert_int_equal(
			cJSON_GetArraySize(cJSON_GetObjectItem(p, "env")), 0);
	}
	call(f, "{\"verb\":\"profile_show\",\"name\":\"q\"}");
	expect_code(f, "not_found");
}

static void test_profile_list_show(void **state)
{
	struct fx *f = *state;
	char id[20], env[200];
	cJSON *arr, *p, *v;

	create(f, ",\"reveal\":\"never\",\"path\":\"ci\"", "v", id);
	snprintf(env, sizeof(env), "{\"TOKEN\":\"%s\"}", id);
	add_profile(f, "zeta", env);
	expect_code(f, "ok");
	add_profile(f, "alpha", "{}");
	expect_code(f, "ok");
	call(f, "{\"verb\":\"profile_list\"}");
	expect_code(f, "ok");
	arr = cJSON_GetObjectItem(f->rep.json, "profiles");
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(arr, 0), "name"),
			    "alpha");
	p = cJSON_GetArrayItem(arr, 1);
	assert_string_equal(idw_json_str(p, "name"), "zeta");
	assert_string_equal(idw_json_str(p, "program"), "/usr/bin/env");
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItem(p, "args"), 1)
			->valuestring,
		"x y");
	v = cJSON_GetArrayItem(cJSON_GetObjectItem(p, "vars"), 0);
	assert_string_equal(idw_json_str(v, "var"), "TOKEN");
	assert_string_equal(idw_json_str(v, "passport"), id);
	assert_string_equal(idw_json_str(v, "reveal"), "never");
	assert_string_equal(idw_json_str(v, "path"), "ci");
	assert_string_equal(idw_json_str(v, "status"), "active");
}

static void test_get_proven(void **state)
{
	struct fx *f = *state;
	char a[20], b[20], buf[400];
	cJSON *arr;

	create(f, ",\"reveal\":\"never\"", "first", a);
	create(f, ",\"reveal\":\"never\",\"path\":\"x\"", "second!", b);
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get_proven\",\"id\":\"%s\",\"purpose\":\"p\","
		 "\"via\":\"cli\"}",
		 a);
	proven(f, buf);
	expect_secret(f, "first");
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(f->rep.json, "passport"),
			     "id"),
		a);
	/* Several in one proof (idw env), one after another. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get_proven\",\"purpose\":\"p\",\"via\":\"env\","
		 "\"items\":[{\"id\":\"%s\",\"var\":\"A\"},{\"id\":\"x/n\","
		 "\"var\":\"B\"}]}",
		 a);
	proven(f, buf);
	expect_secret(f, "firstsecond!");
	arr = cJSON_GetObjectItem(f->rep.json, "passports");
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_int_equal(idw_json_int(cJSON_GetArrayItem(arr, 0), "length", 0),
			 5);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(arr, 1), "id"), b);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(arr, 1), "var"),
			    "B");
	/* A suspended one is still refused: proof opens only reveal. */
	snprintf(buf, sizeof(buf), "{\"verb\":\"suspend\",\"id\":\"%s\"}", b);
	call(f, buf);
	expect_code(f, "ok");
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get_proven\",\"id\":\"%s\",\"purpose\":\"p\"}",
		 b);
	proven(f, buf);
	expect_code(f, "denied");
	assert_false(f->rep.has_secret);
	/* Without proof: nothing. */
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get_proven\",\"id\":\"%s\",\"purpose\":\"p\"}",
		 a);
	call(f, buf);
	expect_code(f, "proof_failed");
	assert_false(f->rep.has_secret);
}

static void test_refs(void **state)
{
	struct fx *f = *state;
	char a[20], b[20], why[300];
	int err;

	create(f, ",\"path\":\"prod/openai\"", "va", a);
	create(f, "", "vb", b);
	assert_string_equal(
		ppref_find(&f->a.store, a, &err, why, sizeof(why))->id, a);
	assert_string_equal(
		ppref_find(&f->a.store, "prod/openai/n", &err, why, sizeof(why))
			->id,
		a);
	/* No path: the name alone. */
	assert_string_equal(
		ppref_find(&f->a.store, "n", &err, why, sizeof(why))->id, b);
	assert_null(ppref_find(&f->a.store, "prod/n", &err, why, sizeof(why)));
	assert_int_equal(err, IDW_ENOENT);
	assert_null(
		ppref_find(&f->a.store, "prod/openai", &err, why, sizeof(why)));
	assert_null(ppref_find(&f->a.store, "", &err, why, sizeof(why)));
	assert_int_equal(err, IDW_EUSAGE);
	create(f, "", "vc", b);
	assert_null(ppref_find(&f->a.store, "n", &err, why, sizeof(why)));
	assert_int_equal(err, IDW_EUSAGE);
	assert_non_null(strstr(why, "2 passports"));
	/* get takes a path/name too. */
	call(f, "{\"verb\":\"get\",\"id\":\"prod/openai/n\",\"purpose\":"
		"\"p\",\"via\":\"cli\"}");
	expect_secret(f, "va");
	call(f, "{\"verb\":\"get\",\"id\":\"n\",\"purpose\":\"p\"}");
	expect_code(f, "usage");
	call(f, "{\"verb\":\"get\",\"id\":\"prod/openai/n\",\"purpose\":"
		"\"p\",\"via\":\"mail\"}");
	expect_code(f, "usage");
}

static void test_names(void **state)
{
	(void)state;
	assert_true(profile_name_valid("github-mcp_1.0"));
	assert_false(profile_name_valid(""));
	assert_false(profile_name_valid("a b"));
	assert_false(profile_name_valid("a/b"));
	assert_false(profile_name_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
					"aaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_true(profile_var_valid("GITHUB_TOKEN"));
	assert_true(profile_var_valid("_x1"));
	assert_false(profile_var_valid("IDW_HOME"));
	assert_false(profile_var_valid("9A"));
	assert_false(profile_var_valid("A-B"));
	assert_false(profile_var_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_reveal_default_setting,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_reveal_default,
						setup_open, teardown),
		cmocka_unit_test_setup_teardown(
			test_never_refused_without_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_serves_never,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_profile_add_checks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_profile_list_show, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_get_proven, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
