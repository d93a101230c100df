/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"

static void test_put_get_round_trip(void **state)
{
	struct idw_buf b;
	uint8_t u8 = 0, raw[3];
	uint16_t u16 = 0;
	uint32_t u32 = 0;
	uint64_t u64 = 0;

	(void)state;
	idw_buf_init(&b, 1024, 0);
	assert_int_equal(idw_buf_put_u8(&b, 0xa5), 0);
	assert_int_equal(idw_buf_put_u16(&b, 0xbeef), 0);
	assert_int_equal(idw_buf_put_u32(&b, 0xdeadbeefu), 0);
	assert_int_equal(idw_buf_put_u64(&b, 0x0123456789abcdefull), 0);
	assert_int_equal(idw_buf_put(&b, "xyz", 3), 0);
	assert_int_equal(b.len, 1 + 2 + 4 + 8 + 3);
	assert_int_equal(idw_buf_avail(&b), b.len);

	/* Integers go out little-endian. */
	assert_memory_equal(b.d + 1, "\xef\xbe", 2);
	assert_memory_equal(b.d + 3, "\xef\xbe\xad\xde", 4);
	assert_memory_equal(b.d + 7, "\xef\xcd\xab\x89\x67\x45\x23\x01", 8);

	assert_int_equal(idw_buf_get_u8(&b, &u8), 0);
	assert_int_equal(idw_buf_get_u16(&b, &u16), 0);
	assert_int_equal(idw_buf_get_u32(&b, &u32), 0);
	assert_int_equal(idw_buf_get_u64(&b, &u64), 0);
	assert_int_equal(idw_buf_get(&b, raw, 3), 0);
	assert_int_equal(u8, 0xa5);
	assert_int_equal(u16, 0xbeef);
	assert_int_equal(u32, 0xdeadbeefu);
	assert_true(u64 == 0x0123456789abcdefull);
	assert_memory_equal(raw, "xyz", 3);
	assert_int_equal(idw_buf_avail(&b), 0);
	idw_buf_free(&b);
	assert_null(b.d);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void test_max_refused_without_allocation(void **state)
{
	struct idw_buf b;
	uint8_t big[64] = {0};

	(void)state;
	idw_buf_init(&b, 16, 0);
	/* Over the bound on the first write: nothing is allocated. */
	assert_int_equal(idw_buf_put(&b, big, 17), IDW_ETOOBIG);
	assert_null(b.d);
	assert_int_equal(b.cap, 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(idw_buf_reserve(&b, SIZE_MAX), IDW_ETOOBIG);
	assert_null(b.d);

	/* Exactly the bound fits; one more byte does not. */
	assert_int_equal(idw_buf_put(&b, big, 16), 0);
	assert_int_equal(b.len, 16);
	assert_int_equal(idw_buf_put_u8(&b, 1), IDW_ETOOBIG);
	assert_int_equal(idw_buf_put_u32(&b, 1), IDW_ETOOBIG);
	assert_int_equal(b.len, 16);
	/* Sizes that would wrap len + n are refused, not wrapped. */
	assert_int_equal(idw_buf_reserve(&b, SIZE_MAX - 8), IDW_ETOOBIG);
	assert_int_equal(idw_buf_reserve(&b, SIZE_MAX), IDW_ETOOBIG);
	idw_buf_free(&b);

	idw_buf_init(&b, 0, 0);
	assert_int_equal(idw_buf_put_u8(&b, 1), IDW_ETOOBIG);
	assert_null(b.d);
	/* An empty write is always fine. */
	assert_int_equal(idw_buf_put(&b, NULL, 0), 0);
	idw_buf_free(&b);
}

static void test_growth_stops_at_max(void **state)
{
	struct idw_buf b;
	uint8_t chunk[100];

	(void)state;
	memset(chunk, 0x5a, sizeof(chunk));
	idw_buf_init(&b, 1000, 0);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(idw_buf_put(&b, chunk, sizeof(chunk)), 0);
		assert_true(b.cap >= b.len);
		assert_true(b.cap <= b.max);
	}
	assert_int_equal(b.len, 1000);
	assert_int_equal(idw_buf_put_u8(&b, 0), IDW_ETOOBIG);
	for (size_t i = 0; i < b.len; i++)
		assert_int_equal(b.d[i], 0x5a);
	idw_buf_free(&b);
}

static void test_secure_buffer_keeps_contents(void **state)
{
	struct idw_buf b;
	uint8_t chunk[300];

	(void)state;
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)i;
	idw_buf_init(&b, 1 << 16, IDW_BUF_SECURE);
	for (int i = 0; i < 20; i++)
		assert_int_equal(idw_buf_put(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 20 * sizeof(chunk));
	for (int i = 0; i < 20; i++)
		assert_memory_equal(b.d + i * sizeof(chunk), chunk,
				    sizeof(chunk));
	idw_buf_free(&b);
	assert_null(b.d);
}

static void test_truncated_reads(void **state)
{
	struct idw_buf b;
	uint8_t u8 = 0x11, raw[8];
	uint16_t u16 = 0x1111;
	uint32_t u32 = 0x11111111;
	uint64_t u64 = 0x1111111111111111ull;

	(void)state;
	idw_buf_init(&b, 64, 0);
	/* Reads from an empty buffer fail without touching the output. */
	assert_int_equal(idw_buf_get_u8(&b, &u8), IDW_ETRUNCATED);
	assert_int_equal(u8, 0x11);
	assert_int_equal(idw_buf_put(&b, "\x01\x02\x03", 3), 0);
	assert_int_equal(idw_buf_get_u32(&b, &u32), IDW_ETRUNCATED);
	assert_int_equal(u32, 0x11111111);
	assert_int_equal(idw_buf_get_u64(&b, &u64), IDW_ETRUNCATED);
	assert_true(u64 == 0x1111111111111111ull);
	assert_int_equal(idw_buf_get(&b, raw, 4), IDW_ETRUNCATED);
	assert_int_equal(idw_buf_skip(&b, 4), IDW_ETRUNCATED);
	/* A failed read consumes nothing. */
	assert_int_equal(b.off, 0);
	assert_int_equal(idw_buf_get_u16(&b, &u16), 0);
	assert_int_equal(u16, 0x0201);
	assert_int_equal(idw_buf_get_u16(&b, &u16), IDW_ETRUNCATED);
	assert_int_equal(idw_buf_skip(&b, 1), 0);
	assert_int_equal(idw_buf_avail(&b), 0);
	assert_int_equal(idw_buf_skip(&b, 1), IDW_ETRUNCATED);
	assert_int_equal(idw_buf_skip(&b, SIZE_MAX), IDW_ETRUNCATED);
	assert_int_equal(idw_buf_get(&b, raw, 0), 0);
	idw_buf_free(&b);
}

static void test_le_helpers(void **state)
{
	uint8_t p[8];

	(void)state;
	idw_le16_put(p, 0x0102);
	assert_memory_equal(p, "\x02\x01", 2);
	assert_int_equal(idw_le16_get(p), 0x0102);
	idw_le16_put(p, 0xffff);
	assert_int_equal(idw_le16_get(p), 0xffff);

	idw_le32_put(p, 0x01020304u);
	assert_memory_equal(p, "\x04\x03\x02\x01", 4);
	assert_int_equal(idw_le32_get(p), 0x01020304u);
	idw_le32_put(p, 0xffffffffu);
	assert_int_equal(idw_le32_get(p), 0xffffffffu);
	idw_le32_put(p, 0x80000000u);
	assert_memory_equal(p, "\x00\x00\x00\x80", 4);
	assert_int_equal(idw_le32_get(p), 0x80000000u);

	idw_le64_put(p, 0x0102030405060708ull);
	assert_memory_equal(p, "\x08\x07\x06\x05\x04\x03\x02\x01", 8);
	assert_true(idw_le64_get(p) == 0x0102030405060708ull);
	idw_le64_put(p, UINT64_MAX);
	assert_true(idw_le64_get(p) == UINT64_MAX);
	idw_le64_put(p, 0x8000000000000000ull);
	assert_int_equal(p[7], 0x80);
	assert_true(idw_le64_get(p) == 0x8000000000000000ull);
}

static void test_consume_and_reset_wipe(void **state)
{
	struct idw_buf b;
	uint8_t c = 0;

	(void)state;
	idw_buf_init(&b, 64, 0);
	assert_int_equal(idw_buf_put_str(&b, "abcdefgh"), 0);
	assert_int_equal(idw_buf_skip(&b, 5), 0);
	idw_buf_consume(&b, 3);
	assert_int_equal(b.len, 5);
	assert_int_equal(b.off, 2);
	assert_memory_equal(b.d, "defgh", 5);
	/* The bytes that moved down are wiped from their old place. */
	for (size_t i = b.len; i < 8; i++)
		assert_int_equal(b.d[i], 0);
	assert_int_equal(idw_buf_get_u8(&b, &c), 0);
	assert_int_equal(c, 'f');

	idw_buf_consume(&b, 100);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.off, 0);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(b.d[i], 0);

	assert_int_equal(idw_buf_put_str(&b, "secret"), 0);
	idw_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_non_null(b.d);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(b.d[i], 0);
	idw_buf_free(&b);
}

static void test_printf_and_ptr(void **state)
{
	struct idw_buf b;

	(void)state;
	idw_buf_init(&b, 32, 0);
	/* An empty buffer still gives a readable pointer. */
	assert_non_null(idw_buf_ptr(&b));
	assert_int_equal(idw_buf_printf(&b, "%s-%d", "n", 42), 0);
	assert_int_equal(b.len, 4);
	assert_memory_equal(idw_buf_ptr(&b), "n-42", 4);
	assert_int_equal(idw_buf_skip(&b, 2), 0);
	assert_memory_equal(idw_buf_ptr(&b), "42", 2);
	assert_int_equal(idw_buf_printf(&b, "%040d", 1), IDW_ETOOBIG);
	assert_int_equal(b.len, 4);
	idw_buf_free(&b);
}

/*
 * A warm request maps nothing: a freed secure block is wiped and handed
 * to the next secure buffer of its size; a small max still bounds writes;
 * the cache stays bounded and trim empties it.
 */
static void test_secure_blocks_reused_wiped(void **state)
{
	struct idw_buf b, c;
	uint8_t *first, *p;
	size_t cap;

	(void)state;
	idw_buf_secure_trim();
	idw_buf_init(&b, 100, IDW_BUF_SECURE);
	assert_int_equal(idw_buf_put(&b, "sk-secret-value", 15), 0);
	assert_true(b.cap >= 100); /* whole pages */
	assert_int_equal(idw_buf_reserve(&b, 86), IDW_ETOOBIG);
	first = b.d;
	idw_buf_free(&b);
	assert_int_equal(idw_buf_secure_cached(), 1);
	idw_buf_init(&c, 1000, IDW_BUF_SECURE);
	assert_int_equal(idw_buf_put_u8(&c, 1), 0);
	assert_ptr_equal(c.d, first);
	for (size_t i = 1; i < c.cap; i++)
		assert_int_equal(c.d[i], 0); /* wiped when it was kept */
	assert_int_equal(idw_buf_secure_cached(), 0);
	idw_buf_free(&c);

	/* Many cycles keep a bounded number of blocks. */
	for (int i = 0; i < 50; i++) {
		idw_buf_init(&b, 1 << 20, IDW_BUF_SECURE);
		assert_int_equal(idw_buf_reserve(&b, (size_t)(i + 1) * 1000),
				 0);
		idw_buf_free(&b);
	}
	assert_true(idw_buf_secure_cached() <= 20);
	/* A block past the kept sizes goes straight back to the system. */
	idw_buf_secure_trim();
	assert_int_equal(idw_buf_secure_cached(), 0);
	p = idw_buf_secure_alloc(200000, &cap);
	assert_non_null(p);
	assert_true(cap >= 200000);
	idw_buf_secure_free(p, cap);
	assert_int_equal(idw_buf_secure_cached(), 0);
	/* cap 0: a block from plain sodium_malloc is freed as such. */
	p = idw_buf_secure_alloc(10, &cap);
	idw_buf_secure_free(p, 0);
	assert_int_equal(idw_buf_secure_cached(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_round_trip),
		cmocka_unit_test(test_max_refused_without_allocation),
		cmocka_unit_test(test_growth_stops_at_max),
		cmocka_unit_test(test_secure_buffer_keeps_contents),
		cmocka_unit_test(test_truncated_reads),
		cmocka_unit_test(test_le_helpers),
		cmocka_unit_test(test_consume_and_reset_wipe),
		cmocka_unit_test(test_printf_and_ptr),
		cmocka_unit_test(test_secure_blocks_reused_wiped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
