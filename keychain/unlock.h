/* SPDX-License-Identifier: ISC */
#ifndef IDW_UNLOCK_H
#define IDW_UNLOCK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The unlock chain (DESIGN "Unlock chain"), resolved once by the agent at
 * start: the first source present wins.  Implemented sources: a
 * passphrase handed over a pipe by the CLI after a terminal prompt
 * ("interactive"), and IDW_PASSPHRASE in the environment ("env-var").
 * Every secret read is in sodium_malloc memory; environment copies are
 * wiped and unset as soon as they are read.
 */
#define UNLOCK_PASS_MAX 4096

struct unlock_secret {
	const char *source; /* "interactive", "env-var"; NULL if none */
	uint8_t *pass;	    /* sodium_malloc */
	size_t len;
};

/*
 * Fill s from the first present source.  IDW_ENOENT when none is present
 * (report lists what was looked at), IDW_EUNLOCK when one is present but
 * unusable (report says which and why).
 */
int unlock_resolve(int pass_fd, struct unlock_secret *s, char *report,
		   size_t len) IDW_WUR;
void unlock_secret_free(struct unlock_secret *s);

/* Wipe the value of an environment variable in place, then unset it. */
void unlock_scrub_env(const char *name);

#endif
