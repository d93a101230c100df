/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentd/vault_rows.h"

#define CORE_ID 8
#define PP_META_LEN (1 + 8 + 8 + crypto_pwhash_SALTBYTES)
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CT_LEN (VAULT_KEY_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES)

/*
 * Metadata tags.  Unknown tags and flag bits are skipped, so later
 * versions may add them; anything a reader must not ignore comes as a new
 * row type instead (readers skip unknown row types, never their meaning).
 */
enum {
	TAG_LABEL = 1,	      /* 1..64 bytes, no control characters */
	TAG_PRINCIPAL = 2,    /* 1..79 bytes, no control characters */
	TAG_CREATED = 3,      /* i64 */
	TAG_EXPIRES = 4,      /* i64 */
	TAG_REVOKED_AT = 5,   /* i64 */
	TAG_REVOKED_TYPE = 6, /* u8 */
	TAG_FLAGS = 7,	      /* u8 */
};
#define FLAG_PENDING 0x01

/* 16 bytes each: the KEK of one kind of slot never opens another's. */
static const char *kek_context(uint8_t type)
{
	switch (type) {
	case IDW_SLOT_KEYCHAIN:
		return "idw-kek-keychain";
	case IDW_SLOT_TOKEN:
		return "idw-kek-token-v1";
	default:
		return NULL;
	}
}

/* A read-only bounded view over bytes from the file. */
static void view(struct idw_buf *b, const uint8_t *p, size_t n)
{
	idw_buf_init(b, n, 0);
	b->d = (uint8_t *)p;
	b->len = b->cap = n;
}

void vault_rows_begin(struct row_iter *it, const uint8_t *t, size_t len)
{
	view(&it->b, t, len);
}

int vault_rows_next(struct row_iter *it, struct slot_row *r)
{
	struct idw_buf *b = &it->b;

	if (idw_buf_avail(b) == 0)
		return 0;
	memset(r, 0, sizeof(*r));
	r->start = idw_buf_ptr(b);
	if (idw_buf_get_u8(b, &r->type) != 0 ||
	    idw_buf_get_u8(b, &r->id_len) != 0)
		return IDW_ECORRUPT;
	r->id = idw_buf_ptr(b);
	if (idw_buf_skip(b, r->id_len) != 0 ||
	    idw_buf_get_u16(b, &r->meta_len) != 0)
		return IDW_ECORRUPT;
	r->meta = idw_buf_ptr(b);
	if (idw_buf_skip(b, r->meta_len) != 0)
		return IDW_ECORRUPT;
	r->aad_len = (size_t)(idw_buf_ptr(b) - r->start);
	if (idw_buf_get_u16(b, &r->wrapped_len) != 0)
		return IDW_ECORRUPT;
	r->wrapped = idw_buf_ptr(b);
	if (idw_buf_skip(b, r->wrapped_len) != 0)
		return IDW_ECORRUPT;
	r->len = (size_t)(idw_buf_ptr(b) - r->start);
	return r->type == 0 ? IDW_ECORRUPT : 1;
}

static bool id_bytes_ok(const uint8_t *id, size_t n)
{
	if (n == 0 || n > VAULT_SLOT_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (id[i] <= 0x20 || id[i] >= 0x7f)
			return false;
	return true;
}

static bool text_ok(const uint8_t *p, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

bool vault_slot_id_ok(const char *id)
{
	size_t n;

	if (id == NULL)
		return false;
	n = strnlen(id, VAULT_SLOT_ID_MAX + 1);
	return id_bytes_ok((const uint8_t *)id, n);
}

static bool field_ok(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	return n < size && (n == 0 || text_ok((const uint8_t *)s, n, n));
}

bool vault_slot_info_ok(const struct idw_slot_info *m)
{
	return memchr(m->id, '\0', sizeof(m->id)) != NULL &&
	       vault_slot_id_ok(m->id) &&
	       field_ok(m->label, sizeof(m->label)) &&
	       field_ok(m->principal, sizeof(m->principal));
}

static int meta_text(const uint8_t *v, size_t len, char *out, size_t size)
{
	if (!text_ok(v, len, size - 1))
		return IDW_ECORRUPT;
	memcpy(out, v, len);
	return 0;
}

static int meta_i64(const uint8_t *v, size_t len, int64_t *out)
{
	if (len != 8)
		return IDW_ECORRUPT;
	*out = (int64_t)idw_le64_get(v);
	return 0;
}

/* Metadata TLV into out (type and id are the caller's). */
static int meta_decode(const uint8_t *m, size_t n, struct idw_slot_info *out)
{
	struct idw_buf b;
	const uint8_t *v;
	uint8_t tag, len;
	unsigned seen = 0;
	int rc = 0;

	view(&b, m, n);
	while (rc == 0 && idw_buf_avail(&b) > 0) {
		if (idw_buf_get_u8(&b, &tag) != 0 ||
		    idw_buf_get_u8(&b, &len) != 0)
			return IDW_ECORRUPT;
		v = idw_buf_ptr(&b);
		if (idw_buf_skip(&b, len) != 0)
			return IDW_ECORRUPT;
		if (tag == 0 || tag > TAG_FLAGS)
			continue; /* a later version's */
		if (seen & (1u << tag))
			return IDW_ECORRUPT;
		seen |= 1u << tag;
		switch (tag) {
		case TAG_LABEL:
			rc = meta_text(v, len, out->label, sizeof(out->label));
			break;
		case TAG_PRINCIPAL:
			rc = meta_text(v, len, out->principal,
				       sizeof(out->principal));
			break;
		case TAG_CREATED:
			rc = meta_i64(v, len, &out->created);
			break;
		case TAG_EXPIRES:
			rc = meta_i64(v, len, &out->expires);
			break;
		case TAG_REVOKED_AT:
			rc = meta_i64(v, len, &out->revoked_at);
			break;
		case TAG_REVOKED_TYPE:
			rc = len == 1 ? 0 : IDW_ECORRUPT;
			out->revoked_type = len == 1 ? v[0] : 0;
			break;
		case TAG_FLAGS:
			rc = len == 1 ? 0 : IDW_ECORRUPT;
			out->pending = len == 1 && (v[0] & FLAG_PENDING) != 0;
			break;
		}
	}
	return rc;
}

/* A row of a type after the passphrase row, checked for its type. */
int vault_row_info(const struct slot_row *r, struct idw_slot_info *out)
{
	size_t want;

	memset(out, 0, sizeof(*out));
	out->type = r->type;
	if (!id_bytes_ok(r->id, r->id_len) ||
	    meta_decode(r->meta, r->meta_len, out) != 0)
		return IDW_ECORRUPT;
	memcpy(out->id, r->id, r->id_len);
	switch (r->type) {
	case IDW_SLOT_KEYCHAIN:
		/* A pending slot carries no wrap: it cannot unlock. */
		want = out->pending ? 0 : VAULT_WRAP_LEN;
		break;
	case IDW_SLOT_TOKEN:
		want = VAULT_WRAP_LEN;
		break;
	case IDW_SLOT_VERIFIER:
		want = VAULT_VERIFIER_LEN;
		break;
	default: /* tombstone */
		want = 0;
		break;
	}
	if (r->wrapped_len != want ||
	    (out->pending && r->type != IDW_SLOT_KEYCHAIN))
		return IDW_ECORRUPT;
	return 0;
}

bool vault_row_known(uint8_t type)
{
	return type >= IDW_SLOT_PASSPHRASE && type <= IDW_SLOT_TOMBSTONE;
}

bool vault_row_is_change(uint8_t type)
{
	return type == VAULT_ROW_PENDING || type == VAULT_ROW_LINK;
}

uint64_t vault_change_row_off(const struct slot_row *r)
{
	return idw_le64_get(r->meta);
}

uint64_t vault_change_row_seq(const struct slot_row *r)
{
	return r->type == VAULT_ROW_LINK ? idw_le64_get(r->meta + 8) : 0;
}

static void link_id(uint64_t off, char id[VAULT_SLOT_ID_MAX + 1])
{
	snprintf(id, VAULT_SLOT_ID_MAX + 1, VAULT_LINK_PREFIX "%016llx",
		 (unsigned long long)off);
}

size_t vault_change_row_build(uint8_t *out, uint8_t type, uint64_t off,
			      uint64_t seq)
{
	char id[VAULT_SLOT_ID_MAX + 1];
	size_t idl, ml = type == VAULT_ROW_LINK ? 16 : 8;
	uint8_t *p = out;

	if (type == VAULT_ROW_LINK)
		link_id(off, id);
	else
		snprintf(id, sizeof(id), "%s", VAULT_PENDING_ID);
	idl = strlen(id);
	*p++ = type;
	*p++ = (uint8_t)idl;
	memcpy(p, id, idl);
	p += idl;
	idw_le16_put(p, (uint16_t)ml);
	p += 2;
	idw_le64_put(p, off);
	if (type == VAULT_ROW_LINK)
		idw_le64_put(p + 8, seq);
	p += ml;
	idw_le16_put(p, 0);
	return (size_t)(p + 2 - out);
}

/* A key-change row: its id, sizes and offset as written above. */
static bool change_row_ok(const struct slot_row *r)
{
	char id[VAULT_SLOT_ID_MAX + 1];
	size_t ml = r->type == VAULT_ROW_LINK ? 16 : 8;

	if (r->meta_len != ml || r->wrapped_len != 0 ||
	    idw_le64_get(r->meta) < VAULT_JOURNAL_OFF)
		return false;
	if (r->type == VAULT_ROW_LINK)
		link_id(idw_le64_get(r->meta), id);
	else
		snprintf(id, sizeof(id), "%s", VAULT_PENDING_ID);
	return r->id_len == strlen(id) && memcmp(r->id, id, r->id_len) == 0;
}

static bool row_is(const struct slot_row *r, uint8_t type, const char *id)
{
	size_t n = strlen(id);

	return r->type == type && r->id_len == n && memcmp(r->id, id, n) == 0;
}

int vault_table_check(const uint8_t *t, size_t len, struct slot_row *pp,
		      char *why, size_t wl)
{
	struct idw_slot_info info;
	struct row_iter it, it2;
	struct slot_row r, r2;
	int found = 0, n = 0, rc, nlink = 0, npend = 0;
	uint64_t last_link = 0;

	vault_rows_begin(&it, t, len);
	for (; (rc = vault_rows_next(&it, &r)) == 1; n++) {
		if (r.type == IDW_SLOT_PASSPHRASE) {
			if (found || r.meta_len != PP_META_LEN ||
			    r.wrapped_len != VAULT_WRAP_LEN) {
				snprintf(why, wl,
					 "slot row %d: bad passphrase slot", n);
				return IDW_ECORRUPT;
			}
			*pp = r;
			found = 1;
			continue;
		}
		if (vault_row_is_change(r.type)) {
			/* Links in ascending offsets, one pending at most,
			 * after every link. */
			if (!change_row_ok(&r) ||
			    (r.type == VAULT_ROW_LINK &&
			     (npend > 0 || nlink >= VAULT_LINK_MAX ||
			      (nlink > 0 &&
			       vault_change_row_off(&r) <= last_link))) ||
			    (r.type == VAULT_ROW_PENDING &&
			     (npend > 0 ||
			      (nlink > 0 &&
			       vault_change_row_off(&r) <= last_link)))) {
				snprintf(why, wl,
					 "slot row %d: bad key-change row", n);
				return IDW_ECORRUPT;
			}
			if (r.type == VAULT_ROW_LINK) {
				last_link = vault_change_row_off(&r);
				nlink++;
			} else {
				npend++;
			}
			continue;
		}
		/* Later kinds of row: not ours to read, but kept. */
		if (!vault_row_known(r.type))
			continue;
		if (vault_row_info(&r, &info) != 0) {
			snprintf(why, wl, "slot row %d: bad %s", n,
				 r.type == IDW_SLOT_TOMBSTONE ? "tombstone"
							      : "key slot");
			return IDW_ECORRUPT;
		}
		if (r.type == IDW_SLOT_TOMBSTONE)
			continue;
		/* One live slot per (type, id): a lookup must not depend on
		 * which of two comes first. */
		vault_rows_begin(&it2, t, (size_t)(r.start - t));
		while (vault_rows_next(&it2, &r2) == 1)
			if (row_is(&r2, r.type, info.id)) {
				snprintf(why, wl, "slot row %d: duplicate", n);
				return IDW_ECORRUPT;
			}
	}
	if (rc != 0) {
		snprintf(why, wl, "slot row %d is malformed", n);
		return IDW_ECORRUPT;
	}
	if (!found) {
		snprintf(why, wl, "no passphrase slot");
		return IDW_ECORRUPT;
	}
	return 0;
}

int vault_table_find(const uint8_t *t, size_t len, uint8_t type, const char *id,
		     struct slot_row *r)
{
	struct row_iter it;

	vault_rows_begin(&it, t, len);
	while (vault_rows_next(&it, r) == 1)
		if (row_is(r, type, id))
			return 0;
	return IDW_ENOENT;
}

int vault_table_list(const uint8_t *t, size_t len, struct idw_slot_info *out,
		     size_t max, size_t *n)
{
	struct idw_slot_info info;
	struct row_iter it;
	struct slot_row r;
	size_t i = 0;

	vault_rows_begin(&it, t, len);
	while (vault_rows_next(&it, &r) == 1) {
		/* The state of a key change is no slot. */
		if (vault_row_is_change(r.type))
			continue;
		memset(&info, 0, sizeof(info));
		info.type = r.type;
		if (r.type == IDW_SLOT_PASSPHRASE || !vault_row_known(r.type)) {
			/* The passphrase row's id is not checked (only its
			 * AEAD vouches for it); print it safely. */
			for (size_t j = 0;
			     j < r.id_len && j < VAULT_SLOT_ID_MAX; j++)
				info.id[j] = r.id[j] > 0x20 && r.id[j] < 0x7f
						     ? (char)r.id[j]
						     : '?';
		} else if (vault_row_info(&r, &info) != 0) {
			return IDW_ECORRUPT; /* the table was not checked */
		}
		if (i < max)
			out[i] = info;
		i++;
	}
	*n = i;
	return i > max ? IDW_ETOOBIG : 0;
}

static int tlv_put(uint8_t **p, const uint8_t *end, uint8_t tag, const void *v,
		   size_t len)
{
	if (len > UINT8_MAX || (size_t)(end - *p) < 2 + len)
		return IDW_ETOOBIG;
	*(*p)++ = tag;
	*(*p)++ = (uint8_t)len;
	memcpy(*p, v, len);
	*p += len;
	return 0;
}

static int tlv_put_i64(uint8_t **p, const uint8_t *end, uint8_t tag, int64_t v)
{
	uint8_t le[8];

	if (v == 0)
		return 0;
	idw_le64_put(le, (uint64_t)v);
	return tlv_put(p, end, tag, le, sizeof(le));
}

int vault_row_build(uint8_t *out, size_t cap, const struct idw_slot_info *info,
		    size_t wrapped_len, struct slot_row *r)
{
	const uint8_t *end = out + cap;
	uint8_t *p = out, *meta, flags = FLAG_PENDING;
	struct idw_slot_info back;
	size_t idl = strlen(info->id);
	size_t ll = strlen(info->label), pl = strlen(info->principal);
	int rc = 0;

	if (!vault_row_known(info->type) || info->type == IDW_SLOT_PASSPHRASE ||
	    !vault_slot_info_ok(info) || wrapped_len > UINT16_MAX)
		return IDW_EINVAL;
	if (cap < 2 + idl + 2)
		return IDW_ETOOBIG;
	*p++ = info->type;
	*p++ = (uint8_t)idl;
	memcpy(p, info->id, idl);
	p += idl + 2;
	meta = p;
	if ((ll != 0 && (rc = tlv_put(&p, end, TAG_LABEL, info->label, ll))) ||
	    (pl != 0 &&
	     (rc = tlv_put(&p, end, TAG_PRINCIPAL, info->principal, pl))) ||
	    (rc = tlv_put_i64(&p, end, TAG_CREATED, info->created)) ||
	    (rc = tlv_put_i64(&p, end, TAG_EXPIRES, info->expires)) ||
	    (rc = tlv_put_i64(&p, end, TAG_REVOKED_AT, info->revoked_at)) ||
	    (info->revoked_type != 0 &&
	     (rc = tlv_put(&p, end, TAG_REVOKED_TYPE, &info->revoked_type,
			   1))) ||
	    (info->pending && (rc = tlv_put(&p, end, TAG_FLAGS, &flags, 1))))
		return rc;
	if ((size_t)(end - p) < 2 + wrapped_len)
		return IDW_ETOOBIG;
	idw_le16_put(meta - 2, (uint16_t)(p - meta));
	idw_le16_put(p, (uint16_t)wrapped_len);
	memset(p + 2, 0, wrapped_len);
	/* Read it back: what is written is what a reader accepts. */
	if (vault_table_find(out, (size_t)(p + 2 + wrapped_len - out),
			     info->type, info->id, r) != 0 ||
	    vault_row_info(r, &back) != 0)
		return IDW_EINVAL;
	return 0;
}

static void wrap_aad(const struct slot_row *r, const uint8_t *core,
		     uint8_t *aad)
{
	memcpy(aad, core + CORE_ID, IDW_VAULT_ID_LEN);
	memcpy(aad + IDW_VAULT_ID_LEN, r->start, r->aad_len);
}

void vault_row_seal(const struct slot_row *r, const uint8_t *core,
		    const uint8_t *kek, const uint8_t *vk)
{
	uint8_t aad[IDW_VAULT_ID_LEN + VAULT_TABLE_MAX];
	uint8_t *w = (uint8_t *)r->wrapped;

	wrap_aad(r, core, aad);
	randombytes_buf(w, NONCE_LEN);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		w + NONCE_LEN, NULL, vk, VAULT_KEY_LEN, aad,
		IDW_VAULT_ID_LEN + r->aad_len, NULL, w, kek);
}

int vault_row_open(const struct slot_row *r, const uint8_t *core,
		   const uint8_t *kek, uint8_t *vk)
{
	uint8_t aad[IDW_VAULT_ID_LEN + VAULT_TABLE_MAX];

	if (r->wrapped_len != VAULT_WRAP_LEN)
		return IDW_EUNLOCK;
	wrap_aad(r, core, aad);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    vk, NULL, NULL, r->wrapped + NONCE_LEN, CT_LEN, aad,
		    IDW_VAULT_ID_LEN + r->aad_len, r->wrapped, kek) != 0)
		return IDW_EUNLOCK;
	return 0;
}

int vault_kek_from_key(uint8_t type, const uint8_t *key, const uint8_t *core,
		       uint8_t kek[VAULT_KEY_LEN])
{
	const char *ctx = kek_context(type);
	crypto_generichash_state st;

	if (ctx == NULL)
		return IDW_EINVAL;
	crypto_generichash_init(&st, key, IDW_SLOT_KEY_LEN, VAULT_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)ctx, 16);
	crypto_generichash_update(&st, core + CORE_ID, IDW_VAULT_ID_LEN);
	crypto_generichash_final(&st, kek, VAULT_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

void vault_verifier(const uint8_t *secret, uint8_t out[VAULT_VERIFIER_LEN])
{
	crypto_generichash(out, VAULT_VERIFIER_LEN, secret, IDW_SLOT_KEY_LEN,
			   NULL, 0);
}

void vault_edit_start(struct table_edit *e, const uint8_t *t, size_t len)
{
	memcpy(e->t, t, len);
	e->len = len;
}

static void edit_cut(struct table_edit *e, const struct slot_row *r)
{
	size_t off = (size_t)(r->start - e->t);

	memmove(e->t + off, e->t + off + r->len, e->len - off - r->len);
	e->len -= r->len;
}

size_t vault_edit_drop(struct table_edit *e, uint8_t type, const char *id)
{
	struct slot_row r;
	size_t n = 0;

	while (vault_table_find(e->t, e->len, type, id, &r) == 0) {
		edit_cut(e, &r);
		n++;
	}
	return n;
}

int vault_edit_add(struct table_edit *e, const uint8_t *row, size_t len)
{
	if (len > sizeof(e->t) - e->len)
		return IDW_ETOOBIG;
	memcpy(e->t + e->len, row, len);
	e->len += len;
	return 0;
}

int vault_edit_fit(struct table_edit *e)
{
	struct idw_slot_info info;
	struct slot_row r, old;
	struct row_iter it;
	int64_t oldest;
	size_t rows;
	bool any;

	for (;;) {
		any = false;
		oldest = 0;
		rows = 0;
		vault_rows_begin(&it, e->t, e->len);
		while (vault_rows_next(&it, &r) == 1) {
			rows++;
			if (r.type != IDW_SLOT_TOMBSTONE ||
			    vault_row_info(&r, &info) != 0)
				continue;
			/* strictly older: the first of equals goes first */
			if (!any || info.revoked_at < oldest) {
				old = r;
				oldest = info.revoked_at;
				any = true;
			}
		}
		if (e->len <= VAULT_TABLE_MAX && rows <= IDW_SLOT_MAX)
			return 0;
		if (!any)
			return IDW_ETOOBIG;
		edit_cut(e, &old);
	}
}
