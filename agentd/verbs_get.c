/* SPDX-License-Identifier: ISC */
/*
 * get and get_proven: a value, through reveal, status, policy, grants and
 * the audit log (docs/protocol.md "Use without reveal").  A "never"
 * passport leaves only to a run profile that pins the variable asked for
 * to it, or with person proof.
 */
#include <stdio.h>
#include <string.h>

#include "agentd/access.h"
#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/grants.h"
#include "agentd/ppref.h"
#include "agentd/profile.h"
#include "common/jsonu.h"
#include "common/wire.h"
#include "sandbox/arena.h"

#define PURPOSE_MAX 1024

/* How a value is asked for: get's and get_proven's optional members. */
struct get_how {
	const char *purpose;
	const char *via;     /* "run", "cli", "env", or NULL */
	const char *var;     /* the variable the value is for, or NULL */
	const char *profile; /* a profile pinning var to the passport */
	bool proven;	     /* get_proven: a person proved presence */
};

static int parse_how(const cJSON *req, bool proven, struct get_how *h,
		     struct reply *rep)
{
	static const char *const vias[] = {"run", "cli", "env"};
	bool via_ok = false;
	int r;

	memset(h, 0, sizeof(*h));
	h->proven = proven;
	if ((r = gov_text(req, "purpose", PURPOSE_MAX, true, &h->purpose,
			  rep)) != 0 ||
	    (r = gov_text(req, "via", 8, false, &h->via, rep)) != 0 ||
	    (r = gov_text(req, "var", PROFILE_VAR_MAX, false, &h->var, rep)) !=
		    0 ||
	    (r = gov_text(req, "profile", PROFILE_NAME_MAX, false, &h->profile,
			  rep)) != 0)
		return r;
	for (size_t i = 0; h->via != NULL && i < 3; i++)
		via_ok |= strcmp(h->via, vias[i]) == 0;
	if (h->via != NULL && !via_ok)
		return reply_error(rep, IDW_EUSAGE, "via is run, cli or env");
	if (h->var != NULL && !profile_var_valid(h->var))
		return reply_error(rep, IDW_EUSAGE,
				   "var must be an environment name (letters, "
				   "digits, _; not IDW_*)");
	if (h->profile != NULL && (h->var == NULL || proven))
		return reply_error(rep, IDW_EUSAGE,
				   "profile goes with var, and only in get");
	return 0;
}

/* What the audit entry adds about how the value left. */
static void how_detail(const struct get_how *h, const char *allowed, char *out,
		       size_t outlen)
{
	snprintf(out, outlen, "%s%s%s%s%s%s%s%s", allowed,
		 h->via ? "; via " : "", h->via ? h->via : "",
		 h->var ? "; var " : "", h->var ? h->var : "",
		 h->profile ? "; profile " : "", h->profile ? h->profile : "",
		 h->proven ? "; person proof" : "");
}

/*
 * A "never" passport leaves only to a profile that pins this variable to
 * it, or to a person who proved presence.  0 when it may go on; else the
 * reply is filled and the refusal audited.
 */
static int gate_reveal(struct agent *a, struct peer *p, const char *ppid,
		       const struct get_how *h, struct reply *rep)
{
	const struct store_item *it = store_find(&a->store, "passport", ppid);
	const struct store_item *prof;
	const char *reveal = idw_json_str(it->meta, "reveal"), *pinned;
	char why[300];

	if (h->profile != NULL) {
		prof = store_find(&a->store, "profile", h->profile);
		pinned = prof != NULL ? profile_var_passport(prof->meta, h->var)
				      : NULL;
		if (prof == NULL)
			snprintf(why, sizeof(why), "no profile %s", h->profile);
		else if (pinned == NULL || strcmp(pinned, ppid) != 0)
			snprintf(why, sizeof(why),
				 "profile %s does not pin %s to %s", h->profile,
				 h->var, ppid);
		else
			return 0;
		(void)access_audit(a, p, ppid, "access", h->purpose, "denied",
				   why);
		return reply_error(rep, IDW_EDENIED,
				   "access to %s denied: %s ('idw profile show "
				   "%s' lists what it pins)",
				   ppid, why, h->profile);
	}
	if (h->proven || reveal == NULL || strcmp(reveal, "never") != 0)
		return 0;
	(void)access_audit(a, p, ppid, "access", h->purpose, "denied",
			   "reveal: never");
	reply_error(rep, IDW_EDENIED,
		    "%s is never revealed (reveal: never): pin it to a "
		    "program with 'idw profile add' or 'idw mcp wrap' and "
		    "start that with 'idw run --profile NAME'; a person can "
		    "read it with 'idw get %s' (person proof)",
		    ppid, ppid);
	if (rep->json != NULL &&
	    (cJSON_AddStringToObject(rep->json, "reveal", "never") == NULL ||
	     cJSON_AddStringToObject(rep->json, "passport_id", ppid) == NULL))
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	return IDW_EDENIED;
}

/* One value asked for: the passport, its gates, what the audit says. */
struct get_one {
	char ppid[STORE_ID_MAX];
	char lease[STORE_ID_MAX];
	char allowed[300];
	const char *var;
	uint8_t *val;
	size_t vlen;
};

/* Find ref and pass it through reveal and policy (nothing opened yet). */
static int get_decide(struct agent *a, struct peer *p, const char *ref,
		      const struct get_how *h, int64_t now, struct get_one *g,
		      struct reply *rep)
{
	struct store_item *it;
	char why[300];
	int r;

	if ((it = ppref_find(&a->store, ref, &r, why, sizeof(why))) == NULL)
		return reply_error(rep, r, "%s", why);
	snprintf(g->ppid, sizeof(g->ppid), "%s", it->id);
	if ((r = gate_reveal(a, p, g->ppid, h, rep)) != 0)
		return r;
	return access_gate(a, p, g->ppid, h->purpose, now, rep, g->lease,
			   g->allowed, sizeof(g->allowed));
}

/* Open the value; its entry is on disk before it leaves, or nothing does. */
static int get_release(struct agent *a, struct peer *p, const struct get_how *h,
		       struct get_one *g, struct reply *rep)
{
	const struct store_item *it =
		store_find(&a->store, "passport", g->ppid);
	struct get_how one = *h;
	char reason[512];
	int r;

	if ((r = store_open_value(it, &g->val, &g->vlen)) != 0)
		return reply_error(rep, r, "the value could not be opened");
	if (g->var != NULL)
		one.var = g->var;
	how_detail(&one, g->allowed, reason, sizeof(reason));
	if (access_audit(a, p, g->ppid, "access", h->purpose, "allowed",
			 reason) != 0)
		return reply_error(rep, IDW_EDENIED,
				   "the audit log could not be written (%s): "
				   "request denied",
				   a->audit.broken ? a->audit.broken_why
						   : "error");
	return 0;
}

static cJSON *passport_brief(struct agent *a, const struct get_one *g)
{
	const struct store_item *it =
		store_find(&a->store, "passport", g->ppid);
	cJSON *pp = cJSON_CreateObject();

	if (pp == NULL || cJSON_AddStringToObject(pp, "id", g->ppid) == NULL ||
	    cJSON_AddStringToObject(pp, "name",
				    idw_json_str(it->meta, "name")) == NULL) {
		cJSON_Delete(pp);
		return NULL;
	}
	return pp;
}

int verb_get(struct agent *a, struct peer *p, const struct verb_args *in,
	     struct reply *rep)
{
	int64_t now = gov_now(a);
	struct get_how how;
	struct get_one g;
	cJSON *o, *pp;
	int r;

	(void)grant_sweep(a, now);
	memset(&g, 0, sizeof(g));
	if ((r = parse_how(in->req, false, &how, rep)) != 0 ||
	    (r = get_decide(a, p, idw_json_str(in->req, "id"), &how, now, &g,
			    rep)) != 0 ||
	    (r = get_release(a, p, &how, &g, rep)) != 0)
		goto fail;
	if ((o = reply_ok(rep)) == NULL ||
	    (pp = passport_brief(a, &g)) == NULL ||
	    !cJSON_AddItemToObject(o, "passport", pp) ||
	    (g.lease[0] &&
	     cJSON_AddStringToObject(o, "grant_id", g.lease) == NULL)) {
		r = reply_error(rep, IDW_ENOMEM, "out of memory");
		goto fail;
	}
	rep->secret = g.val;
	rep->secret_len = g.vlen;
	rep->has_secret = true;
	return 0;
fail:
	idw_arena_free(g.val);
	return r;
}

/*
 * get_proven: a person proved presence, so "never" passports are served
 * too.  "id" asks for one value (the reply as get's); "items" [{id, var}]
 * for up to GET_ITEMS_MAX in one proof (idw env): the reply's
 * "passports" [{id, name, var, length}] say how the secret segment, the
 * values one after another, is cut.  Every value passes policy first;
 * only then is each audited and opened.
 */
#define GET_ITEMS_MAX 64
#define GET_SEGMENT_MAX (IDW_WIRE_MAX_BODY - 128u * 1024u)

static int proven_items(const cJSON *req, const cJSON **items, size_t *n,
			struct reply *rep)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(req, "items"), *e;

	*n = 0;
	if (arr == NULL) {
		items[(*n)++] = req;
		return 0;
	}
	if (cJSON_GetObjectItemCaseSensitive(req, "id") != NULL ||
	    !cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < 1 ||
	    cJSON_GetArraySize(arr) > GET_ITEMS_MAX)
		return reply_error(rep, IDW_EUSAGE,
				   "give id, or items: a list of 1 to %d "
				   "{id, var}",
				   GET_ITEMS_MAX);
	cJSON_ArrayForEach(e, arr)
	{
		const char *var = idw_json_str(e, "var");

		if (!cJSON_IsObject(e) || !idw_json_str_or_absent(e, "var") ||
		    (var != NULL && !profile_var_valid(var)))
			return reply_error(rep, IDW_EUSAGE,
					   "each item is {id, var}, var an "
					   "environment name");
		items[(*n)++] = e;
	}
	return 0;
}

int verb_get_proven(struct agent *a, struct peer *p, const struct verb_args *in,
		    struct reply *rep)
{
	const cJSON *items[GET_ITEMS_MAX];
	struct get_one *g = NULL;
	int64_t now = gov_now(a);
	size_t n = 0, total = 0, off = 0;
	struct get_how how;
	uint8_t *seg = NULL;
	cJSON *o, *arr, *pp;
	int r;

	(void)grant_sweep(a, now);
	if ((r = parse_how(in->req, true, &how, rep)) != 0 ||
	    (r = proven_items(in->req, items, &n, rep)) != 0)
		return r;
	if ((g = idw_arena_calloc(n, sizeof(*g))) == NULL)
		return reply_error(rep, IDW_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		g[i].var = idw_json_str(items[i], "var");
		if ((r = get_decide(a, p, idw_json_str(items[i], "id"), &how,
				    now, &g[i], rep)) != 0)
			goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((r = get_release(a, p, &how, &g[i], rep)) != 0)
			goto out;
		total += g[i].vlen;
	}
	if (total > GET_SEGMENT_MAX) {
		r = reply_error(rep, IDW_ETOOBIG,
				"the values are %zu bytes together, more than "
				"one reply holds: ask for fewer at once",
				total);
		goto out;
	}
	if ((seg = idw_arena_alloc(total > 0 ? total : 1)) == NULL ||
	    (o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "passports")) == NULL) {
		r = reply_error(rep, IDW_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		pp = passport_brief(a, &g[i]);
		if (pp == NULL ||
		    (g[i].var != NULL &&
		     cJSON_AddStringToObject(pp, "var", g[i].var) == NULL) ||
		    cJSON_AddNumberToObject(pp, "length", (double)g[i].vlen) ==
			    NULL ||
		    !cJSON_AddItemToArray(arr, pp)) {
			cJSON_Delete(pp);
			r = reply_error(rep, IDW_ENOMEM, "out of memory");
			goto out;
		}
		memcpy(seg + off, g[i].val, g[i].vlen);
		off += g[i].vlen;
	}
	if (cJSON_GetObjectItemCaseSensitive(in->req, "items") == NULL &&
	    ((pp = passport_brief(a, &g[0])) == NULL ||
	     !cJSON_AddItemToObject(o, "passport", pp))) {
		r = reply_error(rep, IDW_ENOMEM, "out of memory");
		goto out;
	}
	rep->secret = seg;
	rep->secret_len = total;
	rep->has_secret = true;
	seg = NULL;
	r = 0;
out:
	for (size_t i = 0; i < n; i++)
		idw_arena_free(g[i].val);
	idw_arena_free(g);
	idw_arena_free(seg);
	return r;
}
