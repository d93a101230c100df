/* SPDX-License-Identifier: ISC */
/*
 * idw vault repair (docs/vault-format.md "Repair").  The CLI never holds
 * VK: it runs idw-agentd --repair, which unlocks with the passphrase typed
 * here (its person proof), says what is damaged and, once the person
 * agrees, keeps the file aside and cuts it to its valid prefix.  Then the
 * agent of the repaired vault re-anchors the audit log on a proven
 * 'repair'.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/cli_backup.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/agentenv.h"
#include "common/jsonu.h"
#include "common/paths.h"

extern char **environ;

#define REPAIR_OUT_MAX 8192

/* What idw-agentd --repair said (agentd/repair.h lists the lines). */
struct repair_out {
	char text[REPAIR_OUT_MAX];
	bool intact;
	unsigned long long records, keep, cut_at, drop_bytes, drop_records;
	char damage[300], damaged[300], error[400];
};

/* idw-agentd next to this program, else IDW_AGENTD (as autostart). */
static int agentd_path(char *out, size_t len)
{
	char self[PATH_MAX], *slash;
	const char *e = getenv("IDW_AGENTD");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			if ((size_t)snprintf(out, len, "%s/idw-agentd", self) <
				    len &&
			    access(out, X_OK) == 0)
				return 0;
		}
	}
	if (e != NULL && e[0] == '/' && access(e, X_OK) == 0) {
		snprintf(out, len, "%s", e);
		return 0;
	}
	return IDW_ENOENT;
}

/* The agent's fixed environment without the unlock variables. */
static char **repair_env(void)
{
	static char *env[32];
	size_t n = 0;

	for (size_t i = 0; idw_agent_env[i] != NULL && n < 31; i++) {
		const char *k = idw_agent_env[i];
		size_t kl = strlen(k);

		if (strcmp(k, "IDW_PASSPHRASE") == 0 ||
		    strcmp(k, "IDW_SESSION_TOKEN") == 0)
			continue;
		for (char **e = environ; *e != NULL; e++)
			if (strncmp(*e, k, kl) == 0 && (*e)[kl] == '=') {
				env[n++] = *e;
				break;
			}
	}
	env[n] = NULL;
	return env;
}

static void parse_line(struct repair_out *o, char *line)
{
	char *rest = strchr(line, ' ');

	if (rest != NULL)
		*rest++ = '\0';
	else
		rest = line + strlen(line);
	if (strcmp(line, "intact") == 0) {
		o->intact = true;
		o->records = strtoull(rest, NULL, 10);
	} else if (strcmp(line, "damage") == 0) {
		snprintf(o->damage, sizeof(o->damage), "%s", rest);
	} else if (strcmp(line, "keep") == 0) {
		if (sscanf(rest, "%llu %llu", &o->keep, &o->cut_at) != 2)
			o->cut_at = 0;
	} else if (strcmp(line, "drop") == 0) {
		if (sscanf(rest, "%llu %llu", &o->drop_bytes,
			   &o->drop_records) != 2)
			o->drop_bytes = o->drop_records = 0;
	} else if (strcmp(line, "damaged") == 0) {
		snprintf(o->damaged, sizeof(o->damaged), "%s", rest);
	} else if (strcmp(line, "error") == 0) {
		/* "error CODE TEXT": the text is for the person. */
		char *t = strchr(rest, ' ');

		snprintf(o->error, sizeof(o->error), "%s", t ? t + 1 : rest);
	}
}

/* Run idw-agentd --repair=mode, hand it the passphrase, read its lines. */
static int run_repair(const char *mode, unsigned long long cut_at,
		      const struct idw_buf *pass, struct repair_out *o)
{
	char agentd[PATH_MAX], modearg[32], cutarg[48];
	int st[2] = {-1, -1}, pp[2] = {-1, -1}, status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	memset(o, 0, sizeof(*o));
	if (agentd_path(agentd, sizeof(agentd)) != 0) {
		cli_warn("idw-agentd was not found next to this program or in "
			 "IDW_AGENTD");
		return IDW_ENOENT;
	}
	if (pass->len > 65536 || pipe2(st, O_CLOEXEC) != 0)
		return IDW_EIO;
	if (pipe2(pp, O_CLOEXEC) != 0 ||
	    write(pp[1], pass->d, pass->len) != (ssize_t)pass->len) {
		close(st[0]);
		close(st[1]);
		if (pp[0] >= 0) {
			close(pp[0]);
			close(pp[1]);
		}
		return IDW_EIO;
	}
	close(pp[1]);
	snprintf(modearg, sizeof(modearg), "--repair=%s", mode);
	snprintf(cutarg, sizeof(cutarg), "--cut-at=%llu", cut_at);
	pid = fork();
	if (pid == 0) {
		char *argv[] = {
			"idw-agentd", "--status-fd=3", "--passphrase-fd=4",
			modearg,      cutarg,	       NULL};
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
		    dup2(nul, 2) < 0 || dup2(st[1], 3) < 0 ||
		    dup2(pp[0], 4) < 0)
			_exit(127);
		execve(agentd, argv, repair_env());
		_exit(127);
	}
	close(st[1]);
	close(pp[0]);
	if (pid < 0) {
		close(st[0]);
		return IDW_EIO;
	}
	while (got + 1 < sizeof(o->text)) {
		n = read(st[0], o->text + got, sizeof(o->text) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	o->text[got] = '\0';
	close(st[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	for (char *save = NULL, *l = strtok_r(o->text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		parse_line(o, l);
	if (o->error[0] != '\0') {
		cli_warn(o->error);
		return IDW_ECORRUPT;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cli_warn("idw-agentd --repair failed without saying why");
		return IDW_ERR;
	}
	if (!o->intact && o->damage[0] == '\0') {
		cli_warn("an agent is starting for this home, so the vault "
			 "cannot be checked now: try again");
		return IDW_EAGENT;
	}
	return 0;
}

static int read_pass(bool from_stdin, struct idw_buf *b)
{
	int r = from_stdin ? cli_read_line(STDIN_FILENO, b, CLI_PASS_MAX)
			   : cli_prompt_tty("Passphrase to confirm repair: ", b,
					    CLI_PASS_MAX);

	if (r == IDW_ENOENT)
		cli_warn("repair needs your passphrase and there is no "
			 "terminal to ask: use --passphrase-stdin");
	else if (r != 0 || b->len == 0)
		cli_warn("no passphrase was given");
	return r != 0 || b->len == 0 ? IDW_EPROOF : 0;
}

/* The repaired vault's agent writes the re-anchor (person proof). */
static int reanchor(const struct repair_out *o, const struct idw_buf *pass)
{
	struct idwc_reply rep = {0};
	struct idwc *c = NULL;
	cJSON *req;
	int r, rc = CLI_EXIT_ERR;

	if ((r = cli_connect(CLI_CONN_AUTOSTART, pass, &c)) != 0)
		return idw_err_exit(r);
	if ((req = cli_request("repair")) != NULL &&
	    cJSON_AddNumberToObject(req, "cut_at", (double)o->cut_at) &&
	    cJSON_AddNumberToObject(req, "kept_records", (double)o->keep) &&
	    cJSON_AddStringToObject(req, "damaged", o->damaged)) {
		rc = cli_call_proven_pass(c, req, NULL, pass, &rep);
		if (rc == 0)
			printf("audit log re-anchored at checkpoint %lld\n",
			       (long long)idw_json_int(rep.json, "checkpoint",
						       0));
	}
	cli_reply_free(&rep);
	cJSON_Delete(req);
	idwc_close(c);
	return rc;
}

int cli_vault_repair(const struct cli_args *a)
{
	struct repair_out rep, done;
	struct idw_buf pass;
	struct idwc *c = NULL;
	char vault[IDW_PATH_MAX], what[IDW_PATH_MAX + 80];
	struct stat st;
	int rc = CLI_EXIT_ERR, r;

	idw_buf_init(&pass, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	if (cli_home_file(vault, sizeof(vault), "vault.idw") != 0)
		goto out;
	if (lstat(vault, &st) != 0 || st.st_size == 0) {
		cli_warnf("no vault at %s: nothing to repair", vault);
		goto out;
	}
	/* A running agent opened the vault, so there is nothing to cut. */
	if ((r = cli_connect(CLI_CONN_ABSENT_OK, NULL, &c)) == 0) {
		printf("an agent (pid %ld) serves %s, so it opens: nothing to "
		       "repair\n",
		       idwc_hello_info(c)->pid, vault);
		idwc_close(c);
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (read_pass(cli_arg_set(a, "passphrase-stdin"), &pass) != 0) {
		rc = idw_err_exit(IDW_EPROOF);
		goto out;
	}
	if ((r = run_repair("report", 0, &pass, &rep)) != 0) {
		rc = idw_err_exit(r);
		goto out;
	}
	if (rep.intact) {
		printf("%s opens (%llu records): nothing to repair\n", vault,
		       rep.records);
		rc = CLI_EXIT_OK;
		goto out;
	}
	printf("damaged: %s\n", rep.damage);
	printf("keeping the valid prefix keeps records 1 to %llu (the "
	       "first %llu bytes)\n",
	       rep.keep, rep.cut_at);
	printf("and drops the last %llu bytes: the damaged record and the %llu "
	       "after it (counted by their length fields)\n",
	       rep.drop_bytes, rep.drop_records > 0 ? rep.drop_records - 1 : 0);
	printf("the whole file is kept aside first, as "
	       "vault.idw.damaged-<time>\n");
	fflush(stdout);
	snprintf(what, sizeof(what), "Cut %s at byte offset %llu", vault,
		 rep.cut_at);
	if (cli_confirm(cli_arg_set(a, "yes"), what) != 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((r = run_repair("apply", rep.cut_at, &pass, &done)) != 0) {
		rc = idw_err_exit(r);
		goto out;
	}
	if (done.damaged[0] == '\0') {
		cli_warn("the vault was not cut: an agent took this home "
			 "meanwhile; run 'idw vault repair' again");
		goto out;
	}
	done.keep = rep.keep;
	done.cut_at = rep.cut_at;
	printf("repaired %s: records 1 to %llu kept; the damaged file is kept "
	       "as %s/%s\n",
	       vault, rep.keep, cli_home(), done.damaged);
	fflush(stdout);
	rc = reanchor(&done, &pass);
out:
	idw_buf_free(&pass);
	return rc;
}
