/* SPDX-License-Identifier: ISC */
#ifndef IDW_SECCOMP_H
#define IDW_SECCOMP_H

#include <stddef.h>

#include "common/err.h"

/*
 * One readable allowlist per process (filter_agentd.c, filter_mcp.c),
 * built here into a libseccomp filter: any call not listed kills the whole
 * process with SIGSYS, a foreign or x32 architecture likewise, and
 * mmap/mprotect are allowed only without PROT_EXEC.
 */
enum idw_sc_kind {
	IDW_SC_ALLOW,
	IDW_SC_NO_EXEC,	  /* allow when arg 2 (prot) has no PROT_EXEC */
	IDW_SC_FCNTL_GET, /* fcntl: F_GETFL / F_GETFD / F_SETFD only */
};

struct idw_sc_rule {
	const char *name; /* syscall name, resolved by libseccomp */
	enum idw_sc_kind kind;
};

/* Install rules after PR_SET_NO_NEW_PRIVS. Fatal for callers on failure. */
int idw_seccomp_install(const struct idw_sc_rule *rules, size_t n) IDW_WUR;

/* The per-process allowlists. */
int idw_seccomp_agentd(void) IDW_WUR;
int idw_seccomp_mcp(void) IDW_WUR;

/* The tables themselves, for the tests that walk them. */
extern const struct idw_sc_rule idw_sc_agentd[];
extern const size_t idw_sc_agentd_len;
extern const struct idw_sc_rule idw_sc_mcp[];
extern const size_t idw_sc_mcp_len;

#endif
