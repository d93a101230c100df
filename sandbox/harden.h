/* SPDX-License-Identifier: ISC */
#ifndef IDW_HARDEN_H
#define IDW_HARDEN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/*
 * Process hardening steps, each checked; callers treat failure as fatal.
 * The order they run in is the agent's start order (agentd/main.c) and
 * idw-mcp's (client/mcp_main.c).
 */

/* PR_SET_DUMPABLE 0 and RLIMIT_CORE 0: no core file, no ptrace by peers. */
int idw_harden_nodump(char *why, size_t whylen) IDW_WUR;

/*
 * Keep only the named environment variables (exact names); every other
 * variable, LD_* and MALLOC_* included, is removed.
 */
int idw_harden_env(const char *const *keep) IDW_WUR;

/* Close every descriptor above 2 that is not in keep. */
int idw_harden_close_fds(const int *keep, size_t n) IDW_WUR;

/* RLIMIT_NOFILE to nofile and RLIMIT_NPROC to 0 (no new processes). */
int idw_harden_rlimits(unsigned nofile, char *why, size_t whylen) IDW_WUR;

/*
 * Landlock: from now on this process may touch the file system only
 * beneath the given directories (read, write, make and remove files and
 * sockets there).  *active is false, with the reason in why, when the
 * kernel has no Landlock: the fallback is reported, never silent.
 */
int idw_harden_landlock(const char *const *dirs, size_t n, bool *active,
			char *why, size_t whylen) IDW_WUR;

#endif
