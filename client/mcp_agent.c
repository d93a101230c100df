/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/mcp_server.h"
#include "client/mcp_tools.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/harden.h"
#include "sandbox/seccomp.h"

/*
 * The agent as seen from idw-mcp.  The connection is made on the first
 * call that needs it, so initialize answers at once even when the agent
 * must be started or cannot unlock; a call that cannot reach the agent
 * becomes a tool error saying why, and the next call tries again.
 *
 * Once connected, a sandboxed idw-mcp installs its seccomp filter: from
 * then on it cannot exec, fork or open a socket, so a lost connection is
 * final and every later call says so at once.
 */
#define MCP_AGENT_START_MS 3000
#define MCP_NOFILE 32

struct mcp_agent {
	struct idwc *c;
	bool sandbox;	/* filter after the first connect */
	bool sandboxed; /* the filter is in place */
	bool lost;	/* connection lost inside the filter */
	int reply_ms;	/* bound on each wait for the agent */
	struct idwc_wait wait;
	char actor[128];
	char why[1024];
	uint8_t *token; /* sodium_malloc: IDW_SESSION_TOKEN, env wiped */
	size_t token_len;
};

/*
 * Take IDW_SESSION_TOKEN out of the environment into locked memory: it
 * names this server to the agent at every hello, and unlocks an agent
 * this server starts.  The environment copy is wiped and unset.
 */
static void take_token(struct mcp_agent *a)
{
	char *t = getenv("IDW_SESSION_TOKEN");
	size_t n = t ? strlen(t) : 0;

	if (n > 0 && n <= 512 && (a->token = sodium_malloc(n)) != NULL) {
		memcpy(a->token, t, n);
		a->token_len = n;
	}
	if (t != NULL)
		sodium_memzero(t, n);
	unsetenv("IDW_SESSION_TOKEN");
}

struct mcp_agent *mcp_agent_new(bool sandbox, int reply_ms)
{
	struct mcp_agent *a = calloc(1, sizeof(struct mcp_agent));

	if (a != NULL) {
		a->sandbox = sandbox;
		a->reply_ms = reply_ms;
		a->wait.reply_ms = reply_ms;
		a->wait.watch_fd = -1;
		if (sandbox)
			take_token(a);
	}
	return a;
}

void mcp_agent_free(struct mcp_agent *a)
{
	if (a == NULL)
		return;
	idwc_close(a->c);
	if (a->token != NULL)
		sodium_free(a->token);
	free(a);
}

static void agent_set_actor(void *ctx, const char *actor)
{
	struct mcp_agent *a = ctx;

	snprintf(a->actor, sizeof(a->actor), "%s", actor);
}

static void agent_set_watch(void *ctx, int fd, int (*fn)(void *arg), void *arg)
{
	struct mcp_agent *a = ctx;

	a->wait.watch_fd = fd;
	a->wait.on_watch = fn;
	a->wait.ctx = arg;
	if (a->c != NULL)
		idwc_set_wait(a->c, &a->wait);
}

static void agent_set_until(void *ctx, uint64_t until_ms)
{
	struct mcp_agent *a = ctx;

	a->wait.until_ms = until_ms;
	a->wait.watch_fd = -1; /* nothing more to read */
	if (a->c != NULL)
		idwc_set_wait(a->c, &a->wait);
}

static const char *agent_why(void *ctx)
{
	struct mcp_agent *a = ctx;

	return a->why[0] ? a->why : "the agent could not be reached";
}

/* Failure to harden is fatal: never serve values without it. */
static void sandbox(struct mcp_agent *a)
{
	char why[256] = "";

	if (!a->sandbox || a->sandboxed)
		return;
	if (idw_harden_rlimits(MCP_NOFILE, why, sizeof(why)) != 0 ||
	    idw_seccomp_mcp() != 0) {
		fprintf(stderr, "idw-mcp: cannot sandbox itself: %s\n",
			why[0] ? why : "installing the seccomp filter failed");
		exit(1);
	}
	a->sandboxed = true;
}

static int agent_connect(struct mcp_agent *a)
{
	struct idwc_opts o = {
		.client_name = "idw-mcp",
		.claimed_actor = a->actor[0] ? a->actor : NULL,
		.autostart = true,
		.start_timeout_ms = MCP_AGENT_START_MS,
		.reply_timeout_ms = a->reply_ms,
		.token = a->token,
		.token_len = a->token_len,
	};
	char why[768] = "";
	bool no_source = false;
	uint64_t now = idw_boot_ms();
	int r;

	/* After stdin closed, only what is left of its grace. */
	if (a->wait.until_ms != 0) {
		if (now >= a->wait.until_ms) {
			snprintf(a->why, sizeof(a->why),
				 "The client closed idw-mcp's input: no new "
				 "connection to the idw agent is made.");
			return IDW_EAGENT;
		}
		if (a->wait.until_ms - now < (uint64_t)o.start_timeout_ms)
			o.start_timeout_ms = (int)(a->wait.until_ms - now);
		if (a->wait.until_ms - now < (uint64_t)a->reply_ms)
			o.reply_timeout_ms = (int)(a->wait.until_ms - now);
	}
	r = idwc_connect(&o, &a->c, why, sizeof(why), &no_source);
	if (r == 0) {
		idwc_set_wait(a->c, &a->wait);
		sandbox(a);
		return 0;
	}
	a->c = NULL;
	if (why[0] == '\0')
		snprintf(why, sizeof(why), "%s", idw_strerror(r));
	if (r == IDW_EUNLOCK)
		snprintf(a->why, sizeof(a->why),
			 "The idw agent could not unlock the vault: %s. The "
			 "person can run 'idw auth login' (or give this "
			 "server IDW_SESSION_TOKEN), then call the tool again.",
			 why);
	else if (r == IDW_EPERM)
		snprintf(a->why, sizeof(a->why),
			 "The idw agent was refused: %s. The person should "
			 "check IDW_HOME and IDW_SOCKET.",
			 why);
	else
		snprintf(a->why, sizeof(a->why),
			 "The idw agent could not be reached or started: %s. "
			 "The person can run 'idw agent status' to see why; "
			 "call the tool again once it runs.",
			 why);
	fprintf(stderr, "idw-mcp: %s\n", a->why);
	return r;
}

/*
 * The connection is gone, or the agent did not answer in time.  A late
 * answer is skipped by the next call, so a slow agent costs only the
 * calls it kept waiting; a closed one is final inside the sandbox.
 */
static void agent_failed(struct mcp_agent *a, int r, uint64_t took)
{
	bool timed_out = r == IDW_EAGENT && a->reply_ms > 0 &&
			 took >= (uint64_t)a->reply_ms;

	if (timed_out) {
		snprintf(a->why, sizeof(a->why),
			 "The idw agent did not answer within %d ms "
			 "(IDW_MCP_TIMEOUT). It may be busy or stopped: the "
			 "person can run 'idw agent status'. Call the tool "
			 "again in a moment.",
			 a->reply_ms);
		fprintf(stderr, "idw-mcp: %s\n", a->why);
		return;
	}
	idwc_close(a->c);
	a->c = NULL;
	a->lost = a->sandboxed;
	snprintf(a->why, sizeof(a->why),
		 "The connection to the idw agent was lost: it was stopped "
		 "or it exited (%s). %s",
		 idw_strerror(r),
		 a->lost ? "idw-mcp cannot reconnect from inside its "
			   "sandbox: the person should restart this MCP "
			   "server from their MCP client (reload the server "
			   "or restart the client); it starts the agent "
			   "again, and 'idw agent status' shows it runs."
			 : "Call the tool again: it starts the agent if "
			   "needed.");
	fprintf(stderr, "idw-mcp: %s\n", a->why);
}

static int agent_call(void *ctx, const cJSON *req, struct idwc_reply *rep)
{
	struct mcp_agent *a = ctx;
	uint64_t t0;
	int r;

	memset(rep, 0, sizeof(*rep));
	if (a->lost)
		return IDW_EAGENT; /* why still says what happened */
	a->why[0] = '\0';
	if (a->c == NULL && (r = agent_connect(a)) != 0)
		return r;
	t0 = idw_boot_ms();
	idwc_set_wait(a->c, &a->wait); /* re-arm a watch a full buffer ended */
	r = idwc_call(a->c, req, NULL, 0, false, rep);
	if (r != 0 && r != IDW_ENOMEM)
		agent_failed(a, r, idw_boot_ms() - t0);
	return r;
}

const struct mcp_backend mcp_agent_backend = {
	.call = agent_call,
	.why = agent_why,
	.set_actor = agent_set_actor,
	.set_watch = agent_set_watch,
	.set_until = agent_set_until,
};

/* What the model should do about an agent's refusal, by its code. */
static const struct {
	int err;
	const char *hint;
} hints[] = {
	{IDW_ENOENT, "list_passports shows the passports that exist."},
	{IDW_EDENIED, "check_policy shows which rule decides; request_access "
		      "asks the person for approval."},
	{IDW_EPENDING, "A person must approve it with 'idw approve'; try "
		       "again after they have."},
	{IDW_ELOCKED, "The person must run 'idw unlock'."},
	{IDW_ENOVAULT, "The person must create a vault with 'idw init'."},
	{IDW_EUNLOCK, "The person must unlock idw ('idw unlock' or 'idw auth "
		      "login')."},
	{IDW_EUSAGE, "Check the arguments against the tool's input schema."},
	{IDW_EPROOF, "Only the person can do this, with the idw command "
		     "line."},
};

int mcp_agent_call(struct mcp_server *s, const struct mcp_req *rq, cJSON *req,
		   struct idwc_reply *rep, char *why, size_t whylen)
{
	const char *hint = "", *verb;
	char vb[32];
	uint64_t t0 = idw_boot_ms();
	int r;

	memset(rep, 0, sizeof(*rep));
	if (req == NULL)
		return IDW_ENOMEM;
	verb = idw_json_str(req, "verb");
	snprintf(vb, sizeof(vb), "%s", verb != NULL ? verb : "?");
	r = s->be->call(s->be_ctx, req, rep);
	cJSON_Delete(req);
	if (r == IDW_ENOMEM) {
		idwc_reply_free(rep);
		return r;
	}
	if (r != 0) {
		idwc_reply_free(rep);
		rep->err = IDW_EAGENT;
		snprintf(why, whylen, "%s", s->be->why(s->be_ctx));
		mcp_log(s, rq, 4, "%s", why);
		return 1;
	}
	mcp_log(s, rq, 0, "agent: %s answered %s in %llu ms", vb,
		rep->ok ? "ok" : idw_err_name(rep->err),
		(unsigned long long)(idw_boot_ms() - t0));
	if (rep->ok)
		return 0;
	if (rep->err == 0)
		rep->err = IDW_ERR;
	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (hints[i].err == rep->err)
			hint = hints[i].hint;
	snprintf(why, whylen, "%s (%s).%s%s",
		 rep->message ? rep->message : idw_strerror(rep->err),
		 idw_err_name(rep->err), hint[0] ? " " : "", hint);
	mcp_utf8_trim(why);
	return 1;
}
