/* SPDX-License-Identifier: ISC */
#ifndef IDW_TEST_MCP_FAKE_H
#define IDW_TEST_MCP_FAKE_H

/*
 * A stand-in for the agent behind idw-mcp's protocol handler, for the
 * unit tests of client/mcp_*.c: answers by verb, remembers every request,
 * can hold a passport behind a pending grant until an elicitation answer
 * of "accept" comes, and records what the serve loop asks of a backend.
 * Include once per test program, after cmocka.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/mcp_server.h"
#include "client/mcp_tools.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

#define FK_GRANT "gr_00112233445566aa"
#define FK_PP "pp_0123456789abcdef"

static struct {
	bool unreachable;
	bool pending;	/* get and request_access wait on FK_GRANT */
	bool elicit_on; /* the agent allows asking through elicitation */
	cJSON *reqs;	/* every request, in order */
	int calls;
	char answer[32]; /* the last elicitation_answer's answer */
	int (*watch)(void *arg);
	void *watch_arg;
	int watch_fd;
	uint64_t until;
	int pump_calls; /* run watch this many times in the next call */
	bool in_call;	/* a call to the agent is under way */
} fk;

static const char fk_grant_reply[] =
	"\"grant_id\":\"" FK_GRANT "\",\"status\":\"pending\",\"command\":"
	"\"idw approve " FK_GRANT "\",\"grant\":{\"id\":\"" FK_GRANT "\","
	"\"passport\":\"" FK_PP "\",\"principal\":\"local\",\"claimed_actor\":"
	"\"tester 9\",\"scope\":[\"chat\"],\"purpose\":\"deploy \\u0007 "
	"\\u202e now\",\"passport_name\":\"OpenAI Production\","
	"\"passport_path\":\"prod/openai\",\"access_tier\":\"sensitive\"}";

static cJSON *fk_reply(const char *verb, const cJSON *req)
{
	char buf[2048];

	if (fk.pending && strcmp(verb, "get") == 0) {
		snprintf(buf, sizeof(buf),
			 "{\"ok\":false,\"code\":\"pending\",\"message\":"
			 "\"approval pending: grant " FK_GRANT
			 " is pending: the "
			 "person runs 'idw approve " FK_GRANT "'\",%s,"
			 "\"elicitation\":%s}",
			 fk_grant_reply, fk.elicit_on ? "true" : "false");
		return cJSON_Parse(buf);
	}
	if (fk.pending && strcmp(verb, "request_access") == 0) {
		snprintf(buf, sizeof(buf),
			 "{\"ok\":true,\"approved\":false,\"reason\":"
			 "\"privilege "
			 "visa\",\"expires_at\":\"2026-11-23T19:00:00Z\",%s,"
			 "\"elicitation\":%s}",
			 fk_grant_reply, fk.elicit_on ? "true" : "false");
		return cJSON_Parse(buf);
	}
	if (strcmp(verb, "elicitation_answer") == 0) {
		const char *a = idw_json_str(req, "answer");

		snprintf(fk.answer, sizeof(fk.answer), "%s", a ? a : "");
		if (a != NULL && strcmp(a, "accept") == 0) {
			if (!fk.elicit_on)
				return cJSON_Parse(
					"{\"ok\":false,\"code\":\"denied\","
					"\"message\":\"approval by elicitation "
					"is off: the person approves with 'idw "
					"approve " FK_GRANT "'\"}");
			fk.pending = false;
		}
		return cJSON_Parse("{\"ok\":true,\"grant\":{}}");
	}
	if (strcmp(verb, "get") == 0)
		return cJSON_Parse("{\"ok\":true,\"passport\":{\"id\":\"" FK_PP
				   "\",\"name\":\"OpenAI Production\"}}");
	if (strcmp(verb, "request_access") == 0)
		return cJSON_Parse("{\"ok\":true,\"approved\":true,\"status\":"
				   "\"approved\",\"grant_id\":\"" FK_GRANT
				   "\",\"reason\":\"lease\",\"expires_at\":"
				   "\"2026-11-23T19:00:00Z\"}");
	if (strcmp(verb, "list") == 0) {
		const char *c = idw_json_str(req, "cursor");

		if (c != NULL && strcmp(c, "bad") == 0)
			return cJSON_Parse("{\"ok\":false,\"code\":\"usage\","
					   "\"message\":\"bad cursor\"}");
		return cJSON_Parse(
			"{\"ok\":true,\"passports\":[{\"id\":\"" FK_PP "\","
			"\"name\":\"OpenAI Production\",\"credential_type\":"
			"\"api-key\",\"status\":\"active\",\"platforms\":[]}],"
			"\"next_cursor\":\"7\"}");
	}
	if (strcmp(verb, "show") == 0)
		return cJSON_Parse("{\"ok\":false,\"code\":\"not_found\","
				   "\"message\":\"no such passport\"}");
	return cJSON_Parse("{\"ok\":true,\"allowed\":true,\"effect\":\"allow\","
			   "\"violations\":[],\"entries\":[]}");
}

static int fk_call(void *ctx, const cJSON *req, struct idwc_reply *rep)
{
	const char *verb = idw_json_str(req, "verb");

	(void)ctx;
	memset(rep, 0, sizeof(*rep));
	fk.calls++;
	if (fk.reqs == NULL)
		fk.reqs = cJSON_CreateArray();
	cJSON_AddItemToArray(fk.reqs, cJSON_Duplicate(req, 1));
	/* The serve loop reads stdin while a call waits. */
	fk.in_call = true;
	for (; fk.pump_calls > 0 && fk.watch != NULL; fk.pump_calls--)
		if (fk.watch(fk.watch_arg) != 0)
			fk.pump_calls = 1;
	fk.in_call = false;
	if (fk.unreachable)
		return IDW_EAGENT;
	rep->json = fk_reply(verb, req);
	assert_non_null(rep->json);
	rep->ok = idw_json_bool(rep->json, "ok", false);
	if (!rep->ok) {
		rep->err = idw_err_from_name(idw_json_str(rep->json, "code"));
		rep->message = idw_json_str(rep->json, "message");
	}
	if (strcmp(verb, "get") == 0 && rep->ok) {
		rep->secret = sodium_malloc(8);
		memcpy(rep->secret, "sk-fake1", 8);
		rep->secret_len = 8;
	}
	return 0;
}

static const char *fk_why(void *ctx)
{
	(void)ctx;
	return "The idw agent could not be reached: test.";
}

static void fk_set_watch(void *ctx, int fd, int (*fn)(void *), void *arg)
{
	(void)ctx;
	fk.watch_fd = fd;
	fk.watch = fn;
	fk.watch_arg = arg;
}

static void fk_set_until(void *ctx, uint64_t until)
{
	(void)ctx;
	fk.until = until;
}

static const struct mcp_backend fk_backend = {
	.call = fk_call,
	.why = fk_why,
	.set_watch = fk_set_watch,
	.set_until = fk_set_until,
};

/* The verb of the n-th request from the end (0: the last). */
static const cJSON *fk_req(int from_end)
{
	int n = cJSON_GetArraySize(fk.reqs);

	return n > from_end ? cJSON_GetArrayItem(fk.reqs, n - 1 - from_end)
			    : NULL;
}

static size_t fk_arena_in_use(void)
{
	struct idw_arena_stats st;

	idw_arena_stats(&st);
	return st.in_use;
}

static size_t fk_arena_before;

static int fk_setup(void **state)
{
	static struct mcp_server s;

	fk_arena_before = fk_arena_in_use();
	memset(&fk, 0, sizeof(fk));
	mcp_server_init(&s, &fk_backend, NULL);
	*state = &s;
	return 0;
}

static int fk_teardown(void **state)
{
	mcp_server_free(*state);
	cJSON_Delete(fk.reqs);
	fk.reqs = NULL;
	/* Every cJSON object lives in the arena: none may be left over. */
	assert_int_equal(fk_arena_in_use(), fk_arena_before);
	return 0;
}

/* Handle one line; its answer lines as a NUL-terminated copy. */
static char *fk_run(struct mcp_server *s, const char *line)
{
	struct idw_buf out;
	char *copy;

	idw_buf_init(&out, MCP_OUT_MAX, IDW_BUF_SECURE);
	assert_int_equal(mcp_handle_line(s, line, strlen(line), &out), 0);
	copy = calloc(1, out.len + 1);
	assert_non_null(copy);
	if (out.len)
		memcpy(copy, out.d, out.len);
	idw_buf_free(&out);
	return copy;
}

/* The answer lines of one input line, parsed (an array of messages). */
static cJSON *fk_lines(struct mcp_server *s, const char *line)
{
	char *txt = fk_run(s, line), *p = txt, *nl;
	cJSON *all = cJSON_CreateArray();

	while ((nl = strchr(p, '\n')) != NULL) {
		cJSON *j = idw_json_parse(p, (size_t)(nl - p));

		assert_non_null(j);
		cJSON_AddItemToArray(all, j);
		p = nl + 1;
	}
	assert_int_equal(*p, '\0');
	free(txt);
	return all;
}

/* Exactly one answer line. */
static cJSON *fk_one(struct mcp_server *s, const char *line)
{
	cJSON *all = fk_lines(s, line), *j;

	assert_int_equal(cJSON_GetArraySize(all), 1);
	j = cJSON_DetachItemFromArray(all, 0);
	cJSON_Delete(all);
	return j;
}

static int fk_code(const cJSON *j)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");

	assert_non_null(e);
	return (int)idw_json_int(e, "code", 0);
}

static const cJSON *fk_result(const cJSON *j)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(j, "result");

	assert_non_null(r);
	return r;
}

static const char *fk_text(const cJSON *j)
{
	const cJSON *c0 = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(fk_result(j), "content"), 0);

	return idw_json_str(c0, "text");
}

static void fk_init(struct mcp_server *s, const char *version, const char *caps)
{
	char line[512];
	cJSON *j;

	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\","
		 "\"params\":{\"protocolVersion\":\"%s\",\"capabilities\":%s,"
		 "\"clientInfo\":{\"name\":\"tester\",\"version\":\"9\"}}}",
		 version, caps);
	j = fk_one(s, line);
	assert_string_equal(idw_json_str(fk_result(j), "protocolVersion"),
			    version);
	cJSON_Delete(j);
}

#endif
