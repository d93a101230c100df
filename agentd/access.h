/* SPDX-License-Identifier: ISC */
#ifndef IDW_ACCESS_H
#define IDW_ACCESS_H

#include <stddef.h>
#include <stdint.h>

#include "agentd/agent.h"

/*
 * The shared gates of the reads of verbs_access.c and verbs_get.c.
 *
 * access_audit: an entry about passport ppid for the connection's
 * principal; nonzero when the log refused it.
 *
 * access_gate: policy, leases and grants for a get of ppid.  0 when the
 * value may leave (lease set when a lease lets it, allowed saying why);
 * otherwise the reply is filled (denied, or pending with the grant) and
 * the decision audited.
 */
int access_audit(struct agent *a, struct peer *p, const char *ppid,
		 const char *action, const char *purpose, const char *result,
		 const char *reason);
int access_gate(struct agent *a, struct peer *p, const char *ppid,
		const char *purpose, int64_t now, struct reply *rep,
		char lease[STORE_ID_MAX], char *allowed, size_t alen);

#endif
