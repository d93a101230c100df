/* SPDX-License-Identifier: ISC */
#ifndef IDW_JSONU_H
#define IDW_JSONU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/buf.h"

/* Parse exactly len bytes as one JSON value (trailing whitespace only). */
cJSON *idw_json_parse(const char *p, size_t len);

/* Typed getters: NULL / default when absent or of another type. */
const char *idw_json_str(const cJSON *o, const char *key);
bool idw_json_bool(const cJSON *o, const char *key, bool dflt);
int64_t idw_json_int(const cJSON *o, const char *key, int64_t dflt);
/* True when key is absent or a string (for optional string arguments). */
bool idw_json_str_or_absent(const cJSON *o, const char *key);

/* Print without formatting; the caller frees with cJSON_free. */
char *idw_json_print(const cJSON *o);

bool idw_utf8_valid(const uint8_t *s, size_t n);

/*
 * Write s as the inside of a JSON string (no quotes) into out.  Used to put
 * credential values into JSON text without handing them to cJSON.
 * IDW_EINVAL when s is not valid UTF-8.
 */
int idw_json_escape(struct idw_buf *out, const uint8_t *s, size_t n) IDW_WUR;

/*
 * Render tmpl (printed JSON text containing the string marker exactly once,
 * e.g. "\"@@IDW-VALUE@@\"") into out with the marker's quoted content
 * replaced by the escaped value.
 */
int idw_json_splice(struct idw_buf *out, const char *tmpl, const char *marker,
		    const uint8_t *value, size_t value_len) IDW_WUR;

#endif
