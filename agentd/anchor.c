/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentd/agent.h"
#include "agentd/anchor.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define CKPT_KIND "checkpoint"
#define CKPT_ID "audit"
#define ULL(x) ((unsigned long long)(x))

static void note(struct anchor_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct anchor_state *st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->why, sizeof(st->why), fmt, ap);
	va_end(ap);
}

static int mark_from_meta(const cJSON *meta, struct anchor_state *st)
{
	const char *chain = idw_json_str(meta, "chain");
	const cJSON *re = cJSON_GetObjectItemCaseSensitive(meta, "reanchor");
	int64_t n = idw_json_int(meta, "n", 0),
		seq = idw_json_int(meta, "seq", -1),
		end = idw_json_int(meta, "end", 0);
	size_t got = 0;

	if (n < 1 || seq < 0 || end < 16 || chain == NULL ||
	    sodium_hex2bin(st->mark.chain, AUDIT_CHAIN, chain, strlen(chain),
			   NULL, &got, NULL) != 0 ||
	    got != AUDIT_CHAIN)
		return IDW_ECORRUPT;
	st->mark.n = (uint64_t)n;
	st->mark.seq = (uint64_t)seq;
	st->mark.end = (uint64_t)end;
	st->reanchor_seq = (uint64_t)idw_json_int(re, "seq", 0);
	return 0;
}

static cJSON *mark_to_meta(const struct audit_mark *m, int64_t t)
{
	char hex[2 * AUDIT_CHAIN + 1], tbuf[IDW_TIME_LEN];
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	sodium_bin2hex(hex, sizeof(hex), m->chain, AUDIT_CHAIN);
	idw_time_fmt_utc(t, tbuf);
	if (cJSON_AddNumberToObject(o, "n", (double)m->n) == NULL ||
	    cJSON_AddNumberToObject(o, "seq", (double)m->seq) == NULL ||
	    cJSON_AddNumberToObject(o, "end", (double)m->end) == NULL ||
	    cJSON_AddStringToObject(o, "chain", hex) == NULL ||
	    cJSON_AddStringToObject(o, "time", tbuf) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static void record(struct agent *a, const struct audit_event *ev)
{
	if (audit_append(&a->audit, ev) != 0)
		return; /* held: written when the log takes writes */
}

static void agent_note(struct agent *a, const char *action, const char *result,
		       const char *reason)
{
	record(a, &(struct audit_event){
			  .principal = "agent",
			  .action = action,
			  .result = result,
			  .reason = reason,
		  });
}

/* An anchor-tagged note ("checkpoint" failed or unverified). */
static void anchor_note(struct agent *a, const char *result, const char *reason)
{
	if (audit_append_anchor(&a->audit, 0, "checkpoint", NULL, result,
				reason, NULL) != 0)
		return; /* held */
}

/* What the walk found against what the vault says. */
static void cross_check(struct agent *a, bool bad_record)
{
	struct anchor_state *st = &a->anchor;
	const struct audit_found *f = &a->audit.found;
	uint64_t vn = st->have ? st->mark.n : 0;

	if (bad_record)
		note(st, "the vault's checkpoint record is malformed");
	else if (st->have && !f->mark_ok && f->last_seq < st->mark.seq)
		note(st,
		     "the audit log ends at entry %llu but the vault's "
		     "checkpoint %llu vouches for entries up to %llu: the log "
		     "was cut",
		     ULL(f->last_seq), ULL(st->mark.n), ULL(st->mark.seq));
	else if (st->have && !f->mark_ok)
		note(st,
		     "audit entry %llu is not the one the vault's checkpoint "
		     "%llu vouches for: the log was cut and written again, or "
		     "replaced, at or before it",
		     ULL(st->mark.seq), ULL(st->mark.n));
	else if (f->anchor_n > vn)
		note(st,
		     "the audit log names vault checkpoint %llu but the "
		     "vault's "
		     "newest is %llu: the vault's journal was cut, or an older "
		     "vault was put back",
		     ULL(f->anchor_n), ULL(vn));
	else
		return;
	st->suspended = true;
	anchor_note(a, "failed", st->why);
}

/* Entries about a critical passport are synced before they return. */
static bool passport_critical(void *ctx, const char *id)
{
	struct agent *a = ctx;
	struct store_item *it = store_find(&a->store, "passport", id);
	const char *tier = it ? idw_json_str(it->meta, "access_tier") : NULL;

	return tier != NULL && strcmp(tier, "critical") == 0;
}

int anchor_unlock(struct agent *a, const uint8_t key[AUDIT_KEY_LEN], char *why,
		  size_t whylen)
{
	struct anchor_state *st = &a->anchor;
	const struct audit_found *f = &a->audit.found;
	struct store_item *it = store_find(&a->store, CKPT_KIND, CKPT_ID);
	bool bad_record = false;
	char text[300];
	int r;

	memset(st, 0, sizeof(*st));
	a->audit.critical = passport_critical;
	a->audit.critical_ctx = a;
	if (it != NULL && !(bad_record = mark_from_meta(it->meta, st) != 0))
		st->have = true;
	r = audit_unlock_at(&a->audit, key, st->have ? &st->mark : NULL, why,
			    whylen);
	if (r != 0)
		return r;
	st->journal_end = idw_vault_journal_size(a->vault);
	cross_check(a, bad_record);
	if (f->damaged != 0)
		agent_note(a, "audit damage", "failed", f->damaged_why);
	if (!st->suspended && st->have && f->after_mark > 0) {
		snprintf(
			text, sizeof(text),
			"when the agent started, entries %llu to %llu followed "
			"the vault's checkpoint %llu: the agent had not "
			"stopped "
			"cleanly, so a cut among them would not show",
			ULL(f->last_seq - f->after_mark + 1), ULL(f->last_seq),
			ULL(st->mark.n));
		anchor_note(a, "unverified", text);
	}
	st->due = !st->suspended;
	return 0;
}

static uint64_t next_n(const struct agent *a)
{
	uint64_t n = a->anchor.have ? a->anchor.mark.n : 0;

	return (a->audit.found.anchor_n > n ? a->audit.found.anchor_n : n) + 1;
}

static int write_checkpoint(struct agent *a, const char *principal,
			    const char *reason)
{
	struct anchor_state *st = &a->anchor;
	char text[200];
	struct audit_mark m, old = st->mark;
	cJSON *meta, *extra = NULL, *re;
	uint64_t n = next_n(a);
	int r;

	if (a->locked || a->audit.keys == NULL || a->vault == NULL ||
	    !idw_vault_initialized(a->vault))
		return IDW_ELOCKED;
	/* The files disagree: keep the evidence until a person re-anchors. */
	if (st->suspended && reason == NULL)
		return 0;
	/* The vault never vouches for an entry that is not on disk. */
	if (a->audit.broken || a->audit.nheld > 0 ||
	    audit_sync(&a->audit) != 0) {
		st->due = true;
		note(st, "a checkpoint waits for the audit log to take writes");
		return IDW_EIO;
	}
	audit_head_mark(&a->audit, &m);
	m.n = n;
	if ((meta = mark_to_meta(&m, idw_now())) == NULL)
		return IDW_ENOMEM;
	if (reason != NULL) {
		re = cJSON_AddObjectToObject(meta, "reanchor");
		if (re == NULL ||
		    !cJSON_AddNumberToObject(re, "seq", (double)(m.seq + 1)) ||
		    !cJSON_AddStringToObject(re, "reason", reason) ||
		    !cJSON_AddStringToObject(re, "by", principal)) {
			cJSON_Delete(meta);
			return IDW_ENOMEM;
		}
	}
	r = store_put(&a->store, a->vault, CKPT_KIND, CKPT_ID, meta, NULL, 0);
	if (r != 0) {
		st->due = true;
		note(st, "writing the vault's checkpoint failed: %s",
		     idw_strerror(r));
		return r;
	}
	st->mark = m;
	st->have = true;
	st->journal_end = idw_vault_journal_size(a->vault);
	st->due = false;
	st->why[0] = '\0';
	if (reason != NULL) {
		st->reanchor_seq = m.seq + 1;
		st->suspended = false;
		extra = cJSON_CreateObject();
		if (extra != NULL) {
			cJSON_AddNumberToObject(extra, "replaces_checkpoint",
						(double)old.n);
			cJSON_AddNumberToObject(
				extra, "replaces_log_anchor",
				(double)a->audit.found.anchor_n);
		}
	}
	snprintf(text, sizeof(text),
		 "vault checkpoint %llu vouches for entries up to %llu", ULL(n),
		 ULL(m.seq));
	r = audit_append_anchor(&a->audit, n,
				reason ? "re-anchor" : "checkpoint", principal,
				"ok", reason ? reason : text, extra);
	a->audit.found.anchor_n = n;
	if (r == 0 && reason != NULL)
		r = audit_sync(&a->audit);
	return r == IDW_ETOOBIG ? r : 0;
}

int anchor_checkpoint(struct agent *a)
{
	return write_checkpoint(a, NULL, NULL);
}

int anchor_reanchor(struct agent *a, const char *principal, const char *reason)
{
	if (principal == NULL || reason == NULL || reason[0] == '\0')
		return IDW_EUSAGE;
	return write_checkpoint(a, principal, reason);
}

void anchor_after_request(struct agent *a)
{
	struct anchor_state *st = &a->anchor;

	if (a->locked || a->audit.keys == NULL || a->vault == NULL ||
	    !idw_vault_initialized(a->vault) || st->suspended)
		return;
	if (st->due || idw_vault_journal_size(a->vault) != st->journal_end ||
	    a->audit.seq >= st->mark.seq + ANCHOR_EVERY)
		(void)anchor_checkpoint(a);
}

void anchor_status(struct agent *a, cJSON *o)
{
	struct anchor_state *st = &a->anchor;
	struct audit *au = &a->audit;

	if (a->locked || au->keys == NULL)
		return;
	if (au->broken || au->nheld > 0 || au->dropped > 0)
		(void)audit_retry(au);
	cJSON_AddNumberToObject(o, "audit_entries", (double)au->seq);
	cJSON_AddNumberToObject(o, "audit_held",
				(double)(au->nheld + au->dropped));
	cJSON_AddBoolToObject(o, "audit_synced", au->dirty_ms == 0);
	if (st->have)
		cJSON_AddNumberToObject(o, "audit_checkpoint",
					(double)st->mark.n);
	if (st->suspended || st->why[0] != '\0')
		cJSON_AddStringToObject(o, "audit_anchor", st->why);
	if (au->found.damaged != 0)
		cJSON_AddStringToObject(o, "audit_damage",
					au->found.damaged_why);
}
