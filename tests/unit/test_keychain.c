/* SPDX-License-Identifier: ISC */
/*
 * keychain/keychain.c: the helper is exec'd with only the session-bus
 * variables, its one-line answers are understood, and a helper that never
 * answers is killed at the timeout.  With IDW_TEST_REAL_KEYRING set (run
 * inside tests/lib/keyring-session.sh) the real helper stores, finds and
 * deletes a key in a real gnome-keyring.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/idwtime.h"
#include "keychain/keychain.h"

static const char *vid = "0123456789abcdef0123456789abcdef";
static char dir[] = "/tmp/idw-kc-XXXXXX";

static void fake_helper(const char *body)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/helper", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(path, 0700);
	setenv("IDW_KEYCHAIN_HELPER", path, 1);
	setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent", 1);
}

static int setup(void **state)
{
	(void)state;
	if (getenv("IDW_TEST_REAL_KEYRING") != NULL)
		return 0;
	assert_non_null(mkdtemp(dir));
	return 0;
}

static void test_no_bus_is_skipped_at_once(void **state)
{
	uint8_t key[KC_KEY_LEN];
	char why[256];
	uint64_t t0 = idw_boot_ms();

	(void)state;
	unsetenv("DBUS_SESSION_BUS_ADDRESS");
	unsetenv("XDG_RUNTIME_DIR");
	assert_false(kc_bus_present());
	assert_int_equal(kc_lookup(vid, key, why, sizeof(why)), IDW_ENOENT);
	assert_non_null(strstr(why, "no session bus"));
	assert_true(idw_boot_ms() - t0 < 100);
}

static void test_answers_are_understood(void **state)
{
	uint8_t key[KC_KEY_LEN], want[KC_KEY_LEN];
	char why[256];

	(void)state;
	fake_helper("echo ok 000102030405060708090a0b0c0d0e0f101112131415161718"
		    "191a1b1c1d1e1f");
	assert_int_equal(kc_lookup(vid, key, why, sizeof(why)), 0);
	for (int i = 0; i < KC_KEY_LEN; i++)
		want[i] = (uint8_t)i;
	assert_memory_equal(key, want, KC_KEY_LEN);
	fake_helper("echo none");
	assert_int_equal(kc_lookup(vid, key, why, sizeof(why)), IDW_ENOENT);
	assert_non_null(strstr(why, "idw auth login"));
	fake_helper("echo error the keyring is locked");
	assert_int_equal(kc_lookup(vid, key, why, sizeof(why)), IDW_EUNLOCK);
	assert_non_null(strstr(why, "the keyring is locked"));
	fake_helper("echo ok nothex");
	assert_int_equal(kc_lookup(vid, key, why, sizeof(why)), IDW_EUNLOCK);
	fake_helper("exit 3");
	assert_int_equal(kc_lookup(vid, key, why, sizeof(why)), IDW_EUNLOCK);
}

static void test_helper_gets_only_bus_variables(void **state)
{
	uint8_t key[KC_KEY_LEN] = {0};
	char why[256], body[1024], path[128], buf[2048];
	FILE *f;
	size_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/env.out", dir);
	snprintf(body, sizeof(body),
		 "env > %s; echo \"$1 $2\" >> %s; cat >> %s; echo ok", path,
		 path, path);
	fake_helper(body);
	setenv("IDW_PASSPHRASE", "must-not-leak", 1);
	setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
	assert_int_equal(kc_store(vid, key, why, sizeof(why)), 0);
	unsetenv("IDW_PASSPHRASE");
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	assert_null(strstr(buf, "must-not-leak"));
	assert_null(strstr(buf, "PATH="));
	assert_non_null(strstr(buf, "DBUS_SESSION_BUS_ADDRESS=unix:path="));
	assert_non_null(strstr(buf, "XDG_RUNTIME_DIR=/run/user/4242"));
	assert_non_null(strstr(buf, "store 0123456789abcdef"));
	/* the key went over stdin as hex, never in argv */
	assert_non_null(strstr(buf, "\n0000000000000000000000000000000000000"));
	unsetenv("XDG_RUNTIME_DIR");
}

static void test_silent_helper_is_killed_at_timeout(void **state)
{
	uint8_t key[KC_KEY_LEN];
	char why[256], body[512], pidfile[128], buf[32];
	uint64_t t0;
	FILE *f;
	long pid;

	(void)state;
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	snprintf(body, sizeof(body), "echo $$ > %s; exec sleep 30", pidfile);
	fake_helper(body);
	setenv("IDW_KEYCHAIN_TIMEOUT", "300", 1);
	t0 = idw_boot_ms();
	assert_int_equal(kc_lookup(vid, key, why, sizeof(why)), IDW_EUNLOCK);
	assert_true(idw_boot_ms() - t0 < 1500);
	assert_non_null(strstr(why, "no answer within 300 ms"));
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	pid = strtol(buf, NULL, 10);
	assert_true(pid > 0);
	assert_int_equal(kill((pid_t)pid, 0), -1); /* gone, and reaped */
	unsetenv("IDW_KEYCHAIN_TIMEOUT");
}

static void test_real_keyring_round_trip(void **state)
{
	uint8_t key[KC_KEY_LEN], back[KC_KEY_LEN];
	char why[256];

	(void)state;
	if (getenv("IDW_TEST_REAL_KEYRING") == NULL)
		skip();
	randombytes_buf(key, sizeof(key));
	assert_true(kc_bus_present());
	assert_int_equal(kc_lookup(vid, back, why, sizeof(why)), IDW_ENOENT);
	assert_int_equal(kc_store(vid, key, why, sizeof(why)), 0);
	assert_int_equal(kc_lookup(vid, back, why, sizeof(why)), 0);
	assert_memory_equal(key, back, KC_KEY_LEN);
	assert_int_equal(kc_delete(vid, why, sizeof(why)), 0);
	assert_int_equal(kc_lookup(vid, back, why, sizeof(why)), IDW_ENOENT);
	assert_int_equal(kc_delete(vid, why, sizeof(why)), IDW_ENOENT);
}

int main(void)
{
	const struct CMUnitTest fake[] = {
		cmocka_unit_test(test_no_bus_is_skipped_at_once),
		cmocka_unit_test(test_answers_are_understood),
		cmocka_unit_test(test_helper_gets_only_bus_variables),
		cmocka_unit_test(test_silent_helper_is_killed_at_timeout),
	};
	const struct CMUnitTest real[] = {
		cmocka_unit_test(test_real_keyring_round_trip),
	};

	if (sodium_init() < 0)
		return 1;
	if (getenv("IDW_TEST_REAL_KEYRING") != NULL)
		return cmocka_run_group_tests(real, setup, NULL);
	return cmocka_run_group_tests(fake, setup, NULL);
}
