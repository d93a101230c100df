/* SPDX-License-Identifier: ISC */
/*
 * idw policy list|add|enable|disable|remove and idw config set|get.
 * Every change takes person proof; reading takes none.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/jsonu.h"

#define RULE_FILE_MAX (64u * 1024u)

static int usage(const char *msg)
{
	cli_warn(msg);
	return CLI_EXIT_USAGE;
}

/* A short text of a rule's condition: "visa_types=privilege ...". */
static void condition_text(const cJSON *cond, char *out, size_t len)
{
	const cJSON *e, *x;

	out[0] = '\0';
	cJSON_ArrayForEach(e, cond)
	{
		size_t used = strlen(out);

		if (used + 2 >= len)
			break;
		snprintf(out + used, len - used, "%s%s=", used ? " " : "",
			 e->string);
		if (cJSON_IsArray(e)) {
			cJSON_ArrayForEach(x, e)
			{
				used = strlen(out);
				if (cJSON_IsString(x))
					snprintf(out + used, len - used, "%s%s",
						 x != e->child ? "," : "",
						 x->valuestring);
			}
		} else if (cJSON_IsNumber(e)) {
			used = strlen(out);
			snprintf(out + used, len - used, "%d", e->valueint);
		} else {
			used = strlen(out);
			snprintf(out + used, len - used, "%s",
				 cJSON_IsTrue(e) ? "true" : "false");
		}
	}
	if (out[0] == '\0')
		snprintf(out, len, "(always)");
}

int cli_policy_list(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	const cJSON *rules, *r;
	int rc;

	if ((rc = cli_simple(CLI_CONN_AUTOSTART, cli_request("policy_list"),
			     NULL, &rep)) != 0)
		goto out;
	rules = cJSON_GetObjectItemCaseSensitive(rep.json, "rules");
	if (cli_arg_set(a, "json")) {
		cJSON_DeleteItemFromObjectCaseSensitive(rep.json, "ok");
		rc = cli_print_json_escaped(rep.json) == 0 ? 0 : CLI_EXIT_ERR;
		goto out;
	}
	if (cJSON_GetArraySize(rules) == 0) {
		fprintf(stderr, "no rules: everything not refused by status "
				"or binding is allowed\n");
		goto out;
	}
	printf("%-34s %-16s %8s  %-3s  %s\n", "ID", "EFFECT", "PRIORITY", "ON",
	       "CONDITION");
	cJSON_ArrayForEach(r, rules)
	{
		char cond[512], *id, *shown;

		condition_text(cJSON_GetObjectItemCaseSensitive(r, "condition"),
			       cond, sizeof(cond));
		id = cli_display(idw_json_str(r, "id"));
		shown = cli_display(cond);
		printf("%-34s %-16s %8lld  %-3s  %s\n", id ? id : "?",
		       idw_json_str(r, "effect") ? idw_json_str(r, "effect")
						 : "?",
		       (long long)idw_json_int(r, "priority", 0),
		       cJSON_IsTrue(cJSON_GetObjectItem(r, "enabled")) ? "yes"
								       : "no",
		       shown ? shown : "?");
		free(id);
		free(shown);
	}
out:
	cli_reply_free(&rep);
	return rc;
}

int cli_policy_add(const struct cli_args *a)
{
	const char *path = cli_arg_value(a, "file");
	struct idwc_reply rep = {0};
	struct idw_buf b;
	cJSON *rule = NULL, *req;
	int fd, r, rc;

	if (path == NULL)
		return usage("--file RULE.json is required");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cli_warnf("cannot open %s", path);
		return CLI_EXIT_ERR;
	}
	idw_buf_init(&b, RULE_FILE_MAX + 1, 0);
	r = cli_read_all(fd, &b, RULE_FILE_MAX);
	close(fd);
	if (r == 0)
		rule = idw_json_parse((const char *)b.d, b.len);
	idw_buf_free(&b);
	if (r != 0 || rule == NULL || !cJSON_IsObject(rule)) {
		cJSON_Delete(rule);
		cli_warnf("%s does not hold one JSON object (a rule) of at "
			  "most 64 KiB",
			  path);
		return CLI_EXIT_USAGE;
	}
	req = cli_request("policy_add");
	if (req == NULL || !cJSON_AddItemToObject(req, "rule", rule)) {
		cJSON_Delete(rule);
		cJSON_Delete(req);
		req = NULL;
	}
	if ((rc = cli_simple_proven(req, a, &rep)) == 0) {
		char *id = cli_display(idw_json_str(
			cJSON_GetObjectItemCaseSensitive(rep.json, "rule"),
			"id"));

		printf("added: %s\n", id ? id : "?");
		free(id);
	}
	cli_reply_free(&rep);
	return rc;
}

static int rule_change(const struct cli_args *a, const char *verb,
		       const char *done)
{
	struct idwc_reply rep = {0};
	cJSON *req = cli_request(verb);
	int rc;

	if (req != NULL &&
	    cJSON_AddStringToObject(req, "id", cli_arg_pos(a, 0)) == NULL) {
		cJSON_Delete(req);
		req = NULL;
	}
	if ((rc = cli_simple_proven(req, a, &rep)) == 0) {
		char *id = cli_display(cli_arg_pos(a, 0));

		printf("%s: %s\n", id ? id : "?", done);
		free(id);
	}
	cli_reply_free(&rep);
	return rc;
}

int cli_policy_enable(const struct cli_args *a)
{
	return rule_change(a, "policy_enable", "enabled");
}

int cli_policy_disable(const struct cli_args *a)
{
	return rule_change(a, "policy_disable", "disabled");
}

int cli_policy_remove(const struct cli_args *a)
{
	return rule_change(a, "policy_remove", "removed");
}

int cli_config_set(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	cJSON *req = cli_request("config_set");
	int rc;

	if (req != NULL &&
	    (cJSON_AddStringToObject(req, "key", cli_arg_pos(a, 0)) == NULL ||
	     cJSON_AddStringToObject(req, "value", cli_arg_pos(a, 1)) ==
		     NULL)) {
		cJSON_Delete(req);
		req = NULL;
	}
	if ((rc = cli_simple_proven(req, a, &rep)) == 0) {
		char *k = cli_display(idw_json_str(rep.json, "key"));
		char *v = cli_display(idw_json_str(rep.json, "value"));

		printf("%s = %s\n", k ? k : "?", v ? v : "?");
		free(k);
		free(v);
	}
	cli_reply_free(&rep);
	return rc;
}

int cli_config_get(const struct cli_args *a)
{
	const char *key = cli_arg_pos(a, 0);
	struct idwc_reply rep = {0};
	const cJSON *list, *s;
	cJSON *req = cli_request("config_get");
	int rc;

	if (req != NULL && key != NULL &&
	    cJSON_AddStringToObject(req, "key", key) == NULL) {
		cJSON_Delete(req);
		req = NULL;
	}
	if ((rc = cli_simple(CLI_CONN_AUTOSTART, req, NULL, &rep)) != 0)
		goto out;
	if (key != NULL) {
		char *v = cli_display(idw_json_str(rep.json, "value"));

		printf("%s\n", v ? v : "?");
		free(v);
		goto out;
	}
	list = cJSON_GetObjectItemCaseSensitive(rep.json, "settings");
	cJSON_ArrayForEach(s, list)
	{
		char *k = cli_display(idw_json_str(s, "key"));
		char *v = cli_display(idw_json_str(s, "value"));
		char *h = cli_display(idw_json_str(s, "help"));

		printf("%s = %s\n    %s\n", k ? k : "?", v ? v : "?",
		       h ? h : "");
		free(k);
		free(v);
		free(h);
	}
out:
	cli_reply_free(&rep);
	return rc;
}
