/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the vault parser: idw_vault_parse_image, the code
 * idw_vault_unlock runs on the file, with the passphrase the seeds were
 * made with.
 *
 * Seeds (valid images, IDW_KDF_MIN, passphrase FUZZ_PASS below) come from
 * the unit test:
 *   mkdir -p /tmp/vault-seeds /tmp/vault-corpus
 *   IDW_WRITE_FUZZ_SEEDS=/tmp/vault-seeds build/tests/unit/test_vault
 *   build-fuzz/bin/fuzz_vault -max_len=65536 -max_total_time=20 \
 *       /tmp/vault-corpus /tmp/vault-seeds
 * A vault is at least 12288 bytes: without seeds, give -max_len.
 *
 * Each input runs three ways:
 * - as is: header checks, slot-area checksums, and the journal of a seed
 *   whose slot areas survived the mutation;
 * - with both slot-area checksums recomputed, as anyone can (they are
 *   unkeyed): so mutations reach the slot-table parser (every row type,
 *   the metadata TLV), the KDF parameter checks, the table listing that
 *   runs while the agent is locked, and the unlock by token and keychain
 *   key, which a tamperer reaches too.  Fuzz builds (IDW_FUZZING) accept
 *   KDF costs only up to 3 passes and 64 KiB so time goes into parsing,
 *   not Argon2id;
 * - through idw_vault_rec_decode, the record decoder that sits behind
 *   the journal's AEAD and so is never reached from a mutated image.
 *
 * The seeds' vault-slots*.idw carry a token slot, a keychain slot, a
 * verifier and a tombstone, made with the key and secret below.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentd/vault.h"
#include "agentd/vault_slots.h"
#include "sandbox/arena.h"

#define FUZZ_PASS "fuzz-passphrase-0" /* as in tests/unit/test_vault.c */
/* As in tests/unit/test_vault.c: byte i of the token secret is
 * FUZZ_TOKEN_BASE + i, of the keychain key FUZZ_KEYCHAIN_BASE + i; the
 * token's id is the first 12 hex digits of BLAKE2b-256(secret). */
#define FUZZ_TOKEN_BASE 0xa0
#define FUZZ_KEYCHAIN_BASE 0x40

static uint8_t token_secret[32], keychain_key[32];
static char token_id[13];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every byte the parser hands out, so ASan sees a bad pointer. */
static int touch(void *ctx, const struct idw_vault_rec *rec)
{
	volatile uint8_t acc = 0;

	(void)ctx;
	if (rec->kind == NULL || rec->id == NULL || rec->json == NULL ||
	    rec->json[rec->json_len] != '\0' || strlen(rec->kind) == 0)
		abort();
	for (size_t i = 0; i < rec->json_len; i++)
		acc ^= (uint8_t)rec->json[i];
	for (size_t i = 0; i < rec->value_len; i++)
		acc ^= rec->value[i];
	acc ^= (uint8_t)strlen(rec->id);
	(void)acc;
	return 0;
}

/* Only the documented results may come back. */
static void check_rc(int rc, bool key)
{
	switch (rc) {
	case 0:
	case IDW_ECORRUPT:
	case IDW_EUNLOCK:
	case IDW_EVERSION:
	case IDW_ENOVAULT:
	case IDW_ENOMEM:
		return;
	case IDW_ENOENT: /* no such key slot */
		if (key)
			return;
		abort();
	default:
		abort();
	}
}

static void check_detail(const struct idw_vault_report *rep)
{
	if (memchr(rep->detail, '\0', sizeof(rep->detail)) == NULL)
		abort();
}

static void parse(const uint8_t *img, size_t size)
{
	struct idw_vault_report rep;
	int rc;

	rc = idw_vault_parse_image(img, size, (const uint8_t *)FUZZ_PASS,
				   strlen(FUZZ_PASS), touch, NULL, &rep);
	check_rc(rc, false);
	check_detail(&rep);
	rc = idw_vault_parse_image_key(img, size, IDW_SLOT_TOKEN, token_id,
				       token_secret, touch, NULL, &rep);
	check_rc(rc, true);
	check_detail(&rep);
	rc = idw_vault_parse_image_key(img, size, IDW_SLOT_KEYCHAIN,
				       IDW_SLOT_KEYCHAIN_ID, keychain_key,
				       touch, NULL, &rep);
	check_rc(rc, true);
	check_detail(&rep);
}

/* The table as a locked agent reads it: strings bounded and clean. */
static void list(const uint8_t *img)
{
	struct idw_slot_info s[IDW_SLOT_MAX];
	size_t n;
	int rc;

	rc = vault_slots_list(img, img + VAULT_HDR_SIZE, s, IDW_SLOT_MAX, &n);
	if (rc != 0 && rc != IDW_ECORRUPT && rc != IDW_ETOOBIG)
		abort();
	for (size_t i = 0; rc != IDW_ECORRUPT && i < n && i < IDW_SLOT_MAX;
	     i++) {
		const struct idw_slot_info *x = &s[i];

		if (memchr(x->id, '\0', sizeof(x->id)) == NULL ||
		    memchr(x->label, '\0', sizeof(x->label)) == NULL ||
		    memchr(x->principal, '\0', sizeof(x->principal)) == NULL)
			abort();
		for (const char *c = x->label; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7f)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct idw_vault_rec rec;
	uint8_t *copy, *out;

	if (!ready) {
		uint8_t h[32];

		if (sodium_init() < 0 ||
		    idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
			abort();
		for (int i = 0; i < 32; i++) {
			token_secret[i] = (uint8_t)(FUZZ_TOKEN_BASE + i);
			keychain_key[i] = (uint8_t)(FUZZ_KEYCHAIN_BASE + i);
		}
		crypto_generichash(h, sizeof(h), token_secret,
				   sizeof(token_secret), NULL, 0);
		sodium_bin2hex(token_id, sizeof(token_id), h, 6);
		ready = 1;
	}
	parse(data, size);

	if (size >= VAULT_JOURNAL_OFF) {
		copy = malloc(size);
		if (copy == NULL)
			return 0;
		memcpy(copy, data, size);
		for (int i = 0; i < 2; i++) {
			uint8_t *a = copy + VAULT_AREA_OFF(i);

			vault_area_checksum(copy, a, a + VAULT_AREA_SUM);
		}
		parse(copy, size);
		list(copy);
		free(copy);
	}

	out = malloc(size + 3);
	if (out == NULL)
		return 0;
	if (idw_vault_rec_decode(data, size, out, &rec) == 0)
		(void)touch(NULL, &rec);
	free(out);
	return 0;
}
