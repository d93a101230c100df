/* SPDX-License-Identifier: ISC */
#ifndef IDW_STORE_H
#define IDW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agentd/vault.h"
#include "sandbox/shield.h"

/*
 * The in-memory state rebuilt from the journal: one item per (kind, id),
 * the latest snapshot wins.  Metadata is a cJSON object in the locked
 * arena (cJSON's hooks point there); a value is shielded and opened only
 * into arena scratch.  Every change is written to the journal first and
 * applied here only once the record is on disk.
 */
#define STORE_KIND_MAX 16
#define STORE_ID_MAX 64
#define STORE_VALUE_MAX (64u * 1024u)

struct store_item {
	char kind[STORE_KIND_MAX];
	char id[STORE_ID_MAX];
	cJSON *meta;
	struct idw_shielded *value; /* NULL when the record has none */
};

struct store {
	struct store_item *items; /* arena */
	size_t n, cap;
	uint32_t *index; /* (kind, id) -> position + 1, open addressing */
	size_t index_cap; /* a power of two, at least twice n */
};

void store_init(struct store *s);
/* Wipe and free every item (lock, exit). */
void store_clear(struct store *s);
/* Replay callback for idw_vault_unlock (ctx is the store). */
int store_apply_cb(void *ctx, const struct idw_vault_rec *rec);

struct store_item *store_find(struct store *s, const char *kind,
			      const char *id);
size_t store_count(const struct store *s, const char *kind);

/*
 * Write a full snapshot of (kind, id) to the journal and then apply it.
 * meta is consumed.  value NULL keeps the item's current value.
 */
int store_put(struct store *s, struct idw_vault *v, const char *kind,
	      const char *id, cJSON *meta, const uint8_t *value,
	      size_t value_len) IDW_WUR;

/* Write a deletion of (kind, id) to the journal, then drop the item. */
int store_del(struct store *s, struct idw_vault *v, const char *kind,
	      const char *id) IDW_WUR;

/*
 * Open an item's value into fresh arena scratch (*out, *len); the caller
 * wipes and frees it with idw_arena_free.
 */
int store_open_value(const struct store_item *it, uint8_t **out,
		     size_t *len) IDW_WUR;

/* Rewrite the journal with one record per live item (at start). */
int store_compact(struct store *s, struct idw_vault *v) IDW_WUR;

#endif
