/* SPDX-License-Identifier: ISC */
/*
 * idw auth status: which source a new agent started from here would
 * unlock with, and why each earlier one would be skipped.  It reads what
 * the agent would read (this environment, ./.env, $IDW_HOME/.env, the
 * keychain) without unlocking anything.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "client/cli.h"
#include "common/jsonu.h"
#include "common/paths.h"
#include "common/vhdr.h"
#include "keychain/dotenv.h"
#include "keychain/keychain.h"
#include "keychain/token.h"

enum state { ABSENT, PRESENT, REFUSED };
static const char *const state_names[] = {"absent", "present", "refused"};

struct probe {
	const char *source;
	enum state state;
	char note[512];
};

static enum state probe_token(const uint8_t *vid, char *note, size_t len)
{
	const char *t = getenv("IDW_SESSION_TOKEN");
	struct token *tok;
	char why[200];
	int r;

	if (t == NULL || t[0] == '\0') {
		snprintf(note, len, "IDW_SESSION_TOKEN is not set");
		return ABSENT;
	}
	if ((tok = sodium_malloc(sizeof(*tok))) == NULL)
		return REFUSED;
	r = token_parse(t, strlen(t), vid, tok, why, sizeof(why));
	if (r == 0)
		snprintf(note, len,
			 "IDW_SESSION_TOKEN holds token %s (the agent checks "
			 "that it is live and unlocking)",
			 tok->id);
	else
		snprintf(note, len, "IDW_SESSION_TOKEN is refused: %s", why);
	sodium_free(tok);
	return r == 0 ? PRESENT : REFUSED;
}

static enum state probe_keychain(const char *vid_hex, char *note, size_t len)
{
	uint8_t *key;
	char why[400];
	int r;

	if (!kc_bus_present()) {
		snprintf(note, len,
			 "no session bus (DBUS_SESSION_BUS_ADDRESS "
			 "is unset)");
		return ABSENT;
	}
	if ((key = sodium_malloc(KC_KEY_LEN)) == NULL)
		return REFUSED;
	r = kc_lookup(vid_hex, key, why, sizeof(why));
	sodium_free(key);
	if (r == 0) {
		snprintf(note, len,
			 "the keychain holds this vault's machine "
			 "key ('idw auth login')");
		return PRESENT;
	}
	snprintf(note, len, "%s", why);
	return ABSENT; /* an error or a silent keyring falls through */
}

static enum state probe_dotenv(const char *path, char *note, size_t len)
{
	char *buf = NULL, why[300];
	uint8_t *val = NULL;
	size_t n = 0, vlen = 0;
	int r;

	r = dotenv_read_file(path, &buf, &n, why, sizeof(why));
	if (r == IDW_ENOENT) {
		snprintf(note, len, "%s does not exist", path);
		return ABSENT;
	}
	if (r != 0) {
		snprintf(note, len, "%s", why);
		return REFUSED;
	}
	r = dotenv_get(buf, n, "IDW_PASSPHRASE", &val, &vlen, why, sizeof(why));
	sodium_free(buf);
	if (val != NULL)
		sodium_free(val);
	if (r == 0) {
		snprintf(note, len, "%s sets IDW_PASSPHRASE", path);
		return PRESENT;
	}
	if (r == IDW_ENOENT) {
		snprintf(note, len, "%s has no IDW_PASSPHRASE", path);
		return ABSENT;
	}
	snprintf(note, len, "%s: %s", path, why);
	return REFUSED;
}

int cli_auth_status(const struct cli_args *a)
{
	struct probe p[5];
	char home[IDW_PATH_MAX], vpath[IDW_PATH_MAX], hex[33] = "";
	char cwd[IDW_PATH_MAX], dot[IDW_PATH_MAX + 8];
	uint8_t vid[IDW_VHDR_ID_LEN];
	const char *v, *would = NULL, *warn = NULL;
	bool have_vault;
	size_t n = 0;
	cJSON *o, *arr;
	int rc = 0;

	if (idw_home_path(home, sizeof(home)) != 0 ||
	    idw_path_join(vpath, sizeof(vpath), home, "vault.idw") != 0) {
		cli_warn("no IDW_HOME and no HOME to find the vault in");
		return CLI_EXIT_ERR;
	}
	have_vault = idw_vhdr_peek_id(vpath, vid) == 0;
	if (have_vault)
		sodium_bin2hex(hex, sizeof(hex), vid, sizeof(vid));
	memset(p, 0, sizeof(p));
	p[n].source = "session-token";
	p[n].state = probe_token(have_vault ? vid : NULL, p[n].note,
				 sizeof(p[n].note));
	n++;
	p[n].source = "keychain";
	p[n].state = have_vault
			     ? probe_keychain(hex, p[n].note, sizeof(p[n].note))
			     : ABSENT;
	if (!have_vault)
		snprintf(p[n].note, sizeof(p[n].note), "no vault yet");
	n++;
	p[n].source = "env-var";
	v = getenv("IDW_PASSPHRASE");
	p[n].state = v != NULL && v[0] != '\0' ? PRESENT : ABSENT;
	snprintf(p[n].note, sizeof(p[n].note), "IDW_PASSPHRASE is %s",
		 p[n].state == PRESENT ? "set in the environment" : "not set");
	n++;
	if (getcwd(cwd, sizeof(cwd)) != NULL && strcmp(cwd, home) != 0 &&
	    snprintf(dot, sizeof(dot), "%s/.env", cwd) < (int)sizeof(dot)) {
		p[n].source = "dotenv-file";
		p[n].state = probe_dotenv(dot, p[n].note, sizeof(p[n].note));
		n++;
	}
	if (snprintf(dot, sizeof(dot), "%s/.env", home) < (int)sizeof(dot)) {
		p[n].source = "dotenv-file";
		p[n].state = probe_dotenv(dot, p[n].note, sizeof(p[n].note));
		n++;
	}
	for (size_t i = 0; i < n && would == NULL; i++) {
		if (p[i].state == ABSENT)
			continue;
		would = p[i].state == PRESENT ? p[i].source : "nothing";
		if (p[i].state == PRESENT &&
		    (strcmp(p[i].source, "env-var") == 0 ||
		     strcmp(p[i].source, "dotenv-file") == 0))
			warn = "the passphrase lives in the environment or a "
			       ".env file: any program running as you, a "
			       "shell-capable AI agent included, can read it "
			       "and run idw; prefer 'idw auth login' or a "
			       "session token";
	}
	if (would == NULL)
		would = isatty(STDIN_FILENO) ? "interactive" : "nothing";
	if (cli_arg_set(a, "json")) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "home", home);
		if (have_vault)
			cJSON_AddStringToObject(o, "vault_id", hex);
		cJSON_AddStringToObject(o, "would_unlock", would);
		arr = cJSON_AddArrayToObject(o, "sources");
		for (size_t i = 0; i < n; i++) {
			cJSON *s = cJSON_CreateObject();

			cJSON_AddStringToObject(s, "source", p[i].source);
			cJSON_AddStringToObject(s, "state",
						state_names[p[i].state]);
			cJSON_AddStringToObject(s, "note", p[i].note);
			cJSON_AddItemToArray(arr, s);
		}
		if (warn != NULL)
			cJSON_AddStringToObject(o, "warning", warn);
		rc = cli_print_json(o) == 0 ? 0 : CLI_EXIT_ERR;
		cJSON_Delete(o);
		return rc;
	}
	printf("vault         %s\n", have_vault ? hex : "(none yet)");
	printf("would unlock  %s\n\n", would);
	for (size_t i = 0; i < n; i++) {
		char *note = cli_display(p[i].note);

		printf("  %-13s %-8s %s\n", p[i].source,
		       state_names[p[i].state], note ? note : "");
		free(note);
	}
	if (strcmp(would, "interactive") == 0)
		printf("  %-13s %-8s idw asks on this terminal; idw-mcp never "
		       "asks\n",
		       "interactive", "present");
	if (warn != NULL)
		printf("\nwarning: %s\n", warn);
	return 0;
}
