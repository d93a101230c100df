/* SPDX-License-Identifier: ISC */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/redact.h"

/*
 * Every form of every value is a pattern: its bytes live in one locked
 * pool (offsets, so the pool can grow), indexed by first byte, longest
 * first.  The stream is scanned in a locked work buffer that holds the
 * bytes kept back from the last feed followed by the next chunk of input.
 * At each position the longest complete match wins; a pattern cut off by
 * the end of the buffer keeps everything from that position back.
 */

#define CHUNK 65536
#define FORM_MIN 4 /* derived forms shorter than this would hit anything */

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
	size_t maxlen;

	/* Index: pattern numbers by first byte, longest first. */
	bool dirty;
	uint32_t *order;
	size_t start[257];
	uint64_t pair[1024]; /* bit b0 << 8 | b1: some pattern starts so */

	uint8_t *work; /* sodium_malloc'd: held bytes, then input */
	size_t work_cap, held;
	uint64_t held_since;
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
	sodium_free(r->work);
	free(r->pats);
	free(r->order);
	free(r);
}

/* Locked, growable byte string used while making forms. */
struct sbuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void sb_reserve(struct sbuf *b, size_t more)
{
	uint8_t *n;
	size_t cap;

	if (b->oom || b->len + more <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	if ((n = sodium_malloc(cap)) == NULL) {
		b->oom = true;
		return;
	}
	if (b->len)
		memcpy(n, b->p, b->len);
	sodium_free(b->p);
	b->p = n;
	b->cap = cap;
}

static void sb_put(struct sbuf *b, const void *p, size_t n)
{
	sb_reserve(b, n);
	if (!b->oom) {
		memcpy(b->p + b->len, p, n);
		b->len += n;
	}
}

static void sb_byte(struct sbuf *b, uint8_t c)
{
	sb_put(b, &c, 1);
}

static void sb_hex(struct sbuf *b, uint8_t c, bool upper)
{
	const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	sb_byte(b, (uint8_t)d[c >> 4]);
	sb_byte(b, (uint8_t)d[c & 15]);
}

static void sb_free(struct sbuf *b)
{
	sodium_free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Add one pattern (copied into the pool) unless it is already there. */
static int add_pat(struct redact *r, size_t name, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < r->npats; i++)
		if (r->pats[i].len == n &&
		    sodium_memcmp(r->pool + r->pats[i].off, p, n) == 0)
			return 0;
	if (r->npats == r->cap_pats) {
		size_t cap = r->cap_pats ? r->cap_pats * 2 : 32;
		struct pat *np = realloc(r->pats, cap * sizeof(*np));

		if (np == NULL)
			return IDW_ENOMEM;
		r->pats = np;
		r->cap_pats = cap;
	}
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
	r->pats[r->npats++] = (struct pat){r->pool_len, n, name};
	r->pool_len += n;
	if (n > r->maxlen)
		r->maxlen = n;
	r->dirty = true;
	return 0;
}

static int add_form(struct redact *r, size_t name, struct sbuf *b)
{
	int rc;

	if (b->oom)
		return IDW_ENOMEM;
	rc = b->len >= FORM_MIN ? add_pat(r, name, b->p, b->len) : 0;
	b->len = 0;
	return rc;
}

/*
 * Base64 of a value at offset o (0, 1, 2) of a longer stream: the
 * characters that depend on the value's bytes only, then the same run
 * with the value's last partial character and padding, as it ends a
 * stream.
 */
static int add_b64(struct redact *r, size_t name, const uint8_t *v, size_t n,
		   int variant, struct sbuf *b)
{
	struct sbuf in = {0}, out = {0};
	int rc = 0;

	for (size_t o = 0; o < 3 && rc == 0; o++) {
		size_t total = o + n, first = (8 * o + 5) / 6,
		       core_end = 8 * total / 6, enc_len;

		in.len = 0;
		for (size_t k = 0; k < o; k++)
			sb_byte(&in, 0);
		sb_put(&in, v, n);
		enc_len = sodium_base64_encoded_len(total, variant);
		out.len = 0;
		sb_reserve(&out, enc_len);
		if (in.oom || out.oom) {
			rc = IDW_ENOMEM;
			break;
		}
		sodium_bin2base64((char *)out.p, enc_len, in.p, total, variant);
		out.len = strlen((char *)out.p);
		if (core_end > first) {
			sb_put(b, out.p + first, core_end - first);
			rc = add_form(r, name, b);
		}
		if (rc == 0 && out.len > first) {
			sb_put(b, out.p + first, out.len - first);
			rc = add_form(r, name, b);
		}
	}
	sb_free(&in);
	sb_free(&out);
	return rc;
}

static bool unreserved(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* One UTF-8 sequence at p (n bytes left): its code point, or -1. */
static long utf8_next(const uint8_t *p, size_t n, size_t *used)
{
	long cp;
	size_t len;

	if (p[0] < 0x80) {
		*used = 1;
		return p[0];
	}
	if ((p[0] & 0xe0) == 0xc0) {
		cp = p[0] & 0x1f;
		len = 2;
	} else if ((p[0] & 0xf0) == 0xe0) {
		cp = p[0] & 0x0f;
		len = 3;
	} else if ((p[0] & 0xf8) == 0xf0) {
		cp = p[0] & 0x07;
		len = 4;
	} else {
		return -1;
	}
	if (len > n)
		return -1;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[k] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*used = len;
	return cp;
}

static void sb_u16(struct sbuf *b, unsigned u, bool upper)
{
	sb_put(b, "\\u", 2);
	sb_hex(b, (uint8_t)(u >> 8), upper);
	sb_hex(b, (uint8_t)(u & 0xff), upper);
}

/*
 * The value as a JSON string's contents: the short escapes, \u00XX for
 * other controls; with slash, '/' as "\/"; with ascii, every code point
 * above 0x7f as \uXXXX (surrogate pairs past the BMP); with all, every
 * code point so.  Returns false when ascii or all is asked for and the
 * value is not UTF-8.
 */
static bool json_form(struct sbuf *b, const uint8_t *v, size_t n, bool upper,
		      bool slash, bool ascii, bool all)
{
	for (size_t i = 0; i < n;) {
		uint8_t c = v[i];
		size_t used = 1;
		long cp;

		if (all)
			c = 0x80; /* every code point as \uXXXX */
		switch (c) {
		case '"':
			sb_put(b, "\\\"", 2);
			break;
		case '\\':
			sb_put(b, "\\\\", 2);
			break;
		case '\b':
			sb_put(b, "\\b", 2);
			break;
		case '\f':
			sb_put(b, "\\f", 2);
			break;
		case '\n':
			sb_put(b, "\\n", 2);
			break;
		case '\r':
			sb_put(b, "\\r", 2);
			break;
		case '\t':
			sb_put(b, "\\t", 2);
			break;
		case '/':
			sb_put(b, slash ? "\\/" : "/", slash ? 2 : 1);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				sb_u16(b, c, upper);
			} else if (c < 0x80 || !(ascii || all)) {
				sb_byte(b, c);
			} else {
				if ((cp = utf8_next(v + i, n - i, &used)) < 0)
					return false;
				if (cp >= 0x10000) {
					cp -= 0x10000;
					sb_u16(b, 0xd800 + (unsigned)(cp >> 10),
					       upper);
					sb_u16(b,
					       0xdc00 + (unsigned)(cp & 0x3ff),
					       upper);
				} else {
					sb_u16(b, (unsigned)cp, upper);
				}
			}
		}
		i += used;
	}
	return true;
}

int redact_add(struct redact *r, const char *name, const uint8_t *value,
	       size_t len)
{
	struct sbuf b = {0};
	size_t ni;
	char **nn;
	int rc;

	if (r == NULL || name == NULL || (value == NULL && len > 0))
		return IDW_EINVAL;
	if (len == 0)
		return 0;
	if ((nn = realloc(r->names, (r->nnames + 1) * sizeof(*nn))) == NULL)
		return IDW_ENOMEM;
	r->names = nn;
	if ((nn[r->nnames] = strndup(name, REDACT_NAME_MAX)) == NULL)
		return IDW_ENOMEM;
	ni = r->nnames++;

	/* Plain, whatever its length. */
	if ((rc = add_pat(r, ni, value, len)) != 0)
		return rc;
	for (int upper = 0; upper < 2 && rc == 0; upper++) {
		/* Hex. */
		for (size_t i = 0; i < len; i++)
			sb_hex(&b, value[i], upper);
		rc = add_form(r, ni, &b);
		/* Percent-encoded: reserved bytes only, then every byte. */
		for (int all = 0; all < 2 && rc == 0; all++) {
			for (size_t i = 0; i < len; i++) {
				if (!all && unreserved(value[i])) {
					sb_byte(&b, value[i]);
				} else {
					sb_byte(&b, '%');
					sb_hex(&b, value[i], upper);
				}
			}
			rc = add_form(r, ni, &b);
		}
		/* Form encoding: a space as '+'. */
		if (rc == 0 && memchr(value, ' ', len) != NULL) {
			for (size_t i = 0; i < len; i++) {
				if (value[i] == ' ') {
					sb_byte(&b, '+');
				} else if (unreserved(value[i])) {
					sb_byte(&b, value[i]);
				} else {
					sb_byte(&b, '%');
					sb_hex(&b, value[i], upper);
				}
			}
			rc = add_form(r, ni, &b);
		}
		/* JSON-escaped. */
		for (int k = 0; k < 5 && rc == 0; k++) {
			if (json_form(&b, value, len, upper, k & 1, k & 2,
				      k == 4))
				rc = add_form(r, ni, &b);
			else
				b.len = 0;
		}
	}
	if (rc == 0)
		rc = add_b64(r, ni, value, len, sodium_base64_VARIANT_ORIGINAL,
			     &b);
	if (rc == 0)
		rc = add_b64(r, ni, value, len, sodium_base64_VARIANT_URLSAFE,
			     &b);
	sb_free(&b);
	return rc;
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
 * Scan work[0, n): write what is settled, return in *keep where the
 * bytes kept back start (n when none).  With final, a pattern cut off by
 * the end no longer holds anything back.
 */
static int scan(struct redact *r, size_t n, bool final, size_t *keep)
{
	const uint8_t *w = r->work;
	size_t plain = 0, i = 0;
	int rc;

	while (i < n) {
		uint8_t c = w[i];
		size_t a, z;
		const struct pat *best = NULL;
		bool cut = false;

		/* Most bytes begin no pattern: two bytes tell. */
		if (i + 1 < n) {
			unsigned k = (unsigned)c << 8 | w[i + 1];

			if (!(r->pair[k >> 6] >> (k & 63) & 1)) {
				i++;
				continue;
			}
		}
		a = r->start[c];
		z = r->start[c + 1];
		for (size_t k = a; k < z; k++) {
			const struct pat *p = &r->pats[r->order[k]];
			size_t avail = n - i;

			if (p->len <= avail) {
				if (memcmp(w + i, r->pool + p->off, p->len) ==
				    0) {
					best = p;
					break; /* longest first */
				}
			} else if (!final && memcmp(w + i, r->pool + p->off,
						    avail) == 0) {
				cut = true; /* a longer match may follow */
				break;
			}
		}
		if (cut) {
			break;
		}
		if (best == NULL) {
			i++;
			continue;
		}
		if (i > plain &&
		    (rc = r->sink(r->ctx, w + plain, i - plain)) != 0)
			return rc;
		if ((rc = emit_marker(r, best->name)) != 0)
			return rc;
		i += best->len;
		plain = i;
	}
	if (i > plain && (rc = r->sink(r->ctx, w + plain, i - plain)) != 0)
		return rc;
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
	return rc;
}
