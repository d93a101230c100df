/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sandbox/arena.h"
#include "sandbox/shield.h"

/*
 * The layout of struct idw_shielded in sandbox/shield.c, mirrored here only
 * to flip bytes the way a corrupting write would.
 */
struct shielded_view {
	uint32_t len;
	uint8_t nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	uint8_t ct[];
};

static const uint8_t secret[] = "sk-live-0123456789abcdef";
#define SECRET_LEN (sizeof(secret) - 1)

static int group_setup(void **state)
{
	(void)state;
	if (idw_arena_init(0) != 0 &&
	    idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		return -1;
	return idw_shield_init() == 0 ? 0 : -1;
}

static struct idw_shielded *shield(const uint8_t *v, size_t n)
{
	struct idw_shielded *s = (void *)1;

	assert_int_equal(idw_shield(v, n, &s), 0);
	assert_non_null(s);
	return s;
}

static void test_round_trip(void **state)
{
	struct idw_shielded *s;
	uint8_t *scratch = idw_arena_alloc(64);

	(void)state;
	assert_non_null(scratch);
	s = shield(secret, SECRET_LEN);
	assert_int_equal(idw_shielded_len(s), SECRET_LEN);
	assert_int_equal(idw_unshield(s, scratch, 64), 0);
	assert_memory_equal(scratch, secret, SECRET_LEN);
	/* Exactly the value's length is enough room. */
	memset(scratch, 0, 64);
	assert_int_equal(idw_unshield(s, scratch, SECRET_LEN), 0);
	assert_memory_equal(scratch, secret, SECRET_LEN);
	/* Opening twice gives the same value. */
	assert_int_equal(idw_unshield(s, scratch, 64), 0);
	assert_memory_equal(scratch, secret, SECRET_LEN);
	idw_shielded_free(s);
	idw_shielded_free(NULL);
	idw_arena_free(scratch);
}

static void test_value_not_in_clear(void **state)
{
	struct idw_shielded *a, *b;
	size_t sz = sizeof(struct shielded_view) + SECRET_LEN +
		    crypto_aead_xchacha20poly1305_ietf_ABYTES;

	(void)state;
	a = shield(secret, SECRET_LEN);
	b = shield(secret, SECRET_LEN);
	/* A stray read of the shielded form never shows the value. */
	assert_null(memmem(a, sz, secret, 8));
	assert_null(memmem(b, sz, "0123456789", 10));
	/* Fresh nonce each time: equal values do not look equal. */
	assert_memory_not_equal(((struct shielded_view *)a)->nonce,
				((struct shielded_view *)b)->nonce,
				crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	assert_memory_not_equal(((struct shielded_view *)a)->ct,
				((struct shielded_view *)b)->ct, SECRET_LEN);
	idw_shielded_free(a);
	idw_shielded_free(b);
}

static void test_empty_and_large(void **state)
{
	struct idw_shielded *s;
	size_t big = 64 * 1024;
	uint8_t *v = malloc(big), *scratch = idw_arena_alloc(big);

	(void)state;
	assert_non_null(v);
	assert_non_null(scratch);
	s = shield((const uint8_t *)"", 0);
	assert_int_equal(idw_shielded_len(s), 0);
	assert_int_equal(idw_unshield(s, scratch, 0), 0);
	idw_shielded_free(s);

	randombytes_buf(v, big);
	s = shield(v, big);
	assert_int_equal(idw_shielded_len(s), big);
	assert_int_equal(idw_unshield(s, scratch, big), 0);
	assert_memory_equal(scratch, v, big);
	idw_shielded_free(s);
	free(v);
	idw_arena_free(scratch);
}

static void test_scratch_too_small(void **state)
{
	struct idw_shielded *s = shield(secret, SECRET_LEN);
	uint8_t *scratch = idw_arena_alloc(64);

	(void)state;
	assert_non_null(scratch);
	memset(scratch, 0xcc, 64);
	assert_int_equal(idw_unshield(s, scratch, SECRET_LEN - 1), IDW_ETOOBIG);
	/* Nothing was written. */
	for (int i = 0; i < 64; i++)
		assert_int_equal(scratch[i], 0xcc);
	idw_shielded_free(s);
	idw_arena_free(scratch);
}

static void check_tamper(size_t off_in_ct, int nonce)
{
	struct idw_shielded *s = shield(secret, SECRET_LEN);
	struct shielded_view *v = (struct shielded_view *)s;
	uint8_t *scratch = idw_arena_alloc(64);

	assert_non_null(scratch);
	if (nonce)
		v->nonce[0] ^= 0x01;
	else
		v->ct[off_in_ct] ^= 0x80;
	assert_int_equal(idw_unshield(s, scratch, 64), IDW_ECORRUPT);
	idw_shielded_free(s);
	idw_arena_free(scratch);
}

static void test_tampered(void **state)
{
	(void)state;
	check_tamper(0, 0);		 /* first ciphertext byte */
	check_tamper(SECRET_LEN - 1, 0); /* last ciphertext byte */
	check_tamper(SECRET_LEN, 0);	 /* first tag byte */
	check_tamper(SECRET_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES - 1,
		     0);    /* last tag byte */
	check_tamper(0, 1); /* nonce */
}

static void test_wipe_key_locks(void **state)
{
	struct idw_shielded *old, *fresh;
	uint8_t *scratch = idw_arena_alloc(64);

	(void)state;
	assert_non_null(scratch);
	old = shield(secret, SECRET_LEN);
	idw_shield_wipe_key();
	memset(scratch, 0xcc, 64);
	assert_int_equal(idw_unshield(old, scratch, 64), IDW_ELOCKED);
	assert_int_equal(scratch[0], 0xcc);
	idw_shield_wipe_key(); /* twice is harmless */
	assert_int_equal(idw_unshield(old, scratch, 64), IDW_ELOCKED);

	/*
	 * A new key serves new values; what was shielded under the old one
	 * stays unreadable.
	 */
	assert_int_equal(idw_shield_init(), 0);
	assert_int_equal(idw_unshield(old, scratch, 64), IDW_ECORRUPT);
	fresh = shield(secret, SECRET_LEN);
	assert_int_equal(idw_unshield(fresh, scratch, 64), 0);
	assert_memory_equal(scratch, secret, SECRET_LEN);
	idw_shielded_free(old);
	idw_shielded_free(fresh);
	idw_arena_free(scratch);
}

static void test_key_lives_in_arena(void **state)
{
	struct idw_arena_stats s0, s1;

	(void)state;
	idw_shield_wipe_key();
	idw_arena_stats(&s0);
	assert_int_equal(idw_shield_init(), 0);
	idw_arena_stats(&s1);
	assert_true(s1.in_use > s0.in_use);
	idw_shield_wipe_key();
	idw_arena_stats(&s1);
	assert_int_equal(s1.in_use, s0.in_use);
	assert_int_equal(idw_shield_init(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_value_not_in_clear),
		cmocka_unit_test(test_empty_and_large),
		cmocka_unit_test(test_scratch_too_small),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_wipe_key_locks),
		cmocka_unit_test(test_key_lives_in_arena),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
