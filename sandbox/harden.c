/* SPDX-License-Identifier: ISC */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/harden.h"

int idw_harden_nodump(char *why, size_t whylen)
{
	struct rlimit zero = {0, 0};

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) {
		snprintf(why, whylen, "prctl(PR_SET_DUMPABLE, 0) failed: %s",
			 strerror(errno));
		return IDW_EPERM;
	}
	if (setrlimit(RLIMIT_CORE, &zero) != 0) {
		snprintf(why, whylen, "setrlimit(RLIMIT_CORE, 0) failed: %s",
			 strerror(errno));
		return IDW_EPERM;
	}
	return 0;
}

static bool kept(const char *entry, const char *const *keep)
{
	for (size_t i = 0; keep[i] != NULL; i++) {
		size_t n = strlen(keep[i]);

		if (strncmp(entry, keep[i], n) == 0 && entry[n] == '=')
			return true;
	}
	return false;
}

int idw_harden_env(const char *const *keep)
{
	char name[256];

	/* Restart after each removal: unsetenv reshuffles environ. */
	for (size_t i = 0; environ != NULL && environ[i] != NULL;) {
		const char *eq = strchr(environ[i], '=');
		size_t n = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);

		if (kept(environ[i], keep)) {
			i++;
			continue;
		}
		if (n == 0 || n >= sizeof(name))
			return IDW_EINVAL;
		memcpy(name, environ[i], n);
		name[n] = '\0';
		if (unsetenv(name) != 0)
			return IDW_ERR;
		i = 0;
	}
	return 0;
}

int idw_harden_close_fds(const int *keep, size_t n)
{
	DIR *d = opendir("/proc/self/fd");
	int fds[1024], nfd = 0;
	struct dirent *de;

	if (d == NULL)
		return IDW_EIO;
	while ((de = readdir(d)) != NULL && nfd < 1024) {
		int fd = atoi(de->d_name);
		bool keepit = fd <= 2 || fd == dirfd(d) || de->d_name[0] == '.';

		for (size_t i = 0; i < n && !keepit; i++)
			keepit = keep[i] == fd;
		if (!keepit)
			fds[nfd++] = fd;
	}
	closedir(d);
	for (int i = 0; i < nfd; i++)
		close(fds[i]);
	return nfd == 1024 ? IDW_ETOOBIG : 0;
}

int idw_harden_rlimits(unsigned nofile, char *why, size_t whylen)
{
	struct rlimit nf = {nofile, nofile}, np = {0, 0};

	if (setrlimit(RLIMIT_NOFILE, &nf) != 0) {
		snprintf(why, whylen, "setrlimit(RLIMIT_NOFILE, %u) failed: %s",
			 nofile, strerror(errno));
		return IDW_EPERM;
	}
	if (setrlimit(RLIMIT_NPROC, &np) != 0) {
		snprintf(why, whylen, "setrlimit(RLIMIT_NPROC, 0) failed: %s",
			 strerror(errno));
		return IDW_EPERM;
	}
	return 0;
}

int idw_harden_landlock(const char *const *dirs, size_t n, bool *active,
			char *why, size_t whylen)
{
	struct landlock_ruleset_attr attr = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE |
				     LANDLOCK_ACCESS_FS_WRITE_FILE |
				     LANDLOCK_ACCESS_FS_READ_FILE |
				     LANDLOCK_ACCESS_FS_READ_DIR |
				     LANDLOCK_ACCESS_FS_REMOVE_DIR |
				     LANDLOCK_ACCESS_FS_REMOVE_FILE |
				     LANDLOCK_ACCESS_FS_MAKE_CHAR |
				     LANDLOCK_ACCESS_FS_MAKE_DIR |
				     LANDLOCK_ACCESS_FS_MAKE_REG |
				     LANDLOCK_ACCESS_FS_MAKE_SOCK |
				     LANDLOCK_ACCESS_FS_MAKE_FIFO |
				     LANDLOCK_ACCESS_FS_MAKE_BLOCK |
				     LANDLOCK_ACCESS_FS_MAKE_SYM,
	};
	const __u64 allowed =
		LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
		LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
		LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK;
	int abi, rs, r = IDW_EPERM;

	*active = false;
	abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0,
			   LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1) {
		snprintf(why, whylen,
			 "Landlock is not available on this kernel (%s): the "
			 "agent relies on its seccomp filter alone",
			 strerror(errno));
		return 0;
	}
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0) {
		snprintf(why, whylen, "landlock_create_ruleset: %s",
			 strerror(errno));
		return IDW_EPERM;
	}
	for (size_t i = 0; i < n; i++) {
		struct landlock_path_beneath_attr pb = {.allowed_access =
								allowed};

		pb.parent_fd = open(dirs[i], O_PATH | O_CLOEXEC | O_DIRECTORY);
		if (pb.parent_fd < 0) {
			snprintf(why, whylen, "landlock: %s: %s", dirs[i],
				 strerror(errno));
			goto out;
		}
		if (syscall(SYS_landlock_add_rule, rs,
			    LANDLOCK_RULE_PATH_BENEATH, &pb, 0) != 0) {
			snprintf(why, whylen, "landlock_add_rule %s: %s",
				 dirs[i], strerror(errno));
			close(pb.parent_fd);
			goto out;
		}
		close(pb.parent_fd);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    syscall(SYS_landlock_restrict_self, rs, 0) != 0) {
		snprintf(why, whylen, "landlock_restrict_self: %s",
			 strerror(errno));
		goto out;
	}
	*active = true;
	snprintf(why, whylen, "Landlock ABI %d", abi);
	r = 0;
out:
	close(rs);
	return r;
}
