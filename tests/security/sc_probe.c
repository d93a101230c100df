/* SPDX-License-Identifier: ISC */
/*
 * sc_probe FILTER ACTION: install the real seccomp filter of idw-agentd or
 * idw-mcp (the same function the daemon calls), then make one system call
 * directly with syscall().  A forbidden call must end the process by
 * SIGSYS; "allowed" runs the calls of the serving loop and exits 0.
 * FILTER "none" installs nothing: a call that returns exits 3, which shows
 * that the action really reaches the kernel.
 *
 * With --in-thread the filter and the call are a second thread's, so a
 * filter that kills only the calling thread shows (exit 6).
 *
 * sc_probe --sanitizer prints 1 in a sanitizer build, else 0.
 * Exit: 0 allowed calls done, 2 usage, 3 the call returned, 4 setup
 * failed, 5 an allowed call failed, 6 only the calling thread was killed,
 * 77 cannot run here (valgrind).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#include "sandbox/seccomp.h"

#define X32_SYSCALL_BIT 0x40000000

/* Everything an action needs that takes a forbidden call to make. */
struct pre {
	int pipe[2];
	int pair[2];
	int listener;	 /* listening, with one connection pending */
	int pending;	 /* the client end of that connection */
	int unconnected; /* a socket for connect() */
	int file;	 /* an anonymous temporary file */
	char named[64];	 /* a file to unlink (agentd, allowed) */
	uint8_t *page;	 /* one RW page */
	size_t pagesz;
	struct sockaddr_un addr; /* the listener's abstract address */
};

static struct pre P;

static void setup_fail(const char *what)
{
	fprintf(stderr, "sc_probe: setup: %s: %s\n", what, strerror(errno));
	exit(4);
}

static void setup(bool named)
{
	socklen_t alen;
	int fd;

	P.pagesz = (size_t)sysconf(_SC_PAGESIZE);
	if (pipe2(P.pipe, O_CLOEXEC) != 0)
		setup_fail("pipe2");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, P.pair) != 0)
		setup_fail("socketpair");
	P.listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (P.listener < 0)
		setup_fail("socket");
	memset(&P.addr, 0, sizeof(P.addr));
	P.addr.sun_family = AF_UNIX;
	/* An abstract name: autobind picks a free one. */
	if (bind(P.listener, (struct sockaddr *)&P.addr, sizeof(sa_family_t)) !=
	    0)
		setup_fail("bind");
	alen = sizeof(P.addr);
	if (getsockname(P.listener, (struct sockaddr *)&P.addr, &alen) != 0 ||
	    listen(P.listener, 4) != 0)
		setup_fail("listen");
	P.pending = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (P.pending < 0 ||
	    connect(P.pending, (struct sockaddr *)&P.addr, alen) != 0)
		setup_fail("connect");
	P.unconnected = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (P.unconnected < 0)
		setup_fail("socket");
	P.file = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (P.file < 0)
		setup_fail("open O_TMPFILE");
	if (named) {
		snprintf(P.named, sizeof(P.named), "/tmp/sc_probe-XXXXXX");
		fd = mkstemp(P.named);
		if (fd < 0)
			setup_fail("mkstemp");
		close(fd);
	}
	P.page = mmap(NULL, P.pagesz, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (P.page == MAP_FAILED)
		setup_fail("mmap");
}

/*
 * Output after the filter goes straight to write(2): stdio's first use of a
 * stream may ioctl() it, which neither filter allows.
 */
static void say(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void say(int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 &&
	    write(fd, line,
		  (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		return;
}

/* The forbidden call came back: report it. */
static void returned(const char *action, long rc)
{
	say(STDOUT_FILENO, "%s returned %ld (%s)\n", action, rc,
	    rc < 0 ? strerror(errno) : "ok");
	exit(3);
}

static long do_open(void)
{
	return syscall(SYS_open, "/dev/null", O_RDONLY | O_CLOEXEC);
}

static long do_openat(void)
{
	return syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY | O_CLOEXEC);
}

static long do_socket(void)
{
	return syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static long do_connect(void)
{
	return syscall(SYS_connect, P.unconnected, &P.addr,
		       (socklen_t)sizeof(P.addr));
}

static long do_execve(void)
{
	char *const argv[] = {"/nonexistent/sc_probe", NULL};
	char *const envp[] = {NULL};

	return syscall(SYS_execve, argv[0], argv, envp);
}

static long do_execveat(void)
{
	char *const argv[] = {"/nonexistent/sc_probe", NULL};
	char *const envp[] = {NULL};

	return syscall(SYS_execveat, AT_FDCWD, argv[0], argv, envp, 0);
}

static long do_ptrace(void)
{
	/* Not traced: ESRCH when allowed, nothing attached either way. */
	return syscall(SYS_ptrace, PTRACE_PEEKDATA, getpid(), P.page, NULL);
}

static long do_mprotect_exec(void)
{
	return syscall(SYS_mprotect, P.page, P.pagesz, PROT_READ | PROT_EXEC);
}

static long do_mprotect_rwx(void)
{
	return syscall(SYS_mprotect, P.page, P.pagesz,
		       PROT_READ | PROT_WRITE | PROT_EXEC);
}

static long do_mmap_exec(void)
{
	return syscall(SYS_mmap, NULL, P.pagesz, PROT_READ | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

static long do_pkey_mprotect(void)
{
	return syscall(SYS_pkey_mprotect, P.page, P.pagesz,
		       PROT_READ | PROT_EXEC, -1);
}

static long do_x32(void)
{
	/* getpid, allowed natively, through the x32 ABI. */
	return syscall(X32_SYSCALL_BIT | SYS_getpid);
}

static long do_i386(void)
{
#if defined(__x86_64__)
	long rc = 20; /* getpid in the i386 table */

	__asm__ volatile("int $0x80"
			 : "+a"(rc)
			 :
			 : "r8", "r9", "r10", "r11", "memory", "cc");
	return rc;
#else
	errno = ENOSYS;
	return -1;
#endif
}

static long do_process_vm_readv(void)
{
	char buf[8];
	struct iovec local = {buf, sizeof(buf)};
	struct iovec remote = {P.page, sizeof(buf)};

	return syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote,
		       1UL, 0UL);
}

static long do_process_vm_writev(void)
{
	char buf[8] = "probe";
	struct iovec local = {buf, sizeof(buf)};
	struct iovec remote = {P.page, sizeof(buf)};

	return syscall(SYS_process_vm_writev, getpid(), &local, 1UL, &remote,
		       1UL, 0UL);
}

static long do_bpf(void)
{
	return syscall(SYS_bpf, -1, NULL, 0);
}

static long do_keyctl(void)
{
	/* KEYCTL_GET_KEYRING_ID of KEY_SPEC_SESSION_KEYRING, no create. */
	return syscall(SYS_keyctl, 0, -3, 0);
}

static long do_init_module(void)
{
	return syscall(SYS_init_module, NULL, 0UL, "");
}

static long do_finit_module(void)
{
	return syscall(SYS_finit_module, -1, "", 0);
}

static long do_mount(void)
{
	return syscall(SYS_mount, "none", "/nonexistent/sc_probe", "tmpfs", 0UL,
		       NULL);
}

static long do_umount2(void)
{
	return syscall(SYS_umount2, "/nonexistent/sc_probe", 0);
}

static long do_fork(void)
{
	long rc = syscall(SYS_fork);

	if (rc == 0)
		_exit(0);
	if (rc > 0)
		waitpid((pid_t)rc, NULL, 0);
	return rc;
}

static long do_unlink(void)
{
	return syscall(SYS_unlink, "/nonexistent/sc_probe");
}

static long do_accept4(void)
{
	return syscall(SYS_accept4, P.listener, NULL, NULL, SOCK_CLOEXEC);
}

static long do_fcntl_setfl(void)
{
	return syscall(SYS_fcntl, P.pipe[0], F_SETFL, O_NONBLOCK);
}

static long do_fcntl_dupfd(void)
{
	return syscall(SYS_fcntl, P.pipe[0], F_DUPFD_CLOEXEC, 0);
}

/*
 * A helper forked before the filter stops and continues this process
 * while it sits in poll() with a timeout, as job control, a debugger or
 * the suspend freezer do: the kernel resumes the call through
 * restart_syscall.
 */
static pid_t stopper;

static void start_stopper(void)
{
	pid_t parent = getpid();

	stopper = fork();
	if (stopper < 0)
		setup_fail("fork");
	if (stopper > 0)
		return;
	usleep(100000);
	kill(parent, SIGSTOP);
	usleep(50000);
	kill(parent, SIGCONT);
	usleep(50000);
	if (write(P.pipe[1], "x", 1) != 1)
		_exit(1);
	_exit(0);
}

static long do_stop_cont(void)
{
	struct pollfd pfd = {P.pipe[0], POLLIN, 0};

	return syscall(SYS_poll, &pfd, 1UL, 5000);
}

static const struct action {
	const char *name;
	long (*fn)(void);
} actions[] = {
	{"open", do_open},
	{"openat", do_openat},
	{"socket", do_socket},
	{"connect", do_connect},
	{"execve", do_execve},
	{"execveat", do_execveat},
	{"ptrace", do_ptrace},
	{"mprotect_exec", do_mprotect_exec},
	{"mprotect_rwx", do_mprotect_rwx},
	{"mmap_exec", do_mmap_exec},
	{"pkey_mprotect", do_pkey_mprotect},
	{"x32", do_x32},
	{"i386", do_i386},
	{"process_vm_readv", do_process_vm_readv},
	{"process_vm_writev", do_process_vm_writev},
	{"bpf", do_bpf},
	{"keyctl", do_keyctl},
	{"init_module", do_init_module},
	{"finit_module", do_finit_module},
	{"mount", do_mount},
	{"umount2", do_umount2},
	{"fork", do_fork},
	{"unlink", do_unlink},
	{"accept4", do_accept4},
	{"fcntl_setfl", do_fcntl_setfl},
	{"fcntl_dupfd", do_fcntl_dupfd},
	{"stop_cont", do_stop_cont},
};

static void must(const char *what, long rc)
{
	if (rc >= 0)
		return;
	say(STDERR_FILENO, "sc_probe: allowed call %s failed: %s\n", what,
	    strerror(errno));
	exit(5);
}

/* The calls of the serving loop, shared by both filters. */
static void allowed_common(void)
{
	uint8_t buf[64], *big, *m;
	struct pollfd pfd = {P.pipe[0], POLLIN, 0};
	struct timespec ts, zero = {0, 0};
	struct timeval tv;
	struct stat st;
	struct iovec iov = {buf, 5};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	size_t bigsz = 8u << 20;

	must("write", syscall(SYS_write, P.pipe[1], "hello", 5));
	must("poll", syscall(SYS_poll, &pfd, 1UL, 1000));
	must("ppoll", syscall(SYS_ppoll, &pfd, 1UL, &zero, NULL, 8UL));
	must("read", syscall(SYS_read, P.pipe[0], buf, sizeof(buf)));
	must("sendmsg", syscall(SYS_sendmsg, P.pair[0], &mh, MSG_NOSIGNAL));
	must("recvmsg", syscall(SYS_recvmsg, P.pair[1], &mh, 0));
	must("sendto",
	     syscall(SYS_sendto, P.pair[1], "abc", 3UL, MSG_NOSIGNAL, NULL, 0));
	must("recvfrom",
	     syscall(SYS_recvfrom, P.pair[0], buf, sizeof(buf), 0, NULL, NULL));
	must("clock_gettime", syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &ts));
	must("clock_gettime", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts));
	must("gettimeofday", syscall(SYS_gettimeofday, &tv, NULL));
	must("getrandom", syscall(SYS_getrandom, buf, sizeof(buf), 0));
	must("getpid", syscall(SYS_getpid));
	must("geteuid", syscall(SYS_geteuid));
	must("fstat", syscall(SYS_fstat, P.file, &st));
	must("newfstatat",
	     syscall(SYS_newfstatat, P.file, "", &st, AT_EMPTY_PATH));
	must("lseek", syscall(SYS_lseek, P.file, 0L, SEEK_SET));
	must("fcntl F_GETFL", syscall(SYS_fcntl, P.pipe[0], F_GETFL));
	must("fcntl F_GETFD", syscall(SYS_fcntl, P.pipe[0], F_GETFD));
	must("fcntl F_SETFD",
	     syscall(SYS_fcntl, P.pipe[0], F_SETFD, FD_CLOEXEC));
	must("rt_sigprocmask",
	     syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 8UL));
	must("brk", syscall(SYS_brk, 0UL));

	/* The allocator: a large block comes from mmap, goes back by munmap. */
	big = malloc(bigsz);
	if (big == NULL)
		must("malloc", -1);
	memset(big, 0x5a, bigsz);
	free(big);
	big = malloc(100);
	if (big == NULL)
		must("malloc", -1);
	free(big);

	m = (uint8_t *)syscall(SYS_mmap, NULL, 4 * P.pagesz,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		must("mmap", -1);
	m[0] = 1;
	must("mprotect",
	     syscall(SYS_mprotect, m, P.pagesz, PROT_READ | PROT_WRITE));
	must("mprotect", syscall(SYS_mprotect, m, P.pagesz, PROT_NONE));
	must("madvise DONTDUMP",
	     syscall(SYS_madvise, m + P.pagesz, P.pagesz, MADV_DONTDUMP));
	must("madvise WIPEONFORK",
	     syscall(SYS_madvise, m + P.pagesz, P.pagesz, MADV_WIPEONFORK));
	must("mlock", syscall(SYS_mlock, m + P.pagesz, P.pagesz));
	must("munlock", syscall(SYS_munlock, m + P.pagesz, P.pagesz));
	must("munmap", syscall(SYS_munmap, m, 4 * P.pagesz));
	/* A fresh mapping: the calls above split that one. */
	m = (uint8_t *)syscall(SYS_mmap, NULL, 4 * P.pagesz,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		must("mmap", -1);
	m = (uint8_t *)syscall(SYS_mremap, m, 4 * P.pagesz, 8 * P.pagesz,
			       MREMAP_MAYMOVE);
	if (m == MAP_FAILED)
		must("mremap", -1);
	must("munmap", syscall(SYS_munmap, m, 8 * P.pagesz));
	must("close", syscall(SYS_close, P.unconnected));
}

/* What only the agent does: its files, its listening socket. */
static void allowed_agentd(void)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	uint8_t buf[16];
	long fd;

	must("pwrite64", syscall(SYS_pwrite64, P.file, "vault", 5UL, 0L));
	must("pread64", syscall(SYS_pread64, P.file, buf, 5UL, 0L));
	must("ftruncate", syscall(SYS_ftruncate, P.file, 0L));
	must("fsync", syscall(SYS_fsync, P.file));
	must("fdatasync", syscall(SYS_fdatasync, P.file));
	fd = syscall(SYS_accept4, P.listener, NULL, NULL,
		     SOCK_CLOEXEC | SOCK_NONBLOCK);
	must("accept4", fd);
	must("getsockopt SO_PEERCRED", syscall(SYS_getsockopt, fd, SOL_SOCKET,
					       SO_PEERCRED, &cred, &clen));
	must("getuid", syscall(SYS_getuid));
	must("unlink", syscall(SYS_unlink, P.named));
	must("close", syscall(SYS_close, fd));
}

static void usage(void)
{
	fprintf(stderr,
		"usage: sc_probe agentd|mcp|none ACTION|allowed [--in-thread]\n"
		"       sc_probe --sanitizer\n");
	exit(2);
}

struct job {
	const char *filter;
	const struct action *act;
};

/* Install the filter on the calling thread, then act. */
static void *run(void *arg)
{
	const struct job *j = arg;
	int agentd = strcmp(j->filter, "agentd") == 0;

	if (agentd && idw_seccomp_agentd() != 0)
		setup_fail("idw_seccomp_agentd");
	if (strcmp(j->filter, "mcp") == 0 && idw_seccomp_mcp() != 0)
		setup_fail("idw_seccomp_mcp");
	if (j->act != NULL)
		returned(j->act->name, j->act->fn());
	allowed_common();
	if (agentd)
		allowed_agentd();
	return NULL;
}

int main(int argc, char **argv)
{
	struct job j = {NULL, NULL};
	bool in_thread;
	pthread_t t;

	if (argc == 2 && strcmp(argv[1], "--sanitizer") == 0) {
#ifdef IDW_SANITIZER_BUILD
		puts("1");
#else
		puts("0");
#endif
		return 0;
	}
	if (argc != 3 && argc != 4)
		usage();
	in_thread = argc == 4 && strcmp(argv[3], "--in-thread") == 0;
	if (argc == 4 && !in_thread)
		usage();
	if (RUNNING_ON_VALGRIND) {
		puts("SKIP: valgrind cannot run a process with a seccomp "
		     "filter");
		return 77;
	}
	j.filter = argv[1];
	if (strcmp(j.filter, "agentd") != 0 && strcmp(j.filter, "mcp") != 0 &&
	    strcmp(j.filter, "none") != 0)
		usage();
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(argv[2], actions[i].name) == 0)
			j.act = &actions[i];
	if (j.act == NULL && strcmp(argv[2], "allowed") != 0)
		usage();
	/* A file for the agent's unlink; mcp may not remove it afterwards. */
	setup(strcmp(j.filter, "agentd") == 0 && j.act == NULL);
	if (j.act != NULL && j.act->fn == do_stop_cont)
		start_stopper();
	if (!in_thread) {
		run(&j);
		return 0;
	}
	/*
	 * The filter covers only the thread that installs it.  A kill of
	 * the whole process ends this one too; a kill of just that thread
	 * lets the join return.
	 */
	if (pthread_create(&t, NULL, run, &j) != 0)
		setup_fail("pthread_create");
	pthread_join(t, NULL);
	if (j.act == NULL)
		return 0;
	puts("only the calling thread died");
	return 6;
}
