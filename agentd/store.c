/* SPDX-License-Identifier: ISC */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "agentd/store.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

void store_init(struct store *s)
{
	memset(s, 0, sizeof(*s));
}

static void item_release(struct store_item *it)
{
	if (it->meta != NULL)
		cJSON_Delete(it->meta);
	idw_shielded_free(it->value);
	memset(it, 0, sizeof(*it));
}

void store_clear(struct store *s)
{
	for (size_t i = 0; i < s->n; i++)
		item_release(&s->items[i]);
	idw_arena_free(s->items);
	free(s->index);
	for (size_t k = 0; k < s->nkinds; k++)
		free(s->kinds[k].pos);
	store_init(s);
}

/* ---- one position list per kind ------------------------------------ */

static struct store_kind *kind_find(const struct store *s, const char *kind)
{
	for (size_t k = 0; k < s->nkinds; k++)
		if (strcmp(s->kinds[k].kind, kind) == 0)
			return (struct store_kind *)&s->kinds[k];
	return NULL;
}

/* Add position i (a new item) to its kind's list. */
static int kind_add(struct store *s, size_t i)
{
	struct store_item *it = &s->items[i];
	struct store_kind *k = kind_find(s, it->kind);

	if (k == NULL) {
		if (s->nkinds == STORE_KINDS_MAX)
			return IDW_ETOOBIG;
		k = &s->kinds[s->nkinds++];
		memset(k, 0, sizeof(*k));
		strcpy(k->kind, it->kind);
	}
	if (k->n == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 16;
		uint32_t *p = realloc(k->pos, ncap * sizeof(*p));

		if (p == NULL)
			return IDW_ENOMEM;
		k->pos = p;
		k->cap = ncap;
	}
	it->kslot = (uint32_t)k->n;
	k->pos[k->n++] = (uint32_t)i;
	return 0;
}

static void kind_renumber(struct store *s, struct store_kind *k, size_t from,
			  size_t to)
{
	for (size_t j = from; j < to && j < k->n; j++)
		s->items[k->pos[j]].kslot = (uint32_t)j;
}

/*
 * Drop the item at position i from its kind's list.  Lists stay in store
 * order (a walk of one kind meets items as a walk of all would); removals
 * are rare, so the shift is cheap enough.
 */
static void kind_drop(struct store *s, size_t i)
{
	struct store_item *it = &s->items[i];
	struct store_kind *k = kind_find(s, it->kind);
	size_t slot = it->kslot;

	if (k == NULL || slot >= k->n)
		return;
	memmove(&k->pos[slot], &k->pos[slot + 1],
		(k->n - slot - 1) * sizeof(*k->pos));
	k->n--;
	kind_renumber(s, k, slot, k->n);
}

/* The item at old position from (its kind's last) now sits at to < from. */
static void kind_moved(struct store *s, size_t to)
{
	struct store_item *it = &s->items[to];
	struct store_kind *k = kind_find(s, it->kind);
	size_t lo = 0, hi;

	if (k == NULL || k->n == 0)
		return;
	hi = k->n - 1; /* the moved item's slot: it had the largest position */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->pos[mid] < to)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&k->pos[lo + 1], &k->pos[lo],
		(k->n - 1 - lo) * sizeof(*k->pos));
	k->pos[lo] = (uint32_t)to;
	kind_renumber(s, k, lo, k->n);
}

size_t store_count(const struct store *s, const char *kind)
{
	const struct store_kind *k = kind_find(s, kind);

	return k != NULL ? k->n : 0;
}

struct store_item *store_kind_at(struct store *s, const char *kind, size_t j)
{
	const struct store_kind *k = kind_find(s, kind);

	return k != NULL && j < k->n ? &s->items[k->pos[j]] : NULL;
}

/*
 * An open-addressing index from (kind, id) to the item's position, so a
 * lookup (every show, get, create and replayed record) costs the same
 * with 100,000 items as with 10.  It holds positions only, no metadata,
 * so it lives in the ordinary heap.  Slots hold position + 1; 0 is empty.
 */
static uint64_t key_hash(const char *kind, const char *id)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (const char *p = kind; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (const char *p = id; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	return h;
}

static void index_put(struct store *s, size_t i)
{
	size_t mask = s->index_cap - 1;
	size_t h = (size_t)key_hash(s->items[i].kind, s->items[i].id) & mask;

	while (s->index[h] != 0)
		h = (h + 1) & mask;
	s->index[h] = (uint32_t)(i + 1);
}

/* Rebuild at a size that keeps the table at most half full. */
static int index_rebuild(struct store *s)
{
	size_t cap = 64;
	uint32_t *t;

	while (cap < 2 * (s->n + 1))
		cap *= 2;
	if ((t = calloc(cap, sizeof(*t))) == NULL)
		return IDW_ENOMEM;
	free(s->index);
	s->index = t;
	s->index_cap = cap;
	for (size_t i = 0; i < s->n; i++)
		index_put(s, i);
	return 0;
}

struct store_item *store_find(struct store *s, const char *kind, const char *id)
{
	size_t mask, h;

	if (s->index == NULL)
		return NULL; /* nothing stored yet */
	mask = s->index_cap - 1;
	h = (size_t)key_hash(kind, id) & mask;
	for (; s->index[h] != 0; h = (h + 1) & mask) {
		struct store_item *it = &s->items[s->index[h] - 1];

		if (strcmp(it->id, id) == 0 && strcmp(it->kind, kind) == 0)
			return it;
	}
	return NULL;
}

static uint64_t bloom_bits(const char *member, const char *value)
{
	uint64_t h = key_hash(member, value);

	return (1ull << (h & 63)) | (1ull << ((h >> 6) & 63));
}

static uint64_t bloom_of(const cJSON *meta)
{
	const cJSON *m, *e;
	uint64_t b = 0;

	cJSON_ArrayForEach(m, meta)
	{
		if (!cJSON_IsArray(m) || m->string == NULL)
			continue;
		cJSON_ArrayForEach(e, m)
		{
			if (cJSON_IsString(e))
				b |= bloom_bits(m->string, e->valuestring);
		}
	}
	return b;
}

bool store_may_hold(const struct store_item *it, const char *member,
		    const char *value)
{
	uint64_t want = bloom_bits(member, value);

	return (it->bloom & want) == want;
}

size_t store_pos(const struct store *s, const struct store_item *it)
{
	return (size_t)(it - s->items);
}

static int store_slot(struct store *s, const char *kind, const char *id,
		      struct store_item **out)
{
	struct store_item *it;
	int r;

	if (strlen(kind) >= STORE_KIND_MAX || strlen(id) >= STORE_ID_MAX)
		return IDW_EINVAL;
	it = store_find(s, kind, id);
	if (it == NULL) {
		if (s->n == s->cap) {
			size_t ncap = s->cap ? s->cap * 2 : 64;
			void *p = idw_arena_realloc(s->items,
						    ncap * sizeof(*s->items));

			if (p == NULL)
				return IDW_ENOMEM;
			s->items = p;
			s->cap = ncap;
		}
		if (s->n >= UINT32_MAX - 1)
			return IDW_ETOOBIG;
		it = &s->items[s->n++];
		memset(it, 0, sizeof(*it));
		strcpy(it->kind, kind);
		strcpy(it->id, id);
		if ((r = kind_add(s, s->n - 1)) != 0) {
			s->n--;
			return r;
		}
		if (2 * (s->n + 1) > s->index_cap) {
			if (index_rebuild(s) != 0) {
				kind_drop(s, s->n - 1);
				s->n--;
				return IDW_ENOMEM;
			}
		} else {
			index_put(s, s->n - 1);
		}
	}
	*out = it;
	return 0;
}

static void store_remove(struct store *s, struct store_item *it)
{
	size_t i = (size_t)(it - s->items);

	kind_drop(s, i);
	item_release(it);
	if (i != s->n - 1) {
		/* The last item moves to i: its kind's list follows it. */
		s->items[i] = s->items[s->n - 1];
		s->n--;
		kind_moved(s, i);
	} else {
		s->n--;
	}
	/* Removals are rare (deleted records): rebuilding keeps it simple. */
	if (index_rebuild(s) != 0) {
		free(s->index); /* lookups then find nothing: fail closed */
		s->index = NULL;
		s->index_cap = 0;
	}
}

/* Apply a record already on disk: meta is consumed. */
static int apply(struct store *s, uint8_t op, const char *kind, const char *id,
		 cJSON *meta, const uint8_t *value, size_t value_len,
		 bool keep_value)
{
	struct store_item *it;
	struct idw_shielded *sh = NULL;
	int r;

	if (op == IDW_VAULT_DEL) {
		cJSON_Delete(meta);
		it = store_find(s, kind, id);
		if (it != NULL)
			store_remove(s, it);
		return 0;
	}
	if (op != IDW_VAULT_PUT) {
		cJSON_Delete(meta);
		return IDW_ECORRUPT;
	}
	if (!keep_value && value != NULL &&
	    (r = idw_shield(value, value_len, &sh)) != 0) {
		cJSON_Delete(meta);
		return r;
	}
	if ((r = store_slot(s, kind, id, &it)) != 0) {
		cJSON_Delete(meta);
		idw_shielded_free(sh);
		return r;
	}
	if (it->meta != NULL)
		cJSON_Delete(it->meta);
	it->meta = meta;
	it->bloom = bloom_of(meta);
	if (!keep_value) {
		idw_shielded_free(it->value);
		it->value = sh;
	}
	return 0;
}

int store_apply_cb(void *ctx, const struct idw_vault_rec *rec)
{
	struct store *s = ctx;
	cJSON *meta = NULL;

	if (rec->json_len > 0) {
		meta = idw_json_parse(rec->json, rec->json_len);
		if (meta == NULL || !cJSON_IsObject(meta)) {
			cJSON_Delete(meta);
			return IDW_ECORRUPT;
		}
	}
	if (meta == NULL && (meta = cJSON_CreateObject()) == NULL)
		return IDW_ENOMEM;
	return apply(s, rec->op, rec->kind, rec->id, meta, rec->value,
		     rec->value_len, false);
}

int store_open_value(const struct store_item *it, uint8_t **out, size_t *len)
{
	size_t n;
	uint8_t *p;
	int r;

	*out = NULL;
	*len = 0;
	if (it->value == NULL)
		return IDW_ENOENT;
	n = idw_shielded_len(it->value);
	p = idw_arena_alloc(n ? n : 1);
	if (p == NULL)
		return IDW_ENOMEM;
	if ((r = idw_unshield(it->value, p, n)) != 0) {
		idw_arena_free(p);
		return r;
	}
	*out = p;
	*len = n;
	return 0;
}

static int record_of(struct store_item *it, uint8_t op, const char *json,
		     const uint8_t *value, size_t value_len,
		     struct idw_vault_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->op = op;
	rec->kind = it->kind;
	rec->id = it->id;
	rec->json = json;
	rec->json_len = strlen(json);
	rec->value = value;
	rec->value_len = value_len;
	return 0;
}

int store_put(struct store *s, struct idw_vault *v, const char *kind,
	      const char *id, cJSON *meta, const uint8_t *value,
	      size_t value_len)
{
	struct store_item tmp, *cur = store_find(s, kind, id);
	struct idw_vault_rec rec;
	uint8_t *old = NULL;
	size_t old_len = 0;
	char *json = NULL;
	int r;

	if (strlen(kind) >= STORE_KIND_MAX || strlen(id) >= STORE_ID_MAX) {
		r = IDW_EINVAL;
		goto out;
	}
	memset(&tmp, 0, sizeof(tmp));
	strcpy(tmp.kind, kind);
	strcpy(tmp.id, id);
	/* A record is a full snapshot: carry the current value along. */
	if (value == NULL && cur != NULL && cur->value != NULL) {
		if ((r = store_open_value(cur, &old, &old_len)) != 0)
			goto out;
		value = old;
		value_len = old_len;
	}
	if ((json = idw_json_print(meta)) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	(void)record_of(&tmp, IDW_VAULT_PUT, json, value, value_len, &rec);
	if ((r = idw_vault_append(v, &rec)) != 0)
		goto out;
	r = apply(s, IDW_VAULT_PUT, kind, id, meta, value, value_len,
		  old != NULL);
	meta = NULL;
out:
	if (json != NULL)
		cJSON_free(json);
	cJSON_Delete(meta);
	idw_arena_free(old);
	return r;
}

int store_del(struct store *s, struct idw_vault *v, const char *kind,
	      const char *id)
{
	struct store_item *it = store_find(s, kind, id);
	struct idw_vault_rec rec;
	int r;

	if (it == NULL)
		return IDW_ENOENT;
	(void)record_of(it, IDW_VAULT_DEL, "", NULL, 0, &rec);
	rec.json = NULL;
	rec.json_len = 0;
	if ((r = idw_vault_append(v, &rec)) != 0)
		return r;
	store_remove(s, it);
	return 0;
}

int store_compact(struct store *s, struct idw_vault *v)
{
	int r;

	if ((r = idw_vault_compact_begin(v)) != 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		struct store_item *it = &s->items[i];
		struct idw_vault_rec rec;
		uint8_t *val = NULL;
		size_t vlen = 0;
		char *json;

		if (it->value != NULL &&
		    (r = store_open_value(it, &val, &vlen)) != 0)
			goto fail;
		json = idw_json_print(it->meta);
		if (json == NULL) {
			idw_arena_free(val);
			r = IDW_ENOMEM;
			goto fail;
		}
		(void)record_of(it, IDW_VAULT_PUT, json, val, vlen, &rec);
		r = idw_vault_compact_put(v, &rec);
		cJSON_free(json);
		idw_arena_free(val);
		if (r != 0)
			goto fail;
	}
	return idw_vault_compact_commit(v);
fail:
	idw_vault_compact_abort(v);
	return r;
}
