/* SPDX-License-Identifier: ISC */
/*
 * keychain/dotenv.c: the .env grammar of DESIGN "Unlock chain" (export
 * prefix, unquoted values up to " #", literal single quotes, double quotes
 * with only \\ \" \n, no expansion, duplicate keys refused, CRLF, a last
 * line without newline, malformed lines named by number, the size bound)
 * and the checks on the file itself (ours, regular, not a link, mode 0600,
 * never blocking on a FIFO).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keychain/dotenv.h"

static char dir[] = "/tmp/idw-dotenv-XXXXXX";

static int get(const char *text, const char *key, uint8_t **val, size_t *vlen,
	       char *why, size_t whylen)
{
	return dotenv_get(text, strlen(text), key, val, vlen, why, whylen);
}

static void assert_value(const char *text, const char *key, const char *want)
{
	uint8_t *val = (uint8_t *)"stale";
	size_t vlen = 99;
	char why[256] = "";

	if (get(text, key, &val, &vlen, why, sizeof(why)) != 0)
		fail_msg("%s in [%s]: %s", key, text, why);
	assert_non_null(val);
	assert_int_equal(vlen, strlen(want));
	assert_memory_equal(val, want, vlen);
	assert_int_equal(val[vlen], '\0');
	sodium_free(val);
}

/* Refused with code, nothing handed out, why containing each of want[]. */
static void assert_refused(const char *text, const char *key, int code,
			   const char *want1, const char *want2)
{
	uint8_t *val = (uint8_t *)"stale";
	size_t vlen = 99;
	char why[256] = "";
	int r;

	r = get(text, key, &val, &vlen, why, sizeof(why));
	if (r != code)
		fail_msg("[%s]: %d (%s), not %d", text, r, why, code);
	assert_null(val);
	assert_int_equal(vlen, 0);
	if (want1 != NULL && strstr(why, want1) == NULL)
		fail_msg("[%s]: \"%s\" does not say \"%s\"", text, why, want1);
	if (want2 != NULL && strstr(why, want2) == NULL)
		fail_msg("[%s]: \"%s\" does not say \"%s\"", text, why, want2);
}

static void test_key_value_and_export(void **state)
{
	(void)state;
	assert_value("K=value\n", "K", "value");
	assert_value("export K=value\n", "K", "value");
	assert_value("export\tK=value\n", "K", "value");
	assert_value("export   K=value\n", "K", "value");
	assert_value("  \tK=value\n", "K", "value");
	assert_value("  export K=value\n", "K", "value");
	/* "export" is a key like any other when no blank follows it */
	assert_value("export=1\n", "export", "1");
	assert_value("exportK=1\n", "exportK", "1");
	assert_value("A=1\nK=two words here\nB=3\n", "K", "two words here");
	assert_value("IDW_PASSPHRASE=correct horse battery staple\n",
		     "IDW_PASSPHRASE", "correct horse battery staple");
}

static void test_keys_with_digits_and_underscores(void **state)
{
	(void)state;
	assert_value("K1=a\n", "K1", "a");
	assert_value("_K=a\n", "_K", "a");
	assert_value("K_2_x9=a\n", "K_2_x9", "a");
	assert_value("__=a\n", "__", "a");
	assert_value("_1=a\n", "_1", "a");
	assert_value("lower_Case=a\n", "lower_Case", "a");
	/* keys are compared whole, and case matters */
	assert_refused("KEY1=a\n", "KEY", IDW_ENOENT, "KEY", NULL);
	assert_refused("KEY=a\n", "KEY1", IDW_ENOENT, "KEY1", NULL);
	assert_refused("key=a\n", "KEY", IDW_ENOENT, NULL, NULL);
}

static void test_unquoted_values(void **state)
{
	(void)state;
	/* a comment starts at " #" only */
	assert_value("K=abc #comment\n", "K", "abc");
	assert_value("K=abc\t#comment\n", "K", "abc");
	assert_value("K=abc   # comment 'with' \"quotes\"\n", "K", "abc");
	assert_value("K=abc#def\n", "K", "abc#def");
	assert_value("K=#abc\n", "K", "#abc");
	assert_value("K=a##b #c\n", "K", "a##b");
	assert_value("K=a #b #c\n", "K", "a");
	/* trailing blanks dropped, inner ones kept */
	assert_value("K=a b  c  \t \n", "K", "a b  c");
	assert_value("K=a\\nb\\\\c\n", "K", "a\\nb\\\\c");
	assert_value("K=a=b==c\n", "K", "a=b==c");
	assert_value("K==\n", "K", "=");
	assert_value("K=\xc3\xa9t\xc3\xa9\n", "K", "\xc3\xa9t\xc3\xa9");
}

static void test_empty_value_is_present(void **state)
{
	(void)state;
	assert_value("K=\n", "K", "");
	assert_value("K=", "K", "");
	assert_value("K=   \n", "K", "");
	assert_value("K= #nothing\n", "K", "");
	assert_value("K=''\n", "K", "");
	assert_value("K=\"\"\n", "K", "");
	assert_value("export K=\r\n", "K", "");
}

static void test_single_quotes_are_literal(void **state)
{
	(void)state;
	assert_value("K='a b'\n", "K", "a b");
	assert_value("K='a\\nb\\\\c\\'\n", "K", "a\\nb\\\\c\\");
	assert_value("K='$HOME ${HOME} `id` \"x\" #y'\n", "K",
		     "$HOME ${HOME} `id` \"x\" #y");
	assert_value("K='  padded  '\n", "K", "  padded  ");
	assert_value("K='a=b'\n", "K", "a=b");
	assert_value("K='v' # comment\n", "K", "v");
	assert_value("K='v'   \n", "K", "v");
	assert_value("K='v'#c\n", "K", "v");
}

static void test_double_quotes_know_three_escapes(void **state)
{
	static const char *const bad[] = {"\\t",   "\\r", "\\$",     "\\'",
					  "\\x41", "\\0", "\\u00e9", "\\a",
					  "\\ ",   "\\#", "\\N"};
	char text[128];

	(void)state;
	assert_value("K=\"a b\"\n", "K", "a b");
	assert_value("K=\"a\\\\b\"\n", "K", "a\\b");
	assert_value("K=\"a\\\"b\"\n", "K", "a\"b");
	assert_value("K=\"a\\nb\"\n", "K", "a\nb");
	assert_value("K=\"\\\\n\"\n", "K", "\\n");
	assert_value("K=\"\\\\\\\"\\n\"\n", "K", "\\\"\n");
	assert_value("K=\"x #y 'z'\"\n", "K", "x #y 'z'");
	assert_value("K=\"  padded  \"\n", "K", "  padded  ");
	assert_value("K=\"v\" # comment\n", "K", "v");
	/* any other escape is refused, naming the line */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "A=1\n# c\nK=\"x%sy\"\n", bad[i]);
		assert_refused(text, "K", IDW_EINVAL, "line 3", "escape");
		/* the whole file is refused, whatever key is asked */
		assert_refused(text, "A", IDW_EINVAL, "line 3", "escape");
	}
}

static void test_nothing_is_expanded(void **state)
{
	(void)state;
	setenv("IDW_TEST_DOTENV_VAR", "expanded", 1);
	assert_value("K=$IDW_TEST_DOTENV_VAR\n", "K", "$IDW_TEST_DOTENV_VAR");
	assert_value("K=${IDW_TEST_DOTENV_VAR}\n", "K",
		     "${IDW_TEST_DOTENV_VAR}");
	assert_value("K=\"$IDW_TEST_DOTENV_VAR\"\n", "K",
		     "$IDW_TEST_DOTENV_VAR");
	assert_value("K='$IDW_TEST_DOTENV_VAR'\n", "K", "$IDW_TEST_DOTENV_VAR");
	assert_value("K=$HOME/x\n", "K", "$HOME/x");
	assert_value("K=\"$(id)\"\n", "K", "$(id)");
	assert_value("K=~/x\n", "K", "~/x");
	/* nor other keys of the file */
	assert_value("A=secret\nK=$A\n", "K", "$A");
	unsetenv("IDW_TEST_DOTENV_VAR");
}

static void test_duplicate_keys_are_an_error(void **state)
{
	(void)state;
	assert_refused("K=1\nK=2\n", "K", IDW_EINVAL, "line 2", "K");
	assert_refused("K=1\nK=1\n", "K", IDW_EINVAL, "line 2", NULL);
	assert_refused("K=1\nexport K=2\n", "K", IDW_EINVAL, "line 2", NULL);
	/* any key, not only the one asked for */
	assert_refused("A=1\nK=v\n\n# c\nA=2\n", "K", IDW_EINVAL, "line 5",
		       "A is given twice");
	assert_refused("OTHER_1=x\nK=v\nOTHER_1='y'\n", "K", IDW_EINVAL,
		       "line 3", "OTHER_1");
	assert_refused("A=1\nA=2\n", "K", IDW_EINVAL, "line 2", NULL);
	/* a key in a comment does not count */
	assert_value("# K=old\nK=new\n", "K", "new");
	assert_value("K=v # K=w\n", "K", "v");
	/* nor does a key that only shares a prefix */
	assert_value("K=1\nK1=2\nKK=3\n", "K", "1");
}

static void test_blank_and_comment_lines(void **state)
{
	(void)state;
	assert_value("\n\n   \n\t\n# a comment\n  # indented\n#K=no\nK=v\n"
		     "\n# trailing\n",
		     "K", "v");
	assert_value("#\nK=v\n#", "K", "v");
	assert_refused("", "K", IDW_ENOENT, "K", NULL);
	assert_refused("\n\n# only comments\n", "K", IDW_ENOENT, NULL, NULL);
	assert_refused("A=1\nB=2\n", "K", IDW_ENOENT, "not set", NULL);
}

static void test_crlf_and_last_line(void **state)
{
	(void)state;
	assert_value("A=1\r\nK=v\r\nB=2\r\n", "K", "v");
	assert_value("K=v\r\n", "K", "v");
	assert_value("K=v #c\r\n", "K", "v");
	assert_value("K=v  \r\n", "K", "v");
	assert_value("K='v'\r\n", "K", "v");
	assert_value("K=\"v\"\r\n", "K", "v");
	assert_value("\r\n# c\r\nK=v\r\n", "K", "v");
	/* a last line without a newline */
	assert_value("A=1\nK=v", "K", "v");
	assert_value("K=v\r", "K", "v");
	assert_value("K='v'", "K", "v");
	assert_value("K=\"v\"", "K", "v");
	assert_value("K=v #c", "K", "v");
	/* CRLF lines are numbered like LF lines */
	assert_refused("A=1\r\nB=2\r\nbad\r\n", "K", IDW_EINVAL, "line 3",
		       NULL);
}

static void test_malformed_lines_name_the_line(void **state)
{
	static const struct {
		const char *line;
		const char *why;
	} bad[] = {
		{"no_equals_sign", "KEY=VALUE"},
		{"=value", "KEY=VALUE"},
		{"  =value", "KEY=VALUE"},
		{"1K=v", "KEY=VALUE"},
		{"9=v", "KEY=VALUE"},
		{"K-1=v", "KEY=VALUE"},
		{"K.1=v", "KEY=VALUE"},
		{"K =v", "KEY=VALUE"},
		{"K x=v", "KEY=VALUE"},
		{"export", "KEY=VALUE"},
		{"export K", "KEY=VALUE"},
		{"export =v", "KEY=VALUE"},
		{"K='unclosed", "not closed"},
		{"K='", "not closed"},
		{"K=\"unclosed", "not closed"},
		{"K=\"", "not closed"},
		{"K=\"ends in a backslash\\", "not closed"},
		{"K=\"escaped quote\\\"", "not closed"},
		{"K='a'b", "after the closing quote"},
		{"K='a' b", "after the closing quote"},
		{"K='a''b'", "after the closing quote"},
		{"K=\"a\"b", "after the closing quote"},
		{"K=\"a\" \"b\"", "after the closing quote"},
		{"K=\"a\"'b'", "after the closing quote"},
	};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* as the first line, without newline */
		assert_refused(bad[i].line, "K", IDW_EINVAL, "line 1",
			       bad[i].why);
		/* after the key asked for, among blank and comment lines */
		snprintf(text, sizeof(text), "K=good\n\n# c\n%s\nZ=1\n",
			 bad[i].line);
		assert_refused(text, "K", IDW_EINVAL, "line 4", bad[i].why);
		snprintf(text, sizeof(text), "A=1\r\n%s\r\n", bad[i].line);
		assert_refused(text, "A", IDW_EINVAL, "line 2", bad[i].why);
	}
}

static void test_size_bound(void **state)
{
	char *big = malloc(DOTENV_MAX + 2);
	uint8_t *val = NULL;
	size_t vlen = 0;
	char why[256];

	(void)state;
	assert_non_null(big);
	/* exactly DOTENV_MAX bytes: read */
	memset(big, 'x', DOTENV_MAX);
	memcpy(big, "K=v\n#", 5);
	assert_int_equal(
		dotenv_get(big, DOTENV_MAX, "K", &val, &vlen, why, sizeof(why)),
		0);
	assert_int_equal(vlen, 1);
	assert_int_equal(val[0], 'v');
	sodium_free(val);
	/* one more: refused before anything is parsed */
	val = (uint8_t *)"stale";
	assert_int_equal(dotenv_get(big, DOTENV_MAX + 1, "K", &val, &vlen, why,
				    sizeof(why)),
			 IDW_ETOOBIG);
	assert_null(val);
	assert_non_null(strstr(why, "larger than"));
	free(big);
}

static void test_value_may_hold_a_nul(void **state)
{
	static const char text[] = "A=1\nK=a\0b\nB=2\n";
	uint8_t *val = NULL;
	size_t vlen = 0;
	char why[256];

	(void)state;
	assert_int_equal(dotenv_get(text, sizeof(text) - 1, "K", &val, &vlen,
				    why, sizeof(why)),
			 0);
	assert_int_equal(vlen, 3);
	assert_memory_equal(val, "a\0b", 3);
	sodium_free(val);
}

/* Files */

static void path_of(char *path, size_t len, const char *name)
{
	snprintf(path, len, "%s/%s", dir, name);
}

static void write_file(const char *name, const void *data, size_t len,
		       mode_t mode)
{
	char path[256];
	int fd;

	path_of(path, sizeof(path), name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static void assert_file_refused(const char *name, int code, const char *want1,
				const char *want2)
{
	char path[256], why[512] = "", *buf = (char *)"stale";
	size_t len = 99;
	int r;

	path_of(path, sizeof(path), name);
	r = dotenv_read_file(path, &buf, &len, why, sizeof(why));
	if (r != code)
		fail_msg("%s: %d (%s), not %d", name, r, why, code);
	assert_null(buf);
	assert_int_equal(len, 0);
	if (want1 != NULL && strstr(why, want1) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", name, why, want1);
	if (want2 != NULL && strstr(why, want2) == NULL)
		fail_msg("%s: \"%s\" does not say \"%s\"", name, why, want2);
}

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_file_read_exactly(void **state)
{
	static const char body[] = "# idw\nexport IDW_PASSPHRASE='p w'\r\n"
				   "\0\xff\xfe tail without newline";
	char path[256], why[512], *buf = NULL;
	size_t len = 0;
	uint8_t *val = NULL;
	size_t vlen = 0;

	(void)state;
	write_file("good.env", body, sizeof(body) - 1, 0600);
	path_of(path, sizeof(path), "good.env");
	assert_int_equal(dotenv_read_file(path, &buf, &len, why, sizeof(why)),
			 0);
	assert_int_equal(len, sizeof(body) - 1);
	assert_memory_equal(buf, body, len);
	assert_int_equal(buf[len], '\0');
	sodium_free(buf);

	/* 0400 is ours and unreadable by others too */
	write_file("ro.env", "IDW_PASSPHRASE=x\n", 17, 0400);
	path_of(path, sizeof(path), "ro.env");
	assert_int_equal(dotenv_read_file(path, &buf, &len, why, sizeof(why)),
			 0);
	assert_int_equal(dotenv_get(buf, len, "IDW_PASSPHRASE", &val, &vlen,
				    why, sizeof(why)),
			 0);
	assert_int_equal(vlen, 1);
	assert_int_equal(val[0], 'x');
	sodium_free(val);
	sodium_free(buf);

	write_file("empty.env", "", 0, 0600);
	path_of(path, sizeof(path), "empty.env");
	assert_int_equal(dotenv_read_file(path, &buf, &len, why, sizeof(why)),
			 0);
	assert_int_equal(len, 0);
	assert_non_null(buf);
	assert_int_equal(buf[0], '\0');
	sodium_free(buf);
}

static void test_file_missing(void **state)
{
	(void)state;
	assert_file_refused("missing.env", IDW_ENOENT, NULL, NULL);
	assert_file_refused("no-such-dir/.env", IDW_ENOENT, NULL, NULL);
}

static void test_file_symlink_refused(void **state)
{
	char target[256], link[256];

	(void)state;
	write_file("target.env", "K=v\n", 4, 0600);
	path_of(target, sizeof(target), "target.env");
	path_of(link, sizeof(link), "link.env");
	assert_int_equal(symlink(target, link), 0);
	assert_file_refused("link.env", IDW_EPERM, "symbolic link", NULL);
	/* a dangling link is not "missing": it is refused too */
	path_of(link, sizeof(link), "dangling.env");
	assert_int_equal(symlink("/nonexistent/idw/.env", link), 0);
	assert_file_refused("dangling.env", IDW_EPERM, "symbolic link", NULL);
}

static void test_file_mode_refused(void **state)
{
	static const mode_t modes[] = {0640, 0604, 0644, 0660, 0606,
				       0620, 0602, 0610, 0601, 0666};
	char name[64], mode[16];

	(void)state;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		snprintf(name, sizeof(name), "mode-%03o.env",
			 (unsigned)modes[i]);
		snprintf(mode, sizeof(mode), "mode %03o", (unsigned)modes[i]);
		write_file(name, "IDW_PASSPHRASE=x\n", 17, modes[i]);
		assert_file_refused(name, IDW_EPERM, mode, "chmod 600");
		assert_file_refused(name, IDW_EPERM, name, NULL);
	}
}

static void test_file_of_another_uid_refused(void **state)
{
	char path[256];

	(void)state;
	if (geteuid() != 0)
		skip();
	write_file("theirs.env", "IDW_PASSPHRASE=x\n", 17, 0600);
	path_of(path, sizeof(path), "theirs.env");
	/* 65534 may be unmapped in a user namespace */
	if (chown(path, 65534, (gid_t)-1) != 0)
		skip();
	assert_file_refused("theirs.env", IDW_EPERM, "uid 65534", "not to us");
}

static void test_file_not_regular_refused(void **state)
{
	char path[256];

	(void)state;
	path_of(path, sizeof(path), "dir.env");
	assert_int_equal(mkdir(path, 0700), 0);
	assert_file_refused("dir.env", IDW_EPERM, "not a regular file", NULL);

	/* a FIFO with no writer: refused at once, never waited on */
	path_of(path, sizeof(path), "fifo.env");
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(10);
	assert_file_refused("fifo.env", IDW_EPERM, "not a regular file", NULL);
	alarm(0);
}

static void test_file_too_big_refused(void **state)
{
	char *big = malloc(DOTENV_MAX + 1);

	(void)state;
	assert_non_null(big);
	memset(big, '#', DOTENV_MAX + 1);
	write_file("big.env", big, DOTENV_MAX + 1, 0600);
	free(big);
	assert_file_refused("big.env", IDW_EPERM, "larger than", NULL);
}

int main(void)
{
	const struct CMUnitTest grammar[] = {
		cmocka_unit_test(test_key_value_and_export),
		cmocka_unit_test(test_keys_with_digits_and_underscores),
		cmocka_unit_test(test_unquoted_values),
		cmocka_unit_test(test_empty_value_is_present),
		cmocka_unit_test(test_single_quotes_are_literal),
		cmocka_unit_test(test_double_quotes_know_three_escapes),
		cmocka_unit_test(test_nothing_is_expanded),
		cmocka_unit_test(test_duplicate_keys_are_an_error),
		cmocka_unit_test(test_blank_and_comment_lines),
		cmocka_unit_test(test_crlf_and_last_line),
		cmocka_unit_test(test_malformed_lines_name_the_line),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_value_may_hold_a_nul),
	};
	const struct CMUnitTest files[] = {
		cmocka_unit_test(test_file_read_exactly),
		cmocka_unit_test(test_file_missing),
		cmocka_unit_test(test_file_symlink_refused),
		cmocka_unit_test(test_file_mode_refused),
		cmocka_unit_test(test_file_of_another_uid_refused),
		cmocka_unit_test(test_file_not_regular_refused),
		cmocka_unit_test(test_file_too_big_refused),
	};
	int r;

	if (sodium_init() < 0)
		return 1;
	r = cmocka_run_group_tests(grammar, NULL, NULL);
	return r | cmocka_run_group_tests(files, setup, teardown);
}
