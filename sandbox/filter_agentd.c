/* SPDX-License-Identifier: ISC */
/*
 * What idw-agentd may do once it serves: talk on sockets it already has,
 * read and write the vault and audit files it opened before, manage its
 * own memory, read the clocks and random bytes, and exit.  No open, no new
 * socket, no exec, no ptrace, no process_vm_*, no bpf, no keyctl, no
 * module or mount calls: none of them is listed, so each kills.
 */
#include "sandbox/seccomp.h"

/* clang-format off */
const struct idw_sc_rule idw_sc_agentd[] = {
	/* the poll loop and its sockets */
	{"poll", IDW_SC_ALLOW},
	{"ppoll", IDW_SC_ALLOW},
	{"accept4", IDW_SC_ALLOW},
	{"recvfrom", IDW_SC_ALLOW},
	{"recvmsg", IDW_SC_ALLOW},
	{"sendto", IDW_SC_ALLOW},
	{"sendmsg", IDW_SC_ALLOW},
	{"getsockopt", IDW_SC_ALLOW},
	{"read", IDW_SC_ALLOW},
	{"write", IDW_SC_ALLOW},
	{"close", IDW_SC_ALLOW},
	/* the vault and audit files opened before the filter */
	{"pread64", IDW_SC_ALLOW},
	{"pwrite64", IDW_SC_ALLOW},
	{"fsync", IDW_SC_ALLOW},
	{"fdatasync", IDW_SC_ALLOW},
	{"ftruncate", IDW_SC_ALLOW},
	{"lseek", IDW_SC_ALLOW},
	{"fstat", IDW_SC_ALLOW},
	{"newfstatat", IDW_SC_ALLOW},
	{"fcntl", IDW_SC_FCNTL_GET},
	/* the socket file, removed on the way out */
	{"unlink", IDW_SC_ALLOW},
	/* memory: the locked arena, sodium_malloc, the heap */
	{"brk", IDW_SC_ALLOW},
	{"mmap", IDW_SC_NO_EXEC},
	{"mprotect", IDW_SC_NO_EXEC},
	{"munmap", IDW_SC_ALLOW},
	{"mremap", IDW_SC_ALLOW},
	{"madvise", IDW_SC_ALLOW},
	{"mlock", IDW_SC_ALLOW},
	{"munlock", IDW_SC_ALLOW},
	/* time, randomness, identity */
	{"clock_gettime", IDW_SC_ALLOW},
	{"gettimeofday", IDW_SC_ALLOW},
	{"getrandom", IDW_SC_ALLOW},
	/* the arena names RLIMIT_MEMLOCK when a region cannot be locked */
	{"getrlimit", IDW_SC_ALLOW},
	{"prlimit64", IDW_SC_ALLOW},
	{"getpid", IDW_SC_ALLOW},
	{"getuid", IDW_SC_ALLOW},
	{"geteuid", IDW_SC_ALLOW},
	/* signals and exit */
	{"rt_sigprocmask", IDW_SC_ALLOW},
	{"rt_sigreturn", IDW_SC_ALLOW},
	/* poll resumed after SIGSTOP/SIGCONT (job control, suspend, ptrace) */
	{"restart_syscall", IDW_SC_ALLOW},
	{"futex", IDW_SC_ALLOW},
	{"exit", IDW_SC_ALLOW},
	{"exit_group", IDW_SC_ALLOW},
#ifdef IDW_SANITIZER_BUILD
	/* ASan and UBSan reports: never in a release build. */
	{"sigaltstack", IDW_SC_ALLOW},
	{"rt_sigaction", IDW_SC_ALLOW},
	{"gettid", IDW_SC_ALLOW},
	{"sched_yield", IDW_SC_ALLOW},
	{"prctl", IDW_SC_ALLOW},
	{"sched_getaffinity", IDW_SC_ALLOW},
#endif
};
/* clang-format on */
const size_t idw_sc_agentd_len =
	sizeof(idw_sc_agentd) / sizeof(idw_sc_agentd[0]);

int idw_seccomp_agentd(void)
{
	return idw_seccomp_install(idw_sc_agentd, idw_sc_agentd_len);
}
