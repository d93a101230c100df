/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/passport.h"
#include "agentd/policy.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

/*
 * The evaluator (policy.h says what it decides).  Built-in checks first,
 * in a table; then the stored rules, walked strongest first so that the
 * order of violations and the deciding rule never depend on the order
 * rules were stored in.
 */
typedef int (*check_fn)(const struct policy_input *in, char *msg, size_t len);

static int check_status(const struct policy_input *in, char *msg, size_t len)
{
	const char *st = passport_status(in->passport, in->now);

	if (strcmp(st, "revoked") == 0 || strcmp(st, "suspended") == 0 ||
	    strcmp(st, "expired") == 0) {
		snprintf(msg, len, "passport is %s", st);
		return 1;
	}
	return 0;
}

static int check_not_yet_valid(const struct policy_input *in, char *msg,
			       size_t len)
{
	const char *from = idw_json_str(in->passport, "valid_from");
	int64_t t;

	if (from != NULL && idw_time_parse(from, 0, &t) == 0 && in->now < t) {
		snprintf(msg, len, "passport is valid from %s", from);
		return 1;
	}
	return 0;
}

static int check_agent_binding(const struct policy_input *in, char *msg,
			       size_t len)
{
	const char *bound = idw_json_str(in->passport, "agent_id");

	if (bound != NULL && bound[0] != '\0' &&
	    (in->principal == NULL || strcmp(bound, in->principal) != 0)) {
		snprintf(msg, len, "passport is bound to another agent");
		return 1;
	}
	return 0;
}

static int check_delegation(const struct policy_input *in, char *msg,
			    size_t len)
{
	int hop = passport_hop_expired(in->passport, in->now);

	if (hop > 0) {
		snprintf(msg, len, "delegation hop %d has ended", hop);
		return 1;
	}
	return 0;
}

/* A clock set back could bring an expired passport or lease to life. */
static int check_clock(const struct policy_input *in, char *msg, size_t len)
{
	char high[IDW_TIME_LEN];

	if (in->clock_high > 0 &&
	    in->now < in->clock_high - POLICY_CLOCK_SLACK) {
		idw_time_fmt_utc(in->clock_high, high);
		snprintf(msg, len,
			 "clock went backwards: the vault has seen %s; "
			 "time-bound decisions are refused",
			 high);
		return 1;
	}
	return 0;
}

static const struct {
	const char *rule;
	check_fn fires;
} builtin_checks[] = {
	{"clock", check_clock},
	{"passport-status", check_status},
	{"not-yet-valid", check_not_yet_valid},
	{"agent-binding", check_agent_binding},
	{"delegation-expired", check_delegation},
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

int policy_effect_of(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "allow") == 0)
		return POLICY_ALLOW;
	if (strcmp(s, "require-approval") == 0)
		return POLICY_REQUIRE_APPROVAL;
	if (strcmp(s, "deny") == 0)
		return POLICY_DENY;
	return -1;
}

static bool in_list(const cJSON *list, const char *v)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, list)
	{
		if (cJSON_IsString(e) && v != NULL &&
		    strcmp(e->valuestring, v) == 0)
			return true;
	}
	return false;
}

/* Matchers: each present one must match; absent ones match anything. */
static bool rule_matches(const cJSON *cond, const cJSON *p)
{
	const cJSON *visa = cJSON_GetObjectItemCaseSensitive(p, "visa");
	const cJSON *m, *e;
	bool any = false;

	m = cJSON_GetObjectItemCaseSensitive(cond, "visa_types");
	if (m != NULL && !in_list(m, idw_json_str(visa, "type")))
		return false;
	m = cJSON_GetObjectItemCaseSensitive(cond, "access_tiers");
	if (m != NULL && !in_list(m, idw_json_str(p, "access_tier")))
		return false;
	m = cJSON_GetObjectItemCaseSensitive(cond, "platforms");
	if (m == NULL)
		return true;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(p, "platforms"))
	{
		if (cJSON_IsString(e) && in_list(m, e->valuestring))
			any = true;
	}
	return any;
}

/*
 * Constraints: *present says whether the rule has any; the return is 1
 * when one of them fails, with msg saying which.
 */
static int rule_constraint_fails(const cJSON *cond, const cJSON *p,
				 bool *present, char *msg, size_t len)
{
	const cJSON *c;
	const char *owner, *from_s, *until_s;
	int64_t from, until;

	*present = false;
	c = cJSON_GetObjectItemCaseSensitive(cond, "require_human_owner");
	if (cJSON_IsTrue(c)) {
		*present = true;
		owner = idw_json_str(p, "human_owner");
		if (owner == NULL || owner[0] == '\0') {
			snprintf(msg, len, "the passport has no human owner");
			return 1;
		}
	}
	c = cJSON_GetObjectItemCaseSensitive(cond, "max_validity_days");
	if (cJSON_IsNumber(c)) {
		*present = true;
		from_s = idw_json_str(p, "valid_from");
		until_s = idw_json_str(p, "valid_until");
		if (until_s == NULL ||
		    idw_time_parse(until_s, 1, &until) != 0) {
			snprintf(msg, len, "the passport has no valid_until");
			return 1;
		}
		if (from_s == NULL || idw_time_parse(from_s, 0, &from) != 0)
			from = INT64_MIN / 2; /* no start: unbounded */
		if (until - from > (int64_t)c->valueint * 86400) {
			int64_t span = until - from;

			snprintf(
				msg, len, "valid for %lld days, more than %d",
				(long long)(span / 86400 + (span % 86400 != 0)),
				c->valueint);
			return 1;
		}
	}
	c = cJSON_GetObjectItemCaseSensitive(cond, "max_delegation_depth");
	if (cJSON_IsNumber(c)) {
		int depth = cJSON_GetArraySize(
			cJSON_GetObjectItemCaseSensitive(p, "delegation"));

		*present = true;
		if (depth > c->valueint) {
			snprintf(msg, len, "delegation depth %d is over %d",
				 depth, c->valueint);
			return 1;
		}
	}
	return 0;
}

static int add_violation(cJSON *arr, const char *rule, enum policy_effect e,
			 const char *msg)
{
	cJSON *v = cJSON_CreateObject();

	if (v == NULL || cJSON_AddStringToObject(v, "rule", rule) == NULL ||
	    cJSON_AddStringToObject(v, "effect", policy_effect_name(e)) ==
		    NULL ||
	    cJSON_AddStringToObject(v, "message", msg) == NULL ||
	    !cJSON_AddItemToArray(arr, v)) {
		cJSON_Delete(v);
		return IDW_ENOMEM;
	}
	return 0;
}

static int rule_effect(const cJSON *r)
{
	int e = policy_effect_of(idw_json_str(r, "effect"));

	return e < 0 ? POLICY_DENY : e; /* unreadable: the strongest */
}

/* Strongest first: priority, then effect, then id. */
static int rule_order(const void *pa, const void *pb)
{
	const cJSON *a = *(const cJSON *const *)pa;
	const cJSON *b = *(const cJSON *const *)pb;
	int64_t x = idw_json_int(a, "priority", 0);
	int64_t y = idw_json_int(b, "priority", 0);
	const char *ia = idw_json_str(a, "id"), *ib = idw_json_str(b, "id");

	if (x != y)
		return x > y ? -1 : 1;
	if (rule_effect(a) != rule_effect(b))
		return rule_effect(a) > rule_effect(b) ? -1 : 1;
	return strcmp(ia ? ia : "", ib ? ib : "");
}

/* One rule: 1 when it fired (msg set), 0 when not. */
static int rule_fires(const cJSON *r, const cJSON *p, char *msg, size_t len)
{
	const cJSON *cond = cJSON_GetObjectItemCaseSensitive(r, "condition");
	const char *desc = idw_json_str(r, "description");
	const char *name = idw_json_str(r, "name");
	bool present;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "enabled")) ||
	    !rule_matches(cond, p))
		return 0;
	if (rule_constraint_fails(cond, p, &present, msg, len))
		return 1;
	if (present)
		return 0;
	snprintf(msg, len, "%s",
		 desc != NULL && desc[0] != '\0' ? desc
		 : name != NULL			 ? name
						 : "matched");
	return 1;
}

static int run_rules(const struct policy_input *in, struct policy_result *res)
{
	const cJSON **sorted;
	bool decided = false;
	size_t n =
		in->nrules > POLICY_RULES_MAX ? POLICY_RULES_MAX : in->nrules;
	int r = 0;

	if (n == 0)
		return 0;
	if ((sorted = calloc(n, sizeof(*sorted))) == NULL)
		return IDW_ENOMEM;
	memcpy(sorted, in->rules, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), rule_order);
	for (size_t i = 0; i < n && r == 0; i++) {
		const char *id = idw_json_str(sorted[i], "id");
		enum policy_effect e = rule_effect(sorted[i]);
		char msg[200];

		if (!rule_fires(sorted[i], in->passport, msg, sizeof(msg)))
			continue;
		if (e != POLICY_ALLOW)
			r = add_violation(res->violations, id ? id : "?", e,
					  msg);
		if (decided)
			continue;
		decided = true;
		res->effect = e;
		snprintf(res->rule, sizeof(res->rule), "%s", id ? id : "?");
		if (e == POLICY_ALLOW)
			snprintf(res->reason, sizeof(res->reason),
				 "allowed by rule %s", res->rule);
		else
			snprintf(res->reason, sizeof(res->reason),
				 "%.180s (%s)", msg, res->rule);
	}
	free(sorted);
	return r;
}

int policy_decide(const struct policy_input *in, struct policy_result *res)
{
	bool builtin = false;
	int r;

	memset(res, 0, sizeof(*res));
	res->effect = POLICY_ALLOW;
	res->violations = cJSON_CreateArray();
	if (res->violations == NULL)
		return IDW_ENOMEM;
	snprintf(res->reason, sizeof(res->reason), "Access granted by policy");
	for (size_t i = 0;
	     i < sizeof(builtin_checks) / sizeof(builtin_checks[0]); i++) {
		char msg[200];

		if (!builtin_checks[i].fires(in, msg, sizeof(msg)))
			continue;
		if ((r = add_violation(res->violations, builtin_checks[i].rule,
				       POLICY_DENY, msg)) != 0)
			goto fail;
		if (!builtin) {
			builtin = true;
			res->effect = POLICY_DENY;
			snprintf(res->rule, sizeof(res->rule), "%s",
				 builtin_checks[i].rule);
			snprintf(res->reason, sizeof(res->reason), "%s", msg);
		}
	}
	if (builtin) {
		/* The rules still list what they say, but decide nothing. */
		struct policy_result rr;

		memset(&rr, 0, sizeof(rr));
		if ((rr.violations = cJSON_CreateArray()) == NULL) {
			r = IDW_ENOMEM;
			goto fail;
		}
		r = run_rules(in, &rr);
		while (r == 0 && rr.violations->child != NULL)
			cJSON_AddItemToArray(
				res->violations,
				cJSON_DetachItemViaPointer(
					rr.violations, rr.violations->child));
		policy_result_free(&rr);
		if (r != 0)
			goto fail;
		return 0;
	}
	if ((r = run_rules(in, res)) != 0)
		goto fail;
	return 0;
fail:
	policy_result_free(res);
	return r;
}

void policy_result_free(struct policy_result *res)
{
	cJSON_Delete(res->violations);
	res->violations = NULL;
}

int policy_depth_limit(const cJSON *passport, const cJSON *const *rules,
		       size_t nrules)
{
	int limit = -1;

	for (size_t i = 0; i < nrules; i++) {
		const cJSON *cond =
			cJSON_GetObjectItemCaseSensitive(rules[i], "condition");
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(
			cond, "max_delegation_depth");

		if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
			    rules[i], "enabled")) ||
		    !cJSON_IsNumber(d) || !rule_matches(cond, passport))
			continue;
		if (limit < 0 || d->valueint < limit)
			limit = d->valueint;
	}
	return limit;
}
