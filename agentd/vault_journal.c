/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/vault_journal.h"
#include "agentd/vault_rows.h"
#include "common/buf.h"
#include "common/fio.h"
#include "sandbox/arena.h"

#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN VAULT_TAG_LEN
#define LENCHECK_LEN 8
#define REC_NONCE (4 + LENCHECK_LEN)
#define REC_HDR (REC_NONCE + NONCE_LEN)
/* op, kind_len, a one-byte kind, id_len, json_len, value_len */
#define REC_PT_MIN (1 + 1 + 1 + 1 + 4 + 4)
#define AAD_LEN (VAULT_HASH_LEN + 8 + 4 + TAG_LEN)
/* decode moves kind, id and json down to make room for three NULs */
#define DECODE_SLACK 3

int vault_src_read(const struct vault_src *src, uint64_t off, void *p, size_t n)
{
	if (off > src->size || n > src->size - off)
		return IDW_EIO;
	if (src->fd < 0) {
		memcpy(p, src->img + off, n);
		return 0;
	}
	/* A short read: the file shrank under us. */
	return idw_pread_all(src->fd, p, n, off) != 0 ? IDW_EIO : 0;
}

/* First 8 bytes of keyed BLAKE2b-128(seq || len). */
static void len_check(const struct vault_keys *k, uint64_t seq, uint32_t len,
		      uint8_t out[LENCHECK_LEN])
{
	uint8_t msg[12], h[16];

	idw_le64_put(msg, seq);
	idw_le32_put(msg + 8, len);
	crypto_generichash(h, sizeof(h), msg, sizeof(msg), k->lencheck,
			   VAULT_KEY_LEN);
	memcpy(out, h, LENCHECK_LEN);
}

/* BLAKE2b(core) || seq || len || previous tag: the chain. */
static void rec_aad(const struct vault_slots *s, uint64_t seq, uint32_t len,
		    const uint8_t *prev, uint8_t aad[AAD_LEN])
{
	memcpy(aad, s->core_hash, VAULT_HASH_LEN);
	idw_le64_put(aad + VAULT_HASH_LEN, seq);
	idw_le32_put(aad + VAULT_HASH_LEN + 8, len);
	memcpy(aad + VAULT_HASH_LEN + 12, prev, TAG_LEN);
}

void vault_chain_advance(struct vault_chain *c, const uint8_t *rec, size_t n)
{
	memcpy(c->tag, rec + n - TAG_LEN, TAG_LEN);
	c->seq++;
	c->end += n;
}

void vault_chain_reset(struct vault_chain *c)
{
	memset(c, 0, sizeof(*c));
	c->end = VAULT_JOURNAL_OFF;
}

int vault_rec_seal(const struct vault_slots *s, const struct vault_keys *k,
		   const struct vault_chain *c, const struct idw_vault_rec *rec,
		   uint8_t **out, size_t *outlen)
{
	uint8_t aad[AAD_LEN], *pt = NULL, *buf = NULL, *p;
	size_t kl, il, ptlen;
	uint32_t len;
	int rc = 0;

	*out = NULL;
	if (rec == NULL ||
	    (rec->op != IDW_VAULT_PUT && rec->op != IDW_VAULT_DEL) ||
	    rec->kind == NULL || rec->id == NULL ||
	    (rec->json == NULL && rec->json_len != 0) ||
	    (rec->value == NULL && rec->value_len != 0))
		return IDW_EINVAL;
	kl = strlen(rec->kind);
	il = strlen(rec->id);
	if (kl == 0 || kl > UINT8_MAX || il > UINT8_MAX)
		return IDW_EINVAL;
	if (rec->json_len > IDW_VAULT_MAX_RECORD ||
	    rec->value_len > IDW_VAULT_MAX_RECORD)
		return IDW_ETOOBIG;
	ptlen = 3 + kl + il + 8 + rec->json_len + rec->value_len;
	if (ptlen > IDW_VAULT_MAX_RECORD - TAG_LEN)
		return IDW_ETOOBIG;
	len = (uint32_t)(ptlen + TAG_LEN);
	pt = idw_arena_alloc(ptlen);
	buf = malloc(REC_HDR + len);
	if (pt == NULL || buf == NULL) {
		rc = IDW_ENOMEM;
		goto out;
	}
	p = pt;
	*p++ = rec->op;
	*p++ = (uint8_t)kl;
	memcpy(p, rec->kind, kl);
	p += kl;
	*p++ = (uint8_t)il;
	memcpy(p, rec->id, il);
	p += il;
	idw_le32_put(p, (uint32_t)rec->json_len);
	p += 4;
	if (rec->json_len != 0)
		memcpy(p, rec->json, rec->json_len);
	p += rec->json_len;
	idw_le32_put(p, (uint32_t)rec->value_len);
	p += 4;
	if (rec->value_len != 0)
		memcpy(p, rec->value, rec->value_len);

	idw_le32_put(buf, len);
	len_check(k, c->seq, len, buf + 4);
	randombytes_buf(buf + REC_NONCE, NONCE_LEN);
	rec_aad(s, c->seq, len, c->tag, aad);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + REC_HDR, NULL, pt,
						   ptlen, aad, AAD_LEN, NULL,
						   buf + REC_NONCE, k->journal);
	*out = buf;
	*outlen = REC_HDR + len;
	buf = NULL;
out:
	idw_arena_free(pt);
	free(buf);
	return rc;
}

int idw_vault_rec_decode(const uint8_t *pt, size_t len, uint8_t *out,
			 struct idw_vault_rec *rec)
{
	const uint8_t *kind, *id, *json, *val;
	uint8_t op, kl, il;
	uint32_t jl, vl;
	struct idw_buf b;
	size_t o;

	idw_buf_init(&b, len, 0);
	b.d = (uint8_t *)pt; /* read only */
	b.len = b.cap = len;
	if (idw_buf_get_u8(&b, &op) != 0 || idw_buf_get_u8(&b, &kl) != 0)
		return IDW_ECORRUPT;
	kind = idw_buf_ptr(&b);
	if (idw_buf_skip(&b, kl) != 0 || idw_buf_get_u8(&b, &il) != 0)
		return IDW_ECORRUPT;
	id = idw_buf_ptr(&b);
	if (idw_buf_skip(&b, il) != 0 || idw_buf_get_u32(&b, &jl) != 0)
		return IDW_ECORRUPT;
	json = idw_buf_ptr(&b);
	if (idw_buf_skip(&b, jl) != 0 || idw_buf_get_u32(&b, &vl) != 0)
		return IDW_ECORRUPT;
	val = idw_buf_ptr(&b);
	if (idw_buf_skip(&b, vl) != 0 || idw_buf_avail(&b) != 0)
		return IDW_ECORRUPT;
	if ((op != IDW_VAULT_PUT && op != IDW_VAULT_DEL) || kl == 0 ||
	    memchr(kind, 0, kl) != NULL || memchr(id, 0, il) != NULL)
		return IDW_ECORRUPT;

	/*
	 * With pt == out + 3 every field moves down, never over a byte
	 * still to be read: the length prefixes dropped make room for NULs.
	 */
	memmove(out, kind, kl);
	out[kl] = '\0';
	o = (size_t)kl + 1;
	memmove(out + o, id, il);
	out[o + il] = '\0';
	rec->id = (const char *)out + o;
	o += (size_t)il + 1;
	memmove(out + o, json, jl);
	out[o + jl] = '\0';
	rec->json = (const char *)out + o;
	rec->json_len = jl;
	o += (size_t)jl + 1;
	memmove(out + o, val, vl);
	rec->value = vl != 0 ? out + o : NULL;
	rec->value_len = vl;
	rec->kind = (const char *)out;
	rec->op = op;
	return 0;
}

static int rec_corrupt(struct idw_vault_report *rep, uint64_t seq, uint64_t off,
		       const char *what)
{
	snprintf(rep->detail, sizeof(rep->detail),
		 "journal record %llu at byte offset %llu: %s",
		 (unsigned long long)seq + 1, (unsigned long long)off, what);
	return IDW_ECORRUPT;
}

/*
 * Read and open the record at off as number seq after prev.  0 with *rec
 * pointing into *pt (arena) and *ct (malloc) holding the ciphertext; 1 for
 * a torn tail (nothing allocated); IDW_ECORRUPT with rep->detail; other
 * errors.
 */
static int rec_load(const struct vault_src *src, const struct vault_slots *s,
		    const struct vault_keys *k, uint64_t off, uint64_t seq,
		    const uint8_t prev[TAG_LEN], uint32_t *lenp, uint8_t **ctp,
		    uint8_t **ptp, struct idw_vault_rec *rec,
		    struct idw_vault_report *rep)
{
	uint8_t h[REC_HDR], lc[LENCHECK_LEN], aad[AAD_LEN];
	uint8_t *ct = NULL, *pt = NULL;
	uint64_t rem = src->size - off;
	uint32_t len = 0;
	size_t n;
	int rc;

	*ctp = *ptp = NULL;
	n = rem < REC_HDR ? (size_t)rem : REC_HDR;
	if ((rc = vault_src_read(src, off, h, n)) != 0)
		return rc;
	/* A torn write leaves a prefix of a real record, so its length
	 * check holds whenever it is there to check. */
	if (n >= REC_NONCE) {
		len = idw_le32_get(h);
		len_check(k, seq, len, lc);
		if (sodium_memcmp(lc, h + 4, LENCHECK_LEN) != 0)
			return rec_corrupt(
				rep, seq, off,
				"length check failed (damaged, removed or "
				"reordered record, bytes after the end, or "
				"slot "
				"areas older than a rekey of this journal)");
		if (len < REC_PT_MIN + TAG_LEN || len > IDW_VAULT_MAX_RECORD)
			return rec_corrupt(rep, seq, off,
					   "length out of range");
	}
	if (n < REC_HDR || len > rem - REC_HDR)
		return 1;
	ct = malloc(len);
	pt = idw_arena_alloc(len - TAG_LEN + DECODE_SLACK);
	if (ct == NULL || pt == NULL) {
		rc = IDW_ENOMEM;
		goto fail;
	}
	if ((rc = vault_src_read(src, off + REC_HDR, ct, len)) != 0)
		goto fail;
	rec_aad(s, seq, len, prev, aad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    pt + DECODE_SLACK, NULL, NULL, ct, len, aad, AAD_LEN,
		    h + REC_NONCE, k->journal) != 0) {
		rc = rec_corrupt(rep, seq, off, "authentication failed");
		goto fail;
	}
	if (idw_vault_rec_decode(pt + DECODE_SLACK, len - TAG_LEN, pt, rec) !=
	    0) {
		rc = rec_corrupt(rep, seq, off, "bad encoding");
		goto fail;
	}
	*lenp = len;
	*ctp = ct;
	*ptp = pt;
	return 0;
fail:
	free(ct);
	idw_arena_free(pt);
	return rc;
}

static bool is_link_rec(const struct idw_vault_rec *rec)
{
	return strcmp(rec->kind, VAULT_LINK_KIND) == 0;
}

int vault_journal_replay_ring(const struct vault_src *src,
			      const struct vault_slots *s,
			      const struct vault_ring *ring,
			      struct vault_chain *c, idw_vault_rec_cb cb,
			      void *ctx, struct idw_vault_report *rep)
{
	uint8_t *ct = NULL, *pt = NULL;
	struct idw_vault_rec rec;
	uint64_t off = VAULT_JOURNAL_OFF;
	uint32_t len = 0;
	size_t i = 0;
	bool link;
	int rc = 0;

	vault_chain_reset(c);
	while (off < src->size) {
		link = false;
		if (i + 1 < ring->n && off >= ring->off[i + 1]) {
			if (off != ring->off[i + 1] ||
			    c->seq != ring->seq[i + 1]) {
				rc = rec_corrupt(rep, c->seq, off,
						 "the journal does not meet "
						 "its key change");
				goto out;
			}
			i++;
			link = true;
		}
		rc = rec_load(src, s, ring->k[i], off, c->seq, c->tag, &len,
			      &ct, &pt, &rec, rep);
		if (rc == 1) {
			rc = 0;
			rep->truncated_tail = true;
			rep->truncated_bytes = src->size - off;
			break;
		}
		if (rc != 0)
			goto out;
		if (link != is_link_rec(&rec) ||
		    (link &&
		     (rec.value_len != VAULT_KEY_LEN || rec.id[0] != '\0'))) {
			rc = rec_corrupt(rep, c->seq, off,
					 link ? "not the rekey record its "
						"slot area names"
					      : "a rekey record no slot area "
						"names");
			goto out;
		}
		if (!link && cb != NULL && (rc = cb(ctx, &rec)) != 0) {
			rc = rc < 0 ? rc : IDW_ERR;
			snprintf(rep->detail, sizeof(rep->detail),
				 "journal record %llu: refused by the store",
				 (unsigned long long)c->seq + 1);
			goto out;
		}
		memcpy(c->tag, ct + len - TAG_LEN, TAG_LEN);
		c->seq++;
		off += REC_HDR + (uint64_t)len;
		rep->records++;
		free(ct);
		ct = NULL;
		idw_arena_free(pt);
		pt = NULL;
	}
	if (i + 1 < ring->n) {
		rc = rec_corrupt(rep, c->seq, off,
				 "the journal ends before its key change");
		goto out;
	}
	c->end = off;
out:
	free(ct);
	idw_arena_free(pt);
	return rc;
}

int vault_journal_replay(const struct vault_src *src,
			 const struct vault_slots *s,
			 const struct vault_keys *k, struct vault_chain *c,
			 idw_vault_rec_cb cb, void *ctx,
			 struct idw_vault_report *rep)
{
	struct vault_ring ring = {.n = 1};

	ring.k[0] = (struct vault_keys *)k;
	ring.off[0] = VAULT_JOURNAL_OFF;
	return vault_journal_replay_ring(src, s, &ring, c, cb, ctx, rep);
}

void vault_ring_free(struct vault_ring *r)
{
	/* The last key is the caller's. */
	for (size_t i = 0; i + 1 < r->n; i++)
		vault_keys_free(&r->k[i]);
	memset(r, 0, sizeof(*r));
}

int vault_ring_build(const struct vault_src *src, const struct vault_slots *s,
		     struct vault_keys *k, struct vault_ring *ring,
		     struct idw_vault_report *rep)
{
	uint64_t off[VAULT_LINK_MAX], seq[VAULT_LINK_MAX];
	uint8_t prev[TAG_LEN], *ct = NULL, *pt = NULL;
	struct idw_vault_rec rec;
	struct row_iter it;
	struct slot_row r;
	size_t nl = 0;
	uint32_t len;
	int rc = 0;

	memset(ring, 0, sizeof(*ring));
	vault_rows_begin(&it, s->table, s->table_len);
	while (vault_rows_next(&it, &r) == 1)
		if (r.type == VAULT_ROW_LINK && nl < VAULT_LINK_MAX) {
			off[nl] = vault_change_row_off(&r);
			seq[nl++] = vault_change_row_seq(&r);
		}
	ring->n = nl + 1;
	ring->k[nl] = k;
	ring->off[0] = VAULT_JOURNAL_OFF;
	for (size_t j = nl; j >= 1; j--) {
		ring->off[j] = off[j - 1];
		ring->seq[j] = seq[j - 1];
		memset(prev, 0, sizeof(prev));
		if ((off[j - 1] == VAULT_JOURNAL_OFF) != (seq[j - 1] == 0) ||
		    off[j - 1] >= src->size ||
		    (off[j - 1] > VAULT_JOURNAL_OFF &&
		     vault_src_read(src, off[j - 1] - TAG_LEN, prev, TAG_LEN) !=
			     0)) {
			rc = rec_corrupt(rep, seq[j - 1], off[j - 1],
					 "the rekey record its slot area names "
					 "is missing");
			goto out;
		}
		rc = rec_load(src, s, ring->k[j], off[j - 1], seq[j - 1], prev,
			      &len, &ct, &pt, &rec, rep);
		if (rc == 1)
			rc = rec_corrupt(rep, seq[j - 1], off[j - 1],
					 "the rekey record its slot area names "
					 "is cut short");
		if (rc != 0)
			goto out;
		if (!is_link_rec(&rec) || rec.value_len != VAULT_KEY_LEN) {
			rc = rec_corrupt(rep, seq[j - 1], off[j - 1],
					 "not the rekey record its slot area "
					 "names");
			goto out;
		}
		if ((ring->k[j - 1] = idw_arena_alloc(sizeof(*k))) == NULL) {
			rc = IDW_ENOMEM;
			goto out;
		}
		memcpy(ring->k[j - 1]->vk, rec.value, VAULT_KEY_LEN);
		vault_keys_derive(ring->k[j - 1]);
		free(ct);
		ct = NULL;
		idw_arena_free(pt);
		pt = NULL;
	}
out:
	free(ct);
	idw_arena_free(pt);
	if (rc != 0) {
		/* Free what was made; k stays the caller's. */
		for (size_t i = 0; i < nl; i++)
			vault_keys_free(&ring->k[i]);
		memset(ring, 0, sizeof(*ring));
	}
	return rc;
}
