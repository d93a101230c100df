/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "agentd/passport.h"
#include "agentd/policy.h"
#include "common/jsonu.h"

/*
 * Built-in checks that no rule can override: a revoked, suspended or
 * expired passport is denied, and a passport bound to one principal
 * (agent_id) serves only that principal.  Stored rules with priorities
 * join this table's results in the policy engine.
 */
typedef int (*check_fn)(const cJSON *p, const char *principal, int64_t now,
			char *msg, size_t len);

static int check_status(const cJSON *p, const char *principal, int64_t now,
			char *msg, size_t len)
{
	const char *st = passport_status(p, now);

	(void)principal;
	if (strcmp(st, "revoked") == 0 || strcmp(st, "suspended") == 0 ||
	    strcmp(st, "expired") == 0) {
		snprintf(msg, len, "passport is %s", st);
		return 1;
	}
	return 0;
}

static int check_agent_binding(const cJSON *p, const char *principal,
			       int64_t now, char *msg, size_t len)
{
	const char *bound = idw_json_str(p, "agent_id");

	(void)now;
	if (bound != NULL && bound[0] != '\0' &&
	    (principal == NULL || strcmp(bound, principal) != 0)) {
		snprintf(msg, len, "passport is bound to another agent");
		return 1;
	}
	return 0;
}

static const struct {
	const char *rule;
	enum policy_effect effect;
	check_fn fires;
} builtin_checks[] = {
    {"passport-status", POLICY_DENY, check_status},
    {"agent-binding", POLICY_DENY, check_agent_binding},
};

const char *policy_effect_name(enum policy_effect e)
{
	switch (e) {
	case POLICY_DENY:
		return "deny";
	case POLICY_REQUIRE_APPROVAL:
		return "require-approval";
	default:
		return "allow";
	}
}

int policy_evaluate(const cJSON *passport, const char *principal, int64_t now,
		    struct policy_result *res)
{
	memset(res, 0, sizeof(*res));
	res->effect = POLICY_ALLOW;
	res->violations = cJSON_CreateArray();
	if (res->violations == NULL)
		return IDW_ENOMEM;
	snprintf(res->reason, sizeof(res->reason), "Access granted by policy");
	for (size_t i = 0;
	     i < sizeof(builtin_checks) / sizeof(builtin_checks[0]); i++) {
		char msg[200];
		cJSON *v;

		if (!builtin_checks[i].fires(passport, principal, now, msg,
					     sizeof(msg)))
			continue;
		v = cJSON_CreateObject();
		if (v == NULL) {
			policy_result_free(res);
			return IDW_ENOMEM;
		}
		cJSON_AddStringToObject(v, "rule", builtin_checks[i].rule);
		cJSON_AddStringToObject(
		    v, "effect", policy_effect_name(builtin_checks[i].effect));
		cJSON_AddStringToObject(v, "message", msg);
		cJSON_AddItemToArray(res->violations, v);
		if (builtin_checks[i].effect > res->effect ||
		    res->effect == POLICY_ALLOW) {
			res->effect = builtin_checks[i].effect;
			snprintf(res->reason, sizeof(res->reason), "%s", msg);
		}
	}
	return 0;
}

void policy_result_free(struct policy_result *res)
{
	cJSON_Delete(res->violations);
	res->violations = NULL;
}
