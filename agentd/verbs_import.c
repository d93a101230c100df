/* SPDX-License-Identifier: ISC */
/*
 * import: many passports in one person-proven request.  Every item is
 * checked first (fields as at create, the value's length, a name or id
 * already taken), so a request with one bad item writes nothing; only
 * then are the records appended, one per passport.  The values travel in
 * the secret segment, one after another, each item naming its length.
 */
#include <stdio.h>
#include <string.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/passport.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define IMPORT_MAX 10000
#define IMPORT_ERRORS_MAX 50

/* One checked item, ready to be written. */
struct imp {
	cJSON *meta; /* NULL for an item skipped as existing */
	size_t voff, vlen;
	const char *name, *path;
	int line;
	char old[STORE_ID_MAX]; /* the passport a skipped item matched */
};

static bool time_ok(const cJSON *v)
{
	int64_t t;

	return cJSON_IsString(v) && idw_time_parse(v->valuestring, 0, &t) == 0;
}

static bool text_or_null(const cJSON *o, const char *key, size_t max)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (v == NULL || cJSON_IsNull(v))
		return true;
	return cJSON_IsString(v) && strlen(v->valuestring) <= max &&
	       idw_utf8_valid((const uint8_t *)v->valuestring,
			      strlen(v->valuestring));
}

/* A revocation or suspension stamp {at, reason, by}, or null. */
static bool stamp_ok(const cJSON *v)
{
	if (v == NULL || cJSON_IsNull(v))
		return true;
	return cJSON_IsObject(v) &&
	       time_ok(cJSON_GetObjectItemCaseSensitive(v, "at")) &&
	       text_or_null(v, "reason", 1024) && text_or_null(v, "by", 160);
}

static bool strings_ok(const cJSON *arr, int max)
{
	const cJSON *e;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) > max)
		return false;
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsString(e) || strlen(e->valuestring) > 256)
			return false;
	}
	return true;
}

static bool hops_ok(const cJSON *v)
{
	const cJSON *h, *exp;

	if (v == NULL)
		return true;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > PASSPORT_HOPS_MAX)
		return false;
	cJSON_ArrayForEach(h, v)
	{
		exp = cJSON_GetObjectItemCaseSensitive(h, "expires_at");
		if (!cJSON_IsObject(h) || !idw_json_str(h, "from") ||
		    !idw_json_str(h, "to") ||
		    !strings_ok(cJSON_GetObjectItemCaseSensitive(h, "scope"),
				64) ||
		    !(exp == NULL || cJSON_IsNull(exp) || time_ok(exp)) ||
		    !text_or_null(h, "notes", 1024))
			return false;
	}
	return true;
}

/*
 * What an export keeps beyond create's fields: its history.  Each is
 * checked and copied; anything else an item holds is left out.
 */
static int keep_history(cJSON *meta, const cJSON *item, char *why,
			size_t whylen)
{
	static const char *const times[] = {"created_at", "updated_at"};
	static const char *const stamps[] = {"revocation", "suspension"};
	const cJSON *v;

	for (size_t i = 0; i < 2; i++) {
		v = cJSON_GetObjectItemCaseSensitive(item, times[i]);
		if (v == NULL)
			continue;
		if (!time_ok(v)) {
			snprintf(why, whylen, "%s is not an RFC 3339 time",
				 times[i]);
			return IDW_EUSAGE;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(meta, times[i]);
		cJSON_AddItemToObject(meta, times[i], cJSON_Duplicate(v, 1));
	}
	for (size_t i = 0; i < 2; i++) {
		v = cJSON_GetObjectItemCaseSensitive(item, stamps[i]);
		if (v == NULL)
			continue;
		if (!stamp_ok(v)) {
			snprintf(why, whylen,
				 "%s must be null or {at, reason, by}",
				 stamps[i]);
			return IDW_EUSAGE;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(meta, stamps[i]);
		cJSON_AddItemToObject(meta, stamps[i], cJSON_Duplicate(v, 1));
	}
	v = cJSON_GetObjectItemCaseSensitive(item, "delegation");
	if (!hops_ok(v)) {
		snprintf(why, whylen,
			 "delegation must be a list of at most %d hops {from, "
			 "to, scope, expires_at, notes}",
			 PASSPORT_HOPS_MAX);
		return IDW_EUSAGE;
	}
	if (v != NULL) {
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "delegation");
		cJSON_AddItemToObject(meta, "delegation",
				      cJSON_Duplicate(v, 1));
	}
	v = cJSON_GetObjectItemCaseSensitive(item, "value_version");
	if (v != NULL) {
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 ||
		    v->valuedouble > 1e9) {
			snprintf(why, whylen,
				 "value_version must be 1 or more");
			return IDW_EUSAGE;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(meta, "value_version");
		cJSON_AddNumberToObject(meta, "value_version",
					(double)(int64_t)v->valuedouble);
	}
	return 0;
}

/* The passport already holding this name under this path, if any. */
static const struct store_item *by_name(struct agent *a, const char *name,
					const char *path)
{
	for (size_t i = 0; i < a->store.n; i++) {
		const struct store_item *it = &a->store.items[i];
		const char *n, *p;

		if (strcmp(it->kind, "passport") != 0)
			continue;
		n = idw_json_str(it->meta, "name");
		p = idw_json_str(it->meta, "path");
		if (n != NULL && strcmp(n, name) == 0 &&
		    strcmp(p ? p : "", path) == 0)
			return it;
	}
	return NULL;
}

/* An earlier item of this request with the same id or name and path. */
static int dup_in(const struct imp *v, size_t n, const cJSON *meta)
{
	const char *id = idw_json_str(meta, "id");
	const char *name = idw_json_str(meta, "name");
	const char *path = idw_json_str(meta, "path");

	for (size_t i = 0; i < n; i++) {
		if (v[i].meta == NULL)
			continue;
		if (strcmp(idw_json_str(v[i].meta, "id"), id) == 0 ||
		    (strcmp(v[i].name, name) == 0 &&
		     strcmp(v[i].path, path) == 0))
			return (int)i;
	}
	return -1;
}

/*
 * Check one item into *out (meta NULL when it is skipped).  why says
 * what is wrong; 0 when the item is good.
 */
static int check_item(struct agent *a, const cJSON *item, size_t idx,
		      struct imp *all, bool skip_existing, int64_t now,
		      size_t *voff, size_t secret_len, char *why, size_t whylen)
{
	struct imp *out = &all[idx];
	const char *id = idw_json_str(item, "id");
	int64_t vlen = idw_json_int(item, "value_len", -1);
	const struct store_item *old;
	char newid[20];
	int r, d;

	out->line = (int)idw_json_int(item, "line", 0);
	if (!cJSON_IsObject(item)) {
		snprintf(why, whylen, "not an object");
		return IDW_EUSAGE;
	}
	if (vlen < 1 || vlen > (int64_t)STORE_VALUE_MAX) {
		snprintf(why, whylen,
			 "value_len must be 1 to %u: every passport needs its "
			 "value",
			 STORE_VALUE_MAX);
		return IDW_EUSAGE;
	}
	if ((size_t)vlen > secret_len - *voff) {
		snprintf(why, whylen, "the values are shorter than value_len");
		return IDW_EUSAGE;
	}
	out->voff = *voff;
	out->vlen = (size_t)vlen;
	*voff += (size_t)vlen;
	if (id != NULL && !passport_id_valid(id)) {
		snprintf(why, whylen, "id must be pp_ and 16 hex digits");
		return IDW_EUSAGE;
	}
	if (id == NULL) {
		do
			passport_new_id(newid);
		while (store_find(&a->store, "passport", newid) != NULL);
		id = newid;
	}
	if ((r = passport_from_request(item, id, now, &out->meta, why,
				       whylen)) != 0)
		return r;
	if ((r = keep_history(out->meta, item, why, whylen)) != 0)
		goto drop;
	out->name = idw_json_str(out->meta, "name");
	out->path = idw_json_str(out->meta, "path");
	if ((d = dup_in(all, idx, out->meta)) >= 0) {
		snprintf(why, whylen,
			 "the same id or name and path as item %d of this "
			 "import",
			 d + 1);
		r = IDW_EEXIST;
		goto drop;
	}
	old = store_find(&a->store, "passport", id);
	if (old == NULL)
		old = by_name(a, out->name, out->path);
	if (old != NULL) {
		if (skip_existing) {
			snprintf(out->old, sizeof(out->old), "%s", old->id);
			cJSON_Delete(out->meta);
			out->meta = NULL;
			return 0;
		}
		snprintf(
			why, whylen,
			"%s already holds %.64s%s%.64s (use --skip-existing to "
			"leave such passports as they are)",
			old->id, out->path, out->path[0] ? "/" : "", out->name);
		r = IDW_EEXIST;
		goto drop;
	}
	return 0;
drop:
	cJSON_Delete(out->meta);
	out->meta = NULL;
	return r;
}

static void add_error(cJSON *errs, size_t idx, int line, const char *why)
{
	cJSON *e;

	if (cJSON_GetArraySize(errs) >= IMPORT_ERRORS_MAX ||
	    (e = cJSON_CreateObject()) == NULL)
		return;
	cJSON_AddNumberToObject(e, "item", (double)idx + 1);
	if (line > 0)
		cJSON_AddNumberToObject(e, "line", line);
	cJSON_AddStringToObject(e, "message", why);
	cJSON_AddItemToArray(errs, e);
}

static void free_all(struct imp *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cJSON_Delete(v[i].meta);
	cJSON_free(v);
}

/* Write the checked items; the reply lists what was written. */
static int write_all(struct agent *a, struct peer *p,
		     const struct verb_args *in, struct imp *v, size_t n,
		     struct reply *rep)
{
	cJSON *o, *done, *skipped, *e;
	size_t written = 0;
	char id[STORE_ID_MAX];
	int r;

	if ((o = reply_ok(rep)) == NULL ||
	    (done = cJSON_AddArrayToObject(o, "imported")) == NULL ||
	    (skipped = cJSON_AddArrayToObject(o, "skipped")) == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (v[i].meta == NULL) {
			e = cJSON_CreateObject();
			cJSON_AddNumberToObject(e, "item", (double)i + 1);
			cJSON_AddStringToObject(e, "id", v[i].old);
			cJSON_AddItemToArray(skipped, e);
			continue;
		}
		snprintf(id, sizeof(id), "%s", idw_json_str(v[i].meta, "id"));
		e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "item", (double)i + 1);
		cJSON_AddStringToObject(e, "id", id);
		cJSON_AddStringToObject(e, "name", v[i].name);
		cJSON_AddStringToObject(e, "path", v[i].path);
		r = store_put(&a->store, a->vault, "passport", id, v[i].meta,
			      in->secret + v[i].voff, v[i].vlen);
		v[i].meta = NULL; /* consumed, name and path with it */
		if (r != 0) {
			cJSON_Delete(e);
			return reply_error(rep, r,
					   "saving passport %zu failed after "
					   "%zu were written: %s; import the "
					   "file again with --skip-existing",
					   i + 1, written, idw_strerror(r));
		}
		cJSON_AddItemToArray(done, e);
		written++;
		(void)gov_audit(a, p->principal, p->claimed_actor,
				store_find(&a->store, "passport", id),
				"creation", NULL, "ok", "import");
	}
	return 0;
}

int verb_import(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	const cJSON *items =
		cJSON_GetObjectItemCaseSensitive(in->req, "passports");
	bool skip = idw_json_bool(in->req, "skip_existing", false);
	int64_t now = gov_now(a);
	size_t n, voff = 0, i = 0, bad = 0;
	cJSON *errs = NULL, *item;
	struct imp *v;
	char why[300];
	int r, first = 0;

	if (!cJSON_IsArray(items) ||
	    (n = (size_t)cJSON_GetArraySize(items)) == 0)
		return reply_error(rep, IDW_EUSAGE,
				   "passports must be a non-empty list");
	if (n > IMPORT_MAX)
		return reply_error(rep, IDW_ETOOBIG,
				   "at most %d passports per import",
				   IMPORT_MAX);
	if ((v = cJSON_malloc(n * sizeof(*v))) == NULL ||
	    (errs = cJSON_CreateArray()) == NULL) {
		cJSON_free(v);
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	}
	memset(v, 0, n * sizeof(*v));
	cJSON_ArrayForEach(item, items)
	{
		why[0] = '\0';
		r = check_item(a, item, i, v, skip, now, &voff,
			       in->has_secret ? in->secret_len : 0, why,
			       sizeof(why));
		if (r != 0) {
			add_error(errs, i, v[i].line,
				  why[0] ? why : idw_strerror(r));
			if (bad++ == 0)
				first = r;
		}
		i++;
	}
	if (bad == 0 && voff != (in->has_secret ? in->secret_len : 0)) {
		bad = 1;
		first = IDW_EUSAGE;
		add_error(errs, n - 1, 0,
			  "the values are longer than the items say");
	}
	if (bad != 0) {
		const cJSON *e0 = cJSON_GetArrayItem(errs, 0);

		free_all(v, n);
		reply_error(rep, first == IDW_EEXIST ? IDW_EEXIST : IDW_EINVAL,
			    "nothing imported: %zu of %zu passports are not "
			    "right; the first, item %d: %s",
			    bad, n, (int)idw_json_int(e0, "item", 0),
			    idw_json_str(e0, "message"));
		if (rep->json != NULL)
			cJSON_AddItemToObject(rep->json, "errors", errs);
		else
			cJSON_Delete(errs);
		return first;
	}
	cJSON_Delete(errs);
	r = write_all(a, p, in, v, n, rep);
	free_all(v, n);
	return r;
}
