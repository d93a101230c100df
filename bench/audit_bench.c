/* SPDX-License-Identifier: ISC */
/*
 * The audit log's costs, linked against the agent's own code (libidwagent):
 *
 *   audit_bench append DIR N   N appends to DIR/audit.idw, without and with
 *                              fsync: microseconds per entry
 *   audit_bench gen HOME N     N more entries into the log of the vault in
 *                              HOME (IDW_PASSPHRASE opens it), then the
 *                              vault's checkpoint, as the agent writes them
 *   audit_bench verify HOME    the whole log verified in this process
 *
 * bench/audit.py runs them; every figure is one "key value" line.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/agent.h"
#include "agentd/audit_verify.h"
#include "common/idwtime.h"
#include "sandbox/arena.h"
#include "sandbox/shield.h"

static struct agent A;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "audit_bench: %s\n", what);
	exit(1);
}

static void event(int i, char *pp, char *purpose, struct audit_event *ev)
{
	snprintf(pp, 20, "pp_%016x", (unsigned)(i % 97));
	snprintf(purpose, 64, "nightly export run %d for the reporting job", i);
	*ev = (struct audit_event){
		.principal = i % 3 ? "local" : "token:3fa9c2d1e0b4",
		.claimed_actor = "claude-code",
		.action = "access",
		.passport_id = pp,
		.platform = "openai",
		.purpose = purpose,
		.result = "allowed",
	};
}

static double append_run(struct audit *a, int n, bool sync)
{
	char pp[20], purpose[64];
	struct audit_event ev;
	double t0 = now_s();

	for (int i = 0; i < n; i++) {
		event(i, pp, purpose, &ev);
		ev.sync = sync;
		if (audit_append(a, &ev) != 0)
			die("append failed");
	}
	if (audit_sync(a) != 0)
		die("sync failed");
	return (now_s() - t0) / n * 1e6;
}

static int cmd_append(const char *dir, int n)
{
	uint8_t key[AUDIT_KEY_LEN];
	char path[512], why[200];
	struct audit a;

	snprintf(path, sizeof(path), "%s/audit.idw", dir);
	unlink(path);
	randombytes_buf(key, sizeof(key));
	audit_init(&a);
	if (audit_open(&a, path) != 0 ||
	    audit_unlock(&a, key, why, sizeof(why)) != 0)
		die("cannot open the log");
	printf("append_nosync_us %.2f\n", append_run(&a, n, false));
	printf("append_fsync_us %.2f\n", append_run(&a, n, true));
	audit_close(&a);
	unlink(path);
	return 0;
}

/* The agent as main.c sets it up, without the sandbox. */
static void agent_open(const char *home)
{
	const char *pass = getenv("IDW_PASSPHRASE");
	char why[400];

	if (pass == NULL)
		die("IDW_PASSPHRASE is not set");
	snprintf(A.home, sizeof(A.home), "%s", home);
	snprintf(A.vault_path, sizeof(A.vault_path), "%s/vault.idw", home);
	snprintf(A.audit_path, sizeof(A.audit_path), "%s/audit.idw", home);
	A.proc_status_fd = -1;
	store_init(&A.store);
	audit_init(&A.audit);
	if (idw_vault_open(A.vault_path, &A.vault) != 0 ||
	    audit_open(&A.audit, A.audit_path) != 0)
		die("cannot open the vault or the log");
	if (agent_unlock(&A, (const uint8_t *)pass, strlen(pass), why,
			 sizeof(why)) != 0)
		die(why);
}

static void agent_close(void)
{
	agent_lock(&A);
	idw_vault_close(A.vault);
	audit_close(&A.audit);
}

static int cmd_gen(const char *home, int n)
{
	char pp[20], purpose[64];
	struct audit_event ev;
	double t0;

	agent_open(home);
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		event(i, pp, purpose, &ev);
		if (audit_append(&A.audit, &ev) != 0)
			die("append failed");
		/* As the agent does: a checkpoint every 1,000 entries. */
		if (A.audit.seq >= A.anchor.mark.seq + ANCHOR_EVERY &&
		    anchor_checkpoint(&A) != 0)
			die("checkpoint failed");
	}
	if (anchor_checkpoint(&A) != 0)
		die("checkpoint failed");
	printf("gen_entries %d\n", n);
	printf("gen_seconds %.2f\n", now_s() - t0);
	printf("log_entries %llu\n", (unsigned long long)A.audit.seq);
	printf("log_bytes %llu\n", (unsigned long long)A.audit.end);
	agent_close();
	return 0;
}

static int cmd_verify(const char *home)
{
	struct audit_verify v;
	struct rusage ru;
	double t0;

	agent_open(home);
	memset(&v, 0, sizeof(v));
	v.mark = &A.anchor.mark;
	t0 = now_s();
	if (audit_verify_run(&A.audit, &v) != 0)
		die("verify failed");
	printf("verify_seconds %.3f\n", now_s() - t0);
	printf("verify_entries %llu\n", (unsigned long long)v.entries);
	printf("verify_intact %d\n",
	       v.breaks == 0 && v.readable && v.mark_found);
	getrusage(RUSAGE_SELF, &ru);
	printf("max_rss_kb %ld\n", ru.ru_maxrss);
	agent_close();
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0 || idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		die("cannot set up memory");
	idw_arena_cjson_hooks();
	if (argc == 4 && strcmp(argv[1], "append") == 0)
		return cmd_append(argv[2], atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "gen") == 0)
		return cmd_gen(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "verify") == 0)
		return cmd_verify(argv[2]);
	fprintf(stderr, "usage: audit_bench append DIR N | gen HOME N | "
			"verify HOME\n");
	return 2;
}
