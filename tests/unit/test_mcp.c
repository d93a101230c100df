/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "client/mcp_server.h"
#include "client/mcp_tools.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

/*
 * A backend that answers from a table by verb and remembers the last
 * request, standing in for the agent.
 */
static struct {
	bool unreachable;
	cJSON *last; /* the last request */
	int calls;
	const char *reply; /* overrides the table when set */
	const uint8_t *secret;
	size_t secret_len;
	char actor[128];
} tb;

static const struct {
	const char *verb;
	const char *reply;
} canned[] = {
	{"list",
	 "{\"ok\":true,\"passports\":[{\"id\":\"pp_0123456789abcdef\","
	 "\"name\":\"OpenAI Production\",\"credential_type\":\"api-key\","
	 "\"status\":\"active\",\"platforms\":[\"openai\"],"
	 "\"valid_until\":null,\"notes\":\"not listed\"},"
	 "{\"id\":\"pp_fedcba9876543210\",\"name\":\"Old\","
	 "\"credential_type\":\"password\",\"status\":\"revoked\","
	 "\"platforms\":[]}],\"next_cursor\":\"c2\"}"},
	{"show",
	 "{\"ok\":true,\"passport\":{\"id\":\"pp_0123456789abcdef\","
	 "\"name\":\"OpenAI Production\",\"credential_type\":\"api-key\","
	 "\"status\":\"active\"}}"},
	{"get", "{\"ok\":true,\"passport\":{\"id\":\"pp_0123456789abcdef\","
		"\"name\":\"OpenAI \\\"Prod\\\"\"}}"},
	{"check_policy", "{\"ok\":true,\"allowed\":false,\"effect\":\"deny\","
			 "\"violations\":[{\"rule\":\"require-human-owner\","
			 "\"effect\":\"deny\",\"message\":\"no owner\"}]}"},
	{"request_access", "{\"ok\":true,\"approved\":false,\"status\":"
			   "\"pending\",\"grant_id\":\"gr_00aa\",\"reason\":"
			   "\"privilege visa\",\"expires_at\":"
			   "\"2026-11-23T19:00:00Z\"}"},
	{"suspend", "{\"ok\":true,\"passport\":{\"id\":\"pp_0123456789abcdef\","
		    "\"status\":\"suspended\"}}"},
	{"audit", "{\"ok\":true,\"entries\":[{\"seq\":7,\"action\":\"access\","
		  "\"passport_id\":\"pp_0123456789abcdef\",\"purpose\":\"t\","
		  "\"result\":\"allowed\"}]}"},
};

static int tb_call(void *ctx, const cJSON *req, struct idwc_reply *rep)
{
	const char *verb = idw_json_str(req, "verb"), *text = tb.reply;

	(void)ctx;
	memset(rep, 0, sizeof(*rep));
	tb.calls++;
	cJSON_Delete(tb.last);
	tb.last = cJSON_Duplicate(req, 1);
	if (tb.unreachable)
		return IDW_EAGENT;
	for (size_t i = 0; text == NULL && i < sizeof(canned) / sizeof(*canned);
	     i++)
		if (strcmp(canned[i].verb, verb) == 0)
			text = canned[i].reply;
	assert_non_null(text);
	rep->json = cJSON_Parse(text);
	assert_non_null(rep->json);
	rep->ok = idw_json_bool(rep->json, "ok", false);
	if (!rep->ok) {
		rep->err = idw_err_from_name(idw_json_str(rep->json, "code"));
		rep->message = idw_json_str(rep->json, "message");
	}
	if (strcmp(verb, "get") == 0 && rep->ok && tb.secret != NULL) {
		rep->secret = sodium_malloc(tb.secret_len + 1);
		memcpy(rep->secret, tb.secret, tb.secret_len);
		rep->secret_len = tb.secret_len;
	}
	return 0;
}

static const char *tb_why(void *ctx)
{
	(void)ctx;
	return "The idw agent could not be reached: test. Try again.";
}

static void tb_set_actor(void *ctx, const char *actor)
{
	(void)ctx;
	snprintf(tb.actor, sizeof(tb.actor), "%s", actor);
}

static const struct mcp_backend tb_backend = {
	.call = tb_call, .why = tb_why, .set_actor = tb_set_actor};

static size_t arena_in_use(void)
{
	struct idw_arena_stats st;

	idw_arena_stats(&st);
	return st.in_use;
}

static size_t arena_before;

static void init_with(struct mcp_server *s, const char *version);

static int setup(void **state)
{
	static struct mcp_server s;

	arena_before = arena_in_use();
	memset(&tb, 0, sizeof(tb));
	mcp_server_init(&s, &tb_backend, NULL);
	init_with(&s, "2025-11-25");
	*state = &s;
	return 0;
}

/* A server that has not seen initialize. */
static int setup_fresh(void **state)
{
	static struct mcp_server s;

	arena_before = arena_in_use();
	memset(&tb, 0, sizeof(tb));
	mcp_server_init(&s, &tb_backend, NULL);
	*state = &s;
	return 0;
}

static int teardown(void **state)
{
	mcp_server_free(*state);
	cJSON_Delete(tb.last);
	tb.last = NULL;
	/* Every cJSON object lives in the arena: none may be left over. */
	assert_int_equal(arena_in_use(), arena_before);
	return 0;
}

/* Handle one line; the answer as a NUL-terminated copy ("" for none). */
static char *run_n(struct mcp_server *s, const char *line, size_t len)
{
	struct idw_buf out;
	char *copy;

	idw_buf_init(&out, MCP_OUT_MAX, IDW_BUF_SECURE);
	assert_int_equal(mcp_handle_line(s, line, len, &out), 0);
	copy = calloc(1, out.len + 1);
	assert_non_null(copy);
	if (out.len)
		memcpy(copy, out.d, out.len);
	idw_buf_free(&out);
	return copy;
}

static char *run(struct mcp_server *s, const char *line)
{
	return run_n(s, line, strlen(line));
}

/* Handle one line that must produce exactly one answer line. */
static cJSON *run_json(struct mcp_server *s, const char *line)
{
	char *txt = run(s, line);
	size_t n = strlen(txt);
	cJSON *j;

	assert_true(n > 1);
	assert_int_equal(txt[n - 1], '\n');
	assert_null(memchr(txt, '\n', n - 1));
	j = idw_json_parse(txt, n);
	assert_non_null(j);
	assert_string_equal(idw_json_str(j, "jsonrpc"), "2.0");
	free(txt);
	return j;
}

static int error_code(const cJSON *j)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

	assert_non_null(e);
	assert_null(cJSON_GetObjectItemCaseSensitive(j, "result"));
	return (int)idw_json_int(e, "code", 0);
}

static void expect_error(struct mcp_server *s, const char *line, int code,
			 bool null_id)
{
	cJSON *j = run_json(s, line);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");

	assert_int_equal(error_code(j), code);
	assert_non_null(id);
	assert_true(cJSON_IsNull(id) == null_id);
	cJSON_Delete(j);
}

static const cJSON *result_of(const cJSON *j)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "result");

	assert_non_null(r);
	return r;
}

static void init_with(struct mcp_server *s, const char *version)
{
	char line[256];
	cJSON *j;

	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\","
		 "\"params\":{\"protocolVersion\":\"%s\",\"capabilities\":{},"
		 "\"clientInfo\":{\"name\":\"tester\",\"version\":\"9\"}}}",
		 version);
	j = run_json(s, line);
	cJSON_Delete(j);
}

static void test_initialize_negotiates(void **state)
{
	static const char *const known[] = {"2024-11-05", "2025-03-26",
					    "2025-06-18", "2025-11-25"};
	static const char *const unknown[] = {"1999-01-01", "2026-07-28", ""};
	struct mcp_server *s = *state;
	const cJSON *r, *caps, *si;
	char line[256];
	cJSON *j;

	for (size_t i = 0; i < 4 + 3; i++) {
		const char *v = i < 4 ? known[i] : unknown[i - 4];

		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":"
			 "\"initialize\",\"params\":{\"protocolVersion\":"
			 "\"%s\",\"capabilities\":{},\"clientInfo\":{"
			 "\"name\":\"tester\",\"version\":\"9\"}}}",
			 i, v);
		j = run_json(s, line);
		r = result_of(j);
		assert_string_equal(idw_json_str(r, "protocolVersion"),
				    i < 4 ? v : "2025-11-25");
		caps = cJSON_GetObjectItemCaseSensitive(r, "capabilities");
		assert_true(cJSON_IsObject(
			cJSON_GetObjectItemCaseSensitive(caps, "tools")));
		assert_true(cJSON_IsObject(
			cJSON_GetObjectItemCaseSensitive(caps, "resources")));
		si = cJSON_GetObjectItemCaseSensitive(r, "serverInfo");
		assert_string_equal(idw_json_str(si, "name"), "idw-mcp");
		assert_non_null(idw_json_str(si, "version"));
		assert_non_null(
			strstr(idw_json_str(r, "instructions"), "purpose"));
		assert_non_null(strstr(idw_json_str(r, "instructions"),
				       "check_policy"));
		assert_non_null(
			strstr(idw_json_str(r, "instructions"), "person"));
		cJSON_Delete(j);
	}
	assert_string_equal(tb.actor, "tester 9");
	assert_int_equal(tb.calls, 0); /* initialize never waits on the agent */
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
		     "\"params\":{}}",
		     MCP_INVALID_PARAMS, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\","
		     "\"params\":{\"protocolVersion\":5}}",
		     MCP_INVALID_PARAMS, false);
}

static void test_ping(void **state)
{
	cJSON *j = run_json(*state, "{\"jsonrpc\":\"2.0\",\"id\":\"p\","
				    "\"method\":\"ping\"}");
	const cJSON *r = result_of(j);

	assert_true(cJSON_IsObject(r));
	assert_null(r->child);
	assert_string_equal(idw_json_str(j, "id"), "p");
	cJSON_Delete(j);
}

static void test_notifications_silent(void **state)
{
	struct mcp_server *s = *state;
	static const char *const lines[] = {
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
		"initialized\"}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\","
		"\"params\":{\"requestId\":3}}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"no/such/thing\"}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\",\"params\":{"
		"\"name\":\"get_credential\",\"arguments\":{\"passport_id\":"
		"\"pp_0123456789abcdef\",\"purpose\":\"x\"}}}",
		"{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":[1]}",
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"result\":{}}",
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"error\":{\"code\":1,"
		"\"message\":\"x\"}}",
		"",
		"   \r",
	};
	char *out;

	assert_false(s->ready);
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		out = run(s, lines[i]);
		assert_string_equal(out, "");
		free(out);
	}
	assert_true(s->ready);
	assert_int_equal(tb.calls, 0);
}

static const cJSON *tool_named(const cJSON *tools, const char *name)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, tools)
	{
		if (strcmp(idw_json_str(t, "name"), name) == 0)
			return t;
	}
	fail_msg("no tool %s", name);
	return NULL;
}

static void test_tools_list(void **state)
{
	static const char *const names[] = {"list_passports", "get_credential",
					    "request_access", "check_policy",
					    "revoke_passport"};
	cJSON *j = run_json(*state, "{\"jsonrpc\":\"2.0\",\"id\":2,"
				    "\"method\":\"tools/list\"}");
	const cJSON *tools =
		cJSON_GetObjectItemCaseSensitive(result_of(j), "tools");
	const cJSON *t, *req, *ann;
	bool purpose = false;

	assert_int_equal(cJSON_GetArraySize(tools), 5);
	for (size_t i = 0; i < 5; i++) {
		t = tool_named(tools, names[i]);
		assert_non_null(idw_json_str(t, "title"));
		assert_non_null(idw_json_str(t, "description"));
		assert_string_equal(
			idw_json_str(cJSON_GetObjectItemCaseSensitive(
					     t, "inputSchema"),
				     "type"),
			"object");
		assert_string_equal(
			idw_json_str(cJSON_GetObjectItemCaseSensitive(
					     t, "outputSchema"),
				     "type"),
			"object");
		ann = cJSON_GetObjectItemCaseSensitive(t, "annotations");
		assert_true(cJSON_IsObject(ann));
		assert_int_equal(idw_json_bool(ann, "readOnlyHint", false),
				 i == 0 || i == 1 || i == 3);
		assert_int_equal(idw_json_bool(ann, "destructiveHint", false),
				 i == 4);
	}
	t = tool_named(tools, "get_credential");
	req = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(t, "inputSchema"), "required");
	cJSON_ArrayForEach(t, req)
	{
		if (strcmp(t->valuestring, "purpose") == 0)
			purpose = true;
	}
	assert_true(purpose);
	cJSON_Delete(j);
}

static void test_protocol_errors(void **state)
{
	struct mcp_server *s = *state;
	char *big;
	size_t n;

	expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,", MCP_PARSE_ERROR,
		     true);
	expect_error(s, "not json", MCP_PARSE_ERROR, true);
	expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"} x",
		     MCP_PARSE_ERROR, true);
	expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\x01\"}",
		     MCP_PARSE_ERROR, true);
	expect_error(s, "[]", MCP_INVALID_REQUEST, true);
	expect_error(s,
		     "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
		     "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]",
		     MCP_INVALID_REQUEST, true);
	expect_error(s, "42", MCP_INVALID_REQUEST, true);
	expect_error(s, "\"ping\"", MCP_INVALID_REQUEST, true);
	expect_error(s, "{\"id\":1,\"method\":\"ping\"}", MCP_INVALID_REQUEST,
		     false);
	expect_error(s, "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}",
		     MCP_INVALID_REQUEST, false);
	expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":7}",
		     MCP_INVALID_REQUEST, false);
	expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":1}", MCP_INVALID_REQUEST,
		     false);
	expect_error(s, "{\"jsonrpc\":\"2.0\",\"method\":7}",
		     MCP_INVALID_REQUEST, true);
	expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}",
		     MCP_INVALID_REQUEST, true);
	expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":true,\"method\":\"ping\"}",
		     MCP_INVALID_REQUEST, true);
	expect_error(s, "{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}",
		     MCP_INVALID_REQUEST, true);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
		     "\"params\":3}",
		     MCP_INVALID_REQUEST, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
		     "\"params\":[]}",
		     MCP_INVALID_PARAMS, false);
	expect_error(
		s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\"}",
		MCP_METHOD_NOT_FOUND, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		     "\"resources/subscribe\",\"params\":{\"uri\":\"x\"}}",
		     MCP_METHOD_NOT_FOUND, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		     "\"params\":{\"name\":\"delete_everything\"}}",
		     MCP_INVALID_PARAMS, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		     "\"params\":{}}",
		     MCP_INVALID_PARAMS, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\"}",
		     MCP_INVALID_PARAMS, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		     "\"params\":{\"name\":\"list_passports\",\"arguments\":"
		     "[1]}}",
		     MCP_INVALID_PARAMS, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		     "\"resources/read\",\"params\":{}}",
		     MCP_INVALID_PARAMS, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		     "\"resources/read\",\"params\":{\"uri\":\"file:///etc/"
		     "passwd\"}}",
		     MCP_RESOURCE_NOT_FOUND, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		     "\"resources/read\",\"params\":{\"uri\":\"passport://"
		     "../x\"}}",
		     MCP_RESOURCE_NOT_FOUND, false);

	/* Too many values for one message. */
	n = 3 * (MCP_MAX_VALUES + 1) + 64;
	big = malloc(n);
	assert_non_null(big);
	strcpy(big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
		    "\"params\":{\"a\":[1");
	for (size_t i = 0, at = strlen(big); i < MCP_MAX_VALUES; i++, at += 2)
		memcpy(big + at, ",1", 3);
	strcat(big, "]}}");
	expect_error(s, big, MCP_INVALID_REQUEST, true);
	free(big);
	assert_int_equal(tb.calls, 0);
}

static void test_argument_errors_by_revision(void **state)
{
	static const char *const calls[] = {
		/* missing purpose */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		"\"params\":{\"name\":\"get_credential\",\"arguments\":{"
		"\"passport_id\":\"pp_0123456789abcdef\"}}}",
		/* wrong type */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		"\"params\":{\"name\":\"get_credential\",\"arguments\":{"
		"\"passport_id\":5,\"purpose\":\"x\"}}}",
		/* empty purpose */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		"\"params\":{\"name\":\"get_credential\",\"arguments\":{"
		"\"passport_id\":\"pp_0123456789abcdef\",\"purpose\":\"\"}}}",
		/* not in the enum */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		"\"params\":{\"name\":\"list_passports\",\"arguments\":{"
		"\"status\":\"deleted\"}}}",
		/* an item of the wrong type */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		"\"params\":{\"name\":\"request_access\",\"arguments\":{"
		"\"passport_id\":\"pp_0123456789abcdef\",\"purpose\":\"x\","
		"\"scope\":[\"a\",3]}}}",
		/* missing reason */
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\","
		"\"params\":{\"name\":\"revoke_passport\",\"arguments\":{"
		"\"passport_id\":\"pp_0123456789abcdef\"}}}",
	};
	struct mcp_server *s = *state;
	cJSON *j;

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		init_with(s, "2025-06-18");
		expect_error(s, calls[i], MCP_INVALID_PARAMS, false);
		init_with(s, "2025-11-25");
		j = run_json(s, calls[i]);
		assert_true(idw_json_bool(result_of(j), "isError", false));
		assert_null(cJSON_GetObjectItemCaseSensitive(
			result_of(j), "structuredContent"));
		cJSON_Delete(j);
	}
	assert_int_equal(tb.calls, 0);
}

/* The answer's raw text starts with this id, byte for byte. */
static void expect_raw_id(struct mcp_server *s, const char *id)
{
	char line[256], want[128];
	char *out;

	snprintf(line, sizeof(line),
		 "{ \"method\" : \"ping\", \"params\":{\"id\":99},"
		 " \"id\" : %s , \"jsonrpc\":\"2.0\"}",
		 id);
	snprintf(want, sizeof(want), "{\"jsonrpc\":\"2.0\",\"id\":%s,", id);
	out = run(s, line);
	assert_memory_equal(out, want, strlen(want));
	free(out);
}

static void test_ids_echoed(void **state)
{
	struct mcp_server *s = *state;

	expect_raw_id(s, "7");
	expect_raw_id(s, "0");
	expect_raw_id(s, "-3");
	expect_raw_id(s, "1.5");
	expect_raw_id(s, "1e3");
	expect_raw_id(s, "12345678901234567890");
	expect_raw_id(s, "9007199254740993");
	expect_raw_id(s, "\"abc\"");
	expect_raw_id(s, "\"\"");
	expect_raw_id(s, "\"with \\\"quotes\\\" and \\\\\"");
	expect_raw_id(s, "\"\xc3\xa9t\xc3\xa9\"");
	/* An error keeps the id too. */
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":\"x\",\"method\":\"nope\"}",
		     MCP_METHOD_NOT_FOUND, false);
}

static void test_invalid_utf8(void **state)
{
	struct mcp_server *s = *state;
	cJSON *j;

	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
		     "\"params\":{\"x\":\"\xff\"}}",
		     MCP_PARSE_ERROR, true);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
		     "\"params\":{\"x\":\"\xed\xa0\x80\"}}",
		     MCP_PARSE_ERROR, true);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\","
		     "\"params\":{\"x\":\"\xc0\xaf\"}}",
		     MCP_PARSE_ERROR, true);
	/* And the server goes on. */
	j = run_json(s, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
	assert_int_equal(idw_json_int(j, "id", 0), 2);
	cJSON_Delete(j);
}

/* A reader over a scripted stream, in small chunks. */
struct script {
	const char *const *parts; /* "\x01N" means N bytes of 'x' */
	size_t nparts, part, off;
	size_t max_chunk;
};

static size_t part_len(const char *p)
{
	return p[0] == '\x01' ? (size_t)strtoul(p + 1, NULL, 10) : strlen(p);
}

static ssize_t script_read(void *ctx, void *p, size_t n, int timeout_ms)
{
	struct script *sc = ctx;
	const char *cur;
	size_t left;

	(void)timeout_ms;
	while (sc->part < sc->nparts &&
	       sc->off == part_len(sc->parts[sc->part])) {
		sc->part++;
		sc->off = 0;
	}
	if (sc->part == sc->nparts)
		return 0;
	cur = sc->parts[sc->part];
	left = part_len(cur) - sc->off;
	if (n > left)
		n = left;
	if (n > sc->max_chunk)
		n = sc->max_chunk;
	if (cur[0] == '\x01')
		memset(p, 'x', n);
	else
		memcpy(p, cur + sc->off, n);
	sc->off += n;
	return (ssize_t)n;
}

static void test_reader_long_lines(void **state)
{
	static char exact[MCP_LINE_MAX + 1];
	const char *head = "{\"jsonrpc\":\"2.0\",\"id\":\"exact\",\"method\":"
			   "\"ping\",\"params\":{\"pad\":\"";
	const char *parts[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
		"\x01"
		"2097152", /* 2 MiB line */
		"\n{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}\r\n",
		"{\"jsonrpc\":\"2.0\",\"id\":3,",
		"\"method\":\"ping\"}\n",
		exact,
		"\n",
		"\x01"
		"1048577", /* one byte over */
		"\n",
		"\x01"
		"1500000", /* over the limit and no newline at EOF */
	};
	struct script sc = {parts, sizeof(parts) / sizeof(parts[0]), 0, 0,
			    7000};
	struct mcp_reader *rd = malloc(sizeof(*rd));
	struct mcp_server *s = *state;
	struct idw_buf out;
	const char *line;
	size_t len, i;
	int r, kinds[16], nk = 0;

	/* A line of exactly MCP_LINE_MAX bytes is still served. */
	memset(exact, ' ', MCP_LINE_MAX);
	memcpy(exact, head, strlen(head));
	memcpy(exact + MCP_LINE_MAX - 4, "\"}} ", 4);
	exact[MCP_LINE_MAX] = '\0';
	for (i = strlen(head); i < MCP_LINE_MAX - 4; i++)
		exact[i] = 'y';

	assert_non_null(rd);
	mcp_reader_init(rd, script_read, &sc);
	idw_buf_init(&out, MCP_OUT_MAX, IDW_BUF_SECURE);
	while ((r = mcp_reader_next(rd, -1, &line, &len)) != MCP_READ_EOF) {
		assert_true(r == MCP_READ_LINE || r == MCP_READ_TOO_LONG);
		assert_true(nk < 16);
		kinds[nk++] = r;
		/* Never more than one line's worth held. */
		assert_true(rd->line.cap <= MCP_LINE_MAX);
		assert_true(rd->in.cap <= MCP_INPUT_MAX);
		if (r == MCP_READ_TOO_LONG)
			assert_int_equal(mcp_reply_too_long(&out), 0);
		else
			assert_int_equal(mcp_handle_line(s, line, len, &out),
					 0);
	}
	assert_int_equal(nk, 7);
	assert_int_equal(kinds[0], MCP_READ_LINE);
	assert_int_equal(kinds[1], MCP_READ_TOO_LONG);
	assert_int_equal(kinds[2], MCP_READ_LINE);
	assert_int_equal(kinds[3], MCP_READ_LINE);
	assert_int_equal(kinds[4], MCP_READ_LINE);
	assert_int_equal(kinds[5], MCP_READ_TOO_LONG);
	assert_int_equal(kinds[6], MCP_READ_TOO_LONG);
	assert_int_equal(idw_buf_put_u8(&out, '\0'), 0);
	assert_string_equal(
		(const char *)out.d,
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
		"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
		"\"message\":\"Invalid Request: message longer than 1 MiB "
		"discarded\"}}\n"
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n"
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}\n"
		"{\"jsonrpc\":\"2.0\",\"id\":\"exact\",\"result\":{}}\n"
		"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
		"\"message\":\"Invalid Request: message longer than 1 MiB "
		"discarded\"}}\n"
		"{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,"
		"\"message\":\"Invalid Request: message longer than 1 MiB "
		"discarded\"}}\n");
	idw_buf_free(&out);
	mcp_reader_free(rd);
	free(rd);
}

/* mcp_serve: the loop idw-mcp runs, over a file, to EOF. */
static void test_serve_to_eof(void **state)
{
	const char *parts[] = {
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n",
		"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
		"initialized\"}\n",
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}",
	};
	struct script sc = {parts, 3, 0, 0, 5};
	struct mcp_reader *rd = malloc(sizeof(*rd));
	char buf[256];
	int fd = memfd_create("mcp-out", 0);
	ssize_t n;

	assert_true(fd >= 0);
	assert_non_null(rd);
	mcp_reader_init(rd, script_read, &sc);
	assert_int_equal(mcp_serve(*state, rd, -1, fd), 0);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf,
			    "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n"
			    "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n");
	close(fd);
	mcp_reader_free(rd);
	free(rd);
}

static const char get_line[] =
	"{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"tools/call\",\"params\":{"
	"\"name\":\"get_credential\",\"arguments\":{\"passport_id\":"
	"\"pp_0123456789abcdef\",\"purpose\":\"call the API\"}}}";

static void check_value(struct mcp_server *s, const uint8_t *v, size_t n)
{
	const cJSON *res, *sc, *c0;
	cJSON *j, *inner;
	const char *text;
	char *raw;

	tb.secret = v;
	tb.secret_len = n;
	raw = run(s, get_line);
	/* No marker is left behind (unless the value itself is one). */
	if (memmem(v, n, "@@idw-value-", 12) == NULL)
		assert_null(strstr(raw, "@@idw-value-"));
	assert_null(memchr(raw, '\n', strlen(raw) - 1));
	j = idw_json_parse(raw, strlen(raw));
	assert_non_null(j);
	res = result_of(j);
	assert_false(idw_json_bool(res, "isError", true));
	sc = cJSON_GetObjectItemCaseSensitive(res, "structuredContent");
	assert_true(idw_json_bool(sc, "success", false));
	assert_string_equal(idw_json_str(sc, "passport_name"),
			    "OpenAI \"Prod\"");
	assert_string_equal(idw_json_str(sc, "passport_id"),
			    "pp_0123456789abcdef");
	assert_int_equal(strlen(idw_json_str(sc, "credential")), n);
	assert_memory_equal(idw_json_str(sc, "credential"), v, n);
	c0 = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(res, "content"), 0);
	assert_string_equal(idw_json_str(c0, "type"), "text");
	text = idw_json_str(c0, "text");
	inner = idw_json_parse(text, strlen(text));
	assert_non_null(inner);
	assert_true(cJSON_Compare(inner, sc, true));
	assert_string_equal(idw_json_str(inner, "credential"),
			    idw_json_str(sc, "credential"));
	cJSON_Delete(inner);
	cJSON_Delete(j);
	sodium_memzero(raw, strlen(raw));
	free(raw);
	assert_string_equal(idw_json_str(tb.last, "verb"), "get");
	assert_string_equal(idw_json_str(tb.last, "purpose"), "call the API");
	tb.secret = NULL;
}

static void test_get_credential_escaping(void **state)
{
	static const char *const values[] = {
		"sk-plain-0123456789",
		"quote\" backslash\\ slash/ newline\n cr\r tab\t end",
		"\\\"\\n already escaped \\u0041 \\\\",
		"unicode: \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xae",
		"ctl \x01\x02\x1f\x7f and </script>",
		"{\"credential\":\"nested\"}",
		"@@idw-value-00000000000000000000000000000000@@",
		"x",
	};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		check_value(*state, (const uint8_t *)values[i],
			    strlen(values[i]));
}

static void test_get_credential_refusals(void **state)
{
	static const uint8_t binary[] = {0xff, 0xfe, 0x00, 0x41};
	struct mcp_server *s = *state;
	struct idw_buf plain;
	const cJSON *res;
	cJSON *j;
	char *txt;

	/* Not UTF-8: a tool error, never bytes on the wire. */
	tb.secret = binary;
	tb.secret_len = sizeof(binary);
	j = run_json(s, get_line);
	res = result_of(j);
	assert_true(idw_json_bool(res, "isError", false));
	assert_null(cJSON_GetObjectItemCaseSensitive(res, "structuredContent"));
	cJSON_Delete(j);

	/* A value is only ever written into locked memory. */
	tb.secret = (const uint8_t *)"sk-never-in-plain-memory";
	tb.secret_len = strlen((const char *)tb.secret);
	idw_buf_init(&plain, MCP_OUT_MAX, 0);
	assert_int_equal(mcp_handle_line(s, get_line, strlen(get_line), &plain),
			 0);
	assert_int_equal(idw_buf_put_u8(&plain, '\0'), 0);
	txt = (char *)plain.d;
	assert_null(strstr(txt, "sk-never"));
	assert_non_null(strstr(txt, "-32603"));
	assert_non_null(strstr(txt, "\"id\":11"));
	idw_buf_free(&plain);

	/* No secret segment in the reply. */
	tb.secret = NULL;
	j = run_json(s, get_line);
	assert_true(idw_json_bool(result_of(j), "isError", false));
	cJSON_Delete(j);
}

static const char *tool_text(const cJSON *j)
{
	const cJSON *c0 = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(result_of(j), "content"), 0);

	assert_string_equal(idw_json_str(c0, "type"), "text");
	return idw_json_str(c0, "text");
}

static void test_agent_failures(void **state)
{
	struct mcp_server *s = *state;
	cJSON *j;

	tb.unreachable = true;
	j = run_json(s, get_line);
	assert_true(idw_json_bool(result_of(j), "isError", false));
	assert_non_null(strstr(tool_text(j), "could not be reached"));
	cJSON_Delete(j);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		     "\"resources/list\"}",
		     MCP_INTERNAL_ERROR, false);
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		     "\"resources/read\",\"params\":{\"uri\":\"passport://"
		     "pp_0123456789abcdef\"}}",
		     MCP_INTERNAL_ERROR, false);
	tb.unreachable = false;

	tb.reply = "{\"ok\":false,\"code\":\"denied\",\"message\":\"denied by "
		   "rule require-human-owner\"}";
	j = run_json(s, get_line);
	assert_true(idw_json_bool(result_of(j), "isError", false));
	assert_non_null(strstr(tool_text(j), "require-human-owner"));
	assert_non_null(strstr(tool_text(j), "request_access"));
	cJSON_Delete(j);

	tb.reply = "{\"ok\":false,\"code\":\"locked\",\"message\":\"the agent "
		   "is locked\"}";
	j = run_json(s, get_line);
	assert_non_null(strstr(tool_text(j), "idw unlock"));
	cJSON_Delete(j);

	tb.reply = "{\"ok\":false,\"code\":\"not_found\",\"message\":\"no "
		   "such passport\"}";
	expect_error(s,
		     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
		     "\"resources/read\",\"params\":{\"uri\":\"audit://"
		     "pp_0123456789abcdef\"}}",
		     MCP_RESOURCE_NOT_FOUND, false);
	tb.reply = NULL;

	/* Still serving. */
	j = run_json(s, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}");
	cJSON_Delete(j);
}

/* A successful tool call: structuredContent, matching its text copy. */
static cJSON *call_tool(struct mcp_server *s, const char *name,
			const char *args)
{
	char line[1024];
	const cJSON *res, *sc;
	cJSON *j, *inner;
	const char *text;

	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":\"c\",\"method\":\"tools/call\","
		 "\"params\":{\"name\":\"%s\",\"arguments\":%s}}",
		 name, args);
	j = run_json(s, line);
	res = result_of(j);
	assert_false(idw_json_bool(res, "isError", true));
	sc = cJSON_GetObjectItemCaseSensitive(res, "structuredContent");
	assert_true(idw_json_bool(sc, "success", false));
	text = tool_text(j);
	inner = idw_json_parse(text, strlen(text));
	assert_true(cJSON_Compare(inner, sc, true));
	cJSON_Delete(inner);
	return j;
}

static const cJSON *structured(const cJSON *j)
{
	return cJSON_GetObjectItemCaseSensitive(result_of(j),
						"structuredContent");
}

static void test_tools_map_to_verbs(void **state)
{
	struct mcp_server *s = *state;
	const cJSON *sc, *p;
	cJSON *j;
	const char *msg;

	j = call_tool(s, "list_passports",
		      "{\"status\":\"active\",\"platform\":\"openai\"}");
	assert_string_equal(idw_json_str(tb.last, "verb"), "list");
	assert_string_equal(idw_json_str(tb.last, "status"), "active");
	assert_string_equal(idw_json_str(tb.last, "platform"), "openai");
	sc = structured(j);
	p = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(sc, "passports"), 0);
	assert_string_equal(idw_json_str(p, "id"), "pp_0123456789abcdef");
	assert_string_equal(idw_json_str(p, "credential_type"), "api-key");
	assert_null(cJSON_GetObjectItemCaseSensitive(p, "notes"));
	assert_string_equal(idw_json_str(sc, "next_cursor"), "c2");
	cJSON_Delete(j);

	j = call_tool(s, "list_passports", "{}");
	assert_null(cJSON_GetObjectItemCaseSensitive(tb.last, "status"));
	cJSON_Delete(j);

	j = call_tool(s, "check_policy",
		      "{\"passport_id\":\"pp_0123456789abcdef\"}");
	assert_string_equal(idw_json_str(tb.last, "verb"), "check_policy");
	assert_string_equal(idw_json_str(tb.last, "id"), "pp_0123456789abcdef");
	assert_string_equal(idw_json_str(tb.last, "action"), "access");
	sc = structured(j);
	assert_false(idw_json_bool(sc, "allowed", true));
	assert_string_equal(idw_json_str(sc, "effect"), "deny");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 sc, "violations")),
			 1);
	cJSON_Delete(j);

	j = call_tool(s, "request_access",
		      "{\"passport_id\":\"pp_0123456789abcdef\",\"purpose\":"
		      "\"deploy\",\"scope\":[\"repo.read\"]}");
	assert_string_equal(idw_json_str(tb.last, "verb"), "request_access");
	assert_string_equal(
		cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(tb.last, "scope"), 0)
			->valuestring,
		"repo.read");
	sc = structured(j);
	assert_false(idw_json_bool(sc, "approved", true));
	assert_string_equal(idw_json_str(sc, "status"), "pending");
	assert_string_equal(idw_json_str(sc, "grant_id"), "gr_00aa");
	assert_non_null(
		strstr(idw_json_str(sc, "message"), "idw approve gr_00aa"));
	cJSON_Delete(j);

	j = call_tool(s, "revoke_passport",
		      "{\"passport_id\":\"pp_0123456789abcdef\",\"reason\":"
		      "\"leaked'; rm -rf ~; echo '\"}");
	assert_string_equal(idw_json_str(tb.last, "verb"), "suspend");
	assert_string_equal(idw_json_str(tb.last, "reason"),
			    "leaked'; rm -rf ~; echo '");
	sc = structured(j);
	assert_string_equal(idw_json_str(sc, "status"), "suspended");
	msg = idw_json_str(sc, "message");
	assert_non_null(strstr(msg, "idw revoke pp_0123456789abcdef --reason"));
	assert_non_null(strstr(msg, "idw resume pp_0123456789abcdef"));
	assert_null(strstr(msg, "rm -rf"));
	cJSON_Delete(j);
}

/* Every tool's structuredContent satisfies its own outputSchema. */
static void test_results_match_output_schemas(void **state)
{
	static const char *const calls[][2] = {
		{"list_passports", "{}"},
		{"get_credential", "{\"passport_id\":\"pp_0123456789abcdef\","
				   "\"purpose\":\"p\"}"},
		{"request_access", "{\"passport_id\":\"pp_0123456789abcdef\","
				   "\"purpose\":\"p\"}"},
		{"check_policy", "{\"passport_id\":\"pp_0123456789abcdef\"}"},
		{"revoke_passport", "{\"passport_id\":\"pp_0123456789abcdef\","
				    "\"reason\":\"r\"}"},
	};
	struct mcp_server *s = *state;
	cJSON *list, *j;
	const cJSON *tools;
	char why[256];

	tb.secret = (const uint8_t *)"sk-1";
	tb.secret_len = 4;
	list = run_json(s, "{\"jsonrpc\":\"2.0\",\"id\":2,"
			   "\"method\":\"tools/list\"}");
	tools = cJSON_GetObjectItemCaseSensitive(result_of(list), "tools");
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const cJSON *t = tool_named(tools, calls[i][0]);

		j = call_tool(s, calls[i][0], calls[i][1]);
		assert_int_equal(
			mcp_schema_check(cJSON_GetObjectItemCaseSensitive(
						 t, "outputSchema"),
					 structured(j), why, sizeof(why)),
			0);
		cJSON_Delete(j);
	}
	cJSON_Delete(list);
	tb.secret = NULL;
}

static void test_resources(void **state)
{
	struct mcp_server *s = *state;
	const cJSON *r, *c0;
	cJSON *j, *doc;
	const char *text;

	j = run_json(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			"\"resources/templates/list\"}");
	r = cJSON_GetObjectItemCaseSensitive(result_of(j), "resourceTemplates");
	assert_int_equal(cJSON_GetArraySize(r), 2);
	assert_string_equal(
		idw_json_str(cJSON_GetArrayItem(r, 0), "uriTemplate"),
		"passport://{id}");
	assert_string_equal(
		idw_json_str(cJSON_GetArrayItem(r, 1), "uriTemplate"),
		"audit://{passport_id}");
	cJSON_Delete(j);

	j = run_json(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			"\"resources/list\",\"params\":{\"cursor\":\"c1\"}}");
	assert_string_equal(idw_json_str(tb.last, "cursor"), "c1");
	r = cJSON_GetObjectItemCaseSensitive(result_of(j), "resources");
	assert_int_equal(cJSON_GetArraySize(r), 2);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(r, 0), "uri"),
			    "passport://pp_0123456789abcdef");
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(r, 0), "name"),
			    "OpenAI Production");
	assert_string_equal(idw_json_str(result_of(j), "nextCursor"), "c2");
	cJSON_Delete(j);

	j = run_json(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			"\"resources/read\",\"params\":{\"uri\":\"passport://"
			"pp_0123456789abcdef\"}}");
	assert_string_equal(idw_json_str(tb.last, "verb"), "show");
	assert_string_equal(idw_json_str(tb.last, "id"), "pp_0123456789abcdef");
	c0 = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(result_of(j), "contents"), 0);
	assert_string_equal(idw_json_str(c0, "uri"),
			    "passport://pp_0123456789abcdef");
	assert_string_equal(idw_json_str(c0, "mimeType"), "application/json");
	text = idw_json_str(c0, "text");
	doc = idw_json_parse(text, strlen(text));
	assert_string_equal(idw_json_str(doc, "name"), "OpenAI Production");
	cJSON_Delete(doc);
	cJSON_Delete(j);

	j = run_json(s, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
			"\"resources/read\",\"params\":{\"uri\":\"audit://"
			"pp_0123456789abcdef\"}}");
	assert_string_equal(idw_json_str(tb.last, "verb"), "audit");
	assert_string_equal(idw_json_str(tb.last, "id"), "pp_0123456789abcdef");
	c0 = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(result_of(j), "contents"), 0);
	text = idw_json_str(c0, "text");
	doc = idw_json_parse(text, strlen(text));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				 doc, "entries")),
			 1);
	assert_string_equal(idw_json_str(doc, "passport_id"),
			    "pp_0123456789abcdef");
	cJSON_Delete(doc);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initialize_negotiates,
						setup_fresh, teardown),
		cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifications_silent,
						setup_fresh, teardown),
		cmocka_unit_test_setup_teardown(test_tools_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_protocol_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_argument_errors_by_revision, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_echoed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_invalid_utf8, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reader_long_lines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_serve_to_eof, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_get_credential_escaping,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_credential_refusals,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_failures, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tools_map_to_verbs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_results_match_output_schemas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resources, setup,
						teardown),
	};

	/* As in idw-mcp: cJSON lives in the locked arena. */
	if (sodium_init() < 0 || idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		return 1;
	idw_arena_cjson_hooks();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
