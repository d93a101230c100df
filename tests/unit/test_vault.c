/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of the vault file (agentd/vault.c, docs/vault-format.md).
 * Every vault here uses IDW_KDF_MIN so the tests stay fast.
 *
 * IDW_WRITE_FUZZ_SEEDS=DIR makes test_write_fuzz_seeds write valid vault
 * images into DIR for tests/fuzz/fuzz_vault.c (same passphrase).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "tests/unit/vaultfx.h"

#include "agentd/vault.h"
#include "agentd/vault_slots.h"
#include "common/buf.h"

#define PASS ((const uint8_t *)"correct horse battery")
#define PASSLEN (sizeof("correct horse battery") - 1)
#define FUZZ_PASS "fuzz-passphrase-0" /* as in tests/fuzz/fuzz_vault.c */
#define FUZZ_TOKEN_BASE 0xa0	      /* ditto */
#define FUZZ_KEYCHAIN_BASE 0x40
#define REC_HDR 36
#define AREA(i) VAULT_AREA_OFF(i)

/* A record as written, and as read back. */
struct trec {
	uint8_t op;
	char *kind, *id, *json;
	size_t json_len;
	uint8_t *value; /* NULL when none */
	size_t value_len;
};

struct got {
	size_t n;
	struct trec r[512];
};

static void trec_free(struct trec *t)
{
	free(t->kind);
	free(t->id);
	free(t->json);
	free(t->value);
	memset(t, 0, sizeof(*t));
}

static void got_reset(struct got *g)
{
	for (size_t i = 0; i < g->n; i++)
		trec_free(&g->r[i]);
	g->n = 0;
}

static int collect(void *ctx, const struct idw_vault_rec *rec)
{
	struct got *g = ctx;
	struct trec *t;

	assert_true(g->n < sizeof(g->r) / sizeof(g->r[0]));
	t = &g->r[g->n++];
	t->op = rec->op;
	t->kind = strdup(rec->kind);
	t->id = strdup(rec->id);
	assert_int_equal(rec->json[rec->json_len], '\0');
	t->json = malloc(rec->json_len + 1);
	memcpy(t->json, rec->json, rec->json_len + 1);
	t->json_len = rec->json_len;
	t->value = NULL;
	if (rec->value != NULL) {
		t->value = malloc(rec->value_len);
		memcpy(t->value, rec->value, rec->value_len);
	}
	t->value_len = rec->value_len;
	return 0;
}

/* Record i of a deterministic series: kinds, ops, binary values. */
static void make_rec(unsigned i, struct trec *t)
{
	static const char *kinds[] = {"passport", "rule", "grant", "config"};
	char buf[128];

	memset(t, 0, sizeof(*t));
	t->op = i % 7 == 6 ? IDW_VAULT_DEL : IDW_VAULT_PUT;
	t->kind = strdup(kinds[i % 4]);
	snprintf(buf, sizeof(buf), "pp_%016x", i * 2654435761u);
	t->id = strdup(buf);
	snprintf(buf, sizeof(buf), "{\"n\":%u,\"name\":\"rec %u\"}", i, i);
	t->json = strdup(buf);
	t->json_len = strlen(buf);
	if (t->op == IDW_VAULT_PUT && i % 3 != 2) {
		t->value_len = 1 + i % 40;
		t->value = malloc(t->value_len);
		for (size_t j = 0; j < t->value_len; j++)
			t->value[j] = (uint8_t)(i * 31 + j * 7); /* has NULs */
	}
}

static void to_rec(const struct trec *t, struct idw_vault_rec *r)
{
	r->op = t->op;
	r->kind = t->kind;
	r->id = t->id;
	r->json = t->json;
	r->json_len = t->json_len;
	r->value = t->value;
	r->value_len = t->value_len;
}

static int trec_eq(const struct trec *a, const struct trec *b)
{
	return a->op == b->op && strcmp(a->kind, b->kind) == 0 &&
	       strcmp(a->id, b->id) == 0 && a->json_len == b->json_len &&
	       memcmp(a->json, b->json, a->json_len) == 0 &&
	       (a->value == NULL) == (b->value == NULL) &&
	       a->value_len == b->value_len &&
	       (a->value_len == 0 ||
		memcmp(a->value, b->value, a->value_len) == 0);
}

/* got holds exactly records first .. first + n - 1 of the series. */
static int got_is_series(const struct got *g, unsigned first, size_t n)
{
	struct trec e;
	int ok = g->n == n;

	for (size_t i = 0; ok && i < n; i++) {
		make_rec(first + (unsigned)i, &e);
		ok = trec_eq(&g->r[i], &e);
		trec_free(&e);
	}
	return ok;
}

static int append_series(struct idw_vault *v, unsigned first, unsigned n)
{
	struct idw_vault_rec r;
	struct trec t;
	int rc = 0;

	for (unsigned i = first; rc == 0 && i < first + n; i++) {
		make_rec(i, &t);
		to_rec(&t, &r);
		rc = idw_vault_append(v, &r);
		trec_free(&t);
	}
	return rc;
}

/* A new vault at path with records 0 .. n-1; ends[i] = end of record i. */
static void make_vault(const char *path, const uint8_t *pass, size_t passlen,
		       unsigned n, uint64_t *ends)
{
	struct idw_vault *v;

	assert_int_equal(idw_vault_open(path, &v), 0);
	assert_int_equal(idw_vault_init(v, pass, passlen, IDW_KDF_MIN), 0);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(append_series(v, i, 1), 0);
		if (ends != NULL)
			ends[i] = VAULT_JOURNAL_OFF + idw_vault_journal_size(v);
	}
	idw_vault_close(v);
}

/* Open, unlock with PASS into g, close.  The open's or unlock's result. */
static int reopen(const char *path, struct got *g, struct idw_vault_report *rep)
{
	struct idw_vault *v;
	int rc;

	got_reset(g);
	memset(rep, 0, sizeof(*rep));
	if ((rc = idw_vault_open(path, &v)) != 0)
		return rc;
	assert_true(idw_vault_initialized(v));
	rc = idw_vault_unlock(v, PASS, PASSLEN, collect, g, rep);
	assert_int_equal(idw_vault_unlocked(v), rc == 0);
	idw_vault_close(v);
	return rc;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static int setup(void **state)
{
	return vaultfx_setup(state, "/tmp/idw-test-vault-XXXXXX");
}

static int teardown(void **state)
{
	return vaultfx_teardown(state);
}

static void test_init_unlock_roundtrip(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	uint8_t id[IDW_VAULT_ID_LEN];
	char hex[33], hex2[33];
	struct got *g = calloc(1, sizeof(*g));

	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_false(idw_vault_initialized(v));
	assert_null(idw_vault_id(v));
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, NULL, NULL, &rep),
			 IDW_ENOVAULT);
	assert_int_equal(idw_vault_init(v, PASS, 7, IDW_KDF_MIN), IDW_EINVAL);
	assert_int_equal(idw_vault_init(v, PASS, PASSLEN, IDW_KDF_MIN), 0);
	assert_true(idw_vault_initialized(v));
	assert_true(idw_vault_unlocked(v));
	assert_int_equal(idw_vault_init(v, PASS, PASSLEN, IDW_KDF_MIN),
			 IDW_EEXIST);
	assert_int_equal(idw_vault_journal_size(v), 0);
	idw_vault_id_hex(v, hex);
	assert_int_equal(strlen(hex), 32);
	memcpy(id, idw_vault_id(v), sizeof(id));
	idw_vault_close(v);
	assert_int_equal(file_size(f->path), VAULT_JOURNAL_OFF);

	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_true(idw_vault_initialized(v));
	assert_false(idw_vault_unlocked(v));
	idw_vault_id_hex(v, hex2);
	assert_string_equal(hex, hex2);
	assert_memory_equal(idw_vault_id(v), id, sizeof(id));
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, collect, g, &rep),
			 0);
	assert_int_equal(rep.records, 0);
	assert_false(rep.truncated_tail);
	assert_true(idw_vault_unlocked(v));
	/* a second replay would duplicate the store */
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, collect, g, &rep),
			 IDW_EINVAL);
	idw_vault_close(v);
	got_reset(g);
	free(g);
}

static void test_wrong_passphrase(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));

	make_vault(f->path, PASS, PASSLEN, 3, NULL);
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_unlock(v, (const uint8_t *)"correct horse",
					  13, collect, g, &rep),
			 IDW_EUNLOCK);
	assert_int_equal(g->n, 0);
	assert_false(idw_vault_unlocked(v));
	assert_int_equal(idw_vault_unlock(v, NULL, 0, collect, g, &rep),
			 IDW_EUNLOCK);
	assert_int_equal(
		idw_vault_append(v, &(struct idw_vault_rec){.op = IDW_VAULT_PUT,
							    .kind = "config",
							    .id = "x"}),
		IDW_ELOCKED);
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, collect, g, &rep),
			 0);
	assert_true(got_is_series(g, 0, 3));
	idw_vault_close(v);
	got_reset(g);
	free(g);
}

static void test_append_replay_in_order(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));

	make_vault(f->path, PASS, PASSLEN, 200, NULL);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_int_equal(rep.records, 200);
	assert_true(got_is_series(g, 0, 200));

	/* appending after a replay continues the same chain */
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, collect, g, &rep),
			 0);
	assert_int_equal(append_series(v, 200, 5), 0);
	idw_vault_close(v);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 205));

	/* the image parser sees the same */
	{
		size_t len;
		uint8_t *img = read_file(f->path, &len);

		got_reset(g);
		assert_int_equal(idw_vault_parse_image(img, len, PASS, PASSLEN,
						       collect, g, &rep),
				 0);
		assert_true(got_is_series(g, 0, 205));
		got_reset(g);
		assert_int_equal(idw_vault_parse_image(img, len, PASS, 5,
						       collect, g, &rep),
				 IDW_EUNLOCK);
		assert_int_equal(g->n, 0);
		free(img);
	}
	got_reset(g);
	free(g);
}

static void test_record_bounds(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct idw_vault_rec r = {.op = IDW_VAULT_PUT,
				  .kind = "passport",
				  .id = "pp_big",
				  .json = "{}",
				  .json_len = 2};
	struct got *g = calloc(1, sizeof(*g));
	uint8_t *big = malloc(IDW_VAULT_MAX_RECORD);
	char longid[300];

	randombytes_buf(big, IDW_VAULT_MAX_RECORD);
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_init(v, PASS, PASSLEN, IDW_KDF_MIN), 0);
	r.value = big;
	r.value_len = IDW_VAULT_MAX_RECORD;
	assert_int_equal(idw_vault_append(v, &r), IDW_ETOOBIG);
	/* the largest record that fits: 16-byte tag, 8 + 2 + 6 + 3 bytes */
	r.value_len = IDW_VAULT_MAX_RECORD - 16 - 8 - 3 - 8 - 6 - 2;
	assert_int_equal(idw_vault_append(v, &r), 0);
	r.value_len++;
	assert_int_equal(idw_vault_append(v, &r), IDW_ETOOBIG);
	r.value_len = 0;
	r.value = NULL;
	r.op = 9;
	assert_int_equal(idw_vault_append(v, &r), IDW_EINVAL);
	r.op = IDW_VAULT_PUT;
	r.kind = "";
	assert_int_equal(idw_vault_append(v, &r), IDW_EINVAL);
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	r.kind = "passport";
	r.id = longid;
	assert_int_equal(idw_vault_append(v, &r), IDW_EINVAL);
	r.id = "x";
	r.json = NULL;
	assert_int_equal(idw_vault_append(v, &r), IDW_EINVAL);
	assert_int_equal(idw_vault_append(v, NULL), IDW_EINVAL);
	idw_vault_close(v);

	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->r[0].value_len,
			 IDW_VAULT_MAX_RECORD - 16 - 8 - 3 - 8 - 6 - 2);
	assert_memory_equal(g->r[0].value, big, g->r[0].value_len);
	got_reset(g);
	free(g);
	free(big);
}

/*
 * Flip every bit of a small vault, one at a time.  A flip in a slot area
 * still opens with the other area and must give exactly the original
 * records; any other flip must fail cleanly, deliver no record that was
 * not written, and never be taken for a torn write.
 */
static void test_every_bit_flip(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct got *g = calloc(1, sizeof(*g));
	size_t len, opened = 0;
	uint8_t *orig;
	int fd, rc;

	make_vault(f->path, PASS, PASSLEN, 3, NULL);
	orig = read_file(f->path, &len);
	fd = open(f->path, O_RDWR);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t b = orig[i] ^ (uint8_t)(1u << bit);
			int in_area = i >= AREA(0) && i < VAULT_JOURNAL_OFF;

			assert_int_equal(pwrite(fd, &b, 1, (off_t)i), 1);
			rc = reopen(f->path, g, &rep);
			if (rc != 0 && rc != IDW_ECORRUPT &&
			    rc != IDW_EUNLOCK && rc != IDW_EVERSION)
				fail_msg("byte %zu bit %d: %d", i, bit, rc);
			if (rep.truncated_tail)
				fail_msg("byte %zu bit %d: torn", i, bit);
			if (in_area != (rc == 0))
				fail_msg("byte %zu bit %d: rc %d", i, bit, rc);
			if (!got_is_series(g, 0, g->n) ||
			    (rc == 0 && g->n != 3))
				fail_msg("byte %zu bit %d: records", i, bit);
			if (rc != 0 && rc != IDW_EVERSION &&
			    rep.detail[0] == '\0' && i >= VAULT_HDR_SIZE)
				fail_msg("byte %zu bit %d: no detail", i, bit);
			opened += rc == 0;
			assert_int_equal(file_size(f->path), len);
		}
		assert_int_equal(pwrite(fd, &orig[i], 1, (off_t)i), 1);
	}
	assert_int_equal(opened, 2 * VAULT_AREA_SIZE * 8);
	close(fd);
	free(orig);
	got_reset(g);
	free(g);
}

static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	uint64_t e[3];
	size_t len;
	uint8_t *orig;

	make_vault(f->path, PASS, PASSLEN, 3, e);
	orig = read_file(f->path, &len);
	assert_int_equal(len, e[2]);
	const uint64_t cuts[] = {1, 5, 11, 12, 20, 35, 36, 37, e[2] - e[1] - 1};
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		write_file(f->path, orig, e[1] + cuts[c]);
		assert_int_equal(reopen(f->path, g, &rep), 0);
		assert_true(rep.truncated_tail);
		assert_int_equal(rep.truncated_bytes, cuts[c]);
		assert_int_equal(rep.records, 2);
		assert_true(got_is_series(g, 0, 2));
		assert_non_null(strstr(rep.detail, "torn"));
		assert_int_equal(file_size(f->path), e[1]);

		/* the next append goes on from the last good record */
		assert_int_equal(idw_vault_open(f->path, &v), 0);
		assert_int_equal(
			idw_vault_unlock(v, PASS, PASSLEN, NULL, NULL, &rep),
			0);
		assert_false(rep.truncated_tail);
		assert_int_equal(append_series(v, 2, 1), 0);
		idw_vault_close(v);
		assert_int_equal(reopen(f->path, g, &rep), 0);
		assert_false(rep.truncated_tail);
		assert_true(got_is_series(g, 0, 3));
	}

	/* the image parser reports a torn tail and writes nothing */
	got_reset(g);
	assert_int_equal(idw_vault_parse_image(orig, e[2] - 3, PASS, PASSLEN,
					       collect, g, &rep),
			 0);
	assert_true(rep.truncated_tail);
	assert_int_equal(rep.truncated_bytes, e[2] - 3 - e[1]);
	assert_true(got_is_series(g, 0, 2));
	free(orig);
	got_reset(g);
	free(g);
}

/* Bytes after the last record that are not the start of one: refused. */
static void test_garbage_tail(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct got *g = calloc(1, sizeof(*g));
	uint64_t e[3];
	size_t len;
	uint8_t *img;
	char want[64];

	make_vault(f->path, PASS, PASSLEN, 3, e);
	img = read_file(f->path, &len);
	img = realloc(img, len + 100);
	snprintf(want, sizeof(want), "record 4 at byte offset %llu",
		 (unsigned long long)e[2]);
	/* a full header's worth, a partial header and a zero-filled tail
	 * all carry a length check that fails */
	const size_t tails[] = {100, 40, 12, 30};
	for (size_t t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
		if (t < 3)
			randombytes_buf(img + len, tails[t]);
		else
			memset(img + len, 0, tails[t]);
		write_file(f->path, img, len + tails[t]);
		assert_int_equal(reopen(f->path, g, &rep), IDW_ECORRUPT);
		assert_false(rep.truncated_tail);
		assert_non_null(strstr(rep.detail, want));
		assert_true(got_is_series(g, 0, 3));
		assert_int_equal(file_size(f->path), len + tails[t]);
	}
	free(img);
	got_reset(g);
	free(g);
}

static void test_cut_or_swap_in_middle(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct got *g = calloc(1, sizeof(*g));
	uint64_t e[4];
	size_t len, l1, l2;
	uint8_t *orig, *img;

	make_vault(f->path, PASS, PASSLEN, 4, e);
	orig = read_file(f->path, &len);
	img = malloc(len);

	/* record 2 (bytes e[0] .. e[1]) removed */
	memcpy(img, orig, e[0]);
	memcpy(img + e[0], orig + e[1], len - e[1]);
	write_file(f->path, img, len - (e[1] - e[0]));
	assert_int_equal(reopen(f->path, g, &rep), IDW_ECORRUPT);
	assert_non_null(strstr(rep.detail, "record 2 "));
	assert_false(rep.truncated_tail);
	assert_true(got_is_series(g, 0, 1));

	/* the first record removed */
	memcpy(img, orig, VAULT_JOURNAL_OFF);
	memcpy(img + VAULT_JOURNAL_OFF, orig + e[0], len - e[0]);
	write_file(f->path, img, len - (e[0] - VAULT_JOURNAL_OFF));
	assert_int_equal(reopen(f->path, g, &rep), IDW_ECORRUPT);
	assert_non_null(strstr(rep.detail, "record 1 "));
	assert_int_equal(g->n, 0);

	/* records 2 and 3 swapped */
	l1 = e[1] - e[0];
	l2 = e[2] - e[1];
	memcpy(img, orig, e[0]);
	memcpy(img + e[0], orig + e[1], l2);
	memcpy(img + e[0] + l2, orig + e[0], l1);
	memcpy(img + e[2], orig + e[2], len - e[2]);
	write_file(f->path, img, len);
	assert_int_equal(reopen(f->path, g, &rep), IDW_ECORRUPT);
	assert_non_null(strstr(rep.detail, "record 2 "));
	assert_true(got_is_series(g, 0, 1));

	/* a record duplicated */
	memcpy(img, orig, e[1]);
	memcpy(img + e[1], orig + e[0], l1);
	write_file(f->path, img, e[1] + l1);
	assert_int_equal(reopen(f->path, g, &rep), IDW_ECORRUPT);
	assert_true(got_is_series(g, 0, 2));

	/* Known limit: a cut exactly at a record boundary at the end looks
	 * like a shorter journal.  The audit cross-check catches it. */
	write_file(f->path, orig, e[2]);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_false(rep.truncated_tail);
	assert_true(got_is_series(g, 0, 3));
	free(img);
	free(orig);
	got_reset(g);
	free(g);
}

static void test_compaction(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct idw_vault_rec r;
	struct got *g = calloc(1, sizeof(*g));
	struct trec t;
	char tmp[160];
	uint8_t id[IDW_VAULT_ID_LEN];

	make_vault(f->path, PASS, PASSLEN, 30, NULL);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	memcpy(id, idw_vault_id(v), sizeof(id));
	assert_int_equal(idw_vault_compact_begin(v), IDW_ELOCKED);
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, NULL, NULL, &rep),
			 0);

	/* abort leaves the vault as it was and no temporary file */
	assert_int_equal(idw_vault_compact_begin(v), 0);
	assert_int_equal(idw_vault_compact_begin(v), IDW_EINVAL);
	assert_int_equal(access(tmp, F_OK), 0);
	make_rec(100, &t);
	to_rec(&t, &r);
	assert_int_equal(idw_vault_compact_put(v, &r), 0);
	trec_free(&t);
	idw_vault_compact_abort(v);
	assert_int_equal(access(tmp, F_OK), -1);

	/* a stale temporary file from a crash does not block compaction */
	write_file(tmp, (const uint8_t *)"junk", 4);
	assert_int_equal(idw_vault_compact_begin(v), 0);
	for (unsigned i = 40; i < 45; i++) {
		make_rec(i, &t);
		to_rec(&t, &r);
		assert_int_equal(idw_vault_compact_put(v, &r), 0);
		trec_free(&t);
	}
	assert_int_equal(append_series(v, 99, 1), IDW_EINVAL);
	assert_int_equal(idw_vault_compact_commit(v), 0);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(idw_vault_compact_commit(v), IDW_EINVAL);
	/* the vault goes on in the new file */
	assert_int_equal(append_series(v, 45, 2), 0);
	idw_vault_close(v);

	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 40, 7));
	assert_int_equal(idw_vault_peek_id(f->path, (uint8_t[16]){0}), 0);
	{
		uint8_t id2[IDW_VAULT_ID_LEN];

		assert_int_equal(idw_vault_peek_id(f->path, id2), 0);
		assert_memory_equal(id, id2, sizeof(id));
	}
	got_reset(g);
	free(g);
}

/* Either area alone opens the vault; compaction rebuilds a damaged one. */
static void test_slot_area_fallback(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	size_t len;
	uint8_t *img;

	make_vault(f->path, PASS, PASSLEN, 3, NULL);
	img = read_file(f->path, &len);
	memset(img + AREA(0), 0xa5, VAULT_AREA_SIZE);
	write_file(f->path, img, len);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 3));
	assert_non_null(strstr(rep.detail, "slot area A"));

	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, NULL, NULL, &rep),
			 0);
	assert_int_equal(idw_vault_compact_begin(v), 0);
	for (unsigned i = 0; i < 3; i++) {
		struct idw_vault_rec r;
		struct trec t;

		make_rec(i, &t);
		to_rec(&t, &r);
		assert_int_equal(idw_vault_compact_put(v, &r), 0);
		trec_free(&t);
	}
	assert_int_equal(idw_vault_compact_commit(v), 0);
	idw_vault_close(v);
	free(img);

	img = read_file(f->path, &len);
	memset(img + AREA(1), 0, VAULT_AREA_SIZE);
	write_file(f->path, img, len);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 3));
	assert_non_null(strstr(rep.detail, "slot area B"));

	memset(img + AREA(0), 0, VAULT_AREA_SIZE);
	write_file(f->path, img, len);
	assert_int_equal(reopen(f->path, g, &rep), IDW_ECORRUPT);
	assert_non_null(strstr(rep.detail, "both slot areas"));
	free(img);
	got_reset(g);
	free(g);
}

static void test_versions_and_magic(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	uint8_t id[IDW_VAULT_ID_LEN];
	size_t len;
	uint8_t *img;

	make_vault(f->path, PASS, PASSLEN, 1, NULL);
	img = read_file(f->path, &len);

	idw_le16_put(img + 4, IDW_VAULT_MAJOR + 1);
	write_file(f->path, img, len);
	assert_int_equal(idw_vault_open(f->path, &v), IDW_EVERSION);
	assert_int_equal(idw_vault_peek_id(f->path, id), IDW_EVERSION);
	assert_int_equal(idw_vault_parse_image(img, len, PASS, PASSLEN, NULL,
					       NULL, &rep),
			 IDW_EVERSION);
	assert_non_null(strstr(rep.detail, "newer"));
	/* a newer major is refused whatever follows the magic */
	assert_int_equal(
		idw_vault_parse_image(img, 8, PASS, PASSLEN, NULL, NULL, &rep),
		IDW_EVERSION);

	idw_le16_put(img + 4, 0);
	write_file(f->path, img, len);
	assert_int_equal(idw_vault_open(f->path, &v), IDW_ECORRUPT);

	/* a minor bump written by nobody: the checksums cover the core */
	idw_le16_put(img + 4, IDW_VAULT_MAJOR);
	idw_le16_put(img + 6, IDW_VAULT_MINOR + 1);
	write_file(f->path, img, len);
	assert_int_equal(reopen(f->path, g, &rep), IDW_ECORRUPT);

	idw_le16_put(img + 6, IDW_VAULT_MINOR);
	img[0] = 'X';
	write_file(f->path, img, len);
	assert_int_equal(idw_vault_open(f->path, &v), IDW_ECORRUPT);
	assert_int_equal(idw_vault_peek_id(f->path, id), IDW_ECORRUPT);

	/* shorter than header and slot areas */
	img[0] = 'I';
	write_file(f->path, img, VAULT_JOURNAL_OFF - 1);
	assert_int_equal(idw_vault_open(f->path, &v), IDW_ECORRUPT);
	write_file(f->path, img, 3);
	assert_int_equal(idw_vault_open(f->path, &v), IDW_ECORRUPT);
	assert_int_equal(
		idw_vault_parse_image(img, 0, PASS, PASSLEN, NULL, NULL, &rep),
		IDW_ENOVAULT);
	free(img);
	free(g);
}

static void test_peek_id(void **state)
{
	struct fx *f = *state;
	struct idw_vault *v;
	uint8_t id[IDW_VAULT_ID_LEN];
	char link[160];

	assert_int_equal(idw_vault_peek_id(f->path, id), IDW_ENOENT);
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_peek_id(f->path, id), IDW_ENOENT);
	assert_int_equal(idw_vault_init(v, PASS, PASSLEN, IDW_KDF_MIN), 0);
	assert_int_equal(idw_vault_peek_id(f->path, id), 0);
	assert_memory_equal(id, idw_vault_id(v), sizeof(id));
	idw_vault_close(v);

	/* links are refused */
	snprintf(link, sizeof(link), "%s/link.idw", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	assert_int_equal(idw_vault_open(link, &v), IDW_EPERM);
	assert_int_equal(idw_vault_peek_id(link, id), IDW_EPERM);
}

static void test_lock_and_unlock_again(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));

	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_init(v, PASS, PASSLEN, IDW_KDF_MIN), 0);
	assert_int_equal(append_series(v, 0, 4), 0);
	idw_vault_lock(v);
	assert_false(idw_vault_unlocked(v));
	assert_int_equal(idw_vault_journal_size(v) > 0, 1);
	assert_int_equal(append_series(v, 4, 1), IDW_ELOCKED);
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, collect, g, &rep),
			 0);
	assert_true(got_is_series(g, 0, 4));
	assert_int_equal(append_series(v, 4, 1), 0);
	idw_vault_close(v);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 5));
	got_reset(g);
	free(g);
}

static int refuse_third(void *ctx, const struct idw_vault_rec *rec)
{
	struct got *g = ctx;

	if (g->n == 2)
		return IDW_EINVAL;
	return collect(ctx, rec);
}

static void test_callback_error_stops(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));

	make_vault(f->path, PASS, PASSLEN, 5, NULL);
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(
		idw_vault_unlock(v, PASS, PASSLEN, refuse_third, g, &rep),
		IDW_EINVAL);
	assert_false(idw_vault_unlocked(v));
	assert_non_null(strstr(rep.detail, "record 3"));
	idw_vault_close(v);
	got_reset(g);
	free(g);
}

/* A failed write leaves nothing half-written behind. */
static void test_append_write_failure(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	struct idw_vault_rec r = {.op = IDW_VAULT_PUT,
				  .kind = "passport",
				  .id = "pp_x",
				  .json = "{}",
				  .json_len = 2};
	uint8_t val[300] = {1};
	struct rlimit old, lim;
	uint64_t before;

	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_init(v, PASS, PASSLEN, IDW_KDF_MIN), 0);
	assert_int_equal(append_series(v, 0, 2), 0);
	before = file_size(f->path);
	r.value = val;
	r.value_len = sizeof(val);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = before + 100; /* the record is cut mid-write */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(idw_vault_append(v, &r), IDW_EIO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(file_size(f->path), before);
	assert_int_equal(append_series(v, 2, 1), 0);
	idw_vault_close(v);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_false(rep.truncated_tail);
	assert_true(got_is_series(g, 0, 3));
	got_reset(g);
	free(g);
}

/*
 * Slot-area tampering by someone who recomputes the unkeyed checksum:
 * KDF parameters out of range are refused before any KDF runs, a changed
 * slot row fails the AEAD of the wrap, other changes fail the MAC.
 */
static void reseal_areas(uint8_t *img)
{
	for (int i = 0; i < 2; i++)
		vault_area_checksum(img, img + AREA(i),
				    img + AREA(i) + VAULT_AREA_SUM);
}

/* Passphrase row: type, id_len, "passphrase", meta_len, then meta. */
#define PP_META (VAULT_AREA_TABLE + 1 + 1 + 10 + 2)

static void test_slot_tampering(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct got *g = calloc(1, sizeof(*g));
	size_t len;
	uint8_t *orig, *img;
	const struct {
		size_t off; /* within each area */
		int width;  /* 1 or 8 */
		uint64_t val;
		int want;
		const char *detail;
	} cases[] = {
		{PP_META, 1, 1, IDW_ECORRUPT, "KDF"},
		{PP_META + 1, 8, crypto_pwhash_OPSLIMIT_SENSITIVE + 1,
		 IDW_ECORRUPT, "KDF"},
		{PP_META + 1, 8, 0, IDW_ECORRUPT, "KDF"},
		{PP_META + 9, 8, crypto_pwhash_MEMLIMIT_SENSITIVE + 1,
		 IDW_ECORRUPT, "KDF"},
		{PP_META + 9, 8, 1024, IDW_ECORRUPT, "KDF"},
		{VAULT_AREA_TABLE + 2, 1, 'P', IDW_EUNLOCK, "wrong"},
		{PP_META + 20, 1, 0x55, IDW_EUNLOCK, "wrong"},
		{VAULT_AREA_TLEN, 8, VAULT_TABLE_MAX + 1, IDW_ECORRUPT,
		 "table"},
		{VAULT_AREA_TLEN, 8, 0, IDW_ECORRUPT, "no passphrase"},
		{VAULT_AREA_TLEN, 8, 5, IDW_ECORRUPT, "malformed"},
		{VAULT_AREA_TABLE, 1, 0, IDW_ECORRUPT, "malformed"},
		{VAULT_AREA_GEN, 8, 77, IDW_ECORRUPT, "MAC"},
		{VAULT_AREA_TABLE + 500, 1, 1, IDW_ECORRUPT, "MAC"},
		{VAULT_AREA_COMMIT, 1, 1, IDW_ECORRUPT, "commitment"},
		{VAULT_AREA_MAC + 31, 1, 1, IDW_ECORRUPT, "MAC"},
	};

	make_vault(f->path, PASS, PASSLEN, 2, NULL);
	orig = read_file(f->path, &len);
	img = malloc(len);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		memcpy(img, orig, len);
		for (int i = 0; i < 2; i++) {
			uint8_t *p = img + AREA(i) + cases[c].off;

			if (cases[c].width == 1)
				*p = (uint8_t)cases[c].val;
			else if (cases[c].off == VAULT_AREA_TLEN)
				idw_le32_put(p, (uint32_t)cases[c].val);
			else
				idw_le64_put(p, cases[c].val);
		}
		reseal_areas(img);
		write_file(f->path, img, len);
		assert_int_equal(reopen(f->path, g, &rep), cases[c].want);
		if (strstr(rep.detail, cases[c].detail) == NULL)
			fail_msg("case %zu: %s", c, rep.detail);
		assert_int_equal(g->n, 0);
	}
	free(img);
	free(orig);
	free(g);
}

/*
 * The format document is exact: unwrap VK and rebuild a MAC by hand from
 * docs/vault-format.md, add a row of an unknown type (a later kind of
 * slot) and check that this version skips it.  Then check the first
 * journal record by hand too.
 */
static void test_doc_layout_and_unknown_rows(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct got *g = calloc(1, sizeof(*g));
	uint8_t kek[32], vk[32], key[32], aad[16 + 64], mac[32], lc[16];
	uint8_t rad[32 + 8 + 4 + 16], core_hash[32], *img, *a, *row, *pt;
	const uint8_t extra[] = {0x7f, 5,   'f', 'u', 't', 'u', 'r', 2,
				 0,    'm', 'm', 3,   0,   'w', 'w', 'w'};
	crypto_generichash_state st;
	uint32_t tlen, rlen;
	size_t len;

	make_vault(f->path, PASS, PASSLEN, 2, NULL);
	img = read_file(f->path, &len);
	a = img + AREA(0);
	row = a + VAULT_AREA_TABLE;
	assert_int_equal(idw_le64_get(a), 1);
	assert_int_equal(idw_le32_get(a + VAULT_AREA_TLEN), 121);
	assert_int_equal(row[0], 1);
	assert_memory_equal(row + 2, "passphrase", 10);
	assert_int_equal(idw_le16_get(row + 12), 33);
	assert_int_equal(row[14], crypto_pwhash_ALG_ARGON2ID13);
	assert_int_equal(idw_le16_get(row + 47), 72);
	assert_int_equal(crypto_pwhash(kek, 32, (const char *)PASS, PASSLEN,
				       row + 31, idw_le64_get(row + 15),
				       idw_le64_get(row + 23),
				       crypto_pwhash_ALG_ARGON2ID13),
			 0);
	memcpy(aad, img + 8, 16);
	memcpy(aad + 16, row, 47);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
				 vk, NULL, NULL, row + 49 + 24, 48, aad,
				 16 + 47, row + 49, kek),
			 0);

	/* commitment */
	crypto_generichash_init(&st, vk, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)"idw-vk-commit-v1", 16);
	crypto_generichash_update(&st, img + 8, 16);
	crypto_generichash_final(&st, mac, 32);
	assert_memory_equal(mac, a + VAULT_AREA_COMMIT, 32);

	/* an unknown row after the passphrase row, re-MAC'd by hand */
	crypto_kdf_derive_from_key(key, 32, 1, "idw-slot", vk);
	for (int i = 0; i < 2; i++) {
		a = img + AREA(i);
		tlen = idw_le32_get(a + VAULT_AREA_TLEN);
		memcpy(a + VAULT_AREA_TABLE + tlen, extra, sizeof(extra));
		idw_le32_put(a + VAULT_AREA_TLEN,
			     tlen + (uint32_t)sizeof(extra));
		crypto_generichash_init(&st, key, 32, 32);
		crypto_generichash_update(&st, img, 64);
		crypto_generichash_update(&st, a, VAULT_AREA_MAC);
		crypto_generichash_final(&st, a + VAULT_AREA_MAC, 32);
	}
	reseal_areas(img);
	write_file(f->path, img, len);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 2));

	/* journal record 1: length check and AEAD as documented */
	crypto_generichash(core_hash, 32, img, 64, NULL, 0);
	rlen = idw_le32_get(img + VAULT_JOURNAL_OFF);
	crypto_kdf_derive_from_key(key, 32, 1, "idw-lenc", vk);
	memset(rad, 0, sizeof(rad)); /* seq 0 */
	idw_le32_put(rad + 8, rlen);
	crypto_generichash(lc, 16, rad, 12, key, 32);
	assert_memory_equal(lc, img + VAULT_JOURNAL_OFF + 4, 8);
	crypto_kdf_derive_from_key(key, 32, 1, "idw-jrnl", vk);
	memcpy(rad, core_hash, 32);
	idw_le64_put(rad + 32, 0);
	idw_le32_put(rad + 40, rlen);
	memset(rad + 44, 0, 16);
	pt = malloc(rlen);
	assert_int_equal(
		crypto_aead_xchacha20poly1305_ietf_decrypt(
			pt, NULL, NULL, img + VAULT_JOURNAL_OFF + REC_HDR, rlen,
			rad, sizeof(rad), img + VAULT_JOURNAL_OFF + 12, key),
		0);
	assert_int_equal(pt[0], IDW_VAULT_PUT);
	assert_int_equal(pt[1], strlen("passport"));
	assert_memory_equal(pt + 2, "passport", 8);
	free(pt);
	sodium_memzero(vk, sizeof(vk));
	sodium_memzero(key, sizeof(key));
	free(img);
	got_reset(g);
	free(g);
}

/*
 * Key slots (docs/vault-format.md, "Rows").  A token's id is the first 12
 * hex digits of BLAKE2b-256 of its secret, as the agent makes them.
 */
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

static struct idw_slot_info tok_meta(const struct tok *t, uint8_t type,
				     const char *label, int64_t created)
{
	struct idw_slot_info m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	snprintf(m.id, sizeof(m.id), "%s", t->id);
	snprintf(m.label, sizeof(m.label), "%s", label);
	snprintf(m.principal, sizeof(m.principal), "token:%s", t->id);
	m.created = created;
	m.expires = created + 3600;
	return m;
}

static struct idw_vault *open_unlocked(const char *path)
{
	struct idw_vault_report rep;
	struct idw_vault *v;

	assert_int_equal(idw_vault_open(path, &v), 0);
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, NULL, NULL, &rep),
			 0);
	return v;
}

/* Open, unlock with a key slot into g, close. */
static int reopen_key(const char *path, uint8_t type, const char *id,
		      const uint8_t *key, struct got *g,
		      struct idw_vault_report *rep)
{
	struct idw_vault *v;
	int rc;

	got_reset(g);
	memset(rep, 0, sizeof(*rep));
	if ((rc = idw_vault_open(path, &v)) != 0)
		return rc;
	rc = idw_vault_unlock_key(v, type, id, key, collect, g, rep);
	assert_int_equal(idw_vault_unlocked(v), rc == 0);
	idw_vault_close(v);
	return rc;
}

static const struct idw_slot_info *
slot_find(const struct idw_slot_info *s, size_t n, uint8_t type, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].type == type && strcmp(s[i].id, id) == 0)
			return &s[i];
	return NULL;
}

/* Number of rows of type (and id, unless NULL) in the table of area i. */
static size_t rows_in_area(const uint8_t *img, int i, uint8_t type,
			   const char *id)
{
	const uint8_t *a = img + AREA(i), *p = a + VAULT_AREA_TABLE;
	const uint8_t *end = p + idw_le32_get(a + VAULT_AREA_TLEN);
	size_t n = 0;

	while (p < end) {
		size_t ml = idw_le16_get(p + 2 + p[1]);
		size_t wl = idw_le16_get(p + 2 + p[1] + 2 + ml);

		if (p[0] == type &&
		    (id == NULL ||
		     (p[1] == strlen(id) && memcmp(p + 2, id, p[1]) == 0)))
			n++;
		p += 2 + p[1] + 2 + ml + 2 + wl;
	}
	return n;
}

static void test_token_slot_unlock(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_slot_info s[IDW_SLOT_MAX], m;
	const struct idw_slot_info *hit;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	struct tok t, other;
	size_t n;

	tok_make(&t);
	tok_make(&other);
	make_vault(f->path, PASS, PASSLEN, 3, NULL);
	m = tok_meta(&t, IDW_SLOT_TOKEN, "ci runner", 1700000000);

	/* locked: no change to the table */
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), IDW_ELOCKED);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(s[0].type, IDW_SLOT_PASSPHRASE);
	assert_string_equal(s[0].id, "passphrase");
	idw_vault_close(v);

	v = open_unlocked(f->path);
	/* malformed requests */
	m.type = IDW_SLOT_VERIFIER;
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), IDW_EINVAL);
	m.type = IDW_SLOT_TOKEN;
	m.pending = true;
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), IDW_EINVAL);
	m.pending = false;
	m.label[3] = '\n';
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), IDW_EINVAL);
	m.label[3] = ' ';
	m.id[0] = ' ';
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), IDW_EINVAL);
	m = tok_meta(&t, IDW_SLOT_TOKEN, "ci runner", 1700000000);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), 0);
	assert_int_equal(append_series(v, 3, 1), 0);
	idw_vault_close(v);

	/* the table names the token while locked */
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(idw_vault_slots(v, s, 1, &n), IDW_ETOOBIG);
	assert_int_equal(n, 2);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	hit = slot_find(s, n, IDW_SLOT_TOKEN, t.id);
	assert_non_null(hit);
	assert_string_equal(hit->label, "ci runner");
	assert_memory_equal(hit->principal, "token:", 6);
	assert_string_equal(hit->principal + 6, t.id);
	assert_int_equal(hit->created, 1700000000);
	assert_int_equal(hit->expires, 1700003600);
	assert_int_equal(hit->revoked_at, 0);
	assert_false(hit->pending);
	/* a token that unlocks also identifies its principal */
	assert_int_equal(idw_vault_verifier_check(v, t.id, t.secret), 0);
	assert_int_equal(idw_vault_verifier_check(v, t.id, other.secret),
			 IDW_EUNLOCK);
	assert_int_equal(idw_vault_verifier_check(v, other.id, other.secret),
			 IDW_ENOENT);
	idw_vault_close(v);

	/* the right key replays the same records */
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_TOKEN, t.id, t.secret, g, &rep),
		0);
	assert_true(got_is_series(g, 0, 4));
	assert_int_equal(rep.records, 4);
	assert_int_equal(reopen_key(f->path, IDW_SLOT_TOKEN, t.id, other.secret,
				    g, &rep),
			 IDW_EUNLOCK);
	assert_int_equal(g->n, 0);
	assert_non_null(strstr(rep.detail, t.id));
	assert_int_equal(reopen_key(f->path, IDW_SLOT_TOKEN, other.id,
				    other.secret, g, &rep),
			 IDW_ENOENT);
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_KEYCHAIN, t.id, t.secret, g, &rep),
		IDW_ENOENT);
	assert_int_equal(reopen_key(f->path, IDW_SLOT_PASSPHRASE, "passphrase",
				    t.secret, g, &rep),
			 IDW_EINVAL);
	/* the image parser agrees */
	{
		size_t len;
		uint8_t *img = read_file(f->path, &len);

		got_reset(g);
		assert_int_equal(idw_vault_parse_image_key(
					 img, len, IDW_SLOT_TOKEN, t.id,
					 t.secret, collect, g, &rep),
				 0);
		assert_true(got_is_series(g, 0, 4));
		assert_int_equal(idw_vault_parse_image_key(
					 img, len, IDW_SLOT_TOKEN, t.id,
					 other.secret, NULL, NULL, &rep),
				 IDW_EUNLOCK);
		free(img);
	}

	/* unlocked by the token, the vault appends and changes slots */
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_unlock_key(v, IDW_SLOT_TOKEN, t.id, t.secret,
					      NULL, NULL, &rep),
			 0);
	assert_int_equal(idw_vault_unlock_key(v, IDW_SLOT_TOKEN, t.id, t.secret,
					      NULL, NULL, &rep),
			 IDW_EINVAL);
	assert_int_equal(append_series(v, 4, 1), 0);
	m = tok_meta(&other, IDW_SLOT_TOKEN, "second", 1700000100);
	assert_int_equal(idw_vault_slot_add_key(v, &m, other.secret), 0);
	/* same (type, id): replaced, not added */
	snprintf(m.label, sizeof(m.label), "second, renamed");
	assert_int_equal(idw_vault_slot_add_key(v, &m, other.secret), 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(slot_find(s, n, IDW_SLOT_TOKEN, other.id)->label,
			    "second, renamed");
	idw_vault_close(v);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 5));
	assert_int_equal(reopen_key(f->path, IDW_SLOT_TOKEN, other.id,
				    other.secret, g, &rep),
			 0);
	assert_true(got_is_series(g, 0, 5));
	got_reset(g);
	free(g);
}

/*
 * Revocation leaves a tombstone that names the token, and no copy of its
 * wrap in either area.  A copy of the file taken before the removal still
 * opens with the token: that is what a rekey is for.
 */
static void test_token_remove_tombstone(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_slot_info s[IDW_SLOT_MAX], m;
	const struct idw_slot_info *hit;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	uint8_t *before, *after;
	size_t blen, alen, n;
	struct tok t;

	tok_make(&t);
	make_vault(f->path, PASS, PASSLEN, 2, NULL);
	v = open_unlocked(f->path);
	m = tok_meta(&t, IDW_SLOT_TOKEN, "laptop", 1700000000);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), 0);
	before = read_file(f->path, &blen);
	assert_int_equal(rows_in_area(before, 0, IDW_SLOT_TOKEN, t.id), 1);
	assert_int_equal(rows_in_area(before, 1, IDW_SLOT_TOKEN, t.id), 1);

	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_PASSPHRASE,
					       "passphrase", 1, true),
			 IDW_EINVAL);
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_TOKEN,
					       "nosuchtoken0", 1, true),
			 IDW_ENOENT);
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_TOKEN, t.id,
					       1700001234, true),
			 0);
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_TOKEN, t.id,
					       1700001235, true),
			 IDW_ENOENT);
	/* a revoked secret does not come back */
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), IDW_EEXIST);
	m.type = IDW_SLOT_VERIFIER;
	assert_int_equal(idw_vault_slot_add_verifier(v, &m, t.secret),
			 IDW_EEXIST);
	idw_vault_close(v);

	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 2);
	assert_null(slot_find(s, n, IDW_SLOT_TOKEN, t.id));
	hit = slot_find(s, n, IDW_SLOT_TOMBSTONE, t.id);
	assert_non_null(hit);
	assert_string_equal(hit->label, "laptop");
	assert_int_equal(hit->revoked_at, 1700001234);
	assert_int_equal(hit->revoked_type, IDW_SLOT_TOKEN);
	assert_string_equal(hit->principal + 6, t.id);
	assert_int_equal(idw_vault_verifier_check(v, t.id, t.secret),
			 IDW_ENOENT);
	idw_vault_close(v);
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_TOKEN, t.id, t.secret, g, &rep),
		IDW_ENOENT);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 2));

	/* neither area keeps the token's row */
	after = read_file(f->path, &alen);
	assert_int_equal(rows_in_area(after, 0, IDW_SLOT_TOKEN, NULL), 0);
	assert_int_equal(rows_in_area(after, 1, IDW_SLOT_TOKEN, NULL), 0);
	assert_int_equal(rows_in_area(after, 0, IDW_SLOT_TOMBSTONE, t.id), 1);
	assert_int_equal(rows_in_area(after, 1, IDW_SLOT_TOMBSTONE, t.id), 1);

	/* the threat model's sentence: an older copy still opens */
	write_file(f->path, before, blen);
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_TOKEN, t.id, t.secret, g, &rep),
		0);
	assert_true(got_is_series(g, 0, 2));

	/* tombstones themselves can be cleared */
	write_file(f->path, after, alen);
	v = open_unlocked(f->path);
	assert_int_equal(
		idw_vault_slot_remove(v, IDW_SLOT_TOMBSTONE, t.id, 0, true),
		IDW_EINVAL);
	assert_int_equal(
		idw_vault_slot_remove(v, IDW_SLOT_TOMBSTONE, t.id, 0, false),
		0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 1);
	idw_vault_close(v);
	free(before);
	free(after);
	got_reset(g);
	free(g);
}

static void test_keychain_pending(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_slot_info s[IDW_SLOT_MAX], m;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	uint8_t key[32], key2[32];
	size_t n;
	uint8_t *img;
	size_t len;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(key2, sizeof(key2));
	make_vault(f->path, PASS, PASSLEN, 2, NULL);
	memset(&m, 0, sizeof(m));
	m.type = IDW_SLOT_KEYCHAIN;
	snprintf(m.id, sizeof(m.id), "machine");
	snprintf(m.label, sizeof(m.label), "OS keychain");
	m.created = 1700000000;
	m.pending = true;

	v = open_unlocked(f->path);
	assert_int_equal(idw_vault_slot_add_key(v, &m, key), IDW_EINVAL);
	snprintf(m.id, sizeof(m.id), "keychain");
	assert_int_equal(
		idw_vault_slot_confirm(v, IDW_SLOT_KEYCHAIN, "keychain"),
		IDW_ENOENT);
	assert_int_equal(idw_vault_slot_add_key(v, &m, key), 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_true(slot_find(s, n, IDW_SLOT_KEYCHAIN, "keychain")->pending);

	/* a crash now: the file opens as before, not with the key */
	img = read_file(f->path, &len);
	assert_int_equal(rows_in_area(img, 0, IDW_SLOT_KEYCHAIN, "keychain"),
			 1);
	free(img);
	assert_int_equal(reopen_key(f->path, IDW_SLOT_KEYCHAIN, "keychain", key,
				    g, &rep),
			 IDW_ENOENT);
	assert_non_null(strstr(rep.detail, "no keychain slot"));
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 2));

	/* confirmed by the same agent, it unlocks */
	assert_int_equal(
		idw_vault_slot_confirm(v, IDW_SLOT_KEYCHAIN, "keychain"), 0);
	assert_int_equal(
		idw_vault_slot_confirm(v, IDW_SLOT_KEYCHAIN, "keychain"), 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_false(slot_find(s, n, IDW_SLOT_KEYCHAIN, "keychain")->pending);
	assert_string_equal(
		slot_find(s, n, IDW_SLOT_KEYCHAIN, "keychain")->label,
		"OS keychain");
	idw_vault_close(v);
	assert_int_equal(reopen_key(f->path, IDW_SLOT_KEYCHAIN, "keychain", key,
				    g, &rep),
			 0);
	assert_true(got_is_series(g, 0, 2));

	/* a second login: pending again until confirmed; a lock in between
	 * forgets the key, and so does a restart */
	v = open_unlocked(f->path);
	assert_int_equal(idw_vault_slot_add_key(v, &m, key2), 0);
	idw_vault_lock(v);
	assert_int_equal(idw_vault_unlock(v, PASS, PASSLEN, NULL, NULL, &rep),
			 0);
	assert_int_equal(
		idw_vault_slot_confirm(v, IDW_SLOT_KEYCHAIN, "keychain"),
		IDW_ENOENT);
	idw_vault_close(v);
	v = open_unlocked(f->path);
	assert_int_equal(
		idw_vault_slot_confirm(v, IDW_SLOT_KEYCHAIN, "keychain"),
		IDW_ENOENT);
	assert_int_equal(reopen_key(f->path, IDW_SLOT_KEYCHAIN, "keychain",
				    key2, g, &rep),
			 IDW_ENOENT);
	/* removing a pending slot leaves no tombstone */
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_KEYCHAIN, "keychain",
					       1700000500, true),
			 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 1);

	/* login, confirm, logout: no tombstone either */
	assert_int_equal(idw_vault_slot_add_key(v, &m, key2), 0);
	assert_int_equal(
		idw_vault_slot_confirm(v, IDW_SLOT_KEYCHAIN, "keychain"), 0);
	assert_int_equal(reopen_key(f->path, IDW_SLOT_KEYCHAIN, "keychain",
				    key2, g, &rep),
			 0);
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_KEYCHAIN, "keychain",
					       1700000600, false),
			 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 1);
	idw_vault_close(v);
	assert_int_equal(reopen_key(f->path, IDW_SLOT_KEYCHAIN, "keychain",
				    key2, g, &rep),
			 IDW_ENOENT);
	sodium_memzero(key, sizeof(key));
	sodium_memzero(key2, sizeof(key2));
	got_reset(g);
	free(g);
}

static void test_verifier(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_slot_info s[IDW_SLOT_MAX], m;
	const struct idw_slot_info *hit;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	struct tok t, other;
	size_t n;

	tok_make(&t);
	tok_make(&other);
	make_vault(f->path, PASS, PASSLEN, 1, NULL);
	v = open_unlocked(f->path);
	m = tok_meta(&t, IDW_SLOT_VERIFIER, "mcp (auth only)", 1700000000);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), IDW_EINVAL);
	assert_int_equal(idw_vault_slot_add_verifier(v, &m, t.secret), 0);
	assert_int_equal(idw_vault_verifier_check(v, t.id, t.secret), 0);
	/* a token slot cannot take a verifier's id */
	m.type = IDW_SLOT_TOKEN;
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), IDW_EEXIST);
	idw_vault_close(v);

	/* while locked, before any unlock */
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_verifier_check(v, t.id, t.secret), 0);
	assert_int_equal(idw_vault_verifier_check(v, t.id, other.secret),
			 IDW_EUNLOCK);
	assert_int_equal(idw_vault_verifier_check(v, other.id, t.secret),
			 IDW_ENOENT);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	hit = slot_find(s, n, IDW_SLOT_VERIFIER, t.id);
	assert_non_null(hit);
	assert_string_equal(hit->label, "mcp (auth only)");
	idw_vault_close(v);
	/* it cannot unlock */
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_TOKEN, t.id, t.secret, g, &rep),
		IDW_ENOENT);

	v = open_unlocked(f->path);
	assert_int_equal(idw_vault_verifier_check(v, t.id, t.secret), 0);
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_VERIFIER, t.id,
					       1700000900, true),
			 0);
	assert_int_equal(idw_vault_verifier_check(v, t.id, t.secret),
			 IDW_ENOENT);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	hit = slot_find(s, n, IDW_SLOT_TOMBSTONE, t.id);
	assert_non_null(hit);
	assert_int_equal(hit->revoked_type, IDW_SLOT_VERIFIER);
	assert_int_equal(hit->revoked_at, 1700000900);
	idw_vault_close(v);
	got_reset(g);
	free(g);
}

/*
 * Key-slot rows changed by someone who recomputes the checksums: a
 * changed field fails the unwrap (AAD) and the MAC, a malformed row or
 * metadata is refused before any key is tried, an unknown tag is skipped.
 */
static void test_key_slot_tampering(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_slot_info m;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	struct tok t;
	uint8_t *orig, *img;
	size_t len;
	/* token row at table offset 121: type, id_len, id[12], meta_len,
	 * then label "doc" (tag 1), principal (tag 2), created (tag 3) at
	 * meta + 25, expires (tag 4) at meta + 35 */
	const size_t row = VAULT_AREA_TABLE + 121, meta = row + 16;
	const struct {
		size_t off;
		uint8_t val;
		int want_key, want_pass;
		const char *detail;
	} cases[] = {
		{meta + 37, 0x55, IDW_EUNLOCK, IDW_ECORRUPT, "does not open"},
		{meta + 2, 'D', IDW_EUNLOCK, IDW_ECORRUPT, "does not open"},
		{meta + 35, 0x42, IDW_EUNLOCK, IDW_ECORRUPT, "does not open"},
		{meta + 35, 3, IDW_ECORRUPT, IDW_ECORRUPT, "bad key slot"},
		{meta + 35, 7, IDW_ECORRUPT, IDW_ECORRUPT, "bad key slot"},
		{meta + 2, 0x1b, IDW_ECORRUPT, IDW_ECORRUPT, "bad key slot"},
		{meta + 1, 9, IDW_ECORRUPT, IDW_ECORRUPT, "bad key slot"},
		{row + 2, ' ', IDW_ECORRUPT, IDW_ECORRUPT, "bad key slot"},
		{row + 2, 'z', IDW_ENOENT, IDW_ECORRUPT, "no token slot"},
		{row, IDW_SLOT_TOMBSTONE, IDW_ECORRUPT, IDW_ECORRUPT,
		 "bad tombstone"},
		{row, IDW_SLOT_KEYCHAIN, IDW_ENOENT, IDW_ECORRUPT, "no token"},
		{row, 0x7e, IDW_ENOENT, IDW_ECORRUPT, "no token slot"},
	};

	tok_make(&t);
	make_vault(f->path, PASS, PASSLEN, 2, NULL);
	v = open_unlocked(f->path);
	m = tok_meta(&t, IDW_SLOT_TOKEN, "doc", 1700000000);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), 0);
	idw_vault_close(v);
	orig = read_file(f->path, &len);
	img = malloc(len);
	assert_int_equal(orig[AREA(0) + row], IDW_SLOT_TOKEN);
	assert_int_equal(orig[AREA(0) + meta + 35], 4);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		memcpy(img, orig, len);
		for (int i = 0; i < 2; i++)
			img[AREA(i) + cases[c].off] = cases[c].val;
		reseal_areas(img);
		write_file(f->path, img, len);
		assert_int_equal(reopen_key(f->path, IDW_SLOT_TOKEN, t.id,
					    t.secret, g, &rep),
				 cases[c].want_key);
		if (strstr(rep.detail, cases[c].detail) == NULL)
			fail_msg("case %zu: %s", c, rep.detail);
		assert_int_equal(g->n, 0);
		assert_int_equal(reopen(f->path, g, &rep), cases[c].want_pass);
		assert_int_equal(g->n, 0);
	}
	free(img);
	free(orig);
	free(g);
}

/* Both areas of the file, as the tests compare tables. */
static int areas_equal(const uint8_t *a, const uint8_t *b, int ia, int ib)
{
	return memcmp(a + AREA(ia), b + AREA(ib), VAULT_AREA_SIZE) == 0;
}

/*
 * A crash in the middle of a table write.  The first write (the area not
 * in use) cut short leaves the previous table; the second cut short
 * leaves the new one.  RLIMIT_FSIZE makes pwrite stop part-way into an
 * area that lies past the limit.
 */
static void test_slot_write_crash(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_slot_info s[IDW_SLOT_MAX], m1, m2;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	struct rlimit old, lim;
	uint8_t *pre, *post, *img;
	size_t len, n;
	struct tok t1, t2;

	tok_make(&t1);
	tok_make(&t2);
	m1 = tok_meta(&t1, IDW_SLOT_TOKEN, "one", 1700000000);
	m2 = tok_meta(&t2, IDW_SLOT_TOKEN, "two", 1700000001);
	make_vault(f->path, PASS, PASSLEN, 3, NULL);
	v = open_unlocked(f->path);
	pre = read_file(f->path, &len);

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = AREA(1) + 2000;

	/* A in use (init): B is written first, and torn */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(idw_vault_slot_add_key(v, &m1, t1.secret), IDW_EIO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 1);
	img = read_file(f->path, &len);
	assert_true(areas_equal(img, pre, 0, 0));
	assert_false(areas_equal(img, pre, 1, 1));
	free(img);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 3));
	assert_non_null(strstr(rep.detail, "slot area B fails"));
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_TOKEN, t1.id, t1.secret, g, &rep),
		IDW_ENOENT);

	/* the same agent tries again and succeeds */
	assert_int_equal(idw_vault_slot_add_key(v, &m1, t1.secret), 0);
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_TOKEN, t1.id, t1.secret, g, &rep),
		0);
	assert_true(got_is_series(g, 0, 3));
	assert_int_equal(rep.detail[0], '\0');
	free(pre);
	pre = read_file(f->path, &len);

	/* B in use now: A is written first and completes, B is torn */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(idw_vault_slot_add_key(v, &m2, t2.secret), IDW_EIO);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	/* in effect: the newer area is durable */
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_TOKEN, t2.id, t2.secret, g, &rep),
		0);
	assert_true(got_is_series(g, 0, 3));
	assert_non_null(strstr(rep.detail, "slot area B fails"));
	assert_int_equal(append_series(v, 3, 1), 0);
	/* the next change repairs the torn area */
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_TOKEN, t2.id,
					       1700000002, true),
			 0);
	idw_vault_close(v);
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_TOKEN, t1.id, t1.secret, g, &rep),
		0);
	assert_int_equal(rep.detail[0], '\0');
	assert_true(got_is_series(g, 0, 4));

	/* garbage where the first write went, the old table in the other:
	 * the previous generation wins, nothing is lost */
	free(pre);
	pre = read_file(f->path, &len);
	v = open_unlocked(f->path);
	assert_int_equal(idw_vault_slot_add_key(v, &m2, t1.secret), IDW_EEXIST);
	m2 = tok_meta(&t2, IDW_SLOT_TOKEN, "two", 1700000001);
	tok_make(&t2);
	m2 = tok_meta(&t2, IDW_SLOT_TOKEN, "three", 1700000003);
	assert_int_equal(idw_vault_slot_add_key(v, &m2, t2.secret), 0);
	idw_vault_close(v);
	post = read_file(f->path, &len);
	for (int first = 0; first < 2; first++) {
		memcpy(post + AREA(!first), pre + AREA(!first),
		       VAULT_AREA_SIZE);
		randombytes_buf(post + AREA(first) + 100, 1500);
		write_file(f->path, post, len);
		assert_int_equal(reopen(f->path, g, &rep), 0);
		assert_true(got_is_series(g, 0, 4));
		assert_int_equal(reopen_key(f->path, IDW_SLOT_TOKEN, t2.id,
					    t2.secret, g, &rep),
				 IDW_ENOENT);
		assert_int_equal(reopen_key(f->path, IDW_SLOT_TOKEN, t1.id,
					    t1.secret, g, &rep),
				 0);
		memcpy(post, pre, len);
	}
	free(pre);
	free(post);
	got_reset(g);
	free(g);
}

static size_t count_type(const struct idw_slot_info *s, size_t n, uint8_t type)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += s[i].type == type;
	return c;
}

/* Lowest revoked_at among tombstones, or -1. */
static int64_t oldest_tombstone(const struct idw_slot_info *s, size_t n)
{
	int64_t o = -1;

	for (size_t i = 0; i < n; i++)
		if (s[i].type == IDW_SLOT_TOMBSTONE &&
		    (o < 0 || s[i].revoked_at < o))
			o = s[i].revoked_at;
	return o;
}

static void test_slot_table_full(void **state)
{
	struct fx *f = *state;
	struct idw_slot_info s[IDW_SLOT_MAX], m;
	struct idw_vault *v;
	struct tok t[64];
	const int64_t when[] = {400, 100, 300, 200};
	char label[65];
	size_t n, full, len, len2, ntomb;
	uint8_t *img, *img2;
	int64_t last = -1, o;
	int rc = 0;

	make_vault(f->path, PASS, PASSLEN, 1, NULL);
	v = open_unlocked(f->path);
	for (full = 0; full < 64; full++) {
		tok_make(&t[full]);
		snprintf(label, sizeof(label), "%060zu", full);
		m = tok_meta(&t[full], IDW_SLOT_TOKEN, label, 1700000000);
		if ((rc = idw_vault_slot_add_key(v, &m, t[full].secret)) != 0)
			break;
	}
	assert_int_equal(rc, IDW_ETOOBIG);
	assert_true(full > 10);
	/* refused: the file did not change */
	img = read_file(f->path, &len);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t[full].secret),
			 IDW_ETOOBIG);
	img2 = read_file(f->path, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(img, img2, len);
	free(img);
	free(img2);

	/* tombstones, revoked out of table order */
	for (int i = 0; i < 4; i++)
		assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_TOKEN,
						       t[i].id, when[i], true),
				 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(count_type(s, n, IDW_SLOT_TOMBSTONE), 4);

	/* new tokens push the oldest tombstones out, one by one */
	ntomb = 4;
	for (;;) {
		tok_make(&t[63]);
		snprintf(label, sizeof(label), "%060d", 63);
		m = tok_meta(&t[63], IDW_SLOT_TOKEN, label, 1700000000);
		if ((rc = idw_vault_slot_add_key(v, &m, t[63].secret)) != 0)
			break;
		assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
		o = oldest_tombstone(s, n);
		if (count_type(s, n, IDW_SLOT_TOMBSTONE) < ntomb) {
			/* the dropped ones were the oldest */
			assert_true(o == -1 || o > last);
			ntomb = count_type(s, n, IDW_SLOT_TOMBSTONE);
		}
		for (int i = 0; i < 4; i++)
			if (slot_find(s, n, IDW_SLOT_TOMBSTONE, t[i].id) !=
			    NULL)
				assert_true(when[i] >= o);
		last = o == -1 ? last : o - 1;
	}
	assert_int_equal(rc, IDW_ETOOBIG);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(count_type(s, n, IDW_SLOT_TOMBSTONE), 0);
	assert_int_equal(count_type(s, n, IDW_SLOT_TOKEN), full);

	/* the row limit: short rows, many tombstones */
	for (size_t i = 0; i < n; i++)
		if (s[i].type == IDW_SLOT_TOKEN)
			assert_int_equal(
				idw_vault_slot_remove(v, IDW_SLOT_TOKEN,
						      s[i].id, 0, false),
				0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 1);
	for (unsigned i = 0; i < 100; i++) {
		tok_make(&t[0]);
		m = tok_meta(&t[0], IDW_SLOT_TOKEN, "x", 1700000000);
		assert_int_equal(idw_vault_slot_add_key(v, &m, t[0].secret), 0);
		assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_TOKEN,
						       t[0].id, 1000 + i, true),
				 0);
		assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
		assert_true(n <= IDW_SLOT_MAX);
	}
	assert_int_equal(n, IDW_SLOT_MAX);
	/* the newest IDW_SLOT_MAX - 1 tombstones, beside the passphrase */
	assert_int_equal(oldest_tombstone(s, n), 1000 + 100 - (n - 1));
	idw_vault_close(v);
}

/*
 * Every bit of both areas flipped, with token slots present: the vault
 * still opens with the token, and the table it reads is the same one, or
 * the previous one when the other area held that (a crash between the two
 * writes of a change).
 */
static void test_every_bit_flip_with_slots(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_slot_info s[IDW_SLOT_MAX], m;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	struct tok t1, t2;
	uint8_t *orig;
	size_t len, n;
	int fd, rc;

	tok_make(&t1);
	tok_make(&t2);
	make_vault(f->path, PASS, PASSLEN, 3, NULL);
	v = open_unlocked(f->path);
	m = tok_meta(&t1, IDW_SLOT_TOKEN, "one", 1700000000);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t1.secret), 0);
	orig = read_file(f->path, &len); /* both areas: {pp, t1} */
	m = tok_meta(&t2, IDW_SLOT_TOKEN, "two", 1700000001);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t2.secret), 0);
	idw_vault_close(v);
	free(orig);
	orig = read_file(f->path, &len); /* both areas: {pp, t1, t2} */

	for (int mid = 0; mid < 2; mid++) {
		if (mid) {
			/* the second change wrote A first: B still old */
			uint8_t *prev;
			size_t plen;

			unlink(f->path);
			make_vault(f->path, PASS, PASSLEN, 3, NULL);
			v = open_unlocked(f->path);
			m = tok_meta(&t1, IDW_SLOT_TOKEN, "one", 1700000000);
			assert_int_equal(
				idw_vault_slot_add_key(v, &m, t1.secret), 0);
			prev = read_file(f->path, &plen);
			m = tok_meta(&t2, IDW_SLOT_TOKEN, "two", 1700000001);
			assert_int_equal(
				idw_vault_slot_add_key(v, &m, t2.secret), 0);
			idw_vault_close(v);
			free(orig);
			orig = read_file(f->path, &len);
			memcpy(orig + AREA(1), prev + AREA(1), VAULT_AREA_SIZE);
			free(prev);
		}
		/* the parser the unlock runs, on an image: the same code
		 * without the file's syscalls */
		for (size_t i = AREA(0); i < VAULT_JOURNAL_OFF; i++) {
			int in_a = i < AREA(1);
			/* the other area is the previous table when it is B
			 * that survives */
			int prev = mid && in_a;
			/* every bit; with the previous table in B, one bit
			 * a byte (the checksum treats them all alike) */
			int b0 = mid ? (int)(i % 8) : 0, b1 = mid ? b0 + 1 : 8;

			for (int bit = b0; bit < b1; bit++) {
				orig[i] ^= (uint8_t)(1u << bit);
				if (vault_slots_list(orig, orig + AREA(0), s,
						     IDW_SLOT_MAX, &n) != 0 ||
				    n != (prev ? 2 : 3) ||
				    slot_find(s, n, IDW_SLOT_TOKEN, t1.id) ==
					    NULL)
					fail_msg("byte %zu bit %d: table", i,
						 bit);
				got_reset(g);
				rc = idw_vault_parse_image_key(
					orig, len, IDW_SLOT_TOKEN, t1.id,
					t1.secret, collect, g, &rep);
				if (rc != 0 || !got_is_series(g, 0, 3) ||
				    strstr(rep.detail, in_a ? "slot area A"
							    : "slot area B") ==
					    NULL)
					fail_msg("byte %zu bit %d: rc %d", i,
						 bit, rc);
				rc = bit != b0 ? (prev ? IDW_ENOENT : 0)
					       : idw_vault_parse_image_key(
							 orig, len,
							 IDW_SLOT_TOKEN, t2.id,
							 t2.secret, NULL, NULL,
							 &rep);
				if (rc != (prev ? IDW_ENOENT : 0))
					fail_msg("byte %zu: t2 %d", i, rc);
				orig[i] ^= (uint8_t)(1u << bit);
			}
		}
		/* the file itself, on a sample */
		write_file(f->path, orig, len);
		fd = open(f->path, O_RDWR);
		assert_true(fd >= 0);
		for (size_t i = AREA(0); i < VAULT_JOURNAL_OFF; i += 97) {
			uint8_t b = orig[i] ^ 0x04;

			assert_int_equal(pwrite(fd, &b, 1, (off_t)i), 1);
			assert_int_equal(idw_vault_open(f->path, &v), 0);
			assert_int_equal(
				idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
			assert_int_equal(n, mid && i < AREA(1) ? 2 : 3);
			got_reset(g);
			assert_int_equal(idw_vault_unlock_key(v, IDW_SLOT_TOKEN,
							      t1.id, t1.secret,
							      collect, g, &rep),
					 0);
			assert_true(got_is_series(g, 0, 3));
			idw_vault_close(v);
			assert_int_equal(pwrite(fd, &orig[i], 1, (off_t)i), 1);
		}
		close(fd);
	}
	/* and the passphrase, on a sample */
	for (size_t i = AREA(0); i < VAULT_JOURNAL_OFF; i += 61) {
		uint8_t *img = malloc(len);

		memcpy(img, orig, len);
		img[i] ^= 0x10;
		got_reset(g);
		assert_int_equal(idw_vault_parse_image(img, len, PASS, PASSLEN,
						       collect, g, &rep),
				 0);
		assert_true(got_is_series(g, 0, 3));
		free(img);
	}
	free(orig);
	got_reset(g);
	free(g);
}

/* Compaction carries every row, unknown kinds included. */
static void test_slots_survive_compaction(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct idw_slot_info s[IDW_SLOT_MAX], s2[IDW_SLOT_MAX], m;
	struct idw_vault *v;
	struct got *g = calloc(1, sizeof(*g));
	const uint8_t extra[] = {0x7f, 5,   'f', 'u', 't', 'u', 'r', 2,
				 0,    'm', 'm', 3,   0,   'w', 'w', 'w'};
	uint8_t key[32], vk[32], mk[32], *img, *a;
	struct tok t, tv, gone;
	size_t n, n2, len;
	uint32_t tlen;

	tok_make(&t);
	tok_make(&tv);
	tok_make(&gone);
	randombytes_buf(key, sizeof(key));
	make_vault(f->path, PASS, PASSLEN, 3, NULL);

	/* an unknown row, added by hand as a later version would */
	img = read_file(f->path, &len);
	{
		uint8_t kek[32], aad[16 + 64];
		const uint8_t *row = img + AREA(0) + VAULT_AREA_TABLE;
		crypto_generichash_state st;

		assert_int_equal(crypto_pwhash(kek, 32, (const char *)PASS,
					       PASSLEN, row + 31,
					       idw_le64_get(row + 15),
					       idw_le64_get(row + 23),
					       crypto_pwhash_ALG_ARGON2ID13),
				 0);
		memcpy(aad, img + 8, 16);
		memcpy(aad + 16, row, 47);
		assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
					 vk, NULL, NULL, row + 49 + 24, 48, aad,
					 16 + 47, row + 49, kek),
				 0);
		crypto_kdf_derive_from_key(mk, 32, 1, "idw-slot", vk);
		for (int i = 0; i < 2; i++) {
			a = img + AREA(i);
			tlen = idw_le32_get(a + VAULT_AREA_TLEN);
			memcpy(a + VAULT_AREA_TABLE + tlen, extra,
			       sizeof(extra));
			idw_le32_put(a + VAULT_AREA_TLEN,
				     tlen + (uint32_t)sizeof(extra));
			crypto_generichash_init(&st, mk, 32, 32);
			crypto_generichash_update(&st, img, 64);
			crypto_generichash_update(&st, a, VAULT_AREA_MAC);
			crypto_generichash_final(&st, a + VAULT_AREA_MAC, 32);
		}
		reseal_areas(img);
		write_file(f->path, img, len);
	}
	free(img);

	v = open_unlocked(f->path);
	m = tok_meta(&t, IDW_SLOT_TOKEN, "kept", 1700000000);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), 0);
	m = tok_meta(&tv, IDW_SLOT_VERIFIER, "auth only", 1700000000);
	assert_int_equal(idw_vault_slot_add_verifier(v, &m, tv.secret), 0);
	m = tok_meta(&gone, IDW_SLOT_TOKEN, "gone", 1700000000);
	assert_int_equal(idw_vault_slot_add_key(v, &m, gone.secret), 0);
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_TOKEN, gone.id,
					       1700000500, true),
			 0);
	memset(&m, 0, sizeof(m));
	m.type = IDW_SLOT_KEYCHAIN;
	snprintf(m.id, sizeof(m.id), "keychain");
	assert_int_equal(idw_vault_slot_add_key(v, &m, key), 0);
	assert_int_equal(idw_vault_slots(v, s, IDW_SLOT_MAX, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(count_type(s, n, 0x7f), 1);

	/* during a compaction the table does not change */
	assert_int_equal(idw_vault_compact_begin(v), 0);
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_TOKEN, t.id,
					       1700000600, true),
			 IDW_EINVAL);
	for (unsigned i = 0; i < 3; i++) {
		struct idw_vault_rec r;
		struct trec tr;

		make_rec(i, &tr);
		to_rec(&tr, &r);
		assert_int_equal(idw_vault_compact_put(v, &r), 0);
		trec_free(&tr);
	}
	assert_int_equal(idw_vault_compact_commit(v), 0);
	/* and changes after it land in the new file */
	tok_make(&gone);
	m = tok_meta(&gone, IDW_SLOT_TOKEN, "after", 1700000700);
	assert_int_equal(idw_vault_slot_add_key(v, &m, gone.secret), 0);
	idw_vault_close(v);

	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_slots(v, s2, IDW_SLOT_MAX, &n2), 0);
	idw_vault_close(v);
	assert_int_equal(n2, n + 1);
	assert_memory_equal(s, s2, n * sizeof(s[0]));
	img = read_file(f->path, &len);
	for (int i = 0; i < 2; i++)
		assert_int_equal(rows_in_area(img, i, 0x7f, "futur"), 1);
	free(img);
	assert_int_equal(
		reopen_key(f->path, IDW_SLOT_TOKEN, t.id, t.secret, g, &rep),
		0);
	assert_true(got_is_series(g, 0, 3));
	assert_int_equal(reopen_key(f->path, IDW_SLOT_KEYCHAIN, "keychain", key,
				    g, &rep),
			 0);
	assert_int_equal(reopen_key(f->path, IDW_SLOT_TOKEN, gone.id,
				    gone.secret, g, &rep),
			 0);
	assert_int_equal(reopen(f->path, g, &rep), 0);
	assert_true(got_is_series(g, 0, 3));
	assert_int_equal(idw_vault_open(f->path, &v), 0);
	assert_int_equal(idw_vault_verifier_check(v, tv.id, tv.secret), 0);
	idw_vault_close(v);
	sodium_memzero(vk, sizeof(vk));
	sodium_memzero(mk, sizeof(mk));
	got_reset(g);
	free(g);
}

/*
 * The new rows, rebuilt by hand from docs/vault-format.md: TLV metadata,
 * the token KEK and unwrap, the verifier, a tombstone, a pending keychain
 * slot.
 */
static void test_doc_key_rows(void **state)
{
	struct fx *f = *state;
	struct idw_slot_info m;
	struct idw_vault *v;
	uint8_t kek[32], vk[32], commit[32], h[32], aad[16 + 256], key[32];
	uint8_t *img, *row, *meta, *a;
	crypto_generichash_state st;
	struct tok t, tv;
	size_t len, ml, wl;

	tok_make(&t);
	tok_make(&tv);
	randombytes_buf(key, sizeof(key));
	make_vault(f->path, PASS, PASSLEN, 0, NULL);
	v = open_unlocked(f->path);
	m = tok_meta(&t, IDW_SLOT_TOKEN, "doc", 1700000000);
	assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), 0);
	m = tok_meta(&tv, IDW_SLOT_VERIFIER, "v", 0);
	m.expires = 0;
	m.principal[0] = '\0';
	assert_int_equal(idw_vault_slot_add_verifier(v, &m, tv.secret), 0);
	assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_VERIFIER, tv.id,
					       1700000009, true),
			 0);
	memset(&m, 0, sizeof(m));
	m.type = IDW_SLOT_KEYCHAIN;
	snprintf(m.id, sizeof(m.id), "keychain");
	m.pending = true;
	assert_int_equal(idw_vault_slot_add_key(v, &m, key), 0);
	idw_vault_close(v);
	img = read_file(f->path, &len);
	a = img + AREA(0);
	assert_int_equal(idw_le64_get(a + VAULT_AREA_GEN), 5);
	assert_int_equal(idw_le64_get(img + AREA(1) + VAULT_AREA_GEN), 5);

	/* token row right after the 121-byte passphrase row */
	row = a + VAULT_AREA_TABLE + 121;
	assert_int_equal(row[0], 3);
	assert_int_equal(row[1], 12);
	assert_memory_equal(row + 2, t.id, 12);
	ml = idw_le16_get(row + 14);
	meta = row + 16;
	assert_int_equal(ml, (2 + 3) + (2 + 18) + (2 + 8) + (2 + 8));
	assert_int_equal(meta[0], 1);
	assert_int_equal(meta[1], 3);
	assert_memory_equal(meta + 2, "doc", 3);
	assert_int_equal(meta[5], 2);
	assert_int_equal(meta[6], 18);
	assert_memory_equal(meta + 7, "token:", 6);
	assert_int_equal(meta[25], 3);
	assert_int_equal(meta[26], 8);
	assert_int_equal(idw_le64_get(meta + 27), 1700000000);
	assert_int_equal(meta[35], 4);
	assert_int_equal(idw_le64_get(meta + 37), 1700003600);
	wl = idw_le16_get(meta + ml);
	assert_int_equal(wl, 72);
	crypto_generichash_init(&st, t.secret, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)"idw-kek-token-v1", 16);
	crypto_generichash_update(&st, img + 8, 16);
	crypto_generichash_final(&st, kek, 32);
	memcpy(aad, img + 8, 16);
	memcpy(aad + 16, row, 16 + ml);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
				 vk, NULL, NULL, meta + ml + 2 + 24, 48, aad,
				 16 + 16 + ml, meta + ml + 2, kek),
			 0);
	crypto_generichash_init(&st, vk, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)"idw-vk-commit-v1", 16);
	crypto_generichash_update(&st, img + 8, 16);
	crypto_generichash_final(&st, commit, 32);
	assert_memory_equal(commit, a + VAULT_AREA_COMMIT, 32);

	/* tombstone of the verifier: label, revoked_at, revoked_type */
	row = meta + ml + 2 + wl;
	assert_int_equal(row[0], 5);
	assert_memory_equal(row + 2, tv.id, 12);
	ml = idw_le16_get(row + 14);
	meta = row + 16;
	assert_int_equal(ml, (2 + 1) + (2 + 8) + (2 + 1));
	assert_int_equal(meta[0], 1);
	assert_int_equal(meta[3], 5);
	assert_int_equal(idw_le64_get(meta + 5), 1700000009);
	assert_int_equal(meta[13], 6);
	assert_int_equal(meta[14], 1);
	assert_int_equal(meta[15], 4);
	assert_int_equal(idw_le16_get(meta + ml), 0);

	/* pending keychain slot: flags 1, no wrap */
	row = meta + ml + 2;
	assert_int_equal(row[0], 2);
	assert_int_equal(row[1], 8);
	assert_memory_equal(row + 2, "keychain", 8);
	assert_int_equal(idw_le16_get(row + 10), 3);
	assert_int_equal(row[12], 7);
	assert_int_equal(row[13], 1);
	assert_int_equal(row[14], 1);
	assert_int_equal(idw_le16_get(row + 15), 0);
	assert_int_equal(row + 17 - (a + VAULT_AREA_TABLE),
			 idw_le32_get(a + VAULT_AREA_TLEN));

	/* a verifier row holds BLAKE2b-256(secret) as its wrapped part */
	v = open_unlocked(f->path);
	m = tok_meta(&t, IDW_SLOT_VERIFIER, "v", 0);
	tok_make(&tv);
	m = tok_meta(&tv, IDW_SLOT_VERIFIER, "v", 0);
	assert_int_equal(idw_vault_slot_add_verifier(v, &m, tv.secret), 0);
	idw_vault_close(v);
	free(img);
	img = read_file(f->path, &len);
	a = img + AREA(1);
	crypto_generichash(h, 32, tv.secret, 32, NULL, 0);
	assert_non_null(memmem(a + VAULT_AREA_TABLE,
			       idw_le32_get(a + VAULT_AREA_TLEN), h, 32));
	/* the keychain KEK's context */
	crypto_generichash_init(&st, key, 32, 32);
	crypto_generichash_update(&st, (const uint8_t *)"idw-kek-keychain", 16);
	crypto_generichash_update(&st, img + 8, 16);
	crypto_generichash_final(&st, kek, 32);
	free(img);
	sodium_memzero(vk, sizeof(vk));
	sodium_memzero(kek, sizeof(kek));
}

static void test_rec_decode(void **state)
{
	struct idw_vault_rec rec;
	uint8_t out[64];
	/* op, "k", "id", json "{}", value "\0v" */
	const uint8_t good[] = {1, 1,	'k', 2, 'i', 'd', 2, 0, 0,
				0, '{', '}', 2, 0,   0,	  0, 0, 'v'};
	uint8_t bad[sizeof(good)];

	(void)state;
	assert_int_equal(idw_vault_rec_decode(good, sizeof(good), out, &rec),
			 0);
	assert_string_equal(rec.kind, "k");
	assert_string_equal(rec.id, "id");
	assert_string_equal(rec.json, "{}");
	assert_int_equal(rec.value_len, 2);
	assert_memory_equal(rec.value, "\0v", 2);
	/* in place, as the replay does it */
	memcpy(out + 3, good, sizeof(good));
	assert_int_equal(idw_vault_rec_decode(out + 3, sizeof(good), out, &rec),
			 0);
	assert_string_equal(rec.kind, "k");
	assert_string_equal(rec.id, "id");
	assert_string_equal(rec.json, "{}");
	assert_memory_equal(rec.value, "\0v", 2);

	for (size_t n = 0; n < sizeof(good); n++)
		assert_int_equal(idw_vault_rec_decode(good, n, out, &rec),
				 IDW_ECORRUPT);
	memcpy(bad, good, sizeof(bad));
	bad[0] = 3; /* unknown op */
	assert_int_equal(idw_vault_rec_decode(bad, sizeof(bad), out, &rec),
			 IDW_ECORRUPT);
	memcpy(bad, good, sizeof(bad));
	bad[2] = 0; /* NUL in kind */
	assert_int_equal(idw_vault_rec_decode(bad, sizeof(bad), out, &rec),
			 IDW_ECORRUPT);
	memcpy(bad, good, sizeof(bad));
	bad[12] = 1; /* value shorter than said: a byte left over */
	assert_int_equal(idw_vault_rec_decode(bad, sizeof(bad), out, &rec),
			 IDW_ECORRUPT);
	bad[12] = 0xff;
	assert_int_equal(idw_vault_rec_decode(bad, sizeof(bad), out, &rec),
			 IDW_ECORRUPT);
}

/*
 * Seeds with every kind of row: a token slot and a keychain slot the
 * fuzzer can unlock with, a verifier, a tombstone; and one with the
 * keychain slot pending.
 */
static void write_slot_seeds(const char *path, const char *dir)
{
	struct idw_slot_info m;
	struct idw_vault *v;
	struct tok t, tv;
	uint8_t key[32], h[32], *img;
	char name[4200];
	size_t len;

	for (int i = 0; i < 32; i++) {
		t.secret[i] = (uint8_t)(FUZZ_TOKEN_BASE + i);
		key[i] = (uint8_t)(FUZZ_KEYCHAIN_BASE + i);
	}
	crypto_generichash(h, sizeof(h), t.secret, 32, NULL, 0);
	sodium_bin2hex(t.id, sizeof(t.id), h, 6);
	for (int pending = 0; pending < 2; pending++) {
		unlink(path);
		make_vault(path, (const uint8_t *)FUZZ_PASS, strlen(FUZZ_PASS),
			   2, NULL);
		assert_int_equal(idw_vault_open(path, &v), 0);
		assert_int_equal(idw_vault_unlock(v, (const uint8_t *)FUZZ_PASS,
						  strlen(FUZZ_PASS), NULL, NULL,
						  NULL),
				 0);
		m = tok_meta(&t, IDW_SLOT_TOKEN, "fuzz token", 1700000000);
		assert_int_equal(idw_vault_slot_add_key(v, &m, t.secret), 0);
		tok_make(&tv);
		m = tok_meta(&tv, IDW_SLOT_VERIFIER, "auth only", 1700000000);
		assert_int_equal(idw_vault_slot_add_verifier(v, &m, tv.secret),
				 0);
		tok_make(&tv);
		m = tok_meta(&tv, IDW_SLOT_TOKEN, "revoked", 1700000000);
		assert_int_equal(idw_vault_slot_add_key(v, &m, tv.secret), 0);
		assert_int_equal(idw_vault_slot_remove(v, IDW_SLOT_TOKEN, tv.id,
						       1700000100, true),
				 0);
		memset(&m, 0, sizeof(m));
		m.type = IDW_SLOT_KEYCHAIN;
		snprintf(m.id, sizeof(m.id), "keychain");
		m.pending = pending;
		assert_int_equal(idw_vault_slot_add_key(v, &m, key), 0);
		idw_vault_close(v);
		img = read_file(path, &len);
		snprintf(name, sizeof(name), "%s/vault-slots%s.idw", dir,
			 pending ? "-pending" : "");
		write_file(name, img, len);
		free(img);
	}
}

/* Seed corpus for tests/fuzz/fuzz_vault.c; does nothing unless asked. */
static void test_write_fuzz_seeds(void **state)
{
	struct fx *f = *state;
	const char *dir = getenv("IDW_WRITE_FUZZ_SEEDS");
	const uint8_t *pass = (const uint8_t *)FUZZ_PASS;
	const unsigned counts[] = {0, 1, 3, 8};
	char name[4200];
	uint64_t e[8];
	uint8_t *img;
	size_t len;

	if (dir == NULL || *dir == '\0')
		skip();
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		unlink(f->path);
		make_vault(f->path, pass, strlen(FUZZ_PASS), counts[i], e);
		img = read_file(f->path, &len);
		snprintf(name, sizeof(name), "%s/vault-%u.idw", dir, counts[i]);
		write_file(name, img, len);
		if (counts[i] == 3) {
			snprintf(name, sizeof(name), "%s/vault-torn.idw", dir);
			write_file(name, img, len - 7);
		}
		free(img);
	}
	write_slot_seeds(f->path, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_init_unlock_roundtrip,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_passphrase, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_append_replay_in_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_bounds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_every_bit_flip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage_tail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_cut_or_swap_in_middle,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slot_area_fallback, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_versions_and_magic, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_peek_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_and_unlock_again,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_callback_error_stops,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_write_failure,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_tampering, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_doc_layout_and_unknown_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_slot_unlock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_token_remove_tombstone,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_keychain_pending, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_verifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_slot_tampering, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slot_write_crash, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_slot_table_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_every_bit_flip_with_slots,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots_survive_compaction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_doc_key_rows, setup,
						teardown),
		cmocka_unit_test(test_rec_decode),
		cmocka_unit_test_setup_teardown(test_write_fuzz_seeds, setup,
						teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
