/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/policy.c and agentd/policy_rule.c, table-driven:
 * each row is a passport, a principal, a time, a rule set and what the
 * evaluator must answer (effect, deciding rule, every violation in
 * order).  The clock is the row's: validity edges are tested at the
 * exact second, and a clock set back against the highest time seen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agentd/passport.h"
#include "agentd/policy.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define DAY 86400
#define NOW ((int64_t)1795456800) /* 2026-11-23T18:00:00Z */
#define OWNER "\"human_owner\":\"alice\""
#define PRIV "\"visa\":{\"type\":\"privilege\"}"
#define HOP(from, to, scope)                                                   \
	"{\"from\":\"" from "\",\"to\":\"" to "\",\"scope\":[" scope           \
	"],\"expires_at\":null,\"notes\":\"\"}"
#define HOPS3                                                                  \
	"\"delegation\":[" HOP("alice", "b", "\"r\"") "," HOP(                 \
		"b", "c", "\"r\"") "," HOP("c", "d", "\"r\"") "]"
#define HOPS4                                                                  \
	"\"delegation\":[" HOP("alice", "b", "\"r\"") "," HOP(                 \
		"b", "c", "\"r\"") "," HOP("c", "d",                           \
					   "\"r\"") "," HOP("d", "e",          \
							    "\"r\"") "]"
#define STAMP                                                                  \
	"{\"at\":\"2026-11-23T18:00:00Z\",\"reason\":\"t\",\"by\":\"local\"}"

/* Rule snippets for the rows that bring their own rules. */
#define R(id, eff, prio, cond)                                                 \
	"{\"id\":\"" id "\",\"name\":\"" id "\",\"effect\":\"" eff             \
	"\",\"priority\":" #prio ",\"condition\":{" cond "}}"

/* The defaults plus the README's worked example rule. */
#define DEFAULTS_AND_CI                                                                  \
	"[" R("require-human-owner", "deny", 100, "\"require_human_owner\":true") "," R( \
		"max-validity-90-days", "deny", 90,                                      \
		"\"max_validity_days\":90") "," R("max-delegation-depth-3",              \
						  "deny", 80,                            \
						  "\"max_delegation_depth\":"            \
						  "3") "," R("privilege-visa-"           \
							     "requires-"                 \
							     "approval",                 \
							     "require-"                  \
							     "approval",                 \
							     70,                         \
							     "\"visa_types\":"           \
							     "[\"privilege\""            \
							     "]") "," R("ci-"            \
									"allo"           \
									"w",             \
									"allo"           \
									"w",             \
									75,              \
									"\"pl"           \
									"atfo"           \
									"rms"            \
									"\":["           \
									"\"ci"           \
									"\"]") "]"

struct pcase {
	const char *name;
	const char *fields; /* create request members */
	const char *patch;  /* stored members replaced afterwards, or NULL */
	const char *principal;
	int64_t at;	   /* seconds after NOW */
	int64_t high;	   /* highest time seen, after NOW; 0: none */
	const char *rules; /* JSON array; NULL: the four defaults */
	const char *off;   /* a rule id disabled for the row, or NULL */
	enum policy_effect effect;
	const char *rule;	/* the deciding rule or check, "" when none */
	const char *violations; /* rule ids in order, space separated */
};

static const struct pcase cases[] = {
	/* Each default rule. */
	{"plain passport", OWNER, NULL, "local", 0, 0, NULL, NULL, POLICY_ALLOW,
	 "", ""},
	{"no human owner", "\"human_owner\":null", NULL, "local", 0, 0, NULL,
	 NULL, POLICY_DENY, "require-human-owner", "require-human-owner"},
	{"empty human owner", "\"human_owner\":\"\"", NULL, "local", 0, 0, NULL,
	 NULL, POLICY_DENY, "require-human-owner", "require-human-owner"},
	{"validity exactly 90 days",
	 OWNER ",\"valid_until\":\"2027-02-21T18:00:00Z\"", NULL, "local", 0, 0,
	 NULL, NULL, POLICY_ALLOW, "", ""},
	{"validity 90 days and 1 s",
	 OWNER ",\"valid_until\":\"2027-02-21T18:00:01Z\"", NULL, "local", 0, 0,
	 NULL, NULL, POLICY_DENY, "max-validity-90-days",
	 "max-validity-90-days"},
	{"validity a year", OWNER ",\"valid_until\":\"2027-11-23\"", NULL,
	 "local", 0, 0, NULL, NULL, POLICY_DENY, "max-validity-90-days",
	 "max-validity-90-days"},
	{"depth 3 allowed", OWNER, HOPS3, "local", 0, 0, NULL, NULL,
	 POLICY_ALLOW, "", ""},
	{"depth 4 denied", OWNER, HOPS4, "local", 0, 0, NULL, NULL, POLICY_DENY,
	 "max-delegation-depth-3", "max-delegation-depth-3"},
	{"privilege visa", OWNER "," PRIV, NULL, "local", 0, 0, NULL, NULL,
	 POLICY_REQUIRE_APPROVAL, "privilege-visa-requires-approval",
	 "privilege-visa-requires-approval"},
	/* Priorities: the highest fired rule decides, all are listed. */
	{"privilege and no owner", "\"human_owner\":null," PRIV, NULL, "local",
	 0, 0, NULL, NULL, POLICY_DENY, "require-human-owner",
	 "require-human-owner privilege-visa-requires-approval"},
	{"every default fires",
	 "\"human_owner\":null," PRIV ",\"valid_until\":\"2028-01-01\"", HOPS4,
	 "local", 0, 0, NULL, NULL, POLICY_DENY, "require-human-owner",
	 "require-human-owner max-validity-90-days max-delegation-depth-3 "
	 "privilege-visa-requires-approval"},
	/* Disabled rules fire for nothing. */
	{"owner rule disabled", "\"human_owner\":null", NULL, "local", 0, 0,
	 NULL, "require-human-owner", POLICY_ALLOW, "", ""},
	{"approval rule disabled", OWNER "," PRIV, NULL, "local", 0, 0, NULL,
	 "privilege-visa-requires-approval", POLICY_ALLOW, "", ""},
	{"owner disabled, privilege decides", "\"human_owner\":null," PRIV,
	 NULL, "local", 0, 0, NULL, "require-human-owner",
	 POLICY_REQUIRE_APPROVAL, "privilege-visa-requires-approval",
	 "privilege-visa-requires-approval"},
	/* Ties at equal priority: deny > require-approval > allow. */
	{"tie deny over approval", OWNER, NULL, "local", 0, 0,
	 "[" R("a-approve", "require-approval", 50, "") "," R("b-deny", "deny",
							      50, "") "]",
	 NULL, POLICY_DENY, "b-deny", "b-deny a-approve"},
	{"tie approval over allow", OWNER, NULL, "local", 0, 0,
	 "[" R("a-allow", "allow", 50,
	       "") "," R("b-approve", "require-approval", 50, "") "]",
	 NULL, POLICY_REQUIRE_APPROVAL, "b-approve", "b-approve"},
	{"tie deny over allow", OWNER, NULL, "local", 0, 0,
	 "[" R("z-deny", "deny", 7, "") "," R("a-allow", "allow", 7, "") "]",
	 NULL, POLICY_DENY, "z-deny", "z-deny"},
	/* A higher allow decides; the deny it outranks is still listed. */
	{"higher allow decides", OWNER, NULL, "local", 0, 0,
	 "[" R("lo-deny", "deny", 10, "") "," R("hi-allow", "allow", 11,
						"") "]",
	 NULL, POLICY_ALLOW, "hi-allow", "lo-deny"},
	{"nothing fired", OWNER, NULL, "local", 0, 0, "[]", NULL, POLICY_ALLOW,
	 "", ""},
	/* The README's worked table, with its ci-allow rule. */
	{"readme: privilege on ci", OWNER "," PRIV ",\"platforms\":[\"ci\"]",
	 NULL, "local", 0, 0, DEFAULTS_AND_CI, NULL, POLICY_ALLOW, "ci-allow",
	 "privilege-visa-requires-approval"},
	{"readme: ci, valid a year",
	 OWNER ",\"platforms\":[\"ci\"],\"valid_until\":\"2027-11-23\"", NULL,
	 "local", 0, 0, DEFAULTS_AND_CI, NULL, POLICY_DENY,
	 "max-validity-90-days", "max-validity-90-days"},
	{"readme: plain with ci rule", OWNER, NULL, "local", 0, 0,
	 DEFAULTS_AND_CI, NULL, POLICY_ALLOW, "", ""},
	/* Matchers: all must match; a list matches any of its entries. */
	{"platform matcher hit", OWNER ",\"platforms\":[\"aws\",\"gcp\"]", NULL,
	 "local", 0, 0,
	 "[" R("cloud", "deny", 5, "\"platforms\":[\"gcp\"]") "]", NULL,
	 POLICY_DENY, "cloud", "cloud"},
	{"platform matcher miss", OWNER ",\"platforms\":[\"openai\"]", NULL,
	 "local", 0, 0,
	 "[" R("cloud", "deny", 5, "\"platforms\":[\"gcp\"]") "]", NULL,
	 POLICY_ALLOW, "", ""},
	{"no platforms never match", OWNER, NULL, "local", 0, 0,
	 "[" R("cloud", "deny", 5, "\"platforms\":[\"gcp\"]") "]", NULL,
	 POLICY_ALLOW, "", ""},
	{"tier and visa both needed", OWNER ",\"access_tier\":\"critical\"",
	 NULL, "local", 0, 0,
	 "[" R("crit-priv", "deny", 5,
	       "\"access_tiers\":[\"critical\"],\"visa_types\":["
	       "\"privilege\"]") "]",
	 NULL, POLICY_ALLOW, "", ""},
	{"tier matcher", OWNER ",\"access_tier\":\"critical\"", NULL, "local",
	 0, 0,
	 "[" R("crit", "require-approval", 5,
	       "\"access_tiers\":[\"critical\"]") "]",
	 NULL, POLICY_REQUIRE_APPROVAL, "crit", "crit"},
	/* Constraints: a rule with constraints fires only when one fails. */
	{"constraint fails: fires", OWNER ",\"access_tier\":\"critical\"", NULL,
	 "local", 0, 0,
	 "[" R("crit-short", "deny", 5,
	       "\"access_tiers\":[\"critical\"],\"max_validity_days\":30") "]",
	 NULL, POLICY_DENY, "crit-short", "crit-short"},
	{"constraint holds",
	 OWNER ",\"access_tier\":\"critical\","
	       "\"valid_until\":\"2026-12-01\"",
	 NULL, "local", 0, 0,
	 "[" R("crit-short", "deny", 5,
	       "\"access_tiers\":[\"critical\"],\"max_validity_days\":30") "]",
	 NULL, POLICY_ALLOW, "", ""},
	{"one of two constraints fails", "\"human_owner\":null", NULL, "local",
	 0, 0,
	 "[" R("both", "deny", 5,
	       "\"max_validity_days\":365,\"require_human_owner\":true") "]",
	 NULL, POLICY_DENY, "both", "both"},
	{"depth 0 allowed without hops", OWNER, NULL, "local", 0, 0,
	 "[" R("nodelegation", "deny", 5, "\"max_delegation_depth\":0") "]",
	 NULL, POLICY_ALLOW, "", ""},
	{"depth 0 refuses one hop", OWNER,
	 "\"delegation\":[" HOP("alice", "b", "\"r\"") "]", "local", 0, 0,
	 "[" R("nodelegation", "deny", 5, "\"max_delegation_depth\":0") "]",
	 NULL, POLICY_DENY, "nodelegation", "nodelegation"},
	/* agent_id binding by principal. */
	{"bound, its principal", OWNER ",\"agent_id\":\"token:0123456789ab\"",
	 NULL, "token:0123456789ab", 0, 0, NULL, NULL, POLICY_ALLOW, "", ""},
	{"bound, local", OWNER ",\"agent_id\":\"token:0123456789ab\"", NULL,
	 "local", 0, 0, NULL, NULL, POLICY_DENY, "agent-binding",
	 "agent-binding"},
	{"bound, another token", OWNER ",\"agent_id\":\"token:0123456789ab\"",
	 NULL, "token:0123456789ac", 0, 0, NULL, NULL, POLICY_DENY,
	 "agent-binding", "agent-binding"},
	{"bound, no principal", OWNER ",\"agent_id\":\"claude\"", NULL, NULL, 0,
	 0, NULL, NULL, POLICY_DENY, "agent-binding", "agent-binding"},
	/* Built-ins outrank every rule, and the rules are still listed. */
	{"revoked beats an allow", "\"human_owner\":null",
	 "\"revocation\":" STAMP, "local", 0, 0,
	 "[" R("all", "allow", 10000,
	       "") "," R("own", "deny", 1, "\"require_human_owner\":true") "]",
	 NULL, POLICY_DENY, "passport-status", "passport-status own"},
	{"suspended", OWNER, "\"suspension\":" STAMP, "local", 0, 0, NULL, NULL,
	 POLICY_DENY, "passport-status", "passport-status"},
	/* Validity at the exact second. */
	{"last valid second", OWNER, NULL, "local", 90 * DAY - 1, 0, NULL, NULL,
	 POLICY_ALLOW, "", ""},
	{"expired at valid_until", OWNER, NULL, "local", 90 * DAY, 0, NULL,
	 NULL, POLICY_DENY, "passport-status", "passport-status"},
	{"not valid a second early",
	 OWNER ",\"valid_from\":\"2026-11-24T18:00:00Z\""
	       ",\"valid_until\":\"2027-01-01\"",
	 NULL, "local", DAY - 1, 0, NULL, NULL, POLICY_DENY, "not-yet-valid",
	 "not-yet-valid"},
	{"valid from its first second",
	 OWNER ",\"valid_from\":\"2026-11-24T18:00:00Z\",\"valid_until\":"
	       "\"2027-01-01\"",
	 NULL, "local", DAY, 0, NULL, NULL, POLICY_ALLOW, "", ""},
	{"hop ends at its second", OWNER,
	 "\"delegation\":[{\"from\":\"alice\",\"to\":\"b\",\"scope\":[\"r\"],"
	 "\"expires_at\":\"2026-11-23T19:00:00Z\",\"notes\":\"\"}]",
	 "local", 3600, 0, NULL, NULL, POLICY_DENY, "delegation-expired",
	 "delegation-expired"},
	{"hop a second before its end", OWNER,
	 "\"delegation\":[{\"from\":\"alice\",\"to\":\"b\",\"scope\":[\"r\"],"
	 "\"expires_at\":\"2026-11-23T19:00:00Z\",\"notes\":\"\"}]",
	 "local", 3599, 0, NULL, NULL, POLICY_ALLOW, "", ""},
	/* A clock set back, against the highest time the vault saw. */
	{"clock back 301 s", OWNER, NULL, "local", 1000 - 301, 1000, NULL, NULL,
	 POLICY_DENY, "clock", "clock"},
	{"clock back 300 s", OWNER, NULL, "local", 1000 - 300, 1000, NULL, NULL,
	 POLICY_ALLOW, "", ""},
	/* Set back to before valid_until, an expired passport stays denied. */
	{"clock back past expiry", OWNER, NULL, "local", 90 * DAY - 10,
	 91 * DAY, NULL, NULL, POLICY_DENY, "clock", "clock"},
};

static cJSON *passport_of(const struct pcase *c)
{
	char buf[4096], why[300];
	cJSON *req, *m = NULL, *patch;
	const cJSON *e;

	snprintf(buf, sizeof(buf),
		 "{\"name\":\"n\",\"credential_type\":\"api-key\"%s%s}",
		 c->fields[0] ? "," : "", c->fields);
	req = idw_json_parse(buf, strlen(buf));
	assert_non_null(req);
	if (passport_from_request(req, "pp_0123456789abcdef", NOW, &m, why,
				  sizeof(why)) != 0)
		fail_msg("%s: create refused: %s", c->name, why);
	cJSON_Delete(req);
	if (c->patch == NULL)
		return m;
	snprintf(buf, sizeof(buf), "{%s}", c->patch);
	patch = idw_json_parse(buf, strlen(buf));
	assert_non_null(patch);
	cJSON_ArrayForEach(e, patch)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(m, e->string);
		cJSON_AddItemToObject(m, e->string, cJSON_Duplicate(e, 1));
	}
	cJSON_Delete(patch);
	return m;
}

/* The row's rules, each checked as 'idw policy add' checks it. */
static cJSON *rules_of(const struct pcase *c)
{
	cJSON *in, *out = cJSON_CreateArray();
	const cJSON *e;
	char why[300];

	if (c->rules == NULL) {
		in = policy_default_rules();
	} else {
		in = idw_json_parse(c->rules, strlen(c->rules));
	}
	assert_non_null(in);
	cJSON_ArrayForEach(e, in)
	{
		cJSON *r = NULL;

		if (policy_rule_from_json(e, "x", &r, why, sizeof(why)) != 0)
			fail_msg("%s: rule refused: %s", c->name, why);
		if (c->off != NULL &&
		    strcmp(idw_json_str(r, "id"), c->off) == 0)
			cJSON_ReplaceItemInObject(r, "enabled",
						  cJSON_CreateFalse());
		cJSON_AddItemToArray(out, r);
	}
	cJSON_Delete(in);
	return out;
}

static void run_case(const struct pcase *c)
{
	const cJSON *ptrs[POLICY_RULES_MAX];
	cJSON *m = passport_of(c), *rules = rules_of(c), *copy;
	struct policy_input in = {
		.passport = m,
		.principal = c->principal,
		.now = NOW + c->at,
		.clock_high = c->high ? NOW + c->high : 0,
		.rules = ptrs,
	};
	struct policy_result pr;
	char got[512] = "";
	const cJSON *v;

	cJSON_ArrayForEach(v, rules) ptrs[in.nrules++] = v;
	copy = cJSON_Duplicate(m, 1);
	if (policy_decide(&in, &pr) != 0)
		fail_msg("%s: evaluation failed", c->name);
	cJSON_ArrayForEach(v, pr.violations)
	{
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
			 got[0] ? " " : "", idw_json_str(v, "rule"));
		assert_non_null(idw_json_str(v, "message"));
		/* Only deny and require-approval are violations. */
		assert_string_not_equal(idw_json_str(v, "effect"), "allow");
	}
	if (pr.effect != c->effect || strcmp(pr.rule, c->rule) != 0 ||
	    strcmp(got, c->violations) != 0)
		fail_msg("%s: got %s by '%s' [%s] (%s), want %s by '%s' [%s]",
			 c->name, policy_effect_name(pr.effect), pr.rule, got,
			 pr.reason, policy_effect_name(c->effect), c->rule,
			 c->violations);
	if (c->effect == POLICY_ALLOW && c->rule[0] == '\0')
		assert_string_equal(pr.reason, "Access granted by policy");
	else
		assert_true(pr.reason[0] != '\0');
	/* The evaluator only reads. */
	assert_true(cJSON_Compare(m, copy, 1));
	policy_result_free(&pr);
	assert_null(pr.violations);
	policy_result_free(&pr);
	cJSON_Delete(copy);
	cJSON_Delete(rules);
	cJSON_Delete(m);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
}

/* The same rules in any stored order give the same answer. */
static void test_order_free(void **state)
{
	struct pcase c = cases[10]; /* every default fires */
	cJSON *m, *rules;
	const cJSON *ptrs[8], *v;
	size_t n = 0;
	char first[512] = "";

	(void)state;
	assert_string_equal(c.name, "every default fires");
	m = passport_of(&c);
	rules = rules_of(&c);
	cJSON_ArrayForEach(v, rules) ptrs[n++] = v;
	for (size_t rot = 0; rot < n; rot++) {
		const cJSON *r[8];
		struct policy_input in = {.passport = m,
					  .principal = "local",
					  .now = NOW,
					  .rules = r,
					  .nrules = n};
		struct policy_result pr;
		char *txt;

		for (size_t i = 0; i < n; i++)
			r[i] = ptrs[(i + rot) % n];
		assert_int_equal(policy_decide(&in, &pr), 0);
		txt = cJSON_PrintUnformatted(pr.violations);
		if (rot == 0)
			snprintf(first, sizeof(first), "%s", txt);
		else
			assert_string_equal(txt, first);
		assert_string_equal(pr.rule, "require-human-owner");
		cJSON_free(txt);
		policy_result_free(&pr);
	}
	cJSON_Delete(rules);
	cJSON_Delete(m);
}

static void test_messages(void **state)
{
	struct pcase c = cases[5]; /* validity a year */
	const cJSON *ptrs[8], *v;
	struct policy_result pr;
	struct policy_input in = {
		.principal = "local", .now = NOW, .rules = ptrs};
	cJSON *m, *rules;

	(void)state;
	m = passport_of(&c);
	rules = rules_of(&c);
	cJSON_ArrayForEach(v, rules) ptrs[in.nrules++] = v;
	in.passport = m;
	assert_int_equal(policy_decide(&in, &pr), 0);
	v = cJSON_GetArrayItem(pr.violations, 0);
	assert_string_equal(idw_json_str(v, "effect"), "deny");
	assert_string_equal(idw_json_str(v, "message"),
			    "valid for 366 days, more than 90");
	assert_non_null(strstr(pr.reason, "max-validity-90-days"));
	policy_result_free(&pr);
	/* No valid_until at all violates max_validity_days. */
	cJSON_DeleteItemFromObject(m, "valid_until");
	in.now = NOW;
	assert_int_equal(policy_decide(&in, &pr), 0);
	/* (and the status check calls it expired first) */
	assert_int_equal(pr.effect, POLICY_DENY);
	assert_string_equal(pr.rule, "passport-status");
	v = cJSON_GetArrayItem(pr.violations, 1);
	assert_string_equal(idw_json_str(v, "rule"), "max-validity-90-days");
	assert_string_equal(idw_json_str(v, "message"),
			    "the passport has no valid_until");
	policy_result_free(&pr);
	cJSON_Delete(rules);
	cJSON_Delete(m);
}

static void refuse_rule(const char *json, const char *word)
{
	cJSON *in = idw_json_parse(json, strlen(json)), *out = (cJSON *)1;
	char why[300] = "";

	assert_non_null(in);
	assert_int_equal(
		policy_rule_from_json(in, "dflt", &out, why, sizeof(why)),
		IDW_EUSAGE);
	assert_null(out);
	if (strstr(why, word) == NULL)
		fail_msg("%s refused with '%s', not naming '%s'", json, why,
			 word);
	cJSON_Delete(in);
}

static void test_rule_checks(void **state)
{
	const char *ok = "{\"name\":\"n\",\"effect\":\"deny\",\"priority\":5,"
			 "\"condition\":{\"platforms\":[\"aws\"]}}";
	cJSON *in = idw_json_parse(ok, strlen(ok)), *out = NULL;
	char why[300];

	(void)state;
	assert_int_equal(
		policy_rule_from_json(in, "rule-1", &out, why, sizeof(why)), 0);
	assert_string_equal(idw_json_str(out, "id"), "rule-1");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(out, "enabled")));
	assert_string_equal(idw_json_str(out, "description"), "");
	cJSON_Delete(out);
	cJSON_Delete(in);
	/* A misspelt matcher must not become a rule matching everything. */
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\",\"priority\":5,"
		    "\"condition\":{\"platform\":[\"aws\"]}}",
		    "platform");
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\",\"priority\":5,"
		    "\"condition\":{\"platforms\":[]}}",
		    "leave it out");
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\",\"priority\":5,"
		    "\"condition\":{\"visa_types\":[\"root\"]}}",
		    "visa_types");
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\",\"priority\":5,"
		    "\"extra\":1}",
		    "extra");
	refuse_rule("{\"name\":\"n\",\"effect\":\"maybe\",\"priority\":5}",
		    "effect");
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\",\"priority\":1.5}",
		    "priority");
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\",\"priority\":10001}",
		    "priority");
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\"}", "priority");
	refuse_rule("{\"effect\":\"deny\",\"priority\":1}", "name");
	refuse_rule("{\"id\":\"Bad Id\",\"name\":\"n\",\"effect\":\"deny\","
		    "\"priority\":1}",
		    "id");
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\",\"priority\":1,"
		    "\"condition\":{\"max_validity_days\":0}}",
		    "max_validity_days");
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\",\"priority\":1,"
		    "\"condition\":{\"require_human_owner\":1}}",
		    "require_human_owner");
	refuse_rule("{\"name\":\"n\",\"effect\":\"deny\",\"priority\":1,"
		    "\"enabled\":\"yes\"}",
		    "enabled");
}

static void test_defaults(void **state)
{
	static const struct {
		const char *id, *effect;
		int prio;
	} want[] = {
		{"require-human-owner", "deny", 100},
		{"max-validity-90-days", "deny", 90},
		{"max-delegation-depth-3", "deny", 80},
		{"privilege-visa-requires-approval", "require-approval", 70},
	};
	cJSON *d = policy_default_rules();
	size_t i = 0;
	const cJSON *r;

	(void)state;
	assert_int_equal(cJSON_GetArraySize(d), 4);
	cJSON_ArrayForEach(r, d)
	{
		cJSON *norm = NULL;
		char why[300];

		assert_string_equal(idw_json_str(r, "id"), want[i].id);
		assert_string_equal(idw_json_str(r, "effect"), want[i].effect);
		assert_int_equal(idw_json_int(r, "priority", -1), want[i].prio);
		/* Each passes the checks 'idw policy add' makes, unchanged. */
		assert_int_equal(
			policy_rule_from_json(r, "x", &norm, why, sizeof(why)),
			0);
		assert_true(cJSON_Compare(r, norm, 1));
		cJSON_Delete(norm);
		i++;
	}
	cJSON_Delete(d);
}

static void test_depth_limit(void **state)
{
	struct pcase c = cases[0];
	const cJSON *ptrs[8], *v;
	cJSON *m, *rules;
	size_t n = 0;

	(void)state;
	m = passport_of(&c);
	rules = rules_of(&c);
	cJSON_ArrayForEach(v, rules) ptrs[n++] = v;
	assert_int_equal(policy_depth_limit(m, ptrs, n), 3);
	cJSON_ReplaceItemInObject((cJSON *)ptrs[2], "enabled",
				  cJSON_CreateFalse());
	assert_int_equal(policy_depth_limit(m, ptrs, n), -1);
	cJSON_Delete(rules);
	cJSON_Delete(m);
}

static void test_effect_names(void **state)
{
	(void)state;
	assert_string_equal(policy_effect_name(POLICY_ALLOW), "allow");
	assert_string_equal(policy_effect_name(POLICY_REQUIRE_APPROVAL),
			    "require-approval");
	assert_string_equal(policy_effect_name(POLICY_DENY), "deny");
	assert_int_equal(policy_effect_of("deny"), POLICY_DENY);
	assert_int_equal(policy_effect_of("Deny"), -1);
	assert_int_equal(policy_effect_of(NULL), -1);
	/* The order the evaluator relies on: a stronger effect is larger. */
	assert_true(POLICY_ALLOW < POLICY_REQUIRE_APPROVAL);
	assert_true(POLICY_REQUIRE_APPROVAL < POLICY_DENY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_order_free),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_rule_checks),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_effect_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
