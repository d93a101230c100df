/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "mcp_fake.h"

/*
 * idw-mcp's protocol: the revisions and what each one shows, JSON-RPC
 * batches (2025-03-26 only), the stateless 2026-07-28 requests, the
 * lifecycle before initialize, pagination, logging, and cancellation and
 * end of input through the serve loop.
 */

#define META26                                                                 \
	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"              \
	"\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}"

static void expect_code(struct mcp_server *s, const char *line, int code)
{
	cJSON *j = fk_one(s, line);

	assert_int_equal(fk_code(j), code);
	cJSON_Delete(j);
}

static void test_before_initialize(void **state)
{
	struct mcp_server *s = *state;
	static const char *const early[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		"\"params\":{\"name\":\"list_passports\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\","
		"\"params\":{\"uri\":\"passport://" FK_PP "\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\","
		"\"params\":{\"level\":\"info\"}}",
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\"}",
	};
	cJSON *j;
	char *out;

	for (size_t i = 0; i < sizeof(early) / sizeof(early[0]); i++) {
		j = fk_one(s, early[i]);
		assert_int_equal(fk_code(j), MCP_INVALID_PARAMS);
		assert_int_equal(idw_json_int(j, "id", 0), 1);
		cJSON_Delete(j);
	}
	/* ping may come first; unknown methods are unknown either way. */
	j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
	assert_true(cJSON_IsObject(fk_result(j)));
	cJSON_Delete(j);
	expect_code(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"nope\"}",
		    MCP_METHOD_NOT_FOUND);
	out = fk_run(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"}");
	assert_string_equal(out, "");
	free(out);
	assert_false(s->initialized);
	assert_int_equal(fk.calls, 0);
}

/* Which fields each revision shows. */
static void test_revisions_shape(void **state)
{
	static const char *const revs[] = {"2024-11-05", "2025-03-26",
					   "2025-06-18", "2025-11-25"};
	struct mcp_server *s = *state;

	for (int i = 0; i < 4; i++) {
		const cJSON *t, *tmpl, *res;
		cJSON *j;

		fk_init(s, revs[i], "{}");
		j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			      "\"tools/list\"}");
		t = cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(fk_result(j), "tools"),
			0);
		assert_non_null(idw_json_str(t, "description"));
		assert_non_null(cJSON_GetObjectItem(t, "inputSchema"));
		assert_int_equal(cJSON_GetObjectItem(t, "annotations") != NULL,
				 i >= 1);
		assert_int_equal(cJSON_GetObjectItem(t, "title") != NULL,
				 i >= 2);
		assert_int_equal(cJSON_GetObjectItem(t, "outputSchema") != NULL,
				 i >= 2);
		assert_null(cJSON_GetObjectItem(fk_result(j), "resultType"));
		assert_null(cJSON_GetObjectItem(fk_result(j), "ttlMs"));
		cJSON_Delete(j);
		j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			      "\"resources/templates/list\"}");
		tmpl = cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(fk_result(j),
							 "resourceTemplates"),
			0);
		assert_int_equal(cJSON_GetObjectItem(tmpl, "title") != NULL,
				 i >= 2);
		cJSON_Delete(j);
		/* structuredContent from 2025-06-18; the text copy always. */
		j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			      "\"tools/call\",\"params\":{\"name\":"
			      "\"get_credential\",\"arguments\":{"
			      "\"passport_id\":\"" FK_PP "\",\"purpose\":"
			      "\"p\"}}}");
		res = fk_result(j);
		assert_int_equal(
			cJSON_GetObjectItem(res, "structuredContent") != NULL,
			i >= 2);
		assert_non_null(
			strstr(fk_text(j), "\"credential\":\"sk-fake1\""));
		cJSON_Delete(j);
	}
}

static void test_batches(void **state)
{
	struct mcp_server *s = *state;
	const cJSON *e;
	cJSON *j;
	char *out;

	fk_init(s, "2025-03-26", "{}");
	j = fk_one(s, "[{\"jsonrpc\":\"2.0\",\"id\":1.50,\"method\":\"ping\"},"
		      " {\"jsonrpc\":\"2.0\",\"method\":\"notifications/x\"},"
		      "{\"jsonrpc\":\"2.0\",\"id\":\"b\",\"method\":"
		      "\"tools/list\"}, 5 ]");
	assert_true(cJSON_IsArray(j));
	assert_int_equal(cJSON_GetArraySize(j), 3);
	e = cJSON_GetArrayItem(j, 0);
	assert_true(cJSON_IsObject(cJSON_GetObjectItem(e, "result")));
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(j, 1), "id"), "b");
	assert_int_equal(fk_code(cJSON_GetArrayItem(j, 2)),
			 MCP_INVALID_REQUEST);
	cJSON_Delete(j);
	/* The number id keeps its text inside a batch too. */
	out = fk_run(s, "[{\"jsonrpc\":\"2.0\",\"id\":1.50,\"method\":"
			"\"ping\"}]");
	assert_string_equal(out, "[{\"jsonrpc\":\"2.0\",\"id\":1.50,"
				 "\"result\":{}}]\n");
	free(out);
	expect_code(s, "[]", MCP_INVALID_REQUEST);
	expect_code(s, "[1,", MCP_PARSE_ERROR);
	out = fk_run(s, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
			"initialized\"}]");
	assert_string_equal(out, "");
	free(out);
	j = fk_one(s, "[{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":"
		      "\"initialize\",\"params\":{\"protocolVersion\":"
		      "\"2025-03-26\"}}]");
	assert_int_equal(fk_code(cJSON_GetArrayItem(j, 0)),
			 MCP_INVALID_REQUEST);
	cJSON_Delete(j);
	/* Every other revision refuses a batch. */
	fk_init(s, "2024-11-05", "{}");
	expect_code(s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
		    MCP_INVALID_REQUEST);
	fk_init(s, "2025-06-18", "{}");
	expect_code(s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
		    MCP_INVALID_REQUEST);
	fk_init(s, "2025-11-25", "{}");
	expect_code(s, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]",
		    MCP_INVALID_REQUEST);
}

static void expect_complete(const cJSON *res)
{
	const cJSON *si = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(res, "_meta"),
		"io.modelcontextprotocol/serverInfo");

	const cJSON *k;
	int n = 0;

	cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(res, "_meta"))
	{
		n += strcmp(k->string, "io.modelcontextprotocol/serverInfo") ==
		     0;
	}
	assert_int_equal(n, 1);
	assert_string_equal(idw_json_str(res, "resultType"), "complete");
	assert_string_equal(idw_json_str(si, "name"), "idw-mcp");
	assert_non_null(idw_json_str(si, "version"));
}

static void test_modern(void **state)
{
	struct mcp_server *s = *state;
	const cJSON *res, *d, *t;
	cJSON *j, *all;

	/* No handshake: each request names its revision. */
	j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		      "\"server/discover\",\"params\":{" META26 "}}");
	res = fk_result(j);
	expect_complete(res);
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
					   res, "supportedVersions"),
				   0)
			->valuestring,
		"2026-07-28");
	assert_non_null(cJSON_GetObjectItem(
		cJSON_GetObjectItem(res, "capabilities"), "tools"));
	assert_non_null(strstr(idw_json_str(res, "instructions"), "purpose"));
	assert_string_equal(idw_json_str(res, "cacheScope"), "public");
	assert_true(idw_json_int(res, "ttlMs", -1) > 0);
	cJSON_Delete(j);

	j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
		      "\"tools/list\",\"params\":{" META26 "}}");
	res = fk_result(j);
	expect_complete(res);
	assert_string_equal(idw_json_str(res, "cacheScope"), "public");
	t = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "tools"), 0);
	assert_non_null(cJSON_GetObjectItem(t, "outputSchema"));
	cJSON_Delete(j);

	j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
		      "\"resources/list\",\"params\":{" META26 "}}");
	res = fk_result(j);
	expect_complete(res);
	assert_string_equal(idw_json_str(res, "cacheScope"), "private");
	assert_int_equal(idw_json_int(res, "ttlMs", -1), 0);
	assert_string_equal(idw_json_str(res, "nextCursor"), "7");
	cJSON_Delete(j);

	j = fk_one(s,
		   "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
		   "\"tools/call\",\"params\":{\"name\":\"get_credential\","
		   "\"arguments\":{\"passport_id\":\"" FK_PP "\",\"purpose\":"
		   "\"p\"}," META26 "}}");
	res = fk_result(j);
	expect_complete(res);
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(res, "structuredContent"),
			     "credential"),
		"sk-fake1");
	cJSON_Delete(j);

	/* A missing resource is invalid params in 2026-07-28. */
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
		    "\"resources/read\",\"params\":{\"uri\":\"passport://" FK_PP
		    "\"," META26 "}}",
		    MCP_INVALID_PARAMS);
	expect_code(
		s,
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":"
		"\"resources/read\",\"params\":{\"uri\":\"file:///x\"," META26
		"}}",
		MCP_INVALID_PARAMS);

	/* An unknown revision: the ones we have, and the one asked. */
	j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/list\","
		      "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
		      "protocolVersion\":\"2099-01-01\",\"io.modelcontext"
		      "protocol/clientCapabilities\":{}}}}");
	assert_int_equal(fk_code(j), MCP_UNSUPPORTED_VERSION);
	d = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "data");
	assert_string_equal(
		cJSON_GetArrayItem(cJSON_GetObjectItem(d, "supported"), 0)
			->valuestring,
		"2026-07-28");
	assert_string_equal(idw_json_str(d, "requested"), "2099-01-01");
	cJSON_Delete(j);

	/* Malformed _meta, and methods 2026-07-28 does not have. */
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\","
		    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
		    "protocolVersion\":\"2026-07-28\"}}}",
		    MCP_INVALID_PARAMS);
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\","
		    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
		    "protocolVersion\":2026}}}",
		    MCP_INVALID_PARAMS);
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/list\","
		    "\"params\":{\"_meta\":\"x\"}}",
		    MCP_INVALID_PARAMS);
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"ping\","
		    "\"params\":{" META26 "}}",
		    MCP_METHOD_NOT_FOUND);
	expect_code(
		s,
		"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":"
		"\"logging/setLevel\",\"params\":{\"level\":\"info\"," META26
		"}}",
		MCP_METHOD_NOT_FOUND);

	/* Logging per request: only with a level in _meta. */
	all = fk_lines(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":"
			  "\"tools/call\",\"params\":{\"name\":"
			  "\"list_passports\",\"_meta\":{\"io.modelcontext"
			  "protocol/protocolVersion\":\"2026-07-28\",\"io."
			  "modelcontextprotocol/clientCapabilities\":{},\"io."
			  "modelcontextprotocol/logLevel\":\"debug\"}}}");
	assert_true(cJSON_GetArraySize(all) >= 2);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(all, 0), "method"),
			    "notifications/message");
	expect_complete(fk_result(
		cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1)));
	cJSON_Delete(all);
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\","
		    "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
		    "protocolVersion\":\"2026-07-28\",\"io.modelcontext"
		    "protocol/clientCapabilities\":{},\"io.modelcontext"
		    "protocol/logLevel\":\"loud\"}}}",
		    MCP_INVALID_PARAMS);

	/* None of it made a session: the handshake revisions still wait. */
	assert_false(s->initialized);
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}",
		    MCP_INVALID_PARAMS);
	/* Once initialized, both generations are served side by side. */
	fk_init(s, "2025-06-18", "{}");
	j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
		      "\"tools/list\",\"params\":{" META26 "}}");
	expect_complete(fk_result(j));
	cJSON_Delete(j);
	j = fk_one(s,
		   "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
	assert_null(cJSON_GetObjectItem(fk_result(j), "resultType"));
	cJSON_Delete(j);
}

/* All pages of a list: the names, in order. */
static void walk(struct mcp_server *s, const char *method, const char *field,
		 const char *key, int per_page, int total)
{
	char line[256], cursor[64] = "";
	int seen = 0;

	for (;;) {
		const cJSON *res, *arr;
		cJSON *j;

		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\"%s%s%"
			 "s}",
			 method, cursor[0] ? ",\"params\":{\"cursor\":\"" : "",
			 cursor, cursor[0] ? "\"}" : "");
		j = fk_one(s, line);
		res = fk_result(j);
		arr = cJSON_GetObjectItemCaseSensitive(res, field);
		assert_true(cJSON_GetArraySize(arr) <= per_page);
		seen += cJSON_GetArraySize(arr);
		assert_non_null(idw_json_str(cJSON_GetArrayItem(arr, 0), key));
		if (idw_json_str(res, "nextCursor") == NULL) {
			cJSON_Delete(j);
			break;
		}
		snprintf(cursor, sizeof(cursor), "%s",
			 idw_json_str(res, "nextCursor"));
		cJSON_Delete(j);
	}
	assert_int_equal(seen, total);
}

static void test_pagination(void **state)
{
	static const char *const bad[] = {
		"\"tools:0\"", "\"tools:5\"",	  "\"tools:x\"", "\"x\"",
		"5",	       "\"templates:1\"", "\"tools:1 \""};
	struct mcp_server *s = *state;
	char line[256];

	fk_init(s, "2025-11-25", "{}");
	s->page_size = 2;
	walk(s, "tools/list", "tools", "name", 2, 5);
	s->page_size = 1;
	walk(s, "resources/templates/list", "resourceTemplates", "uriTemplate",
	     1, 2);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			 "\"tools/list\",\"params\":{\"cursor\":%s}}",
			 bad[i]);
		expect_code(s, line, MCP_INVALID_PARAMS);
	}
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"resources/templates/list\",\"params\":{\"cursor\":"
		    "\"tools:1\"}}",
		    MCP_INVALID_PARAMS);
	/* resources/list pages through the agent's own cursor. */
	s->page_size = 3;
	cJSON_Delete(
		fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			  "\"resources/list\",\"params\":{\"cursor\":\"7\"}}"));
	assert_string_equal(idw_json_str(fk_req(0), "cursor"), "7");
	assert_int_equal(idw_json_int(fk_req(0), "limit", 0), 3);
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"resources/list\",\"params\":{\"cursor\":\"bad\"}}",
		    MCP_INVALID_PARAMS);
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		    "\"resources/list\",\"params\":{\"cursor\":5}}",
		    MCP_INVALID_PARAMS);
}

static void test_logging(void **state)
{
	static const char list[] =
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		"\"params\":{\"name\":\"list_passports\"}}";
	struct mcp_server *s = *state;
	const cJSON *m;
	cJSON *all;

	fk_init(s, "2025-06-18", "{}");
	all = fk_lines(s, list); /* nothing before logging/setLevel */
	assert_int_equal(cJSON_GetArraySize(all), 1);
	cJSON_Delete(all);
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
		    "\"logging/setLevel\",\"params\":{\"level\":\"verbose\"}}",
		    MCP_INVALID_PARAMS);
	expect_code(s,
		    "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
		    "\"logging/setLevel\",\"params\":{\"level\":3}}",
		    MCP_INVALID_PARAMS);
	all = fk_lines(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
			  "\"logging/setLevel\",\"params\":{\"level\":"
			  "\"debug\"}}");
	m = cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1);
	assert_null(fk_result(m)->child); /* {} */
	cJSON_Delete(all);
	all = fk_lines(s, list);
	assert_true(cJSON_GetArraySize(all) >= 2);
	m = cJSON_GetArrayItem(all, 0);
	assert_string_equal(idw_json_str(m, "method"), "notifications/message");
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(m, "params"), "level"),
		"debug");
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(m, "params"), "logger"),
		"idw-mcp");
	assert_non_null(cJSON_GetObjectItem(
		cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1),
		"result"));
	cJSON_Delete(all);
	/* At "error": no debug lines, but a lost agent is told. */
	cJSON_Delete(fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
			       "\"logging/setLevel\",\"params\":{\"level\":"
			       "\"error\"}}"));
	all = fk_lines(s, list);
	assert_int_equal(cJSON_GetArraySize(all), 1);
	cJSON_Delete(all);
	fk.unreachable = true;
	all = fk_lines(s, list);
	assert_int_equal(cJSON_GetArraySize(all), 2);
	m = cJSON_GetObjectItem(cJSON_GetArrayItem(all, 0), "params");
	assert_string_equal(idw_json_str(m, "level"), "error");
	assert_non_null(
		strstr(idw_json_str(m, "data"), "could not be reached"));
	cJSON_Delete(all);
}

/* Every field with a value of the wrong type, and unknown fields. */
static void test_wrong_types(void **state)
{
	static const struct {
		const char *line;
		int code;
	} cases[] = {
		{"{\"jsonrpc\":2,\"id\":1,\"method\":\"ping\"}",
		 MCP_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}",
		 MCP_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":[\"ping\"]}",
		 MCP_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":"
		 "\"x\"}",
		 MCP_INVALID_REQUEST},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		 "\"params\":{\"name\":5}}",
		 MCP_INVALID_PARAMS},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		 "\"params\":{\"name\":\"list_passports\",\"arguments\":\"x\"}"
		 "}",
		 MCP_INVALID_PARAMS},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/read\","
		 "\"params\":{\"uri\":5}}",
		 MCP_INVALID_PARAMS},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\","
		 "\"params\":{\"_meta\":[]}}",
		 MCP_INVALID_PARAMS},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
		 "\"params\":{\"protocolVersion\":\"2025-11-25\","
		 "\"capabilities\":"
		 "[]}}",
		 MCP_INVALID_PARAMS},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
		 "\"params\":{\"protocolVersion\":\"2025-11-25\","
		 "\"clientInfo\":"
		 "\"me\"}}",
		 MCP_INVALID_PARAMS},
	};
	struct mcp_server *s = *state;
	cJSON *j;

	fk_init(s, "2025-11-25", "{}");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_code(s, cases[i].line, cases[i].code);
	/* Fields nobody defined are ignored, at every level. */
	j = fk_one(s, "{\"x\":1,\"jsonrpc\":\"2.0\",\"id\":7,\"method\":"
		      "\"tools/call\",\"params\":{\"y\":[],\"name\":"
		      "\"check_policy\",\"arguments\":{\"passport_id\":\"" FK_PP
		      "\",\"z\":true}},\"extra\":{}}");
	assert_false(idw_json_bool(fk_result(j), "isError", true));
	cJSON_Delete(j);
}

/*
 * A reader over parts; each read returns at most one part.  Parts from
 * gate on are not there yet for a look that does not wait, unless a call
 * to the agent is under way: they arrive while it waits.
 */
struct parts {
	const char *const *p;
	size_t n, i, off, gate;
};

static ssize_t parts_read(void *ctx, void *buf, size_t n, int timeout_ms)
{
	struct parts *pt = ctx;
	size_t left;

	if (pt->i >= pt->gate && timeout_ms == 0 && !fk.in_call &&
	    pt->i < pt->n) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (pt->i == pt->n)
		return 0;
	left = strlen(pt->p[pt->i]) - pt->off;
	if (n > left)
		n = left;
	memcpy(buf, pt->p[pt->i] + pt->off, n);
	pt->off += n;
	if (pt->off == strlen(pt->p[pt->i])) {
		pt->i++;
		pt->off = 0;
	}
	return (ssize_t)n;
}

/* Run mcp_serve over parts; what it wrote. */
static char *serve(struct mcp_server *s, const char *const *p, size_t n,
		   size_t gate)
{
	struct parts pt = {p, n, 0, 0, gate};
	struct mcp_reader *rd = malloc(sizeof(*rd));
	int fd = memfd_create("mcp-out", 0);
	char *buf = calloc(1, 65536);
	ssize_t got;

	assert_non_null(rd);
	assert_non_null(buf);
	assert_true(fd >= 0);
	mcp_reader_init(rd, parts_read, &pt);
	assert_int_equal(mcp_serve(s, rd, 0, fd), 0);
	got = pread(fd, buf, 65535, 0);
	assert_true(got >= 0);
	close(fd);
	mcp_reader_free(rd);
	free(rd);
	return buf;
}

static void test_cancel_ahead(void **state)
{
	static const char *const p[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/"
		"call\",\"params\":"
		"{\"name\":\"get_credential\",\"arguments\":{\"passport_id\":"
		"\"" FK_PP "\",\"purpose\":\"p\"}}}\n",
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
		"\"params\":{\"requestId\":5,\"reason\":\"changed my "
		"mind\"}}\n",
		"{\"jsonrpc\":\"2.0\",\"id\":\"5\",\"method\":\"ping\"}\n"};
	struct mcp_server *s = *state;
	char *out;

	fk_init(s, "2025-11-25", "{}");
	/* Written together, read apart: what is there is read first. */
	out = serve(s, p, 3, 3);
	/* 5 was cancelled before it ran; "5" is another id. */
	assert_string_equal(
		out, "{\"jsonrpc\":\"2.0\",\"id\":\"5\",\"result\":{}}\n");
	assert_int_equal(fk.calls, 0);
	free(out);
}

/* initialize is never cancelled: its answer always comes. */
static void test_initialize_not_cancelled(void **state)
{
	static const char *const p[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
		"\"params\":"
		"{\"protocolVersion\":\"2025-06-18\"}}\n"
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
		"\"params\":{\"requestId\":1}}\n"
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\n"};
	struct mcp_server *s = *state;
	char *out = serve(s, p, 1, 1);

	assert_non_null(
		strstr(out, "\"id\":1,\"result\":{\"protocolVersion\""));
	assert_non_null(strstr(out, "\"id\":2,\"result\":{}"));
	assert_true(s->initialized);
	free(out);
}

static void test_cancel_while_waiting(void **state)
{
	static const char *const p[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/"
		"call\",\"params\":"
		"{\"name\":\"list_passports\"}}\n",
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
		"\"params\":{\"requestId\":5}}\n",
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\"}\n"};
	struct mcp_server *s = *state;
	char *out;

	fk_init(s, "2025-11-25", "{}");
	fk.pump_calls = 1; /* the cancellation arrives during the call */
	out = serve(s, p, 3, 1);
	assert_int_equal(fk.calls, 1);
	assert_int_equal(fk.watch_fd, 0);
	assert_string_equal(out,
			    "{\"jsonrpc\":\"2.0\",\"id\":6,\"result\":{}}\n");
	free(out);
}

static void test_eof_while_waiting(void **state)
{
	static const char *const p[] = {"{\"jsonrpc\":\"2.0\",\"id\":5,"
					"\"method\":\"tools/call\",\"params\":"
					"{\"name\":\"list_passports\"}}\n"};
	struct mcp_server *s = *state;
	char *out;

	fk_init(s, "2025-11-25", "{}");
	fk.pump_calls = 2; /* stdin closes while the agent is asked */
	out = serve(s, p, 1, 1);
	/* The agent's waits now end with the grace; this one was quick. */
	assert_true(fk.until != 0);
	assert_non_null(strstr(out, "\"id\":5,\"result\""));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_before_initialize,
						fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_revisions_shape, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_batches, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_modern, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_pagination, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_logging, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_wrong_types, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_ahead, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_initialize_not_cancelled,
						fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_while_waiting,
						fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_eof_while_waiting,
						fk_setup, fk_teardown),
	};

	/* As in idw-mcp: cJSON lives in the locked arena. */
	if (sodium_init() < 0 || idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		return 1;
	idw_arena_cjson_hooks();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
