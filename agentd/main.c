/* SPDX-License-Identifier: ISC */
/*
 * idw-agentd: holds the vault key and answers a fixed set of requests.
 * The start order is DESIGN's "Agent start order" and is followed step by
 * step in main(); each hardening step is checked and fatal on failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/agent.h"
#include "agentd/repair.h"
#include "agentd/server.h"
#include "agentd/unlock_chain.h"
#include "common/agentenv.h"
#include "common/idwtime.h"
#include "keychain/unlock.h"
#include "sandbox/arena.h"
#include "sandbox/harden.h"
#include "sandbox/seccomp.h"

#define DEFAULT_IDLE_S (8 * 3600)
#define AGENT_NOFILE 256

struct opts {
	int status_fd;
	int pass_fd;
	bool allow_no_vault;
	bool allow_unlocked_memory;
	int64_t idle_timeout_s;
	enum repair_mode repair; /* idw vault repair: agentd/repair.c */
	uint64_t cut_at;
};

static struct agent A;
static int status_fd = -1;
static int lock_fd = -1; /* agentd.lock, held for the agent's life */

/* One line to the starting client's status pipe and to stderr. */
static void status_line(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void status_line(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	for (int i = 0; i < n; i++)
		if (line[i] == '\n')
			line[i] = ' ';
	line[n++] = '\n';
	if (status_fd >= 0 && write(status_fd, line, (size_t)n) < 0)
		status_fd = -1;
	if (write(STDERR_FILENO, "idw-agentd: ", 12) > 0 &&
	    write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

/*
 * The lock goes before the status pipe closes: a client that reads our
 * failure may start the next agent at once, and must not find it held.
 */
static void release_lock(void)
{
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

static void status_close(void)
{
	if (status_fd >= 0)
		close(status_fd);
	status_fd = -1;
}

static void die(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
static void die(int err, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	agent_lock(&A);
	release_lock();
	status_line("error %s %s", idw_err_name(err), msg);
	status_close();
	_exit(1);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: idw-agentd [--idle-timeout=DURATION] "
		"[--allow-no-vault]\n"
		"                  [--allow-unlocked-memory] [--status-fd=N]\n"
		"                  [--passphrase-fd=N]\n"
		"       idw-agentd --repair=report|apply [--cut-at=OFFSET] "
		"--passphrase-fd=N\n"
		"The agent is normally started by idw and idw-mcp.\n");
	exit(2);
}

static int fd_arg(const char *s)
{
	char *end = NULL;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < 3 || v > 1024 ||
	    fcntl((int)v, F_GETFD) < 0)
		return -1;
	return (int)v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	const char *env_idle = getenv("IDW_IDLE_TIMEOUT");

	memset(o, 0, sizeof(*o));
	o->status_fd = o->pass_fd = -1;
	o->idle_timeout_s = DEFAULT_IDLE_S;
	if (env_idle != NULL &&
	    idw_duration_parse(env_idle, &o->idle_timeout_s) != 0)
		o->idle_timeout_s = DEFAULT_IDLE_S;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strncmp(a, "--status-fd=", 12) == 0) {
			if ((o->status_fd = fd_arg(a + 12)) < 0)
				usage();
		} else if (strncmp(a, "--passphrase-fd=", 16) == 0) {
			if ((o->pass_fd = fd_arg(a + 16)) < 0)
				usage();
		} else if (strncmp(a, "--idle-timeout=", 15) == 0) {
			if (strcmp(a + 15, "0") == 0)
				o->idle_timeout_s = 0;
			else if (idw_duration_parse(a + 15,
						    &o->idle_timeout_s) != 0)
				usage();
		} else if (strncmp(a, "--repair=", 9) == 0) {
			if ((o->repair = repair_mode_parse(a + 9)) ==
			    REPAIR_NONE)
				usage();
		} else if (strncmp(a, "--cut-at=", 9) == 0) {
			o->cut_at = strtoull(a + 9, NULL, 10);
		} else if (strcmp(a, "--allow-no-vault") == 0) {
			o->allow_no_vault = true;
		} else if (strcmp(a, "--allow-unlocked-memory") == 0) {
			o->allow_unlocked_memory = true;
		} else if (strcmp(a, "--version") == 0) {
			printf("idw-agentd %s\n", IDW_VERSION);
			exit(0);
		} else {
			usage();
		}
	}
}

/* stdin/stdout/stderr always exist, so no later open lands on them. */
static void sanitize_stdio(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0) {
			int n = open("/dev/null", O_RDWR);

			if (n < 0)
				_exit(1);
			if (n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

static void harden_process(void)
{
	char why[300];

	if (idw_harden_env(idw_agent_env) != 0)
		die(IDW_ERR, "cannot sanitize the environment");
	if (idw_harden_nodump(why, sizeof(why)) != 0)
		die(IDW_EPERM, "%s", why);
}

/*
 * The last steps before the first peer byte is read: nothing but the
 * descriptors the loop needs, low limits, no new privileges, Landlock
 * where the kernel has it, then the seccomp allowlist.
 */
static void enter_sandbox(const int *keep, size_t nkeep)
{
	char why[300], sockdir[IDW_PATH_MAX];
	const char *dirs[2];
	char *slash;

	if (idw_harden_close_fds(keep, nkeep) != 0)
		die(IDW_ERR, "cannot close inherited descriptors");
	if (idw_harden_rlimits(AGENT_NOFILE, why, sizeof(why)) != 0)
		die(IDW_EPERM, "%s", why);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		die(IDW_EPERM, "prctl(PR_SET_NO_NEW_PRIVS) failed: %s",
		    strerror(errno));
	snprintf(sockdir, sizeof(sockdir), "%s", A.sock_path);
	slash = strrchr(sockdir, '/');
	if (slash != NULL && slash != sockdir)
		*slash = '\0';
	dirs[0] = A.home;
	dirs[1] = sockdir;
	if (idw_harden_landlock(dirs, 2, &A.landlock, A.landlock_why,
				sizeof(A.landlock_why)) != 0)
		die(IDW_EPERM, "%s", A.landlock_why);
	A.dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	if (idw_seccomp_agentd() != 0)
		die(IDW_EPERM, "installing the seccomp filter failed");
}

static int take_lock(void)
{
	char path[IDW_PATH_MAX];
	int fd;

	if (idw_path_join(path, sizeof(path), A.home, "agentd.lock") != 0)
		die(IDW_ETOOBIG, "home path too long");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		die(IDW_EIO, "cannot open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			/* Another agent serves (or is starting for) this home.
			 */
			status_line("retry");
			status_close();
			_exit(0);
		}
		die(IDW_EIO, "cannot lock %s: %s", path, strerror(errno));
	}
	return fd;
}

static void setup_paths(void)
{
	char why[600], dir[IDW_PATH_MAX];

	if (idw_home_path(A.home, sizeof(A.home)) != 0)
		die(IDW_ENOENT, "neither IDW_HOME nor HOME is set");
	if (idw_home_ensure(A.home, 1, why, sizeof(why)) != 0)
		die(IDW_EPERM, "%s", why);
	if (idw_path_join(A.vault_path, sizeof(A.vault_path), A.home,
			  "vault.idw") != 0 ||
	    idw_path_join(A.audit_path, sizeof(A.audit_path), A.home,
			  "audit.idw") != 0 ||
	    idw_socket_path(A.home, A.sock_path, sizeof(A.sock_path), dir,
			    sizeof(dir)) != 0)
		die(IDW_ETOOBIG, "a path under %s is too long", A.home);
	if (idw_socket_dir_ensure(dir, why, sizeof(why)) != 0)
		die(IDW_EPERM, "%s", why);
}

static void chain_say(const char *kind, const char *text)
{
	if (text == NULL)
		status_line("%s", kind);
	else
		status_line("%s %s", kind, text);
}

static void unlock_at_start(const struct opts *o)
{
	enum chain_result r = chain_unlock(&A, o->pass_fd, chain_say);

	if (r != CHAIN_UNLOCKED && idw_arena_lock_failed() &&
	    !o->allow_unlocked_memory)
		die(IDW_ENOMEM, "the vault does not fit in lockable memory: %s",
		    idw_arena_lock_error());
	if (r != CHAIN_UNLOCKED) {
		/* The chain said why; go without another word. */
		agent_lock(&A);
		release_lock();
		status_close();
		_exit(1);
	}
	/* Which source unlocked is part of the record. */
	if (audit_append(&A.audit, &(struct audit_event){
					   .principal = "agent",
					   .action = "unlock",
					   .result = "ok",
					   .reason = A.unlock_source,
				   }) != 0)
		die(IDW_EIO, "the audit log cannot be written: %s",
		    A.audit.broken_why);
}

/*
 * A vault of an older format is kept as it is (vault.idw.bak-v<N>), then
 * the compaction that follows rewrites it in this version's format.  Both
 * need new files: before the filter.
 */
static void migrate_at_start(void)
{
	unsigned major = idw_vault_format_major(A.vault);
	unsigned minor = idw_vault_format_minor(A.vault);
	char bak[IDW_PATH_MAX + 32], what[IDW_PATH_MAX + 120];
	int r;

	if (major >= IDW_VAULT_MAJOR)
		return;
	if ((r = idw_vault_keep_copy(A.vault, bak, sizeof(bak))) != 0)
		die(r, "keeping a copy of %s before migrating it failed: %s",
		    A.vault_path, idw_strerror(r));
	snprintf(what, sizeof(what),
		 "vault format %u.%u migrated to %u.%u; the old file is kept "
		 "as %s",
		 major, minor, IDW_VAULT_MAJOR, IDW_VAULT_MINOR, bak);
	if (audit_append(&A.audit, &(struct audit_event){
					   .principal = "agent",
					   .action = "migrate",
					   .result = "ok",
					   .reason = what,
				   }) != 0)
		die(IDW_EIO, "the audit log cannot be written: %s",
		    A.audit.broken_why);
	status_line("info %s", what);
}

/* Rewrite the journal when it holds superseded records (before serving). */
static void compact_at_start(void)
{
	int r = store_compact(&A.store, A.vault);

	if (r != 0)
		die(r, "compacting %s failed: %s", A.vault_path,
		    idw_strerror(r));
}

/*
 * mlock's result is not the whole truth (a sanitizer runtime turns it into
 * a no-op): the kernel's VmLck must cover the arena too.
 */
static void check_locked_memory(const struct opts *o)
{
	struct idw_arena_stats st;

	idw_arena_stats(&st);
	A.memory_locked = st.locked;
#ifndef IDW_SANITIZER_BUILD
	if (st.locked &&
	    agent_proc_field(&A, "VmLck:") * 1024 < (long)st.mapped)
		A.memory_locked = false;
#endif
	if (!A.memory_locked && !o->allow_unlocked_memory)
		die(IDW_ENOMEM, "%s", idw_arena_lock_error());
	if (!A.memory_locked)
		status_line("info warning: secrets are held in memory that is "
			    "not locked and may reach swap "
			    "(--allow-unlocked-memory)");
}

static bool vault_present(void)
{
	struct stat st;

	return lstat(A.vault_path, &st) == 0 && st.st_size > 0;
}

static int signals_fd(void)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit must fail the write (EFBIG, audited), not kill. */
	signal(SIGXFSZ, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		die(IDW_ERR, "sigprocmask failed");
	fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		die(IDW_ERR, "signalfd failed: %s", strerror(errno));
	return fd;
}

int main(int argc, char **argv)
{
	struct opts o;
	int lfd, sigfd, r;
	char why[600];
	time_t t0 = 0;
	struct tm tm;

	sanitize_stdio();
	parse_args(argc, argv, &o);
	status_fd = o.status_fd;
	harden_process();
	if (sodium_init() < 0)
		die(IDW_ERR, "libsodium failed to initialise");
	if (idw_arena_init(o.allow_unlocked_memory ? IDW_ARENA_ALLOW_UNLOCKED
						   : 0) != 0)
		die(IDW_ENOMEM, "%s", idw_arena_lock_error());
	idw_arena_cjson_hooks();
	/* Time zone data is read now, never later. */
	tzset();
	localtime_r(&t0, &tm);
	A.idle_timeout_s = o.idle_timeout_s;
	A.started_ms = idw_boot_ms();
	store_init(&A.store);
	audit_init(&A.audit);
	setup_paths();
	/* Kept open: the status verb reads it after the filter. */
	A.proc_status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	lock_fd = take_lock();
	if (o.repair != REPAIR_NONE) {
		/* Instead of serving: report or cut, then go. */
		r = repair_run(A.vault_path, o.repair, o.cut_at, o.pass_fd,
			       status_line);
		release_lock();
		status_close();
		_exit(r == 0 ? 0 : 1);
	}
	if (!o.allow_no_vault && !vault_present()) {
		/* Leave the home as it was: no empty vault, no audit log. */
		unlock_scrub_env("IDW_PASSPHRASE");
		die(IDW_ENOVAULT, "no vault at %s: run 'idw init'",
		    A.vault_path);
	}
	if ((r = idw_vault_open(A.vault_path, &A.vault)) != 0) {
		uint8_t id[IDW_VAULT_ID_LEN];

		/* A header refused says why: a newer format names the idw
		 * that reads it. */
		if ((r == IDW_EVERSION || r == IDW_ECORRUPT) &&
		    idw_vault_peek(A.vault_path, id, why, sizeof(why)) != 0 &&
		    why[0] != '\0')
			die(r, "cannot open %s: %s", A.vault_path, why);
		die(r, "cannot open %s: %s", A.vault_path, idw_strerror(r));
	}
	if ((r = audit_open(&A.audit, A.audit_path)) != 0)
		die(r, "cannot open %s: %s", A.audit_path, idw_strerror(r));
	if (idw_vault_initialized(A.vault)) {
		unlock_at_start(&o);
		migrate_at_start();
		/* Also finishes a rekey: all of it under the new key. */
		compact_at_start();
		/* Compaction moved the checkpoint: a fresh one goes last. */
		(void)anchor_checkpoint(&A);
	} else if (!o.allow_no_vault) {
		unlock_scrub_env("IDW_PASSPHRASE");
		die(IDW_ENOVAULT, "no vault at %s: run 'idw init'",
		    A.vault_path);
	} else {
		unlock_scrub_env("IDW_PASSPHRASE");
		if (o.pass_fd >= 0)
			close(o.pass_fd);
	}
	check_locked_memory(&o);
	sigfd = signals_fd();
	if ((r = server_listen(&A, &lfd, why, sizeof(why))) != 0)
		die(r, "%s", why);
	if (chdir("/") != 0)
		die(IDW_EIO, "chdir / failed");
	{
		int keep[] = {lock_fd,
			      lfd,
			      sigfd,
			      status_fd,
			      idw_vault_fd(A.vault),
			      A.audit.fd,
			      A.proc_status_fd};

		enter_sandbox(keep, sizeof(keep) / sizeof(keep[0]));
	}
	status_line("ok");
	status_close();
	r = server_run(&A, lfd, sigfd);
	/* A clean stop leaves no entry the vault does not vouch for. */
	(void)anchor_checkpoint(&A);
	/* Wipe before anything else: lock clears keys, values, metadata. */
	agent_lock(&A);
	unlink(A.sock_path);
	close(lfd);
	idw_vault_close(A.vault);
	audit_close(&A.audit);
	release_lock();
	/* Nothing after the wipe: no atexit handler, no stdio flush. */
	_exit(r == 0 ? 0 : 1);
}
