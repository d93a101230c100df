/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/wire.h"

static void hdr(uint8_t p[IDW_WIRE_HDR_LEN], uint32_t body_len, uint16_t type,
		uint16_t version, uint32_t req_id)
{
	idw_le32_put(p, body_len);
	idw_le16_put(p + 4, type);
	idw_le16_put(p + 6, version);
	idw_le32_put(p + 8, req_id);
}

static int decode(uint32_t body_len, uint16_t type, uint16_t version)
{
	uint8_t p[IDW_WIRE_HDR_LEN];
	struct idw_frame_hdr h;

	hdr(p, body_len, type, version, 7);
	return idw_wire_hdr_decode(p, &h);
}

static void test_hdr_decode_fields(void **state)
{
	uint8_t p[IDW_WIRE_HDR_LEN];
	struct idw_frame_hdr h, back;

	(void)state;
	memcpy(p, "\x05\x00\x00\x00\x02\x00\x01\x00\x78\x56\x34\x12", 12);
	assert_int_equal(idw_wire_hdr_decode(p, &h), 0);
	assert_int_equal(h.body_len, 5);
	assert_int_equal(h.type, IDW_FRAME_REQUEST);
	assert_int_equal(h.version, IDW_WIRE_VERSION);
	assert_int_equal(h.req_id, 0x12345678u);

	memset(p, 0xee, sizeof(p));
	idw_wire_hdr_encode(p, &h);
	assert_memory_equal(
		p, "\x05\x00\x00\x00\x02\x00\x01\x00\x78\x56\x34\x12", 12);
	assert_int_equal(idw_wire_hdr_decode(p, &back), 0);
	assert_memory_equal(&back, &h, sizeof(h));
}

static void test_hdr_length_bounds(void **state)
{
	(void)state;
	assert_int_equal(decode(1, IDW_FRAME_HELLO, 1), 0);
	assert_int_equal(decode(IDW_WIRE_MAX_BODY, IDW_FRAME_REPLY, 1), 0);
	assert_int_equal(decode(IDW_WIRE_MAX_BODY + 1, IDW_FRAME_REPLY, 1),
			 IDW_ETOOBIG);
	assert_int_equal(decode(UINT32_MAX, IDW_FRAME_REQUEST, 1), IDW_ETOOBIG);
	/* Every body carries at least the NUL that ends its JSON. */
	assert_int_equal(decode(0, IDW_FRAME_REQUEST, 1), IDW_EINVAL);
}

static void test_hdr_type_and_version(void **state)
{
	(void)state;
	for (uint16_t t = IDW_FRAME_HELLO; t <= IDW_FRAME_ERROR; t++)
		assert_int_equal(decode(10, t, 1), 0);
	assert_int_equal(decode(10, 0, 1), IDW_EINVAL);
	assert_int_equal(decode(10, 5, 1), IDW_EINVAL);
	assert_int_equal(decode(10, 0xffff, 1), IDW_EINVAL);
	assert_int_equal(decode(10, IDW_FRAME_REQUEST, 0), IDW_EVERSION);
	assert_int_equal(decode(10, IDW_FRAME_REQUEST, 2), IDW_EVERSION);
	assert_int_equal(decode(10, IDW_FRAME_REQUEST, 0x0100), IDW_EVERSION);
	/*
	 * Another version is reported as such even when the rest of its
	 * header means nothing to us, so the peer learns to upgrade.
	 */
	assert_int_equal(decode(UINT32_MAX, 99, 2), IDW_EVERSION);
}

/* Split len bytes copied into an exact-size heap block (ASan sees reads). */
static int split(const void *body, size_t len, struct idw_frame *f,
		 uint8_t **copy)
{
	*copy = malloc(len ? len : 1);
	assert_non_null(*copy);
	memcpy(*copy, body, len);
	return idw_wire_body_split(*copy, len, f);
}

static void test_body_split_json_only(void **state)
{
	struct idw_frame f;
	uint8_t *c;

	(void)state;
	assert_int_equal(split("{\"a\":1}", 8, &f, &c), 0);
	assert_ptr_equal(f.json, (const char *)c);
	assert_int_equal(f.json_len, 7);
	assert_false(f.has_secret);
	assert_null(f.secret);
	assert_int_equal(f.secret_len, 0);
	free(c);

	/* Empty JSON text is the splitter's business to allow. */
	assert_int_equal(split("", 1, &f, &c), 0);
	assert_int_equal(f.json_len, 0);
	assert_false(f.has_secret);
	free(c);
}

static void test_body_split_refusals(void **state)
{
	struct idw_frame f;
	uint8_t *c;

	(void)state;
	/* No NUL: the JSON never ends. */
	assert_int_equal(split("{\"a\":1}", 7, &f, &c), IDW_EINVAL);
	free(c);
	assert_int_equal(split("", 0, &f, &c), IDW_EINVAL);
	free(c);
	/* 1 to 3 bytes after the NUL cannot hold a secret length. */
	assert_int_equal(split("{}\0\x01", 4, &f, &c), IDW_EINVAL);
	free(c);
	assert_int_equal(split("{}\0\x00\x00\x00", 6, &f, &c), IDW_EINVAL);
	free(c);
	/* Declared secret longer than what follows. */
	assert_int_equal(split("{}\0\x05\x00\x00\x00"
			       "abcd",
			       11, &f, &c),
			 IDW_EINVAL);
	free(c);
	/* Trailing garbage after the secret. */
	assert_int_equal(split("{}\0\x03\x00\x00\x00"
			       "abcde",
			       12, &f, &c),
			 IDW_EINVAL);
	free(c);
	/* A huge declared length must not wrap anything. */
	assert_int_equal(split("{}\0\xff\xff\xff\xff"
			       "abc",
			       10, &f, &c),
			 IDW_EINVAL);
	free(c);
}

static void test_body_split_secret(void **state)
{
	struct idw_frame f;
	uint8_t *c;

	(void)state;
	assert_int_equal(split("{}\0\x04\x00\x00\x00s\0c\n", 11, &f, &c), 0);
	assert_int_equal(f.json_len, 2);
	assert_true(f.has_secret);
	assert_int_equal(f.secret_len, 4);
	assert_ptr_equal(f.secret, c + 7);
	assert_memory_equal(f.secret, "s\0c\n", 4);
	free(c);

	/* A present but empty secret is told apart from no secret. */
	assert_int_equal(split("{}\0\x00\x00\x00\x00", 7, &f, &c), 0);
	assert_true(f.has_secret);
	assert_int_equal(f.secret_len, 0);
	free(c);
}

static size_t frame(uint8_t *out, uint16_t type, uint32_t req_id,
		    const char *json, const void *secret, uint32_t slen,
		    int with_secret)
{
	size_t jl = strlen(json), body = jl + 1 + (with_secret ? 4 + slen : 0);

	hdr(out, (uint32_t)body, type, IDW_WIRE_VERSION, req_id);
	memcpy(out + IDW_WIRE_HDR_LEN, json, jl + 1);
	if (with_secret) {
		idw_le32_put(out + IDW_WIRE_HDR_LEN + jl + 1, slen);
		memcpy(out + IDW_WIRE_HDR_LEN + jl + 5, secret, slen);
	}
	return IDW_WIRE_HDR_LEN + body;
}

static void test_take_incomplete_then_complete(void **state)
{
	uint8_t buf[256];
	struct idw_frame f;
	size_t n;

	(void)state;
	n = frame(buf, IDW_FRAME_REQUEST, 9, "{\"verb\":\"get\"}", "val", 3, 1);
	assert_int_equal(idw_wire_take(buf, 0, &f), 0);
	for (size_t have = 1; have < n; have++)
		assert_int_equal(idw_wire_take(buf, have, &f), 0);
	assert_int_equal(idw_wire_take(buf, n, &f), 1);
	assert_int_equal(f.hdr.req_id, 9);
	assert_int_equal(f.hdr.type, IDW_FRAME_REQUEST);
	assert_int_equal(f.hdr.body_len, n - IDW_WIRE_HDR_LEN);
	assert_int_equal(f.json_len, strlen("{\"verb\":\"get\"}"));
	assert_memory_equal(f.json, "{\"verb\":\"get\"}", f.json_len);
	assert_true(f.has_secret);
	assert_int_equal(f.secret_len, 3);
	assert_memory_equal(f.secret, "val", 3);
}

static void test_take_two_frames_back_to_back(void **state)
{
	uint8_t buf[256];
	struct idw_frame f;
	size_t n1, n2;

	(void)state;
	n1 = frame(buf, IDW_FRAME_HELLO, 1, "{}", NULL, 0, 0);
	n2 = frame(buf + n1, IDW_FRAME_REQUEST, 2, "[1]", "x", 1, 1);
	/* Bytes of the next frame do not leak into this one. */
	assert_int_equal(idw_wire_take(buf, n1 + n2, &f), 1);
	assert_int_equal(f.hdr.req_id, 1);
	assert_int_equal(f.hdr.body_len, 3);
	assert_false(f.has_secret);
	assert_int_equal(idw_wire_take(buf + n1, n2, &f), 1);
	assert_int_equal(f.hdr.req_id, 2);
	assert_true(f.has_secret);
	assert_memory_equal(f.secret, "x", 1);
	assert_int_equal(idw_wire_take(buf + n1, n2 - 1, &f), 0);
}

static void test_take_bad_header_before_body(void **state)
{
	uint8_t buf[IDW_WIRE_HDR_LEN];
	struct idw_frame f;

	(void)state;
	/* A bad header is refused as soon as its 12 bytes are in. */
	hdr(buf, IDW_WIRE_MAX_BODY + 1, IDW_FRAME_REQUEST, 1, 1);
	assert_int_equal(idw_wire_take(buf, sizeof(buf), &f), IDW_ETOOBIG);
	assert_int_equal(idw_wire_take(buf, sizeof(buf) - 1, &f), 0);
	hdr(buf, 10, 7, 1, 1);
	assert_int_equal(idw_wire_take(buf, sizeof(buf), &f), IDW_EINVAL);
	hdr(buf, 10, IDW_FRAME_REQUEST, 3, 1);
	assert_int_equal(idw_wire_take(buf, sizeof(buf), &f), IDW_EVERSION);
	hdr(buf, 0, IDW_FRAME_REQUEST, 1, 1);
	assert_int_equal(idw_wire_take(buf, sizeof(buf), &f), IDW_EINVAL);
}

static void test_take_bad_body(void **state)
{
	uint8_t buf[64];
	struct idw_frame f;

	(void)state;
	hdr(buf, 4, IDW_FRAME_REQUEST, 1, 1);
	memcpy(buf + IDW_WIRE_HDR_LEN, "{}{}", 4);
	assert_int_equal(idw_wire_take(buf, IDW_WIRE_HDR_LEN + 4, &f),
			 IDW_EINVAL);
	hdr(buf, 5, IDW_FRAME_REQUEST, 1, 1);
	memcpy(buf + IDW_WIRE_HDR_LEN, "{}\0ab", 5);
	assert_int_equal(idw_wire_take(buf, IDW_WIRE_HDR_LEN + 5, &f),
			 IDW_EINVAL);
}

static void round_trip(uint16_t type, uint32_t req_id, const char *json,
		       const uint8_t *secret, size_t slen, bool has_secret)
{
	struct idw_buf out;
	struct idw_frame f;
	size_t jl = strlen(json);

	idw_buf_init(&out, IDW_WIRE_HDR_LEN + IDW_WIRE_MAX_BODY, 0);
	assert_int_equal(idw_wire_encode(&out, type, req_id, json, jl, secret,
					 slen, has_secret),
			 0);
	assert_int_equal(out.len, IDW_WIRE_HDR_LEN + jl + 1 +
					  (has_secret ? 4 + slen : 0));
	assert_int_equal(idw_wire_take(out.d, out.len, &f), 1);
	assert_int_equal(f.hdr.type, type);
	assert_int_equal(f.hdr.version, IDW_WIRE_VERSION);
	assert_int_equal(f.hdr.req_id, req_id);
	assert_int_equal(f.hdr.body_len, out.len - IDW_WIRE_HDR_LEN);
	assert_int_equal(f.json_len, jl);
	assert_memory_equal(f.json, json, jl);
	assert_int_equal(f.has_secret, has_secret);
	if (has_secret) {
		assert_int_equal(f.secret_len, slen);
		if (slen)
			assert_memory_equal(f.secret, secret, slen);
	}
	/* One byte short is still incomplete. */
	assert_int_equal(idw_wire_take(out.d, out.len - 1, &f), 0);
	idw_buf_free(&out);
}

static void test_encode_take_round_trip(void **state)
{
	static const uint8_t bin[] = {0, 1, 2, 0xff, 0, '"', '\\', 0x80};
	uint8_t *big;

	(void)state;
	round_trip(IDW_FRAME_HELLO, 0, "{\"client\":\"idw\"}", NULL, 0, false);
	round_trip(IDW_FRAME_REQUEST, UINT32_MAX, "{\"verb\":\"create\"}", bin,
		   sizeof(bin), true);
	round_trip(IDW_FRAME_REPLY, 42, "{\"ok\":true}", bin, 0, true);
	round_trip(IDW_FRAME_ERROR, 1, "", NULL, 0, false);

	/* The largest body that fits exactly. */
	big = calloc(1, IDW_WIRE_MAX_BODY);
	assert_non_null(big);
	round_trip(IDW_FRAME_REPLY, 3, "{}", big, IDW_WIRE_MAX_BODY - 3 - 4,
		   true);
	free(big);
}

static void test_encode_refusals(void **state)
{
	struct idw_buf out;
	uint8_t *big;

	(void)state;
	idw_buf_init(&out, 2 * IDW_WIRE_MAX_BODY, 0);
	/* A NUL inside the JSON would end it early on the other side. */
	assert_int_equal(idw_wire_encode(&out, IDW_FRAME_REQUEST, 1, "{\0}", 3,
					 NULL, 0, false),
			 IDW_EINVAL);
	big = calloc(1, IDW_WIRE_MAX_BODY + 1);
	assert_non_null(big);
	memset(big, ' ', IDW_WIRE_MAX_BODY);
	assert_int_equal(idw_wire_encode(&out, IDW_FRAME_REQUEST, 1,
					 (const char *)big, IDW_WIRE_MAX_BODY,
					 NULL, 0, false),
			 IDW_ETOOBIG);
	assert_int_equal(idw_wire_encode(&out, IDW_FRAME_REQUEST, 1, "{}", 2,
					 big, IDW_WIRE_MAX_BODY - 6, true),
			 IDW_ETOOBIG);
	assert_int_equal(idw_wire_encode(&out, IDW_FRAME_REQUEST, 1, "{}", 2,
					 big, SIZE_MAX, true),
			 IDW_ETOOBIG);
	assert_int_equal(out.len, 0);
	idw_buf_free(&out);
	free(big);

	/* An output buffer too small takes nothing, not half a frame. */
	idw_buf_init(&out, 20, 0);
	assert_int_equal(idw_wire_encode(&out, IDW_FRAME_REQUEST, 1,
					 "{\"a\":12345}", 11, NULL, 0, false),
			 IDW_ETOOBIG);
	assert_int_equal(out.len, 0);
	idw_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_decode_fields),
		cmocka_unit_test(test_hdr_length_bounds),
		cmocka_unit_test(test_hdr_type_and_version),
		cmocka_unit_test(test_body_split_json_only),
		cmocka_unit_test(test_body_split_refusals),
		cmocka_unit_test(test_body_split_secret),
		cmocka_unit_test(test_take_incomplete_then_complete),
		cmocka_unit_test(test_take_two_frames_back_to_back),
		cmocka_unit_test(test_take_bad_header_before_body),
		cmocka_unit_test(test_take_bad_body),
		cmocka_unit_test(test_encode_take_round_trip),
		cmocka_unit_test(test_encode_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
