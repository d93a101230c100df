/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/dispatch.c and the verbs behind it, on an agent
 * built the way agentd/main.c builds one: paths in a temporary home, the
 * vault and audit log opened, then initialised.  Most tests initialise
 * with IDW_KDF_MIN directly and set up the audit key as verb init does;
 * one goes through verb init itself.
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
#include "agentd/passport.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"
#include "sandbox/shield.h"

#define PASS "dispatch test passphrase"
#define PASSLEN (sizeof(PASS) - 1)
#define VALUE "sk-live-VALUE-c0ffee-1234567890"

struct fx {
	char dir[64];
	struct agent a;
	struct peer p;
	struct reply rep;
};

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
	if (agentfx_open(a, f->dir, sizeof(f->dir),
			 "/tmp/idw-dispatch-XXXXXX") != 0)
		return -1;
	snprintf(f->p.principal, sizeof(f->p.principal), "local");
	snprintf(f->p.claimed_actor, sizeof(f->p.claimed_actor), "tester");
	f->p.hello_done = true;
	*state = f;
	return 0;
}

/* What verb init does, with the fastest KDF. */
static void init_fast(struct fx *f)
{
	struct agent *a = &f->a;
	uint8_t key[AUDIT_KEY_LEN], *k;
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
	assert_int_equal(n, AUDIT_KEY_LEN);
	assert_int_equal(audit_unlock(&a->audit, k, why, sizeof(why)), 0);
	idw_arena_free(k);
	sodium_memzero(key, sizeof(key));
	a->locked = false;
	a->unlock_source = "init";
}

static int setup_init(void **state)
{
	if (setup(state) != 0)
		return -1;
	init_fast(*state);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[300];

	agentfx_reply_free(&f->rep);
	agent_lock(&f->a);
	idw_vault_close(f->a.vault);
	audit_close(&f->a.audit);
	if (f->a.proc_status_fd >= 0)
		close(f->a.proc_status_fd);
	unlink(f->a.vault_path);
	unlink(f->a.audit_path);
	snprintf(path, sizeof(path), "%s/vault.idw.tmp", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Send one request; the reply stays in f->rep until the next call. */
static cJSON *req_n(struct fx *f, const char *json, size_t len,
		    const void *secret, size_t slen, bool has_secret)
{
	agentfx_reply_free(&f->rep);
	dispatch_request(&f->a, &f->p, json, len, secret, slen, has_secret,
			 &f->rep);
	assert_non_null(f->rep.json);
	/* Every reply says whether it worked; a refusal says why. */
	if (!cJSON_IsTrue(cJSON_GetObjectItem(f->rep.json, "ok"))) {
		assert_true(
			cJSON_IsFalse(cJSON_GetObjectItem(f->rep.json, "ok")));
		assert_non_null(idw_json_str(f->rep.json, "code"));
		assert_non_null(idw_json_str(f->rep.json, "message"));
		assert_false(f->rep.has_secret);
		assert_null(f->rep.secret);
	}
	return f->rep.json;
}

static cJSON *req(struct fx *f, const char *json)
{
	return req_n(f, json, strlen(json), NULL, 0, false);
}

static cJSON *req_secret(struct fx *f, const char *json, const char *secret)
{
	return req_n(f, json, strlen(json), secret, strlen(secret), true);
}

static cJSON *reqf(struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static cJSON *reqf(struct fx *f, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return req(f, buf);
}

/* The shared reply checks (agentfx.h), on this file's fixture. */
#define code(f) agentfx_code(&(f)->rep)
#define expect_code(f, want) agentfx_expect_code(&(f)->rep, want)
#define expect_message(f, part) agentfx_expect_message(&(f)->rep, part)

/* The printed reply does not hold s. */
static void not_in_json(struct fx *f, const char *s)
{
	char *txt = cJSON_PrintUnformatted(f->rep.json);

	assert_non_null(txt);
	if (strstr(txt, s) != NULL)
		fail_msg("'%s' found in the reply JSON", s);
	cJSON_free(txt);
}

/* Create a passport; its id into id. */
static void create(struct fx *f, const char *fields, const char *value,
		   char id[20])
{
	char buf[2048];
	const char *got;

	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"create\",\"name\":\"n\","
		 "\"credential_type\":\"api-key\"%s%s}",
		 fields[0] ? "," : "", fields);
	req_secret(f, buf, value);
	expect_code(f, "ok");
	got = idw_json_str(f->rep.json, "id");
	assert_non_null(got);
	assert_true(passport_id_valid(got));
	memcpy(id, got, 20);
}

static const char *passport_status_of(struct fx *f, const char *id)
{
	reqf(f, "{\"verb\":\"show\",\"id\":\"%s\"}", id);
	expect_code(f, "ok");
	return idw_json_str(cJSON_GetObjectItem(f->rep.json, "passport"),
			    "status");
}

static const struct verb_row *row_of(const char *verb)
{
	for (size_t i = 0; i < dispatch_table_len; i++)
		if (strcmp(dispatch_table[i].verb, verb) == 0)
			return &dispatch_table[i];
	return NULL;
}

static void test_table(void **state)
{
	/* Verbs that change the vault or release values or metadata. */
	static const char *const unlocked[] = {
		"create",	  "list",    "show",   "get",
		"revoke",	  "suspend", "resume", "check_policy",
		"request_access", "audit",
	};
	static const char *const secret[] = {"init",   "unlock", "create",
					     "import", "rekey",	 "passwd"};

	(void)state;
	assert_true(dispatch_table_len >= 15);
	for (size_t i = 0; i < dispatch_table_len; i++) {
		const struct verb_row *r = &dispatch_table[i];
		bool takes = false;

		assert_non_null(r->verb);
		assert_true(r->verb[0] != '\0');
		assert_non_null(r->fn);
		for (size_t j = i + 1; j < dispatch_table_len; j++)
			if (strcmp(r->verb, dispatch_table[j].verb) == 0)
				fail_msg("verb '%s' appears twice", r->verb);
		for (size_t j = 0; j < sizeof(secret) / sizeof(secret[0]); j++)
			takes |= strcmp(r->verb, secret[j]) == 0;
		if (takes != !!(r->flags & VERB_TAKES_SECRET))
			fail_msg("verb '%s' %s a secret", r->verb,
				 takes ? "must take" : "must not take");
		/* Locked implies initialised. */
		if ((r->flags & VERB_NEEDS_UNLOCKED) &&
		    !(r->flags & VERB_NEEDS_VAULT))
			fail_msg("verb '%s' needs unlocked but not a vault",
				 r->verb);
	}
	for (size_t j = 0; j < sizeof(unlocked) / sizeof(unlocked[0]); j++) {
		const struct verb_row *r = row_of(unlocked[j]);

		assert_non_null(r);
		if (!(r->flags & VERB_NEEDS_UNLOCKED))
			fail_msg("verb '%s' must need an unlocked agent",
				 unlocked[j]);
	}
	/* What works on a locked or empty agent. */
	assert_false(row_of("status")->flags & VERB_NEEDS_UNLOCKED);
	assert_false(row_of("status")->flags & VERB_NEEDS_VAULT);
	assert_false(row_of("init")->flags & VERB_NEEDS_VAULT);
	assert_false(row_of("unlock")->flags & VERB_NEEDS_UNLOCKED);
	assert_false(row_of("lock")->flags & VERB_NEEDS_UNLOCKED);
	assert_false(row_of("stop")->flags & VERB_NEEDS_UNLOCKED);
	assert_null(row_of("STATUS"));
}

static void test_no_vault(void **state)
{
	static const char *const verbs[] = {"unlock", "lock", "create", "list",
					    "show",   "get",  "audit"};
	struct fx *f = *state;
	cJSON *o;

	o = req(f, "{\"verb\":\"status\"}");
	expect_code(f, "ok");
	assert_false(idw_json_bool(o, "initialized", true));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "vault_id")));
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		reqf(f, "{\"verb\":\"%s\"}", verbs[i]);
		expect_code(f, "no_vault");
		expect_message(f, "idw init");
	}
	/* init checks its arguments before it writes anything. */
	req_secret(f, "{\"verb\":\"init\",\"kdf\":\"interactive\"}", "short");
	expect_code(f, "usage");
	req(f, "{\"verb\":\"init\",\"kdf\":\"interactive\"}");
	expect_code(f, "usage");
	req_secret(f, "{\"verb\":\"init\",\"kdf\":\"min\"}", PASS);
	expect_code(f, "usage");
	expect_message(f, "interactive, moderate or sensitive");
	req_secret(f, "{\"verb\":\"init\",\"kdf\":\"fast\"}", PASS);
	expect_code(f, "usage");
	assert_false(idw_vault_initialized(f->a.vault));
	assert_int_equal(access(f->a.vault_path, F_OK), 0);
}

/* The whole life of an agent through its verbs: init, lock, unlock. */
static void test_init_lock_unlock(void **state)
{
	struct fx *f = *state;
	char id[20], vid[33];
	cJSON *o;

	o = req_secret(f, "{\"verb\":\"init\",\"kdf\":\"interactive\"}", PASS);
	expect_code(f, "ok");
	assert_int_equal(strlen(idw_json_str(o, "vault_id")), 32);
	memcpy(vid, idw_json_str(o, "vault_id"), 33);
	o = req(f, "{\"verb\":\"status\"}");
	assert_false(idw_json_bool(o, "locked", true));
	assert_true(idw_json_bool(o, "initialized", false));
	assert_string_equal(idw_json_str(o, "unlock_source"), "init");
	assert_string_equal(idw_json_str(o, "vault_id"), vid);
	assert_true(idw_json_bool(o, "audit_ok", false));
	/* Only once. */
	req_secret(f, "{\"verb\":\"init\",\"kdf\":\"interactive\"}", PASS);
	expect_code(f, "exists");

	/* Init installs DESIGN's four default rules: an owner is needed. */
	o = req(f, "{\"verb\":\"policy_list\"}");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "rules")),
			 4);
	create(f, "\"human_owner\":\"alice\"", VALUE, id);
	req(f, "{\"verb\":\"lock\"}");
	expect_code(f, "ok");
	/* Locked: values and metadata are gone from memory. */
	assert_true(f->a.locked);
	assert_int_equal(f->a.store.n, 0);
	assert_null(f->a.audit.keys);
	o = req(f, "{\"verb\":\"status\"}");
	expect_code(f, "ok");
	assert_true(idw_json_bool(o, "locked", false));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "unlock_source")));
	reqf(f, "{\"verb\":\"show\",\"id\":\"%s\"}", id);
	expect_code(f, "locked");
	/* Locking twice is fine. */
	req(f, "{\"verb\":\"lock\"}");
	expect_code(f, "ok");

	req(f, "{\"verb\":\"unlock\"}");
	expect_code(f, "usage");
	req_secret(f, "{\"verb\":\"unlock\"}", "not the passphrase");
	expect_code(f, "unlock_failed");
	assert_true(f->a.locked);
	req_secret(f, "{\"verb\":\"unlock\"}", PASS);
	expect_code(f, "ok");
	assert_false(f->a.locked);
	/* The journal and the audit log were replayed. */
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"check\"}", id);
	expect_code(f, "ok");
	assert_int_equal(f->rep.secret_len, strlen(VALUE));
	assert_memory_equal(f->rep.secret, VALUE, strlen(VALUE));
	o = req(f, "{\"verb\":\"audit\"}");
	expect_code(f, "ok");
	{
		const cJSON *e = cJSON_GetObjectItem(o, "entries");
		int n = cJSON_GetArraySize(e);
		/* The failed unlock waited in memory for the next unlock. */
		const char *want[] = {"access", "unlock",   "failed unlock",
				      "lock",	"creation", "init"};

		assert_int_equal(n, 6);
		for (int i = 0; i < n; i++)
			assert_string_equal(
				idw_json_str(cJSON_GetArrayItem(e, i),
					     "action"),
				want[i]);
	}
	/* Unlocking an unlocked agent changes nothing. */
	req_secret(f, "{\"verb\":\"unlock\"}", PASS);
	expect_code(f, "ok");
}

static void test_create_show(void **state)
{
	static const char cj[] = "{\"verb\":\"create\",\"name\":\"n\","
				 "\"credential_type\":\"api-key\"}";
	struct fx *f = *state;
	char id[20], big[STORE_VALUE_MAX + 2];
	const cJSON *pp;
	cJSON *o;

	o = req_secret(
		f,
		"{\"verb\":\"create\",\"name\":\"OpenAI Production\","
		"\"path\":\"prod/openai\",\"credential_type\":\"api-key\","
		"\"visa\":{\"type\":\"access\",\"scope\":[\"read\"]},"
		"\"platforms\":[\"openai\"],\"human_owner\":\"alice\","
		"\"tags\":[\"prod\"],\"notes\":\"n\",\"id\":\"pp_"
		"0000000000000000\"}",
		VALUE);
	expect_code(f, "ok");
	not_in_json(f, VALUE);
	assert_false(f->rep.has_secret);
	memcpy(id, idw_json_str(o, "id"), 20);
	assert_true(passport_id_valid(id));
	assert_string_not_equal(id, "pp_0000000000000000");
	pp = cJSON_GetObjectItem(o, "passport");
	assert_string_equal(idw_json_str(pp, "id"), id);
	assert_string_equal(idw_json_str(pp, "name"), "OpenAI Production");
	assert_string_equal(idw_json_str(pp, "path"), "prod/openai");
	assert_string_equal(idw_json_str(pp, "status"), "active");
	assert_string_equal(idw_json_str(pp, "human_owner"), "alice");
	assert_null(cJSON_GetObjectItem(pp, "value"));

	o = reqf(f, "{\"verb\":\"show\",\"id\":\"%s\"}", id);
	expect_code(f, "ok");
	not_in_json(f, VALUE);
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(o, "passport"), "name"),
		"OpenAI Production");
	req(f, "{\"verb\":\"show\"}");
	expect_code(f, "usage");
	req(f, "{\"verb\":\"show\",\"id\":\"\"}");
	expect_code(f, "usage");
	req(f, "{\"verb\":\"show\",\"id\":7}");
	expect_code(f, "usage");
	req(f, "{\"verb\":\"show\",\"id\":\"pp_ffffffffffffffff\"}");
	expect_code(f, "not_found");
	/* Ids name passports only, not other items of the store. */
	req(f, "{\"verb\":\"show\",\"id\":\"audit_key\"}");
	expect_code(f, "not_found");

	/* The value: required, 1 byte to 64 KiB. */
	req(f, "{\"verb\":\"create\",\"name\":\"n\","
	       "\"credential_type\":\"api-key\"}");
	expect_code(f, "usage");
	req_n(f, cj, strlen(cj), "", 0, true);
	expect_code(f, "usage");
	memset(big, 'v', sizeof(big));
	req_n(f, cj, strlen(cj), big, STORE_VALUE_MAX + 1, true);
	expect_code(f, "too_big");
	req_n(f, cj, strlen(cj), big, STORE_VALUE_MAX, true);
	expect_code(f, "ok");
	/* Field errors come back as usage with the reason. */
	req_secret(f,
		   "{\"verb\":\"create\",\"name\":\"n\","
		   "\"credential_type\":\"api-key\",\"reveal\":\"sometimes\"}",
		   VALUE);
	expect_code(f, "usage");
	expect_message(f, "reveal");
	req_secret(f, "{\"verb\":\"create\",\"credential_type\":\"api-key\"}",
		   VALUE);
	expect_code(f, "usage");
	expect_message(f, "name is required");
	assert_int_equal(store_count(&f->a.store, "passport"), 2);
}

static void test_list_paging(void **state)
{
	struct fx *f = *state;
	char ids[250][20], other[20], cursor[32] = "";
	int seen[250] = {0}, pages = 0, total = 0;
	const cJSON *arr, *e;
	cJSON *o;

	for (int i = 0; i < 250; i++)
		create(f, "\"platforms\":[\"paging\"]", "v", ids[i]);
	create(f, "\"platforms\":[\"other\"]", "v", other);
	do {
		if (cursor[0])
			o = reqf(f,
				 "{\"verb\":\"list\",\"platform\":\"paging\","
				 "\"limit\":100,\"cursor\":\"%s\"}",
				 cursor);
		else
			o = req(f, "{\"verb\":\"list\",\"platform\":"
				   "\"paging\",\"limit\":100}");
		expect_code(f, "ok");
		arr = cJSON_GetObjectItem(o, "passports");
		pages++;
		assert_true(cJSON_GetArraySize(arr) <= 100);
		cJSON_ArrayForEach(e, arr)
		{
			const char *id = idw_json_str(e, "id");
			int k;

			assert_string_equal(idw_json_str(e, "status"),
					    "active");
			for (k = 0; k < 250; k++)
				if (strcmp(ids[k], id) == 0)
					break;
			assert_true(k < 250);
			assert_int_equal(seen[k], 0);
			seen[k] = 1;
			total++;
		}
		cursor[0] = '\0';
		if (idw_json_str(o, "next_cursor") != NULL)
			snprintf(cursor, sizeof(cursor), "%s",
				 idw_json_str(o, "next_cursor"));
	} while (cursor[0] && pages < 10);
	assert_int_equal(pages, 3);
	assert_int_equal(total, 250);
	for (int k = 0; k < 250; k++)
		assert_int_equal(seen[k], 1);
	/* The last page is short and says it is the last. */
	assert_int_equal(cJSON_GetArraySize(arr), 50);

	/* No filter: every passport, the config item is not one. */
	o = req(f, "{\"verb\":\"list\",\"limit\":500}");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(o, "passports")), 251);
	assert_null(cJSON_GetObjectItem(o, "next_cursor"));
	/* Limits out of range: the default, or the maximum. */
	o = req(f, "{\"verb\":\"list\",\"limit\":0}");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(o, "passports")), 100);
	assert_non_null(idw_json_str(o, "next_cursor"));
	o = req(f, "{\"verb\":\"list\",\"limit\":100000}");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(o, "passports")), 251);
	o = req(f, "{\"verb\":\"list\",\"platform\":\"other\"}");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(o, "passports")), 1);
	assert_string_equal(
		idw_json_str(cJSON_GetArrayItem(
				     cJSON_GetObjectItem(o, "passports"), 0),
			     "id"),
		other);
	o = req(f, "{\"verb\":\"list\",\"status\":\"revoked\"}");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(o, "passports")), 0);
	/* A cursor past the end (its passport gone): an empty page. */
	o = req(f, "{\"verb\":\"list\",\"cursor\":"
		   "\"1000.pp_0000000000000000\"}");
	expect_code(f, "ok");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(o, "passports")), 0);
	req(f, "{\"verb\":\"list\",\"cursor\":\"ten\"}");
	expect_code(f, "usage");
	req(f, "{\"verb\":\"list\",\"cursor\":\"10x\"}");
	expect_code(f, "usage");
	req(f, "{\"verb\":\"list\",\"cursor\":\"100\"}");
	expect_code(f, "usage");
	req(f, "{\"verb\":\"list\",\"cursor\":\"10.\"}");
	expect_code(f, "usage");
	req(f, "{\"verb\":\"list\",\"cursor\":\"\"}");
	expect_code(f, "usage");
	/* Listing never carries a value. */
	not_in_json(f, "\"value\"");
}

static void test_get(void **state)
{
	struct fx *f = *state;
	char id[20], never[20], *txt;
	const cJSON *pp, *e;
	cJSON *o;

	create(f, "\"platforms\":[\"openai\"]", VALUE, id);
	create(f, "\"reveal\":\"never\"", "hidden", never);
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\"}", id);
	expect_code(f, "usage");
	expect_message(f, "purpose");
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"\"}", id);
	expect_code(f, "usage");
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":3}", id);
	expect_code(f, "usage");

	o = reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"deploy\"}",
		 id);
	expect_code(f, "ok");
	/* The value travels only in the secret segment. */
	assert_true(f->rep.has_secret);
	assert_non_null(f->rep.secret);
	assert_true(idw_arena_owns(f->rep.secret));
	assert_int_equal(f->rep.secret_len, strlen(VALUE));
	assert_memory_equal(f->rep.secret, VALUE, strlen(VALUE));
	not_in_json(f, VALUE);
	not_in_json(f, "c0ffee");
	pp = cJSON_GetObjectItem(o, "passport");
	assert_string_equal(idw_json_str(pp, "id"), id);
	assert_string_equal(idw_json_str(pp, "name"), "n");
	assert_int_equal(cJSON_GetArraySize(pp), 2);

	/* The access was audited, before the value left. */
	o = reqf(f, "{\"verb\":\"audit\",\"id\":\"%s\"}", id);
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "entries"), 0);
	assert_string_equal(idw_json_str(e, "action"), "access");
	assert_string_equal(idw_json_str(e, "result"), "allowed");
	assert_string_equal(idw_json_str(e, "purpose"), "deploy");
	assert_string_equal(idw_json_str(e, "principal"), "local");
	assert_string_equal(idw_json_str(e, "claimed_actor"), "tester");
	assert_string_equal(idw_json_str(e, "platform"), "openai");
	txt = cJSON_PrintUnformatted(o);
	assert_null(strstr(txt, VALUE));
	cJSON_free(txt);

	/* reveal: never is never handed out here, and the refusal is
	 * audited. */
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", never);
	expect_code(f, "denied");
	expect_message(f, "idw run");
	o = reqf(f, "{\"verb\":\"audit\",\"id\":\"%s\"}", never);
	e = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "entries"), 0);
	assert_string_equal(idw_json_str(e, "result"), "denied");
	reqf(f, "{\"verb\":\"get\",\"id\":\"pp_ffffffffffffffff\","
		"\"purpose\":\"p\"}");
	expect_code(f, "not_found");

	/* A log that cannot be written denies the release. */
	assert_int_equal(unlink(f->a.audit_path), 0);
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", id);
	expect_code(f, "denied");
	expect_message(f, "audit log");
	o = req(f, "{\"verb\":\"status\"}");
	assert_false(idw_json_bool(o, "audit_ok", true));
	assert_non_null(idw_json_str(o, "audit_error"));
}

/*
 * resume takes person proof (agentd/proof.c, tested in test_proof.c):
 * give the vault a key from a fixed seed, ask for a challenge, sign.
 */
static cJSON *resume_proven(struct fx *f, const char *id)
{
	static const uint8_t seed[32] = {7};
	uint8_t sk[64], hash[PROOF_HASH_LEN], msg[PROOF_MSG_MAX], sig[64];
	char buf[200], hn[65], hs[129], *txt;
	struct proof_key k;
	cJSON *r, *p;
	size_t n;

	memset(&k, 0, sizeof(k));
	crypto_sign_seed_keypair(k.pk, sk, seed);
	if (store_find(&f->a.store, "config", PROOF_CONFIG_ID) == NULL) {
		k.opslimit = crypto_pwhash_OPSLIMIT_MIN;
		k.memlimit = crypto_pwhash_MEMLIMIT_MIN;
		assert_int_equal(proof_key_store(&f->a, &k), 0);
	}
	f->a.proof.open_ms = 0; /* no earlier failure holds the gate */
	req(f, "{\"verb\":\"challenge\",\"for\":\"resume\"}");
	expect_code(f, "ok");
	snprintf(buf, sizeof(buf), "{\"verb\":\"resume\",\"id\":\"%s\"}", id);
	r = cJSON_Parse(buf);
	assert_non_null(r);
	assert_int_equal(proof_request_hash(r, NULL, 0, hash), 0);
	n = proof_message(msg, idw_vault_id(f->a.vault), f->p.challenge.nonce,
			  "resume", hash);
	crypto_sign_detached(sig, NULL, msg, n, sk);
	sodium_memzero(sk, sizeof(sk));
	sodium_bin2hex(hn, sizeof(hn), f->p.challenge.nonce, 32);
	sodium_bin2hex(hs, sizeof(hs), sig, sizeof(sig));
	p = cJSON_AddObjectToObject(r, "proof");
	cJSON_AddStringToObject(p, "challenge", hn);
	cJSON_AddStringToObject(p, "signature", hs);
	txt = cJSON_PrintUnformatted(r);
	cJSON_Delete(r);
	req(f, txt);
	cJSON_free(txt);
	return f->rep.json;
}

static void test_revoke_suspend_resume(void **state)
{
	struct fx *f = *state;
	char id[20], id2[20];
	const cJSON *pp;
	cJSON *o;

	create(f, "", VALUE, id);
	create(f, "", VALUE, id2);
	/* Suspend: reason optional; get denied; idempotent. */
	o = reqf(f, "{\"verb\":\"suspend\",\"id\":\"%s\"}", id);
	expect_code(f, "ok");
	pp = cJSON_GetObjectItem(o, "passport");
	assert_string_equal(idw_json_str(pp, "status"), "suspended");
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(pp, "suspension"), "by"),
		"local");
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", id);
	expect_code(f, "denied");
	expect_message(f, "suspended");
	reqf(f, "{\"verb\":\"suspend\",\"id\":\"%s\",\"reason\":\"again\"}",
	     id);
	expect_code(f, "ok");
	/* Resume without person proof: refused, nothing changes. */
	reqf(f, "{\"verb\":\"resume\",\"id\":\"%s\"}", id);
	expect_code(f, "proof_failed");
	assert_string_equal(passport_status_of(f, id), "suspended");
	/* With it: back to active, the value kept. */
	o = resume_proven(f, id);
	expect_code(f, "ok");
	pp = cJSON_GetObjectItem(o, "passport");
	assert_string_equal(idw_json_str(pp, "status"), "active");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(pp, "suspension")));
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", id);
	expect_code(f, "ok");
	assert_memory_equal(f->rep.secret, VALUE, strlen(VALUE));
	resume_proven(f, id);
	expect_code(f, "ok");

	/* Revoke: a reason is required; final. */
	reqf(f, "{\"verb\":\"revoke\",\"id\":\"%s\"}", id);
	expect_code(f, "usage");
	expect_message(f, "reason");
	o = reqf(f, "{\"verb\":\"revoke\",\"id\":\"%s\",\"reason\":\"leaked\"}",
		 id);
	expect_code(f, "ok");
	pp = cJSON_GetObjectItem(o, "passport");
	assert_string_equal(idw_json_str(pp, "status"), "revoked");
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(pp, "revocation"), "reason"),
		"leaked");
	reqf(f, "{\"verb\":\"revoke\",\"id\":\"%s\",\"reason\":\"twice\"}", id);
	expect_code(f, "exists");
	resume_proven(f, id);
	expect_code(f, "denied");
	reqf(f, "{\"verb\":\"suspend\",\"id\":\"%s\"}", id);
	expect_code(f, "exists");
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", id);
	expect_code(f, "denied");
	expect_message(f, "revoked");
	/* The other passport is untouched. */
	assert_string_equal(passport_status_of(f, id2), "active");

	/* Everything survives a lock and unlock (replay). */
	agent_lock(&f->a);
	{
		char why[300];

		assert_int_equal(agent_unlock(&f->a, (const uint8_t *)PASS,
					      PASSLEN, why, sizeof(why)),
				 0);
	}
	assert_string_equal(passport_status_of(f, id), "revoked");
	assert_string_equal(passport_status_of(f, id2), "active");
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", id2);
	expect_code(f, "ok");
	assert_memory_equal(f->rep.secret, VALUE, strlen(VALUE));
	/* The audit trail says what happened, newest first. */
	o = reqf(f, "{\"verb\":\"audit\",\"id\":\"%s\",\"limit\":6}", id);
	{
		const cJSON *e = cJSON_GetObjectItem(o, "entries");
		const char *want[] = {"access", "revocation",
				      "access", "modification",
				      "access", "suspension"};

		assert_int_equal(cJSON_GetArraySize(e), 6);
		for (int i = 0; i < 6; i++)
			assert_string_equal(
				idw_json_str(cJSON_GetArrayItem(e, i),
					     "action"),
				want[i]);
	}
}

static void test_check_policy(void **state)
{
	struct fx *f = *state;
	char id[20], bound[20];
	const cJSON *v;
	cJSON *o;

	create(f, "", VALUE, id);
	create(f, "\"agent_id\":\"claude\"", VALUE, bound);
	o = reqf(f, "{\"verb\":\"check_policy\",\"id\":\"%s\"}", id);
	expect_code(f, "ok");
	assert_true(idw_json_bool(o, "allowed", false));
	assert_string_equal(idw_json_str(o, "effect"), "allow");
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(o, "violations")));
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(o, "violations")), 0);
	reqf(f,
	     "{\"verb\":\"check_policy\",\"id\":\"%s\",\"action\":"
	     "\"access\"}",
	     id);
	expect_code(f, "ok");
	reqf(f,
	     "{\"verb\":\"check_policy\",\"id\":\"%s\",\"action\":"
	     "\"delete\"}",
	     id);
	expect_code(f, "usage");

	/* Bound to another principal than ours ("local"). */
	o = reqf(f, "{\"verb\":\"check_policy\",\"id\":\"%s\"}", bound);
	assert_false(idw_json_bool(o, "allowed", true));
	assert_string_equal(idw_json_str(o, "effect"), "deny");
	v = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "violations"), 0);
	assert_string_equal(idw_json_str(v, "rule"), "agent-binding");

	reqf(f, "{\"verb\":\"suspend\",\"id\":\"%s\"}", id);
	o = reqf(f, "{\"verb\":\"check_policy\",\"id\":\"%s\"}", id);
	assert_false(idw_json_bool(o, "allowed", true));
	assert_string_equal(idw_json_str(o, "effect"), "deny");
	v = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "violations"), 0);
	assert_string_equal(idw_json_str(v, "rule"), "passport-status");
	assert_string_equal(idw_json_str(v, "effect"), "deny");
	/* Checking releases nothing. */
	assert_false(f->rep.has_secret);
	not_in_json(f, VALUE);
}

static void test_request_access(void **state)
{
	struct fx *f = *state;
	char id[20], open_id[20];
	cJSON *o;

	create(f, "\"visa\":{\"scope\":[\"read\",\"write\"]}", VALUE, id);
	create(f, "", VALUE, open_id);
	o = reqf(f,
		 "{\"verb\":\"request_access\",\"id\":\"%s\","
		 "\"purpose\":\"sync\",\"scope\":[\"read\"]}",
		 id);
	expect_code(f, "ok");
	assert_true(idw_json_bool(o, "approved", false));
	assert_string_equal(idw_json_str(o, "status"), "approved");
	assert_false(f->rep.has_secret);
	not_in_json(f, VALUE);
	/* A scope outside the visa is denied and named. */
	o = reqf(f,
		 "{\"verb\":\"request_access\",\"id\":\"%s\","
		 "\"purpose\":\"sync\",\"scope\":[\"read\",\"admin\"]}",
		 id);
	expect_code(f, "ok");
	assert_false(idw_json_bool(o, "approved", true));
	assert_string_equal(idw_json_str(o, "status"), "denied");
	assert_non_null(strstr(idw_json_str(o, "reason"), "'admin'"));
	/* A visa without scopes limits none. */
	o = reqf(f,
		 "{\"verb\":\"request_access\",\"id\":\"%s\","
		 "\"purpose\":\"sync\",\"scope\":[\"anything\"]}",
		 open_id);
	assert_true(idw_json_bool(o, "approved", false));
	/* No scope asked: the visa's. */
	o = reqf(f,
		 "{\"verb\":\"request_access\",\"id\":\"%s\","
		 "\"purpose\":\"sync\"}",
		 id);
	assert_true(idw_json_bool(o, "approved", false));
	/* Arguments. */
	reqf(f, "{\"verb\":\"request_access\",\"id\":\"%s\"}", id);
	expect_code(f, "usage");
	reqf(f,
	     "{\"verb\":\"request_access\",\"id\":\"%s\",\"purpose\":\"p\","
	     "\"scope\":\"read\"}",
	     id);
	expect_code(f, "usage");
	reqf(f,
	     "{\"verb\":\"request_access\",\"id\":\"%s\",\"purpose\":\"p\","
	     "\"scope\":[1]}",
	     id);
	expect_code(f, "usage");
	reqf(f,
	     "{\"verb\":\"request_access\",\"id\":\"%s\",\"purpose\":\"p\","
	     "\"scope\":[\"\"]}",
	     id);
	expect_code(f, "usage");
	/* A scope with bytes that are not UTF-8 is refused, not echoed. */
	reqf(f,
	     "{\"verb\":\"request_access\",\"id\":\"%s\",\"purpose\":\"p\","
	     "\"scope\":[\"\xc3\"]}",
	     id);
	expect_code(f, "usage");
	/* A suspended passport: denied whatever the scope. */
	reqf(f, "{\"verb\":\"suspend\",\"id\":\"%s\"}", id);
	o = reqf(f,
		 "{\"verb\":\"request_access\",\"id\":\"%s\","
		 "\"purpose\":\"sync\",\"scope\":[\"read\"]}",
		 id);
	assert_string_equal(idw_json_str(o, "status"), "denied");
	assert_non_null(strstr(idw_json_str(o, "reason"), "suspended"));
	/* Every request is audited with its outcome. */
	o = reqf(f, "{\"verb\":\"audit\",\"id\":\"%s\",\"limit\":3}", id);
	{
		const cJSON *e = cJSON_GetObjectItem(o, "entries");

		assert_int_equal(cJSON_GetArraySize(e), 3);
		assert_string_equal(
			idw_json_str(cJSON_GetArrayItem(e, 0), "action"),
			"request");
		assert_string_equal(
			idw_json_str(cJSON_GetArrayItem(e, 0), "result"),
			"denied");
		assert_string_equal(
			idw_json_str(cJSON_GetArrayItem(e, 2), "result"),
			"approved");
	}
}

static void test_audit_verb(void **state)
{
	struct fx *f = *state;
	char a[20], b[20];
	const cJSON *e;
	cJSON *o;

	create(f, "", "va", a);
	create(f, "", "vb", b);
	for (int i = 0; i < 5; i++) {
		reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p%d\"}",
		     a, i);
		expect_code(f, "ok");
	}
	o = reqf(f, "{\"verb\":\"audit\",\"id\":\"%s\"}", a);
	expect_code(f, "ok");
	e = cJSON_GetObjectItem(o, "entries");
	assert_int_equal(cJSON_GetArraySize(e), 6);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(e, 0), "purpose"),
			    "p4");
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(e, 5), "action"),
			    "creation");
	o = reqf(f, "{\"verb\":\"audit\",\"id\":\"%s\",\"limit\":2}", a);
	e = cJSON_GetObjectItem(o, "entries");
	assert_int_equal(cJSON_GetArraySize(e), 2);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(e, 1), "purpose"),
			    "p3");
	o = reqf(f, "{\"verb\":\"audit\",\"id\":\"%s\"}", b);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "entries")),
			 1);
	/* All passports: 2 creations and 5 accesses. */
	o = req(f, "{\"verb\":\"audit\"}");
	e = cJSON_GetObjectItem(o, "entries");
	assert_int_equal(cJSON_GetArraySize(e), 7);
	for (int i = 0; i + 1 < 7; i++)
		assert_true(
			idw_json_int(cJSON_GetArrayItem(e, i), "seq", 0) >
			idw_json_int(cJSON_GetArrayItem(e, i + 1), "seq", 0));
	o = req(f, "{\"verb\":\"audit\",\"limit\":-3}");
	expect_code(f, "ok");
	/* No entry carries a value. */
	o = req(f, "{\"verb\":\"audit\",\"limit\":500}");
	not_in_json(f, "\"va\"");
	not_in_json(f, "\"vb\"");
}

static void test_locked_refuses(void **state)
{
	struct fx *f = *state;
	char id[20];

	create(f, "", VALUE, id);
	req(f, "{\"verb\":\"lock\"}");
	expect_code(f, "ok");
	for (size_t i = 0; i < dispatch_table_len; i++) {
		const struct verb_row *r = &dispatch_table[i];

		if (!(r->flags & VERB_NEEDS_UNLOCKED))
			continue;
		if (r->flags & VERB_TAKES_SECRET)
			req_n(f, "{\"verb\":\"create\"}",
			      strlen("{\"verb\":\"create\"}"), "v", 1, true);
		else
			reqf(f,
			     "{\"verb\":\"%s\",\"id\":\"%s\",\"purpose\":\"p\","
			     "\"reason\":\"r\"}",
			     r->verb, id);
		expect_code(f, "locked");
		expect_message(f, "idw unlock");
	}
	/* Still answered while locked. */
	req(f, "{\"verb\":\"status\"}");
	expect_code(f, "ok");
	req(f, "{\"verb\":\"stop\"}");
	expect_code(f, "ok");
	assert_true(f->a.stopping);
}

static void test_malformed(void **state)
{
	static const char *const invalid[] = {
		"",
		"{",
		"[]",
		"\"verb\"",
		"null",
		"42",
		"{\"verb\":}",
		"{} {}",
		"{\"verb\":\"status\"}x",
		"\xff\xfe",
		"{'verb':'status'}",
	};
	struct fx *f = *state;
	char id[20];

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		req(f, invalid[i]);
		expect_code(f, "invalid");
	}
	/* Only json_len bytes count. */
	req_n(f, "{\"verb\":\"status\"}garbage",
	      strlen("{\"verb\":\"status\"}"), NULL, 0, false);
	expect_code(f, "ok");
	req_n(f, "{\"verb\":\"status\"}", 10, NULL, 0, false);
	expect_code(f, "invalid");

	req(f, "{\"verb\":\"frobnicate\"}");
	expect_code(f, "usage");
	expect_message(f, "frobnicate");
	req(f, "{}");
	expect_code(f, "usage");
	req(f, "{\"verb\":7}");
	expect_code(f, "usage");
	req(f, "{\"verb\":\"\"}");
	expect_code(f, "usage");
	req(f, "{\"Verb\":\"status\"}");
	expect_code(f, "usage");

	/* A secret where none is taken is refused before the verb runs. */
	create(f, "", VALUE, id);
	req_secret(f, "{\"verb\":\"list\"}", "stray");
	expect_code(f, "invalid");
	expect_message(f, "takes no secret");
	reqf(f, "{\"verb\":\"show\",\"id\":\"%s\"}", id);
	{
		char buf[200];

		snprintf(buf, sizeof(buf),
			 "{\"verb\":\"revoke\",\"id\":\"%s\",\"reason\":"
			 "\"x\"}",
			 id);
		req_secret(f, buf, "stray");
		expect_code(f, "invalid");
		assert_string_equal(passport_status_of(f, id), "active");
	}
	req_n(f, "{\"verb\":\"status\"}", strlen("{\"verb\":\"status\"}"), NULL,
	      0, true);
	expect_code(f, "invalid");
}

/* Replies are UTF-8 even when they quote a client's broken bytes. */
static void test_replies_are_utf8(void **state)
{
	struct fx *f = *state;
	char hello[600], *txt;
	const char *m;
	size_t n;

	req(f, "{\"verb\":\"show\",\"id\":\"pp_\xff\xfe\xc3\"}");
	expect_code(f, "not_found");
	m = idw_json_str(f->rep.json, "message");
	assert_true(idw_utf8_valid((const uint8_t *)m, strlen(m)));
	/* A cut in the middle of a character. */
	{
		char v[200];

		memcpy(v, "{\"verb\":\"x", 10);
		n = 10;
		for (int i = 0; i < 30; i++) {
			memcpy(v + n, "\xc3\xa9", 2);
			n += 2;
		}
		memcpy(v + n, "\"}", 3);
		req(f, v);
		expect_code(f, "usage");
		m = idw_json_str(f->rep.json, "message");
		assert_true(idw_utf8_valid((const uint8_t *)m, strlen(m)));
	}
	/* A claimed actor cut at its bound keeps whole characters. */
	memcpy(hello, "{\"claimed_actor\":\"x", 19);
	n = 19;
	for (int i = 0; i < 100; i++) {
		memcpy(hello + n, "\xe2\x82\xac", 3);
		n += 3;
	}
	memcpy(hello + n, "\"}", 3);
	agentfx_reply_free(&f->rep);
	memset(&f->p, 0, sizeof(f->p));
	dispatch_hello(&f->a, &f->p, hello, strlen(hello), NULL, 0, &f->rep);
	expect_code(f, "ok");
	assert_true(f->p.hello_done);
	assert_string_equal(f->p.principal, "local");
	assert_true(idw_utf8_valid((const uint8_t *)f->p.claimed_actor,
				   strlen(f->p.claimed_actor)));
	assert_true(strlen(f->p.claimed_actor) > 150);
	txt = cJSON_PrintUnformatted(f->rep.json);
	assert_true(idw_utf8_valid((const uint8_t *)txt, strlen(txt)));
	cJSON_free(txt);
}

static void test_hello(void **state)
{
	static const char hello[] =
		"{\"client\":\"idw\",\"claimed_actor\":\"admin\",\"principal\":"
		"\"root\"}";
	struct fx *f = *state;
	cJSON *o;

	memset(&f->p, 0, sizeof(f->p));
	dispatch_hello(&f->a, &f->p, "[1]", 3, NULL, 0, &f->rep);
	expect_code(f, "invalid");
	assert_true(f->rep.close_after);
	assert_false(f->p.hello_done);
	agentfx_reply_free(&f->rep);
	/* Whatever a client claims, it is "local" until tokens exist. */
	dispatch_hello(&f->a, &f->p, hello, strlen(hello), NULL, 0, &f->rep);
	o = f->rep.json;
	expect_code(f, "ok");
	assert_string_equal(idw_json_str(o, "principal"), "local");
	assert_string_equal(f->p.claimed_actor, "admin");
	assert_int_equal(strlen(idw_json_str(o, "vault_id")), 32);
	assert_false(idw_json_bool(o, "locked", true));
	assert_true(idw_json_bool(o, "initialized", false));
	assert_int_equal(idw_json_int(o, "wire_version", 0), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test_setup_teardown(test_no_vault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_lock_unlock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_show, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_paging, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(test_get, setup_init, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_suspend_resume,
						setup_init, teardown),
		cmocka_unit_test_setup_teardown(test_check_policy, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(test_request_access, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(test_audit_verb, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(test_locked_refuses, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup_init,
						teardown),
		cmocka_unit_test_setup_teardown(test_replies_are_utf8,
						setup_init, teardown),
		cmocka_unit_test_setup_teardown(test_hello, setup_init,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
