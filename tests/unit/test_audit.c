/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/audit.c (docs/audit-format.md): the header, the
 * keyed chain, reading back by passport, torn tails, a log deleted or cut
 * under the agent, a full disk and its healing, events held until unlock,
 * grouped syncs, the walk from a checkpoint, and what an entry may hold.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "agentd/audit.h"
#include "common/buf.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

#define HDR_LEN 16
#define ENTRY_HDR 52
#define CHAIN_LEN 16
#define PP_A "pp_aaaaaaaaaaaaaaaa"
#define PP_B "pp_bbbbbbbbbbbbbbbb"

struct fx {
	char dir[64];
	char path[128];
	struct audit a;
	uint8_t key[AUDIT_KEY_LEN];
	char why[160];
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

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/idw-audit-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/audit.idw", f->dir);
	randombytes_buf(f->key, sizeof(f->key));
	audit_init(&f->a);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char link[160];

	audit_close(&f->a);
	snprintf(link, sizeof(link), "%s/link.idw", f->dir);
	unlink(link);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void open_unlocked(struct fx *f)
{
	assert_int_equal(audit_open(&f->a, f->path), 0);
	assert_int_equal(audit_unlock(&f->a, f->key, f->why, sizeof(f->why)),
			 0);
}

/* The agent's restart: close, open and walk the file again. */
static int reopen(struct fx *f)
{
	audit_close(&f->a);
	audit_init(&f->a);
	assert_int_equal(audit_open(&f->a, f->path), 0);
	f->why[0] = '\0';
	return audit_unlock(&f->a, f->key, f->why, sizeof(f->why));
}

static void append(struct fx *f, const char *passport, const char *purpose)
{
	struct audit_event ev = {
		.principal = "local",
		.claimed_actor = "claude",
		.action = "access",
		.passport_id = passport,
		.platform = "openai",
		.purpose = purpose,
		.result = "allowed",
		.reason = NULL,
	};

	assert_int_equal(audit_append(&f->a, &ev), 0);
}

static cJSON *recent(struct fx *f, const char *passport, size_t limit)
{
	cJSON *arr = cJSON_CreateArray();

	assert_int_equal(audit_recent(&f->a, passport, limit, arr), 0);
	return arr;
}

static int64_t seq_at(const cJSON *arr, int i)
{
	return idw_json_int(cJSON_GetArrayItem(arr, i), "seq", -1);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static uint8_t *file_bytes(const char *path, size_t *len)
{
	size_t n = (size_t)file_size(path);
	uint8_t *b = malloc(n ? n : 1);
	int fd = open(path, O_RDONLY);

	assert_non_null(b);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, b, n, 0), (ssize_t)n);
	close(fd);
	*len = n;
	return b;
}

static void write_at(const char *path, const void *p, size_t n, off_t off)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, n, off), (ssize_t)n);
	close(fd);
}

static void flip_byte(const char *path, off_t off)
{
	uint8_t b;
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

/* Offsets of the entries in the file, by their length fields. */
static size_t entry_offsets(const char *path, uint64_t *offs, size_t max)
{
	size_t n, k = 0;
	uint8_t *img = file_bytes(path, &n);
	uint64_t off = HDR_LEN;

	while (off + ENTRY_HDR <= n && k < max) {
		offs[k++] = off;
		off += ENTRY_HDR + idw_le32_get(img + off) + CHAIN_LEN;
	}
	free(img);
	return k;
}

static void test_open_creates_header(void **state)
{
	struct fx *f = *state;
	uint8_t *img, zero[10] = {0};
	char link[160];
	struct stat st;
	size_t n;

	assert_int_equal(audit_open(&f->a, f->path), 0);
	assert_true(f->a.fd >= 0);
	assert_int_equal(f->a.end, HDR_LEN);
	assert_int_equal(f->a.seq, 0);
	assert_null(f->a.keys);
	img = file_bytes(f->path, &n);
	assert_int_equal(n, HDR_LEN);
	assert_memory_equal(img, "IDWA", 4);
	assert_int_equal(idw_le16_get(img + 4), 1);
	assert_memory_equal(img + 6, zero, 10);
	free(img);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* An existing log opens as it is. */
	audit_close(&f->a);
	assert_int_equal(f->a.fd, -1);
	assert_int_equal(audit_open(&f->a, f->path), 0);
	assert_int_equal(file_size(f->path), HDR_LEN);
	audit_close(&f->a);

	/* A newer format, another file, a cut header: refused, nothing
	 * left open. */
	write_at(f->path, "\x02\x00", 2, 4);
	assert_int_equal(audit_open(&f->a, f->path), IDW_EVERSION);
	assert_int_equal(f->a.fd, -1);
	write_at(f->path, "IDWV\x01\x00", 6, 0);
	assert_int_equal(audit_open(&f->a, f->path), IDW_ECORRUPT);
	assert_int_equal(f->a.fd, -1);
	assert_int_equal(truncate(f->path, 5), 0);
	write_at(f->path, "IDWA\x01", 5, 0);
	assert_int_equal(audit_open(&f->a, f->path), IDW_ECORRUPT);
	assert_int_equal(f->a.fd, -1);

	/* Never through a symbolic link. */
	snprintf(link, sizeof(link), "%s/link.idw", f->dir);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(symlink(f->path, link), 0);
	assert_int_equal(audit_open(&f->a, link), IDW_EIO);
	assert_int_equal(f->a.fd, -1);
	assert_int_equal(access(f->path, F_OK), -1);
}

static void test_locked(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {.action = "unlock", .result = "ok"};
	cJSON *arr = cJSON_CreateArray();

	assert_int_equal(audit_open(&f->a, f->path), 0);
	assert_int_equal(audit_append(&f->a, &ev), IDW_ELOCKED);
	assert_int_equal(audit_recent(&f->a, NULL, 10, arr), IDW_ELOCKED);
	/* Locked is not broken: nothing was lost. */
	assert_false(f->a.broken);
	assert_int_equal(audit_unlock(&f->a, f->key, f->why, sizeof(f->why)),
			 0);
	assert_non_null(f->a.keys);
	assert_true(idw_arena_owns(f->a.keys));
	assert_int_equal(audit_append(&f->a, &ev), 0);
	audit_lock(&f->a);
	assert_null(f->a.keys);
	assert_int_equal(audit_append(&f->a, &ev), IDW_ELOCKED);
	assert_int_equal(file_size(f->path), f->a.end);
	cJSON_Delete(arr);
}

static void test_append_and_recent(void **state)
{
	struct fx *f = *state;
	struct audit_event agent_ev = {
		.principal = "agent", .action = "unlock", .result = "ok"};
	uint8_t head[16];
	char purpose[32];
	cJSON *arr;

	open_unlocked(f);
	/* 1..12: A on odd, B on even sequence numbers; 13: no passport. */
	for (int i = 1; i <= 12; i++) {
		snprintf(purpose, sizeof(purpose), "purpose %d", i);
		append(f, i % 2 ? PP_A : PP_B, purpose);
		assert_int_equal(f->a.seq, (uint64_t)i);
	}
	assert_int_equal(audit_append(&f->a, &agent_ev), 0);
	assert_int_equal(f->a.seq, 13);
	assert_int_equal(f->a.end, (uint64_t)file_size(f->path));

	/* One passport's entries, newest first. */
	arr = recent(f, PP_A, 100);
	assert_int_equal(cJSON_GetArraySize(arr), 6);
	for (int i = 0; i < 6; i++) {
		const cJSON *e = cJSON_GetArrayItem(arr, i);

		assert_int_equal(seq_at(arr, i), 11 - 2 * i);
		assert_string_equal(idw_json_str(e, "passport_id"), PP_A);
		snprintf(purpose, sizeof(purpose), "purpose %d", 11 - 2 * i);
		assert_string_equal(idw_json_str(e, "purpose"), purpose);
	}
	cJSON_Delete(arr);
	/* The limit keeps the newest. */
	arr = recent(f, PP_B, 2);
	assert_int_equal(cJSON_GetArraySize(arr), 2);
	assert_int_equal(seq_at(arr, 0), 12);
	assert_int_equal(seq_at(arr, 1), 10);
	cJSON_Delete(arr);
	/* Limit 0 is read as 1. */
	arr = recent(f, PP_B, 0);
	assert_int_equal(cJSON_GetArraySize(arr), 1);
	assert_int_equal(seq_at(arr, 0), 12);
	cJSON_Delete(arr);
	/* All entries. */
	arr = recent(f, NULL, 100);
	assert_int_equal(cJSON_GetArraySize(arr), 13);
	for (int i = 0; i < 13; i++)
		assert_int_equal(seq_at(arr, i), 13 - i);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(arr, 0), "action"),
			    "unlock");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0),
						     "passport_id")));
	cJSON_Delete(arr);
	arr = recent(f, NULL, 5);
	assert_int_equal(cJSON_GetArraySize(arr), 5);
	assert_int_equal(seq_at(arr, 4), 9);
	cJSON_Delete(arr);
	/* A passport with no entries; entries are appended to arr. */
	arr = recent(f, "pp_cccccccccccccccc", 10);
	assert_int_equal(cJSON_GetArraySize(arr), 0);
	assert_int_equal(audit_recent(&f->a, PP_A, 1, arr), 0);
	assert_int_equal(cJSON_GetArraySize(arr), 1);
	cJSON_Delete(arr);

	/* A restart finds the same head and goes on from it. */
	memcpy(head, f->a.head, sizeof(head));
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.seq, 13);
	assert_memory_equal(f->a.head, head, sizeof(head));
	assert_int_equal(f->a.end, (uint64_t)file_size(f->path));
	append(f, PP_A, "after restart");
	assert_int_equal(f->a.seq, 14);
	assert_int_equal(reopen(f), 0);
	arr = recent(f, PP_A, 1);
	assert_int_equal(seq_at(arr, 0), 14);
	cJSON_Delete(arr);
}

static void test_wrong_key(void **state)
{
	struct fx *f = *state;
	uint8_t other[AUDIT_KEY_LEN];

	open_unlocked(f);
	append(f, PP_A, "p");
	audit_close(&f->a);
	audit_init(&f->a);
	assert_int_equal(audit_open(&f->a, f->path), 0);
	memcpy(other, f->key, sizeof(other));
	other[0] ^= 1;
	assert_int_equal(audit_unlock(&f->a, other, f->why, sizeof(f->why)),
			 IDW_ECORRUPT);
	assert_null(f->a.keys);
	assert_non_null(strstr(f->why, "audit entry 1 "));
	/* Nothing was cut. */
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.seq, 1);
}

/*
 * Flip one byte at off (relative to entry 3): the unlock names entry 3,
 * either as damage it walks past or, when the entries after it can no
 * longer be followed, as a refusal.  It cuts nothing.
 */
static void flip_in_entry3(struct fx *f, int64_t rel, const char *what)
{
	uint64_t offs[8];
	off_t size;
	int r;

	assert_int_equal(entry_offsets(f->path, offs, 8), 5);
	size = file_size(f->path);
	flip_byte(f->path, (off_t)(offs[2] + (uint64_t)rel));
	r = reopen(f);
	if (r == 0) {
		if (f->a.found.damaged != 3 ||
		    strstr(f->a.found.damaged_why, "audit entry 3 ") == NULL)
			fail_msg("flipped %s: damage at %llu ('%s'), not 3",
				 what, (unsigned long long)f->a.found.damaged,
				 f->a.found.damaged_why);
		/* Walked past: the head is the last entry's. */
		assert_int_equal(f->a.seq, 5);
	} else {
		assert_int_equal(r, IDW_ECORRUPT);
		if (strstr(f->why, "audit entry 3 ") == NULL)
			fail_msg("flipped %s: '%s' does not name entry 3", what,
				 f->why);
		assert_null(f->a.keys);
	}
	/* Neither cuts anything. */
	assert_int_equal(file_size(f->path), size);
	flip_byte(f->path, (off_t)(offs[2] + (uint64_t)rel));
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.found.damaged, 0);
	assert_int_equal(f->a.seq, 5);
}

/* Rewrite the log from img with entries in the given order. */
static void write_order(struct fx *f, const uint8_t *img, size_t n,
			const uint64_t *offs, size_t nent, const int *order,
			size_t norder)
{
	int fd = open(f->path, O_WRONLY | O_TRUNC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, offs[0]), (ssize_t)offs[0]);
	for (size_t i = 0; i < norder; i++) {
		size_t k = (size_t)order[i];
		uint64_t end = k + 1 < nent ? offs[k + 1] : n;

		assert_int_equal(write(fd, img + offs[k], end - offs[k]),
				 (ssize_t)(end - offs[k]));
	}
	close(fd);
}

static void test_chain_breaks(void **state)
{
	static const int removed[] = {0, 1, 3, 4};
	static const int swapped[] = {0, 2, 1, 3, 4};
	static const int doubled[] = {0, 1, 2, 2, 3, 4};
	struct fx *f = *state;
	uint64_t offs[8];
	uint8_t *img;
	size_t n, len3;

	open_unlocked(f);
	for (int i = 0; i < 5; i++)
		append(f, i % 2 ? PP_A : PP_B, "chain");
	assert_int_equal(entry_offsets(f->path, offs, 8), 5);
	len3 = (size_t)(offs[3] - offs[2]);
	/* Every part of an entry is covered. */
	flip_in_entry3(f, 4, "seq");
	flip_in_entry3(f, 12, "passport tag");
	flip_in_entry3(f, 28, "nonce");
	flip_in_entry3(f, ENTRY_HDR + 3, "ciphertext");
	flip_in_entry3(f, (int64_t)len3 - CHAIN_LEN - 1, "AEAD tag");
	flip_in_entry3(f, (int64_t)len3 - 1, "chain");
	/* A shorter length makes the chain fail where it now ends. */
	flip_in_entry3(f, 0, "length");

	img = file_bytes(f->path, &n);
	/* An entry removed from the middle: named where it is missing. */
	write_order(f, img, n, offs, 5, removed, 4);
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.found.damaged, 3);
	assert_non_null(strstr(f->a.found.damaged_why, "missing"));
	assert_int_equal(f->a.seq, 5);
	/* Two entries swapped. */
	write_order(f, img, n, offs, 5, swapped, 5);
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.found.damaged, 2);
	/* An entry repeated. */
	write_order(f, img, n, offs, 5, doubled, 6);
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.found.damaged, 4);
	assert_non_null(strstr(f->a.found.damaged_why, "again"));
	free(img);
}

/* A length that runs past the end of the file, with entries after it. */
static void test_damaged_length_not_cut(void **state)
{
	struct fx *f = *state;
	uint64_t offs[8];
	uint8_t len[4];
	off_t size;

	open_unlocked(f);
	for (int i = 0; i < 5; i++)
		append(f, PP_A, "length");
	assert_int_equal(entry_offsets(f->path, offs, 8), 5);
	size = file_size(f->path);
	/* Entry 2 now claims more than the rest of the file. */
	idw_le32_put(len, 60000);
	write_at(f->path, len, sizeof(len), (off_t)offs[1]);
	assert_int_equal(reopen(f), IDW_ECORRUPT);
	assert_non_null(strstr(f->why, "audit entry 2 "));
	/* Entries 2 to 5 were not thrown away as a torn tail. */
	assert_int_equal(file_size(f->path), size);
}

static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	uint64_t offs[8];
	uint8_t junk[20];
	cJSON *arr;

	open_unlocked(f);
	for (int i = 0; i < 4; i++)
		append(f, PP_A, "torn");
	assert_int_equal(entry_offsets(f->path, offs, 8), 4);
	/* A crash in the middle of the last write: cut, then audited. */
	assert_int_equal(truncate(f->path, file_size(f->path) - 10), 0);
	assert_int_equal(reopen(f), 0);
	assert_true(f->a.found.torn_bytes > 0);
	assert_int_equal(f->a.seq, 4);
	arr = recent(f, NULL, 1);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(arr, 0), "action"),
			    "torn-tail truncation");
	assert_int_equal(seq_at(arr, 0), 4);
	cJSON_Delete(arr);
	assert_int_equal(entry_offsets(f->path, offs, 8), 4);
	/* The log goes on from the cut. */
	append(f, PP_A, "after the cut");
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.found.torn_bytes, 0);
	assert_int_equal(f->a.seq, 5);
	arr = recent(f, PP_A, 10);
	assert_int_equal(cJSON_GetArraySize(arr), 4);
	assert_string_equal(idw_json_str(cJSON_GetArrayItem(arr, 0), "purpose"),
			    "after the cut");
	cJSON_Delete(arr);

	/* Only part of a header made it. */
	randombytes_buf(junk, sizeof(junk));
	write_at(f->path, junk, sizeof(junk), file_size(f->path));
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.found.torn_bytes, sizeof(junk));
	assert_int_equal(f->a.seq, 6);
	assert_int_equal(file_size(f->path), (off_t)f->a.end);

	/* After an entry that fails its check nothing is cut: the length
	 * that seems torn may be the damaged one. */
	{
		off_t end = file_size(f->path);

		assert_int_equal(entry_offsets(f->path, offs, 8), 6);
		flip_byte(f->path, (off_t)(offs[2] + ENTRY_HDR + 1));
		write_at(f->path, junk, sizeof(junk), end);
		assert_int_equal(reopen(f), IDW_ECORRUPT);
		assert_non_null(strstr(f->why, "audit entry 3 "));
		assert_int_equal(file_size(f->path), end + (off_t)sizeof(junk));
		flip_byte(f->path, (off_t)(offs[2] + ENTRY_HDR + 1));
		assert_int_equal(reopen(f), 0);
		assert_int_equal(f->a.found.torn_bytes, sizeof(junk));
		assert_int_equal(f->a.seq, 7);
	}

	/* A whole header but only part of the body. */
	{
		off_t end = file_size(f->path);

		append(f, PP_B, "torn body");
		assert_int_equal(truncate(f->path, end + ENTRY_HDR + 5), 0);
		assert_int_equal(reopen(f), 0);
		assert_int_equal(f->a.found.torn_bytes, ENTRY_HDR + 5);
		assert_int_equal(f->a.seq, 8);
		arr = recent(f, PP_B, 5);
		assert_int_equal(cJSON_GetArraySize(arr), 0);
		cJSON_Delete(arr);
	}
}

static void test_unlinked_log(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {.action = "access", .result = "allowed"};

	open_unlocked(f);
	append(f, PP_A, "before");
	assert_false(f->a.broken);
	assert_int_equal(unlink(f->path), 0);
	/* Deleted under us: no entry is written, the log is broken. */
	assert_int_equal(audit_append(&f->a, &ev), IDW_EIO);
	assert_true(f->a.broken);
	assert_non_null(strstr(f->a.broken_why, "link"));
	assert_int_equal(f->a.seq, 1);
	/* And stays broken: every later release is denied. */
	assert_int_equal(audit_append(&f->a, &ev), IDW_EIO);
	assert_true(f->a.broken);
}

static void test_failed_write(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {.action = "access", .result = "allowed"};
	uint64_t end;
	int ro;

	open_unlocked(f);
	append(f, PP_A, "before");
	end = f->a.end;
	/* The same file, but writes fail. */
	ro = open(f->path, O_RDONLY);
	assert_true(ro >= 0);
	assert_true(dup2(ro, f->a.fd) >= 0);
	close(ro);
	assert_int_equal(audit_append(&f->a, &ev), IDW_EIO);
	assert_true(f->a.broken);
	assert_non_null(strstr(f->a.broken_why, "writing"));
	assert_int_equal(f->a.seq, 1);
	assert_int_equal(f->a.end, end);
	assert_int_equal(file_size(f->path), (off_t)end);
	/* A restart on a good file heals it. */
	assert_int_equal(reopen(f), 0);
	assert_false(f->a.broken);
	append(f, PP_A, "after");
	assert_int_equal(f->a.seq, 2);
}

static void test_entry_fields(void **state)
{
	static const char *const fields[] = {
		"seq",	  "time",	 "principal", "claimed_actor",
		"action", "passport_id", "platform",  "purpose",
		"result", "reason",
	};
	struct fx *f = *state;
	struct audit_event ev = {
		.principal = "local",
		.claimed_actor = "claude-code",
		.action = "access",
		.passport_id = PP_A,
		.platform = "openai",
		.purpose = "deploy the release PURPOSE-CANARY",
		.result = "denied",
		.reason = "passport is suspended REASON-CANARY",
	};
	const cJSON *e, *it;
	uint8_t *img;
	int64_t t;
	size_t n;
	cJSON *arr;
	int count = 0;

	open_unlocked(f);
	assert_int_equal(audit_append(&f->a, &ev), 0);
	arr = recent(f, PP_A, 10);
	e = cJSON_GetArrayItem(arr, 0);
	/* Exactly these fields: an event has no room for a value. */
	cJSON_ArrayForEach(it, e)
	{
		size_t i;

		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (strcmp(it->string, fields[i]) == 0)
				break;
		if (i == sizeof(fields) / sizeof(fields[0]))
			fail_msg("unexpected audit field '%s'", it->string);
		count++;
	}
	assert_int_equal(count, sizeof(fields) / sizeof(fields[0]));
	assert_int_equal(idw_json_int(e, "seq", 0), 1);
	assert_int_equal(idw_time_parse(idw_json_str(e, "time"), 0, &t), 0);
	assert_true(t >= idw_now() - 60 && t <= idw_now());
	assert_string_equal(idw_json_str(e, "principal"), "local");
	assert_string_equal(idw_json_str(e, "claimed_actor"), "claude-code");
	assert_string_equal(idw_json_str(e, "action"), "access");
	assert_string_equal(idw_json_str(e, "passport_id"), PP_A);
	assert_string_equal(idw_json_str(e, "platform"), "openai");
	assert_string_equal(idw_json_str(e, "purpose"), ev.purpose);
	assert_string_equal(idw_json_str(e, "result"), "denied");
	assert_string_equal(idw_json_str(e, "reason"), ev.reason);
	cJSON_Delete(arr);

	/* Absent fields are null, not missing. */
	memset(&ev, 0, sizeof(ev));
	ev.action = "lock";
	assert_int_equal(audit_append(&f->a, &ev), 0);
	arr = recent(f, NULL, 1);
	e = cJSON_GetArrayItem(arr, 0);
	assert_int_equal(cJSON_GetArraySize(e), 10);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "principal")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(e, "reason")));
	cJSON_Delete(arr);

	/* Bodies are encrypted, passport ids only appear as keyed tags. */
	img = file_bytes(f->path, &n);
	assert_null(memmem(img, n, "PURPOSE-CANARY", 14));
	assert_null(memmem(img, n, "REASON-CANARY", 13));
	assert_null(memmem(img, n, PP_A, strlen(PP_A)));
	assert_null(memmem(img, n, "claude-code", 11));
	assert_null(memmem(img, n, f->key, sizeof(f->key)));
	free(img);
}

/* Entries as large as the body bound allows, and one over it. */
static void test_big_entries(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {.action = "access", .result = "allowed"};
	char *big = malloc(70000);
	cJSON *arr;

	assert_non_null(big);
	open_unlocked(f);
	memset(big, 'p', 60000);
	big[60000] = '\0';
	ev.purpose = big;
	assert_int_equal(audit_append(&f->a, &ev), 0);
	memset(big, 'p', 69999);
	big[69999] = '\0';
	assert_int_equal(audit_append(&f->a, &ev), IDW_ETOOBIG);
	/* Too big for an entry is the caller's fault, not a broken log. */
	assert_false(f->a.broken);
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.seq, 1);
	arr = recent(f, NULL, 5);
	assert_int_equal(
		strlen(idw_json_str(cJSON_GetArrayItem(arr, 0), "purpose")),
		60000);
	cJSON_Delete(arr);
	free(big);
}

static cJSON *newest(struct fx *f, int i)
{
	cJSON *arr = recent(f, NULL, 100), *e;

	e = cJSON_DetachItemFromArray(arr, i);
	cJSON_Delete(arr);
	return e;
}

/* Events before unlock wait in memory and keep the time they happened. */
static void test_held_until_unlock(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {.principal = "local",
				 .action = "failed unlock",
				 .result = "failed",
				 .reason = "wrong passphrase",
				 .time = 1700000000};
	struct audit_event rel = {
		.action = "access", .passport_id = PP_A, .result = "allowed"};
	int64_t t;
	cJSON *e;

	assert_int_equal(audit_open(&f->a, f->path), 0);
	assert_int_equal(audit_append(&f->a, &ev), IDW_ELOCKED);
	ev.time += 60;
	ev.reason = "second try";
	assert_int_equal(audit_append(&f->a, &ev), IDW_ELOCKED);
	/* A release cannot wait: what is kept is its refusal. */
	assert_int_equal(audit_append(&f->a, &rel), IDW_ELOCKED);
	assert_int_equal(f->a.nheld, 3);
	assert_int_equal(file_size(f->path), HDR_LEN);
	assert_int_equal(audit_unlock(&f->a, f->key, f->why, sizeof(f->why)),
			 0);
	assert_int_equal(f->a.nheld, 0);
	assert_int_equal(f->a.seq, 3);
	e = newest(f, 2);
	assert_string_equal(idw_json_str(e, "reason"), "wrong passphrase");
	assert_int_equal(idw_time_parse(idw_json_str(e, "time"), 0, &t), 0);
	assert_int_equal(t, 1700000000);
	cJSON_Delete(e);
	e = newest(f, 1);
	assert_int_equal(idw_time_parse(idw_json_str(e, "time"), 0, &t), 0);
	assert_int_equal(t, 1700000060);
	cJSON_Delete(e);
	e = newest(f, 0);
	assert_string_equal(idw_json_str(e, "result"), "denied");
	assert_non_null(strstr(idw_json_str(e, "reason"), "nothing was"));
	cJSON_Delete(e);
}

/*
 * A full disk (here RLIMIT_FSIZE, SIGXFSZ ignored as the agent does): the
 * release is refused and kept as a refusal, nothing partial stays in the
 * file, and once there is room the held events go first, none lost.
 */
static void test_full_disk_heals(void **state)
{
	struct fx *f = *state;
	struct audit_event rel = {.principal = "local",
				  .action = "access",
				  .passport_id = PP_A,
				  .purpose = "deploy",
				  .result = "allowed"};
	struct audit_event cr = {.action = "creation", .result = "ok"};
	struct rlimit old, rl;
	uint64_t end;
	cJSON *e;

	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	open_unlocked(f);
	append(f, PP_A, "one");
	append(f, PP_B, "two");
	end = f->a.end;
	rl = old;
	rl.rlim_cur = (rlim_t)end + 10;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	assert_int_equal(audit_append(&f->a, &rel), IDW_EIO);
	assert_true(f->a.broken);
	assert_non_null(strstr(f->a.broken_why, "size limit"));
	assert_int_equal(audit_append(&f->a, &cr), IDW_EIO);
	assert_int_equal(file_size(f->path), (off_t)end);
	assert_int_equal(f->a.seq, 2);
	assert_int_equal(f->a.nheld, 2);
	/* Still full: still refused, still held. */
	assert_int_equal(audit_retry(&f->a), IDW_EIO);
	assert_int_equal(file_size(f->path), (off_t)end);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	/* Room again: the next append writes what waited, then itself. */
	append(f, PP_A, "after");
	assert_false(f->a.broken);
	assert_int_equal(f->a.seq, 5);
	e = newest(f, 2);
	assert_string_equal(idw_json_str(e, "action"), "access");
	assert_string_equal(idw_json_str(e, "result"), "denied");
	assert_string_equal(idw_json_str(e, "purpose"), "deploy");
	assert_non_null(strstr(idw_json_str(e, "reason"), "size limit"));
	cJSON_Delete(e);
	e = newest(f, 1);
	assert_string_equal(idw_json_str(e, "action"), "creation");
	cJSON_Delete(e);
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.seq, 5);
	assert_int_equal(f->a.found.damaged, 0);
}

static bool critical_a(void *ctx, const char *id)
{
	(void)ctx;
	return strcmp(id, PP_A) == 0;
}

/* Critical passports sync at once; the rest within the delay. */
static void test_sync_grouped(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {.action = "lock", .result = "ok"};
	uint64_t due;

	open_unlocked(f);
	append(f, PP_B, "standard");
	assert_true(f->a.dirty_ms != 0);
	due = audit_sync_due(&f->a);
	assert_int_equal(due, f->a.dirty_ms + AUDIT_SYNC_DELAY_MS);
	audit_tick(&f->a, due - 1);
	assert_true(f->a.dirty_ms != 0);
	audit_tick(&f->a, due);
	assert_int_equal(f->a.dirty_ms, 0);
	assert_int_equal(audit_sync_due(&f->a), 0);
	append(f, PP_B, "again");
	assert_true(f->a.dirty_ms != 0);
	ev.sync = true;
	assert_int_equal(audit_append(&f->a, &ev), 0);
	assert_int_equal(f->a.dirty_ms, 0);
	f->a.critical = critical_a;
	append(f, PP_A, "critical");
	assert_int_equal(f->a.dirty_ms, 0);
	append(f, PP_B, "standard");
	assert_true(f->a.dirty_ms != 0);
	/* Locking syncs. */
	audit_lock(&f->a);
	assert_int_equal(f->a.dirty_ms, 0);
}

/* Cut or grown under the writer: refused, and a cut does not heal. */
static void test_changed_under_writer(void **state)
{
	struct fx *f = *state;
	struct audit_event ev = {.action = "lock", .result = "ok"};
	uint8_t junk[7] = {0};

	open_unlocked(f);
	append(f, PP_A, "a");
	append(f, PP_A, "b");
	write_at(f->path, junk, sizeof(junk), file_size(f->path));
	assert_int_equal(audit_append(&f->a, &ev), IDW_EIO);
	assert_non_null(strstr(f->a.broken_why, "did not write"));
	/* Bytes we did not write are cut before the next entry. */
	assert_int_equal(audit_retry(&f->a), 0);
	assert_false(f->a.broken);
	assert_int_equal(f->a.seq, 3);
	assert_int_equal(file_size(f->path), (off_t)f->a.end);
	assert_int_equal(truncate(f->path, file_size(f->path) - 10), 0);
	assert_int_equal(audit_append(&f->a, &ev), IDW_EIO);
	assert_true(f->a.cut);
	assert_non_null(strstr(f->a.broken_why, "cut"));
	assert_int_equal(audit_retry(&f->a), IDW_EIO);
	assert_true(f->a.broken);
}

/* From a checkpoint the unlock reads only what follows it. */
static void test_walk_from_mark(void **state)
{
	struct fx *f = *state;
	struct audit_mark m;
	uint64_t offs[16];

	open_unlocked(f);
	for (int i = 0; i < 5; i++)
		append(f, PP_A, "before");
	audit_head_mark(&f->a, &m);
	m.n = 3;
	assert_int_equal(audit_append_anchor(&f->a, 3, "checkpoint", NULL, "ok",
					     "vouches", NULL),
			 0);
	for (int i = 0; i < 3; i++)
		append(f, PP_B, "after");
	audit_close(&f->a);
	assert_int_equal(entry_offsets(f->path, offs, 16), 9);
	/* Damage before the mark is not walked at unlock. */
	flip_byte(f->path, (off_t)(offs[1] + ENTRY_HDR + 2));
	audit_init(&f->a);
	assert_int_equal(audit_open(&f->a, f->path), 0);
	assert_int_equal(
		audit_unlock_at(&f->a, f->key, &m, f->why, sizeof(f->why)), 0);
	assert_true(f->a.found.mark_ok);
	assert_int_equal(f->a.found.damaged, 0);
	assert_int_equal(f->a.found.after_mark, 3);
	assert_int_equal(f->a.found.anchor_n, 3);
	assert_int_equal(f->a.found.anchor_seq, 6);
	assert_int_equal(f->a.seq, 9);
	/* Without the mark the whole file is walked. */
	assert_int_equal(reopen(f), 0);
	assert_int_equal(f->a.found.damaged, 2);
	assert_int_equal(f->a.seq, 9);
	/* Cut below the mark: not found, and the walk says where it ends. */
	audit_close(&f->a);
	assert_int_equal(truncate(f->path, (off_t)offs[3]), 0);
	audit_init(&f->a);
	assert_int_equal(audit_open(&f->a, f->path), 0);
	assert_int_equal(
		audit_unlock_at(&f->a, f->key, &m, f->why, sizeof(f->why)), 0);
	assert_false(f->a.found.mark_ok);
	assert_int_equal(f->a.found.last_seq, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_header, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_append_and_recent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_chain_breaks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_length_not_cut,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unlinked_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failed_write, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_entry_fields, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_big_entries, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_held_until_unlock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_disk_heals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sync_grouped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_changed_under_writer,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_from_mark, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
