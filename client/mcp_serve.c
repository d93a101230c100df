/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "client/mcp_server.h"
#include "client/mcp_tools.h"
#include "common/idwtime.h"

/*
 * idw-mcp's loop: a line in, its answers out, and between lines the
 * deadlines of tool calls that wait on the person.  While a call waits on
 * the agent, stdin is still read (into the reader's look-ahead), so a
 * cancellation is seen at once and a closed stdin ends the process
 * within MCP_EOF_GRACE_MS.
 */
struct serve {
	struct mcp_server *s;
	struct mcp_reader *rd;
	uint64_t eof_until; /* 0 until stdin closed */
};

static void saw_eof(struct serve *sv)
{
	if (sv->eof_until != 0)
		return;
	sv->eof_until = idw_boot_ms() + MCP_EOF_GRACE_MS;
	if (sv->s->be->set_until != NULL)
		sv->s->be->set_until(sv->s->be_ctx, sv->eof_until);
}

/* stdin is readable while a call waits on the agent. */
static int pump(void *arg)
{
	struct serve *sv = arg;
	int r = mcp_reader_fill(sv->rd, 0);

	if (r == 1 || r == MCP_READ_TIMEOUT)
		return 0;
	if (r == MCP_READ_EOF)
		saw_eof(sv);
	return 1; /* EOF, a full look-ahead or an error: stop watching */
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return IDW_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* How long the reader may wait: until the next deadline, or at will. */
static int wait_ms(const struct mcp_server *s)
{
	uint64_t d = mcp_server_deadline(s), now = idw_boot_ms();

	if (d == 0)
		return -1;
	if (d <= now)
		return 0;
	return d - now > INT_MAX ? INT_MAX : (int)(d - now);
}

int mcp_serve(struct mcp_server *s, struct mcp_reader *rd, int in_fd,
	      int out_fd)
{
	struct serve sv = {s, rd, 0};
	struct idw_buf out;
	const char *line;
	size_t len;
	int r = 0;

	/* Answers may carry a value: they are built in locked memory. */
	idw_buf_init(&out, MCP_OUT_MAX, IDW_BUF_SECURE);
	s->rd = rd;
	if (in_fd >= 0 && s->be->set_watch != NULL)
		s->be->set_watch(s->be_ctx, in_fd, pump, &sv);
	for (;;) {
		if (rd->eof) {
			/* Nothing waits on the person once the client left. */
			saw_eof(&sv);
			mcp_server_abandon(s);
			if (idw_boot_ms() >= sv.eof_until)
				break;
		}
		r = mcp_reader_next(rd, wait_ms(s), &line, &len);
		if (r == MCP_READ_EOF) {
			r = 0;
			break;
		}
		if (r < 0)
			break;
		if (r == MCP_READ_TIMEOUT)
			r = mcp_server_tick(s, idw_boot_ms(), &out);
		else if (r == MCP_READ_TOO_LONG)
			r = mcp_reply_too_long(&out);
		else
			r = mcp_handle_line(s, line, len, &out);
		if (r != 0)
			fprintf(stderr, "idw-mcp: could not answer: %s\n",
				idw_strerror(r));
		if ((r = write_all(out_fd, out.d, out.len)) != 0)
			break;
		idw_buf_reset(&out);
	}
	idw_buf_free(&out);
	mcp_server_abandon(s);
	s->rd = NULL;
	if (r < 0)
		fprintf(stderr, "idw-mcp: %s\n",
			r == IDW_EIO ? "input or output closed with an error"
				     : idw_strerror(r));
	return r;
}
