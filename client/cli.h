/* SPDX-License-Identifier: ISC */
#ifndef IDW_CLI_H
#define IDW_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "client/cli_args.h"
#include "client/idwclient.h"
#include "common/buf.h"
#include "common/err.h"

/*
 * The idw CLI.  Every verb is a row of a const table: its name, handler,
 * options, how many positional words it takes, and its usage.  A handler
 * returns the process exit status: 0 ok, 1 error, 2 usage, 3 denied by
 * policy, 4 approval pending, 5 unlock failed, 6 person proof failed.
 */
#define CLI_EXIT_OK 0
#define CLI_EXIT_ERR 1
#define CLI_EXIT_USAGE 2

#define CLI_VERB_GROUP 0x1 /* "agent": dispatches to sub-verbs */
#define CLI_VERB_REST 0x2  /* "run ... -- PROGRAM ARGS": see cli_args.rest */

struct cli_verb {
	const char *name;
	int (*run)(const struct cli_args *a);
	const struct cli_opt *opts;
	unsigned char min_pos, max_pos;
	const char *usage; /* after "idw " */
	const char *help;  /* one or more lines, shown by --help */
	unsigned flags;
	const struct cli_verb *sub; /* CLI_VERB_GROUP: table, NULL-ended */
};

/* The verb table, and the whole CLI: returns the exit status. */
extern const struct cli_verb cli_verbs[];
const struct cli_verb *cli_verb_find(const struct cli_verb *table,
				     const char *name);
int cli_run(int argc, char *argv[]);

/* Handlers. */
int cli_init(const struct cli_args *a);
int cli_create(const struct cli_args *a);
int cli_list(const struct cli_args *a);
int cli_show(const struct cli_args *a);
int cli_get(const struct cli_args *a);
int cli_revoke(const struct cli_args *a);
int cli_suspend(const struct cli_args *a);
int cli_resume(const struct cli_args *a);
int cli_lock(const struct cli_args *a);
int cli_unlock(const struct cli_args *a);
int cli_agent_start(const struct cli_args *a);
int cli_agent_stop(const struct cli_args *a);
int cli_agent_status(const struct cli_args *a);
int cli_agent_restart(const struct cli_args *a);
int cli_auth_login(const struct cli_args *a);
int cli_auth_logout(const struct cli_args *a);
int cli_auth_status(const struct cli_args *a);
int cli_token_create(const struct cli_args *a);
int cli_token_list(const struct cli_args *a);
int cli_token_revoke(const struct cli_args *a);
int cli_mcp_config(const struct cli_args *a);
int cli_mcp_wrap(const struct cli_args *a);
int cli_run_program(const struct cli_args *a); /* idw run (cli_run.c) */
int cli_audit(const struct cli_args *a);
/* Backup, restore and repair (cli_backup.c, cli_repair.c). */
int cli_backup(const struct cli_args *a);
int cli_restore(const struct cli_args *a);
int cli_vault_repair(const struct cli_args *a);
/* Governance (cli_edit.c, cli_gov.c, cli_policy.c). */
int cli_edit(const struct cli_args *a);
int cli_delegate(const struct cli_args *a);
int cli_check(const struct cli_args *a);
int cli_approvals(const struct cli_args *a);
int cli_approve(const struct cli_args *a);
int cli_deny(const struct cli_args *a);
int cli_grants(const struct cli_args *a);
int cli_policy_list(const struct cli_args *a);
int cli_policy_add(const struct cli_args *a);
int cli_policy_enable(const struct cli_args *a);
int cli_policy_disable(const struct cli_args *a);
int cli_policy_remove(const struct cli_args *a);
int cli_config_set(const struct cli_args *a);
int cli_config_get(const struct cli_args *a);
/* The vault key (cli_vault.c). */
int cli_passwd(const struct cli_args *a);
int cli_vault_rekey(const struct cli_args *a);
/* Export and import (cli_export.c, cli_import.c). */
int cli_export(const struct cli_args *a);
int cli_import(const struct cli_args *a);

/* Run profiles (cli_profile.c) and values for a person (cli_env.c). */
int cli_profile_add(const struct cli_args *a);
int cli_profile_list(const struct cli_args *a);
int cli_profile_show(const struct cli_args *a);
int cli_profile_remove(const struct cli_args *a);
int cli_env(const struct cli_args *a);

/*
 * The profile called name, as profile_show answers it: {name, program,
 * args[], env{VAR: passport id}, vars[{var, passport, name, path, reveal,
 * status}], created, created_by}; *profile_out is the caller's to
 * cJSON_Delete.  Exit status as cli_call (its message printed).
 */
int cli_profile_fetch(struct idwc *c, const char *name, cJSON **profile_out);

/*
 * Values for `idw get` and `idw env`: a get per value (via, and var when
 * set); the values whose passport is never revealed then come in one
 * get_proven with person proof (the passphrase from stdin with
 * pass_stdin, else /dev/tty; with neither, the agent's refusal stands:
 * exit 3).  reps has n + 1 entries, each to be freed with cli_reply_free
 * (which wipes); v[i].val points into them.  Exit status as cli_call.
 */
#define CLI_VALUES_MAX 64
struct cli_value {
	const char *var; /* the variable it is for, or NULL */
	const char *ref; /* a passport id or path/name */
	const uint8_t *val;
	size_t len;
};
int cli_values_fetch(struct idwc *c, struct cli_value *v, size_t n,
		     const char *purpose, const char *via, bool pass_stdin,
		     struct idwc_reply *reps);

/* Messages: "idw: " + text, each line escaped for display, on stderr. */
void cli_warn(const char *text);
void cli_warnf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Connecting (cli_conn.c). */
#define CLI_CONN_AUTOSTART 0x1 /* start the agent when none answers */
#define CLI_CONN_NO_VAULT 0x2  /* a home without a vault is fine (init) */
#define CLI_CONN_ABSENT_OK 0x4 /* no agent: IDW_EAGENT, nothing printed */

/*
 * Connect to the agent of this home.  With CLI_CONN_AUTOSTART, an agent
 * that finds no unlock source makes us ask on /dev/tty and start it again
 * with the answer.  pass, when not NULL, is handed to a starting agent.
 * Returns 0 or an IDW_E* code, after printing why.
 */
int cli_connect(unsigned flags, const struct idw_buf *pass,
		struct idwc **out) IDW_WUR;

/*
 * Send req with an optional secret and read the reply.  Returns the exit
 * status: 0 when the agent said ok; otherwise its message was printed.
 * rep is always safe to pass to cli_reply_free.
 */
int cli_call(struct idwc *c, const cJSON *req, const struct idw_buf *secret,
	     struct idwc_reply *rep);
void cli_reply_free(struct idwc_reply *rep);

/*
 * Connect with flags, send {"verb": verb, ...args} and read the reply:
 * the usual shape of a verb.  Takes ownership of req.
 */
int cli_simple(unsigned flags, cJSON *req, const struct idw_buf *secret,
	       struct idwc_reply *rep);

/* A request object {"verb": verb}, or NULL when out of memory. */
cJSON *cli_request(const char *verb);

/* The home this client serves, for messages ("" when unknown). */
const char *cli_home(void);

/* Output (cli_output.c). */
char *cli_display(const char *s); /* escaped copy, free() it */
int cli_print_json(const cJSON *j);
int cli_print_passports(const cJSON *list);
int cli_print_passport(const cJSON *p);
int cli_print_status(const cJSON *st);
/* JSON with every character a terminal acts on or hides as \uXXXX. */
int cli_print_json_escaped(const cJSON *j);
/* Warn on stderr when a reply's "policy" says access is not allowed. */
void cli_policy_warn(const cJSON *reply);
/* Write bytes to stdout as they are, with a final newline. */
int cli_write_value(const uint8_t *p, size_t n);

#endif
