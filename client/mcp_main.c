/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client/mcp_server.h"
#include "common/idwtime.h"
#include "sandbox/arena.h"
#include "sandbox/harden.h"

/* idw-mcp: MCP over stdin/stdout; logs go to stderr only. */

#define MCP_TIMEOUT_DEFAULT_MS 10000
#define MCP_TIMEOUT_MAX_MS 3600000

static ssize_t read_stdin(void *ctx, void *p, size_t n, int timeout_ms)
{
	struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
	int pr;

	(void)ctx;
	pr = poll(&pfd, 1, timeout_ms);
	if (pr == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	if (pr < 0)
		return -1;
	return read(STDIN_FILENO, p, n);
}

/*
 * IDW_MCP_TIMEOUT: how long a call may wait on the agent, "N{s,m,h,d}"
 * or "Nms".  The CLI waits longer (a person's Argon2id); a model's tool
 * call is better told at once that the agent is stuck.
 */
static int reply_timeout(void)
{
	const char *v = getenv("IDW_MCP_TIMEOUT");
	int64_t secs;
	char *end;
	long ms;

	if (v == NULL || *v == '\0')
		return MCP_TIMEOUT_DEFAULT_MS;
	ms = strtol(v, &end, 10);
	if (end != v && strcmp(end, "ms") == 0 && ms >= 100 &&
	    ms <= MCP_TIMEOUT_MAX_MS)
		return (int)ms;
	if (idw_duration_parse(v, &secs) == 0 && secs > 0 &&
	    secs <= MCP_TIMEOUT_MAX_MS / 1000)
		return (int)(secs * 1000);
	fprintf(stderr,
		"idw-mcp: IDW_MCP_TIMEOUT=%.40s is not a duration from 100ms "
		"to 1h; using 10s\n",
		v);
	return MCP_TIMEOUT_DEFAULT_MS;
}

/* IDW_MCP_PAGE_SIZE: entries per page of every list (1 to 500). */
static size_t page_size(void)
{
	const char *v = getenv("IDW_MCP_PAGE_SIZE");
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return MCP_PAGE;
	n = strtol(v, &end, 10);
	if (*end == '\0' && n >= 1 && n <= 500)
		return (size_t)n;
	fprintf(stderr,
		"idw-mcp: IDW_MCP_PAGE_SIZE=%.40s is not from 1 to 500; "
		"using %d\n",
		v, MCP_PAGE);
	return MCP_PAGE;
}

int main(void)
{
	static struct mcp_reader rd;
	static struct mcp_server s;
	char why[256] = "";
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
	if ((agent = mcp_agent_new(true, reply_timeout())) == NULL) {
		fprintf(stderr, "idw-mcp: out of memory\n");
		return 1;
	}
	mcp_server_init(&s, &mcp_agent_backend, agent);
	s.page_size = page_size();
	mcp_reader_init(&rd, read_stdin, NULL);
	r = mcp_serve(&s, &rd, STDIN_FILENO, STDOUT_FILENO);
	mcp_reader_free(&rd);
	mcp_server_free(&s);
	mcp_agent_free(agent);
	return r == 0 ? 0 : 1;
}
