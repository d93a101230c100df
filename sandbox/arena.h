/* SPDX-License-Identifier: ISC */
#ifndef IDW_ARENA_H
#define IDW_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/*
 * The locked arena: one per process.  Regions are mmap'd with a guard page
 * on each side, mlock'd, MADV_DONTDUMP and MADV_WIPEONFORK.  Blocks come
 * from power-of-two size classes and are wiped when freed.  VK, derived
 * keys, decrypted scratch and passport metadata (through cJSON's hooks)
 * live here.
 */
#define IDW_ARENA_ALLOW_UNLOCKED 0x1

struct idw_arena_stats {
	size_t mapped; /* bytes mapped for blocks */
	size_t in_use; /* bytes in live blocks (rounded to class) */
	size_t regions;
	bool locked; /* every region was mlock'd */
};

int idw_arena_init(int flags) IDW_WUR;
void *idw_arena_alloc(size_t n);
void *idw_arena_calloc(size_t nmemb, size_t size);
void *idw_arena_realloc(void *p, size_t n);
void idw_arena_free(void *p);
char *idw_arena_strdup(const char *s);
bool idw_arena_owns(const void *p);
void idw_arena_stats(struct idw_arena_stats *st);
/* Whether any region could not be locked (allowed or not). */
bool idw_arena_lock_failed(void);
/* The last mlock failure, as a sentence naming RLIMIT_MEMLOCK. */
const char *idw_arena_lock_error(void);

/* Route every cJSON allocation of this process into the arena. */
void idw_arena_cjson_hooks(void);

#endif
