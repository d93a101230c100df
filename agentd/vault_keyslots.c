/* SPDX-License-Identifier: ISC */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/vault_priv.h"
#include "common/fio.h"
#include "agentd/vault_rows.h"
#include "sandbox/arena.h"

/*
 * Changes to the slot table while the agent serves: keychain and token
 * slots, verifiers and tombstones (docs/vault-format.md).  Only pread,
 * pwrite and fsync on the vault's open fd.
 */

void vault_pending_forget(struct idw_vault *v)
{
	idw_arena_free(v->pend); /* wipes */
	v->pend = NULL;
}

/*
 * The table to read: the one in memory once its MAC was checked, else the
 * file's (head receives the header and areas), vouched for by its
 * checksum only.
 */
static int table_current(const struct idw_vault *v, uint8_t *head,
			 const uint8_t **t, uint32_t *tlen)
{
	struct vault_src src;
	struct stat st;
	char why[128];
	bool other_ok;
	int cur, rc;

	if (!v->initialized)
		return IDW_ENOVAULT;
	if (v->s.verified) {
		*t = v->s.table;
		*tlen = v->s.table_len;
		return 0;
	}
	if (fstat(v->fd, &st) != 0)
		return IDW_EIO;
	src = (struct vault_src){v->fd, NULL, (uint64_t)st.st_size};
	if ((rc = vault_src_read(&src, 0, head, VAULT_JOURNAL_OFF)) != 0)
		return rc;
	if (memcmp(head, v->s.core, VAULT_CORE_SIZE) != 0)
		return IDW_ECORRUPT;
	return vault_area_table(head, head + VAULT_HDR_SIZE, &cur, &other_ok, t,
				tlen, why, sizeof(why));
}

int idw_vault_slots(const struct idw_vault *v, struct idw_slot_info *out,
		    size_t max, size_t *n)
{
	uint8_t head[VAULT_JOURNAL_OFF];
	const uint8_t *t;
	uint32_t tlen;
	int rc;

	*n = 0;
	if ((rc = table_current(v, head, &t, &tlen)) != 0)
		return rc;
	return vault_table_list(t, tlen, out, max, n);
}

static int can_change(const struct idw_vault *v)
{
	if (!v->initialized)
		return IDW_ENOVAULT;
	if (v->k == NULL)
		return IDW_ELOCKED;
	/* A change now would be lost when the compacted file replaces
	 * this one. */
	if (v->cfd >= 0)
		return IDW_EINVAL;
	return 0;
}

/*
 * Write e as the next generation: the area not in use first, then, once
 * that is durable and current, the other one, so no earlier table stays
 * in the file.  v->s changes only after the first fsync.
 */
static int table_commit(struct idw_vault *v, const struct table_edit *e)
{
	return vault_table_commit(v, e, v->k);
}

int vault_table_commit(struct idw_vault *v, const struct table_edit *e,
		       const struct vault_keys *k)
{
	uint8_t area[VAULT_AREA_SIZE];
	struct vault_slots n;
	int first = !v->s.cur, rc = 0;

	if (e->len > VAULT_TABLE_MAX)
		return IDW_ETOOBIG;
	if (v->s.gen == UINT64_MAX)
		return IDW_ETOOBIG;
	n = v->s;
	memset(n.table, 0, sizeof(n.table));
	memcpy(n.table, e->t, e->len);
	n.table_len = (uint32_t)e->len;
	n.gen = v->s.gen + 1;
	n.cur = first;
	vault_area_build(&n, k, area);
	if (idw_pwrite_all(v->fd, area, sizeof(area), VAULT_AREA_OFF(first)) !=
		    0 ||
	    fsync(v->fd) != 0)
		return IDW_EIO;
	v->s = n;
	if (idw_pwrite_all(v->fd, area, sizeof(area), VAULT_AREA_OFF(!first)) !=
		    0 ||
	    fsync(v->fd) != 0)
		rc = IDW_EIO;
	return rc;
}

static bool pending_is(const struct idw_vault *v, uint8_t type, const char *id)
{
	return v->pend != NULL && v->pend->type == type &&
	       strcmp(v->pend->id, id) == 0;
}

/*
 * A token id names one secret for good: a token slot, a verifier, or the
 * tombstone of either; a slot of another kind by the same id is refused.
 */
static bool token_id_taken(const uint8_t *t, size_t len, uint8_t type,
			   const char *id)
{
	struct idw_slot_info info;
	struct row_iter it;
	struct slot_row r;

	vault_rows_begin(&it, t, len);
	while (vault_rows_next(&it, &r) == 1) {
		if (r.type == type || r.type == IDW_SLOT_PASSPHRASE ||
		    !vault_row_known(r.type) ||
		    vault_row_info(&r, &info) != 0 || strcmp(info.id, id) != 0)
			continue;
		if (r.type != IDW_SLOT_TOMBSTONE ||
		    info.revoked_type == IDW_SLOT_TOKEN ||
		    info.revoked_type == IDW_SLOT_VERIFIER)
			return true;
	}
	return false;
}

/* Replace the row of (type, id) with row, dropping old tombstones to fit. */
static int table_put(struct idw_vault *v, uint8_t type, const char *id,
		     const uint8_t *row, size_t len)
{
	struct table_edit e;
	int rc;

	vault_edit_start(&e, v->s.table, v->s.table_len);
	(void)vault_edit_drop(&e, type, id);
	if ((rc = vault_edit_add(&e, row, len)) != 0 ||
	    (rc = vault_edit_fit(&e)) != 0)
		return rc;
	return table_commit(v, &e);
}

/* What each add takes; only a keychain slot may be pending. */
static bool add_ok(const struct idw_slot_info *m, bool verifier)
{
	if (verifier)
		return m->type == IDW_SLOT_VERIFIER && !m->pending;
	if (m->type == IDW_SLOT_KEYCHAIN)
		return strcmp(m->id, IDW_SLOT_KEYCHAIN_ID) == 0;
	return m->type == IDW_SLOT_TOKEN && !m->pending;
}

static int slot_add(struct idw_vault *v, const struct idw_slot_info *meta,
		    const uint8_t *key, bool verifier)
{
	struct vault_pending *pend = NULL;
	struct idw_slot_info info;
	uint8_t row[VAULT_ROW_MAX], *kek = NULL;
	struct slot_row r;
	uint64_t gen = v->s.gen;
	size_t wlen;
	int rc;

	if ((rc = can_change(v)) != 0)
		return rc;
	if (meta == NULL || key == NULL)
		return IDW_EINVAL;
	info = *meta;
	info.revoked_at = 0;
	info.revoked_type = 0;
	if (!vault_slot_info_ok(&info) || !add_ok(&info, verifier))
		return IDW_EINVAL;
	if (info.type != IDW_SLOT_KEYCHAIN &&
	    token_id_taken(v->s.table, v->s.table_len, info.type, info.id))
		return IDW_EEXIST;
	if (verifier)
		wlen = VAULT_VERIFIER_LEN;
	else
		wlen = info.pending ? 0 : VAULT_WRAP_LEN;
	if ((rc = vault_row_build(row, sizeof(row), &info, wlen, &r)) != 0)
		return rc;
	if (verifier) {
		vault_verifier(key, (uint8_t *)r.wrapped);
	} else if (info.pending) {
		/* No wrap until the key is safely stored: keep it here. */
		if ((pend = idw_arena_calloc(1, sizeof(*pend))) == NULL)
			return IDW_ENOMEM;
		pend->type = info.type;
		memcpy(pend->id, info.id, sizeof(pend->id));
		memcpy(pend->key, key, sizeof(pend->key));
	} else {
		if ((kek = idw_arena_alloc(VAULT_KEY_LEN)) == NULL)
			return IDW_ENOMEM;
		if ((rc = vault_kek_from_key(info.type, key, v->s.core, kek)) !=
		    0)
			goto out;
		vault_row_seal(&r, v->s.core, kek, v->k->vk);
	}
	rc = table_put(v, info.type, info.id, row, r.len);
	/* In effect once the first area is written, even when the second
	 * write then failed. */
	if (v->s.gen != gen && pending_is(v, info.type, info.id))
		vault_pending_forget(v);
	if (v->s.gen != gen && pend != NULL) {
		v->pend = pend;
		pend = NULL;
	}
out:
	idw_arena_free(pend);
	idw_arena_free(kek);
	return rc;
}

int idw_vault_slot_add_key(struct idw_vault *v,
			   const struct idw_slot_info *meta,
			   const uint8_t key[32])
{
	return slot_add(v, meta, key, false);
}

int idw_vault_slot_add_verifier(struct idw_vault *v,
				const struct idw_slot_info *meta,
				const uint8_t secret[32])
{
	return slot_add(v, meta, secret, true);
}

int idw_vault_slot_confirm(struct idw_vault *v, uint8_t type, const char *id)
{
	struct idw_slot_info info;
	uint8_t row[VAULT_ROW_MAX], *kek = NULL;
	struct slot_row r;
	uint64_t gen = v->s.gen;
	int rc;

	if ((rc = can_change(v)) != 0)
		return rc;
	if (id == NULL || type != IDW_SLOT_KEYCHAIN)
		return IDW_EINVAL;
	if (vault_table_find(v->s.table, v->s.table_len, type, id, &r) != 0 ||
	    vault_row_info(&r, &info) != 0)
		return IDW_ENOENT;
	if (!info.pending)
		return 0;
	if (!pending_is(v, type, id))
		return IDW_ENOENT;
	info.pending = false;
	if ((rc = vault_row_build(row, sizeof(row), &info, VAULT_WRAP_LEN,
				  &r)) != 0)
		return rc;
	if ((kek = idw_arena_alloc(VAULT_KEY_LEN)) == NULL)
		return IDW_ENOMEM;
	if ((rc = vault_kek_from_key(type, v->pend->key, v->s.core, kek)) != 0)
		goto out;
	vault_row_seal(&r, v->s.core, kek, v->k->vk);
	rc = table_put(v, type, id, row, r.len);
	if (v->s.gen != gen)
		vault_pending_forget(v);
out:
	idw_arena_free(kek);
	return rc;
}

int idw_vault_slot_remove(struct idw_vault *v, uint8_t type, const char *id,
			  int64_t revoked_at, bool tombstone)
{
	struct idw_slot_info info, ts;
	uint8_t row[VAULT_ROW_MAX];
	struct table_edit e;
	struct slot_row r;
	uint64_t gen = v->s.gen;
	int rc;

	if ((rc = can_change(v)) != 0)
		return rc;
	/* The passphrase slot is what a rekey starts from: never here. */
	if (id == NULL || !vault_row_known(type) ||
	    type == IDW_SLOT_PASSPHRASE ||
	    (type == IDW_SLOT_TOMBSTONE && tombstone))
		return IDW_EINVAL;
	if (vault_table_find(v->s.table, v->s.table_len, type, id, &r) != 0 ||
	    vault_row_info(&r, &info) != 0)
		return IDW_ENOENT;
	vault_edit_start(&e, v->s.table, v->s.table_len);
	(void)vault_edit_drop(&e, type, id);
	if (tombstone && !info.pending) {
		memset(&ts, 0, sizeof(ts));
		ts.type = IDW_SLOT_TOMBSTONE;
		memcpy(ts.id, info.id, sizeof(ts.id));
		memcpy(ts.label, info.label, sizeof(ts.label));
		memcpy(ts.principal, info.principal, sizeof(ts.principal));
		ts.revoked_at = revoked_at;
		ts.revoked_type = type;
		if ((rc = vault_row_build(row, sizeof(row), &ts, 0, &r)) != 0 ||
		    (rc = vault_edit_add(&e, row, r.len)) != 0)
			return rc;
	}
	if ((rc = vault_edit_fit(&e)) != 0)
		return rc;
	rc = table_commit(v, &e);
	if (v->s.gen != gen && pending_is(v, type, id))
		vault_pending_forget(v);
	return rc;
}

int idw_vault_verifier_check(const struct idw_vault *v, const char *id,
			     const uint8_t secret[32])
{
	uint8_t head[VAULT_JOURNAL_OFF], h[VAULT_VERIFIER_LEN];
	uint8_t *kek = NULL, *vk = NULL;
	const uint8_t *t;
	struct slot_row r;
	uint32_t tlen;
	int rc;

	if (id == NULL || secret == NULL)
		return IDW_EINVAL;
	if ((rc = table_current(v, head, &t, &tlen)) != 0)
		return rc;
	if (vault_table_find(t, tlen, IDW_SLOT_VERIFIER, id, &r) == 0) {
		vault_verifier(secret, h);
		rc = sodium_memcmp(h, r.wrapped, sizeof(h)) == 0 ? 0
								 : IDW_EUNLOCK;
		sodium_memzero(h, sizeof(h));
		return rc;
	}
	if (vault_table_find(t, tlen, IDW_SLOT_TOKEN, id, &r) != 0)
		return IDW_ENOENT;
	/* A token that unlocks proves itself by opening its wrap. */
	kek = idw_arena_alloc(VAULT_KEY_LEN);
	vk = idw_arena_alloc(VAULT_KEY_LEN);
	if (kek == NULL || vk == NULL) {
		rc = IDW_ENOMEM;
		goto out;
	}
	if ((rc = vault_kek_from_key(IDW_SLOT_TOKEN, secret, v->s.core, kek)) ==
	    0)
		rc = vault_row_open(&r, v->s.core, kek, vk);
out:
	idw_arena_free(vk);
	idw_arena_free(kek);
	return rc;
}
