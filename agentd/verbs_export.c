/* SPDX-License-Identifier: ISC */
/*
 * export_values: every passport with its value, for a person-proven
 * `idw export --with-values`.  Pages in id order: a page's metadata in
 * the JSON, its values one after another in the secret segment (each
 * item names its length), opened into locked scratch and never through
 * cJSON.  Each page is its own proven request; each value's release is
 * audited before it leaves.  Metadata alone needs no proof: `list`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/passport.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

/* A page stays well inside a frame (1 MiB) with its metadata. */
#define EXPORT_PAGE_VALUES (512u * 1024u)
#define EXPORT_PAGE_JSON (320u * 1024u)
#define EXPORT_PAGE_ITEMS 1000

static int by_id(const void *x, const void *y)
{
	const struct store_item *const *a = x, *const *b = y;

	return strcmp((*a)->id, (*b)->id);
}

/* The passports after cursor, in id order (cJSON_free the list). */
static int after(struct agent *a, const char *cursor,
		 const struct store_item ***out, size_t *n)
{
	const struct store_item **v;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	v = cJSON_malloc((a->store.n + 1) * sizeof(*v));
	if (v == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; i < a->store.n; i++) {
		const struct store_item *it = &a->store.items[i];

		if (strcmp(it->kind, "passport") != 0 || it->value == NULL)
			continue;
		if (cursor != NULL && strcmp(it->id, cursor) <= 0)
			continue;
		v[k++] = it;
	}
	qsort(v, k, sizeof(*v), by_id);
	*out = v;
	*n = k;
	return 0;
}

/* Append it's value to the page's scratch (grown in the arena). */
static int add_value(const struct store_item *it, uint8_t **page, size_t *len,
		     size_t *cap, size_t *vlen)
{
	uint8_t *val = NULL, *bigger;
	int r;

	if ((r = store_open_value(it, &val, vlen)) != 0)
		return r;
	if (*len + *vlen > *cap) {
		size_t ncap = *cap ? *cap : 4096;

		while (ncap < *len + *vlen)
			ncap *= 2;
		if ((bigger = idw_arena_alloc(ncap)) == NULL) {
			idw_arena_free(val);
			return IDW_ENOMEM;
		}
		if (*page != NULL) {
			memcpy(bigger, *page, *len);
			idw_arena_free(*page);
		}
		*page = bigger;
		*cap = ncap;
	}
	memcpy(*page + *len, val, *vlen);
	*len += *vlen;
	idw_arena_free(val);
	return 0;
}

int verb_export_values(struct agent *a, struct peer *p,
		       const struct verb_args *in, struct reply *rep)
{
	const char *cursor = idw_json_str(in->req, "cursor");
	const struct store_item **v = NULL;
	uint8_t *page = NULL;
	size_t n = 0, k, len = 0, cap = 0, json = 0, vlen;
	int64_t now = idw_now();
	cJSON *o, *arr, *e;
	int r;

	if (cursor != NULL && !passport_id_valid(cursor))
		return reply_error(rep, IDW_EUSAGE, "bad cursor");
	if ((r = after(a, cursor, &v, &n)) != 0)
		return reply_error(rep, r, "out of memory");
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "passports")) == NULL) {
		cJSON_free(v);
		return IDW_ENOMEM;
	}
	for (k = 0; k < n; k++) {
		const struct store_item *it = v[k];
		char *txt;

		if (k == EXPORT_PAGE_ITEMS ||
		    (k > 0 && (len + STORE_VALUE_MAX > EXPORT_PAGE_VALUES ||
			       json > EXPORT_PAGE_JSON)))
			break;
		if ((e = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToObject(e, "passport",
					   passport_view(it->meta, now))) {
			cJSON_Delete(e);
			r = IDW_ENOMEM;
			goto fail;
		}
		if ((r = add_value(it, &page, &len, &cap, &vlen)) != 0) {
			cJSON_Delete(e);
			goto fail;
		}
		cJSON_AddNumberToObject(e, "value_len", (double)vlen);
		if ((txt = idw_json_print(e)) != NULL) {
			json += strlen(txt);
			cJSON_free(txt);
		}
		cJSON_AddItemToArray(arr, e);
		/* The entry is on disk before the value leaves, or none does.
		 */
		if (gov_audit(a, p->principal, p->claimed_actor, it, "access",
			      "export", "allowed",
			      "export with values, person-proven") != 0) {
			r = reply_error(rep, IDW_EDENIED,
					"the audit log could not be written "
					"(%s): export denied",
					a->audit.broken ? a->audit.broken_why
							: "error");
			goto out;
		}
	}
	if (k < n)
		cJSON_AddStringToObject(o, "next_cursor", v[k - 1]->id);
	cJSON_free(v);
	rep->secret = page;
	rep->secret_len = len;
	rep->has_secret = true;
	if (page == NULL) {
		/* An empty vault: a secret segment of no bytes. */
		rep->secret = idw_arena_alloc(1);
		if (rep->secret == NULL)
			return reply_error(rep, IDW_ENOMEM, "out of memory");
	}
	return 0;
fail:
	r = reply_error(rep, r, "exporting failed: %s", idw_strerror(r));
out:
	if (page != NULL)
		idw_arena_free(page);
	cJSON_free(v);
	return r;
}
