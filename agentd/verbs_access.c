/* SPDX-License-Identifier: ISC */
/*
 * The ways to ask about access, for idw and idw-mcp alike: get's gate
 * (policy, leases and grants; get itself is in verbs_get.c),
 * check_policy (the decision only, nothing released, no access entry)
 * and request_access (a decision for a scope, which may leave a grant
 * for a person).
 */
#include <stdio.h>
#include <string.h>

#include "agentd/access.h"
#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/grants.h"
#include "agentd/passport.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

#define PURPOSE_MAX 1024
#define SCOPE_MAX 64	   /* as a visa's scope list */
#define SCOPE_TEXT_MAX 256 /* as a visa's scope entry */

int access_audit(struct agent *a, struct peer *p, const char *ppid,
		 const char *action, const char *purpose, const char *result,
		 const char *reason)
{
	return gov_audit(a, p->principal, p->claimed_actor,
			 store_find(&a->store, "passport", ppid), action,
			 purpose, result, reason);
}

/*
 * What idw-mcp needs to ask the person about a pending grant: the exact
 * command, the grant as the person would see it, and whether it may ask
 * through elicitation (switched on, and never for critical passports).
 */
static int add_grant_info(struct agent *a, cJSON *o, const char *gid,
			  int64_t now)
{
	const struct store_item *g = store_find(&a->store, "grant", gid);
	const char *tier;
	char cmd[64];
	cJSON *v;

	if (g == NULL || (v = grant_view(a, g->meta, now)) == NULL)
		return IDW_ENOMEM;
	tier = idw_json_str(v, "access_tier");
	snprintf(cmd, sizeof(cmd), "idw approve %s", gid);
	if (!cJSON_AddItemToObject(o, "grant", v)) {
		cJSON_Delete(v);
		return IDW_ENOMEM;
	}
	if (cJSON_AddStringToObject(o, "command", cmd) == NULL ||
	    cJSON_AddBoolToObject(o, "elicitation",
				  gov_elicitation_on(a) && tier != NULL &&
					  strcmp(tier, "critical") != 0) ==
		    NULL)
		return IDW_ENOMEM;
	return 0;
}

/*
 * The grant a require-approval decision waits on: a pending one of this
 * principal (find: NULL for any scope), else a new one for scope.
 * IDW_EDENIED with why set while a person's denial holds or when the
 * principal has too many requests waiting.
 */
static int grant_for(struct agent *a, struct peer *p, const char *ppid,
		     const cJSON *find, const cJSON *scope, const char *purpose,
		     int64_t now, char gid[STORE_ID_MAX], char *why,
		     size_t whylen)
{
	struct store_item *g;

	if ((g = grant_pending(a, ppid, p->principal, find, now)) != NULL) {
		snprintf(gid, STORE_ID_MAX, "%s", g->id);
		return 0;
	}
	if ((g = grant_block(a, ppid, p->principal, now)) != NULL) {
		const char *said = idw_json_str(g->meta, "reason");
		const char *until = idw_json_str(g->meta, "expires_at");

		snprintf(why, whylen,
			 "a person denied grant %s (%.200s); ask again after "
			 "%s",
			 g->id, said != NULL ? said : "",
			 until != NULL ? until : "an hour");
		return IDW_EDENIED;
	}
	if (grant_pending_count(a, p->principal, now) >= GRANT_PENDING_MAX) {
		snprintf(why, whylen,
			 "%d requests of %s already wait for a person: they "
			 "answer them with 'idw approvals'",
			 GRANT_PENDING_MAX, p->principal);
		return IDW_EDENIED;
	}
	return grant_create(a, p, ppid, scope, purpose, now, gid);
}

/*
 * get's gate (access.h): 0 when the value may leave (lease set when a
 * lease lets it, allowed saying why); otherwise the reply is filled and
 * the decision audited.
 */
int access_gate(struct agent *a, struct peer *p, const char *ppid,
		const char *purpose, int64_t now, struct reply *rep,
		char lease[STORE_ID_MAX], char *allowed, size_t alen)
{
	struct store_item *it = store_find(&a->store, "passport", ppid), *g;
	char gid[STORE_ID_MAX], reason[256], why[400], msg[512];
	struct policy_result pr;
	cJSON *scope = NULL;
	int r;

	if ((r = gov_decide(a, it->meta, p->principal, now, &pr)) != 0)
		return reply_error(rep, r, "policy evaluation failed");
	snprintf(reason, sizeof(reason), "%s", pr.reason);
	if (pr.effect == POLICY_ALLOW) {
		policy_result_free(&pr);
		snprintf(allowed, alen, "%s", reason);
		return 0;
	}
	if (pr.effect == POLICY_DENY) {
		policy_result_free(&pr);
		(void)access_audit(a, p, ppid, "access", purpose, "denied",
				   reason);
		return reply_error(rep, IDW_EDENIED, "access to %s denied: %s",
				   ppid, reason);
	}
	policy_result_free(&pr);
	if ((g = grant_lease(a, ppid, p->principal, NULL, now)) != NULL) {
		snprintf(lease, STORE_ID_MAX, "%s", g->id);
		snprintf(allowed, alen, "lease %s until %s", g->id,
			 idw_json_str(g->meta, "expires_at"));
		return 0;
	}
	if ((r = passport_effective_scope(it->meta, &scope)) != 0)
		return reply_error(rep, r, "out of memory");
	why[0] = '\0';
	r = grant_for(a, p, ppid, NULL, scope, purpose, now, gid, why,
		      sizeof(why));
	cJSON_Delete(scope);
	if (r == IDW_EDENIED) {
		(void)access_audit(a, p, ppid, "access", purpose, "denied",
				   why);
		return reply_error(rep, r, "access to %s denied: %s", ppid,
				   why);
	}
	if (r != 0)
		return reply_error(rep, r, "saving the request failed: %s",
				   idw_strerror(r));
	snprintf(msg, sizeof(msg), "%s; grant %s awaits a person", reason, gid);
	(void)access_audit(a, p, ppid, "access", purpose, "pending", msg);
	r = reply_error(rep, IDW_EPENDING,
			"approval pending: %s needs a person's approval (%s); "
			"grant %s is pending: the person runs 'idw approve %s'",
			ppid, reason, gid, gid);
	if (rep->json != NULL &&
	    (cJSON_AddStringToObject(rep->json, "status", "pending") == NULL ||
	     cJSON_AddStringToObject(rep->json, "grant_id", gid) == NULL ||
	     add_grant_info(a, rep->json, gid, now) != 0))
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	return r;
}

int verb_check_policy(struct agent *a, struct peer *p,
		      const struct verb_args *in, struct reply *rep)
{
	int64_t now = gov_now(a);
	struct store_item *it = gov_passport(a, in->req, "id", rep), *g = NULL;
	const char *action = idw_json_str(in->req, "action");
	struct policy_result pr;
	cJSON *o;
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	if (action != NULL && strcmp(action, "access") != 0 &&
	    strcmp(action, "get") != 0)
		return reply_error(rep, IDW_EUSAGE, "action must be 'access'");
	if ((r = gov_decide(a, it->meta, p->principal, now, &pr)) != 0)
		return reply_error(rep, r, "policy evaluation failed");
	if (pr.effect == POLICY_REQUIRE_APPROVAL)
		g = grant_lease(a, it->id, p->principal, NULL, now);
	if ((o = reply_ok(rep)) == NULL) {
		policy_result_free(&pr);
		return IDW_ENOMEM;
	}
	/* A lease of this principal is what get would use. */
	cJSON_AddBoolToObject(o, "allowed",
			      pr.effect == POLICY_ALLOW || g != NULL);
	cJSON_AddStringToObject(o, "effect", policy_effect_name(pr.effect));
	cJSON_AddItemToObject(o, "violations", pr.violations);
	pr.violations = NULL;
	cJSON_AddStringToObject(o, "reason", pr.reason);
	/* So a model knows whether get or a run profile is the way. */
	cJSON_AddStringToObject(o, "reveal",
				idw_json_str(it->meta, "reveal") != NULL
					? idw_json_str(it->meta, "reveal")
					: "model");
	if (pr.rule[0] != '\0')
		cJSON_AddStringToObject(o, "rule", pr.rule);
	if (g != NULL) {
		cJSON_AddStringToObject(o, "grant_id", g->id);
		cJSON_AddStringToObject(o, "lease_expires_at",
					idw_json_str(g->meta, "expires_at"));
	}
	policy_result_free(&pr);
	return 0;
}

static int check_scope(const cJSON *scope, struct reply *rep)
{
	const cJSON *e;

	if (scope != NULL && !cJSON_IsNull(scope) &&
	    (!cJSON_IsArray(scope) || cJSON_GetArraySize(scope) > SCOPE_MAX))
		return reply_error(rep, IDW_EUSAGE,
				   "scope must be a list of at most %d strings",
				   SCOPE_MAX);
	/* Bounded like a visa's scope: it is quoted in replies and audit. */
	cJSON_ArrayForEach(e, scope)
	{
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0' ||
		    strlen(e->valuestring) > SCOPE_TEXT_MAX ||
		    !idw_utf8_valid((const uint8_t *)e->valuestring,
				    strlen(e->valuestring)))
			return reply_error(rep, IDW_EUSAGE,
					   "scope must hold non-empty UTF-8 "
					   "strings of at most %d bytes",
					   SCOPE_TEXT_MAX);
	}
	return 0;
}

/* The outcome of request_access, before it is audited and answered. */
struct outcome {
	const char *status; /* approved, pending, denied */
	char grant[STORE_ID_MAX];
	char expires[IDW_TIME_LEN];
	char reason[400];
};

static int request_decide(struct agent *a, struct peer *p, const char *ppid,
			  const cJSON *asked, const char *purpose, int64_t now,
			  struct outcome *oc)
{
	struct store_item *it = store_find(&a->store, "passport", ppid), *g;
	cJSON *eff = NULL, *want = NULL;
	struct policy_result pr;
	const char *outside;
	int r;

	if ((r = gov_decide(a, it->meta, p->principal, now, &pr)) != 0)
		return r;
	snprintf(oc->reason, sizeof(oc->reason), "%s", pr.reason);
	oc->status = pr.effect == POLICY_ALLOW	? "approved"
		     : pr.effect == POLICY_DENY ? "denied"
						: "pending";
	policy_result_free(&pr);
	if (strcmp(oc->status, "denied") == 0)
		return 0;
	if ((r = passport_effective_scope(it->meta, &eff)) != 0)
		return r;
	/* No scope asked: the effective one. */
	want = grant_scope_norm(cJSON_GetArraySize(asked) > 0 ? asked : eff);
	if (want == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	/* No approval can grant what the visa and its hops do not hold. */
	if ((outside = passport_scope_outside(eff, want)) != NULL) {
		oc->status = "denied";
		snprintf(oc->reason, sizeof(oc->reason),
			 "scope '%s' is outside the passport's effective "
			 "scope",
			 outside);
		goto out;
	}
	if (eff != NULL && cJSON_GetArraySize(eff) == 0) {
		oc->status = "denied";
		snprintf(
			oc->reason, sizeof(oc->reason),
			"the effective scope of its delegation chain is empty");
		goto out;
	}
	if (strcmp(oc->status, "approved") == 0)
		goto out;
	if ((g = grant_lease(a, ppid, p->principal, want, now)) != NULL) {
		oc->status = "approved";
		snprintf(oc->grant, sizeof(oc->grant), "%s", g->id);
		snprintf(oc->expires, sizeof(oc->expires), "%s",
			 idw_json_str(g->meta, "expires_at"));
		snprintf(oc->reason, sizeof(oc->reason),
			 "a lease approved by a person");
		goto out;
	}
	r = grant_for(a, p, ppid, want, want, purpose, now, oc->grant,
		      oc->reason, sizeof(oc->reason));
	if (r == IDW_EDENIED) {
		oc->status = "denied";
		oc->grant[0] = '\0';
		r = 0;
	} else if (r == 0) {
		g = store_find(&a->store, "grant", oc->grant);
		snprintf(oc->expires, sizeof(oc->expires), "%s",
			 idw_json_str(g->meta, "expires_at"));
	}
out:
	cJSON_Delete(eff);
	cJSON_Delete(want);
	return r;
}

int verb_request_access(struct agent *a, struct peer *p,
			const struct verb_args *in, struct reply *rep)
{
	int64_t now = gov_now(a);
	const cJSON *scope = cJSON_GetObjectItemCaseSensitive(in->req, "scope");
	const char *purpose = NULL;
	struct store_item *it;
	struct outcome oc;
	char ppid[STORE_ID_MAX], msg[512];
	cJSON *o;
	int r;

	(void)grant_sweep(a, now);
	if ((it = gov_passport(a, in->req, "id", rep)) == NULL)
		return IDW_ENOENT;
	if ((r = gov_text(in->req, "purpose", PURPOSE_MAX, true, &purpose,
			  rep)) != 0 ||
	    (r = check_scope(scope, rep)) != 0)
		return r;
	snprintf(ppid, sizeof(ppid), "%s", it->id);
	memset(&oc, 0, sizeof(oc));
	if ((r = request_decide(a, p, ppid, scope, purpose, now, &oc)) != 0)
		return reply_error(rep, r, "deciding the request failed: %s",
				   idw_strerror(r));
	snprintf(msg, sizeof(msg), "%s%s%s", oc.reason,
		 oc.grant[0] ? "; grant " : "", oc.grant);
	if (access_audit(a, p, ppid, "request", purpose, oc.status, msg) != 0)
		return reply_error(rep, IDW_EDENIED,
				   "the audit log could not be written: "
				   "request denied");
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddBoolToObject(o, "approved",
			      strcmp(oc.status, "approved") == 0);
	cJSON_AddStringToObject(o, "status", oc.status);
	if (oc.grant[0])
		cJSON_AddStringToObject(o, "grant_id", oc.grant);
	else
		cJSON_AddNullToObject(o, "grant_id");
	cJSON_AddStringToObject(o, "reason", oc.reason);
	if (oc.expires[0])
		cJSON_AddStringToObject(o, "expires_at", oc.expires);
	else
		cJSON_AddNullToObject(o, "expires_at");
	if (strcmp(oc.status, "pending") == 0 &&
	    add_grant_info(a, o, oc.grant, now) != 0)
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	return 0;
}
