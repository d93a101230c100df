/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "client/cli.h"
#include "client/cli_args.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/jsonu.h"

static const struct cli_opt opts[] = {
	{"name", CLI_OPT_VALUE},
	{"platform", CLI_OPT_LIST},
	{"json", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};

#define ARGC(v) ((int)(sizeof(v) / sizeof((v)[0])))

static void test_args_values_and_flags(void **state)
{
	char *argv[] = {"pp_1", "--name", "a b", "--json"};
	char *argv_eq[] = {"--name=x=y", "pp_1"};
	struct cli_args a;

	(void)state;
	assert_int_equal(cli_args_parse(&a, opts, 1, 1, ARGC(argv), argv), 0);
	assert_string_equal(cli_arg_value(&a, "name"), "a b");
	assert_true(cli_arg_set(&a, "json"));
	assert_false(cli_arg_set(&a, "platform"));
	assert_null(cli_arg_value(&a, "platform"));
	assert_string_equal(cli_arg_pos(&a, 0), "pp_1");
	assert_null(cli_arg_pos(&a, 1));
	assert_false(a.help);
	cli_args_free(&a);

	assert_int_equal(cli_args_parse(&a, opts, 1, 1, ARGC(argv_eq), argv_eq),
			 0);
	assert_string_equal(cli_arg_value(&a, "name"), "x=y");
	assert_false(cli_arg_set(&a, "json"));
	cli_args_free(&a);
}

static void test_args_lists(void **state)
{
	char *argv[] = {"--platform", "a",     "--platform=b,c",
			"--platform", "c,d,a", "--platform",
			"e"};
	const char *want[] = {"a", "b", "c", "d", "e"};
	char *const *items;
	struct cli_args a;
	size_t n;

	(void)state;
	assert_int_equal(cli_args_parse(&a, opts, 0, 0, ARGC(argv), argv), 0);
	n = cli_arg_list(&a, "platform", &items);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(items[i], want[i]);
	assert_int_equal(cli_arg_list(&a, "name", &items), 0);
	cli_args_free(&a);
}

static void expect_usage(int argc, char *argv[], size_t min_pos, size_t max_pos,
			 const char *msg)
{
	struct cli_args a;

	assert_int_equal(cli_args_parse(&a, opts, min_pos, max_pos, argc, argv),
			 IDW_EUSAGE);
	assert_non_null(strstr(a.err, msg));
	cli_args_free(&a);
}

static void test_args_mistakes(void **state)
{
	char *unknown[] = {"--nope"};
	char *unknown_eq[] = {"--nope=1"};
	char *short_opt[] = {"-x"};
	char *twice[] = {"--name", "a", "--name", "b"};
	char *missing[] = {"--name"};
	char *flag_val[] = {"--json=yes"};
	char *empty_item[] = {"--platform", "a,,b"};
	char *trailing[] = {"--platform", "a,"};
	char *extra[] = {"pp_1", "pp_2"};
	char *none[] = {"--json"};
	char *prefix[] = {"--nam", "x"};

	(void)state;
	expect_usage(ARGC(unknown), unknown, 0, 0, "unknown option --nope");
	expect_usage(ARGC(unknown_eq), unknown_eq, 0, 0, "unknown option");
	expect_usage(ARGC(short_opt), short_opt, 0, 0, "unknown option -x");
	expect_usage(ARGC(twice), twice, 0, 0, "given twice");
	expect_usage(ARGC(missing), missing, 0, 0, "needs a value");
	expect_usage(ARGC(flag_val), flag_val, 0, 0, "takes no value");
	expect_usage(ARGC(empty_item), empty_item, 0, 0, "empty item");
	expect_usage(ARGC(trailing), trailing, 0, 0, "empty item");
	expect_usage(ARGC(extra), extra, 1, 1, "unexpected argument");
	expect_usage(ARGC(none), none, 1, 1, "missing argument");
	/* No abbreviations: a prefix is not the option. */
	expect_usage(ARGC(prefix), prefix, 0, 0, "unknown option");
}

static void test_args_too_many_items(void **state)
{
	char list[CLI_LIST_MAX * 4 + 8] = "";
	char *argv[] = {"--platform", list};
	struct cli_args a;

	(void)state;
	for (int i = 0; i <= CLI_LIST_MAX; i++) {
		char item[8];

		snprintf(item, sizeof(item), "%s%d", i ? "," : "", i);
		strcat(list, item);
	}
	assert_int_equal(cli_args_parse(&a, opts, 0, 0, ARGC(argv), argv),
			 IDW_EUSAGE);
	cli_args_free(&a);
}

static void test_args_help_and_dashdash(void **state)
{
	char *help[] = {"--nope", "--help"};
	char *help_first[] = {"-h", "--nope"};
	char *dd[] = {"--", "--name", "-x"};
	struct cli_args a;

	(void)state;
	/* A mistake before --help is still a mistake. */
	assert_int_equal(cli_args_parse(&a, opts, 0, 0, ARGC(help), help),
			 IDW_EUSAGE);
	cli_args_free(&a);
	assert_int_equal(
		cli_args_parse(&a, opts, 1, 1, ARGC(help_first), help_first),
		0);
	assert_true(a.help);
	cli_args_free(&a);
	assert_int_equal(cli_args_parse(&a, opts, 0, 2, ARGC(dd), dd), 0);
	assert_int_equal(a.npos, 2);
	assert_string_equal(cli_arg_pos(&a, 0), "--name");
	assert_string_equal(cli_arg_pos(&a, 1), "-x");
	assert_false(cli_arg_set(&a, "name"));
	cli_args_free(&a);
}

/* A command line after "--" is kept whole, options and all. */
static void test_args_rest(void **state)
{
	char *run[] = {"--json", "--", "prog", "--name", "x", "a",
		       "b",	 "c",  "d",    "e",	 NULL};
	char *none[] = {"pp_1", NULL};
	struct cli_args a;

	(void)state;
	assert_int_equal(
		cli_args_parse_rest(&a, opts, 0, 0, ARGC(run) - 1, run), 0);
	assert_true(cli_arg_set(&a, "json"));
	assert_false(cli_arg_set(&a, "name"));
	assert_int_equal(a.nrest, 8);
	assert_string_equal(a.rest[0], "prog");
	assert_string_equal(a.rest[1], "--name");
	assert_string_equal(a.rest[7], "e");
	assert_null(a.rest[8]);
	cli_args_free(&a);
	assert_int_equal(
		cli_args_parse_rest(&a, opts, 1, 1, ARGC(none) - 1, none), 0);
	assert_int_equal(a.nrest, 0);
	assert_null(a.rest);
	cli_args_free(&a);
}

/* An fd positioned at the start of n bytes. */
static int fd_with(const void *p, size_t n)
{
	int fd = memfd_create("test_cli", MFD_CLOEXEC);

	assert_true(fd >= 0);
	if (n > 0)
		assert_int_equal(write(fd, p, n), (ssize_t)n);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

static void read_all_expect(const char *in, size_t inlen, const char *want,
			    size_t wantlen)
{
	struct idw_buf b;
	int fd = fd_with(in, inlen);

	idw_buf_init(&b, CLI_VALUE_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(cli_read_all(fd, &b, CLI_VALUE_MAX), 0);
	assert_int_equal(b.len, wantlen);
	if (wantlen > 0)
		assert_memory_equal(b.d, want, wantlen);
	idw_buf_free(&b);
	close(fd);
}

static void test_read_all_newlines(void **state)
{
	(void)state;
	read_all_expect("abc\n", 4, "abc", 3);
	read_all_expect("abc\r\n", 5, "abc", 3);
	read_all_expect("abc", 3, "abc", 3);
	/* Only one newline goes. */
	read_all_expect("abc\n\n", 5, "abc\n", 4);
	read_all_expect("abc\r\n\r\n", 7, "abc\r\n", 5);
	/* A lone CR is data. */
	read_all_expect("abc\r", 4, "abc\r", 4);
	read_all_expect("a\nb\n", 4, "a\nb", 3);
	read_all_expect("a\0b\n", 4, "a\0b", 3);
	read_all_expect("\n", 1, "", 0);
	read_all_expect("", 0, "", 0);
}

static void test_read_all_bounds(void **state)
{
	size_t n = CLI_VALUE_MAX + 2;
	uint8_t *big = malloc(n + 1);
	struct idw_buf b;
	int fd;

	(void)state;
	assert_non_null(big);
	memset(big, 'v', n + 1);
	/* Exactly the maximum, with its CRLF: fine. */
	big[n - 2] = '\r';
	big[n - 1] = '\n';
	fd = fd_with(big, n);
	idw_buf_init(&b, CLI_VALUE_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(cli_read_all(fd, &b, CLI_VALUE_MAX), 0);
	assert_int_equal(b.len, CLI_VALUE_MAX);
	idw_buf_free(&b);
	close(fd);

	/* One byte over, without a newline. */
	fd = fd_with(big, CLI_VALUE_MAX + 1);
	idw_buf_init(&b, CLI_VALUE_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(cli_read_all(fd, &b, CLI_VALUE_MAX), IDW_ETOOBIG);
	idw_buf_free(&b);
	close(fd);

	/* Past the buffer itself. */
	memset(big, 'v', n + 1);
	fd = fd_with(big, n + 1);
	idw_buf_init(&b, CLI_VALUE_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(cli_read_all(fd, &b, CLI_VALUE_MAX), IDW_ETOOBIG);
	idw_buf_free(&b);
	close(fd);
	free(big);
}

static void test_read_line(void **state)
{
	struct idw_buf b;
	char rest[16];
	int fd;

	(void)state;
	fd = fd_with("pass word\r\nnext\n", 16);
	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(cli_read_line(fd, &b, CLI_PASS_MAX), 0);
	assert_int_equal(b.len, 9);
	assert_memory_equal(b.d, "pass word", 9);
	/* Nothing past the line was consumed. */
	assert_int_equal(read(fd, rest, sizeof(rest)), 5);
	assert_memory_equal(rest, "next\n", 5);
	idw_buf_free(&b);
	close(fd);

	fd = fd_with("last", 4);
	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(cli_read_line(fd, &b, CLI_PASS_MAX), 0);
	assert_int_equal(b.len, 4);
	idw_buf_free(&b);
	close(fd);

	fd = fd_with("\n", 1);
	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(cli_read_line(fd, &b, CLI_PASS_MAX), 0);
	assert_int_equal(b.len, 0);
	idw_buf_free(&b);
	close(fd);

	fd = fd_with("", 0);
	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(cli_read_line(fd, &b, CLI_PASS_MAX), IDW_ETRUNCATED);
	idw_buf_free(&b);
	close(fd);

	fd = fd_with("0123456789\n", 11);
	idw_buf_init(&b, 64, IDW_BUF_SECURE);
	assert_int_equal(cli_read_line(fd, &b, 8), IDW_ETOOBIG);
	idw_buf_free(&b);
	close(fd);
}

static void test_strip_newline(void **state)
{
	struct idw_buf b;

	(void)state;
	idw_buf_init(&b, 64, IDW_BUF_SECURE);
	cli_strip_newline(&b); /* empty: nothing to do */
	assert_int_equal(idw_buf_put_str(&b, "x\r\n"), 0);
	cli_strip_newline(&b);
	assert_int_equal(b.len, 1);
	/* The removed bytes are wiped. */
	assert_int_equal(b.d[1], 0);
	assert_int_equal(b.d[2], 0);
	idw_buf_free(&b);
}

/* Run cli_passphrase with stdin replaced by the given bytes. */
static int passphrase_from(const char *in, bool from_stdin, bool is_new,
			   struct idw_buf *b, char *why, size_t whylen)
{
	int saved = dup(STDIN_FILENO), fd = fd_with(in, strlen(in)), r;

	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	r = cli_passphrase(from_stdin, is_new, "Passphrase: ", b, why, whylen);
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	return r;
}

static void test_passphrase_sources(void **state)
{
	struct idw_buf b;
	char why[256];

	(void)state;
	setenv("IDW_PASSPHRASE", "from the environment", 1);
	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(passphrase_from("stdin line\n", true, true, &b, why,
					 sizeof(why)),
			 0);
	assert_int_equal(b.len, strlen("from the environment"));
	idw_buf_free(&b);

	unsetenv("IDW_PASSPHRASE");
	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(passphrase_from("stdin line\r\nmore\n", true, true, &b,
					 why, sizeof(why)),
			 0);
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.d, "stdin line", 10);
	idw_buf_free(&b);

	/* A new passphrase needs 8 bytes; an existing one any. */
	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(
		passphrase_from("short\n", true, true, &b, why, sizeof(why)),
		IDW_EINVAL);
	assert_non_null(strstr(why, "8 bytes"));
	idw_buf_free(&b);
	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(
		passphrase_from("short\n", true, false, &b, why, sizeof(why)),
		0);
	idw_buf_free(&b);

	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(passphrase_from("", true, false, &b, why, sizeof(why)),
			 IDW_EINVAL);
	assert_non_null(strstr(why, "stdin"));
	idw_buf_free(&b);

	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(
		passphrase_from("\n", true, false, &b, why, sizeof(why)),
		IDW_EINVAL);
	assert_non_null(strstr(why, "empty"));
	idw_buf_free(&b);

	idw_buf_init(&b, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	assert_int_equal(passphrase_from("\xff\xfe invalid\n", true, true, &b,
					 why, sizeof(why)),
			 IDW_EINVAL);
	idw_buf_free(&b);
}

static int run(int argc, const char *const words[])
{
	char *argv[16];

	assert_true(argc < 16);
	for (int i = 0; i < argc; i++)
		argv[i] = (char *)words[i];
	argv[argc] = NULL;
	return cli_run(argc, argv);
}

#define RUN(...)                                                               \
	run(ARGC(((const char *[]){__VA_ARGS__})),                             \
	    (const char *[]){__VA_ARGS__})

/* Mistakes that are answered before any agent is reached. */
static void test_run_usage(void **state)
{
	(void)state;
	assert_int_equal(RUN("idw"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "frobnicate"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "--frobnicate"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "show"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "show", "a", "b"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "get", "pp_0"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "get", "pp_0", "--purpose", ""),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "revoke", "pp_0"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--type", "api-key"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n", "--type", "nope"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n", "--type",
			     "api-key", "--owner", "bob", "--no-owner"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n", "--type",
			     "api-key", "--valid-days", "3", "--valid-until",
			     "2030-01-01"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n", "--type",
			     "api-key", "--valid-days", "0"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n", "--type",
			     "api-key", "--valid-days", "9x"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n", "--type",
			     "api-key", "--valid-until", "2030-02-30"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n", "--type",
			     "api-key", "--tier", "gold"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n", "--type",
			     "api-key", "--visa", "golden"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "create", "--name", "n", "--type",
			     "api-key", "--value", "secret"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "list", "--status", "gone"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "list", "extra"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "init", "--kdf", "fast"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "resume"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "resume", "pp_0", "--passphrase"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "resume", "pp_0", "--passphrase-stdin=x"),
			 CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "agent"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "agent", "reboot"), CLI_EXIT_USAGE);
	assert_int_equal(RUN("idw", "agent", "status", "--verbose"),
			 CLI_EXIT_USAGE);
}

static void test_run_help(void **state)
{
	(void)state;
	assert_int_equal(RUN("idw", "--help"), 0);
	assert_int_equal(RUN("idw", "-h"), 0);
	assert_int_equal(RUN("idw", "help", "create"), 0);
	assert_int_equal(RUN("idw", "--version"), 0);
	assert_int_equal(RUN("idw", "create", "--help"), 0);
	assert_int_equal(RUN("idw", "agent", "--help"), 0);
	assert_int_equal(RUN("idw", "agent", "status", "--help"), 0);
}

static void check_table(const struct cli_verb *table)
{
	for (const struct cli_verb *v = table; v->name != NULL; v++) {
		size_t n = 0;

		assert_non_null(v->usage);
		assert_non_null(v->help);
		assert_true(v->min_pos <= v->max_pos);
		assert_true(v->max_pos <= CLI_MAX_POS);
		assert_ptr_equal(cli_verb_find(table, v->name), v);
		if (v->flags & CLI_VERB_GROUP) {
			assert_null(v->run);
			assert_non_null(v->sub);
			check_table(v->sub);
			continue;
		}
		assert_non_null(v->run);
		assert_non_null(v->opts);
		while (v->opts[n].name != NULL)
			n++;
		assert_true(n <= CLI_MAX_OPTS);
		/* The usage names the verb and mentions each option. */
		assert_non_null(strstr(v->usage, v->name));
		for (size_t i = 0; i < n; i++) {
			char opt[64];

			snprintf(opt, sizeof(opt), "--%s", v->opts[i].name);
			assert_non_null(strstr(v->usage, opt));
		}
	}
}

/* The proof key of init: the slot's cost, a fresh salt, a usable key. */
static void test_proof_key(void **state)
{
	static const uint8_t pass[] = "a passphrase of ours";
	uint8_t pk[32], salt[16], vid[16], ch[32], sig[64], msg[256];
	uint8_t hash[32];
	const char *hs;
	crypto_generichash_state st;
	cJSON *a, *b, *req;
	char *txt;
	size_t got, n = 0;

	(void)state;
	a = cli_proof_key(pass, sizeof(pass) - 1, "interactive");
	b = cli_proof_key(pass, sizeof(pass) - 1, "interactive");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(cJSON_GetArraySize(a), 4);
	assert_int_equal(idw_json_int(a, "opslimit", 0),
			 crypto_pwhash_OPSLIMIT_INTERACTIVE);
	assert_int_equal(idw_json_int(a, "memlimit", 0),
			 crypto_pwhash_MEMLIMIT_INTERACTIVE);
	assert_int_equal(strlen(idw_json_str(a, "pk")), 64);
	hs = idw_json_str(a, "salt");
	assert_int_equal(strlen(hs), 32);
	/* Each vault gets its own salt, hence its own key. */
	assert_string_not_equal(hs, idw_json_str(b, "salt"));
	assert_string_not_equal(idw_json_str(a, "pk"), idw_json_str(b, "pk"));

	/* What cli_proof_sign makes verifies under that key. */
	assert_int_equal(sodium_hex2bin(pk, 32, idw_json_str(a, "pk"), 64, NULL,
					&got, NULL),
			 0);
	assert_int_equal(sodium_hex2bin(salt, 16, hs, 32, NULL, &got, NULL), 0);
	randombytes_buf(vid, sizeof(vid));
	randombytes_buf(ch, sizeof(ch));
	req = cJSON_Parse("{\"verb\":\"resume\",\"id\":\"pp_1\"}");
	assert_int_equal(cli_proof_sign(pass, sizeof(pass) - 1, salt,
					crypto_pwhash_OPSLIMIT_INTERACTIVE,
					crypto_pwhash_MEMLIMIT_INTERACTIVE, vid,
					ch, "resume", req, NULL, 0, sig),
			 0);
	txt = cJSON_PrintUnformatted(req);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)txt, strlen(txt));
	crypto_generichash_final(&st, hash, 32);
	memcpy(msg, "idw-proof-v1", 13);
	n = 13;
	memcpy(msg + n, vid, 16);
	n += 16;
	memcpy(msg + n, ch, 32);
	n += 32;
	memcpy(msg + n, "resume", 7);
	n += 7;
	memcpy(msg + n, hash, 32);
	n += 32;
	assert_int_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
	msg[20] ^= 1;
	assert_int_not_equal(crypto_sign_verify_detached(sig, msg, n, pk), 0);
	cJSON_free(txt);
	cJSON_Delete(req);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

static void test_verb_table(void **state)
{
	(void)state;
	check_table(cli_verbs);
	assert_non_null(cli_verb_find(cli_verbs, "create"));
	assert_null(cli_verb_find(cli_verbs, "creat"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_values_and_flags),
		cmocka_unit_test(test_args_lists),
		cmocka_unit_test(test_args_mistakes),
		cmocka_unit_test(test_args_too_many_items),
		cmocka_unit_test(test_args_help_and_dashdash),
		cmocka_unit_test(test_args_rest),
		cmocka_unit_test(test_read_all_newlines),
		cmocka_unit_test(test_read_all_bounds),
		cmocka_unit_test(test_read_line),
		cmocka_unit_test(test_strip_newline),
		cmocka_unit_test(test_passphrase_sources),
		cmocka_unit_test(test_run_usage),
		cmocka_unit_test(test_run_help),
		cmocka_unit_test(test_proof_key),
		cmocka_unit_test(test_verb_table),
	};

	if (sodium_init() < 0)
		return 1;
	/* Nothing here may reach a real agent. */
	setenv("IDW_HOME", "/nonexistent/idw-test-cli", 1);
	unsetenv("IDW_PASSPHRASE");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
