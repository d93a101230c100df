/* SPDX-License-Identifier: ISC */
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "client/redact_forms.h"

/*
 * Every form is built in one locked, growable buffer and handed to the
 * caller, which copies what it keeps; the buffer is wiped when done.
 */

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
	sodium_free(b->p); /* wipes */
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

/* Forget a form not worth matching (half built). */
static void sb_drop(struct sbuf *b)
{
	if (b->len)
		sodium_memzero(b->p, b->len);
	b->len = 0;
}

/* Hand the form in b to fn (when long enough) and empty b. */
static int sb_emit(struct sbuf *b, redact_form_fn fn, void *ctx)
{
	int rc = 0;

	if (b->oom)
		return IDW_ENOMEM;
	if (b->len >= REDACT_FORM_MIN)
		rc = fn(ctx, b->p, b->len);
	sb_drop(b);
	return rc;
}

static bool unreserved(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* Percent-encoding: how = 0 RFC 3986, 1 every byte, 2 '+' for space. */
static void percent_form(struct sbuf *b, const uint8_t *v, size_t n, int how,
			 bool upper)
{
	for (size_t i = 0; i < n; i++) {
		if (how == 2 && v[i] == ' ') {
			sb_byte(b, '+');
		} else if (how != 1 && unreserved(v[i])) {
			sb_byte(b, v[i]);
		} else {
			sb_byte(b, '%');
			sb_hex(b, v[i], upper);
		}
	}
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

/* A code point as \uXXXX, past the BMP as a surrogate pair. */
static void sb_ucp(struct sbuf *b, long cp, bool upper)
{
	if (cp >= 0x10000) {
		cp -= 0x10000;
		sb_u16(b, 0xd800 + (unsigned)(cp >> 10), upper);
		sb_u16(b, 0xdc00 + (unsigned)(cp & 0x3ff), upper);
	} else {
		sb_u16(b, (unsigned)cp, upper);
	}
}

enum {
	J_UPPER = 1, /* \uXXXX with A-F */
	J_SLASH = 2, /* '/' as \/ */
	J_ASCII = 4, /* DEL and every code point above it as \uXXXX */
	J_HTML = 8,  /* < > & U+2028 U+2029 as \uXXXX (Go) */
	J_ALL = 16   /* every code point as \uXXXX */
};

/* The variants worth matching (each also with J_UPPER). */
static const int json_variants[] = {
	0,	J_SLASH,	  J_ASCII, J_SLASH | J_ASCII,
	J_HTML, J_HTML | J_ASCII, J_ALL};

/* The letter of c's two-character JSON escape, or 0. */
static uint8_t short_escape(uint8_t c)
{
	switch (c) {
	case '"':
	case '\\':
		return c;
	case '\b':
		return 'b';
	case '\f':
		return 'f';
	case '\n':
		return 'n';
	case '\r':
		return 'r';
	case '\t':
		return 't';
	default:
		return 0;
	}
}

/*
 * The value as a JSON string's contents: the short escapes, \u00XX for
 * other controls, the rest by flags.  False when a flag needs code
 * points and the value is not UTF-8.
 */
static bool json_form(struct sbuf *b, const uint8_t *v, size_t n, int flags)
{
	bool upper = flags & J_UPPER;

	for (size_t i = 0; i < n;) {
		uint8_t c = v[i];
		size_t used = 1;
		long cp;

		if (flags & J_ALL) {
			if ((cp = utf8_next(v + i, n - i, &used)) < 0)
				return false;
			sb_ucp(b, cp, upper);
		} else if (short_escape(c) != 0) {
			sb_byte(b, '\\');
			sb_byte(b, short_escape(c));
		} else if (c == '/' && (flags & J_SLASH)) {
			sb_put(b, "\\/", 2);
		} else if (c < 0x20 || (c == 0x7f && (flags & J_ASCII)) ||
			   ((flags & J_HTML) && strchr("<>&", c) != NULL)) {
			sb_u16(b, c, upper);
		} else if (c < 0x80) {
			sb_byte(b, c);
		} else if (flags & J_ASCII) {
			if ((cp = utf8_next(v + i, n - i, &used)) < 0)
				return false;
			sb_ucp(b, cp, upper);
		} else if ((flags & J_HTML) && n - i >= 3 &&
			   memcmp(v + i, "\xe2\x80", 2) == 0 &&
			   (v[i + 2] == 0xa8 || v[i + 2] == 0xa9)) {
			sb_u16(b, 0x2000u + (v[i + 2] - 0x80u), upper);
			used = 3;
		} else {
			sb_byte(b, c);
		}
		i += used;
	}
	return true;
}

/*
 * Base64 of the value at offset o (0, 1, 2) of a longer stream: the
 * characters that depend on the value's bytes alone, then that run with
 * the last partial character, then with the padding too.
 */
static int b64_forms(struct sbuf *b, const uint8_t *v, size_t n, int variant,
		     redact_form_fn fn, void *ctx)
{
	struct sbuf in = {0}, out = {0};
	int rc = 0;

	for (size_t o = 0; o < 3 && rc == 0; o++) {
		size_t total = o + n, first = (8 * o + 5) / 6,
		       ends[3] = {8 * total / 6, (8 * total + 5) / 6, 0},
		       enc_len = sodium_base64_encoded_len(total, variant);

		in.len = 0;
		out.len = 0;
		for (size_t k = 0; k < o; k++)
			sb_byte(&in, 0);
		sb_put(&in, v, n);
		sb_reserve(&out, enc_len);
		if (in.oom || out.oom) {
			rc = IDW_ENOMEM;
			break;
		}
		sodium_bin2base64((char *)out.p, enc_len, in.p, total, variant);
		ends[2] = strlen((char *)out.p);
		for (size_t k = 0; k < 3 && rc == 0; k++) {
			if (ends[k] <= first ||
			    (k > 0 && ends[k] == ends[k - 1]))
				continue;
			sb_put(b, out.p + first, ends[k] - first);
			rc = sb_emit(b, fn, ctx);
		}
	}
	sodium_free(in.p); /* wipes */
	sodium_free(out.p);
	return rc;
}

int redact_forms(const uint8_t *v, size_t n, redact_form_fn fn, void *ctx)
{
	struct sbuf b = {0};
	int rc;

	if (v == NULL || n == 0 || fn == NULL)
		return IDW_EINVAL;
	if ((rc = fn(ctx, v, n)) != 0)
		return rc;
	for (int upper = 0; upper < 2 && rc == 0; upper++) {
		for (size_t i = 0; i < n; i++)
			sb_hex(&b, v[i], upper);
		rc = sb_emit(&b, fn, ctx);
		for (int how = 0; how < 3 && rc == 0; how++) {
			if (how == 2 && memchr(v, ' ', n) == NULL)
				continue;
			percent_form(&b, v, n, how, upper);
			rc = sb_emit(&b, fn, ctx);
		}
		for (size_t k = 0;
		     k < sizeof(json_variants) / sizeof(json_variants[0]) &&
		     rc == 0;
		     k++) {
			if (json_form(&b, v, n, json_variants[k] | upper))
				rc = sb_emit(&b, fn, ctx);
			else
				sb_drop(&b);
		}
	}
	if (rc == 0)
		rc = b64_forms(&b, v, n, sodium_base64_VARIANT_ORIGINAL, fn,
			       ctx);
	if (rc == 0)
		rc = b64_forms(&b, v, n, sodium_base64_VARIANT_URLSAFE, fn,
			       ctx);
	sodium_free(b.p);
	return rc;
}
