/* SPDX-License-Identifier: ISC */
/*
 * idw export --format json [--with-values] [--output FILE]: every
 * passport, one a line, in a JSON document that `idw import` reads back.
 * Metadata comes from `list`; values only with --with-values, from the
 * person-proven `export_values`, in pages.  A value goes from the reply's
 * locked secret segment through our own escaper into a locked line
 * buffer and out: never through cJSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define LINE_MAX_BYTES (2u * 1024u * 1024u)
#define LIST_PAGE 500
#define PAGES_MAX 100000

struct writer {
	int fd;
	const char *path;    /* NULL: stdout */
	struct idw_buf prev; /* the last line, held for its comma */
	bool have_prev;
	size_t count;
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return IDW_EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Flush the held line, with the comma that another line follows. */
static int flush_prev(struct writer *w, const char *sep)
{
	int r = 0;

	if (w->have_prev &&
	    ((r = write_all(w->fd, w->prev.d, w->prev.len)) != 0 ||
	     (r = write_all(w->fd, (const uint8_t *)sep, strlen(sep))) != 0))
		return r;
	idw_buf_reset(&w->prev);
	w->have_prev = false;
	return 0;
}

/* One passport line: its metadata and, when given, its value. */
static int emit(struct writer *w, const cJSON *meta, const uint8_t *val,
		size_t vlen)
{
	char *m;
	int r;

	if ((r = flush_prev(w, ",\n")) != 0)
		return r;
	if ((m = idw_json_print(meta)) == NULL)
		return IDW_ENOMEM;
	r = idw_buf_printf(&w->prev, "{\"passport\":%s", m);
	cJSON_free(m);
	if (r == 0 && val != NULL) {
		if (idw_utf8_valid(val, vlen)) {
			if ((r = idw_buf_put_str(&w->prev, ",\"value\":\"")) ==
				    0 &&
			    (r = idw_json_escape(&w->prev, val, vlen)) == 0)
				r = idw_buf_put_str(&w->prev, "\"");
		} else {
			size_t n = sodium_base64_encoded_len(
				vlen, sodium_base64_VARIANT_ORIGINAL);

			if ((r = idw_buf_put_str(
				     &w->prev, ",\"value_base64\":\"")) == 0 &&
			    (r = idw_buf_reserve(&w->prev, n)) == 0) {
				sodium_bin2base64(
					(char *)w->prev.d + w->prev.len, n, val,
					vlen, sodium_base64_VARIANT_ORIGINAL);
				w->prev.len += n - 1;
				r = idw_buf_put_str(&w->prev, "\"");
			}
		}
	}
	if (r == 0)
		r = idw_buf_put_str(&w->prev, "}");
	w->have_prev = r == 0;
	w->count += r == 0;
	return r;
}

static int header(struct writer *w, struct idwc *c, bool values)
{
	char t[IDW_TIME_LEN], *txt;
	cJSON *h = cJSON_CreateObject();
	int r = IDW_ENOMEM;

	idw_time_fmt_utc(idw_now(), t);
	if (h == NULL ||
	    cJSON_AddStringToObject(h, "format", "idw-export") == NULL ||
	    cJSON_AddNumberToObject(h, "version", 1) == NULL ||
	    cJSON_AddStringToObject(h, "vault_id",
				    idwc_hello_info(c)->vault_id) == NULL ||
	    cJSON_AddStringToObject(h, "exported_at", t) == NULL ||
	    cJSON_AddBoolToObject(h, "with_values", values) == NULL ||
	    (txt = idw_json_print(h)) == NULL)
		goto out;
	/* The header line opens the list: {"format":...,"passports":[ */
	txt[strlen(txt) - 1] = '\0';
	r = write_all(w->fd, (const uint8_t *)txt, strlen(txt));
	if (r == 0)
		r = write_all(w->fd, (const uint8_t *)",\"passports\":[\n", 15);
	cJSON_free(txt);
out:
	cJSON_Delete(h);
	return r;
}

/* Metadata only, from list's pages. */
static int export_meta(struct writer *w, struct idwc *c)
{
	char cursor[32] = "";
	int rc = 0;

	for (int page = 0; page < PAGES_MAX; page++) {
		struct idwc_reply rep = {0};
		const cJSON *e;
		const char *next;
		cJSON *req = cli_request("list");

		if (req == NULL ||
		    cJSON_AddNumberToObject(req, "limit", LIST_PAGE) == NULL ||
		    (cursor[0] &&
		     cJSON_AddStringToObject(req, "cursor", cursor) == NULL)) {
			cJSON_Delete(req);
			cli_warn(idw_strerror(IDW_ENOMEM));
			return CLI_EXIT_ERR;
		}
		rc = cli_call(c, req, NULL, &rep);
		cJSON_Delete(req);
		if (rc != 0) {
			cli_reply_free(&rep);
			return rc;
		}
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(
					      rep.json, "passports"))
		{
			if (emit(w, e, NULL, 0) != 0) {
				cli_reply_free(&rep);
				return idw_err_exit(IDW_EIO);
			}
		}
		next = idw_json_str(rep.json, "next_cursor");
		snprintf(cursor, sizeof(cursor), "%s", next ? next : "");
		cli_reply_free(&rep);
		if (cursor[0] == '\0')
			return 0;
	}
	return 0;
}

/* Every passport with its value: proven pages of export_values. */
static int export_values(struct writer *w, struct idwc *c, unsigned flags)
{
	struct idw_buf pass;
	char cursor[32] = "";
	int rc;

	idw_buf_init(&pass, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	if ((rc = cli_proof_read(c, "export_values", flags, &pass)) != 0)
		goto out;
	for (int page = 0; page < PAGES_MAX; page++) {
		struct idwc_reply rep = {0};
		const cJSON *e, *list;
		const char *next;
		size_t off = 0;
		cJSON *req = cli_request("export_values");

		if (req == NULL ||
		    (cursor[0] &&
		     cJSON_AddStringToObject(req, "cursor", cursor) == NULL)) {
			cJSON_Delete(req);
			cli_warn(idw_strerror(IDW_ENOMEM));
			rc = CLI_EXIT_ERR;
			goto out;
		}
		rc = cli_call_proven_pass(c, req, NULL, &pass, &rep);
		cJSON_Delete(req);
		if (rc != 0) {
			cli_reply_free(&rep);
			goto out;
		}
		list = cJSON_GetObjectItemCaseSensitive(rep.json, "passports");
		cJSON_ArrayForEach(e, list)
		{
			int64_t n = idw_json_int(e, "value_len", -1);
			const cJSON *m =
				cJSON_GetObjectItemCaseSensitive(e, "passport");

			if (n < 0 || (size_t)n > rep.secret_len - off ||
			    !cJSON_IsObject(m)) {
				cli_warn("the agent's export page is "
					 "malformed");
				rc = CLI_EXIT_ERR;
			} else if (emit(w, m, rep.secret + off, (size_t)n) !=
				   0) {
				rc = idw_err_exit(IDW_EIO);
			}
			if (rc != 0)
				break;
			off += (size_t)n;
		}
		next = idw_json_str(rep.json, "next_cursor");
		snprintf(cursor, sizeof(cursor), "%s", next ? next : "");
		cli_reply_free(&rep);
		if (rc != 0 || cursor[0] == '\0')
			break;
	}
out:
	idw_buf_free(&pass);
	return rc;
}

int cli_export(const struct cli_args *a)
{
	const char *fmt = cli_arg_value(a, "format");
	const char *path = cli_arg_value(a, "output");
	bool values = cli_arg_set(a, "with-values");
	struct writer w = {.fd = STDOUT_FILENO, .path = path};
	struct idwc *c = NULL;
	int rc, r;

	if (fmt != NULL && strcmp(fmt, "json") != 0) {
		cli_warn("--format: only json is written");
		return CLI_EXIT_USAGE;
	}
	if ((r = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(r);
	if (path != NULL) {
		/* Never over another file; only we may read it. */
		w.fd = open(path,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC,
			    0600);
		if (w.fd < 0) {
			cli_warnf("%s: %s%s", path, strerror(errno),
				  errno == EEXIST ? ": choose another name"
						  : "");
			idwc_close(c);
			return CLI_EXIT_ERR;
		}
	}
	idw_buf_init(&w.prev, LINE_MAX_BYTES, IDW_BUF_SECURE);
	rc = header(&w, c, values) != 0 ? idw_err_exit(IDW_EIO) : 0;
	if (rc == 0)
		rc = values ? export_values(&w, c,
					    cli_arg_set(a, "passphrase-stdin")
						    ? CLI_PROOF_STDIN
						    : 0)
			    : export_meta(&w, c);
	if (rc == 0 && (flush_prev(&w, "\n") != 0 ||
			write_all(w.fd, (const uint8_t *)"]}\n", 3) != 0 ||
			(path != NULL && fsync(w.fd) != 0))) {
		cli_warnf("writing the export failed: %s", strerror(errno));
		rc = CLI_EXIT_ERR;
	}
	idw_buf_free(&w.prev);
	idwc_close(c);
	if (path != NULL) {
		close(w.fd);
		if (rc != 0)
			(void)unlink(path); /* no half export left behind */
	}
	if (rc == 0 && values)
		cli_warnf("exported %zu passports with their values%s%s: "
			  "anyone who reads it has every one of them; keep "
			  "it safe and delete it once imported",
			  w.count, path ? " to " : "", path ? path : "");
	else if (rc == 0)
		cli_warnf("exported %zu passports (metadata, no values)",
			  w.count);
	return rc;
}
