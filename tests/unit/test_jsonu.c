/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/jsonu.h"

/* Parse from an exact-size heap copy with no NUL after it. */
static cJSON *parse_n(const char *s, size_t n)
{
	char *c = malloc(n ? n : 1);
	cJSON *j;

	assert_non_null(c);
	memcpy(c, s, n);
	j = idw_json_parse(c, n);
	free(c);
	return j;
}

static cJSON *parse(const char *s)
{
	return parse_n(s, strlen(s));
}

static void test_parse_exact_length(void **state)
{
	cJSON *j;

	(void)state;
	j = parse("{\"a\":1,\"b\":[true,null]}");
	assert_non_null(j);
	assert_int_equal(idw_json_int(j, "a", -1), 1);
	cJSON_Delete(j);
	/* Trailing whitespace is allowed, nothing else is. */
	j = parse("{\"a\":1} \t\r\n");
	assert_non_null(j);
	cJSON_Delete(j);
	assert_null(parse("{\"a\":1}x"));
	assert_null(parse("{} {}"));
	assert_null(parse("{}]"));
	assert_null(parse("1 2"));
	/* A NUL inside the given length is trailing garbage too. */
	assert_null(parse_n("{}\0", 3));
	assert_null(parse_n("{}\0{}", 5));
	/* Only len bytes count: what follows in memory is never read. */
	j = idw_json_parse("{\"a\":2}garbage", 7);
	assert_non_null(j);
	assert_int_equal(idw_json_int(j, "a", -1), 2);
	cJSON_Delete(j);
	/* Scalars ending exactly at the end of the buffer. */
	j = parse("12345");
	assert_non_null(j);
	assert_true(cJSON_IsNumber(j));
	cJSON_Delete(j);
	j = parse("\"abc\"");
	assert_non_null(j);
	assert_string_equal(j->valuestring, "abc");
	cJSON_Delete(j);
	j = parse("true");
	assert_non_null(j);
	cJSON_Delete(j);
}

static void test_parse_refusals(void **state)
{
	(void)state;
	assert_null(idw_json_parse(NULL, 5));
	assert_null(idw_json_parse("{}", 0));
	assert_null(parse("{\"a\":"));
	assert_null(parse("{\"a\""));
	assert_null(parse("[1,2"));
	assert_null(parse("\"abc"));
	assert_null(parse("tru"));
	assert_null(parse("   "));
	assert_null(parse("{'a':1}"));
	assert_null(parse_n("{\"a\":1}", 6));
}

static void test_getters(void **state)
{
	cJSON *j;

	(void)state;
	j = parse("{\"s\":\"str\",\"n\":42.9,\"neg\":-7,\"t\":true,\"f\":false,"
		  "\"z\":null,\"huge\":1e300,\"o\":{}}");
	assert_non_null(j);
	assert_string_equal(idw_json_str(j, "s"), "str");
	assert_null(idw_json_str(j, "n"));
	assert_null(idw_json_str(j, "missing"));
	assert_null(idw_json_str(j, "S")); /* keys are case-sensitive */
	assert_true(idw_json_bool(j, "t", false));
	assert_false(idw_json_bool(j, "f", true));
	assert_true(idw_json_bool(j, "s", true));
	assert_false(idw_json_bool(j, "missing", false));
	assert_int_equal(idw_json_int(j, "n", 0), 42);
	assert_int_equal(idw_json_int(j, "neg", 0), -7);
	assert_int_equal(idw_json_int(j, "s", 5), 5);
	assert_int_equal(idw_json_int(j, "huge", 5), 5);
	assert_int_equal(idw_json_int(j, "missing", 6), 6);
	assert_true(idw_json_str_or_absent(j, "s"));
	assert_true(idw_json_str_or_absent(j, "z"));
	assert_true(idw_json_str_or_absent(j, "missing"));
	assert_false(idw_json_str_or_absent(j, "n"));
	assert_false(idw_json_str_or_absent(j, "o"));
	cJSON_Delete(j);
}

static void test_print(void **state)
{
	cJSON *j = parse("{ \"a\" : [ 1 , \"x\" ] }");
	char *s;

	(void)state;
	assert_non_null(j);
	s = idw_json_print(j);
	assert_non_null(s);
	assert_string_equal(s, "{\"a\":[1,\"x\"]}");
	cJSON_free(s);
	cJSON_Delete(j);
}

#define U(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(idw_utf8_valid(U("")));
	assert_true(idw_utf8_valid(U("plain ascii \x01\x7f")));
	assert_true(idw_utf8_valid(U("\xc2\x80")));	    /* U+0080 */
	assert_true(idw_utf8_valid(U("\xdf\xbf")));	    /* U+07FF */
	assert_true(idw_utf8_valid(U("\xe0\xa0\x80")));	    /* U+0800 */
	assert_true(idw_utf8_valid(U("\xed\x9f\xbf")));	    /* U+D7FF */
	assert_true(idw_utf8_valid(U("\xee\x80\x80")));	    /* U+E000 */
	assert_true(idw_utf8_valid(U("\xef\xbf\xbf")));	    /* U+FFFF */
	assert_true(idw_utf8_valid(U("\xf0\x90\x80\x80"))); /* U+10000 */
	assert_true(idw_utf8_valid(U("\xf4\x8f\xbf\xbf"))); /* U+10FFFF */
	assert_true(idw_utf8_valid(U("caf\xc3\xa9 \xf0\x9f\x94\x91")));
	/* A NUL byte is valid UTF-8; JSON escaping handles it. */
	assert_true(idw_utf8_valid((const uint8_t *)"a\0b", 3));
}

static void test_utf8_overlongs(void **state)
{
	(void)state;
	assert_false(idw_utf8_valid(U("\xc0\x80")));
	assert_false(idw_utf8_valid(U("\xc0\xaf")));
	assert_false(idw_utf8_valid(U("\xc1\xbf")));
	assert_false(idw_utf8_valid(U("\xe0\x80\x80")));
	assert_false(idw_utf8_valid(U("\xe0\x80\xaf")));
	assert_false(idw_utf8_valid(U("\xe0\x9f\xbf")));
	assert_false(idw_utf8_valid(U("\xf0\x80\x80\x80")));
	assert_false(idw_utf8_valid(U("\xf0\x8f\xbf\xbf")));
}

static void test_utf8_surrogates_and_range(void **state)
{
	(void)state;
	assert_false(idw_utf8_valid(U("\xed\xa0\x80"))); /* U+D800 */
	assert_false(idw_utf8_valid(U("\xed\xaf\xbf"))); /* U+DBFF */
	assert_false(idw_utf8_valid(U("\xed\xb0\x80"))); /* U+DC00 */
	assert_false(idw_utf8_valid(U("\xed\xbf\xbf"))); /* U+DFFF */
	/* A CESU-8 pair for U+1F600 */
	assert_false(idw_utf8_valid(U("\xed\xa0\xbd\xed\xb8\x80")));
	assert_false(idw_utf8_valid(U("\xf4\x90\x80\x80"))); /* U+110000 */
	assert_false(idw_utf8_valid(U("\xf4\xbf\xbf\xbf")));
	assert_false(idw_utf8_valid(U("\xf5\x80\x80\x80")));
	assert_false(idw_utf8_valid(U("\xf7\xbf\xbf\xbf")));
	assert_false(idw_utf8_valid(U("\xf8\x88\x80\x80\x80")));
	assert_false(idw_utf8_valid(U("\xfe")));
	assert_false(idw_utf8_valid(U("\xff")));
}

static void test_utf8_truncated_and_stray(void **state)
{
	(void)state;
	assert_false(idw_utf8_valid(U("\xc3")));
	assert_false(idw_utf8_valid(U("ab\xc3")));
	assert_false(idw_utf8_valid(U("\xe2\x82")));
	assert_false(idw_utf8_valid(U("\xf0\x9f\x98")));
	assert_false(idw_utf8_valid(U("\xf0\x9f")));
	assert_false(idw_utf8_valid(U("\x80")));
	assert_false(idw_utf8_valid(U("a\xbf"
				      "b")));
	assert_false(idw_utf8_valid(U("\xc3\x28")));
	assert_false(idw_utf8_valid(U("\xe2\x28\xa1")));
	assert_false(idw_utf8_valid(U("\xf0\x9f\x98\x28")));
	/* The length given is the end even when more bytes follow. */
	assert_false(idw_utf8_valid((const uint8_t *)"\xc3\xa9", 1));
}

static char *escaped(const void *s, size_t n, int *r)
{
	struct idw_buf out;
	char *c;

	idw_buf_init(&out, 1 << 20, 0);
	*r = idw_json_escape(&out, s, n);
	c = calloc(1, out.len + 1);
	assert_non_null(c);
	if (out.len)
		memcpy(c, out.d, out.len);
	idw_buf_free(&out);
	return c;
}

static void check_escape(const void *s, size_t n, const char *want)
{
	int r;
	char *got = escaped(s, n, &r);

	assert_int_equal(r, 0);
	assert_string_equal(got, want);
	free(got);
}

static void test_escape(void **state)
{
	(void)state;
	check_escape("", 0, "");
	check_escape("plain", 5, "plain");
	check_escape("a\"b\\c", 5, "a\\\"b\\\\c");
	check_escape("\n\r\t", 3, "\\n\\r\\t");
	check_escape("\x01\x1f\x7f", 3, "\\u0001\\u001f\\u007f");
	check_escape("a\0b", 3, "a\\u0000b");
	check_escape("\b\f", 2, "\\u0008\\u000c");
	check_escape("/", 1, "/");
	/* Valid UTF-8 goes through unchanged, bidi controls included. */
	check_escape("caf\xc3\xa9\xe2\x80\xae", 8, "caf\xc3\xa9\xe2\x80\xae");
}

static void test_escape_refuses_invalid_utf8(void **state)
{
	struct idw_buf out;

	(void)state;
	idw_buf_init(&out, 1024, 0);
	assert_int_equal(idw_json_escape(&out, U("ok\xff")), IDW_EINVAL);
	assert_int_equal(idw_json_escape(&out, U("\xc0\x80")), IDW_EINVAL);
	assert_int_equal(idw_json_escape(&out, U("\xed\xa0\x80")), IDW_EINVAL);
	assert_int_equal(idw_json_escape(&out, U("\xe2\x82")), IDW_EINVAL);
	/* Refused before anything was written. */
	assert_int_equal(out.len, 0);
	idw_buf_free(&out);

	idw_buf_init(&out, 4, 0);
	assert_int_equal(idw_json_escape(&out, U("\x01")), IDW_ETOOBIG);
	idw_buf_free(&out);
}

/* Every byte value that can start a UTF-8 char survives escape + parse. */
static void test_escape_parses_back(void **state)
{
	uint8_t all[128];
	struct idw_buf out;
	cJSON *j;

	(void)state;
	for (int i = 0; i < 127; i++)
		all[i] = (uint8_t)(i + 1);
	all[127] = 0;
	idw_buf_init(&out, 4096, 0);
	assert_int_equal(idw_buf_put_u8(&out, '"'), 0);
	assert_int_equal(idw_json_escape(&out, all, 127), 0);
	assert_int_equal(idw_json_escape(&out, U("\xf0\x9f\x94\x91")), 0);
	assert_int_equal(idw_buf_put_u8(&out, '"'), 0);
	j = idw_json_parse((const char *)out.d, out.len);
	assert_non_null(j);
	assert_true(cJSON_IsString(j));
	assert_int_equal(strlen(j->valuestring), 127 + 4);
	assert_memory_equal(j->valuestring, all, 127);
	assert_memory_equal(j->valuestring + 127, "\xf0\x9f\x94\x91", 4);
	cJSON_Delete(j);
	idw_buf_free(&out);
}

static char *splice(const char *tmpl, const char *marker, const char *v,
		    size_t vn, int *r)
{
	struct idw_buf out;
	char *c;

	idw_buf_init(&out, 4096, 0);
	*r = idw_json_splice(&out, tmpl, marker, (const uint8_t *)v, vn);
	c = calloc(1, out.len + 1);
	assert_non_null(c);
	if (out.len)
		memcpy(c, out.d, out.len);
	idw_buf_free(&out);
	return c;
}

static void test_splice(void **state)
{
	const char *tmpl =
		"{\"id\":\"pp_1\",\"value\":\"@@IDW-VALUE@@\",\"n\":1}";
	char *s;
	cJSON *j;
	int r;

	(void)state;
	s = splice(tmpl, "@@IDW-VALUE@@", "se\"cr\\et\n", 9, &r);
	assert_int_equal(r, 0);
	assert_string_equal(
		s, "{\"id\":\"pp_1\",\"value\":\"se\\\"cr\\\\et\\n\",\"n\":1}");
	j = idw_json_parse(s, strlen(s));
	assert_non_null(j);
	assert_string_equal(idw_json_str(j, "value"), "se\"cr\\et\n");
	assert_int_equal(idw_json_int(j, "n", 0), 1);
	cJSON_Delete(j);
	free(s);

	/* The marker may be given with its quotes; they stay in place. */
	s = splice(tmpl, "\"@@IDW-VALUE@@\"", "true", 4, &r);
	assert_int_equal(r, 0);
	assert_string_equal(s, "{\"id\":\"pp_1\",\"value\":\"true\",\"n\":1}");
	free(s);

	/* An empty value. */
	s = splice(tmpl, "@@IDW-VALUE@@", "", 0, &r);
	assert_int_equal(r, 0);
	assert_string_equal(s, "{\"id\":\"pp_1\",\"value\":\"\",\"n\":1}");
	free(s);
}

static void test_splice_refusals(void **state)
{
	char *s;
	int r;

	(void)state;
	s = splice("{\"value\":\"x\"}", "@@IDW-VALUE@@", "v", 1, &r);
	assert_int_equal(r, IDW_EINVAL);
	free(s);
	s = splice("{\"value\":\"@@M@@\"}", "@@M@@", "\xff", 1, &r);
	assert_int_equal(r, IDW_EINVAL);
	free(s);
	/*
	 * The marker must occur exactly once: a name that happens to hold
	 * the marker must not receive the value instead of its field.
	 */
	s = splice("{\"name\":\"@@M@@\",\"value\":\"@@M@@\"}", "@@M@@", "v", 1,
		   &r);
	assert_int_equal(r, IDW_EINVAL);
	free(s);
	s = splice("{\"value\":\"x\"}", "", "v", 1, &r);
	assert_int_equal(r, IDW_EINVAL);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_exact_length),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_overlongs),
		cmocka_unit_test(test_utf8_surrogates_and_range),
		cmocka_unit_test(test_utf8_truncated_and_stray),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_refuses_invalid_utf8),
		cmocka_unit_test(test_escape_parses_back),
		cmocka_unit_test(test_splice),
		cmocka_unit_test(test_splice_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
