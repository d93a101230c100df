/* SPDX-License-Identifier: ISC */
/*
 * A small JSON reader for the import parsers: it checks and walks JSON
 * text without building values, and decodes a string straight into a
 * caller's buffer (a locked one for values), so values never pass through
 * cJSON.  Metadata spans are handed to cJSON by cli_jscan_span.
 */
#include <string.h>

#include "client/cli_jscan.h"
#include "common/jsonu.h"

#define DEPTH_MAX 64

void cli_jscan_ws(struct cli_jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

bool cli_jscan_eat(struct cli_jscan *s, char c)
{
	cli_jscan_ws(s);
	if (s->p < s->end && *s->p == c) {
		s->p++;
		return true;
	}
	return false;
}

static int hex4(const char *p, const char *end, unsigned *out)
{
	*out = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
			     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
			     : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
						    : 16u;
		if (d == 16)
			return -1;
		*out = *out << 4 | d;
	}
	return 0;
}

static int put_utf8(struct idw_buf *out, unsigned cp)
{
	uint8_t b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xc0 | cp >> 6);
		b[1] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xe0 | cp >> 12);
		b[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xf0 | cp >> 18);
		b[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (uint8_t)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return idw_buf_put(out, b, n);
}

/*
 * A JSON string at s->p, decoded into out (NULL: only checked).  Returns
 * 0, IDW_EINVAL with s->err set, or a buffer error.
 */
int cli_jscan_str(struct cli_jscan *s, struct idw_buf *out)
{
	size_t mark = out ? out->len : 0;
	const char *run;
	unsigned cp, lo;
	int r;

	if (!cli_jscan_eat(s, '"')) {
		s->err = "a string was expected";
		return IDW_EINVAL;
	}
	for (;;) {
		run = s->p;
		while (s->p < s->end && *s->p != '"' && *s->p != '\\' &&
		       (unsigned char)*s->p >= 0x20)
			s->p++;
		if (out != NULL && s->p > run &&
		    (r = idw_buf_put(out, run, (size_t)(s->p - run))) != 0)
			return r;
		if (s->p == s->end) {
			s->err = "a string is not closed";
			return IDW_EINVAL;
		}
		if (*s->p == '"')
			break;
		if (*s->p != '\\') {
			s->err = "a control character inside a string";
			return IDW_EINVAL;
		}
		if (++s->p == s->end) {
			s->err = "a string is not closed";
			return IDW_EINVAL;
		}
		switch (*s->p++) {
		case '"':
			cp = '"';
			break;
		case '\\':
			cp = '\\';
			break;
		case '/':
			cp = '/';
			break;
		case 'b':
			cp = '\b';
			break;
		case 'f':
			cp = '\f';
			break;
		case 'n':
			cp = '\n';
			break;
		case 'r':
			cp = '\r';
			break;
		case 't':
			cp = '\t';
			break;
		case 'u':
			if (hex4(s->p, s->end, &cp) != 0)
				goto bad_escape;
			s->p += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad_escape;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (s->end - s->p < 6 || s->p[0] != '\\' ||
				    s->p[1] != 'u' ||
				    hex4(s->p + 2, s->end, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto bad_escape;
				s->p += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			break;
		default:
			goto bad_escape;
		}
		if (out != NULL && (r = put_utf8(out, cp)) != 0)
			return r;
	}
	s->p++;
	if (out != NULL && !idw_utf8_valid(out->d + mark, out->len - mark)) {
		s->err = "a string is not UTF-8";
		return IDW_EINVAL;
	}
	return 0;
bad_escape:
	s->err = "a bad escape in a string";
	return IDW_EINVAL;
}

/* An object or array: members or elements, each skipped or read. */
static int skip_compound(struct cli_jscan *s, bool obj)
{
	char close = obj ? '}' : ']';
	int r;

	if (++s->depth > DEPTH_MAX) {
		s->err = "nested too deep";
		return IDW_EINVAL;
	}
	s->p++;
	if (cli_jscan_eat(s, close))
		goto done;
	do {
		if (obj && (r = cli_jscan_str(s, NULL)) != 0)
			return r;
		if (obj && !cli_jscan_eat(s, ':')) {
			s->err = "':' expected";
			return IDW_EINVAL;
		}
		if ((r = cli_jscan_skip(s)) != 0)
			return r;
	} while (cli_jscan_eat(s, ','));
	if (!cli_jscan_eat(s, close)) {
		s->err = obj ? "'}' or ',' expected" : "']' or ',' expected";
		return IDW_EINVAL;
	}
done:
	s->depth--;
	return 0;
}

int cli_jscan_skip(struct cli_jscan *s)
{
	static const char *const lits[] = {"true", "false", "null"};
	const char *q;

	cli_jscan_ws(s);
	if (s->p == s->end) {
		s->err = "a value was expected";
		return IDW_EINVAL;
	}
	if (*s->p == '"')
		return cli_jscan_str(s, NULL);
	if (*s->p == '{' || *s->p == '[')
		return skip_compound(s, *s->p == '{');
	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(lits[i]);

		if ((size_t)(s->end - s->p) >= n &&
		    memcmp(s->p, lits[i], n) == 0) {
			s->p += n;
			return 0;
		}
	}
	q = s->p;
	if (q < s->end && *q == '-')
		q++;
	if (q == s->end || *q < '0' || *q > '9') {
		s->err = "a value was expected";
		return IDW_EINVAL;
	}
	while (q < s->end && ((*q >= '0' && *q <= '9') || *q == '.' ||
			      *q == 'e' || *q == 'E' || *q == '+' || *q == '-'))
		q++;
	s->p = q;
	return 0;
}

/* A member name into key (plain text, at most CLI_JSCAN_KEY_MAX - 1 bytes). */
int cli_jscan_key(struct cli_jscan *s, char key[CLI_JSCAN_KEY_MAX])
{
	struct idw_buf b;
	int r;

	idw_buf_init(&b, CLI_JSCAN_KEY_MAX - 1, 0);
	r = cli_jscan_str(s, &b);
	if (r == IDW_ETOOBIG)
		s->err = "a member name is too long";
	if (r == 0 && memchr(b.d, '\0', b.len) != NULL) {
		s->err = "a member name holds a NUL";
		r = IDW_EINVAL;
	}
	if (r == 0) {
		memcpy(key, b.d, b.len);
		key[b.len] = '\0';
		if (!cli_jscan_eat(s, ':')) {
			s->err = "':' expected";
			r = IDW_EINVAL;
		}
	}
	idw_buf_free(&b);
	if (r != 0 && r != IDW_ENOMEM) {
		s->err = s->err ? s->err : "a bad member name";
		r = IDW_EINVAL;
	}
	return r;
}

/* The text of one value, parsed by cJSON (metadata only). */
cJSON *cli_jscan_span(struct cli_jscan *s)
{
	const char *start;

	cli_jscan_ws(s);
	start = s->p;
	if (cli_jscan_skip(s) != 0)
		return NULL;
	return idw_json_parse(start, (size_t)(s->p - start));
}
