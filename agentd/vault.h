/* SPDX-License-Identifier: ISC */
#ifndef IDW_VAULT_H
#define IDW_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * vault.idw (docs/vault-format.md): an immutable header core, two slot
 * areas A and B, then a chained journal of encrypted snapshot records.
 * The file is opened before the sandbox; afterwards the vault only
 * appends to it and rewrites slot areas in place (pread/pwrite/fsync).
 * VK and every key derived from it live in the locked arena.
 */
#define IDW_VAULT_ID_LEN 16
#define IDW_VAULT_MAJOR 1
#define IDW_VAULT_MINOR 0
#define IDW_VAULT_MAX_RECORD (2u * 1024u * 1024u)

enum idw_kdf_level {
	IDW_KDF_INTERACTIVE = 0,
	IDW_KDF_MODERATE = 1,
	IDW_KDF_SENSITIVE = 2,
	/* libsodium's minimum: unit tests and fuzz seeds only, never offered
	 * by the CLI. */
	IDW_KDF_MIN = 3,
};

enum idw_vault_op {
	IDW_VAULT_PUT = 1,
	IDW_VAULT_DEL = 2,
};

/*
 * One journal record as the store sees it.  The plaintext inside the AEAD
 * is: u8 op | u8 kind_len | kind | u8 id_len | id | u32 json_len | json |
 * u32 value_len | value.  value (a credential, a key) never goes through
 * cJSON; on replay it points into locked scratch valid only during the
 * callback.
 */
struct idw_vault_rec {
	uint8_t op;
	const char *kind; /* "passport", "rule", "grant", "config", ... */
	const char *id;
	const char *json; /* metadata, NUL-terminated */
	size_t json_len;
	const uint8_t *value; /* may be NULL */
	size_t value_len;
};

typedef int (*idw_vault_rec_cb)(void *ctx, const struct idw_vault_rec *rec);

struct idw_vault_report {
	uint64_t records;	  /* records replayed */
	bool truncated_tail;	  /* a torn final record was cut off */
	uint64_t truncated_bytes; /* how many bytes were cut */
	char detail[256];	  /* what failed, for a person (no secrets) */
};

struct idw_vault;

/*
 * Open (O_RDWR|O_CLOEXEC, created 0600 and empty when missing) and read
 * the clear header.  A zero-length file is "not initialized".  Refuses a
 * newer major version (IDW_EVERSION) and a bad magic (IDW_ECORRUPT).
 */
int idw_vault_open(const char *path, struct idw_vault **out) IDW_WUR;
bool idw_vault_initialized(const struct idw_vault *v);
bool idw_vault_unlocked(const struct idw_vault *v);
const uint8_t *idw_vault_id(const struct idw_vault *v);
/* 32 lowercase hex digits + NUL. */
void idw_vault_id_hex(const struct idw_vault *v, char out[33]);

/*
 * Write a new vault into the empty file: header core, slot areas with one
 * passphrase slot wrapping a new random VK (Argon2id at the given level),
 * fsync.  The vault is unlocked afterwards.  Passphrases shorter than
 * 8 bytes are IDW_EINVAL.
 */
int idw_vault_init(struct idw_vault *v, const uint8_t *pass, size_t passlen,
		   enum idw_kdf_level kdf) IDW_WUR;

/*
 * Unwrap VK with the passphrase (IDW_EUNLOCK when wrong), then replay the
 * journal in order through cb.  A final record whose length check passes
 * but whose bytes run past the end of the file is truncated (reported);
 * any other bad record is IDW_ECORRUPT with rep->detail saying which.
 * On failure VK is wiped and the vault stays locked.
 */
int idw_vault_unlock(struct idw_vault *v, const uint8_t *pass, size_t passlen,
		     idw_vault_rec_cb cb, void *ctx,
		     struct idw_vault_report *rep) IDW_WUR;

/* Encrypt, append and fsync one record.  O(1). */
int idw_vault_append(struct idw_vault *v,
		     const struct idw_vault_rec *rec) IDW_WUR;

/*
 * Compaction: begin writes a fresh file "<path>.tmp" with the same header
 * and slots; put appends records to it; commit fsyncs, renames over the
 * vault, fsyncs the directory and switches this vault to the new file;
 * abort removes the temporary file.  Runs at start, before the sandbox.
 */
int idw_vault_compact_begin(struct idw_vault *v) IDW_WUR;
int idw_vault_compact_put(struct idw_vault *v,
			  const struct idw_vault_rec *rec) IDW_WUR;
int idw_vault_compact_commit(struct idw_vault *v) IDW_WUR;
void idw_vault_compact_abort(struct idw_vault *v);

/* Journal bytes after the header and slot areas (for status). */
uint64_t idw_vault_journal_size(const struct idw_vault *v);
/* Wipe VK and derived keys; the file stays open. */
void idw_vault_lock(struct idw_vault *v);
void idw_vault_close(struct idw_vault *v);

/*
 * For clients: read the vault id from the clear header of a vault file
 * without opening it for writing.  IDW_ENOENT when missing or empty.
 */
int idw_vault_peek_id(const char *path, uint8_t id[IDW_VAULT_ID_LEN]) IDW_WUR;

/*
 * For the fuzzer and tests: parse a whole vault image held in memory with
 * the given passphrase, replaying records through cb.  Same checks as
 * idw_vault_unlock, no writes.
 */
int idw_vault_parse_image(const uint8_t *img, size_t len, const uint8_t *pass,
			  size_t passlen, idw_vault_rec_cb cb, void *ctx,
			  struct idw_vault_report *rep) IDW_WUR;

/*
 * Notes added with the implementation (docs/vault-format.md):
 * - idw_vault_unlock and idw_vault_parse_image call cb for every good
 *   record before they can know that a later one is bad: on an error the
 *   caller drops whatever cb built.  A cb that returns non-zero stops the
 *   replay with that error.  rep may be NULL; on success rep->detail may
 *   carry a note (a damaged slot area, a cut torn tail).
 * - idw_vault_open refuses a link (O_NOFOLLOW), a non-regular file and a
 *   file not owned by the effective uid (IDW_EPERM).
 * - idw_vault_append refuses while a compaction is in progress
 *   (IDW_EINVAL): the record would vanish at commit.
 * - idw_vault_compact_commit removes the temporary file itself when it
 *   fails before the rename; IDW_EIO after the rename means the new file
 *   is in use but the directory fsync failed.
 * - idw_vault_id returns NULL and idw_vault_id_hex "" before init.
 */

/*
 * The vault file's descriptor, for the start-up step that closes every
 * other fd.  It changes at idw_vault_compact_commit.
 */
int idw_vault_fd(const struct idw_vault *v);

/*
 * The record decoder that sits behind the journal's AEAD, exposed so the
 * fuzzer reaches it directly (mutated images never get past the tag).
 * pt holds len bytes of plaintext; out must hold len + 3 bytes and may be
 * pt - 3 (decoding then happens in place).  rec points into out.
 */
int idw_vault_rec_decode(const uint8_t *pt, size_t len, uint8_t *out,
			 struct idw_vault_rec *rec) IDW_WUR;

#endif
