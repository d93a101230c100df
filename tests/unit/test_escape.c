/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/escape.h"

static void check_display(const char *in, const char *want)
{
	struct idw_buf out;

	idw_buf_init(&out, 1 << 16, 0);
	assert_int_equal(idw_escape_display(&out, in), 0);
	/* NUL-terminated, with the terminator outside len. */
	assert_non_null(out.d);
	assert_int_equal(out.d[out.len], '\0');
	assert_int_equal(strlen((const char *)out.d), out.len);
	assert_string_equal((const char *)out.d, want);
	idw_buf_free(&out);
}

static void check_csv(const char *in, const char *want)
{
	struct idw_buf out;
	char *s;

	idw_buf_init(&out, 1 << 16, 0);
	assert_int_equal(idw_escape_csv(&out, in), 0);
	s = calloc(1, out.len + 1);
	assert_non_null(s);
	memcpy(s, out.d, out.len);
	assert_string_equal(s, want);
	free(s);
	idw_buf_free(&out);
}

static void test_display_plain(void **state)
{
	(void)state;
	check_display("", "");
	check_display(NULL, "");
	check_display("deploy to prod", "deploy to prod");
	check_display("quotes \" and \\ stay", "quotes \" and \\ stay");
	/* Printable non-ASCII text is kept as it is. */
	check_display("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91",
		      "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91");
}

static void test_display_controls(void **state)
{
	(void)state;
	check_display("a\x01"
		      "b",
		      "a\\x01b");
	check_display("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m");
	check_display("line\nnext\r\ttab", "line\\x0anext\\x0d\\x09tab");
	check_display("\x7f", "\\x7f");
	check_display("\x1f", "\\x1f");
	/* C1 controls (U+0080..U+009F), e.g. CSI U+009B and NEL U+0085. */
	check_display("\xc2\x9b"
		      "31m",
		      "\\x9b31m");
	check_display("\xc2\x85", "\\x85");
	check_display("\xc2\xa0", "\xc2\xa0"); /* U+00A0 is printable */
}

static void test_display_flags_bidi_and_zero_width(void **state)
{
	(void)state;
	check_display("a\xe2\x80\xae"
		      "b",
		      "a[U+202E]b"); /* RLO */
	check_display("\xe2\x80\xaa\xe2\x80\xac", "[U+202A][U+202C]");
	check_display("\xe2\x81\xa6x\xe2\x81\xa9", "[U+2066]x[U+2069]");
	check_display("\xe2\x80\x8f", "[U+200F]"); /* RLM */
	check_display("\xd8\x9c", "[U+061C]");	   /* ALM */
	check_display("a\xe2\x80\x8b"
		      "b",
		      "a[U+200B]b");		   /* ZWSP */
	check_display("\xe2\x80\x8d", "[U+200D]"); /* ZWJ */
	check_display("\xe2\x81\xa0", "[U+2060]"); /* word joiner */
	check_display("\xef\xbb\xbf"
		      "x",
		      "[U+FEFF]x"); /* BOM */
	/* Neighbours of the flagged ranges are ordinary text. */
	check_display("\xe2\x80\x90", "\xe2\x80\x90"); /* U+2010 hyphen */
	check_display("\xe2\x80\xaf", "\xe2\x80\xaf"); /* U+202F */
}

static void test_display_invalid_bytes(void **state)
{
	(void)state;
	check_display("\xff", "\\xff");
	check_display("a\x80"
		      "b",
		      "a\\x80b");
	check_display("\xc0\xaf", "\\xc0\\xaf");	  /* overlong '/' */
	check_display("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* surrogate */
	check_display("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80");
	check_display("ok\xe2\x80", "ok\\xe2\\x80"); /* truncated */
	check_display("\xe2\x80x", "\\xe2\\x80x");
	check_display("\xc3\xa9\xc3", "\xc3\xa9\\xc3");
}

static void test_display_cap(void **state)
{
	char in[1200], want[1200];

	(void)state;
	/* Exactly the cap: nothing is cut. */
	memset(in, 'a', 256);
	in[256] = '\0';
	check_display(in, in);
	/* One more: 256 characters, then "...". */
	memset(in, 'a', 257);
	in[257] = '\0';
	memset(want, 'a', 256);
	memcpy(want + 256, "...", 4);
	check_display(in, want);
	memset(in, 'a', 1000);
	in[1000] = '\0';
	check_display(in, want);

	/* The cap counts characters, not bytes. */
	for (int i = 0; i < 300; i++)
		memcpy(in + 2 * i, "\xc3\xa9", 2);
	in[600] = '\0';
	for (int i = 0; i < 256; i++)
		memcpy(want + 2 * i, "\xc3\xa9", 2);
	memcpy(want + 512, "...", 4);
	check_display(in, want);

	/* An escape counts as one character, however long it prints. */
	memset(in, '\x01', 300);
	in[300] = '\0';
	for (int i = 0; i < 256; i++)
		memcpy(want + 4 * i, "\\x01", 4);
	memcpy(want + 1024, "...", 4);
	check_display(in, want);
}

static void test_display_buffer_bound(void **state)
{
	struct idw_buf out;

	(void)state;
	idw_buf_init(&out, 8, 0);
	assert_int_equal(idw_escape_display(&out, "\x01\x02\x03"), IDW_ETOOBIG);
	idw_buf_free(&out);
}

static void test_csv(void **state)
{
	(void)state;
	check_csv("plain", "\"plain\"");
	check_csv("", "\"\"");
	check_csv(NULL, "\"\"");
	check_csv("say \"hi\"", "\"say \"\"hi\"\"\"");
	check_csv("a,b\nc", "\"a,b\nc\"");
	check_csv("a=b", "\"a=b\"");
	check_csv("1+1", "\"1+1\"");
}

static void test_csv_formula_guard(void **state)
{
	(void)state;
	check_csv("=1+2", "\"'=1+2\"");
	check_csv("=HYPERLINK(\"http://x\")",
		  "\"'=HYPERLINK(\"\"http://x\"\")\"");
	check_csv("+1", "\"'+1\"");
	check_csv("-1", "\"'-1\"");
	check_csv("@SUM(A1)", "\"'@SUM(A1)\"");
	check_csv("=", "\"'=\"");
	check_csv("'=already", "\"'=already\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_display_plain),
		cmocka_unit_test(test_display_controls),
		cmocka_unit_test(test_display_flags_bidi_and_zero_width),
		cmocka_unit_test(test_display_invalid_bytes),
		cmocka_unit_test(test_display_cap),
		cmocka_unit_test(test_display_buffer_bound),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_formula_guard),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
