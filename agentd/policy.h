/* SPDX-License-Identifier: ISC */
#ifndef IDW_POLICY_H
#define IDW_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/*
 * One evaluator for the CLI and idw-mcp alike (DESIGN "Data model").  It
 * decides from the passport, the principal asking, the time and the
 * stored rules; it releases nothing and writes no audit entry itself.
 *
 * Built-in checks come first and no rule overrides them: a revoked,
 * suspended or expired passport, one not valid yet, one bound (agent_id)
 * to another principal, a delegation hop past its end, or a clock that
 * went more than POLICY_CLOCK_SLACK seconds behind the highest time the
 * vault has seen is denied.
 *
 * Then the rules.  A rule has matchers (visa_types, platforms,
 * access_tiers; absent = any) and constraints (require_human_owner,
 * max_validity_days, max_delegation_depth).  It fires when all its
 * matchers match and it has no constraint or one of its constraints
 * fails.  The fired rule with the highest priority decides, deny before
 * require-approval before allow at equal priority; nothing fired is
 * allow.  violations lists every built-in that failed and every fired deny
 * and require-approval rule, strongest first.
 */
enum policy_effect {
	POLICY_ALLOW = 0,
	POLICY_REQUIRE_APPROVAL = 1,
	POLICY_DENY = 2,
};

#define POLICY_CLOCK_SLACK 300 /* seconds the clock may go back */
#define POLICY_RULES_MAX 64    /* their list fits one reply frame */
#define POLICY_PRIORITY_MAX 10000

struct policy_input {
	const cJSON *passport;
	const char *principal;
	int64_t now;
	int64_t clock_high; /* highest wall time the vault saw; 0: none */
	const cJSON *const *rules; /* stored rule objects */
	size_t nrules;
};

struct policy_result {
	enum policy_effect effect;
	cJSON *violations; /* [{rule, effect, message}] */
	char rule[64];	   /* the deciding rule or check; "" when none */
	char reason[256];  /* the deciding reason, for a person */
};

int policy_decide(const struct policy_input *in,
		  struct policy_result *res) IDW_WUR;
void policy_result_free(struct policy_result *res);
const char *policy_effect_name(enum policy_effect e);
/* The effect named s; -1 when s names none. */
int policy_effect_of(const char *s);

/*
 * A rule from a person's JSON, checked and normalised into *out: every
 * field of DESIGN's rule and nothing else, so a misspelt matcher is an
 * error rather than a rule that matches everything.  id may be absent
 * (then dflt_id is used).  why says what is wrong.
 */
int policy_rule_from_json(const cJSON *in, const char *dflt_id, cJSON **out,
			  char *why, size_t whylen) IDW_WUR;
bool policy_rule_id_valid(const char *id);

/* The four rules 'idw init' installs, as rule objects; NULL on ENOMEM. */
cJSON *policy_default_rules(void);

/*
 * The smallest max_delegation_depth of the enabled rules that match the
 * passport, or -1 when none limits it.
 */
int policy_depth_limit(const cJSON *passport, const cJSON *const *rules,
		       size_t nrules);

#endif
