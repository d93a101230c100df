/* SPDX-License-Identifier: ISC */
#ifndef IDW_RUN_ENV_H
#define IDW_RUN_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

/*
 * What `idw run` puts in its child's environment: the variables to inject
 * (a name and a passport reference each, from --env, --env-file or a
 * profile), and the environment itself, built here and handed to execve.
 * Injected values live only in sodium_malloc memory and are wiped by
 * run_envp_free; idw's own environment is never changed.
 */
#define RUN_VARS_MAX 64
#define RUN_NAME_MAX 128 /* REDACT_NAME_MAX */
#define RUN_REF_MAX 256
#define RUN_ENVFILE_MAX (64u * 1024u)

struct run_var {
	char name[RUN_NAME_MAX];
	char ref[RUN_REF_MAX]; /* pp_... or path/name */
};

struct run_vars {
	struct run_var v[RUN_VARS_MAX];
	size_t n;
};

/* A variable name a shell would take: [A-Za-z_][A-Za-z0-9_]*. */
bool run_name_ok(const char *name);

/*
 * Add NAME=REF; a name given twice, a bad name or reference, or too many
 * variables is IDW_EUSAGE with the reason in why.
 */
int run_vars_add(struct run_vars *vs, const char *name, size_t namelen,
		 const char *ref, size_t reflen, char *why,
		 size_t whylen) IDW_WUR;

/* An --env word "NAME=PASSPORT". */
int run_vars_add_spec(struct run_vars *vs, const char *spec, char *why,
		      size_t whylen) IDW_WUR;

/*
 * The lines of an --env-file, in the .env grammar (keychain/dotenv.h):
 * "[export ]NAME=idw://PASSPORT", the reference optionally quoted;
 * blank lines and # comments are skipped.  A value that is not an idw://
 * reference, a malformed line or a name given twice is IDW_EINVAL with
 * the line's number in why.  The file holds references only.
 */
int run_envfile_parse(const char *buf, size_t len, struct run_vars *vs,
		      char *why, size_t whylen) IDW_WUR;

/* The child's environment: a NULL-ended array for execve. */
struct run_envp {
	char **envp;
	size_t n, cap;
	bool *owned; /* envp[i] is ours (sodium_malloc), wiped on free */
};

/*
 * Start from environ: with inherit, every variable but IDW_*; otherwise
 * only the documented few (PATH, HOME, USER, LOGNAME, SHELL, TERM, LANG,
 * LC_*, TZ, TMPDIR, XDG_RUNTIME_DIR).
 */
int run_envp_init(struct run_envp *e, char *const *environ,
		  bool inherit) IDW_WUR;

/*
 * Set name to the value, replacing any inherited entry.  A value with a
 * NUL byte cannot be an environment variable: IDW_EINVAL.
 */
int run_envp_set(struct run_envp *e, const char *name, const uint8_t *val,
		 size_t len) IDW_WUR;

/* Wipe the injected entries and free everything; safe twice. */
void run_envp_free(struct run_envp *e);

/* The value of name in envp (e.g. PATH), or NULL. */
const char *run_envp_get(char *const *envp, const char *name);

#endif
