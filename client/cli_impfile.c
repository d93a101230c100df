/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli_impfile.h"
#include "client/cli_jscan.h"
#include "common/jsonu.h"
#include "keychain/dotenv.h"

#define CLI_JSCAN_KEY_MAX 256

void cli_impset_init(struct cli_impset *s)
{
	s->items = cJSON_CreateArray();
	s->errors = cJSON_CreateArray();
	idw_buf_init(&s->values, CLI_IMPFILE_MAX, IDW_BUF_SECURE);
	s->nbad = 0;
}

void cli_impset_free(struct cli_impset *s)
{
	cJSON_Delete(s->items);
	cJSON_Delete(s->errors);
	idw_buf_free(&s->values);
	s->items = s->errors = NULL;
}

void cli_impset_bad(struct cli_impset *s, size_t line, const char *fmt, ...)
{
	char msg[300];
	int n = 0;
	va_list ap;

	if (line > 0)
		n = snprintf(msg, sizeof(msg), "line %zu: ", line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	if (s->nbad++ < CLI_IMPFILE_ERRORS_MAX && s->errors != NULL)
		cJSON_AddItemToArray(s->errors, cJSON_CreateString(msg));
}

/* Drop the values written since mark (a line that turned out bad). */
void cli_impset_cut(struct cli_impset *s, size_t mark)
{
	if (s->values.len > mark) {
		sodium_memzero(s->values.d + mark, s->values.len - mark);
		s->values.len = mark;
	}
}

/* Add an item (consumed) with its value length and line. */
int cli_impset_add(struct cli_impset *s, cJSON *item, size_t vlen, size_t line)
{
	if (item == NULL ||
	    cJSON_AddNumberToObject(item, "value_len", (double)vlen) == NULL ||
	    cJSON_AddNumberToObject(item, "line", (double)line) == NULL ||
	    !cJSON_AddItemToArray(s->items, item)) {
		cJSON_Delete(item);
		return IDW_ENOMEM;
	}
	return 0;
}

/* ---- our export ---- */

/* The value members of an export line: the string, or base64 of it. */
static int read_value(struct cli_jscan *s, bool b64, struct idw_buf *vals)
{
	struct idw_buf tmp;
	size_t got = 0;
	int r;

	if (!b64)
		return cli_jscan_str(s, vals);
	idw_buf_init(&tmp, CLI_IMPFILE_MAX, IDW_BUF_SECURE);
	if ((r = cli_jscan_str(s, &tmp)) == 0 &&
	    (r = idw_buf_reserve(vals, tmp.len)) == 0 &&
	    sodium_base642bin(vals->d + vals->len, tmp.len, (char *)tmp.d,
			      tmp.len, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		s->err = "value_base64 is not base64";
		r = IDW_EINVAL;
	}
	if (r == 0)
		vals->len += got;
	idw_buf_free(&tmp);
	return r;
}

/* One passport line; *comma says whether a ',' ended it. */
static int export_line(struct cli_impset *st, const char *p, const char *end,
		       size_t line, bool *comma)
{
	struct cli_jscan s = {p, end, NULL, 0};
	size_t mark = st->values.len;
	cJSON *meta = NULL;
	bool has_value = false;
	char k[CLI_JSCAN_KEY_MAX];
	int r = 0;

	*comma = false;
	s.p++; /* '{' */
	if (cli_jscan_eat(&s, '}')) {
		s.err = "an empty object";
		goto bad;
	}
	do {
		cli_jscan_ws(&s);
		if ((r = cli_jscan_key(&s, k)) != 0)
			goto bad;
		if (strcmp(k, "passport") == 0 && meta == NULL) {
			meta = cli_jscan_span(&s);
			if (!cJSON_IsObject(meta)) {
				s.err = s.err ? s.err
					      : "\"passport\" must be an "
						"object";
				goto bad;
			}
		} else if ((strcmp(k, "value") == 0 ||
			    strcmp(k, "value_base64") == 0) &&
			   !has_value) {
			if ((r = read_value(&s, k[5] == '_', &st->values)) != 0)
				goto bad;
			has_value = true;
		} else {
			s.err = "an unknown or repeated member (only passport, "
				"value, value_base64)";
			goto bad;
		}
	} while (cli_jscan_eat(&s, ','));
	if (!cli_jscan_eat(&s, '}')) {
		s.err = "'}' or ',' expected (each passport is one line, as "
			"'idw export' writes it)";
		goto bad;
	}
	*comma = cli_jscan_eat(&s, ',');
	cli_jscan_ws(&s);
	if (s.p != s.end) {
		s.err = "text after the passport";
		goto bad;
	}
	if (meta == NULL) {
		s.err = "no \"passport\" member";
		goto bad;
	}
	if (!has_value || st->values.len == mark) {
		s.err = "no value (was it exported without --with-values?)";
		goto bad;
	}
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(meta, "name"))) {
		s.err = "the passport has no name";
		goto bad;
	}
	/* Derived on every read; never stored. */
	cJSON_DeleteItemFromObjectCaseSensitive(meta, "status");
	return cli_impset_add(st, meta, st->values.len - mark, line);
bad:
	cJSON_Delete(meta);
	cli_impset_cut(st, mark);
	if (r == IDW_ENOMEM)
		return r;
	if (r == IDW_ETOOBIG)
		cli_impset_bad(st, line,
			       "the values are larger than %u bytes in all",
			       CLI_IMPFILE_MAX);
	else
		cli_impset_bad(st, line, "%s", s.err ? s.err : "malformed");
	return 0;
}

static bool only_ws(const char *p, const char *end)
{
	struct cli_jscan s = {p, end, NULL, 0};

	cli_jscan_ws(&s);
	return s.p == s.end;
}

static void export_header(struct cli_impset *st, const char *p, const char *end)
{
	static const char tail[] = "\"passports\":[";
	size_t n = (size_t)(end - p), tn = sizeof(tail) - 1;
	char *text;
	cJSON *h = NULL;

	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n < tn || memcmp(p + n - tn, tail, tn) != 0 ||
	    (text = malloc(n + 3)) == NULL) {
		cli_impset_bad(
			st, 1,
			"not an idw export: the first line must end with "
			"\"passports\":[ (write it with 'idw export --format "
			"json --with-values')");
		return;
	}
	memcpy(text, p, n);
	memcpy(text + n, "]}", 2);
	h = idw_json_parse(text, n + 2);
	free(text);
	if (h == NULL || idw_json_str(h, "format") == NULL ||
	    strcmp(idw_json_str(h, "format"), "idw-export") != 0)
		cli_impset_bad(
			st, 1,
			"not an idw export: no \"format\":\"idw-export\"");
	else if (idw_json_int(h, "version", 0) != 1)
		cli_impset_bad(
			st, 1,
			"an export of version %lld; this idw reads version "
			"1",
			(long long)idw_json_int(h, "version", 0));
	cJSON_Delete(h);
}

int cli_impfile_export(const char *buf, size_t len, struct cli_impset *st)
{
	const char *p = buf, *end = buf + len;
	size_t line = 0, last_item = 0, before;
	bool header = false, closed = false, comma = true;
	bool last_ok = false; /* a bad line's comma is not looked at */
	int r;

	if (st->items == NULL || st->errors == NULL)
		return IDW_ENOMEM;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *t = p;

		line++;
		p = nl ? nl + 1 : end;
		while (t < le && (*t == ' ' || *t == '\t' || *t == '\r'))
			t++;
		if (t == le)
			continue;
		if (!header) {
			header = true;
			export_header(st, t, le);
			if (st->nbad > 0)
				return 0; /* not our file: one message */
			continue;
		}
		if (closed) {
			cli_impset_bad(st, line, "text after the closing ]}");
			continue;
		}
		if ((size_t)(le - t) >= 2 && t[0] == ']' && t[1] == '}' &&
		    only_ws(t + 2, le)) {
			closed = true;
			if (last_item > 0 && last_ok && comma)
				cli_impset_bad(st, last_item,
					       "a ',' after the last passport");
			continue;
		}
		if (*t != '{') {
			cli_impset_bad(st, line,
				       "a passport line starts with '{'");
			continue;
		}
		if (last_item > 0 && last_ok && !comma)
			cli_impset_bad(st, last_item,
				       "no ',' after this passport");
		before = st->nbad;
		if ((r = export_line(st, t, le, line, &comma)) != 0)
			return r;
		last_item = line;
		last_ok = st->nbad == before;
	}
	if (!header)
		cli_impset_bad(st, 0, "the file is empty");
	else if (!closed)
		cli_impset_bad(st, line,
			       "the file ends before the closing ]} (is it cut "
			       "short?)");
	return 0;
}

/* ---- .env ---- */

struct dotenv_ctx {
	struct cli_impset *st;
	const cJSON *tmpl;
	int err;
};

static int dotenv_one(void *ctx, size_t lineno, const char *k, size_t klen,
		      const uint8_t *val, size_t vlen, const char *err)
{
	struct dotenv_ctx *c = ctx;
	char name[CLI_JSCAN_KEY_MAX];
	cJSON *item;
	int r;

	if (err != NULL) {
		cli_impset_bad(c->st, lineno, "%s", err);
		return 0;
	}
	if (klen >= sizeof(name)) {
		cli_impset_bad(c->st, lineno,
			       "the variable's name is too long");
		return 0;
	}
	if (vlen == 0) {
		cli_impset_bad(c->st, lineno,
			       "%.*s is empty: a passport needs a value",
			       (int)klen, k);
		return 0;
	}
	memcpy(name, k, klen);
	name[klen] = '\0';
	if ((r = idw_buf_put(&c->st->values, val, vlen)) != 0) {
		if (r != IDW_ETOOBIG)
			return r;
		cli_impset_bad(c->st, lineno,
			       "the values are larger than %u bytes in all",
			       CLI_IMPFILE_MAX);
		return 0;
	}
	item = cJSON_Duplicate(c->tmpl, 1);
	if (item == NULL ||
	    cJSON_AddStringToObject(item, "name", name) == NULL) {
		cJSON_Delete(item);
		return IDW_ENOMEM;
	}
	return cli_impset_add(c->st, item, vlen, lineno);
}

int cli_impfile_dotenv(const char *buf, size_t len, const cJSON *tmpl,
		       struct cli_impset *st)
{
	struct dotenv_ctx c = {st, tmpl, 0};
	int r;

	if (st->items == NULL || st->errors == NULL)
		return IDW_ENOMEM;
	r = dotenv_walk(buf, len, dotenv_one, &c);
	if (r < 0)
		return r;
	if (cJSON_GetArraySize(st->items) == 0 && st->nbad == 0)
		cli_impset_bad(st, 0, "no variables in the file");
	return 0;
}

int cli_impfile_read(const char *path, size_t max, struct idw_buf *out,
		     char *why, size_t whylen)
{
	struct stat st;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? IDW_ENOENT : IDW_EIO;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", path);
		close(fd);
		return IDW_EINVAL;
	}
	if ((size_t)st.st_size > max) {
		snprintf(why, whylen, "%s is larger than %zu bytes", path, max);
		close(fd);
		return IDW_ETOOBIG;
	}
	if ((r = idw_buf_reserve(out, (size_t)st.st_size)) != 0) {
		snprintf(why, whylen, "out of memory");
		close(fd);
		return r;
	}
	for (;;) {
		ssize_t k;

		if (out->len == out->cap && idw_buf_reserve(out, 1) != 0) {
			snprintf(why, whylen, "%s is larger than %zu bytes",
				 path, max);
			r = IDW_ETOOBIG;
			break;
		}
		k = read(fd, out->d + out->len, out->cap - out->len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			r = IDW_EIO;
			break;
		}
		if (k == 0)
			break;
		out->len += (size_t)k;
	}
	close(fd);
	return r;
}
