/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "agentd/passport.h"
#include "agentd/policy.h"
#include "common/jsonu.h"

/*
 * Rules as a person writes them (idw policy add --file rule.json) and as
 * the vault keeps them.  Checking is strict: an unknown member, a
 * misspelt matcher or an empty list is refused, because a rule that
 * silently lost a matcher would match every passport.
 */
#define RULE_ID_MAX 48
#define RULE_NAME_MAX 128
#define RULE_DESC_MAX 1024
#define RULE_LIST_MAX 32
#define RULE_ITEM_MAX 128

static const char *const visa_types[] = {
	"access",    "privilege", "data", "compliance",
	"ecosystem", "custom",	  NULL,
};
static const char *const tiers[] = {"standard", "sensitive", "critical", NULL};
static const char *const rule_keys[] = {
	"id",	  "name",     "description", "condition",
	"effect", "priority", "enabled",     NULL,
};
static const char *const cond_keys[] = {
	"visa_types",
	"platforms",
	"access_tiers",
	"require_human_owner",
	"max_validity_days",
	"max_delegation_depth",
	NULL,
};

bool policy_rule_id_valid(const char *id)
{
	size_t n = id != NULL ? strlen(id) : 0;

	return n > 0 && n <= RULE_ID_MAX &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == n &&
	       id[0] != '-' && id[0] != '.';
}

static bool known(const char *k, const char *const *set)
{
	for (size_t i = 0; set[i] != NULL; i++)
		if (strcmp(k, set[i]) == 0)
			return true;
	return false;
}

static int unknown_member(const cJSON *o, const char *const *set,
			  const char *where, char *why, size_t whylen)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, o)
	{
		if (e->string == NULL || !known(e->string, set)) {
			snprintf(why, whylen,
				 "%s has an unknown member '%.40s'", where,
				 e->string ? e->string : "");
			return IDW_EUSAGE;
		}
	}
	return 0;
}

/* Printable UTF-8: a rule's text is shown in lists and messages. */
static bool printable(const char *s)
{
	size_t n = strlen(s);

	if (!idw_utf8_valid((const uint8_t *)s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static int text(cJSON *dst, const cJSON *src, const char *key, size_t max,
		bool required, char *why, size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);

	if (v == NULL && !required)
		return cJSON_AddStringToObject(dst, key, "") ? 0 : IDW_ENOMEM;
	if (!cJSON_IsString(v) || (required && v->valuestring[0] == '\0') ||
	    strlen(v->valuestring) > max || !printable(v->valuestring)) {
		snprintf(why, whylen,
			 "%s must be printable UTF-8 text of %s%zu bytes", key,
			 required ? "1 to " : "at most ", max);
		return IDW_EUSAGE;
	}
	return cJSON_AddStringToObject(dst, key, v->valuestring) ? 0
								 : IDW_ENOMEM;
}

static int integer(const cJSON *v, const char *key, int lo, int hi, int *out,
		   char *why, size_t whylen)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi ||
	    v->valuedouble != (double)(int)v->valuedouble) {
		snprintf(why, whylen, "%s must be a whole number from %d to %d",
			 key, lo, hi);
		return IDW_EUSAGE;
	}
	*out = (int)v->valuedouble;
	return 0;
}

/* A matcher list: non-empty, strings, each in set when set is given. */
static int matcher(cJSON *dst, const cJSON *cond, const char *key,
		   const char *const *set, char *why, size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cond, key), *e;
	cJSON *arr;

	if (v == NULL)
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0 ||
	    cJSON_GetArraySize(v) > RULE_LIST_MAX) {
		snprintf(why, whylen,
			 "condition.%s must be a list of 1 to %d strings "
			 "(leave it out to match any)",
			 key, RULE_LIST_MAX);
		return IDW_EUSAGE;
	}
	if ((arr = cJSON_AddArrayToObject(dst, key)) == NULL)
		return IDW_ENOMEM;
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0' ||
		    strlen(e->valuestring) > RULE_ITEM_MAX ||
		    !printable(e->valuestring) ||
		    (set != NULL && !known(e->valuestring, set))) {
			snprintf(why, whylen,
				 "condition.%s holds an entry that is not %s",
				 key,
				 set != NULL ? "one of the known kinds"
					     : "a printable name of 1 to 128 "
					       "bytes");
			return IDW_EUSAGE;
		}
		if (!cJSON_AddItemToArray(arr,
					  cJSON_CreateString(e->valuestring)))
			return IDW_ENOMEM;
	}
	return 0;
}

static int condition(cJSON *rule, const cJSON *cond, char *why, size_t whylen)
{
	cJSON *c = cJSON_AddObjectToObject(rule, "condition");
	const cJSON *v;
	int r, n;

	if (c == NULL)
		return IDW_ENOMEM;
	if (cond == NULL)
		return 0;
	if (!cJSON_IsObject(cond)) {
		snprintf(why, whylen, "condition must be an object");
		return IDW_EUSAGE;
	}
	if ((r = unknown_member(cond, cond_keys, "condition", why, whylen)) !=
		    0 ||
	    (r = matcher(c, cond, "visa_types", visa_types, why, whylen)) !=
		    0 ||
	    (r = matcher(c, cond, "platforms", NULL, why, whylen)) != 0 ||
	    (r = matcher(c, cond, "access_tiers", tiers, why, whylen)) != 0)
		return r;
	v = cJSON_GetObjectItemCaseSensitive(cond, "require_human_owner");
	if (v != NULL && !cJSON_IsBool(v)) {
		snprintf(why, whylen,
			 "condition.require_human_owner must be true or "
			 "false");
		return IDW_EUSAGE;
	}
	if (cJSON_IsTrue(v) &&
	    cJSON_AddTrueToObject(c, "require_human_owner") == NULL)
		return IDW_ENOMEM;
	v = cJSON_GetObjectItemCaseSensitive(cond, "max_validity_days");
	if (v != NULL) {
		if ((r = integer(v, "condition.max_validity_days", 1, 36500, &n,
				 why, whylen)) != 0)
			return r;
		if (cJSON_AddNumberToObject(c, "max_validity_days", n) == NULL)
			return IDW_ENOMEM;
	}
	v = cJSON_GetObjectItemCaseSensitive(cond, "max_delegation_depth");
	if (v != NULL) {
		if ((r = integer(v, "condition.max_delegation_depth", 0,
				 PASSPORT_HOPS_MAX, &n, why, whylen)) != 0)
			return r;
		if (cJSON_AddNumberToObject(c, "max_delegation_depth", n) ==
		    NULL)
			return IDW_ENOMEM;
	}
	return 0;
}

int policy_rule_from_json(const cJSON *in, const char *dflt_id, cJSON **out,
			  char *why, size_t whylen)
{
	const cJSON *idv = cJSON_GetObjectItemCaseSensitive(in, "id");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(in, "enabled");
	const char *id = idv != NULL ? idw_json_str(in, "id") : dflt_id;
	int r, prio, eff;
	cJSON *rule;

	*out = NULL;
	if (!cJSON_IsObject(in)) {
		snprintf(why, whylen, "a rule is a JSON object");
		return IDW_EUSAGE;
	}
	if ((r = unknown_member(in, rule_keys, "the rule", why, whylen)) != 0)
		return r;
	if (!policy_rule_id_valid(id)) {
		snprintf(why, whylen,
			 "id must be 1 to %d of a-z 0-9 - _ . (not starting "
			 "with - or .)",
			 RULE_ID_MAX);
		return IDW_EUSAGE;
	}
	eff = policy_effect_of(idw_json_str(in, "effect"));
	if (eff < 0) {
		snprintf(why, whylen,
			 "effect must be allow, deny or require-approval");
		return IDW_EUSAGE;
	}
	if ((r = integer(cJSON_GetObjectItemCaseSensitive(in, "priority"),
			 "priority", 0, POLICY_PRIORITY_MAX, &prio, why,
			 whylen)) != 0)
		return r;
	if (en != NULL && !cJSON_IsBool(en)) {
		snprintf(why, whylen, "enabled must be true or false");
		return IDW_EUSAGE;
	}
	if ((rule = cJSON_CreateObject()) == NULL)
		return IDW_ENOMEM;
	if (cJSON_AddStringToObject(rule, "id", id) == NULL) {
		r = IDW_ENOMEM;
		goto fail;
	}
	if ((r = text(rule, in, "name", RULE_NAME_MAX, true, why, whylen)) !=
		    0 ||
	    (r = text(rule, in, "description", RULE_DESC_MAX, false, why,
		      whylen)) != 0 ||
	    (r = condition(rule,
			   cJSON_GetObjectItemCaseSensitive(in, "condition"),
			   why, whylen)) != 0)
		goto fail;
	if (cJSON_AddStringToObject(rule, "effect", policy_effect_name(eff)) ==
		    NULL ||
	    cJSON_AddNumberToObject(rule, "priority", prio) == NULL ||
	    cJSON_AddBoolToObject(rule, "enabled",
				  en == NULL || cJSON_IsTrue(en)) == NULL) {
		r = IDW_ENOMEM;
		goto fail;
	}
	*out = rule;
	return 0;
fail:
	cJSON_Delete(rule);
	return r;
}

/* DESIGN "Data model": the defaults, exactly. */
static const char *const default_rules[] = {
	"{\"id\":\"require-human-owner\",\"name\":\"require-human-owner\","
	"\"description\":\"every passport needs a human owner\","
	"\"condition\":{\"require_human_owner\":true},\"effect\":\"deny\","
	"\"priority\":100,\"enabled\":true}",
	"{\"id\":\"max-validity-90-days\",\"name\":\"max-validity-90-days\","
	"\"description\":\"a passport is valid for at most 90 days\","
	"\"condition\":{\"max_validity_days\":90},\"effect\":\"deny\","
	"\"priority\":90,\"enabled\":true}",
	"{\"id\":\"max-delegation-depth-3\",\"name\":\"max-delegation-depth-"
	"3\","
	"\"description\":\"at most 3 delegation hops\","
	"\"condition\":{\"max_delegation_depth\":3},\"effect\":\"deny\","
	"\"priority\":80,\"enabled\":true}",
	"{\"id\":\"privilege-visa-requires-approval\","
	"\"name\":\"privilege-visa-requires-approval\","
	"\"description\":\"privilege visas need a person's approval\","
	"\"condition\":{\"visa_types\":[\"privilege\"]},"
	"\"effect\":\"require-approval\",\"priority\":70,\"enabled\":true}",
};

cJSON *policy_default_rules(void)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; arr != NULL &&
			   i < sizeof(default_rules) / sizeof(default_rules[0]);
	     i++) {
		cJSON *r = cJSON_Parse(default_rules[i]);

		if (r == NULL || !cJSON_AddItemToArray(arr, r)) {
			cJSON_Delete(r);
			cJSON_Delete(arr);
			return NULL;
		}
	}
	return arr;
}
