/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/run_env.h"
#include "keychain/dotenv.h"

#define IDW_SCHEME "idw://"

bool run_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0' ||
	    (name[0] >= '0' && name[0] <= '9'))
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			return false;
	}
	return i < RUN_NAME_MAX;
}

/* A reference: printable, no control bytes (UTF-8 names are fine). */
static bool ref_ok(const char *ref, size_t len)
{
	if (len == 0 || len >= RUN_REF_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)ref[i];

		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

int run_vars_add(struct run_vars *vs, const char *name, size_t namelen,
		 const char *ref, size_t reflen, char *why, size_t whylen)
{
	struct run_var *v;

	if (namelen == 0 || namelen >= RUN_NAME_MAX) {
		snprintf(why, whylen, "a variable name must be 1 to %d bytes",
			 RUN_NAME_MAX - 1);
		return IDW_EUSAGE;
	}
	if (vs->n >= RUN_VARS_MAX) {
		snprintf(why, whylen, "at most %d variables", RUN_VARS_MAX);
		return IDW_EUSAGE;
	}
	v = &vs->v[vs->n];
	memcpy(v->name, name, namelen);
	v->name[namelen] = '\0';
	if (!run_name_ok(v->name)) {
		snprintf(why, whylen,
			 "'%.64s' is not a variable name (letters, digits "
			 "and _, not starting with a digit)",
			 v->name);
		return IDW_EUSAGE;
	}
	if (!ref_ok(ref, reflen)) {
		snprintf(why, whylen,
			 "%s needs a passport id (pp_...) or path/name of at "
			 "most %d bytes",
			 v->name, RUN_REF_MAX - 1);
		return IDW_EUSAGE;
	}
	for (size_t i = 0; i < vs->n; i++)
		if (strcmp(vs->v[i].name, v->name) == 0) {
			snprintf(why, whylen, "%s is given twice", v->name);
			return IDW_EUSAGE;
		}
	memcpy(v->ref, ref, reflen);
	v->ref[reflen] = '\0';
	vs->n++;
	return 0;
}

int run_vars_add_spec(struct run_vars *vs, const char *spec, char *why,
		      size_t whylen)
{
	const char *eq = strchr(spec, '=');
	const char *ref;

	if (eq == NULL || eq == spec || eq[1] == '\0') {
		snprintf(why, whylen, "--env takes NAME=PASSPORT, not '%.64s'",
			 spec);
		return IDW_EUSAGE;
	}
	ref = eq + 1;
	/* The file's form is welcome on the command line too. */
	if (strncmp(ref, IDW_SCHEME, strlen(IDW_SCHEME)) == 0)
		ref += strlen(IDW_SCHEME);
	return run_vars_add(vs, spec, (size_t)(eq - spec), ref, strlen(ref),
			    why, whylen);
}

struct envfile_ctx {
	struct run_vars *vs;
	char *why;
	size_t whylen;
};

/* One line of the file, in the .env grammar of keychain/dotenv. */
static int envfile_line(void *vctx, size_t lineno, const char *key, size_t klen,
			const uint8_t *val, size_t vlen, const char *err)
{
	struct envfile_ctx *c = vctx;
	size_t sl = strlen(IDW_SCHEME);
	char sub[200];

	if (err != NULL) {
		snprintf(c->why, c->whylen, "line %zu: %s", lineno, err);
		return IDW_EINVAL;
	}
	if (vlen < sl || memcmp(val, IDW_SCHEME, sl) != 0) {
		snprintf(c->why, c->whylen,
			 "line %zu: %.*s must be a reference idw://PASSPORT "
			 "(an id or path/name), never a secret itself",
			 lineno, (int)(klen < 64 ? klen : 64), key);
		return IDW_EINVAL;
	}
	sub[0] = '\0';
	if (run_vars_add(c->vs, key, klen, (const char *)val + sl, vlen - sl,
			 sub, sizeof(sub)) != 0) {
		snprintf(c->why, c->whylen, "line %zu: %s", lineno, sub);
		return IDW_EINVAL;
	}
	return 0;
}

int run_envfile_parse(const char *buf, size_t len, struct run_vars *vs,
		      char *why, size_t whylen)
{
	struct envfile_ctx c = {vs, why, whylen};
	int r;

	if (len > RUN_ENVFILE_MAX) {
		snprintf(why, whylen, "larger than %u bytes", RUN_ENVFILE_MAX);
		return IDW_ETOOBIG;
	}
	if (memchr(buf, '\0', len) != NULL) {
		snprintf(why, whylen, "a NUL byte: not a text file");
		return IDW_EINVAL;
	}
	why[0] = '\0';
	r = dotenv_walk(buf, len, envfile_line, &c);
	if (r < 0 && why[0] == '\0')
		snprintf(why, whylen, "%s", idw_strerror(r));
	return r < 0 ? r : 0;
}

/* Passed through to the child unless --inherit-env: nothing secret. */
static const char *const clean_keep[] = {
	"PATH", "HOME", "USER",	  "LOGNAME",	     "SHELL", "TERM",
	"LANG", "TZ",	"TMPDIR", "XDG_RUNTIME_DIR", NULL,
};

static bool keep_clean(const char *kv)
{
	size_t n = strcspn(kv, "=");

	if (strncmp(kv, "LC_", 3) == 0)
		return true;
	for (size_t i = 0; clean_keep[i] != NULL; i++)
		if (strlen(clean_keep[i]) == n &&
		    memcmp(clean_keep[i], kv, n) == 0)
			return true;
	return false;
}

static int push(struct run_envp *e, char *kv, bool owned)
{
	if (e->n + 2 > e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		char **ne = realloc(e->envp, cap * sizeof(*ne));
		bool *no;

		if (ne == NULL)
			return IDW_ENOMEM;
		e->envp = ne;
		if ((no = realloc(e->owned, cap * sizeof(*no))) == NULL)
			return IDW_ENOMEM;
		e->owned = no;
		e->cap = cap;
	}
	e->envp[e->n] = kv;
	e->owned[e->n] = owned;
	e->n++;
	e->envp[e->n] = NULL;
	return 0;
}

int run_envp_init(struct run_envp *e, char *const *environ, bool inherit)
{
	int r;

	memset(e, 0, sizeof(*e));
	if ((r = push(e, NULL, false)) != 0)
		return r;
	e->n = 0;
	e->envp[0] = NULL;
	for (size_t i = 0; environ != NULL && environ[i] != NULL; i++) {
		const char *kv = environ[i];

		if (strchr(kv, '=') == NULL)
			continue;
		if (inherit ? strncmp(kv, "IDW_", 4) == 0 : !keep_clean(kv))
			continue;
		if ((r = push(e, environ[i], false)) != 0)
			return r;
	}
	return 0;
}

int run_envp_set(struct run_envp *e, const char *name, const uint8_t *val,
		 size_t len)
{
	size_t nl = strlen(name);
	char *kv;
	int r;

	if (memchr(val, '\0', len) != NULL)
		return IDW_EINVAL;
	/* The injected name wins over an inherited one. */
	for (size_t i = 0; i < e->n; i++) {
		if (strncmp(e->envp[i], name, nl) != 0 || e->envp[i][nl] != '=')
			continue;
		if (e->owned[i])
			sodium_free(e->envp[i]);
		memmove(&e->envp[i], &e->envp[i + 1],
			(e->n - i) * sizeof(*e->envp));
		memmove(&e->owned[i], &e->owned[i + 1],
			(e->n - i - 1) * sizeof(*e->owned));
		e->n--;
		i--;
	}
	if ((kv = sodium_malloc(nl + 1 + len + 1)) == NULL)
		return IDW_ENOMEM;
	memcpy(kv, name, nl);
	kv[nl] = '=';
	memcpy(kv + nl + 1, val, len);
	kv[nl + 1 + len] = '\0';
	if ((r = push(e, kv, true)) != 0) {
		sodium_free(kv);
		return r;
	}
	return 0;
}

void run_envp_free(struct run_envp *e)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->owned[i])
			sodium_free(e->envp[i]); /* wipes */
	free(e->envp);
	free(e->owned);
	memset(e, 0, sizeof(*e));
}

const char *run_envp_get(char *const *envp, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; envp != NULL && envp[i] != NULL; i++)
		if (strncmp(envp[i], name, nl) == 0 && envp[i][nl] == '=')
			return envp[i] + nl + 1;
	return NULL;
}
