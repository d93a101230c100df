/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "client/cli.h"

static const struct cli_opt no_opts[] = {{NULL, CLI_OPT_FLAG}};
static const struct cli_opt json_opts[] = {{"json", CLI_OPT_FLAG},
					   {NULL, CLI_OPT_FLAG}};
static const struct cli_opt init_opts[] = {
	{"kdf", CLI_OPT_VALUE},
	{"reveal-default", CLI_OPT_VALUE},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt unlock_opts[] = {
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt create_opts[] = {
	{"name", CLI_OPT_VALUE},       {"type", CLI_OPT_VALUE},
	{"platform", CLI_OPT_LIST},    {"visa", CLI_OPT_VALUE},
	{"scope", CLI_OPT_LIST},       {"owner", CLI_OPT_VALUE},
	{"no-owner", CLI_OPT_FLAG},    {"agent", CLI_OPT_VALUE},
	{"valid-days", CLI_OPT_VALUE}, {"valid-until", CLI_OPT_VALUE},
	{"path", CLI_OPT_VALUE},       {"tag", CLI_OPT_LIST},
	{"notes", CLI_OPT_VALUE},      {"tier", CLI_OPT_VALUE},
	{"issuer", CLI_OPT_VALUE},     {"reveal", CLI_OPT_VALUE},
	{"valid-from", CLI_OPT_VALUE}, {NULL, CLI_OPT_FLAG},
};
static const struct cli_opt edit_opts[] = {
	{"name", CLI_OPT_VALUE},
	{"type", CLI_OPT_VALUE},
	{"platform", CLI_OPT_LIST},
	{"visa", CLI_OPT_VALUE},
	{"scope", CLI_OPT_LIST},
	{"issuer", CLI_OPT_VALUE},
	{"owner", CLI_OPT_VALUE},
	{"no-owner", CLI_OPT_FLAG},
	{"agent", CLI_OPT_VALUE},
	{"valid-from", CLI_OPT_VALUE},
	{"valid-days", CLI_OPT_VALUE},
	{"valid-until", CLI_OPT_VALUE},
	{"path", CLI_OPT_VALUE},
	{"tag", CLI_OPT_LIST},
	{"notes", CLI_OPT_VALUE},
	{"tier", CLI_OPT_VALUE},
	{"reveal", CLI_OPT_VALUE},
	{"clear", CLI_OPT_LIST},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt delegate_opts[] = {
	{"from", CLI_OPT_VALUE},  {"to", CLI_OPT_VALUE},
	{"scope", CLI_OPT_LIST},  {"until", CLI_OPT_VALUE},
	{"notes", CLI_OPT_VALUE}, {"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt approve_opts[] = {
	{"ttl", CLI_OPT_VALUE},
	{"reason", CLI_OPT_VALUE},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt policy_add_opts[] = {
	{"file", CLI_OPT_VALUE},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt list_opts[] = {
	{"status", CLI_OPT_VALUE},
	{"platform", CLI_OPT_VALUE},
	{"json", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt get_opts[] = {{"purpose", CLI_OPT_VALUE},
					  {"passphrase-stdin", CLI_OPT_FLAG},
					  {NULL, CLI_OPT_FLAG}};
static const struct cli_opt env_opts[] = {
	{"format", CLI_OPT_VALUE},
	{"purpose", CLI_OPT_VALUE},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt profile_add_opts[] = {
	{"env", CLI_OPT_LIST},
	{"replace", CLI_OPT_FLAG},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt reason_opts[] = {{"reason", CLI_OPT_VALUE},
					     {NULL, CLI_OPT_FLAG}};
/* Verbs that take person proof. */
static const struct cli_opt proof_opts[] = {{"passphrase-stdin", CLI_OPT_FLAG},
					    {NULL, CLI_OPT_FLAG}};

static const struct cli_opt export_opts[] = {
	{"format", CLI_OPT_VALUE}, {"with-values", CLI_OPT_FLAG},
	{"output", CLI_OPT_VALUE}, {"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt import_opts[] = {
	{"dotenv", CLI_OPT_VALUE},
	{"mcp-config", CLI_OPT_VALUE},
	{"path", CLI_OPT_VALUE},
	{"type", CLI_OPT_VALUE},
	{"skip-existing", CLI_OPT_FLAG},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};

static const struct cli_opt passwd_opts[] = {
	{"no-rekey", CLI_OPT_FLAG},
	{"yes", CLI_OPT_FLAG},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt rekey_opts[] = {
	{"yes", CLI_OPT_FLAG},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt backup_opts[] = {
	{"with-audit", CLI_OPT_FLAG},
	{"force", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt restore_opts[] = {
	{"yes", CLI_OPT_FLAG},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_verb vault_verbs[] = {
	{"rekey", cli_vault_rekey, rekey_opts, 0, 0,
	 "vault rekey [--yes] [--passphrase-stdin]",
	 "Make a new vault key.  The passphrase slot is wrapped around it;\n"
	 "every other unlocking slot (the OS keychain, session tokens) is\n"
	 "listed and dropped, after a yes on the terminal or --yes.  From\n"
	 "then on no earlier token, keychain key or copy of the slot areas\n"
	 "opens the vault; the next agent start re-encrypts what was written\n"
	 "before under the new key.  Auth-only tokens stay.  Takes person\n"
	 "proof; --passphrase-stdin reads the passphrase from stdin.",
	 0, NULL},
	{"repair", cli_vault_repair, restore_opts, 0, 0,
	 "vault repair [--yes] [--passphrase-stdin]",
	 "For a vault that refuses to open because a journal record fails\n"
	 "its check: show what is damaged (record, offset, what follows)\n"
	 "and, after a yes on the terminal or --yes, keep the whole file as\n"
	 "vault.idw.damaged-<time> and cut the vault to its valid prefix;\n"
	 "then re-anchor the audit log.  Takes the passphrase itself\n"
	 "(never IDW_PASSPHRASE); never runs by itself.",
	 0, NULL},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL},
};
static const struct cli_verb agent_verbs[] = {
	{"start", cli_agent_start, no_opts, 0, 0, "agent start",
	 "Start the agent of this vault if none runs (unlocking it) and\n"
	 "print its pid.",
	 0, NULL},
	{"stop", cli_agent_stop, no_opts, 0, 0, "agent stop",
	 "Stop the agent of this vault; it wipes its secrets and exits.\n"
	 "Succeeds quietly when no agent runs.",
	 0, NULL},
	{"status", cli_agent_status, json_opts, 0, 0, "agent status [--json]",
	 "Show the agent of this vault: pid, lock state, unlock source,\n"
	 "clients, idle timeout.  Exits 1 when no agent is running.",
	 0, NULL},
	{"restart", cli_agent_restart, no_opts, 0, 0, "agent restart",
	 "Stop the agent of this vault, then start it again.", 0, NULL},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cli_opt token_create_opts[] = {
	{"label", CLI_OPT_VALUE},	    {"ttl", CLI_OPT_VALUE},
	{"expires", CLI_OPT_VALUE},	    {"auth-only", CLI_OPT_FLAG},
	{"passphrase-stdin", CLI_OPT_FLAG}, {NULL, CLI_OPT_FLAG},
};
static const struct cli_opt mcp_config_opts[] = {
	{"client", CLI_OPT_VALUE},
	{"wrapper", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};

static const struct cli_opt run_opts[] = {
	{"env", CLI_OPT_LIST},	     {"env-file", CLI_OPT_VALUE},
	{"purpose", CLI_OPT_VALUE},  {"inherit-env", CLI_OPT_FLAG},
	{"no-redact", CLI_OPT_FLAG}, {"profile", CLI_OPT_VALUE},
	{NULL, CLI_OPT_FLAG},
};
static const struct cli_opt mcp_wrap_opts[] = {
	{"name", CLI_OPT_VALUE},
	{"env", CLI_OPT_LIST},
	{"client", CLI_OPT_VALUE},
	{"replace", CLI_OPT_FLAG},
	{"passphrase-stdin", CLI_OPT_FLAG},
	{NULL, CLI_OPT_FLAG},
};

static const struct cli_verb token_verbs[] = {
	{"create", cli_token_create, token_create_opts, 0, 0,
	 "auth token create --label L (--ttl 720h | --expires 24h|7d|30d)\n"
	 "           [--auth-only] [--passphrase-stdin]",
	 "Make a session token and print it once.  Give it to a headless MCP\n"
	 "client as IDW_SESSION_TOKEN (or through idw-mcp-wrapper): it\n"
	 "unlocks the vault and names the client in the audit log.  With\n"
	 "--auth-only it cannot unlock; it only identifies its holder to an\n"
	 "unlocked agent.  Takes person proof.",
	 0, NULL},
	{"list", cli_token_list, json_opts, 0, 0, "auth token list [--json]",
	 "List tokens: id, label, kind, status, expiry, last use.", 0, NULL},
	{"revoke", cli_token_revoke, no_opts, 1, 1,
	 "auth token revoke ID-PREFIX",
	 "Remove a token's slot at once; it no longer unlocks or identifies\n"
	 "anyone.  A copy of vault.idw taken earlier still opens with it\n"
	 "until 'idw vault rekey'.",
	 0, NULL},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cli_verb auth_verbs[] = {
	{"login", cli_auth_login, proof_opts, 0, 0,
	 "auth login [--passphrase-stdin]",
	 "Let this session's OS keychain unlock the vault, so MCP configs\n"
	 "need no secret.  Takes person proof.",
	 0, NULL},
	{"logout", cli_auth_logout, no_opts, 0, 0, "auth logout",
	 "Remove the keychain slot and the keychain item.", 0, NULL},
	{"status", cli_auth_status, json_opts, 0, 0, "auth status [--json]",
	 "Which unlock source a new agent started here would use, and why\n"
	 "each earlier one would be skipped.",
	 0, NULL},
	{"token", NULL, NULL, 0, 0, "auth token create|list|revoke",
	 "Session tokens for headless MCP clients.", CLI_VERB_GROUP,
	 token_verbs},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cli_verb policy_verbs[] = {
	{"list", cli_policy_list, json_opts, 0, 0, "policy list [--json]",
	 "List the rules, strongest first: id, effect, priority, whether\n"
	 "enabled, condition.",
	 0, NULL},
	{"add", cli_policy_add, policy_add_opts, 0, 0,
	 "policy add --file RULE.json [--passphrase-stdin]",
	 "Add a rule: {\"id\", \"name\", \"description\", \"condition\":\n"
	 "{visa_types, platforms, access_tiers, require_human_owner,\n"
	 "max_validity_days, max_delegation_depth}, \"effect\": allow|deny|\n"
	 "require-approval, \"priority\", \"enabled\"}.  Takes person proof.",
	 0, NULL},
	{"enable", cli_policy_enable, proof_opts, 1, 1,
	 "policy enable ID [--passphrase-stdin]",
	 "Enable a rule.  Takes person proof.", 0, NULL},
	{"disable", cli_policy_disable, proof_opts, 1, 1,
	 "policy disable ID [--passphrase-stdin]",
	 "Disable a rule.  Takes person proof.", 0, NULL},
	{"remove", cli_policy_remove, proof_opts, 1, 1,
	 "policy remove ID [--passphrase-stdin]",
	 "Remove a rule.  Takes person proof.", 0, NULL},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cli_verb config_verbs[] = {
	{"set", cli_config_set, proof_opts, 2, 2,
	 "config set KEY VALUE [--passphrase-stdin]",
	 "Change a setting: approval.elicitation on|off,\n"
	 "approval.max_ttl DURATION, reveal.default model|never (the reveal\n"
	 "of passports created without --reveal).  Takes person proof.",
	 0, NULL},
	{"get", cli_config_get, no_opts, 0, 1, "config get [KEY]",
	 "Show one setting, or all with what they do.", 0, NULL},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cli_verb profile_verbs[] = {
	{"add", cli_profile_add, profile_add_opts, 1, 1,
	 "profile add NAME [--env VAR=PASSPORT]... [--replace]\n"
	 "           [--passphrase-stdin] -- PROGRAM ARGS...",
	 "Pin a run profile: PROGRAM (found through PATH and made an\n"
	 "absolute real path), its arguments, and each VAR bound to a\n"
	 "passport (an id or path/name, resolved now).  'idw run --profile\n"
	 "NAME' starts it; only a profile gets 'never' passports.  NAME is\n"
	 "1 to 63 of A-Z a-z 0-9 . _ -.  --replace overwrites a profile of\n"
	 "that name.  Takes person proof.",
	 CLI_VERB_REST, NULL},
	{"list", cli_profile_list, json_opts, 0, 0, "profile list [--json]",
	 "List run profiles: name, variables, command.", 0, NULL},
	{"show", cli_profile_show, json_opts, 1, 1,
	 "profile show NAME [--json]",
	 "Show a run profile: its command and, per variable, the passport\n"
	 "it gets (name, reveal, status).",
	 0, NULL},
	{"remove", cli_profile_remove, proof_opts, 1, 1,
	 "profile remove NAME [--passphrase-stdin]",
	 "Remove a run profile.  Takes person proof.", 0, NULL},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cli_verb mcp_verbs[] = {
	{"config", cli_mcp_config, mcp_config_opts, 0, 0,
	 "mcp config [--client claude-desktop|cursor|claude-code|generic]\n"
	 "           [--wrapper]",
	 "Print a ready MCP client configuration for idw-mcp, with its\n"
	 "absolute path and no secret in it.  --wrapper points it at\n"
	 "idw-mcp-wrapper, which reads a session token from a file.",
	 0, NULL},
	{"wrap", cli_mcp_wrap, mcp_wrap_opts, 0, 0,
	 "mcp wrap --name SERVER [--env NAME=PASSPORT]... [--replace]\n"
	 "           [--client claude-desktop|claude-code|json]\n"
	 "           [--passphrase-stdin] -- PROGRAM ARGS...",
	 "Keep another MCP server's credentials out of its config: pin\n"
	 "PROGRAM (made absolute), its arguments and variables as the run\n"
	 "profile SERVER (person proof; --replace overwrites one), then\n"
	 "print the config entry that starts it with 'idw run --profile\n"
	 "SERVER'.  The entry names no value; 'never' passports are served\n"
	 "to this profile only.",
	 CLI_VERB_REST, NULL},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cli_opt audit_opts[] = {
	{"since", CLI_OPT_VALUE},     {"until", CLI_OPT_VALUE},
	{"principal", CLI_OPT_VALUE}, {"action", CLI_OPT_VALUE},
	{"result", CLI_OPT_VALUE},    {"limit", CLI_OPT_VALUE},
	{"json", CLI_OPT_FLAG},	      {"export", CLI_OPT_VALUE},
	{NULL, CLI_OPT_FLAG},
};

const struct cli_verb cli_verbs[] = {
	{"init", cli_init, init_opts, 0, 0,
	 "init [--kdf interactive|moderate|sensitive] [--passphrase-stdin]\n"
	 "           [--reveal-default model|never]",
	 "Create the vault of this home.  The new passphrase comes from\n"
	 "IDW_PASSPHRASE, else the first line of stdin with\n"
	 "--passphrase-stdin, else it is typed twice on the terminal; at\n"
	 "least 8 bytes.  --kdf sets the cost of deriving the key from it\n"
	 "(default moderate).  --reveal-default never keeps the values of\n"
	 "passports created without --reveal from the model (default model).",
	 0, NULL},
	{"create", cli_create, create_opts, 0, 0,
	 "create --name NAME --type TYPE [--platform P]... [--visa TYPE]\n"
	 "           [--scope S]... [--owner PERSON | --no-owner]\n"
	 "           [--agent PRINCIPAL] [--valid-days N | --valid-until "
	 "YYYY-MM-DD]\n"
	 "           [--path PATH] [--tag T]... [--notes TEXT]\n"
	 "           [--tier standard|sensitive|critical] [--issuer TEXT]\n"
	 "           [--reveal model|never] [--valid-from DATE]",
	 "Store a credential as a new passport and print its id.  The value\n"
	 "is read from stdin to its end (one trailing newline removed), or\n"
	 "asked for without echo when stdin is a terminal; never from an\n"
	 "argument.  TYPE: api-key, oauth-token, password, ssh-key,\n"
	 "certificate, connection-string, other.  Visa types: access,\n"
	 "privilege, data, compliance, ecosystem, custom.  The owner is you\n"
	 "unless told otherwise; validity is 90 days from now unless told\n"
	 "otherwise.  Repeated options and comma lists both work:\n"
	 "--platform a --platform b,c.",
	 0, NULL},
	{"list", cli_list, list_opts, 0, 0,
	 "list [--status S] [--platform P] [--json]",
	 "List passports (metadata only).  S: active, expiring, expired,\n"
	 "revoked, suspended.  --json prints {\"passports\": [...]}.",
	 0, NULL},
	{"show", cli_show, json_opts, 1, 1, "show ID [--json]",
	 "Show one passport's metadata.  Never the value.", 0, NULL},
	{"get", cli_get, get_opts, 1, 1,
	 "get ID --purpose TEXT [--passphrase-stdin]",
	 "Print the value of a passport alone, followed by a newline.  ID is\n"
	 "an id or path/name.  The purpose is required and recorded in the\n"
	 "audit log.  Exits 3 when the passport is revoked, suspended or\n"
	 "expired.  A 'never' passport takes person proof (the passphrase on\n"
	 "the terminal, or the first line of stdin with --passphrase-stdin).",
	 0, NULL},
	{"env", cli_env, env_opts, 1, CLI_VALUES_MAX,
	 "env [--format dotenv|shell|json] [--purpose TEXT]\n"
	 "           [--passphrase-stdin] VAR=PASSPORT...",
	 "Print variables for a person at a terminal: dotenv (VAR=\"...\"),\n"
	 "shell (export VAR='...') or json.  Each value is audited (purpose\n"
	 "default 'idw env'); 'never' passports take one person proof for\n"
	 "all.  To give values to a program, 'idw run' keeps them off the\n"
	 "screen.",
	 0, NULL},
	{"revoke", cli_revoke, reason_opts, 1, 1, "revoke ID --reason TEXT",
	 "Revoke a passport for good.", 0, NULL},
	{"suspend", cli_suspend, reason_opts, 1, 1,
	 "suspend ID [--reason TEXT]", "Suspend a passport until 'idw resume'.",
	 0, NULL},
	{"resume", cli_resume, proof_opts, 1, 1,
	 "resume ID [--passphrase-stdin]",
	 "Resume a suspended passport.  This widens access again, so it takes\n"
	 "person proof: the passphrase is asked for on the terminal, or read\n"
	 "from the first line of stdin with --passphrase-stdin; never taken\n"
	 "from IDW_PASSPHRASE.  Exits 6 when the proof fails.",
	 0, NULL},
	{"edit", cli_edit, edit_opts, 1, 1,
	 "edit ID [--name N] [--type T] [--platform P]... [--visa TYPE]\n"
	 "           [--scope S]... [--issuer TEXT] [--owner O | --no-owner]\n"
	 "           [--agent PRINCIPAL] [--valid-from DATE]\n"
	 "           [--valid-days N | --valid-until DATE] [--path PATH]\n"
	 "           [--tag T]... [--notes TEXT] [--tier TIER]\n"
	 "           [--reveal model|never] [--clear FIELD]...\n"
	 "           [--passphrase-stdin]",
	 "Change a passport's fields.  A list option replaces the list;\n"
	 "--clear empties platforms, tags, scope, delegation, notes, issuer,\n"
	 "path, agent or owner.  --valid-days counts from valid_from.  Takes\n"
	 "person proof; a revoked passport cannot be edited.",
	 0, NULL},
	{"delegate", cli_delegate, delegate_opts, 1, 1,
	 "delegate ID --from A --to B --scope S... [--until YYYY-MM-DD]\n"
	 "           [--notes TEXT] [--passphrase-stdin]",
	 "Add a delegation hop.  A hop starts where the last one ended and\n"
	 "only narrows: the effective scope is the visa's scope intersected\n"
	 "with every hop's.  At most 3 hops while the default rule\n"
	 "max-delegation-depth-3 is enabled.  Takes person proof.",
	 0, NULL},
	{"check", cli_check, json_opts, 1, 1, "check ID [--json]",
	 "What policy decides for you on a passport, with every violation.\n"
	 "Releases nothing.  Exits 0 when allowed, 3 when denied, 4 when a\n"
	 "person's approval is needed.",
	 0, NULL},
	{"approvals", cli_approvals, json_opts, 0, 0, "approvals [--json]",
	 "List the grants waiting for a person: passport, tier, principal,\n"
	 "purpose (escaped), expiry.",
	 0, NULL},
	{"approve", cli_approve, approve_opts, 1, 1,
	 "approve GRANT [--ttl 15m] [--reason TEXT] [--passphrase-stdin]",
	 "Show a pending grant, then approve it with person proof: its\n"
	 "principal holds a lease on the passport for the TTL (default 15m,\n"
	 "at most approval.max_ttl).",
	 0, NULL},
	{"deny", cli_deny, reason_opts, 1, 1, "deny GRANT --reason TEXT",
	 "Deny a pending grant.  The same principal's requests for that\n"
	 "passport are refused for an hour.",
	 0, NULL},
	{"grants", cli_grants, json_opts, 0, 2,
	 "grants [--json] | grants revoke GRANT",
	 "List grants (pending, approved leases, denied, expired, revoked),\n"
	 "or end a lease or a pending grant at once.",
	 0, NULL},
	{"policy", NULL, NULL, 0, 0, "policy list|add|enable|disable|remove",
	 "The rules of the policy engine.", CLI_VERB_GROUP, policy_verbs},
	{"config", NULL, NULL, 0, 0, "config set|get",
	 "Settings kept in the vault.", CLI_VERB_GROUP, config_verbs},
	{"audit", cli_audit, audit_opts, 0, 1,
	 "audit [PASSPORT] [--since TIME] [--until TIME] [--principal P]\n"
	 "           [--action A] [--result R] [--limit N]\n"
	 "           [--json | --export csv|json]\n"
	 "       idw audit verify [--json]",
	 "Read the audit trail: who used what, when, why, and what was\n"
	 "decided.  Shows the newest 50 matching entries, oldest first "
	 "(--limit\n"
	 "N for more); --export prints every match as CSV or JSON.  TIME is\n"
	 "RFC 3339, YYYY-MM-DD or a duration ago (24h, 7d).  --action denial\n"
	 "finds every refusal.  Untrusted text is escaped; CSV cells that\n"
	 "start with = + - @ get a leading '.\n"
	 "'idw audit verify' checks the whole log's chain and its checkpoints\n"
	 "in the vault; it exits 1 when anything was removed, changed or cut.",
	 0, NULL},
	{"export", cli_export, export_opts, 0, 0,
	 "export [--format json] [--with-values] [--output FILE]\n"
	 "           [--passphrase-stdin]",
	 "Write every passport, one a line, as a JSON document that 'idw\n"
	 "import' reads back.  Metadata only, unless --with-values: then\n"
	 "every value too, which takes person proof and is audited per\n"
	 "passport.  --output FILE writes a new file only you can read\n"
	 "(never over an existing one); else standard output.",
	 0, NULL},
	{"import", cli_import, import_opts, 0, 1,
	 "import FILE | --dotenv FILE [--path PREFIX] | --mcp-config FILE\n"
	 "           [--type TYPE] [--skip-existing] [--passphrase-stdin]",
	 "Make passports from a file, all or nothing: an 'idw export\n"
	 "--with-values' file, a .env file (each variable a passport named\n"
	 "after it, under --path), or an MCP client config (each literal\n"
	 "secret in a server's env becomes a passport under mcp/SERVER, the\n"
	 "server gets a run profile, and the config is rewritten, after a\n"
	 "backup copy FILE.idw-bak, to start it with 'idw run --profile').\n"
	 "Every mistake is named by its line and nothing is imported while\n"
	 "one remains.  A passport whose id or path and name exists is an\n"
	 "error, or left as it is with --skip-existing.  --type sets the\n"
	 "credential type of .env and MCP imports (default api-key).  Takes\n"
	 "person proof.",
	 0, NULL},
	{"lock", cli_lock, no_opts, 0, 0, "lock",
	 "Make the agent wipe its keys and secrets; it keeps running, locked,\n"
	 "until 'idw unlock'.",
	 0, NULL},
	{"unlock", cli_unlock, unlock_opts, 0, 0, "unlock [--passphrase-stdin]",
	 "Unlock the agent (starting it if none runs).  The passphrase comes\n"
	 "from IDW_PASSPHRASE, else the first line of stdin with\n"
	 "--passphrase-stdin, else it is asked for on the terminal.",
	 0, NULL},
	{"agent", NULL, NULL, 0, 0, "agent start|stop|status|restart",
	 "Manage the agent of this vault.", CLI_VERB_GROUP, agent_verbs},
	{"passwd", cli_passwd, passwd_opts, 0, 0,
	 "passwd [--no-rekey] [--yes] [--passphrase-stdin]",
	 "Change the passphrase: the current one (person proof), then the\n"
	 "new one twice, at least 8 bytes; --passphrase-stdin reads the\n"
	 "three lines from stdin.  The passphrase slot and the person-proof\n"
	 "key are rewritten, and the vault is rekeyed (see 'idw vault\n"
	 "rekey', --yes confirms dropping slots) unless --no-rekey.  After\n"
	 "it the old passphrase neither unlocks nor proves.",
	 0, NULL},
	{"backup", cli_backup, backup_opts, 1, 1,
	 "backup FILE [--with-audit] [--force]",
	 "Write a consistent copy of the vault to FILE (0600) while the\n"
	 "agent keeps serving; --with-audit also copies the audit log to\n"
	 "FILE.audit.  Ciphertext only, so no proof: but the copy opens\n"
	 "with today's passphrase, tokens and keychain key until 'idw vault\n"
	 "rekey'.  An existing FILE is kept unless --force.",
	 0, NULL},
	{"restore", cli_restore, restore_opts, 1, 1,
	 "restore FILE [--yes] [--passphrase-stdin]",
	 "Replace the vault with a backup of the same vault, after a yes on\n"
	 "the terminal or --yes (person proof).  The agent stops (clients\n"
	 "are told), the replaced vault is kept as vault.idw.replaced-<time>\n"
	 "and the audit log is re-anchored so it accepts the older vault.\n"
	 "The restored vault opens with the secrets of its day.",
	 0, NULL},
	{"vault", NULL, NULL, 0, 0, "vault rekey|repair",
	 "The vault file and its key.", CLI_VERB_GROUP, vault_verbs},
	{"auth", NULL, NULL, 0, 0, "auth login|logout|status|token",
	 "Unlocking without a passphrase: the OS keychain and session\n"
	 "tokens.",
	 CLI_VERB_GROUP, auth_verbs},
	{"run", cli_run_program, run_opts, 0, 0,
	 "run [--env NAME=PASSPORT]... [--env-file FILE] [--purpose TEXT]\n"
	 "           [--inherit-env] [--no-redact] -- PROGRAM ARGS...\n"
	 "       idw run --profile NAME [--purpose TEXT] [--inherit-env]\n"
	 "           [--no-redact]",
	 "Start PROGRAM with each NAME set to a passport's value, fetched\n"
	 "through policy, grants and audit (one audit entry per variable;\n"
	 "the purpose defaults to 'idw run PROGRAM').  Nothing starts when\n"
	 "a value is refused (exit 3) or waits for approval (exit 4).\n"
	 "--env-file reads lines NAME=idw://PASSPORT (an id or path/name).\n"
	 "The environment is clean but for PATH, HOME, USER, LOGNAME,\n"
	 "SHELL, TERM, LANG, LC_*, TZ, TMPDIR and XDG_RUNTIME_DIR;\n"
	 "--inherit-env passes idw's own, minus every IDW_*.  Output is\n"
	 "redacted: a value in plain, base64, base64url, hex, percent or\n"
	 "JSON-escaped form becomes <redacted:NAME> (--no-redact for binary\n"
	 "output).  This stops accidental echo, not a program that sets out\n"
	 "to leak.  Signals sent to idw are passed on; the exit status is\n"
	 "the program's (128+N when killed by signal N; 127 not found, 126\n"
	 "not runnable).  --profile runs a profile pinned with 'idw profile\n"
	 "add' or 'idw mcp wrap', and only it gets 'never' passports.",
	 CLI_VERB_REST, NULL},
	{"profile", NULL, NULL, 0, 0, "profile add|list|show|remove",
	 "Run profiles: programs pinned with their passports.", CLI_VERB_GROUP,
	 profile_verbs},
	{"mcp", NULL, NULL, 0, 0, "mcp config|wrap",
	 "Configuration for MCP clients.", CLI_VERB_GROUP, mcp_verbs},
	{NULL, NULL, NULL, 0, 0, NULL, NULL, 0, NULL},
};

static const char exit_help[] =
	"Exit status: 0 ok, 1 error, 2 usage, 3 denied by policy, 4 approval\n"
	"pending, 5 unlock failed or locked, 6 person proof failed.\n"
	"IDW_HOME chooses the vault, IDW_SOCKET the agent's socket.\n";

static void print_usage(FILE *f)
{
	fprintf(f, "usage: idw VERB [OPTIONS]\n       idw --help | "
		   "--version\n\n");
	for (const struct cli_verb *v = cli_verbs; v->name != NULL; v++)
		fprintf(f, "  idw %s\n", v->usage);
	fprintf(f, "\nRun 'idw VERB --help' for more.\n%s", exit_help);
}

static void print_verb_help(FILE *f, const struct cli_verb *v)
{
	fprintf(f, "usage: idw %s\n\n%s\n", v->usage, v->help);
	if (v->flags & CLI_VERB_GROUP) {
		fprintf(f, "\n");
		for (const struct cli_verb *s = v->sub; s->name != NULL; s++)
			fprintf(f, "  idw %s\n", s->usage);
	}
}

const struct cli_verb *cli_verb_find(const struct cli_verb *table,
				     const char *name)
{
	for (const struct cli_verb *v = table; v->name != NULL; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

static bool is_help(const char *w)
{
	return strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0;
}

static int usage_error(const char *msg, const struct cli_verb *v)
{
	if (msg != NULL)
		cli_warn(msg);
	if (v != NULL)
		fprintf(stderr, "usage: idw %s\n", v->usage);
	else
		print_usage(stderr);
	return CLI_EXIT_USAGE;
}

/* "idw agent ...": find the sub-verb, or answer for the group. */
static int find_sub(const struct cli_verb **v, int *argc, char ***argv)
{
	const struct cli_verb *sub;

	if (*argc == 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "%s needs one of its verbs",
			 (*v)->name);
		return usage_error(msg, *v);
	}
	if (is_help((*argv)[0])) {
		print_verb_help(stdout, *v);
		return CLI_EXIT_OK;
	}
	if ((sub = cli_verb_find((*v)->sub, (*argv)[0])) == NULL) {
		cli_warnf("unknown verb '%s %.64s'", (*v)->name, (*argv)[0]);
		return usage_error(NULL, *v);
	}
	*v = sub;
	(*argc)--;
	(*argv)++;
	return -1;
}

int cli_run(int argc, char *argv[])
{
	const struct cli_verb *v;
	struct cli_args a;
	int rc;

	if (argc < 2)
		return usage_error(NULL, NULL);
	if (is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
		v = argc > 2 ? cli_verb_find(cli_verbs, argv[2]) : NULL;
		if (v != NULL)
			print_verb_help(stdout, v);
		else
			print_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("idw %s\n", IDW_VERSION);
		return CLI_EXIT_OK;
	}
	if ((v = cli_verb_find(cli_verbs, argv[1])) == NULL) {
		cli_warnf(argv[1][0] == '-' ? "unknown option %.64s"
					    : "unknown verb '%.64s'",
			  argv[1]);
		return usage_error(NULL, NULL);
	}
	argc -= 2;
	argv += 2;
	/* Groups nest: "auth token create". */
	while (v->flags & CLI_VERB_GROUP)
		if ((rc = find_sub(&v, &argc, &argv)) >= 0)
			return rc;

	rc = (v->flags & CLI_VERB_REST)
		     ? cli_args_parse_rest(&a, v->opts, v->min_pos, v->max_pos,
					   argc, argv)
		     : cli_args_parse(&a, v->opts, v->min_pos, v->max_pos, argc,
				      argv);
	if (rc != 0) {
		rc = usage_error(a.err, v);
	} else if (a.help) {
		print_verb_help(stdout, v);
		rc = CLI_EXIT_OK;
	} else if (sodium_init() < 0) {
		cli_warn("libsodium failed to initialise");
		rc = CLI_EXIT_ERR;
	} else {
		rc = v->run(&a);
	}
	cli_args_free(&a);
	if (fflush(stdout) != 0 && rc == CLI_EXIT_OK) {
		cli_warn("writing to stdout failed");
		rc = CLI_EXIT_ERR;
	}
	return rc;
}
