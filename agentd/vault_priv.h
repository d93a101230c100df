/* SPDX-License-Identifier: ISC */
#ifndef IDW_VAULT_PRIV_H
#define IDW_VAULT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentd/vault.h"
#include "agentd/vault_journal.h"
#include "agentd/vault_rows.h"
#include "agentd/vault_slots.h"

/*
 * Internal to the vault: the open vault, shared by vault.c (file, journal,
 * compaction) and vault_keyslots.c (changes to the slot table).
 */

/* The key of a pending keychain slot, kept until it is confirmed. */
struct vault_pending {
	uint8_t type;
	char id[33];
	uint8_t key[IDW_SLOT_KEY_LEN];
};

struct idw_vault {
	int fd;
	char *path;
	bool initialized;
	bool broken; /* a failed append could not be rolled back */
	struct vault_slots s;
	struct vault_keys *k; /* NULL while locked */
	struct vault_chain j;
	/* compaction in progress when cfd >= 0 */
	int cfd;
	bool cbad;
	char *cpath;
	struct vault_chain cj;
	struct vault_slots cs;	    /* the compacted file's core and table */
	struct vault_pending *pend; /* in the arena; NULL when none */
};

/* All n bytes at off, retrying short writes; IDW_EIO. */

/* Wipe and forget the pending slot's key. */
void vault_pending_forget(struct idw_vault *v);

/*
 * Write the table e as the next generation under keys k (v->k, or the new
 * keys of a rekey): the area not in use, fsync, then the other one
 * (docs/vault-format.md "Writing an area").  v->s holds the new table once
 * the first write is durable.
 */
int vault_table_commit(struct idw_vault *v, const struct table_edit *e,
		       const struct vault_keys *k) IDW_WUR;

/* Key changes (vault_rekey.c). */
/* The offset a pending row names, 0 when the table has none. */
uint64_t vault_pending_off(const struct vault_slots *s);
/*
 * Roll back an uncommitted key change found at unlock: cut the journal at
 * the pending row's offset, fsync, then write the table without the row.
 */
int vault_pending_clear(struct idw_vault *v) IDW_WUR;
/* s's core upgraded to this version and its table without key-change rows
 * into out: what a compacted file holds. */
void vault_compact_slots(const struct vault_slots *s, struct vault_slots *out);

/*
 * The three steps of idw_vault_key_change, apart so that a test can stop
 * between them: begin runs the KDF and writes the pending row; tail
 * appends the link record (a rekey) and the caller's records; commit
 * writes the new slot table, which commits them.  free wipes the state
 * and, when the change did not commit, rolls it back.
 */
struct vault_change;
int vault_change_begin(struct idw_vault *v,
		       const struct idw_vault_keychange *kc,
		       struct vault_change **out) IDW_WUR;
int vault_change_tail(struct idw_vault *v, struct vault_change *ch) IDW_WUR;
int vault_change_commit(struct idw_vault *v, struct vault_change *ch) IDW_WUR;
void vault_change_free(struct idw_vault *v, struct vault_change *ch);

#endif
