/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/policy.c: the built-in checks no rule overrides
 * (status, agent binding) and the shape of a result.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agentd/passport.h"
#include "agentd/policy.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define DAY 86400
#define NOW ((int64_t)1795456800)

/* A passport as verb create stores it, valid for 90 days from NOW. */
static cJSON *passport(const char *extra)
{
	char buf[1024], why[300];
	cJSON *req, *m = NULL;

	snprintf(buf, sizeof(buf),
		 "{\"name\":\"n\",\"credential_type\":\"api-key\"%s%s}",
		 extra[0] ? "," : "", extra);
	req = idw_json_parse(buf, strlen(buf));
	assert_non_null(req);
	assert_int_equal(passport_from_request(req, "pp_0123456789abcdef", NOW,
					       &m, why, sizeof(why)),
			 0);
	cJSON_Delete(req);
	return m;
}

static void set_object(cJSON *m, const char *key)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "at", "2026-11-23T18:00:00Z");
	cJSON_AddStringToObject(o, "reason", "test");
	cJSON_AddStringToObject(o, "by", "local");
	cJSON_ReplaceItemInObject(m, key, o);
}

/* The violation at i names rule, with effect deny and message msg. */
static void violation(const struct policy_result *pr, int i, const char *rule,
		      const char *msg)
{
	const cJSON *v = cJSON_GetArrayItem(pr->violations, i);

	assert_non_null(v);
	assert_string_equal(idw_json_str(v, "rule"), rule);
	assert_string_equal(idw_json_str(v, "effect"), "deny");
	assert_string_equal(idw_json_str(v, "message"), msg);
}

static void test_allow(void **state)
{
	struct policy_result pr;
	cJSON *m = passport("");

	(void)state;
	memset(&pr, 0xaa, sizeof(pr));
	assert_int_equal(policy_evaluate(m, "local", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_ALLOW);
	assert_true(cJSON_IsArray(pr.violations));
	assert_int_equal(cJSON_GetArraySize(pr.violations), 0);
	assert_string_equal(pr.reason, "Access granted by policy");
	policy_result_free(&pr);
	assert_null(pr.violations);
	/* Freeing twice is harmless. */
	policy_result_free(&pr);

	/* Expiring is still allowed. */
	assert_int_equal(policy_evaluate(m, "local", NOW + 80 * DAY, &pr), 0);
	assert_string_equal(passport_status(m, NOW + 80 * DAY), "expiring");
	assert_int_equal(pr.effect, POLICY_ALLOW);
	assert_int_equal(cJSON_GetArraySize(pr.violations), 0);
	policy_result_free(&pr);
	cJSON_Delete(m);
}

static void test_status_denies(void **state)
{
	static const char *const keys[] = {"revocation", "suspension"};
	static const char *const msgs[] = {"passport is revoked",
					   "passport is suspended"};
	struct policy_result pr;
	cJSON *m;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		m = passport("");
		set_object(m, keys[i]);
		assert_int_equal(policy_evaluate(m, "local", NOW, &pr), 0);
		assert_int_equal(pr.effect, POLICY_DENY);
		assert_int_equal(cJSON_GetArraySize(pr.violations), 1);
		violation(&pr, 0, "passport-status", msgs[i]);
		assert_string_equal(pr.reason, msgs[i]);
		policy_result_free(&pr);
		cJSON_Delete(m);
	}
	/* Expired: at valid_until and after. */
	m = passport("");
	for (int64_t t = NOW + 90 * DAY; t <= NOW + 91 * DAY; t += DAY) {
		assert_int_equal(policy_evaluate(m, "local", t, &pr), 0);
		assert_int_equal(pr.effect, POLICY_DENY);
		violation(&pr, 0, "passport-status", "passport is expired");
		assert_string_equal(pr.reason, "passport is expired");
		policy_result_free(&pr);
	}
	/* One second before, still allowed. */
	assert_int_equal(policy_evaluate(m, "local", NOW + 90 * DAY - 1, &pr),
			 0);
	assert_int_equal(pr.effect, POLICY_ALLOW);
	policy_result_free(&pr);
	/* An unreadable end is expired too: fail closed. */
	cJSON_ReplaceItemInObject(m, "valid_until", cJSON_CreateString("?"));
	assert_int_equal(policy_evaluate(m, "local", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_DENY);
	violation(&pr, 0, "passport-status", "passport is expired");
	policy_result_free(&pr);
	cJSON_Delete(m);
}

static void test_agent_binding(void **state)
{
	struct policy_result pr;
	cJSON *m = passport("\"agent_id\":\"claude\"");

	(void)state;
	/* Only the bound principal. */
	assert_int_equal(policy_evaluate(m, "claude", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_ALLOW);
	assert_int_equal(cJSON_GetArraySize(pr.violations), 0);
	policy_result_free(&pr);
	assert_int_equal(policy_evaluate(m, "local", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_DENY);
	assert_int_equal(cJSON_GetArraySize(pr.violations), 1);
	violation(&pr, 0, "agent-binding",
		  "passport is bound to another agent");
	policy_result_free(&pr);
	/* Matching is exact. */
	assert_int_equal(policy_evaluate(m, "Claude", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_DENY);
	policy_result_free(&pr);
	assert_int_equal(policy_evaluate(m, "claude2", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_DENY);
	policy_result_free(&pr);
	assert_int_equal(policy_evaluate(m, "", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_DENY);
	policy_result_free(&pr);
	/* No principal at all is nobody. */
	assert_int_equal(policy_evaluate(m, NULL, NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_DENY);
	violation(&pr, 0, "agent-binding",
		  "passport is bound to another agent");
	policy_result_free(&pr);
	cJSON_Delete(m);

	/* Empty or null agent_id binds nobody. */
	m = passport("\"agent_id\":\"\"");
	assert_int_equal(policy_evaluate(m, "local", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_ALLOW);
	policy_result_free(&pr);
	cJSON_Delete(m);
	m = passport("\"agent_id\":null");
	assert_int_equal(policy_evaluate(m, NULL, NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_ALLOW);
	policy_result_free(&pr);
	cJSON_Delete(m);
}

static void test_every_violation_listed(void **state)
{
	struct policy_result pr;
	cJSON *m = passport("\"agent_id\":\"claude\"");

	(void)state;
	set_object(m, "revocation");
	assert_int_equal(policy_evaluate(m, "local", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_DENY);
	assert_int_equal(cJSON_GetArraySize(pr.violations), 2);
	violation(&pr, 0, "passport-status", "passport is revoked");
	violation(&pr, 1, "agent-binding",
		  "passport is bound to another agent");
	/* The first deny decides the reason. */
	assert_string_equal(pr.reason, "passport is revoked");
	policy_result_free(&pr);
	/* The bound principal is still refused a revoked passport. */
	assert_int_equal(policy_evaluate(m, "claude", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_DENY);
	assert_int_equal(cJSON_GetArraySize(pr.violations), 1);
	violation(&pr, 0, "passport-status", "passport is revoked");
	policy_result_free(&pr);
	cJSON_Delete(m);
}

/* Whatever the passport says, the evaluator only reads it. */
static void test_passport_untouched(void **state)
{
	struct policy_result pr;
	cJSON *m = passport("\"agent_id\":\"claude\""), *copy;

	(void)state;
	set_object(m, "suspension");
	copy = cJSON_Duplicate(m, 1);
	assert_int_equal(policy_evaluate(m, "local", NOW, &pr), 0);
	policy_result_free(&pr);
	assert_true(cJSON_Compare(m, copy, 1));
	cJSON_Delete(copy);
	cJSON_Delete(m);

	/* Metadata missing every field: expired, denied, no crash. */
	m = cJSON_CreateObject();
	assert_int_equal(policy_evaluate(m, "local", NOW, &pr), 0);
	assert_int_equal(pr.effect, POLICY_DENY);
	violation(&pr, 0, "passport-status", "passport is expired");
	policy_result_free(&pr);
	cJSON_Delete(m);
}

static void test_effect_names(void **state)
{
	(void)state;
	assert_string_equal(policy_effect_name(POLICY_ALLOW), "allow");
	assert_string_equal(policy_effect_name(POLICY_REQUIRE_APPROVAL),
			    "require-approval");
	assert_string_equal(policy_effect_name(POLICY_DENY), "deny");
	/* The order the evaluator relies on: a stronger effect is larger. */
	assert_true(POLICY_ALLOW < POLICY_REQUIRE_APPROVAL);
	assert_true(POLICY_REQUIRE_APPROVAL < POLICY_DENY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allow),
	    cmocka_unit_test(test_status_denies),
	    cmocka_unit_test(test_agent_binding),
	    cmocka_unit_test(test_every_violation_listed),
	    cmocka_unit_test(test_passport_untouched),
	    cmocka_unit_test(test_effect_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
