/* SPDX-License-Identifier: ISC */
/*
 * idw edit ID and idw delegate ID: changing a passport after create.
 * Both can widen access, so both take person proof.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "client/cli_proof.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define MAX_VALID_DAYS 36500

static const char *const clearable[] = {
	"platforms", "tags", "scope", "delegation", "notes",
	"issuer",    "path", "agent", "owner",	    NULL};

static int usage(const char *msg)
{
	cli_warn(msg);
	return CLI_EXIT_USAGE;
}

void cli_policy_warn(const cJSON *reply)
{
	const cJSON *pol = cJSON_GetObjectItemCaseSensitive(reply, "policy");
	const char *effect = idw_json_str(pol, "effect");

	if (effect == NULL || strcmp(effect, "allow") == 0)
		return;
	cli_warnf("warning: policy %s access to it now: %s",
		  strcmp(effect, "deny") == 0 ? "denies"
					      : "needs a person's approval for",
		  idw_json_str(pol, "reason") ? idw_json_str(pol, "reason")
					      : "?");
}

static bool clears(const struct cli_args *a, const char *what)
{
	char *const *items;
	size_t n = cli_arg_list(a, "clear", &items);

	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i], what) == 0)
			return true;
	return false;
}

static bool add_list(cJSON *o, const char *key, const struct cli_args *a,
		     const char *opt)
{
	char *const *items;
	size_t n = cli_arg_list(a, opt, &items);
	cJSON *arr = cJSON_AddArrayToObject(o, key);

	for (size_t i = 0; arr != NULL && i < n; i++)
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(items[i])))
			return false;
	return arr != NULL;
}

/* A value option onto key; a --clear of what onto cleared. */
static bool text(cJSON *o, const struct cli_args *a, const char *opt,
		 const char *key, const char *what, cJSON *cleared)
{
	const char *v = cli_arg_value(a, opt);

	if (v != NULL) {
		cJSON_Delete(cleared);
		return cJSON_AddStringToObject(o, key, v) != NULL;
	}
	if (what != NULL && clears(a, what))
		return cJSON_AddItemToObject(o, key, cleared);
	cJSON_Delete(cleared);
	return true;
}

/* --valid-days N counts from the new or the stored valid_from. */
static int until_of(const struct cli_args *a, const char *stored_from,
		    cJSON *req)
{
	const char *days = cli_arg_value(a, "valid-days");
	const char *from = cli_arg_value(a, "valid-from");
	char buf[IDW_TIME_LEN], *end = NULL;
	int64_t t;
	long n;

	if (days == NULL)
		return 0;
	if (cli_arg_set(a, "valid-until"))
		return usage("--valid-days and --valid-until exclude each "
			     "other");
	n = isdigit((unsigned char)days[0]) ? strtol(days, &end, 10) : 0;
	if (end == NULL || *end != '\0' || n < 1 || n > MAX_VALID_DAYS)
		return usage("--valid-days wants a number of days from 1 to "
			     "36500");
	if (idw_time_parse(from		 ? from
			   : stored_from ? stored_from
					 : "",
			   0, &t) != 0)
		return usage("--valid-from wants YYYY-MM-DD or an RFC 3339 "
			     "time");
	idw_time_fmt_utc(t + (int64_t)n * 86400, buf);
	return cJSON_AddStringToObject(req, "valid_until", buf) ? 0
								: CLI_EXIT_ERR;
}

static int edit_request(const struct cli_args *a, const cJSON *stored,
			cJSON **out)
{
	const char *owner = cli_arg_value(a, "owner");
	char *const *items;
	size_t n = cli_arg_list(a, "clear", &items);
	cJSON *r = cli_request("edit"), *visa;
	bool ok;
	int rc;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		for (size_t k = 0; clearable[k] != NULL; k++)
			known |= strcmp(items[i], clearable[k]) == 0;
		if (!known) {
			cJSON_Delete(r);
			return usage("--clear takes platforms, tags, scope, "
				     "delegation, notes, issuer, path, agent, "
				     "owner");
		}
	}
	if ((cli_arg_set(a, "platform") && clears(a, "platforms")) ||
	    (cli_arg_set(a, "tag") && clears(a, "tags")) ||
	    (cli_arg_set(a, "scope") && clears(a, "scope")) ||
	    (cli_arg_set(a, "notes") && clears(a, "notes")) ||
	    (cli_arg_set(a, "issuer") && clears(a, "issuer")) ||
	    (cli_arg_set(a, "path") && clears(a, "path")) ||
	    (cli_arg_set(a, "agent") && clears(a, "agent")) ||
	    ((owner != NULL || cli_arg_set(a, "no-owner")) &&
	     clears(a, "owner")) ||
	    (owner != NULL && cli_arg_set(a, "no-owner"))) {
		cJSON_Delete(r);
		return usage("an option and its --clear (or --owner and "
			     "--no-owner) exclude each other");
	}
	ok = r != NULL && cJSON_AddStringToObject(r, "id", cli_arg_pos(a, 0));
	ok = ok && text(r, a, "name", "name", NULL, NULL) &&
	     text(r, a, "type", "credential_type", NULL, NULL) &&
	     text(r, a, "path", "path", "path", cJSON_CreateString("")) &&
	     text(r, a, "notes", "notes", "notes", cJSON_CreateString("")) &&
	     text(r, a, "tier", "access_tier", NULL, NULL) &&
	     text(r, a, "reveal", "reveal", NULL, NULL) &&
	     text(r, a, "agent", "agent_id", "agent", cJSON_CreateNull()) &&
	     text(r, a, "owner", "human_owner", "owner", cJSON_CreateNull()) &&
	     text(r, a, "valid-from", "valid_from", NULL, NULL) &&
	     text(r, a, "valid-until", "valid_until", NULL, NULL);
	if (ok && cli_arg_set(a, "no-owner"))
		ok = cJSON_AddNullToObject(r, "human_owner") != NULL;
	if (ok && (cli_arg_set(a, "platform") || clears(a, "platforms")))
		ok = add_list(r, "platforms", a, "platform");
	if (ok && (cli_arg_set(a, "tag") || clears(a, "tags")))
		ok = add_list(r, "tags", a, "tag");
	if (ok && clears(a, "delegation"))
		ok = cJSON_AddArrayToObject(r, "delegation") != NULL;
	if (ok && (cli_arg_set(a, "visa") || cli_arg_set(a, "scope") ||
		   cli_arg_set(a, "issuer") || clears(a, "scope") ||
		   clears(a, "issuer"))) {
		visa = cJSON_AddObjectToObject(r, "visa");
		ok = visa != NULL &&
		     text(visa, a, "visa", "type", NULL, NULL) &&
		     text(visa, a, "issuer", "issuing_authority", "issuer",
			  cJSON_CreateString(""));
		if (ok && (cli_arg_set(a, "scope") || clears(a, "scope")))
			ok = add_list(visa, "scope", a, "scope");
	}
	if (!ok) {
		cJSON_Delete(r);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	if ((rc = until_of(a, idw_json_str(stored, "valid_from"), r)) != 0) {
		cJSON_Delete(r);
		return rc;
	}
	/* The verb and the id: nothing else asked. */
	if (cJSON_GetArraySize(r) == 2) {
		cJSON_Delete(r);
		return usage("nothing to change: name a field to set (see "
			     "'idw edit --help')");
	}
	*out = r;
	return 0;
}

static void print_status(const struct idwc_reply *rep, const char *what)
{
	const cJSON *p =
		cJSON_GetObjectItemCaseSensitive(rep->json, "passport");
	char *id = cli_display(idw_json_str(p, "id"));
	char *st = cli_display(idw_json_str(p, "status"));

	printf("%s: %s (%s)\n", id ? id : "?", what, st ? st : "?");
	free(id);
	free(st);
	cli_policy_warn(rep->json);
}

/* The stored passport (for the fields an option counts from). */
static int fetch(struct idwc *c, const char *id, struct idwc_reply *rep)
{
	cJSON *req = cli_request("show");
	int rc;

	if (req == NULL || cJSON_AddStringToObject(req, "id", id) == NULL) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	rc = cli_call(c, req, NULL, rep);
	cJSON_Delete(req);
	return rc;
}

int cli_edit(const struct cli_args *a)
{
	struct idwc_reply cur = {0}, rep = {0};
	struct idwc *c = NULL;
	cJSON *req = NULL;
	int rc;

	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	if ((rc = fetch(c, cli_arg_pos(a, 0), &cur)) != 0)
		goto out;
	if ((rc = edit_request(
		     a, cJSON_GetObjectItemCaseSensitive(cur.json, "passport"),
		     &req)) != 0)
		goto out;
	rc = cli_call_proven(
		c, req, NULL,
		cli_arg_set(a, "passphrase-stdin") ? CLI_PROOF_STDIN : 0, &rep);
	if (rc == 0)
		print_status(&rep, "edited");
out:
	cli_reply_free(&cur);
	cli_reply_free(&rep);
	cJSON_Delete(req);
	if (c != NULL)
		idwc_close(c);
	return rc;
}

int cli_delegate(const struct cli_args *a)
{
	const char *from = cli_arg_value(a, "from"),
		   *to = cli_arg_value(a, "to");
	const char *until = cli_arg_value(a, "until");
	const char *notes = cli_arg_value(a, "notes");
	struct idwc_reply rep = {0};
	struct idwc *c = NULL;
	int64_t t;
	cJSON *req;
	int rc;

	if (from == NULL || to == NULL || !cli_arg_set(a, "scope"))
		return usage("--from, --to and --scope are required");
	if (until != NULL && idw_time_parse(until, 1, &t) != 0)
		return usage("--until wants YYYY-MM-DD or an RFC 3339 time");
	req = cli_request("delegate");
	if (req == NULL ||
	    cJSON_AddStringToObject(req, "id", cli_arg_pos(a, 0)) == NULL ||
	    cJSON_AddStringToObject(req, "from", from) == NULL ||
	    cJSON_AddStringToObject(req, "to", to) == NULL ||
	    !add_list(req, "scope", a, "scope") ||
	    (until != NULL &&
	     cJSON_AddStringToObject(req, "expires_at", until) == NULL) ||
	    (notes != NULL &&
	     cJSON_AddStringToObject(req, "notes", notes) == NULL)) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		cJSON_Delete(req);
		return idw_err_exit(rc);
	}
	rc = cli_call_proven(
		c, req, NULL,
		cli_arg_set(a, "passphrase-stdin") ? CLI_PROOF_STDIN : 0, &rep);
	if (rc == 0)
		print_status(&rep, "delegated");
	cli_reply_free(&rep);
	cJSON_Delete(req);
	idwc_close(c);
	return rc;
}
