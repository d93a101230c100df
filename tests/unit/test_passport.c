/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/passport.c: building a passport from a create
 * request, the derived status, the client view and ids.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agentd/passport.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define DAY 86400
/* 2026-11-23T18:00:00Z */
#define NOW ((int64_t)1795456800)
#define ID "pp_0123456789abcdef"

static cJSON *req_of(const char *json)
{
	cJSON *j = idw_json_parse(json, strlen(json));

	assert_non_null(j);
	return j;
}

/* A request with the two required fields, plus extra JSON members. */
static cJSON *req_with(const char *extra)
{
	char buf[8192];

	snprintf(buf, sizeof(buf),
		 "{\"name\":\"OpenAI\",\"credential_type\":\"api-key\"%s%s}",
		 extra[0] ? "," : "", extra);
	return req_of(buf);
}

/* Run passport_from_request and return its result; *out on success. */
static int build(const cJSON *req, cJSON **out, char *why, size_t whylen)
{
	why[0] = '\0';
	return passport_from_request(req, ID, NOW, out, why, whylen);
}

/* Expect a refusal whose reason names word. */
static void refused(const char *extra, const char *word)
{
	cJSON *req = req_with(extra), *m = (cJSON *)1;
	char why[300];

	assert_int_equal(build(req, &m, why, sizeof(why)), IDW_EUSAGE);
	assert_null(m);
	if (strstr(why, word) == NULL)
		fail_msg("'%s' refused with '%s', not naming '%s'", extra, why,
			 word);
	cJSON_Delete(req);
}

static void time_of(const cJSON *m, const char *key, int64_t *t)
{
	const char *s = idw_json_str(m, key);

	assert_non_null(s);
	assert_int_equal(idw_time_parse(s, 0, t), 0);
}

static void test_defaults(void **state)
{
	cJSON *req = req_with(""), *m = NULL;
	const cJSON *visa;
	char why[300], tnow[IDW_TIME_LEN];
	int64_t from, until;

	(void)state;
	assert_int_equal(build(req, &m, why, sizeof(why)), 0);
	assert_non_null(m);
	assert_string_equal(idw_json_str(m, "id"), ID);
	assert_string_equal(idw_json_str(m, "name"), "OpenAI");
	assert_string_equal(idw_json_str(m, "credential_type"), "api-key");
	assert_string_equal(idw_json_str(m, "path"), "");
	visa = cJSON_GetObjectItemCaseSensitive(m, "visa");
	assert_true(cJSON_IsObject(visa));
	assert_string_equal(idw_json_str(visa, "type"), "access");
	assert_string_equal(idw_json_str(visa, "issuing_authority"), "");
	assert_true(cJSON_IsArray(cJSON_GetObjectItem(visa, "scope")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(visa, "scope")),
			 0);
	assert_string_equal(idw_json_str(m, "access_tier"), "standard");
	assert_string_equal(idw_json_str(m, "reveal"), "model");
	assert_string_equal(idw_json_str(m, "notes"), "");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "agent_id")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "human_owner")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "revocation")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "suspension")));
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(m, "platforms")), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(m, "tags")), 0);
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(m, "delegation")), 0);
	assert_int_equal(idw_json_int(m, "value_version", 0), 1);
	/* Valid from now for 90 days. */
	time_of(m, "valid_from", &from);
	time_of(m, "valid_until", &until);
	assert_int_equal(from, NOW);
	assert_int_equal(until, NOW + 90 * DAY);
	idw_time_fmt_utc(NOW, tnow);
	assert_string_equal(idw_json_str(m, "created_at"), tnow);
	assert_string_equal(idw_json_str(m, "updated_at"), tnow);
	/* Status is derived, never stored. */
	assert_null(cJSON_GetObjectItem(m, "status"));
	cJSON_Delete(m);
	cJSON_Delete(req);
}

static void test_fields_kept(void **state)
{
	cJSON *req, *m = NULL;
	const cJSON *visa, *pl;
	char why[300];

	(void)state;
	req = req_with(
		"\"path\":\"prod/openai\",\"visa\":{\"type\":\"privilege\","
		"\"issuing_authority\":\"ops\",\"scope\":[\"read\",\"write\"]},"
		"\"platforms\":[\"openai\",\"azure\"],\"agent_id\":\"claude\","
		"\"human_owner\":\"alice\",\"access_tier\":\"critical\","
		"\"tags\":[\"prod\"],\"notes\":\"rotate monthly\","
		"\"reveal\":\"never\",\"id\":\"pp_ffffffffffffffff\","
		"\"status\":\"active\",\"unknown\":1");
	assert_int_equal(build(req, &m, why, sizeof(why)), 0);
	/* The agent chooses the id; unknown request fields are dropped. */
	assert_string_equal(idw_json_str(m, "id"), ID);
	assert_null(cJSON_GetObjectItem(m, "unknown"));
	assert_null(cJSON_GetObjectItem(m, "status"));
	assert_string_equal(idw_json_str(m, "path"), "prod/openai");
	visa = cJSON_GetObjectItem(m, "visa");
	assert_string_equal(idw_json_str(visa, "type"), "privilege");
	assert_string_equal(idw_json_str(visa, "issuing_authority"), "ops");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(visa, "scope")),
			 2);
	pl = cJSON_GetObjectItem(m, "platforms");
	assert_string_equal(cJSON_GetArrayItem(pl, 1)->valuestring, "azure");
	assert_string_equal(idw_json_str(m, "agent_id"), "claude");
	assert_string_equal(idw_json_str(m, "human_owner"), "alice");
	assert_string_equal(idw_json_str(m, "access_tier"), "critical");
	assert_string_equal(idw_json_str(m, "notes"), "rotate monthly");
	assert_string_equal(idw_json_str(m, "reveal"), "never");
	cJSON_Delete(m);
	cJSON_Delete(req);

	/* null means the default, for objects, lists and text alike. */
	req = req_with("\"visa\":null,\"platforms\":null,\"path\":null,"
		       "\"valid_until\":null,\"human_owner\":null");
	assert_int_equal(build(req, &m, why, sizeof(why)), 0);
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(m, "visa"), "type"), "access");
	assert_string_equal(idw_json_str(m, "path"), "");
	cJSON_Delete(m);
	cJSON_Delete(req);
}

static void test_required(void **state)
{
	cJSON *req, *m = (cJSON *)1;
	char why[300];

	(void)state;
	req = req_of("{\"credential_type\":\"api-key\"}");
	assert_int_equal(build(req, &m, why, sizeof(why)), IDW_EUSAGE);
	assert_null(m);
	assert_non_null(strstr(why, "name"));
	cJSON_Delete(req);
	req = req_of("{\"name\":\"\",\"credential_type\":\"api-key\"}");
	assert_int_equal(build(req, &m, why, sizeof(why)), IDW_EUSAGE);
	assert_non_null(strstr(why, "name is required"));
	cJSON_Delete(req);
	req = req_of("{\"name\":\"x\"}");
	assert_int_equal(build(req, &m, why, sizeof(why)), IDW_EUSAGE);
	assert_non_null(strstr(why, "credential_type"));
	cJSON_Delete(req);
}

static void test_enums(void **state)
{
	static const char *const creds[] = {
		"api-key",     "oauth-token",	    "password", "ssh-key",
		"certificate", "connection-string", "other",
	};
	static const char *const visas[] = {
		"access",     "privilege", "data",
		"compliance", "ecosystem", "custom",
	};
	char buf[200], why[300];
	cJSON *req, *m;

	(void)state;
	for (size_t i = 0; i < sizeof(creds) / sizeof(creds[0]); i++) {
		snprintf(buf, sizeof(buf),
			 "{\"name\":\"n\",\"credential_type\":\"%s\"}",
			 creds[i]);
		req = req_of(buf);
		assert_int_equal(build(req, &m, why, sizeof(why)), 0);
		cJSON_Delete(m);
		cJSON_Delete(req);
	}
	for (size_t i = 0; i < sizeof(visas) / sizeof(visas[0]); i++) {
		snprintf(buf, sizeof(buf), "\"visa\":{\"type\":\"%s\"}",
			 visas[i]);
		req = req_with(buf);
		assert_int_equal(build(req, &m, why, sizeof(why)), 0);
		cJSON_Delete(m);
		cJSON_Delete(req);
	}
	/* Each enum refuses what it does not know, and says which. */
	req = req_of("{\"name\":\"n\",\"credential_type\":\"API-KEY\"}");
	assert_int_equal(build(req, &m, why, sizeof(why)), IDW_EUSAGE);
	assert_non_null(strstr(why, "credential_type"));
	cJSON_Delete(req);
	refused("\"visa\":{\"type\":\"passport\"}", "type");
	refused("\"access_tier\":\"secret\"", "access_tier");
	refused("\"access_tier\":\"\"", "access_tier");
	refused("\"reveal\":\"sometimes\"", "reveal");
	refused("\"reveal\":\"Model\"", "reveal");
}

static void test_wrong_types(void **state)
{
	(void)state;
	refused("\"path\":5", "path must be a string");
	refused("\"notes\":[]", "notes must be a string");
	refused("\"agent_id\":true", "agent_id");
	refused("\"human_owner\":{}", "human_owner");
	refused("\"access_tier\":1", "access_tier");
	refused("\"reveal\":false", "reveal");
	refused("\"visa\":\"access\"", "visa must be an object");
	refused("\"visa\":[]", "visa must be an object");
	refused("\"visa\":{\"type\":7}", "type must be a string");
	refused("\"visa\":{\"scope\":\"read\"}", "scope");
	refused("\"visa\":{\"scope\":[1]}", "scope");
	refused("\"platforms\":\"openai\"", "platforms");
	refused("\"platforms\":[null]", "platforms");
	refused("\"platforms\":[\"\"]", "platforms");
	refused("\"tags\":{\"a\":\"b\"}", "tags");
	/* A number is not a time: no silent 90-day default instead. */
	refused("\"valid_until\":1893456000", "valid_until");
	refused("\"valid_from\":true", "valid_from");
	refused("\"valid_until\":[]", "valid_until");
	{
		cJSON *req = req_of("{\"name\":3,\"credential_type\":\"x\"}");
		cJSON *m;
		char why[300];

		assert_int_equal(build(req, &m, why, sizeof(why)), IDW_EUSAGE);
		assert_non_null(strstr(why, "name must be a string"));
		cJSON_Delete(req);
	}
}

static void test_too_long(void **state)
{
	char *big = malloc(6000), extra[6100], why[300];
	cJSON *req, *m;

	(void)state;
	assert_non_null(big);
	/* 4096 bytes of text are kept, 4097 refused. */
	memset(big, 'a', 4096);
	big[4096] = '\0';
	snprintf(extra, sizeof(extra), "\"notes\":\"%s\"", big);
	req = req_with(extra);
	assert_int_equal(build(req, &m, why, sizeof(why)), 0);
	assert_int_equal(strlen(idw_json_str(m, "notes")), 4096);
	cJSON_Delete(m);
	cJSON_Delete(req);
	big[4096] = 'a';
	big[4097] = '\0';
	snprintf(extra, sizeof(extra), "\"notes\":\"%s\"", big);
	refused(extra, "notes is longer than 4096 bytes");
	snprintf(extra, sizeof(extra), "\"path\":\"%s\"", big);
	refused(extra, "path is longer");
	/* List entries: 256 bytes at most. */
	big[256] = '\0';
	snprintf(extra, sizeof(extra), "\"tags\":[\"%s\"]", big);
	req = req_with(extra);
	assert_int_equal(build(req, &m, why, sizeof(why)), 0);
	cJSON_Delete(m);
	cJSON_Delete(req);
	big[256] = 'a';
	big[257] = '\0';
	snprintf(extra, sizeof(extra), "\"tags\":[\"%s\"]", big);
	refused(extra, "tags");
	snprintf(extra, sizeof(extra), "\"visa\":{\"scope\":[\"%s\"]}", big);
	refused(extra, "scope");
	/* Lists: 64 entries at most. */
	strcpy(extra, "\"platforms\":[");
	for (int i = 0; i < 65; i++)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 "%s\"p%d\"", i ? "," : "", i);
	strcat(extra, "]");
	refused(extra, "at most 64");
	free(big);
}

/* Text fields with bytes that are not UTF-8 (cJSON passes them through). */
static void test_invalid_utf8(void **state)
{
	static const char *const bad[] = {
		"\xff",		"ab\xc3",	    "\xc0\xaf",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
		"x\x80y",
	};
	static const char *const keys[] = {"name", "path", "notes",
					   "human_owner"};
	char why[300];

	(void)state;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			cJSON *req = req_with(""), *m = (cJSON *)1;

			cJSON_DeleteItemFromObject(req, keys[k]);
			cJSON_AddStringToObject(req, keys[k], bad[i]);
			assert_int_equal(build(req, &m, why, sizeof(why)),
					 IDW_EUSAGE);
			assert_null(m);
			assert_non_null(strstr(why, "not valid UTF-8"));
			assert_non_null(strstr(why, keys[k]));
			cJSON_Delete(req);
		}
	/* Inside lists too. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *req = req_with(""), *m = (cJSON *)1, *tags;

		tags = cJSON_AddArrayToObject(req, "tags");
		cJSON_AddItemToArray(tags, cJSON_CreateString(bad[i]));
		assert_int_equal(build(req, &m, why, sizeof(why)), IDW_EUSAGE);
		assert_non_null(strstr(why, "tags"));
		cJSON_Delete(req);
	}
	/* Valid multi-byte text is kept as it is. */
	{
		cJSON *req = req_with(""), *m;

		cJSON_DeleteItemFromObject(req, "name");
		cJSON_AddStringToObject(
			req, "name",
			"Cl\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
		assert_int_equal(build(req, &m, why, sizeof(why)), 0);
		assert_string_equal(idw_json_str(m, "name"),
				    "Cl\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
		cJSON_Delete(m);
		cJSON_Delete(req);
	}
}

static void test_validity(void **state)
{
	cJSON *req, *m;
	char why[300];
	int64_t from, until;

	(void)state;
	/* valid_until before, or at, valid_from. */
	refused("\"valid_from\":\"2030-01-02T00:00:00Z\","
		"\"valid_until\":\"2030-01-01T00:00:00Z\"",
		"valid_until must be after valid_from");
	refused("\"valid_from\":\"2030-01-02T00:00:00Z\","
		"\"valid_until\":\"2030-01-02T00:00:00Z\"",
		"valid_until must be after valid_from");
	/* Only valid_until given, in the past. */
	refused("\"valid_until\":\"2020-01-01T00:00:00Z\"",
		"valid_until must be after valid_from");
	refused("\"valid_until\":\"tomorrow\"", "valid_until");
	refused("\"valid_from\":\"2030-13-01\"", "valid_from");
	refused("\"valid_from\":\"2030-02-30\"", "valid_from");
	refused("\"valid_until\":\"2030-01-01T25:00:00Z\"", "valid_until");
	refused("\"valid_until\":\"\"", "valid_until");
	/* Past the last year a stored time can say. */
	refused("\"valid_from\":\"9999-12-31\"", "valid_until");
	refused("\"valid_from\":\"1970-01-01T00:30:00+01:00\"", "valid_from");

	/* Bare dates: valid_from starts the day, valid_until ends it. */
	req = req_with("\"valid_from\":\"2030-01-01\","
		       "\"valid_until\":\"2030-01-01\"");
	assert_int_equal(build(req, &m, why, sizeof(why)), 0);
	assert_string_equal(idw_json_str(m, "valid_from"),
			    "2030-01-01T00:00:00Z");
	assert_string_equal(idw_json_str(m, "valid_until"),
			    "2030-01-01T23:59:59Z");
	cJSON_Delete(m);
	cJSON_Delete(req);

	/* valid_from alone: 90 days from it.  Offsets are normalised. */
	req = req_with("\"valid_from\":\"2030-06-01T12:00:00+02:00\"");
	assert_int_equal(build(req, &m, why, sizeof(why)), 0);
	assert_string_equal(idw_json_str(m, "valid_from"),
			    "2030-06-01T10:00:00Z");
	time_of(m, "valid_from", &from);
	time_of(m, "valid_until", &until);
	assert_int_equal(until - from, 90 * DAY);
	cJSON_Delete(m);
	cJSON_Delete(req);

	/* Fractions of a second are accepted and dropped. */
	req = req_with("\"valid_until\":\"2031-01-01T00:00:00.123Z\"");
	assert_int_equal(build(req, &m, why, sizeof(why)), 0);
	assert_string_equal(idw_json_str(m, "valid_until"),
			    "2031-01-01T00:00:00Z");
	cJSON_Delete(m);
	cJSON_Delete(req);
}

/* A stored passport with valid_until = NOW + secs. */
static cJSON *meta_until(int64_t secs)
{
	char t[IDW_TIME_LEN];
	cJSON *m = cJSON_CreateObject();

	idw_time_fmt_utc(NOW + secs, t);
	cJSON_AddStringToObject(m, "id", ID);
	cJSON_AddStringToObject(m, "valid_until", t);
	cJSON_AddNullToObject(m, "revocation");
	cJSON_AddNullToObject(m, "suspension");
	return m;
}

static void test_status(void **state)
{
	cJSON *m;

	(void)state;
	m = meta_until(30 * DAY);
	assert_string_equal(passport_status(m, NOW), "active");
	cJSON_Delete(m);
	/* Exactly 14 days left still counts as active; less is expiring. */
	m = meta_until(PASSPORT_EXPIRING_DAYS * DAY);
	assert_string_equal(passport_status(m, NOW), "active");
	cJSON_Delete(m);
	m = meta_until(PASSPORT_EXPIRING_DAYS * DAY - 1);
	assert_string_equal(passport_status(m, NOW), "expiring");
	cJSON_Delete(m);
	m = meta_until(13 * DAY);
	assert_string_equal(passport_status(m, NOW), "expiring");
	cJSON_Delete(m);
	m = meta_until(1);
	assert_string_equal(passport_status(m, NOW), "expiring");
	cJSON_Delete(m);
	/* At valid_until and after it: expired. */
	m = meta_until(0);
	assert_string_equal(passport_status(m, NOW), "expired");
	cJSON_Delete(m);
	m = meta_until(-DAY);
	assert_string_equal(passport_status(m, NOW), "expired");
	cJSON_Delete(m);

	/* Suspended beats the dates, revoked beats suspended. */
	m = meta_until(30 * DAY);
	cJSON_ReplaceItemInObject(m, "suspension", cJSON_CreateObject());
	assert_string_equal(passport_status(m, NOW), "suspended");
	cJSON_ReplaceItemInObject(m, "revocation", cJSON_CreateObject());
	assert_string_equal(passport_status(m, NOW), "revoked");
	cJSON_Delete(m);
	m = meta_until(-DAY);
	cJSON_ReplaceItemInObject(m, "suspension", cJSON_CreateObject());
	assert_string_equal(passport_status(m, NOW), "suspended");
	cJSON_Delete(m);
	m = meta_until(-DAY);
	cJSON_ReplaceItemInObject(m, "revocation", cJSON_CreateObject());
	assert_string_equal(passport_status(m, NOW), "revoked");
	cJSON_Delete(m);

	/* No readable end: fail closed. */
	m = meta_until(30 * DAY);
	cJSON_ReplaceItemInObject(m, "valid_until",
				  cJSON_CreateString("someday"));
	assert_string_equal(passport_status(m, NOW), "expired");
	cJSON_ReplaceItemInObject(m, "valid_until",
				  cJSON_CreateNumber(4102444800.0));
	assert_string_equal(passport_status(m, NOW), "expired");
	cJSON_ReplaceItemInObject(m, "valid_until", cJSON_CreateNull());
	assert_string_equal(passport_status(m, NOW), "expired");
	cJSON_DeleteItemFromObject(m, "valid_until");
	assert_string_equal(passport_status(m, NOW), "expired");
	cJSON_Delete(m);

	/* A fresh passport is active until 14 days before its end. */
	{
		cJSON *req = req_with(""), *p;
		char why[300];

		assert_int_equal(build(req, &p, why, sizeof(why)), 0);
		assert_string_equal(passport_status(p, NOW), "active");
		assert_string_equal(passport_status(p, NOW + 76 * DAY + 1),
				    "expiring");
		assert_string_equal(passport_status(p, NOW + 90 * DAY),
				    "expired");
		cJSON_Delete(p);
		cJSON_Delete(req);
	}
}

static void test_view(void **state)
{
	cJSON *req = req_with(""), *m, *v, *v2;
	char why[300];

	(void)state;
	assert_int_equal(build(req, &m, why, sizeof(why)), 0);
	v = passport_view(m, NOW);
	assert_non_null(v);
	assert_string_equal(idw_json_str(v, "status"), "active");
	/* The stored metadata is left alone. */
	assert_null(cJSON_GetObjectItem(m, "status"));
	/* Everything else is the same. */
	cJSON_DeleteItemFromObject(v, "status");
	assert_true(cJSON_Compare(v, m, 1));
	cJSON_Delete(v);
	/* A stored "status" never shows through: the derived one wins. */
	cJSON_AddStringToObject(m, "status", "active");
	cJSON_ReplaceItemInObject(m, "suspension", cJSON_CreateObject());
	v2 = passport_view(m, NOW);
	assert_string_equal(idw_json_str(v2, "status"), "suspended");
	assert_int_equal(cJSON_GetArraySize(v2), cJSON_GetArraySize(m));
	cJSON_Delete(v2);
	cJSON_Delete(m);
	cJSON_Delete(req);
}

static void test_ids(void **state)
{
	char a[20], b[20];

	(void)state;
	memset(a, 'x', sizeof(a));
	passport_new_id(a);
	assert_int_equal(strlen(a), 19);
	assert_memory_equal(a, "pp_", 3);
	for (int i = 3; i < 19; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_true(passport_id_valid(a));
	passport_new_id(b);
	assert_true(passport_id_valid(b));
	assert_string_not_equal(a, b);

	assert_true(passport_id_valid("pp_0123456789abcdef"));
	assert_false(passport_id_valid(NULL));
	assert_false(passport_id_valid(""));
	assert_false(passport_id_valid("pp_"));
	assert_false(passport_id_valid("pp_0123456789ABCDEF"));
	assert_false(passport_id_valid("pp_0123456789abcde"));
	assert_false(passport_id_valid("pp_0123456789abcdef0"));
	assert_false(passport_id_valid("px_0123456789abcdef"));
	assert_false(passport_id_valid("PP_0123456789abcdef"));
	assert_false(passport_id_valid("pp_0123456789abcdeg"));
	assert_false(passport_id_valid("pp_0123456789abcde "));
	assert_false(passport_id_valid("pp_../../../etc/pas"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_fields_kept),
		cmocka_unit_test(test_required),
		cmocka_unit_test(test_enums),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_ids),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
