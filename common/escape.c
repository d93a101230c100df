/* SPDX-License-Identifier: ISC */
#include <stdint.h>
#include <string.h>

#include "common/escape.h"
#include "common/jsonu.h"

/* Code points that reorder or hide text: bidi controls, zero-width. */
static int cp_flagged(uint32_t cp)
{
	return (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c || cp == 0xfeff ||
	       cp == 0x2060;
}

/* Length of one valid UTF-8 sequence at s, 0 if invalid. */
static size_t utf8_seq(const uint8_t *s, size_t n, uint32_t *cp)
{
	size_t k;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		k = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		k = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (k > n || !idw_utf8_valid(s, k))
		return 0;
	*cp = k == 2   ? (s[0] & 0x1fu)
	      : k == 3 ? (s[0] & 0x0fu)
		       : (s[0] & 0x07u);
	for (size_t j = 1; j < k; j++)
		*cp = (*cp << 6) | (s[j] & 0x3fu);
	return k;
}

int idw_escape_display(struct idw_buf *out, const char *str)
{
	const uint8_t *s = (const uint8_t *)(str ? str : "");
	size_t n = strlen((const char *)s), i = 0, chars = 0;
	int r = 0;

	while (i < n && r == 0) {
		uint32_t cp = 0;
		size_t k = utf8_seq(s + i, n - i, &cp);

		if (chars == IDW_DISPLAY_MAX_CHARS) {
			r = idw_buf_put_str(out, "...");
			break;
		}
		if (k == 0) {
			r = idw_buf_printf(out, "\\x%02x", s[i]);
			k = 1;
		} else if (cp < 0x20 || cp == 0x7f ||
			   (cp >= 0x80 && cp < 0xa0)) {
			r = idw_buf_printf(out, "\\x%02x", cp);
		} else if (cp_flagged(cp)) {
			r = idw_buf_printf(out, "[U+%04X]", cp);
		} else {
			r = idw_buf_put(out, s + i, k);
		}
		i += k;
		chars++;
	}
	if (r == 0)
		r = idw_buf_put_u8(out, 0);
	if (r == 0)
		out->len--; /* keep the terminator out of len */
	return r;
}

int idw_escape_csv(struct idw_buf *out, const char *s)
{
	int r;

	s = s ? s : "";
	if ((r = idw_buf_put_u8(out, '"')) != 0)
		return r;
	if (strchr("=+-@", s[0]) != NULL && s[0] != '\0')
		if ((r = idw_buf_put_u8(out, '\'')) != 0)
			return r;
	for (; *s; s++) {
		if (*s == '"')
			r = idw_buf_put(out, "\"\"", 2);
		else
			r = idw_buf_put_u8(out, (uint8_t)*s);
		if (r != 0)
			return r;
	}
	return idw_buf_put_u8(out, '"');
}
