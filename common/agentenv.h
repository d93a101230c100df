/* SPDX-License-Identifier: ISC */
#ifndef IDW_AGENTENV_H
#define IDW_AGENTENV_H

/*
 * The whole environment idw-agentd may have (DESIGN "Processes and
 * trust"): a client that starts it passes only these, and the agent drops
 * anything else it finds.  Never LD_*, GLIBC_TUNABLES or MALLOC_*.
 * NULL-terminated.
 */
extern const char *const idw_agent_env[];

#endif
