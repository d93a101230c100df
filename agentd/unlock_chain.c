/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/unlock_chain.h"
#include "common/idwtime.h"
#include "keychain/dotenv.h"
#include "keychain/keychain.h"
#include "keychain/token.h"
#include "keychain/unlock.h"
#include "sandbox/arena.h"

#define NOTE_MAX 600
#define MAX_SLOTS 64

enum src_result { SRC_ABSENT, SRC_UNLOCKED, SRC_FAILED };

struct chain {
	struct agent *a;
	chain_say_fn say;
	char note[NOTE_MAX];
	/* Why each absent source was skipped: said only if none unlocks. */
	char skipped[8][NOTE_MAX];
	size_t nskipped;
	struct idw_slot_info slots[MAX_SLOTS];
	size_t nslots;
};

static void noted(struct chain *c, const char *source, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void noted(struct chain *c, const char *source, const char *fmt, ...)
{
	char text[NOTE_MAX - 40];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(c->note, sizeof(c->note), "%s: %s", source, text);
}

static void skipped(struct chain *c, const char *text)
{
	if (c->nskipped < sizeof(c->skipped) / sizeof(c->skipped[0]))
		snprintf(c->skipped[c->nskipped++], NOTE_MAX, "%s", text);
}

static const struct idw_slot_info *slot_find(struct chain *c, uint8_t type,
					     const char *id)
{
	for (size_t i = 0; i < c->nslots; i++)
		if ((type == 0 || c->slots[i].type == type) &&
		    strcmp(c->slots[i].id, id) == 0)
			return &c->slots[i];
	return NULL;
}

/* A passphrase from wherever it came: wrong is a failure of that source. */
static enum src_result by_passphrase(struct chain *c, const char *source,
				     const char *where, const uint8_t *pass,
				     size_t len)
{
	char why[400];
	int r = agent_unlock(c->a, pass, len, why, sizeof(why));

	if (r == 0) {
		c->a->unlock_source = source;
		return SRC_UNLOCKED;
	}
	noted(c, source, "%s: %s", where, why);
	return SRC_FAILED;
}

static enum src_result from_pipe(struct chain *c, int fd)
{
	struct unlock_secret s;
	char why[300];
	enum src_result res;

	if (unlock_resolve(fd, &s, why, sizeof(why)) != 0) {
		noted(c, "interactive", "%s", why);
		return SRC_FAILED;
	}
	res = by_passphrase(c, "interactive", "the typed passphrase", s.pass,
			    s.len);
	unlock_secret_free(&s);
	return res;
}

static enum src_result from_token(struct chain *c)
{
	const char *text = getenv("IDW_SESSION_TOKEN");
	const struct idw_slot_info *slot;
	char why[300], when[IDW_TIME_LEN];
	struct token *t;
	enum src_result res = SRC_FAILED;
	int r;

	if (text == NULL || text[0] == '\0') {
		skipped(c, "session-token: IDW_SESSION_TOKEN is not set");
		unlock_scrub_env("IDW_SESSION_TOKEN");
		return SRC_ABSENT;
	}
	t = idw_arena_alloc(sizeof(*t));
	if (t == NULL) {
		noted(c, "session-token", "out of memory");
		goto out;
	}
	r = token_parse(text, strlen(text), idw_vault_id(c->a->vault), t, why,
			sizeof(why));
	if (r != 0) {
		noted(c, "session-token", "IDW_SESSION_TOKEN is refused: %s",
		      why);
		goto out;
	}
	slot = slot_find(c, 0, t->id);
	if (slot == NULL) {
		noted(c, "session-token",
		      "token %s is not known to this vault (revoked before a "
		      "rekey, or made for another copy of it)",
		      t->id);
		goto out;
	}
	if (slot->type == IDW_SLOT_TOMBSTONE) {
		idw_time_fmt_utc(slot->revoked_at, when);
		/* A rekey leaves the same tombstone as a revoke. */
		noted(c, "session-token",
		      "token '%s' (%s) was revoked (or dropped by 'idw vault "
		      "rekey') at %s: make a new one with 'idw auth token "
		      "create'",
		      slot->label, t->id, when);
		goto out;
	}
	if (slot->type == IDW_SLOT_VERIFIER) {
		char msg[200];

		snprintf(msg, sizeof(msg),
			 "session-token: token '%s' (%s) is auth-only: it "
			 "identifies a principal but cannot unlock",
			 slot->label, t->id);
		skipped(c, msg);
		res = SRC_ABSENT;
		goto out;
	}
	if (slot->expires != 0 && idw_now() >= slot->expires) {
		idw_time_fmt_utc(slot->expires, when);
		noted(c, "session-token", "token '%s' (%s) expired at %s",
		      slot->label, t->id, when);
		goto out;
	}
	r = agent_unlock_key(c->a, IDW_SLOT_TOKEN, t->id, t->secret, why,
			     sizeof(why));
	if (r != 0) {
		noted(c, "session-token", "token '%s' (%s): %s", slot->label,
		      t->id, why);
		goto out;
	}
	c->a->unlock_source = "session-token";
	res = SRC_UNLOCKED;
out:
	if (t != NULL)
		idw_arena_free(t);
	unlock_scrub_env("IDW_SESSION_TOKEN");
	return res;
}

static enum src_result from_keychain(struct chain *c)
{
	const struct idw_slot_info *slot;
	char hex[33], why[400];
	uint8_t *key;
	int r;

	slot = slot_find(c, IDW_SLOT_KEYCHAIN, "keychain");
	if (slot == NULL || slot->pending) {
		skipped(c, "keychain: not set up for this vault (run 'idw "
			   "auth login')");
		return SRC_ABSENT;
	}
	if (!kc_bus_present()) {
		skipped(c, "keychain: no session bus "
			   "(DBUS_SESSION_BUS_ADDRESS is unset)");
		return SRC_ABSENT;
	}
	if ((key = idw_arena_alloc(KC_KEY_LEN)) == NULL) {
		noted(c, "keychain", "out of memory");
		return SRC_FAILED;
	}
	idw_vault_id_hex(c->a->vault, hex);
	r = kc_lookup(hex, key, why, sizeof(why));
	if (r != 0) {
		/* A locked keyring or a silent service: fall through. */
		idw_arena_free(key);
		skipped(c, why);
		return SRC_ABSENT;
	}
	r = agent_unlock_key(c->a, IDW_SLOT_KEYCHAIN, "keychain", key, why,
			     sizeof(why));
	idw_arena_free(key);
	if (r != 0) {
		noted(c, "keychain",
		      "the machine key in the keychain does not open this "
		      "vault (%s); run 'idw auth login' again",
		      why);
		return SRC_FAILED;
	}
	c->a->unlock_source = "keychain";
	return SRC_UNLOCKED;
}

static enum src_result from_env(struct chain *c)
{
	const char *v = getenv("IDW_PASSPHRASE");
	enum src_result res;
	uint8_t *copy;
	size_t n;

	if (v == NULL || v[0] == '\0') {
		skipped(c, "env-var: IDW_PASSPHRASE is not set");
		unlock_scrub_env("IDW_PASSPHRASE");
		return SRC_ABSENT;
	}
	n = strlen(v);
	copy = idw_arena_alloc(n);
	if (copy == NULL) {
		noted(c, "env-var", "out of memory");
		return SRC_FAILED;
	}
	memcpy(copy, v, n);
	unlock_scrub_env("IDW_PASSPHRASE");
	res = by_passphrase(c, "env-var", "IDW_PASSPHRASE (environment)", copy,
			    n);
	idw_arena_free(copy);
	return res;
}

static enum src_result from_dotenv(struct chain *c, const char *path)
{
	char *buf = NULL, why[300], msg[NOTE_MAX];
	uint8_t *val = NULL;
	size_t len = 0, vlen = 0;
	enum src_result res;
	int r;

	r = dotenv_read_file(path, &buf, &len, why, sizeof(why));
	if (r == IDW_ENOENT) {
		snprintf(msg, sizeof(msg), "dotenv-file: %s does not exist",
			 path);
		skipped(c, msg);
		return SRC_ABSENT;
	}
	if (r != 0) {
		noted(c, "dotenv-file", "%s", why);
		return SRC_FAILED;
	}
	r = dotenv_get(buf, len, "IDW_PASSPHRASE", &val, &vlen, why,
		       sizeof(why));
	sodium_free(buf);
	if (r == IDW_ENOENT) {
		snprintf(msg, sizeof(msg),
			 "dotenv-file: %s has no "
			 "IDW_PASSPHRASE",
			 path);
		skipped(c, msg);
		return SRC_ABSENT;
	}
	if (r != 0) {
		noted(c, "dotenv-file", "%s: %s", path, why);
		return SRC_FAILED;
	}
	res = by_passphrase(c, "dotenv-file", path, val, vlen);
	sodium_free(val);
	return res;
}

enum chain_result chain_unlock(struct agent *a, int pass_fd, chain_say_fn say)
{
	char home_env[IDW_PATH_MAX + 8], cwd_env[IDW_PATH_MAX + 8];
	char cwd[IDW_PATH_MAX];
	struct chain *c;
	enum src_result r = SRC_ABSENT;
	enum chain_result out;

	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		say("error", "unlock_failed out of memory");
		return CHAIN_FAILED;
	}
	c->a = a;
	c->say = say;
	if (idw_vault_slots(a->vault, c->slots, MAX_SLOTS, &c->nslots) != 0)
		c->nslots = 0;
	if (pass_fd >= 0) {
		r = from_pipe(c, pass_fd);
		unlock_scrub_env("IDW_SESSION_TOKEN");
		unlock_scrub_env("IDW_PASSPHRASE");
	} else {
		if (r == SRC_ABSENT)
			r = from_token(c);
		if (r == SRC_ABSENT)
			r = from_keychain(c);
		if (r == SRC_ABSENT)
			r = from_env(c);
		if (r == SRC_ABSENT && getcwd(cwd, sizeof(cwd)) != NULL &&
		    strcmp(cwd, a->home) != 0 &&
		    snprintf(cwd_env, sizeof(cwd_env), "%s/.env", cwd) <
			    (int)sizeof(cwd_env))
			r = from_dotenv(c, cwd_env);
		if (r == SRC_ABSENT &&
		    snprintf(home_env, sizeof(home_env), "%s/.env", a->home) <
			    (int)sizeof(home_env))
			r = from_dotenv(c, home_env);
	}
	if (r == SRC_UNLOCKED) {
		out = CHAIN_UNLOCKED;
	} else if (r == SRC_FAILED) {
		char line[NOTE_MAX + 20];

		for (size_t i = 0; i < c->nskipped; i++)
			say("info", c->skipped[i]);
		snprintf(line, sizeof(line), "unlock_failed %s", c->note);
		say("error", line);
		out = CHAIN_FAILED;
	} else {
		for (size_t i = 0; i < c->nskipped; i++)
			say("info", c->skipped[i]);
		say("nosource", NULL);
		say("error", "unlock_failed no unlock source is present: run "
			     "'idw auth login' once, or give idw-mcp "
			     "IDW_SESSION_TOKEN (idw auth token create), or "
			     "set IDW_PASSPHRASE");
		out = CHAIN_NO_SOURCE;
	}
	sodium_memzero(c, sizeof(*c));
	free(c);
	return out;
}
