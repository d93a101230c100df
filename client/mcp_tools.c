/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "client/mcp_tools.h"
#include "common/jsonu.h"

/*
 * The MCP tools: one row each, mapping to an agent verb.  Schemas are JSON
 * text, published by tools/list and enforced by mcp_schema_check.
 */
struct mcp_call {
	struct mcp_server *s;
	const cJSON *args;
	cJSON *result;	       /* structuredContent */
	struct idwc_reply rep; /* kept until the answer is written */
	const uint8_t *value;  /* get_credential: spliced into the answer */
	size_t value_len;
	char why[1024]; /* the isError text */
};

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

static int t_list(struct mcp_call *c);
static int t_get(struct mcp_call *c);
static int t_request(struct mcp_call *c);
static int t_check(struct mcp_call *c);
static int t_revoke(struct mcp_call *c);

static const struct mcp_tool tools[] = {
    {
	"list_passports",
	"List passports",
	"List the credential passports you may ask for: id, name, type, "
	"status, platforms. Metadata only, never a value.",
	"{\"type\":\"object\",\"properties\":{"
	"\"status\":{\"type\":\"string\",\"enum\":[\"active\",\"expiring\","
	"\"expired\",\"revoked\",\"suspended\"],\"description\":\"Only "
	"passports with this status\"},"
	"\"platform\":{\"type\":\"string\",\"maxLength\":128,"
	"\"description\":\"Only passports for this platform, e.g. openai\"},"
	"\"cursor\":{\"type\":\"string\",\"maxLength\":512,\"description\":"
	"\"next_cursor from the previous page\"}}}",
	"{\"type\":\"object\",\"properties\":{"
	"\"success\":{\"type\":\"boolean\"},"
	"\"passports\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
	"\"properties\":{\"id\":" S_STR ",\"name\":" S_STR
	",\"credential_type\":" S_STR ",\"status\":" S_STR
	",\"platforms\":" S_STR_ARRAY "},"
	"\"required\":[\"id\",\"name\",\"status\"]}},"
	"\"next_cursor\":" S_STR "},"
	"\"required\":[\"success\",\"passports\"]}",
	"{\"title\":\"List passports\",\"readOnlyHint\":true,"
	"\"destructiveHint\":false,\"idempotentHint\":true,"
	"\"openWorldHint\":false}",
	t_list,
    },
    {
	"get_credential",
	"Get a credential",
	"Get the value of a passport for a stated purpose. Policy decides; "
	"the access and its purpose are written to the audit log. Call "
	"check_policy first. Use the value only for that purpose and never "
	"repeat it.",
	"{\"type\":\"object\",\"properties\":{" S_PASSPORT_ID "," S_PURPOSE(
	    "Why you need the value now, specifically; it is recorded "
	    "in the audit log") "},"
				"\"required\":[\"passport_id\",\"purpose\"]}",
	"{\"type\":\"object\",\"properties\":{"
	"\"success\":{\"type\":\"boolean\"},\"credential\":" S_STR ","
	"\"passport_name\":" S_STR ",\"passport_id\":" S_STR "},"
	"\"required\":[\"success\",\"credential\",\"passport_name\"]}",
	"{\"title\":\"Get a credential\",\"readOnlyHint\":true,"
	"\"destructiveHint\":false,\"idempotentHint\":false,"
	"\"openWorldHint\":false}",
	t_get,
    },
    {
	"request_access",
	"Request access",
	"Ask for access to a passport with a purpose and scope. Policy may "
	"allow it at once; otherwise a person must approve it with the idw "
	"command line and the result says how.",
	"{\"type\":\"object\",\"properties\":{" S_PASSPORT_ID "," S_PURPOSE(
	    "Why you need access; it is shown to the person who "
	    "approves and recorded") ","
				     "\"scope\":{\"type\":\"array\","
				     "\"maxItems\":32,\"items\":{\"type\":"
				     "\"string\",\"minLength\":1,\"maxLength\":"
				     "128},\"description\":"
				     "\"What you need to do with it, e.g. "
				     "repo.read\"}},"
				     "\"required\":[\"passport_id\","
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
	t_request,
    },
    {
	"check_policy",
	"Check policy",
	"Check whether access to a passport would be allowed, without "
	"getting the value or writing an access to the audit log.",
	"{\"type\":\"object\",\"properties\":{" S_PASSPORT_ID ","
	"\"action\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,"
	"\"description\":\"The action to check; default access\"}},"
	"\"required\":[\"passport_id\"]}",
	"{\"type\":\"object\",\"properties\":{"
	"\"success\":{\"type\":\"boolean\"},\"allowed\":{\"type\":"
	"\"boolean\"},\"effect\":" S_STR ",\"violations\":{\"type\":"
	"\"array\",\"items\":{\"type\":\"object\"}}},"
	"\"required\":[\"success\",\"allowed\",\"effect\",\"violations\"]}",
	"{\"title\":\"Check policy\",\"readOnlyHint\":true,"
	"\"destructiveHint\":false,\"idempotentHint\":true,"
	"\"openWorldHint\":false}",
	t_check,
    },
    {
	"revoke_passport",
	"Revoke a passport",
	"Stop all use of a passport at once, e.g. when it may be "
	"compromised. It is suspended now; the person makes the revocation "
	"final or undoes it with the idw command line.",
	"{\"type\":\"object\",\"properties\":{" S_PASSPORT_ID ","
	"\"reason\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1000,"
	"\"description\":\"Why it must stop; recorded and shown to the "
	"person\"}},"
	"\"required\":[\"passport_id\",\"reason\"]}",
	"{\"type\":\"object\",\"properties\":{"
	"\"success\":{\"type\":\"boolean\"},\"passport_id\":" S_STR
	",\"status\":" S_STR ",\"message\":" S_STR "},"
	"\"required\":[\"success\",\"passport_id\",\"status\",\"message\"]}",
	"{\"title\":\"Revoke a passport\",\"readOnlyHint\":false,"
	"\"destructiveHint\":true,\"idempotentHint\":true,"
	"\"openWorldHint\":false}",
	t_revoke,
    },
};

/* Small builders; each returns false when memory ran out. */

static cJSON *req_new(const char *verb, const cJSON *args)
{
	cJSON *req = cJSON_CreateObject();
	const char *id = idw_json_str(args, "passport_id");

	if (req == NULL || cJSON_AddStringToObject(req, "verb", verb) == NULL ||
	    (id != NULL && cJSON_AddStringToObject(req, "id", id) == NULL)) {
		cJSON_Delete(req);
		return NULL;
	}
	return req;
}

/* Copy key from src to dst under name, when present. */
static bool copy(cJSON *dst, const char *name, const cJSON *src,
		 const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
	cJSON *d;

	if (v == NULL)
		return true;
	d = cJSON_Duplicate(v, 1);
	if (d == NULL || !cJSON_AddItemToObject(dst, name, d)) {
		cJSON_Delete(d);
		return false;
	}
	return true;
}

static bool add_str(cJSON *o, const char *k, const char *v)
{
	return cJSON_AddStringToObject(o, k, v) != NULL;
}

static bool add_str_or_null(cJSON *o, const char *k, const char *v)
{
	return v != NULL ? add_str(o, k, v)
			 : cJSON_AddNullToObject(o, k) != NULL;
}

/* Ids go into commands shown to the person: only plain characters. */
static bool plain_id(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	return n > 0 && n <= 64 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789_-") == n;
}

static cJSON *result_new(void)
{
	cJSON *res = cJSON_CreateObject();

	if (res != NULL && cJSON_AddTrueToObject(res, "success") == NULL) {
		cJSON_Delete(res);
		return NULL;
	}
	return res;
}

static int call(struct mcp_call *c, cJSON *req)
{
	return mcp_agent_call(c->s, req, &c->rep, c->why, sizeof(c->why));
}

static int t_list(struct mcp_call *c)
{
	static const char *const keep[] = {
	    "id",     "name",	   "path",	  "credential_type",
	    "status", "platforms", "access_tier", "valid_until",
	    "reveal", "tags"};
	cJSON *req = req_new("list", c->args), *arr;
	const cJSON *p;
	int r;

	if (req == NULL || !copy(req, "status", c->args, "status") ||
	    !copy(req, "platform", c->args, "platform") ||
	    !copy(req, "cursor", c->args, "cursor") ||
	    cJSON_AddNumberToObject(req, "limit", 100) == NULL) {
		cJSON_Delete(req);
		return IDW_ENOMEM;
	}
	if ((r = call(c, req)) != 0)
		return r;
	if ((c->result = result_new()) == NULL ||
	    (arr = cJSON_AddArrayToObject(c->result, "passports")) == NULL)
		return IDW_ENOMEM;
	cJSON_ArrayForEach(
	    p, cJSON_GetObjectItemCaseSensitive(c->rep.json, "passports"))
	{
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			return IDW_ENOMEM;
		}
		for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
			if (!copy(o, keep[i], p, keep[i]))
				return IDW_ENOMEM;
	}
	if (idw_json_str(c->rep.json, "next_cursor") != NULL &&
	    !copy(c->result, "next_cursor", c->rep.json, "next_cursor"))
		return IDW_ENOMEM;
	return 0;
}

static int t_get(struct mcp_call *c)
{
	cJSON *req = req_new("get", c->args);
	const cJSON *pp;
	const char *name;
	int r;

	if (req == NULL || !copy(req, "purpose", c->args, "purpose")) {
		cJSON_Delete(req);
		return IDW_ENOMEM;
	}
	if ((r = call(c, req)) != 0)
		return r;
	pp = cJSON_GetObjectItemCaseSensitive(c->rep.json, "passport");
	name = idw_json_str(pp, "name");
	if (c->rep.secret == NULL) {
		snprintf(c->why, sizeof(c->why),
			 "The agent answered without a value.");
		return 1;
	}
	if (!idw_utf8_valid(c->rep.secret, c->rep.secret_len)) {
		snprintf(c->why, sizeof(c->why),
			 "The value of this passport is not UTF-8 text, so it "
			 "cannot be passed over MCP. The person can give it "
			 "to a program with 'idw run'.");
		return 1;
	}
	c->value = c->rep.secret;
	c->value_len = c->rep.secret_len;
	if ((c->result = result_new()) == NULL ||
	    !add_str(c->result, "credential", "") ||
	    !add_str(c->result, "passport_name", name != NULL ? name : "") ||
	    !copy(c->result, "passport_id", pp, "id"))
		return IDW_ENOMEM;
	return 0;
}

static int t_request(struct mcp_call *c)
{
	cJSON *req = req_new("request_access", c->args), *res;
	const char *status, *grant;
	char msg[256] = "";
	int r;

	if (req == NULL || !copy(req, "purpose", c->args, "purpose") ||
	    !copy(req, "scope", c->args, "scope")) {
		cJSON_Delete(req);
		return IDW_ENOMEM;
	}
	if ((r = call(c, req)) != 0)
		return r;
	status = idw_json_str(c->rep.json, "status");
	grant = idw_json_str(c->rep.json, "grant_id");
	if (status != NULL && strcmp(status, "pending") == 0)
		snprintf(msg, sizeof(msg),
			 "A person must approve this request: ask them to "
			 "run 'idw approve %s', then call get_credential.",
			 plain_id(grant) ? grant : "GRANT_ID");
	if ((res = c->result = result_new()) == NULL ||
	    cJSON_AddBoolToObject(
		res, "approved",
		idw_json_bool(c->rep.json, "approved", false)) == NULL ||
	    !add_str(res, "status", status != NULL ? status : "unknown") ||
	    !add_str_or_null(res, "grant_id", grant) ||
	    !add_str_or_null(res, "reason",
			     idw_json_str(c->rep.json, "reason")) ||
	    !add_str_or_null(res, "expires_at",
			     idw_json_str(c->rep.json, "expires_at")) ||
	    (msg[0] != '\0' && !add_str(res, "message", msg)))
		return IDW_ENOMEM;
	return 0;
}

static int t_check(struct mcp_call *c)
{
	cJSON *req = req_new("check_policy", c->args), *res;
	const cJSON *v;
	const char *effect;
	int r;

	if (req == NULL || !add_str(req, "action",
				    idw_json_str(c->args, "action") != NULL
					? idw_json_str(c->args, "action")
					: "access")) {
		cJSON_Delete(req);
		return IDW_ENOMEM;
	}
	if ((r = call(c, req)) != 0)
		return r;
	effect = idw_json_str(c->rep.json, "effect");
	v = cJSON_GetObjectItemCaseSensitive(c->rep.json, "violations");
	if ((res = c->result = result_new()) == NULL ||
	    cJSON_AddBoolToObject(
		res, "allowed", idw_json_bool(c->rep.json, "allowed", false)) ==
		NULL ||
	    !add_str(res, "effect", effect != NULL ? effect : "deny"))
		return IDW_ENOMEM;
	if (cJSON_IsArray(v)
		? !copy(res, "violations", c->rep.json, "violations")
		: cJSON_AddArrayToObject(res, "violations") == NULL)
		return IDW_ENOMEM;
	return 0;
}

static int t_revoke(struct mcp_call *c)
{
	cJSON *req = req_new("suspend", c->args), *res;
	const cJSON *pp;
	const char *id, *status;
	char msg[512];
	int r;

	if (req == NULL || !copy(req, "reason", c->args, "reason")) {
		cJSON_Delete(req);
		return IDW_ENOMEM;
	}
	if ((r = call(c, req)) != 0)
		return r;
	pp = cJSON_GetObjectItemCaseSensitive(c->rep.json, "passport");
	id = idw_json_str(pp, "id");
	if (id == NULL)
		id = idw_json_str(c->args, "passport_id");
	status = idw_json_str(pp, "status");
	if (!plain_id(id))
		id = "PASSPORT_ID";
	/* The reason is the model's text: it never goes into a command. */
	snprintf(msg, sizeof(msg),
		 "Passport %s is suspended: nothing can use it now. Tell the "
		 "person: to make the revocation final, run 'idw revoke %s "
		 "--reason \"...\"'; to undo it, run 'idw resume %s'.",
		 id, id, id);
	if ((res = c->result = result_new()) == NULL ||
	    !add_str(res, "passport_id", id) ||
	    !add_str(res, "status", status != NULL ? status : "suspended") ||
	    !add_str(res, "message", msg))
		return IDW_ENOMEM;
	return 0;
}

int mcp_tools_list(struct mcp_server *s, const cJSON *id, const cJSON *params,
		   struct idw_buf *out)
{
	cJSON *res = cJSON_CreateObject(), *arr;

	(void)s;
	(void)params; /* one page: cursor is ignored */
	if (res == NULL || (arr = cJSON_AddArrayToObject(res, "tools")) == NULL)
		goto nomem;
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		const struct mcp_tool *t = &tools[i];
		cJSON *o = cJSON_CreateObject(), *in, *outs, *ann;

		in = cJSON_Parse(t->input_schema);
		outs = cJSON_Parse(t->output_schema);
		ann = cJSON_Parse(t->annotations);
		if (o == NULL || in == NULL || outs == NULL || ann == NULL ||
		    !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			cJSON_Delete(in);
			cJSON_Delete(outs);
			cJSON_Delete(ann);
			goto nomem;
		}
		if (!add_str(o, "name", t->name) ||
		    !add_str(o, "title", t->title) ||
		    !add_str(o, "description", t->description) ||
		    !cJSON_AddItemToObject(o, "inputSchema", in) ||
		    !cJSON_AddItemToObject(o, "outputSchema", outs) ||
		    !cJSON_AddItemToObject(o, "annotations", ann))
			goto nomem;
	}
	return mcp_put_result(out, id, res);
nomem:
	cJSON_Delete(res);
	return IDW_ENOMEM;
}

int mcp_tools_call(struct mcp_server *s, const cJSON *id, const cJSON *params,
		   struct idw_buf *out)
{
	const struct mcp_tool *t = NULL;
	struct mcp_call c;
	const char *name = idw_json_str(params, "name");
	const cJSON *args =
	    cJSON_GetObjectItemCaseSensitive(params, "arguments");
	cJSON *schema = NULL, *empty = NULL;
	int r;

	memset(&c, 0, sizeof(c));
	for (size_t i = 0; name != NULL && i < sizeof(tools) / sizeof(tools[0]);
	     i++)
		if (strcmp(name, tools[i].name) == 0)
			t = &tools[i];
	if (t == NULL)
		return mcp_put_error(out, id, MCP_INVALID_PARAMS,
				     name == NULL ? "tools/call needs a name"
						  : "Unknown tool",
				     NULL);
	if (args == NULL || cJSON_IsNull(args))
		args = empty = cJSON_CreateObject();
	if (args == NULL)
		return IDW_ENOMEM;
	if (!cJSON_IsObject(args)) {
		r = mcp_put_error(out, id, MCP_INVALID_PARAMS,
				  "arguments must be an object", NULL);
		goto out;
	}
	if ((schema = cJSON_Parse(t->input_schema)) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	if (mcp_schema_check(schema, args, c.why, sizeof(c.why)) != 0) {
		/*
		 * From 2025-11-25 on, invalid arguments are a tool error the
		 * model can read and correct; before, a protocol error.
		 */
		if (s->rev >= MCP_REV_2025_11_25)
			r = mcp_put_tool_error(out, id, c.why);
		else
			r = mcp_put_error(out, id, MCP_INVALID_PARAMS, c.why,
					  NULL);
		goto out;
	}
	c.s = s;
	c.args = args;
	r = t->fn(&c);
	if (r == 1)
		r = mcp_put_tool_error(out, id, c.why);
	else if (r == 0 && c.value != NULL)
		r = mcp_put_secret_result(out, id, c.result, c.value,
					  c.value_len);
	else if (r == 0)
		r = mcp_put_tool_result(out, id, c.result);
	else
		cJSON_Delete(c.result);
	c.result = NULL;
out:
	idwc_reply_free(&c.rep);
	cJSON_Delete(schema);
	cJSON_Delete(empty);
	sodium_memzero(&c, sizeof(c));
	return r;
}
