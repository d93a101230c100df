/* SPDX-License-Identifier: ISC */
/*
 * idw import FILE | --dotenv FILE [--path PREFIX] | --mcp-config FILE:
 * the whole file is parsed and checked first, every mistake named by its
 * line, and nothing is sent while one remains.  Then one person-proven
 * `import` request carries every passport (values in its secret segment),
 * which the agent checks again as a whole before writing any.  An MCP
 * config also gets a run profile per server and is rewritten, after a
 * backup copy, to launch each server through `idw run --profile`.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/cli.h"
#include "client/cli_impfile.h"
#include "client/cli_impmcp.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/jsonu.h"
#include "common/wire.h"

/* Room the frame needs besides the request's JSON and the values. */
#define FRAME_SLACK 4096u

static int usage(const char *msg)
{
	cli_warn(msg);
	return CLI_EXIT_USAGE;
}

/* The fields every passport of a .env or MCP import gets. */
static cJSON *template(const struct cli_args *a, const char *path)
{
	const char *type = cli_arg_value(a, "type");
	struct passwd *pw = getpwuid(geteuid());
	cJSON *t = cJSON_CreateObject();

	if (t == NULL ||
	    cJSON_AddStringToObject(t, "credential_type",
				    type ? type : "api-key") == NULL ||
	    (path != NULL &&
	     cJSON_AddStringToObject(t, "path", path) == NULL) ||
	    (pw != NULL &&
	     cJSON_AddStringToObject(t, "human_owner", pw->pw_name) == NULL)) {
		cJSON_Delete(t);
		return NULL;
	}
	return t;
}

static void print_errors(const char *file, const cJSON *errs, size_t nbad)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, errs)
	{
		if (cJSON_IsString(e))
			cli_warnf("%s: %s", file, e->valuestring);
	}
	if (nbad > (size_t)cJSON_GetArraySize(errs))
		cli_warnf("%s: and %zu more", file,
			  nbad - (size_t)cJSON_GetArraySize(errs));
}

/* The agent's refusal names items; say which lines they are. */
static void print_agent_errors(const char *file, const cJSON *json)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(json, "errors"))
	{
		int64_t line = idw_json_int(e, "line", 0);
		const char *msg = idw_json_str(e, "message");

		if (line > 0)
			cli_warnf("%s: line %lld: %s", file, (long long)line,
				  msg ? msg : "refused");
		else
			cli_warnf("%s: passport %lld: %s", file,
				  (long long)idw_json_int(e, "item", 0),
				  msg ? msg : "refused");
	}
}

/* Send the import; rep holds the agent's answer. */
static int send_import(struct idwc *c, struct cli_impset *set, bool skip,
		       const struct idw_buf *pass, const char *file,
		       struct idwc_reply *rep)
{
	cJSON *req = cli_request("import");
	char *txt = NULL;
	int rc;

	memset(rep, 0, sizeof(*rep));
	if (req == NULL ||
	    !cJSON_AddItemReferenceToObject(req, "passports", set->items) ||
	    cJSON_AddBoolToObject(req, "skip_existing", skip) == NULL ||
	    (txt = idw_json_print(req)) == NULL) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	if (strlen(txt) + set->values.len + FRAME_SLACK > IDW_WIRE_MAX_BODY) {
		cli_warnf("%s: too large for one import (%zu bytes of "
			  "passports and values; at most about %u): split it "
			  "and import the parts one after another",
			  file, strlen(txt) + set->values.len,
			  IDW_WIRE_MAX_BODY - FRAME_SLACK);
		cJSON_free(txt);
		cJSON_Delete(req);
		return CLI_EXIT_ERR;
	}
	cJSON_free(txt);
	rc = cli_call_proven_pass(c, req, &set->values, pass, rep);
	if (rc != 0)
		print_agent_errors(file, rep->json);
	cJSON_Delete(req);
	return rc;
}

/* The passport id of item i (1-based) from the import's answer. */
static const char *item_id(const cJSON *reply, size_t i)
{
	static const char *const lists[] = {"imported", "skipped"};
	const cJSON *e;

	for (size_t k = 0; k < 2; k++)
		cJSON_ArrayForEach(
			e, cJSON_GetObjectItemCaseSensitive(reply, lists[k]))
		{
			if (idw_json_int(e, "item", 0) == (int64_t)i)
				return idw_json_str(e, "id");
		}
	return NULL;
}

static void report(const cJSON *reply)
{
	const cJSON *e;
	int n = cJSON_GetArraySize(
		cJSON_GetObjectItemCaseSensitive(reply, "imported"));
	int s = cJSON_GetArraySize(
		cJSON_GetObjectItemCaseSensitive(reply, "skipped"));

	cJSON_ArrayForEach(e,
			   cJSON_GetObjectItemCaseSensitive(reply, "imported"))
	{
		const char *path = idw_json_str(e, "path");
		char *name = cli_display(idw_json_str(e, "name")), *dp;

		dp = cli_display(path ? path : "");
		printf("%s\t%s%s%s\n", idw_json_str(e, "id"), dp ? dp : "",
		       dp && dp[0] ? "/" : "", name ? name : "");
		free(name);
		free(dp);
	}
	cli_warnf("imported %d passports%s", n,
		  s > 0 ? ", skipped the ones already there" : "");
	if (s > 0)
		cli_warnf("skipped %d passports that already exist", s);
}

/* The absolute program a profile pins: as given, or found in PATH. */
static int resolve_program(const char *cmd, char *out, size_t outlen)
{
	const char *path = getenv("PATH"), *p, *colon;
	char cand[PATH_MAX];

	if (strchr(cmd, '/') != NULL) {
		if (realpath(cmd, cand) == NULL)
			return IDW_ENOENT;
		snprintf(out, outlen, "%s", cand);
		return 0;
	}
	for (p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;
	     p = colon + 1) {
		colon = strchr(p, ':');
		if (colon == NULL)
			colon = p + strlen(p);
		if (colon > p &&
		    snprintf(cand, sizeof(cand), "%.*s/%s", (int)(colon - p), p,
			     cmd) < (int)sizeof(cand) &&
		    cand[0] == '/' && access(cand, X_OK) == 0) {
			snprintf(out, outlen, "%s", cand);
			return 0;
		}
		if (*colon == '\0')
			break;
	}
	return IDW_ENOENT;
}

static int write_file(const char *path, const uint8_t *d, size_t n, mode_t mode)
{
	int fd =
		open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     mode);
	int r = 0;

	if (fd < 0)
		return IDW_EIO;
	while (n > 0 && r == 0) {
		ssize_t k = write(fd, d, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			r = IDW_EIO;
		else {
			d += k;
			n -= (size_t)k;
		}
	}
	if (r == 0 && fsync(fd) != 0)
		r = IDW_EIO;
	close(fd);
	if (r != 0)
		(void)unlink(path);
	return r;
}

/* FILE.idw-bak (or .idw-bak.N): the original, byte for byte, 0600. */
static int backup(const char *file, const struct idw_buf *orig, char *out,
		  size_t outlen)
{
	for (int i = 0; i < 100; i++) {
		if (i == 0)
			snprintf(out, outlen, "%s.idw-bak", file);
		else
			snprintf(out, outlen, "%s.idw-bak.%d", file, i);
		if (access(out, F_OK) == 0)
			continue;
		return write_file(out, orig->d, orig->len, 0600);
	}
	return IDW_EEXIST;
}

/* A profile per server: its program, args and env {VAR: passport id}. */
static int add_profiles(struct idwc *c, const struct cli_impmcp *cfg,
			const struct cli_impset *set, const cJSON *reply,
			const struct idw_buf *pass)
{
	char prog[PATH_MAX];
	int rc = 0;

	for (size_t i = 0; i < cfg->nservers && rc == 0; i++) {
		const struct cli_impmcp_server *sv = &cfg->servers[i];
		struct idwc_reply rep = {0};
		cJSON *req = cli_request("profile_add"), *env;

		if (resolve_program(sv->command, prog, sizeof(prog)) != 0) {
			cli_warnf("server %s: cannot find its command '%s' "
				  "(a run profile pins an absolute path): "
				  "install it or write its full path in the "
				  "config, then import again with "
				  "--skip-existing",
				  sv->name, sv->command);
			cJSON_Delete(req);
			return CLI_EXIT_ERR;
		}
		if (req == NULL ||
		    cJSON_AddStringToObject(req, "name", sv->name) == NULL ||
		    cJSON_AddStringToObject(req, "program", prog) == NULL ||
		    !cJSON_AddItemToObject(
			    req, "args",
			    sv->args ? cJSON_Duplicate(sv->args, 1)
				     : cJSON_CreateArray()) ||
		    (env = cJSON_AddObjectToObject(req, "env")) == NULL) {
			cJSON_Delete(req);
			cli_warn(idw_strerror(IDW_ENOMEM));
			return CLI_EXIT_ERR;
		}
		for (size_t k = sv->first; k < sv->first + sv->n; k++) {
			const cJSON *it =
				cJSON_GetArrayItem(set->items, (int)k);
			const char *id = item_id(reply, k + 1);

			if (id == NULL) {
				cli_warnf("the agent did not say which "
					  "passport holds %s",
					  idw_json_str(it, "name"));
				cJSON_Delete(req);
				return CLI_EXIT_ERR;
			}
			cJSON_AddStringToObject(env, idw_json_str(it, "name"),
						id);
		}
		rc = cli_call_proven_pass(c, req, NULL, pass, &rep);
		if (rc == 0)
			cli_warnf("made run profile %s for %s", sv->name, prog);
		cli_reply_free(&rep);
		cJSON_Delete(req);
	}
	return rc;
}

/* Replace the config with its rewritten text, keeping its mode. */
static int rewrite(const char *file, const struct idw_buf *orig,
		   const struct cli_impmcp *cfg)
{
	char self[PATH_MAX], real[PATH_MAX], tmp[PATH_MAX + 16];
	struct idw_buf out;
	struct stat st;
	ssize_t n;
	int r;

	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0 || realpath(file, real) == NULL || stat(real, &st) != 0) {
		cli_warnf("%s: cannot find it again to rewrite it", file);
		return CLI_EXIT_ERR;
	}
	self[n] = '\0';
	idw_buf_init(&out, CLI_IMPFILE_MAX * 2, 0);
	snprintf(tmp, sizeof(tmp), "%s.idw-new", real);
	r = cli_impmcp_rewrite((const char *)orig->d, orig->len, cfg, self,
			       &out);
	if (r == 0) {
		(void)unlink(tmp);
		r = write_file(tmp, out.d, out.len, st.st_mode & 0777);
	}
	if (r == 0 && rename(tmp, real) != 0) {
		(void)unlink(tmp);
		r = IDW_EIO;
	}
	idw_buf_free(&out);
	if (r != 0) {
		cli_warnf("%s: rewriting it failed (%s); it is unchanged", file,
			  idw_strerror(r));
		return CLI_EXIT_ERR;
	}
	return 0;
}

int cli_import(const struct cli_args *a)
{
	const char *dotenv = cli_arg_value(a, "dotenv");
	const char *mcp = cli_arg_value(a, "mcp-config");
	const char *own = cli_arg_pos(a, 0);
	const char *prefix = cli_arg_value(a, "path");
	const char *file = own ? own : dotenv ? dotenv : mcp;
	bool skip = cli_arg_set(a, "skip-existing");
	unsigned flags =
		cli_arg_set(a, "passphrase-stdin") ? CLI_PROOF_STDIN : 0;
	struct cli_impmcp cfg = {0};
	struct idwc_reply rep = {0};
	struct cli_impset set;
	struct idw_buf orig, pass;
	struct idwc *c = NULL;
	char why[300], bak[PATH_MAX + 16];
	cJSON *tmpl = NULL;
	int rc = CLI_EXIT_ERR, r;

	if ((own != NULL) + (dotenv != NULL) + (mcp != NULL) != 1)
		return usage("name one file: FILE (an idw export), --dotenv "
			     "FILE or --mcp-config FILE");
	if (prefix != NULL && dotenv == NULL)
		return usage("--path goes with --dotenv");
	if (cli_arg_value(a, "type") != NULL && own != NULL)
		return usage("--type goes with --dotenv or --mcp-config");
	cli_impset_init(&set);
	idw_buf_init(&orig, CLI_IMPFILE_MAX, IDW_BUF_SECURE);
	idw_buf_init(&pass, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	if ((r = cli_impfile_read(file, CLI_IMPFILE_MAX, &orig, why,
				  sizeof(why))) != 0) {
		cli_warn(why);
		goto out;
	}
	if (own == NULL && (tmpl = template(a, prefix)) == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		goto out;
	}
	r = own	     ? cli_impfile_export((char *)orig.d, orig.len, &set)
	    : dotenv ? cli_impfile_dotenv((char *)orig.d, orig.len, tmpl, &set)
		     : cli_impmcp_parse((char *)orig.d, orig.len, tmpl, &set,
					&cfg);
	if (r != 0) {
		cli_warn(idw_strerror(r));
		goto out;
	}
	if (set.nbad > 0) {
		print_errors(file, set.errors, set.nbad);
		cli_warnf("%s: nothing imported: %zu mistake%s; fix %s and "
			  "run the import again",
			  file, set.nbad, set.nbad == 1 ? "" : "s",
			  set.nbad == 1 ? "it" : "them");
		goto out;
	}
	if (mcp != NULL && cfg.nservers == 0) {
		cli_warnf("%s: no server holds a literal secret in env; "
			  "nothing to do",
			  file);
		rc = 0;
		goto out;
	}
	if ((r = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		rc = idw_err_exit(r);
		goto out;
	}
	if ((rc = cli_proof_read(c, "import", flags, &pass)) != 0)
		goto out;
	if (mcp != NULL) {
		if (backup(file, &orig, bak, sizeof(bak)) != 0) {
			cli_warnf("%s: could not write a backup copy (%s); "
				  "nothing changed",
				  file, bak);
			rc = CLI_EXIT_ERR;
			goto out;
		}
		cli_warnf("kept the original as %s (it holds the secrets: "
			  "delete it once the servers work)",
			  bak);
	}
	if ((rc = send_import(c, &set, skip, &pass, file, &rep)) != 0)
		goto out;
	report(rep.json);
	if (mcp != NULL &&
	    ((rc = add_profiles(c, &cfg, &set, rep.json, &pass)) != 0 ||
	     (rc = rewrite(file, &orig, &cfg)) != 0))
		goto out;
	if (mcp != NULL)
		cli_warnf("%s now starts %zu server%s through 'idw run "
			  "--profile' with no secret in it",
			  file, cfg.nservers, cfg.nservers == 1 ? "" : "s");
out:
	cli_reply_free(&rep);
	if (c != NULL)
		idwc_close(c);
	cli_impmcp_free(&cfg);
	cJSON_Delete(tmpl);
	idw_buf_free(&pass);
	idw_buf_free(&orig);
	cli_impset_free(&set);
	return rc;
}
