/* SPDX-License-Identifier: ISC */
#ifndef IDW_VAULT_JOURNAL_H
#define IDW_VAULT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "agentd/vault.h"
#include "agentd/vault_slots.h"

/*
 * Internal to the vault: the chained journal after the slot areas
 * (docs/vault-format.md).  Record: u32 len | len_check[8] | nonce[24] |
 * ciphertext (len bytes, tag included).
 */
#define VAULT_TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES

/* Where a journal chain stands: what the next record binds to. */
struct vault_chain {
	uint64_t end;		    /* offset after the last good record */
	uint64_t seq;		    /* seq of the next record */
	uint8_t tag[VAULT_TAG_LEN]; /* tag of the last record, zeros first */
};

/* Where the parser reads from: the open file (fd >= 0) or an image. */
struct vault_src {
	int fd;
	const uint8_t *img;
	uint64_t size;
};

/* Exactly n bytes at off, or IDW_EIO (past the end, a failed pread). */
int vault_src_read(const struct vault_src *src, uint64_t off, void *p,
		   size_t n) IDW_WUR;

void vault_chain_reset(struct vault_chain *c);
void vault_chain_advance(struct vault_chain *c, const uint8_t *rec, size_t n);

/*
 * Encode and encrypt rec as the record after c.  *out (malloc'd: it holds
 * only ciphertext) gets the whole record; the plaintext lives in the arena.
 */
int vault_rec_seal(const struct vault_slots *s, const struct vault_keys *k,
		   const struct vault_chain *c, const struct idw_vault_rec *rec,
		   uint8_t **out, size_t *outlen) IDW_WUR;

/*
 * Walk the journal from its start, calling cb for each record.  Stops at a
 * torn final record (reported in rep and left in place: cutting it is the
 * caller's job) and refuses any other bad byte with IDW_ECORRUPT.
 */
int vault_journal_replay(const struct vault_src *src,
			 const struct vault_slots *s,
			 const struct vault_keys *k, struct vault_chain *c,
			 idw_vault_rec_cb cb, void *ctx,
			 struct idw_vault_report *rep) IDW_WUR;

/*
 * The keys of a journal that went through key changes (rekeys) since it
 * was last compacted: key i seals the records from off[i] on, the first
 * of which has seq[i] and is the link record that carries key i - 1.
 * off[0] is VAULT_JOURNAL_OFF.  The keys are the ring's (vault_ring_free).
 */
#define VAULT_RING_MAX 17
struct vault_ring {
	size_t n;
	struct vault_keys *k[VAULT_RING_MAX];
	uint64_t off[VAULT_RING_MAX];
	uint64_t seq[VAULT_RING_MAX];
};

/* The kind of a link record: "rekey", value = the previous VK. */
#define VAULT_LINK_KIND "rekey"

void vault_ring_free(struct vault_ring *r);

/*
 * Build the ring from the links of s's table (vault_rows.h), newest
 * first, starting from k (the key the slot area gave): each link record
 * is opened with the key in hand and yields the one before.  k is not
 * the ring's: the ring's last entry points at it and is not freed.
 */
int vault_ring_build(const struct vault_src *src, const struct vault_slots *s,
		     struct vault_keys *k, struct vault_ring *ring,
		     struct idw_vault_report *rep) IDW_WUR;

/* vault_journal_replay over a ring: link records do not reach cb. */
int vault_journal_replay_ring(const struct vault_src *src,
			      const struct vault_slots *s,
			      const struct vault_ring *ring,
			      struct vault_chain *c, idw_vault_rec_cb cb,
			      void *ctx, struct idw_vault_report *rep) IDW_WUR;

#endif
