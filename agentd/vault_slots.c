/* SPDX-License-Identifier: ISC */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentd/vault_slots.h"
#include "common/buf.h"
#include "sandbox/arena.h"

#define CORE_MAGIC "IDWV"
#define CORE_ID 8

/* Row types of the slot table.  Readers skip types they do not know. */
#define SLOT_PASSPHRASE 1
#define PP_ID "passphrase"
#define PP_META_LEN (1 + 8 + 8 + crypto_pwhash_SALTBYTES)
#define WRAP_LEN                                                               \
	(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + VAULT_KEY_LEN +        \
	 crypto_aead_xchacha20poly1305_ietf_ABYTES)

#define COMMIT_LABEL "idw-vk-commit-v1" /* 16 bytes */

/*
 * Parameters above SENSITIVE are refused on read, so a planted slot cannot
 * make the agent allocate gigabytes.  Fuzz builds refuse far less, so that
 * the fuzzer spends its time in the parsers rather than in Argon2id.
 */
#ifdef IDW_FUZZING
#define KDF_OPS_MAX 3ULL
#define KDF_MEM_MAX (64ULL * 1024)
#else
#define KDF_OPS_MAX ((unsigned long long)crypto_pwhash_OPSLIMIT_SENSITIVE)
#define KDF_MEM_MAX ((unsigned long long)crypto_pwhash_MEMLIMIT_SENSITIVE)
#endif

struct slot_row {
	uint8_t type;
	const uint8_t *start; /* the AAD covers start .. start + aad_len */
	size_t aad_len;
	const uint8_t *meta;
	uint16_t meta_len;
	const uint8_t *wrapped;
	uint16_t wrapped_len;
};

/* A read-only bounded view over bytes from the file. */
static void view(struct idw_buf *b, const uint8_t *p, size_t n)
{
	idw_buf_init(b, n, 0);
	b->d = (uint8_t *)p;
	b->len = b->cap = n;
}

void vault_core_make(uint8_t core[VAULT_CORE_SIZE])
{
	memset(core, 0, VAULT_CORE_SIZE);
	memcpy(core, CORE_MAGIC, 4);
	idw_le16_put(core + 4, IDW_VAULT_MAJOR);
	idw_le16_put(core + 6, IDW_VAULT_MINOR);
	randombytes_buf(core + CORE_ID, IDW_VAULT_ID_LEN);
}

int vault_core_check(const uint8_t *hdr, uint64_t size, char *why, size_t wl)
{
	unsigned major, minor;

	if (size < 8) {
		snprintf(why, wl, "file too short for a vault header");
		return IDW_ECORRUPT;
	}
	if (memcmp(hdr, CORE_MAGIC, 4) != 0) {
		snprintf(why, wl, "not an idw vault (bad magic)");
		return IDW_ECORRUPT;
	}
	major = idw_le16_get(hdr + 4);
	minor = idw_le16_get(hdr + 6);
	if (major > IDW_VAULT_MAJOR) {
		snprintf(why, wl,
			 "vault format %u.%u is newer than this idw reads "
			 "(%u.x): upgrade idw",
			 major, minor, IDW_VAULT_MAJOR);
		return IDW_EVERSION;
	}
	if (major == 0) {
		snprintf(why, wl, "vault format major 0 does not exist");
		return IDW_ECORRUPT;
	}
	if (size < VAULT_JOURNAL_OFF) {
		snprintf(why, wl,
			 "file of %llu bytes is shorter than the header and "
			 "slot areas",
			 (unsigned long long)size);
		return IDW_ECORRUPT;
	}
	/* Not covered by any MAC, so it must be exactly zero. */
	for (size_t i = VAULT_CORE_SIZE; i < VAULT_HDR_SIZE; i++)
		if (hdr[i] != 0) {
			snprintf(why, wl,
				 "header padding at byte %zu is not "
				 "zero",
				 i);
			return IDW_ECORRUPT;
		}
	return 0;
}

static void keys_derive(struct vault_keys *k)
{
	crypto_kdf_derive_from_key(k->slot_mac, VAULT_KEY_LEN, 1, "idw-slot",
				   k->vk);
	crypto_kdf_derive_from_key(k->journal, VAULT_KEY_LEN, 1, "idw-jrnl",
				   k->vk);
	crypto_kdf_derive_from_key(k->lencheck, VAULT_KEY_LEN, 1, "idw-lenc",
				   k->vk);
}

void vault_keys_free(struct vault_keys **k)
{
	idw_arena_free(*k); /* wipes */
	*k = NULL;
}

/* XChaCha20-Poly1305 is not key-committing: this ties the area to VK. */
static void vk_commit(const uint8_t *vk, const uint8_t *id, uint8_t *out)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, vk, VAULT_KEY_LEN, VAULT_HASH_LEN);
	crypto_generichash_update(&st, (const uint8_t *)COMMIT_LABEL, 16);
	crypto_generichash_update(&st, id, IDW_VAULT_ID_LEN);
	crypto_generichash_final(&st, out, VAULT_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

static void area_mac(const uint8_t *core, const uint8_t *area,
		     const uint8_t *key, uint8_t *out)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, VAULT_KEY_LEN, VAULT_HASH_LEN);
	crypto_generichash_update(&st, core, VAULT_CORE_SIZE);
	crypto_generichash_update(&st, area, VAULT_AREA_MAC);
	crypto_generichash_final(&st, out, VAULT_HASH_LEN);
	sodium_memzero(&st, sizeof(st));
}

void vault_area_checksum(const uint8_t core[VAULT_CORE_SIZE],
			 const uint8_t area[VAULT_AREA_SIZE],
			 uint8_t out[VAULT_HASH_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, VAULT_HASH_LEN);
	crypto_generichash_update(&st, core, VAULT_CORE_SIZE);
	crypto_generichash_update(&st, area, VAULT_AREA_SUM);
	crypto_generichash_final(&st, out, VAULT_HASH_LEN);
}

void vault_area_build(const struct vault_slots *s, const struct vault_keys *k,
		      uint8_t out[VAULT_AREA_SIZE])
{
	memset(out, 0, VAULT_AREA_SIZE);
	idw_le64_put(out + VAULT_AREA_GEN, s->gen);
	idw_le32_put(out + VAULT_AREA_TLEN, s->table_len);
	memcpy(out + VAULT_AREA_TABLE, s->table, s->table_len);
	vk_commit(k->vk, s->core + CORE_ID, out + VAULT_AREA_COMMIT);
	area_mac(s->core, out, k->slot_mac, out + VAULT_AREA_MAC);
	vault_area_checksum(s->core, out, out + VAULT_AREA_SUM);
}

/* Row: u8 type | u8 id_len | id | u16 meta_len | meta | u16 wlen | wrapped */
static int row_next(struct idw_buf *b, struct slot_row *r)
{
	uint8_t idlen;

	r->start = idw_buf_ptr(b);
	if (idw_buf_get_u8(b, &r->type) != 0 ||
	    idw_buf_get_u8(b, &idlen) != 0 || idw_buf_skip(b, idlen) != 0 ||
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
	return 0;
}

static int table_passphrase(const uint8_t *t, size_t len, struct slot_row *pp,
			    char *why, size_t wl)
{
	struct idw_buf b;
	struct slot_row r;
	int found = 0, n = 0;

	view(&b, t, len);
	for (; idw_buf_avail(&b) > 0; n++) {
		if (row_next(&b, &r) != 0 || r.type == 0) {
			snprintf(why, wl, "slot row %d is malformed", n);
			return IDW_ECORRUPT;
		}
		/* Keychain and token rows come later: not ours to read. */
		if (r.type != SLOT_PASSPHRASE)
			continue;
		if (found || r.meta_len != PP_META_LEN ||
		    r.wrapped_len != WRAP_LEN) {
			snprintf(why, wl, "slot row %d: bad passphrase slot",
				 n);
			return IDW_ECORRUPT;
		}
		*pp = r;
		found = 1;
	}
	if (!found) {
		snprintf(why, wl, "no passphrase slot");
		return IDW_ECORRUPT;
	}
	return 0;
}

/* Seal or open the wrapped VK of a row; AAD = vault id || row head. */
static int row_wrap(const struct slot_row *r, const uint8_t *core,
		    const uint8_t *kek, uint8_t *vk, int seal)
{
	uint8_t aad[IDW_VAULT_ID_LEN + VAULT_TABLE_MAX];
	const uint8_t *nonce = r->wrapped;
	uint8_t *c = (uint8_t *)r->wrapped +
		     crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
	size_t alen = IDW_VAULT_ID_LEN + r->aad_len;

	memcpy(aad, core + CORE_ID, IDW_VAULT_ID_LEN);
	memcpy(aad + IDW_VAULT_ID_LEN, r->start, r->aad_len);
	if (seal) {
		crypto_aead_xchacha20poly1305_ietf_encrypt(
		    c, NULL, vk, VAULT_KEY_LEN, aad, alen, NULL, nonce, kek);
		return 0;
	}
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		vk, NULL, NULL, c,
		VAULT_KEY_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES, aad,
		alen, nonce, kek) != 0)
		return IDW_EUNLOCK;
	return 0;
}

static int kdf_params(enum idw_kdf_level kdf, uint64_t *ops, uint64_t *mem)
{
	switch (kdf) {
	case IDW_KDF_INTERACTIVE:
		*ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		*mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
		return 0;
	case IDW_KDF_MODERATE:
		*ops = crypto_pwhash_OPSLIMIT_MODERATE;
		*mem = crypto_pwhash_MEMLIMIT_MODERATE;
		return 0;
	case IDW_KDF_SENSITIVE:
		*ops = crypto_pwhash_OPSLIMIT_SENSITIVE;
		*mem = crypto_pwhash_MEMLIMIT_SENSITIVE;
		return 0;
	case IDW_KDF_MIN:
		*ops = crypto_pwhash_OPSLIMIT_MIN;
		*mem = crypto_pwhash_MEMLIMIT_MIN;
		return 0;
	}
	return IDW_EINVAL;
}

static int kek_derive(uint8_t *kek, const uint8_t *pass, size_t passlen,
		      const uint8_t *meta)
{
	if (pass == NULL)
		pass = (const uint8_t *)"";
	if (crypto_pwhash(kek, VAULT_KEY_LEN, (const char *)pass, passlen,
			  meta + 17, idw_le64_get(meta + 1),
			  (size_t)idw_le64_get(meta + 9), meta[0]) != 0)
		return IDW_ENOMEM;
	return 0;
}

int vault_slots_create(struct vault_slots *s,
		       const uint8_t core[VAULT_CORE_SIZE], const uint8_t *pass,
		       size_t passlen, enum idw_kdf_level kdf,
		       struct vault_keys **keys)
{
	struct vault_keys *k = NULL;
	uint8_t *kek = NULL, *p, *meta;
	struct slot_row r;
	uint64_t ops, mem;
	int rc;

	*keys = NULL;
	if ((rc = kdf_params(kdf, &ops, &mem)) != 0)
		return rc;
	k = idw_arena_alloc(sizeof(*k));
	kek = idw_arena_alloc(VAULT_KEY_LEN);
	if (k == NULL || kek == NULL) {
		rc = IDW_ENOMEM;
		goto out;
	}
	randombytes_buf(k->vk, VAULT_KEY_LEN);
	keys_derive(k);

	memset(s, 0, sizeof(*s));
	p = s->table;
	r.start = p;
	r.type = *p++ = SLOT_PASSPHRASE;
	*p++ = (uint8_t)strlen(PP_ID);
	memcpy(p, PP_ID, strlen(PP_ID));
	p += strlen(PP_ID);
	idw_le16_put(p, PP_META_LEN);
	p += 2;
	meta = p;
	r.meta = p;
	meta[0] = crypto_pwhash_ALG_ARGON2ID13;
	idw_le64_put(meta + 1, ops);
	idw_le64_put(meta + 9, mem);
	randombytes_buf(meta + 17, crypto_pwhash_SALTBYTES);
	p += PP_META_LEN;
	r.aad_len = (size_t)(p - r.start);
	idw_le16_put(p, WRAP_LEN);
	p += 2;
	r.wrapped = p;
	randombytes_buf(p, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	p += WRAP_LEN;
	s->table_len = (uint32_t)(p - s->table);

	if ((rc = kek_derive(kek, pass, passlen, meta)) != 0)
		goto out;
	(void)row_wrap(&r, core, kek, k->vk, 1);
	memcpy(s->core, core, VAULT_CORE_SIZE);
	crypto_generichash(s->core_hash, VAULT_HASH_LEN, core, VAULT_CORE_SIZE,
			   NULL, 0);
	s->gen = 1;
	s->cur = 0;
	*keys = k;
	k = NULL;
out:
	idw_arena_free(kek);
	vault_keys_free(&k);
	return rc;
}

static int pp_params_check(const uint8_t *meta, char *why, size_t wl)
{
	unsigned long long ops = idw_le64_get(meta + 1);
	unsigned long long mem = idw_le64_get(meta + 9);

	if (meta[0] != crypto_pwhash_ALG_ARGON2ID13 ||
	    ops < crypto_pwhash_OPSLIMIT_MIN || ops > KDF_OPS_MAX ||
	    mem < crypto_pwhash_MEMLIMIT_MIN || mem > KDF_MEM_MAX) {
		snprintf(why, wl,
			 "passphrase slot asks for KDF alg %u, %llu passes, "
			 "%llu bytes: outside what idw accepts",
			 meta[0], ops, mem);
		return IDW_ECORRUPT;
	}
	return 0;
}

int vault_slots_open(struct vault_slots *s, const uint8_t core[VAULT_CORE_SIZE],
		     const uint8_t areas[2 * VAULT_AREA_SIZE],
		     const uint8_t *pass, size_t passlen,
		     struct vault_keys **keys, char *why, size_t wl)
{
	struct vault_keys *k = NULL;
	uint8_t *kek = NULL, sum[VAULT_HASH_LEN];
	const uint8_t *a;
	struct slot_row pp;
	uint32_t tlen;
	uint64_t gen[2];
	bool ok[2];
	int cur, rc;
	char name;

	*keys = NULL;
	for (int i = 0; i < 2; i++) {
		a = areas + i * VAULT_AREA_SIZE;
		vault_area_checksum(core, a, sum);
		ok[i] =
		    sodium_memcmp(sum, a + VAULT_AREA_SUM, sizeof(sum)) == 0;
		gen[i] = idw_le64_get(a + VAULT_AREA_GEN);
	}
	if (!ok[0] && !ok[1]) {
		snprintf(why, wl,
			 "both slot areas fail their checksum "
			 "(header core or slot areas damaged)");
		return IDW_ECORRUPT;
	}
	/* LUKS2's habit: the higher valid generation wins. */
	cur = ok[0] && (!ok[1] || gen[0] >= gen[1]) ? 0 : 1;
	name = cur ? 'B' : 'A';
	a = areas + cur * VAULT_AREA_SIZE;
	tlen = idw_le32_get(a + VAULT_AREA_TLEN);
	if (tlen > VAULT_TABLE_MAX) {
		snprintf(why, wl, "slot area %c: table length %u too large",
			 name, tlen);
		return IDW_ECORRUPT;
	}
	if ((rc = table_passphrase(a + VAULT_AREA_TABLE, tlen, &pp, why, wl)) !=
		0 ||
	    (rc = pp_params_check(pp.meta, why, wl)) != 0)
		return rc;

	k = idw_arena_alloc(sizeof(*k));
	kek = idw_arena_alloc(VAULT_KEY_LEN);
	if (k == NULL || kek == NULL) {
		rc = IDW_ENOMEM;
		goto out;
	}
	if ((rc = kek_derive(kek, pass, passlen, pp.meta)) != 0) {
		snprintf(why, wl, "the passphrase KDF ran out of memory");
		goto out;
	}
	if ((rc = row_wrap(&pp, core, kek, k->vk, 0)) != 0) {
		snprintf(why, wl, "wrong passphrase");
		goto out;
	}
	keys_derive(k);
	vk_commit(k->vk, core + CORE_ID, sum);
	if (sodium_memcmp(sum, a + VAULT_AREA_COMMIT, sizeof(sum)) != 0) {
		snprintf(why, wl, "slot area %c: key commitment mismatch",
			 name);
		rc = IDW_ECORRUPT;
		goto out;
	}
	area_mac(core, a, k->slot_mac, sum);
	if (sodium_memcmp(sum, a + VAULT_AREA_MAC, sizeof(sum)) != 0) {
		snprintf(why, wl, "slot area %c: MAC mismatch", name);
		rc = IDW_ECORRUPT;
		goto out;
	}

	memset(s, 0, sizeof(*s));
	memcpy(s->core, core, VAULT_CORE_SIZE);
	crypto_generichash(s->core_hash, VAULT_HASH_LEN, core, VAULT_CORE_SIZE,
			   NULL, 0);
	s->cur = cur;
	s->gen = gen[cur];
	s->table_len = tlen;
	memcpy(s->table, a + VAULT_AREA_TABLE, tlen);
	if (!ok[!cur])
		snprintf(why, wl,
			 "slot area %c fails its checksum; opened with %c",
			 cur ? 'A' : 'B', name);
	else
		why[0] = '\0';
	*keys = k;
	k = NULL;
out:
	idw_arena_free(kek);
	vault_keys_free(&k);
	return rc;
}
