/* SPDX-License-Identifier: ISC */
/*
 * What idw-mcp may do after its hello with the agent: read stdin, write
 * stdout and stderr, talk on the one socket it has, manage memory, read
 * clocks and random bytes, exit.  Tighter than the agent's: no file
 * writes, no accept, no unlink.
 */
#include "sandbox/seccomp.h"

/* clang-format off */
const struct idw_sc_rule idw_sc_mcp[] = {
	{"read", IDW_SC_ALLOW},
	{"write", IDW_SC_ALLOW},
	{"poll", IDW_SC_ALLOW},
	{"ppoll", IDW_SC_ALLOW},
	{"recvfrom", IDW_SC_ALLOW},
	{"recvmsg", IDW_SC_ALLOW},
	{"sendto", IDW_SC_ALLOW},
	{"sendmsg", IDW_SC_ALLOW},
	{"close", IDW_SC_ALLOW},
	{"fstat", IDW_SC_ALLOW},
	{"newfstatat", IDW_SC_ALLOW},
	{"lseek", IDW_SC_ALLOW},
	{"fcntl", IDW_SC_FCNTL_GET},
	{"brk", IDW_SC_ALLOW},
	{"mmap", IDW_SC_NO_EXEC},
	{"mprotect", IDW_SC_NO_EXEC},
	{"munmap", IDW_SC_ALLOW},
	{"mremap", IDW_SC_ALLOW},
	{"madvise", IDW_SC_ALLOW},
	{"mlock", IDW_SC_ALLOW},
	{"munlock", IDW_SC_ALLOW},
	{"clock_gettime", IDW_SC_ALLOW},
	{"gettimeofday", IDW_SC_ALLOW},
	{"getrandom", IDW_SC_ALLOW},
	/* the arena names RLIMIT_MEMLOCK when a region cannot be locked */
	{"getrlimit", IDW_SC_ALLOW},
	{"prlimit64", IDW_SC_ALLOW},
	{"getpid", IDW_SC_ALLOW},
	{"geteuid", IDW_SC_ALLOW},
	{"rt_sigprocmask", IDW_SC_ALLOW},
	{"rt_sigreturn", IDW_SC_ALLOW},
	/* poll resumed after SIGSTOP/SIGCONT (job control, suspend, ptrace) */
	{"restart_syscall", IDW_SC_ALLOW},
	{"futex", IDW_SC_ALLOW},
	{"exit", IDW_SC_ALLOW},
	{"exit_group", IDW_SC_ALLOW},
#ifdef IDW_SANITIZER_BUILD
	{"sigaltstack", IDW_SC_ALLOW},
	{"rt_sigaction", IDW_SC_ALLOW},
	{"gettid", IDW_SC_ALLOW},
	{"sched_yield", IDW_SC_ALLOW},
	{"prctl", IDW_SC_ALLOW},
	{"sched_getaffinity", IDW_SC_ALLOW},
#endif
};
/* clang-format on */
const size_t idw_sc_mcp_len = sizeof(idw_sc_mcp) / sizeof(idw_sc_mcp[0]);

int idw_seccomp_mcp(void)
{
	return idw_seccomp_install(idw_sc_mcp, idw_sc_mcp_len);
}
