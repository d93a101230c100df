/* SPDX-License-Identifier: ISC */
#ifndef IDW_PASSPORT_H
#define IDW_PASSPORT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/* Days before valid_until at which a passport counts as expiring. */
#define PASSPORT_EXPIRING_DAYS 14

/*
 * Build the stored metadata of a new passport from a create request:
 * every field checked and normalised, unknown request fields ignored.
 * why says what is wrong for a person.
 */
int passport_from_request(const cJSON *req, const char *id, int64_t now,
			  cJSON **out, char *why, size_t whylen) IDW_WUR;

/* "active", "expiring", "expired", "revoked" or "suspended". */
const char *passport_status(const cJSON *meta, int64_t now);

/* A copy for clients: the stored fields plus the derived status. */
cJSON *passport_view(const cJSON *meta, int64_t now);

/* A new id: "pp_" + 16 lowercase hex digits. */
void passport_new_id(char out[20]);
int passport_id_valid(const char *id);

#endif
