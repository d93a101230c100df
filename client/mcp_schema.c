/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "client/mcp_tools.h"
#include "common/jsonu.h"

/*
 * Tool arguments are checked against the same inputSchema text that
 * tools/list publishes, so the two cannot drift apart.  Only the keywords
 * our schemas use are understood.
 */

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static bool type_is(const cJSON *v, const char *type)
{
	if (strcmp(type, "string") == 0)
		return cJSON_IsString(v);
	if (strcmp(type, "object") == 0)
		return cJSON_IsObject(v);
	if (strcmp(type, "array") == 0)
		return cJSON_IsArray(v);
	if (strcmp(type, "boolean") == 0)
		return cJSON_IsBool(v);
	if (strcmp(type, "integer") == 0)
		return cJSON_IsNumber(v) &&
		       v->valuedouble == (double)(long long)v->valuedouble;
	if (strcmp(type, "number") == 0)
		return cJSON_IsNumber(v);
	if (strcmp(type, "null") == 0)
		return cJSON_IsNull(v);
	return false;
}

static int check(const cJSON *sch, const cJSON *v, const char *where, char *why,
		 size_t whylen, int depth)
{
	const char *type = idw_json_str(sch, "type");
	const cJSON *e;
	int64_t lim;

	if (depth > 8)
		return IDW_EUSAGE;
	if (type != NULL && !type_is(v, type)) {
		snprintf(why, whylen, "%s must be of type %s", where, type);
		return IDW_EUSAGE;
	}
	if ((e = cJSON_GetObjectItemCaseSensitive(sch, "enum")) != NULL) {
		const cJSON *x;
		bool hit = false;

		cJSON_ArrayForEach(x, e)
		{
			if (cJSON_Compare(x, v, true))
				hit = true;
		}
		if (!hit) {
			snprintf(why, whylen,
				 "%s must be one of the values "
				 "the schema lists",
				 where);
			return IDW_EUSAGE;
		}
	}
	if (cJSON_IsString(v)) {
		size_t n = utf8_chars(v->valuestring);

		if ((lim = idw_json_int(sch, "minLength", -1)) >= 0 &&
		    n < (size_t)lim) {
			snprintf(why, whylen, "%s must not be empty", where);
			return IDW_EUSAGE;
		}
		if ((lim = idw_json_int(sch, "maxLength", -1)) >= 0 &&
		    n > (size_t)lim) {
			snprintf(why, whylen,
				 "%s is longer than %lld characters", where,
				 (long long)lim);
			return IDW_EUSAGE;
		}
	}
	if (cJSON_IsArray(v)) {
		const cJSON *items =
			cJSON_GetObjectItemCaseSensitive(sch, "items");
		const cJSON *x;
		char sub[96];

		if ((lim = idw_json_int(sch, "maxItems", -1)) >= 0 &&
		    (int64_t)cJSON_GetArraySize(v) > lim) {
			snprintf(why, whylen, "%s has more than %lld items",
				 where, (long long)lim);
			return IDW_EUSAGE;
		}
		snprintf(sub, sizeof(sub), "each item of %s", where);
		cJSON_ArrayForEach(x, v)
		{
			if (items != NULL &&
			    check(items, x, sub, why, whylen, depth + 1) != 0)
				return IDW_EUSAGE;
		}
	}
	if (cJSON_IsObject(v)) {
		const cJSON *props, *req, *x;

		props = cJSON_GetObjectItemCaseSensitive(sch, "properties");
		req = cJSON_GetObjectItemCaseSensitive(sch, "required");
		cJSON_ArrayForEach(x, req)
		{
			if (cJSON_IsString(x) &&
			    cJSON_GetObjectItemCaseSensitive(
				    v, x->valuestring) == NULL) {
				snprintf(why, whylen,
					 "the argument %.64s is required",
					 x->valuestring);
				return IDW_EUSAGE;
			}
		}
		cJSON_ArrayForEach(x, props)
		{
			const cJSON *a =
				cJSON_GetObjectItemCaseSensitive(v, x->string);
			char sub[96];

			if (a == NULL)
				continue;
			snprintf(sub, sizeof(sub), "the argument %.64s",
				 x->string);
			if (check(x, a, sub, why, whylen, depth + 1) != 0)
				return IDW_EUSAGE;
		}
	}
	return 0;
}

int mcp_schema_check(const cJSON *schema, const cJSON *args, char *why,
		     size_t whylen)
{
	return check(schema, args, "arguments", why, whylen, 0);
}
