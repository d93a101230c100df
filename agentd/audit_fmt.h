/* SPDX-License-Identifier: ISC */
#ifndef IDW_AUDIT_FMT_H
#define IDW_AUDIT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "common/err.h"

/*
 * The bytes of audit.idw (docs/audit-format.md), shared by the writer, the
 * queries and the verifier:
 *   file header: "IDWA" | u16 version | 10 zero bytes
 *   entry: u32 len | u64 seq | tag[16] | nonce[24] | ciphertext[len] |
 *          chain[16]
 * and a reader that streams entries through one bounded window, so
 * nothing that walks the log grows with it.
 */
#define AUDIT_MAGIC "IDWA"
#define AUDIT_VERSION 1
#define AUDIT_HDR_LEN 16
#define AUDIT_OFF_SEQ 4
#define AUDIT_OFF_TAG 12
#define AUDIT_OFF_NONCE 28
#define AUDIT_AD_LEN 28 /* len, seq and tag: the body's associated data */
#define AUDIT_ENTRY_HDR 52
#define AUDIT_HASH_LEN 16
#define AUDIT_ABYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define AUDIT_MAX_BODY (64u * 1024u) /* bound on len */
#define AUDIT_ENTRY_MIN (AUDIT_ENTRY_HDR + AUDIT_ABYTES + AUDIT_HASH_LEN)
#define AUDIT_ENTRY_MAX (AUDIT_ENTRY_HDR + AUDIT_MAX_BODY + AUDIT_HASH_LEN)
#define AUDIT_KDF_CTX "idwaudit"
/* Tagged like a passport id no passport can have: the anchor entries. */
#define AUDIT_ANCHOR_ID "#checkpoint"

/* The three subkeys, one arena block: body, passport tag, chain. */
enum {
	AUDIT_K_ENC = 0,
	AUDIT_K_TAG = 32,
	AUDIT_K_CHAIN = 64,
	AUDIT_K_ALL = 96,
};

void audit_fmt_derive(uint8_t keys[AUDIT_K_ALL], const uint8_t key[32]);
/* Keyed BLAKE2b-128 of a passport id (NULL: of ""). */
void audit_fmt_tag(const uint8_t *keys, const char *id,
		   uint8_t out[AUDIT_HASH_LEN]);

/* The chain's keyed hash, its key block absorbed once. */
struct audit_chainer {
	crypto_generichash_state base;
};
void audit_chainer_init(struct audit_chainer *c, const uint8_t *keys);
/* chain = H(prev ‖ the entry's bytes before its chain field). */
void audit_chainer_next(const struct audit_chainer *c,
			const uint8_t prev[AUDIT_HASH_LEN], const uint8_t *e,
			size_t elen, uint8_t out[AUDIT_HASH_LEN]);
/* Does the chain field of entry e (elen bytes) follow from prev? */
bool audit_chainer_check(const struct audit_chainer *c,
			 const uint8_t prev[AUDIT_HASH_LEN], const uint8_t *e,
			 size_t elen);

/*
 * Why the entry at place pos (byte off), holding sequence number seq,
 * fails its check against the entry before it: want is that one's seq + 1.
 */
void audit_fmt_describe(char *out, size_t n, uint64_t pos, uint64_t off,
			uint64_t seq, uint64_t want);

/*
 * Decrypt and parse an entry's body (cJSON, in the arena through the
 * hooks); NULL when it does not authenticate or is not a JSON object.
 */
cJSON *audit_fmt_open(const uint8_t *keys, const uint8_t *e, size_t elen);

/* Check the file header at offset 0. */
int audit_fmt_header_check(int fd) IDW_WUR;

/* All n bytes at off: IDW_ETRUNCATED at end of file, IDW_EIO. */

struct audit_scan {
	int fd;
	uint64_t size;	  /* where the scan stops */
	uint64_t off;	  /* offset of the current entry */
	uint64_t next;	  /* offset after it */
	const uint8_t *e; /* the current entry, inside the window */
	size_t elen;
	uint8_t *buf; /* the window: file bytes [woff, woff + wlen) */
	size_t cap, wlen;
	uint64_t woff;
};

/*
 * Scan entries from offset from up to size (0: the file's size now).  The
 * window is 1 MiB of ordinary memory: entries hold only ciphertext.
 */
int audit_scan_begin(struct audit_scan *s, int fd, uint64_t from,
		     uint64_t size) IDW_WUR;
/*
 * The next entry: 1 (s->e, s->elen at s->off), 0 at the end,
 * IDW_ETRUNCATED when the bytes at s->off are a prefix of an entry (a
 * header cut short or a body past the end), IDW_ECORRUPT when its length
 * is out of range, IDW_EIO.
 */
int audit_scan_next(struct audit_scan *s) IDW_WUR;
/*
 * After IDW_ETRUNCATED: is there, in what follows s->off, the header of an
 * entry with sequence number seq?  Then the length was damaged, not torn.
 */
bool audit_scan_entry_later(struct audit_scan *s, uint64_t seq);
void audit_scan_end(struct audit_scan *s);

#endif
