/* SPDX-License-Identifier: ISC */
/*
 * idw mcp wrap: pin another MCP server as a run profile (person proof)
 * and print the MCP client entry that starts it through
 * `idw run --profile NAME`, so that server's config names passports and
 * holds no value.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/cli_proof.h"
#include "client/run_child.h"
#include "client/run_env.h"

#define WRAP_NAME_MAX 64

static int usage(const char *msg)
{
	cli_warn(msg);
	return CLI_EXIT_USAGE;
}

/* A server name safe in a JSON key, a shell word and a profile name. */
static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > WRAP_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_' || s[i] == '.'))
			return false;
	return true;
}

/* A word for a POSIX shell: as is when plain, else in single quotes. */
static void put_shell_word(const char *w)
{
	if (w[0] != '\0' && strspn(w, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				      "_-./=:,@%+") == strlen(w)) {
		fputs(w, stdout);
		return;
	}
	putchar('\'');
	for (; *w != '\0'; w++) {
		if (*w == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*w);
	}
	putchar('\'');
}

static cJSON *profile_request(const char *name, const char *program,
			      const struct cli_args *a,
			      const struct run_vars *vs)
{
	cJSON *req = cli_request("profile_add"), *args, *env;

	if (req == NULL || cJSON_AddStringToObject(req, "name", name) == NULL ||
	    cJSON_AddStringToObject(req, "program", program) == NULL ||
	    (args = cJSON_AddArrayToObject(req, "args")) == NULL ||
	    (env = cJSON_AddObjectToObject(req, "env")) == NULL)
		goto fail;
	for (size_t i = 1; i < a->nrest; i++)
		if (!cJSON_AddItemToArray(args, cJSON_CreateString(a->rest[i])))
			goto fail;
	for (size_t i = 0; i < vs->n; i++)
		if (cJSON_AddStringToObject(env, vs->v[i].name, vs->v[i].ref) ==
		    NULL)
			goto fail;
	if (cli_arg_set(a, "replace") &&
	    cJSON_AddBoolToObject(req, "replace", true) == NULL)
		goto fail;
	return req;
fail:
	cJSON_Delete(req);
	return NULL;
}

/* The entry: `idw run --profile NAME`, with the paths that find the vault. */
static int print_entry(const char *client, const char *name, const char *self)
{
	const char *home = getenv("IDW_HOME"), *sock = getenv("IDW_SOCKET");
	cJSON *o, *srv, *args, *env;
	int rc;

	if (strcmp(client, "claude-code") == 0) {
		printf("claude mcp add %s", name);
		if (home != NULL && home[0] != '\0') {
			printf(" --env ");
			put_shell_word("IDW_HOME=");
			put_shell_word(home);
		}
		if (sock != NULL && sock[0] != '\0') {
			printf(" --env ");
			put_shell_word("IDW_SOCKET=");
			put_shell_word(sock);
		}
		printf(" -- ");
		put_shell_word(self);
		printf(" run --profile %s\n", name);
		return 0;
	}
	if ((o = cJSON_CreateObject()) == NULL)
		return CLI_EXIT_ERR;
	srv = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "mcpServers"),
				      name);
	cJSON_AddStringToObject(srv, "command", self);
	args = cJSON_AddArrayToObject(srv, "args");
	cJSON_AddItemToArray(args, cJSON_CreateString("run"));
	cJSON_AddItemToArray(args, cJSON_CreateString("--profile"));
	cJSON_AddItemToArray(args, cJSON_CreateString(name));
	env = cJSON_AddObjectToObject(srv, "env");
	/* Paths only: the values stay in the vault. */
	if (home != NULL && home[0] != '\0')
		cJSON_AddStringToObject(env, "IDW_HOME", home);
	if (sock != NULL && sock[0] != '\0')
		cJSON_AddStringToObject(env, "IDW_SOCKET", sock);
	rc = cli_print_json(o) == 0 ? 0 : CLI_EXIT_ERR;
	cJSON_Delete(o);
	return rc;
}

int cli_mcp_wrap(const struct cli_args *a)
{
	const char *name = cli_arg_value(a, "name");
	const char *client = cli_arg_value(a, "client");
	char program[PATH_MAX], self[PATH_MAX], why[300];
	struct idwc_reply rep = {0};
	struct run_vars *vs;
	char *const *specs;
	size_t nspecs = cli_arg_list(a, "env", &specs);
	ssize_t n;
	cJSON *req;
	int rc;

	if (client == NULL)
		client = "claude-desktop";
	if (strcmp(client, "claude-desktop") != 0 &&
	    strcmp(client, "claude-code") != 0 && strcmp(client, "json") != 0)
		return usage("--client takes claude-desktop, claude-code "
			     "or json");
	if (name == NULL || !name_ok(name))
		return usage("--name SERVER is required: letters, digits, "
			     "'-', '_' and '.', at most 64");
	if (a->nrest == 0)
		return usage("name the server's program after --: idw mcp "
			     "wrap --name SERVER --env NAME=PASSPORT -- "
			     "PROGRAM ARGS...");
	/* A profile pins an absolute path: PATH may differ at launch. */
	if (run_find_program(a->rest[0], getenv("PATH"), program,
			     sizeof(program)) != 0 ||
	    realpath(program, self) == NULL) {
		cli_warnf("%s: command not found", a->rest[0]);
		return RUN_EXIT_NOTFOUND;
	}
	snprintf(program, sizeof(program), "%s", self);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		cli_warn("cannot tell where idw itself is installed");
		return CLI_EXIT_ERR;
	}
	self[n] = '\0';
	if ((vs = calloc(1, sizeof(*vs))) == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	for (size_t i = 0; i < nspecs; i++)
		if (run_vars_add_spec(vs, specs[i], why, sizeof(why)) != 0) {
			free(vs);
			cli_warn(why);
			return CLI_EXIT_USAGE;
		}
	req = profile_request(name, program, a, vs);
	free(vs);
	if ((rc = cli_simple_proven(req, a, &rep)) != 0)
		goto out;
	if ((rc = print_entry(client, name, self)) != 0)
		cli_warn("writing the entry failed");
	else
		cli_warnf("profile %s runs %s; the entry above holds no "
			  "secret",
			  name, program);
out:
	cli_reply_free(&rep);
	return rc;
}
