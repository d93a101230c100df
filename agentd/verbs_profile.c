/* SPDX-License-Identifier: ISC */
/*
 * Run profiles: profile_add and profile_remove (person proof),
 * profile_list and profile_show (metadata).  What a profile unlocks is
 * get's to decide (verbs_access.c): a "never" passport is served to a
 * request that names a profile pinning that variable to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/passport.h"
#include "agentd/profile.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

static void audit_change(struct agent *a, struct peer *p, const char *reason)
{
	/* A failure marks the log broken; later releases are then denied. */
	(void)gov_audit(a, p->principal, p->claimed_actor, NULL,
			"profile change", NULL, "ok", reason);
}

/*
 * A profile as clients see it: the record, plus per variable what its
 * passport is now (name, path, reveal, status), so a person sees what a
 * profile hands out without a second request.
 */
static cJSON *profile_view(struct agent *a, const cJSON *meta, int64_t now)
{
	cJSON *o = cJSON_Duplicate(meta, 1), *vars;
	const cJSON *e;

	if (o == NULL || (vars = cJSON_AddArrayToObject(o, "vars")) == NULL)
		goto fail;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(meta, "env"))
	{
		const struct store_item *pp =
			cJSON_IsString(e) ? store_find(&a->store, "passport",
						       e->valuestring)
					  : NULL;
		cJSON *v = cJSON_CreateObject();

		if (v == NULL || !cJSON_AddItemToArray(vars, v)) {
			cJSON_Delete(v);
			goto fail;
		}
		cJSON_AddStringToObject(v, "var", e->string);
		cJSON_AddStringToObject(
			v, "passport", cJSON_IsString(e) ? e->valuestring : "");
		if (pp == NULL) {
			/* Its passport was deleted: nothing is served. */
			cJSON_AddStringToObject(v, "status", "missing");
			continue;
		}
		cJSON_AddStringToObject(v, "name",
					idw_json_str(pp->meta, "name"));
		cJSON_AddStringToObject(v, "path",
					idw_json_str(pp->meta, "path")
						? idw_json_str(pp->meta, "path")
						: "");
		cJSON_AddStringToObject(
			v, "reveal",
			idw_json_str(pp->meta, "reveal")
				? idw_json_str(pp->meta, "reveal")
				: "model");
		cJSON_AddStringToObject(v, "status",
					passport_status(pp->meta, now));
	}
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static struct store_item *find_profile(struct agent *a, const cJSON *req,
				       struct reply *rep)
{
	const char *name = idw_json_str(req, "name");
	struct store_item *it;

	if (!profile_name_valid(name)) {
		reply_error(rep, IDW_EUSAGE,
			    "a profile name is 1 to %d of A-Z a-z 0-9 . _ -",
			    PROFILE_NAME_MAX);
		return NULL;
	}
	if ((it = store_find(&a->store, "profile", name)) == NULL)
		reply_error(rep, IDW_ENOENT,
			    "no profile %s: 'idw profile list' shows them",
			    name);
	return it;
}

int verb_profile_add(struct agent *a, struct peer *p,
		     const struct verb_args *in, struct reply *rep)
{
	const cJSON *replace =
		cJSON_GetObjectItemCaseSensitive(in->req, "replace");
	char tnow[IDW_TIME_LEN], why[400], name[PROFILE_NAME_MAX + 1];
	int64_t now = gov_now(a);
	bool exists;
	cJSON *m = NULL, *o, *v;
	int r;

	if (replace != NULL && !cJSON_IsBool(replace))
		return reply_error(rep, IDW_EUSAGE, "replace is true or false");
	idw_time_fmt_utc(now, tnow);
	why[0] = '\0';
	if ((r = profile_from_request(&a->store, in->req, tnow, p->principal,
				      &m, why, sizeof(why))) != 0)
		return reply_error(rep, r, "%s",
				   why[0] ? why : idw_strerror(r));
	snprintf(name, sizeof(name), "%s", idw_json_str(m, "name"));
	exists = store_find(&a->store, "profile", name) != NULL;
	if (exists && !cJSON_IsTrue(replace)) {
		cJSON_Delete(m);
		return reply_error(rep, IDW_EEXIST,
				   "a profile named %s exists: add --replace "
				   "to replace it, or choose another name",
				   name);
	}
	if (!exists && store_count(&a->store, "profile") >= PROFILES_MAX) {
		cJSON_Delete(m);
		return reply_error(rep, IDW_ETOOBIG,
				   "the vault holds %d profiles, the most it "
				   "keeps: remove one first",
				   PROFILES_MAX);
	}
	if ((r = store_put(&a->store, a->vault, "profile", name, m, NULL, 0)) !=
	    0)
		return reply_error(rep, r, "saving the profile failed: %s",
				   idw_strerror(r));
	snprintf(why, sizeof(why), "profile %s %s", name,
		 exists ? "replaced" : "added");
	audit_change(a, p, why);
	if ((o = reply_ok(rep)) == NULL ||
	    (v = profile_view(a, store_find(&a->store, "profile", name)->meta,
			      now)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddItemToObject(o, "profile", v);
	cJSON_AddBoolToObject(o, "replaced", exists);
	return 0;
}

static int by_name(const void *x, const void *y)
{
	const struct store_item *a = *(const struct store_item *const *)x;
	const struct store_item *b = *(const struct store_item *const *)y;

	return strcmp(a->id, b->id);
}

int verb_profile_list(struct agent *a, struct peer *p,
		      const struct verb_args *in, struct reply *rep)
{
	const struct store_item *items[PROFILES_MAX];
	int64_t now = gov_now(a);
	size_t n = 0;
	cJSON *o, *arr, *v;

	(void)p;
	(void)in;
	for (size_t i = 0; i < a->store.n && n < PROFILES_MAX; i++)
		if (strcmp(a->store.items[i].kind, "profile") == 0)
			items[n++] = &a->store.items[i];
	qsort(items, n, sizeof(items[0]), by_name);
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "profiles")) == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((v = profile_view(a, items[i]->meta, now)) == NULL ||
		    !cJSON_AddItemToArray(arr, v)) {
			cJSON_Delete(v);
			return reply_error(rep, IDW_ENOMEM, "out of memory");
		}
	}
	return 0;
}

int verb_profile_show(struct agent *a, struct peer *p,
		      const struct verb_args *in, struct reply *rep)
{
	const struct store_item *it = find_profile(a, in->req, rep);
	cJSON *o, *v;

	(void)p;
	if (it == NULL)
		return IDW_ENOENT;
	if ((v = profile_view(a, it->meta, gov_now(a))) == NULL)
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	if ((o = reply_ok(rep)) == NULL) {
		cJSON_Delete(v);
		return IDW_ENOMEM;
	}
	cJSON_AddItemToObject(o, "profile", v);
	return 0;
}

int verb_profile_remove(struct agent *a, struct peer *p,
			const struct verb_args *in, struct reply *rep)
{
	const struct store_item *it = find_profile(a, in->req, rep);
	char name[PROFILE_NAME_MAX + 1], why[120];
	cJSON *o;
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	snprintf(name, sizeof(name), "%s", it->id);
	if ((r = store_del(&a->store, a->vault, "profile", name)) != 0)
		return reply_error(rep, r, "removing the profile failed: %s",
				   idw_strerror(r));
	snprintf(why, sizeof(why), "profile %s removed", name);
	audit_change(a, p, why);
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddStringToObject(o, "name", name);
	return 0;
}
