/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentd/passport.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define TEXT_MAX 4096
#define LIST_MAX 64

static const char *const cred_types[] = {
	"api-key",     "oauth-token",	    "password", "ssh-key",
	"certificate", "connection-string", "other",	NULL,
};
static const char *const visa_types[] = {
	"access",    "privilege", "data", "compliance",
	"ecosystem", "custom",	  NULL,
};
static const char *const tiers[] = {"standard", "sensitive", "critical", NULL};
static const char *const reveals[] = {"model", "never", NULL};

static int one_of(const char *v, const char *const *set)
{
	for (size_t i = 0; set[i] != NULL; i++)
		if (strcmp(v, set[i]) == 0)
			return 1;
	return 0;
}

void passport_new_id(char out[20])
{
	uint8_t r[8];

	randombytes_buf(r, sizeof(r));
	memcpy(out, "pp_", 3);
	sodium_bin2hex(out + 3, 17, r, sizeof(r));
}

int passport_id_valid(const char *id)
{
	if (id == NULL || strlen(id) != 19 || strncmp(id, "pp_", 3) != 0)
		return 0;
	for (size_t i = 3; i < 19; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'a' && id[i] <= 'f')))
			return 0;
	return 1;
}

/* A string field: absent → dflt (may be NULL → JSON null). */
static int copy_text(cJSON *dst, const cJSON *req, const char *key,
		     const char *dflt, int required, char *why, size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
	const char *s = dflt;

	if (v != NULL && !cJSON_IsNull(v)) {
		if (!cJSON_IsString(v)) {
			snprintf(why, whylen, "%s must be a string", key);
			return IDW_EUSAGE;
		}
		s = v->valuestring;
	}
	if (required && (s == NULL || s[0] == '\0')) {
		snprintf(why, whylen, "%s is required", key);
		return IDW_EUSAGE;
	}
	if (s != NULL && strlen(s) > TEXT_MAX) {
		snprintf(why, whylen, "%s is longer than %d bytes", key,
			 TEXT_MAX);
		return IDW_EUSAGE;
	}
	if (s != NULL && !idw_utf8_valid((const uint8_t *)s, strlen(s))) {
		snprintf(why, whylen, "%s is not valid UTF-8", key);
		return IDW_EUSAGE;
	}
	if (s == NULL)
		cJSON_AddNullToObject(dst, key);
	else
		cJSON_AddStringToObject(dst, key, s);
	return 0;
}

static int copy_list(cJSON *dst, const cJSON *req, const char *key, char *why,
		     size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key), *e;
	cJSON *arr = cJSON_AddArrayToObject(dst, key);

	if (arr == NULL)
		return IDW_ENOMEM;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > LIST_MAX) {
		snprintf(why, whylen, "%s must be a list of at most %d strings",
			 key, LIST_MAX);
		return IDW_EUSAGE;
	}
	cJSON_ArrayForEach(e, v)
	{
		if (!cJSON_IsString(e) || e->valuestring[0] == '\0' ||
		    strlen(e->valuestring) > 256 ||
		    !idw_utf8_valid((const uint8_t *)e->valuestring,
				    strlen(e->valuestring))) {
			snprintf(why, whylen,
				 "%s must hold non-empty strings of at most "
				 "256 bytes",
				 key);
			return IDW_EUSAGE;
		}
		cJSON_AddItemToArray(arr, cJSON_CreateString(e->valuestring));
	}
	return 0;
}

static int check_enum(const cJSON *o, const char *key, const char *const *set,
		      char *why, size_t whylen)
{
	const char *v = idw_json_str(o, key);

	if (v != NULL && !one_of(v, set)) {
		snprintf(why, whylen,
			 "%s '%.64s' is not one of the known kinds", key, v);
		return IDW_EUSAGE;
	}
	return 0;
}

/*
 * A time field: absent or null → dflt.  A bare date is the start of that
 * day for valid_from and its last second for valid_until.  The stored
 * text must parse again, or passport_status would call it expired.
 */
static int copy_time(cJSON *dst, const cJSON *req, const char *key,
		     int end_of_day, int64_t dflt, int64_t *val, char *why,
		     size_t whylen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
	char buf[IDW_TIME_LEN];
	int64_t t = dflt, back;

	if (v != NULL && !cJSON_IsNull(v) &&
	    (!cJSON_IsString(v) ||
	     idw_time_parse(v->valuestring, end_of_day, &t) != 0)) {
		snprintf(why, whylen, "%s is not an RFC 3339 time or a date",
			 key);
		return IDW_EUSAGE;
	}
	idw_time_fmt_utc(t, buf);
	if (idw_time_parse(buf, 0, &back) != 0 || back != t) {
		snprintf(why, whylen, "%s is outside the years 1970 to 9999",
			 key);
		return IDW_EUSAGE;
	}
	cJSON_AddStringToObject(dst, key, buf);
	*val = t;
	return 0;
}

int passport_from_request(const cJSON *req, const char *id, int64_t now,
			  cJSON **out, char *why, size_t whylen)
{
	const cJSON *visa_in = cJSON_GetObjectItemCaseSensitive(req, "visa");
	cJSON *m, *visa;
	char tnow[IDW_TIME_LEN];
	int64_t from, until;
	int r;

	*out = NULL;
	m = cJSON_CreateObject();
	if (m == NULL)
		return IDW_ENOMEM;
	cJSON_AddStringToObject(m, "id", id);
	if ((r = copy_text(m, req, "name", NULL, 1, why, whylen)) != 0 ||
	    (r = copy_text(m, req, "path", "", 0, why, whylen)) != 0 ||
	    (r = copy_text(m, req, "credential_type", NULL, 1, why, whylen)) !=
		    0 ||
	    (r = check_enum(m, "credential_type", cred_types, why, whylen)) !=
		    0)
		goto fail;
	visa = cJSON_AddObjectToObject(m, "visa");
	if (visa_in != NULL && !cJSON_IsObject(visa_in) &&
	    !cJSON_IsNull(visa_in)) {
		snprintf(why, whylen, "visa must be an object");
		r = IDW_EUSAGE;
		goto fail;
	}
	if ((r = copy_text(visa, visa_in, "type", "access", 0, why, whylen)) !=
		    0 ||
	    (r = check_enum(visa, "type", visa_types, why, whylen)) != 0 ||
	    (r = copy_text(visa, visa_in, "issuing_authority", "", 0, why,
			   whylen)) != 0 ||
	    (r = copy_list(visa, visa_in, "scope", why, whylen)) != 0 ||
	    (r = copy_list(m, req, "platforms", why, whylen)) != 0 ||
	    (r = copy_text(m, req, "agent_id", NULL, 0, why, whylen)) != 0 ||
	    (r = copy_text(m, req, "human_owner", NULL, 0, why, whylen)) != 0 ||
	    (r = copy_time(m, req, "valid_from", 0, now, &from, why, whylen)) !=
		    0 ||
	    (r = copy_time(m, req, "valid_until", 1, from + 90 * 86400, &until,
			   why, whylen)) != 0 ||
	    (r = copy_text(m, req, "access_tier", "standard", 0, why,
			   whylen)) != 0 ||
	    (r = check_enum(m, "access_tier", tiers, why, whylen)) != 0 ||
	    (r = copy_list(m, req, "tags", why, whylen)) != 0 ||
	    (r = copy_text(m, req, "notes", "", 0, why, whylen)) != 0 ||
	    (r = copy_text(m, req, "reveal", "model", 0, why, whylen)) != 0 ||
	    (r = check_enum(m, "reveal", reveals, why, whylen)) != 0)
		goto fail;
	if (until <= from) {
		snprintf(why, whylen, "valid_until must be after valid_from");
		r = IDW_EUSAGE;
		goto fail;
	}
	cJSON_AddArrayToObject(m, "delegation");
	cJSON_AddNullToObject(m, "revocation");
	cJSON_AddNullToObject(m, "suspension");
	idw_time_fmt_utc(now, tnow);
	cJSON_AddStringToObject(m, "created_at", tnow);
	cJSON_AddStringToObject(m, "updated_at", tnow);
	cJSON_AddNumberToObject(m, "value_version", 1);
	*out = m;
	return 0;
fail:
	cJSON_Delete(m);
	return r;
}

static int has_object(const cJSON *meta, const char *key)
{
	return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(meta, key));
}

const char *passport_status(const cJSON *meta, int64_t now)
{
	const char *u = idw_json_str(meta, "valid_until");
	int64_t until;

	if (has_object(meta, "revocation"))
		return "revoked";
	if (has_object(meta, "suspension"))
		return "suspended";
	if (u == NULL || idw_time_parse(u, 1, &until) != 0)
		return "expired"; /* no readable end: fail closed */
	if (now >= until)
		return "expired";
	if (until - now < PASSPORT_EXPIRING_DAYS * 86400)
		return "expiring";
	return "active";
}

cJSON *passport_view(const cJSON *meta, int64_t now)
{
	cJSON *v = cJSON_Duplicate(meta, 1);

	if (v == NULL)
		return NULL;
	cJSON_DeleteItemFromObjectCaseSensitive(v, "status");
	cJSON_AddStringToObject(v, "status", passport_status(meta, now));
	return v;
}
