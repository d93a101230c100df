/* SPDX-License-Identifier: ISC */
/*
 * Run profiles: `idw profile add|list|show|remove`.  A profile pins a
 * program (an absolute real path, resolved here through PATH), its
 * arguments and the variables it gets, each bound to a passport; adding
 * and removing one take person proof.  `idw run --profile NAME` and
 * `idw mcp wrap` use cli_profile_fetch.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/cli_proof.h"
#include "common/jsonu.h"

static int usage(const char *msg)
{
	cli_warn(msg);
	return CLI_EXIT_USAGE;
}

static bool runnable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       access(path, X_OK) == 0;
}

/*
 * PROGRAM as the shell would find it (a name through PATH, a path as
 * given), made absolute with realpath: the profile pins that file.
 */
static int resolve_program(const char *prog, char out[PATH_MAX])
{
	const char *path = getenv("PATH");
	char cand[PATH_MAX];

	if (strchr(prog, '/') != NULL) {
		if (realpath(prog, out) == NULL || !runnable(out)) {
			cli_warnf(
				"%s is not a program that can be run: %s", prog,
				errno != 0 ? strerror(errno) : "not runnable");
			return CLI_EXIT_ERR;
		}
		return 0;
	}
	if (path == NULL || path[0] == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path != '\0') {
		size_t n = strcspn(path, ":");
		int w = snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, path,
				 prog);

		/* An empty entry is the current directory, as in execvp. */
		if (n == 0)
			w = snprintf(cand, sizeof(cand), "./%s", prog);
		if (w > 0 && (size_t)w < sizeof(cand) && runnable(cand) &&
		    realpath(cand, out) != NULL)
			return 0;
		path += n + (path[n] == ':');
	}
	cli_warnf("%s: no such program in PATH; give its path", prog);
	return CLI_EXIT_ERR;
}

/* --env VAR=PASSPORT, each into env {VAR: PASSPORT}. */
static int env_object(const struct cli_args *a, cJSON *req)
{
	char *const *items;
	size_t n = cli_arg_list(a, "env", &items);
	cJSON *env = cJSON_AddObjectToObject(req, "env");
	char var[160];

	if (env == NULL)
		return CLI_EXIT_ERR;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(items[i], '=');

		if (eq == NULL || eq == items[i] || eq[1] == '\0' ||
		    (size_t)(eq - items[i]) >= sizeof(var)) {
			char *d = cli_display(items[i]);

			cli_warnf("--env '%s' is not VAR=PASSPORT (PASSPORT: "
				  "an id or path/name)",
				  d != NULL ? d : "?");
			free(d);
			return CLI_EXIT_USAGE;
		}
		memcpy(var, items[i], (size_t)(eq - items[i]));
		var[eq - items[i]] = '\0';
		if (cJSON_GetObjectItemCaseSensitive(env, var) != NULL) {
			cli_warnf("--env names %s twice", var);
			return CLI_EXIT_USAGE;
		}
		if (cJSON_AddStringToObject(env, var, eq + 1) == NULL)
			return CLI_EXIT_ERR;
	}
	return 0;
}

/* One argument as a person reads it: escaped, quoted when it has spaces. */
static void print_word(const char *w)
{
	char *d = cli_display(w);

	if (d == NULL)
		return;
	if (d[0] == '\0' || strpbrk(d, " \t'\"") != NULL)
		printf(" '%s'", d);
	else
		printf(" %s", d);
	free(d);
}

static void print_command(const cJSON *p)
{
	const cJSON *e;
	char *prog = cli_display(idw_json_str(p, "program"));

	printf("%s", prog != NULL ? prog : "?");
	free(prog);
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(
				      p, "args")) if (cJSON_IsString(e))
		print_word(e->valuestring);
	printf("\n");
}

static void print_var(const cJSON *v)
{
	const char *path = idw_json_str(v, "path");
	char *var = cli_display(idw_json_str(v, "var"));
	char *id = cli_display(idw_json_str(v, "passport"));
	char *name = cli_display(idw_json_str(v, "name"));
	char *pth = cli_display(path != NULL ? path : "");
	char *rv = cli_display(idw_json_str(v, "reveal"));
	char *st = cli_display(idw_json_str(v, "status"));

	if (var != NULL && id != NULL && st != NULL) {
		if (name != NULL && rv != NULL)
			printf("  %-20s %s  %s%s%s  reveal %s, %s\n", var, id,
			       pth != NULL ? pth : "",
			       pth != NULL && pth[0] ? "/" : "", name, rv, st);
		else
			printf("  %-20s %s  (%s)\n", var, id, st);
	}
	free(var);
	free(id);
	free(name);
	free(pth);
	free(rv);
	free(st);
}

static void print_profile(const cJSON *p)
{
	const cJSON *v;
	char *name = cli_display(idw_json_str(p, "name"));
	char *created = cli_display(idw_json_str(p, "created"));

	printf("name:     %s\n", name != NULL ? name : "?");
	printf("command:  ");
	print_command(p);
	printf("created:  %s\n", created != NULL ? created : "");
	printf("env:%s\n", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
				   p, "vars")) > 0
				   ? ""
				   : "      (none)");
	cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(p, "vars"))
		print_var(v);
	free(name);
	free(created);
}

int cli_profile_add(const struct cli_args *a)
{
	const char *name = cli_arg_pos(a, 0);
	struct idwc_reply rep = {0};
	char prog[PATH_MAX];
	cJSON *req, *args;
	int rc;

	if (a->nrest == 0)
		return usage("give the program after '--': idw profile add "
			     "NAME [--env VAR=PASSPORT]... -- PROGRAM ARGS...");
	if ((rc = resolve_program(a->rest[0], prog)) != 0)
		return rc;
	req = cli_request("profile_add");
	if (req == NULL || cJSON_AddStringToObject(req, "name", name) == NULL ||
	    cJSON_AddStringToObject(req, "program", prog) == NULL ||
	    (args = cJSON_AddArrayToObject(req, "args")) == NULL)
		goto nomem;
	for (size_t i = 1; i < a->nrest; i++) {
		cJSON *w = cJSON_CreateString(a->rest[i]);

		if (w == NULL || !cJSON_AddItemToArray(args, w)) {
			cJSON_Delete(w);
			goto nomem;
		}
	}
	if ((rc = env_object(a, req)) != 0) {
		if (rc == CLI_EXIT_ERR)
			goto nomem;
		cJSON_Delete(req);
		return rc;
	}
	if (cli_arg_set(a, "replace") &&
	    cJSON_AddTrueToObject(req, "replace") == NULL)
		goto nomem;
	if ((rc = cli_simple_proven(req, a, &rep)) == 0) {
		const cJSON *p =
			cJSON_GetObjectItemCaseSensitive(rep.json, "profile");

		printf("profile %s\n",
		       idw_json_bool(rep.json, "replaced", false) ? "replaced"
								  : "added");
		if (p != NULL)
			print_profile(p);
	}
	cli_reply_free(&rep);
	return rc;
nomem:
	cJSON_Delete(req);
	cli_warn(idw_strerror(IDW_ENOMEM));
	return CLI_EXIT_ERR;
}

int cli_profile_list(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	const cJSON *p, *arr;
	int rc;

	if ((rc = cli_simple(CLI_CONN_AUTOSTART, cli_request("profile_list"),
			     NULL, &rep)) != 0)
		goto out;
	arr = cJSON_GetObjectItemCaseSensitive(rep.json, "profiles");
	if (cli_arg_set(a, "json")) {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL ||
		    !cJSON_AddItemReferenceToObject(o, "profiles",
						    (cJSON *)arr) ||
		    cli_print_json_escaped(o) != 0)
			rc = CLI_EXIT_ERR;
		cJSON_Delete(o);
		goto out;
	}
	if (cJSON_GetArraySize(arr) == 0) {
		printf("no profiles: add one with 'idw profile add NAME "
		       "--env VAR=PASSPORT -- PROGRAM ARGS...'\n");
		goto out;
	}
	printf("%-24s %-30s %s\n", "NAME", "VARS", "COMMAND");
	cJSON_ArrayForEach(p, arr)
	{
		const cJSON *v;
		char *name = cli_display(idw_json_str(p, "name"));
		char vars[256] = "";
		size_t len = 0;

		cJSON_ArrayForEach(v,
				   cJSON_GetObjectItemCaseSensitive(p, "env"))
		{
			int w = snprintf(vars + len, sizeof(vars) - len, "%s%s",
					 len > 0 ? "," : "",
					 v->string != NULL ? v->string : "");

			if (w < 0 || (size_t)w >= sizeof(vars) - len)
				break;
			len += (size_t)w;
		}
		printf("%-24s %-30s ", name != NULL ? name : "?",
		       vars[0] ? vars : "-");
		print_command(p);
		free(name);
	}
out:
	cli_reply_free(&rep);
	return rc;
}

int cli_profile_fetch(struct idwc *c, const char *name, cJSON **profile_out)
{
	struct idwc_reply rep = {0};
	cJSON *req = cli_request("profile_show"), *p;
	int rc;

	*profile_out = NULL;
	if (req == NULL || cJSON_AddStringToObject(req, "name", name) == NULL) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	rc = cli_call(c, req, NULL, &rep);
	cJSON_Delete(req);
	if (rc == 0) {
		p = cJSON_DetachItemFromObjectCaseSensitive(rep.json,
							    "profile");
		if (!cJSON_IsObject(p) || idw_json_str(p, "program") == NULL) {
			cJSON_Delete(p);
			cli_warn("the agent's reply holds no profile");
			rc = CLI_EXIT_ERR;
		} else {
			*profile_out = p;
		}
	}
	cli_reply_free(&rep);
	return rc;
}

int cli_profile_show(const struct cli_args *a)
{
	struct idwc *c = NULL;
	cJSON *p = NULL;
	int rc;

	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	rc = cli_profile_fetch(c, cli_arg_pos(a, 0), &p);
	idwc_close(c);
	if (rc != 0)
		return rc;
	if (cli_arg_set(a, "json"))
		rc = cli_print_json_escaped(p) != 0 ? CLI_EXIT_ERR : 0;
	else
		print_profile(p);
	cJSON_Delete(p);
	return rc;
}

int cli_profile_remove(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	cJSON *req = cli_request("profile_remove");
	char *name;
	int rc;

	if (req != NULL &&
	    cJSON_AddStringToObject(req, "name", cli_arg_pos(a, 0)) == NULL) {
		cJSON_Delete(req);
		req = NULL;
	}
	if ((rc = cli_simple_proven(req, a, &rep)) == 0) {
		name = cli_display(idw_json_str(rep.json, "name"));
		printf("profile %s removed\n", name != NULL ? name : "?");
		free(name);
	}
	cli_reply_free(&rep);
	return rc;
}
