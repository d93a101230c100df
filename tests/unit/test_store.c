/* SPDX-License-Identifier: ISC */
/*
 * Unit tests of agentd/store.c on a real vault (IDW_KDF_MIN) in a
 * temporary directory: puts, replay through store_apply_cb, full
 * snapshots, deletes, compaction and what reaches the file.
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

#include "agentd/store.h"
#include "agentd/vault.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"
#include "sandbox/shield.h"

#define PASS ((const uint8_t *)"store test passphrase")
#define PASSLEN (sizeof("store test passphrase") - 1)
#define CANARY "sk-live-CANARY-7f3a9c0e5b1d4286"
#define CANARY_NAME "canary-name-4d2b8e"

struct fx {
	char dir[64];
	char path[128];
	struct idw_vault *v;
	struct store s;
};

static int group_setup(void **state)
{
	(void)state;
	if (idw_arena_init(0) != 0 &&
	    idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		return -1;
	/* As the agent does: metadata lives in the arena. */
	idw_arena_cjson_hooks();
	return idw_shield_init() == 0 ? 0 : -1;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/idw-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/vault.idw", f->dir);
	if (idw_vault_open(f->path, &f->v) != 0 ||
	    idw_vault_init(f->v, PASS, PASSLEN, IDW_KDF_MIN) != 0)
		return -1;
	store_init(&f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char tmp[160];

	store_clear(&f->s);
	idw_vault_close(f->v);
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	unlink(tmp);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static cJSON *meta_of(const char *json)
{
	cJSON *j = idw_json_parse(json, strlen(json));

	assert_non_null(j);
	return j;
}

static void put(struct fx *f, const char *kind, const char *id,
		const char *json, const void *value, size_t len)
{
	assert_int_equal(
		store_put(&f->s, f->v, kind, id, meta_of(json), value, len), 0);
}

static void put_str(struct fx *f, const char *kind, const char *id,
		    const char *json, const char *value)
{
	put(f, kind, id, json, value, value ? strlen(value) : 0);
}

static void want_value(struct store *s, const char *kind, const char *id,
		       const void *want, size_t want_len)
{
	struct store_item *it = store_find(s, kind, id);
	uint8_t *v = NULL;
	size_t n = 0;

	assert_non_null(it);
	if (want == NULL) {
		assert_int_equal(store_open_value(it, &v, &n), IDW_ENOENT);
		assert_null(v);
		assert_int_equal(n, 0);
		return;
	}
	assert_int_equal(store_open_value(it, &v, &n), 0);
	assert_int_equal(n, want_len);
	assert_memory_equal(v, want, want_len);
	assert_true(idw_arena_owns(v));
	idw_arena_free(v);
}

static void want_meta(struct store *s, const char *kind, const char *id,
		      const char *json)
{
	struct store_item *it = store_find(s, kind, id);
	cJSON *want = meta_of(json);

	assert_non_null(it);
	assert_true(cJSON_Compare(it->meta, want, 1));
	cJSON_Delete(want);
}

/* Two stores hold the same items, metadata and values. */
static void same_state(struct store *a, struct store *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		struct store_item *x = &a->items[i];
		struct store_item *y = store_find(b, x->kind, x->id);
		uint8_t *vx, *vy;
		size_t nx, ny;

		assert_non_null(y);
		assert_true(cJSON_Compare(x->meta, y->meta, 1));
		assert_int_equal(x->value == NULL, y->value == NULL);
		if (x->value == NULL)
			continue;
		assert_int_equal(store_open_value(x, &vx, &nx), 0);
		assert_int_equal(store_open_value(y, &vy, &ny), 0);
		assert_int_equal(nx, ny);
		assert_memory_equal(vx, vy, nx);
		idw_arena_free(vx);
		idw_arena_free(vy);
	}
}

/* Close the vault and replay it into into (which must be empty). */
static void reopen_into(struct fx *f, struct store *into,
			struct idw_vault_report *rep)
{
	struct idw_vault_report dummy;

	idw_vault_close(f->v);
	f->v = NULL;
	assert_int_equal(idw_vault_open(f->path, &f->v), 0);
	assert_int_equal(idw_vault_unlock(f->v, PASS, PASSLEN, store_apply_cb,
					  into, rep ? rep : &dummy),
			 0);
}

/* The agent's restart: drop the state, replay the file into it. */
static void reopen(struct fx *f)
{
	store_clear(&f->s);
	reopen_into(f, &f->s, NULL);
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
	FILE *fp = fopen(path, "rb");

	assert_non_null(b);
	assert_non_null(fp);
	assert_int_equal(fread(b, 1, n, fp), n);
	fclose(fp);
	*len = n;
	return b;
}

static void test_put_find_count(void **state)
{
	struct fx *f = *state;
	char id[STORE_ID_MAX + 1];
	uint64_t before;

	assert_int_equal(store_count(&f->s, "passport"), 0);
	assert_null(store_find(&f->s, "passport", "pp_a"));
	put_str(f, "passport", "pp_a", "{\"name\":\"a\"}", "value-a");
	put_str(f, "passport", "pp_b", "{\"name\":\"b\"}", "value-b");
	put_str(f, "grant", "pp_a", "{\"scope\":[]}", NULL);
	put_str(f, "config", "audit_key", "{}", "0123456789abcdef");
	assert_int_equal(store_count(&f->s, "passport"), 2);
	assert_int_equal(store_count(&f->s, "grant"), 1);
	assert_int_equal(store_count(&f->s, "config"), 1);
	assert_int_equal(store_count(&f->s, "rule"), 0);
	assert_int_equal(f->s.n, 4);
	/* Kind and id together name an item. */
	assert_string_equal(store_find(&f->s, "passport", "pp_a")->kind,
			    "passport");
	assert_string_equal(store_find(&f->s, "grant", "pp_a")->kind, "grant");
	assert_null(store_find(&f->s, "rule", "pp_a"));
	assert_null(store_find(&f->s, "passport", "pp_"));
	assert_null(store_find(&f->s, "passport", "pp_ab"));
	want_meta(&f->s, "passport", "pp_b", "{\"name\":\"b\"}");
	want_value(&f->s, "passport", "pp_b", "value-b", 7);
	want_value(&f->s, "grant", "pp_a", NULL, 0);

	/* A second put of the same item replaces it, it does not add one. */
	put_str(f, "passport", "pp_a", "{\"name\":\"a2\"}", "value-a2");
	assert_int_equal(store_count(&f->s, "passport"), 2);
	want_meta(&f->s, "passport", "pp_a", "{\"name\":\"a2\"}");
	want_value(&f->s, "passport", "pp_a", "value-a2", 8);

	/* Over-long kind or id: refused, nothing written, meta consumed. */
	before = idw_vault_journal_size(f->v);
	memset(id, 'k', STORE_KIND_MAX);
	id[STORE_KIND_MAX] = '\0';
	assert_int_equal(
		store_put(&f->s, f->v, id, "x", meta_of("{}"), NULL, 0),
		IDW_EINVAL);
	memset(id, 'i', STORE_ID_MAX);
	id[STORE_ID_MAX] = '\0';
	assert_int_equal(
		store_put(&f->s, f->v, "passport", id, meta_of("{}"), NULL, 0),
		IDW_EINVAL);
	assert_int_equal(idw_vault_journal_size(f->v), before);
	assert_int_equal(f->s.n, 4);
	/* The longest that fit. */
	id[STORE_ID_MAX - 1] = '\0';
	put_str(f, "passport", id, "{}", "v");
	id[STORE_KIND_MAX - 1] = '\0';
	put_str(f, id, "x", "{}", NULL);
	assert_non_null(store_find(&f->s, id, "x"));
	reopen(f);
	assert_int_equal(f->s.n, 6);
	assert_non_null(store_find(&f->s, id, "x"));
}

/* Many items: the array grows past its first capacity. */
static void test_many_items(void **state)
{
	struct fx *f = *state;
	char id[32], val[32], json[64];

	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "pp_%04d", i);
		snprintf(val, sizeof(val), "value-%d", i);
		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		put_str(f, "passport", id, json, val);
	}
	assert_int_equal(store_count(&f->s, "passport"), 200);
	for (int i = 0; i < 200; i += 37) {
		snprintf(id, sizeof(id), "pp_%04d", i);
		snprintf(val, sizeof(val), "value-%d", i);
		want_value(&f->s, "passport", id, val, strlen(val));
	}
}

static void test_replay_rebuilds_state(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	struct store b;
	uint8_t bin[300];

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7);
	put_str(f, "passport", "pp_1",
		"{\"name\":\"one\",\"tags\":[\"x\"],\"n\":1.5,\"future\":"
		"{\"kept\":true}}",
		"first");
	put(f, "passport", "pp_2", "{\"name\":\"two\"}", bin, sizeof(bin));
	put_str(f, "rule", "r1", "{\"effect\":\"deny\",\"priority\":100}",
		NULL);
	put_str(f, "passport", "pp_1",
		"{\"name\":\"one, renamed\",\"future\":{\"kept\":true}}",
		"second");
	put_str(f, "passport", "pp_3", "{\"name\":\"three\"}", "3");
	put_str(f, "passport", "pp_3", "{\"name\":\"three\",\"v\":2}", NULL);

	/* Keep this state; replay the file into a second store. */
	store_init(&b);
	reopen_into(f, &b, &rep);
	assert_int_equal(rep.records, 6);
	assert_false(rep.truncated_tail);
	same_state(&f->s, &b);
	same_state(&b, &f->s);
	/* Fields the store does not know survive (DESIGN: kept). */
	want_meta(&b, "passport", "pp_1",
		  "{\"name\":\"one, renamed\",\"future\":{\"kept\":true}}");
	want_value(&b, "passport", "pp_1", "second", 6);
	want_value(&b, "passport", "pp_2", bin, sizeof(bin));
	want_value(&b, "passport", "pp_3", "3", 1);
	want_value(&b, "rule", "r1", NULL, 0);
	store_clear(&b);

	/* The replayed store goes on: puts after a reopen replay too. */
	reopen(f);
	put_str(f, "passport", "pp_4", "{\"name\":\"four\"}", "4");
	store_init(&b);
	reopen_into(f, &b, &rep);
	assert_int_equal(rep.records, 7);
	same_state(&f->s, &b);
	store_clear(&b);
}

static void test_null_value_keeps_old(void **state)
{
	struct fx *f = *state;

	put_str(f, "passport", "pp_k", "{\"name\":\"k\",\"rev\":1}", "kept");
	/* An update of metadata only (revoke, suspend, resume). */
	put_str(f, "passport", "pp_k", "{\"name\":\"k\",\"rev\":2}", NULL);
	want_value(&f->s, "passport", "pp_k", "kept", 4);
	put_str(f, "passport", "pp_k", "{\"name\":\"k\",\"rev\":3}", NULL);
	/* Every record is a full snapshot: the last one alone has both. */
	reopen(f);
	want_meta(&f->s, "passport", "pp_k", "{\"name\":\"k\",\"rev\":3}");
	want_value(&f->s, "passport", "pp_k", "kept", 4);
	/* And again after another metadata update on the replayed store. */
	put_str(f, "passport", "pp_k", "{\"name\":\"k\",\"rev\":4}", NULL);
	reopen(f);
	want_meta(&f->s, "passport", "pp_k", "{\"name\":\"k\",\"rev\":4}");
	want_value(&f->s, "passport", "pp_k", "kept", 4);
	/* A new value replaces the old one. */
	put_str(f, "passport", "pp_k", "{\"name\":\"k\",\"rev\":5}", "new");
	reopen(f);
	want_value(&f->s, "passport", "pp_k", "new", 3);
	/* A new item put without a value has none. */
	put_str(f, "grant", "g1", "{}", NULL);
	reopen(f);
	want_value(&f->s, "grant", "g1", NULL, 0);
}

static void append_del(struct fx *f, const char *kind, const char *id)
{
	struct idw_vault_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.op = IDW_VAULT_DEL;
	rec.kind = kind;
	rec.id = id;
	rec.json = "{}";
	rec.json_len = 2;
	assert_int_equal(idw_vault_append(f->v, &rec), 0);
	/* As the agent applies a record once it is on disk. */
	assert_int_equal(store_apply_cb(&f->s, &rec), 0);
}

static void test_del_op(void **state)
{
	struct fx *f = *state;

	put_str(f, "passport", "pp_x", "{\"name\":\"x\"}", "x");
	put_str(f, "passport", "pp_y", "{\"name\":\"y\"}", "y");
	put_str(f, "passport", "pp_z", "{\"name\":\"z\"}", "z");
	append_del(f, "passport", "pp_x");
	assert_null(store_find(&f->s, "passport", "pp_x"));
	assert_int_equal(store_count(&f->s, "passport"), 2);
	/* The others are intact (the last item moved into the hole). */
	want_value(&f->s, "passport", "pp_y", "y", 1);
	want_value(&f->s, "passport", "pp_z", "z", 1);
	/* Deleting what is not there is harmless; the kind must match. */
	append_del(f, "passport", "pp_none");
	append_del(f, "grant", "pp_y");
	assert_int_equal(store_count(&f->s, "passport"), 2);
	reopen(f);
	assert_null(store_find(&f->s, "passport", "pp_x"));
	assert_int_equal(store_count(&f->s, "passport"), 2);
	want_value(&f->s, "passport", "pp_y", "y", 1);
	/* Put after delete: the item is back with only the new state. */
	put_str(f, "passport", "pp_x", "{\"name\":\"x again\"}", NULL);
	reopen(f);
	want_meta(&f->s, "passport", "pp_x", "{\"name\":\"x again\"}");
	want_value(&f->s, "passport", "pp_x", NULL, 0);
	/* The last item deleted. */
	append_del(f, "passport", "pp_z");
	append_del(f, "passport", "pp_y");
	append_del(f, "passport", "pp_x");
	assert_int_equal(f->s.n, 0);
	reopen(f);
	assert_int_equal(f->s.n, 0);
}

static void test_apply_refuses_bad_records(void **state)
{
	struct fx *f = *state;
	struct idw_vault_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.op = IDW_VAULT_PUT;
	rec.kind = "passport";
	rec.id = "pp_bad";
	rec.json = "[1,2]";
	rec.json_len = 5;
	assert_int_equal(store_apply_cb(&f->s, &rec), IDW_ECORRUPT);
	rec.json = "{\"a\":";
	rec.json_len = 5;
	assert_int_equal(store_apply_cb(&f->s, &rec), IDW_ECORRUPT);
	rec.json = "{} x";
	rec.json_len = 4;
	assert_int_equal(store_apply_cb(&f->s, &rec), IDW_ECORRUPT);
	rec.json = "{}";
	rec.json_len = 2;
	rec.op = 9;
	assert_int_equal(store_apply_cb(&f->s, &rec), IDW_ECORRUPT);
	assert_int_equal(f->s.n, 0);
	/* No JSON at all: an empty object. */
	rec.op = IDW_VAULT_PUT;
	rec.json = "";
	rec.json_len = 0;
	rec.value = (const uint8_t *)"v";
	rec.value_len = 1;
	assert_int_equal(store_apply_cb(&f->s, &rec), 0);
	want_meta(&f->s, "passport", "pp_bad", "{}");
	want_value(&f->s, "passport", "pp_bad", "v", 1);
}

static void test_compaction(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;
	uint8_t big[1024];
	char json[96], tmp[160];
	struct store b;
	off_t before, after;
	uint64_t jbefore;

	randombytes_buf(big, sizeof(big));
	put(f, "passport", "pp_hot", "{\"n\":0}", big, sizeof(big));
	put_str(f, "passport", "pp_cold", "{\"name\":\"cold\"}", "cold value");
	put_str(f, "rule", "r1", "{\"priority\":1}", NULL);
	put_str(f, "passport", "pp_gone", "{}", "gone");
	append_del(f, "passport", "pp_gone");
	/* Each update carries the 1 KiB value along: a full snapshot. */
	for (int i = 1; i <= 300; i++) {
		snprintf(json, sizeof(json), "{\"n\":%d}", i);
		put(f, "passport", "pp_hot", json, NULL, 0);
	}
	before = file_size(f->path);
	jbefore = idw_vault_journal_size(f->v);
	assert_true(jbefore > 300 * 1024);
	assert_int_equal(store_compact(&f->s, f->v), 0);
	after = file_size(f->path);
	assert_true(after < before);
	/* Three live items of about 1 KiB between them remain. */
	assert_true(idw_vault_journal_size(f->v) < jbefore / 100);
	assert_int_equal(before - after,
			 (off_t)(jbefore - idw_vault_journal_size(f->v)));
	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	assert_int_equal(access(tmp, F_OK), -1);
	/* Nothing lost: one record per live item. */
	store_init(&b);
	reopen_into(f, &b, &rep);
	assert_int_equal(rep.records, 3);
	same_state(&f->s, &b);
	want_meta(&b, "passport", "pp_hot", "{\"n\":300}");
	want_value(&b, "passport", "pp_hot", big, sizeof(big));
	want_value(&b, "passport", "pp_cold", "cold value", 10);
	want_value(&b, "rule", "r1", NULL, 0);
	assert_null(store_find(&b, "passport", "pp_gone"));
	store_clear(&b);
	/* The compacted vault takes appends and replays them. */
	put_str(f, "passport", "pp_new", "{}", "new");
	reopen(f);
	assert_int_equal(f->s.n, 4);
	want_value(&f->s, "passport", "pp_new", "new", 3);
	want_value(&f->s, "passport", "pp_hot", big, sizeof(big));
	/* Compacting an already compact vault changes nothing. */
	before = file_size(f->path);
	assert_int_equal(store_compact(&f->s, f->v), 0);
	assert_int_equal(file_size(f->path), before);
	reopen(f);
	assert_int_equal(f->s.n, 4);
}

static void test_compaction_empty(void **state)
{
	struct fx *f = *state;
	struct idw_vault_report rep;

	assert_int_equal(store_compact(&f->s, f->v), 0);
	assert_int_equal(idw_vault_journal_size(f->v), 0);
	reopen_into(f, &f->s, &rep);
	assert_int_equal(rep.records, 0);
	assert_int_equal(f->s.n, 0);
}

static void test_clear(void **state)
{
	struct fx *f = *state;

	put_str(f, "passport", "pp_c1", "{}", "c1");
	put_str(f, "passport", "pp_c2", "{}", "c2");
	assert_non_null(f->s.items);
	store_clear(&f->s);
	assert_null(f->s.items);
	assert_int_equal(f->s.n, 0);
	assert_int_equal(f->s.cap, 0);
	assert_null(store_find(&f->s, "passport", "pp_c1"));
	assert_int_equal(store_count(&f->s, "passport"), 0);
	/* Clearing twice, and an empty store, is fine. */
	store_clear(&f->s);
	/* The file still holds everything. */
	reopen(f);
	assert_int_equal(store_count(&f->s, "passport"), 2);
	/* A cleared store takes puts again. */
	store_clear(&f->s);
	put_str(f, "passport", "pp_c3", "{}", "c3");
	assert_int_equal(f->s.n, 1);
}

static void test_open_value_exact(void **state)
{
	struct fx *f = *state;
	uint8_t all[256], *max = malloc(STORE_VALUE_MAX), *v;
	size_t n;

	assert_non_null(max);
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	randombytes_buf(max, STORE_VALUE_MAX);
	put(f, "passport", "pp_all", "{}", all, sizeof(all));
	put(f, "passport", "pp_nul", "{}", "\0\0a\0", 4);
	put(f, "passport", "pp_one", "{}", "\n", 1);
	put(f, "passport", "pp_max", "{}", max, STORE_VALUE_MAX);
	want_value(&f->s, "passport", "pp_all", all, sizeof(all));
	want_value(&f->s, "passport", "pp_nul", "\0\0a\0", 4);
	want_value(&f->s, "passport", "pp_one", "\n", 1);
	want_value(&f->s, "passport", "pp_max", max, STORE_VALUE_MAX);
	reopen(f);
	want_value(&f->s, "passport", "pp_all", all, sizeof(all));
	want_value(&f->s, "passport", "pp_nul", "\0\0a\0", 4);
	want_value(&f->s, "passport", "pp_one", "\n", 1);
	want_value(&f->s, "passport", "pp_max", max, STORE_VALUE_MAX);
	/* The value is kept shielded, never in the clear in the item. */
	assert_null(
		memmem(store_find(&f->s, "passport", "pp_all")->value,
		       idw_shielded_len(
			       store_find(&f->s, "passport", "pp_all")->value),
		       all + 16, 32));
	/* Without the shield key (lock) nothing opens. */
	idw_shield_wipe_key();
	v = (uint8_t *)1;
	assert_int_equal(
		store_open_value(store_find(&f->s, "passport", "pp_all"), &v,
				 &n),
		IDW_ELOCKED);
	assert_null(v);
	assert_int_equal(n, 0);
	store_clear(&f->s);
	assert_int_equal(idw_shield_init(), 0);
	free(max);
}

static void test_values_not_in_file(void **state)
{
	struct fx *f = *state;
	uint8_t *img;
	size_t n;

	put_str(f, "passport", "pp_canary",
		"{\"name\":\"" CANARY_NAME "\",\"notes\":\"meta\"}", CANARY);
	put_str(f, "passport", "pp_canary", "{\"name\":\"" CANARY_NAME "\"}",
		NULL);
	img = file_bytes(f->path, &n);
	assert_null(memmem(img, n, CANARY, strlen(CANARY)));
	/* Not even a part of it, nor the metadata. */
	assert_null(memmem(img, n, "CANARY-7f3a", 11));
	assert_null(memmem(img, n, CANARY_NAME, strlen(CANARY_NAME)));
	assert_null(memmem(img, n, "pp_canary", 9));
	assert_null(memmem(img, n, PASS, PASSLEN));
	free(img);
	/* The compacted file neither. */
	assert_int_equal(store_compact(&f->s, f->v), 0);
	img = file_bytes(f->path, &n);
	assert_null(memmem(img, n, CANARY, strlen(CANARY)));
	assert_null(memmem(img, n, CANARY_NAME, strlen(CANARY_NAME)));
	free(img);
	/* Metadata never carries the value. */
	{
		char *json = idw_json_print(
			store_find(&f->s, "passport", "pp_canary")->meta);

		assert_null(strstr(json, CANARY));
		cJSON_free(json);
	}
	reopen(f);
	want_value(&f->s, "passport", "pp_canary", CANARY, strlen(CANARY));
}

/* A change is written first and applied only once on disk. */
static void test_write_before_apply(void **state)
{
	struct fx *f = *state;

	put_str(f, "passport", "pp_w", "{\"v\":1}", "w");
	idw_vault_lock(f->v);
	assert_int_equal(store_put(&f->s, f->v, "passport", "pp_w",
				   meta_of("{\"v\":2}"), NULL, 0),
			 IDW_ELOCKED);
	assert_int_equal(store_put(&f->s, f->v, "passport", "pp_new",
				   meta_of("{}"), (const uint8_t *)"n", 1),
			 IDW_ELOCKED);
	want_meta(&f->s, "passport", "pp_w", "{\"v\":1}");
	assert_null(store_find(&f->s, "passport", "pp_new"));
	assert_int_equal(f->s.n, 1);
	reopen(f);
	want_meta(&f->s, "passport", "pp_w", "{\"v\":1}");
	want_value(&f->s, "passport", "pp_w", "w", 1);
	assert_int_equal(f->s.n, 1);
}

/*
 * The summary filters read first: never "no" for a string an array holds
 * (the member's name counts), mostly "no" for others, and it follows a
 * new snapshot.  store_pos is where the item sits.
 */
static void test_bloom_summary(void **state)
{
	struct fx *f = *state;
	const struct store_item *it;
	char other[32];
	int said_no = 0;

	put(f, "passport", "pp_b",
	    "{\"platforms\":[\"github\",\"aws\"],"
	    "\"tags\":[\"ci\"],\"name\":\"gitlab\"}",
	    "v", 1);
	it = store_find(&f->s, "passport", "pp_b");
	assert_non_null(it);
	assert_true(store_may_hold(it, "platforms", "github"));
	assert_true(store_may_hold(it, "platforms", "aws"));
	assert_true(store_may_hold(it, "tags", "ci"));
	for (int i = 0; i < 100; i++) {
		snprintf(other, sizeof(other), "plat%d", i);
		said_no += !store_may_hold(it, "platforms", other);
	}
	assert_true(said_no >= 80);
	/* Wrong member, or a plain string member: not in the summary. */
	said_no = !store_may_hold(it, "tags", "github") +
		  !store_may_hold(it, "platforms", "gitlab");
	assert_true(said_no >= 1);
	put(f, "passport", "pp_b", "{\"platforms\":[\"gitlab\"]}", NULL, 0);
	it = store_find(&f->s, "passport", "pp_b");
	assert_true(store_may_hold(it, "platforms", "gitlab"));
	assert_int_equal(store_pos(&f->s, it), 0);
}

/*
 * Per-kind lists: counts in constant time, each walk meets its kind only,
 * in store order, through removals that move the last item.
 */
static void test_kind_lists(void **state)
{
	struct fx *f = *state;
	char id[32];
	const struct store_item *it, *prev;
	size_t n;

	for (int i = 0; i < 30; i++) {
		snprintf(id, sizeof(id), "x_%02d", i);
		put(f,
		    i % 3 == 0	 ? "grant"
		    : i % 3 == 1 ? "passport"
				 : "rule",
		    id, "{}", NULL, 0);
	}
	assert_int_equal(store_count(&f->s, "grant"), 10);
	assert_int_equal(store_count(&f->s, "rule"), 10);
	assert_int_equal(store_count(&f->s, "token"), 0);
	assert_null(store_kind_at(&f->s, "token", 0));
	/* Remove some of each kind, the last item among them. */
	assert_int_equal(store_del(&f->s, f->v, "grant", "x_03"), 0);
	assert_int_equal(store_del(&f->s, f->v, "rule", "x_29"), 0);
	assert_int_equal(store_del(&f->s, f->v, "passport", "x_01"), 0);
	assert_int_equal(store_del(&f->s, f->v, "grant", "x_27"), 0);
	assert_int_equal(store_count(&f->s, "grant"), 8);
	assert_int_equal(store_count(&f->s, "rule"), 9);
	assert_int_equal(store_count(&f->s, "passport"), 9);
	for (int k = 0; k < 3; k++) {
		const char *kind = k == 0   ? "grant"
				   : k == 1 ? "passport"
					    : "rule";

		prev = NULL;
		n = 0;
		for (size_t j = 0; (it = store_kind_at(&f->s, kind, j)) != NULL;
		     j++, n++) {
			assert_string_equal(it->kind, kind);
			assert_ptr_equal(store_find(&f->s, kind, it->id), it);
			if (prev != NULL)
				assert_true(prev < it); /* store order */
			prev = it;
		}
		assert_int_equal(n, store_count(&f->s, kind));
	}
	store_clear(&f->s);
	assert_int_equal(store_count(&f->s, "grant"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_find_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_items, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_replay_rebuilds_state,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_value_keeps_old,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_del_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apply_refuses_bad_records,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_compaction, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_compaction_empty, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_clear, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_value_exact, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_values_not_in_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_write_before_apply, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bloom_summary, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kind_lists, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
