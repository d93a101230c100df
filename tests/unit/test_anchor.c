/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/anchor.c on an agent built as agentd/main.c builds
 * one: checkpoints in the vault after changes, at lock and every 1,000
 * entries; the cross-check at unlock when either file was cut; the
 * re-anchor; the "unverified" note after a start that was not clean;
 * critical passports synced before the value leaves.
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

#include "tests/unit/agentfx.h"
#include "agentd/dispatch.h"
#include "common/buf.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"
#include "sandbox/shield.h"

#define PASS "anchor test passphrase"
#define PASSLEN (sizeof(PASS) - 1)
#define VALUE "sk-anchor-VALUE-5a5a5a"
#define JOURNAL_OFF 12288
#define REC_HDR 36

struct fx {
	char dir[64];
	struct agent a;
	struct peer p;
	struct reply rep;
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

static cJSON *call(struct fx *f, const char *json, const char *secret)
{
	agentfx_reply_free(&f->rep);
	dispatch_request(&f->a, &f->p, json, strlen(json),
			 (const uint8_t *)secret, secret ? strlen(secret) : 0,
			 secret != NULL, &f->rep);
	assert_non_null(f->rep.json);
	return f->rep.json;
}

static void ok(struct fx *f)
{
	if (!idw_json_bool(f->rep.json, "ok", false))
		fail_msg("refused: %s", idw_json_str(f->rep.json, "message"));
}

static void open_files(struct fx *f)
{
	assert_int_equal(idw_vault_open(f->a.vault_path, &f->a.vault), 0);
	assert_int_equal(audit_open(&f->a.audit, f->a.audit_path), 0);
}

static void close_files(struct fx *f)
{
	agent_lock(&f->a);
	idw_vault_close(f->a.vault);
	f->a.vault = NULL;
	audit_close(&f->a.audit);
	audit_init(&f->a.audit);
}

static int unlock(struct fx *f)
{
	char why[300];

	return agent_unlock(&f->a, (const uint8_t *)PASS, PASSLEN, why,
			    sizeof(why));
}

/* A vault with its audit key, as verb init leaves it, then unlocked. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct agent *a;
	uint8_t key[AUDIT_KEY_LEN];
	cJSON *meta;

	if (f == NULL)
		return -1;
	a = &f->a;
	snprintf(f->dir, sizeof(f->dir), "/tmp/idw-anchor-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(a->home, sizeof(a->home), "%s", f->dir);
	snprintf(a->vault_path, sizeof(a->vault_path), "%s/vault.idw", f->dir);
	snprintf(a->audit_path, sizeof(a->audit_path), "%s/audit.idw", f->dir);
	a->proc_status_fd = -1;
	store_init(&a->store);
	audit_init(&a->audit);
	open_files(f);
	snprintf(f->p.principal, sizeof(f->p.principal), "local");
	f->p.hello_done = true;
	if (idw_shield_init() != 0 ||
	    idw_vault_init(a->vault, (const uint8_t *)PASS, PASSLEN,
			   IDW_KDF_MIN) != 0)
		return -1;
	randombytes_buf(key, sizeof(key));
	meta = cJSON_CreateObject();
	cJSON_AddStringToObject(meta, "purpose", "audit log key");
	if (store_put(&a->store, a->vault, "config", "audit_key", meta, key,
		      sizeof(key)) != 0)
		return -1;
	agent_lock(a);
	if (unlock(f) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char path[300];

	agentfx_reply_free(&f->rep);
	close_files(f);
	unlink(f->a.vault_path);
	unlink(f->a.audit_path);
	snprintf(path, sizeof(path), "%s/vault.idw.tmp", f->dir);
	unlink(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void create(struct fx *f, const char *tier, char id[20])
{
	char buf[400];

	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"create\",\"name\":\"n\",\"credential_type\":"
		 "\"api-key\",\"human_owner\":\"alice\",\"access_tier\":"
		 "\"%s\"}",
		 tier);
	call(f, buf, VALUE);
	ok(f);
	memcpy(id, idw_json_str(f->rep.json, "id"), 20);
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

static void test_checkpoints(void **state)
{
	struct fx *f = *state;
	struct anchor_state *st = &f->a.anchor;
	struct store_item *it;
	uint64_t n;
	char id[20];
	cJSON *o;

	/* The unlock owes one; the first request pays it. */
	assert_true(st->due);
	call(f, "{\"verb\":\"status\"}", NULL);
	assert_false(st->due);
	assert_true(st->have);
	n = st->mark.n;
	it = store_find(&f->a.store, "checkpoint", "audit");
	assert_non_null(it);
	assert_int_equal(idw_json_int(it->meta, "n", 0), (int64_t)n);
	/* Right after it, the log names it. */
	assert_int_equal(f->a.audit.seq, st->mark.seq + 1);
	assert_int_equal(f->a.audit.found.anchor_n, n);
	/* A change to the vault: a new checkpoint vouching for its entry. */
	create(f, "standard", id);
	assert_int_equal(st->mark.n, n + 1);
	assert_int_equal(st->mark.seq + 1, f->a.audit.seq);
	/* A read changes nothing. */
	call(f, "{\"verb\":\"list\"}", NULL);
	assert_int_equal(st->mark.n, n + 1);
	/* 1,000 entries without a change. */
	for (int i = 0; i < ANCHOR_EVERY; i++)
		assert_int_equal(audit_append(&f->a.audit,
					      &(struct audit_event){
						      .action = "token use",
						      .result = "ok"}),
				 0);
	call(f, "{\"verb\":\"list\"}", NULL);
	assert_int_equal(st->mark.n, n + 2);
	/* Routine checkpoints stay out of the listing, on request aside. */
	o = call(f, "{\"verb\":\"audit\",\"action\":\"checkpoint\"}", NULL);
	ok(f);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "entries")),
			 3);
	/* Lock writes one; the next unlock starts from it, nothing after. */
	call(f, "{\"verb\":\"lock\"}", NULL);
	assert_int_equal(unlock(f), 0);
	assert_true(st->have);
	assert_false(st->suspended);
	assert_int_equal(st->mark.n, n + 3);
	assert_true(f->a.audit.found.mark_ok);
	assert_int_equal(f->a.audit.found.after_mark, 0);
	o = call(f, "{\"verb\":\"audit_verify\"}", NULL);
	ok(f);
	assert_true(idw_json_bool(o, "intact", false));
}

/* Byte offset of each journal record of vault.idw. */
static size_t records(const char *path, uint64_t *offs, size_t max)
{
	struct stat st;
	uint8_t h[4];
	size_t k = 0;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	for (uint64_t off = JOURNAL_OFF; off < (uint64_t)st.st_size && k < max;
	     k++) {
		assert_int_equal(pread(fd, h, 4, (off_t)off), 4);
		offs[k] = off;
		off += REC_HDR + idw_le32_get(h);
	}
	close(fd);
	return k;
}

static void test_vault_cut(void **state)
{
	struct fx *f = *state;
	uint64_t offs[64];
	char id[20];
	size_t n;
	cJSON *o;

	create(f, "standard", id);
	create(f, "standard", id);
	call(f, "{\"verb\":\"lock\"}", NULL);
	close_files(f);
	/* Drop the last record: the checkpoint written at lock. */
	n = records(f->a.vault_path, offs, 64);
	assert_true(n > 3);
	assert_int_equal(truncate(f->a.vault_path, (off_t)offs[n - 1]), 0);
	open_files(f);
	assert_int_equal(unlock(f), 0);
	assert_true(f->a.anchor.suspended);
	assert_non_null(strstr(f->a.anchor.why, "journal was cut"));
	o = call(f, "{\"verb\":\"status\"}", NULL);
	assert_non_null(strstr(idw_json_str(o, "audit_anchor"), "cut"));
	o = call(f, "{\"verb\":\"audit_verify\"}", NULL);
	assert_false(idw_json_bool(o, "intact", true));
	assert_true(says(o, "problems", "journal was cut"));
	/* No checkpoint writes over the evidence, not even at a lock... */
	create(f, "standard", id);
	assert_true(f->a.anchor.suspended);
	call(f, "{\"verb\":\"lock\"}", NULL);
	assert_int_equal(unlock(f), 0);
	assert_true(f->a.anchor.suspended);
	o = call(f, "{\"verb\":\"audit\",\"action\":\"checkpoint\"}", NULL);
	assert_string_equal(
		idw_json_str(cJSON_GetArrayItem(
				     cJSON_GetObjectItem(o, "entries"), 0),
			     "result"),
		"failed");
	/* ...until a person re-anchors. */
	assert_int_equal(anchor_reanchor(&f->a, "local", "restored backup"), 0);
	assert_false(f->a.anchor.suspended);
	o = call(f, "{\"verb\":\"audit_verify\"}", NULL);
	assert_true(idw_json_bool(o, "intact", false));
	assert_true(says(o, "notes", "re-anchored at entry"));
	call(f, "{\"verb\":\"lock\"}", NULL);
	assert_int_equal(unlock(f), 0);
	assert_false(f->a.anchor.suspended);
}

/* Byte offset of each entry of audit.idw. */
static size_t entries(const char *path, uint64_t *offs, size_t max)
{
	struct stat st;
	uint8_t h[4];
	size_t k = 0;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	for (uint64_t off = 16; off < (uint64_t)st.st_size && k < max; k++) {
		assert_int_equal(pread(fd, h, 4, (off_t)off), 4);
		offs[k] = off;
		off += 52 + idw_le32_get(h) + 16;
	}
	close(fd);
	return k;
}

static void test_log_cut(void **state)
{
	struct fx *f = *state;
	uint64_t offs[64];
	size_t n;
	char id[20];
	cJSON *o;

	create(f, "standard", id);
	call(f, "{\"verb\":\"lock\"}", NULL);
	close_files(f);
	/* Cut the last two entries: the lock and its checkpoint's anchor. */
	n = entries(f->a.audit_path, offs, 64);
	assert_true(n > 3);
	assert_int_equal(truncate(f->a.audit_path, (off_t)offs[n - 2]), 0);
	open_files(f);
	assert_int_equal(unlock(f), 0);
	assert_true(f->a.anchor.suspended);
	assert_non_null(strstr(f->a.anchor.why, "was cut"));
	o = call(f, "{\"verb\":\"audit_verify\"}", NULL);
	assert_false(idw_json_bool(o, "intact", true));
	assert_true(says(o, "problems", "vault's checkpoint"));
	/* The log deleted outright is the same story. */
	close_files(f);
	assert_int_equal(unlink(f->a.audit_path), 0);
	open_files(f);
	assert_int_equal(unlock(f), 0);
	assert_true(f->a.anchor.suspended);
}

/* A stop that was not clean: the start says which entries it cannot vouch
 * for. */
static void test_unclean_start(void **state)
{
	struct fx *f = *state;
	char id[20];
	cJSON *o;

	create(f, "standard", id);
	for (int i = 0; i < 3; i++) {
		call(f, "{\"verb\":\"list\"}", NULL);
		assert_int_equal(audit_append(&f->a.audit,
					      &(struct audit_event){
						      .action = "token use",
						      .result = "ok"}),
				 0);
	}
	close_files(f); /* no lock verb: no checkpoint */
	open_files(f);
	assert_int_equal(unlock(f), 0);
	assert_false(f->a.anchor.suspended);
	assert_int_equal(f->a.audit.found.after_mark, 3);
	o = call(f, "{\"verb\":\"audit_verify\"}", NULL);
	assert_true(says(o, "notes", "had not stopped cleanly"));
}

/* Critical passports: the entry is on disk (synced) before the value. */
static void test_critical_synced(void **state)
{
	struct fx *f = *state;
	char crit[20], std[20], buf[200];

	create(f, "critical", crit);
	create(f, "standard", std);
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", std);
	call(f, buf, NULL);
	ok(f);
	assert_true(f->a.audit.dirty_ms != 0);
	assert_true(audit_sync(&f->a.audit) == 0);
	snprintf(buf, sizeof(buf),
		 "{\"verb\":\"get\",\"id\":\"%s\",\"purpose\":\"p\"}", crit);
	call(f, buf, NULL);
	ok(f);
	assert_true(f->rep.has_secret);
	assert_int_equal(f->a.audit.dirty_ms, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_checkpoints, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_vault_cut, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_log_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclean_start, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_critical_synced, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
