/* SPDX-License-Identifier: ISC */
#ifndef IDW_VAULT_ROWS_H
#define IDW_VAULT_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "agentd/vault.h"
#include "agentd/vault_slots.h"
#include "common/buf.h"

/*
 * Internal to the vault: the rows of the slot table (docs/vault-format.md,
 * "Rows").  Row: u8 type | u8 id_len | id | u16 meta_len | meta |
 * u16 wrapped_len | wrapped.  Metadata of the rows after the passphrase
 * row is a list of u8 tag | u8 len | value.
 */
#define VAULT_WRAP_LEN                                                         \
	(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + VAULT_KEY_LEN +        \
	 crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define VAULT_VERIFIER_LEN 32
#define VAULT_SLOT_ID_MAX 32
/* Larger than any row this version writes (about 300 bytes). */
#define VAULT_ROW_MAX 512

/*
 * Rows of format 2 that are not slots but the state of a key change
 * (agentd/vault_rekey.c, docs/vault-format.md "Key changes"); no wrap.
 * PENDING: id "pending", meta u64 offset: the journal from there on is an
 * uncommitted change, cut at unlock.  LINK: id "link-" + 16 hex digits of
 * the offset, meta u64 offset | u64 seq: the record there, under the key
 * of this area (or of the next link), carries the key of the records
 * before it.  Compaction drops both.
 */
#define VAULT_ROW_PENDING 6
#define VAULT_ROW_LINK 7
#define VAULT_PENDING_ID "pending"
#define VAULT_LINK_PREFIX "link-"
#define VAULT_LINK_MAX 16

struct slot_row {
	uint8_t type;
	const uint8_t *start; /* the row's first byte */
	size_t aad_len;	      /* type through the end of meta */
	size_t len;	      /* the whole row */
	const uint8_t *id;
	uint8_t id_len;
	const uint8_t *meta;
	uint16_t meta_len;
	const uint8_t *wrapped;
	uint16_t wrapped_len;
};

struct row_iter {
	struct idw_buf b;
};

void vault_rows_begin(struct row_iter *it, const uint8_t *t, size_t len);
/* 1 with *r filled, 0 at the end of the table, IDW_ECORRUPT. */
int vault_rows_next(struct row_iter *it, struct slot_row *r) IDW_WUR;

/*
 * Every row well formed, each row of a type this version knows valid for
 * its type, no two live slots with the same (type, id), exactly one
 * passphrase row (*pp).
 */
int vault_table_check(const uint8_t *t, size_t len, struct slot_row *pp,
		      char *why, size_t wl) IDW_WUR;

/* The live row of (type, id), or the first tombstone with that id. */
int vault_table_find(const uint8_t *t, size_t len, uint8_t type, const char *id,
		     struct slot_row *r) IDW_WUR;

/* A type this version reads (passphrase .. tombstone). */
bool vault_row_known(uint8_t type);
/* A row of a key change (VAULT_ROW_PENDING or VAULT_ROW_LINK). */
bool vault_row_is_change(uint8_t type);
/* The offset (and seq, for a link) of a key-change row checked before. */
uint64_t vault_change_row_off(const struct slot_row *r);
uint64_t vault_change_row_seq(const struct slot_row *r);
/* Build a key-change row into out (at least VAULT_ROW_MAX); its length. */
size_t vault_change_row_build(uint8_t *out, uint8_t type, uint64_t off,
			      uint64_t seq);
/* A known row after the passphrase row, decoded and checked for its type. */
int vault_row_info(const struct slot_row *r, struct idw_slot_info *out) IDW_WUR;

/* Rows of a checked table as idw_vault_slots hands them out. */
int vault_table_list(const uint8_t *t, size_t len, struct idw_slot_info *out,
		     size_t max, size_t *n) IDW_WUR;

/* An id is 1..32 printable ASCII bytes, no space. */
bool vault_slot_id_ok(const char *id);
/* label, principal and id of meta are NUL-terminated and well formed. */
bool vault_slot_info_ok(const struct idw_slot_info *m);

/*
 * Encode a row for info (type, id, the metadata that is set) with
 * wrapped_len bytes of wrap, zero-filled, into out; *r describes it.
 */
int vault_row_build(uint8_t *out, size_t cap, const struct idw_slot_info *info,
		    size_t wrapped_len, struct slot_row *r) IDW_WUR;

/* Wrap VK into r->wrapped (fresh nonce), or unwrap it (IDW_EUNLOCK). */
void vault_row_seal(const struct slot_row *r, const uint8_t *core,
		    const uint8_t *kek, const uint8_t *vk);
int vault_row_open(const struct slot_row *r, const uint8_t *core,
		   const uint8_t *kek, uint8_t *vk) IDW_WUR;

/* KEK of a key slot: BLAKE2b-256(key = key, context of type ‖ vault id). */
int vault_kek_from_key(uint8_t type, const uint8_t *key, const uint8_t *core,
		       uint8_t kek[VAULT_KEY_LEN]) IDW_WUR;
/* An auth-only token's verifier: BLAKE2b-256(secret), unkeyed. */
void vault_verifier(const uint8_t *secret, uint8_t out[VAULT_VERIFIER_LEN]);

/* A table being changed: room for one more row past the area's limit. */
struct table_edit {
	uint8_t t[VAULT_TABLE_MAX + VAULT_ROW_MAX];
	size_t len;
};

void vault_edit_start(struct table_edit *e, const uint8_t *t, size_t len);
/* Drop rows matching (type, id); tombstones: all with that id. */
size_t vault_edit_drop(struct table_edit *e, uint8_t type, const char *id);
int vault_edit_add(struct table_edit *e, const uint8_t *row,
		   size_t len) IDW_WUR;
/*
 * Drop the oldest tombstones (smallest revoked_at, then first in the
 * table) until the table fits its area and has at most IDW_SLOT_MAX rows;
 * IDW_ETOOBIG when it cannot.
 */
int vault_edit_fit(struct table_edit *e) IDW_WUR;

#endif
