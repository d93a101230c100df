/* SPDX-License-Identifier: ISC */
/*
 * idw audit: the trail read back through the agent, page by page, under
 * filters; shown as a table with every untrusted word escaped, printed as
 * JSON, or exported as JSON or CSV (cells quoted, formula-like ones
 * guarded).  idw audit verify asks the agent to check its open log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cli.h"
#include "common/escape.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define AUDIT_PAGE 500
#define AUDIT_SHOW_DEFAULT 50
#define AUDIT_LIMIT_MAX 100000000L
#define AUDIT_MAX_PAGES 1000000

static const char *const fields[] = {
	"seq",	       "time",	   "principal", "claimed_actor", "action",
	"passport_id", "platform", "purpose",	"result",	 "reason",
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

enum out_kind { OUT_TABLE, OUT_JSON, OUT_EXPORT_JSON, OUT_EXPORT_CSV };

struct out {
	enum out_kind kind;
	size_t n;   /* entries written so far */
	cJSON *all; /* table and --json: collected, then printed */
};

static int usage(const char *msg)
{
	cli_warn(msg);
	return CLI_EXIT_USAGE;
}

/* --since/--until: RFC 3339, YYYY-MM-DD, or a duration ago ("24h"). */
static int time_opt(const struct cli_args *a, const char *opt, cJSON *req)
{
	const char *v = cli_arg_value(a, opt);
	char buf[IDW_TIME_LEN];
	int64_t t, d;

	if (v == NULL)
		return 0;
	if (idw_duration_parse(v, &d) == 0) {
		idw_time_fmt_utc(idw_now() - d, buf);
		v = buf;
	} else if (idw_time_parse(v, 0, &t) != 0) {
		cli_warnf("--%s wants an RFC 3339 time, YYYY-MM-DD or a "
			  "duration such as 24h",
			  opt);
		return CLI_EXIT_USAGE;
	}
	return cJSON_AddStringToObject(req, opt, v) ? 0 : CLI_EXIT_ERR;
}

static bool add_opt(cJSON *req, const struct cli_args *a, const char *opt,
		    const char *key)
{
	const char *v = cli_arg_value(a, opt);

	return v == NULL || cJSON_AddStringToObject(req, key, v) != NULL;
}

/* The filter part of every page's request. */
static int base_request(const struct cli_args *a, cJSON **out)
{
	const char *pp = cli_arg_pos(a, 0);
	cJSON *req = cli_request("audit");
	int rc;

	*out = NULL;
	if (req == NULL ||
	    (pp != NULL && cJSON_AddStringToObject(req, "id", pp) == NULL) ||
	    !add_opt(req, a, "principal", "principal") ||
	    !add_opt(req, a, "action", "action") ||
	    !add_opt(req, a, "result", "result")) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	if ((rc = time_opt(a, "since", req)) != 0 ||
	    (rc = time_opt(a, "until", req)) != 0) {
		cJSON_Delete(req);
		return rc;
	}
	*out = req;
	return 0;
}

static char *cell(const cJSON *e, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key);
	char num[32];

	if (cJSON_IsNumber(v)) {
		snprintf(num, sizeof(num), "%.0f", v->valuedouble);
		return strdup(num);
	}
	return strdup(cJSON_IsString(v) ? v->valuestring : "");
}

static int csv_row(const cJSON *e)
{
	struct idw_buf b;
	int r = 0;

	idw_buf_init(&b, 16u * 1024u * 1024u, 0);
	for (size_t i = 0; i < NFIELDS && r == 0; i++) {
		char *s = e ? cell(e, fields[i]) : strdup(fields[i]);

		if (s == NULL)
			r = IDW_ENOMEM;
		if (r == 0 && i > 0)
			r = idw_buf_put_u8(&b, ',');
		if (r == 0)
			r = e ? idw_escape_csv(&b, s) : idw_buf_put_str(&b, s);
		free(s);
	}
	if (r == 0)
		r = idw_buf_put_str(&b, "\r\n");
	if (r == 0 && fwrite(b.d, 1, b.len, stdout) != b.len)
		r = IDW_EIO;
	idw_buf_free(&b);
	return r;
}

/* One entry, in order, to the chosen output. */
static int emit(struct out *o, const cJSON *e)
{
	char *txt;
	int r = 0;

	switch (o->kind) {
	case OUT_EXPORT_CSV:
		r = csv_row(e);
		break;
	case OUT_EXPORT_JSON:
		if ((txt = cJSON_PrintUnformatted(e)) == NULL)
			return IDW_ENOMEM;
		printf("%s\n  %s", o->n ? "," : "", txt);
		cJSON_free(txt);
		break;
	default:
		r = cJSON_AddItemToArray(o->all, cJSON_Duplicate(e, 1))
			    ? 0
			    : IDW_ENOMEM;
	}
	o->n++;
	return r;
}

/*
 * Page through the agent.  want 0: every match, oldest first, each page
 * emitted as it comes.  Else the newest want matches, emitted oldest
 * first once collected.
 */
static int fetch(struct idwc *c, const cJSON *base, size_t want, struct out *o)
{
	struct idwc_reply rep = {0};
	cJSON *newest = cJSON_CreateArray(), *req = NULL, *page, *e;
	char cursor[64] = "";
	int rc = 0;

	if (newest == NULL)
		return CLI_EXIT_ERR;
	for (int n = 0;; n++) {
		size_t left = want ? want - (size_t)cJSON_GetArraySize(newest)
				   : AUDIT_PAGE;
		const char *next;

		if (n == AUDIT_MAX_PAGES) {
			cli_warn("the audit log does not end");
			rc = CLI_EXIT_ERR;
			break;
		}
		if ((req = cJSON_Duplicate(base, 1)) == NULL ||
		    !cJSON_AddStringToObject(req, "order",
					     want ? "newest" : "oldest") ||
		    !cJSON_AddNumberToObject(req, "limit",
					     left < AUDIT_PAGE ? (double)left
							       : AUDIT_PAGE) ||
		    (cursor[0] &&
		     !cJSON_AddStringToObject(req, "cursor", cursor))) {
			cli_warn(idw_strerror(IDW_ENOMEM));
			rc = CLI_EXIT_ERR;
			break;
		}
		if ((rc = cli_call(c, req, NULL, &rep)) != 0)
			break;
		page = cJSON_GetObjectItemCaseSensitive(rep.json, "entries");
		cJSON_ArrayForEach(e, page)
		{
			if (want == 0 && emit(o, e) != 0)
				rc = CLI_EXIT_ERR;
			else if (want != 0)
				cJSON_AddItemToArray(newest,
						     cJSON_Duplicate(e, 1));
		}
		next = idw_json_str(rep.json, "next_cursor");
		if (rc != 0 || next == NULL || strcmp(next, cursor) == 0 ||
		    strlen(next) >= sizeof(cursor) ||
		    (want && (size_t)cJSON_GetArraySize(newest) >= want))
			break;
		snprintf(cursor, sizeof(cursor), "%s", next);
		cli_reply_free(&rep);
		cJSON_Delete(req);
		req = NULL;
	}
	for (int i = cJSON_GetArraySize(newest); rc == 0 && i-- > 0;)
		if (emit(o, cJSON_GetArrayItem(newest, i)) != 0)
			rc = CLI_EXIT_ERR;
	cli_reply_free(&rep);
	cJSON_Delete(req);
	cJSON_Delete(newest);
	return rc;
}

#define COLS 7
static const char *const heads[COLS] = {
	"SEQ", "TIME", "PRINCIPAL", "ACTION", "PASSPORT", "RESULT", "DETAIL"};

/* The cells of one row, each escaped for the terminal. */
static int row_cells(const cJSON *e, char **c)
{
	const char *keys[] = {"seq",	"time",	       NULL,
			      "action", "passport_id", "result"};
	const char *actor = idw_json_str(e, "claimed_actor");
	const char *pur = idw_json_str(e, "purpose");
	const char *why = idw_json_str(e, "reason");
	struct idw_buf b;
	char *raw = NULL;
	int r = 0;

	if (actor != NULL && actor[0] == '\0')
		actor = NULL;
	idw_buf_init(&b, 64 * 1024, 0);
	for (int i = 0; i < COLS - 1; i++) {
		if (keys[i] == NULL) {
			idw_buf_reset(&b);
			r = idw_buf_printf(
				&b, "%s%s%s%s",
				idw_json_str(e, "principal")
					? idw_json_str(e, "principal")
					: "-",
				actor ? " (" : "", actor ? actor : "",
				actor ? ")" : "");
			raw = r == 0 ? strndup((const char *)b.d, b.len) : NULL;
		} else {
			raw = cell(e, keys[i]);
		}
		c[i] = raw ? cli_display(raw[0] ? raw : "-") : NULL;
		free(raw);
		if (c[i] == NULL)
			r = IDW_ENOMEM;
	}
	idw_buf_reset(&b);
	if (r == 0 && pur != NULL)
		r = idw_buf_printf(&b, "purpose: %s", pur);
	if (r == 0 && why != NULL)
		r = idw_buf_printf(&b, "%sreason: %s", pur ? "; " : "", why);
	raw = r == 0 ? strndup((const char *)b.d, b.len) : NULL;
	c[COLS - 1] = raw ? cli_display(raw) : NULL;
	free(raw);
	idw_buf_free(&b);
	return r == 0 && c[COLS - 1] != NULL ? 0 : IDW_ENOMEM;
}

static size_t width_of(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static int print_table(const cJSON *all)
{
	size_t rows = (size_t)cJSON_GetArraySize(all), w[COLS];
	char **c = calloc((rows + 1) * COLS, sizeof(*c));
	const cJSON *e;
	size_t i = 1;
	int r = 0;

	if (c == NULL)
		return IDW_ENOMEM;
	for (int k = 0; k < COLS; k++) {
		c[k] = strdup(heads[k]);
		w[k] = strlen(heads[k]);
	}
	cJSON_ArrayForEach(e, all)
	{
		if (r == 0)
			r = row_cells(e, c + i * COLS);
		i++;
	}
	for (size_t k = 0; r == 0 && k < (rows + 1) * COLS; k++)
		if (c[k] != NULL && width_of(c[k]) > w[k % COLS])
			w[k % COLS] = width_of(c[k]);
	for (size_t row = 0; r == 0 && row <= rows; row++)
		for (int k = 0; k < COLS; k++) {
			const char *s = c[row * COLS + (size_t)k];

			if (k == COLS - 1)
				printf("%s\n", s);
			else
				printf("%s%*s  ", s, (int)(w[k] - width_of(s)),
				       "");
		}
	for (size_t k = 0; k < (rows + 1) * COLS; k++)
		free(c[k]);
	free(c);
	return r;
}

static int check_opts(const struct cli_args *a, enum out_kind *kind,
		      size_t *want)
{
	const char *ex = cli_arg_value(a, "export");
	const char *lim = cli_arg_value(a, "limit");
	char *end = NULL;
	long n;

	*kind = cli_arg_set(a, "json") ? OUT_JSON : OUT_TABLE;
	if (ex != NULL && cli_arg_set(a, "json"))
		return usage("--json and --export exclude each other");
	if (ex != NULL && strcmp(ex, "csv") == 0)
		*kind = OUT_EXPORT_CSV;
	else if (ex != NULL && strcmp(ex, "json") == 0)
		*kind = OUT_EXPORT_JSON;
	else if (ex != NULL)
		return usage("--export wants csv or json");
	*want = ex != NULL ? 0 : AUDIT_SHOW_DEFAULT;
	if (lim != NULL) {
		n = strtol(lim, &end, 10);
		if (lim[0] < '0' || lim[0] > '9' || *end != '\0' || n < 1 ||
		    n > AUDIT_LIMIT_MAX)
			return usage("--limit wants a number of entries, at "
				     "least 1");
		*want = (size_t)n;
	}
	return 0;
}

static int audit_verify(const struct cli_args *a);

int cli_audit(const struct cli_args *a)
{
	struct out o = {0};
	struct idwc *c = NULL;
	cJSON *base = NULL, *wrap = NULL;
	size_t want;
	int rc;

	if (cli_arg_pos(a, 0) != NULL &&
	    strcmp(cli_arg_pos(a, 0), "verify") == 0)
		return audit_verify(a);
	if ((rc = check_opts(a, &o.kind, &want)) != 0 ||
	    (rc = base_request(a, &base)) != 0)
		return rc;
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0) {
		cJSON_Delete(base);
		return idw_err_exit(rc);
	}
	if ((wrap = cJSON_CreateObject()) == NULL ||
	    (o.all = cJSON_AddArrayToObject(wrap, "entries")) == NULL) {
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if (o.kind == OUT_EXPORT_CSV && csv_row(NULL) != 0) {
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if (o.kind == OUT_EXPORT_JSON)
		printf("[");
	if ((rc = fetch(c, base, want, &o)) != 0)
		goto out;
	if (o.kind == OUT_EXPORT_JSON)
		printf("%s]\n", o.n ? "\n" : "");
	else if (o.kind == OUT_JSON && cli_print_json_escaped(wrap) != 0)
		rc = CLI_EXIT_ERR;
	else if (o.kind == OUT_TABLE && o.n == 0)
		fprintf(stderr, "no audit entries\n");
	else if (o.kind == OUT_TABLE && print_table(o.all) != 0)
		rc = CLI_EXIT_ERR;
	if (fflush(stdout) != 0) {
		cli_warn("writing to stdout failed");
		rc = CLI_EXIT_ERR;
	}
out:
	if (c != NULL)
		idwc_close(c);
	cJSON_Delete(base);
	cJSON_Delete(wrap);
	return rc;
}

static void print_list(const cJSON *o, const char *key, const char *head)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key), *e;

	cJSON_ArrayForEach(e, arr)
	{
		char *s = cli_display(cJSON_IsString(e) ? e->valuestring : "");

		printf("%s %s\n", head, s ? s : "?");
		free(s);
	}
}

static int audit_verify(const struct cli_args *a)
{
	struct idwc_reply rep = {0};
	const cJSON *ck;
	bool intact;
	int rc;

	if (cli_arg_value(a, "export") || cli_arg_value(a, "limit") ||
	    cli_arg_value(a, "since") || cli_arg_value(a, "until") ||
	    cli_arg_value(a, "principal") || cli_arg_value(a, "action") ||
	    cli_arg_value(a, "result"))
		return usage("idw audit verify takes only --json");
	rc = cli_simple(CLI_CONN_AUTOSTART, cli_request("audit_verify"), NULL,
			&rep);
	if (rc != 0)
		goto out;
	intact = idw_json_bool(rep.json, "intact", false);
	if (cli_arg_set(a, "json")) {
		cJSON_DeleteItemFromObjectCaseSensitive(rep.json, "ok");
		rc = cli_print_json_escaped(rep.json) != 0 ? CLI_EXIT_ERR : 0;
	} else {
		printf("entries          %lld (%lld bytes)\n",
		       (long long)idw_json_int(rep.json, "entries", 0),
		       (long long)idw_json_int(rep.json, "bytes", 0));
		ck = cJSON_GetObjectItemCaseSensitive(rep.json, "checkpoint");
		if (cJSON_IsObject(ck))
			printf("vault checkpoint %lld, for entries up to %lld "
			       "(%s)\n",
			       (long long)idw_json_int(ck, "n", 0),
			       (long long)idw_json_int(ck, "seq", 0),
			       idw_json_bool(ck, "found", false)
				       ? "found in the log"
				       : "NOT in the log");
		else
			printf("vault checkpoint none\n");
		printf("verified through entry %lld; unverified tail %lld\n",
		       (long long)idw_json_int(rep.json, "verified_through", 0),
		       (long long)idw_json_int(rep.json, "unverified_tail", 0));
		print_list(rep.json, "problems", "problem:");
		print_list(rep.json, "notes", "note:   ");
		printf("%s\n", intact ? "the audit trail is intact"
				      : "the audit trail is NOT intact");
	}
	if (rc == 0 && !intact)
		rc = CLI_EXIT_ERR;
out:
	cli_reply_free(&rep);
	return rc;
}
