/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "client/mcp_tools.h"
#include "common/jsonu.h"

/*
 * What each tool does: the agent verb it sends and the structuredContent
 * it makes of the reply.  Each returns 0 with c->result set, 1 with the
 * isError sentence in c->why, or a negative code.
 */

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

/*
 * A call that waits on a person: the agent's sentence, and what the model
 * tells the person (the exact command, shown to them before they prove
 * it is them).
 */
static void pending_text(struct mcp_call *c)
{
	const char *g = idw_json_str(c->rep.json, "grant_id");
	const char *msg = c->rep.message;

	c->pending = true;
	snprintf(c->why, sizeof(c->why),
		 "%s (pending). A person must approve this: ask them to run "
		 "'idw approve %s' (it shows them what they approve), then "
		 "call this tool again. Do not retry before they say they "
		 "have.",
		 msg != NULL ? msg : "approval pending", g);
	mcp_utf8_trim(c->why);
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
	return mcp_agent_call(c->s, c->rq, req, &c->rep, c->why,
			      sizeof(c->why));
}

int mcp_t_list(struct mcp_call *c)
{
	static const char *const keep[] = {
		"id",	  "name",      "path",	      "credential_type",
		"status", "platforms", "access_tier", "valid_until",
		"reveal", "tags"};
	cJSON *req = req_new("list", c->args), *arr;
	const cJSON *p;
	int r;

	if (req == NULL || !copy(req, "status", c->args, "status") ||
	    !copy(req, "platform", c->args, "platform") ||
	    !copy(req, "cursor", c->args, "cursor") ||
	    cJSON_AddNumberToObject(req, "limit", (double)c->s->page_size) ==
		    NULL) {
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

int mcp_t_get(struct mcp_call *c)
{
	cJSON *req = req_new("get", c->args);
	const cJSON *pp;
	const char *name;
	int r;

	if (req == NULL || !copy(req, "purpose", c->args, "purpose")) {
		cJSON_Delete(req);
		return IDW_ENOMEM;
	}
	if ((r = call(c, req)) != 0) {
		if (r == 1 && c->rep.err == IDW_EPENDING &&
		    plain_id(idw_json_str(c->rep.json, "grant_id")))
			pending_text(c);
		return r;
	}
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

int mcp_t_request(struct mcp_call *c)
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
	c->pending = status != NULL && strcmp(status, "pending") == 0 &&
		     plain_id(grant);
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

int mcp_t_check(struct mcp_call *c)
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
		    res, "allowed",
		    idw_json_bool(c->rep.json, "allowed", false)) == NULL ||
	    !add_str(res, "effect", effect != NULL ? effect : "deny"))
		return IDW_ENOMEM;
	if (cJSON_IsArray(v)
		    ? !copy(res, "violations", c->rep.json, "violations")
		    : cJSON_AddArrayToObject(res, "violations") == NULL)
		return IDW_ENOMEM;
	/* never: get_credential refuses; the person runs it via a profile. */
	if (!copy(res, "reveal", c->rep.json, "reveal"))
		return IDW_ENOMEM;
	return 0;
}

int mcp_t_revoke(struct mcp_call *c)
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
