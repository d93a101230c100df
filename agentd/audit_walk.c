/* SPDX-License-Identifier: ISC */
/*
 * The walk at unlock: find the head the next entry chains to, cut a torn
 * final entry, and note what the cross-check with the vault needs (is the
 * vault's checkpoint in the file, which is the newest anchor entry, which
 * entry first fails its check).  From the vault's checkpoint when the
 * file holds it, so a start reads only what came after it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/audit.h"
#include "agentd/audit_fmt.h"
#include "common/fio.h"
#include "common/buf.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

struct walk {
	struct audit_chainer ch;
	uint8_t anchor_tag[AUDIT_HASH_LEN];
	const struct audit_mark *mark;
	uint64_t pos; /* place in the file of the last entry walked */
	uint64_t prev_seq;
	uint8_t prev[AUDIT_CHAIN];
	bool mark_seen;
	uint64_t mark_pos;
	bool any_ok;
	uint64_t walked;
};

/* Does the file hold the mark's entry where the mark says it ends? */
static bool mark_holds(int fd, const struct audit_mark *m)
{
	uint8_t c[AUDIT_CHAIN];
	struct stat st;

	if (m == NULL || fstat(fd, &st) != 0 || m->end < AUDIT_HDR_LEN ||
	    m->end > (uint64_t)st.st_size)
		return false;
	if (m->seq == 0)
		return m->end == AUDIT_HDR_LEN;
	if (m->end < AUDIT_HDR_LEN + AUDIT_ENTRY_MIN ||
	    idw_pread_all(fd, c, sizeof(c), m->end - AUDIT_CHAIN) != 0)
		return false;
	return sodium_memcmp(c, m->chain, AUDIT_CHAIN) == 0;
}

/* An anchor entry: the newest checkpoint number it names. */
static bool note_anchor(struct audit *a, const struct walk *w, const uint8_t *e,
			size_t elen, uint64_t seq)
{
	cJSON *o = audit_fmt_open(a->keys, e, elen);
	uint64_t n = o ? (uint64_t)idw_json_int(o, "checkpoint", 0) : 0;
	bool own = w->mark != NULL && w->mark_seen &&
		   w->pos == w->mark_pos + 1 && n == w->mark->n;

	cJSON_Delete(o);
	if (n > a->found.anchor_n) {
		a->found.anchor_n = n;
		a->found.anchor_seq = seq;
	}
	return own;
}

static void walk_entry(struct audit *a, struct walk *w, const uint8_t *e,
		       size_t elen, uint64_t off)
{
	uint64_t seq = idw_le64_get(e + AUDIT_OFF_SEQ);
	bool own = false;

	w->pos++;
	w->walked++;
	if (seq == w->prev_seq + 1 &&
	    audit_chainer_check(&w->ch, w->prev, e, elen))
		w->any_ok = true;
	else if (a->found.damaged == 0) {
		a->found.damaged = w->pos;
		audit_fmt_describe(a->found.damaged_why,
				   sizeof(a->found.damaged_why), w->pos, off,
				   seq, w->prev_seq + 1);
	}
	if (memcmp(e + AUDIT_OFF_TAG, w->anchor_tag, AUDIT_HASH_LEN) == 0)
		own = note_anchor(a, w, e, elen, seq);
	if (w->mark_seen && !own)
		a->found.after_mark++;
	if (!w->mark_seen && w->mark != NULL && seq == w->mark->seq &&
	    sodium_memcmp(e + elen - AUDIT_HASH_LEN, w->mark->chain,
			  AUDIT_CHAIN) == 0) {
		w->mark_seen = true;
		w->mark_pos = w->pos;
		a->found.mark_ok = true;
	}
	w->prev_seq = seq;
	memcpy(w->prev, e + elen - AUDIT_HASH_LEN, AUDIT_HASH_LEN);
}

/* A crash mid-append: drop the partial entry, keep the rest. */
static int cut_torn(struct audit *a, const struct audit_scan *s)
{
	if (ftruncate(a->fd, (off_t)s->off) != 0 || fsync(a->fd) != 0)
		return IDW_EIO;
	a->found.torn_bytes = s->size - s->off;
	return 0;
}

static int walk(struct audit *a, const struct audit_mark *mark, char *why,
		size_t whylen)
{
	bool from_mark = mark_holds(a->fd, mark);
	struct audit_scan s;
	struct walk w;
	int r;

	memset(&w, 0, sizeof(w));
	memset(&a->found, 0, sizeof(a->found));
	audit_chainer_init(&w.ch, a->keys);
	audit_fmt_tag(a->keys, AUDIT_ANCHOR_ID, w.anchor_tag);
	w.mark = mark;
	if (mark != NULL && (from_mark || mark->seq == 0)) {
		w.mark_seen = a->found.mark_ok = true;
		w.mark_pos = mark->seq;
	}
	if (from_mark) {
		w.pos = w.prev_seq = mark->seq;
		memcpy(w.prev, mark->chain, AUDIT_CHAIN);
	}
	r = audit_scan_begin(&s, a->fd, from_mark ? mark->end : AUDIT_HDR_LEN,
			     0);
	if (r != 0)
		return r;
	while ((r = audit_scan_next(&s)) == 1)
		walk_entry(a, &w, s.e, s.elen, s.off);
	/* Cut only a clean tail: never after a break, never good entries. */
	if (r == IDW_ETRUNCATED && a->found.damaged == 0 &&
	    (s.size - s.off < AUDIT_ENTRY_HDR ||
	     !audit_scan_entry_later(&s, w.prev_seq + 2)))
		r = cut_torn(a, &s);
	if (r == IDW_ETRUNCATED || r == IDW_ECORRUPT) {
		char what[120];

		snprintf(what, sizeof(what),
			 "audit entry %llu at byte %llu has a %s length",
			 (unsigned long long)(w.pos + 1),
			 (unsigned long long)s.off,
			 r == IDW_ETRUNCATED ? "damaged" : "bad");
		if (a->found.damaged != 0)
			snprintf(why, whylen,
				 "%s; the entries after it cannot be read (%s)",
				 a->found.damaged_why, what);
		else
			snprintf(why, whylen, "%s", what);
		r = IDW_ECORRUPT;
		goto out;
	}
	if (r != 0)
		goto out;
	if (w.walked > 0 && !w.any_ok && !from_mark) {
		snprintf(why, whylen,
			 "%s: the log is damaged or belongs to another vault",
			 a->found.damaged_why);
		r = IDW_ECORRUPT;
		goto out;
	}
	a->seq = a->found.last_seq = w.prev_seq;
	memcpy(a->head, w.prev, AUDIT_CHAIN);
	a->end = s.off;
out:
	audit_scan_end(&s);
	return r;
}

int audit_unlock_at(struct audit *a, const uint8_t key[AUDIT_KEY_LEN],
		    const struct audit_mark *mark, char *why, size_t whylen)
{
	char note[120];
	struct stat st;
	int r;

	audit_lock(a);
	why[0] = '\0';
	if ((a->keys = idw_arena_alloc(AUDIT_K_ALL)) == NULL)
		return IDW_ENOMEM;
	audit_fmt_derive(a->keys, key);
	if ((r = walk(a, mark, why, whylen)) != 0) {
		audit_lock(a);
		return r;
	}
	/* A log deleted under a locked agent stays refused. */
	if (fstat(a->fd, &st) == 0 && st.st_nlink > 0) {
		a->broken = a->cut = a->unlinked = false;
		a->broken_why[0] = '\0';
	}
	if (audit_retry(a) != 0)
		return 0; /* broken: releases are refused, status says why */
	if (a->found.torn_bytes > 0) {
		snprintf(note, sizeof(note),
			 "a torn final entry of %llu bytes was cut from the "
			 "audit log",
			 (unsigned long long)a->found.torn_bytes);
		if (audit_append(a, &(struct audit_event){
					    .principal = "agent",
					    .action = "torn-tail truncation",
					    .result = "ok",
					    .reason = note,
				    }) != 0)
			return 0; /* held, and the log marked broken */
	}
	return 0;
}

int audit_unlock(struct audit *a, const uint8_t key[AUDIT_KEY_LEN], char *why,
		 size_t whylen)
{
	return audit_unlock_at(a, key, NULL, why, whylen);
}
