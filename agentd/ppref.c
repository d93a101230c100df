/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "agentd/passport.h"
#include "agentd/ppref.h"
#include "common/jsonu.h"

/* Whether ref is "path/name" of meta (or "name" when it has no path). */
static int names(const cJSON *meta, const char *ref, size_t reflen)
{
	const char *path = idw_json_str(meta, "path");
	const char *name = idw_json_str(meta, "name");
	size_t pl = path != NULL ? strlen(path) : 0;

	if (name == NULL)
		return 0;
	if (pl == 0)
		return strcmp(ref, name) == 0;
	return reflen > pl + 1 && memcmp(ref, path, pl) == 0 &&
	       ref[pl] == '/' && strcmp(ref + pl + 1, name) == 0;
}

struct store_item *ppref_find(struct store *s, const char *ref, int *err,
			      char *why, size_t whylen)
{
	struct store_item *hit = NULL, *it;
	size_t n, matches = 0;

	*err = 0;
	if (ref == NULL || ref[0] == '\0') {
		snprintf(why, whylen, "a passport id or path/name is required");
		*err = IDW_EUSAGE;
		return NULL;
	}
	n = strlen(ref);
	if (n > PPREF_MAX || !idw_utf8_valid((const uint8_t *)ref, n)) {
		snprintf(why, whylen,
			 "a passport reference is UTF-8 text of at most %d "
			 "bytes",
			 PPREF_MAX);
		*err = IDW_EUSAGE;
		return NULL;
	}
	/* An id is found through the index; a name by a walk. */
	if (passport_id_valid(ref)) {
		if ((hit = store_find(s, "passport", ref)) == NULL) {
			snprintf(why, whylen, "no passport %.64s", ref);
			*err = IDW_ENOENT;
		}
		return hit;
	}
	for (size_t i = 0; i < s->n; i++) {
		it = &s->items[i];
		if (strcmp(it->kind, "passport") != 0 ||
		    !names(it->meta, ref, n))
			continue;
		if (matches++ == 0)
			hit = it;
	}
	if (matches == 1)
		return hit;
	if (matches == 0) {
		snprintf(why, whylen,
			 "no passport %.200s (give its id, or path/name as "
			 "'idw list' shows them)",
			 ref);
		*err = IDW_ENOENT;
	} else {
		snprintf(why, whylen,
			 "%zu passports are named %.200s: give the id", matches,
			 ref);
		*err = IDW_EUSAGE;
	}
	return NULL;
}
