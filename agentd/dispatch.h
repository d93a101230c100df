/* SPDX-License-Identifier: ISC */
#ifndef IDW_DISPATCH_H
#define IDW_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentd/agent.h"

/* Flags of a dispatch row. */
#define VERB_NEEDS_VAULT 0x1	/* refused before 'idw init' */
#define VERB_NEEDS_UNLOCKED 0x2 /* refused while locked */
#define VERB_NEEDS_PROOF 0x4	/* person proof (see DESIGN) */
#define VERB_TAKES_SECRET 0x8	/* a secret segment is expected */

struct verb_args {
	const cJSON *req;
	const uint8_t *secret;
	size_t secret_len;
	bool has_secret;
};

typedef int (*verb_fn)(struct agent *a, struct peer *p,
		       const struct verb_args *in, struct reply *rep);

struct verb_row {
	const char *verb;
	verb_fn fn;
	unsigned flags;
};

/* The const table, for the dispatcher and the test that walks it. */
extern const struct verb_row dispatch_table[];
extern const size_t dispatch_table_len;

/* The row of verb, or NULL. */
const struct verb_row *dispatch_find(const char *verb);

/*
 * DESIGN's closed list of verbs that take no person proof, with the
 * protocol's own verbs, each with the reason.  Every row of the table
 * either has VERB_NEEDS_PROOF or is named here; the list names verbs
 * still to come as well, so that it stays closed.
 */
struct verb_exemption {
	const char *verb;
	const char *why;
};
extern const struct verb_exemption dispatch_no_proof[];
extern const size_t dispatch_no_proof_len;

/* Why verb takes no proof, or NULL when it is not exempt. */
const char *dispatch_proof_exemption(const char *verb);

/*
 * Parse and run one request.  Always fills rep->json (an error reply for
 * a malformed request, an unknown verb, a refused state, a failed person
 * proof).  A failed proof also sets rep->release_ms: the answer is held
 * until then.
 */
void dispatch_request(struct agent *a, struct peer *p, const char *json,
		      size_t json_len, const uint8_t *secret, size_t secret_len,
		      bool has_secret, struct reply *rep);

/* The hello answer. */
void dispatch_hello(struct agent *a, struct peer *p, const char *json,
		    size_t json_len, const uint8_t *token, size_t token_len,
		    struct reply *rep);

/*
 * Check a session token presented in a hello's secret segment and make
 * its principal the connection's ("token:<id>", label as actor).
 */
int auth_identify(struct agent *a, struct peer *p, const uint8_t *token,
		  size_t len, char *why, size_t whylen) IDW_WUR;

/* Verb handlers, by module. */
int verb_status(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
int verb_init(struct agent *, struct peer *, const struct verb_args *,
	      struct reply *);
int verb_unlock(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
int verb_lock(struct agent *, struct peer *, const struct verb_args *,
	      struct reply *);
int verb_stop(struct agent *, struct peer *, const struct verb_args *,
	      struct reply *);
int verb_create(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
int verb_list(struct agent *, struct peer *, const struct verb_args *,
	      struct reply *);
int verb_show(struct agent *, struct peer *, const struct verb_args *,
	      struct reply *);
int verb_get(struct agent *, struct peer *, const struct verb_args *,
	     struct reply *);
int verb_revoke(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
int verb_suspend(struct agent *, struct peer *, const struct verb_args *,
		 struct reply *);
int verb_resume(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
int verb_check_policy(struct agent *, struct peer *, const struct verb_args *,
		      struct reply *);
int verb_request_access(struct agent *, struct peer *, const struct verb_args *,
			struct reply *);
int verb_token_create(struct agent *, struct peer *, const struct verb_args *,
		      struct reply *);
int verb_token_list(struct agent *, struct peer *, const struct verb_args *,
		    struct reply *);
int verb_token_revoke(struct agent *, struct peer *, const struct verb_args *,
		      struct reply *);
int verb_login(struct agent *, struct peer *, const struct verb_args *,
	       struct reply *);
int verb_login_confirm(struct agent *, struct peer *, const struct verb_args *,
		       struct reply *);
int verb_logout(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
int verb_audit(struct agent *, struct peer *, const struct verb_args *,
	       struct reply *);
int verb_audit_verify(struct agent *, struct peer *, const struct verb_args *,
		      struct reply *);
int verb_challenge(struct agent *, struct peer *, const struct verb_args *,
		   struct reply *);
/* Governance: edits, delegation, rules, settings, grants. */
int verb_edit(struct agent *, struct peer *, const struct verb_args *,
	      struct reply *);
int verb_delegate(struct agent *, struct peer *, const struct verb_args *,
		  struct reply *);
int verb_policy_list(struct agent *, struct peer *, const struct verb_args *,
		     struct reply *);
int verb_policy_add(struct agent *, struct peer *, const struct verb_args *,
		    struct reply *);
int verb_policy_enable(struct agent *, struct peer *, const struct verb_args *,
		       struct reply *);
int verb_policy_disable(struct agent *, struct peer *, const struct verb_args *,
			struct reply *);
int verb_policy_remove(struct agent *, struct peer *, const struct verb_args *,
		       struct reply *);
int verb_config_get(struct agent *, struct peer *, const struct verb_args *,
		    struct reply *);
int verb_config_set(struct agent *, struct peer *, const struct verb_args *,
		    struct reply *);
int verb_grants(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
int verb_approve(struct agent *, struct peer *, const struct verb_args *,
		 struct reply *);
int verb_deny(struct agent *, struct peer *, const struct verb_args *,
	      struct reply *);
int verb_grants_revoke(struct agent *, struct peer *, const struct verb_args *,
		       struct reply *);
int verb_elicitation_answer(struct agent *, struct peer *,
			    const struct verb_args *, struct reply *);
/* The vault key: passwd, rekey (verbs_vault.c). */
int verb_rekey_plan(struct agent *, struct peer *, const struct verb_args *,
		    struct reply *);
int verb_rekey(struct agent *, struct peer *, const struct verb_args *,
	       struct reply *);
int verb_passwd(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
/* Use without reveal: run profiles and the person-proven read. */
int verb_get_proven(struct agent *, struct peer *, const struct verb_args *,
		    struct reply *);
int verb_profile_add(struct agent *, struct peer *, const struct verb_args *,
		     struct reply *);
int verb_profile_list(struct agent *, struct peer *, const struct verb_args *,
		      struct reply *);
int verb_profile_show(struct agent *, struct peer *, const struct verb_args *,
		      struct reply *);
int verb_profile_remove(struct agent *, struct peer *, const struct verb_args *,
			struct reply *);
/* Import and export (verbs_import.c, verbs_export.c). */
int verb_import(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
int verb_export_values(struct agent *, struct peer *, const struct verb_args *,
		       struct reply *);
/* Backup, restore and repair (verbs_backup.c). */
int verb_backup(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);
int verb_restore(struct agent *, struct peer *, const struct verb_args *,
		 struct reply *);
int verb_repair(struct agent *, struct peer *, const struct verb_args *,
		struct reply *);

#endif
