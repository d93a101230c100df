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
 * MCP methods backed by the agent: tools and resources.  Each method
 * handler writes one answer line (a result or a JSON-RPC error) for the
 * request id to out and returns 0, or a negative code when out could not
 * take it.
 */
typedef int (*mcp_method_fn)(struct mcp_server *s, const cJSON *id,
			     const cJSON *params, struct idw_buf *out);

int mcp_tools_list(struct mcp_server *s, const cJSON *id, const cJSON *params,
		   struct idw_buf *out) IDW_WUR;
int mcp_tools_call(struct mcp_server *s, const cJSON *id, const cJSON *params,
		   struct idw_buf *out) IDW_WUR;
int mcp_resources_list(struct mcp_server *s, const cJSON *id,
		       const cJSON *params, struct idw_buf *out) IDW_WUR;
int mcp_resources_templates(struct mcp_server *s, const cJSON *id,
			    const cJSON *params, struct idw_buf *out) IDW_WUR;
int mcp_resources_read(struct mcp_server *s, const cJSON *id,
		       const cJSON *params, struct idw_buf *out) IDW_WUR;

/* Answer helpers shared by the method handlers (mcp_server.c). */

/* {"jsonrpc":"2.0","id":id}: the caller adds "result" or "error". */
cJSON *mcp_envelope(const cJSON *id);
/* Print msg as one line into out. */
int mcp_put_line(struct idw_buf *out, const cJSON *msg) IDW_WUR;
/* Answer with result (taken over, even on failure). */
int mcp_put_result(struct idw_buf *out, const cJSON *id, cJSON *result) IDW_WUR;
/* Answer with a JSON-RPC error; data (taken over) may be NULL. */
int mcp_put_error(struct idw_buf *out, const cJSON *id, int code,
		  const char *message, cJSON *data) IDW_WUR;

/* Tool results (mcp_result.c). */
int mcp_put_tool_error(struct idw_buf *out, const cJSON *id,
		       const char *text) IDW_WUR;
/* structuredContent s (taken over) and its JSON text as content[0]. */
int mcp_put_tool_result(struct idw_buf *out, const cJSON *id, cJSON *s) IDW_WUR;
/*
 * The same, with s's "credential" member replaced by value: cJSON only
 * ever holds random markers, the value is spliced into the printed line in
 * locked memory.  out must be IDW_BUF_SECURE (IDW_EPERM otherwise).
 */
int mcp_put_secret_result(struct idw_buf *out, const cJSON *id, cJSON *s,
			  const uint8_t *value, size_t n) IDW_WUR;

/*
 * Send req (taken over) to the agent.  0 with rep filled and ok; 1 when
 * the call failed for a reason a person or the model can act on, with the
 * sentence in why and the code in rep->err (IDW_EAGENT when the agent was
 * not reached); negative on internal failure.  The caller always frees
 * rep with idwc_reply_free.
 */
int mcp_agent_call(struct mcp_server *s, cJSON *req, struct idwc_reply *rep,
		   char *why, size_t whylen) IDW_WUR;

/*
 * Check args against a tool's inputSchema (the subset used here: type,
 * properties, required, enum, items, minLength, maxLength, maxItems).
 * 0, or IDW_EUSAGE with the reason in why.
 */
int mcp_schema_check(const cJSON *schema, const cJSON *args, char *why,
		     size_t whylen) IDW_WUR;

#endif
