/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/mcp_server.h"
#include "client/mcp_tools.h"
#include "common/jsonu.h"

/*
 * One line in, its answers out.  Two generations of the protocol share
 * this binary: the handshake revisions (2024-11-05 to 2025-11-25), chosen
 * once by initialize for the whole stdio session, and the stateless
 * 2026-07-28, chosen by each request that names it in params._meta.
 */
#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_INFO "io.modelcontextprotocol/clientInfo"
#define META_LOG "io.modelcontextprotocol/logLevel"

static const char instructions[] =
	"idw keeps credentials (passports: API keys, tokens, passwords) for "
	"this person and hands them out under policy, recording every use in "
	"an audit log. Always give a purpose that says specifically why you "
	"need access right now; it is recorded. Call check_policy before "
	"get_credential, and request_access when the policy asks for "
	"approval. Approvals, unlocking and final revocation are done by the "
	"person, never by you: with the idw command line, or in this client "
	"when idw asks them here. When a result says a person must act, tell "
	"them the command it names and wait. Use a credential only for the "
	"stated purpose and never repeat it in your answers, files or logs.";

void mcp_server_init(struct mcp_server *s, const struct mcp_backend *be,
		     void *be_ctx)
{
	memset(s, 0, sizeof(*s));
	s->be = be;
	s->be_ctx = be_ctx;
	s->rev = MCP_REV_LEGACY_LATEST;
	s->log_level = MCP_LOG_OFF;
	s->page_size = MCP_PAGE;
	s->elicit_ms = 300000;
	idw_buf_init(&s->log, MCP_OUT_MAX, 0);
	randombytes_buf(s->state_key, sizeof(s->state_key));
}

void mcp_server_free(struct mcp_server *s)
{
	mcp_server_abandon(s);
	idw_buf_free(&s->log);
	sodium_memzero(s->state_key, sizeof(s->state_key));
}

/* Form elicitation: an empty elicitation object means form too. */
static bool takes_form(const cJSON *caps)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(caps, "elicitation");

	return cJSON_IsObject(e) &&
	       (e->child == NULL ||
		cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(e, "form")));
}

static void set_actor(struct mcp_server *s, const cJSON *ci)
{
	const char *name = idw_json_str(ci, "name");
	const char *v = idw_json_str(ci, "version");
	char actor[128];

	if (name == NULL || s->be->set_actor == NULL)
		return;
	snprintf(actor, sizeof(actor), "%.80s%s%.40s", name, v ? " " : "",
		 v ? v : "");
	mcp_utf8_trim(actor);
	s->be->set_actor(s->be_ctx, actor);
}

/* {"tools":{},"resources":{},"logging":{}} with the lists' flags. */
static cJSON *capabilities(void)
{
	cJSON *c = cJSON_CreateObject(), *t, *r;

	if (c == NULL || (t = cJSON_AddObjectToObject(c, "tools")) == NULL ||
	    cJSON_AddFalseToObject(t, "listChanged") == NULL ||
	    (r = cJSON_AddObjectToObject(c, "resources")) == NULL ||
	    cJSON_AddFalseToObject(r, "subscribe") == NULL ||
	    cJSON_AddFalseToObject(r, "listChanged") == NULL ||
	    cJSON_AddObjectToObject(c, "logging") == NULL) {
		cJSON_Delete(c);
		return NULL;
	}
	return c;
}

/* Lifecycle methods. */

static int m_initialize(struct mcp_server *s, struct mcp_req *rq,
			struct idw_buf *out)
{
	const char *want = idw_json_str(rq->params, "protocolVersion");
	const cJSON *ci, *caps;
	cJSON *res, *c, *si;
	enum mcp_rev rev = MCP_REV_LEGACY_LATEST;

	caps = cJSON_GetObjectItemCaseSensitive(rq->params, "capabilities");
	ci = cJSON_GetObjectItemCaseSensitive(rq->params, "clientInfo");
	if (want == NULL)
		return mcp_put_error(out, rq->id, MCP_INVALID_PARAMS,
				     "Invalid params: initialize needs "
				     "protocolVersion (a string)",
				     NULL);
	if ((caps != NULL && !cJSON_IsObject(caps)) ||
	    (ci != NULL && !cJSON_IsObject(ci)))
		return mcp_put_error(out, rq->id, MCP_INVALID_PARAMS,
				     "Invalid params: capabilities and "
				     "clientInfo are objects",
				     NULL);
	/* The version asked for when we have it, else our latest. */
	for (int i = 0; i <= MCP_REV_LEGACY_LATEST; i++)
		if (strcmp(want, mcp_rev_name((enum mcp_rev)i)) == 0)
			rev = (enum mcp_rev)i;
	s->rev = rev;
	s->initialized = true;
	s->client_elicit = rev >= MCP_REV_2025_06_18 && takes_form(caps);
	rq->rev = rev;
	set_actor(s, ci);

	res = cJSON_CreateObject();
	if (res == NULL ||
	    cJSON_AddStringToObject(res, "protocolVersion",
				    mcp_rev_name(rev)) == NULL ||
	    (c = capabilities()) == NULL)
		goto nomem;
	if (!cJSON_AddItemToObject(res, "capabilities", c)) {
		cJSON_Delete(c);
		goto nomem;
	}
	if ((si = cJSON_AddObjectToObject(res, "serverInfo")) == NULL ||
	    cJSON_AddStringToObject(si, "name", "idw-mcp") == NULL ||
	    (rev >= MCP_REV_2025_06_18 &&
	     cJSON_AddStringToObject(si, "title", "idw credential agent") ==
		     NULL) ||
	    cJSON_AddStringToObject(si, "version", IDW_VERSION) == NULL ||
	    cJSON_AddStringToObject(res, "instructions", instructions) == NULL)
		goto nomem;
	return mcp_put_result(out, rq, res);
nomem:
	cJSON_Delete(res);
	return IDW_ENOMEM;
}

static int m_ping(struct mcp_server *s, struct mcp_req *rq, struct idw_buf *out)
{
	(void)s;
	return mcp_put_result(out, rq, cJSON_CreateObject());
}

static int m_set_level(struct mcp_server *s, struct mcp_req *rq,
		       struct idw_buf *out)
{
	int level = mcp_log_level(idw_json_str(rq->params, "level"));

	if (level < 0)
		return mcp_put_error(out, rq->id, MCP_INVALID_PARAMS,
				     "Invalid params: level must be one of "
				     "debug, info, notice, warning, error, "
				     "critical, alert, emergency",
				     NULL);
	s->log_level = level;
	rq->log_level = level;
	mcp_log(s, rq, 0, "log level set to %s",
		idw_json_str(rq->params, "level"));
	return mcp_put_result(out, rq, cJSON_CreateObject());
}

static int m_discover(struct mcp_server *s, struct mcp_req *rq,
		      struct idw_buf *out)
{
	cJSON *res = cJSON_CreateObject(), *v, *c;

	(void)s;
	if (res == NULL ||
	    (v = cJSON_AddArrayToObject(res, "supportedVersions")) == NULL ||
	    !cJSON_AddItemToArray(
		    v, cJSON_CreateString(mcp_rev_name(MCP_REV_2026_07_28))) ||
	    (c = capabilities()) == NULL)
		goto nomem;
	if (!cJSON_AddItemToObject(res, "capabilities", c)) {
		cJSON_Delete(c);
		goto nomem;
	}
	if (cJSON_AddStringToObject(res, "instructions", instructions) ==
		    NULL ||
	    !mcp_cacheable(rq, res, 3600000, true))
		goto nomem;
	return mcp_put_result(out, rq, res);
nomem:
	cJSON_Delete(res);
	return IDW_ENOMEM;
}

#define M_LEGACY 0x1  /* a method of the handshake revisions */
#define M_MODERN 0x2  /* a method of 2026-07-28 */
#define M_PREINIT 0x4 /* may come before initialize */

struct mcp_method {
	const char *name;
	mcp_method_fn fn;
	int flags;
};

static const struct mcp_method methods[] = {
	{"initialize", m_initialize, M_LEGACY | M_PREINIT},
	{"ping", m_ping, M_LEGACY | M_PREINIT},
	{"logging/setLevel", m_set_level, M_LEGACY},
	{"server/discover", m_discover, M_MODERN},
	{"tools/list", mcp_tools_list, M_LEGACY | M_MODERN},
	{"tools/call", mcp_tools_call, M_LEGACY | M_MODERN},
	{"resources/list", mcp_resources_list, M_LEGACY | M_MODERN},
	{"resources/templates/list", mcp_resources_templates,
	 M_LEGACY | M_MODERN},
	{"resources/read", mcp_resources_read, M_LEGACY | M_MODERN},
};

static const struct mcp_method *find_method(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strcmp(name, methods[i].name) == 0)
			return &methods[i];
	return NULL;
}

static int notification(struct mcp_server *s, const char *method,
			const cJSON *params, struct idw_buf *out)
{
	char key[MCP_KEY_MAX];

	if (strcmp(method, "notifications/initialized") == 0)
		s->ready = true;
	else if (strcmp(method, "notifications/cancelled") == 0 &&
		 mcp_id_key(
			 cJSON_GetObjectItemCaseSensitive(params, "requestId"),
			 key))
		mcp_approval_cancel(s, key, out);
	/* Others (progress, roots changed) need nothing. */
	return 0;
}

static int unsupported_version(struct idw_buf *out, const cJSON *id,
			       const char *asked)
{
	cJSON *d = cJSON_CreateObject(), *v;

	if (d == NULL || (v = cJSON_AddArrayToObject(d, "supported")) == NULL ||
	    !cJSON_AddItemToArray(
		    v, cJSON_CreateString(mcp_rev_name(MCP_REV_2026_07_28))) ||
	    cJSON_AddStringToObject(d, "requested", asked) == NULL) {
		cJSON_Delete(d);
		return IDW_ENOMEM;
	}
	return mcp_put_error(out, id, MCP_UNSUPPORTED_VERSION,
			     "Unsupported protocol version", d);
}

/*
 * Which revision serves rq, from its _meta and the session.  0 to go on,
 * 1 when an error answer was written instead.
 */
static int choose_revision(struct mcp_server *s, struct mcp_req *rq,
			   const char *method, struct idw_buf *out, int *r)
{
	const cJSON *meta =
		cJSON_GetObjectItemCaseSensitive(rq->params, "_meta");
	const cJSON *pv = cJSON_GetObjectItemCaseSensitive(meta, META_VERSION);
	const cJSON *caps = cJSON_GetObjectItemCaseSensitive(meta, META_CAPS);
	const cJSON *lv = cJSON_GetObjectItemCaseSensitive(meta, META_LOG);
	const char *msg = NULL;

	if (meta != NULL && !cJSON_IsObject(meta))
		msg = "Invalid params: _meta must be an object";
	else if (pv != NULL && !cJSON_IsString(pv))
		msg = "Invalid params: _meta " META_VERSION " must be a string";
	if (msg != NULL)
		goto bad;
	if (pv == NULL || strcmp(method, "initialize") == 0 ||
	    (s->initialized &&
	     strcmp(pv->valuestring, mcp_rev_name(s->rev)) == 0)) {
		if (strcmp(method, "server/discover") == 0) {
			msg = "Invalid params: server/discover "
			      "needs " META_VERSION " and " META_CAPS
			      " in params._meta";
			goto bad;
		}
		return 0; /* the session's revision */
	}
	if (strcmp(pv->valuestring, mcp_rev_name(MCP_REV_2026_07_28)) != 0) {
		*r = unsupported_version(out, rq->id, pv->valuestring);
		return 1;
	}
	if (!cJSON_IsObject(caps)) {
		msg = "Invalid params: _meta " META_CAPS " must be an object";
		goto bad;
	}
	rq->modern = true;
	rq->rev = MCP_REV_2026_07_28;
	rq->elicit = takes_form(caps);
	rq->log_level = MCP_LOG_OFF;
	if (lv != NULL &&
	    (rq->log_level = mcp_log_level(cJSON_GetStringValue(lv))) < 0) {
		msg = "Invalid params: _meta " META_LOG " must be a log level";
		goto bad;
	}
	set_actor(s, cJSON_GetObjectItemCaseSensitive(meta, META_INFO));
	return 0;
bad:
	*r = mcp_put_error(out, rq->id, MCP_INVALID_PARAMS, msg, NULL);
	return 1;
}

/* A request: id and method are valid; params an object or absent. */
static int request(struct mcp_server *s, cJSON *id, const char *key,
		   const char *method, const cJSON *params, bool in_batch,
		   struct idw_buf *out)
{
	const struct mcp_method *m;
	struct mcp_req rq;
	cJSON *empty = NULL;
	size_t start = out->len;
	bool cancellable;
	int r = 0;

	memset(&rq, 0, sizeof(rq));
	rq.id = id;
	snprintf(rq.key, sizeof(rq.key), "%s", key);
	rq.rev = s->rev;
	rq.elicit = s->client_elicit;
	rq.log_level = s->log_level;
	rq.params = params != NULL ? params : (empty = cJSON_CreateObject());
	if (rq.params == NULL)
		return IDW_ENOMEM;
	if (choose_revision(s, &rq, method, out, &r))
		goto out;
	m = find_method(method);
	if (m == NULL || !(m->flags & (rq.modern ? M_MODERN : M_LEGACY))) {
		r = mcp_put_error(out, id, MCP_METHOD_NOT_FOUND,
				  rq.modern ? "Method not found in protocol "
					      "revision 2026-07-28"
					    : "Method not found",
				  NULL);
		goto out;
	}
	if (in_batch && m->fn == m_initialize) {
		r = mcp_put_error(out, id, MCP_INVALID_REQUEST,
				  "Invalid Request: initialize must not be "
				  "part of a batch",
				  NULL);
		goto out;
	}
	if (!rq.modern && !s->initialized && !(m->flags & M_PREINIT)) {
		r = mcp_put_error(out, id, MCP_INVALID_PARAMS,
				  "Invalid params: this session is not "
				  "initialized. Send initialize first, or "
				  "name protocol revision 2026-07-28 in "
				  "params._meta (" META_VERSION
				  " and " META_CAPS ")",
				  NULL);
		goto out;
	}
	/*
	 * Cancelled before we got to it, or while it ran: the client wants
	 * no answer.  initialize is never cancelled.
	 */
	cancellable = s->rd != NULL && m->fn != m_initialize;
	if (cancellable && mcp_reader_cancelled(s->rd, rq.key))
		goto out;
	r = m->fn(s, &rq, out);
	if (r < 0) {
		/* The answer did not fit or memory ran out: say so instead. */
		mcp_truncate(out, start);
		r = mcp_put_error(out, id, MCP_INTERNAL_ERROR, idw_strerror(r),
				  NULL);
	} else if (r == 0 && cancellable &&
		   mcp_reader_cancelled(s->rd, rq.key)) {
		mcp_truncate(out, start);
	}
	if (r == MCP_SUSPENDED)
		r = 0;
out:
	cJSON_Delete(empty);
	return r;
}

/* One JSON-RPC message (an element of a batch, or a whole line). */
static int handle_msg(struct mcp_server *s, const char *line, size_t len,
		      bool in_batch, struct idw_buf *out)
{
	const cJSON *idv, *m, *params, *jv;
	cJSON *msg, *id = NULL;
	bool has_id;
	char key[MCP_KEY_MAX];
	int r;

	msg = idw_json_parse(line, len);
	if (msg == NULL)
		return mcp_put_error(out, NULL, MCP_PARSE_ERROR, "Parse error",
				     NULL);
	if (!cJSON_IsObject(msg)) {
		r = mcp_put_error(
			out, NULL, MCP_INVALID_REQUEST,
			cJSON_IsArray(msg)
				? "Invalid Request: batches do not nest"
				: "Invalid Request: not an object",
			NULL);
		goto out;
	}
	idv = cJSON_GetObjectItemCaseSensitive(msg, "id");
	has_id = idv != NULL;
	if (has_id && (id = mcp_request_id(idv, line, len)) == NULL &&
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
		/* A response: only an elicitation of ours waits for one. */
		r = mcp_id_key(idv, key)
			    ? mcp_approval_response(s, msg, key, out)
			    : 0;
		goto out;
	}
	if (!cJSON_IsString(jv) || strcmp(jv->valuestring, "2.0") != 0 ||
	    !cJSON_IsString(m) || (has_id && id == NULL)) {
		r = mcp_put_error(out, id, MCP_INVALID_REQUEST,
				  "Invalid Request", NULL);
		goto out;
	}
	if (!has_id) {
		/* Never answered; a malformed one is ignored. */
		r = cJSON_IsObject(params) || params == NULL
			    ? notification(s, m->valuestring, params, out)
			    : 0;
		goto out;
	}
	if (params != NULL && !cJSON_IsObject(params) &&
	    !cJSON_IsArray(params)) {
		r = mcp_put_error(out, id, MCP_INVALID_REQUEST,
				  "Invalid Request: params must be an object",
				  NULL);
		goto out;
	}
	if (cJSON_IsArray(params)) {
		r = mcp_put_error(out, id, MCP_INVALID_PARAMS,
				  "Invalid params: params must be an object",
				  NULL);
		goto out;
	}
	(void)mcp_id_key(idv, key);
	r = request(s, id, key, m->valuestring, params, in_batch, out);
out:
	cJSON_Delete(id);
	cJSON_Delete(msg);
	return r;
}

struct batch {
	struct mcp_server *s;
	struct idw_buf *out;
	size_t n;
};

static int batch_one(void *ctx, const char *e, size_t en)
{
	struct batch *b = ctx;

	b->n++;
	return handle_msg(b->s, e, en, true, b->out);
}

/*
 * A batch: 2025-03-26 only.  Its answers, written as lines, become one
 * array on one line; a batch of notifications is answered by nothing.
 */
static int handle_batch(struct mcp_server *s, const char *line, size_t len,
			struct idw_buf *out)
{
	struct batch b = {s, out, 0};
	size_t start = out->len;
	cJSON *all = idw_json_parse(line, len);
	bool parsed = all != NULL;
	uint8_t *p;
	int r;

	cJSON_Delete(all);
	if (!parsed)
		return mcp_put_error(out, NULL, MCP_PARSE_ERROR, "Parse error",
				     NULL);
	if (!s->initialized || s->rev != MCP_REV_2025_03_26)
		return mcp_put_error(out, NULL, MCP_INVALID_REQUEST,
				     "Invalid Request: JSON-RPC batches belong "
				     "to protocol revision 2025-03-26 only",
				     NULL);
	if ((r = mcp_each_element(line, len, batch_one, &b)) != 0)
		return r;
	if (b.n == 0)
		return mcp_put_error(out, NULL, MCP_INVALID_REQUEST,
				     "Invalid Request: an empty batch", NULL);
	if (out->len == start)
		return 0;
	if ((r = idw_buf_reserve(out, 2)) != 0)
		return r;
	p = out->d + start;
	memmove(p + 1, p, out->len - start);
	p[0] = '[';
	out->len++;
	for (uint8_t *q = p + 1; q < out->d + out->len - 1; q++)
		if (*q == '\n')
			*q = ',';
	out->d[out->len - 1] = ']';
	out->d[out->len++] = '\n';
	return 0;
}

int mcp_put_logs(struct mcp_server *s, struct idw_buf *out, size_t start)
{
	size_t n = s->log.len;
	int r;

	if (n == 0)
		return 0;
	if ((r = idw_buf_reserve(out, n)) == 0) {
		memmove(out->d + start + n, out->d + start, out->len - start);
		memcpy(out->d + start, s->log.d, n);
		out->len += n;
	}
	idw_buf_reset(&s->log);
	return r;
}

int mcp_handle_line(struct mcp_server *s, const char *line, size_t len,
		    struct idw_buf *out)
{
	size_t start = out->len, n = len, i = 0;
	int r, code;

	while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
			 line[n - 1] == '\t'))
		n--;
	while (i < n && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	if (i == n)
		return 0;
	idw_buf_reset(&s->log);
	if (!idw_utf8_valid((const uint8_t *)line, n))
		r = mcp_put_error(out, NULL, MCP_PARSE_ERROR,
				  "Parse error: the message is not UTF-8",
				  NULL);
	else if ((code = mcp_prescan(line, n)) != 0)
		r = mcp_put_error(out, NULL, code,
				  code == MCP_PARSE_ERROR
					  ? "Parse error"
					  : "Invalid Request: too many values",
				  NULL);
	else if (line[i] == '[')
		r = handle_batch(s, line + i, n - i, out);
	else
		r = handle_msg(s, line, n, false, out);
	if (r != 0) {
		mcp_truncate(out, start);
		r = mcp_put_error(out, NULL, MCP_INTERNAL_ERROR,
				  idw_strerror(r), NULL);
	}
	if (r == 0)
		r = mcp_put_logs(s, out, start);
	return r;
}

int mcp_reply_too_long(struct idw_buf *out)
{
	return mcp_put_error(out, NULL, MCP_INVALID_REQUEST,
			     "Invalid Request: message longer than 1 MiB "
			     "discarded",
			     NULL);
}
