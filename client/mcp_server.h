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
#define MCP_KEY_MAX 80	     /* a request id, as compared */
#define MCP_PENDING_MAX 4    /* tool calls waiting on an elicitation */
#define MCP_PAGE 50	     /* tools, templates and resources per page */

/* JSON-RPC and MCP error codes. */
#define MCP_PARSE_ERROR (-32700)
#define MCP_INVALID_REQUEST (-32600)
#define MCP_METHOD_NOT_FOUND (-32601)
#define MCP_INVALID_PARAMS (-32602)
#define MCP_INTERNAL_ERROR (-32603)
#define MCP_RESOURCE_NOT_FOUND (-32002)	 /* up to 2025-11-25 */
#define MCP_UNSUPPORTED_VERSION (-32022) /* 2026-07-28 */

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
	/*
	 * Optional: while a call waits on the agent, watch fd and run
	 * fn(arg) when it is readable (struct idwc_wait's on_watch).
	 */
	void (*set_watch)(void *ctx, int fd, int (*fn)(void *arg), void *arg);
	/* Optional: no wait on the agent lasts past until_ms (boot ms). */
	void (*set_until)(void *ctx, uint64_t until_ms);
};

/* Protocol revisions we speak, oldest first. */
enum mcp_rev {
	MCP_REV_2024_11_05,
	MCP_REV_2025_03_26,
	MCP_REV_2025_06_18,
	MCP_REV_2025_11_25,
	MCP_REV_2026_07_28, /* stateless: no handshake, _meta per request */
	MCP_REV_COUNT,
	MCP_REV_LEGACY_LATEST = MCP_REV_2025_11_25,
};

const char *mcp_rev_name(enum mcp_rev rev);

/* Log levels of notifications/message, least severe first. */
#define MCP_LOG_OFF 8

/* The request being answered. */
struct mcp_req {
	cJSON *id;	       /* as echoed; never NULL for a request */
	char key[MCP_KEY_MAX]; /* the id as cancellations name it */
	enum mcp_rev rev;      /* the revision this request is served by */
	bool modern;	       /* 2026-07-28: _meta carried the version */
	bool elicit;	       /* the client takes form elicitation */
	int log_level;	       /* notifications/message at or above */
	bool answered;	       /* the person answered: ask no more */
	const cJSON *params;   /* always an object (maybe empty) */
};

/* A tools/call waiting on the person's answer to an elicitation. */
struct mcp_pending {
	bool used;
	cJSON *id;		   /* the tools/call's id, as echoed */
	char key[MCP_KEY_MAX];	   /* its cancellation key */
	char ask_key[MCP_KEY_MAX]; /* the key of our elicitation/create */
	char ask_id[32];
	enum mcp_rev rev;
	int log_level;
	char tool[32];
	cJSON *args;
	char grant[64];
	uint64_t deadline; /* idw_boot_ms */
};

struct mcp_reader;

struct mcp_server {
	const struct mcp_backend *be;
	void *be_ctx;
	enum mcp_rev rev;      /* negotiated by initialize */
	bool initialized;      /* initialize answered */
	bool ready;	       /* notifications/initialized received */
	bool client_elicit;    /* initialize declared form elicitation */
	int log_level;	       /* logging/setLevel; MCP_LOG_OFF before */
	size_t page_size;      /* entries per page of every list */
	uint32_t elicit_ms;    /* how long an elicitation may wait */
	struct mcp_reader *rd; /* mcp_serve's: cancellations ahead */
	struct idw_buf log;    /* notification lines of this answer */
	struct mcp_pending pending[MCP_PENDING_MAX];
	uint32_t next_ask;
	uint8_t state_key[32]; /* authenticates requestState */
};

void mcp_server_init(struct mcp_server *s, const struct mcp_backend *be,
		     void *be_ctx);
void mcp_server_free(struct mcp_server *s);

/*
 * Handle one line (without its newline).  Answers go to out, each ending
 * in '\n'; a notification or a response from the client writes nothing
 * (or resumes a tool call that waited on it).  A value may be written, so
 * out must be an IDW_BUF_SECURE buffer for get_credential to answer with
 * one.  Returns 0, or a negative code when not even an error answer fit
 * in out.
 */
int mcp_handle_line(struct mcp_server *s, const char *line, size_t len,
		    struct idw_buf *out) IDW_WUR;

/* The answer to a line that was discarded for being over MCP_LINE_MAX. */
int mcp_reply_too_long(struct idw_buf *out) IDW_WUR;

/*
 * Tool calls waiting on an elicitation: the earliest deadline (0: none),
 * and answering those whose deadline has passed as if the person had not
 * answered.  mcp_server_abandon ends them all (stdin closed).
 */
uint64_t mcp_server_deadline(const struct mcp_server *s);
int mcp_server_tick(struct mcp_server *s, uint64_t now,
		    struct idw_buf *out) IDW_WUR;
void mcp_server_abandon(struct mcp_server *s);

/*
 * Streaming line reader.  Lines longer than MCP_LINE_MAX are skipped as
 * they arrive, never held whole.  Bytes read ahead are kept (up to
 * MCP_INPUT_MAX) and looked at for notifications/cancelled, so a request
 * cancelled before it is handled is never answered.
 */
enum mcp_read_result {
	MCP_READ_EOF = 0,
	MCP_READ_LINE = 1,
	MCP_READ_TOO_LONG = 2,
	MCP_READ_TIMEOUT = 3,
};

/*
 * Read up to n bytes, waiting at most timeout_ms (-1: no bound): the
 * count, 0 at EOF, or -1 with errno (ETIMEDOUT when the time ran out).
 */
typedef ssize_t (*mcp_read_fn)(void *ctx, void *p, size_t n, int timeout_ms);

#define MCP_READ_CHUNK 16384
#define MCP_INPUT_MAX (2u * MCP_LINE_MAX + MCP_READ_CHUNK)
#define MCP_CANCELS_MAX 64

struct mcp_reader {
	mcp_read_fn read;
	void *ctx;
	struct idw_buf in;   /* read, not yet handed out: d[off..len) */
	struct idw_buf line; /* the line handed out */
	size_t scanned;	     /* complete lines before here were scanned */
	bool discarding;
	bool eof;
	size_t ncancels;
	struct {
		size_t end; /* offset just past the cancelling line */
		char key[MCP_KEY_MAX];
	} cancels[MCP_CANCELS_MAX];
};

void mcp_reader_init(struct mcp_reader *r, mcp_read_fn fn, void *ctx);
/*
 * MCP_READ_LINE with line and len valid until the next call,
 * MCP_READ_TOO_LONG once a discarded line has ended, MCP_READ_EOF,
 * MCP_READ_TIMEOUT when timeout_ms (-1: none) passed first, or IDW_EIO.
 */
int mcp_reader_next(struct mcp_reader *r, int timeout_ms, const char **line,
		    size_t *len) IDW_WUR;
/*
 * One read into the look-ahead, waiting at most timeout_ms: 1 with bytes
 * read, MCP_READ_EOF, MCP_READ_TIMEOUT, IDW_ETOOBIG when the look-ahead is
 * full, or IDW_EIO.
 */
int mcp_reader_fill(struct mcp_reader *r, int timeout_ms) IDW_WUR;
/* Whether a notifications/cancelled for key waits in the look-ahead. */
bool mcp_reader_cancelled(struct mcp_reader *r, const char *key);
void mcp_reader_free(struct mcp_reader *r);

/* The key of a request id: "s:" string or "n:" number; false if neither. */
bool mcp_id_key(const cJSON *id, char key[MCP_KEY_MAX]);

/*
 * Read lines until EOF, answering each on out_fd: 0 at EOF.  At EOF the
 * lines already read are answered for at most MCP_EOF_GRACE_MS more; no
 * wait on the agent or the person outlasts that.
 */
#define MCP_EOF_GRACE_MS 250
int mcp_serve(struct mcp_server *s, struct mcp_reader *rd, int in_fd,
	      int out_fd) IDW_WUR;

/* The backend of idw-mcp itself: the agent through libidwclient. */
struct mcp_agent;
extern const struct mcp_backend mcp_agent_backend;
/*
 * sandbox: install idw-mcp's seccomp filter once connected.  reply_ms
 * bounds every wait on the agent (IDW_MCP_TIMEOUT).
 */
struct mcp_agent *mcp_agent_new(bool sandbox, int reply_ms);
void mcp_agent_free(struct mcp_agent *a);

#endif
