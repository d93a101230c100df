/* SPDX-License-Identifier: ISC */
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define CLI_DEFAULT_VALID_DAYS 90
#define CLI_MAX_VALID_DAYS 36500
#define CLI_LIST_PAGE 500
#define CLI_LIST_MAX_PAGES 1000

static const char *const cred_types[] = {
	"api-key",     "oauth-token",	    "password", "ssh-key",
	"certificate", "connection-string", "other",	NULL};
static const char *const visa_types[] = {"access",     "privilege", "data",
					 "compliance", "ecosystem", "custom",
					 NULL};
static const char *const tiers[] = {"standard", "sensitive", "critical", NULL};
static const char *const statuses[] = {"active",  "expiring",  "expired",
				       "revoked", "suspended", NULL};
static const char *const reveals[] = {"model", "never", NULL};

static int usage(const char *msg)
{
	cli_warn(msg);
	return CLI_EXIT_USAGE;
}

/* An optional option's value must be one of set. */
static int check_choice(const struct cli_args *a, const char *opt,
			const char *const *set)
{
	const char *v = cli_arg_value(a, opt);
	char list[256] = "";

	if (v == NULL)
		return 0;
	for (size_t i = 0; set[i] != NULL; i++)
		if (strcmp(v, set[i]) == 0)
			return 0;
	for (size_t i = 0; set[i] != NULL; i++) {
		strncat(list, set[i], sizeof(list) - strlen(list) - 1);
		if (set[i + 1] != NULL)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
	}
	cli_warnf("--%s must be one of: %s", opt, list);
	return CLI_EXIT_USAGE;
}

static bool add_str(cJSON *o, const char *key, const char *v)
{
	return v == NULL || cJSON_AddStringToObject(o, key, v) != NULL;
}

static bool add_list(cJSON *o, const char *key, const struct cli_args *a,
		     const char *opt)
{
	char *const *items;
	size_t n = cli_arg_list(a, opt, &items);
	cJSON *arr;

	if (n == 0)
		return true;
	if ((arr = cJSON_AddArrayToObject(o, key)) == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		cJSON *s = cJSON_CreateString(items[i]);

		if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			return false;
		}
	}
	return true;
}

/* --valid-days N (N x 86400 s from valid_from) or --valid-until DATE. */
static int validity(const struct cli_args *a, int64_t now, int64_t *until)
{
	const char *days = cli_arg_value(a, "valid-days");
	const char *date = cli_arg_value(a, "valid-until");
	long n = CLI_DEFAULT_VALID_DAYS;

	if (days != NULL && date != NULL)
		return usage("--valid-days and --valid-until exclude each "
			     "other");
	if (date != NULL) {
		if (idw_time_parse(date, 1, until) != 0)
			return usage("--valid-until wants YYYY-MM-DD or an "
				     "RFC 3339 time");
		return 0;
	}
	if (days != NULL) {
		char *end = NULL;

		if (!isdigit((unsigned char)days[0]))
			return usage("--valid-days wants a number of days");
		n = strtol(days, &end, 10);
		if (*end != '\0' || n < 1 || n > CLI_MAX_VALID_DAYS)
			return usage("--valid-days wants a number of days "
				     "from 1 to 36500");
	}
	*until = now + (int64_t)n * 86400;
	return 0;
}

/* The create request without the value; *req NULL on a usage error. */
static int create_request(const struct cli_args *a, cJSON **req)
{
	const char *name = cli_arg_value(a, "name");
	const char *type = cli_arg_value(a, "type");
	const char *owner = cli_arg_value(a, "owner");
	char from[IDW_TIME_LEN], until_s[IDW_TIME_LEN];
	int64_t now = idw_now(), until = 0;
	cJSON *r, *visa;
	bool ok;
	int rc;

	*req = NULL;
	if (name == NULL || name[0] == '\0')
		return usage("--name is required");
	if (type == NULL)
		return usage("--type is required");
	if ((rc = check_choice(a, "type", cred_types)) != 0 ||
	    (rc = check_choice(a, "visa", visa_types)) != 0 ||
	    (rc = check_choice(a, "tier", tiers)) != 0 ||
	    (rc = check_choice(a, "reveal", reveals)) != 0)
		return rc;
	if (cli_arg_value(a, "valid-from") != NULL &&
	    idw_time_parse(cli_arg_value(a, "valid-from"), 0, &now) != 0)
		return usage("--valid-from wants YYYY-MM-DD or an RFC 3339 "
			     "time");
	if (owner != NULL && cli_arg_set(a, "no-owner"))
		return usage("--owner and --no-owner exclude each other");
	if (owner != NULL && owner[0] == '\0')
		return usage("--owner wants a name (or use --no-owner)");
	if ((rc = validity(a, now, &until)) != 0)
		return rc;
	if (owner == NULL && !cli_arg_set(a, "no-owner")) {
		struct passwd *pw = getpwuid(geteuid());

		if (pw == NULL || pw->pw_name == NULL) {
			cli_warn("cannot tell who you are: use --owner NAME "
				 "or --no-owner");
			return CLI_EXIT_ERR;
		}
		owner = pw->pw_name;
	}
	idw_time_fmt_utc(now, from);
	idw_time_fmt_utc(until, until_s);

	if ((r = cli_request("create")) == NULL)
		goto nomem;
	ok = add_str(r, "name", name) && add_str(r, "credential_type", type) &&
	     add_str(r, "path", cli_arg_value(a, "path")) &&
	     add_list(r, "platforms", a, "platform") &&
	     add_str(r, "agent_id", cli_arg_value(a, "agent")) &&
	     add_str(r, "valid_from", from) &&
	     add_str(r, "valid_until", until_s) &&
	     add_str(r, "access_tier", cli_arg_value(a, "tier")) &&
	     add_list(r, "tags", a, "tag") &&
	     add_str(r, "notes", cli_arg_value(a, "notes")) &&
	     add_str(r, "reveal", cli_arg_value(a, "reveal"));
	if (ok && owner != NULL)
		ok = add_str(r, "human_owner", owner);
	else if (ok)
		ok = cJSON_AddNullToObject(r, "human_owner") != NULL;
	if (ok && (cli_arg_set(a, "visa") || cli_arg_set(a, "scope") ||
		   cli_arg_set(a, "issuer"))) {
		const char *vt = cli_arg_value(a, "visa");

		visa = cJSON_AddObjectToObject(r, "visa");
		ok = visa != NULL &&
		     add_str(visa, "type", vt ? vt : "access") &&
		     add_str(visa, "issuing_authority",
			     cli_arg_value(a, "issuer")) &&
		     add_list(visa, "scope", a, "scope");
	}
	if (!ok)
		goto nomem;
	*req = r;
	return 0;
nomem:
	cJSON_Delete(r);
	cli_warn(idw_strerror(IDW_ENOMEM));
	return CLI_EXIT_ERR;
}

/* The value: a no-echo prompt on a terminal, else stdin to its end. */
static int read_value(const char *name, struct idw_buf *val)
{
	char prompt[96], *shown = cli_display(name);
	int r;

	if (isatty(STDIN_FILENO)) {
		snprintf(prompt, sizeof(prompt),
			 "Value for %.60s: ", shown ? shown : "the passport");
		r = cli_prompt_tty(prompt, val, CLI_VALUE_MAX);
	} else {
		r = cli_read_all(STDIN_FILENO, val, CLI_VALUE_MAX);
	}
	free(shown);
	if (r == IDW_ETOOBIG)
		cli_warn("the value is over 64 KiB");
	else if (r != 0)
		cli_warnf("reading the value: %s", idw_strerror(r));
	else if (val->len == 0)
		cli_warn("empty value refused");
	return r != 0 || val->len == 0 ? CLI_EXIT_ERR : 0;
}

static void print_id(const cJSON *json)
{
	char *id = cli_display(idw_json_str(json, "id"));

	if (id != NULL)
		printf("%s\n", id);
	free(id);
}

int cli_create(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	struct idw_buf val;
	struct idwc *c = NULL;
	cJSON *req = NULL;
	int rc;

	idw_buf_init(&val, CLI_VALUE_MAX + 2, IDW_BUF_SECURE);
	if ((rc = create_request(a, &req)) != 0)
		goto out;
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		rc = idw_err_exit(rc);
		goto out;
	}
	if ((rc = read_value(cli_arg_value(a, "name"), &val)) != 0)
		goto out;
	if ((rc = cli_call(c, req, &val, &rep)) != 0)
		goto out;
	if (idw_json_str(rep.json, "id") == NULL) {
		cli_warn("the agent's reply has no id");
		rc = CLI_EXIT_ERR;
		goto out;
	}
	print_id(rep.json);
	cli_policy_warn(rep.json);
out:
	cli_reply_free(&rep);
	if (c != NULL)
		idwc_close(c);
	cJSON_Delete(req);
	idw_buf_free(&val);
	return rc;
}

/* Fetch every page of a list into all. */
static int list_pages(struct idwc *c, const struct cli_args *a, cJSON *all)
{
	struct idwc_reply rep = {0};
	cJSON *cursor = NULL, *req = NULL, *page, *next;
	int rc = 0;

	for (int n = 0; rc == 0; n++) {
		if (n == CLI_LIST_MAX_PAGES) {
			cli_warn("the list does not end");
			rc = CLI_EXIT_ERR;
			break;
		}
		req = cli_request("list");
		if (req == NULL ||
		    !add_str(req, "status", cli_arg_value(a, "status")) ||
		    !add_str(req, "platform", cli_arg_value(a, "platform")) ||
		    cJSON_AddNumberToObject(req, "limit", CLI_LIST_PAGE) ==
			    NULL ||
		    (cursor != NULL &&
		     !cJSON_AddItemToObject(req, "cursor", cursor))) {
			cli_warn(idw_strerror(IDW_ENOMEM));
			rc = CLI_EXIT_ERR;
			break;
		}
		cursor = NULL; /* owned by req now */
		if ((rc = cli_call(c, req, NULL, &rep)) != 0)
			break;
		page = cJSON_GetObjectItemCaseSensitive(rep.json, "passports");
		if (!cJSON_IsArray(page)) {
			cli_warn("the agent's reply has no passports");
			rc = CLI_EXIT_ERR;
			break;
		}
		while (page->child != NULL)
			cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(
							  page, page->child));
		next = cJSON_GetObjectItemCaseSensitive(rep.json,
							"next_cursor");
		if (next == NULL || cJSON_IsNull(next))
			break;
		if (cJSON_Compare(
			    next,
			    cJSON_GetObjectItemCaseSensitive(req, "cursor"),
			    true)) {
			cli_warn("the agent repeated a list cursor");
			rc = CLI_EXIT_ERR;
			break;
		}
		cursor = cJSON_Duplicate(next, true);
		cli_reply_free(&rep);
		cJSON_Delete(req);
		req = NULL;
	}
	cli_reply_free(&rep);
	cJSON_Delete(cursor);
	cJSON_Delete(req);
	return rc;
}

int cli_list(const struct cli_args *a)
{
	struct idwc *c = NULL;
	cJSON *all = NULL, *wrap = NULL;
	int rc;

	if ((rc = check_choice(a, "status", statuses)) != 0)
		return rc;
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	if ((wrap = cJSON_CreateObject()) == NULL ||
	    (all = cJSON_AddArrayToObject(wrap, "passports")) == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if ((rc = list_pages(c, a, all)) != 0)
		goto out;
	if (cli_arg_set(a, "json"))
		rc = cli_print_json(wrap);
	else if (cJSON_GetArraySize(all) == 0)
		fprintf(stderr, "no passports\n");
	else
		rc = cli_print_passports(all);
	if (rc != 0) {
		cli_warn(idw_strerror(rc));
		rc = CLI_EXIT_ERR;
	}
out:
	if (c != NULL)
		idwc_close(c);
	cJSON_Delete(wrap);
	return rc;
}

/* A request {"verb": verb, "id": ID} from the first positional word. */
static cJSON *id_request(const char *verb, const struct cli_args *a)
{
	cJSON *req = cli_request(verb);

	if (req != NULL && !add_str(req, "id", cli_arg_pos(a, 0))) {
		cJSON_Delete(req);
		req = NULL;
	}
	return req;
}

static const cJSON *reply_passport(const struct idwc_reply *rep)
{
	const cJSON *p =
		cJSON_GetObjectItemCaseSensitive(rep->json, "passport");

	return cJSON_IsObject(p) ? p : NULL;
}

int cli_show(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	const cJSON *p;
	int rc;

	rc = cli_simple(CLI_CONN_AUTOSTART, id_request("show", a), NULL, &rep);
	if (rc != 0)
		goto out;
	if ((p = reply_passport(&rep)) == NULL) {
		cli_warn("the agent's reply has no passport");
		rc = CLI_EXIT_ERR;
		goto out;
	}
	rc = cli_arg_set(a, "json") ? cli_print_json(p) : cli_print_passport(p);
	if (rc != 0) {
		cli_warn(idw_strerror(rc));
		rc = CLI_EXIT_ERR;
	}
out:
	cli_reply_free(&rep);
	return rc;
}

int cli_get(const struct cli_args *a)
{
	const char *purpose = cli_arg_value(a, "purpose");
	struct idwc_reply reps[2];
	struct cli_value v = {NULL, cli_arg_pos(a, 0), NULL, 0};
	struct idwc *c = NULL;
	int rc;

	memset(reps, 0, sizeof(reps));
	if (purpose == NULL || purpose[0] == '\0')
		return usage("--purpose is required: say why the value is "
			     "needed");
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	/* A 'never' passport is asked again with person proof. */
	rc = cli_values_fetch(c, &v, 1, purpose, "cli",
			      cli_arg_set(a, "passphrase-stdin"), reps);
	if (rc == 0 && cli_write_value(v.val, v.len) != 0) {
		cli_warn("writing the value to stdout failed");
		rc = CLI_EXIT_ERR;
	}
	cli_reply_free(&reps[0]);
	cli_reply_free(&reps[1]);
	idwc_close(c);
	return rc;
}

/* revoke, suspend, resume: one id, maybe a reason, a new status. */
static int change_status(const char *verb, const struct cli_args *a,
			 bool need_reason, bool proof)
{
	const char *reason = cli_arg_value(a, "reason");
	struct idwc_reply rep = {0};
	const cJSON *p;
	char *id, *st;
	cJSON *req;
	int rc;

	if (need_reason && (reason == NULL || reason[0] == '\0'))
		return usage("--reason is required");
	req = id_request(verb, a);
	if (req != NULL && !add_str(req, "reason", reason)) {
		cJSON_Delete(req);
		req = NULL;
	}
	rc = proof ? cli_simple_proven(req, a, &rep)
		   : cli_simple(CLI_CONN_AUTOSTART, req, NULL, &rep);
	if (rc != 0)
		goto out;
	p = reply_passport(&rep);
	id = cli_display(p ? idw_json_str(p, "id") : cli_arg_pos(a, 0));
	st = cli_display(p ? idw_json_str(p, "status") : NULL);
	if (id != NULL && st != NULL)
		printf("%s: %s\n", id, st[0] ? st : verb);
	free(id);
	free(st);
out:
	cli_reply_free(&rep);
	return rc;
}

int cli_revoke(const struct cli_args *a)
{
	return change_status("revoke", a, true, false);
}

int cli_suspend(const struct cli_args *a)
{
	return change_status("suspend", a, false, false);
}

int cli_resume(const struct cli_args *a)
{
	return change_status("resume", a, false, true);
}
