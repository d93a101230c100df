/* SPDX-License-Identifier: ISC */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/redact.h"
#include "client/redact_forms.h"

/*
 * Every form of every value (client/redact_forms.h) is a pattern: its
 * bytes live in one locked pool (offsets, so the pool can grow), indexed
 * by first byte, longest first, with a bitmap of the first two bytes.
 * The stream is scanned in a locked work buffer that holds the bytes kept
 * back from the last feed followed by the next chunk of input.
 *
 * The leftmost, longest match starts a replaced region; a match that
 * starts inside the region and ends past it extends it (with its own
 * marker when its name differs), so overlapping values leave no piece
 * behind.  A pattern cut off by the end of the buffer keeps everything
 * from its first byte back: the longest tail that may still become a
 * match, shorter than the longest pattern.  Bytes kept back that lie
 * inside a region already replaced are counted in cover and never
 * written.
 *
 * Cost: a byte that begins no pattern's first two bytes costs one bitmap
 * test; others cost a memcmp per pattern with that first byte, each at
 * most the pattern's length.  Every byte is looked at as a start once
 * (a held byte again only while it is the first one held), so input made
 * to look like patterns' starts costs O(bytes × the length of the
 * patterns that share a first byte), never quadratic in its own length.
 */

#define CHUNK 65536

struct pat {
	size_t off, len;
	size_t name; /* index into names */
};

struct redact {
	redact_sink sink;
	void *ctx;

	char **names;
	size_t nnames;

	uint8_t *pool; /* sodium_malloc'd pattern bytes */
	size_t pool_len, pool_cap;
	struct pat *pats;
	size_t npats, cap_pats;
	/* sodium_malloc'd: a random SipHash key, then each pattern's hash. */
	uint64_t *hash;
	size_t maxlen;

	/* Index: pattern numbers by first byte, longest first. */
	bool dirty;
	uint32_t *order;
	size_t start[257];
	uint64_t pair[1024]; /* bit b0 << 8 | b1: some pattern starts so */

	uint8_t *work; /* sodium_malloc'd: held bytes, then input */
	size_t work_cap, held;
	uint64_t held_since;
	size_t cover;	   /* work[0, cover) lies in a replaced region */
	size_t cover_name; /* the name of its last marker */
};

struct redact *redact_new(redact_sink sink, void *ctx)
{
	struct redact *r;

	if (sodium_init() < 0 || sink == NULL)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	r->sink = sink;
	r->ctx = ctx;
	return r;
}

void redact_free(struct redact *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	sodium_free(r->pool);
	sodium_free(r->hash);
	sodium_free(r->work);
	free(r->pats);
	free(r->order);
	free(r);
}

#define HKEY_WORDS (crypto_shorthash_KEYBYTES / sizeof(uint64_t))

/* Room for one more pattern and its hash. */
static int pats_reserve(struct redact *r)
{
	size_t cap = r->cap_pats ? r->cap_pats * 2 : 32;
	struct pat *np;
	uint64_t *nh;

	if (r->npats < r->cap_pats)
		return 0;
	if ((np = realloc(r->pats, cap * sizeof(*np))) == NULL)
		return IDW_ENOMEM;
	r->pats = np;
	if ((nh = sodium_malloc((HKEY_WORDS + cap) * sizeof(*nh))) == NULL)
		return IDW_ENOMEM;
	if (r->hash != NULL)
		memcpy(nh, r->hash, (HKEY_WORDS + r->npats) * sizeof(*nh));
	else
		randombytes_buf(nh, crypto_shorthash_KEYBYTES);
	sodium_free(r->hash);
	r->hash = nh;
	r->cap_pats = cap;
	return 0;
}

/*
 * Add one pattern (copied into the pool) unless it is already there; a
 * keyed hash finds the candidates, so many long values add quickly.
 */
static int add_pat(struct redact *r, size_t name, const uint8_t *p, size_t n)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t hv;
	int rc;

	if (n == 0)
		return 0;
	if ((rc = pats_reserve(r)) != 0)
		return rc;
	crypto_shorthash(h, p, n, (const uint8_t *)r->hash);
	memcpy(&hv, h, sizeof(hv));
	for (size_t i = 0; i < r->npats; i++)
		if (r->hash[HKEY_WORDS + i] == hv && r->pats[i].len == n &&
		    sodium_memcmp(r->pool + r->pats[i].off, p, n) == 0)
			return 0;
	if (r->pool_len + n > r->pool_cap) {
		size_t cap = r->pool_cap ? r->pool_cap : 1024;
		uint8_t *np;

		while (cap < r->pool_len + n)
			cap *= 2;
		if ((np = sodium_malloc(cap)) == NULL)
			return IDW_ENOMEM;
		if (r->pool_len)
			memcpy(np, r->pool, r->pool_len);
		sodium_free(r->pool);
		r->pool = np;
		r->pool_cap = cap;
	}
	memcpy(r->pool + r->pool_len, p, n);
	r->hash[HKEY_WORDS + r->npats] = hv;
	r->pats[r->npats++] = (struct pat){r->pool_len, n, name};
	r->pool_len += n;
	if (n > r->maxlen)
		r->maxlen = n;
	r->dirty = true;
	return 0;
}

struct form_ctx {
	struct redact *r;
	size_t name;
};

static int add_form(void *ctx, const uint8_t *p, size_t n)
{
	struct form_ctx *f = ctx;

	return add_pat(f->r, f->name, p, n);
}

int redact_add(struct redact *r, const char *name, const uint8_t *value,
	       size_t len)
{
	struct form_ctx f = {r, 0};
	char **nn;

	if (r == NULL || name == NULL || (value == NULL && len > 0))
		return IDW_EINVAL;
	if (len == 0)
		return 0;
	if ((nn = realloc(r->names, (r->nnames + 1) * sizeof(*nn))) == NULL)
		return IDW_ENOMEM;
	r->names = nn;
	if ((nn[r->nnames] = strndup(name, REDACT_NAME_MAX)) == NULL)
		return IDW_ENOMEM;
	f.name = r->nnames++;
	return redact_forms(value, len, add_form, &f);
}

/* Pattern numbers by first byte, longest first (a counting sort). */
static int build_index(struct redact *r)
{
	size_t count[257] = {0};
	uint32_t *order;

	if (!r->dirty)
		return 0;
	if ((order = calloc(r->npats ? r->npats : 1, sizeof(*order))) == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; i < r->npats; i++)
		count[r->pool[r->pats[i].off]]++;
	r->start[0] = 0;
	for (size_t c = 0; c < 256; c++)
		r->start[c + 1] = r->start[c] + count[c];
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < r->npats; i++) {
		uint8_t c = r->pool[r->pats[i].off];
		size_t at = r->start[c] + count[c]++;

		/* Insertion keeps each bucket longest first. */
		while (at > r->start[c] &&
		       r->pats[order[at - 1]].len < r->pats[i].len) {
			order[at] = order[at - 1];
			at--;
		}
		order[at] = (uint32_t)i;
	}
	memset(r->pair, 0, sizeof(r->pair));
	for (size_t i = 0; i < r->npats; i++) {
		const uint8_t *p = r->pool + r->pats[i].off;

		for (unsigned b1 = 0; b1 < 256; b1++) {
			unsigned k = (unsigned)p[0] << 8 |
				     (r->pats[i].len > 1 ? p[1] : b1);

			r->pair[k >> 6] |= (uint64_t)1 << (k & 63);
			if (r->pats[i].len > 1)
				break;
		}
	}
	free(r->order);
	r->order = order;
	r->dirty = false;
	return 0;
}

/* The work buffer holds the held bytes plus one chunk. */
static int work_reserve(struct redact *r)
{
	size_t need = r->maxlen + CHUNK;
	uint8_t *n;

	if (r->work != NULL && r->work_cap >= need)
		return 0;
	if ((n = sodium_malloc(need)) == NULL)
		return IDW_ENOMEM;
	if (r->held)
		memcpy(n, r->work, r->held);
	sodium_free(r->work);
	r->work = n;
	r->work_cap = need;
	return 0;
}

static int emit_marker(struct redact *r, size_t name)
{
	char m[REDACT_NAME_MAX + 16];
	int n = snprintf(m, sizeof(m), "<redacted:%s>", r->names[name]);

	return r->sink(r->ctx, (const uint8_t *)m, (size_t)n);
}

/*
 * The longest pattern that matches at work[i] (n bytes in the buffer), or
 * NULL; *cut when a longer one matches up to the end and may complete
 * (never with final).
 */
static const struct pat *match_at(const struct redact *r, size_t i, size_t n,
				  bool final, bool *cut)
{
	const uint8_t *w = r->work + i;
	size_t avail = n - i;

	*cut = false;
	/* Most bytes begin no pattern: two bytes tell. */
	if (avail > 1) {
		unsigned k = (unsigned)w[0] << 8 | w[1];

		if (!(r->pair[k >> 6] >> (k & 63) & 1))
			return NULL;
	}
	for (size_t k = r->start[w[0]]; k < r->start[w[0] + 1]; k++) {
		const struct pat *p = &r->pats[r->order[k]];

		if (p->len <= avail) {
			if (memcmp(w, r->pool + p->off, p->len) == 0)
				return p; /* longest first */
		} else if (!final && memcmp(w, r->pool + p->off, avail) == 0) {
			*cut = true;
			return NULL;
		}
	}
	return NULL;
}

/*
 * Scan work[0, n): write what is settled, return in *keep where the
 * bytes kept back start (n when none).  With final nothing is kept.
 */
static int scan(struct redact *r, size_t n, bool final, size_t *keep)
{
	size_t cov = r->cover, plain = cov, i = 0;
	int rc;

	/* plain: the first byte neither written nor replaced (>= cov). */
	for (; i < n; i++) {
		const struct pat *p;
		size_t end;
		bool cut;

		if ((p = match_at(r, i, n, final, &cut)) == NULL) {
			if (cut)
				break;
			continue;
		}
		end = i + p->len;
		/* A new region, or another value carrying one further. */
		if (i >= cov || (end > cov && p->name != r->cover_name)) {
			if (i > plain && (rc = r->sink(r->ctx, r->work + plain,
						       i - plain)) != 0)
				return rc;
			if ((rc = emit_marker(r, p->name)) != 0)
				return rc;
			r->cover_name = p->name;
		}
		if (end > cov)
			cov = plain = end;
	}
	if (i > plain &&
	    (rc = r->sink(r->ctx, r->work + plain, i - plain)) != 0)
		return rc;
	r->cover = cov > i ? cov - i : 0;
	*keep = i;
	return 0;
}

int redact_feed(struct redact *r, const uint8_t *p, size_t n, uint64_t now_ms)
{
	int rc;

	if (r == NULL || (p == NULL && n > 0))
		return IDW_EINVAL;
	if (r->npats == 0)
		return n ? r->sink(r->ctx, p, n) : 0;
	if ((rc = build_index(r)) != 0 || (rc = work_reserve(r)) != 0)
		return rc;
	while (n > 0) {
		size_t take = r->work_cap - r->held, total, keep;

		if (take > n)
			take = n;
		memcpy(r->work + r->held, p, take);
		total = r->held + take;
		p += take;
		n -= take;
		if ((rc = scan(r, total, false, &keep)) != 0)
			return rc;
		if (keep >= r->held)
			r->held_since = now_ms; /* only new bytes kept */
		r->held = total - keep;
		memmove(r->work, r->work + keep, r->held);
		sodium_memzero(r->work + r->held, total - r->held);
	}
	return 0;
}

int64_t redact_hold_ms(const struct redact *r, uint64_t now_ms)
{
	if (r == NULL || r->held == 0)
		return -1;
	return now_ms >= r->held_since ? (int64_t)(now_ms - r->held_since) : 0;
}

size_t redact_patterns(const struct redact *r)
{
	return r != NULL ? r->npats : 0;
}

int redact_flush(struct redact *r)
{
	size_t keep;
	int rc;

	if (r == NULL || r->held == 0)
		return 0;
	if ((rc = build_index(r)) != 0)
		return rc;
	rc = scan(r, r->held, true, &keep);
	sodium_memzero(r->work, r->held);
	r->held = 0;
	r->cover = 0;
	return rc;
}
