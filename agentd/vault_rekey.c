/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/vault_priv.h"
#include "common/fio.h"
#include "agentd/vault_rows.h"
#include "sandbox/arena.h"

/*
 * Key changes: a passphrase change and a rekey (docs/vault-format.md "Key
 * changes").  The order of the writes is the whole argument:
 *
 *   1. the current table plus a pending row naming the journal's end E,
 *      written as a slot change (both areas, under the current key);
 *   2. from E: the link record (a rekey: under VK', carrying VK) and the
 *      change's own records, one write, fsync;
 *   3. the new table, without the pending row, with a link row naming E
 *      (a rekey), MAC'd under the key that follows: a slot change.
 *
 * Until the first area of step 3 is durable, the table in force carries
 * the pending row and an unlock cuts the journal back to E: the old key,
 * none of the change.  From then on the new table is in force: the new
 * key and all of it.  Only pwrite, fsync and ftruncate on the open fd.
 */

struct vault_change {
	bool rekey;
	bool began;	       /* step 1 is in force */
	bool committed;	       /* step 3's first area is durable */
	struct vault_keys *nk; /* VK' and its keys (arena); NULL: no rekey */
	uint64_t at;	       /* the journal's end at step 1 */
	uint8_t *tail;	       /* step 2's bytes (ciphertext only) */
	size_t tail_len;
	struct vault_chain tc; /* the chain after them */
	struct table_edit next;
	struct idw_slot_info dropped[IDW_SLOT_MAX];
	size_t ndropped;
	const struct idw_vault_keychange *kc;
};

uint64_t vault_pending_off(const struct vault_slots *s)
{
	struct slot_row r;

	if (vault_table_find(s->table, s->table_len, VAULT_ROW_PENDING,
			     VAULT_PENDING_ID, &r) != 0)
		return 0;
	return vault_change_row_off(&r);
}

/* The table of s without rows of type a or b into e. */
static void edit_without(struct table_edit *e, const struct vault_slots *s,
			 uint8_t a, uint8_t b)
{
	struct row_iter it;
	struct slot_row r;

	e->len = 0;
	vault_rows_begin(&it, s->table, s->table_len);
	while (vault_rows_next(&it, &r) == 1)
		if (r.type != a && r.type != b) {
			memcpy(e->t + e->len, r.start, r.len);
			e->len += r.len;
		}
}

void vault_compact_slots(const struct vault_slots *s, struct vault_slots *out)
{
	struct table_edit *e = malloc(sizeof(*e));

	*out = *s;
	vault_core_upgrade(out->core);
	crypto_generichash(out->core_hash, VAULT_HASH_LEN, out->core,
			   VAULT_CORE_SIZE, NULL, 0);
	out->cur = 0;
	if (e == NULL)
		return; /* the rows stay: a reader follows them still */
	edit_without(e, s, VAULT_ROW_PENDING, VAULT_ROW_LINK);
	memset(out->table, 0, sizeof(out->table));
	memcpy(out->table, e->t, e->len);
	out->table_len = (uint32_t)e->len;
	free(e);
}

/* Cut the journal back to at, then write the table without its pending
 * row: in that order, so a crash in between repeats the cut. */
static int rollback_to(struct idw_vault *v, uint64_t at)
{
	struct table_edit *e;
	int rc;

	if (ftruncate(v->fd, (off_t)at) != 0 || fsync(v->fd) != 0)
		return IDW_EIO;
	if (vault_pending_off(&v->s) == 0)
		return 0;
	if ((e = malloc(sizeof(*e))) == NULL)
		return IDW_ENOMEM;
	edit_without(e, &v->s, VAULT_ROW_PENDING, VAULT_ROW_PENDING);
	rc = vault_table_commit(v, e, v->k);
	free(e);
	return rc;
}

int vault_pending_clear(struct idw_vault *v)
{
	uint64_t at = vault_pending_off(&v->s);

	return at == 0 ? 0 : rollback_to(v, at);
}

/* What a rekey does with a row: keep it, drop it, or leave a tombstone. */
enum row_fate { ROW_KEEP, ROW_DROP, ROW_TOMBSTONE };

static enum row_fate rekey_fate(const struct slot_row *r,
				struct idw_slot_info *info)
{
	memset(info, 0, sizeof(*info));
	info->type = r->type;
	switch (r->type) {
	case IDW_SLOT_PASSPHRASE:
	case IDW_SLOT_VERIFIER: /* BLAKE2b of the secret: no VK in it */
	case IDW_SLOT_TOMBSTONE:
	case VAULT_ROW_LINK:
		return ROW_KEEP;
	case VAULT_ROW_PENDING:
		return ROW_DROP;
	case IDW_SLOT_KEYCHAIN:
	case IDW_SLOT_TOKEN:
		if (vault_row_info(r, info) != 0)
			return ROW_DROP;
		return r->type == IDW_SLOT_TOKEN ? ROW_TOMBSTONE : ROW_DROP;
	default:
		/* A later kind of row may wrap the old VK: it goes. */
		for (size_t j = 0; j < r->id_len && j < VAULT_SLOT_ID_MAX; j++)
			info->id[j] = r->id[j] > 0x20 && r->id[j] < 0x7f
					      ? (char)r->id[j]
					      : '?';
		return ROW_DROP;
	}
}

/* Is this row one a rekey reports as dropped (an unlocking slot)? */
static bool reported(const struct slot_row *r, enum row_fate f)
{
	return f != ROW_KEEP && r->type != VAULT_ROW_PENDING;
}

int idw_vault_rekey_drops(const struct idw_vault *v, struct idw_slot_info *out,
			  size_t max, size_t *n)
{
	struct idw_slot_info info;
	struct row_iter it;
	struct slot_row r;
	enum row_fate f;

	*n = 0;
	if (!v->initialized)
		return IDW_ENOVAULT;
	if (!v->s.verified)
		return IDW_ELOCKED;
	vault_rows_begin(&it, v->s.table, v->s.table_len);
	while (vault_rows_next(&it, &r) == 1) {
		f = rekey_fate(&r, &info);
		if (!reported(&r, f))
			continue;
		if (*n < max)
			out[*n] = info;
		(*n)++;
	}
	return *n > max ? IDW_ETOOBIG : 0;
}

int idw_vault_pass_cost(const struct idw_vault *v, uint64_t *opslimit,
			uint64_t *memlimit)
{
	struct slot_row pp;
	char why[120];

	if (!v->initialized)
		return IDW_ENOVAULT;
	if (!v->s.verified)
		return IDW_ELOCKED;
	if (vault_table_check(v->s.table, v->s.table_len, &pp, why,
			      sizeof(why)) != 0)
		return IDW_ECORRUPT;
	*opslimit = idw_le64_get(pp.meta + 1);
	*memlimit = idw_le64_get(pp.meta + 9);
	return 0;
}

/* The passphrase row with meta, wrapping vk under kek, appended to e. */
static int pp_row_add(struct table_edit *e, const uint8_t *core,
		      const uint8_t *meta, const uint8_t *kek,
		      const uint8_t *vk)
{
	uint8_t row[2 + sizeof(VAULT_PP_ID) + 2 + VAULT_PP_META_LEN + 2 +
		    VAULT_WRAP_LEN];
	size_t idl = strlen(VAULT_PP_ID);
	struct slot_row r;
	uint8_t *p = row;

	memset(&r, 0, sizeof(r));
	r.start = p;
	r.type = *p++ = IDW_SLOT_PASSPHRASE;
	*p++ = (uint8_t)idl;
	memcpy(p, VAULT_PP_ID, idl);
	p += idl;
	idw_le16_put(p, VAULT_PP_META_LEN);
	p += 2;
	memcpy(p, meta, VAULT_PP_META_LEN);
	p += VAULT_PP_META_LEN;
	r.aad_len = (size_t)(p - row);
	idw_le16_put(p, VAULT_WRAP_LEN);
	p += 2;
	r.wrapped = p;
	r.wrapped_len = VAULT_WRAP_LEN;
	p += VAULT_WRAP_LEN;
	r.len = (size_t)(p - row);
	vault_row_seal(&r, core, kek, vk);
	return vault_edit_add(e, row, r.len);
}

/* The table step 3 writes, with the new passphrase row sealed. */
static int next_table(struct idw_vault *v, struct vault_change *ch,
		      const uint8_t *meta, const uint8_t *kek)
{
	uint8_t row[VAULT_ROW_MAX];
	struct idw_slot_info info;
	struct table_edit *e = &ch->next;
	struct slot_row r, tr;
	struct row_iter it;
	enum row_fate f;
	size_t n;
	int rc;

	e->len = 0;
	ch->ndropped = 0;
	vault_rows_begin(&it, v->s.table, v->s.table_len);
	while (vault_rows_next(&it, &r) == 1) {
		if (r.type == IDW_SLOT_PASSPHRASE) {
			rc = pp_row_add(e, v->s.core, meta, kek,
					ch->rekey ? ch->nk->vk : v->k->vk);
			if (rc != 0)
				return rc;
			continue;
		}
		f = ch->rekey ? rekey_fate(&r, &info) : ROW_KEEP;
		if (r.type == VAULT_ROW_PENDING)
			f = ROW_DROP;
		if (f == ROW_KEEP) {
			if ((rc = vault_edit_add(e, r.start, r.len)) != 0)
				return rc;
			continue;
		}
		if (reported(&r, f) && ch->ndropped < IDW_SLOT_MAX)
			ch->dropped[ch->ndropped++] = info;
	}
	/* Tombstones after the kept rows, so the names stay. */
	for (size_t i = 0; ch->rekey && i < ch->ndropped; i++) {
		if (ch->dropped[i].type != IDW_SLOT_TOKEN)
			continue;
		info = ch->dropped[i];
		info.type = IDW_SLOT_TOMBSTONE;
		info.revoked_at = ch->kc->now;
		info.revoked_type = IDW_SLOT_TOKEN;
		info.expires = info.created = 0;
		info.pending = false;
		if ((rc = vault_row_build(row, sizeof(row), &info, 0, &tr)) !=
			    0 ||
		    (rc = vault_edit_add(e, row, tr.len)) != 0)
			return rc;
	}
	if (ch->rekey) {
		n = vault_change_row_build(row, VAULT_ROW_LINK, ch->at,
					   v->j.seq);
		if ((rc = vault_edit_add(e, row, n)) != 0)
			return rc;
	}
	return vault_edit_fit(e);
}

/* The KEK of the passphrase row step 3 writes, and that row's metadata. */
static int new_kek(struct idw_vault *v, const struct idw_vault_keychange *kc,
		   uint8_t *meta, uint8_t *kek)
{
	struct slot_row pp;
	uint8_t *vk = NULL;
	char why[120];
	int rc;

	if (vault_table_check(v->s.table, v->s.table_len, &pp, why,
			      sizeof(why)) != 0)
		return IDW_ECORRUPT;
	memcpy(meta, pp.meta, VAULT_PP_META_LEN);
	if (kc->newpass != NULL) {
		/* Same cost, a new salt. */
		randombytes_buf(meta + 17, crypto_pwhash_SALTBYTES);
		return vault_pp_kek(kek, kc->newpass, kc->newlen, meta);
	}
	/* The passphrase given must be the slot's: it opens the row. */
	if ((rc = vault_pp_kek(kek, kc->pass, kc->passlen, meta)) != 0)
		return rc;
	if ((vk = idw_arena_alloc(VAULT_KEY_LEN)) == NULL)
		return IDW_ENOMEM;
	rc = vault_row_open(&pp, v->s.core, kek, vk);
	if (rc == 0 && sodium_memcmp(vk, v->k->vk, VAULT_KEY_LEN) != 0)
		rc = IDW_EUNLOCK;
	idw_arena_free(vk);
	return rc;
}

int vault_change_begin(struct idw_vault *v,
		       const struct idw_vault_keychange *kc,
		       struct vault_change **out)
{
	uint8_t meta[VAULT_PP_META_LEN], row[VAULT_ROW_MAX], *kek = NULL;
	struct vault_change *ch = NULL;
	struct table_edit *pe = NULL;
	size_t n;
	int rc;

	*out = NULL;
	if (!v->initialized)
		return IDW_ENOVAULT;
	if (v->k == NULL)
		return IDW_ELOCKED;
	if (v->cfd >= 0 || v->broken || vault_pending_off(&v->s) != 0 ||
	    idw_vault_format_major(v) != IDW_VAULT_MAJOR || kc == NULL ||
	    (kc->newpass == NULL && (!kc->rekey || kc->pass == NULL)) ||
	    (kc->newpass != NULL && kc->newlen < 8) ||
	    (kc->nrecs != 0 && kc->recs == NULL))
		return IDW_EINVAL;
	ch = calloc(1, sizeof(*ch));
	pe = malloc(sizeof(*pe));
	kek = idw_arena_alloc(VAULT_KEY_LEN);
	if (ch == NULL || pe == NULL || kek == NULL) {
		rc = IDW_ENOMEM;
		goto out;
	}
	ch->kc = kc;
	ch->rekey = kc->rekey;
	ch->at = v->j.end;
	if (ch->rekey) {
		if ((ch->nk = idw_arena_alloc(sizeof(*ch->nk))) == NULL) {
			rc = IDW_ENOMEM;
			goto out;
		}
		randombytes_buf(ch->nk->vk, VAULT_KEY_LEN);
		vault_keys_derive(ch->nk);
	}
	/* Argon2id and the new table first: nothing is written yet. */
	if ((rc = new_kek(v, kc, meta, kek)) != 0 ||
	    (rc = next_table(v, ch, meta, kek)) != 0)
		goto out;
	/* Step 1. */
	vault_edit_start(pe, v->s.table, v->s.table_len);
	n = vault_change_row_build(row, VAULT_ROW_PENDING, ch->at, 0);
	if ((rc = vault_edit_add(pe, row, n)) != 0 ||
	    (rc = vault_edit_fit(pe)) != 0)
		goto out;
	{
		uint64_t gen = v->s.gen;

		rc = vault_table_commit(v, pe, v->k);
		ch->began = v->s.gen != gen;
	}
	if (rc != 0)
		goto out;
	*out = ch;
	ch = NULL;
out:
	if (ch != NULL)
		vault_change_free(v, ch);
	free(pe);
	idw_arena_free(kek);
	sodium_memzero(meta, sizeof(meta));
	return rc;
}

/* Seal rec after *c under k onto the tail. */
static int tail_add(struct vault_change *ch, const struct vault_slots *s,
		    const struct vault_keys *k, struct vault_chain *c,
		    const struct idw_vault_rec *rec)
{
	uint8_t *buf = NULL, *grown;
	size_t n;
	int rc;

	if ((rc = vault_rec_seal(s, k, c, rec, &buf, &n)) != 0)
		return rc;
	if ((grown = realloc(ch->tail, ch->tail_len + n)) == NULL) {
		free(buf);
		return IDW_ENOMEM;
	}
	ch->tail = grown;
	memcpy(ch->tail + ch->tail_len, buf, n);
	ch->tail_len += n;
	vault_chain_advance(c, buf, n);
	free(buf);
	return 0;
}

int vault_change_tail(struct idw_vault *v, struct vault_change *ch)
{
	const struct vault_keys *k = ch->rekey ? ch->nk : v->k;
	struct vault_chain c = v->j;
	char json[48];
	int rc;

	if (!ch->began || ch->committed)
		return IDW_EINVAL;
	if (ch->rekey) {
		struct idw_vault_rec link = {
			.op = IDW_VAULT_PUT,
			.kind = VAULT_LINK_KIND,
			.id = "",
			.json = json,
			.value = v->k->vk, /* the old VK, under VK' */
			.value_len = VAULT_KEY_LEN,
		};

		snprintf(json, sizeof(json), "{\"at\":%lld}",
			 (long long)ch->kc->now);
		link.json_len = strlen(json);
		if ((rc = tail_add(ch, &v->s, k, &c, &link)) != 0)
			return rc;
	}
	for (size_t i = 0; i < ch->kc->nrecs; i++)
		if ((rc = tail_add(ch, &v->s, k, &c, &ch->kc->recs[i])) != 0)
			return rc;
	ch->tc = c;
	if (ch->tail_len == 0)
		return 0;
	if (idw_pwrite_all(v->fd, ch->tail, ch->tail_len, ch->at) != 0 ||
	    fsync(v->fd) != 0)
		return IDW_EIO;
	return 0;
}

int vault_change_commit(struct idw_vault *v, struct vault_change *ch)
{
	uint64_t gen = v->s.gen;
	int rc;

	if (!ch->began || ch->committed || ch->tc.end < ch->at)
		return IDW_EINVAL;
	rc = vault_table_commit(v, &ch->next, ch->rekey ? ch->nk : v->k);
	if (v->s.gen == gen)
		return rc != 0 ? rc : IDW_EIO;
	/* In force from here on, even when the second area failed. */
	ch->committed = true;
	v->j = ch->tc;
	if (ch->rekey) {
		vault_keys_free(&v->k);
		v->k = ch->nk;
		ch->nk = NULL;
		/* A pending keychain slot was dropped with its key's use. */
		vault_pending_forget(v);
	}
	return rc;
}

void vault_change_free(struct idw_vault *v, struct vault_change *ch)
{
	if (ch == NULL)
		return;
	/* Not committed: no trace of it may stay in force, or the next
	 * append would land where an unlock cuts. */
	if (ch->began && !ch->committed && rollback_to(v, ch->at) != 0)
		v->broken = true;
	vault_keys_free(&ch->nk);
	free(ch->tail);
	sodium_memzero(ch, sizeof(*ch));
	free(ch);
}

int idw_vault_key_change(struct idw_vault *v, struct idw_vault_keychange *kc,
			 struct idw_slot_info *dropped, size_t max,
			 size_t *ndropped)
{
	struct vault_change *ch = NULL;
	int rc;

	if (ndropped != NULL)
		*ndropped = 0;
	if (kc != NULL)
		kc->committed = false;
	if ((rc = vault_change_begin(v, kc, &ch)) != 0)
		return rc;
	if ((rc = vault_change_tail(v, ch)) == 0)
		rc = vault_change_commit(v, ch);
	kc->committed = ch->committed;
	if (ch->committed && ndropped != NULL) {
		for (size_t i = 0; i < ch->ndropped && i < max; i++)
			dropped[i] = ch->dropped[i];
		*ndropped = ch->ndropped < max ? ch->ndropped : max;
	}
	vault_change_free(v, ch);
	return rc;
}
