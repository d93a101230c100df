/* SPDX-License-Identifier: ISC */
#ifndef IDW_DOTENV_H
#define IDW_DOTENV_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * .env files, in DESIGN's grammar: lines "[export ]KEY=VALUE"; an unquoted
 * value ends at the end of the line or at " #"; single quotes are literal;
 * double quotes know only \\ \" and \n; nothing is expanded; a key given
 * twice is an error; blank lines and lines starting with # are skipped.
 */
#define DOTENV_MAX (64u * 1024u)

/*
 * Find key in buf.  *val is sodium_malloc memory the caller frees with
 * sodium_free.  IDW_ENOENT when the key is absent; IDW_EINVAL with the
 * line number in why for a malformed file.
 */
int dotenv_get(const char *buf, size_t len, const char *key, uint8_t **val,
	       size_t *vlen, char *why, size_t whylen) IDW_WUR;

/*
 * Visit every line of buf (any size; the caller bounds it): fn gets each
 * KEY=VALUE (the value decoded into sodium_malloc scratch that is wiped
 * after the call; err NULL), or a malformed line with err saying why (key
 * NULL), or a key given twice.  Lines are numbered from 1.  Returns the
 * number of malformed lines, or a negative IDW_E* code (out of memory, or
 * what fn returned when it was not 0).
 */
typedef int (*dotenv_fn)(void *ctx, size_t lineno, const char *key, size_t klen,
			 const uint8_t *val, size_t vlen, const char *err);
int dotenv_walk(const char *buf, size_t len, dotenv_fn fn, void *ctx) IDW_WUR;

/*
 * Read a .env file that must be ours, a regular file (not a link) and not
 * readable by group or others; contents in sodium_malloc memory.
 * IDW_ENOENT when missing, IDW_EPERM with the reason otherwise.
 */
int dotenv_read_file(const char *path, char **buf, size_t *len, char *why,
		     size_t whylen) IDW_WUR;

#endif
