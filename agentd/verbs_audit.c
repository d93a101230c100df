/* SPDX-License-Identifier: ISC */
/*
 * Reading the audit log (docs/protocol.md "audit", "audit_verify"): pages
 * of entries under filters, and the verification of the whole file
 * against itself and the vault's checkpoint.  Both only read.
 */
#include <string.h>

#include "agentd/audit_query.h"
#include "agentd/audit_verify.h"
#include "agentd/dispatch.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define AUDIT_PAGE_DEFAULT 50
#define AUDIT_PAGE_MAX 500
#define AUDIT_FILTER_MAX 256

/* An optional string argument of at most AUDIT_FILTER_MAX bytes. */
static int text_arg(const cJSON *req, const char *key, const char **out,
		    struct reply *rep)
{
	const char *s = idw_json_str(req, key);

	*out = NULL;
	if (!idw_json_str_or_absent(req, key) ||
	    (s != NULL && (strlen(s) > AUDIT_FILTER_MAX ||
			   !idw_utf8_valid((const uint8_t *)s, strlen(s)))))
		return reply_error(rep, IDW_EUSAGE,
				   "%s must be UTF-8 text of at most %d bytes",
				   key, AUDIT_FILTER_MAX);
	*out = s;
	return 0;
}

static int time_arg(const cJSON *req, const char *key, int end_of_day,
		    bool *has, int64_t *t, struct reply *rep)
{
	const char *s;
	int r;

	if ((r = text_arg(req, key, &s, rep)) != 0)
		return r;
	*has = s != NULL;
	if (s != NULL && idw_time_parse(s, end_of_day, t) != 0)
		return reply_error(rep, IDW_EUSAGE,
				   "%s wants an RFC 3339 time or YYYY-MM-DD",
				   key);
	return 0;
}

static int filter_of(const cJSON *req, struct audit_filter *f,
		     struct reply *rep)
{
	const char *order, *cursor;
	int64_t limit = idw_json_int(req, "limit", AUDIT_PAGE_DEFAULT);
	int r;

	memset(f, 0, sizeof(*f));
	if ((r = text_arg(req, "id", &f->passport_id, rep)) != 0 ||
	    (r = text_arg(req, "principal", &f->principal, rep)) != 0 ||
	    (r = text_arg(req, "action", &f->action, rep)) != 0 ||
	    (r = text_arg(req, "result", &f->result, rep)) != 0 ||
	    (r = text_arg(req, "order", &order, rep)) != 0 ||
	    (r = text_arg(req, "cursor", &cursor, rep)) != 0 ||
	    (r = time_arg(req, "since", 0, &f->has_since, &f->since, rep)) !=
		    0 ||
	    (r = time_arg(req, "until", 1, &f->has_until, &f->until, rep)) != 0)
		return r;
	if (order != NULL && strcmp(order, "oldest") != 0 &&
	    strcmp(order, "newest") != 0)
		return reply_error(rep, IDW_EUSAGE,
				   "order must be 'newest' or 'oldest'");
	f->oldest_first = order != NULL && strcmp(order, "oldest") == 0;
	if (cursor != NULL && audit_cursor_parse(cursor, f) != 0)
		return reply_error(rep, IDW_EUSAGE, "bad cursor");
	if (limit <= 0 || limit > AUDIT_PAGE_MAX)
		limit = limit <= 0 ? AUDIT_PAGE_DEFAULT : AUDIT_PAGE_MAX;
	f->limit = (size_t)limit;
	return 0;
}

int verb_audit(struct agent *a, struct peer *p, const struct verb_args *in,
	       struct reply *rep)
{
	char next[AUDIT_CURSOR_LEN];
	struct audit_filter f;
	size_t opened = 0;
	cJSON *o, *arr;
	int r;

	(void)p;
	if ((r = filter_of(in->req, &f, rep)) != 0)
		return r;
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "entries")) == NULL)
		return IDW_ENOMEM;
	if ((r = audit_query(&a->audit, &f, arr, next, &opened)) != 0)
		return reply_error(rep, r,
				   "reading the audit log failed: %s (run 'idw "
				   "audit verify')",
				   idw_strerror(r));
	if (next[0] != '\0')
		cJSON_AddStringToObject(o, "next_cursor", next);
	/* How many bodies this page cost: a passport's are found by tag. */
	cJSON_AddNumberToObject(o, "decrypted", (double)opened);
	return 0;
}

int verb_audit_verify(struct agent *a, struct peer *p,
		      const struct verb_args *in, struct reply *rep)
{
	struct audit_verify v;
	cJSON *o;
	int r;

	(void)p;
	(void)in;
	memset(&v, 0, sizeof(v));
	v.mark = a->anchor.have ? &a->anchor.mark : NULL;
	v.reanchor_seq = a->anchor.reanchor_seq;
	v.agent_seq = a->audit.seq;
	v.agent_end = a->audit.end;
	if ((r = audit_verify_run(&a->audit, &v)) != 0)
		return reply_error(rep, r, "reading the audit log failed: %s",
				   idw_strerror(r));
	if ((o = reply_ok(rep)) == NULL ||
	    (r = audit_verify_report(&v, o)) != 0)
		return IDW_ENOMEM;
	if (a->anchor.suspended)
		cJSON_AddStringToObject(o, "checkpoints_stopped",
					a->anchor.why);
	return 0;
}
