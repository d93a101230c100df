/* SPDX-License-Identifier: ISC */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "keychain/dotenv.h"

#define DOTENV_MAX_KEYS 512

static bool key_char(char c, bool first)
{
	return c == '_' || isalpha((unsigned char)c) ||
	       (!first && isdigit((unsigned char)c));
}

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Only blanks or a comment may follow a value. */
static bool rest_ok(const char *p, const char *end)
{
	p = skip_blank(p, end);
	return p == end || *p == '#';
}

/*
 * Decode one value (p..end is the rest of the line after '=') into out,
 * which has room for end - p bytes.  Returns the decoded length or -1.
 */
static long decode_value(const char *p, const char *end, uint8_t *out,
			 const char **err)
{
	size_t n = 0;

	if (p < end && *p == '\'') {
		const char *q = memchr(p + 1, '\'', (size_t)(end - p - 1));

		if (q == NULL) {
			*err = "a single-quoted value is not closed";
			return -1;
		}
		if (!rest_ok(q + 1, end)) {
			*err = "text after the closing quote";
			return -1;
		}
		memcpy(out, p + 1, (size_t)(q - p - 1));
		return q - p - 1;
	}
	if (p < end && *p == '"') {
		for (p++; p < end; p++) {
			if (*p == '"') {
				if (!rest_ok(p + 1, end)) {
					*err = "text after the closing quote";
					return -1;
				}
				return (long)n;
			}
			if (*p == '\\') {
				if (++p == end)
					break;
				if (*p == '\\' || *p == '"')
					out[n++] = (uint8_t)*p;
				else if (*p == 'n')
					out[n++] = '\n';
				else {
					*err = "an unknown escape in a "
					       "double-quoted value (only \\\\ "
					       "\\\" \\n)";
					return -1;
				}
				continue;
			}
			out[n++] = (uint8_t)*p;
		}
		*err = "a double-quoted value is not closed";
		return -1;
	}
	/* Unquoted: up to " #" or the end, trailing blanks dropped. */
	for (const char *q = p; q < end; q++) {
		if (*q == '#' && q > p && (q[-1] == ' ' || q[-1] == '\t'))
			break;
		if (*q == '"' || *q == '\'') {
			*err = "a quote inside an unquoted value";
			return -1;
		}
		out[n++] = (uint8_t)*q;
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	return (long)n;
}

int dotenv_get(const char *buf, size_t len, const char *key, uint8_t **val,
	       size_t *vlen, char *why, size_t whylen)
{
	const char *p = buf, *end = buf + len;
	size_t lineno = 0, klen = strlen(key);
	uint8_t *found = NULL, *tmp;
	size_t found_len = 0, nseen = 0;
	struct {
		const char *k;
		size_t len;
	} seen[DOTENV_MAX_KEYS];
	int r = IDW_ENOENT;

	*val = NULL;
	*vlen = 0;
	if (len > DOTENV_MAX) {
		snprintf(why, whylen, "the file is larger than %u bytes",
			 DOTENV_MAX);
		return IDW_ETOOBIG;
	}
	tmp = sodium_malloc(len + 1);
	if (tmp == NULL) {
		snprintf(why, whylen, "out of memory");
		return IDW_ENOMEM;
	}
	/* Every line is checked, so a malformed file is refused whole. */
	for (; p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *k, *err = NULL;
		long n;

		if (le > p && le[-1] == '\r')
			le--;
		k = skip_blank(p, le);
		p = nl ? nl + 1 : end;
		if (k == le || *k == '#')
			continue;
		if ((size_t)(le - k) > 7 && memcmp(k, "export", 6) == 0 &&
		    (k[6] == ' ' || k[6] == '\t'))
			k = skip_blank(k + 7, le);
		const char *ke = k;

		while (ke < le && key_char(*ke, ke == k))
			ke++;
		if (ke == k || ke == le || *ke != '=') {
			snprintf(why, whylen,
				 "line %zu: expected KEY=VALUE (keys are "
				 "letters, digits and _)",
				 lineno + 1);
			r = IDW_EINVAL;
			goto out;
		}
		n = decode_value(ke + 1, le, tmp, &err);
		if (n < 0) {
			snprintf(why, whylen, "line %zu: %s", lineno + 1, err);
			r = IDW_EINVAL;
			goto out;
		}
		for (size_t i = 0; i < nseen; i++)
			if (seen[i].len == (size_t)(ke - k) &&
			    memcmp(seen[i].k, k, seen[i].len) == 0) {
				snprintf(why, whylen,
					 "line %zu: %.*s is given twice",
					 lineno + 1, (int)(ke - k), k);
				r = IDW_EINVAL;
				goto out;
			}
		if (nseen == DOTENV_MAX_KEYS) {
			snprintf(why, whylen, "line %zu: more than %d keys",
				 lineno + 1, DOTENV_MAX_KEYS);
			r = IDW_EINVAL;
			goto out;
		}
		seen[nseen].k = k;
		seen[nseen++].len = (size_t)(ke - k);
		if ((size_t)(ke - k) != klen || memcmp(k, key, klen) != 0)
			continue;
		found = sodium_malloc((size_t)n + 1);
		if (found == NULL) {
			snprintf(why, whylen, "out of memory");
			r = IDW_ENOMEM;
			goto out;
		}
		memcpy(found, tmp, (size_t)n);
		found[n] = '\0';
		found_len = (size_t)n;
	}
	if (found != NULL) {
		*val = found;
		*vlen = found_len;
		found = NULL;
		r = 0;
	} else {
		snprintf(why, whylen, "%s is not set in it", key);
	}
out:
	if (found != NULL)
		sodium_free(found);
	sodium_free(tmp);
	return r;
}

int dotenv_walk(const char *buf, size_t len, dotenv_fn fn, void *ctx)
{
	const char *p = buf, *end = buf + len;
	size_t lineno = 0, nseen = 0, nseen_max = 0;
	const char **seen = NULL;
	size_t *seen_len = NULL;
	int r = 0, bad = 0;
	uint8_t *tmp;

	if ((tmp = sodium_malloc(len + 1)) == NULL)
		return IDW_ENOMEM;
	for (const char *q = buf; q < end; q++)
		nseen_max += *q == '=';
	seen = calloc(nseen_max + 1, sizeof(*seen));
	seen_len = calloc(nseen_max + 1, sizeof(*seen_len));
	if (seen == NULL || seen_len == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	for (; p < end && r == 0; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *k, *ke, *err = NULL;
		long n;

		if (le > p && le[-1] == '\r')
			le--;
		k = skip_blank(p, le);
		p = nl ? nl + 1 : end;
		if (k == le || *k == '#')
			continue;
		if ((size_t)(le - k) > 7 && memcmp(k, "export", 6) == 0 &&
		    (k[6] == ' ' || k[6] == '\t'))
			k = skip_blank(k + 7, le);
		ke = k;
		while (ke < le && key_char(*ke, ke == k))
			ke++;
		if (ke == k || ke == le || *ke != '=') {
			bad++;
			r = fn(ctx, lineno + 1, NULL, 0, NULL, 0,
			       "expected KEY=VALUE (keys are letters, digits "
			       "and _)");
			continue;
		}
		n = decode_value(ke + 1, le, tmp, &err);
		if (n < 0) {
			bad++;
			r = fn(ctx, lineno + 1, NULL, 0, NULL, 0, err);
			continue;
		}
		for (size_t i = 0; i < nseen && err == NULL; i++)
			if (seen_len[i] == (size_t)(ke - k) &&
			    memcmp(seen[i], k, seen_len[i]) == 0)
				err = "the key is given twice";
		if (err != NULL) {
			bad++;
			r = fn(ctx, lineno + 1, NULL, 0, NULL, 0, err);
			continue;
		}
		seen[nseen] = k;
		seen_len[nseen++] = (size_t)(ke - k);
		r = fn(ctx, lineno + 1, k, (size_t)(ke - k), tmp, (size_t)n,
		       NULL);
		sodium_memzero(tmp, (size_t)n);
	}
out:
	free(seen);
	free(seen_len);
	sodium_free(tmp);
	if (r != 0)
		return r < 0 ? r : IDW_ERR;
	return bad;
}

int dotenv_read_file(const char *path, char **buf, size_t *len, char *why,
		     size_t whylen)
{
	struct stat st;
	char *b = NULL;
	size_t n = 0;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return IDW_ENOENT;
		snprintf(why, whylen, "%s: %s", path,
			 errno == ELOOP ? "is a symbolic link; refusing it"
					: strerror(errno));
		return IDW_EPERM;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", path);
		goto perm;
	}
	if (st.st_uid != geteuid()) {
		snprintf(why, whylen,
			 "%s belongs to uid %u, not to us; refusing it", path,
			 (unsigned)st.st_uid);
		goto perm;
	}
	if (st.st_mode & 077) {
		snprintf(why, whylen,
			 "%s is readable by group or others (mode %03o); run "
			 "'chmod 600 %s'",
			 path, (unsigned)(st.st_mode & 0777), path);
		goto perm;
	}
	if ((size_t)st.st_size > DOTENV_MAX) {
		snprintf(why, whylen, "%s is larger than %u bytes", path,
			 DOTENV_MAX);
		goto perm;
	}
	b = sodium_malloc((size_t)st.st_size + 1);
	if (b == NULL) {
		snprintf(why, whylen, "out of memory");
		close(fd);
		return IDW_ENOMEM;
	}
	while (n < (size_t)st.st_size) {
		ssize_t k = read(fd, b + n, (size_t)st.st_size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			/* Half a file could hold half a passphrase. */
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			sodium_free(b);
			close(fd);
			return IDW_EIO;
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
perm:
	close(fd);
	return IDW_EPERM;
}
