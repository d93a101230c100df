/* SPDX-License-Identifier: ISC */
#ifndef IDW_CLI_JSCAN_H
#define IDW_CLI_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/err.h"

#define CLI_JSCAN_KEY_MAX 256

/*
 * A cursor over JSON text [p, end).  On IDW_EINVAL err says what is wrong
 * for a person; it never quotes the text (which may hold a value).
 */
struct cli_jscan {
	const char *p, *end;
	const char *err;
	int depth;
};

/* Skip blanks; take c (after blanks) when it comes next. */
void cli_jscan_ws(struct cli_jscan *s);
bool cli_jscan_eat(struct cli_jscan *s, char c);
/*
 * A string, decoded into out (NULL: only checked): escapes, surrogate
 * pairs, UTF-8 checked.  0, IDW_EINVAL, or out's IDW_ETOOBIG/IDW_ENOMEM.
 */
int cli_jscan_str(struct cli_jscan *s, struct idw_buf *out) IDW_WUR;
/* Any value, checked and skipped (at most 64 deep). */
int cli_jscan_skip(struct cli_jscan *s) IDW_WUR;
/* A member name and its ':' (plain text, no NUL, < CLI_JSCAN_KEY_MAX). */
int cli_jscan_key(struct cli_jscan *s, char key[CLI_JSCAN_KEY_MAX]) IDW_WUR;
/* The next value parsed by cJSON (metadata only), or NULL. */
cJSON *cli_jscan_span(struct cli_jscan *s);

#endif
