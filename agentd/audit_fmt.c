/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentd/audit_fmt.h"
#include "common/buf.h"
#include "common/fio.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

#define SCAN_WINDOW (1024u * 1024u)

void audit_fmt_derive(uint8_t keys[AUDIT_K_ALL], const uint8_t key[32])
{
	crypto_kdf_derive_from_key(keys + AUDIT_K_ENC, 32, 1, AUDIT_KDF_CTX,
				   key);
	crypto_kdf_derive_from_key(keys + AUDIT_K_TAG, 32, 2, AUDIT_KDF_CTX,
				   key);
	crypto_kdf_derive_from_key(keys + AUDIT_K_CHAIN, 32, 3, AUDIT_KDF_CTX,
				   key);
}

void audit_fmt_tag(const uint8_t *keys, const char *id,
		   uint8_t out[AUDIT_HASH_LEN])
{
	const char *s = id ? id : "";

	crypto_generichash(out, AUDIT_HASH_LEN, (const uint8_t *)s, strlen(s),
			   keys + AUDIT_K_TAG, 32);
}

void audit_chainer_init(struct audit_chainer *c, const uint8_t *keys)
{
	crypto_generichash_init(&c->base, keys + AUDIT_K_CHAIN, 32,
				AUDIT_HASH_LEN);
}

void audit_chainer_next(const struct audit_chainer *c,
			const uint8_t prev[AUDIT_HASH_LEN], const uint8_t *e,
			size_t elen, uint8_t out[AUDIT_HASH_LEN])
{
	crypto_generichash_state st = c->base;

	crypto_generichash_update(&st, prev, AUDIT_HASH_LEN);
	crypto_generichash_update(&st, e, elen);
	crypto_generichash_final(&st, out, AUDIT_HASH_LEN);
}

bool audit_chainer_check(const struct audit_chainer *c,
			 const uint8_t prev[AUDIT_HASH_LEN], const uint8_t *e,
			 size_t elen)
{
	uint8_t h[AUDIT_HASH_LEN];

	if (elen < AUDIT_ENTRY_MIN)
		return false;
	audit_chainer_next(c, prev, e, elen - AUDIT_HASH_LEN, h);
	return sodium_memcmp(h, e + elen - AUDIT_HASH_LEN, AUDIT_HASH_LEN) == 0;
}

void audit_fmt_describe(char *out, size_t n, uint64_t pos, uint64_t off,
			uint64_t seq, uint64_t want)
{
	unsigned long long p = pos, o = off, s = seq;

	if (seq > want)
		snprintf(out, n,
			 "audit entry %llu at byte %llu holds sequence number "
			 "%llu: an entry before it is missing (deleted or "
			 "moved)",
			 p, o, s);
	else if (seq < want)
		snprintf(out, n,
			 "audit entry %llu at byte %llu holds sequence number "
			 "%llu again: it was duplicated or moved",
			 p, o, s);
	else
		snprintf(out, n,
			 "audit entry %llu at byte %llu breaks the chain: it "
			 "was changed",
			 p, o);
}

cJSON *audit_fmt_open(const uint8_t *keys, const uint8_t *e, size_t elen)
{
	uint32_t clen = idw_le32_get(e);
	uint8_t *pt;
	cJSON *o = NULL;

	if (clen < AUDIT_ABYTES ||
	    elen != AUDIT_ENTRY_HDR + (size_t)clen + AUDIT_HASH_LEN)
		return NULL;
	if ((pt = idw_arena_alloc(clen)) == NULL)
		return NULL;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    pt, NULL, NULL, e + AUDIT_ENTRY_HDR, clen, e, AUDIT_AD_LEN,
		    e + AUDIT_OFF_NONCE, keys + AUDIT_K_ENC) == 0)
		o = idw_json_parse((const char *)pt, clen - AUDIT_ABYTES);
	idw_arena_free(pt);
	if (o != NULL && !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		o = NULL;
	}
	return o;
}

int audit_fmt_header_check(int fd)
{
	uint8_t hdr[AUDIT_HDR_LEN];

	if (idw_pread_all(fd, hdr, sizeof(hdr), 0) != 0 ||
	    memcmp(hdr, AUDIT_MAGIC, 4) != 0)
		return IDW_ECORRUPT;
	if (idw_le16_get(hdr + 4) != AUDIT_VERSION)
		return IDW_EVERSION;
	return 0;
}

int audit_scan_begin(struct audit_scan *s, int fd, uint64_t from, uint64_t size)
{
	struct stat st;

	memset(s, 0, sizeof(*s));
	s->fd = fd;
	if (size == 0) {
		if (fstat(fd, &st) != 0)
			return IDW_EIO;
		size = (uint64_t)st.st_size;
	}
	s->size = size;
	s->off = s->next = from;
	s->cap = SCAN_WINDOW;
	if ((s->buf = malloc(s->cap)) == NULL)
		return IDW_ENOMEM;
	return 0;
}

/* Make bytes [off, off + n) of the file visible in the window. */
static int window(struct audit_scan *s, uint64_t off, size_t n,
		  const uint8_t **p)
{
	size_t want;
	int r;

	if (off < s->woff || off + n > s->woff + s->wlen) {
		want = s->size - off < s->cap ? (size_t)(s->size - off)
					      : s->cap;
		if (want < n)
			return IDW_ETRUNCATED;
		if ((r = idw_pread_all(s->fd, s->buf, want, off)) != 0) {
			s->wlen = 0;
			return r;
		}
		s->woff = off;
		s->wlen = want;
	}
	*p = s->buf + (off - s->woff);
	return 0;
}

int audit_scan_next(struct audit_scan *s)
{
	const uint8_t *h;
	uint64_t rest;
	size_t total;
	uint32_t len;
	int r;

	s->off = s->next;
	s->e = NULL;
	s->elen = 0;
	if (s->off >= s->size)
		return 0;
	rest = s->size - s->off;
	if (rest < AUDIT_ENTRY_HDR)
		return IDW_ETRUNCATED;
	if ((r = window(s, s->off, AUDIT_ENTRY_HDR, &h)) != 0)
		return r;
	len = idw_le32_get(h);
	if (len > AUDIT_MAX_BODY || len < AUDIT_ABYTES)
		return IDW_ECORRUPT;
	total = AUDIT_ENTRY_HDR + (size_t)len + AUDIT_HASH_LEN;
	if (rest < total)
		return IDW_ETRUNCATED;
	if ((r = window(s, s->off, total, &s->e)) != 0)
		return r;
	s->elen = total;
	s->next = s->off + total;
	return 1;
}

/*
 * A torn append leaves only a prefix of the last entry, so nothing
 * follows it; when the next entry's header sits where a shorter length
 * would end this one, the length field itself was damaged and cutting
 * there would throw good entries away.
 */
bool audit_scan_entry_later(struct audit_scan *s, uint64_t seq)
{
	uint64_t rest = s->size - s->off;
	const uint8_t *b;

	if (rest < AUDIT_ENTRY_MIN + AUDIT_ENTRY_HDR)
		return false;
	/* Shorter than the entry it claims to be: fits the window. */
	if (rest > s->cap || window(s, s->off, (size_t)rest, &b) != 0)
		return true; /* cannot tell: refuse to cut */
	for (size_t at = AUDIT_ENTRY_MIN; at + AUDIT_ENTRY_HDR <= rest; at++)
		if (idw_le64_get(b + at + AUDIT_OFF_SEQ) == seq &&
		    idw_le32_get(b + at) <= AUDIT_MAX_BODY)
			return true;
	return false;
}

void audit_scan_end(struct audit_scan *s)
{
	free(s->buf);
	s->buf = NULL;
}
