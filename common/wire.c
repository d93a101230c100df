/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "common/wire.h"

static bool type_known(uint16_t t)
{
	return t >= IDW_FRAME_HELLO && t <= IDW_FRAME_ERROR;
}

int idw_wire_hdr_decode(const uint8_t *p, struct idw_frame_hdr *h)
{
	h->body_len = idw_le32_get(p);
	h->type = idw_le16_get(p + 4);
	h->version = idw_le16_get(p + 6);
	h->req_id = idw_le32_get(p + 8);
	if (h->version != IDW_WIRE_VERSION)
		return IDW_EVERSION;
	if (!type_known(h->type))
		return IDW_EINVAL;
	if (h->body_len > IDW_WIRE_MAX_BODY)
		return IDW_ETOOBIG;
	if (h->body_len == 0)
		return IDW_EINVAL; /* the JSON terminator is always there */
	return 0;
}

void idw_wire_hdr_encode(uint8_t *p, const struct idw_frame_hdr *h)
{
	idw_le32_put(p, h->body_len);
	idw_le16_put(p + 4, h->type);
	idw_le16_put(p + 6, h->version);
	idw_le32_put(p + 8, h->req_id);
}

int idw_wire_body_split(const uint8_t *body, size_t len, struct idw_frame *f)
{
	const uint8_t *nul;
	size_t rest;
	uint32_t slen;

	nul = memchr(body, 0, len);
	if (nul == NULL)
		return IDW_EINVAL;
	f->json = (const char *)body;
	f->json_len = (size_t)(nul - body);
	rest = len - f->json_len - 1;
	f->has_secret = false;
	f->secret = NULL;
	f->secret_len = 0;
	if (rest == 0)
		return 0;
	if (rest < 4)
		return IDW_EINVAL;
	slen = idw_le32_get(nul + 1);
	if (slen != rest - 4)
		return IDW_EINVAL;
	f->has_secret = true;
	f->secret = nul + 5;
	f->secret_len = slen;
	return 0;
}

int idw_wire_take(const uint8_t *buf, size_t len, struct idw_frame *f)
{
	int r;

	if (len < IDW_WIRE_HDR_LEN)
		return 0;
	if ((r = idw_wire_hdr_decode(buf, &f->hdr)) != 0)
		return r;
	if (len - IDW_WIRE_HDR_LEN < f->hdr.body_len)
		return 0;
	if ((r = idw_wire_body_split(buf + IDW_WIRE_HDR_LEN, f->hdr.body_len,
				     f)) != 0)
		return r;
	return 1;
}

int idw_wire_encode(struct idw_buf *out, uint16_t type, uint32_t req_id,
		    const char *json, size_t json_len, const uint8_t *secret,
		    size_t secret_len, bool has_secret)
{
	struct idw_frame_hdr h;
	uint8_t hdr[IDW_WIRE_HDR_LEN];
	size_t body;
	int r;

	if (memchr(json, 0, json_len) != NULL)
		return IDW_EINVAL;
	body = json_len + 1;
	if (has_secret) {
		if (secret_len > IDW_WIRE_MAX_BODY)
			return IDW_ETOOBIG;
		body += 4 + secret_len;
	}
	if (body > IDW_WIRE_MAX_BODY)
		return IDW_ETOOBIG;
	h.body_len = (uint32_t)body;
	h.type = type;
	h.version = IDW_WIRE_VERSION;
	h.req_id = req_id;
	idw_wire_hdr_encode(hdr, &h);
	if ((r = idw_buf_reserve(out, IDW_WIRE_HDR_LEN + body)) != 0)
		return r;
	if ((r = idw_buf_put(out, hdr, sizeof(hdr))) != 0 ||
	    (r = idw_buf_put(out, json, json_len)) != 0 ||
	    (r = idw_buf_put_u8(out, 0)) != 0)
		return r;
	if (has_secret) {
		if ((r = idw_buf_put_u32(out, (uint32_t)secret_len)) != 0 ||
		    (r = idw_buf_put(out, secret, secret_len)) != 0)
			return r;
	}
	return 0;
}
