/* SPDX-License-Identifier: ISC */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "common/paths.h"

/* How long "agent stop" waits for the agent to be gone. */
#define CLI_STOP_WAIT_MS 10000

static const char *const kdfs[] = {"interactive", "moderate", "sensitive",
				   NULL};

static bool is_kdf(const char *s)
{
	for (size_t i = 0; kdfs[i] != NULL; i++)
		if (strcmp(s, kdfs[i]) == 0)
			return true;
	return false;
}

static bool vault_exists(void)
{
	char path[IDW_PATH_MAX];
	struct stat st;

	if (cli_home()[0] == '\0' ||
	    idw_path_join(path, sizeof(path), cli_home(), "vault.idw") != 0)
		return false;
	/* An empty file holds no vault (a start that found none may leave one).
	 */
	return lstat(path, &st) == 0 &&
	       (!S_ISREG(st.st_mode) || st.st_size > 0);
}

int cli_init(const struct cli_args *a)
{
	const char *kdf = cli_arg_value(a, "kdf");
	const char *reveal = cli_arg_value(a, "reveal-default");
	struct idwc_reply rep = {0};
	struct idw_buf pass;
	struct idwc *c = NULL;
	char why[256], *vid;
	cJSON *req = NULL, *pk = NULL;
	int rc;

	if (kdf == NULL)
		kdf = "moderate";
	if (!is_kdf(kdf)) {
		cli_warn("--kdf must be one of: interactive, moderate, "
			 "sensitive");
		return CLI_EXIT_USAGE;
	}
	if (reveal != NULL && strcmp(reveal, "model") != 0 &&
	    strcmp(reveal, "never") != 0) {
		cli_warn("--reveal-default must be model or never");
		return CLI_EXIT_USAGE;
	}
	/* Ask nothing when the answer is already no. */
	if (vault_exists()) {
		cli_warnf("a vault already exists in %s", cli_home());
		return CLI_EXIT_ERR;
	}
	idw_buf_init(&pass, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	rc = cli_passphrase(cli_arg_set(a, "passphrase-stdin"), true,
			    "New passphrase: ", &pass, why, sizeof(why));
	if (rc != 0) {
		cli_warn(why);
		rc = CLI_EXIT_ERR;
		goto out;
	}
	rc = cli_connect(CLI_CONN_AUTOSTART | CLI_CONN_NO_VAULT, NULL, &c);
	if (rc != 0) {
		rc = idw_err_exit(rc);
		goto out;
	}
	if (idwc_hello_info(c)->initialized) {
		cli_warnf("a vault already exists in %s", cli_home());
		rc = CLI_EXIT_ERR;
		goto out;
	}
	/* The same bytes make the key that will prove a person is present. */
	req = cli_request("init");
	if (req == NULL || cJSON_AddStringToObject(req, "kdf", kdf) == NULL ||
	    (reveal != NULL &&
	     cJSON_AddStringToObject(req, "reveal_default", reveal) == NULL) ||
	    (pk = cli_proof_key(pass.d, pass.len, kdf)) == NULL ||
	    !cJSON_AddItemToObject(req, "proof_key", pk)) {
		cJSON_Delete(pk);
		cli_warn(idw_strerror(IDW_ENOMEM));
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if ((rc = cli_call(c, req, &pass, &rep)) != 0)
		goto out;
	vid = cli_display(idw_json_str(rep.json, "vault_id"));
	printf("vault created: %s\n", vid && vid[0] ? vid : "?");
	free(vid);
out:
	cli_reply_free(&rep);
	cJSON_Delete(req);
	if (c != NULL)
		idwc_close(c);
	idw_buf_free(&pass);
	return rc;
}

int cli_lock(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	struct idwc *c = NULL;
	cJSON *req;
	int rc;

	(void)a;
	rc = cli_connect(CLI_CONN_ABSENT_OK | CLI_CONN_NO_VAULT, NULL, &c);
	if (rc == IDW_ENOAGENT) {
		fprintf(stderr, "no agent running: nothing to lock\n");
		return CLI_EXIT_OK;
	}
	if (rc != 0)
		return idw_err_exit(rc);
	req = cli_request("lock");
	if (req == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		rc = CLI_EXIT_ERR;
	} else if ((rc = cli_call(c, req, NULL, &rep)) == 0) {
		printf("locked\n");
	}
	cli_reply_free(&rep);
	cJSON_Delete(req);
	idwc_close(c);
	return rc;
}

/* No agent runs: start one, unlocked by the chain or by our passphrase. */
static int unlock_by_start(const struct cli_args *a)
{
	const char *env = getenv("IDW_PASSPHRASE");
	struct idw_buf pass;
	struct idwc *c = NULL;
	bool have = false;
	char why[256];
	int rc;

	idw_buf_init(&pass, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	if ((env == NULL || env[0] == '\0') &&
	    cli_arg_set(a, "passphrase-stdin")) {
		rc = cli_passphrase(true, false, NULL, &pass, why, sizeof(why));
		if (rc != 0) {
			cli_warn(why);
			rc = CLI_EXIT_ERR;
			goto out;
		}
		have = true;
	}
	rc = cli_connect(CLI_CONN_AUTOSTART, have ? &pass : NULL, &c);
	if (rc != 0) {
		rc = idw_err_exit(rc);
		goto out;
	}
	if (idwc_hello_info(c)->locked) {
		cli_warn("the agent started but is locked");
		rc = idw_err_exit(IDW_EUNLOCK);
		goto out;
	}
	printf("unlocked\n");
out:
	if (c != NULL)
		idwc_close(c);
	idw_buf_free(&pass);
	return rc;
}

int cli_unlock(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	struct idw_buf pass;
	struct idwc *c = NULL;
	char why[256], prompt[IDW_PATH_MAX + 32];
	cJSON *req = NULL;
	int rc;

	rc = cli_connect(CLI_CONN_ABSENT_OK, NULL, &c);
	if (rc == IDW_ENOAGENT)
		return unlock_by_start(a);
	if (rc != 0)
		return idw_err_exit(rc);
	idw_buf_init(&pass, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	if (!idwc_hello_info(c)->locked) {
		printf("already unlocked\n");
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Passphrase for %s: ", cli_home());
	rc = cli_passphrase(cli_arg_set(a, "passphrase-stdin"), false, prompt,
			    &pass, why, sizeof(why));
	if (rc != 0) {
		cli_warn(why);
		rc = idw_err_exit(IDW_EUNLOCK);
		goto out;
	}
	if ((req = cli_request("unlock")) == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if ((rc = cli_call(c, req, &pass, &rep)) == 0)
		printf("unlocked\n");
out:
	cli_reply_free(&rep);
	cJSON_Delete(req);
	idwc_close(c);
	idw_buf_free(&pass);
	return rc;
}

int cli_agent_start(const struct cli_args *a)
{
	const struct idwc_hello *h;
	struct idwc *c = NULL;
	int rc;

	(void)a;
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	h = idwc_hello_info(c);
	printf("agent running (pid %ld%s)\n", h->pid,
	       h->locked ? ", locked" : "");
	idwc_close(c);
	return CLI_EXIT_OK;
}

/* Gone, or a zombie nobody has reaped yet: either way it serves no more. */
static bool process_gone(long pid)
{
	char path[64], buf[256], *paren;
	FILE *f;
	bool gone = false;

	if (kill((pid_t)pid, 0) != 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (paren = strrchr(buf, ')')) != NULL && paren[1] == ' ')
		gone = paren[2] == 'Z' || paren[2] == 'X';
	fclose(f);
	return gone;
}

static int wait_gone(long pid)
{
	const struct timespec step = {0, 20 * 1000 * 1000};
	uint64_t end = idw_boot_ms() + CLI_STOP_WAIT_MS;

	if (pid <= 0)
		return 0;
	while (!process_gone(pid)) {
		if (idw_boot_ms() >= end)
			return IDW_ERR;
		nanosleep(&step, NULL);
	}
	return 0;
}

/* Stop the agent of this home; *stopped tells whether one was running. */
static int stop_agent(bool *stopped)
{
	struct idwc_reply rep = {0};
	struct idwc *c = NULL;
	cJSON *req;
	long pid;
	int rc;

	*stopped = false;
	rc = cli_connect(CLI_CONN_ABSENT_OK | CLI_CONN_NO_VAULT, NULL, &c);
	if (rc == IDW_ENOAGENT)
		return CLI_EXIT_OK;
	if (rc != 0)
		return idw_err_exit(rc);
	pid = idwc_hello_info(c)->pid;
	if ((req = cli_request("stop")) == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		rc = CLI_EXIT_ERR;
	} else {
		rc = cli_call(c, req, NULL, &rep);
	}
	cli_reply_free(&rep);
	cJSON_Delete(req);
	idwc_close(c);
	if (rc != 0)
		return rc;
	if (wait_gone(pid) != 0) {
		cli_warnf("the agent (pid %ld) has not exited", pid);
		return CLI_EXIT_ERR;
	}
	*stopped = true;
	return CLI_EXIT_OK;
}

int cli_agent_stop(const struct cli_args *a)
{
	bool stopped;
	int rc;

	(void)a;
	if ((rc = stop_agent(&stopped)) == 0 && stopped)
		printf("agent stopped\n");
	return rc;
}

int cli_agent_restart(const struct cli_args *a)
{
	bool stopped;
	int rc;

	if ((rc = stop_agent(&stopped)) != 0)
		return rc;
	return cli_agent_start(a);
}

static int status_absent(bool json)
{
	cJSON *o = cJSON_CreateObject();

	if (!json) {
		printf("no agent running for %s\n", cli_home());
	} else if (o == NULL || cJSON_AddFalseToObject(o, "running") == NULL ||
		   cJSON_AddStringToObject(o, "home", cli_home()) == NULL ||
		   cli_print_json(o) != 0) {
		cli_warn(idw_strerror(IDW_ENOMEM));
	}
	cJSON_Delete(o);
	return CLI_EXIT_ERR;
}

int cli_agent_status(const struct cli_args *a)
{
	bool json = cli_arg_set(a, "json");
	struct idwc_reply rep = {0};
	struct idwc *c = NULL;
	cJSON *req;
	int rc;

	rc = cli_connect(CLI_CONN_ABSENT_OK | CLI_CONN_NO_VAULT, NULL, &c);
	if (rc == IDW_ENOAGENT)
		return status_absent(json);
	if (rc != 0)
		return idw_err_exit(rc);
	if ((req = cli_request("status")) == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if ((rc = cli_call(c, req, NULL, &rep)) != 0)
		goto out;
	cJSON_DeleteItemFromObjectCaseSensitive(rep.json, "ok");
	if (json) {
		cJSON_DeleteItemFromObjectCaseSensitive(rep.json, "running");
		if (!cJSON_AddTrueToObject(rep.json, "running"))
			rc = IDW_ENOMEM;
		else
			rc = cli_print_json(rep.json);
	} else {
		printf("%-15s running\n", "agent");
		rc = cli_print_status(rep.json);
	}
	if (rc != 0) {
		cli_warn(idw_strerror(rc));
		rc = CLI_EXIT_ERR;
	}
out:
	cli_reply_free(&rep);
	cJSON_Delete(req);
	idwc_close(c);
	return rc;
}
