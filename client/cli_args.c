/* SPDX-License-Identifier: ISC */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli_args.h"

static int usage_err(struct cli_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_err(struct cli_args *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
	return IDW_EUSAGE;
}

static int opt_find(const struct cli_args *a, const char *name, size_t len)
{
	for (size_t i = 0; i < a->nopts; i++)
		if (strlen(a->opts[i].name) == len &&
		    strncmp(a->opts[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static int list_add(struct cli_args *a, size_t i, const char *s, size_t n)
{
	struct cli_optval *v = &a->v[i];
	char **items;

	if (n == 0)
		return usage_err(a, "--%s: empty item", a->opts[i].name);
	for (size_t k = 0; k < v->nitems; k++)
		if (strlen(v->items[k]) == n && memcmp(v->items[k], s, n) == 0)
			return 0;
	if (v->nitems == CLI_LIST_MAX)
		return usage_err(a, "--%s: more than %d items", a->opts[i].name,
				 CLI_LIST_MAX);
	items = realloc(v->items, (v->nitems + 1) * sizeof(*items));
	if (items == NULL)
		return IDW_ENOMEM;
	v->items = items;
	if ((items[v->nitems] = strndup(s, n)) == NULL)
		return IDW_ENOMEM;
	v->nitems++;
	return 0;
}

/* Split one value of a list option on commas. */
static int list_split(struct cli_args *a, size_t i, const char *s)
{
	const char *comma;
	int r;

	for (;;) {
		comma = strchr(s, ',');
		if (comma == NULL)
			return list_add(a, i, s, strlen(s));
		if ((r = list_add(a, i, s, (size_t)(comma - s))) != 0)
			return r;
		s = comma + 1;
	}
}

/* One "--name[=value]" word at argv[*k]; may take argv[*k + 1]. */
static int parse_long(struct cli_args *a, int argc, char *const argv[], int *k)
{
	const char *word = argv[*k] + 2, *eq = strchr(word, '='), *val = NULL;
	size_t len = eq ? (size_t)(eq - word) : strlen(word);
	int i = opt_find(a, word, len);
	struct cli_optval *v;

	if (i < 0)
		return usage_err(a, "unknown option --%.*s",
				 (int)(len > 64 ? 64 : len), word);
	v = &a->v[i];
	if (a->opts[i].kind == CLI_OPT_FLAG) {
		if (eq != NULL)
			return usage_err(a, "--%s takes no value",
					 a->opts[i].name);
		v->set = true;
		return 0;
	}
	if (eq != NULL) {
		val = eq + 1;
	} else if (*k + 1 < argc) {
		val = argv[++*k];
	} else {
		return usage_err(a, "--%s needs a value", a->opts[i].name);
	}
	if (a->opts[i].kind == CLI_OPT_VALUE) {
		if (v->set)
			return usage_err(a, "--%s given twice",
					 a->opts[i].name);
		v->set = true;
		v->value = val;
		return 0;
	}
	v->set = true;
	return list_split(a, (size_t)i, val);
}

static int parse(struct cli_args *a, const struct cli_opt *opts, size_t min_pos,
		 size_t max_pos, int argc, char *const argv[], bool rest)
{
	bool only_pos = false;
	int r;

	memset(a, 0, sizeof(*a));
	a->opts = opts;
	while (opts != NULL && opts[a->nopts].name != NULL)
		a->nopts++;
	if (a->nopts > CLI_MAX_OPTS)
		return usage_err(a, "too many options in a verb table");
	if (max_pos > CLI_MAX_POS)
		max_pos = CLI_MAX_POS;

	for (int k = 0; k < argc; k++) {
		const char *w = argv[k];

		if (!only_pos && strcmp(w, "--") == 0) {
			if (rest) {
				a->rest = argv + k + 1;
				a->nrest = (size_t)(argc - k - 1);
				break;
			}
			only_pos = true;
			continue;
		}
		if (!only_pos &&
		    (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0)) {
			a->help = true;
			return 0;
		}
		if (!only_pos && w[0] == '-' && w[1] == '-') {
			if ((r = parse_long(a, argc, argv, &k)) != 0)
				return r;
			continue;
		}
		if (!only_pos && w[0] == '-' && w[1] != '\0')
			return usage_err(a, "unknown option %.64s", w);
		if (a->npos == max_pos)
			return usage_err(a, "unexpected argument '%.64s'", w);
		a->pos[a->npos++] = w;
	}
	if (a->npos < min_pos)
		return usage_err(a, "missing argument");
	return 0;
}

int cli_args_parse(struct cli_args *a, const struct cli_opt *opts,
		   size_t min_pos, size_t max_pos, int argc, char *const argv[])
{
	return parse(a, opts, min_pos, max_pos, argc, argv, false);
}

int cli_args_parse_rest(struct cli_args *a, const struct cli_opt *opts,
			size_t min_pos, size_t max_pos, int argc,
			char *const argv[])
{
	return parse(a, opts, min_pos, max_pos, argc, argv, true);
}

void cli_args_free(struct cli_args *a)
{
	for (size_t i = 0; i < CLI_MAX_OPTS; i++) {
		for (size_t k = 0; k < a->v[i].nitems; k++)
			free(a->v[i].items[k]);
		free(a->v[i].items);
		a->v[i].items = NULL;
		a->v[i].nitems = 0;
	}
}

static const struct cli_optval *optval(const struct cli_args *a,
				       const char *name)
{
	int i = opt_find(a, name, strlen(name));

	return i < 0 ? NULL : &a->v[i];
}

bool cli_arg_set(const struct cli_args *a, const char *name)
{
	const struct cli_optval *v = optval(a, name);

	return v != NULL && v->set;
}

const char *cli_arg_value(const struct cli_args *a, const char *name)
{
	const struct cli_optval *v = optval(a, name);

	return v != NULL && v->set ? v->value : NULL;
}

size_t cli_arg_list(const struct cli_args *a, const char *name,
		    char *const **items)
{
	const struct cli_optval *v = optval(a, name);

	*items = v != NULL ? v->items : NULL;
	return v != NULL ? v->nitems : 0;
}

const char *cli_arg_pos(const struct cli_args *a, size_t i)
{
	return i < a->npos ? a->pos[i] : NULL;
}
