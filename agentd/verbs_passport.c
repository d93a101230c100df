/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/dispatch.h"
#include "agentd/passport.h"
#include "agentd/policy.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

#define LIST_DEFAULT 100
#define LIST_MAX 500
#define PURPOSE_MAX 1024
#define SCOPE_MAX 64	   /* as a visa's scope list */
#define SCOPE_TEXT_MAX 256 /* as a visa's scope entry */

static struct store_item *find_passport(struct agent *a, const cJSON *req,
					struct reply *rep)
{
	const char *id = idw_json_str(req, "id");
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

static const char *first_platform(const cJSON *meta)
{
	const cJSON *pl = cJSON_GetObjectItemCaseSensitive(meta, "platforms");
	const cJSON *first = cJSON_GetArrayItem(pl, 0);

	return cJSON_IsString(first) ? first->valuestring : NULL;
}

/* Audit an event about one passport; nonzero when the log refused it. */
static int audit_passport(struct agent *a, struct peer *p,
			  const struct store_item *it, const char *action,
			  const char *purpose, const char *result,
			  const char *reason)
{
	struct audit_event ev = {
	    .principal = p->principal,
	    .claimed_actor = p->claimed_actor[0] ? p->claimed_actor : NULL,
	    .action = action,
	    .passport_id = it ? it->id : NULL,
	    .platform = it ? first_platform(it->meta) : NULL,
	    .purpose = purpose,
	    .result = result,
	    .reason = reason,
	};

	return audit_append(&a->audit, &ev);
}

static int require_text(const cJSON *req, const char *key, const char **out,
			struct reply *rep)
{
	const char *s = idw_json_str(req, key);

	if (s == NULL || s[0] == '\0')
		return reply_error(rep, IDW_EUSAGE, "%s is required", key);
	if (strlen(s) > PURPOSE_MAX ||
	    !idw_utf8_valid((const uint8_t *)s, strlen(s)))
		return reply_error(rep, IDW_EUSAGE,
				   "%s must be UTF-8 text of at most %d bytes",
				   key, PURPOSE_MAX);
	*out = s;
	return 0;
}

static int reply_passport(struct reply *rep, const cJSON *meta)
{
	cJSON *o = reply_ok(rep), *v;

	if (o == NULL || (v = passport_view(meta, idw_now())) == NULL)
		return IDW_ENOMEM;
	cJSON_AddItemToObject(o, "passport", v);
	return 0;
}

int verb_create(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	char id[20], why[300];
	cJSON *meta = NULL, *o;
	int r;

	if (!in->has_secret || in->secret_len == 0)
		return reply_error(rep, IDW_EUSAGE,
				   "the credential value is required");
	if (in->secret_len > STORE_VALUE_MAX)
		return reply_error(rep, IDW_ETOOBIG,
				   "the value is larger than %u bytes",
				   STORE_VALUE_MAX);
	do
		passport_new_id(id);
	while (store_find(&a->store, "passport", id) != NULL);
	why[0] = '\0';
	r = passport_from_request(in->req, id, idw_now(), &meta, why,
				  sizeof(why));
	if (r != 0)
		return reply_error(rep, r, "%s",
				   why[0] ? why : idw_strerror(r));
	r = store_put(&a->store, a->vault, "passport", id, meta, in->secret,
		      in->secret_len);
	if (r != 0)
		return reply_error(rep, r, "saving the passport failed: %s",
				   idw_strerror(r));
	(void)audit_passport(a, p, store_find(&a->store, "passport", id),
			     "creation", NULL, "ok", NULL);
	if ((r = reply_passport(
		 rep, store_find(&a->store, "passport", id)->meta)) != 0)
		return r;
	cJSON_AddStringToObject(rep->json, "id", id);
	(void)o;
	return 0;
}

static int platform_match(const cJSON *meta, const char *platform)
{
	const cJSON *pl = cJSON_GetObjectItemCaseSensitive(meta, "platforms");
	const cJSON *e;

	cJSON_ArrayForEach(e, pl)
	{
		if (cJSON_IsString(e) && strcmp(e->valuestring, platform) == 0)
			return 1;
	}
	return 0;
}

int verb_list(struct agent *a, struct peer *p, const struct verb_args *in,
	      struct reply *rep)
{
	const char *status = idw_json_str(in->req, "status");
	const char *platform = idw_json_str(in->req, "platform");
	const char *cursor = idw_json_str(in->req, "cursor");
	int64_t limit = idw_json_int(in->req, "limit", LIST_DEFAULT);
	int64_t now = idw_now();
	size_t skip = 0, seen = 0, added = 0;
	cJSON *o, *arr;

	(void)p;
	if (limit <= 0 || limit > LIST_MAX)
		limit = limit <= 0 ? LIST_DEFAULT : LIST_MAX;
	if (cursor != NULL) {
		char *end = NULL;
		unsigned long long c = strtoull(cursor, &end, 10);

		if (end == cursor || *end != '\0')
			return reply_error(rep, IDW_EUSAGE, "bad cursor");
		skip = (size_t)c;
	}
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "passports")) == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; i < a->store.n; i++) {
		const struct store_item *it = &a->store.items[i];
		cJSON *v;

		if (strcmp(it->kind, "passport") != 0)
			continue;
		if (status != NULL &&
		    strcmp(passport_status(it->meta, now), status) != 0)
			continue;
		if (platform != NULL && !platform_match(it->meta, platform))
			continue;
		if (seen++ < skip)
			continue;
		if (added == (size_t)limit) {
			char next[32];

			snprintf(next, sizeof(next), "%zu", skip + added);
			cJSON_AddStringToObject(o, "next_cursor", next);
			break;
		}
		if ((v = passport_view(it->meta, now)) == NULL)
			return IDW_ENOMEM;
		cJSON_AddItemToArray(arr, v);
		added++;
	}
	return 0;
}

int verb_show(struct agent *a, struct peer *p, const struct verb_args *in,
	      struct reply *rep)
{
	struct store_item *it = find_passport(a, in->req, rep);

	(void)p;
	if (it == NULL)
		return IDW_ENOENT;
	return reply_passport(rep, it->meta);
}

/* Decide; on refusal the reply is filled and a denial audited. */
static int decide(struct agent *a, struct peer *p, struct store_item *it,
		  const char *action, const char *purpose, struct reply *rep)
{
	struct policy_result pr;
	int r;

	if ((r = policy_evaluate(it->meta, p->principal, idw_now(), &pr)) != 0)
		return reply_error(rep, r, "policy evaluation failed");
	if (pr.effect == POLICY_ALLOW) {
		policy_result_free(&pr);
		return 0;
	}
	(void)audit_passport(a, p, it, action, purpose, "denied", pr.reason);
	if (pr.effect == POLICY_REQUIRE_APPROVAL)
		r = reply_error(rep, IDW_EPENDING,
				"%s: approval by a person is required",
				pr.reason);
	else
		r = reply_error(rep, IDW_EDENIED, "access to %s denied: %s",
				it->id, pr.reason);
	policy_result_free(&pr);
	return r;
}

int verb_get(struct agent *a, struct peer *p, const struct verb_args *in,
	     struct reply *rep)
{
	struct store_item *it = find_passport(a, in->req, rep);
	const char *purpose = NULL, *reveal;
	uint8_t *val = NULL;
	size_t vlen = 0;
	cJSON *o, *pp;
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	if ((r = require_text(in->req, "purpose", &purpose, rep)) != 0)
		return r;
	if ((r = decide(a, p, it, "access", purpose, rep)) != 0)
		return r;
	reveal = idw_json_str(it->meta, "reveal");
	if (reveal != NULL && strcmp(reveal, "never") == 0) {
		(void)audit_passport(a, p, it, "access", purpose, "denied",
				     "reveal: never");
		return reply_error(rep, IDW_EDENIED,
				   "%s is never revealed; inject it with "
				   "'idw run' instead",
				   it->id);
	}
	if ((r = store_open_value(it, &val, &vlen)) != 0)
		return reply_error(rep, r, "the value could not be opened");
	/* The entry is on disk before the value leaves, or nothing leaves. */
	if (audit_passport(a, p, it, "access", purpose, "allowed", NULL) != 0) {
		idw_arena_free(val);
		return reply_error(rep, IDW_EDENIED,
				   "the audit log could not be written (%s): "
				   "request denied",
				   a->audit.broken ? a->audit.broken_why
						   : "error");
	}
	if ((o = reply_ok(rep)) == NULL) {
		idw_arena_free(val);
		return IDW_ENOMEM;
	}
	pp = cJSON_AddObjectToObject(o, "passport");
	cJSON_AddStringToObject(pp, "id", it->id);
	cJSON_AddStringToObject(pp, "name", idw_json_str(it->meta, "name"));
	rep->secret = val;
	rep->secret_len = vlen;
	rep->has_secret = true;
	return 0;
}

/*
 * Replace one field (val is consumed) and write the snapshot.  val NULL
 * is a failed allocation, never "clear the field": a revocation that
 * could not be built must not be written as none.
 */
static int update_field(struct agent *a, struct store_item *it, const char *key,
			cJSON *val)
{
	char tnow[IDW_TIME_LEN];
	cJSON *meta;

	if (val == NULL)
		return IDW_ENOMEM;
	if ((meta = cJSON_Duplicate(it->meta, 1)) == NULL) {
		cJSON_Delete(val);
		return IDW_ENOMEM;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(meta, key);
	cJSON_AddItemToObject(meta, key, val);
	idw_time_fmt_utc(idw_now(), tnow);
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "updated_at");
	cJSON_AddStringToObject(meta, "updated_at", tnow);
	return store_put(&a->store, a->vault, "passport", it->id, meta, NULL,
			 0);
}

static cJSON *stamp(struct peer *p, const char *reason)
{
	char tnow[IDW_TIME_LEN];
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	idw_time_fmt_utc(idw_now(), tnow);
	cJSON_AddStringToObject(o, "at", tnow);
	if (reason != NULL)
		cJSON_AddStringToObject(o, "reason", reason);
	else
		cJSON_AddNullToObject(o, "reason");
	cJSON_AddStringToObject(o, "by", p->principal);
	return o;
}

static int is_set(const struct store_item *it, const char *key)
{
	return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(it->meta, key));
}

int verb_revoke(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	struct store_item *it = find_passport(a, in->req, rep);
	const char *reason = NULL;
	char id[STORE_ID_MAX];
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	if ((r = require_text(in->req, "reason", &reason, rep)) != 0)
		return r;
	if (is_set(it, "revocation"))
		return reply_error(rep, IDW_EEXIST, "%s is already revoked",
				   it->id);
	snprintf(id, sizeof(id), "%s", it->id);
	if ((r = update_field(a, it, "revocation", stamp(p, reason))) != 0)
		return reply_error(rep, r, "saving failed: %s",
				   idw_strerror(r));
	it = store_find(&a->store, "passport", id);
	(void)audit_passport(a, p, it, "revocation", NULL, "ok", reason);
	return reply_passport(rep, it->meta);
}

int verb_suspend(struct agent *a, struct peer *p, const struct verb_args *in,
		 struct reply *rep)
{
	struct store_item *it = find_passport(a, in->req, rep);
	const char *reason = idw_json_str(in->req, "reason");
	char id[STORE_ID_MAX];
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	if (reason != NULL &&
	    (strlen(reason) > PURPOSE_MAX ||
	     !idw_utf8_valid((const uint8_t *)reason, strlen(reason))))
		return reply_error(rep, IDW_EUSAGE,
				   "reason must be UTF-8 text of at most %d "
				   "bytes",
				   PURPOSE_MAX);
	if (is_set(it, "revocation"))
		return reply_error(rep, IDW_EEXIST, "%s is revoked", it->id);
	if (is_set(it, "suspension"))
		return reply_passport(rep, it->meta);
	snprintf(id, sizeof(id), "%s", it->id);
	if ((r = update_field(a, it, "suspension", stamp(p, reason))) != 0)
		return reply_error(rep, r, "saving failed: %s",
				   idw_strerror(r));
	it = store_find(&a->store, "passport", id);
	(void)audit_passport(a, p, it, "suspension", NULL, "ok", reason);
	return reply_passport(rep, it->meta);
}

int verb_resume(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	struct store_item *it = find_passport(a, in->req, rep);
	char id[STORE_ID_MAX];
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	if (is_set(it, "revocation"))
		return reply_error(rep, IDW_EDENIED,
				   "%s is revoked; revocation is final",
				   it->id);
	if (!is_set(it, "suspension"))
		return reply_passport(rep, it->meta);
	snprintf(id, sizeof(id), "%s", it->id);
	if ((r = update_field(a, it, "suspension", cJSON_CreateNull())) != 0)
		return reply_error(rep, r, "saving failed: %s",
				   idw_strerror(r));
	it = store_find(&a->store, "passport", id);
	(void)audit_passport(a, p, it, "modification", NULL, "ok", "resumed");
	return reply_passport(rep, it->meta);
}

int verb_check_policy(struct agent *a, struct peer *p,
		      const struct verb_args *in, struct reply *rep)
{
	struct store_item *it = find_passport(a, in->req, rep);
	const char *action = idw_json_str(in->req, "action");
	struct policy_result pr;
	cJSON *o;
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	if (action != NULL && strcmp(action, "access") != 0 &&
	    strcmp(action, "get") != 0)
		return reply_error(rep, IDW_EUSAGE, "action must be 'access'");
	if ((r = policy_evaluate(it->meta, p->principal, idw_now(), &pr)) != 0)
		return reply_error(rep, r, "policy evaluation failed");
	if ((o = reply_ok(rep)) == NULL) {
		policy_result_free(&pr);
		return IDW_ENOMEM;
	}
	cJSON_AddBoolToObject(o, "allowed", pr.effect == POLICY_ALLOW);
	cJSON_AddStringToObject(o, "effect", policy_effect_name(pr.effect));
	cJSON_AddItemToObject(o, "violations", pr.violations);
	pr.violations = NULL;
	cJSON_AddStringToObject(o, "reason", pr.reason);
	policy_result_free(&pr);
	return 0;
}

/* Every asked scope must be one the visa grants (when it names any). */
static const char *scope_outside(const cJSON *meta, const cJSON *asked)
{
	const cJSON *visa = cJSON_GetObjectItemCaseSensitive(meta, "visa");
	const cJSON *have = cJSON_GetObjectItemCaseSensitive(visa, "scope");
	const cJSON *e, *h;

	if (cJSON_GetArraySize(have) == 0)
		return NULL;
	cJSON_ArrayForEach(e, asked)
	{
		int found = 0;

		cJSON_ArrayForEach(h, have)
		{
			if (cJSON_IsString(h) &&
			    strcmp(h->valuestring, e->valuestring) == 0)
				found = 1;
		}
		if (!found)
			return e->valuestring;
	}
	return NULL;
}

int verb_request_access(struct agent *a, struct peer *p,
			const struct verb_args *in, struct reply *rep)
{
	struct store_item *it = find_passport(a, in->req, rep);
	const cJSON *scope = cJSON_GetObjectItemCaseSensitive(in->req, "scope");
	const char *purpose = NULL, *outside, *status;
	struct policy_result pr;
	const cJSON *e;
	char reason[400];
	cJSON *o;
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	if ((r = require_text(in->req, "purpose", &purpose, rep)) != 0)
		return r;
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
	if ((r = policy_evaluate(it->meta, p->principal, idw_now(), &pr)) != 0)
		return reply_error(rep, r, "policy evaluation failed");
	snprintf(reason, sizeof(reason), "%s", pr.reason);
	outside = scope_outside(it->meta, scope);
	/* No approval can grant what the visa does not hold. */
	if (outside != NULL && pr.effect != POLICY_DENY) {
		pr.effect = POLICY_DENY;
		snprintf(reason, sizeof(reason),
			 "scope '%s' is outside the passport's visa scope",
			 outside);
	}
	policy_result_free(&pr);
	status = pr.effect == POLICY_ALLOW		? "approved"
		 : pr.effect == POLICY_REQUIRE_APPROVAL ? "pending"
							: "denied";
	if (audit_passport(a, p, it, "request", purpose, status, reason) != 0)
		return reply_error(rep, IDW_EDENIED,
				   "the audit log could not be written: "
				   "request denied");
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddBoolToObject(o, "approved", pr.effect == POLICY_ALLOW);
	cJSON_AddStringToObject(o, "status", status);
	cJSON_AddNullToObject(o, "grant_id");
	cJSON_AddStringToObject(o, "reason", reason);
	cJSON_AddNullToObject(o, "expires_at");
	return 0;
}

int verb_audit(struct agent *a, struct peer *p, const struct verb_args *in,
	       struct reply *rep)
{
	const char *id = idw_json_str(in->req, "id");
	int64_t limit = idw_json_int(in->req, "limit", 50);
	cJSON *o, *arr;
	int r;

	(void)p;
	if (limit <= 0 || limit > LIST_MAX)
		limit = limit <= 0 ? 50 : LIST_MAX;
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "entries")) == NULL)
		return IDW_ENOMEM;
	if ((r = audit_recent(&a->audit, id, (size_t)limit, arr)) != 0)
		return reply_error(rep, r, "reading the audit log failed: %s",
				   idw_strerror(r));
	return 0;
}
