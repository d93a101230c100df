/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the agent's request dispatcher: dispatch_request,
 * which the agent runs on every request body a client sends, on an agent
 * set up once the way agentd/main.c and verb init set one up (a temporary
 * home, a vault made with IDW_KDF_MIN, the audit key in the vault) and
 * holding a few passports with fixed ids the seeds name
 * (tests/fuzz/seeds/fuzz_dispatch/).
 *
 * Input: byte 0 holds flags, bit 0 meaning "a secret segment follows";
 * then, with a secret, one length byte and up to that many secret bytes;
 * the rest is the JSON text.
 *
 * State carries over from one input to the next, as in a running agent.
 * An input that locked or stopped the agent is undone by an unlock; the
 * whole agent is built afresh when its files or its store pass a bound,
 * so disk use stays small.  After every request: a reply exists, says ok or
 * names an error, is UTF-8, releases a value only through the secret
 * segment, and never carries a known value in its JSON.  The known values
 * hold bytes that are not UTF-8, so no text a request stores can match
 * them by chance.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "agentd/dispatch.h"
#include "agentd/passport.h"
#include "common/idwtime.h"
#include "common/jsonu.h"
#include "sandbox/arena.h"
#include "sandbox/shield.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/lsan_interface.h>
#define HAVE_LSAN 1
#endif
#endif

#define FUZZ_PASS "fuzz-dispatch-passphrase"
#define JOURNAL_MAX (4u * 1024u * 1024u)
#define AUDIT_MAX (8u * 1024u * 1024u)
#define PASSPORTS_MAX 400

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
	const char *id;
	const char *fields;
	const char *value;
} fixtures[] = {
	{"pp_0000000000000001",
	 "\"visa\":{\"type\":\"access\",\"scope\":[\"read\",\"write\"]},"
	 "\"platforms\":[\"openai\"],\"human_owner\":\"alice\"",
	 "sk-fuzz-\xff\xfeVALUE-0001-a8c3e1"},
	{"pp_0000000000000002",
	 "\"reveal\":\"never\",\"access_tier\":\"critical\"",
	 "sk-fuzz-\xff\xfeVALUE-0002-5f27b9"},
	{"pp_0000000000000003", "\"agent_id\":\"claude\"",
	 "sk-fuzz-\xff\xfeVALUE-0003-0d94c6"},
	{"pp_0000000000000004",
	 "\"valid_from\":\"2020-01-01\",\"valid_until\":\"2020-02-01\"",
	 "sk-fuzz-\xff\xfeVALUE-0004-e61f30"},
	{"pp_0000000000000005",
	 "\"visa\":{\"type\":\"privilege\"},\"platforms\":[\"aws\",\"gcp\"],"
	 "\"tags\":[\"prod\"]",
	 "sk-fuzz-\xff\xfeVALUE-0005-9b4a72"},
};
#define NFIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static struct agent A;
static struct peer P;
static char home[64];
static bool ready;

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	fprintf(stderr, "fuzz_dispatch: %s\n", what);
	abort();
}

static void path_in_home(char *out, size_t len, const char *name)
{
	if ((size_t)snprintf(out, len, "%s/%s", home, name) >= len)
		die("path too long");
}

static void add_fixture(size_t i)
{
	char buf[512], why[300];
	cJSON *req, *meta = NULL;

	snprintf(buf, sizeof(buf),
		 "{\"name\":\"fixture %zu\",\"credential_type\":\"api-key\","
		 "%s}",
		 i, fixtures[i].fields);
	if ((req = idw_json_parse(buf, strlen(buf))) == NULL)
		die("fixture JSON");
	if (passport_from_request(req, fixtures[i].id, idw_now(), &meta, why,
				  sizeof(why)) != 0)
		die(why);
	cJSON_Delete(req);
	if (store_put(&A.store, A.vault, "passport", fixtures[i].id, meta,
		      (const uint8_t *)fixtures[i].value,
		      strlen(fixtures[i].value)) != 0)
		die("store_put");
}

/* main.c's start, then what verb init does, with the fastest KDF. */
static void agent_build(void)
{
	uint8_t key[AUDIT_KEY_LEN], *k;
	struct store_item *it;
	char why[300];
	cJSON *meta;
	size_t n;

	memset(&A, 0, sizeof(A));
	snprintf(A.home, sizeof(A.home), "%s", home);
	path_in_home(A.vault_path, sizeof(A.vault_path), "vault.idw");
	path_in_home(A.audit_path, sizeof(A.audit_path), "audit.idw");
	path_in_home(A.sock_path, sizeof(A.sock_path), "agent.sock");
	A.idle_timeout_s = 8 * 3600;
	A.started_ms = idw_boot_ms();
	A.proc_status_fd = -1;
	store_init(&A.store);
	audit_init(&A.audit);
	if (idw_vault_open(A.vault_path, &A.vault) != 0 ||
	    audit_open(&A.audit, A.audit_path) != 0)
		die("open");
	if (idw_shield_init() != 0 ||
	    idw_vault_init(A.vault, (const uint8_t *)FUZZ_PASS,
			   strlen(FUZZ_PASS), IDW_KDF_MIN) != 0)
		die("vault init");
	randombytes_buf(key, sizeof(key));
	if ((meta = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(meta, "purpose", "audit log key") == NULL ||
	    store_put(&A.store, A.vault, "config", "audit_key", meta, key,
		      sizeof(key)) != 0)
		die("audit key");
	it = store_find(&A.store, "config", "audit_key");
	if (it == NULL || store_open_value(it, &k, &n) != 0)
		die("audit key");
	if (audit_unlock(&A.audit, k, why, sizeof(why)) != 0)
		die(why);
	idw_arena_free(k);
	sodium_memzero(key, sizeof(key));
	A.locked = false;
	A.unlock_source = "init";
	for (size_t i = 0; i < NFIXTURES; i++)
		add_fixture(i);
	/* One passport that is already suspended. */
	{
		static const char susp[] =
			"{\"verb\":\"suspend\",\"id\":\"pp_0000000000000005\"}";
		struct reply rep;

		memset(&rep, 0, sizeof(rep));
		dispatch_request(&A, &P, susp, strlen(susp), NULL, 0, false,
				 &rep);
		if (!cJSON_IsTrue(cJSON_GetObjectItem(rep.json, "ok")))
			die("suspend fixture");
		cJSON_Delete(rep.json);
	}
}

static void agent_teardown(void)
{
	char path[300];

	agent_lock(&A);
	idw_vault_close(A.vault);
	A.vault = NULL;
	audit_close(&A.audit);
	unlink(A.vault_path);
	unlink(A.audit_path);
	path_in_home(path, sizeof(path), "vault.idw.tmp");
	unlink(path);
}

/*
 * Shielded values are malloc'd, but the only pointers to them live in the
 * store's item array, which is arena memory (mmap'd, never scanned by
 * LeakSanitizer).  Values still in the store are reachable; one that
 * left the store without being freed is still reported.
 */
static void store_values_reachable(void)
{
#ifdef HAVE_LSAN
	for (size_t i = 0; i < A.store.n; i++)
		if (A.store.items[i].value != NULL)
			__lsan_ignore_object(A.store.items[i].value);
#endif
}

static void cleanup(void)
{
	agent_teardown();
	rmdir(home);
}

static void setup_once(void)
{
	if (idw_arena_init(IDW_ARENA_ALLOW_UNLOCKED) != 0)
		die("arena");
	idw_arena_cjson_hooks();
	snprintf(home, sizeof(home), "/tmp/idw-fuzz-dispatch-XXXXXX");
	if (mkdtemp(home) == NULL)
		die("mkdtemp");
	snprintf(P.principal, sizeof(P.principal), "local");
	snprintf(P.claimed_actor, sizeof(P.claimed_actor), "fuzzer");
	P.hello_done = true;
	agent_build();
	store_values_reachable();
	atexit(cleanup);
	ready = true;
}

/* Undo what an input did to the agent's life, keep what it stored. */
static void restore(void)
{
	char why[400];

	A.stopping = false;
	if (A.locked && agent_unlock(&A, (const uint8_t *)FUZZ_PASS,
				     strlen(FUZZ_PASS), why, sizeof(why)) != 0)
		die(why);
	if (idw_vault_journal_size(A.vault) > JOURNAL_MAX ||
	    A.audit.end > AUDIT_MAX ||
	    store_count(&A.store, "passport") > PASSPORTS_MAX ||
	    A.audit.broken) {
		agent_teardown();
		agent_build();
	}
	store_values_reachable();
}

static void check_reply(const struct reply *rep)
{
	const cJSON *ok;
	char *txt;

	if (rep->json == NULL)
		die("no reply");
	ok = cJSON_GetObjectItem(rep->json, "ok");
	if (!cJSON_IsBool(ok))
		die("reply without ok");
	if (cJSON_IsFalse(ok)) {
		const char *code = idw_json_str(rep->json, "code");

		if (code == NULL || idw_json_str(rep->json, "message") == NULL)
			die("error reply without code or message");
		if (idw_err_from_name(code) == IDW_ERR &&
		    strcmp(code, "error") != 0)
			die("unknown error code");
		if (rep->has_secret || rep->secret != NULL)
			die("a refusal that carries a secret");
	}
	if (rep->has_secret && (rep->secret == NULL || rep->secret_len == 0 ||
				!idw_arena_owns(rep->secret)))
		die("a secret outside the arena");
	if (!rep->has_secret && (rep->secret != NULL || rep->secret_len != 0))
		die("secret bytes without has_secret");
	if ((txt = cJSON_PrintUnformatted(rep->json)) == NULL)
		die("reply does not print");
	if (!idw_utf8_valid((const uint8_t *)txt, strlen(txt)))
		die("reply is not UTF-8");
	for (size_t i = 0; i < NFIXTURES; i++)
		if (strstr(txt, fixtures[i].value) != NULL)
			die("a value in the reply JSON");
	cJSON_free(txt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *secret = NULL;
	uint8_t *sec = NULL;
	size_t slen = 0, off = 1;
	struct idw_arena_stats before, after;
	bool has_secret;
	struct reply rep;
	uint64_t jlen;
	char *json;

	if (size < 1)
		return 0;
	if (!ready)
		setup_once();
	has_secret = data[0] & 1;
	if (has_secret) {
		if (size < 2)
			return 0;
		slen = data[1];
		off = 2;
		if (slen > size - off)
			slen = size - off;
		secret = data + off;
		off += slen;
	}
	/* Exact-size copies: a read past either end is caught. */
	if ((json = malloc(size - off ? size - off : 1)) == NULL)
		return 0;
	memcpy(json, data + off, size - off);
	if (has_secret && (sec = malloc(slen ? slen : 1)) != NULL) {
		memcpy(sec, secret, slen);
		secret = sec;
	}
	idw_arena_stats(&before);
	jlen = idw_vault_journal_size(A.vault);
	memset(&rep, 0, sizeof(rep));
	dispatch_request(&A, &P, json, size - off, secret, slen, has_secret,
			 &rep);
	check_reply(&rep);
	idw_arena_free(rep.secret);
	cJSON_Delete(rep.json);
	free(json);
	free(sec);
	/*
	 * The arena is invisible to LeakSanitizer: a request that changed
	 * nothing stored must give back every arena byte it took.
	 */
	idw_arena_stats(&after);
	if (!A.locked && idw_vault_journal_size(A.vault) == jlen &&
	    after.in_use != before.in_use)
		die("arena memory leaked by a request");
	restore();
	return 0;
}
