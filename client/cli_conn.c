/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "client/cli_input.h"
#include "common/escape.h"
#include "common/paths.h"

/* Long enough for an agent that derives a sensitive-level key at start. */
#define CLI_START_TIMEOUT_MS 15000

void cli_warn(const char *text)
{
	const char *p = text ? text : "", *nl;
	struct idw_buf line, out;

	idw_buf_init(&line, 64 * 1024, 0);
	idw_buf_init(&out, 64 * 1024, 0);
	do {
		nl = strchr(p, '\n');
		idw_buf_reset(&line);
		idw_buf_reset(&out);
		if (idw_buf_put(&line, p, nl ? (size_t)(nl - p) : strlen(p)) ==
			    0 &&
		    idw_buf_put_u8(&line, 0) == 0 &&
		    idw_escape_display(&out, (const char *)line.d) == 0 &&
		    out.len > 0)
			fprintf(stderr, "idw: %.*s\n", (int)out.len,
				(const char *)out.d);
		p = nl ? nl + 1 : NULL;
	} while (p != NULL && *p != '\0');
	idw_buf_free(&line);
	idw_buf_free(&out);
}

void cli_warnf(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_warn(msg);
}

const char *cli_home(void)
{
	static char home[IDW_PATH_MAX];

	/* Not idwc_paths: naming the home must not create it. */
	if (home[0] == '\0' && idw_home_path(home, sizeof(home)) != 0)
		home[0] = '\0';
	return home;
}

int cli_connect(unsigned flags, const struct idw_buf *pass, struct idwc **out)
{
	struct idwc_opts o;
	struct idw_buf asked;
	char why[4096], prompt[IDW_PATH_MAX + 32];
	bool no_source = false;
	int r;

	memset(&o, 0, sizeof(o));
	o.client_name = "idw";
	o.autostart = (flags & CLI_CONN_AUTOSTART) != 0;
	o.allow_no_vault = (flags & CLI_CONN_NO_VAULT) != 0;
	o.start_timeout_ms = CLI_START_TIMEOUT_MS;
	if (pass != NULL) {
		o.passphrase = pass->d;
		o.passphrase_len = pass->len;
	}
	why[0] = '\0';
	*out = NULL;
	r = idwc_connect(&o, out, why, sizeof(why), &no_source);
	if (r == IDW_EUNLOCK && no_source && o.autostart && pass == NULL &&
	    cli_have_tty()) {
		/* No unlock source at all: a person at a terminal may answer.
		 */
		idw_buf_init(&asked, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
		snprintf(prompt, sizeof(prompt),
			 "Passphrase for %s: ", cli_home());
		if (cli_prompt_tty(prompt, &asked, CLI_PASS_MAX) == 0 &&
		    asked.len > 0) {
			o.passphrase = asked.d;
			o.passphrase_len = asked.len;
			why[0] = '\0';
			no_source = false;
			r = idwc_connect(&o, out, why, sizeof(why), &no_source);
		}
		idw_buf_free(&asked);
	}
	if (r == 0)
		return 0;
	*out = NULL;
	if (r == IDW_ENOAGENT && (flags & CLI_CONN_ABSENT_OK))
		return r;
	cli_warn(why[0] != '\0' ? why : idw_strerror(r));
	return r;
}

void cli_reply_free(struct idwc_reply *rep)
{
	if (rep->json != NULL || rep->secret != NULL)
		idwc_reply_free(rep);
	memset(rep, 0, sizeof(*rep));
}

int cli_call(struct idwc *c, const cJSON *req, const struct idw_buf *secret,
	     struct idwc_reply *rep)
{
	int r, err;

	memset(rep, 0, sizeof(*rep));
	r = idwc_call(c, req, secret ? secret->d : NULL,
		      secret ? secret->len : 0, secret != NULL, rep);
	if (r != 0) {
		cli_warnf("no answer from the agent: %s", idw_strerror(r));
		return idw_err_exit(r) != 0 ? idw_err_exit(r) : CLI_EXIT_ERR;
	}
	if (rep->ok)
		return CLI_EXIT_OK;
	err = rep->err < 0 ? rep->err : IDW_ERR;
	cli_warn(rep->message != NULL && rep->message[0] != '\0'
			 ? rep->message
			 : idw_strerror(err));
	return idw_err_exit(err);
}

int cli_simple(unsigned flags, cJSON *req, const struct idw_buf *secret,
	       struct idwc_reply *rep)
{
	struct idwc *c = NULL;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (req == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	if ((r = cli_connect(flags, NULL, &c)) != 0) {
		cJSON_Delete(req);
		return idw_err_exit(r);
	}
	r = cli_call(c, req, secret, rep);
	idwc_close(c);
	cJSON_Delete(req);
	return r;
}

cJSON *cli_request(const char *verb)
{
	cJSON *req = cJSON_CreateObject();

	if (req != NULL && cJSON_AddStringToObject(req, "verb", verb) == NULL) {
		cJSON_Delete(req);
		req = NULL;
	}
	return req;
}
