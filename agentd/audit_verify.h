/* SPDX-License-Identifier: ISC */
#ifndef IDW_AUDIT_VERIFY_H
#define IDW_AUDIT_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agentd/audit.h"

/*
 * idw audit verify: one streaming walk over the open log, in a window of
 * bounded size.  Each entry's sequence number and chain are checked
 * against the entry before it (the chain needs no decryption); the vault's
 * checkpoint is looked for; only anchor entries are decrypted, for the
 * checkpoint number they name.  docs/audit-format.md gives the rules.
 */
struct audit_verify {
	/* In: what the vault and the agent say. */
	const struct audit_mark *mark; /* NULL: the vault holds none */
	uint64_t reanchor_seq;	       /* the mark follows a re-anchor */
	uint64_t agent_seq, agent_end; /* what the agent has written */
	/* Out: what the file says. */
	uint64_t entries, bytes, last_seq;
	uint64_t breaks; /* entries that fail their check */
	uint64_t bad_pos, bad_off, bad_seq;
	char bad_why[200];
	bool readable; /* the walk reached the end of the file */
	char unreadable_why[160];
	bool mark_found;
	uint64_t mark_pos;
	bool own_anchor; /* the mark's anchor entry follows it */
	uint64_t anchor_n, anchor_pos;
	bool reanchor_ok;
	char start_note[240]; /* the newest "unverified" note of a start */
};

int audit_verify_run(struct audit *a, struct audit_verify *v) IDW_WUR;
/* The verb's reply fields: intact, problems, notes, counts. */
int audit_verify_report(const struct audit_verify *v, cJSON *o) IDW_WUR;

#endif
