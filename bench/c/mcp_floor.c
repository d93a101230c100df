/* SPDX-License-Identifier: ISC */
/*
 * mcp_floor: the least a stdio JSON-RPC server can do.  It reads lines,
 * finds the id and the method by searching the text (no JSON parser), and
 * writes a canned answer of about the size of a real one.  No libraries
 * beyond libc: the floor for start, per-call latency and RSS.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
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
	else if (memmem(l, n, "\"tools/call\"", 12))
		res = CALL_RES;
	else
		res = "{}";
	len = snprintf(out, sizeof(out),
		       "{\"jsonrpc\":\"2.0\",\"id\":%.*s,\"result\":%s}\n",
		       (int)(e - id), id, res);
	put(out, (size_t)len);
}

int main(void)
{
	size_t have = 0;

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
