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

static void buf_release(struct idw_buf *b)
{
	if (b->d == NULL)
		return;
	if (b->flags & IDW_BUF_SECURE) {
		sodium_free(b->d); /* wipes */
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
	if (b->flags & IDW_BUF_SECURE)
		/* sodium_malloc aborts before sodium_init (idempotent). */
		nd = sodium_init() < 0 ? NULL : sodium_malloc(ncap);
	else
		nd = malloc(ncap);
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
