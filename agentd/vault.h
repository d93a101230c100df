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
/*
 * 2.0 added key changes (rekey): rows a 1.0 reader would skip, and then
 * fail on the journal they describe.  1.0 is read and migrated at start.
 */
#define IDW_VAULT_MAJOR 2
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
	/* an interrupted key change (passwd, rekey) was rolled back */
	bool rolled_back;
	uint64_t rolled_back_bytes;
	/* rekeys since the last compaction (the next one finishes them) */
	unsigned key_links;
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
/* The same, with why saying what is wrong with the header. */
int idw_vault_peek(const char *path, uint8_t id[IDW_VAULT_ID_LEN], char *why,
		   size_t wl) IDW_WUR;

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
 * Key slots (docs/vault-format.md, "Rows").  Besides the passphrase slot
 * the table holds slots that wrap VK under a KEK made from a 32-byte key
 * (KEK = BLAKE2b-256(key = the 32-byte key, context ‖ vault id)), verifiers
 * of auth-only tokens, and tombstones of revoked slots.
 */
enum idw_slot_type {
	IDW_SLOT_PASSPHRASE = 1,
	/* VK wrapped under a KEK from a random machine key kept in the OS
	 * keychain; id "keychain" */
	IDW_SLOT_KEYCHAIN = 2,
	/* VK wrapped under a KEK from a session token's 32-byte secret */
	IDW_SLOT_TOKEN = 3,
	/* auth-only token: no wrap, only BLAKE2b-256(secret) */
	IDW_SLOT_VERIFIER = 4,
	/* a revoked slot: {id, label, revoked_at} so messages can name it */
	IDW_SLOT_TOMBSTONE = 5,
};

#define IDW_SLOT_KEY_LEN 32
#define IDW_SLOT_KEYCHAIN_ID "keychain"
/* A table this version writes has at most this many rows. */
#define IDW_SLOT_MAX 64

struct idw_slot_info {
	uint8_t type;
	/* token: 12 hex (first 12 hex of BLAKE2b(secret)); keychain:
	 * "keychain"; passphrase: "passphrase".  1..32 printable ASCII. */
	char id[33];
	char label[65];	    /* tokens: the person's label */
	char principal[80]; /* tokens: the principal they identify */
	int64_t created, expires, revoked_at; /* 0 when not set */
	bool pending;	      /* keychain slot written, not yet confirmed */
	uint8_t revoked_type; /* tombstones: what it was */
};

/*
 * Read the slot table: every row in table order (the passphrase slot
 * included; types this version does not know are listed with their type
 * and id only).  Works while locked, so messages can name a token's label
 * before unlock.  *n gets the number of rows; at most max are written and
 * IDW_ETOOBIG says there were more.
 *
 * Once the vault has been unlocked in this process the table is the one
 * whose MAC was checked then (and kept up to date by the calls below).
 * Before that it is read from the file and only its unkeyed checksum
 * vouches for it: good for naming things, not for deciding anything that
 * the unlock would not confirm (a planted row fails the MAC at unlock).
 */
int idw_vault_slots(const struct idw_vault *v, struct idw_slot_info *out,
		    size_t max, size_t *n) IDW_WUR;

/*
 * Unlock with a key slot (IDW_SLOT_KEYCHAIN or IDW_SLOT_TOKEN) and replay
 * as idw_vault_unlock does.  IDW_ENOENT when there is no such slot, or
 * only a tombstone, a verifier or a pending keychain slot by that id;
 * IDW_EUNLOCK when the key does not unwrap it; IDW_EINVAL for any other
 * type.  Expiry is the caller's to check (idw_vault_slots): the vault does
 * not read the clock.
 */
int idw_vault_unlock_key(struct idw_vault *v, uint8_t type, const char *slot_id,
			 const uint8_t key[32], idw_vault_rec_cb cb, void *ctx,
			 struct idw_vault_report *rep) IDW_WUR;

/*
 * The calls that change the table need an unlocked vault (IDW_ELOCKED)
 * and no compaction in progress (IDW_EINVAL).  Each writes the whole table
 * with generation + 1 into the area not in use, fsyncs, and only then
 * takes it as current; then it writes the same into the other area and
 * fsyncs again, so that no copy of an earlier table (a removed slot's
 * wrap) stays in the file.  A crash during the first write leaves the
 * previous table; during the second, the new one.  IDW_EIO from the first
 * write: nothing changed.  IDW_EIO after the first write succeeded is
 * reported as IDW_EIO too, with the change in effect (idw_vault_slots shows
 * it) and the other area still old or damaged until the next change or
 * compaction.
 *
 * When the new table does not fit the area or would have more than
 * IDW_SLOT_MAX rows, the oldest tombstones (smallest revoked_at, then
 * first in the table) are dropped until it does; IDW_ETOOBIG, and nothing
 * changed, when even that is not enough.
 * Rows of types this version does not know are carried unchanged.
 */

/*
 * Add a slot wrapping VK under a KEK derived from key, or replace the slot
 * with the same (type, id).  meta: type IDW_SLOT_KEYCHAIN (id "keychain")
 * or IDW_SLOT_TOKEN; label, principal, created, expires are stored (empty
 * or 0: not stored); revoked_* are ignored.  meta->pending (keychain only)
 * writes the slot without any wrap and keeps the key in locked memory
 * until idw_vault_slot_confirm writes the wrap: a pending slot cannot
 * unlock.  A token id that already names a verifier, or a tombstone of a
 * token or verifier, is IDW_EEXIST: a revoked secret does not come back.
 */
int idw_vault_slot_add_key(struct idw_vault *v,
			   const struct idw_slot_info *meta,
			   const uint8_t key[32]) IDW_WUR;
/* The same for an auth-only token: meta->type IDW_SLOT_VERIFIER. */
int idw_vault_slot_add_verifier(struct idw_vault *v,
				const struct idw_slot_info *meta,
				const uint8_t secret[32]) IDW_WUR;
/*
 * Confirm a pending keychain slot (login: the agent writes the slot
 * pending and hands the key to the CLI, the CLI stores it in the keychain
 * and confirms).  0 when the slot is confirmed (already or now);
 * IDW_ENOENT when there is no such slot, or this process no longer holds
 * its key (a lock or a restart in between: log in again).
 */
int idw_vault_slot_confirm(struct idw_vault *v, uint8_t type,
			   const char *id) IDW_WUR;
/*
 * Remove a slot.  With tombstone, a tombstone {id, label, principal,
 * revoked_at, revoked_type} takes its place (never for a pending slot).
 * The passphrase slot is not removable (IDW_EINVAL).  type
 * IDW_SLOT_TOMBSTONE removes every tombstone with that id.  IDW_ENOENT when
 * there is no such row.
 *
 * A copy of the file taken before the removal still opens with the
 * removed key: removal protects the file from now on, not its backups.
 * Only a rekey (a new VK) makes earlier copies of a key useless.
 */
int idw_vault_slot_remove(struct idw_vault *v, uint8_t type, const char *id,
			  int64_t revoked_at, bool tombstone) IDW_WUR;
/*
 * Check a token secret against the table: for a verifier, BLAKE2b-256 of
 * the secret compared in constant time; for a token slot, that the
 * secret's KEK unwraps the slot.  0, IDW_ENOENT (no verifier or token slot
 * by that id), IDW_EUNLOCK.  Works while locked (see idw_vault_slots about
 * the table read before the first unlock).
 */
int idw_vault_verifier_check(const struct idw_vault *v, const char *id,
			     const uint8_t secret[32]) IDW_WUR;

/*
 * Key changes (docs/vault-format.md "Key changes").  A rekey makes a new
 * VK': the passphrase slot wraps it, every other unlocking slot (keychain,
 * tokens, rows of kinds this version does not know) is dropped, tokens
 * leaving tombstones; auth-only verifiers stay (they do not depend on
 * VK).  The journal goes on under VK' after a link record that carries
 * the old VK under VK'; the next compaction rewrites it all under VK'.
 * A passphrase change rewrites the passphrase slot (new salt, same cost)
 * and rekeys unless told not to.  Records given here are written with the
 * change and committed with it, under the key that follows it.
 *
 * The slot table is the commit point: kill the process at any moment and
 * the vault opens with the old key (and passphrase) and none of the
 * change, or with the new one and all of it.
 */
struct idw_vault_keychange {
	bool rekey;
	/* rekey without a new passphrase: the current one, checked against
	 * its slot (IDW_EUNLOCK) and wrapped around VK' */
	const uint8_t *pass;
	size_t passlen;
	/* the new passphrase (at least 8 bytes), or NULL */
	const uint8_t *newpass;
	size_t newlen;
	int64_t now; /* the tombstones' revoked_at */
	const struct idw_vault_rec *recs;
	size_t nrecs;
	/* out: the change is in force (even when IDW_EIO says the second
	 * copy of the table failed) */
	bool committed;
};

/*
 * Make the change.  dropped (may be NULL) gets the slots a rekey removed.
 * IDW_ELOCKED, IDW_EINVAL (a compaction or another change in progress, a
 * vault of an older format, a passphrase shorter than 8 bytes),
 * IDW_EUNLOCK, IDW_EIO: nothing changed, unless the commit's first write
 * succeeded (then IDW_EIO with the change in effect, as for slot changes).
 */
int idw_vault_key_change(struct idw_vault *v, struct idw_vault_keychange *kc,
			 struct idw_slot_info *dropped, size_t max,
			 size_t *ndropped) IDW_WUR;
/* The slots a rekey would drop now, in table order. */
int idw_vault_rekey_drops(const struct idw_vault *v, struct idw_slot_info *out,
			  size_t max, size_t *n) IDW_WUR;
/* The Argon2id cost of the passphrase slot (unlocked vault). */
int idw_vault_pass_cost(const struct idw_vault *v, uint64_t *opslimit,
			uint64_t *memlimit) IDW_WUR;

/* The format version of the open vault's header (0 before init). */
unsigned idw_vault_format_major(const struct idw_vault *v);
unsigned idw_vault_format_minor(const struct idw_vault *v);
/*
 * Before a migration: copy the vault file as it is to
 * "<path>.bak-v<major>" (or .1 ... .9 after it when taken), fsync it and
 * the directory; out gets the name.  Opens a new file: before the
 * sandbox only.
 */
int idw_vault_keep_copy(struct idw_vault *v, char *out, size_t outlen) IDW_WUR;

/*
 * For the fuzzer and tests: idw_vault_parse_image unlocking with a key
 * slot, as idw_vault_unlock_key.
 */
int idw_vault_parse_image_key(const uint8_t *img, size_t len, uint8_t type,
			      const char *slot_id, const uint8_t key[32],
			      idw_vault_rec_cb cb, void *ctx,
			      struct idw_vault_report *rep) IDW_WUR;

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
