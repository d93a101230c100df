/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/paths.h"

struct fixture {
	char root[64];
	char path[IDW_PATH_MAX];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->root, sizeof(fx->root), "/tmp/idw-test-paths-XXXXXX");
	if (mkdtemp(fx->root) == NULL)
		return -1;
	unsetenv("IDW_SOCKET");
	unsetenv("XDG_RUNTIME_DIR");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->root);
	if (system(cmd) != 0)
		return -1;
	free(fx);
	return 0;
}

static const char *sub(struct fixture *fx, const char *name)
{
	assert_int_equal(
		idw_path_join(fx->path, sizeof(fx->path), fx->root, name), 0);
	return fx->path;
}

static void test_dir_check_private_dir(void **state)
{
	struct fixture *fx = *state;
	char why[512] = "";

	assert_int_equal(chmod(fx->root, 0700), 0);
	assert_int_equal(idw_dir_check(fx->root, why, sizeof(why)), 0);
}

static void test_dir_check_group_other_bits(void **state)
{
	static const mode_t bad[] = {0750, 0710, 0701, 0705, 0770, 0777, 0720};
	struct fixture *fx = *state;
	char why[512];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		assert_int_equal(chmod(fx->root, bad[i]), 0);
		assert_int_equal(idw_dir_check(fx->root, why, sizeof(why)),
				 IDW_EPERM);
		assert_non_null(strstr(why, "chmod 700"));
	}
	assert_int_equal(chmod(fx->root, 0700), 0);
}

static void test_dir_check_link_refused(void **state)
{
	struct fixture *fx = *state;
	char target[IDW_PATH_MAX], why[512] = "";

	snprintf(target, sizeof(target), "%s", sub(fx, "real"));
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, sub(fx, "link")), 0);
	/* The link points at a good directory; it is still refused. */
	assert_int_equal(idw_dir_check(fx->path, why, sizeof(why)), IDW_EPERM);
	assert_non_null(strstr(why, "symbolic link"));
	assert_int_equal(idw_dir_check(target, why, sizeof(why)), 0);
}

static void test_dir_check_not_dir_missing_foreign(void **state)
{
	struct fixture *fx = *state;
	char why[512] = "";
	FILE *f;

	f = fopen(sub(fx, "file"), "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(fx->path, 0600), 0);
	assert_int_equal(idw_dir_check(fx->path, why, sizeof(why)), IDW_EPERM);
	assert_non_null(strstr(why, "not a directory"));

	assert_int_equal(idw_dir_check(sub(fx, "missing"), why, sizeof(why)),
			 IDW_ENOENT);
	assert_int_equal(
		idw_dir_check(sub(fx, "missing/deeper"), why, sizeof(why)),
		IDW_ENOENT);

	/* Owned by someone else: only root can arrange that here. */
	if (geteuid() == 0) {
		assert_int_equal(mkdir(sub(fx, "foreign"), 0700), 0);
		assert_int_equal(chown(fx->path, 65534, 65534), 0);
		assert_int_equal(idw_dir_check(fx->path, why, sizeof(why)),
				 IDW_EPERM);
		assert_non_null(strstr(why, "65534"));
	}
}

static void test_home_ensure(void **state)
{
	struct fixture *fx = *state;
	char why[512] = "";
	struct stat st;
	mode_t old = umask(022);

	assert_int_equal(
		idw_home_ensure(sub(fx, "a/b/home"), 0, why, sizeof(why)),
		IDW_ENOENT);
	assert_int_equal(idw_home_ensure(fx->path, 1, why, sizeof(why)), 0);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Created parents are private too. */
	assert_int_equal(lstat(sub(fx, "a"), &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	/* Again: already there is fine. */
	assert_int_equal(
		idw_home_ensure(sub(fx, "a/b/home"), 1, why, sizeof(why)), 0);
	assert_int_equal(chmod(fx->path, 0755), 0);
	assert_int_equal(idw_home_ensure(fx->path, 1, why, sizeof(why)),
			 IDW_EPERM);
	umask(old);
}

static void test_home_path_precedence(void **state)
{
	char out[IDW_PATH_MAX], tiny[8];

	(void)state;
	setenv("IDW_HOME", "/srv/idw-home", 1);
	setenv("XDG_DATA_HOME", "/xdg/data", 1);
	setenv("HOME", "/home/alice", 1);
	assert_int_equal(idw_home_path(out, sizeof(out)), 0);
	assert_string_equal(out, "/srv/idw-home");
	assert_int_equal(idw_home_path(tiny, sizeof(tiny)), IDW_ETOOBIG);

	setenv("IDW_HOME", "", 1);
	assert_int_equal(idw_home_path(out, sizeof(out)), 0);
	assert_string_equal(out, "/xdg/data/idw");
	unsetenv("IDW_HOME");
	assert_int_equal(idw_home_path(out, sizeof(out)), 0);
	assert_string_equal(out, "/xdg/data/idw");

	/* A relative XDG_DATA_HOME is ignored, as the spec says. */
	setenv("XDG_DATA_HOME", "relative/data", 1);
	assert_int_equal(idw_home_path(out, sizeof(out)), 0);
	assert_string_equal(out, "/home/alice/.local/share/idw");
	unsetenv("XDG_DATA_HOME");
	assert_int_equal(idw_home_path(out, sizeof(out)), 0);
	assert_string_equal(out, "/home/alice/.local/share/idw");

	unsetenv("HOME");
	assert_int_equal(idw_home_path(out, sizeof(out)), IDW_ENOENT);
	setenv("HOME", "relative", 1);
	assert_int_equal(idw_home_path(out, sizeof(out)), IDW_ENOENT);
}

static void test_path_join(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(idw_path_join(out, sizeof(out), "/a", "b.sock"), 0);
	assert_string_equal(out, "/a/b.sock");
	assert_int_equal(idw_path_join(out, sizeof(out), "/abcdefgh", "ijklmn"),
			 IDW_ETOOBIG); /* 16 chars + NUL */
	assert_int_equal(idw_path_join(out, sizeof(out), "/abcdefgh", "ijklm"),
			 0);
}

/* The expected name: first 8 bytes of BLAKE2b-256(realpath) in hex. */
static void expected_name(const char *home, char out[40])
{
	unsigned char h[32];
	char hex[17], real[PATH_MAX];

	assert_int_equal(sodium_init() < 0, 0);
	assert_non_null(realpath(home, real));
	crypto_generichash(h, sizeof(h), (const unsigned char *)real,
			   strlen(real), NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, 8);
	snprintf(out, 40, "agent-%s.sock", hex);
}

static void test_socket_path_hash(void **state)
{
	struct fixture *fx = *state;
	char home1[IDW_PATH_MAX], home2[IDW_PATH_MAX], p1[IDW_PATH_MAX],
		p2[IDW_PATH_MAX], d[IDW_PATH_MAX], want[IDW_PATH_MAX], name[40],
		alias[IDW_PATH_MAX];

	snprintf(home1, sizeof(home1), "%s", sub(fx, "home1"));
	snprintf(home2, sizeof(home2), "%s", sub(fx, "home2"));
	assert_int_equal(mkdir(home1, 0700), 0);
	assert_int_equal(mkdir(home2, 0700), 0);

	assert_int_equal(idw_socket_path(home1, p1, sizeof(p1), d, sizeof(d)),
			 0);
	snprintf(want, sizeof(want), "/tmp/idw-%u", (unsigned)geteuid());
	assert_string_equal(d, want);
	expected_name(home1, name);
	snprintf(want, sizeof(want), "/tmp/idw-%u/%s", (unsigned)geteuid(),
		 name);
	assert_string_equal(p1, want);

	/* Stable across calls. */
	assert_int_equal(idw_socket_path(home1, p2, sizeof(p2), d, sizeof(d)),
			 0);
	assert_string_equal(p1, p2);

	/* Another home, another agent. */
	assert_int_equal(idw_socket_path(home2, p2, sizeof(p2), d, sizeof(d)),
			 0);
	assert_string_not_equal(p1, p2);

	/* The same home reached another way is the same agent. */
	snprintf(alias, sizeof(alias), "%s/./home1/", fx->root);
	assert_int_equal(idw_socket_path(alias, p2, sizeof(p2), d, sizeof(d)),
			 0);
	assert_string_equal(p1, p2);
	assert_int_equal(symlink(home1, sub(fx, "home-link")), 0);
	assert_int_equal(
		idw_socket_path(fx->path, p2, sizeof(p2), d, sizeof(d)), 0);
	assert_string_equal(p1, p2);

	/* The home must exist: the hash is of its real path. */
	assert_int_equal(idw_socket_path(sub(fx, "nohome"), p2, sizeof(p2), d,
					 sizeof(d)),
			 IDW_ENOENT);
}

static void test_socket_path_runtime_dir(void **state)
{
	struct fixture *fx = *state;
	char home[IDW_PATH_MAX], p[IDW_PATH_MAX], d[IDW_PATH_MAX],
		want[IDW_PATH_MAX], name[40], longdir[200];

	snprintf(home, sizeof(home), "%s", sub(fx, "home"));
	assert_int_equal(mkdir(home, 0700), 0);
	expected_name(home, name);

	setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1);
	assert_int_equal(idw_socket_path(home, p, sizeof(p), d, sizeof(d)), 0);
	assert_string_equal(d, "/run/user/1234/idw");
	snprintf(want, sizeof(want), "/run/user/1234/idw/%s", name);
	assert_string_equal(p, want);

	/* Relative or empty XDG_RUNTIME_DIR: the /tmp fallback. */
	setenv("XDG_RUNTIME_DIR", "run/user", 1);
	assert_int_equal(idw_socket_path(home, p, sizeof(p), d, sizeof(d)), 0);
	snprintf(want, sizeof(want), "/tmp/idw-%u", (unsigned)geteuid());
	assert_string_equal(d, want);
	setenv("XDG_RUNTIME_DIR", "", 1);
	assert_int_equal(idw_socket_path(home, p, sizeof(p), d, sizeof(d)), 0);
	assert_string_equal(d, want);

	/* A socket path that cannot fit in sun_path is refused. */
	memset(longdir, 'r', sizeof(longdir) - 1);
	longdir[0] = '/';
	longdir[sizeof(longdir) - 1] = '\0';
	setenv("XDG_RUNTIME_DIR", longdir, 1);
	assert_int_equal(idw_socket_path(home, p, sizeof(p), d, sizeof(d)),
			 IDW_ETOOBIG);
	unsetenv("XDG_RUNTIME_DIR");
}

static void test_socket_path_override(void **state)
{
	struct fixture *fx = *state;
	char p[IDW_PATH_MAX], d[IDW_PATH_MAX], tiny[4], longpath[200];

	/* IDW_SOCKET wins, even for a home that does not exist. */
	setenv("XDG_RUNTIME_DIR", "/run/user/1234", 1);
	setenv("IDW_SOCKET", "/srv/sock/agent.sock", 1);
	assert_int_equal(
		idw_socket_path(sub(fx, "nohome"), p, sizeof(p), d, sizeof(d)),
		0);
	assert_string_equal(p, "/srv/sock/agent.sock");
	assert_string_equal(d, "/srv/sock");

	setenv("IDW_SOCKET", "agent.sock", 1);
	assert_int_equal(idw_socket_path(fx->root, p, sizeof(p), d, sizeof(d)),
			 0);
	assert_string_equal(p, "agent.sock");
	assert_string_equal(d, ".");

	setenv("IDW_SOCKET", "/agent.sock", 1);
	assert_int_equal(idw_socket_path(fx->root, p, sizeof(p), d, sizeof(d)),
			 0);
	assert_string_equal(d, "/");

	setenv("IDW_SOCKET", "/srv/sock/agent.sock", 1);
	assert_int_equal(
		idw_socket_path(fx->root, p, sizeof(p), tiny, sizeof(tiny)),
		IDW_ETOOBIG);
	assert_int_equal(
		idw_socket_path(fx->root, tiny, sizeof(tiny), d, sizeof(d)),
		IDW_ETOOBIG);

	/* The override is bound by sun_path like any other socket path. */
	memset(longpath, 's', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	setenv("IDW_SOCKET", longpath, 1);
	assert_int_equal(idw_socket_path(fx->root, p, sizeof(p), d, sizeof(d)),
			 IDW_ETOOBIG);

	/* An empty IDW_SOCKET is no override. */
	setenv("IDW_SOCKET", "", 1);
	assert_int_equal(idw_socket_path(fx->root, p, sizeof(p), d, sizeof(d)),
			 0);
	assert_string_equal(d, "/run/user/1234/idw");
	unsetenv("IDW_SOCKET");
	unsetenv("XDG_RUNTIME_DIR");
}

static void test_socket_dir_ensure(void **state)
{
	struct fixture *fx = *state;
	char why[512] = "";
	struct stat st;
	mode_t old = umask(0);

	assert_int_equal(
		idw_socket_dir_ensure(sub(fx, "run"), why, sizeof(why)), 0);
	assert_int_equal(lstat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(idw_socket_dir_ensure(fx->path, why, sizeof(why)), 0);
	/* Someone loosened it: refused, not repaired behind our back. */
	assert_int_equal(chmod(fx->path, 0711), 0);
	assert_int_equal(idw_socket_dir_ensure(fx->path, why, sizeof(why)),
			 IDW_EPERM);
	/* A link planted in its place is refused. */
	assert_int_equal(symlink(fx->root, sub(fx, "run-link")), 0);
	assert_int_equal(idw_socket_dir_ensure(fx->path, why, sizeof(why)),
			 IDW_EPERM);
	/* Parents are not created. */
	assert_int_equal(
		idw_socket_dir_ensure(sub(fx, "no/such"), why, sizeof(why)),
		IDW_EIO);
	umask(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dir_check_private_dir,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_check_group_other_bits,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_dir_check_link_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_dir_check_not_dir_missing_foreign, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_home_ensure, setup,
						teardown),
		cmocka_unit_test(test_home_path_precedence),
		cmocka_unit_test(test_path_join),
		cmocka_unit_test_setup_teardown(test_socket_path_hash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_socket_path_runtime_dir,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_path_override,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_dir_ensure, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
