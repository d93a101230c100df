/* SPDX-License-Identifier: ISC */
#ifndef IDW_ANCHOR_H
#define IDW_ANCHOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agentd/audit.h"

/*
 * The audit log and the vault vouch for each other (DESIGN "Audit",
 * docs/audit-format.md "Checkpoints"):
 *
 *  - a vault record of kind "checkpoint", id "audit", holds the log's head
 *    {n, seq, end, chain} and the time it was written; it is written
 *    after every request that changed the vault, once 1,000 entries
 *    passed, after every unlock, at lock and when the agent stops;
 *  - right after it, an anchor entry in the log names checkpoint n.
 *
 * A log cut below the checkpoint no longer holds the entry it names; a
 * vault journal cut (or an older vault put back) holds an older checkpoint
 * than the log's newest anchor entry.  Either is reported at unlock and by
 * idw audit verify, and checkpoints stop until a person re-anchors
 * (restore, repair), so the evidence is not written over.
 */
#define ANCHOR_EVERY 1000

struct agent;

struct anchor_state {
	struct audit_mark mark; /* the vault's newest checkpoint */
	bool have;		/* the vault holds one */
	uint64_t reanchor_seq;	/* it follows a re-anchor at this entry */
	uint64_t journal_end;	/* the vault's journal size after it */
	bool due;		/* one is owed: written after a request */
	bool suspended;		/* the files disagree: none until re-anchored */
	char why[300];		/* what disagrees, or why one is owed */
};

/*
 * After the vault unlocked and the store was replayed: walk the log from
 * the vault's checkpoint, cross-check the two files, audit what does not
 * hold.
 */
int anchor_unlock(struct agent *a, const uint8_t key[AUDIT_KEY_LEN], char *why,
		  size_t whylen) IDW_WUR;
/* Write a checkpoint now; a failure is kept in the state and retried. */
int anchor_checkpoint(struct agent *a);
/* Dispatch's last step: a checkpoint when one is owed. */
void anchor_after_request(struct agent *a);
/*
 * Re-anchor (restore, repair; the caller has checked person proof): a
 * checkpoint numbered past every one either file names, and a "re-anchor"
 * entry after it naming the person and the reason.  The earlier
 * disagreement stays in the log, and checkpoints resume.
 */
int anchor_reanchor(struct agent *a, const char *principal,
		    const char *reason) IDW_WUR;
/* Status fields about the log; held writes are retried first. */
void anchor_status(struct agent *a, cJSON *o);

#endif
