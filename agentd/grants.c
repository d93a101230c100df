/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentd/gov.h"
#include "agentd/grants.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

void grant_new_id(char out[GRANT_ID_LEN + 1])
{
	uint8_t r[8];

	randombytes_buf(r, sizeof(r));
	memcpy(out, "gr_", 3);
	sodium_bin2hex(out + 3, 17, r, sizeof(r));
}

bool grant_id_valid(const char *id)
{
	if (id == NULL || strlen(id) != GRANT_ID_LEN ||
	    strncmp(id, "gr_", 3) != 0)
		return false;
	return strspn(id + 3, "0123456789abcdef") == 16;
}

static int64_t time_of(const cJSON *g, const char *key)
{
	const char *s = idw_json_str(g, key);
	int64_t t;

	/* An end that does not read has passed: fail closed. */
	if (s == NULL || idw_time_parse(s, 0, &t) != 0)
		return 0;
	return t;
}

const char *grant_status(const cJSON *g, int64_t now)
{
	const char *st = idw_json_str(g, "status");

	if (st == NULL)
		return "expired";
	if ((strcmp(st, "pending") == 0 || strcmp(st, "approved") == 0) &&
	    now >= time_of(g, "expires_at"))
		return "expired";
	return st;
}

static int str_order(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

cJSON *grant_scope_norm(const cJSON *scope)
{
	const char *v[64];
	size_t n = 0;
	const cJSON *e;
	cJSON *out = cJSON_CreateArray();

	if (out == NULL)
		return NULL;
	cJSON_ArrayForEach(e, scope)
	{
		if (cJSON_IsString(e) && n < sizeof(v) / sizeof(v[0]))
			v[n++] = e->valuestring;
	}
	qsort(v, n, sizeof(v[0]), str_order);
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if (!cJSON_AddItemToArray(out, cJSON_CreateString(v[i]))) {
			cJSON_Delete(out);
			return NULL;
		}
	}
	return out;
}

static bool holds(const cJSON *have, const cJSON *want)
{
	const cJSON *w, *h;

	cJSON_ArrayForEach(w, want)
	{
		bool found = false;

		cJSON_ArrayForEach(h, have)
		{
			if (cJSON_IsString(h) && cJSON_IsString(w) &&
			    strcmp(h->valuestring, w->valuestring) == 0)
				found = true;
		}
		if (!found)
			return false;
	}
	return true;
}

/* A grant of principal on passport in status st (as of now). */
static bool is(const struct store_item *it, const char *passport,
	       const char *principal, const char *st, int64_t now)
{
	const char *pp = idw_json_str(it->meta, "passport");
	const char *who = idw_json_str(it->meta, "principal");

	return strcmp(it->kind, "grant") == 0 && pp != NULL && who != NULL &&
	       (passport == NULL || strcmp(pp, passport) == 0) &&
	       strcmp(who, principal) == 0 &&
	       strcmp(grant_status(it->meta, now), st) == 0;
}

struct store_item *grant_lease(struct agent *a, const char *passport,
			       const char *principal, const cJSON *scope,
			       int64_t now)
{
	struct store_item *it;

	for (size_t j = 0; (it = store_kind_at(&a->store, "grant", j)) != NULL;
	     j++) {
		if (is(it, passport, principal, "approved", now) &&
		    (scope == NULL ||
		     holds(cJSON_GetObjectItemCaseSensitive(it->meta, "scope"),
			   scope)))
			return it;
	}
	return NULL;
}

struct store_item *grant_pending(struct agent *a, const char *passport,
				 const char *principal, const cJSON *scope,
				 int64_t now)
{
	struct store_item *it;

	for (size_t j = 0; (it = store_kind_at(&a->store, "grant", j)) != NULL;
	     j++) {
		if (is(it, passport, principal, "pending", now) &&
		    (scope == NULL ||
		     cJSON_Compare(cJSON_GetObjectItemCaseSensitive(it->meta,
								    "scope"),
				   scope, 1)))
			return it;
	}
	return NULL;
}

struct store_item *grant_block(struct agent *a, const char *passport,
			       const char *principal, int64_t now)
{
	struct store_item *it;

	for (size_t j = 0; (it = store_kind_at(&a->store, "grant", j)) != NULL;
	     j++) {
		if (is(it, passport, principal, "denied", now) &&
		    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
			    it->meta, "by_person")) &&
		    now < time_of(it->meta, "expires_at"))
			return it;
	}
	return NULL;
}

size_t grant_pending_count(struct agent *a, const char *principal, int64_t now)
{
	size_t n = 0;

	for (size_t j = 0; j < store_count(&a->store, "grant"); j++)
		if (is(store_kind_at(&a->store, "grant", j), NULL, principal,
		       "pending", now))
			n++;
	return n;
}

static bool add_time(cJSON *o, const char *key, int64_t t)
{
	char buf[IDW_TIME_LEN];

	idw_time_fmt_utc(t, buf);
	return cJSON_AddStringToObject(o, key, buf) != NULL;
}

int grant_create(struct agent *a, const struct peer *p, const char *passport,
		 const cJSON *scope, const char *purpose, int64_t now,
		 char id[STORE_ID_MAX])
{
	cJSON *g = cJSON_CreateObject(), *sc = grant_scope_norm(scope);

	if (g == NULL || sc == NULL) {
		cJSON_Delete(g);
		cJSON_Delete(sc);
		return IDW_ENOMEM;
	}
	do
		grant_new_id(id);
	while (store_find(&a->store, "grant", id) != NULL);
	cJSON_AddStringToObject(g, "id", id);
	cJSON_AddStringToObject(g, "passport", passport);
	cJSON_AddStringToObject(g, "principal", p->principal);
	cJSON_AddStringToObject(g, "claimed_actor", p->claimed_actor);
	cJSON_AddItemToObject(g, "scope", sc);
	cJSON_AddStringToObject(g, "purpose", purpose != NULL ? purpose : "");
	cJSON_AddStringToObject(g, "status", "pending");
	if (!add_time(g, "created_at", now) ||
	    !add_time(g, "expires_at", now + GRANT_PENDING_S) ||
	    cJSON_AddNullToObject(g, "decided_at") == NULL ||
	    cJSON_AddNullToObject(g, "decided_by") == NULL ||
	    cJSON_AddNullToObject(g, "via") == NULL ||
	    cJSON_AddNullToObject(g, "reason") == NULL) {
		cJSON_Delete(g);
		return IDW_ENOMEM;
	}
	return store_put(&a->store, a->vault, "grant", id, g, NULL, 0);
}

static int set(cJSON *g, const char *key, cJSON *v)
{
	if (v == NULL)
		return IDW_ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(g, key);
	if (!cJSON_AddItemToObject(g, key, v)) {
		cJSON_Delete(v);
		return IDW_ENOMEM;
	}
	return 0;
}

static cJSON *str_or_null(const char *s)
{
	return s != NULL ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static cJSON *time_item(int64_t t)
{
	char buf[IDW_TIME_LEN];

	idw_time_fmt_utc(t, buf);
	return cJSON_CreateString(buf);
}

int grant_decide(struct agent *a, const char *id,
		 const struct grant_decision *d, int64_t now)
{
	struct store_item *it = store_find(&a->store, "grant", id);
	cJSON *g;
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	if ((g = cJSON_Duplicate(it->meta, 1)) == NULL)
		return IDW_ENOMEM;
	if ((r = set(g, "status", cJSON_CreateString(d->status))) != 0 ||
	    (r = set(g, "decided_at", time_item(now))) != 0 ||
	    (r = set(g, "decided_by", str_or_null(d->by))) != 0 ||
	    (r = set(g, "via", str_or_null(d->via))) != 0 ||
	    (r = set(g, "reason", str_or_null(d->reason))) != 0 ||
	    (r = set(g, "expires_at", time_item(d->expires_at))) != 0 ||
	    (r = set(g, "by_person", cJSON_CreateBool(d->by_person))) != 0 ||
	    (d->ttl_s > 0 &&
	     (r = set(g, "ttl_s", cJSON_CreateNumber((double)d->ttl_s))) !=
		     0)) {
		cJSON_Delete(g);
		return r;
	}
	return store_put(&a->store, a->vault, "grant", id, g, NULL, 0);
}

static const char *or_dflt(const char *s, const char *dflt)
{
	return s != NULL ? s : dflt;
}

/* One grant whose time ran out: written down as expired, audited. */
static int expire(struct agent *a, size_t i, int64_t now)
{
	struct store_item *it = &a->store.items[i];
	const char *was = idw_json_str(it->meta, "status");
	char id[STORE_ID_MAX], reason[200], who[80], actor[160];
	bool lease = was != NULL && strcmp(was, "approved") == 0;
	cJSON *g = cJSON_Duplicate(it->meta, 1);
	int r;

	if (g == NULL)
		return IDW_ENOMEM;
	snprintf(id, sizeof(id), "%s", it->id);
	snprintf(who, sizeof(who), "%s",
		 or_dflt(idw_json_str(it->meta, "principal"), "?"));
	snprintf(actor, sizeof(actor), "%s",
		 or_dflt(idw_json_str(it->meta, "claimed_actor"), ""));
	snprintf(reason, sizeof(reason), "%s %s ended at %s",
		 lease ? "lease" : "unanswered request", id,
		 or_dflt(idw_json_str(it->meta, "expires_at"), "?"));
	if ((r = set(g, "status", cJSON_CreateString("expired"))) != 0 ||
	    (r = set(g, "ended_at", time_item(now))) != 0) {
		cJSON_Delete(g);
		return r;
	}
	if ((r = store_put(&a->store, a->vault, "grant", id, g, NULL, 0)) != 0)
		return r;
	it = store_find(&a->store, "grant", id);
	(void)gov_audit(
		a, who, actor,
		store_find(&a->store, "passport",
			   or_dflt(idw_json_str(it->meta, "passport"), "")),
		"expiry", NULL, "expired", reason);
	return 0;
}

int grant_sweep(struct agent *a, int64_t now)
{
	int r = 0;

	if (gov_clock_back(a, now))
		return 0;
	/* Only the grants are walked (the store keeps a list per kind). */
	for (size_t j = 0; r == 0 && j < store_count(&a->store, "grant");) {
		struct store_item *it = store_kind_at(&a->store, "grant", j);
		size_t i = store_pos(&a->store, it);
		const char *st;
		int64_t end;

		st = idw_json_str(it->meta, "status");
		if (st != NULL && (strcmp(st, "pending") == 0 ||
				   strcmp(st, "approved") == 0)) {
			if (now >= time_of(it->meta, "expires_at"))
				r = expire(a, i, now);
			j++;
			continue;
		}
		end = time_of(it->meta, "ended_at");
		if (end == 0)
			end = time_of(it->meta, "decided_at");
		if (end != 0 && now - end > GRANT_KEEP_S) {
			char id[STORE_ID_MAX];

			snprintf(id, sizeof(id), "%s", it->id);
			/* The next grant moves to slot j: look at j again. */
			r = store_del(&a->store, a->vault, "grant", id);
			continue;
		}
		j++;
	}
	return r;
}

cJSON *grant_view(struct agent *a, const cJSON *g, int64_t now)
{
	cJSON *v = cJSON_Duplicate(g, 1);
	const struct store_item *pp;
	const char *ppid = idw_json_str(g, "passport");

	if (v == NULL)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(v, "status");
	cJSON_AddStringToObject(v, "status", grant_status(g, now));
	pp = ppid != NULL ? store_find(&a->store, "passport", ppid) : NULL;
	if (pp != NULL) {
		const char *name = idw_json_str(pp->meta, "name");
		const char *path = idw_json_str(pp->meta, "path");
		const char *tier = idw_json_str(pp->meta, "access_tier");

		cJSON_AddStringToObject(v, "passport_name", name ? name : "");
		cJSON_AddStringToObject(v, "passport_path", path ? path : "");
		cJSON_AddStringToObject(v, "access_tier",
					tier ? tier : "standard");
	} else {
		cJSON_AddNullToObject(v, "passport_name");
		cJSON_AddNullToObject(v, "passport_path");
		cJSON_AddNullToObject(v, "access_tier");
	}
	return v;
}
