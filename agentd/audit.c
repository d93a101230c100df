/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/audit.h"
#include "agentd/audit_fmt.h"
#include "common/buf.h"
#include "common/fio.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

/* The body's fields after seq and time, in this order. */
static const char *const field_names[] = {
	"principal", "claimed_actor", "action", "passport_id",
	"platform",  "purpose",	      "result", "reason",
};
#define NFIELDS (sizeof(field_names) / sizeof(field_names[0]))

void audit_init(struct audit *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

/* Words for what the agent meets when a disk fills; strerror may load
 * message catalogs, which the sandbox does not allow. */
static const char *errno_words(int e)
{
	switch (e) {
	case ENOSPC:
		return "no space left on the disk";
	case EDQUOT:
		return "the disk quota is exceeded";
	case EFBIG:
		return "the file size limit was reached";
	case EIO:
		return "an input/output error";
	case EROFS:
		return "the file system is read-only";
	case EBADF:
	case EINVAL:
		return "the file refuses writes";
	default:
		return "a system error";
	}
}

int audit_open(struct audit *a, const char *path)
{
	uint8_t hdr[AUDIT_HDR_LEN];
	struct stat st;
	int r;

	a->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->fd < 0)
		return IDW_EIO;
	if (fstat(a->fd, &st) != 0) {
		r = IDW_EIO;
		goto out;
	}
	if (st.st_size == 0) {
		memset(hdr, 0, sizeof(hdr));
		memcpy(hdr, AUDIT_MAGIC, 4);
		idw_le16_put(hdr + 4, AUDIT_VERSION);
		if ((r = idw_pwrite_all(a->fd, hdr, sizeof(hdr), 0)) != 0)
			goto out;
		if (fsync(a->fd) != 0) {
			r = IDW_EIO;
			goto out;
		}
	} else if ((r = audit_fmt_header_check(a->fd)) != 0) {
		goto out;
	}
	a->end = AUDIT_HDR_LEN;
	r = 0;
out:
	/* A failed open leaves nothing open behind it. */
	if (r != 0) {
		close(a->fd);
		a->fd = -1;
	}
	return r;
}

static int mark_broken(struct audit *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int mark_broken(struct audit *a, const char *fmt, ...)
{
	va_list ap;

	a->broken = true;
	va_start(ap, fmt);
	vsnprintf(a->broken_why, sizeof(a->broken_why), fmt, ap);
	va_end(ap);
	return IDW_EIO;
}

static cJSON *fields_of(const struct audit_event *ev)
{
	const char *v[NFIELDS] = {
		ev->principal, ev->claimed_actor, ev->action, ev->passport_id,
		ev->platform,  ev->purpose,	  ev->result, ev->reason,
	};
	cJSON *f = cJSON_CreateObject();

	for (size_t i = 0; f != NULL && i < NFIELDS; i++) {
		cJSON *it =
			v[i] ? cJSON_CreateString(v[i]) : cJSON_CreateNull();

		if (it == NULL ||
		    !cJSON_AddItemToObject(f, field_names[i], it)) {
			cJSON_Delete(it);
			cJSON_Delete(f);
			f = NULL;
		}
	}
	return f;
}

/* Anchor entries are found by their tag, like a passport's. */
static bool is_anchor(const cJSON *f)
{
	const char *act = idw_json_str(f, "action");

	return act != NULL && (strcmp(act, "checkpoint") == 0 ||
			       strcmp(act, "re-anchor") == 0);
}

/* The file must be the one we wrote: linked, and as long as we left it. */
static int check_file(struct audit *a)
{
	struct stat st;

	if (fstat(a->fd, &st) != 0)
		return mark_broken(a, "the audit log cannot be checked");
	if (st.st_nlink == 0) {
		a->unlinked = true;
		return mark_broken(a, "the audit log has no link any more "
				      "(deleted or replaced): restart the "
				      "agent");
	}
	if ((uint64_t)st.st_size < a->end) {
		a->cut = true;
		return mark_broken(
			a,
			"the audit log is %llu bytes shorter than "
			"the agent left it: it was cut; restart the "
			"agent and run 'idw audit verify'",
			(unsigned long long)(a->end - (uint64_t)st.st_size));
	}
	if ((uint64_t)st.st_size > a->end)
		return mark_broken(
			a,
			"the audit log holds %llu bytes the "
			"agent did not write",
			(unsigned long long)((uint64_t)st.st_size - a->end));
	return 0;
}

/* Encrypt, chain and write one entry at the end: nothing or all of it. */
static int write_rec(struct audit *a, const cJSON *f, int64_t t, bool sync)
{
	uint8_t h[AUDIT_ENTRY_HDR], chain[AUDIT_CHAIN];
	char tbuf[IDW_TIME_LEN], *body = NULL;
	const cJSON *it;
	struct idw_buf e;
	cJSON *o;
	size_t blen;
	int r;

	if ((r = check_file(a)) != 0)
		return r;
	idw_buf_init(&e, AUDIT_ENTRY_MAX, 0);
	if ((o = cJSON_CreateObject()) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	idw_time_fmt_local(t, tbuf);
	cJSON_AddNumberToObject(o, "seq", (double)(a->seq + 1));
	cJSON_AddStringToObject(o, "time", tbuf);
	cJSON_ArrayForEach(it, f)
	{
		cJSON *d = cJSON_Duplicate(it, 1);

		if (d == NULL || !cJSON_AddItemToObject(o, it->string, d)) {
			cJSON_Delete(d);
			r = IDW_ENOMEM;
			goto out;
		}
	}
	if ((body = idw_json_print(o)) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	blen = strlen(body);
	if (blen > AUDIT_MAX_BODY - AUDIT_ABYTES) {
		r = IDW_ETOOBIG;
		goto out;
	}
	idw_le32_put(h, (uint32_t)(blen + AUDIT_ABYTES));
	idw_le64_put(h + AUDIT_OFF_SEQ, a->seq + 1);
	audit_fmt_tag(a->keys,
		      is_anchor(f) ? AUDIT_ANCHOR_ID
				   : idw_json_str(f, "passport_id"),
		      h + AUDIT_OFF_TAG);
	randombytes_buf(h + AUDIT_OFF_NONCE, 24);
	if ((r = idw_buf_put(&e, h, sizeof(h))) != 0 ||
	    (r = idw_buf_reserve(&e, blen + AUDIT_ABYTES + AUDIT_CHAIN)) != 0)
		goto out;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		e.d + e.len, NULL, (const uint8_t *)body, blen, h, AUDIT_AD_LEN,
		NULL, h + AUDIT_OFF_NONCE, a->keys + AUDIT_K_ENC);
	e.len += blen + AUDIT_ABYTES;
	{
		struct audit_chainer ch;

		audit_chainer_init(&ch, a->keys);
		audit_chainer_next(&ch, a->head, e.d, e.len, chain);
	}
	if ((r = idw_buf_put(&e, chain, sizeof(chain))) != 0)
		goto out;
	if (idw_pwrite_all(a->fd, e.d, e.len, a->end) != 0 ||
	    (sync && fsync(a->fd) != 0)) {
		/* Leave no part of an entry behind; refuse until it heals. */
		int saved = errno, cut = ftruncate(a->fd, (off_t)a->end);

		(void)cut; /* a retry cuts again before it writes */
		r = mark_broken(a, "writing the audit log failed: %s",
				errno_words(saved));
		goto out;
	}
	if (sync)
		a->dirty_ms = 0;
	else if (a->dirty_ms == 0)
		a->dirty_ms = idw_boot_ms() | 1;
	a->end += e.len;
	a->seq++;
	memcpy(a->head, chain, sizeof(chain));
	r = 0;
out:
	if (body != NULL)
		cJSON_free(body);
	cJSON_Delete(o);
	idw_buf_free(&e);
	return r;
}

static int retry_held(struct audit *a);

static void hold(struct audit *a, cJSON *f, int64_t t, bool sync)
{
	if (f == NULL || a->nheld == AUDIT_HELD_MAX) {
		a->dropped++;
		cJSON_Delete(f);
		return;
	}
	a->held[a->nheld++] = (struct audit_held){f, t, sync};
}

/* Write f, or hold it (consumed either way). */
static int append_fields(struct audit *a, cJSON *f, int64_t t, bool sync,
			 bool gate)
{
	int r;

	if (f == NULL)
		return IDW_ENOMEM;
	/* What waits goes first; if the log still refuses, this waits too. */
	if (a->keys != NULL && (a->broken || a->nheld > 0 || a->dropped > 0))
		retry_held(a);
	if (a->fd < 0 || a->keys == NULL || a->broken || a->nheld > 0) {
		r = a->keys == NULL ? IDW_ELOCKED : IDW_EIO;
		if (gate)
			cJSON_Delete(f);
		else
			hold(a, f, t, sync);
		return r;
	}
	r = write_rec(a, f, t, sync);
	if (r != 0 && r != IDW_ETOOBIG && !gate) {
		hold(a, f, t, sync);
		return r;
	}
	cJSON_Delete(f);
	return r;
}

/* A value leaves only once its "allowed" entry is written. */
static bool is_gate(const struct audit_event *ev)
{
	return ev->gate ||
	       (ev->result != NULL && strcmp(ev->result, "allowed") == 0);
}

int audit_append(struct audit *a, const struct audit_event *ev)
{
	int64_t t = ev->time ? ev->time : idw_now();
	bool gate = is_gate(ev),
	     sync = ev->sync || (a->critical != NULL && ev->passport_id &&
				 a->critical(a->critical_ctx, ev->passport_id));
	struct audit_event denial;
	char why[240];
	int r;

	r = append_fields(a, fields_of(ev), t, sync, gate);
	if (r == 0 || r == IDW_ETOOBIG || r == IDW_ENOMEM || !gate)
		return r;
	/* Nothing leaves: the attempt is kept as the refusal it became. */
	snprintf(why, sizeof(why),
		 "nothing was released: the audit log could not be written "
		 "(%s)",
		 a->broken ? a->broken_why : "the agent is locked");
	denial = *ev;
	denial.result = "denied";
	denial.reason = why;
	hold(a, fields_of(&denial), t, sync);
	return r;
}

int audit_append_anchor(struct audit *a, uint64_t n, const char *action,
			const char *principal, const char *result,
			const char *reason, cJSON *extra)
{
	struct audit_event ev = {
		.principal = principal ? principal : "agent",
		.action = action,
		.result = result,
		.reason = reason,
	};
	cJSON *f = fields_of(&ev);

	if (f != NULL && n > 0 &&
	    cJSON_AddNumberToObject(f, "checkpoint", (double)n) == NULL) {
		cJSON_Delete(f);
		f = NULL;
	}
	while (f != NULL && extra != NULL && extra->child != NULL) {
		cJSON *it = cJSON_DetachItemViaPointer(extra, extra->child);

		cJSON_DeleteItemFromObjectCaseSensitive(f, it->string);
		cJSON_AddItemToObject(f, it->string, it);
	}
	cJSON_Delete(extra);
	return append_fields(a, f, idw_now(), false, false);
}

int audit_sync(struct audit *a)
{
	if (a->dirty_ms == 0 || a->fd < 0)
		return 0;
	if (fsync(a->fd) != 0)
		return mark_broken(a, "syncing the audit log failed: %s",
				   errno_words(errno));
	a->dirty_ms = 0;
	return 0;
}

uint64_t audit_sync_due(const struct audit *a)
{
	return a->dirty_ms ? a->dirty_ms + AUDIT_SYNC_DELAY_MS : 0;
}

void audit_tick(struct audit *a, uint64_t now_ms)
{
	if (a->dirty_ms != 0 && now_ms >= audit_sync_due(a) &&
	    audit_sync(a) != 0)
		return; /* marked broken: releases are refused */
}

static int retry_held(struct audit *a)
{
	struct stat st;
	bool sync = false;
	int r;

	if (a->keys == NULL)
		return IDW_ELOCKED;
	if (a->unlinked || a->cut)
		return IDW_EIO;
	if (a->broken) {
		if (fstat(a->fd, &st) != 0)
			return IDW_EIO;
		if ((r = check_file(a)) != 0 && (a->unlinked || a->cut))
			return r;
		/* A failed write may have left part of an entry: drop it. */
		if ((uint64_t)st.st_size > a->end &&
		    ftruncate(a->fd, (off_t)a->end) != 0)
			return IDW_EIO;
		if (a->dirty_ms != 0 && fsync(a->fd) != 0)
			return IDW_EIO;
		a->dirty_ms = 0;
		a->broken = false;
		a->broken_why[0] = '\0';
	}
	while (a->nheld > 0) {
		struct audit_held *h = &a->held[0];

		r = write_rec(a, h->f, h->time, false);
		if (r != 0 && r != IDW_ETOOBIG)
			return r;
		if (r == IDW_ETOOBIG)
			a->dropped++;
		sync |= h->sync;
		cJSON_Delete(h->f);
		a->nheld--;
		memmove(a->held, a->held + 1, a->nheld * sizeof(a->held[0]));
	}
	if (a->dropped > 0) {
		char why[160];
		struct audit_event ev = {
			.principal = "agent",
			.action = "audit overflow",
			.result = "failed",
			.reason = why,
		};
		cJSON *f;

		snprintf(why, sizeof(why),
			 "%llu events were not recorded: more than %d waited "
			 "while the audit log could not be written",
			 (unsigned long long)a->dropped, AUDIT_HELD_MAX);
		if ((f = fields_of(&ev)) == NULL)
			return IDW_ENOMEM;
		r = write_rec(a, f, idw_now(), true);
		cJSON_Delete(f);
		if (r != 0)
			return r;
		a->dropped = 0;
	}
	return sync ? audit_sync(a) : 0;
}

int audit_retry(struct audit *a)
{
	return retry_held(a);
}

void audit_head_mark(const struct audit *a, struct audit_mark *m)
{
	memset(m, 0, sizeof(*m));
	m->seq = a->seq;
	m->end = a->end;
	memcpy(m->chain, a->head, sizeof(m->chain));
}

void audit_lock(struct audit *a)
{
	if (audit_sync(a) != 0)
		a->dirty_ms |= 1; /* broken: the next retry syncs again */
	idw_arena_free(a->keys);
	a->keys = NULL;
}

void audit_close(struct audit *a)
{
	audit_lock(a);
	for (size_t i = 0; i < a->nheld; i++)
		cJSON_Delete(a->held[i].f);
	a->nheld = 0;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}
