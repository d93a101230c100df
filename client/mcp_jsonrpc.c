/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/mcp_tools.h"
#include "common/jsonu.h"

/* JSON-RPC answers and the raw-text helpers behind them. */

static const char *const rev_names[MCP_REV_COUNT] = {
	[MCP_REV_2024_11_05] = "2024-11-05",
	[MCP_REV_2025_03_26] = "2025-03-26",
	[MCP_REV_2025_06_18] = "2025-06-18",
	[MCP_REV_2025_11_25] = "2025-11-25",
	[MCP_REV_2026_07_28] = "2026-07-28",
};

const char *mcp_rev_name(enum mcp_rev rev)
{
	return rev < MCP_REV_COUNT ? rev_names[rev] : "unknown";
}

cJSON *mcp_envelope(const cJSON *id)
{
	cJSON *m = cJSON_CreateObject();
	cJSON *idc = id != NULL ? cJSON_Duplicate(id, 0) : cJSON_CreateNull();

	if (m == NULL || idc == NULL ||
	    cJSON_AddStringToObject(m, "jsonrpc", "2.0") == NULL ||
	    !cJSON_AddItemToObject(m, "id", idc)) {
		cJSON_Delete(m);
		cJSON_Delete(idc);
		return NULL;
	}
	return m;
}

int mcp_put_line(struct idw_buf *out, const cJSON *msg)
{
	char *txt = idw_json_print(msg);
	int r;

	if (txt == NULL)
		return IDW_ENOMEM;
	if ((r = idw_buf_put_str(out, txt)) == 0)
		r = idw_buf_put_u8(out, '\n');
	cJSON_free(txt);
	return r;
}

/*
 * 2026-07-28: every result names its type, and the server says who it is
 * in each result's _meta, since there is no handshake to say it once.
 */
bool mcp_decorate(const struct mcp_req *rq, cJSON *result)
{
	cJSON *meta, *si;

	if (!rq->modern)
		return true;
	if (cJSON_GetObjectItemCaseSensitive(result, "resultType") == NULL &&
	    cJSON_AddStringToObject(result, "resultType", "complete") == NULL)
		return false;
	meta = cJSON_GetObjectItemCaseSensitive(result, "_meta");
	if (meta == NULL &&
	    (meta = cJSON_AddObjectToObject(result, "_meta")) == NULL)
		return false;
	if (cJSON_GetObjectItemCaseSensitive(
		    meta, "io.modelcontextprotocol/serverInfo") != NULL)
		return true;
	si = cJSON_AddObjectToObject(meta,
				     "io.modelcontextprotocol/serverInfo");
	return si != NULL &&
	       cJSON_AddStringToObject(si, "name", "idw-mcp") != NULL &&
	       cJSON_AddStringToObject(si, "title", "idw credential agent") !=
		       NULL &&
	       cJSON_AddStringToObject(si, "version", IDW_VERSION) != NULL;
}

bool mcp_cacheable(const struct mcp_req *rq, cJSON *result, double ttl_ms,
		   bool public_scope)
{
	if (!rq->modern)
		return true;
	return cJSON_AddNumberToObject(result, "ttlMs", ttl_ms) != NULL &&
	       cJSON_AddStringToObject(result, "cacheScope",
				       public_scope ? "public" : "private") !=
		       NULL;
}

int mcp_put_result(struct idw_buf *out, const struct mcp_req *rq, cJSON *result)
{
	cJSON *m;
	int r;

	if (result == NULL)
		return IDW_ENOMEM;
	m = mcp_envelope(rq->id);
	if (m == NULL || !mcp_decorate(rq, result) ||
	    !cJSON_AddItemToObject(m, "result", result)) {
		cJSON_Delete(m);
		cJSON_Delete(result);
		return IDW_ENOMEM;
	}
	r = mcp_put_line(out, m);
	cJSON_Delete(m);
	return r;
}

int mcp_put_error(struct idw_buf *out, const cJSON *id, int code,
		  const char *message, cJSON *data)
{
	cJSON *m = mcp_envelope(id), *e = cJSON_CreateObject();
	int r = IDW_ENOMEM;

	if (m == NULL || e == NULL || !cJSON_AddItemToObject(m, "error", e)) {
		cJSON_Delete(e);
		goto out;
	}
	if (cJSON_AddNumberToObject(e, "code", code) == NULL ||
	    cJSON_AddStringToObject(e, "message", message) == NULL)
		goto out;
	if (data != NULL) {
		if (!cJSON_AddItemToObject(e, "data", data))
			goto out;
		data = NULL;
	}
	r = mcp_put_line(out, m);
out:
	cJSON_Delete(data);
	cJSON_Delete(m);
	return r;
}

void mcp_truncate(struct idw_buf *out, size_t start)
{
	if (out->len > start) {
		sodium_memzero(out->d + start, out->len - start);
		out->len = start;
	}
}

int mcp_put_bad_cursor(struct idw_buf *out, const struct mcp_req *rq)
{
	return mcp_put_error(out, rq->id, MCP_INVALID_PARAMS,
			     "Invalid params: the cursor is not one this "
			     "server gave out; list again without it",
			     NULL);
}

/* Error data naming the URI; optional, so NULL when it is not worth it. */
static cJSON *uri_data(const char *uri)
{
	cJSON *d =
		uri != NULL && strlen(uri) <= 256 ? cJSON_CreateObject() : NULL;

	if (d != NULL && cJSON_AddStringToObject(d, "uri", uri) == NULL) {
		cJSON_Delete(d);
		d = NULL;
	}
	return d;
}

/* 2026-07-28 answers a missing resource with invalid params, not -32002. */
int mcp_put_not_found(struct idw_buf *out, const struct mcp_req *rq,
		      const char *uri)
{
	return mcp_put_error(out, rq->id,
			     rq->modern ? MCP_INVALID_PARAMS
					: MCP_RESOURCE_NOT_FOUND,
			     "Resource not found", uri_data(uri));
}

/*
 * Scanning the raw line.  cJSON has already accepted it, so these only
 * need to be safe on any input, not to diagnose it.
 */
static size_t skip_ws(const char *p, size_t n, size_t i)
{
	while (i < n &&
	       (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

/* i at the opening quote; returns the index after the closing one. */
static size_t skip_string(const char *p, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return n;
}

static size_t skip_value(const char *p, size_t n, size_t i)
{
	int depth = 0;

	if (i < n && p[i] == '"')
		return skip_string(p, n, i);
	while (i < n) {
		char c = p[i];

		if (c == '"') {
			i = skip_string(p, n, i);
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (depth == 0)
				return i;
			if (--depth == 0)
				return i + 1;
		} else if (depth == 0 && (c == ',' || c == ' ' || c == '\t' ||
					  c == '\r' || c == '\n')) {
			return i;
		}
		i++;
	}
	return n;
}

int mcp_each_element(const char *p, size_t n,
		     int (*fn)(void *ctx, const char *e, size_t en), void *ctx)
{
	size_t i = skip_ws(p, n, 0);
	int r;

	if (i >= n || p[i] != '[')
		return IDW_EINVAL;
	for (i = skip_ws(p, n, i + 1); i < n && p[i] != ']';) {
		size_t e = skip_value(p, n, i);

		if (e <= i)
			return IDW_EINVAL;
		if ((r = fn(ctx, p + i, e - i)) != 0)
			return r;
		i = skip_ws(p, n, e);
		if (i < n && p[i] == ',')
			i = skip_ws(p, n, i + 1);
	}
	return 0;
}

/*
 * The raw text of the first top-level member "id", so a numeric id is
 * echoed exactly as sent (cJSON keeps numbers as doubles).
 */
static bool raw_id(const char *p, size_t n, size_t *at, size_t *len)
{
	size_t i = skip_ws(p, n, 0);

	if (i >= n || p[i] != '{')
		return false;
	i++;
	for (;;) {
		size_t k, v;

		i = skip_ws(p, n, i);
		if (i >= n || p[i] != '"')
			return false;
		k = i;
		i = skip_string(p, n, i);
		i = skip_ws(p, n, i);
		if (i >= n || p[i] != ':')
			return false;
		v = skip_ws(p, n, i + 1);
		i = skip_value(p, n, v);
		if (skip_string(p, n, k) == k + 4 &&
		    memcmp(p + k, "\"id\"", 4) == 0) {
			*at = v;
			*len = i - v;
			return true;
		}
		i = skip_ws(p, n, i);
		if (i >= n || p[i] != ',')
			return false;
		i++;
	}
}

/*
 * One pass over the line: control characters inside strings are not
 * JSON, and a bound on the number of values keeps a megabyte of "[1,1,"
 * from turning into hundreds of thousands of locked cJSON nodes.
 */
int mcp_prescan(const char *p, size_t n)
{
	bool in_str = false;
	size_t values = 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			else if (c < 0x20)
				return MCP_PARSE_ERROR;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == ',' || c == '[' || c == '{')
			values++;
		else if (c < 0x20 && c != ' ' && c != '\t' && c != '\r' &&
			 c != '\n')
			return MCP_PARSE_ERROR;
	}
	return values > MCP_MAX_VALUES ? MCP_INVALID_REQUEST : 0;
}

cJSON *mcp_request_id(const cJSON *v, const char *line, size_t len)
{
	size_t at, n;

	if (cJSON_IsString(v))
		return cJSON_CreateString(v->valuestring);
	if (!cJSON_IsNumber(v))
		return NULL;
	if (raw_id(line, len, &at, &n) && n > 0 && n <= 64) {
		char raw[65];

		memcpy(raw, line + at, n);
		raw[n] = '\0';
		/* Number characters only, and the number cJSON read. */
		if (strspn(raw, "-+.0123456789eE") == n &&
		    strtod(raw, NULL) == v->valuedouble)
			return cJSON_CreateRaw(raw);
	}
	return cJSON_Duplicate(v, 0);
}

void mcp_utf8_trim(char *s)
{
	size_t n = strlen(s), k = n;

	/* Back over continuation bytes to the last lead byte. */
	while (k > 0 && ((unsigned char)s[k - 1] & 0xc0) == 0x80)
		k--;
	if (k > 0 && !idw_utf8_valid((const uint8_t *)s + k - 1, n - k + 1))
		s[k - 1] = '\0';
}

/* Logging: RFC 5424 severities, as notifications/message names them. */
static const char *const levels[] = {"debug",	"info",	    "notice",
				     "warning", "error",    "critical",
				     "alert",	"emergency"};

int mcp_log_level(const char *name)
{
	for (int i = 0; name != NULL && i < 8; i++)
		if (strcmp(name, levels[i]) == 0)
			return i;
	return -1;
}

void mcp_log(struct mcp_server *s, const struct mcp_req *rq, int level,
	     const char *fmt, ...)
{
	cJSON *m = NULL, *p;
	char text[512];
	va_list ap;

	if (rq == NULL || level < rq->log_level || level > 7)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	mcp_utf8_trim(text);
	/* Lost lines of a log are not worth failing an answer for. */
	if ((m = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(m, "jsonrpc", "2.0") == NULL ||
	    cJSON_AddStringToObject(m, "method", "notifications/message") ==
		    NULL ||
	    (p = cJSON_AddObjectToObject(m, "params")) == NULL ||
	    cJSON_AddStringToObject(p, "level", levels[level]) == NULL ||
	    cJSON_AddStringToObject(p, "logger", "idw-mcp") == NULL ||
	    cJSON_AddStringToObject(p, "data", text) == NULL ||
	    mcp_put_line(&s->log, m) != 0)
		fprintf(stderr, "idw-mcp: a log notification was dropped\n");
	cJSON_Delete(m);
}
