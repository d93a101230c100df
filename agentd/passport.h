/* SPDX-License-Identifier: ISC */
#ifndef IDW_PASSPORT_H
#define IDW_PASSPORT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/err.h"

/* Days before valid_until at which a passport counts as expiring. */
#define PASSPORT_EXPIRING_DAYS 14
/* Delegation hops a passport may hold, whatever the rules allow. */
#define PASSPORT_HOPS_MAX 16

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

/*
 * Edit: the fields req names replace the stored ones (visa members one by
 * one; "delegation": [] clears the chain), everything checked as at
 * create.  id, value, created_at, revocation, suspension and fields this
 * version does not know are kept.  *changed lists the fields that
 * differ.  IDW_EUSAGE with why set on a refusal.
 */
int passport_edit(const cJSON *meta, const cJSON *req, int64_t now, cJSON **out,
		  char *changed, size_t changedlen, char *why,
		  size_t whylen) IDW_WUR;

/*
 * Append a delegation hop {from, to, scope[], expires_at, notes} from req.
 * The chain must be unbroken (a hop starts where the last one ended),
 * the hop's scope must lie within the effective scope so far, and the
 * new depth may not pass max_depth (when >= 0).
 */
int passport_delegate(const cJSON *meta, const cJSON *req, int64_t now,
		      int max_depth, cJSON **out, char *why,
		      size_t whylen) IDW_WUR;

/*
 * The effective scope: the visa's scope intersected with every hop's.
 * *out is a new array, or NULL when nothing limits it (a visa without
 * scopes and no hops).
 */
int passport_effective_scope(const cJSON *meta, cJSON **out) IDW_WUR;

/* Whether scope list asked lies within limit (NULL: no limit). */
const char *passport_scope_outside(const cJSON *limit, const cJSON *asked);

/* The first delegation hop (1-based) that has ended at now; 0 if none. */
int passport_hop_expired(const cJSON *meta, int64_t now);

/* A new id: "pp_" + 16 lowercase hex digits. */
void passport_new_id(char out[20]);
int passport_id_valid(const char *id);

#endif
