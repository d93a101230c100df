/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agentd/dispatch.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "common/wire.h"
#include "sandbox/arena.h"

/*
 * Every verb the agent answers, with what it needs.  Adding a verb is
 * adding a row.  VERB_NEEDS_PROOF is on every verb that changes the vault
 * or its config or widens access; a row without it must be named in
 * dispatch_no_proof below (tests/unit/test_proof.c walks the table).
 */
const struct verb_row dispatch_table[] = {
	{"status", verb_status, 0},
	{"init", verb_init, VERB_TAKES_SECRET},
	{"unlock", verb_unlock, VERB_NEEDS_VAULT | VERB_TAKES_SECRET},
	{"lock", verb_lock, VERB_NEEDS_VAULT},
	{"stop", verb_stop, 0},
	{"challenge", verb_challenge, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"create", verb_create,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_TAKES_SECRET},
	{"list", verb_list, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"show", verb_show, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"get", verb_get, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"revoke", verb_revoke, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"suspend", verb_suspend, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"resume", verb_resume,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"check_policy", verb_check_policy,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"request_access", verb_request_access,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"audit", verb_audit, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"audit_verify", verb_audit_verify,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"token_create", verb_token_create,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"token_list", verb_token_list, VERB_NEEDS_VAULT},
	{"token_revoke", verb_token_revoke,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"login", verb_login,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"login_confirm", verb_login_confirm,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"logout", verb_logout, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"edit", verb_edit,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"delegate", verb_delegate,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"policy_list", verb_policy_list,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"policy_add", verb_policy_add,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"policy_enable", verb_policy_enable,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"policy_disable", verb_policy_disable,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"policy_remove", verb_policy_remove,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"config_get", verb_config_get, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"config_set", verb_config_set,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"grants", verb_grants, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"approve", verb_approve,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"deny", verb_deny, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"grants_revoke", verb_grants_revoke,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"elicitation_answer", verb_elicitation_answer,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"rekey_plan", verb_rekey_plan, VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"rekey", verb_rekey,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF |
		 VERB_TAKES_SECRET},
	{"passwd", verb_passwd,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF |
		 VERB_TAKES_SECRET},
	{"get_proven", verb_get_proven,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"profile_add", verb_profile_add,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"profile_list", verb_profile_list,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"profile_show", verb_profile_show,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED},
	{"profile_remove", verb_profile_remove,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"import", verb_import,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF |
		 VERB_TAKES_SECRET},
	{"export_values", verb_export_values,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"backup", verb_backup, VERB_NEEDS_VAULT},
	{"restore", verb_restore,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
	{"repair", verb_repair,
	 VERB_NEEDS_VAULT | VERB_NEEDS_UNLOCKED | VERB_NEEDS_PROOF},
};
const size_t dispatch_table_len =
	sizeof(dispatch_table) / sizeof(dispatch_table[0]);

/*
 * DESIGN "Principals and proof": the closed list of verbs without proof,
 * because they only read metadata, narrow access or copy ciphertext; then
 * the protocol's own verbs.
 */
const struct verb_exemption dispatch_no_proof[] = {
	{"list", "reads metadata"},
	{"show", "reads metadata"},
	{"audit", "reads the audit log"},
	{"audit_verify", "reads the audit log and checks it"},
	{"status", "reads the agent's state"},
	{"create", "adds a passport; widens no access to an existing one"},
	{"suspend", "narrows access"},
	{"revoke", "narrows access"},
	{"deny", "narrows access: refuses a pending grant"},
	{"lock", "narrows access: wipes the keys"},
	{"logout", "narrows access: removes the keychain slot"},
	{"token_revoke", "narrows access: removes a token's slot"},
	{"token_list", "reads slot metadata"},
	{"login_confirm", "activates only the slot that a proven login on "
			  "the same connection made"},
	{"grants_revoke", "narrows access: ends a lease"},
	{"backup", "copies ciphertext"},
	{"rekey_plan", "reads slot metadata: the slots a rekey would drop"},
	{"init", "there is no vault, so no key, to prove against: init is what "
		 "sets the proof key"},
	{"unlock", "the passphrase itself is checked: it must unwrap VK"},
	{"stop", "narrows access: the agent wipes its keys and exits"},
	{"challenge", "hands out a single-use nonce; grants nothing"},
	{"get", "a read gated by status, policy, grants and audit (a 'never' "
		"passport's value is refused unless a profile a person pinned "
		"with proof names it)"},
	{"check_policy", "a read of the policy decision; releases nothing"},
	{"request_access", "a read gated by policy: it may create a pending "
			   "grant, which only a proven 'approve' widens"},
	{"grants", "reads grant metadata (a token principal only its own)"},
	{"policy_list", "reads the rules"},
	{"config_get", "reads a setting"},
	{"profile_list", "reads run profiles' metadata"},
	{"profile_show", "reads one run profile's metadata"},
	{"elicitation_answer",
	 "the person's answer to an MCP elicitation; it approves only when "
	 "a person turned approval.elicitation on with proof, only a grant "
	 "of the principal asking and never a critical passport; every "
	 "other answer narrows"},
};
const size_t dispatch_no_proof_len =
	sizeof(dispatch_no_proof) / sizeof(dispatch_no_proof[0]);

const char *dispatch_proof_exemption(const char *verb)
{
	for (size_t i = 0; verb != NULL && i < dispatch_no_proof_len; i++)
		if (strcmp(dispatch_no_proof[i].verb, verb) == 0)
			return dispatch_no_proof[i].why;
	return NULL;
}

const struct verb_row *dispatch_find(const char *verb)
{
	for (size_t i = 0; verb != NULL && i < dispatch_table_len; i++)
		if (strcmp(dispatch_table[i].verb, verb) == 0)
			return &dispatch_table[i];
	return NULL;
}

/*
 * JSON text is UTF-8, and cJSON copies a string's bytes as they are.  A
 * message that quotes a client's bytes, or text cut at a length bound,
 * may hold a broken sequence: each byte that does not begin a valid one
 * becomes '?'.
 */
static void utf8_scrub(char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		uint8_t c = (uint8_t)s[i];
		size_t k = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

		if (k <= n - i && idw_utf8_valid((const uint8_t *)s + i, k))
			i += k;
		else
			s[i++] = '?';
	}
}

int reply_error(struct reply *rep, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_scrub(msg);
	cJSON_Delete(rep->json);
	rep->json = cJSON_CreateObject();
	if (rep->json != NULL) {
		cJSON_AddFalseToObject(rep->json, "ok");
		cJSON_AddStringToObject(rep->json, "code", idw_err_name(err));
		cJSON_AddStringToObject(rep->json, "message", msg);
	}
	return err;
}

cJSON *reply_ok(struct reply *rep)
{
	cJSON_Delete(rep->json);
	rep->json = cJSON_CreateObject();
	if (rep->json != NULL)
		cJSON_AddTrueToObject(rep->json, "ok");
	return rep->json;
}

void dispatch_hello(struct agent *a, struct peer *p, const char *json,
		    size_t json_len, const uint8_t *token, size_t token_len,
		    struct reply *rep)
{
	char why[400];
	cJSON *req = idw_json_parse(json, json_len), *o;
	const char *actor;
	char hex[33];

	if (req == NULL || !cJSON_IsObject(req)) {
		reply_error(rep, IDW_EINVAL, "hello is not a JSON object");
		rep->close_after = true;
		cJSON_Delete(req);
		return;
	}
	actor = idw_json_str(req, "claimed_actor");
	snprintf(p->claimed_actor, sizeof(p->claimed_actor), "%s",
		 actor ? actor : "");
	utf8_scrub(p->claimed_actor);
	cJSON_Delete(req);
	/*
	 * The principal is ours to assign: a verified token's, else
	 * "local".  A token that does not verify ends the connection.
	 */
	snprintf(p->principal, sizeof(p->principal), "local");
	if (token != NULL &&
	    auth_identify(a, p, token, token_len, why, sizeof(why)) != 0) {
		reply_error(rep, IDW_EUNLOCK, "%s", why);
		rep->close_after = true;
		return;
	}
	p->hello_done = true;
	if ((o = reply_ok(rep)) == NULL)
		return;
	if (idw_vault_initialized(a->vault)) {
		idw_vault_id_hex(a->vault, hex);
		cJSON_AddStringToObject(o, "vault_id", hex);
	} else {
		cJSON_AddNullToObject(o, "vault_id");
	}
	cJSON_AddStringToObject(o, "home", a->home);
	cJSON_AddStringToObject(o, "agent_version", IDW_VERSION);
	cJSON_AddNumberToObject(o, "wire_version", IDW_WIRE_VERSION);
	cJSON_AddBoolToObject(o, "locked", a->locked);
	cJSON_AddBoolToObject(o, "initialized",
			      idw_vault_initialized(a->vault));
	cJSON_AddStringToObject(o, "principal", p->principal);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
}

void dispatch_request(struct agent *a, struct peer *p, const char *json,
		      size_t json_len, const uint8_t *secret, size_t secret_len,
		      bool has_secret, struct reply *rep)
{
	const struct verb_row *row = NULL;
	struct verb_args in;
	uint64_t release = 0;
	char why[300];
	cJSON *req;
	const char *verb;

	req = idw_json_parse(json, json_len);
	if (req == NULL || !cJSON_IsObject(req)) {
		reply_error(rep, IDW_EINVAL,
			    "the request is not a JSON object");
		goto out;
	}
	verb = idw_json_str(req, "verb");
	if ((row = dispatch_find(verb)) == NULL) {
		reply_error(rep, IDW_EUSAGE, "unknown verb '%.40s'",
			    verb ? verb : "(none)");
		goto out;
	}
	if ((row->flags & VERB_NEEDS_VAULT) &&
	    !idw_vault_initialized(a->vault)) {
		reply_error(rep, IDW_ENOVAULT, "no vault at %s: run 'idw init'",
			    a->vault_path);
		goto out;
	}
	if ((row->flags & VERB_NEEDS_UNLOCKED) && a->locked) {
		reply_error(rep, IDW_ELOCKED,
			    "the agent is locked: run 'idw unlock'");
		goto out;
	}
	if (has_secret && !(row->flags & VERB_TAKES_SECRET)) {
		reply_error(rep, IDW_EINVAL, "%s takes no secret segment",
			    row->verb);
		goto out;
	}
	/* Last of the checks, so a refused state costs no challenge. */
	if ((row->flags & VERB_NEEDS_PROOF) &&
	    proof_check(a, p, row->verb, req, secret, secret_len, idw_boot_ms(),
			&release, why, sizeof(why)) != 0) {
		reply_error(rep, IDW_EPROOF, "%s", why);
		rep->release_ms = release;
		goto out;
	}
	in.req = req;
	in.secret = secret;
	in.secret_len = secret_len;
	in.has_secret = has_secret;
	(void)row->fn(a, p, &in, rep);
	/* A change to the vault is followed by the audit log's checkpoint. */
	anchor_after_request(a);
	if (rep->json == NULL)
		reply_error(rep, IDW_ENOMEM, "out of memory");
out:
	cJSON_Delete(req);
}
