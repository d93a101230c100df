/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "client/mcp_server.h"
#include "common/jsonu.h"

/*
 * idw-mcp's input: bytes from stdin are kept in a look-ahead buffer and
 * handed out a line at a time.  Complete lines in the look-ahead are
 * looked at once for notifications/cancelled, so a request whose
 * cancellation arrived with it, or while an earlier call waited on the
 * agent, is dropped unanswered.
 */

static const char cancel_method[] = "notifications/cancelled";

bool mcp_id_key(const cJSON *id, char key[MCP_KEY_MAX])
{
	if (cJSON_IsString(id)) {
		/* Longer ids are compared by their first bytes only. */
		snprintf(key, MCP_KEY_MAX, "s:%s", id->valuestring);
		return true;
	}
	if (cJSON_IsNumber(id)) {
		snprintf(key, MCP_KEY_MAX, "n:%.17g", id->valuedouble);
		return true;
	}
	return false;
}

void mcp_reader_init(struct mcp_reader *r, mcp_read_fn fn, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->read = fn;
	r->ctx = ctx;
	idw_buf_init(&r->in, MCP_INPUT_MAX, 0);
	idw_buf_init(&r->line, MCP_LINE_MAX, 0);
}

void mcp_reader_free(struct mcp_reader *r)
{
	idw_buf_free(&r->in);
	idw_buf_free(&r->line);
}

/* Forget bytes before off: the head moves, offsets follow. */
static void compact(struct mcp_reader *r)
{
	size_t off = r->in.off, k = 0;

	if (off == 0)
		return;
	memmove(r->in.d, r->in.d + off, r->in.len - off);
	r->in.len -= off;
	r->in.off = 0;
	r->scanned = r->scanned > off ? r->scanned - off : 0;
	for (size_t i = 0; i < r->ncancels; i++) {
		if (r->cancels[i].end <= off)
			continue;
		r->cancels[k] = r->cancels[i];
		r->cancels[k++].end -= off;
	}
	r->ncancels = k;
}

/* Forget cancellations whose line was handed out. */
static void prune(struct mcp_reader *r)
{
	size_t k = 0;

	for (size_t i = 0; i < r->ncancels; i++)
		if (r->cancels[i].end > r->in.off)
			r->cancels[k++] = r->cancels[i];
	r->ncancels = k;
}

/*
 * Record the cancellation in line, if it is one.  false when the table
 * is full: the line is looked at again once requests ahead were taken.
 */
static bool note_cancel(struct mcp_reader *r, const char *p, size_t n,
			size_t end)
{
	const cJSON *params, *rid;
	cJSON *m;

	if (memmem(p, n, cancel_method, sizeof(cancel_method) - 1) == NULL)
		return true;
	prune(r);
	if (r->ncancels == MCP_CANCELS_MAX)
		return false;
	m = idw_json_parse(p, n);
	params = cJSON_GetObjectItemCaseSensitive(m, "params");
	rid = cJSON_GetObjectItemCaseSensitive(params, "requestId");
	if (cJSON_IsObject(m) && cJSON_GetObjectItem(m, "id") == NULL &&
	    idw_json_str(m, "method") != NULL &&
	    strcmp(idw_json_str(m, "method"), cancel_method) == 0 &&
	    mcp_id_key(rid, r->cancels[r->ncancels].key))
		r->cancels[r->ncancels++].end = end;
	cJSON_Delete(m);
	return true;
}

/* Look at every complete line not looked at yet. */
static void scan(struct mcp_reader *r)
{
	size_t at = r->scanned > r->in.off ? r->scanned : r->in.off;

	if (r->discarding)
		return; /* the head is the rest of an overlong line */
	while (at < r->in.len) {
		const uint8_t *nl = memchr(r->in.d + at, '\n', r->in.len - at);
		size_t n;

		if (nl == NULL)
			break;
		n = (size_t)(nl - (r->in.d + at));
		if (n <= MCP_LINE_MAX &&
		    !note_cancel(r, (const char *)r->in.d + at, n, at + n + 1))
			break;
		at += n + 1;
	}
	r->scanned = at;
}

bool mcp_reader_cancelled(struct mcp_reader *r, const char *key)
{
	scan(r);
	for (size_t i = 0; i < r->ncancels; i++)
		if (r->cancels[i].end > r->in.off &&
		    strcmp(r->cancels[i].key, key) == 0)
			return true;
	return false;
}

int mcp_reader_fill(struct mcp_reader *r, int timeout_ms)
{
	ssize_t got;
	int e;

	if (r->eof)
		return MCP_READ_EOF;
	/* Moving the rest costs no more than what was handed out before. */
	if (r->in.off > 0 && (r->in.off >= r->in.len - r->in.off ||
			      r->in.max - r->in.len < MCP_READ_CHUNK))
		compact(r);
	if (r->in.max - r->in.len < MCP_READ_CHUNK)
		return IDW_ETOOBIG;
	if ((e = idw_buf_reserve(&r->in, MCP_READ_CHUNK)) != 0)
		return e;
	do {
		got = r->read(r->ctx, r->in.d + r->in.len, MCP_READ_CHUNK,
			      timeout_ms);
	} while (got < 0 && errno == EINTR);
	if (got < 0)
		return errno == ETIMEDOUT ? MCP_READ_TIMEOUT : IDW_EIO;
	if (got == 0) {
		r->eof = true;
		return MCP_READ_EOF;
	}
	r->in.len += (size_t)got;
	return 1;
}

/*
 * Drop the head of an overlong line; true once its end was seen (the
 * head is then the next line).
 */
static bool skip_long(struct mcp_reader *r)
{
	const uint8_t *h, *nl;

	if (r->in.len == r->in.off)
		return false;
	h = r->in.d + r->in.off;
	nl = memchr(h, '\n', r->in.len - r->in.off);

	if (nl == NULL) {
		r->in.off = r->in.len;
		return false;
	}
	r->in.off += (size_t)(nl - h) + 1;
	r->discarding = false;
	return true;
}

int mcp_reader_next(struct mcp_reader *r, int timeout_ms, const char **line,
		    size_t *len)
{
	idw_buf_reset(&r->line);
	for (;;) {
		size_t avail = r->in.len - r->in.off, n;
		const uint8_t *h = avail ? r->in.d + r->in.off : NULL, *nl;
		int e;

		if (r->discarding && skip_long(r))
			return MCP_READ_TOO_LONG;
		nl = r->discarding || avail == 0 ? NULL
						 : memchr(h, '\n', avail);
		n = nl != NULL ? (size_t)(nl - h) : avail;
		if (n > MCP_LINE_MAX) {
			/* Over the bound: forget what we held, skip the rest.
			 */
			r->discarding = true;
			continue;
		}
		if (nl != NULL || (r->eof && avail > 0)) {
			if (n > 0 && (e = idw_buf_put(&r->line, h, n)) != 0)
				return e;
			r->in.off += n + (nl != NULL);
			/*
			 * The last line read so far: take in what else is
			 * already written, so a cancellation sent with it
			 * is seen before it is handled.
			 */
			if (!r->eof && (r->in.len == r->in.off ||
					memchr(r->in.d + r->in.off, '\n',
					       r->in.len - r->in.off) == NULL))
				e = mcp_reader_fill(r, 0); /* best effort */
			break;
		}
		if (r->eof) {
			if (r->discarding) {
				r->discarding = false;
				return MCP_READ_TOO_LONG;
			}
			return MCP_READ_EOF;
		}
		e = mcp_reader_fill(r, timeout_ms);
		if (e == MCP_READ_TIMEOUT || e < 0)
			return e == IDW_ETOOBIG ? IDW_EIO : e;
	}
	*line = r->line.len ? (const char *)r->line.d : "";
	*len = r->line.len;
	return MCP_READ_LINE;
}
