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

#include "agentd/vault.h"
#include "agentd/vault_slots.h"
#include "common/buf.h"

#define PASS ((const uint8_t *)"correct horse battery")
#define PASSLEN (sizeof("correct horse battery") - 1)
#define FUZZ_PASS "fuzz-passphrase-0" /* as in tests/fuzz/fuzz_vault.c */
#define REC_HDR 36
#define AREA(i) VAULT_AREA_OFF(i)

struct fx {
	char dir[64];
	char path[128];
};

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

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *p;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_int_equal(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static void write_file(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, len, 0), (ssize_t)len);
	close(fd);
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/idw-test-vault-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/vault.idw", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
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
		assert_int_equal(
		    idw_vault_parse_image(img, len, PASS, 5, collect, g, &rep),
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
		    idw_vault_unlock(v, PASS, PASSLEN, NULL, NULL, &rep), 0);
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
	assert_int_equal(
	    idw_vault_parse_image(img, len, PASS, PASSLEN, NULL, NULL, &rep),
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
	    {PP_META + 1, 8, crypto_pwhash_OPSLIMIT_SENSITIVE + 1, IDW_ECORRUPT,
	     "KDF"},
	    {PP_META + 1, 8, 0, IDW_ECORRUPT, "KDF"},
	    {PP_META + 9, 8, crypto_pwhash_MEMLIMIT_SENSITIVE + 1, IDW_ECORRUPT,
	     "KDF"},
	    {PP_META + 9, 8, 1024, IDW_ECORRUPT, "KDF"},
	    {VAULT_AREA_TABLE + 2, 1, 'P', IDW_EUNLOCK, "wrong"},
	    {PP_META + 20, 1, 0x55, IDW_EUNLOCK, "wrong"},
	    {VAULT_AREA_TLEN, 8, VAULT_TABLE_MAX + 1, IDW_ECORRUPT, "table"},
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
	assert_int_equal(
	    crypto_aead_xchacha20poly1305_ietf_decrypt(
		vk, NULL, NULL, row + 49 + 24, 48, aad, 16 + 47, row + 49, kek),
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
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(
			     pt, NULL, NULL, img + VAULT_JOURNAL_OFF + REC_HDR,
			     rlen, rad, sizeof(rad),
			     img + VAULT_JOURNAL_OFF + 12, key),
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_init_unlock_roundtrip, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_passphrase, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_append_replay_in_order, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_record_bounds, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_every_bit_flip, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cut_or_swap_in_middle, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_compaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_slot_area_fallback, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_versions_and_magic, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_peek_id, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_lock_and_unlock_again, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_callback_error_stops, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_append_write_failure, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_slot_tampering, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_doc_layout_and_unknown_rows,
					    setup, teardown),
	    cmocka_unit_test(test_rec_decode),
	    cmocka_unit_test_setup_teardown(test_write_fuzz_seeds, setup,
					    teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
