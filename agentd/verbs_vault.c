/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

/*
 * The vault key's lifecycle (docs/protocol.md "Vault key"): rekey_plan
 * lists what a rekey drops, rekey makes a new vault key, passwd changes
 * the passphrase and the person-proof key and rekeys unless told not to.
 * The vault does the writing (agentd/vault_rekey.c); these check the
 * request, keep the store and the audit log in step and answer.
 */
#define MAX_SLOTS IDW_SLOT_MAX

static const char *slot_kind(uint8_t type)
{
	switch (type) {
	case IDW_SLOT_KEYCHAIN:
		return "keychain";
	case IDW_SLOT_TOKEN:
		return "token";
	default:
		return "unknown";
	}
}

static int slots_json(cJSON *o, const char *key, const struct idw_slot_info *s,
		      size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(o, key), *t;

	if (arr == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((t = cJSON_CreateObject()) == NULL)
			return IDW_ENOMEM;
		cJSON_AddItemToArray(arr, t);
		if (cJSON_AddStringToObject(t, "kind", slot_kind(s[i].type)) ==
			    NULL ||
		    cJSON_AddStringToObject(t, "id", s[i].id) == NULL ||
		    cJSON_AddStringToObject(t, "label", s[i].label) == NULL ||
		    cJSON_AddBoolToObject(t, "pending", s[i].pending) == NULL)
			return IDW_ENOMEM;
	}
	return 0;
}

int verb_rekey_plan(struct agent *a, struct peer *p, const struct verb_args *in,
		    struct reply *rep)
{
	struct idw_slot_info drops[MAX_SLOTS];
	size_t n = 0;
	cJSON *o;
	int r;

	(void)p;
	(void)in;
	if ((r = idw_vault_rekey_drops(a->vault, drops, MAX_SLOTS, &n)) != 0)
		return reply_error(rep, r, "reading the slot table failed: %s",
				   idw_strerror(r));
	if ((o = reply_ok(rep)) == NULL || slots_json(o, "drop", drops, n) != 0)
		return IDW_ENOMEM;
	return 0;
}

/*
 * The person confirmed the list rekey_plan gave: the request names the
 * ids it showed, and they must still be exactly the slots to drop, so no
 * slot made in between goes unseen.
 */
static int drops_match(struct agent *a, const cJSON *req, struct reply *rep)
{
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(req, "drop");
	struct idw_slot_info drops[MAX_SLOTS];
	const cJSON *it;
	size_t n = 0, given = 0;
	bool found;
	int r;

	if (!cJSON_IsArray(list))
		return reply_error(rep, IDW_EUSAGE,
				   "\"drop\" must list the ids of the slots "
				   "to drop (rekey_plan gives them)");
	if ((r = idw_vault_rekey_drops(a->vault, drops, MAX_SLOTS, &n)) != 0)
		return reply_error(rep, r, "reading the slot table failed");
	cJSON_ArrayForEach(it, list)
	{
		if (!cJSON_IsString(it))
			return reply_error(rep, IDW_EUSAGE,
					   "\"drop\" must hold strings");
		given++;
	}
	for (size_t i = 0; i < n; i++) {
		found = false;
		cJSON_ArrayForEach(it, list)
		{
			if (strcmp(it->valuestring, drops[i].id) == 0)
				found = true;
		}
		if (!found)
			break;
		if (i + 1 == n && given == n)
			return 0;
	}
	if (n == 0 && given == 0)
		return 0;
	return reply_error(rep, IDW_EINVAL,
			   "the unlocking slots changed since they were "
			   "listed: run the command again");
}

static void audit_change(struct agent *a, struct peer *p, const char *action,
			 const char *result, const char *reason)
{
	/* Releases nothing: a failure marks the log broken, which shows. */
	(void)gov_audit(a, p->principal, p->claimed_actor, NULL, action, NULL,
			result, reason);
}

/* The answer, the audit entry and the error of one key change. */
static int change_done(struct agent *a, struct peer *p, const char *verb,
		       const struct idw_vault_keychange *kc, int r,
		       const struct idw_slot_info *dropped, size_t nd,
		       struct reply *rep)
{
	char reason[160];
	cJSON *o;

	if (!kc->committed) {
		snprintf(reason, sizeof(reason), "nothing changed: %s",
			 idw_strerror(r));
		audit_change(a, p, verb, "failed", reason);
		if (r == IDW_EUNLOCK)
			return reply_error(rep, r,
					   "the passphrase given does not open "
					   "the passphrase slot; nothing "
					   "changed");
		return reply_error(rep, r, "%s failed, nothing changed: %s",
				   verb, idw_strerror(r));
	}
	snprintf(reason, sizeof(reason), "%s%s; %zu unlocking slot(s) dropped",
		 kc->newpass != NULL ? "new passphrase" : "",
		 kc->rekey ? (kc->newpass != NULL ? ", new vault key"
						  : "new vault key")
			   : "",
		 nd);
	audit_change(a, p, verb, "ok", reason);
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddBoolToObject(o, "rekeyed", kc->rekey);
	if (slots_json(o, "dropped", dropped, nd) != 0)
		return IDW_ENOMEM;
	if (r != 0)
		cJSON_AddStringToObject(o, "warning",
					"the change is in effect, but the "
					"second copy of the slot table could "
					"not be written; it is rewritten at "
					"the next change or start");
	return 0;
}

int verb_rekey(struct agent *a, struct peer *p, const struct verb_args *in,
	       struct reply *rep)
{
	struct idw_slot_info dropped[MAX_SLOTS];
	struct idw_vault_keychange kc;
	size_t nd = 0;
	int r;

	if (!in->has_secret || in->secret_len == 0)
		return reply_error(rep, IDW_EUSAGE,
				   "rekey needs the passphrase as its secret: "
				   "the agent wraps the new key with it");
	if ((r = drops_match(a, in->req, rep)) != 0)
		return r;
	memset(&kc, 0, sizeof(kc));
	kc.rekey = true;
	kc.pass = in->secret;
	kc.passlen = in->secret_len;
	kc.now = gov_now(a);
	r = idw_vault_key_change(a->vault, &kc, dropped, MAX_SLOTS, &nd);
	return change_done(a, p, "rekey", &kc, r, dropped, nd, rep);
}

/*
 * The new person-proof key comes from the CLI, derived from the new
 * passphrase (the agent never runs the proof KDF); it costs at least what
 * the passphrase slot costs, so a proof is no cheaper to guess.
 */
static int new_proof_key(struct agent *a, const cJSON *req, struct proof_key *k,
			 struct reply *rep)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(req, "proof_key");
	uint64_t ops = 0, mem = 0;
	char why[160];
	int r;

	if (o == NULL)
		return reply_error(rep, IDW_EUSAGE,
				   "passwd needs \"proof_key\": the person-"
				   "proof key of the new passphrase");
	if (proof_key_from_json(o, k, why, sizeof(why)) != 0)
		return reply_error(rep, IDW_EUSAGE, "%s", why);
	if ((r = idw_vault_pass_cost(a->vault, &ops, &mem)) != 0)
		return reply_error(rep, r,
				   "reading the passphrase slot failed");
	if (k->opslimit < ops || k->memlimit < mem)
		return reply_error(rep, IDW_EUSAGE,
				   "proof_key must cost at least what the "
				   "passphrase slot costs (%llu passes, %llu "
				   "bytes)",
				   (unsigned long long)ops,
				   (unsigned long long)mem);
	return 0;
}

int verb_passwd(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	struct idw_slot_info dropped[MAX_SLOTS];
	struct idw_vault_keychange kc;
	struct idw_vault_rec rec;
	struct proof_key pk;
	cJSON *meta = NULL;
	char *json = NULL;
	size_t nd = 0;
	int r;

	if (!in->has_secret || in->secret_len < 8)
		return reply_error(rep, IDW_EUSAGE,
				   "the new passphrase must be at least 8 "
				   "bytes");
	if ((r = new_proof_key(a, in->req, &pk, rep)) != 0)
		return r;
	memset(&kc, 0, sizeof(kc));
	kc.rekey = idw_json_bool(in->req, "rekey", true);
	if (kc.rekey && (r = drops_match(a, in->req, rep)) != 0)
		return r;
	if ((meta = proof_key_to_json(&pk)) == NULL ||
	    (json = idw_json_print(meta)) == NULL) {
		cJSON_Delete(meta);
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	}
	/* The proof key is written with the slot and committed with it. */
	memset(&rec, 0, sizeof(rec));
	rec.op = IDW_VAULT_PUT;
	rec.kind = "config";
	rec.id = PROOF_CONFIG_ID;
	rec.json = json;
	rec.json_len = strlen(json);
	kc.newpass = in->secret;
	kc.newlen = in->secret_len;
	kc.now = gov_now(a);
	kc.recs = &rec;
	kc.nrecs = 1;
	r = idw_vault_key_change(a->vault, &kc, dropped, MAX_SLOTS, &nd);
	if (kc.committed && store_apply_cb(&a->store, &rec) != 0) {
		/* On disk but not in memory: lock rather than go on
		 * accepting the old passphrase's proofs; an unlock reads it
		 * back. */
		agent_lock(a);
	}
	cJSON_free(json);
	cJSON_Delete(meta);
	return change_done(a, p, "passwd", &kc, r, dropped, nd, rep);
}
