/* SPDX-License-Identifier: ISC */
/*
 * Changing a passport's fields and adding delegation hops.  Both can
 * widen access, so both take person proof (dispatch table); a revoked
 * passport takes neither, because revocation is final.
 */
#include <stdio.h>
#include <string.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/passport.h"
#include "common/jsonu.h"

static int reply_changed(struct agent *a, struct peer *p, struct reply *rep,
			 const char *id, int64_t now)
{
	const struct store_item *it = store_find(&a->store, "passport", id);
	struct policy_result pr;
	cJSON *o, *v, *pol;

	if (it == NULL || (o = reply_ok(rep)) == NULL ||
	    (v = passport_view(it->meta, now)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddItemToObject(o, "passport", v);
	/* What policy says of it now, so idw can warn. */
	if (gov_decide(a, it->meta, p->principal, now, &pr) == 0) {
		if ((pol = cJSON_AddObjectToObject(o, "policy")) != NULL) {
			cJSON_AddStringToObject(pol, "effect",
						policy_effect_name(pr.effect));
			cJSON_AddStringToObject(pol, "reason", pr.reason);
			cJSON_AddItemToObject(pol, "violations", pr.violations);
			pr.violations = NULL;
		}
		policy_result_free(&pr);
	}
	return 0;
}

/* The passport to change: it exists and is not revoked. */
static struct store_item *changeable(struct agent *a, const cJSON *req,
				     struct reply *rep)
{
	struct store_item *it = gov_passport(a, req, "id", rep);

	if (it != NULL && cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(
				  it->meta, "revocation"))) {
		reply_error(rep, IDW_EDENIED,
			    "%s is revoked; revocation is final", it->id);
		return NULL;
	}
	return it;
}

int verb_edit(struct agent *a, struct peer *p, const struct verb_args *in,
	      struct reply *rep)
{
	int64_t now = gov_now(a);
	struct store_item *it = changeable(a, in->req, rep);
	char id[STORE_ID_MAX], changed[300], why[320];
	cJSON *meta = NULL;
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	snprintf(id, sizeof(id), "%s", it->id);
	why[0] = '\0';
	if ((r = passport_edit(it->meta, in->req, now, &meta, changed,
			       sizeof(changed), why, sizeof(why))) != 0)
		return reply_error(rep, r, "%s",
				   why[0] ? why : idw_strerror(r));
	if (changed[0] == '\0') {
		cJSON_Delete(meta);
		return reply_changed(a, p, rep, id, now);
	}
	if ((r = store_put(&a->store, a->vault, "passport", id, meta, NULL,
			   0)) != 0)
		return reply_error(rep, r, "saving the passport failed: %s",
				   idw_strerror(r));
	snprintf(why, sizeof(why), "edited: %s", changed);
	(void)gov_audit(a, p->principal, p->claimed_actor,
			store_find(&a->store, "passport", id), "modification",
			NULL, "ok", why);
	return reply_changed(a, p, rep, id, now);
}

int verb_delegate(struct agent *a, struct peer *p, const struct verb_args *in,
		  struct reply *rep)
{
	int64_t now = gov_now(a);
	struct store_item *it = changeable(a, in->req, rep);
	const cJSON *rules[POLICY_RULES_MAX], *hop;
	char id[STORE_ID_MAX], why[600], *scope;
	cJSON *meta = NULL;
	size_t n;
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	snprintf(id, sizeof(id), "%s", it->id);
	gov_rules(a, rules, &n);
	why[0] = '\0';
	if ((r = passport_delegate(it->meta, in->req, now,
				   policy_depth_limit(it->meta, rules, n),
				   &meta, why, sizeof(why))) != 0)
		return reply_error(rep, r, "%s",
				   why[0] ? why : idw_strerror(r));
	if ((r = store_put(&a->store, a->vault, "passport", id, meta, NULL,
			   0)) != 0)
		return reply_error(rep, r, "saving the passport failed: %s",
				   idw_strerror(r));
	it = store_find(&a->store, "passport", id);
	n = (size_t)cJSON_GetArraySize(
		cJSON_GetObjectItemCaseSensitive(it->meta, "delegation"));
	hop = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(it->meta, "delegation"),
		(int)n - 1);
	scope = cJSON_PrintUnformatted(
		cJSON_GetObjectItemCaseSensitive(hop, "scope"));
	snprintf(why, sizeof(why), "hop %zu: %.128s -> %.128s, scope %.256s", n,
		 idw_json_str(hop, "from"), idw_json_str(hop, "to"),
		 scope != NULL ? scope : "?");
	cJSON_free(scope);
	(void)gov_audit(a, p->principal, p->claimed_actor, it, "delegation",
			NULL, "ok", why);
	return reply_changed(a, p, rep, id, now);
}
