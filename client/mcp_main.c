/* SPDX-License-Identifier: ISC */
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>

#include "client/mcp_server.h"
#include "sandbox/arena.h"

/* idw-mcp: MCP over stdin/stdout; logs go to stderr only. */

static ssize_t read_stdin(void *ctx, void *p, size_t n)
{
	(void)ctx;
	return read(STDIN_FILENO, p, n);
}

int main(void)
{
	static struct mcp_reader rd;
	const struct rlimit no_core = {0, 0};
	struct mcp_server s;
	struct mcp_agent *agent;
	int r;

	/* Values pass through this process: no core dumps, no ptrace. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &no_core) != 0) {
		fprintf(stderr, "idw-mcp: cannot disable core dumps\n");
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0 || idw_arena_init(0) != 0) {
		fprintf(stderr, "idw-mcp: %s\n", idw_arena_lock_error());
		return 1;
	}
	idw_arena_cjson_hooks();
	if ((agent = mcp_agent_new()) == NULL) {
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
