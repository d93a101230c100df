/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of key changes (agentd/vault_rekey.c, docs/vault-format.md
 * "Key changes"): rekey and passphrase change, what they drop and keep,
 * spliced old slot areas, the journal across a rekey and its compaction,
 * and a crash at every byte of every write of a change: the vault always
 * opens with the old passphrase and none of the change, or with the new
 * one and all of it.  Every vault uses IDW_KDF_MIN.
 */
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/unit/vaultfx.h"

#include "agentd/vault.h"
#include "agentd/vault_priv.h"
#include "agentd/vault_slots.h"
#include "common/buf.h"

#define OLD ((const uint8_t *)"old passphrase one")
#define OLDLEN (sizeof("old passphrase one") - 1)
#define NEW ((const uint8_t *)"new passphrase two")
#define NEWLEN (sizeof("new passphrase two") - 1)

/* Records as read back: kind/id/json/value concatenated, one per line. */
struct got {
	size_t n;
	char text[64][160];
};

static int collect(void *ctx, const struct idw_vault_rec *rec)
{
	struct got *g = ctx;

	assert_true(g->n < 64);
	snprintf(g->text[g->n++], sizeof(g->text[0]), "%d|%s|%s|%s|%.*s",
		 rec->op, rec->kind, rec->id, rec->json, (int)rec->value_len,
		 rec->value ? (const char *)rec->value : "");
	return 0;
}

static void rec_of(unsigned i, char *json, size_t jl, char *val, size_t vl,
		   struct idw_vault_rec *r)
{
	static char ids[64][24];

	snprintf(ids[i % 64], sizeof(ids[0]), "pp_%016u", i);
	snprintf(json, jl, "{\"n\":%u}", i);
	snprintf(val, vl, "value-%u", i);
	memset(r, 0, sizeof(*r));
	r->op = IDW_VAULT_PUT;
	r->kind = "passport";
	r->id = ids[i % 64];
	r->json = json;
	r->json_len = strlen(json);
	r->value = (const uint8_t *)val;
	r->value_len = strlen(val);
}

static void append_n(struct idw_vault *v, unsigned first, unsigned n)
{
	char json[32], val[32];
	struct idw_vault_rec r;

	for (unsigned i = first; i < first + n; i++) {
		rec_of(i, json, sizeof(json), val, sizeof(val), &r);
		assert_int_equal(idw_vault_append(v, &r), 0);
	}
}

/* g holds exactly records first .. first+n-1 (in order). */
static int got_is(const struct got *g, unsigned first, unsigned n)
{
	char json[32], val[32], want[160];
	struct idw_vault_rec r;

	if (g->n != n)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		rec_of(first + i, json, sizeof(json), val, sizeof(val), &r);
		snprintf(want, sizeof(want), "%d|%s|%s|%s|%s", r.op, r.kind,
			 r.id, json, val);
		if (strcmp(g->text[i], want) != 0)
			return 0;
	}
	return 1;
}

static int parse(const uint8_t *img, size_t len, const uint8_t *pass,
		 size_t passlen, struct got *g, struct idw_vault_report *rep)
{
	g->n = 0;
	return idw_vault_parse_image(img, len, pass, passlen, collect, g, rep);
}

static struct idw_vault *open_unlocked(const char *path, const uint8_t *pass,
				       size_t passlen, struct got *g,
				       struct idw_vault_report *rep)
{
	struct idw_vault *v;

	assert_int_equal(idw_vault_open(path, &v), 0);
	if (g != NULL)
		g->n = 0;
	assert_int_equal(
		idw_vault_unlock(v, pass, passlen, g ? collect : NULL, g, rep),
		0);
	return v;
}

struct tok {
	uint8_t secret[32];
	char id[13];
};

static void tok_make(struct tok *t)
{
	uint8_t h[32];

	randombytes_buf(t->secret, sizeof(t->secret));
	crypto_generichash(h, sizeof(h), t->secret, sizeof(t->secret), NULL, 0);
	sodium_bin2hex(t->id, sizeof(t->id), h, 6);
}

static struct idw_slot_info tok_meta(const struct tok *t, uint8_t type)
{
	struct idw_slot_info m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	snprintf(m.id, sizeof(m.id), "%s", t->id);
	snprintf(m.label, sizeof(m.label), "label-%s", t->id);
	snprintf(m.principal, sizeof(m.principal), "token:%s", t->id);
	m.created = 1000;
	m.expires = 0;
	return m;
}

/*
 * A vault with records 0..2, a token slot, a keychain slot and an
 * auth-only verifier, left closed.
 */
static void make_vault(const char *path, struct tok *tk, struct tok *kc,
		       struct tok *ver)
{
	struct idw_slot_info m;
	struct idw_vault *v;

	assert_int_equal(idw_vault_open(path, &v), 0);
	assert_int_equal(idw_vault_init(v, OLD, OLDLEN, IDW_KDF_MIN), 0);
	append_n(v, 0, 3);
	tok_make(tk);
	tok_make(kc);
	tok_make(ver);
	m = tok_meta(tk, IDW_SLOT_TOKEN);
	assert_int_equal(idw_vault_slot_add_key(v, &m, tk->secret), 0);
	m = tok_meta(kc, IDW_SLOT_KEYCHAIN);
	snprintf(m.id, sizeof(m.id), "%s", IDW_SLOT_KEYCHAIN_ID);
	assert_int_equal(idw_vault_slot_add_key(v, &m, kc->secret), 0);
	m = tok_meta(ver, IDW_SLOT_VERIFIER);
	assert_int_equal(idw_vault_slot_add_verifier(v, &m, ver->secret), 0);
	idw_vault_close(v);
}

static int unlock_key(const char *path, uint8_t type, const char *id,
		      const uint8_t *key)
{
	struct idw_vault_report rep;
	struct idw_vault *v;
	int rc;

	assert_int_equal(idw_vault_open(path, &v), 0);
	rc = idw_vault_unlock_key(v, type, id, key, NULL, NULL, &rep);
	idw_vault_close(v);
	return rc;
}

static int setup(void **state)
{
	return vaultfx_setup(state, "/tmp/idw-test-rekey-XXXXXX");
}

static int teardown(void **state)
{
	return vaultfx_teardown(state);
}

/* Compact the open, unlocked vault from what g read back. */
static void compact_from(struct idw_vault *v, unsigned first, unsigned n)
{
	char json[32], val[32];
	struct idw_vault_rec r;

	assert_int_equal(idw_vault_compact_begin(v), 0);
	for (unsigned i = first; i < first + n; i++) {
		rec_of(i, json, sizeof(json), val, sizeof(val), &r);
		assert_int_equal(idw_vault_compact_put(v, &r), 0);
	}
	assert_int_equal(idw_vault_compact_commit(v), 0);
}

static void test_rekey_drops_and_keeps(void **state)
{
	struct fx *f = *state;
	struct idw_slot_info s[IDW_SLOT_MAX], dropped[IDW_SLOT_MAX];
	struct idw_vault_keychange kc;
	struct idw_vault_report rep;
	struct got *g = calloc(1, sizeof(*g));
	struct tok tk, kcy, ver;
	struct idw_vault *v;
	size_t n, nd;

	make_vault(f->path, &tk, &kcy, &ver);
	v = open_unlocked(f->path, OLD, OLDLEN, g, &rep);
	assert_int_equal(idw_vault_rekey_drops(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(s[0].type, IDW_SLOT_TOKEN);
	assert_int_equal(s[1].type, IDW_SLOT_KEYCHAIN);

	/* The passphrase given must be the slot's. */
	memset(&kc, 0, sizeof(kc));
	kc.rekey = true;
	kc.pass = NEW;
	kc.passlen = NEWLEN;
	kc.now = 5000;
	assert_int_equal(
		idw_vault_key_change(v, &kc, dropped, IDW_SLOT_MAX, &nd),
		IDW_EUNLOCK);
	assert_false(kc.committed);
	kc.pass = OLD;
	kc.passlen = OLDLEN;
	assert_int_equal(
		idw_vault_key_change(v, &kc, dropped, IDW_SLOT_MAX, &nd), 0);
	assert_true(kc.committed);
	assert_int_equal(nd, 2);
	append_n(v, 3, 2); /* under VK' */
	idw_vault_close(v);

	/* The passphrase opens all of it; the link record is no record. */
	v = open_unlocked(f->path, OLD, OLDLEN, g, &rep);
	assert_true(got_is(g, 0, 5));
	assert_int_equal(rep.key_links, 1);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	/* passphrase, verifier, tombstone: no token, no keychain, and the
	 * link row is not a slot */
	assert_int_equal(n, 3);
	assert_int_equal(s[1].type, IDW_SLOT_VERIFIER);
	assert_int_equal(s[2].type, IDW_SLOT_TOMBSTONE);
	assert_string_equal(s[2].id, tk.id);
	assert_int_equal(s[2].revoked_at, 5000);
	assert_int_equal(idw_vault_verifier_check(v, ver.id, ver.secret), 0);
	idw_vault_close(v);

	/* A token made before, and the old keychain key, open nothing. */
	assert_int_equal(unlock_key(f->path, IDW_SLOT_TOKEN, tk.id, tk.secret),
			 IDW_ENOENT);
	assert_int_equal(unlock_key(f->path, IDW_SLOT_KEYCHAIN,
				    IDW_SLOT_KEYCHAIN_ID, kcy.secret),
			 IDW_ENOENT);

	/* A second rekey before any compaction: a chain of two links. */
	v = open_unlocked(f->path, OLD, OLDLEN, NULL, &rep);
	assert_int_equal(idw_vault_key_change(v, &kc, NULL, 0, NULL), 0);
	append_n(v, 5, 1);
	idw_vault_close(v);
	v = open_unlocked(f->path, OLD, OLDLEN, g, &rep);
	assert_true(got_is(g, 0, 6));
	assert_int_equal(rep.key_links, 2);
	/* Compaction: one key, no links, format of this version. */
	compact_from(v, 0, 6);
	idw_vault_close(v);
	v = open_unlocked(f->path, OLD, OLDLEN, g, &rep);
	assert_true(got_is(g, 0, 6));
	assert_int_equal(rep.key_links, 0);
	assert_int_equal(idw_vault_format_major(v), IDW_VAULT_MAJOR);
	idw_vault_close(v);
	free(g);
}

static void test_passwd_no_rekey(void **state)
{
	struct fx *f = *state;
	struct idw_vault_keychange kc;
	struct idw_vault_report rep;
	struct got *g = calloc(1, sizeof(*g));
	char json[32], val[32];
	struct idw_vault_rec r;
	struct tok tk, kcy, ver;
	struct idw_vault *v;
	size_t len;
	uint8_t *img;

	make_vault(f->path, &tk, &kcy, &ver);
	v = open_unlocked(f->path, OLD, OLDLEN, NULL, &rep);
	memset(&kc, 0, sizeof(kc));
	kc.newpass = NEW;
	kc.newlen = 7; /* too short */
	assert_int_equal(idw_vault_key_change(v, &kc, NULL, 0, NULL),
			 IDW_EINVAL);
	kc.newlen = NEWLEN;
	rec_of(3, json, sizeof(json), val, sizeof(val), &r);
	kc.recs = &r;
	kc.nrecs = 1;
	assert_int_equal(idw_vault_key_change(v, &kc, NULL, 0, NULL), 0);
	idw_vault_close(v);

	img = read_file(f->path, &len);
	assert_int_equal(parse(img, len, OLD, OLDLEN, g, &rep), IDW_EUNLOCK);
	assert_int_equal(parse(img, len, NEW, NEWLEN, g, &rep), 0);
	assert_true(got_is(g, 0, 4));
	/* Same key: the token still opens it. */
	assert_int_equal(unlock_key(f->path, IDW_SLOT_TOKEN, tk.id, tk.secret),
			 0);
	free(img);
	free(g);
}

/* Old slot areas spliced onto the current file open nothing. */
static void test_spliced_old_areas(void **state)
{
	struct fx *f = *state;
	struct idw_vault_keychange kc;
	struct idw_vault_report rep;
	struct got *g = calloc(1, sizeof(*g));
	struct tok tk, kcy, ver;
	struct idw_vault *v;
	uint8_t *before, *after;
	size_t blen, alen;

	make_vault(f->path, &tk, &kcy, &ver);
	before = read_file(f->path, &blen);
	v = open_unlocked(f->path, OLD, OLDLEN, NULL, &rep);
	memset(&kc, 0, sizeof(kc));
	kc.rekey = true;
	kc.newpass = NEW;
	kc.newlen = NEWLEN;
	assert_int_equal(idw_vault_key_change(v, &kc, NULL, 0, NULL), 0);
	append_n(v, 3, 1);
	idw_vault_close(v);

	/* Before the compaction, then after it. */
	for (int round = 0; round < 2; round++) {
		after = read_file(f->path, &alen);
		assert_int_equal(parse(after, alen, NEW, NEWLEN, g, &rep), 0);
		assert_true(got_is(g, 0, 4));
		memcpy(after + VAULT_AREA_OFF(0), before + VAULT_AREA_OFF(0),
		       2 * VAULT_AREA_SIZE);
		assert_int_equal(parse(after, alen, OLD, OLDLEN, g, &rep),
				 IDW_ECORRUPT);
		assert_non_null(strstr(rep.detail, "rekey"));
		assert_int_equal(parse(after, alen, NEW, NEWLEN, g, &rep),
				 IDW_EUNLOCK);
		/* The old token with the old areas: still nothing. */
		assert_int_equal(idw_vault_parse_image_key(
					 after, alen, IDW_SLOT_TOKEN, tk.id,
					 tk.secret, NULL, NULL, &rep),
				 IDW_ECORRUPT);
		free(after);
		if (round == 0) {
			v = open_unlocked(f->path, NEW, NEWLEN, NULL, &rep);
			compact_from(v, 0, 4);
			idw_vault_close(v);
		}
	}
	free(before);
	free(g);
}

/*
 * The vault opens with exactly one of the two passphrases: the old one
 * with records 0..2, or the new one with 0..3 (the change's record).
 */
static void check_state(const uint8_t *img, size_t len, struct got *g,
			unsigned *n_old, unsigned *n_new)
{
	struct idw_vault_report rep;
	int ro = parse(img, len, OLD, OLDLEN, g, &rep);

	if (ro == 0) {
		assert_true(got_is(g, 0, 3));
		(*n_old)++;
	}
	{
		int rn = parse(img, len, NEW, NEWLEN, g, &rep);

		if (rn == 0) {
			assert_true(got_is(g, 0, 4));
			(*n_new)++;
		}
		if ((ro == 0) == (rn == 0))
			fail_msg("opens with %s (old %d, new %d: %s)",
				 ro == 0 ? "both" : "neither", ro, rn,
				 rep.detail);
	}
}

/* img = base with area i's first k bytes taken from top. */
static void torn_area(uint8_t *img, const uint8_t *base, const uint8_t *top,
		      size_t len, int i, size_t k)
{
	memcpy(img, base, len);
	memcpy(img + VAULT_AREA_OFF(i), top + VAULT_AREA_OFF(i), k);
}

static void test_crash_at_every_byte(void **state)
{
	struct fx *f = *state;
	struct idw_vault_keychange kc;
	struct idw_vault_report rep;
	struct vault_change *ch = NULL;
	struct got *g = calloc(1, sizeof(*g));
	uint8_t *s0, *s1, *s2, *s3, *img;
	size_t l0, l1, l2, l3;
	char json[32], val[32];
	struct idw_vault_rec r;
	struct tok tk, kcy, ver;
	struct idw_vault *v;
	unsigned n_old = 0, n_new = 0;
	int first1, first3;

	make_vault(f->path, &tk, &kcy, &ver);
	v = open_unlocked(f->path, OLD, OLDLEN, NULL, &rep);
	memset(&kc, 0, sizeof(kc));
	kc.rekey = true;
	kc.newpass = NEW;
	kc.newlen = NEWLEN;
	rec_of(3, json, sizeof(json), val, sizeof(val), &r);
	kc.recs = &r;
	kc.nrecs = 1;
	/* The real steps, one at a time, the file kept after each. */
	s0 = read_file(f->path, &l0);
	first1 = !v->s.cur;
	assert_int_equal(vault_change_begin(v, &kc, &ch), 0);
	s1 = read_file(f->path, &l1);
	assert_int_equal(vault_change_tail(v, ch), 0);
	s2 = read_file(f->path, &l2);
	first3 = !v->s.cur;
	assert_int_equal(vault_change_commit(v, ch), 0);
	s3 = read_file(f->path, &l3);
	vault_change_free(v, ch);
	idw_vault_close(v);
	assert_int_equal(l0, l1);
	assert_true(l2 > l1);
	assert_int_equal(l2, l3);

	img = malloc(l3);
	/* Step 1, each area write torn at every byte. */
	for (size_t k = 0; k <= VAULT_AREA_SIZE; k++) {
		torn_area(img, s0, s1, l0, first1, k);
		check_state(img, l0, g, &n_old, &n_new);
		torn_area(img, s0, s1, l0, !first1, k);
		memcpy(img + VAULT_AREA_OFF(first1),
		       s1 + VAULT_AREA_OFF(first1), VAULT_AREA_SIZE);
		check_state(img, l0, g, &n_old, &n_new);
	}
	assert_int_equal(n_new, 0);
	/* Step 2: the tail cut at every byte. */
	for (size_t k = l1; k <= l2; k++)
		check_state(s2, k, g, &n_old, &n_new);
	assert_int_equal(n_new, 0);
	/* Step 3, each area write torn at every byte. */
	for (size_t k = 0; k <= VAULT_AREA_SIZE; k++) {
		torn_area(img, s2, s3, l2, first3, k);
		check_state(img, l2, g, &n_old, &n_new);
		torn_area(img, s2, s3, l2, !first3, k);
		memcpy(img + VAULT_AREA_OFF(first3),
		       s3 + VAULT_AREA_OFF(first3), VAULT_AREA_SIZE);
		check_state(img, l2, g, &n_old, &n_new);
	}
	assert_true(n_new > 0);
	check_state(s3, l3, g, &n_old, &n_new);

	/*
	 * A real unlock of an interrupted change rolls it back for good:
	 * the tail is cut, the pending row goes, and a record appended
	 * afterwards is kept by the next unlock.
	 */
	write_file(f->path, s2, l2);
	v = open_unlocked(f->path, OLD, OLDLEN, g, &rep);
	assert_true(rep.rolled_back);
	assert_int_equal(rep.rolled_back_bytes, l2 - l1);
	assert_true(got_is(g, 0, 3));
	append_n(v, 10, 1);
	idw_vault_close(v);
	v = open_unlocked(f->path, OLD, OLDLEN, g, &rep);
	assert_false(rep.rolled_back);
	assert_int_equal(g->n, 4);
	idw_vault_close(v);
	free(img);
	free(s0);
	free(s1);
	free(s2);
	free(s3);
	free(g);
}

/* A failed change leaves no pending row to cut later appends. */
static void test_abandoned_change_rolls_back(void **state)
{
	struct fx *f = *state;
	struct idw_vault_keychange kc;
	struct idw_vault_report rep;
	struct vault_change *ch = NULL;
	struct got *g = calloc(1, sizeof(*g));
	struct tok tk, kcy, ver;
	struct idw_vault *v;

	make_vault(f->path, &tk, &kcy, &ver);
	v = open_unlocked(f->path, OLD, OLDLEN, NULL, &rep);
	memset(&kc, 0, sizeof(kc));
	kc.rekey = true;
	kc.pass = OLD;
	kc.passlen = OLDLEN;
	assert_int_equal(vault_change_begin(v, &kc, &ch), 0);
	assert_int_equal(vault_change_tail(v, ch), 0);
	/* stopped before the commit: free rolls back */
	vault_change_free(v, ch);
	assert_int_equal(vault_pending_off(&v->s), 0);
	append_n(v, 3, 1);
	idw_vault_close(v);
	v = open_unlocked(f->path, OLD, OLDLEN, g, &rep);
	assert_false(rep.rolled_back);
	assert_true(got_is(g, 0, 4));
	idw_vault_close(v);
	/* The token is still there: nothing changed. */
	assert_int_equal(unlock_key(f->path, IDW_SLOT_TOKEN, tk.id, tk.secret),
			 0);
	free(g);
}

/* Format versions: an older major is read, a newer one named. */
static void test_format_versions(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct got *g = calloc(1, sizeof(*g));
	struct idw_vault *v;
	struct tok tk, kcy, ver;
	size_t len;
	uint8_t *img;

	make_vault(f->path, &tk, &kcy, &ver);
	img = read_file(f->path, &len);
	assert_int_equal(idw_le16_get(img + 4), IDW_VAULT_MAJOR);
	assert_memory_equal(img + 24, "0.2.0", 6);
	/* A newer major, naming the idw it needs in the core. */
	idw_le16_put(img + 4, 3);
	memset(img + 24, 0, 16);
	memcpy(img + 24, "0.7.1", 5);
	assert_int_equal(parse(img, len, OLD, OLDLEN, g, &rep), IDW_EVERSION);
	assert_non_null(strstr(rep.detail, "vault format 3.0"));
	assert_non_null(strstr(rep.detail, "needs idw >= 0.7.1"));
	/* Without a name in the core, the message still says what to do. */
	memset(img + 24, 0, 16);
	assert_int_equal(parse(img, len, OLD, OLDLEN, g, &rep), IDW_EVERSION);
	assert_non_null(strstr(rep.detail, "upgrade idw"));
	free(img);
	v = open_unlocked(f->path, OLD, OLDLEN, NULL, &rep);
	assert_int_equal(idw_vault_format_major(v), IDW_VAULT_MAJOR);
	idw_vault_close(v);
	free(g);
}

/*
 * IDW_WRITE_FUZZ_SEEDS=DIR: vaults in the middle of key changes for
 * tests/fuzz/fuzz_vault.c (its passphrase), so the fuzzer starts from link
 * and pending rows and a journal that changes key.
 */
static void test_write_fuzz_seeds(void **state)
{
	struct fx *f = *state;
	const char *dir = getenv("IDW_WRITE_FUZZ_SEEDS");
	const uint8_t *fp = (const uint8_t *)"fuzz-passphrase-0";
	struct idw_vault_keychange kc;
	struct idw_vault_report rep;
	struct vault_change *ch = NULL;
	char out[512];
	struct idw_vault *v;
	uint8_t *img;
	size_t len;

	if (dir == NULL)
		skip();
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_init(v, fp, 17, IDW_KDF_MIN), 0);
	append_n(v, 0, 2);
	memset(&kc, 0, sizeof(kc));
	kc.rekey = true;
	kc.pass = fp;
	kc.passlen = 17;
	assert_int_equal(idw_vault_key_change(v, &kc, NULL, 0, NULL), 0);
	append_n(v, 2, 1);
	assert_int_equal(idw_vault_key_change(v, &kc, NULL, 0, NULL), 0);
	append_n(v, 3, 1);
	img = read_file(f->path, &len);
	snprintf(out, sizeof(out), "%s/vault-rekeyed.idw", dir);
	write_file(out, img, len);
	free(img);
	/* Stopped between the tail and the commit: pending. */
	assert_int_equal(vault_change_begin(v, &kc, &ch), 0);
	assert_int_equal(vault_change_tail(v, ch), 0);
	img = read_file(f->path, &len);
	snprintf(out, sizeof(out), "%s/vault-pending.idw", dir);
	write_file(out, img, len);
	assert_int_equal(parse(img, len, fp, 17, &(struct got){0}, &rep), 0);
	assert_true(rep.rolled_back);
	free(img);
	vault_change_free(v, ch);
	idw_vault_close(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_rekey_drops_and_keeps,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_passwd_no_rekey, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_spliced_old_areas, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_crash_at_every_byte, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_abandoned_change_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_format_versions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_fuzz_seeds, setup,
						teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
