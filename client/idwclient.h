/* SPDX-License-Identifier: ISC */
#ifndef IDW_CLIENT_H
#define IDW_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/*
 * libidwclient: find the agent of $IDW_HOME, start it if needed, say hello,
 * send requests and read replies (docs/protocol.md).
 */
struct idwc;

struct idwc_opts {
	const char *client_name;   /* "idw", "idw-mcp" */
	const char *claimed_actor; /* free text, recorded, never trusted */
	bool autostart;		   /* start idw-agentd when none answers */
	bool allow_no_vault;	   /* init: a home without a vault is fine */
	int start_timeout_ms;	   /* bound on the agent's status pipe */
	int reply_timeout_ms;	   /* bound on each reply; 0: 120 s */
	/*
	 * A passphrase to hand to an agent being started, over a pipe (never
	 * the environment), e.g. after the CLI prompted on /dev/tty.
	 */
	const uint8_t *passphrase;
	size_t passphrase_len;
	/*
	 * A session token (IDW_SESSION_TOKEN): sent in the hello's secret
	 * segment so the agent assigns this connection the token's
	 * principal, and handed to an agent being started so it can unlock.
	 */
	const uint8_t *token;
	size_t token_len;
};

struct idwc_hello {
	char vault_id[33]; /* "" when the agent has no vault yet */
	char agent_version[32];
	bool locked;
	bool initialized;
	char principal[80];
	long pid;
};

/*
 * A reply.  json is parsed (the caller may read it); secret, when present,
 * is in locked memory (idw_buf_secure_alloc: secret_cap is its block's
 * size, 0 for a block from plain sodium_malloc) and wiped by
 * idwc_reply_free.
 */
struct idwc_reply {
	cJSON *json;
	bool ok;
	int err;	     /* IDW_E* from "code" when !ok */
	const char *message; /* points into json */
	uint8_t *secret;
	size_t secret_len;
	size_t secret_cap;
};

/*
 * Connect (and autostart).  On failure the sentence for a person is in
 * why: the agent's status lines when it could not unlock.  Returns
 * IDW_EUNLOCK when the agent's unlock chain failed (why says which source
 * and what happened; *no_source is set when no source was present at all,
 * so a terminal client may prompt), IDW_ENOAGENT when no agent runs and
 * autostart is off (the home is then never created), IDW_EAGENT when an
 * agent could not be reached, started or spoken to, IDW_EPERM when the server
 * is another uid or another vault.
 */
int idwc_connect(const struct idwc_opts *o, struct idwc **out, char *why,
		 size_t whylen, bool *no_source) IDW_WUR;
const struct idwc_hello *idwc_hello_info(const struct idwc *c);

/*
 * Send req (a JSON object with "verb") and an optional secret segment;
 * wait for the reply.  Transport failures return IDW_EAGENT; an
 * {"ok":false} reply returns 0 with rep->ok false and rep->err set.
 */
int idwc_call(struct idwc *c, const cJSON *req, const uint8_t *secret,
	      size_t secret_len, bool has_secret,
	      struct idwc_reply *rep) IDW_WUR;
void idwc_reply_free(struct idwc_reply *rep);
void idwc_close(struct idwc *c);

/*
 * How a call waits for its reply.  Each wait ends after reply_ms (or at
 * until_ms, an idw_boot_ms() instant, when that comes first) with
 * IDW_EAGENT; a reply that comes later is skipped by the next call.
 * While waiting, watch_fd (-1: none) is polled too and on_watch(ctx) runs
 * when it is readable: 0 keeps watching, 1 stops watching, a negative code
 * ends the wait with that code.  on_watch may call idwc_set_wait.
 */
struct idwc_wait {
	int reply_ms;
	uint64_t until_ms;
	int watch_fd;
	int (*on_watch)(void *ctx);
	void *ctx;
};
void idwc_set_wait(struct idwc *c, const struct idwc_wait *w);

/* The socket path and home this client would use (for messages). */
int idwc_paths(char *home, size_t hlen, char *sock, size_t slen) IDW_WUR;

#endif
