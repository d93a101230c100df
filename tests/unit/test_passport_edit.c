/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/passport_edit.c: editing every field, what an
 * edit keeps, delegation hops (chain, narrowing, depth, ends) and the
 * effective scope.
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

#define NOW ((int64_t)1795456800) /* 2026-11-23T18:00:00Z */
#define ID "pp_0123456789abcdef"
#define HOP(from, to, scope)                                                   \
	"{\"from\":\"" from "\",\"to\":\"" to "\",\"scope\":[" scope           \
	"],\"expires_at\":null,\"notes\":\"\"}"

static cJSON *parse(const char *s)
{
	cJSON *j = idw_json_parse(s, strlen(s));

	assert_non_null(j);
	return j;
}

static cJSON *stored(const char *extra)
{
	char buf[2048], why[300];
	cJSON *req, *m = NULL;

	snprintf(buf, sizeof(buf),
		 "{\"name\":\"n\",\"credential_type\":\"api-key\","
		 "\"human_owner\":\"alice\"%s%s}",
		 extra[0] ? "," : "", extra);
	req = parse(buf);
	assert_int_equal(
		passport_from_request(req, ID, NOW, &m, why, sizeof(why)), 0);
	cJSON_Delete(req);
	return m;
}

static cJSON *edit_ok(const cJSON *m, const char *req_json, char *changed)
{
	cJSON *req = parse(req_json), *out = NULL;
	char why[300] = "", ch[300];

	if (passport_edit(m, req, NOW + 60, &out, ch, sizeof(ch), why,
			  sizeof(why)) != 0)
		fail_msg("%s refused: %s", req_json, why);
	if (changed != NULL)
		strcpy(changed, ch);
	cJSON_Delete(req);
	return out;
}

static void edit_refused(const cJSON *m, const char *req_json, const char *word)
{
	cJSON *req = parse(req_json), *out = (cJSON *)1;
	char why[300] = "", ch[300];

	assert_int_equal(passport_edit(m, req, NOW, &out, ch, sizeof(ch), why,
				       sizeof(why)),
			 IDW_EUSAGE);
	assert_null(out);
	if (strstr(why, word) == NULL)
		fail_msg("%s refused with '%s', not naming '%s'", req_json, why,
			 word);
	cJSON_Delete(req);
}

static void test_edit_every_field(void **state)
{
	cJSON *m = stored("\"platforms\":[\"a\"],\"tags\":[\"t\"]"), *e;
	const cJSON *visa;
	char changed[300];

	(void)state;
	cJSON_AddStringToObject(m, "future_field", "kept");
	e = edit_ok(m,
		    "{\"name\":\"N2\",\"path\":\"prod/x\",\"credential_type\":"
		    "\"password\",\"visa\":{\"type\":\"data\","
		    "\"issuing_authority\":\"corp\",\"scope\":[\"r\"]},"
		    "\"platforms\":[\"b\",\"c\"],\"agent_id\":\"token:abc\","
		    "\"human_owner\":\"bob\",\"valid_from\":"
		    "\"2026-11-24T00:00:00Z\",\"valid_until\":\"2027-01-01\","
		    "\"access_tier\":\"critical\",\"tags\":[],\"notes\":\"nn\","
		    "\"reveal\":\"never\"}",
		    changed);
	assert_string_equal(idw_json_str(e, "name"), "N2");
	assert_string_equal(idw_json_str(e, "path"), "prod/x");
	assert_string_equal(idw_json_str(e, "credential_type"), "password");
	visa = cJSON_GetObjectItem(e, "visa");
	assert_string_equal(idw_json_str(visa, "type"), "data");
	assert_string_equal(idw_json_str(visa, "issuing_authority"), "corp");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(visa, "scope")),
			 1);
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(e, "platforms")), 2);
	assert_string_equal(idw_json_str(e, "agent_id"), "token:abc");
	assert_string_equal(idw_json_str(e, "human_owner"), "bob");
	assert_string_equal(idw_json_str(e, "valid_from"),
			    "2026-11-24T00:00:00Z");
	assert_string_equal(idw_json_str(e, "valid_until"),
			    "2027-01-01T23:59:59Z");
	assert_string_equal(idw_json_str(e, "access_tier"), "critical");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(e, "tags")), 0);
	assert_string_equal(idw_json_str(e, "notes"), "nn");
	assert_string_equal(idw_json_str(e, "reveal"), "never");
	/* Kept: id, creation, value version, fields of a newer version. */
	assert_string_equal(idw_json_str(e, "id"), ID);
	assert_string_equal(idw_json_str(e, "created_at"),
			    idw_json_str(m, "created_at"));
	assert_string_equal(idw_json_str(e, "updated_at"),
			    "2026-11-23T18:01:00Z");
	assert_string_equal(idw_json_str(e, "future_field"), "kept");
	assert_non_null(strstr(changed, "name"));
	assert_non_null(strstr(changed, "visa"));
	assert_non_null(strstr(changed, "reveal"));
	assert_null(strstr(changed, "updated_at"));
	cJSON_Delete(e);
	cJSON_Delete(m);
}

static void test_edit_partial(void **state)
{
	cJSON *m = stored("\"visa\":{\"type\":\"privilege\",\"scope\":"
			  "[\"r\",\"w\"],\"issuing_authority\":\"x\"}"),
	      *e;
	char changed[300];

	(void)state;
	/* One visa member: the others stay. */
	e = edit_ok(m, "{\"visa\":{\"scope\":[\"r\"]}}", changed);
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(e, "visa"), "type"),
		"privilege");
	assert_string_equal(idw_json_str(cJSON_GetObjectItem(e, "visa"),
					 "issuing_authority"),
			    "x");
	assert_string_equal(changed, "visa");
	cJSON_Delete(e);
	/* Clearing the owner and the binding. */
	e = edit_ok(m, "{\"human_owner\":null,\"agent_id\":null}", changed);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "human_owner")));
	assert_string_equal(changed, "human_owner");
	cJSON_Delete(e);
	/* The same value: nothing changed. */
	e = edit_ok(m, "{\"name\":\"n\"}", changed);
	assert_string_equal(changed, "");
	cJSON_Delete(e);
	cJSON_Delete(m);
}

static void test_edit_refusals(void **state)
{
	cJSON *m = stored("");

	(void)state;
	edit_refused(m, "{\"id\":\"" ID "\"}", "nothing to change");
	edit_refused(m, "{\"access_tier\":\"gold\"}", "access_tier");
	edit_refused(m, "{\"credential_type\":\"\"}", "credential_type");
	edit_refused(m, "{\"name\":\"\"}", "name");
	edit_refused(m, "{\"valid_until\":\"2020-01-01\"}", "after");
	edit_refused(m, "{\"visa\":\"x\"}", "visa");
	edit_refused(m, "{\"visa\":{\"type\":\"root\"}}", "type");
	edit_refused(m, "{\"platforms\":\"a\"}", "platforms");
	edit_refused(m, "{\"delegation\":[{\"from\":\"a\"}]}", "delegate");
	cJSON_Delete(m);
}

static cJSON *hop(const cJSON *m, const char *req_json, int max_depth)
{
	cJSON *req = parse(req_json), *out = NULL;
	char why[300] = "";

	if (passport_delegate(m, req, NOW, max_depth, &out, why, sizeof(why)) !=
	    0)
		fail_msg("%s refused: %s", req_json, why);
	cJSON_Delete(req);
	cJSON_Delete((cJSON *)m);
	return out;
}

static void hop_refused(const cJSON *m, const char *req_json, int max_depth,
			const char *word)
{
	cJSON *req = parse(req_json), *out = (cJSON *)1;
	char why[300] = "";

	assert_int_equal(passport_delegate(m, req, NOW, max_depth, &out, why,
					   sizeof(why)),
			 IDW_EUSAGE);
	assert_null(out);
	if (strstr(why, word) == NULL)
		fail_msg("%s refused with '%s', not naming '%s'", req_json, why,
			 word);
	cJSON_Delete(req);
}

static void test_delegate_chain(void **state)
{
	cJSON *m = stored("\"visa\":{\"scope\":[\"r\",\"w\",\"x\"]}"), *eff;
	const cJSON *h;
	char *txt;

	(void)state;
	m = hop(m,
		"{\"from\":\"alice\",\"to\":\"bot\",\"scope\":[\"r\",\"w\"],"
		"\"expires_at\":\"2026-12-01\",\"notes\":\"n\"}",
		3);
	h = cJSON_GetArrayItem(cJSON_GetObjectItem(m, "delegation"), 0);
	assert_string_equal(idw_json_str(h, "from"), "alice");
	assert_string_equal(idw_json_str(h, "to"), "bot");
	assert_string_equal(idw_json_str(h, "expires_at"),
			    "2026-12-01T23:59:59Z");
	assert_string_equal(idw_json_str(h, "notes"), "n");
	/* The next hop starts where the chain ends... */
	hop_refused(m, "{\"from\":\"alice\",\"to\":\"c\",\"scope\":[\"r\"]}", 3,
		    "start there");
	/* ...and only narrows. */
	hop_refused(m, "{\"from\":\"bot\",\"to\":\"c\",\"scope\":[\"x\"]}", 3,
		    "'x'");
	m = hop(m, "{\"from\":\"bot\",\"to\":\"c\",\"scope\":[\"w\"]}", 3);
	assert_int_equal(passport_effective_scope(m, &eff), 0);
	txt = cJSON_PrintUnformatted(eff);
	assert_string_equal(txt, "[\"w\"]");
	cJSON_free(txt);
	cJSON_Delete(eff);
	m = hop(m, "{\"from\":\"c\",\"to\":\"d\",\"scope\":[\"w\"]}", 3);
	/* Depth: the rules' limit, then the hard one. */
	hop_refused(m, "{\"from\":\"d\",\"to\":\"e\",\"scope\":[\"w\"]}", 3,
		    "at most 3");
	m = hop(m, "{\"from\":\"d\",\"to\":\"e\",\"scope\":[\"w\"]}", -1);
	assert_int_equal(
		cJSON_GetArraySize(cJSON_GetObjectItem(m, "delegation")), 4);
	/* Ends: the first hop's day runs out at its last second. */
	assert_int_equal(passport_hop_expired(m, NOW), 0);
	{
		int64_t end;

		assert_int_equal(
			idw_time_parse("2026-12-01T23:59:59Z", 0, &end), 0);
		assert_int_equal(passport_hop_expired(m, end - 1), 0);
		assert_int_equal(passport_hop_expired(m, end), 1);
	}
	cJSON_Delete(m);
}

static void test_delegate_refusals(void **state)
{
	cJSON *m = stored("");

	(void)state;
	hop_refused(m, "{\"to\":\"b\",\"scope\":[\"r\"]}", 3, "from");
	hop_refused(m, "{\"from\":\"a\",\"to\":\"\",\"scope\":[\"r\"]}", 3,
		    "to");
	hop_refused(m, "{\"from\":\"a\",\"to\":\"b\"}", 3, "scope");
	hop_refused(m, "{\"from\":\"a\",\"to\":\"b\",\"scope\":[]}", 3,
		    "scope");
	hop_refused(m, "{\"from\":\"a\",\"to\":\"b\",\"scope\":[\"\"]}", 3,
		    "scope");
	hop_refused(m,
		    "{\"from\":\"a\",\"to\":\"b\",\"scope\":[\"r\"],"
		    "\"expires_at\":\"2020-01-01\"}",
		    3, "future");
	hop_refused(m,
		    "{\"from\":\"a\",\"to\":\"b\",\"scope\":[\"r\"],"
		    "\"expires_at\":\"soon\"}",
		    3, "expires_at");
	hop_refused(m, "{\"from\":\"a\",\"to\":\"b\",\"scope\":[\"r\"]}", 0,
		    "at most 0");
	cJSON_Delete(m);
}

/* Effective scope: the visa's scope intersected with every hop's. */
static void test_scope_intersection(void **state)
{
	static const struct {
		const char *visa, *hops, *want; /* want NULL: unlimited */
	} rows[] = {
		{"[]", "[]", NULL},
		{"[\"r\",\"w\"]", "[]", "[\"r\",\"w\"]"},
		{"[]", "[" HOP("a", "b", "\"r\",\"x\"") "]", "[\"r\",\"x\"]"},
		{"[\"r\",\"w\"]", "[" HOP("a", "b", "\"w\",\"x\"") "]",
		 "[\"w\"]"},
		{"[\"r\",\"w\",\"x\"]",
		 "[" HOP("a", "b", "\"w\",\"x\"") "," HOP("b", "c",
							  "\"x\",\"r\"") "]",
		 "[\"x\"]"},
		{"[\"r\"]", "[" HOP("a", "b", "\"w\"") "]", "[]"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char buf[1024];
		cJSON *m, *eff = NULL;
		char *txt;

		snprintf(buf, sizeof(buf),
			 "{\"visa\":{\"type\":\"access\",\"scope\":%s},"
			 "\"delegation\":%s}",
			 rows[i].visa, rows[i].hops);
		m = idw_json_parse(buf, strlen(buf));
		assert_non_null(m);
		assert_int_equal(passport_effective_scope(m, &eff), 0);
		if (rows[i].want == NULL) {
			assert_null(eff);
		} else {
			txt = cJSON_PrintUnformatted(eff);
			assert_string_equal(txt, rows[i].want);
			cJSON_free(txt);
		}
		cJSON_Delete(eff);
		cJSON_Delete(m);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edit_every_field),
		cmocka_unit_test(test_edit_partial),
		cmocka_unit_test(test_edit_refusals),
		cmocka_unit_test(test_delegate_chain),
		cmocka_unit_test(test_delegate_refusals),
		cmocka_unit_test(test_scope_intersection),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
