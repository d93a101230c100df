/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "client/mcp_tools.h"
#include "common/jsonu.h"

/*
 * MCP resources: passport://{id} is a passport's metadata (the agent's
 * show, which never carries a value) and audit://{passport_id} its recent
 * audit entries.
 */
#define MCP_AUDIT_ENTRIES 50

struct mcp_resource {
	const char *scheme; /* "passport://" */
	const char *uri_template;
	const char *name;
	const char *title;
	const char *description;
	const char *verb;
	cJSON *(*render)(const cJSON *reply, const char *id);
};

static cJSON *render_passport(const cJSON *reply, const char *id)
{
	const cJSON *pp = cJSON_GetObjectItemCaseSensitive(reply, "passport");

	(void)id;
	return cJSON_IsObject(pp) ? cJSON_Duplicate(pp, 1) : NULL;
}

static cJSON *render_audit(const cJSON *reply, const char *id)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply, "entries");
	const char *next = idw_json_str(reply, "next_cursor");
	cJSON *o = cJSON_CreateObject(), *d;

	if (o == NULL || cJSON_AddStringToObject(o, "passport_id", id) == NULL)
		goto fail;
	d = cJSON_IsArray(e) ? cJSON_Duplicate(e, 1) : cJSON_CreateArray();
	if (d == NULL || !cJSON_AddItemToObject(o, "entries", d)) {
		cJSON_Delete(d);
		goto fail;
	}
	if (next != NULL &&
	    cJSON_AddStringToObject(o, "next_cursor", next) == NULL)
		goto fail;
	return o;
fail:
	cJSON_Delete(o);
	return NULL;
}

static const struct mcp_resource resources[] = {
	{"passport://", "passport://{id}", "passport", "Passport",
	 "A passport's metadata: name, type, status, visa, platforms, "
	 "validity, owner. Never the value.",
	 "show", render_passport},
	{"audit://", "audit://{passport_id}", "audit", "Audit trail",
	 "The most recent audit entries of a passport: who used it, when, "
	 "for what purpose, and what policy decided. Never a value.",
	 "audit", render_audit},
};

static cJSON *text_contents(const char *uri, const char *text)
{
	cJSON *res = cJSON_CreateObject(), *arr, *c;

	if (res == NULL ||
	    (arr = cJSON_AddArrayToObject(res, "contents")) == NULL ||
	    (c = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(res);
		return NULL;
	}
	if (!cJSON_AddItemToArray(arr, c) ||
	    cJSON_AddStringToObject(c, "uri", uri) == NULL ||
	    cJSON_AddStringToObject(c, "mimeType", "application/json") ==
		    NULL ||
	    cJSON_AddStringToObject(c, "text", text) == NULL) {
		cJSON_Delete(res);
		return NULL;
	}
	return res;
}

int mcp_resources_templates(struct mcp_server *s, struct mcp_req *rq,
			    struct idw_buf *out)
{
	const size_t n = sizeof(resources) / sizeof(resources[0]);
	cJSON *res = cJSON_CreateObject(), *arr;
	char next[32];
	size_t i, at;

	if (mcp_page_start(rq->params, "templates", n, &at) != 0) {
		cJSON_Delete(res);
		return mcp_put_bad_cursor(out, rq);
	}
	if (res == NULL ||
	    (arr = cJSON_AddArrayToObject(res, "resourceTemplates")) == NULL)
		goto nomem;
	for (i = at; i < n && i - at < s->page_size; i++) {
		const struct mcp_resource *rs = &resources[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
			cJSON_Delete(o);
			goto nomem;
		}
		if (cJSON_AddStringToObject(o, "uriTemplate",
					    rs->uri_template) == NULL ||
		    cJSON_AddStringToObject(o, "name", rs->name) == NULL ||
		    (rq->rev >= MCP_REV_2025_06_18 &&
		     cJSON_AddStringToObject(o, "title", rs->title) == NULL) ||
		    cJSON_AddStringToObject(o, "description",
					    rs->description) == NULL ||
		    cJSON_AddStringToObject(o, "mimeType",
					    "application/json") == NULL)
			goto nomem;
	}
	snprintf(next, sizeof(next), "templates:%zu", i);
	if ((i < n &&
	     cJSON_AddStringToObject(res, "nextCursor", next) == NULL) ||
	    !mcp_cacheable(rq, res, 3600000, true))
		goto nomem;
	return mcp_put_result(out, rq, res);
nomem:
	cJSON_Delete(res);
	return IDW_ENOMEM;
}

/* One resources/list entry for a passport's metadata. */
static bool add_passport(cJSON *arr, const cJSON *p)
{
	const char *pid = idw_json_str(p, "id");
	const char *name = idw_json_str(p, "name");
	const char *type = idw_json_str(p, "credential_type");
	const char *status = idw_json_str(p, "status");
	char uri[96], desc[160];
	cJSON *o;

	if (pid == NULL || strlen(pid) > 64)
		return true;
	snprintf(uri, sizeof(uri), "passport://%s", pid);
	snprintf(desc, sizeof(desc), "%s passport, %s",
		 type != NULL ? type : "credential",
		 status != NULL ? status : "status unknown");
	o = cJSON_CreateObject();
	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return false;
	}
	return cJSON_AddStringToObject(o, "uri", uri) != NULL &&
	       cJSON_AddStringToObject(o, "name", name ? name : pid) != NULL &&
	       cJSON_AddStringToObject(o, "description", desc) != NULL &&
	       cJSON_AddStringToObject(o, "mimeType", "application/json") !=
		       NULL;
}

int mcp_resources_list(struct mcp_server *s, struct mcp_req *rq,
		       struct idw_buf *out)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(rq->params, "cursor");
	struct idwc_reply rep;
	cJSON *req, *res = NULL, *arr;
	const cJSON *p;
	char why[1024];
	int r;

	/* The agent's own cursor, passed on; it refuses one not its own. */
	if (c != NULL && !cJSON_IsNull(c) &&
	    (!cJSON_IsString(c) || c->valuestring[0] == '\0' ||
	     strlen(c->valuestring) > 128))
		return mcp_put_bad_cursor(out, rq);
	req = cJSON_CreateObject();
	if (req == NULL ||
	    cJSON_AddStringToObject(req, "verb", "list") == NULL ||
	    cJSON_AddNumberToObject(req, "limit", (double)s->page_size) ==
		    NULL ||
	    (cJSON_IsString(c) &&
	     cJSON_AddStringToObject(req, "cursor", c->valuestring) == NULL)) {
		cJSON_Delete(req);
		return IDW_ENOMEM;
	}
	if ((r = mcp_agent_call(s, rq, req, &rep, why, sizeof(why))) != 0) {
		if (r == 1 && rep.err == IDW_EUSAGE && cJSON_IsString(c))
			r = mcp_put_bad_cursor(out, rq);
		else if (r == 1)
			r = mcp_put_error(out, rq->id, MCP_INTERNAL_ERROR, why,
					  NULL);
		goto out;
	}
	r = IDW_ENOMEM;
	if ((res = cJSON_CreateObject()) == NULL ||
	    (arr = cJSON_AddArrayToObject(res, "resources")) == NULL)
		goto out;
	cJSON_ArrayForEach(
		p, cJSON_GetObjectItemCaseSensitive(rep.json, "passports"))
	{
		if (!add_passport(arr, p))
			goto out;
	}
	if (idw_json_str(rep.json, "next_cursor") != NULL &&
	    cJSON_AddStringToObject(res, "nextCursor",
				    idw_json_str(rep.json, "next_cursor")) ==
		    NULL)
		goto out;
	/* A person's passports, changing as they work: never stale. */
	if (!mcp_cacheable(rq, res, 0, false))
		goto out;
	r = mcp_put_result(out, rq, res);
	res = NULL;
out:
	cJSON_Delete(res);
	idwc_reply_free(&rep);
	return r;
}

/* The id part of a resource URI: plain characters only. */
static bool uri_id(const char *rest)
{
	size_t n = strlen(rest);

	return n > 0 && n <= 64 &&
	       strspn(rest,
		      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789_-") == n;
}

int mcp_resources_read(struct mcp_server *s, struct mcp_req *rq,
		       struct idw_buf *out)
{
	const char *uri = idw_json_str(rq->params, "uri");
	const struct mcp_resource *rs = NULL;
	const char *pid = NULL;
	struct idwc_reply rep;
	cJSON *req, *doc = NULL, *res = NULL;
	char why[1024], *text = NULL;
	int r;

	if (uri == NULL)
		return mcp_put_error(out, rq->id, MCP_INVALID_PARAMS,
				     "Invalid params: resources/read needs a "
				     "uri (a string)",
				     NULL);
	for (size_t i = 0; i < sizeof(resources) / sizeof(resources[0]); i++)
		if (strncmp(uri, resources[i].scheme,
			    strlen(resources[i].scheme)) == 0) {
			rs = &resources[i];
			pid = uri + strlen(rs->scheme);
		}
	if (rs == NULL || !uri_id(pid))
		return mcp_put_not_found(out, rq, uri);
	req = cJSON_CreateObject();
	if (req == NULL ||
	    cJSON_AddStringToObject(req, "verb", rs->verb) == NULL ||
	    cJSON_AddStringToObject(req, "id", pid) == NULL ||
	    (strcmp(rs->verb, "audit") == 0 &&
	     cJSON_AddNumberToObject(req, "limit", MCP_AUDIT_ENTRIES) ==
		     NULL)) {
		cJSON_Delete(req);
		return IDW_ENOMEM;
	}
	if ((r = mcp_agent_call(s, rq, req, &rep, why, sizeof(why))) < 0)
		goto out;
	if (r == 1) {
		r = rep.err == IDW_ENOENT
			    ? mcp_put_not_found(out, rq, uri)
			    : mcp_put_error(out, rq->id, MCP_INTERNAL_ERROR,
					    why, NULL);
		goto out;
	}
	r = IDW_ENOMEM;
	if ((doc = rs->render(rep.json, pid)) == NULL ||
	    (text = idw_json_print(doc)) == NULL ||
	    (res = text_contents(uri, text)) == NULL ||
	    !mcp_cacheable(rq, res, 0, false))
		goto out;
	r = mcp_put_result(out, rq, res);
	res = NULL;
out:
	cJSON_Delete(res);
	cJSON_free(text);
	cJSON_Delete(doc);
	idwc_reply_free(&rep);
	return r;
}
