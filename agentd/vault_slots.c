/* SPDX-License-Identifier: ISC */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentd/vault_rows.h"
#include "agentd/vault_slots.h"
#include "common/buf.h"
#include "sandbox/arena.h"

#define CORE_MAGIC "IDWV"
#define CORE_ID 8

#define PP_ID "passphrase"
#define PP_META_LEN (1 + 8 + 8 + crypto_pwhash_SALTBYTES)

#define COMMIT_LABEL "idw-vk-commit-v1" /* 16 bytes */

/*
 * Which idw first reads each major format, for the message that refuses a
 * newer one.  A vault also names it in its core (CORE_NEEDS), so that a
 * major this table does not know yet can still be named.
 */
static const char *const needs_idw[] = {
	[1] = "0.1.0",
	[2] = "0.2.0",
};
#define CORE_NEEDS 24
#define CORE_NEEDS_LEN 16

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

void vault_core_make(uint8_t core[VAULT_CORE_SIZE])
{
	memset(core, 0, VAULT_CORE_SIZE);
	memcpy(core, CORE_MAGIC, 4);
	idw_le16_put(core + 4, IDW_VAULT_MAJOR);
	idw_le16_put(core + 6, IDW_VAULT_MINOR);
	randombytes_buf(core + CORE_ID, IDW_VAULT_ID_LEN);
	vault_core_upgrade(core);
}

void vault_core_upgrade(uint8_t core[VAULT_CORE_SIZE])
{
	idw_le16_put(core + 4, IDW_VAULT_MAJOR);
	idw_le16_put(core + 6, IDW_VAULT_MINOR);
	memset(core + CORE_NEEDS, 0, VAULT_CORE_SIZE - CORE_NEEDS);
	memcpy(core + CORE_NEEDS, needs_idw[IDW_VAULT_MAJOR],
	       strlen(needs_idw[IDW_VAULT_MAJOR]));
}

/* The idw version a core of a newer major says it needs, or "". */
static void core_needs(const uint8_t *hdr, unsigned major, char *out,
		       size_t size)
{
	size_t i;

	out[0] = '\0';
	if (major < sizeof(needs_idw) / sizeof(needs_idw[0]) &&
	    needs_idw[major] != NULL) {
		snprintf(out, size, "%s", needs_idw[major]);
		return;
	}
	for (i = 0; i < CORE_NEEDS_LEN && i + 1 < size; i++) {
		uint8_t c = hdr[CORE_NEEDS + i];

		if (c == 0)
			break;
		if (!((c >= '0' && c <= '9') || c == '.' ||
		      (c >= 'a' && c <= 'z') || c == '-')) {
			i = 0;
			break;
		}
		out[i] = (char)c;
	}
	out[i] = '\0';
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
		char needs[CORE_NEEDS_LEN + 1];

		/* The needed version is in the core, past the first 8 bytes
		 * a size check guarantees: read it only when present. */
		if (size >= VAULT_CORE_SIZE)
			core_needs(hdr, major, needs, sizeof(needs));
		else
			needs[0] = '\0';
		if (needs[0] != '\0')
			snprintf(why, wl,
				 "vault format %u.%u is newer than this idw "
				 "(%s) reads (up to %u.x): it needs idw >= %s",
				 major, minor, IDW_VERSION, IDW_VAULT_MAJOR,
				 needs);
		else
			snprintf(why, wl,
				 "vault format %u.%u is newer than this idw "
				 "(%s) reads (up to %u.x): upgrade idw",
				 major, minor, IDW_VERSION, IDW_VAULT_MAJOR);
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

static void keys_derive(struct vault_keys *k);
static int pp_params_check(const uint8_t *meta, char *why, size_t wl);
static int kek_derive(uint8_t *kek, const uint8_t *pass, size_t passlen,
		      const uint8_t *meta);

void vault_keys_derive(struct vault_keys *k)
{
	keys_derive(k);
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

int vault_pp_kek(uint8_t *kek, const uint8_t *pass, size_t passlen,
		 const uint8_t *meta)
{
	char why[160];

	if (pp_params_check(meta, why, sizeof(why)) != 0)
		return IDW_ECORRUPT;
	return kek_derive(kek, pass, passlen, meta);
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
	memset(&r, 0, sizeof(r));
	p = s->table;
	r.start = p;
	r.type = *p++ = IDW_SLOT_PASSPHRASE;
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
	idw_le16_put(p, VAULT_WRAP_LEN);
	p += 2;
	r.wrapped = p;
	r.wrapped_len = VAULT_WRAP_LEN;
	p += VAULT_WRAP_LEN;
	s->table_len = (uint32_t)(p - s->table);

	if ((rc = kek_derive(kek, pass, passlen, meta)) != 0)
		goto out;
	vault_row_seal(&r, core, kek, k->vk);
	memcpy(s->core, core, VAULT_CORE_SIZE);
	crypto_generichash(s->core_hash, VAULT_HASH_LEN, core, VAULT_CORE_SIZE,
			   NULL, 0);
	s->gen = 1;
	s->cur = 0;
	s->verified = true;
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

int vault_area_table(const uint8_t core[VAULT_CORE_SIZE],
		     const uint8_t areas[2 * VAULT_AREA_SIZE], int *cur,
		     bool *other_ok, const uint8_t **t, uint32_t *tlen,
		     char *why, size_t wl)
{
	uint8_t sum[VAULT_HASH_LEN];
	const uint8_t *a;
	struct slot_row pp;
	uint64_t gen[2];
	bool ok[2];
	int c;

	for (int i = 0; i < 2; i++) {
		a = areas + i * VAULT_AREA_SIZE;
		vault_area_checksum(core, a, sum);
		ok[i] = sodium_memcmp(sum, a + VAULT_AREA_SUM, sizeof(sum)) ==
			0;
		gen[i] = idw_le64_get(a + VAULT_AREA_GEN);
	}
	if (!ok[0] && !ok[1]) {
		snprintf(why, wl,
			 "both slot areas fail their checksum "
			 "(header core or slot areas damaged)");
		return IDW_ECORRUPT;
	}
	/* LUKS2's habit: the higher valid generation wins, decided before
	 * any key is known, so an older table never gets a say. */
	c = ok[0] && (!ok[1] || gen[0] >= gen[1]) ? 0 : 1;
	a = areas + c * VAULT_AREA_SIZE;
	*cur = c;
	*other_ok = ok[!c];
	*t = a + VAULT_AREA_TABLE;
	*tlen = idw_le32_get(a + VAULT_AREA_TLEN);
	if (*tlen > VAULT_TABLE_MAX) {
		snprintf(why, wl, "slot area %c: table length %u too large",
			 c ? 'B' : 'A', *tlen);
		return IDW_ECORRUPT;
	}
	return vault_table_check(*t, *tlen, &pp, why, wl);
}

int vault_slots_list(const uint8_t core[VAULT_CORE_SIZE],
		     const uint8_t areas[2 * VAULT_AREA_SIZE],
		     struct idw_slot_info *out, size_t max, size_t *n)
{
	const uint8_t *t;
	uint32_t tlen;
	bool other_ok;
	char why[128];
	int cur, rc;

	*n = 0;
	if ((rc = vault_area_table(core, areas, &cur, &other_ok, &t, &tlen, why,
				   sizeof(why))) != 0)
		return rc;
	return vault_table_list(t, tlen, out, max, n);
}

static const char *slot_name(uint8_t type)
{
	return type == IDW_SLOT_KEYCHAIN ? "keychain" : "token";
}

/* The row cred names and its KEK; why says what failed. */
static int cred_kek(const struct vault_cred *cred, const uint8_t *core,
		    const uint8_t *t, uint32_t tlen, struct slot_row *row,
		    uint8_t *kek, char *why, size_t wl)
{
	struct slot_row pp;
	int rc;

	if (cred->type == IDW_SLOT_PASSPHRASE) {
		if ((rc = vault_table_check(t, tlen, &pp, why, wl)) != 0 ||
		    (rc = pp_params_check(pp.meta, why, wl)) != 0)
			return rc;
		*row = pp;
		if ((rc = kek_derive(kek, cred->pass, cred->passlen,
				     pp.meta)) != 0)
			snprintf(why, wl,
				 "the passphrase KDF ran out of memory");
		return rc;
	}
	if (cred->id == NULL || cred->key == NULL ||
	    (cred->type != IDW_SLOT_KEYCHAIN && cred->type != IDW_SLOT_TOKEN))
		return IDW_EINVAL;
	/* A pending keychain slot has no wrap: it does not unlock. */
	if (vault_table_find(t, tlen, cred->type, cred->id, row) != 0 ||
	    row->wrapped_len == 0) {
		snprintf(why, wl, "no %s slot %.32s", slot_name(cred->type),
			 cred->id);
		return IDW_ENOENT;
	}
	return vault_kek_from_key(cred->type, cred->key, core, kek);
}

int vault_slots_open(struct vault_slots *s, const uint8_t core[VAULT_CORE_SIZE],
		     const uint8_t areas[2 * VAULT_AREA_SIZE],
		     const struct vault_cred *cred, struct vault_keys **keys,
		     char *why, size_t wl)
{
	struct vault_keys *k = NULL;
	uint8_t *kek = NULL, sum[VAULT_HASH_LEN];
	const uint8_t *a, *t;
	struct slot_row row;
	uint32_t tlen;
	bool other_ok;
	int cur, rc;
	char name;

	*keys = NULL;
	if ((rc = vault_area_table(core, areas, &cur, &other_ok, &t, &tlen, why,
				   wl)) != 0)
		return rc;
	a = areas + cur * VAULT_AREA_SIZE;
	name = cur ? 'B' : 'A';
	k = idw_arena_alloc(sizeof(*k));
	kek = idw_arena_alloc(VAULT_KEY_LEN);
	if (k == NULL || kek == NULL) {
		rc = IDW_ENOMEM;
		goto out;
	}
	if ((rc = cred_kek(cred, core, t, tlen, &row, kek, why, wl)) != 0)
		goto out;
	if ((rc = vault_row_open(&row, core, kek, k->vk)) != 0) {
		if (cred->type == IDW_SLOT_PASSPHRASE)
			snprintf(why, wl, "wrong passphrase");
		else
			snprintf(why, wl, "the key does not open %s slot %.32s",
				 slot_name(cred->type), cred->id);
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
	s->gen = idw_le64_get(a + VAULT_AREA_GEN);
	s->table_len = tlen;
	memcpy(s->table, t, tlen);
	s->verified = true;
	if (!other_ok)
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
