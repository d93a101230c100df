/* SPDX-License-Identifier: ISC */
#ifndef IDW_REPAIR_H
#define IDW_REPAIR_H

#include <stdint.h>

#include "common/err.h"

/*
 * idw-agentd --repair: the agent's side of 'idw vault repair' for a vault
 * that refuses to open because a complete journal record fails its check
 * (docs/vault-format.md "Repair").  It runs instead of serving, before any
 * socket exists, holding agentd.lock, and unlocks only with the
 * passphrase a person typed (the pipe of --passphrase-fd): that is its
 * person proof, since no proof key can be read from a vault that does not
 * open.  The CLI never holds VK; every decryption happens here.
 *
 * report: say what is damaged and what keeping the valid prefix keeps and
 * drops.  apply: the same check, which must find the damage at cut_at;
 * then the whole file is written aside (vault.idw.damaged-<UTC time>,
 * fsynced) and only then the vault cut to its valid prefix.  The
 * re-anchor is written by the next agent, on the CLI's proven 'repair'.
 *
 * Lines go to say() (the status pipe), one fact each:
 *   intact N                 the vault opens (N records): nothing to do
 *   damage TEXT              what failed, naming the record and offset
 *   keep K OFFSET            records 1..K are kept, the file cut at OFFSET
 *   drop BYTES RECORDS TEXT  what the cut drops
 *   damaged NAME             apply: the file kept aside, in the home
 *   error CODE TEXT          nothing was changed (or what was)
 */
enum repair_mode {
	REPAIR_NONE = 0,
	REPAIR_REPORT = 1,
	REPAIR_APPLY = 2,
};

typedef void (*repair_say_fn)(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* "report" or "apply"; REPAIR_NONE for anything else. */
enum repair_mode repair_mode_parse(const char *s);

/* 0 when done (intact included), else an IDW_E* code, said as error. */
int repair_run(const char *vault_path, enum repair_mode mode, uint64_t cut_at,
	       int pass_fd, repair_say_fn say) IDW_WUR;

#endif
