/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

#define CONFIG_AUDIT_KEY "audit_key"

static void audit_agent_event(struct agent *a, struct peer *p,
			      const char *action, const char *result,
			      const char *reason)
{
	struct audit_event ev = {
		.principal = p ? p->principal : "agent",
		.claimed_actor = p ? p->claimed_actor : NULL,
		.action = action,
		.result = result,
		.reason = reason,
	};

	/*
	 * Lifecycle events release nothing: a failure marks the log broken,
	 * which denies every later release and shows in status.
	 */
	if (audit_append(&a->audit, &ev) != 0)
		return;
}

void agent_lock(struct agent *a)
{
	store_clear(&a->store);
	audit_lock(&a->audit);
	if (a->vault != NULL)
		idw_vault_lock(a->vault);
	idw_shield_wipe_key();
	a->locked = true;
}

/* Make the audit key at init; it then lives in the vault for good. */
static int audit_key_create(struct agent *a)
{
	uint8_t *key = idw_arena_alloc(AUDIT_KEY_LEN);
	cJSON *meta = cJSON_CreateObject();
	int r;

	if (key == NULL || meta == NULL) {
		idw_arena_free(key);
		cJSON_Delete(meta);
		return IDW_ENOMEM;
	}
	randombytes_buf(key, AUDIT_KEY_LEN);
	cJSON_AddStringToObject(meta, "purpose", "audit log key");
	r = store_put(&a->store, a->vault, "config", CONFIG_AUDIT_KEY, meta,
		      key, AUDIT_KEY_LEN);
	idw_arena_free(key);
	return r;
}

static int audit_key_load(struct agent *a, char *why, size_t whylen)
{
	struct store_item *it =
		store_find(&a->store, "config", CONFIG_AUDIT_KEY);
	uint8_t *key;
	size_t len;
	int r;

	if (it == NULL) {
		snprintf(why, whylen, "the vault holds no audit key");
		return IDW_ECORRUPT;
	}
	if ((r = store_open_value(it, &key, &len)) != 0)
		return r;
	if (len != AUDIT_KEY_LEN) {
		idw_arena_free(key);
		snprintf(why, whylen, "the vault's audit key is malformed");
		return IDW_ECORRUPT;
	}
	r = anchor_unlock(a, key, why, whylen);
	idw_arena_free(key);
	return r;
}

/*
 * What every unlock shares once the vault said yes or no: the audit key,
 * the unlocked state, and an audited torn-tail cut.  On any failure all
 * is wiped again.
 */
static int unlock_finish(struct agent *a, int r,
			 const struct idw_vault_report *rep, const char *wrong,
			 char *why, size_t whylen)
{
	char detail[300];

	if (r != 0) {
		if (r == IDW_EUNLOCK)
			snprintf(why, whylen, "%s", wrong);
		else
			snprintf(why, whylen, "%s: %s%s", a->vault_path,
				 rep->detail[0] ? rep->detail : idw_strerror(r),
				 r == IDW_ECORRUPT && rep->detail[0]
					 ? "; 'idw vault repair' shows what is "
					   "damaged and can keep what comes "
					   "before it"
					 : "");
		agent_lock(a);
		return r;
	}
	if ((r = audit_key_load(a, why, whylen)) != 0) {
		agent_lock(a);
		return r;
	}
	a->locked = false;
	if (rep->truncated_tail) {
		snprintf(detail, sizeof(detail),
			 "a torn final record of %llu bytes was cut off",
			 (unsigned long long)rep->truncated_bytes);
		audit_agent_event(a, NULL, "torn-tail truncation", "ok",
				  detail);
	}
	if (rep->rolled_back) {
		snprintf(detail, sizeof(detail),
			 "an interrupted passphrase change or rekey was rolled "
			 "back: %llu bytes cut",
			 (unsigned long long)rep->rolled_back_bytes);
		audit_agent_event(a, NULL, "key change rolled back", "ok",
				  detail);
	}
	return 0;
}

int agent_unlock(struct agent *a, const uint8_t *pass, size_t len, char *why,
		 size_t whylen)
{
	struct idw_vault_report rep;
	char wrong[IDW_PATH_MAX + 32];
	int r;

	why[0] = '\0';
	agent_lock(a);
	memset(&rep, 0, sizeof(rep));
	if ((r = idw_shield_init()) != 0)
		return r;
	r = idw_vault_unlock(a->vault, pass, len, store_apply_cb, &a->store,
			     &rep);
	snprintf(wrong, sizeof(wrong), "wrong passphrase for %s",
		 a->vault_path);
	return unlock_finish(a, r, &rep, wrong, why, whylen);
}

int agent_unlock_key(struct agent *a, uint8_t type, const char *slot_id,
		     const uint8_t key[32], char *why, size_t whylen)
{
	struct idw_vault_report rep;
	int r;

	why[0] = '\0';
	agent_lock(a);
	memset(&rep, 0, sizeof(rep));
	if ((r = idw_shield_init()) != 0)
		return r;
	r = idw_vault_unlock_key(a->vault, type, slot_id, key, store_apply_cb,
				 &a->store, &rep);
	if (r == IDW_ENOENT)
		r = IDW_EUNLOCK;
	return unlock_finish(a, r, &rep, "its key does not open this vault",
			     why, whylen);
}

long agent_proc_field(struct agent *a, const char *field)
{
	char buf[4096], key[40];
	const char *p;
	ssize_t n;

	if (a->proc_status_fd < 0)
		return -1;
	/* A proc file is generated afresh by a read at offset 0. */
	n = pread(a->proc_status_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	snprintf(key, sizeof(key), "\n%s", field);
	p = strstr(buf, key);
	return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

int verb_status(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	struct idw_arena_stats st;
	uint64_t now = idw_boot_ms();
	cJSON *o = reply_ok(rep);
	char hex[33];
	int64_t left;

	(void)p;
	(void)in;
	if (o == NULL)
		return IDW_ENOMEM;
	idw_arena_stats(&st);
	cJSON_AddBoolToObject(o, "locked", a->locked);
	cJSON_AddBoolToObject(o, "initialized",
			      idw_vault_initialized(a->vault));
	if (a->unlock_source != NULL && !a->locked)
		cJSON_AddStringToObject(o, "unlock_source", a->unlock_source);
	else
		cJSON_AddNullToObject(o, "unlock_source");
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	cJSON_AddNumberToObject(o, "clients", a->nclients);
	cJSON_AddNumberToObject(o, "idle_timeout_s", (double)a->idle_timeout_s);
	/* The asking client is connected, so the idle clock is not running. */
	left = a->locked ? -1 : a->idle_timeout_s;
	cJSON_AddNumberToObject(o, "idle_left_s", (double)left);
	cJSON_AddNumberToObject(o, "uptime_s",
				(double)((now - a->started_ms) / 1000));
	cJSON_AddNumberToObject(o, "passports",
				(double)store_count(&a->store, "passport"));
	cJSON_AddStringToObject(o, "home", a->home);
	cJSON_AddStringToObject(o, "vault_path", a->vault_path);
	cJSON_AddStringToObject(o, "socket", a->sock_path);
	if (idw_vault_initialized(a->vault)) {
		idw_vault_id_hex(a->vault, hex);
		cJSON_AddStringToObject(o, "vault_id", hex);
	} else {
		cJSON_AddNullToObject(o, "vault_id");
	}
	cJSON_AddStringToObject(o, "agent_version", IDW_VERSION);
	cJSON_AddBoolToObject(o, "memory_locked", st.locked);
	cJSON_AddNumberToObject(o, "locked_bytes", (double)st.mapped);
	anchor_status(a, o); /* retries held writes: say how it is now */
	cJSON_AddBoolToObject(o, "audit_ok", !a->audit.broken);
	/* What is true of this process, as the kernel reports it. */
	cJSON_AddNumberToObject(o, "seccomp", agent_proc_field(a, "Seccomp:"));
	cJSON_AddNumberToObject(o, "no_new_privs",
				agent_proc_field(a, "NoNewPrivs:"));
	cJSON_AddNumberToObject(o, "vmlck_kb", agent_proc_field(a, "VmLck:"));
	cJSON_AddNumberToObject(o, "dumpable", a->dumpable);
	cJSON_AddBoolToObject(o, "landlock", a->landlock);
	cJSON_AddStringToObject(o, "landlock_detail", a->landlock_why);
	if (a->audit.broken)
		cJSON_AddStringToObject(o, "audit_error", a->audit.broken_why);
	return 0;
}

static int kdf_level(const char *s, enum idw_kdf_level *k)
{
	if (s == NULL || strcmp(s, "moderate") == 0)
		*k = IDW_KDF_MODERATE;
	else if (strcmp(s, "interactive") == 0)
		*k = IDW_KDF_INTERACTIVE;
	else if (strcmp(s, "sensitive") == 0)
		*k = IDW_KDF_SENSITIVE;
	else
		return IDW_EUSAGE;
	return 0;
}

/*
 * The person-proof key a new vault is to keep, when the request brings
 * one (docs/protocol.md "Person proof").  Its cost is the passphrase
 * slot's or more, so the proof is no cheaper to guess than the slot.
 */
static int init_proof_key(const cJSON *req, enum idw_kdf_level kdf,
			  struct proof_key *k, bool *have, char *why,
			  size_t whylen)
{
	static const struct {
		unsigned long long ops;
		size_t mem;
	} slot_cost[] = {
		[IDW_KDF_INTERACTIVE] = {crypto_pwhash_OPSLIMIT_INTERACTIVE,
					 crypto_pwhash_MEMLIMIT_INTERACTIVE},
		[IDW_KDF_MODERATE] = {crypto_pwhash_OPSLIMIT_MODERATE,
				      crypto_pwhash_MEMLIMIT_MODERATE},
		[IDW_KDF_SENSITIVE] = {crypto_pwhash_OPSLIMIT_SENSITIVE,
				       crypto_pwhash_MEMLIMIT_SENSITIVE},
	};
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(req, "proof_key");
	int r;

	*have = o != NULL;
	if (o == NULL)
		return 0;
	if ((r = proof_key_from_json(o, k, why, whylen)) != 0)
		return r;
	if ((unsigned)kdf < sizeof(slot_cost) / sizeof(slot_cost[0]) &&
	    (k->opslimit < slot_cost[kdf].ops ||
	     k->memlimit < slot_cost[kdf].mem)) {
		snprintf(why, whylen,
			 "proof_key's opslimit and memlimit must be at least "
			 "those of the chosen kdf");
		return IDW_EINVAL;
	}
	return 0;
}

static int init_reveal_default(struct agent *a, struct peer *p,
			       const char *value)
{
	char tnow[IDW_TIME_LEN];
	cJSON *m = cJSON_CreateObject();

	if (m == NULL)
		return IDW_ENOMEM;
	idw_time_fmt_utc(gov_now(a), tnow);
	if (cJSON_AddStringToObject(m, "key", GOV_REVEAL_DEFAULT) == NULL ||
	    cJSON_AddStringToObject(m, "value", value) == NULL ||
	    cJSON_AddStringToObject(m, "set_at", tnow) == NULL ||
	    cJSON_AddStringToObject(m, "set_by", p->principal) == NULL) {
		cJSON_Delete(m);
		return IDW_ENOMEM;
	}
	return store_put(&a->store, a->vault, "config", GOV_REVEAL_DEFAULT, m,
			 NULL, 0);
}

int verb_init(struct agent *a, struct peer *p, const struct verb_args *in,
	      struct reply *rep)
{
	const char *reveal;
	char rdflt[16];
	enum idw_kdf_level kdf;
	struct proof_key pk;
	bool have_pk;
	char hex[33], why[300];
	cJSON *o;
	int r;

	if (idw_vault_initialized(a->vault))
		return reply_error(rep, IDW_EEXIST,
				   "a vault already exists at %s",
				   a->vault_path);
	if (kdf_level(idw_json_str(in->req, "kdf"), &kdf) != 0)
		return reply_error(rep, IDW_EUSAGE,
				   "kdf must be interactive, moderate or "
				   "sensitive");
	if (!in->has_secret || in->secret_len < 8)
		return reply_error(rep, IDW_EUSAGE,
				   "the passphrase must be at least 8 bytes");
	if (init_proof_key(in->req, kdf, &pk, &have_pk, why, sizeof(why)) != 0)
		return reply_error(rep, IDW_EUSAGE, "%s", why);
	reveal = idw_json_str(in->req, "reveal_default");
	if (reveal != NULL &&
	    gov_setting_check(GOV_REVEAL_DEFAULT, reveal, rdflt, sizeof(rdflt),
			      why, sizeof(why)) != 0)
		return reply_error(rep, IDW_EUSAGE, "reveal_default: %s", why);
	if ((r = idw_shield_init()) != 0)
		return reply_error(rep, r, "cannot set up memory");
	if ((r = idw_vault_init(a->vault, in->secret, in->secret_len, kdf)) !=
	    0)
		return reply_error(rep, r, "creating %s failed: %s",
				   a->vault_path, idw_strerror(r));
	if (have_pk && (r = proof_key_store(a, &pk)) != 0) {
		agent_lock(a);
		return reply_error(rep, r,
				   "storing the person-proof key failed");
	}
	if ((r = audit_key_create(a)) != 0 ||
	    (r = audit_key_load(a, why, sizeof(why))) != 0) {
		agent_lock(a);
		return reply_error(rep, r, "setting up the audit log failed");
	}
	/* DESIGN's default rules, as records a person may change. */
	if ((r = gov_install_defaults(a)) != 0) {
		agent_lock(a);
		return reply_error(rep, r,
				   "installing the default rules failed");
	}
	/* The vault's reveal default, as 'idw config set' would keep it. */
	if (reveal != NULL && (r = init_reveal_default(a, p, rdflt)) != 0) {
		agent_lock(a);
		return reply_error(rep, r, "storing reveal.default failed");
	}
	a->locked = false;
	a->unlock_source = "init";
	audit_agent_event(a, p, "init", "ok", "vault created");
	if ((o = reply_ok(rep)) == NULL)
		return IDW_ENOMEM;
	idw_vault_id_hex(a->vault, hex);
	cJSON_AddStringToObject(o, "vault_id", hex);
	cJSON_AddStringToObject(o, "vault_path", a->vault_path);
	return 0;
}

int verb_unlock(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	char why[400];
	int r;

	if (!a->locked) {
		reply_ok(rep);
		return 0;
	}
	if (!in->has_secret || in->secret_len == 0)
		return reply_error(rep, IDW_EUSAGE,
				   "unlock needs the passphrase");
	r = agent_unlock(a, in->secret, in->secret_len, why, sizeof(why));
	if (r != 0) {
		/* Held in memory, written once the vault is unlocked. */
		audit_agent_event(a, p, "failed unlock", "failed", why);
		return reply_error(rep, r == IDW_EUNLOCK ? IDW_EUNLOCK : r,
				   "%s", why);
	}
	a->unlock_source = "interactive";
	audit_agent_event(a, p, "unlock", "ok", "interactive");
	reply_ok(rep);
	return 0;
}

int verb_lock(struct agent *a, struct peer *p, const struct verb_args *in,
	      struct reply *rep)
{
	(void)in;
	if (!a->locked) {
		audit_agent_event(a, p, "lock", "ok", NULL);
		/* The vault vouches for the log as the lock leaves it. */
		(void)anchor_checkpoint(a);
	}
	agent_lock(a);
	reply_ok(rep);
	return 0;
}

int verb_stop(struct agent *a, struct peer *p, const struct verb_args *in,
	      struct reply *rep)
{
	(void)p;
	(void)in;
	a->stopping = true;
	reply_ok(rep);
	return 0;
}
