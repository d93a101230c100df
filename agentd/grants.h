/* SPDX-License-Identifier: ISC */
#ifndef IDW_GRANTS_H
#define IDW_GRANTS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agentd/agent.h"
#include "common/err.h"

/*
 * Grants (DESIGN "Data model"): a require-approval decision makes a
 * pending grant {id, passport, principal, scope[], purpose, status,
 * expires_at, ...}, a journal record of kind "grant".  A person approves
 * it (a lease for that principal until its TTL) or denies it; unanswered
 * it expires after GRANT_PENDING_S.  Expiry is read from the clock at use
 * time and written down (and audited) by grant_sweep.
 */
#define GRANT_PENDING_MAX 16	 /* pending per principal */
#define GRANT_PENDING_S 3600	 /* a request waits this long */
#define GRANT_TTL_DEFAULT_S 900	 /* a lease, unless the person says */
#define GRANT_BLOCK_S 3600	 /* a person's "no" holds this long */
#define GRANT_KEEP_S (7 * 86400) /* ended grants are then dropped */
#define GRANT_ID_LEN 19		 /* "gr_" + 16 hex */

void grant_new_id(char out[GRANT_ID_LEN + 1]);
bool grant_id_valid(const char *id);

/* pending, approved, denied, expired or revoked, as of now. */
const char *grant_status(const cJSON *g, int64_t now);

/* A scope list sorted and without repeats; NULL on ENOMEM. */
cJSON *grant_scope_norm(const cJSON *scope);

/*
 * The live lease of principal on passport whose scope holds every entry
 * of scope (NULL: any lease), or NULL.
 */
struct store_item *grant_lease(struct agent *a, const char *passport,
			       const char *principal, const cJSON *scope,
			       int64_t now);
/* The pending grant on (passport, principal, scope); scope NULL: any. */
struct store_item *grant_pending(struct agent *a, const char *passport,
				 const char *principal, const cJSON *scope,
				 int64_t now);
/* A person's denial on (passport, principal) that still holds, or NULL. */
struct store_item *grant_block(struct agent *a, const char *passport,
			       const char *principal, int64_t now);
size_t grant_pending_count(struct agent *a, const char *principal, int64_t now);

/* A new pending grant; its id into id. */
int grant_create(struct agent *a, const struct peer *p, const char *passport,
		 const cJSON *scope, const char *purpose, int64_t now,
		 char id[STORE_ID_MAX]) IDW_WUR;

/* What a person (or the elicitation path) decided. */
struct grant_decision {
	const char *status; /* approved, denied, revoked */
	const char *by;	    /* the principal deciding */
	const char *via;    /* cli, elicitation */
	const char *reason; /* may be NULL */
	int64_t expires_at; /* lease end; for a denial, when it stops holding */
	int64_t ttl_s;	    /* approved: the lease's length */
	bool by_person;	    /* a person said no: later requests wait */
};
int grant_decide(struct agent *a, const char *id,
		 const struct grant_decision *d, int64_t now) IDW_WUR;

/*
 * Write down and audit every grant whose time ran out; drop ended grants
 * older than GRANT_KEEP_S.  Does nothing when the clock went back.
 * Best effort: what a failed write left is swept at the next call.
 */
int grant_sweep(struct agent *a, int64_t now);

/*
 * A copy for clients: the record, its status as of now, and the
 * passport's name, path and tier.
 */
cJSON *grant_view(struct agent *a, const cJSON *g, int64_t now);

#endif
