/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/buf.h"

void idw_buf_init(struct idw_buf *b, size_t max, int flags)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
	b->flags = flags;
}

/*
 * Locked blocks kept for reuse.  A sodium_malloc/sodium_free pair costs an
 * mmap, an mlock, mprotects, an munlock and an munmap with its TLB
 * shootdowns; a secure buffer is made and dropped on every request and
 * reply, so freed blocks of the usual sizes are wiped and kept here
 * instead, locked and guarded as they were made.  A block's usable size
 * fills its pages (sodium_malloc's 16-byte canary shares them), so a
 * class is a page count: 1, 2, 4 ... SECURE_NCLASS-1 doubling.  The cache
 * is per thread: blocks never cross threads, so no lock is needed.
 */
#define SECURE_PAGE 4096u
#define SECURE_CANARY 16u
#define SECURE_NCLASS 5		       /* up to 16 pages */
#define SECURE_KEEP 4		       /* blocks kept per class */
#define SECURE_KEEP_MAX (128u * 1024u) /* bytes kept in all */

static _Thread_local struct {
	void *blk[SECURE_NCLASS][SECURE_KEEP];
	unsigned n[SECURE_NCLASS];
	size_t bytes;
} secure_cache;

static size_t class_cap(int c)
{
	return (SECURE_PAGE << c) - SECURE_CANARY;
}

/* The class whose blocks are exactly cap bytes, or -1. */
static int class_of(size_t cap)
{
	for (int c = 0; c < SECURE_NCLASS; c++)
		if (cap == class_cap(c))
			return c;
	return -1;
}

/* The capacity a secure block for n bytes gets: a class when one fits. */
static size_t secure_cap(size_t n)
{
	for (int c = 0; c < SECURE_NCLASS; c++)
		if (n <= class_cap(c))
			return class_cap(c);
	return n;
}

void *idw_buf_secure_alloc(size_t n, size_t *cap)
{
	size_t want = secure_cap(n ? n : 1);
	int c = class_of(want);
	void *p;

	if (c >= 0 && secure_cache.n[c] > 0) {
		p = secure_cache.blk[c][--secure_cache.n[c]];
		secure_cache.bytes -= want;
		*cap = want;
		return p;
	}
	/* sodium_malloc aborts before sodium_init (idempotent). */
	if (sodium_init() < 0 || (p = sodium_malloc(want)) == NULL)
		return NULL;
	*cap = want;
	return p;
}

void idw_buf_secure_free(void *p, size_t cap)
{
	int c;

	if (p == NULL)
		return;
	c = class_of(cap);
	if (c < 0 || secure_cache.n[c] == SECURE_KEEP ||
	    secure_cache.bytes + cap > SECURE_KEEP_MAX) {
		sodium_free(p); /* wipes */
		return;
	}
	sodium_memzero(p, cap);
	secure_cache.blk[c][secure_cache.n[c]++] = p;
	secure_cache.bytes += cap;
}

void idw_buf_secure_trim(void)
{
	for (int c = 0; c < SECURE_NCLASS; c++)
		while (secure_cache.n[c] > 0)
			sodium_free(secure_cache.blk[c][--secure_cache.n[c]]);
	secure_cache.bytes = 0;
}

size_t idw_buf_secure_cached(void)
{
	size_t n = 0;

	for (int c = 0; c < SECURE_NCLASS; c++)
		n += secure_cache.n[c];
	return n;
}

static void buf_release(struct idw_buf *b)
{
	if (b->d == NULL)
		return;
	if (b->flags & IDW_BUF_SECURE) {
		idw_buf_secure_free(b->d, b->cap); /* wipes */
	} else {
		sodium_memzero(b->d, b->cap);
		free(b->d);
	}
	b->d = NULL;
	b->cap = 0;
}

void idw_buf_free(struct idw_buf *b)
{
	buf_release(b);
	b->len = b->off = 0;
}

void idw_buf_reset(struct idw_buf *b)
{
	if (b->d != NULL)
		sodium_memzero(b->d, b->len);
	b->len = b->off = 0;
}

int idw_buf_reserve(struct idw_buf *b, size_t n)
{
	size_t need, ncap;
	uint8_t *nd;

	if (n > b->max || b->len > b->max - n)
		return IDW_ETOOBIG;
	need = b->len + n;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > b->max / 2 ? b->max : ncap * 2;
	if (ncap < need)
		ncap = need;
	if (b->flags & IDW_BUF_SECURE) {
		/* Whole pages: a class of the cache when one fits. */
		nd = idw_buf_secure_alloc(ncap, &ncap);
	} else {
		nd = malloc(ncap);
	}
	if (nd == NULL)
		return IDW_ENOMEM;
	if (b->d != NULL)
		memcpy(nd, b->d, b->len);
	buf_release(b);
	b->d = nd;
	b->cap = ncap;
	return 0;
}

int idw_buf_put(struct idw_buf *b, const void *p, size_t n)
{
	int r;

	if (n == 0)
		return 0;
	if ((r = idw_buf_reserve(b, n)) != 0)
		return r;
	memcpy(b->d + b->len, p, n);
	b->len += n;
	return 0;
}

int idw_buf_put_str(struct idw_buf *b, const char *s)
{
	return idw_buf_put(b, s, strlen(s));
}

int idw_buf_put_u8(struct idw_buf *b, uint8_t v)
{
	return idw_buf_put(b, &v, 1);
}

int idw_buf_put_u16(struct idw_buf *b, uint16_t v)
{
	uint8_t t[2];

	idw_le16_put(t, v);
	return idw_buf_put(b, t, sizeof(t));
}

int idw_buf_put_u32(struct idw_buf *b, uint32_t v)
{
	uint8_t t[4];

	idw_le32_put(t, v);
	return idw_buf_put(b, t, sizeof(t));
}

int idw_buf_put_u64(struct idw_buf *b, uint64_t v)
{
	uint8_t t[8];

	idw_le64_put(t, v);
	return idw_buf_put(b, t, sizeof(t));
}

int idw_buf_printf(struct idw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return IDW_EINVAL;
	if ((r = idw_buf_reserve(b, (size_t)n + 1)) != 0)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->d + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void idw_buf_consume(struct idw_buf *b, size_t n)
{
	if (n >= b->len) {
		idw_buf_reset(b);
		return;
	}
	memmove(b->d, b->d + n, b->len - n);
	sodium_memzero(b->d + b->len - n, n);
	b->len -= n;
	b->off = b->off > n ? b->off - n : 0;
}

size_t idw_buf_avail(const struct idw_buf *b)
{
	return b->len - b->off;
}

const uint8_t *idw_buf_ptr(const struct idw_buf *b)
{
	return b->d ? b->d + b->off : (const uint8_t *)"";
}

int idw_buf_get(struct idw_buf *b, void *p, size_t n)
{
	if (idw_buf_avail(b) < n)
		return IDW_ETRUNCATED;
	if (n)
		memcpy(p, b->d + b->off, n);
	b->off += n;
	return 0;
}

int idw_buf_skip(struct idw_buf *b, size_t n)
{
	if (idw_buf_avail(b) < n)
		return IDW_ETRUNCATED;
	b->off += n;
	return 0;
}

int idw_buf_get_u8(struct idw_buf *b, uint8_t *v)
{
	return idw_buf_get(b, v, 1);
}

int idw_buf_get_u16(struct idw_buf *b, uint16_t *v)
{
	uint8_t t[2];
	int r;

	if ((r = idw_buf_get(b, t, 2)) != 0)
		return r;
	*v = idw_le16_get(t);
	return 0;
}

int idw_buf_get_u32(struct idw_buf *b, uint32_t *v)
{
	uint8_t t[4];
	int r;

	if ((r = idw_buf_get(b, t, 4)) != 0)
		return r;
	*v = idw_le32_get(t);
	return 0;
}

int idw_buf_get_u64(struct idw_buf *b, uint64_t *v)
{
	uint8_t t[8];
	int r;

	if ((r = idw_buf_get(b, t, 8)) != 0)
		return r;
	*v = idw_le64_get(t);
	return 0;
}

void idw_le16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void idw_le32_put(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void idw_le64_put(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t idw_le16_get(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t idw_le32_get(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t idw_le64_get(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
