/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client/mcp_server.h"
#include "client/mcp_tools.h"
#include "common/jsonu.h"

static const char *const rev_names[] = {
    [MCP_REV_2024_11_05] = "2024-11-05",
    [MCP_REV_2025_03_26] = "2025-03-26",
    [MCP_REV_2025_06_18] = "2025-06-18",
    [MCP_REV_2025_11_25] = "2025-11-25",
};

static const char instructions[] =
    "idw keeps credentials (passports: API keys, tokens, passwords) for "
    "this person and hands them out under policy, recording every use in "
    "an audit log. Always give a purpose that says specifically why you "
    "need access right now; it is recorded. Call check_policy before "
    "get_credential, and request_access when the policy asks for "
    "approval. Approvals, unlocking and final revocation are done by the "
    "person with the idw command line, never by you: when a result says "
    "a person must act, tell them the command it names and wait. Use a "
    "credential only for the stated purpose and never repeat it in your "
    "answers, files or logs.";

void mcp_server_init(struct mcp_server *s, const struct mcp_backend *be,
		     void *be_ctx)
{
	memset(s, 0, sizeof(*s));
	s->be = be;
	s->be_ctx = be_ctx;
	s->rev = MCP_REV_LATEST;
}

/* Answer helpers. */

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

int mcp_put_result(struct idw_buf *out, const cJSON *id, cJSON *result)
{
	cJSON *m;
	int r;

	if (result == NULL)
		return IDW_ENOMEM;
	m = mcp_envelope(id);
	if (m == NULL || !cJSON_AddItemToObject(m, "result", result)) {
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
static int prescan(const char *p, size_t n)
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

/* Drop a partial answer: never leave half a line behind. */
static void truncate_out(struct idw_buf *out, size_t start)
{
	if (out->len > start) {
		sodium_memzero(out->d + start, out->len - start);
		out->len = start;
	}
}

/* Lifecycle methods. */

static int m_initialize(struct mcp_server *s, const cJSON *id,
			const cJSON *params, struct idw_buf *out)
{
	const char *want = idw_json_str(params, "protocolVersion");
	const cJSON *ci, *caps;
	cJSON *res, *c, *si;
	char actor[128];

	caps = cJSON_GetObjectItemCaseSensitive(params, "capabilities");
	ci = cJSON_GetObjectItemCaseSensitive(params, "clientInfo");
	if (want == NULL)
		return mcp_put_error(out, id, MCP_INVALID_PARAMS,
				     "initialize needs protocolVersion", NULL);
	if ((caps != NULL && !cJSON_IsObject(caps)) ||
	    (ci != NULL && !cJSON_IsObject(ci)))
		return mcp_put_error(out, id, MCP_INVALID_PARAMS,
				     "capabilities and clientInfo are objects",
				     NULL);
	s->rev = MCP_REV_LATEST;
	for (size_t i = 0; i < sizeof(rev_names) / sizeof(rev_names[0]); i++)
		if (strcmp(want, rev_names[i]) == 0)
			s->rev = (enum mcp_rev)i;
	s->initialized = true;
	if (idw_json_str(ci, "name") != NULL && s->be->set_actor != NULL) {
		const char *v = idw_json_str(ci, "version");

		snprintf(actor, sizeof(actor), "%.80s%s%.40s",
			 idw_json_str(ci, "name"), v ? " " : "", v ? v : "");
		s->be->set_actor(s->be_ctx, actor);
	}

	res = cJSON_CreateObject();
	if (res == NULL ||
	    cJSON_AddStringToObject(res, "protocolVersion",
				    rev_names[s->rev]) == NULL ||
	    (c = cJSON_AddObjectToObject(res, "capabilities")) == NULL ||
	    cJSON_AddObjectToObject(c, "tools") == NULL ||
	    cJSON_AddObjectToObject(c, "resources") == NULL ||
	    (si = cJSON_AddObjectToObject(res, "serverInfo")) == NULL ||
	    cJSON_AddStringToObject(si, "name", "idw-mcp") == NULL ||
	    cJSON_AddStringToObject(si, "title", "idw credential agent") ==
		NULL ||
	    cJSON_AddStringToObject(si, "version", IDW_VERSION) == NULL ||
	    cJSON_AddStringToObject(res, "instructions", instructions) ==
		NULL) {
		cJSON_Delete(res);
		return IDW_ENOMEM;
	}
	return mcp_put_result(out, id, res);
}

static int m_ping(struct mcp_server *s, const cJSON *id, const cJSON *params,
		  struct idw_buf *out)
{
	(void)s;
	(void)params;
	return mcp_put_result(out, id, cJSON_CreateObject());
}

struct mcp_method {
	const char *name;
	mcp_method_fn fn;
};

static const struct mcp_method methods[] = {
    {"initialize", m_initialize},
    {"ping", m_ping},
    {"tools/list", mcp_tools_list},
    {"tools/call", mcp_tools_call},
    {"resources/list", mcp_resources_list},
    {"resources/templates/list", mcp_resources_templates},
    {"resources/read", mcp_resources_read},
};

static void notification(struct mcp_server *s, const char *method)
{
	if (strcmp(method, "notifications/initialized") == 0)
		s->ready = true;
	/* Others (cancelled, progress, roots changed) need nothing. */
}

/*
 * The id of a request as it is echoed: a string, the raw text of a
 * number, or NULL when there is none that may be echoed.
 */
static cJSON *request_id(const cJSON *v, const char *line, size_t len)
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

static int handle(struct mcp_server *s, const char *line, size_t len,
		  struct idw_buf *out)
{
	const cJSON *idv, *m, *params, *jv;
	cJSON *msg = NULL, *id = NULL;
	size_t start = out->len;
	mcp_method_fn mfn;
	bool has_id;
	int r, code;

	if (!idw_utf8_valid((const uint8_t *)line, len))
		return mcp_put_error(out, NULL, MCP_PARSE_ERROR,
				     "Parse error: the message is not UTF-8",
				     NULL);
	if ((code = prescan(line, len)) != 0)
		return mcp_put_error(out, NULL, code,
				     code == MCP_PARSE_ERROR
					 ? "Parse error"
					 : "Invalid Request: too many values",
				     NULL);
	msg = idw_json_parse(line, len);
	if (msg == NULL)
		return mcp_put_error(out, NULL, MCP_PARSE_ERROR, "Parse error",
				     NULL);
	if (cJSON_IsArray(msg)) {
		r = mcp_put_error(out, NULL, MCP_INVALID_REQUEST,
				  "Invalid Request: batches are not supported",
				  NULL);
		goto out;
	}
	if (!cJSON_IsObject(msg)) {
		r = mcp_put_error(out, NULL, MCP_INVALID_REQUEST,
				  "Invalid Request: not an object", NULL);
		goto out;
	}
	idv = cJSON_GetObjectItemCaseSensitive(msg, "id");
	has_id = idv != NULL;
	if (has_id && (id = request_id(idv, line, len)) == NULL &&
	    (cJSON_IsString(idv) || cJSON_IsNumber(idv))) {
		r = IDW_ENOMEM;
		goto out;
	}
	m = cJSON_GetObjectItemCaseSensitive(msg, "method");
	params = cJSON_GetObjectItemCaseSensitive(msg, "params");
	jv = cJSON_GetObjectItemCaseSensitive(msg, "jsonrpc");
	if (m == NULL && has_id &&
	    (cJSON_GetObjectItemCaseSensitive(msg, "result") != NULL ||
	     cJSON_GetObjectItemCaseSensitive(msg, "error") != NULL)) {
		/* A response: we send no requests, so nothing waits for it. */
		r = 0;
		goto out;
	}
	if (!cJSON_IsString(jv) || strcmp(jv->valuestring, "2.0") != 0 ||
	    !cJSON_IsString(m) || (has_id && id == NULL) ||
	    (params != NULL && !cJSON_IsObject(params) &&
	     !cJSON_IsArray(params))) {
		r = mcp_put_error(out, id, MCP_INVALID_REQUEST,
				  "Invalid Request", NULL);
		goto out;
	}
	if (!has_id) {
		notification(s, m->valuestring);
		r = 0;
		goto out;
	}
	if (cJSON_IsArray(params)) {
		r = mcp_put_error(out, id, MCP_INVALID_PARAMS,
				  "Invalid params: params must be an object",
				  NULL);
		goto out;
	}
	mfn = NULL;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(m->valuestring, methods[i].name) == 0)
			mfn = methods[i].fn;
	if (mfn == NULL) {
		r = mcp_put_error(out, id, MCP_METHOD_NOT_FOUND,
				  "Method not found", NULL);
		goto out;
	}
	if ((r = mfn(s, id, params, out)) != 0) {
		/* The answer did not fit or memory ran out: say so instead. */
		truncate_out(out, start);
		r = mcp_put_error(out, id, MCP_INTERNAL_ERROR, idw_strerror(r),
				  NULL);
	}
out:
	cJSON_Delete(id);
	cJSON_Delete(msg);
	return r;
}

int mcp_handle_line(struct mcp_server *s, const char *line, size_t len,
		    struct idw_buf *out)
{
	size_t start = out->len;
	size_t n = len;
	int r;

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
			 line[n - 1] == '\t'))
		n--;
	if (skip_ws(line, n, 0) == n)
		return 0;
	r = handle(s, line, n, out);
	if (r != 0) {
		truncate_out(out, start);
		r = mcp_put_error(out, NULL, MCP_INTERNAL_ERROR,
				  idw_strerror(r), NULL);
	}
	return r;
}

int mcp_reply_too_long(struct idw_buf *out)
{
	return mcp_put_error(out, NULL, MCP_INVALID_REQUEST,
			     "Invalid Request: message longer than 1 MiB "
			     "discarded",
			     NULL);
}

/* The line reader. */

void mcp_reader_init(struct mcp_reader *r, mcp_read_fn fn, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->read = fn;
	r->ctx = ctx;
	idw_buf_init(&r->line, MCP_LINE_MAX, 0);
}

void mcp_reader_free(struct mcp_reader *r)
{
	idw_buf_free(&r->line);
}

int mcp_reader_next(struct mcp_reader *r, const char **line, size_t *len)
{
	idw_buf_reset(&r->line);
	for (;;) {
		uint8_t *nl;
		size_t seg;
		ssize_t got;

		if (r->pos == r->end) {
			if (r->eof) {
				if (r->discarding) {
					r->discarding = false;
					return MCP_READ_TOO_LONG;
				}
				if (r->line.len == 0)
					return MCP_READ_EOF;
				break; /* a last line without its newline */
			}
			got = r->read(r->ctx, r->chunk, sizeof(r->chunk));
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				return IDW_EIO;
			if (got == 0)
				r->eof = true;
			r->pos = 0;
			r->end = (size_t)got;
			continue;
		}
		nl = memchr(r->chunk + r->pos, '\n', r->end - r->pos);
		seg = nl != NULL ? (size_t)(nl - (r->chunk + r->pos))
				 : r->end - r->pos;
		if (!r->discarding && r->line.len + seg > MCP_LINE_MAX) {
			/* Over the bound: forget what we held, skip the rest.
			 */
			idw_buf_reset(&r->line);
			r->discarding = true;
		}
		if (!r->discarding &&
		    idw_buf_put(&r->line, r->chunk + r->pos, seg) != 0)
			return IDW_ENOMEM;
		r->pos += seg;
		if (nl == NULL)
			continue;
		r->pos++;
		if (r->discarding) {
			r->discarding = false;
			return MCP_READ_TOO_LONG;
		}
		break;
	}
	*line = r->line.len ? (const char *)r->line.d : "";
	*len = r->line.len;
	return MCP_READ_LINE;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return IDW_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int mcp_serve(struct mcp_server *s, struct mcp_reader *rd, int out_fd)
{
	struct idw_buf out;
	const char *line;
	size_t len;
	int r;

	/* Answers may carry a value: they are built in locked memory. */
	idw_buf_init(&out, MCP_OUT_MAX, IDW_BUF_SECURE);
	for (;;) {
		r = mcp_reader_next(rd, &line, &len);
		if (r == MCP_READ_EOF || r < 0)
			break;
		if (r == MCP_READ_TOO_LONG)
			r = mcp_reply_too_long(&out);
		else
			r = mcp_handle_line(s, line, len, &out);
		if (r != 0)
			fprintf(stderr, "idw-mcp: could not answer: %s\n",
				idw_strerror(r));
		if ((r = write_all(out_fd, out.d, out.len)) != 0)
			break;
		idw_buf_reset(&out);
	}
	idw_buf_free(&out);
	if (r < 0)
		fprintf(stderr, "idw-mcp: %s\n",
			r == IDW_EIO ? "input or output closed with an error"
				     : idw_strerror(r));
	return r;
}
