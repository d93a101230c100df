/* SPDX-License-Identifier: ISC */
#ifndef IDW_MCP_SERVER_H
#define IDW_MCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "client/idwclient.h"
#include "common/buf.h"
#include "common/err.h"

/*
 * idw-mcp: MCP over stdio, one JSON-RPC 2.0 message per line.  The handler
 * takes one line and writes zero or more answer lines; it holds no I/O of
 * its own, so tests and the fuzzer drive it directly.
 */
#define MCP_LINE_MAX (1024u * 1024u) /* longer lines are discarded */
#define MCP_OUT_MAX (16u * 1024u * 1024u)
#define MCP_MAX_VALUES 10000 /* JSON values in one message */

/* JSON-RPC and MCP error codes. */
#define MCP_PARSE_ERROR (-32700)
#define MCP_INVALID_REQUEST (-32600)
#define MCP_METHOD_NOT_FOUND (-32601)
#define MCP_INVALID_PARAMS (-32602)
#define MCP_INTERNAL_ERROR (-32603)
#define MCP_RESOURCE_NOT_FOUND (-32002)

/*
 * How the handlers reach the agent.  The real one wraps idwc_connect and
 * idwc_call; tests supply their own.
 */
struct mcp_backend {
	/*
	 * Send req (an object with "verb") and wait for the reply.  0 with
	 * rep filled (rep->ok may be false), or a negative IDW_E* code when
	 * the agent could not be reached; why() then says what happened
	 * and what to do.  The caller frees rep with idwc_reply_free.
	 */
	int (*call)(void *ctx, const cJSON *req, struct idwc_reply *rep);
	const char *(*why)(void *ctx);
	/* Optional: the client's name from initialize (claimed actor). */
	void (*set_actor)(void *ctx, const char *actor);
};

/* Protocol revisions we speak, oldest first. */
enum mcp_rev {
	MCP_REV_2024_11_05,
	MCP_REV_2025_03_26,
	MCP_REV_2025_06_18,
	MCP_REV_2025_11_25,
	MCP_REV_LATEST = MCP_REV_2025_11_25,
};

struct mcp_server {
	const struct mcp_backend *be;
	void *be_ctx;
	enum mcp_rev rev;
	bool initialized; /* initialize answered */
	bool ready;	  /* notifications/initialized received */
};

void mcp_server_init(struct mcp_server *s, const struct mcp_backend *be,
		     void *be_ctx);

/*
 * Handle one line (without its newline).  Answers go to out, each ending
 * in '\n'; a notification or a response from the client writes nothing.
 * A value may be written, so out must be an IDW_BUF_SECURE buffer for
 * get_credential to answer with one.  Returns 0, or a negative code when
 * not even an error answer fit in out.
 */
int mcp_handle_line(struct mcp_server *s, const char *line, size_t len,
		    struct idw_buf *out) IDW_WUR;

/* The answer to a line that was discarded for being over MCP_LINE_MAX. */
int mcp_reply_too_long(struct idw_buf *out) IDW_WUR;

/*
 * Streaming line reader.  Lines longer than MCP_LINE_MAX are skipped as
 * they arrive, never held whole.
 */
enum mcp_read_result {
	MCP_READ_EOF = 0,
	MCP_READ_LINE = 1,
	MCP_READ_TOO_LONG = 2,
};

typedef ssize_t (*mcp_read_fn)(void *ctx, void *p, size_t n);

#define MCP_READ_CHUNK 16384

struct mcp_reader {
	mcp_read_fn read;
	void *ctx;
	struct idw_buf line;
	uint8_t chunk[MCP_READ_CHUNK];
	size_t pos, end;
	bool discarding;
	bool eof;
};

void mcp_reader_init(struct mcp_reader *r, mcp_read_fn fn, void *ctx);
/*
 * MCP_READ_LINE with line and len valid until the next call, MCP_READ_TOO_LONG
 * once a discarded line has ended, MCP_READ_EOF, or IDW_EIO.
 */
int mcp_reader_next(struct mcp_reader *r, const char **line,
		    size_t *len) IDW_WUR;
void mcp_reader_free(struct mcp_reader *r);

/* Read lines until EOF, answering each on out_fd: 0 at EOF. */
int mcp_serve(struct mcp_server *s, struct mcp_reader *rd, int out_fd) IDW_WUR;

/* The backend of idw-mcp itself: the agent through libidwclient. */
struct mcp_agent;
extern const struct mcp_backend mcp_agent_backend;
/* sandbox: install idw-mcp's seccomp filter once connected. */
struct mcp_agent *mcp_agent_new(bool sandbox);
void mcp_agent_free(struct mcp_agent *a);

#endif
