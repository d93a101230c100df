/* SPDX-License-Identifier: ISC */
/*
 * A person's side of grants: list them, approve one (person proof: the
 * signed request names the grant and its passport), deny one, end a
 * lease; and the answer idw-mcp relays from an MCP elicitation, which
 * only a person's 'idw config set approval.elicitation on' lets approve.
 * A token principal sees and answers only its own grants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentd/dispatch.h"
#include "agentd/gov.h"
#include "agentd/grants.h"
#include "common/idwtime.h"
#include "common/jsonu.h"

#define REASON_MAX 1024
#define PAGE_BYTES (512u * 1024u)

static const char *str(const cJSON *o, const char *key)
{
	const char *s = idw_json_str(o, key);

	return s != NULL ? s : "";
}

/* The grant named by req's "id" that p may see, or NULL (reply set). */
static struct store_item *find_grant(struct agent *a, struct peer *p,
				     const cJSON *req, struct reply *rep)
{
	const char *id = idw_json_str(req, "id");
	struct store_item *g;

	if (!grant_id_valid(id)) {
		reply_error(rep, IDW_EUSAGE,
			    "a grant id (gr_ and 16 hex digits) is required");
		return NULL;
	}
	g = store_find(&a->store, "grant", id);
	if (g == NULL || (gov_is_token(p) && strcmp(str(g->meta, "principal"),
						    p->principal) != 0)) {
		reply_error(rep, IDW_ENOENT, "no grant %s", id);
		return NULL;
	}
	return g;
}

static int audit_grant(struct agent *a, struct peer *p, const cJSON *g,
		       const char *result, const char *reason)
{
	return gov_audit(a, p->principal, p->claimed_actor,
			 store_find(&a->store, "passport", str(g, "passport")),
			 "approval", str(g, "purpose"), result, reason);
}

static int reply_grant(struct agent *a, struct reply *rep, const char *id,
		       int64_t now)
{
	const struct store_item *g = store_find(&a->store, "grant", id);
	cJSON *o = reply_ok(rep), *v;

	if (o == NULL || g == NULL || (v = grant_view(a, g->meta, now)) == NULL)
		return IDW_ENOMEM;
	cJSON_AddItemToObject(o, "grant", v);
	cJSON_AddStringToObject(o, "grant_id", id);
	cJSON_AddStringToObject(o, "status", str(v, "status"));
	cJSON_AddStringToObject(o, "expires_at", str(v, "expires_at"));
	return 0;
}

static int by_created(const void *x, const void *y)
{
	const cJSON *a = *(const cJSON *const *)x;
	const cJSON *b = *(const cJSON *const *)y;
	int c = strcmp(str(a, "created_at"), str(b, "created_at"));

	return c != 0 ? c : strcmp(str(a, "id"), str(b, "id"));
}

/*
 * Oldest first, a page at a time: a page ends before its printed size
 * would pass PAGE_BYTES (purposes and scopes are long at worst), and
 * next_cursor says where the next one starts.
 */
int verb_grants(struct agent *a, struct peer *p, const struct verb_args *in,
		struct reply *rep)
{
	int64_t now = gov_now(a);
	const char *status = idw_json_str(in->req, "status");
	const char *id = idw_json_str(in->req, "id");
	const char *cursor = idw_json_str(in->req, "cursor");
	const cJSON **sel;
	size_t n = 0, from = 0, bytes = 0, i;
	cJSON *o, *arr;
	int r = 0;

	(void)grant_sweep(a, now);
	if (cursor != NULL) {
		char *end = NULL;
		unsigned long long c = strtoull(cursor, &end, 10);

		if (end == cursor || *end != '\0')
			return reply_error(rep, IDW_EUSAGE, "bad cursor");
		from = (size_t)c;
	}
	if ((sel = calloc(a->store.n + 1, sizeof(*sel))) == NULL)
		return IDW_ENOMEM;
	for (i = 0; i < a->store.n; i++) {
		const struct store_item *it = &a->store.items[i];

		if (strcmp(it->kind, "grant") != 0 ||
		    (gov_is_token(p) &&
		     strcmp(str(it->meta, "principal"), p->principal) != 0) ||
		    (id != NULL && strcmp(it->id, id) != 0) ||
		    (status != NULL &&
		     strcmp(grant_status(it->meta, now), status) != 0))
			continue;
		sel[n++] = it->meta;
	}
	qsort(sel, n, sizeof(*sel), by_created);
	if ((o = reply_ok(rep)) == NULL ||
	    (arr = cJSON_AddArrayToObject(o, "grants")) == NULL) {
		r = IDW_ENOMEM;
		goto out;
	}
	for (i = from; i < n; i++) {
		cJSON *v = grant_view(a, sel[i], now);
		char *txt = v != NULL ? idw_json_print(v) : NULL;

		if (txt == NULL) {
			cJSON_Delete(v);
			r = IDW_ENOMEM;
			goto out;
		}
		bytes += strlen(txt);
		cJSON_free(txt);
		if (i > from && bytes > PAGE_BYTES) {
			char next[32];

			cJSON_Delete(v);
			snprintf(next, sizeof(next), "%zu", i);
			cJSON_AddStringToObject(o, "next_cursor", next);
			break;
		}
		if (!cJSON_AddItemToArray(arr, v)) {
			cJSON_Delete(v);
			r = IDW_ENOMEM;
			goto out;
		}
	}
out:
	free(sel);
	return r;
}

/* Refuse unless the grant is pending; the reply says what it is. */
static int must_be_pending(const struct store_item *g, int64_t now,
			   struct reply *rep)
{
	const char *st = grant_status(g->meta, now);

	if (strcmp(st, "pending") == 0)
		return 0;
	return reply_error(
		rep, strcmp(st, "expired") == 0 ? IDW_EDENIED : IDW_EEXIST,
		"grant %s is %s, not pending", g->id, st);
}

int verb_approve(struct agent *a, struct peer *p, const struct verb_args *in,
		 struct reply *rep)
{
	int64_t now = gov_now(a), ttl;
	const char *passport = idw_json_str(in->req, "passport");
	const char *reason = NULL;
	struct grant_decision d = {.status = "approved", .via = "cli"};
	struct store_item *g, *pp;
	struct policy_result pr;
	char id[STORE_ID_MAX], why[512];
	int r;

	(void)grant_sweep(a, now);
	if ((g = find_grant(a, p, in->req, rep)) == NULL)
		return IDW_ENOENT;
	if ((r = must_be_pending(g, now, rep)) != 0)
		return r;
	/* The proof covers the request, so both ids are what was signed. */
	if (passport == NULL || strcmp(passport, str(g->meta, "passport")) != 0)
		return reply_error(rep, IDW_EUSAGE,
				   "grant %s is for passport %s: the request "
				   "must name it",
				   g->id, str(g->meta, "passport"));
	if ((r = gov_text(in->req, "reason", REASON_MAX, false, &reason,
			  rep)) != 0)
		return r;
	ttl = idw_json_int(in->req, "ttl_s", GRANT_TTL_DEFAULT_S);
	if (ttl < 1 || ttl > gov_max_ttl(a))
		return reply_error(rep, IDW_EUSAGE,
				   "the TTL must be from 1 s to %lld s "
				   "(approval.max_ttl)",
				   (long long)gov_max_ttl(a));
	if (gov_clock_back(a, now))
		return reply_error(rep, IDW_EDENIED,
				   "clock went backwards: no lease can be "
				   "timed now");
	if ((pp = store_find(&a->store, "passport", passport)) == NULL)
		return reply_error(rep, IDW_ENOENT, "no passport %s", passport);
	if ((r = gov_decide(a, pp->meta, str(g->meta, "principal"), now,
			    &pr)) != 0)
		return reply_error(rep, r, "policy evaluation failed");
	snprintf(why, sizeof(why), "%s", pr.reason);
	policy_result_free(&pr);
	if (pr.effect == POLICY_DENY)
		return reply_error(rep, IDW_EDENIED, "policy now denies %s: %s",
				   passport, why);
	snprintf(id, sizeof(id), "%s", g->id);
	d.by = p->principal;
	d.reason = reason;
	d.ttl_s = ttl;
	d.expires_at = now + ttl;
	if ((r = grant_decide(a, id, &d, now)) != 0)
		return reply_error(rep, r, "saving the approval failed: %s",
				   idw_strerror(r));
	g = store_find(&a->store, "grant", id);
	snprintf(why, sizeof(why), "grant %s for %s approved for %lld s%s%s",
		 id, str(g->meta, "principal"), (long long)ttl,
		 reason ? ": " : "", reason ? reason : "");
	(void)audit_grant(a, p, g->meta, "approved", why);
	return reply_grant(a, rep, id, now);
}

int verb_deny(struct agent *a, struct peer *p, const struct verb_args *in,
	      struct reply *rep)
{
	int64_t now = gov_now(a);
	struct grant_decision d = {.status = "denied", .via = "cli"};
	const char *reason = NULL;
	struct store_item *g;
	char id[STORE_ID_MAX], why[512];
	int r;

	(void)grant_sweep(a, now);
	if ((g = find_grant(a, p, in->req, rep)) == NULL)
		return IDW_ENOENT;
	if ((r = gov_text(in->req, "reason", REASON_MAX, true, &reason, rep)) !=
		    0 ||
	    (r = must_be_pending(g, now, rep)) != 0)
		return r;
	snprintf(id, sizeof(id), "%s", g->id);
	d.by = p->principal;
	d.reason = reason;
	d.by_person = true;
	d.expires_at = now + GRANT_BLOCK_S;
	if ((r = grant_decide(a, id, &d, now)) != 0)
		return reply_error(rep, r, "saving the denial failed: %s",
				   idw_strerror(r));
	g = store_find(&a->store, "grant", id);
	snprintf(why, sizeof(why), "grant %s for %s denied by a person: %s", id,
		 str(g->meta, "principal"), reason);
	(void)audit_grant(a, p, g->meta, "denied", why);
	return reply_grant(a, rep, id, now);
}

int verb_grants_revoke(struct agent *a, struct peer *p,
		       const struct verb_args *in, struct reply *rep)
{
	int64_t now = gov_now(a);
	struct grant_decision d = {.status = "revoked", .via = "cli"};
	struct store_item *g;
	const char *st;
	char id[STORE_ID_MAX], why[160];
	int r;

	(void)grant_sweep(a, now);
	if ((g = find_grant(a, p, in->req, rep)) == NULL)
		return IDW_ENOENT;
	st = grant_status(g->meta, now);
	if (strcmp(st, "approved") != 0 && strcmp(st, "pending") != 0)
		return reply_error(rep, IDW_EEXIST, "grant %s is already %s",
				   g->id, st);
	snprintf(id, sizeof(id), "%s", g->id);
	d.by = p->principal;
	d.expires_at = now;
	if ((r = grant_decide(a, id, &d, now)) != 0)
		return reply_error(rep, r, "saving failed: %s",
				   idw_strerror(r));
	g = store_find(&a->store, "grant", id);
	snprintf(why, sizeof(why), "grant %s (%s) revoked", id, st);
	(void)gov_audit(
		a, p->principal, p->claimed_actor,
		store_find(&a->store, "passport", str(g->meta, "passport")),
		"grant revocation", NULL, "revoked", why);
	return reply_grant(a, rep, id, now);
}

static const char *const answers[] = {"accept",	 "decline",	"cancel",
				      "timeout", "unsupported", NULL};

/*
 * The person's answer to an elicitation, relayed by idw-mcp.  Only
 * "accept" widens access: it needs approval.elicitation on, a grant of
 * the principal asking, and a passport that is not critical.  Every
 * other answer denies the grant; a "decline" is a person's no and holds
 * like 'idw deny'.
 */
int verb_elicitation_answer(struct agent *a, struct peer *p,
			    const struct verb_args *in, struct reply *rep)
{
	int64_t now = gov_now(a), ttl;
	const char *ans = idw_json_str(in->req, "answer");
	struct grant_decision d = {.via = "elicitation"};
	struct store_item *g, *pp;
	struct policy_result pr;
	char id[STORE_ID_MAX], why[512];
	size_t k;
	int r;

	(void)grant_sweep(a, now);
	for (k = 0; answers[k] != NULL; k++)
		if (ans != NULL && strcmp(ans, answers[k]) == 0)
			break;
	if (answers[k] == NULL)
		return reply_error(rep, IDW_EUSAGE,
				   "answer must be accept, decline, cancel, "
				   "timeout or unsupported");
	if ((g = find_grant(a, p, in->req, rep)) == NULL)
		return IDW_ENOENT;
	/* Bound to the principal that asked, whatever connection relays. */
	if (strcmp(str(g->meta, "principal"), p->principal) != 0)
		return reply_error(
			rep, IDW_EDENIED,
			"grant %s was asked for by another principal", g->id);
	if ((r = must_be_pending(g, now, rep)) != 0)
		return r;
	snprintf(id, sizeof(id), "%s", g->id);
	pp = store_find(&a->store, "passport", str(g->meta, "passport"));
	d.by = p->principal;
	if (k != 0) {
		d.status = "denied";
		d.by_person = k == 1;
		d.expires_at = k == 1 ? now + GRANT_BLOCK_S : now;
		snprintf(why, sizeof(why), "elicitation: %s", ans);
		d.reason = why;
	} else {
		ttl = idw_json_int(in->req, "ttl_s", GRANT_TTL_DEFAULT_S);
		if (!gov_elicitation_on(a))
			return reply_error(
				rep, IDW_EDENIED,
				"approval by elicitation is off: the person "
				"approves with 'idw approve %s' (or turns it "
				"on "
				"with 'idw config set %s on')",
				id, GOV_ELICITATION);
		if (pp == NULL ||
		    strcmp(str(pp->meta, "access_tier"), "critical") == 0)
			return reply_error(rep, IDW_EDENIED,
					   "a critical passport is approved "
					   "only with 'idw approve %s'",
					   id);
		if (ttl < 1 || ttl > gov_max_ttl(a))
			return reply_error(rep, IDW_EUSAGE,
					   "ttl_s must be from 1 to %lld",
					   (long long)gov_max_ttl(a));
		if (gov_clock_back(a, now))
			return reply_error(rep, IDW_EDENIED,
					   "clock went backwards: no lease "
					   "can be timed now");
		if ((r = gov_decide(a, pp->meta, p->principal, now, &pr)) != 0)
			return reply_error(rep, r, "policy evaluation failed");
		snprintf(why, sizeof(why), "%s", pr.reason);
		policy_result_free(&pr);
		if (pr.effect == POLICY_DENY)
			return reply_error(rep, IDW_EDENIED,
					   "policy now denies it: %s", why);
		d.status = "approved";
		d.ttl_s = ttl;
		d.expires_at = now + ttl;
		d.reason = "approved by the person through MCP elicitation";
	}
	if ((r = grant_decide(a, id, &d, now)) != 0)
		return reply_error(rep, r, "saving the answer failed: %s",
				   idw_strerror(r));
	g = store_find(&a->store, "grant", id);
	snprintf(why, sizeof(why),
		 "grant %s for %s %s through elicitation (%s)", id,
		 p->principal, d.status, ans);
	(void)audit_grant(a, p, g->meta, d.status, why);
	return reply_grant(a, rep, id, now);
}
