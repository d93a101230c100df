/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of keychain/unlock.c: the passphrase pipe from the CLI comes
 * first, then IDW_PASSPHRASE; what was read from the environment is wiped
 * and unset; an absent source is reported by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keychain/unlock.h"

#define ENV_PASS "env passphrase 123"
#define PIPE_PASS "pipe passphrase 456"

/*
 * The environment entry lives in our own buffer (putenv), so the test can
 * look at the very bytes getenv() handed out after they were scrubbed.
 */
static char env_entry[128];

static int group_setup(void **state)
{
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static int setup(void **state)
{
	(void)state;
	unsetenv("IDW_PASSPHRASE");
	return 0;
}

static void set_env_pass(const char *v)
{
	snprintf(env_entry, sizeof(env_entry), "IDW_PASSPHRASE=%s", v);
	assert_int_equal(putenv(env_entry), 0);
	assert_string_equal(getenv("IDW_PASSPHRASE"), v);
}

/* The value part of env_entry is all zero bytes. */
static void env_entry_wiped(size_t len)
{
	const char *v = env_entry + strlen("IDW_PASSPHRASE=");

	for (size_t i = 0; i < len; i++)
		assert_int_equal(v[i], 0);
}

/* A pipe whose read end holds exactly n bytes of p, then EOF. */
static int pipe_with(const void *p, size_t n)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	if (n > 0)
		assert_int_equal(write(fds[1], p, n), (ssize_t)n);
	close(fds[1]);
	return fds[0];
}

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

static void test_env(void **state)
{
	struct unlock_secret s;
	char report[256];

	(void)state;
	set_env_pass(ENV_PASS);
	assert_int_equal(unlock_resolve(-1, &s, report, sizeof(report)), 0);
	assert_string_equal(s.source, "env-var");
	assert_int_equal(s.len, strlen(ENV_PASS));
	assert_memory_equal(s.pass, ENV_PASS, strlen(ENV_PASS));
	/* Read once, then wiped in place and unset. */
	assert_null(getenv("IDW_PASSPHRASE"));
	env_entry_wiped(strlen(ENV_PASS));
	unlock_secret_free(&s);
	assert_null(s.pass);
	assert_null(s.source);
	assert_int_equal(s.len, 0);
	/* A second resolve finds nothing. */
	assert_int_equal(unlock_resolve(-1, &s, report, sizeof(report)),
			 IDW_ENOENT);
}

static void test_pipe_first(void **state)
{
	struct unlock_secret s;
	char report[256];
	int fd;

	(void)state;
	set_env_pass(ENV_PASS);
	fd = pipe_with(PIPE_PASS, strlen(PIPE_PASS));
	assert_int_equal(unlock_resolve(fd, &s, report, sizeof(report)), 0);
	assert_string_equal(s.source, "interactive");
	assert_int_equal(s.len, strlen(PIPE_PASS));
	assert_memory_equal(s.pass, PIPE_PASS, strlen(PIPE_PASS));
	/* The pipe is closed; the environment copy is gone all the same. */
	assert_false(fd_open(fd));
	assert_null(getenv("IDW_PASSPHRASE"));
	env_entry_wiped(strlen(ENV_PASS));
	unlock_secret_free(&s);
}

static void test_pipe_bytes_exact(void **state)
{
	static const uint8_t odd[] = {'p', 0,	 'a',  '\n', 0xff,
				      's', '\r', 0x01, 's',  '\n'};
	struct unlock_secret s;
	char report[256];
	uint8_t *big;
	int fd;

	(void)state;
	/* Every byte, NUL and newline included, as handed over. */
	fd = pipe_with(odd, sizeof(odd));
	assert_int_equal(unlock_resolve(fd, &s, report, sizeof(report)), 0);
	assert_int_equal(s.len, sizeof(odd));
	assert_memory_equal(s.pass, odd, sizeof(odd));
	unlock_secret_free(&s);
	/* The longest accepted. */
	big = malloc(UNLOCK_PASS_MAX);
	assert_non_null(big);
	memset(big, 'b', UNLOCK_PASS_MAX);
	fd = pipe_with(big, UNLOCK_PASS_MAX - 1);
	assert_int_equal(unlock_resolve(fd, &s, report, sizeof(report)), 0);
	assert_int_equal(s.len, UNLOCK_PASS_MAX - 1);
	assert_memory_equal(s.pass, big, UNLOCK_PASS_MAX - 1);
	unlock_secret_free(&s);
	free(big);
}

static void test_pipe_too_long(void **state)
{
	struct unlock_secret s;
	char report[256];
	uint8_t *big = malloc(UNLOCK_PASS_MAX + 100);
	int fd;

	(void)state;
	assert_non_null(big);
	memset(big, 'x', UNLOCK_PASS_MAX + 100);
	set_env_pass(ENV_PASS);
	for (size_t n = UNLOCK_PASS_MAX; n <= UNLOCK_PASS_MAX + 100; n += 100) {
		fd = pipe_with(big, n);
		assert_int_equal(unlock_resolve(fd, &s, report, sizeof(report)),
				 IDW_EUNLOCK);
		assert_null(s.pass);
		assert_int_equal(s.len, 0);
		assert_non_null(strstr(report, "interactive"));
		assert_non_null(strstr(report, "longer than"));
		assert_false(fd_open(fd));
		/* A present but unusable pipe does not fall back to env. */
		assert_null(getenv("IDW_PASSPHRASE"));
		set_env_pass(ENV_PASS);
	}
	unsetenv("IDW_PASSPHRASE");
	free(big);
}

static void test_pipe_empty(void **state)
{
	struct unlock_secret s;
	char report[256];
	int fd;

	(void)state;
	fd = pipe_with("", 0);
	assert_int_equal(unlock_resolve(fd, &s, report, sizeof(report)),
			 IDW_EUNLOCK);
	assert_null(s.pass);
	assert_non_null(strstr(report, "interactive"));
	assert_non_null(strstr(report, "empty"));
	assert_false(fd_open(fd));
}

static void test_pipe_read_error(void **state)
{
	struct unlock_secret s;
	char report[256];
	int fd = open("/", O_RDONLY | O_DIRECTORY);

	(void)state;
	/* read() on a directory fails: reported, not taken as empty. */
	assert_true(fd >= 0);
	assert_int_equal(unlock_resolve(fd, &s, report, sizeof(report)),
			 IDW_EUNLOCK);
	assert_null(s.pass);
	assert_non_null(strstr(report, "interactive"));
	assert_false(fd_open(fd));
}

static void test_none(void **state)
{
	struct unlock_secret s;
	char report[256];

	(void)state;
	memset(&s, 0xaa, sizeof(s));
	assert_int_equal(unlock_resolve(-1, &s, report, sizeof(report)),
			 IDW_ENOENT);
	assert_null(s.pass);
	assert_null(s.source);
	assert_int_equal(s.len, 0);
	assert_non_null(strstr(report, "IDW_PASSPHRASE"));
	/* Set but empty counts as absent, and is cleared too. */
	set_env_pass("");
	assert_int_equal(unlock_resolve(-1, &s, report, sizeof(report)),
			 IDW_ENOENT);
	assert_non_null(strstr(report, "IDW_PASSPHRASE"));
	assert_null(getenv("IDW_PASSPHRASE"));
	/* A short report buffer is cut, not overrun. */
	{
		char small[8];

		memset(small, 'z', sizeof(small));
		assert_int_equal(unlock_resolve(-1, &s, small, 5), IDW_ENOENT);
		assert_int_equal(strlen(small), 4);
		assert_int_equal(small[5], 'z');
	}
}

static void test_scrub_env(void **state)
{
	(void)state;
	set_env_pass("scrub me");
	unlock_scrub_env("IDW_PASSPHRASE");
	assert_null(getenv("IDW_PASSPHRASE"));
	env_entry_wiped(strlen("scrub me"));
	/* Absent: nothing happens. */
	unlock_scrub_env("IDW_PASSPHRASE");
	unlock_scrub_env("IDW_NO_SUCH_VARIABLE");
	assert_null(getenv("IDW_PASSPHRASE"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_env, setup),
		cmocka_unit_test_setup(test_pipe_first, setup),
		cmocka_unit_test_setup(test_pipe_bytes_exact, setup),
		cmocka_unit_test_setup(test_pipe_too_long, setup),
		cmocka_unit_test_setup(test_pipe_empty, setup),
		cmocka_unit_test_setup(test_pipe_read_error, setup),
		cmocka_unit_test_setup(test_none, setup),
		cmocka_unit_test_setup(test_scrub_env, setup),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
