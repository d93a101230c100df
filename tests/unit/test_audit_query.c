/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/audit_query.c and agentd/audit_verify.c on a log of
 * known entries: every filter, pages in both orders, a passport read by
 * its tag alone, and verify's findings for each kind of tampering and for
 * the vault's checkpoint.
 */
#include <fcntl.h>
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

#include "agentd/audit.h"
#include "agentd/audit_query.h"
#include "agentd/audit_verify.h"
#include "common/buf.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

#define HDR_LEN 16
#define ENTRY_HDR 52
#define CHAIN_LEN 16
#define PP_A "pp_aaaaaaaaaaaaaaaa"
#define PP_B "pp_bbbbbbbbbbbbbbbb"
#define T0 1700000000

struct fx {
	char dir[64];
	char path[128];
	struct audit a;
	uint8_t key[AUDIT_KEY_LEN];
	char why[200];
	struct audit_mark mark; /* after entry 4, the anchor */
};

static int group_setup(void **state)
{
	(void)state;
	if (idw_arena_init(0) != 0 &&
	    idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		return -1;
	idw_arena_cjson_hooks();
	return 0;
}

static void add(struct fx *f, const char *principal, const char *action,
		const char *pp, const char *result, int64_t dt)
{
	struct audit_event ev = {.principal = principal,
				 .action = action,
				 .passport_id = pp,
				 .result = result,
				 .purpose = "why",
				 .time = T0 + dt};

	assert_int_equal(audit_append(&f->a, &ev), 0);
}

/*
 *  1 local access  A allowed  +0     4 anchor (checkpoint 1)
 *  2 tok   access  B denied   +10    5 local access   A denied +30
 *  3 local request A pending  +20    6 local creation B ok     +40
 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/idw-auditq-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/audit.idw", f->dir);
	randombytes_buf(f->key, sizeof(f->key));
	audit_init(&f->a);
	if (audit_open(&f->a, f->path) != 0 ||
	    audit_unlock(&f->a, f->key, f->why, sizeof(f->why)) != 0)
		return -1;
	add(f, "local", "access", PP_A, "allowed", 0);
	add(f, "token:abc", "access", PP_B, "denied", 10);
	add(f, "local", "request", PP_A, "pending", 20);
	audit_head_mark(&f->a, &f->mark);
	f->mark.n = 1;
	if (audit_append_anchor(&f->a, 1, "checkpoint", NULL, "ok", "v",
				NULL) != 0)
		return -1;
	add(f, "local", "access", PP_A, "denied", 30);
	add(f, "local", "creation", PP_B, "ok", 40);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	audit_close(&f->a);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Run a query; check the sequence numbers it returns and its cursor. */
static void expect(struct fx *f, const struct audit_filter *flt,
		   const int *seqs, size_t n, const char *next_want)
{
	char next[AUDIT_CURSOR_LEN];
	cJSON *arr = cJSON_CreateArray();

	assert_int_equal(audit_query(&f->a, flt, arr, next, NULL), 0);
	if ((size_t)cJSON_GetArraySize(arr) != n)
		fail_msg("%d entries, %zu expected", cJSON_GetArraySize(arr),
			 n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(
			idw_json_int(cJSON_GetArrayItem(arr, (int)i), "seq", 0),
			seqs[i]);
	if (next_want != NULL)
		assert_string_equal(next, next_want);
	cJSON_Delete(arr);
}

#define EXPECT(f, flt, next, ...)                                              \
	do {                                                                   \
		static const int s_[] = {__VA_ARGS__};                         \
		expect(f, flt, s_, sizeof(s_) / sizeof(s_[0]), next);          \
	} while (0)

static void test_filters(void **state)
{
	struct fx *f = *state;
	struct audit_filter q = {.limit = 50};

	EXPECT(f, &q, "", 6, 5, 3, 2, 1); /* the anchor is bookkeeping */
	q.passport_id = PP_A;
	EXPECT(f, &q, "", 5, 3, 1);
	q.passport_id = NULL;
	q.action = "access";
	EXPECT(f, &q, "", 5, 2, 1);
	q.action = "denial";
	EXPECT(f, &q, "", 5, 2);
	q.action = "checkpoint";
	EXPECT(f, &q, "", 4);
	q.action = NULL;
	q.result = "denied";
	EXPECT(f, &q, "", 5, 2);
	q.result = NULL;
	q.principal = "token:abc";
	EXPECT(f, &q, "", 2);
	q.principal = NULL;
	q.has_since = true;
	q.since = T0 + 15;
	q.has_until = true;
	q.until = T0 + 30;
	EXPECT(f, &q, "", 5, 3);
	q.has_since = false;
	q.passport_id = PP_B;
	EXPECT(f, &q, "", 2);
	q.oldest_first = true;
	q.has_until = false;
	EXPECT(f, &q, "", 2, 6);
}

static void test_pages(void **state)
{
	struct fx *f = *state;
	struct audit_filter q = {.limit = 2};
	char cur[AUDIT_CURSOR_LEN];
	cJSON *arr = cJSON_CreateArray();

	EXPECT(f, &q, "5", 6, 5);
	assert_int_equal(audit_cursor_parse("5", &q), 0);
	EXPECT(f, &q, "2", 3, 2);
	assert_int_equal(audit_cursor_parse("2", &q), 0);
	EXPECT(f, &q, "", 1);
	/* Oldest first: the cursor carries where the next entry is. */
	memset(&q, 0, sizeof(q));
	q.limit = 2;
	q.oldest_first = true;
	assert_int_equal(audit_query(&f->a, &q, arr, cur, NULL), 0);
	assert_non_null(strchr(cur, '.'));
	assert_int_equal(audit_cursor_parse(cur, &q), 0);
	EXPECT(f, &q, NULL, 3, 5);
	/* A stale offset costs a walk, not a wrong page. */
	q.cursor_end = HDR_LEN + 1;
	EXPECT(f, &q, NULL, 3, 5);
	assert_int_equal(audit_cursor_parse("x", &q), IDW_EUSAGE);
	assert_int_equal(audit_cursor_parse("5.", &q), IDW_EUSAGE);
	assert_int_equal(audit_cursor_parse("5.7z", &q), IDW_EUSAGE);
	q.limit = 0;
	assert_int_equal(audit_query(&f->a, &q, arr, cur, NULL), IDW_EUSAGE);
	cJSON_Delete(arr);
}

/* One passport's entries cost their own decryption only. */
static void test_by_tag(void **state)
{
	struct fx *f = *state;
	struct audit_filter q = {.passport_id = PP_A, .limit = 2};
	char next[AUDIT_CURSOR_LEN];
	cJSON *arr = cJSON_CreateArray();
	size_t opened = 0;

	for (int i = 0; i < 40; i++)
		add(f, "local", "access", PP_B, "allowed", 50 + i);
	assert_int_equal(audit_query(&f->a, &q, arr, next, &opened), 0);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_int_equal(opened, 2);
	cJSON_Delete(arr);
	audit_lock(&f->a);
	arr = cJSON_CreateArray();
	assert_int_equal(audit_query(&f->a, &q, arr, next, NULL), IDW_ELOCKED);
	cJSON_Delete(arr);
}

static uint8_t *slurp(const char *path, size_t *n)
{
	struct stat st;
	uint8_t *b;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*n = (size_t)st.st_size;
	b = malloc(*n);
	assert_non_null(b);
	assert_int_equal(read(fd, b, *n), (ssize_t)*n);
	close(fd);
	return b;
}

static size_t offsets(const uint8_t *img, size_t n, uint64_t *offs)
{
	size_t k = 0;

	for (uint64_t off = HDR_LEN; off + ENTRY_HDR <= n; k++) {
		offs[k] = off;
		off += ENTRY_HDR + idw_le32_get(img + off) + CHAIN_LEN;
	}
	return k;
}

/* Write the original entries in the given order (indices from 0). */
static void rewrite(struct fx *f, const uint8_t *img, size_t n,
		    const int *order, size_t norder)
{
	uint64_t offs[16];
	size_t k = offsets(img, n, offs);
	int fd = open(f->path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, HDR_LEN), HDR_LEN);
	for (size_t i = 0; i < norder; i++) {
		size_t j = (size_t)order[i];
		uint64_t end = j + 1 < k ? offs[j + 1] : n;

		assert_int_equal(write(fd, img + offs[j], end - offs[j]),
				 (ssize_t)(end - offs[j]));
	}
	close(fd);
}

static cJSON *verify(struct fx *f, struct audit_verify *v)
{
	cJSON *o = cJSON_CreateObject();

	memset(v, 0, sizeof(*v));
	v->mark = &f->mark;
	assert_int_equal(audit_verify_run(&f->a, v), 0);
	assert_int_equal(audit_verify_report(v, o), 0);
	return o;
}

static bool says(const cJSON *o, const char *list, const char *word)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(o, list))
	{
		if (strstr(e->valuestring, word) != NULL)
			return true;
	}
	return false;
}

static void test_verify(void **state)
{
	static const struct {
		int order[8];
		size_t n;
		int bad;
		const char *word;
	} cases[] = {
		{{0, 1, 3, 4, 5}, 5, 3, "missing"},	/* entry 3 deleted */
		{{0, 2, 1, 3, 4, 5}, 6, 2, "missing"},	/* 2 and 3 swapped */
		{{0, 1, 1, 2, 3, 4, 5}, 7, 3, "again"}, /* 2 duplicated */
		{{0, 1, 2, 3, 4, 5, 5}, 7, 7, "again"}, /* the last twice */
	};
	struct fx *f = *state;
	struct audit_verify v;
	uint8_t *img;
	size_t n;
	uint64_t offs[16];
	cJSON *o;

	o = verify(f, &v);
	assert_true(idw_json_bool(o, "intact", false));
	assert_int_equal(idw_json_int(o, "entries", 0), 6);
	/* Entry 3 vouched for, 4 its anchor, 5 and 6 not yet. */
	assert_int_equal(idw_json_int(o, "verified_through", 0), 4);
	assert_int_equal(idw_json_int(o, "unverified_tail", 0), 2);
	assert_true(says(o, "notes", "not yet vouched"));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "first_bad")));
	cJSON_Delete(o);

	img = slurp(f->path, &n);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		rewrite(f, img, n, cases[c].order, cases[c].n);
		o = verify(f, &v);
		assert_false(idw_json_bool(o, "intact", true));
		if ((int)v.bad_pos != cases[c].bad)
			fail_msg("case %zu: entry %llu named, %d expected", c,
				 (unsigned long long)v.bad_pos, cases[c].bad);
		assert_non_null(strstr(v.bad_why, cases[c].word));
		cJSON_Delete(o);
	}
	/* A bit flipped anywhere in entry 2 names entry 2. */
	assert_int_equal(offsets(img, n, offs), 6);
	for (uint64_t at = offs[1]; at < offs[2]; at += 7) {
		uint8_t *copy = malloc(n);
		int fd;

		memcpy(copy, img, n);
		copy[at] ^= 0x10;
		fd = open(f->path, O_WRONLY | O_TRUNC);
		assert_int_equal(write(fd, copy, n), (ssize_t)n);
		close(fd);
		o = verify(f, &v);
		assert_false(idw_json_bool(o, "intact", true));
		if (v.bad_pos != 2 && !(v.bad_pos == 0 && !v.readable))
			fail_msg("flip at %llu: entry %llu named",
				 (unsigned long long)(at - offs[1]),
				 (unsigned long long)v.bad_pos);
		cJSON_Delete(o);
		free(copy);
	}
	free(img);
}

static void test_verify_against_vault(void **state)
{
	struct fx *f = *state;
	struct audit_verify v;
	uint64_t offs[16];
	uint8_t *img;
	size_t n;
	cJSON *o;

	/* The agent knows how far it wrote: a cut under it shows. */
	img = slurp(f->path, &n);
	assert_int_equal(offsets(img, n, offs), 6);
	assert_int_equal(truncate(f->path, (off_t)offs[5]), 0);
	memset(&v, 0, sizeof(v));
	v.mark = &f->mark;
	v.agent_seq = 6;
	v.agent_end = n;
	assert_int_equal(audit_verify_run(&f->a, &v), 0);
	o = cJSON_CreateObject();
	assert_int_equal(audit_verify_report(&v, o), 0);
	assert_true(says(o, "problems", "while the agent ran"));
	cJSON_Delete(o);
	/* Cut below the checkpoint: the vault says it was longer. */
	assert_int_equal(truncate(f->path, (off_t)offs[2]), 0);
	o = verify(f, &v);
	assert_true(says(o, "problems",
			 "checkpoint 1 vouches for entries up "
			 "to 3"));
	cJSON_Delete(o);
	/* A log that is not the one the vault vouched for. */
	{
		int fd = open(f->path, O_WRONLY | O_TRUNC);

		assert_int_equal(write(fd, img, n), (ssize_t)n);
		close(fd);
	}
	f->mark.chain[0] ^= 1;
	o = verify(f, &v);
	assert_true(says(o, "problems", "replaced, at or before it"));
	cJSON_Delete(o);
	f->mark.chain[0] ^= 1;
	/* The vault behind the log: its checkpoint older than an anchor. */
	f->mark.n = 0;
	o = verify(f, &v);
	assert_true(says(o, "problems", "journal was cut"));
	cJSON_Delete(o);
	/* Only the anchor entry missing: the crash between the writes. */
	f->mark.n = 2;
	o = verify(f, &v);
	assert_true(idw_json_bool(o, "intact", false));
	assert_true(says(o, "notes", "anchor entry of checkpoint 2"));
	assert_int_equal(idw_json_int(o, "verified_through", 0), 3);
	cJSON_Delete(o);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_tag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_against_vault,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
