/* SPDX-License-Identifier: ISC */
/*
 * Grants from the person's side: idw approvals, approve, deny, grants,
 * grants revoke; and idw check, the policy decision for one passport.
 * Every text a grant carries came from a model or a client: it is shown
 * escaped, in tables and in JSON alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "client/cli_proof.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define TTL_DEFAULT "15m"

static int usage(const char *msg)
{
	cli_warn(msg);
	return CLI_EXIT_USAGE;
}

/* Code points a terminal would act on or hide, as in common/escape.c. */
static bool cp_unsafe(uint32_t cp)
{
	return cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
	       (cp >= 0x200b && cp <= 0x200f) ||
	       (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c || cp == 0xfeff ||
	       cp == 0x2060;
}

int cli_print_json_escaped(const cJSON *j)
{
	char *text = cJSON_Print(j);
	const uint8_t *s = (const uint8_t *)text;
	size_t n, i = 0;

	if (text == NULL)
		return IDW_ENOMEM;
	/*
	 * cJSON escapes C0 controls; the rest that could steer a terminal
	 * becomes \uXXXX too, which any JSON reader turns back as it was.
	 */
	n = strlen(text);
	while (i < n) {
		uint32_t cp = s[i];
		size_t k = s[i] < 0x80	 ? 1
			   : s[i] < 0xe0 ? 2
			   : s[i] < 0xf0 ? 3
					 : 4;

		if (k > n - i || !idw_utf8_valid(s + i, k)) {
			fputs("\\ufffd", stdout);
			i++;
			continue;
		}
		if (k > 1) {
			cp = k == 2   ? (s[i] & 0x1fu)
			     : k == 3 ? (s[i] & 0x0fu)
				      : (s[i] & 0x07u);
			for (size_t m = 1; m < k; m++)
				cp = (cp << 6) | (s[i + m] & 0x3fu);
		}
		if (cp_unsafe(cp))
			printf("\\u%04x", (unsigned)cp);
		else
			fwrite(s + i, 1, k, stdout);
		i += k;
	}
	putchar('\n');
	cJSON_free(text);
	return 0;
}

static char *shown(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key), *e;
	char buf[2048] = "";

	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(e, v)
		{
			if (cJSON_IsString(e))
				snprintf(buf + strlen(buf),
					 sizeof(buf) - strlen(buf), "%s%s",
					 buf[0] ? ", " : "", e->valuestring);
		}
		return cli_display(buf[0] ? buf : "-");
	}
	if (cJSON_IsNumber(v)) {
		snprintf(buf, sizeof(buf), "%.0f", v->valuedouble);
		return cli_display(buf);
	}
	if (cJSON_IsBool(v))
		return cli_display(cJSON_IsTrue(v) ? "yes" : "no");
	return cli_display(
		cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : "-");
}

static void row(const char *label, const cJSON *o, const char *key)
{
	char *s = shown(o, key);

	printf("%-11s %s\n", label, s != NULL ? s : "?");
	free(s);
}

/* One grant, field by field, everything escaped. */
static void print_grant(const cJSON *g)
{
	row("grant", g, "id");
	row("status", g, "status");
	row("passport", g, "passport");
	row("name", g, "passport_name");
	row("path", g, "passport_path");
	row("tier", g, "access_tier");
	row("principal", g, "principal");
	row("actor", g, "claimed_actor");
	row("purpose", g, "purpose");
	row("scope", g, "scope");
	row("expires", g, "expires_at");
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(g, "decided_by"))) {
		row("decided by", g, "decided_by");
		row("reason", g, "reason");
	}
}

static const char *const cols[] = {"id",	  "status",    "passport",
				   "access_tier", "principal", "purpose",
				   "expires_at"};
static const char *const heads[] = {"GRANT",	 "STATUS",  "PASSPORT", "TIER",
				    "PRINCIPAL", "PURPOSE", "EXPIRES"};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static void print_table(const cJSON *list)
{
	const cJSON *g;

	for (size_t c = 0; c < NCOLS; c++)
		printf("%s%s", heads[c], c + 1 < NCOLS ? "\t" : "\n");
	cJSON_ArrayForEach(g, list)
	{
		for (size_t c = 0; c < NCOLS; c++) {
			char *s = shown(g, cols[c]);

			/* A tab in text would shift the columns: escaped. */
			printf("%s%s", s != NULL ? s : "?",
			       c + 1 < NCOLS ? "\t" : "\n");
			free(s);
		}
	}
}

#define PAGES_MAX 1000

/* Every page of the agent's grants (with status) into all. */
static int grant_pages(struct idwc *c, const char *status, cJSON *all)
{
	struct idwc_reply rep = {0};
	char cursor[32] = "";
	cJSON *page;
	int rc = 0;

	for (int n = 0; rc == 0; n++) {
		cJSON *req = cli_request("grants");
		const char *next;

		if (n == PAGES_MAX || req == NULL ||
		    (status != NULL &&
		     cJSON_AddStringToObject(req, "status", status) == NULL) ||
		    (cursor[0] != '\0' &&
		     cJSON_AddStringToObject(req, "cursor", cursor) == NULL)) {
			cJSON_Delete(req);
			cli_warn(n == PAGES_MAX ? "the list does not end"
						: idw_strerror(IDW_ENOMEM));
			return CLI_EXIT_ERR;
		}
		rc = cli_call(c, req, NULL, &rep);
		cJSON_Delete(req);
		if (rc != 0)
			break;
		page = cJSON_GetObjectItemCaseSensitive(rep.json, "grants");
		if (!cJSON_IsArray(page)) {
			cli_warn("the agent's reply has no grants");
			rc = CLI_EXIT_ERR;
			break;
		}
		while (page->child != NULL)
			cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(
							  page, page->child));
		next = idw_json_str(rep.json, "next_cursor");
		if (next == NULL || strcmp(next, cursor) == 0 ||
		    strlen(next) >= sizeof(cursor))
			break;
		snprintf(cursor, sizeof(cursor), "%s", next);
		cli_reply_free(&rep);
	}
	cli_reply_free(&rep);
	return rc;
}

static int list_grants(const struct cli_args *a, const char *status,
		       const char *none)
{
	struct idwc *c = NULL;
	cJSON *w = cJSON_CreateObject(), *list;
	int rc;

	if (w == NULL || (list = cJSON_AddArrayToObject(w, "grants")) == NULL) {
		cJSON_Delete(w);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		cJSON_Delete(w);
		return idw_err_exit(rc);
	}
	if ((rc = grant_pages(c, status, list)) != 0)
		goto out;
	if (cli_arg_set(a, "json"))
		rc = cli_print_json_escaped(w) == 0 ? 0 : CLI_EXIT_ERR;
	else if (cJSON_GetArraySize(list) == 0)
		fprintf(stderr, "%s\n", none);
	else
		print_table(list);
out:
	idwc_close(c);
	cJSON_Delete(w);
	return rc;
}

int cli_approvals(const struct cli_args *a)
{
	return list_grants(a, "pending", "no grants wait for approval");
}

int cli_grants(const struct cli_args *a)
{
	const char *sub = cli_arg_pos(a, 0);
	struct idwc_reply rep = {0};
	cJSON *req;
	int rc;

	if (sub == NULL)
		return list_grants(a, NULL, "no grants");
	if (strcmp(sub, "revoke") != 0 || cli_arg_pos(a, 1) == NULL ||
	    cli_arg_pos(a, 2) != NULL)
		return usage(
			"usage: idw grants [--json] | idw grants revoke ID");
	req = cli_request("grants_revoke");
	if (req != NULL &&
	    cJSON_AddStringToObject(req, "id", cli_arg_pos(a, 1)) == NULL) {
		cJSON_Delete(req);
		req = NULL;
	}
	if ((rc = cli_simple(CLI_CONN_AUTOSTART, req, NULL, &rep)) == 0) {
		char *id = cli_display(idw_json_str(rep.json, "grant_id"));

		printf("%s: revoked\n", id != NULL ? id : "?");
		free(id);
	}
	cli_reply_free(&rep);
	return rc;
}

/* The grant as the agent shows it; the exit status. */
static int fetch_grant(struct idwc *c, const char *id, struct idwc_reply *rep,
		       const cJSON **g)
{
	cJSON *req = cli_request("grants");
	int rc;

	*g = NULL;
	if (req == NULL || cJSON_AddStringToObject(req, "id", id) == NULL) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	rc = cli_call(c, req, NULL, rep);
	cJSON_Delete(req);
	if (rc != 0)
		return rc;
	*g = cJSON_GetArrayItem(
		cJSON_GetObjectItemCaseSensitive(rep->json, "grants"), 0);
	if (*g == NULL) {
		cli_warnf("no grant %s", id);
		return idw_err_exit(IDW_ENOENT);
	}
	return 0;
}

int cli_approve(const struct cli_args *a)
{
	const char *id = cli_arg_pos(a, 0),
		   *reason = cli_arg_value(a, "reason");
	const char *ttl_s = cli_arg_value(a, "ttl");
	struct idwc_reply rep = {0}, done = {0};
	struct idwc *c = NULL;
	const cJSON *g;
	const char *pp;
	cJSON *req = NULL;
	char until[IDW_TIME_LEN];
	int64_t ttl;
	int rc;

	if (ttl_s == NULL)
		ttl_s = TTL_DEFAULT;
	if (idw_duration_parse(ttl_s, &ttl) != 0)
		return usage("--ttl wants a duration: N followed by s, m, h or "
			     "d (e.g. 15m)");
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	if ((rc = fetch_grant(c, id, &rep, &g)) != 0)
		goto out;
	if (strcmp(idw_json_str(g, "status") ? idw_json_str(g, "status") : "",
		   "pending") != 0) {
		print_grant(g);
		cli_warnf("grant %s is not pending", id);
		rc = CLI_EXIT_ERR;
		goto out;
	}
	/* What the person is about to allow, before the passphrase. */
	print_grant(g);
	idw_time_fmt_utc(idw_now() + ttl, until);
	printf("%-11s %s (until about %s)\n", "ttl", ttl_s, until);
	fflush(stdout);
	pp = idw_json_str(g, "passport");
	req = cli_request("approve");
	if (req == NULL || cJSON_AddStringToObject(req, "id", id) == NULL ||
	    cJSON_AddStringToObject(req, "passport", pp ? pp : "") == NULL ||
	    cJSON_AddNumberToObject(req, "ttl_s", (double)ttl) == NULL ||
	    (reason != NULL &&
	     cJSON_AddStringToObject(req, "reason", reason) == NULL)) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		rc = CLI_EXIT_ERR;
		goto out;
	}
	rc = cli_call_proven(
		c, req, NULL,
		cli_arg_set(a, "passphrase-stdin") ? CLI_PROOF_STDIN : 0,
		&done);
	if (rc == 0) {
		char *gid = cli_display(idw_json_str(done.json, "grant_id"));
		char *end = cli_display(idw_json_str(done.json, "expires_at"));

		printf("approved: %s until %s\n", gid ? gid : "?",
		       end ? end : "?");
		free(gid);
		free(end);
	}
out:
	cli_reply_free(&rep);
	cli_reply_free(&done);
	cJSON_Delete(req);
	if (c != NULL)
		idwc_close(c);
	return rc;
}

int cli_deny(const struct cli_args *a)
{
	const char *reason = cli_arg_value(a, "reason");
	struct idwc_reply rep = {0};
	cJSON *req;
	int rc;

	if (reason == NULL || reason[0] == '\0')
		return usage("--reason is required");
	req = cli_request("deny");
	if (req != NULL &&
	    (cJSON_AddStringToObject(req, "id", cli_arg_pos(a, 0)) == NULL ||
	     cJSON_AddStringToObject(req, "reason", reason) == NULL)) {
		cJSON_Delete(req);
		req = NULL;
	}
	if ((rc = cli_simple(CLI_CONN_AUTOSTART, req, NULL, &rep)) == 0) {
		char *gid = cli_display(idw_json_str(rep.json, "grant_id"));

		printf("denied: %s\n", gid ? gid : "?");
		free(gid);
	}
	cli_reply_free(&rep);
	return rc;
}

int cli_check(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	const cJSON *v;
	const char *effect;
	cJSON *req = cli_request("check_policy");
	int rc;

	if (req != NULL &&
	    (cJSON_AddStringToObject(req, "id", cli_arg_pos(a, 0)) == NULL ||
	     cJSON_AddStringToObject(req, "action", "access") == NULL)) {
		cJSON_Delete(req);
		req = NULL;
	}
	if ((rc = cli_simple(CLI_CONN_AUTOSTART, req, NULL, &rep)) != 0)
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(rep.json, "ok");
	if (cli_arg_set(a, "json")) {
		rc = cli_print_json_escaped(rep.json) == 0 ? 0 : CLI_EXIT_ERR;
	} else {
		row("allowed", rep.json, "allowed");
		row("effect", rep.json, "effect");
		row("reason", rep.json, "reason");
		if (idw_json_str(rep.json, "grant_id") != NULL) {
			row("lease", rep.json, "grant_id");
			row("lease ends", rep.json, "lease_expires_at");
		}
		cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(
					      rep.json, "violations"))
		{
			char *r = shown(v, "rule"), *m = shown(v, "message"),
			     *e = shown(v, "effect");

			printf("violation   %s (%s): %s\n", r ? r : "?",
			       e ? e : "?", m ? m : "?");
			free(r);
			free(m);
			free(e);
		}
	}
	/* Scripts read the decision from the status: 0, 3 or 4. */
	effect = idw_json_str(rep.json, "effect");
	if (rc == 0 && !idw_json_bool(rep.json, "allowed", false))
		rc = idw_err_exit(
			effect != NULL &&
					strcmp(effect, "require-approval") == 0
				? IDW_EPENDING
				: IDW_EDENIED);
out:
	cli_reply_free(&rep);
	return rc;
}
