/* SPDX-License-Identifier: ISC */
/*
 * idw-keychain-helper: the only idw program that links libsecret.  GLib
 * threads and D-Bus live here, in a process of their own, never in the
 * agent.  It is exec'd with an empty environment except the session-bus
 * variables, does one thing and exits:
 *
 *   idw-keychain-helper lookup VAULT_ID   -> "ok HEX" | "none" | "error TEXT"
 *   idw-keychain-helper store VAULT_ID    <- "HEX" on stdin  -> "ok" | "error
 * TEXT" idw-keychain-helper delete VAULT_ID   -> "ok" | "none" | "error TEXT"
 *
 * HEX is the 32-byte machine key as 64 hex digits.  The caller bounds the
 * whole exchange with a timeout and kills the helper past it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libsecret/secret.h>
#include <sodium.h>

#define KEY_HEX_LEN 64

static const SecretSchema idw_schema = {
	"org.idw.MachineKey",
	SECRET_SCHEMA_NONE,
	{
		{"vault_id", SECRET_SCHEMA_ATTRIBUTE_STRING},
		{NULL, 0},
	},
	0,
	NULL,
	NULL,
	NULL,
	NULL,
	NULL,
	NULL,
	NULL,
};

static int valid_id(const char *s)
{
	if (strlen(s) != 32)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

static int valid_hex(const char *s, size_t n)
{
	if (n != KEY_HEX_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* One line for the agent; GLib's own messages go to stderr. */
static int answer_error(GError *err, const char *what)
{
	printf("error %s: %s\n", what,
	       err != NULL && err->message ? err->message : "unknown error");
	if (err != NULL)
		g_error_free(err);
	return 1;
}

static int do_lookup(const char *id)
{
	GError *err = NULL;
	gchar *pw;

	pw = secret_password_lookup_nonpageable_sync(&idw_schema, NULL, &err,
						     "vault_id", id, NULL);
	if (err != NULL)
		return answer_error(err, "keychain lookup failed");
	if (pw == NULL) {
		printf("none\n");
		return 0;
	}
	if (!valid_hex(pw, strlen(pw))) {
		secret_password_free(pw);
		printf("error the keychain item for this vault is malformed\n");
		return 1;
	}
	printf("ok %s\n", pw);
	fflush(stdout);
	secret_password_free(pw); /* wipes */
	return 0;
}

static int do_store(const char *id)
{
	char label[96];
	char *line = sodium_malloc(KEY_HEX_LEN + 2);
	GError *err = NULL;
	size_t n = 0;
	gboolean ok;

	if (line == NULL)
		return answer_error(NULL, "out of memory");
	while (n < KEY_HEX_LEN + 1) {
		ssize_t k = read(STDIN_FILENO, line + n, KEY_HEX_LEN + 1 - n);

		if (k <= 0)
			break;
		n += (size_t)k;
	}
	if (n > 0 && line[n - 1] == '\n')
		n--;
	if (!valid_hex(line, n)) {
		sodium_free(line);
		printf("error the key given to store is malformed\n");
		return 1;
	}
	line[n] = '\0';
	snprintf(label, sizeof(label), "idw machine key for vault %s", id);
	ok = secret_password_store_sync(&idw_schema, SECRET_COLLECTION_DEFAULT,
					label, line, NULL, &err, "vault_id", id,
					NULL);
	sodium_free(line);
	if (!ok)
		return answer_error(err, "keychain store failed");
	printf("ok\n");
	return 0;
}

static int do_delete(const char *id)
{
	GError *err = NULL;
	gboolean removed;

	removed = secret_password_clear_sync(&idw_schema, NULL, &err,
					     "vault_id", id, NULL);
	if (err != NULL)
		return answer_error(err, "keychain delete failed");
	printf(removed ? "ok\n" : "none\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc != 3 || !valid_id(argv[2])) {
		fprintf(stderr,
			"usage: idw-keychain-helper lookup|store|delete "
			"VAULT_ID\n");
		return 2;
	}
	if (strcmp(argv[1], "lookup") == 0)
		return do_lookup(argv[2]);
	if (strcmp(argv[1], "store") == 0)
		return do_store(argv[2]);
	if (strcmp(argv[1], "delete") == 0)
		return do_delete(argv[2]);
	fprintf(stderr, "unknown operation %s\n", argv[1]);
	return 2;
}
