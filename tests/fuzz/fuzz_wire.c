/* SPDX-License-Identifier: ISC */
/*
 * The frame decoder on arbitrary bytes, as the agent and the clients run
 * it on a receive buffer: take frames off the front until one is
 * incomplete or bad, parse each JSON text, and check that a frame taken
 * re-encodes to exactly the bytes it came from.  The whole input is also
 * handed to the body splitter on its own.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonu.h"
#include "common/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_frame(const uint8_t *at, const struct idw_frame *f)
{
	size_t total = IDW_WIRE_HDR_LEN + f->hdr.body_len;
	struct idw_buf out;
	cJSON *j;

	/* Everything the frame points at lies inside its own bytes. */
	if (f->hdr.body_len == 0 || f->hdr.body_len > IDW_WIRE_MAX_BODY ||
	    f->json != (const char *)at + IDW_WIRE_HDR_LEN ||
	    f->json_len >= f->hdr.body_len ||
	    memchr(f->json, 0, f->json_len) != NULL ||
	    f->json[f->json_len] != '\0')
		abort();
	if (f->has_secret) {
		if (f->secret != (const uint8_t *)f->json + f->json_len + 5 ||
		    f->secret + f->secret_len != at + total)
			abort();
	} else if (f->json_len + 1 != f->hdr.body_len || f->secret != NULL ||
		   f->secret_len != 0) {
		abort();
	}

	/* The agent's next step on a request body. */
	j = idw_json_parse(f->json, f->json_len);
	cJSON_Delete(j);

	/* Decoding is exact: encoding what was taken gives the same bytes. */
	idw_buf_init(&out, IDW_WIRE_HDR_LEN + IDW_WIRE_MAX_BODY, 0);
	if (idw_wire_encode(&out, f->hdr.type, f->hdr.req_id, f->json,
			    f->json_len, f->secret, f->secret_len,
			    f->has_secret) != 0 ||
	    out.len != total || memcmp(out.d, at, total) != 0)
		abort();
	idw_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct idw_frame f;
	size_t off = 0;
	int r;

	while ((r = idw_wire_take(data + off, size - off, &f)) == 1) {
		check_frame(data + off, &f);
		off += IDW_WIRE_HDR_LEN + f.hdr.body_len;
	}
	/* Incomplete only while the header or body is still short. */
	if (r == 0 && size - off >= IDW_WIRE_HDR_LEN &&
	    size - off >= IDW_WIRE_HDR_LEN + f.hdr.body_len)
		abort();

	if (size > 0 && idw_wire_body_split(data, size, &f) == 0) {
		if (f.json != (const char *)data || f.json_len >= size ||
		    (f.has_secret && f.secret + f.secret_len != data + size))
			abort();
	}
	return 0;
}
