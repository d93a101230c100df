/* SPDX-License-Identifier: ISC */
#ifndef IDW_MCP_TOOLS_H
#define IDW_MCP_TOOLS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "client/idwclient.h"
#include "client/mcp_server.h"
#include "common/buf.h"

/*
 * What idw-mcp's modules share.  Each method handler writes one answer
 * line (a result or a JSON-RPC error) for rq to out and returns 0, or a
 * negative code when out could not take it; a handler may also write
 * nothing and return MCP_SUSPENDED (the call waits on the client).
 */
#define MCP_SUSPENDED 1
#define MCP_NOT_ASKED 2 /* mcp_approval_ask: the caller answers */

typedef int (*mcp_method_fn)(struct mcp_server *s, struct mcp_req *rq,
			     struct idw_buf *out);

int mcp_tools_list(struct mcp_server *s, struct mcp_req *rq,
		   struct idw_buf *out) IDW_WUR;
int mcp_tools_call(struct mcp_server *s, struct mcp_req *rq,
		   struct idw_buf *out) IDW_WUR;
int mcp_resources_list(struct mcp_server *s, struct mcp_req *rq,
		       struct idw_buf *out) IDW_WUR;
int mcp_resources_templates(struct mcp_server *s, struct mcp_req *rq,
			    struct idw_buf *out) IDW_WUR;
int mcp_resources_read(struct mcp_server *s, struct mcp_req *rq,
		       struct idw_buf *out) IDW_WUR;

/*
 * Where a page of a list of count entries starts: 0 without a cursor, the
 * index a "<what>:<index>" cursor of ours names, or IDW_EINVAL.
 */
int mcp_page_start(const cJSON *params, const char *what, size_t count,
		   size_t *start) IDW_WUR;

/* Answers (mcp_jsonrpc.c). */

/* {"jsonrpc":"2.0","id":id}: the caller adds "result" or "error". */
cJSON *mcp_envelope(const cJSON *id);
/* Print msg as one line into out. */
int mcp_put_line(struct idw_buf *out, const cJSON *msg) IDW_WUR;
/*
 * Answer rq with result (taken over, even on failure).  For 2026-07-28
 * the result gets its resultType ("complete" unless set) and the
 * server's identity in _meta.
 */
int mcp_put_result(struct idw_buf *out, const struct mcp_req *rq,
		   cJSON *result) IDW_WUR;
/* result's resultType and _meta as mcp_put_result gives them. */
bool mcp_decorate(const struct mcp_req *rq, cJSON *result);
/* Add ttlMs and cacheScope (2026-07-28 only; true otherwise). */
bool mcp_cacheable(const struct mcp_req *rq, cJSON *result, double ttl_ms,
		   bool public_scope);
/* Answer id with a JSON-RPC error; data (taken over) may be NULL. */
int mcp_put_error(struct idw_buf *out, const cJSON *id, int code,
		  const char *message, cJSON *data) IDW_WUR;
/* Wipe and drop what was written to out after start. */
void mcp_truncate(struct idw_buf *out, size_t start);
/* An invalid cursor, or a resource that is not there, for rq's revision. */
int mcp_put_bad_cursor(struct idw_buf *out, const struct mcp_req *rq) IDW_WUR;
int mcp_put_not_found(struct idw_buf *out, const struct mcp_req *rq,
		      const char *uri) IDW_WUR;

/*
 * Raw-text helpers (mcp_jsonrpc.c).  mcp_prescan: 0, MCP_PARSE_ERROR for
 * control characters in strings, MCP_INVALID_REQUEST for too many values.
 * mcp_request_id: the id as echoed (a number keeps its exact text), or
 * NULL when there is none that may be echoed.
 */
int mcp_prescan(const char *p, size_t n);
cJSON *mcp_request_id(const cJSON *v, const char *line, size_t len);
/* Call fn on the raw text of each element of the JSON array in p. */
int mcp_each_element(const char *p, size_t n,
		     int (*fn)(void *ctx, const char *e, size_t en),
		     void *ctx) IDW_WUR;

/*
 * notifications/message for rq at level (0 debug ... 7 emergency), when
 * rq asked for that level; kept in s->log until the answer is written.
 */
void mcp_log(struct mcp_server *s, const struct mcp_req *rq, int level,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Cut a partial UTF-8 sequence off the end of s (after a snprintf). */
void mcp_utf8_trim(char *s);
/* Put the log lines kept in s->log in front of out's answers since start. */
int mcp_put_logs(struct mcp_server *s, struct idw_buf *out,
		 size_t start) IDW_WUR;
/* The level named, or -1. */
int mcp_log_level(const char *name);

/* Tool results (mcp_result.c). */
int mcp_put_tool_error(struct idw_buf *out, const struct mcp_req *rq,
		       const char *text) IDW_WUR;
/*
 * structuredContent sc (taken over) and its JSON text as content[0];
 * before 2025-06-18 the text alone.
 */
int mcp_put_tool_result(struct idw_buf *out, const struct mcp_req *rq,
			cJSON *sc) IDW_WUR;
/*
 * The same, with sc's "credential" member replaced by value: cJSON only
 * ever holds random markers, the value is spliced into the printed line in
 * locked memory.  out must be IDW_BUF_SECURE (IDW_EPERM otherwise).
 */
int mcp_put_secret_result(struct idw_buf *out, const struct mcp_req *rq,
			  cJSON *sc, const uint8_t *value, size_t n) IDW_WUR;

/*
 * Send req (taken over) to the agent.  0 with rep filled and ok; 1 when
 * the call failed for a reason a person or the model can act on, with the
 * sentence in why and the code in rep->err (IDW_EAGENT when the agent was
 * not reached); negative on internal failure.  The caller always frees
 * rep with idwc_reply_free.
 */
int mcp_agent_call(struct mcp_server *s, const struct mcp_req *rq, cJSON *req,
		   struct idwc_reply *rep, char *why, size_t whylen) IDW_WUR;

/*
 * Check args against a tool's inputSchema (the subset used here: type,
 * properties, required, enum, items, minLength, maxLength, maxItems).
 * 0, or IDW_EUSAGE with the reason in why.
 */
int mcp_schema_check(const cJSON *schema, const cJSON *args, char *why,
		     size_t whylen) IDW_WUR;

/* One tool call in progress (mcp_tools.c, mcp_toolfns.c). */
struct mcp_call {
	struct mcp_server *s;
	const struct mcp_req *rq;
	const cJSON *args;
	cJSON *result;	       /* structuredContent */
	struct idwc_reply rep; /* kept until the answer is written */
	const uint8_t *value;  /* get_credential: spliced into the answer */
	size_t value_len;
	bool pending;	/* rep names a grant that waits on a person */
	char why[1024]; /* the isError text */
};

int mcp_t_list(struct mcp_call *c) IDW_WUR;
int mcp_t_get(struct mcp_call *c) IDW_WUR;
int mcp_t_request(struct mcp_call *c) IDW_WUR;
int mcp_t_check(struct mcp_call *c) IDW_WUR;
int mcp_t_revoke(struct mcp_call *c) IDW_WUR;

/*
 * Run tool on args for rq, writing its answer (mcp_tools.c).  Used again
 * when an approval lets a waiting call go on.
 */
int mcp_tool_run(struct mcp_server *s, struct mcp_req *rq, const char *tool,
		 const cJSON *args, struct idw_buf *out) IDW_WUR;

/*
 * Approvals (mcp_approval.c).  A call the agent answered "pending" for a
 * grant (reply: the agent's answer, with grant_id, grant and elicitation):
 * ask the person through elicitation when the client takes it and the
 * agent allows it, with an elicitation/create request (MCP_SUSPENDED: the
 * call waits) or a 2026-07-28 input_required result (0).  MCP_NOT_ASKED,
 * with nothing written, when it cannot ask: the caller answers.
 */
int mcp_approval_ask(struct mcp_server *s, struct mcp_req *rq, const char *tool,
		     const cJSON *args, const cJSON *reply,
		     struct idw_buf *out) IDW_WUR;
/*
 * A 2026-07-28 retry carrying requestState: verify it, relay the answer,
 * and run the tool again.  1 when params hold no requestState (nothing
 * done), else 0 with the answer written.
 */
int mcp_approval_retry(struct mcp_server *s, struct mcp_req *rq,
		       const char *tool, const cJSON *args,
		       struct idw_buf *out) IDW_WUR;
/* A response from the client: resume the call that waited on it. */
int mcp_approval_response(struct mcp_server *s, const cJSON *msg,
			  const char *key, struct idw_buf *out) IDW_WUR;
/* A notifications/cancelled for a waiting call. */
void mcp_approval_cancel(struct mcp_server *s, const char *key,
			 struct idw_buf *out);

#endif
