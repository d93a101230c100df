/* SPDX-License-Identifier: ISC */
/*
 * Rules and settings kept in the vault: journal records of kind "rule"
 * and "config".  Reading them takes no proof; every change does
 * (dispatch table), is one journal record and one audit entry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

static void audit_change(struct agent *a, struct peer *p, const char *action,
			 const char *reason)
{
	/* A failure marks the log broken; later releases are then denied. */
	(void)gov_audit(a, p->principal, p->claimed_actor, NULL, action, NULL,
			"ok", reason);
}

static int strongest_first(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x;
	const cJSON *b = *(const cJSON *const *)y;
	int64_t pa = idw_json_int(a, "priority", 0);
	int64_t pb = idw_json_int(b, "priority", 0);
	int ea = policy_effect_of(idw_json_str(a, "effect"));
	int eb = policy_effect_of(idw_json_str(b, "effect"));
	const char *ia = idw_json_str(a, "id"), *ib = idw_json_str(b, "id");

	if (pa != pb)
		return pa > pb ? -1 : 1;
	if (ea != eb)
		return ea > eb ? -1 : 1;
	return strcmp(ia ? ia : "", ib ? ib : "");
}

int verb_policy_list(struct agent *a, struct peer *p,
		     const struct verb_args *in, struct reply *rep)
{
	const cJSON *rules[POLICY_RULES_MAX];
	size_t n;
	cJSON *o, *arr;

	(void)p;
	(void)in;
	gov_rules(a, rules, &n);
	qsort(rules, n, sizeof(rules[0]), strongest_first);
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "rules")) == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cJSON *c = cJSON_Duplicate(rules[i], 1);

		if (c == NULL || !cJSON_AddItemToArray(arr, c)) {
			cJSON_Delete(c);
			return IDW_ENOMEM;
		}
	}
	return 0;
}

int verb_policy_add(struct agent *a, struct peer *p, const struct verb_args *in,
		    struct reply *rep)
{
	const cJSON *in_rule =
		cJSON_GetObjectItemCaseSensitive(in->req, "rule");
	char dflt[16], why[300], id[STORE_ID_MAX];
	uint8_t rnd[4];
	cJSON *rule = NULL, *o;
	int r;

	if (store_count(&a->store, "rule") >= POLICY_RULES_MAX)
		return reply_error(rep, IDW_ETOOBIG,
				   "the vault holds %d rules already",
				   POLICY_RULES_MAX);
	randombytes_buf(rnd, sizeof(rnd));
	memcpy(dflt, "rule-", 5);
	sodium_bin2hex(dflt + 5, sizeof(dflt) - 5, rnd, sizeof(rnd));
	why[0] = '\0';
	if ((r = policy_rule_from_json(in_rule, dflt, &rule, why,
				       sizeof(why))) != 0)
		return reply_error(rep, r, "%s",
				   why[0] ? why : idw_strerror(r));
	snprintf(id, sizeof(id), "%s", idw_json_str(rule, "id"));
	if (store_find(&a->store, "rule", id) != NULL) {
		cJSON_Delete(rule);
		return reply_error(rep, IDW_EEXIST,
				   "a rule %s exists: remove it first", id);
	}
	if ((r = store_put(&a->store, a->vault, "rule", id, rule, NULL, 0)) !=
	    0)
		return reply_error(rep, r, "saving the rule failed: %s",
				   idw_strerror(r));
	rule = store_find(&a->store, "rule", id)->meta;
	snprintf(why, sizeof(why), "rule %s added: %s at priority %lld%s", id,
		 idw_json_str(rule, "effect"),
		 (long long)idw_json_int(rule, "priority", 0),
		 cJSON_IsTrue(cJSON_GetObjectItem(rule, "enabled"))
			 ? ""
			 : ", disabled");
	audit_change(a, p, "policy change", why);
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddItemToObject(o, "rule", cJSON_Duplicate(rule, 1));
	return 0;
}

static int set_enabled(struct agent *a, struct peer *p,
		       const struct verb_args *in, struct reply *rep, bool on)
{
	const char *id = idw_json_str(in->req, "id");
	struct store_item *it;
	char why[160];
	cJSON *m, *o;
	int r;

	if (!policy_rule_id_valid(id) ||
	    (it = store_find(&a->store, "rule", id)) == NULL)
		return reply_error(rep, IDW_ENOENT, "no rule %.64s",
				   id ? id : "");
	if (cJSON_IsTrue(cJSON_GetObjectItem(it->meta, "enabled")) != on) {
		if ((m = cJSON_Duplicate(it->meta, 1)) == NULL)
			return IDW_ENOMEM;
		cJSON_DeleteItemFromObjectCaseSensitive(m, "enabled");
		cJSON_AddBoolToObject(m, "enabled", on);
		if ((r = store_put(&a->store, a->vault, "rule", id, m, NULL,
				   0)) != 0)
			return reply_error(rep, r, "saving failed: %s",
					   idw_strerror(r));
		snprintf(why, sizeof(why), "rule %s %s", id,
			 on ? "enabled" : "disabled");
		audit_change(a, p, "policy change", why);
		it = store_find(&a->store, "rule", id);
	}
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddItemToObject(o, "rule", cJSON_Duplicate(it->meta, 1));
	return 0;
}

int verb_policy_enable(struct agent *a, struct peer *p,
		       const struct verb_args *in, struct reply *rep)
{
	return set_enabled(a, p, in, rep, true);
}

int verb_policy_disable(struct agent *a, struct peer *p,
			const struct verb_args *in, struct reply *rep)
{
	return set_enabled(a, p, in, rep, false);
}

int verb_policy_remove(struct agent *a, struct peer *p,
		       const struct verb_args *in, struct reply *rep)
{
	const char *id = idw_json_str(in->req, "id");
	char why[160], copy[STORE_ID_MAX];
	cJSON *o;
	int r;

	if (!policy_rule_id_valid(id) ||
	    store_find(&a->store, "rule", id) == NULL)
		return reply_error(rep, IDW_ENOENT, "no rule %.64s",
				   id ? id : "");
	snprintf(copy, sizeof(copy), "%s", id);
	if ((r = store_del(&a->store, a->vault, "rule", copy)) != 0)
		return reply_error(rep, r, "removing failed: %s",
				   idw_strerror(r));
	snprintf(why, sizeof(why), "rule %s removed", copy);
	audit_change(a, p, "policy change", why);
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddStringToObject(o, "id", copy);
	return 0;
}

int verb_config_get(struct agent *a, struct peer *p, const struct verb_args *in,
		    struct reply *rep)
{
	static const char *const keys[] = {GOV_ELICITATION, GOV_MAX_TTL,
					   GOV_REVEAL_DEFAULT};
	const char *key = idw_json_str(in->req, "key");
	cJSON *o, *arr, *v;

	(void)p;
	if (key != NULL) {
		if (!gov_setting_known(key))
			return reply_error(rep, IDW_ENOENT,
					   "no setting '%.64s'", key);
		if ((o = reply_ok(rep)) == NULL ||
		    (v = gov_setting_view(a, key)) == NULL)
			return IDW_ENOMEM;
		cJSON_AddStringToObject(o, "key", key);
		cJSON_AddStringToObject(o, "value", gov_setting(a, key));
		cJSON_AddItemToObject(o, "setting", v);
		return 0;
	}
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "settings")) == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = gov_setting_view(a, keys[i])) == NULL ||
		    !cJSON_AddItemToArray(arr, v)) {
			cJSON_Delete(v);
			return IDW_ENOMEM;
		}
	}
	return 0;
}

int verb_config_set(struct agent *a, struct peer *p, const struct verb_args *in,
		    struct reply *rep)
{
	const char *key = idw_json_str(in->req, "key");
	char val[64], why[200], tnow[IDW_TIME_LEN];
	cJSON *m, *o;
	int r;

	why[0] = '\0';
	if ((r = gov_setting_check(key, idw_json_str(in->req, "value"), val,
				   sizeof(val), why, sizeof(why))) != 0)
		return reply_error(rep, r, "%s", why);
	if ((m = cJSON_CreateObject()) == NULL)
		return IDW_ENOMEM;
	idw_time_fmt_utc(gov_now(a), tnow);
	cJSON_AddStringToObject(m, "key", key);
	cJSON_AddStringToObject(m, "value", val);
	cJSON_AddStringToObject(m, "set_at", tnow);
	cJSON_AddStringToObject(m, "set_by", p->principal);
	if ((r = store_put(&a->store, a->vault, "config", key, m, NULL, 0)) !=
	    0)
		return reply_error(rep, r, "saving the setting failed: %s",
				   idw_strerror(r));
	snprintf(why, sizeof(why), "%s set to %s", key, val);
	audit_change(a, p, "config change", why);
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddStringToObject(o, "value", val);
	return 0;
}
