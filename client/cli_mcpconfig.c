/* SPDX-License-Identifier: ISC */
/*
 * idw mcp config: a ready snippet for an MCP client, with the absolute
 * path of idw-mcp (or of the wrapper) and no secret in it.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/cli.h"
#include "common/jsonu.h"

/* A program installed next to this one (one bin/ directory). */
static int sibling(const char *name, char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) == NULL)
		return -1;
	*slash = '\0';
	if (snprintf(out, len, "%s/%s", self, name) >= (int)len)
		return -1;
	return 0;
}

int cli_mcp_config(const struct cli_args *a)
{
	const char *client = cli_arg_value(a, "client");
	bool wrapper = cli_arg_set(a, "wrapper");
	const char *home = getenv("IDW_HOME");
	char cmd[PATH_MAX + 32];
	cJSON *o, *servers, *srv, *env;
	int rc;

	if (client == NULL)
		client = "generic";
	if (strcmp(client, "claude-desktop") != 0 &&
	    strcmp(client, "cursor") != 0 &&
	    strcmp(client, "claude-code") != 0 &&
	    strcmp(client, "generic") != 0) {
		cli_warn("--client takes claude-desktop, cursor, claude-code "
			 "or generic");
		return CLI_EXIT_USAGE;
	}
	if (sibling(wrapper ? "idw-mcp-wrapper" : "idw-mcp", cmd,
		    sizeof(cmd)) != 0 ||
	    access(cmd, X_OK) != 0) {
		cli_warnf("%s is not installed next to idw",
			  wrapper ? "idw-mcp-wrapper" : "idw-mcp");
		return CLI_EXIT_ERR;
	}
	if (strcmp(client, "claude-code") == 0) {
		printf("claude mcp add idw");
		if (home != NULL && home[0] != '\0')
			printf(" --env IDW_HOME=%s", home);
		if (wrapper)
			printf(" --env IDW_TOKEN_FILE=$HOME/.config/idw/"
			       "mcp-token");
		printf(" -- %s\n", cmd);
		return 0;
	}
	o = cJSON_CreateObject();
	servers = cJSON_AddObjectToObject(o, "mcpServers");
	srv = cJSON_AddObjectToObject(servers, "idw");
	cJSON_AddStringToObject(srv, "command", cmd);
	cJSON_AddArrayToObject(srv, "args");
	env = cJSON_AddObjectToObject(srv, "env");
	/* Paths only: the unlock secret stays in the keychain or a file. */
	if (home != NULL && home[0] != '\0')
		cJSON_AddStringToObject(env, "IDW_HOME", home);
	if (wrapper)
		cJSON_AddStringToObject(env, "IDW_TOKEN_FILE",
					"/home/YOU/.config/idw/mcp-token");
	rc = cli_print_json(o) == 0 ? 0 : CLI_EXIT_ERR;
	cJSON_Delete(o);
	if (rc == 0 && wrapper)
		fprintf(stderr,
			"idw: put a token in that file first:\n"
			"  install -d -m 700 ~/.config/idw && idw auth token "
			"create --label mcp --ttl 720h > "
			"~/.config/idw/mcp-token && chmod 600 "
			"~/.config/idw/mcp-token\n");
	return rc;
}
