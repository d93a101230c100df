/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of grants and leases (agentd/grants.c, verbs_access.c,
 * verbs_grants.c), with the clock moved by hand (govfx.h).  Verbs that
 * take person proof are called straight, past the dispatcher (proof
 * itself is tests/unit/test_proof.c's).
 */
#include "govfx.h"

static void test_pending_expires_at_its_second(void **state)
{
	struct fx *f = *state;
	char pp[20], g1[20], g2[20];
	const cJSON *e;

	create(f, "\"visa\":{\"type\":\"privilege\"}", pp);
	assert_string_equal(get(f, pp, g1), "pending");
	assert_true(grant_id_valid(g1));
	assert_non_null(strstr(idw_json_str(f->rep.json, "message"), g1));
	assert_non_null(
		strstr(idw_json_str(f->rep.json, "message"), "idw approve"));
	/* Asking again waits on the same grant. */
	fake_now = T0 + GRANT_PENDING_S - 1;
	assert_string_equal(get(f, pp, g2), "pending");
	assert_string_equal(g1, g2);
	assert_string_equal(grant_status_of(f, g1), "pending");
	/* At the hour's last second it is gone, and written down so. */
	fake_now = T0 + GRANT_PENDING_S;
	assert_string_equal(grant_status_of(f, g1), "expired");
	assert_string_equal(stored_status(f, g1), "pending");
	assert_string_equal(get(f, pp, g2), "pending");
	assert_string_not_equal(g1, g2);
	assert_string_equal(stored_status(f, g1), "expired");
	e = last_audit(f, "expiry");
	assert_string_equal(idw_json_str(e, "result"), "expired");
	assert_string_equal(idw_json_str(e, "principal"), "local");
	assert_non_null(strstr(idw_json_str(e, "reason"), g1));
	/* An approval of an expired grant is refused. */
	approve(f, g1, pp, 60);
	expect(f, "denied");
}

static void test_lease_ends_at_its_second(void **state)
{
	struct fx *f = *state;
	char pp[20], g[20], g2[20];
	const cJSON *e;

	create(f, "\"visa\":{\"type\":\"privilege\"}", pp);
	assert_string_equal(get(f, pp, g), "pending");
	approve(f, g, pp, 60);
	expect(f, "ok");
	assert_string_equal(idw_json_str(f->rep.json, "status"), "approved");
	e = last_audit(f, "approval");
	assert_string_equal(idw_json_str(e, "result"), "approved");
	assert_non_null(strstr(idw_json_str(e, "reason"), g));
	/* Approving twice is refused. */
	approve(f, g, pp, 60);
	expect(f, "exists");
	fake_now = T0 + 59;
	assert_string_equal(get(f, pp, g2), "ok");
	assert_string_equal(g2, g);
	e = last_audit(f, "access");
	assert_string_equal(idw_json_str(e, "result"), "allowed");
	assert_non_null(strstr(idw_json_str(e, "reason"), g));
	reqf(f, "{\"verb\":\"check_policy\",\"id\":\"%s\"}", pp);
	assert_true(idw_json_bool(f->rep.json, "allowed", false));
	assert_string_equal(idw_json_str(f->rep.json, "effect"),
			    "require-approval");
	fake_now = T0 + 60;
	reqf(f, "{\"verb\":\"check_policy\",\"id\":\"%s\"}", pp);
	assert_false(idw_json_bool(f->rep.json, "allowed", true));
	assert_string_equal(get(f, pp, g2), "pending");
	assert_string_not_equal(g2, g);
	assert_string_equal(stored_status(f, g), "expired");
}

static void test_approve_checks(void **state)
{
	struct fx *f = *state;
	char pp[20], other[20], g[20];

	create(f, "\"visa\":{\"type\":\"privilege\"}", pp);
	create(f, "", other);
	assert_string_equal(get(f, pp, g), "pending");
	/* The signed request names the grant's own passport. */
	approve(f, g, other, 60);
	expect(f, "usage");
	proven(f, verb_approve, "{\"verb\":\"approve\",\"id\":\"gr_0\"}");
	expect(f, "usage");
	/* TTL within approval.max_ttl (8 h by default). */
	approve(f, g, pp, 8 * 3600 + 1);
	expect(f, "usage");
	approve(f, g, pp, 0);
	expect(f, "usage");
	proven(f, verb_config_set,
	       "{\"verb\":\"config_set\",\"key\":\"approval.max_ttl\","
	       "\"value\":\"10h\"}");
	expect(f, "ok");
	/* Policy now denying it: no approval. */
	reqf(f, "{\"verb\":\"suspend\",\"id\":\"%s\"}", pp);
	approve(f, g, pp, 8 * 3600 + 1);
	expect(f, "denied");
	assert_string_equal(grant_status_of(f, g), "pending");
	{
		char buf[128];

		snprintf(buf, sizeof(buf), "{\"id\":\"%s\"}", pp);
		proven(f, verb_resume, buf);
		expect(f, "ok");
	}
	approve(f, g, pp, 8 * 3600 + 1);
	expect(f, "ok");
	assert_int_equal(idw_json_int(store_find(&f->a.store, "grant", g)->meta,
				      "ttl_s", 0),
			 8 * 3600 + 1);
}

static void test_clock_set_back(void **state)
{
	struct fx *f = *state;
	char pp[20], priv[20], g[20];
	const cJSON *e;

	create(f, "", pp);
	create(f, "\"visa\":{\"type\":\"privilege\"}", priv);
	fake_now = T0 + 1000;
	assert_string_equal(get(f, pp, NULL), "ok");
	assert_string_equal(get(f, priv, g), "pending");
	/* Within the slack: fine. */
	fake_now = T0 + 1000 - 300;
	assert_string_equal(get(f, pp, NULL), "ok");
	/* Beyond it: every time-bound decision is refused, and audited. */
	fake_now = T0 + 1000 - 301;
	assert_string_equal(get(f, pp, NULL), "denied");
	assert_non_null(strstr(idw_json_str(f->rep.json, "message"),
			       "clock went backwards"));
	e = last_audit(f, "access");
	assert_string_equal(idw_json_str(e, "result"), "denied");
	assert_non_null(
		strstr(idw_json_str(e, "reason"), "clock went backwards"));
	/* The episode itself has its own entry, written once. */
	e = last_audit(f, "clock went backwards");
	assert_non_null(e);
	assert_string_equal(idw_json_str(e, "principal"), "agent");
	approve(f, g, priv, 60);
	expect(f, "denied");
	assert_string_equal(grant_status_of(f, g), "pending");
	/* The mark survives a lock: it is kept in the vault. */
	{
		char why[200];

		agent_lock(&f->a);
		f->a.clock_high = 0;
		assert_int_equal(agent_unlock(&f->a, (const uint8_t *)PASS,
					      strlen(PASS), why, sizeof(why)),
				 0);
	}
	fake_now = T0 + 1000 - 301;
	assert_string_equal(get(f, pp, NULL), "denied");
	fake_now = T0 + 1000;
	assert_string_equal(get(f, pp, NULL), "ok");
}

static cJSON *request(struct fx *f, const char *pp, const char *scope)
{
	return reqf(f,
		    "{\"verb\":\"request_access\",\"id\":\"%s\",\"purpose\":"
		    "\"x\",\"scope\":%s}",
		    pp, scope);
}

static void test_dedup_and_limit(void **state)
{
	struct fx *f = *state;
	char pp[20], g1[20], g2[20], many[GRANT_PENDING_MAX][20];
	char cmd[64];
	cJSON *o;

	create(f, "\"visa\":{\"type\":\"privilege\",\"scope\":[\"r\",\"w\"]}",
	       pp);
	o = request(f, pp, "[\"w\",\"r\"]");
	assert_string_equal(idw_json_str(o, "status"), "pending");
	assert_false(idw_json_bool(o, "approved", true));
	memcpy(g1, idw_json_str(o, "grant_id"), 20);
	snprintf(cmd, sizeof(cmd), "idw approve %s", g1);
	assert_string_equal(idw_json_str(o, "command"), cmd);
	assert_false(idw_json_bool(o, "elicitation", true));
	assert_non_null(idw_json_str(o, "expires_at"));
	/* The same scope in another order: the same grant. */
	o = request(f, pp, "[\"r\",\"w\",\"r\"]");
	assert_string_equal(idw_json_str(o, "grant_id"), g1);
	/* Another scope: another grant; none asked: the effective one. */
	o = request(f, pp, "[\"r\"]");
	memcpy(g2, idw_json_str(o, "grant_id"), 20);
	assert_string_not_equal(g1, g2);
	reqf(f,
	     "{\"verb\":\"request_access\",\"id\":\"%s\",\"purpose\":"
	     "\"x\"}",
	     pp);
	assert_string_equal(idw_json_str(f->rep.json, "grant_id"), g1);
	/* Outside the effective scope: denied, no grant. */
	o = request(f, pp, "[\"admin\"]");
	assert_string_equal(idw_json_str(o, "status"), "denied");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "grant_id")));
	/* A lease on [r, w] covers a request for [r]... */
	approve(f, g1, pp, 600);
	expect(f, "ok");
	o = request(f, pp, "[\"r\"]");
	assert_string_equal(idw_json_str(o, "status"), "approved");
	assert_string_equal(idw_json_str(o, "grant_id"), g1);
	/* ...and the pending grant for [r] still waits. */
	assert_string_equal(grant_status_of(f, g2), "pending");
	/* At most GRANT_PENDING_MAX pending per principal. */
	for (int i = 0; i < GRANT_PENDING_MAX - 1; i++) {
		char p2[20];

		create(f, "\"visa\":{\"type\":\"privilege\"}", p2);
		assert_string_equal(get(f, p2, many[i]), "pending");
	}
	assert_int_equal(grant_pending_count(&f->a, "local", fake_now),
			 GRANT_PENDING_MAX);
	create(f, "\"visa\":{\"type\":\"privilege\"}", g1);
	assert_string_equal(get(f, g1, NULL), "denied");
	assert_non_null(
		strstr(idw_json_str(f->rep.json, "message"), "already wait"));
	o = request(f, g1, "[]");
	assert_string_equal(idw_json_str(o, "status"), "denied");
	/* Each principal has its own count. */
	as(f, "token:0123456789ab");
	assert_string_equal(get(f, g1, NULL), "pending");
	/* ...and sees only its own grants. */
	reqf(f, "{\"verb\":\"grants\"}");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(f->rep.json, "grants")),
		1);
	reqf(f, "{\"verb\":\"deny\",\"id\":\"%s\",\"reason\":\"no\"}", many[0]);
	expect(f, "not_found");
	reqf(f, "{\"verb\":\"grants_revoke\",\"id\":\"%s\"}", g2);
	expect(f, "not_found");
	as(f, "local");
	reqf(f, "{\"verb\":\"grants\"}");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(f->rep.json, "grants")),
		GRANT_PENDING_MAX + 2);
	reqf(f, "{\"verb\":\"grants\",\"status\":\"pending\"}");
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(f->rep.json, "grants")),
		GRANT_PENDING_MAX + 1);
	/* Pages: a cursor is where the next one starts. */
	reqf(f, "{\"verb\":\"grants\",\"cursor\":\"%d\"}",
	     GRANT_PENDING_MAX + 1);
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(f->rep.json, "grants")),
		1);
	assert_null(cJSON_GetObjectItem(f->rep.json, "next_cursor"));
	reqf(f, "{\"verb\":\"grants\",\"cursor\":\"x\"}");
	expect(f, "usage");
}

/* A lease is its principal's alone; revoking one ends it at once. */
static void test_lease_is_the_principals(void **state)
{
	struct fx *f = *state;
	char pp[20], g[20], g2[20];

	create(f, "\"visa\":{\"type\":\"privilege\"}", pp);
	as(f, "token:aaaaaaaaaaaa");
	assert_string_equal(get(f, pp, g), "pending");
	as(f, "local");
	approve(f, g, pp, 600);
	expect(f, "ok");
	as(f, "token:aaaaaaaaaaaa");
	assert_string_equal(get(f, pp, NULL), "ok");
	as(f, "token:bbbbbbbbbbbb");
	assert_string_equal(get(f, pp, g2), "pending");
	assert_string_not_equal(g, g2);
	as(f, "local");
	assert_string_equal(get(f, pp, NULL), "pending");
	reqf(f, "{\"verb\":\"grants_revoke\",\"id\":\"%s\"}", g);
	expect(f, "ok");
	assert_string_equal(
		idw_json_str(last_audit(f, "grant revocation"), "result"),
		"revoked");
	as(f, "token:aaaaaaaaaaaa");
	assert_string_equal(get(f, pp, NULL), "pending");
	reqf(f, "{\"verb\":\"grants_revoke\",\"id\":\"%s\"}", g);
	expect(f, "exists");
}

/* Ended grants are dropped from the vault after GRANT_KEEP_S. */
static void test_old_grants_dropped(void **state)
{
	struct fx *f = *state;
	char pp[20], g[20];

	create(f,
	       "\"visa\":{\"type\":\"privilege\"},"
	       "\"valid_until\":\"2027-02-01\"",
	       pp);
	assert_string_equal(get(f, pp, g), "pending");
	fake_now = T0 + GRANT_PENDING_S;
	reqf(f, "{\"verb\":\"grants\"}");
	assert_string_equal(stored_status(f, g), "expired");
	fake_now = T0 + GRANT_PENDING_S + GRANT_KEEP_S;
	reqf(f, "{\"verb\":\"grants\"}");
	assert_non_null(store_find(&f->a.store, "grant", g));
	fake_now++;
	reqf(f, "{\"verb\":\"grants\"}");
	assert_null(store_find(&f->a.store, "grant", g));
}

/* A person's denial holds for an hour against the same principal. */
static void test_deny_holds(void **state)
{
	struct fx *f = *state;
	char pp[20], g[20], g2[20];

	create(f, "\"visa\":{\"type\":\"privilege\"}", pp);
	assert_string_equal(get(f, pp, g), "pending");
	reqf(f, "{\"verb\":\"deny\",\"id\":\"%s\"}", g);
	expect(f, "usage");
	reqf(f, "{\"verb\":\"deny\",\"id\":\"%s\",\"reason\":\"no\"}", g);
	expect(f, "ok");
	assert_string_equal(grant_status_of(f, g), "denied");
	assert_string_equal(idw_json_str(last_audit(f, "approval"), "result"),
			    "denied");
	assert_string_equal(get(f, pp, NULL), "denied");
	assert_non_null(strstr(idw_json_str(f->rep.json, "message"), g));
	/* Another principal is not held back by it. */
	as(f, "token:0123456789ab");
	assert_string_equal(get(f, pp, g2), "pending");
	as(f, "local");
	fake_now = T0 + GRANT_BLOCK_S;
	assert_string_equal(get(f, pp, g2), "pending");
	assert_string_not_equal(g2, g);
	/* Denying twice, or an unknown grant. */
	reqf(f, "{\"verb\":\"deny\",\"id\":\"%s\",\"reason\":\"no\"}", g);
	expect(f, "exists");
	reqf(f, "{\"verb\":\"deny\",\"id\":\"gr_0000000000000000\","
		"\"reason\":\"no\"}");
	expect(f, "not_found");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_pending_expires_at_its_second, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_ends_at_its_second,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_approve_checks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clock_set_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dedup_and_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deny_holds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lease_is_the_principals,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_grants_dropped, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
