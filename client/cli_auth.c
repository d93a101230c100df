/* SPDX-License-Identifier: ISC */
/*
 * idw auth: session tokens, the keychain login, and which unlock source a
 * new agent would use from here (DESIGN "Unlock chain").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli.h"
#include "client/cli_proof.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "common/paths.h"
#include "common/vhdr.h"
#include "keychain/dotenv.h"
#include "keychain/keychain.h"
#include "keychain/token.h"

static unsigned proof_flags(const struct cli_args *a)
{
	return cli_arg_set(a, "passphrase-stdin") ? CLI_PROOF_STDIN : 0;
}

/* --ttl N{s,m,h,d}, or --expires 24h|7d|30d. */
static int lifetime(const struct cli_args *a, int64_t *secs)
{
	const char *ttl = cli_arg_value(a, "ttl");
	const char *exp = cli_arg_value(a, "expires");

	if ((ttl == NULL) == (exp == NULL)) {
		cli_warn("give one of --ttl DURATION or --expires 24h|7d|30d");
		return CLI_EXIT_USAGE;
	}
	if (exp != NULL && strcmp(exp, "24h") != 0 && strcmp(exp, "7d") != 0 &&
	    strcmp(exp, "30d") != 0) {
		cli_warn("--expires takes 24h, 7d or 30d");
		return CLI_EXIT_USAGE;
	}
	if (idw_duration_parse(ttl ? ttl : exp, secs) != 0) {
		cli_warn("--ttl takes a duration like 720h, 30d or 90m");
		return CLI_EXIT_USAGE;
	}
	return 0;
}

int cli_token_create(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	struct idwc *c = NULL;
	cJSON *req;
	int64_t ttl;
	int rc;

	if ((rc = lifetime(a, &ttl)) != 0)
		return rc;
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	req = cli_request("token_create");
	if (req == NULL) {
		idwc_close(c);
		return CLI_EXIT_ERR;
	}
	cJSON_AddStringToObject(req, "label", cli_arg_value(a, "label"));
	cJSON_AddNumberToObject(req, "ttl_s", (double)ttl);
	cJSON_AddBoolToObject(req, "auth_only", cli_arg_set(a, "auth-only"));
	rc = cli_call_proven(c, req, NULL, proof_flags(a), &rep);
	if (rc == 0 && rep.secret != NULL) {
		/* Printed once: nothing keeps the token but its holder. */
		rc = cli_write_value(rep.secret, rep.secret_len);
		fprintf(stderr,
			"idw: token %s '%s' (%s) expires %s; it is shown only "
			"this once\n",
			idw_json_str(rep.json, "id"),
			idw_json_str(rep.json, "label"),
			idw_json_str(rep.json, "kind"),
			idw_json_str(rep.json, "expires_at"));
	}
	cli_reply_free(&rep);
	cJSON_Delete(req);
	idwc_close(c);
	return rc;
}

int cli_token_list(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	const cJSON *t, *arr;
	int rc;

	rc = cli_simple(CLI_CONN_AUTOSTART, cli_request("token_list"), NULL,
			&rep);
	if (rc != 0)
		goto out;
	arr = cJSON_GetObjectItemCaseSensitive(rep.json, "tokens");
	if (cli_arg_set(a, "json")) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemReferenceToObject(o, "tokens", (cJSON *)arr);
		rc = cli_print_json(o) == 0 ? 0 : CLI_EXIT_ERR;
		cJSON_Delete(o);
		goto out;
	}
	if (cJSON_GetArraySize(arr) == 0) {
		fprintf(stderr, "no tokens\n");
		goto out;
	}
	printf("%-12s  %-20s  %-9s  %-8s  %-20s  %s\n", "ID", "LABEL", "KIND",
	       "STATUS", "EXPIRES", "LAST USE");
	cJSON_ArrayForEach(t, arr)
	{
		char *label = cli_display(idw_json_str(t, "label"));
		const char *exp = idw_json_str(t, "expires");
		const char *used = idw_json_str(t, "last_use");

		printf("%-12s  %-20.20s  %-9s  %-8s  %-20s  %s\n",
		       idw_json_str(t, "id"), label ? label : "",
		       idw_json_str(t, "kind"), idw_json_str(t, "status"),
		       exp ? exp : "-", used ? used : "-");
		free(label);
	}
out:
	cli_reply_free(&rep);
	return rc;
}

int cli_token_revoke(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	cJSON *req = cli_request("token_revoke");
	int rc;

	if (req != NULL)
		cJSON_AddStringToObject(req, "id", a->pos[0]);
	rc = cli_simple(CLI_CONN_AUTOSTART, req, NULL, &rep);
	if (rc == 0)
		printf("token %s '%s' revoked: it no longer opens this vault "
		       "(a copy of vault.idw taken earlier still opens with "
		       "it until 'idw vault rekey')\n",
		       idw_json_str(rep.json, "id"),
		       idw_json_str(rep.json, "label"));
	cli_reply_free(&rep);
	return rc;
}

int cli_auth_login(const struct cli_args *a)
{
	struct idwc_reply rep = {0}, conf = {0};
	struct idwc *c = NULL;
	char why[600];
	const char *vid;
	cJSON *req = NULL, *creq = NULL;
	int rc, r;

	if (!kc_bus_present()) {
		cli_warn("no session bus (DBUS_SESSION_BUS_ADDRESS is unset): "
			 "there is no OS keychain to log in to here; use 'idw "
			 "auth token create' for headless clients");
		return CLI_EXIT_ERR;
	}
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	vid = idwc_hello_info(c)->vault_id;
	if ((req = cli_request("login")) == NULL) {
		rc = CLI_EXIT_ERR;
		goto out;
	}
	rc = cli_call_proven(c, req, NULL, proof_flags(a), &rep);
	if (rc != 0)
		goto out;
	if (rep.secret == NULL || rep.secret_len != KC_KEY_LEN) {
		cli_warn("the agent sent no machine key");
		rc = CLI_EXIT_ERR;
		goto out;
	}
	/* Stored first, then committed: a crash between leaves no slot. */
	if ((r = kc_store(vid, rep.secret, why, sizeof(why))) != 0) {
		cli_warn(why);
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if ((creq = cli_request("login_confirm")) == NULL ||
	    (rc = cli_call(c, creq, NULL, &conf)) != 0)
		goto out;
	printf("logged in: this session's keychain now unlocks vault %s; "
	       "MCP configs need no secret\n",
	       vid);
out:
	cli_reply_free(&rep);
	cli_reply_free(&conf);
	cJSON_Delete(req);
	cJSON_Delete(creq);
	idwc_close(c);
	return rc;
}

int cli_auth_logout(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	char why[600], vid[33];
	int rc, r;

	(void)a;
	rc = cli_simple(CLI_CONN_AUTOSTART, cli_request("logout"), NULL, &rep);
	if (rc != 0)
		goto out;
	snprintf(vid, sizeof(vid), "%s", idw_json_str(rep.json, "vault_id"));
	r = kc_delete(vid, why, sizeof(why));
	if (r != 0 && r != IDW_ENOENT) {
		cli_warn(why);
		rc = CLI_EXIT_ERR;
		goto out;
	}
	printf("logged out: the keychain no longer unlocks vault %s\n", vid);
out:
	cli_reply_free(&rep);
	return rc;
}
