/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/passport.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define CLOCK_ID "clock"
#define TTL_MAX_S (30LL * 86400)

/* ---- the clock ---------------------------------------------------- */

static int64_t stored_high(struct agent *a)
{
	const struct store_item *it = store_find(&a->store, "config", CLOCK_ID);

	return it != NULL ? idw_json_int(it->meta, "high", 0) : 0;
}

int64_t gov_now(struct agent *a)
{
	int64_t now = gov_clock_now(), saved = stored_high(a);
	cJSON *m;

	if (saved > a->clock_high)
		a->clock_high = saved;
	if (now > a->clock_high)
		a->clock_high = now;
	/* A clock set back is recorded once per episode, as DESIGN asks. */
	if (gov_clock_back(a, now) && !a->clock_back_audited && !a->locked) {
		char high[IDW_TIME_LEN], reason[120];

		idw_time_fmt_utc(a->clock_high, high);
		snprintf(reason, sizeof(reason),
			 "the vault has seen %s; time-bound decisions are "
			 "refused",
			 high);
		if (audit_append(&a->audit,
				 &(struct audit_event){
					 .principal = "agent",
					 .action = "clock went backwards",
					 .result = "denied",
					 .reason = reason,
				 }) == 0)
			a->clock_back_audited = true;
	} else if (!gov_clock_back(a, now)) {
		a->clock_back_audited = false;
	}
	if (!a->locked && a->clock_high >= saved + GOV_CLOCK_SAVE_S &&
	    (m = cJSON_CreateObject()) != NULL) {
		cJSON_AddNumberToObject(m, "high", (double)a->clock_high);
		/* Best effort: a failed write keeps the mark in memory. */
		if (store_put(&a->store, a->vault, "config", CLOCK_ID, m, NULL,
			      0) != 0)
			return now;
	}
	return now;
}

bool gov_clock_back(const struct agent *a, int64_t now)
{
	return a->clock_high > 0 && now < a->clock_high - POLICY_CLOCK_SLACK;
}

/* ---- rules -------------------------------------------------------- */

void gov_rules(struct agent *a, const cJSON **rules, size_t *n)
{
	const struct store_item *it;

	*n = 0;
	for (size_t j = 0; *n < POLICY_RULES_MAX &&
			   (it = store_kind_at(&a->store, "rule", j)) != NULL;
	     j++)
		rules[(*n)++] = it->meta;
}

int gov_decide(struct agent *a, const cJSON *passport, const char *principal,
	       int64_t now, struct policy_result *res)
{
	const cJSON *rules[POLICY_RULES_MAX];
	struct policy_input in = {
		.passport = passport,
		.principal = principal,
		.now = now,
		.clock_high = a->clock_high,
		.rules = rules,
	};

	gov_rules(a, rules, &in.nrules);
	return policy_decide(&in, res);
}

int gov_install_defaults(struct agent *a)
{
	cJSON *arr = policy_default_rules(), *r;
	int rc = 0;

	if (arr == NULL)
		return IDW_ENOMEM;
	while (rc == 0 && (r = arr->child) != NULL) {
		const char *id = idw_json_str(r, "id");

		cJSON_DetachItemViaPointer(arr, r);
		rc = store_put(&a->store, a->vault, "rule", id ? id : "?", r,
			       NULL, 0);
	}
	cJSON_Delete(arr);
	return rc;
}

/* ---- settings ----------------------------------------------------- */

enum setting_kind { SETTING_SWITCH, SETTING_DURATION, SETTING_REVEAL };

static const struct {
	const char *key;
	enum setting_kind kind;
	const char *dflt;
	const char *help;
} settings[] = {
	{GOV_ELICITATION, SETTING_SWITCH, "off",
	 "idw-mcp may ask the person to approve a grant through MCP "
	 "elicitation (never for critical passports)"},
	{GOV_MAX_TTL, SETTING_DURATION, "8h",
	 "the longest lease 'idw approve --ttl' may give (1s to 30d)"},
	{GOV_REVEAL_DEFAULT, SETTING_REVEAL, "model",
	 "reveal of a passport created without --reveal: model (get and "
	 "get_credential may return it) or never (only run profiles and a "
	 "person-proven 'idw get')"},
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

static int setting_index(const char *key)
{
	for (size_t i = 0; key != NULL && i < NSETTINGS; i++)
		if (strcmp(settings[i].key, key) == 0)
			return (int)i;
	return -1;
}

bool gov_setting_known(const char *key)
{
	return setting_index(key) >= 0;
}

const char *gov_setting(struct agent *a, const char *key)
{
	int i = setting_index(key);
	const struct store_item *it;
	const char *v;

	if (i < 0)
		return NULL;
	it = store_find(&a->store, "config", key);
	v = it != NULL ? idw_json_str(it->meta, "value") : NULL;
	return v != NULL ? v : settings[i].dflt;
}

int gov_setting_check(const char *key, const char *value, char *out,
		      size_t outlen, char *why, size_t whylen)
{
	int i = setting_index(key);
	int64_t secs;

	if (i < 0) {
		snprintf(why, whylen, "no setting '%.64s'; known: %s, %s, %s",
			 key ? key : "", GOV_ELICITATION, GOV_MAX_TTL,
			 GOV_REVEAL_DEFAULT);
		return IDW_EUSAGE;
	}
	if (value == NULL)
		value = "";
	if (settings[i].kind == SETTING_REVEAL) {
		if (strcmp(value, "model") != 0 &&
		    strcmp(value, "never") != 0) {
			snprintf(why, whylen, "%s is model or never", key);
			return IDW_EUSAGE;
		}
		snprintf(out, outlen, "%s", value);
		return 0;
	}
	if (settings[i].kind == SETTING_SWITCH) {
		if (strcmp(value, "on") == 0 || strcmp(value, "true") == 0) {
			snprintf(out, outlen, "on");
			return 0;
		}
		if (strcmp(value, "off") == 0 || strcmp(value, "false") == 0) {
			snprintf(out, outlen, "off");
			return 0;
		}
		snprintf(why, whylen, "%s is on or off", key);
		return IDW_EUSAGE;
	}
	if (idw_duration_parse(value, &secs) != 0 || secs < 1 ||
	    secs > TTL_MAX_S) {
		snprintf(why, whylen, "%s is a duration from 1s to 30d", key);
		return IDW_EUSAGE;
	}
	snprintf(out, outlen, "%s", value);
	return 0;
}

bool gov_elicitation_on(struct agent *a)
{
	const char *v = gov_setting(a, GOV_ELICITATION);

	return v != NULL && strcmp(v, "on") == 0;
}

int64_t gov_max_ttl(struct agent *a)
{
	int64_t secs;

	if (idw_duration_parse(gov_setting(a, GOV_MAX_TTL), &secs) != 0 ||
	    secs < 1 || secs > TTL_MAX_S)
		return 8 * 3600;
	return secs;
}

cJSON *gov_setting_view(struct agent *a, const char *key)
{
	int i = setting_index(key);
	const struct store_item *it;
	cJSON *o;

	if (i < 0 || (o = cJSON_CreateObject()) == NULL)
		return NULL;
	it = store_find(&a->store, "config", key);
	cJSON_AddStringToObject(o, "key", key);
	cJSON_AddStringToObject(o, "value", gov_setting(a, key));
	cJSON_AddStringToObject(o, "default", settings[i].dflt);
	cJSON_AddStringToObject(o, "help", settings[i].help);
	if (it != NULL && idw_json_str(it->meta, "set_at") != NULL) {
		cJSON_AddStringToObject(o, "set_at",
					idw_json_str(it->meta, "set_at"));
		cJSON_AddStringToObject(
			o, "set_by",
			idw_json_str(it->meta, "set_by")
				? idw_json_str(it->meta, "set_by")
				: "");
	} else {
		cJSON_AddNullToObject(o, "set_at");
		cJSON_AddNullToObject(o, "set_by");
	}
	return o;
}

/* ---- audit and arguments ------------------------------------------ */

static const char *first_platform(const cJSON *meta)
{
	const cJSON *pl = cJSON_GetObjectItemCaseSensitive(meta, "platforms");
	const cJSON *first = cJSON_GetArrayItem(pl, 0);

	return cJSON_IsString(first) ? first->valuestring : NULL;
}

int gov_audit(struct agent *a, const char *principal, const char *actor,
	      const struct store_item *passport, const char *action,
	      const char *purpose, const char *result, const char *reason)
{
	struct audit_event ev = {
		.principal = principal,
		.claimed_actor =
			actor != NULL && actor[0] != '\0' ? actor : NULL,
		.action = action,
		.passport_id = passport ? passport->id : NULL,
		.platform = passport ? first_platform(passport->meta) : NULL,
		.purpose = purpose,
		.result = result,
		.reason = reason,
	};

	return audit_append(&a->audit, &ev);
}

struct store_item *gov_passport(struct agent *a, const cJSON *req,
				const char *key, struct reply *rep)
{
	const char *id = idw_json_str(req, key);
	struct store_item *it;

	if (id == NULL || id[0] == '\0') {
		reply_error(rep, IDW_EUSAGE, "a passport id is required");
		return NULL;
	}
	it = store_find(&a->store, "passport", id);
	if (it == NULL)
		reply_error(rep, IDW_ENOENT, "no passport %.64s", id);
	return it;
}

int gov_text(const cJSON *req, const char *key, size_t max, bool required,
	     const char **out, struct reply *rep)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);

	*out = NULL;
	if ((v == NULL || cJSON_IsNull(v)) && !required)
		return 0;
	if (!cJSON_IsString(v) || (required && v->valuestring[0] == '\0'))
		return reply_error(rep, IDW_EUSAGE, "%s is required", key);
	if (strlen(v->valuestring) > max ||
	    !idw_utf8_valid((const uint8_t *)v->valuestring,
			    strlen(v->valuestring)))
		return reply_error(rep, IDW_EUSAGE,
				   "%s must be UTF-8 text of at most %zu bytes",
				   key, max);
	*out = v->valuestring;
	return 0;
}

bool gov_is_token(const struct peer *p)
{
	return strncmp(p->principal, "token:", 6) == 0;
}
