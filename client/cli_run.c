/* SPDX-License-Identifier: ISC */
/*
 * idw run: start a program with credentials in its environment, fetched
 * through the agent's policy, grants and audit (one `get` per variable),
 * and its output redacted.  Every value is fetched before the program
 * starts, so a refusal starts nothing.  Values are never in argv, in idw's
 * own environment or on disk: they go from the reply's locked secret
 * segment into a locked environment block handed to execve, and into the
 * redact filters, and are wiped when the program has ended.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli.h"
#include "client/run_child.h"
#include "client/run_env.h"
#include "common/jsonu.h"
#include "sandbox/harden.h"

extern char **environ;

#define RUN_ARGS_MAX 1024

struct run_job {
	struct run_vars vars;
	const char *profile;
	char purpose[300];
	char program[PATH_MAX];
	char **argv;	 /* NULL-ended; argv[0] is the program as given */
	bool argv_owned; /* calloc'd by load_profile */
	cJSON *prof;	 /* the profile, owning argv's strings */
	struct idwc_reply reps[RUN_VARS_MAX];
	size_t nreps;
};

static int usage(const char *msg)
{
	cli_warn(msg);
	return CLI_EXIT_USAGE;
}

/* --env-file FILE: references only, read whole (it holds no secret). */
static int read_envfile(const char *path, struct run_vars *vs)
{
	char *buf = NULL, why[300] = "";
	size_t len = 0;
	ssize_t n;
	int fd, rc = CLI_EXIT_ERR;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cli_warnf("--env-file %s: %s", path, strerror(errno));
		return CLI_EXIT_ERR;
	}
	if ((buf = malloc(RUN_ENVFILE_MAX + 1)) == NULL)
		goto out;
	while (len <= RUN_ENVFILE_MAX &&
	       (n = read(fd, buf + len, RUN_ENVFILE_MAX + 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_warnf("--env-file %s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	if (run_envfile_parse(buf, len, vs, why, sizeof(why)) != 0) {
		cli_warnf("--env-file %s: %s", path, why);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

/* --profile NAME: program, arguments and variables, pinned by a person. */
static int load_profile(struct idwc *c, struct run_job *j)
{
	struct idwc_reply rep = {0};
	const cJSON *p, *args, *env, *it;
	const char *prog;
	cJSON *req = cli_request("profile_show");
	char why[300];
	size_t n = 0;
	int rc;

	if (req == NULL ||
	    cJSON_AddStringToObject(req, "name", j->profile) == NULL) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	rc = cli_call(c, req, NULL, &rep);
	cJSON_Delete(req);
	if (rc != 0)
		goto out;
	p = cJSON_GetObjectItemCaseSensitive(rep.json, "profile");
	prog = idw_json_str(p, "program");
	args = cJSON_GetObjectItemCaseSensitive(p, "args");
	env = cJSON_GetObjectItemCaseSensitive(p, "env");
	rc = CLI_EXIT_ERR;
	if (prog == NULL || prog[0] != '/' ||
	    (args != NULL && !cJSON_IsArray(args)) ||
	    (env != NULL && !cJSON_IsObject(env)) ||
	    cJSON_GetArraySize(args) >= RUN_ARGS_MAX) {
		cli_warnf("the agent's profile %s is malformed", j->profile);
		goto out;
	}
	j->argv =
		calloc((size_t)cJSON_GetArraySize(args) + 2, sizeof(*j->argv));
	if (j->argv == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		goto out;
	}
	j->argv_owned = true;
	j->argv[n++] = (char *)prog;
	cJSON_ArrayForEach(it, args)
	{
		if (!cJSON_IsString(it)) {
			cli_warnf("the agent's profile %s is malformed",
				  j->profile);
			goto out;
		}
		j->argv[n++] = it->valuestring;
	}
	cJSON_ArrayForEach(it, env)
	{
		if (!cJSON_IsString(it) ||
		    run_vars_add(&j->vars, it->string, strlen(it->string),
				 it->valuestring, strlen(it->valuestring), why,
				 sizeof(why)) != 0) {
			cli_warnf("the agent's profile %s is malformed",
				  j->profile);
			goto out;
		}
	}
	rc = 0;
out:
	/* The reply keeps argv's strings: it lives as long as the job. */
	j->prof = rep.json;
	rep.json = NULL;
	cli_reply_free(&rep);
	return rc;
}

/* One get per variable; the first refusal ends it before anything runs. */
static int fetch_values(struct idwc *c, struct run_job *j)
{
	for (size_t i = 0; i < j->vars.n; i++) {
		const struct run_var *v = &j->vars.v[i];
		struct idwc_reply *rep = &j->reps[j->nreps];
		cJSON *req = cli_request("get");
		int rc;

		if (req == NULL ||
		    cJSON_AddStringToObject(req, "id", v->ref) == NULL ||
		    cJSON_AddStringToObject(req, "purpose", j->purpose) ==
			    NULL ||
		    cJSON_AddStringToObject(req, "via", "run") == NULL ||
		    cJSON_AddStringToObject(req, "var", v->name) == NULL ||
		    (j->profile != NULL &&
		     cJSON_AddStringToObject(req, "profile", j->profile) ==
			     NULL)) {
			cJSON_Delete(req);
			cli_warn(idw_strerror(IDW_ENOMEM));
			return CLI_EXIT_ERR;
		}
		rc = cli_call(c, req, NULL, rep);
		cJSON_Delete(req);
		j->nreps++;
		if (rc == 0 && rep->secret == NULL) {
			cli_warn("the agent's reply has no value");
			rc = CLI_EXIT_ERR;
		}
		if (rc == 0 && memchr(rep->secret, '\0', rep->secret_len)) {
			cli_warnf("the value of %s (%s) has a NUL byte and "
				  "cannot be an environment variable",
				  v->name, v->ref);
			rc = CLI_EXIT_ERR;
		}
		if (rc != 0) {
			cli_warnf("%s (%s) was not released, so %s was not "
				  "started",
				  v->name, v->ref, j->argv[0]);
			return rc;
		}
	}
	return 0;
}

static void job_free(struct run_job *j)
{
	for (size_t i = 0; i < j->nreps; i++)
		cli_reply_free(&j->reps[i]); /* wipes the values */
	j->nreps = 0;
	if (j->argv_owned)
		free(j->argv);
	cJSON_Delete(j->prof);
	sodium_memzero(j, sizeof(*j));
}

static int parse_job(const struct cli_args *a, struct run_job *j)
{
	const char *purpose = cli_arg_value(a, "purpose");
	const char *envfile = cli_arg_value(a, "env-file");
	char *const *specs;
	size_t nspecs = cli_arg_list(a, "env", &specs);
	char why[300];
	int rc;

	j->profile = cli_arg_value(a, "profile");
	if (j->profile != NULL) {
		if (a->nrest > 0)
			return usage("--profile runs the profile's own "
				     "program: drop the words after --");
		if (nspecs > 0 || envfile != NULL)
			return usage("--profile takes its variables from the "
				     "profile; change them with 'idw profile "
				     "add NAME --replace'");
		if (purpose == NULL)
			snprintf(j->purpose, sizeof(j->purpose),
				 "idw run --profile %s", j->profile);
	} else {
		if (a->nrest == 0)
			return usage("name the program to run after --: idw "
				     "run --env NAME=PASSPORT -- PROGRAM "
				     "ARGS...");
		j->argv = (char **)a->rest;
		if (purpose == NULL) {
			const char *base = strrchr(a->rest[0], '/');

			snprintf(j->purpose, sizeof(j->purpose), "idw run %s",
				 base ? base + 1 : a->rest[0]);
		}
	}
	if (purpose != NULL) {
		if (purpose[0] == '\0')
			return usage("--purpose must not be empty");
		snprintf(j->purpose, sizeof(j->purpose), "%s", purpose);
	}
	for (size_t i = 0; i < nspecs; i++)
		if (run_vars_add_spec(&j->vars, specs[i], why, sizeof(why)) !=
		    0)
			return usage(why);
	if (envfile != NULL && (rc = read_envfile(envfile, &j->vars)) != 0)
		return rc;
	return 0;
}

/* The child's environment and the filters, from the fetched values. */
static int prepare(struct run_job *j, bool inherit, bool redact,
		   struct run_stream streams[2], struct run_envp *e)
{
	int r;

	if ((r = run_envp_init(e, environ, inherit)) != 0)
		return r;
	for (int i = 0; redact && i < 2; i++)
		if ((streams[i].filter =
			     redact_new(run_stream_sink, &streams[i])) == NULL)
			return IDW_ENOMEM;
	for (size_t i = 0; i < j->nreps; i++) {
		const char *name = j->vars.v[i].name;
		const struct idwc_reply *rep = &j->reps[i];

		if ((r = run_envp_set(e, name, rep->secret, rep->secret_len)) !=
		    0)
			return r;
		for (int s = 0; s < 2; s++)
			if (streams[s].filter != NULL &&
			    (r = redact_add(streams[s].filter, name,
					    rep->secret, rep->secret_len)) != 0)
				return r;
	}
	return 0;
}

int cli_run_program(const struct cli_args *a)
{
	bool redact = !cli_arg_set(a, "no-redact");
	struct run_stream streams[2] = {
		{.out_fd = STDOUT_FILENO, .filter = NULL},
		{.out_fd = STDERR_FILENO, .filter = NULL},
	};
	struct run_envp env = {0};
	struct run_child ch;
	struct run_job *j;
	struct idwc *c = NULL;
	char why[300] = "";
	int rc, r;

	/* Big (every reply), and only ever holding pointers to values. */
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	if ((rc = parse_job(a, j)) != 0)
		goto out;
	if ((r = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		rc = idw_err_exit(r);
		goto out;
	}
	if (j->profile != NULL && (rc = load_profile(c, j)) != 0)
		goto out;
	/* A program that is not there is said before anything is fetched. */
	if (run_find_program(j->argv[0], getenv("PATH"), j->program,
			     sizeof(j->program)) != 0) {
		cli_warnf("%s: command not found", j->argv[0]);
		rc = RUN_EXIT_NOTFOUND;
		goto out;
	}
	if ((rc = fetch_values(c, j)) != 0)
		goto out;
	idwc_close(c);
	c = NULL;
	if ((r = prepare(j, cli_arg_set(a, "inherit-env"), redact, streams,
			 &env)) != 0) {
		cli_warnf("preparing %s failed: %s", j->argv[0],
			  idw_strerror(r));
		rc = CLI_EXIT_ERR;
		goto out;
	}
	/* The filters and the environment block hold the values now. */
	for (size_t i = 0; i < j->nreps; i++)
		cli_reply_free(&j->reps[i]);
	j->nreps = 0;
	rc = run_child_start(&ch, j->program, j->argv, env.envp, streams, why,
			     sizeof(why));
	run_envp_free(&env);
	if (rc < 0) {
		cli_warnf("could not start %s: %s", j->argv[0], why);
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if (rc > 0)
		goto out;
	/* The filters hold values: no core file, no ptrace by peers. */
	if (idw_harden_nodump(why, sizeof(why)) != 0)
		cli_warnf("warning: %s", why);
	rc = run_child_wait(&ch, streams);
out:
	run_envp_free(&env);
	for (int i = 0; i < 2; i++)
		redact_free(streams[i].filter);
	if (c != NULL)
		idwc_close(c);
	job_free(j);
	free(j);
	return rc;
}
