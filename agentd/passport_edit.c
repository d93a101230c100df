/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "agentd/passport.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

/*
 * Changing a passport after create: edits and delegation hops.  Both end
 * in a full snapshot built by the same checks as create, so nothing an
 * edit writes could not have been created.
 */
#define HOP_TEXT_MAX 128
#define HOP_NOTES_MAX 1024
#define HOP_SCOPE_MAX 16

static const char *const editable[] = {
	"name",	       "path",	      "credential_type", "platforms",
	"agent_id",    "human_owner", "valid_from",	 "valid_until",
	"access_tier", "tags",	      "notes",		 "reveal",
	NULL,
};
static const char *const visa_members[] = {"type", "issuing_authority", "scope",
					   NULL};
/* What passport_from_request resets and an edit keeps. */
static const char *const kept[] = {"created_at", "revocation", "suspension",
				   "value_version", NULL};

static int replace(cJSON *o, const char *key, const cJSON *v)
{
	cJSON *d = cJSON_Duplicate(v, 1);

	if (d == NULL)
		return IDW_ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	if (!cJSON_AddItemToObject(o, key, d)) {
		cJSON_Delete(d);
		return IDW_ENOMEM;
	}
	return 0;
}

/* The request's fields over a copy of the stored ones; *n counts them. */
static int merge(const cJSON *meta, const cJSON *req, cJSON **out, int *n,
		 bool *clear_chain, char *why, size_t whylen)
{
	const cJSON *vreq = cJSON_GetObjectItemCaseSensitive(req, "visa");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(req, "delegation");
	cJSON *m = cJSON_Duplicate(meta, 1), *visa;
	int r = 0;

	*n = 0;
	*clear_chain = false;
	if (m == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; r == 0 && editable[i] != NULL; i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(req, editable[i]);

		if (v != NULL) {
			r = replace(m, editable[i], v);
			(*n)++;
		}
	}
	if (r == 0 && vreq != NULL) {
		if (!cJSON_IsObject(vreq)) {
			snprintf(why, whylen, "visa must be an object");
			r = IDW_EUSAGE;
			goto out;
		}
		visa = cJSON_GetObjectItemCaseSensitive(m, "visa");
		if (!cJSON_IsObject(visa)) {
			cJSON_DeleteItemFromObjectCaseSensitive(m, "visa");
			visa = cJSON_AddObjectToObject(m, "visa");
		}
		for (size_t i = 0;
		     r == 0 && visa != NULL && visa_members[i] != NULL; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(
				vreq, visa_members[i]);

			if (v != NULL) {
				r = replace(visa, visa_members[i], v);
				(*n)++;
			}
		}
		if (visa == NULL)
			r = IDW_ENOMEM;
	}
	if (r == 0 && d != NULL) {
		if (!cJSON_IsArray(d) || cJSON_GetArraySize(d) != 0) {
			snprintf(
				why, whylen,
				"delegation can only be cleared ([]); add hops "
				"with 'idw delegate'");
			r = IDW_EUSAGE;
			goto out;
		}
		*clear_chain = true;
		(*n)++;
	}
out:
	if (r != 0) {
		cJSON_Delete(m);
		return r;
	}
	*out = m;
	return 0;
}

static void note_change(char *changed, size_t len, const char *key)
{
	size_t used = strlen(changed);

	if (used + strlen(key) + 3 < len)
		snprintf(changed + used, len - used, "%s%s", used ? ", " : "",
			 key);
}

int passport_edit(const cJSON *meta, const cJSON *req, int64_t now, cJSON **out,
		  char *changed, size_t changedlen, char *why, size_t whylen)
{
	const char *id = idw_json_str(meta, "id");
	char tnow[IDW_TIME_LEN];
	cJSON *merged = NULL, *built = NULL;
	const cJSON *e;
	bool clear_chain;
	int n, r;

	*out = NULL;
	changed[0] = '\0';
	if (id == NULL)
		return IDW_EINVAL;
	if ((r = merge(meta, req, &merged, &n, &clear_chain, why, whylen)) != 0)
		return r;
	if (n == 0) {
		snprintf(why, whylen, "nothing to change");
		r = IDW_EUSAGE;
		goto out;
	}
	if ((r = passport_from_request(merged, id, now, &built, why, whylen)) !=
	    0)
		goto out;
	for (size_t i = 0; r == 0 && kept[i] != NULL; i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(meta, kept[i]);

		if (v != NULL)
			r = replace(built, kept[i], v);
	}
	if (r == 0 && !clear_chain &&
	    (e = cJSON_GetObjectItemCaseSensitive(meta, "delegation")) != NULL)
		r = replace(built, "delegation", e);
	/* Fields of a newer version are kept as they are. */
	cJSON_ArrayForEach(e, meta)
	{
		if (r == 0 && e->string != NULL &&
		    strcmp(e->string, "status") != 0 &&
		    !cJSON_HasObjectItem(built, e->string))
			r = replace(built, e->string, e);
	}
	if (r != 0)
		goto out;
	cJSON_ArrayForEach(e, built)
	{
		if (strcmp(e->string, "updated_at") != 0 &&
		    !cJSON_Compare(
			    e,
			    cJSON_GetObjectItemCaseSensitive(meta, e->string),
			    1))
			note_change(changed, changedlen, e->string);
	}
	idw_time_fmt_utc(now, tnow);
	cJSON_DeleteItemFromObjectCaseSensitive(built, "updated_at");
	if (cJSON_AddStringToObject(built, "updated_at", tnow) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	*out = built;
	built = NULL;
out:
	cJSON_Delete(merged);
	cJSON_Delete(built);
	return r;
}

int passport_hop_expired(const cJSON *meta, int64_t now)
{
	const cJSON *hop;
	int i = 0;

	cJSON_ArrayForEach(hop,
			   cJSON_GetObjectItemCaseSensitive(meta, "delegation"))
	{
		const char *s = idw_json_str(hop, "expires_at");
		int64_t t;

		i++;
		if (s == NULL)
			continue;
		/* An end that does not read is an end: fail closed. */
		if (idw_time_parse(s, 1, &t) != 0 || now >= t)
			return i;
	}
	return 0;
}

static bool has(const cJSON *list, const char *v)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, list)
	{
		if (cJSON_IsString(e) && strcmp(e->valuestring, v) == 0)
			return true;
	}
	return false;
}

const char *passport_scope_outside(const cJSON *limit, const cJSON *asked)
{
	const cJSON *e;

	if (limit == NULL)
		return NULL;
	cJSON_ArrayForEach(e, asked)
	{
		if (cJSON_IsString(e) && !has(limit, e->valuestring))
			return e->valuestring;
	}
	return NULL;
}

/* Into *cur (NULL: unlimited so far) the part of list within it. */
static int narrow(cJSON **cur, const cJSON *list)
{
	cJSON *next = cJSON_CreateArray();
	const cJSON *e;

	if (next == NULL)
		return IDW_ENOMEM;
	cJSON_ArrayForEach(e, list)
	{
		if (!cJSON_IsString(e) || has(next, e->valuestring) ||
		    (*cur != NULL && !has(*cur, e->valuestring)))
			continue;
		if (!cJSON_AddItemToArray(next,
					  cJSON_CreateString(e->valuestring))) {
			cJSON_Delete(next);
			return IDW_ENOMEM;
		}
	}
	cJSON_Delete(*cur);
	*cur = next;
	return 0;
}

int passport_effective_scope(const cJSON *meta, cJSON **out)
{
	const cJSON *visa = cJSON_GetObjectItemCaseSensitive(meta, "visa");
	const cJSON *vs = cJSON_GetObjectItemCaseSensitive(visa, "scope");
	const cJSON *hop;
	cJSON *cur = NULL;
	int r = 0;

	*out = NULL;
	if (cJSON_GetArraySize(vs) > 0)
		r = narrow(&cur, vs);
	cJSON_ArrayForEach(hop,
			   cJSON_GetObjectItemCaseSensitive(meta, "delegation"))
	{
		const cJSON *hs =
			cJSON_GetObjectItemCaseSensitive(hop, "scope");

		/* A hop names its scope; one that does not grants nothing. */
		if (r == 0)
			r = narrow(&cur, cJSON_IsArray(hs) ? hs : NULL);
	}
	if (r != 0) {
		cJSON_Delete(cur);
		return r;
	}
	*out = cur;
	return 0;
}

static int hop_text(cJSON *hop, const cJSON *req, const char *key, size_t max,
		    bool required, char *why, size_t whylen)
{
	const char *s = idw_json_str(req, key);

	if (s == NULL && !required)
		return cJSON_AddStringToObject(hop, key, "") ? 0 : IDW_ENOMEM;
	if (s == NULL || (required && s[0] == '\0') || strlen(s) > max ||
	    !idw_utf8_valid((const uint8_t *)s, strlen(s))) {
		snprintf(why, whylen, "%s must be UTF-8 text of %s%zu bytes",
			 key, required ? "1 to " : "at most ", max);
		return IDW_EUSAGE;
	}
	return cJSON_AddStringToObject(hop, key, s) ? 0 : IDW_ENOMEM;
}

static int hop_scope(cJSON *hop, const cJSON *req, char *why, size_t whylen)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(req, "scope"), *e;
	cJSON *arr;

	if (!cJSON_IsArray(s) || cJSON_GetArraySize(s) == 0 ||
	    cJSON_GetArraySize(s) > HOP_SCOPE_MAX) {
		snprintf(why, whylen,
			 "a hop needs a scope: 1 to %d names (--scope)",
			 HOP_SCOPE_MAX);
		return IDW_EUSAGE;
	}
	if ((arr = cJSON_AddArrayToObject(hop, "scope")) == NULL)
		return IDW_ENOMEM;
	cJSON_ArrayForEach(e, s)
	{
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0' ||
		    strlen(e->valuestring) > HOP_TEXT_MAX ||
		    !idw_utf8_valid((const uint8_t *)e->valuestring,
				    strlen(e->valuestring))) {
			snprintf(why, whylen,
				 "scope must hold names of 1 to %d bytes",
				 HOP_TEXT_MAX);
			return IDW_EUSAGE;
		}
		if (!has(arr, e->valuestring) &&
		    !cJSON_AddItemToArray(arr,
					  cJSON_CreateString(e->valuestring)))
			return IDW_ENOMEM;
	}
	return 0;
}

static int hop_end(cJSON *hop, const cJSON *req, int64_t now, char *why,
		   size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "expires_at");
	char buf[IDW_TIME_LEN];
	int64_t t, back;

	if (v == NULL || cJSON_IsNull(v))
		return cJSON_AddNullToObject(hop, "expires_at") ? 0
								: IDW_ENOMEM;
	if (!cJSON_IsString(v) || idw_time_parse(v->valuestring, 1, &t) != 0) {
		snprintf(why, whylen,
			 "expires_at is not an RFC 3339 time or a date");
		return IDW_EUSAGE;
	}
	idw_time_fmt_utc(t, buf);
	if (idw_time_parse(buf, 0, &back) != 0 || back != t || t <= now) {
		snprintf(why, whylen, "expires_at must lie in the future");
		return IDW_EUSAGE;
	}
	return cJSON_AddStringToObject(hop, "expires_at", buf) ? 0 : IDW_ENOMEM;
}

int passport_delegate(const cJSON *meta, const cJSON *req, int64_t now,
		      int max_depth, cJSON **out, char *why, size_t whylen)
{
	const cJSON *chain =
		cJSON_GetObjectItemCaseSensitive(meta, "delegation");
	int depth = cJSON_GetArraySize(chain);
	const char *last_to, *outside;
	cJSON *hop = NULL, *m = NULL, *limit = NULL, *arr;
	char tnow[IDW_TIME_LEN];
	int r;

	*out = NULL;
	if (depth + 1 > PASSPORT_HOPS_MAX ||
	    (max_depth >= 0 && depth + 1 > max_depth)) {
		snprintf(why, whylen,
			 "a hop would make the chain %d deep; at most %d are "
			 "allowed",
			 depth + 1,
			 max_depth >= 0 && max_depth < PASSPORT_HOPS_MAX
				 ? max_depth
				 : PASSPORT_HOPS_MAX);
		return IDW_EUSAGE;
	}
	if ((hop = cJSON_CreateObject()) == NULL)
		return IDW_ENOMEM;
	if ((r = hop_text(hop, req, "from", HOP_TEXT_MAX, true, why, whylen)) !=
		    0 ||
	    (r = hop_text(hop, req, "to", HOP_TEXT_MAX, true, why, whylen)) !=
		    0 ||
	    (r = hop_scope(hop, req, why, whylen)) != 0 ||
	    (r = hop_end(hop, req, now, why, whylen)) != 0 ||
	    (r = hop_text(hop, req, "notes", HOP_NOTES_MAX, false, why,
			  whylen)) != 0)
		goto out;
	last_to = idw_json_str(cJSON_GetArrayItem(chain, depth - 1), "to");
	if (depth > 0 && (last_to == NULL ||
			  strcmp(last_to, idw_json_str(hop, "from")) != 0)) {
		snprintf(why, whylen,
			 "the chain ends at '%.64s': the next hop must start "
			 "there",
			 last_to ? last_to : "?");
		r = IDW_EUSAGE;
		goto out;
	}
	if ((r = passport_effective_scope(meta, &limit)) != 0)
		goto out;
	outside = passport_scope_outside(
		limit, cJSON_GetObjectItemCaseSensitive(hop, "scope"));
	if (outside != NULL) {
		snprintf(why, whylen,
			 "delegation only narrows: '%.64s' is outside the "
			 "effective scope",
			 outside);
		r = IDW_EUSAGE;
		goto out;
	}
	if ((m = cJSON_Duplicate(meta, 1)) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	arr = cJSON_GetObjectItemCaseSensitive(m, "delegation");
	if (!cJSON_IsArray(arr)) {
		cJSON_DeleteItemFromObjectCaseSensitive(m, "delegation");
		arr = cJSON_AddArrayToObject(m, "delegation");
	}
	if (arr == NULL || !cJSON_AddItemToArray(arr, hop)) {
		r = IDW_ENOMEM;
		goto out;
	}
	hop = NULL;
	idw_time_fmt_utc(now, tnow);
	cJSON_DeleteItemFromObjectCaseSensitive(m, "updated_at");
	if (cJSON_AddStringToObject(m, "updated_at", tnow) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	*out = m;
	m = NULL;
out:
	cJSON_Delete(hop);
	cJSON_Delete(m);
	cJSON_Delete(limit);
	return r;
}
