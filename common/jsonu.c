/* SPDX-License-Identifier: ISC */
#include <string.h>

#include "common/jsonu.h"

cJSON *idw_json_parse(const char *p, size_t len)
{
	const char *end = NULL;
	cJSON *j;

	if (p == NULL || len == 0)
		return NULL;
	j = cJSON_ParseWithLengthOpts(p, len, &end, 0);
	if (j == NULL)
		return NULL;
	while (end != NULL && end < p + len &&
	       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != p + len) {
		cJSON_Delete(j);
		return NULL;
	}
	return j;
}

const char *idw_json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool idw_json_str_or_absent(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return v == NULL || cJSON_IsString(v) || cJSON_IsNull(v);
}

bool idw_json_bool(const cJSON *o, const char *key, bool dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (cJSON_IsTrue(v))
		return true;
	if (cJSON_IsFalse(v))
		return false;
	return dflt;
}

int64_t idw_json_int(const cJSON *o, const char *key, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(v))
		return dflt;
	if (v->valuedouble < -9.0e15 || v->valuedouble > 9.0e15)
		return dflt;
	return (int64_t)v->valuedouble;
}

char *idw_json_print(const cJSON *o)
{
	return cJSON_PrintUnformatted(o);
}

bool idw_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i - 1 < k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

int idw_json_escape(struct idw_buf *out, const uint8_t *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int r = 0;

	if (!idw_utf8_valid(s, n))
		return IDW_EINVAL;
	for (size_t i = 0; i < n && r == 0; i++) {
		uint8_t c = s[i];
		char e[6];

		switch (c) {
		case '"':
			r = idw_buf_put(out, "\\\"", 2);
			break;
		case '\\':
			r = idw_buf_put(out, "\\\\", 2);
			break;
		case '\n':
			r = idw_buf_put(out, "\\n", 2);
			break;
		case '\r':
			r = idw_buf_put(out, "\\r", 2);
			break;
		case '\t':
			r = idw_buf_put(out, "\\t", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f) {
				memcpy(e, "\\u00", 4);
				e[4] = hex[c >> 4];
				e[5] = hex[c & 0xf];
				r = idw_buf_put(out, e, 6);
			} else {
				r = idw_buf_put_u8(out, c);
			}
		}
	}
	return r;
}

int idw_json_splice(struct idw_buf *out, const char *tmpl, const char *marker,
		    const uint8_t *value, size_t value_len)
{
	const char *at;
	size_t mlen = strlen(marker), q;
	int r;

	/*
	 * Exactly once: a name or note that happens to hold the marker must
	 * not receive the value.  A marker given with its quotes keeps them,
	 * so the value is always written inside a JSON string.
	 */
	at = strstr(tmpl, marker);
	if (mlen == 0 || at == NULL || strstr(at + 1, marker) != NULL)
		return IDW_EINVAL;
	q = mlen >= 2 && marker[0] == '"' && marker[mlen - 1] == '"';
	if ((r = idw_buf_put(out, tmpl, (size_t)(at - tmpl) + q)) != 0 ||
	    (r = idw_json_escape(out, value, value_len)) != 0 ||
	    (r = idw_buf_put_str(out, at + mlen - q)) != 0)
		return r;
	return 0;
}
