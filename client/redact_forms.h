/* SPDX-License-Identifier: ISC */
#ifndef IDW_REDACT_FORMS_H
#define IDW_REDACT_FORMS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * The forms in which a program's output may show one value, for the
 * output filter (client/redact.h): plain; hex in either case;
 * percent-encoded (RFC 3986 unreserved bytes kept, or every byte, '+'
 * for a space as forms do) in either case; JSON string contents as
 * cJSON, JSON.stringify, Python (ensure_ascii) and Go (HTML-safe) write
 * them, with '\/' or not, \uXXXX in either case; base64 and base64url
 * at each of the three alignments of the value inside a longer encoded
 * stream: the characters that depend on the value's bytes alone, that
 * run with the last partial character (the value ends an unpadded
 * stream) and with its padding.
 */

/* Derived forms shorter than this would match ordinary text. */
#define REDACT_FORM_MIN 4

/* Receives one form (in locked memory, valid for the call only). */
typedef int (*redact_form_fn)(void *ctx, const uint8_t *form, size_t len);

/*
 * Call fn for every form of value v (n > 0): the plain value whatever
 * its length, the derived forms of REDACT_FORM_MIN bytes or more.  The
 * same bytes may come more than once.  Stops at fn's first nonzero
 * return and returns it; IDW_ENOMEM when out of locked memory.
 */
int redact_forms(const uint8_t *v, size_t n, redact_form_fn fn,
		 void *ctx) IDW_WUR;

#endif
