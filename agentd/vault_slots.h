/* SPDX-License-Identifier: ISC */
#ifndef IDW_VAULT_SLOTS_H
#define IDW_VAULT_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentd/vault.h"

/*
 * Internal to the vault: the clear header and the two slot areas
 * (docs/vault-format.md).  vault.c owns the file and the journal; this
 * half knows the layout before the journal, the KDF and the keys.
 */
#define VAULT_CORE_SIZE 64
#define VAULT_HDR_SIZE 4096
#define VAULT_AREA_SIZE 4096
#define VAULT_AREA_OFF(i) ((uint64_t)VAULT_HDR_SIZE + (i)*VAULT_AREA_SIZE)
#define VAULT_JOURNAL_OFF ((uint64_t)VAULT_HDR_SIZE + 2 * VAULT_AREA_SIZE)

/* Inside an area. */
#define VAULT_AREA_GEN 0
#define VAULT_AREA_TLEN 8
#define VAULT_AREA_TABLE 12
#define VAULT_AREA_COMMIT 4000
#define VAULT_AREA_MAC 4032
#define VAULT_AREA_SUM 4064
#define VAULT_TABLE_MAX (VAULT_AREA_COMMIT - VAULT_AREA_TABLE)

#define VAULT_KEY_LEN 32
#define VAULT_HASH_LEN 32

struct vault_keys {
	uint8_t vk[VAULT_KEY_LEN];
	uint8_t slot_mac[VAULT_KEY_LEN]; /* MAC over header core + area */
	uint8_t journal[VAULT_KEY_LEN];	 /* journal AEAD */
	uint8_t lencheck[VAULT_KEY_LEN]; /* record length checks */
};

/* The clear, public half of an open vault (no secrets). */
struct vault_slots {
	uint8_t core[VAULT_CORE_SIZE];
	uint8_t core_hash[VAULT_HASH_LEN]; /* BLAKE2b-256(core) */
	int cur;			   /* area in use: 0 = A, 1 = B */
	uint64_t gen;
	uint32_t table_len;
	uint8_t table[VAULT_TABLE_MAX];
	/* the table passed the MAC (at init or unlock; kept since) */
	bool verified;
};

/* A new header core with a random vault id. */
void vault_core_make(uint8_t core[VAULT_CORE_SIZE]);
/*
 * Set the format version of a core to this version's, and bytes 24..39 to
 * the idw version that first reads it (NUL-padded ASCII), as a migration
 * writes it; the vault id stays.
 */
void vault_core_upgrade(uint8_t core[VAULT_CORE_SIZE]);

/*
 * Check the clear header of a file of size bytes; hdr holds its first
 * min(size, VAULT_HDR_SIZE) bytes.  size 0 is the caller's business.
 */
int vault_core_check(const uint8_t *hdr, uint64_t size, char *why,
		     size_t wl) IDW_WUR;

/* What unlocks: the passphrase, or a 32-byte key and the slot it opens. */
struct vault_cred {
	uint8_t type; /* IDW_SLOT_PASSPHRASE, _KEYCHAIN or _TOKEN */
	const char *id;
	const uint8_t *pass;
	size_t passlen;
	const uint8_t *key;
};

/* Slot table with one passphrase slot wrapping a fresh VK. */
int vault_slots_create(struct vault_slots *s,
		       const uint8_t core[VAULT_CORE_SIZE], const uint8_t *pass,
		       size_t passlen, enum idw_kdf_level kdf,
		       struct vault_keys **keys) IDW_WUR;

/*
 * The area to read, decided before any key is known: a valid checksum,
 * the higher generation, A on a tie.  *t and *tlen: its table, checked
 * (vault_table_check); *cur its index; *other_ok whether the other area
 * passed its checksum.  No key: nothing here is authenticated yet.
 */
int vault_area_table(const uint8_t core[VAULT_CORE_SIZE],
		     const uint8_t areas[2 * VAULT_AREA_SIZE], int *cur,
		     bool *other_ok, const uint8_t **t, uint32_t *tlen,
		     char *why, size_t wl) IDW_WUR;

/* idw_vault_slots on an image of the header and areas (no key). */
int vault_slots_list(const uint8_t core[VAULT_CORE_SIZE],
		     const uint8_t areas[2 * VAULT_AREA_SIZE],
		     struct idw_slot_info *out, size_t max, size_t *n) IDW_WUR;

/*
 * Pick the area (vault_area_table), unwrap VK with cred and check
 * commitment and MAC.  why gets a failure, or on success a note that the
 * other area was damaged.
 */
int vault_slots_open(struct vault_slots *s, const uint8_t core[VAULT_CORE_SIZE],
		     const uint8_t areas[2 * VAULT_AREA_SIZE],
		     const struct vault_cred *cred, struct vault_keys **keys,
		     char *why, size_t wl) IDW_WUR;

/* One area image for s->table at s->gen, MAC'd under k. */
void vault_area_build(const struct vault_slots *s, const struct vault_keys *k,
		      uint8_t out[VAULT_AREA_SIZE]);

/*
 * The unkeyed checksum of an area: it tells a damaged area from a good
 * one before any KDF runs.  Anyone can recompute it (the fuzzer does), so
 * it guards against accidents only; the MAC guards against the rest.
 */
void vault_area_checksum(const uint8_t core[VAULT_CORE_SIZE],
			 const uint8_t area[VAULT_AREA_SIZE],
			 uint8_t out[VAULT_HASH_LEN]);

/* The keys derived from k->vk (slot MAC, journal, length check). */
void vault_keys_derive(struct vault_keys *k);
/*
 * The KEK of a passphrase row from its 33 bytes of metadata, checked as
 * at unlock (IDW_ECORRUPT for parameters out of range).
 */
int vault_pp_kek(uint8_t *kek, const uint8_t *pass, size_t passlen,
		 const uint8_t *meta) IDW_WUR;
/* The passphrase row's metadata length and the id it is written with. */
#define VAULT_PP_META_LEN (1 + 8 + 8 + 16)
#define VAULT_PP_ID "passphrase"

/* Free (and so wipe) keys; *k becomes NULL. */
void vault_keys_free(struct vault_keys **k);

#endif
