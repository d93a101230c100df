/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentd/audit_fmt.h"
#include "common/fio.h"
#include "agentd/audit_query.h"
#include "common/buf.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

struct query {
	const struct audit_filter *f;
	const uint8_t *keys;
	uint8_t tag[AUDIT_HASH_LEN];
	uint8_t anchor_tag[AUDIT_HASH_LEN];
	bool body;	 /* deciding needs the decrypted body */
	bool routine_ok; /* routine anchor entries are asked for */
	size_t opened;	 /* bodies decrypted */
};

/* Where a match sits in the file, to be read again for the reply. */
struct hit {
	uint64_t seq, off;
	size_t len;
};

static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

int audit_cursor_parse(const char *s, struct audit_filter *f)
{
	unsigned long long seq, end = 0;
	char *p = NULL;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return IDW_EUSAGE;
	seq = strtoull(s, &p, 10);
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return IDW_EUSAGE;
		end = strtoull(p + 1, &p, 10);
	}
	if (*p != '\0')
		return IDW_EUSAGE;
	f->has_cursor = true;
	f->cursor_seq = seq;
	f->cursor_end = end;
	return 0;
}

static bool fields_match(const struct query *q, const cJSON *o, bool anchor)
{
	const struct audit_filter *f = q->f;
	const char *act = idw_json_str(o, "action");
	const char *res = idw_json_str(o, "result");
	int64_t t;

	if (anchor && !q->routine_ok && same(act, "checkpoint") &&
	    same(res, "ok"))
		return false;
	if (f->passport_id &&
	    !same(idw_json_str(o, "passport_id"), f->passport_id))
		return false;
	if (f->principal && !same(idw_json_str(o, "principal"), f->principal))
		return false;
	if (f->action && strcmp(f->action, "denial") == 0 &&
	    !same(res, "denied"))
		return false;
	if (f->action && strcmp(f->action, "denial") != 0 &&
	    !same(act, f->action))
		return false;
	if (f->result && !same(res, f->result))
		return false;
	if (f->has_since || f->has_until) {
		if (idw_time_parse(idw_json_str(o, "time"), 0, &t) != 0)
			return false;
		if ((f->has_since && t < f->since) ||
		    (f->has_until && t > f->until))
			return false;
	}
	return true;
}

/*
 * 1 when the entry matches; with out, its body is handed over.  The tag
 * decides for a passport without decrypting anything else.
 */
static int match(struct query *q, const uint8_t *e, size_t elen, cJSON **out)
{
	bool anchor =
		memcmp(e + AUDIT_OFF_TAG, q->anchor_tag, AUDIT_HASH_LEN) == 0;
	cJSON *o = NULL;
	bool ok;

	if (q->f->passport_id != NULL &&
	    memcmp(e + AUDIT_OFF_TAG, q->tag, AUDIT_HASH_LEN) != 0)
		return 0;
	if (!q->body && !anchor && out == NULL)
		return 1;
	q->opened++;
	if ((o = audit_fmt_open(q->keys, e, elen)) == NULL)
		return 0;
	ok = fields_match(q, o, anchor);
	if (ok && out != NULL)
		*out = o;
	else
		cJSON_Delete(o);
	return ok ? 1 : 0;
}

static int oldest_first(struct audit *a, struct query *q, cJSON *arr,
			char next[AUDIT_CURSOR_LEN])
{
	const struct audit_filter *f = q->f;
	uint64_t from = AUDIT_HDR_LEN, last_seq = 0, last_end = 0;
	struct audit_scan s;
	size_t n = 0;
	int r;

	/* A cursor that still points at the entry after it saves a walk. */
	if (f->has_cursor && f->cursor_end >= AUDIT_HDR_LEN &&
	    f->cursor_end <= a->end) {
		uint8_t h[AUDIT_ENTRY_HDR];

		if (f->cursor_end == a->end ||
		    (idw_pread_all(a->fd, h, sizeof(h), f->cursor_end) == 0 &&
		     idw_le64_get(h + AUDIT_OFF_SEQ) == f->cursor_seq + 1))
			from = f->cursor_end;
	}
	if ((r = audit_scan_begin(&s, a->fd, from, a->end)) != 0)
		return r;
	while ((r = audit_scan_next(&s)) == 1) {
		uint64_t seq = idw_le64_get(s.e + AUDIT_OFF_SEQ);
		cJSON *o = NULL;

		if (f->has_cursor && seq <= f->cursor_seq)
			continue;
		if (match(q, s.e, s.elen, &o) != 1)
			continue;
		if (n == f->limit) {
			cJSON_Delete(o);
			snprintf(next, AUDIT_CURSOR_LEN, "%llu.%llu",
				 (unsigned long long)last_seq,
				 (unsigned long long)last_end);
			r = 0;
			break;
		}
		cJSON_AddItemToArray(arr, o);
		n++;
		last_seq = seq;
		last_end = s.next;
	}
	audit_scan_end(&s);
	return r < 0 ? r : 0;
}

static int newest_first(struct audit *a, struct query *q, cJSON *arr,
			char next[AUDIT_CURSOR_LEN])
{
	const struct audit_filter *f = q->f;
	size_t cap = f->limit + 1, count = 0, first;
	struct audit_scan s;
	struct hit *ring;
	uint8_t *e = NULL;
	int r;

	if ((ring = calloc(cap, sizeof(*ring))) == NULL)
		return IDW_ENOMEM;
	if ((r = audit_scan_begin(&s, a->fd, AUDIT_HDR_LEN, a->end)) != 0) {
		free(ring);
		return r;
	}
	/* Keep the newest limit + 1 matches: one more says a page follows. */
	while ((r = audit_scan_next(&s)) == 1) {
		uint64_t seq = idw_le64_get(s.e + AUDIT_OFF_SEQ);

		if (f->has_cursor && seq >= f->cursor_seq)
			continue;
		if (match(q, s.e, s.elen, NULL) != 1)
			continue;
		ring[count % cap] = (struct hit){seq, s.off, s.elen};
		count++;
	}
	audit_scan_end(&s);
	if (r < 0)
		goto out;
	first = count > f->limit ? count - f->limit : 0;
	if (count > f->limit)
		snprintf(next, AUDIT_CURSOR_LEN, "%llu",
			 (unsigned long long)ring[first % cap].seq);
	if ((e = malloc(AUDIT_ENTRY_MAX)) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	for (size_t i = count; i-- > first;) {
		const struct hit *h = &ring[i % cap];
		cJSON *o;

		if ((r = idw_pread_all(a->fd, e, h->len, h->off)) != 0)
			goto out;
		q->opened++;
		if ((o = audit_fmt_open(a->keys, e, h->len)) != NULL)
			cJSON_AddItemToArray(arr, o);
	}
	r = 0;
out:
	free(e);
	free(ring);
	return r;
}

int audit_query(struct audit *a, const struct audit_filter *f, cJSON *arr,
		char next[AUDIT_CURSOR_LEN], size_t *opened)
{
	struct query q;
	int r;

	next[0] = '\0';
	if (a->keys == NULL)
		return IDW_ELOCKED;
	if (f->limit == 0)
		return IDW_EUSAGE;
	memset(&q, 0, sizeof(q));
	q.f = f;
	q.keys = a->keys;
	q.body = f->principal || f->action || f->result || f->has_since ||
		 f->has_until;
	q.routine_ok = same(f->action, "checkpoint");
	if (f->passport_id != NULL)
		audit_fmt_tag(a->keys, f->passport_id, q.tag);
	audit_fmt_tag(a->keys, AUDIT_ANCHOR_ID, q.anchor_tag);
	r = f->oldest_first ? oldest_first(a, &q, arr, next)
			    : newest_first(a, &q, arr, next);
	if (opened != NULL)
		*opened = q.opened;
	return r;
}

int audit_recent(struct audit *a, const char *passport_id, size_t limit,
		 cJSON *arr)
{
	struct audit_filter f;
	char next[AUDIT_CURSOR_LEN];

	memset(&f, 0, sizeof(f));
	f.passport_id = passport_id;
	f.limit = limit ? limit : 1;
	return audit_query(a, &f, arr, next, NULL);
}
