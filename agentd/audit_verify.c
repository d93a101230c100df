/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentd/audit_fmt.h"
#include "agentd/audit_verify.h"
#include "common/buf.h"
#include "common/jsonu.h"

struct vwalk {
	struct audit_chainer ch;
	uint8_t anchor_tag[AUDIT_HASH_LEN];
	uint64_t prev_seq;
	uint8_t prev[AUDIT_CHAIN];
};

static bool same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Only anchor entries are opened: the checkpoint they name, notes. */
static void anchor_entry(struct audit *a, struct audit_verify *v,
			 const uint8_t *e, size_t elen, uint64_t seq)
{
	cJSON *o = audit_fmt_open(a->keys, e, elen);
	uint64_t n;

	if (o == NULL)
		return;
	n = (uint64_t)idw_json_int(o, "checkpoint", 0);
	if (n > v->anchor_n) {
		v->anchor_n = n;
		v->anchor_pos = v->entries;
	}
	if (v->mark != NULL && v->mark_found && v->entries == v->mark_pos + 1 &&
	    n == v->mark->n)
		v->own_anchor = true;
	if (v->reanchor_seq != 0 && seq == v->reanchor_seq && v->mark &&
	    same(idw_json_str(o, "action"), "re-anchor") && n == v->mark->n)
		v->reanchor_ok = true;
	if (same(idw_json_str(o, "result"), "unverified"))
		snprintf(v->start_note, sizeof(v->start_note), "%s",
			 idw_json_str(o, "reason") ? idw_json_str(o, "reason")
						   : "");
	cJSON_Delete(o);
}

static void entry(struct audit *a, struct audit_verify *v, struct vwalk *w,
		  const uint8_t *e, size_t elen, uint64_t off)
{
	uint64_t seq = idw_le64_get(e + AUDIT_OFF_SEQ);
	const uint8_t *chain = e + elen - AUDIT_HASH_LEN;

	v->entries++;
	if (seq != w->prev_seq + 1 ||
	    !audit_chainer_check(&w->ch, w->prev, e, elen)) {
		if (v->breaks++ == 0) {
			v->bad_pos = v->entries;
			v->bad_off = off;
			v->bad_seq = seq;
			audit_fmt_describe(v->bad_why, sizeof(v->bad_why),
					   v->entries, off, seq,
					   w->prev_seq + 1);
		}
	}
	if (v->mark != NULL && !v->mark_found && seq == v->mark->seq &&
	    sodium_memcmp(chain, v->mark->chain, AUDIT_CHAIN) == 0) {
		v->mark_found = true;
		v->mark_pos = v->entries;
	}
	if (memcmp(e + AUDIT_OFF_TAG, w->anchor_tag, AUDIT_HASH_LEN) == 0)
		anchor_entry(a, v, e, elen, seq);
	w->prev_seq = v->last_seq = seq;
	memcpy(w->prev, chain, AUDIT_CHAIN);
}

int audit_verify_run(struct audit *a, struct audit_verify *v)
{
	struct audit_scan s;
	struct vwalk w;
	int r;

	if (a->keys == NULL)
		return IDW_ELOCKED;
	memset(&w, 0, sizeof(w));
	audit_chainer_init(&w.ch, a->keys);
	audit_fmt_tag(a->keys, AUDIT_ANCHOR_ID, w.anchor_tag);
	if (v->mark != NULL && v->mark->seq == 0)
		v->mark_found = true;
	if ((r = audit_fmt_header_check(a->fd)) != 0) {
		snprintf(v->unreadable_why, sizeof(v->unreadable_why),
			 "the file header is not that of an audit log");
		return 0;
	}
	if ((r = audit_scan_begin(&s, a->fd, AUDIT_HDR_LEN, 0)) != 0)
		return r;
	while ((r = audit_scan_next(&s)) == 1)
		entry(a, v, &w, s.e, s.elen, s.off);
	v->bytes = s.size;
	v->readable = r == 0;
	if (r == IDW_ETRUNCATED || r == IDW_ECORRUPT)
		snprintf(v->unreadable_why, sizeof(v->unreadable_why),
			 "audit entry %llu at byte %llu %s",
			 (unsigned long long)(v->entries + 1),
			 (unsigned long long)s.off,
			 r == IDW_ETRUNCATED
				 ? "runs past the end of the file (cut, or a "
				   "damaged length)"
				 : "has a length out of range");
	audit_scan_end(&s);
	return r == IDW_EIO || r == IDW_ENOMEM ? r : 0;
}

static int add_text(cJSON *arr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int add_text(cJSON *arr, const char *fmt, ...)
{
	char text[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return cJSON_AddItemToArray(arr, cJSON_CreateString(text)) ? 0
								   : IDW_ENOMEM;
}

#define ULL(x) ((unsigned long long)(x))

static void problems(const struct audit_verify *v, cJSON *p)
{
	const struct audit_mark *m = v->mark;
	uint64_t vn = m ? m->n : 0;

	if (v->bad_pos != 0)
		(void)add_text(p, "%s%s", v->bad_why,
			       v->breaks > 1 ? " (and later entries too)" : "");
	if (!v->readable)
		(void)add_text(p, "%s", v->unreadable_why);
	if (v->agent_seq != 0 &&
	    (v->last_seq < v->agent_seq || v->bytes < v->agent_end))
		(void)add_text(p,
			       "the log ends at entry %llu but the agent has "
			       "written entries up to %llu: its end was cut "
			       "while the agent ran",
			       ULL(v->last_seq), ULL(v->agent_seq));
	else if (v->agent_end != 0 && v->bytes > v->agent_end)
		(void)add_text(p,
			       "the log holds %llu bytes after entry %llu that "
			       "the agent did not write",
			       ULL(v->bytes - v->agent_end), ULL(v->agent_seq));
	if (m != NULL && !v->mark_found && v->last_seq < m->seq)
		(void)add_text(
			p,
			"the log ends at entry %llu, but the vault's "
			"checkpoint %llu vouches for entries up to %llu: "
			"the end of the log was cut",
			ULL(v->last_seq), ULL(m->n), ULL(m->seq));
	else if (m != NULL && !v->mark_found)
		(void)add_text(
			p,
			"entry %llu is not the one the vault's "
			"checkpoint %llu vouches for: the log was cut "
			"and written again, or replaced, at or before it",
			ULL(m->seq), ULL(m->n));
	if (v->anchor_n > vn)
		(void)add_text(
			p,
			"the log names vault checkpoint %llu but the "
			"vault's newest is %llu: the vault's journal was "
			"cut, or an older vault put back without a "
			"re-anchor",
			ULL(v->anchor_n), ULL(vn));
	if (m != NULL && v->reanchor_seq != 0 && !v->reanchor_ok &&
	    v->reanchor_seq <= v->last_seq)
		(void)add_text(p,
			       "the vault's checkpoint follows a re-anchor at "
			       "entry %llu that the log does not hold",
			       ULL(v->reanchor_seq));
}

int audit_verify_report(const struct audit_verify *v, cJSON *o)
{
	const struct audit_mark *m = v->mark;
	cJSON *p = cJSON_AddArrayToObject(o, "problems");
	cJSON *n = cJSON_AddArrayToObject(o, "notes"), *x;
	uint64_t through = 0;

	if (p == NULL || n == NULL)
		return IDW_ENOMEM;
	problems(v, p);
	if (m != NULL && v->mark_found)
		through = v->mark_pos + (v->own_anchor ? 1 : 0);
	cJSON_AddBoolToObject(o, "intact", cJSON_GetArraySize(p) == 0);
	cJSON_AddNumberToObject(o, "entries", (double)v->entries);
	cJSON_AddNumberToObject(o, "bytes", (double)v->bytes);
	cJSON_AddNumberToObject(o, "breaks", (double)v->breaks);
	if (v->bad_pos != 0 && (x = cJSON_AddObjectToObject(o, "first_bad"))) {
		cJSON_AddNumberToObject(x, "entry", (double)v->bad_pos);
		cJSON_AddNumberToObject(x, "offset", (double)v->bad_off);
		cJSON_AddNumberToObject(x, "seq", (double)v->bad_seq);
		cJSON_AddStringToObject(x, "problem", v->bad_why);
	} else {
		cJSON_AddNullToObject(o, "first_bad");
	}
	if (m != NULL && (x = cJSON_AddObjectToObject(o, "checkpoint"))) {
		cJSON_AddNumberToObject(x, "n", (double)m->n);
		cJSON_AddNumberToObject(x, "seq", (double)m->seq);
		cJSON_AddBoolToObject(x, "found", v->mark_found);
	} else {
		cJSON_AddNullToObject(o, "checkpoint");
	}
	cJSON_AddNumberToObject(o, "log_anchor", (double)v->anchor_n);
	cJSON_AddNumberToObject(o, "verified_through", (double)through);
	cJSON_AddNumberToObject(
		o, "unverified_tail",
		(double)(v->entries > through ? v->entries - through : 0));
	if (v->entries > through)
		(void)add_text(n,
			       "%llu entries after entry %llu are not yet "
			       "vouched for by a vault checkpoint: a cut among "
			       "them would not show",
			       ULL(v->entries - through), ULL(through));
	if (m != NULL && v->mark_found && !v->own_anchor &&
	    v->anchor_n + 1 == m->n)
		(void)add_text(
			n,
			"the anchor entry of checkpoint %llu is missing: "
			"the agent stopped between writing the "
			"checkpoint and its entry, or the log was cut "
			"right after entry %llu",
			ULL(m->n), ULL(m->seq));
	if (v->reanchor_ok)
		(void)add_text(n, "re-anchored at entry %llu",
			       ULL(v->reanchor_seq));
	if (v->start_note[0] != '\0')
		(void)add_text(n, "%s", v->start_note);
	return 0;
}
