/* SPDX-License-Identifier: ISC */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <sodium.h>

#include "client/mcp_server.h"
#include "sandbox/arena.h"
#include "sandbox/harden.h"

/* idw-mcp: MCP over stdin/stdout; logs go to stderr only. */

static ssize_t read_stdin(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return read(STDIN_FILENO, p, n);
}

int main(void)
{
	static struct mcp_reader rd;
	char why[256] = "";
	struct mcp_server s;
	struct mcp_agent *agent;
	int r;

	/*
	 * Values pass through this process: no core dumps, no ptrace.  The
	 * seccomp filter follows the first connection to the agent.
	 */
	if (idw_harden_nodump(why, sizeof(why)) != 0) {
		fprintf(stderr, "idw-mcp: %s\n", why);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0 || idw_arena_init(0) != 0) {
		fprintf(stderr, "idw-mcp: %s\n", idw_arena_lock_error());
		return 1;
	}
	idw_arena_cjson_hooks();
	if ((agent = mcp_agent_new(true)) == NULL) {
		fprintf(stderr, "idw-mcp: out of memory\n");
		return 1;
	}
	mcp_server_init(&s, &mcp_agent_backend, agent);
	mcp_reader_init(&rd, read_stdin, NULL);
	r = mcp_serve(&s, &rd, STDOUT_FILENO);
	mcp_reader_free(&rd);
	mcp_agent_free(agent);
	return r == 0 ? 0 : 1;
}
