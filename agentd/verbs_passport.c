/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/passport.h"
#include "agentd/policy.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define LIST_DEFAULT 100
#define LIST_MAX 500
#define PURPOSE_MAX 1024

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
	struct policy_result pr;
	int64_t now;
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
	now = gov_now(a);
	r = passport_from_request(in->req, id, now, &meta, why, sizeof(why));
	if (r != 0)
		return reply_error(rep, r, "%s",
				   why[0] ? why : idw_strerror(r));
	/* Not named: the vault's default ('idw config set reveal.default'). */
	if (idw_json_str(in->req, "reveal") == NULL &&
	    !cJSON_ReplaceItemInObjectCaseSensitive(
		    meta, "reveal",
		    cJSON_CreateString(gov_setting(a, GOV_REVEAL_DEFAULT)))) {
		cJSON_Delete(meta);
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	}
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
	/* What policy would say to its creator now, so idw can warn. */
	if (gov_decide(a, store_find(&a->store, "passport", id)->meta,
		       p->principal, now, &pr) == 0) {
		o = cJSON_AddObjectToObject(rep->json, "policy");
		if (o != NULL) {
			cJSON_AddStringToObject(o, "effect",
						policy_effect_name(pr.effect));
			cJSON_AddStringToObject(o, "reason", pr.reason);
			cJSON_AddItemToObject(o, "violations", pr.violations);
			pr.violations = NULL;
		}
		policy_result_free(&pr);
	}
	return 0;
}

static int platform_match(const struct store_item *it, const char *platform)
{
	const cJSON *pl, *e;

	/* Most passports are ruled out by the summary, without the tree. */
	if (!store_may_hold(it, "platforms", platform))
		return 0;
	pl = cJSON_GetObjectItemCaseSensitive(it->meta, "platforms");
	cJSON_ArrayForEach(e, pl)
	{
		if (cJSON_IsString(e) && strcmp(e->valuestring, platform) == 0)
			return 1;
	}
	return 0;
}

/*
 * Where a page starts.  A cursor is "<position>.<id>" of the last
 * passport of the previous page, so the next page resumes right after it
 * without walking what came before.  Should that passport be gone (its
 * position then holds another), the page starts at its position.
 */
static int list_start(struct agent *a, const char *cursor, size_t *start)
{
	const struct store_item *it;
	unsigned long long pos;
	char *end = NULL;

	*start = 0;
	if (cursor == NULL)
		return 0;
	if (cursor[0] < '0' || cursor[0] > '9')
		return IDW_EUSAGE;
	errno = 0;
	pos = strtoull(cursor, &end, 10);
	if (errno != 0 || end == cursor || *end != '.' || end[1] == '\0')
		return IDW_EUSAGE;
	end++;
	if (pos < a->store.n && strcmp(a->store.items[pos].id, end) == 0 &&
	    strcmp(a->store.items[pos].kind, "passport") == 0)
		*start = (size_t)pos + 1;
	else if ((it = store_find(&a->store, "passport", end)) != NULL)
		*start = store_pos(&a->store, it) + 1;
	else
		*start = pos < a->store.n ? (size_t)pos : a->store.n;
	return 0;
}

int verb_list(struct agent *a, struct peer *p, const struct verb_args *in,
	      struct reply *rep)
{
	const char *status = idw_json_str(in->req, "status");
	const char *platform = idw_json_str(in->req, "platform");
	int64_t limit = idw_json_int(in->req, "limit", LIST_DEFAULT);
	int64_t now = idw_now();
	const struct store_item *last = NULL;
	size_t start, added = 0;
	cJSON *o, *arr;

	(void)p;
	if (limit <= 0 || limit > LIST_MAX)
		limit = limit <= 0 ? LIST_DEFAULT : LIST_MAX;
	if (list_start(a, idw_json_str(in->req, "cursor"), &start) != 0)
		return reply_error(rep, IDW_EUSAGE,
				   "bad cursor: pass back the next_cursor of "
				   "the previous page, or none to start");
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "passports")) == NULL)
		return IDW_ENOMEM;
	for (size_t i = start; i < a->store.n; i++) {
		const struct store_item *it = &a->store.items[i];
		cJSON *v;

		if (strcmp(it->kind, "passport") != 0)
			continue;
		if (platform != NULL && !platform_match(it, platform))
			continue;
		if (status != NULL &&
		    strcmp(passport_status(it->meta, now), status) != 0)
			continue;
		if (added == (size_t)limit) {
			char next[32 + STORE_ID_MAX];

			snprintf(next, sizeof(next), "%zu.%s",
				 store_pos(&a->store, last), last->id);
			if (cJSON_AddStringToObject(o, "next_cursor", next) ==
			    NULL)
				return IDW_ENOMEM;
			break;
		}
		if ((v = passport_view(it->meta, now)) == NULL ||
		    !cJSON_AddItemToArray(arr, v)) {
			cJSON_Delete(v);
			return IDW_ENOMEM;
		}
		last = it;
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
