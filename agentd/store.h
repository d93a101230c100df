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
	/*
	 * A Bloom summary of the strings in meta's top-level arrays, with
	 * their member's name (a passport's platforms, tags): filters test
	 * it first and read the tree only for items that may match.
	 */
	uint64_t bloom;
	uint32_t kslot; /* where this item is in its kind's position list */
};

/* The positions of one kind's items, so a walk of one kind skips all else. */
#define STORE_KINDS_MAX 32
struct store_kind {
	char kind[STORE_KIND_MAX];
	uint32_t *pos; /* heap: positions only, no metadata */
	size_t n, cap;
};

struct store {
	struct store_item *items; /* arena */
	size_t n, cap;
	uint32_t *index;  /* (kind, id) -> position + 1, open addressing */
	size_t index_cap; /* a power of two, at least twice n */
	struct store_kind kinds[STORE_KINDS_MAX];
	size_t nkinds;
};

void store_init(struct store *s);
/* Wipe and free every item (lock, exit). */
void store_clear(struct store *s);
/* Replay callback for idw_vault_unlock (ctx is the store). */
int store_apply_cb(void *ctx, const struct idw_vault_rec *rec);

struct store_item *store_find(struct store *s, const char *kind,
			      const char *id);
/* How many items of kind: constant time. */
size_t store_count(const struct store *s, const char *kind);
/*
 * The j-th item of kind (0 <= j < store_count), in no set order, or NULL
 * past the last: a walk of one kind costs its own items, not the whole
 * store's.  After store_del of the j-th, another item of the kind takes
 * its place: look at j again.
 */
struct store_item *store_kind_at(struct store *s, const char *kind, size_t j);
/*
 * Whether the array member of it->meta may hold the string value: false
 * means it surely does not; true must be confirmed on the tree.
 */
bool store_may_hold(const struct store_item *it, const char *member,
		    const char *value);
/* The item's position, for a cursor that resumes after it. */
size_t store_pos(const struct store *s, const struct store_item *it);

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
