/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/idwtime.h"
#include "mcp_fake.h"

/*
 * Approval by a person inside the MCP client: elicitation/create on the
 * handshake revisions, the input_required round trip of 2026-07-28, and
 * the tool error naming 'idw approve' whenever it cannot ask.
 */

#define GET(id)                                                                \
	"{\"jsonrpc\":\"2.0\",\"id\":" id ",\"method\":\"tools/call\","        \
	"\"params\":{\"name\":\"get_credential\",\"arguments\":{"              \
	"\"passport_id\":\"" FK_PP "\",\"purpose\":\"deploy\"}}}"
#define ELICIT_CAPS "{\"elicitation\":{}}"

static char *answer_line(const char *ask_id, const char *result)
{
	static char line[512];

	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"result\":%s}", ask_id,
		 result);
	return line;
}

/* get_credential, asked about: the elicitation/create request's id. */
static const char *ask(struct mcp_server *s, const char *line)
{
	static char id[64];
	const cJSON *p, *sch;
	const char *msg;
	cJSON *j = fk_one(s, line);

	assert_string_equal(idw_json_str(j, "method"), "elicitation/create");
	snprintf(id, sizeof(id), "%s", idw_json_str(j, "id"));
	p = cJSON_GetObjectItem(j, "params");
	msg = idw_json_str(p, "message");
	/* The grant as the person must see it; untrusted text escaped. */
	assert_non_null(strstr(msg, "OpenAI Production"));
	assert_non_null(strstr(msg, "prod/openai"));
	assert_non_null(strstr(msg, "sensitive"));
	assert_non_null(strstr(msg, FK_GRANT));
	assert_non_null(strstr(msg, "\\x07"));
	assert_null(strchr(msg, '\a'));
	assert_null(strstr(msg, "\xe2\x80\xae"));
	sch = cJSON_GetObjectItem(p, "requestedSchema");
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(
				     cJSON_GetObjectItem(sch, "properties"),
				     "approve"),
			     "type"),
		"boolean");
	assert_null(cJSON_GetObjectItem(p, "mode"));
	cJSON_Delete(j);
	return id;
}

static void test_legacy_accept(void **state)
{
	struct mcp_server *s = *state;
	const char *id;
	cJSON *j, *all;

	fk_init(s, "2025-06-18", ELICIT_CAPS);
	fk.pending = fk.elicit_on = true;
	id = ask(s, GET("11"));
	assert_string_equal(id, "idw-elicit-1");
	assert_true(mcp_server_deadline(s) != 0);
	/* Other requests are served while the call waits. */
	j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":12,\"method\":\"ping\"}");
	assert_int_equal(idw_json_int(j, "id", 0), 12);
	cJSON_Delete(j);
	all = fk_lines(s, answer_line(id, "{\"action\":\"accept\",\"content\":"
					  "{\"approve\":true}}"));
	assert_int_equal(cJSON_GetArraySize(all), 1);
	j = cJSON_GetArrayItem(all, 0);
	assert_int_equal(idw_json_int(j, "id", 0), 11);
	assert_string_equal(
		idw_json_str(
			cJSON_GetObjectItem(fk_result(j), "structuredContent"),
			"credential"),
		"sk-fake1");
	cJSON_Delete(all);
	assert_string_equal(fk.answer, "accept");
	assert_string_equal(idw_json_str(fk_req(1), "verb"),
			    "elicitation_answer");
	assert_string_equal(idw_json_str(fk_req(1), "id"), FK_GRANT);
	assert_string_equal(idw_json_str(fk_req(0), "verb"), "get");
	assert_int_equal(mcp_server_deadline(s), 0);
	/* A second answer to the same question finds nothing waiting. */
	all = fk_lines(s, answer_line(id, "{\"action\":\"accept\"}"));
	assert_int_equal(cJSON_GetArraySize(all), 0);
	cJSON_Delete(all);
}

/* Every answer but a ticked accept denies, and says so. */
static void test_legacy_refusals(void **state)
{
	static const struct {
		const char *result;
		const char *answer;
		const char *says;
	} cases[] = {
		{"{\"action\":\"accept\",\"content\":{\"approve\":false}}",
		 "decline", "declined"},
		{"{\"action\":\"accept\"}", "decline", "declined"},
		{"{\"action\":\"decline\"}", "decline", "declined"},
		{"{\"action\":\"cancel\"}", "cancel", "did not answer"},
		{"{\"action\":\"maybe\"}", "cancel", "did not answer"},
	};
	struct mcp_server *s = *state;
	cJSON *j;

	fk_init(s, "2025-11-25", ELICIT_CAPS);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *id;

		fk.pending = fk.elicit_on = true;
		id = ask(s, GET("11"));
		j = fk_one(s, answer_line(id, cases[i].result));
		assert_true(idw_json_bool(fk_result(j), "isError", false));
		assert_non_null(strstr(fk_text(j), cases[i].says));
		assert_string_equal(fk.answer, cases[i].answer);
		cJSON_Delete(j);
	}
	/* The client answered with an error: it could not ask. */
	fk.pending = true;
	{
		const char *id = ask(s, GET("13"));
		char line[256];

		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":\"%s\",\"error\":{"
			 "\"code\":-32601,\"message\":\"no\"}}",
			 id);
		j = fk_one(s, line);
		assert_true(idw_json_bool(fk_result(j), "isError", false));
		assert_string_equal(fk.answer, "unsupported");
		cJSON_Delete(j);
	}
	/* The person switched it off meanwhile: the agent says how. */
	fk.pending = fk.elicit_on = true;
	{
		const char *id = ask(s, GET("14"));

		fk.elicit_on = false;
		j = fk_one(s, answer_line(id, "{\"action\":\"accept\","
					      "\"content\":{\"approve\":"
					      "true}}"));
		assert_true(idw_json_bool(fk_result(j), "isError", false));
		assert_non_null(strstr(fk_text(j), "idw approve " FK_GRANT));
		cJSON_Delete(j);
	}
}

/* When it cannot ask, the tool error names the exact command. */
static void expect_command(struct mcp_server *s)
{
	cJSON *j = fk_one(s, GET("21"));
	const char *t;

	assert_true(idw_json_bool(fk_result(j), "isError", false));
	t = fk_text(j);
	assert_non_null(strstr(t, "(pending)"));
	assert_non_null(strstr(t, "'idw approve " FK_GRANT "'"));
	cJSON_Delete(j);
	assert_string_equal(fk.answer, "");
}

static void test_not_asked(void **state)
{
	struct mcp_server *s = *state;

	fk.pending = true;
	fk.elicit_on = true;
	fk_init(s, "2025-11-25", "{}"); /* the client cannot */
	expect_command(s);
	fk_init(s, "2025-11-25", "{\"elicitation\":{\"url\":{}}}");
	expect_command(s);
	fk_init(s, "2025-03-26", ELICIT_CAPS); /* the revision cannot */
	expect_command(s);
	fk_init(s, "2025-11-25", ELICIT_CAPS);
	fk.elicit_on = false; /* the person did not switch it on */
	expect_command(s);
	/* At most MCP_PENDING_MAX questions are open at once. */
	fk.elicit_on = true;
	for (int i = 0; i < MCP_PENDING_MAX; i++)
		(void)ask(s, GET("30"));
	expect_command(s);
}

static void test_cancel_and_timeout(void **state)
{
	struct mcp_server *s = *state;
	const char *id;
	cJSON *all, *j;

	fk_init(s, "2025-06-18", ELICIT_CAPS);
	fk.pending = fk.elicit_on = true;
	id = ask(s, GET("\"c1\""));
	/* The client gives up: the question is withdrawn, the grant denied. */
	all = fk_lines(s, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/"
			  "cancelled\",\"params\":{\"requestId\":\"c1\"}}");
	assert_int_equal(cJSON_GetArraySize(all), 1);
	j = cJSON_GetArrayItem(all, 0);
	assert_string_equal(idw_json_str(j, "method"),
			    "notifications/cancelled");
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(j, "params"), "requestId"),
		id);
	cJSON_Delete(all);
	assert_string_equal(fk.answer, "cancel");
	assert_int_equal(mcp_server_deadline(s), 0);

	/* Nobody answers in time (and the client asked for logs). */
	s->elicit_ms = 0;
	s->log_level = 0;
	fk.pending = true;
	all = fk_lines(s, GET("31"));
	j = cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1);
	assert_string_equal(idw_json_str(j, "method"), "elicitation/create");
	cJSON_Delete(all);
	{
		struct idw_buf out;
		char *txt;

		idw_buf_init(&out, MCP_OUT_MAX, IDW_BUF_SECURE);
		assert_int_equal(mcp_server_tick(s, idw_boot_ms(), &out), 0);
		assert_int_equal(idw_buf_put_u8(&out, '\0'), 0);
		txt = (char *)out.d;
		assert_non_null(strstr(txt, "notifications/cancelled"));
		assert_non_null(strstr(txt, "\"id\":31"));
		assert_non_null(strstr(txt, "\"isError\":true"));
		/* Its log lines come first. */
		assert_non_null(strstr(txt, "notifications/message"));
		assert_true(strstr(txt, "notifications/message") <
			    strstr(txt, "\"id\":31"));
		idw_buf_free(&out);
	}
	assert_string_equal(fk.answer, "timeout");
	assert_int_equal(mcp_server_deadline(s), 0);
	s->log_level = MCP_LOG_OFF;
	/* Abandoned (stdin closed): nothing waits any more. */
	fk.pending = true;
	(void)ask(s, GET("32"));
	mcp_server_abandon(s);
	assert_int_equal(mcp_server_deadline(s), 0);
}

static void test_request_access(void **state)
{
	struct mcp_server *s = *state;
	const char *id;
	cJSON *j;

	fk_init(s, "2025-11-25", ELICIT_CAPS);
	fk.pending = fk.elicit_on = true;
	id = ask(s, "{\"jsonrpc\":\"2.0\",\"id\":41,\"method\":\"tools/call\","
		    "\"params\":{\"name\":\"request_access\",\"arguments\":{"
		    "\"passport_id\":\"" FK_PP "\",\"purpose\":\"deploy\","
		    "\"scope\":[\"chat\"]}}}");
	j = fk_one(s, answer_line(id, "{\"action\":\"accept\",\"content\":"
				      "{\"approve\":true}}"));
	assert_string_equal(
		idw_json_str(
			cJSON_GetObjectItem(fk_result(j), "structuredContent"),
			"status"),
		"approved");
	cJSON_Delete(j);
	/* Without elicitation: the pending result, with the command. */
	fk.pending = true;
	fk.elicit_on = false;
	j = fk_one(s,
		   "{\"jsonrpc\":\"2.0\",\"id\":42,\"method\":\"tools/call\","
		   "\"params\":{\"name\":\"request_access\",\"arguments\":{"
		   "\"passport_id\":\"" FK_PP "\",\"purpose\":\"deploy\"}}}");
	assert_string_equal(
		idw_json_str(
			cJSON_GetObjectItem(fk_result(j), "structuredContent"),
			"status"),
		"pending");
	assert_non_null(strstr(fk_text(j), "idw approve " FK_GRANT));
	cJSON_Delete(j);
}

/* 2026-07-28: the same get_credential, with the answer and the state. */
static char *retry_line(const char *id, const char *purpose, const char *answer,
			const char *st)
{
	cJSON *m = cJSON_CreateObject(), *p, *meta, *ir;
	char *txt, *copy;

	cJSON_AddStringToObject(m, "jsonrpc", "2.0");
	cJSON_AddRawToObject(m, "id", id);
	cJSON_AddStringToObject(m, "method", "tools/call");
	p = cJSON_AddObjectToObject(m, "params");
	cJSON_AddStringToObject(p, "name", "get_credential");
	cJSON_AddItemToObject(
		p, "arguments",
		cJSON_Parse(purpose != NULL ? purpose
					    : "{\"passport_id\":\"" FK_PP
					      "\",\"purpose\":\"deploy\"}"));
	meta = cJSON_AddObjectToObject(p, "_meta");
	cJSON_AddStringToObject(meta, "io.modelcontextprotocol/protocolVersion",
				"2026-07-28");
	cJSON_AddItemToObject(meta,
			      "io.modelcontextprotocol/clientCapabilities",
			      cJSON_Parse(ELICIT_CAPS));
	if (answer != NULL) {
		ir = cJSON_AddObjectToObject(p, "inputResponses");
		cJSON_AddItemToObject(ir, "idw_approval", cJSON_Parse(answer));
	}
	if (st != NULL)
		cJSON_AddStringToObject(p, "requestState", st);
	txt = cJSON_PrintUnformatted(m);
	copy = strdup(txt);
	cJSON_free(txt);
	cJSON_Delete(m);
	return copy;
}

/* An input_required result: its requestState (caller frees). */
static char *input_required(struct mcp_server *s, const char *line)
{
	cJSON *j = fk_one(s, line);
	const cJSON *res = fk_result(j), *q;
	char *st;

	assert_string_equal(idw_json_str(res, "resultType"), "input_required");
	assert_null(cJSON_GetObjectItem(res, "ttlMs"));
	q = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "inputRequests"),
				"idw_approval");
	assert_string_equal(idw_json_str(q, "method"), "elicitation/create");
	assert_string_equal(
		idw_json_str(cJSON_GetObjectItem(q, "params"), "mode"), "form");
	assert_non_null(strstr(
		idw_json_str(cJSON_GetObjectItem(q, "params"), "message"),
		FK_GRANT));
	st = strdup(idw_json_str(res, "requestState"));
	cJSON_Delete(j);
	return st;
}

static void test_input_required(void **state)
{
	static const char yes[] =
		"{\"action\":\"accept\",\"content\":{\"approve\":true}}";
	struct mcp_server *s = *state;
	char *line, *st;
	cJSON *j;

	fk.pending = fk.elicit_on = true;
	line = retry_line("1", NULL, NULL, NULL);
	st = input_required(s, line);
	free(line);
	assert_string_equal(fk.answer, "");
	assert_false(s->initialized); /* no session was needed */

	/* Tampered with, or for other arguments: refused. */
	st[10] = st[10] == 'A' ? 'B' : 'A';
	line = retry_line("2", NULL, yes, st);
	j = fk_one(s, line);
	assert_int_equal(fk_code(j), MCP_INVALID_PARAMS);
	cJSON_Delete(j);
	free(line);
	free(st);
	line = retry_line("3", NULL, NULL, NULL);
	st = input_required(s, line);
	free(line);
	line = retry_line(
		"4", "{\"passport_id\":\"" FK_PP "\",\"purpose\":\"other\"}",
		yes, st);
	j = fk_one(s, line);
	assert_int_equal(fk_code(j), MCP_INVALID_PARAMS);
	cJSON_Delete(j);
	free(line);
	assert_string_equal(fk.answer, "");

	/* The state without an answer: asked again. */
	line = retry_line("5", NULL, NULL, st);
	free(input_required(s, line));
	free(line);

	/* The answer: relayed, and the call goes on. */
	line = retry_line("6", NULL, yes, st);
	j = fk_one(s, line);
	assert_string_equal(idw_json_str(fk_result(j), "resultType"),
			    "complete");
	assert_string_equal(
		idw_json_str(
			cJSON_GetObjectItem(fk_result(j), "structuredContent"),
			"credential"),
		"sk-fake1");
	assert_string_equal(fk.answer, "accept");
	cJSON_Delete(j);
	free(line);
	free(st);

	/* Declined. */
	fk.pending = true;
	line = retry_line("7", NULL, NULL, NULL);
	st = input_required(s, line);
	free(line);
	line = retry_line("8", NULL, "{\"action\":\"decline\"}", st);
	j = fk_one(s, line);
	assert_true(idw_json_bool(fk_result(j), "isError", false));
	assert_string_equal(fk.answer, "decline");
	cJSON_Delete(j);
	free(line);
	free(st);

	/* A client without elicitation is told the command. */
	j = fk_one(s, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\","
		      "\"params\":{\"name\":\"get_credential\",\"arguments\":{"
		      "\"passport_id\":\"" FK_PP "\",\"purpose\":\"deploy\"},"
		      "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":"
		      "\"2026-07-28\",\"io.modelcontextprotocol/client"
		      "Capabilities\":{}}}}");
	assert_true(idw_json_bool(fk_result(j), "isError", false));
	assert_non_null(strstr(fk_text(j), "idw approve " FK_GRANT));
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_legacy_accept, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_legacy_refusals, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_not_asked, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_timeout,
						fk_setup, fk_teardown),
		cmocka_unit_test_setup_teardown(test_request_access, fk_setup,
						fk_teardown),
		cmocka_unit_test_setup_teardown(test_input_required, fk_setup,
						fk_teardown),
	};

	if (sodium_init() < 0 || idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		return 1;
	idw_arena_cjson_hooks();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
