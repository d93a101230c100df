/* SPDX-License-Identifier: ISC */
#ifndef IDW_BUF_H
#define IDW_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * One bounded-buffer API for every byte that comes from outside.  A buffer
 * has a hard maximum fixed at init: growth past it fails with IDW_ETOOBIG
 * instead of allocating.  Reads consume from an offset and fail with
 * IDW_ETRUNCATED rather than reading past the end.  A buffer made with
 * IDW_BUF_SECURE lives in sodium_malloc memory (guarded, locked) and every
 * buffer is wiped before its memory is released.  A secure buffer's
 * capacity is whole pages (it may exceed max; writes still stop at max).
 */
#define IDW_BUF_SECURE 0x1

struct idw_buf {
	uint8_t *d;
	size_t len; /* bytes written */
	size_t off; /* read offset */
	size_t cap;
	size_t max;
	int flags;
};

void idw_buf_init(struct idw_buf *b, size_t max, int flags);
void idw_buf_free(struct idw_buf *b);
void idw_buf_reset(struct idw_buf *b);
int idw_buf_reserve(struct idw_buf *b, size_t n) IDW_WUR;
int idw_buf_put(struct idw_buf *b, const void *p, size_t n) IDW_WUR;
int idw_buf_put_str(struct idw_buf *b, const char *s) IDW_WUR;
int idw_buf_put_u8(struct idw_buf *b, uint8_t v) IDW_WUR;
int idw_buf_put_u16(struct idw_buf *b, uint16_t v) IDW_WUR;
int idw_buf_put_u32(struct idw_buf *b, uint32_t v) IDW_WUR;
int idw_buf_put_u64(struct idw_buf *b, uint64_t v) IDW_WUR;
int idw_buf_printf(struct idw_buf *b, const char *fmt, ...) IDW_WUR
	__attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (already consumed or sent). */
void idw_buf_consume(struct idw_buf *b, size_t n);

size_t idw_buf_avail(const struct idw_buf *b);
const uint8_t *idw_buf_ptr(const struct idw_buf *b);
int idw_buf_get(struct idw_buf *b, void *p, size_t n) IDW_WUR;
int idw_buf_get_u8(struct idw_buf *b, uint8_t *v) IDW_WUR;
int idw_buf_get_u16(struct idw_buf *b, uint16_t *v) IDW_WUR;
int idw_buf_get_u32(struct idw_buf *b, uint32_t *v) IDW_WUR;
int idw_buf_get_u64(struct idw_buf *b, uint64_t *v) IDW_WUR;
int idw_buf_skip(struct idw_buf *b, size_t n) IDW_WUR;

/*
 * Locked memory for one secret: sodium_malloc blocks of whole pages, and
 * freed ones of up to 16 pages wiped and kept (per thread, 128 KiB at
 * most) for the next request, so a warm request maps and locks nothing.
 * *cap is the block's usable size (at least n); pass it back to free.
 * Nothing outlives its use: a block is wiped before it is kept.
 */
void *idw_buf_secure_alloc(size_t n, size_t *cap);
void idw_buf_secure_free(void *p, size_t cap);
/* Release the kept blocks (sodium_free); how many are kept. */
void idw_buf_secure_trim(void);
size_t idw_buf_secure_cached(void);

/* Little-endian helpers on raw memory. */
void idw_le16_put(uint8_t *p, uint16_t v);
void idw_le32_put(uint8_t *p, uint32_t v);
void idw_le64_put(uint8_t *p, uint64_t v);
uint16_t idw_le16_get(const uint8_t *p);
uint32_t idw_le32_get(const uint8_t *p);
uint64_t idw_le64_get(const uint8_t *p);

#endif
