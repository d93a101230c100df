/* SPDX-License-Identifier: ISC */
/*
 * The import parsers (client/cli_impfile.c): our export format, .env
 * files through dotenv_walk, MCP client configs and their rewrite.  Each
 * mistake is named by line, values land in the locked buffer decoded,
 * and a rewritten config holds no value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "client/cli_impfile.h"
#include "client/cli_impmcp.h"
#include "common/jsonu.h"
#include "keychain/dotenv.h"

#define HDR                                                                    \
	"{\"format\":\"idw-export\",\"version\":1,\"with_values\":true,"       \
	"\"passports\":[\n"

static int setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

/* An error list holds "line N:" exactly for the lines given. */
static bool names_line(const struct cli_impset *s, int line)
{
	char want[32];
	const cJSON *e;

	snprintf(want, sizeof(want), "line %d:", line);
	cJSON_ArrayForEach(e, s->errors)
	{
		if (strncmp(e->valuestring, want, strlen(want)) == 0)
			return true;
	}
	return false;
}

static int parse_export(const char *text, struct cli_impset *s)
{
	cli_impset_init(s);
	return cli_impfile_export(text, strlen(text), s);
}

static void test_export_good(void **state)
{
	const char *text = HDR
		"{\"passport\":{\"name\":\"a\",\"status\":\"active\"},"
		"\"value\":\"x\\\"\\n\\u00e9\\ud83d\\ude00\"},\n"
		"{\"value_base64\":\"AP8=\",\"passport\":{\"name\":\"b\"}}\n"
		"]}\n";
	struct cli_impset s;
	const cJSON *a;

	(void)state;
	assert_int_equal(parse_export(text, &s), 0);
	assert_int_equal(s.nbad, 0);
	assert_int_equal(cJSON_GetArraySize(s.items), 2);
	a = cJSON_GetArrayItem(s.items, 0);
	/* status is derived: never sent back. */
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "status"));
	assert_int_equal(idw_json_int(a, "value_len", 0), 1 + 1 + 1 + 2 + 4);
	assert_int_equal(idw_json_int(a, "line", 0), 2);
	assert_memory_equal(s.values.d, "x\"\n\xc3\xa9\xf0\x9f\x98\x80", 9);
	assert_int_equal(s.values.len, 11);
	assert_memory_equal(s.values.d + 9, "\x00\xff", 2);
	cli_impset_free(&s);
}

static void test_export_bad_lines(void **state)
{
	const char *text = HDR
		"{\"passport\":{\"name\":\"a\"},\"value\":\"ok\"},\n"	 /* 2 */
		"{\"passport\":{\"name\":\"b\"},\"value\":\"a\\qb\"},\n" /* 3 */
		"{\"passport\":{\"name\":\"c\"}},\n"			 /* 4 */
		"{\"passport\":{\"name\":\"d\"},\"value\":\"ok\"}\n"	 /* 5 */
		"{\"passport\":{\"name\":\"e\"},\"value\":\"ok\"},\n"	 /* 6 */
		"{\"passport\":[1],\"value\":\"ok\"},\n"		 /* 7 */
		"{\"passport\":{\"name\":\"g\"},\"value\":\"ok\",\"x\":1}\n"
		"]}\n";
	struct cli_impset s;

	(void)state;
	assert_int_equal(parse_export(text, &s), 0);
	assert_false(names_line(&s, 2));
	assert_true(names_line(&s, 3)); /* bad escape */
	assert_true(names_line(&s, 4)); /* no value */
	assert_true(names_line(&s, 5)); /* no comma after it */
	assert_false(names_line(&s, 6));
	assert_true(names_line(&s, 7)); /* passport not an object */
	assert_true(names_line(&s, 8)); /* unknown member */
	assert_int_equal(s.nbad, 5);
	/* Values of refused lines are dropped again (2, 5 and 6 stay). */
	assert_int_equal(s.values.len, 6);
	cli_impset_free(&s);
}

static void test_export_not_ours_or_cut(void **state)
{
	struct cli_impset s;

	(void)state;
	assert_int_equal(parse_export("{\"a\":1}\n", &s), 0);
	assert_int_equal(s.nbad, 1);
	assert_true(names_line(&s, 1));
	cli_impset_free(&s);
	assert_int_equal(
		parse_export(HDR "{\"passport\":{\"name\":\"a\"},\"value\":"
				 "\"x\"},\n",
			     &s),
		0);
	assert_true(s.nbad >= 1);
	cli_impset_free(&s);
	assert_int_equal(parse_export("", &s), 0);
	assert_int_equal(s.nbad, 1);
	cli_impset_free(&s);
	/* A trailing comma before ]} is not JSON: named. */
	assert_int_equal(
		parse_export(HDR "{\"passport\":{\"name\":\"a\"},\"value\":"
				 "\"x\"},\n]}\n",
			     &s),
		0);
	assert_true(names_line(&s, 2));
	cli_impset_free(&s);
}

static void test_dotenv(void **state)
{
	const char *text = "# c\nexport A=1\nB=\"x y\\n\"  # c\nbad line\n"
			   "A=again\nC='lit $X'\nD=\n";
	cJSON *tmpl = cJSON_CreateObject();
	struct cli_impset s;

	(void)state;
	cJSON_AddStringToObject(tmpl, "path", "p");
	cli_impset_init(&s);
	assert_int_equal(cli_impfile_dotenv(text, strlen(text), tmpl, &s), 0);
	assert_true(names_line(&s, 4)); /* not KEY=VALUE */
	assert_true(names_line(&s, 5)); /* given twice */
	assert_true(names_line(&s, 7)); /* empty */
	assert_int_equal(s.nbad, 3);
	assert_int_equal(cJSON_GetArraySize(s.items), 3);
	assert_string_equal(
		idw_json_str(cJSON_GetArrayItem(s.items, 1), "name"), "B");
	assert_string_equal(
		idw_json_str(cJSON_GetArrayItem(s.items, 1), "path"), "p");
	assert_int_equal(s.values.len, 1 + 4 + 6);
	assert_memory_equal(s.values.d, "1x y\nlit $X", 11);
	cli_impset_free(&s);
	cJSON_Delete(tmpl);
}

static const char mcp[] =
	"{\n"
	"  \"other\": {\"k\": [1, 2]},\n"
	"  \"mcpServers\": {\n"
	"    \"gh\": {\"command\": \"npx\", \"args\": [\"-y\", \"s\"],\n"
	"      \"env\": {\"TOKEN\": \"s3cr\\u0065t\", \"H\": \"${HOME}\"},\n"
	"      \"cwd\": \"/tmp\"},\n"
	"    \"none\": {\"command\": \"x\"}\n"
	"  }\n"
	"}\n";

static void test_mcp_parse_and_rewrite(void **state)
{
	cJSON *tmpl = cJSON_CreateObject(), *doc;
	struct cli_impmcp cfg;
	struct cli_impset s;
	struct idw_buf out;
	const cJSON *gh;

	(void)state;
	cli_impset_init(&s);
	assert_int_equal(cli_impmcp_parse(mcp, strlen(mcp), tmpl, &s, &cfg), 0);
	assert_int_equal(s.nbad, 0);
	assert_int_equal(cfg.nservers, 1);
	assert_string_equal(cfg.servers[0].name, "gh");
	assert_string_equal(cfg.servers[0].command, "npx");
	assert_int_equal(cfg.servers[0].n, 1);
	assert_int_equal(s.values.len, 6);
	assert_memory_equal(s.values.d, "s3cret", 6);
	assert_string_equal(
		idw_json_str(cJSON_GetArrayItem(s.items, 0), "path"), "mcp/gh");
	assert_int_equal(
		idw_json_int(cJSON_GetArrayItem(s.items, 0), "line", 0), 5);

	idw_buf_init(&out, 1 << 20, 0);
	assert_int_equal(cli_impmcp_rewrite(mcp, strlen(mcp), &cfg,
					    "/opt/idw/bin/idw", &out),
			 0);
	assert_int_equal(idw_buf_put_u8(&out, 0), 0);
	assert_null(strstr((char *)out.d, "s3cr"));
	doc = cJSON_Parse((char *)out.d);
	assert_non_null(doc);
	gh = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "mcpServers"), "gh");
	assert_string_equal(idw_json_str(gh, "command"), "/opt/idw/bin/idw");
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItem(gh, "args"), 2)
			->valuestring,
		"gh");
	assert_string_equal(idw_json_str(gh, "cwd"), "/tmp");
	assert_string_equal(idw_json_str(cJSON_GetObjectItem(gh, "env"), "H"),
			    "${HOME}");
	assert_null(
		cJSON_GetObjectItem(cJSON_GetObjectItem(gh, "env"), "TOKEN"));
	assert_non_null(cJSON_GetObjectItem(doc, "other"));
	cJSON_Delete(doc);
	idw_buf_free(&out);
	cli_impmcp_free(&cfg);
	cli_impset_free(&s);
	cJSON_Delete(tmpl);
}

static void test_mcp_malformed(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{\"mcpServers\": {\"a\": {\"command\": \"x\", \"env\": "
		"{\"K\": 5}}}}",
		"{\"mcpServers\": {\"a\": {\"command\": \"x\",\n\"env\": "
		"{\"K\": \"v\"}}}",
		"{\"nothing\": 1}",
		"{\"mcpServers\": {\"bad name!\": {\"command\": \"x\", "
		"\"env\": {\"K\": \"v\"}}}}",
		"{\"mcpServers\": {\"a\": {\"env\": {\"K\": \"v\"}}}}",
	};
	cJSON *tmpl = cJSON_CreateObject();

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cli_impmcp cfg;
		struct cli_impset s;

		cli_impset_init(&s);
		assert_int_equal(cli_impmcp_parse(bad[i], strlen(bad[i]), tmpl,
						  &s, &cfg),
				 0);
		if (s.nbad == 0)
			fail_msg("config %zu was accepted", i);
		cli_impmcp_free(&cfg);
		cli_impset_free(&s);
	}
	cJSON_Delete(tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_good),
		cmocka_unit_test(test_export_bad_lines),
		cmocka_unit_test(test_export_not_ours_or_cut),
		cmocka_unit_test(test_dotenv),
		cmocka_unit_test(test_mcp_parse_and_rewrite),
		cmocka_unit_test(test_mcp_malformed),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
