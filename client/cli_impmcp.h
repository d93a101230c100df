/* SPDX-License-Identifier: ISC */
#ifndef IDW_CLI_IMPMCP_H
#define IDW_CLI_IMPMCP_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "client/cli_impfile.h"
#include "common/buf.h"
#include "common/err.h"

/* One server of an MCP config that holds literal secrets in env. */
struct cli_impmcp_server {
	char name[72];
	size_t start, end; /* the byte span of its object in the file */
	char *command;	   /* "command" as written (malloc) */
	cJSON *args;	   /* "args", an array of strings (may be empty) */
	cJSON *refs;	   /* env entries kept: "${VAR}" references */
	char *kept;	   /* other members, verbatim, "k":v,... (malloc) */
	size_t first, n;   /* its passports: items first .. first + n */
};

struct cli_impmcp {
	struct cli_impmcp_server *servers;
	size_t nservers;
};

/*
 * An MCP client config (Claude Desktop's claude_desktop_config.json,
 * Claude Code's .mcp.json: "mcpServers": {NAME: {command, args, env}}).
 * Every env value that is not a "${VAR}" reference becomes an item named
 * after its variable, path "mcp/NAME", with the fields of tmpl.  Servers
 * without such values are left out of cfg.
 */
int cli_impmcp_parse(const char *buf, size_t len, const cJSON *tmpl,
		     struct cli_impset *s, struct cli_impmcp *cfg) IDW_WUR;
void cli_impmcp_free(struct cli_impmcp *cfg);

/*
 * The config rewritten: each server of cfg becomes {"command": idw,
 * "args": ["run", "--profile", NAME]} with its other members and its
 * references kept.  out is a plain buffer (nothing secret is left).
 */
int cli_impmcp_rewrite(const char *buf, size_t len,
		       const struct cli_impmcp *cfg, const char *idw,
		       struct idw_buf *out) IDW_WUR;

#endif
