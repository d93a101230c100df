/* SPDX-License-Identifier: ISC */
#ifndef IDW_CLI_ARGS_H
#define IDW_CLI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/err.h"

/*
 * Options of one verb: long options only ("--name VALUE" or
 * "--name=VALUE").  A list option may be repeated and each value may be a
 * comma list: "--platform a --platform b,c" gives a, b, c.  "--" ends the
 * options; "-h" and "--help" are understood by every verb.
 */
enum cli_opt_kind {
	CLI_OPT_FLAG,  /* --json */
	CLI_OPT_VALUE, /* --name NAME, at most once */
	CLI_OPT_LIST,  /* --platform P, repeated, comma lists split */
};

struct cli_opt {
	const char *name; /* without the leading "--"; NULL ends a table */
	enum cli_opt_kind kind;
};

#define CLI_MAX_OPTS 24
#define CLI_MAX_POS 64 /* idw env VAR=PASSPORT... */
#define CLI_LIST_MAX 64

struct cli_optval {
	bool set;
	const char *value; /* CLI_OPT_VALUE: points into argv */
	char **items;	   /* CLI_OPT_LIST: heap copies, in order, no repeats */
	size_t nitems;
};

struct cli_args {
	const struct cli_opt *opts;
	size_t nopts;
	struct cli_optval v[CLI_MAX_OPTS];
	const char *pos[CLI_MAX_POS];
	size_t npos;
	/* With rest set: the words after "--" (a command line), NULL-ended. */
	char *const *rest;
	size_t nrest;
	bool help;
	char err[200]; /* the usage mistake, for a person */
};

/*
 * Parse argv[0..argc) (the words after the verb) against opts, expecting
 * between min_pos and max_pos positional words.  IDW_EUSAGE with a->err
 * set on a mistake; a->help is set (and nothing else checked) when help
 * was asked for.  cli_args_free releases the lists in every case.
 */
int cli_args_parse(struct cli_args *a, const struct cli_opt *opts,
		   size_t min_pos, size_t max_pos, int argc,
		   char *const argv[]) IDW_WUR;
/*
 * The same for a verb that runs a command: the words after "--" are not
 * positional words but a->rest (argv stays NULL-ended after them).
 */
int cli_args_parse_rest(struct cli_args *a, const struct cli_opt *opts,
			size_t min_pos, size_t max_pos, int argc,
			char *const argv[]) IDW_WUR;
void cli_args_free(struct cli_args *a);

bool cli_arg_set(const struct cli_args *a, const char *name);
const char *cli_arg_value(const struct cli_args *a, const char *name);
size_t cli_arg_list(const struct cli_args *a, const char *name,
		    char *const **items);
/* Positional word i, or NULL. */
const char *cli_arg_pos(const struct cli_args *a, size_t i);

#endif
