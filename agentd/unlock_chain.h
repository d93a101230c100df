/* SPDX-License-Identifier: ISC */
#ifndef IDW_UNLOCK_CHAIN_H
#define IDW_UNLOCK_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "agentd/agent.h"

/*
 * The unlock chain of DESIGN, resolved once at start: session token, OS
 * keychain, IDW_PASSPHRASE, ./.env then $IDW_HOME/.env; a passphrase
 * handed over a pipe by the CLI after its prompt comes first when given.
 * The first source present wins; an absent one is skipped with a note; a
 * present one that fails stops the chain.  Every note goes to say(), which
 * the agent sends down the status pipe.
 */
typedef void (*chain_say_fn)(const char *kind, const char *text);

enum chain_result {
	CHAIN_UNLOCKED = 0,
	CHAIN_NO_SOURCE = 1, /* nothing present: a terminal may prompt */
	CHAIN_FAILED = 2,    /* a present source failed: exit 5 */
};

enum chain_result chain_unlock(struct agent *a, int pass_fd, chain_say_fn say);

#endif
