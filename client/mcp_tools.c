/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/mcp_tools.h"
#include "common/jsonu.h"

/*
 * The MCP tools: one row each, mapping to an agent verb.  Schemas are JSON
 * text, published by tools/list and enforced by mcp_schema_check.
 */
struct mcp_tool {
	const char *name;
	const char *title;
	const char *description;
	const char *input_schema;
	const char *output_schema;
	const char *annotations;
	int (*fn)(struct mcp_call *c);
};

#define S_PASSPORT_ID                                                          \
	"\"passport_id\":{\"type\":\"string\",\"minLength\":1,"                \
	"\"maxLength\":64,\"description\":\"The passport's id (pp_ and 16 "    \
	"hex digits), from list_passports\"}"
#define S_PURPOSE(what)                                                        \
	"\"purpose\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000," \
	"\"description\":\"" what "\"}"
#define S_STR "{\"type\":\"string\"}"
#define S_STR_OR_NULL "{\"type\":[\"string\",\"null\"]}"
#define S_STR_ARRAY "{\"type\":\"array\",\"items\":{\"type\":\"string\"}}"

static const struct mcp_tool tools[] = {
	{
		"list_passports",
		"List passports",
		"List the credential passports you may ask for: id, name, "
		"type, "
		"status, platforms. Metadata only, never a value.",
		"{\"type\":\"object\",\"properties\":{"
		"\"status\":{\"type\":\"string\",\"enum\":[\"active\","
		"\"expiring\","
		"\"expired\",\"revoked\",\"suspended\"],\"description\":\"Only "
		"passports with this status\"},"
		"\"platform\":{\"type\":\"string\",\"maxLength\":128,"
		"\"description\":\"Only passports for this platform, e.g. "
		"openai\"},"
		"\"cursor\":{\"type\":\"string\",\"maxLength\":512,"
		"\"description\":"
		"\"next_cursor from the previous page\"}}}",
		"{\"type\":\"object\",\"properties\":{"
		"\"success\":{\"type\":\"boolean\"},"
		"\"passports\":{\"type\":\"array\",\"items\":{\"type\":"
		"\"object\","
		"\"properties\":{\"id\":" S_STR ",\"name\":" S_STR
		",\"credential_type\":" S_STR ",\"status\":" S_STR
		",\"platforms\":" S_STR_ARRAY
		",\"reveal\":{\"type\":\"string\",\"enum\":[\"model\","
		"\"never\"]}},"
		"\"required\":[\"id\",\"name\",\"status\"]}},"
		"\"next_cursor\":" S_STR "},"
		"\"required\":[\"success\",\"passports\"]}",
		"{\"title\":\"List passports\",\"readOnlyHint\":true,"
		"\"destructiveHint\":false,\"idempotentHint\":true,"
		"\"openWorldHint\":false}",
		mcp_t_list,
	},
	{
		"get_credential",
		"Get a credential",
		"Get the value of a passport for a stated purpose. Policy "
		"decides; "
		"the access and its purpose are written to the audit log. Call "
		"check_policy first. Use the value only for that purpose and "
		"never "
		"repeat it. A passport whose reveal is never (list_passports, "
		"check_policy) is not given to you: the person runs the "
		"program that needs it with 'idw run --profile'.",
		"{\"type\":\"object\",\"properties\":{" S_PASSPORT_ID
		"," S_PURPOSE("Why you need the value now, specifically; it is "
			      "recorded "
			      "in the audit log") "},"
						  "\"required\":[\"passport_"
						  "id\",\"purpose\"]}",
		"{\"type\":\"object\",\"properties\":{"
		"\"success\":{\"type\":\"boolean\"},\"credential\":" S_STR ","
		"\"passport_name\":" S_STR ",\"passport_id\":" S_STR "},"
		"\"required\":[\"success\",\"credential\",\"passport_name\"]}",
		"{\"title\":\"Get a credential\",\"readOnlyHint\":true,"
		"\"destructiveHint\":false,\"idempotentHint\":false,"
		"\"openWorldHint\":false}",
		mcp_t_get,
	},
	{
		"request_access",
		"Request access",
		"Ask for access to a passport with a purpose and scope. Policy "
		"may "
		"allow it at once; otherwise a person must approve it with the "
		"idw "
		"command line and the result says how.",
		"{\"type\":\"object\",\"properties\":{" S_PASSPORT_ID
		"," S_PURPOSE(
			"Why you need access; it is shown to the person who "
			"approves and recorded") ","
						 "\"scope\":{\"type\":"
						 "\"array\","
						 "\"maxItems\":32,\"items\":{"
						 "\"type\":"
						 "\"string\",\"minLength\":1,"
						 "\"maxLength\":"
						 "128},\"description\":"
						 "\"What you need to do with "
						 "it, e.g. "
						 "repo.read\"}},"
						 "\"required\":[\"passport_"
						 "id\","
						 "\"purpose\"]}",
		"{\"type\":\"object\",\"properties\":{"
		"\"success\":{\"type\":\"boolean\"},\"approved\":{\"type\":"
		"\"boolean\"},\"status\":" S_STR ",\"grant_id\":" S_STR_OR_NULL
		",\"reason\":" S_STR_OR_NULL ",\"expires_at\":" S_STR_OR_NULL
		",\"message\":" S_STR "},"
		"\"required\":[\"success\",\"approved\",\"status\"]}",
		"{\"title\":\"Request access\",\"readOnlyHint\":false,"
		"\"destructiveHint\":false,\"idempotentHint\":true,"
		"\"openWorldHint\":false}",
		mcp_t_request,
	},
	{
		"check_policy",
		"Check policy",
		"Check whether access to a passport would be allowed, without "
		"getting the value or writing an access to the audit log.",
		"{\"type\":\"object\",\"properties\":{" S_PASSPORT_ID ","
		"\"action\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":"
		"64,"
		"\"description\":\"The action to check; default access\"}},"
		"\"required\":[\"passport_id\"]}",
		"{\"type\":\"object\",\"properties\":{"
		"\"success\":{\"type\":\"boolean\"},\"allowed\":{\"type\":"
		"\"boolean\"},\"effect\":" S_STR ",\"violations\":{\"type\":"
		"\"array\",\"items\":{\"type\":\"object\"}},"
		"\"reveal\":{\"type\":\"string\",\"enum\":[\"model\","
		"\"never\"]}},"
		"\"required\":[\"success\",\"allowed\",\"effect\","
		"\"violations\"]}",
		"{\"title\":\"Check policy\",\"readOnlyHint\":true,"
		"\"destructiveHint\":false,\"idempotentHint\":true,"
		"\"openWorldHint\":false}",
		mcp_t_check,
	},
	{
		"revoke_passport",
		"Revoke a passport",
		"Stop all use of a passport at once, e.g. when it may be "
		"compromised. It is suspended now; the person makes the "
		"revocation "
		"final or undoes it with the idw command line.",
		"{\"type\":\"object\",\"properties\":{" S_PASSPORT_ID ","
		"\"reason\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":"
		"1000,"
		"\"description\":\"Why it must stop; recorded and shown to the "
		"person\"}},"
		"\"required\":[\"passport_id\",\"reason\"]}",
		"{\"type\":\"object\",\"properties\":{"
		"\"success\":{\"type\":\"boolean\"},\"passport_id\":" S_STR
		",\"status\":" S_STR ",\"message\":" S_STR "},"
		"\"required\":[\"success\",\"passport_id\",\"status\","
		"\"message\"]}",
		"{\"title\":\"Revoke a passport\",\"readOnlyHint\":false,"
		"\"destructiveHint\":true,\"idempotentHint\":true,"
		"\"openWorldHint\":false}",
		mcp_t_revoke,
	},
};

static bool add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) != NULL;
}

/* A row of the table as tools/list shows it to rq's revision. */
static cJSON *tool_def(const struct mcp_tool *t, enum mcp_rev rev)
{
	cJSON *o = cJSON_CreateObject(), *in, *outs = NULL, *ann = NULL;

	in = cJSON_Parse(t->input_schema);
	/* title and outputSchema came with 2025-06-18, annotations before. */
	if (rev >= MCP_REV_2025_06_18)
		outs = cJSON_Parse(t->output_schema);
	if (rev >= MCP_REV_2025_03_26)
		ann = cJSON_Parse(t->annotations);
	if (o == NULL || in == NULL || !add_str(o, "name", t->name) ||
	    (rev >= MCP_REV_2025_06_18 && !add_str(o, "title", t->title)) ||
	    !add_str(o, "description", t->description) ||
	    !cJSON_AddItemToObject(o, "inputSchema", in))
		goto fail;
	in = NULL;
	if ((rev >= MCP_REV_2025_06_18 &&
	     (outs == NULL || !cJSON_AddItemToObject(o, "outputSchema", outs))))
		goto fail;
	outs = NULL;
	if (rev >= MCP_REV_2025_03_26 &&
	    (ann == NULL || !cJSON_AddItemToObject(o, "annotations", ann)))
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	cJSON_Delete(in);
	cJSON_Delete(outs);
	cJSON_Delete(ann);
	return NULL;
}

int mcp_page_start(const cJSON *params, const char *what, size_t count,
		   size_t *start)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(params, "cursor");
	size_t wl = strlen(what);
	char *end;
	unsigned long long v;

	*start = 0;
	if (c == NULL || cJSON_IsNull(c))
		return 0;
	/* Our own cursors only: "<what>:<index>", inside the list. */
	if (!cJSON_IsString(c) || strncmp(c->valuestring, what, wl) != 0 ||
	    c->valuestring[wl] != ':' || c->valuestring[wl + 1] < '1' ||
	    c->valuestring[wl + 1] > '9')
		return IDW_EINVAL;
	v = strtoull(c->valuestring + wl + 1, &end, 10);
	if (*end != '\0' || v >= count)
		return IDW_EINVAL;
	*start = (size_t)v;
	return 0;
}

int mcp_tools_list(struct mcp_server *s, struct mcp_req *rq,
		   struct idw_buf *out)
{
	const size_t n = sizeof(tools) / sizeof(tools[0]);
	cJSON *res = cJSON_CreateObject(), *arr;
	size_t i, at;
	char next[32];

	if (mcp_page_start(rq->params, "tools", n, &at) != 0) {
		cJSON_Delete(res);
		return mcp_put_bad_cursor(out, rq);
	}
	if (res == NULL || (arr = cJSON_AddArrayToObject(res, "tools")) == NULL)
		goto nomem;
	for (i = at; i < n && i - at < s->page_size; i++) {
		cJSON *o = tool_def(&tools[i], rq->rev);

		if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			goto nomem;
		}
	}
	snprintf(next, sizeof(next), "tools:%zu", i);
	if ((i < n && !add_str(res, "nextCursor", next)) ||
	    !mcp_cacheable(rq, res, 3600000, true))
		goto nomem;
	return mcp_put_result(out, rq, res);
nomem:
	cJSON_Delete(res);
	return IDW_ENOMEM;
}

static const struct mcp_tool *find_tool(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof(tools) / sizeof(tools[0]);
	     i++)
		if (strcmp(name, tools[i].name) == 0)
			return &tools[i];
	return NULL;
}

int mcp_tool_run(struct mcp_server *s, struct mcp_req *rq, const char *tool,
		 const cJSON *args, struct idw_buf *out)
{
	const struct mcp_tool *t = find_tool(tool);
	struct mcp_call c;
	int r;

	if (t == NULL)
		return IDW_EINVAL;
	memset(&c, 0, sizeof(c));
	c.s = s;
	c.rq = rq;
	c.args = args;
	r = t->fn(&c);
	if (c.pending && (r == 0 || r == 1)) {
		/* A person must approve: ask them here when we may. */
		int a = mcp_approval_ask(s, rq, tool, args, c.rep.json, out);

		if (a != MCP_NOT_ASKED) {
			cJSON_Delete(c.result);
			c.result = NULL;
			r = a;
			goto out;
		}
		mcp_log(s, rq, 2, "grant %s waits on a person: idw approve %s",
			idw_json_str(c.rep.json, "grant_id"),
			idw_json_str(c.rep.json, "grant_id"));
	}
	if (r == 1)
		r = mcp_put_tool_error(out, rq, c.why);
	else if (r == 0 && c.value != NULL)
		r = mcp_put_secret_result(out, rq, c.result, c.value,
					  c.value_len);
	else if (r == 0)
		r = mcp_put_tool_result(out, rq, c.result);
	else
		cJSON_Delete(c.result);
	c.result = NULL;
out:
	idwc_reply_free(&c.rep);
	sodium_memzero(&c, sizeof(c));
	return r;
}

int mcp_tools_call(struct mcp_server *s, struct mcp_req *rq,
		   struct idw_buf *out)
{
	const cJSON *name =
		cJSON_GetObjectItemCaseSensitive(rq->params, "name");
	const cJSON *args =
		cJSON_GetObjectItemCaseSensitive(rq->params, "arguments");
	const struct mcp_tool *t = find_tool(cJSON_GetStringValue(name));
	cJSON *schema = NULL, *empty = NULL;
	char why[512];
	int r;

	if (t == NULL)
		return mcp_put_error(
			out, rq->id, MCP_INVALID_PARAMS,
			!cJSON_IsString(name)
				? "Invalid params: tools/call needs "
				  "a name (a string)"
				: "Invalid params: unknown tool; "
				  "tools/list names them",
			NULL);
	if (args == NULL || cJSON_IsNull(args))
		args = empty = cJSON_CreateObject();
	if (args == NULL)
		return IDW_ENOMEM;
	if (!cJSON_IsObject(args)) {
		r = mcp_put_error(out, rq->id, MCP_INVALID_PARAMS,
				  "Invalid params: arguments must be an object",
				  NULL);
		goto out;
	}
	if ((schema = cJSON_Parse(t->input_schema)) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	if (mcp_schema_check(schema, args, why, sizeof(why)) != 0) {
		/*
		 * From 2025-11-25 on, invalid arguments are a tool error the
		 * model can read and correct; before, a protocol error.
		 */
		if (rq->rev >= MCP_REV_2025_11_25)
			r = mcp_put_tool_error(out, rq, why);
		else
			r = mcp_put_error(out, rq->id, MCP_INVALID_PARAMS, why,
					  NULL);
		goto out;
	}
	/* A 2026-07-28 retry that carries the person's answer. */
	if (rq->modern &&
	    (r = mcp_approval_retry(s, rq, t->name, args, out)) != 1)
		goto out;
	r = mcp_tool_run(s, rq, t->name, args, out);
out:
	cJSON_Delete(schema);
	cJSON_Delete(empty);
	return r;
}
