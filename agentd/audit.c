/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/audit.h"
#include "common/buf.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

#define AUDIT_MAGIC "IDWA"
#define AUDIT_HDR_LEN 16
#define AUDIT_ENTRY_HDR (4 + 8 + 16 + 24)
#define AUDIT_CHAIN_LEN 16
#define AUDIT_MAX_BODY (64u * 1024u)
#define AUDIT_KDF_CTX "idwaudit"

enum { K_ENC = 0, K_TAG = 32, K_CHAIN = 64, K_ALL = 96 };

void audit_init(struct audit *a)
{
	memset(a, 0, sizeof(*a));
	a->fd = -1;
}

static int pread_all(int fd, void *p, size_t n, uint64_t off)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t r = pread(fd, b, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? IDW_ETRUNCATED : IDW_EIO;
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, uint64_t off)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t r = pwrite(fd, b, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return IDW_EIO;
		b += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

int audit_open(struct audit *a, const char *path)
{
	uint8_t hdr[AUDIT_HDR_LEN];
	struct stat st;
	int r;

	a->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->fd < 0)
		return IDW_EIO;
	if (fstat(a->fd, &st) != 0) {
		r = IDW_EIO;
		goto out;
	}
	if (st.st_size == 0) {
		memset(hdr, 0, sizeof(hdr));
		memcpy(hdr, AUDIT_MAGIC, 4);
		idw_le16_put(hdr + 4, 1);
		if ((r = pwrite_all(a->fd, hdr, sizeof(hdr), 0)) != 0)
			goto out;
		if (fsync(a->fd) != 0) {
			r = IDW_EIO;
			goto out;
		}
	} else {
		if (pread_all(a->fd, hdr, sizeof(hdr), 0) != 0 ||
		    memcmp(hdr, AUDIT_MAGIC, 4) != 0) {
			r = IDW_ECORRUPT;
			goto out;
		}
		if (idw_le16_get(hdr + 4) != 1) {
			r = IDW_EVERSION;
			goto out;
		}
	}
	a->end = AUDIT_HDR_LEN;
	r = 0;
out:
	/* A failed open leaves nothing open behind it. */
	if (r != 0) {
		close(a->fd);
		a->fd = -1;
	}
	return r;
}

static void chain_next(const uint8_t *keys, const uint8_t prev[16],
		       const uint8_t *entry, size_t len, uint8_t out[16])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, keys + K_CHAIN, 32, AUDIT_CHAIN_LEN);
	crypto_generichash_update(&st, prev, AUDIT_CHAIN_LEN);
	crypto_generichash_update(&st, entry, len);
	crypto_generichash_final(&st, out, AUDIT_CHAIN_LEN);
}

static void passport_tag(const uint8_t *keys, const char *id, uint8_t out[16])
{
	const char *s = id ? id : "";

	crypto_generichash(out, 16, (const uint8_t *)s, strlen(s), keys + K_TAG,
			   32);
}

/*
 * An entry at off claims more bytes than the file holds.  A torn append
 * leaves only a prefix of the last entry, so nothing follows it; when the
 * next entry's header (seq + 1) sits where a shorter length would end
 * this one, the length field itself was damaged and cutting there would
 * throw away good entries.
 */
static bool entry_follows(int fd, uint64_t off, uint64_t size, uint64_t seq)
{
	size_t rest = (size_t)(size - off),
	       min = AUDIT_ENTRY_HDR +
		     crypto_aead_xchacha20poly1305_ietf_ABYTES +
		     AUDIT_CHAIN_LEN;
	bool found = false;
	uint8_t *b;

	if (rest < min + AUDIT_ENTRY_HDR)
		return false;
	if ((b = malloc(rest)) == NULL)
		return true; /* cannot tell: refuse to cut */
	if (pread_all(fd, b, rest, off) != 0) {
		free(b);
		return true;
	}
	for (size_t at = min; at + AUDIT_ENTRY_HDR <= rest && !found; at++)
		found = idw_le64_get(b + at + 4) == seq + 1 &&
			idw_le32_get(b + at) <= AUDIT_MAX_BODY;
	free(b);
	return found;
}

/*
 * Walk every entry, checking the chain.  cb (may be NULL) sees each entry
 * that passes.  A torn final entry is cut off.
 */
typedef int (*entry_cb)(void *ctx, const uint8_t *entry, size_t len);

static int walk(struct audit *a, entry_cb cb, void *ctx, char *why,
		size_t whylen)
{
	struct stat st;
	uint8_t head[16] = {0}, chain[16];
	uint64_t off = AUDIT_HDR_LEN, seq = 0;
	struct idw_buf e;
	int r = 0;

	if (fstat(a->fd, &st) != 0)
		return IDW_EIO;
	idw_buf_init(&e, AUDIT_ENTRY_HDR + AUDIT_MAX_BODY + AUDIT_CHAIN_LEN, 0);
	while (off < (uint64_t)st.st_size) {
		uint8_t h[AUDIT_ENTRY_HDR];
		uint32_t len;
		size_t total;

		if ((uint64_t)st.st_size - off < sizeof(h))
			goto torn;
		if ((r = pread_all(a->fd, h, sizeof(h), off)) != 0)
			goto out;
		len = idw_le32_get(h);
		if (len > AUDIT_MAX_BODY ||
		    len < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
			snprintf(why, whylen,
				 "audit entry at byte %llu has a bad length",
				 (unsigned long long)off);
			r = IDW_ECORRUPT;
			goto out;
		}
		total = sizeof(h) + len + AUDIT_CHAIN_LEN;
		if ((uint64_t)st.st_size - off < total) {
			if (!entry_follows(a->fd, off, (uint64_t)st.st_size,
					   seq + 1))
				goto torn;
			snprintf(why, whylen,
				 "audit entry %llu at byte %llu has a damaged "
				 "length",
				 (unsigned long long)(seq + 1),
				 (unsigned long long)off);
			r = IDW_ECORRUPT;
			goto out;
		}
		idw_buf_reset(&e);
		if ((r = idw_buf_reserve(&e, total)) != 0)
			goto out;
		if ((r = pread_all(a->fd, e.d, total, off)) != 0)
			goto out;
		e.len = total;
		chain_next(a->keys, head, e.d, total - AUDIT_CHAIN_LEN, chain);
		if (sodium_memcmp(chain, e.d + total - AUDIT_CHAIN_LEN, 16) !=
			0 ||
		    idw_le64_get(h + 4) != seq + 1) {
			snprintf(why, whylen,
				 "audit entry %llu at byte %llu breaks the "
				 "chain",
				 (unsigned long long)(seq + 1),
				 (unsigned long long)off);
			r = IDW_ECORRUPT;
			goto out;
		}
		if (cb != NULL && (r = cb(ctx, e.d, total)) != 0)
			goto out;
		memcpy(head, chain, 16);
		seq++;
		off += total;
	}
	goto done;
torn:
	/* A crash mid-append: drop the partial entry, keep the rest. */
	if (ftruncate(a->fd, (off_t)off) != 0 || fsync(a->fd) != 0) {
		r = IDW_EIO;
		goto out;
	}
done:
	a->seq = seq;
	memcpy(a->head, head, 16);
	a->end = off;
	r = 0;
out:
	idw_buf_free(&e);
	return r;
}

int audit_unlock(struct audit *a, const uint8_t key[AUDIT_KEY_LEN], char *why,
		 size_t whylen)
{
	int r;

	audit_lock(a);
	a->keys = idw_arena_alloc(K_ALL);
	if (a->keys == NULL)
		return IDW_ENOMEM;
	crypto_kdf_derive_from_key(a->keys + K_ENC, 32, 1, AUDIT_KDF_CTX, key);
	crypto_kdf_derive_from_key(a->keys + K_TAG, 32, 2, AUDIT_KDF_CTX, key);
	crypto_kdf_derive_from_key(a->keys + K_CHAIN, 32, 3, AUDIT_KDF_CTX,
				   key);
	why[0] = '\0';
	if ((r = walk(a, NULL, NULL, why, whylen)) != 0) {
		audit_lock(a);
		return r;
	}
	a->broken = false;
	return 0;
}

void audit_lock(struct audit *a)
{
	idw_arena_free(a->keys);
	a->keys = NULL;
}

void audit_close(struct audit *a)
{
	audit_lock(a);
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v != NULL)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static int mark_broken(struct audit *a, const char *why)
{
	a->broken = true;
	snprintf(a->broken_why, sizeof(a->broken_why), "%s", why);
	return IDW_EIO;
}

int audit_append(struct audit *a, const struct audit_event *ev)
{
	uint8_t h[AUDIT_ENTRY_HDR], chain[16];
	char tbuf[IDW_TIME_LEN], *body = NULL;
	struct idw_buf e;
	struct stat st;
	cJSON *o = NULL;
	size_t blen;
	int r;

	if (a->keys == NULL)
		return IDW_ELOCKED;
	if (a->broken)
		return IDW_EIO;
	/* A log that was deleted or replaced under us is not a log. */
	if (fstat(a->fd, &st) != 0 || st.st_nlink == 0)
		return mark_broken(a, "the audit log has no link any more");
	idw_buf_init(&e, AUDIT_ENTRY_HDR + AUDIT_MAX_BODY + AUDIT_CHAIN_LEN, 0);
	o = cJSON_CreateObject();
	if (o == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	idw_time_fmt_local(idw_now(), tbuf);
	cJSON_AddNumberToObject(o, "seq", (double)(a->seq + 1));
	cJSON_AddStringToObject(o, "time", tbuf);
	add_str(o, "principal", ev->principal);
	add_str(o, "claimed_actor", ev->claimed_actor);
	add_str(o, "action", ev->action);
	add_str(o, "passport_id", ev->passport_id);
	add_str(o, "platform", ev->platform);
	add_str(o, "purpose", ev->purpose);
	add_str(o, "result", ev->result);
	add_str(o, "reason", ev->reason);
	if ((body = idw_json_print(o)) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	blen = strlen(body);
	if (blen > AUDIT_MAX_BODY - crypto_aead_xchacha20poly1305_ietf_ABYTES) {
		r = IDW_ETOOBIG;
		goto out;
	}
	idw_le32_put(
	    h, (uint32_t)(blen + crypto_aead_xchacha20poly1305_ietf_ABYTES));
	idw_le64_put(h + 4, a->seq + 1);
	passport_tag(a->keys, ev->passport_id, h + 12);
	randombytes_buf(h + 28, 24);
	if ((r = idw_buf_put(&e, h, sizeof(h))) != 0 ||
	    (r = idw_buf_reserve(&e, blen + 16 + AUDIT_CHAIN_LEN)) != 0)
		goto out;
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    e.d + e.len, NULL, (const uint8_t *)body, blen, h, 28, NULL, h + 28,
	    a->keys + K_ENC);
	e.len += blen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	chain_next(a->keys, a->head, e.d, e.len, chain);
	if ((r = idw_buf_put(&e, chain, sizeof(chain))) != 0)
		goto out;
	if (pwrite_all(a->fd, e.d, e.len, a->end) != 0 || fsync(a->fd) != 0) {
		/* Leave no half entry behind; the log refuses until fixed. */
		int cut = ftruncate(a->fd, (off_t)a->end);

		(void)cut; /* the log is marked broken either way */
		r = mark_broken(a, "writing the audit log failed");
		goto out;
	}
	a->end += e.len;
	a->seq++;
	memcpy(a->head, chain, sizeof(chain));
	r = 0;
out:
	if (body != NULL)
		cJSON_free(body);
	cJSON_Delete(o);
	idw_buf_free(&e);
	return r;
}

struct recent_ctx {
	const uint8_t *keys;
	uint8_t tag[16];
	bool all;
	size_t limit;
	cJSON *ring; /* oldest first, trimmed to limit */
};

static int recent_cb(void *ctx, const uint8_t *entry, size_t len)
{
	struct recent_ctx *rc = ctx;
	uint32_t clen = idw_le32_get(entry);
	uint8_t *pt;
	cJSON *o;

	(void)len;
	if (!rc->all && sodium_memcmp(entry + 12, rc->tag, 16) != 0)
		return 0;
	pt = idw_arena_alloc(clen);
	if (pt == NULL)
		return IDW_ENOMEM;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		pt, NULL, NULL, entry + AUDIT_ENTRY_HDR, clen, entry, 28,
		entry + 28, rc->keys + K_ENC) != 0) {
		idw_arena_free(pt);
		return IDW_ECORRUPT;
	}
	o = idw_json_parse((const char *)pt,
			   clen - crypto_aead_xchacha20poly1305_ietf_ABYTES);
	idw_arena_free(pt);
	if (o == NULL)
		return IDW_ECORRUPT;
	cJSON_AddItemToArray(rc->ring, o);
	if ((size_t)cJSON_GetArraySize(rc->ring) > rc->limit)
		cJSON_DeleteItemFromArray(rc->ring, 0);
	return 0;
}

int audit_recent(struct audit *a, const char *passport_id, size_t limit,
		 cJSON *arr)
{
	struct recent_ctx rc;
	char why[160];
	int r;

	if (a->keys == NULL)
		return IDW_ELOCKED;
	memset(&rc, 0, sizeof(rc));
	rc.keys = a->keys;
	rc.all = passport_id == NULL;
	rc.limit = limit ? limit : 1;
	if (!rc.all)
		passport_tag(a->keys, passport_id, rc.tag);
	rc.ring = cJSON_CreateArray();
	if (rc.ring == NULL)
		return IDW_ENOMEM;
	r = walk(a, recent_cb, &rc, why, sizeof(why));
	if (r == 0) {
		/* newest first */
		for (int i = cJSON_GetArraySize(rc.ring) - 1; i >= 0; i--)
			cJSON_AddItemToArray(
			    arr, cJSON_DetachItemFromArray(rc.ring, i));
	}
	cJSON_Delete(rc.ring);
	return r;
}
