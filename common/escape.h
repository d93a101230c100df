/* SPDX-License-Identifier: ISC */
#ifndef IDW_ESCAPE_H
#define IDW_ESCAPE_H

#include <stddef.h>

#include "common/buf.h"

#define IDW_DISPLAY_MAX_CHARS 256

/*
 * Untrusted text (purposes, reasons, names, notes) is stored as given and
 * escaped on display: control characters and invalid bytes as \xNN, bidi
 * controls and zero-width characters as a visible [U+XXXX] flag, at most
 * IDW_DISPLAY_MAX_CHARS characters (then "...").  Output is NUL-terminated.
 */
int idw_escape_display(struct idw_buf *out, const char *s) IDW_WUR;

/* A CSV cell: quoted, with a leading ' when it starts with = + - @. */
int idw_escape_csv(struct idw_buf *out, const char *s) IDW_WUR;

#endif
