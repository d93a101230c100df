/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/paths.h"

int idw_path_join(char *dst, size_t len, const char *a, const char *b)
{
	int n = snprintf(dst, len, "%s/%s", a, b);

	return n < 0 || (size_t)n >= len ? IDW_ETOOBIG : 0;
}

int idw_home_path(char *out, size_t len)
{
	const char *e;
	int n;

	if ((e = getenv("IDW_HOME")) != NULL && e[0] != '\0')
		n = snprintf(out, len, "%s", e);
	else if ((e = getenv("XDG_DATA_HOME")) != NULL && e[0] == '/')
		n = snprintf(out, len, "%s/idw", e);
	else if ((e = getenv("HOME")) != NULL && e[0] == '/')
		n = snprintf(out, len, "%s/.local/share/idw", e);
	else
		return IDW_ENOENT;
	if (n < 0 || (size_t)n >= len)
		return IDW_ETOOBIG;
	return 0;
}

int idw_dir_check(const char *dir, char *why, size_t whylen)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return errno == ENOENT ? IDW_ENOENT : IDW_EIO;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(why, whylen, "%s is a symbolic link; refusing it",
			 dir);
		return IDW_EPERM;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, whylen, "%s is not a directory", dir);
		return IDW_EPERM;
	}
	if (st.st_uid != geteuid()) {
		snprintf(
			why, whylen,
			"%s belongs to uid %u, not to us (uid %u); refusing it",
			dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return IDW_EPERM;
	}
	if (st.st_mode & 077) {
		snprintf(why, whylen,
			 "%s is accessible to group or others (mode %03o); "
			 "run 'chmod 700 %s'",
			 dir, (unsigned)(st.st_mode & 0777), dir);
		return IDW_EPERM;
	}
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char tmp[IDW_PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return IDW_ETOOBIG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
			return IDW_EIO;
		*p = '/';
	}
	if (mkdir(tmp, mode) != 0 && errno != EEXIST)
		return IDW_EIO;
	return 0;
}

int idw_home_ensure(const char *home, int create, char *why, size_t whylen)
{
	if (create && mkdir_p(home, 0700) != 0) {
		snprintf(why, whylen, "cannot create %s: %s", home,
			 strerror(errno));
		return IDW_EIO;
	}
	return idw_dir_check(home, why, whylen);
}

int idw_socket_path(const char *home, char *path, size_t plen, char *dir,
		    size_t dlen)
{
	unsigned char h[32];
	char real[PATH_MAX], hex[65];
	const char *e;
	int n;

	if ((e = getenv("IDW_SOCKET")) != NULL && e[0] != '\0') {
		const char *slash = strrchr(e, '/');

		n = snprintf(path, plen, "%s", e);
		if (n < 0 || (size_t)n >= plen ||
		    (size_t)n >= IDW_SOCK_PATH_MAX)
			return IDW_ETOOBIG;
		if (slash == NULL)
			n = snprintf(dir, dlen, ".");
		else if (slash == e)
			n = snprintf(dir, dlen, "/");
		else
			n = snprintf(dir, dlen, "%.*s", (int)(slash - e), e);
		return n < 0 || (size_t)n >= dlen ? IDW_ETOOBIG : 0;
	}
	if (realpath(home, real) == NULL)
		return IDW_ENOENT;
	crypto_generichash(h, sizeof(h), (const unsigned char *)real,
			   strlen(real), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, 8);
	if ((e = getenv("XDG_RUNTIME_DIR")) != NULL && e[0] == '/')
		n = snprintf(dir, dlen, "%s/idw", e);
	else
		n = snprintf(dir, dlen, "/tmp/idw-%u", (unsigned)geteuid());
	if (n < 0 || (size_t)n >= dlen)
		return IDW_ETOOBIG;
	n = snprintf(path, plen, "%s/agent-%s.sock", dir, hex);
	if (n < 0 || (size_t)n >= plen || (size_t)n >= IDW_SOCK_PATH_MAX)
		return IDW_ETOOBIG;
	return 0;
}

int idw_socket_dir_ensure(const char *dir, char *why, size_t whylen)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot create %s: %s", dir,
			 strerror(errno));
		return IDW_EIO;
	}
	return idw_dir_check(dir, why, whylen);
}
