/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "agentd/ppref.h"
#include "agentd/profile.h"
#include "common/jsonu.h"

bool profile_name_valid(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	return n > 0 && n <= PROFILE_NAME_MAX &&
	       strspn(name,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789._-") == n;
}

bool profile_var_valid(const char *var)
{
	size_t n = var != NULL ? strlen(var) : 0;

	if (n == 0 || n > PROFILE_VAR_MAX || (var[0] >= '0' && var[0] <= '9'))
		return false;
	/* idw's own variables are never handed to a child. */
	if (strncmp(var, "IDW_", 4) == 0)
		return false;
	return strspn(var,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_") == n;
}

static bool text_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n <= max && idw_utf8_valid((const uint8_t *)s, n);
}

static int check_program(const cJSON *req, cJSON *m, char *why, size_t whylen)
{
	const char *prog = idw_json_str(req, "program");

	if (prog == NULL || prog[0] != '/' ||
	    !text_ok(prog, PROFILE_PATH_MAX)) {
		snprintf(why, whylen,
			 "program must be an absolute path (at most %d bytes)",
			 PROFILE_PATH_MAX);
		return IDW_EUSAGE;
	}
	return cJSON_AddStringToObject(m, "program", prog) != NULL ? 0
								   : IDW_ENOMEM;
}

static int check_args(const cJSON *req, cJSON *m, char *why, size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "args"), *e;
	cJSON *arr = cJSON_AddArrayToObject(m, "args");

	if (arr == NULL)
		return IDW_ENOMEM;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > PROFILE_ARGS_MAX) {
		snprintf(why, whylen,
			 "args must be a list of at most %d strings",
			 PROFILE_ARGS_MAX);
		return IDW_EUSAGE;
	}
	cJSON_ArrayForEach(e, v)
	{
		cJSON *c;

		if (!cJSON_IsString(e) || !text_ok(e->valuestring, 4096)) {
			snprintf(why, whylen,
				 "args must hold UTF-8 strings of at most "
				 "4096 bytes");
			return IDW_EUSAGE;
		}
		if ((c = cJSON_CreateString(e->valuestring)) == NULL ||
		    !cJSON_AddItemToArray(arr, c)) {
			cJSON_Delete(c);
			return IDW_ENOMEM;
		}
	}
	return 0;
}

static int check_env(struct store *s, const cJSON *req, cJSON *m, char *why,
		     size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, "env"), *e;
	cJSON *env = cJSON_AddObjectToObject(m, "env");
	char msg[300];
	int err;

	if (env == NULL)
		return IDW_ENOMEM;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v) || cJSON_GetArraySize(v) > PROFILE_VARS_MAX) {
		snprintf(why, whylen,
			 "env must be an object of at most %d VAR: passport "
			 "members",
			 PROFILE_VARS_MAX);
		return IDW_EUSAGE;
	}
	cJSON_ArrayForEach(e, v)
	{
		struct store_item *pp;

		if (!profile_var_valid(e->string)) {
			snprintf(why, whylen,
				 "'%.128s' is not a variable a profile may "
				 "set: letters, digits and _, not starting "
				 "with a digit or IDW_",
				 e->string != NULL ? e->string : "");
			return IDW_EUSAGE;
		}
		if (cJSON_GetObjectItemCaseSensitive(env, e->string) != NULL) {
			snprintf(why, whylen, "%s is named twice", e->string);
			return IDW_EUSAGE;
		}
		if (!cJSON_IsString(e)) {
			snprintf(why, whylen,
				 "%s must name a passport (id or path/name)",
				 e->string);
			return IDW_EUSAGE;
		}
		pp = ppref_find(s, e->valuestring, &err, msg, sizeof(msg));
		if (pp == NULL) {
			snprintf(why, whylen, "%s: %s", e->string, msg);
			return err;
		}
		if (cJSON_AddStringToObject(env, e->string, pp->id) == NULL)
			return IDW_ENOMEM;
	}
	return 0;
}

int profile_from_request(struct store *s, const cJSON *req, const char *created,
			 const char *by, cJSON **out, char *why, size_t whylen)
{
	const char *name = idw_json_str(req, "name");
	cJSON *m = cJSON_CreateObject();
	char *text;
	size_t n;
	int r;

	*out = NULL;
	if (m == NULL)
		return IDW_ENOMEM;
	if (!profile_name_valid(name)) {
		snprintf(why, whylen,
			 "a profile name is 1 to %d of A-Z a-z 0-9 . _ -",
			 PROFILE_NAME_MAX);
		r = IDW_EUSAGE;
		goto fail;
	}
	if (cJSON_AddStringToObject(m, "name", name) == NULL) {
		r = IDW_ENOMEM;
		goto fail;
	}
	if ((r = check_program(req, m, why, whylen)) != 0 ||
	    (r = check_args(req, m, why, whylen)) != 0 ||
	    (r = check_env(s, req, m, why, whylen)) != 0)
		goto fail;
	if (cJSON_AddStringToObject(m, "created", created) == NULL ||
	    cJSON_AddStringToObject(m, "created_by", by) == NULL) {
		r = IDW_ENOMEM;
		goto fail;
	}
	/* Bounded, so that every profile fits a list reply. */
	if ((text = idw_json_print(m)) == NULL) {
		r = IDW_ENOMEM;
		goto fail;
	}
	n = strlen(text);
	cJSON_free(text);
	if (n > PROFILE_BYTES_MAX) {
		snprintf(why, whylen,
			 "the profile is %zu bytes as JSON; at most %d", n,
			 PROFILE_BYTES_MAX);
		r = IDW_ETOOBIG;
		goto fail;
	}
	*out = m;
	return 0;
fail:
	cJSON_Delete(m);
	return r;
}

const char *profile_var_passport(const cJSON *profile, const char *var)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(profile, "env");
	const cJSON *v;

	if (var == NULL || !cJSON_IsObject(env))
		return NULL;
	v = cJSON_GetObjectItemCaseSensitive(env, var);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}
