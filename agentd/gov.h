/* SPDX-License-Identifier: ISC */
#ifndef IDW_GOV_H
#define IDW_GOV_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agentd/agent.h"
#include "agentd/policy.h"
#include "common/err.h"

/*
 * Governance glue between the verbs and the policy engine: the clock
 * every time-bound decision reads, the stored rules, the settings of
 * 'idw config' and the audit entries of decisions.
 */

/*
 * The wall clock of time-bound decisions.  A weak symbol that reads
 * idw_now(); a unit test links its own to move time by hand.  No switch
 * in a built agent changes it.
 */
int64_t gov_clock_now(void);

/*
 * The time now, remembering the highest time seen (kept in the vault as
 * config "clock", rewritten when it moved on by GOV_CLOCK_SAVE_S).
 */
#define GOV_CLOCK_SAVE_S 600
int64_t gov_now(struct agent *a);
/* Whether now is more than POLICY_CLOCK_SLACK behind the highest time. */
bool gov_clock_back(const struct agent *a, int64_t now);

/* Decide for passport and principal with the stored rules. */
int gov_decide(struct agent *a, const cJSON *passport, const char *principal,
	       int64_t now, struct policy_result *res) IDW_WUR;
/* The stored rules (at most POLICY_RULES_MAX); n set to their count. */
void gov_rules(struct agent *a, const cJSON **rules, size_t *n);
/* Install DESIGN's default rules (verb init). */
int gov_install_defaults(struct agent *a) IDW_WUR;

/* Settings of 'idw config set/get'. */
#define GOV_ELICITATION "approval.elicitation"
#define GOV_MAX_TTL "approval.max_ttl"
#define GOV_REVEAL_DEFAULT "reveal.default" /* model or never */
bool gov_setting_known(const char *key);
/* The value (stored or default); NULL for an unknown key. */
const char *gov_setting(struct agent *a, const char *key);
/* value checked and normalised for key into out; IDW_EUSAGE otherwise. */
int gov_setting_check(const char *key, const char *value, char *out,
		      size_t outlen, char *why, size_t whylen) IDW_WUR;
bool gov_elicitation_on(struct agent *a);
int64_t gov_max_ttl(struct agent *a);
/* {key, value, default, set_at, set_by} of one setting. */
cJSON *gov_setting_view(struct agent *a, const char *key);

/*
 * An audit entry about a passport, for principal (and claimed actor).
 * Nonzero when the log refused it; a refusal also marks the log broken,
 * which denies every later release, so callers that release nothing may
 * ignore it.
 */
int gov_audit(struct agent *a, const char *principal, const char *actor,
	      const struct store_item *passport, const char *action,
	      const char *purpose, const char *result, const char *reason);

/* The passport named by req's "id", or NULL with an error reply. */
struct store_item *gov_passport(struct agent *a, const cJSON *req,
				const char *key, struct reply *rep);
/* Optional text of at most max bytes; required ones must be non-empty. */
int gov_text(const cJSON *req, const char *key, size_t max, bool required,
	     const char **out, struct reply *rep) IDW_WUR;
/* Whether a token principal asks (it sees and changes only its own). */
bool gov_is_token(const struct peer *p);

#endif
