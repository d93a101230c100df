/* SPDX-License-Identifier: ISC */
#ifndef IDW_AGENT_H
#define IDW_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "agentd/anchor.h"
#include "agentd/audit.h"
#include "agentd/proof.h"
#include "agentd/store.h"
#include "agentd/vault.h"
#include "common/paths.h"

/* The agent's whole state: one per process, single-threaded. */
struct agent {
	char home[IDW_PATH_MAX];
	char vault_path[IDW_PATH_MAX];
	char audit_path[IDW_PATH_MAX];
	char sock_path[IDW_PATH_MAX];
	struct idw_vault *vault;
	struct store store;
	struct audit audit;
	struct anchor_state anchor; /* the log's checkpoints in the vault */
	bool locked;
	const char *unlock_source; /* "env-var", "interactive", "init", ... */
	int64_t idle_timeout_s;
	uint64_t started_ms;
	uint64_t last_client_ms; /* boot ms when the last client left */
	unsigned nclients;
	bool stopping;
	bool memory_locked;
	bool landlock;
	int proc_status_fd; /* /proc/self/status, opened before the filter */
	int dumpable;	    /* PR_GET_DUMPABLE, read just before the filter */
	char landlock_why[200];
	struct proof_gate proof; /* failed person proofs, agent-wide */
	/* The highest wall time seen: a clock set back is refused (gov.c). */
	int64_t clock_high;
	bool clock_back_audited; /* the episode is in the audit log */
	/* Last use of each token, kept in memory (and the audit log only). */
	struct {
		char id[16];
		int64_t at;
	} token_use[64];
};

/* What a handler answers: a JSON object and, maybe, a secret segment. */
struct reply {
	cJSON *json;
	uint8_t *secret; /* arena scratch, wiped and freed after sending */
	size_t secret_len;
	bool has_secret;
	bool close_after;    /* close the connection once sent */
	uint64_t release_ms; /* boot ms before which it must not leave */
};

/* Who is asking: assigned by the agent, never taken from the client. */
struct peer {
	char principal[80];
	char claimed_actor[160];
	bool hello_done;
	bool login_pending; /* this connection began a keychain login */
	struct proof_challenge challenge; /* the one outstanding */
};

/* Fill rep->json with {"ok":false,"code":…,"message":…}; returns err. */
int reply_error(struct reply *rep, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* rep->json = {"ok":true}; returns the object to add fields to. */
cJSON *reply_ok(struct reply *rep);

/* A numeric field of /proc/self/status ("VmLck:"), -1 if unreadable. */
long agent_proc_field(struct agent *a, const char *field);

/* Lock: wipe VK, every value and all metadata; keep serving. */
void agent_lock(struct agent *a);
/* Unlock with a passphrase: unwrap VK, replay the journal. */
/* Unlock with a token's or the keychain's 32-byte key. */
int agent_unlock_key(struct agent *a, uint8_t type, const char *slot_id,
		     const uint8_t key[32], char *why, size_t whylen) IDW_WUR;
/* When a token last identified a connection (0: not since start). */
int64_t agent_token_last_use(const struct agent *a, const char *id);
void agent_token_used(struct agent *a, const char *id, int64_t when);
int agent_unlock(struct agent *a, const uint8_t *pass, size_t len, char *why,
		 size_t whylen) IDW_WUR;

#endif
