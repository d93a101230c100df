/* SPDX-License-Identifier: ISC */
/*
 * Values for a person at a terminal: `idw env` prints variables for a
 * shell, a .env file or JSON, and `idw get` shares its fetching.  Each
 * value is asked for with get; the ones whose passport is never
 * revealed are then asked for together in one get_proven, with person
 * proof.  Values stay in the replies' sodium_malloc memory and in one
 * locked output buffer, are written with write(2) and wiped.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli.h"
#include "client/cli_proof.h"
#include "common/jsonu.h"

#define ENV_OUT_MAX (8u * 1024u * 1024u)

static bool reply_never(const struct idwc_reply *rep)
{
	const char *rv = idw_json_str(rep->json, "reveal");

	return !rep->ok && rep->err == IDW_EDENIED && rv != NULL &&
	       strcmp(rv, "never") == 0;
}

/* Whether a person could be asked for the passphrase here. */
static bool have_tty(void)
{
	int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static cJSON *get_request(const char *verb, const char *ref,
			  const char *purpose, const char *via, const char *var)
{
	cJSON *req = cli_request(verb);

	if (req == NULL ||
	    (ref != NULL && cJSON_AddStringToObject(req, "id", ref) == NULL) ||
	    cJSON_AddStringToObject(req, "purpose", purpose) == NULL ||
	    (via != NULL && cJSON_AddStringToObject(req, "via", via) == NULL) ||
	    (var != NULL && cJSON_AddStringToObject(req, "var", var) == NULL)) {
		cJSON_Delete(req);
		return NULL;
	}
	return req;
}

/* The proven request for every value get refused as never revealed. */
static cJSON *proven_request(struct cli_value *v, size_t n, const bool *never,
			     const char *purpose, const char *via)
{
	cJSON *req, *items, *it;

	if (n == 1 && v[0].var == NULL)
		return get_request("get_proven", v[0].ref, purpose, via, NULL);
	req = get_request("get_proven", NULL, purpose, via, NULL);
	if (req == NULL ||
	    (items = cJSON_AddArrayToObject(req, "items")) == NULL)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (!never[i])
			continue;
		if ((it = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(items, it) ||
		    cJSON_AddStringToObject(it, "id", v[i].ref) == NULL ||
		    (v[i].var != NULL &&
		     cJSON_AddStringToObject(it, "var", v[i].var) == NULL))
			goto fail;
	}
	return req;
fail:
	cJSON_Delete(req);
	return NULL;
}

/* Cut get_proven's secret segment by its "passports" lengths. */
static int cut_proven(struct cli_value *v, size_t n, const bool *never,
		      const struct idwc_reply *rep)
{
	const cJSON *arr =
		cJSON_GetObjectItemCaseSensitive(rep->json, "passports");
	const cJSON *e = arr != NULL ? arr->child : NULL;
	size_t off = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t len;

		if (!never[i])
			continue;
		len = e != NULL ? idw_json_int(e, "length", -1) : -1;
		if (len < 0 || rep->secret == NULL ||
		    (size_t)len > rep->secret_len - off)
			return -1;
		v[i].val = rep->secret + off;
		v[i].len = (size_t)len;
		off += (size_t)len;
		e = e->next;
	}
	return off == rep->secret_len && e == NULL ? 0 : -1;
}

int cli_values_fetch(struct idwc *c, struct cli_value *v, size_t n,
		     const char *purpose, const char *via, bool pass_stdin,
		     struct idwc_reply *reps)
{
	bool never[CLI_VALUES_MAX] = {false};
	size_t nnever = 0;
	cJSON *req;
	int r;

	if (n == 0 || n > CLI_VALUES_MAX)
		return CLI_EXIT_USAGE;
	for (size_t i = 0; i <= n; i++)
		memset(&reps[i], 0, sizeof(reps[i]));
	for (size_t i = 0; i < n; i++) {
		req = get_request("get", v[i].ref, purpose, via, v[i].var);
		if (req == NULL) {
			cli_warn(idw_strerror(IDW_ENOMEM));
			return CLI_EXIT_ERR;
		}
		r = idwc_call(c, req, NULL, 0, false, &reps[i]);
		cJSON_Delete(req);
		if (r != 0) {
			cli_warnf("no answer from the agent: %s",
				  idw_strerror(r));
			return CLI_EXIT_ERR;
		}
		if (reply_never(&reps[i])) {
			never[i] = true;
			nnever++;
			continue;
		}
		if (!reps[i].ok) {
			cli_warn(reps[i].message ? reps[i].message
						 : idw_strerror(reps[i].err));
			return idw_err_exit(reps[i].err < 0 ? reps[i].err
							    : IDW_ERR);
		}
		if (reps[i].secret == NULL) {
			cli_warn("the agent's reply has no value");
			return CLI_EXIT_ERR;
		}
		v[i].val = reps[i].secret;
		v[i].len = reps[i].secret_len;
	}
	if (nnever == 0)
		return CLI_EXIT_OK;
	/* No one to ask: the agent's refusal, which says what to do. */
	if (!pass_stdin && !have_tty()) {
		for (size_t i = 0; i < n; i++)
			if (never[i])
				cli_warn(reps[i].message);
		return idw_err_exit(IDW_EDENIED);
	}
	if ((req = proven_request(v, n, never, purpose, via)) == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	r = cli_call_proven(c, req, NULL, pass_stdin ? CLI_PROOF_STDIN : 0,
			    &reps[n]);
	cJSON_Delete(req);
	if (r != 0)
		return r;
	if (cut_proven(v, n, never, &reps[n]) != 0) {
		cli_warn("the agent's reply does not match the values asked "
			 "for");
		return CLI_EXIT_ERR;
	}
	return CLI_EXIT_OK;
}

/* ---- idw env ------------------------------------------------------ */

enum env_format { FMT_DOTENV, FMT_SHELL, FMT_JSON };

static bool var_ok(const char *s, size_t n)
{
	if (n == 0 || n > 128 || (s[0] >= '0' && s[0] <= '9') ||
	    (n >= 4 && strncmp(s, "IDW_", 4) == 0))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

/*
 * VAR=PASSPORT words into v; the words stay in argv, the variable names
 * are cut into vars (one heap block), NUL-separated.
 */
static int parse_pairs(const struct cli_args *a, struct cli_value *v,
		       char **vars)
{
	size_t total = 0;
	char *p;

	for (size_t i = 0; i < a->npos; i++)
		total += strlen(a->pos[i]) + 1;
	if ((*vars = p = malloc(total > 0 ? total : 1)) == NULL)
		return CLI_EXIT_ERR;
	for (size_t i = 0; i < a->npos; i++) {
		const char *w = a->pos[i], *eq = strchr(w, '=');

		if (eq == NULL || !var_ok(w, (size_t)(eq - w)) ||
		    eq[1] == '\0') {
			char *d = cli_display(w);

			cli_warnf("'%s' is not VAR=PASSPORT (VAR: letters, "
				  "digits and _, not IDW_*; PASSPORT: an id or "
				  "path/name)",
				  d != NULL ? d : "?");
			free(d);
			return CLI_EXIT_USAGE;
		}
		memcpy(p, w, (size_t)(eq - w));
		p[eq - w] = '\0';
		for (size_t k = 0; k < i; k++)
			if (strcmp(v[k].var, p) == 0) {
				cli_warnf("%s is named twice", p);
				return CLI_EXIT_USAGE;
			}
		v[i].var = p;
		v[i].ref = eq + 1;
		p += (eq - w) + 1;
	}
	return CLI_EXIT_OK;
}

/* The value as the format writes it, after "VAR=" or "\"VAR\": ". */
static int put_value(struct idw_buf *o, enum env_format f, const uint8_t *s,
		     size_t n)
{
	int r = 0;

	switch (f) {
	case FMT_JSON:
		if ((r = idw_buf_put_u8(o, '"')) != 0 ||
		    (r = idw_json_escape(o, s, n)) != 0)
			return r;
		return idw_buf_put_u8(o, '"');
	case FMT_SHELL:
		/* Single quotes keep every byte; a quote is '\''. */
		r = idw_buf_put_u8(o, '\'');
		for (size_t i = 0; r == 0 && i < n; i++)
			r = s[i] == '\'' ? idw_buf_put(o, "'\\''", 4)
					 : idw_buf_put_u8(o, s[i]);
		return r != 0 ? r : idw_buf_put_u8(o, '\'');
	case FMT_DOTENV:
		/* DESIGN's .env grammar: double quotes know \\ \" \n only. */
		r = idw_buf_put_u8(o, '"');
		for (size_t i = 0; r == 0 && i < n; i++) {
			if (s[i] == '\\' || s[i] == '"')
				r = idw_buf_put_u8(o, '\\');
			if (r == 0)
				r = s[i] == '\n' ? idw_buf_put(o, "\\n", 2)
						 : idw_buf_put_u8(o, s[i]);
		}
		return r != 0 ? r : idw_buf_put_u8(o, '"');
	}
	return IDW_EINVAL;
}

static int render(struct idw_buf *o, enum env_format f,
		  const struct cli_value *v, size_t n)
{
	int r = 0;

	if (f == FMT_JSON)
		r = idw_buf_put_str(o, "{\n");
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (memchr(v[i].val, '\0', v[i].len) != NULL) {
			cli_warnf("the value of %s holds a NUL byte, which no "
				  "environment variable can carry",
				  v[i].var);
			return IDW_EINVAL;
		}
		if (f == FMT_JSON && !idw_utf8_valid(v[i].val, v[i].len)) {
			cli_warnf("the value of %s is not UTF-8 text, which "
				  "JSON cannot hold: use --format shell or "
				  "dotenv",
				  v[i].var);
			return IDW_EINVAL;
		}
		if (f == FMT_JSON)
			r = idw_buf_printf(o, "  \"%s\": ", v[i].var);
		else
			r = idw_buf_printf(
				o, "%s%s=", f == FMT_SHELL ? "export " : "",
				v[i].var);
		if (r == 0)
			r = put_value(o, f, v[i].val, v[i].len);
		if (r == 0)
			r = idw_buf_put_str(
				o, f == FMT_JSON && i + 1 < n ? ",\n" : "\n");
	}
	if (r == 0 && f == FMT_JSON)
		r = idw_buf_put_str(o, "}\n");
	return r;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int cli_env(const struct cli_args *a)
{
	const char *fmt = cli_arg_value(a, "format");
	const char *purpose = cli_arg_value(a, "purpose");
	struct cli_value v[CLI_VALUES_MAX];
	struct idwc_reply reps[CLI_VALUES_MAX + 1];
	struct idwc *c = NULL;
	enum env_format f = FMT_DOTENV;
	struct idw_buf out;
	char *vars = NULL;
	int rc, r;

	memset(v, 0, sizeof(v));
	memset(reps, 0, sizeof(reps));
	idw_buf_init(&out, ENV_OUT_MAX, IDW_BUF_SECURE);
	if (fmt != NULL && strcmp(fmt, "shell") == 0) {
		f = FMT_SHELL;
	} else if (fmt != NULL && strcmp(fmt, "json") == 0) {
		f = FMT_JSON;
	} else if (fmt != NULL && strcmp(fmt, "dotenv") != 0) {
		cli_warn("--format must be dotenv, shell or json");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (purpose == NULL || purpose[0] == '\0')
		purpose = "idw env";
	if (a->npos > CLI_VALUES_MAX) {
		cli_warnf("at most %d variables at once", CLI_VALUES_MAX);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((rc = parse_pairs(a, v, &vars)) != 0)
		goto out;
	if ((r = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		rc = idw_err_exit(r);
		goto out;
	}
	rc = cli_values_fetch(c, v, a->npos, purpose, "env",
			      cli_arg_set(a, "passphrase-stdin"), reps);
	if (rc != 0)
		goto out;
	if ((r = render(&out, f, v, a->npos)) != 0) {
		if (r != IDW_EINVAL)
			cli_warnf("writing the variables: %s", idw_strerror(r));
		rc = CLI_EXIT_ERR;
		goto out;
	}
	/* Straight from locked memory: never through stdio's buffer. */
	fflush(stdout);
	if (write_all(STDOUT_FILENO, out.d, out.len) != 0) {
		cli_warn("writing to stdout failed");
		rc = CLI_EXIT_ERR;
	}
out:
	for (size_t i = 0; i <= CLI_VALUES_MAX; i++)
		cli_reply_free(&reps[i]);
	idw_buf_free(&out);
	if (c != NULL)
		idwc_close(c);
	free(vars);
	return rc;
}
