/* SPDX-License-Identifier: ISC */
/*
 * MCP client configs for `idw import --mcp-config`: find each server's
 * literal env values (into the import set, in locked memory), and write
 * the config again with each such server started by `idw run --profile`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli_impmcp.h"
#include "client/cli_jscan.h"
#include "common/jsonu.h"

static size_t line_of(const char *buf, const char *p)
{
	size_t n = 1;

	for (const char *q = buf; q < p; q++)
		n += *q == '\n';
	return n;
}

/* "${NAME}": a reference the MCP client expands, not a secret. */
static bool is_ref(const uint8_t *v, size_t n)
{
	if (n < 4 || v[0] != '$' || v[1] != '{' || v[n - 1] != '}')
		return false;
	for (size_t i = 2; i < n - 1; i++)
		if (!(v[i] == '_' || (v[i] >= 'A' && v[i] <= 'Z') ||
		      (v[i] >= 'a' && v[i] <= 'z') ||
		      (i > 2 && v[i] >= '0' && v[i] <= '9')))
			return false;
	return true;
}

static int mcp_env(struct cli_jscan *s, const char *buf, struct cli_impset *st,
		   const cJSON *tmpl, struct cli_impmcp_server *sv)
{
	char k[CLI_JSCAN_KEY_MAX], path[96];
	size_t mark;
	cJSON *item;
	int r;

	cli_jscan_ws(s);
	if (s->p == s->end || *s->p != '{') {
		s->err = "\"env\" must be an object";
		return IDW_EINVAL;
	}
	s->p++;
	if (cli_jscan_eat(s, '}'))
		return 0;
	snprintf(path, sizeof(path), "mcp/%s", sv->name);
	do {
		size_t line;

		cli_jscan_ws(s);
		line = line_of(buf, s->p);
		if ((r = cli_jscan_key(s, k)) != 0)
			return r;
		mark = st->values.len;
		cli_jscan_ws(s);
		if ((r = cli_jscan_str(s, &st->values)) != 0) {
			cli_impset_cut(st, mark);
			if (r == IDW_EINVAL && s->p < s->end)
				s->err = "an env value must be a string";
			return r;
		}
		if (st->values.len == mark) {
			cli_impset_bad(st, line,
				       "%s of server %s is empty: nothing to "
				       "keep",
				       k, sv->name);
			continue;
		}
		if (is_ref(st->values.d + mark, st->values.len - mark)) {
			char *ref = strndup((char *)st->values.d + mark,
					    st->values.len - mark);

			cli_impset_cut(st, mark);
			if (ref == NULL ||
			    cJSON_AddStringToObject(sv->refs, k, ref) == NULL) {
				free(ref);
				return IDW_ENOMEM;
			}
			free(ref);
			continue;
		}
		item = cJSON_Duplicate(tmpl, 1);
		if (item == NULL ||
		    cJSON_AddStringToObject(item, "name", k) == NULL ||
		    cJSON_AddStringToObject(item, "path", path) == NULL) {
			cJSON_Delete(item);
			return IDW_ENOMEM;
		}
		if ((r = cli_impset_add(st, item, st->values.len - mark,
					line)) != 0)
			return r;
		sv->n++;
	} while (cli_jscan_eat(s, ','));
	if (!cli_jscan_eat(s, '}')) {
		s->err = "'}' or ',' expected";
		return IDW_EINVAL;
	}
	return 0;
}

/* Append one member's text, verbatim, to sv->kept. */
static int keep_member(struct cli_impmcp_server *sv, const char *from,
		       const char *to)
{
	size_t old = sv->kept ? strlen(sv->kept) : 0;
	char *k = realloc(sv->kept, old + (size_t)(to - from) + 2);

	if (k == NULL)
		return IDW_ENOMEM;
	if (old > 0)
		k[old++] = ',';
	memcpy(k + old, from, (size_t)(to - from));
	k[old + (size_t)(to - from)] = '\0';
	sv->kept = k;
	return 0;
}

static int mcp_server(struct cli_jscan *s, const char *buf,
		      struct cli_impset *st, const cJSON *tmpl,
		      struct cli_impmcp_server *sv)
{
	char k[CLI_JSCAN_KEY_MAX];
	bool seen_env = false;
	int r;

	sv->start = (size_t)(s->p - buf);
	s->p++;
	sv->first = (size_t)cJSON_GetArraySize(st->items);
	if ((sv->refs = cJSON_CreateObject()) == NULL)
		return IDW_ENOMEM;
	if (cli_jscan_eat(s, '}'))
		goto done;
	do {
		const char *from;

		cli_jscan_ws(s);
		from = s->p;
		if ((r = cli_jscan_key(s, k)) != 0)
			return r;
		if (strcmp(k, "env") == 0 && !seen_env) {
			seen_env = true;
			if ((r = mcp_env(s, buf, st, tmpl, sv)) != 0)
				return r;
		} else if (strcmp(k, "command") == 0 && sv->command == NULL) {
			cJSON *c = cli_jscan_span(s);

			if (!cJSON_IsString(c)) {
				cJSON_Delete(c);
				s->err =
					s->err ? s->err
					       : "\"command\" must be a string";
				return IDW_EINVAL;
			}
			sv->command = strdup(c->valuestring);
			cJSON_Delete(c);
			if (sv->command == NULL)
				return IDW_ENOMEM;
		} else if (strcmp(k, "args") == 0 && sv->args == NULL) {
			const cJSON *e;

			sv->args = cli_jscan_span(s);
			if (!cJSON_IsArray(sv->args)) {
				s->err = s->err ? s->err
						: "\"args\" must be a list";
				return IDW_EINVAL;
			}
			cJSON_ArrayForEach(e, sv->args)
			{
				if (!cJSON_IsString(e)) {
					s->err = "\"args\" must be a list of "
						 "strings";
					return IDW_EINVAL;
				}
			}
		} else {
			if ((r = cli_jscan_skip(s)) != 0)
				return r;
			if ((r = keep_member(sv, from, s->p)) != 0)
				return r;
		}
	} while (cli_jscan_eat(s, ','));
	if (!cli_jscan_eat(s, '}')) {
		s->err = "'}' or ',' expected";
		return IDW_EINVAL;
	}
done:
	sv->end = (size_t)(s->p - buf);
	return 0;
}

static bool server_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!(n[i] == '.' || n[i] == '_' || n[i] == '-' ||
		      (n[i] >= '0' && n[i] <= '9') ||
		      (n[i] >= 'a' && n[i] <= 'z') ||
		      (n[i] >= 'A' && n[i] <= 'Z')))
			return false;
	return true;
}

static void server_free(struct cli_impmcp_server *sv)
{
	free(sv->command);
	free(sv->kept);
	cJSON_Delete(sv->args);
	cJSON_Delete(sv->refs);
	memset(sv, 0, sizeof(*sv));
}

void cli_impmcp_free(struct cli_impmcp *cfg)
{
	for (size_t i = 0; i < cfg->nservers; i++)
		server_free(&cfg->servers[i]);
	free(cfg->servers);
	cfg->servers = NULL;
	cfg->nservers = 0;
}

static int mcp_servers(struct cli_jscan *s, const char *buf,
		       struct cli_impset *st, const cJSON *tmpl,
		       struct cli_impmcp *cfg)
{
	struct cli_impmcp_server sv, *more;
	char name[CLI_JSCAN_KEY_MAX];
	int r;

	cli_jscan_ws(s);
	if (s->p == s->end || *s->p != '{') {
		s->err = "\"mcpServers\" must be an object";
		return IDW_EINVAL;
	}
	s->p++;
	if (cli_jscan_eat(s, '}'))
		return 0;
	do {
		size_t line;

		cli_jscan_ws(s);
		line = line_of(buf, s->p);
		if ((r = cli_jscan_key(s, name)) != 0)
			return r;
		cli_jscan_ws(s);
		if (s->p == s->end || *s->p != '{') {
			s->err = "a server must be an object";
			return IDW_EINVAL;
		}
		memset(&sv, 0, sizeof(sv));
		snprintf(sv.name, sizeof(sv.name), "%.64s", name);
		if ((r = mcp_server(s, buf, st, tmpl, &sv)) != 0) {
			server_free(&sv);
			return r;
		}
		if (sv.n == 0) { /* nothing secret: left as it is */
			server_free(&sv);
			continue;
		}
		if (!server_name_ok(name))
			cli_impset_bad(st, line,
				       "server name '%.64s' cannot name a run "
				       "profile (letters, digits, . _ -)",
				       name);
		if (sv.command == NULL)
			cli_impset_bad(st, line,
				       "server %s has secrets in env but no "
				       "command to run",
				       sv.name);
		more = realloc(cfg->servers,
			       (cfg->nservers + 1) * sizeof(*more));
		if (more == NULL) {
			server_free(&sv);
			return IDW_ENOMEM;
		}
		cfg->servers = more;
		cfg->servers[cfg->nservers++] = sv;
	} while (cli_jscan_eat(s, ','));
	if (!cli_jscan_eat(s, '}')) {
		s->err = "'}' or ',' expected";
		return IDW_EINVAL;
	}
	return 0;
}

int cli_impmcp_parse(const char *buf, size_t len, const cJSON *tmpl,
		     struct cli_impset *st, struct cli_impmcp *cfg)
{
	struct cli_jscan s = {buf, buf + len, NULL, 0};
	bool found = false;
	char k[CLI_JSCAN_KEY_MAX];
	int r = 0;

	memset(cfg, 0, sizeof(*cfg));
	if (st->items == NULL || st->errors == NULL)
		return IDW_ENOMEM;
	if (!cli_jscan_eat(&s, '{')) {
		s.err = "the config is not a JSON object";
		goto bad;
	}
	if (!cli_jscan_eat(&s, '}')) {
		do {
			cli_jscan_ws(&s);
			if ((r = cli_jscan_key(&s, k)) != 0)
				goto bad;
			if (strcmp(k, "mcpServers") == 0 && !found) {
				found = true;
				if ((r = mcp_servers(&s, buf, st, tmpl, cfg)) !=
				    0)
					goto bad;
			} else if ((r = cli_jscan_skip(&s)) != 0) {
				goto bad;
			}
		} while (cli_jscan_eat(&s, ','));
		if (!cli_jscan_eat(&s, '}')) {
			s.err = "'}' or ',' expected";
			goto bad;
		}
	}
	cli_jscan_ws(&s);
	if (s.p != s.end) {
		s.err = "text after the JSON object";
		goto bad;
	}
	if (!found)
		cli_impset_bad(st, 0, "no \"mcpServers\" object in the config");
	return 0;
bad:
	if (r == IDW_ENOMEM)
		return r;
	cli_impset_bad(st, line_of(buf, s.p), "%s",
		       r == IDW_ETOOBIG ? "the values are too large"
		       : s.err		? s.err
					: "malformed JSON");
	return 0;
}

/* {"command": idw, "args": [...], "env": refs} plus the kept members. */
static int new_entry(const struct cli_impmcp_server *sv, const char *idw,
		     struct idw_buf *out)
{
	cJSON *o = cJSON_CreateObject(), *args;
	char *txt = NULL;
	int r = IDW_ENOMEM;

	if (o == NULL || cJSON_AddStringToObject(o, "command", idw) == NULL ||
	    (args = cJSON_AddArrayToObject(o, "args")) == NULL)
		goto out;
	cJSON_AddItemToArray(args, cJSON_CreateString("run"));
	cJSON_AddItemToArray(args, cJSON_CreateString("--profile"));
	cJSON_AddItemToArray(args, cJSON_CreateString(sv->name));
	if (cJSON_GetArraySize(sv->refs) > 0)
		cJSON_AddItemToObject(o, "env", cJSON_Duplicate(sv->refs, 1));
	if ((txt = idw_json_print(o)) == NULL)
		goto out;
	/* Drop the closing brace, add the kept members, close again. */
	txt[strlen(txt) - 1] = '\0';
	if ((r = idw_buf_put_str(out, txt)) == 0 && sv->kept != NULL)
		r = idw_buf_printf(out, ",%s", sv->kept);
	if (r == 0)
		r = idw_buf_put_str(out, "}");
out:
	cJSON_free(txt);
	cJSON_Delete(o);
	return r;
}

int cli_impmcp_rewrite(const char *buf, size_t len,
		       const struct cli_impmcp *cfg, const char *idw,
		       struct idw_buf *out)
{
	size_t at = 0;
	int r;

	for (size_t i = 0; i < cfg->nservers; i++) {
		const struct cli_impmcp_server *sv = &cfg->servers[i];

		if ((r = idw_buf_put(out, buf + at, sv->start - at)) != 0 ||
		    (r = new_entry(sv, idw, out)) != 0)
			return r;
		at = sv->end;
	}
	return idw_buf_put(out, buf + at, len - at);
}
