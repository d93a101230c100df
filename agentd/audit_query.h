/* SPDX-License-Identifier: ISC */
#ifndef IDW_AUDIT_QUERY_H
#define IDW_AUDIT_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agentd/audit.h"

/*
 * Reading the log back, one page at a time.  A passport is found by its
 * clear tag, so only its entries are decrypted; the other filters read
 * the body.  Entries that do not authenticate are skipped (idw audit
 * verify names them), and so are the routine anchor entries
 * ("checkpoint", result "ok") unless asked for by action.
 */
#define AUDIT_CURSOR_LEN 48

struct audit_filter {
	const char *passport_id;
	const char *principal;
	const char *action; /* "denial": every entry whose result is denied */
	const char *result;
	bool has_since, has_until;
	int64_t since, until; /* inclusive, epoch seconds */
	bool oldest_first;    /* default: newest first */
	bool has_cursor;
	uint64_t cursor_seq; /* newest first: entries before it; else after */
	uint64_t cursor_end; /* oldest first: where the entry after it is */
	size_t limit;
};

/*
 * Parse a cursor this module handed out: "SEQ" (newest first) or
 * "SEQ.OFFSET" (oldest first).
 */
int audit_cursor_parse(const char *s, struct audit_filter *f) IDW_WUR;

/*
 * At most f->limit matching entries, in the filter's order, appended to
 * arr; next gets the cursor of the next page, or "" at the end; opened
 * (may be NULL) how many bodies were decrypted.
 */
int audit_query(struct audit *a, const struct audit_filter *f, cJSON *arr,
		char next[AUDIT_CURSOR_LEN], size_t *opened) IDW_WUR;

#endif
