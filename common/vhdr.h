/* SPDX-License-Identifier: ISC */
#ifndef IDW_VHDR_H
#define IDW_VHDR_H

#include <stdint.h>

#include "common/err.h"

/*
 * The clear start of vault.idw that clients may read without a key:
 * magic "IDWV" | u16 major | u16 minor | vault id[16].  Clients compare the
 * id with the one an agent announces before sending it any secret.
 */
#define IDW_VHDR_MAGIC "IDWV"
#define IDW_VHDR_PREFIX_LEN 24
#define IDW_VHDR_ID_OFF 8
#define IDW_VHDR_ID_LEN 16

/* IDW_ENOENT when missing or empty, IDW_ECORRUPT for a foreign file. */
int idw_vhdr_peek_id(const char *path, uint8_t id[IDW_VHDR_ID_LEN]) IDW_WUR;

#endif
