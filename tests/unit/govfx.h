/* SPDX-License-Identifier: ISC */
/*
 * The fixture of the grant tests (test_grants.c, test_elicitation.c): an
 * agent set up as verb init sets one up, with the default rules, and a
 * clock the test moves by hand.  This header defines gov_clock_now, which
 * replaces the agent's weak one at link time; include it from one test
 * file per program.
 */
#ifndef IDW_TEST_GOVFX_H
#define IDW_TEST_GOVFX_H

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

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/grants.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"
#include "sandbox/shield.h"

#define PASS "grants test passphrase"
#define VALUE "sk-grants-VALUE-77aa"
#define T0 ((int64_t)1795456800) /* 2026-11-23T18:00:00Z */

static int64_t fake_now = T0;

int64_t gov_clock_now(void)
{
	return fake_now;
}

struct fx {
	char dir[64];
	struct agent a;
	struct peer p;
	struct reply rep;
};

static inline int group_setup(void **state)
{
	(void)state;
	if (idw_arena_init(0) != 0 &&
	    idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		return -1;
	idw_arena_cjson_hooks();
	return 0;
}

static inline int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct agent *a = &f->a;
	uint8_t key[AUDIT_KEY_LEN], *k;
	cJSON *meta = cJSON_CreateObject();
	char why[200];
	size_t n;

	snprintf(f->dir, sizeof(f->dir), "/tmp/idw-grants-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(a->home, sizeof(a->home), "%s", f->dir);
	snprintf(a->vault_path, sizeof(a->vault_path), "%s/vault.idw", f->dir);
	snprintf(a->audit_path, sizeof(a->audit_path), "%s/audit.idw", f->dir);
	store_init(&a->store);
	audit_init(&a->audit);
	a->proc_status_fd = -1;
	if (idw_vault_open(a->vault_path, &a->vault) != 0 ||
	    audit_open(&a->audit, a->audit_path) != 0 ||
	    idw_shield_init() != 0 ||
	    idw_vault_init(a->vault, (const uint8_t *)PASS, strlen(PASS),
			   IDW_KDF_MIN) != 0)
		return -1;
	randombytes_buf(key, sizeof(key));
	cJSON_AddStringToObject(meta, "purpose", "audit log key");
	if (store_put(&a->store, a->vault, "config", "audit_key", meta, key,
		      sizeof(key)) != 0 ||
	    store_open_value(store_find(&a->store, "config", "audit_key"), &k,
			     &n) != 0 ||
	    audit_unlock(&a->audit, k, why, sizeof(why)) != 0)
		return -1;
	idw_arena_free(k);
	a->locked = false;
	if (gov_install_defaults(a) != 0)
		return -1;
	snprintf(f->p.principal, sizeof(f->p.principal), "local");
	f->p.hello_done = true;
	fake_now = T0;
	*state = f;
	return 0;
}

static inline void reply_free(struct reply *rep)
{
	idw_arena_free(rep->secret);
	cJSON_Delete(rep->json);
	memset(rep, 0, sizeof(*rep));
}

static inline int teardown(void **state)
{
	struct fx *f = *state;
	char path[300];

	reply_free(&f->rep);
	agent_lock(&f->a);
	idw_vault_close(f->a.vault);
	audit_close(&f->a.audit);
	unlink(f->a.vault_path);
	unlink(f->a.audit_path);
	snprintf(path, sizeof(path), "%s/vault.idw.tmp", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static inline void as(struct fx *f, const char *principal)
{
	snprintf(f->p.principal, sizeof(f->p.principal), "%s", principal);
}

/* Through the dispatcher, as a client's request. */
static inline cJSON *reqf(struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline cJSON *reqf(struct fx *f, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	reply_free(&f->rep);
	dispatch_request(&f->a, &f->p, buf, strlen(buf), NULL, 0, false,
			 &f->rep);
	assert_non_null(f->rep.json);
	return f->rep.json;
}

/* A proof-taking verb, called as the dispatcher calls it after a proof. */
static inline cJSON *proven(struct fx *f, verb_fn fn, const char *json)
{
	struct verb_args in = {0};

	reply_free(&f->rep);
	in.req = idw_json_parse(json, strlen(json));
	assert_non_null(in.req);
	(void)fn(&f->a, &f->p, &in, &f->rep);
	cJSON_Delete((cJSON *)in.req);
	assert_non_null(f->rep.json);
	return f->rep.json;
}

static inline const char *code(struct fx *f)
{
	if (cJSON_IsTrue(cJSON_GetObjectItem(f->rep.json, "ok")))
		return "ok";
	return idw_json_str(f->rep.json, "code");
}

static inline void expect(struct fx *f, const char *want)
{
	if (strcmp(code(f), want) != 0)
		fail_msg("expected '%s', got '%s': %s", want, code(f),
			 idw_json_str(f->rep.json, "message")
				 ? idw_json_str(f->rep.json, "message")
				 : "");
}

static inline void create(struct fx *f, const char *fields, char id[20])
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"create\",\"name\":\"n\",\"credential_type\":"
		 "\"api-key\",\"human_owner\":\"alice\"%s%s}",
		 fields[0] ? "," : "", fields);
	reply_free(&f->rep);
	dispatch_request(&f->a, &f->p, buf, strlen(buf), (const uint8_t *)VALUE,
			 strlen(VALUE), true, &f->rep);
	expect(f, "ok");
	memcpy(id, idw_json_str(f->rep.json, "id"), 20);
}

/* get: "ok" with the value, or the error code; the grant id into gid. */
static inline const char *get(struct fx *f, const char *pp, char gid[20])
{
	reqf(f, "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", pp);
	if (gid != NULL && idw_json_str(f->rep.json, "grant_id") != NULL)
		memcpy(gid, idw_json_str(f->rep.json, "grant_id"), 20);
	if (strcmp(code(f), "ok") == 0) {
		assert_true(f->rep.has_secret);
		assert_memory_equal(f->rep.secret, VALUE, strlen(VALUE));
	}
	return code(f);
}

static inline const char *grant_status_of(struct fx *f, const char *gid)
{
	const struct store_item *g = store_find(&f->a.store, "grant", gid);

	assert_non_null(g);
	return grant_status(g->meta, fake_now);
}

static inline const char *stored_status(struct fx *f, const char *gid)
{
	const struct store_item *g = store_find(&f->a.store, "grant", gid);

	assert_non_null(g);
	return idw_json_str(g->meta, "status");
}

static inline void approve(struct fx *f, const char *gid, const char *pp,
			   int ttl)
{
	char buf[256];

	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"approve\",\"id\":\"%s\",\"passport\":\"%s\","
		 "\"ttl_s\":%d}",
		 gid, pp, ttl);
	proven(f, verb_approve, buf);
}

/* The newest audit entry with action, as an object in f->rep. */
static inline const cJSON *last_audit(struct fx *f, const char *action)
{
	const cJSON *e;

	reqf(f, "{\"verb\":\"audit\",\"limit\":50}");
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(f->rep.json, "entries"))
	{
		if (strcmp(idw_json_str(e, "action"), action) == 0)
			return e;
	}
	fail_msg("no audit entry '%s'", action);
	return NULL;
}

#endif
