/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "client/mcp_tools.h"
#include "common/escape.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

/*
 * A grant that waits on a person, asked about in the MCP client itself.
 * The agent decides whether that may be done (the person switched
 * approval.elicitation on, the passport is not critical); the client
 * decides whether it can (it declared form elicitation).  The person's
 * answer goes back to the agent bound to the grant id, and on "accept"
 * the call runs again.
 *
 * Handshake revisions (2025-06-18 on): idw-mcp sends elicitation/create
 * and the tool call waits, while other requests are served, until the
 * answer, a cancellation or the deadline.  2026-07-28: the call answers
 * input_required at once with the question and a requestState; the
 * client retries with the answer.  requestState is authenticated with a
 * key of this process and names the grant, the tool, a digest of the
 * arguments and an expiry, so a client can neither forge an answer for
 * another grant nor replay one on other arguments.
 */
#define ASK_KEY "idw_approval"
#define STATE_TTL_MS (10u * 60u * 1000u)
#define STATE_GRANT 32
#define STATE_TOOL 16
#define STATE_LEN (1 + 8 + STATE_GRANT + STATE_TOOL + 32)
#define STATE_MAC 32

static const char approve_schema[] =
	"{\"type\":\"object\",\"properties\":{\"approve\":{\"type\":"
	"\"boolean\",\"title\":\"Approve this request\",\"description\":"
	"\"Tick to let the AI client use this credential for the time "
	"shown\",\"default\":false}},\"required\":[\"approve\"]}";

/* Append the escaped form of untrusted text. */
static int put_text(struct idw_buf *b, const char *s)
{
	struct idw_buf e;
	int r;

	idw_buf_init(&e, 4096, 0);
	if ((r = idw_escape_display(&e, s != NULL ? s : "")) == 0)
		r = idw_buf_put_str(b, (const char *)e.d);
	idw_buf_free(&e);
	return r;
}

/* What the person reads: the grant as the agent shows it. */
static cJSON *ask_params(const cJSON *reply, bool modern)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(reply, "grant");
	const char *gid = idw_json_str(reply, "grant_id");
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(g, "scope"), *x;
	struct idw_buf m;
	cJSON *p = NULL, *schema;
	bool first = true;
	int r;

	idw_buf_init(&m, 8192, 0);
	if ((r = idw_buf_put_str(&m, "Approve access to the credential \"")) ||
	    (r = put_text(&m, idw_json_str(g, "passport_name"))) ||
	    (r = idw_buf_put_str(&m, "\" (")) ||
	    (r = put_text(&m, idw_json_str(g, "passport_path"))) ||
	    (r = idw_buf_put_str(&m, ", ")) ||
	    (r = put_text(&m, idw_json_str(g, "access_tier"))) ||
	    (r = idw_buf_put_str(&m, " tier)?\nAsked by: ")) ||
	    (r = put_text(&m, idw_json_str(g, "principal"))) ||
	    (r = idw_buf_put_str(&m, " (says it is ")) ||
	    (r = put_text(&m, idw_json_str(g, "claimed_actor"))) ||
	    (r = idw_buf_put_str(&m, ")\nPurpose: ")) ||
	    (r = put_text(&m, idw_json_str(g, "purpose"))) ||
	    (r = idw_buf_put_str(&m, "\nScope: ")))
		goto out;
	cJSON_ArrayForEach(x, sc)
	{
		if ((!first && (r = idw_buf_put_str(&m, ", "))) ||
		    (r = put_text(&m, cJSON_GetStringValue(x))))
			goto out;
		first = false;
	}
	if ((first && (r = idw_buf_put_str(&m, "(any)"))) ||
	    (r = idw_buf_printf(&m,
				"\nIf you approve, grant %s lets it use the "
				"credential for 15 minutes. Approve only a "
				"request you expect; otherwise decline.",
				gid)) ||
	    (r = idw_buf_put_u8(&m, '\0')))
		goto out;
	if ((p = cJSON_CreateObject()) == NULL ||
	    (modern && cJSON_AddStringToObject(p, "mode", "form") == NULL) ||
	    cJSON_AddStringToObject(p, "message", (const char *)m.d) == NULL ||
	    (schema = cJSON_Parse(approve_schema)) == NULL) {
		cJSON_Delete(p);
		p = NULL;
		goto out;
	}
	if (!cJSON_AddItemToObject(p, "requestedSchema", schema)) {
		cJSON_Delete(schema);
		cJSON_Delete(p);
		p = NULL;
	}
out:
	idw_buf_free(&m);
	return p;
}

/* A digest of what the call asks for, in a fixed order. */
static void args_digest(const cJSON *args, uint8_t out[32])
{
	static const char *const keys[] = {"passport_id", "purpose", "scope"};
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	for (size_t i = 0; i < 3; i++) {
		const cJSON *v =
			cJSON_GetObjectItemCaseSensitive(args, keys[i]);
		char *t = v != NULL ? idw_json_print(v) : NULL;

		if (t != NULL)
			crypto_generichash_update(&st, (const uint8_t *)t,
						  strlen(t));
		crypto_generichash_update(&st, (const uint8_t *)"", 1);
		cJSON_free(t);
	}
	crypto_generichash_final(&st, out, 32);
}

static void state_body(uint8_t b[STATE_LEN], uint64_t expiry, const char *grant,
		       const char *tool, const cJSON *args)
{
	memset(b, 0, STATE_LEN);
	b[0] = 1;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(expiry >> (8 * i));
	memcpy(b + 9, grant, strnlen(grant, STATE_GRANT - 1));
	memcpy(b + 9 + STATE_GRANT, tool, strnlen(tool, STATE_TOOL - 1));
	args_digest(args, b + 9 + STATE_GRANT + STATE_TOOL);
}

static cJSON *state_new(struct mcp_server *s, const char *grant,
			const char *tool, const cJSON *args)
{
	uint8_t b[STATE_LEN + STATE_MAC];
	char txt[2 * sizeof(b) + 8];

	state_body(b, idw_boot_ms() + STATE_TTL_MS, grant, tool, args);
	crypto_generichash(b + STATE_LEN, STATE_MAC, b, STATE_LEN, s->state_key,
			   sizeof(s->state_key));
	sodium_bin2base64(txt, sizeof(txt), b, sizeof(b),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return cJSON_CreateString(txt);
}

/* The grant a requestState names, when it is ours, fresh and for this. */
static bool state_check(struct mcp_server *s, const char *txt, const char *tool,
			const cJSON *args, char grant[STATE_GRANT])
{
	uint8_t b[STATE_LEN + STATE_MAC], want[STATE_LEN], mac[STATE_MAC];
	uint64_t expiry = 0;
	size_t n = 0;

	if (sodium_base642bin(b, sizeof(b), txt, strlen(txt), NULL, &n, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    n != sizeof(b) || b[0] != 1)
		return false;
	crypto_generichash(mac, sizeof(mac), b, STATE_LEN, s->state_key,
			   sizeof(s->state_key));
	if (sodium_memcmp(mac, b + STATE_LEN, STATE_MAC) != 0)
		return false;
	for (int i = 0; i < 8; i++)
		expiry |= (uint64_t)b[1 + i] << (8 * i);
	memcpy(grant, b + 9, STATE_GRANT);
	grant[STATE_GRANT - 1] = '\0';
	state_body(want, expiry, grant, tool, args);
	return idw_boot_ms() < expiry && sodium_memcmp(want, b, STATE_LEN) == 0;
}

static struct mcp_pending *slot_free(struct mcp_server *s)
{
	for (size_t i = 0; i < MCP_PENDING_MAX; i++)
		if (!s->pending[i].used)
			return &s->pending[i];
	return NULL;
}

static void slot_release(struct mcp_pending *p)
{
	cJSON_Delete(p->id);
	cJSON_Delete(p->args);
	memset(p, 0, sizeof(*p));
}

/* Legacy: send elicitation/create; the call waits in a slot. */
static int ask_legacy(struct mcp_server *s, struct mcp_req *rq,
		      const char *tool, const cJSON *args, const char *gid,
		      cJSON *params, struct idw_buf *out)
{
	struct mcp_pending *p = slot_free(s);
	cJSON *m = NULL;
	int r = IDW_ENOMEM;

	if (p == NULL) {
		cJSON_Delete(params);
		return MCP_NOT_ASKED; /* enough questions are open already */
	}
	memset(p, 0, sizeof(*p));
	s->next_ask++;
	snprintf(p->ask_id, sizeof(p->ask_id), "idw-elicit-%u", s->next_ask);
	snprintf(p->ask_key, sizeof(p->ask_key), "s:idw-elicit-%u",
		 s->next_ask);
	if ((m = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(m, "jsonrpc", "2.0") == NULL ||
	    cJSON_AddStringToObject(m, "id", p->ask_id) == NULL ||
	    cJSON_AddStringToObject(m, "method", "elicitation/create") ==
		    NULL ||
	    !cJSON_AddItemToObject(m, "params", params)) {
		cJSON_Delete(params);
		r = IDW_ENOMEM;
		goto out;
	}
	if ((p->id = cJSON_Duplicate(rq->id, 1)) == NULL ||
	    (p->args = cJSON_Duplicate(args, 1)) == NULL ||
	    (r = mcp_put_line(out, m)) != 0) {
		slot_release(p);
		goto out;
	}
	p->used = true;
	memcpy(p->key, rq->key, sizeof(p->key));
	snprintf(p->tool, sizeof(p->tool), "%s", tool);
	snprintf(p->grant, sizeof(p->grant), "%s", gid);
	p->rev = rq->rev;
	p->log_level = rq->log_level;
	p->deadline = idw_boot_ms() + s->elicit_ms;
	r = MCP_SUSPENDED;
out:
	cJSON_Delete(m);
	return r;
}

int mcp_approval_ask(struct mcp_server *s, struct mcp_req *rq, const char *tool,
		     const cJSON *args, const cJSON *reply, struct idw_buf *out)
{
	const char *gid = idw_json_str(reply, "grant_id");
	cJSON *params, *res, *ir, *q;

	if (!rq->elicit || rq->answered || gid == NULL ||
	    strlen(gid) >= STATE_GRANT ||
	    !idw_json_bool(reply, "elicitation", false))
		return MCP_NOT_ASKED;
	if ((params = ask_params(reply, rq->modern)) == NULL)
		return IDW_ENOMEM;
	mcp_log(s, rq, 2, "grant %s: asking the person in this client", gid);
	if (!rq->modern)
		return ask_legacy(s, rq, tool, args, gid, params, out);
	if ((res = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(res, "resultType", "input_required") ==
		    NULL ||
	    (ir = cJSON_AddObjectToObject(res, "inputRequests")) == NULL ||
	    (q = cJSON_AddObjectToObject(ir, ASK_KEY)) == NULL ||
	    cJSON_AddStringToObject(q, "method", "elicitation/create") ==
		    NULL) {
		cJSON_Delete(params);
		cJSON_Delete(res);
		return IDW_ENOMEM;
	}
	if (!cJSON_AddItemToObject(q, "params", params)) {
		cJSON_Delete(params);
		cJSON_Delete(res);
		return IDW_ENOMEM;
	}
	if (!cJSON_AddItemToObject(res, "requestState",
				   state_new(s, gid, tool, args))) {
		cJSON_Delete(res);
		return IDW_ENOMEM;
	}
	return mcp_put_result(out, rq, res);
}

/* accept (with approve ticked), decline, cancel; NULL when unreadable. */
static const char *answer_of(const cJSON *er)
{
	const char *action = idw_json_str(er, "action");
	const cJSON *content = cJSON_GetObjectItemCaseSensitive(er, "content");

	if (action == NULL)
		return NULL;
	if (strcmp(action, "accept") == 0)
		return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(content,
								     "approve"))
			       ? "accept"
			       : "decline";
	if (strcmp(action, "decline") == 0 || strcmp(action, "cancel") == 0)
		return action;
	return NULL;
}

/* Tell the agent; on accept run the call again, else say what happened. */
static int finish(struct mcp_server *s, struct mcp_req *rq, const char *tool,
		  const cJSON *args, const char *grant, const char *answer,
		  struct idw_buf *out)
{
	struct idwc_reply rep;
	cJSON *req = cJSON_CreateObject();
	char why[1024], text[1400];
	int r;

	if (req == NULL ||
	    cJSON_AddStringToObject(req, "verb", "elicitation_answer") ==
		    NULL ||
	    cJSON_AddStringToObject(req, "id", grant) == NULL ||
	    cJSON_AddStringToObject(req, "answer", answer) == NULL) {
		cJSON_Delete(req);
		return IDW_ENOMEM;
	}
	r = mcp_agent_call(s, rq, req, &rep, why, sizeof(why));
	idwc_reply_free(&rep);
	if (r < 0)
		return r;
	mcp_log(s, rq, 2, "grant %s: the person's answer was %s", grant,
		answer);
	rq->answered = true;
	if (r == 0 && strcmp(answer, "accept") == 0)
		return mcp_tool_run(s, rq, tool, args, out);
	if (r == 1)
		snprintf(text, sizeof(text),
			 "The answer could not be recorded: %s The person "
			 "can approve with 'idw approve %s'.",
			 why, grant);
	else if (strcmp(answer, "decline") == 0)
		snprintf(text, sizeof(text),
			 "The person declined this request; grant %s is "
			 "denied. Do not ask again unless they tell you to.",
			 grant);
	else
		snprintf(text, sizeof(text),
			 "The person did not answer the approval request "
			 "(%s); grant %s is denied. Call the tool again to "
			 "ask once more, or ask them to run 'idw approvals'.",
			 answer, grant);
	mcp_utf8_trim(text);
	return mcp_put_tool_error(out, rq, text);
}

int mcp_approval_retry(struct mcp_server *s, struct mcp_req *rq,
		       const char *tool, const cJSON *args, struct idw_buf *out)
{
	const char *st = idw_json_str(rq->params, "requestState");
	const cJSON *ir =
		cJSON_GetObjectItemCaseSensitive(rq->params, "inputResponses");
	const char *answer;
	char grant[STATE_GRANT];

	if (st == NULL)
		return 1;
	if (!state_check(s, st, tool, args, grant))
		return mcp_put_error(out, rq->id, MCP_INVALID_PARAMS,
				     "Invalid params: requestState is not one "
				     "this server gave for these arguments, "
				     "or it expired; call the tool again "
				     "without it",
				     NULL);
	answer = answer_of(cJSON_GetObjectItemCaseSensitive(ir, ASK_KEY));
	if (answer == NULL)
		return mcp_tool_run(s, rq, tool, args, out); /* ask again */
	return finish(s, rq, tool, args, grant, answer, out);
}

/* The request of a slot, to answer it. */
static void slot_req(const struct mcp_pending *p, struct mcp_req *rq,
		     const cJSON *params)
{
	memset(rq, 0, sizeof(*rq));
	rq->id = p->id;
	memcpy(rq->key, p->key, sizeof(rq->key));
	rq->rev = p->rev;
	rq->log_level = p->log_level;
	rq->answered = true;
	rq->params = params;
}

static int withdraw(struct idw_buf *out, const struct mcp_pending *p,
		    const char *reason)
{
	cJSON *m = cJSON_CreateObject(), *pr;
	int r = IDW_ENOMEM;

	if (m != NULL && cJSON_AddStringToObject(m, "jsonrpc", "2.0") != NULL &&
	    cJSON_AddStringToObject(m, "method", "notifications/cancelled") !=
		    NULL &&
	    (pr = cJSON_AddObjectToObject(m, "params")) != NULL &&
	    cJSON_AddStringToObject(pr, "requestId", p->ask_id) != NULL &&
	    cJSON_AddStringToObject(pr, "reason", reason) != NULL)
		r = mcp_put_line(out, m);
	cJSON_Delete(m);
	return r;
}

int mcp_approval_response(struct mcp_server *s, const cJSON *msg,
			  const char *key, struct idw_buf *out)
{
	struct mcp_pending *p = NULL;
	const char *answer;
	struct mcp_req rq;
	size_t start = out->len;
	cJSON *empty;
	int r;

	for (size_t i = 0; i < MCP_PENDING_MAX; i++)
		if (s->pending[i].used &&
		    strcmp(s->pending[i].ask_key, key) == 0)
			p = &s->pending[i];
	if (p == NULL)
		return 0; /* not ours, or too late: nothing waits for it */
	if ((empty = cJSON_CreateObject()) == NULL)
		return IDW_ENOMEM;
	slot_req(p, &rq, empty);
	/* An error instead of an answer: the client could not ask. */
	answer = cJSON_GetObjectItemCaseSensitive(msg, "error") != NULL
			 ? "unsupported"
			 : answer_of(cJSON_GetObjectItemCaseSensitive(
				   msg, "result"));
	if (answer == NULL)
		answer = "cancel";
	r = finish(s, &rq, p->tool, p->args, p->grant, answer, out);
	/* The person's answer counts; the call's own answer is unwanted. */
	if (r >= 0 && s->rd != NULL && mcp_reader_cancelled(s->rd, p->key))
		mcp_truncate(out, start);
	slot_release(p);
	cJSON_Delete(empty);
	return r < 0 ? r : 0;
}

void mcp_approval_cancel(struct mcp_server *s, const char *key,
			 struct idw_buf *out)
{
	struct mcp_req rq;
	struct idwc_reply rep;
	char why[256];

	for (size_t i = 0; i < MCP_PENDING_MAX; i++) {
		struct mcp_pending *p = &s->pending[i];
		cJSON *req;

		if (!p->used || strcmp(p->key, key) != 0)
			continue;
		slot_req(p, &rq, NULL);
		rq.log_level = MCP_LOG_OFF;
		if (withdraw(out, p, "the tool call was cancelled") != 0)
			fprintf(stderr, "idw-mcp: out of memory\n");
		req = cJSON_CreateObject();
		if (req != NULL &&
		    cJSON_AddStringToObject(req, "verb",
					    "elicitation_answer") != NULL &&
		    cJSON_AddStringToObject(req, "id", p->grant) != NULL &&
		    cJSON_AddStringToObject(req, "answer", "cancel") != NULL &&
		    mcp_agent_call(s, &rq, req, &rep, why, sizeof(why)) >= 0)
			idwc_reply_free(&rep);
		else if (req == NULL)
			fprintf(stderr, "idw-mcp: out of memory\n");
		slot_release(p);
	}
}

uint64_t mcp_server_deadline(const struct mcp_server *s)
{
	uint64_t d = 0;

	for (size_t i = 0; i < MCP_PENDING_MAX; i++)
		if (s->pending[i].used &&
		    (d == 0 || s->pending[i].deadline < d))
			d = s->pending[i].deadline;
	return d;
}

int mcp_server_tick(struct mcp_server *s, uint64_t now, struct idw_buf *out)
{
	struct mcp_req rq;
	size_t start = out->len;
	cJSON *empty;
	int r = 0;

	idw_buf_reset(&s->log);

	for (size_t i = 0; i < MCP_PENDING_MAX && r == 0; i++) {
		struct mcp_pending *p = &s->pending[i];

		if (!p->used || p->deadline > now)
			continue;
		if ((empty = cJSON_CreateObject()) == NULL)
			return IDW_ENOMEM;
		slot_req(p, &rq, empty);
		if ((r = withdraw(out, p, "no answer in time")) == 0)
			r = finish(s, &rq, p->tool, p->args, p->grant,
				   "timeout", out);
		slot_release(p);
		cJSON_Delete(empty);
	}
	return r == 0 ? mcp_put_logs(s, out, start) : r;
}

void mcp_server_abandon(struct mcp_server *s)
{
	for (size_t i = 0; i < MCP_PENDING_MAX; i++)
		if (s->pending[i].used)
			slot_release(&s->pending[i]);
}
