/* SPDX-License-Identifier: ISC */
/*
 * Session tokens and the keychain login: the slots of DESIGN's "Vault
 * format" managed while the agent serves.  Creating a token or logging in
 * widens who can open the vault, so both need person proof (dispatch
 * table); revoking and logging out only narrow it.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "keychain/token.h"
#include "sandbox/arena.h"

#define TOKEN_LABEL_MAX 64
#define MAX_SLOTS 64
#define TTL_MAX (366LL * 86400)

static void audit_auth(struct agent *a, struct peer *p, const char *action,
		       const char *result, const char *reason)
{
	/* A failure marks the log broken; later releases are then denied. */
	(void)gov_audit(a, p->principal, p->claimed_actor, NULL, action, NULL,
			result, reason);
}

static bool label_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > TOKEN_LABEL_MAX ||
	    !idw_utf8_valid((const uint8_t *)s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int verb_token_create(struct agent *a, struct peer *p,
		      const struct verb_args *in, struct reply *rep)
{
	const char *label = idw_json_str(in->req, "label");
	int64_t ttl = idw_json_int(in->req, "ttl_s", 0), now = idw_now();
	bool auth_only = idw_json_bool(in->req, "auth_only", false);
	struct idw_slot_info meta;
	char *text = NULL, when[IDW_TIME_LEN], reason[160];
	struct token *t = NULL;
	cJSON *o;
	int r;

	if (!label_ok(label))
		return reply_error(rep, IDW_EUSAGE,
				   "a label of 1 to %d printable characters "
				   "is required",
				   TOKEN_LABEL_MAX);
	if (ttl <= 0 || ttl > TTL_MAX)
		return reply_error(rep, IDW_EUSAGE,
				   "a lifetime between 1 s and 366 days is "
				   "required");
	t = idw_arena_alloc(sizeof(*t));
	text = idw_arena_alloc(TOKEN_TEXT_MAX);
	if (t == NULL || text == NULL) {
		r = reply_error(rep, IDW_ENOMEM, "out of memory");
		goto out;
	}
	if ((r = token_new(idw_vault_id(a->vault), t, text)) != 0)
		goto out;
	memset(&meta, 0, sizeof(meta));
	meta.type = auth_only ? IDW_SLOT_VERIFIER : IDW_SLOT_TOKEN;
	snprintf(meta.id, sizeof(meta.id), "%s", t->id);
	snprintf(meta.label, sizeof(meta.label), "%s", label);
	snprintf(meta.principal, sizeof(meta.principal), "token:%s", t->id);
	meta.created = now;
	meta.expires = now + ttl;
	r = auth_only ? idw_vault_slot_add_verifier(a->vault, &meta, t->secret)
		      : idw_vault_slot_add_key(a->vault, &meta, t->secret);
	if (r != 0) {
		r = reply_error(rep, r,
				r == IDW_ETOOBIG
					? "the slot table is full: revoke "
					  "tokens you no longer use"
					: "writing the token slot failed: %s",
				idw_strerror(r));
		goto out;
	}
	snprintf(reason, sizeof(reason), "%s token %s '%s' created",
		 auth_only ? "auth-only" : "unlocking", t->id, label);
	audit_auth(a, p, "token creation", "ok", reason);
	if ((o = reply_ok(rep)) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	cJSON_AddStringToObject(o, "id", t->id);
	cJSON_AddStringToObject(o, "label", label);
	cJSON_AddStringToObject(o, "kind", auth_only ? "auth-only" : "unlock");
	cJSON_AddStringToObject(o, "principal", meta.principal);
	idw_time_fmt_utc(meta.expires, when);
	cJSON_AddStringToObject(o, "expires_at", when);
	/* The token text leaves once, in the secret segment. */
	rep->secret = (uint8_t *)text;
	rep->secret_len = strlen(text);
	rep->has_secret = true;
	text = NULL;
	r = 0;
out:
	idw_arena_free(t);
	idw_arena_free(text);
	return r;
}

int64_t agent_token_last_use(const struct agent *a, const char *id)
{
	for (size_t i = 0; i < sizeof(a->token_use) / sizeof(a->token_use[0]);
	     i++)
		if (strcmp(a->token_use[i].id, id) == 0)
			return a->token_use[i].at;
	return 0;
}

void agent_token_used(struct agent *a, const char *id, int64_t when)
{
	size_t n = sizeof(a->token_use) / sizeof(a->token_use[0]), old = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(a->token_use[i].id, id) == 0 ||
		    a->token_use[i].id[0] == '\0') {
			old = i;
			break;
		}
		if (a->token_use[i].at < a->token_use[old].at)
			old = i;
	}
	snprintf(a->token_use[old].id, sizeof(a->token_use[old].id), "%s", id);
	a->token_use[old].at = when;
}

int auth_identify(struct agent *a, struct peer *p, const uint8_t *token,
		  size_t len, char *why, size_t whylen)
{
	struct idw_slot_info slots[MAX_SLOTS];
	const struct idw_slot_info *s = NULL;
	char when[IDW_TIME_LEN], reason[160];
	struct token *t;
	size_t n = 0;
	int r = IDW_EUNLOCK;

	if (!idw_vault_initialized(a->vault)) {
		snprintf(why, whylen,
			 "a session token was given, but there "
			 "is no vault here");
		return IDW_EUNLOCK;
	}
	if ((t = idw_arena_alloc(sizeof(*t))) == NULL)
		return IDW_ENOMEM;
	if (token_parse((const char *)token, len, idw_vault_id(a->vault), t,
			why, whylen) != 0)
		goto out;
	if (idw_vault_slots(a->vault, slots, MAX_SLOTS, &n) != 0)
		n = 0;
	for (size_t i = 0; i < n && s == NULL; i++)
		if (strcmp(slots[i].id, t->id) == 0)
			s = &slots[i];
	if (s == NULL) {
		snprintf(why, whylen, "token %s is not known to this vault",
			 t->id);
		goto out;
	}
	if (s->type == IDW_SLOT_TOMBSTONE) {
		idw_time_fmt_utc(s->revoked_at, when);
		snprintf(why, whylen, "token '%s' (%s) was revoked at %s",
			 s->label, t->id, when);
		goto out;
	}
	if (s->expires != 0 && idw_now() >= s->expires) {
		idw_time_fmt_utc(s->expires, when);
		snprintf(why, whylen, "token '%s' (%s) expired at %s", s->label,
			 t->id, when);
		goto out;
	}
	if (idw_vault_verifier_check(a->vault, t->id, t->secret) != 0) {
		snprintf(why, whylen, "token '%s' (%s) does not verify",
			 s->label, t->id);
		goto out;
	}
	snprintf(p->principal, sizeof(p->principal), "token:%s", t->id);
	snprintf(p->claimed_actor, sizeof(p->claimed_actor), "%s", s->label);
	agent_token_used(a, t->id, idw_now());
	if (!a->locked) {
		snprintf(reason, sizeof(reason),
			 "token %s '%s' identified a "
			 "client",
			 t->id, s->label);
		audit_auth(a, p, "token use", "ok", reason);
	}
	r = 0;
out:
	idw_arena_free(t);
	return r;
}

static const char *token_kind(uint8_t type)
{
	return type == IDW_SLOT_VERIFIER ? "auth-only" : "unlock";
}

int verb_token_list(struct agent *a, struct peer *p, const struct verb_args *in,
		    struct reply *rep)
{
	struct idw_slot_info slots[MAX_SLOTS];
	size_t n = 0;
	char when[IDW_TIME_LEN];
	int64_t now = idw_now();
	cJSON *o, *arr;

	(void)p;
	(void)in;
	if (idw_vault_slots(a->vault, slots, MAX_SLOTS, &n) != 0)
		return reply_error(rep, IDW_ECORRUPT,
				   "the slot table could not be read");
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "tokens")) == NULL)
		return IDW_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct idw_slot_info *s = &slots[i];
		bool tomb = s->type == IDW_SLOT_TOMBSTONE;
		int64_t used;
		cJSON *t;

		if (s->type != IDW_SLOT_TOKEN && s->type != IDW_SLOT_VERIFIER &&
		    !(tomb && (s->revoked_type == IDW_SLOT_TOKEN ||
			       s->revoked_type == IDW_SLOT_VERIFIER)))
			continue;
		if ((t = cJSON_CreateObject()) == NULL)
			return IDW_ENOMEM;
		cJSON_AddStringToObject(t, "id", s->id);
		cJSON_AddStringToObject(t, "label", s->label);
		cJSON_AddStringToObject(
			t, "kind",
			token_kind(tomb ? s->revoked_type : s->type));
		cJSON_AddStringToObject(t, "principal", s->principal);
		if (s->created) {
			idw_time_fmt_utc(s->created, when);
			cJSON_AddStringToObject(t, "created", when);
		}
		if (s->expires) {
			idw_time_fmt_utc(s->expires, when);
			cJSON_AddStringToObject(t, "expires", when);
		}
		used = agent_token_last_use(a, s->id);
		if (used > 0) {
			idw_time_fmt_utc(used, when);
			cJSON_AddStringToObject(t, "last_use", when);
		} else {
			cJSON_AddNullToObject(t, "last_use");
		}
		if (tomb) {
			idw_time_fmt_utc(s->revoked_at, when);
			cJSON_AddStringToObject(t, "revoked_at", when);
		}
		cJSON_AddStringToObject(t, "status",
					tomb ? "revoked"
					: (s->expires && now >= s->expires)
						? "expired"
						: "active");
		cJSON_AddItemToArray(arr, t);
	}
	return 0;
}

int verb_token_revoke(struct agent *a, struct peer *p,
		      const struct verb_args *in, struct reply *rep)
{
	const char *prefix = idw_json_str(in->req, "id");
	struct idw_slot_info slots[MAX_SLOTS];
	const struct idw_slot_info *hit = NULL;
	size_t n = 0, plen, matches = 0;
	char reason[160];
	cJSON *o;
	int r;

	if (prefix == NULL || (plen = strlen(prefix)) < 4 ||
	    plen > TOKEN_ID_LEN)
		return reply_error(rep, IDW_EUSAGE,
				   "give at least 4 digits of the token id");
	if (idw_vault_slots(a->vault, slots, MAX_SLOTS, &n) != 0)
		return reply_error(rep, IDW_ECORRUPT,
				   "the slot table could not be read");
	for (size_t i = 0; i < n; i++)
		if ((slots[i].type == IDW_SLOT_TOKEN ||
		     slots[i].type == IDW_SLOT_VERIFIER) &&
		    strncmp(slots[i].id, prefix, plen) == 0) {
			hit = &slots[i];
			matches++;
		}
	if (matches == 0)
		return reply_error(rep, IDW_ENOENT,
				   "no live token starts with %.12s", prefix);
	if (matches > 1)
		return reply_error(rep, IDW_EUSAGE,
				   "%zu tokens start with %.12s: give more "
				   "digits",
				   matches, prefix);
	r = idw_vault_slot_remove(a->vault, hit->type, hit->id, idw_now(),
				  true);
	if (r != 0)
		return reply_error(rep, r, "removing the token failed: %s",
				   idw_strerror(r));
	snprintf(reason, sizeof(reason), "token %s '%s' revoked", hit->id,
		 hit->label);
	audit_auth(a, p, "token revocation", "ok", reason);
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddStringToObject(o, "id", hit->id);
	cJSON_AddStringToObject(o, "label", hit->label);
	return 0;
}

/*
 * Login, step one: a new machine key and a pending keychain slot (which
 * does not unlock yet).  The key goes to the proven CLI, which stores it
 * in the keychain and then confirms; a crash in between leaves a vault
 * that opens exactly as before.
 */
int verb_login(struct agent *a, struct peer *p, const struct verb_args *in,
	       struct reply *rep)
{
	struct idw_slot_info meta;
	uint8_t *key;
	int r;

	(void)in;
	if ((key = idw_arena_alloc(32)) == NULL)
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	randombytes_buf(key, 32);
	memset(&meta, 0, sizeof(meta));
	meta.type = IDW_SLOT_KEYCHAIN;
	snprintf(meta.id, sizeof(meta.id), "keychain");
	snprintf(meta.label, sizeof(meta.label), "OS keychain");
	meta.created = idw_now();
	meta.pending = true;
	if ((r = idw_vault_slot_add_key(a->vault, &meta, key)) != 0) {
		idw_arena_free(key);
		return reply_error(rep, r,
				   "writing the keychain slot failed: "
				   "%s",
				   idw_strerror(r));
	}
	if (reply_ok(rep) == NULL) {
		idw_arena_free(key);
		return IDW_ENOMEM;
	}
	audit_auth(a, p, "slot change", "ok", "keychain slot pending");
	p->login_pending = true;
	rep->secret = key;
	rep->secret_len = 32;
	rep->has_secret = true;
	return 0;
}

int verb_login_confirm(struct agent *a, struct peer *p,
		       const struct verb_args *in, struct reply *rep)
{
	int r;

	(void)in;
	/* Only the connection whose proven login made the slot confirms it. */
	if (!p->login_pending)
		return reply_error(rep, IDW_EUSAGE,
				   "no login in progress on this connection");
	p->login_pending = false;
	r = idw_vault_slot_confirm(a->vault, IDW_SLOT_KEYCHAIN, "keychain");
	if (r == IDW_ENOENT)
		return reply_error(rep, r,
				   "no pending login: run 'idw auth "
				   "login' again");
	if (r != 0)
		return reply_error(rep, r,
				   "confirming the keychain slot "
				   "failed: %s",
				   idw_strerror(r));
	audit_auth(a, p, "slot change", "ok", "keychain login");
	reply_ok(rep);
	return 0;
}

int verb_logout(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	cJSON *o;
	char hex[33];
	int r;

	(void)in;
	r = idw_vault_slot_remove(a->vault, IDW_SLOT_KEYCHAIN, "keychain",
				  idw_now(), false);
	if (r != 0 && r != IDW_ENOENT)
		return reply_error(rep, r,
				   "removing the keychain slot failed: "
				   "%s",
				   idw_strerror(r));
	if (r == 0)
		audit_auth(a, p, "slot change", "ok", "keychain logout");
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddBoolToObject(o, "removed", r == 0);
	idw_vault_id_hex(a->vault, hex);
	cJSON_AddStringToObject(o, "vault_id", hex);
	return 0;
}
