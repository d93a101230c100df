/* SPDX-License-Identifier: ISC */
#ifndef IDW_VAULT_PRIV_H
#define IDW_VAULT_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentd/vault.h"
#include "agentd/vault_journal.h"
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
	struct vault_pending *pend; /* in the arena; NULL when none */
};

/* All n bytes at off, retrying short writes; IDW_EIO. */
int vault_write_all(int fd, const void *p, size_t n, uint64_t off) IDW_WUR;

/* Wipe and forget the pending slot's key. */
void vault_pending_forget(struct idw_vault *v);

#endif
