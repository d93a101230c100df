/* SPDX-License-Identifier: ISC */
/*
 * mcp_floor: the least a stdio JSON-RPC server can do.  It reads lines,
 * finds the id and the method by searching the text (no JSON parser), and
 * writes a canned answer of about the size of a real one.  No libraries
 * beyond libc: the floor for start, per-call latency and RSS.
 *
 *   mcp_floor [SOCK]
 *
 * With SOCK (echo_floor's socket) each tools/call first sends one framed
 * request of the size of idw-mcp's get to SOCK and waits for it to come
 * back, as idw-mcp waits for the agent: the floor of a server that keeps
 * its secrets in another process, one Unix-socket hop away.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char in[1 << 16];
static char out[1 << 14];

static const char *INIT_RES =
	"{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"tools\":{}},"
	"\"serverInfo\":{\"name\":\"floor\",\"version\":\"1\"}}";
static const char *LIST_RES =
	"{\"tools\":[{\"name\":\"get_credential\",\"description\":\"Get a "
	"credential\",\"inputSchema\":{\"type\":\"object\",\"properties\":{"
	"\"passport_id\":{\"type\":\"string\"},\"purpose\":{\"type\":"
	"\"string\"}},\"required\":[\"passport_id\",\"purpose\"]}}]}";
static const char *CALL_RES =
	"{\"content\":[{\"type\":\"text\",\"text\":\"{\\\"success\\\":true,"
	"\\\"credential\\\":\\\"sk-bench-0123456789abcdef0123456789abcdef\\\","
	"\\\"passport_name\\\":\\\"bench\\\",\\\"passport_id\\\":"
	"\\\"pp_0123456789abcdef\\\"}\"}],\"structuredContent\":{\"success\":"
	"true,\"credential\":\"sk-bench-0123456789abcdef0123456789abcdef\","
	"\"passport_name\":\"bench\",\"passport_id\":\"pp_0123456789abcdef\"},"
	"\"isError\":false}";

static void put(const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(1, s, n);

		if (w <= 0)
			_exit(1);
		s += w;
		n -= (size_t)w;
	}
}

static const char *relay_path;
static int relay_fd = -1;

static void io_all(int fd, void *p, size_t n, int wr)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t r = wr ? write(fd, b, n) : read(fd, b, n);

		if (r <= 0)
			_exit(1);
		b += r;
		n -= (size_t)r;
	}
}

/* One round trip to the echo floor: a frame out, the same frame back. */
static void relay(void)
{
	static const char body[] =
		"{\"verb\":\"get\",\"id\":\"pp_0123456789abcdef\",\"purpose\":"
		"\"benchmark\",\"via\":\"mcp\"}";
	static uint32_t rid;
	uint8_t f[12 + sizeof(body)], back[12 + sizeof(body)];
	uint32_t len = sizeof(body) - 1;

	if (relay_fd < 0) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", relay_path);
		relay_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (relay_fd < 0 ||
		    connect(relay_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			_exit(1);
	}
	rid++;
	memset(f, 0, 12);
	for (int i = 0; i < 4; i++) {
		f[i] = (uint8_t)(len >> (8 * i));
		f[8 + i] = (uint8_t)(rid >> (8 * i));
	}
	f[4] = 2; /* a request */
	memcpy(f + 12, body, len);
	io_all(relay_fd, f, 12 + len, 1);
	io_all(relay_fd, back, 12 + len, 0);
}

static void answer(const char *l, size_t n)
{
	const char *id = memmem(l, n, "\"id\":", 5), *e, *res;
	int len;

	if (id == NULL)
		return; /* a notification */
	id += 5;
	for (e = id; e < l + n && *e != ',' && *e != '}'; e++)
		;
	if (memmem(l, n, "\"initialize\"", 12))
		res = INIT_RES;
	else if (memmem(l, n, "\"tools/list\"", 12))
		res = LIST_RES;
	else if (memmem(l, n, "\"tools/call\"", 12)) {
		if (relay_path != NULL)
			relay();
		res = CALL_RES;
	} else
		res = "{}";
	len = snprintf(out, sizeof(out),
		       "{\"jsonrpc\":\"2.0\",\"id\":%.*s,\"result\":%s}\n",
		       (int)(e - id), id, res);
	put(out, (size_t)len);
}

int main(int argc, char **argv)
{
	size_t have = 0;

	if (argc > 1)
		relay_path = argv[1];
	for (;;) {
		ssize_t r = read(0, in + have, sizeof(in) - have);
		char *p = in, *nl;

		if (r <= 0)
			return 0;
		have += (size_t)r;
		while ((nl = memchr(p, '\n', have - (size_t)(p - in)))) {
			answer(p, (size_t)(nl - p));
			p = nl + 1;
		}
		have -= (size_t)(p - in);
		memmove(in, p, have);
		if (have == sizeof(in))
			have = 0; /* an overlong line: dropped */
	}
}
