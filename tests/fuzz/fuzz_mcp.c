/* SPDX-License-Identifier: ISC */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <sodium.h>

#include "client/mcp_server.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

/*
 * idw-mcp's input: the fuzz data is read as stdin is, through the
 * streaming reader, and every line goes to mcp_handle_line.  A first line
 * starting with '!' is the agent's reply to every call instead of the
 * canned ones, so the tool builders also see replies of any shape.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *verb;
	const char *reply;
} canned[] = {
	{"list",
	 "{\"ok\":true,\"passports\":[{\"id\":\"pp_0123456789abcdef\","
	 "\"name\":\"n\",\"credential_type\":\"api-key\",\"status\":"
	 "\"active\",\"platforms\":[\"openai\"]}],\"next_cursor\":\"c\"}"},
	{"show", "{\"ok\":true,\"passport\":{\"id\":\"pp_0123456789abcdef\","
		 "\"name\":\"n\"}}"},
	{"get", "{\"ok\":true,\"passport\":{\"id\":\"pp_0123456789abcdef\","
		"\"name\":\"n\"}}"},
	{"check_policy", "{\"ok\":true,\"allowed\":true,\"effect\":\"allow\","
			 "\"violations\":[]}"},
	{"request_access", "{\"ok\":true,\"approved\":false,\"status\":"
			   "\"pending\",\"grant_id\":\"gr_1\"}"},
	{"suspend", "{\"ok\":false,\"code\":\"not_found\",\"message\":\"no\"}"},
	{"audit", "{\"ok\":true,\"entries\":[{\"seq\":1}]}"},
	{"elicitation_answer", "{\"ok\":true}"},
};

static const char *fixed_reply;
static size_t fixed_len;

static int fz_call(void *ctx, const cJSON *req, struct idwc_reply *rep)
{
	static const uint8_t value[] = "sk-fuzz \" \\ \n \xc3\xa9";
	const char *verb = idw_json_str(req, "verb");

	(void)ctx;
	memset(rep, 0, sizeof(*rep));
	if (fixed_reply != NULL) {
		rep->json = idw_json_parse(fixed_reply, fixed_len);
	} else {
		for (size_t i = 0; i < sizeof(canned) / sizeof(canned[0]); i++)
			if (verb != NULL && strcmp(canned[i].verb, verb) == 0)
				rep->json = cJSON_Parse(canned[i].reply);
	}
	if (!cJSON_IsObject(rep->json)) {
		cJSON_Delete(rep->json);
		rep->json = NULL;
		return IDW_EAGENT;
	}
	rep->ok = idw_json_bool(rep->json, "ok", false);
	if (!rep->ok) {
		rep->err = idw_err_from_name(idw_json_str(rep->json, "code"));
		rep->message = idw_json_str(rep->json, "message");
	}
	if (verb != NULL && strcmp(verb, "get") == 0) {
		rep->secret = sodium_malloc(sizeof(value) - 1);
		if (rep->secret != NULL) {
			memcpy(rep->secret, value, sizeof(value) - 1);
			rep->secret_len = sizeof(value) - 1;
		}
	}
	return 0;
}

static const char *fz_why(void *ctx)
{
	(void)ctx;
	return "unreachable";
}

static const struct mcp_backend fz_backend = {.call = fz_call, .why = fz_why};

struct input {
	const uint8_t *p;
	size_t n, off;
};

/* Hand out the input in uneven pieces, as a pipe would. */
static ssize_t fz_read(void *ctx, void *p, size_t n, int timeout_ms)
{
	struct input *in = ctx;
	size_t left = in->n - in->off;

	(void)timeout_ms;
	if (n > left)
		n = left;
	if (n > 1 + (in->off % 4093))
		n = 1 + (in->off % 4093);
	memcpy(p, in->p + in->off, n);
	in->off += n;
	return (ssize_t)n;
}

/* Every answer is whole lines, each one JSON object (or a batch's array). */
static void check_lines(const struct idw_buf *out)
{
	size_t i = 0;

	while (i < out->len) {
		const uint8_t *nl = memchr(out->d + i, '\n', out->len - i);
		cJSON *j;

		if (nl == NULL)
			__builtin_trap();
		j = idw_json_parse((const char *)out->d + i,
				   (size_t)(nl - (out->d + i)));
		if (!cJSON_IsObject(j) && !cJSON_IsArray(j))
			__builtin_trap();
		cJSON_Delete(j);
		i = (size_t)(nl - out->d) + 1;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0 || idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		return 1;
	idw_arena_cjson_hooks();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mcp_reader rd;
	struct input in = {data, size, 0};
	struct mcp_server s;
	struct idw_buf out;
	const char *line;
	size_t len;
	int r;

	fixed_reply = NULL;
	if (size > 0 && data[0] == '!') {
		const uint8_t *nl = memchr(data, '\n', size);

		fixed_reply = (const char *)data + 1;
		fixed_len = (nl != NULL ? (size_t)(nl - data) : size) - 1;
		in.off = fixed_len + 1 + (nl != NULL);
	}
	mcp_server_init(&s, &fz_backend, NULL);
	mcp_reader_init(&rd, fz_read, &in);
	s.rd = &rd; /* cancellations ahead are looked for, as in idw-mcp */
	idw_buf_init(&out, MCP_OUT_MAX, IDW_BUF_SECURE);
	while ((r = mcp_reader_next(&rd, -1, &line, &len)) > 0) {
		if (r == MCP_READ_TOO_LONG)
			r = mcp_reply_too_long(&out);
		else
			r = mcp_handle_line(&s, line, len, &out);
		if (r == 0)
			check_lines(&out);
		idw_buf_reset(&out);
	}
	/* Calls still waiting on an elicitation run out of time. */
	if (mcp_server_tick(&s, UINT64_MAX, &out) == 0)
		check_lines(&out);
	idw_buf_free(&out);
	mcp_server_free(&s);
	mcp_reader_free(&rd);
	return 0;
}
