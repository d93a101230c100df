/* SPDX-License-Identifier: ISC */
#ifndef IDW_REDACT_H
#define IDW_REDACT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * Output redaction for `idw run` (DESIGN "Use without reveal"): a stream
 * filter that replaces every injected value, in plain, base64 and
 * base64url (each of the three alignments, with or without padding), hex
 * (both cases), percent-encoded (both cases) and JSON-escaped form, with
 * "<redacted:NAME>", also when a value is split across writes.  The
 * forms are listed in client/redact_forms.h; where two values overlap in
 * the output, both are replaced, each with its own marker.
 *
 * One filter per output stream.  Bytes that may begin a value are held
 * back; redact_hold_ms() says how long the oldest held byte has waited so
 * the caller can redact_flush() once it reaches REDACT_HOLD_MS.  The
 * patterns are kept in locked memory (sodium_malloc) and wiped on free.
 *
 * Redaction stops accidental echo; a program that sets out to leak a
 * value (one byte per line, its own encoding) is not stopped by it.
 */

#define REDACT_HOLD_MS 250
#define REDACT_NAME_MAX 128

struct redact;

/* An output sink: write n bytes; returns 0 or an IDW_E* code. */
typedef int (*redact_sink)(void *ctx, const uint8_t *p, size_t n);

/* A new filter writing to sink(ctx, ...); NULL when out of memory. */
struct redact *redact_new(redact_sink sink, void *ctx);

/*
 * Add one value under a variable name (both copied, the value into locked
 * memory).  An empty value is ignored.
 */
int redact_add(struct redact *r, const char *name, const uint8_t *value,
	       size_t len) IDW_WUR;

/*
 * Feed bytes read from the program, with now_ms a monotonic time in
 * milliseconds.  Writes everything that can no longer begin a value.
 */
int redact_feed(struct redact *r, const uint8_t *p, size_t n,
		uint64_t now_ms) IDW_WUR;

/*
 * How long, in ms, the oldest held-back byte has waited at now_ms, or -1
 * when nothing is held.  Counted from the feed that began the hold, so
 * it is never less than the truth (a flush may come early, never late).
 */
int64_t redact_hold_ms(const struct redact *r, uint64_t now_ms);

/* Write out every held byte as it is (time limit reached, or EOF). */
int redact_flush(struct redact *r) IDW_WUR;

/* Wipe and free; NULL is fine. */
void redact_free(struct redact *r);

/*
 * How many distinct byte strings the filter looks for (the forms of all
 * values, each kept once, under the first name that had it).
 */
size_t redact_patterns(const struct redact *r);

#endif
