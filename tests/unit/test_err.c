/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"

/*
 * Codes run from IDW_OK down without gaps; the last one is the first code
 * below IDW_ERR that falls back to the generic row.  Found at run time so
 * that a code added to err.h is covered here without editing this file.
 */
#define FIRST_CODE IDW_OK

static int last_code(void)
{
	int c = IDW_ERR;

	while (c > -1000 && strcmp(idw_err_name(c - 1), "error") != 0)
		c--;
	return c;
}

/* The wire names and exit statuses promised by docs/protocol.md. */
static const struct {
	int code;
	const char *name;
	int exit_status;
} protocol[] = {
	{IDW_ERR, "error", 1},
	{IDW_EINVAL, "invalid", 1},
	{IDW_EIO, "io", 1},
	{IDW_ECORRUPT, "corrupt", 1},
	{IDW_ENOENT, "not_found", 1},
	{IDW_EEXIST, "exists", 1},
	{IDW_ETOOBIG, "too_big", 1},
	{IDW_EUSAGE, "usage", 2},
	{IDW_EDENIED, "denied", 3},
	{IDW_EPENDING, "pending", 4},
	{IDW_EUNLOCK, "unlock_failed", 5},
	{IDW_ELOCKED, "locked", 5},
	{IDW_ENOVAULT, "no_vault", 5},
	{IDW_EPROOF, "proof_failed", 6},
};

static void test_protocol_names_and_exits(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(protocol) / sizeof(protocol[0]); i++) {
		assert_string_equal(idw_err_name(protocol[i].code),
				    protocol[i].name);
		assert_int_equal(idw_err_exit(protocol[i].code),
				 protocol[i].exit_status);
		assert_int_equal(idw_err_from_name(protocol[i].name),
				 protocol[i].code);
	}
	assert_string_equal(idw_err_name(IDW_OK), "ok");
	assert_int_equal(idw_err_exit(IDW_OK), 0);
}

static void test_every_code_distinct_and_round_trips(void **state)
{
	const int last = last_code();

	(void)state;
	/* At least every code this test was written against. */
	assert_true(last <= IDW_ETRUNCATED);
	for (int c = FIRST_CODE; c >= last; c--) {
		const char *name = idw_err_name(c);
		const char *text = idw_strerror(c);

		assert_non_null(name);
		assert_non_null(text);
		assert_true(strlen(text) > 0);
		/* A code with its own row names itself, not "error". */
		if (c != IDW_ERR)
			assert_string_not_equal(name, "error");
		assert_int_equal(idw_err_from_name(name), c);
		for (int d = c - 1; d >= last; d--)
			assert_string_not_equal(name, idw_err_name(d));
		if (c != IDW_OK)
			assert_true(idw_err_exit(c) >= 1 &&
				    idw_err_exit(c) <= 6);
	}
}

static void test_unknown_code_is_generic(void **state)
{
	(void)state;
	assert_string_equal(idw_err_name(last_code() - 1), "error");
	assert_string_equal(idw_err_name(1), "error");
	assert_string_equal(idw_err_name(-1000), "error");
	assert_string_equal(idw_strerror(-1000), idw_strerror(IDW_ERR));
	assert_int_equal(idw_err_exit(-1000), 1);
}

static void test_unknown_name_is_generic(void **state)
{
	(void)state;
	assert_int_equal(idw_err_from_name(NULL), IDW_ERR);
	assert_int_equal(idw_err_from_name(""), IDW_ERR);
	assert_int_equal(idw_err_from_name("no_such_code"), IDW_ERR);
	/* Names are exact: no prefix or case folding. */
	assert_int_equal(idw_err_from_name("Locked"), IDW_ERR);
	assert_int_equal(idw_err_from_name("lock"), IDW_ERR);
}

static void test_messages_say_what_to_do(void **state)
{
	(void)state;
	assert_non_null(strstr(idw_strerror(IDW_ELOCKED), "idw unlock"));
	assert_non_null(strstr(idw_strerror(IDW_ENOVAULT), "idw init"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocol_names_and_exits),
		cmocka_unit_test(test_every_code_distinct_and_round_trips),
		cmocka_unit_test(test_unknown_code_is_generic),
		cmocka_unit_test(test_unknown_name_is_generic),
		cmocka_unit_test(test_messages_say_what_to_do),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
