/* SPDX-License-Identifier: ISC */
#ifndef IDW_SHIELD_H
#define IDW_SHIELD_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Value shielding (after OpenSSH's key shielding): credential values are
 * kept encrypted in ordinary memory under an ephemeral key that lives only
 * in the locked arena, and are opened into a locked scratch area for the
 * moment they are needed.  A heap dump or a stray read shows ciphertext.
 */
struct idw_shielded;

int idw_shield_init(void) IDW_WUR;
/* Forget the ephemeral key: every shielded value becomes unreadable. */
void idw_shield_wipe_key(void);
int idw_shield(const uint8_t *v, size_t n, struct idw_shielded **out) IDW_WUR;
size_t idw_shielded_len(const struct idw_shielded *s);
/*
 * Open into scratch, which must be arena memory of at least
 * idw_shielded_len(s) bytes.
 */
int idw_unshield(const struct idw_shielded *s, uint8_t *scratch,
		 size_t cap) IDW_WUR;
void idw_shielded_free(struct idw_shielded *s);

#endif
