/* SPDX-License-Identifier: ISC */
#ifndef IDW_AUDIT_H
#define IDW_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/*
 * audit.idw (docs/audit-format.md): a clear file header, then entries
 *   u32 len | u64 seq | tag[16] | nonce[24] | ciphertext[len] | chain[16]
 * tag = keyed BLAKE2b of the passport id (find one passport's entries
 * without decrypting the rest); the body is XChaCha20-Poly1305 under a key
 * derived from the audit key kept in the vault; chain = keyed BLAKE2b over
 * the previous chain value and the whole entry, so a removed, reordered or
 * edited entry shows without decrypting.  Entries never hold a value,
 * token or passphrase.
 */
#define AUDIT_KEY_LEN 32

struct audit {
	int fd;
	uint8_t *keys; /* arena: enc | tag | chain keys, NULL when locked */
	uint64_t seq;  /* last sequence written */
	uint8_t head[16];
	uint64_t end; /* file offset of the next entry */
	bool broken;  /* a failed write or a file with no link: deny */
	char broken_why[160];
};

struct audit_event {
	const char *principal;
	const char *claimed_actor;
	const char *action; /* unlock, access, denial, creation, ... */
	const char *passport_id;
	const char *platform;
	const char *purpose;
	const char *result; /* allowed, denied, ok, failed */
	const char *reason;
};

void audit_init(struct audit *a);
/* Open (create 0600) before the sandbox; writes the header when empty. */
int audit_open(struct audit *a, const char *path) IDW_WUR;
/* Derive keys and walk the file to find the head (after unlock). */
int audit_unlock(struct audit *a, const uint8_t key[AUDIT_KEY_LEN], char *why,
		 size_t whylen) IDW_WUR;
void audit_lock(struct audit *a);
void audit_close(struct audit *a);

/*
 * Append one entry and fsync before returning: callers release nothing
 * until this returned 0.  Any failure marks the log broken.
 */
int audit_append(struct audit *a, const struct audit_event *ev) IDW_WUR;

/*
 * The newest entries (at most limit, newest first) of one passport, or of
 * all when passport_id is NULL, decrypted into arr.
 */
int audit_recent(struct audit *a, const char *passport_id, size_t limit,
		 cJSON *arr) IDW_WUR;

#endif
