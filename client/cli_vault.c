/* SPDX-License-Identifier: ISC */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli.h"
#include "client/cli_input.h"
#include "client/cli_proof.h"
#include "common/jsonu.h"
#include "common/paths.h"
#include "keychain/keychain.h"

/*
 * The vault key's lifecycle, the person's half: 'idw passwd' and 'idw
 * vault rekey' (docs/protocol.md "Vault key").  The CLI lists the
 * unlocking slots a rekey drops and asks before it; it hands the
 * passphrase to the agent (which wraps the new key with it) and signs the
 * person proof; the agent does the rest.
 */

/* What a rekey drops, as rekey_plan says: the ids go back with it. */
struct plan {
	cJSON *ids; /* array of strings */
	size_t n;
	bool keychain; /* the keychain slot is among them */
};

static void plan_free(struct plan *p)
{
	cJSON_Delete(p->ids);
	memset(p, 0, sizeof(*p));
}

static void print_slot(FILE *f, const cJSON *s)
{
	const char *kind = idw_json_str(s, "kind");
	char *id = cli_display(idw_json_str(s, "id"));
	char *label = cli_display(idw_json_str(s, "label"));

	if (kind != NULL && strcmp(kind, "token") == 0)
		fprintf(f, "  token '%s' (%s)\n", label ? label : "",
			id ? id : "");
	else if (kind != NULL && strcmp(kind, "keychain") == 0)
		fprintf(f, "  the OS keychain (idw auth login)%s\n",
			idw_json_bool(s, "pending", false) ? ", pending" : "");
	else
		fprintf(f, "  a slot of a kind this idw does not know (%s)\n",
			id ? id : "");
	free(id);
	free(label);
}

static int plan_get(struct idwc *c, struct plan *p)
{
	struct idwc_reply rep = {0};
	const cJSON *drop, *s;
	cJSON *req = cli_request("rekey_plan");
	int rc;

	memset(p, 0, sizeof(*p));
	if (req == NULL || (p->ids = cJSON_CreateArray()) == NULL) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	rc = cli_call(c, req, NULL, &rep);
	cJSON_Delete(req);
	if (rc != 0)
		goto out;
	drop = cJSON_GetObjectItemCaseSensitive(rep.json, "drop");
	cJSON_ArrayForEach(s, drop)
	{
		const char *id = idw_json_str(s, "id");
		const char *kind = idw_json_str(s, "kind");

		if (id == NULL ||
		    !cJSON_AddItemToArray(p->ids, cJSON_CreateString(id))) {
			cli_warn("the agent's list of slots is malformed");
			rc = CLI_EXIT_ERR;
			goto out;
		}
		if (kind != NULL && strcmp(kind, "keychain") == 0)
			p->keychain = true;
		if (p->n++ == 0)
			fprintf(stderr,
				"A new vault key leaves these unlocking "
				"slots behind; their keys will no "
				"longer open the vault:\n");
		print_slot(stderr, s);
	}
out:
	cli_reply_free(&rep);
	return rc;
}

/* A y/yes typed on /dev/tty. */
static bool tty_yes(const char *question)
{
	char line[16];
	bool yes = false;
	FILE *f = fopen("/dev/tty", "r+");

	if (f == NULL)
		return false;
	fprintf(f, "%s [y/N] ", question);
	fflush(f);
	if (fgets(line, sizeof(line), f) != NULL)
		yes = strcmp(line, "y\n") == 0 || strcmp(line, "yes\n") == 0 ||
		      strcmp(line, "Y\n") == 0;
	fclose(f);
	return yes;
}

/* Dropping slots needs a yes: --yes, or a person at the terminal. */
static int plan_confirm(const struct plan *p, const struct cli_args *a)
{
	if (p->n == 0 || cli_arg_set(a, "yes"))
		return 0;
	if (cli_arg_set(a, "passphrase-stdin") || !cli_have_tty()) {
		cli_warn("confirm dropping these slots with --yes (there is no "
			 "terminal to ask, or stdin carries the passphrase); "
			 "nothing changed");
		return CLI_EXIT_USAGE;
	}
	if (!tty_yes("Drop them and make a new vault key?")) {
		cli_warn("nothing changed");
		return CLI_EXIT_ERR;
	}
	return 0;
}

/* After a rekey: what stopped working and what to do. */
static void rekey_said(struct idwc *c, const cJSON *reply, bool keychain)
{
	const cJSON *dropped =
		cJSON_GetObjectItemCaseSensitive(reply, "dropped");
	const char *warning = idw_json_str(reply, "warning");
	const char *vid = idwc_hello_info(c)->vault_id;
	char why[600];
	int n = cJSON_GetArraySize(dropped);
	int r;

	printf("new vault key made; %d unlocking slot%s dropped\n", n,
	       n == 1 ? "" : "s");
	if (warning != NULL)
		cli_warn(warning);
	if (keychain) {
		/* Its key opens nothing now; the item only misleads. */
		r = kc_delete(vid, why, sizeof(why));
		if (r != 0 && r != IDW_ENOENT)
			cli_warnf("the old keychain item stays: %s", why);
		fprintf(stderr, "idw: the keychain no longer unlocks this "
				"vault: run 'idw auth login' again\n");
	}
	if (n > (keychain ? 1 : 0))
		fprintf(stderr,
			"idw: session tokens made before now no longer unlock "
			"it: make new ones with 'idw auth token create'\n");
	fprintf(stderr,
		"idw: records written before the rekey are re-encrypted "
		"under the new key when the agent next starts ('idw agent "
		"restart'); copies of vault.idw taken before stay readable "
		"with the old unlock secrets\n");
}

int cli_vault_rekey(const struct cli_args *a)
{
	unsigned flags =
		cli_arg_set(a, "passphrase-stdin") ? CLI_PROOF_STDIN : 0;
	struct idwc_reply rep = {0};
	struct idwc *c = NULL;
	struct idw_buf pass;
	struct plan p = {0};
	cJSON *req = NULL;
	int rc;

	idw_buf_init(&pass, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	if ((rc = plan_get(c, &p)) != 0 || (rc = plan_confirm(&p, a)) != 0)
		goto out;
	if ((rc = cli_proof_read(c, "rekey", flags, &pass)) != 0)
		goto out;
	if ((req = cli_request("rekey")) == NULL ||
	    !cJSON_AddItemToObject(req, "drop", p.ids)) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		rc = CLI_EXIT_ERR;
		goto out;
	}
	p.ids = NULL; /* req's now */
	/* The passphrase is both the proof and the secret the agent wraps
	 * the new key with. */
	if ((rc = cli_call_proven_pass(c, req, &pass, &pass, &rep)) != 0)
		goto out;
	rekey_said(c, rep.json, p.keychain);
out:
	cli_reply_free(&rep);
	cJSON_Delete(req);
	plan_free(&p);
	idw_buf_free(&pass);
	idwc_close(c);
	return rc;
}

/* One new passphrase: the next line of stdin, or typed on the terminal. */
static int read_new(unsigned flags, const char *prompt, struct idw_buf *b)
{
	int r;

	if (flags & CLI_PROOF_STDIN)
		r = cli_read_line(STDIN_FILENO, b, CLI_PASS_MAX);
	else
		r = cli_prompt_tty(prompt, b, CLI_PASS_MAX);
	if (r == IDW_ETRUNCATED)
		cli_warn("--passphrase-stdin reads three lines: the current "
			 "passphrase, the new one, the new one again");
	else if (r == IDW_ETOOBIG)
		cli_warn("passphrase too long");
	else if (r != 0)
		cli_warnf("reading the new passphrase: %s", idw_strerror(r));
	return r;
}

/* The proof key's preset from the cost the vault's challenge names. */
static int proof_kdf(struct idwc *c, const char **kdf)
{
	struct idwc_reply rep = {0};
	cJSON *req = cli_request("challenge");
	int64_t ops, mem;
	int rc;

	if (req == NULL ||
	    cJSON_AddStringToObject(req, "for", "passwd") == NULL) {
		cJSON_Delete(req);
		cli_warn(idw_strerror(IDW_ENOMEM));
		return CLI_EXIT_ERR;
	}
	rc = cli_call(c, req, NULL, &rep);
	cJSON_Delete(req);
	ops = idw_json_int(rep.json, "opslimit", -1);
	mem = idw_json_int(rep.json, "memlimit", -1);
	cli_reply_free(&rep);
	if (rc != 0)
		return rc;
	/* The new key costs what the old one did (the slot's preset). */
	if (ops >= (int64_t)crypto_pwhash_OPSLIMIT_SENSITIVE &&
	    mem >= (int64_t)crypto_pwhash_MEMLIMIT_SENSITIVE)
		*kdf = "sensitive";
	else if (ops >= (int64_t)crypto_pwhash_OPSLIMIT_MODERATE &&
		 mem >= (int64_t)crypto_pwhash_MEMLIMIT_MODERATE)
		*kdf = "moderate";
	else
		*kdf = "interactive";
	return 0;
}

/* The person who keeps the passphrase in the environment or a .env. */
static void passphrase_kept_reminder(void)
{
	char path[IDW_PATH_MAX + 8];
	struct stat st;
	bool kept = getenv("IDW_PASSPHRASE") != NULL;

	if (!kept && stat(".env", &st) == 0)
		kept = true;
	if (!kept && cli_home()[0] != '\0' &&
	    snprintf(path, sizeof(path), "%s/.env", cli_home()) <
		    (int)sizeof(path) &&
	    stat(path, &st) == 0)
		kept = true;
	if (kept)
		fprintf(stderr,
			"idw: if IDW_PASSPHRASE holds the old passphrase (in "
			"the environment, ./.env or %s/.env), update it: it no "
			"longer unlocks the vault\n",
			cli_home());
}

int cli_passwd(const struct cli_args *a)
{
	unsigned flags =
		cli_arg_set(a, "passphrase-stdin") ? CLI_PROOF_STDIN : 0;
	bool rekey = !cli_arg_set(a, "no-rekey");
	struct idwc_reply rep = {0};
	struct idw_buf old, nw, again;
	struct idwc *c = NULL;
	struct plan p = {0};
	cJSON *req = NULL, *pk = NULL;
	const char *kdf = "moderate";
	int rc;

	idw_buf_init(&old, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	idw_buf_init(&nw, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	idw_buf_init(&again, CLI_PASS_MAX + 2, IDW_BUF_SECURE);
	if ((rc = cli_connect(CLI_CONN_AUTOSTART, NULL, &c)) != 0)
		return idw_err_exit(rc);
	if (rekey &&
	    ((rc = plan_get(c, &p)) != 0 || (rc = plan_confirm(&p, a)) != 0))
		goto out;
	/* The current passphrase first: it is the proof. */
	if ((rc = cli_proof_read(c, "passwd", flags, &old)) != 0)
		goto out;
	if (read_new(flags, "New passphrase: ", &nw) != 0 ||
	    read_new(flags, "New passphrase again: ", &again) != 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (nw.len < CLI_PASS_MIN) {
		cli_warnf("the new passphrase has %zu bytes: it needs at least "
			  "%u; nothing changed",
			  nw.len, CLI_PASS_MIN);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (nw.len != again.len || sodium_memcmp(nw.d, again.d, nw.len) != 0) {
		cli_warn("the two new passphrases differ; nothing changed");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (nw.len == old.len && sodium_memcmp(nw.d, old.d, nw.len) == 0) {
		cli_warn("the new passphrase is the current one; nothing "
			 "changed (a new vault key alone: 'idw vault rekey')");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if ((rc = proof_kdf(c, &kdf)) != 0)
		goto out;
	/* The agent keeps the public key only; the seed is ours to derive. */
	if ((pk = cli_proof_key(nw.d, nw.len, kdf)) == NULL ||
	    (req = cli_request("passwd")) == NULL ||
	    !cJSON_AddItemToObject(req, "proof_key", pk) ||
	    cJSON_AddBoolToObject(req, "rekey", rekey) == NULL ||
	    (rekey && !cJSON_AddItemToObject(req, "drop", p.ids))) {
		cli_warn(idw_strerror(IDW_ENOMEM));
		if (req == NULL || cJSON_GetObjectItem(req, "proof_key") != pk)
			cJSON_Delete(pk);
		rc = CLI_EXIT_ERR;
		goto out;
	}
	if (rekey)
		p.ids = NULL; /* req's now */
	if ((rc = cli_call_proven_pass(c, req, &nw, &old, &rep)) != 0)
		goto out;
	printf("passphrase changed: the old one no longer unlocks the vault "
	       "or proves you\n");
	if (rekey)
		rekey_said(c, rep.json, p.keychain);
	else
		fprintf(stderr,
			"idw: the vault key is unchanged (--no-rekey): copies "
			"of vault.idw taken before still open with the old "
			"passphrase\n");
	passphrase_kept_reminder();
out:
	cli_reply_free(&rep);
	cJSON_Delete(req);
	plan_free(&p);
	idw_buf_free(&old);
	idw_buf_free(&nw);
	idw_buf_free(&again);
	idwc_close(c);
	return rc;
}
