/* SPDX-License-Identifier: ISC */
#ifndef IDW_TEST_AGENTFX_H
#define IDW_TEST_AGENTFX_H

/*
 * The agent as agentd/main.c has it just before the unlock: paths under a
 * fresh temporary directory, empty state, vault and audit log opened.
 * Shared by the unit tests that drive the dispatcher directly; include
 * it after <cmocka.h>.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentd/agent.h"
#include "agentd/dispatch.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"

/* cJSON allocates from the arena, as in the agent. */
static inline int agentfx_group_setup(void **state)
{
	(void)state;
	if (idw_arena_init(0) != 0 &&
	    idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		return -1;
	idw_arena_cjson_hooks();
	return 0;
}

/* dir (at least 64 bytes) gets the directory made from tmpl. */
static inline int agentfx_open(struct agent *a, char *dir, size_t dirlen,
			       const char *tmpl)
{
	snprintf(dir, dirlen, "%s", tmpl);
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(a->home, sizeof(a->home), "%s", dir);
	snprintf(a->vault_path, sizeof(a->vault_path), "%s/vault.idw", dir);
	snprintf(a->audit_path, sizeof(a->audit_path), "%s/audit.idw", dir);
	snprintf(a->sock_path, sizeof(a->sock_path), "%s/agent.sock", dir);
	a->idle_timeout_s = 8 * 3600;
	a->started_ms = idw_boot_ms();
	store_init(&a->store);
	audit_init(&a->audit);
	a->proc_status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (idw_vault_open(a->vault_path, &a->vault) != 0 ||
	    audit_open(&a->audit, a->audit_path) != 0)
		return -1;
	return 0;
}

/* "ok" or the error code of a reply. */
static inline const char *agentfx_code(const struct reply *rep)
{
	if (cJSON_IsTrue(cJSON_GetObjectItem(rep->json, "ok")))
		return "ok";
	return idw_json_str(rep->json, "code");
}

static inline void agentfx_expect_code(const struct reply *rep,
				       const char *want)
{
	const char *m = idw_json_str(rep->json, "message");

	if (strcmp(agentfx_code(rep), want) != 0)
		fail_msg("expected '%s', got '%s': %s", want, agentfx_code(rep),
			 m ? m : "");
}

static inline void agentfx_expect_message(const struct reply *rep,
					  const char *part)
{
	const char *m = idw_json_str(rep->json, "message");

	assert_non_null(m);
	if (strstr(m, part) == NULL)
		fail_msg("message '%s' does not say '%s'", m, part);
}

/* A reply's secret and JSON go, leaving it empty for the next call. */
static inline void agentfx_reply_free(struct reply *rep)
{
	idw_arena_free(rep->secret);
	cJSON_Delete(rep->json);
	memset(rep, 0, sizeof(*rep));
}

/* Undo agentfx_open: lock, close, and remove the files and dir. */
static inline void agentfx_close(struct agent *a, const char *dir)
{
	agent_lock(a);
	idw_vault_close(a->vault);
	audit_close(&a->audit);
	if (a->proc_status_fd >= 0)
		close(a->proc_status_fd);
	unlink(a->vault_path);
	unlink(a->audit_path);
	rmdir(dir);
}

/* One request through the dispatcher, as the server hands it over. */
static inline cJSON *agentfx_call(struct agent *a, struct peer *p,
				  struct reply *rep, const char *json,
				  const void *secret, size_t slen,
				  bool has_secret)
{
	agentfx_reply_free(rep);
	dispatch_request(a, p, json, strlen(json), secret, slen, has_secret,
			 rep);
	assert_non_null(rep->json);
	return rep->json;
}

#endif
