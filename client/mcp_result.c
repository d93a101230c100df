/* SPDX-License-Identifier: ISC */
#include <string.h>

#include <sodium.h>

#include "client/mcp_tools.h"
#include "common/jsonu.h"

/* Tool results: structuredContent with its text copy, or isError. */

/* A result object with content [{"type":"text","text":text}]. */
static cJSON *text_result(const char *text)
{
	cJSON *res = cJSON_CreateObject(), *content, *item;

	if (res == NULL ||
	    (content = cJSON_AddArrayToObject(res, "content")) == NULL ||
	    (item = cJSON_CreateObject()) == NULL)
		goto fail;
	if (!cJSON_AddItemToArray(content, item)) {
		cJSON_Delete(item);
		goto fail;
	}
	if (cJSON_AddStringToObject(item, "type", "text") == NULL ||
	    cJSON_AddStringToObject(item, "text", text) == NULL)
		goto fail;
	return res;
fail:
	cJSON_Delete(res);
	return NULL;
}

int mcp_put_tool_error(struct idw_buf *out, const struct mcp_req *rq,
		       const char *text)
{
	cJSON *res = text_result(text);

	if (res != NULL && cJSON_AddTrueToObject(res, "isError") == NULL) {
		cJSON_Delete(res);
		res = NULL;
	}
	return mcp_put_result(out, rq, res);
}

/* structuredContent came with 2025-06-18; before it, the text alone. */
static bool structured(const struct mcp_req *rq)
{
	return rq->rev >= MCP_REV_2025_06_18;
}

/*
 * {"content":[{"type":"text","text":TEXT}],"structuredContent":S,
 * "isError":false}, taking S over.
 */
static cJSON *tool_result(const struct mcp_req *rq, cJSON *s, const char *text)
{
	cJSON *res = text_result(text);

	if (!structured(rq)) {
		cJSON_Delete(s);
		s = NULL;
	}
	if (res == NULL ||
	    (s != NULL &&
	     !cJSON_AddItemToObject(res, "structuredContent", s))) {
		cJSON_Delete(res);
		cJSON_Delete(s);
		return NULL;
	}
	if (cJSON_AddFalseToObject(res, "isError") == NULL ||
	    !mcp_decorate(rq, res)) {
		cJSON_Delete(res);
		return NULL;
	}
	return res;
}

int mcp_put_tool_result(struct idw_buf *out, const struct mcp_req *rq, cJSON *s)
{
	char *text = idw_json_print(s);
	cJSON *res;
	int r;

	if (text == NULL) {
		cJSON_Delete(s);
		return IDW_ENOMEM;
	}
	res = tool_result(rq, s, text);
	cJSON_free(text);
	r = mcp_put_result(out, rq, res);
	return r;
}

static void marker_new(char m[48])
{
	uint8_t rnd[16];

	randombytes_buf(rnd, sizeof(rnd));
	memcpy(m, "@@idw-value-", 12);
	sodium_bin2hex(m + 12, 33, rnd, sizeof(rnd));
	memcpy(m + 44, "@@", 3);
}

static size_t count(const char *s, const char *m)
{
	size_t n = 0;

	for (; (s = strstr(s, m)) != NULL; s += strlen(m))
		n++;
	return n;
}

/*
 * A result with a value.  cJSON only ever sees two random markers: one
 * for structuredContent.credential, one inside the text copy.  The value
 * is spliced in afterwards in locked memory, JSON-escaped once for the
 * first and twice for the second (the text copy is JSON inside a JSON
 * string).  Before 2025-06-18 only the text copy carries it.
 */
int mcp_put_secret_result(struct idw_buf *out, const struct mcp_req *rq,
			  cJSON *s, const uint8_t *v, size_t n)
{
	char m1[48], m2[48], *text = NULL, *tmpl = NULL;
	struct idw_buf a, e1;
	cJSON *msg = NULL, *res;
	int r = IDW_ENOMEM;

	idw_buf_init(&a, MCP_OUT_MAX, IDW_BUF_SECURE);
	idw_buf_init(&e1, MCP_OUT_MAX, IDW_BUF_SECURE);
	if (!(out->flags & IDW_BUF_SECURE)) {
		cJSON_Delete(s);
		r = IDW_EPERM; /* a value never goes to unlocked memory */
		goto out;
	}
	marker_new(m1);
	marker_new(m2);
	if (!cJSON_ReplaceItemInObjectCaseSensitive(s, "credential",
						    cJSON_CreateString(m2)) ||
	    (text = idw_json_print(s)) == NULL ||
	    !cJSON_ReplaceItemInObjectCaseSensitive(s, "credential",
						    cJSON_CreateString(m1))) {
		cJSON_Delete(s);
		goto out;
	}
	if ((res = tool_result(rq, s, text)) == NULL ||
	    (msg = mcp_envelope(rq->id)) == NULL ||
	    !cJSON_AddItemToObject(msg, "result", res)) {
		cJSON_Delete(res);
		goto out;
	}
	if ((tmpl = idw_json_print(msg)) == NULL)
		goto out;
	if (count(tmpl, m1) != (structured(rq) ? 1 : 0) ||
	    count(tmpl, m2) != 1) {
		r = IDW_ERR;
		goto out;
	}
	if ((r = structured(rq) ? idw_json_splice(&a, tmpl, m1, v, n)
				: idw_buf_put_str(&a, tmpl)) != 0 ||
	    (r = idw_buf_put_u8(&a, '\0')) != 0 ||
	    (r = idw_json_escape(&e1, v, n)) != 0 ||
	    (r = idw_json_splice(out, (const char *)a.d, m2, e1.d, e1.len)) !=
		    0 ||
	    (r = idw_buf_put_u8(out, '\n')) != 0)
		goto out;
out:
	idw_buf_free(&a);
	idw_buf_free(&e1);
	cJSON_free(text);
	cJSON_free(tmpl);
	cJSON_Delete(msg);
	return r;
}
