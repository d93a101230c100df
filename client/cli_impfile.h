/* SPDX-License-Identifier: ISC */
#ifndef IDW_CLI_IMPFILE_H
#define IDW_CLI_IMPFILE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "common/buf.h"
#include "common/err.h"

/*
 * The files `idw import` reads: our own export, a .env file, an MCP
 * client's config.  Each parser checks the whole file and collects every
 * mistake with its line number, so a caller imports all or nothing.
 * Values are decoded by our own JSON reader (cli_jscan) straight into
 * locked memory: they never pass through cJSON; metadata does.  MCP
 * configs are cli_impmcp's.
 */
#define CLI_IMPFILE_MAX (4u * 1024u * 1024u)
#define CLI_IMPFILE_ERRORS_MAX 100

/* A parsed import. */
struct cli_impset {
	cJSON *items;	       /* request items: fields, value_len, line */
	struct idw_buf values; /* the values, one after another (locked) */
	cJSON *errors;	       /* "line N: why", at most ERRORS_MAX */
	size_t nbad;	       /* every mistake, counted */
};

void cli_impset_init(struct cli_impset *s);
void cli_impset_free(struct cli_impset *s);
/* Count a mistake (line 0: of the whole file) and keep its message. */
void cli_impset_bad(struct cli_impset *s, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Drop the values written since mark (a line that turned out bad). */
void cli_impset_cut(struct cli_impset *s, size_t mark);
/* Add an item (consumed) with its value's length and its line. */
int cli_impset_add(struct cli_impset *s, cJSON *item, size_t vlen,
		   size_t line) IDW_WUR;

/*
 * Our export (`idw export --format json`): a JSON document whose first
 * line is the header and each further line one passport {"passport":
 * {...}, "value": "..."} (or "value_base64"), then "]}".  0, or
 * IDW_ENOMEM; mistakes are in s->errors.
 */
int cli_impfile_export(const char *buf, size_t len,
		       struct cli_impset *s) IDW_WUR;

/*
 * A .env file (DESIGN's grammar, keychain/dotenv.c): each variable one
 * passport named after it, with the fields of tmpl (path, owner, type).
 */
int cli_impfile_dotenv(const char *buf, size_t len, const cJSON *tmpl,
		       struct cli_impset *s) IDW_WUR;

/* Read a regular file of at most max bytes into a locked buffer. */
int cli_impfile_read(const char *path, size_t max, struct idw_buf *out,
		     char *why, size_t whylen) IDW_WUR;

#endif
