/* SPDX-License-Identifier: ISC */
#ifndef IDW_WIRE_H
#define IDW_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/*
 * Frames between clients and idw-agentd (docs/protocol.md):
 *
 *   u32 body length | u16 type | u16 version | u32 request id | body
 *   body = JSON text | 0x00 | [ u32 secret length | secret bytes ]
 *
 * The header is checked before anything is allocated for the body.
 */
#define IDW_WIRE_VERSION 1
#define IDW_WIRE_HDR_LEN 12
#define IDW_WIRE_MAX_BODY (1024u * 1024u)

enum idw_frame_type {
	IDW_FRAME_HELLO = 1,
	IDW_FRAME_REQUEST = 2,
	IDW_FRAME_REPLY = 3,
	IDW_FRAME_ERROR = 4,
};

struct idw_frame_hdr {
	uint32_t body_len;
	uint16_t type;
	uint16_t version;
	uint32_t req_id;
};

struct idw_frame {
	struct idw_frame_hdr hdr;
	const char *json; /* not NUL-terminated by the wire; see json_len */
	size_t json_len;
	bool has_secret;
	const uint8_t *secret;
	size_t secret_len;
};

/* Check a 12-byte header: IDW_ETOOBIG, IDW_EVERSION or IDW_EINVAL. */
int idw_wire_hdr_decode(const uint8_t *p, struct idw_frame_hdr *h) IDW_WUR;
void idw_wire_hdr_encode(uint8_t *p, const struct idw_frame_hdr *h);

/* Split a body (after its header was checked) into JSON and secret. */
int idw_wire_body_split(const uint8_t *body, size_t len,
			struct idw_frame *f) IDW_WUR;

/*
 * Try to take one whole frame from the front of a receive buffer.
 * Returns 1 and fills f (pointing into buf) when a frame is complete,
 * 0 when more bytes are needed, or a negative error for a bad header or
 * body.  The caller drops hdr + body_len bytes once done with f.
 */
int idw_wire_take(const uint8_t *buf, size_t len, struct idw_frame *f) IDW_WUR;

/* Append an encoded frame to out. secret may be NULL when !has_secret. */
int idw_wire_encode(struct idw_buf *out, uint16_t type, uint32_t req_id,
		    const char *json, size_t json_len, const uint8_t *secret,
		    size_t secret_len, bool has_secret) IDW_WUR;

#endif
